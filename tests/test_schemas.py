"""The published schemas: findings.json against real runs, the contract as a Data Package."""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import good_order, write_csv

import auditor
from auditor.contract import contract_table_schema
from auditor.findings import SCHEMA_VERSION, findings_json_schema
from auditor.schema import TABLE_ORDER, TABLES, ColumnType

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CONFIG = ROOT / "audit_config.toml"

Document = dict[str, Any]

FRICTIONLESS_TYPES = {
    "string", "number", "integer", "boolean", "object", "array", "list", "date", "time",
    "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "any",
}  # fmt: skip
"""Field types of the Frictionless Table Schema spec (v1 and v2)."""


# -- findings.json ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(findings_json_schema())


@pytest.fixture(scope="module")
def documents(demo_result: auditor.AuditResult) -> dict[str, Document]:
    """findings.json of the demo and dirty fixtures, and validation.json of the demo."""
    config = auditor.load_config(CONFIG)
    results = {
        "demo": demo_result,
        "dirty": auditor.audit(FIXTURES / "dirty", CONFIG),
        "demo-validation": auditor.Audit(config=config).validate(FIXTURES / "demo"),
    }
    return {name: json.loads(r.to_json()) for name, r in results.items()}


def test_findings_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = findings_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://auditor.example/schemas/findings-1.2.json"
    assert schema["properties"]["schema_version"] == {
        "const": "1.2",
        "description": schema["properties"]["schema_version"]["description"],
    }
    assert json.loads(json.dumps(schema)) == schema


def test_findings_schema_pins_the_published_vocabulary() -> None:
    finding = findings_json_schema()["$defs"]["finding"]["properties"]
    assert finding["status"]["enum"] == ["fail", "pass", "inconclusive", "not_assessed"]
    assert finding["severity"]["enum"] == ["info", "low", "medium", "high", "critical"]


@pytest.mark.parametrize("name", ["demo", "dirty", "demo-validation"])
def test_real_documents_validate(
    name: str, documents: dict[str, Document], validator: jsonschema.Draft202012Validator
) -> None:
    document = documents[name]
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["findings"], "an empty findings list would validate vacuously"


def test_the_runs_cover_what_the_schema_allows(documents: dict[str, Document]) -> None:
    """The documents exercise nulls, intervals, p-values, fails and quarantine counts, so
    that validating them tests those parts of the schema."""
    findings = [f for d in documents.values() for f in d["findings"]]
    for key in ("estimate", "ci", "p_value", "p_adjusted", "threshold", "n_workers", "basis"):
        assert any(f[key] is None for f in findings), key
        assert any(f[key] is not None for f in findings), key
    assert {f["status"] for f in findings} >= {"fail", "pass", "inconclusive"}
    dirty = documents["dirty"]["package"]["tables"]
    assert any(t["quarantined_by_reason"] for t in dirty.values())
    validation = documents["demo-validation"]
    assert {f["check"] for f in validation["findings"]} == {
        "DQ-01", "DQ-02", "DQ-03", "DQ-04", "DQ-05"
    }  # fmt: skip


def _first_with_ci(d: Document) -> Document:
    return next(f for f in d["findings"] if f["ci"] is not None)


def _first_fail(d: Document) -> Document:
    return next(f for f in d["findings"] if f["status"] == "fail")


def _first_table(d: Document) -> Document:
    tables: dict[str, Document] = d["package"]["tables"]
    return next(iter(tables.values()))


MUTATIONS: dict[str, tuple[Callable[[Document], None], str]] = {
    "unknown status": (lambda d: d["findings"][0].update(status="failed"), "enum"),
    "missing config_sha256": (lambda d: d.pop("config_sha256"), "required"),
    "ci of length 3": (lambda d: _first_with_ci(d).update(ci=[0.1, 0.2, 0.3]), "maxItems"),
    "ci of length 1": (lambda d: _first_with_ci(d).update(ci=[0.1]), "minItems"),
    "p_value above 1": (lambda d: d["findings"][0].update(p_value=1.5), "maximum"),
    "negative p_adjusted": (lambda d: d["findings"][0].update(p_adjusted=-0.01), "minimum"),
    "extra top-level key": (lambda d: d.update(timings={"read": 1.0}), "additionalProperties"),
    "extra finding key": (lambda d: d["findings"][0].update(evidence=[]), "additionalProperties"),
    "missing finding key": (lambda d: d["findings"][0].pop("basis"), "required"),
    "unknown severity": (lambda d: d["findings"][0].update(severity="severe"), "enum"),
    "fail at info severity": (lambda d: _first_fail(d).update(severity="info"), "not"),
    "pass above info severity": (
        lambda d: d["findings"][0].update(status="pass", severity="high"),
        "const",
    ),
    "bad check id": (lambda d: d["findings"][0].update(check="dq-1"), "pattern"),
    "non-string subject value": (lambda d: d["findings"][0].update(subject={"table": 1}), "type"),
    "fractional n_orders": (lambda d: d["findings"][0].update(n_orders=1.5), "type"),
    "string estimate": (lambda d: d["findings"][0].update(estimate="0.5"), "type"),
    "data not an object": (lambda d: d["findings"][0].update(data=[]), "type"),
    "other schema_version": (lambda d: d.update(schema_version="2.0"), "const"),
    "short config_sha256": (lambda d: d.update(config_sha256="ab" * 31), "pattern"),
    "negative rows_used": (lambda d: _first_table(d).update(rows_used=-1), "minimum"),
    "extra table-account key": (
        lambda d: _first_table(d).update(path="orders.csv"),
        "additionalProperties",
    ),
    "missing table-account key": (lambda d: _first_table(d).pop("sha256"), "required"),
    "unknown reason code": (
        lambda d: _first_table(d).update(quarantined_by_reason={"odd": 1}),
        "enum",
    ),
    "unknown file format": (lambda d: _first_table(d).update(format="xlsx"), "enum"),
    "unknown table": (lambda d: d["package"]["tables"].update(riders=_first_table(d)), "enum"),
    "extra package key": (lambda d: d["package"].update(path="/data"), "additionalProperties"),
    "summary missing a status": (
        lambda d: d["summary"]["by_status"].pop("not_assessed"),
        "required",
    ),
    "summary counting info fails": (
        lambda d: d["summary"]["fail_by_severity"].update(info=0),
        "additionalProperties",
    ),
    "config not an object": (lambda d: d.update(config="audit_config.toml"), "type"),
}
"""Name -> (a change that breaks a valid document, the JSON Schema keyword that catches it)."""


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_schema_rejects_a_broken_document(
    mutation: str, documents: dict[str, Document], validator: jsonschema.Draft202012Validator
) -> None:
    document = copy.deepcopy(documents["demo"])
    assert validator.is_valid(document)
    mutate, keyword = MUTATIONS[mutation]
    mutate(document)
    caught = {e.validator for e in validator.iter_errors(document)}
    assert keyword in caught, caught


# -- the contract as a Frictionless Data Package ---------------------------------------------


def _resources() -> dict[str, Document]:
    return {r["name"]: r for r in contract_table_schema()["resources"]}


def _fields(table: str) -> dict[str, Document]:
    return {f["name"]: f for f in _resources()[table]["schema"]["fields"]}


def test_descriptor_is_a_tabular_data_package() -> None:
    descriptor = contract_table_schema()
    assert descriptor["profile"] == "tabular-data-package"
    assert descriptor["name"] == "gig-platform-audit-package"
    assert descriptor["title"] and descriptor["description"]
    assert [r["name"] for r in descriptor["resources"]] == list(TABLE_ORDER)
    assert set(TABLE_ORDER) == set(TABLES)
    for r in descriptor["resources"]:
        assert r["path"] == f"{r['name']}.csv"
        assert r["profile"] == "tabular-data-resource"
        assert r["description"] == TABLES[r["name"]].meaning
        assert r["auditor:required"] is TABLES[r["name"]].required
        assert r["schema"]["missingValues"] == [""]
        assert r["schema"]["fieldsMatch"] == "partial"  # any order, optional columns, extras
    assert json.loads(json.dumps(descriptor)) == descriptor


@pytest.mark.parametrize("table", TABLE_ORDER)
def test_resource_fields_follow_the_contract(table: str) -> None:
    spec = TABLES[table]
    resource = _resources()[table]
    fields = _fields(table)
    assert [f["name"] for f in resource["schema"]["fields"]] == list(spec.column_names)
    assert resource["schema"]["primaryKey"] == list(spec.key)
    assert set(spec.key) <= set(fields)
    for column in spec.columns:
        field = fields[column.name]
        constraints = field.get("constraints", {})
        assert field["type"] in FRICTIONLESS_TYPES, column.name
        assert constraints.get("required", False) is column.required, column.name
        if column.allowed:
            assert field["type"] == "string"
            assert constraints["enum"] == list(column.allowed), column.name
        else:
            assert "enum" not in constraints, column.name
        if column.non_negative or column.type == ColumnType.FRACTION:
            assert constraints["minimum"] == 0, column.name
        if column.type == ColumnType.FRACTION:
            assert constraints["maximum"] == 1, column.name
        if column.meaning:
            assert field["description"].startswith(column.meaning), column.name


def test_field_types_map_the_logical_types() -> None:
    expected = {
        ColumnType.ID: "string", ColumnType.TEXT: "string", ColumnType.CATEGORY: "string",
        ColumnType.TIMESTAMP: "datetime", ColumnType.DATE: "date", ColumnType.MONEY: "number",
        ColumnType.NUMBER: "number", ColumnType.FRACTION: "number", ColumnType.BOOL: "boolean",
    }  # fmt: skip
    for table, spec in TABLES.items():
        fields = _fields(table)
        for column in spec.columns:
            assert fields[column.name]["type"] == expected[column.type], column.name
    assert "currency" in _fields("orders")["customer_price"]["description"]
    assert "timezone" in _fields("orders")["accepted_at"]["description"]


def test_boolean_words_are_read_by_the_auditor(tmp_path: Path) -> None:
    """Every trueValue and falseValue the descriptor lists is a valid boolean to auditor."""
    field = _fields("deductions")["appealed"]
    words = field["trueValues"] + field["falseValues"]
    assert {"true", "false", "1", "0"} <= set(words)
    assert not set(field["trueValues"]) & set(field["falseValues"])
    folder = tmp_path / "pkg"
    write_csv(folder, "orders", [good_order(i) for i in range(3)])
    rows = [
        {
            "deduction_id": f"D{i}",
            "worker_id": "w1",
            "deducted_at": "2026-03-02T09:00:00+08:00",
            "amount": "1.00",
            "category": "penalty",
            "appealed": word,
        }
        for i, word in enumerate(words)
    ]
    write_csv(folder, "deductions", rows)
    result = auditor.Audit().validate(folder)
    account = result.tables["deductions"]
    assert account.rows_read == len(words)
    assert account.rows_quarantined == 0, dict(account.quarantined_by_reason)


def test_demo_headers_match_the_resources(documents: dict[str, Document]) -> None:
    """Each demo CSV's contract columns are fields of its resource; its other columns are
    exactly what the audit kept as extra (the workers' attributes to group by)."""
    tables = documents["demo"]["package"]["tables"]
    files = sorted((FIXTURES / "demo").glob("*.csv"))
    assert {p.stem for p in files} == set(TABLE_ORDER)
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
        fields = list(_fields(path.stem))
        assert [c for c in header if c in fields] == tables[path.stem]["columns_present"]
        assert [c for c in header if c not in fields] == tables[path.stem]["extra_columns"]
        if path.stem != "workers":
            assert set(header) <= set(fields), path.name


needs_frictionless = pytest.mark.skipif(
    importlib.util.find_spec("frictionless") is None, reason="frictionless is not installed"
)


@needs_frictionless
def test_descriptor_is_valid_for_frictionless() -> None:
    import frictionless

    report = frictionless.Package.validate_descriptor(contract_table_schema())
    assert report.valid, report.flatten(["type", "note"])


@needs_frictionless
def test_frictionless_accepts_the_demo_package() -> None:
    import frictionless

    package = frictionless.Package(contract_table_schema(), basepath=str(FIXTURES / "demo"))
    report = package.validate()
    assert report.valid, report.flatten(["type", "note"])[:10]


def test_schemas_are_exported() -> None:
    assert "findings_json_schema" in auditor.findings.__all__
    assert "contract_table_schema" in auditor.contract.__all__
    assert SCHEMA_VERSION == "1.2"
