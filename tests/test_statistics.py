"""Platform-work statistics: distributions from the panels, withheld where cells are small,
written as statistics.csv and shown in the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor import audit
from auditor.config import load_config
from auditor.reconstruct import STATISTICS_COLUMNS, platform_statistics

ROOT = Path(__file__).resolve().parents[1]


def _panels(days_of: dict[str, int], weekly: dict[str, list[float]]) -> tuple[pd.DataFrame, ...]:
    """Worker-day rows (``days_of[w]`` dates from 2026-03-02) and worker-week rows with
    ``online_hours`` and ``net_earnings`` from ``weekly[w]``."""
    days = pd.DataFrame(
        [
            (w, (pd.Timestamp("2026-03-02") + pd.Timedelta(days=d)).date())
            for w, n in days_of.items()
            for d in range(n)
        ],
        columns=["worker_id", "local_date"],
    ).assign(orders=1)
    weeks = pd.DataFrame(
        [(w, i, v, 10.0 * v) for w, values in weekly.items() for i, v in enumerate(values)],
        columns=["worker_id", "week", "online_hours", "net_earnings"],
    ).assign(orders=1)
    return days, weeks


def _row(frame: pd.DataFrame, measure: str, band: str = "") -> pd.Series:
    found = frame[(frame.measure == measure) & (frame.band == band)]
    assert len(found) == 1
    return found.iloc[0]


def test_percentiles_are_numpy_s_where_k_workers_lie_on_each_side() -> None:
    """40 workers with one week each of 1..40 online hours: every percentile has at least
    4 workers beyond it (k = 4) and equals NumPy's linear one; with k = 5, the 10th and 90th
    percentiles (4 workers beyond) are withheld, the others kept."""
    ids = [f"w{i:02d}" for i in range(40)]
    days, weeks = _panels(dict.fromkeys(ids, 3), {w: [float(i + 1)] for i, w in enumerate(ids)})
    values = np.arange(1.0, 41.0)
    out = platform_statistics(days, weeks, None, min_cell_workers=4)
    assert list(out.columns) == list(STATISTICS_COLUMNS)
    row = _row(out, "online_hours_per_week")
    assert row.workers == 40 and row.units == 40 and row["mean"] == pytest.approx(20.5)
    for name, q in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9)):
        assert row[name] == pytest.approx(np.quantile(values, q))
    row = _row(platform_statistics(days, weeks, None, min_cell_workers=5), "online_hours_per_week")
    assert np.isnan(row.p10) and np.isnan(row.p90)
    assert row.p25 == pytest.approx(np.quantile(values, 0.25))


def test_a_tail_held_by_one_busy_worker_is_withheld() -> None:
    """One worker has 12 weeks earning 1,000, 19 others one week each earning 10 to 190:
    the upper percentiles are that one worker's value, so they are withheld however many
    weeks stand behind them; the 25th percentile (85) has 8 workers below and 12 above."""
    ids = [f"w{i:02d}" for i in range(20)]
    weekly = {w: [float(i)] for i, w in enumerate(ids) if i} | {ids[0]: [100.0] * 12}
    days, weeks = _panels(dict.fromkeys(ids, 2), weekly)
    row = _row(platform_statistics(days, weeks, None, min_cell_workers=5), "earnings_per_week")
    assert row.units == 31 and row.workers == 20
    assert np.isnan(row.p75) and np.isnan(row.p90)
    assert row.p25 == pytest.approx(85.0)


def test_rows_with_fewer_than_k_workers_publish_nothing() -> None:
    ids = [f"w{i}" for i in range(9)]
    days, weeks = _panels(dict.fromkeys(ids, 5), {w: [8.0, 9.0] for w in ids})
    out = platform_statistics(days, weeks, None, min_cell_workers=10)
    for measure in ("days_active", "online_hours_per_week", "earnings_per_week"):
        row = _row(out, measure)
        assert pd.isna(row.workers) and pd.isna(row.units) and np.isnan(row["mean"])
        assert all(np.isnan(row[p]) for p in ("p10", "p25", "median", "p75", "p90"))


def test_a_small_band_is_withheld_with_the_next_smallest() -> None:
    """Days active: 3 workers with 1 day, 12 with 3, 20 with 7, 15 with 12 (k = 10). The
    1-day band is withheld; as the total would give it away, so is the next smallest (2-4),
    and the published bands do not add up to the total."""
    days_of = (
        {f"a{i}": 1 for i in range(3)}
        | {f"b{i}": 3 for i in range(12)}
        | {f"c{i}": 7 for i in range(20)}
        | {f"d{i}": 12 for i in range(15)}
    )
    days, weeks = _panels(days_of, {w: [5.0] for w in days_of})
    out = platform_statistics(days, weeks, None, min_cell_workers=10)
    bands = out[out.measure == "workers_by_days_active"].set_index("band")
    assert pd.isna(bands.loc["1", "workers"]) and pd.isna(bands.loc["2-4", "workers"])
    assert bands.loc["5-9", "workers"] == 20 and bands.loc["10-19", "workers"] == 15
    assert bands.loc["20+", "workers"] == 0
    assert bands.loc["5-9", "share"] == pytest.approx(20 / 50)


def test_tenure_counts_days_from_joining_to_the_last_date() -> None:
    ids = [f"w{i:02d}" for i in range(12)]
    days, weeks = _panels(dict.fromkeys(ids, 4), {w: [5.0] for w in ids})
    joined = pd.Series(
        [pd.Timestamp("2026-03-05") - pd.Timedelta(days=10 * i) for i in range(12)], index=ids
    )
    row = _row(platform_statistics(days, weeks, joined, min_cell_workers=3), "tenure_days")
    # Last date 2026-03-05: tenures 0, 10, ..., 110 days.
    assert row["mean"] == pytest.approx(55.0)
    assert row["median"] == pytest.approx(55.0)


def test_demo_audit_writes_statistics_without_ids_in_both_report_languages(
    tmp_path: Path,
) -> None:
    config = load_config(ROOT / "audit_config.toml")
    result = audit(ROOT / "fixtures" / "demo", config)
    stats = result.statistics
    assert list(stats.columns) == list(STATISTICS_COLUMNS)
    assert _row(stats, "days_active").workers == result.worker_days.worker_id.nunique()
    assert _row(stats, "engaged_hours_per_week")["median"] > 0
    text = stats.to_csv(index=False)
    assert not any(w in text for w in result.worker_days.worker_id.unique())
    for lang, title in (("en", "Platform-work statistics"), ("zh", "平台用工统计")):
        page = result.report_html(lang)
        assert 'id="platform_statistics"' in page and title in page


def test_indicators_by_group_name_only_groups_of_k_and_withhold_thin_cells() -> None:
    """24 workers: 12 in group A, 10 in B, 2 in C (k = 10). C is not named. In A, 3 workers
    were restricted (a share withheld: fewer than 10 have it); in B, 10 of 10 were not (the
    share is withheld too: fewer than 10 had it). Penalties: in A every worker has some (mean
    shown); in B only 2 do (the mean would speak of them: withheld)."""
    from auditor.reconstruct import labour_indicators
    from auditor.reconstruct._indicators import per_worker

    ids = [f"w{i:02d}" for i in range(24)]
    group = pd.Series(["A"] * 12 + ["B"] * 10 + ["C"] * 2, index=ids)
    days, weeks = _panels(dict.fromkeys(ids, 3), {w: [10.0] for w in ids})
    weeks["orders_completed"] = 20
    days["online_hours"] = 5.0
    counts = {
        "offers": pd.Series(40, index=ids),
        "declined": pd.Series(range(24), index=ids),
        "penalties": pd.Series([1] * 12 + [2, 3] + [0] * 10, index=ids),
        "restrictive": pd.Series([1, 1, 1] + [0] * 21, index=ids),
    }
    per = per_worker(days, weeks, counts, daily_limit_hours=12.0)
    assert per.loc["w05", "penalties_per_100_orders"] == pytest.approx(5.0)
    assert per.loc["w05", "share_of_offers_declined"] == pytest.approx(5 / 40)
    out = labour_indicators(per, group.to_frame("band"), min_cell_workers=10)
    assert set(out.group) == {"A", "B", "1 group of fewer than 10 workers each"}
    rows = out.set_index(["group", "indicator"])
    assert rows.loc[("A", "restrictive_action"), "workers"] == 12
    assert np.isnan(rows.loc[("A", "restrictive_action"), "mean"])
    assert rows.loc[("A", "penalties_per_100_orders"), "mean"] == pytest.approx(5.0)
    assert np.isnan(rows.loc[("B", "penalties_per_100_orders"), "mean"])
    assert rows.loc[("A", "offers_per_online_hour"), "mean"] == pytest.approx(40 / 10)
    assert np.isnan(rows.loc[("A", "share_of_days_over_daily_limit"), "mean"])  # all at 0


def test_demo_indicators_are_written_by_group_without_ids(tmp_path: Path) -> None:
    from auditor.cli import main

    out = tmp_path / "out"
    demo, config = ROOT / "fixtures" / "demo", ROOT / "audit_config.toml"
    args = ["run", demo, "--config", config, "--out", out, "--quiet", "--fail-on", "never"]
    code = main([str(a) for a in args])
    assert code == 0
    frame = pd.read_csv(out / "indicators.csv")
    assert set(frame.attribute) == {"gender", "age_band"}
    assert (frame.workers.dropna() >= 10).all()
    text = (out / "indicators.csv").read_text(encoding="utf-8")
    workers = pd.read_csv(ROOT / "fixtures" / "demo" / "workers.csv").worker_id
    assert not any(w in text for w in workers)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Labour-management indicators by worker group" in page


def test_withheld_bands_together_hold_k_workers() -> None:
    """Bands 2-4 and 5-9 hold one worker each, 10-19 holds 41, the others none (k = 10):
    withholding the two small bands alone would leave their sum (2) to subtraction, and each
    holds at least one, so both would be known; 10-19 is withheld with them."""
    days_of = {"a": 3, "b": 7} | {f"c{i}": 12 for i in range(41)}
    days, weeks = _panels(days_of, {w: [5.0] for w in days_of})
    out = platform_statistics(days, weeks, None, min_cell_workers=10)
    bands = out[out.measure == "workers_by_days_active"].set_index("band")
    assert bands.loc[["2-4", "5-9", "10-19"], "workers"].isna().all()
    assert bands.loc["1", "workers"] == 0 and bands.loc["20+", "workers"] == 0


def test_a_deduction_alone_is_not_a_day_of_work() -> None:
    ids = [f"w{i:02d}" for i in range(12)]
    days, weeks = _panels(dict.fromkeys(ids, 4), {w: [5.0] for w in ids})
    idle = pd.DataFrame({"worker_id": ["x1", "x2"], "local_date": days.local_date[:2].tolist(),
                         "orders": [0, 0]})  # fmt: skip
    out = platform_statistics(pd.concat([days, idle]), weeks, None, min_cell_workers=3)
    assert _row(out, "days_active").workers == 12


def test_a_mean_one_worker_dominates_is_withheld() -> None:
    """One week earning 1,000,000 among 29 other workers' weeks of 10 to 290: the mean would
    speak of that week; it is withheld while the median, with k workers each side, stays."""
    ids = [f"w{i:02d}" for i in range(30)]
    weekly = {w: [float(i)] for i, w in enumerate(ids) if i} | {ids[0]: [100_000.0]}
    days, weeks = _panels(dict.fromkeys(ids, 2), weekly)
    row = _row(platform_statistics(days, weeks, None, min_cell_workers=5), "earnings_per_week")
    values = [10.0 * i for i in range(1, 30)] + [1_000_000.0]
    assert np.isnan(row["mean"]) and row["median"] == pytest.approx(np.median(values))
