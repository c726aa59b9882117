"""Coverage of the traffic ratios' intervals and error rates of the paid-plan advice, by
simulation from known processes.

Each simulated store is one row (or one group of rows) of the per-group table that
``traffic_sources`` hands to its ratio step (``traffic._with_cost_ratios``, then
``traffic_ratios.advice``), so what is checked is the interval and the advice the library
reports, computed by its own code; the truth is the process's. The default sizes
(2,000 stores a case) run in a few seconds: the standard error of a coverage near 95% is
then 0.5 points, so the 92-98% band is six of them wide on each side. The large sizes
(20,000 stores) are marked ``slow_coverage`` and run with ``-m slow_coverage``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import traffic, traffic_ratios
from shopmetrics.engine import spend as spend_q

STORES = 2_000
BIG = 20_000
MU = 4.0  # log of the median order amount (about 55)


def _big(request: pytest.FixtureRequest) -> None:
    if "slow_coverage" not in str(request.config.getoption("markexpr", "")):
        pytest.skip("large size: run with -m slow_coverage")


def _buyer_rows(
    rng: np.random.Generator,
    n: int,
    p: float,
    sigma: float,
    reps: int,
    *,
    margin: float = 0.4,
    cost_per_visitor: float = 0.1,
) -> pd.DataFrame:
    """``reps`` stores of ``n`` visitors: buyers ~ Binomial(n, p), lognormal amounts, a
    profit of ``margin`` x amount, fixed cost; the per-buyer aggregates traffic builds."""
    buyers = rng.binomial(n, p, size=reps)
    amounts = rng.lognormal(MU, sigma, size=int(buyers.sum()))
    store = np.repeat(np.arange(reps), buyers)
    profit = margin * amounts
    return pd.DataFrame(
        {
            "source": "paid_search",
            "period": "all",
            "visitors": float(n),
            "attributed_buyers": buyers.astype(float),
            "attributed_buyers_sq": buyers.astype(float),  # each buyer counts 1
            "attributed_amount": np.bincount(store, amounts, minlength=reps),
            "attributed_amount_sq": np.bincount(store, amounts**2, minlength=reps),
            "attributed_profit": np.bincount(store, profit, minlength=reps),
            "attributed_profit_sq": np.bincount(store, profit**2, minlength=reps),
            "cost": cost_per_visitor * n,
        }
    )


def _covers(low: pd.Series, high: pd.Series, truth: float) -> float:
    return float(((low <= truth) & (truth <= high)).mean())


# ---------------------------------------------------------------- CPA and ROI

CPA_CASES = [
    # (visitors, p, what the case is)
    (600, 0.04, "keyword-sized: about 24 buyers"),
    (2_000, 0.05, "campaign-sized: about 100 buyers"),
    (20_000, 0.03, "source-sized: about 600 buyers"),
]


def cpa_coverage(n: int, p: float, reps: int, seed: int) -> float:
    """Share of stores whose 95% CPA interval covers cost / (n p)."""
    t = traffic._with_cost_ratios(_buyer_rows(np.random.default_rng(seed), n, p, 1.0, reps))
    return _covers(t["cpa_ci_low"], t["cpa_ci_high"], 0.1 * n / (n * p))


@pytest.mark.parametrize(("n", "p", "case"), CPA_CASES, ids=[c[2] for c in CPA_CASES])
def test_cpa_interval_covers(n: int, p: float, case: str) -> None:
    with sm.config_context(confidence=0.95):
        cov = cpa_coverage(n, p, STORES, seed=n)
    assert 0.92 <= cov <= 0.98, f"{case}: coverage {cov:.3f}"


ROI_CASES = [
    # (visitors, p, sigma, cost per visitor, what the case is)
    (2_000, 0.05, 1.0, 0.1, "ROI well below 0 (profit < cost): about 100 buyers"),
    (5_000, 0.05, 0.5, 1.2, "ROI near 0"),
    (5_000, 0.05, 0.5, 0.5, "ROI above 0"),
    (800, 0.05, 0.5, 0.5, "small sample: about 40 buyers"),
]


def roi_coverage(n: int, p: float, sigma: float, cpv: float, reps: int, seed: int) -> float:
    """Share of stores whose 95% ROI interval covers n p E[profit] / cost - 1."""
    rows = _buyer_rows(np.random.default_rng(seed), n, p, sigma, reps, cost_per_visitor=cpv)
    t = traffic._with_cost_ratios(rows)
    truth = n * p * 0.4 * np.exp(MU + sigma**2 / 2) / (cpv * n) - 1
    return _covers(t["roi_ci_low"], t["roi_ci_high"], truth)


@pytest.mark.parametrize(
    ("n", "p", "sigma", "cpv", "case"), ROI_CASES, ids=[c[4] for c in ROI_CASES]
)
def test_roi_interval_covers(n: int, p: float, sigma: float, cpv: float, case: str) -> None:
    with sm.config_context(confidence=0.95):
        cov = roi_coverage(n, p, sigma, cpv, STORES, seed=n + int(10 * cpv))
    assert 0.92 <= cov <= 0.98, f"{case}: coverage {cov:.3f}"


# ---------------------------------------------------------------- CPC and CPM


def _spend_rows(rng: np.random.Generator, rows: int, reps: int, ctr: float = 0.03) -> pd.DataFrame:
    """``reps`` plans of ``rows`` spend-report rows each (days x keywords): exposures per
    row Poisson(1,000), clicks Binomial(exposures, ctr), each click charged a gamma price
    (mean 1.0, sd 0.71); the report gives the row's cost, exposures and clicks."""
    exposures = rng.poisson(1_000, size=(reps, rows))
    clicks = rng.binomial(exposures, ctr)
    cost = rng.gamma(2.0 * np.maximum(clicks, 1), 0.5) * (clicks > 0)  # sum of gamma(2, 0.5)
    return pd.DataFrame(
        {
            "date": np.tile(pd.date_range("2026-10-05", periods=rows, freq="D"), reps),
            "source": np.repeat([f"plan{i}" for i in range(reps)], rows),
            "cost": np.round(cost.ravel(), 2),
            "exposures": exposures.ravel(),
            "clicks": clicks.ravel(),
        }
    )


def cost_per_coverage(rows: int, reps: int, seed: int) -> tuple[float, float]:
    """Coverage of the 95% CPC (truth: the mean price, 1.0) and CPM (1000 x ctr x 1.0)
    intervals, through the library's own spend sums and ratio step."""
    frame = _spend_rows(np.random.default_rng(seed), rows, reps)
    sp = spend_q.load_spend(frame, ["source"], None, None)
    sums = spend_q.sum_spend(sp, ["source"], None, None, None, moments=True).table
    t = traffic._with_cost_ratios(sums)
    return _covers(t["cpc_ci_low"], t["cpc_ci_high"], 1.0), _covers(
        t["cpm_ci_low"], t["cpm_ci_high"], 1000 * 0.03 * 1.0
    )


@pytest.mark.parametrize("rows", [7, 28, 84], ids=["a week", "four weeks", "12 weeks"])
def test_cpc_and_cpm_intervals_cover(rows: int) -> None:
    with sm.config_context(confidence=0.95):
        cpc, cpm = cost_per_coverage(rows, STORES // 2, seed=rows)
    assert 0.92 <= cpc <= 0.98, f"CPC, {rows} rows: coverage {cpc:.3f}"
    assert 0.92 <= cpm <= 0.98, f"CPM, {rows} rows: coverage {cpm:.3f}"


# ---------------------------------------------------------------- ROAS at keyword size


@pytest.mark.parametrize(
    ("n", "p", "sigma"), [(600, 0.04, 0.8), (1_000, 0.03, 0.8)], ids=["24 buyers", "30 buyers"]
)
def test_roas_interval_covers_at_keyword_size(n: int, p: float, sigma: float) -> None:
    """The ROAS interval of a keyword row (a few dozen buyers)."""
    with sm.config_context(confidence=0.95):
        t = traffic._with_cost_ratios(_buyer_rows(np.random.default_rng(n), n, p, sigma, STORES))
    truth = n * p * np.exp(MU + sigma**2 / 2) / (0.1 * n)
    cov = _covers(t["roas_ci_low"], t["roas_ci_high"], truth)
    assert 0.92 <= cov <= 0.98, f"coverage {cov:.3f}"


# ---------------------------------------------------------------- advice

SOURCES = 3
CLICKS = 2_000
P_CLICK = 0.08  # paying buyers per click (直通车 plans convert 2-10% of clicks)
SIGMA = 0.6
CPC = 1.0


def _advice_draws(rng: np.random.Generator, reps: int, lift: float) -> pd.DataFrame:
    """``reps`` stores of three paid sources of 2,000 clicks each (each click a visitor),
    at the same cost; source 0's true ROAS is ``lift`` times the others' (through its
    conversion)."""
    parts = []
    for i in range(SOURCES):
        p = P_CLICK * (lift if i == 0 else 1.0)
        rows = _buyer_rows(rng, CLICKS, p, SIGMA, reps, cost_per_visitor=CPC)
        rows["source"] = f"paid{i}"
        rows["period"] = np.arange(reps).astype(str)
        rows["spend_clicks"] = float(CLICKS)
        parts.append(rows)
    t = traffic._with_cost_ratios(pd.concat(parts, ignore_index=True))
    return traffic_ratios.advice(t, min_clicks=100, by=["source"])


def advice_rates(reps: int, lift: float, seed: int) -> pd.DataFrame:
    """Per source, the share of stores told raise / hold / cut."""
    t = _advice_draws(np.random.default_rng(seed), reps, lift)
    return pd.crosstab(t["source"], t["advice"], normalize="index")


def test_advice_holds_when_every_source_is_as_good() -> None:
    """Same true ROAS everywhere: "hold" for each source in at least 95% of stores."""
    rates = advice_rates(STORES, 1.0, seed=1)
    assert (rates["hold"] >= 0.95).all(), rates


def test_advice_raises_the_source_that_is_30_percent_better() -> None:
    """Source 0 truly 30% better (2,000 clicks a source): "raise" in most stores. The
    power (0.55 with these plans: 8% of clicks buy, lognormal σ = 0.6, Bonferroni over 3) is printed by
    ``python tests/coverage/test_traffic_ratios.py`` and kept in docs/traffic.md."""
    rates = advice_rates(STORES, 1.3, seed=2)
    assert rates.loc["paid0", "raise"] > 0.5, rates
    assert rates.loc["paid0"].get("cut", 0.0) == 0.0
    # the others are not told to cut in most stores either: they are compared with the rest
    assert (rates.loc[["paid1", "paid2"]].get("raise", 0.0) < 0.05).all()


@pytest.mark.slow_coverage
def test_large_coverage_and_advice(request: pytest.FixtureRequest) -> None:
    _big(request)
    with sm.config_context(confidence=0.95):
        for n, p, case in CPA_CASES:
            assert 0.93 <= cpa_coverage(n, p, BIG, seed=n + 1) <= 0.97, case
        for n, p, sigma, cpv, case in ROI_CASES:
            assert 0.93 <= roi_coverage(n, p, sigma, cpv, BIG, seed=n + 2) <= 0.97, case
        for rows in (7, 28):
            cpc, cpm = cost_per_coverage(rows, BIG // 4, seed=rows + 3)
            assert 0.93 <= cpc <= 0.97, rows
            assert 0.93 <= cpm <= 0.97, rows
    assert (advice_rates(BIG, 1.0, seed=4)["hold"] >= 0.95).all()


if __name__ == "__main__":  # the table of coverage per interval and the advice's rates
    with sm.config_context(confidence=0.95):
        for n, p, case in CPA_CASES:
            print(f"CPA  {case:50s} coverage={cpa_coverage(n, p, BIG, seed=n + 1):.3f}")
        for n, p, sigma, cpv, case in ROI_CASES:
            cov = roi_coverage(n, p, sigma, cpv, BIG, seed=n + 2)
            print(f"ROI  {case:50s} coverage={cov:.3f}")
        for rows in (7, 28, 84):
            cpc, cpm = cost_per_coverage(rows, BIG // 4, seed=rows + 3)
            print(f"CPC / CPM, {rows:>2} spend rows{'':33s} coverage={cpc:.3f} / {cpm:.3f}")
    null = advice_rates(BIG, 1.0, seed=4)
    print("advice, equal ROAS: hold share per source", null["hold"].round(4).to_dict())
    alt = advice_rates(BIG, 1.3, seed=5)
    print("advice, source 0 30% better: raise share (power)", round(alt.loc["paid0", "raise"], 4))
