"""Repeat purchases (``make_store(repeat_purchases=True)``): the BG/NBD and Gamma-Gamma stories.

References:
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
    easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
"""

from __future__ import annotations

import numpy as np

from shopmetrics.datasets.arrays import FloatArray, IntArray, _Ids, _Orders, _Sessions
from shopmetrics.datasets.params import NA, REPEAT_PARAMS, SHOP, WEEK


def _repeat_sessions(
    rng: np.random.Generator, orders: _Orders, base: _Sessions, horizon: int, ids: _Ids
) -> tuple[_Sessions, FloatArray]:
    """Later purchases of every paying buyer, drawn from the BG/NBD and Gamma-Gamma stories.

    Each buyer of ``orders`` (from the first paid order on) buys again at a Poisson rate
    lambda, gamma(``r``, rate ``alpha``) across buyers, and after each repeat purchase
    drops out for good with probability p, beta(``a``, ``b``) across buyers (Fader, Hardie
    & Lee 2005, section 2). Each purchase's amount is gamma(``p``, rate nu) with nu
    gamma(``q``, rate ``v``) across buyers (Fader & Hardie 2013). A repeat purchase is a
    ``shop`` session (a return through favourites or past orders) of the buyer on the
    product first bought, starting at the drawn moment.

    Returns:
        The sessions, in time order, and the amount of each.
    """
    par = {name: value for _, name, value, _ in REPEAT_PARAMS}
    paid = orders.paid != NA
    buyer, first_at = orders.buyer[paid], orders.paid[paid]
    order = np.lexsort((orders.product[paid], first_at, buyer))
    buyer, first_at, product = buyer[order], first_at[order], orders.product[paid][order]
    head = np.r_[True, buyer[1:] != buyer[:-1]] if buyer.size else np.zeros(0, np.bool_)
    buyer, t, product = buyer[head], first_at[head].astype(np.float64), product[head]
    n = buyer.size
    rate = rng.gamma(par["r"], 1.0 / par["alpha"], n) / WEEK  # purchases per second
    drop = rng.beta(par["a"], par["b"], n)
    nu = rng.gamma(par["q"], 1.0 / par["v"], n)
    owner_parts: list[IntArray] = []
    time_parts: list[FloatArray] = []
    alive = np.flatnonzero(rate > 0)
    while alive.size:
        t[alive] += rng.exponential(1.0, alive.size) / rate[alive]
        alive = alive[t[alive] < horizon]
        owner_parts.append(alive)
        time_parts.append(t[alive].copy())
        alive = alive[rng.random(alive.size) >= drop[alive]]
    owner = np.concatenate(owner_parts) if owner_parts else np.zeros(0, np.int64)
    t0 = np.concatenate(time_parts).astype(np.int64) if time_parts else np.zeros(0, np.int64)
    amount = np.maximum(np.round(rng.gamma(par["p"], 1.0 / nu[owner]), 2), 0.01)
    by_time = np.argsort(t0, kind="stable")
    owner, t0, amount = owner[by_time], t0[by_time], amount[by_time]
    device = np.zeros(int(base.visitor.max()) + 1 if base.visitor.size else 0, np.int64)
    device[base.visitor] = base.device
    m = owner.size
    visitor = buyer[owner]
    return (
        _Sessions(
            t0=t0,
            visitor=visitor,
            session=ids.take("session", m),
            source=np.full(m, SHOP, dtype=np.int64),
            device=device[np.minimum(visitor, device.size - 1)] if device.size else visitor * 0,
            product=product[owner],
            campaign=np.full(m, -1, dtype=np.int64),
            keyword=np.full(m, -1, dtype=np.int64),
        ),
        amount,
    )
