"""Stage 1, ingest: find a package's files, fingerprint them, read them into the engine."""

from __future__ import annotations

import difflib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from auditor.config import AuditConfig
from auditor.engine import (
    Engine,
    FileFingerprint,
    RawTable,
    ReadAccount,
    SourceFile,
    file_errors,
    fingerprint_file,
    read_table,
    store_in_file_order,
)
from auditor.errors import ConfigError
from auditor.ingest._frames import write_frames
from auditor.ingest._package import discover
from auditor.schema import TABLES

__all__ = [
    "RawPackage",
    "RawTable",
    "ReadAccount",
    "SourceFile",
    "file_errors",
    "read_package",
    "store_in_file_order",
    "write_frames",
]


@dataclass(frozen=True, slots=True)
class RawPackage:
    """A package as read: its tables before validation, and file fingerprints.

    Attributes:
        path: the package folder.
        tables: contract table name -> what was read, in contract order.
        ignored_files: files in the folder that are not contract tables.
        hashing: table name -> SHA-256 and line count of its file's bytes, computed in a
            background thread while the engine works; read it through :attr:`sha256`.
    """

    path: Path
    tables: dict[str, RawTable]
    ignored_files: tuple[str, ...]
    hashing: dict[str, Future[FileFingerprint]]

    @property
    def sha256(self) -> dict[str, str]:
        """Table name -> SHA-256 of its file's bytes as submitted (waits for the hashing)."""
        return {name: future.result().sha256 for name, future in self.hashing.items()}


def read_package(package: str | Path, config: AuditConfig, engine: Engine) -> RawPackage:
    """Read every table file of ``package`` into ``engine``.

    Files are hashed in a background thread, which goes on while the engine validates
    them (a CSV file is only parsed then); :attr:`RawPackage.sha256` waits for it.

    Raises:
        PackageError, DecodeError: the package or one of its files cannot be used.
        ConfigError: the column mapping names an unknown table or column.
    """
    path = Path(package)
    files, ignored = discover(path, outside_files=config.package.allow_outside_links)
    mapping = config.package.mapping
    for table in mapping:
        if table not in TABLES:
            close = difflib.get_close_matches(table, list(TABLES), n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise ConfigError(
                f"[package.mapping.{table}]: {table!r} is not a contract table.{hint} "
                f"Tables: {', '.join(TABLES)}."
            )
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor-sha256")
    hashing = {
        name: pool.submit(fingerprint_file, f.path, text=f.format != "parquet")
        for name, f in files.items()
    }
    pool.shutdown(wait=False)  # the thread ends by itself once every file is hashed
    try:
        tables = {
            name: read_table(
                engine, f, config.package.encoding, mapping.get(name, {}), hashing[name]
            )
            for name, f in files.items()
        }
    except BaseException:
        for future in hashing.values():
            future.cancel()
        raise
    return RawPackage(path=path, tables=tables, ignored_files=ignored, hashing=hashing)
