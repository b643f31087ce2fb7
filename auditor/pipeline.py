"""The pipeline: ingest -> contract -> reconstruct -> checks -> findings.

``Audit(config).run(package)`` is the one place the stages are wired. The
constructor stores settings and does no work.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from auditor._version import __version__
from auditor.checks import CheckContext, Finding, planned_checks, run_checks
from auditor.config import AuditConfig, load_config, with_engine
from auditor.contract import Plausibility, ValidatedPackage, validate_package
from auditor.engine import connect
from auditor.findings import AuditResult, TableAccount, sort_findings
from auditor.ingest import read_package, write_frames
from auditor.reconstruct import (
    aggregate_frames,
    indicators_frame,
    panel_frames,
    reconstruct,
    statistics_frame,
)

__all__ = ["Audit", "PackageSource", "ProgressCallback", "StageProgress", "audit"]

PackageSource = str | Path | Mapping[str, pd.DataFrame]
"""A package: a folder of table files (on Spark also a URI: ``"s3a://bucket/package"``),
or contract table name -> DataFrame."""

IN_MEMORY_NAME = "dataframes"
"""``package_name`` of a package given as DataFrames."""

ProgressCallback = Callable[[str], None]
"""Called with a short description as each step starts: ``"reading the package"``,
``"validating against the contract"``, ``"reconstructing earnings, take rates and working
time"`` (``run`` only), then ``"check FEE-01"`` and so on for each check."""


@runtime_checkable
class StageProgress(Protocol):
    """A progress callback that also hears where each stage starts and ends (optional:
    any :data:`ProgressCallback` will do).

    It is called with the same messages, in the same order, as a plain callback; besides,
    :meth:`stage_started` precedes each stage's messages and :meth:`stage_finished` follows
    them once the stage has completed (not when an exception cuts it short). The stages of
    ``Audit.run``: ``"reading the package"``, ``"validating against the contract"``,
    ``"reconstructing earnings, take rates and working time"``, ``"checks"`` (counted: its
    ``total`` is the number of checks to run, and each ``"check ..."`` message starts the
    next one) and ``"assembling the result"`` (no message of its own); ``Audit.validate``
    skips the reconstruction. The command line's display is one
    (``auditor._progress.TerminalProgress``).
    """

    def __call__(self, message: str) -> None:
        """A step starts, as for a plain callback."""

    def stage_started(self, name: str, total: int | None = None) -> None:
        """Stage ``name`` starts; ``total`` is the number of steps it will announce, or
        None when they are not counted."""

    def stage_finished(self) -> None:
        """The stage last started has completed."""


@dataclass(frozen=True, slots=True)
class Audit:
    """An audit plan: what to run, with which configuration.

    Attributes:
        config: the configuration (defaults if omitted).
        checks: catalogue IDs to run; None runs every registered check.
        progress: called with a short message as each step starts (a
            :data:`ProgressCallback`); if it is also a :class:`StageProgress`, it hears
            where each stage starts and ends, and how many checks will run.
        session: a ``SparkSession`` to run on (Spark, whatever ``[engine] backend``
            says); None opens the engine the config names.
    """

    config: AuditConfig = field(default_factory=AuditConfig)
    checks: tuple[str, ...] | None = None
    progress: ProgressCallback | None = None
    session: Any = None

    def run(self, package: PackageSource) -> AuditResult:
        """Read, validate and check ``package`` (a folder, or table name -> DataFrame);
        return the result."""
        return self._execute(package, self.checks, rebuild=True)

    def validate(self, package: PackageSource) -> AuditResult:
        """Read and validate only: the result holds the DQ findings."""
        return self._execute(package, ("DQ-01", "DQ-02", "DQ-03", "DQ-04", "DQ-05"), rebuild=False)

    def _execute(
        self, package: PackageSource, checks: Iterable[str] | None, *, rebuild: bool
    ) -> AuditResult:
        if isinstance(package, Mapping):
            with tempfile.TemporaryDirectory(prefix="auditor-") as tmp:
                folder = write_frames(package, Path(tmp) / IN_MEMORY_NAME)
                return self._execute_folder(folder, checks, rebuild=rebuild)
        return self._execute_folder(package, checks, rebuild=rebuild)

    def _execute_folder(
        self, package: str | Path, checks: Iterable[str] | None, *, rebuild: bool
    ) -> AuditResult:
        checks = tuple(checks) if checks is not None else None  # counted, then run
        timings: dict[str, float] = {}
        with connect(self.config, self.session) as engine:
            start = time.perf_counter()
            self._begin("reading the package")
            raw = read_package(package, self.config, engine)
            self._end()
            timings["read"] = time.perf_counter() - start

            start = time.perf_counter()
            self._begin("validating against the contract")
            package_rules = self.config.package
            plausible = Plausibility.of(
                package_rules.earliest_date,
                package_rules.latest_date,
                package_rules.max_session_hours,
            )
            validated = validate_package(engine, raw, plausible)
            self._end()
            timings["validate"] = time.perf_counter() - start

            rebuilt = None
            if rebuild:
                start = time.perf_counter()
                self._begin("reconstructing earnings, take rates and working time")
                rebuilt = reconstruct(engine, validated, self.config)
                self._end()
                timings["reconstruct"] = time.perf_counter() - start

            start = time.perf_counter()
            families: dict[str, Any] = {}
            self._begin("checks", len(planned_checks(checks)), announce=False)
            findings = run_checks(
                CheckContext(
                    config=self.config, package=validated, engine=engine, reconstruction=rebuilt
                ),
                only=checks,
                progress=self.progress,
                families=families,
            )
            self._end()
            timings["checks"] = time.perf_counter() - start

            start = time.perf_counter()
            self._begin("assembling the result", announce=False)
            quarantine = validated.quarantine()
            panels = panel_frames(rebuilt)
            result = _assemble(self.config, validated, findings, quarantine, timings)
            result = dataclasses.replace(result, test_families=families)
            aggregates = aggregate_frames(
                rebuilt.orders if rebuilt is not None else None, validated
            )
            statistics = statistics_frame(panels, validated, self.config)
            indicators = indicators_frame(panels, validated, self.config)
            result = dataclasses.replace(
                result,
                aggregates=aggregates,
                statistics=statistics,
                indicators=indicators,
                **panels,
            )
            self._end()
            timings["assemble"] = time.perf_counter() - start
        return result

    def _begin(self, stage: str, total: int | None = None, *, announce: bool = True) -> None:
        """Stage ``stage`` (of ``total`` steps) starts: tell a :class:`StageProgress`; then,
        with ``announce``, call the callback with its name (the stage is one step)."""
        if isinstance(self.progress, StageProgress):
            self.progress.stage_started(stage, total)
        if announce and self.progress is not None:
            self.progress(stage)

    def _end(self) -> None:
        """The stage last begun has completed: tell a :class:`StageProgress`."""
        if isinstance(self.progress, StageProgress):
            self.progress.stage_finished()


def audit(
    package: PackageSource,
    config: AuditConfig | str | Path | None = None,
    *,
    checks: Iterable[str] | None = None,
    engine: Any = None,
) -> AuditResult:
    """Audit ``package`` with ``config`` (an AuditConfig, a path to a TOML file, or None).

    ``engine``: ``"duckdb"`` or ``"spark"`` (in place of ``[engine] backend``), or a
    ``SparkSession`` to run on; None runs on the engine the config names.

    ``package`` is a folder of table files (CSV, Parquet, JSON Lines) or a dict of pandas
    DataFrames keyed by contract table name (``{"orders": df, "workers": w}``); DataFrames
    are written to Parquet in a temporary folder and read like a submitted export, so the
    same validation, quarantine and row accounting apply.
    """
    if not isinstance(config, AuditConfig):
        config = load_config(config)
    session = None
    if isinstance(engine, str):
        config = with_engine(config, engine)
    elif engine is not None:
        session = engine
    chosen = tuple(checks) if checks is not None else None
    return Audit(config=config, checks=chosen, session=session).run(package)


def _assemble(
    config: AuditConfig,
    validated: ValidatedPackage,
    findings: list[Finding],
    quarantine: pd.DataFrame,
    timings: dict[str, float],
) -> AuditResult:
    tables = {
        name: TableAccount(
            file=t.source.path.name,
            format=t.source.format,
            bytes=t.source.size_bytes,
            sha256=validated.sha256[name],
            rows_read=t.rows_read,
            rows_used=t.rows_used,
            rows_quarantined=t.rows_quarantined,
            quarantined_by_reason=t.quarantined_by_reason,
            columns_present=t.columns_present,
            extra_columns=t.extra_columns,
        )
        for name, t in validated.tables.items()
    }
    return AuditResult(
        findings=sort_findings(findings),
        tables=tables,
        package_name=validated.path.resolve().name,
        ignored_files=validated.ignored_files,
        config=config.to_dict(),
        config_sha256=config.sha256(),
        auditor_version=__version__,
        seed=config.audit.seed,
        quarantine=quarantine,
        timings=timings,
    )
