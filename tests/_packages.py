"""Packages built for tests from the fixtures."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


def as_text_table(csv_file: Path) -> pa.Table:
    """A CSV file's records with every column as text, as the CSV reader sees them."""
    names = pcsv.open_csv(csv_file).schema.names
    types = {c: pa.string() for c in names}
    return pcsv.read_csv(csv_file, convert_options=pcsv.ConvertOptions(column_types=types))


def split_into_parts(table: pa.Table, folder: Path, parts: int) -> None:
    """Write ``table`` as ``parts`` Parquet files in ``folder``, with the ``_SUCCESS``
    marker a writer leaves."""
    folder.mkdir(parents=True)
    step = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i:05d}.snappy.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
