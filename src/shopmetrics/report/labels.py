"""Labels for metric and column names, section titles and report text, in English and Chinese.

The Chinese names are the ones the metric dictionary (docs/metrics.md) gives,
as store back-ends (生意参谋 / 1688) show them. A name with no label falls back to the
raw column name, so a new column never breaks a report; derived columns are labelled
from their base metric (``payment_conversion_ci_low`` → "Payment conversion, CI low" /
"支付转化率 下限").

Examples:
    >>> from shopmetrics.report.labels import label, section_title
    >>> label("payment_conversion"), label("payment_conversion", "zh")
    ('Payment conversion', '支付转化率')
    >>> label("visitor_value_ci_high", "zh")
    '访客价值 上限'
    >>> label("rel_paid_amount")
    'Paid amount, relative change'
    >>> label("my_custom_column", "zh")
    'my_custom_column'
    >>> section_title("dsr", "zh")
    '店铺动态评分 (DSR)'
"""

from __future__ import annotations

from collections.abc import Mapping

from shopmetrics.errors import DefinitionError

__all__ = ["LANGS", "check_lang", "label", "section_title", "text"]

LANGS: tuple[str, ...] = ("en", "zh")
"""Supported report languages."""

# metric / column name -> (English, Chinese). Chinese names follow the metric dictionary.
_NAMES: dict[str, tuple[str, str]] = {
    # funnel
    "exposures": ("Exposures", "曝光量"),
    "clicks": ("Clicks", "点击量"),
    "ctr": ("Click-through rate", "点击率"),
    "visitors": ("Visitors", "访客数"),
    "page_views": ("Page views", "浏览量"),
    "inquirers": ("Inquirers", "询盘人数"),
    "inquiry_rate": ("Inquiry rate", "询盘率"),
    "carters": ("Visitors who added to cart", "加购人数"),
    "cart_rate": ("Add-to-cart rate", "加购率"),
    "favoriters": ("Visitors who favourited", "收藏人数"),
    "favorite_rate": ("Favourite rate", "收藏转化率"),
    "order_buyers": ("Ordering buyers", "下单买家数"),
    "order_conversion": ("Order conversion", "下单转化率"),
    "paid_buyers": ("Paying buyers", "支付买家数"),
    "payment_conversion": ("Payment conversion", "支付转化率"),
    "paid_amount": ("Paid amount", "支付金额"),
    "paid_orders": ("Paid orders", "支付子订单数"),
    "bounce_rate": ("Bounce rate", "跳失率"),
    "presale_orders": ("Presale orders", "预售订单数"),
    # value
    "aov": ("Average order value", "客单价"),
    "visitor_value": ("Visitor value", "访客价值"),
    "visitor_cost": ("Visitor cost", "访客成本"),
    "repurchase_rate": ("Repurchase rate", "复购率"),
    "refund_rate": ("Refund rate", "退款率"),
    "refund_amount": ("Refund amount", "退款金额"),
    "clv": ("Customer lifetime value", "客户终身价值"),
    # paid traffic
    "cost": ("Cost", "花费"),
    "spend": ("Spend", "花费"),
    "cpc": ("Cost per click", "平均点击花费"),
    "cpm": ("Cost per 1000 exposures", "千次展现花费"),
    "cpa": ("Cost per paying buyer", "成交成本"),
    "roas": ("ROAS (sales / spend)", "投入产出比"),
    "roi": ("ROI (profit / spend)", "投资回报率"),
    "attributed_amount": ("Attributed paid amount", "归因支付金额"),
    "attributed_buyers": ("Attributed paying buyers", "归因支付买家数"),
    # DSR
    "dsr": ("Detailed seller ratings", "店铺动态评分"),
    "item": ("Item as described", "宝贝与描述相符"),
    "service": ("Seller service", "卖家的服务态度"),
    "logistics": ("Logistics service", "物流服务的质量"),
    "item_score": ("Item as described", "宝贝与描述相符"),
    "service_score": ("Seller service", "卖家的服务态度"),
    "logistics_score": ("Logistics service", "物流服务的质量"),
    "dsr_item": ("DSR: item as described", "宝贝与描述相符"),
    "dsr_service": ("DSR: seller service", "卖家的服务态度"),
    "dsr_logistics": ("DSR: logistics", "物流服务的质量"),
    "visitor_share": ("Share of visitors", "访客占比"),
    "deposit_buyers": ("Presale deposit buyers", "预售定金买家数"),
    "order_conversion_rate": ("Order conversion", "下单转化率"),
    "previous_rate": ("Previous", "上期"),
    "current_rate": ("This week", "本期"),
    "change_rate": ("Change", "变化"),
    "current": ("This week", "本期"),
    "diff": ("Change", "变化"),
    "p_adjusted": ("p-value (adjusted)", "校正后 p 值"),
    "effect_on_total": ("Effect on store total", "对全店的影响"),
    "direction": ("Direction", "方向"),
    "explained_by": ("Possible explanation (flags)", "可能原因 (数据提示)"),
    "vs_peer_ratio": ("Ratio to peers", "与同行之比"),
    "value_rate": ("Value", "数值"),
    "dlog_visitor_value": ("Δlog visitor value", "访客价值对数变化"),
    "dlog_conv": ("Δlog conversion", "转化率对数变化"),
    "dlog_aov": ("Δlog AOV", "客单价对数变化"),
    "mix_effect": ("Mix effect", "结构效应"),
    "rate_effect": ("Own-rate effect", "自身效应"),
    "mix_effect_rate": ("Mix effect", "结构效应"),
    "rate_effect_rate": ("Own-rate effect", "自身效应"),
    "peer_avg_rate": ("Peer average", "同行同层平均"),
    "beyond_interval": ("Gap beyond interval", "差距超出区间"),
    "score": ("Score", "评分"),
    "ratings": ("Ratings", "评价数"),
    "n_ratings": ("Ratings counted", "计分评价数"),
    "peer_avg": ("Peer average", "同行同层平均"),
    "peer_top10": ("Peer top 10%", "同行同层优秀"),
    "gross_profit": ("Gross profit", "毛利"),
    "visitor_profit": ("Profit per visitor", "访客毛利"),
    "history_days": ("Days of history", "可回溯天数"),
    "history_coverage": ("History covered", "历史覆盖率"),
    "month_coverage": ("Share of month observed", "当月数据覆盖率"),
    "design_effect": ("Design effect (clustering)", "设计效应 (聚类)"),
    "peer_max": ("Industry maximum", "行业最高"),
    "peer_min": ("Industry minimum", "行业最低"),
    "vs_industry": ("Compared with the industry", "比同行业平均"),
    # dimensions and bookkeeping
    "date": ("Date", "日期"),
    "period": ("Period", "统计周期"),
    "week": ("Week", "周"),
    "product_id": ("Product", "商品ID"),
    "product": ("Product", "商品"),
    "source": ("Traffic source", "流量来源"),
    "campaign": ("Campaign", "推广计划"),
    "keyword": ("Keyword", "关键词"),
    "device": ("Device", "终端"),
    "buyer_id": ("Buyer", "买家ID"),
    "order_id": ("Order", "订单编号"),
    "metric": ("Metric", "指标"),
    "dimension": ("Dimension", "维度"),
    "value": ("Value", "数值"),
    "previous": ("Previous", "上期"),
    "change": ("Change", "变化"),
    "rel_change": ("Relative change", "变化率"),
    "expected": ("Expected", "预期"),
    "low": ("Low", "下限"),
    "high": ("High", "上限"),
    "label": ("Label", "标签"),
    "n": ("Count", "数量"),
    "rows": ("Rows", "行数"),
    "p_value": ("p-value", "p 值"),
    "q_value": ("q-value (FDR-adjusted)", "q 值 (FDR 校正)"),
    "significant": ("Significant", "显著"),
    "small_sample": ("Small sample", "样本过小"),
    "severity": ("Severity", "严重程度"),
    "code": ("Code", "代码"),
    "subject": ("Subject", "对象"),
    "message": ("Message", "说明"),
    "evidence": ("Evidence", "依据"),
    "instead": ("Use instead", "请改用"),
    "table": ("Table", "数据表"),
    "reason": ("Reason", "原因"),
    "detail": ("Detail", "详情"),
}

# derived-column patterns: (prefix, suffix) -> (English template, Chinese template)
_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("_ci_low", "{}, CI low", "{} 下限"),
    ("_ci_high", "{}, CI high", "{} 上限"),
    ("_prev", "{}, previous", "{} (上期)"),
    ("_cur", "{}, this week", "{} (本期)"),
    ("_change", "{}, change", "{} 变化"),
    ("_rel_change", "{}, relative change", "{} 变化率"),
    ("_rel_diff", "{}, relative difference", "{} 相对差异"),
    ("_shrunk", "{}, shrunk (empirical Bayes)", "{} (经验贝叶斯收缩)"),
    ("_peer_avg", "{}, peer average", "{} 同行同层平均"),
    ("_peer_top10", "{}, peer top 10%", "{} 同行同层优秀"),
    ("_vs_peer_diff", "{}, gap to peer average", "{} 与同行同层平均之差"),
    ("_vs_peer_ratio", "{}, ratio to peer average", "{} 与同行同层平均之比"),
    ("_vs_top10_diff", "{}, gap to peer top 10%", "{} 与同行同层优秀之差"),
    ("_vs_top10_ratio", "{}, ratio to peer top 10%", "{} 与同行同层优秀之比"),
    ("_beyond_ci", "{}, peer average beyond interval", "{} 同行平均超出区间"),
    ("_p", "{}, p-value", "{} p 值"),
    ("_q", "{}, q-value", "{} q 值"),
)
_PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("rel_", "{}, relative change", "{} 变化率"),
    ("prev_", "{}, previous", "{} (上期)"),
    ("delta_", "{}, change", "{} 变化"),
)

_SECTIONS: dict[str, tuple[str, str]] = {
    "headline": ("Headline", "核心指标"),
    "funnel": ("Funnel", "转化漏斗"),
    "trend": ("Daily trend", "每日趋势"),
    "traffic": ("Traffic sources and ROAS", "流量来源与投入产出比"),
    "sources": ("Traffic sources", "流量来源"),
    "paid": ("Paid traffic", "付费流量"),
    "visitor_value": ("Visitor value", "访客价值"),
    "value": ("Visitor value and AOV", "访客价值与客单价"),
    "products": ("Products", "商品"),
    "movers": ("Movers", "显著变化"),
    "compare": ("Week on week", "周环比"),
    "dsr": ("Detailed seller ratings (DSR)", "店铺动态评分 (DSR)"),
    "flags": ("Flags: figures that mislead", "数据提示：可能误导的数字"),
    "data_quality": ("Data quality", "数据质量"),
    "audit": ("Rows used and excluded", "数据使用与排除"),
    "notes": ("Notes", "说明"),
}

_TEXT: dict[str, tuple[str, str]] = {
    "contents": ("Contents", "目录"),
    "week": ("Week", "周"),
    "period": ("Period", "统计周期"),
    "generated": ("Generated", "生成时间"),
    "previous": ("previous", "上期"),
    "change": ("change", "变化"),
    "significant": ("significant", "显著"),
    "not_significant": ("not significant", "不显著"),
    "no_flags": ("No flags.", "无数据提示。"),
    "use_instead": ("Use instead", "请改用"),
    "evidence": ("Evidence", "依据"),
    "examples": ("Examples", "示例"),
    "subject": ("Subject", "对象"),
    "rows_affected": ("rows affected", "行受影响"),
    "chart_in_html": ("chart in the HTML report", "图表见 HTML 报告"),
    "more_rows": ("more rows not shown", "行未显示"),
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "error": ("error", "错误"),
    "warning": ("warning", "警告"),
    "info": ("info", "提示"),
    "expected_band": ("expected range", "预期区间"),
    "actual": ("actual", "实际"),
    "outside_band": ("outside the expected range", "超出预期区间"),
    "title": ("Title", "标题"),
    "notes": ("Notes", "说明"),
    "summary": ("Summary", "概要"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`~shopmetrics.errors.DefinitionError`."""
    if lang not in LANGS:
        raise DefinitionError.unknown("language", lang, LANGS)
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


def label(name: str, lang: str = "en", overrides: Mapping[str, str] | None = None) -> str:
    """The display label of a metric or column name.

    Args:
        name: A column or metric name such as ``"payment_conversion"`` or
            ``"roas_ci_low"``.
        lang: ``"en"`` (default) or ``"zh"``.
        overrides: Labels to use first, ``{name: label}``.

    Returns:
        The label; the raw name when none is known.
    """
    check_lang(lang)
    if overrides and name in overrides:
        return overrides[name]
    if name in _NAMES:
        return _pick(_NAMES[name], lang)
    for suffix, en, zh in _SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and base in _NAMES:
            return (en if lang == "en" else zh).format(_pick(_NAMES[base], lang))
    for prefix, en, zh in _PREFIXES:
        base = name.removeprefix(prefix)
        if base != name and base in _NAMES:
            return (en if lang == "en" else zh).format(_pick(_NAMES[base], lang))
    return name


def section_title(key: str, lang: str = "en") -> str:
    """The title of a standard report section (the key itself when unknown)."""
    check_lang(lang)
    return _pick(_SECTIONS[key], lang) if key in _SECTIONS else key


def text(key: str, lang: str = "en") -> str:
    """A fixed piece of report text (``"contents"``, ``"use_instead"``, ...)."""
    return _pick(_TEXT[key], lang) if key in _TEXT else key


# --- r-story: the summary, the flags banner, corrected figures (branch r-story) ---------
_SECTIONS.update({"summary": ("In ten seconds", "十秒速览")})
_NAMES.update(
    {
        "action": ("What to do", "处理建议"),
        "same_mix_payment_conversion": (
            "Payment conversion at last week's traffic mix",
            "按上周流量结构的支付转化率",
        ),
        "severity": ("Severity", "严重程度"),
        "code": ("Flag", "标记"),
        "subject": ("Where", "对象"),
        "this_week": ("This week", "本周"),
        "last_week": ("Last week", "上周"),
        "this_week_rate": ("This week", "本周"),
        "last_week_rate": ("Last week", "上周"),
        "paid_amount_change": ("Paid amount, change", "支付金额变化"),
    }
)
_SUFFIXES = (
    *_SUFFIXES,
    ("_without_brushing", "{}, without the suspected brushed orders", "{}（剔除疑似刷单）"),
    ("_without_gap_day", "{}, without the day with no tracking", "{}（剔除埋点缺失日）"),
    ("_without_bots", "{}, without the bot visitors", "{}（剔除机器流量）"),
    ("_deposit_as_paid", "{}, presale counted on the deposit", "{}（预售按定金计）"),
)
_PREFIXES = (
    *_PREFIXES,
    ("without_brushing_", "{}, without the suspected brushed orders", "{}（剔除疑似刷单）"),
    ("without_gap_day_", "{}, without the day with no tracking", "{}（剔除埋点缺失日）"),
    ("without_bots_", "{}, without the bot visitors", "{}（剔除机器流量）"),
    ("deposit_as_paid_", "{}, presale counted on the deposit", "{}（预售按定金计）"),
)
_NAMES.update({"week": ("Week", "周")})
# --- end r-story ------------------------------------------------------------------------
