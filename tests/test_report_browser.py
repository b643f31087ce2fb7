"""report.html in a real browser: headless Chromium (Debian's ``chromium``, installed by
``.ci/run``) driven by Playwright. No console error, no network request, every plot
rendered, no script from the data runs; a screenshot goes to the test's temp folder.

Without Chromium the tests skip, unless ``AUDITOR_REQUIRE_BROWSER=1`` (set by ``.ci/run``)
makes a missing browser a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import auditor

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
CONFIG = ROOT / "audit_config.toml"
CHROMIUM = os.environ.get("AUDITOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: without the background-networking ones Chromium keeps trying
# to reach Google's hosts, which would show up as requests.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _browser_or_skip() -> Any:
    required = os.environ.get("AUDITOR_REQUIRE_BROWSER") == "1"
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[test]')"
    if problem is None and not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if problem is not None:
        if required:
            pytest.fail(f"AUDITOR_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser: Any, page_path: Path) -> tuple[Any, dict[str, list[str]]]:
    events: dict[str, list[str]] = {"console": [], "pageerror": [], "request": [], "dialog": []}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on(
        "console",
        lambda m: (
            events["console"].append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: events["pageerror"].append(str(e)))
    page.on(
        "request",
        lambda r: (
            events["request"].append(r.url)
            if not r.url.startswith(("file:", "data:", "about:", "blob:"))
            else None
        ),
    )

    def on_dialog(dialog: Any) -> None:
        events["dialog"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('div.plotly-graph-div')]"
        ".every(d => d.querySelector('svg.main-svg'))",
        timeout=30_000,
    )
    return page, events


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_chromium(
    browser: Any, demo_result: auditor.AuditResult, tmp_path: Path, lang: str
) -> None:
    # The same text `auditor run` writes (tests/test_report.py checks the CLI writes it).
    (tmp_path / "report.html").write_text(demo_result.report_html(lang), encoding="utf-8")
    page, events = _open(browser, tmp_path / "report.html")
    assert events["console"] == [] and events["pageerror"] == [], events
    assert events["request"] == [], "the report fetched from the network"
    plots = page.eval_on_selector_all(
        "div.plotly-graph-div",
        "els => els.map(e => ({id: e.id, svg: e.querySelectorAll('svg.main-svg').length,"
        " marks: e.querySelectorAll('g.trace, g.boxlayer path, g.shapelayer path').length,"
        " height: e.getBoundingClientRect().height}))",
    )
    expected = {
        "fig-take-rate-distribution", "fig-daily-take-rate", "fig-hourly-earnings",
        "fig-online-hours", "fig-fairness-forest", "fig-pricing-forest", "fig-price-leads",
    }  # fmt: skip
    assert {p["id"] for p in plots} == expected
    for plot in plots:
        assert plot["svg"] >= 1 and plot["marks"] >= 1 and plot["height"] > 200, plot
    shot = tmp_path / f"report-{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()


def test_hostile_names_do_not_run(
    browser: Any, hostile_result: auditor.AuditResult, tmp_path: Path
) -> None:
    result = hostile_result
    out = tmp_path / "report.html"
    out.write_text(result.report_html("en"), encoding="utf-8")
    page, events = _open(browser, out)
    assert events["dialog"] == [], "a string from the data ran as script"
    assert events["pageerror"] == [] and events["console"] == [], events
    text = page.inner_text("body")
    assert "<img src=x onerror=alert(2)>" in text  # shown as text
    assert page.locator("img").count() == 0
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    page.close()
