"""Several scores of the same units: covariance, correlation, conditional departures.

Read from one group of :class:`~shopmetrics.stats.aggregates.Aggregates` (sums and sums
of products of the scores over the units that have all of them): the sample covariance
matrix, Pearson correlations with Fisher-z intervals, and — for groups of units — how far
one score's group mean departs from what the group's other scores predict under the
conditional normal distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from shopmetrics.stats.aggregates import Aggregates
from shopmetrics.stats.common import Array


def covariance_matrix(
    agg: Aggregates, names: Sequence[str], count: str | None = None, *, min_units: int = 3
) -> tuple[Array, float]:
    """Sample covariance matrix of ``names`` in the first group, and its number of units.

    ``count`` names the count of units that have every value (default: ``n``). The
    matrix is NaN with fewer than ``min_units`` units.

    Examples:
        >>> a = Aggregates.from_units(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 4.0, 5.0, 9.0])
        >>> cov, n = covariance_matrix(a, ["x", "y"])
        >>> cov.round(4).tolist(), n
        ([[1.6667, 3.6667], [3.6667, 8.6667]], 4.0)
    """
    k = len(names)
    nc = float(agg.n[0] if count is None else agg.sums[count][0])
    cov = np.full((k, k), np.nan)
    if nc < min_units:
        return cov, nc
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            cov[i, j] = float(agg.cov(a, b, count)[0])
    return cov, nc


def pearson(cov: Any, n: float, i: int, j: int, z: float) -> tuple[float, float, float]:
    """Pearson correlation of variables ``i`` and ``j`` and its Fisher-z interval.

    ``cov`` is their covariance matrix over ``n`` units, ``z`` the normal quantile of
    the interval (1.96 for 95%). NaN where a variance is 0 or the interval is undefined
    (``n <= 3``, ``|r| = 1``).

    References:
        Fisher (1921), "On the 'probable error' of a coefficient of correlation", Metron 1;
        matches ``scipy.stats.pearsonr(x, y).confidence_interval()``.

    Examples:
        >>> cov = np.array([[1.6667, 3.6667], [3.6667, 8.6667]])
        >>> [round(v, 4) for v in pearson(cov, 40, 0, 1, 1.96)]
        [0.9648, 0.9339, 0.9813]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (
            float(cov[i, j] / math.sqrt(cov[i, i] * cov[j, j]))
            if cov[i, i] > 0 and cov[j, j] > 0
            else math.nan
        )
    if n > 3 and math.isfinite(r) and abs(r) < 1:
        zr, se = math.atanh(r), 1 / math.sqrt(n - 3)
        return r, math.tanh(zr - z * se), math.tanh(zr + z * se)
    return r, math.nan, math.nan


def conditional_departures(cov: Any, delta: Any, n: Any) -> tuple[Array, Array, Array, Array]:
    """How far each variable departs from what the others predict, per group.

    ``delta`` holds, per group (rows) and variable (columns), the group mean minus the
    overall mean; ``cov`` is the covariance matrix of one unit's variables, ``n`` the units
    per group. The deviation of variable ``d`` expected from the others ``o`` is
    ``Σ_do Σ_oo⁻¹ δ_o`` (the conditional mean of a multivariate normal; equal to the OLS
    slopes of ``d`` on the others over the units). The departure is ``δ_d`` minus that,
    with standard error ``√((Σ_dd − Σ_do Σ_oo⁻¹ Σ_od) / n)``.

    Returns:
        ``(expected, departure, z, p_value)``, each shaped like ``delta``; two-sided
        normal p-values, NaN where ``n`` is 0 or the conditional variance is not positive.

    References:
        Anderson (2003), *An Introduction to Multivariate Statistical Analysis*, 3rd ed.,
        Theorem 2.5.1 (conditional normal distribution).

    Examples:
        >>> cov = np.array([[1.0, 0.5], [0.5, 1.0]])
        >>> expected, dep, z, p = conditional_departures(cov, np.array([[0.4, -0.2]]), [100])
        >>> expected.round(4).tolist(), dep.round(4).tolist(), z.round(3).tolist()
        ([[-0.1, 0.2]], [[0.5, -0.4]], [[5.774, -4.619]])
    """
    from scipy import stats  # noqa: PLC0415

    cov = np.asarray(cov, dtype=float)
    delta = np.asarray(delta, dtype=float)
    n_eff = np.asarray(n, dtype=float)
    k = cov.shape[0]
    out = [np.full(delta.shape, np.nan) for _ in range(4)]
    for i in range(k):
        o = [j for j in range(k) if j != i]
        beta = np.linalg.pinv(cov[np.ix_(o, o)]) @ cov[o, i]
        cond_var = float(cov[i, i] - cov[i, o] @ beta)
        expected = delta[:, o] @ beta
        dep = delta[:, i] - expected
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(
                np.where(
                    (n_eff > 0) & (cond_var > 0), cond_var / np.where(n_eff > 0, n_eff, 1.0), np.nan
                )
            )
            z = dep / se
        out[0][:, i], out[1][:, i], out[2][:, i] = expected, dep, z
        out[3][:, i] = 2 * stats.norm.sf(np.abs(z))
    return out[0], out[1], out[2], out[3]
