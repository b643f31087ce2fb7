"""Presets: public record formats read as they are published, their columns derived into
the contract's ``orders`` table.

A preset replaces the package folder and the column mapping: ``[package] preset`` names
it, and the package is one file of the format or a folder of such files (months, say),
read as one table. The files' own columns are kept beside the derived ones.

``nyc-tlc-hvfhv``: the New York City Taxi and Limousine Commission's High Volume
For-Hire Vehicle trip records (``fhvhv_tripdata_YYYY-MM.parquet``, one row per Uber,
Lyft, Via or Juno trip). They carry no driver IDs, so checks that follow workers are
not assessed (see :data:`NO_WORKERS`); the per-trip checks run, by company.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.errors import PackageError
from auditor.schema import ENGINE_TYPE
from auditor.schema import ColumnType as T

__all__ = ["NO_WORKERS", "PRESETS", "Preset", "preset_files"]

NO_WORKERS = "orders.worker_id"
"""What a check that follows workers lacks in a package without worker IDs."""

KM_PER_MILE = 1.609344
"""Kilometres in an international mile (exact)."""


@dataclass(frozen=True, slots=True)
class Preset:
    """A published record format and how its columns become the contract's.

    Attributes:
        name: the ``[package] preset`` value.
        title: what the records are.
        table: the contract table the records fill.
        needs: the source columns every file must have.
        derive: ``(records, file_stems) -> contract column -> expression``; ``records``
            has the files' own columns and ``_file``, ``_file_row`` (which file, which
            record of it).
        currency: ISO 4217 code of the records' money.
        timezone: IANA zone of the records' wall-clock times.
        rules: rule packs that apply to the records by default.
        sources: column name in the derived table -> the source columns it comes from
            (for messages naming a column).
        types: source column -> "number" or "timestamp", the type it is published in.
    """

    name: str
    title: str
    table: str
    needs: tuple[str, ...]
    derive: Callable[[Table, tuple[str, ...]], Mapping[str, ir.Value]]
    currency: str
    timezone: str
    rules: tuple[str, ...]
    sources: Mapping[str, str]
    types: Mapping[str, str]


_TLC_COMPANIES = {"HV0002": "juno", "HV0003": "uber", "HV0004": "via", "HV0005": "lyft"}
"""TLC high-volume licence numbers and the companies that hold them (TLC data dictionary)."""

_TLC_PASS_THROUGH = ("tolls", "bcf", "sales_tax", "congestion_surcharge", "airport_fee")
"""Amounts the rider pays that go to neither the company nor the driver: tolls, the Black
Car Fund, sales tax, the congestion surcharge and the airport fee."""


MAX_DOLLARS = 1e13
"""Largest amount the contract's exact money holds with room for sums (DECIMAL(18, 4))."""


def _finite(value: ir.Value) -> ir.BooleanValue:
    """A stored amount that is a finite number exact money can hold."""
    v = value.cast("float64")
    return v.notnull() & ~v.isnan() & ~v.isinf() & (v.abs() < MAX_DOLLARS)


def _money(value: ir.Value) -> ir.DecimalValue:
    """A dollar amount as the contract's exact money (dollars to 4 decimals); null where it
    is not a finite amount (see :func:`_unusable`)."""
    return ibis.ifelse(_finite(value), value, ibis.null("float64")).try_cast(ENGINE_TYPE[T.MONEY])


def _unusable(value: ir.Value) -> ir.BooleanValue:
    """A stored amount that is present but not a finite amount (NaN, infinity, beyond
    exact money): the trip's price is then missing, so validation quarantines it."""
    return value.notnull() & ~_finite(value)


def _tlc_orders(t: Table, stems: tuple[str, ...]) -> dict[str, ir.Value]:
    """The contract's orders columns from TLC HVFHV trip records.

    - ``order_id``: ``<file stem>:<record>``, which names the trip in the public file.
    - ``service``: the company (``uber``, ``lyft``, ``via``, ``juno``; another licence
      number as it is): each sets its own fares and pay, so like is compared with like.
    - ``requested_at`` and ``accepted_at``: the request time (the records have no
      acceptance time); ``pickup_at``, ``dropoff_at``: pickup and dropoff.
    - zones: the TLC taxi zone numbers; ``distance_km``: ``trip_miles`` in km.
    - ``customer_price``: base fare plus the pass-through amounts; ``pass_through``: tolls,
      Black Car Fund, sales tax, congestion surcharge and airport fee (a missing one is 0);
      ``worker_pay``: ``driver_pay``; ``tip``: ``tips``.
    """
    stem = ibis.cases(*((t._file == i, s) for i, s in enumerate(stems)), else_=ibis.null("string"))
    licence = t.hvfhs_license_num.cast("string")
    company = licence.substitute(_TLC_COMPANIES, else_=licence)
    pass_through = _money(ibis.literal(0))
    for column in _TLC_PASS_THROUGH:
        pass_through = pass_through + _money(t[column]).fill_null(0)
    unusable = ibis.literal(False)
    for column in ("base_passenger_fare", *_TLC_PASS_THROUGH, "tips", "driver_pay"):
        unusable |= _unusable(t[column])
    miles = t.trip_miles.cast("float64")
    return {
        "order_id": stem.concat(":", t._file_row.cast("string")),
        "service": company,
        "requested_at": t.request_datetime,
        "accepted_at": t.request_datetime,
        "pickup_at": t.pickup_datetime,
        "dropoff_at": t.dropoff_datetime,
        "pickup_zone": t.PULocationID.cast("string"),
        "dropoff_zone": t.DOLocationID.cast("string"),
        "distance_km": miles * KM_PER_MILE,
        "trip_seconds": t.trip_time.cast("float64"),
        # A money value that is not a finite amount leaves the price missing: the trip is
        # quarantined (missing_required) rather than counted with that amount as 0.
        "customer_price": ibis.ifelse(
            unusable, ibis.null(ENGINE_TYPE[T.MONEY]), _money(t.base_passenger_fare) + pass_through
        ),
        "pass_through": pass_through,
        "worker_pay": _money(t.driver_pay),
        "tip": _money(t.tips),
        "accessible_requested": _flag(t.wav_request_flag),
        "accessible_vehicle": _flag(t.wav_match_flag),
    }


def _flag(value: ir.Value) -> ir.StringValue:
    """A TLC Y/N flag as the contract's boolean text ("true"/"false"); anything else (a
    blank, another letter) is left for validation to report."""
    text = value.cast("string")
    return text.substitute({"Y": "true", "N": "false"}, else_=text)


NYC_TLC_HVFHV = Preset(
    name="nyc-tlc-hvfhv",
    title="NYC TLC High Volume For-Hire Vehicle trip records",
    table="orders",
    needs=(
        "hvfhs_license_num",
        "request_datetime",
        "pickup_datetime",
        "dropoff_datetime",
        "PULocationID",
        "DOLocationID",
        "trip_miles",
        "trip_time",
        "base_passenger_fare",
        *_TLC_PASS_THROUGH,
        "tips",
        "driver_pay",
        "wav_request_flag",
        "wav_match_flag",
    ),
    derive=_tlc_orders,
    currency="USD",
    timezone="America/New_York",
    rules=("us-nyc-tlc-hvfhv",),
    types={
        **{c: "timestamp" for c in ("request_datetime", "pickup_datetime", "dropoff_datetime")},
        **{
            c: "number"
            for c in ("trip_miles", "trip_time", "base_passenger_fare", *_TLC_PASS_THROUGH)
        },
        "tips": "number",
        "driver_pay": "number",
    },
    sources={
        "order_id": "file and record",
        "service": "hvfhs_license_num",
        "requested_at": "request_datetime",
        "accepted_at": "request_datetime",
        "pickup_at": "pickup_datetime",
        "dropoff_at": "dropoff_datetime",
        "pickup_zone": "PULocationID",
        "dropoff_zone": "DOLocationID",
        "distance_km": "trip_miles",
        "trip_seconds": "trip_time",
        "customer_price": "base_passenger_fare + " + " + ".join(_TLC_PASS_THROUGH),
        "pass_through": " + ".join(_TLC_PASS_THROUGH),
        "worker_pay": "driver_pay",
        "tip": "tips",
        "accessible_requested": "wav_request_flag",
        "accessible_vehicle": "wav_match_flag",
    },
)

PRESETS: dict[str, Preset] = {NYC_TLC_HVFHV.name: NYC_TLC_HVFHV}
"""Every preset by name."""


def preset_files(package: Path, preset: Preset) -> tuple[Path, ...]:
    """The Parquet files a preset package is: the file itself, or every ``.parquet`` file
    in the folder, in name order (other files are left alone).

    Raises:
        PackageError: the path is missing, is not Parquet, or is a folder without any.
    """
    if not package.exists():
        raise PackageError(f"{package}: no such file or folder.")
    if package.is_file():
        if package.suffix.lower() != ".parquet":
            raise PackageError(
                f"{package}: the {preset.name} preset reads the published Parquet files "
                f"({preset.title}). Pass a .parquet file or a folder of them; convert a CSV "
                "extract to Parquet first."
            )
        return (package,)
    try:
        files = tuple(
            sorted(p for p in package.iterdir() if p.suffix.lower() == ".parquet" and p.is_file())
        )
    except OSError as exc:
        raise PackageError(f"{package}: the folder cannot be read ({exc.strerror}).") from exc
    if not files:
        raise PackageError(
            f"{package}: no .parquet file in the folder; the {preset.name} preset reads "
            f"{preset.title} as published (fhvhv_tripdata_YYYY-MM.parquet)."
        )
    return files
