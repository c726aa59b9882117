"""Each misleading-data detector on data with its trap and on data without.

The demo store plants one of each trap (see ``shopmetrics.datasets``); the same store with
``traps=False`` must raise no flag but genuine small-sample notes.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.datasets import Store


@pytest.fixture(scope="module")
def flagged(store: Store) -> dict[str, sm.FunnelResult]:
    return {
        "product": sm.funnel(store.events, store.orders, by="product_id", freq="W"),
        "source": sm.funnel(store.events, store.orders, by="source", freq="W"),
    }


@pytest.fixture(scope="module")
def clean(clean_store: Store) -> dict[str, sm.FunnelResult]:
    return {
        "product": sm.funnel(clean_store.events, clean_store.orders, by="product_id", freq="W"),
        "source": sm.funnel(clean_store.events, clean_store.orders, by="source", freq="W"),
    }


def _codes(res: sm.FunnelResult) -> set[str]:
    return {f.code for f in res.flags}


def test_demo_store_flags_are_exactly_the_planted_traps(
    store: Store, flagged: dict[str, sm.FunnelResult]
) -> None:
    found = _codes(flagged["product"]) | _codes(flagged["source"])
    planted = {t.code for t in store.traps}
    assert found - {"small_sample"} == planted


def test_clean_store_raises_no_false_alarm(clean: dict[str, sm.FunnelResult]) -> None:
    assert _codes(clean["product"]) <= {"small_sample"}
    assert _codes(clean["source"]) <= {"small_sample"}


def test_presale_flag_carries_the_honest_figures(
    store: Store, flagged: dict[str, sm.FunnelResult]
) -> None:
    trap = store.trap("presale_zero_payment")
    flag = next(f for f in flagged["product"].flags if f.code == "presale_zero_payment")
    assert flag.subject == {"product_id": trap.subject["product_id"], "period": "2026-W47"}
    # independent count: deposit buyers of the product that week
    o = store.orders
    week = (o["deposit_paid_at"] >= trap.start) & (o["deposit_paid_at"] < trap.end)
    deposits = o[week & (o["product_id"] == trap.subject["product_id"])]["buyer_id"].nunique()
    assert flag.evidence["deposit_buyers"] == deposits
    assert flag.evidence["payment_conversion"] == 0
    assert flag.instead["order_conversion"] > 0.02
    assert flag.instead["deposit_conversion"] == pytest.approx(deposits / flag.evidence["visitors"])


def test_bot_flag_finds_the_bots_and_gives_rates_without_them(
    store: Store, flagged: dict[str, sm.FunnelResult]
) -> None:
    trap = store.trap("bot_traffic")
    flag = next(f for f in flagged["product"].flags if f.code == "bot_traffic")
    assert flag.subject["date"] == trap.start.date().isoformat()
    planted = set(trap.subject["visitor_ids"].split(","))
    assert flag.evidence["bot_visitors"] >= 15
    assert {e["visitor_id"] for e in flag.examples} <= planted
    assert flag.evidence["ctr_without_bots"] < flag.evidence["ctr_with_bots"]
    # independent: the day's CTR without the planted bots
    day = store.events[store.events["ts"].dt.normalize() == trap.start.normalize()]
    human = day[~day["visitor_id"].isin(planted)]
    ctr = (human["event"] == "click").sum() / (human["event"] == "exposure").sum()
    assert flag.evidence["ctr_without_bots"] == pytest.approx(ctr, rel=0.02)


def test_brushing_flag(store: Store, flagged: dict[str, sm.FunnelResult]) -> None:
    trap = store.trap("order_brushing")
    flag = next(f for f in flagged["product"].flags if f.code == "order_brushing")
    assert flag.subject["product_id"] == trap.subject["product_id"]
    assert flag.evidence["orders"] == 30
    assert flag.evidence["buyers_without_visit"] == 10
    assert set(flag.instead["exclude_buyers"]) == set(trap.subject["buyer_ids"].split(","))


def test_tracking_gap_flag(store: Store, flagged: dict[str, sm.FunnelResult]) -> None:
    trap = store.trap("tracking_gap")
    flag = next(f for f in flagged["product"].flags if f.code == "tracking_gap")
    assert flag.subject["date"] == trap.start.date().isoformat()
    assert flag.evidence["events"] == 0
    created = store.orders["created_at"]
    assert flag.evidence["orders_created"] == ((created >= trap.start) & (created < trap.end)).sum()


def test_mix_shift_flag(flagged: dict[str, sm.FunnelResult]) -> None:
    flag = next(f for f in flagged["source"].flags if f.code == "mix_shift")
    assert flag.subject == {"by": "source", "from": "2026-W46", "to": "2026-W47"}
    assert flag.evidence["share_change"]["display"] > 0.1


def _orders(n: int, created: str, paid_after_min: float | None) -> pd.DataFrame:
    t = pd.Timestamp(created)
    return pd.DataFrame(
        {
            "order_id": [f"{created}-{i}" for i in range(n)],
            "buyer_id": [f"b{i}" for i in range(n)],
            "created_at": t,
            "paid_at": t + pd.Timedelta(minutes=paid_after_min)
            if paid_after_min is not None
            else pd.NaT,
            "amount": 10.0,
        }
    )


def test_immature_period_flag() -> None:
    # 95% of payments arrive within a few hours; the last evening's orders are all unpaid.
    history = pd.concat([_orders(40, f"2026-11-{d:02d} 10:00", 30) for d in range(2, 20)])
    late = _orders(40, "2026-11-20 22:00", None)
    events = pd.DataFrame(
        {"ts": pd.Timestamp("2026-11-02 09:00"), "visitor_id": ["b0"], "event": ["visit"]}
    )
    res = sm.funnel(events, pd.concat([history, late], ignore_index=True), freq="W")
    assert "immature_period" in _codes(res)
    # the same store with the late orders paid like the others raises nothing
    paid = _orders(40, "2026-11-20 22:00", 30)
    res = sm.funnel(events, pd.concat([history, paid], ignore_index=True), freq="W")
    assert "immature_period" not in _codes(res)


def test_impossible_rate_and_small_sample() -> None:
    events = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-11-16 09:00"),
            "visitor_id": ["a", "b"],
            "event": ["visit", "visit"],
            "product_id": ["p", "q"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "buyer_id": ["x", "y", "z"],
            "created_at": pd.Timestamp("2026-11-16 10:00"),
            "paid_at": pd.Timestamp("2026-11-16 10:01"),
            "amount": 5.0,
            "product_id": ["p"] * 3,
        }
    )
    res = sm.funnel(events, orders, by="product_id")
    impossible = next(
        f
        for f in res.flags
        if f.code == "impossible_rate" and f.subject["numerator"] == "paid_buyers"
    )
    assert impossible.examples[0]["product_id"] == "p"
    assert "small_sample" in _codes(res)
    with sm.config_context(min_sample=1):
        assert "small_sample" not in _codes(sm.funnel(events, orders, by="product_id"))
