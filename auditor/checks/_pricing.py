"""PRC-01 and PRC-02: customer prices.

PRC-01 compares what customers paid for comparable completed orders between
``customer_segment`` values: the log fare base (``customer_price - pass_through``: taxes and
tolls excluded) within strata of service x pickup zone x day type x hour, adjusting for
distance and trip time (logs, squares, product). All segments are fitted at once (a dummy
per segment but the reference). Inference is by customer (one customer's orders are not
independent; by worker where the package has no ``customer_id``): customer cells would be
as many as orders, so the engine makes two passes, moments per segment and stratum for the
fit, then one score per customer for the cluster-robust variance.

PRC-02 lists prices that are anomalous for their kind of order, as leads for a human to
review, never as a breach: the residual of log fare base on service x zone x day type x
hour strata and the trip covariates, scaled robustly (median and MAD). Orders beyond
``_Z_LEAD`` robust standard deviations are leads; their IDs go to the private evidence
(``leads.csv``), never to ``findings.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np
import pandas as pd
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs, Status
from auditor.checks._common import basis
from auditor.checks._comparable import group_rates
from auditor.checks._groups import Comparison, compare_groups
from auditor.checks._pay_equity import order_units
from auditor.checks._registry import register
from auditor.checks._work import (
    WorkCells,
    exact_sum,
    order_covariates,
    with_stratum_means,
    work_cells,
)
from auditor.stats import GroupEffect, within_effect
from auditor.stats._dist import t_sf
from auditor.stats._effect import kish, t_df

__all__ = ["AnomalousPrices", "SegmentPrices"]

_Z_LEAD = 5.0
"""Robust z beyond which a price is a lead (5 MADs: about 1 in 3 million for normal noise)."""
_MAX_LEADS = 200
"""Most leads listed; the count of all beyond the bound is reported."""


@register
class SegmentPrices:
    """PRC-01: customer price for comparable orders by customer segment."""

    id: ClassVar[str] = "PRC-01"
    title: ClassVar[str] = "Customer segments pay the same for comparable orders"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.customer_segment",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        units = order_units(context, "fare_base")
        units = units.filter(units.customer_segment.notnull())
        by_customer = "customer_id" in context.package.tables["orders"].columns_present
        who = units.customer_id if by_customer else units.worker_id
        units = units.mutate(_who=who.fill_null(""))
        used = order_covariates(context)
        unit = "customers" if by_customer else "workers"
        # Pass 1: moments per segment and stratum (small), for the joint fit of all
        # segments; pass 2: each customer's score at that fit (one row per customer).
        segment_cells = work_cells(
            units.mutate(_seg=units.customer_segment), "_seg", used, few_clusters=True
        )
        segments = [str(v) for v in segment_cells.cluster_ids]
        n_seg = np.bincount(segment_cells.cells.cluster, weights=segment_cells.cells.n)
        reference = context.config.fairness.reference_groups.get("customer_segment")
        if reference not in segments and segments:
            # The segment with the most orders (counting customers would cost a pass).
            orders_of = dict(zip(segments, n_seg, strict=True))
            reference = sorted(segments, key=lambda g: (-orders_of[g], g))[0]
        joint = _joint_fit(context, units, segment_cells, segments, reference, used)
        labels = joint.labels
        n_of = joint.units_of
        geometric = {
            g: float(np.exp(v))
            for g, v in group_rates(
                np.array(segments, dtype=object),
                np.bincount(segment_cells.cells.cluster, weights=segment_cells.cells.sy),
                n_seg,
            ).items()
        }
        seed = context.config.audit.seed

        def effect(
            keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
        ) -> GroupEffect:
            group = str(labels[np.argmax(treat)])
            if perms == 0:
                return joint.effect(group)
            # Few (effective) customers on a side: permute on the cells of the two segments.
            pair = units.filter(units.customer_segment.isin([group, str(reference)]))
            pair = pair.mutate(_cluster=pair._who + "\x1f" + pair.customer_segment)
            cells = work_cells(pair, "_cluster", used)
            seg = np.array([str(c).rsplit("\x1f", 1)[-1] for c in cells.cluster_ids])
            return within_effect(
                cells.cells, seg == group, method="wls_within_strata_trip",
                permutations=perms, seed=seed,
            )  # fmt: skip

        spec = Comparison(
            check=self.id,
            title=self.title,
            metric="price_ratio",
            attribute="customer_segment",
            unit=unit,
            phrase=lambda g, r, x: (
                f"Customers in segment {g} paid {x:.3f} times the price of segment {r} for "
                "comparable orders (same service, zone, day type and hour; adjusted for "
                "distance and trip time)"
            ),
            raw=geometric,
            higher_is_better=False,
            extra=lambda g, k, t, e: {
                "orders_excluded": segment_cells.excluded,
                "clustered_by": unit,
                "model": "all segments in one fit (segment dummies), strata absorbed",
            },
        )
        return compare_groups(
            context, spec, labels, n_of > 0, effect, lambda keep: int(n_of[keep].sum()),
            reference=reference,
        )  # fmt: skip


class _JointFit:
    """Log price on segment dummies, trip covariates and absorbed strata, over all
    segments at once; cluster-robust by customer from per-customer scores."""

    def __init__(
        self,
        beta: NDArray[np.float64],
        cov: NDArray[np.float64],
        dummies: list[str],
        labels: NDArray[np.object_],
        info: NDArray[np.float64],
        units_of: NDArray[np.float64],
        n_units: int,
    ) -> None:
        self.beta, self.cov, self.dummies = beta, cov, dummies
        self.labels, self.info, self.units_of, self.n_units = labels, info, units_of, n_units

    def effect(self, group: str) -> GroupEffect:
        j = self.dummies.index(group)
        b, se = float(self.beta[j]), float(np.sqrt(max(self.cov[j, j], 0.0)))
        lab = self.labels
        side_g = lab == group
        side_r = ~np.isin(lab, self.dummies)
        eff_g = kish(self.info[:, j], side_g)
        eff_r = kish(self.info[:, j], side_r)
        df = t_df(eff_g, eff_r)
        p = float(2 * t_sf(abs(b / se), df)) if se > 0 else float("nan")
        return GroupEffect(
            b, se, df, p, int(side_g.sum()), int(side_r.sum()), self.n_units,
            "wls_within_strata_trip_joint", False, eff_g, eff_r,
        )  # fmt: skip


def _joint_fit(
    context: CheckContext,
    units: Table,
    segment_cells: WorkCells,
    segments: list[str],
    reference: str | None,
    used: tuple[str, ...],
) -> _JointFit:
    cells = segment_cells.cells
    dummies = [g for g in segments if g != reference]
    seg_of_cell = cells.cluster
    treat = np.column_stack(
        [(seg_of_cell == segments.index(g)).astype(float) for g in dummies]
    ) if dummies else np.empty((len(seg_of_cell), 0))  # fmt: skip
    fit = cells.fit(treat) if dummies else None
    if fit is None:
        return _JointFit(
            np.empty(0), np.empty((0, 0)), [], np.empty(0, dtype=object), np.empty((0, 0)),
            np.empty(0), 0,
        )  # fmt: skip
    q, k = len(dummies), cells.k
    jn, terms = with_stratum_means(
        context, units, segment_cells, used, "fx_segment_means",
        {f"_tbar{j}": cells.n * treat[:, j] for j in range(q)},
    )  # fmt: skip
    d = [
        (jn.customer_segment == g).cast("float64") - jn[f"_tbar{i}"] for i, g in enumerate(dummies)
    ]
    e_z = [jn[name] - jn[f"_zbar{i}"] for i, name in enumerate(terms)]
    resid = jn.y - jn._ybar
    for i in range(q):
        resid = resid - d[i] * float(fit.beta[i])
    for i in range(k):
        resid = resid - e_z[i] * float(fit.beta[q + i])
    sums = {f"u{i}": exact_sum(x * resid) for i, x in enumerate(d + e_z)}
    sums |= {f"h{i}": exact_sum(x * x) for i, x in enumerate(d)}
    sums["n"] = ibis._.count()
    # A cluster is a customer (worker) within a segment; the key stays two short columns
    # (millions of customers: a concatenated key costs twice as much to group).
    key = ["_who", "customer_segment"]
    per = jn.group_by(key).aggregate(**sums).order_by(key).to_pyarrow()
    scores = np.column_stack([per[f"u{i}"].to_numpy() for i in range(q + k)])
    info = np.column_stack([per[f"h{i}"].to_numpy() for i in range(q)])
    segment = pc.dictionary_encode(per["customer_segment"].combine_chunks())
    labels = np.asarray(segment.dictionary.to_pylist(), dtype=object)[np.asarray(segment.indices)]
    g = per.num_rows
    n_units = float(cells.n.sum())
    p = q + k
    strata_n = cells.n_strata()
    bread = np.linalg.inv(cells.normal_matrix(treat))
    correction = g / max(g - 1, 1) * (n_units - 1) / max(n_units - p - strata_n, 1)
    cov = bread @ (scores.T @ scores) @ bread * correction
    return _JointFit(
        fit.beta, cov, dummies, labels, info, per["n"].to_numpy().astype(float), int(n_units)
    )


@register
class AnomalousPrices:
    """PRC-02: prices anomalous for their kind of order, as leads for review (info only)."""

    id: ClassVar[str] = "PRC-02"
    title: ClassVar[str] = "Prices anomalous for their kind of order (leads for review)"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        units = order_units(context, "fare_base")
        # Moments per stratum only (the cluster is the service, constant in a stratum).
        work = work_cells(units, "service", order_covariates(context), few_clusters=True)
        common = Finding(
            check=self.id,
            status=Status.PASS,
            title=self.title,
            metric="anomalous_price_share",
            threshold=_Z_LEAD,
            basis=basis(context, self.id),
        )
        if work.units < 20:
            return [
                dataclasses.replace(
                    common,
                    status=Status.INCONCLUSIVE,
                    n_orders=work.units,
                    detail="Fewer than 20 priced orders: too few to say what is typical.",
                )
            ]
        leads, n_hit, mad = _leads(context, units, work)
        share = n_hit / work.units
        data: dict[str, Any] = {
            "leads": n_hit,
            "leads_listed": len(leads),
            "robust_z_bound": _Z_LEAD,
            "robust_sd_log_price": mad,
            "price_vs_typical_range": (
                [float(leads["price_vs_typical"].min()), float(leads["price_vs_typical"].max())]
                if len(leads)
                else None
            ),
            "leads_by_service": {
                str(s): int(c) for s, c in leads["service"].value_counts().sort_index().items()
            },
            "orders_excluded": work.excluded,
        }
        if n_hit:
            detail = (
                f"{n_hit} of {work.units} priced orders ({share:.3%}) are more than "
                f"{_Z_LEAD:g} robust standard deviations from comparable orders (same service, "
                "zone, day type and hour; adjusted for distance and trip time). They are leads "
                "for review, listed in leads.csv, not findings of a breach."
            )
            status = Status.INCONCLUSIVE
        else:
            detail = (
                f"No price among {work.units} orders is more than {_Z_LEAD:g} robust standard "
                "deviations from comparable orders."
            )
            status = Status.PASS
        return [
            dataclasses.replace(
                common,
                status=status,
                estimate=share,
                n_orders=work.units,
                detail=detail,
                data=data,
                evidence=leads,
            )
        ]


def _leads(context: CheckContext, units: Table, work: WorkCells) -> tuple[pd.DataFrame, int, float]:
    """Orders whose robust z of log price, within strata and given the trip covariates,
    exceeds ``_Z_LEAD``: up to ``_MAX_LEADS`` of them (largest first), their count, and the
    robust SD (1.4826 x MAD of the residuals)."""
    cells = work.cells
    gamma = cells.covariate_fit()
    j, terms = with_stratum_means(context, units, work, order_covariates(context), "fx_price_means")
    resid = j.y - j._ybar
    for i, name in enumerate(terms):
        resid = resid - (j[name] - j[f"_zbar{i}"]) * float(gamma[i])
    r = j.mutate(_r=resid)
    # Median and MAD from one pass: the residuals come out as one array (8 bytes an
    # order), and the median does not depend on their order.
    values = r.select("_r").to_pyarrow()["_r"].to_numpy()
    values = values[~np.isnan(values)]  # as the engine's median, which skips NULLs
    centre = float(np.median(values)) if len(values) else float("nan")
    mad = float(np.median(np.abs(values - centre))) * 1.4826 if len(values) else float("nan")
    if not mad > 0:
        return (
            pd.DataFrame(
                columns=[
                    "check",
                    "rank",
                    "order_id",
                    "service",
                    "zone",
                    "customer_price",
                    "price_vs_typical",
                    "robust_z",
                ]
            ),
            0,
            mad,
        )
    z = (r._r - centre) / mad
    hits = r.mutate(_z=z).filter(z.abs() > _Z_LEAD)
    n_hit = int(np.count_nonzero(np.abs((values - centre) / mad) > _Z_LEAD))
    top = (
        hits.order_by([hits._z.abs().desc(), hits.order_id])
        .limit(_MAX_LEADS)
        .select("order_id", "service", "zone", "customer_price", "_r", "_z")
        .to_pyarrow()
        .to_pandas()
    )
    leads = pd.DataFrame(
        {
            "check": "PRC-02",
            "rank": np.arange(1, len(top) + 1),
            "order_id": top["order_id"].astype(object),
            "service": top["service"].astype(object),
            "zone": top["zone"].astype(object),
            "customer_price": top["customer_price"].astype(float),
            "price_vs_typical": np.exp(top["_r"].to_numpy(float) - centre),
            "robust_z": top["_z"].to_numpy(float),
        }
    )
    return leads, n_hit, mad
