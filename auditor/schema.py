"""What the submission contract says: tables, columns, types, keys.

This module only declares (``docs/spec/data-contract.md`` in code); the
``ingest`` stage uses it to find and map files and the ``contract`` stage to
validate rows. It imports nothing from auditor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CATALOGUE_ORDER",
    "TABLES",
    "TABLE_ORDER",
    "Column",
    "ColumnType",
    "TableSpec",
]


class ColumnType(StrEnum):
    """Logical types of contract columns and the engine type each is cast to."""

    ID = "id"  # string; a leading zero matters
    TEXT = "text"
    CATEGORY = "category"  # text from a closed list, compared case-insensitively
    TIMESTAMP = "timestamp"  # ISO 8601; naive values are local time in [audit] timezone
    DATE = "date"  # YYYY-MM-DD
    MONEY = "money"  # major units of [audit] currency, kept exact as DECIMAL(18, 4)
    NUMBER = "number"  # float
    FRACTION = "fraction"  # float in [0, 1]
    BOOL = "bool"  # true/false, t/f, 1/0, yes/no


MONEY_DECIMAL = "decimal(18, 4)"
"""Engine type of money: exact, four decimal places (sub-cent amounts are kept)."""

ENGINE_TYPE: dict[ColumnType, str] = {
    ColumnType.ID: "string",
    ColumnType.TEXT: "string",
    ColumnType.CATEGORY: "string",
    ColumnType.TIMESTAMP: "timestamp('UTC')",
    ColumnType.DATE: "date",
    ColumnType.MONEY: MONEY_DECIMAL,
    ColumnType.NUMBER: "float64",
    ColumnType.FRACTION: "float64",
    ColumnType.BOOL: "boolean",
}
"""Ibis type each logical type is cast to."""


@dataclass(frozen=True, slots=True)
class Column:
    """One contract column.

    Attributes:
        name: contract name (what ``[package.mapping.<table>]`` maps to).
        type: logical type.
        required: a value must be present in every row.
        allowed: for categories, the closed list of values (lower case).
        non_negative: numbers and money that must be >= 0 (DQ-04).
        meaning: one line from the contract.
    """

    name: str
    type: ColumnType
    required: bool = False
    allowed: tuple[str, ...] = ()
    non_negative: bool = False
    meaning: str = ""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One contract table.

    Attributes:
        name: table name, also the file stem (``orders.csv``).
        columns: contract columns, in contract order.
        key: columns that identify a row; unique in the package (DQ-02).
        required: the package is unusable without this table.
        meaning: one line from the contract.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = False
    meaning: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


T = ColumnType
ORDER_STATUS = (
    "completed",
    "cancelled_by_customer",
    "cancelled_by_worker",
    "cancelled_by_platform",
)

ACCOUNT_ACTIONS = ("warning", "restriction", "suspension", "deactivation")
RESTRICTIVE_ACTIONS = ("restriction", "suspension", "deactivation")
"""Account actions that restrict, suspend or end a worker's access to work (EU Directive
2024/2831, Art. 10(5): decided by a human)."""
APPEAL_OUTCOMES = ("confirmed", "reversed", "modified", "pending")
"""Outcomes of a review: the action confirmed, reversed (the worker is reinstated), modified
(shortened or lessened), or still pending."""

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "orders",
            required=True,
            key=("order_id",),
            meaning="one row per order (trip, delivery, task) that a worker accepted",
            columns=(
                Column("order_id", T.ID, required=True, meaning="unique in the package"),
                Column("worker_id", T.ID, required=True, meaning="worker who accepted it"),
                Column("service", T.TEXT, meaning="ride, food_delivery, parcel, ..."),
                Column("status", T.CATEGORY, allowed=ORDER_STATUS, meaning="default completed"),
                Column("requested_at", T.TIMESTAMP, meaning="customer placed the order"),
                Column("accepted_at", T.TIMESTAMP, required=True, meaning="engaged time starts"),
                Column("pickup_at", T.TIMESTAMP, meaning="passenger or goods picked up"),
                Column("dropoff_at", T.TIMESTAMP, meaning="engaged time ends; for completed"),
                Column("pickup_zone", T.TEXT),
                Column("dropoff_zone", T.TEXT),
                Column("distance_km", T.NUMBER, non_negative=True, meaning="pickup to dropoff"),
                Column("approach_km", T.NUMBER, non_negative=True, meaning="to pickup"),
                Column(
                    "trip_seconds",
                    T.NUMBER,
                    non_negative=True,
                    meaning="pickup to dropoff as the platform measured it, seconds",
                ),
                Column("customer_id", T.ID),
                Column("customer_segment", T.TEXT),
                Column("customer_price", T.MONEY, required=True, non_negative=True),
                Column("pass_through", T.MONEY, non_negative=True, meaning="default 0"),
                Column("worker_pay", T.MONEY, required=True, non_negative=True),
                Column("incentive", T.MONEY, non_negative=True, meaning="default 0"),
                Column("tip", T.MONEY, non_negative=True, meaning="default 0"),
                Column("tip_to_worker", T.MONEY, non_negative=True, meaning="default = tip"),
                Column("commission", T.MONEY, non_negative=True),
                Column("injury_premium", T.MONEY, non_negative=True),
                Column("injury_premium_payer", T.CATEGORY, allowed=("platform", "worker")),
                Column(
                    "accessible_requested",
                    T.BOOL,
                    meaning="the customer asked for a wheelchair-accessible vehicle",
                ),
                Column(
                    "accessible_vehicle",
                    T.BOOL,
                    meaning="a wheelchair-accessible vehicle served the order",
                ),
            ),
        ),
        TableSpec(
            "offers",
            key=("offer_id",),
            meaning="one row per dispatch offer of an order to a worker",
            columns=(
                Column("offer_id", T.ID, required=True),
                Column("order_id", T.ID, required=True),
                Column("worker_id", T.ID, required=True),
                Column("offered_at", T.TIMESTAMP, required=True),
                Column(
                    "response",
                    T.CATEGORY,
                    required=True,
                    allowed=("accepted", "declined", "expired"),
                ),
                Column("offered_pay", T.MONEY, non_negative=True),
                Column("zone", T.TEXT),
            ),
        ),
        TableSpec(
            "sessions",
            key=("worker_id", "online_at"),
            meaning="one row per interval in which a worker was online and available",
            columns=(
                Column("worker_id", T.ID, required=True),
                Column("online_at", T.TIMESTAMP, required=True),
                Column("offline_at", T.TIMESTAMP, required=True),
                Column("zone", T.TEXT),
            ),
        ),
        TableSpec(
            "payouts",
            key=("payout_id",),
            meaning="one row per pay statement",
            columns=(
                Column("payout_id", T.ID, required=True),
                Column("worker_id", T.ID, required=True),
                Column("period_start", T.DATE, required=True),
                Column("period_end", T.DATE, required=True),
                Column("gross_credited", T.MONEY, non_negative=True),
                Column("deductions_total", T.MONEY, non_negative=True),
                Column("net_paid", T.MONEY, required=True),
                Column("paid_at", T.TIMESTAMP),
                Column(
                    "minimum_pay_topup",
                    T.MONEY,
                    non_negative=True,
                    meaning="credited on this statement to bring its period's pay up to a "
                    "statutory minimum (a top-up; default 0)",
                ),
            ),
        ),
        TableSpec(
            "deductions",
            key=("deduction_id",),
            meaning="one row per amount taken from a worker",
            columns=(
                Column("deduction_id", T.ID, required=True),
                Column("worker_id", T.ID, required=True),
                Column("order_id", T.ID),
                Column("deducted_at", T.TIMESTAMP, required=True),
                Column("amount", T.MONEY, required=True, non_negative=True),
                Column(
                    "category",
                    T.CATEGORY,
                    required=True,
                    allowed=("penalty", "insurance", "equipment", "service_fee", "other"),
                ),
                Column("reason", T.TEXT),
                Column("appealed", T.BOOL),
                Column("appeal_upheld", T.BOOL),
            ),
        ),
        TableSpec(
            "workers",
            key=("worker_id",),
            meaning="one row per worker; other columns are attributes to group by",
            columns=(
                Column("worker_id", T.ID, required=True),
                Column("joined_on", T.DATE),
            ),
        ),
        TableSpec(
            "fee_schedule",
            key=("effective_from", "service", "zone"),
            meaning="the commission rules the platform declared",
            columns=(
                Column("effective_from", T.DATE, required=True),
                Column("effective_to", T.DATE),
                Column("service", T.TEXT),
                Column("zone", T.TEXT),
                Column("commission_rate", T.FRACTION),
                Column("commission_cap", T.FRACTION),
                Column("announced_at", T.DATE),
            ),
        ),
        TableSpec(
            "account_actions",
            key=("worker_id", "action", "started_at"),
            meaning="one row per warning, restriction, suspension or deactivation of an account",
            columns=(
                Column("worker_id", T.ID, required=True),
                Column("action", T.CATEGORY, required=True, allowed=ACCOUNT_ACTIONS),
                Column("started_at", T.TIMESTAMP, required=True, meaning="takes effect"),
                Column("ended_at", T.TIMESTAMP, meaning="lifted; empty while in force"),
                Column("reason", T.TEXT, meaning="the platform's stated reason"),
                Column("automated", T.BOOL, meaning="taken or proposed by an automated system"),
                Column("decided_by_human", T.BOOL, meaning="a person took the decision"),
                Column("explained_at", T.TIMESTAMP, meaning="written reasons given to the worker"),
                Column("appealed_at", T.TIMESTAMP, meaning="the worker asked for a review"),
                Column("reviewed_at", T.TIMESTAMP, meaning="a person reviewed it and answered"),
                Column("outcome", T.CATEGORY, allowed=APPEAL_OUTCOMES, meaning="of the review"),
            ),
        ),
        TableSpec(
            "complaints",
            key=("complaint_id",),
            meaning="one row per complaint a worker made to the platform",
            columns=(
                Column("complaint_id", T.ID, required=True),
                Column("worker_id", T.ID, required=True),
                Column("received_at", T.TIMESTAMP, required=True),
                Column("category", T.TEXT, meaning="pay, deduction, dispatch, account, ..."),
                Column("resolved_at", T.TIMESTAMP, meaning="answered with a decision"),
                Column("outcome", T.TEXT),
            ),
        ),
    )
}
"""The contract's tables by name."""

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
"""Tables in contract order (outputs are sorted by it)."""

FILE_FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl"}
"""File suffix -> format of a table file."""

CATALOGUE_ORDER: tuple[str, ...] = (
    "DQ-01", "DQ-02", "DQ-03", "DQ-04", "DQ-05",
    "FEE-01", "FEE-02", "FEE-03", "FEE-04", "FEE-05", "FEE-06",
    "PAY-01", "PAY-02", "DSP-01", "DSP-02", "PRC-01", "PRC-02",
    "HRS-01", "HRS-02", "INS-01", "DED-01", "DSP-03", "FEE-07", "FEE-08", "FEE-09", "PAY-03",
    "PAY-04",
    "ACC-01", "ACC-02", "CMP-01", "DSP-04", "PAY-05", "SVC-01",
)  # fmt: skip
"""Every check ID of the catalogue (``docs/spec/checks.md``), in its order."""
