"""Prices, customers, tips, incentives, premiums and penalties of orders (integer cents).

The fare base is ``(base + per_km * distance_km + per_min * trip minutes) * zone price level *
surge(service, day type, hour) * noise``: the same formula for every worker and customer.
Customer segments have different order mixes (iOS users live more in central zones and ride
more) but, without a plant, pay the same price for the same order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._spec import SimulationSpec
from ._world import FOOD, PARCEL, RIDE, World

if TYPE_CHECKING:
    from ._orders import Orders

__all__ = [
    "COMPLAINT",
    "IMPROPER_CANCEL",
    "LATE",
    "SEGMENTS",
    "customer_pool_size",
    "draw_penalties",
    "price_orders",
]

#: Customer segments; `SEGMENTS[code]` is the contract's string.
SEGMENTS: tuple[str, ...] = ("ios", "android", "mini_program")
# Fare parameters in cents: base, per km, per trip minute.
_FARE = np.array([[700.0, 110.0, 14.0], [800.0, 140.0, 7.0], [850.0, 190.0, 36.0]])
_CANCEL_FEE = np.array([300, 300, 500])
_TIP_FACTOR = np.array([1.2, 0.6, 0.8])
_STAY = np.array([0.8, 0.6, 1.0])
LATE, COMPLAINT, IMPROPER_CANCEL = 1, 2, 3


def customer_pool_size(spec: SimulationSpec) -> int:
    """Customers per zone and segment (fixed by the spec so IDs do not depend on orders)."""
    return max(50, spec.workers * spec.days // 4)


def _choice(rng: np.random.Generator, values: list[int], p: list[float], n: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)[rng.choice(len(values), size=n, p=p)]


def _customers(
    spec: SimulationSpec, world: World, orders: Orders, rng: np.random.Generator
) -> None:
    n = len(orders)
    central = world.central[orders.zone]
    ride = orders.service == RIDE
    p_ios = 0.22 + 0.18 * central + 0.08 * ride
    p_mini = np.where(ride, 0.12, 0.42 - 0.15 * central)
    u = rng.random(n)
    orders.segment = np.where(u < p_ios, 0, np.where(u < p_ios + p_mini, 2, 1)).astype(np.int8)
    pool = customer_pool_size(spec)
    rank = (rng.random(n) ** 2 * pool).astype(np.int64)
    orders.customer = (orders.zone.astype(np.int64) * 3 + orders.segment) * pool + rank
    stay = np.where(ride, np.exp(-orders.distance_km / 5.0), _STAY[orders.service])
    step = np.where(rng.random(n) < 0.5, -1, 1)
    neighbour = np.clip(orders.zone + step, 0, len(world.zones) - 1)
    far = rng.choice(len(world.zones), size=n, p=world.demand / world.demand.sum())
    moved = np.where(ride, far, neighbour)
    orders.dropoff_zone = np.where(rng.random(n) < stay, orders.zone, moved).astype(np.int8)


def draw_penalties(
    service: np.ndarray, status: np.ndarray, hit: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Amount (cents) and kind of a penalty on each order where ``hit`` (0 elsewhere)."""
    n = len(service)
    complaint = (service == RIDE) | (rng.random(n) < 0.2)
    late_amount = np.rint(rng.uniform(2.0, 10.0, n) * 2.0) * 50.0
    complaint_amount = rng.integers(20, 51, n) * 100
    kind = np.where(status == 2, IMPROPER_CANCEL, np.where(complaint, COMPLAINT, LATE))
    amount = np.select(
        [kind == IMPROPER_CANCEL, kind == COMPLAINT], [500, complaint_amount], late_amount
    )
    return np.where(hit, amount, 0).astype(np.int64), np.where(hit, kind, 0).astype(np.int8)


def _penalties(spec: SimulationSpec, orders: Orders, rng: np.random.Generator) -> None:
    n = len(orders)
    done = orders.status == 0
    ride = orders.service == RIDE
    distance_risk = np.clip(0.4 + 0.25 * orders.distance_km, 0.5, 2.5)
    late_p = np.where(ride, 0.5, distance_risk) * spec.penalty_rate
    orders.late_p = np.where(done, late_p, np.where(orders.status == 2, 0.3, 0.0))
    hit = rng.random(n) < orders.late_p
    orders.penalty, orders.penalty_kind = draw_penalties(orders.service, orders.status, hit, rng)
    orders.penalty_delay = rng.integers(2 * 3600, 26 * 3600, n)
    orders.appealed = hit & (rng.random(n) < spec.appeal_rate)
    orders.upheld = orders.appealed & (rng.random(n) < spec.appeal_upheld_rate)


def price_orders(
    spec: SimulationSpec, world: World, orders: Orders, rng: np.random.Generator
) -> None:
    """Fill customers, fares, pass-through, incentives, tips, premiums and penalties in place."""
    n = len(orders)
    s = orders.service
    hour = (orders.accepted // 3600) % 24
    weekend = world.is_weekend(orders.accepted // 86400).astype(np.int64)
    done = orders.status == 0
    _customers(spec, world, orders, rng)
    raw = _FARE[s, 0] + _FARE[s, 1] * orders.distance_km + _FARE[s, 2] * orders.trip_min
    mult = world.price_level[orders.zone] * world.surge[s, weekend, hour]
    fare = np.rint(raw * mult * rng.lognormal(0.0, 0.04, n)).astype(np.int64)
    late_cancel = (orders.status == 1) & (orders.end - orders.accepted >= 180)
    orders.fare = np.where(done, fare, np.where(late_cancel, _CANCEL_FEE[s], 0))
    # A paid cancellation ends early: its dropoff is the cancellation time.
    orders.dropoff = np.where(late_cancel, orders.end, orders.dropoff)
    toll = (s == RIDE) & (orders.distance_km > 15) & (rng.random(n) < 0.3)
    toll_c = np.rint(rng.uniform(5.0, 20.0, n)) * 100
    orders.pass_through = np.where(done & (s == RIDE), 50 + np.where(toll, toll_c, 0), 0)
    orders.pass_through = orders.pass_through.astype(np.int64)
    bonus = done & (rng.random(n) < np.where(world.peak[s, weekend, hour], 0.10, 0.03))
    orders.incentive = np.where(
        bonus, _choice(rng, [100, 200, 300, 500], [0.4, 0.3, 0.2, 0.1], n), 0
    )
    tipped = done & (rng.random(n) < spec.tip_rate * _TIP_FACTOR[s])
    tips = _choice(rng, [200, 300, 500, 800, 1000], [0.3, 0.3, 0.25, 0.1, 0.05], n)
    orders.tip = np.where(tipped, tips, 0)
    two_wheel = (s == FOOD) | (s == PARCEL)
    orders.premium = np.where(two_wheel, 2 + np.minimum(3, orders.distance_km // 3), 5)
    orders.premium = orders.premium.astype(np.int64)
    _penalties(spec, orders, rng)
