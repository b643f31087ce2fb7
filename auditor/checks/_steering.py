"""DSP-03: is the value of the work offered per online hour lower for some worker groups?

A dispatcher can leave offers per hour and pay per comparable order equal and still cut a
group's pay by steering it to short, cheap orders and the other group to long ones in the
same zone and quarter hour. DSP-03 compares what that does to the worker: the pay quoted in
the offers a worker receives per online hour, by group, in the same cells of zone, local
date and hour as DSP-01 (``_online``), a Poisson pseudo-likelihood on money with the hours
online as exposure (a ratio of mean offered pay per hour). Earned pay per online hour (the
worker pay of the orders accepted) is a labelled second view, ``data.earned_pay``: it mixes
in workers' own choices of which offers to take. Inference is by worker (CR2,
Bell-McCaffrey degrees of freedom); the test joins the audit's Holm family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

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
from auditor.checks._online import online_cells
from auditor.checks._registry import register
from auditor.checks._strata import ONLINE_WORDS
from auditor.stats import ratio_estimator, strata

__all__ = ["OfferedValue"]


@register
class OfferedValue:
    """DSP-03: pay offered per online hour by worker group (steering to low-value work)."""

    id: ClassVar[str] = "DSP-03"
    title: ClassVar[str] = (
        "Worker groups are offered work of the same value per online hour in the same zones "
        "and hours"
    )
    needs: ClassVar[Needs] = Needs(
        tables=("offers", "sessions", "workers", "orders"), columns=("offers.offered_pay",)
    )

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        people = roster(context)
        cells = online_cells(context, people.table)
        code = cells.code
        stratum = strata(cells.stratum, people.legitimate_codes()[code])
        alg = people.algorithmic_codes()
        size = people.size
        hours_of = cells.per_worker(cells.hours, size)
        value_of = cells.per_worker(cells.offered_pay, size)
        method = "ppml_money_per_hour_zone_date_hour"
        effect = ratio_estimator(cells.offered_pay, cells.hours, stratum, code, method=method)
        views = [
            View(
                "earned_pay",
                "earned pay per online hour (workers' own choices included)",
                "worker pay of the orders accepted per online hour: the offers and workers' "
                "own choices of which to take, together",
                ratio_estimator(
                    cells.earned, cells.hours, stratum, code, method=method + "_earned"
                ),
            )
        ]
        if alg is not None:
            views.append(
                View(
                    "adjusted_for_algorithmic",
                    "within the platform-set attributes too",
                    ALGORITHMIC_WORDS.format(", ".join(people.algorithmic)),
                    ratio_estimator(
                        cells.offered_pay,
                        cells.hours,
                        stratum,
                        code,
                        method=method + "_algorithmic",
                        refine=alg,
                    ),
                )
            )
        k = context.config.report.min_cell_workers
        note = ""
        if cells.offers_unpriced:
            note += (
                " Offers without a quoted pay add nothing: "
                f"{cells.words('offers_unpriced', k, 'offers')}."
            )
        if cells.offers_outside:
            note += (
                f" Not counted: {cells.words('offers_outside', k, 'offers')} made outside any "
                "online session."
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            per_hour = np.where(
                hours_of > 0, value_of / np.where(hours_of > 0, hours_of, 1), np.nan
            )
        currency = context.config.audit.currency

        def one(attribute: str) -> list[Finding | Confirmatory]:
            labels = people.labels(attribute)
            spec = Comparison(
                check=self.id,
                title=self.title,
                metric="offered_value_rate_ratio",
                attribute=attribute,
                unit="workers",
                phrase=lambda g, r, x: (
                    f"{attribute}={g} workers were offered {x:.3f} times the pay per online "
                    f"hour of {attribute}={r} workers {ONLINE_WORDS}" + same_words(people)
                ),
                raw=group_rates(labels, value_of, hours_of),
                extra=lambda g, keep, t, e: {
                    "currency": currency,
                    "offers_unpriced": cells.shown("offers_unpriced", k),
                    "offers_outside_sessions": cells.shown("offers_outside", k),
                },
                noun="offers",
                note=note,
                scale="ratio of means (offered pay per online hour)",
                impact=Impact("scoring_rate", per_hour),
            )
            offers_of = cells.per_worker(cells.offers, size)
            return compare_groups(
                context, spec, labels, hours_of > 0, effect,
                lambda keep: int(offers_of[keep].sum()), views=views,
            )  # fmt: skip

        return attributes_findings(context, self.id, self.title, one)
