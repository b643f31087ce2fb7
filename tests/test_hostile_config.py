"""Hostile configuration (issue on hostile input): values that passed validation and then
crashed (exit 3), reference groups that silently fell back to the largest group, and worker
IDs published as group labels.

Every bad value is a ConfigError (exit 2) whose message names the key and the value; a
group with fewer than ``[report] min_cell_workers`` workers is never named in anything
published.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import typing
import zoneinfo
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import DEMO, good_order, write_csv

import auditor
from auditor import AuditConfig, ConfigError, load_config
from auditor.checks._groups import public_labels
from auditor.cli import main
from auditor.engine import connect

OUTPUTS = ("findings.json", "summary.md", "junit.xml", "report.html")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit_config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _float_keys() -> list[tuple[str, str]]:
    """(section, key) of every float setting of the config dataclasses, by type hint."""
    out = []
    sections = typing.get_type_hints(AuditConfig)
    for section in dataclasses.fields(AuditConfig):
        cls = sections[section.name]
        if not dataclasses.is_dataclass(cls):
            continue
        hints = typing.get_type_hints(cls)
        out += [(section.name, f.name) for f in dataclasses.fields(cls) if hints[f.name] is float]
    return out


FLOAT_KEYS = _float_keys()


def test_every_float_setting_is_found() -> None:
    """The table below covers every float setting (13 today), those the issue names too."""
    assert ("audit", "alpha") in FLOAT_KEYS and ("hours", "min_break_minutes") in FLOAT_KEYS
    assert ("fairness", "materiality") in FLOAT_KEYS and len(FLOAT_KEYS) >= 13


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize(("section", "key"), FLOAT_KEYS)
def test_non_finite_numbers_are_refused_for_every_float_setting(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, f"[{section}]\n{key} = {value}\n"))
    message = str(info.value)
    assert f"[{section}] {key}" in message
    assert f"got {value}." in message
    assert "finite" in message


# (TOML text, key the message must name, value it must quote)
BAD_VALUES = [
    ('[audit]\ntimezone = "Mars/Olympus"\n', "[audit] timezone", "'Mars/Olympus'"),
    ("[audit]\nseed = -1\n", "[audit] seed", "-1"),
    ("[audit]\nalpha = 0.0\n", "[audit] alpha", "0.0"),
    ("[audit]\nalpha = 1.0\n", "[audit] alpha", "1.0"),
    ('[package]\nencoding = "punycode"\n', "[package] encoding", "'punycode'"),
    ('[package]\nencoding = "rot13"\n', "[package] encoding", "'rot13'"),
    ('[package]\nencoding = "base64"\n', "[package] encoding", "'base64'"),
    ('[package]\nencoding = "zlib"\n', "[package] encoding", "'zlib'"),
    ('[package]\nencoding = "hex"\n', "[package] encoding", "'hex'"),
    ('[package]\nencoding = "idna"\n', "[package] encoding", "'idna'"),
    ('[package]\nencoding = "unicode_escape"\n', "[package] encoding", "'unicode_escape'"),
    ('[package]\nencoding = "raw_unicode_escape"\n', "[package] encoding", "'raw_unicode_escape'"),
    ('[package]\nencoding = "undefined"\n', "[package] encoding", "'undefined'"),
    ('[package]\nencoding = "klingon"\n', "[package] encoding", "'klingon'"),
    ('[engine]\nmemory_limit = "1B"\n', "[engine] memory_limit", "'1B'"),
    ('[engine]\nmemory_limit = "1KB"\n', "[engine] memory_limit", "'1KB'"),
    ('[engine]\nmemory_limit = "0GB"\n', "[engine] memory_limit", "'0GB'"),
    ('[engine]\nmemory_limit = "127MB"\n', "[engine] memory_limit", "'127MB'"),
    ('[engine]\nmemory_limit = "99999999TB"\n', "[engine] memory_limit", "'99999999TB'"),
    ('[engine]\nmemory_limit = "2 gigs"\n', "[engine] memory_limit", "'2 gigs'"),
    ('[engine]\nmemory_limit = ""\n', "[engine] memory_limit", "''"),
    ("[engine]\nthreads = 100000\n", "[engine] threads", "100000"),
    ("[engine]\nthreads = 257\n", "[engine] threads", "257"),
    ("[engine]\nthreads = -1\n", "[engine] threads", "-1"),
    ("[fees]\nnotice_days = 100000000\n", "[fees] notice_days", "100000000"),
    ("[fees]\nnotice_days = -1\n", "[fees] notice_days", "-1"),
    ("[earnings]\nmin_week_engaged_hours = 169\n", "[earnings] min_week_engaged_hours", "169"),
    ("[hours]\nmax_daily_online_hours = 25\n", "[hours] max_daily_online_hours", "25"),
    ("[hours]\nmin_break_minutes = -5\n", "[hours] min_break_minutes", "-5"),
    ("[report]\nmin_cell_workers = 0\n", "[report] min_cell_workers", "0"),
    ("[fairness]\nprotected_attributes = []\n", "[fairness] protected_attributes", "[]"),
    (
        '[fairness]\nprotected_attributes = ["worker_id"]\n',
        "[fairness] protected_attributes",
        "'worker_id'",
    ),
    (
        '[fairness]\nprotected_attributes = ["gender", "order_id"]\n',
        "[fairness] protected_attributes",
        "'order_id'",
    ),
    (
        '[fairness]\nprotected_attributes = ["gender", "gender"]\n',
        "[fairness] protected_attributes",
        "['gender', 'gender']",
    ),
    ('[fairness]\nprotected_attributes = [""]\n', "[fairness] protected_attributes", "['']"),
    (
        '[fairness]\nlegitimate_attributes = ["worker_id"]\n',
        "[fairness] legitimate_attributes",
        "'worker_id'",
    ),
    (
        '[fairness]\nalgorithmic_attributes = ["customer_id"]\n',
        "[fairness] algorithmic_attributes",
        "'customer_id'",
    ),
    (
        '[fairness]\nintersections = [["gender", "worker_id"]]\n',
        "[fairness] intersections",
        "'worker_id'",
    ),
    (
        '[fairness]\nreference_groups = {gnder = "M"}\n',
        "[fairness] reference_groups.gnder",
        "'gnder'",
    ),
    (
        '[fairness]\nreference_groups = {gender = " "}\n',
        "[fairness] reference_groups.gender",
        "' '",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "value"), BAD_VALUES, ids=[f"{v[1]}={v[2]}" for v in BAD_VALUES]
)
def test_bad_values_are_refused_on_load_naming_key_and_value(
    tmp_path: Path, text: str, key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    message = str(info.value)
    assert key in message and f"got {value}" in message, message
    assert "must be" in message  # and says what is allowed


GOOD_VALUES = [
    '[package]\nencoding = "utf-8"\n',
    '[package]\nencoding = "utf-8-sig"\n',
    '[package]\nencoding = "gb18030"\n',
    '[package]\nencoding = "GBK"\n',
    '[package]\nencoding = "big5"\n',
    '[package]\nencoding = "utf-16"\n',
    '[package]\nencoding = "latin-1"\n',
    '[package]\nencoding = "shift_jis"\n',
    '[engine]\nmemory_limit = "128MB"\n',
    '[engine]\nmemory_limit = "1536MiB"\n',
    '[engine]\nmemory_limit = "1.5 GB"\n',
    '[engine]\nmemory_limit = "1000TB"\n',
    "[engine]\nthreads = 256\n",
    "[audit]\nseed = 0\n",
    '[audit]\ntimezone = "UTC"\n',
    '[audit]\ntimezone = "Etc/GMT+3"\n',
    '[fairness]\nintersections = [["gender", "age_band"]]\n'
    'reference_groups = {"gender*age_band" = "F*50+", customer_segment = "ios"}\n',
]


@pytest.mark.parametrize("text", GOOD_VALUES)
def test_sensible_values_still_load(tmp_path: Path, text: str) -> None:
    load_config(_write(tmp_path, text))


def _zoneinfo_only() -> list[str]:
    """Zones Python's zoneinfo opens that the engine (DuckDB's ICU) does not know."""
    out = []
    for name in ("posixrules", "localtime"):
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        out.append(name)
    return out


@pytest.mark.parametrize("zone", _zoneinfo_only() or ["posixrules"])
def test_a_zone_only_python_knows_is_refused_when_the_engine_opens(zone: str) -> None:
    try:
        config = AuditConfig.from_dict({"audit": {"timezone": zone}})
    except ConfigError:
        pytest.skip(f"zoneinfo on this machine does not open {zone!r}")
    with pytest.raises(ConfigError, match=rf"\[audit\] timezone .*got '{zone}'"):
        connect(config)


def test_a_zone_only_python_knows_exits_2_from_the_cli(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "posixrules" not in _zoneinfo_only():
        pytest.skip("zoneinfo on this machine does not open 'posixrules'")
    config = _write(tmp_path, '[audit]\ntimezone = "posixrules"\n')
    code = main(["run", str(package), "--config", str(config), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "[audit] timezone" in err and "'posixrules'" in err
    assert "internal error" not in err


def test_a_hostile_zone_is_never_sql_text() -> None:
    """A zone name that would end the SQL string is refused as a zone, never run."""
    config = dataclasses.replace(
        AuditConfig(), audit=dataclasses.replace(AuditConfig().audit, timezone="UTC'; --")
    )
    with pytest.raises(ConfigError, match=r"\[audit\] timezone"):
        connect(config)


# --- reference groups -------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """24 workers (12 F, 12 M), 12 of them with orders; a shift column (day or night, 12
    each) and a badge column that is each worker's own."""
    folder = tmp_path / "tiny"
    write_csv(folder, "orders", [good_order(i, worker_id=f"w{i % 12:02d}") for i in range(60)])
    write_csv(
        folder,
        "workers",
        [
            {
                "worker_id": f"w{i:02d}",
                "gender": "F" if i % 2 else "M",
                "shift": "day" if i % 4 < 2 else "night",
                "badge": f"b{i:02d}",
            }
            for i in range(24)
        ],
    )
    return folder


REFERENCE_CASES = [
    ({"reference_groups": {"gender": "X"}}, "PAY-02", "reference_groups.gender", "'X'"),
    ({"reference_groups": {"gender": "m"}}, "PAY-02", "reference_groups.gender", "'m'"),
    (
        {"intersections": [["gender", "shift"]], "reference_groups": {"gender*shift": "F*dawn"}},
        "PAY-02",
        "reference_groups.gender*shift",
        "'F*dawn'",
    ),
]


@pytest.mark.parametrize(("fairness", "check", "key", "value"), REFERENCE_CASES)
def test_a_reference_group_no_worker_has_is_an_error_listing_the_groups(
    tiny: Path, fairness: dict[str, Any], check: str, key: str, value: str
) -> None:
    config = AuditConfig.from_dict({"fairness": fairness, "report": {"min_cell_workers": 2}})
    with pytest.raises(ConfigError) as info:
        auditor.audit(tiny, config, checks=[check])
    message = str(info.value)
    assert f"[fairness] {key}" in message and f"got {value}" in message
    if "*" not in key:
        assert "F (12 workers)" in message and "M (12 workers)" in message
    assert not re.search(r"\bw\d\d\b", message), "no worker ID in the message"


def test_a_reference_segment_no_order_has_is_an_error(tmp_path: Path) -> None:
    """PRC-01 fell back to the segment with most orders; now it is an error too."""
    folder = tmp_path / "segments"
    rows = [
        good_order(i, worker_id=f"w{i % 12:02d}", customer_segment="ios" if i % 2 else "web")
        for i in range(60)
    ]
    write_csv(folder, "orders", rows)
    config = AuditConfig.from_dict(
        {"fairness": {"reference_groups": {"customer_segment": "android"}}}
    )
    with pytest.raises(ConfigError) as info:
        auditor.audit(folder, config, checks=["PRC-01"])
    message = str(info.value)
    assert "[fairness] reference_groups.customer_segment" in message
    assert "got 'android'" in message


def test_a_reference_group_names_no_small_group(tiny: Path) -> None:
    """Groups of fewer than min_cell_workers are counted, never named: one may be an ID."""
    config = AuditConfig.from_dict(
        {"fairness": {"reference_groups": {"gender": "X"}}, "report": {"min_cell_workers": 13}}
    )
    with pytest.raises(ConfigError) as info:
        auditor.audit(tiny, config, checks=["PAY-02"])
    message = str(info.value)
    assert "2 groups of fewer than 13 workers" in message
    assert "F (" not in message and "M (" not in message


def test_a_reference_group_that_exists_is_used(tiny: Path) -> None:
    config = AuditConfig.from_dict(
        {"fairness": {"reference_groups": {"gender": "F"}}, "report": {"min_cell_workers": 2}}
    )
    result = auditor.audit(tiny, config, checks=["PAY-02"])
    assert {f.subject.get("reference") for f in result.findings if "group" in f.subject} == {"F"}


# --- attributes that identify workers ---------------------------------------------------

IDENTIFYING = [
    ({"protected_attributes": ["gender", "badge"]}, "protected_attributes", "'badge'"),
    ({"intersections": [["gender", "badge"]]}, "intersections", "'gender*badge'"),
]


@pytest.mark.parametrize(("fairness", "key", "value"), IDENTIFYING)
def test_an_attribute_that_identifies_workers_is_refused(
    tiny: Path, fairness: dict[str, Any], key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        auditor.audit(tiny, AuditConfig.from_dict({"fairness": fairness}), checks=["PAY-02"])
    message = str(info.value)
    assert f"[fairness] {key}" in message and f"got {value}" in message
    assert "24 of the 24 workers" in message and "min_cell_workers = 10" in message
    assert not re.search(r"\bb\d\d\b|\bw\d\d\b", message), "no value of it in the message"


def test_unique_values_too_few_to_publish_are_not_refused(tiny: Path) -> None:
    """With min_cell_workers above the 24 unique badges, every badge comparison is
    suppressed anyway: the attribute runs, and no badge is named."""
    config = AuditConfig.from_dict(
        {"fairness": {"protected_attributes": ["badge"]}, "report": {"min_cell_workers": 25}}
    )
    result = auditor.audit(tiny, config, checks=["PAY-02"])
    text = result.to_json()
    assert not re.search(r"\bb\d\d\b", text)
    assert any(f.data.get("suppressed") for f in result.findings)


def test_suppressed_labels_are_numbered_by_sorted_label_and_never_collide() -> None:
    counts = pd.Series({"W9": 1, "M": 40, "W1": 2, "suppressed group 2": 30, "F": 3})
    shown = public_labels(counts, 10)
    assert shown["M"] == "M" and shown["suppressed group 2"] == "suppressed group 2"
    # F < W1 < W9 in sorted order; number 2 is taken by a real group.
    assert [shown[g] for g in ("F", "W1", "W9")] == [
        "suppressed group 1",
        "suppressed group 3",
        "suppressed group 4",
    ]
    shuffled = counts.sample(frac=1.0, random_state=3)
    assert public_labels(shuffled, 10) == shown


# --- worker IDs are never published -----------------------------------------------------


def _demo_with_ids_as_gender(folder: Path, rows: slice) -> list[str]:
    """Copy the demo to ``folder`` with gender set to the worker's own ID on ``rows`` of
    workers.csv; returns every worker ID of the package."""
    shutil.copytree(DEMO, folder)
    workers = pd.read_csv(folder / "workers.csv", dtype=str, keep_default_na=False)
    index = workers.index[rows]
    workers.loc[index, "gender"] = workers.loc[index, "worker_id"]
    workers.to_csv(folder / "workers.csv", index=False)
    ids = set(workers["worker_id"])
    for name in ("orders", "sessions", "offers"):
        ids |= set(pd.read_csv(folder / f"{name}.csv", dtype=str, usecols=["worker_id"]).worker_id)
    return sorted(ids)


def _leaked(out: Path, ids: list[str]) -> dict[str, list[str]]:
    leaks = {}
    for name in OUTPUTS:
        path = out / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            found = [i for i in ids if i in text]
            if found:
                leaks[name] = found
    return leaks


@pytest.fixture(scope="module")
def few_ids_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, list[str]]:
    """The demo with three workers whose gender is their own ID, with gender x age_band
    intersections, through the CLI."""
    tmp = tmp_path_factory.mktemp("few_ids")
    ids = _demo_with_ids_as_gender(tmp / "pkg", slice(0, 10, 4))
    config = _write(tmp, '[fairness]\nintersections = [["gender", "age_band"]]\n')
    out = tmp / "out"
    code = main(["run", str(tmp / "pkg"), "--config", str(config), "--out", str(out), "--quiet"])
    return code, out, ids


def test_ids_as_group_labels_of_a_few_workers_are_never_published(
    few_ids_run: tuple[int, Path, list[str]],
) -> None:
    code, out, ids = few_ids_run
    assert code in (0, 1)
    assert all((out / name).exists() for name in OUTPUTS)
    assert _leaked(out, ids) == {}
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    placeholders = {
        f["subject"]["group"]
        for f in doc["findings"]
        if f["subject"].get("group", "").startswith("suppressed group ")
    }
    assert placeholders, "the ID groups are reported, under a neutral name"
    for f in doc["findings"]:
        if f["subject"].get("group") in placeholders:
            assert f["data"]["suppressed"] is True and f["estimate"] is None


def test_placeholders_are_stable_across_reruns(
    few_ids_run: tuple[int, Path, list[str]], tmp_path: Path
) -> None:
    _, out, _ = few_ids_run
    again = tmp_path / "again"
    config = _write(tmp_path, '[fairness]\nintersections = [["gender", "age_band"]]\n')
    main(["run", str(out.parent / "pkg"), "--config", str(config), "--out", str(again), "--quiet"])

    def subjects(folder: Path) -> list[dict[str, str]]:
        doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        return [f["subject"] for f in doc["findings"]]

    assert subjects(again) == subjects(out)


CLI_REFUSALS = [
    ("every gender an ID", slice(None), "", "[fairness] protected_attributes", "'gender'"),
    (
        "worker_id compared",
        slice(0, 0),
        '[fairness]\nprotected_attributes = ["worker_id"]\n',
        "[fairness] protected_attributes",
        "'worker_id'",
    ),
    (
        "reference is an ID no worker has",
        slice(0, 0),
        '[fairness]\nreference_groups = {gender = "W999999"}\n',
        "[fairness] reference_groups.gender",
        "'W999999'",
    ),
]


@pytest.mark.parametrize(
    ("name", "rows", "text", "key", "value"), CLI_REFUSALS, ids=[c[0] for c in CLI_REFUSALS]
)
def test_refusals_exit_2_and_publish_no_worker_id(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    rows: slice,
    text: str,
    key: str,
    value: str,
) -> None:
    ids = _demo_with_ids_as_gender(tmp_path / "pkg", rows)
    config = _write(tmp_path, text)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "pkg"), "--config", str(config), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert key in err and value in err
    assert not [i for i in ids if i in err]
    assert _leaked(out, ids) == {}
