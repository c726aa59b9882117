"""Counterfactuals of a daily series: what it would have been without an activity.

Two estimates, numpy in and numbers out (the metric layer, :mod:`shopmetrics.activity`,
builds the daily series):

- :func:`structural_counterfactual`: the series' own history with a local level and a
  weekly season, a structural time-series model (statsmodels' ``UnobservedComponents``)
  fitted on the days before the activity and simulated forward, as in Brodersen et al.
  (2015). The simulated paths give the distribution of any sum over future days (the
  activity, the days after it) with the correlation between days kept.
- :func:`difference_in_differences`: the same series against comparable products outside
  the activity, scaled to the series' level before it (Angrist & Pischke 2009, ch. 5),
  with Newey-West (HAC) standard errors from statsmodels' OLS for the serial correlation
  of daily differences.

References:
    Brodersen, K. H., Gallusser, F., Koehler, J., Remy, N. & Scott, S. L. (2015).
    Inferring causal impact using Bayesian structural time-series models. Annals of
    Applied Statistics 9(1), 247-274.
    Harvey, A. C. (1989). Forecasting, Structural Time Series Models and the Kalman
    Filter. Cambridge University Press.
    Angrist, J. D. & Pischke, J.-S. (2009). Mostly Harmless Econometrics. Princeton.
    Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite,
    heteroskedasticity and autocorrelation consistent covariance matrix. Econometrica
    55(3), 703-708.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DiDEstimate",
    "StructuralFit",
    "difference_in_differences",
    "structural_counterfactual",
]

FloatArray = npt.NDArray[np.float64]

SEASON_DAYS = 7
"""The season of the structural model: one week."""

MIN_SEASONAL_DAYS = 21
"""Fewer pre-activity days than this (three weeks) fit a local level without the weekly
season: seven seasonal states are not identified from one or two weeks."""


@dataclasses.dataclass(frozen=True)
class StructuralFit:
    """A structural model fitted before an activity and simulated over the days after.

    Attributes:
        paths: Simulated counterfactual paths, ``(horizon, draws)``.
        seasonal: Whether the weekly season was part of the model.
        holdout_coverage: Whether the last week before the activity, forecast from the
            days before it, fell inside its own 95% interval (``None`` when the history
            is too short to hold a week out): the check of the pre-period fit.
        holdout_error: That week's actual total less its forecast, relative to the
            forecast (``nan`` without a holdout).
        converged: Whether the likelihood optimiser converged.
    """

    paths: FloatArray
    seasonal: bool
    holdout_coverage: bool | None
    holdout_error: float
    converged: bool

    def total(self, rows: slice) -> FloatArray:
        """The simulated totals over the rows (days) ``rows`` of the horizon."""
        out: FloatArray = self.paths[rows].sum(axis=0)
        return out


def _fit(y: FloatArray, seasonal: bool) -> Any:
    from statsmodels.tsa.statespace.structural import (  # noqa: PLC0415
        UnobservedComponents,
    )

    model = UnobservedComponents(y, level="local level", seasonal=SEASON_DAYS if seasonal else None)
    with warnings.catch_warnings():
        # short series: the optimiser's convergence is reported, not warned about
        warnings.simplefilter("ignore")
        return model.fit(disp=False, maxiter=200)


def _simulate(res: Any, horizon: int, draws: int, rng: np.random.Generator) -> FloatArray:
    """Paths over ``horizon`` days with the variances' estimation uncertainty: parameter
    sets drawn from the asymptotic normal of the unconstrained (log-variance) parameters,
    each filtered and simulated from its end state (with its covariance)."""
    from statsmodels.tools.numdiff import approx_hess3  # noqa: PLC0415

    model = res.model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = np.asarray(model.untransform_params(res.params), dtype=np.float64)
        hess = approx_hess3(u, lambda p: -model.loglike(model.transform_params(p)))
        cov = _psd_inverse(hess)
        sets = max(1, draws // PATHS_PER_SET)
        per = -(-draws // sets)
        out = []
        for p in rng.multivariate_normal(u, cov, size=sets, method="eigh"):
            fit = model.filter(model.transform_params(p))
            sims = fit.simulate(horizon, repetitions=per, anchor="end", rng=rng)
            out.append(np.asarray(sims, dtype=np.float64).reshape(horizon, per))
    return np.concatenate(out, axis=1)[:, :draws]


PATHS_PER_SET = 10
"""Simulated paths per drawn parameter set."""


def _psd_inverse(hess: FloatArray) -> FloatArray:
    """The inverse of a Hessian as a covariance, negative or tiny curvature set to 0
    (a variance at its boundary keeps its estimate)."""
    h = (hess + hess.T) / 2
    w, v = np.linalg.eigh(h)
    ok = w > 1e-8 * max(float(np.abs(w).max()), 1e-300)
    inv_w = np.where(ok, 1.0 / np.where(ok, w, 1.0), 0.0)
    out: FloatArray = (v * inv_w) @ v.T
    return out


def structural_counterfactual(
    pre: FloatArray, horizon: int, *, draws: int = 2000, seed: int = 0, check: bool = True
) -> StructuralFit:
    """Fit a local level (+ weekly season) on ``pre`` and simulate ``horizon`` days on.

    The model is ``y_t = mu_t + gamma_t + e_t``, ``mu_t = mu_{t-1} + eta_t`` with a
    seven-day dummy season ``gamma_t`` (Harvey 1989), Gaussian errors, variances by
    maximum likelihood. Days missing from ``pre`` (``nan``: another activity, a tracking
    gap) are skipped by the Kalman filter. The simulation starts from the filtered state
    at the end of ``pre`` with its covariance (statsmodels' ``simulate(anchor="end")``),
    so the state's uncertainty is in the paths, and the variances are drawn from the
    asymptotic normal of their log-scale maximum-likelihood estimates (statsmodels'
    ``approx_hess3`` Hessian), an approximation of Brodersen et al.'s posterior: without it,
    a few weeks of history understate the forecast's spread. The coverage of the resulting
    intervals is tested in ``tests/coverage/test_activity_coverage.py``.

    Args:
        pre: The daily series before the activity (oldest first).
        horizon: Days to simulate after ``pre``.
        draws: Simulated paths.
        seed: Seed of the simulation (the same seed gives the same paths).
        check: Refit without the last week and forecast it (:attr:`StructuralFit.holdout_coverage`);
            a second fit, so simulations that only need the paths turn it off.

    Returns:
        The :class:`StructuralFit`.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> y = 100 + rng.normal(0, 5, 42)
        >>> fit = structural_counterfactual(y, 7, draws=500)
        >>> fit.paths.shape, fit.seasonal
        ((7, 500), True)
        >>> bool(abs(fit.total(slice(0, 7)).mean() - 700) < 40)
        True
    """
    y = np.asarray(pre, dtype=np.float64)
    seasonal = int(np.isfinite(y).sum()) >= MIN_SEASONAL_DAYS
    rng = np.random.default_rng(seed)
    res = _fit(y, seasonal)
    paths = _simulate(res, horizon, draws, rng)
    coverage, error = None, math.nan
    if check and y.size >= MIN_SEASONAL_DAYS + SEASON_DAYS:
        head, week = y[:-SEASON_DAYS], y[-SEASON_DAYS:]
        hold = _simulate(_fit(head, seasonal), SEASON_DAYS, draws, rng)
        keep = np.isfinite(week)
        totals = hold[keep].sum(axis=0)
        lo, hi = np.quantile(totals, [0.025, 0.975])
        actual = float(week[keep].sum())
        coverage = bool(lo <= actual <= hi)
        mean = float(totals.mean())
        error = (actual - mean) / abs(mean) if mean else math.nan
    converged = bool(res.mle_retvals.get("converged", True)) if res.mle_retvals else True
    return StructuralFit(paths, seasonal, coverage, error, converged)


@dataclasses.dataclass(frozen=True)
class DiDEstimate:
    """A difference-in-differences total over the activity days.

    Attributes:
        estimate: Treated less scaled control, summed over the activity's days, less the
            same per-day difference before it.
        se: Its standard error (Newey-West).
        scale: Treated / control before the activity (the control's scale factor).
    """

    estimate: float
    se: float
    scale: float

    def interval(self, confidence: float) -> tuple[float, float]:
        """The normal interval of :attr:`estimate`."""
        from scipy.stats import norm  # noqa: PLC0415

        z = float(norm.ppf(0.5 + confidence / 2))
        return self.estimate - z * self.se, self.estimate + z * self.se


def difference_in_differences(
    treated: FloatArray,
    control: FloatArray,
    during: npt.NDArray[np.bool_],
    before: npt.NDArray[np.bool_],
) -> DiDEstimate:
    """Difference in differences of daily totals, the control scaled to the treated level.

    ``d_t = treated_t - k * control_t`` with ``k = sum(treated) / sum(control)`` over
    the days ``before``, so ``d`` averages 0 before the activity; the effect is the mean
    of ``d`` during the activity less before it (the coefficient of a during-indicator in
    an OLS of ``d`` on a constant and the indicator), times the activity's days. Its
    standard error is Newey-West with a week of lags (serially correlated days); ``k``
    is treated as known. Assumes the two groups would have moved in proportion (parallel
    trends on the scaled level).

    Examples:
        >>> t = np.array([10.0, 12, 11, 13, 30, 31])
        >>> c = np.array([20.0, 24, 22, 26, 28, 30])
        >>> before = np.array([1, 1, 1, 1, 0, 0], bool)
        >>> est = difference_in_differences(t, c, ~before, before)
        >>> round(est.scale, 3), round(est.estimate, 2)
        (0.5, 32.0)
    """
    import statsmodels.api as sm_api  # noqa: PLC0415

    t = np.asarray(treated, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    use = (before | during) & np.isfinite(t) & np.isfinite(c)
    base_c = float(c[before & use].sum())
    if base_c <= 0 or not during[use].any() or int((before & use).sum()) < 2:
        return DiDEstimate(math.nan, math.nan, math.nan)
    k = float(t[before & use].sum()) / base_c
    d = (t - k * c)[use]
    x = sm_api.add_constant(during[use].astype(np.float64), has_constant="add")
    fit = sm_api.OLS(d, x).fit(cov_type="HAC", cov_kwds={"maxlags": SEASON_DAYS - 1})
    n_during = int(during[use].sum())
    return DiDEstimate(float(fit.params[1]) * n_during, float(fit.bse[1]) * n_during, k)
