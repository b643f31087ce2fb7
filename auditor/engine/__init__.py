"""The engine layer: the only code that knows which relational engine runs the audit.

It opens the connection and sets its session (:func:`connect`, :class:`Engine`),
reads package files into it (:func:`read_table`, :func:`store_in_file_order`), stores
and drops tables, and sums money exactly in any order (:func:`exact_sum`,
:func:`whole_sum`). Everything above it speaks Ibis expressions and this API; a test
(``tests/test_layers.py``) fails if any other module imports an engine or issues
SQL text.
"""

from __future__ import annotations

from auditor.engine._asof import asof_left_join
from auditor.engine._connection import (
    SUM_SCALE,
    DuckDBEngine,
    as_instant,
    as_text,
    connect,
    exact_sum,
    instant_seconds,
    is_interrupt,
    json_field_text,
    scaled,
    scaled_sum,
    trimmed,
    whole_sum,
)
from auditor.engine._files import (
    FileFingerprint,
    Location,
    SourceFile,
    fingerprint_file,
    fingerprint_files,
    folder_entries,
    locate,
)
from auditor.engine._hadoop import file_uri_path, is_uri
from auditor.engine._protocol import Engine
from auditor.engine._readers import (
    RawTable,
    ReadAccount,
    file_errors,
    read_parquet_files,
    read_table,
    resolve_mapping,
    store_in_file_order,
)

__all__ = [
    "SUM_SCALE",
    "DuckDBEngine",
    "Engine",
    "FileFingerprint",
    "Location",
    "RawTable",
    "ReadAccount",
    "SourceFile",
    "as_instant",
    "as_text",
    "asof_left_join",
    "connect",
    "exact_sum",
    "file_errors",
    "file_uri_path",
    "fingerprint_file",
    "fingerprint_files",
    "folder_entries",
    "instant_seconds",
    "is_interrupt",
    "is_uri",
    "json_field_text",
    "locate",
    "read_parquet_files",
    "read_table",
    "resolve_mapping",
    "scaled",
    "scaled_sum",
    "store_in_file_order",
    "trimmed",
    "whole_sum",
]
