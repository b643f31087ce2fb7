"""The layers of the package and the directions they may import in (docs/architecture.md).

Only the engine layer (``auditor/engine/``) may hold engine-specific code: importing an
engine, reaching the connection, or issuing SQL text; everything else speaks Ibis
expressions and the engine layer's API, so that a second engine needs no change above it.
The result types and the report read findings only: they import no check, no engine and
no package reader. No check module imports another check module: what two checks share
lives in the comparison machinery.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "auditor"
ENGINE_LAYER = PACKAGE / "engine"

ENGINE_MODULES = ("duckdb", "pyspark", "sqlglot", "ibis.backends")
"""Modules only the engine layer imports."""

ENGINE_ATTRIBUTES = frozenset(
    {"con", "sql", "raw_sql", "to_sql", "duckdb", "pyspark", "connect", "udf"}
)
"""Attributes only the engine layer reads: the backend connection, SQL text, Ibis' backend
entry points (``ibis.duckdb``, ``ibis.connect``, ``ibis.to_sql``), and engine functions
called by name (``ibis.udf.scalar.builtin``)."""

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
        "@ibis.udf.scalar.builtin(name='trim')\ndef f(x: str) -> str: ...\n"
    )
    assert len(engine_code(planted)) == 10
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


def imported_modules(path: Path) -> set[str]:
    """The modules ``path`` imports (absolute names; ``from x import y`` gives ``x`` and
    ``x.y``, as ``y`` may be a submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def check_modules() -> dict[str, Path]:
    """The modules of ``auditor/checks`` that define a catalogue check (``@register``)."""
    return {
        f"auditor.checks.{p.stem}": p
        for p in sorted((PACKAGE / "checks").glob("_*.py"))
        if "\n@register\n" in p.read_text(encoding="utf-8")
    }


def test_no_check_module_imports_another() -> None:
    checks = check_modules()
    assert len(checks) >= 15  # the scan finds the check modules
    crossing = {
        name: sorted(imported_modules(path) & (set(checks) - {name}))
        for name, path in checks.items()
    }
    assert {k: v for k, v in crossing.items() if v} == {}


@pytest.mark.parametrize("layer", ["findings", "report"])
def test_findings_and_report_read_no_check_engine_or_package(layer: str) -> None:
    """Directly, and through what they import: in a fresh interpreter, importing the layer
    loads no check, no engine (nor Ibis) and no package reader."""
    forbidden = ("auditor.checks", "auditor.engine", "auditor.contract", "auditor.ingest",
                 "auditor.pipeline", "duckdb", "ibis")  # fmt: skip
    code = (
        f"import sys, auditor.{layer}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'ibis') "
        f"or m.startswith({forbidden!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
    for path in sorted((PACKAGE / layer).glob("*.py")):
        direct = {m for m in imported_modules(path) if m.startswith(forbidden)}
        assert not direct, f"{path.relative_to(PACKAGE.parent)} imports {sorted(direct)}"
