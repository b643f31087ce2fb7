"""The ``auditor`` command line.

Exit codes (``docs/spec/checks.md``):
    0    no fail finding at or above ``--fail-on``;
    1    at least one such finding;
    2    the package, config, output folder or command line could not be used (the
         message says why);
    3    an internal error (a bug): a short message, never a bare traceback;
    130  interrupted (Ctrl-C): the one line ``auditor: interrupted``.

``run`` and ``validate`` write their outputs into a staging folder beside ``--out`` and
move them into ``--out`` together, with ``manifest.json`` last, only once all are written
(``docs/report.md``, "The output folder").
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from auditor._progress import TerminalProgress
from auditor._version import __version__
from auditor.config import BACKENDS, load_config, with_engine, with_preset, with_rules
from auditor.engine import file_uri_path, is_interrupt, is_uri
from auditor.errors import AuditorError, UsageError
from auditor.findings import AuditResult, Severity, Status
from auditor.pipeline import Audit
from auditor.presets import PRESETS
from auditor.report import LANGUAGES
from auditor.report._escape import csv_text
from auditor.rules import builtin_pack_names, describe_pack, load_pack

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
FAIL_ON = ("low", "medium", "high", "critical", "never")

MANIFEST = "manifest.json"
RUN_OUTPUTS = ("findings.json", "quarantine.csv", "leads.csv", "owed.csv", "statistics.csv",
               "indicators.csv", "report.html", "summary.md", "junit.xml")  # fmt: skip
VALIDATE_OUTPUTS = ("validation.json", "quarantine.csv", "summary.md", "junit.xml")
OUTPUT_NAMES = (MANIFEST, *RUN_OUTPUTS, "validation.json")
"""Every file name auditor writes into ``--out``, the manifest first."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it).

    A Ctrl-C (SIGINT) at any moment of a command gives exit 130 and the one line
    ``auditor: interrupted`` on stderr, however the interrupt surfaced (see
    :class:`_Interrupts`). With ``argv`` None (the console script, ``python -m auditor``) a
    Ctrl-C that arrives after ``main`` has returned, while the interpreter shuts down, ends
    the process at once with exit 130 too.
    """
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 itself on a bad command line
    args.argv = ["auditor", *(sys.argv[1:] if argv is None else argv)]
    interrupts = args.interrupts = _Interrupts()
    interrupts.install()
    try:
        code = _dispatch(args, interrupts)
        if interrupts.seen or code == EXIT_INTERRUPTED:
            print("auditor: interrupted", file=sys.stderr)
            interrupts.reported, code = True, EXIT_INTERRUPTED
        return code
    finally:
        if argv is None:  # the process exits with our code next: flush while we may
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
        interrupts.release(exiting=argv is None)


def _dispatch(args: argparse.Namespace, interrupts: _Interrupts) -> int:
    """Run the command's handler; map what escapes it to an exit code."""
    debug = bool(os.environ.get("AUDITOR_DEBUG")) or getattr(args, "debug", False)
    try:
        try:
            return int(args.handler(args))
        finally:
            interrupts.hold()  # the command is over: a SIGINT from now on is only noted
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except AuditorError as exc:
        if interrupts.seen or is_interrupt(exc):  # e.g. DuckDB's interrupt, wrapped
            return EXIT_INTERRUPTED
        print(f"auditor: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        # The reader went away (``auditor schema findings | head``): not an error of ours.
        # Point stdout at devnull so that the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # The operating system refused a file or folder (permissions, a file gone, a full
        # disk): what to fix is on the machine, not in auditor.
        if interrupts.seen:
            return EXIT_INTERRUPTED
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"auditor: error: {where}{exc.strerror or exc}. Check that it exists, is readable "
            "(or writable, for --out) and that the disk has room.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    except Exception as exc:
        if interrupts.seen or is_interrupt(exc):  # DuckDB's "Query interrupted"
            return EXIT_INTERRUPTED
        if debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(
            f"auditor: internal error: {type(exc).__name__}: {first}\n"
            "This is a bug in auditor, not in your data. Please report it with the command "
            "you ran; rerun with --debug (or AUDITOR_DEBUG=1) to see the traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditor",
        description="Audit a gig-work platform's data package for fee transparency, pay and "
        "algorithmic fairness.",
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, handler, helptext in (
        (
            "run",
            _run,
            "audit a package; write findings.json, report.html, summary.md, junit.xml, "
            "quarantine.csv and leads.csv",
        ),
        ("validate", _validate, "ingest and validate only; print rows read/used/quarantined"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument(
            "package",
            type=_package_argument,
            help="folder holding orders.csv (and other tables); with --engine spark also a URI "
            "the Spark session reads (hdfs://, s3a://, ...); with --preset, a file of the "
            "preset's format or a folder of them",
        )
        p.add_argument("--config", type=Path, help="audit_config.toml (defaults if omitted)")
        p.add_argument(
            "--out",
            type=Path,
            default=Path("audit-output"),
            help="output folder (default: ./audit-output)",
        )
        p.add_argument(
            "--fail-on",
            choices=FAIL_ON,
            default="high",
            help="exit 1 if a fail finding has this severity or higher "
            "(default: high; 'never' exits 0)",
        )
        p.add_argument(
            "--lang",
            choices=LANGUAGES,
            default="en",
            help="language of report.html and summary.md (default: en; zh for Chinese)",
        )
        p.add_argument(
            "--rules",
            action="append",
            metavar="PACK",
            help="rule pack for PAY-03, a shipped name (`auditor rules` lists them) or a .toml "
            "file; repeat for several; replaces [audit] rules of the config",
        )
        p.add_argument(
            "--preset",
            choices=tuple(PRESETS),
            help="read published records as they are (nyc-tlc-hvfhv: the NYC TLC's "
            "fhvhv_tripdata_*.parquet files); replaces [package] preset of the config",
        )
        p.add_argument(
            "--engine",
            choices=BACKENDS,
            help="the engine that runs the audit: duckdb (embedded, the default) or spark "
            '(Apache Spark; pip install "auditor[spark]"); replaces [engine] backend',
        )
        p.add_argument("--quiet", action="store_true", help="no progress messages")
        p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
        p.set_defaults(handler=handler)

    p = sub.add_parser(
        "rules",
        help="list the shipped rule packs, or show one",
        description="List the rule packs shipped with auditor (PAY-03's statutory pay floors), "
        "or show one pack's rule, sources and rates by date.",
    )
    p.add_argument("pack", nargs="?", help="a pack's name, or the path of a pack file")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=_rules)

    p = sub.add_parser(
        "schema",
        help="print a published schema: findings (JSON Schema) or contract (Frictionless)",
        description="Print the JSON Schema of findings.json, or the submission contract as a "
        "Frictionless Data Package descriptor (Table Schema per table).",
    )
    p.add_argument("which", choices=("findings", "contract"))
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=_schema)

    p = sub.add_parser(
        "simulate",
        help="write a synthetic platform package",
        description="Write a realistic synthetic platform package (all contract "
        "tables), optionally with planted breaches and their ground truth.",
    )
    p.add_argument("out", type=Path, help="folder to write the package to")
    p.add_argument("--workers", type=int, default=300)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--start",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="first local day (default 2026-03-02, a Monday): rule packs apply by date",
    )
    p.add_argument(
        "--plant",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="plant a breach of this catalogue check (repeat, or comma-separate)",
    )
    p.add_argument(
        "--plant-size",
        type=float,
        default=0.10,
        help="relative size of planted disparities (default 0.10)",
    )
    p.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    p.add_argument("--encoding", default="utf-8", help="CSV encoding (e.g. gb18030)")
    p.add_argument(
        "--demand-scale",
        type=float,
        default=1.0,
        help="scale orders per online hour (default 1.0; 0.3 for a small package)",
    )
    p.add_argument(
        "--dirty",
        action="store_true",
        help="plant bad rows of every kind (CSV only); their expected reasons go to "
        "expected_quarantine.csv",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=_simulate)
    return parser


class _Interrupts:
    """What a Ctrl-C (SIGINT) does while a command runs.

    The handler notes each SIGINT and, as Python's own handler does, raises
    ``KeyboardInterrupt``. The note is what :func:`main` trusts: DuckDB turns a
    ``KeyboardInterrupt`` met during a query into its own error (``RuntimeError: Query
    interrupted``, or ``duckdb.InterruptException``), which ingest may wrap again in a
    ``PackageError``, so the exception that reaches :func:`main` need not say it was an
    interrupt. The progress callback stops at the next step if the exception was lost on
    the way. While outputs are moved into place (:meth:`deferred`) and after the command
    has ended (:meth:`hold`) a SIGINT is only noted.

    Attributes:
        seen: a SIGINT arrived.
        reported: ``auditor: interrupted`` has been printed.
    """

    def __init__(self) -> None:
        self.seen = False
        self.reported = False
        self._raising = True
        self._previous: Callable[[int, FrameType | None], object] | int | None = None
        self._installed = False

    def install(self) -> None:
        """Handle SIGINT from now on (outside the main thread Python's handling stays)."""
        with contextlib.suppress(ValueError):  # signal only works in the main thread
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True

    def hold(self) -> None:
        """From now on only note a SIGINT: the command's outcome is being reported."""
        self._raising = False

    def release(self, *, exiting: bool) -> None:
        """Give SIGINT back to the handler that was there before :meth:`install`; or, when
        the process exits next (``exiting``), to one that ends it at once with exit 130, so
        that a late Ctrl-C cannot print a traceback from the interpreter's shutdown."""
        if self._installed:
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGINT, self._exit_now if exiting else previous)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold SIGINT back while a step that must not stop half-way runs; raise
        ``KeyboardInterrupt`` after it if one was noted."""
        raising, self._raising = self._raising, False
        try:
            yield
        finally:
            self._raising = raising
        if self.seen and raising:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Inside :meth:`deferred`, let a SIGINT raise ``KeyboardInterrupt`` again while
        the block runs (at once if one was noted before it)."""
        raising, self._raising = self._raising, True
        try:
            self.check()
            yield
        finally:
            self._raising = raising

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a SIGINT was noted (one that some library caught
        and dropped on its way up)."""
        if self.seen and self._raising:
            raise KeyboardInterrupt

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        if self._raising and not _in_finalizer(frame):
            raise KeyboardInterrupt

    def _exit_now(self, signum: int, frame: FrameType | None) -> None:
        if not self.reported:
            os.write(2, b"auditor: interrupted\n")
        os._exit(EXIT_INTERRUPTED)


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside a ``__del__``: Python prints an exception raised there
    ("Exception ignored in ...") and drops it, so a SIGINT arriving then is only noted, and
    the next progress step stops the run."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _progress(args: argparse.Namespace) -> TerminalProgress:
    """The command's progress display on stderr (``auditor._progress``); the place where a
    Ctrl-C that a library swallowed stops the run, at each step."""
    return TerminalProgress(args.quiet, interrupts=args.interrupts)


def _plan(args: argparse.Namespace, progress: TerminalProgress) -> Audit:
    config = load_config(args.config)
    if args.preset:
        config = with_preset(config, args.preset)
    if args.engine:
        config = with_engine(config, args.engine)
    if args.rules:
        # A pack file named on the command line is found from the working directory; the
        # config's own paths are relative to its folder.
        names = [str(Path(n).resolve()) if _is_pack_path(n) else n for n in args.rules]
        config = with_rules(config, names)
    return Audit(config=config, progress=progress)


def _is_pack_path(name: str) -> bool:
    return name.endswith(".toml") or "/" in name or "\\" in name


def _rules(args: argparse.Namespace) -> int:
    """``auditor rules [PACK]``: the shipped packs, or one pack in full."""
    if args.pack is None:
        rows = [load_pack(name) for name in builtin_pack_names()]
        width = max(len(p.name) for p in rows)
        for p in rows:
            kinds = [f"PAY-03 per {p.floor.unit}"] if p.floor is not None else []
            kinds += ["HRS-02"] if p.working_time is not None else []
            kinds += ["PAY-04"] if p.holidays is not None else []
            print(f"{p.name:<{width}}  {' + '.join(kinds):<15}  {p.currency or '-':<3}  {p.title}")
        print("\nShow one with `auditor rules NAME`; choose with --rules NAME or [audit] rules.")
        return 0
    name = str(Path(args.pack).resolve()) if _is_pack_path(args.pack) else args.pack
    print(describe_pack(load_pack(name)))
    return 0


def _run(args: argparse.Namespace) -> int:
    _check_out(args.out, args.package, RUN_OUTPUTS)
    with _progress(args) as progress:  # the display is gone before anything else prints
        audit = _plan(args, progress)
        result = audit.run(args.package)
        progress.stage_started("writing the outputs")
        progress("writing findings and the report")

        def write(folder: Path) -> list[str]:
            written = _write_outputs(result, folder, "findings.json")
            reports = _write_reports(result, folder, args.lang, args.fail_on, html_report=True)
            return written + reports

        written, removed = _publish(
            args.out, write, args.argv, audit.config.engine.backend, args.interrupts
        )
        progress.stage_finished()
    _print_accounting(result)
    _print_findings(result)
    _print_outputs(args.out, written, removed)
    return _exit_code(result, args.fail_on)


def _validate(args: argparse.Namespace) -> int:
    _check_out(args.out, args.package, VALIDATE_OUTPUTS)
    with _progress(args) as progress:  # the display is gone before anything else prints
        audit = _plan(args, progress)
        result = audit.validate(args.package)
        progress.stage_started("writing the outputs")

        def write(folder: Path) -> list[str]:
            written = _write_outputs(result, folder, "validation.json")
            reports = _write_reports(result, folder, args.lang, args.fail_on, html_report=False)
            return written + reports

        written, removed = _publish(
            args.out, write, args.argv, audit.config.engine.backend, args.interrupts
        )
        progress.stage_finished()
    _print_accounting(result)
    _print_outputs(args.out, written, removed)
    return _exit_code(result, args.fail_on)


def _print_outputs(out: Path, written: list[str], removed: list[str]) -> None:
    print(f"\nOutputs in {out}/: " + ", ".join(written))
    if removed:
        print("Removed the earlier run's outputs this run does not write: " + ", ".join(removed))


def _write_outputs(result: AuditResult, folder: Path, json_name: str) -> list[str]:
    """Write ``json_name``, ``quarantine.csv`` and (for a run) ``leads.csv``, ``owed.csv``,
    ``statistics.csv`` and ``indicators.csv`` into
    ``folder``; return their names. CSV text cells that a spreadsheet would read as a
    formula get a leading ``'`` (:func:`~auditor.report._escape.csv_text`)."""
    _write_text(folder / json_name, result.to_json())
    _write_csv(folder / "quarantine.csv", result.quarantine)
    written = [json_name, "quarantine.csv"]
    if json_name == "findings.json":
        _write_csv(folder / "leads.csv", result.leads, float_format="%.6g")
        _write_csv(folder / "owed.csv", result.owed)
        _write_csv(folder / "statistics.csv", result.statistics, float_format="%.6g")
        _write_csv(folder / "indicators.csv", result.indicators, float_format="%.6g")
        written += ["leads.csv", "owed.csv", "statistics.csv", "indicators.csv"]
    return written


def _write_reports(
    result: AuditResult, folder: Path, lang: str, fail_on: str, *, html_report: bool
) -> list[str]:
    """Write ``report.html`` (with ``html_report``), ``summary.md`` and ``junit.xml`` into
    ``folder``; return their names."""
    from auditor.report import render_html, render_junit, render_markdown

    written = []
    if html_report:
        _write_text(folder / "report.html", render_html(result, lang))
        written.append("report.html")
    _write_text(folder / "summary.md", render_markdown(result, lang, fail_on))
    _write_text(folder / "junit.xml", render_junit(result))
    return [*written, "summary.md", "junit.xml"]


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8. A lone surrogate (a file name that was not UTF-8) cannot be
    encoded: it is written as its escape ``\\udcff``, which in findings.json is the JSON
    escape of the same character, instead of failing the run."""
    path.write_text(text, encoding="utf-8", errors="backslashreplace", newline="")


def _write_csv(path: Path, frame: pd.DataFrame, float_format: str | None = None) -> None:
    """Write ``frame`` as formula-safe UTF-8 CSV (no index, ``\\n`` line ends; see
    :func:`~auditor.report._escape.csv_text`)."""
    _write_text(path, csv_text(frame, float_format=float_format))


def _package_argument(text: str) -> Path | str:
    """The package argument: a local path, or a URI (kept as text: a path would fold its
    ``//``) that the engine resolves."""
    return text if is_uri(text) else Path(text)


def _check_out(out: Path, package: Path | str, writes: Sequence[str]) -> None:
    """Refuse, before any work, an output folder the run cannot use (a ``UsageError``,
    exit 2): one inside (or equal to) the package folder, a file, a folder nobody may
    write, or one holding a file with an output's name that auditor did not write."""
    target = out.resolve()
    local = package if isinstance(package, Path) else file_uri_path(package)
    if local is not None and (target == local.resolve() or local.resolve() in target.parents):
        raise UsageError(
            f"--out {out}: the output folder is inside the package folder {package}, so the "
            "outputs would be read as part of the package by the next run. Choose a folder "
            f"outside it, e.g. --out {local.parent / (local.name + '-audit')}."
        )
    if target.exists() and not target.is_dir():
        raise UsageError(
            f"--out {out}: this is a file, not a folder. Choose a folder with --out (it is "
            "created if missing)."
        )
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(
            f"--out {out}: {existing} is a file, so the output folder cannot be created "
            "there. Choose another folder with --out."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"--out {out}: {existing} is not writable. Make it writable (chmod u+w "
            f"{existing}) or choose another folder with --out."
        )
    if target.is_dir():
        _refuse_foreign(out, target, writes)


def _earlier_outputs(folder: Path) -> set[str]:
    """Names of the files in ``folder`` that an earlier auditor run wrote: those its
    ``manifest.json`` lists (and the manifest); in a folder written before manifests
    (no ``manifest.json``, but a findings.json or validation.json of auditor's), every
    output name present. Other files are not auditor's."""
    present = {n for n in OUTPUT_NAMES if (folder / n).is_file()}
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return present if _legacy_outputs(folder) else set()
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict) or manifest.get("tool") != "auditor":
        return set()
    listed = manifest.get("files")
    return present & ({MANIFEST} | set(listed if isinstance(listed, dict) else ()))


def _legacy_outputs(folder: Path) -> bool:
    """Whether ``folder`` holds a findings.json or validation.json that auditor wrote."""
    for name in ("findings.json", "validation.json"):
        try:
            doc = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and {"auditor_version", "schema_version"} <= doc.keys():
            return True
    return False


def _refuse_foreign(out: Path, folder: Path, writes: Sequence[str]) -> set[str]:
    """The earlier run's outputs in ``folder``; a ``UsageError`` if a file this run would
    replace was not written by auditor."""
    earlier = _earlier_outputs(folder)
    foreign = sorted(n for n in (*writes, MANIFEST) if (folder / n).exists() and n not in earlier)
    if foreign:
        raise UsageError(
            f"--out {out}: holds {', '.join(foreign)}, which auditor did not write (no "
            f"{MANIFEST} of auditor's lists them), and this run would replace them. Move "
            "them away or choose another folder with --out."
        )
    return earlier


def _publish(
    out: Path,
    write: Callable[[Path], list[str]],
    argv: Sequence[str],
    backend: str,
    interrupts: _Interrupts,
) -> tuple[list[str], list[str]]:
    """Have ``write`` write a run's outputs into a new staging folder on the same file
    system as ``out``, add ``manifest.json``, then move them all into ``out``; return the
    names written and the earlier outputs removed. If anything fails or is interrupted
    before the move, ``out`` is left as it was; the staging folder is always removed.

    Raises:
        UsageError: ``out`` cannot be written (the message names it and what to do).
    """
    # SIGINT is held from the staging folder's creation to its removal, so that no
    # interrupt can fall between them; only the writing itself may be interrupted.
    with interrupts.deferred():
        try:
            staging = _staging_folder(out)
        except OSError as exc:
            raise _unwritable(out, exc) from exc
        try:
            with interrupts.interruptible():
                try:
                    names = write(staging)
                    names.append(_write_manifest(staging, names, argv, backend))
                except OSError as exc:
                    raise _unwritable(out, exc) from exc
                interrupts.check()  # a Ctrl-C that was lost on its way up: publish nothing
            removed = _commit(staging, out, names)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return names, removed


def _staging_folder(out: Path) -> Path:
    """A new, empty, hidden folder beside ``out`` (same parent, so the same file system);
    inside ``out`` when ``out`` is a mount point or its parent may not be written."""
    target = out.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    where = target.parent
    if target.is_dir() and (
        target.stat().st_dev != where.stat().st_dev or not os.access(where, os.W_OK | os.X_OK)
    ):
        where = target
    prefix = f".{target.name or 'auditor'}.auditor-"
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=where))


def _write_manifest(folder: Path, names: Sequence[str], argv: Sequence[str], backend: str) -> str:
    """Write ``manifest.json`` into ``folder``: tool, version, command, the engine that ran
    it (``backend`` and its library's version), the time it was written (UTC) and each
    output's size in bytes and SHA-256; return its name."""
    files = {}
    for name in names:
        with (folder / name).open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        files[name] = {"bytes": (folder / name).stat().st_size, "sha256": digest}
    document = {
        "tool": "auditor",
        "auditor_version": __version__,
        "command": list(argv),
        "engine": {"backend": backend, "version": _library_version(ENGINE_LIBRARIES[backend])},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }
    _write_text(folder / MANIFEST, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return MANIFEST


ENGINE_LIBRARIES = {"duckdb": "duckdb", "spark": "pyspark"}
"""The Python distribution behind each ``[engine] backend``."""


def _library_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit(staging: Path, out: Path, names: Sequence[str]) -> list[str]:
    """Move ``names`` (the manifest last) from ``staging`` into ``out``, after setting the
    earlier run's outputs aside (its manifest first); if a move fails, put everything back
    as it was. Return the earlier outputs that this run did not replace.

    Raises:
        UsageError: a file auditor did not write would be replaced, or ``out`` cannot be
            written.
    """
    target = out.resolve()
    created = not target.exists()
    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise _unwritable(out, exc) from exc
    earlier = _refuse_foreign(out, target, names)  # the folder may have changed meanwhile
    aside = staging / ".earlier"
    moved: list[tuple[Path, Path]] = []
    try:
        aside.mkdir()
        for name in sorted(earlier, key=OUTPUT_NAMES.index):
            moved.append((target / name, aside / name))
            os.replace(*moved[-1])
        for name in names:
            moved.append((staging / name, target / name))
            os.replace(*moved[-1])
    except OSError as exc:
        for source, destination in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(destination, source)
        if created:
            with contextlib.suppress(OSError):
                target.rmdir()
        raise _unwritable(out, exc) from exc
    return [n for n in OUTPUT_NAMES if n in earlier and n not in names]


def _unwritable(out: Path, exc: OSError) -> UsageError:
    where = f" ({exc.filename})" if exc.filename else ""
    return UsageError(
        f"--out {out}: cannot write the outputs there: {exc.strerror or exc}{where}. Make the "
        "folder writable, free some space, or choose another folder with --out; the folder "
        "was left as it was."
    )


def _schema(args: argparse.Namespace) -> int:
    import json

    if args.which == "findings":
        from auditor.findings import findings_json_schema

        document = findings_json_schema()
    else:
        from auditor.contract import contract_table_schema

        document = contract_table_schema()
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return EXIT_OK


def _print_accounting(result: AuditResult) -> None:
    print(f"{'table':<14}{'read':>12}{'used':>12}{'quarantined':>13}")
    for name, t in result.tables.items():
        print(f"{name:<14}{t.rows_read:>12,}{t.rows_used:>12,}{t.rows_quarantined:>13,}")
        for reason, n in t.quarantined_by_reason.items():
            print(f"  {reason:<36}{n:>13,}")
    if result.ignored_files:
        print("not contract tables, ignored: " + ", ".join(result.ignored_files))


def _print_findings(result: AuditResult) -> None:
    print()
    for f in result.findings:
        if f.status != Status.PASS:
            print(f"  {f}")
    s = result.summary()["by_status"]
    print(
        f"{s['fail']} fail, {s['pass']} pass, {s['inconclusive']} inconclusive, "
        f"{s['not_assessed']} not assessed"
    )


def _exit_code(result: AuditResult, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    worst = result.worst_severity()
    return EXIT_FINDINGS if worst is not None and worst.rank >= threshold else EXIT_OK


def _day(text: str) -> date:
    """A ``YYYY-MM-DD`` command-line value (argparse exits 2 with the message otherwise)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _simulate(args: argparse.Namespace) -> int:
    import tempfile

    from auditor.simulate import SimulationSpec, make_dirty_package, simulate, write_package

    plants = tuple(p.strip() for arg in args.plant for p in arg.split(",") if p.strip())
    if args.workers < 1 or args.days < 1:
        raise UsageError("--workers and --days must be at least 1.")
    try:
        spec = SimulationSpec(
            workers=args.workers,
            days=args.days,
            seed=args.seed,
            plants=plants,
            plant_size=args.plant_size,
        )
        if args.start is not None:
            spec = dataclasses.replace(spec, start=args.start)
        package = simulate(spec)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    try:
        "".encode(args.encoding)
    except LookupError as exc:
        raise UsageError(f"--encoding {args.encoding!r} is not a known encoding.") from exc
    if args.dirty:
        if args.format != "csv" or args.encoding.lower() not in ("utf-8", "utf8"):
            raise UsageError("--dirty writes UTF-8 CSV only; drop --format/--encoding.")
        with tempfile.TemporaryDirectory() as tmp:
            clean = write_package(package, Path(tmp) / "clean", fmt="csv")
            planted = make_dirty_package(clean, args.out, seed=args.seed)
        print(
            f"Wrote {args.out}/ (csv) with {len(planted)} planted bad rows; expected reasons "
            f"in {args.out}/expected_quarantine.csv"
        )
        return EXIT_OK
    out = write_package(package, args.out, fmt=args.format, encoding=args.encoding)
    rows = ", ".join(f"{name} {t.num_rows:,}" for name, t in package.tables.items())
    print(f"Wrote {out}/ ({args.format}): {rows}")
    if plants:
        print(f"Planted: {', '.join(plants)} (ground truth in {out}/ground_truth.json)")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
