"""One group comparison on a check's cells: the estimator that the checks and the
calibration both call, from the cells of every cluster and a choice of clusters to compare.

``EffectFn`` is ``(keep_cluster, treat_of_cluster) -> GroupEffect``: the effect of the kept
clusters where ``treat`` against the other kept clusters, on the kept clusters' cells only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from auditor.stats._codes import cluster_subset, strata
from auditor.stats._effect import GroupEffect
from auditor.stats._poisson import RateCells, poisson_effect
from auditor.stats._within import LogCells, log_ratio_effect

__all__ = ["EffectFn", "log_estimator", "ratio_estimator"]

EffectFn = Callable[[NDArray[np.bool_], NDArray[np.bool_]], GroupEffect]
"""``(keep_cluster, treat_of_cluster) -> GroupEffect`` (module docstring)."""


def ratio_estimator(
    count: NDArray[np.float64],
    exposure: NDArray[np.float64],
    stratum: NDArray[np.int64],
    cluster: NDArray[np.int64],
    *,
    method: str,
    refine: NDArray[np.int64] | None = None,
    offset_gradient: NDArray[np.float64] | None = None,
    offset_influence: NDArray[np.float64] | None = None,
    counts: bool = False,
) -> EffectFn:
    """The ratio of rates (or of mean money) of one comparison on the kept clusters' cells
    (``refine``: a code per cluster by which to subdivide the strata, e.g. the algorithmic
    attributes; ``offset_*``: a fitted offset's gradient per cell and influence per cluster;
    ``counts``: the counts are events; ``RateCells``)."""

    def effect(keep: NDArray[np.bool_], treat: NDArray[np.bool_]) -> GroupEffect:
        rows, new, old = cluster_subset(cluster, keep)
        st = stratum[rows]
        if refine is not None:
            st = strata(st, refine[cluster[rows]])
        cells = RateCells(
            count[rows], exposure[rows], st, new, len(old),
            offset_gradient=None if offset_gradient is None else offset_gradient[rows],
            offset_influence=None if offset_influence is None else offset_influence[old],
            counts=counts,
        )  # fmt: skip
        return poisson_effect(cells, treat[old], method=method)

    return effect


def log_estimator(
    n: NDArray[np.float64],
    sum_y: NDArray[np.float64],
    stratum: NDArray[np.int64],
    cluster: NDArray[np.int64],
    *,
    method: str,
    offset_gradient: NDArray[np.float64] | None = None,
    offset_influence: NDArray[np.float64] | None = None,
) -> EffectFn:
    """The ratio of geometric means of one comparison on the kept clusters' cells."""

    def effect(keep: NDArray[np.bool_], treat: NDArray[np.bool_]) -> GroupEffect:
        rows, new, old = cluster_subset(cluster, keep)
        cells = LogCells(
            n[rows], sum_y[rows], stratum[rows], new, len(old),
            offset_gradient=None if offset_gradient is None else offset_gradient[rows],
            offset_influence=None if offset_influence is None else offset_influence[old],
        )  # fmt: skip
        return log_ratio_effect(cells, treat[old], method=method)

    return effect
