"""From group effects to fail / pass / inconclusive, across one family of tests.

A disparity is a ``fail`` when it is significant after Holm's correction across the audit's
family of confirmatory tests **and** its estimate lies beyond the materiality band
``|log ratio| > -log(1 - materiality)`` (a 5 % band is ratios below 0.95 or above 1/0.95).
It is a ``pass`` when an equivalence test (two one-sided t-tests at ``alpha``, i.e. the
``1 - 2 alpha`` interval) puts the effect inside the band. Otherwise it is
``inconclusive``, with the minimum detectable effect and the clusters that would decide it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from auditor.stats._dist import t_ppf
from auditor.stats._effect import GroupEffect

__all__ = ["Decision", "Verdict", "band", "decide", "holm"]

POWER = 0.8
"""Power at which minimum detectable effects and the clusters needed are stated."""


class Verdict(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one group effect.

    Attributes:
        verdict: fail, pass or inconclusive.
        p_adjusted: Holm-adjusted p-value across the family.
        equivalence_p: TOST p-value for the effect lying inside the materiality band.
        beyond_materiality: the point estimate lies outside the band.
        clear_of_band: the whole ``1 - alpha`` interval lies outside the band.
        mde_ratio: the smallest ratio below 1 detectable with 80 % power at the family's
            Bonferroni level, given this standard error.
        clusters_needed: clusters (workers) in the comparison that would detect a gap the size
            of the materiality band with 80 % power (None when the data decide already).
    """

    verdict: Verdict
    p_adjusted: float
    equivalence_p: float
    beyond_materiality: bool
    clear_of_band: bool
    mde_ratio: float
    clusters_needed: int | None


def band(materiality: float) -> float:
    """Half-width of the materiality band on the log scale: ``-log(1 - materiality)``."""
    return -math.log1p(-materiality) if materiality > 0 else 0.0


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (statsmodels ``multipletests``); NaN stays NaN."""
    from statsmodels.stats.multitest import multipletests  # imported on first use (stats._dist)

    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return [float(x) for x in out]


def decide(
    effect: GroupEffect, p_adjusted: float, *, alpha: float, materiality: float, family_size: int
) -> Decision:
    """The verdict on ``effect`` given its Holm-adjusted p-value (see the module docstring)."""
    half = band(materiality)
    b, se, df = effect.log_effect, effect.se, effect.df
    eq_p = effect.equivalence_p(half)
    beyond = abs(b) > half
    q = float(t_ppf(1 - alpha / 2, df))
    clear = abs(b) - q * se > half
    level = alpha / max(family_size, 1)
    z = float(t_ppf(1 - level / 2, df)) + float(t_ppf(POWER, df))
    mde = math.exp(-z * se) if math.isfinite(se) else math.nan
    if p_adjusted < alpha and beyond:
        verdict = Verdict.FAIL
    elif eq_p < alpha:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    needed = None
    if verdict == Verdict.INCONCLUSIVE and half > 0 and math.isfinite(se):
        clusters = effect.n_clusters_group + effect.n_clusters_reference
        needed = math.ceil(clusters * (z * se / half) ** 2)
    return Decision(verdict, p_adjusted, eq_p, beyond, clear, mde, needed)
