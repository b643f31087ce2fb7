"""Validate a whole package and assemble its quarantine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditor.contract._validate import Plausibility, ValidatedTable, validate_table
from auditor.engine import Engine, Location
from auditor.ingest import RawPackage, file_errors
from auditor.schema import TABLE_ORDER

__all__ = ["QUARANTINE_COLUMNS", "ValidatedPackage", "validate_package"]

QUARANTINE_COLUMNS = ("table", "row", "key", "column", "reason", "value")
"""Columns of the quarantine file, in order."""


@dataclass(frozen=True, slots=True, eq=False)
class ValidatedPackage:
    """A package after validation.

    Attributes:
        path: the package folder (a local path, or a URI read through Spark).
        tables: table name -> validated table, in contract order.
        sha256: table name -> SHA-256 of its file as submitted.
        ignored_files: files in the folder that are not contract tables.
    """

    path: Location
    tables: dict[str, ValidatedTable]
    sha256: dict[str, str]
    ignored_files: tuple[str, ...]

    def quarantine(self) -> pd.DataFrame:
        """Every failed rule of every table: one row per (record, rule).

        Columns ``table, row, key, column, reason, value``: ``row`` is the 1-based record
        number in the file (CSV: data row, header excluded; JSON Lines: line; Parquet: row).
        Sorted by table (contract order), row, column, reason.
        """
        frames = []
        for name, table in self.tables.items():
            issues = table.issues.to_pyarrow().to_pandas()
            if issues.empty:
                continue
            rows = issues["_row"].to_numpy(dtype=np.int64, copy=True)
            parsed = issues["parsed"].to_numpy(dtype=bool)
            rows[parsed] = table.account.record_numbers(rows[parsed])
            issues["row"] = rows
            issues["table"] = name
            frames.append(issues[list(QUARANTINE_COLUMNS)])
        if not frames:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype="int64" if c == "row" else "string")
                    for c in QUARANTINE_COLUMNS
                }
            )
        out = pd.concat(frames, ignore_index=True)
        out["_t"] = out["table"].map({t: i for i, t in enumerate(TABLE_ORDER)})
        out = out.sort_values(["_t", "row", "column", "reason"], kind="stable", na_position="first")
        return out.drop(columns="_t").reset_index(drop=True)


def validate_package(
    engine: Engine, raw: RawPackage, plausible: Plausibility | None = None
) -> ValidatedPackage:
    """Validate every table of ``raw`` (``plausible``: the limits of real values; the
    defaults of ``[package]`` if None)."""
    tables = {}
    for name, table in raw.tables.items():
        with file_errors(table.source):
            tables[name] = validate_table(engine, table, plausible)
        # The text copy of a JSON Lines file is no longer needed: free its memory.
        engine.drop(f"jsonl__{name}")
    return ValidatedPackage(
        path=raw.path, tables=tables, sha256=raw.sha256, ignored_files=raw.ignored_files
    )
