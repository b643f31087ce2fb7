"""As-of joins: each left row with the latest right row at or before it.

DuckDB has a native as-of join; Spark SQL has none, so there the same join is made of a
window (the latest right key at or before each left key) and two equality joins. The
two give the same rows whenever a right key (``right_by``, ``right_on``) is unique, which
every caller ensures (sessions do not overlap; merged intervals do not share a start).
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

__all__ = ["asof_left_join"]


def asof_left_join(
    left: Table, right: Table, *, left_on: str, right_on: str, left_by: str, right_by: str
) -> Table:
    """Every row of ``left`` with the columns of the ``right`` row of the same ``by`` whose
    ``right_on`` is the latest at or before its ``left_on`` (nulls where there is none, or
    where ``left_on`` is null).

    Right columns named like a left column get the suffix ``_right``, as Ibis names them.
    """
    if left._find_backend(use_default=True).name == "duckdb":
        joined = left.asof_join(
            right,
            on=left[left_on] >= right[right_on],
            predicates=left[left_by] == right[right_by],
        )
        # DuckDB matches a null left key with the last right row; no key, no match.
        unkeyed = joined[left_on].isnull()
        return joined.mutate(
            **{
                c: ibis.ifelse(unkeyed, ibis.null(joined[c].type()), joined[c])
                for c in joined.columns[len(left.columns) :]
            }
        )
    return _asof_by_window(left, right, left_on, right_on, left_by, right_by)


def _asof_by_window(
    left: Table, right: Table, left_on: str, right_on: str, left_by: str, right_by: str
) -> Table:
    """The as-of join without an as-of operator: keys of both sides in one ordered window
    (right before left at equal keys, so a right row at the same instant matches), the
    running maximum of the right keys, joined back by equality."""
    key_type = right[right_on].type()
    asked = (
        left.select(_by=left[left_by], _t=left[left_on].cast(key_type))
        .distinct()
        .mutate(_side=ibis.literal(1, "int8"), _rt=ibis.null(key_type))
    )
    offered = right.select(
        _by=right[right_by],
        _t=right[right_on],
        _side=ibis.literal(0, "int8"),
        _rt=right[right_on],
    )
    keys = ibis.union(asked, offered, distinct=False)
    window = ibis.window(group_by=keys._by, order_by=[keys._t, keys._side], rows=(None, 0))
    latest = keys.mutate(_match=keys._rt.max().over(window))
    latest = latest.filter(latest._side == 1).select("_by", "_t", "_match")
    matched = left.left_join(
        latest, [left[left_by] == latest._by, left[left_on].cast(key_type) == latest._t]
    ).select(*left.columns, "_match")
    renamed = {(f"{c}_right" if c in left.columns else c): c for c in right.columns}
    r = right.select(
        _rby=right[right_by], _ron=right[right_on], **{k: right[v] for k, v in renamed.items()}
    )
    joined = matched.left_join(r, [matched._match == r._ron, matched[left_by] == r._rby])
    return joined.select(*left.columns, *renamed)
