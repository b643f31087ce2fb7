"""Sums per cell of one worker in one stratum for a within-strata slope (``stats._slope``),
made in the engine: the units, and the exact sums of y, of each x, of their products and of
x x'. Shared by the checks that estimate a slope (FEE-07, FEE-09)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from ibis.expr.types import Table

from auditor.checks._groups import Roster
from auditor.engine import exact_sum
from auditor.stats import strata
from auditor.stats._slope import SlopeCells

__all__ = ["slope_cells", "too_few_workers"]


def slope_cells(
    units: Table, y: Any, xs: list[Any], people: Roster
) -> tuple[SlopeCells, int, tuple[int, int]]:
    """The cells of ``units`` (with the worker's roster ``code`` and the work ``stratum``)
    for the slope of ``y`` on ``xs[0]``, the other ``xs`` as controls; units with a missing
    y, x or stratum are left out. The strata are refined by the workers' legitimate
    attributes. Returns the cells, the units kept, and the units left out with the distinct
    workers behind them (a finding publishes that count only when they are at least
    ``[report] min_cell_workers``: ``_small_cells.left_out``)."""
    ok = y.notnull() & units.stratum.notnull()
    for x in xs:
        ok &= x.notnull()
    named = {"y": y.cast("float64"), **{f"x{i}": x.cast("float64") for i, x in enumerate(xs)}}
    kept = units.select("code", "stratum", ok=ok, **named).filter(lambda t: t.ok)
    p = len(xs)
    aggs: dict[str, Any] = {"n": kept.count(), "sy": exact_sum(kept.y)}
    for i in range(p):
        aggs[f"sx{i}"] = exact_sum(kept[f"x{i}"])
        aggs[f"sxy{i}"] = exact_sum(kept[f"x{i}"] * kept.y)
        for j in range(i, p):
            aggs[f"sxx{i}_{j}"] = exact_sum(kept[f"x{i}"] * kept[f"x{j}"])
    by = ["code", "stratum"]
    table: pa.Table = kept.group_by(by).aggregate(**aggs).order_by(by).to_pyarrow()
    dropped = units.select("code", ok=ok).filter(lambda t: ~t.ok)
    left = dropped.aggregate(n=dropped.count(), workers=dropped.code.nunique()).to_pyarrow()
    excluded = (int(left["n"][0].as_py() or 0), int(left["workers"][0].as_py() or 0))
    column = lambda name: table[name].to_numpy().astype(np.float64)  # noqa: E731
    n = column("n")
    code = table["code"].to_numpy().astype(np.int64)
    stratum = table["stratum"].to_numpy().astype(np.int64)
    if people.legitimate and len(code):
        stratum = strata(stratum, people.legitimate_codes()[code])
    sxx = np.zeros((len(n), p, p))
    for i in range(p):
        for j in range(i, p):
            sxx[:, i, j] = sxx[:, j, i] = column(f"sxx{i}_{j}")
    cells = SlopeCells(
        code, stratum, n,
        np.column_stack([column(f"sx{i}") for i in range(p)]), column("sy"), sxx,
        np.column_stack([column(f"sxy{i}") for i in range(p)]), people.size,
    )  # fmt: skip
    kept_n = round(float(n.sum()))
    return cells, kept_n, excluded


def too_few_workers(min_cell: int) -> str:
    """The sentence of a slope withheld because fewer than ``min_cell`` effective workers
    carry it."""
    return (
        f"Withheld: fewer than {min_cell} effective workers carry the estimate "
        "([report] min_cell_workers)."
    )
