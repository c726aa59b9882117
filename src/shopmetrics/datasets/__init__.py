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

from shopmetrics.datasets.large import orders_parquet_path, write_events_parquet
from shopmetrics.datasets.params import TZ
from shopmetrics.datasets.records import Store, Trap
from shopmetrics.datasets.store import make_store

__all__ = [
    "TZ",
    "Store",
    "Trap",
    "make_store",
    "orders_parquet_path",
    "write_events_parquet",
]
