"""Stage 1, ingest: find a package's files, fingerprint them, read them into the engine."""

from __future__ import annotations

import difflib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from auditor.config import AuditConfig
from auditor.engine import Engine
from auditor.errors import ConfigError
from auditor.ingest._frames import write_frames
from auditor.ingest._package import SourceFile, discover, sha256_file
from auditor.ingest._read import RawTable, read_table
from auditor.schema import TABLES

__all__ = ["RawPackage", "RawTable", "SourceFile", "read_package", "write_frames"]


@dataclass(frozen=True, slots=True)
class RawPackage:
    """A package as read: its tables before validation, and file fingerprints.

    Attributes:
        path: the package folder.
        tables: contract table name -> what was read, in contract order.
        sha256: table name -> SHA-256 of its file's bytes as submitted.
        ignored_files: files in the folder that are not contract tables.
    """

    path: Path
    tables: dict[str, RawTable]
    sha256: dict[str, str]
    ignored_files: tuple[str, ...]


def read_package(package: str | Path, config: AuditConfig, engine: Engine) -> RawPackage:
    """Read every table file of ``package`` into ``engine``.

    Files are hashed in a background thread while the engine reads them.

    Raises:
        PackageError, DecodeError: the package or one of its files cannot be used.
        ConfigError: the column mapping names an unknown table or column.
    """
    path = Path(package)
    files, ignored = discover(path)
    mapping = config.package.mapping
    for table in mapping:
        if table not in TABLES:
            close = difflib.get_close_matches(table, list(TABLES), n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            raise ConfigError(
                f"[package.mapping.{table}]: {table!r} is not a contract table.{hint} "
                f"Tables: {', '.join(TABLES)}."
            )
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes = {name: pool.submit(sha256_file, f.path) for name, f in files.items()}
        tables = {
            name: read_table(engine, f, config.package.encoding, mapping.get(name, {}))
            for name, f in files.items()
        }
        sha = {name: fut.result() for name, fut in hashes.items()}
    return RawPackage(path=path, tables=tables, sha256=sha, ignored_files=ignored)
