"""Stage 4, checks: each catalogue check declares its needs and returns findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditor.checks import (  # noqa: F401  (importing registers the checks)
    _accessible_service,
    _account_actions,
    _account_actions_by_group,
    _complaints,
    _data_quality,
    _deductions,
    _dispatch,
    _fatigue,
    _fee_changes,
    _fees,
    _holiday_pay,
    _hours_insurance,
    _pay,
    _pay_equity,
    _pay_floor,
    _personalised_pay,
    _pricing,
    _quoted_pay,
    _refusals,
    _rule_change,
    _steering,
    _take_by_fare,
    _tip_offset,
)
from auditor.checks._base import (
    Adjustment,
    Check,
    CheckContext,
    Confirmatory,
    Finding,
    Needs,
    Severity,
    Status,
    reported_float,
)
from auditor.checks._registry import CATALOGUE_ORDER, REGISTRY, register
from auditor.stats import holm, reported_p

__all__ = [
    "CATALOGUE_ORDER",
    "REGISTRY",
    "Adjustment",
    "Check",
    "CheckContext",
    "Confirmatory",
    "Finding",
    "Needs",
    "Severity",
    "Status",
    "planned_checks",
    "register",
    "reported_float",
    "resolve_family",
    "run_checks",
]


def planned_checks(only: Iterable[str] | None = None) -> list[str]:
    """The IDs :func:`run_checks` runs for ``only`` (None: every registered check), in the
    order it runs them."""
    wanted = set(only) if only is not None else None
    return [c for c in CATALOGUE_ORDER if c in REGISTRY and (wanted is None or c in wanted)]


def run_checks(
    context: CheckContext,
    only: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    families: dict[str, Any] | None = None,
) -> list[Finding]:
    """Run the registered checks (all, or those in ``only``) in catalogue order.

    A check whose needs are not met gives one ``not_assessed`` finding naming what is
    missing; it is never silently skipped. The confirmatory tests of all checks run form one
    family: their p-values are Holm-adjusted together at ``[audit] alpha`` before each
    becomes a finding; the tests of their labelled secondary views form a second family.
    ``families``, if given, receives the record of both (``findings.json`` keeps it).
    """
    findings: list[Finding | Confirmatory] = []
    order = planned_checks(only)
    for position, check_id in enumerate(order):
        cls = REGISTRY[check_id]
        if progress is not None:
            progress(f"check {check_id}")
        missing = cls.needs.missing(context.package)
        if missing:
            findings.append(
                Finding(
                    check=check_id,
                    status=Status.NOT_ASSESSED,
                    title=cls.title,
                    missing=missing,
                    detail="Not assessed: the package lacks " + ", ".join(missing) + ".",
                )
            )
        else:
            findings.extend(cls().run(context))
        context.release_after(check_id, set(order[position + 1 :]))
    return resolve_family(findings, families, alpha=context.config.audit.alpha)


def resolve_family(
    items: list[Finding | Confirmatory],
    record: dict[str, Any] | None = None,
    *,
    alpha: float = 0.05,
) -> list[Finding]:
    """Holm-adjust the p-values of the confirmatory tests among ``items`` together (and,
    apart, those of their secondary views) and resolve each into its finding, in place.
    ``record``, if given, receives both families: their members, p-values and sizes."""
    tests = [i for i in items if isinstance(i, Confirmatory)]
    adjusted = holm([t.p_value for t in tests])
    views = [(k, name) for k, t in enumerate(tests) for name in t.secondary]
    view_adjusted = holm([tests[k].secondary[name] for k, name in views])
    by_test: dict[int, dict[str, float]] = {}
    for (k, name), p in zip(views, view_adjusted, strict=True):
        by_test.setdefault(k, {})[name] = p
    size, secondary_size = len(tests), len(views)
    if record is not None:
        record.update(
            {
                "confirmatory": {
                    "method": "holm",
                    "alpha": alpha,
                    "tests": size,
                    "members": [
                        {
                            "check": t.check,
                            "metric": t.metric,
                            "subject": dict(t.subject),
                            "p_value": reported_p(t.p_value),
                            "p_adjusted": reported_p(p),
                        }
                        for t, p in zip(tests, adjusted, strict=True)
                    ],
                },
                "secondary": {
                    "method": "holm",
                    "alpha": alpha,
                    "tests": secondary_size,
                    "members": [
                        {
                            "check": tests[k].check,
                            "metric": tests[k].metric,
                            "subject": dict(tests[k].subject),
                            "view": name,
                            "p_value": reported_p(tests[k].secondary[name]),
                            "p_adjusted": reported_p(p),
                        }
                        for (k, name), p in zip(views, view_adjusted, strict=True)
                    ],
                },
            }
        )
    out: list[Finding] = []
    k = 0
    for i in items:
        if isinstance(i, Confirmatory):
            out.append(i.resolve(Adjustment(adjusted[k], size, by_test.get(k, {}), secondary_size)))
            k += 1
        else:
            out.append(i)
    return out
