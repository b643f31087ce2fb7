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
from typing import Any

import pandas as pd

from auditor._version import __version__
from auditor.checks import CheckContext, Finding, run_checks
from auditor.config import AuditConfig, load_config
from auditor.contract import Plausibility, ValidatedPackage, validate_package
from auditor.engine import connect
from auditor.findings import AuditResult, TableAccount, sort_findings
from auditor.ingest import read_package, write_frames
from auditor.reconstruct import aggregate_frames, panel_frames, reconstruct

__all__ = ["Audit", "PackageSource", "ProgressCallback", "audit"]

PackageSource = str | Path | Mapping[str, pd.DataFrame]
"""A package: a folder of table files, or contract table name -> DataFrame."""

IN_MEMORY_NAME = "dataframes"
"""``package_name`` of a package given as DataFrames."""

ProgressCallback = Callable[[str], None]
"""Called with a short description as each step starts."""


@dataclass(frozen=True, slots=True)
class Audit:
    """An audit plan: what to run, with which configuration.

    Attributes:
        config: the configuration (defaults if omitted).
        checks: catalogue IDs to run; None runs every registered check.
        progress: called with a short message as each step starts.
    """

    config: AuditConfig = field(default_factory=AuditConfig)
    checks: tuple[str, ...] | None = None
    progress: ProgressCallback | None = None

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
        return self._execute_folder(Path(package), checks, rebuild=rebuild)

    def _execute_folder(
        self, package: Path, checks: Iterable[str] | None, *, rebuild: bool
    ) -> AuditResult:
        timings: dict[str, float] = {}
        with connect(self.config) as engine:
            start = time.perf_counter()
            self._say("reading the package")
            raw = read_package(package, self.config, engine)
            timings["read"] = time.perf_counter() - start

            start = time.perf_counter()
            self._say("validating against the contract")
            package_rules = self.config.package
            plausible = Plausibility.of(
                package_rules.earliest_date,
                package_rules.latest_date,
                package_rules.max_session_hours,
            )
            validated = validate_package(engine, raw, plausible)
            timings["validate"] = time.perf_counter() - start

            rebuilt = None
            if rebuild:
                start = time.perf_counter()
                self._say("reconstructing earnings, take rates and working time")
                rebuilt = reconstruct(engine, validated, self.config)
                timings["reconstruct"] = time.perf_counter() - start

            start = time.perf_counter()
            families: dict[str, Any] = {}
            findings = run_checks(
                CheckContext(
                    config=self.config, package=validated, engine=engine, reconstruction=rebuilt
                ),
                only=checks,
                progress=self.progress,
                families=families,
            )
            timings["checks"] = time.perf_counter() - start

            start = time.perf_counter()
            quarantine = validated.quarantine()
            panels = panel_frames(rebuilt)
            result = _assemble(self.config, validated, findings, quarantine, timings)
            result = dataclasses.replace(result, test_families=families)
            aggregates = aggregate_frames(
                rebuilt.orders if rebuilt is not None else None, validated
            )
            result = dataclasses.replace(result, aggregates=aggregates, **panels)
            timings["assemble"] = time.perf_counter() - start
        return result

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


def audit(
    package: PackageSource,
    config: AuditConfig | str | Path | None = None,
    *,
    checks: Iterable[str] | None = None,
) -> AuditResult:
    """Audit ``package`` with ``config`` (an AuditConfig, a path to a TOML file, or None).

    ``package`` is a folder of table files (CSV, Parquet, JSON Lines) or a dict of pandas
    DataFrames keyed by contract table name (``{"orders": df, "workers": w}``); DataFrames
    are written to Parquet in a temporary folder and read like a submitted export, so the
    same validation, quarantine and row accounting apply.
    """
    if not isinstance(config, AuditConfig):
        config = load_config(config)
    return Audit(config=config, checks=tuple(checks) if checks is not None else None).run(package)


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
