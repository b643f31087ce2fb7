"""Replicate the group-disparity statistics on synthetic worlds: false-positive rates,
interval coverage and power. Used by ``tests/test_fairness_calibration.py`` and by
``benchmarks/validation.py`` (which writes ``docs/validation.md``).

Each replicate runs what the checks run, on a family of one test: the same trip terms
(``auditor.checks._covariates``), the same within-cell trip effect
(``auditor.stats.within_cell_coefficients``), the same estimators
(``auditor.stats.ratio_estimator``, ``log_estimator``: CR2 with Bell-McCaffrey degrees of
freedom, or the exact test when one side has no events), the same verdict
(``auditor.stats.decide``) and the same suppression rule (fewer effective workers than
``[report] min_cell_workers`` on a side). Only the summing of units into cells is done here
in NumPy instead of in the engine (a test holds the two equal).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from auditor.checks._covariates import COVARIATES, covariate_matrix
from auditor.checks._personalised_pay import ratio_sums, worker_spread
from auditor.simulate._stat_worlds import RateWorld, WorkWorld, draw_rate_cells, draw_work_units
from auditor.stats import (
    GroupEffect,
    Verdict,
    band,
    decide,
    log_estimator,
    ratio_estimator,
    within_cell_coefficients,
)

__all__ = [
    "money_cells",
    "replicate_effects",
    "replicate_intersection",
    "replicate_spread",
    "summarise",
]

Outcome = Literal["count", "accepted", "money", "pay", "price", "geometric"]
"""What a replicate compares: a rate world's offers (``count``), accepted orders
(``accepted``) or quoted pay (``money``) per unit of exposure; a work world's pay for the same
work as a ratio of means (``pay``) or of geometric means (``geometric``), or its prices as
PRC-01 compares them (``price``: the clusters are customers and the groups segments, so the
trip effect is measured within one segment's orders of one kind, not one customer's)."""


@dataclass(frozen=True, slots=True)
class NumpyMoney:
    """A work world's units summed into cells of one cluster and one stratum, as
    ``auditor.checks._money`` sums them in the engine."""

    cluster: NDArray[np.int64]
    stratum: NDArray[np.int64]
    n: NDArray[Any]
    money: NDArray[Any]
    expected: NDArray[Any]
    log_money: NDArray[Any]
    trip_effect: NDArray[Any]
    ratio_sum: NDArray[Any]
    ratio_squares: NDArray[Any]
    terms: int
    offset_gradient: NDArray[Any]
    trip_gradient: NDArray[Any]
    influence: NDArray[Any]


def money_cells(
    units: dict[str, NDArray[Any]], gamma_key: NDArray[np.int64] | None = None
) -> NumpyMoney:
    """Cells of ``units`` (``y``, ``stratum``, ``kind``, ``cluster`` and the trip
    covariates). The trip effect is measured within cells of ``gamma_key`` (per unit; default
    the cluster) and the unit's kind of order."""
    z = covariate_matrix(units, COVARIATES)
    y = np.asarray(units["y"], dtype=np.float64)
    ly = np.log(y)
    cluster, stratum = units["cluster"], units["stratum"]
    # The trip effect within one worker's (or segment's) orders of one kind, as the checks
    # measure it.
    k = int(units["kind"].max()) + 1
    owner = cluster if gamma_key is None else gamma_key
    _, kind_inv = np.unique(owner * k + units["kind"], return_inverse=True)
    by_kind = lambda v: np.bincount(kind_inv, weights=v)  # noqa: E731
    sz_kind = np.column_stack([by_kind(z[:, j]) for j in range(z.shape[1])])
    n_kind = by_kind(np.ones(len(y)))
    gamma = within_cell_coefficients(n_kind, by_kind(ly), sz_kind, z.T @ z, z.T @ ly)
    scaled = sz_kind / np.sqrt(n_kind)[:, None]
    inverse = np.linalg.pinv(z.T @ z - scaled.T @ scaled)
    z_within = z - (sz_kind / n_kind[:, None])[kind_inv]
    e_within = ly - (by_kind(ly) / n_kind)[kind_inv] - z_within @ gamma
    s = int(stratum.max()) + 1
    key, inv = np.unique(cluster * s + stratum, return_inverse=True)
    m = len(key)
    by = lambda v: np.bincount(inv, weights=v, minlength=m)  # noqa: E731
    n = by(np.ones(len(y)))
    effect = z @ gamma
    effect = effect - effect.mean()
    expected = np.exp(effect)
    ratio = y / expected
    g = int(cluster.max()) + 1
    scores = np.column_stack(
        [np.bincount(cluster, weights=z_within[:, j] * e_within, minlength=g)
         for j in range(z.shape[1])]
    )  # fmt: skip
    return NumpyMoney(
        cluster=(key // s).astype(np.int64), stratum=(key % s).astype(np.int64), n=n,
        money=by(y), expected=by(expected), log_money=by(ly), trip_effect=by(effect),
        ratio_sum=by(ratio), ratio_squares=by(ratio * ratio), terms=z.shape[1],
        offset_gradient=np.column_stack([by(expected * z[:, j]) for j in range(z.shape[1])]),
        trip_gradient=np.column_stack([by(z[:, j]) for j in range(z.shape[1])]),
        influence=scores @ inverse,
    )  # fmt: skip


def _one_effect(world: RateWorld | WorkWorld, seed: int, outcome: Outcome) -> GroupEffect:
    rng = np.random.default_rng(seed)
    if isinstance(world, RateWorld):
        cells, group = draw_rate_cells(world, rng)
        count = cells[{"count": "count", "accepted": "accepted", "money": "money"}[outcome]]
        fn = ratio_estimator(
            count, cells["exposure"], cells["stratum"], cells["cluster"], method=outcome,
            counts=outcome != "money",
        )  # fmt: skip
        return fn(np.ones(world.workers, bool), group)
    units, group = draw_work_units(world, rng)
    segment = group[units["cluster"]].astype(np.int64) if outcome == "price" else None
    mc = money_cells(units, segment)
    keep = np.ones(world.workers, bool)
    if outcome == "geometric":
        log_y = mc.log_money - mc.trip_effect
        fn = log_estimator(
            mc.n, log_y, mc.stratum, mc.cluster, method=outcome,
            offset_gradient=mc.trip_gradient, offset_influence=mc.influence,
        )  # fmt: skip
        return fn(keep, group)
    fn = ratio_estimator(
        mc.money, mc.expected, mc.stratum, mc.cluster, method=outcome,
        offset_gradient=mc.offset_gradient, offset_influence=mc.influence,
    )  # fmt: skip
    return fn(keep, group)


def replicate_effects(
    world: RateWorld | WorkWorld,
    replicates: int,
    seed: int,
    *,
    outcome: Outcome | None = None,
    truth: float | None = None,
    alpha: float = 0.05,
    materiality: float = 0.05,
    min_cell: int = 10,
) -> pd.DataFrame:
    """One row per replicate: ratio, interval, the minimum-effect and no-gap p-values, the
    verdict (a family of one), whether the comparison would be suppressed (fewer than
    ``min_cell`` effective workers on a side), and whether the interval covers ``truth``
    (default: the world's true ratio of the outcome)."""
    if outcome is None:
        outcome = "count" if isinstance(world, RateWorld) else "pay"
    if truth is None:
        truth = world.truth_of(outcome)
    half = band(materiality)
    rows: list[dict[str, float | bool]] = []
    for r in range(replicates):
        est = _one_effect(world, seed + r, outcome)
        if est.inference is None:
            rows.append({"ok": False})
            continue
        p_beyond = est.inference.p_beyond(half)
        d = decide(est, p_beyond, alpha=alpha, materiality=materiality, family_size=1)
        lo, hi = est.ci(1 - alpha)
        suppressed = est.effective_clusters < min_cell
        rows.append(
            {
                "ok": True,
                "ratio": est.ratio,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": est.inference.p_no_gap(),
                "p_beyond": p_beyond,
                "rejected": est.inference.p_no_gap() < alpha,
                "fail": d.verdict == Verdict.FAIL,
                "pass": d.verdict == Verdict.PASS,
                "covered": lo <= truth <= hi,
                "suppressed": suppressed,
                "published_fail": d.verdict == Verdict.FAIL and not suppressed,
                "df": est.df,
                "effective_clusters": est.effective_clusters,
                "exclusion": not math.isfinite(est.log_effect),
            }
        )
    return pd.DataFrame(rows)


def replicate_intersection(
    world: WorkWorld,
    replicates: int,
    seed: int,
    *,
    second_share: float = 0.3,
    alpha: float = 0.05,
    materiality: float = 0.05,
) -> pd.DataFrame:
    """Harm at an intersection only: ``world``'s group (attribute A) crossed with a second
    attribute B held by ``second_share`` of workers, independently; pay is cut by
    ``world.ratio`` for workers in both. Each replicate compares A*B with the largest
    combination (not A, not B), as ``[fairness] intersections`` does, and A with not A (the
    margin, where the harm is diluted); a family of one each."""
    whole = dataclasses.replace(world, ratio=1.0)
    half = band(materiality)
    rows = []
    for r in range(replicates):
        rng = np.random.default_rng(seed + r)
        units, a = draw_work_units(whole, rng)
        b = rng.random(world.workers) < second_share
        both = a & b
        units["y"] = units["y"] * np.where(both[units["cluster"]], world.ratio, 1.0)
        mc = money_cells(units)
        fn = ratio_estimator(
            mc.money, mc.expected, mc.stratum, mc.cluster, method="pay",
            offset_gradient=mc.offset_gradient, offset_influence=mc.influence,
        )  # fmt: skip
        row: dict[str, float | bool] = {}
        for name, keep, treat in (
            ("intersection", both | (~a & ~b), both),
            ("margin", np.ones(world.workers, bool), a),
        ):
            est = fn(keep, treat)
            ok = est.inference is not None
            p = est.inference.p_beyond(half) if est.inference is not None else 1.0
            row[f"{name}_fail"] = ok and p < alpha
            row[f"{name}_ratio"] = est.ratio
        row["intersection_workers"] = int(both.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def replicate_spread(
    world: WorkWorld, replicates: int, seed: int, *, alpha: float = 0.05,
    materiality: float = 0.05,
) -> pd.DataFrame:  # fmt: skip
    """FEE-05's test on ``world`` (with no group effect): one row per replicate with the
    90/10 ratio, p-values and verdict (a family of one)."""
    threshold = 1 / (1 - materiality)
    world = dataclasses.replace(world, ratio=1.0)
    rows = []
    for r in range(replicates):
        units, _ = draw_work_units(world, np.random.default_rng(seed + r))
        mc = money_cells(units)
        s, ss, lost = ratio_sums(
            mc.cluster, mc.stratum, mc.n, mc.money, mc.expected, mc.ratio_sum,
            mc.ratio_squares, world.workers, mc.terms,
        )  # fmt: skip
        n_of = np.bincount(mc.cluster, weights=mc.n, minlength=world.workers)
        out = worker_spread(n_of, s, ss, lost, alpha=alpha, materiality=materiality)
        ratio = math.exp(2 * 1.2815515655446004 * out["sigma_u"])
        upper = math.exp(2 * 1.2815515655446004 * out["upper_equivalence"])
        rows.append(
            {
                "ratio": ratio,
                "p_value": out["p_value"],
                "rejected": out["p_value"] < alpha,
                "fail": out["p_beyond"] < alpha,
                "pass": upper <= threshold,
            }
        )
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> dict[str, float]:
    """Rates over replicates: rejected (no-gap p < alpha), fail, pass, coverage, and the
    share suppressed; over the estimable replicates."""
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
        out["suppressed"] = float(ok["suppressed"].mean())
        out["published_fail"] = float(ok["published_fail"].mean())
        out["median_df"] = float(ok["df"].median())
    return out
