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
from shopmetrics.stats.common import floats

Array = npt.NDArray[np.float64]


def _z(confidence: float) -> float:
    """Two-sided normal quantile (stdlib: importing scipy.stats costs seconds cold)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def rate(x: Any, n: Any) -> Array:
    """``x / n`` with NaN where ``n`` is not above 0.

    Divided in place into the result (one array made, not four: a funnel divides eight
    columns of up to a million rows); integer and float64 arrays are divided as they are
    (in float64: the same division), anything else is made float64 first.

    Examples:
        >>> rate([3, 0, 2], [4, 0, -1]).tolist()
        [0.75, nan, nan]
    """
    x, n = np.broadcast_arrays(_divisible(x), _divisible(n))
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(x, n, out=out, where=n > 0)
    return out


def _divisible(a: Any) -> npt.NDArray[Any]:
    """``a`` as an array numpy divides in float64: integers and float64 as they are."""
    arr = np.asarray(a)
    return arr if arr.dtype.kind in "iu" or arr.dtype == np.float64 else floats(arr)


def proportion_ci(
    x: Any, n: Any, method: str | None = None, confidence: float | None = None
) -> tuple[Array, Array]:
    """Confidence interval for a binomial proportion ``x / n``, vectorised.

    A thin wrapper of ``statsmodels.stats.proportion.proportion_confint`` (``"wilson"``,
    ``"jeffreys"``, ``"clopper-pearson"`` = statsmodels' ``"beta"``) that adds what the
    package needs around it: NaN (not an exception, not a warning) where ``n == 0`` or
    ``x`` is outside ``[0, n]``; limits clipped to [0, 1]; the exact limits 0 at ``x = 0``
    and 1 at ``x = n`` (Wilson and Clopper-Pearson reach them up to rounding; for Jeffreys
    this is the boundary modification of Brown, Cai & DasGupta 2001, section 4.1.2, which
    statsmodels does not apply).

    Assumptions: ``x`` successes out of ``n`` independent trials with one probability
    (visitors independent; a visitor counted once).

    Args:
        x: Successes.
        n: Trials.
        method: ``"wilson"`` (default from config), ``"jeffreys"`` or ``"clopper-pearson"``.
        confidence: Confidence level (default from config).

    Returns:
        ``(low, high)`` arrays; NaN where ``n == 0`` or ``x`` is outside ``[0, n]``.

    References:
        Wilson, E. B. (1927), JASA 22; Brown, Cai & DasGupta (2001), "Interval Estimation
        for a Binomial Proportion", Statistical Science 16(2). Coverage on simulated
        stores: ``tests/coverage`` (docs/statistics.md).

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
    x, n = np.broadcast_arrays(np.atleast_1d(_counts(x)), np.atleast_1d(_counts(n)))
    pairs = _distinct_pairs(x, n) if x.size >= _DISTINCT_FROM else None
    if pairs is not None:  # each distinct (x, n) once, then every row its pair's limits
        codes, px, pn = pairs
        low, high = _proportion_ci(px, pn, method, confidence)
        return low[codes].reshape(x.shape), high[codes].reshape(x.shape)
    return _proportion_ci(floats(x), floats(n), method, confidence)


def _counts(a: Any) -> npt.NDArray[Any]:
    """``a`` as an integer array when it is one (a funnel's count columns: no conversion
    to floats and back for :func:`_distinct_pairs`), else as floats."""
    arr = np.asarray(a)
    return arr if arr.dtype.kind in "iu" else floats(arr)


_DISTINCT_FROM = 4096
"""From this many rows, :func:`proportion_ci` computes each distinct ``(x, n)`` pair once."""


def _distinct_pairs(
    x: npt.NDArray[Any], n: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.intp], Array, Array] | None:
    """The distinct ``(x, n)`` pairs of whole counts in ``[0, 2**31)``, and each row's pair
    (``None`` when a value is anything else: NaN, negative, fractional, huge). ``x`` and
    ``n`` are integer arrays (taken as they are) or floats (checked to be whole).

    An interval depends on its row's ``(x, n)`` only, and a funnel's rows repeat few pairs
    (742k rows, 1.6k-6.7k distinct pairs at 10M wide events), so the limits are computed
    once per pair, the same arithmetic on the same values (equal to the last bit). Each
    pair is packed into one int64 and factorized by pandas' hash table, not ``np.unique``
    (a sort): 5-8 ms a rate at 742k rows against 26-30 ms for every row.
    """
    import pandas as pd  # noqa: PLC0415 - a core dependency; only on large arrays

    if x.dtype.kind in "iu" and n.dtype.kind in "iu":
        # a uint64 past int64 wraps to a negative value, which the range check refuses
        xi, ni = x.astype(np.int64, copy=False).ravel(), n.astype(np.int64, copy=False).ravel()
    else:
        with np.errstate(invalid="ignore"):
            xi, ni = x.astype(np.int64).ravel(), n.astype(np.int64).ravel()
        if not (np.array_equal(xi, x.ravel()) and np.array_equal(ni, n.ravel())):
            return None  # NaN, fractions, or values past int64
    if min(xi.min(), ni.min()) < 0 or max(xi.max(), ni.max()) >= 2**31:
        return None
    codes, packed = pd.factorize((xi << 32) | ni)
    return codes, (packed >> 32).astype(np.float64), (packed & 0xFFFFFFFF).astype(np.float64)


def _proportion_ci(x: Array, n: Array, method: str, confidence: float) -> tuple[Array, Array]:
    """:func:`proportion_ci` of every row (arrays of one shape, options checked)."""
    from statsmodels.stats.proportion import (  # noqa: PLC0415 - heavy; on first use
        proportion_confint,
    )

    ok = (n > 0) & (x >= 0) & (x <= n) & np.isfinite(x) & np.isfinite(n)
    xs, ns = np.where(ok, x, 0.0), np.where(ok, n, 1.0)
    sm_method = {"clopper-pearson": "beta"}.get(method, method)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = proportion_confint(xs, ns, alpha=1 - confidence, method=sm_method)
    low = np.where(xs == 0, 0.0, np.clip(floats(low), 0.0, 1.0))
    high = np.where(xs == ns, 1.0, np.clip(floats(high), 0.0, 1.0))
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


_CANCEL_ULPS = 16
"""How many units of rounding of ``Σy²`` the difference ``Σy² - nȳ²`` may carry and still be
taken as 0 (all values equal) in :func:`mean_ci`."""


def mean_ci(
    n: Any, total: Any, total_sq: Any, confidence: float | None = None, *, scale: str = "linear"
) -> tuple[Array, Array, Array]:
    """Mean and normal-theory interval from mergeable aggregates (count, sum, sum of squares).

    Method: the delta method on per-unit aggregates. ``ȳ = Σy / n``, ``se = s / sqrt(n)``
    with ``s² = (Σy² - n ȳ²) / (n - 1)`` (the aggregates of
    :class:`~shopmetrics.stats.aggregates.Aggregates`); ``scale="linear"``:
    ``ȳ ± z se``; ``scale="log"`` (for positive, right-skewed values: order amounts):
    ``ȳ · exp(±z se / ȳ)``, the delta-method interval of ``log ȳ`` mapped back, which
    misses high less often than the symmetric one (simulated coverage with clustered,
    lognormal buyer spend at 200 buyers: 93.7% against 93.1%; at 600 visitors with 5%
    buying: 92.8% against 89.1%; docs/statistics.md).

    Used for average order value (the unit is the BUYER: a buyer's orders of the period
    summed first, because one buyer's orders are not independent), visitor value (the
    unit is the visitor, 0 for one who did not buy) and DSR scores (the rating; linear,
    clipped to [1, 5] by the caller).

    Assumptions: units independent and identically distributed; enough units for the
    normal approximation of ``ȳ`` (a few dozen for moderately skewed values, a few
    hundred buyers for very skewed ones: ``tests/coverage``).

    Returns:
        ``(mean, low, high)``; NaN where ``n < 2``; with ``scale="log"`` and ``Σy = 0``
        (visitors but no buyer) the degenerate ``(0, 0, 0)``.

    References:
        The variance of a sample mean; Deng, Knoblich & Lu (2018), KDD (delta method on
        aggregates); tea-tasting ``aggr.py`` uses the same aggregates.

    Examples:
        >>> m, lo, hi = mean_ci([4], [400.0], [45_000.0], 0.95, scale="log")
        >>> round(float(m[0]), 1), round(float(lo[0]), 1), round(float(hi[0]), 1)
        (100.0, 67.0, 149.2)
    """
    if scale not in ("linear", "log"):
        raise DefinitionError.unknown("interval scale", scale, ("linear", "log"))
    z = _z(confidence or get_config().confidence)
    n, total, total_sq = floats(n), floats(total), floats(total_sq)
    if max(n.size, total.size, total_sq.size) >= _SPARSE_FROM:
        n, total, total_sq = np.broadcast_arrays(n, total, total_sq)
        # a unit total and sum of squares of +0 (no buyer: most rows of a funnel by product
        # and day) fix the mean and limits from n alone; only the other rows are computed
        empty = (total == 0) & (total_sq == 0) & ~np.signbit(total) & np.isfinite(n)
        if np.count_nonzero(empty) * 2 >= empty.size:
            rows = np.flatnonzero(~empty.ravel())
            flat = n.ravel()
            mean = np.where(flat > 0, 0.0, np.nan)  # 0 / n
            low, high = np.where(flat > 1, 0.0, np.nan), np.where(flat > 1, 0.0, np.nan)
            part = _mean_ci_rows(flat[rows], total.ravel()[rows], total_sq.ravel()[rows], z, scale)
            for out, got in zip((mean, low, high), part, strict=True):
                out[rows] = got
            return mean.reshape(n.shape), low.reshape(n.shape), high.reshape(n.shape)
    return _mean_ci_rows(n, total, total_sq, z, scale)


_SPARSE_FROM = 4096
"""From this many rows, :func:`mean_ci` computes only the rows with a spend when most have
none (16 ms against 52 ms for a funnel's aov and visitor value, hot, at 742k rows of which
97% have no payment): a row with ``Σy = Σy² = +0`` and a finite ``n`` has mean ``0`` (NaN where
``n <= 0``) and limits ``0`` (NaN where ``n <= 1``), what the formula gives it, to the bit
(``tests/test_stats.py``)."""


def _mean_ci_rows(
    n: Array, total: Array, total_sq: Array, z: float, scale: str
) -> tuple[Array, Array, Array]:
    """:func:`mean_ci`'s formula on every row (``z`` the normal quantile)."""
    mean = rate(total, n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        num = total_sq - n * mean**2
        # Σy² - nȳ² cancels: when every value is the same it is 0 up to rounding (a few
        # ulps of Σy²), which the square root would turn into a visible standard error
        num = np.where(np.abs(num) <= _CANCEL_ULPS * np.finfo(np.float64).eps * total_sq, 0.0, num)
        var = np.where(n > 1, num / np.where(n > 1, n - 1, 1.0), np.nan)
        se = np.sqrt(np.maximum(var, 0.0) / np.where(n > 0, n, 1.0))
        if scale == "log":
            factor = np.where(mean > 0, np.exp(z * se / np.where(mean > 0, mean, 1.0)), 1.0)
            factor = np.where(np.isfinite(se), factor, np.nan)
            return mean, mean / factor, mean * factor
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
    n = floats(n)
    y, x = floats(sum_num), floats(sum_den)
    yy, xx, xy = floats(sum_num2), floats(sum_den2), floats(sum_cross)
    r = rate(y, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        nn = np.where(n > 1, n, np.nan)
        mx, my = x / nn, y / nn
        vx = (xx - nn * mx**2) / (nn - 1)
        vy = (yy - nn * my**2) / (nn - 1)
        cxy = (xy - nn * mx * my) / (nn - 1)
        var = np.maximum((vy - 2 * r * cxy + r**2 * vx) / (nn * mx**2), 0.0)
    return r, np.where(np.isfinite(r), var, np.nan)


def total_over_fixed_ci(
    n: Any, total: Any, total_sq: Any, den: Any, confidence: float | None = None
) -> tuple[Array, Array, Array]:
    """A random total over a fixed denominator (ROAS = paid amount / cost) and its interval.

    Method: the delta method on per-unit aggregates, on the log scale. The total ``Σy`` is
    a sum over ``n`` independent units (visitors of a source; ``y`` is a visitor's paid
    amount, 0 for a visitor who did not buy, so ``Σy²`` is the sum over buyers of each
    buyer's amount squared). ``Var(Σy) = n s²`` with ``s² = (Σy² - (Σy)²/n) / (n - 1)``,
    the sample variance of ``y`` (the aggregates of the visitor value interval,
    :func:`mean_ci`). The denominator is a known constant (the spend report's cost), so
    ``Var(R) = Var(Σy) / den²``. The interval is ``R · exp(±z · se(R) / R)`` (delta
    method for ``log R``): order amounts are right-skewed, and the symmetric interval
    ``R ± z se`` misses high too often (simulated coverage 92.6% against 94.1% at 100
    buyers with lognormal amounts, σ = 1).

    Assumptions: units (buyers) independent; ``den`` fixed, not estimated; enough buyers
    for the normal approximation of ``log Σy`` (about 20 for moderately skewed amounts,
    a few hundred for very skewed ones: see ``tests/coverage``). Where ``n`` is unknown
    (NaN or 0: a row without its visitors) the variance is its ``n → ∞`` limit ``Σy²``,
    the compound-Poisson variance of a sum over buyers (slightly wider).

    Returns:
        ``(ratio, low, high)``; NaN where ``den <= 0``; ``(0, 0, 0)`` without buyers.

    Examples:
        >>> r, lo, hi = total_over_fixed_ci([1000], [500.0], [25_000.0], [250.0], 0.95)
        >>> round(float(r[0]), 3), round(float(lo[0]), 3), round(float(hi[0]), 3)
        (2.0, 1.079, 3.707)
    """
    confidence = confidence or get_config().confidence
    n, total, total_sq, den = floats(n), floats(total), floats(total_sq), floats(den)
    ratio = rate(total, den)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        known = np.isfinite(n) & (n > 1)
        nn = np.where(known, n, 2.0)
        var_total = np.where(known, nn / (nn - 1) * (total_sq - total**2 / nn), total_sq)
        log_se = np.sqrt(np.maximum(var_total, 0.0)) / np.where(total > 0, total, np.nan)
        factor = np.where(total > 0, np.exp(_z(confidence) * log_se), 1.0)
    return ratio, ratio / factor, ratio * factor


def fieller_ratio_ci(
    num: Any, var_num: Any, den: Any, var_den: Any, confidence: float | None = None
) -> tuple[Array, Array, Array]:
    """Ratio of two independent estimates ``num / den`` with Fieller's interval.

    Method: the set of ratios ``θ`` not rejected by the z test of ``num - θ den = 0``,
    ``(num - θ den)² <= z² (var_num + θ² var_den)``: the roots of
    ``θ² (den² - z² var_den) - 2 θ num den + (num² - z² var_num) = 0``. Unlike the delta
    method it stays honest when the denominator is random and may be near zero: where
    ``den`` is not significantly away from 0 (``g = z² var_den / den² >= 1``) the set is
    unbounded and the limits are ``-inf, inf`` (say so rather than print a finite
    interval). Used for the period-over-period ratio of a mean metric (``rel_change``
    + 1 in :func:`shopmetrics.compare.compare`), with each period's mean and the variance
    of that mean from its per-unit aggregates.

    Assumptions: ``num`` and ``den`` independent (two periods' units: buyers of one week
    and of the next) and each approximately normal; the variances known (estimated from
    enough units).

    References:
        Fieller, E. C. (1954), "Some problems in interval estimation", JRSS B 16(2),
        175-185; Franz, V. H. (2007), "Ratios: A short guide to confidence limits and
        proper use", arXiv:0710.2024 (eq. 4, independent case).

    Examples:
        >>> r, lo, hi = fieller_ratio_ci([110.0], [25.0], [100.0], [16.0], 0.95)
        >>> round(float(r[0]), 3), round(float(lo[0]), 3), round(float(hi[0]), 3)
        (1.1, 0.976, 1.238)
    """
    confidence = confidence or get_config().confidence
    a, va, b, vb = floats(num), floats(var_num), floats(den), floats(var_den)
    z2 = _z(confidence) ** 2
    ratio = rate(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        lead = b * b - z2 * vb
        disc = a * a * vb + b * b * va - z2 * va * vb
        root = np.sqrt(np.maximum(disc, 0.0) * z2)
        bounded = (lead > 0) & np.isfinite(lead)
        low = np.where(bounded, (a * b - root) / np.where(bounded, lead, 1.0), -np.inf)
        high = np.where(bounded, (a * b + root) / np.where(bounded, lead, 1.0), np.inf)
    known = np.isfinite(a) & np.isfinite(b) & np.isfinite(va) & np.isfinite(vb)
    return ratio, np.where(known, low, np.nan), np.where(known, high, np.nan)
