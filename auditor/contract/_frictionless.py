"""The submission contract as a Frictionless Tabular Data Package descriptor.

https://specs.frictionlessdata.io/data-package/ and /table-schema/. A descriptor says what
the auditor expects of a package's files; the auditor itself validates with ``auditor.schema``.
"""

from __future__ import annotations

from typing import Any

from auditor.contract._validate import _BOOL_WORDS
from auditor.schema import TABLE_ORDER, TABLES, Column, ColumnType, TableSpec

__all__ = ["contract_table_schema"]

T = ColumnType

_FRICTIONLESS_TYPE: dict[ColumnType, str] = {
    T.ID: "string",
    T.TEXT: "string",
    T.CATEGORY: "string",
    T.TIMESTAMP: "datetime",
    T.DATE: "date",
    T.MONEY: "number",
    T.NUMBER: "number",
    T.FRACTION: "number",
    T.BOOL: "boolean",
}
"""Frictionless field type of each logical type."""

_NOTE: dict[ColumnType, str] = {
    T.ID: "An identifier, kept as text (a leading zero matters).",
    T.CATEGORY: "One of the listed values, compared case-insensitively.",
    T.TIMESTAMP: "ISO 8601; naive values are local time in [audit] timezone.",
    T.DATE: "YYYY-MM-DD.",
    T.MONEY: "Major units of [audit] currency, exact to 4 decimals.",
    T.FRACTION: "A fraction in [0, 1].",
    T.BOOL: "Reads true/t/1/yes/y as true and false/f/0/no/n as false, in any case.",
}
"""What each logical type means beyond its Frictionless type."""


def _words(value: bool) -> list[str]:
    """The texts the auditor reads as ``value``, in lower, title and upper case."""
    words = [w for w, v in _BOOL_WORDS.items() if v is value]
    return list(dict.fromkeys(c for w in words for c in (w, w.title(), w.upper())))


def _field(column: Column) -> dict[str, Any]:
    """The Table Schema field descriptor of one contract column."""
    field: dict[str, Any] = {"name": column.name, "type": _FRICTIONLESS_TYPE[column.type]}
    text = ". ".join(s for s in (column.meaning, _NOTE.get(column.type, "")) if s)
    if text:
        field["description"] = text
    if column.type == T.BOOL:
        field["trueValues"] = _words(True)
        field["falseValues"] = _words(False)
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.allowed:
        constraints["enum"] = list(column.allowed)
    if column.non_negative or column.type == T.FRACTION:
        constraints["minimum"] = 0
    if column.type == T.FRACTION:
        constraints["maximum"] = 1
    if constraints:
        field["constraints"] = constraints
    return field


def _resource(spec: TableSpec) -> dict[str, Any]:
    """The tabular data resource of one contract table (as ``<table>.csv``).

    ``fieldsMatch: partial`` (Table Schema v2) because a file may order its columns freely,
    omit optional ones and carry others (kept, e.g. the workers' attributes).
    """
    return {
        "name": spec.name,
        "path": f"{spec.name}.csv",
        "profile": "tabular-data-resource",
        "description": spec.meaning,
        "auditor:required": spec.required,
        "schema": {
            "fields": [_field(c) for c in spec.columns],
            "primaryKey": list(spec.key),
            "missingValues": [""],
            "fieldsMatch": "partial",
        },
    }


def contract_table_schema() -> dict[str, Any]:
    """The Frictionless Tabular Data Package descriptor of the submission contract: one
    resource per contract table, in contract order."""
    required = ", ".join(n for n in TABLE_ORDER if TABLES[n].required)
    return {
        "profile": "tabular-data-package",
        "name": "gig-platform-audit-package",
        "title": "Gig-work platform audit package",
        "description": (
            f"The tables a platform submits for an audit (required: {required}). A file may "
            "also be Parquet or JSON Lines, may omit optional columns and may carry other "
            "columns (kept). Surrounding spaces are ignored and blank text is missing. "
            "'auditor:required' says whether a package is unusable without the table."
        ),
        "resources": [_resource(TABLES[name]) for name in TABLE_ORDER],
    }
