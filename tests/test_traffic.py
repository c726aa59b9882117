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
