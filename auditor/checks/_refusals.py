"""DSP-04: does the dispatcher send fewer or worse offers after a worker refuses one?

Seattle's and California's rules forbid penalising a worker for refusing offers; a
dispatcher that does so quietly cuts the pay of those who use the right to refuse. DSP-04
compares the offers a worker gets per hour of **free online time** (online, not carrying an
order) in the ``[dispatch] decline_window_minutes`` after a refusal with those in the rest
of their free time (``_refusal_cells``), as a ratio: of offers, and of offered pay, per
free hour.

Like with like, without fitting anything to the offers compared. Each part of a worker's
free time is weighed by what a comparable moment yields:

- the **baseline** of its zone and quarter-hour slot (the date's own minutes, so that
  dates, hours, places and bursts of demand are compared with themselves): the offers per
  free hour of *the other workers* free there and then, leaving out the worker and the
  offers their own refusals sent the others (a refused order goes to someone else next);
- the worker's **level** that day (how much this worker is offered against that baseline:
  vehicle, rating, where they wait), estimated from the *other* clock hours of the same
  day (hours of the other parity): cross-fitted, so the level is never fitted to the very
  offers it weighs.

Summed per worker, these expected amounts are the exposure of the Poisson (pseudo-)
likelihood of ``auditor.stats._poisson`` with no other fitted effect, inferred by worker
(CR2, Bell-McCaffrey degrees of freedom). Fitting each worker's or each cell's level on the
offers compared would be biased: whether a moment follows a refusal depends on earlier
offers, so a worker's (or a cell's) own total and their time after refusals rise together;
with one stratum per worker, zone and quarter hour that reads as a 70 % penalty where there
is none (``simulate._refusal_worlds``, the naive design).

Reported, not judged. In the calibration worlds with no penalty (bursts of demand that
refusals cluster in, workers choosier on their poorer days, long busy spells, a few
dominant workers, sparse zones, refused orders re-offered to others) the ratio's median
lies between 1.06 and 1.20; in packages of the package simulator, where refusals come at
random and nothing follows from them, it ranged from 0.89 to 1.10, moved by how a worker's
own orders come and go around their free time. A ratio from the supply of offers alone
cannot tell those dynamics from a penalty of the same size, so DSP-04 never fails and
never passes: it reports both ratios with their
``1 - alpha`` intervals, and flags a **lead** where the whole interval lies below ``1 -
[dispatch] decline_penalty_materiality`` (0.80), beyond what the dynamics produced. What
would decide it is the dispatcher's candidates for each order: a worker who had just
refused could then be compared with the others considered for the same order. A worker
who refuses because they are about to stop taking work while staying online is offered
less for a reason of their own, and reads as a penalty. Free time with no other worker
free in its zone and slot, or no level that day, is left out (counted). Fewer than
``[report] min_cell_workers`` effective workers carrying the estimate: no number
published.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import numpy as np
import pyarrow as pa
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import (
    CheckContext,
    Finding,
    Needs,
    Status,
)
from auditor.checks._common import basis
from auditor.checks._refusal_cells import SLOT_SECONDS, refusal_cell_table
from auditor.checks._registry import register
from auditor.checks._slope_cells import too_few_workers
from auditor.checks._small_cells import left_out
from auditor.engine import exact_sum
from auditor.stats import GroupEffect, RateCells, Wald, band, poisson_effect
from auditor.stats._dist import t_cdf

__all__ = ["RefusalPenalty", "Support", "p_penalty", "penalty_effect", "worker_sums"]

MIN_BASELINE_HOURS = 5 / 60
"""Least free time of other workers in a zone and slot for it to have a baseline (a few
seconds of it would make one offer look like thousands an hour)."""

LEVEL_PRIOR = 1.0
"""How many of the worker's average day-parities a day's level is shrunk with: the level
of a worker on a day is ``(l_n + k * n_w) / (l_e + k * e_w)``, with ``k = LEVEL_PRIOR`` and
``n_w``, ``e_w`` the worker's mean amount and expectation over their days and parities.
Unshrunk, a day on which the baseline expects almost nothing made a level in the
hundreds: in half of eight 200-worker simulated packages a few workers carried most of
the weight (4 to 40 effective workers); shrunk, 112 to 146 (docs/validation-refusals.md).
Shrinking towards the worker's own level, not towards 1, keeps workers whose offers pay
more than their zone's (cars among bikes) weighed as they are."""

NO_PENALTY_RANGE = (0.92, 1.12)
"""What DSP-04 read with no penalty at all: the medians over the calibration worlds and the
estimates in packages of the package simulator (docs/validation-refusals.md)."""

UNDECIDABLE = (
    "What would decide it: the workers the dispatcher considered for each order (its "
    "candidates), so that a worker who had just refused can be compared with the others "
    "considered for the same order."
)


_SLOTS_PER_DAY = round(86400 / SLOT_SECONDS)
_SLOTS_PER_HOUR = round(3600 / SLOT_SECONDS)


@dataclass(frozen=True, slots=True)
class Support:
    """What the comparison rests on (hours summed over workers).

    Attributes:
        hours_after: free hours after a refusal compared.
        hours_other: other free hours compared.
        hours_without_baseline: free hours in a zone and slot with no other worker free
            there, left out.
        hours_without_level: free hours with a baseline but no level of the worker that
            day (no free time of theirs with a baseline in the day's clock hours of the
            other parity, or no offer to them in the whole period), left out.
    """

    hours_after: float
    hours_other: float
    hours_without_baseline: float
    hours_without_level: float


def worker_sums(cells: Table, *, money: bool, reoffers: bool = True) -> Table:
    """Per worker (``worker_id``), the amounts (offers, or offered pay with ``money``)
    after a refusal and at other times (``count_after``, ``count_other``), what the
    baseline and the worker's level expect of them (``expected_after``,
    ``expected_other``), and the hours behind them (``Support``), from the cells of
    ``_refusal_cells.refusal_cell_table``; all in the engine, sums exact.

    The baseline of a cell is what the other workers free in its zone and slot got per free
    hour, leaving out the cell's worker and, with ``reoffers``, the re-offers of orders the
    worker refused (a refused order goes to someone else next), where the others had at
    least ``MIN_BASELINE_HOURS`` of free time there. The baseline is linear in the others'
    offers, so its noise does not tilt what it weighs; pooling it over a longer span (a
    clock hour) misses the bursts refusals cluster in. The level of a worker on a day (UTC
    calendar) is their amount over the baseline's expectation in the day's clock hours of
    the other parity: fitted on the same day, never on the hours it weighs (a ratio, so a
    noisy level weighs after and other time alike), and shrunk towards the worker's own
    level over the period by ``LEVEL_PRIOR`` of their average days (a day whose baseline
    expects almost nothing would otherwise weigh as much as hundreds of others). That
    prior is a mean over all the worker's days and both parities, so the hours weighed
    enter it, as one day-parity among the worker's many. A slot
    where the other workers got nothing weighs 0, kept with the worker's own offers in it
    (dropping it would keep the slots whose baseline drew high)."""
    after = cells.pay_after if money else cells.offers_after
    other = cells.pay_other if money else cells.offers_other
    caused = (cells.reoffered_pay if money else cells.reoffered) if reoffers else 0.0
    c = cells.mutate(
        an=after,
        on=other,
        n=after + other,
        h=cells.h_after + cells.h_other,
        caused=caused,
        day=cells.slot // _SLOTS_PER_DAY,
        parity=(cells.slot // _SLOTS_PER_HOUR) % 2,
    )
    zs = c.group_by(["zone", "slot"]).aggregate(z_n=exact_sum(c.n), z_h=exact_sum(c.h))
    zs = zs.select(zz=zs.zone, zt=zs.slot, z_n=zs.z_n, z_h=zs.z_h)
    c = c.inner_join(zs, [c.zone == zs.zz, c.slot == zs.zt])
    rest_h = c.z_h - c.h
    based = rest_h >= MIN_BASELINE_HOURS
    mu = ibis.ifelse(based, ibis.greatest(c.z_n - c.n - c.caused, 0.0) / rest_h, 0.0)
    keep = ["worker_id", "h_after", "h_other", "an", "on", "n", "h", "day", "parity"]
    c = c.select(*keep, based=based, mu=mu)
    lv = c.group_by(["worker_id", "day", "parity"]).aggregate(
        l_n=exact_sum(ibis.ifelse(c.based, c.n, 0.0)), l_e=exact_sum(c.mu * c.h)
    )
    # Each day's level is shrunk towards the worker's own over the period (LEVEL_PRIOR).
    wv = lv.group_by("worker_id").aggregate(
        w_n=exact_sum(lv.l_n) / lv.count(), w_e=exact_sum(lv.l_e) / lv.count()
    )
    lv = lv.inner_join(wv, "worker_id")
    lv = lv.select(
        lw=lv.worker_id,
        ld=lv.day,
        lp=lv.parity,
        l_n=lv.l_n + LEVEL_PRIOR * lv.w_n,
        l_e=lv.l_e + LEVEL_PRIOR * lv.w_e,
    )
    c = c.left_join(lv, [c.worker_id == lv.lw, c.day == lv.ld, c.parity == 1 - lv.lp])
    has_level = ((c.l_n > 0) & (c.l_e > 0)).fill_null(False)
    level = ibis.ifelse(has_level, c.l_n / c.l_e, 0.0)
    used = c.based & has_level
    weight = ibis.ifelse(used, level * c.mu, 0.0)
    pick = lambda value: ibis.ifelse(used, value, 0.0)  # noqa: E731
    return c.group_by("worker_id").aggregate(
        count_after=exact_sum(pick(c.an)),
        count_other=exact_sum(pick(c.on)),
        expected_after=exact_sum(weight * c.h_after),
        expected_other=exact_sum(weight * c.h_other),
        hours_after=exact_sum(pick(c.h_after)),
        hours_other=exact_sum(pick(c.h_other)),
        hours_without_baseline=exact_sum(ibis.ifelse(c.based, 0.0, c.h)),
        hours_without_level=exact_sum(ibis.ifelse(c.based & ~has_level, c.h, 0.0)),
    )


def penalty_effect(sums: pa.Table, *, money: bool) -> tuple[GroupEffect, Support]:
    """The ratio after a refusal to other free time from per-worker sums (``worker_sums``,
    one row per worker): the Poisson (pseudo-)likelihood with the expected amounts as
    exposure and no other fitted effect, CR2 by worker."""
    g = sums.num_rows

    def col(name: str) -> NDArray[np.float64]:
        return sums[name].to_numpy().astype(np.float64) if g else np.zeros(0)

    count = np.concatenate([col("count_after"), col("count_other")])
    exposure = np.concatenate([col("expected_after"), col("expected_other")])
    worker = np.tile(np.arange(g, dtype=np.int64), 2)
    rates = RateCells(
        count, exposure, np.zeros(2 * g, np.int64), worker, n_clusters=g, block=worker,
        counts=not money,
    )  # fmt: skip
    after = np.repeat(np.array([True, False]), g)[exposure > 0]
    method = "ppml_offered_pay_after_refusal" if money else "poisson_offers_after_refusal"
    effect = poisson_effect(rates, method=method, treat_of_cell=after)
    support = Support(
        *(float(col(name).sum()) for name in ("hours_after", "hours_other",
                                             "hours_without_baseline", "hours_without_level"))
    )  # fmt: skip
    return effect, support


def p_penalty(effect: GroupEffect, materiality: float) -> float:
    """Minimum-effect test of H0 "the ratio is at least ``1 - materiality``": twice the
    one-sided p, so that p < alpha exactly when the ``1 - alpha`` interval's upper end lies
    below ``1 - materiality`` (a lead). 1 where there were no offers at other times."""
    test = effect.inference
    half = band(materiality)
    if isinstance(test, Wald):
        return float(min(1.0, 2.0 * t_cdf((test.log_effect + half) / test.se, test.df)))
    if test is None or test.log_effect > 0:
        return 1.0
    return float(test.p_beyond(half))


@register
class RefusalPenalty:
    """DSP-04: fewer or worse offers after a refusal (module docstring)."""

    id: ClassVar[str] = "DSP-04"
    title: ClassVar[str] = "Refusing an offer is not followed by fewer or worse offers"
    needs: ClassVar[Needs] = Needs(tables=("offers", "sessions", "orders"))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        offers = context.package.tables["offers"]
        priced = "offered_pay" in offers.columns_present
        window = context.config.dispatch.decline_window_minutes
        cells, counts = refusal_cell_table(
            context.engine,
            offers.table,
            context.rebuilt.sessions,
            window * 60.0,
            priced=priced,
            orders=context.package.tables["orders"].table,
        )
        k = context.config.report.min_cell_workers

        def shown(name: str) -> int | None:
            return left_out(*counts[name], k)

        data: dict[str, Any] = {
            "window_minutes": window,
            "refusals": shown("refusals"),
            "refusals_compared": shown("refusals_compared"),
            "offers_outside_sessions": shown("offers_outside"),
            "offers_while_carrying_an_order": shown("offers_busy"),
            "interval_level": 1 - context.config.audit.alpha,
        }
        compared = counts["refusals_compared"][0] > 0
        out = [self._one(context, cells, compared, False, data)]
        if priced:
            data = data | {"offers_unpriced": shown("offers_unpriced")}
            out.append(self._one(context, cells, compared, True, data))
        return out

    def _one(
        self,
        context: CheckContext,
        cells: Table,
        compared: bool,
        money: bool,
        data: dict[str, Any],
    ) -> Finding:
        metric = "offered_pay_rate_after_refusal" if money else "offer_rate_after_refusal"
        materiality = context.config.dispatch.decline_penalty_materiality
        undecided = Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            metric=metric,
            threshold=1 - materiality,
            basis=basis(context, self.id),
            data=data,
        )
        if not compared:
            detail = "No estimate: no offer was refused online while free to take it."
            return dataclasses.replace(undecided, detail=detail)
        sums = worker_sums(cells, money=money)
        effect, support = penalty_effect(
            sums.order_by("worker_id").drop("worker_id").to_pyarrow(), money=money
        )
        if not effect.estimable:
            detail = (
                f"No estimate: no {'offered pay' if money else 'offer'} in free time after "
                "a refusal and at other times could be weighed against other workers "
                "free in the same zone and quarter hour."
            )
            return dataclasses.replace(undecided, detail=detail)
        if effect.effective_clusters < context.config.report.min_cell_workers:
            detail = too_few_workers(context.config.report.min_cell_workers)
            return dataclasses.replace(undecided, detail=detail)
        return _reported(self.id, context, effect, support, money, undecided)


def _reported(
    check: str,
    context: CheckContext,
    effect: GroupEffect,
    support: Support,
    money: bool,
    undecided: Finding,
) -> Finding:
    """The ratio with its interval, reported and not judged (module docstring): a lead
    where the whole interval lies below ``1 - [dispatch] decline_penalty_materiality``."""
    alpha = context.config.audit.alpha
    floor = 1 - context.config.dispatch.decline_penalty_materiality
    ratio = effect.ratio
    low, high = effect.ci(1 - alpha)
    window = context.config.dispatch.decline_window_minutes
    what = "offered pay per free online hour" if money else "offers per free online hour"
    lead = high < floor
    data = dict(undecided.data) | {
        "lead": lead,
        "se_log": effect.se if math.isfinite(effect.se) else None,
        "df": effect.df if math.isfinite(effect.df) else None,
        "effective_workers": effect.effective_clusters,
        "hours_after_refusal": support.hours_after,
        "hours_other": support.hours_other,
        "hours_without_baseline": support.hours_without_baseline,
        "hours_without_level": support.hours_without_level,
    }
    if not (math.isfinite(ratio) and math.isfinite(high)):
        detail = (
            f"No ratio: no {'offered pay' if money else 'offer'} came at other free times "
            f"to weigh the time after refusals against. Reported, not judged. {UNDECIDABLE}"
        )
        return dataclasses.replace(undecided, detail=detail, data=data | {"lead": False})
    if lead:
        verdict = (
            f"The whole interval lies below {floor:.2f}, beyond the shifts dispatch "
            "dynamics produced with no penalty in simulated platforms: a lead for review."
        )
    else:
        verdict = (
            f"with no penalty at all, simulated platforms of 200 workers gave ratios from "
            f"{NO_PENALTY_RANGE[0]:.2f} to {NO_PENALTY_RANGE[1]:.2f} (smaller ones vary "
            "more), and a cut shows as a lead reliably from about 60 % fewer offers."
        )
    detail = (
        f"In the {window:g} minutes after refusing an offer, workers got {ratio:.3f} times "
        f"the {what} they got at other times, each weighed against the other workers free in "
        f"the same zone and quarter hour and the worker's own level in other hours "
        f"({1 - alpha:.0%} CI {low:.3f} to {high:.3f}). Reported, not judged: {verdict} "
        f"{UNDECIDABLE}"
    )
    return dataclasses.replace(
        undecided,
        estimate=ratio,
        ci=(low, high),
        p_value=None,
        n_workers=effect.n_clusters_group,
        detail=detail,
        data=data,
    )
