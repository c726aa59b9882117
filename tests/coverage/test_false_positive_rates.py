"""Every test's false-positive rate at α = 0.05 is at most 6% under the null.

Stores are drawn with no true change (the same process in both periods or arms) and the
share of draws the test calls significant is counted: compare's week-over-week tests
(rates, counts, aov and visitor value), movers after the FDR correction (a store of 40
groups, none moving: any significant mover is a false positive), A/B tests (one and three
treatments with Holm, and the always-valid mSPRT p-values read at every one of 20 looks).
A peeking control case shows the harness can fail: fixed-horizon p-values read at every
look reject far more often than 5%.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shopmetrics.stats import multiplicity, twosample
from shopmetrics.stats.aggregates import Aggregates, compare_ratios
from shopmetrics.stats.sequential import running_always_valid
from tests.coverage import sim
from tests.coverage.sim import Spend

ALPHA = 0.05

Reject = Callable[[np.random.Generator, int], np.ndarray]
"""Draws stores under the null; returns one boolean per store: did the test reject?"""


def _rate_change(n: int, p: float) -> Reject:
    """compare on a rate: score test, Fisher's exact test where an expected cell is < 5."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        x1, x0 = rng.binomial(n, p, size=draws), rng.binomial(n, p, size=draws)
        return twosample.compare_proportions(x1, n, x0, n).p_value < ALPHA

    return draw


def _count_change(lam: float) -> Reject:
    """compare on a count: the exact conditional Poisson test."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        k1, k0 = rng.poisson(lam, size=draws), rng.poisson(lam, size=draws)
        one = np.ones(draws)
        return twosample.compare_rates(k1, one, k0, one, compare="diff").p_value < ALPHA

    return draw


def _mean_change(visitors: int, p_buy: float, spend: Spend, per: str) -> Reject:
    """compare on aov (per buyer) or visitor value (per visitor): delta-method z test."""

    def arm(rng: np.random.Generator, draws: int) -> Aggregates:
        buyers = rng.binomial(visitors, p_buy, size=draws)
        y, yy = sim.buyer_sums(rng, buyers, spend)
        units = buyers if per == "buyer" else np.full(draws, visitors)
        return Aggregates(units, {"y": y, "y*y": yy})

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        return compare_ratios(arm(rng, draws), arm(rng, draws), "y").p_value < ALPHA

    return draw


def _movers(groups: int) -> Reject:
    """movers: 40 groups (500-3,000 visitors, 3% buying), none moving; BH at FDR 0.05."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        n = rng.integers(500, 3_000, size=(draws, groups))
        x1, x0 = rng.binomial(n, 0.03), rng.binomial(n, 0.03)
        p = twosample.compare_proportions(x1.ravel(), n.ravel(), x0.ravel(), n.ravel()).p_value
        p = p.reshape(draws, groups)
        return np.array([(multiplicity.adjust_pvalues(row, "bh") < ALPHA).any() for row in p])

    return draw


def _ab(variants: int, n: int, p: float) -> Reject:
    """ab_test, fixed horizon: each treatment against the shared control, Holm across them."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        xc = rng.binomial(n, p, size=draws)
        xt = rng.binomial(n, p, size=(draws, variants))
        pv = twosample.compare_proportions(
            xt.ravel(), n, np.repeat(xc, variants), n
        ).p_value.reshape(draws, variants)
        if variants == 1:
            return pv[:, 0] < ALPHA
        return np.array([(multiplicity.adjust_pvalues(r, "holm") < ALPHA).any() for r in pv])

    return draw


def _cumulative(rng: np.random.Generator, draws: int, looks: int, per_look: int, p: float):
    x1 = np.cumsum(rng.binomial(per_look, p, size=(looks, draws)), axis=0)
    x0 = np.cumsum(rng.binomial(per_look, p, size=(looks, draws)), axis=0)
    n = np.cumsum(np.full((looks, draws), per_look), axis=0).astype(float)
    return x1, n, x0


def _msprt(looks: int, per_look: int, p: float, tau: float) -> Reject:
    """ab_test(sequential=...): always-valid p-values read at every look (reject at the
    first look where the running p-value is below α)."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        x1, n, x0 = _cumulative(rng, draws, looks, per_look, p)
        pv, _, _ = running_always_valid(x1, n, x0, n, mixing_variance=tau**2)
        return (pv < ALPHA).any(axis=0)

    return draw


def _peeking(looks: int, per_look: int, p: float) -> Reject:
    """The wrong way, for contrast: fixed-horizon p-values read at every look."""

    def draw(rng: np.random.Generator, draws: int) -> np.ndarray:
        x1, n, x0 = _cumulative(rng, draws, looks, per_look, p)
        pv = twosample.compare_proportions(x1.ravel(), n.ravel(), x0.ravel(), n.ravel()).p_value
        return (pv.reshape(looks, draws) < ALPHA).any(axis=0)

    return draw


MODERATE = Spend(sigma=0.7, buyer_sd=0.3)
SKEWED = Spend(sigma=1.0)

CASES: list[tuple[str, str, str, Reject]] = [
    ("compare: rate", "score / Fisher", "small: 300 a side, 3%", _rate_change(300, 0.03)),
    ("compare: rate", "score / Fisher", "5,000 a side, 2%", _rate_change(5_000, 0.02)),
    ("compare: count", "exact conditional Poisson", "about 20 a period", _count_change(20.0)),
    ("compare: count", "exact conditional Poisson", "about 400 a period", _count_change(400.0)),
    (
        "compare: aov",
        "delta-z on per-buyer aggregates",
        "3,000 visitors a side, 5%, clustered, σ = 1",
        _mean_change(3_000, 0.05, SKEWED, "buyer"),
    ),
    (
        "compare: aov",
        "delta-z on per-buyer aggregates",
        "small: 800 visitors a side, 5%, σ = 0.7",
        _mean_change(800, 0.05, MODERATE, "buyer"),
    ),
    (
        "compare: visitor value",
        "delta-z on per-visitor aggregates",
        "3,000 visitors a side, 5%, clustered, σ = 1",
        _mean_change(3_000, 0.05, SKEWED, "visitor"),
    ),
    ("movers", "score + Benjamini-Hochberg", "40 groups, none moving", _movers(40)),
    ("ab: 1 treatment", "score / Fisher", "5,000 a side, 4%", _ab(1, 5_000, 0.04)),
    ("ab: 3 treatments", "score + Holm", "5,000 an arm, 4%", _ab(3, 5_000, 0.04)),
    (
        "ab: sequential",
        "mSPRT always-valid p, 20 looks",
        "500 an arm a look, 5%, τ = 0.01",
        _msprt(20, 500, 0.05, 0.01),
    ),
    (
        "ab: sequential",
        "mSPRT always-valid p, 20 looks",
        "200 an arm a look, 5%, τ = 0.05",
        _msprt(20, 200, 0.05, 0.05),
    ),
]

IDS = [f"{m}: {c}" for m, _, c, _ in CASES]


def _run(i: int, draws: int) -> sim.Row:
    metric, method, case, draw = CASES[i]
    rate = float(np.mean(draw(np.random.default_rng(3_000 + i), draws)))
    return sim.record(sim.Row("fpr", metric, method, case, draws, rate))


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_false_positive_rate(i: int) -> None:
    row = _run(i, sim.FAST)
    assert row.value <= sim.MAX_FPR, f"{IDS[i]}: false-positive rate {row.value:.3f}"


@pytest.mark.slow_coverage
@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_false_positive_rate_large(i: int) -> None:
    row = _run(i, sim.SLOW)
    assert row.value <= sim.MAX_FPR, f"{IDS[i]}: false-positive rate {row.value:.3f}"


def test_the_harness_catches_peeking() -> None:
    """A control: fixed-horizon p-values read at 20 looks reject in about a quarter of
    null stores. If this came out near 5%, the harness could not tell a bad test."""
    rate = float(np.mean(_peeking(20, 500, 0.05)(np.random.default_rng(99), sim.FAST)))
    sim.record(
        sim.Row(
            "fpr", "ab: peeking (wrong)", "fixed-horizon p at 20 looks", "control", sim.FAST, rate
        )
    )
    assert rate > 0.15
