"""Period comparisons, movers and the mix decomposition against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

import shopmetrics as sm


def _funnel_two_weeks(
    rates: dict[str, tuple[float, float]], visitors: dict[str, tuple[int, int]]
) -> sm.FunnelResult:
    """A tiny store: per source and week, `visitors` visit and a fraction `rate` buy."""
    ev, od = [], []
    for src, (v0, v1) in visitors.items():
        for week, n in ((0, v0), (1, v1)):
            day = pd.Timestamp("2026-11-09") + pd.Timedelta(days=7 * week)
            buyers = round(n * rates[src][week])
            for i in range(n):
                vid = f"{src}-{week}-{i}"
                ev.append((day + pd.Timedelta(hours=10), vid, "visit", src))
                if i < buyers:
                    od.append(
                        (
                            f"o-{vid}",
                            vid,
                            day + pd.Timedelta(hours=11),
                            day + pd.Timedelta(hours=11, minutes=2),
                            50.0,
                            src,
                        )
                    )
    events = pd.DataFrame(ev, columns=["ts", "visitor_id", "event", "source"])
    orders = pd.DataFrame(
        od, columns=["order_id", "buyer_id", "created_at", "paid_at", "amount", "source"]
    )
    return sm.funnel(events, orders, by="source", freq="W")


def test_proportion_rows_match_statsmodels_newcombe() -> None:
    res = _funnel_two_weeks(
        {"a": (0.05, 0.08), "b": (0.02, 0.02)}, {"a": (400, 500), "b": (300, 300)}
    )
    c = sm.compare(res, metrics=["payment_conversion"]).to_pandas().set_index("source")
    # reference: statsmodels confint_proportions_2indep(method="newcomb") (Newcombe 1998 method 10)
    lo, hi = confint_proportions_2indep(40, 500, 20, 400, method="newcomb", compare="diff")
    assert c.loc["a", "diff"] == pytest.approx(40 / 500 - 20 / 400)
    assert c.loc["a", "diff_ci_low"] == pytest.approx(lo)
    assert c.loc["a", "diff_ci_high"] == pytest.approx(hi)
    assert c.loc["a", "rel_change"] == pytest.approx((40 / 500) / (20 / 400) - 1)


def test_bh_applied_across_groups_and_metrics() -> None:
    res = _funnel_two_weeks(
        {"a": (0.05, 0.15), "b": (0.02, 0.021), "c": (0.1, 0.1)},
        {"a": (400, 400), "b": (300, 300), "c": (200, 220)},
    )
    c = sm.compare(res)
    t = c.to_pandas()
    ok = t["p_value"].notna()
    ref = multipletests(t.loc[ok, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(t.loc[ok, "p_adjusted"], ref)
    assert c.meta["correction"] == "bh"
    sig = t[(t["metric"] == "payment_conversion") & t["significant"]]["source"].tolist()
    assert sig == ["a"]
    holm = sm.compare(res, correction="holm").to_pandas()
    np.testing.assert_allclose(
        holm.loc[ok, "p_adjusted"], multipletests(t.loc[ok, "p_value"], method="holm")[1]
    )


def test_two_results_and_errors() -> None:
    a = _funnel_two_weeks({"a": (0.05, 0.08)}, {"a": (400, 500)})
    weeks = sorted(a.table["period"].unique())
    cur = sm.compare(a, current_period=weeks[1], previous_period=weeks[0]).to_pandas()
    again = sm.compare(a).to_pandas()
    pd.testing.assert_frame_equal(cur, again)
    with pytest.raises(sm.SchemaError, match="not in the result"):
        sm.compare(a, current_period="2030-W01")
    with pytest.raises(sm.DefinitionError, match="correction"):
        sm.compare(a, correction="bonferroni")


def test_mix_shift_reported_as_mix_not_rate_drop(store: sm.datasets.Store) -> None:
    weekly = sm.funnel(store.events, store.orders, by="source", freq="W")
    mix = [f for f in weekly.flags if f.code == "mix_shift"]
    assert len(mix) == 1
    ev = mix[0].evidence
    assert ev["mix_effect"] < 0
    assert abs(ev["mix_effect"]) > abs(ev["rate_effect"])
    d = sm.mix_decomposition(weekly.table, "source", "2026-W46", "2026-W47")
    total = d[d["source"] == "(total)"].iloc[0]
    assert total["mix_effect"] + total["rate_effect"] == pytest.approx(
        total["rate_cur"] - total["rate_prev"]
    )
    # the planted shift: display's share of visitors rises (see datasets.Trap "mix_shift")
    display = d[d["source"] == "display"].iloc[0]
    assert display["share_cur"] > display["share_prev"] + 0.1
    # and no source's own conversion fell significantly
    c = sm.compare(weekly, metrics=["payment_conversion"]).to_pandas()
    assert not (c["significant"] & (c["diff"] < 0)).any()


def test_simpson_detected_on_constructed_data() -> None:
    # both segments improve, but traffic moves to the low-converting one: the total falls.
    res = _funnel_two_weeks(
        {"hi": (0.10, 0.11), "lo": (0.01, 0.012)}, {"hi": (900, 100), "lo": (100, 900)}
    )
    d = sm.mix_decomposition(res.table, "source", *sorted(res.table["period"].unique()))
    assert bool(d.iloc[-1]["simpson"]) is True
    assert "mix_shift" in {f.code for f in res.flags}


def test_movers_ranked_by_effect_with_explanations() -> None:
    # planted movers of known size: effect on the store's rate = Δrate × visitors / Σ visitors
    res = _funnel_two_weeks(
        rates={
            "a": (0.05, 0.10),  # +0.05 × 2000 / 12000 = +0.00833
            "b": (0.05, 0.07),  # +0.02 × 4000 / 12000 = +0.00667
            "c": (0.10, 0.04),  # -0.06 × 1000 / 12000 = -0.00500
            "d": (0.06, 0.06),  # unchanged
            "e": (0.05, 0.05),  # unchanged
        },
        visitors={
            "a": (2000, 2000),
            "b": (4000, 4000),
            "c": (1000, 1000),
            "d": (3000, 3000),
            "e": (2000, 2000),
        },
    )
    m = sm.movers(res, top=20)
    assert m["source"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(
        m["effect_on_total"], [0.05 * 2000 / 12000, 0.02 * 4000 / 12000, -0.06 * 1000 / 12000]
    )
    assert m["direction"].tolist() == ["up", "up", "down"]
    assert m["significant"].all()
    assert (m["explained_by"] == "").all()  # nothing planted that could explain them
    assert sm.movers(res, top=2)["source"].tolist() == ["a", "b"]


def test_fdr_controlled_in_simulation() -> None:
    # 200 products, 20 truly changed (rate 3% -> 6%), 30 seeds: realised FDP near or below 5%.
    rng = np.random.default_rng(42)
    fdps, power = [], []
    from shopmetrics.stats import multiplicity, twosample

    for _ in range(30):
        n = rng.integers(800, 3000, size=200)
        p0 = np.full(200, 0.03)
        p1 = p0.copy()
        p1[:20] = 0.06
        x0, x1 = rng.binomial(n, p0), rng.binomial(n, p1)
        c = twosample.compare_proportions(x1, n, x0, n)
        sig = multiplicity.adjust_pvalues(c.p_value, "bh") < 0.05
        false = sig[20:].sum()
        fdps.append(false / max(sig.sum(), 1))
        power.append(sig[:20].mean())
    assert np.mean(fdps) <= 0.07
    assert np.mean(power) >= 0.8


def _clustered_two_weeks(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two sources over two weeks; each buyer pays 1-4 orders (clustered), lognormal
    amounts with two decimals, some lines partly refunded; numeric ids as the exports have."""
    rng = np.random.default_rng(seed)
    ev, od = [], []
    for s, src in enumerate(("search", "display")):
        for week in (0, 1):
            day = pd.Timestamp("2026-11-09") + pd.Timedelta(days=7 * week)
            n = 600 + 150 * s + 80 * week
            for i in range(n):
                vid = 10_000_000 + 100_000 * s + 10_000 * week + i
                ev.append((day + pd.Timedelta(hours=9), vid, "visit", src))
                if rng.uniform() < 0.06 + 0.02 * week:
                    for k in range(rng.integers(1, 5)):
                        amount = round(float(rng.lognormal(4.0, 0.9)), 2)
                        refund = round(amount * 0.5, 2) if rng.uniform() < 0.15 else 0.0
                        t = day + pd.Timedelta(hours=10, minutes=5 * k)
                        od.append(
                            (vid * 10 + k, vid, t, t + pd.Timedelta(minutes=1), amount, src, refund)
                        )
    events = pd.DataFrame(ev, columns=["ts", "visitor_id", "event", "source"])
    cols = ["order_id", "buyer_id", "created_at", "paid_at", "amount", "source", "refund_amount"]
    return events, pd.DataFrame(od, columns=cols)


@pytest.mark.parametrize("metric", ["aov", "visitor_value", "visitor_value_net"])
def test_mean_changes_match_statsmodels_on_per_buyer_values(metric: str) -> None:
    """compare's change of aov / visitor value (gross and net of refunds) is the
    unequal-variance z test of two means over BUYERS (each buyer's orders summed) or
    visitors (0 for non-buyers), as statsmodels' CompareMeans computes it from the raw
    rows grouped by pandas: not per order, and not from the intervals."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    events, orders = _clustered_two_weeks(3)
    res = sm.visitor_value(events, orders, by="source", freq="W")
    c = sm.compare(res, metrics=[metric]).to_pandas().set_index("source")
    orders = orders.assign(
        week=orders["paid_at"].dt.isocalendar().week, net=orders["amount"] - orders["refund_amount"]
    )
    value = "net" if metric == "visitor_value_net" else "amount"
    per_buyer = orders.groupby(["source", "week", "buyer_id"])[value].sum()
    visits = events.assign(week=events["ts"].dt.isocalendar().week)
    n_visitors = visits.groupby(["source", "week"])["visitor_id"].nunique()
    weeks = sorted(orders["week"].unique())
    for src in ("search", "display"):
        arms = []
        for w in weeks[::-1]:  # current week first
            y = per_buyer.loc[(src, w)].to_numpy()
            if metric != "aov":  # every visitor, 0 for those who did not buy
                y = np.concatenate([y, np.zeros(n_visitors[(src, w)] - len(y))])
            arms.append(DescrStatsW(y))
        cm = CompareMeans(*arms)
        _, p = cm.ztest_ind(usevar="unequal")
        lo, hi = cm.zconfint_diff(alpha=0.05, usevar="unequal")
        row = c.loc[src]
        assert row["diff"] == pytest.approx(arms[0].mean - arms[1].mean, rel=1e-12)
        assert row["p_value"] == pytest.approx(p, rel=1e-9)
        assert row["diff_ci_low"] == pytest.approx(lo, rel=1e-9)
        assert row["diff_ci_high"] == pytest.approx(hi, rel=1e-9)
        assert row["test"] == "delta-z"


def test_relative_change_intervals_match_independent_references() -> None:
    """rel_change + 1 is a ratio: for a rate, statsmodels' score interval of the ratio of
    two proportions; for aov, Fieller's interval from the per-buyer means and their
    variances computed here by numpy from the raw rows."""
    res = _funnel_two_weeks(
        {"a": (0.05, 0.08), "b": (0.02, 0.02)}, {"a": (400, 500), "b": (300, 300)}
    )
    c = sm.compare(res, metrics=["payment_conversion"]).to_pandas().set_index("source")
    lo, hi = confint_proportions_2indep(40, 500, 20, 400, method="score", compare="ratio")
    assert c.loc["a", "rel_change_ci_low"] == pytest.approx(lo - 1, rel=1e-6)
    assert c.loc["a", "rel_change_ci_high"] == pytest.approx(hi - 1, rel=1e-6)

    events, orders = _clustered_two_weeks(4)
    t = sm.compare(sm.visitor_value(events, orders, freq="W"), metrics=["aov"]).to_pandas()
    week = orders["paid_at"].dt.isocalendar().week
    per_buyer = orders.groupby([week, orders["buyer_id"]])["amount"].sum()
    (w0, y0), (w1, y1) = [(w, g.to_numpy()) for w, g in per_buyer.groupby(level=0)]
    a, b = y1.mean(), y0.mean()
    va, vb = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
    z2 = 1.959963984540054**2
    # Fieller (1954), independent case: roots of θ²(b² - z²vb) - 2θab + (a² - z²va) = 0
    roots = np.roots([b * b - z2 * vb, -2 * a * b, a * a - z2 * va])
    assert w1 > w0
    assert t["rel_change_ci_low"].iloc[0] == pytest.approx(roots.min() - 1, rel=1e-9)
    assert t["rel_change_ci_high"].iloc[0] == pytest.approx(roots.max() - 1, rel=1e-9)
