"""The export kinds shopmetrics recognises: their headers, grains and semantics, as data.

Each :class:`ExportKind` lists the headers a store back-end writes (the real names and the
variants seen over the years), the canonical column each one maps to (the names of
``shopmetrics.schema.TABLES``), the grain of one row and the semantics the conversion
applies (order status, presale stages, order-level amounts repeated on lines, a default
``source`` for spend reports). A new kind joins by adding an entry to :data:`KINDS` and a
fixture to ``tests/data/exports``.

Headers match after :func:`header_key`: width-folded (NFKC: ``（元）`` = ``(元)``), without
spaces, a leading ``=`` or quotes, lower-cased, with a unit suffix such as ``(元)`` removed
and synonyms folded (宝贝 = 商品, 付款时间 = 支付时间, 名字 = 名称, 会员名 = 昵称).

Examples:
    >>> from shopmetrics.io.exports import recognise
    >>> kind, mapping, ignored, did_you_mean = recognise(
    ...     ["订单编号", "买家会员名", "买家实际支付金额", "订单创建时间", "订单付款时间 ", "收货地址 "]
    ... )
    >>> kind.name
    'taobao_orders'
    >>> mapping["订单付款时间 "]
    'paid_at'
    >>> ignored["收货地址 "]
    'not used by any metric (kept as an extra column)'
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, NamedTuple

__all__ = [
    "KINDS",
    "SCENE_SOURCES",
    "SUMMARY_LABELS",
    "ColumnSpec",
    "ExportKind",
    "Recognition",
    "get_kind",
    "header_key",
    "is_level_header",
    "known_header_keys",
    "recognise",
]

Value = Literal[
    "id", "text", "count", "money", "rate", "time", "date", "score", "status", "running"
]  # fmt: skip
"""How a column's text is parsed (see :mod:`shopmetrics.io.values`)."""

SUMMARY_LABELS: frozenset[str] = frozenset({"汇总", "合计", "总计", "全部", "小计"})
"""Cell texts that mark a summary row in the first column or a source-level column."""

HELPERS: frozenset[str] = frozenset(
    {
        "unit_price",
        "source_level_1",
        "source_level_2",
        "source_level_3",
        "source_level_4",
        "presale_stages",
        "deposit_order_id",
    }
)
"""Mapping targets that are not canonical columns: read by the semantics, then dropped."""

DERIVED = "derived rate or ratio: recomputed from the counts, never summed"
RUNNING = "running total (year or month to date): never summed"
EXTRA = "not used by any metric (kept as an extra column)"
UNKNOWN = "unknown header (kept as an extra column)"

PATTERNS: tuple[tuple[str, str], ...] = (
    (r".*环比$", "change against the previous period: derived, never summed"),
    (r".*(率|占比|比)$", DERIVED),
    (r"^(pc端|无线端).+", "a PC / mobile split of another column (kept as an extra column)"),
)
"""Unknown headers matching one of these are ignored with the given reason."""

SYNONYMS: tuple[tuple[str, str], ...] = (
    ("宝贝", "商品"),
    ("付款时间", "支付时间"),
    ("名字", "名称"),
    ("会员名", "昵称"),
    ("编码", "编号"),
)

_UNIT_SUFFIX = re.compile(r"\((元|件|个|次|人|秒|%|万元)\)$")


@cache
def header_key(header: str) -> str:
    """The key a header is matched by: width-, space-, case-, unit- and synonym-folded.

    Examples:
        >>> header_key("  实付款（元） ")
        '实付款'
        >>> header_key('="宝贝ID"') == header_key("商品id")
        True
    """
    key = unicodedata.normalize("NFKC", str(header)).strip()
    key = key.lstrip("=").strip("\"'").strip()
    key = re.sub(r"\s+", "", key).lower()
    key = _UNIT_SUFFIX.sub("", key)
    for variant, canonical in SYNONYMS:
        key = key.replace(variant, canonical)
    return key


def is_level_header(header: str) -> bool:
    """Whether a header is a source-level column (一级来源 … 四级来源).

    Examples:
        >>> is_level_header("二级来源 "), is_level_header("访客数")
        (True, False)
    """
    return re.fullmatch(r"[一二三四1-4]级来源", header_key(header)) is not None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of an export kind.

    Attributes:
        headers: The header texts seen in real exports (first = the usual one).
        canonical: The canonical column it maps to, a helper name of :data:`HELPERS`, or
            ``None`` when it is known and ignored.
        value: How its text is parsed.
        level: ``"order"`` for an order-level cell repeated (or left blank) on line rows.
        reason: Why an unmapped column is ignored.
    """

    headers: tuple[str, ...]
    canonical: str | None = None
    value: Value = "text"
    level: Literal["order", "line"] | None = None
    reason: str = EXTRA


@dataclass(frozen=True, slots=True)
class ExportKind:
    """A store back-end export and how to read it.

    Attributes:
        name: Registry key (``"taobao_orders"``).
        title: What the back-end calls it.
        table: The canonical table it feeds (``orders``, ``traffic``, ``spend``, ``ratings``;
            ``order_lines`` for line items that need their order report).
        grain: What one row is.
        columns: The known columns.
        signatures: Header sets (any one, all of its headers present) that identify it.
        excludes: Headers whose presence rules it out.
        hints: Words of a title or file name that single it out among look-alikes.
        default_source: ``source`` of every row when the file has no source column.
        notes: Semantics the conversion applies, stated for ``inspect`` and the audit.
    """

    name: str
    title: str
    table: str
    grain: str
    columns: tuple[ColumnSpec, ...]
    signatures: tuple[tuple[str, ...], ...]
    excludes: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    default_source: str | None = None
    notes: tuple[str, ...] = field(default=())

    def by_key(self) -> dict[str, ColumnSpec]:
        """Header key → column spec."""
        return {header_key(h): c for c in self.columns for h in c.headers}

    def spec_of(self, canonical: str) -> ColumnSpec | None:
        """The column spec that maps to ``canonical``, if any."""
        return next((c for c in self.columns if c.canonical == canonical), None)

    @property
    def order_level(self) -> tuple[str, ...]:
        """Canonical columns that hold one value per order on a line-grain export."""
        return tuple(c.canonical for c in self.columns if c.level == "order" and c.canonical)


def _c(canonical: str | None, *headers: str, value: Value = "text", **kw: str) -> ColumnSpec:
    return ColumnSpec(tuple(headers), canonical, value, **kw)  # type: ignore[arg-type]


def _ignored(reason: str, *headers: str, value: Value = "text") -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec((h,), None, value, reason=reason) for h in headers)


def _order(canonical: str | None, *headers: str, value: Value = "text") -> ColumnSpec:
    return ColumnSpec(tuple(headers), canonical, value, level="order")


_SEARCH = "search-sourced subset (source 手淘搜索): a separate figure, not added to visitors"

SYCM_PRODUCT = ExportKind(
    name="sycm_product",
    title="生意参谋 商品效果 / 商品排行 (product export)",
    table="traffic",
    grain="product × stat period (a day; week or month downloads carry a range)",
    columns=(
        _c("date", "统计日期", "日期", value="date"),
        _c("product_id", "商品ID", value="id"),
        _c("product_name", "商品名称", "商品标题"),
        _c("visitors", "商品访客数", value="count"),
        _c("page_views", "商品浏览量", value="count"),
        _c("favoriters", "商品收藏人数", "商品收藏买家数", value="count"),
        _c("carters", "商品加购人数", value="count"),
        _c("order_buyers", "下单买家数", value="count"),
        _c("paid_buyers", "支付买家数", value="count"),
        _c("paid_amount", "支付金额", value="money"),
        _c("refund_amount", "成功退款金额", value="money"),
        *_ignored(_SEARCH, "搜索引导访客数", "搜索引导支付买家数", value="count"),
        *_ignored(
            DERIVED,
            "平均停留时长", "商品详情页跳出率", "下单转化率", "商品支付转化率", "支付转化率",
            "访客平均价值", "搜索引导支付转化率", "结构化详情引导转化率", "结构化详情引导成交占比",
            "客单价", "UV价值",
            value="rate",
        ),
        *_ignored(
            EXTRA,
            "主商品ID", "商品类型", "货号", "商品状态", "商品标签", "商品加购件数", "下单件数",
            "下单金额", "支付件数", "聚划算支付金额", "竞争力评分", "老买家支付金额",
        ),
        *_ignored(
            "distinct count that does not add over days (kept as an extra column)",
            "支付新买家数", "支付老买家数",
        ),
        *_ignored(RUNNING, "年累计支付金额", "月累计支付金额", "月累计支付件数", value="running"),
    ),
    signatures=(
        ("商品访客数",), ("商品ID", "商品浏览量"),
        # a download with its traffic columns unticked: sales and carts per product only
        ("商品ID", "支付买家数"), ("商品ID", "支付金额"), ("商品ID", "商品加购人数"),
    ),
    notes=("rows without a 统计日期 column take the period of the title rows",),
)  # fmt: skip

SYCM_SOURCE = ExportKind(
    name="sycm_source",
    title="生意参谋 流量 → 店铺来源 / 商品来源 (traffic-source export)",
    table="traffic",
    grain="source path × day [× 流量载体]",
    columns=(
        _c("date", "统计日期", "日期", value="date"),
        _c("source_level_1", "一级来源"),
        _c("source_level_2", "二级来源"),
        _c("source_level_3", "三级来源"),
        _c("source_level_4", "四级来源"),
        _c("source", "流量来源", "来源"),
        _c("keyword", "来源名称"),
        _c("product_id", "商品ID", value="id"),
        _c("visitors", "访客数", value="count"),
        _c("page_views", "浏览量", value="count"),
        _c("order_buyers", "下单买家数", value="count"),
        _c("paid_buyers", "支付买家数", value="count"),
        _c("paid_amount", "支付金额", value="money"),
        _c("carters", "加购人数", value="count"),
        _c("favoriters", "商品收藏人数", "收藏人数", value="count"),
        *_ignored(DERIVED, "下单转化率", "支付转化率", "客单价", "UV价值", value="rate"),
        *_ignored(
            EXTRA,
            "流量载体", "下单金额", "新访客", "关注店铺人数", "加购件数", "直接支付买家数",
            "粉丝支付买家数",
        ),
    ),
    signatures=(("一级来源",), ("流量来源", "访客数")),
    notes=(
        "source = the deepest named level; source_path = the levels joined with ' > '",
        "汇总 rows and rows whose children are present (subtotals) are excluded and counted",
        "a visitor seen in two sources counts in each: rows never add up to the shop total",
    ),
)  # fmt: skip

SYCM_SHOP = ExportKind(
    name="sycm_shop",
    title="生意参谋 店铺整体 (shop-overview daily export)",
    table="traffic",
    grain="shop × day",
    columns=(
        _c("date", "统计日期", "日期", value="date"),
        _c("visitors", "访客数", value="count"),
        _c("page_views", "浏览量", value="count"),
        _c("favoriters", "商品收藏买家数", value="count"),
        _c("carters", "加购人数", value="count"),
        _c("order_buyers", "下单买家数", value="count"),
        _c("paid_buyers", "支付买家数", value="count"),
        _c("paid_amount", "支付金额", value="money"),
        _c("paid_orders", "支付父订单数", value="count"),
        _c("refund_amount", "成功退款金额", "成功退货退款金额", value="money"),
        *_ignored(
            "spend of one channel: read the spend report of that channel instead",
            "直通车消耗", "钻石展位消耗", "淘宝客佣金", value="money",
        ),
        *_ignored(
            "shop score of the day (derived): use a review export for DSR",
            "描述相符评分", "服务态度评分", "物流服务评分", value="score",
        ),
        *_ignored(
            DERIVED,
            "平均停留时长", "跳失率", "人均浏览量", "下单转化率", "支付转化率", "下单-支付转化率",
            "客单价", "UV价值", "平均支付_签收时长(秒)",
            value="rate",
        ),
        *_ignored(
            EXTRA,
            "商品访客数", "商品浏览量", "商品收藏次数", "加购件数", "支付子订单数", "支付件数",
            "支付商品数", "下单金额", "下单件数", "老访客数", "新访客数", "支付老买家数",
            "老买家支付金额", "评价数", "有图评价数", "正面评价数", "负面评价数", "店铺收藏买家数",
        ),
    ),
    signatures=(("统计日期", "访客数", "支付买家数"),),
    excludes=("一级来源", "二级来源", "流量来源", "商品ID", "商品名称"),
)  # fmt: skip

_ORDER_STATUS_NOTE = (
    "订单状态 → paid / unpaid / refunded: paid ⇔ 订单付款时间 present (the status when it is "
    "blank); 交易关闭 with a payment time = refunded in full, without one = closed unpaid"
)
_PRESALE_NOTE = (
    "presale ⇔ 分阶段订单信息 or 特权订金订单id non-empty; a presale whose 尾款 is unpaid "
    "keeps its payment time as deposit_paid_at and is not paid (生意参谋 counts it when fully paid)"
)

TAOBAO_ORDERS = ExportKind(
    name="taobao_orders",
    title="淘宝/天猫 订单报表 (ExportOrderList, order report)",
    table="orders",
    grain="one (main) order",
    columns=(
        _c("order_id", "订单编号", value="id"),
        _c("buyer_id", "买家会员名", value="id"),
        _c("created_at", "订单创建时间", value="time"),
        _c("paid_at", "订单付款时间", value="time"),
        _c("amount", "买家实际支付金额", value="money"),
        _c("status", "订单状态", value="status"),
        _c("quantity", "宝贝总数量", value="count"),
        _c("refund_amount", "退款金额", value="money"),
        _c("presale_stages", "分阶段订单信息"),
        _c("deposit_order_id", "特权订金订单id", value="id"),
        *_ignored(
            EXTRA,
            "买家支付宝账号", "支付单号", "支付详情", "买家应付货款", "买家应付邮费", "总金额",
            "买家支付积分", "返点积分", "实际支付积分", "买家留言", "收货人姓名", "收货地址",
            "运送方式", "联系电话", "联系手机", "宝贝标题", "宝贝种类", "物流单号", "物流公司",
            "订单备注", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费",
            "发票抬头", "是否手机订单", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息",
            "天猫卡券抵扣", "集分宝抵扣", "是否是O2O交易", "新零售交易类型", "新零售导购门店id",
            "新零售导购门店名称", "新零售发货门店id", "新零售发货门店名称", "退款金额(元)明细",
            "确认收货时间", "打款商家金额", "主订单编号", "含应开票给个人的个人红包",
        ),
    ),
    signatures=(("订单编号", "买家实际支付金额"),),
    notes=(_ORDER_STATUS_NOTE, _PRESALE_NOTE),
)  # fmt: skip

TAOBAO_ITEMS = ExportKind(
    name="taobao_items",
    title="淘宝/天猫 宝贝报表 (ExportOrderDetailList, order lines)",
    table="order_lines",  # joined with the order report into ``orders`` (convert.join_lines)
    grain="order × item line",
    columns=(
        _c("order_id", "订单编号", value="id"),
        _c("product_name", "标题"),
        _c("unit_price", "价格", value="money"),
        _c("quantity", "购买数量", value="count"),
        _c("status", "订单状态", value="status"),
        _c("product_id", "商家编码", value="id"),
        *_ignored(EXTRA, "外部系统编号", "商品属性", "套餐信息", "备注", "联系方式"),
    ),
    signatures=(("订单编号", "标题", "购买数量"),),
    notes=(
        ("no line amount: the order report's 买家实际支付金额 is allocated over the lines "
        "(by price × quantity, to the cent), never summed from the lines"),
    ),
)  # fmt: skip

ALI1688_ORDERS = ExportKind(
    name="ali1688_orders",
    title="1688 订单列表 (order export)",
    table="orders",
    grain="goods line (order-level cells filled on the first line only, or repeated)",
    columns=(
        _order("order_id", "订单编号", value="id"),
        _order("buyer_id", "买家会员名", value="id"),
        _order("amount", "实付款(元)", value="money"),
        _order("status", "订单状态", value="status"),
        _order("created_at", "订单创建时间", value="time"),
        _order("paid_at", "订单付款时间", value="time"),
        _c("product_name", "货品标题"),
        _c("product_id", "Offer ID", "OfferID", value="id"),
        _c("quantity", "数量", value="count"),
        _c("unit_price", "单价(元)", value="money"),
        *(
            ColumnSpec((h,), None, level="order")
            for h in (
                "买家公司名", "卖家公司名", "卖家会员名", "货品总价(元)", "运费(元)",
                "涨价或折扣(元)", "发货方", "收货人姓名", "收货地址", "邮编", "联系电话",
                "联系手机", "买家留言", "物流公司", "运单号", "物流公司运单号", "关联编号",
                "是否代发订单", "下单批次号", "下游渠道", "下游订单号", "发起人登录名",
            )
        ),
        *_ignored(EXTRA, "单位", "货号", "型号", "SKU ID", "物料编号", "单品货号", "货品种类"),
    ),
    signatures=(("订单编号", "实付款(元)", "货品标题"), ("订单编号", "Offer ID")),
    notes=(
        "continuation lines with a blank 订单编号 take the order's id and order-level cells",
        ("实付款 is an order amount: taken once per order and allocated over its lines "
        "(by 单价 × 数量, to the cent), whether it is repeated on every line or not"),
        _ORDER_STATUS_NOTE,
    ),
)  # fmt: skip


def _spend_columns() -> tuple[ColumnSpec, ...]:
    return (
        _c("date", "日期", "统计日期", value="date"),
        _c("source", "场景名字", "场景名称"),
        _c("campaign", "计划名字", "推广计划", "计划名称"),
        _c("product_id", "主体ID", "宝贝ID", value="id"),
        _c("product_name", "主体名称", "宝贝名称"),
        _c("keyword", "词名字/词包名字", "关键词", "词名字"),
        _c("exposures", "展现量", value="count"),
        _c("clicks", "点击量", value="count"),
        _c("cost", "花费", value="money"),
        _c("paid_amount", "总成交金额", value="money"),
        _c("paid_orders", "总成交笔数", value="count"),
        _c("paid_buyers", "成交人数", value="count"),
        _c("page_views", "引导访问量", value="count"),
        _c("visitors", "引导访问人数", value="count"),
        *_ignored(
            DERIVED,
            "点击率", "平均点击花费", "千次展现花费", "点击转化率", "投入产出比", "含预售投产比",
            "总成交成本", "加购率", "宝贝收藏率", "引导访问潜客占比", "引导访问率", "入会率",
            "成交新客占比", "平均访问页面数", "人均成交笔数", "人均成交金额",
            value="rate",
        ),
        *_ignored(
            EXTRA,
            "场景ID", "原二级场景ID", "原二级场景名字", "计划ID", "单元ID", "单元名字",
            "推广单元", "主体类型", "词类型", "词ID/词包ID", "人群名字", "直接成交金额",
            "直接成交笔数", "间接成交金额", "间接成交笔数", "总预售成交金额", "总预售成交笔数",
            "直接预售成交金额", "直接预售成交笔数", "间接预售成交金额", "间接预售成交笔数",
            "总购物车数", "直接购物车数", "间接购物车数", "收藏宝贝数", "收藏店铺数",
            "总收藏加购数", "拍下订单笔数", "拍下订单金额", "优惠券领取量", "旺旺咨询量",
            "引导访问潜客数", "入会量", "深度访问量", "成交新客数", "平均展现排名",
        ),
    )  # fmt: skip


_SPEND_NOTES = (
    "without a 场景名字 column every row gets the kind's default source (or source=...)",
    "keyword and crowd reports repeat the same plan-day: never add cost across report types",
)


def _spend(name: str, title: str, hint: str | None) -> ExportKind:
    return ExportKind(
        name=name,
        title=title,
        table="spend",
        grain="日期 × 场景 × 计划 [× 单元] × 主体 [× 词 | × 人群]",
        columns=_spend_columns(),
        signatures=(("花费", "展现量"), ("花费", "点击量")),
        hints=(hint,) if hint else (),
        default_source=hint,
        notes=_SPEND_NOTES,
    )


SCENE_SOURCES: dict[str, str] = {
    # 万相台无界版 scenes that replaced the old channels (the scene list of 阿里妈妈's
    # 效果推广 package names them 关键词推广(原淘内广告/直通车) and 精准人群推广(整合原消费者运营))
    "关键词推广": "直通车",
    "精准人群推广": "引力魔方",  # *unconfirmed*: the crowd scene also took in 消费者运营
    # 万相台's own scenes (货品运营 / 消费者运营 / 其他场景推广 / 内容, old and 无界版)
    **dict.fromkeys(
        (
            "全站推广", "货品运营", "货品加速", "测款快", "上新快", "消费者运营", "拉新快",
            "会员快", "入会快", "人群击穿", "追投快", "粉丝快", "获客易", "其他场景推广",
            "活动加速", "全店智投", "全店推", "多目标直投", "预热蓄水", "爆发收割", "电商场景",
            "超级直播", "超级短视频", "短直联动",
        ),
        "万相台",
    ),
}  # fmt: skip
"""A spend report's 场景名字 → the ``source`` its rows get (the name 生意参谋 gives the paid
channel). A scene is matched whole, then without a ``(原…)`` note, then by its parts
(``货品运营-货品加速`` → 货品加速); the scene text is kept in a ``scene`` column. Override or
extend it with ``to_canonical(read, scene_sources={"全站推广": "全站推广"})``."""


ALIMAMA_SPEND = _spend("alimama_spend", "阿里妈妈 推广报表 (spend report, channel not named)", None)
ZTC_SPEND = _spend("ztc_spend", "直通车 推广报表 (spend report)", "直通车")
YLMF_SPEND = _spend("ylmf_spend", "引力魔方 推广报表 (spend report)", "引力魔方")
WXT_SPEND = _spend("wxt_spend", "万相台 推广报表 (spend report)", "万相台")

REVIEWS = ExportKind(
    name="taobao_reviews",
    title="淘宝/天猫 评价 (review export)",
    table="ratings",
    grain="one buyer's rating of one trade",
    columns=(
        _c("order_id", "订单编号", value="id"),
        _c("buyer_id", "买家昵称", value="id"),
        _c("rated_at", "评价时间", value="time"),
        _c("item_score", "宝贝与描述相符", "描述相符", value="score"),
        _c("service_score", "卖家的服务态度", "服务态度", value="score"),
        _c("logistics_score", "物流服务的质量", "卖家发货的速度", "物流服务", value="score"),
        _c("trade_success_at", "交易成功时间", value="time"),
        _c("product_id", "宝贝ID", value="id"),
        _c("carrier", "物流公司"),
        *_ignored(EXTRA, "评价内容", "追评", "追评内容", "追评时间", "宝贝标题", "评价等级"),
    ),
    signatures=(("评价时间", "宝贝与描述相符"), ("评价时间", "描述相符"), ("评价时间", "评价内容")),
    notes=("scores are 1–5; a blank score is a dimension not rated (no default score)",),
)  # fmt: skip

KINDS: dict[str, ExportKind] = {
    k.name: k
    for k in (
        SYCM_PRODUCT,
        SYCM_SOURCE,
        SYCM_SHOP,
        TAOBAO_ORDERS,
        TAOBAO_ITEMS,
        ALI1688_ORDERS,
        ZTC_SPEND,
        YLMF_SPEND,
        WXT_SPEND,
        ALIMAMA_SPEND,
        REVIEWS,
    )
}
"""Every known export kind, by name."""


def get_kind(name: str) -> ExportKind:
    """The export kind called ``name``.

    Raises:
        DefinitionError: for an unknown name (with the known ones and a did-you-mean).

    Examples:
        >>> get_kind("ali1688_orders").table
        'orders'
    """
    if name in KINDS:
        return KINDS[name]
    from shopmetrics.errors import DefinitionError  # noqa: PLC0415

    raise DefinitionError.unknown("export kind", name, KINDS)


@cache
def known_header_keys(kind: str | None = None) -> frozenset[str]:
    """Header keys of one kind (or of every kind): what the header-row scan looks for."""
    kinds = [KINDS[kind]] if kind else list(KINDS.values())
    return frozenset(k for kd in kinds for k in kd.by_key())


class Recognition(NamedTuple):
    """What :func:`recognise` found (a tuple: ``kind, mapping, ignored, did_you_mean``).

    Attributes:
        kind: The export kind, or ``None`` when no kind's signature headers are present.
        mapping: Header → canonical column (or helper of :data:`HELPERS`) it will use.
        ignored: Header → why it is not used.
        did_you_mean: Unknown header → the known header it looks like.
    """

    kind: ExportKind | None
    mapping: dict[str, str]
    ignored: dict[str, str]
    did_you_mean: dict[str, str]


def _qualifies(kind: ExportKind, keys: set[str]) -> bool:
    if any(header_key(h) in keys for h in kind.excludes):
        return False
    return any(all(header_key(h) in keys for h in sig) for sig in kind.signatures)


def _choose(columns: Sequence[str], hint: str) -> ExportKind | None:
    keys = {header_key(c) for c in columns}
    ranked = []
    for order, kind in enumerate(KINDS.values()):
        hinted = any(h in hint for h in kind.hints)
        if not _qualifies(kind, keys) or (kind.hints and not hinted):
            continue
        matched = len(keys & set(kind.by_key()))
        ranked.append((matched, hinted, -order, kind))
    if not ranked:
        return None
    return max(ranked, key=lambda r: r[:3])[3]


def _generic(columns: Sequence[str]) -> Recognition:
    """No kind recognised: canonical names and :data:`schema.CHINESE_COLUMNS` only."""
    from shopmetrics.schema import CHINESE_COLUMNS, TABLES  # noqa: PLC0415

    canonical = {c for t in TABLES.values() for c in t.columns}
    chinese = {header_key(k): v for k, v in CHINESE_COLUMNS.items()}
    mapping: dict[str, str] = {}
    ignored: dict[str, str] = {}
    for col in columns:
        key = header_key(col)
        target = key if key in canonical else chinese.get(key)
        if target and target not in mapping.values():
            mapping[col] = target
        else:
            ignored[col] = "unknown export kind: header not recognised"
    return Recognition(None, mapping, ignored, {})


def recognise(columns: Iterable[str], *, kind: str | None = None, hint: str = "") -> Recognition:
    """Recognise the export kind of a table from its headers, and map its columns.

    Args:
        columns: The table's headers, as read (spaces and ``=`` guards are tolerated).
        kind: Force this export kind instead of recognising one.
        hint: Title rows and file name: they tell look-alike kinds apart (直通车 / 万相台).

    Returns:
        ``kind, mapping, ignored, did_you_mean``: see :class:`Recognition`.

    Examples:
        >>> kind, mapping, ignored, dym = recognise(["日期", "计划名字", "花费", "展现量", "点击率"],
        ...                                         hint="直通车_计划报表.csv")
        >>> kind.name, kind.default_source, mapping["花费"], ignored["点击率"][:12]
        ('ztc_spend', '直通车', 'cost', 'derived rate')
        >>> recognise(["商品ID", "商品访客数", "商品浏览量", "支付买家数x"]).did_you_mean
        {'支付买家数x': '支付买家数'}
    """
    columns = [str(c) for c in columns]
    chosen = get_kind(kind) if kind else _choose(columns, hint)
    if chosen is None:
        return _generic(columns)
    by_key = chosen.by_key()
    mapping: dict[str, str] = {}
    ignored: dict[str, str] = {}
    did_you_mean: dict[str, str] = {}
    taken: dict[str, str] = {}
    for col in columns:
        spec = by_key.get(header_key(col))
        if spec is None:
            ignored[col], guess = _unknown(col, by_key)
            if guess:
                did_you_mean[col] = guess
        elif spec.canonical is None:
            ignored[col] = spec.reason
        elif spec.canonical in taken:
            ignored[col] = (
                f"duplicate: {spec.canonical!r} already comes from {taken[spec.canonical]!r}"
            )
        else:
            mapping[col] = taken[spec.canonical] = spec.canonical
    return Recognition(chosen, mapping, ignored, did_you_mean)


def _unknown(col: str, by_key: Mapping[str, ColumnSpec]) -> tuple[str, str | None]:
    """(reason, did-you-mean header) of a header the kind does not know."""
    key = header_key(col)
    guess = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.75)
    suggestion = by_key[guess[0]].headers[0] if guess else None
    for pattern, reason in PATTERNS:
        if re.fullmatch(pattern, key):
            return reason, None
    if suggestion is not None:
        return f"{UNKNOWN}; did you mean {suggestion!r}?", suggestion
    return UNKNOWN, None
