"""sm.anomalies: weekly seasonality is not an alarm, a collapse is, gaps are reported.

The decomposition is checked against statsmodels' STL called in the test, the
leave-one-out algebra against an explicit smoother matrix built here, and the false-alarm
rate against its nominal size by simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import STL

import shopmetrics as sm
from shopmetrics.errors import DefinitionError, ShopmetricsError

WEEKLY = np.array([1.0, 1.02, 0.98, 1.0, 1.05, 0.62, 0.58])  # Mon..Sun: quiet weekends
START = "2026-03-02"  # a Monday


def daily(seed: int = 0, weeks: int = 8, level: float = 800.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, periods=7 * weeks, freq="D")
    lam = level * np.tile(WEEKLY, weeks)
    return pd.Series(rng.poisson(lam).astype(float), index=days, name="visitors")


def test_weekend_dip_is_not_an_alarm():
    y = daily(seed=1)
    res = sm.anomalies(y)
    weekend = res.table[res.table["date"].dt.day_of_week >= 5]
    assert not weekend["is_anomaly"].any()
    # the dip is large: a detector blind to the week (median ± 3 × 1.4826 × MAD of the
    # values) flags every Saturday and Sunday
    med = y.median()
    mad = 1.4826 * (y - med).abs().median()
    assert ((y[y.index.day_of_week >= 5] - med).abs() > 3 * mad).all()


@pytest.mark.parametrize("day", [30, 55, 0])  # a Wednesday mid-series, the last day, the first
def test_single_day_collapse_to_zero_is_flagged(day):
    y = daily(seed=2)
    y.iloc[day] = 0.0
    res = sm.anomalies(y)
    flagged = res.flagged()
    assert list(flagged["date"]) == [y.index[day]]
    assert flagged.loc[0, "kind"] == "drop_to_zero"
    assert flagged.loc[0, "expected"] > 300
    flags = [f for f in res.flags if f.code == "anomaly"]
    assert len(flags) == 1
    assert flags[0].subject == {"date": y.index[day].strftime("%Y-%m-%d")}


def test_a_saturday_collapse_is_judged_against_saturdays():
    y = daily(seed=3)
    sat = 5 + 7 * 4
    y.iloc[sat] = 0.45 * y.iloc[sat]  # far below a Saturday, still near other dips
    flagged = sm.anomalies(y).flagged()
    assert list(flagged["date"]) == [y.index[sat]]
    assert flagged.loc[0, "kind"] == "low"


def test_spike_is_high():
    y = daily(seed=4)
    y.iloc[20] *= 1.5
    flagged = sm.anomalies(y).flagged()
    assert list(flagged["date"]) == [y.index[20]]
    assert flagged.loc[0, "kind"] == "high"


def test_missing_days_are_reported_not_interpolated():
    y = daily(seed=5).drop(pd.Timestamp("2026-03-20"))
    y.loc[pd.Timestamp("2026-04-02")] = np.nan
    res = sm.anomalies(y)
    t = res.table
    assert len(t) == 56  # every calendar day is there
    miss = t[t["is_missing"]]
    assert list(miss["date"].dt.strftime("%Y-%m-%d")) == ["2026-03-20", "2026-04-02"]
    assert miss["value"].isna().all()
    assert (miss["kind"] == "missing").all()
    assert miss["is_anomaly"].all()
    assert miss["expected"].notna().all()
    assert {f.code for f in res.flags} == {"missing_day"}
    assert {e.reason: e.rows for e in res.audit.excluded} == {"no value": 1}


def test_expected_is_stl_and_band_is_leave_one_out():
    """No far-off day: ``trend`` and ``seasonal`` are statsmodels' plain STL, and each day
    is judged by the leave-one-out prediction of that linear smoother, built here from
    the smoother matrix H (columns = STL of unit vectors)."""
    y = daily(seed=6, weeks=6)
    res = sm.anomalies(y, z=2.5)
    fit = STL(y.to_numpy(), period=7, seasonal=7, robust=False).fit()
    t = res.table
    assert t["trend"].to_numpy() == pytest.approx(np.asarray(fit.trend), abs=1e-8)
    assert t["seasonal"].to_numpy() == pytest.approx(np.asarray(fit.seasonal), abs=1e-8)
    n = len(y)
    fits = [STL(np.eye(n)[j], period=7, seasonal=7).fit() for j in range(n)]
    h = np.column_stack([f.trend + f.seasonal for f in fits])
    yv = y.to_numpy()
    fitted = h @ yv
    hd = np.diag(h)
    loo = (fitted - hd * yv) / (1 - hd)
    assert t["expected"].to_numpy() == pytest.approx(loo, rel=1e-9)
    c = np.sqrt(((np.eye(n) - h) ** 2).sum(axis=1))
    width = (t["band_high"] - t["expected"]).to_numpy()
    assert width == pytest.approx(2.5 * res.scale * c / (1 - hd), rel=1e-9)
    outside = (yv > t["band_high"].to_numpy()) | (yv < t["band_low"].to_numpy())
    assert (t["is_anomaly"].to_numpy() == outside).all()


def test_false_alarm_rate_is_near_nominal():
    """40 eight-week series of pure Poisson noise around a weekly pattern: at z = 3 the
    share of days flagged stays near the normal tail 0.27 % (below 1.5 %), where a band
    built on the raw STL remainder flags about 5 % (measured while building this)."""
    flagged = sum(
        int(sm.anomalies(daily(seed=100 + s)).table["is_anomaly"].sum()) for s in range(40)
    )
    assert flagged / (40 * 56) < 0.015


def test_two_column_table_on_every_engine(constructor):
    y = daily(seed=7)
    y.iloc[40] = 0.0
    df = pd.DataFrame({"day": y.index, "uv": y.to_numpy()})
    res = sm.anomalies(constructor(df))
    ref = sm.anomalies(y.rename("uv"))
    pd.testing.assert_frame_equal(res.table, ref.table)
    assert res.meta["name"] == "uv"


def test_table_with_named_columns_and_string_dates():
    y = daily(seed=8)
    df = pd.DataFrame(
        {"shop": "s1", "date": y.index.strftime("%Y-%m-%d"), "visitors": y.to_numpy()}
    )
    res = sm.anomalies(df, date="date", value="visitors")
    assert len(res.table) == 56
    assert not res.table["is_anomaly"].any()


def test_too_short_and_bad_input():
    short = daily(weeks=3)
    res = sm.anomalies(short)
    assert res.table["expected"].isna().all()
    assert not res.table["is_anomaly"].any()
    assert {f.code for f in res.flags} == {"series_too_short"}
    dup = pd.concat([daily(), daily().iloc[:2]])
    with pytest.raises(ShopmetricsError, match="2 dates appear more than once"):
        sm.anomalies(dup)
    with pytest.raises(DefinitionError, match="seasonal must be an odd integer >= 3, got 8"):
        sm.anomalies(daily(), seasonal=8)
    with pytest.raises(ShopmetricsError, match="which column holds the date"):
        sm.anomalies(pd.DataFrame({"a": [1], "b": [2], "c": [3]}))


def test_result_displays_and_serialises():
    y = daily(seed=9)
    y.iloc[10] = 0
    res = sm.anomalies(y)
    assert "AnomalyResult(56 rows" in repr(res)
    assert "Drop to zero" in res.to_markdown()  # the kind in words (label layer)
    assert res.to_dict()["rows"][10]["kind"] == "drop_to_zero"
