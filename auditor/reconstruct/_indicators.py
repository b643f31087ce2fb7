"""Labour-management indicators by worker group: the facts courts weigh when they judge how
far a platform manages the people who work through it (China's Supreme People's Court
Guiding Case 237, 2024; the EU Platform Work Directive's presumption of employment, Art. 5),
per group of each ``[fairness] protected_attributes`` column, never per worker. Evidence for
a regulator, not a classification of anyone's employment.

One row per attribute, group and indicator (:data:`INDICATOR_COLUMNS`); each indicator is a
per-worker number, summarised over the group's workers by its mean and quartiles:

- working time: ``online_hours_per_week`` (mean over the worker's active weeks) and
  ``share_of_days_over_daily_limit`` (days online more than ``[hours]
  max_daily_online_hours``);
- dispatch: ``offers_per_online_hour`` and ``share_of_offers_declined`` (declined or
  expired), where the package has offers;
- behaviour: ``penalties_per_100_orders`` (deductions of category ``penalty`` per 100
  completed orders) and ``restrictive_action`` (1 for a worker with any restriction,
  suspension or deactivation in ``account_actions``; its mean is the share of workers);
- continuity: ``weeks_active`` and ``days_active``.

Withholding as the statistics table (``_statistics``): a group with fewer than ``[report]
min_cell_workers`` (k) workers is not shown by name: its rows say ``fewer than k workers``
and publish nothing; a quartile needs k workers below it and k above; a share of workers
(``restrictive_action``) is withheld unless k workers have it and k do not, and any mean
unless k workers have a value other than 0 and no worker holds more than half of the total
(a mean carried by fewer would speak of them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from auditor.reconstruct._statistics import PERCENTILES
from auditor.stats._quantiles import dominated, safe_quantile

__all__ = ["INDICATORS", "INDICATOR_COLUMNS", "labour_indicators"]

INDICATOR_COLUMNS = (
    "attribute", "group", "indicator", "workers", "mean", "p25", "median", "p75",
)  # fmt: skip
"""Columns of the indicators table, in order."""

INDICATORS = (
    "online_hours_per_week",
    "share_of_days_over_daily_limit",
    "offers_per_online_hour",
    "share_of_offers_declined",
    "penalties_per_100_orders",
    "restrictive_action",
    "weeks_active",
    "days_active",
)
"""Indicator names, in table order."""

_SHARE_OF_WORKERS = frozenset({"restrictive_action"})
"""Indicators that are 0 or 1 per worker: their mean is a share of workers."""

_QUARTILES = tuple((name, q) for name, q in PERCENTILES if name in ("p25", "median", "p75"))


def per_worker(
    worker_days: pd.DataFrame,
    worker_weeks: pd.DataFrame,
    counts: Mapping[str, pd.Series],
    daily_limit_hours: float,
) -> pd.DataFrame:
    """Each worker's indicators (index ``worker_id``) from the panels and per-worker
    ``counts`` (``offers``, ``declined``, ``penalties``, ``restrictive``: Series indexed by
    worker; a missing Series: the package lacks the table, the indicator is left out)."""
    days = worker_days.groupby("worker_id")
    out = pd.DataFrame(index=pd.Index(sorted(days.groups), name="worker_id"))
    out["days_active"] = days.size().astype(float)
    if "online_hours" in worker_days and worker_days["online_hours"].notna().any():
        over = (worker_days["online_hours"] > daily_limit_hours).astype(float)
        out["share_of_days_over_daily_limit"] = over.groupby(worker_days["worker_id"]).mean()
    weeks = worker_weeks.groupby("worker_id")
    out["weeks_active"] = weeks.size().reindex(out.index).astype(float)
    online = weeks["online_hours"].sum().reindex(out.index)
    if worker_weeks["online_hours"].notna().any():
        out["online_hours_per_week"] = online / out["weeks_active"]
    completed = weeks["orders_completed"].sum().reindex(out.index).astype(float)
    if "offers" in counts:
        offers = counts["offers"].reindex(out.index).fillna(0).astype(float)
        declined = counts["declined"].reindex(out.index).fillna(0).astype(float)
        if "online_hours_per_week" in out:
            out["offers_per_online_hour"] = offers / online.where(online > 0)
        out["share_of_offers_declined"] = declined / offers.where(offers > 0)
    if "penalties" in counts:
        penalties = counts["penalties"].reindex(out.index).fillna(0).astype(float)
        out["penalties_per_100_orders"] = 100 * penalties / completed.where(completed > 0)
    if "restrictive" in counts:
        out["restrictive_action"] = (
            counts["restrictive"].reindex(out.index).fillna(0).astype(float) > 0
        ).astype(float)
    return out[[c for c in INDICATORS if c in out]]


def _summary(values: pd.Series, name: str, k: int) -> dict[str, float | int | None]:
    """One group's summary of one indicator, withheld as the module docstring says."""
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    row: dict[str, float | int | None] = {"workers": n if n >= k else None}
    if n < k:
        return row
    if name in _SHARE_OF_WORKERS:
        having = int(np.count_nonzero(v > 0))
        row["mean"] = having / n if having >= k and n - having >= k else None
        return row
    # A mean carried by fewer than k workers (the rest at 0) would speak of those few.
    carried = int(np.count_nonzero(v)) >= k and not dominated(v, np.arange(n))
    row["mean"] = float(v.mean()) if carried else None
    for label, q in _QUARTILES:
        row[label] = safe_quantile(v, np.arange(n), q, k)  # one value per worker
    return row


def labour_indicators(
    indicators: pd.DataFrame, groups: pd.DataFrame, *, min_cell_workers: int
) -> pd.DataFrame:
    """The indicators table: ``indicators`` per worker (from :func:`per_worker`) summarised
    by the groups of each column of ``groups`` (index ``worker_id``; strings, missing
    values left out)."""
    k = max(int(min_cell_workers), 1)
    rows: list[dict[str, object]] = []
    for attribute in groups.columns:
        labels = groups[attribute].reindex(indicators.index)
        sizes = labels.value_counts()
        small = sorted(str(g) for g, n in sizes.items() if n < k)
        for group in sorted(str(g) for g, n in sizes.items() if n >= k):
            members = indicators[labels == group]
            for name in indicators.columns:
                summary = _summary(members[name], name, k)
                rows.append({"attribute": attribute, "group": group, "indicator": name} | summary)
        if small:
            rows.append(
                {"attribute": attribute, "indicator": "", "workers": None,
                 "group": f"{len(small)} group{'s' if len(small) > 1 else ''} of fewer than "
                          f"{k} workers each"}
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS))
    frame["workers"] = frame["workers"].astype("Int64")
    for column in ("mean", "p25", "median", "p75"):
        frame[column] = frame[column].astype("float64")
    return frame.astype({"attribute": "object", "group": "object", "indicator": "object"})
