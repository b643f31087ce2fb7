"""FEE-05: does the worker, rather than the work, explain pay for the same kind of order?

Per completed order, log(worker_pay) is residualised on comparable work (strata of service x
pickup zone x day type x hour, and distance and trip time, quadratic in logs). If pay were
set by the work alone, the residuals would not depend on who did the order. A one-way
analysis of variance of the residuals by worker tests that (F test; worker effects as
random effects). The effect size is the spread of worker effects: ``sigma_u``, the standard
deviation of the workers' mean log pay for the same work (method of moments), shown as the
ratio of pay between a worker at the 90th and one at the 10th percentile of that spread,
``exp(2 * 1.2816 * sigma_u)`` (normal approximation).

``fail``: the F test is significant after the family's Holm correction and the 90/10 ratio
exceeds ``1 / (1 - materiality)``. ``pass``: the upper end of a ``1 - 2 alpha`` worker-
bootstrap interval of the ratio is within it. Otherwise ``inconclusive``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs, Severity, Status
from auditor.checks._common import basis
from auditor.checks._comparable import worker_cells
from auditor.checks._pay_equity import order_units
from auditor.checks._registry import register
from auditor.stats._dist import f_sf

__all__ = ["PersonalisedPay", "worker_spread"]

_Z90 = 1.2815515655446004
_NOISE_SS = 1e-16
"""Residual sum of squares per order (log pay) below which pay is taken not to vary:
a residual SD of 1e-8, far below a cent on any fare."""
_REPLICATES = 999


def _spread_from_sums(
    n: NDArray[Any], s: NDArray[Any], ss: NDArray[Any], lost_df: int
) -> tuple[NDArray[Any], NDArray[Any], int, NDArray[Any]]:
    """(sigma_u, F, df_between, df_within) of a one-way random-effects ANOVA from per-
    worker counts, sums and sums of squares of residuals (arrays over workers)."""
    q = (s * s / n).sum(axis=-1)
    return _spread_from_totals(
        n.sum(axis=-1), s.sum(axis=-1), ss.sum(axis=-1), q, (n * n).sum(axis=-1),
        n.shape[-1], lost_df,
    )  # fmt: skip


def _spread_from_totals(
    total_n: NDArray[Any],
    total_s: NDArray[Any],
    total_ss: NDArray[Any],
    total_q: NDArray[Any],
    total_nn: NDArray[Any],
    w: int,
    lost_df: int,
) -> tuple[NDArray[Any], NDArray[Any], int, NDArray[Any]]:
    """:func:`_spread_from_sums` from its totals over the ``w`` workers (drawn): units,
    sums, sums of squares, ``sum s^2 / n`` and ``sum n^2`` (scalars, or arrays over
    bootstrap replicates)."""
    grand = total_s / total_n
    ssb = total_q - total_n * grand**2
    ssw = total_ss - total_q
    df_b = w - 1
    df_w = total_n - w - lost_df
    with np.errstate(invalid="ignore", divide="ignore"):
        msb = ssb / df_b
        msw = ssw / np.maximum(df_w, 1)
        n0 = (total_n - total_nn / total_n) / df_b
        sigma = np.sqrt(np.clip((msb - msw) / n0, 0.0, None))
        f = msb / msw
    return sigma, f, df_b, df_w


def worker_spread(
    n: NDArray[Any],
    s: NDArray[Any],
    ss: NDArray[Any],
    lost_df: int,
    level: float,
    seed: int,
    replicates: int = _REPLICATES,
) -> dict[str, float]:
    """Spread of worker effects from per-worker counts ``n``, sums ``s`` and sums of
    squares ``ss`` of residuals: sigma_u, the F test of no worker effect, and percentile
    worker-bootstrap intervals of sigma_u at ``level`` and ``2 level - 1``."""
    keep = np.asarray(n) > 0
    n, s, ss = np.asarray(n, float)[keep], np.asarray(s, float)[keep], np.asarray(ss, float)[keep]
    sigma, f, df_b, df_w_ = _spread_from_sums(n, s, ss, lost_df)
    df_w = int(df_w_)
    total_ss = float(ss.sum() - s.sum() ** 2 / max(n.sum(), 1.0))
    if not total_ss > _NOISE_SS * max(n.sum(), 1.0):
        # Pay does not vary within comparable work (to rounding): nothing to separate,
        # and an F ratio of rounding noise would not even be reproducible.
        f = np.asarray(np.nan)
    p = float(f_sf(f, df_b, max(df_w, 1)))
    rng = np.random.default_rng(seed)
    w = len(n)
    draws = np.empty(replicates)
    chunk = max(1, 4_000_000 // max(w, 1))
    # Every sum the spread needs is linear in how often each worker is drawn, so a
    # replicate's sums are its draw counts times the per-worker columns (one matrix
    # product per chunk, not a gather of each column for every draw).
    columns = np.column_stack([n, s, ss, s * s / n, n * n])
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        idx = rng.integers(0, w, size=(stop - start, w))
        offset = (np.arange(stop - start) * w)[:, None]
        counts = np.bincount((idx + offset).ravel(), minlength=(stop - start) * w)
        sums = counts.reshape(stop - start, w).astype(np.float64) @ columns
        t = sums.T
        draws[start:stop] = _spread_from_totals(t[0], t[1], t[2], t[3], t[4], w, lost_df)[0]
    tail = (1 - level) / 2
    lo, hi = np.quantile(draws, [tail, 1 - tail])
    hi_2 = float(np.quantile(draws, 1 - (1 - level)))
    return {
        "sigma_u": float(sigma),
        "f": float(f),
        "p_value": p,
        "df_between": df_b,
        "df_within": df_w,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "upper_equivalence": hi_2,
        "workers": w,
    }


def _ratio(sigma: float) -> float:
    """Pay ratio of a worker at the 90th to one at the 10th percentile of worker effects."""
    return math.exp(2 * _Z90 * sigma)


@register
class PersonalisedPay:
    """FEE-05: different workers paid differently for the same work (personalised pay)."""

    id: ClassVar[str] = "FEE-05"
    title: ClassVar[str] = "Pay depends on the work, not on the worker"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        work = worker_cells(context, "worker_pay", order_units(context, "worker_pay"))
        cells = work.cells
        alpha = context.config.audit.alpha
        materiality = context.config.fairness.materiality
        threshold = 1 / (1 - materiality)
        per_worker = cells.units_of_cluster()
        n_workers = int(np.count_nonzero(per_worker))
        undecided = Finding(
            check=self.id,
            status=Status.INCONCLUSIVE,
            title=self.title,
            metric="worker_pay_spread_ratio",
            threshold=threshold,
            n_workers=n_workers,
            n_orders=work.units,
            basis=basis(context, self.id),
        )
        if n_workers < 3 or work.units <= n_workers + 2:
            detail = (
                "Too few workers or orders to separate worker from work: it needs at least 3 "
                "workers with several comparable orders each."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        gamma = cells.covariate_fit()
        sum_r, sum_r2 = cells.residual_sums(gamma)
        lost = cells.n_strata() + cells.k
        out = worker_spread(per_worker, sum_r, sum_r2, lost, 1 - alpha, context.config.audit.seed)
        if not (math.isfinite(out["f"]) and out["df_within"] > 0):
            detail = (
                "Pay does not vary at all within comparable work, or too few orders remain "
                "after comparing like with like: nothing to separate."
            )
            return [dataclasses.replace(undecided, detail=detail)]
        estimate = _ratio(out["sigma_u"])
        ci = (_ratio(out["ci_low"]), _ratio(out["ci_high"]))
        upper_eq = _ratio(out["upper_equivalence"])
        data = {
            "sigma_u_log": out["sigma_u"],
            "f_statistic": out["f"],
            "df_between": out["df_between"],
            "df_within": out["df_within"],
            "bootstrap": {"replicates": _REPLICATES, "resampled": "workers"},
            "upper_bound_1_minus_2alpha": upper_eq,
            "orders_excluded": work.excluded,
            "comparable_work": "service x zone x day type x hour; " + ", ".join(work.terms),
        }

        def resolve(p_adjusted: float, family_size: int) -> Finding:
            if p_adjusted < alpha and estimate > threshold:
                status = Status.FAIL
                severity = Severity.HIGH if ci[0] > threshold else Severity.MEDIUM
                verdict = (
                    f"Significant, and beyond the {materiality:.0%} materiality band: pay for "
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
            detail = (
                f"For the same work, a worker at the 90th percentile of worker pay effects "
                f"is paid {estimate:.3f} times one at the 10th (CI {ci[0]:.3f} to {ci[1]:.3f}; "
                f"F test of no worker effect p = {out['p_value']:.2g}, Holm-adjusted over "
                f"{family_size} tests p = {p_adjusted:.2g}). {verdict}"
            )
            return Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="worker_pay_spread_ratio",
                estimate=estimate,
                ci=ci,
                p_value=out["p_value"],
                p_adjusted=p_adjusted,
                threshold=threshold,
                n_workers=n_workers,
                n_orders=work.units,
                basis=basis(context, self.id),
                detail=detail,
                data=data,
            )

        return [Confirmatory(check=self.id, p_value=out["p_value"], resolve=resolve)]
