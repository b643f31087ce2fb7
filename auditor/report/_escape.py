"""Data values made safe for each output format, whatever they hold.

- :func:`visible`: text for a page, a Markdown summary or a JUnit file: control characters,
  bidirectional overrides, line separators, non-characters and lone surrogates are written
  as visible escapes (``\\x1b``, ``\\u202e``, ``\\ud800``). What is left is printable, is
  allowed in XML 1.0 and encodes to UTF-8. ``findings.json`` keeps the exact values (JSON
  escapes them itself).
- :func:`formula_safe`: a table about to be written as CSV, with every text cell that a
  spreadsheet would read as a formula prefixed by one ``'`` (OWASP's advice on CSV
  injection). Numbers are left alone.
- :func:`csv_text`: a table as CSV text, formula-safe, with every field that holds a line
  break quoted.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

__all__ = ["FORMULA_START", "csv_text", "formula_safe", "formula_safe_cell", "visible"]

_NOT_C0 = (
    "\x7f-\x9f"  # DEL and the C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029"  # line and paragraph separators
    "\ufffe\uffff"  # non-characters XML 1.0 does not allow
    "\ud800-\udfff"  # lone surrogates (file names that are not UTF-8): UTF-8 cannot hold them
)
_INVISIBLE = re.compile(f"[\x00-\x1f{_NOT_C0}]")  # every C0 control: tab and line breaks too
_INVISIBLE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_NOT_C0}]")

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "'")
"""First characters that make a CSV text cell get a leading ``'``: the formula starters
OWASP and ASVS 1.2.10 list (``= + - @``, tab, carriage return, line feed, NUL), and ``'``
itself, so that removing one leading ``'`` always gives the original value back."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def visible(text: object, *, keep_newlines: bool = False) -> str:
    """``str(text)`` with every character a reader cannot see, or a format cannot hold,
    written as a Python-style escape (``\\t``, ``\\n``, ``\\r``, ``\\xNN`` up to U+00FF,
    ``\\uNNNN`` above): ``"ios\\x1b[31m"`` becomes ``ios\\x1b[31m`` (a backslash, then
    ``x1b``). Backslashes already in ``text`` are left as they are: the exact value is in
    ``findings.json``. With ``keep_newlines``, line feeds stay (for text the renderer
    laid out in lines, such as an indented JSON dump); carriage returns and tabs never do.
    """
    pattern = _INVISIBLE_BUT_NEWLINE if keep_newlines else _INVISIBLE
    return pattern.sub(_escape, str(text))


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def formula_safe_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet will not evaluate: a text value that starts
    with one of :data:`FORMULA_START` gets a leading ``'`` (``=HYPERLINK(...)`` becomes
    ``'=HYPERLINK(...)``), unless it is a plain decimal number such as ``-2.5`` or ``+3``,
    which a spreadsheet reads as that number. Anything that is not text is returned as is.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`formula_safe_cell` applied to every cell of every
    column that is not numeric (numeric and boolean columns are copied unchanged)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        out[column] = series.astype(object).map(formula_safe_cell)
    return out


_NEEDS_QUOTES = re.compile('[,"\r\n]')


def csv_text(frame: pd.DataFrame, *, float_format: str | None = None) -> str:
    """``frame`` (no index) as CSV text: cells made :func:`formula_safe`, numbers formatted
    by pandas (``float_format``, e.g. ``"%.6g"``), lines ending in ``\\n``, and a field
    quoted when it holds a comma, a double quote, a carriage return or a line feed (RFC
    4180). Python 3.11's ``csv`` module, which pandas writes with, leaves a field with a
    lone carriage return unquoted when lines end in ``\\n``, and a reader then splits the
    row there."""
    rendered = formula_safe(frame).to_csv(
        index=False, quoting=csv.QUOTE_ALL, lineterminator="\n", float_format=float_format
    )
    rows = csv.reader(io.StringIO(rendered, newline=""))  # every field quoted: read exactly
    return "".join(",".join(_csv_field(cell) for cell in row) + "\n" for row in rows)


def _csv_field(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell
