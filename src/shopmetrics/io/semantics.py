"""What the cells of an export mean: order status, presale stages, order amounts, sources.

These rules are stated in :mod:`shopmetrics.io.exports` (each kind's ``notes``) and applied
by :mod:`shopmetrics.io.convert`; they work on pandas columns of parsed values.

Examples:
    >>> import pandas as pd
    >>> from shopmetrics.io.semantics import payment_state
    >>> status = pd.Series(["交易成功", "交易关闭", "交易关闭", "等待买家付款"])
    >>> paid_at = pd.Series(pd.to_datetime(["2026-11-01", "2026-11-01", None, None]))
    >>> payment_state(status, paid_at).tolist()
    ['paid', 'refunded', 'unpaid', 'unpaid']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CLOSED",
    "PAID",
    "UNPAID",
    "allocate",
    "normalise_status",
    "payment_state",
    "presale_flags",
    "scene_sources",
    "source_paths",
    "status_reading",
    "subtotal_rows",
    "unknown_statuses",
]

PAID: frozenset[str] = frozenset(
    {
        "交易成功",
        "买家已付款,等待卖家发货",
        "卖家已发货,等待买家确认",
        "买家已签收,回款至卖家",
        "待卖家发货",
        "待买家收货",
        "部分发货中",
        "等待卖家发货",
        "等待买家收货",
        "退款中",
    }
)
"""Statuses of a paid order (Taobao/Tmall, the 供应商ID export and 1688)."""

UNPAID: frozenset[str] = frozenset(
    {
        "没有创建支付宝交易",
        "等待买家付款",
        "等待买家确认货到付款订单信息",
        "买家已确认,等待卖家发货",
        "卖家已发货,等待买家确认收货并付款",
        "买家已签收",
    }
)
"""Statuses of an unpaid order (cash-on-delivery ones are unpaid until 回款)."""

CLOSED: frozenset[str] = frozenset({"交易关闭", "交易被淘宝关闭"})
"""Closed: unpaid when there is no payment time, refunded in full when there is one."""


def normalise_status(status: pd.Series) -> pd.Series:
    """Width-fold a status and drop its spaces (``买家已付款，等待卖家发货`` → ``…,…``)."""
    codes, uniques = pd.factorize(status.astype("str"))  # a few distinct statuses: fold those
    folded = (
        pd.Series(uniques, dtype="str").str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    )
    out = folded.take(np.where(codes < 0, 0, codes)) if len(folded) else folded.reindex(codes)
    out = out.where(codes >= 0) if len(folded) else out
    return pd.Series(out.to_numpy(), index=status.index, dtype="str")


def unknown_statuses(status: pd.Series) -> np.ndarray:
    """Rows whose non-empty status is in none of :data:`PAID`, :data:`UNPAID`, :data:`CLOSED`."""
    norm = normalise_status(status)
    known = norm.isin(PAID | UNPAID | CLOSED)
    return (norm.notna() & ~known).to_numpy(dtype=bool)


def payment_state(status: pd.Series | None, paid_at: pd.Series | None) -> pd.Series:
    """``paid`` / ``unpaid`` / ``refunded`` per row (``None`` where nothing tells).

    Paid ⇔ a payment time is present; the status decides only when there is no payment-time
    column. A closed order with a payment time was refunded in full.
    """
    if status is None and paid_at is None:
        msg = "payment_state needs a status or a payment-time column"
        raise ValueError(msg)
    n = len(status if status is not None else paid_at)  # type: ignore[arg-type]
    norm = normalise_status(status) if status is not None else pd.Series([None] * n, dtype="str")
    closed = norm.isin(CLOSED).to_numpy(dtype=bool)
    if paid_at is not None:
        paid = paid_at.notna().to_numpy()
    else:
        paid = norm.isin(PAID).to_numpy(dtype=bool)
        closed = np.zeros(n, dtype=bool)  # closed without a payment time: cannot tell
    state = np.where(paid, np.where(closed, "refunded", "paid"), "unpaid").astype(object)
    if paid_at is None:
        unknown = ~norm.isin(PAID | UNPAID).to_numpy(dtype=bool)
        state[unknown] = None
    return pd.Series(state, dtype="str")


def status_reading(status: str) -> str:
    """How :func:`payment_state` reads one (normalised) status, in words.

    Examples:
        >>> status_reading("退款中"), status_reading("交易关闭")
        ('paid', 'refunded with a payment time, unpaid without one')
    """
    if status in CLOSED:
        return "refunded with a payment time, unpaid without one"
    if status in PAID:
        return "paid"
    return "unpaid" if status in UNPAID else "unknown"


_BALANCE_UNPAID = re.compile(r"尾款\s*[:：]?\s*(?:未付款|待付款|未支付)")


def presale_flags(
    stages: pd.Series | None, deposit_order_id: pd.Series | None, n: int
) -> tuple[pd.Series, np.ndarray]:
    """(``is_presale``, balance-unpaid mask) from 分阶段订单信息 and 特权订金订单id.

    Examples:
        >>> s = pd.Series(["定金:已付款(20.00元),尾款:未付款(80.00元)", None])
        >>> flags, unpaid = presale_flags(s, None, 2)
        >>> flags.tolist(), unpaid.tolist()
        ([True, False], [True, False])
    """
    flag = np.zeros(n, dtype=bool)
    unpaid = np.zeros(n, dtype=bool)
    if stages is not None:
        flag |= stages.notna().to_numpy()
        unpaid |= stages.str.contains(_BALANCE_UNPAID).fillna(False).to_numpy(dtype=bool)
    if deposit_order_id is not None:
        flag |= deposit_order_id.notna().to_numpy()
    return pd.Series(flag, dtype="bool"), unpaid


def allocate(order_id: pd.Series, total: pd.Series, weight: pd.Series | None) -> pd.Series:
    """Split each order's total over its lines, to the cent (largest remainder).

    ``total`` is the order amount on every line of the order; ``weight`` (price × quantity)
    the share of each line (equal shares where it is missing or sums to 0).

    Examples:
        >>> ids = pd.Series(["a", "a", "a", "b"])
        >>> allocate(ids, pd.Series([100.0] * 3 + [5.0]), pd.Series([1.0, 1.0, 1.0, 2.0])).tolist()
        [33.34, 33.33, 33.33, 5.0]
    """
    cents = np.round(total.to_numpy(dtype=float) * 100)
    sign = np.sign(cents)
    cents = np.abs(cents)
    w = np.ones(len(order_id)) if weight is None else weight.to_numpy(dtype=float, na_value=np.nan)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    keys = pd.Series(pd.factorize(order_id)[0])
    wsum = pd.Series(w).groupby(keys).transform("sum").to_numpy()
    equal = wsum == 0
    w = np.where(equal, 1.0, w)
    wsum = pd.Series(w).groupby(keys).transform("sum").to_numpy()
    with np.errstate(invalid="ignore"):
        raw = cents * w / wsum
    base = np.floor(raw + 1e-9)
    short = cents - pd.Series(base).groupby(keys).transform("sum").to_numpy()
    rank = pd.Series(-(raw - base)).groupby(keys).rank(method="first").to_numpy()
    alloc = base + (rank <= short)
    return pd.Series(sign * alloc / 100, dtype="float64")


def source_paths(levels: Sequence[pd.Series]) -> tuple[pd.Series, pd.Series]:
    """(deepest named level, levels joined with ``' > '``) per row.

    Examples:
        >>> src, path = source_paths([pd.Series(["付费流量", "付费流量"]), pd.Series(["直通车", None])])
        >>> src.tolist(), path.tolist()
        (['直通车', '付费流量'], ['付费流量 > 直通车', '付费流量'])
    """
    frame = pd.concat([s.reset_index(drop=True) for s in levels], axis=1)
    parts = frame.astype(object).where(frame.notna(), None).to_numpy()
    paths = [" > ".join(str(p) for p in row if p is not None) or None for row in parts]
    deepest = [next((str(p) for p in reversed(row) if p is not None), None) for row in parts]
    return pd.Series(deepest, dtype="str"), pd.Series(paths, dtype="str")


def subtotal_rows(path: pd.Series, keys: pd.DataFrame | None) -> np.ndarray:
    """Rows whose source path has a child path in the same group (date, product): subtotals.

    Examples:
        >>> p = pd.Series(["付费流量", "付费流量 > 直通车", "手淘搜索"])
        >>> subtotal_rows(p, None).tolist()
        [True, False, False]
    """
    group = (
        keys.astype("str").fillna("").agg("\x1f".join, axis=1).tolist()
        if keys is not None and keys.shape[1]
        else [""] * len(path)
    )
    parents: set[tuple[str, str]] = set()
    for g, p in zip(group, path.tolist(), strict=True):
        if isinstance(p, str):
            parts = p.split(" > ")
            parents.update((g, " > ".join(parts[:k])) for k in range(1, len(parts)))
    return np.array(
        [
            isinstance(p, str) and (g, p) in parents
            for g, p in zip(group, path.tolist(), strict=True)
        ],
        dtype=bool,
    )


def _scene_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _scene_lookup(scene: str, table: Mapping[str, str]) -> str | None:
    """The source of one 场景名字: whole, without a ``(原…)`` note, then by its parts."""
    key = _scene_key(scene)
    bare = re.sub(r"\([^()]*\)$", "", key)
    parts = [p for p in re.split(r"[-—_/]", bare) if p]
    for candidate in (key, bare, *reversed(parts)):
        if candidate in table:
            return table[candidate]
    return None


def scene_sources(
    scenes: pd.Series, table: Mapping[str, str], default: str | None
) -> tuple[pd.Series, list[str]]:
    """(``source`` per row, scenes not in ``table``) for a spend report's 场景名字.

    A scene not in the table gets ``default`` (the report's channel) when there is one,
    else keeps its own text.

    Examples:
        >>> s = pd.Series(["货品运营-货品加速", "关键词推广(原淘内广告/直通车)", "新场景", None])
        >>> src, unknown = scene_sources(s, {"货品加速": "万相台", "关键词推广": "直通车"}, "万相台")
        >>> src.tolist(), unknown
        (['万相台', '直通车', '万相台', None], ['新场景'])
    """
    keyed = {_scene_key(k): v for k, v in table.items()}
    found: dict[str, str] = {}
    unknown: list[str] = []
    for scene in scenes.dropna().unique().tolist():
        source = _scene_lookup(str(scene), keyed)
        if source is None:
            unknown.append(str(scene))
            source = default or str(scene)
        found[str(scene)] = source
    out = scenes.map(found).astype(object).where(scenes.notna(), None)
    return out, sorted(unknown)
