"""The rules a group comparison is decided by (issue 15): the exact test when one side has no
events, the minimum-effect fail rule, power for the rules actually used, published p-value
floors, suppression on effective workers, impact ratios without suppressed groups, the
recorded test families, intersections, DSP-03, and DSP-01 without offers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import pick

from auditor import AuditConfig, AuditResult, Status, audit
from auditor.simulate import SimulationSpec, simulate, write_package
from auditor.stats import (
    P_FLOOR,
    Exclusion,
    GroupEffect,
    RateCells,
    Verdict,
    Wald,
    band,
    decide,
    poisson_effect,
    reported_p,
)

GROUP_CHECKS = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "PRC-01", "DED-01", "FEE-05")


def _cells(group_rate: float, *, strata: int = 40, workers: int = 60, seed: int = 0) -> tuple:
    """One cell per worker and stratum, an hour each; the first third are the group."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(workers), strata)
    stratum = np.tile(np.arange(strata), workers)
    treat = np.arange(workers) < workers // 3
    rate = np.where(treat[cluster], group_rate, 1.0)
    count = rng.poisson(rate).astype(float)
    return RateCells(count, np.ones(len(count)), stratum, cluster, counts=True), treat


def test_a_group_with_no_events_is_tested_exactly_and_fails() -> None:
    """Twenty workers online 40 hours each and offered nothing, where the reference got an
    offer an hour: no estimate before; now an exact conditional test rejects a gap inside the
    band, the interval is (0, upper), equivalence is impossible, and the verdict is fail."""
    cells, treat = _cells(0.0)
    est = poisson_effect(cells, treat, method="t")
    assert isinstance(est.inference, Exclusion) and est.inference.side == "group"
    assert est.ratio == 0.0
    lo, hi = est.ci(0.95)
    assert lo == 0.0 and 0 < hi < 0.05
    assert est.inference.p_beyond(band(0.05)) < 1e-100
    assert est.inference.p_within(band(0.05)) == 1.0
    d = decide(est, est.inference.p_beyond(band(0.05)), alpha=0.05, materiality=0.05,
               family_size=40)  # fmt: skip
    assert d.verdict == Verdict.FAIL and d.clear_of_band


def test_no_events_by_chance_when_few_were_expected_is_not_a_fail() -> None:
    """Two group workers and four reference workers online in three strata, three events
    in all, none the group's: about one event was to be expected, so the exact test's p at
    the band's edge is large and nothing fails."""
    cluster = np.repeat(np.arange(6), 3)
    stratum = np.tile(np.arange(3), 6)
    treat = np.arange(6) < 2
    count = np.zeros(18)
    count[[6, 10, 14]] = 1.0  # reference workers 2, 3 and 4, one event each
    cells = RateCells(count, np.ones(18), stratum, cluster, counts=True)
    est = poisson_effect(cells, treat, method="t")
    assert isinstance(est.inference, Exclusion)
    p = est.inference.p_beyond(band(0.05))
    assert p > 0.5
    assert decide(est, p, alpha=0.05, materiality=0.05, family_size=1).verdict != Verdict.FAIL


def test_a_group_offered_no_pay_is_tested_alike_in_any_unit_of_account() -> None:
    """DSP-03 with a group quoted no pay at all: money has a dispersion that carries its unit
    (yuan or fen), which the exact test's effective events cancel, so the same offers in
    yuan, fen or thousands of yuan give the same p-value and bound, and fail."""
    rng = np.random.default_rng(5)
    workers, strata = 60, 40
    cluster = np.repeat(np.arange(workers), strata)
    stratum = np.tile(np.arange(strata), workers)
    treat = np.arange(workers) < workers // 3
    offers = rng.poisson(1.5, len(cluster))
    money = np.array([rng.lognormal(2.3, 0.5, k).sum() for k in offers])
    money[treat[cluster]] = 0.0
    results = []
    for unit in (1.0, 100.0, 0.001):
        cells = RateCells(money * unit, np.ones(len(money)), stratum, cluster)
        est = poisson_effect(cells, treat, method="t")
        assert isinstance(est.inference, Exclusion)
        results.append((est.inference.p_beyond(band(0.05)), est.ci(0.95)[1]))
    for p, upper in results[1:]:
        assert p == pytest.approx(results[0][0], rel=1e-6, abs=1e-300)
        assert upper == pytest.approx(results[0][1], rel=1e-6)
    assert results[0][0] < 1e-10 and results[0][1] < 0.5


def test_fail_needs_evidence_beyond_the_band_not_an_estimate_beyond_it() -> None:
    """An estimate of 0.93 (beyond a 5 % band) with a standard error of 0.02 on the log
    scale: significant against a ratio of 1, but its interval reaches inside the band, so
    it is not a fail; at 0.90 it is. The minimum-effect p is below alpha exactly when the
    interval clears the band."""
    half = band(0.05)
    for ratio, expected in ((0.93, Verdict.INCONCLUSIVE), (0.90, Verdict.FAIL)):
        effect = GroupEffect(Wald(math.log(ratio), 0.02, 200.0), 100, 100, 1000, "t")
        test = effect.inference
        assert test is not None and test.p_no_gap() < 0.01
        d = decide(effect, test.p_beyond(half), alpha=0.05, materiality=0.05, family_size=1)
        assert d.verdict == expected
        assert (test.p_beyond(half) < 0.05) == (effect.ci(0.95)[1] < 0.95)


def test_power_numbers_are_those_of_the_rules_and_say_when_nothing_can_decide() -> None:
    """The case that printed a minimum detectable ratio of 4.65e-138 and 1,672,280,602 workers
    needed: one degree of freedom and a wide interval. Now the smallest detectable ratio is
    not printed (below 0.01) and the comparison is undecidable with data of this kind; with
    many degrees of freedom the numbers are finite and shrink with the standard error."""
    wide = GroupEffect(Wald(0.1, 1.5, 1.0), 8, 12, 200, "t")
    d = decide(wide, 1.0, alpha=0.05, materiality=0.05, family_size=50)
    assert d.verdict == Verdict.INCONCLUSIVE
    assert d.mde_ratio is None and not d.decidable
    assert d.workers_needed_to_fail is None and d.workers_needed_to_pass is None
    narrow = GroupEffect(Wald(0.0, 0.04, 80.0), 40, 40, 4000, "t")
    n = decide(narrow, 1.0, alpha=0.05, materiality=0.05, family_size=20)
    assert n.verdict == Verdict.INCONCLUSIVE and n.decidable
    assert 0.7 < n.mde_ratio < 0.95  # type: ignore[operator]
    # The same precision per worker with 25/16 as many workers: a standard error 4/5 as
    # large, and about as many workers needed in all; a larger detectable ratio.
    tighter = GroupEffect(Wald(0.0, 0.032, 125.0), 62, 63, 6250, "t")
    t = decide(tighter, 1.0, alpha=0.05, materiality=0.05, family_size=20)
    assert t.verdict == Verdict.INCONCLUSIVE
    assert n.workers_needed_to_pass == pytest.approx(t.workers_needed_to_pass, rel=0.05)
    assert n.workers_needed_to_fail == pytest.approx(t.workers_needed_to_fail, rel=0.05)
    assert t.mde_ratio > n.mde_ratio  # type: ignore[operator]


def test_published_p_values_have_a_floor() -> None:
    assert reported_p(0.0) == P_FLOOR
    assert reported_p(1e-300) == P_FLOOR
    assert reported_p(0.03) == 0.03


@pytest.fixture(scope="module")
def crossed(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, dict]:
    spec = SimulationSpec(
        workers=500, days=10, seed=51, demand_scale=0.6, female_share=0.5, plants=("DSP-01",)
    )
    folder = write_package(simulate(spec), tmp_path_factory.mktemp("crossed"), fmt="parquet")
    config = AuditConfig.from_dict(
        {"fairness": {"intersections": [["gender", "age_band"]],
                      "reference_groups": {"gender": "M"}}}
    )  # fmt: skip
    result = audit(folder, config=config, checks=GROUP_CHECKS)
    return result, json.loads(result.to_json())


def test_intersections_are_groups_of_their_own_in_the_same_family(
    crossed: tuple[AuditResult, dict],
) -> None:
    result, doc = crossed
    cells = [f for f in result.findings if f.subject.get("attribute") == "gender*age_band"]
    assert cells, "intersections compared"
    for f in cells:
        # A suppressed cell is published under a placeholder, never its label.
        named = not f.subject["group"].startswith("suppressed group ")
        assert ("*" in f.subject["group"]) == named and "*" in f.subject["reference"]
    # One reference for all: the largest combination.
    refs = {f.subject["reference"] for f in cells if "reference" in f.subject}
    assert len(refs) == 1
    members = doc["test_families"]["confirmatory"]["members"]
    assert any(m["subject"].get("attribute") == "gender*age_band" for m in members)
    assert doc["test_families"]["confirmatory"]["tests"] == len(members)
    assert sum(f.p_adjusted is not None for f in result.findings) == len(members)


def test_a_missing_part_of_an_intersection_is_not_assessed(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=80, days=3, seed=52, demand_scale=0.5)
    folder = write_package(simulate(spec), tmp_path, fmt="parquet")
    config = AuditConfig.from_dict({"fairness": {"intersections": [["gender", "religion"]]}})
    result = audit(folder, config=config, checks=["PAY-02"])
    f = pick(result, "PAY-02", attribute="gender*religion")
    assert f.status == Status.NOT_ASSESSED and f.missing == ("workers.religion",)


def test_secondary_views_form_their_own_family(crossed: tuple[AuditResult, dict]) -> None:
    result, doc = crossed
    secondary = doc["test_families"]["secondary"]
    views = [
        (f, name) for f in result.findings for name in ("accepted_orders", "earned_pay",
                                                          "adjusted_for_algorithmic")
        if isinstance(f.data.get(name), dict) and "p_adjusted" in f.data[name]
    ]  # fmt: skip
    assert views and secondary["tests"] == len(views) == len(secondary["members"])
    for f, name in views:
        assert f.data[name]["family_size"] == secondary["tests"]
        assert f.data[name]["p_adjusted"] >= f.data[name]["p_value"]


def test_dsp03_finds_fewer_offers_as_less_value_offered(crossed: tuple[AuditResult, dict]) -> None:
    """The DSP-01 plant withholds 10 % of offers from women: the value of work they are
    offered per online hour falls by as much (DSP-03), and the earned-pay view shows it too."""
    result, _ = crossed
    f = pick(result, "DSP-03", attribute="gender", group="F")
    assert f.status == Status.FAIL and f.metric == "offered_value_rate_ratio"
    assert f.ci[0] < 0.9 < f.ci[1]
    assert f.data["earned_pay"]["ratio"] < 0.95
    dsp01 = pick(result, "DSP-01", attribute="gender", group="F")
    assert dsp01.metric == "offer_rate_ratio" and dsp01.status == Status.FAIL


def test_impact_ratios_never_compare_with_a_suppressed_group(tmp_path: Path) -> None:
    """With a high ``min_cell_workers`` some age bands are suppressed: no impact ratio is
    relative to one of them, and each published ratio names its favoured group."""
    spec = SimulationSpec(workers=300, days=7, seed=53, demand_scale=0.5)
    folder = write_package(simulate(spec), tmp_path, fmt="parquet")
    config = AuditConfig.from_dict({"report": {"min_cell_workers": 40}})
    result = audit(folder, config=config, checks=["DSP-01", "PAY-02"])
    for check in ("DSP-01", "PAY-02"):
        found = [f for f in result.findings if f.check == check
                 and f.subject.get("attribute") == "age_band"]  # fmt: skip
        hidden = {f.subject["group"] for f in found if f.data.get("suppressed")}
        shown = [f for f in found if f.estimate is not None]
        assert hidden and shown, (check, hidden)
        for f in shown:
            basis = f.data["impact_ratio_basis"]
            favoured = basis.split("relative to ")[1].split(";")[0]
            assert favoured not in hidden
            assert "Local Law 144" in basis and "descriptive" in basis


def test_impact_ratios_follow_local_law_144() -> None:
    """Selection rates: each group's events per exposure over the best published group's
    (a suppressed group with a higher rate never sets it), with an interval around the
    ratio. Scoring rates: the share of a group above the median of the whole sample,
    suppressed group included, over the highest share."""
    from types import SimpleNamespace

    from auditor.checks._groups import Impact, _impacts

    context = SimpleNamespace(config=AuditConfig())
    labels = np.array(["A"] * 20 + ["B"] * 20 + ["C"] * 5, dtype=object)
    valid = np.ones(45, dtype=bool)
    hours = np.full(45, 10.0)
    rng = np.random.default_rng(1)
    offers = np.r_[rng.poisson(20, 20), rng.poisson(10, 20), rng.poisson(30, 5)].astype(float)
    rates = SimpleNamespace(impact=Impact("selection_rate", offers, hours))
    out = _impacts(context, rates, labels, valid, {"A", "B"})  # type: ignore[arg-type]
    assert set(out) == {"A", "B"}
    assert out["A"]["impact_ratio"] == 1.0 and "relative to A" in out["A"]["impact_ratio_basis"]
    expected = offers[20:40].sum() / offers[:20].sum()
    assert out["B"]["impact_ratio"] == pytest.approx(expected, rel=1e-12)
    lo, hi = out["B"]["impact_ratio_ci"]
    assert lo < expected < hi and hi / lo < 1.5
    # Scores: C's high values lift the whole sample's median above most of A and B.
    pay = np.r_[np.linspace(10, 20, 20), np.linspace(5, 15, 20), np.full(5, 100.0)]
    scores = SimpleNamespace(impact=Impact("scoring_rate", pay))
    out = _impacts(context, scores, labels, valid, {"A", "B"})  # type: ignore[arg-type]
    median = float(np.median(pay))
    share_a, share_b = float((pay[:20] > median).mean()), float((pay[20:40] > median).mean())
    assert median != float(np.median(pay[:40]))
    assert out["B"]["impact_ratio"] == pytest.approx(share_b / share_a, rel=1e-12)


def test_family_members_name_their_metric(crossed: tuple[AuditResult, dict]) -> None:
    """Each recorded test names its metric, so that a check's two tests of one subject
    (DED-01's penalty rate and upheld appeals) are told apart."""
    _, doc = crossed
    members = doc["test_families"]["confirmatory"]["members"]
    keys = [(m["check"], m["metric"], json.dumps(m["subject"], sort_keys=True)) for m in members]
    assert all(m["metric"] for m in members)
    assert len(set(keys)) == len(keys)
    assert {"penalty_rate_ratio", "offer_rate_ratio", "offered_value_rate_ratio"} <= {
        m["metric"] for m in members
    }


def test_without_offers_dsp01_counts_orders_and_says_so(tmp_path: Path) -> None:
    spec = SimulationSpec(workers=200, days=5, seed=54, demand_scale=0.5)
    folder = write_package(simulate(spec), tmp_path, fmt="parquet")
    (folder / "offers.parquet").unlink()
    result = audit(folder, checks=["DSP-01", "DSP-03"])
    estimated = [f for f in result.findings if f.check == "DSP-01" and f.estimate is not None]
    assert estimated
    for f in estimated:
        assert f.metric == "order_rate_ratio"
        assert "mix the dispatcher's offers with workers' own choices" in f.detail
    dsp03 = pick(result, "DSP-03")
    assert dsp03.status == Status.NOT_ASSESSED and "offers" in dsp03.missing
