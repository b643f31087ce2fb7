"""Arrow tables in the data contract's names, types and units.

Timestamps are ``timestamp[us, tz=<timezone>]``, dates ``date32``, money ``float64`` in CNY
rounded to cents, distances ``float64`` km, IDs and labels ``string``; missing values are
nulls.
"""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._accountability import (
    ACTION_REASONS,
    ACTIONS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_OUTCOMES,
    OUTCOMES,
)
from ._arrays import NA
from ._layout import Layout, id_array
from ._ledger import CATEGORIES, REASONS
from ._money import SEGMENTS
from ._offers import RESPONSES
from ._orders import STATUSES
from ._state import State
from ._workers import AGE_BANDS, GENDERS, VEHICLES
from ._world import SERVICES

__all__ = ["TIERS", "build_tables"]

TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "diamond")
_PAYERS = ("platform", "worker")


def _pop(obj: object, name: str) -> np.ndarray:
    """Take a column out of ``obj`` (leaving an empty array) so its memory can be freed."""
    value: np.ndarray = getattr(obj, name)
    setattr(obj, name, np.empty(0, dtype=value.dtype))
    return value


def _ts(state: State, wall: np.ndarray, day: np.ndarray) -> pa.Array:
    missing = wall == NA
    us = state.world.to_utc_us(np.where(missing, 0, wall), day)
    tz = pa.timestamp("us", tz=state.world.timezone)
    return pa.array(us, type=tz, mask=missing if missing.any() else None)


def _money(cents: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    values = cents.astype(np.float64) / 100.0
    if missing is None or not missing.any():
        return pa.array(values, pa.float64())
    return pa.array(np.where(missing, 0.0, values), pa.float64(), mask=missing)


def _labels(
    labels: tuple[str, ...], codes: np.ndarray, missing: np.ndarray | None = None
) -> pa.Array:
    idx = pa.array(
        codes.astype(np.int32), mask=missing if missing is not None and missing.any() else None
    )
    return pa.array(labels, pa.string()).take(idx)


def _dates(state: State, days: np.ndarray) -> pa.Array:
    epoch = state.world.start_ordinal - datetime.date(1970, 1, 1).toordinal()
    return pa.array((np.asarray(days) + epoch).astype(np.int32), pa.date32())


def _orders(state: State, lay: Layout, worker_ids: pa.Array) -> pa.Table:
    """The orders table; consumes ``state.orders`` and the settled money arrays."""
    o, p = state.orders, lay.order_perm
    day = _pop(o, "day")[p]
    premium = _pop(o, "premium")[p]
    missing = premium == NA
    fare, passed = _pop(o, "fare")[p], _pop(o, "pass_through")[p]
    cols = {
        "order_id": id_array("O", np.arange(1, len(p) + 1), 9),
        "worker_id": worker_ids.take(pa.array(_pop(o, "worker")[p])),
        "service": _labels(SERVICES, _pop(o, "service")[p]),
        "status": _labels(STATUSES, _pop(o, "status")[p]),
        "requested_at": _ts(state, _pop(o, "requested")[p], day),
        "accepted_at": _ts(state, _pop(o, "accepted")[p], day),
        "pickup_at": _ts(state, _pop(o, "pickup")[p], day),
        "dropoff_at": _ts(state, _pop(o, "dropoff")[p], day),
        "pickup_zone": _labels(state.world.zones, _pop(o, "zone")[p]),
        "dropoff_zone": _labels(state.world.zones, _pop(o, "dropoff_zone")[p]),
        "distance_km": pa.array(np.round(_pop(o, "distance_km")[p], 2), pa.float64()),
        "approach_km": pa.array(np.round(_pop(o, "approach_km")[p], 2), pa.float64()),
        "customer_id": id_array("C", _pop(o, "customer")[p] + 1, lay.customer_width),
        "customer_segment": _labels(SEGMENTS, _pop(o, "segment")[p]),
        "customer_price": _money(fare + passed),
        "pass_through": _money(passed),
        "worker_pay": _money(_pop(state, "pay")[p]),
        "incentive": _money(_pop(o, "incentive")[p]),
        "tip": _money(_pop(o, "tip")[p]),
        "tip_to_worker": _money(_pop(state, "tip_to_worker")[p]),
        "commission": _money(_pop(state, "commission")[p]),
        "injury_premium": _money(premium, missing),
        "injury_premium_payer": _labels(_PAYERS, _pop(o, "premium_payer")[p], missing),
    }
    return pa.table(cols)


def _offers(state: State, lay: Layout, worker_ids: pa.Array) -> pa.Table:
    """The offers table; consumes ``state.offers``."""
    f, p = state.offers, lay.offer_perm
    o = state.orders
    order = _pop(f, "order")[p]
    return pa.table(
        {
            "offer_id": id_array("F", np.arange(1, len(p) + 1), 10),
            "order_id": id_array("O", lay.order_rank[order] + 1, 9),
            "worker_id": worker_ids.take(pa.array(_pop(f, "worker")[p])),
            "offered_at": _ts(state, _pop(f, "offered_at")[p], o.day[order]),
            "response": _labels(RESPONSES, _pop(f, "response")[p]),
            "offered_pay": _money(_pop(state, "offered_pay")[p]),
            "zone": _labels(state.world.zones, o.zone[order]),
        }
    )


def _sessions(state: State, lay: Layout) -> pa.Table:
    s = state.sessions
    return pa.table(
        {
            "worker_id": id_array("W", s.worker.astype(np.int64) + 1, lay.worker_width),
            "online_at": _ts(state, s.on, s.day),
            "offline_at": _ts(state, s.off, s.day),
            "zone": _labels(state.world.zones, s.zone),
        }
    )


def _payouts(state: State, lay: Layout) -> pa.Table:
    pay = state.payouts
    if pay is None:
        raise RuntimeError("build_tables needs the payouts: build the ledger first.")
    start_day = pay.week * 7 - state.world.weekday0
    paid_day = start_day + 8
    return pa.table(
        {
            "payout_id": id_array("P", np.arange(1, len(pay) + 1), 8),
            "worker_id": id_array("W", pay.worker.astype(np.int64) + 1, lay.worker_width),
            "period_start": _dates(state, start_day),
            "period_end": _dates(state, start_day + 6),
            "gross_credited": _money(pay.gross),
            "deductions_total": _money(pay.deductions),
            "net_paid": _money(pay.net),
            "paid_at": _ts(state, paid_day * 86400 + 10 * 3600, paid_day),
        }
    )


def _deductions(state: State, lay: Layout) -> pa.Table:
    d = state.deductions
    if d is None:
        raise RuntimeError("build_tables needs the deductions: build the ledger first.")
    p = lay.deduction_perm
    order = d.order[p]
    no_order = order < 0
    appealed = d.appealed[p]
    upheld = d.upheld[p]
    return pa.table(
        {
            "deduction_id": id_array("D", np.arange(1, len(p) + 1), 9),
            "worker_id": id_array("W", d.worker[p].astype(np.int64) + 1, lay.worker_width),
            "order_id": pc.if_else(
                pa.array(no_order),
                pa.scalar(None, pa.string()),
                id_array("O", lay.order_rank[np.where(no_order, 0, order)] + 1, 9),
            ),
            "deducted_at": _ts(state, d.at[p], d.day[p]),
            "amount": _money(d.amount[p]),
            "category": _labels(CATEGORIES, d.category[p]),
            "reason": _labels(REASONS, d.reason[p]),
            "appealed": pa.array(appealed, pa.bool_()),
            "appeal_upheld": pa.array(upheld == 1, pa.bool_(), mask=upheld < 0),
        }
    )


def _workers(state: State, lay: Layout) -> pa.Table:
    w = state.workers
    return pa.table(
        {
            "worker_id": id_array("W", np.arange(1, w.n + 1), lay.worker_width),
            "joined_on": _dates(state, w.joined_day),
            "gender": _labels(GENDERS, w.gender),
            "age_band": _labels(AGE_BANDS, w.age_band),
            "vehicle_type": _labels(VEHICLES, w.vehicle),
            "home_zone": _labels(state.world.zones, w.home_zone),
            "tier": _labels(TIERS, state.tier),
        }
    )


def _fee_schedule(state: State) -> pa.Table:
    rows = state.fee_rows
    return pa.table(
        {
            "effective_from": pa.array([r["effective_from"] for r in rows], pa.date32()),
            "effective_to": pa.array([r["effective_to"] for r in rows], pa.date32()),
            "service": pa.array([r["service"] for r in rows], pa.string()),
            "zone": pa.array([r["zone"] for r in rows], pa.string()),
            "commission_rate": pa.array([r["commission_rate"] for r in rows], pa.float64()),
            "commission_cap": pa.array([r["commission_cap"] for r in rows], pa.float64()),
            "announced_at": pa.array([r["announced_at"] for r in rows], pa.date32()),
        }
    )


def _moments(state: State, wall: np.ndarray) -> pa.Array:
    """Wall seconds (``NA`` missing) as timestamps, each on its own local day."""
    return _ts(state, wall, np.where(wall == NA, 0, wall // 86400))


def _account_actions(state: State, lay: Layout) -> pa.Table:
    a = state.account_actions
    if a is None:
        raise RuntimeError("build_tables needs the account actions: build them first.")
    return pa.table(
        {
            "worker_id": id_array("W", a.worker.astype(np.int64) + 1, lay.worker_width),
            "action": _labels(ACTIONS, a.action),
            "started_at": _moments(state, a.start),
            "ended_at": _moments(state, a.end),
            "reason": _labels(ACTION_REASONS, a.reason),
            "automated": pa.array(a.automated, pa.bool_()),
            "decided_by_human": pa.array(a.human, pa.bool_()),
            "explained_at": _moments(state, a.explained),
            "appealed_at": _moments(state, a.appealed),
            "reviewed_at": _moments(state, a.reviewed),
            "outcome": _labels(OUTCOMES, np.maximum(a.outcome, 0), a.outcome < 0),
        }
    )


def _complaints(state: State, lay: Layout) -> pa.Table:
    c = state.complaints
    if c is None:
        raise RuntimeError("build_tables needs the complaints: build them first.")
    return pa.table(
        {
            "complaint_id": id_array("C", np.arange(1, len(c) + 1), 8),
            "worker_id": id_array("W", c.worker.astype(np.int64) + 1, lay.worker_width),
            "received_at": _moments(state, c.received),
            "category": _labels(COMPLAINT_CATEGORIES, c.category),
            "resolved_at": _moments(state, c.resolved),
            "outcome": _labels(COMPLAINT_OUTCOMES, np.maximum(c.outcome, 0), c.outcome < 0),
        }
    )


def build_tables(state: State, lay: Layout) -> dict[str, pa.Table]:
    """The nine contract tables of a finished simulation.

    Consumes the order and offer arrays of ``state`` (to keep peak memory low): compute
    anything else from ``state`` first.
    """
    worker_ids = id_array("W", np.arange(1, state.workers.n + 1), lay.worker_width)
    tables = {
        "workers": _workers(state, lay),
        "fee_schedule": _fee_schedule(state),
        "sessions": _sessions(state, lay),
        "payouts": _payouts(state, lay),
        "deductions": _deductions(state, lay),
        "account_actions": _account_actions(state, lay),
        "complaints": _complaints(state, lay),
        "offers": _offers(state, lay, worker_ids),
    }
    tables["orders"] = _orders(state, lay, worker_ids)
    return {
        name: tables[name]
        for name in (
            "orders",
            "offers",
            "sessions",
            "payouts",
            "deductions",
            "workers",
            "fee_schedule",
            "account_actions",
            "complaints",
        )
    }
