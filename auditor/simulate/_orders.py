"""Orders inside online time: arrivals, trips, cancellations.

Orders arrive as a Poisson process whose rate per online hour is
``world.rate[service, weekend, hour] * world.demand[zone] * worker.efficiency``: it depends on
zone, hour, day type and service and on a worker trait drawn independently of gender and age,
never on the group. Deliveries overlap freely (a rider carries several at once at peaks); a
ride arriving while the driver is still busy with an earlier one goes to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import NA
from ._money import price_orders
from ._offers import Offers, draw_offers
from ._sessions import OnlineIndex, slice_intervals
from ._spec import SimulationSpec
from ._workers import Workers
from ._world import FOOD, PARCEL, RIDE, World

__all__ = ["STATUSES", "Intervals", "Orders", "generate_orders"]

#: Status codes; `STATUSES[code]` is the contract's string.
STATUSES: tuple[str, ...] = (
    "completed",
    "cancelled_by_customer",
    "cancelled_by_worker",
    "cancelled_by_platform",
)
_VEHICLE_KMH = np.array([15.0, 20.0, 26.0])
_DIST = {FOOD: (2.2, 0.5, 0.3, 7.0), PARCEL: (4.0, 0.55, 0.5, 15.0), RIDE: (6.5, 0.65, 1.0, 45.0)}
_APPROACH = {FOOD: (0.9, 0.6, 0.05, 4.0), PARCEL: (1.5, 0.6, 0.1, 6.0), RIDE: (1.2, 0.6, 0.1, 6.0)}
_WAIT_S = {FOOD: (120, 600), PARCEL: (60, 300), RIDE: (30, 180)}
_HANDOVER_S = {FOOD: (60, 240), PARCEL: (60, 300), RIDE: (20, 90)}
_TWO_WHEEL_MAX_S = 54 * 60  # under the 55-minute finishing allowance of a session
_BIG = 10**9
_MAX_CARRIED = 6


def _free_chain(
    start: np.ndarray, end: np.ndarray, group: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Among rows ``mask``, those a single server takes in turn: the first of each group, then
    the first starting after the previous taken one ended (non-paralysable dead time).

    ``start`` must be sorted within ``group`` and groups contiguous and ascending.
    """
    rows = np.nonzero(mask)[0]
    taken = np.zeros(len(start), dtype=bool)
    if len(rows) == 0:
        return taken
    g = group[rows].astype(np.int64)
    key = g * _BIG + start[rows]
    nxt = np.searchsorted(key, g * _BIG + end[rows], side="left")
    nxt_ok = np.minimum(nxt, len(rows) - 1)
    nxt = np.where((nxt < len(rows)) & (g[nxt_ok] == g), nxt, -1)
    frontier = np.nonzero(np.r_[True, g[1:] != g[:-1]])[0]
    sub_taken = np.zeros(len(rows), dtype=bool)
    while len(frontier):
        sub_taken[frontier] = True
        frontier = nxt[frontier]
        frontier = frontier[frontier >= 0]
    taken[rows] = sub_taken
    return taken


def _carrying(start: np.ndarray, end: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Orders of the same group started before each order and not yet ended at its start.

    ``start`` must be sorted within ``group`` and groups contiguous and ascending.
    """
    base = group.astype(np.int64) * _BIG
    ends = np.sort(base + end)
    ended = np.searchsorted(ends, base + start, side="right")
    first_end = np.searchsorted(ends, base, side="left")
    first = np.searchsorted(base, base, side="left")
    return (np.arange(len(start)) - first) - (ended - first_end)


@dataclass(slots=True)
class Intervals:
    """Online intervals to fill with orders.

    Attributes:
        session: session index each interval belongs to.
        worker: worker number.
        day: local day index (for the UTC offset).
        zone: zone index.
        start: wall-clock second arrivals start.
        stop: wall-clock second arrivals stop (exclusive).
        hard_end: latest wall-clock second an order may end (later ones are refused).
    """

    session: np.ndarray
    worker: np.ndarray
    day: np.ndarray
    zone: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    hard_end: np.ndarray


@dataclass(slots=True)
class Orders:
    """Accepted orders (money in integer cents, times in wall-clock seconds, NA = missing).

    ``fare`` is the fare base (customer price less pass-through); ``rate`` the actual take
    rate; ``hidden_frac`` an undisclosed fee as a fraction of quoted pay; ``quote_cut`` a
    disclosed cut of quoted pay (paid below the quote, the commission declared with it);
    ``tip_cut`` the fraction of the tip kept by the platform; ``tip_offset`` the fraction of
    the tip the platform takes out of its own quoted pay (FEE-07). Worker pay, declared commission
    and tips credited are derived from them in `settle`. ``end`` is when the worker is free
    again (dropoff, or the cancellation). ``premium`` is NA where missing; ``premium_payer``
    0 = platform, 1 = worker.
    """

    session: np.ndarray
    worker: np.ndarray
    day: np.ndarray
    service: np.ndarray
    status: np.ndarray
    requested: np.ndarray
    accepted: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    end: np.ndarray
    zone: np.ndarray
    dropoff_zone: np.ndarray
    distance_km: np.ndarray
    approach_km: np.ndarray
    trip_min: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    fare: np.ndarray
    pass_through: np.ndarray
    rate: np.ndarray
    hidden_frac: np.ndarray
    quote_cut: np.ndarray
    incentive: np.ndarray
    tip: np.ndarray
    tip_cut: np.ndarray
    tip_offset: np.ndarray
    premium: np.ndarray
    premium_payer: np.ndarray
    late_p: np.ndarray
    penalty: np.ndarray
    penalty_kind: np.ndarray
    penalty_delay: np.ndarray
    appealed: np.ndarray
    upheld: np.ndarray

    def __len__(self) -> int:
        return len(self.worker)


def _lognormal(
    rng: np.random.Generator,
    service: np.ndarray,
    table: dict[int, tuple[float, float, float, float]],
) -> np.ndarray:
    median = np.array([table[s][0] for s in (FOOD, PARCEL, RIDE)])[service]
    sigma = np.array([table[s][1] for s in (FOOD, PARCEL, RIDE)])[service]
    low = np.array([table[s][2] for s in (FOOD, PARCEL, RIDE)])[service]
    high = np.array([table[s][3] for s in (FOOD, PARCEL, RIDE)])[service]
    return np.clip(median * np.exp(sigma * rng.standard_normal(len(service))), low, high)


def _uniform(
    rng: np.random.Generator, service: np.ndarray, table: dict[int, tuple[int, int]]
) -> np.ndarray:
    low = np.array([table[s][0] for s in (FOOD, PARCEL, RIDE)])[service]
    high = np.array([table[s][1] for s in (FOOD, PARCEL, RIDE)])[service]
    return low + rng.random(len(service)) * (high - low)


def _arrivals(
    iv: Intervals, world: World, workers: Workers, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival times, interval index and service of each arriving order, time-sorted."""
    sl = slice_intervals(iv.start, iv.stop)
    w = iv.worker[sl.interval]
    car = workers.is_car[w]
    hour = sl.hour_abs % 24
    weekend = world.is_weekend(sl.hour_abs // 24).astype(np.int64)
    base = world.demand[iv.zone[sl.interval]] * workers.efficiency[w]
    lam_food = np.where(car, 0.0, world.rate[FOOD, weekend, hour] * base)
    lam_parcel = np.where(car, 0.0, world.rate[PARCEL, weekend, hour] * base)
    lam_ride = np.where(car, world.rate[RIDE, weekend, hour] * base, 0.0)
    lam = lam_food + lam_parcel + lam_ride
    span = sl.end - sl.start
    count = rng.poisson(lam * span / 3600.0)
    si = np.repeat(np.arange(len(span)), count)
    offset = (rng.random(len(si)) * span[si]).astype(np.int64)
    order = np.argsort(si * 3600 + offset, kind="stable")
    si, offset = si[order], offset[order]
    p_parcel = lam_parcel[si] / np.maximum(lam_food[si] + lam_parcel[si], 1e-12)
    service = np.where(car[si], RIDE, np.where(rng.random(len(si)) < p_parcel, PARCEL, FOOD))
    return sl.start[si] + offset, sl.interval[si], service.astype(np.int8)


def generate_orders(
    spec: SimulationSpec,
    world: World,
    workers: Workers,
    iv: Intervals,
    online: OnlineIndex,
    rng: np.random.Generator,
) -> tuple[Orders, Offers]:
    """Fill the intervals ``iv`` with accepted orders and the offers that led to them."""
    orders, start = _trips(spec, world, workers, iv, rng)
    price_orders(spec, world, orders, rng)
    offers = draw_offers(workers, orders, start, online, rng)
    return orders, offers


def _trips(
    spec: SimulationSpec, world: World, workers: Workers, iv: Intervals, rng: np.random.Generator
) -> tuple[Orders, np.ndarray]:
    """Accepted orders with times, trips and status; and the start of their interval."""
    accepted, interval, service = _arrivals(iv, world, workers, rng)
    n = len(accepted)
    worker = iv.worker[interval]
    hour = (accepted // 3600) % 24
    distance = _lognormal(rng, service, _DIST)
    older = (workers.age_band[worker] == 3) & (service != RIDE)
    distance = np.where(older, np.maximum(distance * 0.85, 0.3), distance)
    approach = _lognormal(rng, service, _APPROACH)
    peak = np.isin(hour, (7, 8, 17, 18))
    congestion = np.where(peak, np.where(service == RIDE, 0.8, 0.92), 1.0)
    kmh = _VEHICLE_KMH[workers.vehicle[worker]] * workers.speed[worker] * congestion
    to_pickup = approach / kmh * 3600 + _uniform(rng, service, _WAIT_S)
    trip = distance / kmh * 3600 + _uniform(rng, service, _HANDOVER_S)
    squeeze = np.where(service == RIDE, 1.0, np.minimum(1.0, _TWO_WHEEL_MAX_S / (to_pickup + trip)))
    to_pickup = (to_pickup * squeeze).astype(np.int64) + 1
    trip = (trip * squeeze).astype(np.int64) + 1
    u = rng.random(n)
    c = spec.cancel_rate
    status = np.select([u < 0.625 * c, u < 0.875 * c, u < c], [1, 2, 3], 0).astype(np.int8)
    cancel_at = accepted + (to_pickup * rng.uniform(0.1, 0.95, n)).astype(np.int64)
    pickup = np.where(status == 0, accepted + to_pickup, NA)
    dropoff = np.where(status == 0, accepted + to_pickup + trip, NA)
    end = np.where(status == 0, dropoff, cancel_at)
    # A driver carries one ride at a time: a ride arriving while busy goes to someone else.
    busy = (service == RIDE) & ~_free_chain(accepted, end, interval, service == RIDE)
    busy |= (service != RIDE) & (_carrying(accepted, end, interval) >= _MAX_CARRIED)
    k = np.nonzero(~busy & (end <= iv.hard_end[interval]))[0]
    interval, m = interval[k], len(k)
    orders = Orders(
        session=iv.session[interval],
        worker=worker[k],
        day=iv.day[interval],
        service=service[k],
        status=status[k],
        requested=accepted[k],
        accepted=accepted[k],
        pickup=pickup[k],
        dropoff=dropoff[k],
        end=end[k],
        zone=iv.zone[interval].astype(np.int8),
        dropoff_zone=np.zeros(m, np.int8),
        distance_km=np.round(distance[k], 2),
        approach_km=np.round(approach[k], 2),
        trip_min=trip[k] / 60.0,
        customer=np.zeros(m, np.int64),
        segment=np.zeros(m, np.int8),
        fare=np.zeros(m, np.int64),
        pass_through=np.zeros(m, np.int64),
        rate=np.full(m, spec.commission_rate),
        hidden_frac=np.zeros(m),
        quote_cut=np.zeros(m),
        incentive=np.zeros(m, np.int64),
        tip=np.zeros(m, np.int64),
        tip_cut=np.zeros(m),
        tip_offset=np.zeros(m),
        premium=np.zeros(m, np.int64),
        premium_payer=np.zeros(m, np.int8),
        late_p=np.zeros(m),
        penalty=np.zeros(m, np.int64),
        penalty_kind=np.zeros(m, np.int8),
        penalty_delay=np.zeros(m, np.int64),
        appealed=np.zeros(m, bool),
        upheld=np.zeros(m, bool),
    )
    return orders, iv.start[interval]
