"""Row order and IDs of the output tables.

Orders are listed by ``accepted_at`` and numbered in that order (``O000000001``, ...), offers
by ``offered_at``, deductions by ``deducted_at``, payouts by week then worker. IDs are strings
with a one-letter prefix and zero padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._state import State

__all__ = ["Layout", "id_array", "id_strings", "make_layout"]


@dataclass(frozen=True, slots=True)
class Layout:
    """Output order of rows and ID widths.

    Attributes:
        order_perm: internal order rows in output order.
        order_rank: output position of each internal order row.
        offer_perm: internal offer rows in output order.
        deduction_perm: internal deduction rows in output order.
        worker_width: digits of worker IDs.
        customer_width: digits of customer IDs.
    """

    order_perm: np.ndarray
    order_rank: np.ndarray
    offer_perm: np.ndarray
    deduction_perm: np.ndarray
    worker_width: int
    customer_width: int

    def order_ids(self, rows: np.ndarray) -> list[str]:
        """IDs of internal order rows."""
        return id_strings("O", self.order_rank[rows] + 1, 9)

    def worker_ids(self, workers: np.ndarray) -> list[str]:
        """IDs of worker numbers."""
        return id_strings("W", np.asarray(workers) + 1, self.worker_width)


def _rank(perm: np.ndarray) -> np.ndarray:
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return rank


def _sort_by(first: np.ndarray, then: np.ndarray, then_size: int) -> np.ndarray:
    """Stable order by ``first`` then ``then`` (non-negative ints, ``then < then_size``)."""
    first = first.astype(np.int64)
    span = int(first.max(initial=0) - first.min(initial=0)) + 1
    if span * max(then_size, 1) < 2**62:
        key = (first - first.min(initial=0)) * max(then_size, 1) + then.astype(np.int64)
        return np.argsort(key, kind="stable")
    return np.lexsort((then, first))


def make_layout(state: State, n_customers: int) -> Layout:
    """Sort keys and ID widths for ``state``'s final rows."""
    o, f, d = state.orders, state.offers, state.deductions
    if d is None:
        raise RuntimeError("make_layout needs the deductions: build the ledger first.")
    order_perm = _sort_by(o.accepted, o.worker, state.workers.n)
    order_rank = _rank(order_perm)
    offer_perm = _sort_by(f.offered_at, order_rank[f.order] * 4 + f.response, len(o) * 4)
    deduction_perm = _sort_by(d.at, d.worker, state.workers.n)
    return Layout(
        order_perm=order_perm,
        order_rank=order_rank,
        offer_perm=offer_perm,
        deduction_perm=deduction_perm,
        worker_width=max(6, len(str(state.workers.n))),
        customer_width=max(9, len(str(n_customers))),
    )


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> list[str]:
    """``prefix`` + zero-padded ``numbers`` as Python strings (for short lists)."""
    return [f"{prefix}{int(n):0{width}d}" for n in np.asarray(numbers).ravel()]


def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` (``0 <= numbers < 10**width``) as Arrow strings."""
    padded = pc.cast(pa.array(np.asarray(numbers, np.int64) + 10**width, pa.int64()), pa.string())
    return pc.utf8_replace_slice(padded, start=0, stop=1, replacement=prefix)
