"""Statistics on small aggregates: intervals, ratio variances, shrinkage, multiple testing.

Everything here takes numpy arrays of counts and sums (the output of one engine pass)
and is vectorised over groups. Zero denominators give NaN, never an exception.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from shopmetrics.config import CI_METHODS, get_config
from shopmetrics.errors import DefinitionError

Array = npt.NDArray[np.float64]


def _z(confidence: float) -> float:
    """Two-sided normal quantile (stdlib: importing scipy.stats costs seconds cold)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _as_float(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)


def rate(x: Any, n: Any) -> Array:
    """``x / n`` with NaN where ``n == 0``."""
    x, n = _as_float(x), _as_float(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)


def proportion_ci(
    x: Any, n: Any, method: str | None = None, confidence: float | None = None
) -> tuple[Array, Array]:
    """Confidence interval for a binomial proportion ``x / n``, vectorised.

    Args:
        x: Successes.
        n: Trials.
        method: ``"wilson"`` (default from config), ``"jeffreys"`` or ``"clopper-pearson"``.
        confidence: Confidence level (default from config).

    Returns:
        ``(low, high)`` arrays; NaN where ``n == 0`` or ``x`` is outside ``[0, n]``.

    References:
        Brown, Cai & DasGupta (2001), "Interval Estimation for a Binomial Proportion",
        Statistical Science 16(2). Matches ``statsmodels.stats.proportion.proportion_confint``
        with ``method="wilson" | "jeffreys" | "beta"``.

    Examples:
        >>> low, high = proportion_ci([7], [50], method="wilson", confidence=0.95)
        >>> round(float(low[0]), 4), round(float(high[0]), 4)
        (0.0695, 0.2619)
    """
    cfg = get_config()
    method = method or cfg.ci_method
    confidence = confidence or cfg.confidence
    if method not in CI_METHODS:
        raise DefinitionError.unknown("interval method", method, CI_METHODS)
    x, n = np.atleast_1d(_as_float(x)), np.atleast_1d(_as_float(n))
    x, n = np.broadcast_arrays(x, n)
    ok = (n > 0) & (x >= 0) & (x <= n) & np.isfinite(x) & np.isfinite(n)
    xs, ns = np.where(ok, x, 0.0), np.where(ok, n, 1.0)
    alpha = 1 - confidence
    if method == "wilson":
        z = _z(confidence)
        z2 = z * z
        denom = ns + z2
        center = (xs + z2 / 2) / denom
        half = z / denom * np.sqrt(xs * (ns - xs) / ns + z2 / 4)
        low, high = center - half, center + half
    else:
        from scipy import stats  # noqa: PLC0415

        if method == "jeffreys":
            low = stats.beta.ppf(alpha / 2, xs + 0.5, ns - xs + 0.5)
            high = stats.beta.ppf(1 - alpha / 2, xs + 0.5, ns - xs + 0.5)
        else:
            with np.errstate(invalid="ignore"):
                low = stats.beta.ppf(alpha / 2, np.maximum(xs, 1e-300), ns - xs + 1)
                high = stats.beta.ppf(1 - alpha / 2, xs + 1, np.maximum(ns - xs, 1e-300))
        low = np.where(xs == 0, 0.0, low)
        high = np.where(xs == ns, 1.0, high)
    low = np.clip(low, 0.0, 1.0)
    high = np.clip(high, 0.0, 1.0)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def mean_ci(
    n: Any, total: Any, total_sq: Any, confidence: float | None = None
) -> tuple[Array, Array, Array]:
    """Mean and normal-theory interval from mergeable aggregates (count, sum, sum of squares).

    Used for average order value (per-buyer spend) and visitor value (per-visitor spend,
    zero for visitors who did not buy). Returns ``(mean, low, high)``; NaN where ``n < 2``.

    References:
        The variance of a sample mean, ``s^2 / n`` with ``s^2 = (Σy² - n ȳ²) / (n - 1)``;
        tea-tasting ``aggr.py`` uses the same aggregates.
    """
    confidence = confidence or get_config().confidence
    n, total, total_sq = _as_float(n), _as_float(total), _as_float(total_sq)
    mean = rate(total, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, (total_sq - n * mean**2) / np.where(n > 1, n - 1, 1.0), np.nan)
        se = np.sqrt(np.maximum(var, 0.0) / np.where(n > 0, n, 1.0))
    z = _z(confidence)
    return mean, mean - z * se, mean + z * se


def ratio_var(
    n: Any, sum_num: Any, sum_den: Any, sum_num2: Any, sum_den2: Any, sum_cross: Any
) -> tuple[Array, Array]:
    """Ratio of sums ``R = Σy / Σx`` over ``n`` units and its delta-method variance.

    ``Var(R) ≈ (Var(y) - 2R Cov(x, y) + R² Var(x)) / (n x̄²)`` with sample (``n - 1``)
    moments; NaN where ``n < 2`` or ``Σx = 0``.

    References:
        Deng, Knoblich & Lu (2018), "Applying the Delta Method in Metric Analytics",
        KDD; tea-tasting ``aggr.py::ratio_var``.
    """
    n = _as_float(n)
    y, x = _as_float(sum_num), _as_float(sum_den)
    yy, xx, xy = _as_float(sum_num2), _as_float(sum_den2), _as_float(sum_cross)
    r = rate(y, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        nn = np.where(n > 1, n, np.nan)
        mx, my = x / nn, y / nn
        vx = (xx - nn * mx**2) / (nn - 1)
        vy = (yy - nn * my**2) / (nn - 1)
        cxy = (xy - nn * mx * my) / (nn - 1)
        var = np.maximum((vy - 2 * r * cxy + r**2 * vx) / (nn * mx**2), 0.0)
    return r, np.where(np.isfinite(r), var, np.nan)


def ratio_ci(
    n: Any,
    sum_num: Any,
    sum_den: Any,
    sum_num2: Any,
    sum_den2: Any,
    sum_cross: Any,
    confidence: float | None = None,
) -> tuple[Array, Array, Array]:
    """Ratio of sums ``Σy / Σx`` over ``n`` units with a delta-method interval.

    ``Var(R) ≈ (Var(y) - 2R Cov(x, y) + R² Var(x)) / (n x̄²)``.

    References:
        Deng, Knoblich & Lu (2018), "Applying the Delta Method in Metric Analytics",
        KDD; tea-tasting ``aggr.py::ratio_var``.
    """
    confidence = confidence or get_config().confidence
    r, var = ratio_var(n, sum_num, sum_den, sum_num2, sum_den2, sum_cross)
    se = np.sqrt(var)
    z = _z(confidence)
    return r, r - z * se, r + z * se


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

    x, n = _as_float(x), _as_float(n)
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
    x, n = _as_float(x), _as_float(n)
    return (x + a) / (n + a + b), a, b


def adjust_pvalues(p: Any, method: str | None = None) -> Array:
    """Multiple-testing adjusted p-values: ``"bh"``, ``"holm"`` or ``"none"``.

    NaN p-values are left NaN and do not count as tests.

    References:
        Benjamini & Hochberg (1995), JRSS B 57(1); Holm (1979), Scand. J. Statist. 6(2).
        Matches ``statsmodels.stats.multitest.multipletests`` (``fdr_bh``, ``holm``).
    """
    method = method or get_config().correction
    p = _as_float(p)
    out: Array = np.full(p.shape, np.nan, dtype=np.float64)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q)
    ranked = q[order]
    if method == "bh":
        adj = ranked * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
    elif method == "holm":
        adj = ranked * (m - np.arange(m))
        adj = np.maximum.accumulate(adj)
    else:
        raise DefinitionError.unknown("correction", method, ("bh", "holm", "none"))
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
