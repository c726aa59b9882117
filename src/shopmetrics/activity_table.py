"""The activities table of :func:`shopmetrics.activity_effect`: what ran, when, on what, at what cost.

One row per activity (``products`` a list, a comma/、-separated text or empty for the whole
store) or one row per activity and product (a ``product_id`` column, the other columns
repeated). Chinese headers of a store's own activity sheet are understood (活动名称,
活动类型, 开始时间, 结束时间, 商品ID, 活动费用/坑位费, 优惠金额, 推广费用).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shopmetrics.engine import parse_instant
from shopmetrics.errors import SchemaError

__all__ = ["ACTIVITY_KINDS", "Activity", "read_activities"]

ACTIVITY_KINDS: tuple[str, ...] = (
    "juhuasuan",
    "tiantian_tejia",
    "taoqianggou",
    "member_day",
    "presale",
    "double11",
    "live_stream",
    "coupon",
    "other",
)
"""Known kinds (聚划算, 天天特价, 淘抢购, 会员日, 预售, 双11, 直播, 优惠券, 其他); any text is accepted."""

_HEADERS: Mapping[str, str] = {
    "活动名称": "name",
    "活动": "name",
    "活动类型": "kind",
    "类型": "kind",
    "开始时间": "start",
    "开始日期": "start",
    "结束时间": "end",
    "结束日期": "end",
    "商品id": "products",
    "宝贝id": "products",
    "商品": "products",
    "product_id": "products",
    "活动费用": "fee",
    "坑位费": "fee",
    "服务费": "fee",
    "优惠金额": "discount",
    "让利金额": "discount",
    "推广费用": "extra_spend",
    "额外推广费": "extra_spend",
}

_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclasses.dataclass(frozen=True)
class Activity:
    """One activity.

    Attributes:
        name: Its name (unique in the table).
        kind: Its kind (see :data:`ACTIVITY_KINDS`; ``presale`` and ``double11`` are read
            as presales by the payment-date check).
        start: First day (store-local).
        end: Last day, included.
        products: The products in it; ``None`` for the whole store.
        fee: Fees paid for it (坑位费, service fee), in yuan.
        discount: The discount given (让利), in yuan: reported, not subtracted again (paid
            amounts are already net of it).
        extra_spend: Extra paid traffic bought for it, in yuan.
    """

    name: str
    kind: str
    start: dt.date
    end: dt.date
    products: tuple[str, ...] | None
    fee: float = 0.0
    discount: float = 0.0
    extra_spend: float = 0.0

    @property
    def days(self) -> int:
        """Days the activity ran."""
        return (self.end - self.start).days + 1

    @property
    def cost(self) -> float:
        """What it cost beyond the discount: fees and extra spend."""
        return self.fee + self.extra_spend

    def overlaps(self, other: Activity) -> bool:
        """Whether the two ran on a common day on a common product (or the whole store)."""
        if self.start > other.end or other.start > self.end:
            return False
        if self.products is None or other.products is None:
            return True
        return bool(set(self.products) & set(other.products))


def _records(activities: Any) -> list[dict[str, Any]]:
    if isinstance(activities, Activity):
        return [dataclasses.asdict(activities)]
    if hasattr(activities, "to_dict") and hasattr(activities, "columns"):
        return list(activities.to_dict("records"))
    if isinstance(activities, Mapping):
        return [dict(activities)]
    if isinstance(activities, Sequence) and not isinstance(activities, str):
        return [dataclasses.asdict(a) if isinstance(a, Activity) else dict(a) for a in activities]
    msg = (
        "activities must be a pandas DataFrame, a list of dicts or Activity records "
        f"(name, kind, start, end, products, fee, discount, extra_spend); got {type(activities).__name__}"
    )
    raise SchemaError(msg)


def _canonical(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        k = str(key).strip().lower()
        out[_HEADERS.get(k, _HEADERS.get(str(key).strip(), k))] = value
    return out


def _products(value: Any) -> list[str] | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        parts = [p for p in _SPLIT.split(value.strip()) if p]
        return None if not parts or parts in (["全店"], ["all"]) else parts
    if isinstance(value, Sequence) or hasattr(value, "tolist"):
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        return [str(p).strip() for p in items] or None
    return [str(value).strip()]


def _money(value: Any, name: str, row: int, problems: list[str]) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return 0.0
    text = str(value).replace(",", "").replace("￥", "").replace("¥", "").replace("元", "")
    try:
        out = float(text)
    except ValueError:
        problems.append(f"row {row}: {name} {value!r} is not an amount")
        return 0.0
    if out < 0:
        problems.append(f"row {row}: {name} {value!r} is negative")
    return out


def _day(value: Any, name: str, row: int, problems: list[str], tz: str | None) -> dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        problems.append(f"row {row}: no {name}")
        return None
    try:
        return parse_instant(value, f"activities.{name}", tz).date()
    except ValueError as exc:
        problems.append(f"row {row}: {exc}")
        return None


def read_activities(activities: Any, tz: str | None = None) -> tuple[Activity, ...]:
    """The activities as :class:`Activity` records, every problem reported at once.

    Rows of one activity (the same name) are merged: their products are united, the
    first row's dates and costs are used and must agree with the others.

    Raises:
        SchemaError: names the rows and columns that cannot be read, and the fix.

    Examples:
        >>> acts = read_activities([{"活动名称": "聚划算", "活动类型": "juhuasuan",
        ...     "开始时间": "2026-11-02", "结束时间": "2026-11-05",
        ...     "商品ID": "P001、P002", "坑位费": "1,200"}])
        >>> acts[0].products, acts[0].days, acts[0].fee
        (('P001', 'P002'), 4, 1200.0)
    """
    problems: list[str] = []
    merged: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(_records(activities)):
        row = _canonical(raw)
        name = str(row.get("name") or "").strip()
        if not name:
            problems.append(f"row {i}: no name (column name / 活动名称)")
            continue
        start = _day(row.get("start"), "start", i, problems, tz)
        end = _day(row.get("end"), "end", i, problems, tz)
        if start and end and end < start:
            problems.append(f"row {i} ({name}): end {end} is before start {start}")
        products = _products(row.get("products"))
        entry = merged.setdefault(
            name,
            {
                "name": name,
                "kind": str(row.get("kind") or "other").strip() or "other",
                "start": start,
                "end": end,
                "products": set(),
                "store": False,
                "fee": _money(row.get("fee"), "fee", i, problems),
                "discount": _money(row.get("discount"), "discount", i, problems),
                "extra_spend": _money(row.get("extra_spend"), "extra_spend", i, problems),
            },
        )
        if (entry["start"], entry["end"]) != (start, end):
            problems.append(f"row {i} ({name}): dates differ from the activity's first row")
        if products is None:
            entry["store"] = True
        else:
            entry["products"].update(products)
    if problems:
        msg = (
            "table 'activities' cannot be read:\n  - " + "\n  - ".join(problems) + "\n"
            "Give one row per activity (name, kind, start, end, products, fee, discount, "
            "extra_spend) or one row per activity and product."
        )
        raise SchemaError(msg)
    return tuple(
        Activity(
            name=e["name"],
            kind=e["kind"],
            start=e["start"],
            end=e["end"],
            products=None if e["store"] else tuple(sorted(e["products"])),
            fee=e["fee"],
            discount=e["discount"],
            extra_spend=e["extra_spend"],
        )
        for e in sorted(merged.values(), key=lambda e: (e["start"], e["name"]))
    )
