"""Benchmark: the group-disparity checks on a simulated package (default 10 M orders).

    python benchmarks/bench_fairness.py --workers 23000 --days 30 [--blas-threads 1]
        [--checks DSP-02 PAY-02] [--profile]

Reads, validates and reconstructs the package in-process (timed, not part of the target),
then times each of DSP-01, DSP-02, DSP-03, PAY-02, PRC-01, PRC-02, FEE-05 and DED-01 alone and
all of them in one run (shared cells, one Holm family). ``--blas-threads N`` caps BLAS/OpenMP
threads with threadpoolctl (0: no cap), to measure oversubscription on small machines.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

# The checks import scipy.stats and statsmodels on first use (about 1 s, once per
# process, as `auditor run` pays it); imported here so no single check's time holds it.
import scipy.stats  # noqa: F401
import statsmodels.stats.multitest  # noqa: F401
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import ensure_package

from auditor.checks import CheckContext, run_checks
from auditor.config import AuditConfig
from auditor.contract import validate_package
from auditor.engine import connect
from auditor.ingest import read_package
from auditor.reconstruct import reconstruct

CHECKS = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "PRC-01", "PRC-02", "FEE-05", "DED-01")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=23000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", default="parquet")
    parser.add_argument("--blas-threads", type=int, default=0)
    parser.add_argument("--checks", nargs="+", default=list(CHECKS), help="a subset to time")
    parser.add_argument("--profile", action="store_true", help="DuckDB profile to stderr")
    parser.add_argument("--memory-limit", help='[engine] memory_limit, e.g. "6GB" (default 2GB)')
    args = parser.parse_args()
    folder = ensure_package(args.workers, args.days, args.seed, args.format)
    config = AuditConfig()
    if args.memory_limit:
        config = replace(config, engine=replace(config.engine, memory_limit=args.memory_limit))
    limits = threadpool_limits(args.blas_threads) if args.blas_threads else None
    pools = sorted({(p["internal_api"], p["num_threads"]) for p in threadpool_info()})
    with connect(config) as engine:
        t = time.perf_counter()
        validated = validate_package(engine, read_package(folder, config, engine))
        rebuilt = reconstruct(engine, validated, config)
        prep = time.perf_counter() - t
        rows = []
        total = 0.0
        checks = tuple(args.checks)
        if args.profile:
            engine.con.raw_sql("PRAGMA enable_profiling='query_tree_optimizer'")
        for check in checks:
            # A fresh context per check: nothing computed by another check is reused.
            context = CheckContext(config, validated, engine, rebuilt)
            t = time.perf_counter()
            findings = run_checks(context, only=[check])
            seconds = time.perf_counter() - t
            total += seconds
            rows.append((check, seconds, len(findings)))
        context = CheckContext(config, validated, engine, rebuilt)
        t = time.perf_counter()
        family = run_checks(context, only=checks) if len(checks) > 1 else findings
        together = time.perf_counter() - t
    if limits is not None:
        limits.unregister()
    orders = validated.tables["orders"].rows_used
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"package {folder.name}: {orders:,} orders; read+validate+reconstruct {prep:.1f} s")
    print(f"BLAS pools: {pools}; cap: {args.blas_threads or 'none'}")
    print("| check | seconds | findings |\n|---|---|---|")
    for check, seconds, n in rows:
        print(f"| {check} | {seconds:.1f} | {n} |")
    print(f"| sum of checks, each alone | {total:.1f} | |")
    print(
        f"| all {len(checks)} in one run (shared cells, one Holm family) "
        f"| {together:.1f} | {len(family)} |"
    )
    print(f"peak RSS {rss:.2f} GiB; {os.cpu_count()} cores; Python {platform.python_version()}")


if __name__ == "__main__":
    main()
