"""Visitor value, refunds, decomposition, repurchase and cohorts against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shopmetrics as sm
from shopmetrics.report.labels import label
from shopmetrics.visitor_value import cohorts, repurchase


@pytest.fixture(scope="module")
def small() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=5, days=28, products=15, visitors_per_day=300, traps=False)


def test_visitor_value_is_conversion_times_aov(small: sm.datasets.Store) -> None:
    t = sm.visitor_value(small.events, small.orders, by="source", freq="W").to_pandas()
    ok = t["paid_buyers"] > 0
    np.testing.assert_allclose(
        t.loc[ok, "visitor_value"], t.loc[ok, "payment_conversion"] * t.loc[ok, "aov"], rtol=1e-12
    )
    # and the definition: paid amount / visitors
    np.testing.assert_allclose(t["visitor_value"], t["paid_amount"] / t["visitors"], rtol=1e-12)


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefghij"), st.integers(0, 3), st.floats(1, 500)),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=30, deadline=None)
def test_visitor_value_matches_groupby_on_random_tables(rows: list[tuple[str, int, float]]) -> None:
    visitors = sorted({r[0] for r in rows})
    events = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-11-16 09:00"),
            "visitor_id": visitors,
            "event": "visit",
            "source": "search",
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "buyer_id": [r[0] for r in rows],
            "created_at": [
                pd.Timestamp("2026-11-16 10:00") + pd.Timedelta(days=r[1]) for r in rows
            ],
            "paid_at": [pd.Timestamp("2026-11-16 10:05") + pd.Timedelta(days=r[1]) for r in rows],
            "amount": [round(r[2], 2) for r in rows],
        }
    )
    with sm.config_context(confidence=0.95):
        t = sm.visitor_value(events, orders, freq="W").to_pandas().set_index("period")
    # the reference: pandas groupby on the raw tables, per ISO week of payment
    iso = orders["paid_at"].dt.isocalendar()
    orders["period"] = [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]
    per_buyer = orders.groupby(["period", "buyer_id"])["amount"].sum()
    assert sorted(t.index) == sorted(orders["period"].unique())
    for period, amounts in per_buyer.groupby(level="period"):
        row = t.loc[period]
        total = amounts.sum()
        assert row["paid_amount"] == pytest.approx(total)
        assert row["paid_buyers"] == len(amounts)
        assert row["paid_orders"] == (orders["period"] == period).sum()
        assert row["aov"] == pytest.approx(total / len(amounts))
        n = len(visitors) if period == "2026-W47" else 0  # every visit is on 2026-11-16
        assert row["visitors"] == n
        if n < 2:  # no visitors: no visitor value; one: no interval
            assert np.isnan(row["visitor_value"]) == (n == 0)
            continue
        y = np.zeros(n)  # each visitor's paid amount in the week, 0 for non-buyers
        y[: len(amounts)] = amounts.to_numpy()
        # the delta-method interval of log(mean), mapped back (issue 18: skewed amounts)
        se = y.std(ddof=1) / np.sqrt(n)
        factor = np.exp(1.959963984540054 * se / y.mean())
        assert row["visitor_value"] == pytest.approx(y.mean())
        assert row["payment_conversion"] == pytest.approx(len(amounts) / n)
        assert row["visitor_value_ci_low"] == pytest.approx(y.mean() / factor, abs=1e-9)
        assert row["visitor_value_ci_high"] == pytest.approx(y.mean() * factor)


def test_aov_interval_against_bootstrap(small: sm.datasets.Store) -> None:
    # second implementation: bootstrap the mean spend per paying buyer
    res = sm.visitor_value(small.events, small.orders).to_pandas().iloc[0]
    paid = small.orders[small.orders["paid_at"].notna()]
    per_buyer = paid.groupby("buyer_id")["amount"].sum().to_numpy()
    rng = np.random.default_rng(0)
    boot = rng.choice(per_buyer, size=(3000, len(per_buyer))).mean(axis=1)
    half = (res["aov_ci_high"] - res["aov_ci_low"]) / 2
    assert half == pytest.approx(1.959964 * boot.std(ddof=1), rel=0.1)
    assert res["aov"] == pytest.approx(per_buyer.mean())


def test_refund_rate_worked_example() -> None:
    # metric dictionary, refund rate: (10 + 15) / (125 + 112) = 10.5% (936227.com example):
    # two products with 125 and 112 paid sub-orders in the last 30 days, 10 and 15 refunded.
    n1, n2 = 125, 112
    paid_at = pd.Timestamp("2026-11-10 12:00")
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n1 + n2)],
            "buyer_id": [f"b{i}" for i in range(n1 + n2)],
            "product_id": ["p1"] * n1 + ["p2"] * n2,
            "created_at": paid_at - pd.Timedelta(minutes=5),
            "paid_at": paid_at,
            "amount": 10.0,
            "refund_amount": [10.0] * 10 + [0.0] * (n1 - 10) + [10.0] * 15 + [0.0] * (n2 - 15),
            "refunded_at": [pd.Timestamp("2026-11-12")] * 10
            + [pd.NaT] * (n1 - 10)
            + [pd.Timestamp("2026-11-13")] * 15
            + [pd.NaT] * (n2 - 15),
        }
    )
    events = pd.DataFrame(
        {"ts": paid_at - pd.Timedelta(hours=1), "visitor_id": orders["buyer_id"], "event": "visit"}
    )
    t = sm.visitor_value(events, orders, freq="W").to_pandas()
    assert t["refund_rate_30d"].iloc[0] == pytest.approx(25 / 237)
    assert round(float(t["refund_rate_30d"].iloc[0]), 3) == 0.105
    assert t["visitor_value_net"].iloc[0] == pytest.approx((2370 - 250) / 237)


def test_decomposition_adds_up(small: sm.datasets.Store) -> None:
    res = sm.visitor_value(small.events, small.orders, by="source", freq="W")
    periods = sorted(res.table["period"].unique())
    d = res.decompose(periods[-1], periods[-2])
    assert d.attrs["base"] == "visitors"
    groups = d[~d["source"].isin(["(total)", "(overlap)"])]
    np.testing.assert_allclose(
        groups["dlog_visitor_value"], groups["dlog_conv"] + groups["dlog_aov"], rtol=1e-9
    )
    total = d[d["source"] == "(total)"].iloc[0]
    overlap = d[d["source"] == "(overlap)"].iloc[0]
    assert total["mix_effect"] + total["rate_effect"] + total["overlap_effect"] == pytest.approx(
        total["visitor_value_cur"] - total["visitor_value_prev"]
    )
    # the source visits' value (visitor-weighted mean of the groups: Σ visitors·vv /
    # Σ visitors) and the overlap line add up to the store's
    cur = res.table[res.table["period"] == periods[-1]]
    pairs = (cur["visitors"] * cur["visitor_value"]).sum() / cur["visitors"].sum()
    assert total["visitor_value_cur"] - overlap["visitor_value_cur"] == pytest.approx(pairs)
    # and the visitors: the groups' sum less those counted in several = the distinct count
    assert groups["visitors_cur"].sum() + overlap["visitors_cur"] == total["visitors_cur"]
    assert overlap["visitors_cur"] < 0  # the demo's visitors come through several sources


def test_decomposition_total_is_the_headline(store: sm.datasets.Store) -> None:
    # the headline by hand: paid amount of the week / its distinct visitors (pandas on the
    # demo store's events and orders, ISO weeks)
    def week(ts: pd.Series) -> pd.Series:
        iso = ts.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)

    visits = store.events[store.events["event"] == "visit"]
    paid = store.orders[store.orders["paid_at"].notna()]
    visitors = visits.groupby(week(visits["ts"]))["visitor_id"].nunique()
    amount = paid.groupby(week(paid["paid_at"]))["amount"].sum()
    buyers = paid.groupby(week(paid["paid_at"]))["buyer_id"].nunique()
    prev, cur = "2026-W46", "2026-W47"
    for by in ("source", "product_id"):
        d = sm.visitor_value(store.events, store.orders, by=by, freq="W", detect=False).decompose(
            cur, prev
        )
        assert d.attrs["base"] == "visitors"
        total = d[d[by] == "(total)"].iloc[0]
        for side, p in (("prev", prev), ("cur", cur)):
            assert total[f"visitor_value_{side}"] == pytest.approx(
                amount[p] / visitors[p], rel=1e-9
            )
            assert total[f"visitors_{side}"] == visitors[p]
            assert total[f"payment_conversion_{side}"] == pytest.approx(buyers[p] / visitors[p])
        want = amount[cur] / visitors[cur] - amount[prev] / visitors[prev]
        parts = total["mix_effect"] + total["rate_effect"] + total["overlap_effect"]
        assert parts == pytest.approx(want, rel=1e-9)


def test_decomposition_without_distinct_counts_says_its_base(store: sm.datasets.Store) -> None:
    # a daily product export has no visitor ids: the store's distinct visitors are unknown,
    # the total is that of the product visits (a visitor counted once per product)
    vv = sm.visitor_value(
        traffic=store.traffic, orders=store.orders, by="product_id", freq="W", detect=False
    )
    d = vv.decompose("2026-W47", "2026-W46")
    assert d.attrs["base"] == "source_visits"
    assert "(overlap)" not in set(d["product_id"])
    cur = vv.table[vv.table["period"] == "2026-W47"]
    total = d[d["product_id"] == "(total)"].iloc[0]
    assert total["visitors_cur"] == cur["visitors"].sum()
    assert total["visitor_value_cur"] == pytest.approx(
        cur["paid_amount"].sum() / cur["visitors"].sum()
    )
    # the base has words in both languages (the report shows them)
    assert "counted once per source" in label(d.attrs["base"])
    assert label(d.attrs["base"], "zh") == "来源访客 (每个来源各计一次)"


def test_repurchase_by_old_buyer_rule() -> None:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "buyer_id": ["a", "a", "b", "c", "c"],
            "created_at": pd.to_datetime(
                ["2025-12-01", "2026-11-05", "2026-11-06", "2025-10-01", "2026-11-07"]
            ),
            "paid_at": pd.to_datetime(
                ["2025-12-01", "2026-11-05", "2026-11-06", "2025-10-01", "2026-11-07"]
            ),
            "amount": [10.0, 20.0, 30.0, 5.0, 50.0],
        }
    )
    t = repurchase(orders, freq="M").set_index("period")
    nov = t.loc["2026-11"]
    # paid in Nov 2026: a, b, c. Paid within 365 days before 2026-11-01: a (2025-12-01);
    # c's earlier purchase (2025-10-01) is 396 days before, so c is not an old buyer.
    assert nov["paid_buyers"] == 3
    assert nov["old_buyers"] == 1
    assert nov["repurchase_rate"] == pytest.approx(1 / 3)
    assert nov["returning_share"] == pytest.approx(20 / 100)


def test_cohort_table() -> None:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "buyer_id": ["a", "a", "b", "b"],
            "created_at": pd.to_datetime(["2026-09-03", "2026-11-05", "2026-10-06", "2026-10-20"]),
            "paid_at": pd.to_datetime(["2026-09-03", "2026-11-05", "2026-10-06", "2026-10-20"]),
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    )
    c = cohorts(orders)
    rows = {(r.cohort, r.months_since): (r.buyers, r.revenue) for r in c.itertuples()}
    assert rows == {("2026-09", 0): (1, 10.0), ("2026-09", 2): (1, 20.0), ("2026-10", 0): (1, 35.0)}


def test_flags_refunds_dominant_buyer_and_cents() -> None:
    n = 30
    events = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-11-16 08:00"),
            "visitor_id": [f"b{i}" for i in range(n)],
            "event": "visit",
        }
    )
    amounts = [100.0] * (n - 1) + [10_000_00.0]  # one buyer in cents: 1,000,000
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "buyer_id": [f"b{i}" for i in range(n)],
            "created_at": pd.Timestamp("2026-11-16 09:00"),
            "paid_at": pd.Timestamp("2026-11-16 09:01"),
            "amount": amounts,
            "refund_amount": [0.0] * (n - 1) + [10_000_00.0],
            "refunded_at": [pd.NaT] * (n - 1) + [pd.Timestamp("2026-11-18")],
        }
    )
    codes = {f.code for f in sm.visitor_value(events, orders, freq="W").flags}
    assert {"refund_inflated", "single_buyer_dominates", "currency_units"} <= codes
    clean = orders.assign(amount=100.0, refund_amount=0.0, refunded_at=pd.NaT)
    codes = {f.code for f in sm.visitor_value(events, clean, freq="W").flags}
    assert not codes & {"refund_inflated", "single_buyer_dominates", "currency_units"}


def test_spend_and_margin(small: sm.datasets.Store) -> None:
    # orders without a cost column: the store-wide margin given is the profit of every line
    # (changed for issue 19: with costs on the lines, their own cost comes first)
    no_cost = small.orders.drop(columns=["cost"])
    t = sm.visitor_value(small.events, no_cost, spend=small.spend, margin=0.3).to_pandas().iloc[0]
    cost = small.spend["cost"].sum()
    assert t["cost"] == pytest.approx(cost)
    assert t["visitor_cost"] == pytest.approx(cost / t["visitors"])
    assert t["visitor_profit"] == pytest.approx(t["visitor_value"] * 0.3 - t["visitor_cost"])


def test_net_visitor_value_interval_is_the_mean_over_visitors_of_net_spend() -> None:
    """Reference: statsmodels' standard error of a mean (DescrStatsW.std_mean) over
    every visitor's spend net of refunds, built by pandas from the raw rows (a buyer's
    orders summed first; 0 for a visitor who did not buy)."""
    from statsmodels.stats.weightstats import DescrStatsW

    from tests.test_compare import _clustered_two_weeks

    events, orders = _clustered_two_weeks(8)
    t = sm.visitor_value(events, orders, by="source").to_pandas().set_index("source")
    net = (
        (orders["amount"] - orders["refund_amount"])
        .groupby([orders["source"], orders["buyer_id"]])
        .sum()
    )
    visitors = events.groupby("source")["visitor_id"].nunique()
    for src in ("search", "display"):
        y = net.loc[src].to_numpy()
        y = np.concatenate([y, np.zeros(visitors[src] - len(y))])
        d = DescrStatsW(y)
        factor = np.exp(1.959963984540054 * d.std_mean / d.mean)  # log scale, mapped back
        lo, hi = d.mean / factor, d.mean * factor
        row = t.loc[src]
        assert row["visitor_value_net"] == pytest.approx(y.mean(), rel=1e-12)
        assert row["visitor_value_net_ci_low"] == pytest.approx(lo, rel=1e-9)
        assert row["visitor_value_net_ci_high"] == pytest.approx(hi, rel=1e-9)


def _weekly_buyers() -> pd.DataFrame:
    """Orders from 2026-01-05 (a Monday): buyer b{i} pays every week, a new buyer n{w} each week."""
    rows = []
    for w in range(8):
        day = pd.Timestamp("2026-01-05 10:00") + pd.Timedelta(weeks=w)
        rows += [(f"o{w}-{i}", f"1{i:04d}", day + pd.Timedelta(hours=i), 10.0) for i in range(3)]
        rows.append((f"o{w}-n", f"9{w:04d}", day + pd.Timedelta(hours=5), 40.0))
    t = pd.DataFrame(rows, columns=["order_id", "buyer_id", "paid_at", "amount"])
    return t.assign(created_at=t["paid_at"])


def test_repurchase_refuses_periods_its_lookback_cannot_cover() -> None:
    orders = _weekly_buyers()
    t = repurchase(orders, freq="W", lookback_days=28).set_index("period")
    # W02 starts on the first day of the orders: 0 of 28 days of history; W06 (2026-02-02)
    # has 28 days before it (2026-01-05 .. 2026-02-01) and is the first week that can be known
    assert t["history_days"].tolist() == [0, 7, 14, 21, 28, 28, 28, 28]
    unknown = ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert t.loc[unknown, "repurchase_rate"].isna().all()
    assert t.loc[unknown, "returning_share"].isna().all()
    # by hand: the 3 weekly buyers are old, the week's new buyer is not: 3 / 4; 30 / 70
    assert t.loc["2026-W06", "repurchase_rate"] == pytest.approx(3 / 4)
    assert t.loc["2026-W06", "returning_share"] == pytest.approx(30 / 70)
    (flag,) = repurchase(orders, freq="W", lookback_days=28).attrs["flags"]
    assert flag.code == "short_history"
    assert flag.subject["period"] == unknown
    assert "2026-W02, 2026-W03, 2026-W04, 2026-W05" in flag.message
    # the old default: a 365-day look-back on 8 weeks of orders knows no week at all
    assert repurchase(orders, freq="W")["repurchase_rate"].isna().all()


def test_repurchase_with_a_declared_history_start() -> None:
    # the shop opened on 2026-01-05: nobody bought before, so every week is known
    t = repurchase(_weekly_buyers(), freq="W", lookback_days=28, history_start="2026-01-05")
    assert t["history_coverage"].eq(1.0).all()
    assert t["repurchase_rate"].iloc[0] == pytest.approx(0.0)
    assert t["repurchase_rate"].iloc[1] == pytest.approx(3 / 4)
    assert "flags" not in t.attrs
    # and min_history=0 keeps the lower bounds
    lower = repurchase(_weekly_buyers(), freq="W", lookback_days=28, min_history=0)
    assert lower["repurchase_rate"].iloc[1] == pytest.approx(3 / 4)


def test_cohorts_say_how_much_history_each_cohort_has() -> None:
    c = cohorts(_weekly_buyers(), new_buyer_days=28)
    first = c[(c["cohort"] == "2026-01") & (c["months_since"] == 0)].iloc[0]
    # 2026-01: orders begin 2026-01-05, no day before; February: 27 days of January
    assert first["history_days"] == 0
    feb = c[(c["cohort"] == "2026-02") & (c["months_since"] == 0)].iloc[0]
    assert feb["history_days"] == 27
    assert feb["history_coverage"] == pytest.approx(27 / 28)
    # last paid 2026-02-23 15:00: February seen from day 1 to 22 days 15 hours of 28 days
    assert feb["month_coverage"] == pytest.approx((22 + 15 / 24) / 28)
    # January seen from 2026-01-05 10:00 to its end: 26 days 14 hours of 31
    assert first["month_coverage"] == pytest.approx((26 + 14 / 24) / 31)
    (flag,) = c.attrs["flags"]
    assert flag.code == "short_history"
    assert flag.subject["cohort"] == ["2026-01", "2026-02"]
    assert cohorts(_weekly_buyers(), history_start="2025-01-01").attrs == {}


def test_profit_from_own_cost_then_product_margin_then_store_margin() -> None:
    """Planted: P1's lines carry their cost (margin 40%), P2 has no cost but a margin of 20%
    given, P3 neither (the store-wide 50% given is its fallback). By hand, per product:
    P1 2 x 100 - 2 x 60 = 80; P2 150 x 0.2 = 30; P3 50 x 0.5 = 25."""
    ts = pd.Timestamp("2026-11-16 10:00")
    events = pd.DataFrame(
        {
            "ts": [ts + pd.Timedelta(minutes=i) for i in range(10)],
            "visitor_id": [str(90_000 + i) for i in range(10)],
            "event": "visit",
            "product_id": ["P1"] * 4 + ["P2"] * 4 + ["P3"] * 2,
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "buyer_id": ["90000", "90001", "90004", "90008"],
            "created_at": ts + pd.Timedelta(hours=1),
            "paid_at": ts + pd.Timedelta(hours=2),
            "amount": [100.0, 100.0, 150.0, 50.0],
            "cost": [60.0, 60.0, None, None],
            "product_id": ["P1", "P1", "P2", "P3"],
        }
    )
    margins = {"P2": 0.2}
    got = sm.visitor_value(events, orders, by="product_id", margin=margins, detect=False)
    t = got.to_pandas().set_index("product_id")
    # P3: no cost, no margin of its own: the margin of the lines with a cost (40%), stated
    assert t["gross_profit"].to_dict() == pytest.approx({"P1": 80.0, "P2": 30.0, "P3": 20.0})
    # with a store-wide fallback for P3: 25 over its 2 visitors; P1 80 over 4 visitors
    both = sm.visitor_value(events, orders, by="product_id", margin=0.5, detect=False).to_pandas()
    b = both.set_index("product_id")
    assert b.loc["P1", "visitor_profit"] == pytest.approx(80.0 / 4)
    assert b.loc["P3", "gross_profit"] == pytest.approx(25.0)
    assert b.loc["P2", "gross_profit"] == pytest.approx(75.0)  # 150 x 0.5: no margin of its own
    note = next(n for n in got.audit.notes if n.startswith("visitor_profit"))
    assert "50.0% of the paid amount from the orders' own cost" in note
    assert "37.5% from the per-product margins given" in note
    assert "12.5% from the store-wide margin 40.0% (the lines with a cost), a fallback" in note
    # no cost column and no store-wide margin: P3's profit is unknown, and said to be
    bare = sm.visitor_value(
        events, orders.drop(columns=["cost"]), by="product_id", margin={"P1": 0.4}, detect=False
    )
    assert np.isnan(bare.to_pandas().set_index("product_id").loc["P3", "gross_profit"])
    assert any("without a cost or a margin: their profit is unknown" in n for n in bare.audit.notes)
    # no margin at all: the lines with a cost give the store-wide fallback, 40%, stated
    own = sm.visitor_value(events, orders, by="product_id", detect=False)
    o = own.to_pandas().set_index("product_id")
    assert o.loc["P2", "gross_profit"] == pytest.approx(150.0 * 0.4)
    assert any(
        "store-wide margin 40.0% (the lines with a cost), a fallback" in n for n in own.audit.notes
    )


def test_per_product_profit_on_the_demo_store(store: sm.datasets.Store) -> None:
    """Each product's profit is its own lines' amount - cost (pandas by hand), not the
    store-wide margin times its paid amount."""
    t = sm.visitor_value(store.events, store.orders, by="product_id", detect=False).to_pandas()
    paid = store.orders[store.orders["paid_at"].notna()]
    want = (paid["amount"] - paid["cost"]).groupby(paid["product_id"]).sum()
    got = t.set_index("product_id")["gross_profit"]
    np.testing.assert_allclose(got.reindex(want.index), want, rtol=1e-9)
    margins = (want / paid.groupby("product_id")["amount"].sum()).dropna()
    assert margins.max() - margins.min() > 0.2  # products differ: a store margin would be wrong
