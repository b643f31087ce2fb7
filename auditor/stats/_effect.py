"""The result of comparing one group with a reference group."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from auditor.stats._dist import t_cdf, t_ppf, t_sf

__all__ = ["GroupEffect", "kish", "t_df"]


def kish(information: NDArray[Any], side: NDArray[np.bool_]) -> float:
    """Kish effective number of clusters on one side: ``(sum h)^2 / sum h^2``."""
    h = information[side]
    denom = float(np.sum(h * h))
    return float(np.sum(h)) ** 2 / denom if denom > 0 else 0.0


def t_df(effective_group: float, effective_reference: float) -> int:
    """Degrees of freedom: the smaller effective cluster count, minus one (at least 1)."""
    return max(int(min(effective_group, effective_reference)) - 1, 1)


@dataclass(frozen=True, slots=True)
class GroupEffect:
    """A group's adjusted effect relative to a reference group, on the log scale.

    Attributes:
        log_effect: log of the ratio group / reference (a rate ratio, or a ratio of
            geometric-mean pay or prices), adjusted as the estimator says.
        se: standard error of ``log_effect``, cluster-robust (CR1: G/(G-1)) by the
            cluster unit (workers, or customers for prices).
        df: degrees of freedom of the t reference distribution: the effective number of
            clusters of the smaller side, minus one (conservative when one side has few
            clusters, or is dominated by a few).
        p_value: two-sided p-value of ``log_effect = 0``, unadjusted: from t(df), or from
            a cluster-label permutation when ``permuted``.
        n_clusters_group: clusters (workers, customers) in the group with data.
        n_clusters_reference: clusters in the reference group with data.
        n_units: orders, offers or cells behind the estimate.
        method: short name of the estimator.
        permuted: whether ``p_value`` comes from a permutation of cluster labels.
        effective_group: Kish effective number of clusters in the group,
            ``(sum h)^2 / sum h^2`` over the clusters' shares ``h`` of the information on
            the effect: 40 workers of whom 3 hold most of the orders count as about 3.
        effective_reference: the same for the reference group.
    """

    log_effect: float
    se: float
    df: int
    p_value: float
    n_clusters_group: int
    n_clusters_reference: int
    n_units: int
    method: str
    permuted: bool = False
    effective_group: float = math.nan
    effective_reference: float = math.nan

    @property
    def effective_clusters(self) -> float:
        """Effective clusters of the smaller side (see ``effective_group``)."""
        return min(self.effective_group, self.effective_reference)

    @property
    def ratio(self) -> float:
        """The effect as a ratio group / reference."""
        return math.exp(self.log_effect)

    def ci(self, level: float) -> tuple[float, float]:
        """Two-sided confidence interval of the ratio at ``level`` (t(df) on the log scale)."""
        q = float(t_ppf(0.5 + level / 2.0, self.df))
        return math.exp(self.log_effect - q * self.se), math.exp(self.log_effect + q * self.se)

    def equivalence_p(self, bound: float) -> float:
        """TOST p-value that |log_effect| < ``bound`` (the larger of the two one-sided
        p-values, t(df)); small values show the effect lies inside the band."""
        if not (self.se > 0 and math.isfinite(self.se)):
            return 1.0
        lower = t_sf((self.log_effect + bound) / self.se, self.df)
        upper = t_cdf((self.log_effect - bound) / self.se, self.df)
        return float(max(lower, upper))
