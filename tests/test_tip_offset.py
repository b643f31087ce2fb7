"""FEE-07, tips offset base pay: the estimator against statsmodels, calibration in worlds built
to fool it (workers tipped for being paid least, a few dominant workers, a true offset at the
materiality edge), power with an offset planted, and the check on packages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import good_order, pick, write_csv

from auditor import AuditConfig, Status, audit
from auditor.simulate import PlantOptions, SimulationSpec, simulate, write_package
from auditor.simulate._slope_worlds import TipWorld, replicate_tips
from auditor.stats._slope import SlopeCells, within_slope

REPLICATES = 200
ALPHA = 0.05
MATERIALITY = 0.10
EVERY_CELL = {"report": {"min_cell_workers": 1}}


def _mc_bound(rate: float) -> float:
    """``rate`` plus two Monte Carlo standard errors at ``REPLICATES``."""
    return rate + 2 * (rate * (1 - rate) / REPLICATES) ** 0.5


def _rates(world: TipWorld, by_cluster: bool = True) -> tuple[float, float]:
    """Share of replicates that fail (offset beyond the band at ALPHA, a family of one) and
    share whose 95 % interval covers the true offset."""
    out = replicate_tips(world, REPLICATES, 0, by_cluster=by_cluster, materiality=MATERIALITY)
    assert out.replicates == REPLICATES
    return out.fail, out.coverage


def test_slope_equals_statsmodels_ols_with_dummies_and_cr2_from_unit_matrices() -> None:
    """Stratum effects alone, and stratum plus worker effects: the slope equals statsmodels'
    unit-level fit with dummies; its CR2 error equals the one built from the unit-level hat
    matrix of the absorbed design, ``X' (I - H_gg)^(-1/2) e_g`` per worker."""
    import pandas as pd
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    rows = []
    for w in range(40):
        for s in rng.choice(10, 4, replace=False):
            for _ in range(rng.integers(1, 6)):
                tip, z = rng.choice([0, 0, 0, 2, 5]), rng.normal()
                rows.append((w, s, tip, z, 10 + s + 2 * z - 0.3 * tip + rng.normal() + w % 3))
    u = pd.DataFrame(rows, columns=["w", "s", "tip", "z", "y"])
    u["z2"] = u.z**2
    x = ["tip", "z", "z2"]
    by = [u.w, u.s]
    cells = u.groupby(["w", "s"]).size().reset_index(name="n")
    sums = lambda v: v.groupby(by).sum().to_numpy()  # noqa: E731
    slope_cells = SlopeCells(
        cells.w.to_numpy(), cells.s.to_numpy(), cells.n.to_numpy(float),
        np.column_stack([sums(u[c]) for c in x]), sums(u.y),
        np.stack([np.column_stack([sums(u[a] * u[b]) for b in x]) for a in x], 1),
        np.column_stack([sums(u[c] * u.y) for c in x]), 40,
    )  # fmt: skip
    strata = pd.get_dummies(u.s, prefix="s", dtype=float)
    workers = pd.get_dummies(u.w, prefix="w", dtype=float).iloc[:, 1:]
    for by_cluster, effects in ((False, [strata]), (True, [strata, workers])):
        dummies = pd.concat(effects, axis=1)
        fit = sm.OLS(u.y, pd.concat([u[x], dummies], axis=1)).fit()
        est = within_slope(slope_cells, by_cluster=by_cluster)
        assert est.estimate == pytest.approx(fit.params["tip"], rel=1e-9)
        absorbed = np.column_stack([sm.OLS(u[c], dummies).fit().resid for c in x])
        bread = np.linalg.inv(absorbed.T @ absorbed)
        hat = absorbed @ bread @ absorbed.T
        meat = np.zeros((3, 3))
        for w in range(40):
            rows_w = np.flatnonzero(u.w.to_numpy() == w)
            values, vectors = np.linalg.eigh(np.eye(len(rows_w)) - hat[np.ix_(rows_w, rows_w)])
            root = (vectors / np.sqrt(values)) @ vectors.T
            score = absorbed[rows_w].T @ root @ fit.resid.to_numpy()[rows_w]
            meat += np.outer(score, score)
        cr2 = bread @ meat @ bread
        assert est.se == pytest.approx(np.sqrt(cr2[0, 0]), rel=1e-8)
        assert 20 < est.df < 39


def test_workers_tipped_for_being_paid_least_fool_a_comparison_across_workers() -> None:
    """Customers tip the workers paid least; no offset. Across workers (no worker effects)
    that reads as an offset in most worlds; within worker the check fails none and its
    interval covers the truth."""
    world = TipWorld()
    naive_fail, naive_cover = _rates(world, by_cluster=False)
    assert naive_fail > 0.3 and naive_cover < 0.5
    fail, cover = _rates(world)
    assert fail == 0.0
    assert cover >= 0.95 - 2 * (0.95 * 0.05 / REPLICATES) ** 0.5


@pytest.mark.parametrize(
    "world",
    [
        TipWorld(offset=MATERIALITY),
        TipWorld(offset=MATERIALITY, workers=30, dominant=2),
        TipWorld(offset=MATERIALITY, workers=12),
    ],
    ids=["40-workers", "2-dominant-of-30", "12-workers"],
)
def test_a_true_offset_at_the_materiality_edge_fails_at_most_half_alpha(world: TipWorld) -> None:
    """At the band's edge the minimum-effect test rejects in at most alpha / 2 of audits
    (within Monte Carlo error), with a few dominant workers or few workers too; the 95 %
    interval covers the truth."""
    fail, cover = _rates(world)
    assert fail <= _mc_bound(ALPHA / 2)
    assert cover >= 0.95 - 2 * (0.95 * 0.05 / REPLICATES) ** 0.5


def test_a_planted_offset_of_thirty_percent_is_found() -> None:
    """200 workers, 5 % of orders tipped, 30 % of each tip taken back: found in >= 90 %."""
    fail, _ = _rates(TipWorld(workers=200, orders_per_worker=40, offset=0.3, tip_rate=0.05))
    assert fail >= 0.9


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict]:
    spec = SimulationSpec(
        workers=80, days=7, seed=8, demand_scale=0.3, tip_rate=0.2, plants=("FEE-07",),
        plant_options=PlantOptions(fee07_offset=0.5),
    )  # fmt: skip
    folder = write_package(simulate(spec), tmp_path_factory.mktemp("fee07"), fmt="parquet")
    truth = json.loads((folder / "ground_truth.json").read_text())
    return audit(folder, AuditConfig.from_dict(EVERY_CELL), checks=["FEE-02", "FEE-07"]), truth


def test_planted_offset_is_found_with_the_money_it_took(planted: tuple[object, dict]) -> None:
    """Half of every tip taken out of the quote: FEE-07 fails with the offset's interval
    around 0.5 and the money it took around the truth; the platform declared the lower pay
    as commission, so FEE-02 stays quiet."""
    result, truth = planted
    t = truth["plants"]["FEE-07"]["truth"]
    f = pick(result, "FEE-07")
    assert f.status == Status.FAIL and f.severity == "high"
    assert f.ci[0] < 0.5 < f.ci[1] and f.ci[1] - f.ci[0] < 0.2
    low, high = f.data["base_pay_offset_ci"]
    assert low < t["offset_total"] < high
    assert f.data["tips"] == pytest.approx(t["tips_total"], abs=0.01)
    assert pick(result, "FEE-02").status == Status.PASS


def test_clean_platform_passes(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=80, days=7, seed=8, demand_scale=0.3, tip_rate=0.2)
    folder = write_package(simulate(spec), tmp_path / "clean", fmt="parquet")
    f = pick(audit(folder, AuditConfig.from_dict(EVERY_CELL), checks=["FEE-07"]), "FEE-07")
    assert f.status == Status.PASS
    assert f.ci[0] < 0.0 < f.ci[1] and f.data["upper_bound_1_minus_2alpha"] < MATERIALITY


def test_without_tips_column_not_assessed_and_without_tips_no_estimate(tmp_path: Path) -> None:
    orders = [good_order(i) for i in range(30)]
    no_column = [{k: v for k, v in o.items() if k != "tip"} for o in orders]
    write_csv(tmp_path / "a", "orders", no_column)
    f = pick(audit(tmp_path / "a", AuditConfig.from_dict(EVERY_CELL), checks=["FEE-07"]), "FEE-07")
    assert f.status == Status.NOT_ASSESSED and f.missing == ("orders.tip",)
    write_csv(tmp_path / "b", "orders", [o | {"tip": "0.00"} for o in orders])
    f = pick(audit(tmp_path / "b", AuditConfig.from_dict(EVERY_CELL), checks=["FEE-07"]), "FEE-07")
    assert f.status == Status.INCONCLUSIVE and f.estimate is None
    assert f.detail.startswith("No estimate")


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1])
def test_materiality_out_of_range_is_named(value: float) -> None:
    with pytest.raises(ValueError, match="tip_offset_materiality"):
        AuditConfig.from_dict({"fees": {"tip_offset_materiality": value}})
