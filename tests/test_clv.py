"""Customer lifetime value: summary builder, BG/NBD, Pareto/NBD, Gamma-Gamma, predictions.

Reference numbers and where they come from:

* CDNOW sample (``tests/data/CDNOW_sample.txt``): the event log of the 2357 customers
  used by Fader, Hardie & Lee (2005) and Fader & Hardie's notes (customer id, sample id,
  date, number of CDs, dollar amount), as shipped in the PyPI package ``lifetimes``
  0.11.3 (``lifetimes/datasets/CDNOW_sample.txt``, MIT licence, (c) 2015 Cameron
  Davidson-Pilon). ``tests/data/cdnow_customers_summary_with_transactions.csv`` is the
  per-customer summary (ID, x, t_x, T, zbar; rounded to 2 decimals) shipped beside it,
  in Fader & Hardie's notation. See ``tests/data/CDNOW_README.md``.
* BG/NBD on CDNOW, 39-week calibration: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
  LL = -9582.4 (Fader, Hardie & Lee 2005, "Counting your customers the easy way",
  Marketing Science 24(2), section 4). More digits from a second implementation, the R
  package CLVTools (tests/testthat/test_correctness_bgnbd.R): r = 0.2425945,
  alpha = 4.4136019, a = 0.7929199, b = 2.4258881, LL = -9582.429.
* Standard errors of that BG/NBD fit from a second implementation, lifetimes' docs
  (docs/Quickstart.md, ``bgf.summary``): se(r) = 0.012557, se(alpha) = 0.378221,
  se(a) = 0.185719, se(b) = 0.705345.
* Pareto/NBD on CDNOW: r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, LL = -9594.98
  (Fader & Hardie's Pareto/NBD implementation note; also in Fader, Hardie & Lee 2005 as
  the benchmark of the BG/NBD). CLVTools (tests/testthat/test_correctness_pnbd.R):
  r = 0.55315, alpha = 10.57633, s = 0.60625, beta = 11.67150, LL = -9594.976 and
  standard errors 0.0476264, 0.8427222, 0.1872594, 6.2105448.
* Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74, v = 15.44 (Fader & Hardie
  2013, "The Gamma-Gamma model of monetary value"); LL = -4055.9177 from CLVTools
  (tests/testthat/test_correctness_gg.R). Correlation between frequency and mean spend
  0.113884 and conditional expected spend per customer from lifetimes' docs
  (docs/Quickstart.md).
* Predictions for single buyers are checked against the closed forms written out here
  with scipy.special.hyp2f1, and against numerical integration of the individual-level
  model over the mixing distributions (scipy.integrate), which uses no closed form.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

import shopmetrics as sm
from shopmetrics import clv
from shopmetrics.errors import ColumnNotFoundError, DefinitionError, ShopmetricsError
from shopmetrics.flags import customers
from shopmetrics.models import buy_till_you_die

DATA = Path(__file__).parent / "data"
CAL_END = "1997-09-30"  # 39 weeks after 1997-01-01 (days 0 .. 272 inclusive)
OBS_END = "1998-06-30"  # a further 39 weeks


# ---------------------------------------------------------------- data


def _cdnow_orders() -> pd.DataFrame:
    elog = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer", "sample_id", "date", "cds", "sales"],
        dtype={"customer": str, "sample_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "order_id": np.arange(len(elog)),
            "buyer_id": elog["sample_id"].astype(int),
            "created_at": pd.to_datetime(elog["date"], format="%Y%m%d"),
            "amount": elog["sales"].astype(float),
        }
    )


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    return _cdnow_orders()


def _by_buyer(table: pd.DataFrame) -> pd.DataFrame:
    """A result indexed by the CDNOW buyer number (ids come back as text, as loaded)."""
    return table.assign(buyer_id=table["buyer_id"].astype(int)).set_index("buyer_id")


@pytest.fixture(scope="module")
def cdnow_fh_summary() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow_orders: pd.DataFrame) -> clv.CustomerValue:
    return sm.customer_value(cdnow_orders, calibration_end=CAL_END, observation_end=OBS_END)


@pytest.fixture(scope="module")
def cdnow_pnbd(cdnow_orders: pd.DataFrame) -> clv.CustomerValue:
    return sm.customer_value(cdnow_orders, CAL_END, OBS_END, models=("pareto_nbd", "gamma_gamma"))


def _orders(rows: list[tuple[Any, ...]], paid: bool = False) -> pd.DataFrame:
    """Hand-made order lines: (buyer, created_at, amount[, paid_at])."""
    cols = ["buyer_id", "created_at", "amount"] + (["paid_at"] if paid else [])
    df = pd.DataFrame(rows, columns=cols)
    df["created_at"] = pd.to_datetime(df["created_at"])
    if paid:
        df["paid_at"] = pd.to_datetime(df["paid_at"])
    df.insert(0, "order_id", [f"o{i}" for i in range(len(df))])
    return df


def _simulate_bgnbd(
    params: tuple[float, float, float, float],
    buyers: int,
    days: int,
    seed: int,
    spend: tuple[float, float, float] = (5.0, 4.0, 120.0),
) -> pd.DataFrame:
    """Orders drawn from the BG/NBD and Gamma-Gamma stories, rates per day.

    BG/NBD (FHL 2005, section 2): each buyer first purchases in the first 60 days, then
    buys at Poisson rate lambda (gamma(r, alpha) across buyers); after each repeat
    purchase the buyer drops out with probability p (beta(a, b) across buyers).
    Gamma-Gamma (Fader & Hardie 2013): each purchase's amount is gamma(p, rate nu), with
    nu gamma(q, rate v) across buyers.
    """
    r, alpha, a, b = params
    shape, q, v = spend
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, buyers)
    drop = rng.beta(a, b, buyers)
    nu = rng.gamma(q, 1 / v, buyers)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for i in range(buyers):
        t = float(rng.uniform(0, 60))
        rows.append((f"b{i}", start + pd.Timedelta(days=t), float(rng.gamma(shape, 1 / nu[i]))))
        while True:
            t += rng.exponential(1 / lam[i])
            if t >= days:
                break
            rows.append((f"b{i}", start + pd.Timedelta(days=t), float(rng.gamma(shape, 1 / nu[i]))))
            if rng.random() < drop[i]:
                break
    return _orders(rows)


# ---------------------------------------------------------------- closed forms (independent)


def bgnbd_eq10(
    r: float, alpha: float, a: float, b: float, t: float, x: float, tx: float, T: float
) -> float:
    """FHL (2005) eq. (10), written out as printed, with scipy's hyp2f1."""
    g = ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + T + t)
    )
    den = 1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 1.0
    return float((a + b + x - 1) / (a - 1) * (1 - g) / den)


def bgnbd_palive(
    r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float
) -> float:
    """Fader, Hardie & Lee (2008) note, P(alive) under the BG/NBD."""
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))


def gg_conditional_mean(p: float, q: float, v: float, x: float, m: float) -> float:
    """Fader & Hardie (2013): weighted mean of the population mean and the buyer's mean."""
    w = (q - 1) / (p * x + q - 1)
    return w * (v * p / (q - 1)) + (1 - w) * m


# ---------------------------------------------------------------- the CDNOW benchmark


def test_cdnow_summary_reproduces_fader_hardie_summary(
    cdnow_bgnbd: clv.CustomerValue, cdnow_fh_summary: pd.DataFrame
) -> None:
    ours = cdnow_bgnbd.summary_
    assert len(ours) == 2357  # FHL (2005): 2357 customers in the CDNOW sample
    assert int((ours.frequency > 0).sum()) == 946  # Fader & Hardie (2013): 946 repeat buyers
    fh = cdnow_fh_summary.set_index("ID").loc[ours.buyer_id.astype(int)]
    assert int(ours.frequency.sum()) == int(fh.x.sum())
    np.testing.assert_array_equal(ours.frequency.to_numpy(), fh.x.to_numpy())
    # the reference file is rounded to 2 decimals
    np.testing.assert_allclose(ours.recency.to_numpy(), fh.t_x.to_numpy(), atol=0.0051)
    np.testing.assert_allclose(ours["T"].to_numpy(), fh["T"].to_numpy(), atol=0.0051)
    np.testing.assert_allclose(ours.monetary_value.to_numpy(), fh.zbar.to_numpy(), atol=0.0051)
    # T of a customer who first bought on 1997-01-01 is 272 days / 7
    assert ours.loc[ours.buyer_id == "1", "T"].item() == pytest.approx(272 / 7)


def test_bgnbd_reproduces_published_cdnow_estimates(cdnow_bgnbd: clv.CustomerValue) -> None:
    est = cdnow_bgnbd.params_
    # FHL (2005), section 4, to the 3 decimals printed
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert est[name] == pytest.approx(published, abs=0.0006), name
    assert cdnow_bgnbd.log_likelihood_["bgnbd"] == pytest.approx(-9582.4, abs=0.1)
    # CLVTools' estimates, more digits
    clvtools = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
    for name, ref in clvtools.items():
        assert est[name] == pytest.approx(ref, rel=2e-4), name
    assert cdnow_bgnbd.log_likelihood_["bgnbd"] == pytest.approx(-9582.429, abs=0.005)
    assert cdnow_bgnbd.fits["bgnbd"].converged


def test_bgnbd_standard_errors_match_lifetimes(cdnow_bgnbd: clv.CustomerValue) -> None:
    se = cdnow_bgnbd.standard_errors_
    lifetimes_docs = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for name, ref in lifetimes_docs.items():
        assert se[name] == pytest.approx(ref, rel=0.02), name


def test_gamma_gamma_reproduces_published_cdnow_estimates(cdnow_bgnbd: clv.CustomerValue) -> None:
    est = cdnow_bgnbd.params_
    # Fader & Hardie (2013), the Gamma-Gamma note
    assert est["p"] == pytest.approx(6.25, abs=0.006)
    assert est["q"] == pytest.approx(3.74, abs=0.006)
    assert est["v"] == pytest.approx(15.44, abs=0.006)
    assert cdnow_bgnbd.fits["gamma_gamma"].n == 946
    # CLVTools
    assert cdnow_bgnbd.log_likelihood_["gamma_gamma"] == pytest.approx(-4055.9177, abs=0.01)


def test_pareto_nbd_reproduces_published_cdnow_estimates(cdnow_pnbd: clv.CustomerValue) -> None:
    est = cdnow_pnbd.params_
    for name, published in {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}.items():
        assert est[name] == pytest.approx(published, abs=0.006), name
    assert cdnow_pnbd.log_likelihood_["pareto_nbd"] == pytest.approx(-9594.98, abs=0.01)
    clvtools = {"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150}
    for name, ref in clvtools.items():
        assert est[name] == pytest.approx(ref, rel=1e-3), name
    clvtools_se = {"r": 0.0476264, "alpha": 0.8427222, "s": 0.1872594, "beta": 6.2105448}
    for name, ref in clvtools_se.items():
        assert cdnow_pnbd.standard_errors_[name] == pytest.approx(ref, rel=0.02), name


def test_spend_frequency_correlation_is_reported(cdnow_bgnbd: clv.CustomerValue) -> None:
    flag = next(f for f in cdnow_bgnbd.flags if f.code == "spend_frequency_correlation")
    # lifetimes docs: returning_customers_summary[['monetary_value', 'frequency']].corr()
    assert flag.evidence["frequency_monetary_corr"] == pytest.approx(0.113884, abs=2e-3)
    assert flag.severity == "info"
    assert cdnow_bgnbd.meta["frequency_monetary_corr"] == flag.evidence["frequency_monetary_corr"]


def test_expected_spend_matches_lifetimes_and_closed_form(cdnow_bgnbd: clv.CustomerValue) -> None:
    t = _by_buyer(cdnow_bgnbd.to_pandas())
    # lifetimes docs, ggf.conditional_expected_average_profit(...).head(10)
    lifetimes_docs = {1: 24.658619, 2: 18.911489, 3: 35.170981, 6: 71.462843, 9: 27.282408}
    for buyer, ref in lifetimes_docs.items():
        assert t.loc[buyer, "expected_spend"] == pytest.approx(ref, rel=2e-3), buyer
    assert t.expected_spend.mean() == pytest.approx(35.2529588256, rel=2e-3)
    p, q, v = (cdnow_bgnbd.params_[k] for k in "pqv")
    for buyer in (1, 2, 3, 6, 9, 157):
        x, m = t.loc[buyer, "frequency"], t.loc[buyer, "monetary_value"]
        assert t.loc[buyer, "expected_spend"] == pytest.approx(gg_conditional_mean(p, q, v, x, m))


def test_bgnbd_predictions_match_closed_forms(cdnow_bgnbd: clv.CustomerValue) -> None:
    r, alpha, a, b = (cdnow_bgnbd.params_[k] for k in ("r", "alpha", "a", "b"))
    for t in (1.0, 39.0, 500.0):
        pred = _by_buyer(cdnow_bgnbd.predict(t))
        for buyer in (1, 2, 3, 157, 1516):
            row = pred.loc[buyer]
            ref = bgnbd_eq10(r, alpha, a, b, t, row.frequency, row.recency, row["T"])
            assert row.expected_purchases == pytest.approx(ref, rel=1e-9), (t, buyer)
            p_ref = bgnbd_palive(r, alpha, a, b, row.frequency, row.recency, row["T"])
            assert row.p_alive == pytest.approx(p_ref, rel=1e-12)
    pred = cdnow_bgnbd.predict(1.0)
    assert (pred.loc[pred.frequency == 0, "p_alive"] == 1.0).all()


def test_bgnbd_one_week_predictions_match_lifetimes(cdnow_bgnbd: clv.CustomerValue) -> None:
    # lifetimes docs: conditional_expected_number_of_purchases_up_to_time(1, ...), top 5
    ref = {509: 0.424877, 841: 0.474738, 1981: 0.486526, 157: 0.662396, 1516: 0.710623}
    pred = _by_buyer(cdnow_bgnbd.predict(1))
    for buyer, value in ref.items():
        assert pred.loc[buyer, "expected_purchases"] == pytest.approx(value, rel=2e-3), buyer


def _gamma_moment(r: float, alpha: float, k: float, c: float) -> float:
    """E[lambda^k e^(-lambda c)] for lambda ~ gamma(r, rate alpha): a plain gamma integral."""
    return math.exp(
        special.gammaln(r + k)
        - special.gammaln(r)
        + r * math.log(alpha)
        - (r + k) * math.log(alpha + c)
    )


QUAD = {"epsabs": 0.0, "epsrel": 1e-11, "limit": 200}


@pytest.mark.parametrize(
    ("params", "x", "tx", "T"),
    [
        ((0.2425945, 4.4136019, 0.7929199, 2.4258881), 0, 0.0, 30.0),
        ((0.2425945, 4.4136019, 0.7929199, 2.4258881), 2, 30.43, 38.86),
        ((0.2425945, 4.4136019, 1.3, 2.4258881), 7, 20.0, 35.0),
        ((1.5, 12.0, 3.0, 0.8), 12, 37.0, 38.0),
    ],
)
def test_bgnbd_matches_numerical_integration(
    params: tuple[float, ...], x: int, tx: float, T: float
) -> None:
    """The BG/NBD story integrated numerically over the dropout probability p.

    Given lambda and p (FHL 2005, section 2): P(data, alive at T) = (1-p)^x lambda^x
    e^(-lambda T); P(data, gone after the last purchase) = p (1-p)^(x-1) lambda^x
    e^(-lambda t_x) for x > 0; an active buyer makes (1 - e^(-lambda p t)) / p purchases
    in the next t on average. lambda is integrated out in closed form (a gamma moment),
    p numerically (scipy.integrate.quad): no hypergeometric function involved.
    """
    r, alpha, a, b = params
    t = 39.0
    fp = stats.beta(a, b).pdf

    def alive(p: float) -> float:
        return (1 - p) ** x * _gamma_moment(r, alpha, x, T) * fp(p)

    def dead(p: float) -> float:
        return p * (1 - p) ** (x - 1) * _gamma_moment(r, alpha, x, tx) * fp(p) if x else 0.0

    def future(p: float) -> float:
        gain = _gamma_moment(r, alpha, x, T) - _gamma_moment(r, alpha, x, T + p * t)
        return (1 - p) ** x * gain / p * fp(p)

    la = integrate.quad(alive, 0, 1, **QUAD)[0]
    ld = integrate.quad(dead, 0, 1, **QUAD)[0]
    lf = integrate.quad(future, 0, 1, **QUAD)[0]
    xs, txs, Ts = np.array([float(x)]), np.array([tx]), np.array([T])
    assert math.exp(clv.bgnbd_loglik(params, xs, txs, Ts)[0]) == pytest.approx(la + ld, rel=1e-7)
    assert clv.bgnbd_p_alive(params, xs, txs, Ts)[0] == pytest.approx(la / (la + ld), rel=1e-7)
    assert clv.bgnbd_expected(params, t, xs, txs, Ts)[0] == pytest.approx(lf / (la + ld), rel=1e-7)


@pytest.mark.parametrize(
    ("params", "x", "tx", "T"),
    [
        ((0.5533, 10.5763, 0.6062, 11.6715), 0, 0.0, 30.0),  # alpha < beta
        ((0.5533, 10.5763, 0.6062, 11.6715), 3, 12.0, 38.0),
        ((0.8, 15.0, 0.4, 6.0), 5, 30.0, 38.86),  # alpha >= beta
        ((0.8, 15.0, 1.7, 6.0), 1, 2.0, 20.0),
        ((0.8, 15.0, 1.0, 6.0), 25, 36.0, 38.0),  # s = 1 exactly
    ],
)
def test_pareto_nbd_matches_numerical_integration(
    params: tuple[float, ...], x: int, tx: float, T: float
) -> None:
    """The Pareto/NBD story integrated numerically over the unobserved time of death.

    Given lambda and mu (Fader & Hardie 2005 note, section 3): P(data, alive at T) =
    lambda^x e^(-(lambda+mu) T); the density of data with death at tau in (t_x, T] is
    lambda^x e^(-lambda tau) mu e^(-mu tau). lambda and mu are integrated out in closed
    form (gamma moments), tau numerically; an active buyer makes lambda/mu (1 - e^(-mu t))
    purchases in the next t on average (integrated over mu numerically).
    """
    r, alpha, s, beta = params
    t = 26.0
    la = _gamma_moment(r, alpha, x, T) * (beta / (beta + T)) ** s

    def died_at(tau: float) -> float:  # E_mu[mu e^(-mu tau)] = s beta^s / (beta+tau)^(s+1)
        return _gamma_moment(r, alpha, x, tau) * s * beta**s / (beta + tau) ** (s + 1)

    ld = integrate.quad(died_at, tx, T, **QUAD)[0]
    # over mu ~ gamma(s, beta), substituting mu = w^(1/s) to remove the w^(s-1) singularity

    def mu_integrand(w: float) -> float:
        mu = w ** (1 / s)
        return math.exp(-mu * (beta + T)) * -math.expm1(-mu * t) / mu

    mu_part = beta**s / (s * special.gamma(s)) * integrate.quad(mu_integrand, 0, np.inf, **QUAD)[0]
    lf = _gamma_moment(r, alpha, x + 1, T) * mu_part
    xs, txs, Ts = np.array([float(x)]), np.array([tx]), np.array([T])
    assert math.exp(clv.pnbd_loglik(params, xs, txs, Ts)[0]) == pytest.approx(la + ld, rel=1e-7)
    assert clv.pnbd_p_alive(params, xs, txs, Ts)[0] == pytest.approx(la / (la + ld), rel=1e-7)
    assert clv.pnbd_expected(params, t, xs, txs, Ts)[0] == pytest.approx(lf / (la + ld), rel=1e-7)


def test_pareto_nbd_p_alive_decays_for_one_time_buyers(cdnow_pnbd: clv.CustomerValue) -> None:
    params = tuple(cdnow_pnbd.params_[k] for k in ("r", "alpha", "s", "beta"))
    T = np.array([1.0, 5.0, 20.0, 39.0])
    zeros = np.zeros(4)
    p = clv.pnbd_p_alive(params, zeros, zeros, T)
    assert np.all(np.diff(p) < 0)
    assert np.all((p > 0) & (p < 1))
    # and the BG/NBD flag that says its P(alive) does not
    assert not any(f.code == "p_alive_one_time_buyers" for f in cdnow_pnbd.flags)


def test_holdout_table_against_raw_log(
    cdnow_bgnbd: clv.CustomerValue, cdnow_orders: pd.DataFrame
) -> None:
    h = cdnow_bgnbd.holdout_
    assert h is not None
    assert list(h.frequency) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert cdnow_bgnbd.meta["holdout_length"] == pytest.approx(39.0)  # 273 days / 7
    # actual holdout purchase days per calibration-frequency bucket, straight from the log
    days = cdnow_orders.assign(day=cdnow_orders.created_at.dt.normalize())[["buyer_id", "day"]]
    days = days.drop_duplicates()
    cal = days[days.day <= CAL_END].groupby("buyer_id").size() - 1
    hold = days[(days.day > CAL_END) & (days.day <= OBS_END)].groupby("buyer_id").size()
    hold = hold.reindex(cal.index, fill_value=0)
    bucket = cal.clip(upper=7)
    ref = hold.groupby(bucket).agg(["size", "sum"])
    np.testing.assert_array_equal(h.buyers.to_numpy(), ref["size"].to_numpy())
    np.testing.assert_array_equal(h.actual_total.to_numpy(), ref["sum"].to_numpy())
    # predicted: eq. (10) with t = 39 weeks, summed per bucket
    r, alpha, a, b = (cdnow_bgnbd.params_[k] for k in ("r", "alpha", "a", "b"))
    s = cdnow_bgnbd.summary_
    pred = [
        bgnbd_eq10(r, alpha, a, b, 39.0, x, tx, T)
        for x, tx, T in zip(s.frequency, s.recency, s["T"], strict=True)
    ]
    ref_pred = pd.Series(pred).groupby(s.frequency.clip(upper=7).to_numpy()).sum()
    np.testing.assert_allclose(h.predicted_total.to_numpy(), ref_pred.to_numpy(), rtol=1e-9)
    # the per-buyer actuals are in the table too
    t = _by_buyer(cdnow_bgnbd.to_pandas())
    np.testing.assert_array_equal(
        t.loc[hold.index, "holdout_purchases"].to_numpy(), hold.to_numpy()
    )


def test_clv_discounting_by_hand(cdnow_bgnbd: clv.CustomerValue) -> None:
    r, alpha, a, b = (cdnow_bgnbd.params_[k] for k in ("r", "alpha", "a", "b"))
    p, q, v = (cdnow_bgnbd.params_[k] for k in "pqv")
    out = _by_buyer(cdnow_bgnbd.clv(horizon=3.5, discount_rate=0.12, margin=0.3))
    s = _by_buyer(cdnow_bgnbd.summary_)
    for buyer in (1, 3, 157):
        x, tx, T, m = s.loc[buyer, ["frequency", "recency", "T", "monetary_value"]]
        spend = gg_conditional_mean(p, q, v, x, m)
        ends = [1.0, 2.0, 3.0, 3.5]
        cum = [0.0] + [bgnbd_eq10(r, alpha, a, b, e, x, tx, T) for e in ends]
        value = sum(
            (cum[k + 1] - cum[k]) * 1.12 ** (-(ends[k] * 7 / 365.25)) for k in range(len(ends))
        )
        assert out.loc[buyer, "clv"] == pytest.approx(0.3 * spend * value, rel=1e-9)
        assert out.loc[buyer, "expected_purchases"] == pytest.approx(cum[-1], rel=1e-9)
    # no discounting: the per-period sum telescopes to E[Y(horizon)]
    flat = cdnow_bgnbd.clv(horizon=52, discount_rate=0.0, margin=1.0)
    np.testing.assert_allclose(flat.clv, flat.expected_spend * flat.expected_purchases, rtol=1e-9)
    # the table's columns use the call's horizon (default 52 weeks) and rates
    table = cdnow_bgnbd.to_pandas()
    np.testing.assert_allclose(table.clv, flat.clv, rtol=1e-12)
    np.testing.assert_allclose(table.expected_purchases, cdnow_bgnbd.predict(52).expected_purchases)


def test_bgnbd_long_horizon_and_a_near_one() -> None:
    # eq. (10) as printed against our evaluation over a long horizon (z -> 1)
    x, tx, T = np.array([0.0, 3.0, 40.0]), np.array([0.0, 10.0, 30.0]), np.array([20.0, 20.0, 38.0])
    for params in [(0.24, 4.4, 0.79, 2.4), (0.5, 8.0, 3.5, 6.0), (2.0, 3.0, 1.0 + 1e-9, 2.0)]:
        ours = clv.bgnbd_expected(params, 2000.0, x, tx, T)
        assert np.all(np.isfinite(ours))
        if abs(params[2] - 1) > 1e-3:
            ref = [bgnbd_eq10(*params, 2000.0, *row) for row in zip(x, tx, T, strict=True)]
            np.testing.assert_allclose(ours, ref, rtol=1e-8)
    # at a = 1 (removable singularity) the value is the limit from both sides
    near = [clv.bgnbd_expected((2.0, 3.0, 1 + d, 2.0), 52.0, x, tx, T) for d in (-1e-4, 1e-4)]
    at_one = clv.bgnbd_expected((2.0, 3.0, 1.0, 2.0), 52.0, x, tx, T)
    np.testing.assert_allclose(at_one, (near[0] + near[1]) / 2, rtol=1e-4)


# ---------------------------------------------------------------- summary builder


def test_summary_hand_made_log() -> None:
    orders = _orders(
        [
            ("A", "2026-01-01 09:00", 10.0),
            ("A", "2026-01-01 21:30", 5.0),  # same day: merged, amounts summed
            ("A", "2026-01-15 10:00", 30.0),
            ("A", "2026-01-22 08:00", 12.0),
            ("A", "2026-01-22 09:00", 8.0),  # same day as the previous one
            ("B", "2026-01-11 12:00", 20.0),  # one purchase
            ("C", "2026-02-05 12:00", 7.0),  # first purchase after calibration
        ]
    )
    s = clv.buyer_summary(orders, calibration_end="2026-01-29")
    assert list(s.columns) == ["buyer_id", "frequency", "recency", "T", "monetary_value"]
    assert list(s.buyer_id) == ["A", "B"]
    a, b = s.iloc[0], s.iloc[1]
    # A: purchase days Jan 1, 15, 22 -> 2 repeat days; recency 21 days, T 28 days
    assert a.frequency == 2
    assert a.recency == pytest.approx(21 / 7)
    assert a["T"] == pytest.approx(28 / 7)
    assert a.monetary_value == pytest.approx((30.0 + 20.0) / 2)
    # B: one purchase
    assert (b.frequency, b.recency, b.monetary_value) == (0, 0.0, 0.0)
    assert b["T"] == pytest.approx(18 / 7)
    # days and months are elapsed time too
    d = clv.buyer_summary(orders, calibration_end="2026-01-29", freq="D").iloc[0]
    assert (d.recency, d["T"]) == (21.0, 28.0)
    m = clv.buyer_summary(orders, calibration_end="2026-01-29", freq="M").iloc[0]
    assert m["T"] == pytest.approx(28 / (365.25 / 12))


def test_summary_on_every_engine(constructor: Any) -> None:
    orders = _orders(
        [
            ("A", "2026-01-01 09:00", 10.0),
            ("A", "2026-01-01 21:30", 5.0),
            ("A", "2026-01-15 10:00", 30.0),
            ("B", "2026-01-11 12:00", 20.0),
            ("B", "2026-01-20 12:00", 4.0),
            ("B", "2026-01-21 12:00", 6.0),
            ("A", "2026-02-03 12:00", 9.0),  # holdout
            ("C", "2026-02-02 12:00", 7.0),  # new in the holdout
        ]
    )
    s = clv.buyer_summary(constructor(orders), calibration_end="2026-01-29")
    assert list(s.buyer_id) == ["A", "B"]
    assert list(s.frequency) == [1, 2]
    np.testing.assert_allclose(s.recency, [14 / 7, 10 / 7])
    np.testing.assert_allclose(s["T"], [28 / 7, 18 / 7])
    np.testing.assert_allclose(s.monetary_value, [30.0, 5.0])


def test_paid_orders_and_audit() -> None:
    orders = _orders(
        [
            ("A", "2026-01-01 09:00", 10.0, "2026-01-02 08:00"),  # paid next day: counts then
            ("A", "2026-01-09 09:00", 15.0, None),  # unpaid: left out
            ("A", "2026-01-15 10:00", 30.0, "2026-01-15 10:05"),
            ("B", "2026-01-10 12:00", 20.0, "2026-01-10 12:01"),
            (None, "2026-01-10 12:00", 20.0, "2026-01-10 12:01"),  # no buyer
            ("B", "2026-01-11 12:00", None, "2026-01-11 12:01"),  # no amount
            ("B", "2026-01-30 12:00", 11.0, "2026-01-30 12:01"),  # holdout
            ("B", "2026-03-01 12:00", 11.0, "2026-03-01 12:01"),  # after observation end
            ("C", "2026-02-01 12:00", 9.0, "2026-02-01 12:01"),  # first purchase in holdout
            ("C", "2026-02-02 12:00", 9.0, "2026-02-02 12:01"),
        ],
        paid=True,
    )
    original = orders.copy(deep=True)
    cv = sm.customer_value(orders, calibration_end="2026-01-28", observation_end="2026-02-15")
    pd.testing.assert_frame_equal(orders, original)  # the caller's table is untouched
    s = cv.summary_.set_index("buyer_id")
    assert s.loc["A", "recency"] == pytest.approx(13 / 7)  # Jan 2 (paid) .. Jan 15
    assert s.loc["A", "T"] == pytest.approx(26 / 7)
    assert list(s.index) == ["A", "B"]
    excluded = {e.reason: e.rows for e in cv.audit.excluded}
    assert excluded == {
        "unpaid": 1,
        "missing_buyer_id": 1,
        "missing_amount": 1,
        "after_observation_end": 1,
        "first_purchase_after_calibration": 2,
    }
    assert cv.audit.rows_in == {"orders": 10}
    assert cv.to_pandas().set_index("buyer_id").loc["B", "holdout_purchases"] == 1
    assert cv.meta["holdout_length"] == pytest.approx(18 / 7)


def test_audit_on_demo_store(store: Any) -> None:
    orders = store.orders
    cv = sm.customer_value(orders, calibration_end="2026-11-01")
    paid = orders[orders.paid_at.notna()]
    excluded = {e.reason: e.rows for e in cv.audit.excluded}
    assert cv.audit.rows_in["orders"] == len(orders)
    assert excluded["unpaid"] == int(orders.paid_at.isna().sum())
    first = paid.groupby("buyer_id").paid_at.min()
    late = first[first.dt.normalize() > pd.Timestamp("2026-11-01")].index
    assert excluded["first_purchase_after_calibration"] == int(paid.buyer_id.isin(late).sum())
    assert cv.meta["buyers"] == int((first.dt.normalize() <= pd.Timestamp("2026-11-01")).sum())
    # eight weeks of a young store: few repeat buyers, and the result says so
    codes = {f.code for f in cv.flags}
    assert "few_repeat_buyers" in codes


def test_row_order_and_column_mapping_do_not_matter(cdnow_orders: pd.DataFrame) -> None:
    subset = cdnow_orders[cdnow_orders.buyer_id <= 300]
    base = clv.buyer_summary(subset, calibration_end=CAL_END)
    shuffled = subset.sample(frac=1.0, random_state=7)
    renamed = shuffled.rename(
        columns={"buyer_id": "买家ID", "created_at": "下单时间", "amount": "cust_amt"}
    )
    again = clv.buyer_summary(renamed, calibration_end=CAL_END, columns={"cust_amt": "amount"})
    pd.testing.assert_frame_equal(base, again)


# ---------------------------------------------------------------- fitting machinery


def test_hessian_standard_errors_on_a_textbook_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exponential sample: MLE lambda = 1/mean, se = lambda / sqrt(n) (Fisher information)."""
    rng = np.random.default_rng(3)
    y = rng.exponential(2.0, 400)

    def loglik(theta: np.ndarray) -> float:
        (lam,) = theta
        return float(np.sum(np.log(lam) - lam * y))

    monkeypatch.setitem(clv.MODELS, "exp", ("lam",))
    fit = buy_till_you_die._maximize("exp", loglik, (1.0,), len(y))
    lam = 1 / y.mean()
    assert fit.params["lam"] == pytest.approx(lam, rel=1e-6)
    assert fit.standard_errors["lam"] == pytest.approx(lam / math.sqrt(len(y)), rel=1e-4)
    assert fit.converged


@pytest.mark.parametrize(
    ("curvature", "reported"),
    [(0.0, False), (1e-9, False), (-1e-9, False), (1e-3, True)],
)
def test_standard_errors_need_a_clearly_curved_likelihood(
    monkeypatch: pytest.MonkeyPatch, curvature: float, reported: bool
) -> None:
    """A second parameter curved ``curvature`` times as much as the first (in log terms).

    Below clv.HESSIAN_RTOL (1e-6) of the largest eigenvalue the standard errors are NaN,
    whatever the sign the rounding gives the small eigenvalue; above it they are the
    Fisher-information ones, 1 / sqrt(curvature) on the log scale.
    """
    monkeypatch.setitem(clv.MODELS, "two", ("u", "w"))

    def loglik(theta: np.ndarray) -> float:
        zu, zw = np.log(theta)
        return float(-0.5 * 100.0 * zu**2 - 0.5 * 100.0 * curvature * zw**2)

    fit = buy_till_you_die._maximize("two", loglik, (1.5, 1.0), 100)
    se = fit.standard_errors
    if reported:
        assert se["w"] == pytest.approx(fit.params["w"] / math.sqrt(100.0 * curvature), rel=1e-3)
        assert se["u"] == pytest.approx(fit.params["u"] / 10.0, rel=1e-3)
    else:
        assert math.isnan(se["u"])
        assert math.isnan(se["w"])
        assert "standard_errors_unavailable" in {f.code for f in customers.fit_flags(fit)}


def test_parameters_are_recovered_from_simulated_orders() -> None:
    truth = {"r": 0.6, "alpha": 20.0, "a": 0.9, "b": 3.0, "p": 5.0, "q": 4.0, "v": 120.0}
    orders = _simulate_bgnbd((0.6, 20.0, 0.9, 3.0), buyers=1500, days=240, seed=11)
    cv = sm.customer_value(orders, calibration_end="2024-06-30", freq="D")
    est, se = cv.params_, cv.standard_errors_
    for name, value in truth.items():
        # within 4 standard errors (on the log scale, where the intervals are built)
        assert abs(math.log(est[name]) - math.log(value)) < 4 * se[name] / est[name], name
    assert all(fit.converged for fit in cv.fits.values())
    assert not {"fit_not_converged", "standard_errors_unavailable"} & {f.code for f in cv.flags}


# ---------------------------------------------------------------- flags and errors


def test_too_few_repeat_buyers_gives_nan_and_a_flag() -> None:
    orders = _orders(
        [("A", "2026-01-01", 10.0), ("B", "2026-01-03", 12.0), ("C", "2026-01-05", 9.0)]
    )
    cv = sm.customer_value(orders, calibration_end="2026-01-20")
    assert all(math.isnan(v) for v in cv.params_.values())
    codes = {f.code: f.severity for f in cv.flags}
    assert codes["too_few_repeat_buyers"] == "error"
    assert cv.to_pandas().p_alive.isna().all()
    assert cv.to_pandas().clv.isna().all()


def test_no_paid_orders_gives_nan_not_an_exception() -> None:
    orders = _orders([("A", "2026-01-01", 10.0, None), ("B", "2026-01-03", 12.0, None)], paid=True)
    cv = sm.customer_value(orders)
    assert len(cv.to_pandas()) == 0
    assert [(e.reason, e.rows) for e in cv.audit.excluded] == [("unpaid", 2)]
    assert {f.code for f in cv.flags} == {"too_few_repeat_buyers"}
    assert all(math.isnan(v) for v in cv.params_.values())


def test_days_are_cut_in_the_store_time_zone() -> None:
    # 23:30 and 00:30 UTC on consecutive UTC days are 07:30 and 08:30 the same day in Shanghai
    orders = _orders(
        [
            ("A", "2026-01-01 23:30", 1.0),
            ("A", "2026-01-02 00:30", 2.0),
            ("A", "2026-01-09 02:00", 4.0),
        ]
    )
    orders["created_at"] = orders["created_at"].dt.tz_localize("UTC")
    local = clv.buyer_summary(orders, calibration_end="2026-01-09", freq="D", tz="Asia/Shanghai")
    utc = clv.buyer_summary(orders, calibration_end="2026-01-09", freq="D", tz="UTC")
    assert (local.frequency.item(), local.recency.item(), local.monetary_value.item()) == (
        1,
        7.0,
        4.0,
    )
    assert (utc.frequency.item(), utc.recency.item(), utc.monetary_value.item()) == (2, 8.0, 3.0)


def test_few_repeat_buyers_and_holdout_mismatch_flags() -> None:
    orders = _simulate_bgnbd((0.6, 20.0, 0.9, 3.0), buyers=500, days=150, seed=5)
    kw = {"calibration_end": "2024-03-31", "observation_end": "2024-05-29", "freq": "D"}
    calm = sm.customer_value(orders, **kw)
    assert calm.meta["holdout_actual"] >= 30
    assert "holdout_mismatch" not in {f.code for f in calm.flags}
    # drop every second holdout purchase day: the model now over-predicts about 2x
    hold = orders[orders.created_at > "2024-04-01"].sort_values(["buyer_id", "created_at"])
    dropped = orders.drop(index=hold.index[::2])
    off = sm.customer_value(dropped, **kw)
    flag = next(f for f in off.flags if f.code == "holdout_mismatch")
    assert flag.evidence["actual"] == off.meta["holdout_actual"] < calm.meta["holdout_actual"]
    assert flag.evidence["rel_gap"] > 0.2
    # nothing at all in the holdout
    empty = sm.customer_value(orders[orders.created_at <= "2024-04-01"], **kw)
    assert "holdout_mismatch" in {f.code for f in empty.flags}
    # fewer repeat buyers than config.min_sample
    assert "few_repeat_buyers" not in {f.code for f in calm.flags}
    with sm.config_context(min_sample=calm.meta["repeat_buyers"] + 1):
        few = sm.customer_value(orders, **kw)
    assert "few_repeat_buyers" in {f.code for f in few.flags}


def test_correlated_spend_is_flagged() -> None:
    rows = []
    rng = np.random.default_rng(2)
    for i in range(200):
        k = int(rng.integers(1, 8))
        days = np.sort(rng.choice(np.arange(1, 150), size=k, replace=False))
        spend = 10.0 * k * rng.uniform(0.9, 1.1)  # frequent buyers spend more per purchase
        rows.append((f"b{i}", pd.Timestamp("2025-01-01"), spend))
        rows += [
            (f"b{i}", pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(d)), spend) for d in days
        ]
    cv = sm.customer_value(_orders(rows), calibration_end="2025-06-30")
    flag = next(f for f in cv.flags if f.code == "spend_frequency_correlation")
    assert flag.severity == "warning"
    assert flag.evidence["frequency_monetary_corr"] > 0.9


def test_errors_name_the_problem(cdnow_orders: pd.DataFrame) -> None:
    with pytest.raises(DefinitionError, match="freq"):
        sm.customer_value(cdnow_orders, freq="Q")
    with pytest.raises(DefinitionError, match="exactly one transaction model"):
        sm.customer_value(cdnow_orders, models=("bgnbd", "pareto_nbd"))
    with pytest.raises(DefinitionError, match="model"):
        sm.customer_value(cdnow_orders, models=("bgnbd", "mbgnbd"))
    with pytest.raises(ShopmetricsError, match="before calibration_end"):
        sm.customer_value(cdnow_orders, calibration_end=OBS_END, observation_end=CAL_END)
    with pytest.raises(ColumnNotFoundError, match="amount"):
        sm.customer_value(cdnow_orders.drop(columns="amount"))
    with pytest.raises(ShopmetricsError, match="cannot read"):
        sm.customer_value(cdnow_orders, calibration_end="not a date")


def test_clv_needs_a_spend_model(cdnow_orders: pd.DataFrame) -> None:
    cv = sm.customer_value(cdnow_orders[cdnow_orders.buyer_id <= 600], CAL_END, models=("bgnbd",))
    assert "clv" not in cv.to_pandas().columns
    with pytest.raises(ShopmetricsError, match="gamma_gamma"):
        cv.clv(52)
    assert "expected_spend" not in cv.predict(10).columns


# ---------------------------------------------------------------- result object


def test_result_object(cdnow_bgnbd: clv.CustomerValue, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(cdnow_bgnbd, sm.Result)
    assert isinstance(cdnow_bgnbd, sm.CustomerValue)
    with pytest.raises(
        dataclasses.FrozenInstanceError, match="cannot assign to field 'definition'"
    ):
        cdnow_bgnbd.definition = "x"  # type: ignore[misc]
    df = cdnow_bgnbd.to_pandas()
    assert list(df.columns[:5]) == ["buyer_id", "frequency", "recency", "T", "monetary_value"]
    df.loc[0, "clv"] = -1.0
    assert cdnow_bgnbd.table.loc[0, "clv"] != -1.0  # a copy
    d = json.loads(json.dumps(cdnow_bgnbd.to_dict()))
    assert d["fits"]["bgnbd"]["params"]["r"] == pytest.approx(cdnow_bgnbd.params_["r"])
    assert len(d["holdout"]) == 8
    assert "<table" in cdnow_bgnbd._repr_html_()
    assert "| Model | Parameter |" in cdnow_bgnbd.to_markdown()
    assert "params: r=" in repr(cdnow_bgnbd)
    pf = cdnow_bgnbd.params_frame()
    row = pf.set_index("param").loc["r"]
    assert row.ci_low < row.estimate < row.ci_high
    cdnow_bgnbd.print_summary()
    out = capsys.readouterr().out
    assert "bgnbd" in out
    assert "holdout check" in out
    assert cdnow_bgnbd.to_polars().height == 2357


def test_plot_holdout(cdnow_bgnbd: clv.CustomerValue) -> None:
    matplotlib.use("Agg")
    fig = cdnow_bgnbd.plot_holdout()
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), cdnow_bgnbd.holdout_.actual_mean)
    no_holdout = sm.customer_value(_cdnow_orders().query("buyer_id <= 300"), CAL_END, CAL_END)
    assert no_holdout.holdout_ is None
    with pytest.raises(ShopmetricsError, match="no holdout"):
        no_holdout.plot_holdout()


def test_short_history_is_flagged_with_its_coverage() -> None:
    """Planted: the first purchase on 2026-01-05, calibration to 2026-03-16 (70 days, 10
    weeks of history). A 52-week horizon is 5.2 times that: flagged, coverage 10 / 52;
    a 20-week horizon (2 times) is the models' ordinary extrapolation: not flagged."""
    rng = np.random.default_rng(4)
    rows = []
    for b in range(200):
        days = np.sort(rng.integers(0, 71, size=int(rng.integers(1, 5))))
        rows += [
            (f"{700_000 + b}", pd.Timestamp("2026-01-05 12:00") + pd.Timedelta(days=int(d)), 30.0)
            for d in np.r_[0 if b == 0 else days[0], days]
        ]
    orders = pd.DataFrame(rows, columns=["buyer_id", "created_at", "amount"])
    orders["order_id"] = [f"o{i}" for i in range(len(orders))]
    cv = sm.customer_value(orders, calibration_end="2026-03-16", models=("bgnbd",))
    assert cv.meta["history"] == pytest.approx(10.0)
    (flag,) = [f for f in cv.flags if f.code == "short_history"]
    assert flag.evidence["history_coverage"] == pytest.approx(10 / 52, abs=1e-4)
    assert "10.0 weeks of purchases up to 2026-03-16" in flag.message
    ok = sm.customer_value(orders, calibration_end="2026-03-16", models=("bgnbd",), horizon=20)
    assert "short_history" not in {f.code for f in ok.flags}
