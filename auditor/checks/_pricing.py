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
from auditor.checks._comparable import excluded_words, group_rates
from auditor.checks._groups import Comparison, compare_groups
from auditor.checks._pay_equity import order_units
from auditor.checks._registry import register
from auditor.checks._work import (
    SUM_SCALE,
    CellTable,
    WorkCells,
    cell_table,
    few_cluster_cells,
    order_covariates,
    scaled_sum,
    whole_sum,
    with_stratum_means,
    work_cells,
)
from auditor.stats import GroupEffect, within_effect
from auditor.stats._dist import t_sf
from auditor.stats._effect import t_df

__all__ = ["AnomalousPrices", "SegmentPrices"]

_Z_LEAD = 5.0
"""Robust z beyond which a price is a lead (5 MADs: about 1 in 3 million for normal noise)."""
_MAX_LEADS = 200
"""Most leads listed; the count of all beyond the bound is reported."""


def fare_cells(context: CheckContext) -> CellTable:
    """Every moment of log fare base per customer segment and stratum (one grouping of
    the priced orders, shared by PRC-01 and PRC-02; computed once per audit). The
    segment is NULL where an order has none; without a ``customer_segment`` column the
    cells are per stratum only."""

    def make() -> CellTable:
        units = order_units(context, "fare_base")
        used = order_covariates(context)
        if "customer_segment" in context.package.tables["orders"].columns_present:
            keys = ("_seg", "zone", "service", "weekend", "hour")
            return cell_table(units.mutate(_seg=units.customer_segment), keys, used)
        return cell_table(units, ("service", "zone", "weekend", "hour"), used)

    return context.memo("cells:fare_base", make)  # type: ignore[no-any-return]


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
        fare = fare_cells(context)
        segment_cells = few_cluster_cells(fare, "_seg", pc.is_valid(fare.table["_seg"]))
        segments = [str(v) for v in segment_cells.cluster_ids]
        n_seg = np.bincount(segment_cells.cells.cluster, weights=segment_cells.cells.n)
        reference = context.config.fairness.reference_groups.get("customer_segment")
        if reference not in segments and segments:
            # The segment with the most orders (counting customers would cost a pass).
            orders_of = dict(zip(segments, n_seg, strict=True))
            reference = sorted(segments, key=lambda g: (-orders_of[g], g))[0]
        joint = _joint_fit(context, units, segment_cells, segments, reference, used)
        labels = joint.labels
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
            note=excluded_words(segment_cells, "orders", "fare base"),
        )
        # Every cluster comes from a grouping of units, so each has data.
        present = np.ones(len(labels), dtype=bool)
        unsegmented = fare.table.filter(pc.is_null(fare.table["_seg"]))["n_all"]
        return compare_groups(
            context, spec, labels, present, effect, joint.units_of, reference=reference,
            set_aside=int(pc.sum(unsegmented).as_py() or 0),
        )  # fmt: skip


class _JointFit:
    """Log price on segment dummies, trip covariates and absorbed strata, over all
    segments at once; cluster-robust by customer from per-customer scores.

    The engine sums the scores per customer, projected on the rows of the bread that
    give the segment effects, and then, per segment, their products and the customers'
    information on each segment effect; no row per customer leaves the engine. ``cov``
    is therefore the segment effects' covariance only (dummies x dummies). Clusters are
    known per segment only: ``labels`` has one entry per cluster, in blocks of ``block``
    (segment index), and ``units`` the units per segment.
    """

    def __init__(
        self,
        beta: NDArray[np.float64],
        cov: NDArray[np.float64],
        dummies: list[str],
        segments: list[str],
        clusters: NDArray[np.int64],
        units: NDArray[np.int64],
        info_sum: NDArray[np.float64],
        info_sq: NDArray[np.float64],
        n_units: int,
    ) -> None:
        self.beta, self.cov, self.dummies, self.segments = beta, cov, dummies, segments
        self.clusters, self.units, self.n_units = clusters, units, n_units
        self.info_sum, self.info_sq = info_sum, info_sq
        self.block = np.repeat(np.arange(len(segments), dtype=np.int64), clusters)
        self.labels = np.asarray(segments, dtype=object)[self.block]

    def units_of(self, keep: NDArray[np.bool_]) -> int:
        """Units of the kept clusters (whole segments: comparisons keep or drop both)."""
        kept = np.bincount(self.block[keep], minlength=len(self.segments)) > 0
        return int(self.units[kept].sum())

    def _kish(self, j: int, sides: NDArray[np.bool_]) -> float:
        """Kish effective clusters of the segments ``sides`` on dummy ``j``'s information."""
        total, squares = float(self.info_sum[sides, j].sum()), float(self.info_sq[sides, j].sum())
        return total * total / squares if squares > 0 else 0.0

    def effect(self, group: str) -> GroupEffect:
        j = self.dummies.index(group)
        b, se = float(self.beta[j]), float(np.sqrt(max(self.cov[j, j], 0.0)))
        side_g = np.array([g == group for g in self.segments])
        side_r = np.array([g not in self.dummies for g in self.segments])
        eff_g, eff_r = self._kish(j, side_g), self._kish(j, side_r)
        df = t_df(eff_g, eff_r)
        p = float(2 * t_sf(abs(b / se), df)) if se > 0 else float("nan")
        return GroupEffect(
            b, se, df, p, int(self.clusters[side_g].sum()), int(self.clusters[side_r].sum()),
            self.n_units, "wls_within_strata_trip_joint", False, eff_g, eff_r,
        )  # fmt: skip


def _joint_fit(
    context: Any,
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
        nothing = np.empty(0, np.int64)
        return _JointFit(
            np.empty(0), np.empty((0, 0)), [], [], nothing, nothing, np.empty((0, 0)),
            np.empty((0, 0)), 0,
        )  # fmt: skip
    q, k = len(dummies), cells.k
    p = q + k
    n_units = float(cells.n.sum())
    bread = np.linalg.inv(cells.normal_matrix(treat))
    # Only the segment effects' variances are reported: the dummy block of the sandwich,
    # W B W' with W the bread's first q rows, is the sum over clusters of v v', where
    # v = W s is a cluster's score s projected by W. Each row of W is scaled by
    # sqrt(N / bread_jj), so that a unit's term is of the order of its residual, far above
    # the rounding step; q projected scores per cluster instead of p scores, and
    # q(q + 1)/2 products instead of p(p + 1)/2.
    w_scale = np.sqrt(n_units / np.diag(bread)[:q])
    w = bread[:q, :] * w_scale[:, None]
    jn, terms = with_stratum_means(
        context, units, segment_cells, used, "fx_segment_means",
        {f"_tbar{j}": cells.n * treat[:, j] for j in range(q)},
    )  # fmt: skip
    d = [
        (jn.customer_segment == g).cast("float64") - jn[f"_tbar{i}"] for i, g in enumerate(dummies)
    ]
    e_z = [jn[name] - jn[f"_zbar{i}"] for i, name in enumerate(terms)]
    x = d + e_z
    resid = jn.y - jn._ybar
    for i in range(p):
        resid = resid - x[i] * float(fit.beta[i])
    # Per cluster (a customer, or worker, within a segment; the key stays two short
    # columns: a concatenated key costs twice as much to group), each projected score and
    # each information term as an integer multiple of 1 / SUM_SCALE ...
    projected = [
        sum((x[i] * float(w[j, i]) for i in range(1, p)), x[0] * float(w[j, 0])) for j in range(q)
    ]
    sums = {f"v{j}": scaled_sum(projected[j] * resid) for j in range(q)}
    sums |= {f"h{i}": scaled_sum(di * di) for i, di in enumerate(d)}
    per = jn.group_by(["_who", "customer_segment"]).aggregate(n=ibis._.count(), **sums)
    # ... whose products, each rounded to a multiple of 1 / SUM_SCALE, are summed per
    # segment as integers: the engine adds 64-bit integers exactly (in 128 bits), so the
    # sums do not depend on the order of the millions of customers.
    v = [per[f"v{j}"] / SUM_SCALE for j in range(q)]
    h = [per[f"h{i}"] / SUM_SCALE for i in range(q)]
    agg: dict[str, Any] = {"clusters": ibis._.count(), "units": per.n.sum()}
    agg |= {f"m{i}_{j}": whole_sum(v[i] * v[j]) for i in range(q) for j in range(i, q)}
    agg |= {f"hs{i}": whole_sum(h[i]) for i in range(q)}
    agg |= {f"hh{i}": whole_sum(h[i] * h[i]) for i in range(q)}
    by_segment = (
        per.group_by("customer_segment")
        .aggregate(**agg)
        .order_by("customer_segment")
        .to_pyarrow()
        .to_pylist()
    )
    scale = int(SUM_SCALE)
    meat_int = [[0] * q for _ in range(q)]
    for row in by_segment:
        for i in range(q):
            for j in range(i, q):
                meat_int[i][j] += int(row[f"m{i}_{j}"])
    meat = np.array([[meat_int[min(i, j)][max(i, j)] / scale for j in range(q)] for i in range(q)])
    present = [str(row["customer_segment"]) for row in by_segment]
    info_sum = np.array(
        [[int(row[f"hs{j}"]) / scale for j in range(q)] for row in by_segment]
    ).reshape(len(by_segment), q)
    info_sq = np.array(
        [[int(row[f"hh{j}"]) / scale for j in range(q)] for row in by_segment]
    ).reshape(len(by_segment), q)
    clusters = np.array([int(row["clusters"]) for row in by_segment], dtype=np.int64)
    g = int(clusters.sum())
    strata_n = cells.n_strata()
    correction = g / max(g - 1, 1) * (n_units - 1) / max(n_units - p - strata_n, 1)
    # The segment effects' covariance (q x q): the projected meat, scaled back.
    cov = meat / np.outer(w_scale, w_scale) * correction
    return _JointFit(
        fit.beta, cov, dummies, present, clusters,
        np.array([int(row["units"]) for row in by_segment], dtype=np.int64),
        info_sum, info_sq, int(n_units),
    )  # fmt: skip


@register
class AnomalousPrices:
    """PRC-02: prices anomalous for their kind of order, as leads for review (info only)."""

    id: ClassVar[str] = "PRC-02"
    title: ClassVar[str] = "Prices anomalous for their kind of order (leads for review)"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        units = order_units(context, "fare_base")
        # Moments per stratum only (the cluster is the service, constant in a stratum).
        work = few_cluster_cells(fare_cells(context), "service")
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
    # Median, MAD and the leads from one pass: the residuals come out with their row
    # number (16 bytes an order), and the median does not depend on their order.
    got = j.select("_row", _r=resid).to_pyarrow()
    values = got["_r"].to_numpy(zero_copy_only=False).astype(np.float64)
    row_of = got["_row"].to_numpy(zero_copy_only=False).astype(np.int64)
    valid = ~np.isnan(values)  # as the engine's median, which skips NULLs
    centre = float(np.median(values[valid])) if valid.any() else float("nan")
    mad = float(np.median(np.abs(values[valid] - centre))) * 1.4826 if valid.any() else float("nan")
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
    with np.errstate(invalid="ignore"):
        z = (values - centre) / mad
        hit = np.abs(z) > _Z_LEAD
    n_hit = int(np.count_nonzero(hit))
    # The largest |z| first, ties by order ID: every hit as large as the _MAX_LEADS-th
    # largest is fetched (ties included), then ranked with its order ID.
    size = np.abs(z[hit])
    floor = -np.partition(-size, _MAX_LEADS - 1)[_MAX_LEADS - 1] if n_hit > _MAX_LEADS else 0.0
    chosen = hit & (np.abs(z) >= floor)
    picked = pd.DataFrame({"_row": row_of[chosen], "_r": values[chosen], "_z": z[chosen]})
    rows = (
        units.filter(units._row.isin([int(r) for r in picked["_row"]]))
        .select("_row", "order_id", "service", "zone", "customer_price")
        .to_pyarrow()
        .to_pandas()
    )
    top = rows.merge(picked, on="_row", validate="one_to_one")
    top["_abs"] = top["_z"].abs()
    top = top.sort_values(["_abs", "order_id"], ascending=[False, True], kind="stable")
    top = top.head(_MAX_LEADS).reset_index(drop=True)
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
