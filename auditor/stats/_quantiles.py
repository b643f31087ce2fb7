"""Percentiles safe to publish: one is shown only where at least k workers lie strictly below
it and k strictly above, so that no published percentile is the value of one worker in a
thin tail, however many weeks (or orders) that worker contributes."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DOMINANCE", "dominated", "safe_quantile"]

DOMINANCE = 0.5
"""A total (or mean) is withheld when one worker holds more than this share of it."""


def dominated(values: NDArray[Any], worker: NDArray[Any]) -> bool:
    """Whether one worker holds more than :data:`DOMINANCE` of the sum of ``|values|`` (the
    dominance rule of statistical disclosure control: a mean of 116 worker-weeks moved
    twentyfold by one week speaks of that week)."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64))
    total = float(magnitude.sum())
    if not total > 0:
        return False
    _, codes = np.unique(worker, return_inverse=True)
    return float(np.bincount(codes, weights=magnitude).max()) > DOMINANCE * total


def safe_quantile(values: NDArray[Any], worker: NDArray[Any], q: float, k: int) -> float | None:
    """The ``q`` quantile of ``values`` (linear interpolation), or None where fewer than
    ``k`` distinct ``worker`` lie strictly below it or strictly above it."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return None
    value = float(np.quantile(values, q))
    below = len(np.unique(worker[values < value]))
    above = len(np.unique(worker[values > value]))
    return value if below >= k and above >= k else None
