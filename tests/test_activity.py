"""Activity effects on the demo store's planted activities, and the activities table.

The truth is counted from the planted rows (``store.truth["activities"]``, see
:mod:`shopmetrics.datasets.activities`): the 聚划算 adds extra sessions whose orders are
the true incremental paid amount, loses 60% of its products' usual orders in the week
after (the true dip), refunds 25% of its orders and rates them lower; the 会员日 adds
nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.activity_table import read_activities
from shopmetrics.datasets import make_store
from shopmetrics.errors import SchemaError


@pytest.fixture(scope="module")
def store():
    return make_store(seed=0, activities=True)


@pytest.fixture(scope="module")
def result(store):
    return sm.activity_effect(store.events, store.orders, store.activities, ratings=store.ratings)


def _truth(store, window: str, arm: str, measure: str) -> float:
    t = store.truth["activities"]
    row = t[(t["activity"] == "聚划算") & (t["window"] == window) & (t["arm"] == arm)]
    return float(row[measure].iloc[0])


def _effect(result, measure: str, window: str) -> pd.Series:
    e = result.effects
    return e[
        (e["activity"] == "聚划算") & (e["measure"] == measure) & (e["window"] == window)
    ].iloc[0]


@pytest.mark.parametrize(
    ("measure", "window", "arm"),
    [
        ("paid_amount", "during", "in"),
        ("gross_profit", "during", "in"),
        ("paid_amount", "after", "in"),
        ("gross_profit", "after", "in"),
        ("paid_amount", "halo", "halo"),
    ],
)
def test_intervals_cover_the_planted_effects(store, result, measure, window, arm) -> None:
    truth = _truth(store, "during" if window == "halo" else window, arm, measure)
    e = _effect(result, measure, window)
    assert e["effect_ci_low"] <= truth <= e["effect_ci_high"], (truth, e.to_dict())


def test_the_lift_is_found_and_the_null_activity_is_not_paid(result) -> None:
    t = result.table.set_index("activity")
    assert t.loc["聚划算", "incremental_paid_amount_ci_low"] > 0  # a true lift of ¥5,973
    # the member day has no effect and costs ¥1,500: never "paid"
    assert t.loc["会员日", "verdict"] in {"did not pay", "cannot tell"}
    assert "interval of net incremental profit" in t.loc["聚划算", "verdict_basis"]
    # net = own products during + after - cost (the halo beside it)
    row = t.loc["聚划算"]
    own = row["incremental_gross_profit"] + row["after_gross_profit"] - row["cost"]
    assert row["net_incremental_profit"] == pytest.approx(own, rel=0.02, abs=60)


def test_comparison_products_estimate_agrees_with_the_truth(store, result) -> None:
    row = result.table.set_index("activity").loc["聚划算"]
    truth = _truth(store, "during", "in", "paid_amount")
    assert row["did_paid_amount_ci_low"] <= truth <= row["did_paid_amount_ci_high"]


def test_activity_buyers_refund_and_rate_worse(result) -> None:
    b = result.buyers.set_index(["activity", "group"])
    act = b.loc[("聚划算", "activity buyers")]
    # planted: 25% of the activity's order lines refunded against the store's ~6%
    assert act["refund_rate_vs_usual_ci_low"] > 0
    assert act["low_rating_share_vs_usual_ci_low"] > 0
    assert act["dsr_item_points"] < 0
    # the 30-day window of buyers of the 聚划算 (three weeks before the end) is not in the
    # data: not known, never reported as 0%
    assert pd.isna(act["repurchase_30d_rate"])
    assert act["repurchase_30d_rate_n"] == 0
    assert any("not known yet" in n for n in result.audit.notes)


def test_short_history_is_refused_overlap_flagged(store) -> None:
    acts = pd.DataFrame(
        [
            {"name": "开业促销", "kind": "other", "start": "2026-10-01", "end": "2026-10-02",
             "products": "P001", "fee": 100},
            {"name": "直播", "kind": "live_stream", "start": "2026-11-03", "end": "2026-11-04",
             "products": "P001,P002", "fee": 0},
            {"name": "淘抢购", "kind": "taoqianggou", "start": "2026-11-04", "end": "2026-11-04",
             "products": "P002", "fee": 0},
        ]
    )  # fmt: skip
    r = sm.activity_effect(None, store.orders, acts, draws=200)
    codes = {(f.code, f.severity, f.subject.get("activity")) for f in r.flags}
    assert ("activity_short_history", "error", "开业促销") in codes
    assert any(c == "activity_overlap" for c, _, _ in codes)
    row = r.table.set_index("activity").loc["开业促销"]
    assert pd.isna(row["incremental_paid_amount"])
    assert row["verdict"] == "cannot tell"


def test_presale_read_at_the_wrong_payment_date(store) -> None:
    orders = store.orders.copy()
    before = orders.copy()
    acts = [{"name": "双11预售", "kind": "presale", "start": "2026-11-09", "end": "2026-11-11",
             "products": "P005"}]  # fmt: skip
    hit = (
        (orders["product_id"] == "P005")
        & orders["created_at"].between("2026-11-09", "2026-11-12")
        & orders["paid_at"].notna()
    )
    orders.loc[hit, "deposit_paid_at"] = orders.loc[hit, "created_at"]
    orders.loc[hit, "paid_at"] = pd.Timestamp("2026-11-14 20:00")
    r = sm.activity_effect(None, orders, acts, draws=200)
    flag = next(f for f in r.flags if f.code == "activity_presale_payment_date")
    assert flag.n_rows == int(hit.sum()) > 0
    pd.testing.assert_frame_equal(store.orders, before)  # the caller's table untouched


def test_activities_table_problems_are_reported_at_once() -> None:
    bad = [
        {"name": "", "start": "2026-11-01", "end": "2026-11-02"},
        {"name": "A", "start": "2026-11-05", "end": "2026-11-02"},
        {"name": "B", "start": "not a date", "end": "2026-11-02", "fee": "abc"},
    ]
    with pytest.raises(
        SchemaError, match=r"(?s)row 0: no name.*row 1 \(A\): end.*row 2.*fee 'abc'"
    ):
        read_activities(bad)


def test_same_numbers_from_polars(store) -> None:
    pl = pytest.importorskip("polars")
    small = make_store(seed=1, products=40, visitors_per_day=300, activities=True)
    a = sm.activity_effect(small.events, small.orders, small.activities, draws=300)
    b = sm.activity_effect(
        pl.from_pandas(small.events), pl.from_pandas(small.orders), small.activities, draws=300
    )
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.buyers, b.buyers)


def test_weekly_report_has_an_activity_section_in_the_activity_week(store) -> None:
    kwargs = {"events": store.events, "orders": store.orders, "spend": store.spend}
    report = sm.weekly_report(**kwargs, week="2026-W45", activities=store.activities)
    section = next(s for s in report.sections if s.key == "activity")
    _, table = section.tables[0]
    assert table["activity"].tolist() == ["聚划算"]  # the member day (W43) is not this week
    assert "verdict" in table.columns
    later = sm.weekly_report(**kwargs, week="2026-W47", activities=store.activities)
    assert not [s for s in later.sections if s.key == "activity"]  # no activity near W47
    assert "聚划算" in report.to_markdown(lang="zh")
