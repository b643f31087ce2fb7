"""Every registered check honours the plugin contract on empty, minimal and null data
(the idea of scikit-learn's check_estimator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import good_order, write_csv

from auditor import Status, audit
from auditor.checks import CATALOGUE_ORDER, REGISTRY

HEADER = list(good_order(0))


def _empty(folder: Path) -> None:
    (folder).mkdir(parents=True)
    (folder / "orders.csv").write_text(",".join(HEADER) + "\n")


def _minimal(folder: Path) -> None:
    write_csv(folder, "orders", [good_order(1)])


def _nulls(folder: Path) -> None:
    rows = [
        good_order(i, pickup_at="", pass_through="", tip="", tip_to_worker="", status="")
        for i in range(5)
    ]
    write_csv(folder, "orders", rows)
    write_csv(
        folder, "workers", [{"worker_id": f"w{i}", "joined_on": "", "gender": ""} for i in range(7)]
    )


@pytest.mark.parametrize("make", [_empty, _minimal, _nulls], ids=["empty", "minimal", "nulls"])
@pytest.mark.parametrize("check_id", sorted(REGISTRY), ids=str)
def test_check_contract(tmp_path: Path, make, check_id: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "pkg"
    make(folder)
    result = audit(folder, checks=[check_id])
    assert result.findings, "a check must report something, never skip silently"
    for f in result.findings:
        assert f.check == check_id
        assert f.status in set(Status)
        assert f.title
        if f.status == Status.NOT_ASSESSED:
            assert f.missing, "not_assessed must name what is missing"
        if f.status != Status.FAIL:
            assert f.severity == "info"
        json.dumps(f.to_dict(), allow_nan=False)


def test_registry_ids_are_catalogue_ids() -> None:
    assert set(REGISTRY) <= set(CATALOGUE_ORDER)
    for check_id, cls in REGISTRY.items():
        assert cls.id == check_id and cls.title and cls.__doc__


def test_shared_cells_are_dropped_after_their_last_user() -> None:
    """The large shared cell tables (gigabytes at 10 M orders) are kept while a check that
    reads them is still to run, and dropped once the last has run; small shared results
    stay. Watched through the progress callback, called before each check."""
    from auditor import AuditConfig
    from auditor.checks import CheckContext, run_checks
    from auditor.contract import validate_package
    from auditor.engine import connect
    from auditor.ingest import read_package
    from auditor.reconstruct import reconstruct

    large = {"online_cells", "money:worker_pay", "money:offered_pay", "money:fare_base"}
    config = AuditConfig()
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    with connect(config) as engine:
        package = validate_package(engine, read_package(demo, config, engine))
        context = CheckContext(config, package, engine, reconstruct(engine, package, config))
        seen: dict[str, set[str]] = {}

        def before(message: str) -> None:
            seen[message.removeprefix("check ")] = large & set(context.shared)

        run_checks(context, progress=before)
        assert seen["PAY-02"] == {"money:worker_pay"}  # FEE-05 made them, PAY-02 reads them
        assert seen["DSP-01"] == set()  # dropped after PAY-02
        assert seen["DSP-02"] == {"online_cells"}  # DSP-03, last, reads them
        assert seen["PRC-02"] == {"online_cells", "money:fare_base"}
        assert seen["HRS-01"] == {"online_cells"}
        assert seen["DSP-03"] == {"online_cells"}
        assert large & set(context.shared) == set()
        assert "roster" in context.shared
        # A run without DSP-03 drops the online cells after DSP-01.
        context = CheckContext(config, package, engine, context.reconstruction)
        run_checks(context, only=["DSP-01", "HRS-01"], progress=before)
        assert seen["HRS-01"] == set()
