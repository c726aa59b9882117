"""sm.funnel against an independent pandas computation, on every engine, plus its contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

import shopmetrics as sm

from .conftest import Constructor


@pytest.fixture(scope="module")
def small() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=3, days=14, products=12, visitors_per_day=250, traps=False)


def _week(ts: pd.Series) -> pd.Series:
    """ISO week label computed with pandas' own calendar (independent of the engine keys)."""
    iso = ts.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)


def hand_funnel(events: pd.DataFrame, orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The idiomatic pandas an analyst would write, per the metric dictionary."""
    ev = events.assign(period=_week(events["ts"]))
    keys = [*by, "period"]
    out = pd.DataFrame(index=pd.MultiIndex.from_frame(ev[keys].drop_duplicates()))
    for event, name in (("exposure", "exposures"), ("click", "clicks"), ("visit", "page_views")):
        out[name] = ev[ev["event"] == event].groupby(keys).size()
    for event, name in (
        ("visit", "visitors"),
        ("inquiry", "inquirers"),
        ("cart", "carters"),
        ("favorite", "favoriters"),
    ):
        out[name] = ev[ev["event"] == event].groupby(keys)["visitor_id"].nunique()
    created = orders.assign(period=_week(orders["created_at"]))
    paid = orders[orders["paid_at"].notna()].assign(period=_week(orders["paid_at"]))
    o = pd.DataFrame(
        {
            "order_buyers": created.groupby(keys)["buyer_id"].nunique(),
            "paid_buyers": paid.groupby(keys)["buyer_id"].nunique(),
            "paid_orders": paid.groupby(keys)["order_id"].nunique(),
            "paid_amount": paid.groupby(keys)["amount"].sum(),
        }
    )
    out = out.join(o, how="outer").fillna(0).reset_index()
    out["payment_conversion"] = out["paid_buyers"] / out["visitors"].replace(0, np.nan)
    out["aov"] = out["paid_amount"] / out["paid_buyers"].replace(0, np.nan)
    return out.sort_values(keys).reset_index(drop=True)


COUNTS = [
    "exposures",
    "clicks",
    "page_views",
    "visitors",
    "inquirers",
    "carters",
    "favoriters",
    "order_buyers",
    "paid_buyers",
    "paid_orders",
]


def test_matches_hand_computation_on_every_engine(
    small: sm.datasets.Store, constructor: Constructor, engine: str
) -> None:
    ev_before, od_before = small.events.copy(), small.orders.copy()
    got = sm.funnel(
        constructor(small.events), constructor(small.orders), by=["product_id"], freq="W"
    ).to_pandas()
    want = hand_funnel(small.events, small.orders, ["product_id"])
    got = got.sort_values(["product_id", "period"]).reset_index(drop=True)
    assert got[["product_id", "period"]].equals(want[["product_id", "period"]])
    for c in COUNTS:
        np.testing.assert_array_equal(
            got[c].to_numpy(), want[c].to_numpy().astype("int64"), err_msg=c
        )
    np.testing.assert_allclose(got["paid_amount"], want["paid_amount"], rtol=1e-12)
    np.testing.assert_allclose(got["payment_conversion"], want["payment_conversion"], rtol=1e-12)
    np.testing.assert_allclose(got["aov"], want["aov"], rtol=1e-12)
    pd.testing.assert_frame_equal(small.events, ev_before)
    pd.testing.assert_frame_equal(small.orders, od_before)


def test_demo_store_weekly_by_product(store: sm.datasets.Store) -> None:
    got = sm.funnel(
        store.events, store.orders, by=["product_id"], freq="W", detect=False
    ).to_pandas()
    want = hand_funnel(store.events, store.orders, ["product_id"])
    got = got.sort_values(["product_id", "period"]).reset_index(drop=True)
    for c in COUNTS:
        np.testing.assert_array_equal(
            got[c].to_numpy(), want[c].to_numpy().astype("int64"), err_msg=c
        )


def test_intervals_match_statsmodels(small: sm.datasets.Store) -> None:
    for method, sm_method in (("wilson", "wilson"), ("clopper-pearson", "beta")):
        t = sm.funnel(
            small.events, small.orders, by="product_id", ci_method=method, detect=False
        ).to_pandas()
        for rate, (num, den) in sm.funnel.__globals__["RATES"].items():
            if rate not in t.columns:
                continue
            ok = t[den] > 0
            lo, hi = proportion_confint(
                t.loc[ok, num], t.loc[ok, den], alpha=0.05, method=sm_method
            )
            np.testing.assert_allclose(t.loc[ok, f"{rate}_ci_low"], lo, atol=1e-10, err_msg=rate)
            np.testing.assert_allclose(t.loc[ok, f"{rate}_ci_high"], hi, atol=1e-10, err_msg=rate)


def test_total_recomputes_uniques(small: sm.datasets.Store) -> None:
    by_source = sm.funnel(
        small.events, small.orders, by="source", total=True, detect=False
    ).to_pandas()
    overall = sm.funnel(small.events, small.orders, detect=False).to_pandas()
    total_row = by_source[by_source["source"] == "(all)"].iloc[0]
    assert total_row["visitors"] == overall["visitors"].iloc[0]
    assert total_row["visitors"] == small.events.query("event == 'visit'")["visitor_id"].nunique()
    # a visitor who came through two sources counts in each: the sum overstates
    assert by_source.loc[by_source["source"] != "(all)", "visitors"].sum() > total_row["visitors"]


def test_traffic_export_gives_same_output_at_its_grain(small: sm.datasets.Store) -> None:
    from_events = sm.funnel(
        small.events, small.orders, by="product_id", freq="D", detect=False
    ).to_pandas()
    from_traffic = sm.funnel(
        traffic=small.traffic, orders=small.orders, by="product_id", freq="D"
    ).to_pandas()
    a = from_events.set_index(["product_id", "period"]).sort_index()
    b = from_traffic.set_index(["product_id", "period"]).sort_index()
    common = [c for c in a.columns if c in b.columns and c != "period_start"]
    assert {"visitors", "exposures", "payment_conversion", "aov"} <= set(common)
    assert a.index.equals(b.index)
    for c in common:
        if a[c].dtype.kind in "fi":
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), err_msg=c)


def test_summing_daily_uniques_is_flagged(small: sm.datasets.Store) -> None:
    weekly = sm.funnel(traffic=small.traffic, orders=small.orders, freq="W")
    codes = {f.code for f in weekly.flags}
    assert "summed_uniques" in codes
    true_weekly = sm.funnel(small.events, small.orders, freq="W", detect=False).to_pandas()
    assert (weekly.to_pandas()["visitors"].to_numpy() > true_weekly["visitors"].to_numpy()).all()
    daily_same_grain = sm.funnel(traffic=small.traffic, by="product_id", freq="D")
    assert "summed_uniques" not in {f.code for f in daily_same_grain.flags}


def test_columns_left_out_when_inputs_absent(small: sm.datasets.Store) -> None:
    ev = small.events[small.events["event"].isin(["visit", "exposure", "click"])]
    t = sm.funnel(ev, detect=False).to_pandas()
    assert "inquiry_rate" not in t.columns
    assert "paid_buyers" not in t.columns
    assert "ctr" in t.columns


def test_definitions(small: sm.datasets.Store) -> None:
    pooled = sm.funnel(small.events, small.orders, freq="W", detect=False)
    daily = sm.funnel(small.events, small.orders, freq="W", definition="daily_mean", detect=False)
    shop = sm.funnel(small.events, small.orders, freq="W", definition="shopify", detect=False)
    assert pooled.definition == "alibaba"
    assert daily.definition == "daily_mean"
    # hand: the mean over days of daily paid buyers / daily visitors
    d = sm.funnel(small.events, small.orders, freq="D", detect=False).to_pandas()
    d["week"] = _week(pd.to_datetime(d["period"]))
    want = d.groupby("week")["payment_conversion"].mean().to_numpy()
    np.testing.assert_allclose(daily.to_pandas()["payment_conversion"].to_numpy(), want)
    t = shop.to_pandas()
    assert {"sessions", "converting_sessions", "session_conversion"} <= set(t.columns)
    assert (t["converting_sessions"] <= t["sessions"]).all()
    with pytest.raises(sm.DefinitionError, match="Did you mean 'shopify'"):
        sm.funnel(small.events, definition="shopfy")


def test_shrinkage_and_peers(small: sm.datasets.Store, store: sm.datasets.Store) -> None:
    t = sm.funnel(
        small.events, small.orders, by="product_id", shrink=True, detect=False
    ).to_pandas()
    raw, shrunk = t["payment_conversion"], t["payment_conversion_shrunk"]
    # the prior fitted across products (its fit is checked in test_stats); every shrunk rate
    # (x + a) / (n + a + b) lies between the product's raw rate and the prior mean a / (a + b)
    from shopmetrics.stats import shrinkage

    a, b = shrinkage.fit_beta_binomial(t["paid_buyers"], t["visitors"])
    pooled = a / (a + b)
    np.testing.assert_allclose(shrunk, (t["paid_buyers"] + a) / (t["visitors"] + a + b))
    assert (
        (shrunk - np.minimum(raw, pooled) >= -1e-9) & (np.maximum(raw, pooled) - shrunk >= -1e-9)
    ).all()
    p = sm.funnel(small.events, small.orders, peers=store.peers, detect=False).to_pandas()
    avg = float(store.peers.set_index("metric").loc["payment_conversion", "peer_avg"])
    assert p["payment_conversion_peer_avg"].iloc[0] == avg
    assert p["payment_conversion_vs_peer_diff"].iloc[0] == pytest.approx(
        p["payment_conversion"].iloc[0] - avg
    )
    beyond = (avg < p["payment_conversion_ci_low"].iloc[0]) or (
        avg > p["payment_conversion_ci_high"].iloc[0]
    )
    assert bool(p["payment_conversion_beyond_ci"].iloc[0]) == beyond


def test_errors_name_the_fix(small: sm.datasets.Store) -> None:
    with pytest.raises(sm.ColumnNotFoundError, match="did you mean 'product_id'"):
        sm.funnel(small.events, by="product")
    with pytest.raises(sm.SchemaError, match=r"events= .* or traffic="):
        sm.funnel(orders=small.orders)
    with pytest.raises(sm.DefinitionError, match="freq"):
        sm.funnel(small.events, freq="Q")  # type: ignore[arg-type]


def test_audit_counts_excluded_rows(small: sm.datasets.Store) -> None:
    ev = small.events.copy()
    inside_idx = ev.index[(ev["ts"] >= "2026-10-01") & (ev["ts"] < "2026-10-08")]
    ev.loc[inside_idx[:7], "event"] = "pv"
    ev.loc[inside_idx[7:10], "visitor_id"] = None
    res = sm.funnel(ev, small.orders, start="2026-10-01", end="2026-10-08", detect=False)
    audit = res.audit.to_pandas().set_index("reason")
    assert audit.loc["rows_in", "rows"].tolist()[0] == len(ev)
    outside = ((ev["ts"] < "2026-10-01") | (ev["ts"] >= "2026-10-08")).sum()
    ev_ex = audit[audit["table"] == "events"]
    assert ev_ex.loc["outside range", "rows"] == outside
    inside = ev[(ev["ts"] >= "2026-10-01") & (ev["ts"] < "2026-10-08")]
    assert ev_ex.loc["unknown event value", "rows"] == (inside["event"] == "pv").sum() == 7
    nulls = ev_ex[ev_ex.index.str.startswith("null")]
    assert nulls["rows"].tolist() == [3]
    assert "visitor_id" in nulls.index[0]


def test_results_convert_and_display(small: sm.datasets.Store) -> None:
    res = sm.funnel(small.events, small.orders, by="source", freq="W")
    assert res.to_arrow().num_rows == len(res)
    assert res.to_polars().shape == res.to_pandas().shape
    md = res.to_markdown()
    assert "| Traffic source | Week |" in md  # labelled headers
    assert "%" in md
    assert "<table" in res._repr_html_()
    import json

    payload = json.loads(res.to_json())
    assert payload["kind"] == "funnel"
    assert len(payload["rows"]) == len(res)
    assert "FunnelResult(" in repr(res)


@given(st.permutations(list(range(40))))
@settings(max_examples=5, deadline=None)
def test_row_order_does_not_matter(perm: list[int]) -> None:
    rng = np.random.default_rng(0)
    ev = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-11-16")
            + pd.to_timedelta(rng.integers(0, 14 * 24, 40), unit="h"),
            "visitor_id": rng.choice(list("abcdefgh"), 40),
            "event": rng.choice(["visit", "exposure", "click", "cart"], 40),
            "source": rng.choice(["search", "shop"], 40),
        }
    )
    base = sm.funnel(ev, by="source", freq="W", detect=False).to_pandas()
    shuffled = sm.funnel(ev.iloc[perm], by="source", freq="W", detect=False).to_pandas()
    pd.testing.assert_frame_equal(base, shuffled)


def test_threads_give_same_numbers(small: sm.datasets.Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ref = sm.funnel(small.events, small.orders, by="source", detect=False).to_pandas()
    with ThreadPoolExecutor(4) as pool:
        outs = list(
            pool.map(
                lambda _: sm.funnel(
                    small.events, small.orders, by="source", detect=False
                ).to_pandas(),
                range(4),
            )
        )
    for o in outs:
        pd.testing.assert_frame_equal(o, ref)


def test_shopify_sessions_join_across_engines(
    small: sm.datasets.Store, constructor: Constructor
) -> None:
    # events and orders come from separate DuckDB connections / engines: they are joined anyway
    ref = sm.funnel(small.events, small.orders, definition="shopify", detect=False).to_pandas()
    got = sm.funnel(
        constructor(small.events), constructor(small.orders), definition="shopify", detect=False
    ).to_pandas()
    assert got["converting_sessions"].tolist() == ref["converting_sessions"].tolist()
    assert got["sessions"].tolist() == ref["sessions"].tolist()


def test_compare_previous_week(small: sm.datasets.Store) -> None:
    res = sm.funnel(
        small.events, small.orders, by="source", start="2026-10-05", compare="previous_week"
    )
    assert res.to_pandas()["period"].unique().tolist() == ["2026-W41"]
    comp = res.comparison
    assert (comp.meta["current"], comp.meta["previous"]) == ("2026-W41", "2026-W40")
    both = sm.funnel(small.events, small.orders, by="source", freq="W")
    assert comp.to_pandas().equals(sm.compare(both).to_pandas())
    with pytest.raises(sm.DefinitionError, match="compare"):
        sm.funnel(small.events, compare="last_year")


@pytest.mark.parametrize("freq", ["D", "M"])
def test_compare_previous_week_with_other_freq_names_the_fix(
    small: sm.datasets.Store, freq: str
) -> None:
    # it used to switch silently to weekly periods: freq was overwritten before the check
    with pytest.raises(sm.SchemaError, match=r"previous_week.*freq='W'.*previous_period"):
        sm.funnel(small.events, small.orders, freq=freq, compare="previous_week")


def test_compare_previous_period_keeps_daily_rows(small: sm.datasets.Store) -> None:
    res = sm.funnel(small.events, small.orders, freq="D", compare="previous_period")
    days = sorted(res.to_pandas()["period"].unique())
    assert len(days) > 7
    assert all(len(d) == 10 for d in days)  # 2026-10-05: days, not weeks
    assert (res.comparison.meta["current"], res.comparison.meta["previous"]) == (
        days[-1],
        days[-2],
    )


def test_traffic_export_with_order_counts(small: sm.datasets.Store) -> None:
    # an export that carries its own buyer counts works alone, and orders= replace them
    from_events = sm.funnel(
        small.events, small.orders, by="product_id", freq="D", detect=False
    ).to_pandas()
    counts = from_events[["product_id", "period_start", "paid_buyers", "paid_amount"]].rename(
        columns={"period_start": "date"}
    )
    export = small.traffic.merge(counts, on=["product_id", "date"], how="left").fillna(
        {"paid_buyers": 0, "paid_amount": 0.0}
    )
    alone = sm.funnel(traffic=export, by="product_id", freq="D", detect=False).to_pandas()
    a = alone.set_index(["product_id", "period"])["payment_conversion"]
    b = from_events.set_index(["product_id", "period"])["payment_conversion"].reindex(a.index)
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float))
    with_orders = sm.funnel(
        traffic=export.assign(paid_buyers=999),
        orders=small.orders,
        by="product_id",
        freq="D",
        detect=False,
    )
    assert (with_orders.to_pandas()["paid_buyers"] < 999).all()
    assert any("replaced by the same counts from orders" in n for n in with_orders.audit.notes)
