"""Calibration worlds for PAY-05 (who lost pay when the pay rule changed), run through the
check's own engine code (``auditor.checks._rule_change.worker_changes``).

Each :class:`RuleWorld` draws completed orders over ``days`` local days, the rule changing
at the middle day. Workers have their own hours (a share of night work drawn per worker),
home zone and activity; an order's fare is what its distance and trip time pay at the hour's
surge and the zone's price level, with a little noise, and its pay the fare less the take
rate, rounded to the cent. The new rule adds ``step`` points of take to orders accepted at
night (``night_hours``) after the change, so night workers lose and day workers do not.

Worlds built to fool the check:

- ``dominant`` workers doing ``dominance`` times the orders of the others;
- ``movers``: a share of workers who, after the change, move their night work to the day
  (their own choice, not the rule; the work compared is then of another kind);
- ``rain``: a pay bonus for everyone on a random ``rain_share`` of dates (date-specific pay,
  which the learned rule cannot know);
- ``zones`` many and ``days`` few: kinds of work the window before never priced.

The truth is each worker's pay under the new rule over the old rule's pay for the same
orders, which the simulation knows exactly.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from auditor.checks._rule_change import summarise_changes, worker_changes

__all__ = ["RuleReplicates", "RuleWorld", "replicate_rule_changes", "rule_world"]

_START = datetime.date(2026, 3, 2)  # a Monday
_SURGE = np.array(
    [1.2, 1.2, 1.2, 1.1, 1.0, 1.0, 1.0, 1.1, 1.3, 1.2, 1.0, 1.1,
     1.3, 1.2, 1.0, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 1.1, 1.2, 1.2]
)  # fmt: skip
_USED = ("distance_km", "trip_minutes")


@dataclass(frozen=True, slots=True)
class RuleWorld:
    """One PAY-05 calibration world.

    Attributes:
        workers: workers.
        days: local days; the new rule takes effect on day ``days // 2``.
        orders_per_day: mean completed orders of an ordinary worker per day.
        zones: pickup zones.
        rate: the old take rate.
        step: take points the new rule adds at night (0: a change that cuts no pay).
        night_hours: local hours ``(from, to)`` of the night, wrapping midnight.
        dominant: workers doing ``dominance`` times the orders of the others.
        dominance: activity multiplier of the dominant workers.
        movers: share of workers who move their night work to the day after the change.
        rain: pay bonus (a fraction) for everyone on rainy dates.
        rain_share: share of dates that are rainy.
    """

    workers: int = 200
    days: int = 28
    orders_per_day: float = 4.0
    zones: int = 4
    rate: float = 0.20
    step: float = 0.0
    night_hours: tuple[int, int] = (20, 6)
    dominant: int = 0
    dominance: float = 10.0
    movers: float = 0.0
    rain: float = 0.0
    rain_share: float = 0.2


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One world's orders (an engine table's columns) and its per-worker truth."""

    table: pa.Table
    true_change: NDArray[np.float64]
    after_orders: NDArray[np.int64]
    before_orders: NDArray[np.int64]


def _draw(world: RuleWorld, seed: int) -> _Drawn:
    rng = np.random.default_rng(seed)
    w = world.workers
    activity = np.ones(w)
    activity[: world.dominant] = world.dominance
    night_share = rng.beta(0.6, 1.4, w)
    home = rng.integers(0, world.zones, w)
    mover = rng.random(w) < world.movers
    counts = rng.poisson(world.orders_per_day * world.days * activity)
    worker = np.repeat(np.arange(w), counts)
    n = len(worker)
    day = rng.integers(0, world.days, n)
    change = world.days // 2
    after = day >= change
    night_p = np.where(mover[worker] & after, 0.0, night_share[worker])
    lo, hi = world.night_hours
    hours = np.arange(24)
    is_night = (hours >= lo) | (hours < hi) if lo > hi else (hours >= lo) & (hours < hi)
    night_hours, day_hours = hours[is_night], hours[~is_night]
    at_night = rng.random(n) < night_p
    hour = np.where(
        at_night,
        rng.choice(night_hours, n) if len(night_hours) else 0,
        rng.choice(day_hours, n),
    )
    zone = np.where(rng.random(n) < 0.7, home[worker], rng.integers(0, world.zones, n))
    level = 1.0 + 0.1 * np.arange(world.zones)
    km = rng.lognormal(1.0, 0.6, n).round(2)
    minutes = (4.0 + 3.0 * km * rng.lognormal(0.0, 0.2, n)).round(1)
    fare = (5.0 + 1.8 * km + 0.4 * minutes) * _SURGE[hour] * level[zone]
    fare *= rng.lognormal(0.0, 0.04, n)
    rainy = rng.random(world.days) < world.rain_share
    bonus = 1.0 + world.rain * rainy[day]
    hit = after & np.isin(hour, night_hours)
    new_rate = np.where(hit, world.rate + world.step, world.rate)
    pay = np.round(fare * (1.0 - new_rate) * bonus, 2)
    old_pay = fare * (1.0 - world.rate) * bonus
    paid_after = np.bincount(worker[after], weights=pay[after], minlength=w)
    old_after = np.bincount(worker[after], weights=old_pay[after], minlength=w)
    count_after = np.bincount(worker[after], minlength=w)
    with np.errstate(invalid="ignore", divide="ignore"):
        truth = paid_after / old_after - 1.0
    weekend = (_START.weekday() + day) % 7 >= 5
    kind = (zone * 2 + weekend) * 24 + hour
    table = pa.table(
        {
            "worker_id": pa.array([f"w{i:05d}" for i in worker], pa.string()),
            "kind": pa.array(kind, pa.int32()),
            "local_date": pa.array(
                [_START + datetime.timedelta(days=int(d)) for d in day], pa.date32()
            ),
            "y": pa.array(pay, pa.float64()),
            "distance_km": pa.array(km, pa.float64()),
            "trip_minutes": pa.array(minutes, pa.float64()),
        }
    )
    return _Drawn(table, truth, count_after, np.bincount(worker[~after], minlength=w))


def rule_world(world: RuleWorld, seed: int) -> pa.Table:
    """One world's completed orders, with the columns ``worker_changes`` reads."""
    return _draw(world, seed).table


@dataclass(frozen=True, slots=True)
class RuleReplicates:
    """Per replicate: what PAY-05 estimates and the truth, over the same compared workers
    (those with at least the minimum orders after the change).

    Attributes:
        share_lost: share of compared workers whose change is below ``-materiality``.
        share_low, share_high: its Wilson interval.
        median, median_low, median_high: the median change and its interval.
        placebo_share: the share who lost at the placebo date (no change there).
        placebo_median: the median change at the placebo date.
        true_share: the true share who lost more than ``materiality``.
        true_median: the true median change.
    """

    share_lost: NDArray[np.float64]
    share_low: NDArray[np.float64]
    share_high: NDArray[np.float64]
    median: NDArray[np.float64]
    median_low: NDArray[np.float64]
    median_high: NDArray[np.float64]
    placebo_share: NDArray[np.float64]
    placebo_median: NDArray[np.float64]
    true_share: NDArray[np.float64]
    true_median: NDArray[np.float64]


def replicate_rule_changes(
    world: RuleWorld,
    replicates: int,
    seed: int,
    *,
    materiality: float = 0.05,
    min_orders: int = 20,
    level: float = 0.95,
) -> RuleReplicates:
    """Run PAY-05's engine code and statistics on ``replicates`` seeded draws of ``world``."""
    seeds = np.random.SeedSequence(seed).generate_state(replicates)
    start = _START
    on = _START + datetime.timedelta(days=world.days // 2)
    end = _START + datetime.timedelta(days=world.days)
    placebo = _START + datetime.timedelta(days=(world.days // 2) // 2)
    rows: dict[str, list[float]] = {f: [] for f in RuleReplicates.__dataclass_fields__}
    for s in seeds:
        drawn = _draw(world, int(s))
        units = ibis.memtable(drawn.table)
        found = worker_changes(units, _USED, start, on, end, min_orders)
        summary = summarise_changes(found, materiality, level, 1)
        before = worker_changes(units, _USED, start, placebo, on, min_orders)
        placebo_summary = summarise_changes(before, materiality, level, 1)
        enough = (drawn.after_orders >= min_orders) & (drawn.before_orders >= min_orders)
        truth = drawn.true_change[enough]
        lo, hi = summary.share_ci or (np.nan, np.nan)
        mlo, mhi = summary.median_ci_true
        rows["share_lost"].append(summary.share_lost if summary.share_lost is not None else np.nan)
        rows["share_low"].append(lo)
        rows["share_high"].append(hi)
        rows["median"].append(summary.median if summary.median is not None else np.nan)
        rows["median_low"].append(mlo)
        rows["median_high"].append(mhi)
        rows["placebo_share"].append(
            placebo_summary.share_lost if placebo_summary.share_lost is not None else np.nan
        )
        rows["placebo_median"].append(
            placebo_summary.median if placebo_summary.median is not None else np.nan
        )
        rows["true_share"].append(float((truth < -materiality).mean()) if len(truth) else np.nan)
        rows["true_median"].append(float(np.median(truth)) if len(truth) else np.nan)
    return RuleReplicates(**{k: np.asarray(v, dtype=np.float64) for k, v in rows.items()})
