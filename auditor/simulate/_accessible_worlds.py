"""Calibration worlds for SVC-01 (waits of wheelchair-accessible requests), summed into the
cells its estimator reads (:class:`auditor.checks._accessible_service.WaitCells`).

Requests fall in ``strata`` zone-hours whose mean waits differ widely (log-sd 0.5 around 6
minutes). Accessible requests are more common where waits are long (their share grows with
the square of the stratum's mean wait), so a comparison of raw means accuses with no
excess wait at all. Each (stratum, side) cell has its own traffic shock (log-sd 0.15), and
waits are gamma with shape 2. Accessible requests wait ``ratio`` times as long as others at
the same place and hour. ``few``: only that many accessible requests, placed at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.checks._accessible_service import WaitCells, p_above, wait_edge, wait_effect
from auditor.stats import Verdict, Wald, decide_one_sided

__all__ = ["WaitRates", "replicate_waits", "wait_world"]


def wait_world(
    rng: np.random.Generator,
    ratio: float,
    *,
    strata: int = 400,
    trips: int = 40_000,
    wav_share: float = 0.02,
    few: int = 0,
) -> WaitCells:
    """One world's cells (module docstring)."""
    mu = np.exp(rng.normal(np.log(6.0), 0.5, strata))
    s = rng.integers(0, strata, trips)
    if few:
        wav = np.zeros(trips, dtype=bool)
        wav[rng.choice(trips, few, replace=False)] = True
    else:
        wav = rng.random(trips) < np.clip(wav_share * (mu[s] / mu.mean()) ** 2, 0, 1)
    shock = np.exp(rng.normal(0.0, 0.15, (strata, 2)))
    mean = mu[s] * shock[s, wav.astype(int)] * np.where(wav, ratio, 1.0)
    wait = rng.gamma(2.0, mean / 2.0)
    keys, cell = np.unique(s * 2 + wav, return_inverse=True)
    return WaitCells(
        (keys // 2).astype(np.int64),
        (keys % 2).astype(bool),
        np.bincount(cell).astype(np.float64),
        np.bincount(cell, weights=wait).astype(np.float64),
    )


@dataclass(frozen=True, slots=True)
class WaitRates:
    """Over replicates: the share failed, the share whose ``1 - alpha`` interval covers the
    true ratio, the median estimate, the median naive ratio of raw mean waits, and the
    median accessible requests."""

    replicates: int
    fail: float
    coverage: float
    median_estimate: float
    median_naive: float
    median_accessible: float


def replicate_waits(
    ratio: float,
    replicates: int,
    seed: int,
    *,
    alpha: float = 0.05,
    materiality: float = 0.05,
    **world: float,
) -> WaitRates:
    """SVC-01's verdicts on ``replicates`` worlds (a family of one test: Holm changes
    nothing), with the check's own estimator and rule."""
    rng = np.random.default_rng(seed)
    fails = covered = 0
    estimates, naive, accessible = [], [], []
    for _ in range(replicates):
        cells = wait_world(rng, ratio, **world)  # type: ignore[arg-type]
        test = wait_effect(cells).inference
        if test is None:
            continue
        assert isinstance(test, Wald)  # waits are never all zero on one side
        p = p_above(test, materiality)
        verdict = decide_one_sided(
            test, p, alpha=alpha, edge=wait_edge(materiality), breach="above"
        )
        fails += verdict.verdict == Verdict.FAIL
        lo, hi = test.interval(1 - alpha)
        covered += lo <= ratio <= hi
        estimates.append(np.exp(test.log_effect))
        acc = cells.accessible
        accessible.append(cells.requests[acc].sum())
        naive.append(
            (cells.wait_minutes[acc].sum() / cells.requests[acc].sum())
            / (cells.wait_minutes[~acc].sum() / cells.requests[~acc].sum())
        )
    n = len(estimates)
    return WaitRates(
        n, fails / n, covered / n, float(np.median(estimates)), float(np.median(naive)),
        float(np.median(accessible)),
    )  # fmt: skip
