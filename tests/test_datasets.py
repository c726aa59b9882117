"""Tests of the demo store generator: shape, internal consistency and the planted traps."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from shopmetrics.datasets import (
    Store,
    Trap,
    make_store,
    orders_parquet_path,
    write_events_parquet,
)

SMALL = {"days": 56, "products": 30, "visitors_per_day": 250}

COLUMNS = {
    "events": {
        "ts": "time",
        "visitor_id": "str",
        "event": "str",
        "product_id": "str",
        "source": "str",
        "session_id": "str",
        "device": "str",
        "campaign": "str",
        "keyword": "str",
    },
    "orders": {
        "order_id": "str",
        "buyer_id": "str",
        "created_at": "time",
        "paid_at": "time",
        "amount": "float",
        "product_id": "str",
        "source": "str",
        "quantity": "int",
        "status": "str",
        "is_presale": "bool",
        "deposit_paid_at": "time",
        "refund_amount": "float",
        "refunded_at": "time",
        "cost": "float",
    },
    "ratings": {
        "order_id": "str",
        "buyer_id": "str",
        "rated_at": "time",
        "item_score": "Int64",
        "service_score": "Int64",
        "logistics_score": "Int64",
        "trade_success_at": "time",
        "product_id": "str",
        "carrier": "str",
        "region": "str",
    },
    "spend": {
        "date": "time",
        "source": "str",
        "campaign": "str",
        "keyword": "str",
        "cost": "float",
        "exposures": "int",
        "clicks": "int",
    },
    "traffic": {
        "date": "time",
        "product_id": "str",
        "exposures": "int",
        "clicks": "int",
        "visitors": "int",
        "page_views": "int",
        "inquirers": "int",
        "carters": "int",
        "favoriters": "int",
    },
    "peers": {"tier": "str", "metric": "str", "peer_avg": "float", "peer_top10": "float"},
}
PAID_SOURCES = ("paid_search", "display")
SCORES = ["item_score", "service_score", "logistics_score"]


def _kind_ok(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "time":
        return isinstance(dtype, np.dtype) and dtype.kind == "M"  # naive datetime64
    if kind == "str":
        values = series.dropna().head(10_000)
        return pd.api.types.is_string_dtype(dtype) and values.map(type).eq(str).all()
    if kind == "Int64":
        return str(dtype) == "Int64"
    if kind == "int":
        return isinstance(dtype, np.dtype) and dtype.kind == "i"
    if kind == "float":
        return isinstance(dtype, np.dtype) and dtype.kind == "f"
    if kind == "bool":
        return isinstance(dtype, np.dtype) and dtype.kind == "b"
    raise AssertionError(kind)


def _day(frame: pd.DataFrame, column: str, day: pd.Timestamp) -> pd.DataFrame:
    return _between(frame, column, day, day + pd.Timedelta(days=1))


def _between(frame: pd.DataFrame, column: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    return frame[(frame[column] >= lo) & (frame[column] < hi)]


@pytest.fixture(scope="module")
def small() -> Store:
    return make_store(seed=7, **SMALL)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_store(small: Store) -> None:
    again = make_store(seed=7, **SMALL)
    for name, frame in small.tables().items():
        pd.testing.assert_frame_equal(frame, again.tables()[name], obj=name)
    pd.testing.assert_frame_equal(small.dsr_peers, again.dsr_peers)
    for name, frame in small.truth.items():
        pd.testing.assert_frame_equal(frame, again.truth[name], obj=name)
    assert small.traps == again.traps


def test_other_seed_other_store(small: Store) -> None:
    other = make_store(seed=8, **SMALL)
    assert not small.events.head(1000).equals(other.events.head(1000))
    assert not small.orders["amount"].equals(other.orders["amount"])
    assert not small.truth["products"].equals(other.truth["products"])


def test_traps_do_not_change_the_base_data(store: Store, clean_store: Store) -> None:
    # before the last week the only differences are the bot burst and the tracking gap;
    # trap sessions (bots, the display push) have session ids of their own
    gap = store.trap("tracking_gap")
    last_week = store.end - pd.Timedelta(days=7)
    base_sessions = clean_store.events["session_id"].unique()

    def base_events(s: Store) -> pd.DataFrame:
        e = s.events
        keep = (e["ts"] < last_week) & ~e["ts"].between(gap.start, gap.end, inclusive="left")
        return e[keep & e["session_id"].isin(base_sessions)].reset_index(drop=True)

    trapped, clean = base_events(store), base_events(clean_store)
    assert len(trapped) == len(clean) > 1_000_000
    for column in clean.columns:  # Series.equals: fast on Arrow-backed strings
        assert trapped[column].equals(clean[column]), column

    brushers = store.trap("order_brushing").subject["buyer_ids"].split(",")

    def base_orders(s: Store) -> pd.DataFrame:
        o = s.orders
        return o[(o["created_at"] < last_week) & ~o["buyer_id"].isin(brushers)].reset_index(
            drop=True
        )

    pd.testing.assert_frame_equal(base_orders(store), base_orders(clean_store))


# --------------------------------------------------------------------------- shape


def test_store_record(store: Store) -> None:
    assert set(store.tables()) == {"events", "orders", "ratings", "spend", "traffic", "peers"}
    assert store.tz == "Asia/Shanghai"
    assert store.start == pd.Timestamp("2026-09-28")
    assert store.end == pd.Timestamp("2026-11-23")
    assert store.start.isocalendar()[1:] == (40, 1)
    text = repr(store)
    assert "events=" in text
    assert "order_brushing" in text
    assert len(text) < 400


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_and_dtypes(store: Store, table: str) -> None:
    frame = store.tables()[table]
    assert list(frame.columns) == list(COLUMNS[table])
    for column, kind in COLUMNS[table].items():
        assert _kind_ok(frame[column], kind), (table, column, frame[column].dtype)


def test_dsr_peers_and_truth(store: Store) -> None:
    assert list(store.dsr_peers["dimension"]) == ["item", "service", "logistics"]
    assert (store.dsr_peers["peer_min"] < store.dsr_peers["peer_avg"]).all()
    assert (store.dsr_peers["peer_avg"] < store.dsr_peers["peer_max"]).all()
    products = store.truth["products"]
    assert list(products.columns) == [
        "product_id",
        "category",
        "price",
        "is_presale",
        "true_ctr",
        "true_payment_conversion",
    ]
    assert len(products) == 200
    assert products["product_id"].iloc[[0, -1]].tolist() == ["P001", "P200"]
    assert products["true_ctr"].between(0.02, 0.06).all()
    assert products["true_payment_conversion"].between(0.01, 0.05).all()
    sources = store.truth["sources"].set_index("source")
    assert set(sources.index) == {"search", "recommend", "shop", "paid_search", "display"}
    assert sources.loc[list(PAID_SOURCES), "is_paid"].all()
    assert (
        sources.loc["paid_search", "conversion_multiplier"]
        > sources.loc["display", "conversion_multiplier"]
    )


def test_size_and_period(store: Store) -> None:
    e = store.events
    assert 1_000_000 < len(e) < 4_000_000
    assert e["ts"].min() >= store.start
    assert e["ts"].max() < store.end
    assert e["ts"].is_monotonic_increasing
    assert (store.orders["created_at"] < store.end).all()
    assert (store.orders["paid_at"].dropna() < store.end).all()


def test_event_values(store: Store) -> None:
    e = store.events
    assert set(e["event"].unique()) == {"exposure", "click", "visit", "inquiry", "cart", "favorite"}
    assert set(e["source"].unique()) == {"search", "recommend", "shop", "paid_search", "display"}
    assert set(e["device"].unique()) == {"mobile", "pc"}
    assert pd.Series(e["visitor_id"].unique()).str.fullmatch(r"v\d{7}").all()
    assert pd.Series(e["product_id"].unique()).str.fullmatch(r"P\d{3}").all()
    paid = e["source"].isin(PAID_SOURCES)
    assert e["campaign"].notna().eq(paid).all()
    assert e["keyword"].notna().eq(e["source"].isin(["search", "paid_search"])).all()
    assert set(e.loc[e["source"] == "display", "campaign"]) == {"zz_retarget", "zz_crowd"}
    assert set(e.loc[e["source"] == "paid_search", "campaign"]) == {"ztc_brand", "ztc_generic"}
    assert not ((e["source"] == "shop") & e["event"].isin(["exposure", "click"])).any()


def test_funnel_rates_are_plausible(clean_store: Store) -> None:
    e, o = clean_store.events, clean_store.orders
    counts = e["event"].value_counts()
    assert 0.02 < counts["click"] / counts["exposure"] < 0.06
    assert counts["visit"] >= counts["click"]
    visits = e[e["event"] == "visit"]
    daily = visits.groupby(visits["ts"].dt.normalize())["visitor_id"].nunique()
    assert 1300 < daily.mean() < 1700
    visitors = visits["visitor_id"].nunique()
    paid_buyers = o.loc[o["paid_at"].notna(), "buyer_id"].nunique()
    assert 0.01 < paid_buyers / visitors < 0.05
    inquirers = e.loc[e["event"] == "inquiry", "visitor_id"].nunique()
    assert 0.03 < inquirers / visitors < 0.08
    # unique visitors per source do not add up to the total (visitors with two sources)
    per_source = visits.groupby("source")["visitor_id"].nunique().sum()
    assert per_source > visitors * 1.05
    # paid search converts better than display
    by_source = o[o["paid_at"].notna()].groupby("source")["buyer_id"].nunique()
    rate = by_source / visits.groupby("source")["visitor_id"].nunique()
    assert rate["paid_search"] > 1.5 * rate["display"]


def test_orders(store: Store) -> None:
    o = store.orders
    assert not o.duplicated(["order_id", "product_id"]).any()
    lines = o.groupby("order_id").size()
    assert (lines <= 2).all()
    assert 0.02 < (lines == 2).mean() < 0.3
    assert set(o["status"]) == {"paid", "unpaid", "refunded", "presale_deposit"}
    normal = o[~o["is_presale"]]
    unpaid_orders = normal.groupby("order_id")["paid_at"].first().isna().mean()
    assert 0.06 < unpaid_orders < 0.14
    assert (normal["status"].eq("unpaid") == normal["paid_at"].isna()).all()
    assert (normal["paid_at"].dropna() >= normal.loc[normal["paid_at"].notna(), "created_at"]).all()
    refunded = normal["refunded_at"].notna()
    assert normal.loc[refunded, "status"].eq("refunded").all()
    assert 0.02 < refunded.sum() / normal["paid_at"].notna().sum() < 0.08
    delay = normal.loc[refunded, "refunded_at"] - normal.loc[refunded, "paid_at"]
    assert delay.between(pd.Timedelta(days=1), pd.Timedelta(days=20)).all()
    assert (normal.loc[refunded, "refund_amount"] <= normal.loc[refunded, "amount"]).all()
    assert (normal.loc[~refunded, "refund_amount"] == 0).all()
    assert o["cost"].div(o["amount"]).between(0.39, 0.71).all()
    prices = store.truth["products"].set_index("product_id")["price"]
    expected = (prices.reindex(o["product_id"]).to_numpy() * o["quantity"]).round(2)
    np.testing.assert_allclose(o["amount"], expected)
    assert o.loc[~o["is_presale"], "deposit_paid_at"].isna().all()


def test_buyers_visited_what_they_bought(clean_store: Store) -> None:
    e, o = clean_store.events, clean_store.orders
    visits = e.loc[e["event"] == "visit", ["visitor_id", "product_id", "ts"]]
    first_visit = visits.groupby(["visitor_id", "product_id"])["ts"].min().rename("first")
    joined = o.join(first_visit, on=["buyer_id", "product_id"])
    assert joined["first"].notna().all()
    assert (joined["first"] <= joined["created_at"]).all()
    # the order's source is the source of the buyer's last visit before it
    last = pd.merge_asof(
        o[["created_at", "buyer_id", "source"]].sort_values("created_at"),
        visits.assign(visit_source=e.loc[visits.index, "source"]).sort_values("ts"),
        left_on="created_at",
        right_on="ts",
        left_by="buyer_id",
        right_by="visitor_id",
    )
    assert (last["source"] == last["visit_source"]).all()


def test_ratings(store: Store) -> None:
    r = store.ratings
    assert r["order_id"].is_unique
    assert (r["trade_success_at"] < r["rated_at"]).all()
    assert (r["rated_at"] - r["trade_success_at"] <= pd.Timedelta(days=15)).all()
    assert r["rated_at"].min() < store.end - pd.Timedelta(days=180)
    assert r["rated_at"].min() >= store.end - pd.Timedelta(days=240)
    assert r["rated_at"].max() < store.end
    for column in SCORES:
        assert r[column].dropna().between(1, 5).all()
        assert r[column].dropna().eq(5).mean() > 0.7
    partial = r[SCORES].isna().any(axis=1)
    assert 0.01 < partial.mean() < 0.06
    assert not r[SCORES].isna().all(axis=1).any()
    # correlated dimensions
    assert r[SCORES].astype(float).corr().min().min() > 0.2
    # one carrier with visibly worse logistics
    logistics = r.groupby("carrier")["logistics_score"].mean()
    assert logistics.idxmin() == "STO"
    assert logistics.min() < logistics.drop("STO").min() - 0.2
    # history uses synthetic ids, the period uses the orders' ids
    in_period = r["order_id"].isin(store.orders["order_id"])
    assert r.loc[~in_period, "order_id"].str.startswith("H").all()
    assert in_period.sum() > 500
    # a few buyers rate more than 3 trades in one natural month
    month = r["trade_success_at"].dt.to_period("M")
    per_month = r.groupby([r["buyer_id"], month]).size()
    assert (per_month > 3).sum() >= 3


# --------------------------------------------------------------------------- derived tables


def _traffic_by_pandas(events: pd.DataFrame) -> pd.DataFrame:
    e = events.assign(date=events["ts"].dt.normalize())
    keys = ["date", "product_id"]
    counts = e.groupby([*keys, "event"]).size().unstack(fill_value=0)
    uniques = e.groupby([*keys, "event"])["visitor_id"].nunique().unstack(fill_value=0)
    out = pd.DataFrame(
        {
            "exposures": counts.get("exposure", 0),
            "clicks": counts.get("click", 0),
            "visitors": uniques.get("visit", 0),
            "page_views": counts.get("visit", 0),
            "inquirers": uniques.get("inquiry", 0),
            "carters": uniques.get("cart", 0),
            "favoriters": uniques.get("favorite", 0),
        }
    )
    return out.astype("int64").reset_index()


def test_traffic_is_computed_from_events(small: Store) -> None:
    expected = _traffic_by_pandas(small.events)
    pd.testing.assert_frame_equal(small.traffic, expected, check_dtype=False)


def test_traffic_of_a_few_products_in_the_full_store(store: Store) -> None:
    products = ["P001", "P018", "P120"]
    events = store.events[store.events["product_id"].isin(products)]
    expected = _traffic_by_pandas(events)
    actual = store.traffic[store.traffic["product_id"].isin(products)].reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    # daily visitors are not additive: a week's visitors are fewer than the daily sum
    week = events[events["event"] == "visit"]
    assert week["visitor_id"].nunique() < actual["visitors"].sum()


def _event_counts_for_spend(events: pd.DataFrame) -> pd.DataFrame:
    e = events[events["source"].isin(PAID_SOURCES) & events["event"].isin(["exposure", "click"])]
    e = e.assign(date=e["ts"].dt.normalize(), keyword=e["keyword"].fillna("-"))
    counts = (
        e.groupby(["date", "source", "campaign", "keyword", "event"]).size().unstack(fill_value=0)
    )
    counts = counts.rename(columns={"exposure": "exposures", "click": "clicks"})
    return counts[["exposures", "clicks"]].rename_axis(columns=None)


def _spend_counts(spend: pd.DataFrame) -> pd.DataFrame:
    s = spend.assign(keyword=spend["keyword"].fillna("-"))
    return s.set_index(["date", "source", "campaign", "keyword"])[["exposures", "clicks"]]


def test_spend_matches_paid_events(clean_store: Store) -> None:
    spend = clean_store.spend
    assert set(spend["source"]) == set(PAID_SOURCES)
    assert spend.loc[spend["source"] == "display", "keyword"].isna().all()
    assert spend.loc[spend["source"] == "paid_search", "keyword"].notna().all()
    assert not spend.duplicated(["date", "source", "campaign", "keyword"]).any()
    expected = _event_counts_for_spend(clean_store.events)
    actual = _spend_counts(spend)
    pd.testing.assert_frame_equal(actual.sort_index(), expected.sort_index(), check_dtype=False)
    cpc = spend["cost"].sum() / spend["clicks"].sum()
    assert 0.3 < cpc < 3.0
    assert (spend["date"] == spend["date"].dt.normalize()).all()


def test_spend_disagrees_with_events_only_on_the_gap_day(store: Store) -> None:
    gap = store.trap("tracking_gap")
    expected = _event_counts_for_spend(store.events).add_suffix("_events")
    actual = _spend_counts(store.spend)
    joined = actual.join(expected, how="outer").fillna(0)
    differs = (joined["exposures"] != joined["exposures_events"]) | (
        joined["clicks"] != joined["clicks_events"]
    )
    assert set(joined.index[differs].get_level_values("date")) == {gap.start}
    assert actual.sort_index().loc[gap.start, "clicks"].sum() > 100


# --------------------------------------------------------------------------- traps


def test_trap_records(store: Store) -> None:
    assert [t.code for t in store.traps] == [
        "tracking_gap",
        "bot_traffic",
        "order_brushing",
        "mix_shift",
        "presale_zero_payment",
    ]
    expected = {
        "tracking_gap": ("2026-10-27", "2026-10-28"),
        "bot_traffic": ("2026-11-04 03:00", "2026-11-04 04:30"),
        "order_brushing": ("2026-11-12 01:00", "2026-11-12 02:00"),
        "mix_shift": ("2026-11-16", "2026-11-23"),
        "presale_zero_payment": ("2026-11-16", "2026-11-23"),
    }
    for trap in store.traps:
        assert isinstance(trap, Trap)
        assert (trap.start, trap.end) == tuple(map(pd.Timestamp, expected[trap.code]))
        assert trap.description
        assert all(isinstance(v, str) for v in trap.subject.values())
    assert store.trap("presale_zero_payment").subject == {"product_id": "P007"}
    assert store.trap("bot_traffic").subject["product_id"] == "P018"
    assert store.trap("order_brushing").subject["product_id"] == "P013"
    with pytest.raises(KeyError, match="nope"):
        store.trap("nope")


def test_clean_store_has_no_traps(clean_store: Store) -> None:
    assert clean_store.traps == ()
    assert not clean_store.orders["is_presale"].any()
    assert not clean_store.truth["products"]["is_presale"].any()
    assert clean_store.orders["source"].notna().all()


def test_presale_zero_payment(store: Store, clean_store: Store) -> None:
    trap = store.trap("presale_zero_payment")
    product = trap.subject["product_id"]
    truth = store.truth["products"].set_index("product_id")["is_presale"]
    assert truth[truth].index.tolist() == [product]
    o = store.orders[store.orders["product_id"] == product]
    week = _between(o, "created_at", trap.start, trap.end)
    before = o[o["created_at"] < trap.start]
    assert len(week) >= 15
    assert len(week) > 3 * len(before) / 7  # many orders vs an ordinary week
    assert week["is_presale"].all()
    assert week["paid_at"].isna().all()
    assert set(week["status"]) <= {"presale_deposit", "unpaid"}
    deposits = week[week["status"] == "presale_deposit"]
    assert deposits["deposit_paid_at"].notna().all()
    assert (deposits["deposit_paid_at"] >= deposits["created_at"]).all()
    assert len(deposits) > 0.8 * len(week)
    assert not before["is_presale"].any()
    assert before["paid_at"].notna().any()
    # its visitors are as usual
    e = store.events
    visits = e[(e["product_id"] == product) & (e["event"] == "visit")]
    last = _between(visits, "ts", trap.start, trap.end)["visitor_id"].nunique()
    prior = _between(visits, "ts", trap.start - pd.Timedelta(days=7), trap.start)
    assert 0.6 < last / prior["visitor_id"].nunique() < 1.6
    assert not clean_store.orders["is_presale"].any()


def test_bot_traffic(store: Store, clean_store: Store) -> None:
    trap = store.trap("bot_traffic")
    bots = trap.subject["visitor_ids"].split(",")
    assert len(bots) == 20
    e = store.events
    bot_events = e[e["visitor_id"].isin(bots)]
    assert len(bot_events) > 1000
    assert set(bot_events["event"]) == {"exposure", "click", "visit"}
    assert set(bot_events["product_id"]) == {trap.subject["product_id"]}
    assert set(bot_events["source"]) == {trap.subject["source"]}
    assert bot_events["ts"].min() >= trap.start
    assert bot_events["ts"].max() < trap.end
    assert trap.end - trap.start <= pd.Timedelta(hours=2)
    day_visits = _day(e, "ts", trap.start.normalize())
    day_visits = day_visits[day_visits["event"] == "visit"]
    share = day_visits["visitor_id"].isin(bots).mean()
    assert 0.1 <= share <= 0.2
    clicks = (bot_events["event"] == "click").sum()
    assert clicks / (bot_events["event"] == "exposure").sum() > 0.25  # nothing like 2-6%
    assert not store.orders["buyer_id"].isin(bots).any()
    assert not clean_store.events["visitor_id"].isin(bots).any()


def test_order_brushing(store: Store, clean_store: Store) -> None:
    trap = store.trap("order_brushing")
    buyers = trap.subject["buyer_ids"].split(",")
    assert len(buyers) == 10
    o = store.orders[store.orders["buyer_id"].isin(buyers)]
    assert len(o) == 30
    assert o.groupby("buyer_id").size().eq(3).all()
    assert set(o["product_id"]) == {trap.subject["product_id"]}
    assert o["created_at"].min() >= trap.start
    assert o["created_at"].max() < trap.end
    assert ((o["paid_at"] - o["created_at"]) <= pd.Timedelta(minutes=1)).all()
    assert o["source"].isna().all()
    assert not store.events["visitor_id"].isin(buyers).any()
    r = store.ratings[store.ratings["order_id"].isin(o["order_id"])]
    assert len(r) == 30
    assert (r[SCORES] == 5).all().all()
    created = o.set_index("order_id")["created_at"].reindex(r["order_id"]).to_numpy()
    assert ((r["rated_at"].to_numpy() - created) < pd.Timedelta(days=1)).all()
    assert not clean_store.orders["buyer_id"].isin(buyers).any()


def test_tracking_gap(store: Store, clean_store: Store) -> None:
    trap = store.trap("tracking_gap")
    day = trap.start
    assert trap.end - trap.start == pd.Timedelta(days=1)
    assert _day(store.events, "ts", day).empty
    assert not (store.traffic["date"] == day).any()
    orders = _day(store.orders, "created_at", day)
    ordinary = store.orders.groupby(store.orders["created_at"].dt.normalize()).size().median()
    assert len(orders) > 0.5 * ordinary
    assert orders["source"].notna().all()  # the platform still knows where buyers came from
    assert len(_day(clean_store.events, "ts", day)) > 10_000


def _week_by_source(store: Store, lo: pd.Timestamp) -> pd.DataFrame:
    hi = lo + pd.Timedelta(days=7)
    e = _between(store.events, "ts", lo, hi)
    visits = e[e["event"] == "visit"]
    presale = store.truth["products"].query("is_presale")["product_id"]
    paid = _between(store.orders, "paid_at", lo, hi)
    paid = paid[~paid["product_id"].isin(presale)]
    out = pd.DataFrame(
        {
            "visitors": visits.groupby("source")["visitor_id"].nunique(),
            "buyers": paid.groupby("source")["buyer_id"].nunique(),
        }
    )
    out.attrs["visitors"] = visits["visitor_id"].nunique()
    out.attrs["buyers"] = paid["buyer_id"].nunique()
    return out


def test_mix_shift(store: Store) -> None:
    trap = store.trap("mix_shift")
    assert trap.subject["source"] == "display"
    w46 = _week_by_source(store, trap.start - pd.Timedelta(days=7))
    w47 = _week_by_source(store, trap.start)
    share46 = w46.loc["display", "visitors"] / w46.attrs["visitors"]
    share47 = w47.loc["display", "visitors"] / w47.attrs["visitors"]
    assert share46 < 0.15
    assert share47 > 0.3
    # every source converts as before (two-proportion z-test) ...
    p46, p47 = w46["buyers"] / w46["visitors"], w47["buyers"] / w47["visitors"]
    pooled = (w46["buyers"] + w47["buyers"]) / (w46["visitors"] + w47["visitors"])
    se = np.sqrt(pooled * (1 - pooled) * (1 / w46["visitors"] + 1 / w47["visitors"]))
    z = (p47 - p46) / se
    assert z.abs().max() < 3, z.round(2).to_dict()
    # ... while the store's conversion falls because display converts worst
    assert p46.idxmin() == "display"
    store46 = w46.attrs["buyers"] / w46.attrs["visitors"]
    store47 = w47.attrs["buyers"] / w47.attrs["visitors"]
    assert store47 < 0.9 * store46


def test_short_periods_keep_the_traps_that_fit() -> None:
    two_weeks = make_store(seed=1, days=14, products=20, visitors_per_day=200)
    assert [t.code for t in two_weeks.traps] == [
        "order_brushing",
        "mix_shift",
        "presale_zero_payment",
    ]
    one_week = make_store(seed=1, days=7, products=5, visitors_per_day=100)
    assert [t.code for t in one_week.traps] == ["presale_zero_payment"]
    assert one_week.trap("presale_zero_payment").subject == {"product_id": "P005"}


@pytest.mark.parametrize(
    "kwargs",
    [{"days": 0}, {"products": 0}, {"visitors_per_day": 0}, {"start": "2026-09-28 00:00+08:00"}],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must be positive|naive store-local"):
        make_store(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- large files


def test_write_events_parquet_round_trip(tmp_path: pathlib.Path) -> None:
    n = 25_000
    path = write_events_parquet(
        tmp_path / "events.parquet", n, seed=3, products=50, chunk_rows=6_000
    )
    assert path == tmp_path / "events.parquet"
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == n
    assert meta.num_row_groups == math.ceil(n / 6_000)
    events = pq.read_table(path).to_pandas()
    assert list(events.columns) == list(COLUMNS["events"])
    assert events["ts"].is_monotonic_increasing
    assert events["ts"].between(pd.Timestamp("2026-09-28"), pd.Timestamp("2026-11-23")).all()
    assert set(events["event"]) == {"exposure", "click", "visit", "inquiry", "cart", "favorite"}
    assert events["session_id"].nunique() > 100
    orders_path = orders_parquet_path(path)
    assert orders_path == tmp_path / "events_orders.parquet"
    orders = pq.read_table(orders_path).to_pandas()
    assert list(orders.columns) == list(COLUMNS["orders"])
    assert len(orders) > 0
    assert orders["order_id"].nunique() <= len(orders)
    assert orders["buyer_id"].isin(events["visitor_id"]).all()
    # deterministic
    again = write_events_parquet(
        tmp_path / "again.parquet", n, seed=3, products=50, chunk_rows=6_000
    )
    pd.testing.assert_frame_equal(events, pq.read_table(again).to_pandas())


def test_write_events_parquet_empty(tmp_path: pathlib.Path) -> None:
    path = write_events_parquet(tmp_path / "none.parquet", 0)
    assert pq.ParquetFile(path).metadata.num_rows == 0
    assert pq.ParquetFile(orders_parquet_path(path)).metadata.num_rows == 0


def test_a_period_longer_than_the_rating_window() -> None:
    # 300 days is longer than the history the 180-day DSR window needs: no history drawn
    long = make_store(seed=0, days=300, products=20, visitors_per_day=100)
    assert long.ratings["rated_at"].min() >= long.start
    assert long.events["ts"].max() < long.end


# ---------------------------------------------------------------- repeat purchases


def _bgnbd_mean_purchases(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E[X(t)], FHL (2005) eq. (9), with scipy's Gauss hypergeometric function."""
    from scipy.special import hyp2f1

    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def test_repeat_process_follows_the_bgnbd_and_gamma_gamma() -> None:
    """The generator's repeat purchases against the models' own closed forms.

    100,000 buyers who all first paid at time 0, followed for 52 weeks: the mean number
    of repeat purchases is FHL (2005) eq. (9); the mean amount is p v / (q - 1)
    (Fader & Hardie 2013). Counts within 4 standard errors, the amount within 3%.
    """
    from shopmetrics.datasets.arrays import _Ids, _Orders, _Sessions
    from shopmetrics.datasets.params import NA, REPEAT_PARAMS, SHOP, WEEK
    from shopmetrics.datasets.repeat import _repeat_sessions

    n, weeks = 100_000, 52
    horizon = weeks * WEEK
    ints = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    orders = _Orders(
        order=ints, buyer=ints, product=zeros, source=zeros, created=zeros, paid=zeros,
        deposit=zeros, quantity=zeros + 1, amount=np.ones(n), cost=np.ones(n),
        refund_amount=np.zeros(n), refunded=zeros + NA, status=zeros,
        presale=np.zeros(n, dtype=np.bool_),
    )  # fmt: skip
    base = _Sessions(
        t0=zeros, visitor=ints, session=ints, source=zeros, device=zeros, product=zeros,
        campaign=zeros - 1, keyword=zeros - 1,
    )  # fmt: skip
    rng = np.random.default_rng(5)
    sessions, amount = _repeat_sessions(rng, orders, base, horizon, _Ids(session=n))
    par = {k: v for _, k, v, _ in REPEAT_PARAMS}
    counts = np.bincount(sessions.visitor, minlength=n)
    expected = _bgnbd_mean_purchases(par["r"], par["alpha"], par["a"], par["b"], weeks)
    assert abs(counts.mean() - expected) < 4 * counts.std() / math.sqrt(n)
    mean_amount = par["p"] * par["v"] / (par["q"] - 1)
    # amounts of one buyer are correlated: the standard error is over buyers
    per_buyer = np.bincount(sessions.visitor, weights=amount, minlength=n)
    ratio = per_buyer.sum() / counts.sum()
    assert abs(ratio - mean_amount) / mean_amount < 0.03
    assert bool((np.diff(sessions.t0) >= 0).all())
    assert bool((sessions.t0 < horizon).all())
    assert bool((sessions.source == SHOP).all())


def test_repeat_purchases_leave_the_default_store_alone() -> None:
    base = make_store(seed=4, **SMALL)
    again = make_store(seed=4, **SMALL, repeat_purchases=False)
    pd.testing.assert_frame_equal(base.orders, again.orders)
    assert "repeat" not in base.truth
    clean = make_store(seed=4, **SMALL, traps=False)
    with_repeat = make_store(seed=4, **SMALL, traps=False, repeat_purchases=True)
    assert "repeat" in with_repeat.truth
    # the base orders are kept; every repeat order comes from a buyer who had paid before
    # and is paid, unless the export ends before the payment (orders of the last hours)
    assert clean.orders.order_id.isin(with_repeat.orders.order_id).all()
    extra = with_repeat.orders[~with_repeat.orders.order_id.isin(clean.orders.order_id)]
    assert len(extra) > 0
    paid = clean.orders.dropna(subset=["paid_at"])
    first_paid = paid.groupby("buyer_id").paid_at.min()
    assert extra.buyer_id.isin(first_paid.index).all()
    assert (extra.created_at.to_numpy() > first_paid[extra.buyer_id].to_numpy()).all()
    early = extra.created_at < with_repeat.end - pd.Timedelta(hours=20)
    assert extra.paid_at[early].notna().all()


def test_one_year_store_has_hundreds_of_repeat_buyers() -> None:
    store = make_store(seed=0, days=364, products=60, visitors_per_day=200, repeat_purchases=True)
    paid = store.orders.dropna(subset=["paid_at"])
    days = paid.assign(day=paid.paid_at.dt.normalize()).groupby("buyer_id").day.nunique()
    assert (days > 1).sum() >= 300
