"""Table contracts: the six input tables, their canonical columns, and column mapping.

Every public function takes ``columns={"their_name": "canonical_name"}``. Exports of
Chinese store back-ends (生意参谋 and similar) load with no hand renaming through
:data:`CHINESE_COLUMNS`, which metric functions apply automatically to headers they
recognise.

Examples:
    >>> from shopmetrics.schema import TABLES, resolve_mapping
    >>> TABLES["orders"].required
    ('order_id', 'buyer_id', 'created_at', 'amount')
    >>> resolve_mapping(["日期", "访客数", "支付买家数"], None)
    {'日期': 'date', '访客数': 'visitors', '支付买家数': 'paid_buyers'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from shopmetrics.errors import SchemaError

__all__ = ["CHINESE_COLUMNS", "EVENT_TYPES", "TABLES", "TableSpec", "resolve_mapping"]

Kind = Literal["id", "time", "str", "num", "int", "score", "bool"]

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
        {"peer_avg": "num", "peer_max": "num", "peer_min": "num", "peer_top10": "num"},
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

CHINESE_COLUMNS: dict[str, str] = {
    # dates and dimensions
    "日期": "date",
    "统计日期": "date",
    "时间": "ts",
    "商品ID": "product_id",
    "商品id": "product_id",
    "宝贝ID": "product_id",
    "流量来源": "source",
    "来源": "source",
    "访客ID": "visitor_id",
    "买家ID": "buyer_id",
    "买家昵称": "buyer_id",
    "订单编号": "order_id",
    "订单号": "order_id",
    "子订单编号": "order_id",
    "创建时间": "created_at",
    "下单时间": "created_at",
    "付款时间": "paid_at",
    "支付时间": "paid_at",
    "交易成功时间": "trade_success_at",
    "评价时间": "rated_at",
    "计划名称": "campaign",
    "推广计划": "campaign",
    "关键词": "keyword",
    "终端": "device",
    "设备": "device",
    # traffic counts
    "曝光量": "exposures",
    "展现量": "exposures",
    "点击量": "clicks",
    "点击数": "clicks",
    "访客数": "visitors",
    "浏览量": "page_views",
    "询盘人数": "inquirers",
    "咨询人数": "inquirers",
    "加购人数": "carters",
    "收藏人数": "favoriters",
    "下单买家数": "order_buyers",
    "支付买家数": "paid_buyers",
    "支付金额": "paid_amount",
    "支付子订单数": "paid_orders",
    "支付订单数": "paid_orders",
    # money
    "实付金额": "amount",
    "订单金额": "amount",
    "金额": "amount",
    "退款金额": "refund_amount",
    "退款时间": "refunded_at",
    "花费": "cost",
    "消耗": "cost",
    "成本": "cost",
    "购买数量": "quantity",
    "数量": "quantity",
    "订单状态": "status",
    "是否预售": "is_presale",
    "定金支付时间": "deposit_paid_at",
    # ratings
    "宝贝与描述相符": "item_score",
    "描述相符": "item_score",
    "卖家的服务态度": "service_score",
    "服务态度": "service_score",
    "物流服务的质量": "logistics_score",
    "物流服务": "logistics_score",
    "物流公司": "carrier",
    "地区": "region",
    # peers
    "同行同层平均": "peer_avg",
    "同行同层优秀": "peer_top10",
    "行业最高": "peer_max",
    "行业最低": "peer_min",
    "指标": "metric",
    "层级": "tier",
    "类目": "category",
}
"""Chinese column headers of common store back-end exports → canonical names.

Rate columns of an export (支付转化率, 点击率, ...) are derived figures: shopmetrics
recomputes them from counts, so they are not mapped and are ignored when present.
"""


def resolve_mapping(present: Iterable[str], columns: Mapping[str, str] | None) -> dict[str, str]:
    """Build the rename mapping for a table: the user's ``columns`` first, then Chinese headers.

    Raises:
        SchemaError: when the user's mapping names a column that is not in the table, or
            two columns map to the same canonical name.
    """
    present = list(present)
    mapping: dict[str, str] = {}
    for src in present:
        if columns is not None and src in columns:
            mapping[src] = columns[src]
        elif src in CHINESE_COLUMNS and CHINESE_COLUMNS[src] not in present:
            mapping[src] = CHINESE_COLUMNS[src]
    targets: dict[str, str] = {}
    for src, dst in mapping.items():
        if dst in targets:
            msg = (
                f"columns {targets[dst]!r} and {src!r} both map to {dst!r}; "
                "keep one of them out of the mapping"
            )
            raise SchemaError(msg)
        if dst in present and dst not in mapping:
            msg = (
                f"column {src!r} maps to {dst!r}, which the table already has; "
                f"rename or drop one of them"
            )
            raise SchemaError(msg)
        targets[dst] = src
    return mapping
