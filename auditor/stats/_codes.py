"""Dense integer codes for strata and clusters, by lookup tables rather than sorts (linear
in the number of rows, which matters at 10 M orders)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["cluster_subset", "compact", "strata"]

_LOOKUP_LIMIT = 50_000_000
"""Largest combined code renumbered by a lookup table (larger ones are sorted)."""


def strata(*keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Dense codes (0..S-1) of the combinations of non-negative integer keys, in the
    lexicographic order of the keys."""
    if not keys or len(keys[0]) == 0:
        return np.empty(0, np.int64)
    acc = compact(np.asarray(keys[0], dtype=np.int64))
    for key in keys[1:]:
        k = compact(np.asarray(key, dtype=np.int64))
        acc = acc * (int(k.max()) + 1) + k
        if int(acc.max()) > _LOOKUP_LIMIT:
            acc = np.unique(acc, return_inverse=True)[1].astype(np.int64)
        else:
            acc = compact(acc)
    return acc


def compact(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Renumber non-negative integer codes densely from 0, keeping their order (a lookup
    table, not a sort: linear in the number of rows)."""
    if len(codes) == 0:
        return np.asarray(codes, dtype=np.int64)
    used = np.bincount(codes) > 0
    return (np.cumsum(used) - 1)[codes].astype(np.int64, copy=False)


def cluster_subset(
    cluster: NDArray[np.int64], keep_cluster: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Rows whose cluster is kept, their clusters renumbered 0..k-1, and the old code of
    each new one."""
    rows = keep_cluster[cluster]
    kept = cluster[rows]
    # Renumber by lookup (codes are bounded), not by sorting: O(n) on millions of rows.
    used = np.bincount(kept, minlength=len(keep_cluster)) > 0
    lookup = np.cumsum(used) - 1
    return rows, lookup[kept].astype(np.int64), np.nonzero(used)[0].astype(np.int64)
