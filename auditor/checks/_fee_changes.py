"""FEE-04: did the take rate change over time without an announced fee change?

1. **Mix-adjusted daily index.** Completed orders are aggregated in the engine into
   cells of local date x service x pickup zone x hour x distance band (platform
   take and fare base summed). A weighted least-squares model of the cell take rate
   (take / fare, weight = fare) on day, service, zone, hour and distance-band
   effects (statsmodels WLS) separates the day effect from the order mix, so that
   more long trips or more peak hours do not look like a fee change. The index of
   a day is the day effect re-centred on the average fitted take rate.
2. **Structural break.** On the daily index, the null model is a constant level
   between the fee changes that ``fee_schedule`` announced at least ``[fees]
   notice_days`` ahead (those are lawful). The alternative adds one more level
   shift on any day with at least three days on each side within its segment. The
   statistic is the largest F over candidate days (sup-F, Andrews 1993); its
   p-value is simulated under the null with Gaussian days for the same design
   (2,000 draws, seeded), since the sup-F distribution depends on it.
3. **Decision.** ``fail`` when p < ``alpha`` and the shift is at least ``[fees]
   take_rate_change_materiality``; otherwise ``pass`` (a significant but smaller
   shift is reported as such). Fewer than eight days: ``inconclusive``.

Unit of analysis: the day. Days are treated as independent given the segment
levels; a strong weekly cycle in take rates not explained by hour and mix would
widen the null distribution's tails, which the simulation does not model.

Small cells: every day enters the model, but ``data.daily_index`` publishes only the days
with at least ``[report] min_cell_workers`` distinct workers (``days_suppressed`` counts
the others), and the levels before and after the shift, and the shift itself, only when
each side has that many workers (the statistic and p-value only when the package has);
the verdict is published either way.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import ClassVar

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from auditor.checks._base import CheckContext, Finding, Needs, Severity, Status
from auditor.checks._common import basis
from auditor.checks._registry import register
from auditor.checks._small_cells import small_cell

__all__ = ["SilentFeeChange", "daily_index", "sup_f_test"]

MIN_SEGMENT_DAYS = 3
MIN_DAYS = 8
_NULL_DRAWS = 2000
_DISTANCE_BANDS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)  # km; upper edges, the last band is open


def daily_index(cells: pd.DataFrame) -> pd.DataFrame:
    """Mix-adjusted daily take rate from cells with columns local_date, service, zone,
    hour, band, take, fare. Returns one row per day: local_date, index, raw, fare."""
    # statsmodels is imported on first use, as scipy.stats is (see auditor.stats._dist).
    from statsmodels.regression.linear_model import WLS
    from statsmodels.tools.tools import add_constant

    cells = cells[cells["fare"] > 0].copy()
    cells["y"] = cells["take"] / cells["fare"]
    for col in ("service", "zone", "hour", "band"):
        cells[col] = cells[col].astype("string").fillna("(none)")
    days = sorted(cells["local_date"].unique())
    cells["day"] = pd.Categorical(cells["local_date"], categories=days)
    design = pd.get_dummies(
        cells[["day", "service", "zone", "hour", "band"]], drop_first=True, dtype=float
    )
    design = add_constant(design, has_constant="add")
    fit = WLS(cells["y"].to_numpy(), design.to_numpy(), weights=cells["fare"].to_numpy()).fit()
    params = pd.Series(fit.params, index=design.columns)
    effect = np.array([0.0] + [params.get(f"day_{d}", 0.0) for d in days[1:]])
    weights = cells["fare"].to_numpy()
    day_pos = cells["day"].cat.codes.to_numpy()
    centre = np.average(fit.fittedvalues, weights=weights) - np.average(
        effect[day_pos], weights=weights
    )
    raw = cells.groupby("local_date", observed=True).agg(take=("take", "sum"), fare=("fare", "sum"))
    out = pd.DataFrame({"local_date": days, "index": centre + effect})
    out["raw"] = (raw["take"] / raw["fare"]).reindex(days).to_numpy()
    out["fare"] = raw["fare"].reindex(days).to_numpy()
    return out


def _segments(n: int, breaks: Sequence[int]) -> np.ndarray:
    """Segment label of each of ``n`` days, given allowed break positions (first day of a
    new level)."""
    labels = np.zeros(n, dtype=int)
    for b in sorted(set(breaks)):
        if 0 < b < n:
            labels[b:] += 1
    return labels


def _sup_f(
    y: np.ndarray, labels: np.ndarray, candidates: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """sup-F over ``candidates`` for each row of ``y`` (draws x days); segments are the
    runs of equal ``labels``. Splitting a segment at tau lowers the residual sum of squares
    by n1 n2 / (n1 + n2) (m1 - m2)^2, so no refit is needed. Returns the statistics and
    the position of each maximum."""
    y = np.atleast_2d(y)
    rss0 = np.zeros(y.shape[0])
    for lab in np.unique(labels):
        part = y[:, labels == lab]
        rss0 += ((part - part.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    dof = y.shape[1] - len(np.unique(labels)) - 1
    stats = np.empty((y.shape[0], len(candidates)))
    for j, tau in enumerate(candidates):
        seg = np.nonzero(labels == labels[tau])[0]
        start, stop = seg[0], seg[-1] + 1
        n1, n2 = tau - start, stop - tau
        m1 = y[:, start:tau].mean(axis=1)
        m2 = y[:, tau:stop].mean(axis=1)
        drop = n1 * n2 / (n1 + n2) * (m1 - m2) ** 2
        rest = np.maximum(rss0 - drop, 1e-300)
        stats[:, j] = drop / (rest / dof)
    best = stats.argmax(axis=1)
    return stats[np.arange(len(best)), best], np.asarray(candidates)[best]


def sup_f_test(
    index: np.ndarray, allowed_breaks: Sequence[int], seed: int
) -> tuple[float, float, int] | None:
    """sup-F test for one unannounced level shift in ``index`` (one value per day).

    Null: constant level between ``allowed_breaks`` (positions where a lawful change
    starts). Returns (statistic, p-value, position of the most likely shift) or None
    when no day leaves ``MIN_SEGMENT_DAYS`` on both sides within its segment.
    """
    n = len(index)
    labels = _segments(n, allowed_breaks)
    candidates = [
        tau
        for tau in range(1, n)
        if labels[tau - 1] == labels[tau]
        and int((labels[:tau] == labels[tau]).sum()) >= MIN_SEGMENT_DAYS
        and int((labels[tau:] == labels[tau]).sum()) >= MIN_SEGMENT_DAYS
    ]
    if not candidates or n - len(np.unique(labels)) - 1 <= 0:
        return None
    stat, where = _sup_f(np.asarray(index, dtype=float), labels, candidates)
    rng = np.random.default_rng(seed)
    null, _ = _sup_f(rng.standard_normal((_NULL_DRAWS, n)), labels, candidates)
    p = (int((null >= stat[0]).sum()) + 1) / (_NULL_DRAWS + 1)
    return float(stat[0]), p, int(where[0])


_WITHHELD = (
    " The size of the shift is not published: fewer than {k} workers had orders on one side "
    "of it ([report] min_cell_workers)."
)


def _workers_by_day(orders: ibis.Table) -> dict[datetime.date, int]:
    """Distinct workers with orders on each local date."""
    per = orders.group_by("local_date").aggregate(workers=orders.worker_id.nunique()).execute()
    dates = pd.to_datetime(per["local_date"]).dt.date
    return {d: int(n) for d, n in zip(dates, per["workers"], strict=True)}


def _workers_on(orders: ibis.Table, dates: list[datetime.date]) -> int:
    """Distinct workers with orders on any of ``dates``."""
    # The dates go to the engine as a table, never as literals in a query's text.
    days = ibis.memtable(pa.table({"local_date": pa.array(dates, pa.date32())}))
    on = orders.semi_join(days, "local_date")
    return int(on.worker_id.nunique().execute())


@register
class SilentFeeChange:
    """FEE-04: a take-rate change not matched by a timely announced fee-schedule change."""

    id: ClassVar[str] = "FEE-04"
    title: ClassVar[str] = "Take-rate changes were announced in time"
    needs: ClassVar[Needs] = Needs(tables=("orders",))

    def run(self, context: CheckContext) -> Sequence[Finding]:
        cfg = context.config
        o = context.rebuilt.orders
        o = o.filter(o.completed & (o.fare_base > 0))
        band = ibis.literal(len(_DISTANCE_BANDS))
        for i, edge in reversed(list(enumerate(_DISTANCE_BANDS))):
            band = ibis.ifelse(o.distance_km < edge, i, band)
        band = ibis.ifelse(o.distance_km.isnull(), -1, band)
        o = o.mutate(band=band)
        cells = (
            o.group_by(
                [
                    o.local_date,
                    o.service,
                    o.pickup_zone.name("zone"),
                    o.local_hour.name("hour"),
                    "band",
                ]
            )
            .aggregate(
                # Money summed as decimals (exact, so in any order) and only then made
                # floats: float sums differ in their last bits from run to run, which
                # moved the 10th digit of the estimate on a 10 M-order package.
                take=o.platform_take.sum().cast("float64"),
                fare=o.fare_base.sum().cast("float64"),
            )
            .order_by(["local_date", "service", "zone", "hour", "band"])
            .execute()
        )
        cells["local_date"] = pd.to_datetime(cells["local_date"]).dt.date
        k = cfg.report.min_cell_workers
        few = small_cell(int(o.worker_id.nunique().execute()), k)
        common = dict(
            check=self.id,
            title=self.title,
            metric="take_rate_shift",
            threshold=cfg.fees.take_rate_change_materiality,
            basis=basis(context, self.id),
            n_orders=None if few else int(o.count().execute()),
        )
        if cells.empty or cells["local_date"].nunique() < MIN_DAYS:
            n_days = 0 if cells.empty else int(cells["local_date"].nunique())
            return [
                Finding(
                    status=Status.INCONCLUSIVE,
                    detail=f"Only {n_days} days of orders; a change over time needs at least "
                    f"{MIN_DAYS} days.",
                    **common,  # type: ignore[arg-type]
                )
            ]
        idx = daily_index(cells)
        days = list(idx["local_date"])
        lawful, late = self._announced(context, days)
        positions = [days.index(d) for d in lawful if d in days]
        result = sup_f_test(idx["index"].to_numpy(), positions, cfg.audit.seed)
        workers = _workers_by_day(o)
        shown = [workers.get(d, 0) >= k for d in idx["local_date"]]
        series = [
            {"date": str(d), "index": float(i), "raw": float(r)}
            for d, i, r, ok in zip(idx["local_date"], idx["index"], idx["raw"], shown, strict=True)
            if ok
        ]
        data = {
            "daily_index": series,
            "days_suppressed": len(shown) - sum(shown),
            "min_cell_workers": k,
            "announced_in_time": [str(d) for d in lawful],
            "announced_late": [str(d) for d in late],
            "notice_days": cfg.fees.notice_days,
        }
        if result is None:
            return [
                Finding(
                    status=Status.INCONCLUSIVE,
                    detail="No day leaves enough days on both sides to test for a change.",
                    data=data,
                    **common,  # type: ignore[arg-type]
                )
            ]
        stat, p, tau = result
        labels = _segments(len(days), positions)
        seg = labels == labels[tau]
        values = idx["index"].to_numpy()
        before = values[:tau][seg[:tau]].mean()
        after = values[tau:][seg[tau:]].mean()
        step = float(after - before)
        when = days[tau]
        # The levels are means over the days of each side: published when each side's days
        # have at least k workers, as is the shift between them.
        sides = (
            [d for d, x in zip(days[:tau], seg[:tau], strict=True) if x],
            [d for d, x in zip(days[tau:], seg[tau:], strict=True) if x],
        )
        hide = any(small_cell(_workers_on(o, side), k) for side in sides)
        data |= {
            "sup_f": None if few else stat,
            "change_date": str(when),
            "level_before": None if hide else float(before),
            "level_after": None if hide else float(after),
            "suppressed": hide,
        }
        shift = None if hide else step
        material = abs(step) >= cfg.fees.take_rate_change_materiality
        significant = p < cfg.audit.alpha
        late_note = ""
        if when in late:
            late_note = " A fee-schedule change took effect that day but was announced late."
        withheld = _WITHHELD.format(k=k) if hide else ""
        # With fewer than k workers in all, the test's statistic and p-value are theirs too.
        shown_p = None if few else p
        p_words = "" if few else f" (p = {p:.4f})"
        if significant and material:
            band = f"{cfg.fees.take_rate_change_materiality * 100:g}-point materiality"
            by = f"at least the {band}" if hide else f"{abs(step) * 100:.1f} points"
            return [
                Finding(
                    status=Status.FAIL,
                    severity=Severity.HIGH if abs(step) >= 0.03 else Severity.MEDIUM,
                    estimate=shift,
                    p_value=shown_p,
                    p_adjusted=shown_p,
                    detail=(
                        f"The mix-adjusted take rate {'rose' if step > 0 else 'fell'} by {by} on "
                        f"{when}{p_words} without a fee change announced "
                        f"{cfg.fees.notice_days} days ahead.{late_note}{withheld}"
                    ),
                    data=data,
                    **common,  # type: ignore[arg-type]
                )
            ]
        size = f"on {when}" if hide else f"{step * 100:+.2f} points on {when}"
        p_short = "" if few else f", p = {p:.3f}"
        why = (
            f"the largest shift ({size}) is below the "
            f"{cfg.fees.take_rate_change_materiality * 100:g}-point materiality"
            if significant
            else f"no unannounced shift is significant (largest {size}{p_short})"
        )
        return [
            Finding(
                status=Status.PASS,
                estimate=shift,
                p_value=shown_p,
                p_adjusted=shown_p,
                detail=(
                    f"The mix-adjusted take rate is stable between announced changes: {why}."
                    f"{withheld}"
                ),
                data=data,
                **common,  # type: ignore[arg-type]
            )
        ]

    @staticmethod
    def _announced(
        context: CheckContext, days: list[datetime.date]
    ) -> tuple[list[datetime.date], list[datetime.date]]:
        """Fee-schedule start dates inside the period: announced in time, and late."""
        if "fee_schedule" not in context.package.tables:
            return [], []
        fs = (
            context.package.tables["fee_schedule"]
            .table.select("effective_from", "announced_at")
            .execute()
        )
        notice = datetime.timedelta(days=context.config.fees.notice_days)
        lawful, late = [], []
        for start, announced in zip(fs["effective_from"], fs["announced_at"], strict=True):
            start = pd.Timestamp(start).date()
            if not (days[0] < start <= days[-1]):
                continue
            if (
                announced is not None
                and not pd.isna(announced)
                and (pd.Timestamp(announced).date() <= start - notice)
            ):
                lawful.append(start)
            else:
                late.append(start)
        return sorted(set(lawful)), sorted(set(late))
