"""Find a package's table files."""

from __future__ import annotations

from pathlib import Path

from auditor.engine import Location, SourceFile, folder_entries
from auditor.errors import PackageError
from auditor.schema import FILE_FORMATS, TABLE_ORDER, TABLES

__all__ = ["discover"]


def discover(
    package: Location, *, outside_files: bool = False
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
        written = (
            " (a URI is read as written: a space is a space, not %20)"
            if not isinstance(package, Path) and "%" in str(package)
            else ""
        )
        raise PackageError(
            f"{package}: no such package folder{written}. Pass the folder of orders.csv."
        )
    if not package.is_dir():
        raise PackageError(
            f"{package}: a package is a folder of table files (orders.csv, sessions.parquet, ...), "
            "not a single file. Pass the folder that holds it."
        )
    found: dict[str, SourceFile] = {}
    ignored: list[str] = []
    try:
        entries = folder_entries(package)
    except OSError as exc:
        raise PackageError(
            f"{package}: the package folder cannot be read ({exc.strerror}). Check its permissions."
        ) from exc
    home = package.resolve()
    for path in entries:
        if path.is_dir() and _folder_table(path) in TABLES:
            table = _folder_table(path)
            if table in found:
                raise PackageError(
                    f"{package}: two sources for table {table!r}: {found[table].path.name} and "
                    f"{path.name}. Keep one of them."
                )
            found[table] = _part_files(path, table, home, outside_files)
            continue
        fmt = FILE_FORMATS.get(path.suffix.lower())
        if not path.is_file() or fmt is None or path.stem not in TABLES:
            if path.is_file():
                ignored.append(path.name)
            continue
        if path.stem in found:
            kind = "sources" if found[path.stem].parts else "files"
            raise PackageError(
                f"{package}: two {kind} for table {path.stem!r}: {found[path.stem].path.name} "
                f"and {path.name}. Keep one of them."
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


def _folder_table(folder: Location) -> str:
    """The table a folder holds: ``orders/`` or ``orders.parquet/`` (as Spark writes)."""
    name = folder.name
    return name[: -len(".parquet")] if name.lower().endswith(".parquet") else name


def _part_files(folder: Location, table: str, home: Location, outside_files: bool) -> SourceFile:
    """A table stored as a folder of Parquet part files, as data lakes write them: every
    ``*.parquet`` file in it, in name order; the writer's markers (``_SUCCESS``, names
    starting with ``.`` or ``_``, ``.crc`` files) are skipped.

    Raises:
        PackageError: the folder holds sub-folders (partitions), other files, no part file,
            or a link outside the package.
    """
    parts: list[Location] = []
    for entry in folder_entries(folder):
        if entry.name.startswith((".", "_")) or entry.name.lower().endswith(".crc"):
            continue
        if entry.is_dir():
            raise PackageError(
                f"{entry}: table folder {folder.name} holds a sub-folder (a partition). Write "
                "the table's part files into the folder itself, with the partition column "
                "as a column."
            )
        if entry.suffix.lower() != ".parquet":
            raise PackageError(
                f"{entry}: table folder {folder.name} may hold only Parquet part files "
                "(*.parquet). Move this file out of it."
            )
        if not outside_files and home not in entry.resolve().parents:
            raise PackageError(
                f"{entry}: a link to a file outside the package folder. Copy the file into "
                "the package, or set [package] allow_outside_links = true to read it."
            )
        parts.append(entry)
    if not parts:
        raise PackageError(
            f"{folder}: table folder {folder.name} holds no Parquet part file (*.parquet)."
        )
    size = sum(p.stat().st_size for p in parts)
    return SourceFile(table, folder, "parquet", size, parts=tuple(parts))
