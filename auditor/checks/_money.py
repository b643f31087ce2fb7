"""Money for comparable work (pay, offered pay, prices), summed in the engine per cell of one
cluster (a worker, or a customer) in one stratum.

Money comparisons rest on ratios of means: a group's money over what the same work pays
(``auditor.stats._poisson``, a pseudo-likelihood with the trip terms as an offset). What the
work pays is ``m = exp(z' gamma)``, ``z`` the trip terms (``_covariates``) and ``gamma`` their
effect on log money measured *within cells* (one worker's, or one segment's, units of one
kind of order: zone, service, day type and hour, ``_strata``;
``auditor.stats.within_cell_coefficients``): no worker-level group effect, and no place or
hour, can move it, so the offset neither absorbs a group gap nor lends it one.

Two passes over the units:

1. per gamma cell (one worker's units of one kind) the count and sums of log money and of
   each term, and the sums of products over all units (one row): gamma;
2. per cell: units, money, ``m``, log money and ``z' gamma`` (and, for FEE-05, the sums of
   ``y / m`` and its square), returned sorted by cluster and stratum; with what the variance
   needs to count gamma's own noise (a two-step sandwich: ``influence``).

Every sum is exact (``auditor.engine.exact_sum``, ``whole_sum``), so reruns and row orders
give the same bits. Units with no positive money, or with a missing or non-positive trip
covariate in use, are counted and left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._covariates import covariate_terms, positive_log, term_names
from auditor.engine import SUM_SCALE, exact_sum, whole_sum
from auditor.stats import within_cell_coefficients

__all__ = ["MoneyCells", "gamma_cells", "money_cells", "trip_effect", "within_cell_fit"]


@dataclass(frozen=True, slots=True, eq=False)
class MoneyCells:
    """Money of comparable work per cell of one cluster in one stratum, in cluster then
    stratum order.

    Attributes:
        cluster: cluster code per cell (0..G-1).
        stratum: work stratum code per cell.
        n: units per cell.
        money: sum of money per cell.
        expected: sum of ``m``, what the cell's work pays relative to the average trip (the
            offset of the ratio of means).
        log_money: sum of log money per cell.
        trip_effect: sum of ``z' gamma`` (less its mean) per cell.
        ratio_sum: sum of ``y / m`` per cell (None unless asked for).
        ratio_squares: sum of ``(y / m)^2`` per cell (None unless asked for).
        cluster_ids: the cluster key of each code.
        terms: names of the trip terms.
        gamma: the terms' within-cell coefficients on log money.
        centre: the mean of ``z' gamma`` over the units (subtracted from the trips' effect).
        offset_gradient: per cell, ``sum m z`` (cells x k): how the expected money moves
            with gamma.
        trip_gradient: per cell, ``sum z`` (cells x k): how the trips' effect moves with
            gamma.
        influence: per cluster, its units' influence on gamma, ``A^-1 sum z~ e~`` (clusters
            x k, A the within-cell normal matrix): the two-step variance counts gamma's
            noise with it (``auditor.stats._cr2``).
        units: units kept; ``excluded``: units left out (no positive money or covariate).
        keys: the values of the ``extra_keys`` per cell.
        units_with_keys: units (kept or not) with a value of every extra key.
        excluded_workers: distinct workers of the units left out (a count of them is
            published only where these reach ``[report] min_cell_workers``).
        keyed_excluded_workers: the same, of the units left out that have every extra key.
    """

    cluster: NDArray[np.int64]
    stratum: NDArray[np.int64]
    n: NDArray[np.float64]
    money: NDArray[np.float64]
    expected: NDArray[np.float64]
    log_money: NDArray[np.float64]
    trip_effect: NDArray[np.float64]
    ratio_sum: NDArray[np.float64] | None
    ratio_squares: NDArray[np.float64] | None
    cluster_ids: NDArray[Any]
    terms: tuple[str, ...]
    gamma: NDArray[np.float64]
    centre: float
    offset_gradient: NDArray[Any]
    trip_gradient: NDArray[Any]
    influence: NDArray[Any]
    units: int
    excluded: int
    keys: Mapping[str, pa.ChunkedArray] = field(default_factory=dict)
    units_with_keys: int = 0
    excluded_workers: int = 0
    keyed_excluded_workers: int = 0

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_ids)

    def per_cluster(self, values: NDArray[Any]) -> NDArray[Any]:
        return np.bincount(self.cluster, weights=values, minlength=self.n_clusters)


def money_cells(
    units: Table,
    cluster: str,
    used: tuple[str, ...],
    *,
    ratios: bool = False,
    cluster_count: int | None = None,
    gamma_by: tuple[str, ...] | None = None,
    extra_keys: tuple[str, ...] = (),
    worker: str | None = None,
) -> MoneyCells:
    """Money cells of ``units`` (columns ``y``: money, ``stratum``, ``kind``, ``cluster`` and
    the ``used`` trip covariates). ``cluster`` holds integer codes 0..``cluster_count``-1 or
    string keys; ``ratios`` adds FEE-05's sums of ``y / m``. The trip terms' effect is measured
    within cells of ``gamma_by`` (default: the cluster and its ``kind`` of order, ``_strata``;
    PRC-01: the segment and the kind, as a customer has few orders; never NULL);
    ``extra_keys`` split the returned cells further (PRC-01: the segment, which may vary
    within a customer)."""
    names = term_names(used)
    k = len(names)
    log_y = positive_log(units.y)
    ok = log_y.notnull() & units.stratum.notnull()
    terms = covariate_terms(units, used)
    for term in terms.values():
        ok &= term.notnull()
    gamma_keys = list(gamma_by or (cluster, "kind"))
    keys = dict.fromkeys([cluster, "stratum", *extra_keys, *gamma_keys])
    z = units.filter(ok).select(*keys, y=units.y.cast("float64"), ly=log_y, **terms)
    valid = ibis.literal(True)
    for key in extra_keys:
        valid &= units[key].notnull()
    who = units[worker or cluster]
    counted = (
        units.aggregate(
            total=units.count(),
            with_keys=units.count(where=valid),
            excluded_workers=who.nunique(where=~ok),
            keyed_excluded_workers=who.nunique(where=~ok & valid),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    total, with_keys = int(counted["total"]), int(counted["with_keys"] or 0)
    first = gamma_cells(z, gamma_keys, names)
    gamma, inverse, centre = within_cell_fit(z, first, names)
    # Pass 2: the money cells, with the trips' effect z' gamma (less its mean) per unit, and
    # what the two-step variance needs: per cell sum m z and sum z (the offset's gradients
    # in gamma) and sum z~ e~ (the units' scores for gamma, z and log money less their
    # gamma cell's means, e~ the within-cell residual).
    means = pa.table(
        {key: first[key] for key in gamma_keys}
        | {"_ybar": pc.divide(first["sy"], first["n"])}
        | {f"_zbar{j}": pc.divide(first[f"s{j}"], first["n"]) for j in range(k)}
    )
    joined = z.inner_join(ibis.memtable(means), gamma_keys)
    effect = trip_effect(joined, names, gamma, centre)
    m = effect.exp()
    resid: Any = joined.ly - joined._ybar
    for j, t in enumerate(names):
        resid = resid - (joined[t] - joined[f"_zbar{j}"]) * float(gamma[j])
    aggs: dict[str, Any] = {
        "n": joined.count(),
        "money": exact_sum(joined.y),
        "expected": exact_sum(m),
        "log_money": exact_sum(joined.ly),
        "trip_effect": exact_sum(effect),
    }
    for j, t in enumerate(names):
        aggs[f"mz{j}"] = exact_sum(m * joined[t])
        aggs[f"z{j}"] = exact_sum(joined[t])
        aggs[f"ze{j}"] = exact_sum((joined[t] - joined[f"_zbar{j}"]) * resid)
    if ratios:
        aggs["ratio_sum"] = exact_sum(joined.y / m)
        aggs["ratio_squares"] = exact_sum((joined.y / m) * (joined.y / m))
    by = [cluster, "stratum", *extra_keys]
    table = joined.group_by(by).aggregate(**aggs).order_by(by).to_pyarrow()
    cells = _cells_from(
        table, cluster, names, gamma, inverse, centre, total, ratios, cluster_count, extra_keys
    )
    return dataclasses.replace(
        cells,
        units_with_keys=with_keys,
        excluded_workers=int(counted["excluded_workers"] or 0),
        keyed_excluded_workers=int(counted["keyed_excluded_workers"] or 0),
    )


def gamma_cells(z: Table, keys: list[str], names: tuple[str, ...]) -> pa.Table:
    """Pass 1: per cell of ``keys`` (one cluster's, or segment's, units of one kind), the
    count and the sums of log money and of each term, in the keys' order."""
    first = z.group_by(keys).aggregate(
        n=z.ly.count(),
        sy=exact_sum(z.ly),
        **{f"s{j}": exact_sum(z[t]) for j, t in enumerate(names)},
    )
    return first.order_by(keys).to_pyarrow()


def within_cell_fit(
    z: Table, first: pa.Table, names: tuple[str, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """The trip terms' within-cell coefficients, the inverse of their within-cell normal
    matrix, and the mean of ``z' gamma`` over the units: from the gamma cells' sums and the
    sums of products over all units (exact, in one engine row)."""
    k = len(names)
    if not k or first.num_rows == 0:
        # No unit with every term (e.g. no completed order with a positive trip time): no
        # trip effect to measure; the cells are empty and every unit is counted excluded.
        return np.zeros(k), np.zeros((k, k)), 0.0
    sums: dict[str, Any] = {"kept": z.count()}
    for i, a in enumerate(names):
        sums[f"g{i}"] = whole_sum(z[a] * z.ly)
        sums[f"m{i}"] = whole_sum(z[a])
        for j in range(i, k):
            sums[f"g{i}_{j}"] = whole_sum(z[a] * z[names[j]])
    row = z.aggregate(**sums).to_pyarrow().to_pylist()[0]
    scale = int(SUM_SCALE)
    num = lambda v: int(v or 0) / scale  # noqa: E731
    zz = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            zz[i, j] = zz[j, i] = num(row[f"g{i}_{j}"])
    zy = np.array([num(row[f"g{i}"]) for i in range(k)])
    n = first["n"].to_numpy().astype(np.float64)
    sz = np.column_stack([first[f"s{j}"].to_numpy().astype(np.float64) for j in range(k)])
    sy = first["sy"].to_numpy().astype(np.float64)
    gamma = within_cell_coefficients(n, sy, sz, zz, zy)
    scaled = sz / np.sqrt(n)[:, None]
    inverse = np.linalg.pinv((zz - scaled.T @ scaled + (zz - scaled.T @ scaled).T) / 2)
    mean_z = np.array([num(row[f"m{i}"]) for i in range(k)]) / int(row["kept"])
    return gamma, inverse, float(mean_z @ gamma)


def trip_effect(units: Table, names: tuple[str, ...], gamma: Any, centre: float) -> Any:
    """``z' gamma`` less ``centre``, per unit of ``units`` (which carry the term columns and
    the money ``y``)."""
    effect: Any = units.y.cast("float64") * 0.0 - centre
    for j, t in enumerate(names):
        effect = effect + units[t] * float(gamma[j])
    return effect


def _cells_from(
    table: pa.Table,
    cluster: str,
    names: tuple[str, ...],
    gamma: NDArray[np.float64],
    inverse: NDArray[np.float64],
    centre: float,
    total: int,
    ratios: bool,
    cluster_count: int | None,
    extra_keys: tuple[str, ...],
) -> MoneyCells:
    m = table.num_rows
    col = lambda c: table[c].to_numpy().astype(np.float64) if m else np.empty(0)  # noqa: E731
    keys = table[cluster]
    if pa.types.is_integer(keys.type):
        codes = keys.to_numpy().astype(np.int64) if m else np.empty(0, np.int64)
        count = cluster_count if cluster_count is not None else (int(codes.max()) + 1 if m else 0)
        ids: NDArray[Any] = np.arange(count)
    elif m:
        encoded = pc.dictionary_encode(keys.combine_chunks())
        codes = np.asarray(encoded.indices, dtype=np.int64)
        ids = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    else:
        codes, ids = np.empty(0, np.int64), np.empty(0, dtype=object)
    n = col("n")
    kept = int(n.sum())
    k = len(names)
    stack = lambda p: (  # noqa: E731
        np.column_stack([col(f"{p}{j}") for j in range(k)]) if k else np.empty((m, 0))
    )
    g = len(ids)
    scores = np.column_stack(
        [np.bincount(codes, weights=col(f"ze{j}"), minlength=g) for j in range(k)]
    ) if k else np.empty((g, 0))  # fmt: skip
    stratum = table["stratum"].to_numpy().astype(np.int64) if m else np.empty(0, np.int64)
    return MoneyCells(
        cluster=codes,
        stratum=stratum,
        n=n,
        money=col("money"),
        expected=col("expected"),
        log_money=col("log_money"),
        trip_effect=col("trip_effect"),
        ratio_sum=col("ratio_sum") if ratios else None,
        ratio_squares=col("ratio_squares") if ratios else None,
        cluster_ids=ids,
        terms=names,
        gamma=np.asarray(gamma, dtype=np.float64),
        centre=centre,
        offset_gradient=stack("mz"),
        trip_gradient=stack("z"),
        influence=scores @ inverse if k else scores,
        units=kept,
        excluded=total - kept,
        keys={key: table[key] for key in extra_keys},
    )
