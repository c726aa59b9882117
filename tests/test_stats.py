"""Interval, ratio, shrinkage and multiple-testing helpers against independent implementations."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from shopmetrics.errors import DefinitionError
from shopmetrics.stats import intervals, multiplicity, shrinkage
from shopmetrics.stats.aggregates import Aggregates

# counts spanning small, large, 0 and n successes
CASES = [(0, 10), (10, 10), (1, 3), (7, 50), (81, 263), (5000, 100000), (1, 1), (0, 1)]
SM_METHOD = {"wilson": "wilson", "jeffreys": "jeffreys", "clopper-pearson": "beta"}


@pytest.mark.parametrize("method", list(SM_METHOD))
@pytest.mark.parametrize(("x", "n"), CASES)
def test_proportion_ci_matches_statsmodels(method: str, x: int, n: int) -> None:
    # reference: statsmodels.stats.proportion.proportion_confint (independent implementation)
    lo, hi = intervals.proportion_ci([x], [n], method=method, confidence=0.95)
    ref_lo, ref_hi = proportion_confint(x, n, alpha=0.05, method=SM_METHOD[method])
    if method == "jeffreys":
        # Brown, Cai & DasGupta (2001), sec. 4.1.2: the Jeffreys interval's lower end is 0
        # at x = 0 and its upper end 1 at x = n; statsmodels returns the raw beta quantile.
        ref_lo = 0.0 if x == 0 else ref_lo
        ref_hi = 1.0 if x == n else ref_hi
    assert lo[0] == pytest.approx(ref_lo, abs=1e-9)
    assert hi[0] == pytest.approx(ref_hi, abs=1e-9)


def test_wilson_published_value() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, example 81/263:
    # Wilson score interval 0.2553 to 0.3662.
    lo, hi = intervals.proportion_ci([81], [263], method="wilson", confidence=0.95)
    assert round(float(lo[0]), 4) == 0.2553
    assert round(float(hi[0]), 4) == 0.3662


def _funnel_like_counts(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts shaped like a funnel's rows: many small denominators, few distinct pairs,
    some zeros, and a few numerators above their denominator (an impossible rate)."""
    rng = np.random.default_rng(seed)
    n = np.floor(rng.lognormal(2.0, 1.2, rows)).astype(float)
    x = rng.binomial(n.astype(np.int64), 0.04).astype(float)
    x[rng.random(rows) < 0.01] += 3.0
    return x, n


@pytest.mark.parametrize("method", list(SM_METHOD))
def test_proportion_ci_of_many_rows_is_each_rows_own_interval(method: str) -> None:
    """From ``_DISTINCT_FROM`` rows the limits are computed once per distinct ``(x, n)``
    pair: each row's limits are, to the last bit, what the same rows give one at a time
    below the threshold, and statsmodels' for a sample of valid rows."""
    x, n = _funnel_like_counts(3 * intervals._DISTINCT_FROM, seed=11)
    lo, hi = intervals.proportion_ci(x, n, method=method, confidence=0.9)
    assert intervals._distinct_pairs(x, n) is not None  # the distinct path ran
    step = intervals._DISTINCT_FROM // 2  # chunks below the threshold: row by row
    by_row = [intervals.proportion_ci(x[i : i + step], n[i : i + step], method, 0.9)
              for i in range(0, len(x), step)]  # fmt: skip
    assert np.array_equal(lo, np.concatenate([b[0] for b in by_row]), equal_nan=True)
    assert np.array_equal(hi, np.concatenate([b[1] for b in by_row]), equal_nan=True)
    valid = np.flatnonzero((n > 0) & (x <= n) & (x > 0) & (x < n))[:50]
    ref_lo, ref_hi = proportion_confint(x[valid], n[valid], alpha=0.1, method=SM_METHOD[method])
    np.testing.assert_allclose(lo[valid], ref_lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi[valid], ref_hi, rtol=0, atol=1e-12)
    assert np.isnan(lo[n == 0]).all()
    assert np.isnan(lo[x > n]).all()


@pytest.mark.parametrize("spoil", ["nan", "fraction", "negative", "huge"])
def test_proportion_ci_rows_that_are_not_whole_counts_are_computed_one_by_one(spoil: str) -> None:
    """A NaN, a fraction, a negative or a count past 2**31 among many rows: no pairs are
    packed (each row is computed as it is), and the other rows' limits do not change."""
    x, n = _funnel_like_counts(2 * intervals._DISTINCT_FROM, seed=5)
    clean_lo, _ = intervals.proportion_ci(x, n)  # the distinct path
    value = {"nan": np.nan, "fraction": 2.5, "negative": -1.0, "huge": 2.0**40}[spoil]
    x2, n = x.copy(), n.copy()
    x2[7], n[7] = value, 2.0**41 if spoil == "huge" else 10.0
    assert intervals._distinct_pairs(x2, n) is None
    lo, _ = intervals.proportion_ci(x2, n)
    keep = np.arange(len(x)) != 7
    assert np.array_equal(lo[keep], clean_lo[keep], equal_nan=True)
    assert np.isnan(lo[7]) == (spoil in ("nan", "negative"))


def test_proportion_ci_of_integer_counts_is_that_of_the_same_floats() -> None:
    """Integer count columns (a funnel's) are paired as they are, without the round trip
    through floats: the same limits to the last bit; a negative count or a uint64 past
    int64 is not paired (computed row by row, NaN for the negative one)."""
    x, n = _funnel_like_counts(2 * intervals._DISTINCT_FROM, seed=23)
    xi, ni = x.astype(np.int64), n.astype(np.int64)
    assert intervals._distinct_pairs(xi, ni) is not None
    for method in SM_METHOD:
        lo_f, hi_f = intervals.proportion_ci(x, n, method=method)
        lo_i, hi_i = intervals.proportion_ci(xi, ni, method=method)
        assert np.array_equal(lo_f, lo_i, equal_nan=True)
        assert np.array_equal(hi_f, hi_i, equal_nan=True)
    xi[3] = -1
    assert intervals._distinct_pairs(xi, ni) is None
    assert np.isnan(intervals.proportion_ci(xi, ni)[0][3])
    xu = x.astype(np.uint64)
    xu[5] = np.uint64(2**63 + 1)  # wraps to a negative int64: refused, not packed
    assert intervals._distinct_pairs(xu, ni.astype(np.uint64)) is None


def _mean_ci_inputs(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aggregates shaped like a funnel's aov / visitor value columns: most rows without a
    spend (0 and 0), some with one, and the edge values of ``n`` and of the sums."""
    rng = np.random.default_rng(seed)
    n = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 17.0, 950.0, np.inf, np.nan, -1.0], rows)
    total = np.zeros(rows)
    spend = rng.random(rows) < 0.1
    total[spend] = rng.gamma(2.0, 80.0, spend.sum())
    total_sq = np.where(spend, total**2 * rng.uniform(0.3, 1.0, rows), 0.0)
    odd = rng.choice(rows, 40, replace=False)  # -0, NaN and one-sided zeros
    total[odd[:10]], total[odd[10:20]] = -0.0, np.nan
    total_sq[odd[20:30]], total[odd[30:]] = np.nan, 0.0
    total_sq[odd[30:]] = 5.0
    return n, total, total_sq


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_mean_ci_rows_without_spend_are_what_the_formula_gives(
    scale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``_SPARSE_FROM`` rows, mostly without a spend, only the rows with one go through
    the formula; every row's mean and limits are, to the bit (sign of zero included), what
    the formula gives on all the rows."""
    n, total, total_sq = _mean_ci_inputs(3 * intervals._SPARSE_FROM, seed=3)
    z = NormalDist().inv_cdf(0.95)
    want = intervals._mean_ci_rows(n, total, total_sq, z, scale)
    sizes: list[int] = []
    formula = intervals._mean_ci_rows

    def spy(*args: Any) -> Any:
        sizes.append(len(args[0]))
        return formula(*args)

    monkeypatch.setattr(intervals, "_mean_ci_rows", spy)
    got = intervals.mean_ci(n, total, total_sq, confidence=0.9, scale=scale)
    rest = sum(1 for a, b, c in zip(n, total, total_sq, strict=True)
               if not (b == 0 and c == 0 and math.copysign(1, b) > 0 and math.isfinite(a)))  # fmt: skip
    assert sizes == [rest]  # the rows with a spend, and the odd ones
    assert rest < len(n) / 2
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w, equal_nan=True)
        assert np.array_equal(np.signbit(g), np.signbit(w))


def test_proportion_ci_zero_denominator_is_nan() -> None:
    lo, hi = intervals.proportion_ci([0, 3], [0, 2])
    assert np.isnan(lo).all()
    assert np.isnan(hi).all()


def _wilson_by_hand(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson (1927), eq. as in Brown, Cai & DasGupta (2001) eq. (4), written out."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def _clopper_pearson_by_inversion(x: int, n: int, alpha: float) -> tuple[float, float]:
    """The exact interval read off its rule: the p where P(X >= x) = α/2 and P(X <= x) = α/2,
    found by bisection on scipy's binomial tail (not on the beta quantile the code uses)."""
    from scipy.stats import binom

    def solve(f: Any) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2

    low = 0.0 if x == 0 else solve(lambda q: binom.sf(x - 1, n, q) - alpha / 2)
    high = 1.0 if x == n else solve(lambda q: alpha / 2 - binom.cdf(x, n, q))
    return low, high


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 500)), min_size=1, max_size=20))
@settings(max_examples=50, deadline=None)
def test_wilson_and_exact_match_their_rules_written_out(pairs: list[tuple[int, int]]) -> None:
    """Independent of statsmodels (which the code wraps): Wilson's formula by hand and the
    Clopper-Pearson limits by inverting the binomial tails."""
    x = np.array([min(a, b) for a, b in pairs])
    n = np.array([b for _, b in pairs])
    z = NormalDist().inv_cdf(0.975)
    lo, hi = intervals.proportion_ci(x, n, method="wilson", confidence=0.95)
    clo, chi = intervals.proportion_ci(x, n, method="clopper-pearson", confidence=0.95)
    for i, (xi, ni) in enumerate(zip(x.tolist(), n.tolist(), strict=True)):
        w = _wilson_by_hand(xi, ni, z)
        assert lo[i] == pytest.approx(w[0], abs=1e-12)
        assert hi[i] == pytest.approx(w[1], abs=1e-12)
        if i < 3:  # the bisection is slow: a few per example
            e = _clopper_pearson_by_inversion(xi, ni, 0.05)
            assert clo[i] == pytest.approx(e[0], abs=1e-9)
            assert chi[i] == pytest.approx(e[1], abs=1e-9)


def test_mean_ci_matches_textbook() -> None:
    # mean CI with the normal quantile: ybar ± 1.959964 * s / sqrt(n), computed directly.
    y = np.array([12.0, 30.0, 7.5, 99.0, 42.0])
    m, lo, hi = intervals.mean_ci(len(y), y.sum(), (y**2).sum(), confidence=0.95)
    se = y.std(ddof=1) / np.sqrt(len(y))
    assert float(m) == pytest.approx(y.mean())
    assert float(lo) == pytest.approx(y.mean() - 1.959963984540054 * se)
    assert float(hi) == pytest.approx(y.mean() + 1.959963984540054 * se)


def test_ratio_interval_delta_method_against_bootstrap() -> None:
    # second implementation: a nonparametric bootstrap of sum(y)/sum(x) over units.
    rng = np.random.default_rng(1)
    x = rng.poisson(20, size=400).astype(float) + 1
    y = x * rng.gamma(4, 2.5, size=400)
    (r,), (lo,), (hi,) = Aggregates.from_units(y=y, x=x).ratio_ci("y", "x", confidence=0.95)
    idx = rng.integers(0, len(x), size=(4000, len(x)))
    boot = y[idx].sum(axis=1) / x[idx].sum(axis=1)
    se_boot = boot.std(ddof=1)
    se_delta = (float(hi) - float(lo)) / (2 * 1.959963984540054)
    assert float(r) == pytest.approx(y.sum() / x.sum())
    assert se_delta == pytest.approx(se_boot, rel=0.1)


def test_beta_binomial_fit_recovers_prior() -> None:
    # simulate from a known Beta(4, 96) prior; the ML fit should land near it, and the
    # fitted log-likelihood must beat the generating parameters' (checked with scipy.special).
    rng = np.random.default_rng(7)
    p = rng.beta(4, 96, size=3000)
    n = rng.integers(50, 400, size=3000)
    x = rng.binomial(n, p)
    a, b = shrinkage.fit_beta_binomial(x, n)
    assert a / (a + b) == pytest.approx(0.04, rel=0.05)
    assert a + b == pytest.approx(100, rel=0.25)

    def ll(a_: float, b_: float) -> float:
        return float((special.betaln(x + a_, n - x + b_) - special.betaln(a_, b_)).sum())

    assert ll(a, b) >= ll(4, 96) - 1e-6


def test_shrink_moves_small_groups_most() -> None:
    x = np.array([0, 50, 1, 100])
    n = np.array([2, 1000, 3, 2000])
    shrunk, a, b = shrinkage.shrink(x, n)
    prior = a / (a + b)
    raw = x / n
    assert abs(shrunk[1] - raw[1]) < abs(shrunk[0] - raw[0])
    assert min(raw[0], prior) <= shrunk[0] <= max(raw[0], prior)


@pytest.mark.parametrize(("ours", "theirs"), [("bh", "fdr_bh"), ("holm", "holm")])
def test_adjust_pvalues_matches_statsmodels(ours: str, theirs: str) -> None:
    p = np.array([0.001, 0.2, 0.03, 0.04, 0.5, 0.0001, 0.049, np.nan])
    adj = multiplicity.adjust_pvalues(p, ours)
    ref = multipletests(p[:-1], method=theirs)[1]
    np.testing.assert_allclose(adj[:-1], ref, rtol=1e-12)
    assert np.isnan(adj[-1])


def _bh_by_rule(p: list[float]) -> list[float]:
    """Benjamini & Hochberg (1995) read literally: q_i = min over j with p_(j) >= p_i of
    m p_(j) / rank(j), capped at 1 (O(m²), no sorting trick)."""
    m = len(p)
    ranks = [sum(q <= v for q in p) for v in p]
    return [min(1.0, *(m * p[j] / ranks[j] for j in range(m) if p[j] >= p[i])) for i in range(m)]


def _holm_by_rule(p: list[float]) -> list[float]:
    """Holm (1979) read literally: the step-down maximum of (m - k + 1) p_(k), capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adj, running = [0.0] * m, 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        adj[i] = min(1.0, running)
    return adj


def test_adjust_pvalues_match_the_rules_written_out() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = rng.uniform(0, 1, size=rng.integers(1, 40)) ** 3
        got_bh = multiplicity.adjust_pvalues(p, "bh")
        got_holm = multiplicity.adjust_pvalues(p, "holm")
        np.testing.assert_allclose(got_bh, _bh_by_rule(p.tolist()), rtol=1e-12)
        np.testing.assert_allclose(got_holm, _holm_by_rule(p.tolist()), rtol=1e-12)
    with pytest.raises(DefinitionError, match="correction"):
        multiplicity.adjust_pvalues([0.1], "bonferroni")


def test_fieller_matches_the_set_it_is_defined_as() -> None:
    """Fieller (1954): the interval is the set of θ with (a - θb)² <= z²(va + θ² vb); read
    off a fine grid of θ (brute force), bounded and unbounded cases."""
    z = NormalDist().inv_cdf(0.975)
    grid = np.linspace(-10, 10, 2_000_001)
    for a, va, b, vb in [(110.0, 25.0, 100.0, 16.0), (3.0, 1.0, 2.0, 0.5), (-1.0, 0.2, 1.5, 0.3)]:
        inside = grid[(a - grid * b) ** 2 <= z * z * (va + grid**2 * vb)]
        r, lo, hi = intervals.fieller_ratio_ci([a], [va], [b], [vb], confidence=0.95)
        assert r[0] == pytest.approx(a / b)
        assert lo[0] == pytest.approx(inside.min(), abs=1e-5)
        assert hi[0] == pytest.approx(inside.max(), abs=1e-5)
    # a denominator not significantly away from 0: the set is unbounded, so are the limits
    _, lo, hi = intervals.fieller_ratio_ci([1.0], [0.1], [0.5], [0.1], confidence=0.95)
    assert (lo[0], hi[0]) == (-np.inf, np.inf)
