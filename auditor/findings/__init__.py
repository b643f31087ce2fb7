"""Stage 5, findings: assemble checks' findings, accounting and provenance into a result."""

from __future__ import annotations

from auditor.findings._finding import Finding, Severity, Status, reported_float
from auditor.findings._result import (
    FINDING_COLUMNS,
    LEAD_COLUMNS,
    OWED_COLUMNS,
    SCHEMA_VERSION,
    AuditResult,
    TableAccount,
    sort_findings,
)
from auditor.findings._schema import findings_json_schema

__all__ = [
    "FINDING_COLUMNS",
    "LEAD_COLUMNS",
    "OWED_COLUMNS",
    "SCHEMA_VERSION",
    "AuditResult",
    "Finding",
    "Severity",
    "Status",
    "TableAccount",
    "findings_json_schema",
    "reported_float",
    "sort_findings",
]
