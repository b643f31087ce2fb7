"""The registry of checks, in catalogue order."""

from __future__ import annotations

from auditor.checks._base import Check
from auditor.schema import CATALOGUE_ORDER

__all__ = ["CATALOGUE_ORDER", "REGISTRY", "register"]

REGISTRY: dict[str, type[Check]] = {}
"""Check ID -> check class, filled by :func:`register`."""


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add a check to the registry (IDs are unique)."""
    if cls.id in REGISTRY:
        raise ValueError(f"check {cls.id} is registered twice")
    REGISTRY[cls.id] = cls
    return cls
