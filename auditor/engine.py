"""The relational engine: an Ibis connection to embedded DuckDB.

All reading, casting, validating, joining and aggregating is written as Ibis
expressions (or, where DuckDB's own reader options are needed, isolated in
``ingest``) so that the same logic can run on Spark for data beyond one machine.
Statistics run on the small frames that come out.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend
from ibis.expr.types import Table

from auditor.config import AuditConfig

__all__ = ["Engine", "connect"]


@dataclass(slots=True)
class Engine:
    """An open engine connection and the scratch space it owns.

    Attributes:
        con: the Ibis DuckDB backend.
        workdir: temporary folder for the spill database and transcoded files; removed
            by :meth:`close`.
    """

    con: DuckDBBackend
    workdir: Path
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def sql(self, query: str) -> Any:
        """Run a statement for its effect (DDL, COPY); returns DuckDB's relation or None."""
        return self.con.raw_sql(query)

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

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(config: AuditConfig) -> Engine:
    """Open a DuckDB engine set to the audit's time zone and resource limits.

    The database is in memory; tables larger than ``[engine] memory_limit`` spill to a
    temporary folder instead of exhausting memory (a database file instead would write
    and compress every stored table, about twice as slow). Row order is preserved only
    where it is read (the CSV reader sets it itself), which saves memory on large tables.
    """
    tmp = tempfile.TemporaryDirectory(prefix="auditor-")
    workdir = Path(tmp.name)
    con = ibis.duckdb.connect(":memory:")
    con.raw_sql(f"SET TimeZone = '{config.audit.timezone}'")
    con.raw_sql(f"SET memory_limit = '{config.engine.memory_limit}'")
    con.raw_sql(f"SET temp_directory = '{workdir / 'spill'}'")
    con.raw_sql("SET preserve_insertion_order = false")
    if config.engine.threads:
        con.raw_sql(f"SET threads = {int(config.engine.threads)}")
    return Engine(con=con, workdir=workdir, _tmp=tmp)
