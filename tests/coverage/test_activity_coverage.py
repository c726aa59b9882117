"""Coverage of the activity counterfactual's interval, on simulated stores with a known lift.

Each draw is a product group of a store: orders per day Poisson with a slowly wandering
level (a random walk on the log scale) and a weekly pattern, order values lognormal; an
activity of four days adds Poisson extra orders with their own lognormal values, whose
sum is the true incremental paid amount of that draw. The 95% interval of
``actual - counterfactual`` over the activity must cover that truth in 92-98% of draws,
and with no extra orders and no cost the verdict "paid" (the interval's lower end above
0) must come up in at most 5% of draws (its nominal rate is 2.5%).
"""

from __future__ import annotations

import numpy as np
import pytest

from shopmetrics.models.counterfactual import structural_counterfactual

WEEKLY = np.array([1.05, 0.95, 0.9, 0.95, 1.0, 1.1, 1.05])


def _draw(rng: np.random.Generator, pre: int, days: int, base: float, lift: float):
    n = pre + days
    level = base * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    lam = level * WEEKLY[np.arange(n) % 7]
    counts = rng.poisson(lam)
    amount = np.array([rng.lognormal(np.log(60.0), 0.6, k).sum() for k in counts])
    extra = rng.poisson(lift, days)
    added = float(sum(rng.lognormal(np.log(50.0), 0.6, k).sum() for k in extra))
    return amount[:pre], float(amount[pre:].sum()), added


def _coverage(n_draws: int, seed: int, pre: int = 42, days: int = 4):
    rng = np.random.default_rng(seed)
    covered = false_paid = 0
    for i in range(n_draws):
        history, base_sum, added = _draw(rng, pre, days, base=20.0, lift=15.0)
        fit = structural_counterfactual(history, days, draws=400, seed=i, check=False)
        totals = fit.total(slice(0, days))
        lo, hi = np.quantile((base_sum + added) - totals, [0.025, 0.975])
        covered += lo <= added <= hi
        false_paid += np.quantile(base_sum - totals, 0.025) > 0  # no lift, no cost
    return covered / n_draws, false_paid / n_draws


def test_incremental_paid_amount_interval_covers_the_planted_lift() -> None:
    # 150 draws: the Monte-Carlo standard error of a 95% coverage is 1.8 points (the
    # plug-in model without the variances' uncertainty gave 91.5% at 200 draws)
    coverage, false_paid = _coverage(150, seed=20261202)
    assert 0.92 <= coverage <= 0.98, coverage
    assert false_paid <= 0.05, false_paid


@pytest.mark.slow_coverage
def test_incremental_paid_amount_interval_covers_at_scale() -> None:
    coverage, false_paid = _coverage(1000, seed=7)
    assert 0.93 <= coverage <= 0.97, coverage
    assert false_paid <= 0.04, false_paid
