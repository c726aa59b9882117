"""Empirical-Bayes shrinkage of group means (normal-normal), for star scores.

The beta-binomial shrinkage of rates is in :mod:`shopmetrics.stats.shrinkage`; this is
its counterpart for means of a score (DSR's stars per group): the between-group variance
by DerSimonian–Laird's method of moments, each group's mean moved toward the pooled one.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def shrink_normal(n: Any, s: Any, q: Any) -> Any:
    """Normal-normal empirical Bayes toward the pooled (shop) mean.

    Group means ``y_i`` with sampling variance ``v_i = σ² / n_i`` (``σ²`` the pooled
    within-group variance of single ratings); the between-group variance ``τ²`` by the
    method of moments (DerSimonian–Laird); each mean moves toward the shop mean ``μ`` by
    ``B_i = v_i / (v_i + τ²)``: ``μ + (1 − B_i)(y_i − μ)``.

    Args:
        n: Ratings per group.
        s: Sum of the ratings per group.
        q: Sum of their squares per group.

    Returns:
        The shrunk group means (NaN for a group without ratings). With fewer than two
        rated groups, or no spread within them, the groups keep their own means.

    References:
        Efron & Morris (1975), "Data analysis using Stein's estimator and its
        generalizations", JASA 70; the ``τ²`` of :func:`dl_tau2`.

    Examples:
        >>> import numpy as np
        >>> n = np.array([100.0, 4.0, 30.0])  # means 4.8, 3.0, 4.0
        >>> s, q = np.array([480.0, 12.0, 120.0]), np.array([2340.0, 40.0, 500.0])
        >>> [round(float(x), 4) for x in shrink_normal(n, s, q)]
        [4.7977, 3.3143, 4.0184]
    """
    n, s, q = (np.asarray(a, dtype=float) for a in (n, s, q))
    ok = n > 0
    out = np.full(len(n), np.nan)
    if ok.sum() == 0:
        return out
    y = np.where(ok, s / np.where(ok, n, 1.0), np.nan)
    big_n, k = n[ok].sum(), int(ok.sum())
    mu = s[ok].sum() / big_n
    if k < 2 or big_n - k <= 0:
        out[ok] = y[ok]
        return out
    sigma2 = max(float((q[ok] - s[ok] ** 2 / n[ok]).sum() / (big_n - k)), 0.0)
    if sigma2 == 0:
        out[ok] = y[ok]
        return out
    tau2 = dl_tau2(y[ok], sigma2 / n[ok])
    v = sigma2 / n[ok]
    b = v / (v + tau2)
    out[ok] = mu + (1 - b) * (y[ok] - mu)
    return out


def dl_tau2(y: Any, v: Any) -> float:
    """DerSimonian–Laird method-of-moments between-group variance.

    References:
        DerSimonian & Laird (1986), "Meta-analysis in clinical trials", Controlled
        Clinical Trials 7(3); matches ``statsmodels.stats.meta_analysis.combine_effects(
        ..., method_re="dl").tau2``.
    """
    w = 1.0 / np.asarray(v, dtype=float)
    y = np.asarray(y, dtype=float)
    ybar = (w * y).sum() / w.sum()
    q_stat = (w * (y - ybar) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    return float(max(0.0, (q_stat - (len(y) - 1)) / c)) if c > 0 else 0.0
