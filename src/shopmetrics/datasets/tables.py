"""From arrays to tables: the events, orders, ratings, spend, traffic, truth and peers frames.

Internal numbers become the exported ids here (``v...`` visitors, ``O...`` orders,
``s...`` sessions, ``H...`` history orders); tables are built in pyarrow and handed to
pandas without copies.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopmetrics.datasets.arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    SmallArray,
    _Catalog,
    _cdf,
    _Events,
    _Orders,
    _Ratings,
    _Sessions,
)
from shopmetrics.datasets.params import (
    CAMPAIGN_SOURCE,
    CAMPAIGNS,
    CARRIERS,
    CART,
    CATEGORIES,
    CLICK,
    DAY,
    DEVICES,
    DISPLAY,
    DSR_PEERS,
    EVENTS,
    EXPOSURE,
    FAVORITE,
    INQUIRY,
    KEYWORDS,
    NA,
    PAID_SEARCH,
    PEERS,
    REGION_SHARE,
    REGIONS,
    REPEAT_PARAMS,
    SOURCE_CONVERSION,
    SOURCE_CPC,
    SOURCES,
    STATUSES,
    VISIT,
)

# --------------------------------------------------------------------------- derived tables


def _time_order(ts: IntArray, event: SmallArray, keep: BoolArray) -> IntArray:
    """Positions of the kept events sorted by time, then funnel step, then position.

    The sort keys are unique, so any sort algorithm gives the same order.
    """
    pos = np.flatnonzero(keep)
    if pos.size == 0:
        return pos
    width = int(pos[-1]) + 1
    key = (ts[pos] - int(ts[pos].min())) * len(EVENTS) + event[pos]
    return np.sort(key * width + pos) % width


def _last_visit_source(
    events: _Events, keep: BoolArray, sessions: _Sessions, buyer: IntArray, created: IntArray
) -> IntArray:
    """Source of each buyer's last visit at or before ``created`` (-1: none)."""
    visits = np.flatnonzero((events.event == VISIT) & keep)
    row = events.session[visits]
    key = (sessions.visitor[row] << 32) | events.ts[visits]
    order = np.argsort(key, kind="stable")
    key, source = key[order], sessions.source[row][order]
    if key.size == 0:
        return np.full(buyer.size, -1, dtype=np.int64)
    pos = np.searchsorted(key, (buyer << 32) | created, side="right") - 1
    safe = np.maximum(pos, 0)
    found = (pos >= 0) & ((key[safe] >> 32) == buyer)
    return np.where(found, source[safe], -1).astype(np.int64)


def _traffic(
    events: _Events, sessions: _Sessions, cat: _Catalog, days: int, start: pd.Timestamp
) -> pd.DataFrame:
    """The daily back-end export per product, exactly from the events."""
    n_products = cat.n
    cells = days * n_products
    key = (events.ts // DAY) * n_products + events.product
    n_visitors = int(sessions.visitor.max()) + 1 if sessions.visitor.size else 1

    def count(code: int) -> IntArray:
        return np.bincount(key[events.event == code], minlength=cells).astype(np.int64)

    def distinct(code: int) -> IntArray:
        sel = np.flatnonzero(events.event == code)
        pairs = np.unique(key[sel] * n_visitors + sessions.visitor[events.session[sel]])
        return np.bincount(pairs // n_visitors, minlength=cells).astype(np.int64)

    rows = np.flatnonzero(np.bincount(key, minlength=cells))
    day, product = np.divmod(rows, n_products)
    return pd.DataFrame(
        {
            "date": (start + pd.to_timedelta(day, unit="D")).as_unit("ns"),
            "product_id": np.asarray(cat.labels, dtype=object)[product],
            "exposures": count(EXPOSURE)[rows],
            "clicks": count(CLICK)[rows],
            "visitors": distinct(VISIT)[rows],
            "page_views": count(VISIT)[rows],
            "inquirers": distinct(INQUIRY)[rows],
            "carters": distinct(CART)[rows],
            "favoriters": distinct(FAVORITE)[rows],
        }
    )


def _spend(
    events: _Events,
    keep: BoolArray,
    sessions: _Sessions,
    cat: _Catalog,
    rng: np.random.Generator,
    *,
    days: int,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Paid traffic per date, source, campaign and keyword, priced per click."""
    noise = rng.lognormal(0.0, 0.08, (days, len(CAMPAIGNS), len(KEYWORDS) + 1))
    listed = np.flatnonzero((events.event <= CLICK) & keep)
    row = events.session[listed]
    paid_rows = sessions.campaign[row] >= 0
    paid, row = listed[paid_rows], row[paid_rows]
    n_kw = len(KEYWORDS) + 1
    combo = (
        ((events.ts[paid] // DAY) * len(CAMPAIGNS) + sessions.campaign[row]) * n_kw
        + sessions.keyword[row]
        + 1
    )
    uniq, inverse = np.unique(combo, return_inverse=True)
    inverse = inverse.reshape(-1)
    is_click = events.event[paid] == CLICK
    clicks = np.bincount(inverse, weights=is_click, minlength=uniq.size).astype(np.int64)
    exposures = np.bincount(inverse, weights=~is_click, minlength=uniq.size).astype(np.int64)
    kw = uniq % n_kw
    campaign = (uniq // n_kw) % len(CAMPAIGNS)
    day = uniq // n_kw // len(CAMPAIGNS)
    cost = np.round(clicks * cat.cpc[campaign, kw] * noise[day, campaign, kw], 2)
    keywords = np.asarray((None, *KEYWORDS), dtype=object)
    return pd.DataFrame(
        {
            "date": (start + pd.to_timedelta(day, unit="D")).as_unit("ns"),
            "source": np.asarray(SOURCES, dtype=object)[np.asarray(CAMPAIGN_SOURCE)[campaign]],
            "campaign": np.asarray(CAMPAIGNS, dtype=object)[campaign],
            "keyword": keywords[kw],
            "cost": cost,
            "exposures": exposures,
            "clicks": clicks,
        }
    )


# --------------------------------------------------------------------------- frames


def _times(seconds: IntArray, origin_ns: int) -> Any:
    """Seconds from the origin (NA: missing) as an Arrow timestamp[ns] array."""
    missing = seconds == NA
    ns = np.where(missing, 0, origin_ns + seconds * 1_000_000_000)
    return pa.array(ns.astype("datetime64[ns]"), type=pa.timestamp("ns"), mask=missing)


def _coded(codes: npt.NDArray[np.integer[Any]], dictionary: Any) -> Any:
    """Codes into a dictionary of strings (negative: null) as an Arrow string array."""
    missing = codes < 0
    index = pa.array(np.where(missing, 0, codes).astype(np.int32), mask=missing)
    # large_string is what pandas' "str" dtype holds, so to_pandas() does not copy
    return dictionary.cast(pa.large_string()).take(index)


def _id_strings(prefix: str, numbers: IntArray, width: int) -> Any:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "").cast(pa.large_string())


_EVENTS_SCHEMA: Final = pa.schema(
    [
        ("ts", pa.timestamp("ns")),
        ("visitor_id", pa.large_string()),
        ("event", pa.large_string()),
        ("product_id", pa.large_string()),
        ("source", pa.large_string()),
        ("session_id", pa.large_string()),
        ("device", pa.large_string()),
        ("campaign", pa.large_string()),
        ("keyword", pa.large_string()),
    ]
)
_ORDERS_SCHEMA: Final = pa.schema(
    [
        ("order_id", pa.large_string()),
        ("buyer_id", pa.large_string()),
        ("created_at", pa.timestamp("ns")),
        ("paid_at", pa.timestamp("ns")),
        ("amount", pa.float64()),
        ("product_id", pa.large_string()),
        ("source", pa.large_string()),
        ("quantity", pa.int64()),
        ("status", pa.large_string()),
        ("is_presale", pa.bool_()),
        ("deposit_paid_at", pa.timestamp("ns")),
        ("refund_amount", pa.float64()),
        ("refunded_at", pa.timestamp("ns")),
        ("cost", pa.float64()),
    ]
)


def _events_table(
    ev: _Events,
    sessions: _Sessions,
    origin_ns: int,
    *,
    visitors: tuple[IntArray, Any],
    session_labels: Any,
    products: Any,
) -> Any:
    """The events as an Arrow table; ``sessions`` must start at the first event's session
    number's table row 0 (``ev.session - sessions.session[0]`` is the row)."""
    row = ev.session - (int(sessions.session[0]) if sessions.session.size else 0)
    return pa.table(
        {
            "ts": _times(ev.ts, origin_ns),
            "visitor_id": _coded(*visitors),
            "event": _coded(ev.event, pa.array(EVENTS)),
            "product_id": _coded(ev.product, products),
            "source": _coded(sessions.source[row], pa.array(SOURCES)),
            "session_id": _coded(row, session_labels),
            "device": _coded(sessions.device[row], pa.array(DEVICES)),
            "campaign": _coded(sessions.campaign[row], pa.array(CAMPAIGNS)),
            "keyword": _coded(sessions.keyword[row], pa.array(KEYWORDS)),
        },
        schema=_EVENTS_SCHEMA,
    )


def _orders_table(
    o: _Orders,
    origin_ns: int,
    orders: tuple[IntArray, Any],
    buyers: tuple[IntArray, Any],
    products: Any,
) -> Any:
    return pa.table(
        {
            "order_id": _coded(*orders),
            "buyer_id": _coded(*buyers),
            "created_at": _times(o.created, origin_ns),
            "paid_at": _times(o.paid, origin_ns),
            "amount": pa.array(o.amount, type=pa.float64()),
            "product_id": _coded(o.product, products),
            "source": _coded(o.source, pa.array(SOURCES)),
            "quantity": pa.array(o.quantity, type=pa.int64()),
            "status": _coded(o.status, pa.array(STATUSES)),
            "is_presale": pa.array(o.presale, type=pa.bool_()),
            "deposit_paid_at": _times(o.deposit, origin_ns),
            "refund_amount": pa.array(o.refund_amount, type=pa.float64()),
            "refunded_at": _times(o.refunded, origin_ns),
            "cost": pa.array(o.cost, type=pa.float64()),
        },
        schema=_ORDERS_SCHEMA,
    )


def _score_column(values: FloatArray) -> pd.Series:
    missing = np.isnan(values)
    scores = pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
    return pd.Series(scores, dtype="Int64")


def _region_of(numbers: IntArray) -> IntArray:
    """A fixed region per buyer id number (a hash, no random stream)."""
    u = ((numbers * 2_654_435_761) % 2**32) / 2**32
    return np.minimum(
        np.searchsorted(_cdf(REGION_SHARE), u, side="right"), len(REGIONS) - 1
    ).astype(np.int64)


def _pandas(table: Any) -> pd.DataFrame:
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    return frame


# --------------------------------------------------------------------------- ids, ratings, truth

# visitor and order numbers are fixed shuffles of the internal numbers (no random stream)
_VISITOR_MULT: Final = 3_141_593
_VISITOR_ADD: Final = 1_234_567
_ORDER_MULT: Final = 2_718_281_829
_ORDER_ADD: Final = 5_772_156_649
_ORDER_SPACE: Final = 10**10


def _visitor_numbers(index: IntArray, width: int) -> IntArray:
    """The number in a visitor id: a fixed shuffle of the internal visitor index."""
    space: int = 10**width
    return (index * _VISITOR_MULT + _VISITOR_ADD) % space


def _visitor_list(index: IntArray, width: int) -> str:
    """Comma-separated visitor ids (for trap subjects)."""
    return ",".join(f"v{number:0{width}d}" for number in _visitor_numbers(index, width))


def _ratings_frame(
    r: _Ratings, origin: int, *, orders: Any, visitors: Any, products: Any, width: int
) -> pd.DataFrame:
    n_history = int(r.order[r.historical].max()) + 1 if r.historical.any() else 0
    history = _id_strings("H", np.arange(n_history, dtype=np.int64), 9)
    order_labels = pa.concat_arrays([orders, history])
    order_codes = np.where(r.historical, len(orders) + r.order, r.order)
    frame = _pandas(
        pa.table(
            {
                "order_id": _coded(order_codes, order_labels),
                "buyer_id": _coded(r.buyer, visitors),
                "rated_at": _times(r.rated, origin),
                "trade_success_at": _times(r.success, origin),
                "product_id": _coded(r.product, products),
                "carrier": _coded(r.carrier, pa.array(CARRIERS)),
                "region": _coded(_region_of(_visitor_numbers(r.buyer, width)), pa.array(REGIONS)),
            }
        )
    )
    frame["item_score"] = _score_column(r.item)
    frame["service_score"] = _score_column(r.service)
    frame["logistics_score"] = _score_column(r.logistics)
    columns = ["order_id", "buyer_id", "rated_at", "item_score", "service_score"]
    columns += ["logistics_score", "trade_success_at", "product_id", "carrier", "region"]
    return frame[columns]


def _truth(
    cat: _Catalog, presale_product: int | None, *, repeat: bool = False
) -> dict[str, pd.DataFrame]:
    is_presale = np.zeros(cat.n, dtype=np.bool_)
    if presale_product is not None:
        is_presale[presale_product] = True
    products = pd.DataFrame(
        {
            "product_id": cat.labels,
            "category": np.asarray(CATEGORIES, dtype=object)[cat.category],
            "price": cat.price,
            "is_presale": is_presale,
            "true_ctr": cat.ctr,
            "true_payment_conversion": cat.conversion,
        }
    )
    sources = pd.DataFrame(
        {
            "source": list(SOURCES),
            "is_paid": [s in (PAID_SEARCH, DISPLAY) for s in range(len(SOURCES))],
            "conversion_multiplier": list(SOURCE_CONVERSION),
            "cpc": list(SOURCE_CPC),
        }
    )
    truth = {"products": products, "sources": sources}
    if repeat:
        truth["repeat"] = pd.DataFrame(
            [
                {"model": m, "parameter": k, "value": v, "meaning": what}
                for m, k, v, what in REPEAT_PARAMS
            ]
        )
    return truth


def _peers() -> tuple[pd.DataFrame, pd.DataFrame]:
    peers = pd.DataFrame(
        {
            "tier": "L3",
            "metric": [p[0] for p in PEERS],
            "peer_avg": [p[1] for p in PEERS],
            "peer_top10": [p[2] for p in PEERS],
        }
    )
    dsr_peers = pd.DataFrame(
        {
            "dimension": [p[0] for p in DSR_PEERS],
            "peer_avg": [p[1] for p in DSR_PEERS],
            "peer_max": [p[2] for p in DSR_PEERS],
            "peer_min": [p[3] for p in DSR_PEERS],
        }
    )
    return peers, dsr_peers
