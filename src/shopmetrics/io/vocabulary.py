"""Export vocabularies: the headers of store back-end exports, mapped to canonical columns.

Exports of Chinese store back-ends (生意参谋 and similar) load with no hand renaming through
:data:`CHINESE_COLUMNS`, which every metric applies automatically (through
:func:`resolve_mapping`) to headers it recognises. The canonical columns themselves are
the table contracts of :mod:`shopmetrics.schema`.

Examples:
    >>> from shopmetrics.io.vocabulary import resolve_mapping
    >>> resolve_mapping(["日期", "访客数", "支付买家数"], None)
    {'日期': 'date', '访客数': 'visitors', '支付买家数': 'paid_buyers'}
    >>> resolve_mapping(["订单号", "金额"], {"金额": "refund_amount"})
    {'订单号': 'order_id', '金额': 'refund_amount'}
    >>> resolve_mapping(["订单编号", "订单付款时间 "], {"订单付款时间": "paid_at"})
    {'订单编号': 'order_id', '订单付款时间 ': 'paid_at'}
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping

from shopmetrics.errors import SchemaError, suggest

__all__ = ["CHINESE_COLUMNS", "check_unmatched", "match_columns", "name_key", "resolve_mapping"]

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


def name_key(name: str) -> str:
    """How a ``columns=`` key is matched to a header: full-width characters folded (NFKC)
    and surrounding spaces removed.

    Examples:
        >>> name_key(" 订单付款时间\u3000") == name_key("订单付款时间"), name_key("ＩＤ")
        (True, 'ID')
    """
    return unicodedata.normalize("NFKC", str(name)).strip()


def match_columns(
    present: Iterable[str], columns: Mapping[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The user's ``columns=`` split into the keys found in the table (keyed by the
    table's own header: exact, else width- and space-insensitive) and those not found.

    Examples:
        >>> match_columns(["订单付款时间 ", "uid"], {"订单付款时间": "paid_at", "x": "cost"})
        ({'订单付款时间 ': 'paid_at'}, {'x': 'cost'})
    """
    present = list(present)
    by_key: dict[str, str] = {}
    for col in present:
        by_key.setdefault(name_key(col), col)
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for key, target in (columns or {}).items():
        header = key if key in present else by_key.get(name_key(key))
        if header is None:
            missing[key] = target
        else:
            found[header] = target
    return found, missing


def check_unmatched(
    table: str,
    missing: Mapping[str, str],
    present: Iterable[str],
    final: Collection[str],
    expected: Collection[str],
) -> None:
    """Raise for a ``columns=`` key that is not in the table when the table needed it.

    ``columns=`` is given once for every table of a call, so a key naming another table's
    column is not an error; it is one when its target is a column of this table
    (``expected``) that the table still lacks (``final``): the key was meant for this
    table and matches none of its headers.

    Raises:
        SchemaError: naming the key, the table's columns and the closest header.
    """
    present = list(present)
    for key, target in missing.items():
        if target not in expected or target in final:
            continue
        hint = suggest(name_key(key), present)
        msg = (
            f"{table}: columns= maps {key!r} to {target!r}, but the table has no column "
            f"{key!r}. Columns present: {present}."
        )
        if hint is not None:
            msg += f" Did you mean {hint!r}? Use columns={{{hint!r}: {target!r}}}."
        raise SchemaError(msg)


def resolve_mapping(
    present: Iterable[str],
    columns: Mapping[str, str] | None,
    *,
    table: str = "",
    expected: Collection[str] | None = None,
) -> dict[str, str]:
    """Build the rename mapping for a table: the user's ``columns`` first, then Chinese headers.

    A ``columns`` key matches a header exactly or but for surrounding spaces and
    full-width characters (``"订单付款时间"`` maps the header ``"订单付款时间 "``).

    Args:
        present: The table's columns.
        columns: The user's ``{their_name: canonical_name}``.
        table: The table's name, for messages.
        expected: The table's canonical columns: with it, a key that is not in the table
            while its target is one of them (and absent) is an error (see
            :func:`check_unmatched`).

    Raises:
        SchemaError: when the user's mapping names a column that the table needs and does
            not have, or two columns map to the same canonical name.
    """
    present = list(present)
    found, missing = match_columns(present, columns)
    mapping: dict[str, str] = {}
    for src in present:
        if src in found:
            mapping[src] = found[src]
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
    if expected is not None and missing:
        final = [mapping.get(c, c) for c in present]
        check_unmatched(table or "table", missing, present, final, expected)
    return mapping
