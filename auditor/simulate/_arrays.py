"""Row operations on dataclasses whose fields are equally long numpy arrays."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np

__all__ = ["NA", "concat_rows", "take_rows"]

#: Missing value of an int64 time or money array.
NA = np.iinfo(np.int64).min

T = TypeVar("T")


def take_rows(obj: T, index: np.ndarray) -> T:
    """A new ``obj`` of the same type with rows ``index`` (int positions or a bool mask)."""
    values: dict[str, Any] = {f.name: getattr(obj, f.name)[index] for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    return type(obj)(**values)


def concat_rows(first: T, second: T) -> T:
    """A new object with the rows of ``first`` followed by those of ``second``."""
    values: dict[str, Any] = {
        f.name: np.concatenate([getattr(first, f.name), getattr(second, f.name)])
        for f in dataclasses.fields(first)  # type: ignore[arg-type]
    }
    return type(first)(**values)
