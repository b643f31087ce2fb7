"""Online time cut into cells of one worker, zone, local date and clock hour, with what the
dispatcher offered and what the worker took in each (DSP-01, DSP-03).

Each session is cut at local clock hours; the zone is the session's. An offer counts in the
cell of the session and hour it was made in (its hour within the session, counted from the
session's start in local wall time, as the exposure is), an accepted order in the cell of
its session and the hour it was accepted in. Offers and orders outside any session are
counted and left out. Everything is summed in the engine (hours as whole seconds, money
exactly) and sorted, so that reruns give the same bits. The counts left out carry the
workers behind them: a finding publishes a count only when they are at least ``[report]
min_cell_workers`` (``_small_cells.left_out``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._small_cells import left_out, left_out_words
from auditor.checks._strata import sorted_codes
from auditor.engine import asof_left_join, exact_sum
from auditor.stats import strata

__all__ = ["OnlineCells", "online_cells"]


@dataclass(frozen=True, slots=True, eq=False)
class OnlineCells:
    """Per cell of one worker (roster code), zone, local date and hour online.

    Attributes:
        code: worker code per cell.
        stratum: code of (zone, local date, hour) per cell.
        hours: hours online.
        offers: offers made (0 without an offers table).
        offered_pay: pay quoted in those offers (offers without a quote add nothing).
        orders: orders accepted.
        earned: worker pay of those orders.
        has_offers: whether the package has offers.
        offers_outside: offers made outside any session (in no cell).
        offers_unpriced: offers in cells with no quoted pay.
        orders_outside: orders accepted outside any session.
        workers_left_out: distinct workers behind each of the three counts, keyed by
            their names (``offers_outside``, ...).
    """

    code: NDArray[np.int64]
    stratum: NDArray[np.int64]
    hours: NDArray[np.float64]
    offers: NDArray[np.float64]
    offered_pay: NDArray[np.float64]
    orders: NDArray[np.float64]
    earned: NDArray[np.float64]
    has_offers: bool
    offers_outside: int
    offers_unpriced: int
    orders_outside: int
    workers_left_out: Mapping[str, int]

    def per_worker(self, values: NDArray[Any], size: int) -> NDArray[Any]:
        return np.bincount(self.code, weights=values, minlength=size)

    def shown(self, name: str, k: int) -> int | None:
        """The count ``name`` (``offers_outside``, ``offers_unpriced``, ``orders_outside``)
        as a finding may publish it (``_small_cells.left_out``)."""
        return left_out(getattr(self, name), self.workers_left_out.get(name, 0), k)

    def words(self, name: str, k: int, noun: str) -> str:
        """The count ``name`` in words (``_small_cells.left_out_words``)."""
        return left_out_words(getattr(self, name), self.workers_left_out.get(name, 0), k, noun)


def online_cells(context: Any, codes: Table) -> OnlineCells:
    """The online cells of ``context``'s sessions (computed once per audit); ``codes``: the
    roster's (worker_id, code)."""
    return context.memo(  # type: ignore[no-any-return]
        "online_cells", lambda: _online_cells(context, codes), users=("DSP-01", "DSP-03")
    )


def _sessions(sessions: Table) -> Table:
    return sessions.select(
        s_worker=sessions.worker_id,
        online_at=sessions.online_at,
        offline_at=sessions.offline_at,
        s_zone=sessions.zone.fill_null(""),
        # Local wall time of the start, and its seconds into its local clock hour.
        s_local=sessions.online_at.cast("timestamp"),
        s_into=(
            sessions.online_at.cast("timestamp").minute() * 60
            + sessions.online_at.cast("timestamp").second()
        ).cast("int64"),
    )


def _online_cells(context: Any, codes: Table) -> OnlineCells:
    engine = context.engine
    sessions = context.rebuilt.sessions
    s = sessions.select(
        "worker_id",
        zone=sessions.zone.fill_null(""),
        on=sessions.online_at.cast("timestamp"),
        off=sessions.offline_at.cast("timestamp"),
        span=sessions.online_hours,
    )
    # Each session's clock hours, one row per hour it touches: work in proportion to the
    # hours online, whatever the longest session.
    hours = (s.span.ceil().cast("int64") + 2).fill_null(0)
    x = s.mutate(k=ibis.range(0, hours).unnest())
    slot = x.on.truncate("h") + x.k.as_interval("h")
    x = x.mutate(slot=slot).filter(lambda t: (t.slot < t.off) & (t.k <= t.span + 1))
    seconds = (
        ibis.least(x.off, x.slot + ibis.interval(hours=1)).epoch_seconds()
        - ibis.greatest(x.on, x.slot).epoch_seconds()
    )
    keys = ["worker_id", "zone", "local_date", "hour"]
    exposure = (
        x.mutate(sec=seconds)
        .group_by("worker_id", "zone", local_date=x.slot.date(), hour=x.slot.hour().cast("int8"))
        .aggregate(sec=ibis._.sec.sum())
    )
    ss = _sessions(sessions)
    o = context.rebuilt.orders.select(
        "worker_id", "accepted_at", "local_date", "local_hour", pay=ibis._.worker_pay
    )
    j = asof_left_join(
        o, ss, left_on="accepted_at", right_on="online_at", left_by="worker_id", right_by="s_worker"
    )
    order_cells = engine.materialize(
        "dsp_order_cells",
        j.group_by(
            "worker_id",
            zone=j.s_zone,
            local_date=j.local_date,
            hour=j.local_hour,
            inside=(j.accepted_at < j.offline_at).fill_null(False),
        ).aggregate(orders=ibis._.count(), earned=exact_sum(ibis._.pay.cast("float64"))),
    )
    outside_orders = order_cells.filter(~order_cells.inside)
    orders_outside = int(outside_orders.orders.sum().execute() or 0)
    workers = {
        "orders_outside": int(outside_orders.worker_id.nunique().execute()),
        "offers_outside": 0,
        "offers_unpriced": 0,
    }
    counted = order_cells.filter(order_cells.inside).drop("inside")
    cells = exposure.left_join(counted, keys).select(
        *[exposure[k] for k in keys],
        exposure.sec,
        orders=counted.orders.fill_null(0),
        earned=counted.earned.fill_null(0.0),
    )
    has_offers = "offers" in context.package.tables
    offers_outside = offers_unpriced = 0
    if has_offers:
        offers = context.package.tables["offers"].table
        priced = "offered_pay" in context.package.tables["offers"].columns_present
        pay = offers.offered_pay.cast("float64") if priced else ibis.null("float64")
        of = offers.select("worker_id", "offered_at", pay=pay)
        jo = asof_left_join(
            of,
            ss,
            left_on="offered_at",
            right_on="online_at",
            left_by="worker_id",
            right_by="s_worker",
        )
        # The offer's hour within its session, counted in local wall time from the start.
        k = (
            (jo.offered_at.epoch_seconds() - jo.online_at.epoch_seconds() + jo.s_into) // 3600
        ).cast("int64")
        local = jo.s_local.truncate("h") + k.as_interval("h")
        offer_cells = engine.materialize(
            "dsp_offer_cells",
            jo.group_by(
                "worker_id",
                zone=jo.s_zone,
                local_date=local.date(),
                hour=local.hour().cast("int8"),
                inside=(jo.offered_at < jo.offline_at).fill_null(False),
            ).aggregate(
                offers=ibis._.count(),
                unpriced=(ibis._.pay.isnull() | (ibis._.pay <= 0)).cast("int64").sum(),
                offered_pay=exact_sum(ibis.ifelse(ibis._.pay > 0, ibis._.pay, 0.0)),
            ),
        )
        outside = offer_cells.filter(~offer_cells.inside)
        offers_outside = int(outside.offers.sum().execute() or 0)
        inside = offer_cells.filter(offer_cells.inside).drop("inside")
        offers_unpriced = int(inside.unpriced.sum().execute() or 0)
        unpriced = inside.filter(inside.unpriced > 0)
        workers["offers_outside"] = int(outside.worker_id.nunique().execute())
        workers["offers_unpriced"] = int(unpriced.worker_id.nunique().execute())
        cells = cells.left_join(inside, keys).select(
            *[cells[c] for c in cells.columns],
            offers=inside.offers.fill_null(0),
            offered_pay=inside.offered_pay.fill_null(0.0),
        )
    cells = cells.inner_join(codes, "worker_id").drop("worker_id")
    table = cells.order_by(["code", "zone", "local_date", "hour"]).to_pyarrow()
    return _arrays(table, has_offers, offers_outside, offers_unpriced, orders_outside, workers)


def _arrays(
    table: pa.Table,
    has_offers: bool,
    offers_outside: int,
    unpriced: int,
    orders_outside: int,
    workers_left_out: Mapping[str, int],
) -> OnlineCells:
    m = table.num_rows
    col = lambda c: table[c].to_numpy().astype(np.float64) if m else np.empty(0)  # noqa: E731
    zone = sorted_codes(table["zone"]) if m else np.empty(0, np.int64)
    day = table["local_date"].cast("int32").to_numpy().astype(np.int64) if m else zone
    hour = table["hour"].to_numpy().astype(np.int64) if m else zone
    zeros = np.zeros(m)
    return OnlineCells(
        code=table["code"].to_numpy().astype(np.int64) if m else np.empty(0, np.int64),
        stratum=strata(zone, day - int(day.min()) if m else day, hour),
        hours=col("sec") / 3600.0,
        offers=col("offers") if has_offers else zeros,
        offered_pay=col("offered_pay") if has_offers else zeros,
        orders=col("orders"),
        earned=col("earned"),
        has_offers=has_offers,
        offers_outside=offers_outside,
        offers_unpriced=unpriced,
        orders_outside=orders_outside,
        workers_left_out=workers_left_out,
    )
