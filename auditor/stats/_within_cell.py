"""The trip terms' effect on log money measured within cells: least squares on the units of
one cell (one worker's, or one segment's, units of one kind of order) from the cells' first
moments and the sums of products over all units, so that no effect of a cluster's group or of
a stratum can move it (``auditor.checks._money``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["normal_solution", "within_cell_coefficients"]


def within_cell_coefficients(
    n: NDArray[Any],
    sy: NDArray[Any],
    sz: NDArray[Any],
    szz_total: NDArray[Any],
    syz_total: NDArray[Any],
) -> NDArray[np.float64]:
    """Least-squares coefficients of the covariates on y within cells (one cluster in one
    stratum each), from the cells' counts ``n``, sums ``sy`` and ``sz`` (cells, k) and the
    sums over all units of ``z z'`` (k, k) and ``z y`` (k,).

    Within a cell the cluster and the stratum are fixed, so no effect of the cluster's group
    (nor of the stratum) can move these coefficients: the trip terms' effect on pay is
    measured on a worker's own orders at one place and time. Cells of one unit carry no
    within-cell variation. The coefficients are zero where a term does not vary within any
    cell (the system's least-squares solution)."""
    n = np.asarray(n, dtype=np.float64)
    sz = np.asarray(sz, dtype=np.float64).reshape(len(n), -1)
    k = sz.shape[1]
    if k == 0:
        return np.empty(0)
    scaled = sz / np.sqrt(np.where(n > 0, n, 1.0))[:, None]
    zz = np.asarray(szz_total, dtype=np.float64).reshape(k, k) - scaled.T @ scaled
    zy = np.asarray(syz_total, dtype=np.float64).reshape(k) - sz.T @ (
        np.asarray(sy, dtype=np.float64) / np.where(n > 0, n, 1.0)
    )
    return normal_solution(zz, zy)


def normal_solution(zz: NDArray[Any], zy: NDArray[Any]) -> NDArray[np.float64]:
    """The least-squares solution of the normal equations ``zz gamma = zy`` (symmetrised;
    the minimum-norm one where a term does not vary)."""
    zz = np.asarray(zz, dtype=np.float64)
    zz = (zz + zz.T) / 2
    return np.asarray(np.linalg.lstsq(zz, np.asarray(zy, np.float64), rcond=None)[0], np.float64)
