"""What a check is, and what it returns.

A check declares its catalogue ID, the tables and columns it needs, and returns
findings. It knows nothing of the CLI or the report. The runner, not the check,
turns missing inputs into a ``not_assessed`` finding naming them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from auditor.config import AuditConfig
from auditor.contract import ValidatedPackage
from auditor.engine import Engine
from auditor.findings._finding import Finding, Severity, Status, reported_float
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
        workers: the check follows workers, so it needs ``orders.worker_id``, which a
            package read with a preset of records without worker IDs lacks. A check that
            judges each order on its own (a fee cap, a per-trip floor) sets it False.
    """

    tables: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    workers: bool = True

    def missing(self, package: ValidatedPackage) -> tuple[str, ...]:
        """The needs ``package`` does not meet, in declaration order."""
        out: list[str] = [t for t in self.tables if t not in package.tables]
        orders = package.tables.get("orders")
        if self.workers and orders is not None and "worker_id" not in orders.columns_present:
            out.insert(0, "orders.worker_id")
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
