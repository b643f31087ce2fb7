"""What to simulate: the specification of a synthetic platform and its planted breaches.

`SimulationSpec` says how large the platform is, how busy and how it prices; `PlantOptions`
tunes the breaches named in `SimulationSpec.plants`. Both are frozen and do no work: the
values are checked by `check_spec` when `simulate` runs.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PLANT_IDS", "PlantOptions", "SimulationSpec", "check_spec", "spec_to_json"]

#: Catalogue check IDs for which `simulate` can plant a breach, in catalogue order.
PLANT_IDS: tuple[str, ...] = (
    "FEE-01",
    "FEE-02",
    "FEE-03",
    "FEE-04",
    "FEE-05",
    "FEE-06",
    "PAY-01",
    "PAY-02",
    "DSP-01",
    "DSP-02",
    "PRC-01",
    "PRC-02",
    "HRS-01",
    "INS-01",
    "DED-01",
    "FEE-08",
    "ACC-01",
    "CMP-01",
    "ACC-02",
    "FEE-07",
    "FEE-09",
    "PAY-05",
    "DSP-04",
)


@dataclass(frozen=True, slots=True)
class PlantOptions:
    """Parameters of the planted breaches (used only for the IDs listed in ``plants``).

    Sizes given as fractions are relative (0.10 = 10 %); rates are fractions of the fare base.

    Attributes:
        group_attribute: worker attribute of the disadvantaged group (PAY-02, DSP-01, DSP-02,
            DED-01), a column of ``workers``.
        group_value: the disadvantaged group's value of ``group_attribute``.
        fee01_zone: pickup zone whose orders are charged ``fee01_rate`` (FEE-01).
        fee01_rate: actual take rate in ``fee01_zone``, a fraction (above the cap to breach).
        fee02_order_share: share of orders carrying the undisclosed fee (FEE-02).
        fee02_fee_share: undisclosed fee as a fraction of the quoted worker pay; ``None`` uses
            ``plant_size`` (FEE-02).
        fee03_worker_share: share of workers whose statements are short (FEE-03).
        fee03_shortfall: shortfall as a fraction of the statement's net due; ``None`` uses
            ``plant_size / 2`` (FEE-03).
        fee04_step: take-rate increase from the change day, in rate points as a fraction (FEE-04).
        fee04_change_day: day index (0 = ``start``) the change takes effect; ``None`` = the middle.
        fee04_announced: publish the change in ``fee_schedule`` 14 days ahead, which makes it
            lawful (no breach): the control case of FEE-04.
        fee05_spread: half-width of the uniform per-worker pay multiplier, ``1 ± spread``;
            ``None`` uses ``plant_size`` (FEE-05).
        fee06_order_share: share of tipped orders whose tip is cut (FEE-06).
        fee06_withheld: fraction of each affected tip kept by the platform; ``None`` uses
            ``plant_size`` (FEE-06).
        fee07_offset: share of each tip the platform takes out of its own quoted pay, on
            every tipped order (FEE-07).
        fee09_slope: points (a fraction) of take rate added per halving of the fare below
            the median fare, and removed per doubling above it, on every priced order
            (FEE-09: a regressive take against a flat declared rate).
        fee08_order_share: share of completed orders paid below the accepted quote (FEE-08).
        fee08_cut: fraction of the quote not paid on those orders; ``None`` uses
            ``plant_size`` (FEE-08).
        pay01_factor: factor on fares (so on pay, take rate unchanged) for PAY-01.
        prc01_segment: customer segment overcharged by ``plant_size`` (PRC-01).
        prc02_count: number of grossly mispriced orders (PRC-02).
        prc02_factor_range: range of the price multipliers of those orders (PRC-02).
        hrs01_worker_share: share of active workers who overwork on some days (HRS-01).
        hrs01_day_share: share of those workers' active days with an overlong day or
            no break (HRS-01).
        ins01_missing_share: share of workers whose orders carry no injury premium (INS-01).
        ins01_worker_paid_share: share of workers whose premium is charged to them (INS-01).
        ded01_rate_ratio: penalty rate of the group relative to everyone else (DED-01).
        ded01_upheld_rate: share of the group's appeals that are upheld, versus
            ``SimulationSpec.appeal_upheld_rate`` for others (DED-01).
        acc01_action_share: share of restrictive account actions taken by the system
            alone, never explained, and reviewed 15 to 30 days after an appeal (ACC-01).
        cmp01_complaint_share: share of complaints resolved 15 to 40 days after they were
            received, or not by the export (CMP-01).
        acc02_rate_ratio: the group's suspensions and deactivations per online hour relative
            to everyone else's (ACC-02).
        pay05_step: points (a fraction) of take rate added, from the change day, to orders
            accepted in the ``pay05_hours`` (PAY-05: a new pay rule, announced in
            ``fee_schedule`` with the same headline rate, that cuts pay at night).
        pay05_hours: local hours ``(from, to)`` the step applies to, wrapping midnight
            where ``from > to``.
        pay05_change_day: day index (0 = ``start``) the new rule takes effect; ``None`` =
            the middle. Not the day of an unannounced FEE-04 change (its declared row would
            declare that change too). PAY-05's ground truth counts its own step only: a
            FEE-04 change inside its window moves what PAY-05 reads as well.
        dsp04_withheld: share of the offers a worker would have declined or let expire that
            are not made in the ``dsp04_window_minutes`` after the same worker refused an
            offer (DSP-04: refusals penalised with fewer offers). Offers the worker accepts
            stay, so the cut in offers after a refusal is smaller than this share; the
            ground truth gives it.
        dsp04_window_minutes: minutes after a refusal during which offers are withheld.
    """

    group_attribute: str = "gender"
    group_value: str = "F"
    fee01_zone: str = "Z03"
    fee01_rate: float = 0.35
    fee02_order_share: float = 0.5
    fee02_fee_share: float | None = None
    fee03_worker_share: float = 0.10
    fee03_shortfall: float | None = None
    fee04_step: float = 0.05
    fee04_change_day: int | None = None
    fee04_announced: bool = False
    fee05_spread: float | None = None
    fee06_order_share: float = 0.5
    fee06_withheld: float | None = None
    fee07_offset: float = 0.5
    fee09_slope: float = 0.04
    fee08_order_share: float = 0.2
    fee08_cut: float | None = None
    pay01_factor: float = 0.45
    prc01_segment: str = "ios"
    prc02_count: int = 12
    prc02_factor_range: tuple[float, float] = (5.0, 10.0)
    hrs01_worker_share: float = 0.05
    hrs01_day_share: float = 0.5
    ins01_missing_share: float = 0.05
    ins01_worker_paid_share: float = 0.05
    ded01_rate_ratio: float = 2.0
    ded01_upheld_rate: float = 0.05
    acc01_action_share: float = 0.3
    cmp01_complaint_share: float = 0.3
    acc02_rate_ratio: float = 2.0
    pay05_step: float = 0.10
    pay05_hours: tuple[int, int] = (20, 6)
    pay05_change_day: int | None = None
    dsp04_withheld: float = 0.8
    dsp04_window_minutes: float = 15.0


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """A synthetic platform: size, seed, market knobs and the breaches to plant.

    Attributes:
        workers: number of registered workers.
        days: number of simulated local days, from ``start``.
        seed: seed of ``numpy.random.default_rng``; same spec, same tables.
        start: first local day (2026-03-02 is a Monday; payout weeks run Monday to Sunday).
        timezone: IANA zone of the platform's local time.
        plants: catalogue check IDs to plant a breach for (see ``PLANT_IDS``).
        plant_size: relative size of planted disparities (0.10 = a 10 % gap).
        plant_options: finer parameters of each plant.
        zones: number of zones ``Z01``..``Znn`` (2 to 99).
        demand_scale: multiplier on all order arrival rates (1.0 gives about 14 orders per
            registered worker and day).
        car_share: share of workers driving a car (cars do rides only).
        female_share: share of workers with gender ``F``.
        parcel_share: share of two-wheeler orders that are parcels rather than food.
        cancel_rate: share of accepted orders that are cancelled.
        tip_rate: share of completed orders with a tip.
        penalty_rate: base probability that a completed order draws a penalty.
        appeal_rate: share of penalties that are appealed.
        appeal_upheld_rate: share of appeals upheld.
        commission_rate: declared standard take rate, a fraction of the fare base.
        commission_cap: declared maximum take rate, a fraction.
        minimum_hourly_wage: hourly minimum in CNY, used only for ground-truth statistics.
        account_action_rate: account actions per worker who took an order, per 30 days.
        complaint_rate: complaints per worker who took an order, per 30 days.
    """

    workers: int = 300
    days: int = 14
    seed: int = 0
    start: datetime.date = datetime.date(2026, 3, 2)
    timezone: str = "Asia/Shanghai"
    plants: tuple[str, ...] = ()
    plant_size: float = 0.10
    plant_options: PlantOptions = field(default_factory=PlantOptions)
    zones: int = 12
    demand_scale: float = 1.0
    car_share: float = 0.22
    female_share: float = 0.22
    parcel_share: float = 0.12
    cancel_rate: float = 0.04
    tip_rate: float = 0.05
    penalty_rate: float = 0.012
    appeal_rate: float = 0.25
    appeal_upheld_rate: float = 0.4
    commission_rate: float = 0.20
    commission_cap: float = 0.30
    minimum_hourly_wage: float = 25.0
    account_action_rate: float = 0.3
    complaint_rate: float = 0.5


def _fail(name: str, expected: str, got: object) -> ValueError:
    return ValueError(
        f"SimulationSpec.{name} must be {expected}. Got {got!r} instead; change the spec."
    )


def check_spec(spec: SimulationSpec) -> None:
    """Raise ``ValueError`` naming the first field of ``spec`` that cannot be simulated."""
    if not isinstance(spec.workers, int) or spec.workers < 1:
        raise _fail("workers", "an int >= 1", spec.workers)
    if not isinstance(spec.days, int) or not 1 <= spec.days <= 366:
        raise _fail("days", "an int in [1, 366]", spec.days)
    if not isinstance(spec.start, datetime.date):
        raise _fail("start", "a datetime.date", spec.start)
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise _fail("timezone", "an IANA time zone name", spec.timezone) from exc
    unknown = [p for p in spec.plants if p not in PLANT_IDS]
    if isinstance(spec.plants, str) or unknown:
        raise ValueError(
            f"SimulationSpec.plants must name catalogue checks among {', '.join(PLANT_IDS)}. "
            f"Got {unknown or spec.plants!r} instead; remove or correct them."
        )
    if not 0.0 < spec.plant_size < 0.5:
        raise _fail("plant_size", "a fraction in (0, 0.5)", spec.plant_size)
    if not 2 <= spec.zones <= 99:
        raise _fail("zones", "an int in [2, 99]", spec.zones)
    if not 0.0 < spec.demand_scale <= 10.0 or not math.isfinite(spec.demand_scale):
        raise _fail("demand_scale", "a number in (0, 10]", spec.demand_scale)
    for name in (
        "car_share",
        "female_share",
        "parcel_share",
        "cancel_rate",
        "tip_rate",
        "penalty_rate",
        "appeal_rate",
        "appeal_upheld_rate",
    ):
        value = getattr(spec, name)
        if not 0.0 <= value <= 1.0:
            raise _fail(name, "a fraction in [0, 1]", value)
    for name in ("account_action_rate", "complaint_rate"):
        value = getattr(spec, name)
        if not 0.0 <= value <= 30.0 or not math.isfinite(value):
            raise _fail(name, "a rate in [0, 30] per worker and 30 days", value)
    if not 0.0 <= spec.commission_rate < spec.commission_cap < 1.0:
        raise _fail(
            "commission_rate",
            "in [0, commission_cap) with commission_cap < 1",
            (spec.commission_rate, spec.commission_cap),
        )
    opts = spec.plant_options
    if opts.group_attribute not in ("gender", "age_band", "vehicle_type"):
        raise ValueError(
            "PlantOptions.group_attribute must be one of 'gender', 'age_band', "
            f"'vehicle_type'. Got {opts.group_attribute!r} instead."
        )
    if not 0.0 < opts.fee07_offset <= 1.0:
        raise _fail("plant_options.fee07_offset", "a fraction in (0, 1]", opts.fee07_offset)
    if not 0.0 < opts.fee09_slope <= 0.2:
        raise _fail("plant_options.fee09_slope", "a fraction in (0, 0.2]", opts.fee09_slope)
    if not 0.0 < opts.pay05_step <= 0.5:
        raise _fail("plant_options.pay05_step", "a fraction in (0, 0.5]", opts.pay05_step)
    hours = opts.pay05_hours
    if len(hours) != 2 or not all(isinstance(h, int) and 0 <= h <= 23 for h in hours):
        raise _fail("plant_options.pay05_hours", "two local hours in [0, 23]", hours)
    day = opts.pay05_change_day
    if day is not None and not 1 <= day < spec.days:
        raise _fail("plant_options.pay05_change_day", "a day index in [1, days), or None", day)
    fee04_day = spec.days // 2 if opts.fee04_change_day is None else opts.fee04_change_day
    pay05_day = spec.days // 2 if day is None else day
    both = {"FEE-04", "PAY-05"} <= set(spec.plants)
    if both and not opts.fee04_announced and fee04_day == pay05_day:
        raise ValueError(
            "plant_options.pay05_change_day: PAY-05's declared change would declare FEE-04's "
            f"unannounced one (both on day {pay05_day}); set pay05_change_day or "
            "fee04_change_day to another day."
        )
    if not 0.0 < opts.dsp04_withheld <= 1.0:
        raise _fail("plant_options.dsp04_withheld", "a fraction in (0, 1]", opts.dsp04_withheld)
    if not 0.0 < opts.dsp04_window_minutes <= 24 * 60:
        minutes = opts.dsp04_window_minutes
        raise _fail("plant_options.dsp04_window_minutes", "minutes in (0, 1440]", minutes)
    if not 0.0 <= opts.fee08_order_share <= 1.0:
        share = opts.fee08_order_share
        raise _fail("plant_options.fee08_order_share", "a fraction in [0, 1]", share)
    if opts.fee08_cut is not None and not 0.0 < opts.fee08_cut < 1.0:
        raise _fail("plant_options.fee08_cut", "a fraction in (0, 1), or None", opts.fee08_cut)
    if not 1.0 <= opts.acc02_rate_ratio <= 100.0 or not math.isfinite(opts.acc02_rate_ratio):
        raise _fail("plant_options.acc02_rate_ratio", "a ratio in [1, 100]", opts.acc02_rate_ratio)
    for name in ("acc01_action_share", "cmp01_complaint_share"):
        value = getattr(opts, name)
        if not 0.0 <= value <= 1.0:
            raise _fail(f"plant_options.{name}", "a fraction in [0, 1]", value)
    zone_names = [f"Z{i + 1:02d}" for i in range(spec.zones)]
    if "FEE-01" in spec.plants and opts.fee01_zone not in zone_names:
        raise ValueError(
            f"PlantOptions.fee01_zone must be one of {zone_names[0]}..{zone_names[-1]}. "
            f"Got {opts.fee01_zone!r} instead."
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def spec_to_json(spec: SimulationSpec) -> dict[str, Any]:
    """The spec as a JSON-serialisable dict (dates as ISO strings, tuples as lists)."""
    out = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    out["plant_options"] = {
        f.name: getattr(spec.plant_options, f.name) for f in dataclasses.fields(spec.plant_options)
    }
    return {k: _jsonable(v) for k, v in out.items()}
