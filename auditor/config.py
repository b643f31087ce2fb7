"""The audit configuration: ``audit_config.toml`` read into frozen dataclasses.

Every key has a documented default, so an empty file is a valid config. Unknown
sections or keys are an error with a suggestion (a typo must not silently fall
back to a default), and so is a value of the wrong type or out of range.

The names in ``../shared/spec/data-contract.md`` ("Minimum config keys") are
part of the public contract; this module may add keys but never renames them.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from auditor.errors import ConfigError
from auditor.schema import CATALOGUE_ORDER

__all__ = [
    "AuditConfig",
    "AuditSection",
    "EarningsSection",
    "EngineSection",
    "FairnessSection",
    "FeesSection",
    "HoursSection",
    "PackageSection",
    "ReportSection",
    "load_config",
]


DEFAULT_BASIS: dict[str, str] = {
    "FEE-01": "Declared commission cap (fee_schedule), else [fees] commission_cap. Platforms "
    "are asked to publish commission ratios and caps (交通运输部等《关于加强交通运输新业态"
    "从业劳动者权益保障工作的意见》, 2021).",
    "FEE-02": "The commission a platform declares to a worker must be the commission it takes "
    "(fee transparency; set the local basis).",
    "FEE-03": "Pay statements must reconcile with the credits earned and the deductions "
    "itemised (set the local wage-payment rule).",
    "FEE-04": "Changes to fees and transaction rules must be announced at least [fees] "
    "notice_days before they take effect (《电子商务法》第三十四条: 7 days).",
    "FEE-06": "Tips paid by customers belong to the worker in full.",
    "PAY-01": "Effective hourly earnings net of expenses and deductions must not fall below "
    "[earnings] minimum_hourly_wage (the local part-time hourly minimum wage; set locally).",
    "HRS-01": "Platforms must prevent excessive working time: [hours] limits on daily and "
    "continuous online time (platform fatigue controls such as a forced 20-minute rest after "
    "4 hours of continuous work; set locally).",
    "INS-01": "Every order must carry an occupational-injury premium paid by the platform, "
    "not the worker (人社部发〔2025〕24号 on occupational-injury protection for new forms of "
    "employment).",
    "FEE-05": "Pay for the same work must not depend on who does it: algorithmic pricing of "
    "labour must be transparent and fair (set the local basis).",
    "PAY-02": "Equal pay for equal work (《劳动法》第四十六条: 同工同酬), "
    "whatever a worker's gender or age.",
    "DSP-01": "Dispatch algorithms must treat workers fairly (人社部等《关于维护新就业形态"
    "劳动者劳动保障权益的指导意见》, "
    "2021, on fair and transparent algorithms; set the local basis).",
    "DSP-02": "Orders offered to workers must be priced by the work, not by who is offered them"
    " (set the local basis).",
    "PRC-01": "Automated decisions must not impose unreasonable differential treatment in "
    "transaction prices (《个人信息保护法》第二十四条).",
    "PRC-02": "Prices far from those of comparable orders are leads for review, not breaches.",
    "DED-01": "Penalties must follow published rules, fall alike on all workers and be open to "
    "an effective appeal (set the local rule).",
}
"""Default ``[basis]`` texts; the shipped audit_config.toml repeats them to be edited."""


@dataclass(frozen=True, slots=True)
class AuditSection:
    """``[audit]``: what the audit is about."""

    currency: str = "CNY"
    """ISO 4217 code of all money columns (major units: 12.50 = twelve yuan fifty)."""
    timezone: str = "Asia/Shanghai"
    """IANA zone in which timestamps without an offset are read, and local dates are taken."""
    alpha: float = 0.05
    """Family-wise significance level after multiple-testing correction (Holm)."""
    seed: int = 20260301
    """Seed of every random step (PAY-01's worker bootstrap); recorded in findings.json."""


@dataclass(frozen=True, slots=True)
class PackageSection:
    """``[package]``: how to read the submitted files."""

    encoding: str = "utf-8"
    """Encoding of CSV and JSON Lines files, e.g. "utf-8", "gb18030", "gbk"."""
    mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per table, contract column name -> the column name in the platform's file."""


@dataclass(frozen=True, slots=True)
class FeesSection:
    """``[fees]``: commission rules used where the fee_schedule is silent."""

    commission_cap: float = 0.30
    """Maximum take rate (a fraction of fare base) where fee_schedule gives no cap."""
    take_rate_basis: str = "gross"
    """"gross": take = fare base - worker_pay; "net": the incentive is credited back."""
    cap_binds: str = "order"
    """Where the cap binds: "order" (every order) or "worker_period" (a worker's average
    take rate per week)."""
    tolerance: float = 0.01
    """Rounding tolerance in currency per order or statement (one cent)."""
    notice_days: int = 7
    """Days a fee change must be announced before it takes effect."""
    take_rate_change_materiality: float = 0.01
    """Smallest change of the mix-adjusted take rate (a fraction: 0.01 = one point) that
    FEE-04 reports as a breach."""


@dataclass(frozen=True, slots=True)
class EarningsSection:
    """``[earnings]``: the pay standard effective hourly earnings are compared with."""

    minimum_hourly_wage: float = 25.0
    """Statutory hourly minimum in ``[audit] currency``; must be set for the locality."""
    expense_per_km: float = 0.0
    """Vehicle cost per km (distance_km + approach_km) deducted before the comparison."""
    decide_basis: str = "engaged"
    """Time basis whose result decides PAY-01: "engaged", "online" or "engaged_allowance"."""
    tolerated_share_below: float = 0.05
    """PAY-01 fails when the share of worker-weeks below the minimum is credibly above this
    (bootstrap CI lower bound), passes when credibly at or below it."""
    min_week_engaged_hours: float = 1.0
    """Worker-weeks with fewer engaged hours are left out of PAY-01 (too little to judge)."""
    engaged_allowance_minutes_per_order: float = 5.0
    """Minutes added per completed order to engaged time on the "engaged plus allowance"
    basis (waiting and repositioning between orders); a convention to set locally."""


@dataclass(frozen=True, slots=True)
class FairnessSection:
    """``[fairness]``: which groups to compare, and what gap counts."""

    protected_attributes: tuple[str, ...] = ("gender", "age_band")
    """Columns of the workers table to compare groups by."""
    materiality: float = 0.05
    """Smallest relative gap (rates, pay, prices) that counts as a breach."""
    reference_groups: Mapping[str, str] = field(default_factory=dict)
    """Attribute -> the group others are compared with (default: the group with most
    workers; for customer segments, the segment with most orders)."""
    legitimate_attributes: tuple[str, ...] = ("vehicle_type",)
    """Worker columns that place workers in different markets for legitimate reasons (a car
    does rides, an e-bike deliveries): groups are compared within each value, in the
    headline test."""
    algorithmic_attributes: tuple[str, ...] = ("tier",)
    """Worker columns the platform's algorithm itself sets (tiers, ratings): never in the
    headline test; a separate, labelled view also adjusts for them."""
    intersections: tuple[tuple[str, ...], ...] = ()
    """Combinations of protected attributes compared as groups of their own, e.g.
    ``[["gender", "age_band"]]``: each combination (``F*50+``) is compared with the largest
    one in every group check, in the same Holm family (NYC Local Law 144 audits sex x
    race/ethnicity categories; workers harmed only at an intersection are diluted in each
    margin)."""
    min_workers_asymptotic: int = 30
    """No longer used: small-sample inference (CR2 with Bell-McCaffrey degrees of freedom)
    holds its level for every comparison, so there is no switch to a permutation test.
    Accepted so that older configurations still load."""
    permutations: int = 999
    """No longer used (see ``min_workers_asymptotic``)."""


@dataclass(frozen=True, slots=True)
class HoursSection:
    """``[hours]``: working-time limits."""

    max_daily_online_hours: float = 12.0
    max_continuous_online_hours: float = 4.0
    """Online without a break of at least ``min_break_minutes``."""
    min_break_minutes: float = 20.0


@dataclass(frozen=True, slots=True)
class ReportSection:
    """``[report]``: what may be published."""

    min_cell_workers: int = 10
    """Cells (groups, zones, ...) with fewer distinct workers are suppressed in reports."""


@dataclass(frozen=True, slots=True)
class EngineSection:
    """``[engine]``: resources of the embedded DuckDB engine (not part of the results)."""

    memory_limit: str = "2GB"
    """DuckDB memory limit; larger data spills to a temporary database on disk."""
    threads: int = 0
    """Worker threads; 0 uses every core."""


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """The whole configuration. ``AuditConfig()`` is the documented default."""

    audit: AuditSection = field(default_factory=AuditSection)
    package: PackageSection = field(default_factory=PackageSection)
    fees: FeesSection = field(default_factory=FeesSection)
    earnings: EarningsSection = field(default_factory=EarningsSection)
    fairness: FairnessSection = field(default_factory=FairnessSection)
    hours: HoursSection = field(default_factory=HoursSection)
    report: ReportSection = field(default_factory=ReportSection)
    engine: EngineSection = field(default_factory=EngineSection)
    basis: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASIS))
    """Check ID -> the legal or policy basis quoted in its findings (``[basis]``)."""
    source: str | None = field(default=None, compare=False)
    """Path of the file it was read from (not part of the hash)."""

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration as JSON-able data.

        ``source`` and ``[engine]`` are left out: they change where and how fast the
        audit runs, never its results.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("source", "engine"):
                continue
            section = getattr(self, f.name)
            if f.name == "basis":
                out[f.name] = _plain(section)
                continue
            out[f.name] = {
                k.name: _plain(getattr(section, k.name)) for k in dataclasses.fields(section)
            }
        return out

    def sha256(self) -> str:
        """SHA-256 of the effective configuration, canonical JSON (defaults included).

        Two files that differ only in comments, key order or spelled-out defaults
        have the same hash: it identifies what the audit ran with.
        """
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> AuditConfig:
        """Build and validate a config from parsed TOML (or any nested mapping)."""
        where = source or "config"
        sections = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
        _reject_unknown(data.keys(), sections.keys(), where, "section")
        kwargs: dict[str, Any] = {}
        hints = get_type_hints(cls)
        for name, value in data.items():
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"{where}: [{name}] must be a table of keys; got {value!r}. "
                    f"Write it as a [{name}] section."
                )
            if name == "basis":
                kwargs[name] = _build_basis(value, f"{where} [basis]")
                continue
            kwargs[name] = _build_section(hints[name], value, f"{where} [{name}]")
        config = cls(**kwargs, source=source)
        _check_values(config, where)
        return config


def load_config(path: str | Path | None = None) -> AuditConfig:
    """Read ``audit_config.toml``; ``None`` gives the documented defaults.

    Raises:
        ConfigError: the file is missing, is not TOML, or holds an unknown key or bad value.
    """
    if path is None:
        return AuditConfig()
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config file ({exc.strerror}).") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{p}: not UTF-8 at byte offset {exc.start}; TOML files must be UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}.") from exc
    return AuditConfig.from_dict(data, source=str(p))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _reject_unknown(given: Any, known: Any, where: str, what: str) -> None:
    known = list(known)
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise ConfigError(
                f"{where}: unknown {what} {key!r}.{hint} Known {what}s: {', '.join(known)}."
            )


def _build_basis(data: Mapping[str, Any], where: str) -> dict[str, str]:
    _reject_unknown(data.keys(), CATALOGUE_ORDER, where, "check ID")
    out = dict(DEFAULT_BASIS)
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where} {key} must be a string; got {value!r}.")
        out[key] = value
    return out


def _build_section(cls: type, data: Mapping[str, Any], where: str) -> Any:
    fields_ = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(data.keys(), fields_.keys(), where, "key")
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        kwargs[key] = _coerce(hints[key], value, f"{where} {key}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    text = str(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif text.startswith("tuple[tuple[str"):
        if isinstance(value, list) and all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value
        ):
            return tuple(tuple(v) for v in value)
    elif text.startswith("tuple[str"):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif (
        text == "collections.abc.Mapping[str, str]"
        and isinstance(value, Mapping)
        and all(isinstance(v, str) for v in value.values())
    ):
        return dict(value)
    elif text.startswith("collections.abc.Mapping[str, collections.abc.Mapping") and (
        isinstance(value, Mapping)
        and all(
            isinstance(m, Mapping) and all(isinstance(v, str) for v in m.values())
            for m in value.values()
        )
    ):
        return {t: dict(m) for t, m in value.items()}
    expected = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(
        hint,
        "a list of lists of strings"
        if text.startswith("tuple[tuple")
        else "a list of strings"
        if text.startswith("tuple")
        else "a table of strings",
    )
    raise ConfigError(f"{where} must be {expected}; got {value!r}.")


def _check_values(config: AuditConfig, where: str) -> None:
    def bad(key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{where} {key} must be {expected}; got {got!r}.")

    a = config.audit
    if not 0.0 < a.alpha < 0.5:
        raise bad("[audit] alpha", "in (0, 0.5)", a.alpha)
    try:
        zoneinfo.ZoneInfo(a.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        expected = 'an IANA time zone such as "Asia/Shanghai"'
        raise bad("[audit] timezone", expected, a.timezone) from exc
    if len(a.currency) != 3 or not a.currency.isalpha():
        raise bad("[audit] currency", 'a 3-letter ISO 4217 code such as "CNY"', a.currency)
    try:
        "".encode(config.package.encoding)
    except LookupError as exc:
        expected = 'a Python codec name such as "gb18030"'
        raise bad("[package] encoding", expected, config.package.encoding) from exc
    f = config.fees
    if f.cap_binds not in ("order", "worker_period"):
        raise bad("[fees] cap_binds", '"order" or "worker_period"', f.cap_binds)
    if f.tolerance < 0:
        raise bad("[fees] tolerance", ">= 0", f.tolerance)
    if f.notice_days < 0:
        raise bad("[fees] notice_days", ">= 0", f.notice_days)
    if not 0.0 < f.take_rate_change_materiality < 1.0:
        raise bad(
            "[fees] take_rate_change_materiality", "in (0, 1)", f.take_rate_change_materiality
        )
    e = config.earnings
    if e.decide_basis not in ("engaged", "online", "engaged_allowance"):
        raise bad(
            "[earnings] decide_basis", '"engaged", "online" or "engaged_allowance"', e.decide_basis
        )
    if not 0.0 <= e.tolerated_share_below < 1.0:
        raise bad("[earnings] tolerated_share_below", "in [0, 1)", e.tolerated_share_below)
    if e.min_week_engaged_hours < 0:
        raise bad("[earnings] min_week_engaged_hours", ">= 0", e.min_week_engaged_hours)
    if not 0.0 <= config.fees.commission_cap <= 1.0:
        raise bad("[fees] commission_cap", "a fraction in [0, 1]", config.fees.commission_cap)
    if config.fees.take_rate_basis not in ("gross", "net"):
        raise bad("[fees] take_rate_basis", '"gross" or "net"', config.fees.take_rate_basis)
    if config.earnings.minimum_hourly_wage < 0:
        raise bad("[earnings] minimum_hourly_wage", ">= 0", config.earnings.minimum_hourly_wage)
    if config.earnings.engaged_allowance_minutes_per_order < 0:
        raise bad(
            "[earnings] engaged_allowance_minutes_per_order",
            ">= 0",
            config.earnings.engaged_allowance_minutes_per_order,
        )
    if config.earnings.expense_per_km < 0:
        raise bad("[earnings] expense_per_km", ">= 0", config.earnings.expense_per_km)
    if not 0.0 <= config.fairness.materiality < 1.0:
        raise bad("[fairness] materiality", "a fraction in [0, 1)", config.fairness.materiality)
    for combination in config.fairness.intersections:
        if len(combination) < 2 or len(set(combination)) != len(combination):
            raise bad(
                "[fairness] intersections",
                'lists of two or more different attributes, e.g. [["gender", "age_band"]]',
                [list(c) for c in config.fairness.intersections],
            )
    if config.fairness.min_workers_asymptotic < 2:
        raise bad(
            "[fairness] min_workers_asymptotic",
            "an integer >= 2",
            config.fairness.min_workers_asymptotic,
        )
    if config.fairness.permutations < 99:
        raise bad("[fairness] permutations", "an integer >= 99", config.fairness.permutations)
    h = config.hours
    for key in ("max_daily_online_hours", "max_continuous_online_hours", "min_break_minutes"):
        if getattr(h, key) <= 0:
            raise bad(f"[hours] {key}", "> 0", getattr(h, key))
    if not re.fullmatch(
        r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", config.engine.memory_limit
    ):
        raise bad(
            "[engine] memory_limit", 'a size such as "2GB" or "1536MiB"', config.engine.memory_limit
        )
    if config.engine.threads < 0:
        raise bad("[engine] threads", ">= 0 (0 = all cores)", config.engine.threads)
    if config.report.min_cell_workers < 1:
        raise bad("[report] min_cell_workers", ">= 1", config.report.min_cell_workers)
