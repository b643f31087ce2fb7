"""Tallies of a requirement: how many units (account actions, appeals, complaints) met it,
broke it, are not yet due, or do not record it, overall and per label (action, category).

Every count carries the distinct workers behind it, so that ``_requirements`` can withhold
what fewer than ``[report] min_cell_workers`` workers hold (``_small_cells``). Labels held
by fewer than k workers are pooled into one ``other`` cell; while that pool has some but
fewer than k workers, the smallest label shown joins it, so that no hidden label's numbers
can be worked out as the total minus the labels shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.checks._small_cells import small_cell

__all__ = ["LabelCount", "State", "Tally", "tally"]


class State(StrEnum):
    """A unit against a requirement."""

    MET = "met"
    BREACHED = "breached"
    OPEN = "open"  # not yet due by the export's day
    UNKNOWN = "unknown"  # the package does not record it


@dataclass(frozen=True, slots=True)
class LabelCount:
    """Units of one label (or of the pool of small labels) that were decided.

    Attributes:
        units: units met or breached.
        breached: units breached.
        workers: distinct workers with decided units.
        workers_breached: distinct workers with a breached unit.
        labels: labels in the cell (1 for a label; the pool's size for the pool).
    """

    units: int
    breached: int
    workers: int
    workers_breached: int
    labels: int = 1


@dataclass(frozen=True, slots=True)
class Tally:
    """A requirement over all units; ``workers_<count>`` are the distinct workers behind
    each count.

    Attributes:
        total: every unit, whatever its state.
        decided: units met or breached (the share's denominator).
        breached: units breached.
        breached_unanswered: units breached that were never answered.
        open: units not yet due.
        unknown: units whose record cannot say.
        answered: units answered (those ``median_days`` is over).
        median_days: median days from request to answer over answered units (None when
            not measured or none answered).
        by_label: label -> counts of the labels held by at least k workers, in label order
            (a missing label is ""); the pool of the others is ``other``.
        other: the pool of labels held by fewer than k workers (None when there is none).
    """

    total: int
    decided: int
    breached: int
    breached_unanswered: int
    open: int
    unknown: int
    answered: int
    workers: int
    workers_breached: int
    workers_breached_unanswered: int
    workers_total: int
    workers_open: int
    workers_unknown: int
    workers_answered: int
    median_days: float | None
    by_label: dict[str, LabelCount]
    other: LabelCount | None

    @property
    def share(self) -> float | None:
        """Share of decided units that breached (None when none was decided)."""
        return self.breached / self.decided if self.decided else None

    def published_by_label(self, k: int) -> dict[str, Any]:
        """Units, breached and their share per label shown and for the pool (``other``,
        with the number of labels in it). Breached counts are shown only where no cell's
        must be withheld (fewer than ``k`` workers breached in it): one withheld count could
        be worked out from the total and the others."""
        cells = [*self.by_label.values(), *([self.other] if self.other else [])]
        hide = any(small_cell(c.workers_breached, k) for c in cells)

        def shown(c: LabelCount) -> dict[str, Any]:
            return {
                "units": c.units,
                "breached": None if hide else c.breached,
                "share_breached": None if hide or not c.units else c.breached / c.units,
            }

        other = None if self.other is None else shown(self.other) | {"labels": self.other.labels}
        return {"labels": {label: shown(c) for label, c in self.by_label.items()}, "other": other}


def _count(value: Any) -> int:
    return 0 if value is None or value != value else int(value)


def tally(
    units: Table,
    state: ir.StringValue,
    label: str,
    k: int,
    days: ir.NumericValue | None = None,
    unanswered: ir.BooleanValue | None = None,
) -> Tally:
    """Count ``units`` (with ``worker_id`` and column ``label``) by ``state`` (a
    :class:`State` as text per unit); ``days`` is the time each answered unit took, and
    ``unanswered`` whether a unit was never answered; labels held by fewer than ``k``
    workers are pooled (module docstring)."""
    t = units.mutate(
        _state=state,
        _label=units[label].cast("string").fill_null(""),
        _never=unanswered if unanswered is not None else ibis.literal(False),
        _days=days.cast("float64") if days is not None else ibis.null("float64"),
    )
    decided = t._state.isin([str(State.MET), str(State.BREACHED)])
    breached = t._state == str(State.BREACHED)
    never = breached & t._never
    open_ = t._state == str(State.OPEN)
    unknown = t._state == str(State.UNKNOWN)
    answered = t._days.notnull()
    row = (
        t.aggregate(
            total=t.count(),
            decided=decided.cast("int64").sum(),
            breached=breached.cast("int64").sum(),
            breached_unanswered=never.cast("int64").sum(),
            open=open_.cast("int64").sum(),
            unknown=unknown.cast("int64").sum(),
            answered=answered.cast("int64").sum(),
            workers=t.worker_id.nunique(where=decided),
            workers_breached=t.worker_id.nunique(where=breached),
            workers_breached_unanswered=t.worker_id.nunique(where=never),
            workers_total=t.worker_id.nunique(),
            workers_open=t.worker_id.nunique(where=open_),
            workers_unknown=t.worker_id.nunique(where=unknown),
            workers_answered=t.worker_id.nunique(where=answered),
            median_days=t._days.median(),
        )
        .execute()
        .iloc[0]
    )
    by_label, other = _labels(t.filter(decided), k)
    median = row["median_days"]
    counts = {key: _count(row[key]) for key in row.index if key != "median_days"}
    return Tally(
        **counts,
        median_days=None if median is None or median != median else float(median),
        by_label=by_label,
        other=other,
    )


def _metrics(t: Table) -> dict[str, ir.Value]:
    """Decided units of ``t``: their count, breaches, and the workers behind each."""
    breached = t._state == str(State.BREACHED)
    return {
        "units": t.count(),
        "breached": breached.cast("int64").sum(),
        "workers": t.worker_id.nunique(),
        "workers_breached": t.worker_id.nunique(where=breached),
    }


def _label_count(row: Any, labels: int = 1) -> LabelCount:
    return LabelCount(
        units=_count(row["units"]),
        breached=_count(row["breached"]),
        workers=_count(row["workers"]),
        workers_breached=_count(row["workers_breached"]),
        labels=labels,
    )


def _labels(decided: Table, k: int) -> tuple[dict[str, LabelCount], LabelCount | None]:
    """The labels shown and the pool of the others (see the module docstring).

    Labels are ranked in the engine by workers, then label: the labels under ``k`` workers
    come first, and each widening of the pool takes the next. The pool is the labels ranked
    below ``m``, so that no label from the package is written into a query."""
    per = decided.group_by("_label").aggregate(**_metrics(decided))
    ranked = per.mutate(_rank=ibis.row_number().over(order_by=[per.workers, per._label]))
    frame = ranked.order_by("_label").execute()
    rows = frame.to_dict("records")
    cells = {str(r["_label"]): _label_count(r) for r in rows}
    rank = {str(r["_label"]): int(r["_rank"]) for r in rows}
    m = sum(c.workers < k for c in cells.values())
    while m:
        members = decided.semi_join(ranked.filter(ranked._rank < m), "_label")
        pool = _label_count(members.aggregate(**_metrics(members)).execute().iloc[0], m)
        shown = {label: c for label, c in cells.items() if rank[label] >= m}
        if pool.workers >= k or not shown:
            return shown, pool
        # Too few workers in the pool to publish it: it would give the hidden labels away
        # (the total minus the labels shown); the smallest label shown joins it.
        m += 1
    return cells, None
