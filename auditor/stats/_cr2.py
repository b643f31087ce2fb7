"""Small-sample cluster-robust inference for one contrast within strata: the CR2
(bias-reduced linearisation) variance and Bell-McCaffrey degrees of freedom.

Every group comparison of the audit is a fit with stratum fixed effects and one contrast
column (the group dummy), by weighted least squares or a Poisson pseudo-likelihood. After the
fit, only these numbers per *block* (one cluster's units in one stratum) are needed:

- ``weight`` w_b: the block's working weight (least squares: its units; Poisson: its fitted
  count mu),
- ``weighted_design`` wx_b: the sum over its units of w_i x~_i, where x~ is the contrast column
  after absorbing the strata (the group dummy less its weighted stratum mean),
- ``residual`` r_b: the sum of its residuals y_i - fitted_i,

and per cluster ``information`` (sum of w x~^2) and ``score`` (sum of x~ r). Where the design is
constant within a block (a worker is in one group), both follow from the blocks.

**CR2.** With working weights W, the hat matrix of the full design (stratum dummies and the
contrast) is H = P + h h' / I: P projects on the strata (its block of cluster g is diagonal in
the blocks' unit directions u_b, with the block's share of its stratum's weight
pi_b = w_b / w_s), and h = W^(1/2) x~ carries the contrast, I = x~' W x~ its information. The
residuals of cluster g have covariance (I - H)_gg under the working model (independent units
with variance 1 / w), so the score of g is adjusted by a matrix A_g with
A_g (I - H)_gg A_g' = I, which makes the sandwich unbiased under that model:
A_g = (I - U U')^(-1/2) D^(-1/2), D = I - P_gg, U = D^(-1/2) h_g / sqrt(I). Both factors have
closed forms (D is diagonal in the block directions, U U' has rank one), so the adjusted score
is ``P_half + phi(lambda) N_half / N_one * P_one`` with N_a = x~' W^(1/2) D^(-a) W^(1/2) x~,
P_a the same with the residuals, lambda = N_one / I the cluster's leverage on the contrast,
phi(l) = (1 - l)^(-1/2) - 1 (see ``tests/test_small_sample.py``, which checks every number
against the unit-level matrices). Where a block is a whole stratum (pi_b = 1) or a cluster
carries all the information (lambda = 1) the inverse is the Moore-Penrose one. Without
strata (P = 0) this is Bell and McCaffrey's CR2; it counts the units that really inform the
contrast, so no (N - 1) / (N - K) factor over cells and strata is needed.

**Degrees of freedom.** Bell and McCaffrey (2002), as Imbens and Kolesar (2016) recommend for
one coefficient: df = (tr M)^2 / tr(M^2) with M = Q' Omega Q, Q = (I - H) [a_1 ... a_G],
a_g = A_g' h_g / I: the covariance of the clusters' terms of the variance under a working
model Omega. Imbens and Kolesar's working model has a cluster random effect,
Omega = I + rho z z' within each cluster (z = W^(1/2) 1: a multiplicative worker effect on
a Poisson rate, an additive one on least squares), with rho estimated by moments of the
residuals: independent units alone would let a worker 60 times as active count as 60
workers, while a random effect puts the variance in the few clusters that dominate. A few
dominant workers, or a few workers bridging the strata of the two groups, concentrate M and
give few degrees of freedom; many equal workers give many.

Off the diagonal, M couples clusters through the contrast (exact, rank one) and, in its
rho = 0 part, through the strata they share: exact while the comparison has at most
``EXACT_COUPLING_PAIRS`` pairs of clusters in a common stratum; beyond that (large
comparisons, where the coupling is a small part of tr(M^2) and the degrees of freedom are
many) each pair is coupled through each shared stratum alone. The random-effect part leaves
out the coupling of one cluster's effect with other clusters through shared strata: on
small designs that overstates the degrees of freedom by under 10 %
(``tests/test_small_sample.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "EXACT_COUPLING_PAIRS",
    "NOISE_SE",
    "Blocks",
    "ClusterRobust",
    "blocks_of_cells",
    "cluster_robust",
]

EXACT_COUPLING_PAIRS = 5_000_000
"""Largest number of (cluster, cluster) pairs sharing a stratum for which the coupling of
clusters through shared strata enters tr(M^2) exactly (a sparse product of that size takes
about a second)."""

NOISE_SE = 1e-10
"""Standard errors (log scale) below this are rounding noise: the outcome equals its fit in
every cell (identical pay within strata, every appeal of both sides reinstated), so the
coefficient and its error are not an estimate, and an interval of width 1e-13 would claim
equivalence from no variation at all."""

_SINGULAR = 1e-12
"""Leverages within this distance of 1 are treated as 1 (a singular (I - H)_gg)."""


@dataclass(frozen=True, slots=True, eq=False)
class Blocks:
    """A fitted within-strata contrast, per block of one cluster's units in one stratum
    (at most one block per cluster and stratum).

    Attributes:
        cluster: cluster code per block, 0..G-1.
        stratum: stratum code per block, 0..S-1.
        weight: working weight per block (sum over its units), >= 0.
        weighted_design: sum of w x~ over the block's units.
        residual: sum of the block's residuals.
        n_clusters: G.
        n_strata: S.
        information: per cluster, the sum of w x~^2 over its units (G,); None: computed
            from the blocks, for a design constant within each block.
        score: per cluster, the sum of x~ r over its units (G,); None: likewise.
    """

    cluster: NDArray[np.int64]
    stratum: NDArray[np.int64]
    weight: NDArray[Any]
    weighted_design: NDArray[Any]
    residual: NDArray[Any]
    n_clusters: int
    n_strata: int
    information: NDArray[Any] | None = None
    score: NDArray[Any] | None = None


def blocks_of_cells(
    cluster: NDArray[np.int64],
    stratum: NDArray[np.int64],
    weight: NDArray[np.float64],
    design: NDArray[np.float64],
    residual: NDArray[np.float64],
    *,
    n_clusters: int,
    n_strata: int,
    block: NDArray[np.int64] | None = None,
) -> Blocks:
    """Blocks from cells with a working ``weight``, a ``design`` value (x~, constant within
    a cell) and a ``residual`` sum each. ``block``: the (cluster, stratum) block of each
    cell where a cluster may have several cells in one stratum with different designs (a
    customer of two segments); None: each cell is its own block."""
    wx = weight * design
    if block is None:
        return Blocks(cluster, stratum, weight, wx, residual, n_clusters, n_strata)
    count = int(block.max()) + 1 if len(block) else 0
    by = lambda v: np.bincount(block, weights=v, minlength=count)  # noqa: E731
    block_cluster = np.zeros(count, np.int64)
    block_cluster[block] = cluster
    block_stratum = np.zeros(count, np.int64)
    block_stratum[block] = stratum
    return Blocks(
        block_cluster, block_stratum, by(weight), by(wx), by(residual), n_clusters, n_strata,
        information=np.bincount(cluster, weights=wx * design, minlength=n_clusters),
        score=np.bincount(cluster, weights=design * residual, minlength=n_clusters),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClusterRobust:
    """CR2 inference on the contrast.

    Attributes:
        variance: CR2 variance of the contrast's coefficient.
        df: Bell-McCaffrey degrees of freedom (NaN when nothing informs the contrast).
        information: per cluster, its share of the information on the contrast (G,).
        exact_coupling: whether the coupling of clusters through shared strata entered the
            degrees of freedom exactly (see the module docstring).
        random_effect: rho, the working model's cluster random effect relative to the
            units' variance (module docstring), estimated from the residuals.
    """

    variance: float
    df: float
    information: NDArray[np.float64]
    exact_coupling: bool
    random_effect: float

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if self.variance > 0 else math.nan

    @property
    def informative(self) -> bool:
        """A standard error above rounding noise (:data:`NOISE_SE`) and degrees of freedom."""
        return self.se >= NOISE_SE and math.isfinite(self.df)


def _per_cluster(blocks: Blocks, values: NDArray[Any]) -> NDArray[Any]:
    return np.bincount(blocks.cluster, weights=values, minlength=blocks.n_clusters)


def cluster_robust(
    blocks: Blocks,
    random_effect: float | None = None,
    generated: NDArray[np.float64] | None = None,
    kurtosis: NDArray[np.float64] | None = None,
) -> ClusterRobust:
    """CR2 variance and Bell-McCaffrey degrees of freedom of the contrast (module
    docstring); ``random_effect`` fixes the working model's rho (default: estimated).

    ``generated``: per cluster, what its data move the contrast's score through an offset
    estimated from the same clusters in a first step (``G' A^-1 h_g``: the score's gradient
    in the offset's coefficients, times the cluster's influence on them). It is subtracted
    from each cluster's adjusted score, so the variance counts the first step's noise (a
    two-step M-estimator's sandwich); the degrees of freedom are those of the second step.

    ``kurtosis``: per block, the excess kurtosis of its working residual (a count of rare
    events, Poisson: 1 / mu). The variance of the CR2 variance then grows by
    ``sum kurtosis_b q_b^4`` beyond the Gaussian ``2 tr(M^2)`` (q_b: the block's entry of
    its cluster's term), which the degrees of freedom count: one or two events per stratum
    make the variance estimate far noisier than normal residuals would."""
    w = np.asarray(blocks.weight, dtype=np.float64)
    wx = np.asarray(blocks.weighted_design, dtype=np.float64)
    r = np.asarray(blocks.residual, dtype=np.float64)
    g_count = blocks.n_clusters
    safe_w = np.where(w > 0, w, 1.0)
    informs = (w > 0) & (wx != 0)
    # Per block: the design and residual along the block's unit direction u_b.
    v2 = np.where(informs, wx * wx / safe_w, 0.0)  # (u_b' h)^2
    vr = np.where(informs, wx * r / safe_w, 0.0)  # (u_b' h)(u_b' eps)
    info = (
        _per_cluster(blocks, v2) if blocks.information is None else np.asarray(blocks.information)
    )
    score = _per_cluster(blocks, vr) if blocks.score is None else np.asarray(blocks.score)
    total = float(info.sum())
    if not total > 0:
        return ClusterRobust(math.nan, math.nan, info, True, 0.0)
    bread = 1.0 / total
    w_s = np.bincount(blocks.stratum, weights=w, minlength=blocks.n_strata)
    pi = np.where(informs, w / np.where(w_s > 0, w_s, 1.0)[blocks.stratum], 0.0)
    delta = 1.0 - pi
    regular = delta > _SINGULAR
    safe_delta = np.where(regular, delta, 1.0)
    # D^(-a) along u_b; 0 (Moore-Penrose) where the block is its stratum's whole weight.
    d_half = np.where(regular, safe_delta**-0.5, 0.0)
    d_one = np.where(regular, 1.0 / safe_delta, 0.0)
    k_half = d_half - 1.0  # D^(-a) - 1: -1 where singular
    k_one = d_one - 1.0
    n_half = info + _per_cluster(blocks, k_half * v2)
    n_one = info + _per_cluster(blocks, k_one * v2)
    p_half = score + _per_cluster(blocks, k_half * vr)
    p_one = score + _per_cluster(blocks, k_one * vr)
    lam = np.clip(bread * n_one, 0.0, 1.0)
    regular_lam = lam < 1.0 - _SINGULAR
    phi = np.where(regular_lam, np.where(regular_lam, 1.0 - lam, 1.0) ** -0.5 - 1.0, -1.0)
    ratio = np.where(n_one > 0, n_half / np.where(n_one > 0, n_one, 1.0), 0.0)
    adjusted = p_half + phi * ratio * p_one
    if generated is not None:
        adjusted = adjusted - np.asarray(generated, dtype=np.float64)
    variance = bread * bread * float(adjusted @ adjusted)
    # Bell-McCaffrey degrees of freedom (see the module docstring and _df).
    k = phi * ratio  # K_g of a_g = (D^-1/2 + K_g D^-1) h_g / I
    c = bread * (n_half + k * n_one)  # h_g' a_g
    m_diag = bread * bread * (info + 2.0 * k * n_half + k * k * n_one) - bread * c * c
    v = np.where(informs, wx / np.sqrt(safe_w), 0.0)  # u_b' h
    f = np.sqrt(pi) * bread * (d_half + k[blocks.cluster] * d_one) * v
    f2_of = _per_cluster(blocks, f * f)
    # The random-effect working model: z_g = W^1/2 1_g, and C_gg = z_g' (I - H)_gg a_g.
    zeta = _per_cluster(blocks, np.where(informs, wx, 0.0))
    root_delta = np.sqrt(np.where(informs & regular, delta, 0.0))
    e_half = _per_cluster(blocks, root_delta * wx)
    gamma = bread * (e_half + k * zeta)
    rho = (
        _random_effect(blocks, w, r, pi, delta, safe_w)
        if random_effect is None
        else float(random_effect)
    )
    parts = _DfParts(bread, c, m_diag, f, f2_of, gamma, zeta, blocks)
    strata_coupling, exact = _strata_coupling(blocks, f, g_count)
    extra = 0.0
    if kurtosis is not None:
        # q_b, the block's entry of (I - H) a_g: a_g's entry less the strata's and the
        # contrast's projections of it.
        a_b = bread * (d_half + k[blocks.cluster] * d_one) * v
        q_b = (1.0 - pi) * a_b - bread * v * c[blocks.cluster]
        q2 = q_b * q_b  # (a power of 4 would call pow() per block, ten times slower)
        extra = float(np.sum(np.asarray(kurtosis, dtype=np.float64) * (q2 * q2)))
    df = parts.df(rho, strata_coupling, extra)
    return ClusterRobust(variance, df, info, exact, rho)


def _random_effect(
    blocks: Blocks,
    w: NDArray[np.float64],
    r: NDArray[np.float64],
    pi: NDArray[np.float64],
    delta: NDArray[np.float64],
    safe_w: NDArray[np.float64],
) -> float:
    """rho = tau^2 / phi of the working model's cluster random effect (residual covariance
    phi (W^-1 + rho 1 1') within a cluster), by moments of the block residuals: their
    squares over weight against the clusters' squared residual sums, each expectation with
    the share ``delta`` = 1 - pi of a block's weight the strata leave it (``safe_w``: w, 1
    where w = 0). 0 when the data show none."""
    kept = (w > 0) & (pi < 1.0 - _SINGULAR)
    if not kept.any():
        return 0.0
    left = np.where(kept, w * delta, 0.0)
    e1 = float(np.sum(np.where(kept, r * r / safe_w, 0.0)))
    a1, b1 = float(np.sum(np.where(kept, delta, 0.0))), float(np.sum(left * delta))
    sums = _per_cluster(blocks, np.where(kept, r, 0.0))
    left_g = _per_cluster(blocks, left)
    e2 = float(sums @ sums)
    a2, b2 = float(left_g.sum()), float(left_g @ left_g)
    # e1 = phi (a1 + rho b1), e2 = phi (a2 + rho b2).
    denominator = e2 * b1 - e1 * b2
    if not (e1 > 0 and e2 > 0) or denominator == 0:
        return 0.0
    rho = (e1 * a2 - e2 * a1) / denominator
    return float(rho) if math.isfinite(rho) and rho > 0 else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class _DfParts:
    """The pieces of M(rho) = M0 + rho C'C (module docstring), per cluster:
    M0 = diag(d0) - B c c' - F F' and C = diag(gamma) - B zeta c'."""

    bread: float
    c: NDArray[np.float64]
    m_diag: NDArray[np.float64]
    f: NDArray[np.float64]
    f2_of: NDArray[np.float64]
    gamma: NDArray[np.float64]
    zeta: NDArray[np.float64]
    blocks: Blocks

    def df(self, rho: float, strata_coupling: float, kurtosis_term: float = 0.0) -> float:
        b, c, f = self.bread, self.c, self.f
        st, cl = self.blocks.stratum, self.blocks.cluster
        s = self.blocks.n_strata
        c2 = c * c
        cc = float(c2.sum())
        trace0 = float(self.m_diag.sum())
        fc = np.bincount(st, weights=f * c[cl], minlength=s)  # F'c
        square0 = (
            float(self.m_diag @ self.m_diag)
            + b * b * (cc * cc - float(c2 @ c2))
            + 2.0 * b * (float(fc @ fc) - float(c2 @ self.f2_of))
            + strata_coupling
        )
        trace, square = trace0, square0
        if rho > 0:
            g2, eta = self.gamma**2, self.gamma * self.zeta
            beta = b * b * float(self.zeta @ self.zeta)
            ce = float(c @ eta)
            d0 = self.m_diag + b * c2 + self.f2_of
            fe = np.bincount(st, weights=f * eta[cl], minlength=s)  # F'eta
            t1 = float(g2.sum()) - 2.0 * b * ce + beta * cc
            x = (
                float(d0 @ g2) - 2.0 * b * float(d0 @ (eta * c)) + beta * float(d0 @ c2)
                - b * (float(g2 @ c2) - 2.0 * b * ce * cc + beta * cc * cc)
                - (float(g2 @ self.f2_of) - 2.0 * b * float(fe @ fc) + beta * float(fc @ fc))
            )  # fmt: skip
            y = (
                float(g2 @ g2) + b * b * (2.0 * cc * float(eta @ eta) + 2.0 * ce * ce)
                + beta * beta * cc * cc - 4.0 * b * float(g2 @ (c * eta))
                + 2.0 * beta * float(g2 @ c2) - 4.0 * b * beta * ce * cc
            )  # fmt: skip
            trace = trace0 + rho * t1
            square = square0 + 2.0 * rho * x + rho * rho * y
        square = square + kurtosis_term / 2.0
        return trace * trace / square if square > 0 and trace > 0 else math.nan


def _strata_coupling(blocks: Blocks, f: NDArray[np.float64], g_count: int) -> tuple[float, bool]:
    """sum over pairs of different clusters g, h of (f_g . f_h)^2, where f_g holds cluster
    g's entries per stratum; exact by a sparse product when the pairs are few enough."""
    nonzero = f != 0
    stratum = blocks.stratum[nonzero]
    per_stratum = np.bincount(stratum, minlength=blocks.n_strata)
    pairs = float(per_stratum.astype(np.float64) @ per_stratum)
    f_kept = f[nonzero]
    if pairs <= EXACT_COUPLING_PAIRS:
        from scipy.sparse import csr_array  # imported on first use (see stats._dist)

        matrix = csr_array(
            (f_kept, (blocks.cluster[nonzero], stratum)), shape=(g_count, blocks.n_strata)
        )
        gram = (matrix @ matrix.T).tocoo()
        off = gram.row != gram.col
        return float(gram.data[off] @ gram.data[off]), True
    # Each pair through each shared stratum alone.
    f2 = f_kept * f_kept
    fs2 = np.bincount(stratum, weights=f2, minlength=blocks.n_strata)
    f4 = np.bincount(stratum, weights=f2 * f2, minlength=blocks.n_strata)  # not f**4: pow()
    return float(fs2 @ fs2 - f4.sum()), False
