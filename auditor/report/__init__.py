"""Stage 6, report: the findings in forms people read.

- :func:`render_html`: ``report.html``, self-contained, English or Chinese;
- :func:`render_markdown`: ``summary.md`` for CI job summaries;
- :func:`render_junit`: ``junit.xml``, one test case per check and subject;
- :func:`build_figures`: the plotly figures, for notebooks.

Reports publish aggregates only (no IDs, no raw rows); cells with fewer than
``[report] min_cell_workers`` workers are suppressed and counted.
"""

from __future__ import annotations

from auditor.report._figures import FIGURE_NAMES, Figure, build_figures
from auditor.report._html import SECTIONS, render_html
from auditor.report._junit import render_junit
from auditor.report._labels import LANGUAGES, Labels, labels
from auditor.report._markdown import render_markdown

__all__ = [
    "FIGURE_NAMES",
    "LANGUAGES",
    "SECTIONS",
    "Figure",
    "Labels",
    "build_figures",
    "labels",
    "render_html",
    "render_junit",
    "render_markdown",
]
