"""DED-01: are penalties concentrated on some worker groups, and are their appeals heard?

Penalties are deductions of category ``penalty``. Each penalty that names an order counts in
the cell of its worker and the order's work stratum (service, pickup zone, local date and
hour); the exposure is the worker's accepted orders in that cell. A Poisson model with a
fixed effect per stratum (and per ``[fairness] legitimate_attributes`` value) gives each
group's penalty rate ratio against the reference group, by worker (CR2, Bell-McCaffrey
degrees of freedom).

Where the package records appeals, the same model compares the share of appealed penalties
that were upheld (upheld appeals per appeal) within the order's service and zone (an appeal's
outcome does not follow the hour of the order, and appeals are too rare to meet in one date
and hour), so a group whose appeals are rarely heard shows; a group none of whose appeals is
upheld is tested exactly (``auditor.stats._effect``).
Penalties without an order (or whose order is not in the package) are counted and left out
of the rates. Counts of penalties, and each group's appeal rate, are published only when
they come from at least ``[report] min_cell_workers`` workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import numpy as np
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import same_words
from auditor.checks._groups import (
    ALGORITHMIC_WORDS,
    Comparison,
    Impact,
    View,
    attributes_findings,
    compare_groups,
    group_rates,
    roster,
)
from auditor.checks._registry import register
from auditor.checks._small_cells import left_out, left_out_words
from auditor.checks._strata import WORK_WORDS, work_strata
from auditor.stats import ratio_estimator, strata

__all__ = ["PenaltyConcentration"]


def _appeal_rates(
    labels: NDArray[np.object_],
    keep: NDArray[np.bool_],
    treat: NDArray[np.bool_],
    appeals: NDArray[Any],
    penalties: NDArray[Any],
    k: int,
) -> dict[str, float]:
    """Appeals per penalty of a comparison's group and reference group (per worker code:
    ``keep`` both, ``treat`` the group), each only where at least ``k`` of its workers were
    penalised (``[report] min_cell_workers``): the rate is over those workers alone."""
    rates = {}
    for side in (treat, keep & ~treat):
        hit = side & (penalties > 0)
        if int(hit.sum()) >= k:
            rates[str(labels[side][0])] = float(appeals[hit].sum() / penalties[hit].sum())
    return rates


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
        orders = work_strata(context).orders.select("order_id", "worker_id", "stratum")
        exposure = orders.group_by(["worker_id", "stratum"]).aggregate(accepted=ibis._.count())
        d = ded.table
        pen = d.filter(d.category == "penalty")
        linked = pen.inner_join(orders.select("order_id", o_stratum="stratum"), "order_id")
        appealed = linked.appealed.fill_null(False) if has_appeals else ibis.literal(False)
        upheld = (
            (linked.appealed.fill_null(False) & linked.appeal_upheld.fill_null(False))
            if has_appeals
            else ibis.literal(False)
        )
        counts = (
            linked.mutate(_a=appealed.cast("int64"), _u=upheld.cast("int64"))
            .group_by(["worker_id", linked.o_stratum.name("stratum")])
            .aggregate(penalties=ibis._.count(), appeals=ibis._._a.sum(), upheld=ibis._._u.sum())
        )
        keys = ["worker_id", "stratum"]
        cells = (
            exposure.left_join(counts, keys)
            .select(
                exposure.worker_id,
                exposure.stratum,
                exposure.accepted,
                penalties=counts.penalties.fill_null(0),
                appeals=counts.appeals.fill_null(0),
                upheld=counts.upheld.fill_null(0),
            )
            .inner_join(people.table, "worker_id")
            .order_by(["code", "stratum"])  # a fixed order: reproducible sums
            .to_pyarrow()
        )
        k = context.config.report.min_cell_workers
        n_penalties = int(pen.count().execute())
        n_linked = int(linked.count().execute())
        unlinked_pen = pen.anti_join(orders.select("order_id"), "order_id")
        penalised = {
            "all": int(pen.worker_id.nunique().execute()),
            "linked": int(linked.worker_id.nunique().execute()),
            "not_linked": int(unlinked_pen.worker_id.nunique().execute()),
        }
        code = cells["code"].to_numpy().astype(np.int64)
        stratum = strata(
            cells["stratum"].to_numpy().astype(np.int64), people.legitimate_codes()[code]
        )
        accepted = cells["accepted"].to_numpy().astype(np.float64)
        penalties = cells["penalties"].to_numpy().astype(np.float64)
        appeals = cells["appeals"].to_numpy().astype(np.float64)
        upheld_n = cells["upheld"].to_numpy().astype(np.float64)
        alg = people.algorithmic_codes()
        size = people.size
        pen_of = np.bincount(code, weights=penalties, minlength=size)
        acc_of = np.bincount(code, weights=accepted, minlength=size)
        app_of = np.bincount(code, weights=appeals, minlength=size)
        up_of = np.bincount(code, weights=upheld_n, minlength=size)
        unlinked = n_penalties - n_linked
        counts_note = {
            "penalties": left_out(n_penalties, penalised["all"], k),
            "penalties_linked_to_orders": left_out(n_linked, penalised["linked"], k),
            "penalties_not_linked": left_out(unlinked, penalised["not_linked"], k),
        }
        unlinked_words = (
            f" Not counted: {left_out_words(unlinked, penalised['not_linked'], k, 'penalties')} "
            "that name no order in the package."
            if unlinked
            else ""
        )

        def views_of(
            count: np.ndarray,
            expo: np.ndarray,
            method: str,
            st: np.ndarray = stratum,
            cl: np.ndarray = code,
        ) -> list[View]:
            if alg is None:
                return []
            return [
                View(
                    "adjusted_for_algorithmic",
                    "within the platform-set attributes too",
                    ALGORITHMIC_WORDS.format(", ".join(people.algorithmic)),
                    ratio_estimator(
                        count,
                        expo,
                        st,
                        cl,
                        method=method + "_algorithmic",
                        refine=alg,
                        counts=True,
                    ),
                )
            ]

        # Appeals per cell of one worker and one place (zone and service of the order).
        place = work_strata(context).place[cells["stratum"].to_numpy().astype(np.int64)]
        n_place = int(place.max()) + 1 if len(place) else 1
        key, inv = np.unique(code * n_place + place, return_inverse=True)
        with_appeals = np.bincount(inv, weights=appeals) > 0
        a_code = (key // n_place).astype(np.int64)
        appeal_cells = (
            a_code[with_appeals],
            strata(key % n_place, people.legitimate_codes()[a_code])[with_appeals],
            np.asarray(np.bincount(inv, weights=appeals), np.float64)[with_appeals],
            np.asarray(np.bincount(inv, weights=upheld_n), np.float64)[with_appeals],
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
                    f"order of {attribute}={r} workers ({WORK_WORDS}"
                    f"{same_words(people, ', same ')})"
                ),
                raw=group_rates(labels, pen_of, acc_of),
                extra=lambda g, keep, t, e: {
                    **counts_note,
                    "appeal_rate": _appeal_rates(labels, keep, t, app_of, pen_of, k),
                },
                note=unlinked_words,
                impact=Impact("selection_rate", pen_of, acc_of, higher_is_better=False),
            )
            method = "poisson_fe_service_zone_date_hour"
            out = compare_groups(
                context, rate_spec, labels, acc_of > 0,
                ratio_estimator(penalties, accepted, stratum, code, method=method, counts=True),
                lambda keep: int(acc_of[keep].sum()),
                views=views_of(penalties, accepted, method),
            )  # fmt: skip
            if has_appeals:
                a_code, a_stratum, a_appeals, a_upheld = appeal_cells
                appeal_spec = Comparison(
                    check=self.id,
                    title=self.title,
                    metric="appeal_upheld_ratio",
                    attribute=attribute,
                    unit="workers",
                    phrase=lambda g, r, x: (
                        f"Appeals of {attribute}={g} workers were upheld {x:.3f} times as "
                        f"often as those of {attribute}={r} workers (same service and zone"
                        f"{same_words(people, ', same ')})"
                    ),
                    raw=group_rates(labels, up_of, app_of),
                    extra=lambda g, keep, t, e: {"appeals": int(app_of[keep].sum())},
                    noun="appeals",
                    note=unlinked_words,
                    impact=Impact("selection_rate", up_of, app_of),
                )
                method = "poisson_fe_service_zone_appeals"
                out += compare_groups(
                    context, appeal_spec, labels, app_of > 0,
                    ratio_estimator(
                        a_upheld, a_appeals, a_stratum, a_code, method=method, counts=True
                    ),
                    lambda keep: int(app_of[keep].sum()),
                    views=views_of(a_upheld, a_appeals, method, a_stratum, a_code),
                )  # fmt: skip
            return out

        return attributes_findings(context, self.id, self.title, one)
