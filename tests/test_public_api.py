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


def test_a_fail_has_a_severity_and_nothing_else_does() -> None:
    import pytest

    from auditor import Finding, Severity, Status

    with pytest.raises(ValueError, match="a fail needs low, medium, high or critical"):
        Finding(check="FEE-01", status=Status.FAIL, title="t")
    with pytest.raises(ValueError, match="cannot have severity high"):
        Finding(check="FEE-01", status=Status.PASS, title="t", severity=Severity.HIGH)
    ok = Finding(check="FEE-01", status=Status.FAIL, title="t", severity=Severity.LOW)
    assert ok.to_dict()["severity"] == "low"
