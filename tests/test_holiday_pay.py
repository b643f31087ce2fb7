"""PAY-04 (statutory-holiday pay): the pack's holiday calendar, calibration in worlds built to
fool it (date-specific pay, workers choosing whether to work holidays, few holidays), power
with a planted shortfall, and the check on packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor import AuditConfig, Status, audit
from auditor.errors import ConfigError
from auditor.rules import load_pack
from auditor.simulate._holiday_worlds import replicate_holidays

REPLICATES = 200
ALPHA = 0.05
SE = np.sqrt(0.025 * 0.975 / REPLICATES)
EDGE_BOUND = 0.025 + 2 * SE  # 0.047: a true ratio at the required edge fails in alpha / 2
COVERAGE = (0.904, 0.996)  # 95 % within 3 Monte Carlo standard errors at 200 replicates


def test_the_shipped_calendar_is_2025s_statutory_holidays() -> None:
    pack = load_pack("cn-2023-rest-and-pay")
    assert pack.holidays is not None
    days = [d.isoformat() for d in pack.holidays.dates]
    assert len(days) == 13  # 11 before 2025, 2 added (Spring Festival eve, 2 May)
    assert {"2025-01-28", "2025-05-02", "2025-10-06"} <= set(days)
    assert "2025-02-04" not in days  # a day off of the yearly arrangement, not statutory
    assert pack.holidays.pay == ("worker_pay", "incentive")
    assert pack.holidays.min_premium == 0.0
    assert pack.floor is None and pack.working_time is None


@pytest.mark.parametrize(
    ("holidays", "message"),
    [
        ("dates = []", "at least one"),
        ('dates = ["2025-13-01"]', "YYYY-MM-DD"),
        ("dates = [2025-01-01, 2025-01-01]", "each once"),
        ('dates = [2025-01-01]\npay = ["tip"]', "distinct pay columns"),
        ("dates = [2025-01-01]\nmin_premium = 11", "from 0 to 10"),
        ("dates = [2025-01-01]\nrate = 3", "unknown key"),
    ],
)
def test_bad_holiday_tables_are_refused(tmp_path: Path, holidays: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nversion = "1"\ntitle = "t"\njurisdiction = "j"\n'
        '[[sources]]\ntitle = "s"\nurl = "https://example.org"\n'
        f"[holidays]\n{holidays}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        load_pack(str(path))


def test_a_premium_exactly_at_the_required_edge_is_rarely_failed() -> None:
    """Low-paid workers work holidays more and every date has its own pay: a comparison
    across workers fails almost always; within worker, by date, about alpha / 2."""
    r = replicate_holidays(1.05, REPLICATES, seed=21)
    assert r.naive_fail >= 0.5
    assert r.fail <= EDGE_BOUND
    assert COVERAGE[0] <= r.coverage <= COVERAGE[1]


def test_three_holidays_on_noisy_dates_hold_the_level() -> None:
    r = replicate_holidays(1.05, REPLICATES, seed=22, holidays=3, date_sd=0.10)
    assert r.fail <= EDGE_BOUND
    assert r.coverage >= COVERAGE[0]


def test_a_real_premium_passes_and_is_never_failed() -> None:
    r = replicate_holidays(1.20, REPLICATES, seed=23)
    assert r.fail == 0.0
    assert r.passed >= 0.9
    assert COVERAGE[0] <= r.coverage <= COVERAGE[1]


def test_no_premium_over_a_years_holidays_is_found() -> None:
    r = replicate_holidays(1.0, REPLICATES, seed=24, holidays=13, dates=120, date_sd=0.03)
    assert r.fail >= 0.9
    assert COVERAGE[0] <= r.coverage <= COVERAGE[1]


HOLIDAYS = ("2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31")


def _package(folder: Path, premium: float, seed: int = 3, start: str = "2025-01-01") -> Path:
    """80 workers over 45 days from ``start``, about 10,800 orders in 4 zones; each worker's
    own pay level, a small pay level per date, and ``premium`` on the 2025 holidays."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=45)
    holidays = {pd.Timestamp(d) for d in HOLIDAYS}
    level = np.exp(rng.normal(0, 0.2, 80))
    shock = np.exp(rng.normal(0, 0.03, len(days)))
    rows = []
    for w in range(80):
        for j, day in enumerate(days):
            if rng.random() > 0.5:
                continue
            for _ in range(rng.poisson(6)):
                km = rng.uniform(1, 6)
                minutes = km * 4 + rng.uniform(2, 8)
                on = 1 + premium if day in holidays else 1.0
                pay = level[w] * shock[j] * (3 + 1.2 * km) * on * rng.gamma(8, 1 / 8)
                at = day + pd.Timedelta(hours=int(rng.integers(9, 21)), minutes=5)
                rows.append(
                    {
                        "order_id": f"o{len(rows)}",
                        "worker_id": f"w{w}",
                        "service": "food",
                        "accepted_at": at.isoformat(),
                        "pickup_at": (at + pd.Timedelta(minutes=3)).isoformat(),
                        "dropoff_at": (at + pd.Timedelta(minutes=3 + minutes)).isoformat(),
                        "pickup_zone": f"Z{rng.integers(0, 4)}",
                        "distance_km": round(km, 3),
                        "customer_price": round(pay * 1.3 + 2, 2),
                        "worker_pay": round(pay, 2),
                    }
                )
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "orders.csv", index=False)
    return folder


def _pay04(folder: Path, rules: tuple[str, ...] = ("cn-2023-rest-and-pay",)) -> object:
    config = AuditConfig.from_dict({"audit": {"rules": list(rules)}})
    result = audit(folder, config, checks=["PAY-04"])
    (f,) = [f for f in result.findings if f.check == "PAY-04"]
    return f


@pytest.mark.parametrize(("premium", "status"), [(0.25, Status.PASS), (-0.15, Status.FAIL)])
def test_pay04_on_a_package(tmp_path: Path, premium: float, status: Status) -> None:
    f = _pay04(_package(tmp_path / "pkg", premium))
    assert f.status == status, f.detail
    assert f.subject == {"rule": "cn-2023-rest-and-pay"}
    assert f.data["holidays_in_span"] == list(HOLIDAYS)
    assert f.data["dates_holiday"] == 5
    assert f.threshold == pytest.approx(1.05)
    # One package's dates carry their own pay (here 4 % more on the holidays, by chance):
    # the estimate is near the premium; coverage is the calibration worlds' business.
    assert f.estimate == pytest.approx(1 + premium, abs=0.06)
    assert f.ci is not None and f.ci[0] < f.estimate < f.ci[1]
    if status == Status.FAIL:
        assert f.severity.value in ("medium", "high")
        assert f.ci[1] < 1.05


def test_pay04_without_a_holiday_in_the_packages_dates(tmp_path: Path) -> None:
    f = _pay04(_package(tmp_path / "pkg", 0.0, start="2025-02-10"))
    assert f.status == Status.INCONCLUSIVE
    assert "None of the pack's 13 holidays" in f.detail


def test_pay04_needs_a_holiday_calendar_and_worker_ids(tmp_path: Path) -> None:
    f = _pay04(_package(tmp_path / "pkg", 0.0), rules=())
    assert f.status == Status.NOT_ASSESSED
    assert f.missing == ("[audit] rules",)
    tlc = Path(__file__).resolve().parents[1] / "fixtures" / "nyc-tlc-hvfhv"
    config = AuditConfig.from_dict({"package": {"preset": "nyc-tlc-hvfhv"}})
    result = audit(tlc, config, checks=["PAY-04"])
    (g,) = [f for f in result.findings if f.check == "PAY-04"]
    assert g.status == Status.NOT_ASSESSED
    assert g.missing[0] == "orders.worker_id"


def test_one_holiday_in_a_month_is_not_judged(tmp_path: Path) -> None:
    """March 1 to April 14 holds one statutory holiday (4 April): one date's own pay cannot
    be told from a premium, whatever the orders."""
    f = _pay04(_package(tmp_path / "pkg", -0.3, start="2025-03-01"))
    assert f.status == Status.INCONCLUSIVE
    assert f.data["holidays_in_span"] == ["2025-04-04"]
    assert f.data["holiday_dates_compared"] == 1
    assert "only one holiday" in f.detail


def test_few_workers_withhold_every_number_of_the_estimate(tmp_path: Path) -> None:
    folder = _package(tmp_path / "pkg", -0.3)
    orders = pd.read_csv(folder / "orders.csv")
    on = pd.to_datetime(orders["accepted_at"]).dt.strftime("%Y-%m-%d").isin(HOLIDAYS)
    keep = ~on | orders["worker_id"].isin(["w0", "w1", "w2"])
    orders[keep].to_csv(folder / "orders.csv", index=False)
    f = _pay04(folder)
    assert f.data["workers_on_holidays"] is None
    for key in ("log_ratio", "se_log_ratio", "df", "p_value_no_premium", "orders_on_holidays"):
        assert f.data[key] is None, key
    assert f.estimate is None and f.ci is None and f.p_value is None


def test_the_packs_pay_list_is_what_is_compared(tmp_path: Path) -> None:
    """A pack counting the incentive alone: a holiday bonus paid as incentive, with base pay
    unchanged, is a premium of the incentive's size, not of the whole pay."""
    folder = _package(tmp_path / "pkg", 0.0)
    orders = pd.read_csv(folder / "orders.csv")
    on = pd.to_datetime(orders["accepted_at"]).dt.strftime("%Y-%m-%d").isin(HOLIDAYS)
    orders["incentive"] = (orders["worker_pay"] * np.where(on, 0.5, 0.25)).round(2)
    orders.to_csv(folder / "orders.csv", index=False)
    pack = tmp_path / "incentive.toml"
    pack.write_text(
        'name = "incentive-only"\nversion = "1"\ntitle = "t"\njurisdiction = "j"\n'
        '[[sources]]\ntitle = "s"\nurl = "https://example.org"\n'
        '[holidays]\npay = ["incentive"]\ndates = [' + ", ".join(HOLIDAYS) + "]\n",
        encoding="utf-8",
    )
    both = _pay04(folder)
    alone = _pay04(folder, rules=(str(pack),))
    assert alone.estimate == pytest.approx(2.0 * both.estimate / 1.2, rel=0.08)
    assert alone.data["pay_counted"] == ["incentive"]
