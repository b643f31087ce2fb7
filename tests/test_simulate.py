"""Tests of `auditor.simulate`: contract shape, determinism, realism and every plant's size.

All simulations are seeded; tolerances are set from the sampling error of the sizes used.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import auditor.simulate as sim
from auditor.simulate import PLANT_IDS, PlantOptions, SimulationSpec, simulate, write_package

SMALL = SimulationSpec(workers=200, days=7, seed=3)
TS = pa.timestamp("us", tz="Asia/Shanghai")
STR, F64, DATE, BOOL = pa.string(), pa.float64(), pa.date32(), pa.bool_()
CONTRACT: dict[str, dict[str, pa.DataType]] = {
    "orders": {
        "order_id": STR,
        "worker_id": STR,
        "service": STR,
        "status": STR,
        "requested_at": TS,
        "accepted_at": TS,
        "pickup_at": TS,
        "dropoff_at": TS,
        "pickup_zone": STR,
        "dropoff_zone": STR,
        "distance_km": F64,
        "approach_km": F64,
        "customer_id": STR,
        "customer_segment": STR,
        "customer_price": F64,
        "pass_through": F64,
        "worker_pay": F64,
        "incentive": F64,
        "tip": F64,
        "tip_to_worker": F64,
        "commission": F64,
        "injury_premium": F64,
        "injury_premium_payer": STR,
    },
    "offers": {
        "offer_id": STR,
        "order_id": STR,
        "worker_id": STR,
        "offered_at": TS,
        "response": STR,
        "offered_pay": F64,
        "zone": STR,
    },
    "sessions": {"worker_id": STR, "online_at": TS, "offline_at": TS, "zone": STR},
    "payouts": {
        "payout_id": STR,
        "worker_id": STR,
        "period_start": DATE,
        "period_end": DATE,
        "gross_credited": F64,
        "deductions_total": F64,
        "net_paid": F64,
        "paid_at": TS,
    },
    "deductions": {
        "deduction_id": STR,
        "worker_id": STR,
        "order_id": STR,
        "deducted_at": TS,
        "amount": F64,
        "category": STR,
        "reason": STR,
        "appealed": BOOL,
        "appeal_upheld": BOOL,
    },
    "workers": {
        "worker_id": STR,
        "joined_on": DATE,
        "gender": STR,
        "age_band": STR,
        "vehicle_type": STR,
        "home_zone": STR,
        "tier": STR,
    },
    "fee_schedule": {
        "effective_from": DATE,
        "effective_to": DATE,
        "service": STR,
        "zone": STR,
        "commission_rate": F64,
        "commission_cap": F64,
        "announced_at": DATE,
    },
    "account_actions": {
        "worker_id": STR,
        "action": STR,
        "started_at": TS,
        "ended_at": TS,
        "reason": STR,
        "automated": BOOL,
        "decided_by_human": BOOL,
        "explained_at": TS,
        "appealed_at": TS,
        "reviewed_at": TS,
        "outcome": STR,
    },
    "complaints": {
        "complaint_id": STR,
        "worker_id": STR,
        "received_at": TS,
        "category": STR,
        "resolved_at": TS,
        "outcome": STR,
    },
}


# ---------------------------------------------------------------- helpers


def col(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy (timestamps as local wall-clock seconds, nulls as NaN / None)."""
    c = table.column(name)
    if pa.types.is_timestamp(c.type):
        local = pc.local_timestamp(c).cast(pa.int64())
        return np.asarray(local.to_numpy(zero_copy_only=False), dtype=float) / 1e6
    return c.to_numpy(zero_copy_only=False)


def cents(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=float) * 100).astype(np.int64)


def plant(check_id: str, spec: SimulationSpec = SMALL, **options: object) -> sim.SimulatedPackage:
    opts = dataclasses.replace(spec.plant_options, **options)
    return simulate(dataclasses.replace(spec, plants=(check_id,), plant_options=opts))


def worker_attr(pkg: sim.SimulatedPackage, name: str) -> dict[str, str]:
    w = pkg.tables["workers"]
    return dict(zip(col(w, "worker_id"), col(w, name), strict=True))


def cell_rate_ratio(pkg: sim.SimulatedPackage, group: str = "F") -> tuple[float, float]:
    """(within-cell, raw) ratio of orders per online hour, ``group`` vs other genders.

    Cells: zone x local hour x weekend x car/two-wheeler. Within-cell ratio = observed group
    orders / orders expected at the other workers' cell rates (indirect standardisation).
    Two-wheelers only for the raw ratio.
    """
    w = pkg.tables["workers"]
    ids = col(w, "worker_id")
    gender = dict(zip(ids, col(w, "gender"), strict=True))
    car = dict(zip(ids, col(w, "vehicle_type") == "car", strict=True))
    zones = {z: i for i, z in enumerate(sorted(set(col(pkg.tables["sessions"], "zone"))))}

    def cell(zone: np.ndarray, t: np.ndarray, is_car: np.ndarray) -> np.ndarray:
        hour = (t // 3600).astype(np.int64)
        weekend = ((hour // 24 + 3) % 7) >= 5  # 1970-01-01 was a Thursday
        return ((np.vectorize(zones.get)(zone) * 24 + hour % 24) * 2 + weekend) * 2 + is_car

    s = pkg.tables["sessions"]
    on, off, sw = col(s, "online_at"), col(s, "offline_at"), col(s, "worker_id")
    first, last = on // 3600, (off - 1) // 3600
    rep = (last - first + 1).astype(np.int64)
    idx = np.repeat(np.arange(len(on)), rep)
    h = first[idx] + np.arange(len(idx)) - np.repeat(np.cumsum(rep) - rep, rep)
    span = np.minimum(off[idx], (h + 1) * 3600) - np.maximum(on[idx], h * 3600)
    s_car = np.array([car[x] for x in sw[idx]])
    s_cell = cell(col(s, "zone")[idx], h * 3600, s_car)
    s_g = np.array([gender[x] == group for x in sw[idx]])
    o = pkg.tables["orders"]
    ow = col(o, "worker_id")
    o_car = np.array([car[x] for x in ow])
    o_cell = cell(col(o, "pickup_zone"), col(o, "accepted_at"), o_car)
    o_g = np.array([gender[x] == group for x in ow])
    n = int(max(s_cell.max(), o_cell.max())) + 1
    exp_g = np.bincount(s_cell[s_g], span[s_g] / 3600, n)
    exp_r = np.bincount(s_cell[~s_g], span[~s_g] / 3600, n)
    obs_g = np.bincount(o_cell[o_g], minlength=n)
    obs_r = np.bincount(o_cell[~o_g], minlength=n)
    rate_r = np.divide(obs_r, exp_r, out=np.zeros(n), where=exp_r > 0)
    ok = exp_r > 0
    within = obs_g[ok].sum() / (exp_g[ok] * rate_r[ok]).sum()
    two = np.arange(n) % 2 == 0
    raw = (obs_g[two].sum() / exp_g[two].sum()) / (obs_r[two].sum() / exp_r[two].sum())
    return float(within), float(raw)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base() -> sim.SimulatedPackage:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def large() -> sim.SimulatedPackage:
    return simulate(SimulationSpec(workers=1500, days=7, seed=11))


# ---------------------------------------------------------------- API and determinism


def test_public_names_are_exported() -> None:
    assert sorted(sim.__all__) == sorted(
        [
            "PLANT_IDS",
            "DirtyRow",
            "PlantOptions",
            "SimulatedPackage",
            "SimulationSpec",
            "make_dirty_package",
            "simulate",
            "write_package",
        ]
    )
    for name in sim.__all__:
        assert getattr(sim, name) is not None
    assert len(PLANT_IDS) == 23


def test_unknown_plant_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"FEE-01.*DED-01") as err:
        simulate(dataclasses.replace(SMALL, plants=("FEE-99",)))
    assert "FEE-99" in str(err.value)
    with pytest.raises(ValueError, match="workers"):
        simulate(dataclasses.replace(SMALL, workers=0))


def test_same_seed_same_tables_other_seed_other_tables(base: sim.SimulatedPackage) -> None:
    again = simulate(SMALL)
    for name, table in base.tables.items():
        assert table.equals(again.tables[name]), name
    assert json.dumps(base.ground_truth, sort_keys=True) == json.dumps(
        again.ground_truth, sort_keys=True
    )
    other = simulate(dataclasses.replace(SMALL, seed=4))
    assert not other.tables["orders"].equals(base.tables["orders"])
    assert other.tables["orders"].num_rows != base.tables["orders"].num_rows


def test_plant_leaves_unrelated_components_unchanged(base: sim.SimulatedPackage) -> None:
    tipped = plant("FEE-06")
    for name in ("sessions", "offers", "workers", "deductions"):
        assert tipped.tables[name].equals(base.tables[name]), name
    a, b = base.tables["orders"], tipped.tables["orders"]
    for name in a.column_names:
        if name != "tip_to_worker":
            assert a.column(name).equals(b.column(name)), name
    assert (col(b, "tip_to_worker") < col(a, "tip_to_worker")).sum() > 10


def test_dsp04_withholds_only_refused_offers_soon_after_a_refusal(
    base: sim.SimulatedPackage,
) -> None:
    planted = plant("DSP-04", dsp04_withheld=0.5, dsp04_window_minutes=10.0)
    for name in ("orders", "sessions", "workers"):
        assert planted.tables[name].equals(base.tables[name]), name

    def offers(pkg: sim.SimulatedPackage) -> dict[tuple[object, ...], str]:
        t = pkg.tables["offers"]
        keys = zip(
            col(t, "order_id"), col(t, "worker_id"), col(t, "offered_at").astype("int64"),
            strict=True,
        )  # fmt: skip
        return dict(zip(keys, col(t, "response"), strict=True))

    before, after = offers(base), offers(planted)
    assert set(after) <= set(before)
    removed = set(before) - set(after)
    truth = planted.ground_truth["plants"]["DSP-04"]["truth"]
    assert len(removed) == truth["offers_withheld"] > 100
    assert all(before[k] != "accepted" for k in removed)
    # Each withheld offer came within 10 minutes after a refusal the same worker made (one
    # still in the package: an offer never made was never refused).
    refusals: dict[object, list[int]] = {}
    for (_, worker, at), response in after.items():
        if response != "accepted":
            refusals.setdefault(worker, []).append(at)
    window = 10 * 60  # seconds (offered_at as read is in seconds)

    def soon_after_a_refusal(worker: object, at: int) -> bool:
        return any(0 < at - r <= window for r in refusals.get(worker, []))

    assert all(soon_after_a_refusal(worker, at) for _, worker, at in removed)
    exposed = [
        k for k, response in before.items()
        if response != "accepted" and soon_after_a_refusal(k[1], k[2])
    ]  # fmt: skip
    # About half of the refusals soon after a refusal are withheld (binomial, 4 sd).
    n = len(exposed)
    assert abs(len(removed) / n - 0.5) < 4 * (0.25 / n) ** 0.5
    assert truth["share_withheld"] == pytest.approx(len(removed) / truth["offers_after_refusals"])


def test_default_size_is_realistic() -> None:
    pkg = simulate(SimulationSpec())
    n = pkg.tables["orders"].num_rows
    assert 40_000 < n < 90_000
    services = col(pkg.tables["orders"], "service")
    share = {s: float((services == s).mean()) for s in ("food_delivery", "parcel", "ride")}
    assert share["food_delivery"] > 0.6 and 0.04 < share["parcel"] < 0.2
    assert 0.04 < share["ride"] < 0.2
    status = col(pkg.tables["orders"], "status")
    assert 0.02 < (status != "completed").mean() < 0.07


# ---------------------------------------------------------------- contract


def test_tables_follow_the_contract(base: sim.SimulatedPackage) -> None:
    assert set(base.tables) == set(CONTRACT)
    for name, columns in CONTRACT.items():
        schema = base.tables[name].schema
        assert schema.names == list(columns), name
        for column, typ in columns.items():
            assert schema.field(column).type == typ, (name, column)
    o = base.tables["orders"]
    assert set(col(o, "status")) <= {
        "completed",
        "cancelled_by_customer",
        "cancelled_by_worker",
        "cancelled_by_platform",
    }
    assert set(col(o, "customer_segment")) == {"ios", "android", "mini_program"}
    assert set(col(o, "pickup_zone")) <= {f"Z{i:02d}" for i in range(1, 13)}
    assert len(set(col(o, "order_id"))) == o.num_rows
    assert len(set(col(base.tables["offers"], "offer_id"))) == base.tables["offers"].num_rows
    w = base.tables["workers"]
    assert set(col(w, "gender")) == {"F", "M"}
    assert set(col(w, "age_band")) == {"18-29", "30-39", "40-49", "50+"}
    assert set(col(w, "vehicle_type")) == {"e_bike", "motorbike", "car"}
    car = set(col(w, "worker_id")[col(w, "vehicle_type") == "car"])
    rides = col(o, "service") == "ride"
    assert all((x in car) == r for x, r in zip(col(o, "worker_id"), rides, strict=True))
    fee = base.tables["fee_schedule"].to_pylist()
    assert fee[0]["commission_rate"] == 0.2 and fee[0]["commission_cap"] == 0.3
    assert fee[0]["announced_at"] < fee[0]["effective_from"] == SMALL.start


def test_times_are_ordered_and_inside_sessions(base: sim.SimulatedPackage) -> None:
    o = base.tables["orders"]
    req, acc = col(o, "requested_at"), col(o, "accepted_at")
    pick, drop = col(o, "pickup_at"), col(o, "dropoff_at")
    done = col(o, "status") == "completed"
    assert (req <= acc).all()
    assert (acc[done] <= pick[done]).all() and (pick[done] <= drop[done]).all()
    assert np.isnan(pick[~done]).all()
    assert not np.isnan(drop[done]).any()
    s = base.tables["sessions"]
    sw, on, off = col(s, "worker_id"), col(s, "online_at"), col(s, "offline_at")
    assert (off > on).all()
    same = sw[1:] == sw[:-1]
    assert (on[1:][same] >= off[:-1][same]).all()  # sorted per worker, never overlapping
    # every order is accepted inside a session of its worker, and finished within the hour
    con = duckdb.connect()
    con.register("o", o)
    con.register("s", s)
    outside = con.sql("""
        select count(*) from o where not exists (
          select 1 from s where s.worker_id = o.worker_id and s.online_at <= o.accepted_at
            and o.accepted_at < s.offline_at
            and coalesce(o.dropoff_at, o.accepted_at) <= s.offline_at + interval 55 minutes)
        """).fetchone()
    assert outside == (0,)
    con.register("f", base.tables["offers"])
    offline_offers = con.sql("""
        select count(*) from f where not exists (
          select 1 from s where s.worker_id = f.worker_id and s.online_at <= f.offered_at
            and f.offered_at <= s.offline_at)""").fetchone()
    assert offline_offers == (0,)


def test_offers_end_with_the_accepting_worker(base: sim.SimulatedPackage) -> None:
    f, o = base.tables["offers"], base.tables["orders"]
    con = duckdb.connect()
    con.register("f", f)
    con.register("o", o)
    bad = con.sql("""
        select count(*) from o left join (
          select order_id, count(*) filter (where response = 'accepted') as acc,
                 max(offered_at) as last_at,
                 arg_max(worker_id, offered_at) as last_worker, count(*) as n
          from f group by order_id) g using (order_id)
        where g.acc is distinct from 1 or g.last_worker <> o.worker_id
           or g.last_at > o.accepted_at or g.n > 3""").fetchone()
    assert bad == (0,)
    counts = con.sql("select count(*) from f group by order_id").fetchnumpy()["count_star()"]
    assert 0.25 < (counts > 1).mean() < 0.5
    same_zone = con.sql("select bool_and(f.zone = o.pickup_zone) from f join o using (order_id)")
    assert same_zone.fetchone() == (True,)


def test_hour_limits_hold_without_plants(large: sim.SimulatedPackage) -> None:
    truth = large.ground_truth["baseline"]
    assert truth["worker_days_over_12h"] == 0
    assert truth["runs_over_4h_without_break"] == 0
    s = large.tables["sessions"]
    on, off = col(s, "online_at"), col(s, "offline_at")
    assert (off - on).max() <= 3 * 3600
    sw = col(s, "worker_id")
    same = sw[1:] == sw[:-1]
    assert (on[1:][same] - off[:-1][same]).min() >= 85 * 60


# ---------------------------------------------------------------- money


def test_money_identities_without_plants(base: sim.SimulatedPackage) -> None:
    o = base.tables["orders"]
    price, passed = cents(col(o, "customer_price")), cents(col(o, "pass_through"))
    fare = price - passed
    pay, commission = cents(col(o, "worker_pay")), cents(col(o, "commission"))
    assert (fare >= 0).all() and (pay >= 0).all()
    assert (commission == fare - pay).all()
    paid = fare > 0
    rate = commission[paid] / fare[paid]
    assert np.abs(rate - 0.20).max() < 0.01
    assert abs(commission.sum() / fare.sum() - 0.20) < 1e-4
    assert (cents(col(o, "tip_to_worker")) == cents(col(o, "tip"))).all()
    premium = col(o, "injury_premium")
    assert ((premium >= 0.02) & (premium <= 0.05)).all()
    assert set(col(o, "injury_premium_payer")) == {"platform"}
    for name in ("customer_price", "worker_pay", "commission", "offered_pay"):
        table = o if name != "offered_pay" else base.tables["offers"]
        values = col(table, name)
        assert np.allclose(values, np.round(values, 2), atol=1e-9)
    ride = col(o, "service") == "ride"
    done = col(o, "status") == "completed"
    assert (passed[ride & done] > 0).all() and (passed[~(ride & done)] == 0).all()


def test_payouts_reconcile_to_the_cent(base: sim.SimulatedPackage) -> None:
    o, p, d = base.tables["orders"], base.tables["payouts"], base.tables["deductions"]
    con = duckdb.connect()
    for name, table in (("o", o), ("p", p), ("d", d)):
        con.register(name, table)
    mismatch = con.sql("""
        with credit as (
          select worker_id,
                 date_trunc('week', coalesce(dropoff_at, accepted_at) at time zone
                            'Asia/Shanghai')::date as week,
                 sum(round(worker_pay * 100) + round(incentive * 100)
                     + round(tip_to_worker * 100)) as c
          from o group by all),
        taken as (
          select worker_id, date_trunc('week', deducted_at at time zone 'Asia/Shanghai')::date
                 as week, sum(round(amount * 100)) as t from d group by all)
        select count(*) filter (where round(p.gross_credited * 100) <> coalesce(c, 0)
                                or round(p.deductions_total * 100) <> coalesce(t, 0)
                                or round(p.net_paid * 100) <> round(p.gross_credited * 100)
                                   - round(p.deductions_total * 100)
                                or dayofweek(p.period_start) <> 1
                                or p.period_end - p.period_start <> 6),
               count(*), sum(coalesce(c, 0)), (select sum(c) from credit)
        from p left join credit c on c.worker_id = p.worker_id and c.week = p.period_start
               left join taken t on t.worker_id = p.worker_id and t.week = p.period_start
    """).fetchone()
    assert mismatch is not None
    bad, rows, listed, total = mismatch
    assert bad == 0 and rows == p.num_rows
    assert listed == total  # every credit is on some statement
    assert (col(p, "net_paid") >= 0).all()


def test_deductions_are_plausible(base: sim.SimulatedPackage) -> None:
    d = base.tables["deductions"]
    cat = col(d, "category")
    assert {"penalty", "insurance"} <= set(cat)
    assert set(cat) <= {"penalty", "insurance", "equipment", "service_fee", "other"}
    pen = cat == "penalty"
    assert d.column("order_id").null_count == (~pen).sum()
    appealed = col(d, "appealed")
    upheld = d.column("appeal_upheld")
    assert upheld.null_count == (~appealed).sum()
    assert 0.1 < appealed[pen].mean() < 0.4
    n_orders = base.tables["orders"].num_rows
    assert 0.005 < pen.sum() / n_orders < 0.03


def test_deliveries_stack_and_rides_do_not(base: sim.SimulatedPackage) -> None:
    o = base.tables["orders"]
    service, worker = col(o, "service"), col(o, "worker_id")
    start = col(o, "accepted_at")
    end = np.where(np.isnan(col(o, "dropoff_at")), start + 60, col(o, "dropoff_at"))
    for kind in ("food_delivery", "ride"):
        m = service == kind
        order = np.lexsort((start[m], worker[m]))
        w, a, e = worker[m][order], start[m][order], end[m][order]
        overlap = (w[1:] == w[:-1]) & (a[1:] < e[:-1])
        if kind == "ride":
            assert overlap.sum() == 0
        else:
            assert overlap.mean() > 0.3
            # carried at once: the number of earlier orders of the worker still running
            carried = [int(((w[:i] == w[i]) & (e[:i] > a[i])).sum()) for i in range(0, 4000)]
            assert max(carried) >= 2


def test_groups_differ_legitimately_but_not_within_cells(large: sim.SimulatedPackage) -> None:
    within, raw = cell_rate_ratio(large)
    assert abs(within - 1.0) < 0.04
    assert raw < 0.95  # women work quieter zones and hours: a naive comparison sees a gap
    w = large.tables["workers"]
    female = col(w, "gender") == "F"
    car = col(w, "vehicle_type") == "car"
    assert car[female].mean() < car[~female].mean()


# ---------------------------------------------------------------- plants


def test_dsp01_cuts_the_group_order_rate_by_plant_size(large: sim.SimulatedPackage) -> None:
    planted = simulate(dataclasses.replace(large.spec, plants=("DSP-01",)))
    within, _ = cell_rate_ratio(planted)
    base_within, _ = cell_rate_ratio(large)
    assert abs(within - 0.9) < 0.04
    assert abs(within / base_within - 0.9) < 0.015
    truth = planted.ground_truth["plants"]["DSP-01"]
    assert truth["parameters"]["rate_ratio"] == pytest.approx(0.9)
    assert planted.ground_truth["baseline"]["order_rate_ratio_within_zone_hour_true"] == 0.9


def test_fee01_zone_take_rate_and_money_above_cap() -> None:
    pkg = plant("FEE-01")
    o = pkg.tables["orders"]
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    take = fare - cents(col(o, "worker_pay"))
    zone = (col(o, "pickup_zone") == "Z03") & (fare > 0)
    assert take[zone].sum() / fare[zone].sum() == pytest.approx(0.35, abs=1e-3)
    assert take[~zone & (fare > 0)].sum() / fare[~zone].sum() == pytest.approx(0.2, abs=1e-3)
    truth = pkg.ground_truth["plants"]["FEE-01"]["truth"]
    assert truth["money_above_cap"] == pytest.approx(
        (take[zone] - 0.3 * fare[zone]).sum() / 100, abs=0.01
    )
    assert truth["orders"] == zone.sum()


def test_fee02_pay_short_of_declared_commission() -> None:
    pkg = plant("FEE-02")
    o = pkg.tables["orders"]
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    hidden = fare - cents(col(o, "commission")) - cents(col(o, "worker_pay"))
    assert (hidden >= 0).all()
    paid = fare > 0
    assert 0.45 < (hidden[paid] > 0).mean() < 0.55
    declared = cents(col(o, "commission"))[paid].sum() / fare[paid].sum()
    assert declared == pytest.approx(0.2, abs=1e-3)
    truth = pkg.ground_truth["plants"]["FEE-02"]["truth"]
    assert truth["undisclosed_total"] == pytest.approx(hidden.sum() / 100, abs=0.01)


def test_fee03_statements_short_for_listed_workers() -> None:
    pkg = plant("FEE-03")
    p = pkg.tables["payouts"]
    short = (
        cents(col(p, "gross_credited"))
        - cents(col(p, "deductions_total"))
        - cents(col(p, "net_paid"))
    )
    truth = pkg.ground_truth["plants"]["FEE-03"]["truth"]
    ids = col(p, "payout_id")
    listed = {x["payout_id"]: x["shortfall"] for x in truth["payouts"]}
    assert set(ids[short > 0]) == set(listed)
    assert short.sum() / 100 == pytest.approx(truth["shortfall_total"], abs=0.01)
    assert len(truth["workers"]) == 20  # 10 % of 200 workers
    due = cents(col(p, "gross_credited")) - cents(col(p, "deductions_total"))
    assert (short[short > 0] / due[short > 0]) == pytest.approx(0.05, abs=0.002)


@pytest.mark.parametrize("announced", [False, True])
def test_fee04_take_rate_steps_up_mid_period(announced: bool) -> None:
    pkg = plant("FEE-04", dataclasses.replace(SMALL, days=14), fee04_announced=announced)
    o = pkg.tables["orders"]
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    take = fare - cents(col(o, "worker_pay"))
    after = col(o, "accepted_at") // 86400 >= (
        np.datetime64("2026-03-09") - np.datetime64("1970-01-01")
    ).astype(int)
    assert take[after].sum() / fare[after].sum() == pytest.approx(0.25, abs=1e-3)
    assert take[~after].sum() / fare[~after].sum() == pytest.approx(0.20, abs=1e-3)
    fee = pkg.tables["fee_schedule"].to_pylist()
    truth = pkg.ground_truth["plants"]["FEE-04"]
    assert truth["breach"] is (not announced)
    if announced:
        assert len(fee) == 2 and fee[1]["commission_rate"] == pytest.approx(0.25)
        assert (fee[1]["effective_from"] - fee[1]["announced_at"]).days == 14
        assert fee[0]["effective_to"] < fee[1]["effective_from"]
    else:
        assert len(fee) == 1


def test_fee05_pay_follows_per_worker_multiplier() -> None:
    pkg = plant("FEE-05")
    o = pkg.tables["orders"]
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    pay = cents(col(o, "worker_pay"))
    mult = pkg.ground_truth["plants"]["FEE-05"]["truth"]["multipliers"]
    worker = col(o, "worker_id")
    for w in list(mult)[:40]:
        m = (worker == w) & (fare > 0)
        assert pay[m].sum() / (0.8 * fare[m].sum()) == pytest.approx(mult[w], abs=0.005)
    values = np.array(list(mult.values()))
    assert values.min() >= 0.9 and values.max() <= 1.1 and values.std() > 0.04


def test_fee06_tips_cut() -> None:
    pkg = plant("FEE-06")
    o = pkg.tables["orders"]
    tip, kept = cents(col(o, "tip")), cents(col(o, "tip_to_worker"))
    cut = kept < tip
    assert 0.35 < cut.sum() / (tip > 0).sum() < 0.65
    assert ((tip - kept)[cut] / tip[cut]) == pytest.approx(0.1, abs=0.01)
    truth = pkg.ground_truth["plants"]["FEE-06"]["truth"]
    assert truth["withheld_total"] == pytest.approx((tip - kept).sum() / 100, abs=0.01)


def test_pay01_pushes_worker_weeks_below_minimum(base: sim.SimulatedPackage) -> None:
    pkg = plant("PAY-01")
    truth = pkg.ground_truth["plants"]["PAY-01"]["truth"]
    before = base.ground_truth["baseline"]["earnings"]
    assert before["share_below_minimum_engaged"] < 0.05
    assert before["share_below_minimum_online"] < 0.2
    assert truth["share_below_minimum_engaged"] > 0.5
    assert truth["share_below_minimum_online"] > 0.8
    o = pkg.tables["orders"]
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    assert cents(col(o, "commission")).sum() / fare.sum() == pytest.approx(0.2, abs=1e-3)


def test_pay02_group_paid_less_for_same_work() -> None:
    pkg = plant("PAY-02")
    o = pkg.tables["orders"]
    female = {k for k, v in worker_attr(pkg, "gender").items() if v == "F"}
    in_group = np.array([w in female for w in col(o, "worker_id")])
    fare = cents(col(o, "customer_price")) - cents(col(o, "pass_through"))
    pay = cents(col(o, "worker_pay"))
    ratio_g = pay[in_group].sum() / (0.8 * fare[in_group].sum())
    ratio_o = pay[~in_group].sum() / (0.8 * fare[~in_group].sum())
    assert ratio_g == pytest.approx(0.9, abs=0.002) and ratio_o == pytest.approx(1.0, abs=0.002)
    # the quote the worker accepted is what is paid
    f = pkg.tables["offers"].filter(pc.equal(pkg.tables["offers"]["response"], "accepted"))
    by_order = dict(zip(col(o, "order_id"), pay, strict=True))
    assert all(
        by_order[k] == v
        for k, v in zip(col(f, "order_id"), cents(col(f, "offered_pay")), strict=True)
    )


def test_dsp02_group_offered_less() -> None:
    pkg = plant("DSP-02")
    o, f = pkg.tables["orders"], pkg.tables["offers"]
    female = {k for k, v in worker_attr(pkg, "gender").items() if v == "F"}
    fare = dict(
        zip(
            col(o, "order_id"),
            cents(col(o, "customer_price")) - cents(col(o, "pass_through")),
            strict=True,
        )
    )
    offered = cents(col(f, "offered_pay"))
    base_quote = np.array([0.8 * fare[x] for x in col(f, "order_id")])
    in_group = np.array([w in female for w in col(f, "worker_id")])
    declined = col(f, "response") != "accepted"
    for mask, expected in ((in_group, 0.9), (~in_group, 1.0)):
        m = mask & declined & (base_quote > 0)
        assert offered[m].sum() / base_quote[m].sum() == pytest.approx(expected, abs=0.003)


def test_prc01_segment_overcharged(base: sim.SimulatedPackage) -> None:
    pkg = plant("PRC-01")
    a, b = base.tables["orders"], pkg.tables["orders"]
    fa = cents(col(a, "customer_price")) - cents(col(a, "pass_through"))
    fb = cents(col(b, "customer_price")) - cents(col(b, "pass_through"))
    ios = col(b, "customer_segment") == "ios"
    assert fb[ios].sum() / fa[ios].sum() == pytest.approx(1.1, abs=1e-3)
    assert (fb[~ios] == fa[~ios]).all()
    assert cents(col(b, "commission")).sum() / fb.sum() == pytest.approx(0.2, abs=1e-3)


def test_prc02_anomalous_prices_listed() -> None:
    pkg = plant("PRC-02")
    o = pkg.tables["orders"]
    truth = pkg.ground_truth["plants"]["PRC-02"]["truth"]
    assert len(truth["order_ids"]) == 12
    price = dict(zip(col(o, "order_id"), col(o, "customer_price"), strict=True))
    for item in truth["orders"]:
        assert price[item["order_id"]] == pytest.approx(item["customer_price"])
        assert 4.9 < item["customer_price"] / item["normal_price"] < 10.1


def test_hrs01_every_planted_day_breaks_a_limit() -> None:
    pkg = plant("HRS-01")
    truth = pkg.ground_truth["plants"]["HRS-01"]["truth"]
    assert len(truth["workers"]) >= 3 and truth["extra_orders"] > 0
    for day in truth["worker_days"]:
        assert day["online_hours"] > 12.0 or day["longest_continuous_hours"] > 4.0
        if day["kind"] == "no_break":
            assert day["longest_continuous_hours"] > 4.0
    long_days = [d["online_hours"] > 12.0 for d in truth["worker_days"] if d["kind"] == "long_day"]
    assert np.mean(long_days) > 0.9
    s = pkg.tables["sessions"]
    sw = col(s, "worker_id")
    on, off = col(s, "online_at"), col(s, "offline_at")
    same = sw[1:] == sw[:-1]
    assert (on[1:][same] >= off[:-1][same]).all()
    flagged = set(sw[1:][same & (on[1:] - off[:-1] < 1200)])
    assert flagged <= set(truth["workers"])
    o = pkg.tables["orders"]
    rides = o.filter(pc.equal(o["service"], "ride"))
    w, a = col(rides, "worker_id"), col(rides, "accepted_at")
    e = np.where(np.isnan(col(rides, "dropoff_at")), a, col(rides, "dropoff_at"))
    order = np.lexsort((a, w))
    w, a, e = w[order], a[order], e[order]
    assert not ((w[1:] == w[:-1]) & (a[1:] < e[:-1])).any()  # still one ride at a time


def test_ins01_premiums_missing_or_charged_to_workers() -> None:
    pkg = plant("INS-01")
    o = pkg.tables["orders"]
    truth = pkg.ground_truth["plants"]["INS-01"]["truth"]
    worker = col(o, "worker_id")
    missing = np.isnan(col(o, "injury_premium"))
    assert set(worker[missing]) == set(truth["missing_workers"])
    assert missing.sum() == truth["orders_missing_premium"]
    payer = col(o, "injury_premium_payer")
    assert set(worker[payer == "worker"]) == set(truth["worker_paid_workers"])
    assert len(truth["missing_workers"]) == 10


def test_ded01_penalties_concentrated_and_appeals_rarely_upheld() -> None:
    spec = SimulationSpec(workers=1000, days=7, seed=5)
    pkg = plant("DED-01", spec)
    truth = pkg.ground_truth["plants"]["DED-01"]["truth"]
    d, o = pkg.tables["deductions"], pkg.tables["orders"]
    female = {k for k, v in worker_attr(pkg, "gender").items() if v == "F"}
    pen = col(d, "category") == "penalty"
    g_d = np.array([w in female for w in col(d, "worker_id")])
    g_o = np.array([w in female for w in col(o, "worker_id")])
    rate_g = (pen & g_d).sum() / g_o.sum()
    rate_o = (pen & ~g_d).sum() / (~g_o).sum()
    assert rate_g / rate_o == pytest.approx(truth["penalty_rate_ratio_realised"], rel=1e-6)
    assert 1.6 < rate_g / rate_o < 2.4
    assert truth["upheld_rate_group"] < 0.15 < 0.3 < truth["upheld_rate_others"]


def test_all_plants_together_keep_the_books_consistent() -> None:
    options = PlantOptions(pay05_change_day=2)  # FEE-04's unannounced change is on day 3
    pkg = simulate(dataclasses.replace(SMALL, plants=PLANT_IDS, plant_options=options))
    fees = pkg.tables["fee_schedule"].to_pylist()
    assert [r["effective_from"].day for r in fees] == [2, 4]  # SMALL starts on the 2nd
    assert fees[0]["effective_to"].day == 3
    assert set(pkg.ground_truth["plants"]) == set(PLANT_IDS)
    p = pkg.tables["payouts"]
    net = cents(col(p, "net_paid"))
    due = cents(col(p, "gross_credited")) - cents(col(p, "deductions_total"))
    assert (net <= due).all() and (net < due).any()

    def plain(value: object) -> bool:  # only JSON's own types, no numpy scalars
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool)

    assert plain(pkg.ground_truth)


# ---------------------------------------------------------------- writing


def _equal_after_reading(original: pa.Table, read: pa.Table) -> None:
    assert read.num_rows == original.num_rows
    assert read.column_names == original.column_names
    for name in original.column_names:
        a, b = original.column(name), read.column(name)
        if pa.types.is_timestamp(a.type):
            b = (
                b.cast(pa.timestamp("us", tz="UTC"))
                if pa.types.is_timestamp(b.type)
                else (pc.strptime(b, format="%Y-%m-%dT%H:%M:%S%z", unit="us"))
            )
            a = a.cast(pa.timestamp("us", tz="UTC"))
            b = b.cast(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_date(a.type) and not pa.types.is_date(b.type):
            b = b.cast(pa.date32())
        elif a.type == pa.string() and b.type != pa.string():
            b = b.cast(pa.string())  # e.g. a column of only nulls read as null type
        elif pa.types.is_floating(a.type):
            b = b.cast(pa.float64())
        assert a.equals(b.cast(a.type)), name


@pytest.mark.parametrize(
    ("fmt", "encoding"),
    [("csv", "utf-8"), ("csv", "gb18030"), ("parquet", "utf-8"), ("jsonl", "utf-8")],
)
def test_write_and_read_back(tmp_path: Path, fmt: str, encoding: str) -> None:
    pkg = simulate(dataclasses.replace(SMALL, workers=60, days=3, plants=("INS-01", "FEE-04")))
    out = write_package(pkg, tmp_path / "a", fmt=fmt, encoding=encoding, chunk_rows=700)
    again = write_package(pkg, tmp_path / "b", fmt=fmt, encoding=encoding)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{n}.{fmt}" for n in CONTRACT] + ["ground_truth.json"])
    for name in files:  # deterministic bytes, whatever the chunking
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    assert json.loads((out / "ground_truth.json").read_text("utf-8")) == json.loads(
        json.dumps(pkg.ground_truth)
    )
    for name, table in pkg.tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            read = pq.read_table(path)
            assert read.schema.equals(table.schema)
        elif fmt == "csv":
            types = {c: pa.string() for c in table.column_names}
            read = pa_csv.read_csv(
                path,
                read_options=pa_csv.ReadOptions(encoding=encoding),
                convert_options=pa_csv.ConvertOptions(
                    column_types={
                        **types,
                        **{c: t for c, t in CONTRACT[name].items() if t in (F64, BOOL, DATE)},
                    },
                    strings_can_be_null=True,
                ),
            )
        else:
            read = duckdb.sql(
                f"select * from read_json('{path}', format='newline_delimited', "
                "columns={"
                + ", ".join(f"'{c}': '{_duck_text_type(t)}'" for c, t in CONTRACT[name].items())
                + "})"
            ).to_arrow_table()
        _equal_after_reading(table, read)
    if fmt == "csv":
        text = (out / "orders.csv").read_bytes().decode(encoding)
        first = text.splitlines()[1].split(",")
        assert first[5].endswith("+08:00") and first[5][10] == "T"
        reasons = (out / "deductions.csv").read_bytes().decode(encoding)
        assert "每日意外险" in reasons
        if encoding == "gb18030":
            with pytest.raises(UnicodeDecodeError):
                (out / "deductions.csv").read_bytes().decode("utf-8")


def _duck_text_type(t: pa.DataType) -> str:
    return {F64: "DOUBLE", BOOL: "BOOLEAN", DATE: "DATE"}.get(t, "VARCHAR")


def test_write_rejects_unknown_format(base: sim.SimulatedPackage, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="csv, parquet, jsonl"):
        write_package(base, tmp_path, fmt="xlsx")


def test_plant_options_are_validated() -> None:
    with pytest.raises(ValueError, match="fee01_zone"):
        simulate(
            dataclasses.replace(
                SMALL, plants=("FEE-01",), plant_options=PlantOptions(fee01_zone="Z42")
            )
        )
    with pytest.raises(ValueError, match="group_value"):
        simulate(
            dataclasses.replace(
                SMALL, plants=("PAY-02",), plant_options=PlantOptions(group_value="X")
            )
        )
