"""DSP-04, fewer or worse offers after a refusal: the cells against hand-counted windows,
calibration in worlds built to fool it (bursts of demand that refusals cluster in, workers
choosier on their poorer days, long busy spells, a few dominant workers, sparse zones),
the naive design those worlds fool, power with a penalty planted, and the check on
packages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest
from conftest import DEMO, pick

from auditor import AuditConfig, Status, audit
from auditor.checks._refusal_cells import (
    SLOT_SECONDS,
    RefusalCells,
    cell_arrays,
    refusal_cell_table,
)
from auditor.engine import connect
from auditor.errors import ConfigError
from auditor.simulate import SimulationSpec, simulate, write_package
from auditor.simulate._refusal_worlds import (
    RefusalWorld,
    replicate_refusals,
    write_refusal_package,
)

REPLICATES = 100
ALPHA = 0.05
#: fail rate allowed where the true ratio is 1 (alpha / 2 at the band's edge; a ratio of 1
#: lies inside the band) plus two Monte Carlo standard errors.
FAIL_BOUND = ALPHA / 2 + 2 * (ALPHA / 2 * (1 - ALPHA / 2) / REPLICATES) ** 0.5
COVERAGE_FLOOR = 0.95 - 2 * (0.95 * 0.05 / REPLICATES) ** 0.5


def _t(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, minute, tzinfo=dt.UTC)


def _cells(with_orders: bool) -> RefusalCells:
    """Two workers in zone A. w1: online 08:00-10:00, refuses order o1 at 08:50 while
    free, accepts at 08:55 (carrying 08:56-09:10), lets an offer expire at 09:01 while
    carrying, is offered o8 at 09:12 (free again, but within the window of that busy
    refusal: set aside), accepts at 09:20 (carrying 09:21-09:40), and is offered one more
    at 11:00, offline. w2: online 08:00-09:30, accepts at 08:10 (carrying 08:11-08:15), refuses at
    08:20, and is offered o1 at 08:51 (w1 refused it)."""
    sessions = pa.table(
        {
            "worker_id": ["w1", "w2"],
            "online_at": [_t(8), _t(8)],
            "offline_at": [_t(10), _t(9, 30)],
            "zone": ["A", "A"],
        }
    )
    offers = pa.table(
        {
            "worker_id": ["w1", "w1", "w1", "w1", "w2", "w2", "w1", "w2", "w1"],
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o1", "o8"],
            "offered_at": [_t(8, 50), _t(8, 55), _t(9, 1), _t(9, 20), _t(8, 10), _t(8, 20),
                           _t(11), _t(8, 51), _t(9, 12)],
            "response": ["declined", "accepted", "expired", "accepted", "accepted", "declined",
                         "declined", "declined", "accepted"],
            "offered_pay": [5.0, 6.0, 7.0, 8.0, None, 3.0, 1.0, 5.0, 9.0],
        }
    )  # fmt: skip
    orders = pa.table(
        {
            "worker_id": ["w1", "w1", "w2"],
            "accepted_at": [_t(8, 56), _t(9, 21), _t(8, 11)],
            "dropoff_at": [_t(9, 10), _t(9, 40), _t(8, 15)],
        }
    )
    with connect(AuditConfig()) as engine:
        t = {
            name: engine.con.create_table(name, ibis.memtable(table))
            for name, table in (("o", offers), ("s", sessions), ("d", orders))
        }
        table = refusal_cell_table(
            engine, t["o"], t["s"], 15 * 60.0, priced=True, orders=t["d"] if with_orders else None
        )
        return cell_arrays(*table)


MEASURES = ("hours_after", "hours_other", "offers_after", "offers_other", "pay_after", "pay_other")


def _per_worker(cells: RefusalCells) -> list[tuple[float, ...]]:
    """Each worker's sums of ``MEASURES`` over their cells."""
    return [
        tuple(round(float(getattr(cells, m)[cells.worker == w].sum()), 6) for m in MEASURES)
        for w in range(cells.n_workers)
    ]


def test_cells_are_the_hand_counted_windows() -> None:
    """w1: after its free refusal at 08:50, free until 08:56: 0.1 h with the 08:55 offer
    (pay 6). The expired offer at 09:01 came while carrying: not compared, and its window's
    free part (09:10-09:16), with the 09:12 offer in it, is set aside. Other free time:
    120 - 14 - 19 busy minutes - 12 minutes in windows = 75 minutes, with the 08:50
    refusal itself and the 09:20 offer (pay 5 + 8). w2: 15 + 15 minutes after its two
    refusals with no offer; 90 - 4 - 30 = 56 minutes other, with three offers (one
    unpriced). w2's 08:51 offer of o1 is a re-offer of w1's refused order: it is w1's to
    leave out of the baseline, in the slot of 08:51."""
    cells = _cells(with_orders=True)
    assert _per_worker(cells) == [
        (0.1, 1.25, 1.0, 2.0, 6.0, 13.0),
        (0.5, round(56 / 60, 6), 0.0, 3.0, 0.0, 8.0),
    ]
    w1 = cells.worker == 0
    assert cells.reoffered[w1].sum() == 1 and cells.reoffered_pay[w1].sum() == 5.0
    assert cells.reoffered[~w1].sum() == 0
    hit = cells.slot[w1][cells.reoffered[w1] > 0]
    reoffer_at = _t(8, 51).timestamp()
    assert len(hit) == 1 and hit[0] * SLOT_SECONDS <= reoffer_at < (hit[0] + 1) * SLOT_SECONDS
    assert dict(cells.counts) == {
        "refusals": (5, 2),
        "refusals_compared": (3, 2),
        "offers_outside": (1, 1),
        "offers_busy": (1, 1),
        "offers_unpriced": (1, 1),
    }
    assert cells.zones == ("A",)


def test_without_orders_all_online_time_is_free() -> None:
    """w1's refusals at 08:50 and 09:01 open windows that merge: 08:50-09:16 after, 94
    minutes other; the 08:55, 09:01 and 09:12 offers are after, the 08:50 and 09:20 ones
    other."""
    cells = _cells(with_orders=False)
    assert _per_worker(cells)[0] == (round(26 / 60, 6), round(94 / 60, 6), 3.0, 2.0, 22.0, 13.0)
    assert cells.counts["offers_busy"] == (0, 0)


def test_a_materiality_that_would_flag_simulated_dynamics_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\[dispatch\] decline_penalty_materiality"):
        AuditConfig.from_dict({"dispatch": {"decline_penalty_materiality": 0.05}})


def test_the_worlds_fool_a_comparison_fitted_on_the_offers_compared() -> None:
    """After against other time within strata of one worker, zone and hour (each fitted on
    its own offers) reads a penalty where there is none: at a 5 % band it flags most
    worlds; DSP-04's comparison flags none of the same worlds."""
    naive = replicate_refusals(RefusalWorld(), REPLICATES, 101, naive=True, materiality=0.05)
    assert naive.lead_offers > 0.5 and naive.median_offers < 0.9
    ours = replicate_refusals(RefusalWorld(), REPLICATES, 101, materiality=0.05)
    assert ours.lead_offers <= FAIL_BOUND and ours.median_offers > 0.95


def test_the_baseline_leaves_out_the_re_offers_of_refused_orders() -> None:
    """A refused order goes to another worker in the zone next: counted in the other
    workers' baseline, it would make the time after a refusal look poorer than it is."""
    world = RefusalWorld(burst_sd=0.0, burst_choice=0.0, picky=0.0, demand_sd=0.0, level_sd=0.0)
    fair = replicate_refusals(world, REPLICATES, 606)
    fooled = replicate_refusals(world, REPLICATES, 606, reoffers=False)
    assert abs(np.log(fair.median_offers)) < 0.03 and fooled.median_offers < 0.95


@pytest.mark.parametrize(
    "world",
    [
        RefusalWorld(),
        RefusalWorld(day_level_sd=0.5),
        RefusalWorld(offers_per_hour=10, busy_minutes=(20, 45)),
        RefusalWorld(dominant=2, workers=30),
        RefusalWorld(workers=12),
    ],
    ids=["bursts_and_choice", "choosier_on_poor_days", "long_busy_spells", "two_dominant_of_30",
         "12_workers"],
)  # fmt: skip
def test_no_penalty_is_never_a_lead(world: RefusalWorld) -> None:
    """No penalty planted: no lead (beyond Monte Carlo error), on offers and on offered
    pay; the median ratio is not below 1 by more than 3 %, nor above 1.3 (a larger lean
    would hide the cuts a lead is meant to show): the estimate may understate
    a penalty, not invent one."""
    rates = replicate_refusals(world, REPLICATES, 202)
    assert rates.estimable >= 0.95 * REPLICATES
    assert rates.lead_offers <= FAIL_BOUND and rates.lead_pay <= FAIL_BOUND
    assert rates.median_offers > 0.97 and rates.median_pay > 0.97
    assert rates.median_offers < 1.3 and rates.median_pay < 1.3


def test_intervals_cover_the_truth_where_offers_follow_the_baseline() -> None:
    """Offers at a steady rate within each slot, workers alike: the 95 % intervals cover
    the true ratio of 1 at their level."""
    world = RefusalWorld(burst_sd=0.0, burst_choice=0.0, picky=0.0, demand_sd=0.0, level_sd=0.0)
    rates = replicate_refusals(world, REPLICATES, 303)
    assert rates.cover_offers >= COVERAGE_FLOOR
    assert abs(np.log(rates.median_offers)) < 0.03


def test_sixty_percent_fewer_offers_after_a_refusal_is_a_lead() -> None:
    """The estimate understates the cut (re-offered orders reach penalised workers in
    full), but flags it."""
    rates = replicate_refusals(RefusalWorld(penalty=0.4), REPLICATES, 404)
    assert rates.lead_offers >= 0.8
    assert 0.4 < rates.median_offers < 0.75


def test_sixty_percent_less_pay_per_offer_after_a_refusal_is_a_lead_on_offered_pay() -> None:
    """Offers keep coming after a refusal, each quoting 60 % less: the offered-pay ratio is
    a lead, the offer-count ratio is not."""
    rates = replicate_refusals(RefusalWorld(pay_penalty=0.4), REPLICATES, 505)
    assert rates.lead_pay >= 0.8 and rates.lead_offers <= FAIL_BOUND


@pytest.mark.parametrize(("penalty", "lead"), [(1.0, False), (0.4, True)])
def test_the_check_on_a_package(tmp_path: Path, penalty: float, lead: bool) -> None:
    """Reported, never judged: inconclusive either way, outside the Holm family, with a
    lead where 60 % fewer offers (each quoting 60 % less) follow a refusal."""
    folder = write_refusal_package(
        RefusalWorld(workers=60, penalty=penalty, pay_penalty=penalty), 3, tmp_path / "pkg"
    )
    result = audit(folder, AuditConfig(), checks=["DSP-04"])
    for metric in ("offer_rate_after_refusal", "offered_pay_rate_after_refusal"):
        finding = pick(result, "DSP-04", metric)
        assert finding.status == Status.INCONCLUSIVE and finding.p_adjusted is None
        assert finding.data["lead"] is lead and finding.n_workers == 60
        assert "Reported, not judged" in finding.detail
        assert finding.estimate < 0.8 if lead else finding.ci[0] > 0.8
    members = [m for family in result.test_families.values() for m in family["members"]]
    assert all(m["check"] != "DSP-04" for m in members)


def test_a_penalty_planted_in_a_simulated_platform_shows(tmp_path: Path) -> None:
    """``simulate --plant DSP-04`` (80 % of the offers a worker would refuse are not made
    in the 15 minutes after a refusal): the offer-rate ratio falls below 0.8, within 10 %
    of one minus the share of post-refusal offers withheld (the plant's ground truth: the
    ratio it makes where the baseline holds; docs/validation-refusals.md gives the
    intervals' coverage over eight seeds)."""
    spec = SimulationSpec(workers=200, days=14, seed=4, plants=("DSP-04",))
    package = simulate(spec)
    folder = write_package(package, tmp_path / "pkg", fmt="parquet")
    truth = package.ground_truth["plants"]["DSP-04"]["truth"]
    result = audit(folder, AuditConfig(), checks=["DSP-04"])
    finding = pick(result, "DSP-04", "offer_rate_after_refusal")
    assert finding.status == Status.INCONCLUSIVE
    assert finding.estimate is not None and finding.ci is not None
    assert finding.estimate < 0.8 and finding.ci[1] < 0.9
    assert abs(np.log(finding.estimate / (1 - truth["share_withheld"]))) < 0.1


def test_the_demo_reports_its_planted_penalty(demo_result: object) -> None:
    """The demo withholds offers after refusals (27 % of those that would have followed,
    its ground truth): both ratios are below 1 with intervals that exclude 1, the offer
    rate's within 15 % of one minus the share withheld; reported, not judged."""
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    withheld = truth["plants"]["DSP-04"]["truth"]["share_withheld"]
    for metric in ("offer_rate_after_refusal", "offered_pay_rate_after_refusal"):
        finding = pick(demo_result, "DSP-04", metric)
        assert finding.status == Status.INCONCLUSIVE and finding.ci is not None
        assert finding.ci[1] < 1.0, metric
    offers = pick(demo_result, "DSP-04", "offer_rate_after_refusal")
    assert abs(np.log(offers.estimate / (1 - withheld))) < 0.15
