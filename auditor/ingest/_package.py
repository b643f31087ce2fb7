"""Find a package's table files and fingerprint them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import PackageError
from auditor.schema import FILE_FORMATS, TABLE_ORDER, TABLES

__all__ = ["SourceFile", "discover", "sha256_file"]

_CHUNK = 1 << 22  # 4 MiB


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One table file of a package.

    Attributes:
        table: contract table name (the file stem).
        path: the file.
        format: "csv", "parquet" or "jsonl".
        size_bytes: file size in bytes.
    """

    table: str
    path: Path
    format: str
    size_bytes: int


def discover(package: Path) -> tuple[dict[str, SourceFile], tuple[str, ...]]:
    """Map each contract table to its file; list the files that are not tables.

    Raises:
        PackageError: the folder is missing, holds two files for one table, or has no orders.
    """
    if not package.exists():
        raise PackageError(f"{package}: no such package folder. Pass the folder of orders.csv.")
    if not package.is_dir():
        raise PackageError(
            f"{package}: a package is a folder of table files (orders.csv, sessions.parquet, ...), "
            "not a single file. Pass the folder that holds it."
        )
    found: dict[str, SourceFile] = {}
    ignored: list[str] = []
    for path in sorted(package.iterdir()):
        fmt = FILE_FORMATS.get(path.suffix.lower())
        if not path.is_file() or fmt is None or path.stem not in TABLES:
            if path.is_file():
                ignored.append(path.name)
            continue
        if path.stem in found:
            raise PackageError(
                f"{package}: two files for table {path.stem!r}: {found[path.stem].path.name} and "
                f"{path.name}. Keep one of them."
            )
        found[path.stem] = SourceFile(path.stem, path, fmt, path.stat().st_size)
    if "orders" not in found:
        raise PackageError(
            f"{package}: the required table 'orders' is missing. Add orders.csv, orders.parquet "
            "or orders.jsonl (one row per accepted order; see the data contract)."
        )
    ordered = {name: found[name] for name in TABLE_ORDER if name in found}
    return ordered, tuple(ignored)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (hashlib releases the GIL: run it in a thread)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
