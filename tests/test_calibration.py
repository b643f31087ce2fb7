"""Calibration and power of the statistical parts of FEE-04 and PAY-01, over many
simulated datasets (seeded, fast): the false-positive rate stays near alpha without a
breach, and a material breach is found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.checks._fee_changes import sup_f_test
from auditor.checks._pay import worker_bootstrap_ci

ALPHA = 0.05
RUNS = 200


def _daily_index(rng: np.random.Generator, days: int, step: float, at: int) -> np.ndarray:
    """A take-rate index of 0.20 with day-to-day noise (sd 0.4 points) and a mild weekly
    cycle (0.2 points), plus ``step`` from day ``at``."""
    noise = rng.normal(0.0, 0.004, days)
    weekly = 0.002 * np.sin(2 * np.pi * np.arange(days) / 7)
    return 0.20 + noise + weekly + np.where(np.arange(days) >= at, step, 0.0)


def test_fee04_false_positive_rate_without_a_change() -> None:
    rng = np.random.default_rng(1)
    rejected = 0
    for run in range(RUNS):
        result = sup_f_test(_daily_index(rng, 28, 0.0, 14), [], seed=run)
        assert result is not None
        rejected += result[1] < ALPHA
    assert rejected / RUNS <= 0.08


def test_fee04_false_positive_rate_with_an_announced_change() -> None:
    rng = np.random.default_rng(2)
    rejected = sum(
        sup_f_test(_daily_index(rng, 28, 0.05, 14), [14], seed=run)[1] < ALPHA  # type: ignore[index]
        for run in range(RUNS)
    )
    assert rejected / RUNS <= 0.08


def test_fee04_power_on_a_one_point_silent_change() -> None:
    rng = np.random.default_rng(3)
    found, dates = 0, []
    for run in range(RUNS):
        _, p, where = sup_f_test(_daily_index(rng, 28, 0.01, 17), [], seed=run)  # type: ignore[misc]
        found += p < ALPHA
        dates.append(where)
    assert found / RUNS >= 0.9
    assert np.mean(np.abs(np.array(dates) - 17) <= 1) >= 0.8  # dated to within a day


def _worker_weeks(rng: np.random.Generator, share: float, workers: int = 300) -> pd.DataFrame:
    """Worker-weeks clustered in workers: a few very active workers have many weeks, and
    each worker's chance of a week below the minimum varies (mean ``share``)."""
    weeks = 1 + rng.geometric(0.3, workers)  # heavy-ish tail of active workers
    propensity = rng.beta(2.0, 2.0 * (1 - share) / share, workers)
    worker = np.repeat(np.arange(workers), weeks)
    below = rng.random(len(worker)) < propensity[worker]
    return pd.DataFrame({"worker_id": worker, "below": below})


def test_pay01_bootstrap_fails_rarely_at_the_tolerated_share() -> None:
    """At a true share equal to the tolerated 5 %, 'fail' (CI above it) must be rare."""
    rng = np.random.default_rng(4)
    fails = covered = 0
    for run in range(RUNS):
        frame = _worker_weeks(rng, 0.05)
        lo, hi = worker_bootstrap_ci(frame["worker_id"], frame["below"], 0.95, run, 500)
        fails += lo > 0.05
        covered += lo <= 0.05 <= hi
    assert fails / RUNS <= 0.08
    assert covered / RUNS >= 0.88  # near-nominal coverage despite clustering


def test_pay01_bootstrap_finds_a_material_excess() -> None:
    rng = np.random.default_rng(5)
    fails = 0
    for run in range(RUNS):
        frame = _worker_weeks(rng, 0.15)
        lo, _ = worker_bootstrap_ci(frame["worker_id"], frame["below"], 0.95, run, 500)
        fails += lo > 0.05
    assert fails / RUNS >= 0.9
