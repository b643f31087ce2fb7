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

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs, Status
from auditor.checks._common import basis
from auditor.checks._comparable import effect_on_cells, group_rates
from auditor.checks._groups import Comparison, compare_groups
from auditor.checks._pay_equity import order_units
from auditor.checks._registry import register
from auditor.checks._work import WorkCells, covariate_terms, usable_covariates, work_cells

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
        work = work_cells(units, cluster="_cluster")
        cells = work.cells
        unit = "customers" if by_customer else "workers"
        labels = np.array([str(c).rsplit("\x1f", 1)[-1] for c in work.cluster_ids], dtype=object)
        n_clusters = len(labels)
        effect = effect_on_cells(
            cells, cells.stratum, None, context.config.audit.seed, "wls_within_strata_trip"
        )
        n_of = np.bincount(cells.cluster, weights=cells.n, minlength=n_clusters)
        log_of = np.bincount(cells.cluster, weights=cells.sy, minlength=n_clusters)
        geometric = {g: float(np.exp(v)) for g, v in group_rates(labels, log_of, n_of).items()}
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
            extra=lambda g, k, t: {"orders_excluded": work.excluded, "clustered_by": unit},
        )
        return compare_groups(
            context, spec, labels, n_of > 0, effect, lambda keep: int(n_of[keep].sum())
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
        work = work_cells(units, cluster="service")
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
    s_count = int(cells.stratum.max()) + 1
    big_n = np.bincount(cells.stratum, weights=cells.n, minlength=s_count)
    ybar = np.bincount(cells.stratum, weights=cells.sy, minlength=s_count) / big_n
    first = np.zeros(s_count, np.int64)
    first[cells.stratum[::-1]] = np.arange(len(cells.stratum))[::-1]
    keys = work.keys
    means = pd.DataFrame(
        {
            "zone": [work.values["zone"][i] for i in keys["zone"][first]],
            "service": [work.values["service"][i] for i in keys["service"][first]],
            "weekend": keys["weekend"][first].astype(bool),
            "hour": keys["hour"][first].astype(np.int8),
            "_ybar": ybar,
        }
    )
    for j in range(cells.k):
        means[f"_zbar{j}"] = (
            np.bincount(cells.stratum, weights=cells.sz[:, j], minlength=s_count) / big_n
        )
    used = usable_covariates(units)
    terms = covariate_terms(units, used)
    ok = units.y.notnull()
    for c in used:
        ok &= (units[c] > 0).fill_null(False)
    u = units.filter(ok).mutate(**terms)
    table = context.engine.con.create_table("fx_price_means", ibis.memtable(means), overwrite=True)
    j = u.inner_join(table, ["zone", "service", "weekend", "hour"])
    resid = j.y - j._ybar
    for i, name in enumerate(terms):
        resid = resid - (j[name] - j[f"_zbar{i}"]) * float(gamma[i])
    r = j.mutate(_r=resid)
    centre = float(r._r.median().execute())
    mad = float((r._r - centre).abs().median().execute()) * 1.4826
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
    n_hit = int(hits.count().execute())
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
