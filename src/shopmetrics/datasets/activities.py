"""Planted activities (``make_store(activities=True)``): a 聚划算 with a known lift, a
pull-forward dip and lower-quality buyers, and a store-wide 会员日 with no effect.

The 聚划算 brings, on each of its days, :data:`JHS_LIFT` extra sessions per usual daily
session of each of its products (new visitors; the usual conversion process, so the
extra orders are drawn like every other), its orders are refunded at
:data:`JHS_REFUND_SHARE` and rated lower (item score latent shifted by
:data:`JHS_ITEM_SHIFT`), and in the :data:`DIP_DAYS` days after it each usual order of its
products is lost with probability :data:`DIP_SHARE` (sales pulled forward). The 会员日
changes nothing: its effect is 0 by construction. What was planted, counted from the
rows themselves, is in ``store.truth["activities"]``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from shopmetrics.datasets.arrays import (
    _Catalog,
    _cdf,
    _draw,
    _Ids,
    _Orders,
    _seconds_in_day,
    _Sessions,
)
from shopmetrics.datasets.params import DAY, MOBILE_SHARE, NA, REFUNDED, SOURCE_SHARE
from shopmetrics.datasets.simulate import _attributes

__all__ = [
    "DIP_DAYS",
    "DIP_SHARE",
    "JHS_ITEM_SHIFT",
    "JHS_LIFT",
    "JHS_PRODUCTS",
    "JHS_REFUND_SHARE",
]

JHS_PRODUCTS = 8
"""Products in the 聚划算: the most visited ones that carry no trap."""

JHS_DAYS = 4
"""Its length in days (Monday to Thursday of the third week before the end)."""

JHS_LIFT = 2.5
"""Extra sessions per usual daily session of each product, on each activity day."""

JHS_REFUND_SHARE = 0.25
"""Share of the activity's order lines refunded (the store's usual share is about 6%)."""

JHS_ITEM_SHIFT = -0.9
"""Shift of the latent item score of ratings of the activity's orders (more low ratings)."""

DIP_DAYS = 7
"""Days after the 聚划算 over which usual orders of its products are lost."""

DIP_SHARE = 0.6
"""Probability that a usual order of its products in those days is lost (pulled forward)."""

FEE = 1200.0
"""The 聚划算's fee (坑位费 + service fee), yuan."""

DISCOUNT = 1800.0
"""The discount it gave (让利), yuan (reported; paid amounts are after it)."""

MEMBER_DAY_COST = 1500.0
"""The member day's coupons and extra spend, yuan."""


def activity_days(days: int) -> tuple[int, int, int]:
    """(member day, first and last 聚划算 day) as day numbers of the store."""
    first = days - 21
    return days - 35, first, first + JHS_DAYS - 1


def pick_products(sessions: _Sessions, n_products: int, exclude: set[int]) -> np.ndarray:
    """The most visited products, without those that carry a trap."""
    counts = np.bincount(sessions.product, minlength=n_products)
    order = np.lexsort((np.arange(n_products), -counts))
    return np.sort(np.array([p for p in order if p not in exclude][:JHS_PRODUCTS], np.int64))


def lift_sessions(
    rng: np.random.Generator,
    cat: _Catalog,
    base: _Sessions,
    products: np.ndarray,
    span: tuple[int, int],
    days: int,
    ids: _Ids,
) -> _Sessions:
    """The extra sessions of the 聚划算: new visitors landing on its products."""
    per_day = np.bincount(base.product, minlength=cat.n)[products] / days
    d = np.arange(span[0], span[1] + 1, dtype=np.int64)
    counts = rng.poisson(JHS_LIFT * np.outer(np.ones(d.size), per_day))
    day = np.repeat(np.repeat(d, products.size), counts.ravel())
    product = np.repeat(np.tile(products, d.size), counts.ravel())
    t0 = day * DAY + _seconds_in_day(rng, day.size)
    order = np.argsort(t0, kind="stable")
    t0, product = t0[order], product[order]
    n = t0.size
    source = _draw(rng, _cdf(SOURCE_SHARE), n)
    _, campaign, keyword = _attributes(rng, cat, source)
    return _Sessions(
        t0=t0,
        visitor=ids.take("visitor", n),
        session=ids.take("session", n),
        source=source,
        device=(rng.random(n) >= MOBILE_SHARE).astype(np.int64),
        product=product,
        campaign=campaign,
        keyword=keyword,
    )


def more_refunds(rng: np.random.Generator, orders: _Orders, horizon: int) -> _Orders:
    """The activity's orders refunded at :data:`JHS_REFUND_SHARE` (full refunds)."""
    paid = orders.paid != NA
    draw = paid & (rng.random(orders.paid.size) < JHS_REFUND_SHARE)
    when = orders.paid + (rng.uniform(1.0, 10.0, orders.paid.size) * DAY).astype(np.int64)
    refund = draw & (when < horizon)
    refunded = np.where(refund, when, orders.refunded)
    amount = np.where(refund, orders.amount, orders.refund_amount)
    status = np.where(refund, REFUNDED, orders.status)
    return dataclasses.replace(orders, refunded=refunded, refund_amount=amount, status=status)


def lower_item_scores(cat: _Catalog) -> _Catalog:
    """The catalog with every product's item score shifted down (for the activity's ratings)."""
    return dataclasses.replace(cat, item_shift=cat.item_shift + JHS_ITEM_SHIFT)


def dip_orders(
    rng: np.random.Generator, orders: _Orders, products: np.ndarray, span: tuple[int, int]
) -> np.ndarray:
    """Order numbers of usual orders of the products created in ``span`` (days) that are
    lost to the pull-forward."""
    day = orders.created // DAY
    hit = np.isin(orders.product, products) & (day >= span[0]) & (day <= span[1])
    candidates = np.unique(orders.order[hit])
    return candidates[rng.random(candidates.size) < DIP_SHARE]


def truth(
    cat: _Catalog,
    products: np.ndarray,
    added: _Orders,
    removed: _Orders,
    extra: _Sessions,
    days: tuple[int, int, int],
) -> pd.DataFrame:
    """What was planted, counted from the rows: per activity and window, the paid amount
    and gross profit added (extra orders) less lost (pulled-forward orders), on its
    products (``in``) and on the others (``halo``), by day of payment."""
    import pandas as pd  # noqa: PLC0415

    member, first, last = days
    windows = {"during": (first, last), "after": (last + 1, last + DIP_DAYS)}
    rows = [
        {"activity": "会员日", "window": w, "arm": arm, "paid_amount": 0.0, "gross_profit": 0.0,
         "paid_buyers": 0, "visitors": 0}
        for w in ("during", "after") for arm in ("in",)
    ]  # fmt: skip
    for w, (lo, hi) in windows.items():
        for arm in ("in", "halo"):
            amount = profit = 0.0
            buyers = 0
            for sign, o in ((1.0, added), (-1.0, removed)):
                day = np.where(o.paid != NA, o.paid // DAY, -1)
                on = np.isin(o.product, products)
                keep = (day >= lo) & (day <= hi) & (on if arm == "in" else ~on)
                amount += sign * float(o.amount[keep].sum())
                profit += sign * float((o.amount - o.cost)[keep].sum())
                if sign > 0 and w == "during":
                    buyers = int(np.unique(o.buyer[keep]).size)
            visitors = int(extra.t0.size) if (w, arm) == ("during", "in") else 0
            rows.append(
                {"activity": "聚划算", "window": w, "arm": arm, "paid_amount": round(amount, 2),
                 "gross_profit": round(profit, 2), "paid_buyers": buyers, "visitors": visitors}
            )  # fmt: skip
    del cat, member
    return pd.DataFrame(rows)
