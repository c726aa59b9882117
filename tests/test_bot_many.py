"""A store with more bot visitor-days than the product breakdown reads: none is lost.

Every visitor-day over the bot floors is judged (the store-wide figures count them all);
only the breakdown of the bots' events by product is bounded, to the heaviest
``BOT_BREAKDOWN_MAX`` visitor ids, and the flag says how many it read. Expected numbers
are counted here by brute force from the planted rows.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.flags import events as fe

N_BOTS = 9
"""Bots planted; the breakdown is bounded below this in the test."""


def _bots(end: pd.Timestamp, product: str) -> pd.DataFrame:
    """``N_BOTS`` ids hammering ``product`` one night, bot ``i`` with ``20 + i`` clicks on
    40 exposures (no deep action): each heavier than the one before."""
    night = end - pd.Timedelta(days=3) + pd.Timedelta(hours=2)
    rows = [
        {
            "ts": night + pd.Timedelta(seconds=60 * j + i),
            "visitor_id": f"zz{i:03d}",
            "event": "exposure" if j < 40 else "click",
            "product_id": product,
            "source": "recommend",
        }
        for i in range(N_BOTS)
        for j in range(40 + 20 + i)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("limit", [3, 100])
def test_every_bot_is_judged_and_the_breakdown_says_what_it_read(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    store = sm.datasets.make_store(seed=7, days=28, products=12, visitors_per_day=400, traps=False)
    bots = _bots(store.end, "P005")
    events = pd.concat([store.events, bots], ignore_index=True)
    monkeypatch.setattr(fe, "BOT_BREAKDOWN_MAX", limit)
    res = sm.funnel(events, store.orders, by="product_id", freq="W")
    flag = next(f for f in res.flags if f.code == "bot_traffic")
    assert flag.evidence["bot_visitors"] == N_BOTS  # judged: all of them, whatever the bound
    day_events = events[events["ts"].dt.normalize() == bots["ts"].iloc[0].normalize()]
    share = len(bots) / len(day_events)
    assert flag.evidence["bot_event_share"] == pytest.approx(share, rel=1e-12)
    # the breakdown: the heaviest ``limit`` ids (most events; by id on ties)
    read = min(limit, N_BOTS)
    heaviest = bots["visitor_id"].value_counts().sort_index().sort_values(ascending=False)
    kept = bots[bots["visitor_id"].isin(heaviest.index[:read])]
    assert flag.evidence["bot_clicks"] == int((kept["event"] == "click").sum())
    if read < N_BOTS:
        assert flag.evidence["bot_visitors_broken_down"] == read
        assert f"the {read} busiest" in flag.message
    else:
        assert "bot_visitors_broken_down" not in flag.evidence


def test_candidates_are_not_cut() -> None:
    """``shared_views`` keeps every visitor-day over the floors (sorted by day and id)."""
    bins = pd.DataFrame(
        {
            "day": [2, 1, 1, 1],
            "n": [300, 250, 5, 400],
            "clicks": [0, 0, 1, 0],
            "shape": [False, False, False, False],
            "visited": [True, True, True, True],
            "_candidate": ["b", "c", None, "a"],
            "k": [1, 1, 70, 1],
            "exposures": [1, 1, 9, 1],
            "visits": [1, 1, 70, 1],
            "deep": [0, 0, 0, 0],
        }
    )
    got = fe.shared_views({fe.BINS: bins})
    assert got[fe.CANDIDATES]["visitor_id"].tolist() == ["a", "c", "b"]
    assert int(got[fe.HIST]["k"].sum()) == 73
