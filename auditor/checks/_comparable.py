"""Group comparisons of a log outcome (pay, offered pay, price) for comparable work, and
the small helpers the group checks share (raw group rates, wording)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding
from auditor.checks._codes import compact, strata
from auditor.checks._groups import (
    Comparison,
    Roster,
    attributes_findings,
    cluster_subset,
    compare_groups,
)
from auditor.checks._work import StratumCodes, WorkCells, order_covariates, work_cells
from auditor.stats import CellMoments, GroupEffect, within_effect

__all__ = [
    "compact",
    "excluded_words",
    "group_rates",
    "log_outcome_comparisons",
    "same_words",
    "strata",
]


def same_words(people: Roster, joiner: str = " and the same ") -> str:
    """Words for the legitimate attributes compared within (e.g. " and the same vehicle_type")."""
    return "".join(f"{joiner}{a}" for a in people.legitimate)


def group_rates(
    labels: NDArray[np.object_], num: NDArray[Any], den: NDArray[Any]
) -> dict[str, float]:
    """Raw ratio ``sum(num) / sum(den)`` per group (e.g. orders per online hour)."""
    frame = pd.DataFrame({"g": labels, "n": num, "d": den}).dropna(subset=["g"])
    sums = frame.groupby("g")[["n", "d"]].sum()
    return {str(g): float(r.n / r.d) for g, r in sums.iterrows() if r.d > 0}


def effect_on_cells(
    cells: CellMoments,
    stratum: NDArray[np.int64],
    alg: NDArray[np.int64] | None,
    seed: int,
    method: str,
) -> Callable[[NDArray[np.bool_], NDArray[np.bool_], bool, int], GroupEffect]:
    """The check's estimator on ``cells`` (see ``_groups.EffectFn``): the kept clusters'
    cells in strata ``stratum`` (x the clusters' algorithmic attributes ``alg`` in the
    secondary view)."""
    code = cells.cluster
    headline = cells.with_strata(stratum)
    # The last comparison's subset of cells: its headline and its algorithmic view keep
    # the same clusters, so the second reuses the first's subset.
    last: list[Any] = []

    def effect(
        keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
    ) -> GroupEffect:
        if last and np.array_equal(last[0], keep):
            rows, new, old, kept = last[1:]
        else:
            rows, new, old = cluster_subset(code, keep)
            kept = None if rows.all() else cells.subset(rows, new)
            last[:] = [keep.copy(), rows, new, old, kept]
        if kept is None and not algorithmic:
            # Every cluster is in the comparison: reuse the cells (and their cached sums).
            return within_effect(headline, treat, method=method, permutations=perms, seed=seed)
        st = stratum[rows]
        if algorithmic and alg is not None:
            st = strata(st, alg[code[rows]])
        sub = (cells if kept is None else kept).with_strata(st)
        return within_effect(sub, treat[old], method=method, permutations=perms, seed=seed)

    return effect


def worker_cells(
    context: CheckContext, name: str, units: Table, coded: StratumCodes | None = None
) -> WorkCells:
    """Cell moments of ``units`` clustered by worker (computed once per audit per name);
    ``coded``: the units carry stratum codes (see ``work_cells``)."""
    return context.memo(  # type: ignore[no-any-return]
        f"cells:{name}",
        lambda: work_cells(units, "worker_id", order_covariates(context), coded=coded),
    )


def log_outcome_comparisons(
    context: CheckContext,
    people: Roster,
    work: WorkCells,
    *,
    check: str,
    title: str,
    metric: str,
    noun: str,
    words: str,
    outcome: str,
    decompose: bool = False,
) -> list[Finding | Confirmatory]:
    """Compare a log outcome between worker groups within comparable-work strata.

    ``work`` holds the cell moments by worker (:func:`worker_cells`). With ``decompose``,
    each comparison also carries the raw gap and how much of it where and when the groups
    work, and their trips, explain (a sequential decomposition: raw -> same strata -> same
    trips). ``outcome`` names the outcome in the details (units without a positive one are
    counted as excluded).
    """
    cells = work.cells
    n_clusters = len(work.cluster_ids)
    roster_code = people.codes_of(work.cluster_ids)
    known = roster_code >= 0
    safe = np.where(known, roster_code, 0)
    legit = np.where(known, people.legitimate_codes()[safe], -1) + 1
    stratum = strata(cells.stratum, legit[cells.cluster])
    alg_people = people.algorithmic_codes()
    alg = None if alg_people is None else np.where(known, alg_people[safe], -1) + 1
    effect = effect_on_cells(
        cells, stratum, alg, context.config.audit.seed, "wls_within_strata_trip"
    )
    n_of = np.bincount(cells.cluster, weights=cells.n, minlength=n_clusters)
    log_of = np.bincount(cells.cluster, weights=cells.sy, minlength=n_clusters)
    present = n_of > 0

    def extra(
        group: str, keep: NDArray[np.bool_], treat: NDArray[np.bool_], est: GroupEffect
    ) -> dict[str, Any]:
        out: dict[str, Any] = {f"{noun}_excluded": work.excluded, "covariates": list(work.terms)}
        if decompose:
            out["decomposition"] = _decomposition(work, stratum, keep, treat, est.log_effect)
        return out

    def one(attribute: str) -> list[Finding | Confirmatory]:
        labels_people = people.labels(attribute)
        labels = labels_people[safe].copy()
        labels[~known] = None
        geometric = {g: float(np.exp(v)) for g, v in group_rates(labels, log_of, n_of).items()}
        spec = Comparison(
            check=check,
            title=title,
            metric=metric,
            attribute=attribute,
            unit="workers",
            phrase=lambda g, r, x: (
                f"{attribute}={g} workers {words.format(x=x)} of {attribute}={r} workers "
                f"(same zone, service, day type and hour{same_words(people, ', same ')}; "
                "adjusted for distance and trip time)"
            ),
            raw=geometric,
            extra=extra,
            noun=noun,
            note=excluded_words(work, noun, outcome),
        )
        return compare_groups(
            context,
            spec,
            labels,
            present,
            effect,
            lambda keep: int(n_of[keep].sum()),
            has_algorithmic=alg is not None,
        )

    return attributes_findings(context, check, title, one)


def excluded_words(work: WorkCells, noun: str, outcome: str) -> str:
    """The detail's sentence on the units left out of the moments (none: empty): those
    with no positive ``outcome`` or trip covariate (offers: or no order in the package)."""
    if not work.excluded:
        return ""
    needs = [outcome] + [c for c in ("distance_km", "trip_minutes") if f"log_{c}" in work.terms]
    why = "no positive " + (
        " or ".join(needs) if len(needs) < 3 else ", ".join(needs[:-1]) + " or " + needs[-1]
    )
    if noun == "offers":
        why += " (or no order in the package)"
    return f" Not compared: {work.excluded:,} {noun} with {why}."


def _decomposition(
    work: WorkCells,
    stratum: NDArray[np.int64],
    keep: NDArray[np.bool_],
    treat: NDArray[np.bool_],
    adjusted: float,
) -> Mapping[str, Any]:
    """Raw log gap, the gap within strata, and within strata with trip covariates (the
    headline, ``adjusted``); the parts of the raw gap that strata and trips explain (log
    points, in that order)."""
    rows, new, old = cluster_subset(work.cells.cluster, keep)
    plain = work.cells.without_covariates().subset(rows, new)
    t = treat[old][new]
    steps = {
        "raw": plain.with_strata(np.zeros(len(new), np.int64)),
        "same_place_and_time": plain.with_strata(stratum[rows]),
    }
    gaps = {"same_place_time_and_trip": adjusted}
    for name, cells in steps.items():
        fit = cells.fit(t)
        gaps[name] = float(fit.beta[0]) if fit is not None else float("nan")
    return {
        "scale": "log ratio of geometric means (group / reference)",
        "raw_gap": gaps["raw"],
        "gap_same_place_and_time": gaps["same_place_and_time"],
        "adjusted_gap": gaps["same_place_time_and_trip"],
        "explained_by_place_and_time": gaps["raw"] - gaps["same_place_and_time"],
        "explained_by_trips": gaps["same_place_and_time"] - gaps["same_place_time_and_trip"],
        "unexplained": gaps["same_place_time_and_trip"],
        "order": "sequential: zone/service/day type/hour strata first, then trip covariates",
    }
