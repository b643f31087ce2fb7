"""FEE-07: does the platform lower its own pay when a customer tips?

Per completed order, the worker's pay from the platform (``worker_pay``: tips and incentives
excluded) is regressed on the order's ``tip`` (missing: 0) within strata of comparable work
(service, pickup zone, local date and hour, and the worker's ``[fairness]
legitimate_attributes``, as PAY-02) *and within worker* (worker fixed effects: the same
worker's tipped and untipped orders), with the **fare base** and the trip terms
(``_covariates``: logs of distance and trip time, their squares and product) as linear
controls. The slope is the change in base pay per unit of tip at the same fare; the
**offset** is minus the slope, the share of each tip the platform takes back out of its own
pay: 0 when tips are added to pay, 1 when they replace it. Inference is by worker
(``auditor.stats._slope``: CR2, effective workers as degrees of freedom).

Why these controls. Within worker, because customers may tip some workers more than others
for reasons of their own (those they see paid least): across workers that alone reads as an
offset (``simulate._slope_worlds``: a false fail in 37 % of such worlds without the worker
effects, none with them). At the same fare, because what moves price and pay together
(surge within the hour, pay for waiting at a restaurant) also moves tipping: customers tip
less when the price surges, which without the fare reads as an offset. An offset keeps the
fare and lowers the worker's share of it, so the fare does not absorb it. Tips above the
99th percentile of the tips given count at it, so that one outsized tip cannot decide the
slope.

What it cannot see: an offset spread over a worker's orders whether tipped or not (a weekly
claw-back of tips) leaves no slope within the worker; the pass sentence says so.

- ``fail``: the minimum-effect test of "the offset is at most ``[fees]
  tip_offset_materiality``" rejects after the audit's Holm correction (the ``1 - alpha``
  interval lies wholly above the materiality): evidence that more than that share of each
  tip is taken back;
- ``pass``: the upper end of the ``1 - 2 alpha`` interval lies below the materiality;
- otherwise ``inconclusive``.

What the offset cost workers is estimated as the offset times the (capped) tips of the
orders compared (``data.base_pay_offset``, with its interval). Orders missing
``worker_pay``, the fare, or a trip covariate in use, are counted and left out. Fewer than
``[report] min_cell_workers`` effective workers carrying the estimate make it
inconclusive, with no number published.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np

from auditor.checks._base import (
    Adjustment,
    CheckContext,
    Confirmatory,
    Finding,
    Needs,
    Severity,
    Status,
)
from auditor.checks._common import basis
from auditor.checks._comparable import completed_orders, same_words, worker_units
from auditor.checks._covariates import covariate_terms, order_covariates, term_names
from auditor.checks._groups import roster
from auditor.checks._registry import register
from auditor.checks._slope_cells import slope_cells, too_few_workers
from auditor.checks._small_cells import left_out
from auditor.checks._strata import WORK_WORDS
from auditor.stats import reported_p
from auditor.stats._slope import Slope, SlopeCells, within_slope

__all__ = ["TipOffset", "tip_cells"]

METRIC = "tip_offset"

TIP_CAP_QUANTILE = 0.99
"""Tips above this quantile of the tips given count at it."""


def tip_cells(
    context: CheckContext,
) -> tuple[SlopeCells, int, tuple[int, int], tuple[str, ...]]:
    """Per cell of one worker in one stratum of comparable work: the sums the slope of pay on
    tip needs (x = tip, then the trip terms); with the orders kept, the orders left out (with
    their distinct workers) and the controls' names."""
    people = roster(context)
    units = worker_units(context, people, completed_orders(context, "worker_pay"))
    used = order_covariates(context)
    names = term_names(used)
    terms = covariate_terms(units, used)
    tip = units.tip.fill_null(0)
    # One outsized tip must not decide the slope: tips above the 99th percentile of the
    # tips given count at it (a scalar subquery: no value of the package enters the SQL).
    cap = units.filter(units.tip > 0).tip.quantile(TIP_CAP_QUANTILE).as_scalar()
    capped = ibis.least(tip, cap.fill_null(0))
    fare = units.fare_base.cast("float64")
    xs = [capped, fare, *(terms[t] for t in names)]
    cells, kept, excluded = slope_cells(units, units.y, xs, people)
    return cells, kept, excluded, ("fare_base", *names)


@register
class TipOffset:
    """FEE-07: tips offset the platform's own pay (module docstring)."""

    id: ClassVar[str] = "FEE-07"
    title: ClassVar[str] = "Tips are added to the platform's pay, not taken out of it"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.tip",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        cells, orders, excluded, names = tip_cells(context)
        alpha = context.config.audit.alpha
        materiality = context.config.fees.tip_offset_materiality
        min_cell = context.config.report.min_cell_workers
        people = roster(context)
        work = (
            WORK_WORDS
            + same_words(people, ", the same ")
            + ("; " + ", ".join(names) if names else "")
        )
        tipped = cells.sx[:, 0] > 0 if len(cells.n) else np.zeros(0, bool)
        tips = float(cells.sx[:, 0].sum()) if len(cells.n) else 0.0
        tipped_workers = int(np.count_nonzero(np.bincount(cells.cluster[tipped], minlength=1)))
        data_common: dict[str, Any] = {
            "orders_excluded": left_out(*excluded, min_cell),
            "comparable_work": work,
            "interval_level": 1 - alpha,
        }
        undecided = Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            metric=METRIC,
            threshold=materiality,
            n_orders=orders,
            basis=basis(context, self.id),
            data=data_common,
        )
        if not tipped_workers:
            detail = "No estimate: no order compared was tipped."
            return [dataclasses.replace(undecided, detail=detail)]
        slope = within_slope(cells, by_cluster=True)
        if not slope.estimable:
            detail = (
                "No estimate: too few tipped orders vary within a worker's comparable work "
                f"({work}) to measure how base pay moves with the tip."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        if slope.df < min_cell:
            detail = too_few_workers(min_cell)
            return [dataclasses.replace(undecided, detail=detail)]
        return [_confirmatory(self, context, slope, tips, materiality, alpha, undecided)]


def _confirmatory(
    check: TipOffset,
    context: CheckContext,
    slope: Slope,
    tips: float,
    materiality: float,
    alpha: float,
    undecided: Finding,
) -> Confirmatory:
    """The minimum-effect test of the offset, resolved after the family's correction."""
    offset = -slope.estimate
    low, high = (-b for b in reversed(slope.interval(1 - alpha)))
    upper_eq = -slope.interval(1 - 2 * alpha)[0]
    p_beyond = slope.p_below(-materiality)  # slope below -m: offset above m
    currency = context.config.audit.currency
    data = dict(undecided.data) | {
        "slope_per_unit_tip": slope.estimate,
        "se": slope.se,
        "df_effective_workers": slope.df,
        "upper_bound_1_minus_2alpha": upper_eq,
        "p_value_no_offset": reported_p(slope.p_zero()),
        "tips": tips,
        "base_pay_offset": offset * tips,
        "base_pay_offset_ci": [low * tips, high * tips],
    }

    def resolve(adj: Adjustment) -> Finding:
        if adj.p_adjusted < alpha:
            status = Status.FAIL
            severity = Severity.HIGH if low > materiality else Severity.MEDIUM
            verdict = (
                f"More than {materiality:.0%} of each tip is taken back out of base pay: "
                f"about {offset * tips:,.2f} {currency} of the {tips:,.2f} {currency} "
                "customers tipped (tips above the 99th percentile counted at it) went to "
                "lowering the platform's own pay."
            )
        elif upper_eq < materiality:
            status, severity = Status.PASS, Severity.INFO
            verdict = (
                f"Within each worker's comparable orders at the same fare, base pay does not "
                f"fall with the tip by more than {materiality:.0%} of it (an offset spread "
                "over a worker's orders whether tipped or not would not show here)."
            )
        else:
            status, severity = Status.INCONCLUSIVE, Severity.INFO
            verdict = "The data cannot decide whether tips offset a material share of base pay."
        p_show = reported_p(p_beyond)
        detail = (
            f"For comparable work at the same fare, each unit of tip came with "
            f"{slope.estimate:+.3f} units of base pay: an offset of {offset:.3f} "
            f"({1 - alpha:.0%} CI {low:.3f} to {high:.3f}; test of an offset beyond "
            f"{materiality:.0%} p = {p_show:.2g}, Holm-adjusted over {adj.family_size} "
            f"test{'s' if adj.family_size != 1 else ''} p = "
            f"{reported_p(adj.p_adjusted):.2g}). {verdict}"
        )
        return dataclasses.replace(
            undecided,
            status=status,
            severity=severity,
            estimate=offset,
            ci=(low, high),
            p_value=p_show,
            p_adjusted=reported_p(adj.p_adjusted),
            n_workers=slope.clusters,
            detail=detail,
            data=data,
        )

    return Confirmatory(check=check.id, p_value=p_beyond, resolve=resolve, metric=METRIC)
