"""Words and number formats of the reports, in English and Chinese.

Only the report layer formats: findings keep raw numbers and English sentences
(``Finding.detail``); a report in Chinese translates every label, heading, status and
check question, and shows the check's own sentence beside the translated numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

__all__ = ["LANGUAGES", "Labels", "labels"]

LANGUAGES = ("en", "zh")
"""Report languages (``--lang``)."""

_EN: dict[str, str] = {
    "title": "Platform audit report",
    "generated_by": "auditor {version}, package {package}",
    "summary": "Summary",
    "summary_lead": "What the audit found, most severe first. A fail is a finding of breach; "
    "inconclusive means the data cannot decide and says what would.",
    "data_quality": "Data quality",
    "dq_lead": "Every row read is either used or quarantined with a reason: rows read = rows "
    "used + rows quarantined.",
    "fees": "Fees and take rates",
    "pay_cutting": "Settings that cut pay: tips, quotes, the take by fare, refusals and rule "
    "changes",
    "earnings": "Earnings",
    "statutory_rules": "Statutory pay floors (rule packs)",
    "rules_lead": "Pay against the floor of each rule pack chosen ([audit] rules or --rules), at "
    "its rates by date; money owed is the shortfall less every top-up. Per-worker amounts are "
    "in owed.csv, which is never published.",
    "rule": "Rule pack",
    "rule_unit": "Unit",
    "unit_trip": "trip",
    "unit_week": "worker-week",
    "unit_statement": "pay statement",
    "units_assessed": "Assessed",
    "units_in_breach": "Below the floor",
    "workers_affected": "Workers affected",
    "owed_total": "Owed",
    "topped_up_late": "Topped up late",
    "working_time": "Working time",
    "fairness": "Fairness",
    "fairness_lead": "Each group against a reference group, within the same zones, dates, hours "
    "and kinds of work; {level} intervals clustered by worker (CR2, Bell-McCaffrey degrees of "
    "freedom). The grey band is the materiality band: a fail needs evidence that the gap lies "
    "beyond it.",
    "families_note": "The fail tests of this audit form one Holm family of {n} tests; the "
    "labelled views' {m} tests form another, which decides nothing.",
    "pricing": "Pricing",
    "service": "Service to customers (accessible vehicles)",
    "insurance": "Injury insurance",
    "accountability": "Accountability: account actions and complaints",
    "platform_statistics": "Platform-work statistics",
    "statistics_lead": "Who works through the platform, how much and for what pay: "
    "distributions over workers or worker-weeks (earnings net of deductions; hourly "
    "earnings also net of vehicle expense). A dash is a number withheld: rows with fewer "
    "than {k} workers, percentiles without {k} workers on each side, and bands of fewer "
    "than {k} workers (with one more band where the total would give it away).",
    "measure": "Measure",
    "band": "Band",
    "units": "Units",
    "share": "Share",
    "mean": "Mean",
    "median": "Median",
    "indicators_title": "Labour-management indicators by worker group",
    "indicators_lead": "The facts courts weigh when judging how far a platform manages the "
    "people who work through it (working time, dispatch, penalties, account actions, "
    "continuity), per worker and summarised over each group's workers. Evidence for a "
    "regulator, not a classification of anyone's employment. Groups of fewer than {k} "
    "workers are not named; a dash is a number withheld.",
    "attribute": "Attribute",
    "group": "Group",
    "ind_online_hours_per_week": "Online hours per active week",
    "ind_share_of_days_over_daily_limit": "Share of days online beyond the daily limit",
    "ind_offers_per_online_hour": "Offers per online hour",
    "ind_share_of_offers_declined": "Share of offers declined or expired",
    "ind_penalties_per_100_orders": "Penalties per 100 completed orders",
    "ind_restrictive_action": "Workers restricted, suspended or deactivated (share)",
    "ind_weeks_active": "Weeks active",
    "ind_days_active": "Days active",
    "stat_days_active": "Days active in the period (per worker)",
    "stat_weeks_active": "Weeks active in the period (per worker)",
    "stat_tenure_days": "Days since joining (per worker)",
    "stat_workers_by_days_active": "Workers by days active",
    "stat_online_hours_per_week": "Online hours per week",
    "stat_engaged_hours_per_week": "Working (engaged) hours per week",
    "stat_earnings_per_week": "Earnings per week",
    "stat_hourly_earnings_engaged": "Hourly earnings, engaged time",
    "stat_hourly_earnings_online": "Hourly earnings, online time",
    "stat_hourly_earnings_engaged_allowance": "Hourly earnings, engaged time plus allowance",
    "provenance": "Provenance",
    "provenance_lead": "What this report was computed from. The same package and "
    "configuration give the same findings.json, byte for byte.",
    "status": "Status",
    "severity": "Severity",
    "check": "Check",
    "question": "Question",
    "subject": "Subject",
    "estimate": "Estimate",
    "ci": "{level} CI",
    "p_adjusted": "Holm p",
    "finding": "Finding",
    "count": "Findings",
    "table": "Table",
    "file": "File",
    "rows_read": "Rows read",
    "rows_used": "Rows used",
    "rows_quarantined": "Rows quarantined",
    "reason": "Reason",
    "rows": "Rows",
    "sha256": "SHA-256",
    "auditor_version": "auditor version",
    "config_sha256": "Configuration SHA-256",
    "seed": "Seed",
    "config": "Configuration",
    "ignored_files": "Files ignored (not contract tables)",
    "no_findings": "No findings in this section.",
    "not_run": "Not assessed: the package lacks what this section needs.",
    "suppressed_cells": "{n} cells with fewer than {k} workers are suppressed.",
    "suppressed": "suppressed (fewer than {k} workers)",
    "take_rate": "Take rate",
    "take_rate_hist": "Take rate of completed orders",
    "orders": "Orders",
    "workers": "Workers",
    "daily_take_rate": "Daily take rate against the cap and the announced schedule",
    "daily_raw": "Daily take rate",
    "mix_adjusted": "Mix-adjusted index (FEE-04)",
    "cap": "Cap",
    "announced_rate": "Announced commission rate",
    "date": "Date",
    "hourly": "Hourly earnings ({currency}/h)",
    "hourly_title": "Hourly earnings per worker-week, on each time basis",
    "minimum_wage": "Minimum wage",
    "basis_engaged": "Engaged time",
    "basis_online": "Online time",
    "basis_engaged_allowance": "Engaged + allowance",
    "online_hours": "Online hours per worker-day",
    "online_title": "Online hours per worker-day against the daily limit",
    "worker_days": "Worker-days",
    "daily_limit": "Daily limit",
    "ratio": "Ratio to the reference group (log scale)",
    "forest_title": "Gaps between groups, with {level} intervals",
    "price_title": "Customer price by segment, comparable orders",
    "leads": "Price leads for review (PRC-02), by service",
    "quantiles_note": "Boxes show the 25th-75th percentiles and the median; whiskers the "
    "10th and 90th, where {k} workers lie beyond them (else the whisker stops at the box). "
    "Groups with fewer than {k} workers are not shown.",
    "fail": "fail",
    "pass": "pass",
    "inconclusive": "inconclusive",
    "not_assessed": "not assessed",
    "info": "info",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
    "detail_original": "Detail",
    "missing": "Missing",
    "offline_note": "This file is self-contained and works offline.",
    "privacy_note": "No worker or customer identity and no raw row appears in this report. "
    "Cells with fewer than {k} workers are suppressed.",
    "verdict_none": "No fail finding.",
    "verdict_fail": "Fail findings up to severity {severity}",
    "gate_exit": "exit code 1; --fail-on {fail_on}",
    "gate_below": "below the --fail-on gate; --fail-on {fail_on}",
}

_ZH: dict[str, str] = {
    "title": "平台审计报告",
    "generated_by": "auditor {version}，数据包 {package}",
    "summary": "结论摘要",
    "summary_lead": "审计发现，按严重程度排列。“不合规”即认定违规；“无法判定”表示数据不足以判定，"
    "并说明需要什么数据。",
    "data_quality": "数据质量",
    "dq_lead": "读入的每一行要么被使用，要么附原因隔离：读入行数 = 使用行数 + 隔离行数。",
    "fees": "费用与抽成",
    "pay_cutting": "压低报酬的设置：小费、报价、按订单金额的抽成、拒单后的派单与规则变更",
    "earnings": "收入",
    "statutory_rules": "法定报酬底线（规则包）",
    "rules_lead": "按所选规则包（[audit] rules 或 --rules）在各日期有效的标准核对报酬；"
    "应补发金额为差额减去全部补足款。逐人金额见 owed.csv，该文件不公开。",
    "rule": "规则包",
    "rule_unit": "单位",
    "unit_trip": "单",
    "unit_week": "人周",
    "unit_statement": "结算单",
    "units_assessed": "已核对",
    "units_in_breach": "低于底线",
    "workers_affected": "涉及劳动者",
    "owed_total": "应补发",
    "topped_up_late": "逾期补足",
    "working_time": "工作时间",
    "fairness": "公平性",
    "fairness_lead": "各群体与参照群体比较，限于相同区域、日期、时段和工作类型；"
    "{level} 置信区间按劳动者聚类计算（CR2，Bell-McCaffrey 自由度）。灰色带为实质性阈值范围："
    "只有证据表明差距超出该范围时才判定为不合规。",
    "families_note": "本次审计的判定检验构成一个 Holm 校正族，共 {n} 项；"
    "标注视角的 {m} 项检验另成一族，不影响判定。",
    "pricing": "定价",
    "service": "对乘客的服务（无障碍车辆）",
    "insurance": "职业伤害保障",
    "accountability": "问责：账号处置与投诉",
    "platform_statistics": "平台用工统计",
    "statistics_lead": "谁在平台上工作、工作多少、收入多少：按劳动者或劳动者-周统计的分布"
    "（收入已扣除扣款；小时收入另扣除车辆费用）。“–”为不公开的数字：不足 {k} 名劳动者的行、"
    "两侧各不足 {k} 名劳动者的分位数、不足 {k} 名劳动者的分组（以及可由总数推算出它的另一分组）。",
    "measure": "指标",
    "band": "分组",
    "units": "单位数",
    "share": "占比",
    "mean": "均值",
    "median": "中位数",
    "indicators_title": "按劳动者群体的劳动管理指标",
    "indicators_lead": "法院判断平台对劳动者管理程度时所考量的事实（工作时间、派单、处罚、"
    "账号处置、持续性），按每名劳动者计算后在各群体内汇总。"
    "仅作为监管证据，不对任何人的用工关系作出认定。"
    "不足 {k} 名劳动者的群体不列名；“–”为不公开的数字。",
    "attribute": "属性",
    "group": "群体",
    "ind_online_hours_per_week": "每个活跃周的在线时长",
    "ind_share_of_days_over_daily_limit": "在线超过每日上限的天数占比",
    "ind_offers_per_online_hour": "每在线小时派单数",
    "ind_share_of_offers_declined": "拒绝或超时未接的派单占比",
    "ind_penalties_per_100_orders": "每百单罚款次数",
    "ind_restrictive_action": "被限制、暂停或注销账号的劳动者占比",
    "ind_weeks_active": "活跃周数",
    "ind_days_active": "活跃天数",
    "stat_days_active": "期间内工作天数（每名劳动者）",
    "stat_weeks_active": "期间内工作周数（每名劳动者）",
    "stat_tenure_days": "注册至今天数（每名劳动者）",
    "stat_workers_by_days_active": "按工作天数分组的劳动者",
    "stat_online_hours_per_week": "每周在线时长（小时）",
    "stat_engaged_hours_per_week": "每周接单工作时长（小时）",
    "stat_earnings_per_week": "每周收入",
    "stat_hourly_earnings_engaged": "小时收入（按接单工作时间）",
    "stat_hourly_earnings_online": "小时收入（按在线时间）",
    "stat_hourly_earnings_engaged_allowance": "小时收入（接单工作时间加补贴时间）",
    "provenance": "数据来源与可复现性",
    "provenance_lead": "本报告的计算依据。相同数据包与配置得到逐字节相同的 findings.json。",
    "status": "结论",
    "severity": "严重程度",
    "check": "检查项",
    "question": "检查内容",
    "subject": "对象",
    "estimate": "估计值",
    "ci": "{level} 置信区间",
    "p_adjusted": "Holm 校正 p 值",
    "finding": "发现",
    "count": "发现数",
    "table": "数据表",
    "file": "文件",
    "rows_read": "读入行数",
    "rows_used": "使用行数",
    "rows_quarantined": "隔离行数",
    "reason": "原因",
    "rows": "行数",
    "sha256": "SHA-256",
    "auditor_version": "auditor 版本",
    "config_sha256": "配置 SHA-256",
    "seed": "随机种子",
    "config": "配置",
    "ignored_files": "忽略的文件（非约定数据表）",
    "no_findings": "本部分无发现。",
    "not_run": "未评估：数据包缺少本部分所需的数据。",
    "suppressed_cells": "{n} 个单元格的劳动者少于 {k} 人，已隐去。",
    "suppressed": "已隐去（劳动者少于 {k} 人）",
    "take_rate": "抽成比例",
    "take_rate_hist": "已完成订单的抽成比例",
    "orders": "订单数",
    "workers": "劳动者人数",
    "daily_take_rate": "每日抽成比例与上限及公示费率",
    "daily_raw": "每日抽成比例",
    "mix_adjusted": "结构调整后指数（FEE-04）",
    "cap": "抽成上限",
    "announced_rate": "公示佣金比例",
    "date": "日期",
    "hourly": "小时收入（{currency}/小时）",
    "hourly_title": "每名劳动者每周的小时收入（按各时间口径）",
    "minimum_wage": "最低工资",
    "basis_engaged": "接单服务时间",
    "basis_online": "在线时间",
    "basis_engaged_allowance": "服务时间加等待补偿",
    "online_hours": "每人每日在线小时数",
    "online_title": "每人每日在线时长与每日上限",
    "worker_days": "人日数",
    "daily_limit": "每日上限",
    "ratio": "与参照群体之比（对数刻度）",
    "forest_title": "群体间差异及 {level} 置信区间",
    "price_title": "可比订单中各客户群体的价格",
    "leads": "待复核的异常价格线索（PRC-02），按业务类型",
    "quantiles_note": "箱体为第 25 至 75 百分位数及中位数，须线为第 10 和第 90 百分位数"
    "（其外侧不足 {k} 名劳动者时，须线止于箱体）。"
    "劳动者少于 {k} 人的组不显示。",
    "fail": "不合规",
    "pass": "合规",
    "inconclusive": "无法判定",
    "not_assessed": "未评估",
    "info": "提示",
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    "detail_original": "说明（英文原文）",
    "missing": "缺少",
    "offline_note": "本文件自包含，可离线打开。",
    "privacy_note": "本报告不含任何劳动者或客户身份信息，也不含原始数据行。"
    "劳动者少于 {k} 人的单元格已隐去。",
    "verdict_none": "没有不合规的发现。",
    "verdict_fail": "存在不合规发现，最高严重程度：{severity}",
    "gate_exit": "退出码 1；--fail-on {fail_on}",
    "gate_below": "低于 --fail-on 门槛；--fail-on {fail_on}",
}

_CHECKS_ZH: dict[str, str] = {
    "DQ-01": "各数据表是否符合约定（列、类型、必填值）？",
    "DQ-02": "编号是否唯一？",
    "DQ-03": "时间是否一致（接单≤取货≤送达；在线时段不重叠）？",
    "DQ-04": "每单金额是否自洽？",
    "DQ-05": "各表提到的劳动者是否都在劳动者名单中？",
    "FEE-01": "抽成比例是否超过有效上限？",
    "FEE-02": "声明的佣金是否等于实际抽成（有无未披露费用）？",
    "FEE-03": "结算是否等于订单收入减去明细扣款（有无不明短付）？",
    "FEE-04": "抽成比例变化是否事先公示？",
    "FEE-05": "同样的工作是否因人而异地计酬（个性化定价）？",
    "FEE-06": "小费是否全额转付？",
    "PAY-01": "扣除费用和扣款后的小时收入是否低于最低工资？",
    "PAY-02": "同等工作，不同群体的报酬是否更低？",
    "DSP-01": "同区域同时段，不同群体每在线小时获得的派单是否更少？",
    "DSP-02": "不同群体获得的派单报价是否更差？",
    "PRC-01": "可比订单中，不同客户群体是否被收取更高价格？",
    "PRC-02": "哪些价格相对同类订单异常（待复核线索）？",
    "HRS-01": "在线时长是否超过每日上限或缺少休息？",
    "HRS-02": "连续接单超过规定时长后，平台是否在规定休息时间内仍然派单？"
    "按规则口径的工作时间是多少？",
    "INS-01": "每单是否由平台缴纳职业伤害保障费？",
    "DED-01": "罚款与扣款是否集中于某些群体，申诉是否得到公平处理？",
    "DSP-03": "同区域同时段，不同群体每在线小时获得的派单价值是否更低（派单引导）？",
    "FEE-07": "平台是否因顾客给小费而降低自己支付的报酬（以小费抵扣基本报酬）？",
    "FEE-09": "平台对小额与大额订单的抽成比例是否一致（抽成是否随订单金额变化）？",
    "FEE-08": "订单最终报酬是否低于接单时的报价？",
    "PAY-03": "报酬是否达到规则包规定的法定底线（按单、按报价或按结算周期）？应补发多少？",
    "ACC-01": "限制、暂停或注销账号的决定是否由人作出、书面说明理由并按时复核申诉？",
    "ACC-02": "暂停与注销账号是否集中于某些群体，申诉后恢复账号的机会是否相同？",
    "CMP-01": "劳动者的投诉是否得到及时处理？",
    "DSP-04": "拒单或超时未接之后，派单是否变少或报价变低（拒单受罚）？",
    "PAY-05": "计酬或抽成规则变更后，同样的工作哪些劳动者的报酬减少了？",
    "PAY-04": "法定节假日的同等工作是否获得高于平日的报酬？",
    "SVC-01": "同区域同时段，请求无障碍车辆的乘客是否比其他乘客等待更久？",
}


@dataclass(frozen=True, slots=True)
class Labels:
    """The words and number formats of one report language.

    Attributes:
        lang: ``"en"`` or ``"zh"``.
        currency: ISO code of ``[audit] currency`` (CNY is written 元 in Chinese).
        level: the level of the audit's intervals, ``1 - [audit] alpha``.
    """

    lang: str
    currency: str = "CNY"
    level: float = 0.95

    @property
    def level_text(self) -> str:
        """The interval level as a percentage: ``95%`` (``99.5%`` where it is not whole)."""
        return f"{100 * self.level:.3g}%"

    def __call__(self, key: str, **values: object) -> str:
        """The label ``key`` in this language, with ``{name}`` fields filled (``{level}``:
        the intervals' level)."""
        table = _ZH if self.lang == "zh" else _EN
        text = table[key].replace("{level}", self.level_text)
        return text.format(**values) if values else text

    def check_question(self, check: str, english_title: str) -> str:
        """The catalogue question of ``check`` in this language (English: the finding's
        own title)."""
        if self.lang == "zh":
            return _CHECKS_ZH.get(check, english_title)
        return english_title

    def number(self, x: float | int | None, digits: int = 3) -> str:
        """A number to ``digits`` significant digits with thousands separators; a dash for
        a missing value."""
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return "–"
        if isinstance(x, int) or (float(x).is_integer() and abs(x) >= 1000):
            return f"{int(x):,}"
        if abs(x) >= 10 ** (digits - 1):
            return f"{x:,.0f}"
        return f"{x:#.{digits}g}".rstrip(".")

    def percent(self, x: float | None, decimals: int = 1) -> str:
        """A fraction as a percentage: 0.098 -> ``9.8%``."""
        if x is None or not math.isfinite(x):
            return "–"
        return f"{100 * x:.{decimals}f}%"

    def money(self, x: float | None) -> str:
        """An amount in the audit currency, to the cent."""
        if x is None or not math.isfinite(x):
            return "–"
        unit = "元" if self.lang == "zh" and self.currency == "CNY" else f" {self.currency}"
        return f"{x:,.2f}{unit}"

    def p_value(self, p: float | None) -> str:
        """A p-value: two significant digits, scientific below 0.001."""
        if p is None or not math.isfinite(p):
            return "–"
        return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"

    def day(self, d: date | datetime | str) -> str:
        """A calendar date: ``2026-03-09`` or ``2026年3月9日``."""
        if isinstance(d, str):
            d = date.fromisoformat(d[:10])
        if self.lang == "zh":
            return f"{d.year}年{d.month}月{d.day}日"
        return d.isoformat()[:10]


def labels(lang: str, currency: str = "CNY", level: float = 0.95) -> Labels:
    """The :class:`Labels` of ``lang``; a clear error for an unknown language. ``level``:
    the audit's interval level, ``1 - [audit] alpha``."""
    if lang not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)}.")
    return Labels(lang=lang, currency=currency, level=level)


def interval_level(result: Any) -> float:
    """The interval level of ``result``'s audit: ``1 - [audit] alpha`` from its config."""
    alpha = result.config.get("audit", {}).get("alpha", 0.05)
    return 1.0 - float(alpha)
