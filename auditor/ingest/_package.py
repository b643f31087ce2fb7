"""Find a package's table files and fingerprint them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from auditor.errors import PackageError
from auditor.schema import FILE_FORMATS, TABLE_ORDER, TABLES

__all__ = ["FileFingerprint", "SourceFile", "discover", "fingerprint_file"]

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


def discover(
    package: Path, *, outside_files: bool = False
) -> tuple[dict[str, SourceFile], tuple[str, ...]]:
    """Map each contract table to its file; list the files that are not tables.

    A table file that is a link to a file outside the package folder is refused unless
    ``outside_files`` (``[package] allow_outside_links``): a package is what the platform
    sent, and a link must not make auditor read (and quote) a file of the machine it
    runs on.

    Raises:
        PackageError: the folder is missing or unreadable, holds two files for one table,
            links a table outside itself, or has no orders.
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
    try:
        entries = sorted(package.iterdir())
    except OSError as exc:
        raise PackageError(
            f"{package}: the package folder cannot be read ({exc.strerror}). Check its permissions."
        ) from exc
    home = package.resolve()
    for path in entries:
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
        if not outside_files and home not in path.resolve().parents:
            raise PackageError(
                f"{path}: a link to a file outside the package folder. Copy the file into "
                "the package, or set [package] allow_outside_links = true to read it."
            )
        found[path.stem] = SourceFile(path.stem, path, fmt, path.stat().st_size)
    if "orders" not in found:
        raise PackageError(
            f"{package}: the required table 'orders' is missing. Add orders.csv, orders.parquet "
            "or orders.jsonl (one row per accepted order; see the data contract)."
        )
    ordered = {name: found[name] for name in TABLE_ORDER if name in found}
    return ordered, tuple(ignored)


@dataclass(frozen=True, slots=True)
class FileFingerprint:
    """What one read of a file's bytes finds.

    Attributes:
        sha256: SHA-256 of the bytes, hex.
        lines: physical lines: line feeds, plus one for a last line without one (an empty
            file has none). Row accounting of text files is checked against it.
        blank_lines: empty lines (a line feed right after a line feed, or after a carriage
            return that follows one), which readers skip: with ``lines`` they account for
            a file without any record over several lines, with no further reading.
    """

    sha256: str
    lines: int
    blank_lines: int


def fingerprint_file(path: Path, *, text: bool = True) -> FileFingerprint:
    """Hash a file and count its lines (and, for a ``text`` file, its blank lines) in one
    read, in chunks (hashlib and NumPy release the GIL: run it in a thread)."""
    digest = hashlib.sha256()
    newlines = blanks = 0
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            if text:
                blanks += _blank_lines(tail + chunk) - _blank_lines(tail)
            tail = (tail + chunk)[-2:]
    lines = newlines + (1 if tail[-1:] not in (b"", b"\n") else 0)
    return FileFingerprint(digest.hexdigest(), lines, blanks)


def _blank_lines(data: bytes) -> int:
    """Line feeds directly followed by a line feed, or by a carriage return and a line
    feed: the empty lines of ``data`` (overlapping: three line feeds hold two)."""
    if len(data) < 2:
        return 0
    b = np.frombuffer(data, dtype=np.uint8)
    feed = b == 0x0A
    count = int(np.count_nonzero(feed[:-1] & feed[1:]))
    if len(b) > 2:
        count += int(np.count_nonzero(feed[:-2] & (b[1:-1] == 0x0D) & feed[2:]))
    return count
