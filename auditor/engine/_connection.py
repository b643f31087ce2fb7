"""The engine connection: an Ibis connection to embedded DuckDB, its session settings,
the statements that store and drop tables, and exact, order-independent sums.

Casting, validating, joining and aggregating outside this package are Ibis
expressions and this module's small API, so that the same logic can run on another
engine for data beyond one machine. Statistics run on the small frames that come out.
"""

from __future__ import annotations

import contextlib
import difflib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
from ibis.backends.duckdb import Backend as DuckDBBackend
from ibis.expr.types import Table

from auditor.config import AuditConfig
from auditor.engine._protocol import Engine
from auditor.errors import ConfigError

__all__ = [
    "SUM_SCALE",
    "DuckDBEngine",
    "as_text",
    "connect",
    "exact_sum",
    "instant_seconds",
    "is_interrupt",
    "json_field_text",
    "scaled",
    "scaled_sum",
    "trimmed",
    "whole_sum",
]

SUM_SCALE = 2.0**26
"""Each summed term is rounded to a multiple of ``1 / SUM_SCALE`` (about 1.5e-8) and the
rounded values, integers once scaled, are summed as doubles. Integers below 2**53 add
exactly in a double, in any order, so the sum does not depend on the order the engine's
threads add partial sums in, and reruns give byte-identical findings. (Plain double sums
differ in their last bits from run to run, which the statistics can lift into the 12th
digit of an estimate.) Exact while a group's sum of |term| stays below 2**53 / SUM_SCALE,
about 1.3e8: true of the cells of one worker (or customer) in one stratum, whose terms are
logs of money, distances and minutes to the fourth power at most, or money. Sums over a
whole table use :func:`whole_sum`. Exact decimal sums did the same at about 2.5 times the
cost of the engine's grouping."""


@ibis.udf.scalar.builtin(name="round")
def _round(value: float) -> float:  # type: ignore[empty-body]
    """The engine's one-argument ROUND (half away from zero), kept a double. Ibis'
    ``round(0)`` compiles to ``CAST(ROUND(x, 0) AS BIGINT)``: the same values, but a
    quarter slower over the sums of a grouping, and an error past 2**63."""


@ibis.udf.scalar.builtin(name="epoch")
def _epoch(value: dt.Timestamp(timezone="UTC")) -> dt.float64:  # type: ignore[empty-body,valid-type]
    """The engine's EPOCH of an instant: seconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="trim")
def _trim(value: str) -> str:  # type: ignore[empty-body]
    """The engine's own one-argument trim (spaces)."""


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_extract_string(value: str, path: str) -> str:  # type: ignore[empty-body]
    """The engine's JSON field as text (null where the field is null or absent)."""


@ibis.udf.scalar.builtin(name="auditor_instant_text")
def _instant_text(value: dt.Timestamp(timezone="UTC")) -> str:  # type: ignore[empty-body,valid-type]
    """Spark's text of an instant as DuckDB writes it (defined by ``auditor.engine._spark``)."""


def as_text(value: Any) -> Any:
    """``value`` as text, the same on every engine: an instant as DuckDB writes it
    (``2026-03-04 09:53:25+08``), anything else as the engine casts it."""
    # Spark's TIMESTAMP is an instant, which Ibis types without a zone.
    if value.type().is_timestamp() and value._find_backend(use_default=True).name == "pyspark":
        return _instant_text(value)
    return value.cast("string")


@ibis.udf.scalar.builtin(name="auditor_later_instant")
def _later_instant(  # type: ignore[empty-body]
    value: dt.Timestamp(timezone="UTC"),  # type: ignore[valid-type]
    naive: bool,
) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """Spark's instant of a wall-clock time, the later where it occurs twice (defined by
    ``auditor.engine._spark``)."""


_OFFSET_AT_END = r"(?i)(z|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"
"""Text ending in a UTC offset or ``Z``: an instant, not a wall-clock time."""


def as_instant(value: Any) -> Any:
    """``value`` (text, or a stored timestamp) as an instant (null where it does not cast);
    a time without an offset is wall-clock time in the session's zone, and where the clock
    goes back and it occurs twice, the later instant, on every engine."""
    typed = value.try_cast("timestamp('UTC')")
    # Spark types its timestamps, with or without a zone, alike: only text is resolved
    # here (a stored wall-clock time in the hour that occurs twice takes Spark's choice).
    if not value.type().is_string() or value._find_backend(use_default=True).name != "pyspark":
        return typed
    return _later_instant(typed, ~value.re_search(_OFFSET_AT_END))


def trimmed(value: Any) -> Any:
    """Text without its leading and trailing spaces. Ibis' ``strip()`` compiles to a trim
    with a character list, which DuckDB runs about ten times slower."""
    return _trim(value)


def json_field_text(value: Any, field: str) -> Any:
    """Field ``field`` of a JSON object held as text, as text (null where the field is null
    or absent)."""
    return _json_extract_string(value, f'$."{field}"')


def instant_seconds(value: Any) -> Any:
    """Seconds since the epoch (a double) of a timestamp with a time zone: the instant,
    whatever the session's time zone. (Ibis' ``epoch_seconds`` casts to a naive timestamp
    first, which reads the wall clock of the session's zone: across a daylight-saving
    change two instants 23.5 hours apart would be 24.5 hours apart.)"""
    return _epoch(value)


def exact_sum(value: Any) -> Any:
    """Order-independent sum of a float expression (see ``SUM_SCALE``), as a float."""
    return scaled_sum(value) / SUM_SCALE


def scaled(value: Any) -> Any:
    """``value`` rounded to a multiple of ``1 / SUM_SCALE`` and scaled by ``SUM_SCALE``: an
    integer held in a double, for exact sums in any order (a window's as well as a
    grouping's; divide the sum by ``SUM_SCALE``)."""
    return _round(value * SUM_SCALE)


def scaled_sum(value: Any) -> Any:
    """``SUM_SCALE`` times :func:`exact_sum`: an integer, held in a double (exact below
    2**53), to be cast to an integer type for exact products and sums."""
    return scaled(value).sum()


def whole_sum(value: Any) -> Any:
    """Order-independent sum of ``SUM_SCALE * value``, each term rounded to an integer, as a
    38-digit integer (a decimal). Unlike ``exact_sum``, exact however large the sum: DuckDB
    adds 64-bit integers in 128 bits. Each term must stay below 2**63 / SUM_SCALE (about
    1.4e11) in magnitude; a larger one stops the query with a conversion error rather
    than wrap. (An engine that adds 64-bit integers in 64 bits, as Spark does, needs the
    cast to a decimal before the sum, at about twice the cost.)"""
    return _round(value * SUM_SCALE).cast("int64").sum().cast(dt.Decimal(38, 0))


@dataclass(slots=True)
class DuckDBEngine:
    """An open DuckDB connection and the scratch space it owns.

    Attributes:
        con: the Ibis DuckDB backend.
        workdir: temporary folder for the spill database and transcoded files; removed
            by :meth:`close`.
    """

    con: DuckDBBackend
    workdir: Path
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    backend = "duckdb"

    def sql(self, query: str) -> Any:
        """Run a statement for its effect (DDL, COPY); returns DuckDB's relation or None."""
        return self.con.raw_sql(query)

    def store(self, name: str, data: Any) -> Table:
        """Store ``data`` (a pandas or Arrow table, or anything ``ibis.memtable`` takes)
        as engine table ``name``, replacing it, and return it: a small frame made in
        Python (codes, a roster, per-cell means) for queries to join."""
        return self.con.create_table(name, ibis.memtable(data), overwrite=True)

    def drop(self, name: str) -> None:
        """Drop engine table ``name`` if it exists, freeing what it holds."""
        self.con.drop_table(name, force=True)

    def materialize(self, name: str, expr: Table) -> Table:
        """Store ``expr`` as engine table ``name`` (replacing it) and return it.

        A plain ``CREATE TABLE AS`` of the compiled expression: one statement, which
        Spark SQL runs too.
        """
        quoted = '"' + name.replace('"', '""') + '"'
        query = ibis.to_sql(expr, dialect="duckdb")
        self.con.raw_sql(f"CREATE OR REPLACE TABLE {quoted} AS {query}")
        return self.con.table(name)

    def view(self, name: str, expr: Table) -> Table:
        """Name ``expr`` as engine view ``name`` (replacing it) and return it: computed
        again by each query that reads it, never stored."""
        quoted = '"' + name.replace('"', '""') + '"'
        query = ibis.to_sql(expr, dialect="duckdb")
        self.con.raw_sql(f"CREATE OR REPLACE VIEW {quoted} AS {query}")
        return self.con.table(name)

    def close(self) -> None:
        self.con.disconnect()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it arose from, is an interrupt: Python's
    ``KeyboardInterrupt``, or the engine's (DuckDB's ``InterruptException``; a
    ``RuntimeError`` or engine error saying "INTERRUPT" or "Query interrupted")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt | duckdb.InterruptException):
            return True
        if isinstance(current, RuntimeError | duckdb.Error) and (
            "INTERRUPT" in str(current) or "Query interrupted" in str(current)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def connect(config: AuditConfig, session: Any = None) -> Engine:
    """Open the engine ``[engine] backend`` names: :func:`connect_duckdb`, or Spark (a
    new session, or ``session`` if given; see ``auditor.engine._spark``).

    Raises:
        ConfigError: Spark is asked for and pyspark is not installed, or Spark cannot
            start a session.
    """
    if config.engine.backend == "spark" or session is not None:
        try:
            from auditor.engine._spark import connect_spark
        except ImportError as exc:
            raise ConfigError(
                '[engine] backend = "spark" needs pyspark: pip install "auditor[spark]" '
                '(in a checkout, pip install -e ".[spark]"), and Java 17 or newer.'
            ) from exc
        return connect_spark(config, session)
    return connect_duckdb(config)


def connect_duckdb(config: AuditConfig) -> DuckDBEngine:
    """Open a DuckDB engine set to the audit's time zone and resource limits.

    The database is in memory; tables larger than ``[engine] memory_limit`` spill to a
    temporary folder instead of exhausting memory (a database file instead would write
    and compress every stored table, about twice as slow). Row order is preserved only
    where it is read (the CSV reader sets it itself), which saves memory on large tables.
    """
    tmp = tempfile.TemporaryDirectory(prefix="auditor-")
    workdir = Path(tmp.name)
    con = ibis.duckdb.connect(":memory:")
    try:
        _settings(con, config, workdir / "spill")
    except BaseException:
        con.disconnect()
        tmp.cleanup()
        raise
    return DuckDBEngine(con=con, workdir=workdir, _tmp=tmp)


def _settings(con: DuckDBBackend, config: AuditConfig, spill: Path) -> None:
    """Set the engine's time zone and resources, every value a bound parameter (never SQL
    text built from the config).

    Raises:
        ConfigError: ``[audit] timezone`` is a zone the engine (DuckDB's ICU) does not
            know, although Python's zoneinfo may (``posixrules``, ``localtime``).
    """
    zone = config.audit.timezone
    known = [row[0] for row in con.con.execute("SELECT name FROM pg_timezone_names()").fetchall()]
    if zone not in known:
        close = difflib.get_close_matches(zone, known, n=3)
        hint = f" Close names: {', '.join(close)}." if close else ""
        raise ConfigError(
            f"{config.source or 'config'} [audit] timezone must be a time zone the engine "
            f'(DuckDB, ICU) knows, an IANA name such as "Asia/Shanghai"; got {zone!r}.{hint}'
        )
    con.con.execute("SET TimeZone = ?", [zone])
    con.con.execute("SET memory_limit = ?", [config.engine.memory_limit])
    con.con.execute("SET temp_directory = ?", [str(spill)])
    con.con.execute("SET preserve_insertion_order = false")
    _quiet_progress_bar(con)
    if config.engine.threads:
        con.con.execute("SET threads = ?", [int(config.engine.threads)])


def _quiet_progress_bar(con: DuckDBBackend) -> None:
    """Turn off the engine's own progress bar, which would draw over the command line's.

    Inside Jupyter, DuckDB refuses to change the setting unless ipywidgets is installed;
    there its bar is left as the kernel has it (it never draws on a terminal there).
    """
    with contextlib.suppress(duckdb.InvalidInputException):
        con.con.execute("SET enable_progress_bar = false")
