"""Safe output: no published number is computed over fewer than ``[report]
min_cell_workers`` (k) workers, outside the group comparisons too.

One simulated platform (160 workers, a week) is given each fact breach on its own workers:
two of them (five for PAY-01, whose verdict is a test: fewer would not decide it), a small
cell, in one package, and twelve (k or more) in another. Each package is audited twice:
with k = 1, which withholds nothing and gives the numbers the breach has, and with the
default k = 10. With a small cell the finding must still fail (the regulator must learn of
the breach) but neither ``findings.json`` nor report.html, summary.md or junit.xml may hold
its counts, shares, amounts or hours; with twelve they are published. Maxima are one
worker's value: findings publish instead the value at least k workers reached.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from plotly.offline import get_plotlyjs

from auditor import AuditConfig, AuditResult, audit
from auditor.checks import Finding, Severity, Status
from auditor.report import build_figures, labels, render_html, render_junit, render_markdown
from auditor.report._sentences import sentence
from auditor.simulate import SimulatedPackage, SimulationSpec, simulate, write_package

K = 10
SMALL, LARGE = 2, 12
CHECKS = ("FEE-01", "FEE-02", "FEE-03", "FEE-06", "INS-01", "HRS-01", "PAY-01")
TZ = "Asia/Shanghai"
# A low minimum wage, and none of it tolerated: the platform's own low earners (their
# deductions outweigh their pay) are taken out, and five planted workers below decide it.
EARNINGS = {"minimum_hourly_wage": 5.0, "tolerated_share_below": 0.0}
EVERY_CELL = AuditConfig.from_dict({"report": {"min_cell_workers": 1}, "earnings": EARNINGS})
DEFAULT = AuditConfig.from_dict({"report": {"min_cell_workers": K}, "earnings": EARNINGS})

Tables = dict[str, pd.DataFrame]
Planter = Callable[[Tables, list[str]], None]


# --- planting: each breach on its own workers ------------------------------------------


def _first_completed(t: Tables, worker: str, where: pd.Series | None = None) -> Any:
    o = t["orders"]
    ok = (o["worker_id"] == worker) & (o["status"] == "completed")
    ok &= o["customer_price"] - o["pass_through"] > 1.0
    if where is not None:
        ok &= where
    return o.index[ok][0]


def _take_above_cap(t: Tables, workers: list[str]) -> None:
    """FEE-01: one order each pays the worker half the fare (cap 0.30); the declared
    commission follows the take, so FEE-02 sees nothing."""
    o = t["orders"]
    for w in workers:
        i = _first_completed(t, w)
        fare = o.at[i, "customer_price"] - o.at[i, "pass_through"]
        o.at[i, "worker_pay"] = round(fare * 0.5, 2)
        o.at[i, "commission"] = round(fare - o.at[i, "worker_pay"], 2)


def _hidden_fee(t: Tables, workers: list[str]) -> None:
    """FEE-02: one order each declares no commission."""
    o = t["orders"]
    for w in workers:
        o.at[_first_completed(t, w, o["commission"] > 1.0), "commission"] = 0.0


def _short_payout(t: Tables, workers: list[str]) -> None:
    """FEE-03: one statement each pays 123.45 less."""
    p = t["payouts"]
    for w in workers:
        i = p.index[p["worker_id"] == w][0]
        p.at[i, "net_paid"] = round(p.at[i, "net_paid"] - 123.45, 2)


def _tip_kept(t: Tables, workers: list[str]) -> None:
    """FEE-06: one untipped order each gets an 88.88 tip the worker never sees."""
    o = t["orders"]
    for w in workers:
        i = _first_completed(t, w, o["tip"] == 0)
        o.at[i, "tip"] = 88.88
        o.at[i, "tip_to_worker"] = 0.0


def _premium_charged(t: Tables, workers: list[str]) -> None:
    """INS-01 paid_by_worker: one order each charges the worker a 7.77 premium."""
    o = t["orders"]
    for w in workers:
        i = _first_completed(t, w)
        o.at[i, "injury_premium"] = 7.77
        o.at[i, "injury_premium_payer"] = "worker"


def _premium_missing(t: Tables, workers: list[str]) -> None:
    """INS-01 missing_premium: one order each carries no premium."""
    o = t["orders"]
    for w in workers:
        o.at[_first_completed(t, w), "injury_premium"] = None


def _sessions_on(t: Tables, worker: str, spans: list[tuple[str, str]]) -> None:
    """Replace ``worker``'s sessions of 2026-03-05 by ``spans`` (local times)."""
    s = t["sessions"]
    start, end = pd.Timestamp("2026-03-05", tz=TZ), pd.Timestamp("2026-03-06", tz=TZ)
    clash = (s["worker_id"] == worker) & (s["offline_at"] > start) & (s["online_at"] < end)
    zone = s.loc[s["worker_id"] == worker, "zone"].iloc[0]
    rows = pd.DataFrame(
        {
            "worker_id": worker,
            "online_at": [pd.Timestamp(f"2026-03-05 {a}", tz=TZ) for a, _ in spans],
            "offline_at": [pd.Timestamp(f"2026-03-05 {b}", tz=TZ) for _, b in spans],
            "zone": zone,
        }
    )
    t["sessions"] = pd.concat([s[~clash], rows], ignore_index=True)


def _long_day(t: Tables, workers: list[str]) -> None:
    """HRS-01 daily: four 3.9-hour sessions with 30-minute breaks, 15.6 h in a day."""
    spans = [("06:00", "09:54"), ("10:24", "14:18"), ("14:48", "18:42"), ("19:12", "23:06")]
    for w in workers:
        _sessions_on(t, w, spans)


def _no_break(t: Tables, workers: list[str]) -> None:
    """HRS-01 continuous: 10.73 hours online without a break (under the daily limit)."""
    for w in workers:
        _sessions_on(t, w, [("08:00", "18:43:48")])


def _low_pay(t: Tables, workers: list[str]) -> None:
    """PAY-01: a 2,345.67 deduction each leaves the week's earnings below the minimum."""
    d = t["deductions"]
    rows = pd.DataFrame(
        {
            "deduction_id": [f"SMALLCELL{i:03d}" for i in range(len(workers))],
            "worker_id": workers,
            "deducted_at": pd.Timestamp("2026-03-04 12:00", tz=TZ),
            "amount": 2345.67,
            "category": "other",
        }
    )
    t["deductions"] = pd.concat([d, rows], ignore_index=True)


@dataclasses.dataclass(frozen=True)
class Case:
    """One breach: where it is planted, the finding it gives, and what of it is a small cell.

    Attributes:
        name: test ID.
        plant: plants the breach on the workers given.
        check: catalogue ID; ``subject``: the finding's subject.
        counts: data keys that count the workers or units touched.
        amounts: data keys of money or hours over the workers touched (None in data when
            withheld, and searched for in every published text).
        fmt: how the check's sentence writes those amounts.
        small: workers given the breach in the small-cell package.
    """

    name: str
    plant: Planter
    check: str
    subject: dict[str, str]
    counts: tuple[str, ...]
    amounts: tuple[str, ...]
    fmt: str = "{:,.2f}"
    small: int = SMALL


CASES = (
    Case("fee01", _take_above_cap, "FEE-01", {"unit": "order"},
         ("orders_above_cap", "workers_affected"),
         ("money_above_cap", "excess_rate_reached_by_k_workers")),
    Case("fee02", _hidden_fee, "FEE-02", {},
         ("orders_with_undisclosed_fee", "workers_affected"),
         ("undisclosed_total", "actual_take_rate")),
    Case("fee03", _short_payout, "FEE-03", {"unit": "payout"},
         ("statements_short", "workers_affected"),
         ("shortfall_total", "shortfall_reached_by_k_workers")),
    Case("fee06", _tip_kept, "FEE-06", {}, ("orders_short", "workers_affected"),
         ("withheld_total",)),
    Case("ins01_paid", _premium_charged, "INS-01", {"issue": "paid_by_worker"},
         ("orders", "workers_affected"), ("amount",)),
    Case("ins01_missing", _premium_missing, "INS-01", {"issue": "missing_premium"},
         ("orders", "workers_affected"), ()),
    Case("hrs01_daily", _long_day, "HRS-01", {"limit": "daily_online_hours"},
         ("units_over", "workers_over"), ("hours_reached_by_k_workers",), "{:.1f}"),
    Case("hrs01_continuous", _no_break, "HRS-01", {"limit": "continuous_online_hours"},
         ("units_over", "workers_over"), ("hours_reached_by_k_workers",), "{:.1f}"),
    Case("pay01", _low_pay, "PAY-01", {"basis": "engaged"},
         ("worker_weeks_below", "workers_below"), ("shortfall_total",), small=5),
)  # fmt: skip


# --- the packages and their audits ----------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> SimulatedPackage:
    """The platform without the workers who earn less than the minimum already."""
    package = simulate(SimulationSpec(workers=160, days=7, seed=21, demand_scale=0.3))
    folder = write_package(package, tmp_path_factory.mktemp("base"), fmt="parquet")
    weeks = audit(folder, EVERY_CELL, checks=["PAY-01"]).worker_weeks
    weeks = weeks[weeks["engaged_hours"] >= 1.0]
    low = set(weeks.loc[weeks["net_of_expense"] < 5.0 * weeks["engaged_hours"], "worker_id"])
    tables = {
        name: t.filter(pa.array([w not in low for w in t["worker_id"].to_pylist()]))
        if "worker_id" in t.column_names
        else t
        for name, t in package.tables.items()
    }
    return SimulatedPackage(package.spec, tables, package.ground_truth)


def _eligible(package: SimulatedPackage) -> list[str]:
    """Workers with five completed orders (some untipped) and a pay statement."""
    o = package.tables["orders"].to_pandas()
    done = o[o["status"] == "completed"]
    busy = done.groupby("worker_id").size()
    untipped = set(done.loc[done["tip"] == 0, "worker_id"])
    paid = set(package.tables["payouts"].to_pandas()["worker_id"])
    return sorted(w for w in busy.index[busy >= 5] if w in untipped and w in paid)


def _planted(base: SimulatedPackage, n: int | None, folder: Path) -> Path:
    """``base`` with each case's breach on workers of its own: ``n`` of them, or the case's
    small cell where ``n`` is None."""
    tables = {name: t.to_pandas() for name, t in base.tables.items()}
    pool = iter(_eligible(base))
    for case in CASES:
        case.plant(tables, [next(pool) for _ in range(case.small if n is None else n)])
    return _rewritten(base, tables, folder)


def _rewritten(package: SimulatedPackage, tables: Tables, folder: Path) -> Path:
    """``package`` with ``tables`` (edited as DataFrames), written as Parquet to ``folder``."""
    arrow = {
        name: pa.Table.from_pandas(df, schema=package.tables[name].schema, preserve_index=False)
        for name, df in tables.items()
    }
    return write_package(
        SimulatedPackage(package.spec, arrow, package.ground_truth), folder, fmt="parquet"
    )


@dataclasses.dataclass(frozen=True)
class Audited:
    """A planted package audited with k = 1 (``raw``) and k = 10 (``result``), and what
    the latter publishes."""

    folder: Path
    raw: AuditResult
    result: AuditResult
    findings_json: dict[str, Any]
    texts: dict[str, str]


def _audited(folder: Path) -> Audited:
    raw = audit(folder, EVERY_CELL, checks=CHECKS)
    result = audit(folder, DEFAULT, checks=CHECKS)
    plotly = get_plotlyjs()
    texts = {
        "findings.json": result.to_json(),
        "report.html": render_html(result, "en").replace(plotly, ""),
        "report.zh.html": render_html(result, "zh").replace(plotly, ""),
        "summary.md": render_markdown(result),
        "junit.xml": render_junit(result),
    }
    return Audited(folder, raw, result, json.loads(texts["findings.json"]), texts)


@pytest.fixture(scope="module")
def small(base: SimulatedPackage, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return _audited(_planted(base, None, tmp_path_factory.mktemp("small")))


@pytest.fixture(scope="module")
def large(base: SimulatedPackage, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return _audited(_planted(base, LARGE, tmp_path_factory.mktemp("large")))


def _one(result: AuditResult, case: Case) -> Finding:
    found = [f for f in result.findings if f.check == case.check and f.subject == case.subject]
    assert len(found) == 1, [str(f) for f in result.findings]
    return found[0]


def _workers(f: Finding) -> Any:
    """The workers a finding's breach touched, as its data counts them."""
    return next(
        f.data[k] for k in ("workers_affected", "workers_over", "workers_below") if k in f.data
    )


def _numbers(value: Any) -> Iterator[float]:
    """Every number in a JSON document."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield float(value)


def _written(text: str, number: str) -> bool:
    """Whether ``number`` stands in ``text`` as a number of its own (not inside another)."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", text) is not None


# --- the rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_breach_of_fewer_than_k_workers_fails_and_publishes_no_number_of_them(
    small: Audited, case: Case
) -> None:
    raw, f = _one(small.raw, case), _one(small.result, case)
    # The planted breach is there, carried by its few workers (k = 1 shows it) ...
    assert raw.status == Status.FAIL, str(raw)
    assert _workers(raw) == case.small, raw.data
    # ... and with k = 10 it still fails, as severely, saying so without numbers.
    assert (f.status, f.severity) == (raw.status, raw.severity)
    assert f.severity != Severity.INFO
    assert f.data["suppressed"] is True and f.data["min_cell_workers"] == K
    assert f"ewer than {K} workers" in f.detail
    assert f.estimate is None and f.ci is None
    published = next(
        x for x in small.findings_json["findings"]
        if x["check"] == case.check and x["subject"] == case.subject
    )  # fmt: skip
    assert published["estimate"] is None and published["ci"] is None
    for key in case.counts + case.amounts:
        assert published["data"][key] is None, key
    # No number of the two workers anywhere in findings.json (its summary included) ...
    secrets = [raw.estimate] + [raw.data[key] for key in case.amounts]
    everywhere = list(_numbers(small.findings_json["findings"]))
    everywhere += list(_numbers(small.findings_json["summary"]))
    for secret in secrets:
        assert secret is not None and secret > 0
        assert not any(math.isclose(x, secret, rel_tol=1e-9) for x in everywhere), secret
    # ... nor in any published text, as the check's sentence would write it.
    for key in case.amounts:
        shown = case.fmt.format(raw.data[key])
        assert shown in raw.detail or key.endswith("k_workers") or key == "actual_take_rate"
        for name, text in small.texts.items():
            assert not _written(text, shown), (name, key, shown)
    # The Chinese sentence says the same without numbers.
    zh = sentence(f, labels("zh"))
    assert f"少于 {K} 人" in zh and "不合规" in zh


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_breach_of_k_workers_or_more_is_published(large: Audited, case: Case) -> None:
    raw, f = _one(large.raw, case), _one(large.result, case)
    assert f.status == Status.FAIL and f.data["suppressed"] is False
    assert f.estimate == raw.estimate is not None
    for key in case.counts:
        assert f.data[key] == raw.data[key] is not None, key
    assert _workers(f) == LARGE
    for key in case.amounts:
        if key.endswith("_reached_by_k_workers"):
            # The value at least k workers reached: at most the maximum (k = 1's value).
            assert 0 < f.data[key] <= raw.data[key], key
            continue
        assert f.data[key] == pytest.approx(raw.data[key]), key
        if key != "actual_take_rate":
            shown = case.fmt.format(f.data[key])
            for name in ("report.html", "summary.md", "junit.xml"):
                assert _written(large.texts[name], shown), (name, shown)


def test_the_longest_hours_published_are_those_k_workers_reached(large: Audited) -> None:
    """Twelve workers were online 15.6 h in a day and 10.73 h without a break: the tenth
    longest is published, in data and sentence, never a single worker's maximum."""
    daily = next(f for f in large.result.findings if f.subject.get("limit") == "daily_online_hours")
    assert daily.data["hours_reached_by_k_workers"] == pytest.approx(15.6)
    assert f"{K} of them were each online for a day of 15.6 h or more" in daily.detail
    nonstop = next(
        f for f in large.result.findings if f.subject.get("limit") == "continuous_online_hours"
    )
    assert nonstop.data["hours_reached_by_k_workers"] == pytest.approx(10.73)
    assert "for a stretch of 10.7 h or more" in nonstop.detail


def test_the_whole_population_under_k_publishes_no_total(small: Audited) -> None:
    """With k above every worker of the package, no finding publishes a count of workers,
    a total over them or a share, though each keeps its verdict."""
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 500}})
    few = audit(small.folder, config, checks=CHECKS)
    assert few.findings
    for f in few.findings:
        assert f.n_workers is None and f.n_orders is None, str(f)
        assert f.estimate is None and f.ci is None, str(f)
        assert f.data["suppressed"] is True, str(f)
        assert f.status == _one(small.raw, _case_of(f)).status
    assert {f.status for f in few.findings if f.check == "HRS-01"} == {Status.FAIL}


def _case_of(f: Finding) -> Case:
    return next(c for c in CASES if c.check == f.check and c.subject == f.subject)


# --- FEE-04's days, and the counts the group checks leave out -----------------------------


def test_fee04_publishes_no_day_and_no_level_of_fewer_than_k_workers(tmp_path: Path) -> None:
    """The last day keeps the orders of two workers: its take rate is left out of the
    published daily index (and counted); with k above every worker, no level, shift, day,
    statistic or p-value is published, and the verdict stands."""
    package = simulate(SimulationSpec(workers=60, days=9, seed=5, demand_scale=0.3))
    tables = {name: t.to_pandas() for name, t in package.tables.items()}
    o = tables["orders"]
    day = o["accepted_at"].dt.tz_convert(TZ).dt.date
    last = day.max()
    two = sorted(o.loc[(day == last) & (o["status"] == "completed"), "worker_id"].unique())[:2]
    tables["orders"] = o[(day != last) | o["worker_id"].isin(two)]
    folder = _rewritten(package, tables, tmp_path)
    raw, f, none = (
        audit(
            folder, AuditConfig.from_dict({"report": {"min_cell_workers": k}}), checks=["FEE-04"]
        ).findings[0]
        for k in (1, K, 500)
    )
    assert raw.status == f.status == none.status != Status.NOT_ASSESSED
    assert raw.data["daily_index"][-1]["date"] == str(last)
    hidden = raw.data["daily_index"][-1]
    assert [d["date"] for d in f.data["daily_index"]] == [
        d["date"] for d in raw.data["daily_index"][:-1]
    ]
    assert f.data["days_suppressed"] == 1 and f.data["suppressed"] is False
    everywhere = list(_numbers(json.loads(json.dumps(f.to_dict()))))
    for secret in (hidden["raw"], hidden["index"]):
        assert not any(math.isclose(x, secret, rel_tol=1e-9) for x in everywhere)
    days = len(raw.data["daily_index"])
    assert none.data["daily_index"] == [] and none.data["days_suppressed"] == days
    assert none.estimate is None and none.n_orders is None
    assert none.p_value is None and none.data["sup_f"] is None and f.p_value == raw.p_value
    assert none.data["level_before"] is None and none.data["level_after"] is None
    assert none.data["suppressed"] is True


@pytest.fixture(scope="module")
def group_base() -> SimulatedPackage:
    return simulate(SimulationSpec(workers=200, days=5, seed=43, demand_scale=0.5))


@pytest.mark.parametrize("n", [3, LARGE])
def test_counts_left_out_of_group_comparisons_need_k_workers(
    group_base: SimulatedPackage, tmp_path: Path, n: int
) -> None:
    """DSP-01's orders accepted outside any session and DED-01's penalties that name no
    order are counted in a published comparison only when at least k workers stand behind
    them; each group's appeal rate is published for the two groups compared alone."""
    tables = {name: t.to_pandas() for name, t in group_base.tables.items()}
    s, d = tables["sessions"], tables["deductions"]
    offline = sorted(s["worker_id"].unique())[:n]  # their orders are outside any session
    tables["sessions"] = s[~s["worker_id"].isin(offline)]
    penalties = d[d["category"] == "penalty"].drop_duplicates("worker_id").index[:n]
    d.loc[penalties, "order_id"] = "no-such-order"
    result = audit(_rewritten(group_base, tables, tmp_path), DEFAULT, checks=["DSP-01", "DED-01"])
    dsp = [f for f in result.findings if f.check == "DSP-01" and f.estimate is not None]
    rates = [f for f in result.findings if f.metric == "penalty_rate_ratio" and f.estimate]
    assert dsp and rates
    for f in dsp:
        count = f.data["orders_outside_sessions"]
        if n < K:
            assert count is None
            assert "Not counted: orders of fewer than 10 workers accepted outside" in f.detail
        else:
            assert count > 0 and f"Not counted: {count:,} orders accepted outside" in f.detail
    for f in rates:
        unlinked = f.data["penalties_not_linked"]
        if n < K:
            assert unlinked is None
            assert "Not counted: penalties of fewer than 10 workers that name no" in f.detail
        else:
            assert unlinked == n and f"Not counted: {n:,} penalties that name no" in f.detail
        assert set(f.data["appeal_rate"]) <= {f.subject["group"], f.subject["reference"]}


# --- figures and sentences ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("workers", "drawn"),
    [
        (None, []),  # workers not known: every service is a small cell
        ({"food_delivery": 14, "ride": 2}, ["food_delivery"]),
        ({"food_delivery": 14, "ride": 10}, ["food_delivery", "ride"]),
    ],
)
def test_price_leads_draw_a_service_only_with_k_workers(
    small: Audited, workers: dict[str, int] | None, drawn: list[str]
) -> None:
    data: dict[str, Any] = {"leads": 22, "leads_by_service": {"food_delivery": 17, "ride": 5}}
    if workers is not None:
        data["lead_workers_by_service"] = workers
    lead = Finding(check="PRC-02", status=Status.INCONCLUSIVE, title="leads", data=data)
    result = dataclasses.replace(small.result, findings=(lead,))
    fig = build_figures(result, labels("en"))["price_leads"]
    assert list(fig.figure.data[0].x) == drawn
    assert fig.suppressed == 2 - len(drawn) and fig.empty == (not drawn)
    page = render_html(result, "en").replace(get_plotlyjs(), "")
    if not drawn:
        assert "2 cells with fewer than 10 workers are suppressed" in page
        assert 'id="fig-price-leads"' not in page


@pytest.mark.parametrize(("k", "shown"), [(1, True), (10, False)])
def test_group_checks_withhold_orders_left_out_by_few_workers(
    tmp_path: Path, k: int, shown: bool
) -> None:
    """Three workers' completed orders lose their distance, so PAY-02, FEE-05, PRC-01 and
    PRC-02 leave them out of comparable work. The count of those orders is one of three
    workers' facts: published at k = 1, withheld (null, and not in the detail) at k = 10."""
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    folder = tmp_path / "undistanced"
    folder.mkdir()
    for path in demo.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    orders = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    three = sorted(orders["worker_id"].unique())[:3]
    hit = orders["worker_id"].isin(three) & (orders["status"] == "completed")
    orders.loc[hit, "distance_km"] = ""
    orders.to_csv(folder / "orders.csv", index=False)
    n_hit = int(hit.sum())
    assert n_hit > 20
    config = AuditConfig.from_dict({"report": {"min_cell_workers": k}})
    result = audit(folder, config, checks=["PAY-02", "FEE-05", "PRC-01", "PRC-02"])
    checked = [f for f in result.findings if f.data is not None]
    published = {f.check for f in checked if f.data.get("orders_excluded") == n_hit}
    assert published == ({"PAY-02", "FEE-05", "PRC-01", "PRC-02"} if shown else set())
    for finding in checked:
        assert finding.data.get("orders_excluded") in ((n_hit, None) if shown else (None,))
        assert shown or f"{n_hit:,} orders" not in finding.detail, finding.check
    words = [f for f in checked if f"Not compared: {n_hit:,} orders" in f.detail]
    assert bool(words) == shown
