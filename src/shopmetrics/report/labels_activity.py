"""Words of the activity section and of ``sm.activity_effect`` (活动效果), en and zh.

Kept beside :mod:`shopmetrics.report.labels`, which adds them to its tables.
"""

from __future__ import annotations

NAMES: dict[str, tuple[str, str]] = {
    "activity": ("Activity", "活动"),
    "start": ("Start", "开始日期"),
    "end": ("End", "结束日期"),
    "incremental_visitors": ("Incremental visitors", "增量访客数"),
    "incremental_paid_buyers": ("Incremental paying buyers", "增量支付买家数"),
    "incremental_paid_amount": ("Incremental paid amount", "增量支付金额"),
    "incremental_gross_profit": ("Incremental gross profit", "增量毛利"),
    "halo_gross_profit": ("Halo on other products (gross profit)", "关联销售毛利"),
    "after_gross_profit": ("After it (gross profit)", "活动后毛利变化"),
    "net_incremental_profit": ("Net incremental profit", "净增量利润"),
    "net_incremental_profit_with_halo": (
        "Net incremental profit with the halo",
        "含关联销售的净增量利润",
    ),
    "did_paid_amount": (
        "Incremental paid amount, against other products",
        "增量支付金额（对照商品估计）",
    ),
    "verdict": ("Verdict", "结论"),
    "verdict_basis": ("Verdict rests on", "结论依据"),
    "methods_z": ("Gap between the two estimates (standard errors)", "两种估计之差（标准误）"),
    "discount": ("Discount given", "优惠让利"),
    "group": ("Buyers", "买家"),
    "low_rating_share": ("Share of low ratings", "中差评占比"),
    "repurchase_30d_rate": ("Bought again within 30 days", "30天复购率"),
    "repurchase_60d_rate": ("Bought again within 60 days", "60天复购率"),
    "dsr_item_points": ("DSR points cost: item", "描述相符评分影响"),
    "dsr_service_points": ("DSR points cost: service", "服务态度评分影响"),
    "dsr_logistics_points": ("DSR points cost: logistics", "物流服务评分影响"),
}

VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "verdict": {
        "paid": ("Paid", "划算"),
        "did not pay": ("Did not pay", "不划算"),
        "cannot tell": ("Cannot tell", "无法判断"),
    },
    "group": {
        "activity buyers": ("Buyers it brought", "活动新买家"),
        "usual buyers": ("Usual new buyers", "常规新买家"),
    },
}
