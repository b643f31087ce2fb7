"""summary.md: the audit in a few lines of Markdown, for a CI job summary.

Aggregates only: counts, the check's own sentence and its numbers. Every cell is escaped
so that a hostile group or zone name cannot inject Markdown or HTML into the job page, nor
break a table row: invisible characters (control characters, ANSI escapes, line breaks)
are written as visible escapes, ``|`` and other Markdown characters are backslash-escaped,
and ``<``, ``>``, ``&`` become entities.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from auditor.findings import Finding, Severity, Status
from auditor.report._escape import visible
from auditor.report._labels import Labels, interval_level, labels
from auditor.report._sentences import sentence, value

if TYPE_CHECKING:
    from auditor.findings import AuditResult

__all__ = ["render_markdown"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def render_markdown(result: AuditResult, lang: str = "en", fail_on: str = "high") -> str:
    """The Markdown summary of ``result``; ``fail_on`` is the CLI's ``--fail-on``, named in
    the verdict line."""
    currency = str(result.config.get("audit", {}).get("currency", "CNY"))
    words = labels(lang, currency, interval_level(result))
    s = result.summary()
    worst = result.worst_severity()
    lines = [
        f"# {words('title')}: {_md(result.package_name)}",
        "",
        _verdict(worst, fail_on, words),
        "",
        f"| {words('status')} | {words('count')} |",
        "|---|---:|",
        *(f"| {words(k)} | {v} |" for k, v in s["by_status"].items()),
        "",
    ]
    open_items = sorted(
        (f for f in result.findings if f.status in (Status.FAIL, Status.INCONCLUSIVE)),
        key=lambda f: (f.status != Status.FAIL, -f.severity.rank),
    )
    if open_items:
        lines += [
            f"| {words('check')} | {words('status')} | {words('subject')} | "
            f"{words('estimate')} | {words('ci')} | {words('finding')} |",
            "|---|---|---|---:|---|---|",
            *(_row(f, words) for f in open_items),
            "",
        ]
    lines += [
        f"| {words('table')} | {words('rows_read')} | {words('rows_used')} | "
        f"{words('rows_quarantined')} |",
        "|---|---:|---:|---:|",
        *(
            f"| {_md(n)} | {t.rows_read:,} | {t.rows_used:,} | {t.rows_quarantined:,} |"
            for n, t in result.tables.items()
        ),
        "",
        f"auditor {result.auditor_version} · config `{result.config_sha256[:12]}` · "
        f"seed {result.seed}",
        "",
    ]
    return "\n".join(lines)


def _verdict(worst: Severity | None, fail_on: str, words: Labels) -> str:
    if worst is None:
        return f"**{words('verdict_none')}**"
    stops = fail_on != "never" and worst.rank >= Severity(fail_on).rank
    gate = words("gate_exit" if stops else "gate_below", fail_on=fail_on)
    return f"**{words('verdict_fail', severity=words(str(worst)))}** ({gate})."


def _row(f: Finding, words: Labels) -> str:
    status = words(str(f.status)) + (f" ({words(str(f.severity))})" if f.status == "fail" else "")
    ci = "" if f.ci is None else f"{value(f, words, f.ci[0])} – {value(f, words, f.ci[1])}"
    subject = ", ".join(f"{k}={v}" for k, v in f.subject.items())
    cells = (f.check, status, subject, value(f, words, f.estimate), ci, sentence(f, words))
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def _md(text: object) -> str:
    """``text`` safe inside a Markdown table cell (or a heading): invisible characters,
    line breaks included, written as visible escapes (``\\x1b``, ``\\n``), runs of spaces
    collapsed, ``<``, ``>`` and ``&`` as entities, Markdown's special characters (``|``
    among them) backslash-escaped."""
    flat = " ".join(visible(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)
