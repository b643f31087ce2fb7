"""Comparable work: the strata and trip covariates that pay and price comparisons share,
summarised in the engine as cell moments.

Two units (orders, offers) are comparable when they are of the same service, in the same
zone, on the same kind of day (weekday or weekend) and in the same clock hour (the
stratum); the remaining difference in distance and trip time (pickup to dropoff; engaged
time where pickup is missing) is taken up by a quadratic in their logs. Outcomes are
compared as logs, so effects are ratios of geometric means for the same work.

The engine groups the units by cluster (worker or customer) and stratum and sums the moments
the least-squares fit needs (``auditor.stats.CellMoments``): first moments per cell and
second moments per cluster, in two ``GROUP BY``s over the units, and the statistics run
on the cells (about 1.5 M at 10 M orders).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._codes import strata
from auditor.engine import Engine
from auditor.stats import CellMoments

__all__ = [
    "COVARIATES",
    "CellTable",
    "StratumCodes",
    "WorkCells",
    "cell_table",
    "covariate_terms",
    "exact_sum",
    "few_cluster_cells",
    "order_covariates",
    "positive_log",
    "scaled_sum",
    "stratum_codes",
    "usable_covariates",
    "whole_sum",
    "with_stratum_means",
    "work_cells",
]

COVARIATES = ("distance_km", "trip_minutes")
"""Trip covariates, used where the package has them (logs, squares and product)."""


@dataclass(frozen=True, slots=True, eq=False)
class WorkCells:
    """Cell moments of comparable work.

    Attributes:
        cells: moments per (cluster, stratum) cell; strata are service x zone x day type x
            hour.
        keys: per cell, integer codes of ``zone``, ``service``, ``weekend``, ``hour``.
        cluster_ids: the cluster key of each cluster code (worker code or customer ID).
        terms: names of the covariate terms in the order of ``cells`` columns.
        excluded: units left out for a missing or non-positive outcome or covariate.
        units: units kept.
        values: the value behind each code of ``zone`` and ``service``.
    """

    cells: CellMoments
    keys: dict[str, NDArray[np.int64]]
    cluster_ids: NDArray[Any]
    terms: tuple[str, ...]
    excluded: int
    units: int
    values: dict[str, list[Any]]


SUM_SCALE = 2.0**26
"""Each summed term is rounded to a multiple of ``1 / SUM_SCALE`` (about 1.5e-8) and the
rounded values, integers once scaled, are summed as doubles. Integers below 2**53 add
exactly in a double, in any order, so the sum does not depend on the order the engine's
threads add partial sums in, and reruns give byte-identical findings. (Plain double sums
differ in their last bits from run to run, which the demeaning can lift into the 12th
digit of an estimate.) Exact while a group's sum of |term| stays below 2**53 / SUM_SCALE,
about 1.3e8: terms are logs of money, distances and minutes, to the fourth power at most
(under about 1,000), so a group would need over 100,000 units to leave that range. The
groups are cells, and workers or customers for the second moments (``work_cells``). This
replaces decimal sums, which were exact too but cost about 2.5 times as much in the
engine's grouping."""


@ibis.udf.scalar.builtin(name="round")
def _round(value: float) -> float:  # type: ignore[empty-body]
    """The engine's one-argument ROUND (half away from zero), kept a double. Ibis'
    ``round(0)`` compiles to ``CAST(ROUND(x, 0) AS BIGINT)``: the same values, but a
    quarter slower over the 15 sums of a moment grouping, and an error past 2**63."""


def exact_sum(value: Any) -> Any:
    """Order-independent sum of a float expression (see ``SUM_SCALE``), as a float."""
    return scaled_sum(value) / SUM_SCALE


def scaled_sum(value: Any) -> Any:
    """``SUM_SCALE`` times :func:`exact_sum`: an integer, held in a double (exact below
    2**53), to be cast to an integer type for exact products and sums."""
    return _round(value * SUM_SCALE).sum()


def whole_sum(value: Any) -> Any:
    """Order-independent sum of ``SUM_SCALE * value``, each term rounded to an integer, as a
    38-digit integer (a decimal). Unlike ``exact_sum``, exact however large the sum: DuckDB
    adds 64-bit integers in 128 bits. Each term must stay below 2**63 / SUM_SCALE (about
    1.4e11) in magnitude; a larger one stops the query with a conversion error rather
    than wrap. (An engine that adds 64-bit integers in 64 bits, as Spark does, needs the
    cast to a decimal before the sum, at about twice the cost.)"""
    return _round(value * SUM_SCALE).cast("int64").sum().cast(dt.Decimal(38, 0))


def usable_covariates(orders: Table) -> tuple[str, ...]:
    """The trip covariates with at least one positive value in ``orders`` (others are
    dropped from every design)."""
    counts = orders.aggregate(
        **{c: (orders[c] > 0).fill_null(False).cast("int64").sum() for c in COVARIATES}
    ).execute()
    return tuple(c for c in COVARIATES if int(counts[c].iloc[0] or 0) > 0)


def positive_log(value: Any) -> Any:
    """The natural log of ``value`` as a double; NULL where it is missing or not positive
    (the engine refuses the log of a negative number)."""
    return ibis.ifelse(value > 0, value.cast("float64"), ibis.null("float64")).log()


def covariate_terms(units: Table, used: tuple[str, ...]) -> dict[str, Any]:
    """The design terms: logs of the used covariates, their squares and their product
    (NULL where a covariate is missing or not positive)."""
    logs = {f"log_{c}": positive_log(units[c]) for c in used}
    terms = dict(logs)
    for name, value in logs.items():
        terms[f"{name}_sq"] = value * value
    if len(logs) == 2:
        a, b = logs.values()
        terms["log_product"] = a * b
    return terms


@dataclass(frozen=True, slots=True, eq=False)
class CellTable:
    """Every moment of the units summed per cell of ``keys`` (one grouping), in the
    order of ``keys``; for clusters with millions of units (services, segments), whose
    second moments would leave the exact range if summed per cluster in the engine.

    Attributes:
        table: one row per cell: the keys, ``n_all``, ``n``, ``sy``, ``sz_i``, ``syy``,
            ``syz_i`` and the distinct ``szz_i_j``.
        keys: the grouping keys: ``zone``, ``service``, ``weekend``, ``hour`` and others
            (e.g. a customer segment).
        terms: names of the covariate terms.
        product_sum: the ``szz`` column holding each product of two terms.
    """

    table: pa.Table
    keys: tuple[str, ...]
    terms: tuple[str, ...]
    product_sum: dict[tuple[int, int], str]


def _moment_sums(
    units: Table, by: list[str], used: tuple[str, ...]
) -> tuple[Table, dict[str, Any], dict[str, Any], list[str], dict[tuple[int, int], str]]:
    """The units' moment terms (the outcome and the covariate terms, NULL where a unit is
    left out) and the engine sums of their first and second moments."""
    ok = units.y.notnull() & ~units.y.isinf() & ~units.y.isnan()
    for c in used:
        ok &= (units[c] > 0).fill_null(False)
    # Step 1: the outcome and the logs, NULL where the unit is left out (plain SUMs then
    # skip it); step 2: squares and products of those columns; step 3: the groupings.
    logs = {
        f"log_{c}": ibis.ifelse(ok, units[c].cast("float64"), ibis.null("float64")).log()
        for c in used
    }
    step1 = units.select(*by, y=ibis.ifelse(ok, units.y, ibis.null("float64")), **logs)
    terms: dict[str, Any] = {name: step1[name] for name in logs}
    # Each term is a monomial of the logs, kept as its exponents (log_a_sq: (2, 0)).
    power: dict[str, tuple[int, ...]] = {}
    for i, name in enumerate(logs):
        power[name] = tuple(int(j == i) for j in range(len(logs)))
        terms[f"{name}_sq"] = step1[name] * step1[name]
        power[f"{name}_sq"] = tuple(2 * int(j == i) for j in range(len(logs)))
    if len(logs) == 2:
        a, b = (step1[name] for name in logs)
        terms["log_product"] = a * b
        power["log_product"] = (1, 1)
    names = list(terms)
    z = step1.select(*by, "y", **terms)
    first: dict[str, Any] = {"n": z.y.count(), "sy": exact_sum(z.y)}
    first |= {f"sz_{i}": exact_sum(z[a]) for i, a in enumerate(names)}
    second: dict[str, Any] = {
        "n_all": ibis._.count(),
        "n": z.y.count(),
        "syy": exact_sum(z.y * z.y),
    }
    # Products of two terms that are the same monomial (log_a x log_a_sq and
    # log_a_sq x log_a, ...) are summed once: 12 sums for 15 products with two logs.
    product_sum: dict[tuple[int, int], str] = {}
    seen: dict[tuple[int, ...], str] = {}
    for i, a_name in enumerate(names):
        second[f"syz_{i}"] = exact_sum(z.y * z[a_name])
        for j in range(i, len(names)):
            monomial = tuple(p + q for p, q in zip(power[a_name], power[names[j]], strict=True))
            if monomial not in seen:
                seen[monomial] = f"szz_{i}_{j}"
                second[seen[monomial]] = exact_sum(z[a_name] * z[names[j]])
            product_sum[(i, j)] = seen[monomial]
    return z, first, second, names, product_sum


def cell_table(units: Table, keys: tuple[str, ...], used: tuple[str, ...]) -> CellTable:
    """Every moment of ``units`` per cell of ``keys`` (which must include ``zone``,
    ``service``, ``weekend`` and ``hour``), in one grouping, in the keys' order."""
    z, first, second, names, product_sum = _moment_sums(units, list(keys), used)
    # A fixed row order: the engine returns groups in any order, and sums over cells in
    # another order differ in their last bits (reruns must be byte-identical).
    table = z.group_by(list(keys)).aggregate(**(first | second)).order_by(list(keys))
    return CellTable(table.to_pyarrow(), keys, tuple(names), product_sum)


def few_cluster_cells(cells: CellTable, cluster: str, rows: pa.Array | None = None) -> WorkCells:
    """Work cells of ``cells`` clustered by ``cluster`` (a key of ``cells``, or
    ``service``): the ``rows`` kept (all by default), summed over the keys that are not
    ``cluster`` or a stratum key, and the moments of each cluster added up from its
    cells in NumPy, in the cells' fixed order.

    Every moment is a sum of integer multiples of ``1 / SUM_SCALE``, so summing cells
    again is exact, in any order."""
    table = cells.table if rows is None else cells.table.filter(rows)
    stratum_keys = ["zone", "service", "weekend", "hour"]
    by = [cluster] + [c for c in stratum_keys if c != cluster]
    if set(cells.keys) != set(by):
        sums = [c for c in table.column_names if c not in cells.keys]
        grouped = table.group_by(by).aggregate([(c, "sum") for c in sums])
        table = pa.table(
            {c: grouped[c] for c in by} | {c: grouped[f"{c}_sum"] for c in sums}
        ).sort_by([(c, "ascending") for c in by])
    total_units = int(pc.sum(table["n_all"]).as_py() or 0)
    kept = table.filter(pc.greater(table["n"], 0))
    return _cells_from(
        kept, cluster, len(cells.terms), cells.product_sum, None, total_units, cells.terms
    )


@dataclass(frozen=True, slots=True, eq=False)
class StratumCodes:
    """Integer codes of the strata (zone x service x day type x hour) of a table of work.

    A stored or joined table of units is narrower and faster to group with one integer
    ``stratum`` column than with the four keys (two of them text): at 15 M offers,
    storing the units took about 2 s less. The codes follow the keys' sort order, so
    cells sorted by code are sorted by the keys.

    Attributes:
        keys: ``zone``, ``service``, ``weekend``, ``hour`` of each code (row i is code i;
            NULLs filled as :func:`stratum_codes` says). The engine keeps the same rows,
            with ``stratum``, as the table that :func:`stratum_codes` names.
    """

    keys: pa.Table

    def decode(self, cells: pa.Table) -> pa.Table:
        """``cells`` with the four key columns in place of ``stratum`` (codes of cells
        with units are never NULL)."""
        at = pc.cast(cells["stratum"], pa.int64())
        out = cells.drop_columns(["stratum"])
        for c in ("zone", "service", "weekend", "hour"):
            out = out.append_column(c, pc.take(self.keys[c], at))
        return out


def stratum_codes(orders: Table, engine: Engine, name: str) -> tuple[StratumCodes, Table]:
    """Stratum codes of ``orders`` (stored as engine table ``name``), and ``orders``
    with their ``stratum`` code. The keys are the pickup zone (empty where missing), the
    service (likewise), the day type (weekday or weekend: ``weekday >= 5``) and the
    local hour (-1 where missing)."""
    keyed = orders.mutate(
        _zone=orders.pickup_zone.fill_null(""),
        _service=orders.service.fill_null(""),
        _weekend=(orders.weekday >= 5).fill_null(False),
        _hour=orders.local_hour.fill_null(-1),
    )
    keys = ["_zone", "_service", "_weekend", "_hour"]
    distinct = keyed.select(*keys).distinct()
    codes = distinct.mutate(stratum=(ibis.row_number().over(order_by=keys)).cast("int32")).rename(
        zone="_zone", service="_service", weekend="_weekend", hour="_hour"
    )
    stored = engine.materialize(name, codes)
    joined = keyed.inner_join(
        stored,
        [
            keyed._zone == stored.zone,
            keyed._service == stored.service,
            keyed._weekend == stored.weekend,
            keyed._hour == stored.hour,
        ],
    )
    with_code = joined.select(*orders.columns, "stratum")
    table = stored.order_by("stratum").select("zone", "service", "weekend", "hour").to_pyarrow()
    return StratumCodes(table), with_code


def work_cells(
    units: Table,
    cluster: str,
    used: tuple[str, ...],
    *,
    few_clusters: bool = False,
    coded: StratumCodes | None = None,
) -> WorkCells:
    """Cell moments of ``units`` (columns ``y``, ``zone``, ``service``, ``weekend``,
    ``hour``, the ``used`` trip covariates and ``cluster``): first moments by cluster and
    stratum, second moments by cluster, in two groupings of the units. Units with a
    missing outcome or a missing or non-positive covariate are counted
    (``n_all``) but left out of the moments. With ``coded``, the units carry a
    ``stratum`` code (:func:`stratum_codes`) instead of the four stratum keys.

    A cluster's second moments are summed exactly while its units stay under about
    100,000 (see ``SUM_SCALE``): true of workers and customers. With ``few_clusters``
    (a cluster is a service or a customer segment, with millions of units), there are
    few cells, and every moment is summed per cell in one grouping and added up per
    cluster in NumPy, in the cells' fixed order (:func:`cell_table`)."""
    if coded is not None:
        by = [cluster, "stratum"]
    else:
        by = [cluster] + [c for c in ("zone", "service", "weekend", "hour") if c != cluster]
    if few_clusters:
        if coded is not None:
            raise ValueError("few_clusters needs the stratum keys, not their codes")
        return few_cluster_cells(cell_table(units, tuple(by), used), cluster)
    z, first, second, names, product_sum = _moment_sums(units, by, used)
    # First moments per cell (1.7 M cells for 15 M offers), second moments per cluster
    # (23,000 workers): summed per cell, the second moments were the costliest part of
    # the grouping (and spilled), and the fit needs them only per cluster. The cells in
    # a fixed order: sums over cells in another order differ in their last bits.
    grouped = z.group_by(by).aggregate(**first)
    table = grouped.filter(grouped.n > 0).order_by(by).to_pyarrow()
    per_cluster = z.group_by(cluster).aggregate(**second).to_pyarrow()
    total_units = int(pc.sum(per_cluster["n_all"]).as_py() or 0)
    if coded is not None:
        table = coded.decode(table)
    return _cells_from(
        table, cluster, len(names), product_sum, per_cluster, total_units, tuple(names)
    )


def _cells_from(
    table: pa.Table,
    cluster: str,
    k: int,
    product_sum: dict[tuple[int, int], str],
    per_cluster: pa.Table | None,
    total_units: int,
    names: tuple[str, ...],
) -> WorkCells:
    """WorkCells from the cells with units (``table``, in a fixed order) and either the
    second moments per cluster (``per_cluster``) or per cell (in ``table``)."""
    m = table.num_rows
    col = lambda name: table[name].to_numpy().astype(np.float64) if m else np.empty(0)  # noqa: E731
    sz = np.column_stack([col(f"sz_{i}") for i in range(k)]) if k else np.empty((m, 0))
    keys: dict[str, NDArray[np.int64]] = {}
    values: dict[str, list[Any]] = {}
    for c in ("zone", "service"):
        keys[c], values[c] = _codes(table[c]) if m else (np.empty(0, np.int64), [])
    empty = np.empty(0, np.int64)
    keys["weekend"] = (
        table["weekend"].to_numpy(zero_copy_only=False).astype(np.int64) if m else empty
    )
    keys["hour"] = table["hour"].to_numpy().astype(np.int64) if m else empty
    if m and pa.types.is_integer(table[cluster].type):
        cl = table[cluster].to_numpy().astype(np.int64)
        ids: NDArray[Any] = np.arange(int(cl.max()) + 1)
    elif m:
        encoded = pc.dictionary_encode(table[cluster].combine_chunks())
        cl = np.asarray(encoded.indices, dtype=np.int64)
        ids = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    else:
        cl, ids = np.empty(0, np.int64), np.empty(0, dtype=object)
    # Hour -1 is a missing hour (see stratum_codes); the codes must not be negative.
    stratum = strata(keys["service"], keys["zone"], keys["weekend"], keys["hour"] + 1)
    n = col("n")
    if per_cluster is None:
        syy, syz, szz = _second_moments(col, m, k, product_sum)
        cells = CellMoments.from_cells(n, col("sy"), syy, sz, szz, syz, stratum, cl)
    else:
        cells = _with_cluster_moments(n, col("sy"), sz, stratum, cl, ids, per_cluster, product_sum)
    kept_units = int(n.sum())
    return WorkCells(cells, keys, ids, names, total_units - kept_units, kept_units, values)


def _with_cluster_moments(
    n: NDArray[np.float64],
    sy: NDArray[np.float64],
    sz: NDArray[np.float64],
    stratum: NDArray[np.int64],
    cl: NDArray[np.int64],
    ids: NDArray[Any],
    per_cluster: pa.Table,
    product_sum: dict[tuple[int, int], str],
) -> CellMoments:
    """Cell moments from first moments per cell and the rows of ``per_cluster`` (second
    moments per cluster, in any order), matched to the cluster codes by their key."""
    key = per_cluster.column_names[0]
    if pa.types.is_integer(per_cluster[key].type):
        where = pc.cast(per_cluster[key], pa.int64())
    else:
        where = pc.index_in(per_cluster[key], value_set=pa.array(list(ids), per_cluster[key].type))
    # Clusters whose every unit was left out have no cell: their sums are all zero.
    found = pc.and_(pc.is_valid(where), pc.greater(per_cluster["n"], 0))
    rows = per_cluster.filter(found)
    at = pc.filter(where, found).to_numpy().astype(np.int64)
    g, k = len(ids), sz.shape[1]

    def scatter(name: str) -> NDArray[np.float64]:
        out = np.zeros(g)
        out[at] = rows[name].to_numpy().astype(np.float64)
        return out

    syy, syz, szz = _second_moments(scatter, g, k, product_sum)
    return CellMoments(n, sy, sz, stratum, cl, syy=syy, szz=szz, syz=syz)


def _second_moments(
    column: Callable[[str], NDArray[np.float64]],
    rows: int,
    k: int,
    product_sum: dict[tuple[int, int], str],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``syy`` (rows,), ``syz`` (rows, k) and the symmetric ``szz`` (rows, k, k) from the
    summed columns, read by ``column`` (per cell or per cluster)."""
    syz = np.column_stack([column(f"syz_{i}") for i in range(k)]) if k else np.empty((rows, 0))
    szz = np.empty((rows, k, k))
    for i in range(k):
        for j in range(i, k):
            szz[:, i, j] = szz[:, j, i] = column(product_sum[(i, j)])
    return column("syy"), syz, szz


def _codes(column: pa.ChunkedArray) -> tuple[NDArray[np.int64], list[Any]]:
    encoded = pc.dictionary_encode(column.combine_chunks())
    return np.asarray(encoded.indices, dtype=np.int64), encoded.dictionary.to_pylist()


def order_covariates(context: Any) -> tuple[str, ...]:
    """The usable trip covariates of the audit's orders (computed once per audit)."""
    return context.memo(  # type: ignore[no-any-return]
        "order_covariates", lambda: usable_covariates(context.rebuilt.orders)
    )


def with_stratum_means(
    context: Any,
    units: Table,
    work: WorkCells,
    used: tuple[str, ...],
    name: str,
    per_cell: dict[str, NDArray[Any]] | None = None,
) -> tuple[Table, dict[str, Any]]:
    """``units`` kept by :func:`work_cells` (outcome and ``used`` covariates valid), with
    their covariate terms, joined to their stratum's means from ``work``'s cells:
    ``_ybar``, ``_zbar{j}`` per term, and one column per entry of ``per_cell`` (a per-cell
    sum, divided by the stratum's units). The means go to the engine as table ``name``.
    Returns the joined table and the terms."""
    cells = work.cells
    s_count = int(cells.stratum.max()) + 1
    big_n = np.bincount(cells.stratum, weights=cells.n, minlength=s_count)
    # The first cell of each stratum carries the stratum's key values.
    first = np.zeros(s_count, np.int64)
    first[cells.stratum[::-1]] = np.arange(len(cells.stratum))[::-1]
    keys, values = work.keys, work.values
    means = pd.DataFrame(
        {
            "zone": [values["zone"][i] for i in keys["zone"][first]],
            "service": [values["service"][i] for i in keys["service"][first]],
            "weekend": keys["weekend"][first].astype(bool),
            "hour": keys["hour"][first].astype(np.int8),
            "_ybar": np.bincount(cells.stratum, weights=cells.sy, minlength=s_count) / big_n,
        }
    )
    sums = {f"_zbar{j}": cells.sz[:, j] for j in range(cells.k)} | (per_cell or {})
    for column, weights in sums.items():
        means[column] = np.bincount(cells.stratum, weights=weights, minlength=s_count) / big_n
    table = context.engine.con.create_table(name, ibis.memtable(means), overwrite=True)
    terms = covariate_terms(units, used)
    ok = units.y.notnull()
    for c in used:
        ok &= (units[c] > 0).fill_null(False)
    kept = units.filter(ok).mutate(**terms)
    return kept.inner_join(table, ["zone", "service", "weekend", "hour"]), terms
