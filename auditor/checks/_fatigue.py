"""HRS-02: no dispatch during a rule's required rest; working time on the rule's basis.

A rule pack's ``[working_time]`` (``cn-delivery-fatigue``: the national delivery-platform
standard) sets a fatigue rule on **order-taking time**: the union of a worker's
acceptance-to-dropoff intervals (the engaged islands). A **stretch** of it continues
across gaps shorter than ``rest_minutes``; once a stretch has lasted longer than
``continuous_hours`` (from its first acceptance to the end of the current order), each
time the worker has completed every order in hand (an island ends) a **required rest**
starts: no offer for ``rest_minutes`` from then. Stacked orders are one stretch of work.
The evidence of dispatch is the ``offers`` table (every offer, whatever the
answer), else the orders' ``accepted_at`` (an order accepted is an order dispatched).

A breach is a required rest in which the worker was sent an offer; any breach fails, with
the severity of the share of required rests breached. Also reported, never judged:
offers after ``daily_hours`` of order-taking in the local day the order-taking started
(the standard lets the worker confirm to go on, and no table records the confirmation),
and working time per worker-day on the basis of 人社厅发〔2023〕50号: order time plus
``[earnings] engaged_allowance_minutes_per_order`` per completed order. Every count is
withheld under ``[report] min_cell_workers`` workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import fact_outcome, whole
from auditor.checks._registry import register
from auditor.checks._rule_packs import no_pack, pack_basis, packs_with
from auditor.checks._small_cells import small_cell, withheld
from auditor.engine import instant_seconds
from auditor.rules import RulePack, WorkingTimeRule

__all__ = ["FatigueRest"]


@register
class FatigueRest:
    """HRS-02: no offer is sent during a rest the rule pack requires; order-taking and
    working hours on the rule's basis."""

    id: ClassVar[str] = "HRS-02"
    title: ClassVar[str] = "No dispatch during a required rest; working time on the rule's basis"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        packs = packs_with(context, "working_time")
        if not packs:
            return [no_pack(self.id, self.title, "a working-time rule", "cn-delivery-fatigue")]
        return [self._apply(context, pack) for pack in packs]

    def _apply(self, context: CheckContext, pack: RulePack) -> Finding:
        rule = pack.working_time
        assert rule is not None
        engine = context.engine
        # Stored once: each is read by several counts (the rests are few; the windows over
        # every island and the join with every offer are what cost).
        names = (f"hrs02_rests_{pack.sha256[:12]}", f"hrs02_breaches_{pack.sha256[:12]}")
        rests = engine.materialize(names[0], required_rests(context.rebuilt.islands, rule))
        dispatch, source = _dispatches(context)
        breached = engine.materialize(names[1], _breaches(rests, dispatch))
        counts = _counts(rests, breached)
        daily = _daily(context, rule, dispatch)
        for name in names:
            engine.drop(name)
        return _finding(self, context, pack, rule, counts, daily, source)


def required_rests(islands: Table, rule: WorkingTimeRule) -> Table:
    """The rests a fatigue rule requires: one per order-taking island that ends a stretch
    longer than ``continuous_hours``; columns ``worker_id``, ``rest_from`` and ``rest_to``
    (seconds since the epoch, float)."""
    order = ["island_start", "island_end"]
    earlier = ibis.window(group_by="worker_id", order_by=order)
    running = ibis.window(group_by="worker_id", order_by=order, preceding=None, following=0)
    start_s, end_s = instant_seconds(islands.island_start), instant_seconds(islands.island_end)
    i = islands.select("worker_id", "island_start", "island_end", _start=start_s, _end=end_s)
    i = i.mutate(_prev_end=i._end.lag().over(earlier))
    new = i._prev_end.isnull() | (i._start - i._prev_end >= rule.rest_minutes * 60.0)
    i = i.mutate(_stretch=new.cast("int64").sum().over(running))
    i = i.mutate(
        _stretch_start=i._start.min().over(ibis.window(group_by=["worker_id", "_stretch"]))
    )
    long = i.filter(i._end - i._stretch_start > rule.continuous_hours * 3600.0)
    return long.select("worker_id", rest_from=long._end, rest_to=long._end + rule.rest_minutes * 60)


def _dispatches(context: CheckContext) -> tuple[Table, str]:
    """Each dispatch to a worker (``worker_id``, ``_id``, ``_at`` in epoch seconds): the
    offers, else the orders' acceptances."""
    tables = context.package.tables
    if "offers" in tables:
        o = tables["offers"].table
        return o.select("worker_id", _id=o.offer_id, _at=instant_seconds(o.offered_at)), "offers"
    o = context.rebuilt.orders
    return o.select("worker_id", _id=o.order_id, _at=instant_seconds(o.accepted_at)), "orders"


def _breaches(rests: Table, dispatch: Table) -> Table:
    """Dispatches inside a required rest, with the rest (``rest_from``) they fell in."""
    joined = rests.inner_join(
        dispatch,
        [
            rests.worker_id == dispatch.worker_id,
            dispatch._at > rests.rest_from,
            dispatch._at < rests.rest_to,
        ],
    )
    return joined.select(rests.worker_id, rests.rest_from, dispatch._id)


def _counts(rests: Table, breached: Table) -> dict[str, int]:
    r = rests.aggregate(rests_required=rests.count(), workers_rests=rests.worker_id.nunique())
    b = breached.aggregate(
        dispatches=breached._id.nunique(), workers_affected=breached.worker_id.nunique()
    )
    rests_hit = breached.select("worker_id", "rest_from").distinct()
    first, second = r.execute().iloc[0], b.execute().iloc[0]
    out = {k: whole(v) for k, v in {**first.to_dict(), **second.to_dict()}.items()}
    out["rests_breached"] = whole(rests_hit.count().execute())
    return out


def _daily(context: CheckContext, rule: WorkingTimeRule, dispatch: Table) -> dict[str, Any]:
    """Order-taking and 50号 working hours per worker-day (distribution), worker-days past
    ``daily_hours`` of order-taking, and the dispatches after that mark that day."""
    rebuilt = context.rebuilt
    days = rebuilt.worker_days
    allowance = context.config.earnings.engaged_allowance_minutes_per_order / 60.0
    days = days.filter(days.engaged_hours > 0)
    frame = days.select(
        order_hours=days.engaged_hours,
        working_hours=days.engaged_hours + days.orders_completed.cast("float64") * allowance,
        worker_id=days.worker_id,
    ).execute()
    out: dict[str, Any] = {
        "worker_days": len(frame),
        "workers": int(frame["worker_id"].nunique()),
        "order_hours_median": _quantile(frame["order_hours"], 0.5),
        "order_hours_p90": _quantile(frame["order_hours"], 0.9),
        "working_hours_median": _quantile(frame["working_hours"], 0.5),
        "working_hours_p90": _quantile(frame["working_hours"], 0.9),
    }
    if not rule.daily_hours:
        return out
    long_days = frame[frame["order_hours"] > rule.daily_hours]
    out["worker_days_past_daily_hours"] = len(long_days)
    out["workers_past_daily_hours"] = int(long_days["worker_id"].nunique())
    # The moment a day's order-taking reaches daily_hours: inside the island where the
    # day's running total passes it (islands count to the day they start).
    i = rebuilt.islands
    day = ibis.window(
        group_by=["worker_id", "local_date"],
        order_by=["island_start"],
        preceding=None,
        following=0,
    )
    i = i.mutate(_through=i.engaged_hours.sum().over(day))
    i = i.mutate(_before=i._through - i.engaged_hours)
    crossing = i.filter((i._before < rule.daily_hours) & (i._through >= rule.daily_hours))
    marks = crossing.select(
        "worker_id",
        _mark=instant_seconds(crossing.island_start)
        + (rule.daily_hours - crossing._before) * 3600.0,
        _day_end=instant_seconds(crossing.island_start) + 86400.0,
    )
    after = marks.inner_join(
        dispatch,
        [
            marks.worker_id == dispatch.worker_id,
            dispatch._at > marks._mark,
            dispatch._at < marks._day_end,
        ],
    )
    row = after.aggregate(n=after._id.nunique(), w=after.worker_id.nunique()).execute().iloc[0]
    out["dispatches_past_daily_hours"] = whole(row["n"])
    out["workers_dispatched_past_daily_hours"] = whole(row["w"])
    return out


def _quantile(values: Any, q: float) -> float | None:
    return float(np.quantile(values.to_numpy(dtype=float), q)) if len(values) else None


def _finding(
    check: FatigueRest,
    context: CheckContext,
    pack: RulePack,
    rule: WorkingTimeRule,
    counts: dict[str, int],
    daily: dict[str, Any],
    source: str,
) -> Finding:
    k = context.config.report.min_cell_workers
    required, breached = counts["rests_required"], counts["rests_breached"]
    few = small_cell(counts["workers_rests"], k)
    hide = few or small_cell(counts["workers_affected"], k)
    share = breached / required if required else 0.0
    if daily["worker_days"] == 0:
        status, severity = Status.INCONCLUSIVE, Severity.INFO
    else:
        status, severity = fact_outcome(breached, share)
    hours_hidden = small_cell(daily["workers"], k)
    past_hidden = small_cell(daily.get("workers_past_daily_hours", 0), k)
    dispatched_hidden = small_cell(daily.get("workers_dispatched_past_daily_hours", 0), k)
    data: dict[str, Any] = {
        "rule": pack.to_dict(),
        "continuous_hours": rule.continuous_hours,
        "rest_minutes": rule.rest_minutes,
        "daily_hours": rule.daily_hours,
        "dispatch_evidence": source,
        "rests_required": None if few else required,
        "rests_breached": breached,
        "dispatches_in_rest": counts["dispatches"],
        "workers_affected": counts["workers_affected"],
        "worker_days": None if hours_hidden else daily["worker_days"],
        "order_hours_median": None if hours_hidden else daily["order_hours_median"],
        "order_hours_p90": None if hours_hidden else daily["order_hours_p90"],
        "working_hours_median": None if hours_hidden else daily["working_hours_median"],
        "working_hours_p90": None if hours_hidden else daily["working_hours_p90"],
        "worker_days_past_daily_hours": (
            None if past_hidden else daily.get("worker_days_past_daily_hours")
        ),
        "dispatches_past_daily_hours": (
            None if dispatched_hidden else daily.get("dispatches_past_daily_hours")
        ),
    }
    keys = ("rests_breached", "dispatches_in_rest", "workers_affected")
    return Finding(
        check=check.id,
        status=status,
        severity=severity,
        title=check.title,
        metric="share_of_required_rests_with_dispatch",
        estimate=share if required and not hide else None,
        threshold=0.0,
        subject={"rule": pack.name},
        n_workers=None if hours_hidden else daily["workers"],
        basis=pack_basis(context, "HRS-02", pack),
        detail=_detail(pack, rule, data, required, breached, share, hide, k, source),
        data=withheld(data, keys, hide, k),
    )


def _detail(
    pack: RulePack,
    rule: WorkingTimeRule,
    data: dict[str, Any],
    required: int,
    breached: int,
    share: float,
    hide: bool,
    k: int,
    source: str,
) -> str:
    what = "offers" if source == "offers" else "orders accepted (the package has no offers)"
    head = (
        f"Rule pack {pack.name}: after more than {rule.continuous_hours:g} h of continuous "
        f"order-taking, no dispatch for {rule.rest_minutes:g} minutes after each order."
    )
    hours = ""
    if data["working_hours_median"] is not None:
        hours = (
            f" Working time per worker-day (order time plus allowance): median "
            f"{data['working_hours_median']:.1f} h, 90th percentile "
            f"{data['working_hours_p90']:.1f} h."
        )
    past = data["dispatches_past_daily_hours"]
    if rule.daily_hours and past:
        hours += (
            f" {past:,} {what.split(' (')[0]} came after {rule.daily_hours:g} h of "
            "order-taking in the day: allowed where the worker confirmed, which no table "
            "records (reported, not judged)."
        )
    if not required:
        return head + " No stretch of order-taking was long enough to require a rest." + hours
    if breached and hide:
        return (
            head + f" Required rests of fewer than {k} workers saw {what}; their number is not "
            "published ([report] min_cell_workers)." + hours
        )
    if breached:
        who = "worker" if data["workers_affected"] == 1 else "workers"
        return (
            head + f" {breached:,} of {required:,} required rests ({share:.1%}) saw "
            f"{data['dispatches_in_rest']:,} {what}, to {data['workers_affected']:,} {who}." + hours
        )
    shown = data["rests_required"]
    count = f"{shown:,}" if shown is not None else f"the (fewer than {k} workers')"
    return head + f" None of {count} required rests saw {what}." + hours
