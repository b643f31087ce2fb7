"""auditor: audit gig-work platform data for fee transparency, pay and algorithmic fairness.

The pipeline is ingest -> contract -> reconstruct -> checks -> findings -> report::

    import auditor
    result = auditor.audit("fixtures/demo", "audit_config.toml")
    result.to_frame()        # findings as a DataFrame
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from auditor.errors import (
    AuditorError,
    AuditorWarning,
    ConfigError,
    DecodeError,
    PackageError,
    UsageError,
)

if _typing.TYPE_CHECKING:
    from auditor._version import __version__
    from auditor.config import AuditConfig, load_config
    from auditor.contract import Reason
    from auditor.findings import AuditResult, Finding, Severity, Status, TableAccount
    from auditor.pipeline import Audit, audit

_LAZY = {
    "__version__": "auditor._version",
    "Finding": "auditor.findings",
    "Severity": "auditor.findings",
    "Status": "auditor.findings",
    "AuditConfig": "auditor.config",
    "load_config": "auditor.config",
    "Reason": "auditor.contract",
    "AuditResult": "auditor.findings",
    "TableAccount": "auditor.findings",
    "Audit": "auditor.pipeline",
    "audit": "auditor.pipeline",
}
"""Public names imported on first use: ``import auditor`` stays light (the command line
sets up its Ctrl-C handling before pandas, Ibis and DuckDB load)."""


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
