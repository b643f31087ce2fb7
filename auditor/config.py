"""The audit configuration: ``audit_config.toml`` read into frozen dataclasses.

Every key has a documented default, so an empty file is a valid config. Unknown
sections or keys are an error with a suggestion (a typo must not silently fall
back to a default), and so is a value of the wrong type or out of range.

The names in ``docs/spec/data-contract.md`` ("Minimum config keys") are
part of the public contract; this module may add keys but never renames them.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import math
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from auditor.errors import ConfigError
from auditor.presets import PRESETS
from auditor.rules import RulePack, load_pack
from auditor.schema import CATALOGUE_ORDER, TABLES, ColumnType

__all__ = [
    "AccountabilitySection",
    "AuditConfig",
    "AuditSection",
    "DispatchSection",
    "EarningsSection",
    "EngineSection",
    "FairnessSection",
    "FeesSection",
    "HoursSection",
    "PackageSection",
    "ReportSection",
    "RulesSection",
    "load_config",
    "rule_packs",
    "with_rules",
]

ID_COLUMNS: tuple[str, ...] = tuple(
    sorted({c.name for t in TABLES.values() for c in t.columns if c.type == ColumnType.ID})
)
"""Identifier columns of the contract (``worker_id``, ``order_id``, ...): never an attribute
to group workers by, since their groups would be single workers or orders."""

SEGMENT_ATTRIBUTE = "customer_segment"
"""The order attribute PRC-01 compares; ``[fairness] reference_groups`` may name it."""

MEMORY_UNITS: dict[str, int] = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
}
"""Units of ``[engine] memory_limit``, as DuckDB reads them (KB = 1000 bytes, KiB = 1024)."""

MIN_MEMORY_BYTES = 128 * 1000**2
"""Smallest ``[engine] memory_limit``: DuckDB needs about 125 MB for one thread; below that
the first query fails for want of memory."""

MAX_MEMORY_BYTES = 1000 * 1000**4
"""Largest ``[engine] memory_limit`` (1000TB); DuckDB misreads sizes past 2**64 bytes."""

MAX_THREADS = 256
"""Largest ``[engine] threads``. Threads beyond a machine's cores only cost memory (DuckDB
wants about 125 MB each); the cap is fixed rather than a multiple of this machine's cores,
so that a config loads alike on every machine."""

MAX_NOTICE_DAYS = 3650
"""Largest ``[fees] notice_days`` (ten years): no law asks for longer notice, and dates
shifted by millions of days leave the calendar (an internal error, not a finding)."""

_ENCODING_PROBE = (
    "order_id,worker_id,customer_price,pickup_zone,service,status,accepted_at\r\n"
    '"00001",w1,12.50,Z03,food_delivery,completed,2026-03-02T08:00:00+08:00\r\n'
    '"0002";C:\\new\\u4e2d\t|-~ x\n'
)
"""Plain CSV text (a line longer than a domain-name label, backslashes that look like
escapes, a tab): every character encoding writes and reads it back; text transforms do
not."""

_NOT_CHARACTER_ENCODINGS: dict[str, str] = {
    "idna": "it encodes domain names, not files",
    "punycode": "it encodes domain names, not files",
    "unicode-escape": "it reads backslashes as Python escapes",
    "raw-unicode-escape": "it reads backslashes as Python escapes",
    "undefined": "it refuses every text",
}
"""Python text codecs that transform text (domain names, escapes) rather than encode
characters: a file read through them is not the file's text."""


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
    "FEE-07": "Tips belong to the worker on top of the pay the platform sets; a platform may "
    "not lower its own pay because a customer tipped (tips used to subsidise base pay were "
    "the subject of the District of Columbia's 2022 settlement with DoorDash; set the local "
    "basis).",
    "FEE-08": "A worker is paid what the platform quoted when the order was accepted; pay "
    "rules must be transparent (人社部等《关于维护新就业形态劳动者劳动保障权益的指导意见》, "
    "2021, on rules for pay and its composition; set the local basis).",
    "FEE-09": "A commission declared as one rate must be the same share of every fare; "
    "platforms must publish their commission rules (交通运输部等《关于加强交通运输新业态从业"
    "劳动者权益保障工作的意见》, 2021; set the local basis).",
    "PAY-03": "Pay must reach the statutory floor of the rule pack in force; each pack cites "
    "its own legal sources (docs/rules.md).",
    "HRS-02": "No order is dispatched during a rest the rule pack requires after a long stretch "
    "of order-taking; working time counts order time plus an allowance (人社厅发〔2023〕50号); "
    "each pack cites its own sources (docs/rules.md).",
    "PAY-05": "Rules and algorithms that set piece rates, commission and pay must be made "
    "with the views of unions or workers' representatives heard, and published to workers "
    "(人社部等《关于维护新就业形态劳动者劳动保障权益的指导意见》, 2021); no unreasonable "
    "fee or algorithm setting may cut a worker's income. Reported for the regulator's "
    "judgement; set the local basis.",
    "DSP-04": "Workers may refuse offers without penalty: a platform may not make accepting "
    "particular offers a condition of keeping work (California Business and Professions Code "
    "section 7451, Proposition 22; Seattle's app-based worker ordinances, SMC chapter 8.37; "
    "set the local basis).",
    "ACC-01": "Decisions to restrict, suspend or end a worker's account are taken by a "
    "person, explained in writing, and reviewed on request within [accountability] "
    "review_days (EU Directive 2024/2831, Art. 10-11; set the local rule).",
    "CMP-01": "Platforms must hear workers' complaints and answer them in time "
    "(人社部等《关于维护新就业形态劳动者劳动保障权益的指导意见》, 2021, on complaint "
    "channels; [accountability] complaint_days, set locally).",
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
    rules: tuple[str, ...] = ()
    """Rule packs PAY-03 applies: names of shipped packs (``auditor rules`` lists them) or
    paths of pack files ending in ``.toml`` (relative to this config file's folder)."""


@dataclass(frozen=True, slots=True)
class PackageSection:
    """``[package]``: how to read the submitted files."""

    encoding: str = "utf-8"
    """Encoding of CSV and JSON Lines files, e.g. "utf-8", "gb18030", "gbk"."""
    mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per table, contract column name -> the column name in the platform's file."""
    earliest_date: str = "2000-01-01"
    """First plausible day (YYYY-MM-DD) of any timestamp or date; earlier ones are
    quarantined as ``timestamp_out_of_range``."""
    latest_date: str = "2099-12-31"
    """Last plausible day (YYYY-MM-DD) of any timestamp or date; later ones are
    quarantined as ``timestamp_out_of_range`` (``infinity`` too)."""
    max_session_hours: float = 168.0
    """Longest plausible online session, hours; longer ones are quarantined as
    ``session_too_long``."""
    allow_outside_links: bool = False
    """Read a table file that is a link to a file outside the package folder (refused by
    default: a package is what the platform sent)."""
    preset: str = ""
    """A published record format read as it is (``auditor presets`` lists them), e.g.
    "nyc-tlc-hvfhv": the package is then one file of it or a folder of such files, and
    the preset derives the contract's columns. It also sets ``[audit] currency``,
    ``timezone`` and ``rules`` where the config does not."""


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
    tip_offset_materiality: float = 0.10
    """FEE-07: smallest share of each unit of tip taken back out of base pay that counts as a
    breach (0.10: ten cents of every yuan tipped)."""
    take_rate_slope_materiality: float = 0.01
    """FEE-09: smallest change of the take rate per doubling of the fare (a fraction: 0.01 =
    one point) that counts against a declared flat commission rate."""
    quote_includes_incentive: bool = False
    """FEE-08: whether the platform's quotes (``offers.offered_pay``) include the order's
    incentive; if so, the incentive credited counts toward the quote."""


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
    rule_change_window_days: int = 28
    """PAY-05: days before a declared rule change (which teach the old rule) and from it
    (whose pay is set against the old rule), each cut at any other change."""
    rule_change_materiality: float = 0.05
    """PAY-05: a worker lost when their pay for the same work fell by more than this share
    of what the old rule paid."""
    holiday_premium_materiality: float = 0.05
    """PAY-04: where a rule pack asks holiday work to pay "more" with no number, the
    smallest premium (a fraction of what the same work pays on other days) that counts as
    paying more."""
    rule_change_min_orders: int = 20
    """PAY-05: workers with fewer completed orders after the change, or before it, in kinds
    of work the old rule priced, are not compared (a handful of orders "lose" by chance)."""


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
class DispatchSection:
    """``[dispatch]``: how refusals are followed (DSP-04)."""

    decline_window_minutes: float = 15.0
    """DSP-04: a worker's free online time within this many minutes after they decline an
    offer or let it expire is compared with their other free online time."""
    decline_penalty_materiality: float = 0.20
    """DSP-04 flags a lead where the whole interval of offers (or offered pay) per free
    online hour after a refusal, against the worker's other free time, lies more than this
    share below 1: beyond the shifts measured with no penalty (down to 0.89 in simulated
    packages; docs/checks.md). DSP-04 is reported, never failed."""


@dataclass(frozen=True, slots=True)
class AccountabilitySection:
    """``[accountability]``: time limits for account actions and complaints (ACC-01,
    CMP-01). A limit counts whole days of 24 hours from the first time to the second."""

    review_days: int = 14
    """An appealed account action is reviewed by a person within this many days of the
    appeal (EU Directive 2024/2831, Art. 11: two weeks)."""
    explanation_days: int = 1
    """A restrictive action is explained in writing within this many days of taking effect
    (the Directive asks for it at the latest on the day it takes effect)."""
    complaint_days: int = 14
    """A worker's complaint is resolved within this many days of being received."""
    as_of: str = ""
    """The day the export was taken (YYYY-MM-DD): an appeal or complaint still open then is
    overdue once its limit has passed. Empty: the latest time at which something the table
    records happened."""


@dataclass(frozen=True, slots=True)
class RulesSection:
    """``[rules]``: how the audit's places map to the tiers of tiered rule packs."""

    zone_tiers: Mapping[str, str] = field(default_factory=dict)
    """Zone (``orders.pickup_zone``) -> the tier of place whose rates apply there, for rule
    packs whose rates differ by tier (a province's minimum-wage tiers by county)."""
    default_tier: str = ""
    """Tier of zones ``zone_tiers`` does not name; empty: their orders are not assessed
    against a tiered pack (and are counted)."""


@dataclass(frozen=True, slots=True)
class ReportSection:
    """``[report]``: what may be published."""

    min_cell_workers: int = 10
    """Cells (groups, zones, ...) with fewer distinct workers are suppressed in reports."""


@dataclass(frozen=True, slots=True)
class EngineSection:
    """``[engine]``: which engine runs the audit, and its resources (not part of the
    results: both engines give byte-identical findings)."""

    backend: str = "duckdb"
    """``"duckdb"`` (embedded, the default) or ``"spark"`` (Apache Spark, the ``spark``
    extra; ``--engine`` on the command line)."""
    spark: Mapping[str, str] = field(default_factory=dict)
    """``[engine.spark]``: ``master`` (default ``local[*]``) and Spark configuration pairs
    (``"spark.executor.memory" = "8g"``), for a session the audit starts."""
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
    dispatch: DispatchSection = field(default_factory=DispatchSection)
    accountability: AccountabilitySection = field(default_factory=AccountabilitySection)
    rules: RulesSection = field(default_factory=RulesSection)
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
        if config.package.preset:
            given = data.get("audit", {})
            config = _with_preset_defaults(
                config, set(given) if isinstance(given, Mapping) else set()
            )
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
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()  # a TOML date (as_of = 2026-03-31) for a date key
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
    """Raise ConfigError for the first value out of range, naming the key, what is allowed
    and what arrived (every number is checked finite first, in one place)."""

    def bad(key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{where} {key} must be {expected}; got {got!r}.")

    _check_finite(config, bad)
    _check_audit(config.audit, bad)
    _check_package(config.package, bad)
    _check_preset(config, bad)
    _check_fees(config.fees, bad)
    _check_earnings(config.earnings, bad)
    _check_fairness(config.fairness, bad)
    _check_hours(config.hours, bad)
    _check_dispatch(config.dispatch, bad)
    _check_accountability(config.accountability, bad)
    _check_engine(config.engine, bad)
    _check_rules(config, bad)
    if config.report.min_cell_workers < 1:
        raise bad("[report] min_cell_workers", ">= 1", config.report.min_cell_workers)


_Bad = Callable[[str, str, Any], ConfigError]
"""``bad(key, expected, got)``: the ConfigError of one bad value."""


def _check_finite(config: AuditConfig, bad: _Bad) -> None:
    """Every float of every section must be finite: TOML reads ``nan``, ``inf`` and
    ``-inf``, which pass every range check written as a comparison."""
    for section in dataclasses.fields(config):
        values = getattr(config, section.name)
        if not dataclasses.is_dataclass(values):
            continue
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise bad(f"[{section.name}] {f.name}", "a finite number (not nan or inf)", value)


def _check_audit(a: AuditSection, bad: _Bad) -> None:
    if not 0.0 < a.alpha < 0.5:
        raise bad("[audit] alpha", "in (0, 0.5)", a.alpha)
    try:
        zoneinfo.ZoneInfo(a.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        expected = 'an IANA time zone such as "Asia/Shanghai"'
        raise bad("[audit] timezone", expected, a.timezone) from exc
    if len(a.currency) != 3 or not (a.currency.isascii() and a.currency.isalpha()):
        raise bad("[audit] currency", 'a 3-letter ISO 4217 code such as "CNY"', a.currency)
    if a.seed < 0:
        raise bad("[audit] seed", "an integer >= 0 (random generators take no sign)", a.seed)


def _check_package(p: PackageSection, bad: _Bad) -> None:
    problem = _encoding_problem(p.encoding)
    if problem:
        expected = (
            'a character encoding, a Python codec name such as "utf-8", "gb18030", "gbk" '
            f'or "utf-16" ({p.encoding!r}: {problem})'
        )
        raise bad("[package] encoding", expected, p.encoding)
    days = {}
    for key in ("earliest_date", "latest_date"):
        value = getattr(p, key)
        try:
            days[key] = dt.date.fromisoformat(value)
        except ValueError:
            raise bad(f"[package] {key}", "a date written YYYY-MM-DD", value) from None
    for key, day in days.items():
        if not dt.date(1900, 1, 1) <= day <= dt.date(9000, 12, 31):
            raise bad(f"[package] {key}", "a day from 1900-01-01 to 9000-12-31", getattr(p, key))
    if days["latest_date"] <= days["earliest_date"]:
        raise bad("[package] latest_date", "a day after [package] earliest_date", p.latest_date)
    if not 0 < p.max_session_hours <= 24 * 366:
        raise bad(
            "[package] max_session_hours", "> 0 and at most 8784 (a year)", p.max_session_hours
        )
    if p.preset and p.preset not in PRESETS:
        raise bad("[package] preset", "one of " + ", ".join(map(repr, PRESETS)), p.preset)
    if p.preset and p.mapping:
        raise bad(
            "[package.mapping]",
            f"no mapping with [package] preset = {p.preset!r} (the preset derives the "
            "contract's columns; remove the mapping or the preset)",
            ", ".join(p.mapping),
        )


def _check_preset(config: AuditConfig, bad: _Bad) -> None:
    """A preset's records count in its currency and its time zone."""
    preset = PRESETS.get(config.package.preset)
    if preset is None:
        return
    if config.audit.currency.upper() != preset.currency:
        raise bad(
            "[audit] currency",
            f"{preset.currency!r}, the currency of [package] preset = {preset.name!r}",
            config.audit.currency,
        )
    if config.audit.timezone != preset.timezone:
        raise bad(
            "[audit] timezone",
            f"{preset.timezone!r}, where the times of [package] preset = {preset.name!r} "
            "are recorded",
            config.audit.timezone,
        )


def _encoding_problem(name: str) -> str:
    """Why ``name`` cannot read a table file ("" if it can).

    The rule: a Python text codec (bytes to str) that encodes characters, so that a file
    decoded in chunks, as it is read, gives back the text it encodes. Checked by writing
    plain CSV text in it and reading it back one byte at a time. Bytes-to-bytes and
    text-to-text codecs (base64, zlib, rot13) are not text codecs; punycode and idna encode
    domain names as a whole, the escape codecs read backslashes as escapes, and "undefined"
    refuses everything.
    """
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return "Python knows no codec of that name"
    # codecs marks its bytes-to-bytes and text-to-text codecs (base64, zlib, rot13) so.
    if not info._is_text_encoding:
        return "it converts bytes to bytes (or text to text), not bytes to text"
    if info.name in _NOT_CHARACTER_ENCODINGS:
        return _NOT_CHARACTER_ENCODINGS[info.name]
    try:
        data = _ENCODING_PROBE.encode(info.name)
        decoder = codecs.getincrementaldecoder(info.name)(errors="strict")
        text = "".join(decoder.decode(data[i : i + 1]) for i in range(len(data)))
        text += decoder.decode(b"", final=True)
    except (UnicodeError, ValueError, TypeError, LookupError):
        text = None
    if text != _ENCODING_PROBE:
        return "it does not read plain CSV text back when read byte by byte"
    return ""


def _check_fees(f: FeesSection, bad: _Bad) -> None:
    if f.cap_binds not in ("order", "worker_period"):
        raise bad("[fees] cap_binds", '"order" or "worker_period"', f.cap_binds)
    if f.tolerance < 0:
        raise bad("[fees] tolerance", ">= 0", f.tolerance)
    if not 0 <= f.notice_days <= MAX_NOTICE_DAYS:
        raise bad("[fees] notice_days", f"an integer in [0, {MAX_NOTICE_DAYS}]", f.notice_days)
    if not 0.0 < f.take_rate_change_materiality < 1.0:
        raise bad(
            "[fees] take_rate_change_materiality", "in (0, 1)", f.take_rate_change_materiality
        )
    if not 0.0 < f.tip_offset_materiality < 1.0:
        raise bad("[fees] tip_offset_materiality", "in (0, 1)", f.tip_offset_materiality)
    if not 0.0 < f.take_rate_slope_materiality < 1.0:
        raise bad("[fees] take_rate_slope_materiality", "in (0, 1)", f.take_rate_slope_materiality)
    if not 0.0 <= f.commission_cap <= 1.0:
        raise bad("[fees] commission_cap", "a fraction in [0, 1]", f.commission_cap)
    if f.take_rate_basis not in ("gross", "net"):
        raise bad("[fees] take_rate_basis", '"gross" or "net"', f.take_rate_basis)


MAX_LIMIT_DAYS = 3650
"""Largest ``[accountability]`` limit (ten years), as ``[fees] notice_days``."""


def _check_accountability(a: AccountabilitySection, bad: _Bad) -> None:
    for key in ("review_days", "explanation_days", "complaint_days"):
        value = getattr(a, key)
        if not 0 <= value <= MAX_LIMIT_DAYS:
            raise bad(f"[accountability] {key}", f"an integer in [0, {MAX_LIMIT_DAYS}]", value)
    if a.as_of:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.as_of):
                raise ValueError(a.as_of)
            day = dt.date.fromisoformat(a.as_of)
        except ValueError:
            raise bad(
                "[accountability] as_of", 'a date written YYYY-MM-DD, or ""', a.as_of
            ) from None
        if not dt.date(1900, 1, 1) <= day <= dt.date(9000, 12, 31):
            raise bad("[accountability] as_of", "a day from 1900-01-01 to 9000-12-31", a.as_of)


def _check_earnings(e: EarningsSection, bad: _Bad) -> None:
    if e.decide_basis not in ("engaged", "online", "engaged_allowance"):
        raise bad(
            "[earnings] decide_basis", '"engaged", "online" or "engaged_allowance"', e.decide_basis
        )
    if not 0.0 <= e.tolerated_share_below < 1.0:
        raise bad("[earnings] tolerated_share_below", "in [0, 1)", e.tolerated_share_below)
    if not 0.0 <= e.min_week_engaged_hours <= 168.0:
        raise bad(
            "[earnings] min_week_engaged_hours",
            "in [0, 168] (hours in a week)",
            e.min_week_engaged_hours,
        )
    for key in ("minimum_hourly_wage", "engaged_allowance_minutes_per_order", "expense_per_km"):
        if getattr(e, key) < 0:
            raise bad(f"[earnings] {key}", ">= 0", getattr(e, key))
    if not 2 <= e.rule_change_window_days <= 366:
        raise bad(
            "[earnings] rule_change_window_days",
            "a whole number of days in [2, 366]",
            e.rule_change_window_days,
        )
    if not 0.0 < e.rule_change_materiality < 1.0:
        raise bad("[earnings] rule_change_materiality", "in (0, 1)", e.rule_change_materiality)
    if not 0.0 < e.holiday_premium_materiality < 1.0:
        raise bad(
            "[earnings] holiday_premium_materiality", "in (0, 1)", e.holiday_premium_materiality
        )
    if not 1 <= e.rule_change_min_orders <= 100_000:
        raise bad(
            "[earnings] rule_change_min_orders",
            "a whole number in [1, 100000]",
            e.rule_change_min_orders,
        )


def _check_fairness(fairness: FairnessSection, bad: _Bad) -> None:
    if not 0.0 <= fairness.materiality < 1.0:
        raise bad("[fairness] materiality", "a fraction in [0, 1)", fairness.materiality)
    if not fairness.protected_attributes:
        # Every check has one or more findings: the group checks need an attribute to
        # compare by (one the workers table lacks is reported as not_assessed).
        raise bad(
            "[fairness] protected_attributes",
            'a list of at least one workers-table column, e.g. ["gender", "age_band"]',
            [],
        )
    for key in ("protected_attributes", "legitimate_attributes", "algorithmic_attributes"):
        names: tuple[str, ...] = getattr(fairness, key)
        _check_attribute_names(f"[fairness] {key}", names, bad)
    for combination in fairness.intersections:
        if len(combination) < 2 or len(set(combination)) != len(combination):
            raise bad(
                "[fairness] intersections",
                'lists of two or more different attributes, e.g. [["gender", "age_band"]]',
                [list(c) for c in fairness.intersections],
            )
        _check_attribute_names("[fairness] intersections", combination, bad)
    compared = [*fairness.protected_attributes, SEGMENT_ATTRIBUTE]
    compared += ["*".join(c) for c in fairness.intersections]
    for attribute, group in fairness.reference_groups.items():
        key = f"[fairness] reference_groups.{attribute}"
        if attribute not in compared:
            close = difflib.get_close_matches(attribute, compared, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            expected = (
                "keyed by an attribute that is compared: one of "
                + ", ".join(f'"{c}"' for c in compared)
                + hint
            )
            raise bad(key, expected, attribute)
        if not group.strip():
            raise bad(key, "the name of a group", group)


def _check_attribute_names(key: str, names: Sequence[str], bad: _Bad) -> None:
    """Attribute names: not empty, not repeated, and never an identifier column (grouping
    by ``worker_id`` would publish worker IDs as group labels)."""
    for name in names:
        if not name.strip():
            raise bad(key, "column names, not empty strings", list(names))
        if name in ID_COLUMNS:
            expected = (
                "columns that group workers; identifier columns ("
                + ", ".join(ID_COLUMNS)
                + ") make a group of every worker and are never compared"
            )
            raise bad(key, expected, name)
    if len(set(names)) != len(names):
        raise bad(key, "a list of different column names", list(names))


def _check_hours(h: HoursSection, bad: _Bad) -> None:
    if not 0.0 < h.max_daily_online_hours <= 24.0:
        raise bad("[hours] max_daily_online_hours", "in (0, 24]", h.max_daily_online_hours)
    for key in ("max_continuous_online_hours", "min_break_minutes"):
        if getattr(h, key) <= 0:
            raise bad(f"[hours] {key}", "> 0", getattr(h, key))


def _check_dispatch(d: DispatchSection, bad: _Bad) -> None:
    if not 0.0 < d.decline_window_minutes <= 24 * 60:
        raise bad(
            "[dispatch] decline_window_minutes", "in (0, 1440] (a day)", d.decline_window_minutes
        )
    if not 0.1 <= d.decline_penalty_materiality < 1.0:
        raise bad(
            "[dispatch] decline_penalty_materiality",
            "in [0.1, 1) (a floor above 0.9 would flag ratios simulated platforms produce with "
            "no penalty)",
            d.decline_penalty_materiality,
        )


def _with_preset_defaults(config: AuditConfig, given: set[str]) -> AuditConfig:
    """``config`` with ``[audit]`` currency, timezone and rules taken from its preset,
    where ``given`` (the ``[audit]`` keys the config sets) lacks them."""
    preset = PRESETS.get(config.package.preset)
    if preset is None:
        return config  # refused with the known names by _check_package
    audit = config.audit
    if "currency" not in given:
        audit = dataclasses.replace(audit, currency=preset.currency)
    if "timezone" not in given:
        audit = dataclasses.replace(audit, timezone=preset.timezone)
    if "rules" not in given:
        audit = dataclasses.replace(audit, rules=preset.rules)
    return dataclasses.replace(config, audit=audit)


def with_preset(config: AuditConfig, name: str) -> AuditConfig:
    """``config`` reading its package with preset ``name`` (``--preset``): the preset's
    currency, timezone and rule packs where the config file does not set them (all of them
    for a config of defaults); values it sets must agree with the preset.

    Raises:
        ConfigError: the preset is unknown, or does not fit the config.
    """
    package = dataclasses.replace(config.package, preset=name)
    changed = _with_preset_defaults(
        dataclasses.replace(config, package=package), _audit_keys_given(config)
    )
    _check_values(changed, "--preset, with")
    return changed


def _audit_keys_given(config: AuditConfig) -> set[str]:
    """The ``[audit]`` keys ``config``'s file sets (none for a config of defaults)."""
    if config.source is None:
        return set()
    try:
        data = tomllib.loads(Path(config.source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set(dataclasses.asdict(config.audit))  # as read: keep every value
    audit = data.get("audit", {})
    return set(audit) if isinstance(audit, Mapping) else set()


def with_rules(config: AuditConfig, rules: Sequence[str]) -> AuditConfig:
    """``config`` with ``[audit] rules`` replaced by ``rules`` (checked as a config file's
    would be).

    Raises:
        ConfigError: a pack is unknown, invalid, or does not fit the config.
    """
    audit = dataclasses.replace(config.audit, rules=tuple(rules))
    changed = dataclasses.replace(config, audit=audit)
    _check_values(changed, "--rules, in place of")
    return changed


def with_engine(config: AuditConfig, backend: str) -> AuditConfig:
    """``config`` run on engine ``backend`` (``--engine``): ``"duckdb"`` or ``"spark"``.

    Raises:
        ConfigError: ``backend`` is neither.
    """
    engine = dataclasses.replace(config.engine, backend=backend)
    changed = dataclasses.replace(config, engine=engine)
    _check_values(changed, "--engine, with")
    return changed


def rule_packs(config: AuditConfig) -> tuple[RulePack, ...]:
    """The rule packs ``[audit] rules`` names, read (a relative path is taken from the
    config file's folder, else the working directory).

    Raises:
        ConfigError: a pack is unknown or not a valid pack file.
    """
    base = Path(config.source).parent if config.source else None
    return tuple(load_pack(name, base) for name in config.audit.rules)


def _check_rules(config: AuditConfig, bad: _Bad) -> None:
    """Each pack reads, is named once and counts in the audit's currency; a tiered pack
    has its zones mapped, to tiers it names."""
    names = config.audit.rules
    packs = rule_packs(config)
    seen: dict[str, str] = {}
    for given, pack in zip(names, packs, strict=True):
        if pack.name in seen:
            raise bad(
                "[audit] rules",
                f"a list of different rule packs; {seen[pack.name]!r} and {given!r} are both "
                f"pack {pack.name!r} (a pack of your own needs a name of its own)",
                list(names),
            )
        seen[pack.name] = given
    tiers: set[str] = set()
    for pack in packs:
        if pack.floor is not None and pack.currency != config.audit.currency.upper():
            raise bad(
                "[audit] rules",
                f"packs in the audit's currency ({config.audit.currency}); rule pack "
                f"{pack.name!r} counts in {pack.currency}",
                list(names),
            )
        if pack.tiered:
            tiers.update(pack.tiers)
            if not config.rules.zone_tiers and not config.rules.default_tier:
                raise bad(
                    "[rules] zone_tiers",
                    f"a map of zones to the tiers of rule pack {pack.name!r} ("
                    + ", ".join(f'"{t}"' for t in pack.tiers)
                    + "), or [rules] default_tier set: its rates differ by place",
                    {},
                )
    if not packs:
        return
    trimmed = [zone.strip() for zone in config.rules.zone_tiers]
    if len(set(trimmed)) != len(trimmed) or "" in trimmed:
        raise bad(
            "[rules] zone_tiers",
            "zones named once each, not empty (zones are compared without surrounding "
            "spaces, as the data's are read)",
            sorted(config.rules.zone_tiers),
        )
    known = (
        "tiers the chosen rule packs name ("
        + (", ".join(f'"{t}"' for t in sorted(tiers)) or "none: no pack is tiered")
        + ")"
    )
    unknown = sorted(set(config.rules.zone_tiers.values()) - {""} - tiers)
    if unknown:
        raise bad("[rules] zone_tiers", known, unknown[0])
    if config.rules.default_tier and config.rules.default_tier not in tiers:
        raise bad("[rules] default_tier", known, config.rules.default_tier)


BACKENDS = ("duckdb", "spark")
"""Engines ``[engine] backend`` may name."""


def _check_engine(engine: EngineSection, bad: _Bad) -> None:
    if engine.backend not in BACKENDS:
        raise bad("[engine] backend", '"duckdb" or "spark"', engine.backend)
    size = _memory_bytes(engine.memory_limit)
    if size is None:
        raise bad(
            "[engine] memory_limit",
            'a size such as "2GB" or "1536MiB" (units: ' + ", ".join(MEMORY_UNITS) + ")",
            engine.memory_limit,
        )
    if not MIN_MEMORY_BYTES <= size <= MAX_MEMORY_BYTES:
        raise bad(
            "[engine] memory_limit",
            'a size from "128MB" (what DuckDB needs for one thread) to "1000TB"',
            engine.memory_limit,
        )
    if not 0 <= engine.threads <= MAX_THREADS:
        raise bad(
            "[engine] threads", f"an integer in [0, {MAX_THREADS}] (0 = every core)", engine.threads
        )


def _memory_bytes(text: str) -> float | None:
    """Bytes of a DuckDB size such as ``"2GB"`` or ``"1536 MiB"`` (None if not one)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(B|[KMGT]i?B)", text)
    if match is None:
        return None
    return float(match.group(1)) * MEMORY_UNITS[match.group(2)]
