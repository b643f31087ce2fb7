"""Within-strata least squares from cell moments, with cluster-robust errors.

The model is ``y = a[stratum] + b' treat + c' z + e`` over units (orders, offers), with
``treat`` (group dummies) constant within a cluster (a worker). Units are summarised by
their first moments per cell of one cluster and one stratum (count ``n``, ``sum y``,
``sum z``) and their second moments per cluster (``sum y^2``, ``sum z z'``, ``sum y z``).
These are sufficient: the point estimate, the residual sums per cluster and the
cluster-robust (CR1) variance of the order-level fit follow exactly from them (a test
holds the result equal to statsmodels' ``WLS(...).fit(cov_type="cluster")`` with stratum
dummies). The engine computes them in two ``GROUP BY``s; at 10 M orders the cells are
about 1.5 M rows and the clusters 23,000.

Absorbing strata: with stratum means ``xbar_s``, ``ybar_s`` of the kept cells,
``sum_i x~ x~' = sum_c Sxx_c - sum_s N_s xbar_s xbar_s'``, and a cluster's score is
``sum_(i in g) x~ (y~ - x~' beta)``, again a function of its moments (raw second moments
of the cluster less corrections from its cells' first moments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CellMoments", "Fit", "normal_solution", "within_cell_coefficients"]


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
    """Moments of units: first moments per (cluster, stratum) cell, second moments per
    cluster.

    Every second moment enters the fit, its cluster scores and the residual sums only
    summed over a cluster's cells (the centring by stratum means is a first-moment
    correction), so the engine sums them per cluster, a small grouping, and only ``n``,
    ``sum y`` and ``sum z`` per cell, a large one.

    Args:
        n: units per cell (or their total weight).
        sy: sums of y per cell.
        sz: sums of each covariate per cell, shape (cells, k).
        stratum: stratum code per cell (0..S-1).
        cluster: cluster code per cell (0..G-1).
        syy: sums of y^2 per cluster, shape (G,).
        szz: sums of covariate products per cluster, shape (G, k, k).
        syz: sums of y times each covariate per cluster, shape (G, k).
    """

    def __init__(
        self,
        n: NDArray[Any],
        sy: NDArray[Any],
        sz: NDArray[Any],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
        *,
        syy: NDArray[Any],
        szz: NDArray[Any],
        syz: NDArray[Any],
    ) -> None:
        self.n = np.asarray(n, dtype=np.float64)
        self.sy = np.asarray(sy, dtype=np.float64)
        sz = np.asarray(sz, dtype=np.float64)
        m = len(self.n)
        self.syy = np.asarray(syy, dtype=np.float64)
        g = len(self.syy)
        k = sz.shape[1] if sz.ndim == 2 else (sz.size // m if m else 0)
        self.sz = sz.reshape(m, k)
        self.szz = np.asarray(szz, dtype=np.float64).reshape(g, k, k)
        self.syz = np.asarray(syz, dtype=np.float64).reshape(g, k)
        self.stratum = np.asarray(stratum, dtype=np.int64)
        self.cluster = np.asarray(cluster, dtype=np.int64)
        self.n_clusters = g
        if len(self.cluster) and int(self.cluster.max()) >= g:
            raise ValueError(f"cluster codes reach {int(self.cluster.max())}, but {g} clusters")
        self._cache: dict[str, Any] | None = None
        self._members: Any = None

    @classmethod
    def from_cells(
        cls,
        n: NDArray[Any],
        sy: NDArray[Any],
        syy: NDArray[Any],
        sz: NDArray[Any],
        szz: NDArray[Any],
        syz: NDArray[Any],
        stratum: NDArray[np.int64],
        cluster: NDArray[np.int64],
    ) -> CellMoments:
        """From second moments per cell (``syy`` (cells,), ``szz`` (cells, k, k), ``syz``
        (cells, k)), summed here per cluster."""
        cluster = np.asarray(cluster, dtype=np.int64)
        m = len(cluster)
        g = int(cluster.max()) + 1 if m else 0
        szz = np.asarray(szz, dtype=np.float64)
        syz = np.asarray(syz, dtype=np.float64)
        k = szz.shape[-1] if szz.ndim == 3 else 0
        by = lambda w: np.bincount(cluster, weights=w, minlength=g)  # noqa: E731
        szz_g = np.empty((g, k, k))
        for i in range(k):
            for j in range(k):
                szz_g[:, i, j] = by(szz[:, i, j])
        syz_g = np.column_stack([by(syz[:, j]) for j in range(k)]) if k else np.empty((g, 0))
        syy_g = by(np.asarray(syy, dtype=np.float64))
        return cls(n, sy, sz, stratum, cluster, syy=syy_g, szz=szz_g, syz=syz_g)

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
        return cls.from_cells(
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
        """The cells in ``rows``, with clusters renumbered as ``cluster``. ``rows`` must
        keep or drop whole clusters (second moments are per cluster)."""
        old_of_cell = self.cluster[rows]
        whole = np.bincount(self.cluster, minlength=self.n_clusters)
        kept = np.bincount(old_of_cell, minlength=self.n_clusters)
        if not np.all((kept == 0) | (kept == whole)):
            raise ValueError("a subset of cell moments must keep or drop whole clusters")
        g = int(cluster.max()) + 1 if len(cluster) else 0
        old = np.zeros(g, np.int64)
        old[cluster] = old_of_cell
        return CellMoments(
            self.n[rows],
            self.sy[rows],
            self.sz[rows],
            _dense(self.stratum[rows]),
            cluster,
            syy=self.syy[old],
            szz=self.szz[old],
            syz=self.syz[old],
        )

    def with_strata(self, stratum: NDArray[np.int64]) -> CellMoments:
        """The same cells with other stratum codes (coarser, or finer by cluster traits)."""
        out = CellMoments(
            self.n, self.sy, self.sz, _dense(stratum), self.cluster,
            syy=self.syy, szz=self.szz, syz=self.syz,
        )  # fmt: skip
        out._members = self._members  # the same clusters: the same incidence
        return out

    def without_covariates(self) -> CellMoments:
        """The same cells with no covariates (strata and groups only)."""
        m, g = len(self.n), self.n_clusters
        return CellMoments(
            self.n, self.sy, np.empty((m, 0)), self.stratum, self.cluster,
            syy=self.syy, szz=np.empty((g, 0, 0)), syz=np.empty((g, 0)),
        )  # fmt: skip

    def _by_cluster(
        self, values: NDArray[Any], weights: NDArray[Any] | None = None
    ) -> NDArray[np.float64]:
        """Sums per cluster of ``values`` (cells,) or (cells, j), each cell's row times its
        ``weights`` entry if given: (G,) or (G, j).

        A product with the cluster-by-cell incidence matrix (the weights as its entries),
        whose rows list each cluster's cells in cell order: the products and additions of
        ``np.bincount(cluster, weights * values[:, i])``, in the same order, but all
        columns in one pass and with no cells-by-columns temporary."""
        if self._members is None:
            m, g = len(self.cluster), self.n_clusters
            if m and bool(np.all(self.cluster[1:] >= self.cluster[:-1])):
                cells = np.arange(m)  # already grouped by cluster (as the engine sends them)
            else:
                cells = np.argsort(self.cluster, kind="stable")
            starts = np.zeros(g + 1, np.int64)
            np.cumsum(np.bincount(self.cluster, minlength=g), out=starts[1:])
            self._members = (cells, starts)
        from scipy.sparse import csr_array  # imported on first use (see stats._dist)

        cells, starts = self._members
        entries = np.ones(len(cells)) if weights is None else np.asarray(weights, np.float64)[cells]
        matrix = csr_array((entries, cells, starts), shape=(self.n_clusters, len(cells)))
        return np.asarray(matrix @ np.asarray(values, dtype=np.float64), dtype=np.float64)

    def _z_parts(self) -> dict[str, Any]:
        """What does not depend on group labels (cached): stratum means, the covariate
        block of the normal equations, overall and per cluster.

        Per cluster, ``sum x~ w~' = Sxw - sum_cells (sx wbar' + xbar (sw - n wbar)')``
        with ``xbar``, ``wbar`` the cell's stratum means: raw second moments of the
        cluster less first-moment corrections of its cells."""
        if self._cache is not None:
            return self._cache
        s_count = int(self.stratum.max()) + 1 if len(self.stratum) else 0
        big_n = np.bincount(self.stratum, weights=self.n, minlength=s_count)
        safe = np.where(big_n > 0, big_n, 1.0)
        k, g, n = self.k, self.n_clusters, self.n
        zsum = np.column_stack(
            [np.bincount(self.stratum, weights=self.sz[:, j], minlength=s_count) for j in range(k)]
        ) if k else np.empty((s_count, 0))  # fmt: skip
        zbar = zsum / safe[:, None]
        ybar = np.bincount(self.stratum, weights=self.sy, minlength=s_count) / safe
        zb, yb = zbar[self.stratum], ybar[self.stratum]
        e_z = self.sz - n[:, None] * zb
        e_y = self.sy - n * yb
        # sum_cell (y - yb)(z - zb) = syz - [sy zb + yb e_z]; the bracket is per cell.
        b_z_g = self.syz - (self._by_cluster(zb, self.sy) + self._by_cluster(e_z, yb)).reshape(g, k)
        # Summed over all clusters, the corrections are sum_s N_s zbar_s zbar_s' (the
        # cross term sum_s zbar_s (sum of e_z in s)' is zero): a product of S x k arrays.
        a_zz = self.szz.sum(axis=0) - zsum.T @ zbar
        a_zz = (a_zz + a_zz.T) / 2
        self._cache = {
            "big_n": big_n,
            "safe": safe,
            "zb": zb,
            "yb": yb,
            "e_z": e_z,
            "e_y": e_y,
            "b_z_g": b_z_g,
            "a_zz": a_zz,
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
        # The per-cluster sums the scores and information need, as weighted sums of the
        # cells' columns (no cells-by-columns temporaries): for the treat columns d
        # (weighted by resid_t), for the covariates e_z d_bt and the cells' part of
        # (sum z~ z~') b_z, and n d^2 for the information.
        scores = np.empty((g, p))
        scores[:, :q] = self._by_cluster(d, resid_t).reshape(g, q)
        if k:
            cells_part = self._by_cluster(self.sz, zp["zb"] @ b_z) + self._by_cluster(
                zp["zb"], e_z @ b_z
            )
            a_zz_b = self.szz @ b_z - cells_part.reshape(g, k)
            scores[:, q:] = zp["b_z_g"] - self._by_cluster(e_z, d_bt).reshape(g, k) - a_zz_b
        info = self._by_cluster(d * d, n).reshape(g, q)
        clusters = int(np.count_nonzero(self._by_cluster(n)))
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
        n, zb, yb = self.n, zp["zb"], zp["yb"]
        sum_r = zp["e_y"] - (zp["e_z"] @ gamma if self.k else 0.0)
        # sum (y - yb)^2 = syy - sum_cells yb (sy + e_y); likewise for z'gamma.
        syy_t = self.syy - self._by_cluster(yb * (self.sy + zp["e_y"]))
        if self.k:
            s_g = self.sz @ gamma
            z_g = zb @ gamma
            quad = np.einsum("gij,i,j->g", self.szz, gamma, gamma) - self._by_cluster(
                z_g * (2 * s_g - n * z_g)
            )
            sum_r2 = syy_t - 2 * (zp["b_z_g"] @ gamma) + quad
        else:
            sum_r2 = syy_t
        return self._by_cluster(sum_r), sum_r2

    def covariate_fit(self) -> NDArray[np.float64]:
        """Coefficients of the covariates alone within strata (no group term)."""
        if self.k == 0:
            return np.empty(0)
        zp = self._z_parts()
        return np.linalg.lstsq(zp["a_zz"], zp["b_z_tot"], rcond=None)[0]

    def n_strata(self) -> int:
        return int(np.count_nonzero(np.bincount(self.stratum, weights=self.n)))

    def units_of_cluster(self) -> NDArray[Any]:
        return self._by_cluster(self.n)


def _dense(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    if len(codes) == 0:
        return np.asarray(codes, dtype=np.int64)
    used = np.bincount(codes) > 0
    return (np.cumsum(used) - 1)[codes].astype(np.int64, copy=False)


def t_of(fit: Fit, j: int = 0) -> tuple[float, float]:
    """Coefficient ``j`` and its standard error."""
    return float(fit.beta[j]), float(math.sqrt(max(fit.cov[j, j], 0.0)))


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
