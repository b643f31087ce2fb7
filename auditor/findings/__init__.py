"""Stage 5, findings: assemble checks' findings, accounting and provenance into a result."""

from __future__ import annotations

from auditor.findings._result import (
    FINDING_COLUMNS,
    SCHEMA_VERSION,
    AuditResult,
    TableAccount,
    sort_findings,
)

__all__ = ["FINDING_COLUMNS", "SCHEMA_VERSION", "AuditResult", "TableAccount", "sort_findings"]
