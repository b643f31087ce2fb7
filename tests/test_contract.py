"""Validation: every reason code, with the row, column and value it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import good_order, write_csv

from auditor import Reason, audit
from auditor.contract import REASON_CHECK, REASON_TEXT
from auditor.schema import CATALOGUE_ORDER

S = "2026-03-02T{}:00+08:00"


def session(worker: str, start: str, end: str) -> dict[str, str]:
    return {"worker_id": worker, "online_at": S.format(start), "offline_at": S.format(end)}


def quarantine_of(folder: Path) -> pd.DataFrame:
    return audit(folder).quarantine


# (table, bad rows placed after 3 good ones, expected [(row, column, reason, value)])
CASES: dict[Reason, tuple[str, list[dict[str, str]], list[tuple[int, str | None, str]]]] = {
    Reason.MISSING_REQUIRED: ("orders", [good_order(90, worker_id="")], [(4, "worker_id", "")]),
    Reason.INVALID_NUMBER: (
        "orders",
        [good_order(90, worker_pay="12,5")],
        [(4, "worker_pay", "12,5")],
    ),
    Reason.INVALID_TIMESTAMP: (
        "orders",
        [good_order(90, accepted_at="yesterday")],
        [(4, "accepted_at", "yesterday")],
    ),
    Reason.INVALID_CATEGORY: ("orders", [good_order(90, status="lost")], [(4, "status", "lost")]),
    Reason.DUPLICATE_ROW: ("orders", [good_order(1)], [(4, "order_id", "00001")]),
    Reason.CONFLICTING_ID: (
        "orders",
        [good_order(1, worker_pay="1.00")],
        [(2, "order_id", "00001"), (4, "order_id", "00001")],
    ),
    Reason.TIME_ORDER: (
        "orders",
        [good_order(90, pickup_at=S.format("07:00"))],
        [(4, "pickup_at", None)],
    ),
    Reason.NEGATIVE_AMOUNT: (
        "orders",
        [good_order(90, worker_pay="-1")],
        [(4, "worker_pay", "-1.0000")],
    ),
    Reason.PRICE_BELOW_PASS_THROUGH: (
        "orders",
        [good_order(90, customer_price="0.50")],
        [(4, "customer_price", None)],
    ),
    Reason.TIP_TO_WORKER_EXCEEDS_TIP: (
        "orders",
        [good_order(90, tip_to_worker="3.00")],
        [(4, "tip_to_worker", None)],
    ),
    Reason.SESSION_END_NOT_AFTER_START: (
        "sessions",
        [session("w9", "10:00", "09:00")],
        [(4, "offline_at", None)],
    ),
    Reason.SESSION_OVERLAP: (
        "sessions",
        [session("w2", "10:00", "10:30")],
        [(4, "online_at", None)],
    ),
    Reason.TIMESTAMP_OUT_OF_RANGE: (
        "orders",
        [good_order(90, dropoff_at="9999-12-31T23:00:00+08:00")],
        [(4, "dropoff_at", None)],
    ),
    Reason.SESSION_TOO_LONG: (
        "sessions",
        [{"worker_id": "w9", "online_at": S.format("10:00"), "offline_at": "2026-03-12T10:00:00Z"}],
        [(4, "offline_at", None)],
    ),
}


def _package(tmp_path: Path, table: str, bad: list[dict[str, str]]) -> Path:
    folder = tmp_path / "pkg"
    if table == "orders":
        write_csv(folder, "orders", [good_order(i) for i in range(3)] + bad)
    else:
        write_csv(folder, "orders", [good_order(i) for i in range(3)])
        rows = [
            session("w1", "07:00", "11:00"),
            session("w1", "12:00", "15:00"),
            session("w2", "07:00", "11:00"),
        ]
        write_csv(folder, table, rows + bad)
    return folder


@pytest.mark.parametrize("reason", list(CASES), ids=str)
def test_reason_code(tmp_path: Path, reason: Reason) -> None:
    table, bad, expected = CASES[reason]
    result = audit(_package(tmp_path, table, bad))
    q = result.quarantine
    q = q[q["table"] == table]
    assert set(q["reason"]) == {str(reason)}, q
    assert list(q["row"]) == [e[0] for e in expected]
    assert list(q["column"]) == [e[1] for e in expected]
    for (_, _, value), got in zip(expected, q["value"], strict=True):
        if value is not None:
            assert got == value
    account = result.tables[table]
    assert account.rows_read == 3 + len(bad)
    assert account.rows_quarantined == len(set(q["row"]))
    assert account.rows_read == account.rows_used + account.rows_quarantined
    # the finding of the reason's check fails and names the reason
    finding = next(
        f
        for f in result.findings
        if f.check == REASON_CHECK[reason] and f.subject == {"table": table}
    )
    assert finding.status == "fail"
    assert finding.data["by_reason"] == {str(reason): len(set(q["row"]))}


def test_malformed_records_are_quarantined_with_their_record_number(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    path = write_csv(folder, "orders", [good_order(i) for i in range(4)])
    lines = path.read_text().splitlines()
    lines.insert(2, "99999,w1,completed,too,few")  # becomes data record 2
    lines.insert(4, lines[4] + ",extra,fields")  # record 4
    path.write_text("\n".join(lines) + "\n")
    result = audit(folder)
    q = result.quarantine
    assert list(q["row"]) == [2, 4]
    assert set(q["reason"]) == {"malformed_record"}
    assert q["value"].iloc[0] == "99999,w1,completed,too,few"
    assert result.tables["orders"].rows_read == 6
    assert result.tables["orders"].rows_used == 4


def test_other_tables_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", [good_order(i) for i in range(3)])
    write_csv(
        folder,
        "payouts",
        [
            {
                "payout_id": "p1",
                "worker_id": "w1",
                "period_start": "2026-03-02",
                "period_end": "2026-03-08",
                "net_paid": "100",
            },
            {
                "payout_id": "p2",
                "worker_id": "w1",
                "period_start": "2026-03-09",
                "period_end": "2026-03-01",
                "net_paid": "100",
            },
            {
                "payout_id": "p3",
                "worker_id": "w1",
                "period_start": "2026-02-30",
                "period_end": "2026-03-08",
                "net_paid": "100",
            },
        ],
    )
    write_csv(
        folder,
        "deductions",
        [
            {
                "deduction_id": "d1",
                "worker_id": "w1",
                "deducted_at": S.format("09:00"),
                "amount": "5",
                "category": "penalty",
                "appealed": "yes",
                "appeal_upheld": "no",
            },
            {
                "deduction_id": "d2",
                "worker_id": "w1",
                "deducted_at": S.format("09:00"),
                "amount": "5",
                "category": "penalty",
                "appealed": "maybe",
                "appeal_upheld": "",
            },
        ],
    )
    write_csv(
        folder,
        "fee_schedule",
        [
            {"effective_from": "2026-01-01", "commission_rate": "0.2", "commission_cap": "0.3"},
            {"effective_from": "2026-02-01", "commission_rate": "20", "commission_cap": "0.3"},
        ],
    )
    write_csv(
        folder,
        "offers",
        [
            {
                "offer_id": "o1",
                "order_id": "00001",
                "worker_id": "w1",
                "offered_at": S.format("08:00"),
                "response": "accepted",
                "offered_pay": "-3",
            },
        ],
    )
    q = audit(folder).quarantine
    got = {
        (t, r, c, reason)
        for t, r, c, reason in zip(q["table"], q["row"], q["column"], q["reason"], strict=True)
    }
    assert got == {
        ("offers", 1, "offered_pay", "negative_amount"),
        ("payouts", 2, "period_end", "period_end_before_start"),
        ("payouts", 3, "period_start", "invalid_date"),
        ("deductions", 2, "appealed", "invalid_boolean"),
        ("fee_schedule", 2, "commission_rate", "fraction_out_of_range"),
    }


def test_every_reason_is_tested_and_documented() -> None:
    tested = set(CASES) | {
        Reason.MALFORMED_RECORD,
        Reason.INVALID_DATE,
        Reason.INVALID_BOOLEAN,
        Reason.FRACTION_OUT_OF_RANGE,
        Reason.PERIOD_END_BEFORE_START,
    }
    assert tested == set(Reason)
    assert set(REASON_CHECK) == set(Reason) == set(REASON_TEXT)
    docs = (Path(__file__).parents[1] / "docs" / "validation-rules.md").read_text()
    for reason in Reason:
        assert f"`{reason}`" in docs, reason


def test_exact_duplicate_keeps_first_copy_conflicts_keep_none(tmp_path: Path) -> None:
    rows = [
        good_order(1),
        good_order(2),
        good_order(1),
        good_order(1),
        good_order(3),
        good_order(3, worker_pay="9.00"),
        good_order(3),
    ]
    write_csv(tmp_path / "pkg", "orders", rows)
    result = audit(tmp_path / "pkg")
    q = result.quarantine
    assert list(zip(q["row"], q["reason"], strict=True)) == [
        (3, "duplicate_row"),
        (4, "duplicate_row"),
        (5, "conflicting_id"),
        (6, "conflicting_id"),
        (7, "conflicting_id"),
    ]
    assert result.tables["orders"].rows_used == 2  # first 00001, and 00002


def test_defaults_are_applied_to_used_rows(tmp_path: Path) -> None:
    from auditor.config import AuditConfig
    from auditor.contract import validate_package
    from auditor.engine import connect
    from auditor.ingest import read_package

    row = {
        k: v
        for k, v in good_order(1).items()
        if k not in ("status", "pass_through", "tip_to_worker")
    }
    write_csv(tmp_path / "pkg", "orders", [row])
    config = AuditConfig()
    with connect(config) as engine:
        v = validate_package(engine, read_package(tmp_path / "pkg", config, engine))
        got = v.tables["orders"].table.to_pyarrow().to_pylist()[0]
    assert got["status"] == "completed"
    assert str(got["pass_through"]) == "0.0000"
    assert got["tip_to_worker"] == got["tip"]
    assert got["incentive"] is not None and got["commission"] is None


def test_quarantine_is_written_in_fixed_columns(tmp_path: Path) -> None:
    write_csv(tmp_path / "pkg", "orders", [good_order(1), good_order(2, worker_pay="x")])
    q = audit(tmp_path / "pkg").quarantine
    assert list(q.columns) == ["table", "row", "key", "column", "reason", "value"]
    assert json.loads(q.to_json(orient="records"))[0]["key"] == "00002"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_quarantine_shows_failed_values_as_submitted(tmp_path: Path, fmt: str) -> None:
    """Failed casts are reported with the submitted text (trimmed), whatever characters it
    holds: validation keeps it as JSON on the suspect rows and reads it back from there."""
    odd = {
        "customer_price": ' 12,5 "€"\t\\ x  ',
        "status": "Fini✓",
        "accepted_at": "2026-02-30 25:00 {'a': 1}",
    }
    bad = [good_order(90 + i, **{column: text}) for i, (column, text) in enumerate(odd.items())]
    rows = [good_order(i) for i in range(3)] + bad
    folder = tmp_path / "pkg"
    if fmt == "csv":
        write_csv(folder, "orders", rows)
    else:
        folder.mkdir()
        frame = pd.DataFrame(rows)
        if fmt == "parquet":
            frame.to_parquet(folder / "orders.parquet", index=False)
        else:
            frame.to_json(folder / "orders.jsonl", orient="records", lines=True, force_ascii=False)
    q = audit(folder).quarantine
    got = {row.column: (row.row, row.reason, row.value) for row in q.itertuples()}
    assert got == {
        "customer_price": (4, "invalid_number", '12,5 "€"\t\\ x'),
        "status": (5, "invalid_category", "Fini✓"),
        "accepted_at": (6, "invalid_timestamp", "2026-02-30 25:00 {'a': 1}"),
    }


def test_the_published_contract_is_in_the_repository_and_current() -> None:
    """docs/spec/ holds the public contract and check catalogue, so links and a fresh
    checkout find them; where the shared spec they copy sits beside the checkout (the
    project's workspace), the copies are current. Every check ID the spec names is one
    the library runs."""
    root = Path(__file__).parents[1]
    for name in ("data-contract.md", "checks.md"):
        copy = root / "docs" / "spec" / name
        shared = root.parent / "shared" / "spec" / name
        if shared.exists():
            assert copy.read_bytes() == shared.read_bytes(), f"docs/spec/{name} is stale"
    catalogue = (root / "docs" / "spec" / "checks.md").read_text(encoding="utf-8")
    spec_ids = set(re.findall(r"\b[A-Z]{2,3}-\d{2}\b", catalogue))
    assert len(spec_ids) >= 20 and spec_ids <= set(CATALOGUE_ORDER)
