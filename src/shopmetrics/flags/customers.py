"""Flags of customer lifetime value: the buyers a model is fitted on, the fits, the holdout.

Detectors (each returns the flags it raises; :func:`shopmetrics.clv.customer_value` runs
them in this order):

- ``too_few_repeat_buyers``: fewer than 2 buyers, or none with a repeat purchase (the
  transaction model), or fewer than 2 repeat buyers with a positive spend, or all alike
  (the Gamma-Gamma): the model is not fitted and its predictions are NaN.
- ``few_repeat_buyers``: repeat buyers under ``config.min_sample``; unstable estimates.
- ``fit_not_converged``, ``imprecise_estimates`` (standard errors above the estimates),
  ``standard_errors_unavailable`` (the Hessian is not clearly positive definite).
- ``nonpositive_repeat_spend``: repeat buyers with a mean spend of 0 or less, left out of
  the spend model.
- ``spend_frequency_correlation``: the Gamma-Gamma assumes spend per purchase is
  independent of purchase frequency; the Pearson correlation among repeat buyers, a
  warning when ``|r| >=`` :data:`CORRELATION_WARN` and significant.
- ``spend_mean_undefined``: ``q <= 1``, an infinite population mean spend.
- ``p_alive_one_time_buyers``: BG/NBD puts P(alive) = 1 for buyers without a repeat
  purchase (info).
- ``holdout_mismatch``: predicted holdout purchases off the actual ones by more than
  :data:`HOLDOUT_TOLERANCE`.
- ``short_history``: the prediction horizon is more than :data:`EXTRAPOLATION_WARN`
  times the history the model was fitted on (first purchase to ``calibration_end``):
  most of the prediction is an extrapolation no purchase in the data has checked.
"""

from __future__ import annotations

import math

import numpy as np

from shopmetrics.flags.finding import Flag
from shopmetrics.models.buy_till_you_die import Array, ModelFit

CORRELATION_WARN = 0.3
"""|Pearson r| between frequency and mean spend above which the Gamma-Gamma is flagged."""

HOLDOUT_TOLERANCE = 0.2
"""Relative gap between predicted and actual holdout purchases above which a flag is raised."""

EXTRAPOLATION_WARN = 2.0
"""Horizon / history above which ``short_history`` warns: beyond it more than half of
what is predicted lies past anything the fit has seen. (The models are made to
extrapolate somewhat: a year predicted from 39 weeks is their ordinary use.)"""


# ---------------------------------------------------------------- the buyers fitted on


def too_few_repeat_buyers(model: str, n: int, repeat: int, calibration_end: str | None) -> Flag:
    """The transaction model cannot be fitted: fewer than 2 buyers or no repeat buyer."""
    return Flag(
        "too_few_repeat_buyers",
        "error",
        (
            f"customer_value: {n} buyers, {repeat} with a repeat purchase by "
            f"{calibration_end}: the {model} model cannot be fitted, so every "
            "prediction is NaN. Use a longer calibration period."
            if n
            else "customer_value: no paid orders to fit (see the audit); every prediction is NaN."
        ),
        table="orders",
        evidence={"buyers": n, "repeat_buyers": repeat},
    )


def few_repeat_buyers(
    model: str, n: int, repeat: int, calibration_end: str | None, min_sample: int
) -> list[Flag]:
    """Fewer repeat buyers than ``config.min_sample``: the estimates are unstable."""
    if repeat >= min_sample:
        return []
    return [
        Flag(
            "few_repeat_buyers",
            "warning",
            f"customer_value: only {repeat} buyers made a repeat purchase by "
            f"{calibration_end} (config.min_sample={min_sample}); the "
            f"{model} estimates are unstable and predictions uncertain. Use a longer "
            "calibration period or more buyers.",
            table="orders",
            evidence={"buyers": n, "repeat_buyers": repeat},
        )
    ]


# ---------------------------------------------------------------- the fits


def fit_flags(fit: ModelFit) -> list[Flag]:
    """``fit_not_converged``, ``imprecise_estimates`` and ``standard_errors_unavailable``."""
    if not fit.fitted:
        return []
    out = []
    if not fit.converged:
        out.append(
            Flag(
                "fit_not_converged",
                "warning",
                f"{fit.model}: the optimiser did not report convergence ({fit.message}); "
                "the estimates may not maximise the likelihood.",
                evidence={"model": fit.model},
            )
        )
    loose = [
        k
        for k, v in fit.params.items()
        if math.isfinite(fit.standard_errors[k]) and fit.standard_errors[k] > v
    ]
    if loose:
        out.append(
            Flag(
                "imprecise_estimates",
                "warning",
                f"{fit.model}: the standard errors of {', '.join(loose)} exceed the estimates "
                "themselves (95% intervals span orders of magnitude); the data barely determine "
                "them, so predictions that depend on them are unreliable. Use a longer "
                "calibration period or more buyers.",
                evidence={
                    "model": fit.model,
                    **{f"se_{k}": fit.standard_errors[k] for k in loose},
                },
            )
        )
    if not all(math.isfinite(v) for v in fit.standard_errors.values()):
        out.append(
            Flag(
                "standard_errors_unavailable",
                "warning",
                f"{fit.model}: the Hessian of the log-likelihood is not positive definite at "
                "the estimates, so standard errors are NaN; the likelihood is flat in some "
                "direction (too little data to pin every parameter down).",
                evidence={"model": fit.model},
            )
        )
    return out


# ---------------------------------------------------------------- the spend model


def nonpositive_repeat_spend(left_out: int) -> list[Flag]:
    """Repeat buyers whose mean repeat spend is 0 or less, left out of the Gamma-Gamma."""
    if not left_out:
        return []
    return [
        Flag(
            "nonpositive_repeat_spend",
            "warning",
            f"gamma_gamma: {left_out} repeat buyers have a mean repeat spend of 0 or less and "
            "are left out of the spend model (it needs positive amounts); their "
            "expected_spend still uses the fitted model.",
            table="orders",
            column="amount",
            n_rows=left_out,
        )
    ]


def too_few_spend_buyers(n: int) -> Flag:
    """The Gamma-Gamma cannot be fitted: fewer than 2 usable repeat buyers, or all alike."""
    return Flag(
        "too_few_repeat_buyers",
        "error",
        f"gamma_gamma: {n} repeat buyers with a positive spend, too few (or all alike) "
        "to fit the spend model, so expected_spend and clv are NaN. Use a longer "
        "calibration period.",
        table="orders",
        evidence={"repeat_buyers": n},
    )


def spend_frequency_correlation(x: Array, m: Array) -> list[Flag]:
    """The Pearson correlation of repeat purchases ``x`` and mean spend ``m`` (3+ buyers).

    The Gamma-Gamma assumes spend per purchase is independent of purchase frequency: a
    warning when ``|r| >=`` :data:`CORRELATION_WARN` with ``p < 0.05``, else an info
    flag with the correlation (NaN, and why, when either column is constant).
    """
    from scipy import stats  # noqa: PLC0415

    n = len(x)
    if n < 3:
        return []
    if np.ptp(x) == 0 or np.ptp(m) == 0:
        return [
            Flag(
                "spend_frequency_correlation",
                "info",
                "gamma_gamma assumes spend per purchase is independent of purchase frequency; "
                f"the correlation is undefined here because all {n} repeat buyers have the "
                "same number of repeat purchases (or the same mean spend), so the assumption "
                "cannot be checked.",
                table="orders",
                evidence={"frequency_monetary_corr": math.nan, "n": n},
            )
        ]
    corr = stats.pearsonr(x, m)
    r, pvalue = float(corr.statistic), float(corr.pvalue)
    concerning = abs(r) >= CORRELATION_WARN and pvalue < 0.05
    return [
        Flag(
            "spend_frequency_correlation",
            "warning" if concerning else "info",
            f"gamma_gamma assumes spend per purchase is independent of purchase frequency; "
            f"among the {n} repeat buyers the Pearson correlation is {r:+.3f} "
            f"(p = {pvalue:.3g})"
            + (
                ": too strong for the assumption, so expected_spend and clv are biased "
                "(frequent buyers' spend is pulled toward the wrong mean)."
                if concerning
                else f", below the {CORRELATION_WARN} threshold."
            ),
            table="orders",
            evidence={"frequency_monetary_corr": r, "p_value": pvalue, "n": n},
        )
    ]


def spend_mean_undefined(fit: ModelFit) -> list[Flag]:
    """A fitted Gamma-Gamma with ``q <= 1``: the population mean spend is infinite."""
    if not fit.fitted or fit.params["q"] > 1:
        return []
    return [
        Flag(
            "spend_mean_undefined",
            "warning",
            f"gamma_gamma: q = {fit.params['q']:.3g} <= 1, so the population mean spend "
            "per purchase is infinite: expected_spend and clv are NaN for buyers without "
            "repeat purchases and heavily driven by outliers for the others. Check for "
            "extreme order amounts.",
            table="orders",
            column="amount",
            evidence={"q": fit.params["q"]},
        )
    ]


# ---------------------------------------------------------------- predictions


def p_alive_one_time_buyers(fit: ModelFit, x: Array) -> list[Flag]:
    """BG/NBD's P(alive) is 1 for every buyer without a repeat purchase (info)."""
    if fit.model != "bgnbd" or not fit.fitted or not (x == 0).any():
        return []
    k = int((x == 0).sum())
    return [
        Flag(
            "p_alive_one_time_buyers",
            "info",
            f"BG/NBD puts P(alive) = 1 for the {k} buyers with no repeat purchase: the "
            "model lets buyers drop out only right after a purchase, however long ago "
            "their one purchase was. Read their p_alive as 'not yet shown to be gone', "
            "or fit models=('pareto_nbd', ...) for a P(alive) that decays with time.",
            table="orders",
            column="buyer_id",
            n_rows=k,
            evidence={"one_time_buyers": k},
        )
    ]


def holdout_mismatch(
    actual: float,
    predicted: float,
    *,
    model: str,
    period: tuple[str | None, str | None],
    min_sample: int,
) -> list[Flag]:
    """Predicted repeat purchases in the holdout ``period`` off the actual ones.

    Raised when the relative gap exceeds :data:`HOLDOUT_TOLERANCE` and either count
    reaches ``min_sample``.
    """
    if not math.isfinite(predicted) or max(actual, predicted) < min_sample:
        return []
    gap = predicted / actual - 1 if actual > 0 else math.inf
    if abs(gap) <= HOLDOUT_TOLERANCE:
        return []
    happened = f"{actual:.0f} happened ({gap:+.0%})" if actual > 0 else "none happened"
    return [
        Flag(
            "holdout_mismatch",
            "warning",
            f"customer_value: the {model} model predicted {predicted:.1f} repeat purchases in "
            f"the holdout (after {period[0]} to {period[1]}) and "
            f"{happened}; its forecasts of purchases and value are off by about as much. "
            "Check for seasonality, promotions or a change in the store between the periods.",
            table="orders",
            evidence={"predicted": predicted, "actual": actual, "rel_gap": gap},
        )
    ]


# ---------------------------------------------------------------- the history


def short_history(
    history: float, horizon: float, unit: str, calibration_end: str | None
) -> list[Flag]:
    """The horizon predicted (``horizon`` units) is more than :data:`EXTRAPOLATION_WARN`
    times the ``history`` (units from the first purchase to ``calibration_end``) the model
    was fitted on."""
    if not history or horizon <= EXTRAPOLATION_WARN * history:
        return []
    return [
        Flag(
            "short_history",
            "warning",
            f"customer_value: {history:.1f} {unit}s of purchases up to {calibration_end}, "
            f"but expected_purchases and clv are predicted over {horizon:g} {unit}s: "
            f"{horizon / history:.1f} times the history, so how buyers drop out beyond "
            f"{history:.0f} {unit}s is the model's assumption, not something the data showed. "
            "Use a horizon within the history (horizon=), or orders reaching back further.",
            table="orders",
            evidence={
                "history": round(float(history), 3),
                "horizon": float(horizon),
                "history_coverage": round(float(history / horizon), 4),
                "unit": unit,
            },
        )
    ]
