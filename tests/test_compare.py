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
