"""PAY-01: effective hourly earnings against the minimum wage.

Unit: the worker-week (Monday to Sunday, local time) with at least ``[earnings]
min_week_engaged_hours`` engaged hours. Earnings are credits (pay + incentive +
tip to the worker) minus itemised deductions minus vehicle expense
(``expense_per_km`` x km driven, approach included). Three time bases:

- ``engaged``: the union of accept-to-dropoff intervals (stacked orders once);
- ``online``: session time (needs the sessions table);
- ``engaged_allowance``: engaged time plus ``engaged_allowance_minutes_per_order``
  per completed order.

The decision uses ``[earnings] decide_basis``. The estimate is the share of
worker-weeks below the minimum; its confidence interval is a percentile
bootstrap that resamples **workers** (all of a worker's weeks together), since
weeks of one worker are not independent. ``fail`` when the interval lies above
``tolerated_share_below``, ``pass`` when it lies at or below it, else
``inconclusive``. The shortfall is what would lift every week below to the
minimum: the sum of ``minimum x hours - earnings`` over those weeks.

Small cells: with fewer than ``[report] min_cell_workers`` workers below the minimum, the
verdict stands but the share, its interval, the counts and the shortfall are withheld
(``data.suppressed``); so is each sensitivity row whose workers below are that few, and,
when all the workers assessed are that few, every total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import basis
from auditor.checks._registry import register
from auditor.checks._small_cells import small_cell, withheld

__all__ = ["BASES", "MinimumWage", "share_below", "worker_bootstrap_ci"]

BASES = ("engaged", "online", "engaged_allowance")
"""Time bases of effective hourly earnings."""

_BOOTSTRAP = 2000


def _hours(weeks: pd.DataFrame, basis_name: str, allowance_minutes: float) -> pd.Series:
    if basis_name == "engaged":
        return weeks["engaged_hours"]
    if basis_name == "online":
        return weeks["online_hours"]
    return weeks["engaged_hours"] + weeks["orders_completed"] * allowance_minutes / 60.0


def share_below(
    weeks: pd.DataFrame,
    basis_name: str,
    minimum: float,
    expense_per_km: float,
    allowance_minutes: float,
) -> tuple[pd.DataFrame, float, float]:
    """Worker-weeks assessable on a basis, with ``below`` and ``shortfall`` columns;
    the share below and the total shortfall (currency)."""
    hours = _hours(weeks, basis_name, allowance_minutes)
    earnings = weeks["net_earnings"] - expense_per_km * weeks["km"]
    ok = hours.notna() & (hours > 0)
    frame = pd.DataFrame(
        {"worker_id": weeks["worker_id"][ok], "hours": hours[ok], "earnings": earnings[ok]}
    )
    frame["below"] = frame["earnings"] < minimum * frame["hours"]
    frame["shortfall"] = (minimum * frame["hours"] - frame["earnings"]).clip(lower=0.0)
    share = float(frame["below"].mean()) if len(frame) else float("nan")
    return frame, share, float(frame["shortfall"].sum())


def worker_bootstrap_ci(
    worker: pd.Series, below: pd.Series, level: float, seed: int, replicates: int = _BOOTSTRAP
) -> tuple[float, float]:
    """Percentile CI of the share of ``below`` units, resampling workers with replacement."""
    per = pd.DataFrame({"w": worker.to_numpy(), "b": below.to_numpy(dtype=float)})
    grouped = per.groupby("w", sort=True)["b"].agg(["sum", "count"])
    hits = grouped["sum"].to_numpy()
    units = grouped["count"].to_numpy(dtype=float)
    n = len(hits)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    shares = np.empty(replicates)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        shares[start:stop] = hits[idx].sum(axis=1) / units[idx].sum(axis=1)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(shares, [tail, 1.0 - tail])
    return float(lo), float(hi)


def _sensitivity(
    weeks: pd.DataFrame, minimum: float, expenses: list[float], allow: float, k: int
) -> list[dict[str, Any]]:
    """Share below and shortfall on every basis with data, at each expense per km, with the
    workers below; a row's numbers are None where its workers below, or all its workers,
    are fewer than ``k`` (``[report] min_cell_workers``)."""
    rows = []
    for b in BASES:
        if b == "online" and weeks["online_hours"].isna().all():
            continue
        for e in expenses:
            frame, share, shortfall = share_below(weeks, b, minimum, e, allow)
            below = int(frame.loc[frame["below"], "worker_id"].nunique())
            hide = small_cell(below, k) or small_cell(int(frame["worker_id"].nunique()), k)
            rows.append(
                {
                    "basis": b,
                    "expense_per_km": e,
                    "share_below": None if hide else share,
                    "shortfall": None if hide else shortfall,
                    "workers_below": None if hide else below,
                }
            )
    return rows


def _verdict_words(status: Status, tolerated: float) -> str:
    """The verdict in words, for a finding whose share below is withheld."""
    share = "The share of worker-weeks below the minimum"
    if status == Status.FAIL:
        return f"{share} is above the tolerated {tolerated:.0%} (its interval lies above it)."
    if status == Status.PASS:
        return f"{share} is within the tolerated {tolerated:.0%}."
    return (
        f"Whether {share[0].lower()}{share[1:]} exceeds the tolerated {tolerated:.0%} is "
        "undecided: more workers or weeks would decide it."
    )


@register
class MinimumWage:
    """PAY-01: effective hourly earnings, net of expenses and deductions, below the minimum."""

    id: ClassVar[str] = "PAY-01"
    title: ClassVar[str] = "Effective hourly earnings reach the minimum wage"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        cfg = context.config.earnings
        decide = cfg.decide_basis
        if decide == "online" and "sessions" not in context.package.tables:
            return [
                Finding(
                    check=self.id,
                    status=Status.NOT_ASSESSED,
                    title=self.title,
                    missing=("sessions",),
                    detail="The deciding basis is online time, and the package has no sessions.",
                )
            ]
        w = context.rebuilt.worker_weeks
        w = w.filter(w.engaged_hours >= cfg.min_week_engaged_hours)
        weeks = (
            w.select(
                "worker_id",
                "week_start",
                engaged_hours=w.engaged_hours.cast("float64"),
                online_hours=w.online_hours.cast("float64"),
                orders_completed=w.orders_completed.cast("float64"),
                orders=w.orders.cast("int64"),
                km=w.km.cast("float64"),
                net_earnings=w.net_earnings.cast("float64"),
            )
            .order_by(["worker_id", "week_start"])
            .to_pyarrow()
            .to_pandas()
        )
        minimum = cfg.minimum_hourly_wage
        allow = cfg.engaged_allowance_minutes_per_order
        frame, share, shortfall = share_below(weeks, decide, minimum, cfg.expense_per_km, allow)
        currency = context.config.audit.currency
        tolerated = cfg.tolerated_share_below
        if frame.empty:
            return [
                Finding(
                    check=self.id,
                    status=Status.INCONCLUSIVE,
                    title=self.title,
                    metric="share_of_worker_weeks_below_minimum",
                    threshold=tolerated,
                    basis=basis(context, self.id),
                    detail=(
                        f"No worker-week has {cfg.min_week_engaged_hours} engaged hours or more "
                        f"with {decide} time recorded; it needs such weeks."
                    ),
                )
            ]
        level = 1.0 - context.config.audit.alpha
        lo, hi = worker_bootstrap_ci(
            frame["worker_id"], frame["below"], level, context.config.audit.seed
        )
        k = context.config.report.min_cell_workers
        below_workers = int(frame.loc[frame["below"], "worker_id"].nunique())
        n_workers = int(frame["worker_id"].nunique())
        few = small_cell(n_workers, k)
        hide = few or small_cell(below_workers, k)
        expenses = sorted({0.0, 0.3, 0.6, float(cfg.expense_per_km)})
        sensitivity = _sensitivity(weeks, minimum, expenses, allow, k)
        if lo > tolerated:
            status = Status.FAIL
            severity = (
                Severity.HIGH
                if share >= 0.25
                else Severity.MEDIUM
                if share >= 0.10
                else Severity.LOW
            )
        elif hi <= tolerated:
            status, severity = Status.PASS, Severity.INFO
        else:
            status, severity = Status.INCONCLUSIVE, Severity.INFO
        below_words = f"than {minimum:g} {currency}/h on {decide} time"
        net = "net of expenses and deductions"
        if few:
            detail = (
                f"The worker-weeks assessed are of fewer than {k} workers: no share, count or "
                "amount of them is published ([report] min_cell_workers)."
            )
        elif hide:
            detail = (
                f"Fewer than {k} workers earned less {below_words} in a week, {net}; their "
                "share of worker-weeks, its interval, their number and the shortfall are not "
                "published ([report] min_cell_workers)."
            )
        else:
            detail = (
                f"{share:.1%} of {len(frame)} worker-weeks (CI {lo:.1%} to {hi:.1%}) earned "
                f"less {below_words}, {net}; {below_workers} workers, shortfall "
                f"{shortfall:,.2f} {currency}."
            )
        if hide:
            detail += " " + _verdict_words(status, tolerated)
        elif status == Status.INCONCLUSIVE:
            detail += (
                f" The interval straddles the tolerated share {tolerated:.0%}: more workers or "
                "weeks would decide it."
            )
        data = {
            "minimum_hourly_wage": minimum,
            "worker_weeks": None if few else len(frame),
            "worker_weeks_below": int(frame["below"].sum()),
            "workers_below": below_workers,
            "shortfall_total": shortfall,
            "median_hourly": (
                None if few else float((frame["earnings"] / frame["hours"]).median())
            ),
            "bootstrap": {"replicates": _BOOTSTRAP, "resampled": "workers"},
            "sensitivity": sensitivity,
        }
        keys = ("worker_weeks_below", "workers_below", "shortfall_total")
        return [
            Finding(
                check=self.id,
                status=status,
                severity=severity,
                title=self.title,
                metric="share_of_worker_weeks_below_minimum",
                estimate=None if hide else share,
                ci=None if hide else (lo, hi),
                threshold=tolerated,
                subject={"basis": decide},
                n_workers=None if few else n_workers,
                n_orders=None if few else int(weeks["orders"].sum()),
                basis=basis(context, self.id),
                detail=detail,
                data=withheld(data, keys, hide, k),
            )
        ]
