"""ACC-01: restrictive account actions are decided by a person, explained, and reviewed in
time (EU Directive 2024/2831, Art. 10-11).

A fact check on ``account_actions``, with one finding per requirement:

- **human decision**: each restriction, suspension or deactivation was decided by a
  person: breached where ``decided_by_human`` is false, or is empty and ``automated`` is
  true; met where it is true, or is empty and ``automated`` is false; neither recorded:
  not judged (``unknown``).
- **explanation**: each restrictive action was explained in writing (``explained_at``)
  within ``[accountability] explanation_days`` of taking effect (``started_at``); an
  explanation given before it took effect is in time.
- **review**: each appealed action (``appealed_at``, warnings included) was reviewed
  (``reviewed_at``) within ``[accountability] review_days``.

Unanswered requests whose limit had not passed by the export's day are open, not breaches
(``_deadlines``). Counts over fewer than ``[report] min_cell_workers`` workers are withheld
(``_tally``, ``_small_cells``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs
from auditor.checks._deadlines import Deadline, as_of_seconds, tally_deadline
from auditor.checks._registry import register
from auditor.checks._requirements import Requirement, not_recorded, requirement_finding
from auditor.checks._tally import State, Tally, tally
from auditor.schema import RESTRICTIVE_ACTIONS

__all__ = ["AccountActionsReviewed"]

_TABLE = "account_actions"
_HAPPENED = ("started_at", "explained_at", "appealed_at", "reviewed_at")
"""Times of what has happened (not ``ended_at``, which may be a scheduled end): the latest
is the export's day by default."""


@register
class AccountActionsReviewed:
    """ACC-01: restrictive account actions are decided by a person, explained in writing,
    and reviewed on appeal within the configured limits."""

    id: ClassVar[str] = "ACC-01"
    title: ClassVar[str] = (
        "Restrictive account actions are decided by a person, explained and reviewed in time"
    )
    needs: ClassVar[Needs] = Needs(tables=(_TABLE,))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        validated = context.package.tables[_TABLE]
        present = set(validated.columns_present)
        actions = validated.table
        cfg = context.config.accountability
        as_of = as_of_seconds(actions, _HAPPENED, cfg.as_of, context.config.audit.timezone)
        restrictive = actions.filter(actions.action.isin(list(RESTRICTIVE_ACTIONS)))
        return [
            self._human(context, restrictive, present),
            self._explained(context, restrictive, present, as_of),
            self._reviewed(context, actions, present, as_of),
        ]

    def _finding(self, context: CheckContext, requirement: Requirement, counts: Tally) -> Finding:
        return requirement_finding(context, self.id, self.title, requirement, counts)

    def _human(self, context: CheckContext, r: Table, present: set[str]) -> Finding:
        requirement = _HUMAN
        columns = ("decided_by_human", "automated")
        if not present.intersection(columns):
            missing = tuple(f"{_TABLE}.{c}" for c in columns)
            return not_recorded(self.id, self.title, requirement, missing)
        # A person decided where decided_by_human says so; where it is empty, where the
        # action was not automated. Only the columns the file has are read.
        rules: list[tuple[ir.BooleanValue, str]] = []
        for column in columns:
            if column in present:
                decided = r[column] if column == "decided_by_human" else ~r[column]
                rules += [(decided == False, str(State.BREACHED)),  # noqa: E712
                          (decided == True, str(State.MET))]  # noqa: E712  # fmt: skip
        state = ibis.cases(*rules, else_=str(State.UNKNOWN))
        k = context.config.report.min_cell_workers
        return self._finding(context, requirement, tally(r, state, "action", k))

    def _explained(
        self, context: CheckContext, r: Table, present: set[str], as_of: float | None
    ) -> Finding:
        requirement = _EXPLAINED
        if "explained_at" not in present:
            return not_recorded(self.id, self.title, requirement, (f"{_TABLE}.explained_at",))
        limit = Deadline(
            "started_at", "explained_at", context.config.accountability.explanation_days
        )
        return self._finding(
            context,
            requirement,
            tally_deadline(r, limit, as_of, "action", context.config.report.min_cell_workers),
        )

    def _reviewed(
        self, context: CheckContext, actions: Table, present: set[str], as_of: float | None
    ) -> Finding:
        requirement = _REVIEWED
        missing = tuple(f"{_TABLE}.{c}" for c in ("appealed_at", "reviewed_at") if c not in present)
        if missing:
            return not_recorded(self.id, self.title, requirement, missing)
        appealed = actions.filter(actions.appealed_at.notnull())
        limit = Deadline("appealed_at", "reviewed_at", context.config.accountability.review_days)
        k = context.config.report.min_cell_workers
        counts = tally_deadline(appealed, limit, as_of, "action", k)
        return self._finding(context, requirement, counts)


_HUMAN = Requirement(
    name="human_decision",
    metric="share_of_restrictive_actions_without_human_decision",
    units="restrictive account actions",
    breach="were taken without a person deciding",
    met="Every restrictive account action was decided by a person",
    unknown="neither decided_by_human nor automated recorded",
    limit_key=None,
)
_EXPLAINED = Requirement(
    name="explanation",
    metric="share_of_restrictive_actions_not_explained_in_time",
    units="restrictive account actions",
    breach="were not explained in writing within {days} of taking effect",
    met="Every restrictive account action was explained in writing within {days} of taking effect",
    unanswered="never explained",
    open="taken within {days} of the export, not yet explained",
    limit_key="explanation_days",
    verb="explain",
)
_REVIEWED = Requirement(
    name="review",
    metric="share_of_appeals_not_reviewed_in_time",
    units="appealed account actions",
    breach="were not reviewed within {days} of the appeal",
    met="Every appealed account action was reviewed within {days} of the appeal",
    unanswered="never reviewed by the export's day",
    open="appealed within {days} of the export, not yet reviewed",
    limit_key="review_days",
    verb="review",
)
