"""Reports: report.html, summary.md and junit.xml publish aggregates only, escape what came
from the data, suppress small cells, and say what the findings say."""

from __future__ import annotations

import csv
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import HOSTILE_GROUP, HOSTILE_ZONE
from plotly.offline import get_plotlyjs

import auditor
from auditor.checks import Status
from auditor.cli import main
from auditor.report import build_figures, labels, render_html, render_junit, render_markdown

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
CONFIG = ROOT / "audit_config.toml"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-out")
    code = main(["run", str(DEMO), "--config", str(CONFIG), "--out", str(out), "--quiet"])
    assert code == 1  # the demo has high-severity fails and --fail-on defaults to high
    return out


def input_ids(package: Path) -> set[str]:
    """Every value of every *_id column in the package's CSV files."""
    ids: set[str] = set()
    for path in package.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                ids |= {v for k, v in row.items() if k.endswith("_id") and v}
    return ids


def test_run_writes_every_output(demo_out: Path) -> None:
    for name in ("findings.json", "report.html", "summary.md", "junit.xml", "quarantine.csv"):
        assert (demo_out / name).stat().st_size > 0, name


def test_no_input_id_or_raw_row_in_any_report(demo_out: Path) -> None:
    ids = input_ids(DEMO)
    assert len(ids) > 10_000  # orders, workers, customers, offers, sessions, payouts, ...
    with (DEMO / "orders.csv").open(encoding="utf-8") as fh:
        timestamps = set(re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", fh.read()))
    token = re.compile(r"[A-Za-z0-9_\-]+")
    for name in ("report.html", "summary.md", "junit.xml"):
        text = (demo_out / name).read_text(encoding="utf-8").replace(get_plotlyjs(), "")
        leaked = ids & set(token.findall(text))
        assert not leaked, f"{name} holds input IDs: {sorted(leaked)[:5]}"
        assert not any(t in text for t in timestamps), f"{name} holds a raw timestamp"


def test_report_is_self_contained_and_reproducible(demo_result: auditor.AuditResult) -> None:
    page = render_html(demo_result, "en")
    assert page == render_html(demo_result, "en")
    # No network fetch: plotly.js is inlined, and no src/href of ours points off the page
    # (the browser test watches for requests too).
    assert get_plotlyjs() in page
    ours = page.replace(get_plotlyjs(), "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", ours)
    assert "Plotly.newPlot" in page
    for section in ("summary", "data_quality", "fees", "pay_cutting", "earnings", "working_time",
                    "fairness", "pricing", "accountability", "platform_statistics",
                    "provenance"):  # fmt: skip
        assert f'id="{section}"' in page
    for name, table in demo_result.tables.items():
        assert table.sha256 in page, name
    assert demo_result.config_sha256 in page


def test_report_states_each_finding(demo_result: auditor.AuditResult) -> None:
    page = render_html(demo_result, "en")
    body = page[page.index("<body>") :]
    fails = [f for f in demo_result.findings if f.status == Status.FAIL]
    assert len(fails) == 15  # with ACC-01's three, CMP-01, FEE-07 and PAY-03 (cn-zhejiang)
    for f in fails:
        assert f.detail.replace("'", "&#x27;") in body


def test_chinese_report(demo_result: auditor.AuditResult) -> None:
    page = render_html(demo_result, "zh")
    assert '<html lang="zh-CN">' in page
    for words in ("平台审计报告", "数据质量", "公平性", "不合规", "抽成比例是否超过有效上限"):
        assert words in page
    # Each finding is read in Chinese from its numbers; the English sentence stays beside.
    prc = next(
        f for f in demo_result.findings if f.check == "PRC-01" and f.subject["group"] == "ios"
    )
    low, high = prc.ci  # type: ignore[misc]
    assert (
        f"可比订单价格之比：{prc.estimate:#.3g}（95% 置信区间 {low:#.3g} 至 {high:#.3g}）" in page
    )
    assert "数据不足以判定：既不能认定差异超出阈值，也不能认定差异在阈值以内" in page
    shift = next(f for f in demo_result.findings if f.check == "FEE-04" and f.estimate)
    assert 0.045 < shift.estimate < 0.055  # the planted 5-point step
    assert f"{100 * shift.estimate:+.1f} 个百分点" in page  # in percentage points
    assert "已隐去：比较的一方劳动者少于 10 人" in page
    assert "已隐去：共同可比范围内比较的一方有效劳动者少于 10 人" in page
    assert prc.detail in page
    # The numbers are formatted in the report layer: a Chinese date and money in 元.
    zh = labels("zh")
    assert zh.day("2026-03-09") == "2026年3月9日"
    assert zh.money(467.564) == "467.56元"
    assert labels("en").money(1234.5) == "1,234.50 CNY"
    with pytest.raises(ValueError, match="not one of en, zh"):
        labels("fr")


def test_small_cells_are_suppressed_and_counted(demo_result: auditor.AuditResult) -> None:
    k = demo_result.config["report"]["min_cell_workers"]
    figures = build_figures(demo_result, labels("en"))
    daily = demo_result.aggregates["daily_take_rate"]
    small = int((daily["workers"] < k).sum())
    assert small == 1  # the last day has two workers
    drawn = figures["daily_take_rate"]
    assert len(drawn.figure.data[0].x) == len(daily) - small
    assert drawn.suppressed == small
    bins = demo_result.aggregates["take_rate_bins"]
    hist = figures["take_rate_distribution"]
    assert len(hist.figure.data[0].y) == int((bins["workers"] >= k).sum())
    # Suppressed group comparisons have no point in the forest plot.
    forest = figures["fairness_forest"]
    points = sum(len(trace.x) for trace in forest.figure.data)
    ratio_checks = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "DED-01", "ACC-02")
    shown = [
        f for f in demo_result.findings if f.check in ratio_checks and f.estimate is not None
    ]  # fmt: skip
    assert points == len(shown)
    # (Fact findings whose breach touches fewer than k workers are suppressed too, and are
    # no part of the forest.)
    assert forest.suppressed == sum(
        1 for f in demo_result.findings if f.data.get("suppressed") and f.check in ratio_checks
    )
    page = render_html(demo_result, "en")
    assert f"1 cells with fewer than {k} workers are suppressed" in page


def test_junit_counts_failures(demo_out: Path, demo_result: auditor.AuditResult) -> None:
    root = ET.parse(demo_out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    failures = root.findall(".//testcase/failure")
    n_fail = sum(f.status == Status.FAIL for f in demo_result.findings)
    assert len(cases) == len(demo_result.findings)
    assert len(failures) == n_fail == int(root.get("failures", "-1"))
    assert int(root.get("tests", "-1")) == len(cases)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    fee_fails = [f.check for f in demo_result.findings if f.status == Status.FAIL and
                 f.check.startswith("FEE")]  # fmt: skip
    assert fee_fails == ["FEE-01", "FEE-03", "FEE-04", "FEE-06", "FEE-07", "FEE-08"]
    assert int(suites["FEE"].get("failures", "-1")) == len(fee_fails)
    assert int(suites["ACC"].get("failures", "-1")) == 3  # each requirement of ACC-01
    assert int(suites["CMP"].get("failures", "-1")) == 1
    messages = " ".join(f.get("message", "") for f in failures)
    assert "took more than the cap" in messages
    assert all(f.get("type", "").startswith("severity:") for f in failures)


def test_summary_md(demo_out: Path) -> None:
    text = (demo_out / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("# Platform audit report: demo")
    assert "exit code 1; --fail-on high" in text
    assert "| fail | 15 |" in text
    assert "| orders | 4,509 | 4,509 | 0 |" in text


def test_summary_md_in_chinese(demo_result: auditor.AuditResult) -> None:
    text = render_markdown(demo_result, "zh", fail_on="critical")
    assert text.startswith("# 平台审计报告: demo")
    assert "存在不合规发现，最高严重程度：高" in text and "低于 --fail-on 门槛" in text
    assert "| 不合规 | 15 |" in text
    assert "可比订单价格之比：1.08（95% 置信区间 1.03 至 1.12）" in text
    prc = next(
        f for f in demo_result.findings if f.check == "PRC-01" and f.subject["group"] == "ios"
    )
    assert f"约需 {prc.data['clusters_needed']:,} 名客户" in text  # the family's size sets it


def test_hostile_strings_are_escaped(hostile_result: auditor.AuditResult) -> None:
    subjects = {f.subject.get("group") for f in hostile_result.findings}
    assert HOSTILE_GROUP in subjects  # the hostile group is reported, not suppressed
    for lang in ("en", "zh"):
        page = render_html(hostile_result, lang)
        assert HOSTILE_GROUP not in page and HOSTILE_ZONE not in page
        assert "&lt;img src=x onerror=alert(2)&gt;" in page
        assert "alert(1)" not in page or "&lt;script&gt;alert(1)" in page
    md = render_markdown(hostile_result)
    assert "<img" not in md and "&lt;img src=x onerror=alert(2)&gt;" in md
    ET.fromstring(render_junit(hostile_result).encode("utf-8"))  # still well-formed


def test_validate_writes_ci_outputs(tmp_path: Path) -> None:
    code = main(["validate", str(DEMO), "--out", str(tmp_path), "--quiet"])
    assert code == 0
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests", "0")) == 35
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").count("| fail | 0 |") == 1


def test_audit_accepts_dataframes(demo_result: auditor.AuditResult) -> None:
    frames = {p.stem: pd.read_csv(p) for p in DEMO.glob("*.csv")}
    result = auditor.audit(frames, CONFIG)
    assert result.package_name == "dataframes"
    assert [f.to_dict() for f in result.findings] == [f.to_dict() for f in demo_result.findings]
    assert result.findings_frame.equals(demo_result.to_frame())
    assert set(result.figures()) >= {"take_rate_distribution", "fairness_forest"}
    with pytest.raises(auditor.UsageError, match='Did you mean "orders"'):
        auditor.audit({"order": frames["orders"]})
    with pytest.raises(auditor.UsageError, match="no 'orders'"):
        auditor.audit({"workers": frames["workers"]})
    mixed = frames["orders"].head(3).assign(worker_id=pd.Series([1, "W2", 3.5], dtype=object))
    with pytest.raises(auditor.UsageError, match=r"tables\['orders'\] cannot be stored"):
        auditor.audit({"orders": mixed})


def test_jupyter_faces(demo_result: auditor.AuditResult) -> None:
    page: Any = demo_result._repr_html_()
    assert "Audit of demo" in page and "<table" in page
    one = demo_result.findings[0]._repr_html_()
    assert "DQ-01" in one and "<table>" in one


@pytest.mark.parametrize("which", ["findings", "contract"])
def test_schema_command_prints_the_published_schema(
    which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from auditor.contract import contract_table_schema
    from auditor.findings import findings_json_schema

    assert main(["schema", which]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = findings_json_schema() if which == "findings" else contract_table_schema()
    assert printed == expected
    if which == "findings":
        assert printed["$schema"].endswith("2020-12/schema")
    else:
        assert {r["name"] for r in printed["resources"]} >= {"orders", "offers", "workers"}


def test_report_of_a_thin_package(package: Path, tmp_path: Path) -> None:
    """Orders and sessions of two workers: every cell is below the suppression threshold,
    most checks are not assessed, and the reports still render and say so."""
    out = tmp_path / "out"
    assert main(["run", str(package), "--out", str(out), "--quiet", "--fail-on", "never"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    result = auditor.audit(package)
    figures = build_figures(result, labels("en"))
    # Two workers: no histogram bin, day or time basis reaches ten workers.
    assert "hourly_earnings" not in figures
    for name in ("take_rate_distribution", "daily_take_rate", "online_hours"):
        if name in figures:
            assert figures[name].suppressed >= 1
            assert figures[name].empty  # every cell suppressed
            assert f'id="fig-{name.replace("_", "-")}"' not in page
    assert "not assessed" in page
    assert "cells with fewer than 10 workers are suppressed" in page
    ours = page.replace(get_plotlyjs(), "")  # minified plotly.js has a variable w1
    for name in ("w1", "w2"):
        assert not re.search(rf"\b{name}\b", ours)
    root = ET.parse(out / "junit.xml").getroot()
    assert (
        int(root.get("skipped", "0"))
        == sum(f.status == Status.NOT_ASSESSED for f in result.findings)
        > 0
    )


def test_figures_do_not_depend_on_row_order(
    demo_result: auditor.AuditResult, shuffled_demo_result: auditor.AuditResult
) -> None:
    """The figures are drawn from the same 12 significant digits as ``findings.json``: the
    demo with its rows shuffled draws the same figures, although its float sums (hours,
    kilometres, take) differ in their last bits."""
    words = labels("en")
    ours = build_figures(shuffled_demo_result, words)
    demo = build_figures(demo_result, words)
    assert set(ours) == set(demo) and "hourly_earnings" in demo and "daily_take_rate" in demo
    hours = shuffled_demo_result.worker_weeks.sort_values(["worker_id", "week_start"])
    demo_hours = demo_result.worker_weeks.sort_values(["worker_id", "week_start"])
    # The premise: the inputs of the figures do differ in their last bits.
    assert not (hours["engaged_hours"].to_numpy() == demo_hours["engaged_hours"].to_numpy()).all()
    for name, figure in demo.items():
        assert ours[name].figure.to_json() == figure.figure.to_json(), name


def test_forest_draws_a_group_with_no_events_at_the_axis_edge(
    demo_result: auditor.AuditResult,
) -> None:
    """A group offered nothing has a ratio of 0 (and one whose reference had no penalties, an
    infinite one): a log axis cannot place either, so they are drawn at its edge, pointing
    out, with their interval as far as the axis goes; the others as they are."""
    import dataclasses

    from auditor.report._figures import _forest

    shown = [f for f in demo_result.findings if f.check == "DSP-01" and f.estimate is not None]
    base = shown[0]
    none = dataclasses.replace(
        base, estimate=0.0, ci=(0.0, 0.02), status=Status.FAIL, severity="high"
    )
    endless = dataclasses.replace(base, estimate=math.inf, ci=(30.0, math.inf),
                                  subject={**base.subject, "group": "X"})  # fmt: skip
    figure = _forest("f", [base, none, endless], demo_result, labels("en"), 0, "t")
    assert figure is not None
    points = {
        (tr.name, y): (x, s)
        for tr in figure.figure.data
        for x, y, s in zip(tr.x, tr.y, tr.marker.symbol, strict=True)
    }
    xs = [x for x, _ in points.values()]
    lo, hi = min(xs), max(xs)
    assert 0.2 < lo < 1 < hi < 5
    symbols = sorted(s for _, s in points.values())
    assert symbols == ["circle", "triangle-left", "triangle-right"]
    for tr in figure.figure.data:
        for x, plus, minus in zip(tr.x, tr.error_x.array, tr.error_x.arrayminus, strict=True):
            assert lo <= x - minus and x + plus <= hi and plus >= 0 and minus >= 0
