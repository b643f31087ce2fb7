"""Metric names and a one-sentence reading of a finding, in the report's language.

English reports use each check's own sentence (``Finding.detail``). Chinese reports build
their sentence here from the finding's structured fields (metric, estimate, interval,
adjusted p-value, outcome), so that the numbers a reader acts on are in Chinese; the
check's English sentence is shown beside it. A finding with ``data.suppressed`` publishes
no number: its sentence says that the workers concerned are fewer than ``[report]
min_cell_workers``, and gives the outcome.
"""

from __future__ import annotations

from auditor.findings import Finding, Status
from auditor.report._labels import Labels

__all__ = ["RATIO_METRICS", "metric_label", "sentence"]

RATIO_METRICS = frozenset(
    {"order_rate_ratio", "offer_rate_ratio", "offered_value_rate_ratio", "offered_pay_ratio",
     "pay_ratio", "price_ratio", "penalty_rate_ratio", "appeal_upheld_ratio",
     "action_rate_ratio", "reinstatement_ratio"}
)  # fmt: skip
"""Metrics that are a group's ratio to a reference group."""

SHARE_METRICS = frozenset(
    {"quarantined_share", "share_of_orders", "share_of_orders_above_cap",
     "share_of_orders_with_undisclosed_fee", "share_of_statements_short",
     "share_of_tipped_orders_short", "share_of_worker_weeks_above_cap",
     "share_of_orders_paid_below_quote", "share_of_trips_below_floor",
     "share_of_worker_weeks_below_floor", "share_of_statements_below_floor",
     "share_of_required_rests_with_dispatch",
     "share_of_restrictive_actions_without_human_decision",
     "share_of_restrictive_actions_not_explained_in_time",
     "share_of_appeals_not_reviewed_in_time", "share_of_complaints_not_answered_in_time",
     "share_of_worker_weeks_below_minimum", "share_of_workers_over_limit",
     "anomalous_price_share"}
)  # fmt: skip
"""Metrics that are a fraction, shown as a percentage."""

_METRICS: dict[str, tuple[str, str]] = {
    "quarantined_share": ("share of rows quarantined", "隔离行比例"),
    "share_of_orders": ("share of orders", "订单比例"),
    "share_of_orders_above_cap": ("share of orders above the cap", "超过抽成上限的订单比例"),
    "share_of_orders_with_undisclosed_fee": (
        "share of orders with an undisclosed fee", "含未披露费用的订单比例"),
    "share_of_statements_short": ("share of pay statements short", "短付结算单比例"),
    "share_of_tipped_orders_short": (
        "share of tipped orders not passed in full", "小费未全额转付的订单比例"),
    "share_of_orders_paid_below_quote": (
        "share of orders paid below the accepted quote", "报酬低于接单报价的订单比例"),
    "share_of_trips_below_floor": (
        "share of trips paid below the statutory floor", "报酬低于法定底线的订单比例"),
    "share_of_worker_weeks_below_floor": (
        "share of worker-weeks paid below the statutory floor", "报酬低于法定底线的人周比例"),
    "share_of_statements_below_floor": (
        "share of pay statements below the statutory floor", "报酬低于法定底线的结算单比例"),
    "share_of_required_rests_with_dispatch": (
        "share of required rests in which work was dispatched", "规定休息时间内仍被派单的比例"),
    "share_of_restrictive_actions_without_human_decision": (
        "share of restrictive account actions without a human decision",
        "未经人工决定的账号限制类处置比例"),
    "share_of_restrictive_actions_not_explained_in_time": (
        "share of restrictive account actions not explained in time",
        "未按时书面说明理由的账号限制类处置比例"),
    "share_of_appeals_not_reviewed_in_time": (
        "share of appeals not reviewed in time", "未按时复核的申诉比例"),
    "share_of_complaints_not_answered_in_time": (
        "share of complaints not answered in time", "未按时处理的投诉比例"),
    "share_of_worker_weeks_above_cap": (
        "share of worker-weeks above the cap", "超过抽成上限的人周比例"),
    "share_of_worker_weeks_below_minimum": (
        "share of worker-weeks below the minimum wage", "低于最低工资的人周比例"),
    "share_of_workers_over_limit": ("share of workers over the limit", "超时劳动者比例"),
    "anomalous_price_share": ("share of prices flagged for review", "待复核异常价格比例"),
    "take_rate_shift": ("unannounced take-rate change", "未公示的抽成比例变化"),
    "worker_pay_spread_ratio": (
        "pay spread between workers (90/10)", "劳动者间报酬离散度（90/10）"),
    "order_rate_ratio": ("orders per online hour, ratio", "每在线小时订单数之比"),
    "offer_rate_ratio": ("offers per online hour, ratio", "每在线小时派单数之比"),
    "offered_value_rate_ratio": (
        "offered pay per online hour, ratio", "每在线小时派单报价之比"),
    "offered_pay_ratio": ("offered pay, ratio", "派单报价之比"),
    "pay_ratio": ("pay for comparable work, ratio", "同等工作报酬之比"),
    "price_ratio": ("price of comparable orders, ratio", "可比订单价格之比"),
    "penalty_rate_ratio": ("penalties per order, ratio", "每单罚款率之比"),
    "appeal_upheld_ratio": ("appeals upheld, ratio", "申诉成功率之比"),
    "action_rate_ratio": (
        "suspensions and deactivations per online hour, ratio", "每在线小时封禁与注销次数之比"),
    "reinstatement_ratio": ("reinstatement on appeal, ratio", "申诉后恢复账号比例之比"),
}  # fmt: skip


def metric_label(metric: str | None, words: Labels) -> str:
    """The metric's name for a reader (its code name where none is known)."""
    if metric is None:
        return ""
    names = _METRICS.get(metric)
    if names is None:
        return metric
    return names[1] if words.lang == "zh" else names[0]


def value(f: Finding, words: Labels, x: float | None) -> str:
    """``x`` formatted as the finding's metric: a percentage for shares, percentage points
    for the take-rate shift, else a number."""
    if f.metric in SHARE_METRICS:
        return words.percent(x)
    if f.metric == "take_rate_shift" and x is not None:
        points = f"{100 * x:+.1f}"
        return f"{points} 个百分点" if words.lang == "zh" else f"{points} pts"
    return words.number(x)


def sentence(f: Finding, words: Labels) -> str:
    """One sentence reading ``f`` in ``words.lang`` (English: the check's own sentence)."""
    if words.lang != "zh":
        return f.detail
    if f.check == "PRC-02":
        return (
            f"{metric_label(f.metric, words)}：{value(f, words, f.estimate)}。"
            "这些订单列为待复核线索（见 leads.csv），不构成违规认定。"
        )
    if f.status == Status.NOT_ASSESSED:
        return "未评估：缺少 " + "、".join(f.missing) + "。"
    if f.check == "PAY-03" and not f.data.get("suppressed"):
        return _pay_floor(f, words)
    if f.check == "HRS-02" and not f.data.get("suppressed"):
        return _fatigue(f, words)
    if f.data.get("suppressed") and f.metric not in RATIO_METRICS:
        return _withheld(f, words)
    if f.data.get("suppressed"):
        k = f.data.get("min_cell_workers", 10)
        if f.data.get("effective_suppression"):
            return f"已隐去：共同可比范围内比较的一方有效劳动者少于 {k} 人，不公布估计值。"
        return f"已隐去：比较的一方劳动者少于 {k} 人，不公布估计值。"
    name = metric_label(f.metric, words)
    text = f"{name}：{value(f, words, f.estimate)}"
    if f.ci is not None:
        low, high = value(f, words, f.ci[0]), value(f, words, f.ci[1])
        text += f"（{words.level_text} 置信区间 {low} 至 {high}）"
    if f.metric in RATIO_METRICS:
        s = f.subject
        text = (
            f"{s.get('attribute', '')} 为 {s.get('group', '')} 的一组相对于参照组 "
            f"{s.get('reference', '')}，" + text
        )
    if f.p_adjusted is not None:
        text += f"；Holm 校正 p = {words.p_value(f.p_adjusted)}"
    text += "。"
    m = f.data.get("materiality")
    if f.metric in RATIO_METRICS and m is not None:
        band = words.percent(float(m), 0)
        if f.status == Status.FAIL:
            text += f"最小效应检验表明差异超出 {band} 的实质性阈值。"
        elif f.status == Status.PASS:
            text += f"等价性检验表明差异在 {band} 以内。"
        else:
            needed = f.data.get("clusters_needed")
            text += "数据不足以判定：既不能认定差异超出阈值，也不能认定差异在阈值以内"
            if f.data.get("decidable") is False:
                text += "；此类数据无法判定（即使劳动者增加到 100 倍）。"
            else:
                who = "名客户" if "customers_group" in f.data else "名劳动者"
                text += f"；约需 {words.number(needed)} {who}。" if needed else "。"
    elif f.status == Status.FAIL:
        text += f"不合规（严重程度：{words(str(f.severity))}）。"
    elif f.status == Status.INCONCLUSIVE:
        text += "数据不足以判定。"
    return text


def _pay_floor(f: Finding, words: Labels) -> str:
    """PAY-03 in Chinese: units below the floor, workers and the money owed."""
    d = f.data
    rule = f.subject.get("rule", "")
    unit = {"trip": "单", "week": "人周", "statement": "张结算单"}.get(str(d.get("unit")), "人周")
    assessed = d.get("units_assessed") or 0
    if not assessed:
        return f"规则包 {rule}：没有可核对的{unit}。"
    if f.status != Status.FAIL:
        return f"规则包 {rule}：已核对的 {words.number(assessed)} {unit}报酬均不低于法定底线。"
    text = (
        f"规则包 {rule}：{words.number(assessed)} {unit}中有 "
        f"{words.number(d.get('units_in_breach'))} {unit}（{words.percent(f.estimate)}）"
        f"报酬低于法定底线且未按时补足，涉及 {words.number(d.get('workers_affected'))} 名劳动者，"
        f"应补发 {words.money(d.get('owed_total'))}"
    )
    late = d.get("topped_up_late_total")
    if late:
        text += f"（另有 {words.money(late)} 逾期补足）"
    return text + f"。不合规（严重程度：{words(str(f.severity))}）。"


def _fatigue(f: Finding, words: Labels) -> str:
    """HRS-02 in Chinese: required rests, those with dispatch, and working hours."""
    d = f.data
    rule = f.subject.get("rule", "")
    head = (
        f"规则包 {rule}：连续接单超过 {float(d.get('continuous_hours') or 0):g} 小时后，"
        f"每完成手中订单须有 {float(d.get('rest_minutes') or 0):g} 分钟不派单。"
    )
    required = d.get("rests_required")
    if not required:
        text = head + "没有需要休息的连续接单。"
    elif f.status == Status.FAIL:
        text = head + (
            f"{words.number(required)} 次规定休息中有 {words.number(d.get('rests_breached'))} 次"
            f"（{words.percent(f.estimate)}）仍被派单，涉及 "
            f"{words.number(d.get('workers_affected'))} 名劳动者。"
            f"不合规（严重程度：{words(str(f.severity))}）。"
        )
    else:
        text = head + f"{words.number(required)} 次规定休息均未派单。"
    median, p90 = d.get("working_hours_median"), d.get("working_hours_p90")
    if median is not None:
        text += (
            f"按 50号文口径（接单时间加宽放时间），每人每日工作时间中位数 "
            f"{words.number(median)} 小时，第 90 百分位 {words.number(p90)} 小时。"
        )
    return text


def _withheld(f: Finding, words: Labels) -> str:
    """A finding that is not a group comparison whose numbers over fewer than ``[report]
    min_cell_workers`` workers are withheld: what it measures, that they are withheld, and
    its outcome (which always stands)."""
    k = f.data.get("min_cell_workers", 10)
    text = f"{metric_label(f.metric, words)}：已隐去（涉及的劳动者少于 {k} 人，不公布相关数字）。"
    if f.status == Status.FAIL:
        text += f"不合规（严重程度：{words(str(f.severity))}）。"
    elif f.status == Status.PASS:
        text += "合规。"
    elif f.status == Status.INCONCLUSIVE:
        text += "数据不足以判定。"
    return text
