"""Per-order derived quantities (data contract, "Derived, per order")."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.config import AuditConfig
from auditor.engine import instant_seconds

__all__ = ["enrich_orders"]


def enrich_orders(orders: Table, config: AuditConfig) -> Table:
    """Add the derived per-order columns to the validated orders table.

    Added columns (money in ``[audit] currency``, exact decimals unless noted):

    - ``fare_base`` = customer_price - pass_through
    - ``platform_take`` = fare_base - worker_pay
    - ``take_rate_gross`` = platform_take / fare_base (float; null where fare_base is 0)
    - ``take_rate_net`` = (platform_take - incentive) / fare_base (float)
    - ``take_rate``: the one ``[fees] take_rate_basis`` selects
    - ``engaged_minutes`` = dropoff_at - accepted_at, in minutes (float; null if no dropoff)
    - ``trip_minutes`` = ``trip_seconds`` / 60 where the package gives it, else dropoff_at -
      pickup_at, in minutes (float; engaged minutes where both are missing)
    - ``trip_timed``: ``trip_seconds``, or pickup_at and dropoff_at, are known
      (``trip_minutes`` is then the passenger's or goods' own trip time)
    - ``local_date``, ``local_hour`` (0-23), ``weekday`` (0 = Monday), ``week_start``
      (Monday), all of ``accepted_at`` in ``[audit] timezone``; ``dropoff_date`` likewise
    - ``km`` = distance_km + approach_km (missing distances count as 0)
    - ``expense`` = ``[earnings] expense_per_km`` x ``km``, float
    - ``credited`` = worker_pay + incentive + tip_to_worker (what the worker is credited)
    - ``completed``: status is ``completed``
    """
    o = orders
    fare_base = (o.customer_price - o.pass_through).name("fare_base")
    take = fare_base - o.worker_pay
    base_f = fare_base.cast("float64")
    gross = ibis.ifelse(base_f > 0, take.cast("float64") / base_f, ibis.null("float64"))
    net = ibis.ifelse(
        base_f > 0, (take - o.incentive).cast("float64") / base_f, ibis.null("float64")
    )
    engaged = _minutes_between(o.accepted_at, o.dropoff_at)
    km = o.distance_km.fill_null(0) + o.approach_km.fill_null(0)
    # One conversion to local wall time (the session time zone) per timestamp; date, hour
    # and weekday of a naive timestamp are then cheap.
    local = o.accepted_at.cast("timestamp")
    local_date = local.date()
    return o.mutate(
        fare_base=fare_base,
        platform_take=take,
        take_rate_gross=gross,
        take_rate_net=net,
        take_rate=net if config.fees.take_rate_basis == "net" else gross,
        engaged_minutes=engaged,
        # The platform's own measure where it gives one: two local wall-clock times an
        # hour apart can be the same instant on the night clocks go back.
        trip_minutes=(o.trip_seconds / 60.0)
        .fill_null(_minutes_between(o.pickup_at, o.dropoff_at))
        .fill_null(engaged),
        trip_timed=o.trip_seconds.notnull() | (o.pickup_at.notnull() & o.dropoff_at.notnull()),
        local_date=local_date,
        dropoff_date=o.dropoff_at.cast("timestamp").date(),
        local_hour=local.hour().cast("int8"),
        weekday=local.day_of_week.index().cast("int8"),
        week_start=local_date.truncate("W"),
        km=km.cast("float64"),
        expense=(km * config.earnings.expense_per_km).cast("float64"),
        credited=o.worker_pay + o.incentive + o.tip_to_worker,
        completed=o.status == "completed",
    )


def _minutes_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Minutes from ``start`` to ``end`` (float): elapsed time between the instants, so an
    order across a daylight-saving change takes its real length (not the wall clock's)."""
    return (instant_seconds(end) - instant_seconds(start)) / 60.0
