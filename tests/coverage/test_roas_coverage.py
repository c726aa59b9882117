"""Coverage of the ROAS interval, by simulation from a known process.

One paid source; each of ``n`` visitors buys with probability ``p = 0.05``; a buyer's
paid amount is lognormal; the spend is fixed. The true ROAS is
``n p E[amount] / cost``. Each simulated store is one row of the table that
``traffic_sources`` hands to its ROAS step (``traffic._with_cost_ratios``: visitors,
attributed buyers, Σ amount, Σ amount² over buyers, cost), so the interval checked is the
one the library reports, computed by its own code. 4,000 stores per case: the standard
error of a coverage near 95% is 0.35 points, so the 92–98% band is more than 8 of them
wide on each side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import traffic

STORES = 4_000
P_BUY = 0.05
MU = 4.0  # log of the median order amount (about 55)


def _stores(rng: np.random.Generator, n: int, sigma: float, reps: int = STORES) -> pd.DataFrame:
    """``reps`` stores of ``n`` visitors each, as the per-source rows traffic_sources builds."""
    buyers = rng.binomial(n, P_BUY, size=reps)
    amounts = rng.lognormal(MU, sigma, size=int(buyers.sum()))
    store = np.repeat(np.arange(reps), buyers)
    return pd.DataFrame(
        {
            "source": "paid_search",
            "period": "all",
            "visitors": float(n),
            "attributed_buyers": buyers.astype(float),
            "attributed_amount": np.bincount(store, amounts, minlength=reps),
            "attributed_amount_sq": np.bincount(store, amounts**2, minlength=reps),
            "cost": 0.1 * n,  # fixed spend: 0.10 per visitor
        }
    )


def coverage(n: int, sigma: float, seed: int) -> tuple[float, float]:
    """Share of simulated stores whose 95% ROAS interval covers the true ROAS, and the
    median relative width of the interval."""
    rng = np.random.default_rng(seed)
    table = traffic._with_cost_ratios(_stores(rng, n, sigma))
    truth = n * P_BUY * np.exp(MU + sigma**2 / 2) / (0.1 * n)
    covered = (table["roas_ci_low"] <= truth) & (truth <= table["roas_ci_high"])
    width = (table["roas_ci_high"] - table["roas_ci_low"]) / table["roas"]
    return float(covered.mean()), float(width.median())


CASES = [
    # (visitors, lognormal sigma, what the case is)
    (2_000, 1.0, "about 100 buyers"),
    (5_000, 1.0, "about 250 buyers"),
    (10_000, 1.0, "about 500 buyers"),
    (20_000, 1.0, "about 1,000 buyers"),
    (400, 0.5, "small sample: about 20 buyers"),
    (10_000, 1.25, "skewed amounts (skewness about 13)"),
    (20_000, 1.25, "skewed amounts, large store"),
]


@pytest.mark.parametrize(("n", "sigma", "case"), CASES, ids=[c[2] for c in CASES])
def test_roas_interval_covers(n: int, sigma: float, case: str) -> None:
    with sm.config_context(confidence=0.95):
        cov, _ = coverage(n, sigma, seed=n + int(100 * sigma))
    assert 0.92 <= cov <= 0.98, f"{case}: coverage {cov:.3f}"


@pytest.mark.xfail(reason="very skewed amounts with few buyers: the normal theory falls short")
def test_roas_interval_very_skewed_small_store() -> None:
    """σ = 1.5 (skewness about 33) at 100 buyers covers about 90%: a known limit of any
    interval from Σy and Σy² alone (a bootstrap or a skewness correction is left to do)."""
    with sm.config_context(confidence=0.95):
        cov, _ = coverage(2_000, 1.5, seed=7)
    assert 0.92 <= cov <= 0.98


def test_roas_interval_has_width_when_there_are_buyers() -> None:
    """The demo store's paid sources, under every attribution model: a real interval."""
    store = sm.datasets.make_store(seed=3, days=14, products=10, visitors_per_day=300)
    for model in ("recorded", "last_click", "linear"):
        t = sm.traffic_sources(
            store.events, store.orders, spend=store.spend, attribution=model
        ).to_pandas()
        paid = t[(t["cost"] > 0) & (t["attributed_buyers"] > 0)]
        assert len(paid) >= 2, model
        assert (paid["roas_ci_low"] < paid["roas"]).all(), model
        assert (paid["roas"] < paid["roas_ci_high"]).all(), model


def test_traffic_sources_feeds_the_interval_per_visitor_aggregates() -> None:
    """The interval traffic_sources reports is the one of the visitors' aggregates computed
    by hand from the raw tables (pandas groupby), with the delta method written out."""
    store = sm.datasets.make_store(seed=5, days=14, products=10, visitors_per_day=300, traps=False)
    with sm.config_context(confidence=0.95):
        t = sm.traffic_sources(
            store.events, store.orders, spend=store.spend, attribution="recorded"
        ).to_pandas()
    paid = store.orders[store.orders["paid_at"].notna()]
    per_buyer = paid.groupby(["source", "buyer_id"])["amount"].sum()
    sums = per_buyer.groupby("source").sum()
    squares = (per_buyer**2).groupby("source").sum()
    visitors = store.events.query("event == 'visit'").groupby("source")["visitor_id"].nunique()
    cost = store.spend.groupby("source")["cost"].sum()
    z = 1.959963984540054
    for src in cost.index:
        n, y, yy = visitors[src], sums[src], squares[src]
        var = n / (n - 1) * (yy - y**2 / n)
        roas = y / cost[src]
        factor = np.exp(z * np.sqrt(var) / y)
        row = t.set_index("source").loc[src]
        assert row["roas"] == pytest.approx(roas)
        assert row["roas_ci_low"] == pytest.approx(roas / factor)
        assert row["roas_ci_high"] == pytest.approx(roas * factor)


if __name__ == "__main__":  # the table of coverage per case
    for n, sigma, case in [*CASES, (2_000, 1.5, "very skewed, about 100 buyers")]:
        with sm.config_context(confidence=0.95):
            cov, width = coverage(n, sigma, seed=n + int(100 * sigma))
        print(f"{case:40s} n={n:>6} sigma={sigma:<5} coverage={cov:.3f} width={width:.2f}")
