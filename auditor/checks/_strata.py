"""Strata: which units of work, and which hours online, a group comparison holds side by side.
One definition for every group check (DSP-01, DSP-02, DSP-03, PAY-02, FEE-05, PRC-01,
DED-01), PRC-02's leads and the calibration.

- **Work** (orders, offers of them, penalties on them): the order's service, pickup zone,
  local date and clock hour of ``accepted_at`` (``[audit] timezone``). Dates, not day types:
  pay, prices and demand change on particular dates (rain, holidays, promotions, a bonus
  day) for everyone, and a group that works fewer such dates must not look underpaid.
- **Online time** (DSP-01, DSP-03): the session's zone (where it started), the local date and
  the clock hour of each hour online.

Both are refined by the worker's ``[fairness] legitimate_attributes`` (a car does rides, a
bicycle does not), and in the labelled secondary view by the algorithmic attributes.

Codes are dense integers made by lookup tables rather than sorts (``auditor.stats.strata``,
linear in the number of rows, which matters at 10 M orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.stats import compact, strata

__all__ = [
    "ONLINE_WORDS",
    "WORK_KEYS",
    "WORK_WORDS",
    "WorkStrata",
    "compact",
    "sorted_codes",
    "strata",
    "work_strata",
]

WORK_KEYS = ("zone", "service", "local_date", "hour")
"""The stratum of a unit of work: the order's pickup zone, service, local date and hour."""

WORK_WORDS = "same service, zone, date and hour"
"""How a finding says what ``WORK_KEYS`` hold equal."""

ONLINE_WORDS = "online in the same zone, date and hour"
"""How a finding says what the online strata hold equal."""


def sorted_codes(column: pa.ChunkedArray | pa.Array) -> NDArray[np.int64]:
    """Integer code of each value, numbered in the values' sorted order (as
    ``pd.factorize(..., sort=True)``, without a Python string per row)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = pc.dictionary_encode(array)
    values = encoded.dictionary.to_pylist()
    rank = np.empty(len(values), np.int64)
    rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return rank[np.asarray(encoded.indices, dtype=np.int64)]


@dataclass(frozen=True, slots=True, eq=False)
class WorkStrata:
    """The work strata of the audit's orders.

    Attributes:
        orders: the reconstructed orders with ``stratum``, an int32 code of (zone, service,
            local date, hour): a missing zone or service is empty, a missing hour -1.
            Codes follow the keys' sort order. And ``kind``, the code of the stratum's kind
            of order (below).
        count: the number of codes.
        kind: per code, the code of its *kind of order*, the stratum without the date: zone,
            service, day type (weekday or weekend) and hour. PRC-02 judges prices against
            comparable orders of the same kind (a lead is anomalous on any date), and the
            trip terms' effect on money is measured within one worker's (or segment's) orders
            of one kind (``_money``): across dates, which the strata absorb, with far more
            orders than one date and hour hold.
    """

    orders: Table
    count: int
    kind: NDArray[np.int64]
    place: NDArray[np.int64]


def work_strata(context: Any) -> WorkStrata:
    """The work strata of ``context``'s orders (the code table is stored as engine table
    ``fx_work_strata``; built once per audit)."""
    return context.memo("work_strata", lambda: _work_strata(context))  # type: ignore[no-any-return]


def _work_strata(context: Any) -> WorkStrata:
    orders = context.rebuilt.orders
    keyed = orders.mutate(
        _zone=orders.pickup_zone.fill_null(""),
        _service=orders.service.fill_null(""),
        _date=orders.local_date,
        _hour=orders.local_hour.fill_null(-1),
    )
    keys = ["_zone", "_service", "_date", "_hour"]
    distinct = keyed.select(*keys).distinct()
    numbered = distinct.mutate(
        stratum=(ibis.row_number().over(order_by=keys)).cast("int32"),
        _weekend=(distinct._date.day_of_week.index() >= 5).cast("int8"),
    )
    table = numbered.order_by("stratum").to_pyarrow()
    zone, service = sorted_codes(table["_zone"]), sorted_codes(table["_service"])
    kind = strata(
        zone,
        service,
        table["_weekend"].to_numpy().astype(np.int64),
        table["_hour"].to_numpy().astype(np.int64) + 1,
    )
    codes = table.drop_columns(["_weekend"]).append_column("kind", pa.array(kind, pa.int32()))
    stored = context.engine.store("fx_work_strata", codes)
    joined = keyed.inner_join(stored, [keyed[k] == stored[k] for k in keys])
    # Every order has a local date (accepted_at is required), so the join keeps them all.
    with_code = joined.select(*orders.columns, "stratum", "kind")
    return WorkStrata(with_code, table.num_rows, kind, strata(zone, service))
