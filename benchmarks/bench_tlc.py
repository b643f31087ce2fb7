"""Benchmark: the nyc-tlc-hvfhv preset on a generated month of TLC trips (default 20 M).

    python benchmarks/bench_tlc.py                                # generate if missing, bench
    python benchmarks/bench_tlc.py --rows 1000000 --month 2024-06 --seed 1
    python benchmarks/bench_tlc.py --command generate --rows 20000000

``generate`` writes ``benchmarks/data/tlc/fhvhv_tripdata_<month>.parquet`` (git-ignored):
trips shaped like the TLC's High Volume For-Hire Vehicle records, with the schema of the
real sample ``fixtures/nyc-tlc-hvfhv/fhvhv_tripdata_2023_sample.parquet`` (the same
column names, order and Arrow types), one row group per ``--chunk`` rows, NumPy only, the
same bytes for the same ``--rows``, ``--month``, ``--seed`` and ``--chunk``. About 3 % of
the trips pay the driver 0-15 % below the TLC's per-trip floor ($1.360 a mile plus $0.583 a
minute from 2024-03-01 to 2025-02-28), and 0.02 % each carry the real records' quirks: a
pickup before the request, a driver paid nothing, a driver paid more than the base fare.

``bench`` (the default; it generates first, in a child process, when the file is missing
or was made with other options) times in one process (a) DuckDB's bare scan and
aggregate of the file (``duckdb.connect()``, default settings) and (b) the whole audit,
``auditor.audit(path, AuditConfig.from_dict({"package": {"preset": "nyc-tlc-hvfhv"}}))``,
and prints both wall times, their ratio (target: the audit within 30x of the bare pass),
the rows read, used and quarantined, the PAY-03 numbers and the peak RSS of the process
(``getrusage(RUSAGE_SELF)``) after each. It then checks, untimed, the quarantine and PAY-03
counts against the same counts computed directly in DuckDB. The numbers go to
``benchmarks/results/tlc_<month>_<rows>.json``.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE = ROOT / "fixtures" / "nyc-tlc-hvfhv" / "fhvhv_tripdata_2023_sample.parquet"
DATA = HERE / "data" / "tlc"
RESULTS = HERE / "results"
META_KEY = b"auditor_bench_tlc"
TARGET_RATIO = 30.0

# The floor of the pack us-nyc-tlc-hvfhv from 2024-03-01 to 2025-02-28, in exact integer
# form: floor in cents = (PER_MILE_X60 * milli-miles + PER_SECOND_X * seconds) / FLOOR_DEN.
# ($1.360 a mile = 136 cents per 1000 milli-miles; $0.583 a minute = 58.3 cents per 60 s.)
PER_MILE_X60 = 136 * 60 * 10  # cents * 600,000 per milli-mile
PER_SECOND_X = 583 * 1000  # cents * 600,000 per second
FLOOR_DEN = 600_000

# Shares of the trips (mutually exclusive bands of one uniform draw per trip).
QUIRK = 0.0002  # each of: pickup before request, driver_pay 0, driver_pay above the fare
BREACH = 0.03  # paid 0-15 % below the floor

# Trips by hour of the day (New York wall clock), on weekdays and on Saturdays and Sundays
# (whose early hours are the night before: Friday's and Saturday's late trips).
WEEKDAY_HOURS = np.array(
    [0.45, 0.30, 0.20, 0.17, 0.20, 0.35, 0.60, 0.85, 0.95, 0.85, 0.80, 0.80,
     0.85, 0.85, 0.90, 0.95, 1.00, 1.05, 1.10, 1.05, 1.00, 0.95, 0.90, 0.70]
)  # fmt: skip
WEEKEND_HOURS = np.array(
    [0.85, 0.70, 0.55, 0.45, 0.35, 0.30, 0.30, 0.35, 0.45, 0.60, 0.75, 0.85,
     0.90, 0.90, 0.90, 0.90, 0.95, 1.00, 1.05, 1.05, 1.05, 1.05, 1.05, 1.00]
)  # fmt: skip
DAY_WEIGHT = np.array([0.90, 0.95, 1.00, 1.05, 1.15, 1.15, 0.95])  # Monday first
AIRPORTS = (132, 138)  # JFK, LaGuardia: the $2.50 airport fee
ZONES = 263


def tlc_schema() -> pa.Schema:
    """The real sample's schema (names, order, Arrow types), without its pandas metadata."""
    return pq.read_schema(SAMPLE).remove_metadata()


def data_path(month: str) -> Path:
    return DATA / f"fhvhv_tripdata_{month}.parquet"


def _month_bounds(month: str) -> tuple[datetime, int]:
    start = datetime.strptime(month, "%Y-%m")
    return start, calendar.monthrange(start.year, start.month)[1]


def _request_cdf(month: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of the month's requests at each hour edge of the month (wall-clock
    seconds from the 1st, 00:00): a weekday or weekend daily cycle, busier Fridays and
    Saturdays, a few percent of noise per day. An hour that does not exist on the clocks'
    spring-forward night weighs 0; the repeated hour of the fall-back night weighs 2."""
    start, days = _month_bounds(month)
    zone = ZoneInfo("America/New_York")
    weights = np.empty(days * 24)
    lengths = np.empty(days * 24)
    for d in range(days):
        weekday = (start + timedelta(days=d)).weekday()
        profile = WEEKEND_HOURS if weekday >= 5 else WEEKDAY_HOURS
        weights[d * 24 : d * 24 + 24] = DAY_WEIGHT[weekday] * profile
        for h in range(24):  # 744 hours at most, not rows
            wall = start + timedelta(days=d, hours=h)
            a = wall.replace(tzinfo=zone).timestamp()
            b = (wall + timedelta(hours=1)).replace(tzinfo=zone).timestamp()
            lengths[d * 24 + h] = (b - a) / 3600
    weights *= np.repeat(rng.lognormal(0.0, 0.05, days), 24) * lengths
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    cdf /= cdf[-1]
    edges = np.arange(days * 24 + 1, dtype=np.float64) * 3600.0
    return cdf, edges


def _zone_weights(rng: np.random.Generator) -> np.ndarray:
    """Skewed popularity of the 263 taxi zones; each airport about 1.5 % of ends."""
    w = rng.gamma(0.6, 1.0, ZONES)
    w /= w.sum()
    for z in AIRPORTS:
        w[z - 1] = 0.015
    return w / w.sum()


def _strings(codes: np.ndarray, values: list[str], valid: np.ndarray | None = None) -> pa.Array:
    """A large_string column of ``values[code]`` per row (all ``values`` of one length in
    bytes), its buffers built by NumPy; null where ``valid`` is False."""
    width = len(values[0].encode())
    data = np.array([v.encode() for v in values], dtype=f"S{width}")[codes]
    offsets = np.arange(len(codes) + 1, dtype=np.int64) * width
    bitmap, nulls = None, 0
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(len(valid) - np.count_nonzero(valid))
    return pa.LargeStringArray.from_buffers(
        len(codes), pa.py_buffer(offsets), pa.py_buffer(data), bitmap, nulls
    )


def _round_half_up(numerator: np.ndarray, denominator: int) -> np.ndarray:
    return (2 * numerator + denominator) // (2 * denominator)


def _chunk(
    first: int,
    n: int,
    total: int,
    month: str,
    cdf: np.ndarray,
    edges: np.ndarray,
    zones: np.ndarray,
    rng: np.random.Generator,
    schema: pa.Schema,
) -> pa.Table:
    """Rows ``first .. first + n`` of ``total``: request times in order over the month
    (stratified: row i falls in the i-th of ``total`` equal slices of the month's
    distribution), everything else drawn per row."""
    start, _ = _month_bounds(month)
    base_us = int(start.replace(tzinfo=UTC).timestamp()) * 1_000_000

    q = (np.arange(first, first + n, dtype=np.float64) + rng.random(n)) / total
    request_s = np.floor(np.interp(q, cdf, edges)).astype(np.int64)

    lyft = rng.random(n) < 0.28  # HV0005; else HV0003 (Uber)
    travel_s = rng.integers(60, 601, n)  # request to on scene, 1-10 min
    wait_s = rng.integers(0, 301, n)  # on scene to pickup, 0-5 min
    on_scene_s = request_s + travel_s  # Lyft's is not published (null)
    pickup_s = on_scene_s + wait_s

    milli = np.clip(np.rint(rng.lognormal(np.log(3.0), 0.75, n) * 1000), 50, 80_000)
    milli = milli.astype(np.int64)
    speed_mph = rng.lognormal(np.log(13.0), 0.3, n)
    trip_s = np.clip(np.rint(60 + milli / 1000 / speed_mph * 3600), 60, 4 * 3600).astype(np.int64)
    minutes = trip_s / 60

    pu = rng.choice(ZONES, n, p=zones) + 1
    do = rng.choice(ZONES, n, p=zones) + 1

    fare_c = np.rint(
        (250 + 150 * milli / 1000 + 60 * minutes) * rng.lognormal(0.0, 0.13, n)
    ).astype(np.int64)
    tolls_c = np.where(
        rng.random(n) < 0.04, 694, np.where(rng.random(n) < 0.01, rng.integers(50, 2000, n), 0)
    )
    bcf_c = _round_half_up(fare_c * 25, 1000)
    tax_c = _round_half_up(fare_c * 8875, 100_000)
    airport = np.isin(pu, AIRPORTS) | np.isin(do, AIRPORTS)
    airport_c = np.where(airport & (rng.random(n) < 0.95), 250, 0)
    shared_request = rng.random(n) < 0.02
    shared_match = shared_request & (rng.random(n) < 0.4)
    congestion = rng.random(n) < 0.40
    congestion_c = np.where(congestion, np.where(shared_match, 75, 275), 0)
    tipped = rng.random(n) < 0.20
    tip_c = np.rint(fare_c * rng.lognormal(np.log(0.18), 0.35, n)).astype(np.int64)
    tip_c = np.where(rng.random(n) < 0.3, np.maximum(100, np.rint(tip_c / 100) * 100), tip_c)
    tip_c = np.where(tipped, tip_c, 0)

    # Driver pay: at or a little above the per-trip floor (with a cent to spare, so that no
    # rounding of the floor can make a planted "paid" trip a breach), BREACH of the trips
    # 0-15 % (at least 2 cents) below it, and the quirks.
    floor_c = _round_half_up(PER_MILE_X60 * milli + PER_SECOND_X * trip_s, FLOOR_DEN)
    pay_c = floor_c + 1 + np.rint(floor_c * rng.exponential(0.06, n)).astype(np.int64)
    band = rng.random(n)
    early = band < QUIRK
    unpaid = (band >= QUIRK) & (band < 2 * QUIRK)
    overpaid = (band >= 2 * QUIRK) & (band < 3 * QUIRK)
    short = (band >= 3 * QUIRK) & (band < 3 * QUIRK + BREACH)
    shortfall = np.maximum(2, np.rint(floor_c * rng.uniform(0.0, 0.15, n))).astype(np.int64)
    pay_c = np.where(short, np.maximum(floor_c - shortfall, 0), pay_c)
    pay_c = np.where(unpaid, 0, pay_c)
    above = np.rint(fare_c * rng.uniform(1.05, 1.5, n)).astype(np.int64)
    pay_c = np.where(overpaid, np.maximum(above, floor_c + 1), pay_c)
    # Pickup before the request: a request stamped on the whole minute, 1-13 minutes after
    # the pickup and before the dropoff, as in the real records (pre-arranged trips?).
    late = pickup_s + 60 + np.floor(rng.random(n) * (np.minimum(780, trip_s) - 60)).astype(np.int64)
    request_s = np.where(early, late // 60 * 60, request_s)

    def stamp(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        values = base_us + seconds * 1_000_000
        return pa.array(values, type=pa.timestamp("us"), mask=None if valid is None else ~valid)

    def dollars(cents: np.ndarray) -> pa.Array:
        return pa.array(cents / 100.0, type=pa.float64())

    def flag(yes: np.ndarray) -> pa.Array:
        return _strings(yes.astype(np.int8), ["N", "Y"])

    company = lyft.astype(np.int8)
    aar_blank = month < "2023-10"  # HV0003 wrote ' ' until autumn 2023, 'N' since
    wav_request = rng.random(n) < 0.005
    wav_match = np.where(wav_request, rng.random(n) < 0.95, rng.random(n) < 0.04)
    columns = {
        "hvfhs_license_num": _strings(company, ["HV0003", "HV0005"]),
        "dispatching_base_num": _strings(company, ["B03404", "B03406"]),
        "originating_base_num": _strings(np.zeros(n, np.int8), ["B03404"], valid=~lyft),
        "request_datetime": stamp(request_s),
        "on_scene_datetime": stamp(on_scene_s, valid=~lyft),
        "pickup_datetime": stamp(pickup_s),
        "dropoff_datetime": stamp(pickup_s + trip_s),
        "PULocationID": pa.array(pu.astype(np.int64)),
        "DOLocationID": pa.array(do.astype(np.int64)),
        "trip_miles": pa.array(milli / 1000.0),
        "trip_time": pa.array(trip_s),
        "base_passenger_fare": dollars(fare_c),
        "tolls": dollars(tolls_c),
        "bcf": dollars(bcf_c),
        "sales_tax": dollars(tax_c),
        "congestion_surcharge": dollars(congestion_c),
        "airport_fee": dollars(airport_c),
        "tips": dollars(tip_c),
        "driver_pay": dollars(pay_c),
        "shared_request_flag": flag(shared_request),
        "shared_match_flag": flag(shared_match),
        "access_a_ride_flag": _strings(
            np.where(lyft | (not aar_blank), 1, 0).astype(np.int8), [" ", "N"]
        ),
        "wav_request_flag": flag(wav_request),
        "wav_match_flag": flag(wav_match),
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def generate(rows: int, month: str, seed: int, chunk: int) -> Path:
    """Write the month's trips to :func:`data_path` (through a temporary file, renamed when
    complete) and return the path."""
    path = data_path(month)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = tlc_schema()
    chunks = max(1, -(-rows // chunk))
    children = np.random.SeedSequence(seed).spawn(chunks + 1)
    month_rng = np.random.default_rng(children[0])
    cdf, edges = _request_cdf(month, month_rng)
    zones = _zone_weights(month_rng)
    meta = {"rows": rows, "month": month, "seed": seed, "chunk": chunk}
    written = schema.with_metadata({META_KEY: json.dumps(meta).encode()})
    tmp = path.with_suffix(".parquet.tmp")
    start = time.perf_counter()
    with pq.ParquetWriter(tmp, written) as writer:
        for k in range(chunks):
            first = k * chunk
            n = min(chunk, rows - first)
            rng = np.random.default_rng(children[k + 1])
            table = _chunk(first, n, rows, month, cdf, edges, zones, rng, schema)
            writer.write_table(table.replace_schema_metadata(written.metadata), row_group_size=n)
            print(f"  rows {first + n:,} of {rows:,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    tmp.replace(path)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    size = path.stat().st_size / 1024**3
    print(
        f"generated {path.relative_to(ROOT)}: {rows:,} rows, {size:.2f} GiB in {seconds:.1f} s "
        f"({rows / seconds / 1e6:.2f} M rows/s), peak RSS {rss:.2f} GiB",
        file=sys.stderr,
    )
    return path


def _file_meta(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    return json.loads(raw) if raw else {}


def ensure_file(rows: int, month: str, seed: int, chunk: int) -> tuple[Path, float | None]:
    """The month's file, generated in a child process (so this process's peak RSS is the
    benchmark's own) when missing or made with other options; and the
    generator's wall seconds (None if the file was reused)."""
    path = data_path(month)
    meta = _file_meta(path)
    if meta == {"rows": rows, "month": month, "seed": seed, "chunk": chunk}:
        return path, None
    if meta is not None:
        print(f"{path.name} was made with {meta or 'another generator'}: regenerating")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--command", "generate", "--rows", str(rows),
         "--month", month, "--seed", str(seed), "--chunk", str(chunk)],
        check=True,
    )  # fmt: skip
    return path, time.perf_counter() - start


BARE_QUERY = """
    SELECT hvfhs_license_num, count(*), sum(base_passenger_fare), sum(driver_pay),
           sum(trip_miles), sum(trip_time)
    FROM read_parquet('{path}') GROUP BY 1 ORDER BY 1
"""

# What the audit should find, computed directly (untimed): trips that pick up before their
# request, and, among the others dropped off on a date with a rate, those paid below the
# floor and the cents short. In integer arithmetic: floor in cents = (81,600 x milli-miles +
# 583,000 x seconds) / 600,000, rounded half up.
CHECK_QUERY = """
    WITH t AS (
        SELECT pickup_datetime < request_datetime AS early,
               CAST(dropoff_datetime AS DATE) BETWEEN DATE '2024-03-01' AND DATE '2025-02-28'
                   AS rated,
               (2 * ({per_mile} * CAST(round(trip_miles * 1000) AS BIGINT)
                     + {per_second} * (epoch(dropoff_datetime) - epoch(pickup_datetime))::BIGINT)
                + {den}) // (2 * {den}) AS floor_c,
               CAST(round(driver_pay * 100) AS BIGINT) AS pay_c
        FROM read_parquet('{path}')
    )
    SELECT count(*) FILTER (early),
           count(*) FILTER (NOT early AND rated),
           count(*) FILTER (NOT early AND rated AND pay_c < floor_c),
           coalesce(sum(floor_c - pay_c) FILTER (NOT early AND rated AND pay_c < floor_c), 0)
    FROM t
"""


def bench(args: argparse.Namespace) -> None:
    path, gen_seconds = ensure_file(args.rows, args.month, args.seed, args.chunk)
    # Imported before any timing: DuckDB, the pipeline, and the SciPy and statsmodels
    # modules the checks load on first use (about 1 s, once per process).
    import duckdb
    import scipy.stats  # noqa: F401
    import statsmodels.stats.multitest  # noqa: F401

    from auditor import AuditConfig, Status, audit

    schema_ok = pq.read_schema(path).equals(tlc_schema(), check_metadata=False)
    size = path.stat().st_size / 1024**3
    con = duckdb.connect()
    start = time.perf_counter()
    groups = con.sql(BARE_QUERY.format(path=path)).fetchall()
    bare = time.perf_counter() - start
    con.close()
    rss_bare = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    config = AuditConfig.from_dict({"package": {"preset": "nyc-tlc-hvfhv"}})
    start = time.perf_counter()
    result = audit(path, config)
    whole = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    orders = result.tables["orders"]
    pay03 = next((f for f in result.findings if f.check == "PAY-03"), None)
    data = dict(pay03.data) if pay03 is not None else {}
    statuses: dict[str, int] = {}
    for f in result.findings:
        statuses[f.status.value] = statuses.get(f.status.value, 0) + 1
    ratio = whole / bare

    print(f"file {path.relative_to(ROOT)}: {size:.2f} GiB, schema equals the sample's: {schema_ok}")
    if gen_seconds is not None:
        print(f"generated in {gen_seconds:.1f} s ({args.rows / gen_seconds / 1e6:.2f} M rows/s)")
    for licence, count, *_ in groups:
        print(f"  {licence}: {count:,} trips")
    print(f"(a) DuckDB bare scan + aggregate: {bare:.2f} s; peak RSS so far {rss_bare:.2f} GiB")
    print(f"(b) auditor.audit, preset nyc-tlc-hvfhv: {whole:.2f} s; peak RSS {rss:.2f} GiB")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    print(f"    stages: {stages}")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio audit / bare: {ratio:.1f}x (target {TARGET_RATIO:.0f}x: {verdict})")
    print(
        f"orders: read {orders.rows_read:,}, used {orders.rows_used:,}, "
        f"quarantined {orders.rows_quarantined:,} {dict(orders.quarantined_by_reason)}"
    )
    print(f"findings by status: {statuses}")
    if pay03 is None:
        print("PAY-03: no finding")
    else:
        print(
            f"PAY-03 {pay03.status.value}: assessed {data.get('units_assessed')}, in breach "
            f"{data.get('units_in_breach')}, owed {data.get('owed_total')}"
        )
    unexplained = [
        f.check for f in result.findings if f.status == Status.NOT_ASSESSED and not f.missing
    ]
    if unexplained:
        print(f"not assessed with no input named missing: {unexplained}")

    con = duckdb.connect()
    query = CHECK_QUERY.format(
        path=path, per_mile=PER_MILE_X60, per_second=PER_SECOND_X, den=FLOOR_DEN
    )
    counts = con.sql(query).fetchone()
    assert counts is not None  # an aggregate without GROUP BY gives one row
    early, rated, breached, owed_c = counts
    owed = Decimal(int(owed_c)) / 100
    con.close()
    agree = (
        orders.rows_quarantined == early
        and data.get("units_assessed") == rated
        and data.get("units_in_breach") == breached
        and Decimal(str(data.get("owed_total"))) == owed
    )
    print(
        f"direct count: pickup before request {early:,}; assessed {rated:,}, in breach "
        f"{breached:,}, owed {owed} -> {'agrees' if agree else 'DIFFERS'}"
    )

    doc = {
        "rows": args.rows,
        "month": args.month,
        "seed": args.seed,
        "file_gib": round(size, 3),
        "generate_s": None if gen_seconds is None else round(gen_seconds, 2),
        "bare_s": round(bare, 3),
        "audit_s": round(whole, 3),
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "audit_stages_s": {k: round(v, 2) for k, v in result.timings.items()},
        "peak_rss_gib_after_bare": round(rss_bare, 3),
        "peak_rss_gib": round(rss, 3),
        "rows_read": orders.rows_read,
        "rows_used": orders.rows_used,
        "rows_quarantined": orders.rows_quarantined,
        "quarantined_by_reason": dict(orders.quarantined_by_reason),
        "pay03": {
            "status": None if pay03 is None else pay03.status.value,
            "units_assessed": data.get("units_assessed"),
            "units_in_breach": data.get("units_in_breach"),
            "owed_total": None if pay03 is None else str(data.get("owed_total")),
        },
        "direct_count_agrees": agree,
        "findings_by_status": statuses,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"tlc_{args.month}_{args.rows}.json"
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default="bench", choices=["bench", "generate"])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--month", default="2024-06", help="YYYY-MM")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per row group")
    args = parser.parse_args()
    datetime.strptime(args.month, "%Y-%m")  # refuse a malformed month early
    if args.command == "generate":
        generate(args.rows, args.month, args.seed, args.chunk)
    else:
        bench(args)


if __name__ == "__main__":
    main()
