"""Account actions and complaints (times in wall-clock seconds from ``start``).

Workers draw warnings, restrictions, suspensions and deactivations, and make complaints,
while online, at a constant rate per online hour (set so that a worker who took an order
draws ``account_action_rate`` and ``complaint_rate`` per 30 days on average). The base
platform keeps every rule ACC-01, ACC-02 and CMP-01 test: a restrictive action is decided
by a person and explained before it takes effect; every group is acted on at the same rate
per online hour; an appeal is reviewed within 10 days, a complaint resolved within 10 days
(the default limits are 14). Actions and complaints fall within the simulated period; the
tables are exported `EXPORT_LAG_DAYS` after it, and what would come later is not recorded
(an appeal not yet made, a review or resolution still to come).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.config import AccountabilitySection

from ._arrays import NA, concat_rows, take_rows
from ._state import State

__all__ = [
    "ACTIONS",
    "ACTION_REASONS",
    "COMPLAINT_CATEGORIES",
    "COMPLAINT_OUTCOMES",
    "OUTCOMES",
    "AccountActions",
    "Complaints",
    "account_actions_truth",
    "build_account_actions",
    "build_complaints",
    "complaints_truth",
    "export_moment",
    "group_actions_truth",
    "plant_group_suspensions",
]

ACTIONS: tuple[str, ...] = ("warning", "restriction", "suspension", "deactivation")
_ACTION_P = (0.55, 0.2, 0.18, 0.07)
#: Days an action lasts, uniform in (low, high); warnings and deactivations do not end.
_ACTION_DAYS = {1: (1.0, 3.0), 2: (1.0, 7.0)}
ACTION_REASONS: tuple[str, ...] = ("超时率高", "顾客投诉", "违规取消", "账号异常", "安全事故")
OUTCOMES: tuple[str, ...] = ("confirmed", "reversed", "modified", "pending")
COMPLAINT_CATEGORIES: tuple[str, ...] = (
    "pay",
    "deduction",
    "dispatch",
    "account",
    "safety",
    "other",
)
_CATEGORY_P = (0.35, 0.2, 0.15, 0.1, 0.05, 0.15)
COMPLAINT_OUTCOMES: tuple[str, ...] = ("upheld", "partly_upheld", "rejected")
_DAY = 86_400
_ANSWER_DAYS = (0.1, 10.0)
"""Days the base platform takes to review an appeal or resolve a complaint."""


@dataclass(slots=True)
class AccountActions:
    """Account actions (times: wall seconds, ``NA`` missing).

    Attributes:
        worker: worker number.
        action: index into `ACTIONS`.
        start: takes effect.
        end: lifted (``NA`` while in force).
        reason: index into `ACTION_REASONS`.
        automated: taken or proposed by an automated system.
        human: decided by a person.
        explained: written reasons given.
        appealed: the worker asked for a review.
        reviewed: a person reviewed it.
        outcome: index into `OUTCOMES`; -1 not appealed.
    """

    worker: np.ndarray
    action: np.ndarray
    start: np.ndarray
    end: np.ndarray
    reason: np.ndarray
    automated: np.ndarray
    human: np.ndarray
    explained: np.ndarray
    appealed: np.ndarray
    reviewed: np.ndarray
    outcome: np.ndarray

    def __len__(self) -> int:
        return len(self.worker)


@dataclass(slots=True)
class Complaints:
    """Workers' complaints (times: wall seconds, ``NA`` missing).

    Attributes:
        worker: worker number.
        received: received by the platform.
        category: index into `COMPLAINT_CATEGORIES`.
        resolved: answered with a decision.
        outcome: index into `COMPLAINT_OUTCOMES`; -1 unresolved.
    """

    worker: np.ndarray
    received: np.ndarray
    category: np.ndarray
    resolved: np.ndarray
    outcome: np.ndarray

    def __len__(self) -> int:
        return len(self.worker)


EXPORT_LAG_DAYS = 30
"""Days after the simulated period at which these tables are exported: reviews and
answers given by then are recorded, later ones are not."""


def export_moment(state: State) -> int:
    """When account actions and complaints are exported, in wall seconds."""
    return (state.spec.days + EXPORT_LAG_DAYS) * _DAY


def _per_online_hour(state: State, rate_per_30_days: float) -> float:
    """Events per online hour that give a worker who took an order ``rate_per_30_days``
    events per 30 days on average."""
    s = state.sessions
    hours = float((s.off - s.on).sum()) / 3600.0
    active = len(np.unique(state.orders.worker))
    return rate_per_30_days * state.spec.days / 30.0 * active / hours if hours else 0.0


def _draw_times(
    state: State, per_hour: float, rng: np.random.Generator, workers: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Workers and times of events at ``per_hour`` events per online hour, while online
    (in the sessions of ``workers``, a mask by worker number, when given), sorted by time
    then worker."""
    s = state.sessions
    rows = np.ones(len(s), bool) if workers is None else workers[s.worker]
    length = (s.off - s.on)[rows]
    counts = rng.poisson(per_hour * length / 3600.0)
    session = np.repeat(np.nonzero(rows)[0], counts)
    at = s.on[session] + np.floor(rng.random(len(session)) * np.repeat(length, counts))
    worker = s.worker[session].astype(np.int32)
    at = at.astype(np.int64)
    order = np.lexsort((worker, at))
    return worker[order], at[order]


def _later(at: np.ndarray, days: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """``at`` plus a uniform number of days in ``days`` (whole seconds); ``NA`` stays."""
    step = np.rint(rng.uniform(days[0], days[1], len(at)) * _DAY).astype(np.int64)
    return np.where(at == NA, NA, at + step)


def _recorded(at: np.ndarray, end: int) -> np.ndarray:
    """``at`` where it falls before the export (``end``), ``NA`` after it."""
    return np.where(at > end, NA, at)


def build_account_actions(state: State, rng: np.random.Generator) -> AccountActions:
    """The base platform's account actions (see the module docstring)."""
    per_hour = _per_online_hour(state, state.spec.account_action_rate)
    worker, start = _draw_times(state, per_hour, rng)
    action = rng.choice(len(ACTIONS), len(worker), p=_ACTION_P).astype(np.int8)
    return _actions(state, worker, start, action, rng)


def _actions(
    state: State,
    worker: np.ndarray,
    start: np.ndarray,
    action: np.ndarray,
    rng: np.random.Generator,
) -> AccountActions:
    """Account actions of ``action`` kinds taken on ``worker`` at ``start``, as the base
    platform takes them: decided by a person, explained ahead, reviewed in time."""
    spec, end = state.spec, export_moment(state)
    n = len(worker)
    restrictive = action > 0
    lasts = np.full(n, NA, np.int64)
    for code, days in _ACTION_DAYS.items():
        rows = action == code
        lasts[rows] = _later(start[rows], days, rng)
    automated = rng.random(n) < 0.7
    human = np.where(restrictive, True, ~automated)
    ahead = np.rint(rng.uniform(0.0, 2 * 3600, n)).astype(np.int64)
    explained = np.where(restrictive, start - ahead, start)
    appeal_p = np.where(restrictive, spec.appeal_rate, spec.appeal_rate / 2)
    appealed = _recorded(
        np.where(rng.random(n) < appeal_p, _later(start, (0.02, 3.0), rng), NA), end
    )
    reviewed = _recorded(_later(appealed, _ANSWER_DAYS, rng), end)
    reversed_ = rng.random(n) < spec.appeal_upheld_rate
    outcome = np.where(
        appealed == NA, -1, np.where(reviewed == NA, 3, np.where(reversed_, 1, 0))
    ).astype(np.int8)
    reinstated = (outcome == 1) & ((lasts == NA) | (lasts > reviewed))
    lasts = np.where(reinstated, reviewed, lasts)
    return AccountActions(
        worker=worker,
        action=action,
        start=start,
        end=_recorded(lasts, end),
        reason=rng.integers(0, len(ACTION_REASONS), n).astype(np.int8),
        automated=automated,
        human=human,
        explained=explained,
        appealed=appealed,
        reviewed=reviewed,
        outcome=outcome,
    )


def plant_group_suspensions(
    state: State, group: np.ndarray, ratio: float, rng: np.random.Generator
) -> np.ndarray:
    """ACC-02: workers of ``group`` (a mask by worker number) are suspended and deactivated
    ``ratio`` times as often per online hour as the base platform does it. Returns the
    rows added (a mask over the new table)."""
    a = state.account_actions
    if a is None:
        raise RuntimeError("ACC-02 is planted on account actions: build them first.")
    kinds = np.array([2, 3])
    p = np.array([_ACTION_P[2], _ACTION_P[3]])
    per_hour = _per_online_hour(state, state.spec.account_action_rate) * p.sum()
    worker, start = _draw_times(state, per_hour * max(ratio - 1.0, 0.0), rng, group)
    extra = _actions(state, worker, start, rng.choice(kinds, len(worker), p=p / p.sum()), rng)
    both = concat_rows(a, extra)
    order = np.lexsort((both.worker, both.start))
    state.account_actions = take_rows(both, order)
    return np.argsort(order) >= len(a)


def build_complaints(state: State, rng: np.random.Generator) -> Complaints:
    """The base platform's complaints (see the module docstring)."""
    per_hour = _per_online_hour(state, state.spec.complaint_rate)
    worker, received = _draw_times(state, per_hour, rng)
    n = len(worker)
    resolved = _recorded(_later(received, _ANSWER_DAYS, rng), export_moment(state))
    outcome = rng.integers(0, len(COMPLAINT_OUTCOMES), n)
    return Complaints(
        worker=worker,
        received=received,
        category=rng.choice(len(COMPLAINT_CATEGORIES), n, p=_CATEGORY_P).astype(np.int8),
        resolved=resolved,
        outcome=np.where(resolved == NA, -1, outcome).astype(np.int8),
    )


def plant_unreviewed_actions(state: State, share: float, rng: np.random.Generator) -> np.ndarray:
    """ACC-01: a ``share`` of restrictive actions is decided by the system alone, never
    explained, and, where appealed, reviewed 15 to 30 days later (or not by the export).
    Returns the rows touched."""
    a = state.account_actions
    if a is None:
        raise RuntimeError("ACC-01 is planted on account actions: build them first.")
    hit = (a.action > 0) & (rng.random(len(a)) < share)
    a.human = np.where(hit, False, a.human)
    a.automated = np.where(hit, True, a.automated)
    a.explained = np.where(hit, NA, a.explained)
    late = _recorded(_later(a.appealed, (15.0, 30.0), rng), export_moment(state))
    a.reviewed = np.where(hit, late, a.reviewed)
    pending = hit & (a.appealed != NA) & (a.reviewed == NA)
    a.outcome = np.where(pending, 3, a.outcome).astype(np.int8)
    reinstated = hit & (a.outcome == 1)
    a.end = np.where(reinstated, a.reviewed, a.end)
    return hit


def plant_unanswered_complaints(state: State, share: float, rng: np.random.Generator) -> np.ndarray:
    """CMP-01: a ``share`` of complaints is resolved 15 to 40 days after it was received
    (or not by the export). Returns the rows touched."""
    c = state.complaints
    if c is None:
        raise RuntimeError("CMP-01 is planted on complaints: build them first.")
    hit = rng.random(len(c)) < share
    late = _recorded(_later(c.received, (15.0, 40.0), rng), export_moment(state))
    c.resolved = np.where(hit, late, c.resolved)
    c.outcome = np.where(c.resolved == NA, -1, c.outcome).astype(np.int8)
    return hit


def _judged(
    start: np.ndarray, answer: np.ndarray, limit_days: int, as_of: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which requests (``start`` not ``NA``) were decided (answered, or unanswered past the
    limit by ``as_of``) and which of those breached the limit, as ACC-01 and CMP-01 judge
    them (``auditor.checks._deadlines``; wall seconds, the same but across a clock change)."""
    made = start != NA
    answered = made & (answer != NA)
    limit = limit_days * _DAY
    late = answered & (answer - start > limit)
    overdue = made & ~answered & (as_of - start > limit)
    return answered | overdue, late | overdue


def _latest(*times: np.ndarray) -> int:
    """The latest of ``times`` recorded (the checks' default ``as_of``)."""
    return max(int(t[t != NA].max()) for t in times if (t != NA).any())


def _count(worker: np.ndarray, decided: np.ndarray, breached: np.ndarray) -> dict[str, int]:
    return {
        "units": int(decided.sum()),
        "breached": int(breached.sum()),
        "workers_affected": len(np.unique(worker[breached])),
    }


def account_actions_truth(state: State) -> dict[str, dict[str, int]]:
    """What ACC-01 should find with the default ``[accountability]`` limits, per
    requirement: units decided, units breached, workers affected."""
    limits = AccountabilitySection()
    a = state.account_actions
    assert a is not None
    as_of = _latest(a.start, a.explained, a.appealed, a.reviewed)  # not a scheduled end
    restrictive = a.action > 0
    explained = _judged(
        np.where(restrictive, a.start, NA), a.explained, limits.explanation_days, as_of
    )
    reviewed = _judged(a.appealed, a.reviewed, limits.review_days, as_of)
    return {
        "human_decision": _count(a.worker, restrictive, restrictive & ~a.human),
        "explanation": _count(a.worker, *explained),
        "review": _count(a.worker, *reviewed),
    }


def complaints_truth(state: State) -> dict[str, int]:
    """What CMP-01 should find with the default ``[accountability]`` limit."""
    c = state.complaints
    assert c is not None
    as_of = _latest(c.received, c.resolved)
    decided, breached = _judged(
        c.received, c.resolved, AccountabilitySection().complaint_days, as_of
    )
    return _count(c.worker, decided, breached)


def group_actions_truth(state: State, group: np.ndarray) -> dict[str, float | int]:
    """ACC-02's raw truth: suspensions and deactivations per online hour of ``group``
    (a mask by worker number) and of everyone else, their ratio, and the actions the plant
    added."""
    a, s = state.account_actions, state.sessions
    assert a is not None
    compared = a.action >= 2
    hours = np.bincount(s.worker, weights=(s.off - s.on) / 3600.0, minlength=len(group))
    events = np.bincount(a.worker[compared], minlength=len(group))
    rate_group = events[group].sum() / hours[group].sum()
    rate_others = events[~group].sum() / hours[~group].sum()
    return {
        "actions_per_hour_group": round(float(rate_group), 8),
        "actions_per_hour_others": round(float(rate_others), 8),
        "rate_ratio_realised": round(float(rate_group / rate_others), 4),
    }
