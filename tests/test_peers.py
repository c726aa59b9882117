"""Peer benchmarks joined on their own dimensions (issue 19): a planted table by category."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm

from .conftest import Constructor

# Planted CTR per category: exposures and clicks (clicks / exposures, read by hand).
PLANTED = {"kitchen": (5000, 173), "toys": (4000, 100), "beauty": (3000, 60)}
# kitchen 173 / 5000 = 3.46 %, toys 2.50 %, beauty 2.00 %.


def _events() -> pd.DataFrame:
    """Raw events of three categories, numeric visitor ids, one product per category."""
    rows = []
    vid = 100_000
    for k, (cat, (exposures, clicks)) in enumerate(sorted(PLANTED.items())):
        for i in range(exposures):
            vid += 1
            ts = pd.Timestamp("2026-11-16 08:00") + pd.Timedelta(seconds=i)
            rows.append((ts, vid, "exposure", f"P{k:03d}", cat))
            if i < clicks:
                rows.append((ts + pd.Timedelta(seconds=2), vid, "click", f"P{k:03d}", cat))
                rows.append((ts + pd.Timedelta(seconds=3), vid, "visit", f"P{k:03d}", cat))
    return pd.DataFrame(rows, columns=["ts", "visitor_id", "event", "product_id", "category"])


def _peers() -> pd.DataFrame:
    """A 生意参谋-style benchmark by category, its last row a category other than kitchen."""
    return pd.DataFrame(
        {
            "category": ["kitchen", "toys", "beauty"],
            "metric": "ctr",
            "peer_avg": [0.05, 0.022, 0.02],
            "peer_top10": [0.09, 0.04, 0.035],
        }
    )


def test_peers_by_category_are_joined_on_category(constructor: Constructor) -> None:
    f = sm.funnel(constructor(_events()), by="category", peers=_peers(), detect=False)
    t = f.to_pandas().set_index("category")
    assert t.loc["kitchen", "ctr"] == pytest.approx(0.0346)
    # kitchen's own peers: 5 % average, 9 % top 10 %; the old code took the last row (2 %)
    # and showed kitchen 1.46 pp above peers
    assert t.loc["kitchen", "ctr_peer_avg"] == pytest.approx(0.05)
    assert t.loc["kitchen", "ctr_vs_peer_diff"] == pytest.approx(0.0346 - 0.05)
    assert t.loc["kitchen", "ctr_peer_top10"] == pytest.approx(0.09)
    assert t.loc["kitchen", "ctr_vs_top10_diff"] == pytest.approx(0.0346 - 0.09)
    assert t.loc["kitchen", "ctr_vs_top10_ratio"] == pytest.approx(0.0346 / 0.09)
    assert t.loc["toys", "ctr_vs_peer_diff"] == pytest.approx(0.025 - 0.022)
    assert t.loc["beauty", "ctr_peer_top10"] == pytest.approx(0.035)
    # kitchen: 5 % is far above the Wilson interval of 173 / 5000; toys' 2.2 % is inside
    assert bool(t.loc["kitchen", "ctr_beyond_ci"])
    assert not bool(t.loc["toys", "ctr_beyond_ci"])


def test_peers_by_category_with_a_finer_grain_and_a_total() -> None:
    f = sm.funnel(_events(), by=["category", "product_id"], peers=_peers(), total=True)
    t = f.to_pandas()
    kitchen = t[t["category"] == "kitchen"].iloc[0]
    assert kitchen["ctr_peer_avg"] == pytest.approx(0.05)
    # the (all) row has no peer row of its own: NaN, not another category's figure
    total = t[t["category"] == "(all)"].iloc[0]
    assert np.isnan(total["ctr_peer_avg"])
    assert not bool(total["ctr_beyond_ci"])


def test_peers_with_dimensions_the_call_did_not_ask_for_are_refused() -> None:
    with pytest.raises(
        sm.SchemaError, match=r"broken down by \['category'\].*by=\[\.\.\., 'category'\]"
    ):
        sm.funnel(_events(), peers=_peers(), detect=False)
    with pytest.raises(sm.SchemaError, match=r"peers\[peers\['category'\] == 'beauty'\]"):
        sm.funnel(_events(), by="product_id", peers=_peers(), detect=False)


def test_peers_of_one_tier_apply_to_every_group(store: sm.datasets.Store) -> None:
    # the demo benchmark is one tier (L3): a constant column, not a breakdown
    f = sm.funnel(_events(), by="category", peers=store.peers, detect=False).to_pandas()
    avg = float(store.peers.set_index("metric").loc["ctr", "peer_avg"])
    top = float(store.peers.set_index("metric").loc["ctr", "peer_top10"])
    assert (f["ctr_peer_avg"] == avg).all()
    np.testing.assert_allclose(f["ctr_vs_top10_diff"], f["ctr"] - top)


def test_repeated_peer_rows_are_refused() -> None:
    twice = pd.concat([_peers(), _peers().iloc[[0]]], ignore_index=True)
    with pytest.raises(sm.SchemaError, match=r"2 rows repeat the same metric and \['category'\]"):
        sm.funnel(_events(), by="category", peers=twice, detect=False)


def test_dsr_refuses_peers_broken_down_by_a_dimension_not_asked_for(
    store: sm.datasets.Store,
) -> None:
    by_cat = pd.concat(
        [store.dsr_peers.assign(category=c) for c in ("kitchen", "toys")], ignore_index=True
    )
    with pytest.raises(
        sm.SchemaError, match=r"broken down by \['category'\] \('category': kitchen, toys\)"
    ):
        sm.dsr(store.ratings, store.orders, peers=by_cat)
    # one tier for the whole table is not a breakdown: the same figures as without it
    tier = sm.dsr(store.ratings, store.orders, peers=store.dsr_peers.assign(tier="L3"))
    plain = sm.dsr(store.ratings, store.orders, peers=store.dsr_peers)
    pd.testing.assert_frame_equal(tier.to_pandas(), plain.to_pandas())
