"""The public surface: ``auditor.__all__`` lists exactly the public names, each documented."""

from __future__ import annotations

import inspect

import auditor


def test_all_is_honest() -> None:
    public = {n for n in dir(auditor) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if inspect.ismodule(getattr(auditor, n))}
    assert set(auditor.__all__) == (public - modules) | {"__version__"}


def test_every_public_name_has_a_docstring() -> None:
    for name in auditor.__all__:
        obj = getattr(auditor, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        assert inspect.getdoc(obj), name


def test_errors_inherit_the_nearest_builtin() -> None:
    assert issubclass(auditor.ConfigError, ValueError)
    assert issubclass(auditor.PackageError, ValueError)
    assert issubclass(auditor.DecodeError, auditor.PackageError)
    assert issubclass(auditor.AuditorWarning, UserWarning)
