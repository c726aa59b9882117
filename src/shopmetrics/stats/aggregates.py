"""One mergeable aggregate type for means, variances and ratio metrics."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.stats import intervals
from shopmetrics.stats.common import Array, check_alternative, floats, p_from_z, z_crit
from shopmetrics.stats.twosample import Comparison


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


def ratio_var(agg: RatioAggregates) -> tuple[Array, Array]:
    """Ratio of sums ``R = Σy / Σx`` and its delta-method variance, from mergeable aggregates.

    ``Var(R) ≈ (s_y² - 2 R s_xy + R² s_x²) / (n x̄²)`` with sample (co)variances
    (``n - 1`` denominators). NaN where ``n < 2`` or ``Σx = 0``.

    References:
        Deng, A., Knoblich, U. & Lu, J. (2018), "Applying the Delta Method in Metric
        Analytics: A Practical Guide with Novel Ideas", KDD; the same formula as
        :func:`shopmetrics._stats.ratio_ci` and tea-tasting ``aggr.py::ratio_var``.
    """
    return intervals.ratio_var(
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
    p = p_from_z(z, alternative)
    p = np.where(np.isnan(z), np.nan, p)
    crit = z_crit(confidence)
    test = np.where(np.isfinite(p), "delta-z", "").astype(np.str_)
    return Comparison(d, d - crit * se, d + crit * se, floats(p), test)
