"""Working time: engaged intervals (stacked orders counted once) and online sessions.

Engaged time is the **union** of each worker's accept-to-dropoff intervals, so
that a rider carrying three stacked orders for 30 minutes is engaged for 30
minutes, not 90 (as China's 2023 working-time guides for platform workers ask).
It is computed as gaps-and-islands with window functions in the engine.

Each island and each session is attributed to the local date (``[audit]
timezone``) on which it starts.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from auditor.engine import instant_seconds

__all__ = ["engaged_islands", "online_sessions"]


def engaged_islands(orders: Table) -> Table:
    """Maximal periods in which a worker had at least one order in hand.

    Args:
        orders: enriched orders (needs worker_id, accepted_at, dropoff_at, _row).

    Returns:
        One row per island: ``worker_id``, ``island_start``, ``island_end`` (timestamps),
        ``engaged_hours`` (float), ``orders`` (orders overlapping the island),
        ``local_date`` (date the island starts).
    """
    o = orders.filter(
        orders.accepted_at.notnull()
        & orders.dropoff_at.notnull()
        & (orders.dropoff_at > orders.accepted_at)
    ).select("worker_id", "accepted_at", "dropoff_at", "_row")
    order = ["accepted_at", "_row"]
    running = ibis.window(group_by="worker_id", order_by=order, preceding=None, following=0)
    earlier = ibis.window(group_by="worker_id", order_by=order, rows=(None, -1))
    o = o.mutate(_prev_end=o.dropoff_at.max().over(earlier))
    starts = (o._prev_end.isnull() | (o.accepted_at > o._prev_end)).cast("int64")
    o = o.mutate(_island=starts.sum().over(running))
    islands = o.group_by(["worker_id", "_island"]).aggregate(
        island_start=o.accepted_at.min(),
        island_end=o.dropoff_at.max(),
        orders=o.count(),
    )
    return islands.select(
        "worker_id",
        "island_start",
        "island_end",
        engaged_hours=(
            instant_seconds(islands.island_end) - instant_seconds(islands.island_start)
        ).cast("float64")
        / 3600.0,
        orders=islands.orders,
        local_date=islands.island_start.date(),
    )


def online_sessions(sessions: Table) -> Table:
    """Validated sessions with ``online_hours`` (float) and ``local_date`` of their start."""
    s = sessions
    return s.select(
        "worker_id",
        "online_at",
        "offline_at",
        "zone",
        online_hours=(instant_seconds(s.offline_at) - instant_seconds(s.online_at)) / 3600.0,
        local_date=s.online_at.date(),
    )
