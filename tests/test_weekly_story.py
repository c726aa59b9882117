"""The weekly report's figures agree, its story and corrections follow the numbers.

Independent references: the headline is recounted by hand in pandas (distinct visitors
and buyers, summed amounts); the W44 correction is the issue's hand count (3.16%, p = 0.51
from a two-proportion test, here scipy's chi-square without continuity correction, which
is the score test); the story is checked on planted stores whose answer is known by
construction, not against a snapshot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.datasets import Store
from shopmetrics.report.figures import STORE_ROW, UNCREDITED_ROW, mix_table, value_table
from shopmetrics.report.summary import CORRECTION_SUFFIXES


def _report(store: Store, **kw: Any) -> sm.Report:
    return sm.weekly_report(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        peers=store.peers,
        dsr_peers=store.dsr_peers,
        **kw,
    )


@pytest.fixture(scope="module")
def demo(store: Store) -> sm.Report:
    return _report(store)


@pytest.fixture(scope="module")
def clean(clean_store: Store) -> sm.Report:
    return _report(clean_store)


def _raw(report: sm.Report) -> dict[str, Any]:
    return {h.name: h for h in report.headline if not h.name.endswith(_FIXED)}


_FIXED = tuple(CORRECTION_SUFFIXES.values())


# -- one figure, one value ------------------------------------------------------------

_SIDES = {"_prev": "previous", "_cur": "current", "": "current"}
_STORE_METRICS = ("visitors", "payment_conversion", "aov", "visitor_value", "paid_amount")


def _store_cells(report: sm.Report) -> list[tuple[str, str, str, str, float]]:
    """Every store-level figure a section shows: (section, caption, metric, side, value)."""
    out = []
    week = report.week
    for s in report.sections:
        for caption, df in s.tables:
            rows = []
            if (
                "period" in df.columns
                and "source" not in df.columns
                and "product_id" not in df.columns
            ):
                for _, r in df.iterrows():
                    rows.append((r, "current" if r["period"] == week else "previous", ""))
            key = next((c for c in ("source", "product_id") if c in df.columns), None)
            if key is not None:
                rows += [(r, None, "") for _, r in df[df[key] == STORE_ROW].iterrows()]
            for r, side, _ in rows:
                for col, v in r.items():
                    for suffix, sd in _SIDES.items():
                        name = str(col).removesuffix(suffix) if suffix else str(col)
                        if suffix and not str(col).endswith(suffix):
                            continue
                        number = isinstance(v, int | float | np.number) and not (
                            isinstance(v, float) and math.isnan(v)
                        )
                        if name in _STORE_METRICS and number:
                            out.append((s.key, caption, name, side or sd, float(v)))
                        break
            if "metric" in df.columns and (
                "this_week" in df.columns or "this_week_rate" in df.columns
            ):
                for _, r in df[df["metric"].isin(_STORE_METRICS)].iterrows():
                    out.extend(
                        (s.key, caption, str(r["metric"]), side, float(r[c]))
                        for col, side in (("this_week", "current"), ("last_week", "previous"))
                        for c in (col, f"{col}_rate")
                        if c in df.columns and pd.notna(r[c])
                    )
    return out


def _source_cells(report: sm.Report) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """Each source's share of visitors and conversion this week, wherever shown."""
    found: dict[tuple[str, str], list[tuple[str, float]]] = {}
    names = {
        "visitor_share": "share",
        "visitor_share_cur": "share",
        "payment_conversion": "conversion",
        "payment_conversion_cur": "conversion",
        "visitors": "visitors",
        "visitors_cur": "visitors",
    }
    for s in report.sections:
        for caption, df in s.tables:
            if "source" not in df.columns or (
                "period" in df.columns and df["period"].nunique() > 1
            ):
                continue
            for _, r in df[~df["source"].isin([STORE_ROW, UNCREDITED_ROW])].iterrows():
                for col, what in names.items():
                    if col in df.columns and pd.notna(r[col]):
                        found.setdefault((str(r["source"]), what), []).append(
                            (f"{s.key}: {caption}", float(r[col]))
                        )
    return found


BASE_LABELS = ("counted once per source",)
"""Captions that say a table's figures are on another base than the headline's."""


@pytest.mark.parametrize("which", ["demo", "clean"])
def test_every_store_figure_equals_the_headline_or_says_its_base(
    which: str, request: pytest.FixtureRequest
) -> None:
    report: sm.Report = request.getfixturevalue(which)
    head = _raw(report)
    cells = _store_cells(report)
    assert {c[2] for c in cells} >= set(_STORE_METRICS)
    assert {c[0] for c in cells} >= {"funnel", "value"}
    for key, caption, metric, side, value in cells:
        if any(b in caption for b in BASE_LABELS):
            continue
        h = head[metric]
        want = h.value if side == "current" else h.previous
        assert value == pytest.approx(want, rel=1e-9), (key, caption, metric, side)


@pytest.mark.parametrize("which", ["demo", "clean"])
def test_each_source_figure_has_one_value(which: str, request: pytest.FixtureRequest) -> None:
    report: sm.Report = request.getfixturevalue(which)
    found = _source_cells(report)
    assert ("display", "share") in found
    for (src, what), seen in found.items():
        values = {round(v, 12) for _, v in seen}
        assert len(values) == 1, (src, what, seen)


def test_headline_is_the_hand_count(demo: sm.Report, store: Store) -> None:
    ev, od = store.events, store.orders
    week = ev[(ev.ts >= "2026-11-16") & (ev.ts < "2026-11-23") & (ev.event == "visit")]
    paid = od[(od.paid_at >= "2026-11-16") & (od.paid_at < "2026-11-23")]
    head = _raw(demo)
    assert head["visitors"].value == week.visitor_id.nunique()
    assert head["payment_conversion"].value == pytest.approx(
        paid.buyer_id.nunique() / week.visitor_id.nunique()
    )
    assert head["paid_amount"].value == pytest.approx(paid.amount.sum())


def test_mix_parts_add_to_the_headline_change_and_match_brute_force() -> None:
    # two sources, one visitor in both: shares of de-duplicated visitors add to > 100%
    per = pd.DataFrame(
        {
            "source": ["a", "b", "a", "b"],
            "period": ["W1", "W1", "W2", "W2"],
            "visitors": [100, 51, 300, 50],
            "attributed_buyers": [10, 2, 27, 2],
            "attributed_amount": [500.0, 40.0, 1000.0, 60.0],
        }
    )
    store = {"W1": (150.0, 13.0, 560.0), "W2": (349.0, 29.0, 1060.0)}  # 1 buyer has no source
    t = mix_table(per, {k: v[:2] for k, v in store.items()}, "W1", "W2")
    total = t[t["source"] == STORE_ROW].iloc[0]
    assert total["rate_prev"] == pytest.approx(13 / 150)
    assert total["rate_cur"] == pytest.approx(29 / 349)
    assert total["mix_effect"] + total["rate_effect"] == pytest.approx(29 / 349 - 13 / 150)
    # brute force: mix effect of source a = (share change) x (mean rate), by hand
    assert t.iloc[0]["mix_effect"] == pytest.approx((300 / 349 - 100 / 150) * (0.1 + 0.09) / 2)
    v = value_table(per, store, "W1", "W2")
    vt = v[v["source"] == STORE_ROW].iloc[0]
    assert vt["visitor_value_cur"] == pytest.approx(1060 / 349)
    assert vt["mix_effect"] + vt["rate_effect"] == pytest.approx(1060 / 349 - 560 / 150)
    assert v[v["source"] == UNCREDITED_ROW].iloc[0]["visitor_value_prev"] == pytest.approx(20 / 150)


# -- corrected figures ----------------------------------------------------------------


def test_w44_tracking_gap_correction_is_the_hand_count(store: Store) -> None:
    report = _report(store, week="2026-W44")
    heads = {h.name: h for h in report.headline}
    raw, fixed = heads["payment_conversion"], heads["payment_conversion_without_gap_day"]
    assert raw.significant is True
    assert raw.corrected_by == "tracking_gap"
    od, ev = store.orders, store.events
    gap = (od.paid_at >= "2026-10-27") & (od.paid_at < "2026-10-28")
    kept = od[~gap]

    def conv_of(a: str, b: str) -> tuple[int, int]:
        v = ev[(ev.ts >= a) & (ev.ts < b) & (ev.event == "visit")].visitor_id.nunique()
        x = kept[(kept.paid_at >= a) & (kept.paid_at < b)].buyer_id.nunique()
        return x, v

    x1, n1 = conv_of("2026-10-26", "2026-11-02")
    x0, n0 = conv_of("2026-10-19", "2026-10-26")
    assert fixed.value == pytest.approx(x1 / n1)
    assert round(fixed.value, 4) == 0.0316  # the hand count
    chi2 = stats.chi2_contingency([[x1, n1 - x1], [x0, n0 - x0]], correction=False)
    assert fixed.significant is False
    assert f"p = {chi2.pvalue:.2f}" in fixed.note
    assert "3.16%" in " ".join(report.summary["en"])


def test_brushing_use_instead_is_a_corrected_figure_not_a_difference(
    demo: sm.Report, store: Store
) -> None:
    fixed = next(h for h in demo.headline if h.name == "paid_amount_without_brushing")
    od = store.orders
    brushed = next(f for f in demo.flags if f.code == "order_brushing")
    h = pd.Timestamp(brushed.subject["hour"])
    drop = (
        (od.product_id == brushed.subject["product_id"])
        & od.buyer_id.isin(brushed.instead["exclude_buyers"])
        & (od.created_at >= h)
        & (od.created_at < h + pd.Timedelta(hours=1))
    )
    kept = od[~drop]
    w46 = kept[(kept.paid_at >= "2026-11-09") & (kept.paid_at < "2026-11-16")].amount.sum()
    assert fixed.previous == pytest.approx(w46)
    assert fixed.previous > 0
    # "use instead" holds the corrected figure of the week it touches, never a difference
    assert brushed.instead["without_brushing_paid_amount"] == pytest.approx(w46)
    assert brushed.instead["week"] == "2026-W46"
    assert "paid_amount_without" not in brushed.instead
    action = next(a for a in demo.actions if a["code"] == "order_brushing")["action"]
    assert f"¥{w46:,.2f}" in action


def test_presale_figure_is_in_the_headline(demo: sm.Report, store: Store) -> None:
    fixed = next(h for h in demo.headline if h.name == "payment_conversion_deposit_as_paid")
    od, ev = store.orders, store.events
    paid_at = od.deposit_paid_at.where(od.deposit_paid_at.notna(), od.paid_at)
    wk = (paid_at >= "2026-11-16") & (paid_at < "2026-11-23")
    v = ev[(ev.ts >= "2026-11-16") & (ev.ts < "2026-11-23") & (ev.event == "visit")].visitor_id
    assert fixed.value == pytest.approx(od[wk].buyer_id.nunique() / v.nunique())
    # "This week and last" shows it too, beside the raw payment conversion
    rates = dict(demo.section("funnel").tables)["This week and last: rates"].set_index("metric")
    assert rates.loc["payment_conversion_deposit_as_paid", "this_week_rate"] == fixed.value
    assert list(rates.index).index("payment_conversion_deposit_as_paid") == (
        list(rates.index).index("payment_conversion") + 2
    )


def test_clean_store_has_no_corrections(clean: sm.Report) -> None:
    assert not [h.name for h in clean.headline if h.name.endswith(_FIXED)]
    assert all(h.corrected is None for h in clean.headline)


# -- the story, on planted stores -----------------------------------------------------


def _planted(
    *, display_growth: float, display_rate: float, seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two sources: 'search' converts at 4%, 'display' at 1% (or ``display_rate`` in the
    second week); display's visitors grow by ``display_growth``."""
    rng = np.random.default_rng(seed)
    events, orders = [], []
    n = 0
    for week, monday in enumerate(pd.date_range("2026-11-09", periods=2, freq="7D")):
        for src, visitors, rate in (
            ("search", 3000, 0.04),
            (
                "display",
                int(2000 * (display_growth if week else 1)),
                display_rate if week else 0.01,
            ),
        ):
            for _ in range(visitors):
                n += 1
                vid = f"v{n}"
                ts = monday + pd.Timedelta(seconds=int(rng.integers(0, 7 * 86400 - 3600)))
                events.append((ts, vid, "visit", "P1", src))
                if rng.random() < rate:
                    orders.append(
                        (
                            f"O{n}",
                            vid,
                            ts + pd.Timedelta(minutes=5),
                            ts + pd.Timedelta(minutes=6),
                            50.0,
                            "P1",
                            src,
                        )
                    )
    ev = pd.DataFrame(events, columns=["ts", "visitor_id", "event", "product_id", "source"])
    cols = ["order_id", "buyer_id", "created_at", "paid_at", "amount", "product_id", "source"]
    od = pd.DataFrame(orders, columns=cols)
    return ev, od


def _story(tables: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[sm.Report, str]:
    ev, od = tables
    r = sm.weekly_report(events=ev, orders=od, week="2026-W47")
    return r, " ".join(r.summary["en"])


def test_story_mix_only_says_mix_not_a_worse_source() -> None:
    # display (1%) triples, both sources keep their rates: conversion falls by mix only
    r, text = _story(_planted(display_growth=3.0, display_rate=0.01))
    assert 3 <= len(r.summary["en"]) <= 5
    assert len(r.summary["zh"]) == len(r.summary["en"])
    assert "mostly from Display ads (引力魔方)" in text  # the source as the store names it
    assert "not because any source got worse" in text
    assert "流量结构" in " ".join(r.summary["zh"])


def test_story_names_the_source_that_got_worse() -> None:
    # same visitors, display's own conversion collapses from 1% to 0.1%
    _r, text = _story(_planted(display_growth=1.0, display_rate=0.001))
    assert "Display ads (引力魔方) converted significantly worse" in text
    assert "not because any source got worse" not in text


def test_story_says_whether_the_change_is_significant() -> None:
    _, big = _story(_planted(display_growth=3.0, display_rate=0.01))
    _, flat = _story(_planted(display_growth=1.02, display_rate=0.01, seed=3))
    assert big.startswith("Visitors +")
    assert ", significant" in big.split(". ")[0]
    assert "not significant" in flat.split(". ")[0]


def test_partial_week_says_so_and_the_default_is_the_last_complete_week() -> None:
    ev, od = _planted(display_growth=1.0, display_rate=0.01)
    cut = pd.Timestamp("2026-11-19")  # a Thursday
    ev, od = ev[ev.ts < cut], od[od.created_at < cut]
    r = sm.weekly_report(events=ev, orders=od)
    assert r.week == "2026-W46"
    assert not r.meta["partial_week"]
    part = sm.weekly_report(events=ev, orders=od, week="2026-W47")
    assert part.meta["partial_week"]
    assert any("2026-W47 is partial" in n and "2026-11-18" in n for n in part.notes)
    full = sm.weekly_report(
        events=_planted(display_growth=1.0, display_rate=0.01)[0],
        orders=_planted(display_growth=1.0, display_rate=0.01)[1],
    )
    assert full.week == "2026-W47"
    assert not full.meta["partial_week"]
    assert "partial" in part.summary["en"][0]
    assert "不完整周" in part.summary["zh"][0]


def test_flags_banner_has_one_plain_action_per_flag(demo: sm.Report) -> None:
    codes = [a["code"] for a in demo.actions]
    assert sorted(codes) == sorted(f.code for f in demo.flags)
    presale = next(a for a in demo.actions if a["code"] == "presale_zero_payment")
    assert "order conversion 7.03%" in presale["action"]
    assert demo.sections[0].key == "summary"


# -- one pass per aggregate -----------------------------------------------------------


def test_weekly_report_loads_each_input_once_and_counts_the_events_in_one_run(
    store: Store,
) -> None:
    with _engine.collect_spy() as spy:
        _report(store)
    what = [w for w, _ in spy]
    # the daily trend, the store's weeks, sources (+ their de-duplicated total, the store's
    # weeks again) and products are one run of four grains (+ the rows outside each
    # range, report.shared); only the free / paid split counts the events again
    assert what.count("funnel:events") <= 1
    assert len([w for w in what if w.startswith("funnel:events (")]) <= 5
    assert not [w for w in what if w.startswith("value:")]
    # 54 before; the corrections add two order passes each; since then the join of spend
    # and orders measures both sides' rows once (to move the smaller: +4 counts) and the
    # traffic sources count free / paid buyers and the cost they cover (+2): 58. Then the
    # shared grains: the de-duplicated total read from the store's weeks (-1), the rows
    # outside the ranges counted (+1); the data's first and last instant in one collect (-1)
    assert len(spy) <= 57


def test_bot_correction_takes_each_flagged_bot_out_of_the_weeks_visitors(store: Store) -> None:
    report = _report(store, week="2026-W46")
    bots = next(f for f in report.flags if f.code == "bot_traffic")
    heads = {h.name: h for h in report.headline}
    raw, fixed = heads["visitors"], heads["visitors_without_bots"]
    ev = store.events
    w45 = ev[(ev.ts >= "2026-11-02") & (ev.ts < "2026-11-09") & (ev.event == "visit")]
    trap = next(t for t in store.traps if t.code == "bot_traffic")
    ids = set(trap.subject["visitor_ids"].split(","))
    # each bot is one distinct visitor of the week: taking k of them out lowers the week's
    # unique count by exactly k (brute force on the planted ids)
    assert w45.visitor_id.nunique() - w45[~w45.visitor_id.isin(ids)].visitor_id.nunique() == len(
        ids & set(w45.visitor_id)
    )
    assert raw.previous == w45.visitor_id.nunique()
    assert fixed.previous == raw.previous - bots.evidence["bot_visitors"]
    assert fixed.value == raw.value  # the bots were in the week before
