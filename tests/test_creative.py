"""Creative tests on CTR per impression (issue 19): counts by hand, the delta-method
variance against statsmodels' cluster-robust standard error, and the old recipe's error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as smapi

import shopmetrics as sm
from shopmetrics.creative import compare_ctr
from shopmetrics.stats.aggregates import Aggregates

from .conftest import Constructor


def _list_page_events(seed: int = 5, visitors: int = 400) -> pd.DataFrame:
    """A main-image test on a list page: each visitor sees their image 5-40 times and clicks
    now and then (each visitor with their own propensity); numeric visitor ids."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(visitors):
        image = "white background" if v % 2 else "current"
        p = rng.beta(0.8, 20 if image == "current" else 16)
        n_exp = int(rng.integers(5, 41))
        t0 = pd.Timestamp("2026-11-16 08:00") + pd.Timedelta(minutes=3 * v)
        for i in range(n_exp):
            ts = t0 + pd.Timedelta(seconds=20 * i)
            rows.append((ts, 880_000 + v, "exposure", image))
            if rng.random() < p:
                rows.append((ts + pd.Timedelta(seconds=2), 880_000 + v, "click", image))
    return pd.DataFrame(rows, columns=["ts", "visitor_id", "event", "image"])


def test_ctr_is_clicks_over_exposures(constructor: Constructor) -> None:
    ev = _list_page_events()
    res = sm.ctr_test(constructor(ev), variant="image", control="current")
    row = res.to_pandas().iloc[0]
    counts = ev.groupby(["image", "event"]).size().unstack()
    assert row["variant"] == "white background"
    assert row["exposures"] == counts.loc["white background", "exposure"]
    assert row["clicks"] == counts.loc["white background", "click"]
    assert row["rate"] == pytest.approx(
        counts.loc["white background", "click"] / counts.loc["white background", "exposure"]
    )
    assert row["control_rate"] == pytest.approx(
        counts.loc["current", "click"] / counts.loc["current", "exposure"]
    )
    assert row["visitors"] == ev[ev["image"] == "white background"]["visitor_id"].nunique()


def test_delta_variance_matches_statsmodels_cluster_robust_se() -> None:
    """Reference: OLS of the per-impression click indicator on a constant with standard errors
    clustered by visitor (statsmodels, ``use_correction=False``) is the sandwich
    Σ_v (c_v − R e_v)² / (Σe)²; the delta method uses sample (n − 1) moments, so
    Var_delta = Var_sandwich · n / (n − 1) exactly (Deng, Knoblich & Lu 2018, section 3)."""
    ev = _list_page_events(seed=11)
    res = sm.ctr_test(ev, variant="image", control="current", confidence=0.95)
    row = res.to_pandas().iloc[0]
    for image, rate_col, low_col in (
        ("white background", "rate", "rate_ci_low"),
        ("current", "control_rate", None),
    ):
        arm = ev[(ev["image"] == image) & (ev["event"] == "exposure")]
        clicks = ev[(ev["image"] == image) & (ev["event"] == "click")].groupby("visitor_id").size()
        # per impression: spread each visitor's clicks over their exposures as 0/1 outcomes
        per_v = arm.groupby("visitor_id").size().to_frame("e").join(clicks.rename("c")).fillna(0)
        y = np.concatenate(
            [
                np.r_[np.ones(int(c)), np.zeros(int(e - c))]
                for e, c in zip(per_v.e, per_v.c, strict=True)
            ]
        )
        groups = np.repeat(np.arange(len(per_v)), per_v["e"].astype(int))
        fit = smapi.OLS(y, np.ones_like(y)).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
        )
        n = len(per_v)
        se_delta = float(fit.bse[0]) * np.sqrt(n / (n - 1))
        assert row[rate_col] == pytest.approx(float(fit.params[0]))
        if low_col:
            assert row["rate"] - row[low_col] == pytest.approx(1.959963984540054 * se_delta)


def test_the_old_recipe_counts_visitors_not_impressions() -> None:
    ev = _list_page_events()
    old = (
        sm.ab_test(
            events=ev, variant="image", metric="click", trials_event="exposure", control="current"
        )
        .to_pandas()
        .iloc[0]
    )
    new = sm.ctr_test(ev, variant="image", control="current").to_pandas().iloc[0]
    arm = ev[ev["image"] == "white background"]
    clicked = arm[arm["event"] == "click"]["visitor_id"].nunique() / arm["visitor_id"].nunique()
    assert old["rate"] == pytest.approx(clicked)  # visitors who clicked at least once
    assert new["rate"] == pytest.approx(
        (arm["event"] == "click").sum() / (arm["event"] == "exposure").sum()
    )
    assert old["rate"] > 3 * new["rate"]
    # impressions within a visitor are correlated: the variance is above the binomial one
    assert new["design_effect"] > 1.5


def test_compare_ctr_holm_and_ratio_interval() -> None:
    # three arms of per-visitor (exposures, clicks)
    arms = [
        Aggregates.from_units(exposures=[10, 20, 30, 40] * 50, clicks=[0, 1, 2, 1] * 50),
        Aggregates.from_units(exposures=[10, 20, 30, 40] * 50, clicks=[1, 2, 2, 3] * 50),
        Aggregates.from_units(exposures=[10, 20, 30, 40] * 50, clicks=[0, 1, 2, 2] * 50),
    ]
    t = compare_ctr(Aggregates.concat(arms), ["A", "B", "C"], confidence=0.95)
    assert t["rate"].tolist() == pytest.approx([8 / 100, 5 / 100])
    assert t["control_rate"].iloc[0] == pytest.approx(4 / 100)
    # Holm over two p-values: the smaller times 2, the larger kept (both capped at 1)
    p = np.sort(t["p_value"].to_numpy())
    assert np.sort(t["p_adjusted"].to_numpy()) == pytest.approx(
        [min(1, 2 * p[0]), max(min(1, 2 * p[0]), p[1])]
    )
    # the ratio interval is symmetric on the log scale around the ratio
    np.testing.assert_allclose(
        np.log(t["ratio"]) - np.log(t["ratio_ci_low"]),
        np.log(t["ratio_ci_high"]) - np.log(t["ratio"]),
    )


def test_ctr_test_errors_name_the_fix() -> None:
    ev = _list_page_events(visitors=20)
    with pytest.raises(sm.ShopmetricsError, match="control 'nope' not found in column 'image'"):
        sm.ctr_test(ev, variant="image", control="nope")
    with pytest.raises(sm.DefinitionError, match="unknown correction 'bonf'; choose one of"):
        sm.ctr_test(ev, variant="image", correction="bonf")
