"""Side-by-side group-metric benchmark: auditor's engine vs Fairlearn's MetricFrame and Aequitas.

The task, on one order-level table (default: the 10 M orders of the simulated benchmark
package): for each group of ``gender`` and ``age_band``, the mean pay per order and the
penalty rate (share of orders with a penalty), a 95 % interval for each, a test of each
group against the largest group, and Holm's correction over all the tests.

    python benchmarks/bench_group_metrics.py prepare            # writes the table (once)
    python benchmarks/bench_group_metrics.py auditor            # this project's environment
    /tmp/fairvenv/bin/python benchmarks/bench_group_metrics.py fairlearn --boot 20
    /tmp/fairvenv/bin/python benchmarks/bench_group_metrics.py aequitas

(``/tmp/fairvenv``: ``python -m venv /tmp/fairvenv && /tmp/fairvenv/bin/pip install
fairlearn aequitas pyarrow``; the libraries are not dependencies of auditor.)

What each does differs, and the printout says so: auditor sums per worker in DuckDB and
gives worker-clustered intervals and tests (orders of one worker are not independent);
MetricFrame computes the group metrics and, with ``n_boot``, bootstrap intervals that
resample orders, not workers; its tests and Holm here are scipy/statsmodels on top. Aequitas
computes confusion-matrix metrics of a binary score (here the penalty flag) and their
disparities; it has no mean-pay metric.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "data" / "group_metrics_orders.parquet"
PACKAGE = HERE / "data" / "sim_w23000_d30_s1_parquet"
ATTRS = ("gender", "age_band")


def prepare() -> None:
    import duckdb

    con = duckdb.connect()
    con.sql(
        f"""
        COPY (
            SELECT o.worker_id, w.gender, w.age_band, o.worker_pay::DOUBLE AS pay,
                   (d.order_id IS NOT NULL)::INTEGER AS penalised
            FROM '{PACKAGE}/orders.parquet' o
            JOIN '{PACKAGE}/workers.parquet' w USING (worker_id)
            LEFT JOIN (SELECT DISTINCT order_id FROM '{PACKAGE}/deductions.parquet'
                       WHERE category = 'penalty' AND order_id IS NOT NULL) d
              USING (order_id)
            WHERE o.status = 'completed'
        ) TO '{TABLE}' (FORMAT parquet)
        """
    )
    print(con.sql(f"SELECT count(*) FROM '{TABLE}'").fetchone()[0], "orders written to", TABLE)


def run_auditor() -> None:
    import duckdb
    import numpy as np
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    start = time.perf_counter()
    con = duckdb.connect()
    rows = []
    tests = []
    for attr in ATTRS:
        per = con.sql(
            f"""SELECT {attr} AS g, worker_id, count(*) AS n, sum(pay) AS s_pay,
                       sum(penalised) AS s_pen
                FROM '{TABLE}' GROUP BY ALL"""
        ).df()
        stats_by = {}
        for g, w in per.groupby("g"):
            n = w["n"].to_numpy(float)
            out = {}
            for metric, col in (("mean_pay", "s_pay"), ("penalty_rate", "s_pen")):
                s = w[col].to_numpy(float)
                ratio = s.sum() / n.sum()
                # Ratio estimator, linearised per worker (worker-clustered variance).
                resid = s - ratio * n
                k = len(n)
                se = float(np.sqrt(k / (k - 1) * np.sum(resid**2)) / n.sum())
                out[metric] = (ratio, se, k)
                rows.append((attr, g, metric, ratio, ratio - 1.96 * se, ratio + 1.96 * se))
            stats_by[g] = out
        ref = per.groupby("g")["worker_id"].count().idxmax()
        for g in stats_by:
            if g == ref:
                continue
            for metric in ("mean_pay", "penalty_rate"):
                (a, sa, ka), (b, sb, kb) = stats_by[g][metric], stats_by[ref][metric]
                t = (a - b) / np.hypot(sa, sb)
                tests.append((attr, g, metric, float(2 * stats.t.sf(abs(t), min(ka, kb) - 1))))
    adjusted = multipletests([p for *_, p in tests], method="holm")[1]
    seconds = time.perf_counter() - start
    _report("auditor (DuckDB per-worker sums, clustered CIs and tests, Holm)", seconds, rows)
    print(f"tests: {len(tests)}; smallest Holm-adjusted p {min(adjusted):.3g}")


def run_fairlearn(boot: int) -> None:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import MetricFrame, selection_rate
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    t0 = time.perf_counter()
    frame = pd.read_parquet(TABLE)
    load = time.perf_counter() - t0
    start = time.perf_counter()
    rows = []
    tests = []

    def mean_pay(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_true))

    mf_seconds = 0.0
    for attr in ATTRS:
        kwargs = {"n_boot": boot, "ci_quantiles": [0.025, 0.975]} if boot else {}
        t_mf = time.perf_counter()
        pay = MetricFrame(
            metrics=mean_pay, y_true=frame["pay"], y_pred=frame["pay"],
            sensitive_features=frame[attr], **kwargs,
        )  # fmt: skip
        pen = MetricFrame(
            metrics=selection_rate, y_true=frame["penalised"], y_pred=frame["penalised"],
            sensitive_features=frame[attr], **kwargs,
        )  # fmt: skip
        mf_seconds += time.perf_counter() - t_mf
        for metric, mf in (("mean_pay", pay), ("penalty_rate", pen)):
            groups = mf.by_group
            lo = mf.by_group_ci[0] if boot else groups * np.nan
            hi = mf.by_group_ci[1] if boot else groups * np.nan
            for g in groups.index:
                rows.append((attr, g, metric, groups[g], lo[g], hi[g]))
        ref = frame[attr].value_counts().idxmax()
        for g in frame[attr].dropna().unique():
            if g == ref:
                continue
            a, b = frame.loc[frame[attr] == g], frame.loc[frame[attr] == ref]
            for metric, col in (("mean_pay", "pay"), ("penalty_rate", "penalised")):
                p = stats.ttest_ind(a[col], b[col], equal_var=False).pvalue
                tests.append((attr, g, metric, float(p)))
    multipletests([p for *_, p in tests], method="holm")
    seconds = time.perf_counter() - start
    _report(
        f"fairlearn MetricFrame (n_boot={boot}, order-level bootstrap) + scipy Welch + Holm",
        seconds, rows, load,
    )  # fmt: skip
    print(f"of which MetricFrame: {mf_seconds:.1f} s; tests and Holm: {seconds - mf_seconds:.1f} s")


def run_aequitas() -> None:
    import pandas as pd
    from aequitas.bias import Bias
    from aequitas.group import Group

    t0 = time.perf_counter()
    frame = pd.read_parquet(TABLE, columns=["gender", "age_band", "penalised"])
    load = time.perf_counter() - t0
    start = time.perf_counter()
    df = pd.DataFrame(
        {
            "score": frame["penalised"],
            "label_value": frame["penalised"],
            "gender": frame["gender"].astype(str),
            "age_band": frame["age_band"].astype(str),
        }
    )
    xtab, _ = Group().get_crosstabs(df, attr_cols=list(ATTRS))
    ref = {a: df[a].value_counts().idxmax() for a in ATTRS}
    Bias().get_disparity_predefined_groups(xtab, original_df=df, ref_groups_dict=ref)
    seconds = time.perf_counter() - start
    rows = [
        (r.attribute_name, r.attribute_value, "penalty_rate", r.prev, float("nan"), float("nan"))
        for r in xtab.itertuples()
    ]
    _report(
        "aequitas Group + Bias (penalty rate only; no intervals, no mean pay)", seconds, rows, load
    )


def _report(name: str, seconds: float, rows: list, load: float | None = None) -> None:
    print(f"## {name}")
    print(f"compute: {seconds:.1f} s" + (f" (+ {load:.1f} s reading the table)" if load else ""))
    for attr, g, metric, value, lo, hi in rows:
        print(f"  {attr}={g} {metric}: {value:.4f} [{lo:.4f}, {hi:.4f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["prepare", "auditor", "fairlearn", "aequitas"])
    parser.add_argument("--boot", type=int, default=20, help="fairlearn bootstrap resamples")
    args = parser.parse_args()
    if args.tool == "prepare":
        prepare()
    elif args.tool == "auditor":
        run_auditor()
    elif args.tool == "fairlearn":
        run_fairlearn(args.boot)
    else:
        run_aequitas()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
