"""FEE-08, paid below the accepted quote: hand-built cases at and around the tolerance, the
quotes that cannot be compared, and a simulated platform with the shortfall planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import good_order, pick, write_csv

from auditor import AuditConfig, Status, audit
from auditor.simulate import PlantOptions, SimulationSpec, simulate, write_package

# Hand-built packages have a few workers; every number is published (k = 1).
EVERY_CELL = {"report": {"min_cell_workers": 1}}


def _offer(i: int, order: int, worker: str, pay: str, response: str = "accepted") -> dict:
    return {
        "offer_id": f"f{i}",
        "order_id": f"{order:05d}",
        "worker_id": worker,
        "offered_at": "2026-03-02T07:59:00+08:00",
        "response": response,
        "offered_pay": pay,
    }


def _package(tmp: Path, orders: list[dict], offers: list[dict]) -> Path:
    folder = tmp / "pkg"
    write_csv(folder, "orders", orders)
    write_csv(folder, "offers", offers)
    return folder


def _fee08(folder: Path, **fees: object) -> object:
    config = AuditConfig.from_dict(EVERY_CELL | ({"fees": fees} if fees else {}))
    return pick(audit(folder, config, checks=["FEE-08"]), "FEE-08")


def test_tolerance_declines_quotes_and_order_of_another_worker(tmp_path: Path) -> None:
    """worker_pay 15.20 in every order. Quotes: at the pay, one cent over it (rounding,
    within [fees] tolerance), two cents over, and 3.80 over; a declined offer quoting more
    is not the accepted quote; a quote for an order another worker completed is not
    compared."""
    orders = [good_order(i, worker_id=f"w{i}") for i in range(4)]
    offers = [
        _offer(0, 0, "w0", "15.20"),
        _offer(1, 1, "w1", "15.21"),
        _offer(2, 2, "w2", "15.22"),
        _offer(3, 3, "w3", "19.00"),
        _offer(4, 0, "w9", "30.00", response="declined"),
        _offer(5, 1, "w9", "30.00"),  # accepted by w9, but w1 did the order
    ]
    f = _fee08(_package(tmp_path, orders, offers))
    assert f.status == Status.FAIL
    assert f.data["orders_compared"] == 4
    assert f.data["orders_short"] == 2
    assert f.data["shortfall_total"] == pytest.approx(0.02 + 3.80, abs=1e-9)
    assert f.data["workers_affected"] == 2
    assert f.data["not_compared_no_order"] == 1
    assert f.data["quoted_total"] == pytest.approx(15.20 + 15.21 + 15.22 + 19.00, abs=1e-9)
    assert f.estimate == pytest.approx(0.5)
    assert f.severity == "high"  # half the orders
    assert "2 of 4 completed orders (50.0%)" in f.detail
    assert "3.82 CNY less than quoted, to 2 workers" in f.detail


def test_cancelled_orders_and_repeated_quotes(tmp_path: Path) -> None:
    """A cancelled order's pay follows the cancellation rules, not the quote; a worker who
    accepted one order twice is held to the lower quote."""
    orders = [
        good_order(0, worker_id="w0", status="cancelled_by_customer", worker_pay="3.00"),
        good_order(1, worker_id="w1"),
    ]
    offers = [
        _offer(0, 0, "w0", "15.20"),
        _offer(1, 1, "w1", "16.00"),
        _offer(2, 1, "w1", "15.20"),
    ]
    f = _fee08(_package(tmp_path, orders, offers))
    assert f.status == Status.PASS
    assert f.data["orders_compared"] == 1
    assert f.data["not_compared_not_completed"] == 1
    assert f.data["accepted_quotes"] == 2  # (order, worker) pairs
    assert f.data["orders_with_several_quotes"] == 1
    assert "1 order had several accepted quotes that differ; the lowest" in f.detail


def test_few_workers_pass_with_the_right_words_and_no_count_of_them(tmp_path: Path) -> None:
    """Three workers, each paid the quote, and one quarantined order: at the default k of
    10, no count over them is published, not even one to subtract from another, and the
    sentence still says what was found."""
    orders = [good_order(i, worker_id=f"w{i}") for i in range(3)]
    orders.append(good_order(3, worker_id="w3", worker_pay="-1.00"))  # quarantined
    offers = [_offer(i, i, f"w{i}", "15.20") for i in range(4)]
    result = audit(_package(tmp_path, orders, offers), checks=["FEE-08"])
    f = pick(result, "FEE-08")
    assert f.status == Status.PASS
    assert f.detail.startswith("Every completed order was paid (worker_pay) at least its")
    assert "quotes of fewer than 10 workers with no order of that worker" in f.detail
    counts = ("orders_compared", "accepted_quotes", "not_compared_no_order", "quoted_total")
    assert all(f.data[key] is None for key in counts)
    assert f.n_orders is None and f.n_workers is None


def test_incentive_counts_only_where_quotes_include_it(tmp_path: Path) -> None:
    orders = [good_order(0, worker_id="w0", incentive="2.00")]
    offers = [_offer(0, 0, "w0", "17.20")]
    folder = _package(tmp_path, orders, offers)
    assert _fee08(folder).status == Status.FAIL
    included = _fee08(folder, quote_includes_incentive=True)
    assert included.status == Status.PASS
    assert "worker_pay and incentive" in included.detail


def test_not_assessed_without_quotes_inconclusive_without_accepted_ones(tmp_path: Path) -> None:
    orders = [good_order(0, worker_id="w0")]
    no_pay = _package(tmp_path / "a", orders, [_offer(0, 0, "w0", "")])
    f = _fee08(no_pay)
    assert f.status == Status.INCONCLUSIVE and f.data["accepted_quotes"] == 0
    columns = [{k: v for k, v in _offer(0, 0, "w0", "1").items() if k != "offered_pay"}]
    f = _fee08(_package(tmp_path / "b", orders, columns))
    assert f.status == Status.NOT_ASSESSED and "offers.offered_pay" in f.missing


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict]:
    spec = SimulationSpec(
        workers=80,
        days=7,
        seed=8,
        demand_scale=0.3,
        plants=("FEE-08",),
        plant_options=PlantOptions(fee08_order_share=0.1),
    )
    folder = write_package(simulate(spec), tmp_path_factory.mktemp("fee08"), fmt="parquet")
    truth = json.loads((folder / "ground_truth.json").read_text())
    config = AuditConfig.from_dict(EVERY_CELL)
    return audit(folder, config, checks=["FEE-02", "FEE-08"]), truth


def test_planted_shortfall_is_found_exactly(planted: tuple[object, dict]) -> None:
    """Every planted order and every cent of the cut, and nothing else; the cut is
    declared with the commission, so FEE-02 (undisclosed fees) stays quiet."""
    result, truth = planted
    t = truth["plants"]["FEE-08"]["truth"]
    f = pick(result, "FEE-08")
    assert f.status == Status.FAIL
    assert t["orders"] > 50
    assert f.data["orders_short"] == t["orders"]
    assert f.data["shortfall_total"] == pytest.approx(t["shortfall_total"], abs=0.005)
    assert f.data["workers_affected"] == t["workers"]
    assert f.data["not_compared_no_order"] == 0
    assert pick(result, "FEE-02").status == Status.PASS


def test_clean_platform_is_paid_as_quoted(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=40, days=7, seed=9, demand_scale=0.3)
    folder = write_package(simulate(spec), tmp_path / "clean", fmt="parquet")
    f = pick(audit(folder, checks=["FEE-08"]), "FEE-08")
    assert f.status == Status.PASS
    assert f.data["orders_compared"] > 500 and f.data["orders_short"] == 0


@pytest.mark.parametrize(
    ("options", "field"),
    [({"fee08_order_share": 1.5}, "fee08_order_share"), ({"fee08_cut": 1.0}, "fee08_cut")],
)
def test_plant_options_out_of_range_are_named(options: dict, field: str) -> None:
    spec = SimulationSpec(
        workers=5, days=1, plants=("FEE-08",), plant_options=PlantOptions(**options)
    )
    with pytest.raises(ValueError, match=f"plant_options.{field}"):
        simulate(spec)
