"""Traffic sources: honest shares, spend ratios named right, flags and advice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm


@pytest.fixture(scope="module")
def small() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=11, days=14, products=15, visitors_per_day=400, traps=False)


def test_visitor_shares_are_honest(small: sm.datasets.Store) -> None:
    res = sm.traffic_sources(small.events, small.orders, small.spend, attribution="recorded")
    t = res.to_pandas()
    dedup = small.events.query("event == 'visit'")["visitor_id"].nunique()
    assert res.meta["dedup_visitors"] == {"all": dedup}
    per_source = small.events.query("event == 'visit'").groupby("source")["visitor_id"].nunique()
    np.testing.assert_allclose(t.set_index("source")["visitor_share"], per_source / dedup)
    assert t["visitor_share"].sum() > 1  # a visitor reached through two sources counts in both
    assert any("shares add to more than 100%" in n for n in res.audit.notes)


def test_spend_ratios_by_hand(small: sm.datasets.Store) -> None:
    t = (
        sm.traffic_sources(small.events, small.orders, small.spend, attribution="recorded")
        .to_pandas()
        .set_index("source")
    )
    spend = small.spend.groupby("source")[["cost", "clicks", "exposures"]].sum()
    paid = small.orders[small.orders["paid_at"].notna()]
    amount = paid.groupby("source")["amount"].sum()
    buyers = paid.groupby("source")["buyer_id"].nunique()
    for src in spend.index:
        row = t.loc[src]
        assert row["cost"] == pytest.approx(spend.loc[src, "cost"])
        assert row["cpc"] == pytest.approx(spend.loc[src, "cost"] / spend.loc[src, "clicks"])
        assert row["cpm"] == pytest.approx(
            1000 * spend.loc[src, "cost"] / spend.loc[src, "exposures"]
        )
        assert row["roas"] == pytest.approx(amount.loc[src] / spend.loc[src, "cost"])
        assert row["cpa"] == pytest.approx(spend.loc[src, "cost"] / buyers.loc[src])
        assert row["roas_ci_low"] <= row["roas"] <= row["roas_ci_high"]
        # roi from the orders' cost column: (gross profit - spend) / spend
        profit = (paid["amount"] - paid["cost"]).groupby(paid["source"]).sum().loc[src]
        assert row["roi"] == pytest.approx(
            (profit - spend.loc[src, "cost"]) / spend.loc[src, "cost"]
        )


def test_roi_needs_margin(small: sm.datasets.Store) -> None:
    orders = small.orders.drop(columns=["cost"])
    no_margin = sm.traffic_sources(
        small.events, orders, small.spend, attribution="recorded"
    ).to_pandas()
    assert "roi" not in no_margin.columns
    t = sm.traffic_sources(
        small.events, orders, small.spend, attribution="recorded", margin=0.4
    ).to_pandas()
    paid = t[t["cost"] > 0]
    np.testing.assert_allclose(
        paid["roi"], (paid["attributed_amount"] * 0.4 - paid["cost"]) / paid["cost"]
    )


def test_spend_without_traffic_flagged(small: sm.datasets.Store) -> None:
    spend = pd.concat(
        [
            small.spend,
            pd.DataFrame(
                {
                    "date": [pd.Timestamp("2026-09-29")],
                    "source": ["tiktok_ads"],
                    "campaign": ["x"],
                    "keyword": [None],
                    "cost": [99.0],
                    "exposures": [10],
                    "clicks": [1],
                }
            ),
        ],
        ignore_index=True,
    )
    res = sm.traffic_sources(small.events, small.orders, spend, attribution="recorded")
    codes = {f.code for f in res.flags}
    assert "spend_without_traffic" in codes
    assert "spend_without_traffic" not in {
        f.code
        for f in sm.traffic_sources(
            small.events, small.orders, small.spend, attribution="recorded"
        ).flags
    }


def test_free_vs_paid_split(small: sm.datasets.Store) -> None:
    res = sm.traffic_sources(
        small.events, small.orders, small.spend, attribution="recorded", freq="W"
    )
    split = res.free_vs_paid()
    assert set(split["kind"]) == {"free", "paid"}
    t = res.to_pandas()
    paid_cost = t[t["source"].isin(["paid_search", "display"])].groupby("period")["cost"].sum()
    np.testing.assert_allclose(
        split[split["kind"] == "paid"].set_index("period")["cost"], paid_cost
    )


def test_campaign_advice_only_with_enough_clicks(small: sm.datasets.Store) -> None:
    paid_events = small.events[small.events["source"].isin(["paid_search", "display"])]
    paid_orders = small.orders[small.orders["source"].isin(["paid_search", "display"])]
    orders = paid_orders.merge(
        paid_events.query("event == 'visit'")
        .sort_values("ts")
        .groupby("visitor_id")["campaign"]
        .last(),
        left_on="buyer_id",
        right_index=True,
        how="left",
    )
    orders = orders[orders["campaign"].notna()]
    spend = small.spend.groupby(["date", "source", "campaign"], as_index=False)[
        ["cost", "exposures", "clicks"]
    ].sum()
    t = sm.traffic_sources(
        paid_events, orders, spend, by=("source", "campaign"), attribution="recorded", min_clicks=50
    ).to_pandas()
    assert set(t["advice"]) <= {"raise", "hold", "cut", "too few clicks", ""}
    few = t["spend_clicks"] < 50
    assert (t.loc[few, "advice"] == "too few clicks").all()
    assert (t.loc[~few & t["roas"].notna(), "advice"].isin(["raise", "hold", "cut"])).all()


def test_by_must_start_with_source(small: sm.datasets.Store) -> None:
    with pytest.raises(sm.SchemaError, match="groups by source first"):
        sm.traffic_sources(small.events, by="product_id")
    with pytest.raises(sm.DefinitionError, match="attribution"):
        sm.traffic_sources(small.events, small.orders, attribution="last_touch")


def test_roi_column_that_is_roas_is_flagged(small: sm.datasets.Store) -> None:
    spend = small.spend.copy()
    spend["sales"] = spend["cost"] * 2.5
    spend["ROI"] = spend["sales"] / spend["cost"]  # what a back-end labels "ROI"
    res = sm.traffic_sources(small.events, small.orders, spend, attribution="recorded")
    flag = next(f for f in res.flags if f.code == "roas_named_roi")
    assert flag.column == "ROI"
    honest = spend.assign(
        ROI=(spend["sales"] * 0.3 - spend["cost"]) / spend["cost"]
    )  # profit / cost
    res = sm.traffic_sources(small.events, small.orders, honest, attribution="recorded")
    assert "roas_named_roi" not in {f.code for f in res.flags}


def test_paid_vs_free_line() -> None:
    from shopmetrics.traffic import _growth_line

    split = pd.DataFrame(
        {
            "period": ["W1", "W1", "W2", "W2"],
            "kind": ["free", "paid", "free", "paid"],
            "visitors": [1000, 200, 900, 400],
        }
    )
    line = _growth_line(split)
    assert "paid visitors changed +100.0% and free visitors -10.0%" in line
    assert "not a causal finding" in line
    both_up = split.assign(visitors=[1000, 200, 1100, 400])
    assert "causal" not in _growth_line(both_up)


# ---------------------------------------------------------------- plans and keywords


def _last_click_by_hand(events: pd.DataFrame, orders: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Paid amount per ``keys`` credited to the last touch, read from the rule in pandas:
    a touch is a session's first visit / click per (source, campaign / keyword); an order's
    touches are its buyer's in the 7 days up to it and after the buyer's previous order;
    the last by (time, source, keyword) gets the order's whole amount."""
    ev = events[events["event"].isin(["visit", "click"])].copy()
    for k in keys:
        ev[k] = ev[k].fillna("")
    touches = ev.groupby(["visitor_id", "session_id", *keys], as_index=False)["ts"].min()
    paid = orders[orders["paid_at"].notna()]
    od = paid.groupby("order_id").agg(
        buyer_id=("buyer_id", "first"), created=("created_at", "min"), value=("amount", "sum")
    )
    credit: dict[tuple[str, ...], float] = {}
    by_buyer = dict(tuple(touches.groupby("visitor_id")))
    for buyer, its in od.groupby("buyer_id"):
        times = sorted(its["created"].unique())
        for _, o in its.iterrows():
            earlier = [t for t in times if t < o["created"]]
            t = by_buyer.get(buyer)
            if t is None:
                continue
            ok = (t["ts"] <= o["created"]) & (t["ts"] >= o["created"] - pd.Timedelta(days=7))
            if earlier:
                ok &= t["ts"] > earlier[-1]
            cand = t[ok].sort_values(["ts", *keys])
            if len(cand):
                last = tuple(cand.iloc[-1][keys])
                credit[last] = credit.get(last, 0.0) + float(o["value"])
    out = pd.Series(credit)
    out.index.names = keys
    return out


def test_roas_by_keyword_agrees_with_a_hand_computation(small: sm.datasets.Store) -> None:
    """Orders credited to the keyword of the last touch; ROAS = that amount over the spend
    report's cost of the keyword — both computed here from the raw tables."""
    t = sm.traffic_sources(
        small.events, small.orders, small.spend, by=["source", "keyword"]
    ).to_pandas()
    amount = _last_click_by_hand(small.events, small.orders, ["source", "keyword"])
    cost = (
        small.spend.assign(keyword=small.spend["keyword"].fillna(""))
        .groupby(["source", "keyword"])["cost"]
        .sum()
    )
    got = t.assign(keyword=t["keyword"].fillna("")).set_index(["source", "keyword"])
    paid_kw = cost.index[cost.index.get_level_values("keyword") != ""]
    assert len(paid_kw) >= 10
    for key in cost.index:
        assert got.loc[key, "attributed_amount"] == pytest.approx(amount.get(key, 0.0)), key
        assert got.loc[key, "roas"] == pytest.approx(amount.get(key, 0.0) / cost[key]), key
    # a real interval at keyword level wherever a keyword has buyers
    sold = t[(t["cost"] > 0) & (t["attributed_buyers"] > 0)]
    assert (sold["roas_ci_low"] < sold["roas"]).all()
    assert (sold["roas"] < sold["roas_ci_high"]).all()
    # organic search keywords are credited too, with no cost
    organic = amount[amount.index.get_level_values("source") == "search"]
    for key, value in organic.items():
        assert got.loc[key, "attributed_amount"] == pytest.approx(value)
        assert got.loc[key, "cost"] == 0


def test_rows_of_a_source_carry_its_own_totals(small: sm.datasets.Store) -> None:
    """By campaign: no "(all)" row, no NaN visitors, no cost 0 beside a source's buyers; a
    source without campaigns has one row with its own visitors, buyers and cost; the
    campaigns of a source add up to its orders; no plan is left without its buyers."""
    by_source = sm.traffic_sources(small.events, small.orders, small.spend).to_pandas()
    t = sm.traffic_sources(
        small.events, small.orders, small.spend, by=["source", "campaign"]
    ).to_pandas()
    assert "(all)" not in set(t["campaign"].dropna())
    assert t["visitors"].notna().all()
    src = by_source.set_index("source")
    for source, rows in t.groupby("source"):
        assert rows["attributed_orders"].sum() == pytest.approx(
            src.loc[source, "attributed_orders"]
        )
        assert rows["cost"].sum() == pytest.approx(src.loc[source, "cost"])
        if rows["campaign"].isna().all():
            assert len(rows) == 1
            assert rows["visitors"].iloc[0] == src.loc[source, "visitors"]
    plans = t[t["cost"] > 0]
    assert set(plans["campaign"]) == set(small.spend["campaign"])
    assert (plans["attributed_buyers"] > 0).all()
    assert (plans["roas_ci_low"] < plans["roas"]).all()
    assert (plans["roas"] < plans["roas_ci_high"]).all()


def test_keywords_ranked_by_shrunk_roas() -> None:
    """A 30-click keyword with a lucky sale does not top the list: normal-normal empirical
    Bayes toward the source's ROAS, τ² by DerSimonian-Laird (statsmodels' combine_effects
    as the reference), each keyword's variance n σ² / cost² from the pooled per-visitor
    variance."""
    from statsmodels.stats.meta_analysis import combine_effects

    from shopmetrics import traffic_ratios

    rng = np.random.default_rng(3)
    n = np.array([30.0, 900, 1200, 1500, 800, 1100])
    p = np.array([0.04, 0.02, 0.03, 0.05, 0.07, 0.08])  # keywords truly differ
    cost = 0.5 * n
    rows = []
    for i, ni in enumerate(n):
        buyers = 2 if i == 0 else rng.binomial(int(ni), p[i])
        amounts = rng.lognormal(4, 0.6, size=buyers)
        rows.append(
            {
                "source": "paid_search",
                "keyword": f"kw{i}",
                "period": "all",
                "visitors": ni,
                "attributed_amount": amounts.sum(),
                "attributed_amount_sq": (amounts**2).sum(),
                "cost": cost[i],
                "spend_clicks": ni,
            }
        )
    table = pd.DataFrame(rows)
    a, qq = table["attributed_amount"].to_numpy(), table["attributed_amount_sq"].to_numpy()
    raw = a / cost
    assert raw.argmax() == 0  # the lucky keyword tops the raw ROAS
    got = traffic_ratios.shrunk_roas(table.copy())
    sigma2 = (qq - a**2 / n).sum() / (n.sum() - len(n))
    v = n * sigma2 / cost**2
    tau2 = max(combine_effects(raw, v, method_re="dl").tau2, 0.0)  # DL truncates at 0
    assert tau2 > 0
    mu = a.sum() / cost.sum()
    want = mu + tau2 / (v + tau2) * (raw - mu)
    np.testing.assert_allclose(got["roas_shrunk"], want, rtol=1e-9)
    assert got.loc[0, "roas_rank"] > 1
    assert got["roas_rank"].tolist() == (pd.Series(-want).rank(method="first")).tolist()


def test_free_vs_paid_counts_distinct_visitors(small: sm.datasets.Store) -> None:
    """Free and paid visitors per week are distinct counts (a visitor of two free sources
    counts once), not sums of the sources' unique visitors."""
    res = sm.traffic_sources(small.events, small.orders, small.spend, freq="W")
    split = res.free_vs_paid().set_index(["period", "kind"])
    visits = small.events[small.events["event"] == "visit"].copy()
    visits["kind"] = np.where(visits["source"].isin(["paid_search", "display"]), "paid", "free")
    week = visits["ts"].dt.isocalendar()
    visits["period"] = week["year"].astype(str) + "-W" + week["week"].astype(str).str.zfill(2)
    distinct = visits.groupby(["period", "kind"])["visitor_id"].nunique()
    summed = res.to_pandas().groupby(["period", "is_paid"])["visitors"].sum()
    for (period, kind), n in distinct.items():
        assert split.loc[(period, kind), "visitors"] == n
    assert (summed.to_numpy() > distinct.to_numpy()).any()  # the sum would overcount


def test_free_vs_paid_buyers_are_distinct_under_recorded(small: sm.datasets.Store) -> None:
    res = sm.traffic_sources(
        small.events, small.orders, small.spend, attribution="recorded", freq="W"
    )
    split = res.free_vs_paid().set_index(["period", "kind"])
    paid = small.orders[small.orders["paid_at"].notna()].copy()
    paid["kind"] = np.where(paid["source"].isin(["paid_search", "display"]), "paid", "free")
    week = paid["paid_at"].dt.isocalendar()
    paid["period"] = week["year"].astype(str) + "-W" + week["week"].astype(str).str.zfill(2)
    for (period, kind), n in paid.groupby(["period", "kind"])["buyer_id"].nunique().items():
        assert split.loc[(period, kind), "attributed_buyers"] == n


def test_one_attribution_pass_whatever_the_periods(small: sm.datasets.Store) -> None:
    """freq="D" collects as often as freq="W" (one attribution, split by period), and its
    periods add up to the whole range's credit."""
    from shopmetrics import engine

    spies = {}
    tables = {}
    for freq in ("W", "D", None):
        with engine.collect_spy() as spy:
            tables[freq] = sm.traffic_sources(
                small.events, small.orders, small.spend, freq=freq
            ).to_pandas()
        spies[freq] = spy
    assert len(spies["D"]) == len(spies["W"])
    assert sum(1 for what, _ in spies["D"] if what == "attribution:touches") == 1
    whole = tables[None].set_index("source")
    for freq in ("W", "D"):
        per = tables[freq].groupby("source")[["attributed_orders", "attributed_amount"]].sum()
        np.testing.assert_allclose(
            per["attributed_orders"], whole.loc[per.index, "attributed_orders"]
        )
        np.testing.assert_allclose(
            per["attributed_amount"], whole.loc[per.index, "attributed_amount"]
        )


def test_profit_per_product_from_costs_and_margins(small: sm.datasets.Store) -> None:
    """Profit from each line's own cost; a margin mapping for the lines without one; the
    store-wide margin only as the stated fallback."""
    orders = small.orders.copy()
    no_cost = orders["product_id"].isin(["P001", "P002", "P003"])
    orders.loc[no_cost, "cost"] = np.nan
    margins = {"P001": 0.5, "P002": 0.2, "P003": 0.6}
    res = sm.traffic_sources(
        small.events, orders, small.spend, attribution="recorded", margin=margins
    )
    t = res.to_pandas().set_index("source")
    paid = orders[orders["paid_at"].notna()]
    line = np.where(
        paid["cost"].notna(),
        paid["amount"] - paid["cost"],
        paid["amount"] * paid["product_id"].map(margins),
    )
    profit = pd.Series(line, index=paid.index).groupby(paid["source"]).sum()
    for src in ("paid_search", "display"):
        assert t.loc[src, "attributed_profit"] == pytest.approx(profit[src])
    assert any("own cost" in n and "margin={product" in n for n in res.audit.notes)
    # without the mapping: the store-wide margin of the lines that have a cost, stated
    fallback = sm.traffic_sources(small.events, orders, small.spend, attribution="recorded")
    with_cost = paid[paid["cost"].notna()]
    store = 1 - with_cost["cost"].sum() / with_cost["amount"].sum()
    line = np.where(paid["cost"].notna(), paid["amount"] - paid["cost"], paid["amount"] * store)
    profit = pd.Series(line, index=paid.index).groupby(paid["source"]).sum()
    ft = fallback.to_pandas().set_index("source")
    assert ft.loc["display", "attributed_profit"] == pytest.approx(profit["display"])
    assert any("store-wide margin" in n and "fallback" in n for n in fallback.audit.notes)


def test_modelled_profit_is_the_credited_orders_own(small: sm.datasets.Store) -> None:
    """Under last click a source's profit is that of the orders credited to it (not its
    amount times the store's margin)."""
    t = sm.traffic_sources(small.events, small.orders, small.spend).to_pandas()
    paid = small.orders[small.orders["paid_at"].notna()]
    per_order = (paid["amount"] - paid["cost"]).groupby(paid["order_id"]).sum()
    res = sm.attribute(events=small.events, orders=paid)
    cr = res.order_credits()
    want = (cr["credit"] * cr["order_id"].map(per_order)).groupby(cr["channel"]).sum()
    got = t.set_index("source")["attributed_profit"]
    for src, v in want.items():
        assert got[src] == pytest.approx(v)


def test_touches_without_a_campaign_of_a_source_that_has_some(small: sm.datasets.Store) -> None:
    """Part of paid search's events lose their campaign: those touches keep their orders
    for (paid_search, no campaign), and the audit says that row has no unique visitors."""
    events = small.events.copy()
    lost = (events["source"] == "paid_search") & (events["visitor_id"].str[-1] == "7")
    events.loc[lost, "campaign"] = None
    res = sm.traffic_sources(events, small.orders, small.spend, by=["source", "campaign"])
    t = res.to_pandas()
    whole = sm.traffic_sources(events, small.orders, small.spend).to_pandas().set_index("source")
    ps = t[t["source"] == "paid_search"]
    loose = ps[ps["campaign"].isna()]
    assert len(loose) == 1
    assert loose["attributed_orders"].iloc[0] > 0
    assert ps["attributed_orders"].sum() == pytest.approx(
        whole.loc["paid_search", "attributed_orders"]
    )
    assert any("no visitors of their own" in n and "paid_search" in n for n in res.audit.notes)
