"""Reading package files into Spark, with the same row numbers and the same malformed
records as the DuckDB reader (``auditor.engine._readers``).

- **CSV** is read as lines (Spark's text reader), numbered in file order, and each line
  parsed by Spark's CSV parser into text columns; a line with the wrong number of
  fields is malformed. A record must fit on one line: a quoted value that holds a line
  break stops the run with a message (read such a file on DuckDB, or as Parquet).
- **Parquet** rows are numbered by Spark's ``_metadata.row_index``.
- **JSON Lines** is read as lines; each line that holds a JSON object is a record and
  every other non-blank line is malformed.

Files other than UTF-8 are transcoded first, as for DuckDB. Only counts (one per Spark
partition) come back to the driver.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812  (Spark's own convention)
from pyspark.sql.types import StringType, StructField, StructType

from auditor.engine._decode import first_undecodable_offset, is_utf8, transcode_to_utf8
from auditor.engine._files import FileFingerprint, Location, SourceFile, fingerprint_file
from auditor.engine._hadoop import HadoopPath, java_reason
from auditor.engine._readers import (
    _JSON_STRINGS,
    _NOT_STRICT_JSON,
    RawTable,
    ReadAccount,
    _case_collision,
    _csv_header,
    _position,
    _reserved_renames,
    parquet_file_rows,
    parquet_footer,
    resolve_mapping,
)
from auditor.engine._spark import SparkEngine
from auditor.errors import DecodeError, PackageError

__all__ = ["read_parquet_files_spark", "read_table_spark"]

_QUOTED = '"(?:[^"]|"")*"'
_UNQUOTED = '(?:[^",][^,]*)?'
_FIELD = f"(?:{_QUOTED}|{_UNQUOTED})"
_WELL_QUOTED = f"^{_FIELD}(?:,{_FIELD})*$"
"""A CSV line whose fields are each quoted whole (``"a ""b"" c"``) or unquoted (which may
hold a quote after its first character, as DuckDB reads ``Z"04``); text after a closing
quote (``"Z04"x``) is malformed, as DuckDB's reader finds it."""
_OPEN_QUOTE = f'^(?:{_FIELD},)*"(?:[^"]|"")*$'
"""A CSV line that ends inside a quoted value: a record that goes on over the next line."""

_MALFORMED_SCHEMA = "_row BIGINT, value STRING, detail STRING, bad_encoding BOOLEAN"


def read_table_spark(
    engine: SparkEngine,
    source: SourceFile,
    encoding: str,
    mapping: Mapping[str, str],
    fingerprint: Future[FileFingerprint],
) -> RawTable:
    """Read ``source`` into Spark as ``raw__<table>`` (``_row`` and the file's columns
    under their contract names) and ``malformed__<table>``, counted.

    Raises:
        DecodeError: a text file does not decode in ``encoding``.
        PackageError: the file cannot be read, a CSV record spans lines, or a mapped
            column is not in it.
    """
    name = source.table
    path = source.path
    refuse_patterns(path)
    if source.format in ("csv", "jsonl"):
        if not is_utf8(encoding) and isinstance(path, HadoopPath):
            raise PackageError(
                f"{path}: a {encoding} text file behind a URI is not read (Spark reads "
                "UTF-8 text; a copy in another encoding would be transcoded on this "
                "machine). Submit it as UTF-8 or Parquet, or audit a local copy."
            )
        if not is_utf8(encoding):
            assert isinstance(path, Path)
            utf8 = engine.workdir / f"{name}.utf8{path.suffix}"
            transcode_to_utf8(path, utf8, encoding)
            path = utf8
        else:
            offset = first_undecodable_offset(path, "utf-8")
            if offset is not None:
                raise DecodeError(str(source.path), encoding, offset)
    with _spark_errors(source.path):
        if source.format == "csv":
            frame, malformed, file_columns = _read_csv(engine, path, source.path)
        elif source.format == "jsonl":
            frame, malformed, file_columns = _read_jsonl(engine, path, source.path)
        else:
            frame, malformed, file_columns = _read_parquet(engine, path)
    renames = resolve_mapping(name, source, file_columns, mapping)
    renames |= _reserved_renames(source.path, file_columns, renames)
    frame = frame.select(
        "_row",
        *[F.col(_position(i)).alias(renames.get(c, c)) for i, c in enumerate(file_columns)],
    )
    with _spark_errors(source.path):
        raw = engine.keep(f"raw__{name}", frame)
        bad = engine.keep(f"malformed__{name}", malformed)
    n_parsed = int(raw.count().execute())
    skipped = np.empty(0, dtype=np.int64)
    if source.format == "csv":
        skipped = np.sort(np.asarray(bad._row.execute().to_numpy(), dtype=np.int64))
    n_malformed = int(bad.count().execute())
    account = ReadAccount(
        malformed=bad,
        rows_read=n_parsed + n_malformed,
        n_malformed=n_malformed,
        skipped_records=skipped,
    )
    counted: Future[FileFingerprint] = fingerprint
    if path != source.path:
        counted = Future()
        counted.set_result(fingerprint_file(path))
    return RawTable(
        name=name,
        source=source,
        raw=raw,
        columns=tuple(renames.get(c, c) for c in file_columns),
        source_columns={renames.get(c, c): c for c in file_columns},
        encoding=encoding,
        account=account,
        fingerprint=counted,
        read_path=path,
    )


SPARK_PATTERN_CHARACTERS = "*?[]{}"
"""Characters Spark's file reader takes as a pattern in a path."""


def refuse_patterns(path: Location) -> None:
    """Refuse a path Spark would read as a pattern (other files, or none).

    Raises:
        PackageError: the path holds ``*``, ``?``, ``[``, ``]``, ``{`` or ``}``.
    """
    if any(ch in str(path) for ch in SPARK_PATTERN_CHARACTERS):
        raise PackageError(
            f"{path}: Spark reads *, ?, [, ] and braces in a path as a pattern (it would "
            "read other files, or none). Rename the file or its folders, or run on DuckDB."
        )


@contextlib.contextmanager
def _spark_errors(shown: Location) -> Iterator[None]:
    """Report Spark's failures to read a file as what they are: the file cannot be read
    (exit 2), naming it and Spark's reason."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JJavaError) as exc:
        raise PackageError(f"{shown}: Spark cannot read it: {java_reason(exc)}") from exc


def _file_lines(engine: SparkEngine, path: Location) -> DataFrame:
    """The file's lines (``value``), stored, with where each lies: its partition
    (``_part``; partitions of one file follow its byte order) and an id increasing along
    the partition (``_id``)."""
    lines = engine.session.read.text(str(path)).select(
        F.col("value"),
        F.spark_partition_id().alias("_part"),
        F.monotonically_increasing_id().alias("_id"),
    )
    return lines.localCheckpoint(eager=True)


def _numbered(engine: SparkEngine, frame: DataFrame, name: str) -> DataFrame:
    """``frame`` (rows of one file, with ``_part`` and ``_id``) with ``name``, the 1-based
    position of each row in file order: its rank within its partition plus the rows of the
    partitions before. Each partition is ranked apart, in parallel; only one count per
    partition comes to the driver."""
    within = Window.partitionBy("_part").orderBy("_id")
    ranked = frame.withColumn("_k", F.row_number().over(within)).localCheckpoint(eager=True)
    counts = sorted(
        (int(r["_part"]), int(r["n"]))
        for r in ranked.groupBy("_part").count().withColumnRenamed("count", "n").collect()
    )
    before, shifts = 0, []
    for part, n in counts:
        shifts.append((part, before))
        before += n
    shift = engine.session.createDataFrame(shifts or [(0, 0)], "_part INT, _before BIGINT")
    return (
        ranked.join(F.broadcast(shift), "_part")
        .withColumn(name, (F.col("_k") + F.col("_before")).cast("bigint"))
        .drop("_k", "_before")
    )


def _read_csv(
    engine: SparkEngine, path: Location, shown: Location
) -> tuple[DataFrame, DataFrame, list[str]]:
    header = _csv_header(path, shown)
    lines = _numbered(engine, _file_lines(engine, path), "_line")
    body = lines.filter(F.col("_line") > 1).withColumn(
        "value", F.regexp_replace("value", "\r$", "")
    )
    body = body.filter(F.col("value") != "")
    split = body.filter(F.col("value").rlike(_OPEN_QUOTE)).agg(F.min("_line")).collect()[0][0]
    if split is not None:
        raise PackageError(
            f"{shown}: line {split} opens a quoted value that ends on a later line. On Spark a "
            "CSV record must fit on one line: run this package on DuckDB, or submit the "
            "table as Parquet or JSON Lines."
        )
    # Records are numbered in file order, blank lines left out, as DuckDB numbers them.
    records = _numbered(engine, body, "_row")
    schema = ", ".join(f"{_position(i)} STRING" for i in range(len(header)))
    parsed = records.select(
        "_part",
        "_id",
        "_row",
        "value",
        F.from_csv(
            "value",
            f"{schema}, _corrupt STRING",
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt", "escape": '"'},
        ).alias("r"),
    )
    corrupt = F.col("r._corrupt").isNotNull() | ~F.col("value").rlike(_WELL_QUOTED)
    parsed = parsed.withColumn("_corrupt", corrupt)
    good = parsed.filter(~F.col("_corrupt")).select(
        "_part",
        "_id",
        *[F.col(f"r.{_position(i)}").alias(_position(i)) for i in range(len(header))],
    )
    bad = parsed.filter(F.col("_corrupt")).select(
        "_row",
        "value",
        F.lit(f"expected {len(header)} fields").alias("detail"),
        F.lit(False).alias("bad_encoding"),
    )
    # Parsed rows are numbered among parsed rows, as DuckDB's rows are; the malformed keep
    # their record number (ReadAccount.record_numbers turns one into the other).
    good = _numbered(engine, good, "_row").drop("_part", "_id")
    return good, bad, header


_AFTER_A_VALUE = r'[}\]"0-9]\s*[{\[]|[}\]]\s*["0-9-]'
"""Outside strings, a value directly followed by another (``{..}{..}``, ``{..} 5``), which
Spark's parser ignores after the first and DuckDB's refuses."""


def _read_jsonl(
    engine: SparkEngine, path: Location, shown: Location
) -> tuple[DataFrame, DataFrame, list[str]]:
    lines = _numbered(engine, _file_lines(engine, path), "_row").drop("_part", "_id")
    blank = F.trim(F.col("value")) == ""
    outside = F.regexp_replace(
        F.regexp_replace("value", _JSON_STRINGS, '""'), "true|false|null", ""
    )
    keys = F.json_object_keys("value")
    is_object = (
        keys.isNotNull()
        & ~outside.rlike(_NOT_STRICT_JSON)
        & ~outside.rlike(_AFTER_A_VALUE)
        # a raw control character (other than tab and line ends), which JSON forbids
        & ~F.col("value").rlike("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]")
    )
    checked = lines.filter(~blank).withColumn("_object", is_object)
    checked = checked.localCheckpoint(eager=True)
    good = checked.filter("_object")
    bad = checked.filter(~F.col("_object")).select(
        "_row",
        "value",
        F.lit("not a JSON object").alias("detail"),
        F.lit(False).alias("bad_encoding"),
    )
    found = (
        good.select("_row", F.explode(F.json_object_keys("value")).alias("key"))
        .groupBy("key")
        .agg(F.min("_row").alias("first"))
        .orderBy("first", "key")
        .collect()
    )
    columns = [str(r["key"]) for r in found]
    first_line = {str(r["key"]): int(r["first"]) for r in found}
    collision = _case_collision(columns)
    if collision:
        other, key = collision
        raise PackageError(
            f"{shown}: keys {other!r} (first on line {first_line[other]}) and {key!r} "
            f"(first on line {first_line[key]}) differ only in case; column names "
            "ignore case. Use one spelling for each column."
        )
    frame = good.select(
        F.col("_row").cast("bigint").alias("_row"),
        *[_json_field(c).alias(_position(i)) for i, c in enumerate(columns)],
    )
    return frame, bad.withColumn("_row", F.col("_row").cast("bigint")), columns


def _json_field(key: str) -> Column:
    """The text of ``key``'s value in each line (a string's text, other values as JSON):
    by JSON path, or, for a key a path cannot quote (one holding ``'``), by parsing the line
    as a record of that one field."""
    if "'" not in key:
        return F.get_json_object("value", f"$['{key}']")
    schema = StructType([StructField(key, StringType())])
    return F.from_json("value", schema)[key]


def _read_parquet(engine: SparkEngine, path: Location) -> tuple[DataFrame, DataFrame, list[str]]:
    try:
        stored = parquet_footer(path)[1]
    except (OSError, pa.ArrowException) as exc:
        raise PackageError(f"{path}: cannot be read as PARQUET: {exc}.") from exc
    collision = _case_collision(stored)
    if collision:
        other, column = collision
        raise PackageError(
            f"{path}: columns {other!r} and {column!r} have the same name (or differ only in "
            "case); column names ignore case. Rename one of them."
        )
    data = engine.session.read.parquet(str(path))
    frame = data.select(
        (F.col("_metadata.row_index") + 1).cast("bigint").alias("_row"),
        *[F.col(f"`{c}`").alias(_position(i)) for i, c in enumerate(stored)],
    )
    empty = engine.session.createDataFrame([], _MALFORMED_SCHEMA)
    return frame, empty, list(stored)


def read_parquet_files_spark(
    engine: SparkEngine,
    source: SourceFile,
    paths: tuple[Location, ...],
    fingerprint: Future[FileFingerprint],
    needs: tuple[str, ...] = (),
) -> RawTable:
    """Spark's :func:`auditor.engine.read_parquet_files`: the files as one table, records
    numbered across them in the order given (``_row``, ``_file``, ``_file_row``)."""
    name = source.table
    for path in paths:
        refuse_patterns(path)
    counts = parquet_file_rows(paths, needs)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
    with _spark_errors(source.path):
        data = engine.session.read.option("mergeSchema", "true").parquet(*[str(p) for p in paths])
    columns = list(data.columns)
    renames = _reserved_renames(source.path, columns, {})
    # The files' places, keyed by the path Spark records (a URI) for each of them.
    placed = engine.session.createDataFrame(
        [(i, int(start)) for i, start in enumerate(starts)], "_file INT, _start BIGINT"
    )
    named = data.select(
        F.col("_metadata.file_path").alias("_path"),
        (F.col("_metadata.row_index") + 1).alias("_file_row"),
        *[F.col(f"`{c}`").alias(renames.get(c, c)) for c in columns],
    )
    uris = sorted(str(r["_path"]) for r in named.select("_path").distinct().collect())
    by_uri = {_same_file(u): u for u in uris}
    keys = [_file_key(p) for p in paths]
    index = engine.session.createDataFrame(
        [(by_uri[k], i) for i, k in enumerate(keys) if k in by_uri],
        "_path STRING, _file INT",
    ).join(placed, "_file")
    frame = named.join(F.broadcast(index), "_path").select(
        (F.col("_start") + F.col("_file_row")).cast("bigint").alias("_row"),
        F.col("_file").cast("int").alias("_file"),
        F.col("_file_row").cast("bigint").alias("_file_row"),
        *[renames.get(c, c) for c in columns],
    )
    with _spark_errors(source.path):
        raw = engine.keep(f"raw__{name}", frame)
    if (placed := int(raw.count().execute())) != sum(counts):  # every record placed
        raise RuntimeError(
            f"{source.path}: {placed:,} of the {sum(counts):,} records of the files were "
            f"placed in file order (the files Spark read: {', '.join(uris)})"
        )
    bad = engine.keep(f"malformed__{name}", engine.session.createDataFrame([], _MALFORMED_SCHEMA))
    kept = tuple(renames.get(c, c) for c in columns)
    return RawTable(
        name=name,
        source=source,
        raw=raw,
        columns=kept,
        source_columns={renames.get(c, c): c for c in columns},
        encoding="utf-8",
        account=ReadAccount(
            malformed=bad,
            rows_read=sum(counts),
            n_malformed=0,
            skipped_records=np.empty(0, dtype=np.int64),
        ),
        fingerprint=fingerprint,
        read_path=source.path,
    )


def _file_key(path: Location) -> str:
    """A file's identity as :func:`_same_file` gives it for the URI Spark records."""
    return _same_file(path.qualified()) if isinstance(path, HadoopPath) else str(path.resolve())


def _same_file(uri: str) -> str:
    """The identity of the file at ``uri`` (as Spark records it, or as Hadoop qualifies
    it): a ``file:`` URI's local path; any other URI without its percent-encoding."""
    from urllib.parse import unquote

    return str(_local_path(uri)) if uri[:5].lower() == "file:" else unquote(uri)


def _local_path(uri: str) -> Path:
    """The local path of a ``file:`` URI as Spark writes them (``file:/a/b`` or
    ``file:///a/b``, percent-encoded)."""
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path)).resolve()
