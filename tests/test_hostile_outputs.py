"""Hostile input, hostile moments: every output stays valid in its format whatever the data
holds; CSV cells cannot run as spreadsheet formulas; ``--out`` is replaced as a whole or
not at all; Ctrl-C ends with exit 130 and one line."""

from __future__ import annotations

import csv
import dataclasses
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from conftest import DEMO, DEMO_CONFIG, good_order, write_csv
from plotly.offline import get_plotlyjs

import auditor
from auditor import cli
from auditor.checks import Finding, Severity, Status
from auditor.errors import PackageError
from auditor.report import render_html, render_junit, render_markdown
from auditor.report._escape import FORMULA_START, formula_safe_cell, visible

# Characters no text output may carry raw: every C0 control but the line feed the renderers
# lay lines out with, DEL, C1, bidirectional controls, line separators, non-characters,
# surrogates.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029\ufffe\uffff\ud800-\udfff]"
)
# Characters XML 1.0 allows (the Char production).
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

HOSTILE = {
    "every_c0_control": "c0 " + "".join(chr(c) for c in range(0x20)) + " end",
    "del": "del \x7f end",
    "every_c1_control": "c1 " + "".join(chr(c) for c in range(0x80, 0xA0)) + " end",
    "zone_with_controls": "F\x01\x08\x0b",
    "ansi_colour": "ios\x1b[31m",
    "lone_surrogates": "pkg\udcff\ud800",
    "cdata_end": "a]]>b",
    "script_tag": "<script>alert(1)</script>",
    "pipes": "a|b||c",
    "newlines": "line1\nline2\r\nline3",
    "bidi_override": "abc\u202edcba",
    "non_characters": "x\ufffey\uffff",
    "line_separators": "a\u2028b\u2029c",
    "backslash_and_pipe": "back\\|slash\\",
}


def hostile_result(base: auditor.AuditResult, value: str) -> auditor.AuditResult:
    """``base`` with ``value`` as its package name, a table's file name, an ignored file, a
    ``[basis]`` text, and the group, sentence and basis of a fail, an inconclusive and a
    not-assessed finding."""
    extra = (
        Finding(
            check="DSP-01", status=Status.FAIL, severity=Severity.HIGH, title="Offers alike",
            metric="offer_rate_ratio", estimate=0.8, ci=(0.7, 0.9), p_adjusted=0.01,
            subject={"attribute": "gender", "group": value, "reference": "M"},
            detail=f"gender={value} workers got 0.8 times the offers", basis=f"rule {value}",
            n_workers=40,
        ),
        Finding(
            check="PRC-01", status=Status.INCONCLUSIVE, title="Prices alike",
            metric="price_ratio", estimate=1.1, ci=(0.9, 1.3),
            subject={"attribute": "customer_segment", "group": value, "reference": "android"},
            detail=f"{value} customers paid 1.1 times",
        ),
        Finding(
            check="HRS-01", status=Status.NOT_ASSESSED, title="Hours", missing=(value,),
            detail=f"needs {value}",
        ),
    )  # fmt: skip
    return dataclasses.replace(
        base,
        package_name=value,
        findings=base.findings + extra,
        tables={n: dataclasses.replace(t, file=f"{value}.csv") for n, t in base.tables.items()},
        ignored_files=(value,),
        config={**base.config, "basis": {**base.config.get("basis", {}), "DSP-01": value}},
    )


@pytest.fixture(scope="module")
def small_result(tmp_path_factory: pytest.TempPathFactory) -> auditor.AuditResult:
    """The audit of 20 valid orders (run once for the module)."""
    folder = tmp_path_factory.mktemp("small") / "pkg"
    write_csv(folder, "orders", [good_order(i) for i in range(20)])
    return auditor.audit(folder)


def table_blocks(markdown: str) -> list[list[str]]:
    """The Markdown tables of ``markdown``: runs of lines that start with ``|``."""
    blocks: list[list[str]] = []
    previous = False
    for line in markdown.split("\n"):
        if line.startswith("|"):
            if not previous:
                blocks.append([])
            blocks[-1].append(line)
        previous = line.startswith("|")
    return blocks


def cell_count(row: str) -> int:
    """Cells in a Markdown table row: pipes not escaped by an odd run of backslashes."""
    pipes = sum(len(m.group(1)) % 2 == 0 for m in re.finditer(r"(\\*)\|", row))
    return pipes - 1


# 1. Every text output is valid in its format whatever the data holds.


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_junit_is_well_formed_xml_1_0(small_result: auditor.AuditResult, value: str) -> None:
    result = hostile_result(small_result, value)
    text = render_junit(result)
    assert not NOT_XML_CHAR.search(text) and not FORBIDDEN.search(text)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("name") == f"auditor {visible(value)}"
    names = [case.get("name", "") for case in root.iter("testcase")]
    assert any(visible(value) in name for name in names)
    failure = next(
        c for c in root.iter("testcase") if c.get("classname") == "auditor.DSP-01" and
        visible(value) in c.get("name", "")
    ).find("failure")  # fmt: skip
    assert failure is not None
    assert f"rule {visible(value)}" in (failure.text or "")
    assert failure.get("message") == f"gender={visible(value)} workers got 0.8 times the offers"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_summary_md_has_no_control_characters_and_whole_table_rows(
    small_result: auditor.AuditResult, value: str, lang: str
) -> None:
    text = render_markdown(hostile_result(small_result, value), lang)
    assert not FORBIDDEN.search(text)
    assert "<script" not in text
    blocks = table_blocks(text)
    assert len(blocks) == 3  # counts, open findings, row accounting
    for block in blocks:
        assert all(line.endswith("|") for line in block), block
        assert {cell_count(line) for line in block} == {cell_count(block[0])}, block
    open_before = sum(f.status in (Status.FAIL, Status.INCONCLUSIVE) for f in small_result.findings)
    assert len(blocks[1]) == 2 + open_before + 2  # header and rule, then DSP-01 and PRC-01 too


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "value",
    [HOSTILE[k] for k in ("every_c0_control", "every_c1_control", "ansi_colour",
                          "lone_surrogates", "script_tag", "bidi_override", "newlines")],
    ids=["every_c0_control", "every_c1_control", "ansi_colour", "lone_surrogates",
         "script_tag", "bidi_override", "newlines"],
)  # fmt: skip
def test_report_html_has_no_control_characters(
    small_result: auditor.AuditResult, value: str, lang: str
) -> None:
    page = render_html(hostile_result(small_result, value), lang)
    ours = page.replace(get_plotlyjs(), "")  # minified plotly.js holds two control bytes
    assert not FORBIDDEN.search(ours)
    assert "<script>alert(1)" not in ours
    assert visible(value).replace("<", "&lt;").replace(">", "&gt;") in ours
    page.encode("utf-8")  # strict: nothing left that UTF-8 cannot hold


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_output_is_written_and_decodes(
    small_result: auditor.AuditResult, value: str, tmp_path: Path
) -> None:
    """Writing never raises (a lone surrogate included); findings.json keeps the exact value."""
    result = hostile_result(small_result, value)
    names = cli._write_outputs(result, tmp_path, "findings.json")
    names += cli._write_reports(result, tmp_path, "en", "high", html_report=False)
    assert set(names) == {"findings.json", "quarantine.csv", "leads.csv", "owed.csv",
                          "statistics.csv", "indicators.csv", "summary.md",
                          "junit.xml"}  # fmt: skip
    for name in names:
        (tmp_path / name).read_bytes().decode("utf-8")  # strict
    doc = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert doc["package"]["name"] == value
    assert doc["config"]["basis"]["DSP-01"] == value
    ET.parse(tmp_path / "junit.xml")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("F\x01\x08\x0b", "F\\x01\\x08\\x0b"),
        ("ios\x1b[31m", "ios\\x1b[31m"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x7f\x85\x9f", "\\x7f\\x85\\x9f"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("\ud800", "\\ud800"),
        ("中文 é ok", "中文 é ok"),
    ],
)
def test_visible_writes_invisible_characters_as_escapes(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert visible("a\nb\x01", keep_newlines=True) == "a\nb\\x01"


# 2. Formula-safe CSV.


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x.test/")', '\'=HYPERLINK("http://x.test/")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tZ08", "'\tZ08"),
        ("\rZ09", "'\rZ09"),
        ("\nZ10", "'\nZ10"),
        ("'quoted", "''quoted"),  # so that removing one leading ' always gives the original
        ("-", "'-"),
        ("-2.5", "-2.5"),  # text that is a plain number: a spreadsheet reads the number
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("O000000001", "O000000001"),
        ("a=b", "a=b"),
        ("", ""),
        (-2.5, -2.5),
        (7, 7),
        (None, None),
    ],
)
def test_formula_safe_cell(cell: object, written: object) -> None:
    assert formula_safe_cell(cell) == written


# Cells for quarantine.csv and leads.csv: formulas, a plain number, and text that CSV must
# quote (a lone carriage return inside a cell included).
FORMULAS = ['=HYPERLINK("http://x.test/")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
            "\tZ08", "\rZ09", "'quoted", "-2.5", "plain", "mid\rcell",
            'say "hi", ok\r\n']  # fmt: skip


def assert_formula_safe(path: Path, originals: dict[str, list[str]]) -> None:
    """Every cell of ``path`` either starts with no formula character, or is a plain number,
    or starts with the added ``'`` followed by the original value (``originals``: column ->
    the values written, in row order)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for i, row in enumerate(rows):
        for column, cell in row.items():
            if cell.startswith(FORMULA_START) and cell[:1] != "'":
                assert PLAIN_NUMBER.fullmatch(cell), (column, cell)
            if column in originals:
                original = originals[column][i]
                assert cell == (original if original == formula_safe_cell(original) else
                                "'" + original), (column, cell)  # fmt: skip
                if cell.startswith("'"):
                    assert cell[1:] == original


def test_quarantine_and_leads_csv_are_formula_safe(
    small_result: auditor.AuditResult, tmp_path: Path
) -> None:
    n = len(FORMULAS)
    quarantine = pd.DataFrame(
        {
            "table": ["orders"] * n,
            "row": range(1, n + 1),
            "key": FORMULAS,
            "column": ["zone"] * n,
            "reason": ["invalid_category"] * n,
            "value": list(reversed(FORMULAS)),
        }
    )
    leads = pd.DataFrame(
        {
            "check": ["PRC-02"] * n,
            "rank": range(1, n + 1),
            "order_id": FORMULAS,
            "service": ["ride"] * n,
            "zone": list(reversed(FORMULAS)),
            "customer_price": [-2.5] * n,
            "price_vs_typical": [0.5] * n,
            "robust_z": [-2.5 - i for i in range(n)],
        }
    )
    finding = Finding(
        check="PRC-02", status=Status.INCONCLUSIVE, title="Leads", detail="leads", evidence=leads
    )
    result = dataclasses.replace(
        small_result, quarantine=quarantine, findings=(*small_result.findings, finding)
    )
    cli._write_outputs(result, tmp_path, "findings.json")
    assert_formula_safe(
        tmp_path / "quarantine.csv", {"key": FORMULAS, "value": list(reversed(FORMULAS))}
    )
    assert_formula_safe(
        tmp_path / "leads.csv", {"order_id": FORMULAS, "zone": list(reversed(FORMULAS))}
    )
    with (tmp_path / "leads.csv").open(encoding="utf-8", newline="") as fh:
        written = list(csv.DictReader(fh))
    assert [r["robust_z"] for r in written] == [f"{-2.5 - i:.6g}" for i in range(n)]
    assert {r["customer_price"] for r in written} == {"-2.5"}  # numbers are not neutralised


# 1 and 2 end to end: the demo with hostile names, IDs and basis, through the command line.


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``auditor run`` of the demo with order IDs like ``=HYPERLINK(...)``, zones like
    ``+cmd|...`` and ``@SUM(...)``, gender group ``F\\x01\\x08\\x0b``, customer segment
    ``ios\\x1b[31m``, two quarantined values (``-2+3``, ``-2.5``) and a ``[basis]`` text with
    ``\\u0001``, ``]]>`` and ``<script>``; returns the output folder."""
    root = tmp_path_factory.mktemp("hostile-run")
    package = root / "pkg"
    package.mkdir()
    for path in DEMO.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "order_id" in frame:
            frame["order_id"] = frame["order_id"].map(
                lambda v: f'=HYPERLINK("http://x.test/{v}")' if v else v
            )
        for col in ("pickup_zone", "dropoff_zone", "zone", "home_zone"):
            if col in frame:
                frame[col] = frame[col].replace({"Z03": "+cmd|' /C calc'!A0", "Z05": "@SUM(1+1)"})
        if "gender" in frame:
            frame["gender"] = frame["gender"].replace("F", "F\x01\x08\x0b")
        if "customer_segment" in frame:
            frame["customer_segment"] = frame["customer_segment"].replace("ios", "ios\x1b[31m")
        if path.name == "orders.csv":
            frame.loc[1, "customer_price"] = "-2+3"
            frame.loc[2, "worker_pay"] = "-2.5"
        frame.to_csv(package / path.name, index=False)
    config = re.sub(
        r'^DSP-01 = ".*"$',
        lambda _: r'DSP-01 = "fair dispatch \u0001\u001b[31m ]]> <script>x</script> | a"',
        DEMO_CONFIG.read_text(encoding="utf-8"),
        flags=re.M,
    )
    assert "\\u0001" in config
    (root / "hostile.toml").write_text(config, encoding="utf-8")
    out = root / "out"
    code = cli.main(["run", str(package), "--config", str(root / "hostile.toml"), "--out",
                     str(out), "--quiet", "--fail-on", "never"])  # fmt: skip
    assert code == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["junit.xml", "summary.md", "report.html"])
def test_hostile_run_text_outputs_are_clean(hostile_run: Path, name: str) -> None:
    text = (hostile_run / name).read_text(encoding="utf-8").replace(get_plotlyjs(), "")
    assert not FORBIDDEN.search(text)
    assert "F\\x01\\x08\\x0b" in text.replace("\\\\", "\\")  # Markdown doubles the backslash
    assert "<script>x" not in text
    if name == "junit.xml":
        root = ET.parse(hostile_run / name).getroot()
        bodies = " ".join(f.text or "" for f in root.iter("failure"))
        cases = " ".join(c.get("name", "") for c in root.iter("testcase"))
        assert "ios\\x1b[31m" in cases
        if "DSP-01" in bodies:
            assert "fair dispatch \\x01\\x1b[31m ]]> <script>x</script>" in bodies
    if name == "report.html":  # the [basis] text, in the configuration dump
        assert "fair dispatch \\u0001\\u001b[31m ]]&gt; &lt;script&gt;" in text


@pytest.mark.slow
def test_hostile_run_findings_json_keeps_exact_values(hostile_run: Path) -> None:
    doc = json.loads((hostile_run / "findings.json").read_text(encoding="utf-8"))
    assert doc["config"]["basis"]["DSP-01"].startswith("fair dispatch \x01\x1b[31m ]]>")
    groups = {f["subject"].get("group") for f in doc["findings"]}
    assert {"F\x01\x08\x0b", "ios\x1b[31m"} <= groups


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "column", "prefix"),
    [
        ("leads.csv", "order_id", "'=HYPERLINK("),
        ("quarantine.csv", "key", "'=HYPERLINK("),
    ],
)
def test_hostile_run_csv_outputs_are_formula_safe(
    hostile_run: Path, name: str, column: str, prefix: str
) -> None:
    with (hostile_run / name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r[column].startswith(prefix) for r in rows)
    for row in rows:
        for cell in row.values():
            assert (
                not cell.startswith(FORMULA_START)
                or cell[0] == "'"
                or (PLAIN_NUMBER.fullmatch(cell))
            ), cell
    if name == "quarantine.csv":
        values = {r["value"] for r in rows}
        assert "'-2+3" in values
        assert any(v.startswith("-") and PLAIN_NUMBER.fullmatch(v) for v in values)  # -2.5
    else:
        zones = {r["zone"] for r in rows}
        assert zones & {"'+cmd|' /C calc'!A0", "'@SUM(1+1)"}


# 3. The output folder is replaced as a whole, or not at all.


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_complete(out: Path, command: str | None = None) -> dict[str, Any]:
    """``out`` holds exactly what its manifest lists (SHA-256s match) besides files auditor
    does not write, and no staging folder is left next to it or in it."""
    manifest = json.loads((out / cli.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tool"] == "auditor"
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    ours = {n for n in cli.OUTPUT_NAMES if (out / n).exists()}
    assert ours == {*manifest["files"], cli.MANIFEST}
    assert not list(out.parent.glob("*.partial")) and not list(out.glob("*.partial"))
    if command is not None:
        assert manifest["command"][1] == command
    return manifest


def run(*args: object) -> int:
    return cli.main([str(a) for a in args] + ["--quiet", "--fail-on", "never"])


@pytest.mark.parametrize(
    ("first", "second", "gone"),
    [
        (
            "run",
            "validate",
            {
                "findings.json",
                "leads.csv",
                "owed.csv",
                "statistics.csv",
                "indicators.csv",
                "report.html",
            },
        ),
        ("validate", "run", {"validation.json"}),
        ("run", "run", set()),
    ],
)
def test_a_new_run_replaces_the_earlier_outputs_as_a_whole(
    package: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    first: str,
    second: str,
    gone: set[str],
) -> None:
    out = tmp_path / "out"
    assert run(first, package, "--out", out) == 0
    (out / "notes.txt").write_text("mine")  # a file auditor did not write: kept
    assert_complete(out, first)
    capsys.readouterr()
    assert run(second, package, "--out", out) == 0
    manifest = assert_complete(out, second)
    expected = set(cli.RUN_OUTPUTS if second == "run" else cli.VALIDATE_OUTPUTS)
    assert set(manifest["files"]) == expected
    assert not any((out / n).exists() for n in gone)
    assert (out / "notes.txt").read_text() == "mine"
    printed = capsys.readouterr().out
    assert ("Removed the earlier run's outputs" in printed) == bool(gone)


def test_findings_json_stays_byte_identical_beside_the_manifest(
    package: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run("run", package, "--out", out) == 0
    first = (out / "findings.json").read_bytes()
    digest = assert_complete(out)["files"]["findings.json"]["sha256"]
    assert run("run", package, "--out", out) == 0
    assert (out / "findings.json").read_bytes() == first
    assert assert_complete(out)["files"]["findings.json"]["sha256"] == digest


def _unusable_package(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_csv(package, "orders", [{k: v for k, v in good_order(1).items() if k != "worker_pay"}])


def _crash_while_rendering(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("auditor.report.render_junit", broken)


def _interrupt_while_rendering(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("auditor.report.render_markdown", interrupted)


def _sigint_as_the_staging_folder_appears(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SIGINT the instant the staging folder exists (what CI once met: the folder
    was left behind)."""
    real = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        made = real(*args, **kwargs)
        if made.endswith(".partial"):
            os.kill(os.getpid(), signal.SIGINT)
        return made

    monkeypatch.setattr(cli.tempfile, "mkdtemp", mkdtemp)


def _disk_full_while_moving_in(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace
    calls = []

    def replace(src: Any, dst: Any) -> None:
        calls.append(src)
        if len(calls) == 9:  # the earlier outputs are aside, some new ones are in place
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(cli.os, "replace", replace)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (_unusable_package, 2),
        (_crash_while_rendering, 3),
        (_interrupt_while_rendering, 130),
        (_sigint_as_the_staging_folder_appears, 130),
        (_disk_full_while_moving_in, 2),
    ],
    ids=["unusable_package", "crash_while_rendering", "interrupt_while_rendering",
         "sigint_as_the_staging_folder_appears", "disk_full_while_moving_in"],
)  # fmt: skip
def test_a_failed_run_leaves_the_earlier_outputs_as_they_were(
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failure: Callable[[Path, pytest.MonkeyPatch], None],
    code: int,
) -> None:
    out = tmp_path / "out"
    assert run("validate", package, "--out", out) == 0
    before = snapshot(out)
    capsys.readouterr()
    failure(package, monkeypatch)
    assert run("run", package, "--out", out) == code
    assert snapshot(out) == before
    assert_complete(out, "validate")
    err = capsys.readouterr().err
    assert err.startswith("auditor: ") and "Traceback" not in err
    if code == 130:
        assert err == "auditor: interrupted\n"
    if code == 2 and failure is _disk_full_while_moving_in:
        assert f"--out {out}: cannot write the outputs there: No space left on device" in err


def _inside_package(tmp_path: Path, package: Path) -> Path:
    return package / "audit-output"


def _the_package_itself(tmp_path: Path, package: Path) -> Path:
    return package / "." / ".." / package.name


def _a_file(tmp_path: Path, package: Path) -> Path:
    (tmp_path / "out").write_text("not a folder")
    return tmp_path / "out"


def _under_a_file(tmp_path: Path, package: Path) -> Path:
    (tmp_path / "file").write_text("not a folder")
    return tmp_path / "file" / "out"


def _foreign_summary(tmp_path: Path, package: Path) -> Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.md").write_text("my own notes")
    return tmp_path / "out"


def _read_only(tmp_path: Path, package: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root may write to a read-only folder")
    (tmp_path / "out").mkdir()
    (tmp_path / "out").chmod(0o555)
    return tmp_path / "out"


@pytest.mark.parametrize(
    ("make_out", "says"),
    [
        (_inside_package, "is inside the package folder"),
        (_the_package_itself, "is inside the package folder"),
        (_a_file, "this is a file, not a folder"),
        (_under_a_file, "is a file, so the output folder cannot be created"),
        (_foreign_summary, "holds summary.md, which auditor did not write"),
        (_read_only, "is not writable"),
    ],
    ids=["inside_package", "the_package_itself", "a_file", "under_a_file",
         "foreign_summary", "read_only"],
)  # fmt: skip
def test_an_unusable_output_folder_exits_2_before_any_work(
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make_out: Callable[[Path, Path], Path],
    says: str,
) -> None:
    out = make_out(tmp_path, package)
    before_package, before_tmp = snapshot(package), snapshot(tmp_path)

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the audit ran")

    monkeypatch.setattr(cli.Audit, "run", no_work)
    try:
        assert run("run", package, "--out", out) == 2
    finally:
        if make_out is _read_only:
            out.chmod(0o755)
    err = capsys.readouterr().err
    assert err.startswith(f"auditor: error: --out {out}: ") and says in err
    assert "Traceback" not in err and "--out" in err.split(says, 1)[1]
    assert snapshot(package) == before_package and snapshot(tmp_path) == before_tmp


@pytest.mark.parametrize("errno_", [errno.EACCES, errno.EROFS], ids=["EACCES", "EROFS"])
def test_a_folder_that_cannot_be_written_at_the_end_exits_2(
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    errno_: int,
) -> None:
    """The folder passed the first check but cannot be written when the outputs are."""

    def refuse(*args: object, **kwargs: object) -> Path:
        raise OSError(errno_, os.strerror(errno_), str(tmp_path))

    monkeypatch.setattr(cli, "_staging_folder", refuse)
    assert run("run", package, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'out'}: cannot write the outputs there: " in err
    assert os.strerror(errno_) in err and "choose another folder with --out" in err
    assert not (tmp_path / "out").exists()


def test_outputs_of_an_auditor_from_before_manifests_are_replaced(
    package: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run("run", package, "--out", out) == 0
    (out / cli.MANIFEST).unlink()  # as an earlier version left it
    assert run("validate", package, "--out", out) == 0
    assert not (out / "findings.json").exists() and not (out / "report.html").exists()
    assert_complete(out, "validate")


# 4. Ctrl-C always ends with exit 130 and one line.


def _raise(exc: BaseException) -> Callable[..., None]:
    def raising(*args: object, **kwargs: object) -> None:
        raise exc

    return raising


def _wrapped_interrupt() -> PackageError:
    try:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    except duckdb.Error as exc:
        try:
            raise PackageError("orders.csv: cannot read the file: Interrupted!") from exc
        except PackageError as wrapped:
            return wrapped


def _swallowed_sigint(*args: object, **kwargs: object) -> None:
    """As DuckDB does: a SIGINT during a query is caught, and the query goes on."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)  # the handler runs here
    except KeyboardInterrupt:
        pass


@pytest.mark.parametrize(
    "pipeline",
    [
        _raise(KeyboardInterrupt()),
        _raise(RuntimeError("Query interrupted")),
        _raise(duckdb.InterruptException("INTERRUPT Error: Interrupted!")),
        _raise(_wrapped_interrupt()),
        _swallowed_sigint,
    ],
    ids=["keyboard_interrupt", "duckdb_query_interrupted", "duckdb_interrupt_exception",
         "interrupt_wrapped_in_package_error", "sigint_swallowed_by_a_library"],
)  # fmt: skip
def test_every_kind_of_interrupt_exits_130_with_one_line(
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pipeline: Callable[..., None],
) -> None:
    out = tmp_path / "out"
    assert run("validate", package, "--out", out) == 0
    before = snapshot(out)
    capsys.readouterr()
    monkeypatch.setattr("auditor.pipeline.validate_package", pipeline)
    handler = signal.getsignal(signal.SIGINT)
    assert run("run", package, "--out", out) == 130
    assert signal.getsignal(signal.SIGINT) == handler  # main gave SIGINT back
    assert capsys.readouterr().err == "auditor: interrupted\n"
    assert snapshot(out) == before


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A simulated package (300 workers, 14 days) and an output folder holding a complete
    earlier run (of the small package)."""
    root = tmp_path_factory.mktemp("sigint")
    package = root / "sim"
    assert cli.main(["simulate", str(package), "--workers", "300", "--days", "14"]) == 0
    small = root / "small"
    write_csv(small, "orders", [good_order(i) for i in range(20)])
    previous = root / "previous"
    assert run("run", small, "--out", previous) == 0
    return package, previous


READY = "import sys, auditor.cli; print('ready', flush=True); sys.exit(auditor.cli.main())"


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["0.2", "1.0", "3.0", "writing"])
def test_sigint_during_a_run_exits_130_and_leaves_no_mix(
    simulated: tuple[Path, Path], tmp_path: Path, moment: str
) -> None:
    """SIGINT a real ``auditor run`` at a few moments (seconds after auditor has imported,
    or once its staging folder appears). The child prints "ready" once its imports are done:
    a SIGINT during Python's imports is outside auditor's reach (see docs/report.md)."""
    package, previous = simulated
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = snapshot(out)
    proc = subprocess.Popen(
        [sys.executable, "-c", READY, "run", str(package), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    if moment == "writing":
        deadline = time.monotonic() + 300
        while not list(tmp_path.glob(".out.auditor-*.partial")) and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    else:
        time.sleep(float(moment))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert err.splitlines() == ["auditor: interrupted"] and "Traceback" not in err
    after = snapshot(out)
    if after != before:  # the interrupt came while the new outputs were moving in
        manifest = assert_complete(out, "run")
        assert set(manifest["files"]) == set(cli.RUN_OUTPUTS)
    assert_complete(out)


LATE = (
    "import os, signal, sys, time, auditor.cli as c; sys.argv = ['auditor', 'schema', "
    "'findings']; code = c.main(); os.kill(os.getpid(), signal.SIGINT); time.sleep(30); "
    "sys.exit(code)"
)


def test_sigint_after_the_command_finished_still_exits_130_with_one_line() -> None:
    """The console script's ``main()`` has returned 0 and the process is on its way out
    when Ctrl-C arrives: exit 130 at once, one line, no traceback from the shutdown."""
    proc = subprocess.run(
        [sys.executable, "-c", LATE], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 130
    assert proc.stderr == "auditor: interrupted\n"
    assert json.loads(proc.stdout)["$schema"].endswith("2020-12/schema")  # output flushed


def test_importing_auditor_loads_no_engine() -> None:
    """``import auditor`` is light, so that the console script handles Ctrl-C before the
    heavy libraries load (``auditor._entry``)."""
    code = "import sys, auditor; print(sorted({'pandas', 'ibis', 'duckdb'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sigint_while_the_command_line_loads_exits_130_with_one_line(tmp_path: Path) -> None:
    """A Ctrl-C in the second the console script spends loading pandas, Ibis and DuckDB."""
    script = "import sys; from auditor._entry import main; sys.exit(main())"
    demo = Path(__file__).parents[1] / "fixtures" / "demo"
    args = [sys.executable, "-c", script, "validate", str(demo), "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err.strip() == "auditor: interrupted"
