"""What a finding is: one result of one check about one subject, its status and severity,
and how its numbers are reported in every output.

These are the result types the checks return and the findings, report and command line
read; they need nothing of a check, an engine or a package.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "Severity", "Status", "reported_float"]


class Status(StrEnum):
    """Outcome of a finding (``docs/spec/checks.md``)."""

    FAIL = "fail"
    """The evidence shows a breach (after correction, and above materiality)."""
    PASS = "pass"
    """Assessed, and no breach."""
    INCONCLUSIVE = "inconclusive"
    """Assessed, but the data cannot decide; the detail says what would."""
    NOT_ASSESSED = "not_assessed"
    """A table or column the check needs is missing; ``missing`` names them."""


class Severity(StrEnum):
    """How much a finding matters. Only ``fail`` findings are above ``info``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check about one subject.

    Attributes:
        check: catalogue ID, e.g. ``"DSP-01"``.
        status: fail, pass, inconclusive or not_assessed.
        severity: ``info`` unless the status is fail.
        title: one line saying what was asked.
        metric: name of the estimated quantity (e.g. ``"quarantined_share"``).
        estimate: its value (raw, unrounded; units in ``detail``).
        ci: confidence interval of ``estimate`` at the audit's level, where one applies.
        p_value: unadjusted p-value of the test, where one applies.
        p_adjusted: p-value after multiple-testing correction across the audit's family.
        threshold: the value ``estimate`` is compared with (a cap, a materiality bound).
        subject: what the finding is about (e.g. ``{"table": "orders"}`` or
            ``{"attribute": "gender", "group": "F", "reference": "M"}``).
        n_workers: distinct workers behind the estimate, where it applies.
        n_orders: orders behind the estimate, where it applies.
        detail: one plain-language sentence for a reader.
        basis: the legal or policy basis of the threshold, from config.
        missing: for not_assessed: the tables or ``table.column`` names that are missing.
        data: further check-specific numbers (JSON-able; fixed keys per check).
        evidence: row-level leads for the regulator (e.g. PRC-02's anomalous orders, with
            their IDs). Private: never in ``findings.json``, ``to_dict`` or any report; the
            CLI writes it to its own file.
    """

    check: str
    status: Status
    title: str
    severity: Severity = Severity.INFO
    metric: str | None = None
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    threshold: float | None = None
    subject: Mapping[str, str] = field(default_factory=dict)
    n_workers: int | None = None
    n_orders: int | None = None
    detail: str = ""
    basis: str | None = None
    missing: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    evidence: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The severity scale of findings.json: a fail is low to critical, anything else
        # is info (the JSON Schema says the same).
        if (self.status == Status.FAIL) == (self.severity == Severity.INFO):
            raise ValueError(
                f"{self.check}: a {self.status} finding cannot have severity {self.severity} "
                "(a fail needs low, medium, high or critical; other outcomes are info)."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with a fixed set of keys (null where a field does not apply)."""
        return {
            "check": self.check,
            "status": str(self.status),
            "severity": str(self.severity),
            "title": self.title,
            "metric": self.metric,
            "estimate": reported_float(self.estimate),
            "ci": None
            if self.ci is None
            else [reported_float(self.ci[0]), reported_float(self.ci[1])],
            "p_value": reported_float(self.p_value),
            "p_adjusted": reported_float(self.p_adjusted),
            "threshold": reported_float(self.threshold),
            "subject": dict(self.subject),
            "n_workers": self.n_workers,
            "n_orders": self.n_orders,
            "detail": self.detail,
            "basis": self.basis,
            "missing": list(self.missing),
            "data": _plain(self.data),
        }

    def __str__(self) -> str:
        subject = ", ".join(f"{k}={v}" for k, v in self.subject.items())
        level = f"/{self.severity}" if self.status == Status.FAIL else ""
        head = f"{self.check} [{self.status}{level}]"
        return f"{head} {self.title}{' (' + subject + ')' if subject else ''}: {self.detail}"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(_show(v))}</td></tr>"
            for k, v in self.to_dict().items()
            if v not in (None, [], {}, "")
        )
        return f"<table>{rows}</table>"


def reported_float(x: float | None) -> float | None:
    """A float as every output reports it (``findings.json``, the figures): None for
    missing or non-finite; 12 significant digits, so that reruns are byte-identical even
    where a parallel float sum differs in its last bits."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.12g}")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return reported_float(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
