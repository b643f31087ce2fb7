"""Trip covariates: what is left of "comparable work" within a stratum. One definition, which
the engine evaluates for the checks (Ibis) and NumPy for the calibration worlds.

Within a stratum (``_strata``), orders still differ in distance and trip time (pickup to
dropoff; engaged time where pickup is missing). Their effect on pay or price is a quadratic
in their logs: the logs, their squares and their product (the ``TERMS`` monomials of the
covariates the package has). The covariates with no positive value in the orders are dropped
from every design; a unit with a missing or non-positive covariate in use is left out of the
comparison (and counted).
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
from ibis.expr.types import Table
from numpy.typing import NDArray

__all__ = [
    "COVARIATES",
    "covariate_matrix",
    "covariate_terms",
    "order_covariates",
    "positive_log",
    "term_names",
    "usable_covariates",
]

COVARIATES = ("distance_km", "trip_minutes")
"""Trip covariates, used where the package has them."""


def _monomials(used: tuple[str, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """The terms of ``used`` covariates as (name, exponents of their logs): logs, squares,
    and the product where there are two."""
    k = len(used)
    out = [(f"log_{c}", tuple(int(j == i) for j in range(k))) for i, c in enumerate(used)]
    out += [(f"log_{c}_sq", tuple(2 * int(j == i) for j in range(k))) for i, c in enumerate(used)]
    if k == 2:
        out.append(("log_product", (1, 1)))
    return out


def term_names(used: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the design terms of ``used`` covariates, in design order."""
    return tuple(name for name, _ in _monomials(used))


def positive_log(value: Any) -> Any:
    """The natural log of ``value`` as a double; NULL where it is missing or not positive
    (the engine refuses the log of a negative number)."""
    return ibis.ifelse(value > 0, value.cast("float64"), ibis.null("float64")).log()


def covariate_terms(units: Table, used: tuple[str, ...]) -> dict[str, Any]:
    """The design terms as engine expressions (NULL where a covariate is missing or not
    positive)."""
    logs = [positive_log(units[c]) for c in used]
    terms: dict[str, Any] = {}
    for name, powers in _monomials(used):
        expr = None
        for log, p in zip(logs, powers, strict=True):
            for _ in range(p):
                expr = log if expr is None else expr * log
        terms[name] = expr
    return terms


def covariate_matrix(values: dict[str, NDArray[Any]], used: tuple[str, ...]) -> NDArray[Any]:
    """The design terms as a NumPy matrix (units x terms) from positive covariate values."""
    logs = [np.log(np.asarray(values[c], dtype=np.float64)) for c in used]
    n = len(logs[0]) if logs else 0
    columns = []
    for _, powers in _monomials(used):
        col = np.ones(n)
        for log, p in zip(logs, powers, strict=True):
            col = col * log**p
        columns.append(col)
    return np.column_stack(columns) if columns else np.empty((n, 0))


def usable_covariates(orders: Table) -> tuple[str, ...]:
    """The trip covariates with at least one positive value in ``orders``."""
    counts = orders.aggregate(
        **{c: (orders[c] > 0).fill_null(False).cast("int64").sum() for c in COVARIATES}
    ).execute()
    return tuple(c for c in COVARIATES if int(counts[c].iloc[0] or 0) > 0)


def order_covariates(context: Any) -> tuple[str, ...]:
    """The usable trip covariates of the audit's orders (computed once per audit)."""
    return context.memo(  # type: ignore[no-any-return]
        "order_covariates", lambda: usable_covariates(context.rebuilt.orders)
    )
