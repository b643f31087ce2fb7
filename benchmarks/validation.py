"""Validation of the group-disparity statistics: writes docs/validation.md.

    python benchmarks/validation.py                 # the published run (20 minutes on 2 cores)
    python benchmarks/validation.py --quick         # 10x fewer replicates, to try it out
    python benchmarks/validation.py --jobs 1        # one process (default: one per core)

Four parts, each running the checks' own estimators and verdicts
(``auditor.simulate._calibration``) on a family of one test, alpha = 0.05, materiality 5 %:

1. Worlds with no breach (``auditor.simulate._scenarios.NO_BREACH``, the suite's scenarios),
   1,000 replicates each: the rate of ``fail``, of rejecting a true ratio of 1, and the
   coverage of the 95 % interval.
2. Planted breaches (``PLANTED``), 1,000 replicates each: the rate of ``fail``.
3. Power by workers per group and gap size, 200 replicates per cell: DSP-01, DSP-03, PAY-02,
   DED-01 and an intersection of two attributes.
5. FEE-07 (tips offset base pay) and FEE-09 (take rate by fare),
   ``auditor.simulate._slope_worlds``: worlds where customers tip the workers paid least,
   or a cheaper worker tier does longer trips, a few dominant workers, a true effect at the
   materiality edge, 1,000 replicates each; power by workers and size, 200 replicates per
   cell.
4. End to end: whole simulated platforms (``auditor.simulate``) with no plant, audited by
   ``auditor.audit``: the share of platforms with any fairness ``fail`` (Holm over the
   audit's whole family).

Every replicate is seeded by its scenario's position and its index, so the numbers do not
depend on ``--jobs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from auditor import __version__, audit
from auditor.simulate import SimulationSpec, simulate, write_package
from auditor.simulate._calibration import (
    replicate_effects,
    replicate_intersection,
    replicate_spread,
    summarise,
)
from auditor.simulate._scenarios import (
    BUSY,
    INTERSECTION,
    NO_BREACH,
    PLANTED,
    SPREAD_NO_BREACH,
    SPREAD_PLANTED,
    Scenario,
)
from auditor.simulate._slope_worlds import (
    FareWorld,
    SlopeRates,
    TipWorld,
    replicate_fares,
    replicate_tips,
)
from auditor.simulate._stat_worlds import RateWorld, WorkWorld

ROOT = Path(__file__).resolve().parents[1]
FAIRNESS = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "PRC-01", "FEE-05", "DED-01", "ACC-02")
POWER_WORKERS = (25, 50, 100, 200, 400)
POWER_GAPS = (0.10, 0.20, 0.30)
INTERSECTION_WORKERS = (200, 400, 800, 1600)
INTERSECTION_GAPS = (0.10, 0.20)

# Power worlds: equal groups, the defaults of each world otherwise; (label, world, outcome,
# direction of the gap: -1 the group gets less, +1 more).
POWER_WORLDS: tuple[tuple[str, RateWorld | WorkWorld, str, int], ...] = (
    ("DSP-01: offers per online hour (40 online hours per worker)",
     RateWorld(group_share=0.5), "count", -1),
    ("DSP-01: offers per online hour, busy workers (160 online hours per worker)",
     RateWorld(group_share=0.5, **BUSY), "count", -1),
    ("DSP-03: quoted pay per online hour, busy workers (steering to short trips)",
     RateWorld(group_share=0.5, value=10.0, **BUSY), "money", -1),
    ("PAY-02 / DSP-02: pay for the same work (60 orders per worker)",
     WorkWorld(group_share=0.5), "pay", -1),
    ("DED-01: penalties per accepted order (about 1,500 accepted orders and 40 penalties per "
     "worker)",
     RateWorld(group_share=0.5, base_rate=0.02, exposure_scale=60.0, overdispersion=0.0),
     "count", +1),
)  # fmt: skip


def rate_ci(p: float, n: int) -> str:
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return f"{p:.3f} ({max(p - half, 0):.3f}-{min(p + half, 1):.3f})"


def _effects(world: RateWorld | WorkWorld, outcome: str, reps: int, seed: int) -> dict:
    return summarise(replicate_effects(world, reps, seed, outcome=outcome))  # type: ignore[arg-type]


def _spread(world: WorkWorld, reps: int, seed: int) -> dict:
    frame = replicate_spread(world, reps, seed)
    return summarise(frame) | {"median_ratio": float(frame["ratio"].median())}


def _intersection(world: WorkWorld, reps: int, seed: int) -> dict:
    frame = replicate_intersection(world, reps, seed)
    return {
        "intersection_fail": float(frame["intersection_fail"].mean()),
        "margin_fail": float(frame["margin_fail"].mean()),
        "intersection_ratio": float(frame["intersection_ratio"].median()),
        "margin_ratio": float(frame["margin_ratio"].median()),
        "intersection_workers": float(frame["intersection_workers"].median()),
        "replicates": float(len(frame)),
    }


class Runner:
    """Runs tasks ``(fn, args)`` in ``jobs`` processes, in submission order."""

    def __init__(self, jobs: int) -> None:
        self.pool = ProcessPoolExecutor(jobs) if jobs > 1 else None

    def map(self, tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
        if self.pool is None:
            return [fn(*args) for fn, args in tasks]
        futures = [self.pool.submit(fn, *args) for fn, args in tasks]
        return [f.result() for f in futures]


def part_null(run: Runner, reps: int, seed: int) -> list[str]:
    lines = [
        "| check | world | replicates | `fail` | rejects a true ratio of 1 | 95 % interval "
        "covers the truth | median df |",
        "|---|---|---|---|---|---|---|",
    ]
    scenarios: list[Scenario] = list(NO_BREACH.values())
    tasks = [(_effects, (s.world, s.outcome, reps, seed + i * reps))
             for i, s in enumerate(scenarios)]  # fmt: skip
    fee05 = [(words, world, equal) for words, (world, equal) in SPREAD_NO_BREACH.items()]
    base = seed + len(scenarios) * reps
    tasks += [(_spread, (w, reps, base + i * reps)) for i, (_, w, _) in enumerate(fee05)]
    results = run.map(tasks)
    for s, r in zip(scenarios, results[: len(scenarios)], strict=True):
        n = int(r["estimable"])
        null_ratio = s.world.truth_of(s.outcome) == 1.0
        lines.append(
            f"| {s.check} | {s.words} | {n} | {rate_ci(r['fail'], n)} | "
            f"{rate_ci(r['rejected'], n) if null_ratio else 'n/a (true ratio not 1)'} | "
            f"{rate_ci(r['coverage'], n)} | {r['median_df']:.1f} |"
        )
    for (words, _, equal), r in zip(fee05, results[len(scenarios) :], strict=True):
        n = int(r["replicates"])
        rejected = rate_ci(r["rejected"], n) if equal else "n/a (a real spread in the band)"
        lines.append(
            f"| FEE-05 | {words} | {n} | {rate_ci(r['fail'], n)} | {rejected} | n/a | n/a |"
        )
    coverage = [
        (f"{s.check}, {s.words}", r["coverage"])
        for s, r in zip(scenarios, results[: len(scenarios)], strict=True)
    ]
    return [*lines, "", coverage_words(coverage)]


COVERAGE_TARGET = (0.935, 0.965)
"""The share of 1,000 replicates in which a 95 % interval should cover the truth."""


def coverage_words(coverage: list[tuple[str, float]]) -> str:
    """A sentence naming the worlds whose coverage lies outside ``COVERAGE_TARGET``."""
    low = [f"{w} ({c:.3f})" for w, c in coverage if c < COVERAGE_TARGET[0]]
    high = [f"{w} ({c:.3f})" for w, c in coverage if c > COVERAGE_TARGET[1]]
    if not low and not high:
        return "Every interval's coverage lies within the 93.5-96.5 % target."
    text = "Coverage outside the 93.5-96.5 % target:"
    if low:
        text += " below it (intervals too narrow), " + "; ".join(low) + "."
    if high:
        text += " Above it (conservative: intervals wider than they need be), " + "; ".join(high)
        text += "."
    return text


def part_planted(run: Runner, reps: int, seed: int) -> list[str]:
    lines = [
        "| check | planted breach | replicates | `fail` | median estimate (truth) |",
        "|---|---|---|---|---|",
    ]
    scenarios = list(PLANTED.values())
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_effects, (s.world, s.outcome, reps, seed + i * reps)) for i, s in enumerate(scenarios)
    ]
    tasks.append((_spread, (SPREAD_PLANTED, reps, seed + len(scenarios) * reps)))
    tasks.append((_intersection, (INTERSECTION, reps, seed + (len(scenarios) + 1) * reps)))
    results = run.map(tasks)
    for s, r in zip(scenarios, results[: len(scenarios)], strict=True):
        n = int(r["estimable"])
        truth = s.world.truth_of(s.outcome)
        lines.append(
            f"| {s.check} | {s.words} | {n} | {rate_ci(r['fail'], n)} | "
            f"{r['median_ratio']:.3f} ({truth:.3f}) |"
        )
    r = results[-2]
    lines.append(
        f"| FEE-05 | a uniform +-10 % personalised pay multiplier (200 workers) | "
        f"{int(r['replicates'])} | {rate_ci(r['fail'], int(r['replicates']))} | "
        f"{r['median_ratio']:.3f} |"
    )
    r = results[-1]
    n = int(r["replicates"])
    lines.append(
        f"| PAY-02 (intersection) | 10 % less pay for workers both A and B (15 % of 600) | {n} "
        f"| {rate_ci(r['intersection_fail'], n)} | {r['intersection_ratio']:.3f} (0.900) |"
    )
    lines.append(
        f"| PAY-02 (margin A) | the same harm, seen at the margin A against not A | {n} "
        f"| {rate_ci(r['margin_fail'], n)} | {r['margin_ratio']:.3f} |"
    )
    return lines


def part_power(run: Runner, reps: int, seed: int) -> list[str]:
    lines: list[str] = []
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    for _, base, outcome, direction in POWER_WORLDS:
        for per_group in POWER_WORKERS:
            for gap in POWER_GAPS:
                ratio = 1 - gap if direction < 0 else 1 + gap
                field = "value_ratio" if outcome == "money" else "ratio"
                world = dataclasses.replace(base, workers=2 * per_group, **{field: ratio})
                tasks.append((_effects, (world, outcome, reps, seed + len(tasks) * reps)))
    inter_tasks = []
    for workers in INTERSECTION_WORKERS:
        for gap in INTERSECTION_GAPS:
            world = WorkWorld(workers=workers, group_share=0.5, ratio=1 - gap)
            first = seed + (len(tasks) + len(inter_tasks)) * reps
            inter_tasks.append((_intersection, (world, reps, first)))
    results = run.map(tasks + inter_tasks)
    k = 0
    for label, _, _, _ in POWER_WORLDS:
        lines += [
            f"**{label}**: share of replicates that `fail` ({reps} replicates per cell).",
            "",
            "| workers per group | " + " | ".join(f"gap {g:.0%}" for g in POWER_GAPS) + " |",
            "|---|" + "---|" * len(POWER_GAPS),
        ]
        for per_group in POWER_WORKERS:
            cells = [f"{results[k + j]['fail']:.2f}" for j in range(len(POWER_GAPS))]
            k += len(POWER_GAPS)
            lines.append(f"| {per_group} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "**Intersections (`[fairness] intersections`)**: pay cut for workers who are both A "
        "(half of workers) and B (30 %, independently): the share of replicates in which the "
        "comparison of A*B with the largest combination (not A, not B) fails, and, after the "
        f"slash, in which the margin A against not A fails ({reps} replicates per cell).",
        "",
        "| workers (about 15 % at the intersection) | "
        + " | ".join(f"gap {g:.0%}" for g in INTERSECTION_GAPS)
        + " |",
        "|---|" + "---|" * len(INTERSECTION_GAPS),
    ]
    for workers in INTERSECTION_WORKERS:
        cells = []
        for _ in INTERSECTION_GAPS:
            r = results[k]
            k += 1
            cells.append(f"{r['intersection_fail']:.2f} / {r['margin_fail']:.2f}")
        lines.append(f"| {workers} | " + " | ".join(cells) + " |")
    return lines


TIP_NULL: tuple[tuple[str, TipWorld, bool], ...] = (
    ("customers tip the workers paid least; no offset (40 workers)", TipWorld(), True),
    ("the same, compared across workers (no worker effects: the naive design)", TipWorld(),
     False),
    ("a true offset of 10 %, at the materiality edge (40 workers)", TipWorld(offset=0.1), True),
    ("an offset at the edge, 2 of 30 workers doing 50x the orders",
     TipWorld(offset=0.1, workers=30, dominant=2), True),
    ("an offset at the edge, 12 workers", TipWorld(offset=0.1, workers=12), True),
)  # fmt: skip
TIP_WORKERS = (25, 50, 100, 200, 400)


def _tips(world: TipWorld, reps: int, seed: int, by_cluster: bool) -> SlopeRates:
    return replicate_tips(world, reps, seed, by_cluster=by_cluster)


TIP_OFFSETS = (0.2, 0.3, 0.5)


FARE_NULL: tuple[tuple[str, FareWorld, bool], ...] = (
    ("a cheaper tier doing longer trips; no slope within worker (40 workers)", FareWorld(),
     True),
    ("the same, compared across workers (the naive design)", FareWorld(), False),
    ("a true slope of -1 point per doubling, at the edge (40 workers)",
     FareWorld(slope=-0.01), True),
    ("a slope at the edge, 2 of 30 workers doing 50x the orders",
     FareWorld(slope=-0.01, workers=30, dominant=2), True),
    ("a slope at the edge, 12 workers", FareWorld(slope=-0.01, workers=12), True),
)  # fmt: skip
FARE_SLOPES = (-0.015, -0.02, -0.03)


def _fares(world: FareWorld, reps: int, seed: int, by_cluster: bool) -> SlopeRates:
    return replicate_fares(world, reps, seed, by_cluster=by_cluster)


def _slope_rows(
    words: list[str], worlds: list[Any], results: list[SlopeRates], truth: str
) -> list[str]:
    lines = [
        f"| world | replicates | `fail` | 95 % interval covers the truth | median estimate "
        f"({truth}) | median df |",
        "|---|---|---|---|---|---|",
    ]
    for text, world, r in zip(words, worlds, results, strict=True):
        true = world.offset if isinstance(world, TipWorld) else world.slope
        lines.append(
            f"| {text} | {r.replicates} | {rate_ci(r.fail, r.replicates)} | "
            f"{rate_ci(r.coverage, r.replicates)} | {r.median_offset:.3f} ({true:.3f}) | "
            f"{r.median_df:.1f} |"
        )
    return lines


def part_slopes(run: Runner, reps: int, power_reps: int, seed: int) -> list[str]:
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_tips, (world, reps, seed + i * reps, by_cluster))
        for i, (_, world, by_cluster) in enumerate(TIP_NULL)
    ]
    tasks += [
        (_fares, (world, reps, seed + (len(tasks) + i) * reps, by_cluster))
        for i, (_, world, by_cluster) in enumerate(FARE_NULL)
    ]
    for workers in TIP_WORKERS:
        for offset in TIP_OFFSETS:
            world = TipWorld(workers=workers, orders_per_worker=40, tip_rate=0.05, offset=offset)
            tasks.append((_tips, (world, power_reps, seed + len(tasks) * reps, True)))
    for workers in TIP_WORKERS:
        for slope in FARE_SLOPES:
            fare = FareWorld(workers=workers, orders_per_worker=40, slope=slope)
            tasks.append((_fares, (fare, power_reps, seed + len(tasks) * reps, True)))
    results: list[SlopeRates] = run.map(tasks)
    t, f = len(TIP_NULL), len(FARE_NULL)
    lines = ["**FEE-07, no breach and the materiality edge (offset 10 %)**", ""]
    lines += _slope_rows([w[0] for w in TIP_NULL], [w[1] for w in TIP_NULL], results[:t], "truth")
    lines += ["", "**FEE-09, no breach and the materiality edge (1 point per doubling)**", ""]
    lines += _slope_rows(
        [w[0] for w in FARE_NULL], [w[1] for w in FARE_NULL], results[t : t + f], "truth"
    )
    k = t + f
    for label, sizes, name in (
        ("FEE-07: a share of each tip taken out of base pay (40 orders per worker, 5 % tipped)",
         TIP_OFFSETS, "offset {:.0%}"),
        ("FEE-09: take rate per doubling of the fare (40 orders per worker)", FARE_SLOPES,
         "slope {:+.1%}"),
    ):  # fmt: skip
        lines += [
            "",
            f"**Power, {label}**: share of replicates that `fail` ({power_reps} per cell).",
            "",
            "| workers | " + " | ".join(name.format(x) for x in sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for workers in TIP_WORKERS:
            cells = [f"{results[k + j].fail:.2f}" for j in range(len(sizes))]
            k += len(sizes)
            lines.append(f"| {workers} | " + " | ".join(cells) + " |")
    return lines


def _one_platform(seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = SimulationSpec(workers=200, days=7, seed=seed, demand_scale=0.5)
        folder = write_package(simulate(spec), Path(tmp) / "p", fmt="parquet")
        result = audit(folder, checks=FAIRNESS)
    tested = [f for f in result.findings if f.p_adjusted is not None]
    return {
        "tests": len(tested),
        "any_fail": any(f.status == "fail" for f in result.findings),
        "any_raw_reject": any((f.data.get("p_value_no_gap") or 1) < 0.05 for f in tested if f.data),
        "fails": sum(f.status == "fail" for f in result.findings),
    }


def part_end_to_end(run: Runner, packages: int, seed: int) -> list[str]:
    frame = pd.DataFrame(run.map([(_one_platform, (seed + i,)) for i in range(packages)]))
    n = len(frame)
    return [
        f"{n} simulated platforms (200 workers, 7 days, no plant, seeds {seed}..{seed + n - 1}), "
        f"each audited for {', '.join(FAIRNESS)} ({frame['tests'].median():.0f} confirmatory "
        "tests per audit, Holm at 0.05):",
        "",
        "| share of audits with | rate (95 % CI) |",
        "|---|---|",
        f"| any fairness `fail` | {rate_ci(float(frame['any_fail'].mean()), n)} |",
        f"| any unadjusted p < 0.05 for no gap | "
        f"{rate_ci(float(frame['any_raw_reject'].mean()), n)} |",
        f"| `fail` findings per audit (mean) | {frame['fails'].mean():.3f} |",
    ]


LEVELS = [
    "| number | level | how |",
    "|---|---|---|",
    "| `ci` of a group comparison (`estimate`, `gap_percent_ci`) | `1 - alpha` "
    "(`data.interval_level`) | t with Bell-McCaffrey degrees of freedom on the CR2 standard "
    "error; where one side has no events, the exact conditional test inverted (a one-sided "
    "bound, the other end 0 or infinity) |",
    "| `fail` | the minimum-effect test at the Holm-adjusted `alpha` | the same t: p < alpha "
    "exactly when the `1 - alpha` interval lies beyond the band |",
    "| `pass` | `1 - 2 alpha` (two one-sided tests at `alpha`) | the same t |",
    "| `data.mde_ratio`, `workers_needed_to_*` | 80 % power at `alpha / family size` "
    "(fail) or `alpha` (pass) | the same t, degrees of freedom projected with the workers |",
    "| labelled views (`adjusted_for_algorithmic`, `accepted_orders`, `earned_pay`, "
    "`geometric_mean`) | `1 - alpha` | as the headline; their tests are Holm-adjusted in "
    "their own family and decide nothing |",
    "| `data.impact_ratio_ci` | `1 - alpha` | normal on the log scale: clustered "
    "ratio-estimator variance for selection rates, Katz's for scoring rates; descriptive |",
    "| PAY-02 `data.decomposition.*_ci` | `1 - alpha` | worker-clustered linearisation "
    "(each part's influence per worker) with the headline's degrees of freedom |",
    "| FEE-05 `ci` | `1 - alpha`; `pass` on the `1 - 2 alpha` upper bound | the F statistic "
    "inverted |",
    "| FEE-07 `ci`, `data.base_pay_offset_ci` | `1 - alpha`; `pass` on the `1 - 2 alpha` "
    "upper bound | t with the effective number of workers as degrees of freedom on the "
    "CR2 cluster-robust error; the money is the offset's interval times the tips |",
    "| FEE-09 `ci`, `data.interval_1_minus_2alpha` | `1 - alpha`; `pass` on the `1 - 2 "
    "alpha` interval inside the band | as FEE-07 |",
    "| DSP-04 `ci` | `1 - alpha` | Poisson pseudo-likelihood by worker, CR2 with "
    "Bell-McCaffrey degrees of freedom; `data.lead` when the whole interval lies below 1 - "
    "`decline_penalty_materiality`; decides nothing |",
    "| PAY-05 `ci` (share of workers who lost) | `1 - alpha` | Wilson, over compared workers |",
    "| PAY-05 `data.median_change_ci` | `1 - alpha` (at least) | order statistics "
    "(distribution-free, `scipy.stats.quantile_test`), widened in quadrature by the learned "
    "rule's delta-method error; `pass` when its lower end lies above "
    "`-rule_change_materiality`; decides nothing else |",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "validation.md")
    parser.add_argument("--parts", nargs="+", default=["null", "planted", "power", "e2e", "slopes"])
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    run = Runner(args.jobs)
    start = time.perf_counter()
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], list[str]]) -> list[str]:
        if name not in args.parts:
            return ["(not run)"]
        t = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - t
        print(f"{name}: {timings[name] / 60:.1f} min", flush=True)
        return out

    null = timed("null", lambda: part_null(run, 1000 // scale, seed=1_000_000))
    planted = timed("planted", lambda: part_planted(run, 1000 // scale, seed=2_000_000))
    power = timed("power", lambda: part_power(run, 200 // scale, seed=3_000_000))
    e2e = timed("e2e", lambda: part_end_to_end(run, 100 // scale, seed=4_000_000))
    slopes = timed("slopes", lambda: part_slopes(run, 1000 // scale, 200 // scale, seed=5_000_000))
    minutes = (time.perf_counter() - start) / 60
    text = "\n".join(
        [
            "# Validation of the group-disparity statistics",
            "",
            "Written by `python benchmarks/validation.py` "
            f"(auditor {__version__}, {minutes:.0f} minutes in {args.jobs} processes on a "
            "2-core machine). Every number below is reproducible: the replicates are seeded.",
            "",
            "What is run is the checks' own code (`auditor/simulate/_calibration.py`): the "
            "trip terms and their within-cell effect, the Poisson pseudo-likelihood (rates "
            "and ratios of mean money) or least squares on logs (the geometric-mean view) "
            "within strata, CR2 standard errors by worker with Bell-McCaffrey degrees of "
            "freedom, the exact conditional test where one side has no events, and the "
            "verdict: `fail` when a minimum-effect test shows the gap beyond the 5 % "
            "materiality band (ratios 0.95 to 1/0.95), `pass` when an equivalence test "
            "shows it inside. Only the summing of units into cells is done in NumPy rather "
            "than the engine (a test holds the two equal). Each replicate is a family of one "
            "test at alpha = 0.05; in a whole audit Holm's correction over the family asks "
            "for a smaller p-value, so power there is lower for the same data.",
            "",
            "The worlds (`auditor/simulate/_stat_worlds.py`, named in "
            "`auditor/simulate/_scenarios.py`) have what fools naive tests: groups working "
            "other zones and hours with other demand and doing shorter trips, dates that pay "
            "everyone more and that one group works less, worker random effects and "
            "heavy-tailed activity, a few dominant workers, a group sharing strata with the "
            "reference through a few workers, a group declining more offers, a gap inside "
            "the band, near-zero payments, overdispersed counts, and a pay curve the model "
            "only approximates. The test suite runs the same scenarios with 200 replicates "
            "(`tests/test_fairness_calibration.py`).",
            "",
            "## 1. No breach: false accusations and interval coverage",
            "",
            "Rates with their 95 % binomial intervals. Targets: `fail` at most alpha = 0.05 "
            "within Monte Carlo error (the suite's bound at 200 replicates is 0.081); the "
            "95 % interval covering the true ratio in 93.5-96.5 % of replicates. Where the "
            "true ratio is not 1 (a gap inside the band; near-zero payments lowering the "
            "mean), the column of rejections of 1 does not apply.",
            "",
            *null,
            "",
            "A few dominant workers, or a few workers bridging the strata of the two groups, "
            "leave few degrees of freedom (the median df column), and the interval widens to "
            "match: these worlds keep their level where a normal reference or a permutation "
            "of worker labels across strata did not (19 % and 17-34 % rejections before). "
            "Such comparisons also carry fewer than `[report] min_cell_workers` effective "
            "workers, so an audit suppresses them (`tests/test_fairness_calibration.py`). "
            "A true ratio inside the band fails at most alpha / 2 at the band's edge and "
            "less inside it: `fail` needs evidence beyond the band, not an estimate beyond "
            "it. FEE-05's F test is conservative (demeaning within strata shrinks worker "
            "means).",
            "",
            "## 2. Planted breaches",
            "",
            *planted,
            "",
            "A group offered nothing (or none of whose appeals is upheld) has no ratio to "
            "take a logarithm of: the exact conditional test on the strata both groups "
            "share decides it, and the estimate is 0. Harm only at an intersection is found "
            "there and diluted at the margin, where the gap falls inside the band.",
            "",
            "## 3. Power by workers per group and gap size",
            "",
            *power,
            "",
            "A gap at the materiality band's edge (5 %) fails in at most alpha / 2 of "
            "replicates by design (section 1); power grows with the gap beyond the band and "
            "with the information per worker (busy workers, more orders, more penalties). At "
            "the margin, a cut for the workers at the intersection is diluted by their share "
            "of A (30 %): a 10 % cut is a 3 % gap for A as a whole, inside the band; a 20 % "
            "cut is a 6 % gap, just beyond it, which the margin then fails in some replicates.",
            "",
            "## 4. End to end on simulated platforms",
            "",
            *e2e,
            "",
            "## 5. Slopes: FEE-07 (tips offset base pay) and FEE-09 (take rate by fare)",
            "",
            "The estimator is the checks' own (`auditor/stats/_slope.py`): a slope within "
            "strata and within worker, cluster-robust by worker with the effective number of "
            "workers as degrees of freedom; `fail` when the 95 % interval lies wholly beyond "
            "the materiality (FEE-07: an offset of 10 % of the tip; FEE-09: a take rate falling "
            "by one point per doubling of the fare). The worlds "
            "(`auditor/simulate/_slope_worlds.py`) are built so that a comparison across "
            "workers is fooled: customers tip the workers paid least (FEE-07); a cheaper "
            "worker tier does longer trips (FEE-09). Targets: no `fail` with no effect; at "
            "most alpha / 2 = 0.025 (within Monte Carlo error) with a true effect exactly at "
            "the materiality; 95 % intervals covering the truth.",
            "",
            *slopes,
            "",
            "With 12 workers the edge fails slightly more often than alpha / 2 (within two "
            "Monte Carlo standard errors): the effective-worker degrees of freedom leave CR2 a "
            "little liberal with few workers. Such audits often have fewer than `[report] "
            "min_cell_workers` effective workers, and are then withheld.",
            "",
            "## 6. The level of each published interval",
            "",
            "`alpha` is `[audit] alpha` (0.05 by default); every finding states its level "
            "(`data.interval_level`), and the report prints it.",
            "",
            *LEVELS,
            "",
        ]
    )
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print({k: round(v / 60, 1) for k, v in timings.items()})


if __name__ == "__main__":
    main()
