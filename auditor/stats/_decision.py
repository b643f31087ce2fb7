"""From group effects to fail / pass / inconclusive, across one family of tests.

With the materiality band ``|log ratio| <= d``, ``d = -log(1 - materiality)`` (a 5 % band is
ratios from 0.95 to 1/0.95):

- ``fail``: a minimum-effect test rejects "the gap lies inside the band" after Holm's
  correction over the audit's family: evidence that the gap lies beyond the band, not only
  an estimate beyond it. Its p-value is twice the one-sided p at the band's nearer edge, so
  p < alpha exactly when the ``1 - alpha`` interval lies beyond the band;
- ``pass``: an equivalence test (two one-sided tests at ``alpha``: the ``1 - 2 alpha``
  interval) puts the gap inside the band;
- otherwise ``inconclusive``, with the smallest gap the data would detect and the workers
  that would decide the comparison, from the power of these two rules.

A true gap exactly at the band's edge fails in at most alpha / 2 of audits; a gap twice the
band fails with the power the minimum-effect test has there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from auditor.stats._dist import t_cdf, t_ppf, t_sf
from auditor.stats._effect import GroupEffect, Wald

__all__ = [
    "POWER",
    "Decision",
    "OneSided",
    "Verdict",
    "band",
    "decide",
    "decide_one_sided",
    "holm",
    "one_sided_p",
    "workers_needed",
]

POWER = 0.8
"""Power at which the smallest detectable gap and the workers needed are stated."""

MAX_SCALE = 100.0
"""Beyond this many times the comparison's workers, a comparison is said to be undecidable
with data of this kind rather than given a number."""

_SMALLEST_MDE = 0.01
"""A smallest detectable ratio below this (a 99 % cut) is not a useful number to print."""


class Verdict(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one group effect.

    Attributes:
        verdict: fail, pass or inconclusive.
        p_beyond: unadjusted p-value of the minimum-effect test (gap beyond the band).
        p_adjusted: ``p_beyond`` Holm-adjusted across the family.
        equivalence_p: p-value of the equivalence test (gap inside the band).
        clear_of_band: the whole ``1 - alpha`` interval lies beyond the band.
        mde_ratio: the ratio below 1 that the fail rule would detect with 80 % power at the
            family's Bonferroni level, with this standard error and degrees of freedom;
            None when it is below 0.01 or the effect has no standard error.
        workers_needed_to_fail: workers in the comparison (both sides, in today's
            proportions) that would detect a gap twice the band with 80 % power; None when
            decided, or beyond ``MAX_SCALE`` times today's.
        workers_needed_to_pass: the same for showing equivalence when there is no gap.
        decidable: False when neither rule could decide the comparison with up to
            ``MAX_SCALE`` times its workers (data of this kind cannot decide it).
    """

    verdict: Verdict
    p_beyond: float
    p_adjusted: float
    equivalence_p: float
    clear_of_band: bool
    mde_ratio: float | None
    workers_needed_to_fail: int | None
    workers_needed_to_pass: int | None
    decidable: bool


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
    """The verdict on ``effect`` given its Holm-adjusted minimum-effect p-value (module
    docstring)."""
    if effect.inference is None:
        raise ValueError("decide() needs an estimable effect")
    half = band(materiality)
    test = effect.inference
    p_beyond = test.p_beyond(half)
    eq_p = test.p_within(half)
    lo, hi = test.interval(1 - alpha)
    clear = (hi < math.exp(-half)) or (lo > math.exp(half))
    if p_adjusted < alpha:
        verdict = Verdict.FAIL
    elif eq_p < alpha:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    mde, to_fail, to_pass, decidable = None, None, None, True
    if isinstance(test, Wald) and math.isfinite(test.se) and test.se > 0:
        level = alpha / max(family_size, 1)
        q = float(t_ppf(1 - level / 2, test.df)) + float(t_ppf(POWER, test.df))
        ratio = math.exp(-(half + q * test.se))
        mde = ratio if ratio >= _SMALLEST_MDE else None
        if verdict == Verdict.INCONCLUSIVE and half > 0:
            workers = effect.n_clusters_group + effect.n_clusters_reference
            to_fail = workers_needed(test, workers, "fail", alpha=level, half=half)
            to_pass = workers_needed(test, workers, "pass", alpha=alpha, half=half)
            decidable = to_fail is not None or to_pass is not None
    return Decision(verdict, p_beyond, p_adjusted, eq_p, clear, mde, to_fail, to_pass, decidable)


@dataclass(frozen=True, slots=True)
class OneSided:
    """The verdict on a ratio that breaches only on one side of an edge (accessible
    requests waiting longer than others; holiday work paid less than the premium asks).

    Attributes:
        verdict: fail, pass or inconclusive.
        p_beyond: unadjusted p of the test that the ratio lies on the breaching side.
        p_within: p of the test that it lies on the allowed side.
        clear: the whole ``1 - alpha`` interval lies on the breaching side.
    """

    verdict: Verdict
    p_beyond: float
    p_within: float
    clear: bool


def one_sided_p(test: Wald, edge: float, breach: str) -> float:
    """Twice the one-sided p of H0 "the ratio lies on the allowed side of ``edge``" (a
    ratio), ``breach`` being ``"above"`` or ``"below"``: below alpha exactly when the
    ``1 - alpha`` interval lies wholly on the breaching side."""
    z = (test.log_effect - math.log(edge)) / test.se
    tail = t_sf(z, test.df) if breach == "above" else t_cdf(z, test.df)
    return float(min(1.0, 2 * tail))


def decide_one_sided(
    test: Wald, p_adjusted: float, *, alpha: float, edge: float, breach: str
) -> OneSided:
    """``fail`` when the Holm-adjusted :func:`one_sided_p` is below ``alpha``; ``pass`` when
    the ``1 - 2 alpha`` interval lies wholly on the allowed side of ``edge``; else
    ``inconclusive``."""
    z = (test.log_effect - math.log(edge)) / test.se
    p_within = float(t_cdf(z, test.df) if breach == "above" else t_sf(z, test.df))
    lo, hi = test.interval(1 - alpha)
    clear = lo > edge if breach == "above" else hi < edge
    if p_adjusted < alpha:
        verdict = Verdict.FAIL
    elif p_within < alpha:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    return OneSided(verdict, one_sided_p(test, edge, breach), p_within, clear)


def _power(test: Wald, scale: float, rule: str, alpha: float, half: float) -> float:
    """Power of ``rule`` with ``scale`` times the workers: standard error / sqrt(scale),
    degrees of freedom x scale (projected), a normal shift of the t statistic."""
    se, df = test.se / math.sqrt(scale), test.df * scale
    if rule == "fail":  # a true gap of twice the band, the test at its nearer edge
        return float(1 - t_cdf(float(t_ppf(1 - alpha / 2, df)) - half / se, df))
    # No true gap: both one-sided tests at alpha must reject.
    miss = float(1 - t_cdf(half / se - float(t_ppf(1 - alpha, df)), df))
    return max(0.0, 1 - 2 * miss)


def workers_needed(test: Wald, workers: int, rule: str, *, alpha: float, half: float) -> int | None:
    """Workers in the comparison at which ``rule`` (``"fail"`` at a gap twice the band,
    ``"pass"`` with no gap) has 80 % power; None beyond ``MAX_SCALE`` times ``workers``."""
    if _power(test, MAX_SCALE, rule, alpha, half) < POWER:
        return None
    lo, hi = 1e-3, MAX_SCALE
    if _power(test, lo, rule, alpha, half) >= POWER:
        return max(1, math.ceil(workers * lo))
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if _power(test, mid, rule, alpha, half) >= POWER:
            hi = mid
        else:
            lo = mid
    return max(1, math.ceil(workers * hi))
