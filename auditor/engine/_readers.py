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
reading) and the statements that store what is read; everything downstream is
backend-neutral Ibis.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.engine._connection import DuckDBEngine
from auditor.engine._decode import first_undecodable_offset, is_utf8, transcode_to_utf8
from auditor.engine._files import FileFingerprint, Location, SourceFile, fingerprint_file
from auditor.engine._protocol import Engine
from auditor.errors import ConfigError, DecodeError, PackageError
from auditor.schema import TABLES

__all__ = [
    "RawTable",
    "ReadAccount",
    "file_errors",
    "read_parquet_files",
    "read_table",
    "store_in_file_order",
]


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
        fingerprint: the file's hash and physical line count (read in a background thread).
        read_path: the UTF-8 file the engine reads (a transcoded copy for other encodings).
        derived: the columns are computed from the file's (a preset): validation stores
            the typed rows once rather than recomputing them in every pass.
        unique_key: the key is unique by construction (a preset's file and record), so
            validation does not group the rows by it to look for repeats.
    """

    name: str
    source: SourceFile
    raw: Table
    columns: tuple[str, ...]
    source_columns: Mapping[str, str]
    encoding: str
    account: ReadAccount | None
    fingerprint: Future[FileFingerprint]
    read_path: Location
    derived: bool = False
    unique_key: bool = False


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
    assert isinstance(engine, DuckDBEngine)  # other engines count a file when they read it
    stored = f"{name}__rows"
    engine.sql("SET preserve_insertion_order = true")  # rowid must follow the file
    try:
        engine.materialize(stored, rows.drop("_row"))
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:  # the engine's own message says what is wrong with the file
        raise _unreadable(raw.source, exc) from exc
    finally:
        engine.sql("SET preserve_insertion_order = false")
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote(name)} AS "
        f"SELECT rowid + 1 AS _row, * FROM {_quote(stored)}"
    )
    n_parsed = int(engine.con.table(stored).count().execute())
    skipped = _malformed_csv(engine, raw.name)
    _raise_on_bad_encoding(engine, raw.name, raw.source, raw.encoding)
    printed = raw.fingerprint.result()
    lines = printed.lines
    if lines != 1 + n_parsed + len(skipped) + printed.blank_lines or (
        printed.blank_lines and len(skipped)
    ):
        # Blank lines, quoted values over several lines, or records the reader could not
        # delimit: find which, record by record (only files that need it pay for this).
        skipped = _check_csv_layout(engine, raw, n_parsed, skipped, lines)
    return engine.con.table(name), _account(engine, raw.name, n_parsed, skipped)


MAX_RECORD_LINES = 1000
"""A record the reader rejects that spans more lines than this in the file is taken as a
quote never closed, not as a long value (the run stops and names its line)."""


@dataclass(frozen=True, slots=True)
class _CsvLayout:
    """Records of a CSV file as Python's csv module delimits them (header excluded).

    Attributes:
        records: data records (blank lines are not records).
        blank_before: per position in the file's sequence of rows (header 1, blank lines
            counted, as the engine numbers rejected lines), how many blank lines precede.
        start_line: physical line each row of that sequence starts on.
        spans: physical lines each row of that sequence spans.
    """

    records: int
    blank_before: NDArray[np.int64]
    start_line: NDArray[np.int64]
    spans: NDArray[np.int64]


def _csv_layout(path: Path) -> _CsvLayout:
    """Delimit the records of a CSV file line by line (lenient quoting, as the engine)."""
    blank_before: list[int] = []
    start_line: list[int] = []
    spans: list[int] = []
    blanks = records = 0
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.reader(fh, strict=False)
            line = 0
            for row in reader:
                blank_before.append(blanks)
                start_line.append(line + 1)
                spans.append(reader.line_num - line)
                line = reader.line_num
                if not row:
                    blanks += 1
                else:
                    records += 1
    finally:
        csv.field_size_limit(limit)
    return _CsvLayout(
        max(records - 1, 0),
        np.asarray(blank_before, np.int64),
        np.asarray(start_line, np.int64),
        np.asarray(spans, np.int64),
    )


def _check_csv_layout(
    engine: DuckDBEngine, raw: RawTable, n_parsed: int, skipped: NDArray[np.int64], lines: int
) -> NDArray[np.int64]:
    """Check that the reader accounted for every line of a CSV file whose line count is
    not one per record; renumber malformed records past blank lines (the engine counts
    blank lines in the numbers of rejected lines, not in those of parsed rows).

    Returns the corrected record numbers of the malformed records.

    Raises:
        PackageError: a record the reader rejected runs on over many lines (a quote never
            closed), or the reader and the file disagree on the number of records.
    """
    assert isinstance(raw.read_path, Path), "DuckDB reads local files (see locate)"
    layout = _csv_layout(raw.read_path)
    shown = raw.source.path
    # The engine numbers a rejected record by its place in the file's sequence of rows
    # (header 1, blank lines counted): record number + 1, which is its index in ``layout``.
    index = skipped[skipped < len(layout.spans)]
    last = len(layout.spans) - 1
    # A quoted value over more than MAX_RECORD_LINES lines, whether the reader took the
    # record or rejected it, or a rejected one that runs to the end of the file.
    long = np.flatnonzero(layout.spans > MAX_RECORD_LINES)
    ends = index[(index == last) & (layout.spans[index] > 1)]
    runaway = np.sort(np.concatenate([long, ends]))
    if runaway.size:
        at = int(runaway[0])
        start, span = int(layout.start_line[at]), int(layout.spans[at])
        end = " to the end of the file" if at == last else ""
        raise PackageError(
            f"{shown}: the record on line {start} opens a quoted value that runs over "
            f"{span:,} lines{end}, so a quote is probably not closed: where the record ends "
            f"cannot be told, and {span - 1:,} line{'s' if span > 2 else ''} would be lost. "
            "Close the quote (a quote "
            'inside a quoted value is written twice: "") and send the file again.'
        )
    if layout.records != n_parsed + len(skipped) or index.size != skipped.size:
        malformed = engine.con.table(f"malformed__{raw.name}")
        quoted = malformed.filter(malformed.detail.contains("unquoted value"))._row.min()
        first = quoted.execute()
        where = ""
        if first is not None and int(first) < len(layout.start_line):
            where = f" The first quote problem is on line {int(layout.start_line[int(first)])}."
        raise PackageError(
            f"{shown}: the CSV reader found {n_parsed + len(skipped):,} records but the file "
            f"holds {layout.records:,} in {lines:,} lines; its quoting or line endings are "
            f"not consistent.{where} Check the file (one line ending throughout, quotes "
            "closed: a quote inside a quoted value is written twice)."
        )
    multi = index[layout.spans[index] > 1]
    if not skipped.size or not (layout.blank_before[-1] or multi.size):
        return skipped
    # Number the records again: blank lines are not records, and a rejected record over
    # several lines (a quote closed only further on) counts, and is quarantined, line by
    # line, so that it costs exactly the lines it spans.
    weight = np.ones(len(layout.spans), np.int64)
    weight[0] = 0  # the header
    weight[:-1][np.diff(layout.blank_before) > 0] = (
        0  # blank lines (row k, if k+1 has one more before it)
    )
    weight[multi] = layout.spans[multi]
    number = np.cumsum(weight) - weight + 1  # each row's first record number
    old = engine.con.table(f"malformed__{raw.name}").to_pyarrow().to_pylist()
    texts = _lines_of(raw.read_path, layout, multi)
    rows: list[dict[str, Any]] = []
    for record in old:
        at = int(record["_row"])  # the engine's number: the row's index in the layout
        if at in texts:
            rows += [
                {
                    "_row": int(number[at]) + j,
                    "value": text[:500],
                    "detail": "unquoted value over several lines: quarantined line by line",
                    "bad_encoding": False,
                }
                for j, text in enumerate(texts[at])
            ]
        else:
            rows.append(record | {"_row": int(number[at])})
    schema = pa.schema(
        [("_row", pa.int64()), ("value", pa.string()), ("detail", pa.string()),
         ("bad_encoding", pa.bool_())]
    )  # fmt: skip
    rows.sort(key=lambda r: int(str(r["_row"])))
    table = pa.Table.from_pylist(rows, schema=schema)
    engine.con.create_table(f"malformed__{raw.name}", table, overwrite=True)
    return np.asarray([r["_row"] for r in table.to_pylist()], dtype=np.int64)


def _lines_of(path: Path, layout: _CsvLayout, rows: NDArray[np.int64]) -> dict[int, list[str]]:
    """The physical lines of the given rows of ``layout`` (by row index), as text."""
    wanted = {int(layout.start_line[i]) + j: int(i) for i in rows for j in range(layout.spans[i])}
    out: dict[int, list[str]] = {int(i): [] for i in rows}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number in wanted:
                out[wanted[number]].append(line.rstrip("\r\n"))
    return out


def _position(index: int) -> str:
    """The engine's name of a file's column at 0-based ``index`` (``read__`` relations)."""
    return f"_c{index}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_table(
    engine: Engine,
    source: SourceFile,
    encoding: str,
    mapping: Mapping[str, str],
    fingerprint: Future[FileFingerprint],
) -> RawTable:
    """Read ``source`` into the engine and apply the column mapping; ``fingerprint`` is
    the file's hash and line count, being computed (the accounting is checked against it).

    Raises:
        DecodeError: a text file does not decode in ``encoding`` (a UTF-8 CSV file is
            only checked when it is scanned, by :func:`store_in_file_order`).
        PackageError: the file cannot be read, or a mapped column is not in it.
        ConfigError: the mapping names a column the contract does not have.
    """
    if engine.backend == "spark":
        from auditor.engine._spark_readers import read_table_spark

        return read_table_spark(engine, source, encoding, mapping, fingerprint)  # type: ignore[arg-type]
    assert isinstance(engine, DuckDBEngine)
    name = source.table
    path = source.path
    assert isinstance(path, Path), "DuckDB reads local files (see locate)"
    if source.format in ("csv", "jsonl") and not is_utf8(encoding):
        utf8 = engine.workdir / f"{name}.utf8{path.suffix}"
        transcode_to_utf8(path, utf8, encoding)
        path = utf8
        # Lines are counted in the text the engine reads: in UTF-16, say, a line feed
        # byte can be half of another character.
        counted: Future[FileFingerprint] = Future()
        counted.set_result(fingerprint_file(utf8))
        fingerprint = counted
    try:
        if source.format == "csv":
            file_columns = _read_csv(engine, name, str(path), source.path)
        elif source.format == "jsonl":
            lines = fingerprint.result().lines
            file_columns = _read_jsonl(engine, name, str(path), source.path, lines)
        else:
            file_columns = _read_parquet(engine, name, str(path))
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:  # the engine's own message says what is wrong with the file
        raise _unreadable(source, exc) from exc
    if source.format == "jsonl":
        _raise_on_bad_encoding(engine, name, source, encoding)

    renames = resolve_mapping(name, source, file_columns, mapping)
    renames |= _reserved_renames(source.path, file_columns, renames)
    select = ", ".join(
        ["_row"]
        + [
            f"{_position(i)} AS {_quote(renames.get(col, col))}"
            for i, col in enumerate(file_columns)
        ]
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
        fingerprint=fingerprint,
        read_path=path,
    )


@contextlib.contextmanager
def file_errors(source: SourceFile) -> Iterator[None]:
    """Report the engine's failures to read ``source`` while it is scanned (a corrupt
    Parquet page, a file that went away) as what they are: the file cannot be read (exit
    2), not a bug."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise _unreadable(source, exc) from exc
    except OSError as exc:
        raise PackageError(
            f"{source.path}: cannot be read ({exc.strerror or exc}). Check that the file "
            "exists and is readable."
        ) from exc


def _unreadable(source: SourceFile, exc: duckdb.Error) -> PackageError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return PackageError(
        f"{source.path}: cannot be read as {source.format.upper()}: {first_line}. "
        "Check that the file is complete and in the format its name says."
    )


def _account(engine: DuckDBEngine, name: str, n_parsed: int, skipped: np.ndarray) -> ReadAccount:
    malformed = engine.con.table(f"malformed__{name}")
    n_malformed = int(malformed.count().execute())
    return ReadAccount(
        malformed=malformed,
        rows_read=n_parsed + n_malformed,
        n_malformed=n_malformed,
        skipped_records=skipped,
    )


def _csv_header(path: Location, shown: Location) -> list[str]:
    """The header row, parsed by Python's csv module (the engine's sniffer is not used, so a
    broken record further down cannot make the whole file unreadable)."""
    with io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="") as fh:
        try:
            header = next(csv.reader(fh), None)
        except UnicodeDecodeError:
            header = None  # reported with its byte offset by the decode check
        except csv.Error as exc:
            raise PackageError(f"{shown}: the header row cannot be parsed ({exc}).") from exc
    if header is None:
        offset = first_undecodable_offset(path, "utf-8")
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


def _read_csv(engine: DuckDBEngine, name: str, path: str, shown: Location) -> list[str]:
    """Set up the scan of a CSV file (``read__<name>``); nothing is read but the header."""
    header = _csv_header(Path(path), shown)
    # The file's columns by position (the header row is skipped, its names never reach
    # the engine's text, so a column named like one of the engine's cannot collide).
    as_text = "{" + ", ".join(f"'{_position(i)}': 'VARCHAR'" for i in range(len(header))) + "}"
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS SELECT NULL::BIGINT AS _row, * "
        f"FROM read_csv({_literal(path)}, columns = {as_text}, auto_detect = false, "
        f"header = true, delim = ',', quote = '\"', escape = '\"', null_padding = false, "
        f"buffer_size = {_CSV_BUFFER_BYTES}, store_rejects = true, "
        f"rejects_table = {_literal('rejects__' + name)}, "
        f"rejects_scan = {_literal('rejects_scan__' + name)})"
    )
    return header


def _malformed_csv(engine: DuckDBEngine, name: str) -> np.ndarray:
    """After the scan: ``malformed__<name>`` from the reader's rejects, and the sorted
    record numbers of malformed records."""
    # One reject row per error; a record can have several. Record number = line - 1 (header).
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} AS "
        # The reader's text of a record in a CRLF file starts with the line feed before it.
        f"SELECT CAST(line - 1 AS BIGINT) AS _row, "
        f"any_value(trim(csv_line, chr(13) || chr(10))) AS value, "
        f"string_agg(DISTINCT lower(CAST(error_type AS VARCHAR)), '; ') AS detail, "
        f"bool_or(CAST(error_type AS VARCHAR) = 'INVALID ENCODING') AS bad_encoding "
        f"FROM {_quote('rejects__' + name)} GROUP BY line ORDER BY line"
    )
    skipped = engine.con.table(f"malformed__{name}")._row.execute().to_numpy()
    return np.sort(np.asarray(skipped, dtype=np.int64))


_JSONL_MAX_LINE_BYTES = 64 * 1024 * 1024
"""Longest JSON Lines line read as a record; a longer line is a malformed record."""

_JSON_STRINGS = r'"(\\.|[^"\\])*"'
"""A JSON string literal (RE2), to blank out before looking at what is outside strings."""

_NOT_STRICT_JSON = r"[A-DF-Za-df-z/]|,\s*[}\]]"
"""Outside strings (``true``, ``false``, ``null`` removed), what the engine's lenient JSON
reader accepts and RFC 8259 does not: ``NaN``, ``Infinity``, bare words, comments and
trailing commas (letters other than an exponent's ``e``)."""


def _read_jsonl(
    engine: DuckDBEngine, name: str, path: str, shown: Location, lines: int
) -> list[str]:
    """Set up ``read__<name>``: one row per line that holds a JSON object (strict RFC 8259:
    no trailing commas, ``NaN`` or comments), its position the line number; every other
    non-blank line, and lines the engine cannot read (over 64 MiB, or holding the reader's
    delimiter), go to ``malformed__<name>``."""
    text = f"jsonl__{name}"
    # Each line as one text value: the delimiter U+001F cannot appear raw in valid JSON
    # (a line holding it is rejected by the reader, and malformed).
    engine.sql("SET preserve_insertion_order = true")  # rowid must follow the file
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote(text)} AS SELECT line FROM read_csv("
        f"{_literal(path)}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(31), "
        f"quote = '', escape = '', auto_detect = false, store_rejects = true, "
        f"max_line_size = {_JSONL_MAX_LINE_BYTES}, buffer_size = {2 * _JSONL_MAX_LINE_BYTES}, "
        f"rejects_table = {_literal('rejects__' + name)}, "
        f"rejects_scan = {_literal('rejects_scan__' + name)})"
    )
    engine.sql("SET preserve_insertion_order = false")
    rejects = _quote("rejects__" + name)
    rejected = engine.sql(f"SELECT line FROM {rejects} GROUP BY line ORDER BY line").fetchall()
    # A rejected line is not in the text table: the line number of the table's n-th row is
    # n plus the rejected lines before it.
    shift = ""
    if rejected:
        numbers = np.asarray([r[0] for r in rejected], dtype=np.int64)
        engine.con.create_table(
            f"skips__{name}",
            pa.table({"_after": numbers - np.arange(1, numbers.size + 1)}),
            overwrite=True,
        )
        shift = f" + (SELECT count(*) FROM {_quote('skips__' + name)} s WHERE s._after <= t.rowid)"
    found = int(engine.sql(f"SELECT count(*) FROM {_quote(text)}").fetchone()[0])  # type: ignore[index]
    if found + len(rejected) != lines:
        raise PackageError(
            f"{shown}: the JSON Lines reader found {found + len(rejected):,} lines but the "
            f"file holds {lines:,}. Check that every line ends with a line feed."
        )
    numbered = f"lines__{name}"
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote(numbered)} AS SELECT t.rowid + 1{shift} AS _row, line, "
        f"CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' AND NOT regexp_matches("
        f"regexp_replace(regexp_replace(line, {_literal(_JSON_STRINGS)}, '\"\"', 'g'), "
        f"'true|false|null', '', 'g'), {_literal(_NOT_STRICT_JSON)}) ELSE false END AS _object "
        f"FROM {_quote(text)} AS t"
    )
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} AS "
        f"SELECT _row, line AS value, 'not a JSON object' AS detail, false AS bad_encoding "
        f"FROM {_quote(numbered)} WHERE line IS NOT NULL AND trim(line) <> '' AND NOT _object "
        f"UNION ALL SELECT CAST(line AS BIGINT), any_value(csv_line), "
        f"string_agg(DISTINCT lower(CAST(error_type AS VARCHAR)), '; '), "
        f"bool_or(CAST(error_type AS VARCHAR) = 'INVALID ENCODING') "
        f"FROM {rejects} GROUP BY line ORDER BY 1"
    )
    good = f"FROM {_quote(numbered)} WHERE _object"
    keys = engine.sql(
        f"SELECT key, min(_row) FROM (SELECT unnest(json_keys(line)) AS key, _row {good}) "
        f"GROUP BY key ORDER BY min(_row), key"
    ).fetchall()
    columns = [k for (k, _) in keys]
    first_line = {k: int(line) for (k, line) in keys}
    collision = _case_collision(columns)
    if collision:
        other, key = collision
        raise PackageError(
            f"{shown}: keys {other!r} (first on line {first_line[other]}) and {key!r} "
            f"(first on line {first_line[key]}) differ only in case; column names "
            "ignore case. Use one spelling for each column."
        )
    extracts = ", ".join(
        f"json_extract_string(line, {_literal('$.' + _quote(c))}) AS {_position(i)}"
        for i, c in enumerate(columns)
    )
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS SELECT _row"
        f"{', ' + extracts if extracts else ''} {good}"
    )
    return columns


def _read_parquet(engine: DuckDBEngine, name: str, path: str) -> list[str]:
    scan = f"read_parquet({_literal(path)}, file_row_number = true)"
    described = engine.sql(f"DESCRIBE SELECT * EXCLUDE (file_row_number) FROM {scan}")
    columns = [str(row[0]) for row in described.fetchall()]
    # The engine renames a repeated name (worker_pay, worker_pay_1); the file's own
    # names must be checked, as a CSV header's are.
    try:
        stored = pq.read_schema(path).names
    except (OSError, pa.ArrowException) as exc:
        raise PackageError(f"{path}: cannot be read as PARQUET: {exc}.") from exc
    collision = _case_collision(stored)
    if collision:
        other, column = collision
        raise PackageError(
            f"{path}: columns {other!r} and {column!r} have the same name (or differ only in "
            "case); column names ignore case. Rename one of them."
        )
    picks = "".join(f", {_quote(c)} AS {_position(i)}" for i, c in enumerate(columns))
    engine.sql(
        f"CREATE OR REPLACE VIEW {_quote('read__' + name)} AS "
        f"SELECT file_row_number + 1 AS _row{picks} FROM {scan}"
    )
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} (_row BIGINT, value VARCHAR, "
        f"detail VARCHAR, bad_encoding BOOLEAN)"
    )
    return columns


def _raise_on_bad_encoding(
    engine: DuckDBEngine, name: str, source: SourceFile, encoding: str
) -> None:
    bad = engine.con.table(f"malformed__{name}").bad_encoding.any().execute()
    if not bad:
        return
    # The engine only knows the line; find the exact byte in the file as submitted.
    assert isinstance(source.path, Path), "DuckDB reads local files (see locate)"
    offset = first_undecodable_offset(source.path, encoding if not is_utf8(encoding) else "utf-8")
    raise DecodeError(str(source.path), encoding, offset if offset is not None else 0)


def _case_collision(names: list[str]) -> tuple[str, str] | None:
    """The first two names that are the same but for case (the engine's column names ignore
    case; repeated names included), or None."""
    first: dict[str, int] = {}
    for position, name in enumerate(names):
        earlier = first.setdefault(name.casefold(), position)
        if earlier != position:
            return names[earlier], name
    return None


RESERVED_COLUMN = "rowid"
"""A column name the engine reserves (its row position); with the names auditor uses for
its own columns (all beginning with an underscore), a file's column of such a name is
kept under ``user_<name>``."""

_RESERVED_PREFIX = "user_"


def _reserved_renames(
    shown: Location, file_columns: list[str], renames: Mapping[str, str]
) -> dict[str, str]:
    """New names for the file's columns that would collide with the engine's or auditor's
    own (``rowid``, names beginning with ``_``): ``user_<name>``, made unique.

    Raises:
        PackageError: a column name holds a control character, or two names differ only
            in case (the engine's names ignore case).
    """
    for position, col in enumerate(file_columns, start=1):
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in col):
            raise PackageError(
                f"{shown}: the name of column {position} holds a control character "
                f"({col.encode('unicode_escape').decode('ascii')[:60]}). Rename it."
            )
    final = [renames.get(c, c) for c in file_columns]
    taken = {c.casefold() for c in final}
    out: dict[str, str] = {}
    for col in file_columns:
        if col in renames or not (col.startswith("_") or col.casefold() == RESERVED_COLUMN):
            continue
        new = _RESERVED_PREFIX + col.lstrip("_")
        while new.casefold() in taken:
            new += "_"
        taken.add(new.casefold())
        out[col] = new
    collision = _case_collision(final)
    if collision:
        other, col = collision
        raise PackageError(
            f"{shown}: columns {other!r} and {col!r} differ only in case; column names "
            "ignore case. Rename one of them."
        )
    return out


def resolve_mapping(
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


_FILE_COLUMN = "_auditor_file"
"""The name under which the engine's reader gives each record's file."""

GLOB_CHARACTERS = "*?["
"""Characters the engine's Parquet reader takes as a pattern in a path."""


def parquet_file_rows(paths: tuple[Location, ...], needs: tuple[str, ...]) -> list[int]:
    """The number of records in each Parquet file of ``paths``, after checking its
    columns (see :func:`read_parquet_files`).

    Raises:
        PackageError: as :func:`read_parquet_files`.
    """
    counts: list[int] = []
    for path in paths:
        if any(ch in str(path) for ch in GLOB_CHARACTERS):
            raise PackageError(
                f"{path}: the engine reads *, ? and [ in a path as a pattern (it would read "
                "other files, or none). Rename the file or its folder."
            )
        try:
            rows, stored = parquet_footer(path)
        except (OSError, pa.ArrowException) as exc:
            raise PackageError(f"{path}: cannot be read as PARQUET: {exc}.") from exc
        counts.append(rows)
        have = {c.casefold() for c in stored}
        if "file_row_number" in have or _FILE_COLUMN.casefold() in have:
            raise PackageError(
                f"{path}: a column named file_row_number (or {_FILE_COLUMN}) collides with "
                "the engine's record numbers. Rename it."
            )
        lacking = [c for c in needs if c.casefold() not in have]
        if lacking:
            raise PackageError(
                f"{path}: column{'s' if len(lacking) > 1 else ''} {', '.join(lacking)} "
                f"missing; every file must have them. The file's columns: {', '.join(stored)}."
            )
        collision = _case_collision(stored)
        if collision:
            other, column = collision
            raise PackageError(
                f"{path}: columns {other!r} and {column!r} have the same name (or differ only "
                "in case); column names ignore case. Rename one of them."
            )
    return counts


def parquet_footer(path: Location) -> tuple[int, list[str]]:
    """A Parquet file's number of records and column names, from its footer (a file
    behind a URI is read through its file system).

    Raises:
        OSError, pyarrow.ArrowException: the file cannot be read as Parquet.
    """
    if isinstance(path, Path):
        return pq.read_metadata(path).num_rows, list(pq.read_schema(path).names)
    with path.open("rb") as fh:
        footer = pq.ParquetFile(fh)
        return footer.metadata.num_rows, list(footer.schema_arrow.names)


def read_parquet_files(
    engine: Engine,
    source: SourceFile,
    paths: tuple[Location, ...],
    fingerprint: Future[FileFingerprint],
    needs: tuple[str, ...] = (),
) -> RawTable:
    """Read the Parquet files ``paths`` as one table ``source.table``, in the order given,
    with the files' own column names (no contract mapping: a preset derives the contract's
    columns from them).

    ``_row`` numbers the records across the files (the second file's first record follows
    the first file's last); ``_file`` (0-based index into ``paths``) and ``_file_row``
    (1-based record in that file) say where each record is. Files whose columns differ are
    read by name (a column one file lacks is null there).

    ``needs``: columns every file must have (compared ignoring case).

    Raises:
        PackageError: a path holds a pattern character (``*``, ``?``, ``[``), a file cannot
            be read as Parquet, lacks a column of ``needs``, or has two columns that
            differ only in case.
    """
    if engine.backend == "spark":
        from auditor.engine._spark_readers import read_parquet_files_spark

        return read_parquet_files_spark(engine, source, paths, fingerprint, needs)  # type: ignore[arg-type]
    assert isinstance(engine, DuckDBEngine)
    assert all(isinstance(p, Path) for p in paths), "DuckDB reads local files (see locate)"
    name = source.table
    counts = parquet_file_rows(paths, needs)
    listed = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    scan = (
        f"read_parquet({listed}, file_row_number = true, filename = {_literal(_FILE_COLUMN)}, "
        "union_by_name = true)"
    )
    index = (
        f"CASE {_quote(_FILE_COLUMN)} "
        + " ".join(f"WHEN {_literal(str(p))} THEN {i}" for i, p in enumerate(paths))
        + " END"
    )
    starts = [0]
    for n in counts[:-1]:
        starts.append(starts[-1] + n)
    offset = (
        f"CASE {_quote(_FILE_COLUMN)} "
        + " ".join(
            f"WHEN {_literal(str(p))} THEN {start}" for p, start in zip(paths, starts, strict=True)
        )
        + " END"
    )
    try:
        described = engine.sql(
            f"DESCRIBE SELECT * EXCLUDE (file_row_number, {_quote(_FILE_COLUMN)}) FROM {scan}"
        )
        columns = [str(row[0]) for row in described.fetchall()]
        renames = _reserved_renames(source.path, columns, {})
        picks = "".join(f", {_quote(c)} AS {_quote(renames.get(c, c))}" for c in columns)
        engine.sql(
            f"CREATE OR REPLACE VIEW {_quote('raw__' + name)} AS SELECT "
            f"{offset} + file_row_number + 1 AS _row, {index} AS _file, "
            f"file_row_number + 1 AS _file_row{picks} FROM {scan}"
        )
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise _unreadable(source, exc) from exc
    engine.sql(
        f"CREATE OR REPLACE TABLE {_quote('malformed__' + name)} (_row BIGINT, value VARCHAR, "
        f"detail VARCHAR, bad_encoding BOOLEAN)"
    )
    kept = tuple(renames.get(c, c) for c in columns)
    return RawTable(
        name=name,
        source=source,
        raw=engine.con.table(f"raw__{name}"),
        columns=kept,
        source_columns={renames.get(c, c): c for c in columns},
        encoding="utf-8",
        account=_account(engine, name, sum(counts), np.empty(0, dtype=np.int64)),
        fingerprint=fingerprint,
        read_path=source.path,
    )
