"""DSR seller ratings: platform rules, intervals, peers, rolling series, alerts, flags.

Every formula is checked against a number obtained another way: the metric dictionary's
worked examples (shared/spec/metrics.md, DSR), hand arithmetic written beside the test,
statsmodels / scipy on the raw ratings, or a brute-force re-implementation of the
platform rules (``reference_scores`` below, plain Python loops over rows).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as smapi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.weightstats import DescrStatsW

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.dsr import DIMENSIONS, dsr, dsr_what_if, low_ratings, vs_peers
from shopmetrics.errors import ColumnNotFoundError, DefinitionError, SchemaError, ShopmetricsError

DAY0 = pd.Timestamp("2026-03-01")


def make_ratings(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A ratings table from short dicts: day offsets from 2026-03-01, scores (None = unrated)."""
    out = []
    for i, r in enumerate(rows):
        score = r.get("score", 5)
        out.append(
            {
                "order_id": r.get("order_id", f"o{i:03d}"),
                "buyer_id": r.get("buyer", f"b{i:03d}"),
                "rated_at": DAY0 + pd.Timedelta(days=r.get("day", 0), hours=r.get("hour", 12)),
                "item_score": r.get("item", score),
                "service_score": r.get("service", score),
                "logistics_score": r.get("logistics", score),
                **({"trade_success_at": r["ts"]} if "ts" in r else {}),
                **({"carrier": r["carrier"]} if "carrier" in r else {}),
            }
        )
    df = pd.DataFrame(out)
    for d in DIMENSIONS:
        df[f"{d}_score"] = df[f"{d}_score"].astype("float64")
    return df


def reference_scores(
    df: pd.DataFrame, as_of: dt.date, window: int, cap: int | None = 3
) -> dict[str, tuple[int, float]]:
    """Brute-force platform rules, row by row (independent of the library's algorithm).

    A rating counts at ``as_of`` when it was given within the ``window`` days ending at
    ``as_of`` and fewer than ``cap`` ratings of the same buyer in the same natural month
    (of trade-success time, else rating time) that come before it in (trade-success time,
    order id) order were given by the end of ``as_of``.
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    start = pd.Timestamp(as_of) - pd.Timedelta(days=window - 1)
    rows = []
    for r in df.itertuples(index=False):
        scores = [getattr(r, f"{d}_score") for d in DIMENSIONS]
        present = [float(s) for s in scores if not pd.isna(s)]
        if not present or any(s not in (1, 2, 3, 4, 5) for s in present):
            continue
        if r.rated_at >= end:
            continue
        ts = getattr(r, "trade_success_at", None)
        key_time = r.rated_at if ts is None or pd.isna(ts) else ts
        rows.append((r, key_time, (key_time.year, key_time.month), str(r.order_id)))
    by_month: dict[tuple[Any, Any], list[tuple[Any, str]]] = {}
    for r, t, month, oid in rows:
        if not pd.isna(r.buyer_id):
            by_month.setdefault((r.buyer_id, month), []).append((t, oid))
    counted = []
    for r, t, month, oid in rows:
        if not (start <= r.rated_at < end):
            continue
        if cap is not None and not pd.isna(r.buyer_id):
            before = sum(1 for tp, op in by_month[(r.buyer_id, month)] if (tp, op) < (t, oid))
            if before >= cap:
                continue
        counted.append(r)
    out = {}
    for d in DIMENSIONS:
        vals = [getattr(r, f"{d}_score") for r in counted]
        vals = [float(v) for v in vals if not pd.isna(v)]
        out[d] = (len(vals), sum(vals) / len(vals) if vals else math.nan)
    return out


def assert_matches_reference(row: Any, ref: dict[str, tuple[int, float]]) -> None:
    for d in DIMENSIONS:
        n, mean = ref[d]
        assert int(row[f"n_{d}"]) == n, (d, int(row[f"n_{d}"]), n)
        if n:
            assert float(row[d]) == pytest.approx(mean, rel=1e-12, abs=1e-12)
        else:
            assert math.isnan(float(row[d]))


# ---------------------------------------------------------------- worked examples of the spec


def test_spec_worked_example_19_fives_and_a_one(constructor: Any) -> None:
    # metrics.md, DSR: 19 ratings of 5 and 1 of 1 -> 96 / 20 = 4.8
    df = make_ratings(
        [{"day": i, "item": 5 if i < 19 else 1, "service": 5, "logistics": 5} for i in range(20)]
    )
    r = dsr(constructor(df)).to_pandas()
    assert r.loc[0, "item"] == pytest.approx(96 / 20)
    assert r.loc[0, "n_item"] == 20
    assert r.loc[0, "service"] == 5.0


def test_spec_worked_example_vs_peers() -> None:
    # metrics.md, DSR: (4.71234 - 4.61234) / (4.91234 - 4.61234) = 33.33% above
    assert float(vs_peers(4.71234, 4.61234, 4.91234, 4.0)) == pytest.approx(1 / 3, rel=1e-9)
    # below the average: (avg - shop) / (avg - min), signed negative; hand: 0.1 / 0.4
    assert float(vs_peers(4.5, 4.6, 4.9, 4.2)) == pytest.approx(-0.25)
    assert float(vs_peers(4.6, 4.6, 4.9, 4.2)) == 0.0
    assert math.isnan(float(vs_peers(4.7, 4.6, None, 4.2)))  # above needs the max


def test_peer_columns_through_dsr(constructor: Any) -> None:
    # 19 x 5 + 1 x 1 = 4.8 (spec). Peers avg 4.7, max 4.9: (4.8-4.7)/(4.9-4.7) = 0.5;
    # plain relative difference (4.8-4.7)/4.7.
    df = make_ratings([{"day": i, "item": 5 if i < 19 else 1} for i in range(20)])
    peers = pd.DataFrame(
        {
            "dimension": ["宝贝与描述相符", "service", "logistics"],
            "peer_avg": [4.7, 4.9, 4.9],
            "peer_max": [4.9, 4.95, 4.95],
            "peer_min": [4.0, 4.0, 4.0],
        }
    )
    r = dsr(constructor(df), peers=constructor(peers)).to_pandas().iloc[0]
    assert r["item_vs_peers"] == pytest.approx(0.5)
    assert r["item_rel_diff"] == pytest.approx(0.1 / 4.7)
    assert r["item_peer_avg"] == 4.7
    # interval of 19x5+1x1: sd = sqrt(0.8) (hand), se = 0.2, 4.8 +- 1.96*0.2 contains 4.7
    assert not r["item_beyond_ci"]
    # service: all 5, interval collapses to [5, 5]; 4.9 is outside; above the peers by 100%
    assert r["service_beyond_ci"]
    assert r["service_vs_peers"] == pytest.approx((5 - 4.9) / (4.95 - 4.9))


def test_peers_per_group() -> None:
    df = make_ratings(
        [{"day": i, "score": 5, "carrier": "SF"} for i in range(3)]
        + [{"day": i, "score": 4, "carrier": "STO"} for i in range(3)]
    )
    peers = pd.DataFrame(
        {
            "carrier": ["SF", "STO"] * 3,
            "dimension": [d for d in DIMENSIONS for _ in range(2)],
            "peer_avg": [4.5, 4.5] * 3,
            "peer_max": [5.0, 5.0] * 3,
            "peer_min": [4.0, 3.0] * 3,
        }
    )
    t = dsr(df, by="carrier", peers=peers).to_pandas().set_index("carrier")
    assert t.loc["SF", "logistics_vs_peers"] == pytest.approx((5 - 4.5) / (5 - 4.5))
    assert t.loc["STO", "logistics_vs_peers"] == pytest.approx(-(4.5 - 4) / (4.5 - 3.0))


def test_peers_need_dimension_and_avg() -> None:
    df = make_ratings([{"day": 0}])
    with pytest.raises(SchemaError, match="peer_avg"):
        dsr(df, peers=pd.DataFrame({"dimension": ["item"], "avg": [4.7]}))


# ---------------------------------------------------------------- platform rules


def test_fourth_rating_of_a_buyer_in_a_month_is_ignored(constructor: Any) -> None:
    # buyer "x" rates 4 trades in March. By trade-success time the order is o3, o2, o1, o0;
    # rating times run the other way. The 4th by trade success (o0, a 1-star) is ignored.
    df = make_ratings(
        [
            {
                "order_id": "o0",
                "buyer": "x",
                "day": 1,
                "score": 1,
                "ts": DAY0 + pd.Timedelta(days=4),
            },
            {
                "order_id": "o1",
                "buyer": "x",
                "day": 2,
                "score": 5,
                "ts": DAY0 + pd.Timedelta(days=3),
            },
            {
                "order_id": "o2",
                "buyer": "x",
                "day": 3,
                "score": 5,
                "ts": DAY0 + pd.Timedelta(days=2),
            },
            {
                "order_id": "o3",
                "buyer": "x",
                "day": 4,
                "score": 4,
                "ts": DAY0 + pd.Timedelta(days=1),
            },
            {
                "order_id": "o4",
                "buyer": "y",
                "day": 5,
                "score": 3,
                "ts": DAY0 + pd.Timedelta(days=1),
            },
        ]
    )
    r = dsr(constructor(df), as_of="2026-03-10")
    row = r.to_pandas().iloc[0]
    assert row["n_item"] == 4
    assert row["item"] == pytest.approx((5 + 5 + 4 + 3) / 4)
    over = [e for e in r.audit.excluded if e.reason == "over_monthly_cap"]
    assert over
    assert over[0].rows == 1
    # on 2026-03-02 only o0 had been given: it counted then (1 star)
    early = dsr(constructor(df), as_of="2026-03-02").to_pandas().iloc[0]
    assert early["n_item"] == 1
    assert early["item"] == 1.0
    # the rule switched off: all five count
    off = dsr(constructor(df), as_of="2026-03-10", max_per_buyer_month=None).to_pandas().iloc[0]
    assert off["n_item"] == 5
    assert "max_per_buyer_month=None" in dsr(df, max_per_buyer_month=None).definition


def test_monthly_cap_is_per_natural_month_and_falls_back_to_rating_time() -> None:
    # no trade_success_at column: rating time orders and dates the ratings.
    # Three in March and two in April for one buyer: all five count.
    days = [1, 10, 20, 31, 35]  # 2026-03-02, -11, -21, 04-01, 04-05
    df = make_ratings([{"buyer": "x", "day": d, "score": 4} for d in days])
    r = dsr(df, as_of="2026-04-30")
    assert r.to_pandas().loc[0, "n_item"] == 5
    assert any("by rating time" in n for n in r.audit.notes)
    # a fourth in March: the latest March rating (by rating time) drops
    df4 = make_ratings(
        [{"buyer": "x", "day": d, "score": 5 if d != 25 else 1} for d in [1, 10, 20, 25]]
    )
    assert dsr(df4, as_of="2026-04-30").to_pandas().loc[0, "item"] == 5.0


def test_rating_181_days_old_drops_out(constructor: Any) -> None:
    # as_of 2026-09-30; window of 180 days = 2026-04-04 .. 2026-09-30 inclusive (hand count:
    # 27 days of April from the 4th + 31 + 30 + 31 + 31 + 30 = 180).
    as_of = dt.date(2026, 9, 30)
    ages = {"o179": 179, "o180": 180, "o181": 181, "o0": 0}
    rows = [
        {"order_id": k, "day": (as_of - dt.timedelta(days=a) - DAY0.date()).days, "score": s}
        for (k, a), s in zip(ages.items(), [1, 2, 3, 5], strict=True)
    ]
    r = dsr(constructor(make_ratings(rows)), as_of=as_of)
    row = r.to_pandas().iloc[0]
    assert row["window_first_day"] == pd.Timestamp("2026-04-04")
    assert row["n_item"] == 2  # 0 and 179 days old
    assert row["item"] == pytest.approx((1 + 5) / 2)
    before = [e for e in r.audit.excluded if e.reason == "before_window"]
    assert before[0].rows == 2
    assert any("2026-04-04 00:00 to 2026-09-30 24:00" in n for n in r.audit.notes)


def test_partial_rating_counts_in_its_dimensions_only(constructor: Any) -> None:
    df = make_ratings(
        [
            {"day": 0, "item": 4, "service": None, "logistics": None},
            {"day": 1, "score": 5},
        ]
    )
    row = dsr(constructor(df)).to_pandas().iloc[0]
    assert (row["n_item"], row["n_service"], row["n_logistics"]) == (2, 1, 1)
    assert row["item"] == pytest.approx(4.5)
    assert row["service"] == 5.0  # no default score for the unrated dimension
    dropped = dsr(constructor(df), partial="drop")
    assert dropped.to_pandas().loc[0, "n_item"] == 1
    assert [e.rows for e in dropped.audit.excluded if e.reason == "partial_rating"] == [1]


def test_invalid_scores_and_unpaid_trades_are_rejected(constructor: Any) -> None:
    df = make_ratings(
        [
            {"order_id": "ok1", "day": 0, "score": 5},
            {"order_id": "ok2", "day": 1, "score": 3},
            {"order_id": "bad0", "day": 2, "item": 0},
            {"order_id": "bad6", "day": 3, "service": 6},
            {"order_id": "half", "day": 4, "logistics": 4.5},
            {"order_id": "none", "day": 5, "item": None, "service": None, "logistics": None},
            {"order_id": "unpaid", "day": 6, "score": 1},
            {"order_id": "no_order", "day": 7, "score": 4},
        ]
    )
    orders = pd.DataFrame(
        {
            "order_id": ["ok1", "ok2", "bad0", "bad6", "half", "none", "unpaid"],
            "buyer_id": ["b"] * 7,
            "created_at": pd.Timestamp("2026-02-01"),
            "amount": 10.0,
            "paid_at": [pd.Timestamp("2026-02-01")] * 6 + [pd.NaT],
        }
    )
    r = dsr(constructor(df), constructor(orders), detect=False)
    row = r.to_pandas().iloc[0]
    # counted: ok1 (5), ok2 (3), no_order (4, kept: not in orders) -> (5+3+4)/3
    assert row["n_item"] == 3
    assert row["item"] == pytest.approx(4.0)
    reasons = {e.reason: e.rows for e in r.audit.excluded}
    assert reasons == {"score_out_of_range": 3, "no_scores": 1, "unpaid_trade": 1}
    assert r.audit.rows_in["ratings"] == 8
    # every row is either counted or excluded with a reason: 8 - 5 = 3 counted
    assert r.audit.rows_in["ratings"] - sum(reasons.values()) == row["n_item"]
    assert any("no matching order_id" in n for n in r.audit.notes)
    kept = dsr(constructor(df), constructor(orders), reject_unpaid=False, detect=False)
    assert kept.to_pandas().loc[0, "n_item"] == 4


def test_no_default_score_for_unrated_trades(constructor: Any) -> None:
    # two paid trades, one rated 3 stars. Platform: the unrated one adds nothing.
    df = make_ratings([{"order_id": "r1", "day": 0, "score": 3}])
    orders = pd.DataFrame(
        {
            "order_id": ["r1", "u1", "u1", "x9"],
            "buyer_id": ["a", "b", "b", "c"],
            "created_at": pd.Timestamp("2026-02-20"),
            "amount": 5.0,
            "paid_at": [pd.Timestamp("2026-02-20")] * 3 + [pd.NaT],
        }
    )
    assert (
        dsr(constructor(df), constructor(orders), as_of="2026-03-31", detect=False)
        .to_pandas()
        .loc[0, "item"]
        == 3.0
    )
    # switched: u1 (two lines, one trade) counts 5 on 2026-02-20 + 15 days; x9 is unpaid
    alt = dsr(
        constructor(df), constructor(orders), as_of="2026-03-31", default_score=5, detect=False
    )
    row = alt.to_pandas().iloc[0]
    assert (row["n_item"], row["item"]) == (2, pytest.approx(4.0))
    assert "default_score=5" in alt.definition
    # before its 15 days are up the unrated trade has no default yet (paid 02-20 -> 03-07)
    assert (
        dsr(constructor(df), constructor(orders), as_of="2026-03-06", default_score=5, detect=False)
        .to_pandas()
        .loc[0, "n_item"]
        == 1
    )
    with pytest.raises(SchemaError, match="default_score"):
        dsr(constructor(df), default_score=5)


def test_brute_force_reference_on_demo_store(store: Any) -> None:
    # The demo store plants five buyers with 5-6 ratings in one natural month (first three
    # 5/5/5, the rest <= 2): the one-shot score must equal the row-by-row rules.
    r = dsr(store.ratings, detect=False)
    assert_matches_reference(r.to_pandas().iloc[0], reference_scores(store.ratings, r.as_of, 180))
    over = [e.rows for e in r.audit.excluded if e.reason == "over_monthly_cap"]
    assert over
    assert over[0] >= 10


# ---------------------------------------------------------------- rolling series


@st.composite
def rating_tables(draw: Any) -> tuple[pd.DataFrame, str, int]:
    freq = draw(st.sampled_from(["D", "W", "M"]))
    span = {"D": 6, "W": 24, "M": 70}[freq]
    n = draw(st.integers(1, 25))
    start = pd.Timestamp("2026-01-20")
    recs = []
    for i in range(n):
        minute = draw(st.integers(0, span * 1440 - 1))
        rated = start + pd.Timedelta(minutes=minute)
        lag = draw(st.one_of(st.none(), st.integers(0, 20 * 1440)))
        scores = [draw(st.one_of(st.none(), st.integers(1, 5))) for _ in DIMENSIONS]
        if all(s is None for s in scores):
            scores[0] = 5
        recs.append(
            {
                "order_id": f"o{draw(st.integers(0, 10**6)):07d}-{i}",
                "buyer_id": draw(st.sampled_from(["a", "b", "c", None])),
                "rated_at": rated,
                "trade_success_at": None if lag is None else rated - pd.Timedelta(minutes=lag),
                **{
                    f"{d}_score": (np.nan if s is None else float(s))
                    for d, s in zip(DIMENSIONS, scores, strict=True)
                },
            }
        )
    df = pd.DataFrame(recs)
    df["trade_success_at"] = pd.to_datetime(df["trade_success_at"])
    return df, freq, draw(st.integers(1, 40))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rating_tables())
def test_rolling_series_equals_one_shot_at_every_period_end(
    case: tuple[pd.DataFrame, str, int],
) -> None:
    df, freq, window = case
    series = dsr(df, freq=freq, window_days=window, detect=False).to_pandas()  # type: ignore[arg-type]
    assert len(series) >= 1
    for row in series.itertuples(index=False):
        end = row.window_last_day.date()
        one = dsr(df, as_of=end, window_days=window, detect=False).to_pandas().iloc[0]
        for d in DIMENSIONS:
            assert getattr(row, f"n_{d}") == one[f"n_{d}"]
            a, b = getattr(row, d), one[d]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)
        ref = reference_scores(df, end, window)
        assert_matches_reference(one, ref)


@settings(max_examples=10, deadline=None)
@given(rating_tables(), st.randoms())
def test_one_shot_matches_brute_force_and_ignores_row_order(case: Any, rnd: Any) -> None:
    df, _, window = case
    as_of = df["rated_at"].max().date() - dt.timedelta(days=rnd.randint(0, 5))
    r = dsr(df, as_of=as_of, window_days=window, detect=False).to_pandas().iloc[0]
    assert_matches_reference(r, reference_scores(df, as_of, window))
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
    s = dsr(shuffled, as_of=as_of, window_days=window, detect=False).to_pandas().iloc[0]
    for d in DIMENSIONS:
        assert s[f"n_{d}"] == r[f"n_{d}"]
        assert (math.isnan(s[d]) and math.isnan(r[d])) or s[d] == pytest.approx(r[d], rel=1e-12)


def test_series_on_every_engine(constructor: Any) -> None:
    # hand: window 3 days; daily ratings 5, 4, 3, 2, 1 on days 0..4 -> at day 4: (3+2+1)/3 = 2
    df = make_ratings([{"day": i, "score": 5 - i} for i in range(5)])
    s = dsr(constructor(df), freq="D", window_days=3).to_pandas()
    assert s["item"].tolist() == pytest.approx([5, 4.5, 4, 3, 2])
    assert s["window_complete"].tolist() == [False, False, True, True, True]


# ---------------------------------------------------------------- statistics


def test_interval_matches_statsmodels_and_is_clipped() -> None:
    scores = [5] * 19 + [1]
    df = make_ratings([{"day": i, "item": s} for i, s in enumerate(scores)])
    row = dsr(df).to_pandas().iloc[0]
    lo, hi = DescrStatsW(np.array(scores, float)).zconfint_mean(alpha=0.05)
    assert row["item_ci_low"] == pytest.approx(lo, rel=1e-9)
    assert hi > 5
    assert row["item_ci_high"] == 5.0

    rng = np.random.default_rng(3)
    mixed = rng.integers(1, 6, 60)
    row = (
        dsr(make_ratings([{"day": i % 100, "item": int(s)} for i, s in enumerate(mixed)]))
        .to_pandas()
        .iloc[0]
    )
    lo, hi = DescrStatsW(mixed.astype(float)).zconfint_mean(alpha=0.05)
    assert (row["item_ci_low"], row["item_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))


def grouped_ratings(seed: int = 7) -> pd.DataFrame:
    """Four carriers; STO has much worse logistics only, the rest share one pattern."""
    rng = np.random.default_rng(seed)
    recs = []
    sizes = {"SF": 120, "STO": 150, "YTO": 12, "ZTO": 300}
    for carrier, n in sizes.items():
        common = rng.normal(size=n)
        for i in range(n):
            lat = 0.7 * common[i] + 0.7 * rng.normal(size=3)
            if carrier == "STO":
                lat[2] -= 1.2
            s = np.clip(np.round(4.4 + lat), 1, 5)
            recs.append(
                {
                    "day": int(rng.integers(0, 150)),
                    "item": s[0],
                    "service": s[1],
                    "logistics": s[2],
                    "carrier": carrier,
                }
            )
    return make_ratings(recs)


def test_shrinkage_matches_dersimonian_laird_from_statsmodels() -> None:
    df = grouped_ratings()
    t = dsr(df, by="carrier").to_pandas().set_index("carrier")
    for d in DIMENSIONS:
        g = df.groupby("carrier")[f"{d}_score"]
        y, n = g.mean(), g.count()
        within = sum(((x - x.mean()) ** 2).sum() for _, x in g)
        sigma2 = within / (n.sum() - len(n))  # pooled within-carrier variance
        v = sigma2 / n
        res = combine_effects(y.to_numpy(), v.to_numpy(), method_re="dl")
        mu = float(res.mean_effect_fe)  # inverse-variance weights ~ n: the shop mean
        assert mu == pytest.approx(df[f"{d}_score"].mean())
        expected = mu + res.tau2 / (res.tau2 + v) * (y - mu)
        assert t.loc[y.index, f"{d}_shrunk_score"].to_numpy() == pytest.approx(
            expected.to_numpy(), rel=1e-10
        )
    # the 12-rating carrier moves more toward the shop than the 300-rating one
    gap = (t["logistics_shrunk_score"] - t["logistics"]).abs()
    assert gap["YTO"] / abs(t.loc["YTO", "logistics"] - df["logistics_score"].mean()) > gap[
        "ZTO"
    ] / abs(t.loc["ZTO", "logistics"] - df["logistics_score"].mean())


def test_correlation_matches_scipy_pearson_with_fisher_interval() -> None:
    df = grouped_ratings()
    r = dsr(df)
    for row in r.correlation.itertuples(index=False):
        ref = stats.pearsonr(df[f"{row.dimension_a}_score"], df[f"{row.dimension_b}_score"])
        ci = ref.confidence_interval(0.95)
        assert row.r == pytest.approx(ref.statistic, rel=1e-10)
        assert (row.ci_low, row.ci_high) == (
            pytest.approx(ci.low, rel=1e-9),
            pytest.approx(ci.high, rel=1e-9),
        )
        assert row.n == len(df)


def test_departures_use_the_shops_regression_and_find_the_odd_dimension() -> None:
    df = grouped_ratings()
    r = dsr(df, by="carrier")
    dep = r.departures.set_index(["carrier", "dimension"])
    shop = {d: df[f"{d}_score"].mean() for d in DIMENSIONS}
    means = df.groupby("carrier")[[f"{d}_score" for d in DIMENSIONS]].mean()
    for d in DIMENSIONS:
        others = [o for o in DIMENSIONS if o != d]
        ols = smapi.OLS(
            df[f"{d}_score"], smapi.add_constant(df[[f"{o}_score" for o in others]])
        ).fit()
        for carrier in means.index:
            expect = sum(
                ols.params[f"{o}_score"] * (means.loc[carrier, f"{o}_score"] - shop[o])
                for o in others
            )
            assert dep.loc[(carrier, d), "expected_deviation"] == pytest.approx(
                expect, rel=1e-9, abs=1e-12
            )
    table = r.to_pandas().set_index("carrier")
    assert table.loc["STO", "departing_dimension"] == "logistics"
    assert table.loc["STO", "logistics"] < table.loc["ZTO", "logistics"] - 0.5


# ---------------------------------------------------------------- what-if


def test_what_if_arithmetic() -> None:
    # 4.8 on 20 ratings (spec example). To 4.9: (96 + 5k) / (20 + k) >= 4.9 -> k >= 20;
    # hand check: (96+100)/40 = 4.9 and (96+95)/39 = 4.897...
    w = dsr_what_if(4.8, 20, target=4.9)
    assert w.fives_needed == 20
    # one more 1-star: 97 / 21
    assert w.score_after == pytest.approx(97 / 21)
    assert w.change == pytest.approx(97 / 21 - 4.8)
    assert dsr_what_if(4.8, 20, target=5).fives_needed is None
    assert dsr_what_if(4.8, 20, target=4.8).fives_needed == 0
    with pytest.raises(ShopmetricsError, match="whole number of stars from 1 to 5, got 6"):
        dsr_what_if(4.8, 20, stars=6)


def test_fives_needed_by_date_drops_old_ratings() -> None:
    # as_of = day 200. Five 1-stars on day 30 (170 days old), fifteen 5-stars on day 190:
    # now (5 + 75) / 20 = 4.0. The 1-stars leave the window after day 209 (30 + 179).
    rows = [{"day": 30, "score": 1}] * 5 + [{"day": 190, "score": 5}] * 15
    df = make_ratings([{**r, "order_id": f"o{i}", "buyer": f"b{i}"} for i, r in enumerate(rows)])
    r = dsr(df, as_of=(DAY0 + pd.Timedelta(days=200)).date())
    now = r.fives_needed(4.5).set_index("dimension").loc["item"]
    # (80 + 5k)/(20 + k) >= 4.5 -> k >= 20 (hand)
    assert (now["score"], now["fives_needed"]) == (4.0, 20)
    later = (
        r.fives_needed(4.5, by_date=(DAY0 + pd.Timedelta(days=215)).date())
        .set_index("dimension")
        .loc["item"]
    )
    assert (later["n_at_date"], later["score_at_date"], later["fives_needed"]) == (15, 5.0, 0)
    soon = (
        r.fives_needed(4.5, by_date=(DAY0 + pd.Timedelta(days=209)).date())
        .set_index("dimension")
        .loc["item"]
    )
    assert soon["n_at_date"] == 20
    cost = r.cost_of(stars=1, count=2).set_index("dimension").loc["item"]
    assert cost["score_after"] == pytest.approx((80 + 2) / 22)


# ---------------------------------------------------------------- alerts


def test_low_ratings_newest_first_with_counts() -> None:
    df = make_ratings(
        [
            {"order_id": "a1", "buyer": "x", "day": 1, "score": 5, "ts": DAY0},
            {"order_id": "a2", "buyer": "x", "day": 2, "score": 5, "ts": DAY0},
            {"order_id": "a3", "buyer": "x", "day": 3, "score": 5, "ts": DAY0},
            {
                "order_id": "a4",
                "buyer": "x",
                "day": 4,
                "item": 1,
                "ts": DAY0 + pd.Timedelta(days=1),
            },
            {"order_id": "b1", "buyer": "y", "day": 4, "hour": 18, "logistics": 2, "service": 3},
            {"order_id": "b2", "buyer": "z", "day": 0, "item": 1},
            {"order_id": "b3", "buyer": "w", "day": 5, "service": 3},
        ]
    )
    low = low_ratings(df, since="2026-03-02").to_pandas()
    assert low["order_id"].tolist() == ["b1", "a4"]  # b2 is before `since`; b3 is a 3
    assert low["low_dimensions"].tolist() == ["logistics", "item"]
    assert low["counts"].tolist() == [True, False]  # a4 is the buyer's 4th in March
    with3 = low_ratings(df, since="2026-03-01", threshold=3, dimensions=["service"]).to_pandas()
    assert with3["order_id"].tolist() == ["b3", "b1"]
    default = low_ratings(df)  # last 7 days ending at the latest rating (2026-03-06)
    assert default.meta["since"] == dt.datetime(2026, 2, 28)


# ---------------------------------------------------------------- flags


def test_window_truncated_and_small_sample_flags() -> None:
    df = make_ratings([{"day": i, "score": 5} for i in range(5)])
    r = dsr(df)
    codes = {f.code for f in r.flags}
    assert {"window_truncated", "small_sample"} <= codes
    trunc = next(f for f in r.flags if f.code == "window_truncated")
    assert trunc.evidence["missing_days"] == 175  # 180-day window, 5 days of data
    assert not r.to_pandas().loc[0, "window_complete"]
    with sm.config_context(min_sample=3):
        assert "small_sample" not in {f.code for f in dsr(df).flags}


def test_rating_brushing_flag_on_demo_store(store: Any) -> None:
    r = dsr(store.ratings, store.orders)
    flag = next(f for f in r.flags if f.code == "rating_brushing")
    trap = next(t for t in store.traps if t.code == "order_brushing")
    assert flag.subject["days"] == [pd.Timestamp(trap.start).date().isoformat()]
    assert flag.n_rows == 30  # the trap: 30 orders from 10 buyers, rated 5/5/5
    # the score without them, recomputed from the ratings minus those orders
    brushed = set(
        store.orders.loc[
            store.orders["source"].isna()
            & (store.orders["product_id"] == trap.subject["product_id"]),
            "order_id",
        ]
    )
    rest = dsr(store.ratings[~store.ratings["order_id"].isin(brushed)], store.orders)
    for d in DIMENSIONS:
        assert flag.instead[d] == pytest.approx(rest.to_pandas().loc[0, d], rel=1e-12)
    # without the planted orders nothing else is flagged
    assert "rating_brushing" not in {f.code for f in rest.flags}


# ---------------------------------------------------------------- engines, inputs, errors


def test_demo_store_same_on_every_engine(constructor: Any, store: Any) -> None:
    base = dsr(store.ratings, store.orders, by="carrier", detect=False).to_pandas()
    other = dsr(
        constructor(store.ratings), constructor(store.orders), by="carrier", detect=False
    ).to_pandas()
    for d in DIMENSIONS:
        assert other[f"n_{d}"].tolist() == base[f"n_{d}"].tolist()
        assert other[d].to_numpy() == pytest.approx(base[d].to_numpy(), rel=1e-12)


def test_mixed_engines_and_no_mutation() -> None:
    df = make_ratings([{"order_id": f"o{i}", "day": i, "score": 5 - i % 3} for i in range(6)])
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(6)],
            "buyer_id": "b",
            "created_at": DAY0,
            "amount": 1.0,
            "paid_at": [DAY0] * 5 + [pd.NaT],
        }
    )
    before = df.copy(deep=True)
    r = dsr(df, pl.from_pandas(orders), detect=False)
    assert [e.reason for e in r.audit.excluded] == ["unpaid_trade"]
    pd.testing.assert_frame_equal(df, before)


def test_collects_only_small_tables(store: Any) -> None:
    with _engine.collect_spy() as log:
        dsr(store.ratings, store.orders, freq="W", by="carrier")
    sizes = dict(log)
    assert max(n for what, n in log if what != "dsr:heavy") <= 5 * 240  # carriers x days
    assert sizes["dsr:heavy"] < 40  # only the over-cap buyer-months come row by row


def test_errors_name_the_fix() -> None:
    df = make_ratings([{"day": 0}]).drop(columns=["service_score"])
    with pytest.raises(ColumnNotFoundError, match="service_score"):
        dsr(df)
    ok = make_ratings([{"day": 0}])
    with pytest.raises(DefinitionError, match="freq"):
        dsr(ok, freq="Q")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="partial"):
        dsr(ok, partial="some")  # type: ignore[arg-type]
    with pytest.raises(ShopmetricsError, match="window_days"):
        dsr(ok, window_days=0)
    with pytest.raises(ShopmetricsError, match="as_of"):
        dsr(ok, as_of="not a date")
    renamed = ok.rename(columns={"item_score": "宝贝与描述相符"})
    assert dsr(renamed).to_pandas().loc[0, "item"] == 5.0  # Chinese export headers map


def test_result_conversions_and_public_names() -> None:
    df = make_ratings([{"day": i, "item": 5 if i < 19 else 1} for i in range(20)])
    peers = pd.DataFrame(
        {"dimension": list(DIMENSIONS), "peer_avg": 4.7, "peer_max": 4.9, "peer_min": 4}
    )
    r = sm.dsr(df, peers=peers)
    assert isinstance(r, sm.DSRResult)
    md = r.to_markdown()
    # 4.8 vs peers 4.7 / max 4.9 -> 50.00% (percent format); the score itself is not a percent
    assert "| 50.00% |" in md
    assert "| 4.80 |" in md
    d = r.to_dict()
    assert d["kind"] == "dsr"
    assert d["rows"][0]["n_item"] == 20
    assert d["meta"]["as_of"] == "2026-03-20"
    assert sm.low_ratings is low_ratings
    assert sm.dsr_what_if is dsr_what_if


def test_days_are_cut_in_the_store_time_zone() -> None:
    # 2026-03-01 17:00 UTC is 2026-03-02 01:00 in Shanghai (UTC+8): it belongs to March 2nd
    df = make_ratings([{"day": 0, "hour": 17, "score": 2}, {"day": -1, "score": 4}])
    df["rated_at"] = df["rated_at"].dt.tz_localize("UTC")
    on_first = dsr(df, as_of="2026-03-01", tz="Asia/Shanghai", detect=False).to_pandas()
    assert (on_first.loc[0, "n_item"], on_first.loc[0, "item"]) == (1, 4.0)
    on_second = dsr(df, as_of="2026-03-02", tz="Asia/Shanghai", detect=False).to_pandas()
    assert on_second.loc[0, "n_item"] == 2
    assert any("converted to Asia/Shanghai" in n for n in dsr(df, tz="Asia/Shanghai").audit.notes)


def test_in_memory_ratings_are_prepared_once_with_the_same_figures(
    store: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # the prepared ratings (joined to their payments, with the rule columns) are computed
    # once on polars when both tables are in memory (engine.tables.settle): every figure,
    # flag and exclusion is the one of the lazy frame run query by query
    from shopmetrics.engine import ratings as engine_ratings
    from shopmetrics.engine import tables as engine_tables

    done: list[tuple[int, bool]] = []

    def spy(frame: Any, what: str, *tables: Any) -> Any:
        out = engine_tables.settle(frame, what, *tables)
        rows = int(out.select(nw.len()).collect().item())
        done.append((rows, out.to_native() is not frame.to_native()))
        return out

    with monkeypatch.context() as m:
        m.setattr(engine_ratings, "settle", spy)
        settled = dsr(store.ratings, store.orders, freq="W")
    assert done == [(len(store.ratings), True)]  # computed once, no rating lost or doubled
    with monkeypatch.context() as m:
        m.setattr(engine_ratings, "settle", lambda frame, what, *tables: frame)
        lazy = dsr(store.ratings, store.orders, freq="W")
    pd.testing.assert_frame_equal(settled.table, lazy.table)
    assert settled.flags == lazy.flags
    assert settled.audit.excluded == lazy.audit.excluded
    assert settled.audit.rows_in == lazy.audit.rows_in
    # a file scan is left to its engine: nothing is computed ahead
    path = tmp_path / "ratings.parquet"
    store.ratings.to_parquet(path)
    with sm.config_context(engine="polars"), monkeypatch.context() as m:
        m.setattr(engine_ratings, "settle", spy)
        scanned = dsr(str(path), store.orders, freq="W")
        assert not engine_tables.load(str(path), "ratings").in_memory
        assert engine_tables.load(store.ratings, "ratings").in_memory
        assert not engine_tables.load(pl.from_pandas(store.ratings).lazy(), "ratings").in_memory
    assert done[1][1] is False  # the scan's frame returned as it was
    pd.testing.assert_frame_equal(scanned.table, lazy.table)


def test_ratings_prepared_once_for_the_dsr_and_the_low_ratings(store: Any) -> None:
    # the weekly report's DSR section: inside sharing_prepared the low ratings reuse the
    # DSR's prepared ratings; every figure, note and exclusion is the one of separate calls
    # (dsr appends its own notes to the prepared ratings: the second call must not see them)
    from shopmetrics.engine.ratings import sharing_prepared

    rt, od = _engine.load(store.ratings, "ratings"), _engine.load(store.orders, "orders")
    since = pd.Timestamp(store.ratings["rated_at"].max()).normalize() - pd.Timedelta(days=7)
    alone_dsr, alone_low = dsr(rt, od, freq="W"), low_ratings(rt, since=since, orders=od)
    with sharing_prepared():
        shared_dsr, shared_low = dsr(rt, od, freq="W"), low_ratings(rt, since=since, orders=od)
    pd.testing.assert_frame_equal(shared_dsr.table, alone_dsr.table)
    pd.testing.assert_frame_equal(shared_low.table, alone_low.table)
    for shared, alone in ((shared_dsr, alone_dsr), (shared_low, alone_low)):
        assert shared.audit.notes == alone.audit.notes
        assert shared.audit.excluded == alone.audit.excluded
        assert shared.audit.rows_in == alone.audit.rows_in
    steps = [c.what for c in shared_low.audit.collected]
    assert "dsr:audit" in [c.what for c in alone_low.audit.collected]
    assert "dsr:audit" not in steps  # prepared once: its audit query is not run again
