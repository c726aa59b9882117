"""The seasonal-trend decomposition and robust band behind anomaly detection.

A daily series is decomposed by STL (seasonal-trend decomposition by LOESS, ``statsmodels``)
into trend + seasonal + remainder; far-off days are kept out of the final fit; each day is
judged against the leave-one-out prediction of the other days, with a robust (MAD-started,
clipped) scale of the standardised remainders. :func:`fit` does steps 1-3 of
:func:`shopmetrics.anomaly.anomalies` (whose docstring gives the method) and returns a
:class:`Band`; numpy arrays in, the band out.

References:
    Cleveland, R. B., Cleveland, W. S., McRae, J. E. & Terpenning, I. (1990), "STL: A
    Seasonal-Trend Decomposition Procedure Based on Loess", Journal of Official Statistics
    6(1), 3-73; Hastie, T. & Tibshirani, R. (1990), *Generalized Additive Models*, section
    3.4 (leave-one-out residuals and variances of linear smoothers); Hampel, F. R. (1974),
    "The influence curve and its role in robust estimation", JASA 69 (the MAD).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

__all__ = ["CLIP", "MAD_TO_SD", "Band", "fit"]

MAD_TO_SD = 1.4826
"""``1 / Φ⁻¹(3/4)``: makes the median absolute deviation a consistent estimate of σ."""

CLIP = 3.0
"""Remainders beyond ``CLIP`` scales are left out of the scale estimate."""

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclasses.dataclass(frozen=True)
class Band:
    """The fit of a daily series: a day outside ``expected ± half_width`` is an anomaly.

    Attributes:
        trend: STL's trend (of the fit with far-off and missing days kept out).
        seasonal: STL's seasonal component, likewise.
        expected: The leave-one-out expected value of each day.
        half_width: ``z σ̂ c_i / (1 - h_i)``, half the band's width.
        score: ``(value - expected)`` in units of its standard deviation (NaN on missing days).
        scale: The robust scale ``σ̂`` of the standardised remainder.
        masked: The days kept out of the fit (missing and far-off days).
    """

    trend: _FloatArray
    seasonal: _FloatArray
    expected: _FloatArray
    half_width: _FloatArray
    score: _FloatArray
    scale: float
    masked: _BoolArray

    @classmethod
    def unfitted(cls, missing: _BoolArray) -> Band:
        """No fit (too few days): NaN everywhere, only the missing days masked."""
        n = len(missing)
        nan = np.full(n, np.nan)
        return cls(nan, nan, nan, nan, nan, math.nan, missing.copy())


def _stl(
    y: _FloatArray, period: int, seasonal: int, robust: bool
) -> tuple[_FloatArray, _FloatArray]:
    """STL's trend and seasonal components of ``y``."""
    from statsmodels.tsa.seasonal import STL  # noqa: PLC0415 - heavy; on first use

    res = STL(y, period=period, seasonal=seasonal, robust=robust).fit()
    return np.asarray(res.trend, dtype=np.float64), np.asarray(res.seasonal, dtype=np.float64)


@functools.lru_cache(maxsize=8)
def _hat(n: int, period: int, seasonal: int) -> _FloatArray:
    """The smoother matrix ``H`` of plain STL (``trend + seasonal = H y``), column by column."""
    h = np.empty((n, n))
    unit = np.zeros(n)
    for j in range(n):
        unit[j] = 1.0
        t, s = _stl(unit, period, seasonal, robust=False)
        h[:, j] = t + s
        unit[j] = 0.0
    h.setflags(write=False)
    return h


def _mad_sd(x: _FloatArray) -> float:
    """``1.4826 × MAD`` (the mean deviation when more than half the values are identical)."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan
    dev = np.abs(x - np.median(x))
    sd = MAD_TO_SD * float(np.median(dev))
    if sd == 0:
        sd = 1.2533 * float(np.mean(dev))
    return sd


def _robust_sd(x: _FloatArray, k: float = CLIP) -> float:
    """A clipped standard deviation: start at 1.4826 × MAD, keep values within ``k`` of it.

    Iterates ``s ← sqrt(mean(d² | |d| ≤ k s) / τ(k))`` with ``d`` the deviations from the
    median and ``τ(k) = 1 - 2k φ(k) / (2Φ(k) - 1)`` the variance of a standard normal
    truncated at ``±k`` (consistent for normal data). As robust to a few wild values as
    the MAD, and far less variable on the short, correlated remainders of a daily series.
    """
    x = x[np.isfinite(x)]
    s = _mad_sd(x)
    if not s > 0:
        return s
    from scipy import stats  # noqa: PLC0415

    tau = 1 - 2 * k * float(stats.norm.pdf(k)) / (2 * float(stats.norm.cdf(k)) - 1)
    dev = x - np.median(x)
    for _ in range(50):
        keep = np.abs(dev) <= k * s
        s_new = math.sqrt(float(np.mean(dev[keep] ** 2)) / tau)
        if abs(s_new - s) <= 1e-12 * s:
            break
        s = s_new
    return s


def fit(
    y: _FloatArray,
    missing: _BoolArray,
    *,
    period: int,
    seasonal: int,
    robust: bool,
    z: float,
) -> Band:
    """Steps 1-3 of :func:`shopmetrics.anomaly.anomalies`: the band of the daily series ``y``.

    Args:
        y: The daily values (anything on ``missing`` days is ignored).
        missing: The days without a value.
        period: Length of the seasonal cycle in days.
        seasonal: STL's seasonal smoother length in cycles (odd, >= 3).
        robust: Keep far-off days out of the fit (step 2).
        z: Half-width of the band in robust standard deviations.

    Returns:
        The :class:`Band`: trend, seasonal, expected value, half-width, score, scale and the
        days kept out of the fit.
    """
    n = len(y)
    idx = np.arange(n)
    filled = np.interp(idx, idx[~missing], y[~missing])
    masked = missing.copy()
    if robust:
        diffs = y[period:] - y[:-period]
        s0 = _mad_sd(diffs) / math.sqrt(2)
        t0, s_0 = _stl(filled, period, seasonal, robust=True)
        if s0 > 0:
            masked |= ~missing & (np.abs(y - (t0 + s_0)) > 2 * z * s0)
    hmat = _hat(n, period, seasonal)
    ytil = np.where(masked, 0.0, filled)
    if masked.any():
        # values on masked days that the fit reproduces exactly: (I - H_MM) y_M = H_MU y_U
        m, u = np.flatnonzero(masked), np.flatnonzero(~masked)
        lhs = np.eye(len(m)) - hmat[np.ix_(m, m)]
        rhs = hmat[np.ix_(m, u)] @ filled[u]
        ytil[m] = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    trend, seas = _stl(ytil, period, seasonal, robust=False)
    fitted = trend + seas
    h = np.clip(np.diag(hmat), 0.0, 1 - 1e-9)
    resid_mat = np.eye(n) - hmat
    c = np.sqrt((resid_mat * resid_mat).sum(axis=1))
    c = np.where(c > 0, c, 1.0)
    raw = y - fitted
    # kept days: in-sample remainder / c; masked days: already a prediction error,
    # whose standard deviation is c / (1 - h)
    score_unit = np.where(masked, raw * (1 - h) / c, raw / c)
    scale = _robust_sd(score_unit[~masked])
    if not scale > 0:
        scale = 1e-9 * max(1.0, float(np.nanmax(np.abs(y))))
    expected = np.where(masked, fitted, (fitted - h * np.where(missing, 0.0, y)) / (1 - h))
    half = z * scale * c / (1 - h)
    score = np.where(missing, np.nan, score_unit / scale)
    return Band(trend, seas, expected, half, score, scale, masked)
