"""Poisson rate ratio with stratum fixed effects and cluster-robust errors.

The model is ``count ~ Poisson(exposure * exp(a[stratum] + b * treat))`` on cells (e.g. a
worker's orders and online hours in one zone, date and hour), ``treat`` constant within a
cluster (the worker's group). Because the Poisson likelihood depends on the data only
through counts and exposures per covariate pattern, this is exactly the order-level model of
the order rate per online hour, compared within strata.

The stratum effects are profiled out: the score for ``b`` is
``U(b) = Y_treat - sum_s Y_s A_s e^b / (A_s e^b + B_s)``, with ``A_s`` and ``B_s`` the
group's and the reference's exposure in stratum ``s``, a monotone function solved by
bracketing. The cluster-robust (CR1) variance sums the partialled scores
``(treat - p_s)(y - mu)`` per cluster, which is the ``b`` entry of the sandwich of the full
dummy-variable GLM (a test holds it equal to ``statsmodels`` GLM with ``cov_type="cluster"``).
Written out because the dummy design has one column per stratum (thousands).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from auditor.stats._dist import t_sf
from auditor.stats._effect import GroupEffect, kish, t_df
from auditor.stats._within import MAX_PERMUTATION_CELLS, permutation_p

__all__ = ["RateCells", "poisson_effect"]

_BOUND = 12.0
"""Search interval of the log rate ratio; beyond it the ratio is effectively 0 or infinite."""


class RateCells:
    """Counts and exposures per cell, with stratum and cluster codes.

    Args:
        count: events per cell (orders, penalties).
        exposure: exposure per cell (online hours, completed orders), > 0.
        stratum: stratum code per cell, 0..S-1.
        cluster: cluster code per cell, 0..G-1.
    """

    def __init__(
        self,
        count: NDArray[np.float64],
        exposure: NDArray[np.float64],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
    ) -> None:
        keep = np.asarray(exposure, dtype=np.float64) > 0
        whole = bool(keep.all())  # usually: no copies then
        self.count = np.asarray(count, dtype=np.float64)
        self.exposure = np.asarray(exposure, dtype=np.float64)
        self.stratum = np.asarray(stratum, dtype=np.int64)
        self.cluster = np.asarray(cluster, dtype=np.int64)
        if not whole:
            self.count, self.exposure = self.count[keep], self.exposure[keep]
            self.stratum, self.cluster = self.stratum[keep], self.cluster[keep]
        self.n_clusters = int(np.max(cluster)) + 1 if len(cluster) else 0
        self.n_strata = int(self.stratum.max()) + 1 if len(self.stratum) else 0
        self._y_s = np.bincount(self.stratum, weights=self.count, minlength=self.n_strata)
        self._e_s = np.bincount(self.stratum, weights=self.exposure, minlength=self.n_strata)

    def information(self, treat_of_cluster: NDArray[np.bool_]) -> NDArray[Any]:
        """Each cluster's share of the information on the rate ratio at ratio 1: its sum of
        ``count * (treat - p_s)^2``, with ``p_s`` the group's share of exposure in the
        stratum (0 in strata where only one side is online)."""
        t = treat_of_cluster[self.cluster]
        a = np.bincount(self.stratum, weights=self.exposure * t, minlength=self.n_strata)
        total = self._e_s
        p_s = np.where(total > 0, a / np.where(total > 0, total, 1.0), 0.0)[self.stratum]
        h = self.count * (t - p_s) ** 2
        return np.bincount(self.cluster, weights=h, minlength=self.n_clusters)

    def fit(self, treat_of_cluster: NDArray[np.bool_]) -> tuple[float, float]:
        """Log rate ratio of the group and its CR1 standard error, for one labelling."""
        t = treat_of_cluster[self.cluster]
        a = np.bincount(self.stratum, weights=self.exposure * t, minlength=self.n_strata)
        # The reference's exposure per stratum: all less the group's (exactly 0 where only
        # the group is online, as the same terms are added in the same order).
        b_ = np.maximum(self._e_s - a, 0.0)
        inform = (a > 0) & (b_ > 0) & (self._y_s > 0)
        if not inform.any():
            return math.nan, math.nan
        y_treat = float(
            np.bincount(self.stratum, weights=self.count * t, minlength=self.n_strata)[inform].sum()
        )
        a_i, b_i, y_s = a[inform], b_[inform], self._y_s[inform]
        if y_treat <= 0 or y_treat >= y_s.sum():
            return math.nan, math.nan

        def score(beta: float) -> float:
            ea = a_i * math.exp(beta)
            return y_treat - float(np.sum(y_s * ea / (ea + b_i)))

        lo, hi = -_BOUND, _BOUND
        if score(lo) <= 0 or score(hi) >= 0:
            return math.nan, math.nan
        from scipy.optimize import brentq  # imported on first use (see stats._dist)

        beta = float(brentq(score, lo, hi, xtol=1e-12))
        e = math.exp(beta)
        hessian = float(np.sum(y_s * a_i * b_i * e / (a_i * e + b_i) ** 2))
        # Partialled scores per cell, summed per cluster (cells of uninformative strata
        # have treat == p_s, so they contribute nothing).
        denom = a * e + b_
        safe = np.where(denom > 0, denom, 1.0)
        p_s = np.where(inform, a * e / safe, 0.0)
        # Fitted counts: exposure x the stratum's fitted rate (x e^b in the group).
        rate = np.where(denom > 0, self._y_s / safe, 0.0)
        mu = self.exposure * np.where(t, e, 1.0) * rate[self.stratum]
        u = np.where(inform[self.stratum], (t - p_s[self.stratum]) * (self.count - mu), 0.0)
        per_cluster = np.bincount(self.cluster, weights=u, minlength=self.n_clusters)
        g = int(np.count_nonzero(np.bincount(self.cluster, minlength=self.n_clusters)))
        # CR1 as statsmodels' GLM with stratum dummies: G/(G-1) * (N-1)/(N-K).
        n, k = len(self.count), 1 + int(np.count_nonzero(np.bincount(self.stratum)))
        meat = float(per_cluster @ per_cluster) * g / max(g - 1, 1) * (n - 1) / max(n - k, 1)
        return beta, math.sqrt(meat) / hessian


def poisson_effect(
    cells: RateCells,
    treat_of_cluster: NDArray[np.bool_],
    *,
    method: str,
    permutations: int = 0,
    seed: int = 0,
) -> GroupEffect:
    """The group's rate ratio within strata (see the module docstring); every cluster of
    ``cells`` is in the group or the reference. ``permutations`` > 0 gives a permutation
    p-value (cluster labels reshuffled), for groups with few clusters."""
    treat_of_cluster = np.asarray(treat_of_cluster, dtype=bool)
    present = np.bincount(cells.cluster, minlength=cells.n_clusters) > 0
    n_group = int((treat_of_cluster & present).sum())
    n_ref = int((~treat_of_cluster & present).sum())
    b, se = cells.fit(treat_of_cluster)
    info = cells.information(treat_of_cluster)
    eff_g = kish(info, treat_of_cluster & present)
    eff_r = kish(info, ~treat_of_cluster & present)
    df = t_df(eff_g, eff_r)
    if not (math.isfinite(b) and math.isfinite(se) and se > 0):
        return GroupEffect(
            math.nan, math.nan, df, math.nan, n_group, n_ref, len(cells.count), method,
            False, eff_g, eff_r,
        )  # fmt: skip
    p = float(2 * t_sf(abs(b / se), df))
    permuted = False
    if permutations > 0 and len(cells.count) <= MAX_PERMUTATION_CELLS:
        p = permutation_p(cells.fit, treat_of_cluster, present, b / se, permutations, seed)
        permuted = True
    return GroupEffect(
        b, se, df, p, n_group, n_ref, len(cells.count), method, permuted, eff_g, eff_r
    )
