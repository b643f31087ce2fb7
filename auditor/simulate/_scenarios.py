"""The named calibration scenarios of the group-disparity statistics: worlds with no breach,
each built to fool a naive test, and worlds with a planted breach that must be found.

One definition, run by the suite (``tests/test_fairness_calibration.py``, 200 replicates
each) and by the published validation (``benchmarks/validation.py`` writes
``docs/validation.md``, 1,000 replicates each). A scenario is a world
(``auditor.simulate._stat_worlds``) and the outcome the check compares in it
(``auditor.simulate._calibration.Outcome``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.simulate._calibration import Outcome
from auditor.simulate._stat_worlds import RateWorld, WorkWorld

__all__ = [
    "BUSY",
    "INTERSECTION",
    "NO_BREACH",
    "PLANTED",
    "RARE_ACTIONS",
    "SPREAD_NO_BREACH",
    "SPREAD_PLANTED",
    "Scenario",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A calibration world and what is compared in it.

    Attributes:
        check: the check whose statistic the scenario exercises (``DSP-01``, ...).
        words: what the world holds, for a reader of ``docs/validation.md``.
        world: the world the replicates are drawn from.
        outcome: the outcome compared (offers, accepted orders, quoted pay per hour, pay
            for the same work as a ratio of means or of geometric means, prices as PRC-01
            compares them).
    """

    check: str
    words: str
    world: RateWorld | WorkWorld
    outcome: Outcome


BUSY: dict[str, Any] = {"cells_per_worker": 160.0, "productivity_sd": 0.1, "activity_sd": 0.6}
"""Busy workers (about a month online): the worlds where a 10 % gap must be found."""

RARE_ACTIONS: dict[str, Any] = {
    "base_rate": 0.004, "exposure_scale": 30.0, "zones": 1, "days": 4, "hours": 1,
    "cells_per_worker": 4.0, "overdispersion": 0.0, "productivity_sd": 0.5,
}  # fmt: skip
"""ACC-02's cells: suspensions and deactivations, about 0.004 per online hour, in worker x
week cells of 7 to 30 online hours over four weeks; workers' conduct differs (log SD 0.5)."""

NO_BREACH: dict[str, Scenario] = {
    "dsp01_legitimate_heavy_tails": Scenario(
        "DSP-01", "groups in other zones and hours, heavy-tailed activity (300 workers)",
        RateWorld(), "count",
    ),
    "dsp01_two_dominant_workers_in_40": Scenario(
        "DSP-01", "a group of 40 carried by 2 workers 50x as active (200 workers)",
        RateWorld(workers=200, group_share=0.2, dominant=2, dominance=50.0), "count",
    ),
    "dsp01_3_bridging_workers_of_30": Scenario(
        "DSP-01", "a group of 30 sharing strata with the reference through 3 workers",
        RateWorld(workers=200, group_share=0.15, bridges=3), "count",
    ),
    "dsp01_group_declines_more": Scenario(
        "DSP-01", "the group declines 25 % more of the same offers (headline: offers)",
        RateWorld(declines=0.25), "count",
    ),
    "dsp01_gap_inside_band_many_workers": Scenario(
        "DSP-01", "a true ratio of 0.955, inside the 5 % band (800 busy workers)",
        RateWorld(workers=800, group_share=0.5, ratio=0.955, **BUSY), "count",
    ),
    "dsp03_legitimate": Scenario(
        "DSP-03", "quoted pay per online hour, groups in other zones and hours",
        RateWorld(value=10.0), "money",
    ),
    "dsp03_two_dominant_workers_in_40": Scenario(
        "DSP-03", "quoted pay per online hour, a group of 40 carried by 2 workers",
        RateWorld(workers=200, group_share=0.2, dominant=2, dominance=50.0, value=10.0),
        "money",
    ),
    "ded01_penalties": Scenario(
        "DED-01", "penalties per accepted order, groups in other zones and hours",
        RateWorld(base_rate=0.02, exposure_scale=30.0, overdispersion=0.0), "count",
    ),
    "ded01_rare_upheld_appeals": Scenario(
        "DED-01", "rare upheld appeals (a group with none happens by chance; 120 workers)",
        RateWorld(
            workers=120, group_share=0.25, base_rate=0.1, exposure_scale=1.0,
            cells_per_worker=3.0, overdispersion=0.0, productivity_sd=0.0, zones=2, days=5,
            hours=2,
        ),
        "count",
    ),
    "pay02_legitimate": Scenario(
        "PAY-02", "groups in other zones and hours, shorter trips (300 workers)",
        WorkWorld(), "pay",
    ),
    "pay02_bonus_dates_group_works_fewer": Scenario(
        "PAY-02", "a 15 % bonus on 4 dates that the group works 70 % less often",
        WorkWorld(bonus_days=4, bonus_share=0.3, bonus=0.15), "pay",
    ),
    "pay02_two_dominant_workers_in_40": Scenario(
        "PAY-02", "a group of 40 carried by 2 workers 50x as active (200 workers)",
        WorkWorld(workers=200, group_share=0.2, dominant=2, dominance=50.0,
                  orders_per_worker=30),
        "pay",
    ),
    "pay02_3_bridging_workers_of_30": Scenario(
        "PAY-02", "a group of 30 sharing strata with the reference through 3 workers",
        WorkWorld(workers=200, group_share=0.15, bridges=3), "pay",
    ),
    "pay02_gap_inside_band_many_workers": Scenario(
        "PAY-02", "a true ratio of 0.955, inside the 5 % band (800 workers)",
        WorkWorld(workers=800, group_share=0.5, ratio=0.955, worker_sd=0.1,
                  orders_per_worker=20),
        "pay",
    ),
    "pay02_heavy_low_tail": Scenario(
        "PAY-02", "1.2 % of the group's orders paid almost nothing (ratio of means 0.988)",
        WorkWorld(low_tail=0.012), "pay",
    ),
    "pay02_geometric_view": Scenario(
        "PAY-02", "the geometric-mean view, on bonus dates the group works less",
        WorkWorld(bonus_days=4, bonus_share=0.3), "geometric",
    ),
    "prc01_customers": Scenario(
        "PRC-01", "1,500 customers, 4 orders each, clustered by customer",
        WorkWorld(workers=1500, orders_per_worker=4, activity_sd=0.7, worker_sd=0.02),
        "price",
    ),
    "acc02_rare_actions": Scenario(
        "ACC-02", "suspensions per online hour: rare, by week, conduct differs (400 workers)",
        RateWorld(workers=400, **RARE_ACTIONS), "count",
    ),
    "acc02_two_dominant_workers_in_40": Scenario(
        "ACC-02", "rare suspensions, a group of 40 carried by 2 workers 50x as active",
        RateWorld(workers=200, group_share=0.2, dominant=2, dominance=50.0, **RARE_ACTIONS),
        "count",
    ),
}  # fmt: skip
"""Worlds with no breach: a ``fail`` in any of them is a false accusation."""

PLANTED: dict[str, Scenario] = {
    "dsp01_total_exclusion": Scenario(
        "DSP-01", "the group is offered nothing (300 workers)", RateWorld(ratio=0.0), "count",
    ),
    "dsp01_10pct_fewer_offers_500_workers": Scenario(
        "DSP-01", "10 % fewer offers per online hour (500 busy workers)",
        RateWorld(workers=500, group_share=0.5, ratio=0.9, **BUSY), "count",
    ),
    "dsp03_steering_13pct_300_workers": Scenario(
        "DSP-03", "steered to short trips: 13 % less quoted pay per hour (300 busy workers)",
        RateWorld(workers=300, group_share=0.5, value=10.0, value_ratio=0.87, **BUSY),
        "money",
    ),
    "pay02_10pct_300_workers": Scenario(
        "PAY-02", "10 % less pay for the same work (300 workers)",
        WorkWorld(workers=300, group_share=0.3, ratio=0.9), "pay",
    ),
    "ded01_upheld_appeals_total_exclusion": Scenario(
        "DED-01", "no appeal of the group is ever upheld (300 workers)",
        RateWorld(workers=300, base_rate=0.4, exposure_scale=2.0, ratio=0.0), "count",
    ),
    "acc02_suspended_twice_as_often_800_workers": Scenario(
        "ACC-02", "the group is suspended twice as often per online hour (800 workers)",
        RateWorld(workers=800, ratio=2.0, **RARE_ACTIONS), "count",
    ),
}  # fmt: skip
"""Worlds with a planted breach that must be found in at least 90 % of replicates."""

SPREAD_NO_BREACH: dict[str, tuple[WorkWorld, bool]] = {
    "no personalised pay, legitimate trip differences (200 workers)": (
        WorkWorld(workers=200, worker_sd=0.0), True,
    ),
    "no personalised pay, bonus dates worked unevenly": (
        WorkWorld(workers=200, worker_sd=0.0, bonus_days=4, bonus_share=0.3), True,
    ),
    "no personalised pay, a heavy low tail in one group": (
        WorkWorld(workers=200, worker_sd=0.0, low_tail=0.012), False,
    ),
}  # fmt: skip
"""FEE-05's worlds with no personalised pay, and whether workers' pay for the same work is
truly equal in each: in the last, the group's near-zero payments lower its workers' mean pay
a little, a real spread inside the band (a test of no spread may reject; ``fail`` must not)."""

SPREAD_PLANTED = WorkWorld(workers=200, worker_sd=0.0, spread=0.10)
"""FEE-05's planted breach: each worker's pay multiplied by uniform(0.9, 1.1)."""

INTERSECTION = WorkWorld(workers=600, group_share=0.5, ratio=0.9)
"""Harm at an intersection only (``replicate_intersection``): workers both A (half) and B
(30 %, independently), about 15 %, paid 10 % less."""
