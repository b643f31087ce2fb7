"""DSP-01 and DSP-02: does the dispatch algorithm favour some worker groups?

DSP-01 compares orders per online hour. Online time is cut into cells of one worker, zone
(where the session started), local date and clock hour; each order counts in the cell of
the session and hour in which it was accepted. A Poisson model of the cell counts with
log(online hours) as exposure and a fixed effect per zone x date x hour stratum compares
each group with the reference group only where both were online at the same place and time
(groups legitimately work other zones and hours). Inference is by worker (cluster-robust,
or a permutation of worker labels when a group has few workers).

DSP-02 compares the pay quoted in offers for comparable orders: log(offered pay) within
strata of the order offered (its pickup zone x service x local day type (weekday/weekend)
x hour), adjusting for the order's distance and trip time (logs, squares, product), by
worker. The offer's own ``zone`` is not used: an order is compared in one stratum whoever
it was offered to.

Neither test conditions on what the algorithm itself produces (acceptance, ratings, tiers);
the view adjusted for ``[fairness] algorithmic_attributes`` is reported separately in
``data.adjusted_for_algorithmic`` and labelled so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import (
    compact,
    group_rates,
    log_outcome_comparisons,
    same_words,
    strata,
    worker_cells,
)
from auditor.checks._groups import (
    Comparison,
    attributes_findings,
    cluster_subset,
    compare_groups,
    roster,
)
from auditor.checks._registry import register
from auditor.checks._work import positive_log, stratum_codes
from auditor.engine import Engine
from auditor.stats import GroupEffect, RateCells, poisson_effect

__all__ = ["DispatchRate", "OfferQuality", "online_cells"]


def online_cells(engine: Engine, orders: Table, sessions: Table, codes: Table) -> tuple[Table, int]:
    """Cells (worker code, zone, local date, hour) with ``hours`` online and ``orders``
    accepted in them; and the number of orders accepted outside any session (in no
    cell)."""
    s = sessions.select(
        "worker_id",
        zone=sessions.zone.fill_null(""),
        on=sessions.online_at.cast("timestamp"),
        off=sessions.offline_at.cast("timestamp"),
        span=sessions.online_hours,
    )
    longest = s.span.max().execute()
    n_slots = math.ceil(float(longest or 0.0)) + 2
    offsets = ibis.memtable({"k": np.arange(n_slots, dtype=np.int64)})
    x = s.cross_join(offsets)
    slot = x.on.truncate("h") + x.k.as_interval("h")
    x = x.mutate(slot=slot).filter(lambda t: (t.slot < t.off) & (t.k <= t.span + 1))
    seconds = (
        ibis.least(x.off, x.slot + ibis.interval(hours=1)).epoch_seconds()
        - ibis.greatest(x.on, x.slot).epoch_seconds()
    )
    exposure = (
        x.mutate(sec=seconds)
        .group_by(
            "worker_id",
            "zone",
            local_date=x.slot.date(),
            hour=x.slot.hour().cast("int8"),
        )
        .aggregate(hours=(ibis._.sec.sum().cast("float64") / 3600.0))
    )
    o = orders.select("worker_id", "accepted_at", "local_date", "local_hour")
    ss = sessions.select(
        s_worker=sessions.worker_id,
        online_at=sessions.online_at,
        offline_at=sessions.offline_at,
        s_zone=sessions.zone.fill_null(""),
    )
    j = o.asof_join(ss, on=o.accepted_at >= ss.online_at, predicates=o.worker_id == ss.s_worker)
    # One pass of the as-of join counts the orders per cell, inside a session or not.
    per_cell = engine.materialize(
        "dsp_order_cells",
        j.group_by(
            "worker_id",
            zone=j.s_zone,
            local_date=j.local_date,
            hour=j.local_hour,
            inside=(j.accepted_at < j.offline_at).fill_null(False),
        ).aggregate(orders=ibis._.count()),
    )
    counted = per_cell.filter(per_cell.inside).drop("inside")
    n_outside = per_cell.filter(~per_cell.inside).orders.sum().execute()
    cells = exposure.left_join(counted, ["worker_id", "zone", "local_date", "hour"]).select(
        exposure.worker_id,
        exposure.zone,
        exposure.local_date,
        exposure.hour,
        exposure.hours,
        orders=counted.orders.fill_null(0),
    )
    cells = cells.inner_join(codes, "worker_id").drop("worker_id")
    cells = cells.order_by(["code", "zone", "local_date", "hour"])  # reproducible sums
    return cells, int(n_outside or 0)


def _sorted_codes(column: pa.ChunkedArray) -> NDArray[np.int64]:
    """Integer code of each value, numbered in the values' sorted order (as
    ``pd.factorize(..., sort=True)``, without a Python string per row)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = encoded.dictionary.to_pylist()
    rank = np.empty(len(values), np.int64)
    rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return rank[np.asarray(encoded.indices, dtype=np.int64)]


@register
class DispatchRate:
    """DSP-01: orders per online hour by worker group, in the same zones and hours."""

    id: ClassVar[str] = "DSP-01"
    title: ClassVar[str] = (
        "Worker groups get as many orders per online hour in the same zones and hours"
    )
    needs: ClassVar[Needs] = Needs(tables=("orders", "sessions", "workers"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        cells_t, n_outside = online_cells(
            context.engine, context.rebuilt.orders, context.rebuilt.sessions, people.table
        )
        cells = cells_t.to_pyarrow()
        zone = _sorted_codes(cells["zone"])
        day = cells["local_date"].cast("int32").to_numpy().astype(np.int64)
        hour = cells["hour"].to_numpy().astype(np.int64)
        code = cells["code"].to_numpy().astype(np.int64)
        hours = cells["hours"].to_numpy()
        count = cells["orders"].to_numpy().astype(np.float64)
        stratum = strata(zone, day, hour, people.legitimate_codes()[code])
        alg = people.algorithmic_codes()
        seed = context.config.audit.seed

        def effect(
            keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
        ) -> GroupEffect:
            rows, new, old = cluster_subset(code, keep)
            st = stratum[rows]
            if algorithmic and alg is not None:
                st = strata(st, alg[code[rows]])
            rc = RateCells(count[rows], hours[rows], compact(st), new)
            return poisson_effect(
                rc, treat[old], method="poisson_fe_zone_date_hour", permutations=perms, seed=seed
            )

        present = np.bincount(code, minlength=people.size) > 0
        orders_of = np.bincount(code, weights=count, minlength=people.size)
        hours_of = np.bincount(code, weights=hours, minlength=people.size)

        def one(attribute: str) -> list[Finding | Confirmatory]:
            labels = people.labels(attribute)
            raw = group_rates(labels, orders_of, hours_of)
            spec = Comparison(
                check=self.id,
                title=self.title,
                metric="order_rate_ratio",
                attribute=attribute,
                unit="workers",
                phrase=lambda g, r, x: (
                    f"{attribute}={g} workers got {x:.3f} times the orders per online hour of "
                    f"{attribute}={r} workers online in the same zone, date and hour"
                    + same_words(people)
                ),
                raw=raw,
                extra=lambda g, k, t, e: {"orders_outside_sessions": n_outside},
                note=(
                    f" Not counted: {n_outside:,} orders accepted outside any online session."
                    if n_outside
                    else ""
                ),
            )
            return compare_groups(
                context,
                spec,
                labels,
                present,
                effect,
                lambda keep: int(orders_of[keep].sum()),
                has_algorithmic=alg is not None,
            )

        return attributes_findings(context, self.id, self.title, one)


@register
class OfferQuality:
    """DSP-02: pay quoted in offers for comparable orders, by worker group."""

    id: ClassVar[str] = "DSP-02"
    title: ClassVar[str] = "Worker groups are offered the same pay for comparable orders"
    needs: ClassVar[Needs] = Needs(
        tables=("offers", "workers", "orders"), columns=("offers.offered_pay",)
    )

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        offers = context.package.tables["offers"].table
        # Each offer is compared in its order's stratum (the order's pickup zone, service,
        # local day type and hour): the same order then falls in one stratum whoever was
        # offered it, and no offer's time needs a time-zone conversion (15 M of them cost
        # 10 s). The stratum travels as one integer code: storing the joined units with
        # the four keys (two of them text) took about 2 s more at 15 M offers.
        coded, orders = stratum_codes(context.rebuilt.orders, context.engine, "dsp_strata")
        o = orders.select("order_id", "stratum", "distance_km", "trip_minutes")
        joined = offers.left_join(o, "order_id")
        units = joined.select(
            worker_id=joined.worker_id,
            # Offers with no positive quoted pay are counted as excluded, like those below.
            y=positive_log(joined.offered_pay),
            # Offers of orders not in the package have no stratum, distance or trip time:
            # they are counted as excluded.
            stratum=joined.stratum,
            distance_km=joined.distance_km.cast("float64"),
            trip_minutes=joined.trip_minutes,
        )
        # Stored once: the cell moments read the units twice, and the join is the costly
        # part of each read. Dropped once summed (15 M rows, about 0.6 GB).
        stored = context.engine.materialize("dsp_offer_units", units)
        work = worker_cells(context, "offered_pay", stored, coded)
        context.engine.sql('DROP TABLE IF EXISTS "dsp_offer_units"')
        context.engine.sql('DROP TABLE IF EXISTS "dsp_strata"')
        return log_outcome_comparisons(
            context,
            people,
            work,
            check=self.id,
            title=self.title,
            metric="offered_pay_ratio",
            noun="offers",
            outcome="offered_pay",
            words="were offered {x:.3f} times the pay per comparable order",
        )
