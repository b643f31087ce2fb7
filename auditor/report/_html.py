"""report.html: one self-contained page a regulator can read, publish and defend.

The page inlines plotly's JavaScript (no network fetch) and is deterministic: the same
result and language give the same bytes. It publishes aggregates only; every string that
came from the data is escaped (control characters made visible, then ``html.escape``, for
the page; ``html.escape`` before plotly for labels inside figures, whose JSON escapes
control characters itself).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd
from plotly.offline import get_plotlyjs

from auditor.findings import Finding, Status
from auditor.report._escape import visible
from auditor.report._figures import Figure, build_figures
from auditor.report._labels import Labels, interval_level, labels
from auditor.report._sentences import metric_label, sentence, value

if TYPE_CHECKING:
    from auditor.findings import AuditResult

__all__ = ["SECTIONS", "render_html"]

SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("data_quality", ("DQ-01", "DQ-02", "DQ-03", "DQ-04", "DQ-05"), ()),
    (
        "fees",
        ("FEE-01", "FEE-02", "FEE-03", "FEE-04", "FEE-05", "FEE-06"),
        ("take_rate_distribution", "daily_take_rate"),
    ),
    ("pay_cutting", ("FEE-07", "FEE-08", "FEE-09", "DSP-04", "PAY-05"), ()),
    ("earnings", ("PAY-01",), ("hourly_earnings",)),
    ("statutory_rules", ("PAY-03", "PAY-04"), ()),
    ("working_time", ("HRS-01", "HRS-02"), ("online_hours",)),
    ("insurance", ("INS-01",), ()),
    ("fairness", ("DSP-01", "DSP-02", "DSP-03", "PAY-02", "DED-01"), ("fairness_forest",)),
    ("pricing", ("PRC-01", "PRC-02"), ("pricing_forest", "price_leads")),
    ("service", ("SVC-01",), ()),
    ("accountability", ("ACC-01", "ACC-02", "CMP-01"), ()),
)
"""Report sections: (label key, checks shown, figures shown), in page order."""

_CSS = """
:root { --fail:#c0392b; --pass:#2e7d32; --inc:#7f8c8d; --na:#9e9e9e; --line:#e0e0e0; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; margin: 0; color: #222; line-height: 1.45; }
header { background: #1f2d3d; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem 0; font-size: 1.6rem; }
header p { margin: 0; opacity: .85; font-size: .9rem; }
nav { position: sticky; top: 0; background: #f5f6f8; border-bottom: 1px solid var(--line);
  padding: .5rem 2rem; font-size: .9rem; z-index: 10; }
nav a { margin-right: 1rem; color: #1f4e79; text-decoration: none; }
main { padding: 0 2rem 3rem 2rem; max-width: 1200px; }
section { margin-top: 2rem; }
h2 { border-bottom: 2px solid #1f2d3d; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #fafafa; }
td.id { white-space: nowrap; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .6rem; color: #fff;
  font-size: .8rem; white-space: nowrap; }
.fail { background: var(--fail); } .pass { background: var(--pass); }
.inconclusive { background: var(--inc); } .not_assessed { background: var(--na); }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem 1rem;
  min-width: 7rem; }
.card .n { font-size: 1.6rem; font-weight: 600; }
.note { color: #555; font-size: .85rem; }
figure { margin: 1rem 0; }
figcaption { color: #555; font-size: .85rem; }
pre { background: #f7f7f7; padding: .8rem; overflow-x: auto; font-size: .8rem; }
details summary { cursor: pointer; color: #1f4e79; }
"""


def render_html(result: AuditResult, lang: str = "en") -> str:
    """The report page for ``result`` in ``lang`` (``"en"`` or ``"zh"``)."""
    currency = str(result.config.get("audit", {}).get("currency", "CNY"))
    words = labels(lang, currency, interval_level(result))
    k = int(result.config.get("report", {}).get("min_cell_workers", 10))
    figures = build_figures(result, words)
    body = [
        _summary(result, words),
        _data_quality(result, words),
        *(
            _section(
                key,
                _of(result.findings, checks),
                [figures[n] for n in names if n in figures],
                words,
                _family_sizes(result),
            )
            for key, checks, names in SECTIONS[1:]
        ),
        _statistics(result, words, k),
        _provenance(result, words),
    ]
    nav = "".join(
        f'<a href="#{key}">{_e(words(key))}</a>'
        for key in ("summary", *(s[0] for s in SECTIONS), "platform_statistics", "provenance")
    )
    head = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(words('title'))}: {_e(result.package_name)}</title>\n"
        f"<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head>\n"
    )
    header = (
        f"<header><h1>{_e(words('title'))}</h1><p>"
        + _e(words("generated_by", version=result.auditor_version, package=result.package_name))
        + f" · {_e(words('privacy_note', k=k))} {_e(words('offline_note'))}</p></header>\n"
    )
    return (
        head
        + "<body>\n"
        + header
        + f"<nav>{nav}</nav>\n<main>\n"
        + "\n".join(body)
        + ("\n</main>\n</body>\n</html>\n")
    )


def _summary(result: AuditResult, words: Labels) -> str:
    counts = result.summary()
    by_status, by_severity = counts["by_status"], counts["fail_by_severity"]
    cards = [
        f'<div class="card"><div class="n">{by_severity[s]}</div>'
        f'<span class="badge fail">{_e(words("fail"))}</span> {_e(words(s))}</div>'
        for s in ("critical", "high", "medium", "low")
        if by_severity[s]
    ] + [
        f'<div class="card"><div class="n">{by_status[s]}</div>'
        f'<span class="badge {s}">{_e(words(s))}</span></div>'
        for s in ("pass", "inconclusive", "not_assessed")
    ]
    open_items = sorted(
        (f for f in result.findings if f.status in (Status.FAIL, Status.INCONCLUSIVE)),
        key=lambda f: (f.status != Status.FAIL, -f.severity.rank),
    )
    return (
        f'<section id="summary"><h2>{_e(words("summary"))}</h2>'
        f'<p class="note">{_e(words("summary_lead"))}</p>'
        f'<div class="cards">{"".join(cards)}</div>'
        + _findings_table(open_items, words)
        + "</section>"
    )


def _data_quality(result: AuditResult, words: Labels) -> str:
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(t.file)}</td><td class='num'>{t.rows_read:,}</td>"
        f"<td class='num'>{t.rows_used:,}</td><td class='num'>{t.rows_quarantined:,}</td></tr>"
        for name, t in result.tables.items()
    )
    accounting = (
        f"<table><tr><th>{_e(words('table'))}</th><th>{_e(words('file'))}</th>"
        f"<th>{_e(words('rows_read'))}</th><th>{_e(words('rows_used'))}</th>"
        f"<th>{_e(words('rows_quarantined'))}</th></tr>{rows}</table>"
    )
    reasons = "".join(
        f"<tr><td>{_e(name)}</td><td><code>{_e(reason)}</code></td><td class='num'>{n:,}</td></tr>"
        for name, t in result.tables.items()
        for reason, n in t.quarantined_by_reason.items()
    )
    reason_table = (
        f"<table><tr><th>{_e(words('table'))}</th><th>{_e(words('reason'))}</th>"
        f"<th>{_e(words('rows'))}</th></tr>{reasons}</table>"
        if reasons
        else ""
    )
    dq = _of(result.findings, SECTIONS[0][1])
    shown = [f for f in dq if f.status != Status.PASS]
    passed = len(dq) - len(shown)
    tail = (
        f"<p class='note'>{passed} × <span class='badge pass'>{_e(words('pass'))}</span></p>"
        if passed
        else ""
    )
    return (
        f'<section id="data_quality"><h2>{_e(words("data_quality"))}</h2>'
        f'<p class="note">{_e(words("dq_lead"))}</p>{accounting}{reason_table}'
        + (_findings_table(shown, words) if shown else "")
        + tail
        + "</section>"
    )


def _family_sizes(result: AuditResult) -> tuple[int, int]:
    """Tests in the audit's confirmatory and secondary Holm families."""
    families = result.test_families or {}
    return tuple(  # type: ignore[return-value]
        int((families.get(name) or {}).get("tests", 0)) for name in ("confirmatory", "secondary")
    )


def _section(
    key: str,
    findings: list[Finding],
    figures: list[Figure],
    words: Labels,
    families: tuple[int, int] = (0, 0),
) -> str:
    parts = [f'<section id="{key}"><h2>{_e(words(key))}</h2>']
    if key == "fairness":
        lead = words("fairness_lead")
        if families[0]:
            lead += " " + words("families_note", n=families[0], m=families[1])
        parts.append(f'<p class="note">{_e(lead)}</p>')
    if key == "statutory_rules":
        parts.append(f'<p class="note">{_e(words("rules_lead"))}</p>')
        parts.append(_rules_table(findings, words))
    parts += [_figure(fig, words) for fig in figures]
    parts.append(_findings_table(findings, words) if findings else "")
    if not findings:
        parts.append(f'<p class="note">{_e(words("no_findings"))}</p>')
    parts.append("</section>")
    return "".join(parts)


def _figure(fig: Figure, words: Labels) -> str:
    if fig.empty:  # every cell suppressed: say so instead of drawing empty axes
        title = fig.figure.layout.title.text or ""
        note = words("suppressed_cells", n=fig.suppressed, k=fig.min_workers)
        return f'<p class="note"><b>{_e(title)}</b>: {_e(note)}</p>'
    div = fig.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{fig.name.replace('_', '-')}",
        config={"displaylogo": False, "responsive": True},
    )
    caption = ""
    if fig.name == "hourly_earnings":
        caption = words("quantiles_note", k=fig.min_workers)
    if fig.suppressed:
        caption += " " + words("suppressed_cells", n=fig.suppressed, k=fig.min_workers)
    cap = f"<figcaption>{_e(caption.strip())}</figcaption>" if caption.strip() else ""
    return f"<figure>{div}{cap}</figure>"


def _findings_table(findings: Iterable[Finding], words: Labels) -> str:
    head = "".join(
        f"<th>{_e(words(k))}</th>"
        for k in ("check", "question", "subject", "status", "estimate", "ci", "p_adjusted")
    )
    rows = []
    for f in findings:
        status = str(f.status)
        badge = f'<span class="badge {status}">{_e(words(status))}</span>'
        if f.status == Status.FAIL:
            badge += f" {_e(words(str(f.severity)))}"
        suppressed = bool(f.data.get("suppressed"))
        k = f.data.get("min_cell_workers", 10)
        estimate = _e(words("suppressed", k=k)) if suppressed else _e(value(f, words, f.estimate))
        ci = (
            "–"
            if f.ci is None
            else f"{_e(value(f, words, f.ci[0]))} – {_e(value(f, words, f.ci[1]))}"
        )
        detail = _e(sentence(f, words))
        if words.lang == "zh":
            detail += (
                f"<details><summary>{_e(words('detail_original'))}</summary>"
                f"{_e(f.detail)}</details>"
            )
        if f.missing and words.lang != "zh":
            detail += f"<br>{_e(words('missing'))}: " + _e(", ".join(f.missing))
        rows.append(
            f"<tr><td class='id'>{_e(f.check)}</td>"
            f"<td>{_e(words.check_question(f.check, f.title))}<div class='note'>{detail}</div></td>"
            f"<td>{_e(_subject(f))}</td><td>{badge}</td><td class='num'>{estimate}"
            f"<div class='note'>{_e(metric_label(f.metric, words))}</div></td>"
            f"<td class='num'>{ci}</td><td class='num'>{_e(words.p_value(f.p_adjusted))}</td></tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _rules_table(findings: Iterable[Finding], words: Labels) -> str:
    """Per rule pack assessed (PAY-03): units assessed, below the floor, workers affected,
    money owed and topped up late (dashes where withheld)."""
    assessed = [
        f
        for f in findings
        if f.check == "PAY-03" and f.status != Status.NOT_ASSESSED and f.data.get("rule")
    ]
    if not assessed:
        return ""
    keys = ("rule", "rule_unit", "units_assessed", "units_in_breach", "workers_affected",
            "owed_total", "topped_up_late")  # fmt: skip
    head = "".join(f"<th>{_e(words(key))}</th>" for key in keys)
    rows = []
    for f in assessed:
        d, rule = f.data, f.data["rule"]
        cells = [
            f"<td>{_e(rule.get('name', ''))}<div class='note'>{_e(rule.get('title', ''))} · "
            f"{_e(rule.get('jurisdiction', ''))} · {_e(rule.get('version', ''))}</div></td>",
            f"<td>{_e(words('unit_' + str(d.get('unit'))))}</td>",
            f"<td class='num'>{_e(_count(d.get('units_assessed'), words))}</td>",
            f"<td class='num'>{_e(_count(d.get('units_in_breach'), words))}</td>",
            f"<td class='num'>{_e(_count(d.get('workers_affected'), words))}</td>",
            f"<td class='num'>{_e(words.money(_float(d.get('owed_total'))))}</td>",
            f"<td class='num'>{_e(words.money(_float(d.get('topped_up_late_total'))))}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _statistics(result: AuditResult, words: Labels, k: int) -> str:
    """The platform-work statistics table (already withheld where cells are small)."""
    frame = result.statistics
    parts = [
        f'<section id="platform_statistics"><h2>{_e(words("platform_statistics"))}</h2>',
        f'<p class="note">{_e(words("statistics_lead", k=k))}</p>',
    ]
    if frame is None or frame.empty:
        parts.append(f'<p class="note">{_e(words("no_findings"))}</p>')
        parts.append(_indicators(result, words, k) + "</section>")
        return "".join(parts)
    keys = ("measure", "band", "workers", "units", "share", "mean", "p10", "p25", "median",
            "p75", "p90")  # fmt: skip
    named = ("measure", "band", "workers", "units", "share", "mean", "median")
    head = "".join(f"<th>{_e(words(key) if key in named else key)}</th>" for key in keys)
    rows = []
    for row in frame.itertuples(index=False):
        money = "earnings" in row.measure
        cells = [
            f"<td>{_e(words('stat_' + row.measure))}</td>",
            f"<td>{_e(row.band)}</td>",
            f"<td class='num'>{_e(_count(row.workers, words))}</td>",
            f"<td class='num'>{_e(_count(row.units, words))}</td>",
            f"<td class='num'>{_e(words.percent(_float(row.share)))}</td>",
        ]
        for key in keys[5:]:
            x = _float(getattr(row, key))
            cells.append(f"<td class='num'>{_e(words.money(x) if money else words.number(x))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    parts.append(f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    parts.append(_indicators(result, words, k))
    parts.append("</section>")
    return "".join(parts)


def _indicators(result: AuditResult, words: Labels, k: int) -> str:
    """The labour-management indicators by group (already withheld where cells are small)."""
    frame = result.indicators
    if frame is None or frame.empty:
        return ""
    keys = ("attribute", "group", "indicator", "workers", "mean", "p25", "median", "p75")
    named = ("attribute", "group", "workers", "mean", "median")
    head = "".join(
        f"<th>{_e(words(key) if key in named else ('' if key == 'indicator' else key))}</th>"
        for key in keys
    )
    rows = []
    for row in frame.itertuples(index=False):
        label = words("ind_" + row.indicator) if row.indicator else ""
        percent = row.indicator.startswith("share") or row.indicator == "restrictive_action"
        cells = [
            f"<td>{_e(row.attribute)}</td>",
            f"<td>{_e(row.group)}</td>",
            f"<td>{_e(label)}</td>",
            f"<td class='num'>{_e(_count(row.workers, words))}</td>",
        ]
        for key in keys[4:]:
            x = _float(getattr(row, key))
            shown = words.percent(x) if percent else words.number(x)
            cells.append(f"<td class='num'>{_e(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<h3>{_e(words('indicators_title'))}</h3>"
        f'<p class="note">{_e(words("indicators_lead", k=k))}</p>'
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    )


def _count(x: object, words: Labels) -> str:
    """A count, or a dash where withheld."""
    return words.number(None) if x is None or x is pd.NA or x != x else f"{int(x):,}"  # type: ignore[call-overload]


def _float(x: object) -> float | None:
    """A float, None where missing."""
    return None if x is None or x is pd.NA or x != x else float(x)  # type: ignore[arg-type]


def _provenance(result: AuditResult, words: Labels) -> str:
    tables = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(t.file)}</td><td class='num'>{t.bytes:,}</td>"
        f"<td><code>{_e(t.sha256)}</code></td></tr>"
        for name, t in result.tables.items()
    )
    ignored = (
        f"<p>{_e(words('ignored_files'))}: {_e(', '.join(result.ignored_files))}</p>"
        if result.ignored_files
        else ""
    )
    config = json.dumps(result.config, ensure_ascii=False, indent=2, sort_keys=False)
    return (
        f'<section id="provenance"><h2>{_e(words("provenance"))}</h2>'
        f'<p class="note">{_e(words("provenance_lead"))}</p>'
        f"<table><tr><th>{_e(words('auditor_version'))}</th><td>{_e(result.auditor_version)}"
        f"</td></tr><tr><th>{_e(words('config_sha256'))}</th><td><code>"
        f"{_e(result.config_sha256)}</code></td></tr><tr><th>{_e(words('seed'))}</th>"
        f"<td>{result.seed}</td></tr></table>"
        f"<table><tr><th>{_e(words('table'))}</th><th>{_e(words('file'))}</th><th>bytes</th>"
        f"<th>{_e(words('sha256'))}</th></tr>{tables}</table>{ignored}"
        f"<details><summary>{_e(words('config'))}</summary><pre>{_e(config, lines=True)}</pre>"
        "</details>"
        "</section>"
    )


def _of(findings: Iterable[Finding], checks: tuple[str, ...]) -> list[Finding]:
    return [f for f in findings if f.check in checks]


def _subject(f: Finding) -> str:
    return ", ".join(f"{k}={v}" for k, v in f.subject.items())


def _e(text: object, *, lines: bool = False) -> str:
    """``text`` for the page: invisible characters written as escapes (line feeds kept
    with ``lines``, for preformatted text), then HTML-escaped."""
    return html.escape(visible(text, keep_newlines=lines), quote=True)
