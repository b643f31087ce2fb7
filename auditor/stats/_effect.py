"""The result of comparing one group with a reference group, and the tests on it.

Every comparison ends in one of two kinds of inference, each giving the interval, the test of
no gap, the minimum-effect test (is the gap beyond the materiality band?) and the
equivalence test (is it inside?) from the same distribution, so that they always agree:

- :class:`Wald`: the log ratio, its CR2 standard error and Bell-McCaffrey degrees of freedom
  (``auditor.stats._cr2``), a t reference distribution;
- :class:`Exclusion`: one side has no event (no offer, no upheld appeal) in the strata the two
  sides share, so the ratio is 0 (or infinite) and has no standard error. Given the events
  of each shared stratum, the chance that the group gets none of them is
  ``prod_s (1 - p_s(b)) ** (events_s / phi)``, with p_s(b) the group's share of the stratum's
  exposure weighted by the ratio e^b, and phi the other side's dispersion of workers'
  events (1 for Poisson counts; more where events cluster in workers): an exact conditional
  test on ``events_s / phi`` effective events, inverted for a one-sided bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from auditor.stats._dist import t_cdf, t_ppf, t_sf

__all__ = ["P_FLOOR", "Exclusion", "GroupEffect", "Wald", "kish", "reported_p"]

P_FLOOR = 1e-16
"""Smallest p-value reported: below it, tail probabilities of the t and F distributions
(and of the exact test) are not resolved by double precision, and a published 0 would claim
more than the method can."""

_BOUND = 40.0
"""Search interval of a log ratio bound: beyond it the ratio is 0 or infinite for any data."""


def reported_p(p: float) -> float:
    """``p`` as published: at least :data:`P_FLOOR` (NaN stays NaN)."""
    return max(float(p), P_FLOOR) if p == p else p


def kish(weight: NDArray[Any], side: NDArray[np.bool_]) -> float:
    """Kish effective number of clusters on one side: ``(sum h)^2 / sum h^2`` over the
    clusters' weights ``h`` (their exposure, or units, in the strata both sides share: 40
    workers of whom 3 hold most of it count as about 3; workers outside the common support
    count as none)."""
    h = np.asarray(weight, dtype=np.float64)[side]
    denom = float(np.sum(h * h))
    return float(np.sum(h)) ** 2 / denom if denom > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Wald:
    """A log ratio with a t(df) distribution: ``(b - log ratio) / se ~ t(df)``."""

    log_effect: float
    se: float
    df: float

    def interval(self, level: float) -> tuple[float, float]:
        """Two-sided ``level`` interval of the ratio."""
        q = float(t_ppf(0.5 + level / 2.0, self.df))
        return math.exp(self.log_effect - q * self.se), math.exp(self.log_effect + q * self.se)

    def p_no_gap(self) -> float:
        """Two-sided p-value of a ratio of 1."""
        return float(2 * t_sf(abs(self.log_effect) / self.se, self.df))

    def p_beyond(self, band: float) -> float:
        """Minimum-effect test of H0: the log ratio lies inside ``[-band, band]``: twice the
        one-sided p at the nearer edge, so that p < alpha exactly when the ``1 - alpha``
        interval lies beyond the band."""
        return float(min(1.0, 2 * t_sf((abs(self.log_effect) - band) / self.se, self.df)))

    def p_within(self, band: float) -> float:
        """Equivalence (two one-sided tests) that the log ratio lies inside the band: p < alpha
        exactly when the ``1 - 2 alpha`` interval lies inside it."""
        lower = t_sf((self.log_effect + band) / self.se, self.df)
        upper = t_cdf((self.log_effect - band) / self.se, self.df)
        return float(max(lower, upper))


@dataclass(frozen=True, slots=True, eq=False)
class Exclusion:
    """No events on one side in the strata both sides share (module docstring).

    Attributes:
        side: which side has none of the events.
        events: events per shared stratum.
        group_exposure: the group's exposure per shared stratum.
        reference_exposure: the reference's exposure per shared stratum.
        dispersion: phi, the other side's dispersion of workers' events (>= 1).
    """

    side: Literal["group", "reference"]
    events: NDArray[Any]
    group_exposure: NDArray[Any]
    reference_exposure: NDArray[Any]
    dispersion: float

    @property
    def log_effect(self) -> float:
        return -math.inf if self.side == "group" else math.inf

    def _log_tail(self, b: float) -> float:
        """log P(the empty side gets no event | log ratio b)."""
        a = self.group_exposure * math.exp(b)
        share = a / (a + self.reference_exposure)  # the group's share p_s(b)
        empty = 1.0 - share if self.side == "group" else share
        with np.errstate(divide="ignore"):
            return float(np.sum(self.events / self.dispersion * np.log(empty)))

    def _tail(self, b: float) -> float:
        return math.exp(self._log_tail(b))

    def _bound(self, tail: float) -> float:
        """The log ratio at which P(no event on the empty side) equals ``tail``."""
        from scipy.optimize import brentq  # imported on first use (see stats._dist)

        target = math.log(tail)
        f = lambda b: self._log_tail(b) - target  # noqa: E731
        lo, hi = -_BOUND, _BOUND
        if f(lo) * f(hi) > 0:
            return lo if self.side == "reference" else hi
        return float(brentq(f, lo, hi, xtol=1e-10))

    def interval(self, level: float) -> tuple[float, float]:
        """``(0, upper)`` when the group has no event, ``(lower, inf)`` when the reference
        has none: the bound where the chance of none falls to ``(1 - level) / 2``."""
        b = math.exp(self._bound((1.0 - level) / 2.0))
        return (0.0, b) if self.side == "group" else (b, math.inf)

    def p_no_gap(self) -> float:
        return float(min(1.0, 2 * self._tail(0.0)))

    def p_beyond(self, band: float) -> float:
        """Twice the chance of no event at the band's edge on the empty side."""
        return float(min(1.0, 2 * self._tail(-band if self.side == "group" else band)))

    def p_within(self, band: float) -> float:
        """A ratio of 0 (or infinite) can never be shown to lie inside the band."""
        return 1.0


Inference = Wald | Exclusion


@dataclass(frozen=True, slots=True)
class GroupEffect:
    """A group's effect relative to a reference group, adjusted as ``method`` says.

    Attributes:
        inference: how it is tested (:class:`Wald` or :class:`Exclusion`); None when the
            two groups share no stratum with events and exposure on both sides, or the
            outcome does not vary within strata.
        n_clusters_group: clusters (workers, customers) in the group with data.
        n_clusters_reference: clusters in the reference group with data.
        n_units: orders, offers or cells behind the estimate.
        method: short name of the estimator.
        effective_group: Kish effective number of the group's clusters over their exposure
            in the strata both sides share (:func:`kish`); clusters outside that common
            support count as none.
        effective_reference: the same for the reference group.
        random_effect: the working model's worker random effect rho (``stats._cr2``).
    """

    inference: Inference | None
    n_clusters_group: int
    n_clusters_reference: int
    n_units: int
    method: str
    effective_group: float = 0.0
    effective_reference: float = 0.0
    random_effect: float = math.nan

    @property
    def estimable(self) -> bool:
        return self.inference is not None

    @property
    def effective_clusters(self) -> float:
        """Effective clusters of the smaller side."""
        return min(self.effective_group, self.effective_reference)

    @property
    def log_effect(self) -> float:
        return math.nan if self.inference is None else self.inference.log_effect

    @property
    def ratio(self) -> float:
        """The effect as a ratio group / reference (0 or infinite under exclusion)."""
        b = self.log_effect
        return math.nan if b != b else (0.0 if b == -math.inf else math.exp(b))

    @property
    def se(self) -> float:
        return self.inference.se if isinstance(self.inference, Wald) else math.nan

    @property
    def df(self) -> float:
        return self.inference.df if isinstance(self.inference, Wald) else math.nan

    def ci(self, level: float) -> tuple[float, float]:
        """Two-sided ``level`` interval of the ratio."""
        if self.inference is None:
            return math.nan, math.nan
        return self.inference.interval(level)
