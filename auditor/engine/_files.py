"""A package's table files as the engine reads them: what each is, and one read of its
bytes that hashes it and counts its lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from auditor.engine._hadoop import HadoopPath, file_uri_path, is_uri
from auditor.errors import PackageError

if TYPE_CHECKING:
    from auditor.engine._protocol import Engine

__all__ = [
    "FileFingerprint",
    "Location",
    "SourceFile",
    "fingerprint_file",
    "fingerprint_files",
    "folder_entries",
    "locate",
]

Location: TypeAlias = Path | HadoopPath
"""Where a package or one of its files is: a local path, or a URI read through Spark."""

_CHUNK = 1 << 22  # 4 MiB


def locate(package: str | Path, engine: Engine) -> Location:
    """Where ``package`` is: a local path, or a URI (``hdfs://``, ``s3a://``, ...) that the
    Spark engine reads through its session's Hadoop file systems. A URI is read as
    written, as Hadoop reads it (``%20`` is three characters, not a space); DuckDB reads a
    ``file:`` URI as its local path.

    Raises:
        PackageError: a URI other than ``file:`` on DuckDB, or one the Spark session
            cannot open (no file system for its scheme, an unknown host).
    """
    if not isinstance(package, str) or not is_uri(package):
        return Path(package)
    if engine.backend == "spark":
        return HadoopPath(package, engine.session)  # type: ignore[attr-defined]
    local = file_uri_path(package)
    if local is not None:
        return local
    raise PackageError(
        f"{package}: a package named by a URI is read through Apache Spark: run with "
        '--engine spark ([engine] backend = "spark"), or copy the package to a local '
        "folder."
    )


def folder_entries(folder: Location) -> list[Location]:
    """The entries of ``folder``, in name order.

    Raises:
        OSError: the folder cannot be listed.
    """
    entries: list[Location] = []
    if isinstance(folder, HadoopPath):
        entries.extend(folder.iterdir())
    else:
        entries.extend(folder.iterdir())
    return sorted(entries, key=lambda p: p.name)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One table file of a package.

    Attributes:
        table: contract table name (the file stem, or the folder's name).
        path: the file, or the folder of part files.
        format: "csv", "parquet" or "jsonl".
        size_bytes: file size in bytes.
    """

    table: str
    path: Location
    format: str
    size_bytes: int
    parts: tuple[Location, ...] = ()
    """For a table stored as a folder of Parquet part files (``orders/``), the part files
    in name order; empty for a table in one file."""


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


def fingerprint_file(path: Location, *, text: bool = True) -> FileFingerprint:
    """Hash a file and count its lines (and, for a ``text`` file, its blank lines) in one
    read, in chunks (hashlib and NumPy release the GIL: run it in a thread). A file behind
    a URI is hashed in the JVM and its lines counted by Spark, where its bytes are."""
    if isinstance(path, HadoopPath):
        sha256 = path.sha256()[0]
        if not text:
            return FileFingerprint(sha256, 0, 0)
        layout = path.text_layout()
        return FileFingerprint(sha256, layout.lines, layout.blank_lines)
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


def fingerprint_files(paths: tuple[Location, ...]) -> FileFingerprint:
    """The SHA-256 of several files in the order given: each file's name and size, then its
    bytes (so a renamed file changes it; binary files, no lines counted). One file gives
    that file's own hash."""
    if len(paths) == 1:
        return fingerprint_file(paths[0], text=False)
    if all(isinstance(p, HadoopPath) for p in paths):
        java: Any = None
        for p in paths:
            assert isinstance(p, HadoopPath)
            java = p.sha256(named=True, digest=java)[1]
        return FileFingerprint(bytes(java.digest()).hex(), 0, 0)
    digest = hashlib.sha256()
    for path in paths:
        assert isinstance(path, Path)
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return FileFingerprint(digest.hexdigest(), 0, 0)


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
