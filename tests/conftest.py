"""Shared helpers: write small packages by hand."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

ORDER_HEADER = (
    "order_id", "worker_id", "status", "accepted_at", "pickup_at", "dropoff_at",
    "customer_price", "pass_through", "worker_pay", "tip", "tip_to_worker",
)  # fmt: skip


def good_order(i: int, **over: str) -> dict[str, str]:
    """A valid completed order; ``over`` replaces fields."""
    row = {
        "order_id": f"{i:05d}",
        "worker_id": f"w{i % 7}",
        "status": "completed",
        "accepted_at": "2026-03-02T08:00:00+08:00",
        "pickup_at": "2026-03-02T08:10:00+08:00",
        "dropoff_at": "2026-03-02T08:30:00+08:00",
        "customer_price": "20.00",
        "pass_through": "1.00",
        "worker_pay": "15.20",
        "tip": "2.00",
        "tip_to_worker": "2.00",
    }
    row.update(over)
    return row


def write_csv(
    folder: Path,
    table: str,
    rows: Iterable[Mapping[str, str]],
    header: Iterable[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    """Write ``rows`` as ``folder/table.csv`` (empty string = empty cell)."""
    rows = list(rows)
    header = list(header) if header is not None else list(rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small valid package: 20 orders and 3 sessions."""
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", [good_order(i) for i in range(20)])
    write_csv(
        folder,
        "sessions",
        [
            {
                "worker_id": "w1",
                "online_at": "2026-03-02T07:00:00+08:00",
                "offline_at": "2026-03-02T11:00:00+08:00",
            },
            {
                "worker_id": "w1",
                "online_at": "2026-03-02T12:00:00+08:00",
                "offline_at": "2026-03-02T15:00:00+08:00",
            },
            {
                "worker_id": "w2",
                "online_at": "2026-03-02T07:00:00+08:00",
                "offline_at": "2026-03-02T11:00:00+08:00",
            },
        ],
    )
    return folder


def pick(result: Any, check: str, metric: str | None = None, **subject: str) -> Any:
    """The one finding of ``check`` (with ``metric``, if given) whose subject has these
    values; fails the test if there is not exactly one."""
    found = [
        f
        for f in result.findings
        if f.check == check
        and (metric is None or f.metric == metric)
        and all(f.subject.get(k) == v for k, v in subject.items())
    ]
    assert len(found) == 1, [str(f) for f in found]
    return found[0]
