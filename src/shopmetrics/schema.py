"""Table contracts: the six input tables, their canonical columns, and column mapping.

Every public function takes ``columns={"their_name": "canonical_name"}``. Exports of
Chinese store back-ends (生意参谋 and similar) load with no hand renaming through
:data:`CHINESE_COLUMNS`, which metric functions apply automatically to headers they
recognise. That export vocabulary and :func:`resolve_mapping` live in
:mod:`shopmetrics.io.vocabulary` and are re-exported here.

Examples:
    >>> from shopmetrics.schema import TABLES, resolve_mapping
    >>> TABLES["orders"].required
    ('order_id', 'buyer_id', 'created_at', 'amount')
    >>> resolve_mapping(["日期", "访客数", "支付买家数"], None)
    {'日期': 'date', '访客数': 'visitors', '支付买家数': 'paid_buyers'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from shopmetrics.io.vocabulary import CHINESE_COLUMNS, resolve_mapping

__all__ = ["CHINESE_COLUMNS", "EVENT_TYPES", "TABLES", "TableSpec", "resolve_mapping"]

Kind = Literal["id", "time", "str", "num", "int", "score", "bool", "rate"]
"""Column kinds: ``id`` (text, never a number), ``time``, ``str``, ``num`` (an amount),
``int`` (a count), ``score`` (1-5), ``bool`` and ``rate`` (a fraction; ``3.45%`` → 0.0345,
never summed). Text in ``num``, ``int``, ``score``, ``rate`` and ``time`` columns is parsed by
:mod:`shopmetrics.engine.values` when a table is loaded."""

EVENT_TYPES: tuple[str, ...] = ("exposure", "click", "visit", "inquiry", "cart", "favorite")
"""Allowed values of ``events.event`` (see the metric dictionary)."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The contract of one input table.

    Attributes:
        name: Table name as used in messages and keyword arguments.
        grain: What one row is.
        required: Columns that must be present.
        optional: Columns used when present.
        kinds: The kind of each known column (drives validation).
        keys: Columns that must not be null.
        unique: Column sets that must not repeat (e.g. an order line).
    """

    name: str
    grain: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Required then optional columns."""
        return self.required + self.optional

    def time_columns(self) -> tuple[str, ...]:
        """Columns holding timestamps or dates."""
        return tuple(c for c in self.columns if self.kinds.get(c) == "time")


TABLES: dict[str, TableSpec] = {
    "events": TableSpec(
        "events",
        "one tracked event",
        ("ts", "visitor_id", "event"),
        ("product_id", "source", "session_id", "campaign", "keyword", "device"),
        {
            "ts": "time",
            "visitor_id": "id",
            "event": "str",
            "product_id": "id",
            "source": "str",
            "session_id": "id",
            "campaign": "str",
            "keyword": "str",
            "device": "str",
        },
        keys=("ts", "visitor_id", "event"),
    ),
    "traffic": TableSpec(
        "traffic",
        "pre-aggregated counts per date and dimensions (a back-end export)",
        ("date",),
        (
            "exposures",
            "clicks",
            "visitors",
            "page_views",
            "inquirers",
            "carters",
            "favoriters",
            "order_buyers",
            "paid_buyers",
            "paid_amount",
            "paid_orders",
            "product_id",
            "source",
        ),
        {
            "date": "time",
            "exposures": "int",
            "clicks": "int",
            "visitors": "int",
            "page_views": "int",
            "inquirers": "int",
            "carters": "int",
            "favoriters": "int",
            "order_buyers": "int",
            "paid_buyers": "int",
            "paid_amount": "num",
            "paid_orders": "int",
            "product_id": "id",
            # columns an export adds beside the contract (parsed when they hold text)
            "refund_amount": "num",
            "period_end": "time",
        },
        keys=("date",),
    ),
    "orders": TableSpec(
        "orders",
        "one order line (order x product)",
        ("order_id", "buyer_id", "created_at", "amount"),
        (
            "paid_at",
            "product_id",
            "source",
            "quantity",
            "status",
            "is_presale",
            "deposit_paid_at",
            "refund_amount",
            "refunded_at",
            "cost",
        ),
        {
            "order_id": "id",
            "buyer_id": "id",
            "created_at": "time",
            "amount": "num",
            "paid_at": "time",
            "product_id": "id",
            "source": "str",
            "quantity": "int",
            "status": "str",
            "is_presale": "bool",
            "deposit_paid_at": "time",
            "refund_amount": "num",
            "refunded_at": "time",
            "cost": "num",
            "order_amount": "num",  # an export's order-level amount beside the line's
        },
        keys=("order_id", "buyer_id", "created_at"),
        unique=(("order_id", "product_id"),),
    ),
    "ratings": TableSpec(
        "ratings",
        "one buyer's rating of one trade",
        ("order_id", "buyer_id", "rated_at", "item_score", "service_score", "logistics_score"),
        ("trade_success_at", "product_id", "carrier", "region"),
        {
            "order_id": "id",
            "buyer_id": "id",
            "rated_at": "time",
            "item_score": "score",
            "service_score": "score",
            "logistics_score": "score",
            "trade_success_at": "time",
            "product_id": "id",
            "carrier": "str",
            "region": "str",
        },
        keys=("order_id", "buyer_id", "rated_at"),
        unique=(("order_id",),),
    ),
    "spend": TableSpec(
        "spend",
        "paid-traffic cost per date and source",
        ("date", "source", "cost"),
        ("campaign", "keyword", "exposures", "clicks"),
        {
            "date": "time",
            "source": "str",
            "cost": "num",
            "campaign": "str",
            "keyword": "str",
            "exposures": "int",
            "clicks": "int",
            # columns a spend report adds beside the contract (parsed when they hold text)
            "product_id": "id",
            "paid_amount": "num",
            "paid_orders": "int",
            "paid_buyers": "int",
            "visitors": "int",
            "page_views": "int",
        },
        keys=("date", "source", "cost"),
    ),
    "peers": TableSpec(
        "peers",
        "peer benchmark values (同行同层)",
        (),
        (
            "metric",
            "dimension",
            "tier",
            "category",
            "peer_avg",
            "peer_max",
            "peer_min",
            "peer_top10",
        ),
        {"peer_avg": "rate", "peer_max": "rate", "peer_min": "rate", "peer_top10": "rate"},
    ),
}

TRAFFIC_MEASURES: tuple[str, ...] = tuple(
    c for c in TABLES["traffic"].optional if TABLES["traffic"].kinds.get(c) in ("int", "num")
)
"""The count and amount columns of a traffic export (summed to the requested grain)."""

NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "orders": ("amount", "quantity", "refund_amount", "cost"),
    "spend": ("cost", "exposures", "clicks"),
    "traffic": TRAFFIC_MEASURES,
}
"""Columns whose values cannot be negative."""

UNIQUE_COUNTS: tuple[str, ...] = (
    "visitors",
    "inquirers",
    "carters",
    "favoriters",
    "order_buyers",
    "paid_buyers",
)
"""Traffic columns that are distinct counts: not additive across days or sources."""
