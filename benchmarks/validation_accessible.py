"""Validation of SVC-01 (waits of wheelchair-accessible requests): prints the table of
docs/validation.md, section 7.

    python benchmarks/validation_accessible.py            # 1,000 replicates per world
    python benchmarks/validation_accessible.py --quick    # 100, to try it out

The worlds (``auditor.simulate._accessible_worlds``) put accessible requests where waits
are long, so that raw means accuse; each replicate runs the check's own estimator
(``wait_effect``) and one-sided rule (``one_sided_verdict``).
"""

from __future__ import annotations

import argparse
import time

from validation import rate_ci  # the calibration tables' one format

from auditor.simulate._accessible_worlds import replicate_waits

WORLDS: tuple[tuple[str, float, dict[str, float]], ...] = (
    ("accessible requests where waits are long; no excess wait", 1.0, {}),
    ("the same, an excess of 4 % (inside the 5 % band)", 1.04, {}),
    ("only 40 accessible requests, at random; no excess", 1.0, {"few": 40}),
    ("an excess of 10 %, about 400 accessible requests", 1.10, {"wav_share": 0.01}),
    ("an excess of 10 %, about 800 accessible requests", 1.10, {"wav_share": 0.02}),
    ("an excess of 25 %, about 400 accessible requests", 1.25, {"wav_share": 0.01}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 replicates per world")
    args = parser.parse_args()
    replicates = 100 if args.quick else 1000
    start = time.perf_counter()
    print(
        "| world | true ratio | replicates | `fail` | 95 % interval covers the truth "
        "| median estimate | median raw ratio | median accessible requests |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed, (name, ratio, world) in enumerate(WORLDS, start=1):
        r = replicate_waits(ratio, replicates, seed, **world)
        print(
            f"| {name} | {ratio:.2f} | {r.replicates} | {rate_ci(r.fail, r.replicates)} | "
            f"{rate_ci(r.coverage, r.replicates)} | {r.median_estimate:.3f} | "
            f"{r.median_naive:.3f} | {r.median_accessible:.0f} |"
        )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
