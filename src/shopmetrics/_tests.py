"""Two-sample tests and intervals on small aggregates, vectorised over groups.

Every function takes numpy-compatible arrays (one element per group: a product, a source,
a variant) and returns arrays of the broadcast shape. Arm 1 is the *treatment* (or the
current period) and arm 2 the *control* (or the previous period): differences are
``arm1 - arm2`` and ratios ``arm1 / arm2``. Where a quantity is undefined (no trials, no
exposure) the result is NaN, never an exception.

Contents:
    two proportions: :func:`newcombe_diff_ci` (difference), :func:`risk_ratio_ci` (ratio,
        score or Katz log), :func:`proportions_pvalue` (pooled score z test, or Fisher's
        exact test when any expected cell is below 5), :func:`compare_proportions`.
    ratio metrics (AOV, visitor value, ROAS): :func:`ratio_var`, :func:`compare_ratios`
        (delta-method, Welch-type z) from mergeable aggregates.
    counts with exposure: :func:`compare_rates` (exact conditional binomial test and
        interval for the rate ratio, normal interval for the difference).
    planning: :func:`power_proportions`, :func:`sample_size_proportions`.
    sequential: :func:`always_valid` (mixture SPRT always-valid p-values and confidence
        sequences) and :func:`running_always_valid` over looks.
    sample ratio mismatch: :func:`srm_pvalue`.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from shopmetrics import _stats
from shopmetrics._stats import proportion_ci, rate
from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError

Array = npt.NDArray[np.float64]
Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")
PROPORTION_TESTS: tuple[str, ...] = ("auto", "score", "fisher")
RATIO_METHODS: tuple[str, ...] = ("score", "log")
POWER_METHODS: tuple[str, ...] = ("pooled", "arcsine")

EXACT_MIN_EXPECTED = 5.0
"""``test="auto"`` uses Fisher's exact test when an expected cell of the 2x2 table is below this."""

__all__ = [
    "ALTERNATIVES",
    "EXACT_MIN_EXPECTED",
    "Comparison",
    "RatioAggregates",
    "always_valid",
    "compare_proportions",
    "compare_rates",
    "compare_ratios",
    "newcombe_diff_ci",
    "power_proportions",
    "proportions_pvalue",
    "ratio_var",
    "risk_ratio_ci",
    "running_always_valid",
    "sample_size_proportions",
    "srm_pvalue",
]


class Comparison(NamedTuple):
    """A two-sample comparison, one element per group.

    Attributes:
        estimate: The difference (``arm1 - arm2``) or ratio (``arm1 / arm2``).
        low: Lower confidence limit.
        high: Upper confidence limit.
        p_value: p-value of the test of no difference (ratio 1).
        test: Name of the test behind each p-value (``"score"``, ``"fisher"``, ...).
    """

    estimate: Array
    low: Array
    high: Array
    p_value: Array
    test: npt.NDArray[np.str_]


class RatioAggregates(NamedTuple):
    """Mergeable aggregates of a ratio metric ``Σy / Σx`` over ``n`` independent units.

    For average order value the unit is a paying buyer (``y`` = amount paid, ``x`` = 1); for
    visitor value a visitor (``y`` = amount, ``x`` = 1, zero for non-buyers); for ROAS a
    day or a campaign (``y`` = attributed sales, ``x`` = cost). Aggregates of disjoint chunks
    add up, field by field, to the aggregates of the whole.

    Attributes:
        n: Number of units.
        sum_num: ``Σy``.
        sum_den: ``Σx``.
        sum_num2: ``Σy²``.
        sum_den2: ``Σx²``.
        sum_cross: ``Σxy``.
    """

    n: Any
    sum_num: Any
    sum_den: Any
    sum_num2: Any
    sum_den2: Any
    sum_cross: Any

    @classmethod
    def from_units(cls, num: Any, den: Any | None = None) -> RatioAggregates:
        """Aggregates of one group from per-unit values (``den`` defaults to 1 per unit)."""
        y = np.asarray(num, dtype=np.float64)
        x = np.ones_like(y) if den is None else np.asarray(den, dtype=np.float64)
        return cls(float(len(y)), y.sum(), x.sum(), (y * y).sum(), (x * x).sum(), (x * y).sum())


# ---------------------------------------------------------------- helpers


def _f(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)


def check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise DefinitionError.unknown("alternative", alternative, ALTERNATIVES)


def _norm() -> Any:
    from scipy import stats  # noqa: PLC0415 - scipy.stats is heavy; import on first use

    return stats.norm


def _z_crit(confidence: float) -> float:
    return float(_norm().ppf(0.5 + confidence / 2))


def _p_from_z(z: Array, alternative: str) -> Array:
    """p-value of a standard-normal statistic ``z`` (``z > 0``: arm 1 above arm 2)."""
    norm = _norm()
    if alternative == "two-sided":
        return _f(2 * norm.sf(np.abs(z)))
    if alternative == "greater":
        return _f(norm.sf(z))
    return _f(norm.cdf(z))


def _valid_binomial(x: Array, n: Array) -> npt.NDArray[np.bool_]:
    return (n > 0) & (x >= 0) & (x <= n) & np.isfinite(x) & np.isfinite(n)


def _broadcast(*arrays: Any) -> list[Array]:
    return list(np.broadcast_arrays(*(np.atleast_1d(_f(a)) for a in arrays)))


# ---------------------------------------------------------------- two proportions


def newcombe_diff_ci(
    x1: Any, n1: Any, x2: Any, n2: Any, confidence: float | None = None
) -> tuple[Array, Array, Array]:
    """Difference of two independent proportions with Newcombe's hybrid score interval.

    ``d = x1/n1 - x2/n2``; with Wilson limits ``(l1, u1)``, ``(l2, u2)`` of each proportion,
    ``low = d - sqrt((p1 - l1)² + (u2 - p2)²)`` and ``high = d + sqrt((u1 - p1)² + (p2 - l2)²)``.
    Defined for 0 and n successes; NaN where either arm has no trials.

    Args:
        x1: Successes in arm 1 (treatment).
        n1: Trials in arm 1.
        x2: Successes in arm 2 (control).
        n2: Trials in arm 2.
        confidence: Confidence level (default from config).

    Returns:
        ``(diff, low, high)`` arrays.

    References:
        Newcombe, R. G. (1998), "Interval estimation for the difference between
        independent proportions: comparison of eleven methods", Statistics in Medicine
        17, 873-890, method 10. Matches ``statsmodels.stats.proportion.
        confint_proportions_2indep(..., method="newcomb")``.

    Examples:
        Newcombe (1998), Table II, example (a): 56/70 against 48/80.

        >>> d, lo, hi = newcombe_diff_ci(56, 70, 48, 80, confidence=0.95)
        >>> round(float(d[0]), 4), round(float(lo[0]), 4), round(float(hi[0]), 4)
        (0.2, 0.0524, 0.3339)
    """
    confidence = confidence or get_config().confidence
    x1, n1, x2, n2 = _broadcast(x1, n1, x2, n2)
    l1, u1 = proportion_ci(x1, n1, method="wilson", confidence=confidence)
    l2, u2 = proportion_ci(x2, n2, method="wilson", confidence=confidence)
    p1, p2 = rate(x1, n1), rate(x2, n2)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def _rr_score_stat(ratio: Array, x1: Array, n1: Array, x2: Array, n2: Array) -> Array:
    """Miettinen-Nurminen score statistic for ``H0: p1 / p2 = ratio`` (vectorised)."""
    n = n1 + n2
    xs = x1 + x2
    a = n * ratio
    b = -(n1 * ratio + x1 + n2 + x2 * ratio)
    disc = np.maximum(b * b - 4 * a * xs, 0.0)
    p2t = (-b - np.sqrt(disc)) / (2 * a)
    p1t = p2t * ratio
    var = (p1t * (1 - p1t) / n1 + ratio**2 * p2t * (1 - p2t) / n2) * n / (n - 1)
    num = x1 / n1 - ratio * x2 / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = num / np.sqrt(var)
    return np.where(var > 0, z, np.sign(num) * np.inf)


def risk_ratio_ci(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    *,
    confidence: float | None = None,
    method: str = "score",
) -> tuple[Array, Array, Array]:
    """Ratio of two independent proportions (risk ratio, relative lift + 1) with an interval.

    ``"score"`` (default) inverts the Miettinen-Nurminen score test (with its
    ``N / (N - 1)`` variance factor) by bisection on the log ratio: it is defined with zero
    successes (lower limit 0 when ``x1 = 0``, upper limit ``inf`` when ``x2 = 0``).
    ``"log"`` is the Katz log interval ``exp(log RR ± z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2))``,
    NaN when either arm has no successes.

    Args:
        x1: Successes in arm 1 (treatment).
        n1: Trials in arm 1.
        x2: Successes in arm 2 (control).
        n2: Trials in arm 2.
        confidence: Confidence level (default from config).
        method: ``"score"`` or ``"log"``.

    Returns:
        ``(ratio, low, high)``; the ratio is ``inf`` when only arm 2 has no successes and NaN
        when neither has any.

    References:
        Miettinen, O. & Nurminen, M. (1985), "Comparative analysis of two rates",
        Statistics in Medicine 4, 213-226; Katz, D. et al. (1978), "Obtaining confidence
        intervals for the risk ratio in cohort studies", Biometrics 34, 469-474. Match
        ``statsmodels.stats.proportion.confint_proportions_2indep(..., compare="ratio",
        method="score" | "log")``.

    Examples:
        >>> rr, lo, hi = risk_ratio_ci(30, 1000, 20, 1000, confidence=0.95, method="log")
        >>> round(float(rr[0]), 2), round(float(lo[0]), 3), round(float(hi[0]), 3)
        (1.5, 0.858, 2.623)
    """
    confidence = confidence or get_config().confidence
    if method not in RATIO_METHODS:
        raise DefinitionError.unknown("risk ratio interval method", method, RATIO_METHODS)
    x1, n1, x2, n2 = _broadcast(x1, n1, x2, n2)
    ok = _valid_binomial(x1, n1) & _valid_binomial(x2, n2)
    x1s, n1s = np.where(ok, x1, 1.0), np.where(ok, n1, 2.0)
    x2s, n2s = np.where(ok, x2, 1.0), np.where(ok, n2, 2.0)
    p1, p2 = x1s / n1s, x2s / n2s
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(x2s > 0, p1 / np.where(x2s > 0, p2, 1.0), np.where(x1s > 0, np.inf, np.nan))
    z = _z_crit(confidence)
    if method == "log":
        pos = (x1s > 0) & (x2s > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(1 / x1s - 1 / n1s + 1 / x2s - 1 / n2s)
            low = np.where(pos, np.exp(np.log(rr) - z * se), np.nan)
            high = np.where(pos, np.exp(np.log(rr) + z * se), np.nan)
    else:
        low = _bisect_ratio(z, x1s, n1s, x2s, n2s)
        high = _bisect_ratio(-z, x1s, n1s, x2s, n2s)
        low = np.where(x1s == 0, 0.0, low)
        high = np.where(x2s == 0, np.inf, high)
    nan = np.full_like(rr, np.nan)
    return np.where(ok, rr, nan), np.where(ok, low, nan), np.where(ok, high, nan)


def _bisect_ratio(target: float, x1: Array, n1: Array, x2: Array, n2: Array) -> Array:
    """The ratio where the (decreasing) score statistic equals ``target``."""
    lo = np.full_like(x1, -40.0)  # log ratio bounds: e^-40 .. e^40
    hi = np.full_like(x1, 40.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(90):
            mid = (lo + hi) / 2
            above = _rr_score_stat(np.exp(mid), x1, n1, x2, n2) > target
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
    return _f(np.exp((lo + hi) / 2))


def proportions_pvalue(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    *,
    alternative: str = "two-sided",
    test: str = "auto",
) -> tuple[Array, npt.NDArray[np.str_]]:
    """p-value for ``H0: p1 = p2`` between two independent proportions.

    ``"score"``: the pooled z test ``z = (p1 - p2) / sqrt(p̄ (1 - p̄) (1/n1 + 1/n2))`` (the
    score test; its square is Pearson's chi-square without continuity correction).
    ``"fisher"``: Fisher's exact conditional test (two-sided: sum of the tables no more
    likely than the observed one). ``"auto"`` (default) uses Fisher's test when any
    expected cell ``n_i (x1 + x2) / N`` or ``n_i (N - x1 - x2) / N`` is below
    :data:`EXACT_MIN_EXPECTED` (= 5, Cochran's rule), and the score test otherwise.

    Args:
        x1: Successes in arm 1 (treatment).
        n1: Trials in arm 1.
        x2: Successes in arm 2 (control).
        n2: Trials in arm 2.
        alternative: ``"two-sided"``, ``"greater"`` (``p1 > p2``) or ``"less"``.
        test: ``"auto"``, ``"score"`` or ``"fisher"``.

    Returns:
        ``(p_value, test_used)``; NaN (test ``""``) where an arm has no trials.

    References:
        Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., sections 3.1 and 3.5;
        Fisher, R. A. (1935), "The logic of inductive inference", JRSS 98; Cochran, W. G.
        (1954), "Some methods for strengthening the common χ² tests", Biometrics 10.
        Match ``statsmodels.stats.proportion.test_proportions_2indep(..., method="score",
        correction=False)`` and ``scipy.stats.fisher_exact``.

    Examples:
        >>> p, used = proportions_pvalue([30, 3], [1000, 40], [20, 1], [1000, 40])
        >>> [round(float(v), 4) for v in p], [str(u) for u in used]
        ([0.1521, 0.6153], ['score', 'fisher'])
    """
    check_alternative(alternative)
    if test not in PROPORTION_TESTS:
        raise DefinitionError.unknown("proportion test", test, PROPORTION_TESTS)
    x1, n1, x2, n2 = _broadcast(x1, n1, x2, n2)
    ok = _valid_binomial(x1, n1) & _valid_binomial(x2, n2)
    n = np.where(ok, n1 + n2, 1.0)
    xs = np.where(ok, x1 + x2, 0.0)
    min_expected = np.minimum(n1, n2) * np.minimum(xs, n - xs) / n
    use_exact = min_expected < EXACT_MIN_EXPECTED if test == "auto" else test == "fisher"
    exact = ok & use_exact
    used = np.where(exact, "fisher", np.where(ok, "score", ""))
    p = np.full(x1.shape, np.nan)
    approx = ok & ~exact
    if approx.any():
        pbar = xs / n
        se = np.sqrt(pbar * (1 - pbar) * (1 / np.where(ok, n1, 1.0) + 1 / np.where(ok, n2, 1.0)))
        diff = rate(x1, n1) - rate(x2, n2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
        p = np.where(approx, _p_from_z(z, alternative), p)
    if exact.any():
        from scipy import stats  # noqa: PLC0415

        for i in np.flatnonzero(exact):
            a, b, c, d = int(x1[i]), int(n1[i] - x1[i]), int(x2[i]), int(n2[i] - x2[i])
            p[i] = stats.fisher_exact([[a, b], [c, d]], alternative=alternative).pvalue
    return p, used.astype(np.str_)


def compare_proportions(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    *,
    compare: str = "diff",
    confidence: float | None = None,
    alternative: str = "two-sided",
    test: str = "auto",
    ratio_method: str = "score",
) -> Comparison:
    """Difference (Newcombe) or ratio (score / log) of two proportions, with a p-value.

    The p-value is that of :func:`proportions_pvalue` (the null ``p1 = p2`` is the same for
    both contrasts). Intervals are two-sided whatever ``alternative`` is.

    Examples:
        >>> c = compare_proportions([56], [70], [48], [80], confidence=0.95)
        >>> round(float(c.low[0]), 4), round(float(c.high[0]), 4), str(c.test[0])
        (0.0524, 0.3339, 'score')
    """
    if compare == "diff":
        est, low, high = newcombe_diff_ci(x1, n1, x2, n2, confidence)
    elif compare == "ratio":
        est, low, high = risk_ratio_ci(x1, n1, x2, n2, confidence=confidence, method=ratio_method)
    else:
        raise DefinitionError.unknown("comparison", compare, ("diff", "ratio"))
    p, used = proportions_pvalue(x1, n1, x2, n2, alternative=alternative, test=test)
    return Comparison(est, low, high, p, used)


# ---------------------------------------------------------------- ratio metrics


def ratio_var(agg: RatioAggregates) -> tuple[Array, Array]:
    """Ratio of sums ``R = Σy / Σx`` and its delta-method variance, from mergeable aggregates.

    ``Var(R) ≈ (s_y² - 2 R s_xy + R² s_x²) / (n x̄²)`` with sample (co)variances
    (``n - 1`` denominators). NaN where ``n < 2`` or ``Σx = 0``.

    References:
        Deng, A., Knoblich, U. & Lu, J. (2018), "Applying the Delta Method in Metric
        Analytics: A Practical Guide with Novel Ideas", KDD; the same formula as
        :func:`shopmetrics._stats.ratio_ci` and tea-tasting ``aggr.py::ratio_var``.
    """
    return _stats.ratio_var(
        agg.n, agg.sum_num, agg.sum_den, agg.sum_num2, agg.sum_den2, agg.sum_cross
    )


def compare_ratios(
    arm1: RatioAggregates,
    arm2: RatioAggregates,
    *,
    confidence: float | None = None,
    alternative: str = "two-sided",
) -> Comparison:
    """Difference of a ratio metric between two independent samples (AOV, visitor value, ROAS).

    ``d = R1 - R2`` with ``se = sqrt(Var(R1) + Var(R2))`` (each by :func:`ratio_var`) and a
    Welch-type z test ``z = d / se`` (normal reference: meant for the hundreds of units
    a store's comparisons rest on). For a plain mean (``x = 1`` per unit) the statistic
    equals Welch's unequal-variance t statistic.

    Args:
        arm1: Aggregates of arm 1 (treatment / current period).
        arm2: Aggregates of arm 2 (control / previous period).
        confidence: Confidence level (default from config).
        alternative: ``"two-sided"``, ``"greater"`` (``R1 > R2``) or ``"less"``.

    Returns:
        A :class:`Comparison` of the difference (test ``"delta-z"``); NaN where either arm
        has fewer than 2 units or a zero denominator.

    References:
        Deng, Knoblich & Lu (2018), KDD; Welch, B. L. (1947), Biometrika 34, 28-35.

    Examples:
        >>> a = RatioAggregates.from_units([120.0, 80.0, 100.0, 140.0])
        >>> b = RatioAggregates.from_units([90.0, 70.0, 110.0, 60.0])
        >>> c = compare_ratios(a, b, confidence=0.95)
        >>> round(float(c.estimate[0]), 2), round(float(c.p_value[0]), 4)
        (27.5, 0.1061)
    """
    check_alternative(alternative)
    confidence = confidence or get_config().confidence
    r1, v1 = ratio_var(arm1)
    r2, v2 = ratio_var(arm2)
    d = np.atleast_1d(r1 - r2)
    se = np.atleast_1d(np.sqrt(v1 + v2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, d / np.where(se > 0, se, 1.0), np.sign(d) * np.inf)
    z = np.where(np.isfinite(d) & np.isfinite(se), z, np.nan)
    p = _p_from_z(z, alternative)
    p = np.where(np.isnan(z), np.nan, p)
    crit = _z_crit(confidence)
    test = np.where(np.isfinite(p), "delta-z", "").astype(np.str_)
    return Comparison(d, d - crit * se, d + crit * se, _f(p), test)


# ---------------------------------------------------------------- counts with exposure


def compare_rates(
    k1: Any,
    e1: Any,
    k2: Any,
    e2: Any,
    *,
    compare: str = "ratio",
    confidence: float | None = None,
    alternative: str = "two-sided",
) -> Comparison:
    """Compare two Poisson rates ``k / exposure`` (page views per visitor, orders per day).

    The test is the exact conditional one: given ``k1 + k2``, ``k1`` is binomial with
    ``π = e1 / (e1 + e2)`` under equal rates (two-sided p-value as ``scipy.stats.binomtest``:
    outcomes no more likely than the observed one). ``compare="ratio"``: the rate ratio
    with the exact conditional interval (Clopper-Pearson limits ``πL, πU`` of ``k1`` out
    of ``k1 + k2``, mapped by ``π / (1 - π) · e2 / e1``). ``compare="diff"``: the
    difference ``k1/e1 - k2/e2`` with the normal interval ``± z sqrt(k1/e1² + k2/e2²)``.

    Args:
        k1: Count in arm 1.
        e1: Exposure of arm 1 (visitors, days, ...).
        k2: Count in arm 2.
        e2: Exposure of arm 2.
        compare: ``"ratio"`` or ``"diff"``.
        confidence: Confidence level (default from config).
        alternative: ``"two-sided"``, ``"greater"`` (rate 1 above rate 2) or ``"less"``.

    Returns:
        A :class:`Comparison` (test ``"poisson-exact"``); NaN where an exposure is not
        positive, and p = 1 when both counts are 0.

    References:
        Przyborowski, J. & Wilenski, H. (1940), "Homogeneity of results in testing
        samples from Poisson series", Biometrika 31; Gu, Ng, Tang & Schucany (2008),
        "Testing the ratio of two Poisson rates", Biometrical Journal 50. The p-value
        matches ``statsmodels.stats.rates.test_poisson_2indep(..., method="exact-cond")``;
        the ratio interval matches R's ``poisson.test``.

    Examples:
        >>> c = compare_rates(30, 10.0, 15, 10.0)
        >>> round(float(c.estimate[0]), 2), round(float(c.p_value[0]), 4)
        (2.0, 0.0357)
    """
    check_alternative(alternative)
    if compare not in ("ratio", "diff"):
        raise DefinitionError.unknown("comparison", compare, ("ratio", "diff"))
    confidence = confidence or get_config().confidence
    from scipy import stats  # noqa: PLC0415

    k1, e1, k2, e2 = _broadcast(k1, e1, k2, e2)
    ok = (e1 > 0) & (e2 > 0) & (k1 >= 0) & (k2 >= 0) & np.isfinite(k1 + k2 + e1 + e2)
    k1s, k2s = np.where(ok, k1, 0.0), np.where(ok, k2, 0.0)
    e1s, e2s = np.where(ok, e1, 1.0), np.where(ok, e2, 1.0)
    total = k1s + k2s
    pi0 = e1s / (e1s + e2s)
    p = np.full(k1.shape, np.nan)
    for i in np.flatnonzero(ok):
        if total[i] == 0:
            p[i] = 1.0
            continue
        p[i] = stats.binomtest(
            int(k1s[i]), int(total[i]), float(pi0[i]), alternative=alternative
        ).pvalue
    r1, r2 = k1s / e1s, k2s / e2s
    alpha = 1 - confidence
    if compare == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.where(
                k2s > 0, r1 / np.where(k2s > 0, r2, 1.0), np.where(k1s > 0, np.inf, np.nan)
            )
            pl = stats.beta.ppf(alpha / 2, np.maximum(k1s, 1e-300), k2s + 1)
            pu = stats.beta.ppf(1 - alpha / 2, k1s + 1, np.maximum(k2s, 1e-300))
            pl = np.where(k1s == 0, 0.0, pl)
            pu = np.where(k2s == 0, 1.0, pu)
            low = np.where(total > 0, pl / (1 - pl) * e2s / e1s, 0.0)
            high = np.where((total > 0) & (pu < 1), pu / (1 - pu) * e2s / e1s, np.inf)
    else:
        est = r1 - r2
        half = _z_crit(confidence) * np.sqrt(k1s / e1s**2 + k2s / e2s**2)
        low, high = est - half, est + half
    nan = np.full(k1.shape, np.nan)
    test = np.where(ok, "poisson-exact", "").astype(np.str_)
    return Comparison(
        _f(np.where(ok, est, nan)), _f(np.where(ok, low, nan)), _f(np.where(ok, high, nan)), p, test
    )


# ---------------------------------------------------------------- power and sample size


def _power_args(alternative: str, alpha: float) -> float:
    check_alternative(alternative)
    norm = _norm()
    return float(norm.isf(alpha / 2) if alternative == "two-sided" else norm.isf(alpha))


def power_proportions(
    p1: Any,
    p2: Any,
    n1: Any,
    n2: Any,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    method: str = "pooled",
) -> Array:
    """Power of the two-proportion z test to detect ``p1`` against ``p2`` with ``n1``, ``n2``.

    ``"pooled"`` (default): the textbook normal approximation with the null variance
    pooled and the alternative variance unpooled,
    ``Φ((|p1 - p2| - z_α sqrt(p̄ q̄ (1/n1 + 1/n2))) / sqrt(p1 q1 / n1 + p2 q2 / n2))`` with
    ``p̄ = (n1 p1 + n2 p2) / (n1 + n2)`` (the far tail of a two-sided test is ignored, as in
    R's ``power.prop.test`` with ``strict = FALSE``). ``"arcsine"``: Cohen's effect size
    ``h = 2 asin√p1 - 2 asin√p2`` with ``Φ(|h| sqrt(n1 n2 / (n1 + n2)) - z_α)`` plus the far
    tail, as ``statsmodels.stats.power.NormalIndPower`` with ``proportion_effectsize``.
    For ``alternative="greater"`` / ``"less"`` the power is that in the stated direction.

    References:
        Fleiss, J. L., Levin, B. & Paik, M. C. (2003), *Statistical Methods for Rates and
        Proportions*, 3rd ed., section 4.2; Cohen, J. (1988), *Statistical Power Analysis
        for the Behavioral Sciences*, ch. 6.

    Examples:
        R's documented example ``power.prop.test(n = 50, p1 = .50, p2 = .75)`` gives 0.740:

        >>> round(float(power_proportions(0.75, 0.5, 50, 50)[0]), 3)
        0.74
    """
    if method not in POWER_METHODS:
        raise DefinitionError.unknown("power method", method, POWER_METHODS)
    crit = _power_args(alternative, alpha)
    norm = _norm()
    p1, p2, n1, n2 = _broadcast(p1, p2, n1, n2)
    ok = (n1 > 0) & (n2 > 0) & (p1 >= 0) & (p1 <= 1) & (p2 >= 0) & (p2 <= 1)
    n1s, n2s = np.where(ok, n1, 1.0), np.where(ok, n2, 1.0)
    sign = {"two-sided": 1.0, "greater": 1.0, "less": -1.0}[alternative]
    if method == "pooled":
        d = p1 - p2
        pbar = (n1s * p1 + n2s * p2) / (n1s + n2s)
        null_sd = np.sqrt(pbar * (1 - pbar) * (1 / n1s + 1 / n2s))
        alt_sd = np.sqrt(p1 * (1 - p1) / n1s + p2 * (1 - p2) / n2s)
        eff = np.abs(d) if alternative == "two-sided" else sign * d
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = norm.cdf((eff - crit * null_sd) / alt_sd)
    else:
        h = 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))
        shift = h * np.sqrt(n1s * n2s / (n1s + n2s))
        if alternative == "two-sided":
            pw = norm.sf(crit - shift) + norm.cdf(-crit - shift)
        else:
            pw = norm.sf(crit - sign * shift)
    return _f(np.where(ok, pw, np.nan))


def sample_size_proportions(
    p_control: Any,
    p_treatment: Any,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
    method: str = "pooled",
) -> tuple[Array, Array]:
    """Trials per arm for the two-proportion z test (not rounded up).

    ``ratio`` is ``n_treatment / n_control``. ``"pooled"``:
    ``n_c = (z_α sqrt(p̄ q̄ (1 + 1/r)) + z_β sqrt(p_t q_t / r + p_c q_c))² / (p_t - p_c)²``
    with ``p̄ = (p_c + r p_t) / (1 + r)`` (Fleiss, Levin & Paik 2003, eq. 4.14 generalised
    to unequal arms; R ``power.prop.test`` for ``r = 1``). ``"arcsine"``: the ``n`` solving
    the ``"arcsine"`` power of :func:`power_proportions` exactly (far tail included), as
    ``NormalIndPower().solve_power``.

    Returns:
        ``(n_control, n_treatment)``; NaN where the proportions are equal or outside (0, 1).

    Examples:
        R's documented example ``power.prop.test(p1 = .50, p2 = .75, power = .90)`` gives
        n = 76.7 per group:

        >>> nc, nt = sample_size_proportions(0.5, 0.75, power=0.9)
        >>> round(float(nc[0]), 1)
        76.7
    """
    if method not in POWER_METHODS:
        raise DefinitionError.unknown("power method", method, POWER_METHODS)
    if not 0 < power < 1 or not 0 < alpha < 1 or not ratio > 0:
        msg = f"need 0 < alpha < 1, 0 < power < 1 and ratio > 0; got {alpha=}, {power=}, {ratio=}"
        raise DefinitionError(msg)
    crit = _power_args(alternative, alpha)
    norm = _norm()
    zb = float(norm.ppf(power))
    pc, pt = _broadcast(p_control, p_treatment)
    ok = (pc > 0) & (pc < 1) & (pt > 0) & (pt < 1) & (pc != pt)
    if alternative == "greater":
        ok &= pt > pc
    elif alternative == "less":
        ok &= pt < pc
    pcs, pts = np.where(ok, pc, 0.25), np.where(ok, pt, 0.5)
    r = float(ratio)
    if method == "pooled":
        pbar = (pcs + r * pts) / (1 + r)
        top = crit * np.sqrt(pbar * (1 - pbar) * (1 + 1 / r)) + zb * np.sqrt(
            pts * (1 - pts) / r + pcs * (1 - pcs)
        )
        nc = top**2 / (pts - pcs) ** 2
    else:
        h = 2 * np.arcsin(np.sqrt(pts)) - 2 * np.arcsin(np.sqrt(pcs))
        neff = ((crit + zb) / h) ** 2  # n_c r / (1 + r) = neff, far tail ignored
        nc = neff * (1 + r) / r
        if alternative == "two-sided":  # a few Newton steps take in the far tail
            for _ in range(4):
                shift = np.abs(h) * np.sqrt(nc * r / (1 + r))
                f = norm.sf(crit - shift) + norm.cdf(-crit - shift) - power
                dshift = 0.5 * shift / nc
                fp = (norm.pdf(crit - shift) - norm.pdf(-crit - shift)) * dshift
                nc = nc - f / fp
    nc = np.where(ok, nc, np.nan)
    return _f(nc), _f(nc * r)


# ---------------------------------------------------------------- sequential


def always_valid(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    *,
    mixing_variance: float,
    confidence: float | None = None,
) -> tuple[Array, Array, Array]:
    """Always-valid p-value and confidence sequence for ``p1 - p2`` at one look (mixture SPRT).

    With ``θ̂ = p̂1 - p̂2``, ``V = p̂1 q̂1 / n1 + p̂2 q̂2 / n2`` and a normal mixing distribution
    ``N(0, τ²)`` on the difference, the mixture likelihood ratio is
    ``Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))`` and the p-value at this look is
    ``min(1, 1/Λ)``. By Ville's inequality ``P(sup_n Λ_n ≥ 1/α) ≤ α`` under the null, so
    the p-value can be read at every look (and its running minimum over looks, see
    :func:`running_always_valid`) without inflating the type-I error. The matching
    confidence sequence is ``θ̂ ± sqrt(2 V (V + τ²) / τ² · (log(1/α) + ½ log((V + τ²) / V)))``.

    ``τ²`` should be the square of the size of difference you expect (or care about);
    it must be fixed before the data are seen. The normal approximation needs a few
    successes and failures per arm; NaN where an arm has no trials or ``V = 0``.

    References:
        Johari, R., Pekelis, L. & Walsh, D. (2017), "Always valid inference: Bringing
        sequential analysis to A/B testing", arXiv:1512.04922 (section 4, normal mixture
        for two-stream difference of means); Johari, Koomen, Pekelis & Walsh (2017),
        "Peeking at A/B tests", KDD; Robbins, H. (1970), "Statistical methods related to
        the law of the iterated logarithm", Ann. Math. Statist. 41.

    Returns:
        ``(p_value, cs_low, cs_high)`` at this look.

    Examples:
        >>> p, lo, hi = always_valid(130, 1000, 100, 1000, mixing_variance=0.02**2)
        >>> round(float(p[0]), 3), bool(lo[0] < 0.03 < hi[0])
        (0.396, True)
    """
    if not mixing_variance > 0:
        msg = f"mixing_variance must be > 0, got {mixing_variance!r}"
        raise DefinitionError(msg)
    confidence = confidence or get_config().confidence
    alpha = 1 - confidence
    x1, n1, x2, n2 = _broadcast(x1, n1, x2, n2)
    ok = _valid_binomial(x1, n1) & _valid_binomial(x2, n2)
    p1, p2 = rate(x1, n1), rate(x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = p1 * (1 - p1) / np.where(ok, n1, 1.0) + p2 * (1 - p2) / np.where(ok, n2, 1.0)
        ok &= v > 0
        vs = np.where(ok, v, 1.0)
        theta = p1 - p2
        t2 = float(mixing_variance)
        log_lr = 0.5 * np.log(vs / (vs + t2)) + t2 * theta**2 / (2 * vs * (vs + t2))
        p = np.minimum(1.0, np.exp(-log_lr))
        half = np.sqrt(2 * vs * (vs + t2) / t2 * (np.log(1 / alpha) + 0.5 * np.log((vs + t2) / vs)))
    nan = np.full(x1.shape, np.nan)
    return (
        _f(np.where(ok, p, nan)),
        _f(np.where(ok, theta - half, nan)),
        _f(np.where(ok, theta + half, nan)),
    )


def running_always_valid(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    *,
    mixing_variance: float,
    confidence: float | None = None,
) -> tuple[Array, Array, Array]:
    """Always-valid p-values and confidence sequences over a history of looks.

    Inputs are cumulative counts with looks along axis 0 (e.g. shape ``(days, groups)``).
    The p-value at look ``t`` is the running minimum of :func:`always_valid` p-values up to
    ``t``, and the interval the running intersection of the confidence sequence (both are
    still valid at any stopping time). NaN looks (no data yet) are skipped.

    Returns:
        ``(p_value, cs_low, cs_high)`` of the input's shape.
    """
    p, lo, hi = always_valid(x1, n1, x2, n2, mixing_variance=mixing_variance, confidence=confidence)
    p = np.fmin.accumulate(np.where(np.isnan(p), np.inf, p), axis=0)
    lo = np.fmax.accumulate(np.where(np.isnan(lo), -np.inf, lo), axis=0)
    hi = np.fmin.accumulate(np.where(np.isnan(hi), np.inf, hi), axis=0)
    none = ~np.isfinite(p)
    return (
        _f(np.where(none, np.nan, p)),
        _f(np.where(none, np.nan, lo)),
        _f(np.where(none, np.nan, hi)),
    )


# ---------------------------------------------------------------- sample ratio mismatch


def srm_pvalue(observed: Any, planned: Any | None = None) -> float:
    """Sample-ratio-mismatch check: chi-square goodness of fit of arm sizes to the planned split.

    Args:
        observed: Trials (or assigned units) per arm.
        planned: Planned allocation weights per arm (any scale); equal when ``None``.

    Returns:
        The p-value (NaN with fewer than two arms or no trials). A very small value
        (conventionally < 0.001) means the assignment or the tracking is broken and the
        test's comparison is not to be trusted.

    References:
        Fabijan, A. et al. (2019), "Diagnosing Sample Ratio Mismatch in Online Controlled
        Experiments", KDD. Matches ``scipy.stats.chisquare``.

    Examples:
        >>> round(srm_pvalue([5000, 5200]), 4)
        0.0477
    """
    obs = _f(observed).ravel()
    w = np.ones_like(obs) if planned is None else _f(planned).ravel()
    if len(obs) < 2 or obs.sum() <= 0 or len(w) != len(obs) or not (w > 0).all():
        return float("nan")
    from scipy import stats  # noqa: PLC0415

    expected = obs.sum() * w / w.sum()
    stat = float(((obs - expected) ** 2 / expected).sum())
    return float(stats.chi2.sf(stat, len(obs) - 1))
