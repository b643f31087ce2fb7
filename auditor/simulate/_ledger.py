"""Money after the orders: deductions and weekly pay statements (integer cents).

Deductions are order penalties (late delivery, complaints, improper cancellations), the
optional daily accident insurance some riders buy, a one-off equipment charge for newcomers
and a weekly station fee for some riders. A statement covers Monday to Sunday by local date:
an order counts in the week of its ``dropoff_at`` (``accepted_at`` when it has none, which
only happens for unpaid cancellations), a deduction in the week of ``deducted_at``. A
worker-week whose deductions would exceed its credits has its deductions waived, so
``net_paid = gross_credited - deductions_total >= 0`` on every statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import NA, take_rows
from ._state import State

__all__ = [
    "CATEGORIES",
    "REASONS",
    "Deductions",
    "Payouts",
    "build_deductions",
    "build_payouts",
    "order_week",
]

CATEGORIES: tuple[str, ...] = ("penalty", "insurance", "equipment", "service_fee", "other")
#: Reasons (as a Chinese platform's statement gives them); index 0-2 = penalty kinds 1-3.
REASONS: tuple[str, ...] = (
    "配送超时",
    "顾客投诉",
    "违规取消",
    "每日意外险",
    "装备费",
    "站点管理费",
)


@dataclass(slots=True)
class Deductions:
    """Amounts taken from workers.

    Attributes:
        worker: worker number.
        order: order row it relates to, -1 for none.
        at: wall-clock second deducted.
        day: local day index (for the UTC offset).
        amount: cents, positive.
        category: index into `CATEGORIES`.
        reason: index into `REASONS`.
        appealed: whether the worker appealed.
        upheld: 1 upheld, 0 rejected, -1 not appealed.
    """

    worker: np.ndarray
    order: np.ndarray
    at: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    category: np.ndarray
    reason: np.ndarray
    appealed: np.ndarray
    upheld: np.ndarray

    def __len__(self) -> int:
        return len(self.worker)


@dataclass(slots=True)
class Payouts:
    """Weekly pay statements, sorted by week then worker.

    Attributes:
        worker: worker number.
        week: week index; week 0 starts on the Monday on or before ``start``.
        gross: credits listed, cents.
        deductions: deductions listed, cents.
        shortfall: unexplained shortfall, cents (0 unless FEE-03 is planted).
    """

    worker: np.ndarray
    week: np.ndarray
    gross: np.ndarray
    deductions: np.ndarray
    shortfall: np.ndarray

    @property
    def net(self) -> np.ndarray:
        """What reached the worker, cents."""
        return self.gross - self.deductions - self.shortfall

    def __len__(self) -> int:
        return len(self.worker)


def _rows(
    worker: np.ndarray,
    order: np.ndarray,
    at: np.ndarray,
    amount: np.ndarray,
    category: int,
    reason: np.ndarray | int,
) -> Deductions:
    n = len(worker)
    return Deductions(
        worker=worker.astype(np.int32),
        order=order.astype(np.int64),
        at=at.astype(np.int64),
        day=(at // 86400).astype(np.int32),
        amount=amount.astype(np.int64),
        category=np.full(n, category, np.int8),
        reason=np.broadcast_to(np.asarray(reason, np.int8), (n,)).copy(),
        appealed=np.zeros(n, bool),
        upheld=np.full(n, -1, np.int8),
    )


def build_deductions(state: State, rng: np.random.Generator) -> Deductions:
    """All deductions, before waivers, in no particular order."""
    o, s, w = state.orders, state.sessions, state.workers
    pen = np.nonzero(o.penalty > 0)[0]
    penalties = _rows(
        o.worker[pen],
        pen,
        o.end[pen] + o.penalty_delay[pen],
        o.penalty[pen],
        0,
        o.penalty_kind[pen] - 1,
    )
    penalties.day = o.day[pen].astype(np.int32)
    penalties.appealed = o.appealed[pen]
    penalties.upheld = np.where(o.appealed[pen], o.upheld[pen].astype(np.int8), -1).astype(np.int8)
    workday = s.worker.astype(np.int64) * 1000 + s.day
    first = np.r_[True, workday[1:] != workday[:-1]]
    daily = np.nonzero(first & w.insured[s.worker])[0]
    insurance = _rows(
        s.worker[daily], np.full(len(daily), -1), s.on[daily] + 60, np.full(len(daily), 300), 1, 3
    )
    new_worker = np.r_[True, s.worker[1:] != s.worker[:-1]]
    newcomer = np.nonzero(new_worker & (w.joined_day[s.worker] >= -60))[0]
    equipment = _rows(
        s.worker[newcomer],
        np.full(len(newcomer), -1),
        s.on[newcomer] + 300,
        rng.integers(60, 151, len(newcomer)) * 100,
        2,
        4,
    )
    station = (w.vehicle != 2) & (rng.random(w.n) < 0.1)
    week = (s.day - _monday0(state)) // 7
    workweek = s.worker.astype(np.int64) * 1000 + week
    first_of_week = np.nonzero(np.r_[True, workweek[1:] != workweek[:-1]] & station[s.worker])[0]
    fees = _rows(
        s.worker[first_of_week],
        np.full(len(first_of_week), -1),
        s.on[first_of_week] + 600,
        np.full(len(first_of_week), 500),
        3,
        5,
    )
    out = penalties
    for part in (insurance, equipment, fees):
        out = Deductions(
            *(np.concatenate([getattr(out, f), getattr(part, f)]) for f in Deductions.__slots__)
        )
    return out


def _monday0(state: State) -> int:
    """Day index of the Monday on or before ``start``."""
    return -state.world.weekday0


def order_week(state: State) -> np.ndarray:
    """Payout week of each order (by local date of dropoff, else of acceptance)."""
    o = state.orders
    when = np.where(o.dropoff != NA, o.dropoff, o.accepted)
    return (when // 86400 - _monday0(state)) // 7


def build_payouts(state: State, ded: Deductions) -> tuple[Payouts, Deductions]:
    """Weekly statements; returns them and the deductions left after waivers."""
    n_w = state.workers.n
    o_week = order_week(state)
    d_week = (ded.at // 86400 - _monday0(state)) // 7
    n_weeks = int(max(o_week.max(initial=0), d_week.max(initial=0))) + 1
    credit = state.pay + state.orders.incentive + state.tip_to_worker
    o_key = o_week * n_w + state.orders.worker
    d_key = d_week * n_w + ded.worker
    size = n_weeks * n_w
    gross = np.bincount(o_key, weights=credit, minlength=size).round().astype(np.int64)
    taken = np.bincount(d_key, weights=ded.amount, minlength=size).round().astype(np.int64)
    waived = taken > gross
    ded = take_rows(ded, ~waived[d_key])
    taken = np.where(waived, 0, taken)
    keys = np.nonzero((gross > 0) | (taken > 0))[0]
    payouts = Payouts(
        worker=(keys % n_w).astype(np.int32),
        week=keys // n_w,
        gross=gross[keys],
        deductions=taken[keys],
        shortfall=np.zeros(len(keys), np.int64),
    )
    return payouts, ded
