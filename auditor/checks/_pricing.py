"""PRC-01 and PRC-02: customer prices.

PRC-01 compares what customers paid (``customer_price``, tip excluded) for comparable
completed orders between ``customer_segment`` values: log price within strata of service x
pickup zone x local date x hour, adjusting for distance and trip time (quadratic in logs).
Inference is by customer (one customer's orders are not independent; by worker where the
package has no ``customer_id``).

PRC-02 lists prices that are anomalous for their kind of order, as leads for a human to
review, never as a breach: the residual of log price on service x zone x hour strata and the
trip covariates, scaled robustly (median and MAD). Orders beyond ``_Z_LEAD`` robust standard
deviations are leads; their IDs go to the private evidence (``leads.csv``), never to
``findings.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs, Status
from auditor.checks._common import basis
from auditor.checks._comparable import compact, group_rates, strata
from auditor.checks._groups import Comparison, cluster_subset, compare_groups
from auditor.checks._pay_equity import order_units
from auditor.checks._registry import register
from auditor.checks._work import trip_design, work_frame
from auditor.stats import GroupEffect, StrataDesign, within_effect

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
        units = units.mutate(_cluster=who.fill_null("") + "\x1f" + units.customer_segment)
        frame = work_frame(units, cluster="_cluster", extra=("customer_segment",))
        unit = "customers" if by_customer else "workers"
        segment = frame.extra["customer_segment"].astype(object)
        n_clusters = int(frame.cluster.max()) + 1 if len(frame.cluster) else 0
        labels = np.full(n_clusters, None, dtype=object)
        labels[frame.cluster] = segment
        design = trip_design(frame)
        seed = context.config.audit.seed

        def effect(
            keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
        ) -> GroupEffect:
            rows, new, old = cluster_subset(frame.cluster, keep)
            d = StrataDesign(
                frame.y[rows],
                np.ones(int(rows.sum())),
                compact(frame.stratum[rows]),
                new,
                design[rows],
            )
            return within_effect(
                d, treat[old], method="wls_within_strata_trip", permutations=perms, seed=seed
            )

        present = np.bincount(frame.cluster, minlength=n_clusters) > 0
        n_of = np.bincount(frame.cluster, minlength=n_clusters).astype(np.float64)
        sum_of = np.bincount(frame.cluster, weights=np.exp(frame.y), minlength=n_clusters)
        spec = Comparison(
            check=self.id,
            title=self.title,
            metric="price_ratio",
            attribute="customer_segment",
            unit=unit,
            phrase=lambda g, r, x: (
                f"Customers in segment {g} paid {x:.3f} times the price of segment {r} for "
                "comparable orders (same service, zone, date and hour; adjusted for distance "
                "and trip time)"
            ),
            raw=group_rates(labels, sum_of, n_of),
            higher_is_better=False,
            extra=lambda g, k, t: {"orders_excluded": frame.excluded, "clustered_by": unit},
        )
        return compare_groups(
            context, spec, labels, present, effect, lambda keep: int(n_of[keep].sum())
        )


@register
class AnomalousPrices:
    """PRC-02: prices anomalous for their kind of order, as leads for review (info only)."""

    id: ClassVar[str] = "PRC-02"
    title: ClassVar[str] = "Prices anomalous for their kind of order (leads for review)"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        frame = work_frame(
            order_units(context, "fare_base"),
            cluster="worker_id",
            extra=("order_id", "service", "zone"),
        )
        common = Finding(
            check=self.id,
            status=Status.PASS,
            title=self.title,
            metric="anomalous_price_share",
            threshold=_Z_LEAD,
            basis=basis(context, self.id),
        )
        if len(frame.y) < 20:
            return [
                dataclasses.replace(
                    common,
                    status=Status.INCONCLUSIVE,
                    n_orders=len(frame.y),
                    detail="Fewer than 20 priced orders: too few to say what is typical.",
                )
            ]
        k = frame.keys
        st = strata(k["service"], k["zone"], k["hour"])
        design = StrataDesign(
            frame.y, np.ones(len(frame.y)), compact(st), frame.cluster, trip_design(frame)
        )
        resid = design.residuals()
        centre = float(np.median(resid))
        mad = float(np.median(np.abs(resid - centre))) * 1.4826
        z = (resid - centre) / mad if mad > 0 else np.zeros_like(resid)
        hit = np.abs(z) > _Z_LEAD
        n_hit = int(hit.sum())
        order = np.argsort(-np.abs(z[hit]), kind="stable")[:_MAX_LEADS]
        idx = np.nonzero(hit)[0][order]
        leads = pd.DataFrame(
            {
                "check": self.id,
                "rank": np.arange(1, len(idx) + 1),
                "order_id": frame.extra["order_id"][idx].astype(object),
                "service": frame.extra["service"][idx].astype(object),
                "zone": frame.extra["zone"][idx].astype(object),
                "customer_price": np.exp(frame.y[idx]).round(2),
                "price_vs_typical": np.exp(resid[idx] - centre),
                "robust_z": z[idx],
            }
        )
        share = n_hit / len(frame.y)
        data: dict[str, Any] = {
            "leads": n_hit,
            "leads_listed": len(idx),
            "robust_z_bound": _Z_LEAD,
            "robust_sd_log_price": mad,
            "price_vs_typical_range": (
                [float(leads["price_vs_typical"].min()), float(leads["price_vs_typical"].max())]
                if len(idx)
                else None
            ),
            "leads_by_service": {
                str(s): int(c) for s, c in leads["service"].value_counts().sort_index().items()
            },
        }
        if n_hit:
            detail = (
                f"{n_hit} of {len(frame.y)} priced orders ({share:.3%}) are more than "
                f"{_Z_LEAD:g} robust standard deviations from comparable orders (same service, "
                "zone and hour; adjusted for distance and trip time). They are leads for "
                "review, listed in leads.csv, not findings of a breach."
            )
            status = Status.INCONCLUSIVE
        else:
            detail = (
                f"No price among {len(frame.y)} orders is more than {_Z_LEAD:g} robust standard "
                "deviations from comparable orders."
            )
            status = Status.PASS
        return [
            dataclasses.replace(
                common,
                status=status,
                estimate=share,
                n_orders=len(frame.y),
                n_workers=len(np.unique(frame.cluster)),
                detail=detail,
                data=data,
                evidence=leads,
            )
        ]
