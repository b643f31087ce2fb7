"""FEE-01/02/03/04/06, PAY-01, HRS-01, INS-01 on simulated packages: planted breaches are
found with the right magnitude, clean data passes, missing inputs are not_assessed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import pick

from auditor import AuditConfig, AuditResult, audit
from auditor.simulate import PlantOptions, SimulationSpec, simulate, write_package

ISSUE3 = ("FEE-01", "FEE-02", "FEE-03", "FEE-04", "FEE-06", "PAY-01", "HRS-01", "INS-01")


def _run(
    tmp: Path,
    spec: SimulationSpec,
    drop: tuple[str, ...] = (),
    config: AuditConfig | None = None,
) -> tuple[AuditResult, dict]:
    package = simulate(spec)
    folder = write_package(package, tmp, fmt="parquet")
    for name in drop:
        (folder / f"{name}.parquet").unlink()
    truth = json.loads((folder / "ground_truth.json").read_text())
    return audit(folder, config, checks=ISSUE3), truth


# These tests compare each finding's numbers with the planted truth, so nothing is withheld
# (k = 1); a few of the plants touch fewer than the default ten workers, whose numbers a
# published finding withholds (tests/test_small_cells.py).
EVERY_CELL = AuditConfig.from_dict({"report": {"min_cell_workers": 1}})


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    spec = SimulationSpec(workers=300, days=14, seed=5, demand_scale=0.6)
    return _run(tmp_path_factory.mktemp("clean"), spec)[0]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, dict]:
    spec = SimulationSpec(
        workers=120,
        days=14,
        seed=6,
        demand_scale=0.3,
        plants=("FEE-01", "FEE-02", "FEE-03", "FEE-06", "HRS-01", "INS-01"),
    )
    return _run(tmp_path_factory.mktemp("planted"), spec, config=EVERY_CELL)


def test_clean_platform_passes_every_check(clean: AuditResult) -> None:
    for f in clean.findings:
        assert f.status == "pass", str(f)


def test_fee01_cap_breach_and_money_above_cap(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    f = pick(result, "FEE-01")
    t = truth["plants"]["FEE-01"]["truth"]
    assert f.status == "fail"
    # The truth counts paid cancellations too; the check counts completed orders.
    assert f.data["orders_above_cap"] == pytest.approx(t["orders"], rel=0.05)
    assert f.data["money_above_cap"] == pytest.approx(t["money_above_cap"], rel=0.02)
    # 0.35 in a 0.30 zone; where FEE-02's hidden fee stacks on it the excess is larger
    assert f.data["excess_rate_reached_by_k_workers"] >= 0.04


def test_fee02_undisclosed_fee(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    f = pick(result, "FEE-02")
    t = truth["plants"]["FEE-02"]["truth"]
    assert f.status == "fail"
    assert f.data["orders_with_undisclosed_fee"] == pytest.approx(t["orders"], rel=0.05)
    assert f.data["undisclosed_total"] == pytest.approx(t["undisclosed_total"], rel=0.05)
    assert f.data["actual_take_rate"] > f.data["declared_take_rate"]


def test_fee03_short_payouts_exactly(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    f = pick(result, "FEE-03")
    t = truth["plants"]["FEE-03"]["truth"]
    assert f.status == "fail"
    assert f.data["statements_short"] == len(t["payouts"])
    assert f.data["shortfall_total"] == pytest.approx(t["shortfall_total"], abs=0.01)
    assert f.data["workers_affected"] == len(t["workers"])


def test_fee06_tips_withheld_exactly(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    f = pick(result, "FEE-06")
    t = truth["plants"]["FEE-06"]["truth"]
    assert f.status == "fail"
    assert f.data["orders_short"] == t["orders"]
    assert f.data["withheld_total"] == pytest.approx(t["withheld_total"], abs=0.01)


def test_hrs01_finds_the_planted_workers(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    t = truth["plants"]["HRS-01"]["truth"]
    kinds = {d["kind"] for d in t["worker_days"]}
    daily = pick(result, "HRS-01", limit="daily_online_hours")
    continuous = pick(result, "HRS-01", limit="continuous_online_hours")
    planted_workers = len(t["workers"])
    flagged = {daily.data["workers_over"], continuous.data["workers_over"]}
    assert max(flagged) <= planted_workers
    if "long_day" in kinds:
        assert daily.status == "fail"
    if "no_break" in kinds:
        assert continuous.status == "fail"
        assert continuous.data["hours_reached_by_k_workers"] > 4.0


def test_ins01_missing_and_worker_paid_premiums(planted: tuple[AuditResult, dict]) -> None:
    result, truth = planted
    t = truth["plants"]["INS-01"]["truth"]
    missing = pick(result, "INS-01", issue="missing_premium")
    paid = pick(result, "INS-01", issue="paid_by_worker")
    assert missing.status == paid.status == "fail"
    assert missing.data["workers_affected"] == len(t["missing_workers"])
    assert paid.data["workers_affected"] == len(t["worker_paid_workers"])
    # truth counts every order, the check completed ones: at most a few percent fewer
    assert (
        0.85 * t["orders_missing_premium"] <= missing.data["orders"] <= t["orders_missing_premium"]
    )


def test_pay01_low_pay_fails_with_cluster_bootstrap_ci(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=120, days=14, seed=8, demand_scale=0.3, plants=("PAY-01",))
    result, truth = _run(tmp_path, spec)
    f = pick(result, "PAY-01")
    assert f.status == "fail"
    assert f.ci is not None and f.ci[0] > 0.05
    assert f.ci[0] <= f.estimate <= f.ci[1]
    assert f.estimate == pytest.approx(
        truth["plants"]["PAY-01"]["truth"]["share_below_minimum_engaged"], abs=0.15
    )
    bases = {row["basis"] for row in f.data["sensitivity"]}
    assert bases == {"engaged", "online", "engaged_allowance"}
    assert f.data["shortfall_total"] > 0


def test_fee04_fires_on_a_silent_five_point_change(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=80, days=21, seed=9, demand_scale=0.3, plants=("FEE-04",))
    result, truth = _run(tmp_path, spec)
    f = pick(result, "FEE-04")
    params = truth["plants"]["FEE-04"]["parameters"]
    assert f.status == "fail"
    assert f.estimate == pytest.approx(0.05, abs=0.01)
    assert f.data["change_date"] == params["change_date"]
    assert f.p_value is not None and f.p_value < 0.01


def test_fee04_quiet_when_the_change_was_announced_in_time(tmp_path: Path) -> None:
    spec = SimulationSpec(
        workers=80,
        days=21,
        seed=9,
        demand_scale=0.3,
        plants=("FEE-04",),
        plant_options=PlantOptions(fee04_announced=True),
    )
    result, _ = _run(tmp_path, spec)
    f = pick(result, "FEE-04")
    assert f.status == "pass", str(f)
    assert f.data["announced_in_time"]


def test_fee04_quiet_when_only_the_order_mix_shifts(tmp_path: Path) -> None:
    """Long trips keep 12 %, short ones 28 %; in the second half long trips triple. The raw
    daily take rate falls by points, the fee rule never changed: no finding."""
    package = simulate(SimulationSpec(workers=80, days=21, seed=10, demand_scale=0.3))
    orders = package.tables["orders"]
    rng = np.random.default_rng(0)
    dist = orders["distance_km"].to_numpy(zero_copy_only=False)
    long_trip = dist >= np.nanmedian(dist)
    day = pc.day(orders["accepted_at"]).to_numpy()
    late = day >= np.sort(day)[len(day) // 2]
    keep = ~(late & ~long_trip & (rng.random(len(dist)) < 0.7))  # fewer short trips later
    price = orders["customer_price"].to_numpy(zero_copy_only=False)
    through = orders["pass_through"].to_numpy(zero_copy_only=False)
    rate = np.where(long_trip, 0.12, 0.28)
    pay = np.round((price - through) * (1 - rate), 2)
    orders = orders.set_column(
        orders.schema.get_field_index("worker_pay"), "worker_pay", pa.array(pay)
    ).filter(pa.array(keep))
    commission = np.round(price - through - pay, 2)[keep]
    orders = orders.set_column(
        orders.schema.get_field_index("commission"), "commission", pa.array(commission)
    )
    tables = dict(package.tables, orders=orders)
    tables.pop("payouts")  # statements no longer match the rewritten pay
    folder = write_package(
        type(package)(package.spec, tables, package.ground_truth), tmp_path, fmt="parquet"
    )
    result = audit(folder, checks=["FEE-04"])
    f = pick(result, "FEE-04")
    raw = [d["raw"] for d in f.data["daily_index"]]
    assert max(raw) - min(raw) > 0.02  # the naive daily take rate moves by over 2 points
    assert f.status == "pass", str(f)


def test_missing_inputs_are_not_assessed(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=30, days=7, seed=12, demand_scale=0.3)
    result, _ = _run(tmp_path, spec, drop=("payouts", "sessions"))
    fee03 = pick(result, "FEE-03")
    hrs = pick(result, "HRS-01")
    assert (fee03.status, fee03.missing) == ("not_assessed", ("payouts",))
    assert (hrs.status, hrs.missing) == ("not_assessed", ("sessions",))


def test_fee01_uses_the_zone_cap_of_the_fee_schedule(tmp_path: Path) -> None:
    package = simulate(
        SimulationSpec(workers=40, days=7, seed=13, demand_scale=0.3, plants=("FEE-01",))
    )
    fs = package.tables["fee_schedule"]
    zone_row = fs.slice(0, 1).to_pylist()[0] | {"zone": "Z03", "commission_cap": 0.40}
    tables = dict(
        package.tables,
        fee_schedule=pa.concat_tables([fs, pa.Table.from_pylist([zone_row], schema=fs.schema)]),
    )
    folder = write_package(
        type(package)(package.spec, tables, package.ground_truth), tmp_path, fmt="parquet"
    )
    f = pick(audit(folder, checks=["FEE-01"]), "FEE-01")
    assert f.status == "pass", str(f)  # Z03 takes 0.35, within its declared 0.40 cap


def test_fee01_per_worker_period(tmp_path: Path) -> None:
    from auditor.config import FeesSection, ReportSection

    spec = SimulationSpec(workers=40, days=7, seed=14, demand_scale=0.3, plants=("FEE-01",))
    folder = write_package(simulate(spec), tmp_path, fmt="parquet")
    # Z03's riders are fewer than ten: k = 1, so that their worker-weeks are published.
    config = AuditConfig(
        fees=FeesSection(cap_binds="worker_period"), report=ReportSection(min_cell_workers=1)
    )
    f = pick(audit(folder, config, checks=["FEE-01"]), "FEE-01")
    assert f.subject == {"unit": "worker_week"}
    assert f.data["cap_binds"] == "worker_period"
    # riders keep to their zone, so the weeks of Z03 riders average 0.35 > 0.30
    assert f.status == "fail"
    assert f.data["worker_weeks_above_cap"] > 0
