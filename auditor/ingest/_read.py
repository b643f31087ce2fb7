"""Read one table file into the engine, as it is: every record, nothing cast yet.

The result is an engine relation ``raw__<table>`` with a 1-based ``_row`` (the
record's position in the file: CSV data row with the header excluded, JSON
Lines line number, Parquet row) and one column per file column, renamed by
``[package.mapping.<table>]``. CSV and JSON Lines columns are text; Parquet
columns keep their stored types. Records the reader cannot parse (wrong
number of fields, bad quoting, invalid JSON) go to ``malformed__<table>``
with their position and text, so that no record is lost.

A CSV file is not copied into the engine as text: ``raw__<table>`` is a scan of the
file, read exactly once, by :func:`store_in_file_order`, which stores what validation
makes of each row (typed values) in file order. Only then are the row positions and
the malformed records known (:class:`ReadAccount`). Parsing and casting in one pass
saves storing 2 GB of text per 10 M orders and reading it back.

This module holds the DuckDB-specific reader options (rejects tables, line
reading); everything downstream is backend-neutral Ibis.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from ibis.expr.types import Table

from auditor.engine import Engine
from auditor.errors import ConfigError, DecodeError, PackageError
from auditor.ingest._decode import first_undecodable_offset, is_utf8, transcode_to_utf8
from auditor.ingest._package import SourceFile
from auditor.schema import TABLES

__all__ = ["RawTable", "ReadAccount", "read_table", "store_in_file_order"]


@dataclass(frozen=True, slots=True, eq=False)
class ReadAccount:
    """What reading a file found: how many records, and which could not be parsed.

    Attributes:
        malformed: engine relation of unparseable records (``_row``, ``value``, ``detail``).
        rows_read: records in the file (parsed + malformed; blank JSONL lines are not records).
        n_malformed: records the reader could not parse.
        skipped_records: CSV only: sorted 1-based record numbers of malformed records, used to
            turn the ordinal of a parsed row back into its record number in the file.
    """

    malformed: Table
    rows_read: int
    n_malformed: int
    skipped_records: np.ndarray

    def record_numbers(self, rows: np.ndarray) -> np.ndarray:
        """File record numbers (1-based) of parsed rows given their ``_row`` ordinals."""
        skipped = self.skipped_records
        if skipped.size == 0:
            return rows
        adjusted = skipped - np.arange(skipped.size)
        return rows + np.searchsorted(adjusted, rows, side="right")


@dataclass(frozen=True, slots=True, eq=False)
class RawTable:
    """A table as read from its file, before validation.

    Attributes:
        name: contract table name.
        source: the file it came from.
        raw: engine relation, ``_row`` plus the file's columns under their contract names.
            For CSV a single scan of the file whose ``_row`` is not known yet (null): read it
            only through :func:`store_in_file_order`.
        columns: column names of ``raw`` after mapping (``_row`` excluded).
        source_columns: contract name -> the file's own header, for messages.
        encoding: the text encoding the file was read in (``[package] encoding``).
        account: the record counts; None for CSV until the file is scanned.
    """

    name: str
    source: SourceFile
    raw: Table
    columns: tuple[str, ...]
    source_columns: Mapping[str, str]
    encoding: str
    account: ReadAccount | None


def store_in_file_order(
    engine: Engine, raw: RawTable, name: str, rows: Table
) -> tuple[Table, ReadAccount]:
    """Store ``rows`` (a row-by-row projection of ``raw.raw``, keeping ``_row``) as ``name``.

    For CSV this is the one scan of the file: rows are stored in file order and ``_row``
    is their position (the engine's row id), so ``name`` is a view over the stored table
    ``<name>__rows``; the malformed records are collected from the same scan.

    Raises:
        DecodeError: the CSV file has bytes that are not UTF-8.
    """
    if raw.account is not None:
        return engine.materialize(name, rows), raw.account
    stored = f"{name}__rows"
    engine.sql("SET preserve_insertion_order = true")  # rowid must follow the file
    try:
        engine.materialize(stored, rows.drop("_row"))
    except duckdb.Error as exc:  # the engine's own message says what is wrong with the file
        raise _unreadable(raw.source, exc) from exc
    finally:
        engine.sql("SET preserve_insertion_order = false")
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote(name)} AS "
        f"SELECT rowid + 1 AS _row, * FROM {_quote(stored)}"
    )
    n_parsed = int(engine.con.table(stored).count().execute())
    account = _account(engine, raw.name, n_parsed, _malformed_csv(engine, raw.name))
    _raise_on_bad_encoding(engine, raw.name, raw.source, raw.encoding)
    return engine.con.table(name), account


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_table(
    engine: Engine, source: SourceFile, encoding: str, mapping: Mapping[str, str]
) -> RawTable:
    """Read ``source`` into the engine and apply the column mapping.

    Raises:
        DecodeError: a text file does not decode in ``encoding`` (a UTF-8 CSV file is
            only checked when it is scanned, by :func:`store_in_file_order`).
        PackageError: the file cannot be read, or a mapped column is not in it.
        ConfigError: the mapping names a column the contract does not have.
    """
    name = source.table
    path = source.path
    if source.format in ("csv", "jsonl") and not is_utf8(encoding):
        utf8 = engine.workdir / f"{name}.utf8{path.suffix}"
        transcode_to_utf8(path, utf8, encoding)
        path = utf8
    try:
        if source.format == "csv":
            file_columns = _read_csv(engine, name, str(path), source.path)
        elif source.format == "jsonl":
            file_columns = _read_jsonl(engine, name, str(path))
        else:
            file_columns = _read_parquet(engine, name, str(path))
    except duckdb.Error as exc:  # the engine's own message says what is wrong with the file
        raise _unreadable(source, exc) from exc
    if source.format == "jsonl":
        _raise_on_bad_encoding(engine, name, source, encoding)

    renames = _resolve_mapping(name, source, file_columns, mapping)
    select = ", ".join(
        ["_row"] + [f"{_quote(col)} AS {_quote(renames.get(col, col))}" for col in file_columns]
    )
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('raw__' + name)} AS SELECT {select} "
        f"FROM {_quote('read__' + name)}"
    )
    raw = engine.con.table(f"raw__{name}")
    account = None
    if source.format != "csv":  # a CSV file is counted when it is scanned
        account = _account(engine, name, int(raw.count().execute()), np.empty(0, dtype=np.int64))
    return RawTable(
        name=name,
        source=source,
        raw=raw,
        columns=tuple(renames.get(c, c) for c in file_columns),
        source_columns={renames.get(c, c): c for c in file_columns},
        encoding=encoding,
        account=account,
    )


def _unreadable(source: SourceFile, exc: duckdb.Error) -> PackageError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return PackageError(
        f"{source.path}: cannot be read as {source.format.upper()}: {first_line}. "
        "Check that the file is complete and in the format its name says."
    )


def _account(engine: Engine, name: str, n_parsed: int, skipped: np.ndarray) -> ReadAccount:
    malformed = engine.con.table(f"malformed__{name}")
    n_malformed = int(malformed.count().execute())
    return ReadAccount(
        malformed=malformed,
        rows_read=n_parsed + n_malformed,
        n_malformed=n_malformed,
        skipped_records=skipped,
    )


def _csv_header(path: str, shown: Path) -> list[str]:
    """The header row, parsed by Python's csv module (the engine's sniffer is not used, so a
    broken record further down cannot make the whole file unreadable)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            header = next(csv.reader(fh), None)
        except UnicodeDecodeError:
            header = None  # reported with its byte offset by the decode check
        except csv.Error as exc:
            raise PackageError(f"{shown}: the header row cannot be parsed ({exc}).") from exc
    if header is None:
        offset = first_undecodable_offset(Path(path), "utf-8")
        if offset is not None:
            raise DecodeError(str(shown), "utf-8", offset)
        raise PackageError(f"{shown}: the file is empty; a CSV table needs a header row.")
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for h in header:
        if not h:
            raise PackageError(f"{shown}: the header row has an empty column name. Name it.")
        if h in seen:
            raise PackageError(f"{shown}: the header names column {h!r} twice. Rename one of them.")
        seen.add(h)
    return header


_CSV_BUFFER_BYTES = 64 * 1024 * 1024
"""The CSV reader's buffer. With the default (a few MiB) the reader spends a third of its
time handing rows over in file order: 10 M orders (2.2 GB) parse in 11.4-11.8 s; with
64 MiB in 7.3-7.7 s (16 MiB 10.5 s, 128 MiB 8.1 s, 256 MiB 8.8 s; same memory)."""


def _read_csv(engine: Engine, name: str, path: str, shown: Path) -> list[str]:
    """Set up the scan of a CSV file (``read__<name>``); nothing is read but the header."""
    header = _csv_header(path, shown)
    as_text = "{" + ", ".join(f"{_literal(h)}: 'VARCHAR'" for h in header) + "}"
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS SELECT NULL::BIGINT AS _row, * "
        f"FROM read_csv({_literal(path)}, columns = {as_text}, auto_detect = false, "
        f"header = true, delim = ',', quote = '\"', escape = '\"', null_padding = false, "
        f"buffer_size = {_CSV_BUFFER_BYTES}, store_rejects = true, "
        f"rejects_table = {_literal('rejects__' + name)}, "
        f"rejects_scan = {_literal('rejects_scan__' + name)})"
    )
    return header


def _malformed_csv(engine: Engine, name: str) -> np.ndarray:
    """After the scan: ``malformed__<name>`` from the reader's rejects, and the sorted
    record numbers of malformed records."""
    # One reject row per error; a record can have several. Record number = line - 1 (header).
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} AS "
        f"SELECT CAST(line - 1 AS BIGINT) AS _row, any_value(csv_line) AS value, "
        f"string_agg(DISTINCT lower(CAST(error_type AS VARCHAR)), '; ') AS detail, "
        f"bool_or(CAST(error_type AS VARCHAR) = 'INVALID ENCODING') AS bad_encoding "
        f"FROM {_quote('rejects__' + name)} GROUP BY line ORDER BY line"
    )
    skipped = engine.con.table(f"malformed__{name}")._row.execute().to_numpy()
    return np.sort(np.asarray(skipped, dtype=np.int64))


def _read_jsonl(engine: Engine, name: str, path: str) -> list[str]:
    lines = f"lines__{name}"
    # Read each line as one text value: U+001F cannot appear raw inside valid JSON.
    engine.sql("SET preserve_insertion_order = true")  # rowid must follow the file
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('jsonl__' + name)} AS SELECT line FROM read_csv("
        f"{_literal(path)}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(31), "
        f"quote = '', escape = '', auto_detect = false, store_rejects = true, "
        f"rejects_table = {_literal('rejects__' + name)}, "
        f"rejects_scan = {_literal('rejects_scan__' + name)})"
    )
    engine.sql("SET preserve_insertion_order = false")
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote(lines)} AS SELECT rowid + 1 AS _row, line "
        f"FROM {_quote('jsonl__' + name)}"
    )
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} AS "
        f"SELECT _row, line AS value, 'invalid json object' AS detail, false AS bad_encoding "
        f"FROM {_quote(lines)} WHERE line IS NOT NULL AND trim(line) <> '' AND NOT "
        f"coalesce(json_valid(line) AND json_type(line) = 'OBJECT', false) "
        f"UNION ALL SELECT CAST(line AS BIGINT), csv_line, 'invalid encoding', true "
        f"FROM {_quote('rejects__' + name)} ORDER BY 1"
    )
    good = (
        f"FROM {_quote(lines)} WHERE line IS NOT NULL AND trim(line) <> '' "
        f"AND json_valid(line) AND json_type(line) = 'OBJECT'"
    )
    keys = engine.sql(
        f"SELECT key FROM (SELECT unnest(json_keys(line)) AS key, _row {good}) "
        f"GROUP BY key ORDER BY min(_row), key"
    ).fetchall()
    columns = [k for (k,) in keys]
    extracts = ", ".join(
        f"json_extract_string(line, {_literal('$.' + _quote(c))}) AS {_quote(c)}" for c in columns
    )
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS SELECT _row"
        f"{', ' + extracts if extracts else ''} {good}"
    )
    return columns


def _read_parquet(engine: Engine, name: str, path: str) -> list[str]:
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS SELECT file_row_number + 1 AS _row, "
        f"* EXCLUDE (file_row_number) FROM read_parquet({_literal(path)}, file_row_number = true)"
    )
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} (_row BIGINT, value VARCHAR, "
        f"detail VARCHAR, bad_encoding BOOLEAN)"
    )
    columns = [c for c in engine.con.table(f"read__{name}").columns if c != "_row"]
    return columns


def _raise_on_bad_encoding(engine: Engine, name: str, source: SourceFile, encoding: str) -> None:
    bad = engine.con.table(f"malformed__{name}").bad_encoding.any().execute()
    if not bad:
        return
    # The engine only knows the line; find the exact byte in the file as submitted.
    offset = first_undecodable_offset(source.path, encoding if not is_utf8(encoding) else "utf-8")
    raise DecodeError(str(source.path), encoding, offset if offset is not None else 0)


def _resolve_mapping(
    name: str, source: SourceFile, file_columns: list[str], mapping: Mapping[str, str]
) -> dict[str, str]:
    """Source column -> contract column, checked against the contract and the file."""
    spec = TABLES[name]
    contract = spec.column_names
    renames: dict[str, str] = {}
    where = f"[package.mapping.{name}]"
    for target, src in mapping.items():
        if target not in contract:
            close = difflib.get_close_matches(target, contract, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise ConfigError(
                f"{where}: {target!r} is not a column of the contract's {name} table.{hint} "
                f"Its columns: {', '.join(contract)}. Other columns need no mapping: they are kept."
            )
        if src not in file_columns:
            close = difflib.get_close_matches(src, file_columns, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise PackageError(
                f"{source.path}: {where} maps {target} = {src!r}, but the file has no column "
                f"{src!r}.{hint} Its columns: {', '.join(file_columns)}."
            )
        renames[src] = target
    targets = set(renames.values())
    for col in file_columns:
        if col in targets and col not in renames:
            raise PackageError(
                f"{source.path}: column {col!r} is in the file and is also the target of "
                f"{where} {col} = {mapping[col]!r}. Remove one: rename the file's column or drop "
                "the mapping."
            )
    present = {renames.get(c, c) for c in file_columns}
    missing = [c for c in spec.required_columns if c not in present]
    if missing:
        unmapped = [c for c in file_columns if c not in renames and c not in contract]
        lines = []
        for col in missing:
            close = difflib.get_close_matches(col, unmapped, n=1, cutoff=0.5)
            guess = close[0] if close else "<column in your file>"
            lines.append(f'{col} = "{guess}"')
        raise PackageError(
            f"{source.path}: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} missing from the {name} table. If the file names "
            f"{'them' if len(missing) > 1 else 'it'} differently, map "
            f"{'them' if len(missing) > 1 else 'it'} in the config:\n  {where}\n  "
            + "\n  ".join(lines)
            + f"\nThe file's columns: {', '.join(file_columns)}."
        )
    return renames
