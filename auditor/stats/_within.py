"""The group effect on a log outcome within strata, from cell moments (see ``_moments``).

``within_effect`` compares the clusters where ``treat`` is true with the others, on the
cells given: a least-squares coefficient with a cluster-robust (CR1) standard error, t(df)
with df the effective number of clusters of the smaller side minus one, or a permutation
p-value of the studentized coefficient over relabellings of clusters.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from auditor.stats._dist import t_sf
from auditor.stats._effect import GroupEffect, kish, t_df
from auditor.stats._moments import CellMoments, t_of

__all__ = ["MAX_PERMUTATION_CELLS", "permutation_p", "within_effect"]

_NOISE_SE = 1e-10
"""Standard errors (log scale) below this are rounding noise of identical outcomes."""

MAX_PERMUTATION_CELLS = 200_000
"""Largest comparison (in cells) whose p-value is permuted; beyond it the t-test with the
effective-cluster degrees of freedom is used (conservative with few effective clusters, see
docs/validation.md), since 999 refits of millions of cells would take minutes."""


def within_effect(
    cells: CellMoments,
    treat_of_cluster: NDArray[np.bool_],
    *,
    method: str,
    permutations: int = 0,
    seed: int = 0,
) -> GroupEffect:
    """The group (``treat``) effect on the outcome within strata; every cluster of ``cells``
    is in the group or the reference. ``permutations`` > 0 asks for a permutation p-value
    (granted up to ``MAX_PERMUTATION_CELLS`` cells)."""
    treat_of_cluster = np.asarray(treat_of_cluster, dtype=bool)
    present = cells.units_of_cluster() > 0
    n_group = int((treat_of_cluster & present).sum())
    n_ref = int((~treat_of_cluster & present).sum())
    fit = cells.fit(treat_of_cluster[cells.cluster])
    units = round(float(cells.n.sum()))
    if fit is None:
        return GroupEffect(math.nan, math.nan, 1, math.nan, n_group, n_ref, units, method)
    b, se = t_of(fit, 0)
    if se < _NOISE_SE:
        # No variation left within strata (identical outcomes): the coefficient and its
        # error are rounding noise, not an estimate (and would not be reproducible).
        b, se = math.nan, math.nan
    info = fit.information[:, 0]
    eff_g = kish(info, treat_of_cluster & present)
    eff_r = kish(info, ~treat_of_cluster & present)
    df = t_df(eff_g, eff_r)
    if not (math.isfinite(b) and math.isfinite(se) and se > 0):
        return GroupEffect(
            math.nan, math.nan, df, math.nan, n_group, n_ref, units, method, False, eff_g, eff_r
        )
    p = float(2 * t_sf(abs(b / se), df))
    permuted = False
    if permutations > 0 and len(cells.n) <= MAX_PERMUTATION_CELLS:

        def refit(labels: NDArray[np.bool_]) -> tuple[float, float]:
            f = cells.fit(labels[cells.cluster])
            return (math.nan, math.nan) if f is None else t_of(f, 0)

        p = permutation_p(refit, treat_of_cluster, present, b / se, permutations, seed)
        permuted = True
    return GroupEffect(b, se, df, p, n_group, n_ref, units, method, permuted, eff_g, eff_r)


def permutation_p(
    fit: Callable[[NDArray[np.bool_]], tuple[float, float]],
    treat_of_cluster: NDArray[np.bool_],
    present: NDArray[np.bool_],
    observed: float,
    permutations: int,
    seed: int,
) -> float:
    """Monte Carlo permutation p-value of |studentized effect|, relabelling present clusters
    (group sizes kept)."""
    rng = np.random.default_rng(seed)
    idx = np.nonzero(present)[0]
    labels = treat_of_cluster[idx]
    hits = 0
    for _ in range(permutations):
        perm = treat_of_cluster.copy()
        perm[idx] = rng.permutation(labels)
        b, se = fit(perm)
        # Ties within a relative 1e-9 count as ties (as large as observed).
        if math.isfinite(b) and se > 0 and abs(b / se) >= abs(observed) * (1 - 1e-9):
            hits += 1
    return (hits + 1) / (permutations + 1)
