"""Ratio of geometric means within strata: least squares of a log outcome on the group dummy
with stratum fixed effects, inferred by cluster.

The outcome is already adjusted for the work (``log y - z' gamma``, the trip terms' effect
estimated within cells of one worker and one stratum, which no worker-level group effect can
move: ``auditor.stats.within_cell_coefficients``), so the model has one
coefficient: ``y~ = a[stratum] + b * treat + e``. Its sufficient statistics per cell of one
cluster in one stratum are the count of units and the sum of y~. Inference is CR2 with
Bell-McCaffrey degrees of freedom (``auditor.stats._cr2``), units weighted equally.

The money comparisons rest on ratios of means (``auditor.stats._poisson``); this is their
sensitivity view, and the basis of the decomposition of the raw gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from auditor.stats._cr2 import Blocks, blocks_of_cells, cluster_robust
from auditor.stats._effect import GroupEffect, Wald, kish

__all__ = ["LogCells", "LogFit", "log_fit", "log_ratio_effect"]


@dataclass(frozen=True, slots=True, eq=False)
class LogCells:
    """Units per cell of one cluster in one stratum (at most one cell per pair).

    Attributes:
        n: units per cell.
        sum_y: sum of the adjusted log outcome per cell.
        stratum: stratum code per cell, 0..S-1.
        cluster: cluster code per cell, 0..G-1.
        n_clusters: G.
        block: the (cluster, stratum) block of each cell where a cluster may have several
            cells in one stratum (``RateCells.block``); None: each cell is its own block.
        offset_gradient: where y~ subtracts a fitted trip effect ``z' gamma``, each cell's
            ``sum z`` (cells x k).
        offset_influence: each cluster's influence on gamma (clusters x k), so that the
            variance counts gamma's noise (``stats._cr2``, ``generated``).
    """

    n: NDArray[np.float64]
    sum_y: NDArray[np.float64]
    stratum: NDArray[np.int64]
    cluster: NDArray[np.int64]
    n_clusters: int
    block: NDArray[np.int64] | None = None
    offset_gradient: NDArray[np.float64] | None = None
    offset_influence: NDArray[np.float64] | None = None

    @property
    def n_strata(self) -> int:
        return int(self.stratum.max()) + 1 if len(self.stratum) else 0


@dataclass(frozen=True, slots=True, eq=False)
class LogFit:
    """The within-strata fit: the coefficient, the stratum effects, what CR2 needs, and per
    cell the group dummy and the design (the dummy less its stratum mean)."""

    b: float
    stratum_effect: NDArray[np.float64]
    blocks: Blocks
    t_cell: NDArray[np.float64]
    design: NDArray[np.float64]


def log_fit(
    cells: LogCells,
    treat_of_cluster: NDArray[np.bool_] | None = None,
    *,
    treat_of_cell: NDArray[np.bool_] | None = None,
) -> LogFit | None:
    """Least squares of y~ on the group dummy within strata (the group by cluster, or by
    cell); None if no stratum has both sides."""
    if treat_of_cell is None:
        t = np.asarray(treat_of_cluster, dtype=bool)[cells.cluster].astype(np.float64)
    else:
        t = np.asarray(treat_of_cell, dtype=bool).astype(np.float64)
    s_n = cells.n_strata
    n_s = np.bincount(cells.stratum, weights=cells.n, minlength=s_n)
    safe = np.where(n_s > 0, n_s, 1.0)
    t_bar = np.bincount(cells.stratum, weights=cells.n * t, minlength=s_n) / safe
    y_bar = np.bincount(cells.stratum, weights=cells.sum_y, minlength=s_n) / safe
    x = t - t_bar[cells.stratum]
    info = float(np.sum(cells.n * x * x))
    if not info > 1e-12:
        return None
    b = float(x @ cells.sum_y) / info
    resid = cells.sum_y - cells.n * (y_bar[cells.stratum] + b * x)
    blocks = blocks_of_cells(
        cells.cluster, cells.stratum, cells.n, x, resid, n_clusters=cells.n_clusters,
        n_strata=s_n, block=cells.block,
    )  # fmt: skip
    return LogFit(b, y_bar - b * t_bar, blocks, t, x)


def log_ratio_effect(
    cells: LogCells,
    treat_of_cluster: NDArray[np.bool_] | None = None,
    *,
    method: str,
    treat_of_cell: NDArray[np.bool_] | None = None,
) -> GroupEffect:
    """The group's ratio of geometric means within strata (module docstring)."""
    if treat_of_cell is None:
        t = np.asarray(treat_of_cluster, dtype=bool)[cells.cluster]
    else:
        t = np.asarray(treat_of_cell, dtype=bool)
    g = cells.n_clusters
    in_group = np.bincount(cells.cluster, weights=cells.n * t, minlength=g) > 0
    in_reference = np.bincount(cells.cluster, weights=cells.n * ~t, minlength=g) > 0
    units = round(float(cells.n.sum()))
    none = GroupEffect(None, int(in_group.sum()), int(in_reference.sum()), units, method)
    fit = log_fit(cells, treat_of_cell=t)
    if fit is None:
        return none
    generated = None
    if cells.offset_gradient is not None and cells.offset_influence is not None:
        gradient = fit.design @ np.asarray(cells.offset_gradient, dtype=np.float64)
        generated = np.asarray(cells.offset_influence, dtype=np.float64) @ gradient
    robust = cluster_robust(fit.blocks, generated=generated)
    if not robust.informative:  # identical outcomes within strata: rounding noise
        return none
    # Kish effective clusters of each side over their units in the strata both share.
    s_n = cells.n_strata
    both = (np.bincount(cells.stratum, weights=cells.n * t, minlength=s_n) > 0) & (
        np.bincount(cells.stratum, weights=cells.n * ~t, minlength=s_n) > 0
    )
    inside = np.where(both[cells.stratum], cells.n, 0.0)
    units_g = np.bincount(cells.cluster, weights=inside * t, minlength=g)
    units_r = np.bincount(cells.cluster, weights=inside * ~t, minlength=g)
    return GroupEffect(
        Wald(fit.b, robust.se, robust.df), none.n_clusters_group, none.n_clusters_reference,
        units, method, kish(units_g, in_group), kish(units_r, in_reference),
        robust.random_effect,
    )  # fmt: skip
