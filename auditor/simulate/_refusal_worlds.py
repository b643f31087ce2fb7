"""Calibration worlds for DSP-04 (fewer or worse offers after a refusal), run through the
check's own engine code (``checks._refusal_cells``) and estimator (``checks._refusals``).

A world is a minute-by-minute dispatch of offers to workers over ``days`` platform days of
``day_hours`` hours. Each worker has a home zone, works some days (a session of random start
and length), and is offered work at a rate of ``offers_per_hour`` times:

- their own **level** (lognormal across workers: vehicle, rating, where they wait);
- the **demand** of their zone, date and hour (lognormal: date-specific peaks);
- **bursts** of their zone within the hour (10-minute spells, lognormal);
- ``busy_offer_share`` while carrying an order (stacked offers, all refused); an accepted
  offer starts a busy spell of ``busy_minutes``.

A refused order goes next to another worker online in the same zone (who may take it), as
a dispatcher re-offers it: the other workers' offers rise right after each refusal, which
a baseline of other workers must not read as what the refusing worker should have got.

Workers' own choices: a free worker refuses with a probability that is higher for workers
the platform offers less (``picky``: low-level workers are choosier) and in bursts
(``burst_choice``: a worker offered much refuses more). Both move a worker's time after
refusals towards moments and workers with more or fewer offers for reasons that are not a
penalty. ``dominant`` workers are online the whole day, every day, at ``dominance`` times
the level. The plant: for ``window_minutes`` after any refusal (free or busy) the worker's
offer rate is multiplied by ``penalty`` and the pay of the offers by ``pay_penalty``.

Replicates are simulated together (their workers and zones named apart, so no baseline
mixes two replicates), run through the engine once, and split into replicates by zone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

from auditor.checks._refusal_cells import RefusalCells, cell_arrays, refusal_cell_table
from auditor.checks._refusals import p_penalty, penalty_effect, worker_sums
from auditor.config import AuditConfig, DispatchSection
from auditor.engine import connect
from auditor.stats import GroupEffect, RateCells, poisson_effect
from auditor.stats._codes import compact

__all__ = [
    "RefusalRates",
    "RefusalWorld",
    "refusal_tables",
    "replicate_refusals",
    "write_refusal_package",
]

_EPOCH = 1_772_438_400  # 2026-03-02 08:00:00 UTC, the first platform day's opening
_BLOCK = 10  # minutes of a burst


@dataclass(frozen=True, slots=True)
class RefusalWorld:
    """One DSP-04 calibration world (module docstring).

    Attributes:
        workers: workers.
        days: platform days.
        zones: zones (workers wait in their home zone).
        day_hours: hours of a platform day.
        offers_per_hour: offers per free hour of a worker of level 1 at demand 1.
        level_sd: sd of the log of workers' levels.
        day_level_sd: sd of the log of a worker's level on one day around their own (the
            day's vehicle, the area they start from); ``picky`` applies to it too.
        active_days: share of days an ordinary worker works.
        dominant: workers online all day, every day, at ``dominance`` times the level.
        dominance: level multiplier of the dominant workers.
        demand_sd: sd of the log demand of a zone, date and hour.
        burst_sd: sd of the log demand of a zone's 10-minute spells.
        refusal: probability a free worker of level 1 refuses, outside bursts.
        picky: refusal probability times ``level ** -picky``.
        burst_choice: refusal probability times ``burst ** burst_choice``.
        busy_minutes: range of a busy spell's length, minutes.
        busy_offer_share: offer rate while busy, as a share of the free rate.
        penalty: offer rate multiplier after a refusal (1: none).
        pay_penalty: offered pay multiplier after a refusal (1: none).
        window_minutes: how long the plant lasts after a refusal (and DSP-04's window).
    """

    workers: int = 40
    days: int = 14
    zones: int = 3
    day_hours: int = 12
    offers_per_hour: float = 4.0
    level_sd: float = 0.4
    day_level_sd: float = 0.0
    active_days: float = 0.7
    dominant: int = 0
    dominance: float = 5.0
    demand_sd: float = 0.3
    burst_sd: float = 0.5
    refusal: float = 0.3
    picky: float = 1.0
    burst_choice: float = 1.0
    busy_minutes: tuple[int, int] = (10, 30)
    busy_offer_share: float = 0.3
    penalty: float = 1.0
    pay_penalty: float = 1.0
    window_minutes: float = 15.0


def refusal_tables(
    world: RefusalWorld, replicates: int, seed: int
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Sessions, offers and orders of ``replicates`` draws of ``world`` (workers ``r<rep>w<i>``,
    zones ``r<rep>z<j>``)."""
    rng = np.random.default_rng(seed)
    g, z, days = world.workers, world.zones, world.days
    lanes = replicates * g
    minutes = world.day_hours * 60
    rep = np.repeat(np.arange(replicates), g)
    dominant = np.tile(np.arange(g) < world.dominant, replicates)
    level = np.exp(rng.normal(-(world.level_sd**2) / 2, world.level_sd, lanes))
    level = np.where(dominant, level * world.dominance, level)
    zone = rep * z + rng.integers(0, z, lanes)
    day_level = np.exp(rng.normal(-(world.day_level_sd**2) / 2, world.day_level_sd, (lanes, days)))
    refuse_of_day = world.refusal * np.exp(-world.picky * np.log(level[:, None] * day_level))
    refuse_of_day = np.clip(np.where(dominant[:, None], world.refusal, refuse_of_day), 0.02, 0.9)
    works = (rng.random((lanes, days)) < world.active_days) | dominant[:, None]
    start = np.where(dominant[:, None], 0, rng.integers(0, minutes // 3, (lanes, days)))
    length = rng.integers(minutes // 4, minutes * 2 // 3, (lanes, days))
    end = np.where(dominant[:, None], minutes, np.minimum(start + length, minutes))
    demand = np.exp(rng.normal(0, world.demand_sd, (replicates * z, days, world.day_hours)))
    burst = np.exp(rng.normal(0, world.burst_sd, (replicates * z, days, minutes // _BLOCK)))
    busy_until = np.full(lanes, -1, np.int64)
    penalised_until = np.full(lanes, -1, np.int64)
    base = world.offers_per_hour / 60.0
    window = round(world.window_minutes)
    rows: list[tuple[NDArray[np.int64], ...]] = []
    orders: list[tuple[NDArray[np.int64], ...]] = []
    next_order = 0
    block = rep * g  # first lane of each lane's replicate

    def respond(lanes_: NDArray[np.int64], t: int, b: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether each of ``lanes_`` accepts an offer now (free, and not refusing)."""
        p_refuse = np.clip(refuse[lanes_] * b**world.burst_choice, 0.0, 0.95)
        return (busy_until[lanes_] <= t) & (rng.random(len(lanes_)) >= p_refuse)

    def accept(
        lanes_: NDArray[np.int64], ids: NDArray[np.int64], at: NDArray[np.int64], t: int
    ) -> None:
        spell = rng.integers(world.busy_minutes[0], world.busy_minutes[1] + 1, len(lanes_))
        busy_until[lanes_] = t + spell
        orders.append((lanes_, ids, at + 20, (t + spell) * 60))

    for d in range(days):
        online_from, online_to = start[:, d], end[:, d]
        on_day = works[:, d]
        level_today, refuse = level * day_level[:, d], refuse_of_day[:, d]
        for m in range(minutes):
            t = d * minutes + m
            online = on_day & (online_from <= m) & (m < online_to)
            busy = busy_until > t
            penalised = penalised_until > t
            b = burst[zone, d, m // _BLOCK]
            rate = base * level_today * demand[zone, d, m // 60] * b
            rate = rate * np.where(busy, world.busy_offer_share, 1.0)
            rate = rate * np.where(penalised, world.penalty, 1.0)
            k = rng.poisson(rate) * online
            got = np.nonzero(k)[0]
            if not len(got):
                continue
            accepted = respond(got, t, b[got])
            # k offers fall uniformly in the minute: the first at the least of k uniform
            # seconds, the others uniformly after it.
            first = 60.0 * (1.0 - rng.random(len(got)) ** (1.0 / k[got]))
            at = t * 60 + np.minimum(first.astype(np.int64), 59)
            pay = 12.0 * demand[zone[got], d, m // 60] * np.exp(rng.normal(0, 0.3, len(got)))
            pay = pay * np.where(penalised[got], world.pay_penalty, 1.0)
            cents = np.round(pay * 100).astype(np.int64)
            ids = next_order + np.arange(len(got))
            next_order += len(got)
            response = np.where(accepted, 0, 1 + (rng.random(len(got)) < 0.4))
            rows.append((got, ids, at, response, cents))
            refusers, refused_ids, refused_at, refused_cents = (
                got[~accepted],
                ids[~accepted],
                at[~accepted],
                cents[~accepted],
            )
            extra = k[got] - 1
            if extra.any():  # further offers in the same minute come while deciding: refused
                more = np.repeat(got, extra)
                later = np.repeat(first, extra)
                later = later + rng.random(len(more)) * (60.0 - later)
                more_at = t * 60 + np.minimum(np.ceil(later).astype(np.int64), 59)
                more_ids = next_order + np.arange(len(more))
                next_order += len(more)
                more_cents = np.repeat(cents, extra)
                rows.append((more, more_ids, more_at, np.ones(len(more), np.int64), more_cents))
                refusers = np.concatenate([refusers, more])
                refused_ids = np.concatenate([refused_ids, more_ids])
                refused_at = np.concatenate([refused_at, more_at])
                refused_cents = np.concatenate([refused_cents, more_cents])
            took = got[accepted]
            if len(took):
                accept(took, ids[accepted], at[accepted], t)
            penalised_until[refusers] = t + 1 + window
            if len(refusers):
                # A refused order goes to another worker online in the zone next.
                to = _someone_else(refusers, block, g, online, zone, rng)
                sent = to >= 0
                if sent.any():
                    to, sent_ids = to[sent], refused_ids[sent]
                    sent_at = np.minimum(refused_at[sent] + 30, t * 60 + 59)
                    yes = respond(to, t, b[to])
                    answer = np.where(yes, 0, 1 + (rng.random(len(to)) < 0.4))
                    rows.append((to, sent_ids, sent_at, answer, refused_cents[sent]))
                    if yes.any():
                        accept(to[yes], sent_ids[yes], sent_at[yes], t)
                    penalised_until[to[~yes]] = t + 1 + window
    names = np.array([f"r{r:04d}w{i:03d}" for r in range(replicates) for i in range(g)])
    zone_names = np.array([f"r{r:04d}z{j}" for r in range(replicates) for j in range(z)])
    day_start = (np.arange(days) * 24 * 3600)[None, :]
    lane_day = np.nonzero(works & (end > start))
    sessions = pa.table(
        {
            "worker_id": names[lane_day[0]],
            "online_at": _instants(day_start[0, lane_day[1]] + start[lane_day] * 60),
            "offline_at": _instants(day_start[0, lane_day[1]] + end[lane_day] * 60),
            "zone": zone_names[zone[lane_day[0]]],
        }
    )
    who, order, when, response, cents = (np.concatenate(c) for c in zip(*rows, strict=True))
    offers = pa.table(
        {
            "worker_id": names[who],
            "order_id": np.char.add("X", order.astype(str)),
            "offered_at": _instants(_calendar(when, minutes)),
            "response": np.array(["accepted", "declined", "expired"])[response],
            "offered_pay": cents / 100.0,
        }
    )
    took_all, order_ids, accepted_at, dropoff_at = (
        np.concatenate(c) for c in zip(*orders, strict=True)
    )
    order_table = pa.table(
        {
            "order_id": np.char.add("X", order_ids.astype(str)),
            "worker_id": names[took_all],
            "accepted_at": _instants(_calendar(accepted_at, minutes)),
            "dropoff_at": _instants(_calendar(dropoff_at, minutes)),
        }
    )
    return sessions, offers, order_table


def _someone_else(
    lanes_: NDArray[np.int64],
    block: NDArray[np.int64],
    g: int,
    online: NDArray[np.bool_],
    zone: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """For each of ``lanes_``, another lane of its replicate online in its zone (a few
    random tries); -1 where none was found."""
    chosen = np.full(len(lanes_), -1, np.int64)
    for _ in range(6):
        todo = chosen < 0
        if not todo.any():
            break
        pick = block[lanes_] + rng.integers(0, g, len(lanes_))
        ok = todo & online[pick] & (zone[pick] == zone[lanes_]) & (pick != lanes_)
        chosen = np.where(ok, pick, chosen)
    return chosen


def _calendar(platform_seconds: NDArray[np.int64], minutes: int) -> NDArray[np.int64]:
    """Seconds on the platform's clock (days of ``minutes`` back to back) as seconds since
    the first day's opening on the calendar (a day is 24 hours)."""
    per_day = minutes * 60
    return (platform_seconds // per_day) * 24 * 3600 + platform_seconds % per_day


def _instants(seconds: NDArray[np.int64]) -> pa.Array:
    micros = (np.asarray(seconds, dtype=np.int64) + _EPOCH) * 1_000_000
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"))


@dataclass(frozen=True, slots=True)
class RefusalRates:
    """DSP-04's leads and intervals over replicates, for the offers (``offers``) and the
    offered pay (``pay``) ratios.

    Attributes:
        estimable: replicates with an estimate.
        lead_offers: share of those flagged as a lead on offers per free hour (the whole
            ``1 - alpha`` interval below ``1 - materiality``; for the naive design, the
            same test of its own ratio).
        lead_pay: share flagged on offered pay per free hour.
        cover_offers: share whose ``1 - alpha`` interval covers ``truth_offers``.
        median_offers: median ratio of offers per free hour.
        median_pay: median ratio of offered pay per free hour.
    """

    estimable: int
    lead_offers: float
    lead_pay: float
    cover_offers: float
    median_offers: float
    median_pay: float


def _subset(cells: RefusalCells, keep: NDArray[np.bool_]) -> RefusalCells:
    worker = compact(cells.worker[keep])
    return dataclasses.replace(
        cells,
        worker=worker,
        n_workers=int(worker.max()) + 1 if len(worker) else 0,
        zone=cells.zone[keep],
        slot=cells.slot[keep],
        hours_after=cells.hours_after[keep],
        hours_other=cells.hours_other[keep],
        offers_after=cells.offers_after[keep],
        offers_other=cells.offers_other[keep],
        pay_after=cells.pay_after[keep],
        pay_other=cells.pay_other[keep],
        reoffered=cells.reoffered[keep],
        reoffered_pay=cells.reoffered_pay[keep],
    )


def _naive(cells: RefusalCells, money: bool) -> GroupEffect:
    """The design DSP-04 does not use: after against other time within strata of one worker,
    zone and hour (each cell its own stratum), fitted on the offers compared."""
    m = len(cells.worker)
    cell = np.tile(np.arange(m, dtype=np.int64), 2)
    after_n = cells.pay_after if money else cells.offers_after
    other_n = cells.pay_other if money else cells.offers_other
    exposure = np.concatenate([cells.hours_after, cells.hours_other])
    rates = RateCells(
        np.concatenate([after_n, other_n]),
        exposure,
        cell,
        np.tile(cells.worker, 2),
        n_clusters=cells.n_workers,
        block=cell,
        counts=not money,
    )
    after = np.repeat(np.array([True, False]), m)[exposure > 0]
    return poisson_effect(rates, method="naive_cells", treat_of_cell=after)


def replicate_refusals(
    world: RefusalWorld,
    replicates: int,
    seed: int,
    *,
    materiality: float = DispatchSection().decline_penalty_materiality,
    alpha: float = 0.05,
    naive: bool = False,
    reoffers: bool = True,
) -> RefusalRates:
    """DSP-04's estimator and lead on ``replicates`` draws of ``world`` (one seed for all);
    ``naive``: the design the worlds are built to fool (``_naive``); ``reoffers=False``:
    the baseline counts the re-offers of the worker's refused orders (``worker_sums``)."""
    sessions, offers, orders = refusal_tables(world, replicates, seed)
    effects: dict[bool, list[GroupEffect]] = {False: [], True: []}
    with connect(AuditConfig()) as engine:
        tables = {
            name: engine.store(f"w_{name}", t)
            for name, t in (("sessions", sessions), ("offers", offers), ("orders", orders))
        }
        args = (engine, tables["offers"], tables["sessions"], world.window_minutes * 60.0)
        if naive:
            cells = cell_arrays(*refusal_cell_table(*args, priced=True, orders=tables["orders"]))
            rep_of_zone = np.array([int(label[1:5]) for label in cells.zones], dtype=np.int64)
            rep = rep_of_zone[cells.zone]
            for r in range(replicates):
                part = _subset(cells, rep == r)
                for money in (False, True):
                    effects[money].append(_naive(part, money))
        else:
            table, _ = refusal_cell_table(*args, priced=True, orders=tables["orders"])
            for money in (False, True):
                sums = worker_sums(table, money=money, reoffers=reoffers)
                sums = sums.order_by("worker_id").to_pyarrow()
                rep = np.array([int(w[1:5]) for w in sums["worker_id"].to_pylist()])
                for r in range(replicates):
                    part = sums.filter(pa.array(rep == r))
                    effects[money].append(penalty_effect(part, money=money)[0])
    ratios: dict[bool, list[float]] = {False: [], True: []}
    leads: dict[bool, list[bool]] = {False: [], True: []}
    covers: list[bool] = []
    for money in (False, True):
        for effect in effects[money]:
            if not effect.estimable:
                continue
            ratios[money].append(effect.ratio)
            leads[money].append(p_penalty(effect, materiality) < alpha)
            if not money:
                low, high = effect.ci(1 - alpha)
                covers.append(low <= world.penalty <= high)
    return RefusalRates(
        estimable=len(ratios[False]),
        lead_offers=float(np.mean(leads[False])) if leads[False] else float("nan"),
        lead_pay=float(np.mean(leads[True])) if leads[True] else float("nan"),
        cover_offers=float(np.mean(covers)) if covers else float("nan"),
        median_offers=float(np.median(ratios[False])) if ratios[False] else float("nan"),
        median_pay=float(np.median(ratios[True])) if ratios[True] else float("nan"),
    )


def write_refusal_package(world: RefusalWorld, seed: int, folder: Path) -> Path:
    """One draw of ``world`` as a package of CSV files (sessions, offers, and the accepted
    offers' orders with the columns the contract requires) in ``folder``."""
    sessions, offers, orders = refusal_tables(world, 1, seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_offers, n_orders = offers.num_rows, orders.num_rows
    offers = offers.add_column(0, "offer_id", pa.array([f"F{i:07d}" for i in range(n_offers)]))
    orders = orders.append_column("status", pa.array(["completed"] * n_orders))
    orders = orders.append_column("customer_price", pa.array([20.0] * n_orders))
    orders = orders.append_column("worker_pay", pa.array([15.0] * n_orders))
    for name, table in (("sessions", sessions), ("offers", offers), ("orders", orders)):
        pa_csv.write_csv(table, folder / f"{name}.csv")
    return folder
