"""Write a simulated package to a directory as CSV, Parquet or JSONL, in chunks.

Text formats (CSV, JSONL) share one rendering: timestamps as ISO 8601 local time with the UTC
offset (``2026-03-02T08:15:00+08:00``), dates ``YYYY-MM-DD``, money with at most 2 decimals,
booleans ``true``/``false``. CSV writes an empty cell for null, JSONL ``null``. Tables are
rendered ``chunk_rows`` rows at a time, so the text of a large table is never held whole.
"""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ._platform import SimulatedPackage

__all__ = ["FORMATS", "write_package"]

FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")
_MONEY = frozenset(
    {
        "customer_price",
        "pass_through",
        "worker_pay",
        "incentive",
        "tip",
        "tip_to_worker",
        "commission",
        "injury_premium",
        "offered_pay",
        "gross_credited",
        "deductions_total",
        "net_paid",
        "amount",
    }
)
_NULL = pa.scalar(None, pa.string())
_ROW_GROUP = 1_000_000


def _offset_labels(seconds: np.ndarray) -> pa.Array:
    """``+08:00``-style labels of UTC offsets given in seconds."""
    uniq, inv = np.unique(seconds, return_inverse=True)
    labels = [
        f"{'+' if s >= 0 else '-'}{abs(s) // 3600:02d}:{abs(s) % 3600 // 60:02d}"
        for s in uniq.tolist()
    ]
    return pa.array(labels, pa.string()).take(pa.array(inv.astype(np.int32)))


def _iso_timestamps(col: pa.Array) -> pa.Array:
    """ISO 8601 strings of a timestamp array, with the local UTC offset when it has a zone."""
    typ = col.type
    us = col.cast(pa.timestamp("us", tz=typ.tz))
    micros = us.cast(pa.int64()).fill_null(0).to_numpy()
    unit = "s" if not (micros % 1_000_000).any() else "us"
    local = pc.local_timestamp(us) if typ.tz else us
    text = pc.cast(local.cast(pa.timestamp(unit)), pa.string())
    text = pc.utf8_replace_slice(text, start=10, stop=11, replacement="T")
    if typ.tz:
        local_us = local.cast(pa.int64()).fill_null(0).to_numpy()
        text = pc.binary_join_element_wise(
            text, _offset_labels((local_us - micros) // 1_000_000), ""
        )
    return text


def _render(col: pa.Array, name: str) -> pa.Array:
    """A column as the text formats write it (strings for times and dates, rounded money)."""
    typ = col.type
    if pa.types.is_timestamp(typ):
        return _iso_timestamps(col)
    if pa.types.is_date(typ):
        return pc.cast(col, pa.string())
    if name in _MONEY and pa.types.is_floating(typ):
        return pc.round(col, 2)
    return col


def _json_escape(col: pa.Array) -> pa.Array:
    """Escape backslashes, quotes and control characters for a JSON string."""
    if not pc.any(pc.match_substring_regex(col, r'["\\\x00-\x1f]')).as_py():
        return col
    esc = pc.replace_substring(col, "\\", "\\\\")
    esc = pc.replace_substring(esc, '"', '\\"')
    for code in range(32):
        if pc.any(pc.match_substring(esc, chr(code))).as_py():
            esc = pc.replace_substring(esc, chr(code), f"\\u{code:04x}")
    return esc


def _json_values(col: pa.Array, name: str) -> pa.Array:
    """JSON text of each value of ``col`` (``null`` for missing)."""
    col = _render(col, name)
    typ = col.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pc.binary_join_element_wise('"', _json_escape(col), '"', "")
    elif pa.types.is_floating(typ):
        text = pc.if_else(pc.is_finite(col), pc.cast(col, pa.string()), _NULL)
    else:
        text = pc.cast(col, pa.string())
    key = json.dumps(name, ensure_ascii=False) + ":"
    return pc.binary_join_element_wise(key, text.fill_null("null"), "")


def _jsonl_bytes(batch: pa.RecordBatch) -> bytes:
    """The JSONL text of ``batch``, UTF-8."""
    parts = [_json_values(batch.column(i), name) for i, name in enumerate(batch.schema.names)]
    lines = pc.binary_join_element_wise("{", pc.binary_join_element_wise(*parts, ","), "}\n", "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if len(lines) == 0:
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    data = lines.buffers()[2]
    return memoryview(data)[offsets[0] : offsets[len(lines)]].tobytes()


def _csv_bytes(batch: pa.RecordBatch, quoting: str) -> bytes:
    """CSV text of ``batch`` without header, UTF-8."""
    cols = [_render(batch.column(i), name) for i, name in enumerate(batch.schema.names)]
    buf = io.BytesIO()
    table = pa.Table.from_arrays(cols, names=batch.schema.names)
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False, quoting_style=quoting))
    return buf.getvalue()


def _csv_header(names: list[str]) -> str:
    def cell(name: str) -> str:
        if any(c in name for c in ',"\r\n'):
            return '"' + name.replace('"', '""') + '"'
        return name

    return ",".join(cell(n) for n in names) + "\n"


def _write_text(table: pa.Table, path: Path, fmt: str, encoding: str, chunk_rows: int) -> None:
    quoting = "none"
    while True:
        try:
            with path.open("wb") as out:
                if fmt == "csv":
                    out.write(_csv_header(table.schema.names).encode(encoding))
                for batch in table.to_batches(max_chunksize=chunk_rows):
                    text = _csv_bytes(batch, quoting) if fmt == "csv" else _jsonl_bytes(batch)
                    if encoding.replace("-", "").replace("_", "").lower() != "utf8":
                        text = text.decode("utf-8").encode(encoding)
                    out.write(text)
            return
        except pa.ArrowInvalid:
            if fmt != "csv" or quoting == "needed":
                raise
            quoting = "needed"  # a value holds a comma, quote or newline: quote strings


def write_package(
    package: SimulatedPackage,
    out_dir: str | Path,
    *,
    fmt: str = "csv",
    encoding: str = "utf-8",
    chunk_rows: int = 250_000,
) -> Path:
    """Write every table as ``<name>.csv|.parquet|.jsonl`` plus ``ground_truth.json``.

    Args:
        package: what `simulate` returned.
        out_dir: directory to write into (created if missing; files of the same names are
            replaced).
        fmt: ``"csv"``, ``"parquet"`` or ``"jsonl"``.
        encoding: text encoding of CSV and JSONL files, e.g. ``"utf-8"`` or ``"gb18030"``
            (``ground_truth.json`` is always UTF-8).
        chunk_rows: rows rendered and written at a time in the text formats (Parquet row
            groups hold 1,000,000 rows).

    Returns:
        ``out_dir`` as a `Path`.
    """
    if fmt not in FORMATS:
        raise ValueError(
            f"write_package fmt must be one of {', '.join(FORMATS)}. Got {fmt!r} instead."
        )
    codecs.lookup(encoding)  # raises LookupError early for an unknown encoding
    if chunk_rows < 1:
        raise ValueError(f"write_package chunk_rows must be >= 1. Got {chunk_rows!r} instead.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in package.tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            with pq.ParquetWriter(path, table.schema) as writer:
                writer.write_table(table, row_group_size=_ROW_GROUP)
        else:
            _write_text(table, path, fmt, encoding, chunk_rows)
    text = json.dumps(package.ground_truth, indent=2, sort_keys=True, ensure_ascii=False)
    (out / "ground_truth.json").write_text(text + "\n", encoding="utf-8")
    return out
