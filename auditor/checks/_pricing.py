"""PRC-01 and PRC-02: customer prices.

PRC-01 compares what customers paid for comparable completed orders between
``customer_segment`` values: the fare base (``customer_price - pass_through``: taxes and
tolls excluded) over what the same work costs (``_money``: the trip terms' effect measured
within cells of one segment and one work stratum), within strata of the order's service,
pickup zone, local date and hour: a ratio of mean prices for the same work, with the ratio of
geometric means as a sensitivity view. Each segment is compared with the reference segment
on the orders of those two segments. Inference is by customer (CR2, Bell-McCaffrey degrees
of freedom): a customer who buys in two segments is one cluster, on both sides. Where the
package has no ``customer_id``, by worker; orders without a customer ID form one cluster per
segment (valid, noisier).

PRC-02 lists prices that are anomalous for their kind of order, as leads for a human to
review, never as a breach: the residual of log fare base on the kind of order (service,
pickup zone, day type and hour: a lead is anomalous whatever the date) and the trip terms,
scaled robustly (median and MAD). Orders beyond ``_Z_LEAD`` robust standard
deviations are leads; their IDs go to the private evidence (``leads.csv``), never to
``findings.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs, Status
from auditor.checks._common import basis
from auditor.checks._comparable import completed_orders, excluded_words
from auditor.checks._covariates import covariate_terms, order_covariates, positive_log
from auditor.checks._groups import Comparison, Impact, View, compare_groups, group_rates
from auditor.checks._money import MoneyCells, money_cells, trip_effect
from auditor.checks._registry import register
from auditor.checks._small_cells import left_out
from auditor.checks._strata import WORK_WORDS, work_strata
from auditor.stats import (
    GroupEffect,
    LogCells,
    RateCells,
    compact,
    log_ratio_effect,
    poisson_effect,
)

__all__ = ["AnomalousPrices", "SegmentPrices"]

_Z_LEAD = 5.0
"""Robust z beyond which a price is a lead (5 MADs: about 1 in 3 million for normal noise)."""
_MAX_LEADS = 200
"""Most leads listed; the count of all beyond the bound is reported."""
KIND_WORDS = "same service, zone, day type and hour"
_NO_ID = "\x1f"
"""Prefix of the cluster key of orders without a customer ID (one cluster per segment)."""


def fare_cells(context: CheckContext) -> MoneyCells:
    """Fare base of completed orders per cell of one customer (or worker), one work stratum
    and one segment (NULL where an order has none), shared by PRC-01 and PRC-02 (computed once
    per audit)."""

    def make() -> MoneyCells:
        units = completed_orders(context, "fare_base")
        present = context.package.tables["orders"].columns_present
        seg = (
            units.customer_segment.cast("string")
            if "customer_segment" in present
            else ibis.null("string")
        )
        who = units.customer_id if "customer_id" in present else units.worker_id
        units = units.mutate(
            _seg=seg,
            # The trip effect is measured within one segment's orders of one kind; orders
            # without a segment form a segment of their own there.
            _segkey=seg.fill_null(_NO_ID),
            _who=who.fill_null(ibis.literal(_NO_ID) + seg.fill_null("")),
        )
        return money_cells(
            units, "_who", order_covariates(context), gamma_by=("_segkey", "kind"),
            extra_keys=("_seg",), worker="worker_id",
        )  # fmt: skip

    return context.memo("money:fare_base", make, users=("PRC-01", "PRC-02"))  # type: ignore[no-any-return]


@register
class SegmentPrices:
    """PRC-01: customer price for comparable orders by customer segment."""

    id: ClassVar[str] = "PRC-01"
    title: ClassVar[str] = "Customer segments pay the same for comparable orders"
    needs: ClassVar[Needs] = Needs(tables=("orders",), columns=("orders.customer_segment",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        fare = fare_cells(context)
        by_customer = "customer_id" in context.package.tables["orders"].columns_present
        unit = "customers" if by_customer else "workers"
        seg_column = fare.keys["_seg"].combine_chunks()
        valid_seg = pc.is_valid(seg_column)
        has_segment = np.asarray(valid_seg, dtype=bool)
        rows = np.nonzero(has_segment)[0]
        # Orders with a segment left out of the cells (no positive fare base or trip
        # covariate): all units with a segment less those kept.
        min_cell = context.config.report.min_cell_workers
        excluded = left_out(
            fare.units_with_keys - int(fare.n[rows].sum()), fare.keyed_excluded_workers, min_cell
        )
        encoded = pc.dictionary_encode(seg_column.filter(valid_seg))
        seg_values = [str(v) for v in encoded.dictionary.to_pylist()]
        order = sorted(range(len(seg_values)), key=seg_values.__getitem__)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        segments = [seg_values[i] for i in order]
        seg = rank[np.asarray(encoded.indices, dtype=np.int64)]
        cluster = fare.cluster[rows]
        stratum = fare.stratum[rows]
        n, money, expected = fare.n[rows], fare.money[rows], fare.expected[rows]
        log_y = (fare.log_money - fare.trip_effect)[rows]
        # A pair is one cluster in one segment (the unit of group counts and suppression);
        # a block, one cluster in one stratum (cells sorted by cluster, then stratum).
        n_seg = max(len(segments), 1)
        pair = compact(cluster * n_seg + seg)
        n_pairs = int(pair.max()) + 1 if len(pair) else 0
        labels = np.empty(n_pairs, dtype=object)
        labels[pair] = np.asarray(segments, dtype=object)[seg]
        n_of_pair = np.bincount(pair, weights=n, minlength=n_pairs)
        money_of_pair = np.bincount(pair, weights=money, minlength=n_pairs)
        n_per_segment = np.bincount(seg, weights=n, minlength=len(segments))
        reference = context.config.fairness.reference_groups.get("customer_segment")
        if reference not in segments and segments:
            # The segment with the most orders.
            reference = sorted(segments, key=lambda g: (-n_per_segment[segments.index(g)], g))[0]

        def subset(keep: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.int64],
                                                     NDArray[np.int64], int]:  # fmt: skip
            kept = keep[pair]
            new_cluster = compact(cluster[kept])
            st = stratum[kept]
            change = np.r_[True, (np.diff(new_cluster) != 0) | (np.diff(st) != 0)]
            return kept, new_cluster, np.cumsum(change) - 1, int(new_cluster.max()) + 1

        gradient, trip_gradient = fare.offset_gradient[rows], fare.trip_gradient[rows]

        def ratio(keep: NDArray[np.bool_], treat: NDArray[np.bool_]) -> GroupEffect:
            kept, new_cluster, block, g = subset(keep)
            cells = RateCells(
                money[kept], expected[kept], stratum[kept], new_cluster, g, block,
                offset_gradient=gradient[kept], offset_influence=_influence(kept),
            )  # fmt: skip
            return poisson_effect(
                cells, method="ppml_within_strata_trip_offset", treat_of_cell=treat[pair[kept]]
            )

        def geometric(keep: NDArray[np.bool_], treat: NDArray[np.bool_]) -> GroupEffect:
            kept, new_cluster, block, g = subset(keep)
            cells = LogCells(
                n[kept], log_y[kept], stratum[kept], new_cluster, g, block,
                offset_gradient=trip_gradient[kept], offset_influence=_influence(kept),
            )  # fmt: skip
            return log_ratio_effect(
                cells, method="wls_within_strata_trip_offset", treat_of_cell=treat[pair[kept]]
            )

        def _influence(kept: NDArray[np.bool_]) -> NDArray[np.float64]:
            """The kept clusters' influence on gamma, in their new order (by code, as
            ``compact`` numbers them: a presence mask, not a sort of millions of cells)."""
            used = np.bincount(cluster[kept], minlength=len(fare.influence)) > 0
            return fare.influence[used]

        with np.errstate(invalid="ignore", divide="ignore"):
            mean_price = np.where(n_of_pair > 0, money_of_pair / n_of_pair, np.nan)
        spec = Comparison(
            check=self.id,
            title=self.title,
            metric="price_ratio",
            attribute="customer_segment",
            unit=unit,
            phrase=lambda g, r, x: (
                f"Customers in segment {g} paid {x:.3f} times the price of segment {r} for "
                f"comparable orders ({WORK_WORDS}; adjusted for distance and trip time; "
                "ratio of means)"
            ),
            raw=group_rates(labels, money_of_pair, n_of_pair),
            extra=lambda g, k, t, e: {
                "orders_excluded": excluded,
                "clustered_by": unit,
                "covariates": list(fare.terms),
            },
            note=excluded_words(excluded, fare.terms, "orders", "fare base", min_cell),
            scale="ratio of means",
            impact=Impact("scoring_rate", mean_price, higher_is_better=False),
        )
        views = [
            View(
                "geometric_mean",
                "the ratio of geometric means (sensitivity)",
                "ratio of geometric means for the same work (sensitivity view)",
                geometric,
                tested=False,
            )
        ]
        unsegmented = int(fare.n[~has_segment].sum())
        return compare_groups(
            context, spec, labels, np.ones(n_pairs, dtype=bool), ratio,
            lambda keep: int(n_of_pair[keep].sum()), views=views, reference=reference,
            set_aside=unsegmented,
        )  # fmt: skip


@register
class AnomalousPrices:
    """PRC-02: prices anomalous for their kind of order, as leads for review (info only)."""

    id: ClassVar[str] = "PRC-02"
    title: ClassVar[str] = "Prices anomalous for their kind of order (leads for review)"
    needs: ClassVar[Needs] = Needs(tables=("orders",), workers=False)

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        fare = fare_cells(context)
        common = Finding(
            check=self.id,
            status=Status.PASS,
            title=self.title,
            metric="anomalous_price_share",
            threshold=_Z_LEAD,
            basis=basis(context, self.id),
        )
        if fare.units < 20:
            return [
                dataclasses.replace(
                    common,
                    status=Status.INCONCLUSIVE,
                    n_orders=fare.units,
                    detail="Fewer than 20 priced orders: too few to say what is typical.",
                )
            ]
        leads, n_hit, mad, lead_workers = _leads(context, fare)
        share = n_hit / fare.units
        k = context.config.report.min_cell_workers
        by_service = leads["service"].astype(str).value_counts().sort_index()
        shown = {s: int(c) for s, c in by_service.items() if lead_workers.get(s, 0) >= k}
        enough = sum(lead_workers.values()) >= k
        data: dict[str, Any] = {
            "leads": n_hit,
            "leads_listed": len(leads),
            "robust_z_bound": _Z_LEAD,
            "robust_sd_log_price": mad,
            "price_vs_typical_range": (
                [float(leads["price_vs_typical"].min()), float(leads["price_vs_typical"].max())]
                if len(leads) and enough
                else None
            ),
            # Services whose listed leads are of fewer than [report] min_cell_workers
            # workers are not published (counted in services_suppressed).
            "leads_by_service": shown,
            "lead_workers_by_service": {s: lead_workers[s] for s in shown},
            "services_suppressed": len(by_service) - len(shown),
            "orders_excluded": left_out(fare.excluded, fare.excluded_workers, k),
        }
        if n_hit:
            detail = (
                f"{n_hit} of {fare.units} priced orders ({share:.3%}) are more than "
                f"{_Z_LEAD:g} robust standard deviations from comparable orders ({KIND_WORDS}; "
                "adjusted for distance and trip time). They are leads for review, listed in "
                "leads.csv, not findings of a breach."
            )
            status = Status.INCONCLUSIVE
        else:
            detail = (
                f"No price among {fare.units} orders is more than {_Z_LEAD:g} robust standard "
                "deviations from comparable orders."
            )
            status = Status.PASS
        return [
            dataclasses.replace(
                common,
                status=status,
                estimate=share,
                n_orders=fare.units,
                detail=detail,
                data=data,
                evidence=leads,
            )
        ]


_LEAD_COLUMNS = [
    "check", "rank", "order_id", "service", "zone", "customer_price", "price_vs_typical",
    "robust_z",
]  # fmt: skip


def _leads(
    context: CheckContext, fare: MoneyCells
) -> tuple[pd.DataFrame, int, float, dict[str, int]]:
    """Orders whose robust z of log price, within their kind of order (of two or more
    orders) and given the trips' effect, exceeds ``_Z_LEAD``: up to ``_MAX_LEADS`` of them
    (largest first), their count, the robust SD (1.4826 x MAD of the residuals), and the
    distinct workers of the listed leads per service (for the small-cell rule)."""
    kind_of = work_strata(context).kind
    kind = kind_of[fare.stratum]
    k_count = int(kind_of.max()) + 1
    n_k = np.bincount(kind, weights=fare.n, minlength=k_count)
    y_k = np.bincount(kind, weights=fare.log_money - fare.trip_effect, minlength=k_count)
    # Only kinds of order with two or more priced orders can say what is typical; a residual
    # from a kind of n orders is scaled by sqrt(n / (n - 1)), as its variance is (n - 1) / n
    # of an order's. The means go to the engine by work stratum.
    codes = np.arange(len(kind_of))
    k = kind_of
    used = n_k[k] > 1
    codes, k = codes[used], k[used]
    means = context.engine.store(
        "fx_price_means",
        pd.DataFrame(
            {
                "stratum": codes.astype(np.int32),
                "_ybar": y_k[k] / n_k[k],
                "_scale": np.sqrt(n_k[k] / (n_k[k] - 1)),
            }
        ),
    )
    units = completed_orders(context, "fare_base")
    used_cov = order_covariates(context)
    terms = covariate_terms(units, used_cov)
    log_y = positive_log(units.y)
    ok = log_y.notnull()
    for term in terms.values():
        ok &= term.notnull()
    kept = units.filter(ok).mutate(_ly=log_y, **terms)
    j = kept.inner_join(means, "stratum")
    resid = (j._ly - trip_effect(j, fare.terms, fare.gamma, fare.centre) - j._ybar) * j._scale
    # Median, MAD and the leads from one pass: the residuals come out with their row
    # number (16 bytes an order), and the median does not depend on their order.
    got = j.select("_row", _r=resid).to_pyarrow()
    values = got["_r"].to_numpy(zero_copy_only=False).astype(np.float64)
    row_of = got["_row"].to_numpy(zero_copy_only=False).astype(np.int64)
    valid = ~np.isnan(values)  # as the engine's median, which skips NULLs
    centre = float(np.median(values[valid])) if valid.any() else float("nan")
    mad = float(np.median(np.abs(values[valid] - centre))) * 1.4826 if valid.any() else float("nan")
    if not mad > 0:
        return pd.DataFrame(columns=_LEAD_COLUMNS), 0, mad, {}
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
        units.semi_join(
            ibis.memtable(pa.table({"_row": pa.array(picked["_row"].to_numpy(), pa.int64())})),
            "_row",
        )
        .select(
            "_row",
            "order_id",
            "service",
            "worker_id",
            zone="pickup_zone",
            customer_price="customer_price",
        )
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
    workers = top.groupby(top["service"].astype(str))["worker_id"].nunique()
    return leads, n_hit, mad, {str(s): int(n) for s, n in workers.items()}
