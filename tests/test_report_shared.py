"""The weekly report's shared event counts are the funnel's own, grain by grain.

Independent reference: each funnel's own pass over the whole table
(:func:`shopmetrics.engine.counting.count_events` without a declaration), on the same
table: counts, rows read and rows left out must be equal, on real-shaped events with the
rows that get left out (null keys, null and out-of-range times, unknown event values),
on the polars fast path and on plain pandas. Then the report itself: the grains it
declares are read (no second pass of the store's weeks), and the store's weekly
visitors are the distinct visitors of the week counted by hand in pandas.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.datasets import Store
from shopmetrics.engine.counting import count_events
from shopmetrics.engine.shared_counts import shared_raw, use_shared_counts
from shopmetrics.report.shared import event_counts, report_event_counts

A = dt.datetime(2026, 10, 5)
B = dt.datetime(2026, 10, 12)
C = dt.datetime(2026, 10, 19)


def _events() -> pd.DataFrame:
    """A small store's events with rows every funnel leaves out."""
    ev = sm.datasets.make_store(seed=3, days=21, products=6, visitors_per_day=40).events.copy()
    ev = ev.reset_index(drop=True)
    rng = np.random.default_rng(7)
    idx = rng.choice(len(ev), 40, replace=False)
    ev.loc[idx[:8], "product_id"] = None  # left out of the product grain only
    ev.loc[idx[8:14], "visitor_id"] = None  # left out of every grain
    ev["ts"] = ev["ts"].astype("datetime64[us]")
    ev.loc[idx[14:18], "ts"] = pd.NaT  # left out where a range is given
    ev.loc[idx[18:24], "event"] = "share"  # an unknown event value
    return ev


GRAINS: list[Any] = [
    ((), "D", A - dt.timedelta(days=7), C),
    ((), "W", A, C),
    (("source",), "W", A, C),
    (("product_id",), "W", A, C),
    (("product_id", "source"), "D", B, C),
    ((), None, None, None),
]


def _same(a: Any, b: Any) -> None:
    keys = a.keys
    pd.testing.assert_frame_equal(
        a.table.sort_values(keys).reset_index(drop=True),
        b.table.sort_values(keys).reset_index(drop=True),
    )
    assert a.rows_in == b.rows_in
    assert a.excluded == b.excluded
    assert a.notes == b.notes


@pytest.mark.usefixtures("engine")
def test_each_shared_grain_equals_the_funnels_own_pass() -> None:
    ev = _engine.load(_events(), "events")
    own = {g: count_events(ev, list(g[0]), g[1], g[2], g[3]) for g in GRAINS}
    assert any(e.reason == "outside range" for e in own[GRAINS[1]].excluded)
    assert any(e.reason.startswith("null") for e in own[GRAINS[3]].excluded)
    assert any(e.reason == "unknown event value" for e in own[GRAINS[0]].excluded)
    with use_shared_counts(ev, event_counts(ev, GRAINS)), _engine.collect_spy() as spy:
        shared = {g: count_events(ev, list(g[0]), g[1], g[2], g[3]) for g in GRAINS}
    assert [w for w, _ in spy] == []  # every grain read, none counted again
    for g in GRAINS:
        _same(shared[g], own[g])


def test_a_grain_not_declared_or_another_table_runs_its_own_pass() -> None:
    ev = _engine.load(_events(), "events")
    other = _engine.load(_events(), "events")
    with report_event_counts(ev, GRAINS[:1]):
        assert shared_raw(ev, (), "D", *GRAINS[0][2:]) is not None
        assert shared_raw(other, (), "D", *GRAINS[0][2:]) is None  # not this table
        assert shared_raw(ev, (), "W", A, C) is None  # not declared
        with _engine.collect_spy() as spy:
            count_events(ev, [], "W", A, C)
        assert [w for w, _ in spy] == ["funnel:events"]
    assert shared_raw(ev, (), "D", *GRAINS[0][2:]) is None  # only inside the block


def test_the_report_reads_its_grains_and_counts_the_weeks_visitors_once(store: Store) -> None:
    with _engine.collect_spy() as spy:
        report = sm.weekly_report(events=store.events, orders=store.orders, spend=store.spend)
    what = [w for w, _ in spy]
    # day, week, source, product in one run; the traffic sources' de-duplicated total
    # reads the store's weeks; the detectors read their own aggregates; only the free /
    # paid split (a table derived from the events) counts the events again
    assert [w for w in what if w.startswith("funnel:events (")] == [
        *(f"funnel:events ({i})" for i in range(4)),
        "funnel:events (outside)",
    ]
    assert what.count("funnel:events") == 1
    ev = store.events
    week = ev[(ev.ts >= "2026-11-16") & (ev.ts < "2026-11-23") & (ev.event == "visit")]
    heads = {h.name: h for h in report.headline}
    assert heads["visitors"].value == week.visitor_id.nunique()  # distinct, by hand
