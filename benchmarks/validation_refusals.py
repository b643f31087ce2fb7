"""Validation of DSP-04 (fewer or worse offers after a refusal): writes
docs/validation-refusals.md.

    python benchmarks/validation_refusals.py            # 200 replicates per world
    python benchmarks/validation_refusals.py --quick    # 20, to try it out

Two kinds of evidence, both through the check's own code. The calibration worlds
(``auditor.simulate._refusal_worlds``: bursts of demand that refusals cluster in, workers
choosier on their poorer days, long busy spells, dominant workers, few workers) run the
check's engine code (``refusal_cell_table``, ``worker_sums``) and statistics
(``penalty_effect``, ``p_penalty``) on every replicate. Packages of the package simulator
(``auditor simulate``, 200 workers over 14 days, with and without ``--plant DSP-04``) run
the whole ``auditor.audit``, with ``[report] min_cell_workers = 1`` so that every estimate
shows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from auditor import AuditConfig, __version__, audit
from auditor.simulate import SimulationSpec, simulate, write_package
from auditor.simulate._refusal_worlds import RefusalRates, RefusalWorld, replicate_refusals

ROOT = Path(__file__).resolve().parents[1]
STEADY = {"burst_sd": 0.0, "burst_choice": 0.0, "picky": 0.0, "demand_sd": 0.0, "level_sd": 0.0}

WORLDS: tuple[tuple[str, RefusalWorld], ...] = (
    ("no penalty: bursts of demand, refusals in them", RefusalWorld()),
    ("no penalty: choosier on their poorer days", RefusalWorld(day_level_sd=0.5)),
    ("no penalty: long busy spells", RefusalWorld(offers_per_hour=10, busy_minutes=(20, 45))),
    ("no penalty: 2 dominant workers of 30", RefusalWorld(dominant=2, workers=30)),
    ("no penalty: 12 workers", RefusalWorld(workers=12)),
    ("no penalty: steady offers, workers alike", RefusalWorld(**STEADY)),
    ("60 % fewer offers after a refusal", RefusalWorld(penalty=0.4)),
    ("60 % less pay per offer after a refusal", RefusalWorld(pay_penalty=0.4)),
    ("30 % fewer offers after a refusal", RefusalWorld(penalty=0.7)),
)
SEEDS = range(1, 9)


def _world(world: RefusalWorld, reps: int, seed: int) -> RefusalRates:
    return replicate_refusals(world, reps, seed)


def _package(seed: int, planted: bool) -> str:
    plants = ("DSP-04",) if planted else ()
    package = simulate(SimulationSpec(workers=200, days=14, seed=seed, plants=plants))
    truth = 1.0
    if planted:
        truth = 1 - package.ground_truth["plants"]["DSP-04"]["truth"]["share_withheld"]
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 1}})
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_package(package, Path(tmp) / "pkg", fmt="parquet")
        result = audit(folder, config, checks=["DSP-04"])
    [finding] = [f for f in result.findings if f.metric == "offer_rate_after_refusal"]
    assert finding.estimate is not None and finding.ci is not None
    low, high = finding.ci
    covers = "yes" if low <= truth <= high else "no"
    return (
        f"| {seed} | {'withheld' if planted else 'none'} | {truth:.3f} | "
        f"{finding.estimate:.3f} | {low:.3f} to {high:.3f} | {covers} | "
        f"{finding.data['effective_workers']:.0f} | {'yes' if finding.data['lead'] else 'no'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "validation-refusals.md")
    args = parser.parse_args()
    reps = 20 if args.quick else 200
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        world_tasks = [(w, reps, 900 + i) for i, (_, w) in enumerate(WORLDS)]
        worlds = pool.map(_world, *zip(*world_tasks, strict=True))
        packages = pool.map(
            _package, *zip(*[(s, p) for p in (False, True) for s in SEEDS], strict=True)
        )
        world_rows = [
            f"| {words} | {r.median_offers:.3f} | {r.median_pay:.3f} | {r.lead_offers:.3f} | "
            f"{r.lead_pay:.3f} | {r.cover_offers:.3f} |"
            for (words, _), r in zip(WORLDS, worlds, strict=True)
        ]
        package_rows = list(packages)
    minutes = (time.perf_counter() - start) / 60
    text = "\n".join(
        [
            "# Validation of DSP-04: fewer or worse offers after a refusal",
            "",
            f"Written by `python benchmarks/validation_refusals.py` (auditor {__version__}, "
            f"{minutes:.0f} minutes in {args.jobs} processes on a 2-core machine).",
            "",
            "## Calibration worlds",
            "",
            f"{reps} seeded replicates per world, each run through the check's own engine "
            "code and statistics (`auditor/checks/_refusals.py`). Columns: the median ratio "
            "after a refusal / other free time, of offers and of offered pay; how often it "
            "is a lead (the whole 95 % interval below 0.80); how often the offers' 95 % "
            "interval covers the planted multiplier (1 with no penalty). Re-offered orders "
            "reach the penalised worker in full, so a planted cut reads smaller than it is "
            "and its coverage is 0 by design.",
            "",
            "| world | median, offers | median, pay | lead, offers | lead, pay | covers |",
            "|---|---|---|---|---|---|",
            *world_rows,
            "",
            "## Packages of the package simulator",
            "",
            "`auditor simulate` with 200 workers over 14 days, without a penalty and with "
            "`--plant DSP-04` (of the offers a worker would refuse, 80 % are not made in "
            "the 15 minutes after that worker's refusal). The truth is 1 without the "
            "plant, and one minus the share of post-refusal offers withheld with it (the "
            "ratio the plant makes where offers follow the baseline). The offer-rate "
            "finding, with `[report] min_cell_workers = 1`:",
            "",
            "| seed | penalty | truth | estimate | 95 % CI | covers | effective workers | lead |",
            "|---|---|---|---|---|---|---|---|",
            *package_rows,
            "",
        ]
    )
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
