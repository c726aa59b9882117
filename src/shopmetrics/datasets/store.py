"""The demo store: a deterministic Taobao/1688-style shop with planted traps.

:func:`make_store` builds eight weeks of a small-goods store (home storage, kitchen,
stationery, bags, phone accessories, pet supplies) as a Chinese store back-end would
export it: naive timestamps in store-local time (Asia/Shanghai), one row per tracked
event, per order line, per rated trade, per paid-traffic keyword and day.
Everything comes from ``numpy.random.default_rng`` streams spawned from one seed, so a
seed always gives the same store, and the store with ``traps=False`` has the same base
data as the one with traps (each trap draws from its own stream).

How the store is built:

* **Visitors and sessions.** About ``visitors_per_day`` distinct visitors a day (more
  at weekends and in the evening). Each session arrives through one source: organic
  ``search`` and ``recommend`` (手淘搜索 / 推荐), ``shop`` (自主访问: shop pages,
  cart, favourites), ``paid_search`` (直通车, campaigns ``ztc_brand`` and
  ``ztc_generic``, with keywords) and ``display`` (钻展, ``zz_retarget`` and
  ``zz_crowd``). About 22% of sessions are returning visitors and 10% are a second
  session of the same visitor the same day, usually through another source, so unique
  visitors per source do not add up to the store total.
* **Funnel.** A list-source session sees a result list with about 25 of the store's
  items (``exposure`` events), clicks one (``click``), lands on it (``visit``) and
  browses a few more item pages (more ``visit`` events, no click). ``shop`` sessions
  land without exposures or click. Some sessions ask a question (``inquiry``, a B2B
  1688 habit, 3-8% of visitors), add to cart or favourite. Click-through rates are
  2-6% by product; payment conversion is 1-5% by product, times a source multiplier
  (``shop`` 1.6, ``paid_search`` 1.2, ``search`` 1.0, ``recommend`` 0.75,
  ``display`` 0.45). ``truth["products"]`` and ``truth["sources"]`` hold the rates
  the data were drawn from; ``true_payment_conversion`` is the probability that a
  ``search`` session on the product ends in a paid order.
* **Orders.** A converting session orders the item it landed on, sometimes also a
  second item it viewed (two order lines, one ``order_id``), minutes after its last
  page view. ``source`` is the source of the buyer's last visit before the order.
  About 10% are never paid; most are paid within minutes, some within hours; about 5%
  of paid lines are refunded 1-20 days later (some partly). Payments and refunds after
  the end of the export are not in it. ``cost`` is 40-70% of ``amount``.
* **Ratings.** Successful trades (paid, not refunded) are rated by about 55% of
  buyers within 15 days of trade success; history with synthetic ``H...`` order ids
  reaches 240 days back from the end so a 180-day DSR window is full. Scores are
  mostly 5, correlated across item / service / logistics; about 3% of ratings leave
  one or two dimensions out; carrier ``STO`` has visibly worse logistics scores and
  ``SF`` better ones. Five buyers rate 5-6 trades within one natural month (the month
  120 days before the end): their first three (by trade success) are 5/5/5 and the
  rest 2 or lower, which the DSR first-3-per-month rule must drop.
* **Spend, traffic, peers.** ``spend`` has one row per date, source, campaign and
  keyword of the paid sources, with the exposures and clicks of those events and a
  cost per click that varies by keyword and day. ``traffic`` is the daily back-end
  export per product, computed exactly from ``events`` (only product-days with
  events have rows). ``peers`` and ``dsr_peers`` are fixed peer benchmarks (tier L3).

* **Repeat purchases** (``repeat_purchases=True``). Without it, buyers come back only
  as the returning visitors above, and few buy twice within eight weeks. With it, every
  buyer, from the first paid order on, buys again at an individual Poisson rate and
  after each repeat purchase drops out for good with an individual probability, as the
  BG/NBD assumes; each repeat order is a ``shop`` session on the product first bought,
  always paid, with an amount drawn from the buyer's own gamma (the Gamma-Gamma story;
  the amount stands for SKU and coupon differences, so it is not list price times
  quantity). ``truth["repeat"]`` holds the parameters (rates per week): on average a
  purchase every 13 weeks, a 24% chance of leaving after each, ¥60 a purchase.

There is no promotion calendar (no Double 11 spike), so differences between weeks
come from noise and the traps only.

Size: the default store has about 2.5 million events (about 320 MB as pandas frames),
nine in ten of them exposures -- with about 1,500 visitors a day and click-through
rates of 2-6%, every click comes with about 25 exposures -- about 3,100 order lines,
5,500 ratings, 900 spend rows and 11,000 traffic rows. Events are sorted by ``ts``.
Smaller stores for tests: ``make_store(days=14, products=20, visitors_per_day=300)``.

Traps (``traps=True``), each recorded in :attr:`Store.traps` with its subject and its
time span (``end`` exclusive). Weeks are 7-day blocks counted back from the end of the
period (the weekdays named below hold when ``start`` is a Monday and ``days`` a
multiple of 7); with the defaults (56 days from Monday 2026-09-28) the trap weeks are
ISO weeks 2026-W44 .. W47 (weeks 5-8 of the period):

1. ``presale_zero_payment`` -- product ``P007`` (``is_presale`` in the truth table) is
   in its presale deposit phase in the last week (2026-11-16 .. 2026-11-22): its
   orders have ``deposit_paid_at`` set, ``paid_at`` empty, ``status``
   ``"presale_deposit"`` and ``is_presale`` true, and extra deposit orders come in
   (a deposit is cheap), while its visitors are as usual. Earlier weeks are ordinary
   sales. Payment conversion of the product that week is 0; order conversion is not.
2. ``bot_traffic`` -- Wednesday of week 6 (2026-11-04), 03:00-04:30: 20 visitor ids
   (listed in the subject) hit ``P018`` through ``search`` with thousands of
   ``exposure`` / ``click`` / ``visit`` events, about 15% of that day's visits, with a
   click-through rate near 50% and never an inquiry, cart, favourite or order.
3. ``order_brushing`` -- Thursday of week 7 (2026-11-12), 01:00-02:00: ``P013`` gets
   30 orders from 10 buyer ids (3 each) that never visited the store, each paid within
   a minute of creation and rated 5/5/5 within a day (trade success a few hours after
   payment, carrier ``YTO``). These orders have no ``source``.
4. ``tracking_gap`` -- Tuesday of week 5 (2026-10-27): no events at all, while orders
   continue as usual (their ``source`` is known to the platform). ``spend`` keeps the
   ad platform's exposures and clicks that day, so it disagrees with ``events`` on
   this one day only; ``traffic`` (computed from events) has no rows that day.
5. ``mix_shift`` -- in the last week an extra ``display`` campaign push (``zz_crowd``)
   of new visitors raises display's share of visitors from about 12% to about 39%,
   while every source converts at its usual rate: the store's payment conversion
   falls versus the week before (by about a sixth) only because of the mix.

Shorter periods keep the traps that fit: presale needs 7 days, mix shift and brushing
14, bot traffic 21 and the tracking gap 28. With fewer than 18 products a trap product
that does not exist is replaced by the last product.

:func:`write_events_parquet` writes a large events table (and its orders) for
benchmarks, chunk by chunk, in bounded memory.

Examples:
    >>> from shopmetrics.datasets import make_store
    >>> store = make_store(seed=1, days=14, products=20, visitors_per_day=200)
    >>> sorted(store.tables())
    ['events', 'orders', 'peers', 'ratings', 'spend', 'traffic']
    >>> [trap.code for trap in store.traps]
    ['order_brushing', 'mix_shift', 'presale_zero_payment']
    >>> str(store.end - store.start)
    '14 days 00:00:00'
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "TZ",
    "Store",
    "Trap",
    "make_store",
    "orders_parquet_path",
    "write_events_parquet",
]

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int8]
MidArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

TZ: Final = "Asia/Shanghai"
"""The store's time zone; all timestamps are naive local times in it."""

DAY: Final = 86_400
HOUR: Final = 3_600
NA: Final = int(np.iinfo(np.int64).min)  # a missing time in seconds; becomes NaT

EVENTS: Final = ("exposure", "click", "visit", "inquiry", "cart", "favorite")
EXPOSURE, CLICK, VISIT, INQUIRY, CART, FAVORITE = range(6)

SOURCES: Final = ("search", "recommend", "shop", "paid_search", "display")
SEARCH, RECOMMEND, SHOP, PAID_SEARCH, DISPLAY = range(5)
SOURCE_SHARE: Final = (0.36, 0.24, 0.16, 0.14, 0.10)
SOURCE_CONVERSION: Final = (1.0, 0.75, 1.6, 1.2, 0.45)
SOURCE_CPC: Final = (math.nan, math.nan, math.nan, 1.3, 0.6)

DEVICES: Final = ("mobile", "pc")
MOBILE, PC = range(2)
MOBILE_SHARE: Final = 0.85

CAMPAIGNS: Final = ("ztc_brand", "ztc_generic", "zz_retarget", "zz_crowd")
ZTC_BRAND, ZTC_GENERIC, ZZ_RETARGET, ZZ_CROWD = range(4)
CAMPAIGN_SOURCE: Final = (PAID_SEARCH, PAID_SEARCH, DISPLAY, DISPLAY)

CATEGORIES: Final = (
    "home_storage",
    "kitchen",
    "stationery",
    "bags",
    "phone_accessories",
    "pet_supplies",
)
CATEGORY_PRICE: Final = (29.0, 39.0, 12.0, 59.0, 19.0, 35.0)
CATEGORY_KEYWORDS: Final = (
    ("收纳盒", "收纳箱 大号"),
    ("厨房置物架", "保鲜盒 套装"),
    ("中性笔 批发", "笔记本 本子"),
    ("帆布包 女", "双肩包 学生"),
    ("手机壳", "数据线 快充"),
    ("猫砂盆", "宠物碗 不锈钢"),
)
BRAND_KEYWORDS: Final = ("乐家优品", "乐家优品 旗舰店")
KEYWORDS: Final = (*(k for pair in CATEGORY_KEYWORDS for k in pair), *BRAND_KEYWORDS)

STATUSES: Final = ("paid", "unpaid", "refunded", "presale_deposit")
PAID, UNPAID, REFUNDED, PRESALE_DEPOSIT = range(4)

CARRIERS: Final = ("ZTO", "YTO", "YUNDA", "STO", "SF")
CARRIER_SHARE: Final = (0.32, 0.25, 0.15, 0.15, 0.13)
CARRIER_LOGISTICS: Final = (0.0, 0.0, -0.05, -0.65, 0.3)  # latent shift of logistics scores
YTO: Final = 1
REGIONS: Final = (
    "Zhejiang",
    "Guangdong",
    "Jiangsu",
    "Shanghai",
    "Beijing",
    "Shandong",
    "Fujian",
    "Sichuan",
    "Henan",
    "Hubei",
)
REGION_SHARE: Final = (0.17, 0.17, 0.13, 0.09, 0.07, 0.09, 0.07, 0.08, 0.07, 0.06)
SCORE_THRESHOLDS: Final = (-2.17, -1.96, -1.645, -1.08)  # 1.5% 1s, ... 86% 5s

HOUR_WEIGHT: Final = (
    0.9, 0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 0.7, 1.3, 2.0, 2.6, 2.7,
    2.3, 2.2, 2.5, 2.6, 2.5, 2.3, 2.2, 2.6, 3.3, 3.8, 3.6, 2.2,
)  # fmt: skip
WEEKDAY_WEIGHT: Final = (1.0, 0.98, 0.97, 0.99, 1.02, 1.08, 1.1)  # Monday first

SAME_DAY_SHARE: Final = 0.10  # sessions that are a visitor's second session that day
RETURNING_SHARE: Final = 0.22  # sessions of visitors first seen on an earlier day
LANDING_EXPOSURES: Final = 0.4  # extra exposures of the clicked item, beyond one
EXTRA_VISITS: Final = 0.9  # mean further item pages viewed in a session
PAID_SHARE: Final = 0.9  # orders that get paid
BUYER_CART: Final = 0.55  # converting sessions that use the cart
SECOND_LINE: Final = 0.25  # converting sessions that also buy a second viewed item
REFUND_SHARE: Final = 0.06  # of paid lines; about 5% end up refunded within the export
RATE_SHARE: Final = 0.55
HISTORY_DAYS: Final = 240

PRESALE_PRODUCT: Final = 6  # P007
BRUSH_PRODUCT: Final = 12  # P013
BOT_PRODUCT: Final = 17  # P018
BOT_IDS: Final = 20
BOT_SHARE: Final = 0.17  # bot visits relative to the day's other visits
BRUSH_BUYERS: Final = 10
BRUSH_EACH: Final = 3
MIX_TARGET: Final = 0.35  # display share of sessions in the mix-shift week
PRESALE_EXTRA: Final = 0.15  # extra order rate of presale visitors (a deposit is cheap)

REPEAT_PARAMS: Final = (
    ("bgnbd", "r", 0.6, "shape of the gamma of purchase rates"),
    ("bgnbd", "alpha", 8.0, "rate of that gamma, in weeks (mean rate r / alpha per week)"),
    ("bgnbd", "a", 0.8, "first shape of the beta of drop-out probabilities"),
    ("bgnbd", "b", 2.5, "second shape of that beta (mean a / (a + b))"),
    ("gamma_gamma", "p", 6.0, "shape of the gamma of a purchase's amount"),
    ("gamma_gamma", "q", 4.0, "shape of the gamma of the buyers' amount rates"),
    ("gamma_gamma", "v", 30.0, "rate of that gamma (mean amount p v / (q - 1), in yuan)"),
)
"""The repeat-purchase process of ``make_store(repeat_purchases=True)``."""
WEEK: Final = 7 * 86_400

_VISITOR_MULT: Final = 3_141_593
_VISITOR_ADD: Final = 1_234_567
_ORDER_MULT: Final = 2_718_281_829
_ORDER_ADD: Final = 5_772_156_649
_ORDER_SPACE: Final = 10**10

_STREAMS: Final = (
    "catalog",
    "sessions",
    "expand",
    "orders",
    "ratings",
    "history",
    "spend",
    "mix",
    "bot",
    "brushing",
    "presale",
    "repeat",
)

PEERS: Final = (
    ("ctr", 0.032, 0.058),
    ("inquiry_rate", 0.035, 0.080),
    ("cart_rate", 0.085, 0.160),
    ("order_conversion", 0.030, 0.065),
    ("payment_conversion", 0.026, 0.058),
    ("aov", 62.0, 118.0),
    ("visitor_value", 1.6, 5.2),
)
DSR_PEERS: Final = (
    ("item", 4.78, 4.95, 4.40),
    ("service", 4.80, 4.96, 4.45),
    ("logistics", 4.77, 4.94, 4.38),
)

_T = TypeVar("_T", bound="DataclassInstance")


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True, slots=True)
class Trap:
    """One planted trap: what it touches and when.

    Attributes:
        code: The trap's name (``"presale_zero_payment"``, ``"bot_traffic"``,
            ``"order_brushing"``, ``"tracking_gap"``, ``"mix_shift"``).
        subject: What the trap touches, e.g. ``{"product_id": "P007"}``; lists of ids
            are comma-separated.
        start: First affected moment (store-local, naive).
        end: End of the affected span (exclusive).
        description: One sentence on what was planted and how it misleads.
    """

    code: str
    subject: dict[str, str]
    start: pd.Timestamp
    end: pd.Timestamp
    description: str


@dataclass(frozen=True, slots=True, eq=False)
class Store:
    """A generated store: the six input tables, the truth behind them and the traps.

    Attributes:
        events: One row per tracked event, sorted by ``ts`` (``ts``, ``visitor_id``,
            ``event``, ``product_id``, ``source``, ``session_id``, ``device``,
            ``campaign``, ``keyword``).
        orders: One row per order line.
        ratings: One row per rated trade, 240 days back from the end.
        spend: Paid traffic per date, source, campaign and keyword.
        traffic: The daily back-end export per product, computed from ``events``.
        peers: Peer benchmarks of the funnel and value metrics (long form).
        dsr_peers: Industry average, maximum and minimum of each DSR dimension.
        truth: ``"products"`` and ``"sources"``: the parameters the data were drawn from.
        traps: The planted traps (empty with ``traps=False``).
        tz: The store's time zone (timestamps are naive local times in it).
        start: The first day (midnight).
        end: The day after the last day (midnight), exclusive.
    """

    events: pd.DataFrame
    orders: pd.DataFrame
    ratings: pd.DataFrame
    spend: pd.DataFrame
    traffic: pd.DataFrame
    peers: pd.DataFrame
    dsr_peers: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    traps: tuple[Trap, ...]
    tz: str
    start: pd.Timestamp
    end: pd.Timestamp

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six input tables by name.

        Returns:
            ``events``, ``orders``, ``ratings``, ``spend``, ``traffic`` and ``peers``.
        """
        return {
            "events": self.events,
            "orders": self.orders,
            "ratings": self.ratings,
            "spend": self.spend,
            "traffic": self.traffic,
            "peers": self.peers,
        }

    def trap(self, code: str) -> Trap:
        """The planted trap with this code.

        Args:
            code: A trap code such as ``"bot_traffic"``.

        Returns:
            The trap record.

        Raises:
            KeyError: if the store has no such trap.
        """
        for trap in self.traps:
            if trap.code == code:
                return trap
        msg = f"no trap {code!r} in this store; it has {[t.code for t in self.traps]}"
        raise KeyError(msg)

    def __repr__(self) -> str:
        last = (self.end - pd.Timedelta(days=1)).date()
        sizes = ", ".join(f"{name}={len(df):,}" for name, df in self.tables().items())
        traps = ", ".join(t.code for t in self.traps) or "none"
        return (
            f"Store({self.start.date()}..{last} {self.tz}, {sizes}, "
            f"ratings_from={self.ratings['rated_at'].min().date() if len(self.ratings) else '-'}, "
            f"traps=[{traps}])"
        )


# --------------------------------------------------------------------------- internal arrays


def _take(obj: _T, index: npt.NDArray[Any]) -> _T:
    """Index every array field of an array dataclass."""
    values = {f.name: getattr(obj, f.name)[index] for f in dataclasses.fields(obj)}
    return type(obj)(**values)


def _concat(parts: Sequence[_T]) -> _T:
    """Concatenate array dataclasses field by field."""
    first = parts[0]
    values = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in dataclasses.fields(first)
    }
    return type(first)(**values)


@dataclass(slots=True)
class _Catalog:
    labels: list[str]
    category: IntArray
    price: FloatArray
    unit_cost: FloatArray
    pop: FloatArray
    ctr: FloatArray
    conversion: FloatArray
    inquiry_p: FloatArray
    cart_p: FloatArray
    favorite_p: FloatArray
    item_shift: FloatArray
    pop_cdf: FloatArray
    exposure_cdf: FloatArray
    other_exposures: float
    cpc: FloatArray  # (campaign, keyword + 1)

    @property
    def n(self) -> int:
        return len(self.labels)


@dataclass(slots=True)
class _Sessions:
    t0: IntArray  # seconds from the start of the period
    visitor: IntArray
    session: IntArray
    source: IntArray
    device: IntArray
    product: IntArray
    campaign: IntArray  # -1: none
    keyword: IntArray  # -1: none


@dataclass(slots=True)
class _Events:
    """Events, lean: the rest of each event's columns live on its session.

    ``session`` is the session number, which is also the session's row in the store's
    session table (numbers are allocated consecutively).
    """

    ts: IntArray
    event: SmallArray
    product: MidArray
    session: IntArray


@dataclass(slots=True)
class _Lines:
    pos: IntArray  # position of the session in the expanded batch
    session: IntArray
    visitor: IntArray
    source: IntArray
    product: IntArray
    created: IntArray
    quantity: IntArray


@dataclass(slots=True)
class _Expansion:
    events: _Events
    lines: _Lines
    end: IntArray  # per session: time of its last event


@dataclass(slots=True)
class _Orders:
    order: IntArray
    buyer: IntArray
    product: IntArray
    source: IntArray
    created: IntArray
    paid: IntArray
    deposit: IntArray
    quantity: IntArray
    amount: FloatArray
    cost: FloatArray
    refund_amount: FloatArray
    refunded: IntArray
    status: IntArray
    presale: BoolArray


@dataclass(slots=True)
class _Ratings:
    order: IntArray
    historical: BoolArray
    buyer: IntArray
    product: IntArray
    success: IntArray
    rated: IntArray
    item: FloatArray
    service: FloatArray
    logistics: FloatArray
    carrier: IntArray


@dataclass(slots=True)
class _Ids:
    """The next free internal number of each id space."""

    visitor: int = 0
    session: int = 0
    order: int = 0

    def take(self, space: Literal["visitor", "session", "order"], n: int) -> IntArray:
        """Allocate ``n`` consecutive numbers of one space."""
        first: int = getattr(self, space)
        setattr(self, space, first + n)
        return first + np.arange(n, dtype=np.int64)


def _cdf(weights: Sequence[float] | FloatArray) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def _draw(rng: np.random.Generator, cdf: FloatArray, size: int) -> IntArray:
    """Categorical draws by inverse CDF."""
    out = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(out, cdf.size - 1).astype(np.int64)


def _seconds_in_day(rng: np.random.Generator, size: int) -> IntArray:
    hour = _draw(rng, _cdf(HOUR_WEIGHT), size)
    return hour * HOUR + rng.integers(0, HOUR, size)


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


# --------------------------------------------------------------------------- ratings


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


# --------------------------------------------------------------------------- repeat purchases


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


# --------------------------------------------------------------------------- traps


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


# --------------------------------------------------------------------------- the store


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


@dataclass(slots=True)
class _Build:
    """The store under construction: its numeric parts, id counters and planted traps."""

    rngs: dict[str, np.random.Generator]
    cat: _Catalog
    days: int
    start: pd.Timestamp
    sessions: _Sessions
    base: _Expansion
    ids: _Ids
    id_width: int
    session_parts: list[_Sessions]  # in session-number order
    events: list[_Events]
    orders: list[_Orders]
    ratings: list[_Ratings]
    batches: list[tuple[_Sessions, _Expansion]]
    traps: list[Trap] = dataclasses.field(default_factory=list)
    gap_day: int | None = None
    presale_product: int | None = None
    repeat: bool = False

    @property
    def horizon(self) -> int:
        return self.days * DAY

    def moment(self, seconds: int) -> pd.Timestamp:
        return self.start + pd.Timedelta(seconds=seconds)

    def add_repeat_purchases(self) -> None:
        rng, cat, horizon = self.rngs["repeat"], self.cat, self.horizon
        sessions, amount = _repeat_sessions(
            rng, _concat(self.orders), self.sessions, horizon, self.ids
        )
        expansion = _expand(sessions, cat, rng, all_buy=True)
        lines = expansion.lines
        # one line per repeat order: the product returned for, at the drawn amount
        first = np.r_[True, lines.pos[1:] != lines.pos[:-1]] if lines.pos.size else lines.pos > 0
        lines = _take(lines, np.flatnonzero(first & (lines.created < horizon)))
        orders = _settle(
            lines, cat, rng, horizon, self.ids, paid_share=1.0, amount=amount[lines.pos]
        )
        self.session_parts.append(sessions)
        self.events.append(expansion.events)
        self.orders.append(orders)
        self.ratings.append(_rate_orders(orders, cat, rng, horizon))
        self.batches.append((sessions, expansion))
        self.repeat = True

    def plant_mix(self) -> None:
        rng, cat, horizon = self.rngs["mix"], self.cat, self.horizon
        mix = _mix_sessions(rng, cat, self.sessions, self.days, self.ids)
        expansion = _expand(mix, cat, rng)
        lines = _take(expansion.lines, np.flatnonzero(expansion.lines.created < horizon))
        orders = _settle(lines, cat, rng, horizon, self.ids)
        self.session_parts.append(mix)
        self.events.append(expansion.events)
        self.orders.append(orders)
        self.ratings.append(_rate_orders(orders, cat, rng, horizon))
        self.batches.append((mix, expansion))
        self.traps.append(
            Trap(
                "mix_shift",
                {"source": SOURCES[DISPLAY], "campaign": CAMPAIGNS[ZZ_CROWD]},
                self.moment((self.days - 7) * DAY),
                self.moment(horizon),
                "an extra display (钻展) push raises display's share of sessions from about "
                "10% to about 35% in the last week while every source converts as before, "
                "so the store's payment conversion falls only because of the traffic mix",
            )
        )

    def plant_bot(self, product: int) -> None:
        day = self.days - 21 + 2  # Wednesday, three weeks before the last week
        window = (day * DAY + 3 * HOUR, day * DAY + 3 * HOUR + 90 * 60)
        base = self.base.events
        day_visits = int(np.count_nonzero((base.ts // DAY == day) & (base.event == VISIT)))
        bots, events = _bot_events(
            self.rngs["bot"], self.cat, product, window, day_visits=day_visits, ids=self.ids
        )
        self.session_parts.append(bots)
        self.events.append(events)
        self.traps.append(
            Trap(
                "bot_traffic",
                {
                    "product_id": self.cat.labels[product],
                    "source": SOURCES[SEARCH],
                    "visitor_ids": _visitor_list(bots.visitor, self.id_width),
                },
                self.moment(window[0]),
                self.moment(window[1]),
                f"{BOT_IDS} visitor ids fire thousands of exposure/click/visit events on one "
                "product within 90 minutes at night and never inquire, cart, favourite or "
                "order",
            )
        )

    def plant_brushing(self, product: int) -> None:
        day = self.days - 14 + 3  # Thursday, the week before the last week
        window = (day * DAY + HOUR, day * DAY + 2 * HOUR)
        orders, ratings, buyers = _brushing(
            self.rngs["brushing"], self.cat, product, window, self.ids
        )
        self.orders.append(orders)
        self.ratings.append(ratings)
        self.traps.append(
            Trap(
                "order_brushing",
                {
                    "product_id": self.cat.labels[product],
                    "buyer_ids": _visitor_list(buyers, self.id_width),
                },
                self.moment(window[0]),
                self.moment(window[1]),
                f"{BRUSH_BUYERS * BRUSH_EACH} orders in one hour from {BRUSH_BUYERS} buyers "
                f"who never visited ({BRUSH_EACH} each), paid within a minute and rated "
                "5/5/5 within a day",
            )
        )

    def plant_presale(self, product: int) -> None:
        first_day = self.days - 7
        orders, touched = _presale(
            self.rngs["presale"],
            self.cat,
            _concat(self.orders),
            self.batches,
            product=product,
            first_day=first_day,
            horizon=self.horizon,
            ids=self.ids,
        )
        self.orders = [orders]
        ratings = _concat(self.ratings)
        dropped = ~ratings.historical & np.isin(ratings.order, touched)
        self.ratings = [_take(ratings, np.flatnonzero(~dropped))]
        self.presale_product = product
        self.traps.append(
            Trap(
                "presale_zero_payment",
                {"product_id": self.cat.labels[product]},
                self.moment(first_day * DAY),
                self.moment(self.horizon),
                "the product is in its presale deposit phase: its orders carry a paid "
                "deposit but no full payment, so its payment conversion is 0 that week "
                "while its visitors and orders are normal",
            )
        )

    def plant_gap(self) -> None:
        self.gap_day = self.days - 28 + 1  # Tuesday, four weeks before the end
        self.traps.append(
            Trap(
                "tracking_gap",
                {"table": "events"},
                self.moment(self.gap_day * DAY),
                self.moment((self.gap_day + 1) * DAY),
                "event tracking recorded nothing that day while orders (and the ad "
                "platform's spend) went on, so visitors are 0 but buyers are not",
            )
        )

    def finish(self) -> Store:
        cat, start, horizon = self.cat, self.start, self.horizon
        origin = int(start.value)
        sessions = _concat(self.session_parts)
        assert np.array_equal(sessions.session, np.arange(sessions.session.size))
        # the platform sees every event; the tracked events miss the gap day
        platform = _concat(self.events)
        in_period = (platform.ts >= 0) & (platform.ts < horizon)
        orders = _concat(self.orders)
        orders.source = _last_visit_source(
            platform, in_period, sessions, orders.buyer, orders.created
        )
        orders = _take(orders, np.lexsort((orders.product, orders.created)))
        spend = _spend(
            platform, in_period, sessions, cat, self.rngs["spend"], days=self.days, start=start
        )
        tracked = in_period
        if self.gap_day is not None:
            tracked = tracked & (platform.ts // DAY != self.gap_day)
        events = _take(platform, _time_order(platform.ts, platform.event, tracked))
        del platform, in_period, tracked
        ratings = _concat(self.ratings)
        ratings = _take(ratings, np.argsort(ratings.rated, kind="stable"))

        width, ids = self.id_width, self.ids
        visitors = _id_strings(
            "v", _visitor_numbers(np.arange(ids.visitor, dtype=np.int64), width), width
        )
        order_numbers = (np.arange(ids.order, dtype=np.int64) * _ORDER_MULT + _ORDER_ADD) % (
            _ORDER_SPACE
        )
        order_labels = _id_strings("O", order_numbers, 10)
        session_labels = _id_strings(
            "s", np.arange(ids.session, dtype=np.int64), max(8, len(str(ids.session)))
        )
        products = pa.array(cat.labels)
        events_table = _events_table(
            events,
            sessions,
            origin,
            visitors=(sessions.visitor[events.session], visitors),
            session_labels=session_labels,
            products=products,
        )
        peers, dsr_peers = _peers()
        return Store(
            events=_pandas(events_table),
            orders=_pandas(
                _orders_table(
                    orders, origin, (orders.order, order_labels), (orders.buyer, visitors), products
                )
            ),
            ratings=_ratings_frame(
                ratings,
                origin,
                orders=order_labels,
                visitors=visitors,
                products=products,
                width=width,
            ),
            spend=spend,
            traffic=_traffic(events, sessions, cat, self.days, start),
            peers=peers,
            dsr_peers=dsr_peers,
            truth=_truth(cat, self.presale_product, repeat=self.repeat),
            traps=tuple(sorted(self.traps, key=lambda t: (t.start, t.code))),
            tz=TZ,
            start=start,
            end=start + pd.Timedelta(days=self.days),
        )


def _base_store(
    rngs: dict[str, np.random.Generator],
    cat: _Catalog,
    days: int,
    visitors_per_day: float,
    start: pd.Timestamp,
) -> _Build:
    """Sessions, events, orders and ratings without traps."""
    horizon = days * DAY
    sessions = _base_sessions(rngs["sessions"], cat, days, visitors_per_day, start.weekday())
    n_visitors = int(sessions.visitor.max()) + 1 if sessions.t0.size else 0
    ids = _Ids(visitor=n_visitors, session=sessions.t0.size)
    base = _expand(sessions, cat, rngs["expand"])
    lines = _take(base.lines, np.flatnonzero(base.lines.created < horizon))
    orders = _settle(lines, cat, rngs["orders"], horizon, ids)
    ratings = _rate_orders(orders, cat, rngs["ratings"], horizon)
    heavy_month = (start + pd.Timedelta(days=days - 120)).replace(day=1)
    history = _history(
        rngs["history"],
        cat,
        ids,
        horizon=horizon,
        paid_per_day=np.unique(orders.order[orders.paid != NA]).size / days,
        heavy_month=int((heavy_month - start) / pd.Timedelta(seconds=1)),
    )
    return _Build(
        rngs=rngs,
        cat=cat,
        days=days,
        start=start,
        sessions=sessions,
        base=base,
        session_parts=[sessions],
        ids=ids,
        id_width=max(7, len(str(4 * ids.visitor))),
        events=[base.events],
        orders=[orders],
        ratings=[history, ratings],
        batches=[(sessions, base)],
    )


def make_store(
    seed: int = 0,
    *,
    days: int = 56,
    products: int = 200,
    visitors_per_day: float = 1500,
    start: str | pd.Timestamp = "2026-09-28",
    traps: bool = True,
    repeat_purchases: bool = False,
) -> Store:
    """Build the demo store.

    Args:
        seed: Seed of every random stream; the same seed gives the same store.
        days: Length of the period in days (the default is 8 ISO weeks).
        products: Number of products (``P001``, ``P002``, ...).
        visitors_per_day: Distinct visitors with a visit on an average day (before
            weekday effects and traps).
        start: First day, naive store-local (a Monday keeps weeks aligned to ISO weeks).
        traps: Plant the traps described in the module docstring (those that fit).
        repeat_purchases: Let every paying buyer come back under the BG/NBD and
            Gamma-Gamma stories (parameters in ``truth["repeat"]``; see the module
            docstring), for customer-value work on a long store such as ``days=364``.
            Off by default: the default store is the one the guides print.

    Returns:
        The :class:`Store`.

    Raises:
        ValueError: if ``days``, ``products`` or ``visitors_per_day`` is not positive,
            or ``start`` carries a time zone.

    Examples:
        >>> store = make_store(seed=3, days=7, products=10, visitors_per_day=100, traps=False)
        >>> store.traps
        ()
        >>> bool(store.events["ts"].between(store.start, store.end, inclusive="left").all())
        True
    """
    if days < 1 or products < 1 or not visitors_per_day > 0:
        msg = (
            "days, products and visitors_per_day must be positive; got "
            f"days={days}, products={products}, visitors_per_day={visitors_per_day}"
        )
        raise ValueError(msg)
    start_ts = pd.Timestamp(start)
    if start_ts.tzinfo is not None:
        msg = f"start must be a naive store-local date ({TZ}), got {start_ts}"
        raise ValueError(msg)
    start_ts = start_ts.normalize().as_unit("ns")
    streams = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}
    last = products - 1
    presale, brushing, bot = (
        min(PRESALE_PRODUCT, last),
        min(BRUSH_PRODUCT, last),
        min(BOT_PRODUCT, last),
    )
    cat = _catalog(rngs["catalog"], products, {brushing: 0.15, bot: 0.55, presale: 0.93})
    build = _base_store(rngs, cat, days, visitors_per_day, start_ts)
    if repeat_purchases:
        build.add_repeat_purchases()
    if traps:
        if days >= 14:
            build.plant_mix()
        if days >= 21:
            build.plant_bot(bot)
        if days >= 14:
            build.plant_brushing(brushing)
        if days >= 7:
            build.plant_presale(presale)
        if days >= 28:
            build.plant_gap()
    return build.finish()


# --------------------------------------------------------------------------- large files


def orders_parquet_path(events_path: str | pathlib.Path) -> pathlib.Path:
    """Where :func:`write_events_parquet` puts the orders matching an events file.

    Args:
        events_path: The events file, e.g. ``data/events.parquet``.

    Returns:
        The same name with ``_orders`` before the suffix: ``data/events_orders.parquet``.

    Examples:
        >>> orders_parquet_path("data/events.parquet").as_posix()
        'data/events_orders.parquet'
    """
    path = pathlib.Path(events_path)
    return path.with_name(f"{path.stem}_orders{path.suffix}")


_LARGE_START: Final = pd.Timestamp("2026-09-28")
_LARGE_DAYS: Final = 56
_ROW_GROUP: Final = 1_000_000


@dataclass(slots=True)
class _Large:
    """State of a large file being written: the model, the clock and the id counters."""

    cat: _Catalog
    rng: np.random.Generator
    n_visitors: int
    id_width: int
    cdf: FloatArray  # share of the period's traffic before each hour boundary
    grid: FloatArray  # the hour boundaries in seconds
    per_session: float  # expected events per session
    ids: _Ids = dataclasses.field(default_factory=_Ids)

    def sessions(self, u_lo: float, u_hi: float, n: int) -> _Sessions:
        """``n`` sessions spread over the ``[u_lo, u_hi)`` slice of the period's traffic."""
        rng = self.rng
        u = np.sort(rng.uniform(u_lo, u_hi, n))
        source = _draw(rng, _cdf(SOURCE_SHARE), n)
        product, campaign, keyword = _attributes(rng, self.cat, source)
        visitor = rng.integers(0, self.n_visitors, n)
        return _Sessions(
            t0=np.interp(u, self.cdf, self.grid).astype(np.int64),
            visitor=visitor,
            session=self.ids.take("session", n),
            source=source,
            device=(((visitor * 2_654_435_761) % 100) >= 85).astype(np.int64),
            product=product,
            campaign=campaign,
            keyword=keyword,
        )

    def chunk(self, u_lo: float, u_hi: float, target: int) -> tuple[Any, Any]:
        """Exactly ``target`` events of one slice of the period, and their orders."""
        lo, hi = (int(np.interp(u, self.cdf, self.grid)) for u in (u_lo, u_hi))
        hi = max(hi, lo + 1)
        first_session = self.ids.session
        batches: list[_Sessions] = []
        parts: list[_Expansion] = []
        got = 0
        while got < target:
            n = int((target - got) / self.per_session * 1.03) + 8
            batches.append(self.sessions(u_lo, u_hi, n))
            parts.append(_expand(batches[-1], self.cat, self.rng))
            got += parts[-1].events.ts.size
        sessions = _concat(batches)
        ev = _concat([p.events for p in parts])
        ev.ts = np.clip(ev.ts, lo, hi - 1)  # keep each chunk inside its slice: sorted file
        ev = _take(ev, _time_order(ev.ts, ev.event, np.ones(ev.ts.size, np.bool_))[:target])
        origin = int(_LARGE_START.as_unit("ns").value)
        products = pa.array(self.cat.labels)
        visitor = sessions.visitor[ev.session - first_session]
        present = np.zeros(self.n_visitors, dtype=np.bool_)
        present[visitor] = True
        visitor_codes = np.cumsum(present, dtype=np.int64) - 1
        events = _events_table(
            ev,
            sessions,
            origin,
            visitors=(visitor_codes[visitor], self._visitors(np.flatnonzero(present))),
            session_labels=_id_strings("s", np.arange(first_session, self.ids.session), 9),
            products=products,
        )
        lines = _concat([p.lines for p in parts])
        cutoff = int(ev.ts[-1]) if ev.ts.size else lo
        lines = _take(lines, np.flatnonzero(lines.created <= cutoff))
        first_order = self.ids.order
        o = _settle(lines, self.cat, self.rng, _LARGE_DAYS * DAY, self.ids)
        buyers, buyer_codes = np.unique(o.buyer, return_inverse=True)
        orders = _orders_table(
            o,
            origin,
            (
                o.order - first_order,
                _id_strings("O", np.arange(first_order, self.ids.order), 10),
            ),
            (buyer_codes.reshape(-1), self._visitors(buyers)),
            products,
        )
        return events, orders

    def _visitors(self, numbers: IntArray) -> Any:
        return _id_strings("v", numbers, self.id_width)


def write_events_parquet(
    path: str | pathlib.Path,
    n_events: int,
    seed: int = 0,
    products: int = 1000,
    chunk_rows: int = 2_000_000,
) -> pathlib.Path:
    """Write a large events table, and the orders it leads to, for benchmarks.

    The same session model as :func:`make_store` (no traps, ratings or spend), over 56
    days from 2026-09-28, with about one visitor id per 40 events. Events are generated
    and written ``chunk_rows`` at a time with :class:`pyarrow.parquet.ParquetWriter`
    (row groups of at most a million rows), so memory stays bounded whatever
    ``n_events`` is (about 0.5 GB at the default ``chunk_rows``). Chunk ``k`` covers the
    ``k``-th slice of the period's traffic, so the file is sorted by ``ts``. The file
    has exactly ``n_events`` rows with the columns of ``Store.events``.

    The orders go to :func:`orders_parquet_path` of ``path`` (``events.parquet`` ->
    ``events_orders.parquet``), with the columns of ``Store.orders``; their ``source``
    is the source of the session that ordered. The same arguments write the same files.

    Args:
        path: The events file to write (its directory must exist).
        n_events: Number of event rows.
        seed: Seed of the random streams.
        products: Number of products.
        chunk_rows: Events generated and written per step (bounds memory).

    Returns:
        The events path; the orders are at ``orders_parquet_path(path)``.

    Raises:
        ValueError: if ``n_events`` is negative or ``chunk_rows`` / ``products`` is not
            positive.
    """
    if n_events < 0 or chunk_rows < 1 or products < 1:
        msg = (
            "n_events must be >= 0, chunk_rows and products > 0; got "
            f"n_events={n_events}, chunk_rows={chunk_rows}, products={products}"
        )
        raise ValueError(msg)
    path = pathlib.Path(path)
    catalog_seed, stream_seed = np.random.SeedSequence(seed).spawn(2)
    cat = _catalog(np.random.default_rng(catalog_seed), products, {})
    hours = np.arange(_LARGE_DAYS * 24)
    weekday = (_LARGE_START.weekday() + hours // 24) % 7
    intensity = np.asarray(HOUR_WEIGHT)[hours % 24] * np.asarray(WEEKDAY_WEIGHT)[weekday]
    n_visitors = max(1_000, n_events // 40)
    large = _Large(
        cat=cat,
        rng=np.random.default_rng(stream_seed),
        n_visitors=n_visitors,
        id_width=max(7, len(str(n_visitors))),
        cdf=np.concatenate(([0.0], np.cumsum(intensity) / intensity.sum())),
        grid=np.arange(hours.size + 1, dtype=np.float64) * HOUR,
        per_session=(1.0 - SOURCE_SHARE[SHOP]) * (2.0 + LANDING_EXPOSURES + cat.other_exposures)
        + 1.0
        + EXTRA_VISITS
        + float(cat.pop @ (cat.inquiry_p + cat.cart_p + cat.favorite_p)),
    )
    n_chunks = math.ceil(n_events / chunk_rows)
    with (
        pq.ParquetWriter(path, _EVENTS_SCHEMA) as event_writer,
        pq.ParquetWriter(orders_parquet_path(path), _ORDERS_SCHEMA) as order_writer,
    ):
        for k in range(n_chunks):
            target = min(chunk_rows, n_events - k * chunk_rows)
            events, orders = large.chunk(k / n_chunks, (k + 1) / n_chunks, target)
            event_writer.write_table(events, row_group_size=_ROW_GROUP)
            order_writer.write_table(orders, row_group_size=_ROW_GROUP)
    return path
