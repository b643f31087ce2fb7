"""Platform-work statistics: what authorities ask platforms to report about the people who
work through them (EU Directive 2024/2831, Art. 17; the Zhejiang survey of platform
workers), as distributions with small cells withheld.

Two kinds of rows, in one table (:data:`STATISTICS_COLUMNS`):

- **Distributions** (``band`` empty): per worker (days and weeks active in the period,
  tenure) or per worker-week (online and engaged hours, earnings, hourly earnings on each
  time basis): the units and workers behind it, the mean, and the 10th, 25th, 50th, 75th and
  90th percentiles (linear interpolation).
- **Counts by band** (``measure = workers_by_days_active``): workers by the number of days
  they worked in the period, and their share of workers.

**Withholding** (``[report] min_cell_workers`` = k): a row with fewer than k workers
publishes nothing but its measure; a percentile is published only where at least k workers
have a value below it and at least k a value above it, so that no percentile is one
worker's value in a thin tail; a band with fewer than k workers is withheld, and where that
would let it be worked out from the total, the next smallest band is withheld with it.
Nothing here holds an ID.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["DAY_BANDS", "STATISTICS_COLUMNS", "platform_statistics", "unit_of"]

STATISTICS_COLUMNS = (
    "measure", "unit", "band", "workers", "units", "share", "mean",
    "p10", "p25", "median", "p75", "p90",
)  # fmt: skip
"""Columns of the statistics table, in order."""

PERCENTILES = (("p10", 0.10), ("p25", 0.25), ("median", 0.50), ("p75", 0.75), ("p90", 0.90))

DAY_BANDS: tuple[tuple[str, int, int], ...] = (
    ("1", 1, 1),
    ("2-4", 2, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20+", 20, 10_000),
)
"""Bands of days active in the period: (label, first, last)."""

_WEEK_MEASURES = (
    ("online_hours_per_week", "online_hours", "hours"),
    ("engaged_hours_per_week", "engaged_hours", "hours"),
    ("earnings_per_week", "net_earnings", "currency"),
    ("hourly_earnings_engaged", "hourly_engaged", "currency per hour"),
    ("hourly_earnings_online", "hourly_online", "currency per hour"),
    ("hourly_earnings_engaged_allowance", "hourly_engaged_allowance", "currency per hour"),
)
"""Worker-week measures: (measure, worker_weeks column, what it is in)."""


def _distribution(
    measure: str, unit: str, values: NDArray[np.float64], worker: NDArray[np.int64], k: int
) -> dict[str, object]:
    """One distribution row of ``values`` (one per unit; ``worker`` the unit's worker code),
    withheld as the module docstring says. NaN values are left out."""
    ok = np.isfinite(values)
    values, worker = values[ok], worker[ok]
    workers = len(np.unique(worker))
    row: dict[str, object] = {"measure": measure, "unit": unit, "band": ""}
    if workers < k or not len(values):
        return row | {"workers": None if workers else 0, "units": None if workers else 0}
    row |= {"workers": workers, "units": len(values), "mean": float(values.mean())}
    for name, q in PERCENTILES:
        value = float(np.quantile(values, q))
        below = len(np.unique(worker[values < value]))
        above = len(np.unique(worker[values > value]))
        row[name] = value if below >= k and above >= k else None
    return row


def _day_bands(days: NDArray[np.int64], k: int) -> list[dict[str, object]]:
    """Workers by days active, small bands withheld (with a complement where needed)."""
    total = len(days)
    counts = [int(np.count_nonzero((days >= lo) & (days <= hi))) for _, lo, hi in DAY_BANDS]
    hidden = [0 < c < k for c in counts]
    if sum(hidden) == 1 and total >= k:
        # One withheld band is the total less the others: withhold the next smallest too.
        shown = [i for i, h in enumerate(hidden) if not h and counts[i] > 0]
        if shown:
            hidden[min(shown, key=lambda i: (counts[i], i))] = True
    rows: list[dict[str, object]] = []
    for (label, _, _), count, hide in zip(DAY_BANDS, counts, hidden, strict=True):
        shown_count = None if hide or total < k else count
        rows.append(
            {
                "measure": "workers_by_days_active",
                "unit": "worker",
                "band": label,
                "workers": shown_count,
                "share": None if shown_count is None else count / total,
            }
        )
    return rows


def platform_statistics(
    worker_days: pd.DataFrame,
    worker_weeks: pd.DataFrame,
    joined_on: pd.Series | None,
    *,
    min_cell_workers: int,
) -> pd.DataFrame:
    """The statistics table (module docstring) from the reconstruction's panels (as
    ``panel_frames`` returns them) and, where the workers table has it, each worker's
    ``joined_on`` date indexed by ``worker_id`` (tenure is counted to the last local date
    in the panels)."""
    k = max(int(min_cell_workers), 1)
    rows: list[dict[str, object]] = []
    if worker_days.empty:
        return _frame(rows)
    codes, ids = pd.factorize(worker_days["worker_id"], sort=True)
    days_active = np.bincount(codes, minlength=len(ids)).astype(np.int64)
    every = np.arange(len(ids), dtype=np.int64)
    rows.append(_distribution("days_active", "worker", days_active.astype(float), every, k))
    week_codes = pd.Index(ids).get_indexer(worker_weeks["worker_id"])
    weeks_active = np.bincount(week_codes, minlength=len(ids)).astype(float)
    rows.append(_distribution("weeks_active", "worker", weeks_active, every, k))
    if joined_on is not None:
        last = pd.to_datetime(worker_days["local_date"]).max()
        joined = pd.to_datetime(joined_on.reindex(ids), errors="coerce")
        tenure = (last - joined).dt.days.to_numpy(dtype=float, na_value=np.nan)
        tenure = np.where(tenure >= 0, tenure, np.nan)
        rows.append(_distribution("tenure_days", "worker", tenure, every, k))
    rows += _day_bands(days_active, k)
    for measure, column, _ in _WEEK_MEASURES:
        if column not in worker_weeks:
            continue
        values = worker_weeks[column].to_numpy(dtype=float, na_value=np.nan)
        if column.endswith("hours"):
            values = np.where(values > 0, values, np.nan)  # weeks without that time
        rows.append(_distribution(measure, "worker_week", values, week_codes, k))
    return _frame(rows)


def _frame(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """Rows as the statistics table, with its columns and dtypes."""
    frame = pd.DataFrame(list(rows), columns=list(STATISTICS_COLUMNS))
    for column in ("workers", "units"):
        frame[column] = frame[column].astype("Int64")
    for column in ("share", "mean", *(name for name, _ in PERCENTILES)):
        frame[column] = frame[column].astype("float64")
    return frame.astype({"measure": "object", "unit": "object", "band": "object"})


def unit_of(measure: str) -> str:
    """What ``measure`` is in (hours, currency, days, workers)."""
    for name, _, what in _WEEK_MEASURES:
        if name == measure:
            return what
    if measure in ("days_active", "tenure_days"):
        return "days"
    return "weeks" if measure == "weeks_active" else "workers"
