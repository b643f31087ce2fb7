"""A package's table files as the engine reads them: what each is, and one read of its
bytes that hashes it and counts its lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FileFingerprint", "SourceFile", "fingerprint_file", "fingerprint_files"]

_CHUNK = 1 << 22  # 4 MiB


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
    path: Path
    format: str
    size_bytes: int
    parts: tuple[Path, ...] = ()
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


def fingerprint_files(paths: tuple[Path, ...]) -> FileFingerprint:
    """The SHA-256 of several files in the order given: each file's name and size, then its
    bytes (so a renamed file changes it; binary files, no lines counted). One file gives
    that file's own hash."""
    if len(paths) == 1:
        return fingerprint_file(paths[0], text=False)
    digest = hashlib.sha256()
    for path in paths:
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
