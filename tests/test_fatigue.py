"""HRS-02 (fatigue rules of a rule pack): required rests and dispatch inside them, on
packages whose rests are worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import write_csv

from auditor import AuditConfig, Status, audit
from auditor.rules import load_pack

DAY = "2026-03-02"


def _order(i: int, worker: str, start: str, end: str) -> dict[str, str]:
    return {
        "order_id": f"o{i:03d}",
        "worker_id": worker,
        "status": "completed",
        "accepted_at": f"{DAY}T{start}:00+08:00",
        "dropoff_at": f"{DAY}T{end}:00+08:00",
        "customer_price": "20.00",
        "worker_pay": "15.00",
    }


def _offer(i: int, worker: str, at: str, order: str = "x") -> dict[str, str]:
    return {
        "offer_id": f"f{i:03d}",
        "order_id": order,
        "worker_id": worker,
        "offered_at": f"{DAY}T{at}:00+08:00",
        "response": "declined",
    }


def _hrs02(folder: Path, k: int = 1) -> Any:
    config = AuditConfig.from_dict(
        {"audit": {"rules": ["cn-delivery-fatigue"]}, "report": {"min_cell_workers": k}}
    )
    result = audit(folder, config, checks=["HRS-02"])
    (finding,) = result.findings
    return finding


def _orders() -> list[dict[str, str]]:
    """Worker a: 08:00-10:00 and, after a 10-minute gap (no break), 10:10-12:10: a stretch of
    4 h 10 min, so a rest is required from 12:10 to 12:30. Worker b: the same hours with a
    25-minute gap (a break): two stretches of about 2 h, no rest required."""
    return [
        _order(1, "a", "08:00", "10:00"),
        _order(2, "a", "10:10", "12:10"),
        _order(3, "b", "08:00", "10:00"),
        _order(4, "b", "10:25", "12:30"),
    ]


def test_offers_inside_a_required_rest_fail(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _orders())
    offers = [
        _offer(1, "a", "12:20"),  # inside a's rest
        _offer(2, "a", "12:25"),  # inside the same rest
        _offer(3, "a", "12:31"),  # after it
        _offer(4, "b", "12:35"),  # b needs no rest
    ]
    write_csv(folder, "offers", offers)
    f = _hrs02(folder)
    assert f.status == Status.FAIL
    assert f.subject == {"rule": "cn-delivery-fatigue"}
    assert f.data["rests_required"] == 1
    assert f.data["rests_breached"] == 1
    assert f.data["dispatches_in_rest"] == 2
    assert f.data["workers_affected"] == 1
    assert f.data["dispatch_evidence"] == "offers"


def test_a_rest_kept_passes(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _orders())
    write_csv(folder, "offers", [_offer(1, "a", "12:31"), _offer(2, "a", "12:09")])
    f = _hrs02(folder)
    assert f.status == Status.PASS
    assert f.data["rests_required"] == 1 and f.data["rests_breached"] == 0


def test_without_offers_an_order_accepted_in_the_rest_is_the_evidence(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", [*_orders(), _order(5, "a", "12:20", "12:40")])
    f = _hrs02(folder)
    # The 12:20 order is accepted 10 minutes into the rest; the island it joins is 12:20 to
    # 12:40, itself 10 minutes after 12:10: the stretch goes on and requires a rest again.
    assert f.status == Status.FAIL
    assert f.data["dispatch_evidence"] == "orders"
    assert f.data["rests_required"] == 2
    assert f.data["rests_breached"] == 1


def test_dispatch_after_eight_hours_in_a_day_is_reported_not_judged(tmp_path: Path) -> None:
    """Orders of 2 h with 30-minute breaks from 06:00: the fourth ends at 15:30 with 8 h of
    order-taking (no stretch over 4 h); offers after the mark are counted, never failed."""
    folder = tmp_path / "pkg"
    hours = [("06:00", "08:00"), ("08:30", "10:30"), ("11:00", "13:00"), ("13:30", "15:30"),
             ("16:00", "17:00")]  # fmt: skip
    write_csv(folder, "orders", [_order(i, "a", s, e) for i, (s, e) in enumerate(hours)])
    write_csv(folder, "offers", [_offer(1, "a", "15:00"), _offer(2, "a", "15:45")])
    f = _hrs02(folder)
    assert f.status == Status.PASS
    assert f.data["worker_days_past_daily_hours"] == 1
    assert f.data["dispatches_past_daily_hours"] == 1
    assert f.data["order_hours_median"] == 9.0
    # 50号 working time: order time plus 5 minutes per completed order
    assert abs(f.data["working_hours_median"] - (9.0 + 5 * 5 / 60)) < 1e-9


def test_small_cells_withhold_the_counts(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _orders())
    write_csv(folder, "offers", [_offer(1, "a", "12:20")])
    f = _hrs02(folder, k=10)
    assert f.status == Status.FAIL
    assert f.data["rests_breached"] is None and f.estimate is None


def test_without_a_fatigue_pack_hrs02_is_not_assessed(tmp_path: Path) -> None:
    write_csv(tmp_path / "pkg", "orders", _orders())
    result = audit(tmp_path / "pkg", checks=["HRS-02"])
    (f,) = result.findings
    assert f.status == Status.NOT_ASSESSED and f.missing == ("[audit] rules",)
    assert load_pack("cn-delivery-fatigue").floor is None


def test_a_rest_starts_only_when_no_order_is_in_hand(tmp_path: Path) -> None:
    """Order A 08:00-12:05 with B stacked on it 11:50-12:20: the rest starts at 12:20, when
    the worker has completed every order in hand; an offer at 12:10 (B in hand) is no
    breach, one at 12:25 is."""
    folder = tmp_path / "pkg"
    write_csv(
        folder, "orders", [_order(1, "a", "08:00", "12:05"), _order(2, "a", "11:50", "12:20")]
    )
    write_csv(folder, "offers", [_offer(1, "a", "12:10"), _offer(2, "a", "12:25")])
    f = _hrs02(folder)
    assert f.status == Status.FAIL
    assert f.data["rests_required"] == 1 and f.data["dispatches_in_rest"] == 1


def test_the_chinese_report_reads_hrs02(tmp_path: Path) -> None:
    from auditor.report import labels
    from auditor.report._sentences import sentence

    folder = tmp_path / "pkg"
    write_csv(folder, "orders", _orders())
    write_csv(folder, "offers", [_offer(1, "a", "12:20")])
    text = sentence(_hrs02(folder), labels("zh"))
    assert text.startswith(
        "规则包 cn-delivery-fatigue：连续接单超过 4 小时后，每完成手中订单须有 20 分钟"
    )
    assert "1 次规定休息中有 1 次" in text and "不合规" in text
