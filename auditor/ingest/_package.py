"""Find a package's table files."""

from __future__ import annotations

from pathlib import Path

from auditor.engine import SourceFile
from auditor.errors import PackageError
from auditor.schema import FILE_FORMATS, TABLE_ORDER, TABLES

__all__ = ["discover"]


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
