"""Replicate the group-disparity statistics on synthetic worlds: false-positive rates,
interval coverage and power. Used by ``tests/test_fairness_calibration.py`` and by
``benchmarks/validation.py`` (which writes ``docs/validation.md``).

Each replicate runs the estimator and verdict the checks run (same functions, same small-
group rule: a permutation p-value when either side has fewer than
``min_workers_asymptotic`` clusters), on a family of one test.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import pandas as pd

from auditor.checks._personalised_pay import worker_spread
from auditor.simulate._stat_worlds import RateWorld, WorkWorld, draw_rate_cells, draw_work_units
from auditor.stats import (
    CellMoments,
    GroupEffect,
    RateCells,
    Verdict,
    decide,
    poisson_effect,
    within_effect,
)

__all__ = ["replicate_effects", "replicate_spread", "summarise"]

Kind = Literal["rate", "work"]


def _one_effect(
    world: RateWorld | WorkWorld, seed: int, permutations: int, min_asymptotic: int
) -> GroupEffect:
    rng = np.random.default_rng(seed)
    if isinstance(world, RateWorld):
        cells, group = draw_rate_cells(world, rng)
        rc = RateCells(cells["count"], cells["exposure"], cells["stratum"], cells["cluster"])
        est = poisson_effect(rc, group, method="poisson_fe")
        if est.effective_clusters < min_asymptotic:
            est = poisson_effect(
                rc, group, method="poisson_fe", permutations=permutations, seed=seed
            )
        return est
    units, group = draw_work_units(world, rng)
    moments = _cells(units)
    est = within_effect(moments, group, method="wls_within")
    if est.effective_clusters < min_asymptotic:
        est = within_effect(
            moments, group, method="wls_within", permutations=permutations, seed=seed
        )
    return est


def _cells(units: dict[str, np.ndarray]) -> CellMoments:
    """Unit-level cells with the checks' trip terms (logs, squares, product), as
    ``auditor.checks._work.covariate_terms`` builds them in the engine."""
    ld, lt = np.log(units["distance_km"]), np.log(units["trip_minutes"])
    z = np.column_stack([ld, lt, ld * ld, lt * lt, ld * lt])
    return CellMoments.from_units(units["y"], units["stratum"], units["cluster"], z)


def replicate_effects(
    world: RateWorld | WorkWorld,
    replicates: int,
    seed: int,
    *,
    alpha: float = 0.05,
    materiality: float = 0.05,
    permutations: int = 199,
    min_asymptotic: int = 30,
) -> pd.DataFrame:
    """One row per replicate: ratio, CI, p-value, verdict (family of one), and whether the
    CI covers the true ratio."""
    rows: list[dict[str, float | bool]] = []
    for r in range(replicates):
        est = _one_effect(world, seed + r, permutations, min_asymptotic)
        if not (math.isfinite(est.log_effect) and math.isfinite(est.se)):
            rows.append({"ok": False})
            continue
        d = decide(est, est.p_value, alpha=alpha, materiality=materiality, family_size=1)
        lo, hi = est.ci(1 - alpha)
        rows.append(
            {
                "ok": True,
                "ratio": est.ratio,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": est.p_value,
                "rejected": est.p_value < alpha,
                "fail": d.verdict == Verdict.FAIL,
                "pass": d.verdict == Verdict.PASS,
                "covered": lo <= world.ratio <= hi,
                "permuted": est.permuted,
                "effective_clusters": est.effective_clusters,
            }
        )
    return pd.DataFrame(rows)


def replicate_spread(
    world: WorkWorld, replicates: int, seed: int, *, alpha: float = 0.05,
    materiality: float = 0.05,
) -> pd.DataFrame:  # fmt: skip
    """FEE-05's test on ``world`` (group effects off): one row per replicate with the 90/10
    ratio, p-value and verdict."""
    threshold = 1 / (1 - materiality)
    world = dataclasses.replace(world, ratio=1.0)
    rows = []
    for r in range(replicates):
        rng = np.random.default_rng(seed + r)
        units, _ = draw_work_units(world, rng)
        cells = _cells(units)
        sum_r, sum_r2 = cells.residual_sums(cells.covariate_fit())
        out = worker_spread(
            cells.units_of_cluster(), sum_r, sum_r2, cells.n_strata() + cells.k, 1 - alpha,
            seed + r, replicates=199,
        )  # fmt: skip
        ratio = math.exp(2 * 1.2815515655446004 * out["sigma_u"])
        upper = math.exp(2 * 1.2815515655446004 * out["upper_equivalence"])
        rows.append(
            {
                "ratio": ratio,
                "p_value": out["p_value"],
                "rejected": out["p_value"] < alpha,
                "fail": out["p_value"] < alpha and ratio > threshold,
                "pass": upper <= threshold,
            }
        )
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> dict[str, float]:
    """Rates over replicates: rejected (p < alpha), fail, pass, CI coverage."""
    ok = frame[frame["ok"]] if "ok" in frame else frame
    out = {
        "replicates": float(len(frame)),
        "estimable": float(len(ok)),
        "rejected": float(ok["rejected"].mean()),
        "fail": float(ok["fail"].mean()),
        "pass": float(ok["pass"].mean()),
    }
    if "covered" in ok:
        out["coverage"] = float(ok["covered"].mean())
        out["median_ratio"] = float(ok["ratio"].median())
    return out
