"""Every word a reader sees, in English and Chinese: the one label layer of the package.

Columns and metrics (:func:`label`), values of enumerations such as a source, a kind or
yes / no (:func:`value_label`), flag codes (:func:`flag_title`, :func:`flag_action`,
from :mod:`shopmetrics.report.labels_flags`), method and definition names
(:func:`term`), section titles and fixed report words (:func:`section_title`,
:func:`text`), and the sentences the report's sections write (:func:`translate`, from
:mod:`shopmetrics.report.labels_phrases`). HTML, Markdown, Excel, the charts and the
notebook views all take their words from here.

The Chinese names are the ones 生意参谋 shows (访客数, 支付转化率, 客单价, UV价值,
同行同层平均, 动态评分 ...; see the metric dictionary, docs/metrics.md); sources are the
store's own names (直通车, 引力魔方, 自然搜索 ...). Derived columns are labelled from
their base (``payment_conversion_ci_low`` → "Payment conversion, CI low" / "支付转化率
下限"). A name with no label is never shown as its code: it is humanised ("my custom
column") and logged, and ``tests/test_labels.py`` asserts that every code the library
emits has both labels.

This module sits low in the layers (only :mod:`shopmetrics.errors` below it), so the
notebook views of results use it too.

Examples:
    >>> from shopmetrics.report.labels import label, section_title, value_label, term
    >>> label("payment_conversion"), label("payment_conversion", "zh")
    ('Payment conversion', '支付转化率')
    >>> label("visitor_value_ci_high", "zh")
    'UV价值 上限'
    >>> label("rel_paid_amount")
    'Paid amount, relative change'
    >>> label("my_custom_column", "zh")
    'my custom column'
    >>> section_title("dsr", "zh")
    '店铺动态评分 (DSR)'
    >>> value_label("source", "paid_search", "zh"), value_label("significant", True, "zh")
    ('直通车', '是')
    >>> term("wilson", "zh")
    'Wilson 区间'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from shopmetrics.errors import DefinitionError
from shopmetrics.report import labels_activity as _activity_words
from shopmetrics.report.labels_flags import FLAGS
from shopmetrics.report.labels_phrases import PHRASES
from shopmetrics.report.labels_results import merge as _merge_result_words

__all__ = [
    "LANGS",
    "check_lang",
    "flag_action",
    "flag_title",
    "has_label",
    "label",
    "section_title",
    "term",
    "text",
    "translate",
    "value_label",
]

logger = logging.getLogger(__name__)

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
    "sessions": ("Sessions", "访问次数"),
    "converting_sessions": ("Sessions with an order", "下单访问次数"),
    "session_conversion": ("Session conversion", "访问转化率"),
    "deposit_buyers": ("Presale deposit buyers", "预售定金买家数"),
    "deposit_conversion": ("Deposit conversion (deposits / visitors)", "定金转化率"),
    "old_buyers": ("Returning buyers", "老买家数"),
    # value
    "aov": ("Average order value", "客单价"),
    "visitor_value": ("Visitor value", "UV价值"),
    "visitor_value_net": ("Visitor value, net of refunds", "UV价值 (扣除退款)"),
    "visitor_cost": ("Cost per visitor", "访客成本"),
    "repurchase_rate": ("Repurchase rate", "复购率"),
    "refund_rate": ("Refund rate", "退款率"),
    "refund_amount": ("Refund amount", "退款金额"),
    "clv": ("Customer lifetime value", "客户终身价值"),
    "amount": ("Amount", "金额"),
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
    "visitor_share": ("Share of visitors", "访客占比"),
    "kind": ("Kind", "类型"),
    # DSR
    "dsr": ("Detailed seller ratings", "店铺动态评分"),
    "item": ("Item as described", "宝贝与描述相符"),
    "service": ("Seller service", "卖家的服务态度"),
    "logistics": ("Logistics service", "物流服务的质量"),
    "item_score": ("Item as described", "宝贝与描述相符"),
    "service_score": ("Seller service", "卖家的服务态度"),
    "logistics_score": ("Logistics service", "物流服务的质量"),
    "dsr_item": ("DSR: item as described", "动态评分：宝贝与描述相符"),
    "dsr_service": ("DSR: seller service", "动态评分：卖家的服务态度"),
    "dsr_logistics": ("DSR: logistics", "动态评分：物流服务的质量"),
    "score": ("Score", "评分"),
    "ratings": ("Ratings", "评价数"),
    "n_ratings": ("Ratings counted", "计分评价数"),
    "rated_at": ("Rated at", "评价时间"),
    "carrier": ("Carrier", "快递公司"),
    "region": ("Region", "地区"),
    "low_dimensions": ("Low-scored dimensions", "低分维度"),
    "counts": ("Counts in the score", "计入评分"),
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
    "vs_peers": ("Against peers (normalised)", "与同行比 (标准化)"),
    # week over week, peers, mix
    "order_conversion_rate": ("Order conversion", "下单转化率"),
    "previous_rate": ("Last week", "上周"),
    "current_rate": ("This week", "本周"),
    "change_rate": ("Change", "变化"),
    "current": ("This week", "本周"),
    "previous": ("Last week", "上周"),
    "diff": ("Change", "变化"),
    "change": ("Change", "变化"),
    "interval": ("95% interval", "95% 区间"),
    "p_adjusted": ("p-value (adjusted)", "校正后 p 值"),
    "effect_on_total": ("Effect on store conversion", "对全店转化率的影响"),
    "direction": ("Direction", "方向"),
    "explained_by": ("Possible explanation", "可能原因"),
    "flags": ("Flags", "数据提示"),
    "vs_peer_ratio": ("Ratio to peers", "与同行之比"),
    "value_rate": ("Value", "数值"),
    "dlog_visitor_value": ("Change in visitor value (log)", "UV价值对数变化"),
    "dlog_conv": ("Change in conversion (log)", "转化率对数变化"),
    "dlog_aov": ("Change in AOV (log)", "客单价对数变化"),
    "mix_effect": ("Mix effect", "结构效应"),
    "rate_effect": ("Own-rate effect", "自身效应"),
    "mix_effect_rate": ("Mix effect", "结构效应"),
    "rate_effect_rate": ("Own-rate effect", "自身效应"),
    "overlap_effect": ("Overlap (visitors in several sources)", "重叠效应 (多来源访客)"),
    "mix_effect_value": ("Mix effect (¥ per visitor)", "结构效应 (元/访客)"),
    "rate_effect_value": ("Own-value effect (¥ per visitor)", "自身效应 (元/访客)"),
    "overlap_effect_value": ("Overlap (¥ per visitor)", "重叠效应 (元/访客)"),
    "source_visits": (
        "Source visits (a visitor counted once per source)",
        "来源访客 (每个来源各计一次)",
    ),
    "se_base": ("Base of the standard error", "标准误基数"),
    "conversion_rate": ("Payment conversion", "支付转化率"),
    "peer_avg_rate": ("Peer average", "同行同层平均"),
    "peer_top10_rate": ("Peer top 10%", "同行同层优秀"),
    "beyond_interval": ("Gap beyond interval", "差距超出区间"),
    "beyond_ci": ("Gap beyond interval", "差距超出区间"),
    "simpson": ("Reversal (Simpson's paradox)", "辛普森悖论 (方向相反)"),
    "total_change": ("Total change", "整体变化"),
    "se_total_change": ("Standard error of the total change", "整体变化的标准误"),
    "share_change": ("Change in share of visitors", "访客占比变化"),
    "rate_change": ("Change in own rate", "自身转化率变化"),
    "why": ("Why", "原因"),
    # anomalies
    "expected": ("Expected", "预期"),
    "band_low": ("Expected range, low", "预期下限"),
    "band_high": ("Expected range, high", "预期上限"),
    "is_anomaly": ("Outside the range", "超出区间"),
    # flag evidence
    "orders": ("Orders", "订单数"),
    "buyers": ("Buyers", "买家数"),
    "buyers_without_visit": ("Buyers who never visited", "未访问即下单的买家"),
    "orders_per_buyer": ("Orders per buyer", "人均订单数"),
    "median_seconds_to_pay": ("Median seconds to pay", "付款用时中位数 (秒)"),
    "hour_start": ("Hour", "小时"),
    "hour": ("Hour", "小时"),
    "exclude_orders": ("Orders to leave out", "需剔除的订单数"),
    "exclude_buyers": ("Buyers to leave out", "需剔除的买家"),
    "paid_amount_without": ("Change in paid amount without them", "剔除后支付金额的变化"),
    "paid_amount_corrected": ("Paid amount without them", "剔除后支付金额"),
    "brushed_share_of_paid_amount": (
        "Share of paid amount from the suspected brushed orders",
        "疑似刷单占支付金额比例",
    ),
    "days": ("Days", "日期"),
    "suspect": ("Suspect ratings", "可疑评价数"),
    "median_per_day": ("Median a day", "每日中位数"),
    "median": ("Median", "中位数"),
    "poisson_mean": ("Expected a day (Poisson)", "每日期望数 (泊松)"),
    "max_hours_after_payment": ("Within hours of payment", "付款后小时数上限"),
    "counted_suspects": ("Suspects in the score", "计入评分的可疑评价"),
    "min_sample": ("Minimum sample", "最小样本量"),
    "max_days": ("Longest span (days)", "最长跨度 (天)"),
    "min_gap_days": ("Shortest gap (days)", "最短间隔 (天)"),
    "max_rows": ("Rows at most", "最多行数"),
    "missing_days": ("Missing days", "缺失天数"),
    "data_first_day": ("First day of the data", "数据首日"),
    "window_first_day": ("First day of the window", "窗口首日"),
    "groups": ("Groups", "分组"),
    "columns": ("Columns", "字段"),
    "column": ("Column", "字段"),
    "by": ("By", "分组"),
    "from": ("From", "从"),
    "to": ("To", "到"),
    "rows_affected": ("Rows affected", "受影响行数"),
    "n_rows": ("Rows affected", "受影响行数"),
    "file": ("File", "文件"),
    "header": ("Header", "表头"),
    "excluded_rows": ("Rows left out", "排除行数"),
    "columns_used": ("Columns used", "使用的字段"),
    "events": ("Events", "事件数"),
    "share": ("Share", "占比"),
    "actual": ("Actual", "实际"),
    "control_trials": ("Control group size", "对照组样本量"),
    "conversions": ("Conversions", "转化数"),
    "days_with_values": ("Days with values", "有数据的天数"),
    "denominator": ("Denominator", "分母"),
    "numerator": ("Numerator", "分子"),
    "exclude_day": ("Day to leave out", "需剔除的日期"),
    "frequency_monetary_corr": ("Correlation of frequency and spend", "购买频次与金额的相关系数"),
    "max": ("Maximum", "最大值"),
    "min": ("Minimum", "最小值"),
    "median_buyer_amount": ("Median amount a buyer", "买家金额中位数"),
    "model": ("Model", "模型"),
    "observed": ("Observed", "观测值"),
    "predicted": ("Predicted", "预测值"),
    "one_time_buyers": ("One-time buyers", "一次性买家数"),
    "repeat_buyers": ("Repeat buyers", "复购买家数"),
    "orders_without_touch": ("Orders without a touch", "无触点订单数"),
    "value_without_touch": ("Amount without a touch", "无触点金额"),
    "p95_payment_lag_hours": ("Hours within which 95% pay", "95% 付款用时 (小时)"),
    "power": ("Power", "检验功效"),
    "present": ("Present", "已有"),
    "rel_gap": ("Relative gap", "相对差距"),
    "srm_p_value": ("p-value of the group sizes", "分组比例检验 p 值"),
    "successes": ("Successes", "成功数"),
    "suggestion": ("Suggestion", "建议"),
    "trials": ("Trials", "样本量"),
    "unpaid_before": ("Unpaid before", "此前未付款比例"),
    "unpaid_recent": ("Unpaid recently", "近期未付款比例"),
    "variant": ("Variant", "实验组"),
    "visitor_variant_pairs": ("Visitors in several variants", "跨组访客数"),
    "window_days": ("Window (days)", "窗口 (天)"),
    "bot_visitors": ("Suspected bot visitors", "疑似机器访客数"),
    "bot_visitors_broken_down": ("Bot visitors in the product figures", "计入商品数据的机器访客数"),
    "threshold_events_per_day": ("Threshold: events a day", "阈值：每日事件数"),
    "threshold_clicks_per_day": ("Threshold: clicks a day", "阈值：每日点击数"),
    "neighbour_median": ("Median of the days around", "前后几天的中位数"),
    "orders_created": ("Orders created", "创建订单数"),
    "metrics": ("Metrics", "指标"),
    "result": ("Result", "结果"),
    "funnel": ("Funnel", "转化漏斗"),
    "traffic": ("Traffic sources", "流量来源"),
    "anomalies": ("Anomalies", "异常"),
    "comparison": ("Comparison", "对比"),
    "attribution": ("Attribution", "归因"),
    "attribution_comparison": ("Attribution models compared", "归因模型对比"),
    "customer_value": ("Customer value", "客户价值"),
    "ab_test": ("A/B test", "A/B 试验"),
    "sample_size": ("Sample size", "样本量"),
    "low_ratings": ("Low ratings", "低分评价"),
    # dimensions and bookkeeping
    "date": ("Date", "日期"),
    "period": ("Week", "统计周期"),
    "period_start": ("Start", "开始日期"),
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
    "rel_change": ("Relative change", "变化率"),
    "low": ("Low", "下限"),
    "high": ("High", "上限"),
    "label": ("Label", "标签"),
    "n": ("Count", "数量"),
    "rows": ("Rows", "行数"),
    "p_value": ("p-value", "p 值"),
    "q_value": ("q-value (FDR-adjusted)", "q 值 (错误发现率校正)"),
    "significant": ("Significant", "显著"),
    "small_sample": ("Small sample", "样本过小"),
    "severity": ("Severity", "严重程度"),
    "code": ("Flag", "提示"),
    "subject": ("Subject", "对象"),
    "message": ("Message", "说明"),
    "action": ("What to do", "建议"),
    "evidence": ("Evidence", "依据"),
    "instead": ("Use instead", "请改用"),
    "table": ("Table", "数据表"),
    "reason": ("Reason", "原因"),
    "detail": ("Detail", "详情"),
    "x": ("Day", "日期"),
    "since": ("Since", "起始时间"),
}

# derived-column patterns: (suffix, English template, Chinese template); longest first
_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("_rel_change", "{}, relative change", "{} 变化率"),
    ("_rel_diff", "{}, against peers (relative)", "{} 与同行相对差异"),
    ("_vs_peers", "{}, against peers (normalised)", "{} 与同行比 (标准化)"),
    ("_vs_peer_ratio", "{}, ratio to peers", "{} 与同行之比"),
    ("_beyond_ci", "{}, gap beyond interval", "{} 差距超出区间"),
    ("_peer_avg", "{}, peer average", "{} 同行同层平均"),
    ("_interval", "{}, 95% interval", "{} 95% 区间"),
    ("_ci_low", "{}, CI low", "{} 下限"),
    ("_ci_high", "{}, CI high", "{} 上限"),
    ("_shrunk", "{}, shrunk (empirical Bayes)", "{} (经验贝叶斯收缩)"),
    ("_daily_mean", "{}, daily mean", "日均{}"),
    ("_peer_top10", "{}, peer top 10%", "{} 同行同层优秀"),
    ("_vs_peer_diff", "{}, gap to peer average", "{} 与同行同层平均之差"),
    ("_vs_peer_ratio", "{}, ratio to peer average", "{} 与同行同层平均之比"),
    ("_vs_top10_diff", "{}, gap to peer top 10%", "{} 与同行同层优秀之差"),
    ("_vs_top10_ratio", "{}, ratio to peer top 10%", "{} 与同行同层优秀之比"),
    ("_change", "{}, change", "{} 变化"),
    ("_prev", "{}, last week", "{} (上周)"),
    ("_cur", "{}, this week", "{} (本周)"),
    ("_p", "{}, p-value", "{} p 值"),
    ("_q", "{}, q-value", "{} q 值"),
)
_PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("rel_", "{}, relative change", "{} 变化率"),
    ("prev_", "{}, last week", "{} (上周)"),
    ("delta_", "{}, change", "{} 变化"),
    ("n_", "Ratings: {}", "{} 评价数"),
)

# values of enumerations: column -> value -> (English, Chinese); "*" for any column
_SOURCES: dict[str, tuple[str, str]] = {
    "search": ("Organic search", "自然搜索"),
    "paid_search": ("Paid search (直通车)", "直通车"),
    "display": ("Display ads (引力魔方)", "引力魔方"),
    "recommend": ("Recommendations (猜你喜欢)", "猜你喜欢"),
    "shop": ("Shop pages", "店铺首页"),
    "direct": ("Direct visits", "直接访问"),
    "wanxiangtai": ("All-in-one ads (万相台)", "万相台"),
    "other": ("Other", "其他"),
    "unknown": ("Unknown", "未知"),
    "(total)": ("Store total", "全店合计"),
    "(overlap)": ("Visitors in several sources (overlap)", "多来源重复访客 (重叠)"),
    "(none)": ("No source", "无来源"),
    "(store)": ("(store)", "(全店)"),
    "(not credited to one source)": ("(not credited to one source)", "(未归属单一来源)"),
}
_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "source": _SOURCES,
    "kind": {
        "free": ("Free", "免费流量"),
        "paid": ("Paid", "付费流量"),
        "drop_to_zero": ("Drop to zero", "跌至零"),
        "high": ("Above the range", "高于区间"),
        "low": ("Below the range", "低于区间"),
        "spike": ("Spike", "突增"),
        "dip": ("Dip", "突降"),
    },
    "direction": {"up": ("Up", "上升"), "down": ("Down", "下降"), "flat": ("Flat", "持平")},
    "severity": {
        "error": ("Error", "错误"),
        "warning": ("Warning", "警告"),
        "info": ("Note", "提示"),
    },
    "low_dimensions": {
        "item": ("Item as described", "宝贝与描述相符"),
        "service": ("Seller service", "卖家的服务态度"),
        "logistics": ("Logistics", "物流服务的质量"),
    },
}
_ENGINE_NAMES = {"duckdb": "DuckDB", "polars": "polars", "pandas": "pandas", "pyspark": "Spark"}
_BOOL: tuple[tuple[str, str], tuple[str, str]] = (("no", "否"), ("yes", "是"))
_NAME_COLUMNS = frozenset({"metric", "dimension", "by", "label", "columns", "column", "metrics"})
"""Columns whose values are metric or column names, shown by their labels."""

# method and definition names
_TERMS: dict[str, tuple[str, str]] = {
    "wilson": ("Wilson interval", "Wilson 区间"),
    "jeffreys": ("Jeffreys interval", "Jeffreys 区间"),
    "clopper-pearson": ("Clopper-Pearson interval", "Clopper-Pearson 区间"),
    "bh": ("Benjamini-Hochberg correction", "Benjamini-Hochberg 校正"),
    "holm": ("Holm correction", "Holm 校正"),
    "none": ("no correction", "不校正"),
    "no": ("no correction", "不校正"),
    "alibaba": ("生意参谋 definition", "生意参谋口径"),
    "daily_mean": ("daily-mean definition", "日均口径"),
    "shopify": ("Shopify definition", "Shopify 口径"),
    "recorded": ("the source each order records", "订单记录的来源"),
    "last_click": ("last click", "末次点击"),
    "first_click": ("first click", "首次点击"),
    "linear": ("linear (equal credit)", "线性归因"),
    "markov": ("Markov chain (removal effect)", "马尔可夫链 (移除效应)"),
    "position": ("position-based", "位置归因"),
    "time_decay": ("time decay", "时间衰减"),
}

_SECTIONS: dict[str, tuple[str, str]] = {
    "headline": ("Headline", "核心指标"),
    "funnel": ("Funnel", "转化漏斗"),
    "trend": ("Daily trend", "每日趋势"),
    "traffic": ("Traffic sources and ROAS", "流量来源与投入产出比"),
    "sources": ("Traffic sources", "流量来源"),
    "paid": ("Paid traffic", "付费流量"),
    "visitor_value": ("Visitor value", "UV价值"),
    "value": ("Visitor value and AOV", "UV价值与客单价"),
    "products": ("Products", "商品"),
    "movers": ("Movers", "显著变化"),
    "compare": ("Week on week", "周环比"),
    "dsr": ("Detailed seller ratings (DSR)", "店铺动态评分 (DSR)"),
    "flags": ("Flags: figures that mislead", "数据提示：可能误导的数字"),
    "data_quality": ("Data quality", "数据质量"),
    "audit": ("Rows used and excluded", "数据使用与排除"),
    "notes": ("Notes", "说明"),
    "summary": ("Summary", "概要"),
    "story": ("The week in brief", "本周概况"),
}

_TEXT: dict[str, tuple[str, str]] = {
    "contents": ("Contents", "目录"),
    "table": ("table", "表格"),
    "week": ("Week", "周"),
    "period": ("Period", "统计周期"),
    "generated": ("Generated", "生成时间"),
    "previous": ("last week", "上周"),
    "change": ("change", "变化"),
    "significant": ("significant", "显著"),
    "not_significant": ("not significant", "不显著"),
    "no_flags": ("No flags.", "无数据提示。"),
    "use_instead": ("Use instead", "请改用"),
    "evidence": ("Evidence", "依据"),
    "detail": ("Detail", "详情"),
    "action": ("What to do", "建议"),
    "examples": ("Examples", "示例"),
    "subject": ("Subject", "对象"),
    "rows_affected": ("rows affected", "行受影响"),
    "chart_in_html": ("chart in the HTML report", "图表见网页版报告"),
    "more_rows": ("more rows not shown", "行未显示"),
    "rows_between": ("rows not shown", "行未显示"),
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "error": ("Error", "错误"),
    "warning": ("Warning", "警告"),
    "info": ("Note", "提示"),
    "expected_band": ("expected range", "预期区间"),
    "expected": ("expected", "预期"),
    "actual": ("actual", "实际"),
    "outside_band": ("outside the expected range", "超出预期区间"),
    "report_week": ("reporting week", "报告周"),
    "break_even": ("break-even (ROAS = 1)", "盈亏平衡线 (ROAS = 1)"),
    "reference": ("reference", "参考线"),
    "title": ("Title", "标题"),
    "notes": ("Notes", "说明"),
    "summary": ("Summary", "概要"),
    "rows": ("rows", "行"),
    "definition": ("Definition", "口径"),
    "flags": ("Flags", "数据提示"),
    "result": ("Result", "结果"),
    "and": ("and", "和"),
    "more": ("more", "更多"),
    "pp": ("pp", "个百分点"),
    "weekly_report": ("Weekly report", "周报"),
    "peer_average": ("peer average", "同行同层平均"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`~shopmetrics.errors.DefinitionError`."""
    if lang not in LANGS:
        raise DefinitionError.unknown("language", lang, LANGS)
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


def _derived(name: str, lang: str) -> str | None:
    """The label of a derived column (``<base><suffix>`` / ``<prefix><base>``), if any."""
    for suffix, en, zh in _SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and (base in _NAMES or _derived(base, lang) is not None):
            inner = _pick(_NAMES[base], lang) if base in _NAMES else _derived(base, lang)
            return (en if lang == "en" else zh).format(inner)
    for prefix, en, zh in _PREFIXES:
        base = name.removeprefix(prefix)
        if base != name and base in _NAMES:
            return (en if lang == "en" else zh).format(_pick(_NAMES[base], lang))
    return None


def has_label(name: str) -> bool:
    """Whether ``name`` has a label of its own or from its base (not a humanised code)."""
    return name in _NAMES or _derived(name, "en") is not None


def humanise(name: str) -> str:
    """A code as words (``"my_custom_column"`` → ``"my custom column"``): never the code."""
    return re.sub(r"[_]+", " ", name).strip() or name


def label(name: str, lang: str = "en", overrides: Mapping[str, str] | None = None) -> str:
    """The display label of a metric or column name.

    Args:
        name: A column or metric name such as ``"payment_conversion"`` or
            ``"roas_ci_low"``.
        lang: ``"en"`` (default) or ``"zh"``.
        overrides: Labels to use first, ``{name: label}``.

    Returns:
        The label; for a name without one, the name in words (logged).
    """
    check_lang(lang)
    if overrides and name in overrides:
        return overrides[name]
    if name in _NAMES:
        return _pick(_NAMES[name], lang)
    derived = _derived(name, lang)
    if derived is not None:
        return derived
    if name in FLAGS:
        return flag_title(name, lang)
    if "_" in name:
        logger.info("no label for %r: shown as words", name)
    return humanise(name)


def value_label(column: str, value: Any, lang: str = "en") -> str | None:
    """The label of one value of an enumerated column (a source, a kind, yes / no, a
    metric or flag code in a ``metric`` / ``explained_by`` column); ``None`` when the value
    is data to show as it is (a product id, a buyer, a number)."""
    check_lang(lang)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _pick(_BOOL[int(bool(value))], lang)
    if not isinstance(value, str):
        return None
    # a sentence: in the other language, its code names labelled; a flag's subject
    said = translate(value, lang) if column in _FREE_TEXT else _subject(column, value, lang)
    table = {value: (said, said)} if said != value else _VALUES.get(column)
    if table is not None and value in table:
        return _pick(table[value], lang)
    if column in _NAME_COLUMNS and has_label(value):
        return label(value, lang)
    if column in ("explained_by", "flags", "code", "why") or value in FLAGS:
        parts = [p.strip() for p in value.split(",")]
        if all(p in FLAGS for p in parts):
            return ("、" if lang == "zh" else ", ").join(flag_title(p, lang) for p in parts)
    if column == "low_dimensions" and "," in value:
        parts = [p.strip() for p in value.split(",")]
        dims = _VALUES["low_dimensions"]
        if all(p in dims for p in parts):
            return ("、" if lang == "zh" else ", ").join(_pick(dims[p], lang) for p in parts)
    if value in _SOURCES and column in ("label", "source", "name", "channel", "by"):
        return _pick(_SOURCES[value], lang)
    return None


def _subject(column: str, value: str, lang: str) -> str:
    """Where a flag points (``"source, 2026-W46"``): in Chinese, its codes by their names."""
    if column != "subject" or lang != "zh":
        return value
    if (said := translate(value, lang)) != value:  # written in both languages
        return said
    return "，".join(value_label("by", p, lang) or p for p in value.split(", "))


def source_label(value: str, lang: str = "en") -> str:
    """A traffic source as the store names it (``paid_search`` → 直通车); data as is."""
    return _pick(_SOURCES[value], lang) if value in _SOURCES else value


def term(name: str, lang: str = "en") -> str:
    """A method or definition name as words (``"wilson"`` → ``"Wilson 区间"``)."""
    check_lang(lang)
    key = str(name).lower()
    return _pick(_TERMS[key], lang) if key in _TERMS else str(name)


def flag_title(code: str, lang: str = "en") -> str:
    """A flag's title (its code in words when the code is new)."""
    check_lang(lang)
    if code in FLAGS:
        return FLAGS[code][LANGS.index(lang)][0]
    logger.info("no title for flag %r: shown as words", code)
    return humanise(code).capitalize()


def flag_action(code: str, lang: str = "en") -> str:
    """The one plain action a flag asks of the reader (empty when the code is new)."""
    check_lang(lang)
    return FLAGS[code][LANGS.index(lang)][1] if code in FLAGS else ""


def section_title(key: str, lang: str = "en") -> str:
    """The title of a standard report section (the key in words when unknown)."""
    check_lang(lang)
    return _pick(_SECTIONS[key], lang) if key in _SECTIONS else humanise(key)


def text(key: str, lang: str = "en") -> str:
    """A fixed piece of report text (``"contents"``, ``"use_instead"``, ...)."""
    return _pick(_TEXT[key], lang) if key in _TEXT else humanise(key)


_WRITTEN: dict[str, str] = {}
"""Sentences a builder wrote in both languages (the story, the flag actions): English ->
Chinese, so that a report built in one language renders in the other."""

_WRITTEN_MAX = 10_000
"""Most sentences kept (the oldest are dropped first)."""

_FREE_TEXT = frozenset({"action", "message", "what_to_do", "detail", "note"})
"""Columns of whole sentences, translated as sentences."""


def register_sentence(en: str, zh: str) -> None:
    """Record a sentence a builder wrote in both languages (:func:`translate` uses it)."""
    if not en or en == zh:
        return
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.pop(next(iter(_WRITTEN)))
    _WRITTEN[en] = zh


def translate(sentence: str, lang: str = "en") -> str:
    """A sentence written by a report section, in ``lang``.

    Sections write English; the catalogue (:data:`~shopmetrics.report.labels_phrases.PHRASES`)
    holds each sentence's pattern and its words in both languages, the numbers, weeks and
    names it carries put back in (codes among them labelled: ``wilson`` → "Wilson 区间").
    A sentence not in the catalogue is returned as written (English).
    """
    check_lang(lang)
    if lang == "zh" and sentence in _WRITTEN:
        return _WRITTEN[sentence]
    for pattern, en, zh in PHRASES:
        m = pattern.fullmatch(sentence)
        if m is not None:
            groups = {k: _group(k, v or "", lang) for k, v in m.groupdict().items()}
            return (en if lang == "en" else zh).format(**groups)
    return words(sentence, lang)


_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_CODE_LIST = re.compile(r"\[('[a-z0-9_]+'(?:, '[a-z0-9_]+')*)\]")


def words(sentence: str, lang: str = "en") -> str:
    """A sentence with the code names in it replaced by their labels (a list of codes,
    ``['visitors', 'carters']``, by the labels joined): for sentences not in the
    catalogue, so that no code name reaches the reader.

    Examples:
        >>> words("['visitors', 'paid_buyers'] were added over 2 rows")
        'Visitors, Paying buyers were added over 2 rows'
    """

    def one_list(m: re.Match[str]) -> str:
        names = [n.strip("'") for n in m.group(1).split(", ")]
        return ("、" if lang == "zh" else ", ").join(label(n, lang) for n in names)

    def one_code(m: re.Match[str]) -> str:
        code = m.group(0)
        if code in FLAGS:  # a flag code: its title
            return FLAGS[code][0 if lang == "en" else 1][0]
        return label(code, lang) if has_label(code) else code

    return _CODE.sub(one_code, _CODE_LIST.sub(one_list, sentence))


def _group(key: str, value: str, lang: str) -> str:
    """A piece captured from a sentence: a code labelled by what it is, data as is."""
    if key.startswith("term"):
        return term(value, lang)
    if key.startswith("metric"):
        return label(value.replace(" ", "_"), lang)
    if key.startswith("part"):  # a sentence of its own
        return translate(value, lang)
    if key.startswith("list"):
        items = [v.strip() for v in value.strip("[]").split(",")]
        sep = "、" if lang == "zh" else ", "
        return sep.join(label(i.strip("'\" "), lang) for i in items if i)
    if key.startswith("table"):
        return value_label("table", value, lang) or value
    if key.startswith("engine"):
        return _ENGINE_NAMES.get(value, value)
    if key.startswith("dim"):
        return (
            _pick(_VALUES["low_dimensions"][value], lang)
            if value in _VALUES["low_dimensions"]
            else value
        )
    return value


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


# --- activities (活动效果) ----------------------------------------------------------------
_SECTIONS.update({"activity": ("Activities: did they pay?", "活动效果：是否划算")})
_NAMES.update(_activity_words.NAMES)
_SUFFIXES = (*_SUFFIXES, ("_vs_usual", "{}, against usual buyers", "{}（与常规买家之差）"))
_VALUES.update(_activity_words.VALUES)
# --- end activities -----------------------------------------------------------------------

_merge_result_words(_NAMES, _VALUES, _TEXT, _TERMS)  # result displays: labels_results.py
