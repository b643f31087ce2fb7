"""Why a row was quarantined: a closed list of reason codes, each owned by one DQ check.

Part of the contract (`docs/spec/data-contract.md`), declarative like `schema`: the
contract stage writes them, the findings and the report read them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REASON_CHECK", "REASON_TEXT", "Reason"]


class Reason(StrEnum):
    """Reason codes written to the quarantine file and counted in findings.json."""

    # DQ-01: the row does not match the contract
    MALFORMED_RECORD = "malformed_record"
    MISSING_REQUIRED = "missing_required"
    INVALID_NUMBER = "invalid_number"
    INVALID_TIMESTAMP = "invalid_timestamp"
    INVALID_DATE = "invalid_date"
    INVALID_BOOLEAN = "invalid_boolean"
    INVALID_CATEGORY = "invalid_category"
    FRACTION_OUT_OF_RANGE = "fraction_out_of_range"
    # DQ-02: IDs are not unique
    DUPLICATE_ROW = "duplicate_row"
    CONFLICTING_ID = "conflicting_id"
    # DQ-03: times are inconsistent
    TIME_ORDER = "time_order"
    SESSION_END_NOT_AFTER_START = "session_end_not_after_start"
    SESSION_OVERLAP = "session_overlap"
    PERIOD_END_BEFORE_START = "period_end_before_start"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    SESSION_TOO_LONG = "session_too_long"
    # DQ-04: money does not add up
    NEGATIVE_AMOUNT = "negative_amount"
    PRICE_BELOW_PASS_THROUGH = "price_below_pass_through"
    TIP_TO_WORKER_EXCEEDS_TIP = "tip_to_worker_exceeds_tip"


REASON_CHECK: dict[Reason, str] = {
    Reason.MALFORMED_RECORD: "DQ-01",
    Reason.MISSING_REQUIRED: "DQ-01",
    Reason.INVALID_NUMBER: "DQ-01",
    Reason.INVALID_TIMESTAMP: "DQ-01",
    Reason.INVALID_DATE: "DQ-01",
    Reason.INVALID_BOOLEAN: "DQ-01",
    Reason.INVALID_CATEGORY: "DQ-01",
    Reason.FRACTION_OUT_OF_RANGE: "DQ-01",
    Reason.DUPLICATE_ROW: "DQ-02",
    Reason.CONFLICTING_ID: "DQ-02",
    Reason.TIME_ORDER: "DQ-03",
    Reason.SESSION_END_NOT_AFTER_START: "DQ-03",
    Reason.SESSION_OVERLAP: "DQ-03",
    Reason.PERIOD_END_BEFORE_START: "DQ-03",
    Reason.TIMESTAMP_OUT_OF_RANGE: "DQ-03",
    Reason.SESSION_TOO_LONG: "DQ-03",
    Reason.NEGATIVE_AMOUNT: "DQ-04",
    Reason.PRICE_BELOW_PASS_THROUGH: "DQ-04",
    Reason.TIP_TO_WORKER_EXCEEDS_TIP: "DQ-04",
}
"""The DQ check each reason belongs to."""

REASON_TEXT: dict[Reason, str] = {
    Reason.MALFORMED_RECORD: "the record cannot be parsed (wrong number of fields, bad quoting, "
    "invalid JSON)",
    Reason.MISSING_REQUIRED: "a required value is empty",
    Reason.INVALID_NUMBER: "not a decimal number",
    Reason.INVALID_TIMESTAMP: "not an ISO 8601 timestamp",
    Reason.INVALID_DATE: "not a YYYY-MM-DD date",
    Reason.INVALID_BOOLEAN: "not true/false",
    Reason.INVALID_CATEGORY: "not one of the contract's values",
    Reason.FRACTION_OUT_OF_RANGE: "a rate outside [0, 1]",
    Reason.DUPLICATE_ROW: "an exact copy of an earlier row (the first copy is used)",
    Reason.CONFLICTING_ID: "shares its ID with a row of different content (none is used)",
    Reason.TIME_ORDER: "times out of order (requested <= accepted <= pickup <= dropoff; an "
    "account action ends, or an appeal is reviewed, before it starts; a complaint is resolved "
    "before it is received)",
    Reason.SESSION_END_NOT_AFTER_START: "offline_at is not after online_at",
    Reason.SESSION_OVERLAP: "starts before the worker's earlier session ends",
    Reason.PERIOD_END_BEFORE_START: "period or validity ends before it starts",
    Reason.TIMESTAMP_OUT_OF_RANGE: "a time or date outside the plausible window",
    Reason.SESSION_TOO_LONG: "an online session longer than the plausible maximum",
    Reason.NEGATIVE_AMOUNT: "a money amount or distance that must be >= 0 is negative",
    Reason.PRICE_BELOW_PASS_THROUGH: "customer_price is below pass_through",
    Reason.TIP_TO_WORKER_EXCEEDS_TIP: "tip_to_worker exceeds tip",
}
"""One plain-language line per reason, for reports and the validate summary."""
