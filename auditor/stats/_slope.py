"""A within-strata slope with worker-clustered inference, from per-cell sums.

The model is linear in the units (orders): ``y_i = a[stratum] + x_i' beta + e_i``, with stratum
fixed effects (and optionally cluster fixed effects, ``u[cluster]``); the coefficient of
interest is ``beta[0]`` (e.g. the change in base pay per unit of tip, FEE-07), the others are
controls (the trip terms). The engine sums, per cell of one cluster (worker) in one stratum,
the units ``n``, ``sum x``, ``sum y``, ``sum x x'`` and ``sum x y``; from these the within-
strata normal equations and each cluster's score are exact (the strata's means are the cells'
sums over the stratum's units):

- ``A = sum_c C_c``, ``C_c = Sxx_c - m Sx_c' - Sx_c m' + n_c m m'`` (``m`` the stratum's mean x),
- ``b = sum_c d_c``, ``d_c = Sxy_c - m Sy_c - ybar Sx_c + n_c m ybar``,
- ``beta = A^-1 b``; cluster ``g``'s score ``s_g = sum_{c in g} (d_c - C_c beta)``.

With cluster effects too, ``m`` and ``ybar`` are the cell's fit by both sets of effects (they
are constant within a cell, so the cells' unit means weighted by units determine them),
found by conjugate gradients on the clusters' normal equations; ``tests/test_tip_offset.py``
checks both fits against statsmodels' unit-level OLS with dummies.

**Inference.** The CR2 (bias-reduced linearisation) cluster-robust variance
``A^-1 (sum s~_g s~_g') A^-1``, each cluster's score adjusted by its leverage,
``s~_g = X~_g' (I - H_gg)^(-1/2) e_g`` with H the hat matrix of the absorbed design
(``_cr2_scores``: from per-cluster p x p matrices only). Cluster effects are nested in the
clusters and need nothing more (Pustejovsky and Tipton 2018); the strata's own leverage is
left out, which is small where a stratum holds many units. The reference is a t with the
effective number of clusters as degrees of freedom (Carter, Schnepel and Steigerwald 2017,
with no intra-cluster correlation): ``(sum a_g)^2 / sum a_g^2``, ``a_g = [A^-1 A_g A^-1]_00``
a cluster's share of the information on the slope, at most G - 1: a few workers holding
most of the variation in x count as a few, however many orders they have. The calibration
worlds (``auditor.simulate._slope_worlds``, ``tests/test_tip_offset.py``,
``tests/test_take_by_fare.py``) check its level with 12 workers and with 2 dominant workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from auditor.stats._dist import t_cdf, t_ppf, t_sf

__all__ = ["Slope", "SlopeCells", "within_slope"]

_TOLERANCE = 1e-12
"""Relative residual at which the two-way fixed effects' conjugate gradients stop."""

_MAX_SWEEPS = 10_000
"""Conjugate-gradient iterations at most for the two-way fixed effects."""

_RELATIVE_RANK = 1e-10
"""A control whose within-strata variation is below this share of its raw sum of squares
is dropped (it does not vary within strata)."""


@dataclass(frozen=True, slots=True, eq=False)
class SlopeCells:
    """Sums per cell of one cluster in one stratum (at most one cell per pair).

    Attributes:
        cluster: cluster code per cell, 0..G-1.
        stratum: stratum code per cell, 0..S-1.
        n: units per cell.
        sx: sum of x per cell (cells x p); column 0 is the regressor of interest.
        sy: sum of y per cell.
        sxx: sum of x x' per cell (cells x p x p).
        sxy: sum of x y per cell (cells x p).
        n_clusters: G.
    """

    cluster: NDArray[np.int64]
    stratum: NDArray[np.int64]
    n: NDArray[np.float64]
    sx: NDArray[np.float64]
    sy: NDArray[np.float64]
    sxx: NDArray[np.float64]
    sxy: NDArray[np.float64]
    n_clusters: int


@dataclass(frozen=True, slots=True)
class Slope:
    """The slope ``beta[0]`` with a t(df) distribution: ``(beta - slope) / se ~ t(df)``.

    Attributes:
        estimate: the slope (units of y per unit of x).
        se: its cluster-robust standard error (NaN when nothing informs it).
        df: effective clusters (module docstring), the t's degrees of freedom.
        clusters: clusters with any within-strata variation in x[0].
        units: units behind the fit.
    """

    estimate: float
    se: float
    df: float
    clusters: int
    units: int

    @property
    def estimable(self) -> bool:
        return math.isfinite(self.se) and self.se > 0 and self.df >= 1

    def interval(self, level: float) -> tuple[float, float]:
        """Two-sided ``level`` interval."""
        q = float(t_ppf(0.5 + level / 2.0, self.df))
        return self.estimate - q * self.se, self.estimate + q * self.se

    def p_zero(self) -> float:
        """Two-sided p-value of a slope of 0."""
        return float(2 * t_sf(abs(self.estimate) / self.se, self.df))

    def p_below(self, bound: float) -> float:
        """Minimum-effect test of H0: slope >= ``bound`` (a one-sided question asked two-sided,
        as the group checks: twice the one-sided p, so p < alpha exactly when the
        ``1 - alpha`` interval lies wholly below ``bound``)."""
        return float(min(1.0, 2 * t_cdf((self.estimate - bound) / self.se, self.df)))

    def p_beyond(self, band: float) -> float:
        """Minimum-effect test of H0: the slope lies inside ``[-band, band]``: twice the
        one-sided p at the nearer edge, so p < alpha exactly when the ``1 - alpha`` interval
        lies beyond the band."""
        return float(min(1.0, 2 * t_sf((abs(self.estimate) - band) / self.se, self.df)))

    def p_within(self, band: float) -> float:
        """Equivalence (two one-sided tests) that the slope lies inside ``[-band, band]``:
        p < alpha exactly when the ``1 - 2 alpha`` interval lies inside it."""
        lower = t_sf((self.estimate + band) / self.se, self.df)
        upper = t_cdf((self.estimate - band) / self.se, self.df)
        return float(max(lower, upper))

    def p_above(self, bound: float) -> float:
        """One-sided test of H0: slope <= ``bound``: p < alpha exactly when the lower end of
        the ``1 - 2 alpha`` interval lies above ``bound``."""
        return float(t_sf((self.estimate - bound) / self.se, self.df))


def _absorbed(
    cells: SlopeCells, means: NDArray[np.float64], n: NDArray[np.float64], by_cluster: bool
) -> NDArray[np.float64]:
    """Per cell, the fixed effects' fit to each column of ``means`` (cells x q: the cells'
    unit means), weighted by units: the stratum's mean, or with ``by_cluster`` the two-way
    (stratum + cluster) fit. The two-way fit profiles the strata out and solves the
    clusters' normal equations ``(D_g - N D_s^-1 N') u = b_g - N D_s^-1 b_s`` (``N`` the
    units per cluster and stratum) by conjugate gradients, preconditioned by the diagonal,
    to a relative residual of ``_TOLERANCE``: far fewer sweeps than alternating projections
    when workers and strata barely connect."""
    from scipy import sparse
    from scipy.sparse.linalg import LinearOperator, cg

    s_count = int(cells.stratum.max()) + 1
    g = cells.n_clusters
    w_s = np.bincount(cells.stratum, weights=n, minlength=s_count)
    inv_s = np.where(w_s > 0, 1.0 / np.where(w_s > 0, w_s, 1.0), 0.0)
    q = means.shape[1]
    b_s = np.column_stack(
        [np.bincount(cells.stratum, weights=n * means[:, j], minlength=s_count) for j in range(q)]
    )
    if not by_cluster:
        return np.asarray((b_s * inv_s[:, None])[cells.stratum], dtype=np.float64)
    units = sparse.csr_matrix((n, (cells.cluster, cells.stratum)), shape=(g, s_count))
    w_g = np.asarray(units.sum(axis=1)).ravel()
    units_t = units.T.tocsr()
    diagonal = w_g - np.asarray(units.multiply(units).dot(inv_s)).ravel()
    scale = np.where(
        diagonal > 1e-12 * np.maximum(w_g, 1.0), 1.0 / np.where(diagonal > 0, diagonal, 1.0), 0.0
    )

    def reduced(u: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(w_g * u - units.dot(inv_s * units_t.dot(u)), dtype=np.float64)

    operator = LinearOperator((g, g), matvec=reduced, dtype=np.float64)
    preconditioner = LinearOperator((g, g), matvec=lambda v: scale * v, dtype=np.float64)
    fit = np.empty_like(means)
    for j in range(q):
        b_g = np.bincount(cells.cluster, weights=n * means[:, j], minlength=g)
        rhs = b_g - units.dot(inv_s * b_s[:, j])
        if not np.any(rhs):
            u = np.zeros(g)
        else:
            u, _ = cg(
                operator, rhs, rtol=_TOLERANCE, atol=0.0, maxiter=_MAX_SWEEPS, M=preconditioner
            )
        a = inv_s * (b_s[:, j] - units_t.dot(u))
        fit[:, j] = a[cells.stratum] + u[cells.cluster]
    return fit


def _cr2_scores(
    score: NDArray[np.float64], a_g: NDArray[np.float64], a: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Each cluster's score adjusted as CR2 does, ``X_g' (I - H_gg)^(-1/2) e_g``, which
    equals ``(I - M_g A^-1)^(-1/2) s_g`` (``M_g = X_g' X_g``: for any function f,
    ``X_g' f(H_gg) = f(M_g A^-1) X_g'``). Computed in the symmetric form
    ``A^(1/2) (I - A^(-1/2) M_g A^(-1/2))^(-1/2) A^(-1/2) s_g``; a leverage of 1 (a cluster
    that alone identifies a direction) is left unadjusted there (Moore-Penrose)."""
    values, vectors = np.linalg.eigh(a)
    values = np.clip(values, 0.0, None)
    root = np.sqrt(values)
    inv_root = np.where(root > 0, 1.0 / np.where(root > 0, root, 1.0), 0.0)
    a_half = (vectors * root) @ vectors.T
    a_minus_half = (vectors * inv_root) @ vectors.T
    s = a_minus_half @ a_g @ a_minus_half  # (G, p, p), symmetric
    lam, u = np.linalg.eigh(s)
    lam = np.clip(lam, 0.0, 1.0)
    factor = np.where(lam < 1.0 - 1e-12, 1.0 / np.sqrt(np.where(lam < 1.0, 1.0 - lam, 1.0)), 1.0)
    inner = np.einsum("gij,gj,gkj->gik", u, factor, u)  # (I - S_g)^(-1/2)
    z = score @ a_minus_half  # A^(-1/2) s_g (A^(-1/2) is symmetric)
    return np.einsum("ij,gjk,gk->gi", a_half, inner, z)


def within_slope(cells: SlopeCells, *, by_cluster: bool = False) -> Slope:
    """The within-strata slope of y on x[0], the other columns of x as controls (module
    docstring); ``by_cluster``: within clusters too (cluster fixed effects: the same worker's
    units compared with each other)."""
    n = np.asarray(cells.n, dtype=np.float64)
    units = round(float(n.sum()))
    nan = Slope(math.nan, math.nan, math.nan, 0, units)
    if not len(n):
        return nan
    sx, sy = cells.sx, cells.sy
    safe_n = np.where(n > 0, n, 1.0)
    fitted = _absorbed(cells, np.column_stack([sx, sy]) / safe_n[:, None], n, by_cluster)
    mean_x, mean_y = fitted[:, :-1], fitted[:, -1]
    g = cells.n_clusters
    p = sx.shape[1]

    def by_cluster_sum(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(cells.cluster, weights=v, minlength=g).astype(np.float64)

    # Per cluster, the within cross-products C_g (p x p) and d_g (p), one element at a time
    # (no cells x p x p temporaries: millions of cells at 10 M orders).
    a_all = np.zeros((g, p, p))
    d_all = np.zeros((g, p))
    raw = np.zeros(p)
    for i in range(p):
        d_i = cells.sxy[:, i] - mean_x[:, i] * sy - mean_y * sx[:, i] + n * mean_y * mean_x[:, i]
        d_all[:, i] = by_cluster_sum(d_i)
        raw[i] = float(cells.sxx[:, i, i].sum())
        for j in range(i, p):
            c_ij = (
                cells.sxx[:, i, j]
                - mean_x[:, i] * sx[:, j]
                - sx[:, i] * mean_x[:, j]
                + n * mean_x[:, i] * mean_x[:, j]
            )
            a_all[:, i, j] = a_all[:, j, i] = by_cluster_sum(c_ij)
    a = a_all.sum(axis=0)
    keep = np.diag(a) > _RELATIVE_RANK * np.where(raw > 0, raw, 1.0)
    if not keep[0]:
        return nan
    idx = np.flatnonzero(keep)
    a, a_g, d_g = a[np.ix_(idx, idx)], a_all[:, idx][:, :, idx], d_all[:, idx]
    a_inv = np.linalg.pinv(a)
    beta = a_inv @ d_g.sum(axis=0)
    score = d_g - a_g @ beta
    row = a_inv[0]
    share = np.einsum("i,gij,j->g", row, a_g, row)  # a_g: each cluster's information share
    informs = share > 0
    clusters = int(np.count_nonzero(informs))
    if clusters < 2:
        return Slope(float(beta[0]), math.nan, math.nan, clusters, units)
    adjusted = _cr2_scores(score, a_g, a)
    term = adjusted @ row  # each cluster's influence on the slope, times the bread
    variance = float(term @ term)
    df = float(share.sum()) ** 2 / float(np.sum(share * share))
    se = math.sqrt(variance) if variance > 0 else math.nan
    return Slope(float(beta[0]), se, min(df, clusters - 1.0), clusters, units)
