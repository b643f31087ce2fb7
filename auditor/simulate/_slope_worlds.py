"""Calibration worlds for the slope checks, summed into the cells their estimator reads
(``auditor.stats._slope``): FEE-07 (tips offset base pay) and FEE-09 (take rate by fare).

**FEE-07** (:class:`TipWorld`): orders of workers whose pay and tips move together for
reasons that are not an offset. Each world draws orders in strata (zone x date x hour) with
a trip distance. Pay is a stratum's level (a rain bonus on some dates, when customers also
tip more) times what the trip pays, plus the worker's own pay level, plus heavy-tailed
noise, less ``offset`` times the tip. Tips are more likely for longer trips, in rain, and
for some workers: with ``confounded``, the workers paid least are tipped most (a customer
compensating a low fare), which a comparison across workers would read as an offset.
``dominant`` workers do ``dominance`` times the orders of the others.

**FEE-09** (:class:`FareWorld`): a flat declared rate that some workers (a tier) get lower,
and those workers do longer trips, so that across workers the take falls with the fare;
strata whose fares and rates differ (an airport zone); take rates noisy by the rounding of
pay to the cent and by a per-order adjustment; ``slope`` points of take rate per doubling of
the fare planted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from auditor.stats._slope import Slope, SlopeCells, within_slope

__all__ = [
    "FareWorld",
    "SlopeRates",
    "TipWorld",
    "fare_world",
    "replicate_fares",
    "replicate_tips",
    "tip_world",
]

_TIPS = np.array([2.0, 3.0, 5.0, 8.0, 10.0])
_TIP_WEIGHTS = np.array([0.3, 0.3, 0.25, 0.1, 0.05])


@dataclass(frozen=True, slots=True)
class TipWorld:
    """One FEE-07 calibration world.

    Attributes:
        workers: workers.
        orders_per_worker: mean orders of an ordinary worker.
        dominant: workers doing ``dominance`` times as many orders.
        dominance: activity multiplier of the dominant workers.
        offset: true share of each tip taken out of base pay.
        confounded: the workers paid least are tipped most.
        surge: price and pay surge within the hour, and customers tip less under surge.
        tip_rate: base share of orders tipped.
        strata: zone x date x hour strata orders fall in.
    """

    workers: int = 40
    orders_per_worker: float = 60.0
    dominant: int = 0
    dominance: float = 50.0
    offset: float = 0.0
    confounded: bool = True
    surge: bool = True
    tip_rate: float = 0.15
    strata: int = 120


def tip_world(world: TipWorld, seed: int) -> SlopeCells:
    """Orders of ``world`` drawn with ``seed``, summed per cell of one worker in one stratum
    with x = (tip, fare, log distance, its square), as the check sums them. With ``surge``,
    each order's price and pay carry a surge of 1, 1.25 or 1.5 within its hour, and
    customers tip less the higher it is."""
    rng = np.random.default_rng(seed)
    worker = _orders_of_workers(rng, world)
    n = len(worker)
    pay_level = rng.normal(0.0, 2.0, world.workers)
    stratum = _strata_of_orders(rng, world, worker)
    rain = rng.random(world.strata) < 0.25
    distance = rng.lognormal(1.0, 0.5, n)
    tip_logit = -1.7 + 0.3 * np.log(distance) + 0.8 * rain[stratum]
    tip_logit = tip_logit + np.log(world.tip_rate / 0.15)
    surge = rng.choice(np.array([1.0, 1.25, 1.5]), n) if world.surge else np.ones(n)
    tip_logit = tip_logit - 3.0 * (surge - 1.0)
    if world.confounded:
        tip_logit = tip_logit - 0.5 * pay_level[worker]
    tipped = rng.random(n) < 1.0 / (1.0 + np.exp(-tip_logit))
    tip = np.where(tipped, rng.choice(_TIPS, n, p=_TIP_WEIGHTS) * (1 + 0.1 * distance), 0.0)
    level = 1.0 + 0.3 * rain[stratum] + rng.normal(0.0, 0.1, world.strata)[stratum]
    noise = 1.5 * rng.standard_t(3, n)
    fare = (6.25 + 1.875 * distance) * level * surge
    pay = 0.8 * fare + pay_level[worker] + noise - world.offset * tip
    x = np.column_stack([tip, fare, np.log(distance), np.log(distance) ** 2])
    return _summed(worker, stratum, x, pay, world)


@dataclass(frozen=True, slots=True)
class SlopeRates:
    """What replicates of a world give.

    Attributes:
        replicates: replicates with an estimate.
        fail: share whose minimum-effect test (beyond ``materiality``, a family of one at
            ``alpha``) rejects: the check's ``fail``.
        coverage: share whose ``1 - alpha`` interval covers the truth.
        median_offset: median estimate (FEE-07: the offset; FEE-09: the slope).
        median_df: median effective workers (degrees of freedom).
    """

    replicates: int
    fail: float
    coverage: float
    median_offset: float
    median_df: float


def replicate_tips(
    world: TipWorld,
    replicates: int,
    first_seed: int,
    *,
    by_cluster: bool = True,
    materiality: float = 0.10,
    alpha: float = 0.05,
) -> SlopeRates:
    """FEE-07's estimator and verdict on ``replicates`` seeded draws of ``world`` (seeds
    ``first_seed`` onward); ``by_cluster=False`` compares across workers (no worker
    effects), the naive design the worlds are built to fool."""
    slopes, fails = [], []
    for seed in range(first_seed, first_seed + replicates):
        slope = within_slope(tip_world(world, seed), by_cluster=by_cluster)
        if slope.estimable:
            slopes.append(slope)
            fails.append(slope.p_below(-materiality) < alpha)
    return _rates(slopes, world.offset, -1.0, fails, alpha)


@dataclass(frozen=True, slots=True)
class FareWorld:
    """One FEE-09 calibration world.

    Attributes:
        workers: workers.
        orders_per_worker: mean orders of an ordinary worker.
        dominant: workers doing ``dominance`` times as many orders.
        dominance: activity multiplier of the dominant workers.
        slope: true change of the take rate per doubling of the fare (negative: regressive).
        tier_share: share of workers on a lower rate (``rate - tier_discount``), who do
            trips ``tier_trip`` times as long.
        strata: zone x date x hour strata.
    """

    workers: int = 40
    orders_per_worker: float = 60.0
    dominant: int = 0
    dominance: float = 50.0
    slope: float = 0.0
    tier_share: float = 0.3
    tier_discount: float = 0.04
    tier_trip: float = 1.8
    strata: int = 120


def fare_world(world: FareWorld, seed: int) -> SlopeCells:
    """Orders of ``world`` drawn with ``seed``, summed per cell of one worker in one stratum
    with y = the take rate and x = log2 of the fare, as FEE-09 sums them."""
    rng = np.random.default_rng(seed)
    worker = _orders_of_workers(rng, world)
    n = len(worker)
    tier = rng.random(world.workers) < world.tier_share
    stratum = _strata_of_orders(rng, world, worker)
    airport = np.arange(world.strata) % 10 == 0  # long trips and their own declared rate
    trip = rng.lognormal(1.0, 0.6, n) * np.where(tier[worker], world.tier_trip, 1.0)
    trip = trip * np.where(airport[stratum], 3.0, 1.0)
    surge = rng.lognormal(0.0, 0.2, world.strata)[stratum]
    fare = np.round((6.0 + 2.5 * trip) * surge, 2)
    rate = 0.20 + 0.03 * airport[stratum] - world.tier_discount * tier[worker]
    rate = rate + world.slope * (np.log2(fare) - np.log2(20.0))
    rate = rate + rng.normal(0.0, 0.01, n)  # per-order adjustments
    pay = np.round(fare * (1 - rate), 2)  # the cent rounding of pay
    take_rate = (fare - pay) / fare
    return _summed(worker, stratum, np.log2(fare)[:, None], take_rate, world)


def replicate_fares(
    world: FareWorld,
    replicates: int,
    first_seed: int,
    *,
    by_cluster: bool = True,
    materiality: float = 0.01,
    alpha: float = 0.05,
) -> SlopeRates:
    """FEE-09's estimator and verdict (a take falling by more than ``materiality`` per
    doubling of the fare) on
    ``replicates`` seeded draws of ``world``; ``by_cluster=False`` compares across workers
    (the naive design)."""
    slopes, fails = [], []
    for seed in range(first_seed, first_seed + replicates):
        slope = within_slope(fare_world(world, seed), by_cluster=by_cluster)
        if slope.estimable:
            slopes.append(slope)
            fails.append(slope.p_below(-materiality) < alpha)
    return _rates(slopes, world.slope, 1.0, fails, alpha)


def _orders_of_workers(rng: np.random.Generator, world: TipWorld | FareWorld) -> NDArray[np.int64]:
    """Each order's worker: Poisson counts, the dominant workers ``dominance`` times as
    busy."""
    activity = np.ones(world.workers)
    activity[: world.dominant] = world.dominance
    counts = rng.poisson(world.orders_per_worker * activity)
    return np.repeat(np.arange(world.workers), counts)


def _strata_of_orders(
    rng: np.random.Generator, world: TipWorld | FareWorld, worker: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Each order's stratum: 60 % near the worker's own zone and hours, the rest anywhere."""
    n = len(worker)
    home = rng.integers(0, world.strata, world.workers)
    return np.where(
        rng.random(n) < 0.6,
        (home[worker] + rng.integers(0, 5, n)) % world.strata,
        rng.integers(0, world.strata, n),
    )


def _summed(
    worker: NDArray[np.int64],
    stratum: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    world: TipWorld | FareWorld,
) -> SlopeCells:
    """Units summed per cell of one worker in one stratum, as ``checks._slope_cells`` sums
    them in the engine."""
    cell = worker * world.strata + stratum
    used, code = np.unique(cell, return_inverse=True)
    size = len(used)

    def per(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(code, weights=v, minlength=size).astype(np.float64)

    p = x.shape[1]
    sxx = np.empty((size, p, p))
    for i in range(p):
        for j in range(p):
            sxx[:, i, j] = per(x[:, i] * x[:, j])
    return SlopeCells(
        cluster=(used // world.strata).astype(np.int64),
        stratum=(used % world.strata).astype(np.int64),
        n=per(np.ones(len(worker))),
        sx=np.column_stack([per(x[:, i]) for i in range(p)]),
        sy=per(y),
        sxx=sxx,
        sxy=np.column_stack([per(x[:, i] * y) for i in range(p)]),
        n_clusters=world.workers,
    )


def _rates(
    slopes: list[Slope], truth: float, sign: float, fails: list[bool], alpha: float
) -> SlopeRates:
    """What the replicates' slopes give, on the scale ``sign * slope`` (FEE-07's offset is
    minus the slope)."""
    n = len(slopes)
    if not n:
        return SlopeRates(0, float("nan"), float("nan"), float("nan"), float("nan"))
    covers = 0
    for slope in slopes:
        low, high = sorted(sign * b for b in slope.interval(1 - alpha))
        covers += low <= truth <= high
    return SlopeRates(
        n,
        sum(fails) / n,
        covers / n,
        float(np.median([sign * s.estimate for s in slopes])),
        float(np.median([s.df for s in slopes])),
    )
