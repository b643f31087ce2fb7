"""JSON Schema (draft 2020-12) of findings.json and validation.json (``AuditResult.to_dict``)."""

from __future__ import annotations

from typing import Any

from auditor.findings._finding import Severity, Status
from auditor.findings._result import SCHEMA_VERSION
from auditor.reasons import Reason
from auditor.schema import FILE_FORMATS, TABLE_ORDER

__all__ = ["findings_json_schema"]

_COUNT = {"type": "integer", "minimum": 0}
_P = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def _counts(keys: list[str], what: str) -> dict[str, Any]:
    """An object with exactly ``keys``, each a non-negative count."""
    return {
        "type": "object",
        "description": what,
        "required": keys,
        "additionalProperties": False,
        "properties": {k: _COUNT for k in keys},
    }


def _closed(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """An object whose keys are exactly ``properties``, all required."""
    return {
        "type": "object",
        "description": description,
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def _table_account() -> dict[str, Any]:
    """Schema of ``TableAccount.to_dict()``."""
    names = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
    return _closed(
        "Row accounting and fingerprint of one table: rows_read = rows_used + rows_quarantined.",
        {
            "file": {"type": "string", "minLength": 1, "description": "File name in the package."},
            "format": {
                "enum": list(dict.fromkeys(FILE_FORMATS.values())),
                "description": "Format.",
            },
            "bytes": _COUNT | {"description": "File size in bytes."},
            "sha256": {
                "$ref": "#/$defs/sha256",
                "description": "SHA-256 of the file as submitted.",
            },
            "rows_read": _COUNT | {"description": "Records in the file."},
            "rows_used": _COUNT | {"description": "Records that passed validation."},
            "rows_quarantined": _COUNT | {"description": "Records set aside, each with a reason."},
            "quarantined_by_reason": {
                "type": "object",
                "description": "Reason code -> records with that issue (a record may count "
                "under several); only reasons that occurred, sorted by code.",
                "propertyNames": {"enum": [str(r) for r in Reason]},
                "additionalProperties": {"type": "integer", "minimum": 1},
            },
            "columns_present": names | {"description": "Contract columns the file has."},
            "extra_columns": names | {"description": "Other columns of the file (kept)."},
        },
    )


def _finding() -> dict[str, Any]:
    """Schema of ``Finding.to_dict()``: fixed keys, null where a field does not apply."""
    number = {"type": ["number", "null"]}
    count = {"type": ["integer", "null"], "minimum": 0}
    text = {"type": ["string", "null"]}
    schema = _closed(
        "One result of one check about one subject.",
        {
            "check": {
                "type": "string",
                "pattern": "^[A-Z]{2,4}-[0-9]{2}$",
                "description": "Catalogue ID, e.g. DSP-01.",
            },
            "status": {"enum": [str(s) for s in Status], "description": "Outcome."},
            "severity": {
                "enum": [str(s) for s in Severity],
                "description": "info unless the status is fail; a fail is above info.",
            },
            "title": {"type": "string", "minLength": 1, "description": "What was asked."},
            "metric": text | {"description": "Name of the estimated quantity."},
            "estimate": number | {"description": "Its value, unrounded (units in detail)."},
            "ci": {
                "type": ["array", "null"],
                "minItems": 2,
                "maxItems": 2,
                "items": number,
                "description": "[low, high] confidence interval of estimate at the audit's "
                "level (1 - alpha); an end is null where it is not finite.",
            },
            "p_value": _P | {"description": "Unadjusted p-value of the test."},
            "p_adjusted": _P | {"description": "p-value after Holm correction over the family."},
            "threshold": number | {"description": "Value estimate is compared with."},
            "subject": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "What the finding is about, e.g. {table: orders}.",
            },
            "n_workers": count | {"description": "Distinct workers behind the estimate."},
            "n_orders": count | {"description": "Orders behind the estimate."},
            "detail": {"type": "string", "description": "One plain-language sentence."},
            "basis": text | {"description": "Legal or policy basis, from config [basis]."},
            "missing": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "For not_assessed: missing tables or table.column names.",
            },
            "data": {"type": "object", "description": "Check-specific numbers (fixed keys)."},
        },
    )
    severity_rule = {
        "if": {"properties": {"status": {"const": str(Status.FAIL)}}},
        "then": {"properties": {"severity": {"not": {"const": str(Severity.INFO)}}}},
        "else": {"properties": {"severity": {"const": str(Severity.INFO)}}},
    }
    comparison_rule = {
        "if": {
            "properties": {
                "check": {"enum": list(GROUP_CHECKS)},
                "data": {"required": ["inference"]},
            }
        },
        "then": {"properties": {"data": {"$ref": "#/$defs/group_comparison"}}},
    }
    schema["allOf"] = [severity_rule, comparison_rule]
    return schema


GROUP_CHECKS = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "PRC-01", "DED-01", "ACC-02")
"""Checks whose estimated findings carry a group comparison's ``data``."""


def _group_comparison() -> dict[str, Any]:
    """Schema of a group comparison's ``data`` (the keys every estimated comparison has;
    checks add their own, e.g. PAY-02's ``decomposition``)."""
    number = {"type": ["number", "null"]}
    count = {"type": ["integer", "null"], "minimum": 0}
    pair = {"type": "array", "minItems": 2, "maxItems": 2, "items": number}
    view = {
        "type": ["object", "null"],
        "description": "A labelled secondary view: never decides the verdict.",
        "required": ["measures", "method", "ratio", "ci"],
        "properties": {
            "measures": {"type": "string"},
            "method": {"type": "string"},
            "ratio": number,
            "ci": pair,
            "p_value": _P | {"description": "Its minimum-effect p-value, unadjusted."},
            "p_adjusted": _P | {"description": "Holm-adjusted in the secondary family."},
            "family_size": _COUNT,
        },
    }
    return {
        "type": "object",
        "description": "A group comparison: the ratio group / reference for the same work.",
        "required": [
            "method",
            "scale",
            "inference",
            "gap_percent",
            "gap_percent_ci",
            "interval_level",
            "log_ratio",
            "se_log_ratio",
            "df",
            "p_value_no_gap",
            "equivalence_p",
            "materiality",
            "clear_of_band",
            "mde_ratio",
            "workers_needed_to_fail",
            "workers_needed_to_pass",
            "decidable",
            "impact_ratio",
            "impact_ratio_ci",
            "impact_ratio_basis",
            "raw",
        ],
        "properties": {
            "method": {"type": "string", "description": "Estimator."},
            "scale": {"type": "string", "description": "Ratio of rates, or of means."},
            "inference": {
                "enum": ["cr2_bell_mccaffrey", "exact_conditional_no_events"],
                "description": "CR2 standard errors with Bell-McCaffrey degrees of freedom, "
                "or the exact conditional test where one side has no events.",
            },
            "gap_percent": number,
            "gap_percent_ci": pair,
            "interval_level": {"type": "number", "description": "Level of every interval."},
            "log_ratio": number,
            "se_log_ratio": number | {"description": "CR2 (two-step where an offset is fitted)."},
            "df": number | {"description": "Bell-McCaffrey degrees of freedom."},
            "random_effect": number,
            "p_value_no_gap": _P | {"description": "Two-sided p-value of a ratio of 1."},
            "equivalence_p": _P | {"description": "Equivalence within the band (TOST)."},
            "materiality": {"type": "number"},
            "clear_of_band": {"type": "boolean"},
            "mde_ratio": number | {"description": "Smallest ratio the fail rule detects."},
            "workers_needed_to_fail": count,
            "workers_needed_to_pass": count,
            "clusters_needed": count,
            "decidable": {"type": "boolean"},
            "impact_ratio": number | {"description": "NYC Local Law 144 impact ratio."},
            "impact_ratio_ci": {"type": ["array", "null"], "items": number},
            "impact_ratio_basis": {"type": ["string", "null"]},
            "raw": {"type": "object", "additionalProperties": number},
            "geometric_mean": view,
            "adjusted_for_algorithmic": view,
            "accepted_orders": view,
            "earned_pay": view,
        },
    }


def _families() -> dict[str, Any]:
    """Schema of ``test_families``: the audit's multiple-testing families."""
    member = {
        "type": "object",
        "required": ["check", "metric", "subject", "p_value", "p_adjusted"],
        "additionalProperties": False,
        "properties": {
            "check": {"type": "string"},
            "metric": {"type": "string", "description": "The finding's metric."},
            "subject": {"type": "object", "additionalProperties": {"type": "string"}},
            "view": {"type": "string", "description": "The secondary view tested."},
            "p_value": _P,
            "p_adjusted": _P,
        },
    }
    family = _closed(
        "One Holm family.",
        {
            "method": {"const": "holm"},
            "alpha": {"type": ["number", "null"]},
            "tests": _COUNT,
            "members": {"type": "array", "items": member},
        },
    )
    return _closed(
        "The audit's multiple-testing families: the confirmatory tests that decide a verdict "
        "(one family over every check run), and the tests of the labelled secondary views.",
        {"confirmatory": family, "secondary": family},
    )


def findings_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of findings.json, which validation.json shares."""
    severities = [str(s) for s in Severity if s != Severity.INFO]
    package = _closed(
        "The package audited.",
        {
            "name": {"type": "string", "description": "The package folder's name."},
            "tables": {
                "type": "object",
                "description": "Contract table -> row accounting, in contract order.",
                "propertyNames": {"enum": list(TABLE_ORDER)},
                "additionalProperties": {"$ref": "#/$defs/table_account"},
            },
            "ignored_files": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Files in the package that are not contract tables.",
            },
        },
    )
    summary = _closed(
        "Counts of findings by status, and of fail findings by severity.",
        {
            "by_status": _counts([str(s) for s in Status], "Findings per status."),
            "fail_by_severity": _counts(severities, "Fail findings per severity."),
        },
    )
    document = _closed(
        "Findings, row accounting and provenance of one audit (findings.json of `auditor "
        "run`; validation.json of `auditor validate` has the same shape).",
        {
            "schema_version": {"const": SCHEMA_VERSION, "description": "Version of this shape."},
            "auditor_version": {"type": "string", "minLength": 1, "description": "Producer."},
            "package": package,
            "config_sha256": {
                "$ref": "#/$defs/sha256",
                "description": "SHA-256 of the effective configuration as canonical JSON.",
            },
            "config": {
                "type": "object",
                "description": "The effective configuration by section (AuditConfig.to_dict()).",
            },
            "seed": {"type": "integer", "description": "Seed of every random step."},
            "summary": summary,
            "test_families": _families(),
            "findings": {
                "type": "array",
                "items": {"$ref": "#/$defs/finding"},
                "description": "In catalogue order, then by subject.",
            },
        },
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://auditor.example/schemas/findings-{SCHEMA_VERSION}.json",
        "title": "auditor findings.json",
        **document,
        "$defs": {
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "table_account": _table_account(),
            "finding": _finding(),
            "group_comparison": _group_comparison(),
        },
    }
