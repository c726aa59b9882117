"""Flags that hold on any window, name their subject and give the corrected figure (issue 19).

Every expected number is recomputed here by brute force in pandas from the demo store's
rows (or, for the test, with statsmodels' two-proportion z test), never read back from
the library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.compare import movers
from shopmetrics.datasets import Store
from tests.conftest import CONSTRUCTORS

WINDOWS: dict[str, list[tuple[str | None, str | None]]] = {
    # whole range, the trap's week alone, a two-week window (Monday to Monday)
    "bot_traffic": [(None, None), ("2026-11-02", "2026-11-09"), ("2026-10-26", "2026-11-09")],
    "order_brushing": [(None, None), ("2026-11-09", "2026-11-16"), ("2026-11-09", "2026-11-23")],
    "tracking_gap": [(None, None), ("2026-10-26", "2026-11-02"), ("2026-10-19", "2026-11-02")],
    "presale_zero_payment": [
        (None, None),
        ("2026-11-16", "2026-11-23"),
        ("2026-11-09", "2026-11-23"),
    ],
}
SUBJECT = {
    "bot_traffic": {"product_id": "P018", "source": "search", "date": "2026-11-04"},
    "order_brushing": {"product_id": "P013", "period": "2026-W46"},
    "tracking_gap": {"date": "2026-10-27", "period": "2026-W44"},
    "presale_zero_payment": {"product_id": "P007", "period": "2026-W47"},
}


def _window(code: str) -> list[tuple[str, str | None, str | None]]:
    return [(code, a, b) for a, b in WINDOWS[code]]


CASES = [c for code in WINDOWS for c in _window(code)]


@pytest.mark.parametrize(("code", "start", "end"), CASES)
def test_each_trap_is_flagged_on_every_window_naming_its_subject(
    store: Store, code: str, start: str | None, end: str | None
) -> None:
    res = sm.funnel(store.events, store.orders, by="product_id", freq="W", start=start, end=end)
    found = [f for f in res.flags if f.code == code]
    assert len(found) == 1, [f.subject for f in res.flags]
    subject = found[0].subject
    assert {k: subject.get(k) for k in SUBJECT[code]} == SUBJECT[code]


@pytest.mark.parametrize(
    ("start", "end"), [(None, None), ("2026-11-02", "2026-11-09"), ("2026-10-26", "2026-11-09")]
)
def test_trap_free_store_flags_nothing_on_any_window(
    clean_store: Store, start: str | None, end: str | None
) -> None:
    for by in ("product_id", "source"):
        res = sm.funnel(
            clean_store.events, clean_store.orders, by=by, freq="W", start=start, end=end
        )
        assert {f.code for f in res.flags} <= {"small_sample"}


def test_bot_flag_gives_the_products_ctr_with_and_without_the_bots(store: Store) -> None:
    trap = store.trap("bot_traffic")
    bots = set(trap.subject["visitor_ids"].split(","))
    res = sm.funnel(
        store.events, store.orders, by="product_id", freq="W", start="2026-10-26", end="2026-11-09"
    )
    flag = next(f for f in res.flags if f.code == "bot_traffic")
    assert flag.evidence["bot_visitors"] == len(bots)  # all 20, none missed
    # brute force: P018's exposures and clicks in W45, with and without the planted ids
    e = store.events
    week = e[(e["ts"] >= "2026-11-02") & (e["ts"] < "2026-11-09") & (e["product_id"] == "P018")]
    human = week[~week["visitor_id"].isin(bots)]

    def ctr(t: pd.DataFrame) -> float:
        return float((t["event"] == "click").sum() / (t["event"] == "exposure").sum())

    assert flag.evidence["product_ctr_with_bots"] == pytest.approx(ctr(week), abs=1e-12)
    assert flag.instead["ctr"] == pytest.approx(ctr(human), abs=1e-12)
    assert round(ctr(week), 3) == 0.240  # the figures
    assert round(ctr(human), 3) == 0.028
    clicks = week[week["event"] == "click"]
    share = clicks["visitor_id"].isin(bots).mean()
    assert flag.evidence["bot_click_share"] == pytest.approx(share, abs=1e-12)
    assert flag.instead["visitors"] == human[human["event"] == "visit"]["visitor_id"].nunique()
    assert "P018" in flag.message


def test_brushing_instead_is_the_paid_amount_without_the_brushed_orders(store: Store) -> None:
    trap = store.trap("order_brushing")
    res = sm.funnel(store.events, store.orders, by="source", freq="W")
    flag = next(f for f in res.flags if f.code == "order_brushing")
    o = store.orders
    week = o[(o["paid_at"] >= "2026-11-09") & (o["paid_at"] < "2026-11-16")]
    mine = week[week["product_id"] == trap.subject["product_id"]]
    brushed = (mine["created_at"] >= trap.start) & (mine["created_at"] < trap.end)
    kept = mine[~brushed]
    assert flag.instead["paid_amount"] == pytest.approx(kept["amount"].sum(), abs=0.005)
    assert flag.instead["paid_amount"] > 0  # a figure, not a difference
    assert flag.instead["paid_buyers"] == kept["buyer_id"].nunique()
    assert flag.evidence["brushed_share_of_paid_amount"] == pytest.approx(
        mine[brushed]["amount"].sum() / mine["amount"].sum()
    )
    # examples: the fastest-paid orders, then by id
    lag = (mine["paid_at"] - mine["created_at"])[brushed]
    ranked = mine[brushed].assign(lag=lag).sort_values(["lag", "order_id"])
    assert [e["order_id"] for e in flag.examples] == list(ranked["order_id"].astype(str)[:5])


def test_tracking_gap_gives_the_conversion_and_the_test_without_the_days_buyers(
    store: Store,
) -> None:
    from statsmodels.stats.proportion import proportions_ztest

    res = sm.funnel(store.events, store.orders, freq="W", compare="previous_week", end="2026-11-02")
    flag = next(f for f in res.flags if f.code == "tracking_gap")
    e, o = store.events, store.orders
    visitors = e[(e["ts"] >= "2026-10-26") & (e["ts"] < "2026-11-02") & (e["event"] == "visit")]
    n1 = visitors["visitor_id"].nunique()
    paid = o[(o["paid_at"] >= "2026-10-26") & (o["paid_at"] < "2026-11-02")]
    on_day = (paid["paid_at"] >= "2026-10-27") & (paid["paid_at"] < "2026-10-28")
    x_raw, x_fix = paid["buyer_id"].nunique(), paid[~on_day]["buyer_id"].nunique()
    prev_v = e[(e["ts"] >= "2026-10-19") & (e["ts"] < "2026-10-26") & (e["event"] == "visit")]
    n0 = prev_v["visitor_id"].nunique()
    prev_p = o[(o["paid_at"] >= "2026-10-19") & (o["paid_at"] < "2026-10-26")]
    x0 = prev_p["buyer_id"].nunique()
    assert flag.evidence["payment_conversion"] == pytest.approx(x_raw / n1)
    assert flag.instead["payment_conversion"] == pytest.approx(x_fix / n1)
    assert round(x_raw / n1, 4) == 0.0363  # the figures
    assert round(x_fix / n1, 4) == 0.0316
    _, p_raw = proportions_ztest([x_raw, x0], [n1, n0])
    _, p_fix = proportions_ztest([x_fix, x0], [n1, n0])
    assert flag.evidence["p_value"] == pytest.approx(p_raw, rel=1e-6)
    assert flag.evidence["p_value_without_day"] == pytest.approx(p_fix, rel=1e-6)
    assert p_raw < 0.05 < p_fix  # significant only because of the gap day
    assert round(p_fix, 2) == 0.51


def test_movers_attach_flags_by_subject(store: Store) -> None:
    res = sm.funnel(
        store.events, store.orders, by="product_id", freq="W", start="2026-10-26", end="2026-11-09"
    )
    m = movers(res, metric="ctr")
    row = m[m["product_id"] == "P018"].iloc[0]
    assert row["explained_by"] == "bot_traffic"  # not the tracking gap of the week before
    others = m[m["product_id"] != "P018"]
    assert (others["explained_by"] == "").all()


def _planted_bots(
    store: Store, product: str, n: int = 12, clicks: list[int] | None = None
) -> pd.DataFrame:
    """``n`` bot ids hammering ``product`` one night: 40 exposures each and 30 clicks (or
    ``clicks[i]`` for bot ``i``)."""
    night = store.end - pd.Timedelta(days=3) + pd.Timedelta(hours=2)
    per = clicks if clicks is not None else [30] * n
    rows = [
        {
            "ts": night + pd.Timedelta(seconds=40 * j + i),
            "visitor_id": f"zz{i:03d}",
            "event": "exposure" if j < 40 else "click",
            "product_id": product,
            "source": "recommend",
        }
        for i in range(n)
        for j in range(40 + per[i])
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("limit", [3, 100])
def test_every_bot_is_judged_and_the_breakdown_says_what_it_read(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """More bots than the product breakdown reads: none is lost. Every visitor-day over
    the floors is judged (the store-wide figures count them all); the breakdown of the
    bots' events by product reads the busiest ``BOT_BREAKDOWN_MAX`` ids, and the flag
    says how many. Expected numbers counted by brute force from the planted rows."""
    from shopmetrics.flags import events as fe

    store = sm.datasets.make_store(seed=7, days=28, products=12, visitors_per_day=400, traps=False)
    n_bots = 9
    bots = _planted_bots(store, "P005", n_bots, clicks=[20 + i for i in range(n_bots)])
    events = pd.concat([store.events, bots], ignore_index=True)
    monkeypatch.setattr(fe, "BOT_BREAKDOWN_MAX", limit)
    res = sm.funnel(events, store.orders, by="product_id", freq="W")
    flag = next(f for f in res.flags if f.code == "bot_traffic")
    assert flag.evidence["bot_visitors"] == n_bots  # judged: all of them, whatever the bound
    day_events = events[events["ts"].dt.normalize() == bots["ts"].iloc[0].normalize()]
    assert flag.evidence["bot_event_share"] == pytest.approx(len(bots) / len(day_events))
    # the breakdown: the busiest ``limit`` ids (most events; by id on ties)
    read = min(limit, n_bots)
    busiest = bots["visitor_id"].value_counts().sort_index().sort_values(ascending=False)
    kept = bots[bots["visitor_id"].isin(busiest.index[:read])]
    assert flag.evidence["bot_clicks"] == int((kept["event"] == "click").sum())
    if read < n_bots:
        assert flag.evidence["bot_visitors_broken_down"] == read
        assert f"the {read} busiest" in flag.message
    else:
        assert "bot_visitors_broken_down" not in flag.evidence


def test_bot_candidates_are_not_cut() -> None:
    """``shared_views`` keeps every visitor-day over the floors (sorted by day and id)."""
    from shopmetrics.flags import events as fe

    bins = pd.DataFrame(
        {
            "day": [2, 1, 1, 1],
            "n": [300, 250, 5, 400],
            "clicks": [0, 0, 1, 0],
            "shape": [False] * 4,
            "visited": [True] * 4,
            "_candidate": ["b", "c", None, "a"],
            "k": [1, 1, 70, 1],
            "exposures": [1, 1, 9, 1],
            "visits": [1, 1, 70, 1],
            "deep": [0] * 4,
        }
    )
    got = fe.shared_views({fe.BINS: bins})
    assert got[fe.CANDIDATES]["visitor_id"].tolist() == ["a", "c", "b"]
    assert int(got[fe.HIST]["k"].sum()) == 73


def test_movers_name_the_product_flag_on_an_unseen_store() -> None:
    store = sm.datasets.make_store(seed=7, days=28, products=12, visitors_per_day=400, traps=False)
    product = "P005"
    events = pd.concat([store.events, _planted_bots(store, product)], ignore_index=True)
    res = sm.funnel(events, store.orders, by="product_id", freq="W")
    flag = next(f for f in res.flags if f.code == "bot_traffic")
    assert flag.subject["product_id"] == product
    assert flag.subject["source"] == "recommend"
    assert flag.evidence["bot_clicks"] == 12 * 30
    m = movers(res, metric="ctr")
    assert m.loc[m["product_id"] == product, "explained_by"].tolist() == ["bot_traffic"]


def _dump(flags: Any) -> str:
    return json.dumps([f.to_dict() for f in flags], sort_keys=True, default=str)


def test_flags_are_identical_whatever_engine_holds_the_store() -> None:
    store = sm.datasets.make_store(seed=0, days=28, products=20, visitors_per_day=300)
    # the small store's own bots are too few to flag; a burst like the big store's
    events = pd.concat([store.events, _planted_bots(store, "P003")], ignore_index=True)
    got = {}
    for name in ("pandas", "pyarrow", "polars", "duckdb"):
        if name not in CONSTRUCTORS:
            continue
        make = CONSTRUCTORS[name]
        res = sm.funnel(make(events), make(store.orders), by="product_id", freq="W")
        got[name] = _dump(res.flags)
    codes = {f["code"] for f in json.loads(got["pandas"])}
    assert {"bot_traffic", "order_brushing", "tracking_gap"} <= codes
    assert len(set(got.values())) == 1, {k: len(v) for k, v in got.items()}


DATA = Path(__file__).parent / "data" / "exports"


def _presale_orders(product: str) -> pd.DataFrame:
    """Six deposit-phase presale orders of ``product`` on 2026-11-02 (none paid in full)."""
    t = pd.Timestamp("2026-11-02 10:00")
    return pd.DataFrame(
        {
            "order_id": [f"90{i}" for i in range(6)],
            "buyer_id": [f"b{i}" for i in range(6)],
            "product_id": product,
            "created_at": [t + pd.Timedelta(minutes=i) for i in range(6)],
            "paid_at": pd.NaT,
            "deposit_paid_at": [t + pd.Timedelta(minutes=i + 1) for i in range(6)],
            "amount": 30.0,
            "is_presale": True,
        }
    )


@pytest.mark.parametrize(("by", "freq"), [("product_id", "D"), ((), None)])
def test_presale_flag_from_a_product_export_has_its_visitors(by: Any, freq: Any) -> None:
    pytest.importorskip("python_calamine")
    from shopmetrics.io.convert import to_canonical
    from shopmetrics.io.files import read_table

    export = to_canonical(read_table(DATA / "sycm_product_daily.xlsx")).data
    product = str(sorted(export["product_id"].astype(str))[0])
    res = sm.funnel(traffic=export, orders=_presale_orders(product), by=by, freq=freq)
    flag = next(f for f in res.flags if f.code == "presale_zero_payment")
    mine = export[export["product_id"].astype(str) == product]
    if freq == "D":
        mine = mine[pd.to_datetime(mine["date"]) == pd.Timestamp("2026-11-02")]
    visitors = float(mine["visitors"].sum())
    assert flag.evidence["visitors"] == visitors
    assert flag.instead["deposit_conversion"] == pytest.approx(6 / visitors)
    assert "nan" not in flag.message.lower()
    assert not np.isnan(flag.evidence["order_conversion"])


EVENT_READS = (
    "funnel:events",
    "funnel:sessions",
    "flags:visitor_day_bins",
    "flags:presale_visitors",
    "flags:bot_breakdown",
    "flags:bot_product",
    "flags:brushing_visits",
)
"""The collects that read the events table."""


def test_the_default_call_reads_the_events_once_on_clean_data(clean_store: Store) -> None:
    with sm.engine.collect_spy() as log:
        sm.funnel(clean_store.events, clean_store.orders, by=["product_id", "source"], freq="D")
    reads = sorted(name for name, _ in log if name in EVENT_READS)
    # one collect of the funnel's counts and the detectors' aggregate (collect_all on polars)
    assert reads == ["flags:visitor_day_bins", "funnel:events"]


def test_with_traps_only_the_flagged_rows_are_read_again(store: Store) -> None:
    with sm.engine.collect_spy() as log:
        sm.funnel(store.events, store.orders, by=["product_id", "source"], freq="D")
    reads = [name for name, _ in log if name in EVENT_READS]
    # shared: counts, visitor-day bins, the presale products' visitors; then the
    # bots' own events, the gap day's store-level visitors, the brushers' visits
    assert sorted(reads) == sorted(
        [
            "funnel:events",
            "flags:visitor_day_bins",
            "flags:presale_visitors",
            "flags:bot_breakdown",
            "funnel:events",
            "flags:brushing_visits",
        ]
    )


@pytest.mark.parametrize(("start", "end"), [(None, None), ("2026-11-09", "2026-11-23")])
def test_mix_shift_is_flagged_on_every_window_that_holds_both_weeks(
    store: Store, start: str | None, end: str | None
) -> None:
    res = sm.funnel(store.events, store.orders, by="source", freq="W", start=start, end=end)
    flag = next(f for f in res.flags if f.code == "mix_shift")
    assert flag.subject == {"by": "source", "from": "2026-W46", "to": "2026-W47"}
    assert max(flag.evidence["share_change"], key=flag.evidence["share_change"].get) == "display"
