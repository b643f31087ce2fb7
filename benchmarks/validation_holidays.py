"""Validation of PAY-04 (statutory-holiday pay): prints the table of docs/validation.md,
section 8.

    python benchmarks/validation_holidays.py            # 1,000 replicates per world
    python benchmarks/validation_holidays.py --quick    # 100, to try it out

The worlds (``auditor.simulate._holiday_worlds``) give every date its own pay and let the
lower-paid workers work holidays more, so that a comparison across workers accuses; each
replicate runs the check's estimator (``holiday_effect``) and its one-sided rule against a
required ratio of 1.05 (the default ``[earnings] holiday_premium_materiality``).
"""

from __future__ import annotations

import argparse
import time

from validation import rate_ci  # the calibration tables' one format

from auditor.simulate._holiday_worlds import replicate_holidays

WORLDS: tuple[tuple[str, float, dict[str, float]], ...] = (
    ("5 holidays in 60 days; premium exactly the 5 % asked", 1.05, {}),
    ("3 holidays on noisy dates (date log-sd 0.10); premium 5 %", 1.05,
     {"holidays": 3, "date_sd": 0.10}),
    ("13 holidays in 120 days; premium 5 %", 1.05,
     {"holidays": 13, "dates": 120, "date_sd": 0.03}),
    ("5 holidays in 60 days; premium 20 %", 1.20, {}),
    ("5 holidays in 60 days; no premium", 1.00, {}),
    ("13 holidays in 120 days; no premium", 1.00,
     {"holidays": 13, "dates": 120, "date_sd": 0.03}),
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 replicates per world")
    args = parser.parse_args()
    replicates = 100 if args.quick else 1000
    start = time.perf_counter()
    print(
        "| world | true ratio | replicates | `fail` | `pass` | 95 % interval covers the truth "
        "| median estimate | `fail` across workers (naive) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed, (name, ratio, world) in enumerate(WORLDS, start=1):
        r = replicate_holidays(ratio, replicates, seed, **world)
        print(
            f"| {name} | {ratio:.2f} | {r.replicates} | {rate_ci(r.fail, r.replicates)} | "
            f"{rate_ci(r.passed, r.replicates)} | {rate_ci(r.coverage, r.replicates)} | "
            f"{r.median_estimate:.3f} | {r.naive_fail:.3f} |"
        )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
