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


ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
DEMO_CONFIG = ROOT / "audit_config.toml"
HOSTILE_ZONE = "<script>alert(1)</script>"
HOSTILE_GROUP = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="session")
def demo_result() -> Any:
    """``auditor.audit`` of the bundled demo package, run once for the whole session (the
    result is frozen; tests must not change its frames)."""
    import auditor

    return auditor.audit(DEMO, DEMO_CONFIG)


@pytest.fixture(scope="session")
def shuffled_demo_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``auditor.audit`` of the demo with every table's rows in another order (seeded), run
    once for the session: its findings and figures must equal the demo's."""
    import shutil

    import pandas as pd

    import auditor

    shuffled = tmp_path_factory.mktemp("shuffled") / "demo"
    shutil.copytree(DEMO, shuffled)
    for path in shuffled.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.sample(frac=1.0, random_state=7).to_csv(path, index=False)
    return auditor.audit(shuffled, DEMO_CONFIG)


@pytest.fixture(scope="session")
def hostile_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with zone Z03 named like a script, service food_delivery like a bold tag,
    and gender group F like an image tag (large enough not to be suppressed)."""
    import pandas as pd

    out = tmp_path_factory.mktemp("hostile")
    for path in DEMO.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("pickup_zone", "dropoff_zone", "zone", "home_zone", "service"):
            if col in frame:
                frame[col] = frame[col].replace(
                    {"Z03": HOSTILE_ZONE, "food_delivery": "<b>food</b>"}
                )
        if "gender" in frame:
            frame["gender"] = frame["gender"].replace("F", HOSTILE_GROUP)
        frame.to_csv(out / path.name, index=False)
    return out


@pytest.fixture(scope="session")
def hostile_result(hostile_package: Path) -> Any:
    """``auditor.audit`` of :func:`hostile_package`, run once for the session."""
    import auditor

    return auditor.audit(hostile_package, DEMO_CONFIG)
