"""Plotly figures of an audit, drawn from aggregates only.

Every figure is built from per-cell counts or quantiles in which each cell has at least
``[report] min_cell_workers`` distinct workers; smaller cells are dropped and counted, so
that the caption can say how many were suppressed. A cell whose workers are not known
(PRC-02's leads of a service without ``lead_workers_by_service``) counts as small. Values
are drawn to the 12 significant digits that ``findings.json`` reports
(:func:`auditor.checks.reported_float`), so that a rerun draws the same figures although
float sums in the engine differ in their last bits. Strings that came from the data
(group names, services) are HTML-escaped before plotly sees them: plotly renders a few
tags inside labels, and a group called ``<b>`` must show as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from auditor.findings import Finding, Status, reported_float
from auditor.report._labels import Labels
from auditor.stats._quantiles import safe_quantile

if TYPE_CHECKING:
    from auditor.findings import AuditResult

__all__ = ["FIGURE_NAMES", "Figure", "build_figures"]

FIGURE_NAMES = (
    "take_rate_distribution", "daily_take_rate", "hourly_earnings", "online_hours",
    "fairness_forest", "pricing_forest", "price_leads",
)  # fmt: skip
"""Names of the figures :func:`build_figures` may return, in report order."""

RATIO_CHECKS = ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "DED-01", "ACC-02")
"""Group-disparity checks drawn in the fairness forest plot."""

_STATUS_COLOUR = {
    Status.FAIL: "#c0392b",
    Status.PASS: "#2e7d32",
    Status.INCONCLUSIVE: "#7f8c8d",
    Status.NOT_ASSESSED: "#bdbdbd",
}
_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 380,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "font": {"family": "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"},
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One report figure.

    Attributes:
        name: one of :data:`FIGURE_NAMES`.
        figure: the plotly figure.
        suppressed: cells left out because they had fewer than ``min_workers`` workers.
        min_workers: the suppression threshold used.
    """

    name: str
    figure: go.Figure
    suppressed: int
    min_workers: int

    @property
    def empty(self) -> bool:
        """True when the figure's data trace (always the first) has no point to draw:
        every cell was suppressed."""
        if not self.figure.data:
            return True
        first = self.figure.data[0]
        if getattr(first, "median", None) is not None:  # a box drawn from quantiles
            return False
        x = getattr(first, "x", None)
        return x is None or len(x) == 0


def build_figures(result: AuditResult, words: Labels) -> dict[str, Figure]:
    """The figures this result supports, keyed by name (a figure whose data is absent,
    e.g. online hours without a sessions table, is left out)."""
    k = int(result.config.get("report", {}).get("min_cell_workers", 10))
    makers = (
        _take_rate_distribution,
        _daily_take_rate,
        _hourly_earnings,
        _online_hours,
        _fairness_forest,
        _pricing_forest,
        _price_leads,
    )
    out: dict[str, Figure] = {}
    for make in makers:
        made = make(result, words, k)
        if made is not None:
            out[made.name] = made
    return out


def _take_rate_distribution(result: AuditResult, words: Labels, k: int) -> Figure | None:
    bins = result.aggregates.get("take_rate_bins")
    if bins is None or bins.empty:
        return None
    shown = bins[bins["workers"] >= k]
    fig = go.Figure(
        go.Bar(
            x=(shown["bin_low"] + 0.005) * 100,
            y=shown["orders"],
            width=1.0,
            marker_color="#4c72b0",
            customdata=shown["workers"],
            hovertemplate="%{x:.0f}%: %{y} "
            + words("orders")
            + ", %{customdata} "
            + words("workers")
            + "<extra></extra>",
        )
    )
    for cap in _caps(result):
        fig.add_vline(x=100 * cap, line_dash="dash", line_color="#c0392b")
        fig.add_annotation(x=100 * cap, y=1, yref="paper", text=words("cap"), showarrow=False,
                           xanchor="left", font={"color": "#c0392b"})  # fmt: skip
    fig.update_layout(
        title=words("take_rate_hist"),
        xaxis_title=words("take_rate") + " (%)",
        yaxis_title=words("orders"),
        **_LAYOUT,
    )
    return Figure("take_rate_distribution", fig, int(len(bins) - len(shown)), k)


def _daily_take_rate(result: AuditResult, words: Labels, k: int) -> Figure | None:
    daily = result.aggregates.get("daily_take_rate")
    if daily is None or daily.empty:
        return None
    shown = daily[daily["workers"] >= k]
    dates = [str(d)[:10] for d in shown["local_date"]]
    fig = go.Figure(
        go.Scatter(
            x=dates, y=_reported(shown["take_rate"] * 100), mode="lines+markers",
            name=words("daily_raw"),
            line={"color": "#4c72b0"},
        )
    )  # fmt: skip
    index = _fee04_index(result.findings)
    if index is not None:
        keep = set(dates)
        rows = [r for r in index if str(r["date"])[:10] in keep]
        fig.add_trace(
            go.Scatter(
                x=[str(r["date"])[:10] for r in rows],
                y=_reported(100 * r["index"] for r in rows),
                mode="lines", name=words("mix_adjusted"), line={"color": "#dd8452"},
            )
        )  # fmt: skip
    schedule = result.aggregates.get("fee_schedule")
    if schedule is not None and not schedule.empty and dates:
        steps = _announced_steps(schedule, dates)
        if steps:
            fig.add_trace(
                go.Scatter(
                    x=[d for d, _ in steps], y=[100 * r for _, r in steps], mode="lines",
                    line={"shape": "hv", "dash": "dot", "color": "#55a868"},
                    name=words("announced_rate"),
                )
            )  # fmt: skip
    for cap in _caps(result):
        fig.add_hline(y=100 * cap, line_dash="dash", line_color="#c0392b")
    fig.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", name=words("cap"),
                   line={"dash": "dash", "color": "#c0392b"})
    )  # fmt: skip
    fig.update_layout(
        title=words("daily_take_rate"),
        xaxis_title=words("date"),
        yaxis_title=words("take_rate") + " (%)",
        legend={"orientation": "h", "y": -0.25},
        **{**_LAYOUT, "height": 420},
    )
    return Figure("daily_take_rate", fig, int(len(daily) - len(shown)), k)


def _hourly_earnings(result: AuditResult, words: Labels, k: int) -> Figure | None:
    weeks = result.worker_weeks
    if weeks.empty or "hourly_engaged" not in weeks:
        return None
    earnings = result.config.get("earnings", {})
    minimum = float(earnings.get("minimum_hourly_wage", math.nan))
    thin = float(earnings.get("min_week_engaged_hours", 0.0))
    weeks = weeks[weeks["engaged_hours"] >= thin]
    fig = go.Figure()
    suppressed = 0
    for basis in ("engaged", "online", "engaged_allowance"):
        values = weeks[["worker_id", f"hourly_{basis}"]].dropna()
        if values["worker_id"].nunique() < k:
            suppressed += 1
            continue
        x, who = values[f"hourly_{basis}"].to_numpy(), values["worker_id"].to_numpy()
        # Percentiles without k workers on each side are withheld (as statistics.csv): a
        # whisker then stops at its quartile; without the quartiles there is no box.
        safe = [safe_quantile(x, who, q, k) for q in _QUANTILES]
        if any(v is None for v in safe[1:4]):
            suppressed += 1
            continue
        safe[0] = safe[1] if safe[0] is None else safe[0]
        safe[4] = safe[3] if safe[4] is None else safe[4]
        q = _reported(np.asarray(safe, dtype=np.float64))
        fig.add_trace(
            go.Box(
                name=words(f"basis_{basis}"), lowerfence=[q[0]], q1=[q[1]], median=[q[2]],
                q3=[q[3]], upperfence=[q[4]], marker_color="#4c72b0", boxpoints=False,
            )
        )  # fmt: skip
    if not fig.data:
        return None
    if math.isfinite(minimum):
        fig.add_hline(
            y=minimum, line_dash="dash", line_color="#c0392b",
            annotation_text=words("minimum_wage"), annotation_position="top left",
        )  # fmt: skip
    fig.update_layout(
        title=words("hourly_title"),
        yaxis_title=words("hourly", currency=words.currency),
        showlegend=False,
        **_LAYOUT,
    )
    return Figure("hourly_earnings", fig, suppressed, k)


def _online_hours(result: AuditResult, words: Labels, k: int) -> Figure | None:
    days = result.worker_days
    if days.empty or "online_hours" not in days or days["online_hours"].isna().all():
        return None
    online = days.loc[days["online_hours"] > 0, ["worker_id", "online_hours"]]
    hour = np.floor(online["online_hours"].to_numpy()).astype(int)
    cells = (
        online.assign(hour=hour)
        .groupby("hour")
        .agg(worker_days=("worker_id", "size"), workers=("worker_id", "nunique"))
        .reset_index()
    )
    shown = cells[cells["workers"] >= k]
    fig = go.Figure(
        go.Bar(x=shown["hour"] + 0.5, y=shown["worker_days"], width=1.0,
               marker_color="#4c72b0", name=words("worker_days"))
    )  # fmt: skip
    limit = result.config.get("hours", {}).get("max_daily_online_hours")
    if limit is not None:
        fig.add_vline(
            x=float(limit), line_dash="dash", line_color="#c0392b",
            annotation_text=words("daily_limit"), annotation_position="top right",
        )  # fmt: skip
    fig.update_layout(
        title=words("online_title"),
        xaxis_title=words("online_hours"),
        yaxis_title=words("worker_days"),
        **_LAYOUT,
    )
    return Figure("online_hours", fig, int(len(cells) - len(shown)), k)


def _fairness_forest(result: AuditResult, words: Labels, k: int) -> Figure | None:
    return _forest(
        "fairness_forest", [f for f in result.findings if f.check in RATIO_CHECKS], result,
        words, k, words("forest_title"),
    )  # fmt: skip


def _pricing_forest(result: AuditResult, words: Labels, k: int) -> Figure | None:
    return _forest(
        "pricing_forest", [f for f in result.findings if f.check == "PRC-01"], result, words,
        k, words("price_title"),
    )  # fmt: skip


def _forest(
    name: str,
    findings: list[Finding],
    result: AuditResult,
    words: Labels,
    k: int,
    title: str,
) -> Figure | None:
    if not findings:
        return None
    drawn = [f for f in findings if f.estimate is not None and f.ci is not None]
    suppressed = sum(1 for f in findings if f.data.get("suppressed"))
    if not drawn:
        return None
    labels = [_forest_label(f) for f in drawn]
    m = float(result.config.get("fairness", {}).get("materiality", 0.05))
    cis = [_reported(f.ci) for f in drawn if f.ci is not None]
    lows = [low for low, _ in cis if low is not None and low > 0]
    highs = [high for _, high in cis if high is not None]
    # Wide intervals are clipped at 1/4 and 4 so that the material ones stay readable.
    lo = max(min([1 - m, *lows]) * 0.9, 0.25)
    hi = min(max([1 / (1 - m), *highs]) * 1.1, 4.0)

    def at(x: float | None, missing: float) -> float:
        """``x`` as drawn: within the axis (a ratio of 0, a group with no events, at its
        left edge; an infinite one at its right edge)."""
        return min(max(missing if x is None else x, lo), hi)

    fig = go.Figure()
    for status in (Status.FAIL, Status.PASS, Status.INCONCLUSIVE):
        rows = [
            (lab, reported_float(f.estimate), _reported(f.ci))
            for lab, f in zip(labels, drawn, strict=True)
            if f.status == status and f.estimate is not None and f.ci is not None
        ]
        if not rows:
            continue
        x = [at(est, hi) for _, est, _ in rows]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[lab for lab, _, _ in rows],
                mode="markers",
                name=words(str(status)),
                marker={
                    "color": _STATUS_COLOUR[status],
                    "size": 9,
                    "symbol": [
                        "triangle-left" if xi <= lo else "triangle-right" if xi >= hi else "circle"
                        for xi in x
                    ],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [at(ci[1], hi) - xi for (_, _, ci), xi in zip(rows, x, strict=True)],
                    "arrayminus": [
                        xi - at(ci[0], lo) for (_, _, ci), xi in zip(rows, x, strict=True)
                    ],
                },
            )
        )
    fig.add_vrect(x0=1 - m, x1=1 / (1 - m), fillcolor="#bdbdbd", opacity=0.35, line_width=0)
    fig.add_vline(x=1.0, line_color="#555555", line_width=1)
    fig.update_layout(
        title=title,
        xaxis={"type": "log", "title": words("ratio"), "range": [math.log10(lo), math.log10(hi)]},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": -0.2},
        **{**_LAYOUT, "height": max(260, 60 + 34 * len(drawn))},
    )
    return Figure(name, fig, suppressed, k)


def _price_leads(result: AuditResult, words: Labels, k: int) -> Figure | None:
    lead = next((f for f in result.findings if f.check == "PRC-02" and f.data), None)
    by_service = lead.data.get("leads_by_service") if lead is not None else None
    if not by_service or lead is None:
        return None
    # A service is drawn only when its leads are of at least k distinct workers; where the
    # finding does not say how many, the service is suppressed.
    workers = lead.data.get("lead_workers_by_service") or {}
    services = sorted(s for s in by_service if int(workers.get(s) or 0) >= k)
    fig = go.Figure(
        go.Bar(
            x=[html.escape(str(s)) for s in services],
            y=[by_service[s] for s in services],
            marker_color="#8172b3",
        )
    )
    fig.update_layout(title=words("leads"), yaxis_title=words("orders"), **_LAYOUT)
    return Figure("price_leads", fig, len(by_service) - len(services), k)


def _reported(values: Iterable[float]) -> list[float | None]:
    """Each value as ``findings.json`` reports it (None where not finite)."""
    return [reported_float(v) for v in values]


def _forest_label(f: Finding) -> str:
    s = f.subject
    if "group" in s:
        text = f"{f.check} {s.get('attribute', '')}: {s['group']} / {s.get('reference', '')}"
    else:
        text = f"{f.check} " + ", ".join(str(v) for v in s.values())
    if f.metric == "appeal_upheld_ratio":
        text += " (appeals)"
    return html.escape(text)


def _caps(result: AuditResult) -> list[float]:
    """Caps in force: those the fee schedule declares, else ``[fees] commission_cap``."""
    schedule = result.aggregates.get("fee_schedule")
    caps: set[float] = set()
    if schedule is not None and not schedule.empty:
        caps = {float(c) for c in schedule["commission_cap"].dropna()}
    if not caps:
        cap = result.config.get("fees", {}).get("commission_cap")
        caps = {float(cap)} if cap is not None else set()
    return sorted(caps)


def _fee04_index(findings: tuple[Finding, ...]) -> list[Mapping[str, Any]] | None:
    for f in findings:
        if f.check == "FEE-04" and f.data.get("daily_index"):
            return list(f.data["daily_index"])
    return None


def _announced_steps(schedule: pd.DataFrame, dates: list[str]) -> list[tuple[str, float]]:
    """(date, declared commission rate) of platform-wide schedule rows, one step per date
    in ``dates`` (rows for one service or zone are not drawn)."""
    general = schedule[schedule["service"].isna() & schedule["zone"].isna()]
    general = general.dropna(subset=["commission_rate"])
    if general.empty:
        return []
    steps: list[tuple[str, float]] = []
    for d in dates:
        starts = general["effective_from"].astype(str).str[:10]
        ends = general["effective_to"].astype("string").str[:10]
        live = general[((starts <= d) & (ends >= d).fillna(True)).astype(bool)]
        if not live.empty:
            steps.append((d, float(live["commission_rate"].iloc[-1])))
    return steps
