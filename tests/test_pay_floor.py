"""PAY-03 (statutory pay floors of rule packs) and the rule packs themselves, on packages whose
money owed is computed by hand."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import write_csv

from auditor import AuditConfig, Status, audit
from auditor.errors import ConfigError
from auditor.rules import builtin_pack_names, load_pack

MILE_KM = 1.609344


def _order(i: int, worker: str, day: str, **over: str) -> dict[str, str]:
    """A completed order on ``day`` (New York time): accepted 10:00, picked up 10:05,
    dropped off 10:25 (20 minutes of trip, 25 engaged), 5 miles, no approach."""
    row = {
        "order_id": f"o{i:04d}",
        "worker_id": worker,
        "status": "completed",
        "accepted_at": f"{day}T10:00:00",
        "pickup_at": f"{day}T10:05:00",
        "dropoff_at": f"{day}T10:25:00",
        "pickup_zone": "Z1",
        "distance_km": f"{5 * MILE_KM}",
        "approach_km": "0",
        "customer_price": "40.00",
        "worker_pay": "20.00",
        "incentive": "0",
        "tip": "0",
    }
    row.update(over)
    return row


def _config(packs: list[str], currency: str = "USD", **sections: dict[str, Any]) -> AuditConfig:
    zone = "America/New_York" if currency == "USD" else "Asia/Shanghai"
    data: dict[str, Any] = {
        "audit": {"currency": currency, "timezone": zone, "rules": packs},
        "report": {"min_cell_workers": 1},
    }
    data.update(sections)
    return AuditConfig.from_dict(data)


def _pay03(folder: Path, config: AuditConfig) -> list[Any]:
    result = audit(folder, config, checks=["PAY-03"])
    return [f for f in result.findings if f.check == "PAY-03"], result


def test_every_shipped_pack_reads_and_cites_a_source() -> None:
    names = builtin_pack_names()
    assert {"us-nyc-tlc-hvfhv", "us-ca-prop22", "us-seattle-payup", "cn-zhejiang"} <= set(names)
    for name in names:
        pack = load_pack(name)
        assert pack.name == name
        assert pack.sources and all(s.title and s.url for s in pack.sources)
        assert (pack.floor is not None) == bool(pack.rates)
        assert (pack.floor, pack.working_time, pack.holidays) != (None, None, None)


def test_nyc_tlc_trip_floor_owes_the_cents_below_it(tmp_path: Path) -> None:
    """2024-06-03 rates: $1.360 a mile and $0.583 a minute; 5 miles and 20 minutes of trip:
    floor 6.80 + 11.66 = 18.46."""
    rows = [
        _order(1, "a", "2024-06-03", worker_pay="18.46"),  # at the floor
        _order(2, "b", "2024-06-03", worker_pay="18.45"),  # one cent under
        _order(3, "c", "2024-06-03", worker_pay="10.00", incentive="2.00"),  # 6.46 under
        _order(4, "d", "2024-06-03", worker_pay="5.00", tip="20.00"),  # tips never count
        _order(5, "e", "2025-06-02", worker_pay="1.00"),  # no rate in force
        _order(6, "f", "2024-06-03", pickup_at="", worker_pay="1.00"),  # no trip time
    ]
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-nyc-tlc-hvfhv"]))
    assert f.status == Status.FAIL
    assert f.subject == {"rule": "us-nyc-tlc-hvfhv"}
    assert f.data["units_assessed"] == 4
    assert f.data["units_in_breach"] == 3
    assert f.data["workers_affected"] == 3
    assert f.data["owed_total"] == pytest.approx(0.01 + 6.46 + 13.46, abs=1e-9)
    assert f.data["not_assessed_no_rate"] == 1
    assert f.data["not_assessed_no_time"] == 1
    assert f.estimate == pytest.approx(3 / 4)
    owed = result.owed
    assert list(owed["worker_id"]) == ["b", "c", "d"]
    assert list(owed["owed"]) == ["0.01", "6.46", "13.46"]
    assert list(owed["required"]) == ["18.46", "18.46", "18.46"]
    assert list(owed["period_start"]) == ["2024-06-03"] * 3
    assert list(owed["period_end"]) == ["2024-06-09"] * 3
    assert not {'"b"', '"c"', '"d"'} & set(result.to_json().split())  # no worker IDs


def test_seattle_per_offer_minimum_binds_short_offers(tmp_path: Path) -> None:
    """5 engaged minutes and 2 engaged miles in 2024: 0.44 x 5 + 0.74 x 2 = 3.68, under the
    $5.00 per-offer minimum; in 2025 the minimum is $5.20."""
    short = {
        "accepted_at": "T10:00:00", "pickup_at": "T10:02:00", "dropoff_at": "T10:05:00",
        "distance_km": f"{1.5 * MILE_KM}", "approach_km": f"{0.5 * MILE_KM}",
    }  # fmt: skip
    rows = [
        _order(1, "a", "2024-06-03", worker_pay="4.99"),
        _order(2, "b", "2024-06-03", worker_pay="5.00"),
        _order(3, "c", "2025-06-02", worker_pay="5.00"),
    ]
    for row in rows:
        day = row["accepted_at"][:10]
        row.update({k: day + v if k.endswith("_at") else v for k, v in short.items()})
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-seattle-payup"]))
    assert f.status == Status.FAIL
    assert f.data["units_in_breach"] == 2
    assert list(result.owed["owed"]) == ["0.01", "0.20"]
    assert list(result.owed["required"]) == ["5.00", "5.20"]


def _prop22_package(folder: Path) -> None:
    """Four drivers, one order each on Wednesday 2024-06-05: 60 engaged minutes, 10 miles
    of trip and 2 of approach. Floor: 16.00 x 1.2 x 1 h + 0.35 x 12 miles = 23.40."""
    long = {"dropoff_at": "2024-06-05T11:00:00", "distance_km": f"{10 * MILE_KM}",
            "approach_km": f"{2 * MILE_KM}"}  # fmt: skip
    rows = [
        _order(1, "a", "2024-06-05", worker_pay="23.40", **long),
        _order(2, "b", "2024-06-05", worker_pay="20.00", **long),  # topped up in time
        _order(3, "c", "2024-06-05", worker_pay="20.00", **long),  # topped up late
        _order(4, "d", "2024-06-05", worker_pay="20.00", **long),  # never topped up
    ]
    write_csv(folder, "orders", rows)
    payouts = [
        {"payout_id": f"p{w}", "worker_id": w, "period_start": "2024-06-03",
         "period_end": "2024-06-09", "net_paid": net, "paid_at": paid,
         "minimum_pay_topup": topup}
        for w, net, paid, topup in (
            ("a", "23.40", "2024-06-12T09:00:00", "0"),
            ("b", "23.40", "2024-06-16T09:00:00", "3.40"),  # day 7 after the period's end
            ("c", "23.40", "2024-06-17T09:00:00", "3.40"),  # day 8: late
            ("d", "20.00", "2024-06-12T09:00:00", ""),
        )
    ]  # fmt: skip
    write_csv(folder, "payouts", payouts)


def test_prop22_week_floor_with_topups_in_time_and_late(tmp_path: Path) -> None:
    _prop22_package(tmp_path / "pkg")
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-ca-prop22"]))
    assert f.status == Status.FAIL
    assert f.data["unit"] == "week"
    assert f.data["units_assessed"] == 4
    assert f.data["units_in_breach"] == 2  # c (late) and d (never)
    assert f.data["workers_affected"] == 2
    assert f.data["shortfall_total"] == pytest.approx(3 * 3.40)
    assert f.data["topped_up_in_time_total"] == pytest.approx(3.40)
    assert f.data["topped_up_late_total"] == pytest.approx(3.40)
    assert f.data["owed_total"] == pytest.approx(3.40)
    owed = result.owed.set_index("worker_id")
    assert list(owed.index) == ["b", "c", "d"]
    assert owed.loc["b", "owed"] == "0.00" and owed.loc["b", "topup_in_time"] == "3.40"
    assert owed.loc["c", "owed"] == "0.00" and owed.loc["c", "topup_late"] == "3.40"
    assert owed.loc["d", "owed"] == "3.40"
    assert owed.loc["d", "required"] == "23.40"
    assert owed.loc["d", "period_end"] == "2024-06-09"


def test_prop22_topups_unknown_to_a_pack_without_them_do_not_count(tmp_path: Path) -> None:
    """The DCWP rule knows no top-ups: a 2024-06 week at $19.56 an hour of engaged time."""
    _prop22_package(tmp_path / "pkg")
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-nyc-dcwp-delivery"]))
    # floor 19.56 x 1 h = 19.56 (no per-mile part): 20.00 and more pays it
    assert f.status == Status.PASS
    assert f.data["units_assessed"] == 4 and f.data["owed_total"] == 0.0
    assert result.owed.empty


def test_zhejiang_tiers_weight_the_hourly_minimum_by_order_time(tmp_path: Path) -> None:
    """Two 30-minute orders, one in a tier-1 zone (24 yuan an hour from 2024) and one in a
    tier-3 zone (20): rate 22; hours 1 + 2 x 5 / 60 of allowance; floor 22 x 7/6 = 25.67."""
    day = "2024-03-05"
    rows = [
        _order(1, "a", day, accepted_at=f"{day}T10:00:00", pickup_at="",
               dropoff_at=f"{day}T10:30:00", pickup_zone="HZ", worker_pay="20.00",
               incentive="5.00", tip="3.00"),
        _order(2, "a", day, accepted_at=f"{day}T11:00:00", pickup_at="",
               dropoff_at=f"{day}T11:30:00", pickup_zone="LS", worker_pay="0.00"),
        _order(3, "b", day, pickup_zone="nowhere"),  # no tier: not assessed
        _order(4, "c", "2023-12-31", accepted_at="2023-12-31T10:00:00", pickup_at="",
               dropoff_at="2023-12-31T11:00:00", pickup_zone="HZ", worker_pay="22.00"),
    ]  # fmt: skip
    write_csv(tmp_path / "pkg", "orders", rows)
    config = _config(["cn-zhejiang"], "CNY", rules={"zone_tiers": {"HZ": "1", "LS": "3"}})
    (f,), result = _pay03(tmp_path / "pkg", config)
    assert f.status == Status.FAIL
    assert f.data["units_assessed"] == 2
    assert f.data["not_assessed_no_rate"] == 1
    owed = result.owed.set_index("worker_id")
    assert owed.loc["a", "required"] == "25.67"
    assert owed.loc["a", "paid"] == "25.00"  # incentive counts, the tip does not
    assert owed.loc["a", "owed"] == "0.67"
    # 2023-12-31 is under the 2021 rates: 22 x (1 + 5/60) = 23.83
    assert owed.loc["c", "required"] == "23.83"
    assert owed.loc["c", "owed"] == "1.83"


def test_without_a_pack_pay03_is_not_assessed_and_names_the_key(tmp_path: Path) -> None:
    write_csv(tmp_path / "pkg", "orders", [_order(1, "a", "2024-06-03")])
    (f,), _ = _pay03(tmp_path / "pkg", _config([]))
    assert f.status == Status.NOT_ASSESSED
    assert f.missing == ("[audit] rules",)


def test_a_pack_needing_a_missing_column_is_not_assessed(tmp_path: Path) -> None:
    rows = [_order(1, "a", "2024-06-03")]
    for row in rows:
        del row["pickup_at"], row["distance_km"]
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), _ = _pay03(tmp_path / "pkg", _config(["us-nyc-tlc-hvfhv"]))
    assert f.status == Status.NOT_ASSESSED
    assert f.missing == ("orders.pickup_at", "orders.distance_km")


def test_small_cells_withhold_the_money_but_not_the_verdict(tmp_path: Path) -> None:
    write_csv(tmp_path / "pkg", "orders", [_order(1, "a", "2024-06-03", worker_pay="1.00")])
    config = _config(["us-nyc-tlc-hvfhv"], report={"min_cell_workers": 10})
    (f,), result = _pay03(tmp_path / "pkg", config)
    assert f.status == Status.FAIL
    assert f.data["owed_total"] is None and f.data["suppressed"] is True
    assert f.estimate is None
    assert list(result.owed["owed"]) == ["17.46"]  # the private file keeps the amount


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"audit": {"rules": ["us-nyc-tlc"]}}, 'Did you mean "us-nyc-tlc-hvfhv"'),
        ({"audit": {"rules": ["us-ca-prop22"]}}, "counts in USD"),
        ({"audit": {"rules": ["cn-zhejiang"]}}, "[rules] zone_tiers"),
        (
            {"audit": {"rules": ["cn-zhejiang"]}, "rules": {"zone_tiers": {"HZ": "9"}}},
            "tiers the chosen rule packs name",
        ),
        ({"audit": {"rules": ["cn-zhejiang", "cn-zhejiang"]}}, "different rule packs"),
    ],
)
def test_config_refuses_packs_that_cannot_apply(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        AuditConfig.from_dict(data)


def test_a_users_pack_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    text = (Path(load_pack("us-seattle-payup").path)).read_text()
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "mine.toml").write_text(text.replace("5.00", "6.00"))
    (tmp_path / "audit_config.toml").write_text(
        '[audit]\ncurrency = "USD"\nrules = ["packs/mine.toml"]\n'
    )
    from auditor.config import load_config, rule_packs

    (pack,) = rule_packs(load_config(tmp_path / "audit_config.toml"))
    assert pack.rates[0].minimum == 6.0
    broken = text.replace("effective_to = 2024-12-31", "effective_to = 2025-03-01")
    (tmp_path / "packs" / "mine.toml").write_text(broken)
    with pytest.raises(ConfigError, match=r"mine\.toml.*overlap"):
        load_config(tmp_path / "audit_config.toml")


def test_cli_rules_lists_packs_and_run_writes_owed_csv(tmp_path: Path) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "auditor", "rules"], capture_output=True, text=True, check=True
    )
    assert "us-ca-prop22" in listing.stdout and "cn-zhejiang" in listing.stdout
    _prop22_package(tmp_path / "pkg")
    (tmp_path / "c.toml").write_text('[audit]\ncurrency = "USD"\ntimezone = "America/New_York"\n')
    run = subprocess.run(
        [sys.executable, "-m", "auditor", "run", str(tmp_path / "pkg"), "--config",
         str(tmp_path / "c.toml"), "--rules", "us-ca-prop22", "--out", str(tmp_path / "out"),
         "--quiet", "--fail-on", "never"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    with (tmp_path / "out" / "owed.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["worker_id"], r["owed"]) for r in rows] == [
        ("b", "0.00"),
        ("c", "0.00"),
        ("d", "3.40"),
    ]
    assert sum(Decimal(r["owed"]) for r in rows) == Decimal("3.40")
    report = (tmp_path / "out" / "report.html").read_text()
    assert 'id="statutory_rules"' in report
    bad = subprocess.run(
        [sys.executable, "-m", "auditor", "run", str(tmp_path / "pkg"), "--rules", "nope",
         "--out", str(tmp_path / "out2")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown rule pack 'nope'" in bad.stderr


def test_rule_pack_choice_is_recorded_and_reproducible(tmp_path: Path) -> None:
    _prop22_package(tmp_path / "pkg")
    config = _config(["us-ca-prop22"])
    first = audit(tmp_path / "pkg", config).to_json()
    assert first == audit(tmp_path / "pkg", config).to_json()
    changed = dataclasses.replace(config, audit=dataclasses.replace(config.audit, rules=()))
    assert (
        audit(tmp_path / "pkg", changed).config_sha256
        != audit(tmp_path / "pkg", config).config_sha256
    )


_TRIP_PACK = """
name = "test-trip"
version = "1"
title = "A per-trip floor for tests"
jurisdiction = "Testland"
currency = "CNY"
[[sources]]
title = "none"
url = "https://example.org"
[floor]
unit = "trip"
pay = ["worker_pay", "incentive"]
time = "engaged"
distance = "engaged"
[[rates]]
effective_from = 2000-01-01
per_minute = 0.9
per_distance = 1.3
minimum = 8.0
"""


def test_simulated_package_with_planted_shortfalls_owes_exactly(tmp_path: Path) -> None:
    """A simulated platform whose pay is cut to 60 % for ten workers: owed.csv matches, per
    worker and week to the cent, the floor recomputed here from the order rows alone."""
    import pandas as pd

    from auditor.simulate import SimulationSpec, simulate, write_package

    folder = write_package(simulate(SimulationSpec(workers=60, days=10, seed=5)), tmp_path / "p")
    orders = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    planted = sorted(set(orders["worker_id"]))[:10]
    cut = orders["worker_id"].isin(planted) & (orders["status"] == "completed")
    orders.loc[cut, "worker_pay"] = [
        f"{Decimal(v) * Decimal('0.6'):.2f}" for v in orders.loc[cut, "worker_pay"]
    ]
    orders.to_csv(folder / "orders.csv", index=False)
    (tmp_path / "trip.toml").write_text(_TRIP_PACK)
    config = AuditConfig.from_dict(
        {"audit": {"rules": [str(tmp_path / "trip.toml")]}, "report": {"min_cell_workers": 1}}
    )
    (f,), result = _pay03(folder, config)

    done = orders[orders["status"] == "completed"].copy()
    accepted = pd.to_datetime(done["accepted_at"], utc=True)
    seconds = (pd.to_datetime(done["dropoff_at"], utc=True) - accepted).dt.total_seconds()

    def km(text: str) -> Decimal:
        return Decimal(text) if text else Decimal(0)

    # Exact decimal arithmetic, rounded half up to the cent.
    floors = [
        max(
            Decimal("0.9") * Decimal(int(s)) / 60 + Decimal("1.3") * (km(d) + km(a)),
            Decimal(8),
        ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for s, d, a in zip(seconds, done["distance_km"], done["approach_km"], strict=True)
    ]
    paid = [Decimal(p) + Decimal(i or "0") for p, i in zip(done["worker_pay"], done["incentive"],
                                                          strict=True)]  # fmt: skip
    done["short"] = [max(fl - p, Decimal(0)) for fl, p in zip(floors, paid, strict=True)]
    local = accepted.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    done["week"] = (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date
    expected = (
        done[done["short"] > 0]
        .groupby(["worker_id", "week"])["short"]
        .agg(lambda s: sum(s, Decimal(0)))
    )
    got = result.owed.set_index(["worker_id", "period_start"])["owed"]
    assert {(w, str(d)): f"{v:.2f}" for (w, d), v in expected.items()} == dict(got.items())
    assert set(planted) <= {w for w, _ in got.index}
    assert f.status == Status.FAIL
    assert f.data["owed_total"] == pytest.approx(float(sum(expected, Decimal(0))), abs=1e-6)


def test_simulated_package_from_a_start_date_runs_under_us_packs(tmp_path: Path) -> None:
    """`auditor simulate --start` puts a package inside a pack's dates; the USD packs then
    assess every completed order or worker-week."""
    sim = subprocess.run(
        [sys.executable, "-m", "auditor", "simulate", str(tmp_path / "p"), "--workers", "30",
         "--days", "7", "--start", "2024-06-03"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    config = _config(["us-ca-prop22", "us-seattle-payup"])
    result = audit(tmp_path / "p", config, checks=["PAY-03"])
    by_rule = {f.subject["rule"]: f for f in result.findings}
    assert set(by_rule) == {"us-ca-prop22", "us-seattle-payup"}
    for f in by_rule.values():
        assert f.status in (Status.PASS, Status.FAIL)
        assert f.data["units_assessed"] > 0
        assert not f.data.get("not_assessed_no_rate")
    bad = subprocess.run(
        [sys.executable, "-m", "auditor", "simulate", str(tmp_path / "q"), "--start", "2024-13-01"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_half_cents_round_up_and_implausible_floors_are_counted(tmp_path: Path) -> None:
    """0.583 x 35 minutes = 20.405 exactly: the floor is 20.41 (binary arithmetic gives
    20.40499...). A distance of 2e14 km makes a floor no money column holds: counted."""
    rows = [
        _order(1, "a", "2024-06-03", pickup_at="2024-06-03T10:00:00",
               dropoff_at="2024-06-03T10:35:00", distance_km="0", worker_pay="20.40"),
        _order(2, "b", "2024-06-03", distance_km="2e14", worker_pay="1.00"),
    ]  # fmt: skip
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-nyc-tlc-hvfhv"]))
    assert list(result.owed["required"]) == ["20.41"]
    assert list(result.owed["owed"]) == ["0.01"]
    assert f.data["not_assessed_implausible"] == 1


def test_engaged_distance_needs_the_trip_distance(tmp_path: Path) -> None:
    rows = [
        _order(1, "a", "2024-06-03", distance_km="", approach_km="1.6", worker_pay="1.00"),
        _order(2, "b", "2024-06-03", approach_km="", worker_pay="1.00"),
    ]
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-seattle-payup"]))
    assert f.data["not_assessed_no_distance"] == 1
    # b: 25 engaged minutes and 5 miles (approach unknown, 0): 11.00 + 3.70 = 14.70
    assert list(result.owed["required"]) == ["14.70"]


def test_a_cancelled_order_elsewhere_leaves_the_week_assessed(tmp_path: Path) -> None:
    day = "2024-03-05"
    rows = [
        _order(1, "a", day, pickup_at="", dropoff_at=f"{day}T11:00:00", pickup_zone="HZ"),
        _order(2, "a", day, status="cancelled_by_customer", pickup_at="", dropoff_at="",
               pickup_zone="nowhere", worker_pay="2.00"),
    ]  # fmt: skip
    write_csv(tmp_path / "pkg", "orders", rows)
    config = _config(["cn-zhejiang"], "CNY", rules={"zone_tiers": {" HZ ": "1"}})
    (f,), result = _pay03(tmp_path / "pkg", config)
    assert f.data["units_assessed"] == 1
    # 24 x (1 h + 5 min allowance for the one completed order) = 26.00; paid 20 + 2 (the
    # cancellation fee is pay)
    owed = result.owed.set_index("worker_id")
    assert owed.loc["a", "required"] == "26.00" and owed.loc["a", "paid"] == "22.00"


def test_packs_are_refused_when_named_twice_or_absurd(tmp_path: Path) -> None:
    text = Path(load_pack("us-seattle-payup").path).read_text()
    (tmp_path / "copy.toml").write_text(text)
    with pytest.raises(ConfigError, match="are both pack 'us-seattle-payup'"):
        _config(["us-seattle-payup", str(tmp_path / "copy.toml")])
    (tmp_path / "huge.toml").write_text(text.replace("per_minute = 0.44", "per_minute = 1e308"))
    with pytest.raises(ConfigError, match="per_minute must be a number from 0 to 100,000"):
        load_pack(str(tmp_path / "huge.toml"))
    with pytest.raises(ConfigError, match=r"\[rules\] default_tier"):
        _config(["cn-zhejiang"], "CNY", rules={"default_tier": "9"})


def test_dcwp_week_one_cent_under_the_hourly_rate(tmp_path: Path) -> None:
    """2024-06 at $19.56 an hour of trip time (acceptance to dropoff): one 60-minute order
    paid 19.55 owes 0.01; one paid 19.56 owes nothing; tips never count."""
    long = {"pickup_at": "", "dropoff_at": "2024-06-05T11:00:00"}
    rows = [
        _order(1, "a", "2024-06-05", worker_pay="19.55", tip="5.00", **long),
        _order(2, "b", "2024-06-05", worker_pay="19.56", **long),
    ]
    write_csv(tmp_path / "pkg", "orders", rows)
    (f,), result = _pay03(tmp_path / "pkg", _config(["us-nyc-dcwp-delivery"]))
    assert f.status == Status.FAIL and f.data["units_in_breach"] == 1
    assert list(result.owed["worker_id"]) == ["a"]
    assert list(result.owed["owed"]) == ["0.01"]


def test_a_statement_rule_sets_a_two_week_top_up_against_its_own_period(tmp_path: Path) -> None:
    """Worker e: orders on 2024-06-05 and 2024-06-12 (floor 23.40 each, paid 20.00 each),
    one statement for 2024-06-03 to 06-16 with a 6.80 top-up paid on 06-20 (in time). Per
    statement nothing is owed; per calendar week the top-up meets only the second week."""
    folder = tmp_path / "pkg"
    _prop22_package(folder)
    long = {"distance_km": f"{10 * MILE_KM}", "approach_km": f"{2 * MILE_KM}"}
    extra = [
        _order(11, "e", "2024-06-05", worker_pay="20.00", dropoff_at="2024-06-05T11:00:00", **long),
        _order(12, "e", "2024-06-12", worker_pay="20.00", dropoff_at="2024-06-12T11:00:00", **long),
    ]  # fmt: skip
    with (folder / "orders.csv").open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(extra[0]), lineterminator="\n")
        writer.writerows(extra)
    with (folder / "payouts.csv").open("a", newline="") as fh:
        fh.write("pe,e,2024-06-03,2024-06-16,40.00,2024-06-20T09:00:00,6.80\n")
    text = Path(load_pack("us-ca-prop22").path).read_text()
    (tmp_path / "statement.toml").write_text(
        text.replace('unit = "week"', 'unit = "statement"').replace(
            'name = "us-ca-prop22"', 'name = "prop22-by-statement"'
        )
    )
    (f,), result = _pay03(folder, _config([str(tmp_path / "statement.toml")]))
    assert f.data["unit"] == "statement" and f.data["units_assessed"] == 5
    owed = result.owed.set_index("worker_id")
    assert owed.loc["e", "period_end"] == "2024-06-16"
    assert owed.loc["e", "required"] == "46.80" and owed.loc["e", "owed"] == "0.00"
    assert owed.loc["e", "topup_in_time"] == "6.80"
    assert f.data["units_in_breach"] == 2  # c (late) and d (never), as per week
    (week_finding,), by_week = _pay03(folder, _config(["us-ca-prop22"]))
    assert week_finding.data["units_assessed"] == 6
    assert week_finding.data["units_in_breach"] == 3  # c, d and e's first week
    weeks = by_week.owed[by_week.owed.worker_id == "e"].set_index("period_start")
    assert weeks.loc["2024-06-03", "owed"] == "3.40"  # no top-up reaches the first week
    assert weeks.loc["2024-06-10", "owed"] == "0.00"


def test_a_currency_must_be_three_ascii_letters(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ISO 4217"):
        AuditConfig.from_dict({"audit": {"currency": "ÜSD"}})
    text = Path(load_pack("us-seattle-payup").path).read_text()
    (tmp_path / "p.toml").write_text(text.replace('currency = "USD"', 'currency = "ÜSD"'))
    with pytest.raises(ConfigError, match="ISO 4217"):
        load_pack(str(tmp_path / "p.toml"))


def test_zones_that_differ_only_in_spaces_are_refused() -> None:
    with pytest.raises(ConfigError, match="zones named once each"):
        _config(["cn-zhejiang"], "CNY", rules={"zone_tiers": {"HZ": "1", " HZ ": "2"}})
