"""The nyc-tlc-hvfhv preset: the TLC's published trip records read as they are, on 60 real
trips (fixtures/nyc-tlc-hvfhv), with every number checked against a hand computation from
the file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor import AuditConfig, Status, audit
from auditor.config import load_config, with_preset
from auditor.errors import ConfigError, PackageError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nyc-tlc-hvfhv"
SAMPLE = FIXTURE / "fhvhv_tripdata_2023_sample.parquet"
CENT = Decimal("0.01")


def _config(**audit_keys: object) -> AuditConfig:
    data: dict[str, object] = {"package": {"preset": "nyc-tlc-hvfhv"}}
    if audit_keys:
        data["audit"] = audit_keys
    return AuditConfig.from_dict(data)


def _trips() -> pd.DataFrame:
    return pq.read_table(SAMPLE).to_pandas()


def _owed_by_hand(trips: pd.DataFrame) -> tuple[int, int, Decimal]:
    """Trips assessed, in breach, and money owed under the 2023-02-01 to 2023-03-12 rates
    ($1.234 a mile, $0.564 a minute of pickup-to-dropoff time), trips that pick up before
    their request set aside; floors rounded half up to the cent."""
    used = trips[trips.pickup_datetime >= trips.request_datetime]
    days = used.dropoff_datetime.dt.date.astype(str)
    window = used[(days >= "2023-02-01") & (days <= "2023-03-12")]
    assessed = breached = 0
    owed = Decimal(0)
    for t in window.itertuples():
        seconds = Decimal(int((t.dropoff_datetime - t.pickup_datetime).total_seconds()))
        floor = Decimal("1.234") * Decimal(str(t.trip_miles)) + Decimal("0.564") * seconds / 60
        floor = floor.quantize(CENT, rounding=ROUND_HALF_UP)
        pay = Decimal(str(t.driver_pay))
        assessed += 1
        if pay < floor:
            breached += 1
            owed += floor - pay
    return assessed, breached, owed


def test_config_takes_the_presets_currency_zone_and_rules(tmp_path: Path) -> None:
    config = _config()
    assert config.audit.currency == "USD"
    assert config.audit.timezone == "America/New_York"
    assert config.audit.rules == ("us-nyc-tlc-hvfhv",)
    assert _config(rules=[]).audit.rules == ()  # a config's own list stands
    defaults = with_preset(AuditConfig(), "nyc-tlc-hvfhv")
    assert defaults.audit.currency == "USD"
    with pytest.raises(ConfigError, match=r"\[audit\] currency must be 'USD'"):
        _config(currency="CNY")
    with pytest.raises(ConfigError, match=r"\[audit\] timezone must be 'America/New_York'"):
        _config(timezone="Asia/Shanghai")
    with pytest.raises(ConfigError, match=r"\[package\] preset must be one of 'nyc-tlc-hvfhv'"):
        AuditConfig.from_dict({"package": {"preset": "nyc-tlc"}})
    with pytest.raises(ConfigError, match=r"no mapping with \[package\] preset"):
        AuditConfig.from_dict(
            {
                "package": {"preset": "nyc-tlc-hvfhv", "mapping": {"orders": {"tip": "tips"}}},
            }
        )
    cny = tmp_path / "cny.toml"
    cny.write_text('[audit]\ncurrency = "CNY"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="--preset, with"):
        with_preset(load_config(cny), "nyc-tlc-hvfhv")
    # A file that sets other things takes the preset's currency, zone and rule pack.
    alpha = tmp_path / "alpha.toml"
    alpha.write_text("[audit]\nalpha = 0.01\n", encoding="utf-8")
    chosen = with_preset(load_config(alpha), "nyc-tlc-hvfhv")
    assert (chosen.audit.currency, chosen.audit.alpha) == ("USD", 0.01)
    assert chosen.audit.rules == ("us-nyc-tlc-hvfhv",)


def test_sixty_real_trips_are_accounted_for_and_the_owed_money_is_exact() -> None:
    trips = _trips()
    result = audit(FIXTURE, _config())
    orders = result.tables["orders"]
    before_request = int((trips.pickup_datetime < trips.request_datetime).sum())
    assert before_request == 3
    assert (orders.rows_read, orders.rows_used, orders.rows_quarantined) == (60, 57, 3)
    assert dict(orders.quarantined_by_reason) == {"time_order": 3}
    # The quarantine names each trip by file and record, and the records are the ones that
    # pick up before their request.
    q = result.quarantine
    rows = sorted(set(q["row"]))
    assert rows == [i + 1 for i in trips.index[trips.pickup_datetime < trips.request_datetime]]
    assert set(q["key"]) == {f"fhvhv_tripdata_2023_sample:{r}" for r in rows}

    assessed, breached, owed = _owed_by_hand(trips)
    assert (assessed, breached) == (10, 4)
    (pay03,) = [f for f in result.findings if f.check == "PAY-03"]
    assert pay03.status == Status.FAIL
    assert pay03.data["units_assessed"] == assessed
    assert pay03.data["units_in_breach"] == breached
    assert Decimal(str(pay03.data["owed_total"])) == owed
    assert pay03.data["workers_affected"] is None  # unknown, not zero
    assert pay03.n_workers is None
    assert "worker" not in pay03.detail
    assert pay03.data["not_assessed_no_rate"] == 57 - assessed
    assert sum(Decimal(v) for v in result.owed["owed"]) == owed
    assert set(result.owed["worker_id"].fillna("")) == {""}


def test_checks_that_follow_workers_say_the_records_name_none() -> None:
    result = audit(FIXTURE, _config())
    by_check: dict[str, list[Status]] = {}
    for f in result.findings:
        by_check.setdefault(f.check, []).append(f.status)
    for check in ("PAY-01", "PAY-02", "FEE-05", "FEE-09", "HRS-02", "DSP-01"):
        (finding,) = [f for f in result.findings if f.check == check]
        assert finding.status == Status.NOT_ASSESSED
        assert finding.missing[0] == "orders.worker_id"
    for check in ("DQ-01", "DQ-02", "DQ-04", "PRC-02"):
        assert Status.NOT_ASSESSED not in by_check[check], check
    # A weekly floor needs a worker's week: it is not assessed, never summed over everyone.
    weekly = audit(FIXTURE, _config(rules=["us-nyc-dcwp-delivery"]), checks=["PAY-03"])
    (f,) = [f for f in weekly.findings if f.check == "PAY-03"]
    assert f.status == Status.NOT_ASSESSED
    assert f.missing[0] == "orders.worker_id"


def test_derived_columns_follow_the_tlc_data_dictionary(tmp_path: Path) -> None:
    trips = _trips()
    result = audit(FIXTURE, _config(), checks=["DQ-01"])
    table = result.to_dict()["package"]["tables"]["orders"]
    assert "worker_id" not in table["columns_present"]
    # Columns the derivation reads are not carried twice; the others are kept.
    assert set(table["extra_columns"]) == {
        "dispatching_base_num", "originating_base_num", "on_scene_datetime",
        "shared_request_flag", "shared_match_flag", "access_a_ride_flag",
    }  # fmt: skip
    from auditor.engine import connect
    from auditor.ingest import read_package

    with connect(_config()) as engine:
        raw = read_package(FIXTURE, _config(), engine)
        got = raw.tables["orders"].raw.order_by("_row").execute()
    first = trips.iloc[0]
    row = got.iloc[0]
    assert row["order_id"] == "fhvhv_tripdata_2023_sample:1"
    assert row["service"] == {"HV0003": "uber", "HV0005": "lyft"}[first.hvfhs_license_num]
    assert row["distance_km"] == pytest.approx(first.trip_miles * 1.609344, rel=1e-12)
    parts = ("tolls", "bcf", "sales_tax", "congestion_surcharge", "airport_fee")
    pass_through = sum(Decimal(str(first[c])) for c in parts)
    assert Decimal(str(row["pass_through"])) == pass_through
    assert (
        Decimal(str(row["customer_price"]))
        == Decimal(str(first.base_passenger_fare)) + pass_through
    )
    assert Decimal(str(row["worker_pay"])) == Decimal(str(first.driver_pay))
    assert row["pickup_zone"] == str(first.PULocationID)
    assert set(got["service"]) == {"uber", "lyft"}


def test_a_folder_of_months_is_one_table_with_each_trip_named_by_its_file(tmp_path: Path) -> None:
    table = pq.read_table(SAMPLE)
    folder = tmp_path / "months"
    folder.mkdir()
    pq.write_table(table.slice(0, 25), folder / "fhvhv_tripdata_2023-01.parquet")
    pq.write_table(table.slice(25), folder / "fhvhv_tripdata_2023-02.parquet")
    (folder / "notes.txt").write_text("not a month")
    whole = audit(FIXTURE, _config())
    split = audit(folder, _config())
    orders = split.tables["orders"]
    assert (orders.rows_read, orders.rows_used, orders.rows_quarantined) == (60, 57, 3)
    assert split.ignored_files == ("notes.txt",)
    # Rows count across the files; keys say which file and which record of it.
    keys = dict(zip(split.quarantine["row"], split.quarantine["key"], strict=True))
    for row, key in keys.items():
        month, record = ("2023-01", row) if row <= 25 else ("2023-02", row - 25)
        assert key == f"fhvhv_tripdata_{month}:{record}"
    pay_whole = next(f for f in whole.findings if f.check == "PAY-03")
    pay_split = next(f for f in split.findings if f.check == "PAY-03")
    assert pay_split.data["owed_total"] == pay_whole.data["owed_total"]
    files = sorted(folder.glob("*.parquet"))
    listed = b"".join(f"{p.name}\0{p.stat().st_size}\0".encode() + p.read_bytes() for p in files)
    assert split.tables["orders"].sha256 == hashlib.sha256(listed).hexdigest()


def test_bad_input_is_refused_naming_the_file(tmp_path: Path) -> None:
    csv_file = tmp_path / "trips.csv"
    csv_file.write_text("a,b\n1,2\n")
    with pytest.raises(PackageError, match="reads the published Parquet files"):
        audit(csv_file, _config())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PackageError, match=r"no \.parquet file"):
        audit(empty, _config())
    lacking = tmp_path / "lacking.parquet"
    pq.write_table(pq.read_table(SAMPLE).drop(["driver_pay", "tips"]), lacking)
    with pytest.raises(PackageError, match="columns tips, driver_pay missing"):
        audit(lacking, _config())


def test_cli_runs_the_preset_on_a_file_and_reruns_byte_identical(tmp_path: Path) -> None:
    outs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        done = subprocess.run(
            [sys.executable, "-m", "auditor", "run", str(SAMPLE), "--preset", "nyc-tlc-hvfhv",
             "--out", str(out), "--quiet", "--fail-on", "never"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outs.append(out)
    assert (outs[0] / "findings.json").read_bytes() == (outs[1] / "findings.json").read_bytes()
    findings = json.loads((outs[0] / "findings.json").read_text())
    assert findings["package"]["tables"]["orders"]["rows_read"] == 60
    assert findings["config"]["package"]["preset"] == "nyc-tlc-hvfhv"
    (tmp_path / "empty").mkdir()
    bad = subprocess.run(
        [sys.executable, "-m", "auditor", "run", str(tmp_path / "empty"),
         "--preset", "nyc-tlc-hvfhv", "--out", str(tmp_path / "bad"), "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "no .parquet file" in bad.stderr


def test_a_table_of_a_few_columns_keeps_them_and_reads_types_as_stored(tmp_path: Path) -> None:
    """A month whose money columns are stored as integers and whose airport fee is missing
    altogether (older TLC files): the fee counts as 0 and nothing else changes."""
    table = pq.read_table(SAMPLE)
    frame = table.to_pandas()
    frame["airport_fee"] = None
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "m.parquet")
    result = audit(tmp_path / "m.parquet", _config(), checks=["DQ-01"])
    assert result.tables["orders"].rows_used == 57


def test_trip_time_is_the_tlcs_own_on_the_night_clocks_go_back(tmp_path: Path) -> None:
    """A trip picked up at 00:50 and dropped off at 01:10 on 2024-11-03, in the hour New York
    lives twice: the TLC's ``trip_time`` says 20 minutes. At $1.360 a mile and $0.583 a
    minute, 2 miles and 20 minutes make a floor of 2.72 + 11.66 = 14.38; read from the
    wall-clock times as the later 01:10 it would be 80 minutes and 49.36."""
    frame = _trips().iloc[[0]].copy()
    frame["request_datetime"] = pd.Timestamp("2024-11-03 00:40:00")
    frame["on_scene_datetime"] = pd.Timestamp("2024-11-03 00:48:00")
    frame["pickup_datetime"] = pd.Timestamp("2024-11-03 00:50:00")
    frame["dropoff_datetime"] = pd.Timestamp("2024-11-03 01:10:00")
    frame["trip_time"] = 1200
    frame["trip_miles"] = 2.0
    frame["driver_pay"] = 14.38
    schema = pq.read_schema(SAMPLE)
    path = tmp_path / "fhvhv_tripdata_2024-11.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(schema)
    pq.write_table(table, path)
    result = audit(path, _config(), checks=["PAY-03"])
    (f,) = [f for f in result.findings if f.check == "PAY-03"]
    assert f.data["units_assessed"] == 1
    assert f.data["units_in_breach"] == 0
    assert f.data["required_total"] == pytest.approx(14.38)


def test_hostile_folders_are_refused_or_quarantined(tmp_path: Path) -> None:
    """A copy of a month saved twice, a month without a column, a pattern character in a
    name, a month storing money as text: refused (exit 2), naming the file. Money that is
    not a finite amount, and columns named like the contract's: quarantined or kept aside,
    never counted as something else."""
    table = pq.read_table(SAMPLE)
    copies = tmp_path / "copies"
    copies.mkdir()
    pq.write_table(table, copies / "a.parquet")
    (copies / "a (1).parquet").write_bytes((copies / "a.parquet").read_bytes())
    with pytest.raises(PackageError, match="would count twice"):
        audit(copies, _config(), checks=["DQ-01"])
    lacking = tmp_path / "lacking"
    lacking.mkdir()
    pq.write_table(table, lacking / "a.parquet")
    pq.write_table(table.drop(["tips"]), lacking / "b.parquet")
    with pytest.raises(PackageError, match=r"b\.parquet: column tips missing"):
        audit(lacking, _config(), checks=["DQ-01"])
    pattern = tmp_path / "pattern"
    pattern.mkdir()
    pq.write_table(table, pattern / "[ab].parquet")
    with pytest.raises(PackageError, match="as a pattern"):
        audit(pattern, _config(), checks=["DQ-01"])
    named = tmp_path / "named"
    named.mkdir()
    pq.write_table(table.append_column("filename", pa.array(["x"] * 60)), named / "a.parquet")
    kept = audit(named, _config(), checks=["DQ-01"])
    assert "filename" in kept.to_dict()["package"]["tables"]["orders"]["extra_columns"]
    pq.write_table(table.append_column("file_row_number", pa.array(range(60))), named / "b.parquet")
    with pytest.raises(PackageError, match="collides with the engine's record numbers"):
        audit(named, _config(), checks=["DQ-01"])
    text = tmp_path / "text.parquet"
    frame = table.to_pandas()
    frame["driver_pay"] = frame["driver_pay"].astype(str)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), text)
    with pytest.raises(PackageError, match="driver_pay is stored as string"):
        audit(text, _config(), checks=["DQ-01"])

    odd = table.to_pandas()
    odd.loc[0, "base_passenger_fare"] = float("nan")
    odd.loc[1, "tips"] = float("inf")
    odd.loc[2, "driver_pay"] = 1e15
    odd["status"] = "cancelled_by_customer"  # a column of the file, not the contract's
    odd["Airport_Fee"] = odd.pop("airport_fee")  # another spelling of a needed column
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.Table.from_pandas(odd, preserve_index=False), path)
    result = audit(path, _config(), checks=["DQ-01", "PAY-03"])
    orders = result.tables["orders"]
    assert orders.rows_read == 60
    assert orders.rows_quarantined == 3 + 3  # three odd amounts, three earlier pickups
    q = result.quarantine
    assert set(q.loc[q["reason"] == "missing_required", "key"]) == {f"odd:{n}" for n in (1, 2, 3)}
    extras = result.to_dict()["package"]["tables"]["orders"]["extra_columns"]
    assert "source_status" in extras and "status" not in extras
