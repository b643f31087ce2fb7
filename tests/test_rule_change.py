"""PAY-05, who lost pay when the declared pay rule changed: the changes read from the
fee_schedule, calibration in worlds built to fool it (a few dominant workers, workers who
move their own hours after the change, date-specific pay, sparse kinds of work), power with
a night-pay cut planted, and the check on simulated packages."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pcsv
import pytest
from conftest import pick

from auditor import AuditConfig, Status, audit
from auditor.checks._rule_change import rule_changes
from auditor.simulate import PlantOptions, SimulationSpec, simulate, write_package
from auditor.simulate._rule_change_worlds import RuleReplicates, RuleWorld, replicate_rule_changes

REPLICATES = 40
D = datetime.date


def _covers(low: np.ndarray, truth: np.ndarray, high: np.ndarray) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


def test_changes_are_the_rows_that_start_within_the_orders_dates() -> None:
    starts = [D(2026, 1, 1), D(2026, 3, 10), D(2026, 3, 10), D(2026, 3, 20), D(2026, 5, 1)]
    scopes = [(None, None), ("ride", None), (None, "Z02"), (None, None), (None, None)]
    got = rule_changes(starts, scopes, D(2026, 3, 1), D(2026, 3, 31), 28)
    assert [c.on for c in got] == [D(2026, 3, 10), D(2026, 3, 20)]
    first, second = got
    # Each window is cut at the neighbouring change and at the orders' dates.
    assert (first.start, first.end) == (D(2026, 3, 1), D(2026, 3, 20))
    assert (second.start, second.end) == (D(2026, 3, 10), D(2026, 4, 1))
    assert first.scopes == ((None, "Z02"), ("ride", None))
    assert rule_changes(starts, scopes, D(2026, 3, 10), D(2026, 3, 19), 28) == []
    short = rule_changes([D(2026, 3, 15)], [(None, None)], D(2026, 3, 1), D(2026, 3, 31), 3)
    assert (short[0].start, short[0].end) == (D(2026, 3, 12), D(2026, 3, 18))


def _no_loss(out: RuleReplicates) -> None:
    """With no pay cut, nobody loses beyond noise, the median's interval covers the truth
    (0) and the verdict is pass."""
    assert float(np.nanmax(out.share_lost)) <= 0.02
    assert _covers(out.median_low, out.true_median, out.median_high) >= 0.85
    assert float(np.mean(out.median_low > -0.05)) == 1.0


@pytest.mark.parametrize(
    "world",
    [RuleWorld(), RuleWorld(dominant=5), RuleWorld(movers=0.3)],
    ids=["plain", "5-dominant", "30pct-move-to-day"],
)
def test_a_change_that_cuts_no_pay_shows_no_loss(world: RuleWorld) -> None:
    """Workers who do ten times the orders, or who move their night work to the day after
    the change (their own choice: the work compared is then of another kind, priced as
    before), make no one lose."""
    _no_loss(replicate_rule_changes(world, REPLICATES, 1))


def test_kinds_of_work_the_old_period_did_not_price_are_left_out_not_guessed() -> None:
    """Twelve zones, a week before the change and three orders a day: many kinds of work
    the window before never saw. No loss is invented."""
    _no_loss(replicate_rule_changes(RuleWorld(zones=12, days=14, orders_per_day=3), 20, 2))


def test_date_specific_pay_is_read_as_the_rules_and_the_placebo_shows_it() -> None:
    """A 20 % bonus for everyone on a fifth of the dates: the learned rule cannot know the
    dates, so the workers' changes move with the rainy days they worked (the median's
    interval misses 0 in most worlds). The placebo inside the window before moves too
    (its median by more than 1 % in most worlds, against under 0.5 % with no rain): the
    reader is told what dates alone do."""
    out = replicate_rule_changes(RuleWorld(rain=0.2), REPLICATES, 3)
    assert _covers(out.median_low, out.true_median, out.median_high) < 0.5
    assert float(np.mean(np.abs(out.placebo_median) > 0.01)) >= 0.5
    calm = replicate_rule_changes(RuleWorld(), 10, 3)
    assert float(np.nanmax(np.abs(calm.placebo_median))) <= 0.005


@pytest.mark.parametrize(
    "world",
    [RuleWorld(step=0.10), RuleWorld(step=0.10, movers=0.3), RuleWorld(step=0.10, workers=60)],
    ids=["200-workers", "30pct-move-to-day", "60-workers"],
)
def test_a_night_pay_cut_is_measured(world: RuleWorld) -> None:
    """Ten points more take at night from the change: night workers lose. The share who
    lost more than 5 % and the median change match the truth."""
    out = replicate_rule_changes(world, REPLICATES, 4)
    assert float(np.mean(out.true_share)) > 0.15
    assert float(np.mean(np.abs(out.share_lost - out.true_share))) <= 0.03
    assert float(np.mean(np.abs(out.median - out.true_median))) <= 0.005
    assert _covers(out.share_low, out.true_share, out.share_high) >= 0.9
    assert float(np.nanmax(out.placebo_share)) <= 0.02


@pytest.fixture(scope="module")
def cut_package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    spec = SimulationSpec(workers=200, days=28, seed=5, plants=("PAY-05",))
    package = simulate(spec)
    folder = tmp_path_factory.mktemp("pay05")
    write_package(package, folder)
    return folder, package.ground_truth["plants"]["PAY-05"]


def test_the_check_finds_who_lost_in_a_simulated_package(cut_package: tuple[Path, dict]) -> None:
    folder, truth = cut_package
    result = audit(folder, AuditConfig(), checks=["PAY-05"])
    finding = pick(result, "PAY-05")
    want = truth["truth"]["at_least_20_orders"]
    assert finding.subject == {"rule_from": truth["parameters"]["change_date"]}
    assert finding.status == Status.PASS  # the median worker lost under 5 %
    assert finding.estimate == pytest.approx(want["share_losing_over_5pct"], abs=0.04)
    assert finding.ci[0] <= want["share_losing_over_5pct"] <= finding.ci[1]
    assert finding.data["median_change"] == pytest.approx(want["median_change"], abs=0.005)
    assert finding.data["workers_compared"] == pytest.approx(want["workers"], rel=0.05)
    assert finding.data["placebo"]["share_lost"] <= 0.02
    assert finding.n_workers == finding.data["workers_compared"]
    # The whole cut is seen: night workers lose up to the step's 12.5 % of night pay.
    assert -0.14 < finding.data["change_percentiles"]["p10"] < -0.05
    text = json.dumps(result.to_dict())
    assert '"w0' not in text.lower() and "W0" not in text


def test_a_deep_cut_is_inconclusive_never_fail(tmp_path: Path) -> None:
    spec = SimulationSpec(
        workers=150,
        days=28,
        seed=6,
        plants=("PAY-05",),
        plant_options=PlantOptions(pay05_step=0.25, pay05_hours=(0, 24 - 1)),
    )
    write_package(simulate(spec), tmp_path)
    finding = pick(audit(tmp_path, AuditConfig(), checks=["PAY-05"]), "PAY-05")
    assert finding.status == Status.INCONCLUSIVE
    assert finding.estimate > 0.9
    assert finding.data["median_change"] < -0.25
    assert "not judged" in finding.detail


def test_a_change_scoped_to_one_service_compares_only_its_orders(
    cut_package: tuple[Path, dict], tmp_path: Path
) -> None:
    """The new rule's row names the service ``ride``: only completed ride orders after the
    change are compared or counted as not compared."""
    folder, truth = cut_package
    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    fees = (tmp_path / "fee_schedule.csv").read_text().splitlines()
    on = truth["parameters"]["change_date"]
    fees = [line.replace(f"{on},,,", f"{on},,ride,") for line in fees]
    (tmp_path / "fee_schedule.csv").write_text("\n".join(fees) + "\n")
    orders = pcsv.read_csv(tmp_path / "orders.csv").to_pandas()
    local = pd.to_datetime(orders["accepted_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    after = local.dt.date >= D.fromisoformat(on)
    rides = (orders["service"] == "ride") & (orders["status"] == "completed") & after
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    finding = pick(audit(tmp_path, config, checks=["PAY-05"]), "PAY-05")
    assert finding.data["scopes"] == [{"service": "ride", "zone": None}]
    data = finding.data
    # Every ride order after the change is compared, not compared, or of a worker with
    # too few: nothing is lost.
    counted = (
        data["orders_compared"]
        + data["orders_not_compared"]
        + data["orders_of_workers_with_too_few"]
    )
    assert counted == int(rides.sum())
    assert counted < int(((orders["status"] == "completed") & after).sum())


@pytest.mark.parametrize(("k", "shown"), [(1, True), (250, False)])
def test_numbers_are_withheld_under_k_workers(
    cut_package: tuple[Path, dict], k: int, shown: bool
) -> None:
    folder, _ = cut_package
    config = AuditConfig.from_dict({"report": {"min_cell_workers": k}})
    finding = pick(audit(folder, config, checks=["PAY-05"]), "PAY-05")
    published = [finding.estimate, finding.data["workers_compared"], finding.data["median_change"]]
    assert all(v is not None for v in published) == shown
    assert all(v is None for v in published) == (not shown)
    if not shown:
        assert f"fewer than {k} workers" in finding.detail


def test_no_declared_change_passes_saying_so() -> None:
    dirty = Path(__file__).parents[1] / "fixtures" / "dirty"  # its fee_schedule changes nothing
    finding = pick(audit(dirty, checks=["PAY-05"]), "PAY-05")
    assert finding.status == Status.PASS
    assert finding.data == {"changes": 0}
    assert "declares no change" in finding.detail


def test_the_demo_reports_its_planted_rule_change(demo_result: object) -> None:
    """The demo's rule declared from its fifth day pays night work less: with 60 workers
    the share who lost is withheld under min_cell_workers, but the change, the workers
    compared and the fall of all compared pay are reported."""
    finding = pick(demo_result, "PAY-05")
    truth = json.loads(
        (Path(__file__).parents[1] / "fixtures" / "demo" / "ground_truth.json").read_text()
    )["plants"]["PAY-05"]
    assert finding.status == Status.INCONCLUSIVE
    assert finding.subject == {"rule_from": truth["parameters"]["change_date"]}
    assert finding.data["workers_compared"] >= 10 and finding.data["workers_lost"] is None
    assert finding.data["order_weighted_change"] < -0.02
    assert "workers compared were paid more than 5% less" in finding.detail


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rule_change_window_days", 1),
        ("rule_change_materiality", 0.0),
        ("rule_change_materiality", 1.0),
        ("rule_change_min_orders", 0),
    ],
)
def test_settings_out_of_range_are_named(key: str, value: float) -> None:
    with pytest.raises(ValueError, match=key):
        AuditConfig.from_dict({"earnings": {key: value}})


def test_a_lasting_pay_gap_between_workers_is_not_a_loss(tmp_path: Path) -> None:
    """Women paid 15 % less for the same work all along (the PAY-02 plant) and a rule
    change that cuts nothing (a 0.1-point step at night): each worker is set against how
    the old rule paid them, so nobody lost. Set against the rule learned from everyone,
    17 % of the workers would read as having lost more than 5 %."""
    spec = SimulationSpec(
        workers=120,
        days=14,
        seed=5,
        plants=("PAY-02", "PAY-05"),
        plant_size=0.15,
        plant_options=PlantOptions(pay05_step=0.001),
    )
    write_package(simulate(spec), tmp_path)
    finding = pick(audit(tmp_path, AuditConfig(), checks=["PAY-05"]), "PAY-05")
    assert finding.status == Status.PASS
    assert finding.data["workers_compared"] >= 60
    assert finding.estimate is not None and finding.estimate <= 0.03
    assert abs(finding.data["median_change"]) < 0.005


def test_a_service_with_a_row_of_its_own_keeps_its_rule(
    cut_package: tuple[Path, dict], tmp_path: Path
) -> None:
    """A row for food delivery alone, in force all along, governs food orders: the change of
    the row for all services compares only the other services' orders."""
    folder, truth = cut_package
    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    fees = (tmp_path / "fee_schedule.csv").read_text().splitlines()
    first = fees[1].split(",")
    own = ",".join([first[0], "", "food_delivery", *first[3:]])
    (tmp_path / "fee_schedule.csv").write_text("\n".join([*fees, own]) + "\n")
    orders = pcsv.read_csv(tmp_path / "orders.csv").to_pandas()
    local = pd.to_datetime(orders["accepted_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    after = local.dt.date >= D.fromisoformat(truth["parameters"]["change_date"])
    done = (orders["status"] == "completed") & after
    others = done & (orders["service"] != "food_delivery")
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    data = pick(audit(tmp_path, config, checks=["PAY-05"]), "PAY-05").data
    counted = (
        data["orders_compared"]
        + data["orders_not_compared"]
        + data["orders_of_workers_with_too_few"]
    )
    assert counted == int(others.sum()) < int(done.sum())


def test_a_row_that_ends_changes_the_rule_the_next_day() -> None:
    """A row for rides ends on 2026-03-14: the rule of rides changes on 2026-03-15, when
    the row for all services governs them again."""
    starts = [D(2026, 3, 1), D(2026, 3, 1)]
    ends = [None, D(2026, 3, 14)]
    scopes = [(None, None), ("ride", None)]
    got = rule_changes(starts, scopes, D(2026, 3, 1), D(2026, 3, 31), 28, ends)
    assert [c.on for c in got] == [D(2026, 3, 15)]
    assert got[0].scopes == (("ride", None),)
    assert rule_changes(starts, scopes, D(2026, 3, 1), D(2026, 3, 31), 28) == []


def test_a_change_declared_by_rows_that_end_is_found(
    cut_package: tuple[Path, dict], tmp_path: Path
) -> None:
    """The planted change rewritten as rows that end: a row per service, in force until the
    day before the change, over a row for all services in force throughout at the new
    rate. The same orders are compared as when the new row starts that day."""
    folder, truth = cut_package
    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    on = D.fromisoformat(truth["parameters"]["change_date"])
    lines = (tmp_path / "fee_schedule.csv").read_text().splitlines()
    header, first = lines[0], lines[1].split(",")
    columns = header.split(",")
    start = first[columns.index("effective_from")]
    services = sorted(set(pcsv.read_csv(tmp_path / "orders.csv").to_pandas()["service"]))
    rows = [header, ",".join([start, "", "", *first[3:]])]
    for service in services:
        ending = [start, (on - datetime.timedelta(days=1)).isoformat(), service, *first[3:]]
        rows.append(",".join(ending))
    (tmp_path / "fee_schedule.csv").write_text("\n".join(rows) + "\n")
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    ended = pick(audit(tmp_path, config, checks=["PAY-05"]), "PAY-05")
    started = pick(audit(folder, config, checks=["PAY-05"]), "PAY-05")
    assert ended.subject == started.subject == {"rule_from": on.isoformat()}
    for key in ("orders_compared", "workers_compared", "orders_not_compared"):
        assert ended.data[key] == started.data[key], key
    assert ended.data["scopes"] == [{"service": s, "zone": None} for s in services]
