"""sm.ab_test and sm.ab_sample_size: from counts, from events on every engine, flags.

Every figure is checked against a second implementation called in the test (statsmodels,
scipy) or a published example (R's power.prop.test documentation), or counted by hand
from a table written out here.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion as smp
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

import shopmetrics as sm
from shopmetrics.errors import ColumnNotFoundError, DefinitionError, ShopmetricsError

COLUMNS = [
    "variant", "successes", "trials", "rate", "control_rate", "diff", "diff_ci_low",
    "diff_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "p_adjusted",
    "significant",
]  # fmt: skip


def test_counts_three_variants_against_statsmodels():
    x, n = [300, 360, 345, 290], [10000, 10000, 9900, 10050]
    res = sm.ab_test(x, n, ["control", "red", "blue", "green"])
    df = res.to_pandas()
    assert set(COLUMNS) <= set(df.columns)
    assert list(df["variant"]) == ["red", "blue", "green"]
    assert res.control == "control"
    pvals = []
    for i, row in df.iterrows():
        a, b = x[i + 1], n[i + 1]
        d = smp.confint_proportions_2indep(a, b, 300, 10000, method="newcomb", compare="diff")
        r = smp.confint_proportions_2indep(a, b, 300, 10000, method="score", compare="ratio")
        t = smp.test_proportions_2indep(a, b, 300, 10000, method="score", correction=False)
        assert row["rate"] == pytest.approx(a / b)
        assert row["control_rate"] == pytest.approx(0.03)
        assert row["diff"] == pytest.approx(a / b - 0.03)
        assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(d, abs=1e-10)
        assert row["ratio"] == pytest.approx((a / b) / 0.03)
        assert (row["ratio_ci_low"], row["ratio_ci_high"]) == pytest.approx(r, rel=1e-6)
        assert row["p_value"] == pytest.approx(t.pvalue, rel=1e-9)
        pvals.append(t.pvalue)
    reject, holm, _, _ = multipletests(pvals, alpha=0.05, method="holm")
    assert df["p_adjusted"].to_numpy() == pytest.approx(holm, rel=1e-9)
    assert list(df["significant"]) == list(reject)
    assert "holm correction over 3 comparisons" in res.definition


def test_bh_and_no_correction_by_name():
    x, n = [300, 360, 345], [10000, 10000, 10000]
    p_none = sm.ab_test(x, n, correction="none").to_pandas()
    p_bh = sm.ab_test(x, n, correction="bh").to_pandas()
    assert (p_none["p_adjusted"] == p_none["p_value"]).all()
    _, bh, _, _ = multipletests(p_none["p_value"], method="fdr_bh")
    assert p_bh["p_adjusted"].to_numpy() == pytest.approx(bh)
    with pytest.raises(DefinitionError, match="unknown correction 'bonferoni'"):
        sm.ab_test(x, n, correction="bonferoni")


def test_small_counts_use_fisher_and_are_flagged():
    res = sm.ab_test([1, 6], [12, 14], ["A", "B"])
    row = res.to_pandas().iloc[0]
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(stats.fisher_exact([[6, 8], [1, 11]]).pvalue)
    codes = {f.code for f in res.flags}
    assert "small_sample" in codes


def test_zero_trials_give_nan_and_a_flag_not_an_error():
    res = sm.ab_test([10, 0, 12], [400, 0, 410])
    df = res.to_pandas()
    assert np.isnan(df.loc[0, "p_value"])
    assert np.isnan(df.loc[0, "diff"])
    assert not df.loc[0, "significant"]
    assert np.isfinite(df.loc[1, "p_value"])
    assert df.loc[1, "p_adjusted"] == pytest.approx(df.loc[1, "p_value"])  # one real test
    assert "no_trials" in {f.code for f in res.flags}
    json.loads(res.to_json())  # NaN becomes null, everything serialisable


def test_bad_counts_raise_with_the_variant_named():
    with pytest.raises(ShopmetricsError, match=r"'B'.*successes=12, trials=10"):
        sm.ab_test([1, 12], [10, 10])
    with pytest.raises(ShopmetricsError, match="same 1-D shape"):
        sm.ab_test([1, 2], [10])
    with pytest.raises(ShopmetricsError, match="at least two variants"):
        sm.ab_test([1], [10])
    with pytest.raises(ShopmetricsError, match="control 'Z'"):
        sm.ab_test([1, 2], [10, 10], control="Z")


def test_control_can_be_named():
    a = sm.ab_test([30, 20], [1000, 1000], ["new", "old"], control="old").to_pandas()
    assert a.loc[0, "variant"] == "new"
    assert a.loc[0, "control_rate"] == pytest.approx(0.02)


def test_sample_ratio_mismatch():
    # 5000 vs 5400 planned 50/50: chi-square p = 7.4e-5 (scipy.stats.chisquare)
    res = sm.ab_test([150, 160], [5000, 5400])
    assert res.srm_p_value == pytest.approx(stats.chisquare([5000, 5400]).pvalue)
    srm = [f for f in res.flags if f.code == "sample_ratio_mismatch"]
    assert srm
    assert srm[0].severity == "error"
    # the same counts under a planned 1:1.08 split are fine
    ok = sm.ab_test([150, 160], [5000, 5400], split=[1, 1.08])
    assert ok.srm_p_value == pytest.approx(1.0)
    assert "sample_ratio_mismatch" not in {f.code for f in ok.flags}
    with pytest.raises(ShopmetricsError, match="split has 3 weights"):
        sm.ab_test([150, 160], [5000, 5400], split=[1, 1, 1])


def test_power_column_and_underpowered_flag():
    res = sm.ab_test([120, 130], [4000, 4000], power_lift=0.1, power_method="arcsine")
    row = res.to_pandas().iloc[0]
    h = smp.proportion_effectsize(0.033, 0.03)
    ref = NormalIndPower().power(h, nobs1=4000, alpha=0.05, ratio=1.0)
    assert row["power"] == pytest.approx(ref, rel=1e-9)
    under = [f for f in res.flags if f.code == "underpowered"]
    assert under
    assert "power" in under[0].message


def test_one_sided_alternative():
    two = sm.ab_test([100, 125], [4000, 4000]).to_pandas().loc[0, "p_value"]
    one = sm.ab_test([100, 125], [4000, 4000], alternative="greater").to_pandas()
    ref = smp.test_proportions_2indep(
        125, 4000, 100, 4000, method="score", correction=False, alternative="larger"
    )
    assert one.loc[0, "p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert one.loc[0, "p_value"] == pytest.approx(two / 2, rel=1e-9)


# ---------------------------------------------------------------- sequential


def test_sequential_always_valid_from_cumulative_looks():
    x = [[10, 12], [50, 70], [120, 150]]
    n = [[400, 400], [2000, 2000], [4000, 4000]]
    seq = sm.ab_test(x, n, sequential="always-valid", mixing_variance=0.003**2)
    fixed = sm.ab_test(x[-1], n[-1])
    s, f = seq.to_pandas().iloc[0], fixed.to_pandas().iloc[0]
    assert s["test"] == "msprt"
    assert s["p_value"] >= f["p_value"]
    assert s["diff_ci_low"] <= f["diff_ci_low"]
    assert s["diff_ci_high"] >= f["diff_ci_high"]
    assert np.isnan(s["ratio_ci_low"])
    assert np.isnan(s["power"])
    assert seq.looks is not None
    assert len(seq.looks) == 3
    assert seq.looks["p_value"].is_monotonic_decreasing
    assert s["p_value"] == pytest.approx(seq.looks["p_value"].iloc[-1])
    with pytest.raises(DefinitionError, match="mixing_variance"):
        sm.ab_test(x, n, sequential="always-valid")
    with pytest.raises(ShopmetricsError, match="cumulative"):
        sm.ab_test([[10, 12], [5, 70]], [[400, 400], [2000, 2000]])


def test_fixed_horizon_on_looks_says_so():
    res = sm.ab_test([[10, 12], [50, 70]], [[400, 400], [2000, 2000]])
    assert any("sequential='always-valid'" in note for note in res.audit.notes)
    assert res.to_pandas().loc[0, "successes"] == 70


# ---------------------------------------------------------------- sample size


def test_sample_size_matches_r_and_statsmodels():
    # R: power.prop.test(p1 = .50, p2 = .75, power = .90) ## => n = 76.7
    r = sm.ab_sample_size(0.5, 0.5, power=0.9)
    assert r.n_control == 77
    assert r.n_total == 154
    assert r.table.loc[0, "target"] == pytest.approx(0.75)
    # statsmodels NormalIndPower with Cohen's h, 3 % baseline, +10 %, 1:2 split
    a = sm.ab_sample_size(0.03, 0.1, ratio=2, method="arcsine")
    ref = NormalIndPower().solve_power(
        smp.proportion_effectsize(0.033, 0.03), alpha=0.05, power=0.8, ratio=2
    )
    assert a.n_control == int(np.ceil(ref))
    assert a.n_treatment == int(np.ceil(2 * ref))


def test_sample_size_table_absolute_lift_and_days():
    r = sm.ab_sample_size(0.05, [0.005, 0.01], relative=False, daily_trials=1000)
    df = r.to_pandas()
    assert list(df["target"]) == pytest.approx([0.055, 0.06])
    assert (df["days"] == np.ceil(df["n_total"] / 1000)).all()
    assert df.loc[0, "n_control"] > df.loc[1, "n_control"]
    with pytest.raises(ShopmetricsError, match="2 rows"):
        _ = r.n_control
    with pytest.raises(DefinitionError, match="strictly between 0 and 1"):
        sm.ab_sample_size(0.5, 1.5)


# ---------------------------------------------------------------- from events

T0 = dt.datetime(2026, 3, 2, 10, 0)
D1 = dt.timedelta(days=1)
M = dt.timedelta(minutes=5)


def _events() -> pd.DataFrame:
    rows = []
    # control A: 6 visitors, a1 (day 1) and a2 (day 2) add to cart
    for v, day in [("a1", 0), ("a2", 0), ("a3", 0), ("a4", 1), ("a5", 1), ("a6", 1)]:
        rows.append((T0 + day * D1, v, "visit", "A"))
    rows += [(T0 + M, "a1", "cart", "A"), (T0 + D1 + M, "a2", "cart", "A")]
    # treatment B: 5 visitors, b1 (day 1), b2 (day 2) and b3 carts; b3's cart is logged
    # before its visit (day 1 cart, day 2 visit): a success on day 2
    for v, day in [("b1", 0), ("b2", 0), ("b3", 1), ("b4", 1), ("b5", 1)]:
        rows.append((T0 + day * D1, v, "visit", "B"))
    rows += [
        (T0 + M, "b1", "cart", "B"),
        (T0 + D1 + M, "b2", "cart", "B"),
        (T0 + M, "b3", "cart", "B"),
        (T0 + 2 * M, "b1", "visit", "B"),  # a second visit: still one visitor
        (T0 + 2 * M, "b1", "exposure", "B"),  # another event: not used
    ]
    # x was shown both variants: left out; c1 carted without a visit: left out
    rows += [(T0, "x", "visit", "A"), (T0 + M, "x", "visit", "B")]
    rows += [(T0 + D1, "c1", "cart", "B")]
    # a row with no variant
    rows += [(T0, "a1", "visit", None)]
    return pd.DataFrame(rows, columns=["ts", "visitor_id", "event", "group"])


def test_events_counts_by_hand_on_every_engine(constructor):
    ev = _events()
    native = constructor(ev)
    res = sm.ab_test(events=native, variant="group", metric="cart", control="A")
    row = res.to_pandas().iloc[0]
    assert (row["variant"], row["successes"], row["trials"]) == ("B", 3, 5)
    assert (row["control_successes"], row["control_trials"]) == (2, 6)
    counts = sm.ab_test([2, 3], [6, 5], ["A", "B"]).to_pandas().iloc[0]
    for col in ("diff", "diff_ci_low", "diff_ci_high", "p_value", "ratio_ci_high"):
        assert row[col] == pytest.approx(counts[col], rel=1e-12, nan_ok=True)
    excluded = {e.reason: e.rows for e in res.audit.excluded}
    assert excluded == {
        "null group": 1,
        "visitor in several variants": 2,
        "cart without visit": 1,
    }
    assert res.audit.rows_in == {"events": len(ev)}
    assert "variant_contamination" in {f.code for f in res.flags}
    assert len(ev) == 22  # the caller's table is untouched


def test_events_daily_looks_and_window(constructor):
    native = constructor(_events())
    res = sm.ab_test(
        events=native, variant="group", metric="cart", control="A",
        sequential="always-valid", mixing_variance=0.1**2,
    )  # fmt: skip
    looks = res.looks
    assert looks is not None
    assert list(looks["look"]) == ["2026-03-02", "2026-03-03"]
    # day 1: A 3 visitors (a1 carted), B 2 visitors (b1 carted); day 2: 6/2 and 5/3
    assert list(looks["control_trials"]) == [3, 6]
    assert list(looks["control_successes"]) == [1, 2]
    assert list(looks["trials"]) == [2, 5]
    assert list(looks["successes"]) == [1, 3]
    # a window keeping day 1 only
    day1 = sm.ab_test(
        events=constructor(_events()), variant="group", metric="cart", control="A",
        end=T0.replace(hour=0) + D1,
    ).to_pandas().iloc[0]  # fmt: skip
    assert (day1["successes"], day1["trials"], day1["control_trials"]) == (1, 2, 3)
    assert day1["control_successes"] == 1


def test_events_errors():
    ev = _events()
    with pytest.raises(ShopmetricsError, match="variant='your_column'"):
        sm.ab_test(events=ev, metric="cart")
    with pytest.raises(ColumnNotFoundError, match="column 'arm' not found"):
        sm.ab_test(events=ev, variant="arm", metric="cart")
    with pytest.raises(DefinitionError, match="unknown metric 'purchase'"):
        sm.ab_test(events=ev, variant="group", metric="purchase")
    with pytest.raises(ShopmetricsError, match="control 'Z' not found"):
        sm.ab_test(events=ev, variant="group", metric="cart", control="Z")
    with pytest.raises(ShopmetricsError, match="either counts"):
        sm.ab_test([1, 2], [3, 4], events=ev, variant="group", metric="cart")


def test_events_default_control_is_stated():
    res = sm.ab_test(events=_events(), variant="group", metric="cart")
    assert res.control == "A"
    assert any("control not given" in note for note in res.audit.notes)


def test_result_displays():
    res = sm.ab_test([120, 150], [4000, 4000], ["old", "new"])
    assert "ABTestResult(1 rows" in repr(res)
    assert "| new |" in res.to_markdown()
    assert "<table" in res._repr_html_()
    assert res.to_dicts()[0]["variant"] == "new"
