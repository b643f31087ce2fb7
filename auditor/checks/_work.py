"""Comparable work: the strata and trip covariates that pay and price comparisons share.

Two orders are comparable when they are of the same service, in the same pickup zone, on
the same local date and in the same clock hour (the stratum), with the remaining difference
in distance and trip time (pickup to dropoff; engaged time where pickup is missing) taken up
by a quadratic in their logs. The comparison is then of log pay (or price) within strata:
a ratio of geometric means for the same work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

__all__ = ["WorkFrame", "trip_design", "work_frame"]

_COVARIATES = ("distance_km", "trip_minutes")


@dataclass(frozen=True, slots=True, eq=False)
class WorkFrame:
    """Units (orders or offers) ready for a within-strata comparison.

    Attributes:
        y: log outcome per unit.
        stratum: dense stratum code (service x zone x local date x hour).
        cluster: the unit's cluster code (worker code of the roster, or customer code).
        covariates: name -> values (positive) of the trip covariates used.
        excluded: units left out for a missing or non-positive outcome or covariate.
        extra: further columns pulled, by name.
        keys: integer codes of ``zone``, ``service``, ``day`` (days since the first) and
            ``hour``, for checks that build strata of their own.
    """

    y: NDArray[np.float64]
    stratum: NDArray[np.int64]
    cluster: NDArray[np.int64]
    covariates: dict[str, NDArray[np.float64]]
    excluded: int
    extra: dict[str, NDArray[Any]]
    keys: dict[str, NDArray[Any]]


def _codes(column: pa.ChunkedArray) -> NDArray[np.int64]:
    encoded = pc.dictionary_encode(column.combine_chunks())
    return np.asarray(encoded.indices, dtype=np.int64)


def work_frame(units: Table, cluster: str = "code", extra: tuple[str, ...] = ()) -> WorkFrame:
    """Pull units with ``y`` (log outcome), ``zone``, ``service``, ``local_date``, ``hour``,
    ``distance_km``, ``trip_minutes`` and the ``cluster`` column from the engine.

    A covariate missing on every unit is dropped (the package lacks it); otherwise units with
    a missing or non-positive covariate, or a missing outcome, are excluded and counted.
    """
    base = ("y", "zone", "service", "local_date", "hour", *_COVARIATES, cluster)
    table = units.select(*base, *[c for c in extra if c not in base]).to_pyarrow()
    n = table.num_rows
    y = table["y"].to_numpy().astype(np.float64) if n else np.empty(0)
    ok = np.isfinite(y)
    covariates: dict[str, NDArray[np.float64]] = {}
    for name in _COVARIATES:
        values = table[name].to_numpy(zero_copy_only=False).astype(np.float64) if n else np.empty(0)
        valid = np.isfinite(values) & (values > 0)
        if valid.any():
            covariates[name] = values
            ok &= valid
    keys = [_codes(table[c]) for c in ("zone", "service")] if n else []
    day = table["local_date"].cast(pa.int32()).to_numpy().astype(np.int64) if n else np.empty(0)
    hour = table["hour"].to_numpy().astype(np.int64) if n else np.empty(0)
    if not n:
        cl = np.empty(0, np.int64)
    elif pa.types.is_integer(table[cluster].type):
        cl = table[cluster].to_numpy().astype(np.int64)
    else:
        cl = _codes(table[cluster])
    if n:
        n_hours = 24
        n_days = int(day.max() - day.min() + 1)
        key = (
            (keys[0] * (keys[1].max() + 1) + keys[1]) * n_days + (day - day.min())
        ) * n_hours + hour
    else:
        key = np.empty(0, np.int64)
    stratum = np.unique(key[ok], return_inverse=True)[1].astype(np.int64)
    return WorkFrame(
        y=y[ok],
        stratum=stratum,
        cluster=cl[ok],
        covariates={k: v[ok] for k, v in covariates.items()},
        excluded=int(n - ok.sum()),
        extra={c: np.asarray(table[c].to_numpy(zero_copy_only=False))[ok] for c in extra},
        keys=(
            {
                "zone": keys[0][ok],
                "service": keys[1][ok],
                "day": (day - day.min())[ok],
                "hour": hour[ok],
            }
            if n
            else {k: np.empty(0, np.int64) for k in ("zone", "service", "day", "hour")}
        ),
    )


def trip_design(frame: WorkFrame) -> NDArray[np.float64]:
    """Trip covariates: logs of distance and trip time, their squares and product."""
    logs = [np.log(v) for v in frame.covariates.values()]
    cols = list(logs) + [v * v for v in logs]
    if len(logs) == 2:
        cols.append(logs[0] * logs[1])
    if not cols:
        return np.empty((len(frame.y), 0))
    return np.column_stack(cols)
