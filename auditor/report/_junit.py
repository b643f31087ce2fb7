"""junit.xml: one test case per check and subject, for CI test reporters.

A ``fail`` finding is a ``<failure>`` carrying its detail; ``not_assessed`` is
``<skipped>``; ``pass`` and ``inconclusive`` pass (an inconclusive finding's sentence
goes to ``<system-out>``, since the data could not decide). Suites are check families.

The file is well-formed XML 1.0 whatever the data holds: every string that can carry a
data value (package name, subject, sentence, basis) passes through
:func:`~auditor.report._escape.visible`, so a control character such as ``\x01`` (which
XML 1.0 does not allow, even as a character reference) arrives as the four visible
characters ``\x01``; ``<``, ``&`` and ``]]>`` are escaped by the XML writer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from auditor.findings import Finding, Status
from auditor.report._escape import visible

if TYPE_CHECKING:
    from auditor.findings import AuditResult

__all__ = ["render_junit"]


def render_junit(result: AuditResult) -> str:
    """The JUnit XML document of ``result`` (UTF-8 text with an XML declaration)."""
    root = ET.Element("testsuites", name=f"auditor {visible(result.package_name)}")
    families: dict[str, list[Finding]] = {}
    for f in result.findings:
        families.setdefault(f.check.split("-")[0], []).append(f)
    total = failures = skipped = 0
    for family, findings in families.items():
        suite = ET.SubElement(root, "testsuite", name=family)
        n_fail = n_skip = 0
        for f in findings:
            case = ET.SubElement(
                suite, "testcase", classname=f"auditor.{f.check}", name=_case_name(f)
            )
            if f.status == Status.FAIL:
                n_fail += 1
                failure = ET.SubElement(
                    case, "failure", message=visible(f.detail), type=f"severity:{f.severity}"
                )
                failure.text = _body(f)
            elif f.status == Status.NOT_ASSESSED:
                n_skip += 1
                ET.SubElement(case, "skipped", message=visible(f.detail))
            else:
                ET.SubElement(case, "system-out").text = f"{f.status}: {visible(f.detail)}"
        suite.set("tests", str(len(findings)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(n_skip))
        total, failures, skipped = total + len(findings), failures + n_fail, skipped + n_skip
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _case_name(f: Finding) -> str:
    subject = ", ".join(f"{k}={v}" for k, v in f.subject.items())
    return visible(f"{f.check} {f.title}" + (f" [{subject}]" if subject else ""))


def _body(f: Finding) -> str:
    """The failure's text: one line each for the sentence, the estimate, the Holm p and
    the basis (each made visible on its own, so that the line breaks are ours)."""
    lines = [f"{f.check} {f.status}/{f.severity}: {visible(f.detail)}"]
    if f.estimate is not None:
        ci = "" if f.ci is None else f" (CI {f.ci[0]:.4g} to {f.ci[1]:.4g})"
        lines.append(f"{visible(f.metric)} = {f.estimate:.4g}{ci}")
    if f.p_adjusted is not None:
        lines.append(f"Holm-adjusted p = {f.p_adjusted:.2g}")
    if f.basis:
        lines.append(f"basis: {visible(f.basis)}")
    return "\n".join(lines)
