"""Reconstruction: stacked orders count once, take rates, local dates, weekly hourly pay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import good_order, write_csv

from auditor import AuditConfig
from auditor.contract import validate_package
from auditor.engine import connect
from auditor.ingest import read_package
from auditor.reconstruct import reconstruct

T = "2026-03-02T{}:00+08:00"


def _day(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()


def _rebuild(folder: Path, config: AuditConfig | None = None):  # type: ignore[no-untyped-def]
    config = config or AuditConfig()
    engine = connect(config)
    package = validate_package(engine, read_package(folder, config, engine))
    return engine, reconstruct(engine, package, config)


def test_stacked_orders_count_once_in_engaged_time(tmp_path: Path) -> None:
    rows = [
        good_order(
            1,
            worker_id="w1",
            accepted_at=T.format("08:00"),
            pickup_at="",
            dropoff_at=T.format("08:30"),
        ),
        good_order(
            2,
            worker_id="w1",
            accepted_at=T.format("08:10"),
            pickup_at="",
            dropoff_at=T.format("08:40"),
        ),  # stacked on order 1
        good_order(
            3,
            worker_id="w1",
            accepted_at=T.format("08:20"),
            pickup_at="",
            dropoff_at=T.format("08:25"),
        ),  # inside both
        good_order(
            4,
            worker_id="w1",
            accepted_at=T.format("09:00"),
            pickup_at="",
            dropoff_at=T.format("09:10"),
        ),
        good_order(
            5,
            worker_id="w2",
            accepted_at=T.format("08:00"),
            pickup_at="",
            dropoff_at=T.format("09:00"),
        ),
    ]
    write_csv(tmp_path / "p", "orders", rows)
    engine, rebuilt = _rebuild(tmp_path / "p")
    with engine:
        islands = rebuilt.islands.order_by(["worker_id", "island_start"]).execute()
        days = rebuilt.worker_days.order_by("worker_id").execute()
    assert list(islands["orders"]) == [3, 1, 1]
    assert islands["engaged_hours"].tolist() == pytest.approx([40 / 60, 10 / 60, 1.0])
    assert days["engaged_hours"].tolist() == pytest.approx([50 / 60, 1.0])  # not 75 minutes
    assert [_day(d) for d in days["local_date"]] == ["2026-03-02", "2026-03-02"]


def test_take_rate_local_hour_and_weekly_hourly_pay(tmp_path: Path) -> None:
    rows = [
        good_order(
            1,
            worker_id="w1",
            accepted_at="2026-03-02T23:30:00+08:00",
            pickup_at="",
            dropoff_at="2026-03-03T00:30:00+08:00",
            customer_price="21.00",
            pass_through="1.00",
            worker_pay="16.00",
            tip="2.00",
            tip_to_worker="2.00",
        ),
    ]
    write_csv(tmp_path / "p", "orders", rows)
    engine, rebuilt = _rebuild(tmp_path / "p")
    with engine:
        o = rebuilt.orders.execute().iloc[0]
        w = rebuilt.worker_weeks.execute().iloc[0]
    assert float(o["fare_base"]) == 20.0 and float(o["platform_take"]) == 4.0
    assert o["take_rate_gross"] == pytest.approx(0.2)
    assert (int(o["local_hour"]), _day(o["local_date"]), _day(o["dropoff_date"])) == (
        23,
        "2026-03-02",
        "2026-03-03",
    )
    assert _day(w["week_start"]) == "2026-03-02"  # a Monday
    # credited 16 + 2 tip over one engaged hour
    assert w["hourly_engaged"] == pytest.approx(18.0)
    assert w["hourly_engaged_allowance"] == pytest.approx(18.0 / (1 + 5 / 60))


def test_panels_are_returned_as_dataframes_consistent_with_pay01() -> None:
    import auditor

    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    # k = 1: fewer than ten workers are below the minimum, whose count a finding withholds.
    every_cell = auditor.AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    result = auditor.audit(demo, every_cell, checks=["PAY-01"])
    days, weeks = result.worker_days, result.worker_weeks
    assert {"worker_id", "local_date", "engaged_hours", "online_hours", "net_earnings"} <= set(
        days.columns
    )
    assert str(weeks["orders"].dtype) == "int64" and str(weeks["credited"].dtype) == "float64"
    # weeks are the sums of days
    assert weeks["credited"].sum() == pytest.approx(days["credited"].sum(), abs=0.01)
    assert weeks["orders"].sum() == days["orders"].sum() == result.tables["orders"].rows_used
    # PAY-01's count of worker-weeks below the minimum is reproducible from the panel
    f = result.findings[0]
    kept = weeks[weeks["engaged_hours"] >= 1.0]
    below = (kept["net_of_expense"] < 25.0 * kept["engaged_hours"]).sum()
    assert f.data["worker_weeks_below"] == below
    validated = auditor.Audit().validate(demo)
    assert validated.worker_weeks.empty


def test_payout_periods_reconcile_except_where_fee03_says_short() -> None:
    import auditor

    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    # k = 1: fewer than ten workers are paid short, whose numbers a finding withholds.
    every_cell = auditor.AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    result = auditor.audit(demo, every_cell, checks=["FEE-03"])
    periods = result.worker_periods
    assert len(periods) == result.tables["payouts"].rows_used
    gap = periods["net_earnings"] - periods["net_paid"]
    f = result.findings[0]
    assert int((gap > 0.01).sum()) == f.data["statements_short"] > 0
    assert gap[gap > 0.01].sum() == pytest.approx(f.data["shortfall_total"], abs=0.01)
    assert (gap.abs()[gap <= 0.01] <= 0.01).all()


def test_durations_across_a_daylight_saving_change_are_elapsed_time(tmp_path: Path) -> None:
    """New York springs forward at 02:00 on 2026-03-08. A session from 01:30 EST to 03:30 EDT
    lasts one hour and an order from 01:50 EST to 03:10 EDT twenty minutes, though the wall
    clock says two hours and eighty minutes; the next session starts 10 minutes later, so
    the two form one continuous block of 2 h 10 min for HRS-01 (the wall clock: 3 h 10)."""
    from auditor.checks._hours_insurance import online_blocks

    order = good_order(
        1,
        worker_id="w1",
        accepted_at="2026-03-08T01:50:00-05:00",
        pickup_at="",
        dropoff_at="2026-03-08T03:10:00-04:00",
    )
    write_csv(tmp_path / "p", "orders", [order])
    sessions = [
        {"session_id": "s1", "worker_id": "w1", "online_at": "2026-03-08T01:30:00-05:00",
         "offline_at": "2026-03-08T03:30:00-04:00", "zone": "Z1"},
        {"session_id": "s2", "worker_id": "w1", "online_at": "2026-03-08T03:40:00-04:00",
         "offline_at": "2026-03-08T04:40:00-04:00", "zone": "Z1"},
    ]  # fmt: skip
    write_csv(tmp_path / "p", "sessions", sessions)
    config = AuditConfig.from_dict({"audit": {"timezone": "America/New_York"}})
    engine, rebuilt = _rebuild(tmp_path / "p", config)
    with engine:
        islands = rebuilt.islands.execute()
        assert rebuilt.sessions is not None
        online = rebuilt.sessions.order_by("online_at").execute()
        order_minutes = rebuilt.orders.execute()["engaged_minutes"]
        blocks = online_blocks(rebuilt.sessions, 20.0).execute()
    assert islands["engaged_hours"].tolist() == pytest.approx([20 / 60])
    assert order_minutes.tolist() == pytest.approx([20.0])
    assert online["online_hours"].tolist() == pytest.approx([1.0, 1.0])
    assert blocks["hours"].tolist() == pytest.approx([2 + 10 / 60])
