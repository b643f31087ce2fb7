"""A package given as pandas DataFrames: written to Parquet, then read like any other.

Writing through Parquet keeps one ingest path (the same casts, validation and row
accounting as a submitted export) and gives each table a file to hash. Row numbers in
the quarantine are 1-based positions in the DataFrame.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.errors import UsageError
from auditor.schema import TABLES

__all__ = ["write_frames"]


def write_frames(frames: Mapping[str, pd.DataFrame], folder: Path) -> Path:
    """Write ``frames`` (contract table name -> DataFrame) as ``<name>.parquet`` files in
    ``folder``; return ``folder``.

    Raises:
        UsageError: a key is not a contract table, a value is not a DataFrame, or
            ``orders`` is missing.
    """
    for name, frame in frames.items():
        if name not in TABLES:
            close = difflib.get_close_matches(str(name), list(TABLES), n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise UsageError(
                f"tables[{name!r}]: not a contract table.{hint} Tables: {', '.join(TABLES)}."
            )
        if not isinstance(frame, pd.DataFrame):
            raise UsageError(
                f"tables[{name!r}] must be a pandas DataFrame (got {type(frame).__name__})."
            )
    if "orders" not in frames:
        raise UsageError("tables has no 'orders' DataFrame; it is the one required table.")
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise UsageError(
                f"tables[{name!r}] cannot be stored as a table ({exc}). Give each column one "
                "type, e.g. df[col] = df[col].astype(str) for an ID column of mixed types."
            ) from exc
        # No pandas metadata: the file's hash then depends on the data, not on the library
        # version that wrote it.
        pq.write_table(table.replace_schema_metadata(None), folder / f"{name}.parquet")
    return folder
