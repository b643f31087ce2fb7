"""The result of an audit: findings, row accounting and provenance, in several faces."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from auditor.findings._finding import Finding, Severity, Status, reported_float
from auditor.schema import CATALOGUE_ORDER

__all__ = ["SCHEMA_VERSION", "AuditResult", "TableAccount"]

SCHEMA_VERSION = "1.2"
"""Version of the findings.json shape (1.1 added ``test_families``; 1.2 the ``metric`` of each
family member)."""


@dataclass(frozen=True, slots=True)
class TableAccount:
    """Row accounting and fingerprint of one table: ``rows_read = rows_used + rows_quarantined``.

    Attributes:
        file: file name in the package.
        format: csv, parquet or jsonl.
        bytes: file size.
        sha256: SHA-256 of the file as submitted.
        rows_read: records in the file.
        rows_used: records that passed validation.
        rows_quarantined: records set aside, each with at least one reason.
        quarantined_by_reason: reason code -> records (a record may count under several).
        columns_present: contract columns the file has.
        extra_columns: other columns, kept.
    """

    file: str
    format: str
    bytes: int
    sha256: str
    rows_read: int
    rows_used: int
    rows_quarantined: int
    quarantined_by_reason: Mapping[str, int]
    columns_present: tuple[str, ...]
    extra_columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_reason": dict(self.quarantined_by_reason),
            "columns_present": list(self.columns_present),
            "extra_columns": list(self.extra_columns),
        }


FINDING_COLUMNS = (
    "check", "status", "severity", "title", "metric", "estimate", "ci_low", "ci_high",
    "p_value", "p_adjusted", "threshold", "subject", "n_workers", "n_orders", "detail",
)  # fmt: skip


LEAD_COLUMNS = (
    "check", "rank", "order_id", "service", "zone", "customer_price", "price_vs_typical",
    "robust_z",
)  # fmt: skip
"""Columns of ``leads.csv``."""

OWED_COLUMNS = (
    "rule", "worker_id", "period_start", "period_end", "units", "units_short", "required",
    "paid", "shortfall", "topup_in_time", "topup_late", "owed",
)  # fmt: skip
"""Columns of ``owed.csv``: per rule pack, worker and week (Monday to Sunday) paid below
the floor, the units (trips or the week), the floor required, the pay counted, the
shortfall, the top-ups credited in time and late, and what is still owed (money in
``[audit] currency``, to the cent)."""

OWED_CHECKS = ("PAY-03",)
"""Checks whose ``evidence`` is money owed per worker (``owed.csv``), not leads."""


@dataclass(frozen=True, slots=True, eq=False)
class AuditResult:
    """What ``Audit.run`` returns.

    Attributes:
        findings: in catalogue order, then by subject.
        tables: table name -> row accounting and fingerprint, in contract order.
        package_name: the package folder's name.
        ignored_files: files in the package that are not contract tables.
        config: the effective configuration (``AuditConfig.to_dict()``).
        config_sha256: hash of the effective configuration.
        auditor_version: version that produced the result.
        seed: seed of every random step.
        quarantine: one row per failed rule (table, row, key, column, reason, value). It holds
            raw values and IDs: for the auditor, never for publication.
        worker_days: per worker and local date: orders, money, deductions, km, engaged and
            online hours (money as float here; exact decimals in the engine). Holds worker
            IDs: for analysis, never for publication. Empty (same columns) when only
            validating.
        worker_weeks: per worker and week (Monday start): the same sums plus hourly
            earnings on each time basis and utilisation.
        worker_periods: per pay statement: its period's sums and hourly earnings beside
            ``net_paid`` (empty without a payouts table).
        aggregates: small aggregate tables for reports (``take_rate_bins``,
            ``daily_take_rate``, ``fee_schedule``): counts of orders and distinct workers
            per cell, no IDs (see :func:`auditor.reconstruct.aggregate_frames`).
        statistics: platform-work statistics (workers by days active, days and weeks active,
            tenure, online and engaged hours, earnings and hourly earnings per worker-week):
            distributions with cells under ``[report] min_cell_workers`` withheld (see
            :func:`auditor.reconstruct.platform_statistics`); no IDs. Written as
            ``statistics.csv``. Empty when only validating.
        indicators: labour-management indicators per group of each protected attribute
            (working time, dispatch, penalties, account actions, continuity), small groups
            and cells withheld (:func:`auditor.reconstruct.labour_indicators`); evidence,
            never a classification. Written as ``indicators.csv``.
        timings: seconds per stage of this run (not part of findings.json, which must be
            byte-identical across runs).
        test_families: the audit's multiple-testing families (``confirmatory``: the tests
            that decide a verdict; ``secondary``: the labelled views' tests), each with its
            method, alpha, size and members (check, subject, view, p-values).
    """

    findings: tuple[Finding, ...]
    tables: Mapping[str, TableAccount]
    package_name: str
    ignored_files: tuple[str, ...]
    config: Mapping[str, Any]
    config_sha256: str
    auditor_version: str
    seed: int
    quarantine: pd.DataFrame = field(repr=False)
    worker_days: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    worker_weeks: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    worker_periods: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    aggregates: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    statistics: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    timings: Mapping[str, float] = field(default_factory=dict, repr=False)
    test_families: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The findings.json document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "auditor_version": self.auditor_version,
            "package": {
                "name": self.package_name,
                "tables": {name: t.to_dict() for name, t in self.tables.items()},
                "ignored_files": list(self.ignored_files),
            },
            "config_sha256": self.config_sha256,
            "config": self.config,
            "seed": self.seed,
            "summary": self.summary(),
            "test_families": _families(self.test_families),
            "findings": [f.to_dict() for f in self.findings],
        }

    @property
    def leads(self) -> pd.DataFrame:
        """Row-level leads for review (e.g. PRC-02's anomalous prices), from every finding's
        private ``evidence``: columns ``LEAD_COLUMNS``. Holds order IDs: for the auditor,
        never for publication (``findings.json`` and reports carry only counts)."""
        frames = [
            f.evidence
            for f in self.findings
            if f.evidence is not None and len(f.evidence) and f.check not in OWED_CHECKS
        ]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in LEAD_COLUMNS})
        return pd.concat(frames, ignore_index=True).reindex(columns=list(LEAD_COLUMNS))

    @property
    def owed(self) -> pd.DataFrame:
        """Money owed under each rule pack (PAY-03), per worker and week paid below the floor:
        columns ``OWED_COLUMNS``, money as text to the cent. Holds worker IDs: for the
        auditor, never for publication (``findings.json`` and reports carry only totals)."""
        frames = [
            f.evidence
            for f in self.findings
            if f.check in OWED_CHECKS and f.evidence is not None and len(f.evidence)
        ]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in OWED_COLUMNS})
        return pd.concat(frames, ignore_index=True).reindex(columns=list(OWED_COLUMNS))

    @property
    def findings_frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (same as :meth:`to_frame`)."""
        return self.to_frame()

    def figures(self, lang: str = "en") -> dict[str, Any]:
        """The report's plotly figures (name -> ``plotly.graph_objects.Figure``), drawn
        from aggregates with small cells suppressed, labelled in ``lang``."""
        from auditor.report import build_figures, labels

        currency = str(self.config.get("audit", {}).get("currency", "CNY"))
        level = 1.0 - float(self.config.get("audit", {}).get("alpha", 0.05))
        words = labels(lang, currency, level)
        return {n: f.figure for n, f in build_figures(self, words).items()}

    def report_html(self, lang: str = "en") -> str:
        """The self-contained ``report.html`` page, in ``lang`` (``"en"`` or ``"zh"``)."""
        from auditor.report import render_html

        return render_html(self, lang)

    def to_json(self) -> str:
        """findings.json text: UTF-8, 2-space indent, fixed key order, trailing newline."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    def summary(self) -> dict[str, Any]:
        """Counts of findings by status, and of fail findings by severity."""
        by_status = {str(s): 0 for s in Status}
        by_severity = {str(s): 0 for s in Severity if s != Severity.INFO}
        for f in self.findings:
            by_status[str(f.status)] += 1
            if f.status == Status.FAIL:
                by_severity[str(f.severity)] += 1
        return {"by_status": by_status, "fail_by_severity": by_severity}

    def worst_severity(self) -> Severity | None:
        """The highest severity among fail findings, or None if nothing failed."""
        fails = [f.severity for f in self.findings if f.status == Status.FAIL]
        return max(fails, key=lambda s: s.rank) if fails else None

    def to_frame(self) -> pd.DataFrame:
        """Findings as a DataFrame with fixed columns (:data:`FINDING_COLUMNS`)."""
        rows = []
        for f in self.findings:
            d = f.to_dict()
            ci = d.pop("ci") or [None, None]
            d["ci_low"], d["ci_high"] = ci
            d["subject"] = ", ".join(f"{k}={v}" for k, v in f.subject.items())
            rows.append({c: d[c] for c in FINDING_COLUMNS})
        return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))

    def accounting_frame(self) -> pd.DataFrame:
        """Rows read, used and quarantined per table."""
        return pd.DataFrame(
            [
                {
                    "table": n,
                    "rows_read": t.rows_read,
                    "rows_used": t.rows_used,
                    "rows_quarantined": t.rows_quarantined,
                }
                for n, t in self.tables.items()
            ],
            columns=["table", "rows_read", "rows_used", "rows_quarantined"],
        )

    def __str__(self) -> str:
        s = self.summary()["by_status"]
        lines = [
            f"Audit of {self.package_name}: {s['fail']} fail, {s['pass']} pass, "
            f"{s['inconclusive']} inconclusive, {s['not_assessed']} not assessed"
        ]
        lines += [f"  {f}" for f in self.findings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        s = self.summary()["by_status"]
        head = (
            f"<p><b>Audit of {html.escape(self.package_name)}</b>: {s['fail']} fail, "
            f"{s['pass']} pass, {s['inconclusive']} inconclusive, "
            f"{s['not_assessed']} not assessed</p>"
        )
        frame = self.to_frame()[["check", "status", "severity", "subject", "detail"]]
        return head + frame.to_html(index=False, escape=True)


def _families(families: Mapping[str, Any]) -> dict[str, Any]:
    """The families as findings.json writes them: both always present (empty when no
    check ran a test), p-values as every output reports them."""
    out: dict[str, Any] = {}
    for name in ("confirmatory", "secondary"):
        family = families.get(name) or {"method": "holm", "alpha": None, "tests": 0, "members": []}
        out[name] = {
            "method": family["method"],
            "alpha": family["alpha"],
            "tests": family["tests"],
            "members": [
                {k: (reported_float(v) if k.startswith("p_") else v) for k, v in m.items()}
                for m in family["members"]
            ],
        }
    return out


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Catalogue order; within a check, the (deterministic) order it reported them in."""
    order = {c: i for i, c in enumerate(CATALOGUE_ORDER)}
    return tuple(sorted(findings, key=lambda f: (order.get(f.check, len(order)), f.check)))
