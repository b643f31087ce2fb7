"""Calibration of the group-disparity statistics (DSP-01, DSP-02, PAY-02, PRC-01, DED-01,
FEE-05): on worlds with no bias, where groups differ for legitimate reasons and orders are
clustered in workers, the rate of ``fail`` (and of p < alpha) stays near alpha; with a
planted 10 % gap and a few hundred workers, ``fail`` comes in at least 90 % of runs.

The worlds are drawn by ``auditor.simulate._stat_worlds`` (milliseconds each), so 200
replicates per scenario stay fast; ``docs/validation.md`` has the 1,000-replicate run.
Each replicate runs the checks' own estimator and verdict, including the switch to a
permutation p-value when a side has few (effective) workers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest
import statsmodels.api as sm

from auditor.simulate._calibration import replicate_effects, replicate_spread, summarise
from auditor.simulate._stat_worlds import RateWorld, WorkWorld
from auditor.stats import CellMoments, RateCells, poisson_effect, within_effect

SIMS = 200
ALPHA = 0.05
FPR_BOUND = 0.08

# Scenarios with no bias. "legitimate": the group works low-demand zones and late hours
# and does shorter trips; "dominated": 3 of the group's workers are 20x as active as the
# rest; "heavy": lognormal(sd 1) activity, a few workers carry most orders.
NULL_RATE = {
    "dsp01_legitimate_heavy": RateWorld(workers=300, group_share=0.3),
    "dsp01_dominated": RateWorld(workers=120, group_share=0.25, dominant=3),
    "ded01_penalties": RateWorld(
        workers=300, group_share=0.3, base_rate=0.02, exposure_scale=30.0, overdispersion=0.0
    ),
}
NULL_WORK = {
    "pay02_legitimate_heavy": WorkWorld(workers=300, group_share=0.3),
    "pay02_dominated": WorkWorld(workers=120, group_share=0.25, dominant=3, orders_per_worker=30),
    "prc01_customers": WorkWorld(
        workers=1500, group_share=0.3, orders_per_worker=4, activity_sd=0.7, worker_sd=0.02
    ),
}


@pytest.mark.parametrize("name", sorted(NULL_RATE))
def test_rate_ratio_holds_its_level_without_bias(name: str) -> None:
    rates = summarise(replicate_effects(NULL_RATE[name], SIMS, seed=10_000, permutations=99))
    assert rates["estimable"] >= 0.95 * SIMS
    assert rates["rejected"] <= FPR_BOUND, rates
    assert rates["fail"] <= FPR_BOUND, rates
    assert rates["coverage"] >= 0.92, rates


@pytest.mark.parametrize("name", sorted(NULL_WORK))
def test_pay_ratio_holds_its_level_without_bias(name: str) -> None:
    rates = summarise(replicate_effects(NULL_WORK[name], SIMS, seed=20_000, permutations=99))
    assert rates["rejected"] <= FPR_BOUND, rates
    assert rates["fail"] <= FPR_BOUND, rates
    assert rates["coverage"] >= 0.92, rates
    assert abs(rates["median_ratio"] - 1.0) < 0.01, rates


def test_order_level_test_ignoring_workers_would_reject_fair_audits() -> None:
    """The reason for clustering: the same data with an order-level (model-based) variance
    rejects far more often than alpha. A guard that the worlds are hard enough."""
    world = NULL_RATE["dsp01_legitimate_heavy"]
    rejected = 0
    from auditor.simulate._stat_worlds import draw_rate_cells

    for r in range(100):
        cells, group = draw_rate_cells(world, np.random.default_rng(10_000 + r))
        rc = RateCells(cells["count"], cells["exposure"], cells["stratum"], cells["cluster"])
        b, _ = rc.fit(group)
        info = rc.information(group).sum()  # Fisher information at the fit, order level
        rejected += abs(b) * np.sqrt(info) > 1.96
    assert rejected / 100 > 0.2


POWER_RATE = {
    "dsp01_10pct_500_workers": RateWorld(workers=500, group_share=0.5, ratio=0.9),
    "ded01_10pct_penalties": RateWorld(
        workers=400, group_share=0.5, ratio=1.1, base_rate=0.02, exposure_scale=60.0,
        cells_per_worker=40, overdispersion=0.0, productivity_sd=0.1,
    ),
}  # fmt: skip
POWER_WORK = {
    "pay02_10pct_300_workers": WorkWorld(workers=300, group_share=0.3, ratio=0.9),
    "prc01_10pct_customers": WorkWorld(
        workers=1500, group_share=0.3, orders_per_worker=4, activity_sd=0.7, ratio=1.1
    ),
}


@pytest.mark.parametrize("name", sorted(POWER_RATE))
def test_rate_gap_of_ten_percent_is_found(name: str) -> None:
    world = POWER_RATE[name]
    rates = summarise(replicate_effects(world, SIMS, seed=30_000, permutations=99))
    assert rates["fail"] >= 0.90, rates
    assert abs(rates["median_ratio"] / world.ratio - 1) < 0.02, rates


@pytest.mark.parametrize("name", sorted(POWER_WORK))
def test_pay_gap_of_ten_percent_is_found(name: str) -> None:
    world = POWER_WORK[name]
    rates = summarise(replicate_effects(world, SIMS, seed=40_000, permutations=99))
    assert rates["fail"] >= 0.90, rates
    assert rates["coverage"] >= 0.90, rates


def test_personalised_pay_spread_holds_its_level_and_finds_a_ten_percent_spread() -> None:
    """FEE-05's one-way ANOVA of residuals is conservative (strata demeaning shrinks worker
    means), so its level is below alpha; a +-10 % spread of worker pay is still found."""
    null = summarise(replicate_spread(WorkWorld(workers=200, worker_sd=0.0), SIMS, seed=50_000))
    assert null["fail"] <= FPR_BOUND, null
    planted = summarise(
        replicate_spread(WorkWorld(workers=200, worker_sd=0.0, spread=0.10), SIMS, seed=60_000)
    )
    assert planted["fail"] >= 0.90, planted


def test_poisson_fixed_effects_equal_statsmodels_glm() -> None:
    rng = np.random.default_rng(1)
    g_n, s_n, n = 40, 8, 600
    cl, st = rng.integers(0, g_n, n), rng.integers(0, s_n, n)
    treat = rng.random(g_n) < 0.4
    exposure = rng.uniform(0.2, 3.0, n)
    u = rng.normal(0, 0.3, g_n)
    y = rng.poisson(exposure * np.exp(0.3 * st / s_n + 0.2 * treat[cl] + u[cl]))
    ours = poisson_effect(RateCells(y, exposure, st, cl), treat, method="t")
    x = pd.get_dummies(st).astype(float)
    x.insert(0, "t", treat[cl].astype(float))
    ref = sm.GLM(y, x, family=sm.families.Poisson(), offset=np.log(exposure)).fit(
        cov_type="cluster", cov_kwds={"groups": cl}
    )
    assert ours.log_effect == pytest.approx(ref.params["t"], abs=1e-9)
    assert ours.se == pytest.approx(ref.bse["t"], rel=1e-9)


def test_cell_moments_give_the_unit_level_fit() -> None:
    """Summing units into (cluster, stratum) cells changes nothing: same coefficient, same
    cluster-robust SE, same residual sums (the engine sends cells, not orders)."""
    rng = np.random.default_rng(3)
    n = 3000
    cl, st = rng.integers(0, 60, n), rng.integers(0, 12, n)
    z = rng.normal(size=(n, 3))
    y = z @ [0.3, -0.1, 0.2] + 0.05 * (cl % 2) + rng.normal(size=n)
    units = CellMoments.from_units(y, st, cl, z)
    key = cl * 12 + st
    cells_idx, inv = np.unique(key, return_inverse=True)
    s = lambda v: np.bincount(inv, weights=v)  # noqa: E731
    cells = CellMoments.from_cells(
        n=np.bincount(inv).astype(float), sy=s(y), syy=s(y * y),
        sz=np.column_stack([s(z[:, j]) for j in range(3)]),
        szz=np.stack(
            [np.column_stack([s(z[:, i] * z[:, j]) for j in range(3)]) for i in range(3)], axis=1
        ),
        syz=np.column_stack([s(y * z[:, j]) for j in range(3)]),
        stratum=cells_idx % 12, cluster=cells_idx // 12,
    )  # fmt: skip
    treat = np.arange(60) % 2 == 1
    a = within_effect(units, treat, method="u")
    b = within_effect(cells, treat, method="c")
    assert b.log_effect == pytest.approx(a.log_effect, rel=1e-10)
    assert b.se == pytest.approx(a.se, rel=1e-10)
    ra, rb = units.residual_sums(units.covariate_fit()), cells.residual_sums(cells.covariate_fit())
    np.testing.assert_allclose(rb[0], ra[0], atol=1e-8)
    np.testing.assert_allclose(rb[1], ra[1], rtol=1e-10)


def test_within_strata_ols_equals_statsmodels_with_dummies() -> None:
    rng = np.random.default_rng(2)
    g_n, s_n, n = 40, 8, 600
    cl, st = rng.integers(0, g_n, n), rng.integers(0, s_n, n)
    treat = rng.random(g_n) < 0.4
    z = rng.normal(size=(n, 2))
    y = (
        z @ [0.5, -0.2]
        + 0.1 * treat[cl]
        + 0.1 * st
        + rng.normal(size=n)
        + rng.normal(0, 0.5, g_n)[cl]
    )
    ours = within_effect(CellMoments.from_units(y, st, cl, z), treat, method="t")
    x = pd.get_dummies(st).astype(float)
    x.insert(0, "t", treat[cl].astype(float))
    x["z0"], x["z1"] = z[:, 0], z[:, 1]
    ref = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": cl})
    assert ours.log_effect == pytest.approx(ref.params["t"], abs=1e-9)
    assert ours.se == pytest.approx(ref.bse["t"], rel=1e-9)


def test_identical_outcomes_give_no_estimate_rather_than_rounding_noise() -> None:
    """With no variation left within strata, the coefficient and its error are rounding
    noise; reporting them would make reruns differ. They are 'not estimable' instead."""
    rng = np.random.default_rng(4)
    n = 400
    cl, st = rng.integers(0, 40, n), rng.integers(0, 5, n)
    y = np.full(n, np.log(15.2))
    est = within_effect(CellMoments.from_units(y, st, cl), np.arange(40) % 2 == 0, method="t")
    assert np.isnan(est.log_effect) and np.isnan(est.p_value)


def test_cell_moments_subset_keeps_whole_clusters_only() -> None:
    """Second moments are per cluster: a subset of whole clusters gives the fit of those
    clusters' units, and a subset that splits a cluster is refused, not silently wrong."""
    rng = np.random.default_rng(5)
    n = 2000
    cl, st = rng.integers(0, 30, n), rng.integers(0, 6, n)
    z = rng.normal(size=(n, 2))
    y = z @ [0.2, -0.3] + 0.1 * (cl % 3 == 0) + rng.normal(size=n)
    units = CellMoments.from_units(y, st, cl, z)
    keep = np.arange(30) % 2 == 0
    rows = keep[cl]
    renumber = np.cumsum(keep) - 1
    sub = units.subset(rows, renumber[cl[rows]])
    direct = CellMoments.from_units(y[rows], st[rows], renumber[cl[rows]], z[rows])
    treat = (np.arange(15) % 3) == 0
    a, b = within_effect(sub, treat, method="s"), within_effect(direct, treat, method="d")
    assert a.log_effect == pytest.approx(b.log_effect, rel=1e-12)
    assert a.se == pytest.approx(b.se, rel=1e-12)
    split = rows & (np.arange(n) % 2 == 0)
    with pytest.raises(ValueError, match="whole clusters"):
        units.subset(split, renumber[cl[split]])


@pytest.mark.parametrize("few_clusters", [False, True])
def test_engine_cell_moments_match_the_unit_level_fit(few_clusters: bool) -> None:
    """``work_cells`` in the engine (second moments per worker, or per cell when clusters
    are few) gives the fit of the units themselves, including units it must leave out."""
    import ibis

    from auditor.checks._codes import strata
    from auditor.checks._work import work_cells

    rng = np.random.default_rng(11)
    n = 4000
    worker = rng.integers(0, 40, n)
    zone = rng.choice(["Z1", "Z2", "Z3"], n)
    hour = rng.integers(0, 4, n)
    weekend = rng.random(n) < 0.3
    dist = np.exp(rng.normal(1, 0.5, n))
    trip = np.exp(rng.normal(2.5, 0.4, n))
    dist[:25] = 0.0  # left out: a covariate that is not positive
    y = 0.4 * np.log(dist.clip(1e-9)) + 0.3 * np.log(trip) + 0.05 * (worker % 2)
    y = y + rng.normal(0, 0.2, n)
    con = ibis.duckdb.connect()
    units = con.create_table(
        "units",
        ibis.memtable(
            {
                "worker_id": [f"W{w:03d}" for w in worker],
                "zone": zone,
                "service": "ride",
                "weekend": weekend,
                "hour": hour.astype(np.int8),
                "y": y,
                "distance_km": dist,
                "trip_minutes": trip,
            }
        ),
    )
    work = work_cells(
        units, "worker_id", ("distance_km", "trip_minutes"), few_clusters=few_clusters
    )
    assert work.excluded == 25 and work.units == n - 25
    keep = dist > 0
    ld, lt = np.log(dist[keep]), np.log(trip[keep])
    z = np.column_stack([ld, lt, ld * ld, lt * lt, ld * lt])
    codes = np.unique(worker[keep], return_inverse=True)[1]
    zone_code = np.unique(zone[keep], return_inverse=True)[1]
    stratum = strata(zone_code, weekend[keep].astype(np.int64), hour[keep].astype(np.int64))
    reference = CellMoments.from_units(y[keep], stratum, codes, z)
    treat = np.arange(40) % 2 == 1
    a = within_effect(work.cells, treat, method="engine")
    b = within_effect(reference, treat, method="units")
    assert a.log_effect == pytest.approx(b.log_effect, rel=1e-7)
    assert a.se == pytest.approx(b.se, rel=1e-6)
    np.testing.assert_allclose(work.cells.syy, reference.syy, rtol=1e-8)
    np.testing.assert_allclose(work.cells.szz, reference.szz, rtol=1e-8)


def test_stratum_codes_give_the_cells_of_the_four_keys() -> None:
    """DSP-02's units carry one stratum code instead of the four stratum keys: the codes
    follow the keys' sort order (a missing zone or service as empty, a missing hour as
    -1), and the cells are bit for bit those grouped by the keys."""
    import ibis

    from auditor.checks._work import stratum_codes, work_cells
    from auditor.config import AuditConfig
    from auditor.engine import connect

    rng = np.random.default_rng(5)
    n = 3000
    hour = rng.integers(0, 4, n).astype(float)
    hour[:40] = np.nan
    orders = {
        "order_id": [f"O{i:05d}" for i in range(n)],
        "worker_id": [f"W{w:03d}" for w in rng.integers(0, 30, n)],
        "pickup_zone": rng.choice(np.array(["Z2", "Z1", None], dtype=object), n),
        "service": rng.choice(np.array(["ride", "food", None], dtype=object), n),
        "weekday": rng.integers(0, 7, n).astype(np.int8),
        "local_hour": pd.array(hour, dtype="Int8"),
        "y": rng.normal(2.0, 0.3, n),
        "distance_km": np.exp(rng.normal(1, 0.5, n)),
        "trip_minutes": np.exp(rng.normal(2.5, 0.4, n)),
    }
    used = ("distance_km", "trip_minutes")
    with connect(AuditConfig()) as engine:
        o = engine.con.create_table("orders", ibis.memtable(pd.DataFrame(orders)))
        by_keys = o.select(
            "worker_id",
            "y",
            "distance_km",
            "trip_minutes",
            zone=o.pickup_zone.fill_null(""),
            service=o.service.fill_null(""),
            weekend=(o.weekday >= 5).fill_null(False),
            hour=o.local_hour.fill_null(-1),
        )
        coded, with_code = stratum_codes(o, engine, "t_strata")
        by_code = with_code.select("worker_id", "y", "stratum", "distance_km", "trip_minutes")
        a = work_cells(by_keys, "worker_id", used)
        b = work_cells(by_code, "worker_id", used, coded=coded)
        key_rows = coded.keys.to_pylist()
    assert key_rows == sorted(
        key_rows, key=lambda r: (r["zone"], r["service"], r["weekend"], r["hour"])
    )
    assert {r["hour"] for r in key_rows} == {-1, 0, 1, 2, 3}
    assert {r["zone"] for r in key_rows} == {"", "Z1", "Z2"}
    for name in ("n", "sy", "sz", "stratum", "cluster", "syy", "szz", "syz"):
        np.testing.assert_array_equal(getattr(a.cells, name), getattr(b.cells, name))
    for name in ("zone", "service", "weekend", "hour"):
        np.testing.assert_array_equal(a.keys[name], b.keys[name])
    assert a.values == b.values and list(a.cluster_ids) == list(b.cluster_ids)
    assert (a.units, a.excluded) == (b.units, b.excluded) == (n, 0)


def test_segment_price_joint_fit_equals_statsmodels_clustered_by_customer() -> None:
    """PRC-01's joint fit (all segments at once, strata absorbed, the scores summed per
    customer in the engine) is the order-level least squares with segment, stratum and
    covariate columns, clustered by customer (CR1, as statsmodels)."""
    from types import SimpleNamespace

    import ibis

    from auditor.checks._codes import strata
    from auditor.checks._pricing import _joint_fit
    from auditor.checks._work import work_cells
    from auditor.config import AuditConfig
    from auditor.engine import connect

    rng = np.random.default_rng(12)
    n, customers = 3000, 400
    who = rng.integers(0, customers, n)
    segment = np.array(["app", "ios", "web"])[rng.integers(0, 3, customers)][who]
    zone, hour = rng.choice(["Z1", "Z2", "Z3"], n), rng.integers(0, 4, n)
    weekend = rng.random(n) < 0.3
    dist, trip = np.exp(rng.normal(1, 0.5, n)), np.exp(rng.normal(2.5, 0.4, n))
    y = 0.4 * np.log(dist) + 0.3 * np.log(trip) + 0.08 * (segment == "ios") + 0.1 * hour
    y = y + rng.normal(0, 0.3, customers)[who] + rng.normal(0, 0.2, n)
    frame = {
        "_who": [f"C{c:04d}" for c in who],
        "customer_segment": segment,
        "zone": zone,
        "service": "ride",
        "weekend": weekend,
        "hour": hour.astype(np.int8),
        "y": y,
        "distance_km": dist,
        "trip_minutes": trip,
    }
    used = ("distance_km", "trip_minutes")
    with connect(AuditConfig()) as engine:
        units = engine.con.create_table("units", ibis.memtable(frame))
        cells = work_cells(
            units.mutate(_seg=units.customer_segment), "_seg", used, few_clusters=True
        )
        segments = [str(v) for v in cells.cluster_ids]
        joint = _joint_fit(SimpleNamespace(engine=engine), units, cells, segments, "app", used)
        effects = {g: joint.effect(g) for g in ("ios", "web")}
    ld, lt = np.log(dist), np.log(trip)
    x = pd.get_dummies(
        strata(
            np.unique(zone, return_inverse=True)[1],
            weekend.astype(np.int64),
            hour.astype(np.int64),
        )
    ).astype(float)
    x.insert(0, "ios", (segment == "ios").astype(float))
    x.insert(1, "web", (segment == "web").astype(float))
    for name, column in zip(
        ("ld", "lt", "ld2", "lt2", "ldlt"), (ld, lt, ld * ld, lt * lt, ld * lt), strict=True
    ):
        x[name] = column
    ref = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": who})
    for g, est in effects.items():
        assert est.log_effect == pytest.approx(ref.params[g], abs=1e-9)
        assert est.se == pytest.approx(ref.bse[g], rel=1e-8)
        assert est.n_clusters_group == len(set(who[segment == g]))
    assert effects["ios"].n_clusters_reference == len(set(who[segment == "app"]))


def test_whole_sum_is_exact_past_64_bits_and_order_free() -> None:
    """``whole_sum`` (PRC-01's score products) adds integers exactly beyond 2**63, and
    gives the same total in any row order."""
    import ibis

    from auditor.checks._work import SUM_SCALE, whole_sum

    con = ibis.duckdb.connect()
    values = [1e11] * 4 + [0.1, -0.3, 1e-9]
    expected = 4 * 10**11 * int(SUM_SCALE) + sum(round(v * SUM_SCALE) for v in values[4:])
    for order in (values, values[::-1]):
        t = con.create_table("t", ibis.memtable({"x": order}), overwrite=True)
        assert int(t.aggregate(s=whole_sum(t.x)).execute()["s"].iloc[0]) == expected
    assert expected > 2**63


def test_cells_summed_again_over_segments_equal_the_direct_grouping() -> None:
    """PRC-01 and PRC-02 share one grouping per segment and stratum: summed again over
    segments (PRC-02) or filtered to orders with a segment (PRC-01), the cells are
    bit-for-bit those of a grouping of their own."""
    import ibis

    from auditor.checks._work import cell_table, few_cluster_cells, work_cells

    rng = np.random.default_rng(13)
    n = 5000
    segment = rng.choice(np.array(["app", "ios", "web", None], dtype=object), n)
    frame = {
        "customer_segment": segment,
        "zone": rng.choice(["Z1", "Z2", "Z3"], n),
        "service": rng.choice(["ride", "food"], n),
        "weekend": rng.random(n) < 0.3,
        "hour": rng.integers(0, 5, n).astype(np.int8),
        "y": rng.normal(3, 0.5, n),
        "distance_km": np.where(rng.random(n) < 0.01, 0.0, np.exp(rng.normal(1, 0.5, n))),
        "trip_minutes": np.exp(rng.normal(2.5, 0.4, n)),
    }
    used = ("distance_km", "trip_minutes")
    con = ibis.duckdb.connect()
    units = con.create_table("units", ibis.memtable(frame))
    keys = ("_seg", "zone", "service", "weekend", "hour")
    shared = cell_table(units.mutate(_seg=units.customer_segment), keys, used)
    with_segment = units.filter(units.customer_segment.notnull())
    pairs = [
        (
            few_cluster_cells(shared, "service"),
            work_cells(units, "service", used, few_clusters=True),
        ),
        (
            few_cluster_cells(shared, "_seg", pc.is_valid(shared.table["_seg"])),
            work_cells(
                with_segment.mutate(_seg=with_segment.customer_segment), "_seg", used,
                few_clusters=True,
            ),
        ),
    ]  # fmt: skip
    for got, own in pairs:
        assert (got.units, got.excluded) == (own.units, own.excluded)
        assert list(got.cluster_ids) == list(own.cluster_ids)
        for name in ("n", "sy", "sz", "syy", "szz", "syz", "stratum", "cluster"):
            np.testing.assert_array_equal(getattr(got.cells, name), getattr(own.cells, name))
    assert pairs[0][0].units + pairs[0][0].excluded == n
