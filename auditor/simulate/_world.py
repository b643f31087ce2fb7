"""The market the workers operate in: zones, hourly demand, prices and the local clock.

Internally every time is a *wall-clock second*: seconds since local midnight of
``SimulationSpec.start`` on the local clock (so ``wall // 3600 % 24`` is the local hour and
``wall // 86400`` the local day index). `World.to_utc_us` turns wall seconds into UTC
microseconds using the UTC offset of a given local day, so a session keeps one offset even
across a daylight-saving change.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import numpy as np

from ._spec import SimulationSpec

__all__ = ["FOOD", "PARCEL", "RIDE", "SERVICES", "World", "build_world"]

#: Service codes used internally; `SERVICES[code]` is the contract's string.
FOOD, PARCEL, RIDE = 0, 1, 2
SERVICES: tuple[str, ...] = ("food_delivery", "parcel", "ride")

# Orders per online hour, by local hour, at zone demand 1 (weekday).
_FOOD = [
    0.55,
    0.4,
    0.25,
    0.15,
    0.15,
    0.2,
    0.45,
    0.75,
    0.85,
    0.8,
    1.0,
    1.6,
    1.7,
    1.25,
    0.85,
    0.8,
    0.95,
    1.4,
    1.65,
    1.55,
    1.2,
    1.0,
    0.85,
    0.7,
]
_PARCEL = [
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.02,
    0.1,
    0.4,
    0.8,
    1.0,
    1.1,
    1.1,
    0.9,
    1.0,
    1.1,
    1.1,
    1.0,
    0.9,
    0.7,
    0.5,
    0.4,
    0.3,
    0.15,
    0.05,
]
_RIDE = [
    0.5,
    0.35,
    0.25,
    0.2,
    0.2,
    0.35,
    0.8,
    1.6,
    1.8,
    1.2,
    0.9,
    0.9,
    1.0,
    0.9,
    0.85,
    0.9,
    1.1,
    1.6,
    1.8,
    1.3,
    1.0,
    1.0,
    0.9,
    0.7,
]
# Base arrival rates (orders per online hour) per service at profile 1 and demand 1.
_BASE_RATE = {FOOD: 3.5, PARCEL: 0.65, RIDE: 4.2}


@dataclass(frozen=True, slots=True)
class World:
    """Zones, demand and prices of the simulated city.

    Attributes:
        zones: zone names ``Z01``..
        demand: relative order demand per zone (mean 1).
        price_level: fare multiplier per zone (central zones are dearer).
        central: centrality per zone in [0, 1] (1 = city centre).
        rate: orders per online hour, shape (3 services, 2 [weekday, weekend], 24 hours), at
            zone demand 1; multiply by ``demand[zone]``.
        surge: fare multiplier, same shape as ``rate``.
        peak: whether the service is at a demand peak, same shape as ``rate``.
        day_offset_s: UTC offset in seconds of each local day ``-1 .. days + 16``
            (index ``day + 1``).
        start_naive_s: ``start`` midnight as seconds since 1970-01-01 on a naive clock.
        weekday0: weekday of ``start`` (Monday = 0).
        timezone: IANA zone name.
        days: simulated days.
    """

    zones: tuple[str, ...]
    demand: np.ndarray
    price_level: np.ndarray
    central: np.ndarray
    rate: np.ndarray
    surge: np.ndarray
    peak: np.ndarray
    day_offset_s: np.ndarray
    start_naive_s: int
    weekday0: int
    timezone: str
    days: int

    def is_weekend(self, day: np.ndarray) -> np.ndarray:
        """Whether local day index ``day`` (0 = start) is a Saturday or Sunday."""
        return ((self.weekday0 + day) % 7) >= 5

    def offset_of_day(self, day: np.ndarray) -> np.ndarray:
        """UTC offset in seconds of local day index ``day``."""
        return self.day_offset_s[np.clip(day + 1, 0, len(self.day_offset_s) - 1)]

    def to_utc_us(self, wall: np.ndarray, day: np.ndarray) -> np.ndarray:
        """UTC microseconds since the epoch of wall seconds ``wall`` on local day ``day``."""
        return (self.start_naive_s + wall.astype(np.int64) - self.offset_of_day(day)) * 1_000_000

    def date_of_day(self, day: int) -> datetime.date:
        """The local date of day index ``day``."""
        return datetime.date.fromordinal(self.start_ordinal + int(day))

    @property
    def start_ordinal(self) -> int:
        """Proleptic Gregorian ordinal of ``start``."""
        return int(self.start_naive_s // 86400) + datetime.date(1970, 1, 1).toordinal()


def _day_offsets(spec: SimulationSpec) -> np.ndarray:
    tz = zoneinfo.ZoneInfo(spec.timezone)
    out = []
    for d in range(-1, spec.days + 17):
        noon = datetime.datetime.combine(
            spec.start + datetime.timedelta(days=d), datetime.time(12), tzinfo=tz
        )
        offset = noon.utcoffset()
        out.append(0 if offset is None else int(offset.total_seconds()))
    return np.asarray(out, dtype=np.int64)


def _profiles() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rate = np.zeros((3, 2, 24))
    food, parcel, ride = (np.asarray(p) for p in (_FOOD, _PARCEL, _RIDE))
    rate[FOOD, 0] = food
    weekend_food = food.copy()
    weekend_food[[11, 12, 13, 17, 18, 19, 20]] *= 1.12
    weekend_food[6:10] *= 0.8
    rate[FOOD, 1] = weekend_food
    rate[PARCEL, 0] = parcel
    rate[PARCEL, 1] = parcel * 0.6
    rate[RIDE, 0] = ride
    weekend_ride = ride.copy()
    weekend_ride[[7, 8]] = [0.8, 0.95]
    weekend_ride[[17, 18]] = [1.3, 1.3]
    weekend_ride[[21, 22, 23, 0, 1]] *= 1.4
    rate[RIDE, 1] = weekend_ride
    # Fares: peak surcharge where demand is high, night surcharge 22:00-05:59.
    surge = 1.0 + 0.25 * np.clip(rate - 1.3, 0.0, 1.0)
    night = np.r_[0:6, 22:24]
    surge[:, :, night] += 0.15
    peak = rate >= 1.5
    for s, base in _BASE_RATE.items():
        rate[s] *= base
    return rate, surge, peak


def _service_scale(spec: SimulationSpec) -> np.ndarray:
    scale = np.full((3, 1, 1), spec.demand_scale)
    scale[FOOD] *= (1.0 - spec.parcel_share) / 0.88
    scale[PARCEL] *= spec.parcel_share / 0.12
    return scale


def build_world(spec: SimulationSpec, rng: np.random.Generator) -> World:
    """Draw the city for ``spec``: zone demand and prices vary by seed, hour profiles do not."""
    z = spec.zones
    central = np.clip(1.0 - np.arange(z) / max(z - 1, 1), 0.0, 1.0)
    demand = (0.7 + 0.7 * central) * rng.lognormal(0.0, 0.1, z)
    demand = demand / demand.mean()
    price_level = 0.92 + 0.2 * central + rng.normal(0.0, 0.02, z)
    rate, surge, peak = _profiles()
    start_naive = (spec.start - datetime.date(1970, 1, 1)).days * 86400
    return World(
        zones=tuple(f"Z{i + 1:02d}" for i in range(z)),
        demand=demand,
        price_level=price_level,
        central=central,
        rate=rate * _service_scale(spec),
        surge=surge,
        peak=peak,
        day_offset_s=_day_offsets(spec),
        start_naive_s=start_naive,
        weekday0=spec.start.weekday(),
        timezone=spec.timezone,
        days=spec.days,
    )
