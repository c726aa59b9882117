"""Every 95% interval the non-traffic metrics report covers the truth in 92–98% of stores.

Each case draws stores from a known process (:mod:`tests.coverage.sim`) and computes the
interval with the library's own function on the aggregates the engine would hand it.
The processes cover small samples, skewed (lognormal) order values, zero-inflated
values (visitors who do not buy; orders refunded in full) and clustered buyers (1 + a
Poisson number of orders each, correlated through a buyer effect). The traffic metrics
(ROAS, ROI, CPA, CPC) have their own file (test_roas_coverage.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopmetrics.dsr_tables import score_table
from shopmetrics.engine.rating_sums import Keyed
from shopmetrics.stats import intervals, twosample
from shopmetrics.stats.aggregates import Aggregates, compare_ratios
from tests.coverage import sim
from tests.coverage.sim import Spend

Interval = tuple[Any, Any, float]
"""(low, high, truth) over the draws."""


def _proportion(n: int, p: float) -> Callable[[np.random.Generator, int], Interval]:
    def case(rng: np.random.Generator, draws: int) -> Interval:
        x = rng.binomial(n, p, size=draws)
        lo, hi = intervals.proportion_ci(x, np.full(draws, n), method="wilson", confidence=0.95)
        return lo, hi, p

    return case


def _aov(buyers: int, spend: Spend) -> Callable[[np.random.Generator, int], Interval]:
    """aov = Σ buyer spend / buyers: mean over BUYERS (orders summed per buyer first)."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        n = np.full(draws, buyers)
        y, yy = sim.buyer_sums(rng, n, spend)
        _, lo, hi = intervals.mean_ci(n, y, yy, confidence=0.95, scale="log")  # as the funnel
        return lo, hi, spend.mean()

    return case


def _visitor_value(
    visitors: int, p_buy: float, spend: Spend, net: bool = False
) -> Callable[[np.random.Generator, int], Interval]:
    """visitor value = Σ spend / visitors: a mean over visitors, 0 for those who do not buy."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        n = np.full(draws, visitors)
        y, yy = sim.buyer_sums(rng, rng.binomial(visitors, p_buy, size=draws), spend, net)
        _, lo, hi = intervals.mean_ci(n, y, yy, confidence=0.95, scale="log")  # as the funnel
        return lo, hi, p_buy * spend.mean(net)

    return case


STARS_SKEWED = np.array([0.02, 0.02, 0.04, 0.12, 0.80])  # most ratings are 5 stars
STARS_SPREAD = np.array([0.05, 0.05, 0.10, 0.25, 0.55])


def _dsr_mean(ratings: int, probs: Any) -> Callable[[np.random.Generator, int], Interval]:
    """A DSR score: the mean star over a window's ratings, through dsr_tables.score_table."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        counts = rng.multinomial(ratings, probs, size=draws)  # stars 1..5
        stars = np.arange(1, 6)
        s, q = counts @ stars, counts @ stars**2
        sums: dict[str, Any] = {}
        for d in ("item", "service", "logistics"):
            sums |= {f"n_{d}": np.full(draws, ratings), d: s, f"{d}*{d}": q}
        keys = pd.DataFrame({"store": np.arange(draws)})
        out = score_table(Keyed(keys, Aggregates(np.full(draws, ratings), sums)))
        return out["item_ci_low"], out["item_ci_high"], float(stars @ probs)

    return case


def _proportion_diff(
    n: int, p1: float, p0: float
) -> Callable[[np.random.Generator, int], Interval]:
    """compare / ab_test on a rate: Newcombe's interval for p1 - p0."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        x1, x0 = rng.binomial(n, p1, size=draws), rng.binomial(n, p0, size=draws)
        c = twosample.compare_proportions(x1, n, x0, n, compare="diff", confidence=0.95)
        return c.low, c.high, p1 - p0

    return case


def _proportion_ratio(
    n: int, p1: float, p0: float
) -> Callable[[np.random.Generator, int], Interval]:
    """ab_test's ratio (relative lift + 1): the Miettinen-Nurminen score interval."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        x1, x0 = rng.binomial(n, p1, size=draws), rng.binomial(n, p0, size=draws)
        c = twosample.compare_proportions(x1, n, x0, n, compare="ratio", confidence=0.95)
        return c.low, c.high, p1 / p0

    return case


def _mean_diff(
    visitors: int, p_buy: float, cur: Spend, prev: Spend, per: str
) -> Callable[[np.random.Generator, int], Interval]:
    """compare on aov (``per="buyer"``) or visitor value (``per="visitor"``): the delta
    method on each period's per-unit aggregates (compare_ratios, what compare calls)."""

    def arm(rng: np.random.Generator, draws: int, spend: Spend) -> Aggregates:
        buyers = rng.binomial(visitors, p_buy, size=draws)
        y, yy = sim.buyer_sums(rng, buyers, spend)
        units = buyers if per == "buyer" else np.full(draws, visitors)
        return Aggregates(units, {"y": y, "y*y": yy})

    def case(rng: np.random.Generator, draws: int) -> Interval:
        c = compare_ratios(arm(rng, draws, cur), arm(rng, draws, prev), "y", confidence=0.95)
        scale = 1.0 if per == "buyer" else p_buy
        return c.low, c.high, scale * (cur.mean() - prev.mean())

    return case


def _mean_ratio(
    visitors: int, p_buy: float, cur: Spend, prev: Spend
) -> Callable[[np.random.Generator, int], Interval]:
    """compare's relative change of aov (+ 1): Fieller's interval from each period's
    per-buyer aggregates."""

    def arm(rng: np.random.Generator, draws: int, spend: Spend) -> tuple[Any, Any]:
        buyers = rng.binomial(visitors, p_buy, size=draws)
        y, yy = sim.buyer_sums(rng, buyers, spend)
        return Aggregates(buyers, {"y": y, "y*y": yy}).ratio("y")

    def case(rng: np.random.Generator, draws: int) -> Interval:
        (m1, v1), (m0, v0) = arm(rng, draws, cur), arm(rng, draws, prev)
        _, lo, hi = intervals.fieller_ratio_ci(m1, v1, m0, v0, confidence=0.95)
        return lo, hi, cur.mean() / prev.mean()

    return case


def _count_diff(lam1: float, lam0: float) -> Callable[[np.random.Generator, int], Interval]:
    """compare on a count (visitors, paid buyers): Poisson difference, normal interval."""

    def case(rng: np.random.Generator, draws: int) -> Interval:
        k1, k0 = rng.poisson(lam1, size=draws), rng.poisson(lam0, size=draws)
        one = np.ones(draws)
        c = twosample.compare_rates(k1, one, k0, one, compare="diff", confidence=0.95)
        return c.low, c.high, lam1 - lam0

    return case


SKEWED = Spend(sigma=1.0)
VERY_SKEWED = Spend(sigma=1.25)
REFUNDS = Spend(sigma=1.0, refund=0.15)
SINGLE = Spend(sigma=1.0, extra=0.0, buyer_sd=0.0)
MODERATE = Spend(sigma=0.7, buyer_sd=0.3)

CASES: list[tuple[str, str, str, Callable[[np.random.Generator, int], Interval]]] = [
    # (metric, method, case, draw)
    ("payment_conversion", "Wilson", "small: 200 visitors, p = 3%", _proportion(200, 0.03)),
    ("payment_conversion", "Wilson", "5,000 visitors, p = 2%", _proportion(5_000, 0.02)),
    ("repurchase_rate", "Wilson", "small: 40 buyers, p = 25%", _proportion(40, 0.25)),
    ("repurchase_rate", "Wilson", "400 buyers, p = 25%", _proportion(400, 0.25)),
    ("refund_rate_30d", "Wilson", "300 lines, p = 8%", _proportion(300, 0.08)),
    ("aov", "delta method, per buyer", "small: 40 buyers, σ = 0.7", _aov(40, MODERATE)),
    ("aov", "delta method, per buyer", "200 clustered buyers, σ = 1", _aov(200, SKEWED)),
    ("aov", "delta method, per buyer", "500 clustered buyers, σ = 1.25", _aov(500, VERY_SKEWED)),
    ("aov", "delta method, per buyer", "200 one-order buyers, σ = 1", _aov(200, SINGLE)),
    (
        "visitor_value",
        "delta method, per visitor",
        "2,000 visitors, p = 5% (zero-inflated), clustered",
        _visitor_value(2_000, 0.05, SKEWED),
    ),
    (
        "visitor_value",
        "delta method, per visitor",
        "small: 600 visitors, p = 5%, σ = 0.7",
        _visitor_value(600, 0.05, MODERATE),
    ),
    (
        "visitor_value_net",
        "delta method, per visitor",
        "2,000 visitors, p = 5%, 15% of orders refunded",
        _visitor_value(2_000, 0.05, REFUNDS, net=True),
    ),
    (
        "dsr item",
        "normal mean, clipped to [1, 5]",
        "small: 60 ratings, 55% fives",
        _dsr_mean(60, STARS_SPREAD),
    ),
    (
        "dsr item",
        "normal mean, clipped to [1, 5]",
        "150 ratings, 80% fives",
        _dsr_mean(150, STARS_SKEWED),
    ),
    (
        "dsr item",
        "normal mean, clipped to [1, 5]",
        "500 ratings, 80% fives",
        _dsr_mean(500, STARS_SKEWED),
    ),
    (
        "compare: rate diff",
        "Newcombe",
        "small: 300 a side, 10% vs 8%",
        _proportion_diff(300, 0.10, 0.08),
    ),
    (
        "compare: rate diff",
        "Newcombe",
        "5,000 a side, 2.4% vs 2%",
        _proportion_diff(5_000, 0.024, 0.02),
    ),
    (
        "ab: rate ratio",
        "Miettinen-Nurminen score",
        "2,000 a side, 6% vs 5%",
        _proportion_ratio(2_000, 0.06, 0.05),
    ),
    (
        "compare: aov diff",
        "delta method on per-buyer aggregates",
        "3,000 visitors a side, p = 5%, clustered, +10%",
        _mean_diff(3_000, 0.05, Spend(mu=4.1), SKEWED, "buyer"),
    ),
    (
        "compare: visitor value diff",
        "delta method on per-visitor aggregates",
        "3,000 visitors a side, p = 5%, clustered, +10%",
        _mean_diff(3_000, 0.05, Spend(mu=4.1), SKEWED, "visitor"),
    ),
    ("compare: count diff", "Poisson, normal", "about 400 a period", _count_diff(420.0, 380.0)),
    (
        "compare: aov ratio",
        "Fieller on per-buyer aggregates",
        "3,000 visitors a side, p = 5%, clustered, +10%",
        _mean_ratio(3_000, 0.05, Spend(mu=4.1), SKEWED),
    ),
    (
        "compare: aov ratio",
        "Fieller on per-buyer aggregates",
        "small: 800 visitors a side, p = 5%, σ = 0.7",
        _mean_ratio(800, 0.05, MODERATE, MODERATE),
    ),
]


def _run(i: int, draws: int) -> sim.Row:
    metric, method, case, draw = CASES[i]
    rng = np.random.default_rng(1_000 + i)
    lo, hi, truth = draw(rng, draws)
    row = sim.Row(
        "coverage", metric, method, case, draws, sim.covered(lo, hi, truth),
        sim.rel_width(lo, hi, truth),
    )  # fmt: skip
    return sim.record(row)


IDS = [f"{m}: {c}" for m, _, c, _ in CASES]


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_interval_covers(i: int) -> None:
    row = _run(i, sim.FAST)
    assert sim.LOW <= row.value <= sim.HIGH, f"{IDS[i]}: coverage {row.value:.3f}"


@pytest.mark.slow_coverage
@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_interval_covers_large(i: int) -> None:
    row = _run(i, sim.SLOW)
    assert sim.LOW <= row.value <= sim.HIGH, f"{IDS[i]}: coverage {row.value:.3f}"


LIMITS = [
    # (metric, case, draw, coverage seen at 20,000 draws): where a normal interval from
    # Σy and Σy² alone falls short. A skewness correction needs Σy³ (an engine change) or
    # a bootstrap over buyers (the buyers' values are not collected); the small_sample
    # flag marks such groups. docs/statistics.md lists them.
    ("aov", "40 clustered buyers, σ = 1 (very skewed spend)", _aov(40, SKEWED), 0.911),
    ("dsr item", "30 ratings, 80% fives", _dsr_mean(30, STARS_SKEWED), 0.872),
]


@pytest.mark.xfail(strict=True, reason="known limit of the normal interval: docs/statistics.md")
@pytest.mark.parametrize("i", range(len(LIMITS)), ids=[f"{m}: {c}" for m, c, _, _ in LIMITS])
def test_known_limits_fall_short(i: int) -> None:
    """These cases undercover today; if one starts to pass, the xfail (strict) says so."""
    metric, case, draw, _ = LIMITS[i]
    lo, hi, truth = draw(np.random.default_rng(2_000 + i), sim.FAST)
    cov = sim.covered(lo, hi, truth)
    sim.record(sim.Row("coverage", metric, "known limit", case, sim.FAST, cov))
    assert sim.LOW <= cov <= sim.HIGH
