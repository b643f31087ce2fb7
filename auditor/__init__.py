"""auditor: audit gig-work platform data for fee transparency, pay and algorithmic fairness.

The pipeline is ingest -> contract -> reconstruct -> checks -> findings -> report::

    import auditor
    result = auditor.audit("fixtures/demo", "audit_config.toml")
    result.to_frame()        # findings as a DataFrame
"""

from __future__ import annotations

from auditor._version import __version__
from auditor.checks import Finding, Severity, Status
from auditor.config import AuditConfig, load_config
from auditor.contract import Reason
from auditor.errors import (
    AuditorError,
    AuditorWarning,
    ConfigError,
    DecodeError,
    PackageError,
    UsageError,
)
from auditor.findings import AuditResult, TableAccount
from auditor.pipeline import Audit, audit

__all__ = [
    "Audit",
    "AuditConfig",
    "AuditResult",
    "AuditorError",
    "AuditorWarning",
    "ConfigError",
    "DecodeError",
    "Finding",
    "PackageError",
    "Reason",
    "Severity",
    "Status",
    "TableAccount",
    "UsageError",
    "__version__",
    "audit",
    "load_config",
]
