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
from auditor.schema import TABLES, ColumnType

__all__ = ["Deadline", "as_of_seconds", "days_taken", "deadline_state", "tally_deadline"]

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Deadline:
    """A limit on the time from ``start`` to ``answer`` (contract columns of one table)."""

    start: str
    answer: str
    limit_days: int


def as_of_seconds(table: Table, table_name: str, as_of: str, timezone: str) -> int | None:
    """The export's moment in seconds since the epoch: the end of local day ``as_of``
    (``[accountability] as_of``) when given, else the latest time in any timestamp column
    of ``table`` (None for a table with no time at all)."""
    if as_of:
        next_day = dt.date.fromisoformat(as_of) + dt.timedelta(days=1)
        local = dt.datetime.combine(next_day, dt.time(), zoneinfo.ZoneInfo(timezone))
        return int(local.timestamp())
    spec = TABLES[table_name]
    times = [
        table[c.name].epoch_seconds().max()
        for c in spec.columns
        if c.type == ColumnType.TIMESTAMP and c.name in table.columns
    ]
    if not times:
        return None
    latest = table.aggregate(**{f"t{i}": t for i, t in enumerate(times)}).execute().iloc[0]
    values = [int(v) for v in latest if v == v and v is not None]
    return max(values) if values else None


def deadline_state(table: Table, deadline: Deadline, as_of: int | None) -> ir.StringValue:
    """Per row of ``table``: its request against the limit, a :class:`State` as text: met
    (answered in time), breached (answered late, or unanswered past the limit by
    ``as_of``), open (unanswered, not yet due); null where no request was made (``start``
    missing)."""
    start = table[deadline.start].epoch_seconds()
    answer = table[deadline.answer].epoch_seconds()
    limit = deadline.limit_days * SECONDS_PER_DAY
    now = ibis.literal(as_of, type="int64") if as_of is not None else ibis.null("int64")
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
    seconds = table[deadline.answer].epoch_seconds() - table[deadline.start].epoch_seconds()
    # Not greatest(): the engine's greatest skips nulls, and an unanswered request would
    # count as answered at once.
    return ibis.ifelse(seconds < 0, 0, seconds).cast("float64") / SECONDS_PER_DAY


def tally_deadline(units: Table, deadline: Deadline, as_of: int | None, label: str) -> Tally:
    """:func:`~auditor.checks._tally.tally` of ``units`` against ``deadline``, by
    ``label``, with the days each answer took and the requests never answered."""
    return tally(
        units,
        deadline_state(units, deadline, as_of),
        label,
        days=days_taken(units, deadline),
        unanswered=units[deadline.answer].isnull(),
    )
