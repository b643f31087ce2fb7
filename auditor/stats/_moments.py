"""Within-strata least squares from cell moments, with cluster-robust errors.

The model is ``y = a[stratum] + b' treat + c' z + e`` over units (orders, offers), with
``treat`` (group dummies) constant within a cluster (a worker). Units are summarised in
cells of one cluster and one stratum by their moments: count ``n``, ``sum y``,
``sum y^2``, ``sum z``, ``sum z z'`` and ``sum y z``. These are sufficient: the point
estimate, the residual sums per cluster and the cluster-robust (CR1) variance of the
order-level fit follow exactly from them (a test holds the result equal to statsmodels'
``WLS(...).fit(cov_type="cluster")`` with stratum dummies). The engine computes the
moments in one ``GROUP BY``; at 10 M orders the cells are about 1.5 M rows.

Absorbing strata: with stratum means ``xbar_s``, ``ybar_s`` of the kept cells,
``sum_i x~ x~' = sum_c Sxx_c - sum_s N_s xbar_s xbar_s'``, and a cell's share of a
cluster's score is ``sum_(i in c) x~ (y~ - x~' beta)``, again a function of its moments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CellMoments", "Fit"]


@dataclass(frozen=True, slots=True)
class Fit:
    """A within-strata least-squares fit.

    Attributes:
        beta: coefficients of ``[treat columns..., z columns...]``.
        cov: their CR1 cluster-robust covariance, ``G/(G-1) (N-1)/(N-K)`` with K counting
            the absorbed strata.
        information: per cluster and treat column, the cluster's ``sum x~^2`` (its share
            of the information on that effect), shape (G, n_treat).
        n_clusters: clusters with data.
        n_units: units (sum of the cell counts).
    """

    beta: NDArray[np.float64]
    cov: NDArray[np.float64]
    information: NDArray[Any]
    n_clusters: int
    n_units: float


class CellMoments:
    """Moments of units per (cluster, stratum) cell.

    Args:
        n: units per cell (or their total weight).
        sy, syy: sums of y and y^2 per cell.
        sz: sums of each covariate, shape (cells, k).
        szz: sums of covariate products, shape (cells, k, k).
        syz: sums of y times each covariate, shape (cells, k).
        stratum: stratum code per cell (0..S-1).
        cluster: cluster code per cell (0..G-1).
    """

    def __init__(
        self,
        n: NDArray[Any],
        sy: NDArray[Any],
        syy: NDArray[Any],
        sz: NDArray[Any],
        szz: NDArray[Any],
        syz: NDArray[Any],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
    ) -> None:
        self.n = np.asarray(n, dtype=np.float64)
        self.sy = np.asarray(sy, dtype=np.float64)
        self.syy = np.asarray(syy, dtype=np.float64)
        sz = np.asarray(sz, dtype=np.float64)
        m = len(self.n)
        k = sz.shape[1] if sz.ndim == 2 else (sz.size // m if m else 0)
        self.sz = sz.reshape(m, k)
        self.szz = np.asarray(szz, dtype=np.float64).reshape(m, k, k)
        self.syz = np.asarray(syz, dtype=np.float64).reshape(m, k)
        self.stratum = np.asarray(stratum, dtype=np.int64)
        self.cluster = np.asarray(cluster, dtype=np.int64)
        self.n_clusters = int(self.cluster.max()) + 1 if len(self.cluster) else 0
        self._cache: dict[str, Any] | None = None

    @classmethod
    def from_units(
        cls,
        y: NDArray[Any],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
        z: NDArray[Any] | None = None,
    ) -> CellMoments:
        """Cells of one unit each (exact; for small data and tests)."""
        y = np.asarray(y, dtype=np.float64)
        z = np.empty((len(y), 0)) if z is None else np.asarray(z, dtype=np.float64)
        return cls(
            n=np.ones(len(y)),
            sy=y,
            syy=y * y,
            sz=z,
            szz=np.einsum("ij,ik->ijk", z, z),
            syz=z * y[:, None],
            stratum=stratum,
            cluster=cluster,
        )

    @property
    def k(self) -> int:
        return int(self.sz.shape[1])

    def subset(self, rows: NDArray[np.bool_], cluster: NDArray[np.int64]) -> CellMoments:
        """The cells in ``rows``, with clusters renumbered as ``cluster``."""
        return CellMoments(
            self.n[rows],
            self.sy[rows],
            self.syy[rows],
            self.sz[rows],
            self.szz[rows],
            self.syz[rows],
            _dense(self.stratum[rows]),
            cluster,
        )

    def with_strata(self, stratum: NDArray[np.int64]) -> CellMoments:
        """The same cells with other stratum codes (coarser, or finer by cluster traits)."""
        return CellMoments(
            self.n, self.sy, self.syy, self.sz, self.szz, self.syz, _dense(stratum), self.cluster
        )

    def without_covariates(self) -> CellMoments:
        """The same cells with no covariates (strata and groups only)."""
        m = len(self.n)
        return CellMoments(
            self.n,
            self.sy,
            self.syy,
            np.empty((m, 0)),
            np.empty((m, 0, 0)),
            np.empty((m, 0)),
            self.stratum,
            self.cluster,
        )

    def _z_parts(self) -> dict[str, Any]:
        """What does not depend on group labels (cached): stratum means, the covariate
        block of the normal equations, overall and per cluster."""
        if self._cache is not None:
            return self._cache
        s_count = int(self.stratum.max()) + 1 if len(self.stratum) else 0
        big_n = np.bincount(self.stratum, weights=self.n, minlength=s_count)
        safe = np.where(big_n > 0, big_n, 1.0)
        k, g, n = self.k, self.n_clusters, self.n
        zbar = np.column_stack(
            [np.bincount(self.stratum, weights=self.sz[:, j], minlength=s_count) for j in range(k)]
        ) / safe[:, None] if k else np.empty((s_count, 0))  # fmt: skip
        ybar = np.bincount(self.stratum, weights=self.sy, minlength=s_count) / safe
        zb, yb = zbar[self.stratum], ybar[self.stratum]
        e_z = self.sz - n[:, None] * zb
        e_y = self.sy - n * yb
        b_z = self.syz - zb * self.sy[:, None] - self.sz * yb[:, None] + (n * yb)[:, None] * zb
        a_zz_g = np.empty((g, k, k))
        for i in range(k):
            for j in range(i, k):
                a_ij = (
                    self.szz[:, i, j] - self.sz[:, i] * zb[:, j] - zb[:, i] * self.sz[:, j]
                    + n * zb[:, i] * zb[:, j]
                )  # fmt: skip
                a_zz_g[:, i, j] = a_zz_g[:, j, i] = np.bincount(
                    self.cluster, weights=a_ij, minlength=g
                )
        b_z_g = np.column_stack(
            [np.bincount(self.cluster, weights=b_z[:, j], minlength=g) for j in range(k)]
        ) if k else np.empty((g, 0))  # fmt: skip
        self._cache = {
            "big_n": big_n,
            "safe": safe,
            "zb": zb,
            "yb": yb,
            "e_z": e_z,
            "e_y": e_y,
            "b_z": b_z,
            "a_zz_g": a_zz_g,
            "b_z_g": b_z_g,
            "a_zz": a_zz_g.sum(axis=0),
            "b_z_tot": b_z_g.sum(axis=0),
            "strata": int(np.count_nonzero(big_n)),
        }
        return self._cache

    def fit(self, treat: NDArray[Any]) -> Fit | None:
        """Least squares of y on ``treat`` (per cell, shape (cells,) or (cells, q)) and the
        covariates, within strata; None if the design is singular."""
        zp = self._z_parts()
        t = np.asarray(treat, dtype=np.float64).reshape(len(self.n), -1)
        q, k, n, g = t.shape[1], self.k, self.n, self.n_clusters
        s_count = len(zp["big_n"])
        tbar = np.column_stack(
            [np.bincount(self.stratum, weights=n * t[:, j], minlength=s_count) for j in range(q)]
        ) / zp["safe"][:, None]  # fmt: skip
        d = t - tbar[self.stratum]
        e_z, e_y = zp["e_z"], zp["e_y"]
        p = q + k
        xtx = self._xtx(d, zp)
        xty = np.concatenate([d.T @ e_y, zp["b_z_tot"]])
        if not np.isfinite(xtx).all() or np.linalg.matrix_rank(xtx) < p:
            return None
        bread = np.linalg.inv(xtx)
        beta = bread @ xty
        b_t, b_z = beta[:q], beta[q:]
        d_bt = d @ b_t
        resid_t = e_y - n * d_bt - e_z @ b_z
        scores = np.empty((g, p))
        for j in range(q):
            scores[:, j] = np.bincount(self.cluster, weights=d[:, j] * resid_t, minlength=g)
        for j in range(k):
            scores[:, q + j] = np.bincount(self.cluster, weights=e_z[:, j] * d_bt, minlength=g)
        if k:
            scores[:, q:] = zp["b_z_g"] - scores[:, q:] - zp["a_zz_g"] @ b_z
        info = np.column_stack(
            [np.bincount(self.cluster, weights=n * d[:, j] ** 2, minlength=g) for j in range(q)]
        )
        clusters = int(np.count_nonzero(np.bincount(self.cluster, weights=n, minlength=g)))
        units = float(n.sum())
        correction = clusters / max(clusters - 1, 1) * (units - 1) / max(
            units - p - zp["strata"], 1
        )  # fmt: skip
        cov = bread @ (scores.T @ scores) @ bread * correction
        return Fit(beta, cov, info, clusters, units)

    def _xtx(self, d: NDArray[np.float64], zp: dict[str, Any]) -> NDArray[np.float64]:
        q, k = d.shape[1], self.k
        xtx = np.empty((q + k, q + k))
        xtx[:q, :q] = (d * self.n[:, None]).T @ d
        xtx[:q, q:] = d.T @ zp["e_z"]
        xtx[q:, :q] = xtx[:q, q:].T
        xtx[q:, q:] = zp["a_zz"]
        return xtx

    def normal_matrix(self, treat: NDArray[Any]) -> NDArray[np.float64]:
        """``X~'X~`` of ``[treat, z]`` within strata (the inverse of the fit's bread)."""
        zp = self._z_parts()
        t = np.asarray(treat, dtype=np.float64).reshape(len(self.n), -1)
        s_count = len(zp["big_n"])
        tbar = np.column_stack(
            [
                np.bincount(self.stratum, weights=self.n * t[:, j], minlength=s_count)
                for j in range(t.shape[1])
            ]
        ) / zp["safe"][:, None]  # fmt: skip
        return self._xtx(t - tbar[self.stratum], zp)

    def residual_sums(self, gamma: NDArray[np.float64]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Per cluster: sum and sum of squares of the within-strata residuals
        ``y~ - z~' gamma`` (no group term)."""
        zp = self._z_parts()
        n, zb, yb, g = self.n, zp["zb"], zp["yb"], self.n_clusters
        sum_r = zp["e_y"] - (zp["e_z"] @ gamma if self.k else 0.0)
        syy_t = self.syy - 2 * yb * self.sy + n * yb * yb
        if self.k:
            s_g = self.sz @ gamma
            z_g = zb @ gamma
            quad = np.einsum("cij,i,j->c", self.szz, gamma, gamma) - 2 * s_g * z_g + n * z_g**2
            sum_r2 = syy_t - 2 * (zp["b_z"] @ gamma) + quad
        else:
            sum_r2 = syy_t
        return (
            np.bincount(self.cluster, weights=sum_r, minlength=g),
            np.bincount(self.cluster, weights=sum_r2, minlength=g),
        )

    def covariate_fit(self) -> NDArray[np.float64]:
        """Coefficients of the covariates alone within strata (no group term)."""
        if self.k == 0:
            return np.empty(0)
        zp = self._z_parts()
        return np.linalg.lstsq(zp["a_zz"], zp["b_z_tot"], rcond=None)[0]

    def n_strata(self) -> int:
        return int(np.count_nonzero(np.bincount(self.stratum, weights=self.n)))

    def units_of_cluster(self) -> NDArray[Any]:
        return np.bincount(self.cluster, weights=self.n, minlength=self.n_clusters)


def _dense(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    if len(codes) == 0:
        return np.asarray(codes, dtype=np.int64)
    used = np.bincount(codes) > 0
    return (np.cumsum(used) - 1)[codes].astype(np.int64)


def t_of(fit: Fit, j: int = 0) -> tuple[float, float]:
    """Coefficient ``j`` and its standard error."""
    return float(fit.beta[j]), float(math.sqrt(max(fit.cov[j, j], 0.0)))
