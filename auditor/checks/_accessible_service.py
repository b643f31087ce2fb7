"""SVC-01: are customers who ask for a wheelchair-accessible vehicle served as quickly as
other customers, at the same place and time?

New York's rules require for-hire services to give customers who request a wheelchair-
accessible vehicle (WAV) service equivalent to other customers'. A request is a completed
order with ``accessible_requested`` recorded; its **wait** is ``requested_at`` to
``pickup_at``, in minutes; a request picked up more than an hour after it was made was
booked ahead (a scheduled trip), not waiting, and is left out and counted. Waits are
compared within the work strata of every group check
(service, pickup zone, local date and hour: ``_strata``), as a ratio of mean waits of
accessible requests to other requests: the Poisson pseudo-likelihood with stratum fixed
effects (``auditor.stats.poisson_effect``, consistent for a ratio of means whatever the
waits' distribution), with each stratum's accessible requests and its other requests as a
cluster each (customers are not identified; requests at one place and hour share traffic
and supply), CR2 standard errors with Bell-McCaffrey degrees of freedom.

The test is one-sided: only longer waits for accessible requests are a breach. ``fail``
needs evidence that the ratio lies above the materiality band (``[fairness] materiality``:
1 / (1 - m)) after the audit-wide Holm correction: the minimum-effect p is twice the
one-sided p at the band's edge, so it is below alpha exactly when the ``1 - alpha``
interval lies above the band. ``pass`` when the ``1 - 2 alpha`` interval's upper end is
inside the band (no material excess wait); otherwise ``inconclusive``.

Also reported, descriptively: the share of accessible requests an accessible vehicle
served (``accessible_vehicle``). Records of completed trips (the TLC's) hold no request
that was never served, so neither number sees those.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import numpy as np
from numpy.typing import NDArray

from auditor.checks._base import Adjustment, CheckContext, Confirmatory, Finding, Needs
from auditor.checks._common import basis
from auditor.checks._registry import register
from auditor.checks._strata import WORK_WORDS
from auditor.engine import instant_seconds
from auditor.findings import Severity, Status
from auditor.stats import (
    GroupEffect,
    RateCells,
    Wald,
    compact,
    decide_one_sided,
    one_sided_p,
    poisson_effect,
)
from auditor.stats._effect import reported_p

__all__ = ["AccessibleService", "WaitCells", "p_above", "wait_edge", "wait_effect"]

_METHOD = "ppml_within_strata_cell_clusters"

SCHEDULED_AFTER_MINUTES = 60
"""A request picked up more than this long after it was made is taken as booked ahead (a
scheduled trip), not as a wait: left out and counted (``data.scheduled_left_out``)."""


@dataclass(frozen=True, slots=True)
class WaitCells:
    """Requests per stratum and side: ``stratum`` code, ``accessible`` side, ``requests``
    and the sum of their waits in minutes (one row per stratum and side)."""

    stratum: NDArray[np.int64]
    accessible: NDArray[np.bool_]
    requests: NDArray[np.float64]
    wait_minutes: NDArray[np.float64]


def wait_effect(cells: WaitCells) -> GroupEffect:
    """The ratio of mean waits of accessible requests to other requests within strata,
    each (stratum, side) cell a cluster (module docstring)."""
    stratum = compact(cells.stratum)
    cluster = np.arange(len(stratum), dtype=np.int64)
    order = np.lexsort((cluster, stratum))
    rate = RateCells(
        cells.wait_minutes[order], cells.requests[order], stratum[order], cluster[order],
        len(cluster),
    )  # fmt: skip
    treat = cells.accessible[order]
    return poisson_effect(rate, method=_METHOD, treat_of_cell=treat)


def wait_edge(materiality: float) -> float:
    """The wait ratio above which accessible requests wait materially longer."""
    return 1.0 / (1.0 - materiality)


def p_above(test: Wald, materiality: float) -> float:
    """The minimum-effect p: twice the one-sided p of "the ratio is at most the edge"."""
    return one_sided_p(test, wait_edge(materiality), "above")


@register
class AccessibleService:
    """SVC-01: waits of wheelchair-accessible requests against other requests."""

    id: ClassVar[str] = "SVC-01"
    title: ClassVar[str] = (
        "Customers asking for a wheelchair-accessible vehicle wait no longer than others"
    )
    needs: ClassVar[Needs] = Needs(
        tables=("orders",),
        columns=("orders.accessible_requested", "orders.requested_at", "orders.pickup_at"),
        workers=False,
    )

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        o = context.rebuilt.orders
        has_vehicle = "accessible_vehicle" in context.package.tables["orders"].columns_present
        done = o.filter(
            o.completed
            & o.accessible_requested.notnull()
            & o.requested_at.notnull()
            & o.pickup_at.notnull()
        )
        # Whole seconds, summed exactly: the same cells on every run and engine.
        wait = (instant_seconds(done.pickup_at) - instant_seconds(done.requested_at)).round()
        scheduled = wait > SCHEDULED_AFTER_MINUTES * 60
        served = done.accessible_vehicle.fill_null(False) if has_vehicle else ibis.literal(False)
        keys = [done[k].name(k) for k in ("service", "pickup_zone", "local_date", "local_hour")]
        per = (
            done.group_by([*keys, "accessible_requested"])
            .aggregate(
                requests=(~scheduled).cast("int64").sum(),
                wait_seconds=ibis.ifelse(scheduled, 0, wait).cast("int64").sum(),
                served=(served & ~scheduled).cast("int64").sum(),
                scheduled=scheduled.cast("int64").sum(),
            )
            .execute()
        )
        # The work strata (``_strata``: service, zone, local date and hour) of the cells.
        per = per.sort_values(
            ["service", "pickup_zone", "local_date", "local_hour", "accessible_requested"],
            na_position="first",
            kind="stable",
        ).reset_index(drop=True)
        per["stratum"] = per.groupby(
            ["service", "pickup_zone", "local_date", "local_hour"], dropna=False, sort=False
        ).ngroup()
        per["service"] = per["service"].fillna("")
        out: list[Finding | Confirmatory] = []
        for service, rows in per.groupby("service", sort=True):
            out.append(self._one(context, str(service), rows, has_vehicle))
        if not out:
            out.append(
                Finding(
                    check=self.id,
                    status=Status.INCONCLUSIVE,
                    title=self.title,
                    detail="No completed request records whether it asked for an accessible "
                    "vehicle, with its request and pickup times.",
                )
            )
        return out

    def _one(
        self, context: CheckContext, service: str, rows: Any, has_vehicle: bool
    ) -> Finding | Confirmatory:
        subject = {"service": service} if service else {}
        rows = rows[rows["requests"] > 0]
        accessible = rows["accessible_requested"].to_numpy(dtype=bool)
        requests = rows["requests"].to_numpy(dtype=np.float64)
        wait = rows["wait_seconds"].to_numpy(dtype=np.float64) / 60.0
        stratum = rows["stratum"].to_numpy(dtype=np.int64)
        n_acc, n_other = int(requests[accessible].sum()), int(requests[~accessible].sum())
        # The requests the comparison rests on: those of strata holding both kinds.
        both = np.intersect1d(stratum[accessible], stratum[~accessible])
        shared = np.isin(stratum, both)
        n_shared = int(requests[accessible & shared].sum())
        served = int(rows["served"].to_numpy()[accessible].sum()) if has_vehicle else None
        data: dict[str, Any] = {
            "method": _METHOD,
            "accessible_requests": n_acc,
            "other_requests": n_other,
            "accessible_requests_compared": n_shared,
            "scheduled_left_out": int(rows["scheduled"].sum()),
            "mean_wait_minutes_accessible": float(wait[accessible].sum() / n_acc)
            if n_acc
            else None,
            "mean_wait_minutes_other": float(wait[~accessible].sum() / n_other)
            if n_other
            else None,
            "accessible_served_by_accessible_vehicle": served,
            "accessible_served_share": served / n_acc if served is not None and n_acc else None,
        }
        k = context.config.report.min_cell_workers
        few = n_shared < k
        effect = None if few else wait_effect(
            WaitCells(rows["stratum"].to_numpy(dtype=np.int64), accessible, requests, wait)
        )  # fmt: skip
        test = effect.inference if effect is not None else None
        if not isinstance(test, Wald) or not math.isfinite(test.se) or test.se <= 0:
            why = (
                "no request for an accessible vehicle"
                if n_acc == 0
                else f"fewer than {k} accessible requests share a stratum ({WORK_WORDS}) "
                "with other requests ([report] min_cell_workers)"
                if few
                else "in the strata both share, one side's waits are all zero (picked up as "
                "requested), so no ratio of mean waits can be formed"
                if test is not None
                else f"no stratum ({WORK_WORDS}) holds both accessible and other requests "
                "with waits that vary"
            )
            return Finding(
                check=self.id,
                status=Status.INCONCLUSIVE,
                title=self.title,
                subject=subject,
                metric="wait_ratio",
                detail=f"No estimate: {why}. {n_acc:,} accessible and {n_other:,} other requests.",
                basis=basis(context, self.id),
                data=data if not few else {**data, "mean_wait_minutes_accessible": None},
            )
        return Confirmatory(
            check=self.id,
            p_value=p_above(test, context.config.fairness.materiality),
            resolve=self._resolver(context, subject, effect, test, data),  # type: ignore[arg-type]
            subject=subject,
            metric="wait_ratio",
        )

    def _resolver(
        self,
        context: CheckContext,
        subject: dict[str, str],
        effect: GroupEffect,
        test: Wald,
        data: dict[str, Any],
    ) -> Any:
        alpha = context.config.audit.alpha
        materiality = context.config.fairness.materiality

        def resolve(adj: Adjustment) -> Finding:
            verdict = decide_one_sided(
                test, adj.p_adjusted, alpha=alpha, edge=wait_edge(materiality), breach="above"
            )
            status = Status(verdict.verdict.value)  # the same three outcomes
            ratio = math.exp(test.log_effect)
            lo, hi = test.interval(1 - alpha)
            shown = {
                **data,
                "interval_level": 1 - alpha,
                "log_ratio": test.log_effect,
                "se_log_ratio": test.se,
                "df": test.df,
                "p_value_no_gap": reported_p(test.p_no_gap()),
                "p_within_band": reported_p(verdict.p_within),
                "materiality": materiality,
                "clear_of_band": verdict.clear,
                "cells_accessible": effect.n_clusters_group,
                "cells_other": effect.n_clusters_reference,
            }
            words = {
                Status.FAIL: "longer than the materiality band allows, after the audit's "
                "multiple-testing correction",
                Status.PASS: "no longer than the materiality band allows",
                Status.INCONCLUSIVE: "the data cannot tell whether the excess, if any, is material",
            }[status]
            share = data["accessible_served_share"]
            served = (
                f" {share:.1%} of accessible requests were served by an accessible vehicle."
                if share is not None
                else ""
            )
            detail = (
                f"Accessible-vehicle requests waited {ratio:.3f} times as long as other "
                f"requests to be picked up ({WORK_WORDS}; ratio of mean waits; "
                f"{1 - alpha:.0%} CI {lo:.3f} to {hi:.3f}): {words}.{served} Only completed "
                "trips are recorded: requests never served are not counted."
                + (
                    f" {data['scheduled_left_out']:,} requests picked up more than "
                    f"{SCHEDULED_AFTER_MINUTES} minutes after they were made are taken as booked "
                    "ahead and left out."
                    if data["scheduled_left_out"]
                    else ""
                )
            )
            return Finding(
                check=self.id,
                status=status,
                severity=(
                    (Severity.HIGH if verdict.clear else Severity.MEDIUM)
                    if status == Status.FAIL
                    else Severity.INFO
                ),
                title=self.title,
                metric="wait_ratio",
                estimate=ratio,
                ci=(lo, hi),
                p_value=reported_p(verdict.p_beyond),
                p_adjusted=reported_p(adj.p_adjusted),
                threshold=1 / (1 - materiality),
                subject=subject,
                n_orders=data["accessible_requests"] + data["other_requests"],
                detail=detail,
                basis=basis(context, self.id),
                data=shown,
            )

        return resolve
