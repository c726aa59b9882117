"""Coverage of the CTR intervals of ``sm.ctr_test``, by simulation of clustered impressions.

Each visitor of an arm sees the creative ``1 + Poisson(m)`` times and clicks each
impression with their own propensity ``p ~ Beta(a, b)`` (visitors differ: some click
often, most never), so impressions of one visitor are correlated. The true CTR of an arm
is ``E[p]`` = a / (a + b) (the propensity is independent of the number of exposures, so
Σclicks / Σexposures converges to it). 2,000 tests per case: the standard error of a
coverage near 95% is 0.5 points, so the 92-98% band is 6 of them wide on each
side. The statistics checked are those ``ctr_test`` reports (``compare_ctr`` on the
per-visitor sums the engine collects); the binomial interval over impressions, which
ignores the clustering, is shown to fall short on the same draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

import shopmetrics as sm
from shopmetrics.creative import compare_ctr
from shopmetrics.stats.aggregates import Aggregates

TESTS = 2_000


def _arm(rng: np.random.Generator, n: int, m: float, a: float, b: float) -> Aggregates:
    e = 1 + rng.poisson(m, size=n)
    c = rng.binomial(e, rng.beta(a, b, size=n))
    return Aggregates.from_units(exposures=e, clicks=c)


def coverage(
    n: int, m: float, control: tuple[float, float], treat: tuple[float, float], seed: int
) -> dict[str, float]:
    """Share of simulated tests whose 95% intervals cover the truth: treatment CTR, the
    difference, the ratio, and the naive Wilson interval of the treatment CTR."""
    rng = np.random.default_rng(seed)
    p0, p1 = control[0] / sum(control), treat[0] / sum(treat)
    hits = {"rate": 0, "diff": 0, "ratio": 0, "naive": 0}
    for _ in range(TESTS):
        aggs = Aggregates.concat([_arm(rng, n, m, *control), _arm(rng, n, m, *treat)])
        row = compare_ctr(aggs, ["control", "treatment"], confidence=0.95).iloc[0]
        hits["rate"] += row["rate_ci_low"] <= p1 <= row["rate_ci_high"]
        hits["diff"] += row["diff_ci_low"] <= p1 - p0 <= row["diff_ci_high"]
        hits["ratio"] += row["ratio_ci_low"] <= p1 / p0 <= row["ratio_ci_high"]
        lo, hi = proportion_confint(row["clicks"], row["exposures"], 0.05, method="wilson")
        hits["naive"] += lo <= p1 <= hi
    return {k: v / TESTS for k, v in hits.items()}


CASES = [
    # (visitors per arm, mean extra exposures, control Beta, treatment Beta, case)
    (300, 9.0, (0.8, 19.2), (0.8, 19.2), "A/A, CTR 4%, about 10 impressions a visitor"),
    (300, 9.0, (0.8, 19.2), (1.0, 19.0), "4% vs 5%"),
    (1_000, 20.0, (0.4, 9.6), (0.5, 9.5), "strong clustering: 4% vs 5%, 21 impressions"),
    (150, 4.0, (2.0, 48.0), (2.0, 38.0), "small test: 150 visitors, 5 impressions"),
]


@pytest.mark.parametrize(("n", "m", "control", "treat", "case"), CASES, ids=[c[4] for c in CASES])
def test_ctr_intervals_cover(
    n: int, m: float, control: tuple[float, float], treat: tuple[float, float], case: str
) -> None:
    with sm.config_context(confidence=0.95):
        cov = coverage(n, m, control, treat, seed=n + int(10 * m))
    for what in ("rate", "diff", "ratio"):
        assert 0.92 <= cov[what] <= 0.98, f"{case}: {what} coverage {cov[what]:.3f}"


def test_binomial_interval_over_impressions_falls_short() -> None:
    """The reference the delta method is checked against can fail: treating impressions as
    independent (Wilson over clicks / exposures) covers far less than 95% here."""
    cov = coverage(1_000, 20.0, (0.4, 9.6), (0.5, 9.5), seed=3)
    assert cov["naive"] < 0.80, f"naive coverage {cov['naive']:.3f}"
    assert cov["rate"] >= 0.92
