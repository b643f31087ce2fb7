"""The ``auditor`` command line.

Exit codes (``../shared/spec/checks.md``):
    0  no fail finding at or above ``--fail-on``;
    1  at least one such finding;
    2  the package, config or command line could not be used (the message says why);
    3  an internal error (a bug): a short message, never a bare traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from auditor._version import __version__
from auditor.checks import Severity, Status
from auditor.config import load_config
from auditor.errors import AuditorError, UsageError
from auditor.findings import AuditResult
from auditor.pipeline import Audit
from auditor.report import LANGUAGES

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3
FAIL_ON = ("low", "medium", "high", "critical", "never")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 itself on a bad command line
    debug = bool(os.environ.get("AUDITOR_DEBUG")) or getattr(args, "debug", False)
    try:
        return int(args.handler(args))
    except AuditorError as exc:
        print(f"auditor: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``auditor schema findings | head``): not an error of ours.
        # Point stdout at devnull so that the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
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
        p.add_argument("package", type=Path, help="folder holding orders.csv (and other tables)")
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
        p.add_argument("--quiet", action="store_true", help="no progress messages")
        p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
        p.set_defaults(handler=handler)

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


class _Progress:
    """Progress lines on stderr with elapsed time; silent when not a terminal or --quiet."""

    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)


def _plan(args: argparse.Namespace) -> Audit:
    config = load_config(args.config)
    return Audit(config=config, progress=_Progress(args.quiet))


def _run(args: argparse.Namespace) -> int:
    plan = _plan(args)
    result = plan.run(args.package)
    if plan.progress is not None:
        plan.progress("writing findings and the report")
    written = _write_outputs(result, args.out, "findings.json")
    written += _write_reports(result, args.out, args.lang, args.fail_on, html_report=True)
    _print_accounting(result)
    _print_findings(result)
    print(f"\nOutputs in {args.out}/: " + ", ".join(written))
    return _exit_code(result, args.fail_on)


def _validate(args: argparse.Namespace) -> int:
    result = _plan(args).validate(args.package)
    written = _write_outputs(result, args.out, "validation.json")
    written += _write_reports(result, args.out, args.lang, args.fail_on, html_report=False)
    _print_accounting(result)
    print(f"\nOutputs in {args.out}/: " + ", ".join(written))
    return _exit_code(result, args.fail_on)


def _write_outputs(result: AuditResult, out: Path, json_name: str) -> list[str]:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the output folder ({exc.strerror}).") from exc
    (out / json_name).write_text(result.to_json(), encoding="utf-8")
    result.quarantine.to_csv(out / "quarantine.csv", index=False, lineterminator="\n")
    written = [json_name, "quarantine.csv"]
    if json_name == "findings.json":
        result.leads.to_csv(
            out / "leads.csv", index=False, lineterminator="\n", float_format="%.6g"
        )
        written.append("leads.csv")
    return written


def _write_reports(
    result: AuditResult, out: Path, lang: str, fail_on: str, *, html_report: bool
) -> list[str]:
    from auditor.report import render_html, render_junit, render_markdown

    written = []
    if html_report:
        (out / "report.html").write_text(render_html(result, lang), encoding="utf-8")
        written.append("report.html")
    (out / "summary.md").write_text(render_markdown(result, lang, fail_on), encoding="utf-8")
    (out / "junit.xml").write_text(render_junit(result), encoding="utf-8")
    return [*written, "summary.md", "junit.xml"]


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
