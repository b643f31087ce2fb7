"""Only the engine layer (``auditor/engine/``) may hold engine-specific code: importing an
engine, reaching the connection, or issuing SQL text. Everything else speaks Ibis
expressions and the engine layer's API, so that a second engine needs no change above it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "auditor"
ENGINE_LAYER = PACKAGE / "engine"

ENGINE_MODULES = ("duckdb", "pyspark", "sqlglot", "ibis.backends")
"""Modules only the engine layer imports."""

ENGINE_ATTRIBUTES = frozenset({"con", "sql", "raw_sql", "to_sql", "duckdb", "pyspark", "connect"})
"""Attributes only the engine layer reads: the backend connection, SQL text, and Ibis'
backend entry points (``ibis.duckdb``, ``ibis.connect``, ``ibis.to_sql``)."""

SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|WITH\s|CREATE\s|DROP\s|INSERT\s|COPY\s|PRAGMA\s|DESCRIBE\s|ALTER\s|SET\s\w+\s*=)"
)
"""A string that starts like a SQL statement (upper case, as the code base writes SQL)."""


def engine_code(source: str) -> list[str]:
    """Where ``source`` (a module's text) holds engine-specific code, one line each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"line {node.lineno}: imports {name}"
            for name in names
            if any(name == m or name.startswith(m + ".") for m in ENGINE_MODULES)
        ]
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.match(node.value)
        ):
            found.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
    return found


def modules_above_the_engine() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ENGINE_LAYER not in p.parents)


def test_the_scan_sees_each_kind_of_engine_code() -> None:
    planted = (
        "import duckdb\n"
        "from pyspark.sql import SparkSession\n"
        "from ibis.backends.duckdb import Backend\n"
        "engine.con.create_table('t', x)\n"
        "engine.sql('x')\n"
        "ibis.duckdb.connect()\n"
        "q = 'SELECT count(*) FROM t'\n"
        "r = f'DROP TABLE IF EXISTS {name}'\n"
    )
    assert len(engine_code(planted)) == 9
    prose = '"""Select the orders; set the limits. Drop a row with a reason."""\n'
    assert engine_code(prose + "x = engine.store('t', frame)\n") == []


def test_the_engine_layer_is_where_the_engine_code_is() -> None:
    layer = sorted(ENGINE_LAYER.glob("*.py"))
    assert any(engine_code(p.read_text(encoding="utf-8")) for p in layer)


@pytest.mark.parametrize(
    "module", modules_above_the_engine(), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_above_the_engine_holds_engine_code(module: Path) -> None:
    found = engine_code(module.read_text(encoding="utf-8"))
    assert not found, f"{module.relative_to(PACKAGE.parent)}: " + "; ".join(found)
