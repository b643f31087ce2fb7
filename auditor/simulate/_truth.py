"""Ground truth: what was planted and its true size, measured on the final simulated data.

Money is in CNY (rounded to cents), rates are fractions, times in hours. Lists of IDs use the
IDs of the output tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._accountability import account_actions_truth, complaints_truth, group_actions_truth
from ._arrays import NA
from ._layout import Layout, id_strings
from ._ledger import order_week
from ._plants import group_of_workers
from ._spec import spec_to_json
from ._state import State
from ._workers import AGE_BANDS, GENDERS

__all__ = ["continuous_runs", "earnings_summary", "ground_truth", "online_by_day"]

_BREAK_S = 20 * 60


def _cny(cents: float | np.floating | np.integer) -> float:
    return round(float(cents) / 100.0, 2)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(float(num) / float(den), 6)


def online_by_day(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker, local day (of ``online_at``) and online hours of each worker-day."""
    s = state.sessions
    key = s.worker.astype(np.int64) * 100_000 + s.on // 86400
    uniq, inv = np.unique(key, return_inverse=True)
    hours = np.bincount(inv, weights=(s.off - s.on) / 3600.0)
    return uniq // 100_000, uniq % 100_000, hours


def continuous_runs(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker, start (wall s) and hours of each run online without a 20-minute break."""
    s = state.sessions
    new = np.r_[True, (s.worker[1:] != s.worker[:-1]) | (s.on[1:] - s.off[:-1] >= _BREAK_S)]
    run = np.cumsum(new) - 1
    start = s.on[new]
    end = np.zeros(len(start), dtype=np.int64)
    np.maximum.at(end, run, s.off)
    return s.worker[new], start, (end - start) / 3600.0


def _engaged_hours(state: State, week: np.ndarray, n_keys: int) -> np.ndarray:
    """Union of ``[accepted_at, end]`` per worker-week key (week * workers + worker), hours."""
    o = state.orders
    order = np.argsort(o.worker.astype(np.int64) * 2**32 + o.accepted, kind="stable")
    w, a, e = o.worker[order].astype(np.int64), o.accepted[order], o.end[order]
    big = 10**10
    reach = np.maximum.accumulate(e + w * big) - w * big
    new = np.r_[True, (w[1:] != w[:-1]) | (a[1:] > reach[:-1])]
    block = np.cumsum(new) - 1
    block_end = np.zeros(block[-1] + 1 if len(block) else 0, dtype=np.int64)
    np.maximum.at(block_end, block, e)
    start = a[new]
    key = week[order][new] * state.workers.n + w[new]
    return np.bincount(key, weights=(block_end - start) / 3600.0, minlength=n_keys)


def earnings_summary(state: State) -> dict[str, Any]:
    """Hourly net earnings per worker-week on online and on engaged time (CNY per hour)."""
    p = state.payouts
    if p is None:
        raise RuntimeError("earnings_summary needs the payouts: build the ledger first.")
    n_w = state.workers.n
    week = order_week(state)
    n_keys = (int(max(week.max(initial=0), p.week.max(initial=0))) + 2) * n_w
    s = state.sessions
    s_week = (s.on // 86400 + state.world.weekday0) // 7
    online = np.bincount(s_week * n_w + s.worker, weights=(s.off - s.on) / 3600.0, minlength=n_keys)
    engaged = _engaged_hours(state, week, n_keys)
    key = p.week * n_w + p.worker
    net = (p.gross - p.deductions) / 100.0
    ok = (online[key] > 0) & (engaged[key] > 0)
    per_online = net[ok] / online[key][ok]
    per_engaged = net[ok] / engaged[key][ok]
    floor = state.spec.minimum_hourly_wage
    return {
        "worker_weeks": int(ok.sum()),
        "minimum_hourly_wage": floor,
        "share_below_minimum_online": _ratio((per_online < floor).sum(), ok.sum()),
        "share_below_minimum_engaged": _ratio((per_engaged < floor).sum(), ok.sum()),
        "median_hourly_online": round(float(np.median(per_online)), 2) if ok.any() else None,
        "median_hourly_engaged": round(float(np.median(per_engaged)), 2) if ok.any() else None,
        "definition": "net = gross_credited - deductions_total of the weekly statement; online "
        "= session hours by week of online_at; engaged = union of accepted_at.."
        "dropoff_at (or cancellation) intervals by week of the order's payout.",
    }


def _raw_rates(state: State) -> dict[str, Any]:
    """Orders per online hour by gender and age band, pooled over zones and hours (naive)."""
    s, o, w = state.sessions, state.orders, state.workers
    hours = np.bincount(s.worker, weights=(s.off - s.on) / 3600.0, minlength=w.n)
    count = np.bincount(o.worker, minlength=w.n)
    out: dict[str, Any] = {}
    for name, codes, labels in (("gender", w.gender, GENDERS), ("age_band", w.age_band, AGE_BANDS)):
        out[name] = {
            lab: _ratio(count[codes == i].sum(), hours[codes == i].sum())
            for i, lab in enumerate(labels)
        }
    return out


def _hours_violations(state: State) -> tuple[int, int]:
    _, _, hours = online_by_day(state)
    _, _, run = continuous_runs(state)
    return int((hours > 12.0).sum()), int((run > 4.0).sum())


def _baseline(state: State) -> dict[str, Any]:
    o = state.orders
    paid = o.fare > 0
    long_days, long_runs = _hours_violations(state)
    ratio = 1.0 - state.spec.plant_size if "DSP-01" in state.spec.plants else 1.0
    return {
        "commission_rate": state.spec.commission_rate,
        "commission_cap": state.spec.commission_cap,
        "take_rate": _ratio((o.fare - state.pay)[paid].sum(), o.fare[paid].sum()),
        "orders_per_online_hour_raw": _raw_rates(state),
        "order_rate_ratio_within_zone_hour_true": ratio,
        "earnings": earnings_summary(state),
        "worker_days_over_12h": long_days,
        "runs_over_4h_without_break": long_runs,
    }


def _fee01(state: State, lay: Layout) -> dict[str, Any]:
    o, cap = state.orders, state.spec.commission_cap
    hit = state.marks["FEE-01"]["orders"] & (o.fare > 0)
    take = (o.fare - state.pay)[hit]
    return {
        "orders": int(hit.sum()),
        "fare_base_total": _cny(o.fare[hit].sum()),
        "take_rate": _ratio(take.sum(), o.fare[hit].sum()),
        "money_above_cap": _cny((take - cap * o.fare[hit]).sum()),
    }


def _fee02(state: State, lay: Layout) -> dict[str, Any]:
    o = state.orders
    hit = state.marks["FEE-02"]["orders"]
    hidden = (state.quoted - state.pay)[hit]
    return {
        "orders": int(hit.sum()),
        "undisclosed_total": _cny(hidden.sum()),
        "declared_take_rate": _ratio(state.commission[hit].sum(), o.fare[hit].sum()),
        "actual_take_rate": _ratio((o.fare - state.pay)[hit].sum(), o.fare[hit].sum()),
    }


def _fee03(state: State, lay: Layout) -> dict[str, Any]:
    p = state.payouts
    if p is None:
        raise RuntimeError("FEE-03 truth needs the payouts.")
    rows = state.marks["FEE-03"]["payouts"]
    pid = id_strings("P", rows + 1, 8)
    wid = lay.worker_ids(p.worker[rows])
    items = [
        {"payout_id": a, "worker_id": b, "shortfall": _cny(c)}
        for a, b, c in zip(pid, wid, p.shortfall[rows], strict=True)
    ]
    return {
        "payouts": items,
        "workers": sorted(set(wid)),
        "shortfall_total": _cny(p.shortfall[rows].sum()),
    }


def _fee04(state: State, lay: Layout) -> dict[str, Any]:
    o = state.orders
    after = state.marks["FEE-04"]["orders"] & (o.fare > 0)
    before = ~state.marks["FEE-04"]["orders"] & (o.fare > 0)
    take = o.fare - state.pay
    return {
        "orders_after": int(after.sum()),
        "take_rate_before": _ratio(take[before].sum(), o.fare[before].sum()),
        "take_rate_after": _ratio(take[after].sum(), o.fare[after].sum()),
    }


def _fee05(state: State, lay: Layout) -> dict[str, Any]:
    mult = state.marks["FEE-05"]["multiplier"]
    working = np.unique(state.orders.worker)
    return {
        "multipliers": dict(
            zip(lay.worker_ids(working), np.round(mult[working], 4).tolist(), strict=True)
        ),
        "multiplier_sd": round(float(mult[working].std()), 6),
    }


def _fee06(state: State, lay: Layout) -> dict[str, Any]:
    o = state.orders
    hit = state.marks["FEE-06"]["orders"]
    return {
        "orders": int(hit.sum()),
        "tips_total": _cny(o.tip[hit].sum()),
        "withheld_total": _cny((o.tip - state.tip_to_worker)[hit].sum()),
    }


def _fee08(state: State, lay: Layout) -> dict[str, Any]:
    hit = state.marks["FEE-08"]["orders"]
    short = state.quoted - state.pay  # offered pay is the quote; incentives are not in it
    return {
        "orders": int(hit.sum()),
        "quoted_total": _cny(state.quoted[hit].sum()),
        "shortfall_total": _cny(short[hit].sum()),
        "workers": len(np.unique(state.orders.worker[hit])),
    }


def _fee07(state: State, lay: Layout) -> dict[str, Any]:
    hit = state.marks["FEE-07"]["orders"]
    base = np.rint(state.orders.fare * (1.0 - state.orders.rate))
    full = np.rint(base * (state.quote_mult * state.pay_mult)[state.orders.worker])
    return {
        "tipped_orders": int(hit.sum()),
        "tips_total": _cny(state.orders.tip[hit].sum()),
        "offset_total": _cny((full - state.quoted)[hit].sum()),
    }


def _pay02(state: State, lay: Layout) -> dict[str, Any]:
    ps = state.spec.plant_size
    hit = group_of_workers(state)[state.orders.worker]
    paid = state.quoted[hit].sum()
    return {"orders": int(hit.sum()), "pay_withheld": _cny(paid / (1 - ps) - paid)}


def _dsp02(state: State, lay: Layout) -> dict[str, Any]:
    hit = group_of_workers(state)[state.offers.worker]
    return {"offers": int(hit.sum())}


def _dsp04(state: State, lay: Layout) -> dict[str, Any]:
    """Offers made within the window after the same worker's refusal (before the plant),
    and how many of them were withheld: the true cut in offers after a refusal."""
    after = int(state.marks["DSP-04"]["after_refusal"].sum())
    withheld = int(state.marks["DSP-04"]["withheld"].sum())
    return {
        "offers_after_refusals": after,
        "offers_withheld": withheld,
        "share_withheld": withheld / after if after else None,
    }


def _prc01(state: State, lay: Layout) -> dict[str, Any]:
    o, ps = state.orders, state.spec.plant_size
    hit = state.marks["PRC-01"]["orders"]
    return {"orders": int(hit.sum()), "overcharge_total": _cny(o.fare[hit].sum() * ps / (1 + ps))}


def _prc02(state: State, lay: Layout) -> dict[str, Any]:
    o, m = state.orders, state.marks["PRC-02"]
    rows = m["rows"]
    price = o.fare[rows] + o.pass_through[rows]
    normal = m["fare_before"] + o.pass_through[rows]
    items = [
        {
            "order_id": i,
            "factor": round(float(f), 4),
            "customer_price": _cny(p),
            "normal_price": _cny(q),
        }
        for i, f, p, q in zip(lay.order_ids(rows), m["factor"], price, normal, strict=True)
    ]
    return {"order_ids": [it["order_id"] for it in items], "orders": items}


def _hrs01(state: State, lay: Layout) -> dict[str, Any]:
    s, m = state.sessions, state.marks["HRS-01"]
    first = m["first_session"]
    wd_w, wd_day, hours = online_by_day(state)
    r_w, r_start, r_hours = continuous_runs(state)
    items = []
    day_idx = {(int(a), int(b)): h for a, b, h in zip(wd_w, wd_day, hours, strict=True)}
    for row, nb in zip(first, m["no_break"], strict=True):
        w, day = int(s.worker[row]), int(s.on[row] // 86400)
        in_day = (r_w == w) & (r_start // 86400 == day)
        items.append(
            {
                "worker_id": lay.worker_ids(np.array([w]))[0],
                "date": state.world.date_of_day(day).isoformat(),
                "kind": "no_break" if nb else "long_day",
                "online_hours": round(float(day_idx.get((w, day), 0.0)), 4),
                "longest_continuous_hours": round(float(r_hours[in_day].max()), 4),
            }
        )
    long_days, long_runs = _hours_violations(state)
    return {
        "workers": sorted({it["worker_id"] for it in items}),
        "worker_days": items,
        "extra_orders": len(m["extra_orders"]),
        "worker_days_over_12h": long_days,
        "runs_over_4h_without_break": long_runs,
    }


def _ins01(state: State, lay: Layout) -> dict[str, Any]:
    o, m = state.orders, state.marks["INS-01"]
    paid = o.premium_payer == 1
    return {
        "missing_workers": lay.worker_ids(np.nonzero(m["missing_workers"])[0]),
        "orders_missing_premium": int((o.premium == NA).sum()),
        "worker_paid_workers": lay.worker_ids(np.nonzero(m["paying_workers"])[0]),
        "orders_worker_paid": int(paid.sum()),
        "premium_paid_by_workers": _cny(o.premium[paid & (o.premium != NA)].sum()),
    }


def _ded01(state: State, lay: Layout) -> dict[str, Any]:
    o, d = state.orders, state.deductions
    if d is None:
        raise RuntimeError("DED-01 truth needs the deductions.")
    g_w = group_of_workers(state)
    g_o = g_w[o.worker]
    pen = d.category == 0
    done = o.status == 0
    per_order = [
        np.bincount(g_w[d.worker[pen]].astype(int), minlength=2)[i]
        / max(int((g_o == bool(i)).sum()), 1)
        for i in (0, 1)
    ]
    appealed = pen & d.appealed
    upheld = [
        _ratio(
            ((d.upheld == 1) & appealed & (g_w[d.worker] == bool(i))).sum(),
            (appealed & (g_w[d.worker] == bool(i))).sum(),
        )
        for i in (0, 1)
    ]
    return {
        "extra_penalties": int(state.marks["DED-01"]["extra_orders"].sum()),
        "penalties_per_order_group": round(float(per_order[1]), 6),
        "penalties_per_order_others": round(float(per_order[0]), 6),
        "penalty_rate_ratio_realised": _ratio(per_order[1], per_order[0]),
        "upheld_rate_group": upheld[1],
        "upheld_rate_others": upheld[0],
        "completed_orders_group": int((g_o & done).sum()),
    }


def _pay05(state: State, lay: Layout) -> dict[str, Any]:
    """Per worker with enough completed orders after the change and before it: their pay
    under the new rule over the old rule's pay for the same orders (what PAY-05
    estimates)."""
    o = state.orders
    hit = state.marks["PAY-05"]["orders"]
    done = (o.accepted // 86400 >= _change_day(state)) & (o.status == 0)
    old_rate = np.where(hit, o.rate - state.spec.plant_options.pay05_step, o.rate)
    n = state.workers.n
    new_pay = np.bincount(o.worker[done], weights=o.fare[done] * (1 - o.rate[done]), minlength=n)
    old_pay = np.bincount(o.worker[done], weights=o.fare[done] * (1 - old_rate[done]), minlength=n)
    count = np.bincount(o.worker[done], minlength=n)
    was_done = (o.accepted // 86400 < _change_day(state)) & (o.status == 0)
    count_before = np.bincount(o.worker[was_done], minlength=n)
    out = {}
    for least in (10, 20):
        enough = (count >= least) & (count_before >= least)
        if enough.any():
            change = new_pay[enough] / old_pay[enough] - 1.0
            out[f"at_least_{least}_orders"] = {
                "workers": int(enough.sum()),
                "share_losing_over_5pct": float((change < -0.05).mean()),
                "median_change": float(np.median(change)),
            }
    return out


def _change_day(state: State) -> int:
    day = state.spec.plant_options.pay05_change_day
    return state.spec.days // 2 if day is None else day


def _measures(state: State) -> dict[str, Any]:
    return {
        "FEE-01": _fee01,
        "FEE-02": _fee02,
        "FEE-03": _fee03,
        "FEE-04": _fee04,
        "FEE-05": _fee05,
        "FEE-06": _fee06,
        "FEE-07": _fee07,
        "FEE-09": lambda s, _: {"priced_orders": int(s.marks["FEE-09"]["orders"].sum())},
        "FEE-08": _fee08,
        "PAY-05": _pay05,
        "PAY-01": lambda s, _: earnings_summary(s),
        "PAY-02": _pay02,
        "DSP-01": lambda s, _: {},
        "DSP-02": _dsp02,
        "DSP-04": _dsp04,
        "PRC-01": _prc01,
        "PRC-02": _prc02,
        "HRS-01": _hrs01,
        "INS-01": _ins01,
        "DED-01": _ded01,
        "ACC-01": lambda s, _: account_actions_truth(s),
        "CMP-01": lambda s, _: complaints_truth(s),
        "ACC-02": lambda s, _: {
            **group_actions_truth(s, group_of_workers(s)),
            "added_actions": int(s.marks["ACC-02"]["added"].sum()),
        },
    }


def ground_truth(state: State, lay: Layout, rows: dict[str, int]) -> dict[str, Any]:
    """The JSON-serialisable ground truth of a finished simulation."""
    measures = _measures(state)
    plants = {}
    for check_id, params in state.plants.items():
        plants[check_id] = {
            "check": check_id,
            "breach": bool(params.get("breach", True)),
            "parameters": {k: v for k, v in params.items() if k != "breach"},
            "truth": measures[check_id](state, lay),
        }
    return {
        "schema": "auditor.simulate.ground_truth/1",
        "spec": spec_to_json(state.spec),
        "rows": rows,
        "baseline": _baseline(state),
        "plants": plants,
    }
