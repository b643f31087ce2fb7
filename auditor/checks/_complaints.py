"""CMP-01: workers' complaints are answered in time.

A fact check on ``complaints``: each complaint is resolved (``resolved_at``) within
``[accountability] complaint_days`` of being received (``received_at``). A complaint still
unresolved when its limit passed by the export's day is a breach; one received too recently
to be due is open, counted apart (``_deadlines``). Counts are reported overall and by
``category``; a category held by fewer than ``[report] min_cell_workers`` workers is not
shown, and counts over fewer workers are withheld (``_tally``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import ibis

from auditor.checks._base import CheckContext, Finding, Needs
from auditor.checks._deadlines import Deadline, as_of_seconds, tally_deadline
from auditor.checks._registry import register
from auditor.checks._requirements import Requirement, not_recorded, requirement_finding

__all__ = ["ComplaintsAnswered"]

_TABLE = "complaints"


@register
class ComplaintsAnswered:
    """CMP-01: every complaint is resolved within ``[accountability] complaint_days``."""

    id: ClassVar[str] = "CMP-01"
    title: ClassVar[str] = "Workers' complaints are answered in time"
    needs: ClassVar[Needs] = Needs(tables=(_TABLE,))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        validated = context.package.tables[_TABLE]
        if "resolved_at" not in validated.columns_present:
            return [not_recorded(self.id, self.title, _ANSWERED, (f"{_TABLE}.resolved_at",))]
        complaints = validated.table
        if "category" not in validated.columns_present:
            complaints = complaints.mutate(category=ibis.null("string"))
        # Free text, compared as the contract compares categories: in lower case.
        complaints = complaints.mutate(category=complaints.category.lower())
        cfg = context.config.accountability
        times = ("received_at", "resolved_at")
        as_of = as_of_seconds(complaints, times, cfg.as_of, context.config.audit.timezone)
        limit = Deadline("received_at", "resolved_at", cfg.complaint_days)
        k = context.config.report.min_cell_workers
        counts = tally_deadline(complaints, limit, as_of, "category", k)
        return [requirement_finding(context, self.id, self.title, _ANSWERED, counts)]


_ANSWERED = Requirement(
    name="answered",
    metric="share_of_complaints_not_answered_in_time",
    units="complaints",
    breach="were not resolved within {days} of being received",
    met="Every complaint was resolved within {days} of being received",
    unanswered="unresolved by the export's day",
    open="received within {days} of the export, unresolved",
    limit_key="complaint_days",
    label="category",
    verb="resolve",
)
