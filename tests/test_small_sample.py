"""The small-sample inference every group comparison uses (``auditor.stats._cr2``): its CR2
variance and Bell-McCaffrey degrees of freedom equal the unit-level matrix formulas, for
least squares with units per block and for the Poisson fit on cells, and the adjustment makes
the sandwich unbiased under the working model."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.stats._cr2 import Blocks, cluster_robust
from auditor.stats._effect import GroupEffect


def _matrix_power(m: np.ndarray, power: float) -> np.ndarray:
    """Symmetric matrix power with the Moore-Penrose convention (0 stays 0)."""
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    keep = values > 1e-10
    out = np.zeros_like(values)
    out[keep] = values[keep] ** power
    return (vectors * out) @ vectors.T


def _reference(
    cluster: np.ndarray,
    stratum: np.ndarray,
    t: np.ndarray,
    w: np.ndarray,
    eps: np.ndarray,
    rho: float = 0.0,
) -> tuple[float, float, np.ndarray]:
    """CR2 variance and BM df from the unit-level matrices: weighted design [strata, t],
    hat matrix H = W^1/2 X (X'WX)^-1 X' W^1/2, working residuals ``eps`` (in the W^1/2
    scale), and the adjustment A_g = (I - U U')^(-1/2) D^(-1/2) of the module docstring;
    degrees of freedom under the working covariance I + rho z z' per cluster, z = W^1/2 1."""
    n = len(cluster)
    dummies = (stratum[:, None] == np.unique(stratum)[None, :]).astype(float)
    root = np.sqrt(w)
    x = np.column_stack([dummies, t]) * root[:, None]
    hat = x @ np.linalg.pinv(x.T @ x) @ x.T
    fe = dummies * root[:, None]
    p_fe = fe @ np.linalg.pinv(fe.T @ fe) @ fe.T
    h = (np.eye(n) - p_fe) @ (t * root)  # the contrast after absorbing strata
    info = float(h @ h)
    resid_op = np.eye(n) - hat
    adjusted, a_vectors = [], []
    clusters = np.unique(cluster)
    for g in clusters:
        rows = cluster == g
        d = np.eye(rows.sum()) - p_fe[np.ix_(rows, rows)]
        d_inv_half = _matrix_power(d, -0.5)
        u = d_inv_half @ h[rows] / np.sqrt(info)
        a_g = _matrix_power(np.eye(rows.sum()) - np.outer(u, u), -0.5) @ d_inv_half
        adjusted.append(h[rows] @ a_g @ eps[rows])
        vec = np.zeros(n)
        vec[rows] = a_g.T @ h[rows] / info
        a_vectors.append(vec)
    variance = float(np.sum(np.square(adjusted))) / info**2
    a = np.array(a_vectors)
    z = (cluster[:, None] == clusters[None, :]) * root[:, None]
    omega = np.eye(n) + rho * z @ z.T
    m = a @ resid_op @ omega @ resid_op @ a.T
    df = float(np.trace(m) ** 2 / np.sum(m * m))
    return variance, df, np.array([np.sum(h[cluster == g] ** 2) for g in clusters])


def _design(seed: int, clusters: int, strata: int, units: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, clusters, units)
    # Group workers favour the first strata, so some strata are one-sided or nearly so.
    treat_of = rng.random(clusters) < 0.35
    stratum = np.where(
        treat_of[cluster], rng.integers(0, strata // 2 + 1, units), rng.integers(0, strata, units)
    )
    return {"cluster": cluster, "stratum": stratum, "t": treat_of[cluster].astype(float)}


def _blocks_of(cluster, stratum, w, wx, r, g, s) -> Blocks:  # type: ignore[no-untyped-def]
    key = cluster * s + stratum
    uniq, inv = np.unique(key, return_inverse=True)
    sums = lambda v: np.bincount(inv, weights=v)  # noqa: E731
    return Blocks(
        cluster=(uniq // s).astype(np.int64),
        stratum=(uniq % s).astype(np.int64),
        weight=sums(w),
        weighted_design=sums(wx),
        residual=sums(r),
        n_clusters=g,
        n_strata=s,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_least_squares_cr2_and_df_equal_the_unit_level_matrices(seed: int) -> None:
    """Several units per block, strata shared unevenly, a few one-sided strata."""
    d = _design(seed, clusters=14, strata=6, units=160)
    rng = np.random.default_rng(seed + 100)
    y = 0.2 * d["t"] + 0.1 * d["stratum"] + rng.normal(size=160) + rng.normal(size=14)[d["cluster"]]
    n = len(y)
    w = np.ones(n)
    # The within-strata fit: x~ = t - stratum mean, b, residuals.
    s_n = np.bincount(d["stratum"], minlength=6)
    t_bar = np.bincount(d["stratum"], weights=d["t"], minlength=6) / np.maximum(s_n, 1)
    y_bar = np.bincount(d["stratum"], weights=y, minlength=6) / np.maximum(s_n, 1)
    xt = d["t"] - t_bar[d["stratum"]]
    b = float(xt @ (y - y_bar[d["stratum"]]) / (xt @ xt))
    resid = y - y_bar[d["stratum"]] - b * xt
    ours = cluster_robust(
        _blocks_of(d["cluster"], d["stratum"], w, w * xt, resid, 14, 6), random_effect=0.0
    )
    variance, df, info = _reference(d["cluster"], d["stratum"], d["t"], w, resid)
    assert ours.variance == pytest.approx(variance, rel=1e-9)
    assert ours.df == pytest.approx(df, rel=1e-9)
    assert ours.exact_coupling
    np.testing.assert_allclose(ours.information[np.unique(d["cluster"])], info, rtol=1e-9)


@pytest.mark.parametrize("seed", [4, 5])
def test_poisson_cr2_and_df_equal_the_weighted_unit_level_matrices(seed: int) -> None:
    """One cell per cluster and stratum with working weight mu (the Poisson fit's)."""
    rng = np.random.default_rng(seed)
    g, s = 16, 7
    pairs = np.array([(c, k) for c in range(g) for k in range(s) if rng.random() < 0.55])
    cluster, stratum = pairs[:, 0], pairs[:, 1]
    treat = (rng.random(g) < 0.4)[cluster].astype(float)
    mu = rng.uniform(0.3, 4.0, len(cluster))
    # Stratum-weighted design, as at a Poisson MLE with stratum effects.
    mu_s = np.bincount(stratum, weights=mu, minlength=s)
    p_s = np.bincount(stratum, weights=mu * treat, minlength=s) / mu_s
    xt = treat - p_s[stratum]
    y = rng.poisson(mu).astype(float)
    resid = y - mu
    ours = cluster_robust(_blocks_of(cluster, stratum, mu, mu * xt, resid, g, s), random_effect=0)
    variance, df, _ = _reference(cluster, stratum, treat, mu, resid / np.sqrt(mu))
    assert ours.variance == pytest.approx(variance, rel=1e-9)
    assert ours.df == pytest.approx(df, rel=1e-9)


def test_the_adjustment_is_unbiased_under_the_working_model() -> None:
    """Under independent errors of variance 1 / w, the CR2 variance averages to the true
    variance of the coefficient (the point of CR2; CR0 would fall short), here over
    4,000 draws of a design with few clusters and small strata."""
    d = _design(7, clusters=10, strata=5, units=90)
    n = len(d["t"])
    s_n = np.bincount(d["stratum"], minlength=5)
    t_bar = np.bincount(d["stratum"], weights=d["t"], minlength=5) / np.maximum(s_n, 1)
    xt = d["t"] - t_bar[d["stratum"]]
    true_var = 1.0 / float(xt @ xt)
    rng = np.random.default_rng(8)
    cr2, cr0 = [], []
    for _ in range(4000):
        y = rng.normal(size=n)
        y_bar = np.bincount(d["stratum"], weights=y, minlength=5) / np.maximum(s_n, 1)
        b = float(xt @ (y - y_bar[d["stratum"]]) / (xt @ xt))
        resid = y - y_bar[d["stratum"]] - b * xt
        blocks = _blocks_of(d["cluster"], d["stratum"], np.ones(n), xt, resid, 10, 5)
        cr2.append(cluster_robust(blocks).variance)
        scores = np.bincount(d["cluster"], weights=xt * resid, minlength=10)
        cr0.append(float(scores @ scores) * true_var**2)
    assert np.mean(cr2) == pytest.approx(true_var, rel=0.03)
    assert np.mean(cr0) < 0.85 * true_var


def _poisson_blocks(
    cluster: np.ndarray, stratum: np.ndarray, treat_of: np.ndarray, mu: np.ndarray,
    resid: np.ndarray, g: int, s: int,
) -> Blocks:  # fmt: skip
    """Blocks of a Poisson fit with fitted counts ``mu`` (design: the group dummy less its
    mu-weighted stratum mean)."""
    t = treat_of[cluster].astype(float)
    mu_s = np.bincount(stratum, weights=mu, minlength=s)
    p_s = np.bincount(stratum, weights=mu * t, minlength=s) / np.where(mu_s > 0, mu_s, 1.0)
    return _blocks_of(cluster, stratum, mu, mu * (t - p_s[stratum]), resid, g, s)


def test_few_dominant_clusters_give_few_degrees_of_freedom() -> None:
    """Two workers 60x as active as the other 18 of their group: with a worker random effect
    in the working model (rho > 0), the group's variance sits in those two and the degrees of
    freedom are few; with equal workers they are many."""
    rng = np.random.default_rng(9)
    g, s = 60, 20
    cluster = np.repeat(np.arange(g), 40)
    stratum = rng.integers(0, s, len(cluster))
    treat_of = np.arange(g) < 20
    for scale, expected in ((np.where(np.isin(cluster, [0, 1]), 60.0, 1.0), "few"),
                            (np.ones(len(cluster)), "many")):  # fmt: skip
        blocks = _poisson_blocks(cluster, stratum, treat_of, scale, np.zeros(len(cluster)), g, s)
        blocks = Blocks(
            blocks.cluster, blocks.stratum, blocks.weight, blocks.weighted_design,
            rng.normal(size=len(blocks.weight)) * np.sqrt(blocks.weight), g, s,
        )  # fmt: skip
        with_effect = cluster_robust(blocks, random_effect=0.5).df
        if expected == "few":
            assert with_effect < 4.0
            assert cluster_robust(blocks, random_effect=0.0).df > 10.0
        else:
            assert with_effect > 15.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_effect_degrees_of_freedom_are_close_to_the_unit_level_ones(seed: int) -> None:
    """With a working random effect (rho > 0) the degrees of freedom leave out the coupling of
    one cluster's effect with other clusters through shared strata: within 10 % of the
    unit-level value even on small designs (12 strata, 30 workers); rho is estimated near
    its true value (0.49 here)."""
    d = _design(seed, clusters=30, strata=12, units=600)
    rng = np.random.default_rng(seed + 100)
    y = 0.2 * d["t"] + rng.normal(size=600) + 0.7 * rng.normal(size=30)[d["cluster"]]
    s_n = np.bincount(d["stratum"], minlength=12)
    mean = lambda v: np.bincount(d["stratum"], weights=v, minlength=12) / np.maximum(s_n, 1)  # noqa: E731
    xt = d["t"] - mean(d["t"])[d["stratum"]]
    b = float(xt @ (y - mean(y)[d["stratum"]]) / (xt @ xt))
    resid = y - mean(y)[d["stratum"]] - b * xt
    blocks = _blocks_of(d["cluster"], d["stratum"], np.ones(600), xt, resid, 30, 12)
    estimated = cluster_robust(blocks)
    assert 0.2 < estimated.random_effect < 1.0
    for rho in (0.1, 0.5, 2.0):
        _, exact, _ = _reference(d["cluster"], d["stratum"], d["t"], np.ones(600), resid, rho)
        assert cluster_robust(blocks, random_effect=rho).df == pytest.approx(exact, rel=0.10)


def test_approximate_coupling_is_close_to_the_exact_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``EXACT_COUPLING_PAIRS`` the coupling through shared strata is taken one
    stratum at a time; on a design with many workers per stratum that moves the degrees of
    freedom by under 2 %."""
    from auditor.stats import _cr2

    rng = np.random.default_rng(10)
    g, s = 300, 400
    cluster = np.repeat(np.arange(g), 30)
    stratum = rng.integers(0, s, len(cluster))
    blocks = _blocks_of(cluster, stratum, np.ones(len(cluster)), np.zeros(len(cluster)),
                        np.zeros(len(cluster)), g, s)  # fmt: skip
    t = (blocks.cluster < 100).astype(float)
    w_s = np.bincount(blocks.stratum, weights=blocks.weight, minlength=s)
    p_s = np.bincount(blocks.stratum, weights=blocks.weight * t, minlength=s) / w_s
    fitted = Blocks(
        blocks.cluster, blocks.stratum, blocks.weight, blocks.weight * (t - p_s[blocks.stratum]),
        rng.normal(size=len(t)), g, s,
    )  # fmt: skip
    exact = cluster_robust(fitted, random_effect=0.0)
    monkeypatch.setattr(_cr2, "EXACT_COUPLING_PAIRS", 0)
    approx = cluster_robust(fitted, random_effect=0.0)
    assert exact.exact_coupling and not approx.exact_coupling
    assert approx.variance == exact.variance
    assert approx.df == pytest.approx(exact.df, rel=0.02)


def test_poisson_ratio_on_cells_equals_statsmodels_on_units() -> None:
    """The rate ratio fitted on cells (one worker in one stratum: events and exposure) is the
    maximum-likelihood estimate of the unit-level model, log E[y] = log exposure +
    a[stratum] + b * group, as statsmodels' GLM fits it with stratum dummies."""
    import pandas as pd
    import statsmodels.api as sm

    from auditor.stats import RateCells, poisson_effect

    rng = np.random.default_rng(4)
    workers, strata_n = 30, 8
    group = np.arange(workers) < 12
    rows = []
    for w in range(workers):
        for s in rng.choice(strata_n, 5, replace=False):
            hours = rng.uniform(0.2, 1.0, rng.integers(1, 4))  # a cell's units
            rate = 2.0 * (1 + s / 4) * (0.8 if group[w] else 1.0) * rng.gamma(5, 0.2)
            rows += [(w, s, h, rng.poisson(rate * h)) for h in hours]
    units = pd.DataFrame(rows, columns=["worker", "stratum", "hours", "count"])
    cells = units.groupby(["worker", "stratum"], as_index=False)[["hours", "count"]].sum()
    est = poisson_effect(
        RateCells(cells["count"].to_numpy(float), cells["hours"].to_numpy(),
                  cells["stratum"].to_numpy(), cells["worker"].to_numpy(), counts=True),
        group, method="t",
    )  # fmt: skip
    design = pd.get_dummies(units["stratum"], prefix="s", dtype=float)
    design["group"] = group[units["worker"]].astype(float)
    fit = sm.GLM(units["count"], design, family=sm.families.Poisson(),
                 offset=np.log(units["hours"])).fit()  # fmt: skip
    assert est.log_effect == pytest.approx(fit.params["group"], rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("workers_per_group", [3, 10, 40])
def test_counts_equal_to_their_fit_everywhere_give_no_estimate(workers_per_group: int) -> None:
    """Every appeal of both groups reinstated: the counts equal their fit in every cell, the
    CR2 variance is rounding noise (about 1e-27 with 3 workers a side), and no Wald interval
    may claim equivalence from it: no estimate, as when it is exactly 0. One refusal makes
    it an estimate with a real interval."""
    from auditor.stats import RateCells, poisson_effect

    rng = np.random.default_rng(workers_per_group)
    size = 2 * workers_per_group
    worker = np.arange(size)
    group = worker < workers_per_group
    reviewed = rng.integers(1, 4, size).astype(float)
    one_stratum = np.zeros(size, np.int64)

    def effect(reinstated: np.ndarray) -> GroupEffect:
        cells = RateCells(reinstated, reviewed, one_stratum, worker, counts=True)
        return poisson_effect(cells, group, method="t")

    assert not effect(reviewed.copy()).estimable
    one_refused = effect(np.where(worker == 0, 0.0, reviewed))
    assert one_refused.estimable
    low, high = one_refused.ci(0.95)
    assert low < 1.0 < high and high / low > 1.05
