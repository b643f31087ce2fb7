"""Stage 2, contract: validate every table; each row is used or quarantined with a reason."""

from __future__ import annotations

from auditor.contract._frictionless import contract_table_schema
from auditor.contract._package import ValidatedPackage, validate_package
from auditor.contract._validate import Plausibility, ValidatedTable, validate_table
from auditor.reasons import REASON_CHECK, REASON_TEXT, Reason

__all__ = [
    "REASON_CHECK",
    "REASON_TEXT",
    "Plausibility",
    "Reason",
    "ValidatedPackage",
    "ValidatedTable",
    "contract_table_schema",
    "validate_package",
    "validate_table",
]
