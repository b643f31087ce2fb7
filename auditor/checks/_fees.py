"""FEE-01, FEE-02, FEE-03, FEE-06: what the platform takes, against what it declared.

These checks recompute money order by order (or statement by statement) in the
engine; they test no hypothesis: every order above the cap, every undisclosed
fee, every short statement is a fact the regulator can verify from the rows.
Amounts within ``[fees] tolerance`` (one cent by default) are rounding, not a
breach. Orders considered are completed orders with a positive fare base.

Small cells (``[report] min_cell_workers``, k): a number over the workers a breach
touches is published only when they are at least k. With fewer, the finding keeps its
status and severity and says "fewer than k workers"; its share, counts, money and largest
values are null and ``data.suppressed`` is true. Where the whole population is under k,
its totals are withheld too. A maximum is one worker's value, so none is published: in its
place the largest value at least k workers reached (``_small_cells.reached_by``, shared by
every fact check).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import basis, fact_outcome, scalar, severity_by_share
from auditor.checks._fee_schedule import declared_in_force
from auditor.checks._registry import register
from auditor.checks._small_cells import reached_by, small_cell, withheld
from auditor.engine import exact_sum

__all__ = [
    "DeclaredCommission",
    "PayoutReconciliation",
    "TakeRateCap",
    "TipsPassedThrough",
]

_NULL_KEY = "\u2400"  # stands for a missing service or zone in null-safe joins


def _paid_orders(context: CheckContext) -> Table:
    o = context.rebuilt.orders
    return o.filter(o.completed & (o.fare_base > 0))


def caps_in_force(context: CheckContext, keys: Table) -> Table:
    """The cap in force for each (local_date, service, pickup_zone) of ``keys``
    (:func:`declared_in_force` of ``commission_cap``); where none applies, ``[fees]
    commission_cap``. Returns ``keys`` plus ``cap`` (float) and ``cap_source``."""
    default = float(context.config.fees.commission_cap)
    if "fee_schedule" not in context.package.tables:
        return keys.mutate(cap=ibis.literal(default), cap_source=ibis.literal("config"))
    joined = declared_in_force(context, keys, "commission_cap")
    return joined.select(
        *keys.columns,
        cap=joined.fs_value.fill_null(default),
        cap_source=ibis.ifelse(joined.fs_value.isnull(), "config", "fee_schedule"),
    )


def _with_caps(context: CheckContext, orders: Table) -> tuple[Table, bool]:
    """Orders with the ``cap`` and ``cap_source`` in force; and whether a join was needed
    (one cap for every order, the common case, is a constant instead)."""
    keys = orders.select("local_date", "service", "pickup_zone").distinct()
    caps = caps_in_force(context, keys)
    distinct = caps.select("cap", "cap_source").distinct().execute()
    if len(distinct) == 1:
        cap, source = float(distinct["cap"].iloc[0]), str(distinct["cap_source"].iloc[0])
        return orders.mutate(cap=ibis.literal(cap), cap_source=ibis.literal(source)), False
    null_safe = [
        orders.local_date == caps.local_date,
        orders.service.fill_null(_NULL_KEY) == caps.service.fill_null(_NULL_KEY),
        orders.pickup_zone.fill_null(_NULL_KEY) == caps.pickup_zone.fill_null(_NULL_KEY),
    ]
    joined = orders.inner_join(caps, null_safe)
    return joined.select(*orders.columns, "cap", "cap_source"), True


@register
class TakeRateCap:
    """FEE-01: take rates above the cap in force.

    Per order (``[fees] cap_binds = "order"``): an order breaches when the platform's
    take exceeds ``cap x fare_base`` by more than the tolerance. Per worker and week
    (``"worker_period"``): when a worker's total take in a week exceeds the fare-weighted
    cap. Reports the share and count above, money taken above the cap, and the excess
    rate at least ``[report] min_cell_workers`` workers reached (all of these only when
    that many workers were taken from above the cap).
    """

    id: ClassVar[str] = "FEE-01"
    title: ClassVar[str] = "Take rates stay within the declared cap"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        tol = context.config.fees.tolerance
        o, joined = _with_caps(context, _paid_orders(context))
        excess = o.platform_take.cast("float64") - o.cap * o.fare_base.cast("float64")
        o = o.mutate(_excess=excess, _excess_rate=o.take_rate_gross - o.cap)
        # Stored once after a join: the aggregates below would each repeat it otherwise.
        o = o if not joined else context.engine.materialize(
            "fee01_orders",
            o.select(
                "_row", "worker_id", "week_start", "local_date", "service", "pickup_zone",
                "fare_base", "platform_take", "take_rate_gross", "cap", "cap_source",
                "_excess", "_excess_rate",
            ),
        )  # fmt: skip
        caps = o.group_by("cap_source").aggregate(lo=o.cap.min(), hi=o.cap.max()).execute()
        cap_text = ", ".join(
            f"{r.lo:.4g}" + (f"-{r.hi:.4g}" if r.hi != r.lo else "") + f" ({r.cap_source})"
            for r in caps.itertuples()
        )
        if context.config.fees.cap_binds == "worker_period":
            return [self._per_period(context, o, tol, cap_text)]
        k = context.config.report.min_cell_workers
        over = o.filter(o._excess > tol)
        n_orders = int(o.count().execute())
        n_over = int(over.count().execute())
        money = scalar(_money_sum(over._excess)) or 0.0
        n_workers = int(o.worker_id.nunique().execute())
        workers_over = int(over.worker_id.nunique().execute()) if n_over else 0
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers_over, k)
        share = n_over / n_orders if n_orders else 0.0
        data = {
            "cap_binds": "order",
            "caps": cap_text,
            "orders_above_cap": n_over,
            "workers_affected": workers_over,
            "money_above_cap": money,
            "excess_rate_reached_by_k_workers": (
                reached_by(over, "_excess_rate", k) if n_over and not hide else None
            ),
        }
        keys = ("orders_above_cap", "workers_affected", "money_above_cap")
        common = dict(
            check=self.id,
            title=self.title,
            metric="share_of_orders_above_cap",
            estimate=None if hide else share,
            threshold=0.0,
            n_orders=None if few else n_orders,
            n_workers=None if few else n_workers,
            basis=basis(context, self.id),
            data=withheld(data, keys, hide, k),
            subject={"unit": "order"},
        )
        if n_over == 0:
            return [
                Finding(
                    status=Status.PASS,
                    detail=f"No order's take rate exceeds the cap in force ({cap_text}).",
                    **common,  # type: ignore[arg-type]
                )
            ]
        detail = (
            f"Orders of fewer than {k} workers took more than the cap ({cap_text}); their "
            "number, share and the money taken above it are not published ([report] "
            "min_cell_workers)."
            if hide
            else f"{n_over} of {n_orders} orders ({share:.1%}) took more than the cap "
            f"({cap_text}); {money:,.2f} {context.config.audit.currency} taken above it from "
            f"{workers_over} workers."
        )
        return [
            Finding(
                status=Status.FAIL,
                severity=severity_by_share(share),
                detail=detail,
                **common,  # type: ignore[arg-type]
            )
        ]

    def _per_period(self, context: CheckContext, o: Table, tol: float, cap_text: str) -> Finding:
        fare = o.fare_base.cast("float64")
        w = o.group_by(["worker_id", "week_start"]).aggregate(
            take=o.platform_take.sum().cast("float64"),
            allowed=exact_sum(o.cap * fare),
            fare=o.fare_base.sum().cast("float64"),
            orders=o.count(),
        )
        w = w.mutate(_excess=w.take - w.allowed)
        over = w.filter(w._excess > tol)
        n = int(w.count().execute())
        n_over = int(over.count().execute())
        money = scalar(_money_sum(over._excess)) or 0.0
        n_workers = int(w.worker_id.nunique().execute())
        workers_over = int(over.worker_id.nunique().execute()) if n_over else 0
        k = context.config.report.min_cell_workers
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers_over, k)
        share = n_over / n if n else 0.0
        status, severity = fact_outcome(n_over, share)
        currency = context.config.audit.currency
        if not n_over:
            detail = f"No worker's weekly take rate exceeds the cap ({cap_text})."
        elif hide:
            detail = (
                f"Fewer than {k} workers averaged a take rate above the cap ({cap_text}) in "
                "a week; the number of such worker-weeks, their share and the money above "
                "the cap are not published ([report] min_cell_workers)."
            )
        else:
            detail = (
                f"{n_over} of {n} worker-weeks ({share:.1%}) of {workers_over} workers "
                f"averaged a take rate above the cap ({cap_text}); {money:,.2f} {currency} "
                "above it."
            )
        data = {
            "cap_binds": "worker_period",
            "caps": cap_text,
            "worker_weeks_above_cap": n_over,
            "workers_affected": workers_over,
            "money_above_cap": money,
        }
        keys = ("worker_weeks_above_cap", "workers_affected", "money_above_cap")
        return Finding(
            check=self.id,
            status=status,
            severity=severity,
            title=self.title,
            metric="share_of_worker_weeks_above_cap",
            estimate=None if hide else share,
            threshold=0.0,
            subject={"unit": "worker_week"},
            n_orders=None if few else int(o.count().execute()),
            n_workers=None if few else n_workers,
            basis=basis(context, self.id),
            detail=detail,
            data=withheld(data, keys, hide, k),
        )


@register
class DeclaredCommission:
    """FEE-02: the declared commission against the platform's actual take.

    An order hides a fee when ``platform_take - commission`` exceeds the tolerance: the
    worker was told the platform takes less than it does.
    """

    id: ClassVar[str] = "FEE-02"
    title: ClassVar[str] = "Declared commission matches the actual take"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.commission",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        tol = context.config.fees.tolerance
        o = _paid_orders(context)
        o = o.filter(o.commission.notnull())
        o = o.mutate(_hidden=(o.platform_take - o.commission).cast("float64"))
        hidden = o.filter(o._hidden > tol)
        n_orders = int(o.count().execute())
        n_hidden = int(hidden.count().execute())
        total = scalar((hidden.platform_take - hidden.commission).sum()) or 0.0
        fare = scalar(o.fare_base.sum()) or 0.0
        declared = (scalar(o.commission.sum()) or 0.0) / fare if fare else None
        actual = (scalar(o.platform_take.sum()) or 0.0) / fare if fare else None
        share = n_hidden / n_orders if n_orders else 0.0
        workers = int(hidden.worker_id.nunique().execute()) if n_hidden else 0
        n_workers = int(o.worker_id.nunique().execute())
        k = context.config.report.min_cell_workers
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers, k)
        currency = context.config.audit.currency
        status, severity = fact_outcome(n_hidden, share)
        if not n_hidden:
            detail = "The declared commission matches the platform's take on every order."
        elif hide:
            # The actual take rate less the declared one is the undisclosed total over the
            # fare: it goes with the total.
            rate = "" if few else f" (declared take rate {declared:.2%})"
            detail = (
                f"Orders of fewer than {k} workers took more than the declared commission"
                f"{rate}; their number, share and the amount are not published ([report] "
                "min_cell_workers)."
            )
        else:
            detail = (
                f"{n_hidden} of {n_orders} orders ({share:.1%}) took {total:,.2f} {currency} "
                f"more than the declared commission, from {workers} workers "
                f"(declared take rate {declared:.2%}, actual {actual:.2%})."
            )
        data = {
            "orders_with_undisclosed_fee": n_hidden,
            "undisclosed_total": total,
            "workers_affected": workers,
            "declared_take_rate": None if few else declared,
            "actual_take_rate": actual,
        }
        keys = (
            "orders_with_undisclosed_fee",
            "undisclosed_total",
            "workers_affected",
            "actual_take_rate",
        )
        return [
            Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="share_of_orders_with_undisclosed_fee",
                estimate=None if hide else share,
                threshold=0.0,
                n_orders=None if few else n_orders,
                n_workers=None if few else n_workers,
                basis=basis(context, self.id),
                detail=detail,
                data=withheld(data, keys, hide, k),
            )
        ]


@register
class PayoutReconciliation:
    """FEE-03: pay statements against order credits minus itemised deductions.

    For each statement: expected = credits (worker_pay + incentive + tip_to_worker) of the
    worker's orders whose local dropoff date (acceptance date if none) falls in the
    period, minus the deductions itemised in the period (the statement's own
    ``deductions_total`` when the package has no deductions table). A statement is short
    when ``expected - net_paid`` exceeds the tolerance.
    """

    id: ClassVar[str] = "FEE-03"
    title: ClassVar[str] = "Payouts reconcile with credits minus itemised deductions"
    needs: ClassVar[Needs] = Needs(tables=("orders", "payouts"))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        tol = context.config.fees.tolerance
        # The worker-period panel already sums each statement's period: credits by
        # dropoff date, itemised deductions by date.
        s = context.rebuilt.worker_periods
        assert s is not None  # built whenever there is a payouts table (needs)
        itemised = "deductions" in context.package.tables
        deducted = s.deductions if itemised else s.deductions_total.fill_null(0)
        s = s.mutate(_short_money=s.credited - deducted - s.net_paid)
        s = s.mutate(_short=s._short_money.cast("float64"))
        short = s.filter(s._short > tol)
        n = int(s.count().execute())
        n_short = int(short.count().execute())
        total = scalar(short._short_money.sum()) or 0.0
        workers = int(short.worker_id.nunique().execute()) if n_short else 0
        n_workers = int(s.worker_id.nunique().execute())
        k = context.config.report.min_cell_workers
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers, k)
        share = n_short / n if n else 0.0
        currency = context.config.audit.currency
        status, severity = fact_outcome(n_short, share)
        deductions = "itemised" if itemised else "stated"
        if not n_short:
            detail = "Every pay statement reconciles with its order credits and deductions."
        elif hide:
            detail = (
                f"Pay statements of fewer than {k} workers paid less than credits minus "
                f"{deductions} deductions; their number, share and the shortfall are not "
                "published ([report] min_cell_workers)."
            )
        else:
            detail = (
                f"{n_short} of {n} pay statements ({share:.1%}) paid {total:,.2f} {currency} "
                f"less than credits minus {deductions} deductions, to {workers} workers."
            )
        data = {
            "statements": None if few else n,
            "statements_short": n_short,
            "shortfall_total": total,
            "workers_affected": workers,
            "shortfall_reached_by_k_workers": (
                reached_by(short, "_short", k) if n_short and not hide else None
            ),
            "deductions_basis": "itemised" if itemised else "statement",
        }
        keys = ("statements_short", "shortfall_total", "workers_affected")
        return [
            Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="share_of_statements_short",
                estimate=None if hide else share,
                threshold=0.0,
                n_workers=None if few else n_workers,
                basis=basis(context, self.id),
                subject={"unit": "payout"},
                detail=detail,
                data=withheld(data, keys, hide, k),
            )
        ]


@register
class TipsPassedThrough:
    """FEE-06: tips reach the worker in full (``tip_to_worker`` equals ``tip``)."""

    id: ClassVar[str] = "FEE-06"
    title: ClassVar[str] = "Tips are passed through in full"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.tip",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        tol = context.config.fees.tolerance
        o = context.rebuilt.orders
        tipped = o.filter(o.tip > 0)
        tipped = tipped.mutate(_kept=(tipped.tip - tipped.tip_to_worker).cast("float64"))
        kept = tipped.filter(tipped._kept > tol)
        n = int(tipped.count().execute())
        n_kept = int(kept.count().execute())
        total = scalar((kept.tip - kept.tip_to_worker).sum()) or 0.0
        tips = scalar(tipped.tip.sum()) or 0.0
        workers = int(kept.worker_id.nunique().execute()) if n_kept else 0
        n_workers = int(tipped.worker_id.nunique().execute()) if n else 0
        k = context.config.report.min_cell_workers
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers, k)
        share = n_kept / n if n else 0.0
        currency = context.config.audit.currency
        status = Status.FAIL if n_kept else (Status.PASS if n else Status.INCONCLUSIVE)
        if n_kept and hide:
            detail = (
                f"Tipped orders of fewer than {k} workers passed on less than the tip; their "
                "number, share and the amount kept back are not published ([report] "
                "min_cell_workers)."
            )
        elif n_kept:
            detail = (
                f"{n_kept} of {n} tipped orders ({share:.1%}) passed on less than the tip: "
                f"{total:,.2f} {currency} of {tips:,.2f} kept back from {workers} workers."
            )
        elif n:
            detail = "Every tip reached the worker in full."
        else:
            detail = "No order has a tip, so pass-through cannot be judged; it needs tipped orders."
        data = {
            "tipped_orders": None if few else n,
            "orders_short": n_kept,
            "withheld_total": total,
            "tips_total": None if few else tips,
            "workers_affected": workers,
        }
        keys = ("orders_short", "withheld_total", "workers_affected")
        return [
            Finding(
                check=self.id,
                status=status,
                severity=severity_by_share(share) if n_kept else Severity.INFO,
                title=self.title,
                metric="share_of_tipped_orders_short",
                estimate=share if n and not hide else None,
                threshold=0.0,
                n_orders=None if few else n,
                n_workers=None if few else n_workers,
                basis=basis(context, self.id),
                detail=detail,
                data=withheld(data, keys, hide, k),
            )
        ]


def _money_sum(amount: Any) -> Any:
    """Sum of a float money amount, each rounded to 1/10,000 of the currency unit and
    summed as a decimal: exact, so the same in any order (float sums differ in their
    last bits from run to run)."""
    return amount.round(4).cast("decimal(38, 4)").sum()
