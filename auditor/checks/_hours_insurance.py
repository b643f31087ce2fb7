"""HRS-01 (working time) and INS-01 (occupational-injury premiums).

Both count facts in the rows; neither tests a hypothesis. Any breach fails, and
severity grows with the share of workers (HRS-01) or orders (INS-01) touched. Numbers over
fewer than ``[report] min_cell_workers`` workers are withheld (``_small_cells``): the finding
still fails, says "fewer than k workers", and publishes no count, share, amount or hours of
them; the longest hours published are those at least k workers reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import ibis
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs, Status
from auditor.checks._common import basis, fact_outcome, scalar
from auditor.checks._registry import register
from auditor.checks._small_cells import reached_by, small_cell, withheld
from auditor.engine import instant_seconds

__all__ = ["InjuryPremium", "WorkingTime", "online_blocks"]


def online_blocks(sessions: Table, min_break_minutes: float) -> Table:
    """Continuous online blocks: sessions joined when the gap between them is shorter than
    ``min_break_minutes``. One row per block: worker_id, block_start, block_end, hours,
    local_date (of the start)."""
    s = sessions.select("worker_id", "online_at", "offline_at")
    order = ["online_at", "offline_at"]
    running = ibis.window(group_by="worker_id", order_by=order, preceding=None, following=0)
    earlier = ibis.window(group_by="worker_id", order_by=order, rows=(None, -1))
    s = s.mutate(_prev=s.offline_at.max().over(earlier))
    gap_min = (instant_seconds(s.online_at) - instant_seconds(s._prev)) / 60.0
    starts = (s._prev.isnull() | (gap_min >= min_break_minutes)).cast("int64")
    s = s.mutate(_block=starts.sum().over(running))
    b = s.group_by(["worker_id", "_block"]).aggregate(
        block_start=s.online_at.min(), block_end=s.offline_at.max()
    )
    hours = (instant_seconds(b.block_end) - instant_seconds(b.block_start)) / 3600
    return b.select(
        "worker_id", "block_start", "block_end", hours=hours, local_date=b.block_start.date()
    )


@register
class WorkingTime:
    """HRS-01: online beyond the daily limit, or continuously without a long enough break.

    Daily: online hours per worker and local date (a session counts on the date it
    starts) above ``[hours] max_daily_online_hours``. Continuous: blocks of sessions
    separated by breaks shorter than ``min_break_minutes`` lasting longer than
    ``max_continuous_online_hours``.
    """

    id: ClassVar[str] = "HRS-01"
    title: ClassVar[str] = "Online time stays within daily and continuous limits"
    needs: ClassVar[Needs] = Needs(tables=("sessions",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        h = context.config.hours
        sessions = context.rebuilt.sessions
        assert sessions is not None  # guaranteed by needs
        n_workers = int(sessions.worker_id.nunique().execute())
        days = sessions.group_by(["worker_id", "local_date"]).aggregate(
            hours=sessions.online_hours.sum()
        )
        long_days = days.filter(days.hours > h.max_daily_online_hours)
        blocks = online_blocks(sessions, h.min_break_minutes)
        long_blocks = blocks.filter(blocks.hours > h.max_continuous_online_hours)
        return [
            self._finding(
                context,
                "daily_online_hours",
                long_days,
                days,
                n_workers,
                h.max_daily_online_hours,
                "worker-days online more than {limit:g} h",
                "day",
            ),
            self._finding(
                context,
                "continuous_online_hours",
                long_blocks,
                blocks,
                n_workers,
                h.max_continuous_online_hours,
                "stretches online more than {limit:g} h without a "
                f"{h.min_break_minutes:g}-minute break",
                "stretch",
            ),
        ]

    def _finding(
        self,
        context: CheckContext,
        limit_name: str,
        over: Table,
        units: Table,
        n_workers: int,
        limit: float,
        text: str,
        unit: str,
    ) -> Finding:
        k = context.config.report.min_cell_workers
        n_over = int(over.count().execute())
        workers_over = int(over.worker_id.nunique().execute()) if n_over else 0
        share = workers_over / n_workers if n_workers else 0.0
        units_n = int(units.count().execute())
        status, severity = fact_outcome(n_over, share)
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers_over, k)
        reached = reached_by(over, "hours", k) if n_over and not hide else None
        what = text.format(limit=limit)
        if not n_over:
            detail = f"No worker exceeded {limit:g} h ({limit_name.replace('_', ' ')})."
        elif hide:
            detail = (
                f"Fewer than {k} workers had {what}; their number, share and hours are not "
                "published ([report] min_cell_workers)."
            )
        else:
            verb = "was" if k == 1 else "were each"
            detail = (
                f"{workers_over} of {n_workers} workers ({share:.1%}) had {n_over} {what}; "
                f"{k} of them {verb} online for a {unit} of {reached:.1f} h or more."
            )
        data = {
            "units_over": n_over,
            "units": None if few else units_n,
            "workers_over": workers_over,
            "hours_reached_by_k_workers": reached,
        }
        return Finding(
            check=self.id,
            status=status,
            severity=severity,
            title=self.title,
            metric="share_of_workers_over_limit",
            estimate=None if hide else share,
            threshold=limit,
            subject={"limit": limit_name},
            n_workers=None if few else n_workers,
            basis=basis(context, self.id),
            detail=detail,
            data=withheld(data, ("units_over", "workers_over"), hide, k),
        )


@register
class InjuryPremium:
    """INS-01: every completed order carries an occupational-injury premium, paid by the
    platform. Two findings: orders with no (or a zero) premium, and orders whose premium
    was charged to the worker."""

    id: ClassVar[str] = "INS-01"
    title: ClassVar[str] = "Every order carries an injury premium paid by the platform"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.injury_premium",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        o = context.rebuilt.orders
        o = o.filter(o.completed)
        n = int(o.count().execute())
        n_workers = int(o.worker_id.nunique().execute())
        missing = o.filter(o.injury_premium.isnull() | (o.injury_premium <= 0))
        findings = [
            self._finding(context, "missing_premium", missing, n, n_workers, None,
                          "carried no occupational-injury premium")
        ]  # fmt: skip
        if "injury_premium_payer" in context.package.tables["orders"].columns_present:
            paid = o.filter((o.injury_premium_payer == "worker") & (o.injury_premium > 0))
            amount = scalar(paid.injury_premium.sum()) or 0.0
            findings.append(
                self._finding(context, "paid_by_worker", paid, n, n_workers, amount,
                              "had the premium charged to the worker")
            )  # fmt: skip
        else:
            findings.append(
                Finding(
                    check=self.id,
                    status=Status.NOT_ASSESSED,
                    title=self.title,
                    subject={"issue": "paid_by_worker"},
                    missing=("orders.injury_premium_payer",),
                    detail="Who paid the premium is not in the package.",
                )
            )
        return findings

    def _finding(
        self,
        context: CheckContext,
        issue: str,
        hit: Table,
        n: int,
        n_workers: int,
        amount: float | None,
        what: str,
    ) -> Finding:
        k = context.config.report.min_cell_workers
        n_hit = int(hit.count().execute())
        workers = int(hit.worker_id.nunique().execute()) if n_hit else 0
        share = n_hit / n if n else 0.0
        currency = context.config.audit.currency
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers, k)
        status, severity = fact_outcome(n_hit, share)
        if not n_hit:
            detail = f"No completed order {what}."
        elif hide:
            withheld_words = "number, share and the amount" if amount else "number and share"
            detail = (
                f"Completed orders of fewer than {k} workers {what}; their {withheld_words} "
                "are not published ([report] min_cell_workers)."
            )
        else:
            money = f"; {amount:,.2f} {currency} charged to workers" if amount else ""
            detail = (
                f"{n_hit} of {n} completed orders ({share:.1%}), of {workers} workers, {what}"
                f"{money}."
            )
        data = {"orders": n_hit, "workers_affected": workers, "amount": amount}
        return Finding(
            check=self.id,
            status=status,
            severity=severity,
            title=self.title,
            metric="share_of_orders",
            estimate=None if hide else share,
            threshold=0.0,
            subject={"issue": issue},
            n_workers=None if few else n_workers,
            n_orders=None if few else n,
            basis=basis(context, self.id),
            detail=detail,
            data=withheld(data, ("orders", "workers_affected", "amount"), hide, k),
        )
