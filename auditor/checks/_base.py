"""What a check is, and what it returns.

A check declares its catalogue ID, the tables and columns it needs, and returns
findings. It knows nothing of the CLI or the report. The runner, not the check,
turns missing inputs into a ``not_assessed`` finding naming them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from auditor.config import AuditConfig
from auditor.contract import ValidatedPackage
from auditor.engine import Engine
from auditor.reconstruct import Reconstruction

__all__ = [
    "Adjustment",
    "Check",
    "CheckContext",
    "Confirmatory",
    "Finding",
    "Needs",
    "Severity",
    "Status",
    "reported_float",
]


class Status(StrEnum):
    """Outcome of a finding (``../shared/spec/checks.md``)."""

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


@dataclass(frozen=True, slots=True)
class Adjustment:
    """What the family's multiple-testing correction says of one confirmatory test.

    Attributes:
        p_adjusted: its p-value Holm-adjusted over the confirmatory family.
        family_size: tests in the confirmatory family.
        secondary: view name -> the view's p-value Holm-adjusted over the secondary family
            (labelled views that never decide a verdict).
        secondary_size: tests in the secondary family.
    """

    p_adjusted: float
    family_size: int
    secondary: Mapping[str, float] = field(default_factory=dict)
    secondary_size: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Confirmatory:
    """A confirmatory test whose verdict waits for the family's multiple-testing correction.

    Statistical disparity checks return these instead of findings: the runner collects the
    p-values of every confirmatory test in the audit, adjusts them together (Holm, at
    ``[audit] alpha``), does the same apart for the tests of their secondary views, and
    calls ``resolve`` with what that gives.

    Attributes:
        check: catalogue ID.
        p_value: unadjusted p-value of the test that decides the verdict.
        resolve: ``(adjustment) -> Finding``, the finding with its verdict.
        subject: what the test is about (as the finding's subject).
        secondary: view name -> unadjusted p-value of the view's test.
        metric: what the test measures (as the finding's metric): tells apart a check's
            tests of one subject (DED-01's penalty rate and upheld appeals).
    """

    check: str
    p_value: float
    resolve: Callable[[Adjustment], Finding]
    subject: Mapping[str, str] = field(default_factory=dict)
    metric: str = ""
    secondary: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Needs:
    """What a check needs to be assessed.

    Attributes:
        tables: tables that must be present with at least one row used.
        columns: ``table.column`` names that must be present in their file.
    """

    tables: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    def missing(self, package: ValidatedPackage) -> tuple[str, ...]:
        """The needs ``package`` does not meet, in declaration order."""
        out: list[str] = [t for t in self.tables if t not in package.tables]
        for qualified in self.columns:
            table, column = qualified.split(".", 1)
            if table in package.tables and column not in package.tables[table].columns_present:
                out.append(qualified)
        return tuple(out)


@dataclass(frozen=True, slots=True, eq=False)
class CheckContext:
    """What a check may read.

    Attributes:
        config: the audit configuration.
        package: the validated package (engine tables of the rows used, and their issues).
        engine: the engine the tables live in.
        reconstruction: derived per-order columns, engaged islands, worker-day and
            worker-week panels (engine tables); None when only validating.
        shared: results computed once and used by several checks (see ``memo``).
        users: for the shared results that declared them, the checks that use each (the
            runner drops a result once the last of them has run: see ``memo``).
    """

    config: AuditConfig
    package: ValidatedPackage
    engine: Engine
    reconstruction: Reconstruction | None = None
    shared: dict[str, Any] = field(default_factory=dict, repr=False)
    """Intermediate results several checks use (e.g. the cell moments of pay per worker,
    for PAY-02 and FEE-05), computed once per audit."""

    users: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def memo(self, key: str, make: Callable[[], Any], users: tuple[str, ...] = ()) -> Any:
        """``shared[key]``, made by ``make()`` the first time. ``users``: the checks that read
        it (all of them); once the last of those an audit runs is done, the runner drops it
        (large cell tables: gigabytes at 10 M orders). Without ``users`` it is kept."""
        if users:
            self.users[key] = users
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]

    def release_after(self, done: str, remaining: set[str]) -> None:
        """Drop the shared results whose declared users are ``done`` or not among the
        ``remaining`` checks of this audit."""
        for key, users in list(self.users.items()):
            if done in users and not remaining.intersection(users):
                self.shared.pop(key, None)
                del self.users[key]

    @property
    def rebuilt(self) -> Reconstruction:
        """The reconstruction; checks beyond DQ run only when it was built."""
        if self.reconstruction is None:
            raise RuntimeError("this check needs the reconstruction stage, which was not run")
        return self.reconstruction


class Check(Protocol):
    """A catalogue check: a class attribute ID, title, needs, and ``run``."""

    id: ClassVar[str]
    title: ClassVar[str]
    needs: ClassVar[Needs]

    def run(self, context: CheckContext) -> Sequence[Finding | Confirmatory]:
        """Assess the check; called only when ``needs`` are met. Confirmatory tests are
        resolved by the runner after the family's correction."""
        ...


CheckFactory = Callable[[], Check]
