"""The funnel's detectors under their first address (kept importable; new code imports
from the modules that hold them).

The detectors are grouped by the table they read: :mod:`shopmetrics.flags.funnel`,
:mod:`shopmetrics.flags.events`, :mod:`shopmetrics.flags.orders`; which of them run for a
funnel is :func:`shopmetrics.flags.registry.detect_funnel`.
"""

from shopmetrics.flags.events import (
    BOT_MIN_EVENTS,
    bot_traffic,
    tracking_gap,
    visitor_day_histogram,
)
from shopmetrics.flags.finding import sort_flags
from shopmetrics.flags.funnel import (
    impossible_rate,
    mix_shift,
    mix_shift_flag,
    small_sample,
    summed_uniques,
)
from shopmetrics.flags.orders import (
    BRUSH_MIN_ORDERS,
    BRUSH_ORDERS_PER_BUYER,
    immature_period,
    order_brushing,
    presale_zero_payment,
)
from shopmetrics.flags.registry import detect_funnel

__all__ = [
    "BOT_MIN_EVENTS",
    "BRUSH_MIN_ORDERS",
    "BRUSH_ORDERS_PER_BUYER",
    "bot_traffic",
    "detect_funnel",
    "immature_period",
    "impossible_rate",
    "mix_shift",
    "mix_shift_flag",
    "order_brushing",
    "presale_zero_payment",
    "small_sample",
    "sort_flags",
    "summed_uniques",
    "tracking_gap",
    "visitor_day_histogram",
]
