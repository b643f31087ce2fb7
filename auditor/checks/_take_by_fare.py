"""FEE-09: does the platform's take rate rise or fall with the fare?

A platform that declares one commission rate takes the same share of a short fare as of a
long one. A take that is higher on small fares (regressive: a fixed fee hidden in the rate,
or tips that replace pay) or targeted at some fares breaks that promise even where the
average matches it.

Per completed order with a positive fare base, the take rate (``[fees] take_rate_basis``)
is regressed on log2 of the fare base within strata of comparable work (service, pickup
zone, local date and hour, and the worker's ``[fairness] legitimate_attributes``) and
within worker (``auditor.stats._slope``, worker fixed effects: a worker tier with its own
rate that works longer trips is not read as a slope). The **slope** is the change in the
take rate (a fraction) per doubling of the fare. Inference is by worker (cluster-robust,
effective workers as degrees of freedom).

- Where the fee_schedule declares a ``commission_rate`` in force for the orders, the take
  is judged against it (only those orders are used): ``fail`` when the minimum-effect test
  of "the take falls by at most ``[fees] take_rate_slope_materiality`` per doubling"
  rejects after the audit's Holm correction (a regressive take: small fares pay a larger
  share); ``pass`` when the ``1 - 2 alpha`` interval lies within the band either way;
  otherwise ``inconclusive``. A progressive take (large fares pay more) is reported, not
  failed: a floor on pay, or coupons the platform funds, do that and harm no worker.
- Without a declared rate, the slope is reported, not judged: ``pass`` when its
  ``1 - 2 alpha`` interval lies within the band, otherwise ``inconclusive``, never
  ``fail``.

Reported beside the slope: the order-weighted mean take rate (what a typical order pays)
against the fare-weighted one (total take over total fare), whose difference a regressive
take makes positive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
from ibis.expr.types import Table

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
from auditor.checks._fee_schedule import declared_in_force
from auditor.checks._groups import roster
from auditor.checks._registry import register
from auditor.checks._slope_cells import slope_cells, too_few_workers
from auditor.checks._small_cells import left_out
from auditor.checks._strata import WORK_WORDS
from auditor.engine import exact_sum
from auditor.stats import reported_p
from auditor.stats._slope import Slope, within_slope

__all__ = ["TakeByFare"]

METRIC = "take_rate_slope_per_doubling"
_NULL_KEY = "\u2400"  # a missing service or zone in null-safe joins (as _fees)


def _with_declared_rate(context: CheckContext, units: Table) -> tuple[Table, Table, bool]:
    """``units`` split into those with a declared ``commission_rate`` in force and those
    without, where the fee_schedule declares one for any (else all are kept); and whether
    it does."""
    tables = context.package.tables
    none = units.filter(ibis.literal(False))
    if (
        "fee_schedule" not in tables
        or "commission_rate" not in tables["fee_schedule"].columns_present
    ):
        return units, none, False
    keys = units.select("local_date", "service", "pickup_zone").distinct()
    declared = declared_in_force(context, keys, "commission_rate")
    declared = declared.filter(declared.fs_value.notnull())
    if int(declared.count().execute()) == 0:
        return units, none, False
    null_safe = [
        units.local_date == declared.local_date,
        units.service.fill_null(_NULL_KEY) == declared.service.fill_null(_NULL_KEY),
        units.pickup_zone.fill_null(_NULL_KEY) == declared.pickup_zone.fill_null(_NULL_KEY),
    ]
    joined = units.left_join(declared, null_safe)
    found = joined.fs_value.notnull()
    columns = [joined[c] for c in units.columns]
    return joined.filter(found).select(*columns), joined.filter(~found).select(*columns), True


def _left_out(units: Table, k: int) -> int | None:
    """How many ``units`` there are, as a finding may publish it (``_small_cells``)."""
    row = units.aggregate(n=units.count(), workers=units.worker_id.nunique()).to_pyarrow()
    return left_out(int(row["n"][0].as_py() or 0), int(row["workers"][0].as_py() or 0), k)


@register
class TakeByFare:
    """FEE-09: the take rate as a function of the fare (module docstring)."""

    id: ClassVar[str] = "FEE-09"
    title: ClassVar[str] = "The platform takes the same share of small and large fares"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        completed = worker_units(context, people, completed_orders(context, "worker_pay"))
        ok = ((completed.fare_base > 0) & completed.take_rate.notnull()).fill_null(False)
        units, undeclared_units, judged = _with_declared_rate(context, completed.filter(ok))
        k = context.config.report.min_cell_workers
        without_fare = _left_out(completed.filter(~ok), k)
        undeclared = _left_out(undeclared_units, k) if judged else 0
        log_fare = units.fare_base.cast("float64").log2()
        cells, orders, excluded = slope_cells(units, units.take_rate, [log_fare], people)
        alpha = context.config.audit.alpha
        band = context.config.fees.take_rate_slope_materiality
        min_cell = context.config.report.min_cell_workers
        work = WORK_WORDS + same_words(people, ", the same ")
        sums = units.aggregate(
            workers=units.worker_id.nunique(),
            order_mean=units.take_rate.mean(),
            take=exact_sum(units.take_rate * units.fare_base.cast("float64")),
            fare=exact_sum(units.fare_base.cast("float64")),
        ).execute()
        fare = float(sums["fare"].iloc[0] or 0.0)
        order_mean = sums["order_mean"].iloc[0]
        if int(sums["workers"].iloc[0] or 0) < min_cell:  # one worker's rates otherwise
            order_mean, fare = None, 0.0
        data: dict[str, Any] = {
            "judged_against_declared_rate": judged,
            "orders_excluded": left_out(*excluded, k),
            "orders_without_positive_fare": without_fare,
            "orders_without_declared_rate": undeclared,
            "comparable_work": work,
            "interval_level": 1 - alpha,
            "order_weighted_take_rate": None if order_mean is None else float(order_mean),
            "fare_weighted_take_rate": float(sums["take"].iloc[0]) / fare if fare else None,
        }
        undecided = Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            metric=METRIC,
            threshold=band,
            n_orders=orders,
            basis=basis(context, self.id),
            data=data,
        )
        slope = within_slope(cells, by_cluster=True)
        if not slope.estimable:
            detail = (
                "No estimate: fares do not vary within a worker's comparable orders "
                f"({work}), or too few orders remain."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        if slope.df < min_cell:
            detail = too_few_workers(min_cell)
            return [
                dataclasses.replace(
                    undecided,
                    detail=detail,
                    data={
                        **data,
                        "order_weighted_take_rate": None,
                        "fare_weighted_take_rate": None,
                    },
                )
            ]
        return [_outcome(self.id, slope, band, alpha, judged, undecided)]


def _outcome(
    check: str, slope: Slope, band: float, alpha: float, judged: bool, undecided: Finding
) -> Finding | Confirmatory:
    """The finding: confirmatory (resolved after Holm) when judged against a declared rate,
    else a report of the slope that can pass or stay inconclusive. Only a regressive take
    (small fares pay a larger share) can fail; a progressive one is reported (a pay floor,
    or coupons the platform funds, lower the take on small fares and harm no worker)."""
    low, high = slope.interval(1 - alpha)
    p_regressive = slope.p_below(-band)
    equivalent = slope.p_within(band) < alpha
    data = dict(undecided.data) | {
        "se": slope.se,
        "df_effective_workers": slope.df,
        "p_value_no_slope": reported_p(slope.p_zero()),
        "interval_1_minus_2alpha": list(slope.interval(1 - 2 * alpha)),
    }
    order_mean, fare_mean = data["order_weighted_take_rate"], data["fare_weighted_take_rate"]
    means = (
        f" The order-weighted mean take rate is {order_mean:.2%} against {fare_mean:.2%} "
        "weighted by fare."
        if order_mean is not None and fare_mean is not None
        else ""
    )
    direction = "higher" if slope.estimate > 0 else "lower"
    points = f"{band * 100:g} point" + ("" if band == 0.01 else "s")
    measured = (
        f"Within comparable work and the same worker, each doubling of the fare came with a "
        f"take rate {abs(slope.estimate) * 100:.3g} points {direction} ({1 - alpha:.0%} CI "
        f"{low * 100:+.3g} to {high * 100:+.3g} points"
    )

    def finding(
        status: Status, severity: Severity, verdict: str, adj: Adjustment | None
    ) -> Finding:
        tested = ""
        if adj is not None:
            tests = f"{adj.family_size} test" + ("" if adj.family_size == 1 else "s")
            tested = (
                f"; test of a take falling by more than {points} per doubling p = "
                f"{reported_p(p_regressive):.2g}, Holm-adjusted over {tests} p = "
                f"{reported_p(adj.p_adjusted):.2g}"
            )
        return dataclasses.replace(
            undecided,
            status=status,
            severity=severity,
            estimate=slope.estimate,
            ci=(low, high),
            p_value=reported_p(p_regressive),
            p_adjusted=None if adj is None else reported_p(adj.p_adjusted),
            n_workers=slope.clusters,
            detail=measured + tested + "). " + verdict + means,
            data=data,
        )

    progressive = low > band
    if not judged:
        if equivalent:
            verdict = (
                f"The take is flat in the fare within {points} per doubling; no commission "
                "rate is declared for these orders, so it is reported, not judged."
            )
            return finding(Status.PASS, Severity.INFO, verdict, None)
        verdict = (
            "No commission rate is declared for these orders in fee_schedule, so the slope "
            "is reported, not judged."
        )
        return finding(Status.INCONCLUSIVE, Severity.INFO, verdict, None)

    def resolve(adj: Adjustment) -> Finding:
        if adj.p_adjusted < alpha:
            verdict = (
                f"The take falls with the fare by more than {points} per doubling, against "
                "the flat rate declared: small fares pay a larger share."
            )
            severity = Severity.HIGH if high < -band else Severity.MEDIUM
            return finding(Status.FAIL, severity, verdict, adj)
        if equivalent:
            verdict = (
                f"The take is flat in the fare within {points} per doubling (its level "
                "against the declared rate is FEE-01's and FEE-02's question)."
            )
            return finding(Status.PASS, Severity.INFO, verdict, adj)
        if progressive:
            verdict = (
                "Large fares pay a larger share than small ones: a floor on pay, or coupons "
                "the platform funds, do this without harming a worker; reported, not failed."
            )
            return finding(Status.INCONCLUSIVE, Severity.INFO, verdict, adj)
        verdict = "The data cannot decide whether the take departs from the declared flat rate."
        return finding(Status.INCONCLUSIVE, Severity.INFO, verdict, adj)

    return Confirmatory(check=check, p_value=p_regressive, resolve=resolve, metric=METRIC)
