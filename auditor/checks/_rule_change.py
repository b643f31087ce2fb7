"""PAY-05: when the declared pay rule changed, which workers lost pay for the same work?

The method of the 2020 audit of Shipt's pay change: per worker, the pay actually received
after the change against what the previous rule paid for the same work.

1. **Changes.** Every ``fee_schedule`` row that takes effect (``effective_from``) after the
   first day of the orders and on or before the last is a declared change of the rule, for
   the service and zone it names (empty: all); so is the day after a row ends
   (``effective_to``), when the rule it overrode governs again. Rows that start (or end)
   on the same day are one change; the orders it covers are those whose row in force
   differs from the day before's. The windows compared are the ``[earnings]
   rule_change_window_days`` before the change and as many from it, each cut at any other
   change.
2. **The previous rule, learned.** The contract carries commission rates, not pay formulas,
   so the old rule is what the old period paid: completed orders of the window before, in
   the changed scope, give within each kind of work (``_strata``: zone, service, day type and
   hour) the slope of log ``worker_pay`` on the trip terms (log distance and log trip
   minutes, ``_covariates``), and per kind of work a level that makes the old orders' fitted
   pay sum to their actual pay (a ratio of means). A kind of work with fewer than
   ``MIN_CELL_ORDERS`` old orders has no level. The old rule's pay for an order of the
   window after is ``exp(level + slope' terms)``.
3. **Per worker**, over their orders in kinds of work the old rule priced: the change is
   ``sum(pay) / sum(old rule's pay) - 1`` after the change, set against the same ratio
   before it (how the old rule paid this worker: one who was always paid less than the
   rule learned from everyone, for work the trip terms do not see or a lasting gap
   between groups, has not lost anything by the change). Workers with fewer than
   ``[earnings] rule_change_min_orders`` such orders after the change, or before it, are
   not compared. A worker **lost** when the change is below ``-[earnings]
   rule_change_materiality``.
4. **Reported**: the share of compared workers who lost (a Wilson interval at ``1 -
   alpha`` over workers), the median change (a distribution-free interval from order
   statistics, widened in quadrature by the learned rule's own noise), percentiles, and
   the order-weighted change of all compared pay. The same
   computation at a **placebo** date, the middle of the window before (old orders before
   it, "new" after it, no rule change between), shows what noise and drift alone give.

The share's interval counts which workers happened to be in the package, not the noise of
each worker's own ratio (a worker with few orders can "lose" by chance) nor that of the
learned rule: the placebo's share is the measure of both. Pay that moved for other reasons in the
same weeks (season, demand) is read as the rule's; the placebo shows drift within the window
before. Orders without a positive ``worker_pay`` or trip term, or in a kind of work the old
period did not price, are counted (``orders_not_compared``; withheld under ``[report]
min_cell_workers`` workers).

**Reported, not judged.** A declared rule change may lawfully lower pay; whether it was
announced in time is FEE-04's question, and whether a cut is unreasonable is the
regulator's. ``pass`` where the interval of the median worker's change lies above
``-materiality`` (the typical worker did not lose materially); otherwise ``inconclusive``
with who lost; never ``fail``, outside the Holm family. Without a change in the orders'
dates: ``pass``, saying so.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import numpy as np
import pyarrow as pa
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import basis
from auditor.checks._covariates import covariate_terms, order_covariates, positive_log, term_names
from auditor.checks._fee_schedule import declared_in_force
from auditor.checks._money import gamma_cells, trip_effect, within_cell_fit
from auditor.checks._registry import register
from auditor.checks._small_cells import left_out, small_cell
from auditor.checks._strata import work_strata
from auditor.engine import SUM_SCALE, exact_sum, whole_sum
from auditor.stats._quantiles import safe_quantile

__all__ = [
    "ChangeSummary",
    "PayRuleChange",
    "RuleChange",
    "WorkerChanges",
    "rule_changes",
    "summarise_changes",
    "worker_changes",
]

METRIC = "share_of_workers_who_lost"
MIN_CELL_ORDERS = 5
"""Old orders a kind of work needs for the old rule's level there."""
_QUANTILES = (0.1, 0.25, 0.75, 0.9)


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A declared change of the pay rule and the windows compared around it.

    Attributes:
        on: first local day of the new rule.
        start: first day of the window before (inclusive).
        end: first day after the window after (exclusive).
        scopes: the (service, zone) each row starting ``on`` names (None: all); where none
            starts, those of the rows ending the day before.
    """

    on: datetime.date
    start: datetime.date
    end: datetime.date
    scopes: tuple[tuple[str | None, str | None], ...]


@dataclass(frozen=True, slots=True)
class WorkerChanges:
    """Per compared worker (in worker_id order; the IDs stay in the engine): orders after
    the change, pay received and the old rule's pay for them (currency); and what was not
    compared.

    Attributes:
        orders: completed orders after the change each worker was compared on.
        paid: their ``worker_pay``, summed.
        old_rule: the old rule's pay for the same orders, summed, times the worker's own
            ratio of pay to the old rule's in the window before (how the old rule paid
            them).
        orders_before: old orders that taught the rule.
        not_compared: orders after the change left out (no positive pay or trip term, or a
            kind of work the old period did not price), and their distinct workers.
        too_few: workers with some compared orders after the change but fewer than the
            minimum after it or before it, and those orders after it.
        rule_variance: the variance of the compared pay's relative error that the learned
            rule's levels carry (common to workers of the same kinds of work; a delta-method
            approximation from each level's orders).
        workers_before: distinct workers behind ``orders_before``.
    """

    orders: NDArray[np.int64]
    paid: NDArray[np.float64]
    old_rule: NDArray[np.float64]
    orders_before: int
    not_compared: tuple[int, int]
    too_few: tuple[int, int]
    rule_variance: float = 0.0
    workers_before: int = 0

    @property
    def change(self) -> NDArray[np.float64]:
        """Each worker's relative change: pay over the old rule's pay, less 1."""
        return self.paid / self.old_rule - 1.0


def rule_changes(
    effective_from: Sequence[datetime.date],
    scopes: Sequence[tuple[str | None, str | None]],
    first: datetime.date,
    last: datetime.date,
    window_days: int,
    effective_to: Sequence[datetime.date | None] | None = None,
) -> list[RuleChange]:
    """The declared changes among fee_schedule rows (their ``effective_from``, optional
    inclusive ``effective_to`` and (service, zone) scopes) that take effect after ``first``
    and on or before ``last`` (the orders' local dates), with windows of ``window_days``
    cut at the neighbouring changes. A row that starts on a day changes the rule that day;
    so does one that ends the day before (the rule it overrode governs again)."""
    ends = list(effective_to) if effective_to is not None else [None] * len(effective_from)
    one = datetime.timedelta(days=1)
    starting = list(zip(effective_from, scopes, strict=True))
    ending = [(e + one, s) for e, s in zip(ends, scopes, strict=True) if e is not None]
    days = sorted({d for d, _ in [*starting, *ending] if first < d <= last})
    out = []
    for i, on in enumerate(days):
        start = max(on - datetime.timedelta(days=window_days), days[i - 1] if i else first)
        end = min(
            on + datetime.timedelta(days=window_days),
            days[i + 1] if i + 1 < len(days) else last + one,
        )
        # The scopes of the rows that start; of the rows that end, where none starts.
        named = {s for d, s in starting if d == on} or {s for d, s in ending if d == on}
        rows = sorted(
            named, key=lambda s: (s[0] is not None, s[0] or "", s[1] is not None, s[1] or "")
        )
        out.append(RuleChange(on, start, end, tuple(rows)))
    return out


def _in_scope(context: CheckContext, orders: Table, on: datetime.date) -> Table:
    """The orders whose rule changed on ``on``: those of a service and zone for which the
    fee_schedule row in force that day (the most specific that applies, as FEE-01 reads
    the cap) is not the row in force the day before: a row that starts, or the row that
    governs again when a more specific one ended (not a row that ends with none after
    it). A row for all services that starts on ``on`` does not change the rule of a
    service that a row of its own still governs. The days join as data: no package value
    becomes query text."""
    days = ibis.memtable(
        pa.table({"local_date": pa.array([on - datetime.timedelta(days=1), on], pa.date32())})
    )
    keys = orders.select("service", "pickup_zone").distinct().cross_join(days)
    in_force = declared_in_force(context, keys, "effective_from", with_row=True)
    now = in_force.filter(in_force.local_date == on)
    before = in_force.filter(in_force.local_date != on).select(
        _b_service=in_force.service,
        _b_zone=in_force.pickup_zone,
        _b_from=in_force.fs_value,
        _b_row_service=in_force.fs_row_service,
        _b_row_zone=in_force.fs_row_zone,
    )
    paired = now.inner_join(
        before,
        [
            now.service.identical_to(before._b_service),
            now.pickup_zone.identical_to(before._b_zone),
        ],
    )
    same = (
        paired.fs_value.identical_to(paired._b_from)
        & paired.fs_row_service.identical_to(paired._b_row_service)
        & paired.fs_row_zone.identical_to(paired._b_row_zone)
    )
    # A row in force that day, not the day before's: a row that ends with none to follow
    # declares no new rule.
    changed = paired.filter(paired.fs_value.notnull() & ~same)
    changed = changed.select(_c_service=changed.service, _c_zone=changed.pickup_zone)
    return orders.semi_join(
        changed,
        [
            orders.service.identical_to(changed._c_service),
            orders.pickup_zone.identical_to(changed._c_zone),
        ],
    )


def _pooled(value: Any) -> Any:
    """Order-independent sum over the orders of many workers (a kind of work): exact
    however large (``whole_sum``), as a float. ``exact_sum`` is exact only below about
    1.3e8, which squared pay of a currency of small units passes."""
    return whole_sum(value).cast("float64") / SUM_SCALE


def worker_changes(
    units: Table,
    used: tuple[str, ...],
    start: datetime.date,
    on: datetime.date,
    end: datetime.date,
    min_orders: int,
) -> WorkerChanges:
    """Per worker, pay after ``on`` against the old rule's pay (module docstring, steps 2-3).

    ``units``: completed orders in scope with ``worker_id``, ``kind``, ``local_date``, ``y``
    (``worker_pay``) and the ``used`` trip covariates. The window bounds join as a one-row
    table, so that no date of the package becomes query text."""
    names = term_names(used)
    bounds = ibis.memtable(
        pa.table(
            {
                "_w_start": pa.array([start], pa.date32()),
                "_w_on": pa.array([on], pa.date32()),
                "_w_end": pa.array([end], pa.date32()),
            }
        )
    )
    w = units.cross_join(bounds)
    w = w.filter((w.local_date >= w._w_start) & (w.local_date < w._w_end))
    w = w.mutate(_after=w.local_date >= w._w_on, ly=positive_log(w.y), **covariate_terms(w, used))
    ok = w.ly.notnull() & w["kind"].notnull()
    for t in names:
        ok &= w[t].notnull()
    w = w.mutate(_ok=ok)
    before = w.filter(w._ok & ~w._after)
    first = gamma_cells(before, ["kind"], names)
    gamma, _, _ = within_cell_fit(before, first, names)
    fitted = trip_effect(w, names, gamma, 0.0).exp()
    w = w.mutate(_e=fitted)
    before = w.filter(w._ok & ~w._after)
    levels = before.group_by("kind").aggregate(
        _n_old=before.count(),
        _paid_old=_pooled(before.y),
        _e_old=_pooled(before._e),
        _yy=_pooled(before.y * before.y),
        _ye=_pooled(before.y * before._e),
        _ee=_pooled(before._e * before._e),
    )
    levels = levels.filter((levels._n_old >= MIN_CELL_ORDERS) & (levels._e_old > 0))
    # The relative variance of a kind's level (a ratio of sums, by the delta method):
    # sum (y - r e)^2 / (sum y)^2 with r = sum y / sum e.
    r = levels._paid_old / levels._e_old
    spread = levels._yy - 2.0 * r * levels._ye + r * r * levels._ee
    levels = levels.mutate(_v=spread.clip(lower=0.0) / (levels._paid_old * levels._paid_old))
    priced = w.left_join(levels, "kind")
    matched = priced._ok & priced._n_old.notnull()
    old_pay = priced._e * (priced._paid_old / priced._e_old)
    priced = priced.mutate(_used=matched, _old=ibis.ifelse(matched, old_pay, 0.0))
    now = priced._used & priced._after
    then = priced._used & ~priced._after
    # One pass over the window: per worker, the orders compared after the change and before
    # it and their sums, the orders after it not compared, and the orders that taught the
    # rule (a worker with none compared has n = 0).
    per_worker = (
        priced.group_by("worker_id")
        .aggregate(
            n=priced.count(where=now),
            paid=exact_sum(ibis.ifelse(now, priced.y, 0.0)),
            old=exact_sum(ibis.ifelse(now, priced._old, 0.0)),
            left=priced.count(where=priced._after & ~priced._used),
            n_then=priced.count(where=then),
            paid_then=exact_sum(ibis.ifelse(then, priced.y, 0.0)),
            old_then=exact_sum(ibis.ifelse(then, priced._old, 0.0)),
            taught=priced.count(where=priced._ok & ~priced._after),
        )
        .order_by("worker_id")
        .drop("worker_id")
        .to_pyarrow()
    )
    # The old rule's own noise, common to the workers who work the same kinds: the variance
    # of the compared pay's relative error, sum_k W_k^2 v_k (W_k: the kind's share of the
    # old rule's pay after the change).
    by_kind = (
        priced.filter(now)
        .group_by("kind")
        .aggregate(old=_pooled(priced._old), v=priced._v.max())
        .order_by("kind")
        .to_pyarrow()
    )
    kind_old = by_kind["old"].to_numpy().astype(np.float64)
    total_old = float(kind_old.sum())
    rule_variance = (
        float(((kind_old / total_old) ** 2 * by_kind["v"].to_numpy().astype(np.float64)).sum())
        if total_old > 0
        else 0.0
    )
    column = lambda name: per_worker[name].to_numpy()  # noqa: E731
    n, n_then = column("n").astype(np.int64), column("n_then").astype(np.int64)
    unmatched, taught = column("left").astype(np.int64), column("taught").astype(np.int64)
    keep = (n >= min_orders) & (n_then >= min_orders)
    # Each worker is set against how the old rule paid them before the change: a worker
    # always paid less than the rule learned from everyone (other work the trip terms do
    # not see, or a lasting gap between groups) has not lost anything by the change.
    own = column("paid_then").astype(np.float64)[keep] / column("old_then")[keep]
    return WorkerChanges(
        orders=n[keep],
        paid=column("paid").astype(np.float64)[keep],
        old_rule=column("old").astype(np.float64)[keep] * own,
        orders_before=int(taught.sum()),
        not_compared=(int(unmatched.sum()), int((unmatched > 0).sum())),
        too_few=(int(((n > 0) & ~keep).sum()), int(n[(n > 0) & ~keep].sum())),
        rule_variance=rule_variance,
        workers_before=int((taught > 0).sum()),
    )


def _placebo_day(change: RuleChange) -> datetime.date | None:
    """The middle of the window before, where it leaves at least one day on each side."""
    days = (change.on - change.start).days
    return change.start + datetime.timedelta(days=days // 2) if days >= 2 else None


def _safe_value(values: NDArray[np.float64], value: float, k: int) -> float | None:
    """``value`` (an order statistic of per-worker ``values``) where at least ``k`` workers
    lie strictly below it and ``k`` strictly above, else None."""
    if not np.isfinite(value):
        return None
    below, above = int((values < value).sum()), int((values > value).sum())
    return float(value) if below >= k and above >= k else None


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What PAY-05 publishes of one set of per-worker changes (None: withheld)."""

    workers: int
    lost: int
    share_lost: float | None
    share_ci: tuple[float, float] | None
    median: float | None
    median_ci: tuple[float, float] | None
    median_ci_true: tuple[float, float]
    percentiles: dict[str, float | None]
    order_weighted: float | None
    hidden: bool


def summarise_changes(
    changes: WorkerChanges, materiality: float, level: float, k: int
) -> ChangeSummary:
    """Share who lost (Wilson), the median change (order statistics), percentiles and the
    order-weighted change, each withheld where ``[report] min_cell_workers`` asks."""
    from scipy.stats import binomtest, norm, quantile_test

    x = changes.change
    n = len(x)
    lost = int((x < -materiality).sum())
    few = small_cell(n, k)
    hidden = few or small_cell(lost, k) or small_cell(n - lost, k)
    if not n:
        return ChangeSummary(0, 0, None, None, None, None, (np.nan, np.nan), {}, None, True)
    wilson = binomtest(lost, n).proportion_ci(confidence_level=level, method="wilson")
    interval = quantile_test(x, q=0.0, p=0.5).confidence_interval(confidence_level=level)
    # Which workers were drawn (the order statistics) and the learned rule's common error
    # (normal, ``rule_variance``) are independent sources: their half-widths add in
    # quadrature on each side of the median.
    middle = float(np.median(x))
    rule = float(norm.ppf(0.5 + level / 2)) * math.sqrt(changes.rule_variance)
    true_ci = (
        middle - math.hypot(middle - float(interval.low), rule),
        middle + math.hypot(float(interval.high) - middle, rule),
    )
    worker = np.arange(n)
    safe_ci = tuple(_safe_value(x, v, k) for v in true_ci)
    return ChangeSummary(
        workers=n,
        lost=lost,
        share_lost=None if hidden else lost / n,
        share_ci=None if hidden else (float(wilson.low), float(wilson.high)),
        median=None if few else safe_quantile(x, worker, 0.5, k),
        median_ci=None if few or None in safe_ci else (safe_ci[0], safe_ci[1]),  # type: ignore[arg-type]
        median_ci_true=true_ci,
        percentiles={
            f"p{round(q * 100)}": None if few else safe_quantile(x, worker, q, k)
            for q in _QUANTILES
        },
        order_weighted=None if few else float(changes.paid.sum() / changes.old_rule.sum() - 1),
        hidden=hidden,
    )


@register
class PayRuleChange:
    """PAY-05: who lost pay for the same work when the declared pay rule changed."""

    id: ClassVar[str] = "PAY-05"
    title: ClassVar[str] = "Who lost pay for the same work when the pay rule changed"
    needs: ClassVar[Needs] = Needs(tables=("orders", "fee_schedule"))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        earnings = context.config.earnings
        orders = work_strata(context).orders
        done = orders.filter(orders.completed)
        span = done.aggregate(first=done.local_date.min(), last=done.local_date.max())
        row = span.to_pyarrow().to_pylist()[0]
        fs = context.package.tables["fee_schedule"].table
        rows = (
            fs.select("effective_from", "effective_to", "service", "zone").to_pyarrow().to_pylist()
        )
        changes = (
            rule_changes(
                [r["effective_from"] for r in rows],
                [(r["service"], r["zone"]) for r in rows],
                row["first"],
                row["last"],
                earnings.rule_change_window_days,
                [r["effective_to"] for r in rows],
            )
            if row["first"] is not None
            else []
        )
        if not changes:
            return [
                Finding(
                    check=self.id,
                    status=Status.PASS,
                    title=self.title,
                    metric=METRIC,
                    basis=basis(context, self.id),
                    detail=(
                        "The fee_schedule declares no change of the rule that takes effect "
                        "within the orders' dates: no pay was lost to a rule change."
                    ),
                    data={"changes": 0},
                )
            ]
        used = order_covariates(context)
        units = done.mutate(y=done.worker_pay.cast("float64"))
        for c in used:
            units = units.mutate(**{c: units[c].cast("float64")})
        return [self._one(context, _in_scope(context, units, c.on), used, c) for c in changes]

    def _one(
        self, context: CheckContext, units: Table, used: tuple[str, ...], change: RuleChange
    ) -> Finding:
        earnings = context.config.earnings
        m, k = earnings.rule_change_materiality, context.config.report.min_cell_workers
        level = 1 - context.config.audit.alpha
        min_orders = earnings.rule_change_min_orders
        found = worker_changes(units, used, change.start, change.on, change.end, min_orders)
        s = summarise_changes(found, m, level, k)
        placebo_on = _placebo_day(change)
        placebo = None
        if placebo_on is not None:
            p = summarise_changes(
                worker_changes(units, used, change.start, placebo_on, change.on, min_orders),
                m,
                level,
                k,
            )
            placebo = {
                "on": placebo_on.isoformat(),
                "workers_compared": None if small_cell(p.workers, k) else p.workers,
                "share_lost": p.share_lost,
                "median_change": p.median,
            }
        few = small_cell(s.workers, k)
        not_compared, nc_workers = found.not_compared
        data: dict[str, Any] = {
            "changes": 1,
            "rule_from": change.on.isoformat(),
            "window": [
                change.start.isoformat(),
                (change.end - datetime.timedelta(days=1)).isoformat(),
            ],
            "scopes": [{"service": sv, "zone": z} for sv, z in change.scopes],
            "workers_compared": None if few else s.workers,
            "workers_lost": None if s.hidden else s.lost,
            "share_lost_ci": list(s.share_ci) if s.share_ci else None,
            "median_change": s.median,
            "median_change_ci": list(s.median_ci) if s.median_ci else None,
            "change_percentiles": s.percentiles,
            "order_weighted_change": s.order_weighted,
            "orders_compared": None if few else int(found.orders.sum()),
            "orders_before": found.orders_before
            if s.workers and not few and not small_cell(found.workers_before, k)
            else None,
            "orders_not_compared": left_out(not_compared, nc_workers, k),
            "workers_with_too_few_orders": None
            if small_cell(found.too_few[0], k)
            else found.too_few[0],
            "orders_of_workers_with_too_few": left_out(found.too_few[1], found.too_few[0], k),
            "placebo": placebo,
            "materiality": m,
            "min_orders": min_orders,
            "window_days": earnings.rule_change_window_days,
            "interval_level": level,
            "min_cell_workers": k,
        }
        status = Status.INCONCLUSIVE
        if s.workers and not few and s.median_ci_true[0] > -m:
            status = Status.PASS
        return Finding(
            check=self.id,
            status=status,
            severity=Severity.INFO,
            title=self.title,
            metric=METRIC,
            estimate=s.share_lost,
            ci=s.share_ci,
            threshold=-m,
            subject={"rule_from": change.on.isoformat()},
            n_workers=None if few else s.workers,
            n_orders=None if few else int(found.orders.sum()),
            basis=basis(context, self.id),
            detail=_detail(context, change, s, data),
            data=data,
        )


def _detail(
    context: CheckContext, change: RuleChange, s: ChangeSummary, data: dict[str, Any]
) -> str:
    """The finding's sentences: who lost, the median change, and the placebo."""
    k = context.config.report.min_cell_workers
    m = context.config.earnings.rule_change_materiality
    level = f"{1 - context.config.audit.alpha:.0%}"
    when = f"From {change.on.isoformat()} (the rule declared in fee_schedule)"
    if not s.workers:
        return (
            f"{when}: no worker had {data['min_orders']} completed orders in kinds of work "
            "the window before priced, both before the change and after it, so no worker's "
            "pay can be set against how the old rule paid them. "
            "A longer [earnings] rule_change_window_days, or a lower rule_change_min_orders, "
            "may compare some."
        )
    if data["workers_compared"] is None:
        return (
            f"{when}: fewer than {k} workers could be compared with the old rule; no number "
            "is published ([report] min_cell_workers)."
        )
    if s.share_lost is None:
        who = (
            f"Fewer than {k} of {s.workers:,} workers"
            if s.lost < k
            else f"All but fewer than {k} of {s.workers:,} workers"
        )
        lost = f"{who} compared were paid more than {m:.0%} less than the old rule"
    else:
        lo, hi = s.share_ci or (np.nan, np.nan)
        lost = (
            f"{s.share_lost:.1%} of {s.workers:,} workers compared ({level} CI {lo:.1%} to "
            f"{hi:.1%}) were paid more than {m:.0%} less than the old rule"
        )
    median = (
        f"the median worker's change was {s.median:+.1%}"
        + (f" ({level} CI {s.median_ci[0]:+.1%} to {s.median_ci[1]:+.1%})" if s.median_ci else "")
        if s.median is not None
        else "the median is withheld (too few workers on one side of it)"
    )
    weighted = (
        f"; all compared pay changed by {s.order_weighted:+.1%}"
        if s.order_weighted is not None
        else ""
    )
    text = (
        f"{when}: {lost} would have paid for the same work (learned from the "
        f"{change.start.isoformat()} to {(change.on - datetime.timedelta(days=1)).isoformat()} "
        f"orders in the same kind of work, distance and trip time); {median}{weighted}."
    )
    placebo = data["placebo"]
    if placebo and placebo["median_change"] is not None:
        lost = (
            f", and {placebo['share_lost']:.1%} appeared to lose as much"
            if placebo["share_lost"] is not None
            else ""
        )
        text += (
            f" At a placebo date with no change ({placebo['on']}, inside the window before) "
            f"the median worker's change was {placebo['median_change']:+.1%}{lost}: what noise "
            "and the dates alone do."
        )
    if data["orders_not_compared"]:
        text += (
            f" Not compared: {data['orders_not_compared']:,} orders after the change (no "
            "positive worker_pay or trip term, or a kind of work not priced before)."
        )
    elif data["orders_not_compared"] is None:
        text += (
            f" Not compared: orders of fewer than {k} workers after the change (no positive "
            "worker_pay or trip term, or a kind of work not priced before)."
        )
    verdict = (
        " Reported, not judged: the typical worker did not lose more than "
        f"{m:.0%} (the median's interval lies above -{m:.0%})."
        if s.median_ci_true[0] > -m
        else " Reported, not judged: whether this change was announced is FEE-04's question, "
        "and whether a cut is unreasonable is the regulator's."
    )
    return text + verdict
