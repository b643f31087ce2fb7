"""FEE-05: does the worker, rather than the work, explain pay for the same kind of order?

Per completed order, pay is set against what the same work pays: the order's stratum
(service, pickup zone, local date and hour) and its trip (``_money``'s offset ``m``), as the
ratio ``rho = y / (m R_s)``, ``R_s`` the stratum's pay per unit of ``m``. If pay were set by
the work alone, ``rho`` would not depend on who did the order. A one-way analysis of
variance of ``rho`` by worker (worker effects as random effects) measures the spread of
worker effects, ``sigma_u``: the standard deviation of workers' mean pay for the same work
relative to the work's, on the ratio scale (so a few near-zero payments move a worker's
effect by their share of the pay, not by their log). The effect size is the pay ratio of a
worker at the 90th to one at the 10th percentile of that spread,
``exp(2 * 1.2816 * sigma_u)``.

Tests and interval come from one F statistic (the ratio of the between- to the within-
worker mean square). With ``n0`` orders per worker (the unbalanced design's average) and
``r = sigma_u^2 / sigma_e^2``, ``F / (1 + n0 r)`` is F-distributed (exactly for equal
workloads and normal effects; closely otherwise), so:

- ``fail``: the minimum-effect test of ``r <= r0`` (the spread at the materiality band's
  ratio ``1 / (1 - materiality)``) rejects after the family's Holm correction (twice the
  one-sided p, as the group checks): evidence that the spread lies beyond the band;
- ``pass``: the upper end of the ``1 - 2 alpha`` interval of the ratio lies within the band;
- otherwise ``inconclusive``. The interval inverts the same F statistic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from auditor.checks._base import (
    Adjustment,
    CheckContext,
    Confirmatory,
    Finding,
    Needs,
    Severity,
    Status,
)
from auditor.checks._common import basis
from auditor.checks._comparable import pay_cells
from auditor.checks._registry import register
from auditor.checks._small_cells import left_out
from auditor.checks._strata import WORK_WORDS
from auditor.stats import reported_p
from auditor.stats._dist import f_ppf, f_sf

__all__ = ["PersonalisedPay", "ratio_sums", "worker_spread"]

_Z90 = 1.2815515655446004
_NOISE_SS = 1e-16
"""Residual sum of squares per order below which pay is taken not to vary (a relative SD
of 1e-8, far below a cent on any fare)."""


def _ratio(sigma: float) -> float:
    """Pay ratio of a worker at the 90th to one at the 10th percentile of worker effects."""
    return math.exp(2 * _Z90 * sigma)


def ratio_sums(
    cluster: NDArray[np.int64],
    stratum: NDArray[np.int64],
    n: NDArray[np.float64],
    money: NDArray[np.float64],
    expected: NDArray[np.float64],
    ratio_sum: NDArray[np.float64],
    ratio_squares: NDArray[np.float64],
    n_clusters: int,
    terms: int,
) -> tuple[NDArray[Any], NDArray[Any], int]:
    """Per worker, the sum and sum of squares of ``rho = (y / m) / R_s`` from the money cells
    (``R_s``: the stratum's pay per unit of expected pay), and the degrees of freedom the fit
    used (the strata with orders and the trip terms)."""
    s_count = int(stratum.max()) + 1
    money_s = np.bincount(stratum, weights=money, minlength=s_count)
    expected_s = np.bincount(stratum, weights=expected, minlength=s_count)
    rate = np.where(expected_s > 0, money_s / np.where(expected_s > 0, expected_s, 1.0), 1.0)
    r = rate[stratum]
    per = lambda v: np.bincount(cluster, weights=v, minlength=n_clusters)  # noqa: E731
    used = int(np.count_nonzero(np.bincount(stratum, weights=n, minlength=s_count)))
    return per(ratio_sum / r), per(ratio_squares / (r * r)), used + terms


def worker_spread(
    n: NDArray[Any],
    s: NDArray[Any],
    ss: NDArray[Any],
    lost_df: int,
    *,
    alpha: float,
    materiality: float,
) -> dict[str, float]:
    """The spread of worker effects from per-worker counts ``n``, sums ``s`` and sums of
    squares ``ss`` of the pay ratio (module docstring): sigma_u, F, the minimum-effect
    p-value at the materiality band, the ``1 - alpha`` interval and the upper end of the
    ``1 - 2 alpha`` interval of the 90/10 ratio."""
    keep = np.asarray(n) > 0
    n, s, ss = np.asarray(n, float)[keep], np.asarray(s, float)[keep], np.asarray(ss, float)[keep]
    w = len(n)
    total_n = float(n.sum())
    grand = float(s.sum()) / total_n
    ssb = float((s * s / n).sum()) - total_n * grand**2
    ssw = float(ss.sum()) - float((s * s / n).sum())
    df_b = w - 1
    df_w = int(total_n) - w - lost_df
    nan = {"sigma_u": math.nan, "f": math.nan, "p_value": math.nan, "workers": w}
    if df_b < 1 or df_w < 1 or not (ssb + ssw) > _NOISE_SS * total_n:
        # Pay does not vary within comparable work (to rounding): nothing to separate.
        return nan | {"df_between": df_b, "df_within": df_w}
    msb, msw = ssb / df_b, ssw / df_w
    n0 = (total_n - float((n * n).sum()) / total_n) / df_b
    f = msb / msw
    sigma = math.sqrt(max((msb - msw) / n0, 0.0))
    # The band's spread on the ratio scale, relative to the within-worker variance.
    sigma_0 = math.log(1 / (1 - materiality)) / (2 * _Z90) if materiality > 0 else 0.0
    r0 = sigma_0**2 / msw

    def spread_at(quantile: float) -> float:
        """sigma_u at the end of an interval: r = (F / F_q - 1) / n0, floored at 0."""
        r = (f / float(f_ppf(quantile, df_b, df_w)) - 1.0) / n0
        return math.sqrt(max(r, 0.0) * msw)

    return {
        "sigma_u": sigma,
        "f": f,
        "p_value": float(f_sf(f, df_b, df_w)),
        "p_beyond": float(min(1.0, 2 * f_sf(f / (1 + n0 * r0), df_b, df_w))),
        "df_between": df_b,
        "df_within": df_w,
        "n0": n0,
        "within_sd": math.sqrt(msw),
        "ci_low": spread_at(1 - alpha / 2),
        "ci_high": spread_at(alpha / 2),
        "upper_equivalence": spread_at(alpha),
        "workers": w,
    }


@register
class PersonalisedPay:
    """FEE-05: different workers paid differently for the same work (personalised pay)."""

    id: ClassVar[str] = "FEE-05"
    title: ClassVar[str] = "Pay depends on the work, not on the worker"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        cells = pay_cells(context)
        alpha = context.config.audit.alpha
        materiality = context.config.fairness.materiality
        threshold = 1 / (1 - materiality)
        n_of = cells.per_cluster(cells.n)
        n_workers = int(np.count_nonzero(n_of))
        undecided = Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            metric="worker_pay_spread_ratio",
            threshold=threshold,
            n_workers=n_workers,
            n_orders=cells.units,
            basis=basis(context, self.id),
        )
        if n_workers < 3 or cells.units <= n_workers + 2:
            detail = (
                "Too few workers or orders to separate worker from work: it needs at least 3 "
                "workers with several comparable orders each."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        assert cells.ratio_sum is not None and cells.ratio_squares is not None
        s, ss, lost = ratio_sums(
            cells.cluster, cells.stratum, cells.n, cells.money, cells.expected,
            cells.ratio_sum, cells.ratio_squares, cells.n_clusters, len(cells.terms),
        )  # fmt: skip
        out = worker_spread(n_of, s, ss, lost, alpha=alpha, materiality=materiality)
        if not math.isfinite(out["f"]):
            detail = (
                "Pay does not vary at all within comparable work, or too few orders remain "
                "after comparing like with like: nothing to separate."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        estimate = _ratio(out["sigma_u"])
        ci = (_ratio(out["ci_low"]), _ratio(out["ci_high"]))
        upper_eq = _ratio(out["upper_equivalence"])
        data = {
            "scale": "ratio of a worker's pay to what the same work pays",
            "sigma_u": out["sigma_u"],
            "within_sd": out["within_sd"],
            "f_statistic": out["f"],
            "df_between": out["df_between"],
            "df_within": out["df_within"],
            "orders_per_worker_n0": out["n0"],
            "p_value_no_spread": reported_p(out["p_value"]),
            "upper_bound_1_minus_2alpha": upper_eq,
            "interval_level": 1 - alpha,
            "orders_excluded": left_out(
                cells.excluded, cells.excluded_workers, context.config.report.min_cell_workers
            ),
            "comparable_work": WORK_WORDS + "; " + ", ".join(cells.terms),
        }

        def resolve(adj: Adjustment) -> Finding:
            if adj.p_adjusted < alpha:
                status = Status.FAIL
                severity = Severity.HIGH if ci[0] > threshold else Severity.MEDIUM
                verdict = (
                    f"The spread lies beyond the {materiality:.0%} materiality band: pay for "
                    "the same work depends on who does it."
                )
            elif upper_eq <= threshold:
                status, severity = Status.PASS, Severity.INFO
                verdict = f"The spread is within the {materiality:.0%} materiality band."
            else:
                status, severity = Status.INCONCLUSIVE, Severity.INFO
                verdict = (
                    "The data cannot decide whether the spread is material; more orders per "
                    "worker would narrow the interval."
                )
            p_show = reported_p(out["p_beyond"])
            detail = (
                f"For the same work ({WORK_WORDS}, the same trip), a worker at the 90th "
                f"percentile of worker pay effects is paid {estimate:.3f} times one at the "
                f"10th ({1 - alpha:.0%} CI {ci[0]:.3f} to {ci[1]:.3f}; F test of a spread "
                f"within the band p = {p_show:.2g}, Holm-adjusted over {adj.family_size} "
                f"tests p = {reported_p(adj.p_adjusted):.2g}). {verdict}"
            )
            return Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="worker_pay_spread_ratio",
                estimate=estimate,
                ci=ci,
                p_value=p_show,
                p_adjusted=reported_p(adj.p_adjusted),
                threshold=threshold,
                n_workers=n_workers,
                n_orders=cells.units,
                basis=basis(context, self.id),
                detail=detail,
                data=data,
            )

        return [
            Confirmatory(
                check=self.id, p_value=out["p_beyond"], resolve=resolve,
                metric="worker_pay_spread_ratio",
            )
        ]  # fmt: skip
