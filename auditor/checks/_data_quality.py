"""DQ-01 to DQ-04: does the package match the contract?

These checks count what validation quarantined; they test no hypothesis. A
``fail`` means rows had to be set aside, and its severity grows with the share
of the table affected: >= 5 % high, >= 1 % medium, else low. Exact duplicate
rows alone are ``low`` whatever their share, since the first copy is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._registry import register
from auditor.checks._small_cells import small_cell
from auditor.contract import REASON_CHECK, Reason, ValidatedTable
from auditor.schema import TABLE_ORDER

__all__ = ["ContractMatch", "IdsUnique", "MoneyAddsUp", "TimesConsistent", "WorkersListed"]


def _severity(share: float) -> Severity:
    if share >= 0.05:
        return Severity.HIGH
    if share >= 0.01:
        return Severity.MEDIUM
    return Severity.LOW


class _QuarantineCheck:
    """One finding per table in scope: the rows this check's reasons quarantined."""

    id: ClassVar[str]
    title: ClassVar[str]
    needs: ClassVar[Needs] = Needs(tables=("orders",), workers=False)
    scope: ClassVar[tuple[str, ...]]
    """Tables the check covers (those absent from the package are skipped)."""
    must_have: ClassVar[tuple[str, ...]] = ()
    """Tables in scope whose absence is reported as not_assessed."""

    def run(self, context: CheckContext) -> Sequence[Finding]:
        reasons = [str(r) for r, c in REASON_CHECK.items() if c == self.id]
        findings = []
        for name in self.scope:
            table = context.package.tables.get(name)
            if table is None:
                if name in self.must_have:
                    findings.append(
                        Finding(
                            check=self.id,
                            status=Status.NOT_ASSESSED,
                            title=self.title,
                            subject={"table": name},
                            missing=(name,),
                            detail=f"The package has no {name} table to check.",
                        )
                    )
                continue
            findings.append(self._finding(table, reasons))
        return findings

    def _finding(self, table: ValidatedTable, reasons: list[str]) -> Finding:
        issues = table.issues.filter(table.issues.reason.isin(reasons))
        rows = int(issues.select("parsed", "_row").distinct().count().execute())
        by_reason = {r: n for r, n in table.quarantined_by_reason.items() if r in reasons}
        share = rows / table.rows_read if table.rows_read else 0.0
        n_orders = table.rows_read if table.name == "orders" else None
        data = {"rows_read": table.rows_read, "rows": rows, "by_reason": by_reason}
        if rows == 0:
            return Finding(
                check=self.id,
                status=Status.PASS,
                title=self.title,
                metric="quarantined_share",
                estimate=0.0,
                threshold=0.0,
                subject={"table": table.name},
                n_orders=n_orders,
                data=data,
                detail=f"All {table.rows_read} rows of {table.name} pass.",
            )
        severity = _severity(share)
        if set(by_reason) == {str(Reason.DUPLICATE_ROW)}:
            severity = Severity.LOW
        listed = ", ".join(f"{n} {r}" for r, n in by_reason.items())
        return Finding(
            check=self.id,
            status=Status.FAIL,
            severity=severity,
            title=self.title,
            metric="quarantined_share",
            estimate=share,
            threshold=0.0,
            subject={"table": table.name},
            n_orders=n_orders,
            data=data,
            detail=f"{rows} of {table.rows_read} rows of {table.name} quarantined: {listed}.",
        )


@register
class ContractMatch(_QuarantineCheck):
    """DQ-01: columns, types and required values match the contract."""

    id = "DQ-01"
    title = "Tables match the contract (columns, types, required values)"
    scope = TABLE_ORDER


@register
class IdsUnique(_QuarantineCheck):
    """DQ-02: IDs (and the keys of tables without one) are unique."""

    id = "DQ-02"
    title = "IDs are unique"
    scope = TABLE_ORDER


@register
class TimesConsistent(_QuarantineCheck):
    """DQ-03: accepted <= pickup <= dropoff; sessions end after they start and do not
    overlap for one worker; periods end after they start."""

    id = "DQ-03"
    title = "Times are consistent"
    scope = ("orders", "sessions", "payouts", "fee_schedule", "account_actions", "complaints")
    must_have = ("sessions",)


@register
class MoneyAddsUp(_QuarantineCheck):
    """DQ-04: customer_price >= pass_through; pay, tips and amounts are non-negative."""

    id = "DQ-04"
    title = "Money adds up per order"
    scope = ("orders", "offers", "payouts", "deductions")


@register
class WorkersListed:
    """DQ-05: every worker the tables name is in the workers table.

    Rows naming an unlisted worker are used (their orders and hours are real), but the
    worker has no attributes, so the group comparisons cannot place them: the finding
    counts them per table (rows and distinct workers; never their IDs). Severity by the
    share of the table's used rows, as DQ-01 to DQ-04."""

    id: ClassVar[str] = "DQ-05"
    title: ClassVar[str] = "Workers named in the tables are listed in workers"
    needs: ClassVar[Needs] = Needs(tables=("orders",), workers=False)
    scope: ClassVar[tuple[str, ...]] = (
        "orders",
        "offers",
        "sessions",
        "payouts",
        "deductions",
        "account_actions",
        "complaints",
    )

    def run(self, context: CheckContext) -> Sequence[Finding]:
        workers = context.package.tables.get("workers")
        if workers is None:
            return [
                Finding(
                    check=self.id,
                    status=Status.NOT_ASSESSED,
                    title=self.title,
                    subject={"table": "workers"},
                    missing=("workers",),
                    detail="The package has no workers table to check the tables against.",
                )
            ]
        listed = workers.table.select("worker_id")
        findings = []
        for name in self.scope:
            table = context.package.tables.get(name)
            if table is None:
                continue
            # Rows per worker first (a grouping of the table, thousands of rows out), then
            # the workers the roster lacks: cheaper than joining every row to the roster.
            named = table.table.filter(table.table.worker_id.notnull())
            per = named.group_by("worker_id").aggregate(_n=named.count())
            unlisted = per.anti_join(listed, "worker_id")
            counts = unlisted.aggregate(
                n=unlisted._n.sum(), workers=unlisted.count()
            ).to_pyarrow().to_pylist()[0]  # fmt: skip
            n, people = int(counts["n"] or 0), int(counts["workers"] or 0)
            share = n / table.rows_used if table.rows_used else 0.0
            k = context.config.report.min_cell_workers
            small = small_cell(people, k)
            data = {"rows_used": table.rows_used, "rows": n, "workers": None if small else people}
            who = f"fewer than {k}" if small else f"{people:,}"
            findings.append(
                Finding(
                    check=self.id,
                    status=Status.FAIL if n else Status.PASS,
                    severity=_severity(share) if n else Severity.INFO,
                    title=self.title,
                    metric="unlisted_share",
                    estimate=share,
                    threshold=0.0,
                    subject={"table": name},
                    n_orders=table.rows_used if name == "orders" else None,
                    data=data,
                    detail=(
                        f"{n:,} of {table.rows_used:,} used rows of {name} name "
                        f"{who} worker{'s' if small or people != 1 else ''} the workers table does "
                        "not list: they have no attributes, so the group comparisons leave "
                        "them out."
                        if n
                        else f"Every worker named in {name} is listed in workers."
                    ),
                )
            )
        return findings
