"""Flags of attribution journeys: what the credits of the channels cannot be trusted for.

- ``unattributed_conversions``: paths-table rows with an empty path hold conversions that
  no channel can be credited with.
- ``attribution_window``: orders with no touch by the buyer in the look-back window, left
  out of the attribution.
- ``no_conversions`` / ``small_sample``: nothing, or too little, to attribute.
- ``markov_no_nulls``: the Markov chain saw no non-converting journey.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shopmetrics.config import get_config
from shopmetrics.flags.finding import Flag

if TYPE_CHECKING:
    from shopmetrics.engine.journeys import Journeys

__all__ = ["attribution_window", "journey_flags", "unattributed_conversions"]


def unattributed_conversions(rows: int, conversions: float) -> Flag:
    """Paths rows with an empty path that hold ``conversions``."""
    return Flag(
        "unattributed_conversions",
        "warning",
        f"paths: {rows} rows with an empty path hold {conversions:g} conversions that no "
        "channel can be credited with; they are left out of every model.",
        table="paths",
        column="path",
        n_rows=rows,
        evidence={"conversions": conversions},
    )


def attribution_window(
    *,
    orders_without_touch: int,
    orders: int,
    value_without_touch: float,
    value: float,
    lines: int,
    window_days: float,
    examples: tuple[Mapping[str, Any], ...] = (),
) -> Flag:
    """Orders without a touch by the buyer in the ``window_days`` before them."""
    share = orders_without_touch / orders
    return Flag(
        "attribution_window",
        "warning",
        f"{orders_without_touch} of {orders} orders ({share:.1%}), worth "
        f"{value_without_touch:,.2f}, had no visit or click by the buyer in the "
        f"{window_days:g} days before the order and are left out of the attribution. Widen "
        "window_days, or check that events.visitor_id and orders.buyer_id are the same ids.",
        table="orders",
        column="created_at",
        n_rows=lines,
        examples=examples,
        evidence={
            "orders_without_touch": orders_without_touch,
            "orders": orders,
            "value_without_touch": value_without_touch,
            "value": value,
            "window_days": window_days,
        },
    )


def journey_flags(journeys: Journeys, models: Iterable[str], order: int) -> list[Flag]:
    """The journeys' own flags, and those of attributing them under ``models``."""
    flags: list[Flag] = []
    if (held := journeys.meta.get("empty_paths")) is not None:
        flags.append(unattributed_conversions(*held))
    if (gap := journeys.meta.get("window_gap")) is not None:
        flags.append(attribution_window(**gap))
    total = journeys.total_conversions
    min_sample = get_config().min_sample
    if total == 0:
        flags.append(
            Flag(
                "no_conversions",
                "warning",
                "no conversion could be attributed: every channel gets 0 and shares are NaN.",
                evidence={"conversions": 0},
            )
        )
    elif total < min_sample:
        flags.append(
            Flag(
                "small_sample",
                "warning",
                f"attribution rests on {total:g} conversions (fewer than min_sample={min_sample}); "
                "channel credits can move a lot from one period to the next.",
                evidence={"conversions": total, "min_sample": min_sample},
            )
        )
    if "markov" in models and total > 0:
        chain = journeys.chain(order)
        if not chain.nulls:
            flags.append(
                Flag(
                    "markov_no_nulls",
                    "info",
                    "the Markov model saw no non-converting journeys, so removal effects only "
                    "reflect how many converting paths pass through each channel. Give 'nulls' "
                    "in the paths table (or events with visitors who did not buy).",
                )
            )
    return flags
