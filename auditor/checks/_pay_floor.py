"""PAY-03: pay against the statutory floor of each chosen rule pack, and the money owed.

A rule pack (``auditor.rules``; ``[audit] rules``) says what is paid, over which time and
distance, at which rates by date and tier of place. One finding per pack.

- **Per trip** (``unit = "trip"``): each completed order's floor is ``max(per_minute x
  minutes + per_distance x distance, minimum)``, rounded to the cent, at the rates in force
  on the order's local date (of acceptance) for the tier of its pickup zone. Its shortfall
  is the floor less the pay counted (``worker_pay``, plus ``incentive`` or
  ``tip_to_worker`` where the pack counts them), where positive.
- **Per worker-week** (``unit = "week"``, Monday to Sunday, local time), or **per pay
  statement** (``unit = "statement"``: a ``payouts`` row's period, the orders whose local
  dropoff date it holds, and the statement's own top-up): the floor is
  ``hourly x multiplier x hours`` on the pack's time basis, plus ``per_minute`` x each
  order's engaged minutes and ``per_distance`` x its distance, rounded to the cent. Where
  rates differ within a week (a new rate, orders in zones of other tiers) the hourly rate
  is the mean of the completed orders' rates weighted by their engaged minutes. Pay is the
  pay counted of every order of the week (a cancellation fee is pay), less itemised
  deductions where the pack says so. A week is assessed only when every completed order
  in it has a rate in force and, for a per-distance rate, a distance (weeks with no
  completed order are not assessed).
  Where the pack allows top-ups, ``payouts.minimum_pay_topup`` credited on a statement
  counts against the shortfall of that statement (``unit = "statement"``) or of the week
  the statement's period ends in (``unit = "week"``): in time when
  paid (local date of ``paid_at``) within ``topup_within_days`` of the period's end, or when
  the statement gives no ``paid_at`` (counted); later top-ups reduce what is owed but the
  week is still a breach.

A unit is a **breach** when its shortfall is not made up in time; what is **owed** is the
shortfall less every top-up. Any breach fails (a rule of law, not an estimate), with the
severity of the share of units in breach. Every count and sum is withheld where fewer than
``[report] min_cell_workers`` workers are behind it; ``owed.csv`` (worker IDs, for the
auditor, never published) lists the money per worker and week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import fact_outcome, has_workers, whole
from auditor.checks._registry import register
from auditor.checks._rule_packs import no_pack, pack_basis, packs_with
from auditor.checks._small_cells import small_cell, withheld
from auditor.findings import OWED_COLUMNS
from auditor.rules import FloorRule, RulePack
from auditor.rules._pack import DISTANCE_UNITS
from auditor.schema import MONEY_DECIMAL

__all__ = ["StatutoryPayFloor"]

_OPEN_END = dt.date(9999, 12, 31)
_CENTS = "decimal(18, 2)"
_ZERO = ibis.literal(0).cast(MONEY_DECIMAL)


@register
class StatutoryPayFloor:
    """PAY-03: pay meets the statutory floor of each chosen rule pack; what is owed."""

    id: ClassVar[str] = "PAY-03"
    title: ClassVar[str] = "Pay meets the statutory floor of the rule pack"
    needs: ClassVar[Needs] = Needs(tables=("orders",), workers=False)

    def run(self, context: CheckContext) -> Sequence[Finding]:
        packs = packs_with(context, "floor")
        if not packs:
            return [no_pack(self.id, self.title, "a pay floor", "us-ca-prop22")]
        return [self._apply(context, pack) for pack in packs]

    def _apply(self, context: CheckContext, pack: RulePack) -> Finding:
        subject = {"rule": pack.name}
        missing = _missing(context, pack)
        if missing:
            return Finding(
                check=self.id,
                status=Status.NOT_ASSESSED,
                title=self.title,
                subject=subject,
                missing=missing,
                detail=f"Rule pack {pack.name} needs " + ", ".join(missing) + ".",
                data={"rule": pack.to_dict()},
            )
        rates = _store_rates(context, pack)
        if _floor(pack).unit == "trip":
            units, left_out = _trip_units(context, pack, rates)
        else:
            units, left_out = _week_units(context, pack, rates)
        frame = units.order_by(["worker_id", "period_start"]).to_pyarrow().to_pandas()
        for what in ("rates", "zones"):
            context.engine.drop(_table_name(pack, what))
        return _finding(self, context, pack, frame, left_out)


def _floor(pack: RulePack) -> FloorRule:
    """The pack's pay floor (PAY-03 applies only packs that have one)."""
    if pack.floor is None:
        raise ValueError(f"rule pack {pack.name} has no pay floor")
    return pack.floor


def _missing(context: CheckContext, pack: RulePack) -> tuple[str, ...]:
    """Tables and columns the pack needs that the package lacks."""
    tables = context.package.tables
    present = tables["orders"].columns_present
    out: list[str] = []
    trip_time = _floor(pack).time == "trip"
    if trip_time and "pickup_at" not in present and "trip_seconds" not in present:
        out.append("orders.pickup_at")
    if any(r.per_distance for r in pack.rates) and "distance_km" not in present:
        out.append("orders.distance_km")
    tiers = context.config.rules
    if pack.tiered and "pickup_zone" not in present and not tiers.default_tier:
        out.append("orders.pickup_zone")
    if _floor(pack).time == "online" and "sessions" not in tables:
        out.append("sessions")
    if _floor(pack).unit == "statement" and "payouts" not in tables:
        out.append("payouts")
    if _floor(pack).unit != "trip" and "worker_id" not in present:
        out.insert(0, "orders.worker_id")  # a week's or a statement's pay is a worker's
    return tuple(out)


def _table_name(pack: RulePack, what: str) -> str:
    return f"pay03_{what}_{pack.sha256[:12]}"


def _store_rates(context: CheckContext, pack: RulePack) -> Table:
    """The pack's rates as an engine table: ``r_from``, ``r_to`` (inclusive), ``r_tier``,
    ``r_hourly`` (multiplier applied), ``r_per_minute``, ``r_per_km``, ``r_minimum``."""
    km = DISTANCE_UNITS[_floor(pack).distance_unit]
    rates = pack.rates
    table = pa.table(
        {
            "r_from": pa.array([r.effective_from for r in rates], pa.date32()),
            "r_to": pa.array([r.effective_to or _OPEN_END for r in rates], pa.date32()),
            "r_tier": pa.array([r.tier for r in rates], pa.string()),
            "r_hourly": pa.array([r.hourly * r.multiplier for r in rates], pa.float64()),
            "r_per_minute": pa.array([r.per_minute for r in rates], pa.float64()),
            "r_per_km": pa.array([r.per_distance / km for r in rates], pa.float64()),
            "r_minimum": pa.array([r.minimum for r in rates], pa.float64()),
        }
    )
    return context.engine.store(_table_name(pack, "rates"), table)


def _with_rates(context: CheckContext, pack: RulePack, orders: Table, rates: Table) -> Table:
    """``orders`` with the rates in force on each order's local date for its tier (null
    rates where none is: outside the pack's dates, or a zone with no tier)."""
    if pack.tiered:
        config = context.config.rules
        zones = pa.table(
            {
                # Zones in the data are trimmed as they are read; so are the map's.
                "z_zone": pa.array([z.strip() for z in sorted(config.zone_tiers)], pa.string()),
                "z_tier": pa.array(
                    [config.zone_tiers[z] for z in sorted(config.zone_tiers)], pa.string()
                ),
            }
        )
        zone_map = context.engine.store(_table_name(pack, "zones"), zones)
        mapped = orders.left_join(zone_map, orders.pickup_zone == zone_map.z_zone)
        default = ibis.literal(config.default_tier or None, type="string")
        # A view: the rates join below must see one relation, not this join's parts.
        orders = mapped.select(*orders.columns, _tier=mapped.z_tier.fill_null(default)).view()
    else:
        orders = orders.mutate(_tier=ibis.literal("", type="string"))
    joined = orders.left_join(
        rates,
        [
            orders.local_date >= rates.r_from,
            orders.local_date <= rates.r_to,
            orders._tier == rates.r_tier,
        ],
    )
    return joined.select(*orders.columns, *rates.columns)


def _pay(orders: Table, pack: RulePack) -> ir.DecimalValue:
    """The order money the pack counts as pay (exact)."""
    pay = orders.worker_pay
    for component in _floor(pack).pay[1:]:
        pay = pay + orders[component]
    return pay.cast(MONEY_DECIMAL)


def _distance(orders: Table, pack: RulePack) -> ir.FloatingValue:
    """Kilometres of each order on the pack's distance basis: null without ``distance_km``
    (the order is then not judged); an unknown approach counts as 0 km, which can only
    lower the floor."""
    if _floor(pack).distance == "engaged":
        return ibis.ifelse(orders.distance_km.notnull(), orders.km, ibis.null("float64"))
    return orders.distance_km


_METRIC_UNITS = {"trip": "trips", "week": "worker_weeks", "statement": "statements"}
"""The unit in PAY-03's metric name: ``share_of_<unit>_below_floor``."""

MAX_FLOOR = 1e12
"""Largest floor judged, in currency: a larger one comes from an implausible distance or
time (the unit is left out and counted); exact money holds 14 digits before the point."""


def _cents(value: ir.FloatingValue) -> ir.DecimalValue:
    """A floor in money, rounded half up to the cent as an exact decimal. The floor is
    computed in binary floating point, where 20.405 may be 20.40499...; a millionth of a
    cent added before rounding makes every half cent round up."""
    cents = (value * 100.0 + 0.5 + 1e-6).floor()
    return (cents / 100.0).round(2).cast(_CENTS).cast(MONEY_DECIMAL)


def _trip_units(
    context: CheckContext, pack: RulePack, rates: Table
) -> tuple[Table, dict[str, tuple[int, int]]]:
    """Per worker and week, the completed orders assessed and their money; and the orders
    left out, by reason, as (orders, workers)."""
    o = context.rebuilt.orders
    o = o.filter(o.completed)
    j = _with_rates(context, pack, o, rates)
    trip_time = _floor(pack).time == "trip"
    minutes = j.trip_minutes if trip_time else j.engaged_minutes
    timed = j.trip_timed if trip_time else j.engaged_minutes.notnull()
    distance = _distance(j, pack)
    needs_distance = any(r.per_distance for r in pack.rates)
    measured = distance.notnull() if needs_distance else ibis.literal(True)
    rated = j.r_from.notnull()
    raw = ibis.greatest(
        j.r_per_minute * minutes + j.r_per_km * distance.fill_null(0.0), j.r_minimum
    )
    j = j.mutate(
        _rated=rated,
        _timed=rated & timed,
        _measured=rated & timed & measured,
        _raw=raw,
    )
    j = j.mutate(_assessed=j._measured & (j._raw < MAX_FLOOR))
    left_out = _left_out(
        j,
        {
            "no_rate": ~j._rated,
            "no_time": j._rated & ~j._timed,
            "no_distance": j._timed & ~j._measured,
            "implausible": j._measured & ~j._assessed,
        },
    )
    a = j.filter(j._assessed)
    a = a.mutate(_floor=_cents(a._raw), _pay=_pay(a, pack))
    a = a.mutate(_short=ibis.greatest(a._floor - a._pay, _ZERO))
    units = a.group_by(["worker_id", "week_start"]).aggregate(
        units=a.count(),
        units_short=(a._short > 0).cast("int64").sum(),
        required=a._floor.sum(),
        paid=a._pay.sum(),
        shortfall=a._short.sum(),
    )
    zero = _ZERO
    return (
        units.select(
            "worker_id",
            "units",
            "units_short",
            "required",
            "paid",
            "shortfall",
            period_start=units.week_start,
            period_end=units.week_start + ibis.interval(days=6),
            topup_in_time=zero,
            topup_late=zero,
            breach=units.shortfall > 0,
            unmet=units.shortfall,
            owed=units.shortfall,
        ),
        left_out,
    )


def _week_units(
    context: CheckContext, pack: RulePack, rates: Table
) -> tuple[Table, dict[str, tuple[int, int]]]:
    """Per period assessed (worker-week, or pay statement for ``unit = "statement"``):
    floor, pay, shortfall, top-ups and what is owed; and the periods left out, by reason,
    as (periods, workers)."""
    rebuilt = context.rebuilt
    by_statement = _floor(pack).unit == "statement"
    j = _with_rates(context, pack, rebuilt.orders, rates)
    if by_statement:
        # An order belongs to the statement whose period holds its local dropoff date
        # (acceptance date without one), as the contract assigns orders to statements.
        p = context.package.tables["payouts"].table.select(
            "payout_id", p_worker=_col("worker_id"), p_start=_col("period_start"),
            p_end=_col("period_end"),
        )  # fmt: skip
        pay_date = j.dropoff_date.fill_null(j.local_date)
        jp = j.inner_join(
            p, [j.worker_id == p.p_worker, pay_date >= p.p_start, pay_date <= p.p_end]
        )
        j = jp.select(*j.columns, jp.payout_id)
        key = ["payout_id"]
    else:
        key = ["worker_id", "week_start"]
    # Completed orders carry the rates, time and distance; every order's pay counts
    # (a cancellation fee is pay).
    done = j.completed
    weight = ibis.ifelse(done, j.engaged_minutes.fill_null(0.0), 0.0)
    distance = _distance(j, pack)
    needs_distance = any(r.per_distance for r in pack.rates)
    extra = j.r_per_minute * weight + j.r_per_km * ibis.ifelse(done, distance.fill_null(0.0), 0.0)
    undistanced = done & (distance.isnull() if needs_distance else ibis.literal(False))
    by_period = j.group_by(key).aggregate(
        _unrated=(done & j.r_from.isnull()).cast("int64").sum(),
        _undistanced=undistanced.cast("int64").sum(),
        _orders=done.cast("int64").sum(),
        _weight=weight.sum(),
        _weighted=(weight * j.r_hourly).sum(),
        _hourly_mean=j.r_hourly.mean(where=done),
        _extra=extra.sum(),
        _pay=_pay(j, pack).sum(),
    )
    if by_statement:
        w = rebuilt.worker_periods
        assert w is not None  # the pack needs payouts (_missing)
        periods = w.mutate(_start=w.period_start, _end=w.period_end)
    else:
        w = rebuilt.worker_weeks
        periods = w.mutate(_start=w.week_start, _end=w.week_start + ibis.interval(days=6))
    if _floor(pack).time == "online":
        hours = periods.online_hours
    elif _floor(pack).time == "engaged_allowance":
        per_order = context.config.earnings.engaged_allowance_minutes_per_order / 60.0
        hours = periods.engaged_hours + periods.orders_completed.cast("float64") * per_order
    else:
        hours = periods.engaged_hours
    columns = dict.fromkeys([*key, "worker_id", "_start", "_end", "deductions"])
    periods = periods.select(*columns, _hours=hours)
    joined = periods.left_join(by_period, key)
    periods = joined.select(periods, *[c for c in by_period.columns if c.startswith("_")])
    ordered = periods._orders.notnull() & (periods._orders > 0)
    rated = ordered & (periods._unrated == 0)
    timed = rated & periods._hours.notnull()
    measured = timed & (periods._undistanced == 0)
    rate = ibis.ifelse(
        periods._weight > 0, periods._weighted / periods._weight, periods._hourly_mean
    )
    periods = periods.mutate(
        _ordered=ordered, _rated=rated, _timed=timed, _measured=measured,
        _raw=rate * periods._hours + periods._extra,
    )  # fmt: skip
    periods = periods.mutate(_assessed=periods._measured & (periods._raw < MAX_FLOOR))
    left_out = _left_out(
        periods,
        {
            "no_order": ~periods._ordered,
            "no_rate": periods._ordered & ~periods._rated,
            "no_time": periods._rated & ~periods._timed,
            "no_distance": periods._timed & ~periods._measured,
            "implausible": periods._measured & ~periods._assessed,
        },
    )
    a = periods.filter(periods._assessed)
    pay = a._pay - a.deductions if _floor(pack).net_of_deductions else a._pay
    a = a.mutate(required=_cents(a._raw), paid=pay)
    a = a.mutate(shortfall=ibis.greatest(a.required - a.paid, _ZERO))
    topups = _topups(context, pack, key)
    a = a.left_join(topups, key).select(a, topups.topup_in_time, topups.topup_late)
    a = a.mutate(
        topup_in_time=a.topup_in_time.fill_null(_ZERO),
        topup_late=a.topup_late.fill_null(_ZERO),
    )
    unmet = a.shortfall - ibis.least(a.topup_in_time, a.shortfall)
    a = a.mutate(_unmet=unmet)
    a = a.mutate(owed=a._unmet - ibis.least(a.topup_late, a._unmet))
    return (
        a.select(
            "worker_id",
            "required",
            "paid",
            "shortfall",
            "topup_in_time",
            "topup_late",
            "owed",
            period_start=a._start,
            period_end=a._end,
            units=ibis.literal(1, type="int64"),
            units_short=(a.shortfall > 0).cast("int64"),
            breach=a._unmet > 0,
            unmet=a._unmet,
        ),
        left_out,
    )


def _col(name: str) -> ir.Deferred:
    return ibis._[name]


def _topups(context: CheckContext, pack: RulePack, key: list[str]) -> Table:
    """Minimum-pay top-ups, in time and late, per pay statement (``key`` ``payout_id``) or
    per worker and the week its statement's period ends in; empty where the pack allows
    none or the payouts have none."""
    payouts = context.package.tables.get("payouts")
    within = _floor(pack).topup_within_days
    if within is None or payouts is None or "minimum_pay_topup" not in payouts.columns_present:
        types = {"payout_id": pa.string(), "worker_id": pa.string(), "week_start": pa.date32()}
        empty = ibis.memtable(pa.table({k: pa.array([], type=types[k]) for k in key}))
        return empty.mutate(topup_in_time=_ZERO, topup_late=_ZERO).limit(0)
    p = payouts.table
    p = p.filter(p.minimum_pay_topup > 0)
    deadline = p.period_end + ibis.interval(days=within)
    on_time = p.paid_at.isnull() | (p.paid_at.cast("timestamp").date() <= deadline)
    p = p.mutate(week_start=p.period_end.truncate("W"), _on_time=on_time)
    return p.group_by(key).aggregate(
        topup_in_time=p.minimum_pay_topup.sum(where=p._on_time).fill_null(_ZERO),
        topup_late=p.minimum_pay_topup.sum(where=~p._on_time).fill_null(_ZERO),
    )


def _left_out(units: Table, reasons: dict[str, ir.BooleanValue]) -> dict[str, tuple[int, int]]:
    """Per reason: the units it leaves out and their distinct workers."""
    if not reasons:
        return {}
    row = (
        units.aggregate(
            **{f"{k}_n": v.cast("int64").sum() for k, v in reasons.items()},
            **{f"{k}_w": units.worker_id.nunique(where=v) for k, v in reasons.items()},
        )
        .execute()
        .iloc[0]
    )
    return {k: (whole(row[f"{k}_n"]), whole(row[f"{k}_w"])) for k in reasons}


def _money(values: pd.Series) -> Decimal:
    """Exact sum of a column of Decimals (0 for none)."""
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def _finding(
    check: StatutoryPayFloor,
    context: CheckContext,
    pack: RulePack,
    frame: pd.DataFrame,
    left_out: dict[str, tuple[int, int]],
) -> Finding:
    k = context.config.report.min_cell_workers
    currency = context.config.audit.currency
    unit = _floor(pack).unit
    units = int(frame["units"].sum()) if len(frame) else 0
    breach = frame["breach"].astype(bool) if len(frame) else pd.Series(dtype=bool)
    if unit == "trip":
        in_breach = int(frame["units_short"].sum()) if len(frame) else 0
    else:
        in_breach = int(breach.sum())
    affected = frame.loc[breach | (frame["owed"] > 0) if len(frame) else breach]
    named = has_workers(context)
    # Without worker IDs (trips of public records) worker counts are unknown, not zero,
    # and no number can be one worker's: nothing is withheld for small cells.
    workers = int(frame["worker_id"].nunique()) if named else None
    workers_affected = int(affected["worker_id"].nunique()) if named else None
    owed_per_worker = (
        affected.groupby("worker_id")["owed"].agg(_money) if named and len(affected) else None
    )
    few = workers is not None and small_cell(workers, k)
    hide = few or (workers_affected is not None and small_cell(workers_affected, k))
    share = in_breach / units if units else 0.0
    if units:
        status, severity = fact_outcome(in_breach, share)
    else:
        status, severity = Status.INCONCLUSIVE, Severity.INFO
    owed_total = _money(frame["owed"]) if len(frame) else Decimal(0)
    noun = {"trip": "trips", "week": "worker-weeks", "statement": "pay statements"}[unit]
    data: dict[str, Any] = {
        "rule": pack.to_dict(),
        "unit": unit,
        "time_basis": _floor(pack).time,
        "pay_counted": list(_floor(pack).pay),
        "units_assessed": None if few else units,
        "units_in_breach": in_breach,
        "workers_affected": workers_affected,
        "required_total": None if few else float(_money(frame["required"])),
        "paid_total": None if few else float(_money(frame["paid"])),
        "shortfall_total": float(_money(frame["shortfall"])) if len(frame) else 0.0,
        # The part of the top-ups each shortfall needed: in time, what met it; late, what
        # met the rest (the engine's unmet and owed).
        "topped_up_in_time_total": _difference(frame, "shortfall", "unmet"),
        "topped_up_late_total": _difference(frame, "unmet", "owed"),
        "owed_total": float(owed_total),
        "owed_per_worker_median": (
            float(owed_per_worker.median()) if owed_per_worker is not None else None
        ),
        "owed_reached_by_k_workers": _reached_by(owed_per_worker, k),
    }
    for reason, (count, who) in left_out.items():
        data[f"not_assessed_{reason}"] = None if small_cell(who, k) else count
    hidden = (
        "units_in_breach", "workers_affected", "shortfall_total", "topped_up_in_time_total",
        "topped_up_late_total", "owed_total", "owed_per_worker_median",
        "owed_reached_by_k_workers",
    )  # fmt: skip
    evidence = _owed_rows(pack, frame)
    return Finding(
        check=check.id,
        status=status,
        severity=severity,
        title=check.title,
        metric=f"share_of_{_METRIC_UNITS[unit]}_below_floor",
        estimate=share if units and not hide else None,
        threshold=0.0,
        subject={"rule": pack.name},
        n_workers=None if few else workers,
        n_orders=None,
        basis=pack_basis(context, "PAY-03", pack),
        detail=_detail(pack, data, units, in_breach, share, hide, k, currency, noun),
        data=withheld(data, hidden, hide, k),
        evidence=evidence,
    )


def _difference(frame: pd.DataFrame, larger: str, smaller: str) -> float:
    """The exact sum of ``larger`` less that of ``smaller`` (0 over no rows)."""
    if not len(frame):
        return 0.0
    return float(_money(frame[larger]) - _money(frame[smaller]))


def _reached_by(per_worker: pd.Series | None, k: int) -> float | None:
    """The largest amount owed that at least ``k`` workers are owed (published in place of
    a maximum, which is one worker's)."""
    if per_worker is None or len(per_worker) < k:
        return None
    return float(sorted(per_worker, reverse=True)[k - 1])


def _owed_rows(pack: RulePack, frame: pd.DataFrame) -> pd.DataFrame:
    """``owed.csv`` rows of this pack: each worker-week with a shortfall."""
    rows = frame.loc[frame["shortfall"] > 0] if len(frame) else frame
    starts = [pd.Timestamp(d).date() for d in rows["period_start"]]
    ends = [pd.Timestamp(d).date() for d in rows["period_end"]]
    out = pd.DataFrame(
        {
            "rule": pack.name,
            "worker_id": rows["worker_id"],
            "period_start": [d.isoformat() for d in starts],
            "period_end": [d.isoformat() for d in ends],
            "units": rows["units"],
            "units_short": rows["units_short"],
            "required": rows["required"],
            "paid": rows["paid"],
            "shortfall": rows["shortfall"],
            "topup_in_time": rows["topup_in_time"],
            "topup_late": rows["topup_late"],
            "owed": rows["owed"],
        },
        columns=list(OWED_COLUMNS),
    )
    for column in ("required", "paid", "shortfall", "topup_in_time", "topup_late", "owed"):
        out[column] = [f"{Decimal(v):.2f}" for v in out[column]]
    return out.reset_index(drop=True)


def _detail(
    pack: RulePack,
    data: dict[str, Any],
    units: int,
    in_breach: int,
    share: float,
    hide: bool,
    k: int,
    currency: str,
    noun: str,
) -> str:
    left = [
        (data.get("not_assessed_no_rate"), "with no rate in force (outside the pack's dates, "
         "or a zone with no tier)"),
        (data.get("not_assessed_no_time"), "without the time the rule counts"),
        (data.get("not_assessed_no_distance"), "without a distance"),
        (data.get("not_assessed_implausible"), "whose floor would exceed 10^12 (an "
         "implausible time or distance)"),
        (data.get("not_assessed_no_order"), "with no completed order"),
    ]  # fmt: skip
    parts = [f"{n:,} {noun} {words}" for n, words in left if n]
    aside = " Not assessed: " + "; ".join(parts) + "." if parts else ""
    rule = f"Rule pack {pack.name} ({pack.version})"
    if not units:
        return f"{rule}: no {noun} could be assessed.{aside}"
    if in_breach and hide:
        return (
            f"{rule}: {noun} of fewer than {k} workers were paid below the floor; their "
            "number and the money owed are not published ([report] min_cell_workers)." + aside
        )
    if in_breach:
        affected = data["workers_affected"]
        who = "worker" if affected == 1 else "workers"
        to_whom = f", to {affected:,} {who}" if affected is not None else ""
        late = data["topped_up_late_total"]
        late_words = f", after {late:,.2f} {currency} topped up late" if late else ""
        return (
            f"{rule}: {in_breach:,} of {units:,} {noun} ({share:.1%}) were paid below the "
            f"floor and not topped up in time{to_whom}; "
            f"{data['owed_total']:,.2f} {currency} is owed{late_words}." + aside
        )
    topped = data["topped_up_in_time_total"]
    topped_words = f" ({topped:,.2f} {currency} of it through top-ups in time)" if topped else ""
    return (
        f"{rule}: every one of {units:,} {noun} was paid at least the floor{topped_words}." + aside
    )
