"""Hostile and broken input files: nothing lost, no crash, a message naming file and line.

Each case builds a small package in the test, runs ``auditor validate`` (or ``run``) in
process, and asserts the exit code, the row accounting against the records really in the
file, and what the quarantine or the message names. Outputs and config are covered by
``test_hostile_outputs.py`` and ``test_hostile_config.py``; small cells by
``test_small_cells.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import good_order, write_csv

from auditor.cli import main

N_GOOD = 12
"""Good orders in every case package."""


def _lines(rows: list[dict[str, str]], header: list[str] | None = None) -> list[str]:
    header = header or list(rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().splitlines()


def _good() -> list[dict[str, str]]:
    return [good_order(i) for i in range(N_GOOD)]


def _validate(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str):  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    code = main(["validate", str(folder), "--out", str(out), "--quiet", *extra])
    err = capsys.readouterr().err
    doc = json.loads((out / "validation.json").read_text()) if code in (0, 1) else None
    quarantine = (
        pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False) if doc else None
    )
    return code, err, doc, quarantine


def _orders_account(doc: dict) -> dict:  # type: ignore[type-arg]
    t = doc["package"]["tables"]["orders"]
    assert t["rows_read"] == t["rows_used"] + t["rows_quarantined"]
    return t  # type: ignore[no-any-return]


# -- CSV records: (name, edit of the file's lines, expected records, quarantined rows) ----

CsvEdit = Callable[[list[str]], list[str]]


def _set(i: int, text: str) -> CsvEdit:
    def edit(lines: list[str]) -> list[str]:
        lines[i] = text
        return lines

    return edit


def _insert(i: int, text: str) -> CsvEdit:
    def edit(lines: list[str]) -> list[str]:
        lines.insert(i, text)
        return lines

    return edit


def _both(*edits: CsvEdit) -> CsvEdit:
    def edit(lines: list[str]) -> list[str]:
        for e in edits:
            lines = e(lines)
        return lines

    return edit


CSV_RECORDS: list[tuple[str, CsvEdit, int, list[int]]] = [
    ("too many fields", _set(3, "00002,w2,completed,,,,20.00,1.00,15.20,2.00,2.00,x,y"), 12, [3]),
    ("too few fields", _set(4, "00003,w3"), 12, [4]),
    ("blank line before a bad record", _both(_insert(2, ""), _set(6, "a,b")), 12, [5]),
    ("two blank lines", _both(_insert(2, ""), _insert(5, ""), _set(9, "a")), 12, [7]),
    ("blank line right before a bad record", _both(_insert(2, ""), _set(3, "a,b")), 12, [2]),
    ("whitespace-only line", _insert(3, "   "), 13, [3]),
    ("quote inside an unquoted value", _set(5, '00004,w4,"completed"x,,,,,,,,'), 12, [5]),
    (
        "a quote closed by a later quote",
        _both(_set(3, '"open,1'), _set(6, '"close,1')),
        12,
        [3, 4, 5, 6],
    ),
    ("one bad record last", _set(12, "zzz"), 12, [12]),
    ("a 3 MB line", _set(5, "00004,w4,completed," + "x" * 3_000_000), 12, [5]),
]


@pytest.mark.parametrize(
    ("edit", "records", "quarantined"),
    [c[1:] for c in CSV_RECORDS],
    ids=[c[0] for c in CSV_RECORDS],
)
def test_every_csv_record_is_used_or_quarantined_at_its_number(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: CsvEdit,
    records: int,
    quarantined: list[int],
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    lines = edit(_lines(_good()))
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, doc, q = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    account = _orders_account(doc)
    assert account["rows_read"] == records
    rows = sorted({int(r) for r in q.loc[q["table"] == "orders", "row"]})
    assert rows == quarantined
    assert set(q.loc[q["table"] == "orders", "reason"]) == {"malformed_record"}


@pytest.mark.parametrize(("position", "from_end"), [(1, False), (5, False), (2, True)])
def test_a_quote_never_closed_stops_the_run_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], position: int, from_end: bool
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    lines = _lines(_good())
    at = len(lines) - position if from_end else position
    lines[at] = lines[at].replace(",w", ',"w', 1)
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2
    assert "orders.csv" in err and f"record on line {at + 1} opens a quoted value" in err
    assert "Traceback" not in err


def test_a_quote_never_closed_on_the_last_line_costs_that_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    lines = _lines(_good())
    lines[-1] = lines[-1].replace(",w", ',"w', 1)
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, doc, q = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    assert _orders_account(doc)["rows_read"] == N_GOOD
    assert list(q["row"].astype(int)) == [N_GOOD]


def test_a_quoted_value_over_lines_is_one_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(r, pickup_zone="Z0") for r in _good()]
    rows[3]["pickup_zone"] = "Z1\nnorth gate"
    rows[7]["pickup_zone"] = "Z2\r\nsouth"
    write_csv(tmp_path / "pkg", "orders", rows)
    code, err, doc, _q = _validate(tmp_path / "pkg", tmp_path, capsys)
    assert code == 0, err
    assert _orders_account(doc)["rows_used"] == N_GOOD


# -- column names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", ["rowid", "ROWID", "_row", "_raw", "_hint", "_key", "_bad__worker_pay", "_k"]
)
def test_columns_named_like_internal_ones_are_kept_renamed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str
) -> None:
    rows = [dict(r, **{extra: f"v{i}"}) for i, r in enumerate(_good())]
    rows[2]["worker_pay"] = "abc"  # a cast failure, so the internal _bad__ column is used
    write_csv(tmp_path / "pkg", "orders", rows)
    code, err, doc, q = _validate(tmp_path / "pkg", tmp_path, capsys)
    assert code in (0, 1), err
    account = _orders_account(doc)
    assert account["rows_read"] == N_GOOD and account["rows_quarantined"] == 1
    assert account["extra_columns"] == ["user_" + extra.lstrip("_")]
    assert list(q["row"].astype(int)) == [3]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (["worker_pay", "Worker_Pay"], "differ only in case"),
        (["zone\x00x"], "control character"),
        (["zone\x1b[31m"], "control character"),
    ],
    ids=["case", "nul", "ansi"],
)
def test_column_names_that_cannot_be_told_apart_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: list[str], words: str
) -> None:
    rows = [dict(r, **dict.fromkeys(header, "1")) for r in _good()]
    if header[0] == "worker_pay":
        rows = [
            {k: v for k, v in r.items() if k != "worker_pay"} | {h: "1" for h in header}
            for r in rows
        ]
    write_csv(tmp_path / "pkg", "orders", rows)
    code, err, _, _ = _validate(tmp_path / "pkg", tmp_path, capsys)
    assert code == 2 and words in err and "orders.csv" in err


# -- values ---------------------------------------------------------------------------------

NOT_NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "1_000", "1_5", "0x1A", "1,000"]


@pytest.mark.parametrize("column", ["worker_pay", "distance_km"])
@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_non_finite_and_separated_numbers_are_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, value: str
) -> None:
    rows = [dict(r, distance_km="3.2") for r in _good()]
    rows[4][column] = value
    write_csv(tmp_path / "pkg", "orders", rows)
    code, err, doc, q = _validate(tmp_path / "pkg", tmp_path, capsys)
    assert code in (0, 1), err
    assert _orders_account(doc)["rows_quarantined"] == 1
    row = q.iloc[0]
    # quarantine.csv neutralises text a spreadsheet would run as a formula with one "'".
    shown = row["value"][1:] if row["value"].startswith("'") else row["value"]
    assert (int(row["row"]), row["column"], row["reason"], shown) == (
        5,
        column,
        "invalid_number",
        value,
    )


OUT_OF_WINDOW = [
    "infinity", "-infinity", "epoch", "9999-12-31T00:00:00Z", "2200-01-01T00:00:00+08:00",
    "1969-07-20T20:17:00Z", "0001-01-01T00:00:00Z",
]  # fmt: skip


@pytest.mark.parametrize("value", OUT_OF_WINDOW)
def test_times_outside_the_plausible_window_are_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    rows = _good()
    rows[6]["dropoff_at"] = value
    write_csv(tmp_path / "pkg", "orders", rows)
    code, err, doc, q = _validate(tmp_path / "pkg", tmp_path, capsys)
    assert code in (0, 1), err
    assert _orders_account(doc)["rows_quarantined"] == 1
    assert int(q.iloc[0]["row"]) == 7
    assert {"timestamp_out_of_range", "time_order"} >= set(q["reason"])
    assert "timestamp_out_of_range" in set(q["reason"]) or value.startswith(
        ("-", "0", "1969", "epoch")
    )


def test_the_window_is_configurable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _good()
    rows[6]["dropoff_at"] = "2150-01-01T00:00:00Z"
    write_csv(tmp_path / "pkg", "orders", rows)
    config = tmp_path / "audit.toml"
    config.write_text('[package]\nlatest_date = "2199-12-31"\n')
    code, err, doc, _ = _validate(tmp_path / "pkg", tmp_path, capsys, "--config", str(config))
    assert code in (0, 1), err
    assert _orders_account(doc)["rows_quarantined"] == 0


@pytest.mark.parametrize(
    ("offline", "reason"),
    [
        ("9999-12-31T23:59:59Z", "timestamp_out_of_range"),
        ("2099-01-01T00:00:00Z", "session_too_long"),
        ("2026-03-12T08:00:00+08:00", "session_too_long"),
        ("infinity", "timestamp_out_of_range"),
    ],
)
def test_one_endless_session_cannot_stall_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], offline: str, reason: str
) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _good())
    sessions = [
        {"worker_id": f"w{i}", "online_at": "2026-03-02T07:00:00+08:00",
         "offline_at": "2026-03-02T12:00:00+08:00"}
        for i in range(7)
    ]  # fmt: skip
    sessions.append(
        {"worker_id": "w1", "online_at": "2026-03-02T13:00:00+08:00", "offline_at": offline}
    )
    write_csv(folder, "sessions", sessions)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--out", str(out), "--quiet", "--fail-on", "never"])
    err = capsys.readouterr().err
    assert code == 0, err
    doc = json.loads((out / "findings.json").read_text())
    account = doc["package"]["tables"]["sessions"]
    assert (account["rows_read"], account["rows_quarantined"]) == (8, 1)
    assert reason in account["quarantined_by_reason"]


@pytest.mark.parametrize(
    "value",
    ["ios\x00evil", "x'; DROP TABLE orders; --", 'a"b', "\\x00", "\u202eRTL", "中文", "%s%n"],
)
def test_any_text_in_a_value_is_data_not_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    folder = tmp_path / "pkg"
    rows = [
        dict(r, customer_segment=value if i % 2 else "web", pickup_zone=value)
        for i, r in enumerate(_good())
    ]
    write_csv(folder, "orders", rows)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--out", str(out), "--quiet", "--fail-on", "never"])
    err = capsys.readouterr().err
    assert code == 0, err
    doc = json.loads((out / "findings.json").read_text())
    assert _orders_account(doc)["rows_used"] == N_GOOD


# -- JSON Lines -----------------------------------------------------------------------------


def _jsonl(rows: list[dict[str, str]]) -> list[str]:
    return [json.dumps(r) for r in rows]


JSONL_LINES: list[tuple[str, str, bool]] = [
    ("not json", "{not json", True),
    ("two objects", '{"order_id": "x1"}{"order_id": "x2"}', True),
    ("trailing comma", json.dumps(good_order(50))[:-1] + ", }", True),
    ("NaN", json.dumps(good_order(51))[:-1] + ', "x": NaN}', True),
    ("Infinity", json.dumps(good_order(52))[:-1] + ', "x": -Infinity}', True),
    ("comment", json.dumps(good_order(53))[:-1] + ', "x": 1 /* c */}', True),
    ("array", "[1, 2, 3]", True),
    ("string", '"just text"', True),
    ("raw control character", json.dumps(good_order(54))[:-1] + ', "x": "a\x1fb"}', True),
    ("raw NUL", json.dumps(good_order(55))[:-1] + ', "x": "a\x00b"}', True),
    ("3 MB value", json.dumps(good_order(56) | {"note": "z" * 3_000_000}), False),
    ("escaped NUL", json.dumps(good_order(57) | {"pickup_zone": "a\u0000b"}), False),
    ("object as a value", json.dumps(good_order(58))[:-1] + ', "extra": {"a": 1}}', False),
    ("letters in strings", json.dumps(good_order(59) | {"pickup_zone": "NaN, Infinity,}"}), False),
]


@pytest.mark.parametrize(
    ("line", "malformed"), [c[1:] for c in JSONL_LINES], ids=[c[0] for c in JSONL_LINES]
)
def test_each_jsonl_line_is_a_record_or_malformed_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, malformed: bool
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    lines = _jsonl(_good())
    lines.insert(4, "")  # blank lines are not records, but count as lines
    lines.insert(5, line)
    lines.append("{broken")  # after the case: its line number must still be right
    (folder / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, doc, q = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    account = _orders_account(doc)
    assert account["rows_read"] == N_GOOD + 2
    bad = sorted(
        int(r)
        for r, reason in zip(q["row"], q["reason"], strict=True)
        if reason == "malformed_record"
    )
    assert bad == ([6] if malformed else []) + [len(lines)]


def test_jsonl_keys_differing_in_case_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    lines = _jsonl(_good())
    lines[5] = json.dumps(good_order(5) | {"Worker_Pay": "3"})
    (folder / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2 and "'Worker_Pay' (first on line 6)" in err


# -- Parquet, files and folders -------------------------------------------------------------


def _parquet_package(folder: Path, **columns: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(pd.DataFrame(_good()), preserve_index=False)
    for name, values in columns.items():  # NaN stays NaN (from pandas it would be null)
        table = table.append_column(name, pa.array(values, type=pa.float64()))
    pq.write_table(table, folder / "orders.parquet")
    return folder


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_parquet_floats_are_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: float
) -> None:
    distance = np.full(N_GOOD, 3.5)
    distance[2] = value
    folder = _parquet_package(tmp_path / "pkg", distance_km=distance)
    code, err, doc, q = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    assert _orders_account(doc)["rows_quarantined"] == 1
    assert (int(q.iloc[0]["row"]), q.iloc[0]["reason"]) == (3, "invalid_number")


def test_a_corrupt_parquet_file_is_a_file_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _parquet_package(tmp_path / "pkg")
    path = folder / "orders.parquet"
    data = bytearray(path.read_bytes())
    for i in range(8, len(data) // 2):
        data[i] = 0x55
    path.write_bytes(bytes(data))
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2 and "orders.parquet" in err and "internal error" not in err


def test_a_link_out_of_the_package_is_refused_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere"
    write_csv(outside, "fee_schedule", [{"effective_from": "2026-01-01", "commission_rate": "0.2"}])
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _good())
    os.symlink(outside / "fee_schedule.csv", folder / "fee_schedule.csv")
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2 and "outside the package folder" in err and "0.2" not in err
    config = tmp_path / "audit.toml"
    config.write_text("[package]\nallow_outside_links = true\n")
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
    code, err, doc, _ = _validate(folder, tmp_path, capsys, "--config", str(config))
    assert code in (0, 1), err
    assert doc["package"]["tables"]["fee_schedule"]["rows_used"] == 1


# -- empty and unlisted ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim") / "pkg"
    assert main(["simulate", str(folder), "--workers", "40", "--days", "3", "--seed", "5"]) == 0
    return folder


TABLES = ["orders", "offers", "sessions", "payouts", "deductions", "workers", "fee_schedule"]


@pytest.mark.parametrize("how", ["header only", "every row invalid"])
@pytest.mark.parametrize("table", TABLES)
def test_an_empty_or_wholly_quarantined_table_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_package: Path, table: str, how: str
) -> None:
    folder = tmp_path / "pkg"
    shutil.copytree(small_package, folder)
    path = folder / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    if how == "header only":
        lines = lines[:1]
    else:
        header = lines[0].split(",")
        first = header.index("worker_id") if "worker_id" in header else 0
        lines = [lines[0]] + [
            ",".join("" if j == first else v for j, v in enumerate(line.split(",")))
            for line in lines[1:]
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(folder), "--out", str(out), "--quiet", "--fail-on", "never"])
    err = capsys.readouterr().err
    assert code == 0, err
    doc = json.loads((out / "findings.json").read_text())
    account = doc["package"]["tables"][table]
    assert account["rows_read"] == len(lines) - 1
    assert account["rows_read"] == account["rows_used"] + account["rows_quarantined"]


def test_workers_missing_from_the_workers_table_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_package: Path
) -> None:
    folder = tmp_path / "pkg"
    shutil.copytree(small_package, folder)
    workers = pd.read_csv(folder / "workers.csv", dtype=str)
    kept = workers.iloc[: len(workers) // 2]
    kept.to_csv(folder / "workers.csv", index=False)
    orders = pd.read_csv(folder / "orders.csv", dtype=str)
    unlisted = ~orders["worker_id"].isin(kept["worker_id"])
    code, err, doc, _ = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    finding = next(
        f for f in doc["findings"] if f["check"] == "DQ-05" and f["subject"] == {"table": "orders"}
    )
    assert finding["status"] == "fail"
    assert finding["data"]["rows"] == int(unlisted.sum())
    assert finding["data"]["workers"] == orders.loc[unlisted, "worker_id"].nunique()
    for worker in orders.loc[unlisted, "worker_id"]:
        assert worker not in json.dumps(finding)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 22])
def test_lines_and_blank_lines_are_counted_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    import auditor.engine._files as package

    monkeypatch.setattr(package, "_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    for trial in range(200):
        data = bytes(rng.choice(list(b"ab\n\r"), size=int(rng.integers(0, 40))).tolist())
        path = tmp_path / f"f{trial}"
        path.write_bytes(data)
        got = package.fingerprint_file(path)
        blank = sum(
            data.startswith(b"\n\n", i) or data.startswith(b"\n\r\n", i) for i in range(len(data))
        )
        assert got.blank_lines == blank, data
        assert got.lines == data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_lines_are_counted_in_the_text_read_not_the_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """In UTF-16, Њ (U+040A) and Ċ (U+010A) hold a line-feed byte: the accounting counts
    the lines of the text, not line-feed bytes of the file."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    rows = [dict(r, pickup_zone="Њива Ċ") for r in _good()]
    if fmt == "jsonl":
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    else:
        text = "\n".join(_lines(rows)) + "\n"
    (folder / f"orders.{fmt}").write_text(text, encoding="utf-16")
    config = tmp_path / "audit.toml"
    config.write_text('[package]\nencoding = "utf-16"\n')
    code, err, doc, _ = _validate(folder, tmp_path, capsys, "--config", str(config))
    assert code in (0, 1), err
    account = _orders_account(doc)
    assert (account["rows_read"], account["rows_used"]) == (N_GOOD, N_GOOD)


def test_a_session_at_the_end_of_time_is_quarantined_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _good())
    write_csv(
        folder,
        "sessions",
        [
            {"worker_id": "w1", "online_at": "2026-03-02T07:00:00+08:00",
             "offline_at": "2026-03-02T09:00:00+08:00"},
            {"worker_id": "w1", "online_at": "294247-01-09T00:00:00Z",
             "offline_at": "294247-01-09T01:00:00Z"},
        ],
    )  # fmt: skip
    code, err, doc, q = _validate(folder, tmp_path, capsys)
    assert code in (0, 1), err
    account = doc["package"]["tables"]["sessions"]
    assert (account["rows_read"], account["rows_quarantined"]) == (2, 1)
    assert set(q.loc[q["table"] == "sessions", "reason"]) == {"timestamp_out_of_range"}


@pytest.mark.parametrize(
    "setting",
    ['latest_date = "9999-12-31"', 'earliest_date = "0001-01-01"', "max_session_hours = 1e15",
     'latest_date = "1999-01-01"'],
)  # fmt: skip
def test_plausibility_settings_out_of_range_are_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    write_csv(tmp_path / "pkg", "orders", _good())
    config = tmp_path / "audit.toml"
    config.write_text(f"[package]\n{setting}\n")
    code, err, _, _ = _validate(tmp_path / "pkg", tmp_path, capsys, "--config", str(config))
    key = setting.split(" ")[0]
    assert code == 2 and f"[package] {key}" in err and "internal error" not in err


@pytest.mark.parametrize("names", [("worker_pay", "Worker_Pay"), ("rowid", "ROWID")])
def test_parquet_names_that_collide_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], names: tuple[str, str]
) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    frame = pd.DataFrame(_good()).drop(columns=["worker_pay"])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, value in zip(names, ("5.00", "-1.00"), strict=True):
        table = table.append_column(name, pa.array([value] * N_GOOD))
    pq.write_table(table, folder / "orders.parquet")
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2 and "orders.parquet" in err and names[1] in err


def test_an_accepted_quoted_value_over_a_thousand_lines_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(good_order(i), note="") for i in range(1200)]
    lines = _lines(rows)
    lines[2] = lines[2] + '"start'  # the note of order 1 opens a quote ...
    lines[1150] = lines[1150] + 'end"'  # ... that a later order's note closes
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, _, _ = _validate(folder, tmp_path, capsys)
    assert code == 2 and "record on line 3 opens a quoted value" in err
