"""Reading packages: formats, encodings, mapping, time zones, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import good_order, write_csv

from auditor import AuditConfig, ConfigError, DecodeError, PackageError, audit
from auditor.config import PackageSection
from auditor.contract import validate_package
from auditor.engine import connect
from auditor.ingest import read_package


def used_orders(folder: Path, config: AuditConfig | None = None) -> pd.DataFrame:
    config = config or AuditConfig()
    with connect(config) as engine:
        v = validate_package(engine, read_package(folder, config, engine))
        return v.tables["orders"].table.order_by("_row").to_pyarrow().to_pandas()


def test_csv_parquet_and_jsonl_read_the_same(tmp_path: Path) -> None:
    rows = [good_order(i) for i in range(5)]
    write_csv(tmp_path / "csv", "orders", rows)
    (tmp_path / "jsonl").mkdir()
    with (tmp_path / "jsonl" / "orders.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    (tmp_path / "parquet").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "parquet" / "orders.parquet")
    frames = [used_orders(tmp_path / f) for f in ("csv", "jsonl", "parquet")]
    assert len(frames[0]) == 5
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])
    assert list(frames[0]["order_id"]) == ["00000", "00001", "00002", "00003", "00004"]


def test_parquet_native_types_are_cast(tmp_path: Path) -> None:
    table = pa.table(
        {
            "order_id": pa.array(["a1", "a2"]),
            "worker_id": pa.array(["w1", "w2"]),
            "accepted_at": pa.array(
                [pd.Timestamp("2026-03-02 08:00"), pd.Timestamp("2026-03-02 09:00")],
                pa.timestamp("us"),
            ),
            "dropoff_at": pa.array(
                [
                    pd.Timestamp("2026-03-02 08:30", tz="Asia/Shanghai"),
                    pd.Timestamp("2026-03-02 09:30", tz="Asia/Shanghai"),
                ],
                pa.timestamp("us", tz="Asia/Shanghai"),
            ),
            "customer_price": pa.array([20.1, 30.2]),
            "worker_pay": pa.array([16, 24]),
        }
    )
    (tmp_path / "p").mkdir()
    pq.write_table(table, tmp_path / "p" / "orders.parquet")
    got = used_orders(tmp_path / "p")
    # naive parquet timestamps are local time in [audit] timezone (UTC+8)
    assert got["accepted_at"][0] == pd.Timestamp("2026-03-02 00:00", tz="UTC")
    assert got["dropoff_at"][0] == pd.Timestamp("2026-03-02 00:30", tz="UTC")
    assert str(got["customer_price"][0]) == "20.1000"


def test_naive_timestamps_are_local_and_offsets_are_kept(tmp_path: Path) -> None:
    rows = [
        good_order(
            1, accepted_at="2026-03-02 08:00:00", pickup_at="", dropoff_at="2026-03-02 08:30:00"
        ),
        good_order(
            2,
            accepted_at="2026-03-02T08:00:00+00:00",
            pickup_at="",
            dropoff_at="2026-03-02T08:30:00Z",
        ),
    ]
    write_csv(tmp_path / "p", "orders", rows)
    got = used_orders(tmp_path / "p")
    assert got["accepted_at"][0] == pd.Timestamp("2026-03-02 00:00", tz="UTC")  # +08:00
    assert got["accepted_at"][1] == pd.Timestamp("2026-03-02 08:00", tz="UTC")
    assert got["dropoff_at"][1] == pd.Timestamp("2026-03-02 08:30", tz="UTC")
    # another audit time zone moves only the naive one
    ny = AuditConfig().audit.__class__(timezone="America/New_York")
    got_ny = used_orders(tmp_path / "p", AuditConfig(audit=ny))
    assert got_ny["accepted_at"][0] == pd.Timestamp("2026-03-02 13:00", tz="UTC")
    assert got_ny["accepted_at"][1] == got["accepted_at"][1]


def test_gb18030_with_mapped_chinese_headers(tmp_path: Path) -> None:
    header = {
        "order_id": "订单号",
        "worker_id": "骑手ID",
        "accepted_at": "接单时间",
        "dropoff_at": "送达时间",
        "customer_price": "实付金额",
        "worker_pay": "骑手收入",
    }
    rows = [
        {
            header["order_id"]: "001",
            header["worker_id"]: "骑手甲",
            header["accepted_at"]: "2026-03-02 08:00:00",
            header["dropoff_at"]: "2026-03-02 08:30:00",
            header["customer_price"]: "25.50",
            header["worker_pay"]: "20.40",
            "区域": "西湖区",
        },
        {
            header["order_id"]: "002",
            header["worker_id"]: "骑手乙",
            header["accepted_at"]: "2026-03-02 09:00:00",
            header["dropoff_at"]: "2026-03-02 09:20:00",
            header["customer_price"]: "18.00",
            header["worker_pay"]: "14.40",
            "区域": "滨江区",
        },
    ]
    write_csv(tmp_path / "p", "orders", rows, encoding="gb18030")
    config = AuditConfig(package=PackageSection(encoding="gb18030", mapping={"orders": header}))
    got = used_orders(tmp_path / "p", config)
    assert list(got["worker_id"]) == ["骑手甲", "骑手乙"]
    assert list(got["区域"]) == ["西湖区", "滨江区"]
    assert str(got["customer_price"].sum()) == "43.5000"


def test_gb18030_file_read_as_utf8_names_file_and_byte_offset(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p", "orders", [good_order(1, worker_id="骑手甲")], encoding="gb18030"
    )
    raw = path.read_bytes()
    expected = raw.index("骑".encode("gb18030"))
    with pytest.raises(DecodeError) as info:
        audit(tmp_path / "p")
    assert info.value.byte_offset == expected
    assert str(path) in str(info.value) and f"byte offset {expected}" in str(info.value)
    assert "gb18030" in str(info.value)


def test_bytes_invalid_in_the_configured_encoding(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    path = write_csv(folder, "orders", [good_order(1)], encoding="gb18030")
    path.write_bytes(path.read_bytes() + b"00002,w1,\xff\xfe\n")
    config = AuditConfig(package=PackageSection(encoding="gb18030"))
    with pytest.raises(DecodeError) as info:
        audit(folder, config)
    assert info.value.byte_offset == path.read_bytes().index(b"\xff")


def test_money_sums_exactly_to_the_cent(tmp_path: Path) -> None:
    rows = [
        good_order(i, customer_price="0.10", pass_through="0", worker_pay="0.07")
        for i in range(1000)
    ]
    write_csv(tmp_path / "p", "orders", rows)
    got = used_orders(tmp_path / "p")
    assert str(got["customer_price"].sum()) == "100.0000"  # float would give 99.9999999...
    assert str(got["worker_pay"].sum()) == "70.0000"


def test_missing_orders_is_a_package_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "p", "sessions", [{"worker_id": "w", "online_at": "x", "offline_at": "y"}])
    with pytest.raises(PackageError, match="required table 'orders' is missing"):
        audit(tmp_path / "p")


def test_missing_required_column_suggests_the_mapping(tmp_path: Path) -> None:
    rows = [{k if k != "customer_price" else "实付金额": v for k, v in good_order(1).items()}]
    write_csv(tmp_path / "p", "orders", rows)
    with pytest.raises(PackageError) as info:
        audit(tmp_path / "p")
    message = str(info.value)
    assert "customer_price" in message and "[package.mapping.orders]" in message
    assert "orders.csv" in message


def test_mapping_to_a_column_the_file_lacks(tmp_path: Path) -> None:
    write_csv(tmp_path / "p", "orders", [good_order(1)])
    config = AuditConfig(package=PackageSection(mapping={"orders": {"order_id": "订单编号"}}))
    with pytest.raises(PackageError, match="no column '订单编号'"):
        audit(tmp_path / "p", config)


def test_mapping_an_unknown_contract_column_is_a_config_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "p", "orders", [good_order(1)])
    config = AuditConfig(package=PackageSection(mapping={"orders": {"custmer_price": "x"}}))
    with pytest.raises(ConfigError, match='Did you mean "customer_price"'):
        audit(tmp_path / "p", config)
    config = AuditConfig(package=PackageSection(mapping={"order": {"order_id": "x"}}))
    with pytest.raises(ConfigError, match='Did you mean "orders"'):
        audit(tmp_path / "p", config)


def test_two_files_for_one_table(tmp_path: Path) -> None:
    write_csv(tmp_path / "p", "orders", [good_order(1)])
    (tmp_path / "p" / "orders.jsonl").write_text("{}\n")
    with pytest.raises(PackageError, match="two files for table 'orders'"):
        audit(tmp_path / "p")


def test_other_files_are_listed_not_read(tmp_path: Path) -> None:
    write_csv(tmp_path / "p", "orders", [good_order(1)])
    (tmp_path / "p" / "README.txt").write_text("hello")
    (tmp_path / "p" / "drivers.csv").write_text("a\n1\n")
    result = audit(tmp_path / "p")
    assert result.ignored_files == ("README.txt", "drivers.csv")


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "orders.parquet").write_text("order_id\n1\n")
    with pytest.raises(PackageError, match=r"orders\.parquet: cannot be read as PARQUET"):
        audit(tmp_path / "p")


def test_file_hashes_are_recorded(package: Path) -> None:
    import hashlib

    result = audit(package)
    for name, account in result.tables.items():
        digest = hashlib.sha256((package / f"{name}.csv").read_bytes()).hexdigest()
        assert account.sha256 == digest


def _quarantine_as_csv_and_parquet(
    rows: list[dict[str, str]], folder: Path
) -> list[tuple[int, list[tuple[int, str, str]]]]:
    """Validate ``rows`` written as CSV and as Parquet (all text); per format, the orders
    used and the sorted (row, reason, column) of the quarantine."""
    write_csv(folder / "csv", "orders", rows)
    (folder / "parquet").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), folder / "parquet" / "orders.parquet")
    config = AuditConfig()
    out = []
    for fmt in ("csv", "parquet"):
        with connect(config) as engine:
            v = validate_package(engine, read_package(folder / fmt, config, engine))
            q = v.quarantine()
            issues = sorted(zip(q["row"], q["reason"], q["column"], strict=True))
            out.append((v.tables["orders"].rows_used, issues))
    return out


def test_parquet_and_csv_quarantine_the_same_rows(tmp_path: Path) -> None:
    """Parquet tables are validated through a view (no stored cast copy) and text tables
    through a stored copy: both must quarantine the same rows for the same reasons,
    duplicates and conflicting IDs included."""
    rows = [good_order(i) for i in range(12)]
    rows += [
        dict(rows[1]),  # exact copy: the copy is quarantined
        good_order(2, worker_pay="14.00"),  # same ID, other content: all copies go
        good_order(20, customer_price="-3"),
        good_order(21, status="lost"),
        good_order(22, accepted_at="yesterday"),
        good_order(23, worker_id=""),
    ]
    clean_keys = [dict(r) for r in rows]
    rows += [good_order(30, order_id=""), good_order(31, order_id=" ")]  # two without a key
    found = _quarantine_as_csv_and_parquet(rows, tmp_path / "first")
    assert [used for used, _ in found] == [11, 11]  # 12 good, less order 2 (in conflict)
    assert found[0][1] == found[1][1]
    reasons = {r for _, r, _ in found[0][1]}
    assert {"duplicate_row", "conflicting_id", "missing_required"} <= reasons
    # Without the keyless rows (no key repeats except real duplicates) the Parquet path
    # takes its one-pass route; it must agree with CSV there too.
    rows = [r for r in clean_keys if r["order_id"] not in ("00001", "00002")]
    again = _quarantine_as_csv_and_parquet(rows, tmp_path / "second")
    assert [used for used, _ in again] == [10, 10]
    assert again[0][1] == again[1][1] and len(again[0][1]) >= 4
