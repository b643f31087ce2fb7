"""ACC-01 (account actions decided by a person, explained, reviewed in time) and CMP-01
(complaints answered in time): hand-built cases at and around each limit, what cannot be
judged yet, missing columns, small cells, the new tables' validation rules, and simulated
platforms with and without the breaches planted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import good_order, pick, write_csv

from auditor import AuditConfig, Status, audit
from auditor.simulate import PlantOptions, SimulationSpec, simulate, write_package

EVERY_CELL = {"report": {"min_cell_workers": 1}}
DAY = "2026-03-{:02d}T10:00:00+08:00"


def _action(worker: str, action: str, start: int, **over: str) -> dict[str, str]:
    row = {
        "worker_id": worker,
        "action": action,
        "started_at": DAY.format(start),
        "ended_at": "",
        "reason": "顾客投诉",
        "automated": "false",
        "decided_by_human": "true",
        "explained_at": DAY.format(start),
        "appealed_at": "",
        "reviewed_at": "",
        "outcome": "",
    }
    return row | over


def _complaint(i: int, worker: str, received: int, resolved: int | None, category: str) -> dict:
    return {
        "complaint_id": f"c{i}",
        "worker_id": worker,
        "received_at": DAY.format(received),
        "category": category,
        "resolved_at": "" if resolved is None else DAY.format(resolved),
        "outcome": "",
    }


def _package(tmp: Path, actions: list[dict] | None = None, complaints: list[dict] | None = None):
    folder = tmp / "pkg"
    write_csv(folder, "orders", [good_order(i) for i in range(3)])
    if actions is not None:
        write_csv(folder, "account_actions", actions)
    if complaints is not None:
        write_csv(folder, "complaints", complaints)
    return folder


def _run(folder: Path, check: str, **sections: dict[str, Any]) -> Any:
    config = AuditConfig.from_dict(EVERY_CELL | sections)
    return audit(folder, config, checks=[check])


def test_human_decision_counts_restrictive_actions_only(tmp_path: Path) -> None:
    """A person decided (true), the system alone (false, or empty with automated true),
    a person by default (empty, not automated), unknown (neither recorded); warnings are
    not restrictive and never count."""
    actions = [
        _action("w1", "suspension", 2, decided_by_human="true"),
        _action("w2", "deactivation", 2, decided_by_human="false", automated="true"),
        _action("w3", "restriction", 3, decided_by_human="", automated="true"),
        _action("w4", "restriction", 3, decided_by_human="", automated="false"),
        _action("w5", "suspension", 4, decided_by_human="", automated=""),
        _action("w6", "warning", 4, decided_by_human="false", automated="true"),
    ]
    f = pick(_run(_package(tmp_path, actions), "ACC-01"), "ACC-01", requirement="human_decision")
    assert f.status == Status.FAIL
    assert (f.data["units"], f.data["breached"], f.data["not_recorded"]) == (4, 2, 1)
    assert f.data["workers_affected"] == 2
    assert f.estimate == pytest.approx(0.5)
    assert f.data["by_action"]["labels"]["restriction"] == {
        "units": 2,
        "breached": 1,
        "share_breached": 0.5,
    }
    assert "warning" not in f.data["by_action"]["labels"]
    assert "2 of 4 restrictive account actions (50.0%) were taken without a person" in f.detail
    assert "Not judged: 1 (neither decided_by_human nor automated recorded)." in f.detail


def test_explanation_limit_open_and_as_of(tmp_path: Path) -> None:
    """explanation_days = 1: given ahead of the action, 24 h after it (in time), 24 h and
    one second after (late), never (overdue once a day has passed by the export's day)."""
    actions = [
        _action("w1", "suspension", 2, explained_at="2026-03-01T09:00:00+08:00"),
        _action("w2", "suspension", 2, explained_at=DAY.format(3)),
        _action("w3", "suspension", 2, explained_at="2026-03-03T10:00:01+08:00"),
        _action("w4", "suspension", 2, explained_at=""),
        # The latest time in the table: the export's day by default.
        _action("w5", "restriction", 20, explained_at=""),
    ]
    folder = _package(tmp_path, actions)
    f = pick(_run(folder, "ACC-01"), "ACC-01", requirement="explanation")
    assert f.status == Status.FAIL
    assert (f.data["units"], f.data["breached"], f.data["breached_unanswered"]) == (4, 2, 1)
    assert f.data["not_yet_due"] == 1  # w5, taken at the export's last recorded moment
    assert f.data["median_days_to_answer"] == pytest.approx(1.0)  # 0, 1, 1 + 1/86400
    assert "Not yet due: 1 (taken within 1 day of the export, not yet explained)." in f.detail
    # A later export day makes w5 overdue; a longer limit makes w3 in time.
    later = pick(
        _run(folder, "ACC-01", accountability={"as_of": "2026-03-25"}),
        "ACC-01",
        requirement="explanation",
    )
    assert (later.data["units"], later.data["breached"], later.data["not_yet_due"]) == (5, 3, 0)
    lenient = pick(
        _run(folder, "ACC-01", accountability={"explanation_days": 2}),
        "ACC-01",
        requirement="explanation",
    )
    assert (lenient.data["units"], lenient.data["breached"]) == (4, 1)


def test_review_of_appeals_of_any_action(tmp_path: Path) -> None:
    """review_days = 14 from the appeal: reviewed in 14 days (in time), in 15 (late), never
    with 20 days passed (overdue), never with 5 days passed (not yet due)."""
    actions = [
        _action("w1", "warning", 1, appealed_at=DAY.format(2), reviewed_at=DAY.format(16)),
        _action("w2", "suspension", 1, appealed_at=DAY.format(2), reviewed_at=DAY.format(17)),
        _action("w3", "deactivation", 1, appealed_at=DAY.format(2)),
        _action("w4", "deactivation", 1, appealed_at=DAY.format(17)),
        _action("w5", "restriction", 22),  # not appealed; its start is the latest time
    ]
    f = pick(_run(_package(tmp_path, actions), "ACC-01"), "ACC-01", requirement="review")
    assert f.status == Status.FAIL
    assert (f.data["units"], f.data["breached"], f.data["breached_unanswered"]) == (3, 2, 1)
    assert f.data["not_yet_due"] == 1
    assert f.data["limit_days"] == 14
    assert "2 of 3 appealed account actions (66.7%) were not reviewed within 14 days" in f.detail


def test_one_decision_column_is_enough(tmp_path: Path) -> None:
    """A file with automated but no decided_by_human (or the reverse) is judged on it."""
    rows = [_action("w1", "suspension", 2), _action("w2", "suspension", 2)]
    only_automated = [
        {k: v for k, v in r.items() if k != "decided_by_human"} | {"automated": a}
        for r, a in zip(rows, ("true", "false"), strict=True)
    ]
    f = pick(
        _run(_package(tmp_path, only_automated), "ACC-01"), "ACC-01", requirement="human_decision"
    )
    assert (f.status, f.data["units"], f.data["breached"]) == (Status.FAIL, 2, 1)
    only_human = [{k: v for k, v in r.items() if k != "automated"} for r in rows]
    only_human[0]["decided_by_human"] = "false"
    f = pick(
        _run(_package(tmp_path / "h", only_human), "ACC-01"), "ACC-01", requirement="human_decision"
    )
    assert (f.status, f.data["units"], f.data["breached"]) == (Status.FAIL, 2, 1)
    neither = [{k: v for k, v in r.items() if k not in ("automated", "decided_by_human")}
               for r in rows]  # fmt: skip
    f = pick(
        _run(_package(tmp_path / "n", neither), "ACC-01"), "ACC-01", requirement="human_decision"
    )
    assert f.missing == ("account_actions.decided_by_human", "account_actions.automated")


def test_limits_count_real_hours_across_a_clock_change(tmp_path: Path) -> None:
    """Berlin moves its clocks forward on 2026-03-29: 12:00 on the 28th to 12:30 on the
    29th is 23.5 hours, within a day (the wall clocks say 24.5)."""
    action = _action(
        "w1",
        "suspension",
        2,
        started_at="2026-03-28T12:00:00+01:00",
        explained_at="2026-03-29T12:30:00+02:00",
    )
    result = _run(_package(tmp_path, [action]), "ACC-01", audit={"timezone": "Europe/Berlin"})
    f = pick(result, "ACC-01", requirement="explanation")
    assert (f.status, f.data["units"], f.data["breached"]) == (Status.PASS, 1, 0)
    assert f.data["median_days_to_answer"] == pytest.approx(23.5 / 24)


def test_a_scheduled_end_does_not_move_the_exports_day(tmp_path: Path) -> None:
    """A suspension scheduled to end in December, appealed on 5 March and not reviewed:
    the latest thing that happened is the appeal, so it is not yet due."""
    action = _action(
        "w1", "suspension", 4, ended_at="2026-12-31T00:00:00+08:00", appealed_at=DAY.format(5)
    )
    f = pick(_run(_package(tmp_path, [action]), "ACC-01"), "ACC-01", requirement="review")
    assert (f.status, f.data["units"], f.data["not_yet_due"]) == (Status.INCONCLUSIVE, 0, 1)


def test_median_of_fewer_than_k_answers_is_withheld(tmp_path: Path) -> None:
    """Ten workers' suspensions, one explained: the median would be that worker's time."""
    actions = [_action(f"w{i}", "suspension", 2, explained_at="") for i in range(10)]
    actions.append(_action("w99", "suspension", 2, explained_at="2026-03-02T19:36:00+08:00"))
    config = AuditConfig.from_dict({"accountability": {"as_of": "2026-03-10"}})
    f = pick(
        audit(_package(tmp_path, actions), config, checks=["ACC-01"]),
        "ACC-01",
        requirement="explanation",
    )
    assert f.data["units"] == 11 and f.data["breached"] == 10
    assert f.data["median_days_to_answer"] is None and f.estimate == pytest.approx(10 / 11)
    assert "Median" not in f.detail


def test_compliant_actions_pass_and_missing_columns_are_named(tmp_path: Path) -> None:
    actions = [_action(f"w{i}", "suspension", 2 + i) for i in range(3)]
    result = _run(_package(tmp_path, actions), "ACC-01")
    human = pick(result, "ACC-01", requirement="human_decision")
    explained = pick(result, "ACC-01", requirement="explanation")
    review = pick(result, "ACC-01", requirement="review")
    assert (human.status, explained.status) == (Status.PASS, Status.PASS)
    assert human.detail == "Every restrictive account action was decided by a person."
    assert review.status == Status.INCONCLUSIVE  # nothing was appealed
    assert review.detail == "The package records no appealed account actions."
    # Columns a requirement needs, absent from the file: that requirement is not assessed.
    bare = [
        {k: v for k, v in a.items() if k not in ("explained_at", "appealed_at")} for a in actions
    ]
    result = _run(_package(tmp_path / "bare", bare), "ACC-01")
    assert pick(result, "ACC-01", requirement="human_decision").status == Status.PASS
    explained = pick(result, "ACC-01", requirement="explanation")
    assert explained.status == Status.NOT_ASSESSED
    assert explained.missing == ("account_actions.explained_at",)
    assert pick(result, "ACC-01", requirement="review").missing == ("account_actions.appealed_at",)


def test_without_the_tables_both_checks_are_not_assessed(tmp_path: Path) -> None:
    result = audit(_package(tmp_path), AuditConfig(), checks=["ACC-01", "CMP-01"])
    assert [(f.check, f.status, f.missing) for f in result.findings] == [
        ("ACC-01", Status.NOT_ASSESSED, ("account_actions",)),
        ("CMP-01", Status.NOT_ASSESSED, ("complaints",)),
    ]


def test_complaints_by_category_with_small_categories_pooled(tmp_path: Path) -> None:
    """complaint_days = 14; k = 2. Categories compare in lower case. "safety" (one worker)
    is pooled; a pool of one worker would give it away (the total minus the labels shown),
    so the smallest label shown, "deduction", joins the pool. One worker breached in "pay":
    every label's breached count is withheld, or it could be worked out from the total."""
    complaints = [
        _complaint(1, "w1", 1, 3, "pay"),
        _complaint(2, "w2", 1, 16, "Pay"),  # 15 days: late
        _complaint(3, "w3", 1, None, "deduction"),  # overdue by the export's day
        _complaint(4, "w4", 2, 4, "deduction"),
        _complaint(5, "w5", 2, 5, "safety"),
        _complaint(6, "w6", 20, None, ""),  # not yet due (the latest time in the table)
    ]
    result = audit(
        _package(tmp_path, complaints=complaints),
        AuditConfig.from_dict({"report": {"min_cell_workers": 2}}),
        checks=["CMP-01"],
    )
    f = pick(result, "CMP-01")
    assert f.status == Status.FAIL
    assert (f.data["units"], f.data["breached"], f.data["workers_affected"]) == (5, 2, 2)
    assert f.data["breached_unanswered"] is None  # one worker's complaint
    assert f.data["not_yet_due"] is None  # one worker's complaint
    assert f.data["suppressed"] is False  # the share and the count of breaches stand
    assert f.data["by_category"] == {
        "labels": {"pay": {"units": 2, "breached": None, "share_breached": None}},
        "other": {"units": 3, "breached": None, "share_breached": None, "labels": 2},
    }
    assert f.estimate == pytest.approx(0.4)
    assert (
        "2 of 5 complaints (40.0%) were not resolved within 14 days of being received, some "
        "of them unresolved by the export's day (fewer than 2 workers: not published)" in f.detail
    )


def test_a_missing_category_is_its_own_label(tmp_path: Path) -> None:
    complaints = [_complaint(i, f"w{i}", 1, 20, "") for i in range(3)]
    complaints += [_complaint(10 + i, f"v{i}", 1, 2, "(none)") for i in range(3)]
    f = pick(_run(_package(tmp_path, complaints=complaints), "CMP-01"), "CMP-01")
    assert f.data["by_category"]["labels"] == {
        "": {"units": 3, "breached": 3, "share_breached": 1.0},
        "(none)": {"units": 3, "breached": 0, "share_breached": 0.0},
    }


def test_complaints_under_k_workers_publish_no_count(tmp_path: Path) -> None:
    complaints = [_complaint(i, f"w{i}", 1, None if i < 2 else 3, "pay") for i in range(12)]
    complaints.append(_complaint(99, "w99", 25, 26, "pay"))
    f = pick(
        audit(_package(tmp_path, complaints=complaints), AuditConfig(), checks=["CMP-01"]),
        "CMP-01",
    )
    assert f.status == Status.FAIL
    assert f.estimate is None and f.data["suppressed"] is True
    assert f.data["breached"] is None and f.data["workers_affected"] is None
    assert f.data["units"] == 13  # 13 workers: the total is published
    assert f.detail.startswith("Some complaints of fewer than 10 workers were not resolved")


def test_new_tables_are_validated(tmp_path: Path) -> None:
    """Time order in both tables, the closed list of actions and outcomes, and the
    composite key of account_actions (worker, action, start)."""
    actions = [
        _action("w1", "suspension", 2, ended_at=DAY.format(1)),
        _action("w2", "suspension", 2, appealed_at=DAY.format(5), reviewed_at=DAY.format(4)),
        _action("w3", "ban", 2),
        _action("w4", "suspension", 2, outcome="upheld"),
        _action("w5", "suspension", 2),
        _action("w5", "suspension", 2, reason="another"),
    ]
    complaints = [_complaint(1, "w1", 5, 4, "pay"), _complaint(2, "w2", 5, 6, "pay")]
    result = audit(_package(tmp_path, actions, complaints), AuditConfig(), checks=["DQ-01"])
    actions_table = result.tables["account_actions"]
    assert actions_table.rows_read == 6
    assert actions_table.quarantined_by_reason == {
        "conflicting_id": 2,
        "invalid_category": 2,
        "time_order": 2,
    }
    assert actions_table.rows_used == 0
    complaints_table = result.tables["complaints"]
    assert (complaints_table.rows_used, complaints_table.quarantined_by_reason) == (
        1,
        {"time_order": 1},
    )


def _simulated(tmp: Path, plants: tuple[str, ...]) -> tuple[Path, dict[str, Any]]:
    spec = SimulationSpec(
        workers=200,
        days=28,
        seed=5,
        demand_scale=0.2,
        account_action_rate=3.0,
        complaint_rate=3.0,
        plants=plants,
        plant_options=PlantOptions(acc01_action_share=0.2, cmp01_complaint_share=0.1),
    )
    package = simulate(spec)
    folder = write_package(package, tmp / "sim", fmt="csv")
    return folder, package.ground_truth


def test_simulated_platform_keeps_every_rule_without_a_plant(tmp_path: Path) -> None:
    folder, _ = _simulated(tmp_path, ())
    result = audit(folder, AuditConfig(), checks=["ACC-01", "CMP-01"])
    assert [f.status for f in result.findings] == [Status.PASS] * 4
    assert all(f.data["units"] > 50 for f in result.findings)


def test_simulated_breaches_are_found_as_planted(tmp_path: Path) -> None:
    folder, truth = _simulated(tmp_path, ("ACC-01", "CMP-01"))
    config = AuditConfig.from_dict(EVERY_CELL)  # counts compared exactly, small or not
    result = audit(folder, config, checks=["ACC-01", "CMP-01"])
    expected = truth["plants"]["ACC-01"]["truth"]
    for requirement in ("human_decision", "explanation", "review"):
        f = pick(result, "ACC-01", requirement=requirement)
        want = expected[requirement]
        assert f.status == Status.FAIL
        assert want["breached"] > 0
        got = {key: f.data[key] for key in ("units", "breached", "workers_affected")}
        assert got == want, requirement
    f = pick(result, "CMP-01")
    assert f.status == Status.FAIL
    got = {key: f.data[key] for key in ("units", "breached", "workers_affected")}
    assert got == truth["plants"]["CMP-01"]["truth"]


# ---------------------------------------------------------------- ACC-02


def test_action_rates_are_per_online_hour_within_the_week(tmp_path: Path) -> None:
    """Two women online 10 h and 20 h, two men 10 h and 10 h, in the week of 2 March. The
    women were suspended or deactivated 4 times, the men twice, one of them deactivated
    two weeks later, when he was no longer online: that action counts in his last online
    week. Per online hour, 4/30 against 2/20. A fifth worker, never online, is counted
    and left out."""
    folder = _package(
        tmp_path,
        actions=[
            _action("w1", "suspension", 3),
            _action("w1", "deactivation", 4),
            _action("w2", "suspension", 4),
            _action("w2", "suspension", 5),
            _action("w3", "suspension", 5),
            _action("w3", "warning", 5),  # not compared
            _action("w4", "deactivation", 20),  # after his last online week
            _action("w5", "suspension", 5),  # never online
        ],
    )
    people = (("w1", "F"), ("w2", "F"), ("w3", "M"), ("w4", "M"), ("w5", "M"))
    write_csv(folder, "workers", [{"worker_id": w, "gender": g} for w, g in people])
    online = {"w1": 10, "w2": 20, "w3": 10, "w4": 10}
    write_csv(
        folder,
        "sessions",
        [
            {
                "worker_id": w,
                "online_at": "2026-03-03T00:00:00+08:00",
                "offline_at": f"2026-03-03T{h:02d}:00:00+08:00",
            }
            for w, h in online.items()
        ],
    )
    fairness = {"protected_attributes": ["gender"], "reference_groups": {"gender": "M"}}
    config = AuditConfig.from_dict(EVERY_CELL | {"fairness": fairness})
    f = pick(audit(folder, config, checks=["ACC-02"]), "ACC-02", metric="action_rate_ratio")
    assert f.subject == {"attribute": "gender", "group": "F", "reference": "M"}
    assert f.estimate == pytest.approx((4 / 30) / (2 / 20))
    assert f.data["actions"] == 7
    assert f.data["actions_of_workers_never_online"] == 1
    assert "Not counted: 1 actions of workers never online in the package." in f.detail


def test_pending_reviews_are_not_decided_appeals(tmp_path: Path) -> None:
    """A reviewed appeal counts only with an outcome that decided it: the women's reviews
    are all pending or blank, so there is nothing of theirs to compare, and no fail."""
    reviewed = {"appealed_at": DAY.format(6), "reviewed_at": DAY.format(7)}
    actions = [
        _action(f"f{i}", "suspension", 5, **reviewed, outcome="pending" if i % 2 else "")
        for i in range(6)
    ] + [
        _action(f"m{i}", "suspension", 5, **reviewed, outcome="reversed" if i % 2 else "confirmed")
        for i in range(6)
    ]
    folder = _package(tmp_path, actions=actions)
    people = [(f"f{i}", "F") for i in range(6)] + [(f"m{i}", "M") for i in range(6)]
    write_csv(folder, "workers", [{"worker_id": w, "gender": g} for w, g in people])
    write_csv(
        folder,
        "sessions",
        [
            {"worker_id": w, "online_at": DAY.format(3), "offline_at": DAY.format(4)}
            for w, _ in people
        ],
    )
    config = AuditConfig.from_dict(EVERY_CELL | {"fairness": {"protected_attributes": ["gender"]}})
    result = audit(folder, config, checks=["ACC-02"])
    appeals = [f for f in result.findings if f.metric == "reinstatement_ratio"]
    assert all(f.status != Status.FAIL for f in appeals)
    assert all(f.subject.get("group") != "F" or f.estimate is None for f in appeals)


def _acc02_package(tmp: Path, plants: tuple[str, ...]) -> tuple[Path, dict[str, Any]]:
    spec = SimulationSpec(
        workers=400, days=28, seed=3, demand_scale=0.2, account_action_rate=2.0, plants=plants
    )
    package = simulate(spec)
    return write_package(package, tmp / "sim", fmt="parquet"), package.ground_truth


def test_group_suspended_twice_as_often_fails_and_a_fair_platform_does_not(
    tmp_path: Path,
) -> None:
    folder, truth = _acc02_package(tmp_path, ("ACC-02",))
    result = audit(folder, AuditConfig(), checks=["ACC-02"])
    f = pick(result, "ACC-02", metric="action_rate_ratio", attribute="gender", group="F")
    realised = truth["plants"]["ACC-02"]["truth"]["rate_ratio_realised"]
    assert f.status == Status.FAIL
    assert f.ci is not None and f.ci[0] > 1 / 0.95 and f.ci[0] < realised < f.ci[1]
    others = [g for g in result.findings if g is not f]
    assert all(g.status != Status.FAIL for g in others)
    fair, _ = _acc02_package(tmp_path / "fair", ())
    assert all(
        g.status != Status.FAIL for g in audit(fair, AuditConfig(), checks=["ACC-02"]).findings
    )
