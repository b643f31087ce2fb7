"""DED-01: are penalties concentrated on some worker groups, and are their appeals heard?

Penalties are deductions of category ``penalty``. Each penalty that names an order counts in
the cell of its worker and the order's service and pickup zone; the exposure is the worker's
accepted orders in that cell. A Poisson model with a fixed effect per service x zone stratum
(and per ``[fairness] legitimate_attributes`` value) gives each group's penalty rate ratio
against the reference group, by worker (cluster-robust, or permutation for small groups).

Where the package records appeals, the same model compares the share of appealed penalties
that were upheld (upheld appeals per appeal), so a group whose appeals are rarely heard
shows. Penalties without an order (or whose order is not in the package) are counted and
left out of the rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import ibis
import numpy as np
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import compact, group_rates, same_words, strata
from auditor.checks._groups import (
    Comparison,
    attributes_findings,
    cluster_subset,
    compare_groups,
    roster,
)
from auditor.checks._registry import register
from auditor.stats import GroupEffect, RateCells, poisson_effect

__all__ = ["PenaltyConcentration"]


@register
class PenaltyConcentration:
    """DED-01: penalty rates by worker group, and how their appeals fare."""

    id: ClassVar[str] = "DED-01"
    title: ClassVar[str] = "Penalties fall on worker groups alike, and appeals are heard alike"
    needs: ClassVar[Needs] = Needs(tables=("deductions", "workers", "orders"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        ded = context.package.tables["deductions"]
        has_appeals = {"appealed", "appeal_upheld"} <= set(ded.columns_present)
        o = context.rebuilt.orders
        keys = ["worker_id", "service", "zone"]
        orders = o.select(
            "order_id",
            "worker_id",
            service=o.service.fill_null(""),
            zone=o.pickup_zone.fill_null(""),
        )
        exposure = orders.group_by(keys).aggregate(accepted=ibis._.count())
        d = ded.table
        pen = d.filter(d.category == "penalty")
        linked = pen.inner_join(
            orders.select("order_id", o_service="service", o_zone="zone"), "order_id"
        )
        appealed = linked.appealed.fill_null(False) if has_appeals else ibis.literal(False)
        upheld = (
            (linked.appealed.fill_null(False) & linked.appeal_upheld.fill_null(False))
            if has_appeals
            else ibis.literal(False)
        )
        counts = (
            linked.mutate(_a=appealed.cast("int64"), _u=upheld.cast("int64"))
            .group_by(["worker_id", linked.o_service.name("service"), linked.o_zone.name("zone")])
            .aggregate(penalties=ibis._.count(), appeals=ibis._._a.sum(), upheld=ibis._._u.sum())
        )
        cells = (
            exposure.left_join(counts, keys)
            .select(
                exposure.worker_id,
                exposure.service,
                exposure.zone,
                exposure.accepted,
                penalties=counts.penalties.fill_null(0),
                appeals=counts.appeals.fill_null(0),
                upheld=counts.upheld.fill_null(0),
            )
            .inner_join(people.table, "worker_id")
            .order_by(["code", "service", "zone"])  # a fixed order: reproducible sums
            .to_pyarrow()
        )
        n_penalties = int(pen.count().execute())
        n_linked = int(linked.count().execute())
        code = cells["code"].to_numpy().astype(np.int64)
        import pyarrow.compute as pc

        service = np.asarray(pc.dictionary_encode(cells["service"].combine_chunks()).indices)
        zone = np.asarray(pc.dictionary_encode(cells["zone"].combine_chunks()).indices)
        stratum = strata(
            service.astype(np.int64), zone.astype(np.int64), people.legitimate_codes()[code]
        )
        accepted = cells["accepted"].to_numpy().astype(np.float64)
        penalties = cells["penalties"].to_numpy().astype(np.float64)
        appeals = cells["appeals"].to_numpy().astype(np.float64)
        upheld_n = cells["upheld"].to_numpy().astype(np.float64)
        alg = people.algorithmic_codes()
        seed = context.config.audit.seed

        def effect_of(count: NDArray[np.float64], expo: NDArray[np.float64], method: str):  # type: ignore[no-untyped-def]
            def effect(
                keep: NDArray[np.bool_], treat: NDArray[np.bool_], algorithmic: bool, perms: int
            ) -> GroupEffect:
                rows, new, old = cluster_subset(code, keep)
                st = stratum[rows]
                if algorithmic and alg is not None:
                    st = strata(st, alg[code[rows]])
                rc = RateCells(count[rows], expo[rows], compact(st), new)
                return poisson_effect(rc, treat[old], method=method, permutations=perms, seed=seed)

            return effect

        size = people.size
        pen_of = np.bincount(code, weights=penalties, minlength=size)
        acc_of = np.bincount(code, weights=accepted, minlength=size)
        app_of = np.bincount(code, weights=appeals, minlength=size)
        up_of = np.bincount(code, weights=upheld_n, minlength=size)
        counts_note = {
            "penalties": n_penalties,
            "penalties_linked_to_orders": n_linked,
            "penalties_not_linked": n_penalties - n_linked,
        }
        unlinked = n_penalties - n_linked
        unlinked_words = (
            f" Not counted: {unlinked:,} penalties that name no order in the package."
            if unlinked
            else ""
        )

        def one(attribute: str) -> list[Finding | Confirmatory]:
            labels = people.labels(attribute)
            rate_spec = Comparison(
                check=self.id,
                title=self.title,
                metric="penalty_rate_ratio",
                attribute=attribute,
                unit="workers",
                phrase=lambda g, r, x: (
                    f"{attribute}={g} workers drew {x:.3f} times the penalties per accepted "
                    f"order of {attribute}={r} workers (same service and zone"
                    f"{same_words(people, ', same ')})"
                ),
                raw=group_rates(labels, pen_of, acc_of),
                higher_is_better=False,
                extra=lambda g, k, t, e: {
                    **counts_note,
                    "appeal_rate": group_rates(labels, app_of, pen_of),
                },
                note=unlinked_words,
            )
            out = compare_groups(
                context,
                rate_spec,
                labels,
                acc_of > 0,
                effect_of(penalties, accepted, "poisson_fe_service_zone"),
                lambda keep: int(acc_of[keep].sum()),
                has_algorithmic=alg is not None,
            )
            if has_appeals:
                appeal_spec = Comparison(
                    check=self.id,
                    title=self.title,
                    metric="appeal_upheld_ratio",
                    attribute=attribute,
                    unit="workers",
                    phrase=lambda g, r, x: (
                        f"Appeals of {attribute}={g} workers were upheld {x:.3f} times as "
                        f"often as those of {attribute}={r} workers (same service and zone)"
                    ),
                    raw=group_rates(labels, up_of, app_of),
                    extra=lambda g, k, t, e: {"appeals": int(app_of[k].sum())},
                    noun="appeals",
                    note=unlinked_words,
                )
                out += compare_groups(
                    context,
                    appeal_spec,
                    labels,
                    app_of > 0,
                    effect_of(upheld_n, appeals, "poisson_fe_service_zone_appeals"),
                    lambda keep: int(app_of[keep].sum()),
                    has_algorithmic=alg is not None,
                )
            return out

        return attributes_findings(context, self.id, self.title, one)
