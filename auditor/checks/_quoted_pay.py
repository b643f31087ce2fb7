"""FEE-08: workers are paid what the accepted offer quoted.

A fact check, like FEE-06: each completed order is compared with the quote its worker
accepted (``offers.offered_pay`` of an ``accepted`` offer of that order to that worker).
The order is paid below its quote when ``quote - paid > [fees] tolerance``, where
``paid`` is ``worker_pay``, plus the order's ``incentive`` where ``[fees]
quote_includes_incentive`` says the platform's quotes include it. Tips are never counted:
they come from the customer, not from the pay the platform quoted.

Where a worker accepted the same order more than once with different quotes, the lowest
quote is the one compared (a shortfall then holds against every quote), and those orders
are counted (``orders_with_several_quotes``): a platform that re-offers at a lower quote
is seen. Accepted quotes that cannot be compared are counted, not judged: no order of that
worker among the orders used (none in the package, another worker's, or quarantined), or
an order not completed (a cancelled order's pay follows the cancellation rules, not the
quote). Every count is withheld where fewer than ``[report] min_cell_workers`` workers
hold it, as every fact check's numbers are (``_small_cells``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ibis.expr.types import Table

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import basis, fact_outcome
from auditor.checks._registry import register
from auditor.checks._small_cells import reached_by, small_cell, withheld
from auditor.schema import MONEY_DECIMAL

__all__ = ["PaidAsQuoted"]


def accepted_quotes(offers: Table) -> Table:
    """Per (order, worker) with an accepted offer quoting pay: the lowest quote
    (``quote``, money) and whether the worker accepted other, higher quotes for it
    (``several``)."""
    quoted = offers.filter((offers.response == "accepted") & offers.offered_pay.notnull())
    return quoted.group_by(["order_id", "worker_id"]).aggregate(
        quote=quoted.offered_pay.min(),
        several=quoted.offered_pay.max() > quoted.offered_pay.min(),
    )


def _money(value: Any) -> float:
    """A money sum from the engine (a Decimal; None or NaN over no rows) as a float."""
    return 0.0 if value is None or value != value else float(value)


_MONEY = ("shortfall", "quoted")


def _count(value: Any) -> int:
    """A count from the engine (None or NaN over no rows: 0)."""
    return 0 if value is None or value != value else int(value)


def _short_units(joined: Table, is_short: Any, short_money: Any) -> Table:
    """The orders paid below their quote, with the shortfall ``_short`` (float)."""
    return joined.filter(is_short).mutate(_short=short_money.cast("float64"))


@register
class PaidAsQuoted:
    """FEE-08: final pay (``worker_pay``, with the incentive where quotes include it) is
    not below the pay quoted in the offer the worker accepted."""

    id: ClassVar[str] = "FEE-08"
    title: ClassVar[str] = "Workers are paid what the accepted offer quoted"
    needs: ClassVar[Needs] = Needs(tables=("offers", "orders"), columns=("offers.offered_pay",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        fees = context.config.fees
        quotes = accepted_quotes(context.package.tables["offers"].table)
        o = context.rebuilt.orders
        paid = o.worker_pay + o.incentive if fees.quote_includes_incentive else o.worker_pay
        orders = o.select("order_id", "worker_id", "completed", _paid=paid)
        joined = quotes.left_join(orders, ["order_id", "worker_id"])
        # A left join keeps the quotes with no order of that worker: _paid is null there.
        # Every count and sum in one pass over the join (15 M offers at 10 M orders).
        unit = joined._paid.notnull() & joined.completed
        short_money = joined.quote - joined._paid
        is_short = unit & (short_money.cast("float64") > fees.tolerance)
        no_order = joined._paid.isnull()
        not_completed = joined._paid.notnull() & ~joined.completed
        totals = (
            joined.aggregate(
                quotes=joined.count(),
                no_order=no_order.cast("int64").sum(),
                not_completed=not_completed.cast("int64").sum(),
                several=joined.several.cast("int64").sum(),
                units=unit.cast("int64").sum(),
                short=is_short.cast("int64").sum(),
                shortfall=short_money.cast(MONEY_DECIMAL).sum(where=is_short),
                quoted=joined.quote.sum(where=unit),
                workers_short=joined.worker_id.nunique(where=is_short),
                workers=joined.worker_id.nunique(where=unit),
                workers_quoted=joined.worker_id.nunique(),
                workers_no_order=joined.worker_id.nunique(where=no_order),
                workers_not_completed=joined.worker_id.nunique(where=not_completed),
                workers_several=joined.worker_id.nunique(where=joined.several),
            )
            .execute()
            .iloc[0]
        )
        count = {key: _count(totals[key]) for key in totals.index if key not in _MONEY}
        n, n_short = count["units"], count["short"]
        total, quoted_total = _money(totals["shortfall"]), _money(totals["quoted"])
        workers, n_workers = count["workers_short"], count["workers"]
        k = context.config.report.min_cell_workers
        few = small_cell(n_workers, k)
        hide = few or small_cell(workers, k)
        share = n_short / n if n else 0.0
        if n:
            status, severity = fact_outcome(n_short, share)
        else:
            status, severity = Status.INCONCLUSIVE, Severity.INFO

        def published(key: str) -> int | None:
            """A count of quotes, withheld where fewer than k workers hold them."""
            return None if small_cell(count[f"workers_{key}"], k) else count[key]

        data = {
            "orders_compared": None if few else n,
            "orders_short": n_short,
            "shortfall_total": total,
            "quoted_total": None if few else quoted_total,
            "workers_affected": workers,
            "shortfall_reached_by_k_workers": (
                reached_by(_short_units(joined, is_short, short_money), "_short", k)
                if n_short and not hide
                else None
            ),
            "accepted_quotes": None if small_cell(count["workers_quoted"], k) else count["quotes"],
            "not_compared_no_order": published("no_order"),
            "not_compared_not_completed": published("not_completed"),
            "orders_with_several_quotes": published("several"),
            "quote_includes_incentive": fees.quote_includes_incentive,
        }
        keys = ("orders_short", "shortfall_total", "workers_affected")
        return [
            Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="share_of_orders_paid_below_quote",
                estimate=share if n and not hide else None,
                threshold=0.0,
                n_orders=None if few else n,
                n_workers=None if few else n_workers,
                basis=basis(context, self.id),
                detail=_detail(context, data, count, share, hide),
                data=withheld(data, keys, hide, k),
            )
        ]


def _detail(
    context: CheckContext, data: dict[str, Any], count: dict[str, int], share: float, hide: bool
) -> str:
    """The finding's sentence; ``count`` holds the true counts, ``data`` what is published
    (None where fewer than ``[report] min_cell_workers`` workers are behind a number)."""
    k = context.config.report.min_cell_workers
    currency = context.config.audit.currency
    incentive = context.config.fees.quote_includes_incentive
    paid = "worker_pay and incentive" if incentive else "worker_pay"
    n, n_short = count["units"], count["short"]
    parts = []
    for key, words in (
        ("not_compared_no_order", "with no order of that worker among the orders used (none in "
         "the package, another worker's, or quarantined)"),
        ("not_compared_not_completed", "whose order was not completed"),
    ):  # fmt: skip
        if data[key]:
            parts.append(f"{data[key]:,} {words}")
        elif data[key] is None:
            parts.append(f"quotes of fewer than {k} workers {words}")
    aside = f" Accepted quotes not compared: {'; '.join(parts)}." if parts else ""
    if data["orders_with_several_quotes"]:
        several = data["orders_with_several_quotes"]
        aside += (
            f" {several:,} {'order' if several == 1 else 'orders'} had several accepted quotes "
            "that differ; the lowest was compared."
        )
    elif data["orders_with_several_quotes"] is None:
        aside += (
            f" Orders of fewer than {k} workers had several accepted quotes that differ; the "
            "lowest was compared."
        )
    if n_short and hide:
        return (
            f"Completed orders of fewer than {k} workers were paid ({paid}) less than the "
            "quote the worker accepted; their number, share and the shortfall are not "
            "published ([report] min_cell_workers)." + aside
        )
    if n_short:
        who = "worker" if data["workers_affected"] == 1 else "workers"
        return (
            f"{n_short:,} of {n:,} completed orders ({share:.1%}) were paid ({paid}) "
            f"less than the quote the worker accepted: {data['shortfall_total']:,.2f} "
            f"{currency} less than quoted, to {data['workers_affected']:,} {who}." + aside
        )
    if count["quotes"] == 0:
        return (
            "No accepted offer quotes pay, so final pay cannot be compared with a quote; "
            "it needs offers.offered_pay on accepted offers."
        )
    if not n:
        return "No accepted quote belongs to a completed order of its worker." + aside
    return f"Every completed order was paid ({paid}) at least its accepted quote." + aside
