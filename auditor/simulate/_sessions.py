"""When workers are online: daily schedules, hour slices and who is online where.

A working day has one to three sessions of at most 3 hours, separated by breaks of at least 85
minutes. A session is the time a worker is online *and available*: orders are accepted only
inside it, at the rate of its zone and hour, so online hours are exactly the exposure of the
arrival process. Orders accepted near its end are finished after it (within 55 minutes), as a
worker who stops taking orders still completes those in hand. Without a plant no worker is
online more than 3 hours without a break, nor more than 12 hours in a local day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._spec import SimulationSpec
from ._workers import Workers
from ._world import World

__all__ = [
    "OnlineIndex",
    "Sessions",
    "Slices",
    "build_online_index",
    "plan_sessions",
    "slice_intervals",
]

_MAX_PLANNED_H = 3.0
_MIN_SESSION_H = 0.5
_TAIL_S = 55 * 60
_NIGHT = 4


@dataclass(slots=True)
class Sessions:
    """Online sessions, sorted by worker then time.

    Attributes:
        worker: worker number.
        day: local day index the session belongs to (its UTC offset is used throughout).
        on: wall-clock second the worker went online.
        planned_off: wall-clock second the worker stops accepting orders.
        hard_end: latest wall-clock second an order of this session may end.
        off: wall-clock second the worker went offline (``planned_off`` unless HRS-01 moved it).
        zone: zone index where the session is (orders are picked up there).
    """

    worker: np.ndarray
    day: np.ndarray
    on: np.ndarray
    planned_off: np.ndarray
    hard_end: np.ndarray
    off: np.ndarray
    zone: np.ndarray

    def __len__(self) -> int:
        return len(self.worker)


@dataclass(slots=True)
class Slices:
    """Intervals cut at local hour boundaries (one row per interval and clock hour).

    Attributes:
        interval: index of the interval cut.
        start: wall-clock second the slice starts.
        end: wall-clock second the slice ends (exclusive).
        hour_abs: clock hour since ``start`` midnight (``hour_abs % 24`` = local hour).
    """

    interval: np.ndarray
    start: np.ndarray
    end: np.ndarray
    hour_abs: np.ndarray


@dataclass(slots=True)
class OnlineIndex:
    """Who is online in a zone and hour, to pick the other workers an order is offered to.

    Attributes:
        worker: worker of each slice, sorted by ``key``.
        start: slice start, wall-clock seconds, sorted by ``key``.
        end: slice end, wall-clock seconds, sorted by ``key``.
        key: ``(zone * 2 + is_car) * n_hours + hour_abs``, sorted ascending.
        n_hours: number of clock hours covered.
    """

    worker: np.ndarray
    start: np.ndarray
    end: np.ndarray
    key: np.ndarray
    n_hours: int


def plan_sessions(
    spec: SimulationSpec, world: World, workers: Workers, rng: np.random.Generator
) -> Sessions:
    """Draw which days each worker works and the sessions of each working day."""
    n_w, n_d = workers.n, spec.days
    days = np.arange(n_d)
    p = workers.p_day[:, None] * np.where(
        world.is_weekend(days)[None, :], workers.weekend_mult[:, None], 1.0
    )
    active = (rng.random((n_w, n_d)) < p) & (days[None, :] >= workers.joined_day[:, None])
    w, d = np.nonzero(active)
    n = len(w)
    night = workers.shift[w] == _NIGHT
    hours = workers.hours_mean[w] * rng.lognormal(0.0, 0.25, n)
    hours = np.clip(hours, 0.75, np.where(night, 7.0, 8.0))
    k = np.clip(np.ceil(hours / _MAX_PLANNED_H), 1, 3).astype(np.int64)
    length = (hours / k)[:, None] * rng.uniform(0.85, 1.15, (n, 3))
    length = np.clip(length, _MIN_SESSION_H, _MAX_PLANNED_H)
    first = workers.pref_start_h[w] + rng.normal(0.0, 0.6, n)
    first = np.maximum(first, np.where(night, 17.0, 5.5))
    brk = 85.0 / 60.0 + rng.exponential(1.0, (n, 2)) * workers.break_extra_min[w][:, None] / 60
    start = np.empty((n, 3))
    start[:, 0] = first
    start[:, 1] = start[:, 0] + length[:, 0] + brk[:, 0]
    start[:, 2] = start[:, 1] + length[:, 1] + brk[:, 1]
    limit = np.where(night, 25.5, 23.0)[:, None]
    length = np.minimum(length, limit - start)
    valid = (np.arange(3)[None, :] < k[:, None]) & (length >= _MIN_SESSION_H)
    valid &= np.cumprod(valid, axis=1).astype(bool)
    row, col = np.nonzero(valid)
    on = d[row] * 86400 + np.rint(start[row, col] * 3600).astype(np.int64)
    planned_off = on + np.rint(length[row, col] * 3600).astype(np.int64)
    worker = w[row].astype(np.int32)
    zone = workers.home_zone[worker].astype(np.int8)
    away_p = np.where(workers.is_car[worker], 0.5, 0.25)
    away = rng.random(len(row)) < away_p
    zone_p = world.demand / world.demand.sum()
    zone = np.where(away, rng.choice(len(zone_p), size=len(row), p=zone_p), zone).astype(np.int8)
    return Sessions(
        worker=worker,
        day=d[row].astype(np.int32),
        on=on,
        planned_off=planned_off,
        hard_end=planned_off + _TAIL_S,
        off=planned_off.copy(),
        zone=zone,
    )


def slice_intervals(start: np.ndarray, end: np.ndarray) -> Slices:
    """Cut intervals ``[start, end)`` (wall-clock seconds) at clock-hour boundaries."""
    first = start // 3600
    last = (np.maximum(end, start + 1) - 1) // 3600
    count = (last - first + 1).astype(np.int64)
    interval = np.repeat(np.arange(len(start), dtype=np.int64), count)
    offsets = np.arange(len(interval)) - np.repeat(np.cumsum(count) - count, count)
    hour_abs = first[interval] + offsets
    s = np.maximum(start[interval], hour_abs * 3600)
    e = np.minimum(end[interval], (hour_abs + 1) * 3600)
    keep = e > s
    return Slices(interval=interval[keep], start=s[keep], end=e[keep], hour_abs=hour_abs[keep])


def build_online_index(sessions: Sessions, workers: Workers, n_days: int) -> OnlineIndex:
    """Index the planned online time of ``sessions`` by zone, vehicle class and clock hour."""
    sl = slice_intervals(sessions.on, sessions.planned_off)
    n_hours = (n_days + 2) * 24
    worker = sessions.worker[sl.interval]
    key = (
        sessions.zone[sl.interval].astype(np.int64) * 2 + workers.is_car[worker]
    ) * n_hours + sl.hour_abs
    order = np.argsort(key, kind="stable")
    return OnlineIndex(
        worker=worker[order],
        start=sl.start[order],
        end=sl.end[order],
        key=key[order],
        n_hours=n_hours,
    )
