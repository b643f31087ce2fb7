"""What the group-disparity checks share: the worker roster and its attributes, the choice
of reference group, small-cell suppression, and turning a group effect into a finding once
the family's Holm correction is known.

A comparison is always one group against one reference group of the same attribute, on the
clusters (workers, or customers for prices) of those two groups only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Severity, Status
from auditor.checks._common import basis
from auditor.stats import GroupEffect, Verdict, decide

__all__ = [
    "Comparison",
    "Roster",
    "cluster_subset",
    "compare_groups",
    "roster",
]

EffectFn = Callable[[NDArray[np.bool_], NDArray[np.bool_], bool, int], GroupEffect]
"""``(keep_cluster, treat_of_cluster, algorithmic, permutations) -> GroupEffect``: the
effect of the clusters where ``treat`` against the other kept clusters; ``algorithmic``
adds the platform-set attributes to the strata (the labelled secondary view)."""


@dataclass(frozen=True, slots=True, eq=False)
class Roster:
    """Workers with an integer code and their attribute values (strings; None if missing).

    Attributes:
        frame: one row per worker: ``worker_id``, ``code`` (0..n-1) and the protected and
            algorithmic attributes present. The workers table's workers come first, in ID
            order; then the workers the reconstruction knows (orders, sessions,
            deductions) that the workers table does not list (or whose row was
            quarantined), in ID order, with every attribute missing: the group checks
            count them as left out rather than drop them unseen.
        table: the same (``worker_id``, ``code``) as an engine table, to join on.
        missing: protected attributes the workers table does not have.
        algorithmic: algorithmic attributes it has (``[fairness] algorithmic_attributes``).
        legitimate: legitimate market attributes it has (``[fairness] legitimate_attributes``).
    """

    frame: pd.DataFrame
    table: Table
    missing: tuple[str, ...]
    algorithmic: tuple[str, ...]
    legitimate: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.frame)

    def codes_of(self, worker_ids: NDArray[Any]) -> NDArray[np.int64]:
        """Roster code of each worker ID (-1 where the workers table does not have it)."""
        index = pd.Index(self.frame["worker_id"].astype(object))
        return np.asarray(index.get_indexer(pd.Index(worker_ids, dtype=object)), dtype=np.int64)

    def labels(self, attribute: str) -> NDArray[np.object_]:
        """Group label per worker code (None where the worker has no value)."""
        return self.frame[attribute].to_numpy(dtype=object)

    def algorithmic_codes(self) -> NDArray[np.int64] | None:
        """One integer per worker combining its algorithmic attributes (None if none)."""
        return self._codes(self.algorithmic)

    def legitimate_codes(self) -> NDArray[np.int64]:
        """One integer per worker combining its legitimate market attributes (0 if none)."""
        codes = self._codes(self.legitimate)
        return np.zeros(self.size, np.int64) if codes is None else codes

    def _codes(self, columns: tuple[str, ...]) -> NDArray[np.int64] | None:
        if not columns:
            return None
        key = self.frame[list(columns)].astype("string").fillna("\x00")
        return pd.MultiIndex.from_frame(key).factorize()[0].astype(np.int64)


def roster(context: CheckContext) -> Roster:
    """The roster of the audit's workers (materialized as engine table ``fx_roster``;
    built once per audit)."""
    return context.memo("roster", lambda: _roster(context))  # type: ignore[no-any-return]


def _roster(context: CheckContext) -> Roster:
    workers = context.package.tables["workers"]
    present = worker_columns(context)
    fairness = context.config.fairness
    protected = [a for a in fairness.protected_attributes if a in present and a != "worker_id"]
    algorithmic = [
        a for a in fairness.algorithmic_attributes if a in present and a not in protected
    ]
    legitimate = [
        a
        for a in fairness.legitimate_attributes
        if a in present and a not in protected and a not in algorithmic
    ]
    w = workers.table
    cols = {a: w[a].cast("string") for a in (*protected, *algorithmic, *legitimate)}
    ordered = w.select("worker_id", **cols).distinct(on="worker_id").order_by("worker_id")
    listed = ordered.to_pyarrow().to_pandas()
    days = context.rebuilt.worker_days
    known = days.select("worker_id").distinct()
    unlisted = known.anti_join(w, "worker_id").order_by("worker_id").to_pyarrow().to_pandas()
    frame = pd.concat([listed, unlisted], ignore_index=True)
    frame["code"] = np.arange(len(frame), dtype=np.int64)
    for a in (*protected, *algorithmic, *legitimate):
        frame[a] = frame[a].astype(object).where(frame[a].notna(), None)
    table = context.engine.con.create_table(
        "fx_roster", ibis.memtable(frame[["worker_id", "code"]]), overwrite=True
    )
    missing = tuple(a for a in fairness.protected_attributes if a not in protected)
    return Roster(frame, table, missing, tuple(algorithmic), tuple(legitimate))


def cluster_subset(
    cluster: NDArray[np.int64], keep_cluster: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Rows whose cluster is kept, their clusters renumbered 0..k-1, and the old code of
    each new one."""
    rows = keep_cluster[cluster]
    kept = cluster[rows]
    # Renumber by lookup (codes are bounded), not by sorting: O(n) on millions of rows.
    used = np.bincount(kept, minlength=len(keep_cluster)) > 0
    lookup = np.cumsum(used) - 1
    return rows, lookup[kept].astype(np.int64), np.nonzero(used)[0].astype(np.int64)


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a check words and measures its comparisons.

    Attributes:
        check: catalogue ID.
        title: the check's title.
        metric: name of the ratio (e.g. ``order_rate_ratio``).
        attribute: worker (or order) attribute compared.
        unit: plural noun of the clusters ("workers", "customers").
        phrase: ``(group, reference, ratio) -> str``, what the ratio says in words.
        raw: raw (unadjusted) value of the check's metric per group, for impact ratios
            (group / best group), NYC Local Law 144 style.
        higher_is_better: whether a higher raw value favours the group (impact ratios
            divide by the most favoured group).
        extra: further data per comparison: ``(group, keep_cluster, treat_of_cluster,
            headline_effect) -> dict`` (e.g. a decomposition of the raw gap).
        noun: plural noun of the units counted in ``n_orders`` ("orders", "offers",
            "appeals").
        note: a sentence (with a leading space) ending the detail of every estimate, e.g.
            how many units the check left out and why; empty for none.
    """

    check: str
    title: str
    metric: str
    attribute: str
    unit: str
    phrase: Callable[[str, str, float], str]
    raw: Mapping[str, float] = field(default_factory=dict)
    higher_is_better: bool = True
    extra: (
        Callable[[str, NDArray[np.bool_], NDArray[np.bool_], GroupEffect], Mapping[str, Any]] | None
    ) = None
    noun: str = "orders"
    note: str = ""


@dataclass(frozen=True, slots=True)
class LeftOut:
    """What a comparison leaves out for want of a value of the attribute compared (missing,
    or a worker the workers table does not list), counted so that no one is dropped
    unseen.

    Attributes:
        clusters: clusters (workers, customers) with data in the check and no value; None
            where the check sets such units aside before they form clusters.
        units: their units in the check (orders, offers, appeals: ``Comparison.noun``).
        spec: the comparison's wording.
    """

    clusters: int | None
    units: int
    spec: Comparison

    @property
    def data(self) -> dict[str, int]:
        """``<unit>_without_value`` (where counted) and ``<noun>_without_value``."""
        out = {} if self.clusters is None else {f"{self.spec.unit}_without_value": self.clusters}
        return out | {f"{self.spec.noun}_without_value": self.units}

    @property
    def words(self) -> str:
        """A sentence for a finding's detail (empty when nothing is left out)."""
        what = f"no recorded {self.spec.attribute}"
        if self.clusters:
            unlisted = " or no row in workers" if self.spec.unit == "workers" else ""
            return (
                f" Left out: {self.clusters:,} {self.spec.unit} with {what}{unlisted} "
                f"({self.units:,} {self.spec.noun})."
            )
        if self.clusters is None and self.units:
            return f" Left out: {self.units:,} {self.spec.noun} with {what}."
        return ""


def compare_groups(
    context: CheckContext,
    spec: Comparison,
    labels: NDArray[np.object_],
    present: NDArray[np.bool_],
    effect: EffectFn,
    units_of: Callable[[NDArray[np.bool_]], int],
    has_algorithmic: bool = False,
    reference: str | None = None,
    set_aside: int | None = None,
) -> list[Finding | Confirmatory]:
    """Compare every group of ``spec.attribute`` with the reference group.

    Args:
        labels: group label per cluster code (None: no value; such clusters are left out).
        present: whether each cluster has data in the check's frame.
        effect: the check's estimator (see ``EffectFn``).
        units_of: orders (offers, cells) of the kept clusters, for ``n_orders``.
        has_algorithmic: whether to add the algorithmic-attribute view.
        reference: the reference group, when the check has fixed it already.
        set_aside: units the check set aside for want of a value before forming clusters
            (e.g. orders without a customer segment); None where it keeps them, and the
            clusters present with no label are counted instead. Either way every finding
            says what was left out (:class:`LeftOut`).
    """
    fairness, alpha = context.config.fairness, context.config.audit.alpha
    min_cell = context.config.report.min_cell_workers
    has_value = np.array([v is not None for v in labels], dtype=bool)
    valid = present & has_value
    if set_aside is None:
        without = present & ~has_value
        left_out = LeftOut(int(without.sum()), units_of(without) if without.any() else 0, spec)
    else:
        left_out = LeftOut(None, set_aside, spec)
    counts = pd.Series(labels[valid]).value_counts()
    if counts.empty:
        return [
            Finding(
                check=spec.check,
                status=Status.INCONCLUSIVE,
                title=spec.title,
                metric=spec.metric,
                subject={"attribute": spec.attribute},
                basis=basis(context, spec.check),
                detail=f"No {spec.unit} with a value of {spec.attribute} have data to compare."
                + left_out.words,
                data=left_out.data,
            )
        ]
    if reference is None:
        reference = fairness.reference_groups.get(spec.attribute)
    if reference is None or reference not in counts.index:
        # The largest group of all clusters with a value (with data here or not), so that
        # every check and metric compares with the same reference; ties broken by name.
        everyone = pd.Series([v for v in labels if v is not None]).value_counts()
        ranked = sorted(everyone.index, key=lambda g: (-int(everyone[g]), str(g)))
        reference = next(g for g in ranked if g in counts.index)
    best = _best(spec)
    out: list[Finding | Confirmatory] = []
    for group in sorted(counts.index, key=str):
        if group == reference:
            continue
        subject = {"attribute": spec.attribute, "group": str(group), "reference": str(reference)}
        small = min(int(counts[group]), int(counts[reference]))
        if small < min_cell:
            out.append(
                Finding(
                    check=spec.check,
                    status=Status.INCONCLUSIVE,
                    title=spec.title,
                    metric=spec.metric,
                    subject=subject,
                    basis=basis(context, spec.check),
                    detail=(
                        f"Suppressed: one side of this comparison has fewer than {min_cell} "
                        f"{spec.unit} ([report] min_cell_workers); no estimate is published."
                        + left_out.words
                    ),
                    data={"suppressed": True, "min_cell_workers": min_cell, **left_out.data},
                )
            )
            continue
        keep = valid & ((labels == group) | (labels == reference))
        treat = valid & (labels == group)
        est = effect(keep, treat, False, 0)
        if est.effective_clusters < fairness.min_workers_asymptotic:
            # Few workers, or a few dominating a side: the sandwich is too small there;
            # permute worker labels for the p-value instead.
            est = effect(keep, treat, False, fairness.permutations)
        n_units = units_of(keep)
        if not (math.isfinite(est.log_effect) and math.isfinite(est.se)):
            out.append(
                Finding(
                    check=spec.check,
                    status=Status.INCONCLUSIVE,
                    title=spec.title,
                    metric=spec.metric,
                    subject=subject,
                    n_workers=est.n_clusters_group + est.n_clusters_reference,
                    n_orders=n_units,
                    basis=basis(context, spec.check),
                    detail=(
                        "No estimate: the two groups never share a stratum (same place, "
                        "time and kind of work) with data on both sides, or the outcome does "
                        "not vary within strata." + left_out.words + spec.note
                    ),
                    data=left_out.data,
                )
            )
            continue
        adjusted = None
        if has_algorithmic:
            alt = effect(keep, treat, True, 0)
            if math.isfinite(alt.log_effect) and math.isfinite(alt.se):
                lo, hi = alt.ci(1 - alpha)
                adjusted = {"ratio": alt.ratio, "ci": [lo, hi], "p_value": alt.p_value}
        extra = dict(spec.extra(str(group), keep, treat, est)) if spec.extra is not None else {}
        impact = None
        if (
            best is not None
            and str(group) in spec.raw
            and spec.raw[str(group)] == spec.raw[str(group)]
        ):
            impact = _impact(spec, str(group), best)
        out.append(
            Confirmatory(
                check=spec.check,
                p_value=est.p_value,
                resolve=_resolver(
                    context,
                    spec,
                    subject,
                    est,
                    n_units,
                    adjusted,
                    extra,
                    impact,
                    reference,
                    left_out,
                ),
            )
        )
    return out


def _best(spec: Comparison) -> float | None:
    values = [v for v in spec.raw.values() if v == v and v is not None]
    if not values:
        return None
    return max(values) if spec.higher_is_better else min(values)


def _impact(spec: Comparison, group: str, best: float) -> float | None:
    value = spec.raw[group]
    if spec.higher_is_better:
        return value / best if best > 0 else None
    return best / value if value > 0 else None


def _resolver(
    context: CheckContext,
    spec: Comparison,
    subject: Mapping[str, str],
    est: GroupEffect,
    n_units: int,
    adjusted: Mapping[str, Any] | None,
    extra: Mapping[str, Any],
    impact: float | None,
    reference: str,
    left_out: LeftOut,
) -> Callable[[float, int], Finding]:
    cfg = context.config
    alpha, materiality = cfg.audit.alpha, cfg.fairness.materiality

    def resolve(p_adjusted: float, family_size: int) -> Finding:
        d = decide(est, p_adjusted, alpha=alpha, materiality=materiality, family_size=family_size)
        lo, hi = est.ci(1 - alpha)
        ratio = est.ratio
        threshold = 1 - materiality if ratio < 1 else 1 / (1 - materiality)
        words = spec.phrase(subject["group"], reference, ratio)
        test = "permutation of worker labels" if est.permuted else "cluster-robust t-test"
        detail = (
            f"{words} ({1 - alpha:.0%} CI {lo:.3f} to {hi:.3f}; p = {est.p_value:.2g}, "
            f"Holm-adjusted over {family_size} tests p = {p_adjusted:.2g}, {test}). "
        )
        if d.verdict == Verdict.FAIL:
            status = Status.FAIL
            severity = Severity.HIGH if d.clear_of_band else Severity.MEDIUM
            detail += (
                f"The gap is significant and beyond the {materiality:.0%} materiality band"
                + ("; the whole interval lies beyond it." if d.clear_of_band else ".")
            )
        elif d.verdict == Verdict.PASS:
            status, severity = Status.PASS, Severity.INFO
            detail += (
                f"An equivalence test shows the gap lies within the {materiality:.0%} "
                f"materiality band (p = {d.equivalence_p:.2g})."
            )
        else:
            status, severity = Status.INCONCLUSIVE, Severity.INFO
            detail += (
                f"The data cannot decide: neither a material gap nor equivalence within "
                f"{materiality:.0%} is shown. The smallest detectable ratio is "
                f"{d.mde_ratio:.3f} (80 % power)"
                + (
                    f"; about {d.clusters_needed} {spec.unit} in this comparison would decide it."
                    if d.clusters_needed
                    else "."
                )
            )
        detail += left_out.words + spec.note
        data: dict[str, Any] = {
            "method": est.method,
            "gap_percent": (ratio - 1.0) * 100.0,
            "gap_percent_ci": [(lo - 1.0) * 100.0, (hi - 1.0) * 100.0],
            "log_ratio": est.log_effect,
            "se_log_ratio": est.se,
            "df": est.df,
            "permutation_p": est.permuted,
            "equivalence_p": d.equivalence_p,
            "materiality": materiality,
            "clear_of_band": d.clear_of_band,
            "mde_ratio": d.mde_ratio,
            "clusters_needed": d.clusters_needed,
            f"{spec.unit}_group": est.n_clusters_group,
            f"{spec.unit}_reference": est.n_clusters_reference,
            "impact_ratio": impact,
            "raw": {k: v for k, v in spec.raw.items() if k in (subject["group"], reference)},
            "adjusted_for_algorithmic": adjusted,
            **left_out.data,
            **extra,
        }
        return Finding(
            check=spec.check,
            status=status,
            severity=severity,
            title=spec.title,
            metric=spec.metric,
            estimate=ratio,
            ci=(lo, hi),
            p_value=est.p_value,
            p_adjusted=p_adjusted,
            threshold=threshold,
            subject=dict(subject),
            n_workers=est.n_clusters_group + est.n_clusters_reference,
            n_orders=n_units,
            basis=basis(context, spec.check),
            detail=detail,
            data=data,
        )

    return resolve


def worker_columns(context: CheckContext) -> set[str]:
    """Columns of the workers table: contract columns and the extra attribute columns."""
    workers = context.package.tables["workers"]
    return set(workers.columns_present) | set(workers.extra_columns)


def no_attribute(context: CheckContext, check: str, title: str, attribute: str) -> Finding:
    """``not_assessed``: the workers table lacks a protected attribute."""
    return Finding(
        check=check,
        status=Status.NOT_ASSESSED,
        title=title,
        subject={"attribute": attribute},
        missing=(f"workers.{attribute}",),
        detail=(
            f"Not assessed for {attribute}: the workers table has no such column "
            f"([fairness] protected_attributes names it)."
        ),
    )


def attributes_findings(
    context: CheckContext, check: str, title: str, run_one: Callable[[str], Sequence[Any]]
) -> list[Finding | Confirmatory]:
    """Run ``run_one`` for each protected attribute, ``not_assessed`` for missing ones."""
    people = context.config.fairness.protected_attributes
    out: list[Finding | Confirmatory] = []
    present = worker_columns(context)
    for attribute in people:
        if attribute not in present:
            out.append(no_attribute(context, check, title, attribute))
        else:
            out.extend(run_one(attribute))
    return out
