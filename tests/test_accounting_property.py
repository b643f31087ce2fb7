"""Nothing lost: over generated dirty tables, every row is used or quarantined with a reason,
and the rows used are exactly those an independent oracle accepts."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import audit
from auditor.errors import PackageError

TIMES = [
    "2026-03-02T08:00:00+08:00",
    "2026-03-02T08:10:00+08:00",
    "2026-03-02T08:30:00+08:00",
    "2026-03-02 09:00:00",
    "",
    "not a time",
    "2026-13-45T00:00:00",
]
MONEY = ["20.00", "1.00", "0", "15.5", "", "-2", "abc", "1e2", " 3.25 "]
IDS = ["00001", "00002", "00003", "x", "", " "]
STATUS = ["completed", "Completed", "", "cancelled_by_customer", "lost"]

row_strategy = st.fixed_dictionaries(
    {
        "order_id": st.sampled_from(IDS),
        "worker_id": st.sampled_from(["w1", "w2", ""]),
        "status": st.sampled_from(STATUS),
        "accepted_at": st.sampled_from(TIMES),
        "dropoff_at": st.sampled_from(TIMES),
        "customer_price": st.sampled_from(MONEY),
        "pass_through": st.sampled_from(MONEY),
        "worker_pay": st.sampled_from(MONEY),
    }
)
record_strategy = st.one_of(
    row_strategy.map(lambda r: ("row", r)),
    st.sampled_from(["a,b", "1,2,3,4,5,6,7,8,9,10", '"unterminated,1']).map(lambda s: ("bad", s)),
)


def _ts(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return "bad"  # type: ignore[return-value]
    return value if value.tzinfo else value.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _money(text: str) -> Decimal | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return "bad"


def oracle_ok(r: dict[str, str]) -> bool:
    """The contract's rules for these columns, written independently of the engine."""
    if not r["order_id"].strip() or not r["worker_id"].strip():
        return False
    status = r["status"].strip().lower() or "completed"
    if status not in (
        "completed",
        "cancelled_by_customer",
        "cancelled_by_worker",
        "cancelled_by_platform",
    ):
        return False
    acc, drop = _ts(r["accepted_at"]), _ts(r["dropoff_at"])
    if acc is None or acc == "bad" or drop == "bad":
        return False
    if status == "completed" and drop is None:
        return False
    if drop is not None and acc > drop:  # both offsets (+08:00 or naive local) are comparable
        return False
    price, through, pay = (_money(r[k]) for k in ("customer_price", "pass_through", "worker_pay"))
    if "bad" in (price, through, pay) or price is None or pay is None:
        return False
    through = through or Decimal(0)
    return not (price < 0 or pay < 0 or through < 0 or price < through)


def expected_used(records: list[tuple[str, object]]) -> int:
    rows = [r for kind, r in records if kind == "row"]
    # DQ-02 on rows whose other rules pass or fail alike: keys are trimmed order_ids
    by_key: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        key = r["order_id"].strip()
        if key:
            by_key.setdefault(key, []).append(r)
    used = 0
    for r in rows:
        key = r["order_id"].strip()
        group = by_key.get(key, [r])
        if len(group) > 1:
            normalised = {tuple(sorted(_normal(g).items())) for g in group}
            if len(normalised) > 1 or group[0] is not r:
                continue  # conflicting ID, or a later exact copy
        used += oracle_ok(r)
    return used


def _normal(r: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in r.items():
        if k in ("accepted_at", "dropoff_at"):
            t = _ts(v)
            out[k] = t if t == "bad" or t is None else t.timestamp()
        elif k in ("customer_price", "pass_through", "worker_pay"):
            m = _money(v)
            out[k] = ("bad", v.strip()) if m == "bad" else m
        elif k == "status":
            out[k] = v.strip().lower() or None
        else:
            out[k] = v.strip() or None
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(records=st.lists(record_strategy, min_size=1, max_size=25))
def test_rows_read_equals_used_plus_quarantined(tmp_path_factory, records) -> None:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("pkg")
    buf = io.StringIO()
    header = [
        "order_id",
        "worker_id",
        "status",
        "accepted_at",
        "dropoff_at",
        "customer_price",
        "pass_through",
        "worker_pay",
    ]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for kind, r in records:
        if kind == "row":
            writer.writerow([r[h] for h in header])  # type: ignore[index]
        else:
            buf.write(str(r) + "\n")
    (folder / "orders.csv").write_text(buf.getvalue(), encoding="utf-8")
    quotes = [i for i, (kind, r) in enumerate(records) if kind == "bad" and '"' in str(r)]
    swallowing = bool(quotes) and quotes[0] < len(records) - 1
    try:
        result = audit(folder)
    except PackageError as exc:
        # A quote never closed swallows every line after it: the run stops and names its
        # line rather than lose them.
        assert swallowing
        named = re.search(r"record on line (\d+) opens a quoted value", str(exc))
        assert named is not None and int(named.group(1)) - 2 in quotes
        return
    account = result.tables["orders"]
    # Every line is a record: a quote closed only by a later quote costs the lines between,
    # each quarantined as malformed.
    assert account.rows_read == len(records)
    assert account.rows_read == account.rows_used + account.rows_quarantined
    q = result.quarantine
    assert q["row"].nunique() == account.rows_quarantined
    assert set(q["reason"]) <= set(account.quarantined_by_reason)
    if not swallowing:
        assert account.rows_used == expected_used(records)
