"""PAY-04: is work on statutory holidays paid more than the same work on other days?

China's guide on the rest and pay of workers in new forms of employment (人社厅发〔2023〕50号)
asks that work on statutory holidays be paid more than normal working time. A rule pack's
``[holidays]`` lists the holidays and the pay counted (``worker_pay`` and ``incentive`` by
default: a holiday bonus is pay).

**What is compared.** A worker's completed orders on holidays against *the same worker's*
orders of the same kind (service, pickup zone, day type and hour: ``_strata``) on other
days, as a ratio of mean pay for the same work (the Poisson pseudo-likelihood with the trip
terms as an offset, ``_money``, and a fixed effect per worker and kind): what a worker earns
on a holiday is set against what they earn for the same work otherwise, so workers who
choose to work holidays, or are paid more anyway, cannot make a premium appear or vanish.

**Inference by date.** Whether a day is a holiday is a property of the date, and pay moves
by date for everyone (weather, demand, promotions): each date is a cluster (CR2 with
Bell-McCaffrey degrees of freedom), so a month with three holidays is judged on three dates'
worth of evidence, not on their thousands of orders.

**Verdict**, one-sided: the rule asks for a ratio of at least ``R`` = 1 + the pack's
``min_premium``, or, where the rule names no number, 1 + ``[earnings]
holiday_premium_materiality`` (a premium smaller than that is not paying more). ``fail``
when the ``1 - alpha`` interval lies wholly below ``R`` (evidence of a shortfall) after the
audit-wide Holm correction; ``pass`` when the ``1 - 2 alpha`` interval lies wholly at or above
it; otherwise ``inconclusive``. Orders on dates within the package's span only: a pack's
holidays outside it play no part.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np

from auditor.checks._base import Adjustment, CheckContext, Confirmatory, Finding, Needs, Status
from auditor.checks._covariates import order_covariates
from auditor.checks._money import MoneyCells, money_cells
from auditor.checks._registry import register
from auditor.checks._rule_packs import no_pack, pack_basis, packs_with
from auditor.checks._strata import work_strata
from auditor.findings import Severity
from auditor.rules import RulePack
from auditor.stats import (
    GroupEffect,
    RateCells,
    Wald,
    decide_one_sided,
    one_sided_p,
    poisson_effect,
)
from auditor.stats._effect import reported_p

__all__ = ["HolidayPay", "holiday_effect", "required_ratio"]

_METHOD = "ppml_within_worker_kind_trip_offset_by_date"
KIND_WORDS = "the same worker, service, zone, day type and hour"
_TERM_WORDS = {"distance_km": "distance", "trip_minutes": "trip time"}
"""Trip covariates and how a finding names them."""


def required_ratio(pack: RulePack, materiality: float) -> float:
    """The ratio of holiday to other-day pay the rule asks for (module docstring)."""
    assert pack.holidays is not None
    premium = pack.holidays.min_premium
    return 1.0 + (premium if premium > 0 else materiality)


def holiday_effect(cells: RateCells, holiday_of_date: np.ndarray) -> GroupEffect:
    """The ratio of mean pay on holidays to other days for the same work: ``cells`` of one
    date (the cluster) in one stratum of one worker's orders of one kind, money over what
    the work pays."""
    return poisson_effect(cells, np.asarray(holiday_of_date, dtype=bool), method=_METHOD)


@register
class HolidayPay:
    """PAY-04: pay for the same work on statutory holidays against other days."""

    id: ClassVar[str] = "PAY-04"
    title: ClassVar[str] = "Work on statutory holidays is paid more than the same work otherwise"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        packs = packs_with(context, "holidays")
        if not packs:
            return [no_pack(self.id, self.title, "a holiday calendar", "cn-2023-rest-and-pay")]
        return [self._apply(context, pack) for pack in packs]

    def _apply(self, context: CheckContext, pack: RulePack) -> Finding | Confirmatory:
        rule = pack.holidays
        assert rule is not None
        subject = {"rule": pack.name}
        present = context.package.tables["orders"].columns_present
        missing = tuple(f"orders.{c}" for c in rule.pay if c != "worker_pay" and c not in present)
        o = work_strata(context).orders
        o = o.filter(o.completed)
        # The pack's pay columns; one the package lacks counts 0, as the contract's defaults.
        pay: Any = ibis.literal(0.0)
        for column in rule.pay:
            if f"orders.{column}" not in missing:
                pay = pay + o[column].fill_null(0).cast("float64")
        span = o.aggregate(first=o.local_date.min(), last=o.local_date.max()).execute().iloc[0]
        first, last = span["first"], span["last"]
        if first is None or (isinstance(first, float) and math.isnan(first)):
            return self._undecided(context, pack, "The package has no completed order.", {})
        first, last = _day(first), _day(last)
        dates = [d for d in rule.dates if first <= d <= last]
        base: dict[str, Any] = {
            "rule": pack.to_dict(),
            "pay_counted": [c for c in rule.pay if f"orders.{c}" not in missing],
            "holidays_in_span": [d.isoformat() for d in dates],
            "required_ratio": required_ratio(pack, _materiality(context)),
        }
        if not dates:
            return self._undecided(
                context, pack,
                f"None of the pack's {len(rule.dates)} holidays falls between {first} and "
                f"{last}, the package's dates.", base,
            )  # fmt: skip
        units = o.mutate(
            y=pay,
            distance_km=o.distance_km.cast("float64"),
            _day=(o.local_date.epoch_seconds() // 86400).cast("int64"),
            stratum=ibis.dense_rank().over(order_by=[o.worker_id, o.kind]).cast("int64"),
        )
        day0 = (first - dt.date(1970, 1, 1)).days
        units = units.mutate(_day=units._day - day0)
        cells = money_cells(
            units, "_day", order_covariates(context), gamma_by=("worker_id", "kind"),
            worker="worker_id", cluster_count=(last - first).days + 1,
        )  # fmt: skip
        holiday = np.zeros(cells.n_clusters, dtype=bool)
        for d in dates:
            holiday[(d - first).days] = True
        rate = RateCells(
            cells.money, cells.expected, cells.stratum, cells.cluster, cells.n_clusters,
            offset_gradient=cells.offset_gradient, offset_influence=cells.influence,
        )  # fmt: skip
        effect = holiday_effect(rate, holiday)
        base |= _counts(cells, holiday, _workers_compared(units, dates))
        base["terms"] = list(cells.terms)
        base["pay_missing_counted_as_zero"] = [m.split(".", 1)[1] for m in missing]
        test = effect.inference
        if base["holiday_dates_compared"] < 2:
            # One holiday is one date: its own pay (rain, demand) cannot be told from a
            # premium, and a date-clustered error has nothing to measure it with.
            why = (
                "no worker did the same kind of work both on a holiday and on another day"
                if base["holiday_dates_compared"] == 0
                else "only one holiday has work to compare; one date's pay cannot be told "
                "from that day's own conditions"
            )
            return self._undecided(context, pack, f"No estimate: {why}.", base)
        if not isinstance(test, Wald) or not math.isfinite(test.se) or test.se <= 0:
            return self._undecided(
                context, pack, "No estimate: pay does not vary within the compared work.", base
            )
        edge = base["required_ratio"]
        return Confirmatory(
            check=self.id,
            p_value=one_sided_p(test, edge, "below"),
            resolve=self._resolver(context, pack, subject, effect, test, base),
            subject=subject,
            metric="holiday_pay_ratio",
        )

    def _undecided(
        self, context: CheckContext, pack: RulePack, why: str, data: dict[str, Any]
    ) -> Finding:
        k = context.config.report.min_cell_workers
        if 0 < data.get("workers_on_holidays", 0) < k:  # counts of fewer than k workers
            data = data | dict.fromkeys(
                ("orders_on_holidays", "orders_on_other_days", "workers_on_holidays")
            )
        return Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            subject={"rule": pack.name},
            metric="holiday_pay_ratio",
            detail=f"Rule pack {pack.name} ({pack.version}): {why}",
            basis=pack_basis(context, self.id, pack),
            data=data or {"rule": pack.to_dict()},
        )

    def _resolver(
        self,
        context: CheckContext,
        pack: RulePack,
        subject: dict[str, str],
        effect: GroupEffect,
        test: Wald,
        base: dict[str, Any],
    ) -> Any:
        alpha = context.config.audit.alpha
        edge = float(base["required_ratio"])
        k = context.config.report.min_cell_workers

        def resolve(adj: Adjustment) -> Finding:
            v = decide_one_sided(test, adj.p_adjusted, alpha=alpha, edge=edge, breach="below")
            ratio = math.exp(test.log_effect)
            lo, hi = test.interval(1 - alpha)
            status = Status(v.verdict.value)  # the same three outcomes
            few = 0 < base["workers_on_holidays"] < k
            data = {
                **base,
                "interval_level": 1 - alpha,
                "log_ratio": test.log_effect,
                "se_log_ratio": test.se,
                "df": test.df,
                "p_value_no_premium": reported_p(one_sided_p(test, 1.0, "below")),
                "p_at_least_required": reported_p(v.p_within),
                "clear_of_required": v.clear,
                "dates_holiday": effect.n_clusters_group,
                "dates_other": effect.n_clusters_reference,
                "suppressed": few,
                "min_cell_workers": k,
            }
            if few:
                data |= dict.fromkeys(
                    ("orders_on_holidays", "orders_on_other_days", "workers_on_holidays",
                     "log_ratio", "se_log_ratio", "df", "p_value_no_premium",
                     "p_at_least_required", "clear_of_required"),
                )  # fmt: skip
            premium = f"{ratio - 1:+.1%}"
            words = {
                Status.FAIL: f"evidence that it falls short of the {edge - 1:.0%} the rule "
                "asks, after the audit's multiple-testing correction",
                Status.PASS: f"evidence of at least the {edge - 1:.0%} the rule asks",
                Status.INCONCLUSIVE: f"the data cannot tell whether it reaches the {edge - 1:.0%} "
                "the rule asks",
            }[status]
            adjusted_for = [
                label for key, label in _TERM_WORDS.items() if any(key in t for t in base["terms"])
            ]
            adjusted = ", adjusted for " + " and ".join(adjusted_for) if adjusted_for else ""
            absent = base["pay_missing_counted_as_zero"]
            counted = (
                f" The package has no {', '.join(absent)} column: counted as 0." if absent else ""
            )
            detail = (
                f"Rule pack {pack.name} ({pack.version}): on {base['holiday_dates_compared']} "
                f"statutory holiday(s) with work to compare, the same work ({KIND_WORDS}"
                f"{adjusted}) paid {ratio:.3f} times what it paid on other days ({premium}; "
                f"{1 - alpha:.0%} CI {lo:.3f} to {hi:.3f}; inferred by date): {words}.{counted}"
            )
            if few:
                detail = (
                    f"Rule pack {pack.name} ({pack.version}): fewer than {k} workers worked on "
                    "the holidays; the estimate is not published ([report] min_cell_workers)."
                )
            return Finding(
                check=self.id,
                status=status,
                # High: holiday work paid less outright; medium: a premium short of R.
                severity=(
                    (Severity.HIGH if hi < 1.0 else Severity.MEDIUM)
                    if status == Status.FAIL
                    else Severity.INFO
                ),
                title=self.title,
                metric="holiday_pay_ratio",
                estimate=None if few else ratio,
                ci=None if few else (lo, hi),
                p_value=None if few else reported_p(v.p_beyond),
                p_adjusted=None if few else reported_p(adj.p_adjusted),
                threshold=edge,
                subject=subject,
                n_workers=None if few else base["workers_on_holidays"],
                n_orders=None if few else base["orders_on_holidays"],
                detail=detail,
                basis=pack_basis(context, self.id, pack),
                data=data,
            )

        return resolve


def _materiality(context: CheckContext) -> float:
    return context.config.earnings.holiday_premium_materiality


def _day(value: Any) -> dt.date:
    return (
        value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        else (value.date() if hasattr(value, "date") else dt.date.fromisoformat(str(value)[:10]))
    )


def _counts(cells: MoneyCells, holiday: np.ndarray, workers: int) -> dict[str, int]:
    """Orders compared (with positive pay and trip terms, in strata of one worker's kind of
    work done both on a holiday and on another day), the holiday dates among them, and the
    workers behind them."""
    on = holiday[cells.cluster]
    both = np.intersect1d(cells.stratum[on], cells.stratum[~on])
    shared = np.isin(cells.stratum, both)
    return {
        "orders_on_holidays": int(cells.n[on & shared].sum()),
        "orders_on_other_days": int(cells.n[~on & shared].sum()),
        "holiday_dates_compared": int(np.unique(cells.cluster[on & shared]).size),
        "workers_on_holidays": workers,
    }


def _workers_compared(units: Any, dates: list[dt.date]) -> int:
    """Workers who did one kind of work both on a holiday and on another day."""
    flag = units.local_date.isin(dates)
    per = units.group_by(["worker_id", "kind"]).aggregate(on=flag.any(), off=(~flag).any())
    both = per.filter(per.on & per.off)
    return int(both.worker_id.nunique().execute() or 0)
