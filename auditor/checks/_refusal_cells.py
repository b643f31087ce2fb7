"""Free online time after a refusal, and the offers made in it, per cell of one worker,
zone and quarter-hour slot (DSP-04).

- **Free time** is a worker's online time (their sessions) outside the spells in which they
  carry an accepted order (``accepted_at`` to ``dropoff_at``; overlapping orders merge
  into one spell). Only free time, and the offers made in it, are compared: a worker busy
  with an order is offered less for that reason alone. Without an orders table all online
  time is free.
- A **refusal** is an offer the worker ``declined`` or let ``expire`` inside a session.
  The time **after a refusal** is the free time in the windows ``(t, t + [dispatch]
  decline_window_minutes)`` after each refusal made in free time (overlapping windows
  merge); the refused offer that opens a window is not in it. **Other** time is the free
  time in no window after any refusal. The free time after a refusal made while carrying
  an order is set aside (in neither): it begins at a drop-off, where a worker may well be
  offered less, and a penalty there must not be counted as other time.
- Offers are placed by the session they were made in (zone) and the slot (a quarter hour
  on the UTC clock, within the local clock's hours in every zone a whole number of hours
  from UTC). Sessions without a zone form one zone of their own. Offers outside any
  session, or while carrying an order, are counted and left out. Orders without a
  ``dropoff_at`` (cancelled) make no busy spell.

Every step runs in the engine on instants (seconds since the epoch): intervals are merged
by a gaps-and-islands pass, cut into slots, and intersected by joins on (worker, slot).
Sums are exact and cells come out sorted with workers as integer codes (no ID leaves the
engine), so reruns give the same bits. The functions take Ibis tables, so the calibration
worlds (``simulate._refusal_worlds``) run this very code.
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

from auditor.checks._strata import sorted_codes
from auditor.engine import SUM_SCALE, Engine, asof_left_join, exact_sum, instant_seconds, scaled

__all__ = ["REFUSALS", "SLOT_SECONDS", "RefusalCells", "cell_arrays", "refusal_cell_table"]

REFUSALS: tuple[str, ...] = ("declined", "expired")
"""Offer responses that count as a refusal."""

_HOUR = 3600.0
SLOT_SECONDS = 900.0
"""Length of the slots time is cut into, seconds: the baseline of other workers is a
slot's. Five-minute slots took 250 s against some 110 s at 10 M orders, for medians with no
penalty a few points closer to 1 in the calibration worlds."""


@dataclass(frozen=True, slots=True, eq=False)
class RefusalCells:
    """Per cell of one worker, zone and slot with online time: its free time and the offers
    made in it, after a refusal and at other times.

    Attributes:
        worker: worker code per cell, 0..n_workers-1 (in the order of the worker IDs).
        n_workers: workers with free online time.
        zone: zone code per cell (0.., in the order of the zone labels).
        zones: the zone labels, by code (a missing zone is ``""``).
        slot: slot per cell (``SLOT_SECONDS`` since 1970-01-01 00:00 UTC).
        hours_after: free online hours after a refusal.
        hours_other: the other free online hours.
        offers_after: offers made after a refusal.
        offers_other: offers made at other free times.
        pay_after: pay quoted in the offers after a refusal (offers without a positive
            quote add nothing).
        pay_other: pay quoted in the other offers.
        reoffered: offers compared that other workers got in the cell's zone and slot of
            orders this worker refused earlier (the baseline leaves them out).
        reoffered_pay: their quoted pay.
        counts: per name, a count and the distinct workers behind it: ``refusals`` (all
            in the offers table), ``refusals_compared`` (made in free time),
            ``offers_outside`` (outside any session of their worker), ``offers_busy``
            (while carrying an order), ``offers_unpriced`` (in free time, with no
            positive quoted pay).
    """

    worker: NDArray[np.int64]
    n_workers: int
    zone: NDArray[np.int64]
    zones: tuple[str, ...]
    slot: NDArray[np.int64]
    hours_after: NDArray[np.float64]
    hours_other: NDArray[np.float64]
    offers_after: NDArray[np.float64]
    offers_other: NDArray[np.float64]
    pay_after: NDArray[np.float64]
    pay_other: NDArray[np.float64]
    reoffered: NDArray[np.float64]
    reoffered_pay: NDArray[np.float64]
    counts: Mapping[str, tuple[int, int]]


def _merged(table: Table, start: Any, end: Any) -> Table:
    """Per worker, the union of the intervals ``[start, end)`` of ``table`` as disjoint
    intervals ``[a, b)`` (a gaps-and-islands pass in time order)."""
    t = table.select("worker_id", s=start, e=end).filter(lambda x: x.e > x.s)
    before = ibis.window(group_by="worker_id", order_by=["s", "e"], rows=(None, -1))
    upto = ibis.window(group_by="worker_id", order_by=["s", "e"], rows=(None, 0))
    reach = t.e.max().over(before)
    t = t.mutate(new=(reach.isnull() | (t.s > reach)).cast("int64"))
    t = t.mutate(island=t.new.sum().over(upto))
    return t.group_by(["worker_id", "island"]).aggregate(a=t.s.min(), b=t.e.max())


def _by_slot(table: Table, start: str, end: str) -> Table:
    """``table``'s intervals ``[start, end)`` cut into slots: one row per slot each touches,
    with ``slot`` (slots since the epoch) and the part inside it ``[lo, hi)``."""
    first = (table[start] / SLOT_SECONDS).floor().cast("int64")
    last = (table[end] / SLOT_SECONDS).ceil().cast("int64")
    x = table.mutate(slot=ibis.range(first, ibis.greatest(last, first + 1)).unnest())
    lo = ibis.greatest(x[start], x.slot.cast("float64") * SLOT_SECONDS)
    hi = ibis.least(x[end], x.slot.cast("float64") * SLOT_SECONDS + SLOT_SECONDS)
    return x.mutate(lo=lo, hi=hi).filter(lambda t: t.hi > t.lo)


def _overlap(left: Table, right: Table, keep: list[str]) -> Table:
    """The intersections of ``left``'s and ``right``'s pieces of one worker and slot:
    ``keep`` columns of ``left`` with the intersection ``[lo, hi)``."""
    r = right.select(r_worker=right.worker_id, r_slot=right.slot, r_lo=right.lo, r_hi=right.hi)
    j = left.inner_join(
        r,
        [
            left.worker_id == r.r_worker,
            left.slot == r.r_slot,
            left.lo < r.r_hi,
            r.r_lo < left.hi,
        ],
    )
    return j.select(
        *[j[c] for c in keep], lo=ibis.greatest(j.lo, j.r_lo), hi=ibis.least(j.hi, j.r_hi)
    )


def refusal_cell_table(
    engine: Engine,
    offers: Table,
    sessions: Table,
    window_seconds: float,
    *,
    priced: bool,
    orders: Table | None = None,
) -> tuple[Table, dict[str, tuple[int, int]]]:
    """The cells of ``offers`` (worker_id, order_id, offered_at, response, and offered_pay
    where ``priced``), ``sessions`` (worker_id, online_at, offline_at, zone) and, where
    given, ``orders`` (worker_id, accepted_at, dropoff_at), with windows of
    ``window_seconds`` after each refusal (module docstring), stored in the engine: per
    worker_id, zone and slot, ``h_after`` and ``h_other`` (free hours), ``offers_after``,
    ``offers_other``, ``pay_after``, ``pay_other``, ``reoffered`` and ``reoffered_pay``
    (``RefusalCells``); with the counts a finding reports."""
    w = float(window_seconds)
    s = sessions.select(
        "worker_id",
        zone=sessions.zone.fill_null(""),
        on=instant_seconds(sessions.online_at),
        off=instant_seconds(sessions.offline_at),
    )
    pay = offers.offered_pay.cast("float64") if priced else ibis.null("float64")
    of = offers.select(
        "worker_id",
        "order_id",
        t=instant_seconds(offers.offered_at),
        refused=offers.response.isin(REFUSALS),
        pay=pay,
    )
    jo = asof_left_join(
        of, s, left_on="t", right_on="on", left_by="worker_id", right_by="worker_id"
    )
    columns = ["worker_id", "order_id", "t", "refused", "pay", "zone"]
    jo = jo.select(*columns, inside=(jo.t < jo.off).fill_null(False))
    busy: Table | None = None
    if orders is not None:
        busy = engine.materialize(
            "dsp04_busy",
            _merged(
                orders, instant_seconds(orders.accepted_at), instant_seconds(orders.dropoff_at)
            ),
        )
        jb = asof_left_join(
            jo, busy, left_on="t", right_on="a", left_by="worker_id", right_by="worker_id"
        )
        carrying = (jb.t < jb.b).fill_null(False)
        jo = jb.select(*columns, "inside", busy=carrying)
    else:
        jo = jo.mutate(busy=ibis.literal(False))
    placed = engine.materialize("dsp04_offers", jo)
    free = placed.filter(placed.inside & ~placed.busy)
    refusals = free.filter(free.refused)
    after = engine.materialize("dsp04_after", _merged(refusals, refusals.t, refusals.t + w))
    # Windows after any refusal, busy ones too: the free time in them that is not after a
    # free refusal is set aside (neither after nor other).
    every = placed.filter(placed.inside & placed.refused)
    near = engine.materialize("dsp04_near", _merged(every, every.t, every.t + w))

    ja = asof_left_join(
        free, after, left_on="t", right_on="a", left_by="worker_id", right_by="worker_id"
    )
    ja = ja.select(
        *[ja[c] for c in free.columns], is_after=((ja.t > ja.a) & (ja.t < ja.b)).fill_null(False)
    )
    jn = asof_left_join(
        ja, near, left_on="t", right_on="a", left_by="worker_id", right_by="worker_id"
    )
    is_after = jn.is_after
    is_other = ~((jn.t > jn.a) & (jn.t < jn.b)).fill_null(False)
    priced_pay = ibis.ifelse(jn.pay > 0, jn.pay, 0.0).fill_null(0.0)
    keys = ["worker_id", "zone", "slot"]
    counted = engine.materialize(
        "dsp04_counted",
        jn.select(
            "worker_id",
            "order_id",
            "t",
            "zone",
            slot=(jn.t / SLOT_SECONDS).floor().cast("int64"),
            after=is_after.cast("int64"),
            other=is_other.cast("int64"),
            pay_after=ibis.ifelse(is_after, priced_pay, 0.0),
            pay_other=ibis.ifelse(is_other, priced_pay, 0.0),
        ),
    )
    # Every part of a cell as rows of one shape, summed in one grouping (no chain of joins
    # holding several large tables at once).
    measures = ("sec", "sec_busy", "sec_after", "sec_after_busy", "sec_near",
                "sec_near_busy", "offers_after", "offers_other", "pay_after", "pay_other",
                "reoffered", "reoffered_pay")  # fmt: skip

    def rows(table: Table, worker: Any = None, **values: Any) -> Table:
        return table.select(
            worker_id=table.worker_id if worker is None else worker,
            zone=table.zone,
            slot=table.slot,
            **{m: _value(values.get(m, 0.0)).cast("float64") for m in measures},
        )

    online = _by_slot(s, "on", "off")
    parts = [rows(online, sec=online.hi - online.lo)]
    busy_hours = None if busy is None else _by_slot(busy, "a", "b")
    if busy_hours is not None:
        b = _overlap(online, busy_hours, keys)
        parts.append(rows(b, sec_busy=b.hi - b.lo))
    for name, windows in (("after", after), ("near", near)):
        pieces = _overlap(online, _by_slot(windows, "a", "b"), keys)
        parts.append(rows(pieces, **{f"sec_{name}": pieces.hi - pieces.lo}))
        if busy_hours is not None:
            # (a new relation over the join, so that the next join does not merge into it)
            pb = _overlap(pieces.mutate(slot=pieces.slot), busy_hours, keys)
            parts.append(rows(pb, **{f"sec_{name}_busy": pb.hi - pb.lo}))
    parts.append(
        rows(
            counted,
            offers_after=counted.after,
            offers_other=counted.other,
            pay_after=counted.pay_after,
            pay_other=counted.pay_other,
        )
    )
    re = _reoffers(placed, counted)
    parts.append(rows(re, worker=re.r_worker, reoffered=1.0, reoffered_pay=re.pay))
    every_part = ibis.union(*parts, distinct=False)
    cells = every_part.group_by(keys).aggregate(**{m: exact_sum(every_part[m]) for m in measures})
    cells = cells.filter(cells.sec > 0)
    free = cells.sec - cells.sec_busy  # the busy parts are 0 without orders
    after_free = cells.sec_after - cells.sec_after_busy
    near_free = cells.sec_near - cells.sec_near_busy
    # Hours rounded as the exact sums round them, so that a slot's total less a cell's
    # own hours is exactly 0 where the cell is alone.
    hours = {
        "h_after": ibis.greatest(after_free, 0.0) / _HOUR,
        "h_other": ibis.greatest(free - near_free, 0.0) / _HOUR,
    }
    table = cells.select(
        "worker_id",
        "zone",
        "slot",
        **{name: scaled(value) / SUM_SCALE for name, value in hours.items()},
        offers_after=cells.offers_after.cast("float64"),
        offers_other=cells.offers_other.cast("float64"),
        pay_after=cells.pay_after,
        pay_other=cells.pay_other,
        reoffered=cells.reoffered.cast("float64"),
        reoffered_pay=cells.reoffered_pay,
    )
    return engine.materialize("dsp04_cells", table), _counts(placed, priced)


def cell_arrays(table: Table, counts: Mapping[str, tuple[int, int]]) -> RefusalCells:
    """The cells of :func:`refusal_cell_table` as arrays, workers as codes (for a package
    of a few hundred workers; the check itself sums the cells in the engine)."""
    table = table.mutate(code=ibis.dense_rank().over(order_by="worker_id")).drop("worker_id")
    return _arrays(table.order_by(["code", "zone", "slot"]).to_pyarrow(), counts)


def _value(value: Any) -> Any:
    """``value`` as an expression (a number becomes a literal)."""
    return ibis.literal(value) if isinstance(value, int | float) else value


def _reoffers(placed: Table, counted: Table) -> Table:
    """The offers compared (after or other time) that other workers got of orders a worker
    had refused before: one row per such offer, with the refusing worker (``r_worker``),
    the zone and slot it landed in, and its quoted pay. A refused order goes to someone
    else next; a baseline of other workers' offers must not count what the worker's own
    refusal sent them."""
    refused = placed.filter(placed.refused)
    first = refused.group_by(["order_id", "worker_id"]).aggregate(r_t=refused.t.min())
    first = first.select(r_order=first.order_id, r_worker=first.worker_id, r_t=first.r_t)
    shown = counted.filter((counted.after + counted.other) > 0)
    j = shown.inner_join(
        first,
        [
            shown.order_id == first.r_order,
            first.r_t < shown.t,
            first.r_worker != shown.worker_id,
        ],
    )
    return j.select("r_worker", "zone", "slot", pay=j.pay_after + j.pay_other)


def _counts(placed: Table, priced: bool) -> dict[str, tuple[int, int]]:
    """The counts a finding reports, each with its distinct workers."""
    free = placed.filter(placed.inside & ~placed.busy)
    parts = {
        "refusals": placed.filter(placed.refused),
        "refusals_compared": free.filter(free.refused),
        "offers_outside": placed.filter(~placed.inside),
        "offers_busy": placed.filter(placed.inside & placed.busy),
    }
    if priced:
        parts["offers_unpriced"] = free.filter(free.pay.isnull() | (free.pay <= 0))
    out = {}
    for name, part in parts.items():
        row = part.aggregate(n=part.count(), workers=part.worker_id.nunique()).to_pyarrow()
        out[name] = (_int(row["n"][0].as_py()), _int(row["workers"][0].as_py()))
    out.setdefault("offers_unpriced", (0, 0))
    return out


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _arrays(table: pa.Table, counts: Mapping[str, tuple[int, int]]) -> RefusalCells:
    m = table.num_rows

    def col(name: str) -> NDArray[np.float64]:
        return table[name].to_numpy().astype(np.float64) if m else np.zeros(0)

    worker = table["code"].to_numpy().astype(np.int64) if m else np.zeros(0, np.int64)
    return RefusalCells(
        worker=worker,
        n_workers=int(worker.max()) + 1 if m else 0,
        zone=sorted_codes(table["zone"]) if m else np.zeros(0, np.int64),
        zones=tuple(sorted(set(table["zone"].to_pylist()))) if m else (),
        slot=table["slot"].to_numpy().astype(np.int64) if m else np.zeros(0, np.int64),
        hours_after=col("h_after"),
        hours_other=col("h_other"),
        offers_after=col("offers_after"),
        offers_other=col("offers_other"),
        pay_after=col("pay_after"),
        pay_other=col("pay_other"),
        reoffered=col("reoffered"),
        reoffered_pay=col("reoffered_pay"),
        counts=counts,
    )
