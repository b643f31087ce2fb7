"""DSP-01 and DSP-02: does the dispatch algorithm favour some worker groups?

DSP-01 compares what the dispatcher decides, offers per online hour, between each group and
the reference group where both were online at the same place and time: a Poisson model of
the offers in each cell of one worker, zone, local date and hour (``_online``) with the
hours online as exposure and a fixed effect per zone x date x hour stratum (and per
``[fairness] legitimate_attributes`` value). Accepted orders per online hour mix the
dispatcher with workers' own choices (a group that declines more offers gets fewer orders
from the same offers): they are a labelled second view, ``data.accepted_orders``. Without an
offers table the headline counts accepted orders, and says so.

DSP-02 compares the pay quoted in offers for comparable orders: offered pay over what the
same work pays (``_money``), within strata of the order offered (service, pickup zone, local
date and hour), by worker. The offer's own ``zone`` is not used: an order is compared in one
stratum whoever it was offered to.

Inference is by worker (CR2, Bell-McCaffrey degrees of freedom). Neither test conditions on
what the algorithm itself produces (acceptance, ratings, tiers); the view adjusted for
``[fairness] algorithmic_attributes`` is reported separately in
``data.adjusted_for_algorithmic`` and labelled so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import (
    money_comparisons,
    same_words,
    worker_money,
    worker_units,
)
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
from auditor.checks._online import online_cells
from auditor.checks._registry import register
from auditor.checks._strata import ONLINE_WORDS, work_strata
from auditor.stats import ratio_estimator, strata

__all__ = ["DispatchRate", "OfferQuality"]


@register
class DispatchRate:
    """DSP-01: offers per online hour by worker group, in the same zones, dates and hours."""

    id: ClassVar[str] = "DSP-01"
    title: ClassVar[str] = (
        "Worker groups are offered as much work per online hour in the same zones and hours"
    )
    needs: ClassVar[Needs] = Needs(tables=("orders", "sessions", "workers"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        cells = online_cells(context, people.table)
        code = cells.code
        stratum = strata(cells.stratum, people.legitimate_codes()[code])
        alg = people.algorithmic_codes()
        size = people.size
        hours_of = cells.per_worker(cells.hours, size)
        offered = cells.has_offers
        headline = cells.offers if offered else cells.orders
        noun = "offers" if offered else "orders"
        count_of = cells.per_worker(headline, size)
        method = "poisson_fe_zone_date_hour"
        effect = ratio_estimator(headline, cells.hours, stratum, code, method=method, counts=True)
        views = []
        if offered:
            views.append(
                View(
                    "accepted_orders",
                    "accepted orders per online hour (workers' own choices included)",
                    "accepted orders per online hour: the dispatcher and workers' own choices "
                    "to accept, together",
                    ratio_estimator(
                        cells.orders,
                        cells.hours,
                        stratum,
                        code,
                        method=method + "_accepted",
                        counts=True,
                    ),
                )
            )
        if alg is not None:
            views.append(
                View(
                    "adjusted_for_algorithmic",
                    "within the platform-set attributes too",
                    ALGORITHMIC_WORDS.format(", ".join(people.algorithmic)),
                    ratio_estimator(
                        headline,
                        cells.hours,
                        stratum,
                        code,
                        method=method + "_algorithmic",
                        refine=alg,
                        counts=True,
                    ),
                )
            )
        k = context.config.report.min_cell_workers
        if offered:
            note = (
                f" Not counted: {cells.words('offers_outside', k, 'offers')} made outside any "
                "online session." if cells.offers_outside else ""
            )  # fmt: skip
        else:
            note = (
                " The package has no offers table: this counts accepted orders, which mix "
                "the dispatcher's offers with workers' own choices to accept them."
            )
        if cells.orders_outside:
            note += (
                f" Not counted: {cells.words('orders_outside', k, 'orders')} accepted outside "
                "any online session."
            )

        def one(attribute: str) -> list[Finding | Confirmatory]:
            labels = people.labels(attribute)
            spec = Comparison(
                check=self.id,
                title=self.title,
                metric="offer_rate_ratio" if offered else "order_rate_ratio",
                attribute=attribute,
                unit="workers",
                phrase=lambda g, r, x: (
                    f"{attribute}={g} workers got {x:.3f} times the {noun} per online hour "
                    f"of {attribute}={r} workers {ONLINE_WORDS}" + same_words(people)
                ),
                raw=group_rates(labels, count_of, hours_of),
                extra=lambda g, keep, t, e: {
                    "counts": noun,
                    "offers_outside_sessions": cells.shown("offers_outside", k),
                    "orders_outside_sessions": cells.shown("orders_outside", k),
                },
                noun=noun,
                note=note,
                impact=Impact("selection_rate", count_of, hours_of),
            )
            return compare_groups(
                context, spec, labels, hours_of > 0, effect,
                lambda keep: int(count_of[keep].sum()), views=views,
            )  # fmt: skip

        return attributes_findings(context, self.id, self.title, one)


@register
class OfferQuality:
    """DSP-02: pay quoted in offers for comparable orders, by worker group."""

    id: ClassVar[str] = "DSP-02"
    title: ClassVar[str] = "Worker groups are offered the same pay for comparable orders"
    needs: ClassVar[Needs] = Needs(
        tables=("offers", "workers", "orders"), columns=("offers.offered_pay",)
    )

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        offers = worker_units(context, people, context.package.tables["offers"].table)
        # Each offer is compared in its order's stratum, so the same order falls in one
        # stratum whoever was offered it; offers of orders not in the package have none, and
        # are counted as excluded (as are offers with no positive quoted pay).
        o = work_strata(context).orders.select(
            "order_id", "stratum", "kind", "distance_km", "trip_minutes"
        )
        joined = offers.left_join(o, "order_id")
        units = joined.select(
            code=joined.code,
            y=joined.offered_pay.cast("float64"),
            stratum=joined.stratum,
            kind=joined["kind"],
            distance_km=joined.distance_km.cast("float64"),
            trip_minutes=joined.trip_minutes,
        )
        # Stored once: the money cells read the units three times, and the join is the
        # costly part of each read. Dropped once summed.
        stored = context.engine.materialize("dsp_offer_units", units)
        cells = worker_money(context, "offered_pay", stored, users=("DSP-02",))
        context.engine.drop("dsp_offer_units")
        return money_comparisons(
            context,
            people,
            cells,
            check=self.id,
            title=self.title,
            metric="offered_pay_ratio",
            noun="offers",
            outcome="offered_pay",
            words="were offered {x:.3f} times the pay per comparable order",
        )
