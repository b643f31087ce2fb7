"""`simulate`: run the components in order and package the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ._accountability import build_account_actions, build_complaints
from ._layout import make_layout
from ._ledger import build_deductions, build_payouts
from ._money import customer_pool_size
from ._plants import apply_accountability_plants, apply_order_plants, apply_statement_plants
from ._spec import SimulationSpec, check_spec
from ._state import State, build_base, settle
from ._tables import build_tables
from ._truth import ground_truth

__all__ = ["SimulatedPackage", "simulate"]


@dataclass(frozen=True, slots=True)
class SimulatedPackage:
    """A simulated audit data package.

    Attributes:
        spec: the specification it was simulated from.
        tables: the contract tables ``orders``, ``offers``, ``sessions``, ``payouts``,
            ``deductions``, ``workers``, ``fee_schedule``, ``account_actions``,
            ``complaints`` (Arrow, contract names and types).
        ground_truth: JSON-serialisable record of the baseline and of every planted breach:
            its parameters and its true size measured on these tables (money in CNY).
    """

    spec: SimulationSpec
    tables: dict[str, pa.Table]
    ground_truth: dict[str, Any]


def _tiers(state: State, rng: np.random.Generator) -> np.ndarray:
    """The platform's rating tier: from completed orders per working day, plus noise.

    It is a product of the dispatch algorithm and of how much people work, so it carries the
    legitimate group differences and any planted dispatch bias (not a fair control variable).
    """
    w, o, s = state.workers, state.orders, state.sessions
    done = np.bincount(o.worker[o.status == 0], minlength=w.n)
    workday = np.unique(s.worker.astype(np.int64) * 100_000 + s.on // 86400)
    days = np.bincount(workday // 100_000, minlength=w.n)
    score = np.log1p(done / np.maximum(days, 1)) + w.tier_noise + rng.normal(0, 0.05, w.n)
    score = np.where(done > 0, score, -np.inf)
    rank = np.argsort(np.argsort(score, kind="stable"), kind="stable") / max(w.n - 1, 1)
    return np.searchsorted([0.4, 0.7, 0.9], rank, side="right").astype(np.int8)


def _row_counts(state: State) -> dict[str, int]:
    """Rows each table will have."""
    return {
        "orders": len(state.orders),
        "offers": len(state.offers),
        "sessions": len(state.sessions),
        "payouts": len(state.payouts or ()),
        "deductions": len(state.deductions or ()),
        "workers": state.workers.n,
        "fee_schedule": len(state.fee_rows),
        "account_actions": len(state.account_actions or ()),
        "complaints": len(state.complaints or ()),
    }


def simulate(spec: SimulationSpec) -> SimulatedPackage:
    """Simulate a platform with the breaches named in ``spec.plants``.

    The same spec always gives the same tables and ground truth. Raises ``ValueError`` for a
    spec that cannot be simulated (an unknown plant ID names the valid ones).
    """
    check_spec(spec)
    state, rngs = build_base(spec)
    apply_order_plants(state)
    settle(state)
    deductions = build_deductions(state, rngs["ledger"])
    state.payouts, state.deductions = build_payouts(state, deductions)
    apply_statement_plants(state)
    state.account_actions = build_account_actions(state, rngs["accountability"])
    state.complaints = build_complaints(state, rngs["accountability"])
    apply_accountability_plants(state)
    state.tier = _tiers(state, rngs["tier"])
    layout = make_layout(state, customer_pool_size(spec) * len(state.world.zones) * 3)
    truth = ground_truth(state, layout, _row_counts(state))
    tables = build_tables(state, layout)
    return SimulatedPackage(spec=spec, tables=tables, ground_truth=truth)
