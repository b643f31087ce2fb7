"""PAY-02: are worker groups paid less for comparable work?

Per completed order, log(worker_pay) is compared between each group and the reference group
within strata of service x pickup zone x day type (weekday/weekend) x hour (and the same
``[fairness] legitimate_attributes``, e.g. vehicle type), adjusting for distance and trip time
(quadratic in their logs). The ratio is of geometric-mean pay for the same work; inference is
by worker (cluster-robust, or a permutation of worker labels for small groups).

Each finding also decomposes the raw gap (log points): what working other zones, services
and hours explains, what longer or shorter trips explain, and what remains (the headline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import log_outcome_comparisons, worker_cells
from auditor.checks._groups import roster
from auditor.checks._registry import register
from auditor.checks._work import positive_log

__all__ = ["PayForComparableWork", "order_units"]


def order_units(context: CheckContext, outcome: str) -> Table:
    """Completed orders as work units, ``y`` the log of ``outcome`` (a money column); NULL
    where the outcome is not positive, so that the cell moments count those orders as
    excluded rather than lose them."""
    o = context.rebuilt.orders
    o = o.filter(o.completed)
    return o.mutate(
        y=positive_log(o[outcome]),
        zone=o.pickup_zone.fill_null(""),
        service=o.service.fill_null(""),
        hour=o.local_hour,
        weekend=o.weekday >= 5,
        distance_km=o.distance_km.cast("float64"),
    )


@register
class PayForComparableWork:
    """PAY-02: pay for comparable work by worker group, with a decomposition of the gap."""

    id: ClassVar[str] = "PAY-02"
    title: ClassVar[str] = "Worker groups are paid the same for comparable work"
    needs: ClassVar[Needs] = Needs(tables=("orders", "workers"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        return log_outcome_comparisons(
            context,
            roster(context),
            worker_cells(context, "worker_pay", order_units(context, "worker_pay")),
            check=self.id,
            title=self.title,
            metric="pay_ratio",
            noun="orders",
            outcome="worker_pay",
            words="were paid {x:.3f} times the pay per comparable order",
            decompose=True,
        )
