"""ACC-02: are suspensions and deactivations concentrated on some worker groups, and does
an appeal reinstate them alike?

Actions are ``account_actions`` rows whose ``action`` is a suspension or a deactivation.
Each counts in the cell of its worker and the local week (Monday start) it took effect;
the exposure is the worker's online hours that week (``sessions``, as the reconstruction's
worker-week panel sums them). A Poisson model with a fixed effect per week (and per
``[fairness] legitimate_attributes`` value) gives each group's rate ratio of such actions
per online hour against the reference group, by worker (CR2, Bell-McCaffrey degrees of
freedom), exactly as DED-01 compares penalties per accepted order (``auditor.stats``):
a group that works more hours draws more actions without any bias, and the week absorbs
platform-wide sweeps. An action taken in a week its worker was not online (a deactivation
ends online time; a sweep may fall on days a group does not work) counts in the worker's
latest online week before it, else the first after it.

Where the package records appeals and their outcomes, the same model compares the share of
reviewed appeals that reinstated the worker (``outcome = reversed``) within the kind of
action, so a group whose appeals are rarely heard shows; reviews still pending, or without
an outcome, are left out. Actions of workers never online in the package are counted and
left out of the rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import ibis
import numpy as np

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import same_words
from auditor.checks._groups import (
    Comparison,
    Impact,
    Roster,
    attributes_findings,
    compare_groups,
    group_rates,
    roster,
)
from auditor.checks._registry import register
from auditor.checks._small_cells import left_out, left_out_words
from auditor.stats import ratio_estimator, strata

__all__ = ["ACTIONS_COMPARED", "AccountActionsByGroup"]

ACTIONS_COMPARED = ("suspension", "deactivation")
"""The account actions whose rates are compared."""

DECIDED_OUTCOMES = ("confirmed", "reversed", "modified")
"""Outcomes of a review that decided the appeal (reinstatement is ``reversed``)."""


@register
class AccountActionsByGroup:
    """ACC-02: suspensions and deactivations per online hour by worker group, and
    reinstatement on appeal."""

    id: ClassVar[str] = "ACC-02"
    title: ClassVar[str] = (
        "Suspensions and deactivations fall on worker groups alike, and appeals reinstate alike"
    )
    needs: ClassVar[Needs] = Needs(tables=("account_actions", "sessions", "workers"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        validated = context.package.tables["account_actions"]
        present = set(validated.columns_present)
        has_appeals = {"appealed_at", "reviewed_at", "outcome"} <= present
        a = validated.table
        acts = a.filter(a.action.isin(list(ACTIONS_COMPARED))).mutate(
            week_start=a.started_at.cast("timestamp").date().truncate("W")
        )
        w = context.rebuilt.worker_weeks
        exposure = w.filter(w.online_hours > 0).select(
            "worker_id", "week_start", hours=w.online_hours.cast("float64")
        )
        keys = ["worker_id", "week_start"]
        placed = _in_online_weeks(acts, exposure)
        counts = placed.group_by(keys).aggregate(actions=ibis._.count())
        cells = (
            exposure.left_join(counts, keys)
            .select(
                exposure.worker_id,
                exposure.week_start,
                exposure.hours,
                actions=counts.actions.fill_null(0),
            )
            .inner_join(people.table, "worker_id")
            .order_by(["code", "week_start"])  # a fixed order: reproducible sums
            .to_pyarrow()
        )
        online = exposure.select("worker_id").distinct().mutate(_online=ibis.literal(True))
        flagged = acts.left_join(online, "worker_id")
        never = flagged._online.isnull()
        tally = (
            flagged.aggregate(
                n_actions=flagged.count(),
                n_never=never.cast("int64").sum(),
                workers_all=flagged.worker_id.nunique(),
                workers_never=flagged.worker_id.nunique(where=never),
            )
            .execute()
            .iloc[0]
        )
        n_actions, n_never, workers_all, workers_never = (
            int(tally[key] or 0) for key in ("n_actions", "n_never", "workers_all", "workers_never")
        )
        k = context.config.report.min_cell_workers
        counts_note = {
            "actions": left_out(n_actions, workers_all, k),
            "actions_of_workers_never_online": left_out(n_never, workers_never, k),
        }
        outside_words = (
            f" Not counted: {left_out_words(n_never, workers_never, k, 'actions')} of workers "
            "never online in the package."
            if n_never
            else ""
        )
        code = cells["code"].to_numpy().astype(np.int64)
        week = cells["week_start"].to_numpy().astype("datetime64[D]").astype(np.int64)
        stratum = strata(week - week.min() if len(week) else week, people.legitimate_codes()[code])
        hours = cells["hours"].to_numpy().astype(np.float64)
        events = cells["actions"].to_numpy().astype(np.float64)
        size = people.size
        ev_of = np.bincount(code, weights=events, minlength=size)
        hr_of = np.bincount(code, weights=hours, minlength=size)
        appeals = _appeal_cells(acts, people, has_appeals)

        def one(attribute: str) -> list[Finding | Confirmatory]:
            labels = people.labels(attribute)
            rate_spec = Comparison(
                check=self.id,
                title=self.title,
                metric="action_rate_ratio",
                attribute=attribute,
                unit="workers",
                phrase=lambda g, r, x: (
                    f"{attribute}={g} workers were suspended or deactivated {x:.3f} times as "
                    f"often per online hour as {attribute}={r} workers (same week"
                    f"{same_words(people, ', same ')})"
                ),
                raw=group_rates(labels, ev_of, hr_of),
                extra=lambda g, keep, t, e: dict(counts_note),
                noun="actions",
                note=outside_words,
                impact=Impact("selection_rate", ev_of, hr_of, higher_is_better=False),
            )
            method = "poisson_fe_week"
            out = compare_groups(
                context, rate_spec, labels, hr_of > 0,
                ratio_estimator(events, hours, stratum, code, method=method, counts=True),
                lambda keep: int(ev_of[keep].sum()),
            )  # fmt: skip
            if appeals is not None:
                a_code, a_kind, a_reviewed, a_reinstated = appeals
                rev_of = np.bincount(a_code, weights=a_reviewed, minlength=size)
                rein_of = np.bincount(a_code, weights=a_reinstated, minlength=size)
                appeal_spec = Comparison(
                    check=self.id,
                    title=self.title,
                    metric="reinstatement_ratio",
                    attribute=attribute,
                    unit="workers",
                    phrase=lambda g, r, x: (
                        f"Reviewed appeals of {attribute}={g} workers reinstated them {x:.3f} "
                        f"times as often as those of {attribute}={r} workers (same kind of "
                        f"action{same_words(people, ', same ')})"
                    ),
                    raw=group_rates(labels, rein_of, rev_of),
                    extra=lambda g, keep, t, e: {"appeals": int(rev_of[keep].sum())},
                    noun="appeals",
                    impact=Impact("selection_rate", rein_of, rev_of),
                )
                method = "poisson_fe_action_appeals"
                out += compare_groups(
                    context, appeal_spec, labels, rev_of > 0,
                    ratio_estimator(
                        a_reinstated, a_reviewed, a_kind, a_code, method=method, counts=True
                    ),
                    lambda keep: int(rev_of[keep].sum()),
                )  # fmt: skip
            return out

        return attributes_findings(context, self.id, self.title, one)


def _appeal_cells(
    acts: ibis.Table, people: Roster, has_appeals: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Per worker and kind of action: reviewed appeals and those that reinstated the worker
    (code, stratum, reviewed, reinstated); None without appeals and outcomes."""
    if not has_appeals:
        return None
    # A review whose outcome is pending or not recorded has not decided the appeal yet.
    decided = acts.outcome.isin(list(DECIDED_OUTCOMES))
    reviewed = acts.filter(acts.appealed_at.notnull() & acts.reviewed_at.notnull() & decided)
    per = (
        reviewed.group_by(["worker_id", "action"])
        .aggregate(
            reviewed=ibis._.count(),
            reinstated=(ibis._.outcome == "reversed").cast("int64").sum(),
        )
        .mutate(kind=(ibis._.action == ACTIONS_COMPARED[1]).cast("int64"))
        .inner_join(people.table, "worker_id")
        .order_by(["code", "action"])
        .to_pyarrow()
    )
    if per.num_rows == 0:
        return None  # no decided appeal: nothing to compare
    code = per["code"].to_numpy().astype(np.int64)
    kind = per["kind"].to_numpy().astype(np.int64)  # index into ACTIONS_COMPARED
    return (
        code,
        strata(kind, people.legitimate_codes()[code]),
        per["reviewed"].to_numpy().astype(np.float64),
        per["reinstated"].to_numpy().astype(np.float64),
    )


def _in_online_weeks(acts: ibis.Table, exposure: ibis.Table) -> ibis.Table:
    """Each action placed in a week its worker was online: the week it took effect or the
    latest online week before it (a worker deactivated, or suspended in a platform-wide
    sweep, is not online that week), else the first online week after it. Actions of
    workers never online are dropped (and counted by the caller). Placing an action only
    where its week has online time would drop, for a group that works late in the week,
    the actions taken before it went online: a false gap."""
    acts = acts.select("_row", "worker_id", act_week=acts.week_start)
    joined = acts.inner_join(exposure.select("worker_id", "week_start"), "worker_id")
    per = joined.group_by(["_row", "worker_id"]).aggregate(
        before=joined.week_start.max(where=joined.week_start <= joined.act_week),
        after=joined.week_start.min(where=joined.week_start > joined.act_week),
    )
    return per.select("worker_id", week_start=per.before.fill_null(per.after))
