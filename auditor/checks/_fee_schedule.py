"""What the fee_schedule declares in force for an order's date, service and zone (read by
FEE-01's cap and FEE-09's declared rate)."""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from auditor.checks._base import CheckContext

__all__ = ["declared_in_force"]


def declared_in_force(
    context: CheckContext, keys: Table, column: str, *, with_row: bool = False
) -> Table:
    """The fee_schedule's ``column`` in force for each (local_date, service, pickup_zone)
    of ``keys``, as ``fs_value`` (null where none applies; the package must have a
    fee_schedule). With ``with_row``, also the service and zone the winning row names
    (``fs_row_service``, ``fs_row_zone``; with its ``effective_from``, the row's key).

    The fee_schedule row that covers the date (``effective_from <= date <=
    effective_to``), matches the service and zone (an empty one matches all) and has a
    value in ``column`` wins; among several, the most specific (service and zone, then
    service, then zone), then the latest ``effective_from``.
    """
    fs = context.package.tables["fee_schedule"].table
    fs = fs.filter(fs[column].notnull()).select(
        fs_from=fs.effective_from,
        fs_to=fs.effective_to,
        fs_service=fs.service,
        fs_zone=fs.zone,
        fs_cap=fs[column],
    )
    # Number the keys in their own order: a row number over an unordered set may differ
    # between the two places the query reads it, and reruns then disagree.
    k = keys.mutate(_k=ibis.row_number().over(order_by=list(keys.columns)))
    cand = k.cross_join(fs).filter(
        lambda t: (
            (t.fs_from <= t.local_date)
            & (t.fs_to.isnull() | (t.local_date <= t.fs_to))
            & (t.fs_service.isnull() | (t.fs_service == t.service))
            & (t.fs_zone.isnull() | (t.fs_zone == t.pickup_zone))
        )
    )
    specific = cand.fs_service.notnull().cast("int8") * 2 + cand.fs_zone.notnull().cast("int8")
    cand = cand.mutate(_spec=specific)
    cand = cand.mutate(
        _rank=ibis.row_number().over(
            group_by="_k", order_by=[ibis.desc("_spec"), ibis.desc("fs_from")]
        )
    )
    best = cand.filter(cand._rank == 0).select(
        "_k", "fs_cap", fs_row_service=cand.fs_service, fs_row_zone=cand.fs_zone
    )
    joined = k.left_join(best, "_k")
    if with_row:
        return joined.select(
            *keys.columns,
            fs_value=joined.fs_cap,
            fs_row_service=joined.fs_row_service,
            fs_row_zone=joined.fs_row_zone,
        )
    return joined.select(*keys.columns, fs_value=joined.fs_cap)
