import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from auditor import AuditConfig, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "audit_config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_the_documented_values() -> None:
    c = load_config(None)
    assert c.audit.alpha == 0.05
    assert c.audit.timezone == "Asia/Shanghai"
    assert c.fees.commission_cap == 0.30
    assert c.fairness.protected_attributes == ("gender", "age_band")
    assert c.hours.min_break_minutes == 20


def test_shipped_config_loads_and_is_complete() -> None:
    shipped = Path(__file__).parents[1] / "audit_config.toml"
    c = load_config(shipped)
    # Every contract key is spelled out in the shipped file.
    text = shipped.read_text(encoding="utf-8")
    for key in (
        "currency",
        "timezone",
        "alpha",
        "encoding",
        "commission_cap",
        "minimum_hourly_wage",
        "expense_per_km",
        "protected_attributes",
        "materiality",
        "max_daily_online_hours",
        "max_continuous_online_hours",
        "min_break_minutes",
    ):
        assert f"{key} =" in text, key
    assert c.audit.currency == "CNY"


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    p = write(tmp_path, "[audit]\ntimezon = 'Asia/Shanghai'\n")
    with pytest.raises(ConfigError, match='Did you mean "timezone"'):
        load_config(p)


def test_unknown_section_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    p = write(tmp_path, "[fee]\ncommission_cap = 0.3\n")
    with pytest.raises(ConfigError, match=r'unknown section .fee.* Did you mean "fees"'):
        load_config(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[audit]\nalpha = 'x'\n", r"\[audit\] alpha must be a number; got 'x'"),
        ("[audit]\nalpha = 0.7\n", r"alpha must be in \(0, 0.5\)"),
        ("[audit]\ntimezone = 'Mars/Base'\n", "IANA time zone"),
        ("[package]\nencoding = 'klingon'\n", "codec name"),
        ("[fees]\ncommission_cap = 1.5\n", r"fraction in \[0, 1\]"),
        ("[fairness]\nprotected_attributes = 'gender'\n", "list of strings"),
        ("[package.mapping]\norders = 3\n", "table of strings"),
        ("[audit\n", "not valid TOML"),
        ('[engine]\nmemory_limit = "2GB\'; --"\n', "a size such as"),
    ],
)
def test_bad_values_name_the_key_and_what_was_expected(
    tmp_path: Path, text: str, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_hash_ignores_comments_order_and_spelled_out_defaults(tmp_path: Path) -> None:
    a = load_config(write(tmp_path, "# hello\n[audit]\nalpha = 0.05\n"))
    b = AuditConfig()
    assert a.sha256() == b.sha256()
    c = load_config(write(tmp_path, "[audit]\nalpha = 0.01\n"))
    assert c.sha256() != b.sha256()


def test_engine_resources_do_not_change_the_hash(tmp_path: Path) -> None:
    a = load_config(write(tmp_path, "[engine]\nthreads = 1\nmemory_limit = '1GB'\n"))
    assert a.sha256() == AuditConfig().sha256()


def test_mapping_is_read(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, '[package.mapping.orders]\norder_id = "订单号"\n'))
    assert c.package.mapping == {"orders": {"order_id": "订单号"}}


def test_shipped_basis_texts_cover_every_check_with_a_default() -> None:
    from auditor.config import DEFAULT_BASIS

    shipped = load_config(Path(__file__).parents[1] / "audit_config.toml")
    assert dict(shipped.basis) == DEFAULT_BASIS


def test_basis_keys_must_be_check_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='Did you mean "FEE-01"'):
        load_config(write(tmp_path, '[basis]\nFEE-1 = "x"\n'))


def test_docs_config_lists_every_key_with_its_default() -> None:
    """docs/config.md is written by hand: every key of every section is in its table, no
    key is there that the config does not have, and each default shown (as TOML) is the
    default the code uses."""
    doc = (Path(__file__).parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `\[([a-z_.<>]+)\](?: ([A-Za-z_<>-]+))?` \| (.*?) \| ", doc, re.M)
    documented: dict[tuple[str, str], str] = {}
    for section, key, default in rows:
        name, _, rest = section.partition(".")
        documented[(name, rest.split(".")[0] if rest else key)] = default
    config = AuditConfig()
    defaults: dict[tuple[str, str], object] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            defaults |= {
                (f.name, g.name): getattr(value, g.name) for g in dataclasses.fields(value)
            }
        elif f.name != "source":  # where the file was read from: not a key
            defaults[(f.name, "<CHECK-ID>" if f.name == "basis" else "")] = value
    assert set(defaults) == set(documented)
    checked = 0
    for key, shown in documented.items():
        literal = re.fullmatch(r"`(.*)`", shown)
        if literal is None or "=" in literal.group(1):
            continue  # "none", "see audit_config.toml", a table's keys
        value = defaults[key]
        expected = dict(value) if isinstance(value, Mapping) else value
        expected = list(expected) if isinstance(expected, tuple) else expected
        assert tomllib.loads(f"v = {literal.group(1)}")["v"] == expected, key
        checked += 1
    assert checked > 50
