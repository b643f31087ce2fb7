"""Planted breaches: each modifies the simulated platform the way its catalogue check looks for.

Plants run in catalogue order, whatever the order of ``SimulationSpec.plants``, each with its
own random generator, so adding one plant leaves the draws of the others and of the base
platform unchanged. HRS-01 and DSP-01 add or remove orders; the others change money, labels or
statements of existing rows. Each plant records its parameters in ``state.plants`` and the
rows or workers it touched in ``state.marks``; `_truth` measures the true magnitudes from them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import numpy as np

from ._accountability import (
    plant_group_suspensions,
    plant_unanswered_complaints,
    plant_unreviewed_actions,
)
from ._arrays import NA, concat_rows, take_rows
from ._money import SEGMENTS, draw_penalties
from ._orders import Intervals, generate_orders
from ._state import State, plant_rng

__all__ = [
    "ORDER_PLANTS",
    "STATEMENT_PLANTS",
    "apply_accountability_plants",
    "apply_order_plants",
    "apply_statement_plants",
    "group_of_workers",
]

_HOUR = 3600
_TAIL_S = 55 * 60


def group_of_workers(state: State) -> np.ndarray:
    """Whether each worker is in the plant group (``PlantOptions.group_*``)."""
    opts = state.spec.plant_options
    codes, labels = state.workers.attribute(opts.group_attribute)
    if opts.group_value not in labels:
        raise ValueError(
            f"PlantOptions.group_value must be one of {', '.join(labels)} for "
            f"{opts.group_attribute!r}. Got {opts.group_value!r} instead."
        )
    return codes == labels.index(opts.group_value)


def _group_params(state: State) -> dict[str, object]:
    opts = state.spec.plant_options
    return {"attribute": opts.group_attribute, "group": opts.group_value}


def _hrs01(state: State, rng: np.random.Generator) -> None:
    s, opts = state.sessions, state.spec.plant_options
    workday = s.worker.astype(np.int64) * 1000 + s.day
    first = np.nonzero(np.r_[True, workday[1:] != workday[:-1]])[0]
    last = np.r_[first[1:] - 1, len(s) - 1]
    wd_worker = s.worker[first]
    active = np.unique(wd_worker)
    n_sel = min(len(active), max(3, round(opts.hrs01_worker_share * len(active))))
    chosen = np.sort(rng.choice(active, n_sel, replace=False))
    pick = np.isin(wd_worker, chosen) & (rng.random(len(first)) < opts.hrs01_day_share)
    lacking = chosen[~np.isin(chosen, wd_worker[pick])]
    pick[np.searchsorted(wd_worker, lacking)] = True
    days = np.nonzero(pick)[0]
    no_break = (last[days] > first[days]) & (rng.random(len(days)) < 0.5)
    on, off = s.on.copy(), s.off.copy()
    latest = s.day.astype(np.int64) * 86400 + 27 * _HOUR
    # No break: close every gap of the day to 2-10 minutes, run at least 4.5-5.5 hours.
    nb_days = days[no_break]
    wd_of_session = np.cumsum(np.r_[True, workday[1:] != workday[:-1]]) - 1
    in_nb = np.isin(wd_of_session, nb_days) & np.r_[workday[1:] == workday[:-1], False]
    gap_rows = np.nonzero(in_nb)[0]
    off[gap_rows] = s.on[gap_rows + 1] - rng.integers(120, 601, len(gap_rows))
    run = s.on[first[nb_days]] + (rng.uniform(4.5, 5.5, len(nb_days)) * _HOUR).astype(np.int64)
    off[last[nb_days]] = np.minimum(np.maximum(off[last[nb_days]], run), latest[last[nb_days]])
    # Long day: start earlier (not before 06:00), then work into the first break (keeping 25
    # minutes of it), then stop later (not after 03:00), to 12.5-13.5 online hours.
    ld_days = days[~no_break]
    same_date = s.on // 86400 == s.day  # hours are counted on the local date of online_at
    dur = np.bincount(wd_of_session, weights=(s.off - s.on) * same_date, minlength=len(first))[
        ld_days
    ]
    need = (rng.uniform(12.5, 13.5, len(ld_days)) * _HOUR - dur).astype(np.int64)
    f_rows, l_rows = first[ld_days], last[ld_days]
    room = np.maximum(s.on[f_rows] - (s.day[f_rows].astype(np.int64) * 86400 + 6 * _HOUR), 0)
    earlier = np.clip(need, 0, room)
    on[f_rows] = s.on[f_rows] - earlier
    need = need - earlier
    multi = l_rows > f_rows
    gap_room = np.where(
        multi, s.on[np.minimum(f_rows + 1, len(s) - 1)] - 25 * 60 - s.off[f_rows], 0
    )
    into_break = np.clip(need, 0, np.maximum(gap_room, 0))
    off[f_rows] = np.where(multi, s.off[f_rows] + into_break, off[f_rows])
    need = need - np.where(multi, into_break, 0)
    off[l_rows] = np.minimum(np.maximum(off[l_rows], s.off[l_rows] + need), latest[l_rows])
    # New online time gets orders like any other, once the orders in hand are done (rides
    # must not overlap); those before a session must end before it starts.
    busy_until = np.zeros(len(s), dtype=np.int64)
    np.maximum.at(busy_until, state.orders.session, state.orders.end)
    head = np.nonzero(on < s.on)[0]
    tail = np.nonzero(off > s.off)[0]
    rows = np.r_[head, tail]
    tail_start = np.maximum(s.off[tail], busy_until[tail])
    tail_stop = np.maximum(off[tail], tail_start)
    same_worker_next = np.r_[s.worker[1:] == s.worker[:-1], False]
    next_on = np.where(same_worker_next, np.r_[on[1:], 0], np.iinfo(np.int64).max)
    iv = Intervals(
        session=rows.astype(np.int32),
        worker=s.worker[rows],
        day=s.day[rows],
        zone=s.zone[rows],
        start=np.r_[on[head], tail_start],
        stop=np.r_[s.on[head], tail_stop],
        hard_end=np.r_[s.on[head], np.minimum(tail_stop + _TAIL_S, next_on[tail])],
    )
    extra, extra_offers = generate_orders(
        state.spec, state.world, state.workers, iv, state.online, rng
    )
    extra_offers.order = extra_offers.order + len(state.orders)
    state.orders = concat_rows(state.orders, extra)
    state.offers = concat_rows(state.offers, extra_offers)
    s.on, s.off = on, off
    state.plants["HRS-01"] = {
        "max_daily_online_hours": 12.0,
        "max_continuous_online_hours": 4.0,
        "min_break_minutes": 20,
        "worker_share": opts.hrs01_worker_share,
        "day_share": opts.hrs01_day_share,
    }
    state.marks["HRS-01"] = {
        "first_session": first[days],
        "no_break": no_break,
        "extra_orders": np.arange(len(extra)) + len(state.orders) - len(extra),
    }


def _dsp01(state: State, rng: np.random.Generator) -> None:
    """The dispatcher offers the group ``plant_size`` fewer orders: a share of the orders
    the group would have accepted never reach it (the order and its offers go), and the same
    share of the offers it would have declined or let expire are not made."""
    ps = state.spec.plant_size
    o = state.orders
    group = group_of_workers(state)
    in_group = group[o.worker]
    drop = in_group & (rng.random(len(o)) < ps)
    keep = ~drop
    state.orders = take_rows(o, keep)
    new_pos = np.cumsum(keep) - 1
    offers = state.offers
    declined_by_group = (offers.response != 0) & group[offers.worker]
    off_keep = keep[offers.order] & ~(declined_by_group & (rng.random(len(offers)) < ps))
    state.offers = take_rows(offers, off_keep)
    state.offers.order = new_pos[state.offers.order]
    state.plants["DSP-01"] = {
        **_group_params(state),
        "rate_ratio": 1.0 - ps,
        "offer_rate_ratio": 1.0 - ps,
        "orders_removed": int(drop.sum()),
        "group_orders_before": int(in_group.sum()),
        "group_offers_removed": int((~off_keep & group[offers.worker]).sum()),
    }


def _fee01(state: State, rng: np.random.Generator) -> None:
    opts = state.spec.plant_options
    zone = state.world.zones.index(opts.fee01_zone)
    hit = state.orders.zone == zone
    state.orders.rate = np.where(hit, opts.fee01_rate, state.orders.rate)
    state.plants["FEE-01"] = {
        "zone": opts.fee01_zone,
        "actual_rate": opts.fee01_rate,
        "declared_rate": state.spec.commission_rate,
        "cap": state.spec.commission_cap,
    }
    state.marks["FEE-01"] = {"orders": hit}


def _fee04(state: State, rng: np.random.Generator) -> None:
    spec, opts = state.spec, state.spec.plant_options
    change = spec.days // 2 if opts.fee04_change_day is None else opts.fee04_change_day
    after = state.orders.accepted // 86400 >= change
    state.orders.rate = np.where(after, state.orders.rate + opts.fee04_step, state.orders.rate)
    change_date = spec.start + datetime.timedelta(days=change)
    if opts.fee04_announced:
        state.fee_rows[0]["effective_to"] = change_date - datetime.timedelta(days=1)
        state.fee_rows.append(
            {
                "effective_from": change_date,
                "effective_to": None,
                "service": None,
                "zone": None,
                "commission_rate": round(spec.commission_rate + opts.fee04_step, 6),
                "commission_cap": spec.commission_cap,
                "announced_at": change_date - datetime.timedelta(days=14),
            }
        )
    state.plants["FEE-04"] = {
        "change_date": change_date.isoformat(),
        "rate_before": spec.commission_rate,
        "rate_after": round(spec.commission_rate + opts.fee04_step, 6),
        "step": opts.fee04_step,
        "announced": opts.fee04_announced,
        "breach": not opts.fee04_announced,
    }
    state.marks["FEE-04"] = {"orders": after}


def _pay05(state: State, rng: np.random.Generator) -> None:
    spec, opts = state.spec, state.spec.plant_options
    change = spec.days // 2 if opts.pay05_change_day is None else opts.pay05_change_day
    o = state.orders
    after = o.accepted // 86400 >= change
    hour = (o.accepted // 3600) % 24
    lo, hi = opts.pay05_hours
    night = (hour >= lo) | (hour < hi) if lo > hi else (hour >= lo) & (hour < hi)
    hit = after & night
    o.rate = np.where(hit, o.rate + opts.pay05_step, o.rate)
    change_date = spec.start + datetime.timedelta(days=change)
    # The platform-wide row in force that day is split there (another plant's change may
    # follow it, or start that very day: then that row declares this change too).
    rows = state.fee_rows
    current = next(
        r
        for r in rows
        if r["service"] is None
        and r["zone"] is None
        and r["effective_from"] <= change_date
        and (r["effective_to"] is None or change_date <= r["effective_to"])
    )
    if current["effective_from"] < change_date:
        new = current | {
            "effective_from": change_date,
            "announced_at": change_date - datetime.timedelta(days=14),
        }
        current["effective_to"] = change_date - datetime.timedelta(days=1)
        rows.insert(rows.index(current) + 1, new)
    state.plants["PAY-05"] = {
        "change_date": change_date.isoformat(),
        "step": opts.pay05_step,
        "hours": list(opts.pay05_hours),
    }
    state.marks["PAY-05"] = {"orders": hit}


def _dsp04(state: State, rng: np.random.Generator) -> None:
    """After a worker refuses an offer (declines it or lets it expire), a share of the
    offers that worker would have refused in the next minutes are not made: the dispatcher
    holds refusals against them. Only refusals made trigger it (an offer never made is not
    refused); offers the worker accepts are never withheld."""
    opts = state.spec.plant_options
    off = state.offers
    window = round(opts.dsp04_window_minutes * 60)
    refused = off.response != 0
    drawn = rng.random(len(off)) < opts.dsp04_withheld
    # One key per (worker, second): the latest refusal of the same worker strictly before
    # each offer is found by a binary search over the refusals' sorted keys. Whether an
    # offer is made depends only on earlier ones, so repeating until nothing changes
    # settles each chain of refusals in time order (a few rounds).
    key = off.worker.astype(np.int64) * (1 << 32) + off.offered_at.astype(np.int64)
    withheld = np.zeros(len(off), dtype=bool)
    while True:
        refusals = np.sort(key[refused & ~withheld])
        before = np.searchsorted(refusals, key, side="left") - 1
        last = refusals[np.maximum(before, 0)] if len(refusals) else key
        same_worker = (before >= 0) & (last >> 32 == key >> 32)
        after_refusal = same_worker & (key - last <= window)
        settled = refused & after_refusal & drawn
        if np.array_equal(settled, withheld):
            break
        withheld = settled
    state.offers = take_rows(off, ~withheld)
    state.plants["DSP-04"] = {
        "withheld_share": opts.dsp04_withheld,
        "window_minutes": opts.dsp04_window_minutes,
    }
    state.marks["DSP-04"] = {"after_refusal": after_refusal, "withheld": withheld}


def _scale_fare(state: State, hit: np.ndarray, factor: np.ndarray | float) -> None:
    fare = state.orders.fare
    state.orders.fare = np.where(hit, np.rint(fare * factor), fare).astype(np.int64)


def _pay01(state: State, rng: np.random.Generator) -> None:
    factor = state.spec.plant_options.pay01_factor
    _scale_fare(state, np.ones(len(state.orders), bool), factor)
    state.plants["PAY-01"] = {
        "fare_factor": factor,
        "minimum_hourly_wage": state.spec.minimum_hourly_wage,
    }


def _prc01(state: State, rng: np.random.Generator) -> None:
    opts, ps = state.spec.plant_options, state.spec.plant_size
    if opts.prc01_segment not in SEGMENTS:
        raise ValueError(
            f"PlantOptions.prc01_segment must be one of {', '.join(SEGMENTS)}. "
            f"Got {opts.prc01_segment!r} instead."
        )
    hit = state.orders.segment == SEGMENTS.index(opts.prc01_segment)
    _scale_fare(state, hit, 1.0 + ps)
    state.plants["PRC-01"] = {"segment": opts.prc01_segment, "price_ratio": 1.0 + ps}
    state.marks["PRC-01"] = {"orders": hit}


def _prc02(state: State, rng: np.random.Generator) -> None:
    opts = state.spec.plant_options
    done = np.nonzero(state.orders.status == 0)[0]
    rows = np.sort(rng.choice(done, min(opts.prc02_count, len(done)), replace=False))
    factor = rng.uniform(*opts.prc02_factor_range, len(rows))
    before = state.orders.fare[rows].copy()
    state.orders.fare[rows] = np.rint(before * factor).astype(np.int64)
    state.plants["PRC-02"] = {"count": len(rows), "factor_range": list(opts.prc02_factor_range)}
    state.marks["PRC-02"] = {"rows": rows, "factor": factor, "fare_before": before}


def _fee05(state: State, rng: np.random.Generator) -> None:
    spread = state.spec.plant_options.fee05_spread
    spread = state.spec.plant_size if spread is None else spread
    mult = rng.uniform(1.0 - spread, 1.0 + spread, state.workers.n)
    state.quote_mult = state.quote_mult * mult
    state.plants["FEE-05"] = {"spread": spread, "distribution": "uniform(1-spread, 1+spread)"}
    state.marks["FEE-05"] = {"multiplier": mult}


def _dsp02(state: State, rng: np.random.Generator) -> None:
    ps = state.spec.plant_size
    state.quote_mult = np.where(
        group_of_workers(state), state.quote_mult * (1 - ps), state.quote_mult
    )
    state.plants["DSP-02"] = {
        **_group_params(state),
        "offered_pay_ratio": 1.0 - ps,
        "side_effects": ["PAY-02"],
    }


def _pay02(state: State, rng: np.random.Generator) -> None:
    ps = state.spec.plant_size
    state.pay_mult = np.where(group_of_workers(state), state.pay_mult * (1 - ps), state.pay_mult)
    state.plants["PAY-02"] = {**_group_params(state), "pay_ratio": 1.0 - ps}


def _fee02(state: State, rng: np.random.Generator) -> None:
    opts, o = state.spec.plant_options, state.orders
    share = state.spec.plant_size if opts.fee02_fee_share is None else opts.fee02_fee_share
    hit = (o.fare > 0) & (rng.random(len(o)) < opts.fee02_order_share)
    o.hidden_frac = np.where(hit, share, o.hidden_frac)
    state.plants["FEE-02"] = {"order_share": opts.fee02_order_share, "fee_share_of_pay": share}
    state.marks["FEE-02"] = {"orders": hit}


def _fee06(state: State, rng: np.random.Generator) -> None:
    opts, o = state.spec.plant_options, state.orders
    cut = state.spec.plant_size if opts.fee06_withheld is None else opts.fee06_withheld
    hit = (o.tip > 0) & (rng.random(len(o)) < opts.fee06_order_share)
    o.tip_cut = np.where(hit, cut, o.tip_cut)
    state.plants["FEE-06"] = {"order_share": opts.fee06_order_share, "withheld_share": cut}
    state.marks["FEE-06"] = {"orders": hit}


def _fee08(state: State, rng: np.random.Generator) -> None:
    opts, o = state.spec.plant_options, state.orders
    cut = state.spec.plant_size if opts.fee08_cut is None else opts.fee08_cut
    hit = (o.status == 0) & (o.fare > 0) & (rng.random(len(o)) < opts.fee08_order_share)
    o.quote_cut = np.where(hit, cut, o.quote_cut)
    state.plants["FEE-08"] = {
        "order_share": opts.fee08_order_share,
        "cut_share_of_quote": cut,
        "side_effects": ["FEE-01", "PAY-01"],
    }
    state.marks["FEE-08"] = {"orders": hit}


def _fee07(state: State, rng: np.random.Generator) -> None:
    opts, o = state.spec.plant_options, state.orders
    o.tip_offset = np.where(o.tip > 0, opts.fee07_offset, o.tip_offset)
    state.plants["FEE-07"] = {"offset_share_of_tip": opts.fee07_offset, "side_effects": ["FEE-01"]}
    state.marks["FEE-07"] = {"orders": o.tip > 0}


def _fee09(state: State, rng: np.random.Generator) -> None:
    opts, o = state.spec.plant_options, state.orders
    priced = o.fare > 0
    centre = float(np.median(np.log2(o.fare[priced]))) if priced.any() else 0.0
    shift = opts.fee09_slope * (centre - np.log2(np.where(priced, o.fare, 1)))
    o.rate = np.where(priced, np.clip(o.rate + shift, 0.0, 0.95), o.rate)
    state.plants["FEE-09"] = {
        "take_rate_change_per_doubling": -opts.fee09_slope,
        "side_effects": ["FEE-01"],
    }
    state.marks["FEE-09"] = {"orders": priced}


def _ins01(state: State, rng: np.random.Generator) -> None:
    opts, n = state.spec.plant_options, state.workers.n
    order = rng.permutation(n)
    n_missing = max(1, round(opts.ins01_missing_share * n))
    n_paid = max(1, round(opts.ins01_worker_paid_share * n))
    missing = np.zeros(n, bool)
    missing[order[:n_missing]] = True
    paid = np.zeros(n, bool)
    paid[order[n_missing : n_missing + n_paid]] = True
    o = state.orders
    o.premium = np.where(missing[o.worker], NA, o.premium)
    o.premium_payer = np.where(paid[o.worker], 1, o.premium_payer).astype(np.int8)
    state.plants["INS-01"] = {
        "missing_worker_share": opts.ins01_missing_share,
        "worker_paid_share": opts.ins01_worker_paid_share,
    }
    state.marks["INS-01"] = {"missing_workers": missing, "paying_workers": paid}


def _ded01(state: State, rng: np.random.Generator) -> None:
    spec, opts, o = state.spec, state.spec.plant_options, state.orders
    n = len(o)
    in_group = group_of_workers(state)[o.worker]
    ratio = opts.ded01_rate_ratio
    extra_p = np.clip((ratio - 1.0) * o.late_p / np.maximum(1.0 - o.late_p, 1e-9), 0.0, 1.0)
    extra = in_group & (o.penalty == 0) & (rng.random(n) < extra_p)
    amount, kind = draw_penalties(o.service, o.status, extra, rng)
    o.penalty = np.where(extra, amount, o.penalty)
    o.penalty_kind = np.where(extra, kind, o.penalty_kind).astype(np.int8)
    o.appealed = o.appealed | (extra & (rng.random(n) < spec.appeal_rate))
    group_pen = in_group & (o.penalty > 0)
    upheld = o.appealed & (rng.random(n) < opts.ded01_upheld_rate)
    o.upheld = np.where(group_pen, upheld, o.upheld)
    state.plants["DED-01"] = {
        **_group_params(state),
        "penalty_rate_ratio": ratio,
        "group_upheld_rate": opts.ded01_upheld_rate,
        "others_upheld_rate": spec.appeal_upheld_rate,
    }
    state.marks["DED-01"] = {"extra_orders": extra}


def _fee03(state: State, rng: np.random.Generator) -> None:
    spec, opts = state.spec, state.spec.plant_options
    frac = spec.plant_size / 2 if opts.fee03_shortfall is None else opts.fee03_shortfall
    p = state.payouts
    if p is None:
        raise RuntimeError("FEE-03 is planted on statements: build payouts first.")
    listed = np.unique(p.worker)
    n_sel = min(len(listed), max(1, round(opts.fee03_worker_share * state.workers.n)))
    chosen = np.zeros(state.workers.n, bool)
    chosen[rng.choice(listed, n_sel, replace=False)] = True
    rows = np.nonzero(chosen[p.worker] & (p.gross - p.deductions > 0))[0]
    due = p.gross[rows] - p.deductions[rows]
    p.shortfall[rows] = np.rint(due * frac).astype(np.int64)
    state.plants["FEE-03"] = {
        "worker_share": opts.fee03_worker_share,
        "shortfall_share_of_net_due": frac,
    }
    state.marks["FEE-03"] = {"payouts": rows}


ORDER_PLANTS: dict[str, Callable[[State, np.random.Generator], None]] = {
    "HRS-01": _hrs01,
    "DSP-01": _dsp01,
    "FEE-01": _fee01,
    "FEE-04": _fee04,
    "PAY-01": _pay01,
    "PRC-01": _prc01,
    "PRC-02": _prc02,
    "FEE-05": _fee05,
    "DSP-02": _dsp02,
    "PAY-02": _pay02,
    "FEE-02": _fee02,
    "FEE-06": _fee06,
    "FEE-08": _fee08,
    "INS-01": _ins01,
    "DED-01": _ded01,
    "FEE-07": _fee07,
    "FEE-09": _fee09,
    "PAY-05": _pay05,
    "DSP-04": _dsp04,  # last: it removes offers, whose rows other plants mark
}
STATEMENT_PLANTS: dict[str, Callable[[State, np.random.Generator], None]] = {"FEE-03": _fee03}


def _acc01(state: State, rng: np.random.Generator) -> None:
    share = state.spec.plant_options.acc01_action_share
    hit = plant_unreviewed_actions(state, share, rng)
    state.plants["ACC-01"] = {"restrictive_action_share": share}
    state.marks["ACC-01"] = {"actions": hit}


def _cmp01(state: State, rng: np.random.Generator) -> None:
    share = state.spec.plant_options.cmp01_complaint_share
    hit = plant_unanswered_complaints(state, share, rng)
    state.plants["CMP-01"] = {"complaint_share": share}
    state.marks["CMP-01"] = {"complaints": hit}


def _acc02(state: State, rng: np.random.Generator) -> None:
    ratio = state.spec.plant_options.acc02_rate_ratio
    added = plant_group_suspensions(state, group_of_workers(state), ratio, rng)
    state.plants["ACC-02"] = {**_group_params(state), "rate_ratio": ratio}
    state.marks["ACC-02"] = {"added": added}


ACCOUNTABILITY_PLANTS: dict[str, Callable[[State, np.random.Generator], None]] = {
    "ACC-02": _acc02,  # first: the actions it adds are taken as ACC-01's plant takes any
    "ACC-01": _acc01,
    "CMP-01": _cmp01,
}


def _run(state: State, plants: dict[str, Callable[[State, np.random.Generator], None]]) -> None:
    for check_id, plant in plants.items():
        if check_id in state.spec.plants:
            plant(state, plant_rng(state.spec.seed, check_id))


def apply_order_plants(state: State) -> None:
    """Plants acting on sessions, orders and pay factors (before pay is settled)."""
    _run(state, ORDER_PLANTS)


def apply_statement_plants(state: State) -> None:
    """Plants acting on pay statements (after payouts are built)."""
    _run(state, STATEMENT_PLANTS)


def apply_accountability_plants(state: State) -> None:
    """Plants acting on account actions and complaints (after they are built)."""
    _run(state, ACCOUNTABILITY_PLANTS)
