"""The metric dictionary in code: definitions, rates and their counts, display order.

Every metric module reads these names from here, so no metric module imports another
for a constant. The words are explained in the docs' metric dictionary
(docs/metrics.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


DEFINITIONS: dict[str, str] = {
    "alibaba": "生意参谋: unique buyers / unique visitors, pooled over each period",
    "daily_mean": "mean of the daily pooled rates within each period (how 生意参谋 shows "
    "multi-day bounce rate and per-visitor figures)",
    "shopify": "Shopify: sessions with a checkout (an order created during the session or "
    "within 30 minutes of its last event) / sessions with a visit",
}
"""Named definitions of the funnel's conversion rates."""


RATES: dict[str, tuple[str, str]] = {
    "ctr": ("clicks", "exposures"),
    "inquiry_rate": ("inquirers", "visitors"),
    "cart_rate": ("carters", "visitors"),
    "favorite_rate": ("favoriters", "visitors"),
    "order_conversion": ("order_buyers", "visitors"),
    "payment_conversion": ("paid_buyers", "visitors"),
}
"""Each rate and its (numerator, denominator) counts."""


COUNT_ORDER = (
    "exposures",
    "clicks",
    "ctr",
    "visitors",
    "page_views",
    "inquirers",
    "inquiry_rate",
    "carters",
    "cart_rate",
    "favoriters",
    "favorite_rate",
    "order_buyers",
    "order_conversion",
    "paid_buyers",
    "payment_conversion",
    "paid_orders",
    "paid_amount",
    "aov",
    "visitor_value",
    "deposit_buyers",
    "sessions",
    "converting_sessions",
    "session_conversion",
)


PROPORTIONS: dict[str, tuple[str, str]] = {
    **RATES,  # the funnel's rates
    "repurchase_rate": ("old_buyers", "paid_buyers"),
}
"""Proportion metrics and their (numerator, denominator) counts."""


COUNTS = ("exposures", "clicks", "visitors", "paid_buyers", "order_buyers")
"""Counts compared as Poisson rates per period."""


MEANS = ("aov", "visitor_value", "roas", "item", "service", "logistics", "visitor_value_net")
"""Ratio / mean metrics compared by the delta method (from per-unit aggregates where the result
carries them, see ``compare.MEAN_AGGREGATES``; else from their interval)."""
