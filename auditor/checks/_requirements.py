"""Findings of requirements counted unit by unit (ACC-01's three, CMP-01): the verdict,
the published numbers and the sentence, from a :class:`~auditor.checks._tally.Tally`.

Any breach fails, with a severity from the share of decided units breached (as every fact
check, ``fact_outcome``); no decided unit is inconclusive. Numbers over fewer than
``[report] min_cell_workers`` workers are withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.checks._base import CheckContext, Finding, Severity, Status
from auditor.checks._common import basis, fact_outcome
from auditor.checks._small_cells import small_cell, withheld
from auditor.checks._tally import Tally

__all__ = ["Requirement", "not_recorded", "requirement_finding"]


@dataclass(frozen=True, slots=True)
class Requirement:
    """What one finding asks of each unit, and the words to report it.

    Attributes:
        name: the finding's ``subject.requirement``.
        metric: the finding's metric, a share of decided units breached.
        units: what a unit is, plural ("appealed account actions").
        breach: "{n} of {m} <units> <breach>"; ``{days}`` is the limit.
        met: the sentence when none breached.
        unanswered: words for breached units never answered (deadlines only).
        open: what makes a unit not yet due (deadlines only).
        unknown: what makes a unit's record unable to say.
        limit_key: the ``[accountability]`` key of the limit in days, if any.
        label: what the per-label counts are by (``data.by_<label>``).
        verb: what answering is ("review"), for the median time to answer.
    """

    name: str
    metric: str
    units: str
    breach: str
    met: str
    unanswered: str = ""
    open: str = ""
    unknown: str = ""
    limit_key: str | None = None
    label: str = "action"
    verb: str = "answer"


def not_recorded(
    check: str, title: str, requirement: Requirement, missing: tuple[str, ...]
) -> Finding:
    """The not_assessed finding of a requirement whose columns the package lacks."""
    return Finding(
        check=check,
        status=Status.NOT_ASSESSED,
        title=title,
        subject={"requirement": requirement.name},
        missing=missing,
        detail="Not assessed: the package lacks " + ", ".join(missing) + ".",
    )


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def requirement_finding(
    context: CheckContext, check: str, title: str, requirement: Requirement, counts: Tally
) -> Finding:
    """The finding of ``requirement`` over the units ``counts`` tallies."""
    k = context.config.report.min_cell_workers
    limit = (
        getattr(context.config.accountability, requirement.limit_key)
        if requirement.limit_key
        else None
    )
    few = small_cell(counts.workers, k)
    hide = few or small_cell(counts.workers_breached, k)
    share = counts.share
    if counts.decided:
        status, severity = fact_outcome(counts.breached, share or 0.0)
    else:
        status, severity = Status.INCONCLUSIVE, Severity.INFO
    # Each number is withheld where fewer than k workers are behind it.
    withhold = {
        "units": few,
        "breached_unanswered": small_cell(counts.workers_breached_unanswered, k),
        "not_yet_due": small_cell(counts.workers_open, k),
        "not_recorded": small_cell(counts.workers_unknown, k),
        "median_days_to_answer": few or small_cell(counts.workers_answered, k),
    }
    data: dict[str, Any] = {
        "requirement": requirement.name,
        "limit_days": limit,
        "units": counts.decided,
        "breached": counts.breached,
        "breached_unanswered": counts.breached_unanswered,
        "workers_affected": counts.workers_breached,
        "not_yet_due": counts.open,
        "not_recorded": counts.unknown,
        "median_days_to_answer": counts.median_days,
        f"by_{requirement.label}": None if few else counts.published_by_label(k),
    }
    data |= {key: None for key, small in withhold.items() if small}
    keys = ("breached", "breached_unanswered", "workers_affected")
    return Finding(
        check=check,
        status=status,
        severity=severity,
        title=title,
        metric=requirement.metric,
        estimate=share if counts.decided and not hide else None,
        threshold=0.0,
        subject={"requirement": requirement.name},
        n_workers=None if few else counts.workers,
        basis=basis(context, check),
        detail=_detail(requirement, counts, data, limit, hide, k),
        # ``suppressed``: the finding's own numbers (count, share, workers) are withheld;
        # a side number withheld alone is null, and the share is still published.
        data=withheld(data, keys, hide, k),
    )


def _detail(
    requirement: Requirement,
    counts: Tally,
    data: dict[str, Any],
    limit: int | None,
    hide: bool,
    k: int,
) -> str:
    """The finding's sentence; ``counts`` holds the true counts, ``data`` what may be
    published (None where fewer than ``k`` workers are behind a number)."""
    days = _days(limit) if limit is not None else ""
    breach = requirement.breach.format(days=days)
    asides = []
    for n, published, words, lead in (
        (counts.open, data["not_yet_due"], requirement.open.format(days=days), "Not yet due"),
        (counts.unknown, data["not_recorded"], requirement.unknown, "Not judged"),
    ):
        if n and words:
            shown = (
                f"{published:,}" if published is not None else f"those of fewer than {k} workers"
            )
            asides.append(f"{lead}: {shown} ({words}).")
    if data["median_days_to_answer"] is not None:
        median = data["median_days_to_answer"]
        asides.append(f"Median time to {requirement.verb}: {median:.1f} days.")
    aside = (" " + " ".join(asides)) if asides else ""
    if not counts.decided:
        if counts.total == 0:
            return f"The package records no {requirement.units}."
        return f"No {requirement.units[:-1]} can be judged yet." + aside
    if counts.breached and hide:
        return (
            f"Some {requirement.units} of fewer than {k} workers {breach}; their number and "
            "share are not published ([report] min_cell_workers)." + aside
        )
    if counts.breached:
        who = "worker" if counts.workers_breached == 1 else "workers"
        never = ""
        n_never = data["breached_unanswered"]
        if counts.breached_unanswered and requirement.unanswered:
            if n_never is None:
                never = (
                    f", some of them {requirement.unanswered} (fewer than {k} workers: not "
                    "published)"
                )
            else:
                never = f", {n_never:,} of them {requirement.unanswered}"
        return (
            f"{counts.breached:,} of {counts.decided:,} {requirement.units} "
            f"({counts.share or 0.0:.1%}) {breach}{never}; {counts.workers_breached:,} {who} "
            "affected." + aside
        )
    return requirement.met.format(days=days) + "." + aside
