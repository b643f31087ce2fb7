"""Weighted least squares with absorbed strata and cluster-robust errors.

The model is ``y = a[stratum] + b * treat + Z c + e``, weighted, with ``treat`` constant
within a cluster (a worker's group). Strata are absorbed by weighted demeaning
(Frisch-Waugh-Lovell), so millions of rows and tens of thousands of strata cost a few
``bincount`` passes. The cluster-robust (CR1) variance uses per-cluster score sums, exactly as
``statsmodels`` ``WLS(...).fit(cov_type="cluster")`` does on the demeaned data (a test holds
the two equal); it is written out here because statsmodels copies the design several times,
which at 10 M rows is gigabytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from auditor.stats._effect import GroupEffect, kish, t_df

__all__ = ["StrataDesign", "within_effect"]


class StrataDesign:
    """The parts of a within-strata regression that do not depend on group labels.

    Args:
        y: outcome per unit (e.g. log pay per order).
        weight: weight per unit (1 for orders; counts for cell means).
        stratum: stratum code per unit, 0..S-1 (units are compared only within a stratum).
        cluster: cluster code per unit, 0..G-1 (a worker; inference is by cluster).
        covariates: further regressors per unit (n x k), or None.
    """

    def __init__(
        self,
        y: NDArray[np.float64],
        weight: NDArray[np.float64],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
        covariates: NDArray[np.float64] | None = None,
    ) -> None:
        self.weight = np.asarray(weight, dtype=np.float64)
        self.stratum = np.asarray(stratum, dtype=np.int64)
        self.cluster = np.asarray(cluster, dtype=np.int64)
        self.n_clusters = int(self.cluster.max()) + 1 if len(self.cluster) else 0
        self._stratum_weight = np.bincount(self.stratum, weights=self.weight)
        self.n_strata = int(np.count_nonzero(np.bincount(self.stratum)))
        self.y = self.demean(np.asarray(y, dtype=np.float64))
        if covariates is None or covariates.shape[1] == 0:
            self.z = np.empty((len(self.y), 0))
        else:
            self.z = np.column_stack([self.demean(c) for c in np.asarray(covariates).T])

    def demean(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """``v`` minus its weighted mean in the unit's stratum."""
        sums = np.bincount(
            self.stratum, weights=self.weight * v, minlength=len(self._stratum_weight)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / self._stratum_weight
        return v - means[self.stratum]

    def residuals(self) -> NDArray[np.float64]:
        """Residuals of the outcome on strata and covariates alone (no group term)."""
        if self.z.shape[1] == 0:
            return self.y.copy()
        zw = self.z * self.weight[:, None]
        coef = np.linalg.lstsq(self.z.T @ zw, zw.T @ self.y, rcond=None)[0]
        return self.y - self.z @ coef

    def information(self, treat_of_cluster: NDArray[np.bool_]) -> NDArray[Any]:
        """Each cluster's share of the information on the group effect: its sum of
        ``weight * demeaned_treat^2``."""
        t = self.demean(treat_of_cluster[self.cluster].astype(np.float64))
        return np.bincount(self.cluster, weights=self.weight * t * t, minlength=self.n_clusters)

    def fit(self, treat_of_cluster: NDArray[np.bool_]) -> tuple[float, float]:
        """Coefficient of ``treat`` and its CR1 standard error, for one labelling."""
        t = self.demean(treat_of_cluster[self.cluster].astype(np.float64))
        x = np.column_stack([t, self.z])
        xw = x * self.weight[:, None]
        xtwx = x.T @ xw
        k = x.shape[1]
        if not np.isfinite(xtwx).all() or np.linalg.matrix_rank(xtwx) < k or xtwx[0, 0] <= 0:
            return math.nan, math.nan
        bread = np.linalg.inv(xtwx)
        beta = bread @ (xw.T @ self.y)
        resid = self.y - x @ beta
        scores = np.column_stack(
            [
                np.bincount(self.cluster, weights=xw[:, j] * resid, minlength=self.n_clusters)
                for j in range(k)
            ]
        )
        g = int(np.count_nonzero(np.bincount(self.cluster, minlength=self.n_clusters)))
        n = len(self.y)
        # CR1 as for the dummy-variable model: G/(G-1) * (N-1)/(N-K), K counting strata.
        correction = g / max(g - 1, 1) * (n - 1) / max(n - k - self.n_strata, 1)
        cov = bread @ (scores.T @ scores) @ bread * correction
        return float(beta[0]), float(math.sqrt(max(cov[0, 0], 0.0)))


def within_effect(
    design: StrataDesign,
    treat_of_cluster: NDArray[np.bool_],
    *,
    method: str,
    permutations: int = 0,
    seed: int = 0,
) -> GroupEffect:
    """The group (``treat``) effect on the outcome within strata, clusters in the comparison
    only (every cluster is in the group or the reference).

    With ``permutations`` > 0 the p-value is a permutation p-value of the studentized effect
    over random relabellings of clusters (group sizes kept), which holds its level when a
    group has few clusters, where the sandwich is too small.
    """
    treat_of_cluster = np.asarray(treat_of_cluster, dtype=bool)
    present = np.bincount(design.cluster, minlength=design.n_clusters) > 0
    n_group = int((treat_of_cluster & present).sum())
    n_ref = int((~treat_of_cluster & present).sum())
    b, se = design.fit(treat_of_cluster)
    info = design.information(treat_of_cluster)
    eff_g = kish(info, treat_of_cluster & present)
    eff_r = kish(info, ~treat_of_cluster & present)
    df = t_df(eff_g, eff_r)
    if not (math.isfinite(b) and math.isfinite(se) and se > 0):
        return GroupEffect(
            math.nan, math.nan, df, math.nan, n_group, n_ref, len(design.y), method,
            False, eff_g, eff_r,
        )  # fmt: skip
    p = float(2 * stats.t.sf(abs(b / se), df))
    permuted = False
    if permutations > 0:
        p = _permutation_p(
            lambda lab: design.fit(lab), treat_of_cluster, present, b / se, permutations, seed
        )
        permuted = True
    return GroupEffect(b, se, df, p, n_group, n_ref, len(design.y), method, permuted, eff_g, eff_r)


def _permutation_p(
    fit: object,
    treat_of_cluster: NDArray[np.bool_],
    present: NDArray[np.bool_],
    observed: float,
    permutations: int,
    seed: int,
) -> float:
    """Monte Carlo permutation p-value of |studentized effect|, relabelling present clusters."""
    rng = np.random.default_rng(seed)
    idx = np.nonzero(present)[0]
    labels = treat_of_cluster[idx]
    hits = 0
    for _ in range(permutations):
        perm = treat_of_cluster.copy()
        perm[idx] = rng.permutation(labels)
        b, se = fit(perm)  # type: ignore[operator]
        if math.isfinite(b) and se > 0 and abs(b / se) >= abs(observed) - 1e-12:
            hits += 1
    return (hits + 1) / (permutations + 1)
