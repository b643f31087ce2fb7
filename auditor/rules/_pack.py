"""Rule packs: a jurisdiction's pay floor, as dated data.

A rule pack is a TOML file: what the rule is (name, version, title, jurisdiction, its legal
sources), how it measures pay, time and distance (``[floor]``) and its rates by effective
date (``[[rates]]``, optionally by tier of place). PAY-03 applies it; ``docs/rules.md``
describes the format and every shipped pack.

Packs shipped with auditor live in ``auditor/rules/packs/``; a user may point at their own
file instead of a name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError

__all__ = [
    "KM_PER_MILE",
    "PACKS_DIR",
    "FloorRule",
    "HolidayRule",
    "Rate",
    "RulePack",
    "Source",
    "WorkingTimeRule",
    "builtin_pack_names",
    "describe_pack",
    "load_pack",
]

PACKS_DIR = Path(__file__).parent / "packs"
"""Folder of the rule packs shipped with auditor."""

KM_PER_MILE = 1.609344
"""Kilometres in an international mile (exact by definition)."""

UNITS = ("trip", "week", "statement")
"""What one floor is computed over: each completed order, each worker-week (Monday to
Sunday, local time), or each pay statement (``payouts``: its period, the orders whose
local dropoff date it holds, and its own top-up)."""

PAY_COMPONENTS = ("worker_pay", "incentive", "tip_to_worker")
"""Order money a rule may count as pay."""

TRIP_TIMES = ("trip", "engaged")
"""Time of one order: ``trip`` from pickup to dropoff (the passenger's trip), ``engaged``
from acceptance to dropoff."""

WEEK_TIMES = ("engaged", "engaged_allowance", "online")
"""Time of a worker-week: ``engaged`` the union of acceptance-to-dropoff intervals,
``engaged_allowance`` that plus ``[earnings] engaged_allowance_minutes_per_order`` per
completed order, ``online`` session time (needs sessions)."""

DISTANCES = ("trip", "engaged")
"""Distance of one order: ``trip`` is ``distance_km`` (pickup to dropoff), ``engaged`` adds
``approach_km`` (the drive to the pickup)."""

MAX_AMOUNT = 100_000.0
"""Largest rate or minimum a pack may set (money per hour, minute, distance or trip): far
above any statute, low enough that no floor of plausible work overflows exact money."""

MAX_MULTIPLIER = 10.0
"""Largest ``multiplier`` on an hourly rate."""

DISTANCE_UNITS = {"km": 1.0, "mile": KM_PER_MILE}
"""Distance unit of a pack's per-distance rates -> kilometres in one."""

_PACK_KEYS = ("name", "version", "title", "jurisdiction", "currency", "summary", "sources",
              "floor", "rates", "working_time", "holidays")  # fmt: skip
_WORKING_TIME_KEYS = ("continuous_hours", "rest_minutes", "daily_hours")
_HOLIDAY_KEYS = ("dates", "pay", "min_premium")

MAX_PREMIUM = 10.0
"""Largest ``min_premium`` of a holiday rule (1000 % more)."""
_SOURCE_KEYS = ("title", "url", "cites")
_FLOOR_KEYS = ("unit", "pay", "time", "distance", "distance_unit", "net_of_deductions",
               "topup_within_days", "rounding")  # fmt: skip
_RATE_KEYS = ("effective_from", "effective_to", "tier", "hourly", "multiplier", "per_minute",
              "per_distance", "minimum")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Source:
    """A legal source of a pack: its title, where to read it, and what it states."""

    title: str
    url: str = ""
    cites: str = ""


@dataclass(frozen=True, slots=True)
class FloorRule:
    """How a pack measures what is paid against its floor.

    Attributes:
        unit: ``trip`` (each completed order has its floor) or ``week`` (each worker-week).
        pay: order money counted as pay (of :data:`PAY_COMPONENTS`); tips are excluded
            unless ``tip_to_worker`` is listed.
        time: time basis; of :data:`TRIP_TIMES` for trips, :data:`WEEK_TIMES` for weeks.
        distance: distance basis (:data:`DISTANCES`).
        distance_unit: ``km`` or ``mile``: the unit of ``per_distance`` rates.
        net_of_deductions: weeks only: itemised deductions are taken off the pay counted.
        topup_within_days: weeks only: a minimum-pay top-up (``payouts.minimum_pay_topup``)
            counts against the week's shortfall when paid within this many days after the
            end of the statement's period; None: the rule knows no top-ups.
    """

    unit: str
    pay: tuple[str, ...]
    time: str
    distance: str = "trip"
    distance_unit: str = "km"
    net_of_deductions: bool = False
    topup_within_days: int | None = None


@dataclass(frozen=True, slots=True)
class WorkingTimeRule:
    """A fatigue rule on order-taking time (HRS-02).

    Order-taking time is the union of a worker's acceptance-to-dropoff intervals; a stretch
    of it continues across gaps shorter than ``rest_minutes``.

    Attributes:
        continuous_hours: once a stretch has lasted longer than this (hours, from its first
            acceptance to the end of the current order), no offer may be sent for
            ``rest_minutes`` after each order it completes.
        rest_minutes: the required pause in dispatch, counted from completing the order.
        daily_hours: order-taking hours in a local day past which offers need the worker's
            own confirmation (reported: the package records no confirmation); 0: none.
    """

    continuous_hours: float
    rest_minutes: float
    daily_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class HolidayRule:
    """A statutory-holiday pay rule (PAY-04): work on these dates must pay more.

    Attributes:
        dates: the statutory holidays (local dates), sorted, no repeats.
        pay: order money counted as pay (of :data:`PAY_COMPONENTS`).
        min_premium: the premium, as a fraction of what the same work pays on other days,
            that the rule requires; 0: "more" with no number (paying more by less than
            ``[earnings] holiday_premium_materiality`` is then taken as not paying more).
    """

    dates: tuple[dt.date, ...]
    pay: tuple[str, ...]
    min_premium: float = 0.0


@dataclass(frozen=True, slots=True)
class Rate:
    """The floor's parameters from ``effective_from`` to ``effective_to`` (inclusive; None:
    open-ended), for one tier of place ("" where the pack has no tiers). Money is in the
    pack's currency.

    The floor of a trip is ``max(per_minute x minutes + per_distance x distance,
    minimum)``; of a week ``hourly x multiplier x hours + per_minute x minutes +
    per_distance x distance``, summed over the week's orders; both rounded to the cent.

    Attributes:
        hourly: money per hour of the time basis (a minimum wage); weeks only.
        multiplier: factor on ``hourly`` (1.2: 120 % of the minimum wage).
        per_minute: money per minute of order time (the order's ``time`` basis).
        per_distance: money per ``distance_unit`` of the order's distance.
        minimum: the least a trip may pay, whatever its time and distance.
    """

    effective_from: dt.date
    effective_to: dt.date | None = None
    tier: str = ""
    hourly: float = 0.0
    multiplier: float = 1.0
    per_minute: float = 0.0
    per_distance: float = 0.0
    minimum: float = 0.0


@dataclass(frozen=True, slots=True)
class RulePack:
    """A rule pack read from its TOML file.

    Attributes:
        name: the pack's name (the file's stem for shipped packs).
        version: the pack's own version (the date of its latest rates, say).
        title: one line naming the rule.
        jurisdiction: where the rule applies.
        currency: ISO 4217 code of every amount; must be the audit's ``[audit] currency``
            ("" for a pack without a pay floor).
        summary: what the rule asks, in two or three sentences.
        sources: the legal texts its numbers come from.
        floor: how pay, time and distance are measured (PAY-03); None: no pay floor.
        rates: the floor's parameters by effective date (and tier), sorted.
        working_time: a fatigue rule (HRS-02); None: none.
        holidays: a statutory-holiday pay rule (PAY-04); None: none.
        sha256: SHA-256 of the file's bytes (recorded in the finding).
        path: the file read.
    """

    name: str
    version: str
    title: str
    jurisdiction: str
    currency: str
    summary: str
    sources: tuple[Source, ...]
    floor: FloorRule | None
    rates: tuple[Rate, ...]
    sha256: str
    path: Path
    working_time: WorkingTimeRule | None = None
    holidays: HolidayRule | None = None

    @property
    def tiered(self) -> bool:
        """Whether the rates differ by tier of place (``[rules] zone_tiers`` maps zones)."""
        return any(r.tier for r in self.rates)

    @property
    def tiers(self) -> tuple[str, ...]:
        """The tiers the rates name, sorted ("" alone for a pack without tiers)."""
        return tuple(sorted({r.tier for r in self.rates}))

    def to_dict(self) -> dict[str, Any]:
        """What a finding records of the pack: name, version, file hash and title."""
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "jurisdiction": self.jurisdiction,
            "sha256": self.sha256,
        }


def builtin_pack_names() -> tuple[str, ...]:
    """Names of the packs shipped with auditor, sorted."""
    return tuple(sorted(p.stem for p in PACKS_DIR.glob("*.toml")))


def load_pack(name_or_path: str, base: Path | None = None) -> RulePack:
    """Read a shipped pack by name, or a pack file by path (``.toml``; a relative path is
    taken from ``base``, else the working directory).

    Raises:
        ConfigError: no such pack, or the file is not a valid pack (the message names the
            file and the key).
    """
    path = _locate(name_or_path, base)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"rule pack {path}: cannot read it ({exc.strerror}).") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"rule pack {path}: not UTF-8 at byte offset {exc.start}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rule pack {path}: not valid TOML: {exc}.") from exc
    return _parse(data, path, hashlib.sha256(raw).hexdigest())


def _locate(name_or_path: str, base: Path | None) -> Path:
    text = name_or_path.strip()
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if not path.is_file():
            raise ConfigError(f"rule pack {path}: no such file.")
        return path
    names = builtin_pack_names()
    if text not in names:
        close = difflib.get_close_matches(text.lower(), names, n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise ConfigError(
            f"unknown rule pack {text!r}.{hint} Shipped packs: {', '.join(names)} "
            "(`auditor rules` lists them); or give the path of a pack file ending in .toml."
        )
    return PACKS_DIR / f"{text}.toml"


class _Reader:
    """Typed access to one table of a pack file, with errors naming file and key."""

    def __init__(self, data: Mapping[str, Any], where: str, known: Sequence[str]) -> None:
        self.data, self.where = data, where
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f' Did you mean "{close[0]}"?' if close else ""
                raise ConfigError(
                    f"{where}: unknown key {key!r}.{hint} Known keys: {', '.join(known)}."
                )

    def bad(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.where} {key} must be {expected}; got {self.data.get(key)!r}.")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.bad(key, "a non-empty string")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in allowed:
            raise self.bad(key, " or ".join(f'"{a}"' for a in allowed))
        return str(value)

    def number(self, key: str, default: float, most: float = MAX_AMOUNT) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.bad(key, "a number")
        if not math.isfinite(value) or not 0 <= value <= most:
            raise self.bad(key, f"a number from 0 to {most:,g}")
        return float(value)

    def date(self, key: str, *, required: bool) -> dt.date | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise self.bad(key, "a date written YYYY-MM-DD") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise self.bad(key, "a date written YYYY-MM-DD")
        return value


def _parse(data: Mapping[str, Any], path: Path, sha256: str) -> RulePack:
    top = _Reader(data, f"rule pack {path}:", _PACK_KEYS)
    if not {"floor", "working_time", "holidays"} & set(data):
        raise top.bad("floor", "a [floor], [working_time] or [holidays] table (or several)")
    currency = top.text("currency", "" if "floor" not in data else None)
    if currency and (len(currency) != 3 or not (currency.isascii() and currency.isalpha())):
        raise top.bad("currency", 'a 3-letter ISO 4217 code such as "USD"')
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not sources:
        raise top.bad("sources", "a list of [[sources]] tables (at least one)")
    parsed_sources = []
    for i, s in enumerate(sources, 1):
        if not isinstance(s, Mapping):
            raise top.bad("sources", "a list of [[sources]] tables")
        r = _Reader(s, f"rule pack {path}: [[sources]] #{i}", _SOURCE_KEYS)
        parsed_sources.append(Source(r.text("title"), r.text("url", ""), r.text("cites", "")))
    floor, rates = None, []
    if "floor" in data:
        floor_data = data["floor"]
        if not isinstance(floor_data, Mapping):
            raise top.bad("floor", "a [floor] table")
        floor = _parse_floor(_Reader(floor_data, f"rule pack {path}: [floor]", _FLOOR_KEYS))
        rate_rows = data.get("rates", [])
        if not isinstance(rate_rows, list) or not rate_rows:
            raise top.bad("rates", "a list of [[rates]] tables (at least one)")
        for i, row in enumerate(rate_rows, 1):
            if not isinstance(row, Mapping):
                raise top.bad("rates", "a list of [[rates]] tables")
            reader = _Reader(row, f"rule pack {path}: [[rates]] #{i}", _RATE_KEYS)
            rates.append(_parse_rate(reader, floor))
        rates.sort(key=lambda r: (r.tier, r.effective_from))
        _check_rates(rates, path)
    elif "rates" in data:
        raise top.bad("rates", "absent without a [floor] table")
    working_time = None
    if "working_time" in data:
        wt = data["working_time"]
        if not isinstance(wt, Mapping):
            raise top.bad("working_time", "a [working_time] table")
        working_time = _parse_working_time(
            _Reader(wt, f"rule pack {path}: [working_time]", _WORKING_TIME_KEYS)
        )
    holidays = None
    if "holidays" in data:
        hd = data["holidays"]
        if not isinstance(hd, Mapping):
            raise top.bad("holidays", "a [holidays] table")
        holidays = _parse_holidays(_Reader(hd, f"rule pack {path}: [holidays]", _HOLIDAY_KEYS))
    return RulePack(
        name=top.text("name"),
        version=top.text("version"),
        title=top.text("title"),
        jurisdiction=top.text("jurisdiction"),
        currency=currency.upper(),
        summary=top.text("summary", ""),
        sources=tuple(parsed_sources),
        floor=floor,
        rates=tuple(rates),
        sha256=sha256,
        path=path,
        working_time=working_time,
        holidays=holidays,
    )


def _parse_holidays(r: _Reader) -> HolidayRule:
    dates = r.data.get("dates")
    if not isinstance(dates, list) or not dates:
        raise r.bad("dates", "a list of dates written YYYY-MM-DD (at least one)")
    days = []
    for value in dates:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise r.bad("dates", "a list of dates written YYYY-MM-DD") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise r.bad("dates", "a list of dates written YYYY-MM-DD")
        days.append(value)
    if len(set(days)) != len(days):
        raise r.bad("dates", "a list of dates, each once")
    pay = r.data.get("pay", ["worker_pay", "incentive"])
    if (
        not isinstance(pay, list)
        or not pay
        or any(p not in PAY_COMPONENTS for p in pay)
        or len(set(pay)) != len(pay)
    ):
        raise r.bad("pay", f"a list of distinct pay columns from {', '.join(PAY_COMPONENTS)}")
    premium = r.number("min_premium", 0.0, most=MAX_PREMIUM)
    return HolidayRule(dates=tuple(sorted(days)), pay=tuple(pay), min_premium=premium)


def _parse_working_time(r: _Reader) -> WorkingTimeRule:
    continuous = r.number("continuous_hours", -1.0) if "continuous_hours" in r.data else -1.0
    if not 0 < continuous <= 24:
        raise r.bad("continuous_hours", "hours in (0, 24]")
    rest = r.number("rest_minutes", -1.0) if "rest_minutes" in r.data else -1.0
    if not 0 < rest <= 24 * 60:
        raise r.bad("rest_minutes", "minutes in (0, 1440]")
    daily = r.number("daily_hours", 0.0)
    if daily > 24:
        raise r.bad("daily_hours", "hours in [0, 24] (0: no daily mark)")
    return WorkingTimeRule(continuous_hours=continuous, rest_minutes=rest, daily_hours=daily)


def _parse_floor(r: _Reader) -> FloorRule:
    unit = r.choice("unit", UNITS)
    pay = r.data.get("pay", ["worker_pay"])
    if (
        not isinstance(pay, list)
        or not pay
        or any(p not in PAY_COMPONENTS for p in pay)
        or len(set(pay)) != len(pay)
        or "worker_pay" not in pay
    ):
        raise r.bad("pay", 'a list of different items of "worker_pay", "incentive", '
                    '"tip_to_worker", with "worker_pay"')  # fmt: skip
    times = TRIP_TIMES if unit == "trip" else WEEK_TIMES  # a statement is timed as a week
    time = r.choice("time", times)
    net = r.data.get("net_of_deductions", False)
    if not isinstance(net, bool):
        raise r.bad("net_of_deductions", "true or false")
    if net and unit == "trip":
        raise r.bad("net_of_deductions", 'false for a "trip" rule (deductions are per period)')
    topup = r.data.get("topup_within_days")
    if topup is not None:
        if unit == "trip":
            raise r.bad("topup_within_days", 'absent for a "trip" rule')
        if isinstance(topup, bool) or not isinstance(topup, int) or not 0 <= topup <= 366:
            raise r.bad("topup_within_days", "a whole number of days in [0, 366]")
    rounding = r.data.get("rounding", "cent")
    if rounding != "cent":
        raise r.bad("rounding", '"cent" (floors are rounded to the cent)')
    return FloorRule(
        unit=unit,
        pay=tuple(pay),
        time=time,
        distance=r.choice("distance", DISTANCES, "trip"),
        distance_unit=r.choice("distance_unit", tuple(DISTANCE_UNITS), "km"),
        net_of_deductions=net,
        topup_within_days=topup,
    )


def _parse_rate(r: _Reader, floor: FloorRule) -> Rate:
    start = r.date("effective_from", required=True)
    assert start is not None
    end = r.date("effective_to", required=False)
    if end is not None and end < start:
        raise r.bad("effective_to", f"on or after effective_from ({start})")
    tier = r.text("tier", "")
    rate = Rate(
        effective_from=start,
        effective_to=end,
        tier=tier.strip(),
        hourly=r.number("hourly", 0.0),
        multiplier=r.number("multiplier", 1.0, MAX_MULTIPLIER),
        per_minute=r.number("per_minute", 0.0),
        per_distance=r.number("per_distance", 0.0),
        minimum=r.number("minimum", 0.0),
    )
    if floor.unit == "trip" and rate.hourly:
        raise r.bad("hourly", 'absent for a "trip" rule (use per_minute)')
    if floor.unit != "trip" and rate.minimum:
        raise r.bad("minimum", f'absent for a "{floor.unit}" rule (a per-trip minimum)')
    if not (rate.hourly * rate.multiplier or rate.per_minute or rate.per_distance
            or rate.minimum):  # fmt: skip
        raise r.bad("hourly", "set, or per_minute, per_distance or minimum: a floor of zero "
                    "asks nothing")  # fmt: skip
    return rate


def _check_rates(rates: list[Rate], path: Path) -> None:
    """Tiers all named or all empty; within a tier, effective periods do not overlap."""
    if len({bool(r.tier) for r in rates}) > 1:
        raise ConfigError(
            f"rule pack {path}: [[rates]] name a tier in some rows and not in others; name "
            "one in every row, or in none."
        )
    for before, after in itertools.pairwise(rates):
        if before.tier != after.tier:
            continue
        if before.effective_to is None or before.effective_to >= after.effective_from:
            tier = f" of tier {after.tier!r}" if after.tier else ""
            raise ConfigError(
                f"rule pack {path}: [[rates]]{tier} from {before.effective_from} and from "
                f"{after.effective_from} overlap; end the first (effective_to) before the "
                "second starts."
            )


def describe_pack(pack: RulePack) -> str:
    """A pack in plain text: what it asks, how it measures, its sources and its rates."""
    lines = [
        f"{pack.name} ({pack.version}): {pack.title}",
        f"Jurisdiction: {pack.jurisdiction}."
        + (f" Currency: {pack.currency}." if pack.currency else ""),
    ]
    if pack.summary.strip():
        lines += ["", pack.summary.strip()]
    if pack.working_time is not None:
        wt = pack.working_time
        lines += [
            "",
            f"Working time (HRS-02): after more than {wt.continuous_hours:g} h of continuous "
            f"order-taking, no offer for {wt.rest_minutes:g} minutes after each order completed"
            + (
                f"; offers past {wt.daily_hours:g} h of order-taking in a day need the worker's "
                "confirmation"
                if wt.daily_hours
                else ""
            )
            + ".",
        ]
    if pack.holidays is not None:
        h = pack.holidays
        premium = f"at least {h.min_premium:.0%} more" if h.min_premium else "more (no number set)"
        years = sorted({d.year for d in h.dates})
        lines += [
            "",
            f"Holiday pay (PAY-04): work on {len(h.dates)} statutory holidays "
            f"({', '.join(map(str, years))}) pays {premium} than the same work on other "
            f"days; pay counted: {', '.join(h.pay)}.",
            "  " + ", ".join(d.isoformat() for d in h.dates),
        ]
    if pack.floor is not None:
        lines += _describe_floor(pack)
    lines += ["", "Sources:"]
    lines += [
        f"  {s.title}" + (f" ({s.cites})" if s.cites else "") + (f" <{s.url}>" if s.url else "")
        for s in pack.sources
    ]
    lines.append(f"File: {pack.path} (sha256 {pack.sha256[:16]}...)")
    return "\n".join(lines)


def _describe_floor(pack: RulePack) -> list[str]:
    f = pack.floor
    assert f is not None
    unit = {
        "trip": "each completed trip",
        "week": "each worker-week (Monday to Sunday)",
        "statement": "each pay statement (payouts)",
    }[f.unit]
    lines = [
        "",
        f"Pay floor (PAY-03) over {unit}; time: {f.time}; "
        f"distance: {f.distance} ({f.distance_unit}); "
        f"pay counted: {', '.join(f.pay)}"
        + ("; net of deductions" if f.net_of_deductions else "")
        + (
            f"; top-ups count when paid within {f.topup_within_days} days of the period's end"
            if f.topup_within_days is not None
            else ""
        )
        + ".",
        "",
        "Rates:",
    ]
    for r in pack.rates:
        until = str(r.effective_to) if r.effective_to else "open-ended"
        parts = []
        if r.hourly:
            times = f" x {r.multiplier:g}" if r.multiplier != 1 else ""
            parts.append(f"{r.hourly:g}{times} an hour")
        if r.per_minute:
            parts.append(f"{r.per_minute:g} a minute")
        if r.per_distance:
            parts.append(f"{r.per_distance:g} a {f.distance_unit}")
        if r.minimum:
            parts.append(f"at least {r.minimum:g} a trip")
        tier = f" tier {r.tier}" if r.tier else ""
        lines.append(f"  {r.effective_from} to {until}{tier}: " + ", ".join(parts))
    return lines
