"""Student t and F tail probabilities and quantiles (scipy.stats), imported on first use.

``scipy.stats`` takes about a second to import; commands that run no statistics
(``auditor validate``, ``--help``) should not pay for it.
"""

from __future__ import annotations

from typing import Any


def _stats() -> Any:
    from scipy import stats

    return stats


def t_sf(x: Any, df: float) -> Any:
    """Upper tail P(T > x) of Student's t with ``df`` degrees of freedom."""
    return _stats().t.sf(x, df)


def t_cdf(x: Any, df: float) -> Any:
    """P(T <= x) of Student's t with ``df`` degrees of freedom."""
    return _stats().t.cdf(x, df)


def t_ppf(q: Any, df: float) -> Any:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom."""
    return _stats().t.ppf(q, df)


def f_sf(x: Any, df_num: float, df_den: float) -> Any:
    """Upper tail P(F > x) of the F distribution."""
    return _stats().f.sf(x, df_num, df_den)


def f_ppf(q: Any, df_num: float, df_den: float) -> Any:
    """The ``q`` quantile of the F distribution."""
    return _stats().f.ppf(q, df_num, df_den)
