"""Small synthetic worlds for calibrating the group-disparity statistics.

`simulate` builds whole platforms (seconds each); calibration needs thousands of replicates,
so these generators draw directly what the checks' estimators consume, with the features that
fool naive tests:

- groups that differ for legitimate reasons: the group works other zones and hours (with
  other demand) and does shorter trips;
- dates that pay everyone more (a rain or holiday bonus), which the group works less often;
- orders clustered in workers: a worker-level random effect (productivity, or pay), and
  heavy-tailed activity, optionally with a few very active workers dominating the group;
- sparse overlap: most of the group works where no reference worker does, and a few
  "bridging" workers carry the whole comparison;
- workers' own choices: a group that declines more of the same offers;
- overdispersed counts (gamma noise per cell), heavy low tails of pay (a few orders paid
  almost nothing), and a pay curve the model only approximates
  (``log(base + per_km * km + per_min * minutes)`` fitted by a quadratic in logs).

A planted effect multiplies the group's rate (or pay, or the value of the work it is offered)
by ``ratio``; ``ratio = 0`` excludes the group entirely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RateWorld", "WorkWorld", "draw_rate_cells", "draw_work_units"]


@dataclass(frozen=True, slots=True)
class RateWorld:
    """Offers (or penalties) per worker x zone x date x hour cell, with online hours (or
    accepted orders) as exposure.

    Attributes:
        workers: workers in the comparison (group and reference).
        group_share: share of workers in the group.
        ratio: the group's true rate ratio (1.0: no bias; 0: total exclusion).
        zones, days, hours: size of the stratum grid.
        productivity_sd: SD of the log worker random effect on the rate.
        activity_sd: SD of log worker activity (online cells); 1.0 is heavy-tailed.
        dominant: workers of the group made ``dominance`` times as active as the rest.
        dominance: activity multiplier of the dominant workers.
        overdispersion: variance of the gamma noise on each cell's rate.
        cells_per_worker: mean online cells (hours) per worker.
        legitimate: the group prefers low-demand zones and late hours.
        base_rate: events per unit of exposure in an average cell (offers per online
            hour; penalties per accepted order are ~0.01-0.03).
        exposure_scale: mean exposure per cell x 1.6 (1: up to an hour online per cell;
            30: up to 30 accepted orders per worker x stratum cell).
        bridges: sparse overlap: only this many group workers work the reference's zones;
            the rest of the group works zones no reference worker does (None: all share).
        accept_share: share of offers a reference worker accepts (the accepted view).
        declines: the group accepts ``accept_share * (1 - declines)`` of its offers.
        value: > 0: each offer carries a quoted pay, lognormal with this mean (DSP-03).
        value_sd: SD of log quoted pay.
        value_ratio: the group's mean quoted pay per offer relative to the reference's (steering
            to short trips).
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
    bridges: int | None = None
    accept_share: float = 0.7
    declines: float = 0.0
    value: float = 0.0
    value_sd: float = 0.5
    value_ratio: float = 1.0

    def truth_of(self, outcome: str) -> float:
        """The true ratio of ``outcome``: offers (``count``), accepted orders (``accepted``)
        or quoted pay (``money``) per unit of exposure."""
        if outcome == "accepted":
            return self.ratio * (1.0 - self.declines)
        if outcome == "money":
            return self.ratio * self.value_ratio
        return self.ratio


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


def _zones(
    rng: np.random.Generator,
    g: NDArray[np.bool_],
    zones: int,
    tilt: float,
    apart: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """A zone per row: the group leans to low-demand zones; rows of workers ``apart`` work
    zones ``zones..2 zones - 1``, which no one else works."""
    zone = _categorical(rng, np.exp(np.where(g[:, None], -tilt, 0.0) * np.linspace(-1, 1, zones)))
    return np.where(apart, zone + zones, zone)


def _apart(
    group: NDArray[np.bool_], bridges: int | None, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Group workers who work apart from the reference (all but ``bridges`` of the group)."""
    apart = np.zeros(len(group), bool)
    if bridges is not None:
        members = rng.permutation(np.nonzero(group)[0])
        apart[members[bridges:]] = True
    return apart


def _cells(
    cluster: NDArray[np.int64], stratum: NDArray[np.int64], **sums: NDArray[np.float64]
) -> dict[str, NDArray[Any]]:
    """Rows summed into cells of one cluster and one stratum (as the engine groups them)."""
    s = int(stratum.max()) + 1
    key, inv = np.unique(cluster * s + stratum, return_inverse=True)
    out: dict[str, NDArray[Any]] = {
        "cluster": (key // s).astype(np.int64),
        "stratum": np.unique(key % s, return_inverse=True)[1].astype(np.int64),
    }
    for name, values in sums.items():
        out[name] = np.bincount(inv, weights=values, minlength=len(key))
    return out


def draw_rate_cells(
    world: RateWorld, rng: np.random.Generator
) -> tuple[dict[str, NDArray[Any]], NDArray[np.bool_]]:
    """Cells ``count`` (offers), ``accepted``, ``money`` (quoted pay), ``exposure``,
    ``stratum``, ``cluster`` (one per worker and stratum) and each worker's group."""
    w = world
    group = _groups(w.workers, w.group_share, rng)
    act = _activity(w.workers, group, w.activity_sd, w.dominant, w.dominance, rng)
    apart_of = _apart(group, w.bridges, rng)
    n_cells = rng.poisson(w.cells_per_worker * act) + 1
    worker = np.repeat(np.arange(w.workers), n_cells)
    g = group[worker]
    demand = np.exp(np.linspace(-0.8, 0.8, w.zones))
    curve = 1.0 + 0.8 * np.sin(np.linspace(0, np.pi, w.hours))
    day_level = rng.lognormal(0.0, 0.1, w.days)
    # Zone and hour preferences: the group leans to low-demand zones and late hours.
    tilt = 1.5 if w.legitimate else 0.0
    zone = _zones(rng, g, w.zones, tilt, apart_of[worker])
    hour_logit = np.where(g[:, None], tilt, 0.0) * np.linspace(-1, 1, w.hours)[None, :]
    hour = _categorical(rng, np.exp(hour_logit))
    day = rng.integers(0, w.days, len(worker))
    exposure = rng.uniform(0.25, 1.0, len(worker)) * w.exposure_scale
    productivity = rng.normal(-(w.productivity_sd**2) / 2, w.productivity_sd, w.workers)
    shape = 1.0 / w.overdispersion if w.overdispersion > 0 else np.inf
    noise = rng.gamma(shape, 1.0 / shape, len(worker)) if np.isfinite(shape) else 1.0
    rate = (
        w.base_rate * demand[zone % w.zones] * curve[hour] * day_level[day]
        * np.exp(productivity[worker]) * np.where(g, w.ratio, 1.0) * noise
    )  # fmt: skip
    count = rng.poisson(exposure * rate)
    accept = w.accept_share * np.where(g, 1.0 - w.declines, 1.0)
    accepted = rng.binomial(count, accept).astype(np.float64)
    money: NDArray[Any] = np.zeros(len(worker))
    if w.value > 0:
        # Each offer's quoted pay: lognormal, its mean x value_ratio for the group.
        mean = w.value * np.where(g, w.value_ratio, 1.0)
        offer_row = np.repeat(np.arange(len(worker)), count)
        mu = np.log(mean[offer_row]) - w.value_sd**2 / 2
        pay = rng.lognormal(mu, w.value_sd)
        money = np.bincount(offer_row, weights=pay, minlength=len(worker))
    stratum = (zone * w.days + day) * w.hours + hour
    cells = _cells(
        worker.astype(np.int64), stratum.astype(np.int64), count=count.astype(np.float64),
        accepted=accepted, money=money, exposure=exposure,
    )  # fmt: skip
    return cells, group


@dataclass(frozen=True, slots=True)
class WorkWorld:
    """Orders with pay (or price), strata, trip distance and minutes.

    Attributes:
        workers: clusters (workers, or customers) in the comparison.
        group_share: share of clusters in the group.
        ratio: the group's true pay (price) ratio for the same work.
        orders_per_worker: mean orders per cluster.
        activity_sd, dominant, dominance, bridges: as in `RateWorld`.
        worker_sd: SD of a log worker effect on pay, independent of the group (e.g. a
            legitimate per-worker bonus); 0 for FEE-05's null.
        spread: planted personalised pay: each worker's pay is multiplied by
            uniform(1 - spread, 1 + spread) (FEE-05).
        noise_sd: SD of the per-order log pay noise.
        zones, days, hours, services: stratum grid (dates, not day types).
        legitimate: the group works other zones and hours, and does shorter trips.
        bonus_days: the first this many dates pay everyone ``1 + bonus`` times as much.
        bonus: the date bonus.
        bonus_share: the group's propensity to work a bonus date, relative to others'.
        low_tail: share of the group's orders paid ``low_factor`` of their pay (near zero).
        low_factor: what those orders are paid, as a share of their pay.
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
    bonus_days: int = 0
    bonus: float = 0.15
    bonus_share: float = 1.0
    low_tail: float = 0.0
    low_factor: float = 0.005
    bridges: int | None = None

    def truth_of(self, outcome: str) -> float:
        """The true ratio of mean pay for the same work (``pay``), or of geometric-mean pay
        (``geometric``)."""
        if outcome == "geometric":
            return self.ratio * math.exp(self.low_tail * math.log(self.low_factor))
        return self.ratio * (1.0 - self.low_tail * (1.0 - self.low_factor))


_FARE = np.array([[7.0, 1.1, 0.14], [8.0, 1.4, 0.07], [8.5, 1.9, 0.36]])


def draw_work_units(
    world: WorkWorld, rng: np.random.Generator
) -> tuple[dict[str, NDArray[Any]], NDArray[np.bool_]]:
    """Units ``y`` (money), ``stratum`` (service x zone x date x hour), ``kind`` (service x
    zone x day type x hour), ``cluster``, ``distance_km``, ``trip_minutes`` and each cluster's
    group."""
    w = world
    group = _groups(w.workers, w.group_share, rng)
    act = _activity(w.workers, group, w.activity_sd, w.dominant, w.dominance, rng)
    apart_of = _apart(group, w.bridges, rng)
    n_orders = rng.poisson(w.orders_per_worker * act) + 2
    worker = np.repeat(np.arange(w.workers), n_orders)
    g = group[worker]
    n = len(worker)
    tilt = 1.5 if w.legitimate else 0.0
    zone = _zones(rng, g, w.zones, tilt, apart_of[worker])
    hour = _categorical(rng, np.exp(np.where(g[:, None], tilt, 0.0) * np.linspace(-1, 1, w.hours)))
    day_weight = np.ones(w.days)
    bonus_day = np.arange(w.days) < w.bonus_days
    day_weights = np.where(g[:, None], np.where(bonus_day, w.bonus_share, 1.0), day_weight)
    day = _categorical(rng, day_weights)
    service = rng.integers(0, w.services, n)
    mean_km = np.where(g & w.legitimate, 2.5, 4.0)
    km = rng.lognormal(np.log(mean_km) - 0.18, 0.6, n) + 0.3
    pace = rng.lognormal(0.0, 0.15, w.workers)[worker]
    minutes = km * 3.0 * pace + rng.uniform(2.0, 6.0, n)
    level = rng.lognormal(0.0, 0.1, 2 * w.zones)[zone] * rng.lognormal(0.0, 0.08, w.hours)[hour]
    level = level * np.where(bonus_day[day], 1.0 + w.bonus, 1.0)
    f = _FARE[service]
    fare = (f[:, 0] + f[:, 1] * km + f[:, 2] * minutes) * level
    worker_effect = np.zeros(w.workers)
    if w.worker_sd > 0:
        worker_effect += rng.normal(0.0, w.worker_sd, w.workers)
    if w.spread > 0:
        worker_effect += np.log(rng.uniform(1 - w.spread, 1 + w.spread, w.workers))
    effect = worker_effect[worker]
    y = fare * np.exp(effect + rng.normal(0.0, w.noise_sd, n)) * np.where(g, w.ratio, 1.0)
    if w.low_tail > 0:
        y = np.where(g & (rng.random(n) < w.low_tail), y * w.low_factor, y)
    stratum = (((service * 2 * w.zones + zone) * w.days + day) * w.hours + hour).astype(np.int64)
    weekend = (day % 7 >= 5).astype(np.int64)
    kind = ((service * 2 * w.zones + zone) * 2 + weekend) * w.hours + hour
    units = {
        "y": y,
        "stratum": np.unique(stratum, return_inverse=True)[1].astype(np.int64),
        "kind": np.unique(kind, return_inverse=True)[1].astype(np.int64),
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
