"""Buy till you die: BG/NBD, Pareto/NBD and Gamma-Gamma, numpy arrays in, estimates out.

Each buyer's history is ``(x, t_x, T)``: repeat purchases, the time of the last one after
the first (recency) and the time from the first purchase to the end of calibration; the
spend model also takes ``m``, the mean spend of the ``x`` repeat purchases. This module
holds the models' per-buyer log-likelihoods, the conditional expectations (purchases in
the next ``t`` time units, P(alive), mean spend per purchase), the discounted sum behind
CLV, and the maximum-likelihood machinery (:class:`ModelFit`). It knows nothing of order
tables or engines: :mod:`shopmetrics.engine.buyers` builds the histories and
:mod:`shopmetrics.clv` turns the estimates into a result.

The models (BG/NBD, Pareto/NBD, Gamma-Gamma) and their assumptions are described in
:mod:`shopmetrics.clv`, the public module.

Fitting maximises the log-likelihood over the log-parameters (L-BFGS-B, then a
Nelder-Mead polish); standard errors come from statsmodels' numerical Hessian, reported
only where it is clearly positive definite (:data:`HESSIAN_RTOL`).

References:
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the
    easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value
    curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2008). Computing P(alive) using the
    BG/NBD model. http://brucehardie.com/notes/021/

    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/

    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
    related expressions. http://brucehardie.com/notes/009/

    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers:
    who are they and what will they do next? Management Science 33(1), 1-24.

    Abramowitz, M., & Stegun, I. A. (1964). Handbook of Mathematical Functions, 15.3.3
    (Euler's transformation of the hypergeometric function).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from shopmetrics.display import plain

Array = npt.NDArray[np.float64]
Params = Sequence[float] | Array

MODELS: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "gamma_gamma": ("p", "q", "v"),
}
"""Each model and the names of its parameters."""

DAYS_PER_YEAR = 365.25

_BIG = 1e300

HESSIAN_RTOL = 1e-6
"""Standard errors need the Hessian's smallest eigenvalue above this share of its largest.

The Hessian of the negative log-likelihood in the log-parameters; finite differences
carry a relative error near ``1e-8`` there, so a ratio below ``1e-6`` cannot be told from
a singular matrix and the standard errors are reported unavailable.
"""


# ---------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, slots=True)
class ModelFit:
    """One fitted model.

    Attributes:
        model: ``"bgnbd"``, ``"pareto_nbd"`` or ``"gamma_gamma"``.
        params: Maximum-likelihood estimates by parameter name (NaN when not fitted).
        standard_errors: Standard errors from the inverse of the numerical Hessian of the
            log-likelihood (NaN when the Hessian is not positive definite).
        log_likelihood: The maximised log-likelihood, all constant terms included.
        n: Buyers the model was fitted on.
        converged: Whether the optimiser reported convergence.
        message: The optimiser's message, or why the model was not fitted.
    """

    model: str
    params: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    n: int
    converged: bool
    message: str = ""

    @property
    def fitted(self) -> bool:
        """Whether every parameter is a finite number."""
        return all(math.isfinite(v) for v in self.params.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


# ---------------------------------------------------------------- log-likelihoods


def bgnbd_loglik(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    """Per-buyer BG/NBD log-likelihood.

    ``L = B(a, b+x)/B(a, b) * G(r+x) a^r / (G(r) (a+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``,
    summed in log space (log-sum-exp).

    Args:
        params: ``(r, alpha, a, b)``.
        x: Repeat purchases.
        tx: Recency (time of the last purchase after the first).
        big_t: Time from the first purchase to the end of calibration.

    Returns:
        One log-likelihood per buyer.

    References:
        Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (6).
    """
    from scipy import special  # noqa: PLC0415

    r, alpha, a, b = (float(p) for p in params)
    x = np.asarray(x, dtype=float)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    term1 = special.betaln(a, b + x) - (r + x) * np.log(alpha + big_t)
    pos = x > 0
    term2 = np.full_like(term1, -np.inf)
    term2[pos] = special.betaln(a + 1, b + x[pos] - 1) - (r + x[pos]) * np.log(alpha + tx[pos])
    return np.asarray(common + np.logaddexp(term1, term2), dtype=float)


def _log_2f1_c_a1(a1: Array, b1: Array, z: Array) -> Array:
    """log 2F1(a1, b1; a1 + 1; z) for 0 <= z < 1, via Euler's transformation.

    ``2F1(a, b; a+1; z) = (1 - z)^(1-b) 2F1(1, a+1-b; a+1; z)``; the second series has
    terms bounded by ``z^n``, so it neither overflows nor loses precision for large
    ``a`` or ``b`` (Abramowitz & Stegun 15.3.3).
    """
    from scipy import special  # noqa: PLC0415

    return np.asarray(
        (1 - b1) * np.log1p(-z) + np.log(special.hyp2f1(1.0, a1 + 1 - b1, a1 + 1, z)), dtype=float
    )


def _pnbd_log_a0(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    r, alpha, s, beta = (float(p) for p in params)
    rsx = r + s + x
    if alpha >= beta:
        top, b1 = alpha, s + 1 + 0 * x
    else:
        top, b1 = beta, r + x
    diff = abs(alpha - beta)

    def log_f(u: Array) -> Array:
        return _log_2f1_c_a1(rsx, b1, diff / (top + u)) - rsx * np.log(top + u)

    f_tx, f_t = log_f(tx), log_f(big_t)
    with np.errstate(divide="ignore"):
        return np.asarray(f_tx + np.log(-np.expm1(np.minimum(f_t - f_tx, 0.0))), dtype=float)


def pnbd_loglik(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    """Per-buyer Pareto/NBD log-likelihood.

    ``L = G(r+x) alpha^r beta^s / G(r) * [1 / ((alpha+T)^(r+x) (beta+T)^s)
    + s / (r+s+x) * A0]`` with ``A0`` the difference of two Gauss hypergeometric terms
    (Fader & Hardie 2005 note, section 3), evaluated in log space.

    Args:
        params: ``(r, alpha, s, beta)``.
        x: Repeat purchases.
        tx: Recency.
        big_t: Time from the first purchase to the end of calibration.

    Returns:
        One log-likelihood per buyer.

    References:
        Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model
        and related expressions, section 3 (the likelihood function).
    """
    from scipy import special  # noqa: PLC0415

    r, alpha, s, beta = (float(p) for p in params)
    x = np.asarray(x, dtype=float)
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    dead = np.log(s) - np.log(r + s + x) + _pnbd_log_a0(params, x, tx, big_t)
    return np.asarray(head + np.logaddexp(alive, dead), dtype=float)


def gamma_gamma_loglik(params: Params, x: Array, m: Array) -> Array:
    """Per-buyer Gamma-Gamma log-likelihood of mean spend ``m`` over ``x`` purchases.

    ``f(m | p, q, v; x) = G(px+q) / (G(px) G(q)) * v^q m^(px-1) x^(px) / (v + x m)^(px+q)``.

    Args:
        params: ``(p, q, v)``.
        x: Number of purchases averaged (> 0).
        m: Mean spend per purchase (> 0).

    Returns:
        One log-likelihood per buyer.

    References:
        Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (the
        distribution of the mean spend ``z-bar`` given ``x``).
    """
    from scipy import special  # noqa: PLC0415

    p, q, v = (float(t) for t in params)
    px = p * np.asarray(x, dtype=float)
    return np.asarray(
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m),
        dtype=float,
    )


# ---------------------------------------------------------------- conditional expectations


def bgnbd_expected(params: Params, t: float | Array, x: Array, tx: Array, big_t: Array) -> Array:
    """BG/NBD expected purchases in ``(T, T + t]`` given ``(x, t_x, T)``.

    ``E[Y(t)] = (a+b+x-1)/(a-1) * [1 - G] / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
    with ``G = (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` and ``z = t/(alpha+T+t)``. ``G`` is
    evaluated in the form whose hypergeometric series stays bounded as ``z -> 1`` (long
    horizons): as written when ``a - 1 - r - x > 0``, else after Euler's transformation
    ``G = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` (Abramowitz & Stegun 15.3.3).

    References:
        Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (10).
    """
    from scipy import special  # noqa: PLC0415

    r, alpha, a, b = (float(p) for p in params)
    if abs(a - 1) < 1e-7:  # removable singularity at a = 1: step off it
        a = 1 + math.copysign(1e-7, a - 1)
    x = np.asarray(x, dtype=float)
    c = a + b + x - 1
    z = t / (alpha + big_t + t)
    with np.errstate(all="ignore"):
        odds = _bgnbd_log_odds_dead((r, alpha, a, b), x, tx, big_t)
    x, c, z = np.broadcast_arrays(x, c, z)
    g = np.full(z.shape, math.nan)
    with np.errstate(all="ignore"):
        log1mz = np.log1p(-z)

        def plain(i: Any) -> Array:
            h = special.hyp2f1(r + x[i], b + x[i], c[i], z[i])
            return np.asarray(np.exp((r + x[i]) * log1mz[i]) * h, dtype=float)

        def euler(i: Any) -> Array:
            h = special.hyp2f1(a + b - 1 - r, a - 1, c[i], z[i])
            return np.asarray(np.exp((a - 1) * log1mz[i]) * h, dtype=float)

        prefer_plain = (a - 1 - r - x) > 0
        g[prefer_plain] = plain(prefer_plain)
        g[~prefer_plain] = euler(~prefer_plain)
        bad = ~np.isfinite(g)
        if bad.any():  # the other form where the preferred one failed
            g[bad & prefer_plain] = euler(bad & prefer_plain)
            g[bad & ~prefer_plain] = plain(bad & ~prefer_plain)
        numer = (c / (a - 1)) * (1 - g)
        return np.asarray(numer / (1 + np.exp(odds)), dtype=float)


def _bgnbd_log_odds_dead(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    """log of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for x > 0; -inf for x = 0."""
    r, alpha, a, b = (float(p) for p in params)
    pos = x > 0
    out = np.full(np.shape(x), -np.inf)
    out[pos] = (
        np.log(a)
        - np.log(b + x[pos] - 1)
        + (r + x[pos]) * (np.log(alpha + big_t[pos]) - np.log(alpha + tx[pos]))
    )
    return out


def bgnbd_p_alive(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    """BG/NBD probability that a buyer with history ``(x, t_x, T)`` is still active.

    ``P(alive) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``; 1 when ``x = 0``.

    References:
        Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model",
        http://brucehardie.com/notes/021/.
    """
    from scipy import special  # noqa: PLC0415

    with np.errstate(all="ignore"):
        odds = _bgnbd_log_odds_dead(params, np.asarray(x, float), tx, big_t)
        return np.asarray(special.expit(-odds), dtype=float)


def pnbd_p_alive(params: Params, x: Array, tx: Array, big_t: Array) -> Array:
    """Pareto/NBD probability of being alive.

    ``P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)``.

    References:
        Fader & Hardie (2005), "A note on deriving the Pareto/NBD model", section 5.
    """
    from scipy import special  # noqa: PLC0415

    r, alpha, s, beta = (float(p) for p in params)
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + big_t)
            + s * np.log(beta + big_t)
            + _pnbd_log_a0(params, x, tx, big_t)
        )
        return np.asarray(special.expit(-log_odds), dtype=float)


def pnbd_expected(params: Params, t: float | Array, x: Array, tx: Array, big_t: Array) -> Array:
    """Pareto/NBD expected purchases in ``(T, T + t]`` given ``(x, t_x, T)``.

    ``E[Y(t)] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``
    (the limit ``(r+x)(beta+T)/(alpha+T) log((beta+T+t)/(beta+T))`` at ``s = 1``).

    References:
        Fader & Hardie (2005), "A note on deriving the Pareto/NBD model", section 6;
        Schmittlein, Morrison & Colombo (1987).
    """
    r, alpha, s, beta = (float(p) for p in params)
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        log_ratio = np.log1p(t / (beta + big_t))  # log((beta+T+t)/(beta+T))
        # [1 - ((beta+T)/(beta+T+t))^(s-1)] / (s-1), and its limit at s = 1
        growth = log_ratio if abs(s - 1) < 1e-10 else -np.expm1(-(s - 1) * log_ratio) / (s - 1)
        rate = (r + x) * (beta + big_t) / (alpha + big_t)
        return np.asarray(pnbd_p_alive(params, x, tx, big_t) * rate * growth, dtype=float)


def gamma_gamma_mean(params: Params, x: Array, m: Array) -> Array:
    """Gamma-Gamma expected spend per purchase given ``x`` repeat purchases of mean ``m``.

    ``E(M | x, m) = (q-1)/(px+q-1) * v p/(q-1) + px/(px+q-1) * m = p (v + x m) / (px + q - 1)``:
    a weighted mean of the population mean ``v p / (q-1)`` and the buyer's own mean.
    NaN when ``q <= 1`` and ``x = 0`` (the population mean is infinite).

    References:
        Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (the
        conditional expectation of spend); Fader, Hardie & Lee (2005), "RFM and CLV".
    """
    p, q, v = (float(t) for t in params)
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    with np.errstate(all="ignore"):
        denom = p * x + q - 1
        out = p * (v + x * m) / denom
    return np.asarray(np.where(denom > 0, out, math.nan), dtype=float)


# ---------------------------------------------------------------- predictions from a fit


def _param_tuple(fit: ModelFit) -> tuple[float, ...]:
    """The fit's estimates in the order of :data:`MODELS`."""
    return tuple(fit.params[k] for k in MODELS[fit.model])


def _unique_histories(
    x: Array, tx: Array, big_t: Array
) -> tuple[Array, Array, Array, npt.NDArray[np.intp]]:
    """Distinct ``(x, t_x, T)`` rows and the index mapping buyers back to them.

    With whole-day times many buyers share a history, so predictions are computed once
    per distinct history.
    """
    keys = np.column_stack([x, tx, big_t])
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    return uniq[:, 0], uniq[:, 1], uniq[:, 2], inverse.reshape(-1)


def p_alive(fit: ModelFit, x: Array, tx: Array, big_t: Array) -> Array:
    """P(alive) per buyer at the end of calibration under a fitted transaction model.

    :func:`bgnbd_p_alive` or :func:`pnbd_p_alive` at the estimates; NaN when the model
    is not fitted.
    """
    if not fit.fitted or len(x) == 0:
        return np.full(len(x), math.nan)
    fn = bgnbd_p_alive if fit.model == "bgnbd" else pnbd_p_alive
    ux, utx, ut, inverse = _unique_histories(x, tx, big_t)
    return np.asarray(fn(_param_tuple(fit), ux, utx, ut)[inverse], dtype=float)


def expected_purchases(fit: ModelFit, t: float | Array, x: Array, tx: Array, big_t: Array) -> Array:
    """Expected purchases in ``(T, T + t]`` per buyer; ``t`` a scalar or a column of times.

    :func:`bgnbd_expected` or :func:`pnbd_expected` at the estimates: one value per buyer
    for a scalar ``t``, one row per time for an array; NaN when the model is not fitted.
    """
    t_col = np.reshape(np.asarray(t, dtype=float), (-1, 1))
    if not fit.fitted or len(x) == 0:
        out = np.full((t_col.shape[0], len(x)), math.nan)
    else:
        fn = bgnbd_expected if fit.model == "bgnbd" else pnbd_expected
        ux, utx, ut, inverse = _unique_histories(x, tx, big_t)
        out = fn(_param_tuple(fit), t_col, ux[None, :], utx[None, :], ut[None, :])[:, inverse]
    return np.asarray(out[0] if np.ndim(t) == 0 else out, dtype=float)


def expected_spend(fit: ModelFit, x: Array, m: Array) -> Array:
    """Gamma-Gamma expected spend per purchase (:func:`gamma_gamma_mean` at the estimates)."""
    if not fit.fitted:
        return np.full(len(x), math.nan)
    return gamma_gamma_mean(_param_tuple(fit), x, m)


def discounted_purchases(
    fit: ModelFit,
    history: tuple[Array, Array, Array],
    *,
    horizon: float,
    discount_rate: float,
    unit_days: float,
) -> tuple[Array, Array]:
    """Expected purchases over the horizon, and their discounted sum (per unit of spend)."""
    x, tx, big_t = history
    steps = np.arange(1, math.ceil(horizon) + 1, dtype=float)
    ends = np.minimum(steps, horizon)
    if len(ends) == 0:
        zero = np.zeros(len(x))
        return zero, zero.copy()
    grid = np.concatenate([[0.0], ends])
    cum = expected_purchases(fit, grid, x, tx, big_t)
    cum[0] = 0.0
    per_period = np.diff(cum, axis=0)
    factor = (1 + discount_rate) ** (-(ends * unit_days / DAYS_PER_YEAR))
    return cum[-1], factor @ per_period


# ---------------------------------------------------------------- fitting


def unfitted(model: str, n: int, why: str) -> ModelFit:
    """A :class:`ModelFit` of NaN estimates, for a model that could not be fitted (``why``)."""
    nan = dict.fromkeys(MODELS[model], math.nan)
    return ModelFit(model, nan, dict(nan), math.nan, n, converged=False, message=why)


def _covariance(nll: Callable[[Array], float], z: Array) -> Array | None:
    """Inverse Hessian of ``nll`` at ``z``, or None where it is not clearly invertible.

    The Hessian is statsmodels' ``approx_hess3`` (second-order central differences with
    step ``eps**(1/4) * max(|z|, 0.1)``), symmetrised. Standard errors are reported only
    when its smallest eigenvalue exceeds :data:`HESSIAN_RTOL` times its largest: below
    that the likelihood is flat in some direction, and whether a finite-difference
    Hessian there comes out positive definite depends on rounding (CPU, BLAS kernel),
    not on the data. The fixed relative tolerance makes the decision the same on every
    machine unless the data sit within rounding of it.
    """
    from statsmodels.tools.numdiff import approx_hess3  # noqa: PLC0415

    hess = np.asarray(approx_hess3(z, nll), dtype=float)
    if not np.all(np.isfinite(hess)):
        return None
    hess = (hess + hess.T) / 2.0
    eig = np.linalg.eigvalsh(hess)
    if not eig[-1] > 0 or eig[0] <= HESSIAN_RTOL * eig[-1]:
        return None
    return np.asarray(np.linalg.inv(hess), dtype=float)


def _maximize(
    model: str, loglik: Callable[[Array], float], start: Sequence[float], n: int
) -> ModelFit:
    """Maximum likelihood on log-parameters: L-BFGS-B, then a Nelder-Mead polish.

    Standard errors come from the inverse Hessian of the log-likelihood in the
    log-parameters, mapped back by the delta method (``se(theta) = theta * se(log theta)``).
    """
    from scipy import optimize  # noqa: PLC0415

    names = MODELS[model]

    def nll(z: Array) -> float:
        with np.errstate(all="ignore"):
            value = -float(loglik(np.exp(z)))
        return value if math.isfinite(value) else _BIG

    z0 = np.log(np.asarray(start, dtype=float))
    bounds = [(-30.0, 30.0)] * len(z0)
    first = optimize.minimize(nll, z0, method="L-BFGS-B", bounds=bounds)
    polish = optimize.minimize(
        nll,
        first.x,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxfev": 500 * len(z0)},
    )
    best = polish if polish.fun <= first.fun else first
    z = np.asarray(best.x, dtype=float)
    theta = np.exp(z)
    converged = bool(polish.success) and float(best.fun) < _BIG
    se = np.full(len(z), math.nan)
    with np.errstate(all="ignore"):
        cov = _covariance(nll, z)
    if cov is not None:
        se = theta * np.sqrt(np.diag(cov))
    return ModelFit(
        model,
        dict(zip(names, theta.tolist(), strict=True)),
        dict(zip(names, se.tolist(), strict=True)),
        -float(best.fun),
        n,
        converged=converged,
        message=str(polish.message),
    )


def fit_transactions(model: str, x: Array, tx: Array, big_t: Array) -> ModelFit:
    """Maximum-likelihood BG/NBD or Pareto/NBD on the histories ``(x, t_x, T)``.

    Starts at rates of one purchase per ``sum(T) / sum(x)`` time units.
    """
    # collapse identical (x, t_x, T) rows: buyers share them when times are whole days
    keys = np.column_stack([x, tx, big_t])
    uniq, weights = np.unique(keys, axis=0, return_counts=True)
    ux, utx, ut = uniq[:, 0], uniq[:, 1], uniq[:, 2]
    w = weights.astype(float)
    rate_scale = max(float(big_t.sum()), 1e-9) / max(float(x.sum()), 1.0)
    fn = bgnbd_loglik if model == "bgnbd" else pnbd_loglik
    start = (1.0, rate_scale, 1.0, 1.0) if model == "bgnbd" else (1.0, rate_scale, 1.0, rate_scale)

    def loglik(theta: Array) -> float:
        return float(np.dot(w, fn(theta, ux, utx, ut)))

    return _maximize(model, loglik, start, len(x))


def spend_sample(x: Array, m: Array) -> tuple[Array, Array, int]:
    """The Gamma-Gamma's sample: repeat buyers with a positive mean spend.

    Args:
        x: Repeat purchases per buyer.
        m: Mean spend of the repeat purchases (0 without any).

    Returns:
        ``(x, m)`` of the usable buyers and how many repeat buyers were left out (mean
        spend of 0 or less, or not finite).
    """
    repeat = x > 0
    usable = repeat & (m > 0) & np.isfinite(m)
    return x[usable], m[usable], int((repeat & ~usable).sum())


def gamma_gamma_fittable(m: Array) -> bool:
    """Whether mean spends ``m`` can pin the Gamma-Gamma down: two or more, not all alike."""
    return len(m) >= 2 and bool(np.ptp(m) != 0)


def fit_gamma_gamma(x: Array, m: Array) -> ModelFit:
    """Maximum-likelihood Gamma-Gamma on ``x`` repeat purchases of mean spend ``m`` (> 0).

    Fitted on spend divided by its mean (so the optimiser works near 1 whatever the
    currency), then ``v`` and its standard error are scaled back to units of spend (``p``
    and ``q`` do not depend on the scale) and the log-likelihood is evaluated on the
    original amounts.
    """
    if not gamma_gamma_fittable(m):
        return unfitted("gamma_gamma", len(x), "too few repeat buyers")
    scale = float(np.mean(m))
    m_scaled = m / scale

    def loglik_scaled(theta: Array) -> float:
        return float(gamma_gamma_loglik(theta, x, m_scaled).sum())

    fit = _maximize("gamma_gamma", loglik_scaled, (1.0, 2.0, 1.0), len(x))
    if not fit.fitted:
        return fit
    # v is in units of spend: undo the scaling (p, q and the standard errors' ratios keep)
    params = dict(fit.params)
    ses = dict(fit.standard_errors)
    params["v"] *= scale
    ses["v"] *= scale
    ll = float(gamma_gamma_loglik((params["p"], params["q"], params["v"]), x, m).sum())
    return dataclasses.replace(fit, params=params, standard_errors=ses, log_likelihood=ll)
