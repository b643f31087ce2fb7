"""Group comparisons of money for comparable work (PAY-02, DSP-02): the estimators on a
check's cells for one comparison, the views every money comparison reports, and PAY-02's
decomposition of the raw gap.

The headline is a ratio of means for the same work (``auditor.stats.poisson_effect`` on
money over what the work pays, ``_money``); the ratio of geometric means is reported beside
it as a sensitivity view (``data.geometric_mean``); the view within the platform-set
attributes as ``data.adjusted_for_algorithmic``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from ibis.expr.types import Table
from numpy.typing import NDArray

from auditor.checks._base import CheckContext, Confirmatory, Finding
from auditor.checks._covariates import order_covariates
from auditor.checks._groups import (
    Comparison,
    Impact,
    Roster,
    View,
    attributes_findings,
    compare_groups,
    group_rates,
    roster,
)
from auditor.checks._money import MoneyCells, money_cells
from auditor.checks._small_cells import left_out
from auditor.checks._strata import WORK_WORDS, work_strata
from auditor.stats import (
    GroupEffect,
    LogCells,
    cluster_robust,
    cluster_subset,
    log_estimator,
    log_fit,
    ratio_estimator,
    strata,
)
from auditor.stats._dist import t_ppf

__all__ = [
    "excluded_words",
    "money_comparisons",
    "pay_cells",
    "same_words",
    "worker_money",
    "worker_units",
]


def same_words(people: Roster, joiner: str = " and the same ") -> str:
    """Words for the legitimate attributes compared within (e.g. " and the same vehicle_type")."""
    return "".join(f"{joiner}{a}" for a in people.legitimate)


def worker_units(context: CheckContext, people: Roster, units: Table) -> Table:
    """``units`` (with ``worker_id``) with their worker's roster ``code``."""
    return units.inner_join(people.table, "worker_id")


def worker_money(
    context: CheckContext,
    name: str,
    units: Table,
    *,
    ratios: bool = False,
    users: tuple[str, ...] = (),
) -> MoneyCells:
    """Money cells of ``units`` (columns ``code``, ``stratum``, ``y`` and the trip covariates)
    clustered by worker code (computed once per audit per name, kept until the last of
    ``users`` has run)."""
    size = roster(context).size
    return context.memo(  # type: ignore[no-any-return]
        f"money:{name}",
        lambda: money_cells(
            units, "code", order_covariates(context), ratios=ratios, cluster_count=size
        ),
        users=users,
    )


def completed_orders(context: CheckContext, outcome: str) -> Table:
    """Completed orders as units of work: ``worker_id``, ``stratum``, ``y`` (the money
    ``outcome``), the trip covariates, and the order's customer columns."""
    o = work_strata(context).orders
    o = o.filter(o.completed)
    return o.mutate(y=o[outcome].cast("float64"), distance_km=o.distance_km.cast("float64"))


def money_comparisons(
    context: CheckContext,
    people: Roster,
    cells: MoneyCells,
    *,
    check: str,
    title: str,
    metric: str,
    noun: str,
    words: str,
    outcome: str,
    decompose: bool = False,
) -> list[Finding | Confirmatory]:
    """Compare money for comparable work between worker groups (module docstring).
    ``cells`` are clustered by roster code; ``outcome`` names the money in the details."""
    code = cells.cluster
    legit = people.legitimate_codes()
    stratum = strata(cells.stratum, legit[code])
    alg = people.algorithmic_codes()
    two_step: dict[str, Any] = {
        "offset_gradient": cells.offset_gradient,
        "offset_influence": cells.influence,
    }
    rate_fn = ratio_estimator(
        cells.money, cells.expected, stratum, code, method="ppml_within_strata_trip_offset",
        **two_step,
    )  # fmt: skip
    log_y = cells.log_money - cells.trip_effect
    views = [
        View(
            "geometric_mean",
            "the ratio of geometric means (sensitivity)",
            "ratio of geometric means for the same work (sensitivity view: sensitive to "
            "near-zero amounts)",
            log_estimator(
                cells.n,
                log_y,
                stratum,
                code,
                method="wls_within_strata_trip_offset",
                offset_gradient=cells.trip_gradient,
                offset_influence=cells.influence,
            ),
            tested=False,
        )
    ]
    if alg is not None:
        views.append(
            View(
                "adjusted_for_algorithmic",
                "within the platform-set attributes too",
                "within the platform-set attributes too ("
                + ", ".join(people.algorithmic)
                + "): not a test of the platform, which sets them",
                ratio_estimator(
                    cells.money,
                    cells.expected,
                    stratum,
                    code,
                    method="ppml_within_strata_trip_offset_algorithmic",
                    refine=alg,
                    **two_step,
                ),
            )
        )
    k = context.config.report.min_cell_workers
    excluded = left_out(cells.excluded, cells.excluded_workers, k)
    n_of = cells.per_cluster(cells.n)
    money_of = cells.per_cluster(cells.money)
    present = n_of > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_of = np.where(present, money_of / np.where(present, n_of, 1.0), np.nan)

    def extra(
        group: str, keep: NDArray[np.bool_], treat: NDArray[np.bool_], est: GroupEffect
    ) -> dict[str, Any]:
        out: dict[str, Any] = {f"{noun}_excluded": excluded, "covariates": list(cells.terms)}
        if decompose:
            out["decomposition"] = decomposition(
                cells, stratum, keep, treat, 1 - context.config.audit.alpha
            )
        return out

    def one(attribute: str) -> list[Finding | Confirmatory]:
        labels = people.labels(attribute)
        spec = Comparison(
            check=check,
            title=title,
            metric=metric,
            attribute=attribute,
            unit="workers",
            phrase=lambda g, r, x: (
                f"{attribute}={g} workers {words.format(x=x)} of {attribute}={r} workers "
                f"({WORK_WORDS}{same_words(people, ', same ')}; adjusted for distance and "
                "trip time; ratio of means)"
            ),
            raw=group_rates(labels, money_of, n_of),
            extra=extra,
            noun=noun,
            note=excluded_words(excluded, cells.terms, noun, outcome, k),
            scale="ratio of means",
            impact=Impact("scoring_rate", mean_of, higher_is_better=True),
        )
        return compare_groups(
            context, spec, labels, present, rate_fn, lambda keep: int(n_of[keep].sum()),
            views=views,
        )  # fmt: skip

    return attributes_findings(context, check, title, one)


def excluded_words(
    excluded: int | None, terms: tuple[str, ...], noun: str, outcome: str, k: int
) -> str:
    """The detail's sentence on the ``excluded`` units left out of the cells (none: empty):
    those with no positive ``outcome`` or trip covariate (offers: or no order in the
    package). None: the count is withheld (fewer than ``k`` workers behind it)."""
    if excluded == 0:
        return ""
    needs = [outcome] + [c for c in ("distance_km", "trip_minutes") if f"log_{c}" in terms]
    why = "no positive " + (
        " or ".join(needs) if len(needs) < 3 else ", ".join(needs[:-1]) + " or " + needs[-1]
    )
    if noun == "offers":
        why += " (or no order in the package)"
    count = f"{noun} of fewer than {k} workers" if excluded is None else f"{excluded:,} {noun}"
    return f" Not compared: {count} with {why}."


def decomposition(
    cells: MoneyCells,
    stratum: NDArray[np.int64],
    keep: NDArray[np.bool_],
    treat: NDArray[np.bool_],
    level: float,
) -> Mapping[str, Any]:
    """The raw gap in geometric-mean pay (group less reference, log points) as the sum of
    what where and when the groups work explains, what their trips explain, and what remains
    for the same work (Gelbach 2016: each part is the gap in that part of the fitted model,
    so the parts do not depend on an order of steps). With the trip effect measured within
    cells (``_money``) and the strata absorbed, ``log y = z'gamma + a[stratum] + b t + e``,
    and the parts are the group gaps in ``z'gamma``, in ``a[stratum]`` and ``b``.

    Intervals are at ``level``, from each part's linearisation summed by worker (its
    influence per worker, the CR2-adjusted score for ``b``), with ``b``'s Bell-McCaffrey
    degrees of freedom."""
    rows, new, old = cluster_subset(cells.cluster, keep)
    t_of = treat[old].astype(np.float64)
    n, st = cells.n[rows], stratum[rows]
    log_money, trips = cells.log_money[rows], cells.trip_effect[rows]
    g = len(old)
    log_cells = LogCells(n, log_money - trips, st, new, g)
    fit = log_fit(log_cells, treat[old])
    nan = {"scale": "log points of geometric-mean pay, group less reference"}
    if fit is None:
        return nan
    t = fit.t_cell
    size = {1: float(np.sum(n * t)), 0: float(np.sum(n * (1 - t)))}
    if not (size[1] > 0 and size[0] > 0):
        return nan

    def gap(values: NDArray[np.float64]) -> tuple[float, NDArray[Any]]:
        """Group mean less reference mean of a per-unit quantity summed per cell, and its
        influence per worker."""
        mean1 = float(np.sum(values * t)) / size[1]
        mean0 = float(np.sum(values * (1 - t))) / size[0]
        per = np.bincount(new, weights=values - n * np.where(t > 0, mean1, mean0), minlength=g)
        side = np.where(t_of > 0, 1.0 / size[1], -1.0 / size[0])
        return mean1 - mean0, per * side

    raw, psi_raw = gap(log_money)
    trip_gap, psi_trip = gap(trips)
    # The trip part moves with gamma: by the group gap in mean z, times each worker's
    # influence on gamma; so does b (two-step variance, ``stats._cr2``).
    influence = cells.influence[old]
    gradient = cells.trip_gradient[rows]
    z_gap = (t @ gradient) / size[1] - ((1 - t) @ gradient) / size[0]
    psi_trip = psi_trip + influence @ z_gap
    generated = influence @ (fit.design @ gradient)
    robust = cluster_robust(fit.blocks, generated=generated)
    info = float(robust.information.sum())
    # b's influence per worker: its score less gamma's part, over the information, scaled
    # to the CR2 variance.
    blocks = fit.blocks
    per_block = (
        blocks.weighted_design * blocks.residual / np.where(blocks.weight > 0, blocks.weight, 1.0)
    )
    score = (np.bincount(blocks.cluster, weights=per_block, minlength=g) - generated) / info
    plain = float(score @ score)
    psi_b = score * math.sqrt(robust.variance / plain) if plain > 0 else score
    place = raw - trip_gap - fit.b
    # One linearisation for the difference: b's plain influence, like the other two parts'
    # (its CR2-scaled version, which widens b's own interval to the headline's, would weight
    # b's part of the difference unlike the parts it is subtracted from).
    psi_place = psi_raw - psi_trip - score
    df = robust.df if math.isfinite(robust.df) else max(g - 1, 1)
    q = float(t_ppf(0.5 + level / 2, df))
    correction = g / max(g - 1, 1)

    def interval(value: float, psi: NDArray[np.float64], exact: bool = False) -> list[float]:
        se = math.sqrt(float(psi @ psi) * (1.0 if exact else correction))
        return [value - q * se, value + q * se]

    return {
        "scale": "log points of geometric-mean pay, group less reference",
        "raw_gap": raw,
        "raw_gap_ci": interval(raw, psi_raw),
        "explained_by_place_and_time": place,
        "explained_by_place_and_time_ci": interval(place, psi_place),
        "explained_by_trips": trip_gap,
        "explained_by_trips_ci": interval(trip_gap, psi_trip),
        "unexplained": fit.b,
        "unexplained_ci": interval(fit.b, psi_b, exact=True),
        "adjusted_gap": fit.b,
        "order": "order-invariant (Gelbach 2016): raw = place and time + trips + unexplained",
        "intervals": (
            f"{level:.0%}, worker-clustered linearisation with {df:.1f} degrees of freedom"
        ),
    }


def pay_cells(context: CheckContext) -> MoneyCells:
    """Worker pay of completed orders per cell of one worker and one work stratum (shared
    by PAY-02 and FEE-05; computed once per audit)."""
    people = roster(context)
    units = worker_units(context, people, completed_orders(context, "worker_pay"))
    units = units.select("code", "stratum", "kind", "y", "distance_km", "trip_minutes")
    return worker_money(context, "worker_pay", units, ratios=True, users=("PAY-02", "FEE-05"))
