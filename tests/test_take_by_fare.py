"""FEE-09, the take rate by fare: calibration in worlds built to fool it (a worker tier on a
lower rate that does longer trips, zones with their own rates, rounding and per-order noise,
a few dominant workers, a true slope at the materiality edge), power with a regressive take
planted, and the check on packages with and without a declared flat rate."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import pick

from auditor import AuditConfig, Status, audit
from auditor.simulate import SimulationSpec, simulate, write_package
from auditor.simulate._slope_worlds import FareWorld, replicate_fares

REPLICATES = 200
ALPHA = 0.05
BAND = 0.01
EVERY_CELL = {"report": {"min_cell_workers": 1}}
COVERAGE_FLOOR = 0.95 - 2 * (0.95 * 0.05 / REPLICATES) ** 0.5


def test_a_cheaper_tier_doing_longer_trips_fools_a_comparison_across_workers() -> None:
    """No slope within any worker; the tier's lower rate and longer trips make the take
    fall with the fare across workers (a false fail in over 15 % of worlds); within worker,
    no fail and the interval covers 0."""
    naive = replicate_fares(FareWorld(), REPLICATES, 0, by_cluster=False)
    assert naive.fail > 0.15 and naive.coverage < 0.5
    within = replicate_fares(FareWorld(), REPLICATES, 0)
    assert within.replicates == REPLICATES
    assert within.fail == 0.0 and within.coverage >= COVERAGE_FLOOR


@pytest.mark.parametrize(
    "world",
    [
        FareWorld(slope=-BAND),
        FareWorld(slope=-BAND, workers=30, dominant=2),
        FareWorld(slope=-BAND, workers=12),
    ],
    ids=["40-workers", "2-dominant-of-30", "12-workers"],
)
def test_a_true_slope_at_the_materiality_edge_fails_at_most_half_alpha(world: FareWorld) -> None:
    out = replicate_fares(world, REPLICATES, 0)
    bound = ALPHA / 2 + 2 * (ALPHA / 2 * (1 - ALPHA / 2) / REPLICATES) ** 0.5
    assert out.fail <= bound
    assert out.coverage >= COVERAGE_FLOOR


def test_a_regressive_take_of_two_points_per_doubling_is_found() -> None:
    out = replicate_fares(FareWorld(slope=-0.02, workers=50, orders_per_worker=40), REPLICATES, 0)
    assert out.fail >= 0.9
    assert out.median_offset == pytest.approx(-0.02, abs=0.002)


def _spec(*plants: str) -> SimulationSpec:
    return SimulationSpec(workers=60, days=7, seed=8, demand_scale=0.3, plants=plants)


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_package(simulate(_spec("FEE-09")), tmp_path_factory.mktemp("fee09"), fmt="parquet")


def test_planted_regressive_take_fails_against_the_declared_rate(planted_folder: Path) -> None:
    """4 points of take rate per halving of the fare, against a declared flat 20 %: FEE-09
    fails with the slope's interval around -0.04; small fares pay the larger share, so the
    order-weighted mean take rate exceeds the fare-weighted one. FEE-02 stays quiet: the
    commission is declared per order."""
    result = audit(planted_folder, AuditConfig.from_dict(EVERY_CELL), checks=["FEE-02", "FEE-09"])
    f = pick(result, "FEE-09")
    assert f.status == Status.FAIL and f.data["judged_against_declared_rate"]
    assert f.ci[0] < -0.04 + 0.002 and -0.04 - 0.002 < f.ci[1] < 0
    assert f.data["order_weighted_take_rate"] > f.data["fare_weighted_take_rate"]
    assert "small fares pay a larger share" in f.detail
    assert pick(result, "FEE-02").status == Status.PASS


def test_without_a_declared_rate_the_slope_is_reported_never_failed(
    planted_folder: Path, tmp_path: Path
) -> None:
    """The same package with the fee_schedule's commission_rate emptied: the same slope, but
    no flat rate was promised, so FEE-09 is inconclusive, not fail, and out of the family."""
    folder = tmp_path / "undeclared"
    folder.mkdir()
    for path in planted_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    fee = folder / "fee_schedule.parquet"
    table = pq.read_table(fee)
    rate = table.schema.get_field_index("commission_rate")
    table = table.set_column(rate, "commission_rate", pa.nulls(len(table), pa.float64()))
    pq.write_table(table, fee)
    result = audit(folder, AuditConfig.from_dict(EVERY_CELL), checks=["FEE-09"])
    f = pick(result, "FEE-09")
    assert f.status == Status.INCONCLUSIVE and not f.data["judged_against_declared_rate"]
    assert f.ci[1] < -0.03 and f.p_adjusted is None
    assert "reported, not judged" in f.detail


def test_flat_take_passes(tmp_path: Path) -> None:
    folder = write_package(simulate(_spec()), tmp_path / "clean", fmt="parquet")
    f = pick(audit(folder, AuditConfig.from_dict(EVERY_CELL), checks=["FEE-09"]), "FEE-09")
    assert f.status == Status.PASS
    low, high = f.data["interval_1_minus_2alpha"]
    assert -BAND < low < high < BAND


def test_materiality_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match="take_rate_slope_materiality"):
        AuditConfig.from_dict({"fees": {"take_rate_slope_materiality": 0.0}})


@pytest.mark.parametrize(("k", "shown"), [(1, True), (10, False)])
def test_orders_left_out_are_counted_only_when_enough_workers_hold_them(
    planted_folder: Path, tmp_path: Path, k: int, shown: bool
) -> None:
    """Three workers' orders lose their fare (customer price = pass-through) and their
    distance: FEE-09 and FEE-07 count them, and publish the counts only where ``[report]
    min_cell_workers`` allows three workers."""
    folder = tmp_path / "unfared"
    folder.mkdir()
    for path in planted_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    orders = pq.read_table(folder / "orders.parquet")
    ids = orders["worker_id"].to_pylist()
    three = sorted(set(ids))[:3]
    hit = pa.array([w in three for w in ids])
    done = [s in (None, "completed") for s in orders["status"].to_pylist()]
    n_hit = sum(h and d for h, d in zip(hit.to_pylist(), done, strict=True))
    price = orders.schema.get_field_index("customer_price")
    passed = orders["pass_through"] if "pass_through" in orders.column_names else None
    fare = passed if passed is not None else pa.nulls(len(orders), orders["customer_price"].type)
    orders = orders.set_column(
        price, "customer_price", pa.compute.if_else(hit, fare, orders["customer_price"])
    )
    distance = orders.schema.get_field_index("distance_km")
    orders = orders.set_column(
        distance,
        "distance_km",
        pa.compute.if_else(hit, pa.nulls(len(orders), pa.float64()), orders["distance_km"]),
    )
    pq.write_table(orders, folder / "orders.parquet")
    config = AuditConfig.from_dict({"report": {"min_cell_workers": k}})
    result = audit(folder, config, checks=["FEE-07", "FEE-09"])
    fee09, fee07 = pick(result, "FEE-09"), pick(result, "FEE-07")
    assert fee09.data["orders_without_positive_fare"] == (n_hit if shown else None)
    assert fee07.data["orders_excluded"] == (n_hit if shown else None)
    assert n_hit > 0
