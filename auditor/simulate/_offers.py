"""Dispatch offers: each order is offered to one to three workers in turn.

Earlier offers go to other workers online in the same zone, with the same kind of vehicle, at
the moment of the offer; they decline or let the offer expire after 30 seconds. The last offer
goes to the order's worker, who accepts it. Offered pay is filled in by `settle` once every
plant has acted on pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._sessions import OnlineIndex
from ._workers import Workers
from ._world import FOOD

if TYPE_CHECKING:
    from ._orders import Orders

__all__ = ["RESPONSES", "Offers", "draw_offers"]

#: Offer responses; `RESPONSES[code]` is the contract's string.
RESPONSES: tuple[str, ...] = ("accepted", "declined", "expired")
_WINDOW_S = 30
_ATTEMPTS = 4


@dataclass(slots=True)
class Offers:
    """Dispatch offers.

    Attributes:
        order: row of the order in its `Orders`.
        worker: worker offered the order.
        offered_at: wall-clock second of the offer.
        response: index into `RESPONSES`.
    """

    order: np.ndarray
    worker: np.ndarray
    offered_at: np.ndarray
    response: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def _pick_online(
    online: OnlineIndex,
    key: np.ndarray,
    t: np.ndarray,
    exclude: np.ndarray,
    exclude2: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Worker online at wall second ``t`` in group ``key``, not ``exclude*``; -1 if none found."""
    lo = np.searchsorted(online.key, key, side="left")
    hi = np.searchsorted(online.key, key, side="right")
    chosen = np.full(len(key), -1, dtype=np.int64)
    last = max(len(online.key) - 1, 0)
    for _ in range(_ATTEMPTS):
        todo = np.nonzero((chosen < 0) & (hi > lo))[0]
        if len(todo) == 0 or len(online.key) == 0:
            break
        r = lo[todo] + (rng.random(len(todo)) * (hi[todo] - lo[todo])).astype(np.int64)
        r = np.minimum(r, last)
        cand = online.worker[r].astype(np.int64)
        ok = (
            (online.start[r] <= t[todo])
            & (t[todo] < online.end[r])
            & (cand != exclude[todo])
            & (cand != exclude2[todo])
        )
        chosen[todo] = np.where(ok, cand, -1)
    return chosen


def draw_offers(
    workers: Workers,
    orders: Orders,
    earliest: np.ndarray,
    online: OnlineIndex,
    rng: np.random.Generator,
) -> Offers:
    """Offers of ``orders``; sets ``orders.requested``. ``earliest``: start of online time."""
    n = len(orders)
    u = rng.random(n)
    wanted = (u < 0.4).astype(np.int64) + (u < 0.12)
    accept_at = np.maximum(orders.accepted - rng.integers(3, 26, n), earliest)
    car = workers.is_car[orders.worker].astype(np.int64)
    group = (orders.zone.astype(np.int64) * 2 + car) * online.n_hours
    own = orders.worker.astype(np.int64)
    prev_worker = np.full(n, -1, dtype=np.int64)
    made = np.zeros(n, dtype=np.int64)
    parts = [Offers(np.arange(n), orders.worker.astype(np.int32), accept_at, np.zeros(n, np.int8))]
    for j in (1, 2):
        idx = np.nonzero((wanted >= j) & (made == j - 1))[0]
        t = accept_at[idx] - _WINDOW_S * j
        picked = _pick_online(online, group[idx] + t // 3600, t, own[idx], prev_worker[idx], rng)
        response = np.where(rng.random(len(idx)) < 0.6, 1, 2).astype(np.int8)
        ok = picked >= 0
        prev_worker[idx[ok]] = picked[ok]
        made[idx[ok]] = j
        parts.append(Offers(idx[ok], picked[ok].astype(np.int32), t[ok], response[ok]))
    first = accept_at - _WINDOW_S * made
    lag = np.where(orders.service == FOOD, rng.integers(30, 181, n), rng.integers(5, 61, n))
    orders.requested = first - lag
    return Offers(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("order", "worker", "offered_at", "response")
        )
    )
