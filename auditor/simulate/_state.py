"""The simulation state that components build and plants modify, and the base platform."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._offers import Offers
from ._orders import Intervals, Orders, generate_orders
from ._sessions import OnlineIndex, Sessions, build_online_index, plan_sessions
from ._spec import PLANT_IDS, SimulationSpec
from ._workers import Workers, draw_workers
from ._world import World, build_world

if TYPE_CHECKING:
    from ._accountability import AccountActions, Complaints
    from ._ledger import Deductions, Payouts

__all__ = ["State", "build_base", "plant_rng", "settle"]

_COMPONENTS = ("world", "workers", "sessions", "orders", "ledger", "tier", "accountability")
"""Base components, each with its own generator; a new one is added at the end, so that
the others keep their streams."""


@dataclass(slots=True)
class State:
    """Everything simulated so far (internal; money in cents, times in wall-clock seconds).

    Attributes:
        spec: the specification.
        world: zones, demand and prices.
        workers: worker attributes.
        sessions: online sessions.
        online: index of planned online time (for picking offer recipients).
        orders: accepted orders.
        offers: dispatch offers.
        quote_mult: per-worker factor on quoted and paid pay (FEE-05, DSP-02).
        pay_mult: per-worker factor on pay after the quote (PAY-02).
        fee_rows: rows of ``fee_schedule`` as dicts.
        pay: worker pay in cents, set by `settle`.
        quoted: quoted pay of the accepted offer in cents, set by `settle`.
        commission: declared commission in cents, set by `settle`.
        offered_pay: offered pay of each offer in cents, set by `settle`.
        tip_to_worker: tip credited to the worker in cents, set by `settle`.
        plants: planted parameters per check ID (JSON-serialisable), filled by the plants.
        marks: rows or workers each plant touched (internal indices), per check ID.
        deductions: deductions after waivers, set by the ledger.
        payouts: weekly statements, set by the ledger.
        tier: rating tier code per worker, set last.
        account_actions: warnings, restrictions, suspensions, deactivations.
        complaints: workers' complaints.
    """

    spec: SimulationSpec
    world: World
    workers: Workers
    sessions: Sessions
    online: OnlineIndex
    orders: Orders
    offers: Offers
    quote_mult: np.ndarray
    pay_mult: np.ndarray
    fee_rows: list[dict[str, Any]]
    pay: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quoted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    commission: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offered_pay: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tip_to_worker: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    plants: dict[str, dict[str, Any]] = field(default_factory=dict)
    marks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    deductions: Deductions | None = None
    payouts: Payouts | None = None
    tier: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    account_actions: AccountActions | None = None
    complaints: Complaints | None = None


def component_rngs(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per base component, fixed by ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(_COMPONENTS))
    return {name: np.random.default_rng(s) for name, s in zip(_COMPONENTS, children, strict=True)}


def plant_rng(seed: int, check_id: str) -> np.random.Generator:
    """The generator of one plant: independent of the base and of the other plants."""
    key = 1000 + PLANT_IDS.index(check_id)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def build_base(spec: SimulationSpec) -> tuple[State, dict[str, np.random.Generator]]:
    """The platform without any plant."""
    rngs = component_rngs(spec.seed)
    world = build_world(spec, rngs["world"])
    workers = draw_workers(spec, world, rngs["workers"])
    sessions = plan_sessions(spec, world, workers, rngs["sessions"])
    online = build_online_index(sessions, workers, spec.days)
    intervals = Intervals(
        session=np.arange(len(sessions), dtype=np.int32),
        worker=sessions.worker,
        day=sessions.day,
        zone=sessions.zone,
        start=sessions.on,
        stop=sessions.planned_off,
        hard_end=sessions.hard_end,
    )
    orders, offers = generate_orders(spec, world, workers, intervals, online, rngs["orders"])
    fee_rows = [
        {
            "effective_from": spec.start,
            "effective_to": None,
            "service": None,
            "zone": None,
            "commission_rate": spec.commission_rate,
            "commission_cap": spec.commission_cap,
            "announced_at": spec.start - datetime.timedelta(days=30),
        }
    ]
    state = State(
        spec=spec,
        world=world,
        workers=workers,
        sessions=sessions,
        online=online,
        orders=orders,
        offers=offers,
        quote_mult=np.ones(workers.n),
        pay_mult=np.ones(workers.n),
        fee_rows=fee_rows,
    )
    return state, rngs


def settle(state: State) -> None:
    """Derive pay, declared commission, tips credited and offered pay from fares and factors.

    quoted = fare * (1 - rate) * quote_mult * pay_mult - tip * tip_offset (at least 0: a tip
    offset lowers the platform's quote for the order, FEE-07); cut = quoted * quote_cut;
    worker_pay = quoted - cut - quoted * hidden_frac; commission (declared) = fare - quoted + cut
    (a cut below the quote is declared, a hidden fee is not); offered pay = quoted for the
    accepted offer and fare * (1 - rate) * quote_mult[offered worker] - the tip offset for the
    others.
    """
    o = state.orders
    base = np.rint(o.fare * (1.0 - o.rate))
    factor = state.quote_mult[o.worker] * state.pay_mult[o.worker]
    offset = np.rint(o.tip * o.tip_offset).astype(np.int64)
    quoted = np.maximum(np.rint(base * factor).astype(np.int64) - offset, 0)
    state.quoted = quoted
    cut = np.rint(quoted * o.quote_cut).astype(np.int64)
    state.pay = quoted - cut - np.rint(quoted * o.hidden_frac).astype(np.int64)
    state.commission = o.fare - quoted + cut
    state.tip_to_worker = o.tip - np.rint(o.tip * o.tip_cut).astype(np.int64)
    off = state.offers
    others = np.rint(base[off.order] * state.quote_mult[off.worker]).astype(np.int64)
    others = np.maximum(others - offset[off.order], 0)
    state.offered_pay = np.where(off.response == 0, quoted[off.order], others)
