"""Validate a read table against the contract: cast, check, quarantine with reasons.

For each table, in the engine:

1. ``checked__<t>`` (stored for text formats; a view for Parquet, whose typed columns
   cast cheaply again): every parsed row with its contract columns cast to their types
   (text trimmed, empty text missing, categories lower-cased), ``_raw`` (the row's
   submitted values of the cast columns as a JSON object, kept only where a cast may
   have failed or a category is outside its list: null on clean rows) and ``_hint``
   (the row may break a rule). For CSV this is the one scan of the file: parse and
   cast in one pass (see ``ingest.store_in_file_order``).
2. ``flagged__<t>``: the rows with ``_hint``, found in the same pass as the count of
   each key (DQ-02). Only on these rows are the rules spelled out with their values,
   ``_bad__<col>`` (the text where a cast failed) taken from ``_raw``.
3. ``issues__<t>`` (stored): one row per (row, rule) that fails, with reason code,
   column and offending value; malformed records and duplicate keys are issues too.
4. The rows used: (1) minus every row with an issue, contract defaults applied
   (status ``completed``, pass_through, incentive and tip 0, tip_to_worker = tip) and
   every contract column present (null where the file lacks it). A view, not a copy.

So ``rows_read = rows_used + rows_quarantined`` by construction: a row is quarantined
exactly when it has at least one issue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from auditor.engine import Engine, as_instant, as_text, instant_seconds, json_field_text, trimmed
from auditor.ingest import RawTable, ReadAccount, SourceFile, store_in_file_order
from auditor.reasons import Reason
from auditor.schema import ENGINE_TYPE, TABLES, Column, ColumnType, TableSpec

__all__ = ["Plausibility", "ValidatedTable", "validate_table"]

T = ColumnType
_BOOL_WORDS = {
    "true": True,
    "t": True,
    "1": True,
    "yes": True,
    "y": True,
    "false": False,
    "f": False,
    "0": False,
    "no": False,
    "n": False,
}
_CAST_FAILURE: dict[ColumnType, Reason] = {
    T.TIMESTAMP: Reason.INVALID_TIMESTAMP,
    T.DATE: Reason.INVALID_DATE,
    T.MONEY: Reason.INVALID_NUMBER,
    T.NUMBER: Reason.INVALID_NUMBER,
    T.FRACTION: Reason.INVALID_NUMBER,
    T.BOOL: Reason.INVALID_BOOLEAN,
    T.CATEGORY: Reason.INVALID_CATEGORY,
}
_TIME_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (
        ("requested_at", "accepted_at"),
        ("accepted_at", "pickup_at"),
        ("pickup_at", "dropoff_at"),
        ("accepted_at", "dropoff_at"),
    ),
    "account_actions": (("started_at", "ended_at"), ("appealed_at", "reviewed_at")),
    "complaints": (("received_at", "resolved_at"),),
}
"""Per table, pairs of times (earlier, later) that must not be out of order (DQ-03)."""
_PERIODS = {
    "payouts": ("period_start", "period_end"),
    "fee_schedule": ("effective_from", "effective_to"),
}
KEY_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class Plausibility:
    """Limits beyond which a value, though well-formed, cannot be real, so that one row
    cannot stall or distort an audit (a session ending in 9999).

    Attributes:
        earliest: first plausible day of any timestamp or date (inclusive).
        latest: last plausible day (inclusive).
        max_session_hours: longest plausible online session, hours.
    """

    earliest: dt.date = dt.date(2000, 1, 1)
    latest: dt.date = dt.date(2099, 12, 31)
    max_session_hours: float = 7 * 24.0

    @classmethod
    def of(cls, earliest: str, latest: str, max_session_hours: float) -> Plausibility:
        """From ``[package]``'s ``earliest_date``, ``latest_date`` (YYYY-MM-DD) and
        ``max_session_hours``."""
        return cls(
            dt.date.fromisoformat(earliest), dt.date.fromisoformat(latest), max_session_hours
        )

    def window(self, kind: ColumnType) -> tuple[ir.Value, ir.Value]:
        """The window as engine literals for a column of ``kind`` (timestamp or date)."""
        if kind == T.DATE:
            return ibis.literal(self.earliest), ibis.literal(self.latest)
        start = dt.datetime.combine(self.earliest, dt.time(), dt.UTC)
        end = dt.datetime.combine(self.latest + dt.timedelta(days=1), dt.time(), dt.UTC)
        dtype = ENGINE_TYPE[T.TIMESTAMP]
        return ibis.literal(start, type=dtype), ibis.literal(end, type=dtype)


@dataclass(frozen=True, slots=True, eq=False)
class ValidatedTable:
    """One table after validation.

    Attributes:
        name: contract table name.
        source: the file it came from.
        table: engine table of the rows used: ``_row``, every contract column (typed, defaults
            applied, null where the file lacks the column), then the file's other columns.
        issues: engine table, one row per failed rule: ``_row``, ``parsed`` (false for
            malformed records, whose ``_row`` is already a record number), ``key``, ``column``,
            ``reason``, ``value``.
        columns_present: contract columns the file has (after mapping).
        account: what reading the file found (record counts, malformed records).
        extra_columns: the file's columns that are not in the contract (kept).
        rows_read: records in the file.
        rows_used: records that passed every rule.
        rows_quarantined: records with at least one issue.
        quarantined_by_reason: reason code -> records with that issue (a record with two
            issues counts under both), sorted by code.
    """

    name: str
    source: SourceFile
    table: Table
    issues: Table
    account: ReadAccount
    columns_present: tuple[str, ...]
    extra_columns: tuple[str, ...]
    rows_read: int
    rows_used: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int]


def validate_table(
    engine: Engine, raw: RawTable, plausible: Plausibility | None = None
) -> ValidatedTable:
    """Validate one table read by ``ingest``; see the module docstring.

    Cost on large tables: one pass casts every column once and is stored (for CSV, the
    same pass parses the file); a scan of its ``_hint`` finds the rows that may break a
    rule; the rules are spelled out, with their values, only on those few rows;
    duplicates need one grouping of the key. The rows used are a view (stored rows minus
    quarantined ones), not another copy.
    """
    spec = TABLES[raw.name]
    limits = plausible or Plausibility()
    present = tuple(c for c in spec.column_names if c in raw.columns)
    extras = tuple(c for c in raw.columns if c not in spec.column_names)
    cast = _with_hint(_checked(raw.raw, spec, present, extras), spec, present, limits)
    # Parquet is typed and columnar: casting it again in each later pass is cheaper than
    # storing a copy (10 M orders: 5.6 s to store). Text formats are cast once and stored.
    # Sessions are stored whatever the format: the overlap rule reads them several times.
    as_view = raw.source.format == "parquet" and raw.name != "sessions" and not raw.derived
    if as_view:
        checked = engine.view(f"checked__{raw.name}", cast)
        assert raw.account is not None  # a Parquet file is counted when it is read
        account = raw.account
    else:
        checked, account = store_in_file_order(engine, raw, f"checked__{raw.name}", cast)
    flagged_rows, repeated = _flag_rows(
        engine, raw.name, checked, spec, present, one_pass=as_view, unique_key=raw.unique_key
    )
    flagged = engine.materialize(
        f"flaggedrows__{raw.name}", checked.semi_join(flagged_rows, "_row")
    )
    flagged = _with_failed_text(flagged, spec, present)
    issue_tables = [_malformed_issues(account.malformed)]
    issue_tables += [rule.issues() for rule in _row_rules(flagged, spec, present, limits)]
    issue_tables += list(_duplicate_rules(engine, checked, spec, repeated))
    first = engine.materialize(f"issues1__{raw.name}", ibis.union(*issue_tables, distinct=False))
    parts = [first]
    if raw.name == "sessions":
        parts.append(_session_overlaps(checked, first))
    issues = engine.materialize(f"issues__{raw.name}", ibis.union(*parts, distinct=False))

    used = checked.anti_join(issues.filter(issues.parsed), "_row")
    table = _with_defaults(used, spec, present, extras)

    n_quarantined_parsed = int(issues.filter(issues.parsed)._row.nunique().execute())
    n_parsed = account.rows_read - account.n_malformed
    rows_used = n_parsed - n_quarantined_parsed
    by_reason = dict(sorted(_count_by_reason(issues).items()))
    return ValidatedTable(
        name=raw.name,
        source=raw.source,
        table=table,
        issues=issues,
        account=account,
        columns_present=present,
        extra_columns=extras,
        rows_read=account.rows_read,
        rows_used=rows_used,
        rows_quarantined=account.rows_read - rows_used,
        quarantined_by_reason=by_reason,
    )


def _count_by_reason(issues: Table) -> dict[str, int]:
    """Reason -> records with that issue (malformed records and parsed rows apart)."""
    distinct = issues.select("reason", "parsed", "_row").distinct()
    frame = distinct.group_by("reason").aggregate(n=distinct.count()).execute()
    return {str(r): int(n) for r, n in zip(frame["reason"], frame["n"], strict=True)}


# -- step 1: cast ---------------------------------------------------------------------------


def _text(value: ir.Value) -> ir.StringValue:
    """Text with surrounding spaces removed; empty text is missing."""
    if value.type().is_string():
        return trimmed(value).nullif("")
    return as_text(value)


def _cast(column: Column, value: ir.Value) -> ir.Value:
    """The typed value of raw ``value`` (null where it does not cast). Whether a cast
    failed is judged on the stored rows: a superset in :func:`_checked`, exactly in
    :func:`_with_failed_text`."""
    text = _text(value)
    kind = column.type
    if kind in (T.ID, T.TEXT):
        return text
    if kind == T.CATEGORY:
        return text.lower()
    if kind == T.BOOL:
        if value.type().is_boolean():
            return value
        return text.lower().substitute(_BOOL_WORDS, else_=ibis.null("boolean"))
    # Casts need no trim: the engine ignores surrounding spaces, and blank text fails the
    # cast but is not reported as invalid (``_with_failed_text`` tests the trimmed text).
    typed = as_instant(value) if kind == T.TIMESTAMP else value.try_cast(ENGINE_TYPE[kind])
    if kind in (T.MONEY, T.NUMBER, T.FRACTION) and value.type().is_string():
        # The engine reads "1_000" as 1000 and "1_5" as 15: digit separators are not
        # part of the contract's numbers (they hide thousands-separator mix-ups).
        typed = ibis.ifelse(value.contains("_"), ibis.null(typed.type()), typed)
    if kind in (T.NUMBER, T.FRACTION):
        # NaN and infinities cast, but are not numbers a rule or a sum can use.
        typed = ibis.ifelse(typed.isnan() | typed.isinf(), ibis.null("float64"), typed)
    return typed


def _casts(column: Column) -> bool:
    """Whether a cast of this column can fail (so its raw text must be checked)."""
    return column.type not in (T.ID, T.TEXT)


def _checked(t: Table, spec: TableSpec, present: tuple[str, ...], extras: tuple[str, ...]) -> Table:
    """Cast the contract columns of raw table ``t``.

    ``_raw`` is the row's submitted values of the columns whose cast can fail, as a JSON
    object, where a present value did not cast (blank text included, a superset) or a
    category is outside its list; null otherwise, so clean rows carry nothing.
    """
    select: dict[str, ir.Value] = {"_row": t._row.cast("int64")}
    needs_text: ir.BooleanValue = ibis.literal(False)
    for name in present:
        column = spec.column(name)
        typed = _cast(column, t[name])
        select[name] = typed.cast(ENGINE_TYPE[column.type])
        if column.type == T.CATEGORY:
            needs_text |= typed.notnull() & ~typed.isin(list(column.allowed))
        elif _casts(column):
            needs_text |= t[name].notnull() & typed.isnull()
    for name in extras:
        select[name] = t[name]
    cast_columns = [c for c in present if _casts(spec.column(c))]
    if cast_columns:
        submitted = ibis.struct({c: t[c] for c in cast_columns}).cast("json").cast("string")
        select["_raw"] = ibis.ifelse(needs_text, submitted, ibis.null("string"))
    else:
        select["_raw"] = ibis.null("string")
    checked = t.select(**select)
    if len(spec.key) == 1:
        return checked  # the key column itself is the key
    parts = [
        as_text(checked[k]).fill_null("") if k in present else ibis.literal("") for k in spec.key
    ]
    return checked.mutate(_key=ibis.literal(KEY_SEPARATOR).join(parts))


def _with_failed_text(t: Table, spec: TableSpec, present: tuple[str, ...]) -> Table:
    """Add ``_bad__<col>`` to checked rows ``t``: the submitted text (trimmed) where the
    value failed to cast or is a category outside its list; null otherwise."""
    bad: dict[str, ir.Value] = {}
    for name in present:
        column = spec.column(name)
        if not _casts(column):
            continue
        text = _text(json_field_text(t._raw, name))
        if column.type == T.CATEGORY:
            failed = t[name].notnull() & ~t[name].isin(list(column.allowed))
        else:
            failed = text.notnull() & t[name].isnull()
        bad[f"_bad__{name}"] = ibis.ifelse(failed, text, ibis.null("string"))
    return t.mutate(**bad)


def _with_hint(t: Table, spec: TableSpec, present: tuple[str, ...], limits: Plausibility) -> Table:
    """Add ``_hint`` to checked table ``t``: the row may break a row rule (a superset: the
    rules are spelled out exactly on these rows only)."""
    failed_text = [f"_bad__{c}" for c in present if _casts(spec.column(c))]
    no_failures = t.mutate(**{b: ibis.null("string") for b in failed_text})
    hint: ir.BooleanValue = no_failures._raw.notnull()
    for rule in _row_rules(no_failures, spec, present, limits):
        hint |= rule.when.fill_null(False)
    return no_failures.mutate(_hint=hint).drop(*failed_text)


def _key_of(t: Table, spec: TableSpec) -> ir.StringValue:
    """The row's key as text (composite keys joined by ``|``); null where missing."""
    if len(spec.key) > 1:
        return t._key
    key = spec.key[0]
    return as_text(t[key]) if key in t.columns else ibis.null("string")


# -- step 2: rules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Rule:
    """One row rule: where it fails (``when``), and what the quarantine reports."""

    table: Table
    spec: TableSpec
    when: ir.BooleanValue
    reason: Reason
    column: str | None
    value: ir.Value

    def issues(self) -> Table:
        return _issue(self.table, self.spec, self.when, self.reason, self.column, self.value)


def _issue(
    t: Table,
    spec: TableSpec,
    when: ir.BooleanValue,
    reason: Reason,
    column: str | None,
    value: ir.Value,
) -> Table:
    return t.filter(when).select(
        _row=t._row,
        parsed=ibis.literal(True),
        key=_key_of(t, spec),
        column=ibis.literal(column, type="string"),
        reason=ibis.literal(str(reason)),
        value=as_text(value),
    )


def _malformed_issues(malformed: Table) -> Table:
    return malformed.select(
        _row=malformed._row.cast("int64"),
        parsed=ibis.literal(False),
        key=ibis.null("string"),
        column=ibis.null("string"),
        reason=ibis.literal(str(Reason.MALFORMED_RECORD)),
        value=malformed.value.substr(0, 500),
    )


def _row_rules(
    t: Table, spec: TableSpec, present: tuple[str, ...], limits: Plausibility
) -> Iterator[_Rule]:
    """Rules that look at one row alone (DQ-01, DQ-03 and DQ-04 except overlaps)."""

    def rule(when: ir.BooleanValue, reason: Reason, column: str | None, value: ir.Value) -> _Rule:
        return _Rule(t, spec, when, reason, column, value)

    has = set(present)
    for name in present:
        column = spec.column(name)
        bad = f"_bad__{name}"
        if bad in t.columns:
            yield rule(t[bad].notnull(), _CAST_FAILURE[column.type], name, t[bad])
        if column.required:
            missing = t[name].isnull()
            if bad in t.columns:
                missing &= t[bad].isnull()
            yield rule(missing, Reason.MISSING_REQUIRED, name, ibis.literal(""))
        if column.non_negative:
            yield rule(t[name] < 0, Reason.NEGATIVE_AMOUNT, name, t[name])
        if column.type == T.FRACTION:
            yield rule((t[name] < 0) | (t[name] > 1), Reason.FRACTION_OUT_OF_RANGE, name, t[name])
        if column.type in (T.TIMESTAMP, T.DATE):
            lo, hi = limits.window(column.type)
            beyond = (t[name] > hi) if column.type == T.DATE else (t[name] >= hi)
            yield rule((t[name] < lo) | beyond, Reason.TIMESTAMP_OUT_OF_RANGE, name, t[name])
    if spec.name == "orders":
        status = t.status.fill_null("completed") if "status" in has else ibis.literal("completed")
        if "dropoff_at" in has:
            no_dropoff = t.dropoff_at.isnull() & t["_bad__dropoff_at"].isnull()
        else:
            no_dropoff = ibis.literal(True)
        yield rule(
            (status == "completed") & no_dropoff,
            Reason.MISSING_REQUIRED,
            "dropoff_at",
            ibis.literal(""),
        )
        if "pass_through" in has:
            yield rule(
                t.customer_price < t.pass_through,
                Reason.PRICE_BELOW_PASS_THROUGH,
                "customer_price",
                _pair("customer_price", t.customer_price, "pass_through", t.pass_through),
            )
        if "tip_to_worker" in has:
            tip = t.tip.fill_null(0) if "tip" in has else ibis.literal(0)
            yield rule(
                t.tip_to_worker > tip,
                Reason.TIP_TO_WORKER_EXCEEDS_TIP,
                "tip_to_worker",
                _pair("tip_to_worker", t.tip_to_worker, "tip", tip),
            )
    for earlier, later in _TIME_ORDER.get(spec.name, ()):
        if earlier in has and later in has:
            yield rule(
                t[earlier] > t[later],
                Reason.TIME_ORDER,
                later,
                _pair(earlier, t[earlier], later, t[later]),
            )
    if spec.name == "sessions":
        yield rule(
            t.offline_at <= t.online_at,
            Reason.SESSION_END_NOT_AFTER_START,
            "offline_at",
            _pair("online_at", t.online_at, "offline_at", t.offline_at),
        )
        # In seconds between the instants (adding an interval to a time near the end of
        # the engine's range would overflow and stop the query; the wall clock would count
        # a daylight-saving hour that did not pass).
        seconds = instant_seconds(t.offline_at) - instant_seconds(t.online_at)
        yield rule(
            seconds > round(limits.max_session_hours * 3600),
            Reason.SESSION_TOO_LONG,
            "offline_at",
            _pair("online_at", t.online_at, "offline_at", t.offline_at),
        )
    if spec.name in _PERIODS:
        start, end = _PERIODS[spec.name]
        if start in has and end in has:
            yield rule(
                t[end] < t[start],
                Reason.PERIOD_END_BEFORE_START,
                end,
                _pair(start, t[start], end, t[end]),
            )


def _pair(a: str, va: ir.Value, b: str, vb: ir.Value) -> ir.StringValue:
    return ibis.literal(f"{a}=").concat(as_text(va), ibis.literal(f" {b}="), as_text(vb))


def _has_key(spec: TableSpec, present: tuple[str, ...]) -> bool:
    """The table has a key whose required columns are all in the file (DQ-02 applies)."""
    return all(k in present for k in spec.key if spec.column(k).required)


def _flag_rows(
    engine: Engine,
    name: str,
    t: Table,
    spec: TableSpec,
    present: tuple[str, ...],
    *,
    one_pass: bool,
    unique_key: bool = False,
) -> tuple[Table, Table | None]:
    """Rows of checked table ``t`` that may break a rule (``flagged__<t>``: ``_row``), and
    the keys that occur more than once (``_k``; None without a usable key).

    With a key and ``one_pass`` (``t`` is a view, costly to scan twice), one pass groups
    the rows by key and notes, per key, the count, whether a row has ``_hint`` and the
    first row: a key seen once with a hint gives its one row. Only when some key occurs
    more than once (or is missing on several rows) does a second pass collect the flagged
    rows one by one; clean tables never need it. Without ``one_pass`` (a stored table), a
    filter pass and a grouping of the key alone. A ``unique_key`` is not grouped.
    """
    hinted = t.filter(t._hint).select("_row")
    if unique_key or not _has_key(spec, present):
        return engine.materialize(f"flagged__{name}", hinted), None
    if not one_pass:
        # A stored table: a filter and a grouping of the key alone are cheaper than one
        # grouping that carries the hint and the first row (measured: 3.9 s against 5.2 s
        # for 10 M orders).
        flagged = engine.materialize(f"flagged__{name}", hinted)
        keys = t.select(_k=_key_of(t, spec))
        counts = keys.filter(keys._k.notnull()).group_by("_k").aggregate(_n=ibis._.count())
        repeated = engine.materialize(f"dupkeys__{name}", counts.filter(counts._n > 1).select("_k"))
        return flagged, repeated if int(repeated.count().execute()) else None
    marked = t.select("_row", "_hint", _k=_key_of(t, spec))
    per_key = marked.group_by("_k").aggregate(
        _n=marked.count(), _hinted=marked._hint.any(), _first=marked._row.min()
    )
    info = engine.materialize(
        f"keyinfo__{name}", per_key.filter((per_key._n > 1) | per_key._hinted)
    )
    multi = info.filter(info._n > 1)
    if int(multi.count().execute()) == 0:
        flagged = engine.materialize(f"flagged__{name}", info.select(_row=info._first))
        return flagged, None
    flagged = engine.materialize(f"flagged__{name}", hinted)
    return flagged, multi.filter(multi._k.notnull()).select("_k")


def _duplicate_rules(
    engine: Engine, t: Table, spec: TableSpec, repeated: Table | None
) -> Iterator[Table]:
    """DQ-02. Exact copies after the first are quarantined; rows sharing a key with
    different content are all quarantined. Content is compared after casting, over
    every column; only rows whose key is in ``repeated`` (keys seen more than once, from
    :func:`_flag_rows`) are hashed."""
    if repeated is None:
        return
    label = KEY_SEPARATOR.join(spec.key)
    rows = t.mutate(_k=_key_of(t, spec))
    cand = engine.materialize(f"dupcand__{spec.name}", rows.semi_join(repeated, "_k"))
    content = [c for c in t.columns if c not in ("_row", "_key", "_raw", "_hint", "_k")]
    cand = cand.mutate(_h=ibis.struct({c: cand[c] for c in content}).hash())
    variants = cand.group_by("_k").aggregate(_v=cand._h.nunique())
    cand = cand.join(variants, "_k")
    yield _issue(cand, spec, cand._v > 1, Reason.CONFLICTING_ID, label, cand._k)
    exact = cand.filter(cand._v == 1)
    exact = exact.mutate(_rn=ibis.row_number().over(group_by="_k", order_by="_row"))
    yield _issue(exact, spec, exact._rn >= 1, Reason.DUPLICATE_ROW, label, exact._k)


def _session_overlaps(checked: Table, issues: Table) -> Table:
    """DQ-03 for sessions, among rows with no other issue: a session that starts before
    an earlier session of the same worker ends is quarantined (the earlier one is kept)."""
    spec = TABLES["sessions"]
    s = checked.anti_join(issues.filter(issues.parsed), "_row")
    s = s.filter(s.online_at.notnull() & s.offline_at.notnull() & (s.offline_at > s.online_at))
    order = ["online_at", "_row"]
    earlier = ibis.window(group_by="worker_id", order_by=order, rows=(None, -1))
    s = s.mutate(_prev=s.offline_at.max().over(earlier))
    return _issue(
        s,
        spec,
        s.online_at < s._prev,
        Reason.SESSION_OVERLAP,
        "online_at",
        _pair("online_at", s.online_at, "earlier session ends", s._prev),
    )


# -- step 3: the rows used ------------------------------------------------------------------

_DEFAULTS: dict[str, Callable[[Table], ir.Value]] = {
    "status": lambda t: ibis.literal("completed"),
    "pass_through": lambda t: ibis.literal(0).cast(ENGINE_TYPE[T.MONEY]),
    "incentive": lambda t: ibis.literal(0).cast(ENGINE_TYPE[T.MONEY]),
    "tip": lambda t: ibis.literal(0).cast(ENGINE_TYPE[T.MONEY]),
}


def _with_defaults(
    t: Table, spec: TableSpec, present: tuple[str, ...], extras: tuple[str, ...]
) -> Table:
    out: dict[str, ir.Value] = {"_row": t._row}
    for column in spec.columns:
        name = column.name
        dtype = ENGINE_TYPE[column.type]
        value: ir.Value = t[name] if name in present else ibis.null(dtype)
        if spec.name == "orders" and name in _DEFAULTS:
            value = value.fill_null(_DEFAULTS[name](t))
        out[name] = value.cast(dtype)
    if spec.name == "orders":
        out["tip_to_worker"] = out["tip_to_worker"].fill_null(out["tip"])
    for name in extras:
        out[name] = t[name]
    return t.select(**out)
