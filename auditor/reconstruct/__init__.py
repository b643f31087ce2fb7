"""Stage 3, reconstruct: per-order take rates and engaged time; per worker-day and
worker-week pay, deductions, engaged and online hours, and effective hourly earnings."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from auditor.config import AuditConfig
from auditor.contract import ValidatedPackage
from auditor.engine import Engine
from auditor.reconstruct._aggregates import AGGREGATE_NAMES, aggregate_frames
from auditor.reconstruct._indicators import INDICATOR_COLUMNS, labour_indicators, per_worker
from auditor.reconstruct._orders import enrich_orders
from auditor.reconstruct._panels import PANEL_MONEY, worker_days, worker_periods, worker_weeks
from auditor.reconstruct._statistics import STATISTICS_COLUMNS, platform_statistics
from auditor.reconstruct._time import engaged_islands, online_sessions
from auditor.schema import RESTRICTIVE_ACTIONS

__all__ = [
    "AGGREGATE_NAMES",
    "INDICATOR_COLUMNS",
    "PANEL_MONEY",
    "STATISTICS_COLUMNS",
    "Reconstruction",
    "aggregate_frames",
    "indicators_frame",
    "panel_frames",
    "platform_statistics",
    "reconstruct",
    "statistics_frame",
]


_NOT_STORED = frozenset({"requested_at", "pickup_at", "dropoff_zone", "approach_km"})
"""Order columns no check reads after reconstruction; left out of ``rc_orders`` (writing
10 M rows is most of the reconstruction's time). The file's extra columns stay."""


@dataclass(frozen=True, slots=True, eq=False)
class Reconstruction:
    """Engine tables rebuilt from the validated package (materialized).

    Attributes:
        orders: validated orders plus derived columns (fare_base, platform_take, take rates,
            engaged_minutes, local_date, local_hour, week_start, expense, credited, ...).
        islands: engaged islands (union of accept-to-dropoff intervals per worker).
        sessions: sessions with online_hours and local_date; None without a sessions table.
        worker_days: per worker and local date: orders, money, engaged and online hours.
        worker_weeks: per worker and week: sums and hourly earnings on each basis.
        worker_periods: per pay statement (worker and payout period): the same sums and
            hourly earnings, beside ``net_paid``; None without a payouts table.
    """

    orders: Table
    islands: Table
    sessions: Table | None
    worker_days: Table
    worker_weeks: Table
    worker_periods: Table | None = None


def reconstruct(engine: Engine, package: ValidatedPackage, config: AuditConfig) -> Reconstruction:
    """Build the reconstruction tables in the engine."""
    enriched = enrich_orders(package.tables["orders"].table, config)
    present = package.tables["orders"].columns_present
    # SVC-01 reads request and pickup times, where the package says which requests asked
    # for an accessible vehicle.
    wanted = {"requested_at", "pickup_at"} if "accessible_requested" in present else set()
    keep = [c for c in enriched.columns if c not in _NOT_STORED - wanted]
    orders = engine.materialize("rc_orders", enriched.select(*keep))
    # Without worker IDs (a preset of public records) there is no worker to build engaged
    # islands or panels for: they are empty, not one giant worker of every order.
    worked = orders if "worker_id" in present else orders.filter(ibis.literal(False))
    islands = engine.materialize("rc_islands", engaged_islands(worked))
    sessions = None
    if "sessions" in package.tables:
        sessions = engine.materialize(
            "rc_sessions", online_sessions(package.tables["sessions"].table)
        )
    deductions = package.tables["deductions"].table if "deductions" in package.tables else None
    days = engine.materialize("rc_worker_days", worker_days(worked, islands, sessions, deductions))
    weeks = engine.materialize("rc_worker_weeks", worker_weeks(days, config))
    periods = None
    if "payouts" in package.tables:
        periods = engine.materialize(
            "rc_worker_periods",
            worker_periods(worked, days, package.tables["payouts"].table, config),
        )
    return Reconstruction(
        orders=orders,
        islands=islands,
        sessions=sessions,
        worker_days=days,
        worker_weeks=weeks,
        worker_periods=periods,
    )


def panel_frames(rebuilt: Reconstruction | None) -> dict[str, pd.DataFrame]:
    """The worker-day, worker-week and worker-period panels as DataFrames (money as
    float64, counts as int64), sorted by worker and date; empty frames when a panel was
    not built."""
    names = ("worker_days", "worker_weeks", "worker_periods")
    if rebuilt is None:
        return {name: pd.DataFrame() for name in names}
    out: dict[str, pd.DataFrame] = {}
    for name, date_col in zip(names, ("local_date", "week_start", "period_start"), strict=True):
        table = getattr(rebuilt, name)
        if table is None:
            out[name] = pd.DataFrame()
            continue
        counts = ("orders", "orders_completed", "days_active")
        casts = {
            c: table[c].cast("int64" if c in counts else "float64")
            for c, t in table.schema().items()
            if t.is_decimal() or t.is_integer()
        }
        ordered = table.mutate(**casts).order_by(["worker_id", date_col])
        out[name] = ordered.to_pyarrow().to_pandas()
    return out


def statistics_frame(
    panels: dict[str, pd.DataFrame], package: ValidatedPackage, config: AuditConfig
) -> pd.DataFrame:
    """The platform-work statistics (``_statistics``) of an audit: from its panels and the
    workers' ``joined_on`` where the workers table has it."""
    joined = None
    workers = package.tables.get("workers")
    if workers is not None and "joined_on" in workers.columns_present:
        frame = workers.table.select("worker_id", "joined_on").to_pyarrow().to_pandas()
        joined = frame.drop_duplicates("worker_id").set_index("worker_id")["joined_on"]
    return platform_statistics(
        panels.get("worker_days", pd.DataFrame()),
        panels.get("worker_weeks", pd.DataFrame()),
        joined,
        min_cell_workers=config.report.min_cell_workers,
    )


def indicators_frame(
    panels: dict[str, pd.DataFrame], package: ValidatedPackage, config: AuditConfig
) -> pd.DataFrame:
    """The labour-management indicators by worker group (``_indicators``) of an audit: per
    worker from its panels and the offers, deductions and account actions tables (each
    counted in the engine), grouped by the workers table's protected attributes; empty
    without a workers table or panels."""
    days, weeks = panels.get("worker_days"), panels.get("worker_weeks")
    workers = package.tables.get("workers")
    if workers is None or days is None or days.empty or weeks is None:
        return labour_indicators(pd.DataFrame(), pd.DataFrame(), min_cell_workers=1)
    tables = package.tables
    counts: dict[str, pd.Series] = {}

    def per_worker_counts(table: Table, **aggregates: object) -> pd.DataFrame:
        return table.group_by("worker_id").aggregate(**aggregates).to_pyarrow().to_pandas()

    if "offers" in tables:
        o = tables["offers"].table
        f = per_worker_counts(
            o,
            offers=o.count(),
            declined=o.response.isin(["declined", "expired"]).cast("int64").sum(),
        ).set_index("worker_id")
        counts["offers"], counts["declined"] = f["offers"], f["declined"]
    if "deductions" in tables and "category" in tables["deductions"].columns_present:
        d = tables["deductions"].table
        f = per_worker_counts(
            d, penalties=(d.category.lower() == "penalty").cast("int64").sum()
        ).set_index("worker_id")
        counts["penalties"] = f["penalties"]
    if "account_actions" in tables:
        a = tables["account_actions"].table
        f = per_worker_counts(
            a, restrictive=a.action.isin(list(RESTRICTIVE_ACTIONS)).cast("int64").sum()
        ).set_index("worker_id")
        counts["restrictive"] = f["restrictive"]
    indicators = per_worker(days, weeks, counts, config.hours.max_daily_online_hours)
    present = [
        a for a in config.fairness.protected_attributes
        if a in {*workers.columns_present, *workers.extra_columns} and a != "worker_id"
    ]  # fmt: skip
    w = workers.table
    frame = (
        w.select("worker_id", **{a: w[a].cast("string") for a in present})
        .distinct(on="worker_id")
        .to_pyarrow()
        .to_pandas()
        .set_index("worker_id")
    )
    return labour_indicators(indicators, frame, min_cell_workers=config.report.min_cell_workers)
