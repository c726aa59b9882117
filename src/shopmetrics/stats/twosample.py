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

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError
from shopmetrics.stats.common import (
    Array,
    broadcast,
    check_alternative,
    floats,
    p_from_z,
    valid_binomial,
    z_crit,
)
from shopmetrics.stats.intervals import proportion_ci, rate

PROPORTION_TESTS: tuple[str, ...] = ("auto", "score", "fisher")
RATIO_METHODS: tuple[str, ...] = ("score", "log")

EXACT_MIN_EXPECTED = 5.0
"""``test="auto"`` uses Fisher's exact test when an expected cell of the 2x2 table is below this."""

__all__ = [
    "EXACT_MIN_EXPECTED",
    "Comparison",
    "compare_proportions",
    "compare_rates",
    "newcombe_diff_ci",
    "proportions_pvalue",
    "risk_ratio_ci",
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


# ---------------------------------------------------------------- helpers


# ---------------------------------------------------------------- two proportions


def newcombe_diff_ci(
    x1: Any, n1: Any, x2: Any, n2: Any, confidence: float | None = None
) -> tuple[Array, Array, Array]:
    """Difference of two independent proportions with Newcombe's hybrid score interval.

    Composed from :func:`~shopmetrics.stats.intervals.proportion_ci` (statsmodels'
    Wilson limits, vectorised) rather than ``confint_proportions_2indep``, which takes one
    comparison at a time. Assumptions: two independent binomial samples.
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
    x1, n1, x2, n2 = broadcast(x1, n1, x2, n2)
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

    Why our own: ``statsmodels.stats.proportion.confint_proportions_2indep(compare="ratio",
    method="score")`` solves one comparison at a time with a scalar root finder; the
    bisection here runs on every group at once (a week's products, an experiment's
    variants), with the same statistic, and is tested against statsmodels. Assumptions:
    the two arms independent binomial samples. Coverage: ``tests/coverage``.

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
    x1, n1, x2, n2 = broadcast(x1, n1, x2, n2)
    ok = valid_binomial(x1, n1) & valid_binomial(x2, n2)
    x1s, n1s = np.where(ok, x1, 1.0), np.where(ok, n1, 2.0)
    x2s, n2s = np.where(ok, x2, 1.0), np.where(ok, n2, 2.0)
    p1, p2 = x1s / n1s, x2s / n2s
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(x2s > 0, p1 / np.where(x2s > 0, p2, 1.0), np.where(x1s > 0, np.inf, np.nan))
    z = z_crit(confidence)
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
            new_lo, new_hi = np.where(above, mid, lo), np.where(above, hi, mid)
            if np.array_equal(new_lo, lo) and np.array_equal(new_hi, hi):
                break  # a fixed point: every further step gives the same bounds
            lo, hi = new_lo, new_hi
    return floats(np.exp((lo + hi) / 2))


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
    x1, n1, x2, n2 = broadcast(x1, n1, x2, n2)
    ok = valid_binomial(x1, n1) & valid_binomial(x2, n2)
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
        p = np.where(approx, p_from_z(z, alternative), p)
    if exact.any():
        i = np.flatnonzero(exact)
        p[i] = fisher_pvalue(x1[i], n1[i] - x1[i], x2[i], n2[i] - x2[i], alternative)
    return p, used.astype(np.str_)


_FISHER_EPSILON = 1e-14
"""scipy's relative tolerance for tables as likely as the observed one (two-sided)."""


def fisher_pvalue(a: Any, b: Any, c: Any, d: Any, alternative: str = "two-sided") -> Array:
    """Fisher's exact test of the 2x2 tables ``[[a, b], [c, d]]``, every table at once.

    Why our own: ``scipy.stats.fisher_exact`` takes one table a call (0.2-0.3 ms each: a
    week's movers over a thousand small products spend a third of a second in it). This
    is scipy's algorithm, step for step, on arrays: the hypergeometric ``pmf`` / ``cdf``
    / ``sf`` of ``scipy.stats.hypergeom`` on every table, the two-sided p-value as the
    observed tail plus the tail beyond the last table on the other side of the mode no
    more likely than the observed one (relative tolerance 1e-14), found by the same
    binary search. So each p-value is scipy's to the last bit (``tests/test_stat_tests.py``
    compares them on every table of small margins). A table with an empty row or column
    has p = 1.

    Args:
        a: Successes of arm 1.
        b: Failures of arm 1.
        c: Successes of arm 2.
        d: Failures of arm 2.
        alternative: ``"two-sided"``, ``"less"`` or ``"greater"`` (odds ratio above 1).

    Returns:
        The p-values (floats, capped at 1).

    Examples:
        Agresti (2013), section 3.5.2, the tea-tasting table:

        >>> [round(float(v), 4) for v in fisher_pvalue([3], [1], [1], [3])]
        [0.4857]
    """
    check_alternative(alternative)
    from scipy.stats import hypergeom  # noqa: PLC0415

    a, b, c, d = (np.asarray(v, dtype=np.int64) for v in broadcast(a, b, c, d))
    n1, n2, n = a + b, c + d, a + c
    total = n1 + n2
    empty = (n1 == 0) | (n2 == 0) | (n == 0) | (b + d == 0)

    def pmf(k: Array) -> Array:
        return floats(hypergeom.pmf(k, total, n1, n))

    if alternative == "less":
        p = floats(hypergeom.cdf(a, total, n1, n))
    elif alternative == "greater":
        p = floats(hypergeom.cdf(b, total, n1, b + d))
    else:
        mode = ((n + 1) * (n1 + 1) / (total + 2)).astype(np.int64)  # as scipy: int(x / y)
        pexact, pmode = pmf(a), pmf(mode)
        gamma = 1 + _FISHER_EPSILON
        with np.errstate(divide="ignore", invalid="ignore"):
            tie = np.abs(pexact - pmode) / np.maximum(pexact, pmode) <= _FISHER_EPSILON
        low_side = a < mode
        target = pexact * gamma
        # below the mode: the lower tail, and the upper tail from the table found above it
        lower = floats(hypergeom.cdf(a, total, n1, n))
        above = _search(lambda k: -pmf(k), -target, mode, n)
        p_low = np.where(pmf(n) > target, lower, lower + hypergeom.sf(above, total, n1, n))
        # at or above the mode: the upper tail, and the lower tail up to the table below it
        upper = floats(hypergeom.sf(a - 1, total, n1, n))
        below = _search(pmf, target, np.zeros_like(mode), mode)
        p_up = np.where(
            pmf(np.zeros_like(n)) > target, upper, upper + hypergeom.cdf(below, total, n1, n)
        )
        p = np.where(tie, 1.0, np.where(low_side, p_low, p_up))
    return floats(np.where(empty, 1.0, np.minimum(p, 1.0)))


_BINOM_RERR = 1 + 1e-7
"""scipy's relative tolerance for outcomes as likely as the observed one (two-sided)."""


def binom_pvalue(k: Any, n: Any, prob: Any, alternative: str = "two-sided") -> Array:
    """The exact binomial test of ``k`` successes in ``n`` trials against ``prob``, on arrays.

    Why our own: ``scipy.stats.binomtest`` takes one count a call. This is its algorithm
    step for step on arrays (``scipy.stats.binom``'s ``pmf`` / ``cdf`` / ``sf``; two-sided:
    the outcomes no more likely than the observed one, relative tolerance 1e-7, the
    other side's found by the same binary search), so each p-value is scipy's to the last
    bit (``tests/test_stat_tests.py``).

    Examples:
        >>> [round(float(v), 4) for v in binom_pvalue([3, 7], [10, 10], [0.5, 0.5])]
        [0.3438, 0.3438]
    """
    check_alternative(alternative)
    from scipy.stats import binom  # noqa: PLC0415

    k, n, prob = broadcast(k, n, prob)
    k, n = k.astype(np.int64), n.astype(np.int64)
    if alternative == "less":
        return floats(np.minimum(1.0, binom.cdf(k, n, prob)))
    if alternative == "greater":
        return floats(np.minimum(1.0, binom.sf(k - 1, n, prob)))
    d = floats(binom.pmf(k, n, prob))
    mean = prob * n
    # below the mean: the lower tail and the outcomes above it no more likely
    ix = _search(lambda x: -binom.pmf(x, n, prob), -d * _BINOM_RERR, np.ceil(mean), n)
    y = n - ix + (d * _BINOM_RERR == binom.pmf(ix, n, prob)).astype(np.int64)
    low = binom.cdf(k, n, prob) + binom.sf(n - y, n, prob)
    # above it: the upper tail and the outcomes below it no more likely
    jx = _search(lambda x: binom.pmf(x, n, prob), d * _BINOM_RERR, np.zeros_like(n), np.floor(mean))
    high = binom.cdf(jx, n, prob) + binom.sf(k - 1, n, prob)
    p = np.where(k == mean, 1.0, np.where(k < mean, low, high))
    return floats(np.minimum(1.0, p))


def _search(f: Any, d: Array, lo: Array, hi: Array) -> Array:
    """scipy's ``_binary_search_for_binom_tst`` on arrays: per element, the ``i`` in
    ``[lo, hi]`` with ``f(i) <= d < f(i + 1)`` (``f`` ascending there), or where ``f(i)``
    equals ``d``."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    out = np.zeros_like(lo)
    found = np.zeros(lo.shape, dtype=bool)
    while True:
        active = (lo < hi) & ~found
        if not active.any():
            break
        mid = lo + (hi - lo) // 2
        val = f(mid)
        below, over = active & (val < d), active & (val > d)
        hit = active & ~below & ~over  # equal (or NaN, as scipy's ``else``)
        out = np.where(hit, mid, out)
        found |= hit
        lo = np.where(below, mid + 1, lo)
        hi = np.where(over, mid - 1, hi)
    last = np.where(f(lo) <= d, lo, lo - 1)
    return np.where(found, out, last)


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

    k1, e1, k2, e2 = broadcast(k1, e1, k2, e2)
    ok = (e1 > 0) & (e2 > 0) & (k1 >= 0) & (k2 >= 0) & np.isfinite(k1 + k2 + e1 + e2)
    k1s, k2s = np.where(ok, k1, 0.0), np.where(ok, k2, 0.0)
    e1s, e2s = np.where(ok, e1, 1.0), np.where(ok, e2, 1.0)
    total = k1s + k2s
    pi0 = e1s / (e1s + e2s)
    p = np.full(k1.shape, np.nan)
    some = ok & (total > 0)
    p[ok & (total == 0)] = 1.0
    if some.any():
        p[some] = binom_pvalue(k1s[some], total[some], pi0[some], alternative)
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
        half = z_crit(confidence) * np.sqrt(k1s / e1s**2 + k2s / e2s**2)
        low, high = est - half, est + half
    nan = np.full(k1.shape, np.nan)
    test = np.where(ok, "poisson-exact", "").astype(np.str_)
    return Comparison(
        floats(np.where(ok, est, nan)),
        floats(np.where(ok, low, nan)),
        floats(np.where(ok, high, nan)),
        p,
        test,
    )


# ---------------------------------------------------------------- power and sample size


# ---------------------------------------------------------------- sequential


# ---------------------------------------------------------------- sample ratio mismatch


def srm_pvalue(observed: Any, planned: Any | None = None) -> float:
    """Sample-ratio-mismatch check: chi-square goodness of fit of arm sizes to the planned split.

    A thin wrapper of ``scipy.stats.chisquare`` (Pearson's statistic against the expected
    counts ``Σobserved · planned / Σplanned``, ``k - 1`` degrees of freedom) that returns
    NaN instead of raising on fewer than two arms, no trials or bad weights.

    Assumptions: units assigned independently with the planned probabilities; the
    chi-square reference needs a few units per arm (a store's arms have thousands).

    Args:
        observed: Trials (or assigned units) per arm.
        planned: Planned allocation weights per arm (any scale); equal when ``None``.

    Returns:
        The p-value (NaN with fewer than two arms or no trials). A very small value
        (conventionally < 0.001) means the assignment or the tracking is broken and the
        test's comparison is not to be trusted.

    References:
        Fabijan, A. et al. (2019), "Diagnosing Sample Ratio Mismatch in Online Controlled
        Experiments", KDD; Pearson, K. (1900), Phil. Mag. 50.

    Examples:
        >>> round(srm_pvalue([5000, 5200]), 4)
        0.0477
    """
    obs = floats(observed).ravel()
    w = np.ones_like(obs) if planned is None else floats(planned).ravel()
    if len(obs) < 2 or obs.sum() <= 0 or len(w) != len(obs) or not (w > 0).all():
        return float("nan")
    from scipy import stats  # noqa: PLC0415

    expected = obs.sum() * w / w.sum()
    return float(stats.chisquare(obs, f_exp=expected).pvalue)
