"""The registry of checks, in catalogue order."""

from __future__ import annotations

from auditor.checks._base import Check

__all__ = ["CATALOGUE_ORDER", "REGISTRY", "register"]

CATALOGUE_ORDER: tuple[str, ...] = (
    "DQ-01", "DQ-02", "DQ-03", "DQ-04",
    "FEE-01", "FEE-02", "FEE-03", "FEE-04", "FEE-05", "FEE-06",
    "PAY-01", "PAY-02", "DSP-01", "DSP-02", "PRC-01", "PRC-02",
    "HRS-01", "INS-01", "DED-01",
)  # fmt: skip
"""Every catalogue ID of ``../shared/spec/checks.md``, in its order."""

REGISTRY: dict[str, type[Check]] = {}
"""Check ID -> check class, filled by :func:`register`."""


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add a check to the registry (IDs are unique)."""
    if cls.id in REGISTRY:
        raise ValueError(f"check {cls.id} is registered twice")
    REGISTRY[cls.id] = cls
    return cls
