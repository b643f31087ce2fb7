"""SVC-01 (waits of wheelchair-accessible requests): calibration in worlds built to fool it,
power with a planted excess wait, and the check on TLC-shaped packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor import AuditConfig, Status, audit
from auditor.simulate._accessible_worlds import replicate_waits

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures/nyc-tlc-hvfhv"
REPLICATES = 200
ALPHA = 0.05
BOUND = ALPHA + 2 * np.sqrt(ALPHA * (1 - ALPHA) / REPLICATES)  # 0.081
COVERAGE = (0.904, 0.996)
"""95 % coverage within 3 Monte Carlo standard errors at 200 replicates (at 1,000, in
docs/validation.md: 0.940 to 0.944)."""


def _run(ratio: float, seed: int, **world: float) -> tuple[float, float, float]:
    """Fail rate, 95 % interval coverage of ``ratio``, and the naive ratio of raw mean
    waits (median), over the replicates."""
    rates = replicate_waits(ratio, REPLICATES, seed, **world)
    assert rates.replicates == REPLICATES
    return rates.fail, rates.coverage, rates.median_naive


def test_no_accusation_where_accessible_requests_come_from_slow_places() -> None:
    fail_rate, coverage, naive = _run(1.0, seed=11)
    assert naive > 1.15  # the world fools a comparison of raw means
    assert fail_rate <= BOUND
    assert COVERAGE[0] <= coverage <= COVERAGE[1]


def test_an_excess_inside_the_band_is_not_a_breach() -> None:
    fail_rate, coverage, _ = _run(1.04, seed=12)
    assert fail_rate <= BOUND
    assert COVERAGE[0] <= coverage <= COVERAGE[1]


def test_few_accessible_requests_hold_the_level() -> None:
    fail_rate, coverage, _ = _run(1.0, seed=13, few=40)
    assert fail_rate <= BOUND
    assert coverage >= COVERAGE[0]


def test_a_planted_excess_wait_is_found() -> None:
    fail_rate, coverage, _ = _run(1.25, seed=14, wav_share=0.01)
    assert fail_rate >= 0.90
    assert COVERAGE[0] <= coverage <= COVERAGE[1]


def _tlc_month(path: Path, seed: int, wav_wait_ratio: float) -> None:
    """A TLC-shaped file of 20,000 trips of one company over 3 days in 6 zones, 5 % of them
    accessible requests, whose wait (request to pickup) is ``wav_wait_ratio`` times that of
    other requests at the same zone and hour."""
    sample = pq.read_table(next(SAMPLE.glob("*.parquet")))
    rng = np.random.default_rng(seed)
    n = 20_000
    base = sample.to_pandas().iloc[np.zeros(n, dtype=int)].reset_index(drop=True)
    zone = rng.integers(1, 7, n)
    request = pd.Timestamp("2024-06-03") + pd.to_timedelta(
        rng.integers(0, 3 * 24 * 3600, n), unit="s"
    )
    wav = rng.random(n) < 0.05
    mean = 2.0 + zone * 0.6  # minutes
    wait = rng.gamma(2.0, mean * np.where(wav, wav_wait_ratio, 1.0) / 2.0)
    pickup = request + pd.to_timedelta(np.round(wait * 60), unit="s")
    base["hvfhs_license_num"] = "HV0003"
    base["request_datetime"] = request.astype("datetime64[us]")
    base["on_scene_datetime"] = pickup.astype("datetime64[us]")
    base["pickup_datetime"] = pickup.astype("datetime64[us]")
    base["dropoff_datetime"] = (pickup + pd.Timedelta(minutes=12)).astype("datetime64[us]")
    base["PULocationID"] = zone
    base["wav_request_flag"] = np.where(wav, "Y", "N")
    base["wav_match_flag"] = np.where(wav & (rng.random(n) < 0.9), "Y", "N")
    pq.write_table(pa.Table.from_pandas(base, schema=sample.schema, preserve_index=False), path)


@pytest.mark.parametrize(("ratio", "expected"), [(1.6, Status.FAIL), (1.0, Status.PASS)])
def test_svc01_on_a_tlc_shaped_month(tmp_path: Path, ratio: float, expected: Status) -> None:
    path = tmp_path / "fhvhv_tripdata_2024-06.parquet"
    _tlc_month(path, seed=5, wav_wait_ratio=ratio)
    config = AuditConfig.from_dict({"package": {"preset": "nyc-tlc-hvfhv"}})
    result = audit(path, config, checks=["SVC-01"])
    (f,) = [f for f in result.findings if f.check == "SVC-01"]
    assert f.subject == {"service": "uber"}
    assert f.status == expected, f.detail
    assert f.data["accessible_requests"] == int(
        (pq.read_table(path).column("wav_request_flag").to_numpy() == "Y").sum()
    )
    assert 0.8 < f.data["accessible_served_share"] < 1.0
    assert f.ci is not None and f.ci[0] <= f.estimate <= f.ci[1]
    if expected == Status.FAIL:
        assert f.ci[0] > 1 / 0.95
    else:
        assert abs(f.estimate - 1.0) < 0.1


def test_platform_packages_without_the_columns_are_not_assessed() -> None:
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    result = audit(demo, AuditConfig(), checks=["SVC-01"])
    (f,) = [f for f in result.findings if f.check == "SVC-01"]
    assert f.status == Status.NOT_ASSESSED
    assert f.missing == ("orders.accessible_requested",)


def test_trips_booked_ahead_are_not_waits(tmp_path: Path) -> None:
    """Twenty accessible requests picked up three hours after they were made (booked
    ahead): a ratio of mean waits would read them as a breach; they are left out and
    counted, and the month with no excess wait is not failed."""
    path = tmp_path / "fhvhv_tripdata_2024-06.parquet"
    _tlc_month(path, seed=5, wav_wait_ratio=1.0)
    frame = pq.read_table(path).to_pandas()
    booked = frame.index[frame["wav_request_flag"] == "Y"][:20]
    frame.loc[booked, "request_datetime"] -= pd.Timedelta(hours=3)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    config = AuditConfig.from_dict({"package": {"preset": "nyc-tlc-hvfhv"}})
    result = audit(path, config, checks=["SVC-01"])
    (f,) = [f for f in result.findings if f.check == "SVC-01"]
    assert f.data["scheduled_left_out"] == 20
    assert f.status != Status.FAIL, f.detail
    assert "booked ahead" in f.detail
