"""Make a dirty copy of a clean CSV package: every kind of bad row, with its ground truth.

Used for the ``fixtures/dirty`` package and the tests that every reason code is
caught where it was planted. It works on the files, not the simulator's
internals, so it can dirty any clean CSV package that has the columns it touches.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DirtyRow", "make_dirty_package"]

EXPECTED_FILE = "expected_quarantine.csv"


@dataclass(frozen=True, slots=True)
class DirtyRow:
    """A planted bad row: the record number in its file and the reason it must get."""

    table: str
    row: int
    reason: str


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str] | str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        if isinstance(row, str):
            buf.write(row + "\n")  # a raw (malformed) line
        else:
            writer.writerow([row.get(h, "") for h in header])
    path.write_text(buf.getvalue(), encoding="utf-8")


def make_dirty_package(
    clean: Path, out: Path, *, seed: int = 0, per_reason: int = 3
) -> list[DirtyRow]:
    """Copy the CSV package ``clean`` to ``out``, planting ``per_reason`` bad rows of each kind.

    Writes ``out/expected_quarantine.csv`` (table, row, reason) and returns the same
    rows. Requires orders (with pickup_at, pass_through, tip, tip_to_worker, status) and
    uses sessions, payouts, deductions, workers, fee_schedule, account_actions and
    complaints where present.
    """
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(clean, out)
    (out / "ground_truth.json").unlink(missing_ok=True)
    planted: list[DirtyRow] = []

    header, orders = _read(out / "orders.csv")
    candidates = [
        i
        for i, r in enumerate(orders)
        if r.get("status", "completed") in ("", "completed") and r.get("pickup_at")
    ]
    edits = [
        ("missing_required", lambda r: r.update(worker_id="")),
        ("invalid_number", lambda r: r.update(customer_price="12,50")),
        ("invalid_timestamp", lambda r: r.update(accepted_at="2026-13-01 25:00")),
        ("invalid_category", lambda r: r.update(status="delivered")),
        ("time_order", lambda r: r.update(pickup_at=r["dropoff_at"], dropoff_at=r["accepted_at"])),
        ("negative_amount", lambda r: r.update(worker_pay="-5.00")),
        (
            "price_below_pass_through",
            lambda r: r.update(pass_through=f"{float(r['customer_price']) + 1:.2f}"),
        ),
        (
            "tip_to_worker_exceeds_tip",
            lambda r: r.update(tip_to_worker=f"{float(r['tip'] or 0) + 1:.2f}"),
        ),
        ("timestamp_out_of_range", lambda r: r.update(dropoff_at="9999-12-31T23:00:00+08:00")),
    ]
    chosen = rng.choice(candidates, size=per_reason * (len(edits) + 2), replace=False)
    picks = iter(int(i) for i in chosen)
    for reason, edit in edits:
        for _ in range(per_reason):
            i = next(picks)
            edit(orders[i])
            planted.append(DirtyRow("orders", i + 1, reason))
    rows: list[dict[str, str] | str] = list(orders)
    for _ in range(per_reason):  # exact copies of clean rows: the copy is quarantined
        i = next(picks)
        rows.append(dict(orders[i]))
        planted.append(DirtyRow("orders", len(rows), "duplicate_row"))
    for _ in range(per_reason):  # same ID, different content: both quarantined
        i = next(picks)
        copy = dict(orders[i])
        copy["worker_pay"] = f"{float(copy['worker_pay']) + 1:.2f}"
        rows.append(copy)
        planted += [
            DirtyRow("orders", i + 1, "conflicting_id"),
            DirtyRow("orders", len(rows), "conflicting_id"),
        ]
    for _ in range(per_reason):
        rows.append("broken,record")
        planted.append(DirtyRow("orders", len(rows), "malformed_record"))
    _write(out / "orders.csv", header, rows)

    if (out / "sessions.csv").exists():
        planted += _dirty_sessions(out / "sessions.csv", rng, per_reason)
    simple = [
        ("payouts", "period_end_before_start",
         lambda r: r.update(period_start=r["period_end"], period_end=r["period_start"])),
        ("deductions", "invalid_boolean", lambda r: r.update(appealed="maybe")),
        ("workers", "invalid_date", lambda r: r.update(joined_on="2026-02-30")),
        ("account_actions", "invalid_category", lambda r: r.update(action="ban")),
        ("complaints", "time_order",
         lambda r: r.update(resolved_at=_plus(r["received_at"], days=-1))),
    ]  # fmt: skip
    for table, reason, edit in simple:
        path = out / f"{table}.csv"
        if not path.exists():
            continue
        header, table_rows = _read(path)
        if table == "payouts":
            eligible = [i for i, r in enumerate(table_rows) if r["period_start"] != r["period_end"]]
        else:
            eligible = list(range(len(table_rows)))
        for i in rng.choice(eligible, size=min(per_reason, len(eligible)), replace=False):
            edit(table_rows[int(i)])
            planted.append(DirtyRow(table, int(i) + 1, reason))
        _write(path, header, list(table_rows))
    if (out / "fee_schedule.csv").exists():
        header, fees = _read(out / "fee_schedule.csv")
        bad = dict(fees[0], effective_from="2020-01-01", commission_rate="20")
        fees.append(bad)
        planted.append(DirtyRow("fee_schedule", len(fees), "fraction_out_of_range"))
        _write(out / "fee_schedule.csv", header, list(fees))

    planted.sort(key=lambda d: (d.table, d.row, d.reason))
    _write(
        out / EXPECTED_FILE,
        ["table", "row", "reason"],
        [{"table": d.table, "row": str(d.row), "reason": d.reason} for d in planted],
    )
    return planted


def _dirty_sessions(path: Path, rng: np.random.Generator, per_reason: int) -> list[DirtyRow]:
    header, sessions = _read(path)
    # Each worker's last session (by start), so that neither edit touches a neighbour.
    last: dict[str, int] = {}
    for i, s in enumerate(sessions):
        j = last.get(s["worker_id"])
        if j is None or s["online_at"] > sessions[j]["online_at"]:
            last[s["worker_id"]] = i
    pool = sorted(last.values())
    chosen = [int(i) for i in rng.choice(pool, size=3 * per_reason, replace=False)]
    planted: list[DirtyRow] = []
    rows: list[dict[str, str] | str] = list(sessions)
    for i in chosen[:per_reason]:  # ends before it starts
        s = sessions[i]
        s["online_at"], s["offline_at"] = s["offline_at"], s["online_at"]
        planted.append(DirtyRow("sessions", i + 1, "session_end_not_after_start"))
    for i in chosen[2 * per_reason :]:  # online for ten days
        s = sessions[i]
        s["offline_at"] = _plus(s["online_at"], days=10)
        planted.append(DirtyRow("sessions", i + 1, "session_too_long"))
    for i in chosen[per_reason : 2 * per_reason]:  # a second session inside the last one
        s = sessions[i]
        inner = dict(s, online_at=_plus(s["online_at"], seconds=1))
        rows.append(inner)
        planted.append(DirtyRow("sessions", len(rows), "session_overlap"))
    _write(path, header, rows)
    return planted


def _plus(timestamp: str, **delta: float) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(timestamp) + timedelta(**delta)).isoformat()
