"""Ratings: the correlated DSR scores, the ratings of the period's trades and the history."""

from __future__ import annotations

import numpy as np

from shopmetrics.datasets.arrays import (
    FloatArray,
    IntArray,
    _Catalog,
    _cdf,
    _concat,
    _draw,
    _Ids,
    _Orders,
    _Ratings,
    _seconds_in_day,
    _take,
)
from shopmetrics.datasets.params import (
    CARRIER_LOGISTICS,
    CARRIER_SHARE,
    DAY,
    HISTORY_DAYS,
    HOUR,
    NA,
    RATE_SHARE,
    SCORE_THRESHOLDS,
)


def _scores(
    rng: np.random.Generator, carrier: IntArray, item_shift: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Correlated 1-5 scores (NaN where a partial rating leaves a dimension out)."""
    n = carrier.size
    common = rng.standard_normal(n)
    own = rng.standard_normal((3, n))
    shift = np.vstack([item_shift, np.full(n, 0.1), np.asarray(CARRIER_LOGISTICS)[carrier]])
    latent = 0.75 * common + 0.66 * own + shift
    score = 1.0 + (latent[..., None] > np.asarray(SCORE_THRESHOLDS)).sum(axis=-1)
    partial = rng.random(n) < 0.03
    n_missing = rng.integers(1, 3, n)
    rank = np.argsort(np.argsort(rng.random((3, n)), axis=0), axis=0)
    score[partial & (rank < n_missing)] = np.nan
    return score[0], score[1], score[2]


def _rate_orders(
    orders: _Orders, cat: _Catalog, rng: np.random.Generator, horizon: int
) -> _Ratings:
    """Ratings of paid, unrefunded trades, within 15 days of trade success."""
    _, first, inverse = np.unique(orders.order, return_index=True, return_inverse=True)
    refunded_any = np.bincount(inverse.reshape(-1), weights=orders.refunded != NA) > 0
    n = first.size
    paid = orders.paid[first]
    success = paid + (rng.uniform(3.0, 12.0, n) * DAY).astype(np.int64)
    rates = rng.random(n) < RATE_SHARE
    rated = success + np.minimum(rng.exponential(1.5 * DAY, n), 14.9 * DAY).astype(np.int64)
    carrier = _draw(rng, _cdf(CARRIER_SHARE), n)
    product = orders.product[first]
    item, service, logistics = _scores(rng, carrier, cat.item_shift[product])
    keep = (paid != NA) & ~refunded_any & ~orders.presale[first] & rates & (rated < horizon)
    ratings = _Ratings(
        order=orders.order[first],
        historical=np.zeros(n, dtype=np.bool_),
        buyer=orders.buyer[first],
        product=product,
        success=success,
        rated=rated,
        item=item,
        service=service,
        logistics=logistics,
        carrier=carrier,
    )
    return _take(ratings, np.flatnonzero(keep))


def _history(
    rng: np.random.Generator,
    cat: _Catalog,
    ids: _Ids,
    *,
    horizon: int,
    paid_per_day: float,
    heavy_month: int,
) -> _Ratings:
    """Ratings of trades paid before the period (synthetic ``H`` order ids).

    A third of the raters are visitors of the period, the rest history-only buyers
    (new ids from ``ids``). ``heavy_month`` is the start (seconds from the period start)
    of the natural month in which five buyers rate 5-6 trades each: 5/5/5 for the first
    three by trade success, 1-2 for the rest.
    """
    window = horizon - HISTORY_DAYS * DAY
    # a period longer than the rating window needs no history: draw none (same rng calls)
    paid_from = min(window - 15 * DAY, -1)
    n = int(rng.poisson(max(paid_per_day, 1.0) * (-paid_from) / DAY)) if window < 15 * DAY else 0
    paid = np.sort(rng.integers(paid_from, 0, n))
    product = _draw(rng, cat.pop_cdf, n)
    n_visitors = ids.visitor
    pool = ids.take("visitor", max(5, int(0.8 * n)))
    from_visitors = (rng.random(n) < 0.35) & (n_visitors > 0)
    buyer = np.where(
        from_visitors, rng.integers(0, max(n_visitors, 1), n), rng.choice(pool, n)
    ).astype(np.int64)
    success = paid + (rng.uniform(3.0, 12.0, n) * DAY).astype(np.int64)
    rates = rng.random(n) < RATE_SHARE
    rated = success + np.minimum(rng.exponential(1.5 * DAY, n), 14.9 * DAY).astype(np.int64)
    carrier = _draw(rng, _cdf(CARRIER_SHARE), n)
    item, service, logistics = _scores(rng, carrier, cat.item_shift[product])
    history = _Ratings(
        order=np.arange(n, dtype=np.int64),
        historical=np.ones(n, dtype=np.bool_),
        buyer=buyer,
        product=product,
        success=success,
        rated=rated,
        item=item,
        service=service,
        logistics=logistics,
        carrier=carrier,
    )
    history = _take(history, np.flatnonzero(rates & (rated >= window) & (rated < horizon)))

    heavy = rng.choice(np.concatenate([np.arange(n_visitors), pool]), 5, replace=False)
    k = rng.integers(5, 7, 5)
    m = int(k.sum())
    rank = np.concatenate([np.arange(j) for j in k]).astype(np.int64)
    success_h = heavy_month + (rank * 3 + rng.integers(0, 3, m)) * DAY + _seconds_in_day(rng, m)
    low = rng.integers(1, 3, m).astype(np.float64)
    score = np.where(rank < 3, 5.0, low)
    heavy_ratings = _Ratings(
        order=n + np.arange(m, dtype=np.int64),
        historical=np.ones(m, dtype=np.bool_),
        buyer=np.repeat(heavy, k).astype(np.int64),
        product=_draw(rng, cat.pop_cdf, m),
        success=success_h,
        rated=success_h + rng.integers(HOUR, 2 * DAY, m),
        item=score,
        service=score.copy(),
        logistics=score.copy(),
        carrier=_draw(rng, _cdf(CARRIER_SHARE), m),
    )
    return _concat([history, heavy_ratings])
