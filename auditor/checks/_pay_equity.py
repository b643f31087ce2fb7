"""PAY-02: are worker groups paid less for comparable work?

Per completed order, the worker's pay (``worker_pay``: tip and incentive excluded) is compared
between each group and the reference group within strata of the order's service, pickup
zone, local date and hour (and the same ``[fairness] legitimate_attributes``, e.g. vehicle
type), with distance and trip time taken up by what the same trip pays (``_money``). The
headline is the ratio of mean pay for the same work (a Poisson pseudo-likelihood); the ratio
of geometric means is a sensitivity view. Inference is by worker (CR2, Bell-McCaffrey
degrees of freedom).

Each finding also decomposes the raw gap in geometric-mean pay (log points) into what
working other zones, dates and hours explains, what longer or shorter trips explain, and
what remains for the same work, in an order-invariant (Gelbach) decomposition with
worker-clustered intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from auditor.checks._base import CheckContext, Confirmatory, Finding, Needs
from auditor.checks._comparable import money_comparisons, pay_cells
from auditor.checks._groups import roster
from auditor.checks._registry import register

__all__ = ["PayForComparableWork"]


@register
class PayForComparableWork:
    """PAY-02: pay for comparable work by worker group, with a decomposition of the gap."""

    id: ClassVar[str] = "PAY-02"
    title: ClassVar[str] = "Worker groups are paid the same for comparable work"
    needs: ClassVar[Needs] = Needs(tables=("orders", "workers"))

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        return money_comparisons(
            context,
            roster(context),
            pay_cells(context),
            check=self.id,
            title=self.title,
            metric="pay_ratio",
            noun="orders",
            outcome="worker_pay",
            words="were paid {x:.3f} times the pay per comparable order",
            decompose=True,
        )
