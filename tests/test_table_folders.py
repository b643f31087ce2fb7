"""A table may be a folder of Parquet part files, as data lakes write them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _packages import as_text_table, split_into_parts

import auditor
from auditor.errors import PackageError
from auditor.ingest import discover

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
CONFIG = ROOT / "audit_config.toml"


def lake_package(tmp: Path) -> tuple[Path, Path]:
    """The demo twice: each table one Parquet file of text columns, and the same with
    orders as ``orders/`` (3 parts) and offers as ``offers.parquet/`` (2 parts)."""
    single, lake = tmp / "single", tmp / "lake"
    single.mkdir()
    lake.mkdir()
    for csv_file in sorted(DEMO.glob("*.csv")):
        table = as_text_table(csv_file)
        pq.write_table(table, single / f"{csv_file.stem}.parquet")
        if csv_file.stem == "orders":
            split_into_parts(table, lake / "orders", 3)
        elif csv_file.stem == "offers":
            split_into_parts(table, lake / "offers.parquet", 2)
        else:
            pq.write_table(table, lake / f"{csv_file.stem}.parquet")
    return single, lake


def test_a_folder_of_parts_reads_as_the_one_file_it_was_cut_from(tmp_path: Path) -> None:
    single, lake = lake_package(tmp_path)
    whole = auditor.audit(single, CONFIG).to_dict()
    parts = auditor.audit(lake, CONFIG).to_dict()
    assert json.dumps(parts["findings"]) == json.dumps(whole["findings"])
    orders = parts["package"]["tables"]["orders"]
    assert orders["rows_read"] == whole["package"]["tables"]["orders"]["rows_read"] == 4509
    assert orders["rows_read"] == orders["rows_used"] + orders["rows_quarantined"]
    assert orders["file"] == "orders"
    assert parts["package"]["tables"]["offers"]["file"] == "offers.parquet"
    assert orders["sha256"] != whole["package"]["tables"]["orders"]["sha256"]


def test_records_are_numbered_across_the_parts(tmp_path: Path) -> None:
    """A bad record in the third part is quarantined under its number in the table."""
    table = as_text_table(DEMO / "orders.csv")
    worker_pay = table.column("worker_pay").to_pylist()
    row = 4000  # 1-based; part 3 of 3 starts at record 3007
    worker_pay[row - 1] = "not money"
    index = table.schema.get_field_index("worker_pay")
    table = table.set_column(index, "worker_pay", pa.array(worker_pay, pa.string()))
    package = tmp_path / "pkg"
    split_into_parts(table, package / "orders", 3)
    result = auditor.audit(package, CONFIG)
    quarantined = result.quarantine
    assert list(quarantined["row"]) == [row]
    assert list(quarantined["column"]) == ["worker_pay"]


def test_a_column_mapping_applies_to_every_part(tmp_path: Path) -> None:
    table = as_text_table(DEMO / "orders.csv").rename_columns(
        [
            "rider" if c == "worker_id" else c
            for c in as_text_table(DEMO / "orders.csv").column_names
        ]
    )
    package = tmp_path / "pkg"
    split_into_parts(table, package / "orders", 2)
    config = tmp_path / "c.toml"
    config.write_text(
        CONFIG.read_text(encoding="utf-8") + '\n[package.mapping.orders]\nworker_id = "rider"\n',
        encoding="utf-8",
    )
    result = auditor.audit(package, config)
    assert result.tables["orders"].rows_used == 4509
    assert "worker_id" in result.tables["orders"].columns_present


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: (f / "date=2026-03-01").mkdir(), r"holds a sub-folder \(a partition\)"),
        (lambda f: (f / "notes.txt").write_text("x"), "may hold only Parquet part files"),
        (lambda f: [p.unlink() for p in f.glob("*.parquet")], "holds no Parquet part file"),
    ],
)
def test_a_table_folder_holding_anything_else_is_refused(
    tmp_path: Path, make: object, message: str
) -> None:
    package = tmp_path / "pkg"
    split_into_parts(as_text_table(DEMO / "workers.csv"), package / "orders", 2)
    make(package / "orders")  # type: ignore[operator]
    with pytest.raises(PackageError, match=message):
        discover(package)


def test_a_table_both_as_file_and_folder_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    split_into_parts(as_text_table(DEMO / "orders.csv"), package / "orders", 2)
    shutil.copy(DEMO / "orders.csv", package / "orders.csv")
    with pytest.raises(PackageError, match="two sources for table 'orders'"):
        discover(package)
