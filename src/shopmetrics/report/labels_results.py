"""Words of the result displays (``to_markdown`` / ``to_html`` / notebook views of results).

Columns, enumeration values, method names and fixed texts that only the results of the
metric functions show (A/B tests, sample sizes, customer value, validation, attribution,
anomalies, ...), in English and in 生意参谋's Chinese. :mod:`shopmetrics.report.labels`
adds them to its tables (an entry there wins over one here), so every rendering reads
them through the one label layer.
"""

from __future__ import annotations

NAMES: dict[str, tuple[str, str]] = {
    # what a result is (its ``kind``)
    "ctr_test": ("Creative test (click-through rate)", "创意测试（点击率）"),
    "activity_effect": ("Activities: did they pay?", "活动效果"),
    # A/B and creative tests, sample sizes
    "rate": ("Rate", "转化率"),
    "control_rate": ("Control rate", "对照组转化率"),
    "diff": ("Difference", "差值"),
    "ratio": ("Ratio to control", "与对照组之比"),
    "baseline": ("Baseline rate", "基线转化率"),
    "target": ("Target rate", "目标转化率"),
    "lift": ("Lift", "提升幅度"),
    "alpha": ("Significance level", "显著性水平"),
    "n_control": ("Control group size", "对照组样本量"),
    "n_treatment": ("Test group size", "实验组样本量"),
    "n_total": ("Total sample size", "总样本量"),
    "method": ("Method", "方法"),
    "test": ("Test", "检验方法"),
    "weight_current": ("Weight (this period)", "本期权重"),
    "previous": ("Previous", "上期"),
    "current": ("Current", "本期"),
    # attribution
    "channel": ("Channel", "渠道"),
    "value_share": ("Share of value", "价值占比"),
    # customer value
    "param": ("Parameter", "参数"),
    "estimate": ("Estimate", "估计值"),
    "se": ("Standard error", "标准误"),
    "frequency": ("Repeat purchases", "重复购买次数"),
    "recency": ("Last purchase (time since the first)", "最近一次购买时点"),
    "T": ("Time since the first purchase", "首次购买至今时长"),
    "monetary_value": ("Mean repeat order value", "重复购买平均金额"),
    "p_alive": ("Probability still active", "仍活跃概率"),
    "expected_purchases": ("Expected purchases", "预期购买次数"),
    "expected_spend": ("Expected order value", "预期客单价"),
    "actual_mean": ("Actual mean purchases", "实际平均购买次数"),
    "predicted_mean": ("Predicted mean purchases", "预测平均购买次数"),
    # traffic sources
    "is_paid": ("Paid", "付费"),
    "advice": ("Advice", "建议"),
    "attributed_orders": ("Attributed orders", "归因订单数"),
    "attributed_profit": ("Attributed gross profit", "归因毛利"),
    "spend_exposures": ("Exposures (ad report)", "推广展现量"),
    "spend_clicks": ("Clicks (ad report)", "推广点击量"),
    "roas_vs_rest": ("ROAS against the other paid sources", "投入产出比（与其他付费来源之比）"),
    # ids and columns named in sentences
    "visitor_id": ("Visitor", "访客ID"),
    "window_last_day": ("Last day of the window", "窗口末日"),
    "window_complete": ("Window complete", "窗口完整"),
    # A/B and creative tests: the control group's counts
    "control_successes": ("Control conversions", "对照组转化数"),
    "control_visitors": ("Control visitors", "对照组访客数"),
    "control_exposures": ("Control exposures", "对照组曝光量"),
    "control_clicks": ("Control clicks", "对照组点击量"),
    # anomalies
    "trend": ("Trend", "趋势"),
    "seasonal": ("Weekly pattern", "周内规律"),
    "is_missing": ("No data", "无数据"),
    # activities
    "products": ("Products", "商品"),
    "days_left_out": ("Days left out", "剔除天数"),
    # evidence of the flags
    "bot_click_share": ("Share of clicks by bots", "机器点击占比"),
    "bot_clicks": ("Bot clicks", "机器点击量"),
    "bot_event_share": ("Share of events by bots", "机器行为占比"),
    "bot_exposures": ("Bot exposures", "机器曝光量"),
    "bot_visit_share": ("Share of visitors that are bots", "机器访客占比"),
    "visitors_with_bots": ("Visitors with the bots", "含机器流量的访客数"),
    "ctr_with_bots": ("Click-through rate with the bots", "含机器流量的点击率"),
    "product_clicks": ("Clicks on the product", "商品点击量"),
    "product_exposures": ("Exposures of the product", "商品曝光量"),
    "product_ctr_with_bots": ("Product click-through rate with the bots", "含机器流量的商品点击率"),
    "product_ctr_without_bots": (
        "Product click-through rate without the bots",
        "剔除机器流量的商品点击率",
    ),
    "product_visitors_with_bots": ("Product visitors with the bots", "含机器流量的商品访客数"),
    "brushed_share_of_paid_amount": (
        "Share of the paid amount from suspected brushing",
        "疑似刷单金额占比",
    ),
    "dates": ("Dates", "日期"),
    "p_value_without_day": ("p-value without the day", "剔除该日后的 p 值"),
    "paid_buyers_of_day": ("Paying buyers that day", "当日支付买家数"),
    "payment_conversion_without_day": (
        "Payment conversion without the day",
        "剔除该日后的支付转化率",
    ),
    "previous_payment_conversion": ("Payment conversion, previous period", "上期支付转化率"),
    "previous_period": ("Previous period", "上期"),
    "history": ("History (time units)", "历史长度（时间单位）"),
    "horizon": ("Horizon (time units)", "预测期（时间单位）"),
    "unit": ("Time unit", "时间单位"),
    "se_r": ("Standard error of r", "r 的标准误"),
    "se_alpha": ("Standard error of α", "α 的标准误"),
    "se_a": ("Standard error of a", "a 的标准误"),
    "se_b": ("Standard error of b", "b 的标准误"),
    "se_s": ("Standard error of s", "s 的标准误"),
    "se_beta": ("Standard error of β", "β 的标准误"),
    "se_p": ("Standard error of p", "p 的标准误"),
    "se_q": ("Standard error of q", "q 的标准误"),
    "se_v": ("Standard error of v", "v 的标准误"),
    # inspect(path): canonical columns of the exports, rows left out
    "source_level_1": ("Source, level 1", "一级来源"),
    "source_level_2": ("Source, level 2", "二级来源"),
    "source_level_3": ("Source, level 3", "三级来源"),
    "source_path": ("Source path", "来源路径"),
    "summary_row": ("Summary rows", "汇总行"),
    "subtotal_row": ("Subtotal rows", "小计行"),
    "note_row": ("Note rows", "备注行"),
    "not_a_date": ("Not a date", "不是日期"),
    # methods line of a result
    "ci_method": ("Interval", "区间方法"),
    "confidence": ("Confidence", "置信水平"),
    "correction": ("Multiple-comparison correction", "多重比较校正"),
    "models": ("Models", "模型"),
    "window_days": ("Window (days)", "窗口（天）"),
}

MODELS: dict[str, tuple[str, str]] = {
    "bgnbd": ("BG/NBD", "BG/NBD 模型"),
    "pareto_nbd": ("Pareto/NBD", "Pareto/NBD 模型"),
    "gamma_gamma": ("Gamma-Gamma", "Gamma-Gamma 模型"),
}

VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "model": MODELS,
    # the base of the mix flag's standard error (flags/funnel.total_change_se)
    "se_base": {
        "visitors": ("Distinct visitors", "去重访客数"),
        "source_visits": ("Source visits (summed over sources)", "来源访客 (各来源相加)"),
    },
    "period": {"all": ("All", "全部")},
    "kind": {"missing": ("Missing", "缺失")},
    "unit": {
        "day": ("day", "天"),
        "week": ("week", "周"),
        "month": ("month", "月"),
        "year": ("year", "年"),
    },
    "param": {
        "alpha": ("α", "α"),
        "beta": ("β", "β"),
        "gamma": ("γ", "γ"),
    },
    "test": {
        "score": ("Score test", "Score 检验"),
        "delta-z": ("Delta-method z test", "Delta 法 z 检验"),
        "poisson-exact": ("Exact Poisson test", "Poisson 精确检验"),
        "fisher": ("Fisher's exact test", "Fisher 精确检验"),
        "z": ("z test", "z 检验"),
        "welch": ("Welch t test", "Welch t 检验"),
    },
    "method": {
        "pooled": ("Pooled variance", "合并方差"),
        "unpooled": ("Unpooled variance", "非合并方差"),
    },
    "advice": {
        "hold": ("Hold", "维持"),
        "raise": ("Raise the budget", "加大投放"),
        "cut": ("Cut the budget", "削减投放"),
        "stop": ("Stop", "暂停投放"),
    },
    "table": {
        "events": ("Events", "行为日志"),
        "orders": ("Orders", "订单"),
        "ratings": ("Ratings", "评价"),
        "spend": ("Ad spend", "推广花费"),
        "traffic": ("Traffic export", "流量数据"),
        "peers": ("Peer benchmarks", "同行数据"),
        "dsr_peers": ("DSR peer benchmarks", "同行动态评分"),
        "activities": ("Activities", "活动"),
    },
}

TERMS: dict[str, tuple[str, str]] = {**MODELS}

DENOMINATORS = ("visitors", "exposures", "clicks", "sessions", "paid_buyers", "orders", "trials")
"""Metrics a flag names as the denominator of a rate (shown by their labels)."""

NAMES.update(MODELS)  # a model named in a sentence (``gamma_gamma: the standard errors ...``)

TEXT: dict[str, tuple[str, str]] = {
    "no_problems": ("No problems found", "未发现问题"),
    "params": ("Fitted parameters", "模型参数"),
    "holdout": ("Holdout check", "留出期检验"),
    "validation": ("Validation", "数据校验"),
    "errors": ("errors", "个错误"),
    "warnings": ("warnings", "个警告"),
    # inspect(path): what a file will be read as
    "inspect_unknown": ("not a known export kind", "不是已知的导出类型"),
    "inspect_table": ("table", "数据表"),
    "inspect_error": ("Cannot use it yet", "暂不能使用"),
    "inspect_grain": ("Grain (one row is)", "数据粒度"),
    "inspect_read": ("Read", "读取方式"),
    "inspect_columns": ("Columns used", "使用的列"),
    "inspect_ignored": ("Ignored", "忽略的列"),
    "inspect_did_you_mean": ("Did you mean", "可能想要的列"),
    "inspect_excluded": ("Rows excluded", "排除的行"),
    "inspect_problems": ("Cells that do not parse", "无法解析的单元格"),
    "inspect_limits": ("Cannot give / unconfirmed rules", "无法提供的指标 / 未确认的规则"),
    "inspect_semantics": ("Semantics", "口径说明"),
    "inspect_notes": ("Notes", "说明"),
    "inspect_english_only": (
        "notes are not yet in Chinese",
        "条说明暂无中文版，请查看英文视图",
    ),
}


def merge(
    names: dict[str, tuple[str, str]],
    values: dict[str, dict[str, tuple[str, str]]],
    text: dict[str, tuple[str, str]],
    terms: dict[str, tuple[str, str]],
) -> None:
    """Add these words to the label layer's tables, keeping every entry they already hold."""
    for key, pair in NAMES.items():
        names.setdefault(key, pair)
    for column, table in VALUES.items():
        known = values.setdefault(column, {})
        for key, pair in table.items():
            known.setdefault(key, pair)
    # a metric named as a value (``denominator: visitors`` in a flag's evidence)
    denominators = values.setdefault("denominator", {})
    for key in DENOMINATORS:
        if key in names:
            denominators.setdefault(key, names[key])
    for key, pair in TEXT.items():
        text.setdefault(key, pair)
    for key, pair in TERMS.items():
        terms.setdefault(key, pair)
