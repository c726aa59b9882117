"""Unique counts are never added across sources or days (issue 19).

Every public figure of visitors or buyers at a coarser grain than the groups a function
counts (the store total over sources or products, a week over its days, a month over its
weeks) is checked against a distinct count computed here, independently, in pandas on
the demo store. Where a figure can only be a sum (a daily export has no visitor ids), it
must say so with a flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm


def _week(ts: pd.Series) -> pd.Series:
    iso = ts.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m")


@pytest.fixture(scope="module")
def distinct(store: sm.datasets.Store) -> dict[str, pd.Series]:
    """Distinct visitors (with a visit) and paid buyers per week and per month, by hand."""
    visits = store.events[store.events["event"] == "visit"]
    paid = store.orders[store.orders["paid_at"].notna()]
    return {
        "visitors_W": visits.groupby(_week(visits["ts"]))["visitor_id"].nunique(),
        "visitors_M": visits.groupby(_month(visits["ts"]))["visitor_id"].nunique(),
        "paid_buyers_W": paid.groupby(_week(paid["paid_at"]))["buyer_id"].nunique(),
        "paid_buyers_M": paid.groupby(_month(paid["paid_at"]))["buyer_id"].nunique(),
    }


def _check(table: pd.DataFrame, distinct: dict[str, pd.Series], freq: str, what: str) -> None:
    t = table.set_index("period")
    for col in ("visitors", "paid_buyers"):
        if col not in t.columns:
            continue
        want = distinct[f"{col}_{freq}"].reindex(t.index).fillna(0)
        np.testing.assert_array_equal(
            t[col].to_numpy(int), want.to_numpy(int), err_msg=f"{what}: {col}"
        )


@pytest.mark.parametrize("freq", ["W", "M"])
def test_funnel_store_total_of_days(
    store: sm.datasets.Store, distinct: dict[str, pd.Series], freq: str
) -> None:
    # a week (a month) of daily scans: visitors who came on several days count once
    got = sm.funnel(store.events, store.orders, freq=freq, detect=False).to_pandas()
    _check(got, distinct, freq, f"funnel freq={freq}")
    # and the sum over days would be larger: the check can fail
    daily = sm.funnel(store.events, store.orders, freq="D", detect=False).to_pandas()
    assert daily["visitors"].sum() > got["visitors"].sum()


@pytest.mark.parametrize("by", ["source", "product_id", "device"])
def test_funnel_total_row_over_groups(
    store: sm.datasets.Store, distinct: dict[str, pd.Series], by: str
) -> None:
    got = sm.funnel(store.events, store.orders, by=by, freq="W", total=True, detect=False)
    t = got.to_pandas()
    total = t[t[by] == "(all)"]
    _check(total, distinct, "W", f"funnel by={by} (all) row")
    groups = t[t[by] != "(all)"].groupby("period")["visitors"].sum()
    assert (groups.reindex(total["period"]).to_numpy() >= total["visitors"].to_numpy()).all()


def test_visitor_value_store_total(
    store: sm.datasets.Store, distinct: dict[str, pd.Series]
) -> None:
    got = sm.visitor_value(store.events, store.orders, freq="W", detect=False).to_pandas()
    _check(got, distinct, "W", "visitor_value freq=W")


def test_repurchase_buyers_per_period(
    store: sm.datasets.Store, distinct: dict[str, pd.Series]
) -> None:
    for freq in ("W", "M"):
        got = sm.repurchase(store.orders, freq=freq, min_history=0)
        _check(got, distinct, freq, f"repurchase freq={freq}")


def test_cohort_sizes_count_each_buyer_once(store: sm.datasets.Store) -> None:
    c = sm.cohorts(store.orders)
    paid = store.orders[store.orders["paid_at"].notna()]
    assert c.loc[c["months_since"] == 0, "buyers"].sum() == paid["buyer_id"].nunique()
    # buyers per calendar month, over the cohorts: distinct buyers of that month
    c["month"] = pd.PeriodIndex(c["cohort"], freq="M") + c["months_since"]
    per_month = c.groupby(c["month"].astype(str))["buyers"].sum()
    want = paid.groupby(_month(paid["paid_at"]))["buyer_id"].nunique()
    pd.testing.assert_series_equal(per_month, want, check_names=False)


def test_experiment_units_are_distinct_visitors(store: sm.datasets.Store) -> None:
    ev = store.events.assign(image=np.where(store.events["visitor_id"].str[-1] < "5", "A", "B"))
    res = sm.ctr_test(ev, variant="image", control="A").to_pandas().iloc[0]
    exposed = ev[ev["event"] == "exposure"].groupby("image")["visitor_id"].nunique()
    assert res["visitors"] == exposed["B"]
    assert res["control_visitors"] == exposed["A"]


def test_a_daily_export_summed_over_days_says_so(store: sm.datasets.Store) -> None:
    # a 生意参谋 daily export has no visitor ids: a weekly figure from it can only be a sum
    got = sm.funnel(traffic=store.traffic, freq="W")
    assert "summed_uniques" in {f.code for f in got.flags}
