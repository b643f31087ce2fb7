"""Deadlines: was a request answered within its limit, late, or not at all? One definition
for the accountability checks (ACC-01's explanations and reviews, CMP-01's complaints).

A request starts at one time (an action takes effect, an appeal or a complaint is made) and
is answered at another (explained, reviewed, resolved), within ``limit_days`` whole days of
24 hours. An unanswered request is **overdue** once its limit has passed by the export's
day (``[accountability] as_of``, else the latest time the table records), and **open**
before that: an open request is not yet a breach and is counted apart.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.checks._tally import State, Tally, tally
from auditor.engine import instant_seconds

__all__ = ["Deadline", "as_of_seconds", "days_taken", "deadline_state", "tally_deadline"]

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Deadline:
    """A limit on the time from ``start`` to ``answer`` (contract columns of one table)."""

    start: str
    answer: str
    limit_days: int


def as_of_seconds(
    table: Table, columns: tuple[str, ...], as_of: str, timezone: str
) -> float | None:
    """The export's moment in seconds since the epoch: the end of local day ``as_of``
    (``[accountability] as_of``) when given, else the latest time in ``columns`` of
    ``table`` (times of what has happened: a scheduled end would push the export's day
    forward and make open requests overdue); None where none is recorded."""
    if as_of:
        next_day = dt.date.fromisoformat(as_of) + dt.timedelta(days=1)
        local = dt.datetime.combine(next_day, dt.time(), zoneinfo.ZoneInfo(timezone))
        return local.timestamp()
    present = [c for c in columns if c in table.columns]
    if not present:
        return None
    latest = table.aggregate(
        **{f"t{i}": instant_seconds(table[c]).max() for i, c in enumerate(present)}
    )
    values = [float(v) for v in latest.execute().iloc[0] if v is not None and v == v]
    return max(values) if values else None


def deadline_state(table: Table, deadline: Deadline, as_of: float | None) -> ir.StringValue:
    """Per row of ``table``: its request against the limit, a :class:`State` as text: met
    (answered in time), breached (answered late, or unanswered past the limit by
    ``as_of``), open (unanswered, not yet due); null where no request was made (``start``
    missing)."""
    start = instant_seconds(table[deadline.start])
    answer = instant_seconds(table[deadline.answer])
    limit = deadline.limit_days * SECONDS_PER_DAY
    now = ibis.literal(as_of, type="float64") if as_of is not None else ibis.null("float64")
    return ibis.cases(
        (start.isnull(), ibis.null("string")),
        (answer.notnull() & (answer - start > limit), str(State.BREACHED)),
        (answer.notnull(), str(State.MET)),
        ((now - start > limit).fill_null(False), str(State.BREACHED)),
        else_=str(State.OPEN),
    )


def days_taken(table: Table, deadline: Deadline) -> ir.NumericValue:
    """Days from ``start`` to ``answer``, 0 for an answer given before the start (an
    explanation sent ahead of the action); null where either is missing."""
    seconds = instant_seconds(table[deadline.answer]) - instant_seconds(table[deadline.start])
    # Not greatest(): the engine's greatest skips nulls, and an unanswered request would
    # count as answered at once.
    return ibis.ifelse(seconds < 0, 0.0, seconds) / SECONDS_PER_DAY


def tally_deadline(
    units: Table, deadline: Deadline, as_of: float | None, label: str, k: int
) -> Tally:
    """:func:`~auditor.checks._tally.tally` of ``units`` against ``deadline``, by
    ``label`` (pooled at ``k`` workers), with the days each answer took and the requests
    never answered."""
    return tally(
        units,
        deadline_state(units, deadline, as_of),
        label,
        k,
        days=days_taken(units, deadline),
        unanswered=units[deadline.answer].isnull(),
    )
