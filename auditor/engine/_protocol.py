"""What every engine offers the code above the engine layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ibis.expr.types import Table

__all__ = ["Engine"]


class Engine(Protocol):
    """An open engine: DuckDB embedded (:class:`DuckDBEngine`) or Apache Spark
    (:class:`SparkEngine`). Checks, reconstruction and validation use only this.

    Attributes:
        backend: ``"duckdb"`` or ``"spark"``.
        con: the Ibis backend.
        workdir: a local temporary folder the engine removes when closed.
    """

    backend: str
    con: Any
    workdir: Path

    def store(self, name: str, data: Any) -> Table:
        """Store a small frame made in Python as table ``name`` and return it."""
        ...

    def drop(self, name: str) -> None:
        """Drop table ``name`` if it exists."""
        ...

    def materialize(self, name: str, expr: Table) -> Table:
        """Compute ``expr`` once and store it as table ``name``."""
        ...

    def view(self, name: str, expr: Table) -> Table:
        """Name ``expr`` as a view, computed again by each query that reads it."""
        ...

    def close(self) -> None:
        """Free what the engine holds."""
        ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...
