"""Small aggregate tables for reports and notebooks, computed in the engine.

Each row counts orders and the distinct workers behind them, so that a report can
suppress cells with too few workers (``[report] min_cell_workers``). Nothing here
holds an ID or a single order's values.
"""

from __future__ import annotations

import ibis
import pandas as pd
from ibis.expr.types import Table

from auditor.contract import ValidatedPackage

__all__ = ["AGGREGATE_NAMES", "aggregate_frames"]

AGGREGATE_NAMES = ("take_rate_bins", "daily_take_rate", "fee_schedule")
"""Names of the frames :func:`aggregate_frames` returns."""

TAKE_RATE_BIN = 0.01
"""Width of a take-rate histogram bin: one percentage point."""


def aggregate_frames(orders: Table | None, package: ValidatedPackage) -> dict[str, pd.DataFrame]:
    """The report aggregates, as DataFrames sorted by their keys.

    - ``take_rate_bins``: completed orders by take rate in one-point bins (``bin_low``, a
      fraction; ``orders``; ``workers``).
    - ``daily_take_rate``: per local date, ``take_rate`` = sum of platform take over sum of
      fare base (both on the ``[fees] take_rate_basis``), with ``orders`` and ``workers``.
    - ``fee_schedule``: the declared schedule as submitted (platform-level rules, no IDs).

    ``orders`` is the reconstruction's ``rc_orders``; None (validation only) gives empty
    frames with the same columns.
    """
    frames = {
        "take_rate_bins": _empty(["bin_low", "orders", "workers"]),
        "daily_take_rate": _empty(["local_date", "take_rate", "orders", "workers"]),
        "fee_schedule": _fee_schedule(package),
    }
    if orders is None:
        return frames
    done = orders.filter(orders.completed & orders.take_rate.notnull())
    bin_index = (done.take_rate / TAKE_RATE_BIN).floor().cast("int64")
    bins = (
        done.mutate(bin_index=bin_index)
        .group_by("bin_index")
        .aggregate(orders=ibis._.count(), workers=ibis._.worker_id.nunique())
        .order_by("bin_index")
        .to_pyarrow()
        .to_pandas()
    )
    bins.insert(0, "bin_low", bins.pop("bin_index").astype("float64") * TAKE_RATE_BIN)
    frames["take_rate_bins"] = bins.astype({"orders": "int64", "workers": "int64"})

    # take_rate = take / fare_base per order, so the daily ratio of sums weights by fare.
    priced = done.filter(done.fare_base > 0)
    taken = priced.take_rate * priced.fare_base.cast("float64")
    daily = (
        priced.mutate(taken=taken, base=priced.fare_base.cast("float64"))
        .group_by("local_date")
        .aggregate(
            taken=ibis._.taken.sum(),
            base=ibis._.base.sum(),
            orders=ibis._.count(),
            workers=ibis._.worker_id.nunique(),
        )
        .order_by("local_date")
        .to_pyarrow()
        .to_pandas()
    )
    daily["take_rate"] = daily.pop("taken") / daily.pop("base")
    frames["daily_take_rate"] = daily[["local_date", "take_rate", "orders", "workers"]].astype(
        {"orders": "int64", "workers": "int64"}
    )
    return frames


def _fee_schedule(package: ValidatedPackage) -> pd.DataFrame:
    columns = [
        "effective_from", "effective_to", "service", "zone", "commission_rate",
        "commission_cap", "announced_at",
    ]  # fmt: skip
    if "fee_schedule" not in package.tables:
        return _empty(columns)
    table = package.tables["fee_schedule"].table
    present = [c for c in columns if c in table.columns]
    frame = table.select(*present).order_by(present[:1]).to_pyarrow().to_pandas()
    for c in ("commission_rate", "commission_cap"):
        if c in frame:
            frame[c] = frame[c].astype("float64")
    return frame.reindex(columns=columns)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
