"""Small cells: no number over fewer than ``[report] min_cell_workers`` workers is
published. One definition for every fact check (FEE-01 to FEE-08, PAY-01, HRS-01, INS-01,
DQ-05, ACC-01, CMP-01), for the online cells' counts and for the units a group comparison
leaves out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ibis
from ibis.expr.types import Table

__all__ = ["left_out", "left_out_words", "reached_by", "small_cell", "withheld"]


def small_cell(workers: int, k: int) -> bool:
    """Whether numbers over ``workers`` distinct workers are withheld from publication:
    some, but fewer than ``k`` (``[report] min_cell_workers``). No worker is no cell: that
    none breached is the check's verdict, which is always published."""
    return 0 < workers < k


def left_out(count: int, workers: int, k: int) -> int | None:
    """``count`` (units left out of a comparison) as a finding may publish it: None when it
    comes from some but fewer than ``k`` workers (``[report] min_cell_workers``)."""
    return None if small_cell(workers, k) else count


def left_out_words(count: int, workers: int, k: int, noun: str) -> str:
    """``"1,234 offers"``, or ``"offers of fewer than 10 workers"`` where the count comes
    from some but fewer than ``k`` workers."""
    shown = left_out(count, workers, k)
    return f"{noun} of fewer than {k} workers" if shown is None else f"{shown:,} {noun}"


def reached_by(units: Table, column: str, k: int) -> float | None:
    """The largest value of ``column`` that at least ``k`` distinct workers of ``units``
    reached: each worker's largest, then the k-th largest of those (the maximum itself when
    ``k`` is 1). Findings publish it in place of a maximum, which is one worker's value;
    this one ``k`` workers reached. None when fewer than ``k`` workers have a value."""
    per = units.group_by("worker_id").aggregate(_top=units[column].max())
    ranked = per.filter(per._top.notnull()).mutate(
        _rank=ibis.row_number().over(order_by=ibis.desc("_top"))
    )
    got = ranked.filter(ranked._rank == k - 1).select("_top").execute()
    return None if got.empty else float(got["_top"].iloc[0])


def withheld(data: Mapping[str, Any], keys: Iterable[str], hide: bool, k: int) -> dict[str, Any]:
    """``data`` with the values of ``keys`` set to None when ``hide``, and the small-cell
    keys every fact finding carries: ``suppressed`` (whether any was withheld) and
    ``min_cell_workers``."""
    names = set(keys)
    out = {key: (None if hide and key in names else v) for key, v in data.items()}
    return out | {"suppressed": hide, "min_cell_workers": k}
