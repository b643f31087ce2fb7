"""What the group-disparity checks share: the worker roster and its attributes (and their
intersections), the choice of reference group, small-cell suppression, the descriptive
impact ratio, and turning group effects into findings once the family's Holm correction is
known.

A comparison is always one group against one reference group of the same attribute, on the
clusters (workers, or customers for prices) of those two groups only. Each comparison has a
headline view (the test that can fail) and labelled secondary views (e.g. adjusted for the
platform-set attributes, or accepted orders beside offers); the secondary views' tests form
a family of their own, Holm-adjusted apart from the headline family, and never decide a
verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import (
    Adjustment,
    CheckContext,
    Confirmatory,
    Finding,
    Severity,
    Status,
)
from auditor.checks._common import basis
from auditor.errors import ConfigError
from auditor.stats import (
    Decision,
    EffectFn,
    Exclusion,
    GroupEffect,
    Verdict,
    band,
    decide,
    reported_p,
)
from auditor.stats._dist import t_ppf

__all__ = [
    "ALGORITHMIC_WORDS",
    "Comparison",
    "EffectFn",
    "Impact",
    "Roster",
    "View",
    "attributes_findings",
    "compare_groups",
    "group_rates",
    "roster",
]

ALGORITHMIC_WORDS = "within the platform-set attributes too ({}): not a test of the platform"
"""The label of a comparison within the platform-set (algorithmic) attributes too: a view,
never the test."""

INTERSECTION = "*"
"""Joins attribute names and values of an intersection: ``gender*age_band``, ``F*50+``."""


@dataclass(frozen=True, slots=True, eq=False)
class Roster:
    """Workers with an integer code and their attribute values (strings; None if missing).

    Attributes:
        frame: one row per worker: ``worker_id``, ``code`` (0..n-1), the protected and
            algorithmic attributes present and one column per intersection
            (``gender*age_band``, None where a part is missing). The workers table's
            workers come first, in ID order; then the workers the reconstruction or the
            offers know that the workers table does not list (or whose row was
            quarantined), in ID order, with every attribute missing: the group checks
            count them as left out rather than drop them unseen.
        table: the same (``worker_id``, ``code``) as an engine table, to join on.
        missing: protected attributes (and intersections) the workers table cannot give.
        algorithmic: algorithmic attributes it has (``[fairness] algorithmic_attributes``).
        legitimate: legitimate market attributes it has (``[fairness] legitimate_attributes``).
        attributes: the attributes compared, in order: the protected ones present, then the
            intersections whose parts are all present.
    """

    frame: pd.DataFrame
    table: Table
    missing: tuple[str, ...]
    algorithmic: tuple[str, ...]
    legitimate: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.frame)

    def codes_of(self, worker_ids: NDArray[Any]) -> NDArray[np.int64]:
        """Roster code of each worker ID (-1 where the roster does not have it)."""
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


def intersection_name(parts: Sequence[str]) -> str:
    return INTERSECTION.join(parts)


def _roster(context: CheckContext) -> Roster:
    workers = context.package.tables.get("workers")
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
    crossed = [c for c in fairness.intersections if all(p in present for p in c)]
    parts = sorted({p for c in crossed for p in c} - set(protected) - set(algorithmic)
                   - set(legitimate))  # fmt: skip
    read = [*protected, *algorithmic, *legitimate, *parts]
    known = context.rebuilt.worker_days.select("worker_id").distinct()
    if "offers" in context.package.tables:
        offered = context.package.tables["offers"].table.select("worker_id").distinct()
        known = known.union(offered, distinct=True)
    if workers is None:  # FEE-05 needs worker codes, not attributes
        listed = pd.DataFrame({"worker_id": pd.Series(dtype=object)})
        unlisted = known.order_by("worker_id").to_pyarrow().to_pandas()
    else:
        w = workers.table
        cols = {a: w[a].cast("string") for a in read}
        ordered = w.select("worker_id", **cols).distinct(on="worker_id").order_by("worker_id")
        listed = ordered.to_pyarrow().to_pandas()
        unlisted = known.anti_join(w, "worker_id").order_by("worker_id").to_pyarrow()
        unlisted = unlisted.to_pandas()
    frame = pd.concat([listed, unlisted], ignore_index=True)
    frame["code"] = np.arange(len(frame), dtype=np.int64)
    for a in read:
        column = frame[a] if a in frame else pd.Series([None] * len(frame), dtype=object)
        frame[a] = column.astype(object).where(column.notna(), None)
    names = []
    for combination in crossed:
        name = intersection_name(combination)
        values = frame[list(combination)]
        whole = values.notna().all(axis=1)
        joined = values.astype(str).agg(INTERSECTION.join, axis=1)
        frame[name] = joined.where(whole, None).astype(object)
        names.append(name)
    for attribute in protected:
        refuse_identifying(context, frame[attribute], attribute, "protected_attributes")
    for name in names:
        refuse_identifying(context, frame[name], name, "intersections")
    ids = pa.table(
        {
            "worker_id": pa.array(frame["worker_id"].tolist(), pa.string()),
            "code": pa.array(frame["code"].to_numpy(), pa.int64()),
        }
    )
    table = context.engine.store("fx_roster", ids)
    missing = tuple(a for a in fairness.protected_attributes if a not in protected) + tuple(
        intersection_name(c) for c in fairness.intersections if c not in crossed
    )
    return Roster(
        frame, table, missing, tuple(algorithmic), tuple(legitimate), (*protected, *names)
    )


def refuse_identifying(context: CheckContext, values: pd.Series, attribute: str, key: str) -> None:
    """Refuse an attribute that identifies workers instead of grouping them.

    The rule (sample uniqueness, the disclosure-risk count of statistical disclosure
    control): the attribute is refused when more than half of the workers with a value are
    the only worker with theirs, and at least ``[report] min_cell_workers`` workers are.
    Below that count every one of its groups has fewer than ``min_cell_workers`` workers
    (the unique ones, and the rest, fewer than half), so every comparison is suppressed and
    no label is published anyway. A few unique values among many shared ones (a rare
    category, a data-entry slip) are not refused: their comparisons are suppressed, and
    their labels never published.

    Raises:
        ConfigError: naming ``[fairness] <key>`` and the attribute, never a value of it.
    """
    min_cell = context.config.report.min_cell_workers
    counts = values.dropna().value_counts()
    workers = int(counts.sum())
    unique = int((counts == 1).sum())
    if unique * 2 <= workers or unique < min_cell:
        return
    where = context.config.source or "config"
    raise ConfigError(
        f"{where} [fairness] {key} must name attributes that put workers in groups; got "
        f"{attribute!r}, which identifies them: {unique:,} of the {workers:,} workers with "
        f"a value of it are the only worker with theirs (refused when more than half are, "
        f"and at least [report] min_cell_workers = {min_cell}). Remove {attribute!r} from "
        f"[fairness] {key}, or compare by a column whose groups hold many workers."
    )


def check_reference(
    context: CheckContext, spec: Comparison, labels: NDArray[np.object_], configured: str
) -> None:
    """Refuse a ``[fairness] reference_groups`` value that no cluster (worker, customer) of
    the attribute has: comparing with another group instead would answer a question
    nobody asked. The message lists the groups present with their sizes, naming only
    groups of at least ``[report] min_cell_workers`` (a smaller one may be a single
    worker's ID).

    Raises:
        ConfigError: naming ``[fairness] reference_groups.<attribute>`` and the value.
    """
    everyone = pd.Series([v for v in labels if v is not None], dtype=object).value_counts()
    if everyone.empty or configured in everyone.index:
        return
    min_cell = context.config.report.min_cell_workers
    named = sorted((g for g in everyone.index if int(everyone[g]) >= min_cell), key=str)
    listed = [f"{g} ({int(everyone[g]):,} {spec.unit})" for g in named[:20]]
    if len(named) > 20:
        listed.append(f"{len(named) - 20:,} more")
    hidden = len(everyone) - len(named)
    if hidden:
        listed.append(
            f"{hidden:,} groups of fewer than {min_cell} {spec.unit} "
            "([report] min_cell_workers), not named"
        )
    where = context.config.source or "config"
    raise ConfigError(
        f"{where} [fairness] reference_groups.{spec.attribute} must be a group of "
        f"{spec.attribute} present in the data; got {configured!r}. Groups present: "
        f"{'; '.join(listed)}. Set it to one of these, or remove it to compare with the "
        "largest group."
    )


def public_labels(counts: pd.Series, min_cell: int) -> dict[Any, str]:
    """The label each group is published under: its own when it has at least
    ``min_cell`` clusters, else ``suppressed group <i>``, numbered in the sorted order of
    the small groups' labels (stable across reruns) and never equal to a real label.

    A group of fewer than ``[report] min_cell_workers`` workers is never named: its label
    could be a worker's ID, a name, or a value that points at a few people.
    """
    labels = {str(g) for g in counts.index}
    small = sorted((g for g in counts.index if int(counts[g]) < min_cell), key=str)
    out = {g: str(g) for g in counts.index}
    number = 0
    for g in small:
        number += 1
        while f"suppressed group {number}" in labels:
            number += 1
        out[g] = f"suppressed group {number}"
    return out


@dataclass(frozen=True, slots=True)
class View:
    """A labelled secondary view of a comparison.

    Attributes:
        name: key of the view in the finding's ``data`` (e.g. ``adjusted_for_algorithmic``).
        label: a short name for the finding's sentence.
        words: what the view measures, for a reader (``data``).
        effect: the view's estimator (see ``EffectFn``).
        tested: whether its minimum-effect test joins the secondary Holm family (a
            sensitivity view of the same question, such as the geometric mean, does not).
    """

    name: str
    label: str
    words: str
    effect: EffectFn
    tested: bool = True


@dataclass(frozen=True, slots=True)
class Impact:
    """What a check measures per cluster for the descriptive impact ratio (NYC Local Law
    144's definitions).

    Attributes:
        kind: ``selection_rate`` for rates (a group's events over its exposure, over the
            most favoured group's), or ``scoring_rate`` for continuous outcomes (the share
            of a group's clusters on the favourable side of the overall median, over the
            most favoured group's share).
        numerator: per cluster code, events (rates) or the cluster's raw outcome (scores;
            NaN where the cluster has none).
        denominator: per cluster code, exposure (rates; unused for scores).
        higher_is_better: whether a higher rate or outcome favours the group.
    """

    kind: Literal["selection_rate", "scoring_rate"]
    numerator: NDArray[Any]
    denominator: NDArray[Any] | None = None
    higher_is_better: bool = True


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a check words and measures its comparisons.

    Attributes:
        check: catalogue ID.
        title: the check's title.
        metric: name of the ratio (e.g. ``offer_rate_ratio``).
        attribute: worker (or order) attribute compared.
        unit: plural noun of the clusters ("workers", "customers").
        phrase: ``(group, reference, ratio) -> str``, what the ratio says in words.
        raw: raw (unadjusted) value of the check's outcome per group (data only).
        extra: further data per comparison: ``(group, keep_cluster, treat_of_cluster,
            headline_effect) -> dict`` (e.g. a decomposition of the raw gap).
        noun: plural noun of the units counted in ``n_orders`` ("orders", "offers",
            "appeals").
        note: a sentence (with a leading space) ending the detail of every estimate, e.g.
            how many units the check left out and why; empty for none.
        scale: what the ratio compares ("ratio of rates", "ratio of means").
        impact: the per-cluster outcome of the impact ratio (None: not reported).
    """

    check: str
    title: str
    metric: str
    attribute: str
    unit: str
    phrase: Callable[[str, str, float], str]
    raw: Mapping[str, float] = field(default_factory=dict)
    extra: (
        Callable[[str, NDArray[np.bool_], NDArray[np.bool_], GroupEffect], Mapping[str, Any]] | None
    ) = None
    noun: str = "orders"
    note: str = ""
    scale: str = "ratio of rates"
    impact: Impact | None = None


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


@dataclass(frozen=True, slots=True, eq=False)
class _Pending:
    """A comparison with an estimate, waiting for its impact ratio and family."""

    group: str
    subject: dict[str, str]
    effect: GroupEffect
    views: dict[str, tuple[View, GroupEffect]]
    n_units: int
    extra: Mapping[str, Any]


def compare_groups(
    context: CheckContext,
    spec: Comparison,
    labels: NDArray[np.object_],
    present: NDArray[np.bool_],
    effect: EffectFn,
    units_of: Callable[[NDArray[np.bool_]], int],
    views: Sequence[View] = (),
    reference: str | None = None,
    set_aside: int | None = None,
) -> list[Finding | Confirmatory]:
    """Compare every group of ``spec.attribute`` with the reference group.

    Args:
        labels: group label per cluster code (None: no value; such clusters are left out).
        present: whether each cluster has data in the check's frame.
        effect: the check's headline estimator (see ``EffectFn``).
        units_of: orders (offers, cells) of the kept clusters, for ``n_orders``.
        views: the labelled secondary views.
        reference: the reference group, when the check has fixed it already.
        set_aside: units the check set aside for want of a value before forming clusters
            (e.g. orders without a customer segment); None where it keeps them, and the
            clusters present with no label are counted instead. Either way every finding
            says what was left out (:class:`LeftOut`).

    A comparison is suppressed (no estimate published) when either side has fewer than
    ``[report] min_cell_workers`` clusters with data, or, once fitted, fewer effective
    clusters in common support (Kish, on the information about the gap): two workers who
    bridge the strata of a group of 30 would otherwise be published.
    """
    fairness = context.config.fairness
    min_cell = context.config.report.min_cell_workers
    has_value = np.array([v is not None for v in labels], dtype=bool)
    valid = present & has_value
    if set_aside is None:
        without = present & ~has_value
        left_out = LeftOut(int(without.sum()), units_of(without) if without.any() else 0, spec)
    else:
        left_out = LeftOut(None, set_aside, spec)
    counts = pd.Series(labels[valid]).value_counts()
    common: dict[str, Any] = {"check": spec.check, "title": spec.title, "metric": spec.metric}
    configured = fairness.reference_groups.get(spec.attribute)
    if configured is not None:
        check_reference(context, spec, labels, configured)
    if counts.empty:
        return [
            Finding(
                **common,
                status=Status.INCONCLUSIVE,
                subject={"attribute": spec.attribute},
                basis=basis(context, spec.check),
                detail=f"No {spec.unit} with a value of {spec.attribute} have data to compare."
                + left_out.words,
                data=left_out.data,
            )
        ]
    if reference is None:
        reference = configured
    if reference is None or reference not in counts.index:
        # The largest group of all clusters with a value (with data here or not), so that
        # every check and metric compares with the same reference; ties broken by name. (A
        # configured reference is one some cluster has, checked above; here it has none
        # with data in this check.)
        everyone = pd.Series([v for v in labels if v is not None]).value_counts()
        ranked = sorted(everyone.index, key=lambda g: (-int(everyone[g]), str(g)))
        reference = next(g for g in ranked if g in counts.index)
    out: list[Finding | Confirmatory] = []
    pending: list[_Pending] = []

    def suppressed(subject: dict[str, str], why: str, **extra: Any) -> Finding:
        return Finding(
            **common,
            status=Status.INCONCLUSIVE,
            subject=subject,
            basis=basis(context, spec.check),
            detail=f"Suppressed: {why}; no estimate is published." + left_out.words,
            data={"suppressed": True, "min_cell_workers": min_cell, **extra, **left_out.data},
        )

    shown = public_labels(counts, min_cell)
    for group in sorted(counts.index, key=str):
        if group == reference:
            continue
        subject = {
            "attribute": spec.attribute,
            "group": shown[group],
            "reference": shown[reference],
        }
        small = min(int(counts[group]), int(counts[reference]))
        if small < min_cell:
            why = (
                f"one side of this comparison has fewer than {min_cell} {spec.unit} "
                "([report] min_cell_workers)"
            )
            out.append(suppressed(subject, why))
            continue
        keep = valid & ((labels == group) | (labels == reference))
        treat = valid & (labels == group)
        est = effect(keep, treat)
        n_units = units_of(keep)
        if not est.estimable:
            out.append(
                Finding(
                    **common,
                    status=Status.INCONCLUSIVE,
                    subject=subject,
                    n_workers=est.n_clusters_group + est.n_clusters_reference,
                    n_orders=n_units,
                    basis=basis(context, spec.check),
                    detail=(
                        "No estimate: the two groups never share a stratum (same place, "
                        "time and kind of work) with exposure on both sides and events in "
                        "it, or the outcome does not vary within strata."
                        + left_out.words
                        + spec.note
                    ),
                    data=left_out.data,
                )
            )
            continue
        if est.effective_clusters < min_cell:
            why = (
                f"fewer than {min_cell} effective {spec.unit} on one side carry the "
                f"comparison (in strata both groups share: {_below(est.effective_group)} in "
                f"the group, {_below(est.effective_reference)} in the reference; "
                "[report] min_cell_workers)"
            )
            out.append(suppressed(subject, why, effective_suppression=True))
            continue
        seen = {v.name: (v, v.effect(keep, treat)) for v in views}
        extra = dict(spec.extra(str(group), keep, treat, est)) if spec.extra is not None else {}
        pending.append(_Pending(str(group), subject, est, seen, n_units, extra))
    published = {p.group for p in pending} | {str(reference)}
    impacts = _impacts(context, spec, labels, valid, published)
    for p in pending:
        secondary = {
            name: v_est.inference.p_beyond(band(fairness.materiality))
            for name, (view, v_est) in p.views.items()
            if view.tested and v_est.inference is not None
        }
        out.append(
            Confirmatory(
                check=spec.check,
                metric=spec.metric,
                subject=p.subject,
                p_value=p.effect.inference.p_beyond(band(fairness.materiality)),  # type: ignore[union-attr]
                secondary=secondary,
                resolve=_resolver(
                    context,
                    spec,
                    p,
                    reference=str(reference),
                    left_out=left_out,
                    impact=impacts.get(p.group),
                ),
            )
        )
    return out


def _impacts(
    context: CheckContext,
    spec: Comparison,
    labels: NDArray[np.object_],
    valid: NDArray[np.bool_],
    published: set[str],
) -> dict[str, dict[str, Any]]:
    """Each published group's impact ratio (NYC Local Law 144): its selection or scoring
    rate over the most favoured published group's (suppressed groups never set the
    favoured rate), with a normal interval on the log scale at the audit's level
    (clustered ratio-estimator variance for rates, Katz's for shares)."""
    impact = spec.impact
    if impact is None:
        return {}
    level = 1 - context.config.audit.alpha
    z = float(t_ppf(0.5 + level / 2, math.inf))
    rates: dict[str, tuple[float, float]] = {}
    num = np.asarray(impact.numerator, dtype=np.float64)
    for g in sorted(published):
        side = valid & (labels == g)
        if impact.kind == "selection_rate":
            den = np.asarray(impact.denominator, dtype=np.float64)
            y, x = num[side], den[side]
            total_y, total_x = float(y.sum()), float(x.sum())
            if not (total_y > 0 and total_x > 0):
                continue
            r = total_y / total_x
            n = len(y)
            var = float(np.sum((y - r * x) ** 2)) / total_y**2 * n / max(n - 1, 1)
            rates[g] = (r, var)
        else:
            values = num[side]
            values = values[np.isfinite(values)]
            if len(values) == 0:
                continue
            rates[g] = (math.nan, float(len(values)))  # filled below from the median
    if impact.kind == "scoring_rate":
        # Local Law 144's median is the whole sample's: every worker (customer) with a value
        # of the attribute, suppressed groups included; they only never set the best rate.
        pool = num[valid]
        pool = pool[np.isfinite(pool)]
        if len(pool) == 0:
            return {}
        median = float(np.median(pool))
        for g in list(rates):
            values = num[valid & (labels == g)]
            values = values[np.isfinite(values)]
            favourable = values > median if impact.higher_is_better else values < median
            share = float(favourable.mean())
            rates[g] = (share, (1 - share) / (len(values) * share) if share > 0 else math.inf)
    usable = {g: rv for g, rv in rates.items() if rv[0] > 0}
    if not usable:
        return {}
    lower_better = impact.kind == "selection_rate" and not impact.higher_is_better
    best = (min if lower_better else max)(usable, key=lambda g: (usable[g][0], g))
    r_best, v_best = usable[best]
    out: dict[str, dict[str, Any]] = {}
    for g, (r, v) in rates.items():
        if g == best:
            ratio, ci = 1.0, None
        elif r > 0:
            ratio = r_best / r if lower_better else r / r_best
            half = z * math.sqrt(v + v_best)
            ci = [ratio * math.exp(-half), ratio * math.exp(half)] if math.isfinite(half) else None
        else:
            ratio, ci = (0.0 if not lower_better else math.inf), None
        out[g] = {
            "impact_ratio": ratio,
            "impact_ratio_ci": ci,
            "impact_ratio_basis": (
                f"{'selection' if impact.kind == 'selection_rate' else 'scoring'} rate "
                f"(NYC Local Law 144), relative to {best}; descriptive, not adjusted for "
                "where, when or what work"
            ),
        }
    return out


def _resolver(
    context: CheckContext,
    spec: Comparison,
    p: _Pending,
    *,
    reference: str,
    left_out: LeftOut,
    impact: Mapping[str, Any] | None,
) -> Callable[[Adjustment], Finding]:
    cfg = context.config
    alpha, materiality = cfg.audit.alpha, cfg.fairness.materiality
    level = 1 - alpha
    half = band(materiality)

    def resolve(adj: Adjustment) -> Finding:
        est = p.effect
        test = est.inference
        assert test is not None
        d = decide(est, adj.p_adjusted, alpha=alpha, materiality=materiality,
                   family_size=adj.family_size)  # fmt: skip
        lo, hi = est.ci(level)
        ratio = est.ratio
        threshold = 1 - materiality if ratio < 1 else 1 / (1 - materiality)
        words = spec.phrase(p.group, reference, ratio)
        detail = f"{words} ({level:.0%} CI {_num(lo)} to {_num(hi)}). "
        detail += _verdict_words(d, est, spec, materiality, adj, p.n_units)
        detail += _views_words(p.views, level)
        detail += left_out.words + spec.note
        if d.verdict == Verdict.FAIL:
            status = Status.FAIL
            severity = Severity.HIGH if d.clear_of_band else Severity.MEDIUM
        elif d.verdict == Verdict.PASS:
            status, severity = Status.PASS, Severity.INFO
        else:
            status, severity = Status.INCONCLUSIVE, Severity.INFO
        needed = [n for n in (d.workers_needed_to_fail, d.workers_needed_to_pass) if n]
        data: dict[str, Any] = {
            "method": est.method,
            "scale": spec.scale,
            "inference": (
                "cr2_bell_mccaffrey"
                if not isinstance(test, Exclusion)
                else "exact_conditional_no_events"
            ),
            "gap_percent": (ratio - 1.0) * 100.0,
            "gap_percent_ci": [(lo - 1.0) * 100.0, (hi - 1.0) * 100.0],
            "interval_level": level,
            "log_ratio": est.log_effect,
            "se_log_ratio": est.se,
            "df": est.df,
            "random_effect": est.random_effect,
            "p_value_no_gap": reported_p(test.p_no_gap()),
            "equivalence_p": reported_p(d.equivalence_p),
            "materiality": materiality,
            "clear_of_band": d.clear_of_band,
            "mde_ratio": d.mde_ratio,
            "workers_needed_to_fail": d.workers_needed_to_fail,
            "workers_needed_to_pass": d.workers_needed_to_pass,
            "clusters_needed": max(needed) if needed else None,
            "decidable": d.decidable,
            f"{spec.unit}_group": est.n_clusters_group,
            f"{spec.unit}_reference": est.n_clusters_reference,
            f"effective_{spec.unit}_group": est.effective_group,
            f"effective_{spec.unit}_reference": est.effective_reference,
            "impact_ratio": None if impact is None else impact["impact_ratio"],
            "impact_ratio_ci": None if impact is None else impact["impact_ratio_ci"],
            "impact_ratio_basis": None if impact is None else impact["impact_ratio_basis"],
            "raw": {k: v for k, v in spec.raw.items() if k in (p.group, reference)},
            **left_out.data,
            **p.extra,
        }
        for name, (view, v_est) in p.views.items():
            data[name] = _view(view, v_est, level, half, adj.secondary.get(name),
                               adj.secondary_size)  # fmt: skip
        return Finding(
            check=spec.check,
            status=status,
            severity=severity,
            title=spec.title,
            metric=spec.metric,
            estimate=ratio,
            ci=(lo, hi),
            p_value=reported_p(d.p_beyond),
            p_adjusted=reported_p(adj.p_adjusted),
            threshold=threshold,
            subject=dict(p.subject),
            n_workers=est.n_clusters_group + est.n_clusters_reference,
            n_orders=p.n_units,
            basis=basis(context, spec.check),
            detail=detail,
            data=data,
        )

    return resolve


def _view(
    view: View,
    est: GroupEffect,
    level: float,
    half: float,
    p_adjusted: float | None,
    family_size: int,
) -> dict[str, Any] | None:
    """A secondary view's numbers: ratio, interval and (when tested) its minimum-effect
    p-value, Holm-adjusted in the secondary family."""
    if est.inference is None:
        return None
    lo, hi = est.ci(level)
    out: dict[str, Any] = {
        "measures": view.words,
        "method": est.method,
        "ratio": est.ratio,
        "ci": [lo, hi],
    }
    if view.tested:
        out["p_value"] = reported_p(est.inference.p_beyond(half))
        out["p_adjusted"] = None if p_adjusted is None else reported_p(p_adjusted)
        out["family_size"] = family_size
    return out


def _views_words(views: Mapping[str, tuple[View, GroupEffect]], level: float) -> str:
    """The sentence giving the labelled views' ratios (none with an estimate: empty)."""
    parts = []
    for view, est in views.values():
        if est.inference is None:
            continue
        lo, hi = est.ci(level)
        parts.append(f"{view.label} {_num(est.ratio)} ({level:.0%} CI {_num(lo)} to {_num(hi)})")
    return " Labelled views, which decide nothing: " + "; ".join(parts) + "." if parts else ""


def _below(x: float) -> str:
    """``x`` to one decimal, rounded down: 9.96 effective workers, under a threshold of 10,
    reads 9.9, not 10.0."""
    return f"{math.floor(x * 10) / 10:.1f}"


def _num(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "infinity"
    return f"{x:.3f}"


def _p(x: float) -> str:
    x = reported_p(x)
    return "< 1e-16" if x <= 1e-16 else f"= {x:.2g}"


def _verdict_words(
    d: Decision,
    est: GroupEffect,
    spec: Comparison,
    materiality: float,
    adj: Adjustment,
    n_units: int,
) -> str:
    """The sentence saying how the comparison was tested and what that decides."""
    test = est.inference
    if isinstance(test, Exclusion):
        empty = "group" if test.side == "group" else "reference group"
        how = (
            f"The {empty} got none of the {spec.noun} in the {len(test.events):,} strata both "
            f"share; an exact conditional test given each stratum's {spec.noun} (with the "
            f"other side's dispersion, {test.dispersion:.2g})"
        )
    else:
        how = (
            f"CR2 standard errors by {spec.unit[:-1]}, {est.df:.1f} degrees of freedom "
            "(Bell-McCaffrey)"
        )
    family = (
        f"minimum-effect p {_p(d.p_beyond)}, Holm-adjusted over {adj.family_size} tests "
        f"p {_p(adj.p_adjusted)}"
    )
    band_words = f"the {materiality:.0%} materiality band"
    if d.verdict == Verdict.FAIL:
        return f"The gap lies beyond {band_words}: {how} rejects a gap inside it ({family})" + (
            "; the whole interval lies beyond it." if d.clear_of_band else "."
        )
    if d.verdict == Verdict.PASS:
        return (
            f"An equivalence test shows the gap lies within {band_words} "
            f"(p {_p(d.equivalence_p)}; {how})."
        )
    text = (
        f"The data cannot decide: neither a gap beyond {band_words} nor one within it is "
        f"shown ({how}; {family})."
    )
    if not d.decidable:
        return text + (
            f" Data of this kind cannot decide it: not even 100 times as many {spec.unit} would."
        )
    if d.mde_ratio is not None:
        text += (
            f" It would detect a ratio below {d.mde_ratio:.3f} or above {1 / d.mde_ratio:.3f} "
            "(80 % power)."
        )
    needed = [n for n in (d.workers_needed_to_fail, d.workers_needed_to_pass) if n]
    if needed:
        text += (
            f" About {max(needed):,} {spec.unit} in this comparison would decide it (to show "
            f"a gap of twice the band, or equivalence within it, with 80 % power)."
        )
    return text


def group_rates(
    labels: NDArray[np.object_], num: NDArray[Any], den: NDArray[Any]
) -> dict[str, float]:
    """Raw ratio ``sum(num) / sum(den)`` per group (e.g. offers per online hour)."""
    frame = pd.DataFrame({"g": labels, "n": num, "d": den}).dropna(subset=["g"])
    sums = frame.groupby("g")[["n", "d"]].sum()
    return {str(g): float(r.n / r.d) for g, r in sums.iterrows() if r.d > 0}


def worker_columns(context: CheckContext) -> set[str]:
    """Columns of the workers table: contract columns and the extra attribute columns (none
    without a workers table)."""
    workers = context.package.tables.get("workers")
    if workers is None:
        return set()
    return set(workers.columns_present) | set(workers.extra_columns)


def no_attribute(context: CheckContext, check: str, title: str, attribute: str) -> Finding:
    """``not_assessed``: the workers table lacks a protected attribute."""
    parts = attribute.split(INTERSECTION)
    missing = [p for p in parts if p not in worker_columns(context)]
    return Finding(
        check=check,
        status=Status.NOT_ASSESSED,
        title=title,
        subject={"attribute": attribute},
        missing=tuple(f"workers.{p}" for p in missing),
        detail=(
            f"Not assessed for {attribute}: the workers table has no "
            + ", ".join(missing)
            + " column ([fairness] protected_attributes or intersections names it)."
        ),
    )


def attributes_findings(
    context: CheckContext, check: str, title: str, run_one: Callable[[str], Sequence[Any]]
) -> list[Finding | Confirmatory]:
    """Run ``run_one`` for each protected attribute and intersection, ``not_assessed`` for
    the ones the workers table cannot give."""
    fairness = context.config.fairness
    wanted = [*fairness.protected_attributes,
              *(intersection_name(c) for c in fairness.intersections)]  # fmt: skip
    present = worker_columns(context)
    out: list[Finding | Confirmatory] = []
    for attribute in wanted:
        if not all(p in present for p in attribute.split(INTERSECTION)):
            out.append(no_attribute(context, check, title, attribute))
        else:
            out.extend(run_one(attribute))
    return out
