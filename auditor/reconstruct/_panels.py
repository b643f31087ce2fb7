"""Per worker and day, and per worker and week: pay, deductions, time, hourly earnings.

Money columns are exact decimals in ``[audit] currency``; hours and rates are
floats. Every itemised deduction counts, an upheld appeal included: the contract
has no refund column, so a refund shows only if the platform credits it as pay.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.config import AuditConfig
from auditor.schema import MONEY_DECIMAL

__all__ = ["PANEL_MONEY", "worker_days", "worker_periods", "worker_weeks"]

PANEL_MONEY = ("worker_pay", "incentive", "tip_to_worker", "credited", "deductions")
"""Money columns of the panels (exact decimals)."""

_ZERO = ibis.literal(0).cast(MONEY_DECIMAL)


def worker_days(
    orders: Table, islands: Table, sessions: Table | None, deductions: Table | None
) -> Table:
    """One row per worker and local date with any order, session or deduction.

    Columns: ``worker_id``, ``local_date``, ``week_start``, ``orders`` (accepted),
    ``orders_completed``, money (:data:`PANEL_MONEY`), ``expense`` (float),
    ``distance_km``, ``km`` (distance plus approach), ``engaged_hours``,
    ``online_hours`` (null without a sessions table),
    ``net_earnings`` = credited - deductions (decimal).
    """
    by_order = _order_sums(orders, "local_date")
    engaged = islands.group_by(["worker_id", "local_date"]).aggregate(
        engaged_hours=islands.engaged_hours.sum()
    )
    parts = [by_order.select("worker_id", "local_date"), engaged.select("worker_id", "local_date")]
    online = None
    if sessions is not None:
        online = sessions.group_by(["worker_id", "local_date"]).aggregate(
            online_hours=sessions.online_hours.sum()
        )
        parts.append(online.select("worker_id", "local_date"))
    deducted = None
    if deductions is not None:
        d = deductions.mutate(local_date=deductions.deducted_at.date())
        deducted = d.group_by(["worker_id", "local_date"]).aggregate(deductions=d.amount.sum())
        parts.append(deducted.select("worker_id", "local_date"))
    keys = ibis.union(*parts, distinct=True)

    panel = keys.left_join(by_order, ["worker_id", "local_date"]).select(
        keys.worker_id,
        keys.local_date,
        *[c for c in by_order.columns if c not in ("worker_id", "local_date")],
    )
    panel = _attach(panel, engaged, "engaged_hours")
    if online is not None:
        panel = _attach(panel, online, "online_hours")
    else:
        panel = panel.mutate(online_hours=ibis.null("float64"))
    if deducted is not None:
        panel = _attach(panel, deducted, "deductions")
    else:
        panel = panel.mutate(deductions=_ZERO)
    zero_money = {c: panel[c].fill_null(_ZERO) for c in PANEL_MONEY}
    panel = panel.mutate(
        week_start=panel.local_date.truncate("W"),
        orders=panel.orders.fill_null(0),
        orders_completed=panel.orders_completed.fill_null(0),
        expense=panel.expense.fill_null(0.0),
        distance_km=panel.distance_km.fill_null(0.0),
        km=panel.km.fill_null(0.0),
        engaged_hours=panel.engaged_hours.fill_null(0.0),
        **zero_money,
    )
    return panel.mutate(net_earnings=panel.credited - panel.deductions)


def _attach(panel: Table, part: Table, column: str) -> Table:
    joined = panel.left_join(part, ["worker_id", "local_date"])
    return joined.select(*panel.columns, joined[column])


def worker_weeks(days: Table, config: AuditConfig) -> Table:
    """Sum the day panel per worker and week (Monday start) and add hourly earnings.

    Hourly earnings (float, currency per hour) are ``net_of_expense`` divided by:

    - ``hourly_engaged``: engaged hours (union of order intervals);
    - ``hourly_online``: online hours (null without sessions);
    - ``hourly_engaged_allowance``: engaged hours plus ``[earnings]
      engaged_allowance_minutes_per_order`` per completed order.

    ``utilisation`` = engaged / online hours. Rates are null where their hours are 0.
    """
    w = days.group_by(["worker_id", "week_start"]).aggregate(
        days_active=days.count(),
        orders=days.orders.sum(),
        orders_completed=days.orders_completed.sum(),
        **{c: days[c].sum() for c in PANEL_MONEY},
        net_earnings=days.net_earnings.sum(),
        expense=days.expense.sum(),
        distance_km=days.distance_km.sum(),
        km=days.km.sum(),
        engaged_hours=days.engaged_hours.sum(),
        online_hours=days.online_hours.sum(),
    )
    return _with_hourly(w, config)


def _order_sums(orders: Table, date_col: str) -> Table:
    """Per worker and ``date_col``: orders, completed orders, money credited, expense, km."""
    return orders.group_by(["worker_id", date_col]).aggregate(
        orders=orders.count(),
        orders_completed=orders.completed.cast("int64").sum(),
        worker_pay=orders.worker_pay.sum(),
        incentive=orders.incentive.sum(),
        tip_to_worker=orders.tip_to_worker.sum(),
        credited=orders.credited.sum(),
        expense=orders.expense.sum(),
        distance_km=orders.distance_km.sum(),
        km=orders.km.sum(),
    )


def _with_hourly(w: Table, config: AuditConfig) -> Table:
    """Add net_of_expense, hourly earnings on each basis and utilisation to summed panels."""
    net = w.net_earnings.cast("float64") - w.expense
    allowance_h = w.orders_completed.cast("float64") * (
        config.earnings.engaged_allowance_minutes_per_order / 60.0
    )
    return w.mutate(
        net_of_expense=net,
        hourly_engaged=_per_hour(net, w.engaged_hours),
        hourly_online=_per_hour(net, w.online_hours),
        hourly_engaged_allowance=_per_hour(net, w.engaged_hours + allowance_h),
        utilisation=_per_hour(w.engaged_hours, w.online_hours),
    )


def worker_periods(orders: Table, days: Table, payouts: Table, config: AuditConfig) -> Table:
    """Per pay statement: the sums of its period (``period_start`` to ``period_end``,
    local dates, inclusive) and hourly earnings as in :func:`worker_weeks`.

    Order money counts in the period of the order's local dropoff date (acceptance date
    without one), as the contract assigns orders to statements; deductions, engaged and
    online hours come from the day panel. One row per payout: ``payout_id``,
    ``worker_id``, ``period_start``, ``period_end``, ``net_paid`` and ``deductions_total``
    as the statement gives them, and the period's sums.
    """
    p = payouts.select(
        "payout_id", "worker_id", "period_start", "period_end", "net_paid", "deductions_total"
    )
    paid = _order_sums(
        orders.mutate(pay_date=orders.dropoff_date.fill_null(orders.local_date)), "pay_date"
    )
    jo = p.inner_join(
        paid,
        [p.worker_id == paid.worker_id, paid.pay_date >= p.period_start,
         paid.pay_date <= p.period_end],
    )  # fmt: skip
    money = jo.group_by("payout_id").aggregate(
        orders=jo.orders.sum(),
        orders_completed=jo.orders_completed.sum(),
        **{c: jo[c].sum() for c in ("worker_pay", "incentive", "tip_to_worker", "credited")},
        expense=jo.expense.sum(),
        km=jo.km.sum(),
    )
    jd = p.inner_join(
        days,
        [p.worker_id == days.worker_id, days.local_date >= p.period_start,
         days.local_date <= p.period_end],
    )  # fmt: skip
    time = jd.group_by("payout_id").aggregate(
        days_active=jd.count(),
        deductions=jd.deductions.sum(),
        engaged_hours=jd.engaged_hours.sum(),
        online_hours=jd.online_hours.sum(),
    )
    w = p.left_join(money, "payout_id").select(p, *[c for c in money.columns if c != "payout_id"])
    w = w.left_join(time, "payout_id").select(w, *[c for c in time.columns if c != "payout_id"])
    zero = ibis.literal(0).cast(MONEY_DECIMAL)
    w = w.mutate(
        **{c: w[c].fill_null(zero) for c in PANEL_MONEY},
        orders=w.orders.fill_null(0),
        orders_completed=w.orders_completed.fill_null(0),
        expense=w.expense.fill_null(0.0),
        km=w.km.fill_null(0.0),
        engaged_hours=w.engaged_hours.fill_null(0.0),
    )
    return _with_hourly(w.mutate(net_earnings=w.credited - w.deductions), config)


def _per_hour(amount: ir.FloatingValue, hours: ir.FloatingValue) -> ir.FloatingValue:
    return ibis.ifelse(hours > 0, amount / hours, ibis.null("float64"))
