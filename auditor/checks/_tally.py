"""Tallies of a requirement: how many units (account actions, appeals, complaints) met it,
broke it, are not yet due, or do not record it, overall and per label (action, category).

One engine pass per grouping; what is published goes through ``_small_cells``: a count
over fewer than ``[report] min_cell_workers`` workers is withheld, and a label held by
fewer workers is folded into ``other_labels``.
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
    """Units of one label that were decided (met or breached), and how many breached.

    Attributes:
        units: units met or breached.
        breached: units breached.
        workers: distinct workers with decided units.
        workers_breached: distinct workers with a breached unit.
    """

    units: int
    breached: int
    workers: int
    workers_breached: int


@dataclass(frozen=True, slots=True)
class Tally:
    """A requirement over all units.

    Attributes:
        total: every unit, whatever its state.
        decided: units met or breached (the share's denominator).
        breached: units breached.
        breached_unanswered: units breached that were never answered.
        open: units not yet due.
        unknown: units whose record cannot say.
        workers: distinct workers with decided units.
        workers_breached: distinct workers with a breached unit.
        workers_total: distinct workers with any unit.
        workers_open: distinct workers with an open unit.
        workers_unknown: distinct workers with an unknown unit.
        median_days: median days from request to answer over answered units (None when
            not measured or none answered).
        by_label: label -> counts, labels in sorted order (missing labels as "").
    """

    total: int
    decided: int
    breached: int
    breached_unanswered: int
    open: int
    unknown: int
    workers: int
    workers_breached: int
    workers_total: int
    workers_open: int
    workers_unknown: int
    median_days: float | None
    by_label: dict[str, LabelCount]

    @property
    def share(self) -> float | None:
        """Share of decided units that breached (None when none was decided)."""
        return self.breached / self.decided if self.decided else None

    def published_by_label(self, k: int) -> dict[str, Any]:
        """Per label with at least ``k`` workers: units, breached and their share (the
        breached count withheld where fewer than ``k`` workers breached); ``other_labels``
        counts the labels held by fewer workers, whose numbers are not shown."""
        shown: dict[str, Any] = {}
        hidden = 0
        for label, c in self.by_label.items():
            if not c.units:
                continue  # every unit open or unknown: nothing to show or withhold
            if c.workers < k:
                hidden += 1
                continue
            few = small_cell(c.workers_breached, k)
            shown[label or "(none)"] = {
                "units": c.units,
                "breached": None if few else c.breached,
                "share_breached": None if few else (c.breached / c.units if c.units else None),
            }
        return {"labels": shown, "other_labels": hidden}


def _count(value: Any) -> int:
    return 0 if value is None or value != value else int(value)


def tally(
    units: Table,
    state: ir.StringValue,
    label: str,
    days: ir.NumericValue | None = None,
    unanswered: ir.BooleanValue | None = None,
) -> Tally:
    """Count ``units`` (with ``worker_id`` and column ``label``) by ``state`` (a
    :class:`State` as text per unit); ``days`` is the time each answered unit took, and
    ``unanswered`` whether a unit was never answered."""
    never = unanswered if unanswered is not None else ibis.literal(False)
    t = units.mutate(
        _state=state,
        _label=units[label].cast("string").fill_null(""),
        _never=never,
        _days=days.cast("float64") if days is not None else ibis.null("float64"),
    )
    decided = t._state.isin([str(State.MET), str(State.BREACHED)])
    breached = t._state == str(State.BREACHED)
    open_ = t._state == str(State.OPEN)
    unknown = t._state == str(State.UNKNOWN)
    metrics = {
        "decided": decided.cast("int64").sum(),
        "breached": breached.cast("int64").sum(),
        "workers": t.worker_id.nunique(where=decided),
        "workers_breached": t.worker_id.nunique(where=breached),
    }
    overall = t.aggregate(
        total=t.count(),
        open=open_.cast("int64").sum(),
        unknown=unknown.cast("int64").sum(),
        workers_total=t.worker_id.nunique(),
        workers_open=t.worker_id.nunique(where=open_),
        workers_unknown=t.worker_id.nunique(where=unknown),
        breached_unanswered=(breached & t._never).cast("int64").sum(),
        median_days=t._days.median(),
        **metrics,
    )
    row = overall.execute().iloc[0]
    per = t.group_by("_label").aggregate(**metrics).order_by("_label").execute()
    by_label = {
        str(r["_label"]): LabelCount(
            units=_count(r["decided"]),
            breached=_count(r["breached"]),
            workers=_count(r["workers"]),
            workers_breached=_count(r["workers_breached"]),
        )
        for r in per.to_dict("records")
    }
    median = row["median_days"]
    return Tally(
        total=_count(row["total"]),
        decided=_count(row["decided"]),
        breached=_count(row["breached"]),
        breached_unanswered=_count(row["breached_unanswered"]),
        open=_count(row["open"]),
        unknown=_count(row["unknown"]),
        workers=_count(row["workers"]),
        workers_breached=_count(row["workers_breached"]),
        workers_total=_count(row["workers_total"]),
        workers_open=_count(row["workers_open"]),
        workers_unknown=_count(row["workers_unknown"]),
        median_days=None if median is None or median != median else float(median),
        by_label=by_label,
    )
