"""The base simulation: the catalog, the sessions, their events and order lines, settlement.

A session lands on a product through one source (:func:`_base_sessions`), expands into
its funnel events and, if it converts, order lines (:func:`_expand`); :func:`_settle`
pays, refunds and prices the lines.
"""

from __future__ import annotations

import math

import numpy as np

from shopmetrics.datasets.arrays import (
    FloatArray,
    IntArray,
    _Catalog,
    _cdf,
    _draw,
    _Events,
    _Expansion,
    _Ids,
    _Lines,
    _Orders,
    _seconds_in_day,
    _Sessions,
)
from shopmetrics.datasets.params import (
    BRAND_KEYWORDS,
    BUYER_CART,
    CAMPAIGN_SOURCE,
    CAMPAIGNS,
    CART,
    CATEGORIES,
    CATEGORY_PRICE,
    CLICK,
    DAY,
    DISPLAY,
    EXPOSURE,
    EXTRA_VISITS,
    FAVORITE,
    HOUR,
    INQUIRY,
    KEYWORDS,
    LANDING_EXPOSURES,
    MOBILE_SHARE,
    NA,
    PAID,
    PAID_SEARCH,
    PAID_SHARE,
    REFUND_SHARE,
    REFUNDED,
    RETURNING_SHARE,
    SAME_DAY_SHARE,
    SEARCH,
    SECOND_LINE,
    SHOP,
    SOURCE_CONVERSION,
    SOURCE_CPC,
    SOURCE_SHARE,
    UNPAID,
    VISIT,
    WEEKDAY_WEIGHT,
    ZTC_BRAND,
    ZTC_GENERIC,
    ZZ_CROWD,
    ZZ_RETARGET,
)

# --------------------------------------------------------------------------- catalog


def _catalog(rng: np.random.Generator, n: int, trap_products: dict[int, float]) -> _Catalog:
    """Products with their price, popularity and true rates."""
    width = max(3, len(str(n)))
    labels = [f"P{i + 1:0{width}d}" for i in range(n)]
    category = rng.integers(0, len(CATEGORIES), n)
    raw = np.asarray(CATEGORY_PRICE)[category] * rng.lognormal(0.0, 0.45, n)
    price = np.maximum(np.floor(raw) + 0.9, 1.9)
    unit_cost = np.round(price * rng.uniform(0.4, 0.7, n), 2)
    pop = rng.lognormal(0.0, 1.1, n)
    ranked = np.sort(pop)
    for index, quantile in trap_products.items():  # give trap products a fixed rank
        pop[index] = ranked[min(n - 1, int(quantile * n))]
    pop = pop / pop.sum()
    ctr = rng.uniform(0.02, 0.06, n)
    conversion = np.clip(rng.lognormal(math.log(0.025), 0.35, n), 0.01, 0.05)
    inquiry_p = rng.uniform(0.02, 0.07, n)
    cart_p = rng.uniform(0.05, 0.11, n)
    favorite_p = rng.uniform(0.03, 0.09, n)
    item_shift = rng.normal(0.0, 0.2, n)
    cpc_factor = rng.lognormal(0.0, 0.25, (len(CAMPAIGNS), len(KEYWORDS) + 1))
    base_cpc = np.asarray([SOURCE_CPC[s] for s in CAMPAIGN_SOURCE])
    base_cpc[ZTC_BRAND] *= 0.6
    cpc = base_cpc[:, None] * cpc_factor
    # clicks of product p ~ pop[p]; exposures must be pop[p] / ctr[p]: the clicked item gets
    # 1 + LANDING_EXPOSURES of them, the rest come as other items of the result lists.
    other = pop * (1.0 / ctr - 1.0 - LANDING_EXPOSURES)
    return _Catalog(
        labels=labels,
        category=category,
        price=price,
        unit_cost=unit_cost,
        pop=pop,
        ctr=ctr,
        conversion=conversion,
        inquiry_p=inquiry_p,
        cart_p=cart_p,
        favorite_p=favorite_p,
        item_shift=item_shift,
        pop_cdf=_cdf(pop),
        exposure_cdf=_cdf(other),
        other_exposures=float(other.sum()),
        cpc=cpc,
    )


def _attributes(
    rng: np.random.Generator, cat: _Catalog, source: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Landing product, campaign and keyword of sessions from these sources."""
    n = source.size
    product = _draw(rng, cat.pop_cdf, n)
    u_campaign = rng.random(n)
    pick = rng.integers(0, 2, n)
    category_kw = cat.category[product] * 2 + pick
    brand_kw = len(KEYWORDS) - len(BRAND_KEYWORDS) + pick
    campaign = np.full(n, -1, dtype=np.int64)
    campaign = np.where(
        source == PAID_SEARCH, np.where(u_campaign < 0.3, ZTC_BRAND, ZTC_GENERIC), campaign
    )
    campaign = np.where(
        source == DISPLAY, np.where(u_campaign < 0.55, ZZ_RETARGET, ZZ_CROWD), campaign
    )
    keyword = np.full(n, -1, dtype=np.int64)
    keyword = np.where((source == SEARCH) | (campaign == ZTC_GENERIC), category_kw, keyword)
    keyword = np.where(campaign == ZTC_BRAND, brand_kw, keyword)
    return product, campaign.astype(np.int64), keyword.astype(np.int64)


# --------------------------------------------------------------------------- sessions


def _assign_visitors(day: IntArray, kind_u: FloatArray, pick_u: FloatArray, days: int) -> IntArray:
    """Visitor of each session (sessions sorted by time): new, returning or same-day repeat."""
    bounds = np.searchsorted(day, np.arange(days + 1))
    visitor = np.full(day.size, -1, dtype=np.int64)
    next_id = 0
    for d in range(days):
        a, b = int(bounds[d]), int(bounds[d + 1])
        if a == b:
            continue
        u, p = kind_u[a:b], pick_u[a:b]
        pos = np.arange(b - a)
        same = (u < SAME_DAY_SHARE) & (pos > 0)
        returning = ~same & (u < SAME_DAY_SHARE + RETURNING_SHARE) & (next_id > 0)
        new = ~same & ~returning
        v = np.full(b - a, -1, dtype=np.int64)
        n_new = int(new.sum())
        v[new] = next_id + np.arange(n_new)
        # returning visitors lean towards recent ones
        v[returning] = np.minimum(
            (next_id * (1.0 - p[returning] ** 2)).astype(np.int64), next_id - 1
        )
        ref = pos - 1 - np.floor(p * np.minimum(pos, 300)).astype(np.int64)
        while (open_ := v < 0).any():  # same-day repeats point at an earlier session
            v[open_] = v[ref[open_]]
        visitor[a:b] = v
        next_id += n_new
    return visitor


def _base_sessions(
    rng: np.random.Generator, cat: _Catalog, days: int, per_day: float, first_weekday: int
) -> _Sessions:
    weekday = (first_weekday + np.arange(days)) % 7
    level = np.asarray(WEEKDAY_WEIGHT)[weekday] / np.mean(WEEKDAY_WEIGHT)
    level = level * rng.lognormal(0.0, 0.04, days)
    counts = rng.poisson(per_day * level / (1.0 - SAME_DAY_SHARE))
    day = np.repeat(np.arange(days, dtype=np.int64), counts)
    t0 = np.sort(day * DAY + _seconds_in_day(rng, day.size))
    n = t0.size
    source = _draw(rng, _cdf(SOURCE_SHARE), n)
    product, campaign, keyword = _attributes(rng, cat, source)
    kind_u, pick_u = rng.random(n), rng.random(n)
    visitor = _assign_visitors(t0 // DAY, kind_u, pick_u, days)
    n_visitors = int(visitor.max()) + 1 if n else 0
    device = (rng.random(n_visitors) >= MOBILE_SHARE).astype(np.int64)[visitor]
    return _Sessions(
        t0=t0,
        visitor=visitor,
        session=np.arange(n, dtype=np.int64),
        source=source,
        device=device,
        product=product,
        campaign=campaign,
        keyword=keyword,
    )


# --------------------------------------------------------------------------- events and orders


def _expand(
    s: _Sessions, cat: _Catalog, rng: np.random.Generator, *, all_buy: bool = False
) -> _Expansion:
    """Events and order lines of sessions, all vectorised (``all_buy``: every session orders)."""
    n = s.t0.size
    prod = s.product
    listed = s.source != SHOP
    n_land = np.where(listed, 1 + rng.poisson(LANDING_EXPOSURES, n), 0)
    n_other = np.where(listed, rng.poisson(cat.other_exposures, n), 0)
    n_extra = rng.poisson(EXTRA_VISITS, n)
    inquire = rng.random(n) < cat.inquiry_p[prod]
    p_buy = np.minimum(
        cat.conversion[prod] * np.asarray(SOURCE_CONVERSION)[s.source] / PAID_SHARE, 0.95
    )
    buys = (rng.random(n) < p_buy) | all_buy
    cart = (rng.random(n) < cat.cart_p[prod]) | (buys & (rng.random(n) < BUYER_CART))
    favorite = rng.random(n) < cat.favorite_p[prod]
    visit_ts = s.t0 + np.where(listed, rng.integers(1, 5, n), 0)
    inquiry_ts = visit_ts + rng.integers(15, 300, n)
    cart_ts = visit_ts + rng.integers(10, 240, n)
    favorite_ts = visit_ts + rng.integers(5, 200, n)
    order_delay = np.clip(rng.lognormal(math.log(150.0), 0.9, n), 20, HOUR).astype(np.int64)
    second = rng.random(n) < SECOND_LINE
    quantity = np.where(inquire, rng.integers(2, 21, n), 1 + rng.poisson(0.25, n))
    quantity2 = 1 + rng.poisson(0.2, n)

    sessions = np.arange(n, dtype=np.int64)
    i_land = np.repeat(sessions, n_land)
    ts_land = s.t0[i_land] - rng.integers(1, 121, i_land.size)
    i_other = np.repeat(sessions, n_other)
    p_other = _draw(rng, cat.exposure_cdf, i_other.size)
    ts_other = s.t0[i_other] + rng.integers(-240, 601, i_other.size)
    i_extra = np.repeat(sessions, n_extra)
    gaps = np.cumsum(rng.exponential(70.0, i_extra.size) + 5.0)
    first_extra = np.cumsum(n_extra) - n_extra
    offset = gaps - np.repeat(np.concatenate(([0.0], gaps))[first_extra], n_extra)
    ts_extra = visit_ts[i_extra] + offset.astype(np.int64)
    p_extra = _draw(rng, cat.pop_cdf, i_extra.size)

    i_click = np.flatnonzero(listed)
    i_inq, i_cart, i_fav = np.flatnonzero(inquire), np.flatnonzero(cart), np.flatnonzero(favorite)
    pieces: list[tuple[IntArray, IntArray, int, IntArray]] = [
        (i_land, ts_land, EXPOSURE, prod[i_land]),
        (i_other, ts_other, EXPOSURE, p_other),
        (i_click, s.t0[i_click], CLICK, prod[i_click]),
        (sessions, visit_ts, VISIT, prod),
        (i_extra, ts_extra, VISIT, p_extra),
        (i_inq, inquiry_ts[i_inq], INQUIRY, prod[i_inq]),
        (i_cart, cart_ts[i_cart], CART, prod[i_cart]),
        (i_fav, favorite_ts[i_fav], FAVORITE, prod[i_fav]),
    ]
    events = _Events(
        ts=np.concatenate([p[1] for p in pieces]),
        event=np.concatenate([np.full(p[0].size, p[2], dtype=np.int8) for p in pieces]),
        product=np.concatenate([p[3] for p in pieces]).astype(np.int32),
        session=s.session[np.concatenate([p[0] for p in pieces])],
    )

    end = visit_ts.copy()
    has_extra = n_extra > 0
    last_extra = np.cumsum(n_extra) - 1
    end[has_extra] = np.maximum(end[has_extra], ts_extra[last_extra[has_extra]])
    end = np.where(inquire, np.maximum(end, inquiry_ts), end)
    end = np.where(cart, np.maximum(end, cart_ts), end)
    end = np.where(favorite, np.maximum(end, favorite_ts), end)

    created = end + order_delay
    first_extra_product = np.full(n, -1, dtype=np.int64)
    first_extra_product[has_extra] = p_extra[first_extra[has_extra]]
    two = buys & second & has_extra & (first_extra_product != prod)
    b1, b2 = np.flatnonzero(buys), np.flatnonzero(two)
    pos = np.concatenate([b1, b2])
    line = np.concatenate([np.zeros(b1.size, np.int64), np.ones(b2.size, np.int64)])
    order = np.lexsort((line, pos))
    pos = pos[order]
    second_line = line[order] == 1
    lines = _Lines(
        pos=pos,
        session=s.session[pos],
        visitor=s.visitor[pos],
        source=s.source[pos],
        product=np.where(second_line, first_extra_product[pos], prod[pos]),
        created=created[pos],
        quantity=np.where(second_line, quantity2[pos], quantity[pos]).astype(np.int64),
    )
    return _Expansion(events=events, lines=lines, end=end)


def _settle(
    lines: _Lines,
    cat: _Catalog,
    rng: np.random.Generator,
    horizon: int,
    ids: _Ids,
    *,
    paid_share: float = PAID_SHARE,
    amount: FloatArray | None = None,
) -> _Orders:
    """Payment, refund and money of order lines (one order per converting session).

    ``amount`` replaces list price times quantity (the cost keeps its share of it).
    """
    n_lines = lines.created.size
    _, order_idx = np.unique(lines.session, return_inverse=True)
    order_idx = order_idx.astype(np.int64).reshape(-1)
    n_orders = int(order_idx.max()) + 1 if n_lines else 0
    unpaid = rng.random(n_orders) < 1.0 - paid_share
    quick = rng.random(n_orders) < 0.85
    delay = np.where(
        quick,
        np.clip(rng.lognormal(math.log(90.0), 1.0, n_orders), 5, 2 * HOUR),
        rng.uniform(HOUR, 20 * HOUR, n_orders),
    ).astype(np.int64)
    refund = rng.random(n_lines) < REFUND_SHARE
    refund_delay = (rng.uniform(1.0, 20.0, n_lines) * DAY).astype(np.int64)
    partial = rng.random(n_lines) < 0.25
    fraction = rng.uniform(0.2, 0.7, n_lines)

    paid = lines.created + delay[order_idx]
    paid = np.where(unpaid[order_idx] | (paid >= horizon), NA, paid)
    is_paid = paid != NA
    refunded = np.where(is_paid & refund, paid + refund_delay, NA)
    refunded = np.where(refunded >= horizon, NA, refunded)
    if amount is None:
        amount = np.round(cat.price[lines.product] * lines.quantity, 2)
        cost = np.round(cat.unit_cost[lines.product] * lines.quantity, 2)
    else:
        cost = np.round(amount * cat.unit_cost[lines.product] / cat.price[lines.product], 2)
    refund_amount = np.where(
        refunded != NA, np.where(partial, np.round(amount * fraction, 2), amount), 0.0
    )
    status = np.where(is_paid, np.where(refunded != NA, REFUNDED, PAID), UNPAID)
    return _Orders(
        order=ids.take("order", n_orders)[order_idx],
        buyer=lines.visitor,
        product=lines.product,
        source=lines.source,
        created=lines.created,
        paid=paid,
        deposit=np.full(n_lines, NA, dtype=np.int64),
        quantity=lines.quantity,
        amount=amount,
        cost=cost,
        refund_amount=refund_amount,
        refunded=refunded,
        status=status.astype(np.int64),
        presale=np.zeros(n_lines, dtype=np.bool_),
    )
