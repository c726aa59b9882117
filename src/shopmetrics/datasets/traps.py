"""The trap planters: the extra sessions, events and orders of the five planted traps.

Each function draws from its own random stream (so the base store is the same with and
without traps); ``_Build.plant_*`` in :mod:`shopmetrics.datasets.store` calls them and
records the :class:`~shopmetrics.datasets.records.Trap`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shopmetrics.datasets.arrays import (
    IntArray,
    _Catalog,
    _concat,
    _Events,
    _Expansion,
    _Ids,
    _Orders,
    _Ratings,
    _seconds_in_day,
    _Sessions,
    _take,
)
from shopmetrics.datasets.params import (
    BOT_IDS,
    BOT_SHARE,
    BRUSH_BUYERS,
    BRUSH_EACH,
    CLICK,
    DAY,
    DISPLAY,
    EXPOSURE,
    HOUR,
    MIX_TARGET,
    MOBILE_SHARE,
    NA,
    PAID,
    PC,
    PRESALE_DEPOSIT,
    PRESALE_EXTRA,
    SEARCH,
    SOURCE_SHARE,
    UNPAID,
    VISIT,
    YTO,
    ZZ_CROWD,
)
from shopmetrics.datasets.simulate import _attributes


def _mix_sessions(
    rng: np.random.Generator, cat: _Catalog, base: _Sessions, days: int, ids: _Ids
) -> _Sessions:
    """Extra ``display`` / ``zz_crowd`` sessions of new visitors in the last week."""
    first_day = days - 7
    counts = np.bincount(base.t0 // DAY, minlength=days)[first_day:]
    extra = (MIX_TARGET - SOURCE_SHARE[DISPLAY]) / (1.0 - MIX_TARGET)
    day = np.repeat(np.arange(first_day, days, dtype=np.int64), rng.poisson(extra * counts))
    t0 = np.sort(day * DAY + _seconds_in_day(rng, day.size))
    n = t0.size
    source = np.full(n, DISPLAY, dtype=np.int64)
    product, _, keyword = _attributes(rng, cat, source)
    return _Sessions(
        t0=t0,
        visitor=ids.take("visitor", n),
        session=ids.take("session", n),
        source=source,
        device=(rng.random(n) >= MOBILE_SHARE).astype(np.int64),
        product=product,
        campaign=np.full(n, ZZ_CROWD, dtype=np.int64),
        keyword=keyword,
    )


def _bot_events(
    rng: np.random.Generator,
    cat: _Catalog,
    product: int,
    window: tuple[int, int],
    *,
    day_visits: int,
    ids: _Ids,
) -> tuple[_Sessions, _Events]:
    """A burst of exposure -> click -> visit from a few visitor ids on one product.

    Returns:
        The bots' sessions (one each) and their events.
    """
    total = max(BOT_IDS, round(BOT_SHARE * day_visits))
    per_bot = rng.multinomial(total, np.full(BOT_IDS, 1.0 / BOT_IDS))
    bot = np.repeat(np.arange(BOT_IDS, dtype=np.int64), per_bot)
    lo, hi = window
    t = lo + 10 + rng.integers(0, hi - lo - 10, total)
    n_exposures = rng.integers(1, 4, total)
    i_exp = np.repeat(np.arange(total), n_exposures)
    ts = np.concatenate([t[i_exp] - 2 - rng.integers(0, 8, i_exp.size), t - 1, t])
    who = np.concatenate([bot[i_exp], bot, bot])
    event = np.repeat(
        np.asarray([EXPOSURE, CLICK, VISIT], dtype=np.int8), [i_exp.size, total, total]
    )
    sessions = _Sessions(
        t0=np.full(BOT_IDS, lo, dtype=np.int64),
        visitor=ids.take("visitor", BOT_IDS),
        session=ids.take("session", BOT_IDS),
        source=np.full(BOT_IDS, SEARCH, dtype=np.int64),
        device=np.full(BOT_IDS, PC, dtype=np.int64),
        product=np.full(BOT_IDS, product, dtype=np.int64),
        campaign=np.full(BOT_IDS, -1, dtype=np.int64),
        keyword=np.full(BOT_IDS, int(cat.category[product]) * 2, dtype=np.int64),
    )
    events = _Events(
        ts=ts,
        event=event,
        product=np.full(ts.size, product, dtype=np.int32),
        session=sessions.session[who],
    )
    return sessions, events


def _brushing(
    rng: np.random.Generator, cat: _Catalog, product: int, window: tuple[int, int], ids: _Ids
) -> tuple[_Orders, _Ratings, IntArray]:
    """Orders from buyers who never visited, paid at once and rated 5/5/5 within a day.

    Returns:
        The orders, their ratings and the buyers' visitor numbers.
    """
    n = BRUSH_BUYERS * BRUSH_EACH
    lo, hi = window
    created = np.sort(lo + rng.integers(0, hi - lo - 60, n))
    buyers = ids.take("visitor", BRUSH_BUYERS)
    buyer = rng.permutation(np.repeat(buyers, BRUSH_EACH))
    paid = created + rng.integers(5, 56, n)
    order = ids.take("order", n)
    products = np.full(n, product, dtype=np.int64)
    never = np.full(n, NA, dtype=np.int64)
    orders = _Orders(
        order=order,
        buyer=buyer,
        product=products,
        source=np.full(n, -1, dtype=np.int64),
        created=created,
        paid=paid,
        deposit=never,
        quantity=np.ones(n, dtype=np.int64),
        amount=np.full(n, float(cat.price[product])),
        cost=np.full(n, float(cat.unit_cost[product])),
        refund_amount=np.zeros(n),
        refunded=never.copy(),
        status=np.full(n, PAID, dtype=np.int64),
        presale=np.zeros(n, dtype=np.bool_),
    )
    success = paid + rng.integers(3 * HOUR, 10 * HOUR, n)
    five = np.full(n, 5.0)
    ratings = _Ratings(
        order=order,
        historical=np.zeros(n, dtype=np.bool_),
        buyer=buyer,
        product=products,
        success=success,
        rated=success + rng.integers(600, HOUR, n),
        item=five,
        service=five.copy(),
        logistics=five.copy(),
        carrier=np.full(n, YTO, dtype=np.int64),
    )
    return orders, ratings, buyers


def _presale(
    rng: np.random.Generator,
    cat: _Catalog,
    orders: _Orders,
    batches: Sequence[tuple[_Sessions, _Expansion]],
    *,
    product: int,
    first_day: int,
    horizon: int,
    ids: _Ids,
) -> tuple[_Orders, IntArray]:
    """Turn the product's orders from ``first_day`` on into deposits and add more deposits.

    Returns:
        All orders (converted ones in place, extra deposit orders appended) and the
        original order numbers that were converted (their ratings must go).
    """
    lo = first_day * DAY
    hit = np.flatnonzero((orders.product == product) & (orders.created >= lo))
    touched = np.unique(orders.order[hit])
    orders = _take(orders, np.arange(orders.order.size))  # a copy to edit
    # a presale item is an order of its own: split it off multi-line orders
    _, inverse, lines_per_order = np.unique(orders.order, return_inverse=True, return_counts=True)
    shared = hit[lines_per_order[inverse.reshape(-1)[hit]] > 1]
    orders.order[shared] = ids.take("order", shared.size)
    orders.deposit[hit] = orders.paid[hit]
    orders.paid[hit] = NA
    orders.refunded[hit] = NA
    orders.refund_amount[hit] = 0.0
    orders.presale[hit] = True
    orders.status[hit] = np.where(orders.deposit[hit] != NA, PRESALE_DEPOSIT, UNPAID)

    extra: list[_Orders] = []
    for sessions, expansion in batches:
        bought = np.zeros(sessions.t0.size, dtype=np.bool_)
        bought[expansion.lines.pos] = True
        candidates = np.flatnonzero((sessions.product == product) & (sessions.t0 >= lo) & ~bought)
        take = candidates[rng.random(candidates.size) < PRESALE_EXTRA]
        n = take.size
        delay = np.clip(rng.lognormal(math.log(150.0), 0.9, n), 20, HOUR).astype(np.int64)
        created = expansion.end[take] + delay
        wait = np.clip(rng.lognormal(math.log(60.0), 1.0, n), 5, 2 * HOUR).astype(np.int64)
        deposit = np.where((rng.random(n) < 0.92) & (created + wait < horizon), created + wait, NA)
        quantity = 1 + rng.poisson(0.2, n)
        batch = _Orders(
            order=ids.take("order", n),
            buyer=sessions.visitor[take],
            product=np.full(n, product, dtype=np.int64),
            source=sessions.source[take],
            created=created,
            paid=np.full(n, NA, dtype=np.int64),
            deposit=deposit,
            quantity=quantity,
            amount=np.round(cat.price[product] * quantity, 2),
            cost=np.round(cat.unit_cost[product] * quantity, 2),
            refund_amount=np.zeros(n),
            refunded=np.full(n, NA, dtype=np.int64),
            status=np.where(deposit != NA, PRESALE_DEPOSIT, UNPAID).astype(np.int64),
            presale=np.ones(n, dtype=np.bool_),
        )
        extra.append(_take(batch, np.flatnonzero(created < horizon)))
    return _concat([orders, *extra]), touched
