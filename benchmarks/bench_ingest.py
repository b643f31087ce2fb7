"""Benchmark: ingest + validate of a simulated package (default 10 M orders).

    python benchmarks/bench_ingest.py --workers 20000 --days 30 --formats parquet csv

Generates the package once under benchmarks/data/ (reused if present), then runs
``auditor validate`` in a fresh process per format and reports wall time and the
peak RSS of that process (``getrusage(RUSAGE_CHILDREN)``). Results are printed as a
Markdown table row to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ensure_package(workers: int, days: int, seed: int, fmt: str) -> Path:
    folder = HERE / "data" / f"sim_w{workers}_d{days}_s{seed}_{fmt}"
    if (folder / f"orders.{fmt}").exists():
        return folder
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "simulate",
            str(folder),
            "--workers",
            str(workers),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--format",
            fmt,
        ],
        check=True,
    )
    print(f"generated {folder.name} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return folder


_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(p.stderr)\n"
    "print(wall, rss, p.returncode)\n"
)


def measure(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds and peak RSS (GiB) of ``command`` alone, run under a fresh wrapper
    process so that no earlier child's peak is counted; and its exit code."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=False
    )
    wall_s, rss_kib, code_s = proc.stdout.split()[-3:]
    code = int(code_s)
    if code not in (0, 1):
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"command failed with exit {code}: {' '.join(command)}")
    return float(wall_s), int(rss_kib) / 1024 / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument("--command", default="validate", choices=["validate", "run"])
    parser.add_argument(
        "--engine",
        default="duckdb",
        choices=["duckdb", "spark"],
        help="spark runs on local[*] (every core); peak RSS is then the larger of the "
        "Python driver and Spark's JVM",
    )
    args = parser.parse_args()
    for fmt in args.formats:
        folder = ensure_package(args.workers, args.days, args.seed, fmt)
        out = HERE / "results" / f"{folder.name}_{args.engine}"
        wall, rss, _ = measure(
            [
                sys.executable,
                "-m",
                "auditor",
                args.command,
                str(folder),
                "--out",
                str(out),
                "--quiet",
                "--fail-on",
                "never",
                "--engine",
                args.engine,
            ]
        )
        doc = json.loads(
            (
                out / ("validation.json" if args.command == "validate" else "findings.json")
            ).read_text(encoding="utf-8")
        )
        orders = doc["package"]["tables"]["orders"]["rows_read"]
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1024**3
        print(
            f"| {args.command} | {args.engine} | {fmt} | {orders:,} | {size:.2f} GiB | "
            f"{wall:.1f} s | {rss:.2f} GiB | {os.cpu_count()} cores, {platform.python_version()} |"
        )


if __name__ == "__main__":
    main()
