"""Small synthetic worlds for calibrating the group-disparity statistics.

`simulate` builds whole platforms (seconds each); calibration needs thousands of replicates,
so these generators draw directly the frames the estimators consume, with the features that
break naive tests:

- groups that differ for legitimate reasons: the group works other zones and hours (with
  other demand) and does shorter trips;
- orders clustered in workers: a worker-level random effect (productivity, or pay), and
  heavy-tailed activity, optionally with a few very active workers dominating the group;
- overdispersed counts (gamma noise per cell) and a pay curve the model only approximates
  (``log(base + per_km * km + per_min * minutes)`` fitted by a quadratic in logs).

A planted effect multiplies the group's rate (or pay) by ``ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RateWorld", "WorkWorld", "draw_rate_cells", "draw_work_units"]


@dataclass(frozen=True, slots=True)
class RateWorld:
    """Order counts per worker x zone x day x hour cell, with online hours as exposure.

    Attributes:
        workers: workers in the comparison (group and reference).
        group_share: share of workers in the group.
        ratio: the group's true rate ratio (1.0: no bias).
        zones, days, hours: size of the stratum grid.
        productivity_sd: SD of the log worker random effect on the rate.
        activity_sd: SD of log worker activity (online cells); 1.0 is heavy-tailed.
        dominant: workers of the group made ``dominance`` times as active as the rest.
        dominance: activity multiplier of the dominant workers.
        overdispersion: variance of the gamma noise on each cell's rate.
        cells_per_worker: mean online cells (hours) per worker.
        legitimate: the group prefers low-demand zones and late hours.
        base_rate: events per unit of exposure in an average cell (orders per online
            hour; penalties per accepted order are ~0.01-0.03).
        exposure_scale: mean exposure per cell x 1.6 (1: up to an hour online per cell;
            30: up to 30 accepted orders per worker x service x zone cell).
    """

    workers: int = 300
    group_share: float = 0.3
    ratio: float = 1.0
    zones: int = 8
    days: int = 14
    hours: int = 16
    productivity_sd: float = 0.15
    activity_sd: float = 1.0
    dominant: int = 0
    dominance: float = 20.0
    overdispersion: float = 0.3
    cells_per_worker: float = 40.0
    legitimate: bool = True
    base_rate: float = 1.5
    exposure_scale: float = 1.0


def _groups(n: int, share: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Exactly round(share * n) group members (at least 2, at most n - 2), shuffled."""
    k = min(max(round(share * n), 2), n - 2)
    g = np.zeros(n, bool)
    g[:k] = True
    return rng.permutation(g)


def _activity(
    n: int, group: NDArray[np.bool_], sd: float, dominant: int, dominance: float,
    rng: np.random.Generator,
) -> NDArray[np.float64]:  # fmt: skip
    act = rng.lognormal(-(sd**2) / 2, sd, n)
    if dominant:
        members = np.nonzero(group)[0][:dominant]
        act[members] *= dominance
    return act


def draw_rate_cells(
    world: RateWorld, rng: np.random.Generator
) -> tuple[dict[str, NDArray[Any]], NDArray[np.bool_]]:
    """Cells ``count``, ``exposure``, ``stratum``, ``cluster`` and each worker's group."""
    w = world
    group = _groups(w.workers, w.group_share, rng)
    act = _activity(w.workers, group, w.activity_sd, w.dominant, w.dominance, rng)
    n_cells = rng.poisson(w.cells_per_worker * act) + 1
    worker = np.repeat(np.arange(w.workers), n_cells)
    g = group[worker]
    demand = np.exp(np.linspace(-0.8, 0.8, w.zones))
    curve = 1.0 + 0.8 * np.sin(np.linspace(0, np.pi, w.hours))
    day_level = rng.lognormal(0.0, 0.1, w.days)
    # Zone and hour preferences: the group leans to low-demand zones and late hours.
    tilt = 1.5 if w.legitimate else 0.0
    zone_logit = np.where(g[:, None], -tilt, 0.0) * np.linspace(-1, 1, w.zones)[None, :]
    zone = _categorical(rng, np.exp(zone_logit))
    hour_logit = np.where(g[:, None], tilt, 0.0) * np.linspace(-1, 1, w.hours)[None, :]
    hour = _categorical(rng, np.exp(hour_logit))
    day = rng.integers(0, w.days, len(worker))
    exposure = rng.uniform(0.25, 1.0, len(worker)) * w.exposure_scale
    productivity = rng.normal(-(w.productivity_sd**2) / 2, w.productivity_sd, w.workers)
    shape = 1.0 / w.overdispersion if w.overdispersion > 0 else np.inf
    noise = rng.gamma(shape, 1.0 / shape, len(worker)) if np.isfinite(shape) else 1.0
    rate = (
        w.base_rate * demand[zone] * curve[hour] * day_level[day]
        * np.exp(productivity[worker]) * np.where(g, w.ratio, 1.0) * noise
    )  # fmt: skip
    count = rng.poisson(exposure * rate).astype(np.float64)
    stratum = (zone * w.days + day) * w.hours + hour
    cells = {
        "count": count,
        "exposure": exposure,
        "stratum": np.unique(stratum, return_inverse=True)[1].astype(np.int64),
        "cluster": worker.astype(np.int64),
    }
    return cells, group


@dataclass(frozen=True, slots=True)
class WorkWorld:
    """Orders with log pay (or price), strata, trip distance and minutes.

    Attributes:
        workers: clusters (workers, or customers) in the comparison.
        group_share: share of clusters in the group.
        ratio: the group's true pay (price) ratio for the same work.
        orders_per_worker: mean orders per cluster.
        activity_sd, dominant, dominance: as in `RateWorld`.
        worker_sd: SD of a log worker effect on pay, independent of the group (e.g. a
            legitimate per-worker bonus); 0 for FEE-05's null.
        spread: planted personalised pay: each worker's pay is multiplied by
            uniform(1 - spread, 1 + spread) (FEE-05).
        noise_sd: SD of the per-order log pay noise.
        zones, days, hours, services: stratum grid.
        legitimate: the group works other zones and hours, and does shorter trips.
    """

    workers: int = 300
    group_share: float = 0.3
    ratio: float = 1.0
    orders_per_worker: float = 60.0
    activity_sd: float = 1.0
    dominant: int = 0
    dominance: float = 20.0
    worker_sd: float = 0.03
    spread: float = 0.0
    noise_sd: float = 0.05
    zones: int = 8
    days: int = 14
    hours: int = 16
    services: int = 2
    legitimate: bool = True


_FARE = np.array([[7.0, 1.1, 0.14], [8.0, 1.4, 0.07], [8.5, 1.9, 0.36]])


def draw_work_units(
    world: WorkWorld, rng: np.random.Generator
) -> tuple[dict[str, NDArray[Any]], NDArray[np.bool_]]:
    """Units ``y``, ``stratum``, ``cluster``, ``distance_km``, ``trip_minutes`` and each
    cluster's group."""
    w = world
    group = _groups(w.workers, w.group_share, rng)
    act = _activity(w.workers, group, w.activity_sd, w.dominant, w.dominance, rng)
    n_orders = rng.poisson(w.orders_per_worker * act) + 2
    worker = np.repeat(np.arange(w.workers), n_orders)
    g = group[worker]
    n = len(worker)
    tilt = 1.5 if w.legitimate else 0.0
    zone = _categorical(rng, np.exp(np.where(g[:, None], -tilt, 0.0) * np.linspace(-1, 1, w.zones)))
    hour = _categorical(rng, np.exp(np.where(g[:, None], tilt, 0.0) * np.linspace(-1, 1, w.hours)))
    day = rng.integers(0, w.days, n)
    service = rng.integers(0, w.services, n)
    mean_km = np.where(g & w.legitimate, 2.5, 4.0)
    km = rng.lognormal(np.log(mean_km) - 0.18, 0.6, n) + 0.3
    pace = rng.lognormal(0.0, 0.15, w.workers)[worker]
    minutes = km * 3.0 * pace + rng.uniform(2.0, 6.0, n)
    level = rng.lognormal(0.0, 0.1, w.zones)[zone] * rng.lognormal(0.0, 0.08, w.hours)[hour]
    f = _FARE[service]
    fare = (f[:, 0] + f[:, 1] * km + f[:, 2] * minutes) * level
    worker_effect = np.zeros(w.workers)
    if w.worker_sd > 0:
        worker_effect += rng.normal(0.0, w.worker_sd, w.workers)
    if w.spread > 0:
        worker_effect += np.log(rng.uniform(1 - w.spread, 1 + w.spread, w.workers))
    effect = worker_effect[worker]
    y = (
        np.log(fare) + effect + np.log(np.where(g, w.ratio, 1.0))
        + rng.normal(0.0, w.noise_sd, n)
    )  # fmt: skip
    stratum = ((service * w.zones + zone) * w.days + day) * w.hours + hour
    units = {
        "y": y,
        "stratum": np.unique(stratum, return_inverse=True)[1].astype(np.int64),
        "cluster": worker.astype(np.int64),
        "distance_km": km,
        "trip_minutes": minutes,
    }
    return units, group


def _categorical(rng: np.random.Generator, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """One draw per row of ``weights`` (rows need not be normalised)."""
    cum = np.cumsum(weights, axis=-1)
    u = rng.random(cum.shape[0]) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).astype(np.int64)
