"""Calibration worlds for PAY-04 (statutory-holiday pay), summed into the cells its estimator
reads (:func:`auditor.checks._holiday_pay.holiday_effect`: one date's orders of one worker's
kind of work).

Each world has ``workers`` workers over ``dates`` dates, ``holidays`` of them statutory
holidays spread over the period, and 12 kinds of order (zone x hour) that pay differently.
Everything that moves pay without a holiday premium is there:

- **date-specific pay**: every date has its own level for everyone (log-sd ``date_sd``:
  weather, demand, promotions), so a few holidays can land on good or bad days;
- **workers' own choices**: workers differ in pay (log-sd 0.25), and whether they work a
  holiday depends on it (``selection`` > 0: the better paid work holidays more; < 0, less),
  so a comparison across workers reads a premium, or a shortfall, that is not there;
- pay per order is gamma (shape 4) around its mean.

Holiday work pays ``ratio`` times what the same work pays on other days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.checks._holiday_pay import holiday_effect
from auditor.stats import RateCells, Verdict, Wald, decide_one_sided, one_sided_p, poisson_effect

__all__ = ["HolidayRates", "holiday_world", "replicate_holidays"]

_KINDS = 12


@dataclass(frozen=True, slots=True)
class HolidayWorld:
    """One world's cells, and which dates are holidays."""

    cells: RateCells
    holiday: np.ndarray
    naive: RateCells
    """The same orders compared across workers: strata of kind only, clusters the workers
    (the design a check without worker strata and date clusters would use)."""
    naive_holiday_cell: np.ndarray


def holiday_world(
    rng: np.random.Generator,
    ratio: float,
    *,
    workers: int = 200,
    dates: int = 60,
    holidays: int = 5,
    date_sd: float = 0.05,
    selection: float = -1.5,
) -> HolidayWorld:
    """One world (module docstring)."""
    holiday = np.zeros(dates, dtype=bool)
    holiday[np.linspace(3, dates - 4, holidays).round().astype(int)] = True
    level = rng.normal(0.0, 0.25, workers)
    day_level = rng.normal(0.0, date_sd, dates)
    kind_level = rng.normal(0.0, 0.3, _KINDS)
    p_work = np.where(
        holiday[None, :],
        0.4 * np.exp(selection * level)[:, None] / np.exp(selection * level).mean(),
        0.4,
    )
    works = rng.random((workers, dates)) < np.clip(p_work, 0, 1)
    w_idx, d_idx = np.nonzero(works)
    n_orders = rng.poisson(6, len(w_idx))
    w = np.repeat(w_idx, n_orders)
    d = np.repeat(d_idx, n_orders)
    k = rng.integers(0, _KINDS, len(w))
    mean = np.exp(level[w] + day_level[d] + kind_level[k]) * np.where(holiday[d], ratio, 1.0)
    pay = rng.gamma(4.0, mean / 4.0)
    cells = _cells(d, w * _KINDS + k, pay, dates)
    # Across workers: strata of kind; a worker's holiday and other-day orders of a kind are
    # two cells of one block (treat per cell); clusters the workers.
    naive, naive_holiday = _naive_cells(w, k, holiday[d], pay, workers)
    return HolidayWorld(cells, holiday, naive, naive_holiday)


def _cells(cluster: np.ndarray, stratum: np.ndarray, pay: np.ndarray, n_clusters: int) -> RateCells:
    key = cluster.astype(np.int64) * (int(stratum.max()) + 1) + stratum
    keys, inverse = np.unique(key, return_inverse=True)
    width = int(stratum.max()) + 1
    c, s = keys // width, keys % width
    _, s_code = np.unique(s, return_inverse=True)
    n = np.bincount(inverse).astype(np.float64)
    money = np.bincount(inverse, weights=pay).astype(np.float64)
    return RateCells(money, n, s_code.astype(np.int64), c.astype(np.int64), n_clusters)


def _naive_cells(
    w: np.ndarray, k: np.ndarray, on_holiday: np.ndarray, pay: np.ndarray, workers: int
) -> tuple[RateCells, np.ndarray]:
    key = (w.astype(np.int64) * _KINDS + k) * 2 + on_holiday
    keys, inverse = np.unique(key, return_inverse=True)
    treat = (keys % 2).astype(bool)
    block_key = keys // 2
    cluster, stratum = block_key // _KINDS, block_key % _KINDS
    _, block = np.unique(block_key, return_inverse=True)
    n = np.bincount(inverse).astype(np.float64)
    money = np.bincount(inverse, weights=pay).astype(np.float64)
    cells = RateCells(
        money, n, stratum.astype(np.int64), cluster.astype(np.int64), workers,
        block.astype(np.int64),
    )  # fmt: skip
    return cells, treat


@dataclass(frozen=True, slots=True)
class HolidayRates:
    """Over replicates: the shares failed and passed against the required ratio, the share
    of ``1 - alpha`` intervals covering the true ratio, the median estimate, and the share
    the naive design (across workers) fails."""

    replicates: int
    fail: float
    passed: float
    coverage: float
    median_estimate: float
    naive_fail: float


def replicate_holidays(
    ratio: float,
    replicates: int,
    seed: int,
    *,
    required: float = 1.05,
    alpha: float = 0.05,
    **world: float,
) -> HolidayRates:
    """PAY-04's verdicts on ``replicates`` worlds (a family of one test), with the check's own
    estimator and rule, against a rule asking for ``required`` times other days' pay."""
    rng = np.random.default_rng(seed)
    fails = passes = covered = naive_fails = 0
    estimates = []
    for _ in range(replicates):
        wld = holiday_world(rng, ratio, **world)  # type: ignore[arg-type]
        test = holiday_effect(wld.cells, wld.holiday).inference
        assert isinstance(test, Wald)
        p = one_sided_p(test, required, "below")
        v = decide_one_sided(test, p, alpha=alpha, edge=required, breach="below")
        fails += v.verdict == Verdict.FAIL
        passes += v.verdict == Verdict.PASS
        lo, hi = test.interval(1 - alpha)
        covered += lo <= ratio <= hi
        estimates.append(np.exp(test.log_effect))
        naive = poisson_effect(
            wld.naive, method="naive", treat_of_cell=wld.naive_holiday_cell
        ).inference
        if isinstance(naive, Wald):
            naive_fails += one_sided_p(naive, required, "below") < alpha
    n = replicates
    return HolidayRates(
        n, fails / n, passes / n, covered / n, float(np.median(estimates)), naive_fails / n
    )
