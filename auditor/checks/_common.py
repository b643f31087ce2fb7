"""Helpers shared by the check modules: severities, counting, plain-language numbers."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from auditor.checks._base import CheckContext, Severity, Status

__all__ = ["basis", "fact_outcome", "scalar", "severity_by_share", "whole"]


def severity_by_share(share: float, high: float = 0.05, medium: float = 0.01) -> Severity:
    """Severity of a deterministic breach from the share of units it touches."""
    if share >= high:
        return Severity.HIGH
    if share >= medium:
        return Severity.MEDIUM
    return Severity.LOW


def basis(context: CheckContext, check_id: str) -> str | None:
    """The ``[basis]`` text of a check, if the config has one."""
    return context.config.basis.get(check_id)


def scalar(value: ir.Scalar) -> Any:
    """Execute a scalar expression; Decimals become floats, NaN/None become None."""
    out = value.execute()
    if out is None:
        return None
    try:
        f = float(out)
    except (TypeError, ValueError):
        return out
    return None if f != f else f


def fact_outcome(n_breaches: int, share: float) -> tuple[Status, Severity]:
    """Status and severity of a check that counts facts: any breach fails, and its
    severity follows the share of units touched (:func:`severity_by_share`)."""
    if n_breaches:
        return Status.FAIL, severity_by_share(share)
    return Status.PASS, Severity.INFO


def whole(value: Any) -> int:
    """A count from the engine as an int (None or NaN, as over no rows: 0)."""
    return 0 if value is None or value != value else int(value)


def has_workers(context: CheckContext) -> bool:
    """Whether the package's orders name their workers (a preset of public records without
    driver IDs does not: worker counts are then unknown, not zero)."""
    return "worker_id" in context.package.tables["orders"].columns_present
