"""Who works: worker attributes, habits and hidden traits.

Groups differ for legitimate reasons here: women more often ride e-bikes, prefer daytime
shifts and residential zones and work fewer hours; older workers work fewer hours and earlier
shifts. The hidden traits that set orders per online hour (``efficiency``) and speed are drawn
independently of gender and age, so within a zone, hour and service the order rate does not
depend on the group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._spec import SimulationSpec
from ._world import World

__all__ = ["AGE_BANDS", "GENDERS", "SHIFTS", "VEHICLES", "Workers", "draw_workers"]

GENDERS: tuple[str, ...] = ("M", "F")
AGE_BANDS: tuple[str, ...] = ("18-29", "30-39", "40-49", "50+")
VEHICLES: tuple[str, ...] = ("e_bike", "motorbike", "car")
#: Shift preferences; each has a preferred start hour and a typical extra break.
SHIFTS: tuple[str, ...] = ("morning", "day", "peaks", "evening", "night")
_SHIFT_START_H = np.array([7.5, 10.0, 10.5, 16.5, 19.5])
_SHIFT_BREAK_MIN = np.array([30.0, 45.0, 150.0, 30.0, 30.0])
_SHIFT_P = {
    0: np.array([0.12, 0.20, 0.33, 0.22, 0.13]),  # M
    1: np.array([0.18, 0.40, 0.30, 0.09, 0.03]),  # F
}
_AGE_SHIFT_TILT = np.array(
    [
        [0.8, 0.9, 1.0, 1.2, 1.4],
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [1.2, 1.1, 1.0, 0.9, 0.7],
        [1.6, 1.3, 0.9, 0.6, 0.3],
    ]
)
_AGE_HOURS = np.array([1.0, 1.0, 0.92, 0.8])


@dataclass(slots=True)
class Workers:
    """Per-worker arrays, index = worker number (``worker_id`` = ``W`` + number).

    Attributes:
        gender: 0 = M, 1 = F.
        age_band: index into `AGE_BANDS`.
        vehicle: index into `VEHICLES` (2 = car, which does rides only).
        home_zone: zone index.
        shift: index into `SHIFTS`.
        pref_start_h: preferred first-session start, local hours.
        break_extra_min: mean break length beyond the 85-minute minimum, minutes.
        p_day: probability of working on a given day.
        hours_mean: mean planned online hours on a working day.
        weekend_mult: factor on ``p_day`` at weekends.
        efficiency: multiplier on order arrival rates (mean 1, independent of group).
        speed: multiplier on travel speed (mean 1, independent of group).
        joined_day: day index of joining (negative = before ``start``).
        insured: buys the optional daily accident insurance (a deduction).
        tier_noise: noise of the platform's rating, in tier-score units.
    """

    gender: np.ndarray
    age_band: np.ndarray
    vehicle: np.ndarray
    home_zone: np.ndarray
    shift: np.ndarray
    pref_start_h: np.ndarray
    break_extra_min: np.ndarray
    p_day: np.ndarray
    hours_mean: np.ndarray
    weekend_mult: np.ndarray
    efficiency: np.ndarray
    speed: np.ndarray
    joined_day: np.ndarray
    insured: np.ndarray
    tier_noise: np.ndarray

    @property
    def n(self) -> int:
        """Number of workers."""
        return len(self.gender)

    @property
    def is_car(self) -> np.ndarray:
        """Whether each worker drives a car (rides) rather than a two-wheeler."""
        return self.vehicle == 2

    def attribute(self, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """Codes and labels of ``gender``, ``age_band`` or ``vehicle_type``."""
        if name == "gender":
            return self.gender, GENDERS
        if name == "age_band":
            return self.age_band, AGE_BANDS
        return self.vehicle, VEHICLES


def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).astype(np.int8)


def draw_workers(spec: SimulationSpec, world: World, rng: np.random.Generator) -> Workers:
    """Draw ``spec.workers`` workers with attributes, habits and hidden traits."""
    n = spec.workers
    gender = (rng.random(n) < spec.female_share).astype(np.int8)
    age_band = rng.choice(4, size=n, p=[0.34, 0.36, 0.2, 0.1]).astype(np.int8)
    # Cars: women drive less often; the male share is set so the overall share is car_share.
    f = spec.female_share
    p_car_f = spec.car_share * 0.5
    p_car_m = min((spec.car_share - f * p_car_f) / max(1.0 - f, 1e-9), 1.0)
    p_car = np.where(gender == 1, p_car_f, p_car_m)
    car = rng.random(n) < p_car
    e_bike = rng.random(n) < np.where(gender == 1, 0.8, 0.6)
    vehicle = np.where(car, 2, np.where(e_bike, 0, 1)).astype(np.int8)
    zone_w = world.demand**0.8
    residential = np.exp(2.5 * (1.0 - world.central))
    zone_p = np.where(gender[:, None] == 1, zone_w * residential, zone_w)
    home_zone = _categorical(rng, zone_p)
    shift_p = np.where(gender[:, None] == 1, _SHIFT_P[1], _SHIFT_P[0]) * _AGE_SHIFT_TILT[age_band]
    shift = _categorical(rng, shift_p)
    pref_start_h = _SHIFT_START_H[shift] + rng.normal(0.0, 0.5, n)
    intensity = rng.lognormal(0.0, 0.7, n)
    p_day = np.clip(1.0 - np.exp(-1.3 * intensity), 0.05, 0.95)
    hours_mean = (2.6 + 3.8 * intensity**0.7) * _AGE_HOURS[age_band]
    hours_mean = np.clip(hours_mean * np.where(gender == 1, 0.9, 1.0), 1.0, 8.0)
    weekend_mult = np.where((age_band == 0) & (intensity < 1.0), 1.3, 1.0)
    sigma = 0.15
    efficiency = rng.lognormal(-(sigma**2) / 2, sigma, n)
    speed = rng.lognormal(0.0, 0.08, n)
    joined_day = -np.minimum(rng.exponential(400.0, n).astype(np.int64) + 1, 1500)
    newcomer = rng.random(n) < 0.04
    if spec.days > 2:
        joined_day = np.where(newcomer, rng.integers(1, spec.days - 1, n), joined_day)
    insured = (vehicle != 2) & (rng.random(n) < 0.6)
    return Workers(
        gender=gender,
        age_band=age_band,
        vehicle=vehicle,
        home_zone=home_zone,
        shift=shift,
        pref_start_h=pref_start_h,
        break_extra_min=_SHIFT_BREAK_MIN[shift],
        p_day=p_day,
        hours_mean=hours_mean,
        weekend_mult=weekend_mult,
        efficiency=efficiency,
        speed=speed,
        joined_day=joined_day.astype(np.int64),
        insured=insured,
        tier_noise=rng.normal(0.0, 0.3, n),
    )
