"""Group comparisons of a log outcome (pay, offered pay, price) for comparable work, and
the small helpers the group checks share (stratum codes, raw group rates, wording)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding
from auditor.checks._groups import (
    Comparison,
    Roster,
    attributes_findings,
    cluster_subset,
    compare_groups,
)
from auditor.checks._work import WorkFrame, trip_design, work_frame
from auditor.stats import GroupEffect, StrataDesign, within_effect

__all__ = [
    "compact",
    "group_rates",
    "log_outcome_comparisons",
    "same_words",
    "strata",
]


def strata(*keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Dense codes (0..S-1) of the combinations of integer keys."""
    frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    if frame.empty:
        return np.empty(0, np.int64)
    return frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy(np.int64)


def compact(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Renumber codes densely from 0."""
    return np.unique(codes, return_inverse=True)[1].astype(np.int64)


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


def _effect_fn(
    frame: WorkFrame, stratum: NDArray[np.int64], design: NDArray[np.float64],
    alg: NDArray[np.int64] | None, seed: int, method: str,
) -> Callable[[NDArray[np.bool_], NDArray[np.bool_], bool, int], GroupEffect]:  # fmt: skip
    code = frame.cluster

    def effect(
        keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
    ) -> GroupEffect:
        rows, new, old = cluster_subset(code, keep)
        st = stratum[rows]
        if algorithmic and alg is not None:
            st = strata(st, alg[code[rows]])
        d = StrataDesign(frame.y[rows], np.ones(int(rows.sum())), compact(st), new, design[rows])
        return within_effect(d, treat[old], method=method, permutations=perms, seed=seed)

    return effect


def log_outcome_comparisons(
    context: CheckContext,
    people: Roster,
    units: Table,
    *,
    check: str,
    title: str,
    metric: str,
    noun: str,
    words: str,
    decompose: bool = False,
) -> list[Finding | Confirmatory]:
    """Compare a log outcome between worker groups within comparable-work strata.

    ``units`` has ``worker_id``, ``y`` (log outcome) and the columns of
    :func:`auditor.checks._work.work_frame`. With ``decompose``, each comparison also
    carries the raw gap and how much of it where and when the groups work, and their trips,
    explain (a sequential decomposition: raw -> same strata -> same trips).
    """
    frame = work_frame(units.inner_join(people.table, "worker_id"))
    code = frame.cluster
    design = trip_design(frame)
    stratum = strata(frame.stratum, people.legitimate_codes()[code])
    seed = context.config.audit.seed
    alg = people.algorithmic_codes()
    effect = _effect_fn(frame, stratum, design, alg, seed, "wls_within_strata_trip")
    present = np.bincount(code, minlength=people.size) > 0
    n_of = np.bincount(code, minlength=people.size).astype(np.float64)
    sum_of = np.bincount(code, weights=np.exp(frame.y), minlength=people.size)

    def extra(group: str, keep: NDArray[np.bool_], treat: NDArray[np.bool_]) -> dict[str, Any]:
        out: dict[str, Any] = {f"{noun}_excluded": frame.excluded}
        if decompose:
            out["decomposition"] = _decomposition(frame, stratum, design, keep, treat)
        return out

    def one(attribute: str) -> list[Finding | Confirmatory]:
        labels = people.labels(attribute)
        spec = Comparison(
            check=check,
            title=title,
            metric=metric,
            attribute=attribute,
            unit="workers",
            phrase=lambda g, r, x: (
                f"{attribute}={g} workers {words.format(x=x)} of {attribute}={r} workers "
                f"(same zone, service, date and hour{same_words(people, ', same ')}; "
                "adjusted for distance and trip time)"
            ),
            raw=group_rates(labels, sum_of, n_of),
            extra=extra,
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


def _decomposition(
    frame: WorkFrame,
    stratum: NDArray[np.int64],
    design: NDArray[np.float64],
    keep: NDArray[np.bool_],
    treat: NDArray[np.bool_],
) -> Mapping[str, Any]:
    """Raw log gap, the gap within strata, and within strata with trip covariates; the
    parts of the raw gap that strata and trips explain (log points, in that order)."""
    rows, new, old = cluster_subset(frame.cluster, keep)
    y, w, t = frame.y[rows], np.ones(int(rows.sum())), treat[old]
    steps = [
        ("raw", np.zeros(len(y), np.int64), None),
        ("same_place_and_time", compact(stratum[rows]), None),
        ("same_place_time_and_trip", compact(stratum[rows]), design[rows]),
    ]
    gaps = {}
    for name, st, z in steps:
        b, _se = StrataDesign(y, w, st, new, z).fit(t)
        gaps[name] = b
    return {
        "scale": "log ratio of geometric means (group / reference)",
        "raw_gap": gaps["raw"],
        "gap_same_place_and_time": gaps["same_place_and_time"],
        "adjusted_gap": gaps["same_place_time_and_trip"],
        "explained_by_place_and_time": gaps["raw"] - gaps["same_place_and_time"],
        "explained_by_trips": gaps["same_place_and_time"] - gaps["same_place_time_and_trip"],
        "unexplained": gaps["same_place_time_and_trip"],
        "order": "sequential: zone/service/date/hour strata first, then trip covariates",
    }
