"""Calibration of the group-disparity statistics (DSP-01, DSP-02, DSP-03, PAY-02, PRC-01,
DED-01, FEE-05) on worlds built to fool them, and their power on planted breaches.

Each replicate runs the checks' own estimator and verdict (``auditor.simulate._calibration``):
CR2 standard errors with Bell-McCaffrey degrees of freedom (or the exact test when a side has
no events), a family of one test, ``fail`` only when a minimum-effect test shows the gap
beyond the 5 % band. The worlds are drawn by ``auditor.simulate._stat_worlds``
(milliseconds each), so 200 replicates per scenario stay fast; ``docs/validation.md`` has the
1,000-replicate run.

Bounds at 200 replicates: the rate of ``fail`` (and of rejecting a true ratio) at most
alpha + 2 Monte Carlo standard errors, 0.081; interval coverage within 0.95 +- 3 standard
errors, 0.904 to 0.996 (over some 25 scenarios, 2 standard errors would put one outside by
chance; ``docs/validation.md`` holds coverage to 93.5-96.5 % over 1,000 replicates).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.simulate._calibration import (
    money_cells,
    replicate_effects,
    replicate_intersection,
    replicate_spread,
    summarise,
)
from auditor.simulate._scenarios import (
    INTERSECTION,
    NO_BREACH,
    PLANTED,
    SPREAD_NO_BREACH,
    SPREAD_PLANTED,
)
from auditor.simulate._stat_worlds import RateWorld, WorkWorld, draw_rate_cells, draw_work_units

SIMS = 200
ALPHA = 0.05
MC_SE = math.sqrt(ALPHA * (1 - ALPHA) / SIMS)
FPR_BOUND = round(ALPHA + 2 * MC_SE, 3)  # 0.081
COVER_SE = math.sqrt(0.95 * 0.05 / SIMS)
COVERAGE = (0.95 - 3 * COVER_SE, 0.95 + 3 * COVER_SE)  # 0.904 to 0.996


@pytest.mark.parametrize("name", sorted(NO_BREACH))
def test_no_breach_world_holds_its_level_and_covers_the_truth(name: str) -> None:
    world, outcome = NO_BREACH[name].world, NO_BREACH[name].outcome
    rates = summarise(replicate_effects(world, SIMS, seed=10_000, outcome=outcome))
    assert rates["estimable"] >= 0.95 * SIMS, rates
    assert rates["fail"] <= FPR_BOUND, rates
    assert COVERAGE[0] <= rates["coverage"] <= COVERAGE[1], rates
    if world.truth_of(outcome) == 1.0:
        # A true ratio of 1: the test of no gap holds its level too.
        assert rates["rejected"] <= FPR_BOUND, rates


def test_dominant_and_bridging_workers_leave_few_degrees_of_freedom_and_are_suppressed() -> None:
    """Two workers 50x as active carry their group of 40; three workers bridge the strata of
    their group of 30: the degrees of freedom say so (a handful, not 40 or 30), and the
    comparison is not published (fewer than 10 effective workers)."""
    for key in ("dsp01_two_dominant_workers_in_40", "dsp01_3_bridging_workers_of_30",
                "pay02_two_dominant_workers_in_40", "pay02_3_bridging_workers_of_30"):  # fmt: skip
        world, outcome = NO_BREACH[key].world, NO_BREACH[key].outcome
        rates = summarise(replicate_effects(world, 60, seed=11_000, outcome=outcome))
        assert rates["median_df"] < 8, (key, rates)
        assert rates["suppressed"] >= 0.9, (key, rates)
        assert rates["published_fail"] == 0.0, (key, rates)


@pytest.mark.parametrize("bridges", [2, 4])
@pytest.mark.parametrize("outcome", ["count", "pay"])
def test_a_group_bridged_by_two_to_four_workers_holds_its_level(bridges: int, outcome: str) -> None:
    """A group of 30 of whom only 2 or 4 work where the reference does (the suite's named
    scenario has 3): no false accusation beyond alpha's Monte Carlo bound, a true ratio of
    1 rejected no more often, and intervals that cover it."""
    world: RateWorld | WorkWorld = (
        RateWorld(workers=200, group_share=0.15, bridges=bridges)
        if outcome == "count"
        else WorkWorld(workers=200, group_share=0.15, bridges=bridges)
    )
    rates = summarise(replicate_effects(world, SIMS, seed=15_000 + bridges, outcome=outcome))  # type: ignore[arg-type]
    assert rates["fail"] <= FPR_BOUND, rates
    assert rates["rejected"] <= FPR_BOUND, rates
    assert rates["coverage"] >= COVERAGE[0], rates


def test_declines_show_in_the_accepted_view_not_in_the_offers() -> None:
    """A group declining 25 % more of the same offers: the offers per online hour show no gap
    (previous test), while accepted orders, the labelled second view, show 0.75."""
    world = RateWorld(declines=0.25)
    rates = summarise(replicate_effects(world, 100, seed=12_000, outcome="accepted"))
    assert abs(rates["median_ratio"] - 0.75) < 0.02, rates
    assert rates["fail"] >= 0.9, rates


def test_a_gap_inside_the_band_never_fails_even_with_many_workers() -> None:
    """A true ratio of 0.955 is inside the 5 % band (0.952): with 800 workers the old rule
    (significant and estimate beyond the band) failed about half the time; the
    minimum-effect test fails at most alpha / 2 at the band's edge, less inside it."""
    for key in ("dsp01_gap_inside_band_many_workers", "pay02_gap_inside_band_many_workers"):
        world, outcome = NO_BREACH[key].world, NO_BREACH[key].outcome
        frame = replicate_effects(world, 100, seed=13_000, outcome=outcome)
        rates = summarise(frame)
        beyond = float(((frame["ratio"] < 0.95) & frame["ok"]).mean())
        assert rates["fail"] <= 0.03, (key, rates)
        assert beyond > 0.2, (key, beyond)  # the old rule would have failed these


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_breach_is_found(name: str) -> None:
    world, outcome = PLANTED[name].world, PLANTED[name].outcome
    frame = replicate_effects(world, SIMS, seed=30_000, outcome=outcome)
    rates = summarise(frame)
    assert rates["fail"] >= 0.90, rates
    assert rates["published_fail"] >= 0.90, rates
    truth = world.truth_of(outcome)
    if truth > 0:
        assert abs(rates["median_ratio"] / truth - 1) < 0.02, rates
        assert rates["coverage"] >= COVERAGE[0], rates
    else:
        assert rates["median_ratio"] == 0.0 and frame["exclusion"].all(), rates


def test_harm_at_an_intersection_is_found_there_and_diluted_at_the_margin() -> None:
    """Workers who are both A and B (15 % of 600) paid 10 % less: the intersection comparison
    finds it; the comparison of A with not A sees a diluted gap inside the band."""
    frame = replicate_intersection(INTERSECTION, 100, 14_000)
    assert frame["intersection_fail"].mean() >= 0.9
    assert frame["margin_fail"].mean() <= FPR_BOUND
    assert abs(frame["intersection_ratio"].median() - 0.9) < 0.02


def test_personalised_pay_holds_its_level_and_finds_a_ten_percent_spread() -> None:
    """FEE-05 on the ratio of pay to what the work pays: no fail with no personalised pay,
    on bonus dates the workers work unevenly, or with a heavy low tail in one group; a
    uniform +-10 % spread of worker pay is found."""
    for world, _ in SPREAD_NO_BREACH.values():
        null = summarise(replicate_spread(world, SIMS, seed=50_000))
        assert null["fail"] <= FPR_BOUND, (world, null)
    planted = summarise(replicate_spread(SPREAD_PLANTED, SIMS, seed=60_000))
    assert planted["fail"] >= 0.90, planted


def test_order_level_test_ignoring_workers_would_reject_fair_audits() -> None:
    """The reason for clustering: the same data with an order-level (model-based) variance
    rejects far more often than alpha. A guard that the worlds are hard enough."""
    from auditor.stats import RateCells, poisson_effect

    world = NO_BREACH["dsp01_legitimate_heavy_tails"].world
    rejected = 0
    for r in range(100):
        cells, group = draw_rate_cells(world, np.random.default_rng(10_000 + r))  # type: ignore[arg-type]
        rc = RateCells(cells["count"], cells["exposure"], cells["stratum"], cells["cluster"])
        est = poisson_effect(rc, group, method="t")
        # Model-based variance: the information, not the clusters' scores.
        t = group[cells["cluster"]]
        per = lambda v: np.bincount(cells["stratum"], weights=v)  # noqa: E731, B023
        mu = cells["exposure"] * (per(cells["count"]) / per(cells["exposure"]))[cells["stratum"]]
        total = per(mu)
        p = per(mu * t) / np.where(total > 0, total, 1.0)
        info = float(np.sum(mu * (t - p[cells["stratum"]]) ** 2))
        rejected += abs(est.log_effect) * np.sqrt(info) > 1.96
    assert rejected / 100 > 0.2


def test_numpy_money_cells_equal_the_engine_ones() -> None:
    """The calibration sums units into cells in NumPy; the checks in the engine
    (``auditor.checks._money``): the same within-cell trip effect, expected pay, gradients and
    influence, so that what is calibrated is what the checks compute."""
    import ibis

    from auditor.checks._money import money_cells as engine_cells

    units, _ = draw_work_units(
        WorkWorld(workers=60, orders_per_worker=40), np.random.default_rng(3)
    )
    con = ibis.duckdb.connect()
    table = con.create_table("units", ibis.memtable({k: v for k, v in units.items()}))
    table = table.rename(code="cluster")
    ours = engine_cells(table, "code", ("distance_km", "trip_minutes"), ratios=True,
                        cluster_count=60)  # fmt: skip
    theirs = money_cells(units)
    np.testing.assert_array_equal(ours.cluster, theirs.cluster)
    np.testing.assert_array_equal(ours.stratum, theirs.stratum)
    for name in ("n", "money", "log_money"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8)
    # The engine sums exactly (terms rounded to 2**-26) and the NumPy side in floats; the
    # trip terms are nearly collinear (logs, squares, product), so their coefficients agree
    # only to about 1e-4, but the trip effect they fit, and what depends on it, to 1e-4 too.
    for name in ("expected", "trip_effect", "offset_gradient", "trip_gradient", "ratio_sum",
                 "ratio_squares", "influence"):  # fmt: skip
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-4,
                                   atol=1e-5, err_msg=name)  # fmt: skip


def test_decomposition_intervals_agree_with_a_worker_bootstrap() -> None:
    """PAY-02's decomposition of the raw gap: its parts add up to the raw gap, and the
    standard error of each part (a worker-clustered linearisation, from the interval) is
    within 25 % of the spread of that part over 300 worker-bootstrap replicates (workers
    drawn with replacement, the trip effect and every part fitted again)."""
    from auditor.checks._comparable import decomposition
    from auditor.stats._dist import t_ppf

    world = WorkWorld(workers=150, group_share=0.4, ratio=0.92, orders_per_worker=40)
    units, group = draw_work_units(world, np.random.default_rng(7))
    names = ("raw_gap", "explained_by_place_and_time", "explained_by_trips", "unexplained")

    def parts(u: dict, g: np.ndarray) -> dict:
        cells = money_cells(u)
        n = int(cells.cluster.max()) + 1
        return decomposition(cells, cells.stratum, np.ones(n, bool), g[:n], 0.95)  # type: ignore[arg-type]

    point = parts(units, group)
    total = sum(point[k] for k in names[1:])
    assert total == pytest.approx(point["raw_gap"], abs=1e-12)
    assert point["unexplained"] == pytest.approx(math.log(0.92), abs=0.02)
    df = float(point["intervals"].split(" with ")[1].split(" ")[0])
    q = float(t_ppf(0.975, df))
    rows_of = [np.nonzero(units["cluster"] == w)[0] for w in range(world.workers)]
    rng = np.random.default_rng(11)
    draws = []
    for _ in range(300):
        pick = rng.integers(0, world.workers, world.workers)
        rows = np.concatenate([rows_of[w] for w in pick])
        resampled = {k: v[rows] for k, v in units.items()}
        resampled["cluster"] = np.repeat(np.arange(world.workers), [len(rows_of[w]) for w in pick])
        again = parts(resampled, group[pick])
        draws.append([again[k] for k in names])
    spread = np.asarray(draws).std(axis=0, ddof=1)
    for k, boot in zip(names, spread, strict=True):
        lo, hi = point[f"{k}_ci"]
        linear = (hi - lo) / (2 * q)
        assert 0.8 < boot / linear < 1.25, (k, boot, linear)
