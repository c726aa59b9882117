"""The build of the demo store: :func:`make_store`.

How the store is built and what its traps are is told in :mod:`shopmetrics.datasets`;
``_base_store`` builds the trap-free store and ``_Build`` plants the traps and turns the
arrays into the :class:`~shopmetrics.datasets.records.Store`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from shopmetrics.datasets import activities as _act
from shopmetrics.datasets.arrays import (
    _Catalog,
    _concat,
    _Events,
    _Expansion,
    _Ids,
    _Orders,
    _Ratings,
    _Sessions,
    _take,
)
from shopmetrics.datasets.large import orders_parquet_path, write_events_parquet
from shopmetrics.datasets.params import (
    BOT_IDS,
    BOT_PRODUCT,
    BRUSH_BUYERS,
    BRUSH_EACH,
    BRUSH_PRODUCT,
    CAMPAIGNS,
    DAY,
    DISPLAY,
    HOUR,
    NA,
    PRESALE_PRODUCT,
    SEARCH,
    SOURCES,
    TZ,
    VISIT,
    ZZ_CROWD,
)
from shopmetrics.datasets.ratings import _history, _rate_orders
from shopmetrics.datasets.records import Store, Trap
from shopmetrics.datasets.repeat import _repeat_sessions
from shopmetrics.datasets.simulate import _base_sessions, _catalog, _expand, _settle
from shopmetrics.datasets.tables import (
    _ORDER_ADD,
    _ORDER_MULT,
    _ORDER_SPACE,
    _events_table,
    _id_strings,
    _last_visit_source,
    _orders_table,
    _pandas,
    _peers,
    _ratings_frame,
    _spend,
    _time_order,
    _traffic,
    _truth,
    _visitor_list,
    _visitor_numbers,
)
from shopmetrics.datasets.traps import _bot_events, _brushing, _mix_sessions, _presale

__all__ = [  # the public names stay importable from here too
    "TZ",
    "Store",
    "Trap",
    "make_store",
    "orders_parquet_path",
    "write_events_parquet",
]

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
    "activities",
)


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
    activity_table: pd.DataFrame | None = None
    activity_truth: pd.DataFrame | None = None

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

    def plant_activities(self, exclude: set[int]) -> None:
        """The 聚划算 (lift, dip, lower-quality buyers) and the member day (no effect)."""
        rng, cat, horizon = self.rngs["activities"], self.cat, self.horizon
        member, first, last = _act.activity_days(self.days)
        products = _act.pick_products(self.sessions, cat.n, exclude)
        extra = _act.lift_sessions(
            rng, cat, self.sessions, products, (first, last), self.days, self.ids
        )
        expansion = _expand(extra, cat, rng)
        lines = _take(expansion.lines, np.flatnonzero(expansion.lines.created < horizon))
        orders = _act.more_refunds(rng, _settle(lines, cat, rng, horizon, self.ids), horizon)
        lost = _act.dip_orders(rng, self.orders[0], products, (last + 1, last + _act.DIP_DAYS))
        base = self.orders[0]
        removed = _take(base, np.flatnonzero(np.isin(base.order, lost)))
        self.orders[0] = _take(base, np.flatnonzero(~np.isin(base.order, lost)))
        for i, r in enumerate(self.ratings):
            self.ratings[i] = _take(r, np.flatnonzero(r.historical | ~np.isin(r.order, lost)))
        self.session_parts.append(extra)
        self.events.append(expansion.events)
        self.orders.append(orders)
        self.ratings.append(_rate_orders(orders, _act.lower_item_scores(cat), rng, horizon))
        self.batches.append((extra, expansion))
        day = self.moment
        labels = [cat.labels[p] for p in products]
        self.activity_table = pd.DataFrame(
            [
                {"name": "会员日", "kind": "member_day", "start": day(member * DAY).date(),
                 "end": day(member * DAY).date(), "products": "", "fee": 0.0,
                 "discount": 0.0, "extra_spend": _act.MEMBER_DAY_COST},
                {"name": "聚划算", "kind": "juhuasuan", "start": day(first * DAY).date(),
                 "end": day(last * DAY).date(), "products": ",".join(labels),
                 "fee": _act.FEE, "discount": _act.DISCOUNT, "extra_spend": 0.0},
            ]
        )  # fmt: skip
        self.activity_truth = _act.truth(
            cat, products, orders, removed, extra, (member, first, last)
        )

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
            truth=self._truth(),
            traps=tuple(sorted(self.traps, key=lambda t: (t.start, t.code))),
            tz=TZ,
            start=start,
            end=start + pd.Timedelta(days=self.days),
            activities=self.activity_table,
        )

    def _truth(self) -> dict[str, pd.DataFrame]:
        truth = _truth(self.cat, self.presale_product, repeat=self.repeat)
        if self.activity_truth is not None:
            truth["activities"] = self.activity_truth
        return truth


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
    activities: bool = False,
) -> Store:
    """Build the demo store.

    Args:
        seed: Seed of every random stream; the same seed gives the same store.
        days: Length of the period in days (the default is 8 ISO weeks).
        products: Number of products (``P001``, ``P002``, ...).
        visitors_per_day: Distinct visitors with a visit on an average day (before
            weekday effects and traps).
        start: First day, naive store-local (a Monday keeps weeks aligned to ISO weeks).
        traps: Plant the traps described in :mod:`shopmetrics.datasets` (those that fit).
        repeat_purchases: Let every paying buyer come back under the BG/NBD and
            Gamma-Gamma stories (parameters in ``truth["repeat"]``; see
            :mod:`shopmetrics.datasets`), for customer-value work on a long store such
            as ``days=364``.
            Off by default: the default store is the one the guides print.
        activities: Plant a 聚划算 (a known lift, a pull-forward dip, buyers who refund
            and rate worse) and a store-wide 会员日 with no effect, listed in
            ``store.activities`` with what was planted in ``truth["activities"]`` (needs
            ``days >= 42``; see :mod:`shopmetrics.datasets.activities`). Off by default.

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
    if activities:
        if days < 42:
            msg = f"activities=True needs days >= 42 (six weeks of history and after); got {days}"
            raise ValueError(msg)
        build.plant_activities({presale, brushing, bot})
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
