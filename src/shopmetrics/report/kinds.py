"""The names of each kind of figure, read by :mod:`shopmetrics.report.format`.

A column or metric name is a count, money, a score, a rate change, a p-value or a ratio
when its base name (after the suffixes in ``STRIP``) is listed here; anything else is a
rate when :func:`shopmetrics.display.is_percent` says so, else a plain number.
"""

from __future__ import annotations

from shopmetrics.metrics import COUNT_ORDER, RATES

_FUNNEL_VALUES = ("paid_amount", "aov", "visitor_value", "session_conversion")
"""The funnel's columns in :data:`~shopmetrics.metrics.COUNT_ORDER` that are not counts."""

COUNTS = frozenset(
    [
        # the funnel's counts, in the metric dictionary's order (its rates and money left out)
        *(c for c in COUNT_ORDER if c not in RATES and c not in _FUNNEL_VALUES),
        "incremental_visitors",
        "incremental_paid_buyers",
        "presale_orders",
        "old_buyers",
        "attributed_buyers",
        "orders",
        "buyers",
        "buyers_without_visit",
        "rows",
        "excluded_rows",
        "ratings",
        "n",
        "n_ratings",
        "exclude_orders",
        "counted_suspects",
        "suspect",
        "min_sample",
        "missing_days",
        "max_days",
        "min_gap_days",
        "events",
        "expected",
        "band_low",
        "band_high",
        "median_per_day",
        "median_seconds_to_pay",
        "max_hours_after_payment",
        "rows_affected",
        "n_rows",
        "max_rows",
    ]
)
MONEY = frozenset(
    [
        "paid_amount",
        "attributed_amount",
        "amount",
        "cost",
        "spend",
        "cpc",
        "cpm",
        "cpa",
        "aov",
        "visitor_value",
        "visitor_value_net",
        "visitor_cost",
        "refund_amount",
        "clv",
        "paid_amount_without",
        "paid_amount_corrected",
        "incremental_paid_amount",
        "incremental_gross_profit",
        "halo_gross_profit",
        "after_gross_profit",
        "net_incremental_profit",
        "net_incremental_profit_with_halo",
        "did_paid_amount",
        "discount",
        "fee",
        "extra_spend",
        "mix_effect_value",
        "rate_effect_value",
        "overlap_effect_value",
    ]
)
SCORES = frozenset(
    [
        "item",
        "service",
        "logistics",
        "dsr_item",
        "dsr_service",
        "dsr_logistics",
        "score",
        "item_score",
        "service_score",
        "logistics_score",
    ]
)
RATE_CHANGES = frozenset(
    [
        "change_rate",
        "mix_effect_rate",
        "rate_effect_rate",
        "total_change",
        "se_total_change",
        "share_change",
        "rate_change",
        "effect_on_total",
    ]
)
PVALUES = frozenset(["p_value", "p_adjusted", "q_value", "p", "q"])
RATIOS = frozenset(["roas", "roi", "vs_peer_ratio", "orders_per_buyer", "poisson_mean"])
STRIP = (
    "_ci_low",
    "_ci_high",
    "_interval",
    "_prev",
    "_cur",
    "_peer_avg",
    "_peer_top10",
    # the corrected figures beside the headline: the kind of the figure they correct
    "_without_brushing",
    "_without_gap_day",
    "_without_bots",
    "_deposit_as_paid",
    "_corrected",
)
