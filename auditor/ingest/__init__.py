"""Stage 1, ingest: find a package's files, fingerprint them, read them into the engine."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from auditor.config import AuditConfig
from auditor.engine import (
    Engine,
    FileFingerprint,
    Location,
    RawTable,
    ReadAccount,
    SourceFile,
    file_errors,
    fingerprint_file,
    fingerprint_files,
    locate,
    read_parquet_files,
    read_table,
    resolve_mapping,
    store_in_file_order,
)
from auditor.errors import ConfigError, PackageError
from auditor.ingest._frames import write_frames
from auditor.ingest._package import discover
from auditor.presets import NO_WORKERS, PRESETS, Preset, preset_files
from auditor.schema import TABLES

__all__ = [
    "NO_WORKERS",
    "PRESETS",
    "Preset",
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
        path: the package folder (a local path, or a URI read through Spark).
        tables: contract table name -> what was read, in contract order.
        ignored_files: files in the folder that are not contract tables.
        hashing: table name -> SHA-256 and line count of its file's bytes, computed in a
            background thread while the engine works; read it through :attr:`sha256`.
    """

    path: Location
    tables: dict[str, RawTable]
    ignored_files: tuple[str, ...]
    hashing: dict[str, Future[FileFingerprint]]

    @property
    def sha256(self) -> dict[str, str]:
        """Table name -> SHA-256 of its file's bytes as submitted (waits for the hashing)."""
        return {name: future.result().sha256 for name, future in self.hashing.items()}


def read_package(package: str | Path, config: AuditConfig, engine: Engine) -> RawPackage:
    """Read every table file of ``package`` (a folder, or on Spark a URI such as
    ``s3a://bucket/package``) into ``engine``.

    Files are hashed in a background thread, which goes on while the engine validates
    them (a CSV file is only parsed then); :attr:`RawPackage.sha256` waits for it.

    Raises:
        PackageError, DecodeError: the package or one of its files cannot be used.
        ConfigError: the column mapping names an unknown table or column.
    """
    path = locate(package, engine)
    if config.package.preset:
        if not isinstance(path, Path):
            raise PackageError(
                f"{path}: a preset reads local files. Copy the published files to a local "
                "folder, or map their columns to the contract's and audit them as a package."
            )
        return _read_preset(path, PRESETS[config.package.preset], config, engine)
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
        name: (
            pool.submit(fingerprint_files, f.parts)
            if f.parts
            else pool.submit(fingerprint_file, f.path, text=f.format != "parquet")
        )
        for name, f in files.items()
    }
    pool.shutdown(wait=False)  # the thread ends by itself once every file is hashed
    try:
        tables = {
            name: (
                _read_parts(engine, f, mapping.get(name, {}), hashing[name])
                if f.parts
                else read_table(
                    engine, f, config.package.encoding, mapping.get(name, {}), hashing[name]
                )
            )
            for name, f in files.items()
        }
    except BaseException:
        for future in hashing.values():
            future.cancel()
        raise
    return RawPackage(path=path, tables=tables, ignored_files=ignored, hashing=hashing)


def _read_preset(path: Path, preset: Preset, config: AuditConfig, engine: Engine) -> RawPackage:
    """Read a preset's file, or folder of files, as its contract table with derived columns.

    Other files in the folder are listed as ignored.

    Raises:
        PackageError: no file of the format; two files with the same bytes; a file without
            a column the preset needs, or storing one in another type than published; a
            pattern character in a path; a link outside the folder (unless ``[package]
            allow_outside_links``).
    """
    paths = preset_files(path, preset)
    ignored: tuple[str, ...] = ()
    if path.is_dir():
        chosen = set(paths)
        ignored = tuple(sorted(p.name for p in path.iterdir() if p.is_file() and p not in chosen))
    if path.is_dir() and not config.package.allow_outside_links:
        home = path.resolve()
        for p in paths:
            if home not in p.resolve().parents:
                raise PackageError(
                    f"{p}: a link to a file outside the folder. Copy the file into the "
                    "folder, or set [package] allow_outside_links = true to read it."
                )
    _refuse_copies(paths)
    source = SourceFile(preset.table, path, "parquet", sum(p.stat().st_size for p in paths))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor-sha256")
    hashing = {preset.table: pool.submit(fingerprint_files, paths)}
    pool.shutdown(wait=False)
    try:
        read = read_parquet_files(engine, source, paths, hashing[preset.table], preset.needs)
        raw = _derived(read, preset, tuple(p.stem for p in paths))
    except BaseException:
        hashing[preset.table].cancel()
        raise
    return RawPackage(path=path, tables={preset.table: raw}, ignored_files=ignored, hashing=hashing)


def _read_parts(
    engine: Engine,
    source: SourceFile,
    mapping: Mapping[str, str],
    fingerprint: Future[FileFingerprint],
) -> RawTable:
    """A table stored as a folder of Parquet part files, read as one table: records are
    numbered across the parts in name order (the second part's first record follows the
    first part's last), and the column mapping applies as to a single file."""
    read = read_parquet_files(engine, source, source.parts, fingerprint)
    renames = resolve_mapping(source.table, source, list(read.columns), mapping)
    raw = read.raw.select("_row", *[read.raw[c].name(renames.get(c, c)) for c in read.columns])
    return dataclasses.replace(
        read,
        raw=raw,
        columns=tuple(renames.get(c, c) for c in read.columns),
        source_columns={renames.get(c, c): read.source_columns[c] for c in read.columns},
    )


def _refuse_copies(paths: tuple[Path, ...]) -> None:
    """Refuse two files with the same bytes (a download saved twice): every trip would
    count twice. Only files of equal size are hashed."""
    by_size: dict[int, list[Path]] = {}
    for p in paths:
        by_size.setdefault(p.stat().st_size, []).append(p)
    for same in by_size.values():
        if len(same) < 2:
            continue
        seen: dict[str, Path] = {}
        for p in same:
            digest = fingerprint_file(p, text=False).sha256
            if digest in seen:
                raise PackageError(
                    f"{p}: the same bytes as {seen[digest].name} (SHA-256 {digest[:16]}...); "
                    "its trips would count twice. Remove one of them."
                )
            seen[digest] = p


def _derived(read: RawTable, preset: Preset, stems: tuple[str, ...]) -> RawTable:
    """``read`` with the preset's contract columns derived, the files' own columns kept.
    A kept column whose name is a contract column's, or a derived one's, is kept as
    ``source_<name>`` (a file's ``status`` must not become the orders' status).

    Raises:
        PackageError: a column the preset reads is not of the type it is published in.
    """
    actual = {c.casefold(): c for c in read.columns}
    t = read.raw.rename(
        {n: actual[n.casefold()] for n in preset.needs if actual[n.casefold()] != n}
    )
    schema = t.schema()
    for column, kind in preset.types.items():
        dtype = schema[column]
        ok = dtype.is_numeric() if kind == "number" else dtype.is_timestamp()
        if not ok:
            raise PackageError(
                f"{read.source.path}: column {column} is stored as {dtype}; {preset.title} "
                f"publish it as a {kind}. Read the files as published (a month stored as text "
                "cannot be told from its errors)."
            )
    derived = dict(preset.derive(t, stems))
    # The columns the derivation reads are not carried again: each derived column holds
    # one of them, or a sum the others give back (fare base = base_passenger_fare).
    needed = {n.casefold() for n in preset.needs}
    carried = [c for c in read.columns if c.casefold() not in needed]
    taken = {d.casefold() for d in derived} | {c.casefold() for c in TABLES[read.name].column_names}
    names: dict[str, str] = {}
    used = {d.casefold() for d in derived} | {c.casefold() for c in carried}
    for c in carried:
        name = c
        if c.casefold() in taken:
            name = f"source_{c}"
            while name.casefold() in used:
                name += "_"
            used.add(name.casefold())
        names[c] = name
    table = t.select(_row=t._row, **derived, **{names[c]: t[c] for c in carried})
    return RawTable(
        name=read.name,
        source=read.source,
        raw=table,
        columns=tuple(derived) + tuple(names.values()),
        source_columns={
            **{c: preset.sources.get(c, c) for c in derived},
            **{name: c for c, name in names.items()},
        },
        encoding=read.encoding,
        account=read.account,
        fingerprint=read.fingerprint,
        read_path=read.read_path,
        derived=True,
        unique_key=True,
    )
