"""Empirical-Bayes shrinkage of rates toward their group's beta-binomial prior."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopmetrics.stats.common import Array, floats


def fit_beta_binomial(x: Any, n: Any) -> tuple[float, float]:
    """Fit a beta prior ``Beta(a, b)`` to per-group successes by maximum likelihood.

    The marginal of each group is beta-binomial. Groups with ``n == 0`` are ignored.
    When the groups show no more spread than binomial noise the fit runs to the
    boundary; ``a + b`` is then capped at ``1e6`` (full pooling).

    References:
        Efron (2010), *Large-Scale Inference*, ch. 1; Robinson (2017), *Introduction to
        Empirical Bayes*. Method-of-moments start as in Kleinman (1973).
    """
    from scipy import optimize, special  # noqa: PLC0415

    x, n = floats(x), floats(n)
    keep = (n > 0) & (x >= 0) & (x <= n)
    x, n = x[keep], n[keep]
    if len(x) == 0 or n.sum() == 0:
        return 1.0, 1.0
    p = x.sum() / n.sum()
    p = min(max(p, 1e-6), 1 - 1e-6)
    if len(x) < 3:
        s = 1e6
        return p * s, (1 - p) * s

    def nll(theta: Array) -> float:
        mu = special.expit(theta[0])
        s = np.exp(theta[1])
        a, b = mu * s, (1 - mu) * s
        ll = (special.betaln(x + a, n - x + b) - special.betaln(a, b)).sum()
        return float(-ll)

    # method of moments start
    rates = x / n
    var = rates.var()
    s0 = p * (1 - p) / var - 1 if var > 0 else 1e3
    s0 = min(max(s0, 0.5), 1e6)
    start = np.array([special.logit(p), np.log(s0)])
    res = optimize.minimize(
        nll, start, method="L-BFGS-B", bounds=[(-20, 20), (np.log(1e-3), np.log(1e6))]
    )
    mu = float(special.expit(res.x[0]))
    s = float(np.exp(res.x[1]))
    return mu * s, (1 - mu) * s


def shrink(x: Any, n: Any) -> tuple[Array, float, float]:
    """Empirical-Bayes shrunk rates ``(x + a) / (n + a + b)`` with the fitted prior.

    Returns ``(shrunk, a, b)``. Small groups move toward the pooled rate, large groups
    keep their own.
    """
    a, b = fit_beta_binomial(x, n)
    x, n = floats(x), floats(n)
    return (x + a) / (n + a + b), a, b
