"""Ratio of rates (or of mean money) within strata: the Poisson (pseudo-)likelihood with
stratum fixed effects, inferred by cluster.

The model is ``E[count] = exposure * exp(a[stratum] + b * treat)`` on cells of one cluster in
one stratum, ``treat`` constant within a cluster (the worker's group). The same likelihood
serves counts (offers per online hour, penalties per accepted order) and money (pay per
expected pay for the work, offered pay per online hour): for money it is a
pseudo-likelihood, consistent for the ratio of means whatever the distribution of the
amounts (Gourieroux, Monfort and Trognon 1984; Santos Silva and Tenreyro 2006), and never
thrown by near-zero amounts as a ratio of geometric means is. Because the likelihood depends
on the data only through counts and exposures per cell, this is exactly the unit-level model.

The stratum effects are profiled out: the score for ``b`` is
``Y_treat - sum_s Y_s A_s e^b / (A_s e^b + B_s)``, with ``A_s`` and ``B_s`` the group's and the
reference's exposure in stratum ``s``, a monotone function solved by bracketing. Inference is
CR2 with Bell-McCaffrey degrees of freedom (``auditor.stats._cr2``) on the cells, with the
fitted counts as working weights. Where one side has no event in the strata both share, the
ratio is 0 (or infinite) and the exact conditional test of ``auditor.stats._effect`` is used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from auditor.stats._cr2 import Blocks, blocks_of_cells, cluster_robust
from auditor.stats._effect import Exclusion, GroupEffect, Wald, kish

__all__ = ["RateCells", "poisson_effect"]

_BOUND = 12.0
"""Search interval of the log rate ratio; beyond it the ratio is effectively 0 or infinite."""


class RateCells:
    """Counts and exposures per cell of one cluster in one stratum (at most one cell per
    cluster and stratum), with stratum and cluster codes. Cells without exposure are
    dropped.

    Args:
        count: events per cell (orders, penalties), or money (pay, offered pay).
        exposure: exposure per cell (online hours, accepted orders, expected pay), >= 0.
        stratum: stratum code per cell, 0..S-1.
        cluster: cluster code per cell, 0..G-1.
        n_clusters: G (default: the largest code + 1).
        block: where a cluster may have several cells in one stratum (a customer buying in
            two segments), the code of each cell's (cluster, stratum) block; None: every
            cell is its own block.
        offset_gradient: where the exposure is a fitted offset ``sum exp(z' gamma)``, each
            cell's ``sum m z`` (cells x k), the exposure's gradient in gamma.
        offset_influence: each cluster's influence on the fitted gamma (clusters x k), so
            that the variance counts gamma's noise (``stats._cr2``, ``generated``).
        counts: the counts are events (not money): their Poisson kurtosis, 1 / mu, enters
            the degrees of freedom (``stats._cr2``, ``kurtosis``).
    """

    def __init__(
        self,
        count: NDArray[Any],
        exposure: NDArray[Any],
        stratum: NDArray[Any],
        cluster: NDArray[Any],
        n_clusters: int | None = None,
        block: NDArray[Any] | None = None,
        offset_gradient: NDArray[Any] | None = None,
        offset_influence: NDArray[Any] | None = None,
        counts: bool = False,
    ) -> None:
        keep = np.asarray(exposure, dtype=np.float64) > 0
        self.counts = counts
        self.offset_gradient = offset_gradient
        self.offset_influence = offset_influence
        self.count = np.asarray(count, dtype=np.float64)
        self.exposure = np.asarray(exposure, dtype=np.float64)
        self.stratum = np.asarray(stratum, dtype=np.int64)
        self.cluster = np.asarray(cluster, dtype=np.int64)
        self.block = None if block is None else np.asarray(block, dtype=np.int64)
        if not bool(keep.all()):  # usually every cell has exposure: no copies then
            self.count, self.exposure = self.count[keep], self.exposure[keep]
            self.stratum, self.cluster = self.stratum[keep], self.cluster[keep]
            if self.block is not None:
                self.block = self.block[keep]
            if self.offset_gradient is not None:
                self.offset_gradient = np.asarray(self.offset_gradient)[keep]
        if n_clusters is None:
            n_clusters = int(self.cluster.max()) + 1 if len(self.cluster) else 0
        self.n_clusters = n_clusters
        self.n_strata = int(self.stratum.max()) + 1 if len(self.stratum) else 0
        self._y_s = np.bincount(self.stratum, weights=self.count, minlength=self.n_strata)
        self._e_s = np.bincount(self.stratum, weights=self.exposure, minlength=self.n_strata)

    def __len__(self) -> int:
        return len(self.count)

    def units_of_cluster(self) -> NDArray[np.float64]:
        """Cells per cluster."""
        return np.bincount(self.cluster, minlength=self.n_clusters).astype(np.float64)


def poisson_effect(
    cells: RateCells,
    treat_of_cluster: NDArray[np.bool_] | None = None,
    *,
    method: str,
    treat_of_cell: NDArray[np.bool_] | None = None,
) -> GroupEffect:
    """The group's ratio within strata (module docstring). Each cell is in the group or the
    reference: by its cluster's side (``treat_of_cluster``) or, where a cluster may be on
    both sides (a customer of two segments), by ``treat_of_cell``."""
    if treat_of_cell is None:
        t = np.asarray(treat_of_cluster, dtype=bool)[cells.cluster]
    else:
        t = np.asarray(treat_of_cell, dtype=bool)
    g_count = cells.n_clusters
    in_group = np.bincount(cells.cluster, weights=t, minlength=g_count) > 0
    in_reference = np.bincount(cells.cluster, weights=~t, minlength=g_count) > 0
    n_group, n_ref = int(in_group.sum()), int(in_reference.sum())
    none = GroupEffect(None, n_group, n_ref, len(cells), method)
    s_n = cells.n_strata
    a = np.bincount(cells.stratum, weights=cells.exposure * t, minlength=s_n)
    # The reference's exposure per stratum: all less the group's (exactly 0 where only the
    # group is online, as the same terms are added in the same order).
    b_ = np.maximum(cells._e_s - a, 0.0)
    y_s = cells._y_s
    y_g = np.bincount(cells.stratum, weights=cells.count * t, minlength=s_n)
    shared = (a > 0) & (b_ > 0) & (y_s > 0)
    if not shared.any():
        return none
    y_treat = float(y_g[shared].sum())
    y_total = float(y_s[shared].sum())
    if y_treat <= 0 or y_treat >= y_total:
        return _exclusion(cells, t, a, b_, shared, y_treat <= 0, none)
    a_i, b_i, ys_i = a[shared], b_[shared], y_s[shared]

    def score(beta: float) -> float:
        ea = a_i * math.exp(beta)
        return y_treat - float(np.sum(ys_i * ea / (ea + b_i)))

    if score(-_BOUND) <= 0 or score(_BOUND) >= 0:
        return none
    from scipy.optimize import brentq  # imported on first use (see stats._dist)

    beta = float(brentq(score, -_BOUND, _BOUND, xtol=1e-12))
    mu, per_exposure, design = _fitted(cells, t, a, b_, shared, beta)
    blocks = _blocks(cells, mu, design)
    kurtosis = None
    if cells.counts and cells.block is None:
        kurtosis = np.where(mu > 0, 1.0 / np.where(mu > 0, mu, 1.0), 0.0)
    robust = cluster_robust(
        blocks, generated=_generated(cells, per_exposure, design), kurtosis=kurtosis
    )
    if not robust.informative:  # counts equal their fit in every cell: rounding noise
        return none
    eff_g, eff_r = _effective(cells, t, shared, in_group, in_reference)
    return GroupEffect(
        Wald(beta, robust.se, robust.df), n_group, n_ref, len(cells), method, eff_g, eff_r,
        robust.random_effect,
    )  # fmt: skip


def _effective(
    cells: RateCells,
    t: NDArray[np.bool_],
    shared: NDArray[np.bool_],
    in_group: NDArray[np.bool_],
    in_reference: NDArray[np.bool_],
) -> tuple[float, float]:
    """Kish effective clusters of each side in common support: over the clusters' exposure
    in the strata both sides share (two workers 50 times as active as the rest, or two who
    alone bridge the strata of a group of 30, count as about two)."""
    inside = np.where(shared[cells.stratum], cells.exposure, 0.0)
    g = cells.n_clusters
    share_g = np.bincount(cells.cluster, weights=inside * t, minlength=g)
    share_r = np.bincount(cells.cluster, weights=inside * ~t, minlength=g)
    return kish(share_g, in_group), kish(share_r, in_reference)


def _fitted(
    cells: RateCells,
    t: NDArray[np.bool_],
    a: NDArray[Any],
    b_: NDArray[Any],
    shared: NDArray[np.bool_],
    beta: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The fit at ``beta`` per cell: fitted counts, the fitted count per unit of exposure,
    and the design (the group dummy less its fitted share of the stratum; 0 outside the
    shared strata)."""
    e = math.exp(beta)
    denom = a * e + b_
    safe = np.where(denom > 0, denom, 1.0)
    rate = np.where(denom > 0, cells._y_s / safe, 0.0)  # the stratum's rate (reference scale)
    p_s = np.where(shared, a * e / safe, 0.0)
    per_exposure = np.where(t, e, 1.0) * rate[cells.stratum]
    design = np.where(shared[cells.stratum], t - p_s[cells.stratum], 0.0)
    return cells.exposure * per_exposure, per_exposure, design


def _blocks(cells: RateCells, mu: NDArray[np.float64], design: NDArray[np.float64]) -> Blocks:
    """The fit's blocks for CR2 (working weights mu)."""
    return blocks_of_cells(
        cells.cluster, cells.stratum, mu, design, cells.count - mu,
        n_clusters=cells.n_clusters, n_strata=cells.n_strata, block=cells.block,
    )  # fmt: skip


def _generated(
    cells: RateCells, per_exposure: NDArray[np.float64], design: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """Each cluster's move of the score through a fitted offset (``cluster_robust``'s
    ``generated``): the score's gradient in gamma, ``sum x~ (mu / exposure) sum m z``, times
    the clusters' influence on gamma. None without a fitted offset."""
    if cells.offset_gradient is None or cells.offset_influence is None:
        return None
    gradient = (design * per_exposure) @ np.asarray(cells.offset_gradient, dtype=np.float64)
    return np.asarray(cells.offset_influence, dtype=np.float64) @ gradient


def _exclusion(
    cells: RateCells,
    t: NDArray[np.bool_],
    a: NDArray[Any],
    b_: NDArray[Any],
    shared: NDArray[np.bool_],
    group_empty: bool,
    none: GroupEffect,
) -> GroupEffect:
    """One side has no event in the shared strata: the exact conditional test, with the
    other side's dispersion of workers' events (their squared residuals at the fit where
    the empty side gets nothing, over their Poisson variance left by the strata)."""
    other = ~t if group_empty else t
    side_exposure = np.where(other, cells.exposure, 0.0)
    e_other = np.bincount(cells.stratum, weights=side_exposure, minlength=cells.n_strata)
    rate = np.where(shared & (e_other > 0), cells._y_s / np.where(e_other > 0, e_other, 1.0), 0.0)
    in_shared = shared[cells.stratum] & other
    mu = np.where(in_shared, cells.exposure * rate[cells.stratum], 0.0)
    resid = np.where(in_shared, cells.count - mu, 0.0)
    pi = np.where(in_shared, mu / np.where(cells._y_s > 0, cells._y_s, 1.0)[cells.stratum], 0.0)
    r_g = np.bincount(cells.cluster, weights=resid, minlength=cells.n_clusters)
    v_g = np.bincount(cells.cluster, weights=mu * (1.0 - pi), minlength=cells.n_clusters)
    clusters = int(np.count_nonzero(v_g > 0))
    if clusters < 2 or not float(v_g.sum()) > 0:
        return none
    dispersion = float(r_g @ r_g) / float(v_g.sum()) * clusters / (clusters - 1)
    if cells.counts:
        # Events are at least as dispersed as Poisson's. Money has no such floor: its
        # dispersion carries the unit of account (a yuan or a fen), which events / phi
        # cancels, so the test does not depend on the currency's unit.
        dispersion = max(1.0, dispersion)
    elif not dispersion > 0:
        return none
    test = Exclusion(
        "group" if group_empty else "reference",
        cells._y_s[shared], a[shared], b_[shared], dispersion,
    )  # fmt: skip
    g = cells.n_clusters
    in_group = np.bincount(cells.cluster, weights=t, minlength=g) > 0
    in_reference = np.bincount(cells.cluster, weights=~t, minlength=g) > 0
    eff_g, eff_r = _effective(cells, t, shared, in_group, in_reference)
    return GroupEffect(
        test, none.n_clusters_group, none.n_clusters_reference, none.n_units, none.method,
        eff_g, eff_r,
    )  # fmt: skip
