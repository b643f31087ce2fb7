"""Platform-work statistics: what authorities ask platforms to report about the people who
work through them (EU Directive 2024/2831, Art. 17; the Zhejiang survey of platform
workers), as distributions with small cells withheld.

Two kinds of rows, in one table (:data:`STATISTICS_COLUMNS`):

- **Distributions** (``band`` empty; a measure with no data, such as online hours without a
  sessions table, has no row): per worker (days and weeks active in the period: days with an
  order or online time, not a deduction alone; tenure) or per worker-week (online and
  engaged hours, earnings, hourly earnings on each time basis): the units and workers behind
  it, the mean, and the 10th, 25th, 50th, 75th and 90th percentiles (linear interpolation).
- **Counts by band** (``measure = workers_by_days_active``): workers by the number of days
  they worked in the period, and their share of workers.

**Withholding** (``[report] min_cell_workers`` = k): a row with fewer than k workers
publishes nothing but its measure; a percentile is published only where at least k workers
have a value below it and at least k a value above it, so that no percentile is one
worker's value in a thin tail; a mean is withheld where one worker holds more than half of
the total (the dominance rule); a band with fewer than k workers is withheld, and more bands
with it, smallest first, until the withheld bands hold k workers between them and are at
least two (the total less the published bands gives only their sum).
Nothing here holds an ID.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from auditor.stats._quantiles import dominated, safe_quantile

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
) -> dict[str, object] | None:
    """One distribution row of ``values`` (one per unit; ``worker`` the unit's worker code),
    withheld as the module docstring says. NaN values are left out."""
    ok = np.isfinite(values)
    if not ok.any():
        return None  # no data for this measure (no sessions table, no joined_on)
    values, worker = values[ok], worker[ok]
    workers = len(np.unique(worker))
    row: dict[str, object] = {"measure": measure, "unit": unit, "band": ""}
    if workers < k or not len(values):
        return row | {"workers": None if workers else 0, "units": None if workers else 0}
    mean = None if dominated(values, worker) else float(values.mean())
    row |= {"workers": workers, "units": len(values), "mean": mean}
    for name, q in PERCENTILES:
        row[name] = safe_quantile(values, worker, q, k)
    return row


def _day_bands(days: NDArray[np.int64], k: int) -> list[dict[str, object]]:
    """Workers by days active, small bands withheld (with a complement where needed)."""
    total = len(days)
    counts = [int(np.count_nonzero((days >= lo) & (days <= hi))) for _, lo, hi in DAY_BANDS]
    hidden = [0 < c < k for c in counts]
    # The withheld bands add up to the total less the published ones, and each holds at
    # least one worker: withhold more, smallest first, until they hold k workers between
    # them and there are at least two (or none is left to withhold).
    while any(hidden) and (
        sum(c for c, h in zip(counts, hidden, strict=True) if h) < k or sum(hidden) == 1
    ):
        shown = [i for i, h in enumerate(hidden) if not h and counts[i] > 0]
        if not shown:
            break
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
    rows: list[dict[str, object] | None] = []
    if worker_days.empty:
        return _frame(rows)
    # A day counts as active with an order or online time (not a deduction alone).
    worker_days = worker_days[_worked(worker_days)]
    if worker_days.empty:
        return _frame(rows)
    codes, ids = pd.factorize(worker_days["worker_id"], sort=True)
    days_active = np.bincount(codes, minlength=len(ids)).astype(np.int64)
    every = np.arange(len(ids), dtype=np.int64)
    rows.append(_distribution("days_active", "worker", days_active.astype(float), every, k))
    worker_weeks = worker_weeks[_worked(worker_weeks)]
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


def _worked(panel: pd.DataFrame) -> pd.Series:
    """Rows of a panel with an order or online time (a deduction alone is not work)."""
    worked = pd.Series(False, index=panel.index)
    for column in ("orders", "online_hours"):
        if column in panel:
            worked |= panel[column].fillna(0) > 0
    return worked


def _frame(rows: Sequence[dict[str, object] | None]) -> pd.DataFrame:
    """Rows as the statistics table (measures with no data left out), with its columns and
    dtypes."""
    frame = pd.DataFrame([r for r in rows if r is not None], columns=list(STATISTICS_COLUMNS))
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
