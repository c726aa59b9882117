"""Customer lifetime value: who will buy again, how often, for how much.

From an order log, :func:`customer_value` builds the per-buyer repeat-purchase summary
(frequency, recency, age ``T`` and mean repeat spend), fits a "buy till you die" model of
purchase counts and a spend model, and predicts for every buyer the chance of still being
a customer, the purchases to expect and their discounted value.

Models:
    ``"bgnbd"``: BG/NBD (Fader, Hardie & Lee 2005). Purchases follow a Poisson process
        with gamma-distributed rates (``r``, ``alpha``); after each purchase a buyer drops
        out with a beta-distributed probability (``a``, ``b``).
    ``"pareto_nbd"``: Pareto/NBD (Schmittlein, Morrison & Colombo 1987). Same purchase
        process; lifetimes are exponential with gamma-distributed rates (``s``, ``beta``),
        so a buyer can drop out at any time, not only right after a purchase.
    ``"gamma_gamma"``: the Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader &
        Hardie 2013): each buyer's spend per purchase is gamma with shape ``p`` and a
        scale that varies across buyers as a gamma (``q``, ``v``). It assumes spend per
        purchase is independent of purchase frequency; the result reports the
        correlation and flags it when large.

The summary follows the literature so published estimates reproduce: only paid orders
count (rows with ``paid_at`` when the table has that column, timed at payment), with
their amounts as paid (gross of later refunds); all of a buyer's purchases on one day are
merged into one purchase whose amount is their sum;
``frequency`` is the number of purchase days after the first, ``recency`` the time from
the first to the last purchase, ``T`` the time from the first purchase to the end of the
calibration period, and ``monetary_value`` the mean amount of the repeat purchases (0 for
a buyer with none). Time is elapsed time in units of ``freq``: days, weeks of 7 days, or
months of 365.25 / 12 days (not calendar weeks or months).

Examples:
    >>> import pandas as pd
    >>> import shopmetrics as sm
    >>> orders = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5"],
    ...     "buyer_id": ["A", "A", "A", "B", "C"],
    ...     "created_at": pd.to_datetime(
    ...         ["2026-01-01 09:00", "2026-01-01 18:00", "2026-01-15 10:00", "2026-01-08 12:00",
    ...          "2026-01-29 20:00"]
    ...     ),
    ...     "amount": [10.0, 5.0, 30.0, 20.0, 12.0],
    ... })
    >>> from shopmetrics.clv import buyer_summary
    >>> buyer_summary(orders, calibration_end="2026-01-29")
      buyer_id  frequency  recency    T  monetary_value
    0        A          1      2.0  4.0            30.0
    1        B          0      0.0  3.0             0.0
    2        C          0      0.0  0.0             0.0

References:
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the
    easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using iso-value
    curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.

    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/

    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
    related expressions. http://brucehardie.com/notes/009/

    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers:
    who are they and what will they do next? Management Science 33(1), 1-24.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt

from shopmetrics import engine
from shopmetrics.config import get_config
from shopmetrics.display import frame_to_html, frame_to_markdown, plain
from shopmetrics.engine import deps
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.results import Audit, Exclusion, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MODELS",
    "UNIT_DAYS",
    "CustomerValue",
    "ModelFit",
    "buyer_summary",
    "customer_value",
]

logger = logging.getLogger(__name__)

Array = npt.NDArray[np.float64]
Params = Sequence[float] | Array

MODELS: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "gamma_gamma": ("p", "q", "v"),
}
"""Each model and the names of its parameters."""

TRANSACTION_MODELS = ("bgnbd", "pareto_nbd")
SPEND_MODELS = ("gamma_gamma",)

UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
"""Length of one time unit in days for each ``freq`` (elapsed time, not calendar periods)."""

UNIT_NAMES: dict[str, str] = {"D": "day", "W": "week", "M": "month"}
DEFAULT_HORIZON: dict[str, int] = {"D": 365, "W": 52, "M": 12}
"""Default prediction horizon (about one year) in units of ``freq``."""

DAYS_PER_YEAR = 365.25
SUMMARY_COLUMNS = ("buyer_id", "frequency", "recency", "T", "monetary_value")
HOLDOUT_BUCKETS = 7
"""Calibration frequencies 0 .. 6 get their own holdout row; 7 and more share one (``7+``)."""

CORRELATION_WARN = 0.3
"""|Pearson r| between frequency and mean spend above which the Gamma-Gamma is flagged."""

HOLDOUT_TOLERANCE = 0.2
"""Relative gap between predicted and actual holdout purchases above which a flag is raised."""

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


@dataclasses.dataclass(frozen=True, repr=False)
class CustomerValue(Result):
    """Fitted customer lifetime value models and per-buyer predictions.

    ``table`` (see :meth:`to_pandas`) has one row per buyer whose first purchase falls in
    the calibration period: ``buyer_id``, ``frequency``, ``recency``, ``T``,
    ``monetary_value`` (the summary, time in units of ``meta["freq"]``), ``p_alive``,
    ``expected_purchases`` (over ``meta["horizon"]`` units after calibration),
    ``expected_spend`` (per purchase), ``clv`` (over the horizon, discounted at
    ``meta["discount_rate"]`` a year, times ``meta["margin"]``) and, with a holdout period,
    ``holdout_purchases`` (repeat purchase days actually seen in the holdout). All
    predictions are made as of the end of calibration.

    Attributes:
        fits: The fitted models by name.
        holdout: Predicted against actual holdout purchases by calibration frequency
            (``None`` without a holdout period).
    """

    fits: Mapping[str, ModelFit] = dataclasses.field(default_factory=dict)
    holdout: pd.DataFrame | None = None

    kind = "customer_value"

    # fitted values -----------------------------------------------------
    @property
    def transaction_model(self) -> str:
        """The purchase-count model in use (``"bgnbd"`` or ``"pareto_nbd"``)."""
        return next(m for m in self.fits if m in TRANSACTION_MODELS)

    @property
    def params_(self) -> dict[str, float]:
        """Parameter estimates of every fitted model, by parameter name."""
        return {k: v for fit in self.fits.values() for k, v in fit.params.items()}

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors of :attr:`params_`, by parameter name."""
        return {k: v for fit in self.fits.values() for k, v in fit.standard_errors.items()}

    @property
    def log_likelihood_(self) -> dict[str, float]:
        """The maximised log-likelihood of each model, by model name."""
        return {name: fit.log_likelihood for name, fit in self.fits.items()}

    @property
    def summary_(self) -> pd.DataFrame:
        """The per-buyer summary.

        Columns ``buyer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``.
        """
        return self.table[list(SUMMARY_COLUMNS)].copy(deep=True)

    @property
    def holdout_(self) -> pd.DataFrame | None:
        """A copy of :attr:`holdout`."""
        return None if self.holdout is None else self.holdout.copy(deep=True)

    def params_frame(self) -> pd.DataFrame:
        """Estimates with standard errors and intervals, one row per parameter.

        Intervals are Wald intervals on the log scale (the parameters are positive), at
        ``meta["confidence"]``.
        """
        import pandas as pd  # noqa: PLC0415
        from scipy import stats  # noqa: PLC0415

        z = float(stats.norm.ppf(0.5 + float(self.meta.get("confidence", 0.95)) / 2))
        rows = []
        for name, fit in self.fits.items():
            for p, est in fit.params.items():
                se = fit.standard_errors.get(p, math.nan)
                with np.errstate(all="ignore"):
                    half = z * se / est if est > 0 else math.nan
                rows.append(
                    {
                        "model": name,
                        "param": p,
                        "estimate": est,
                        "se": se,
                        "ci_low": est * math.exp(-half) if math.isfinite(half) else math.nan,
                        "ci_high": est * math.exp(half) if math.isfinite(half) else math.nan,
                    }
                )
        return pd.DataFrame(rows, columns=["model", "param", "estimate", "se", "ci_low", "ci_high"])

    # predictions -------------------------------------------------------
    def predict(self, t: float) -> pd.DataFrame:
        """Predictions per buyer for the next ``t`` time units after calibration.

        Args:
            t: Length of the prediction window, in units of ``meta["freq"]``.

        Returns:
            ``buyer_id``, ``frequency``, ``recency``, ``T``, ``p_alive``,
            ``expected_purchases`` (BG/NBD: eq. 10 of Fader, Hardie & Lee 2005;
            Pareto/NBD: the conditional expectation of Schmittlein, Morrison & Colombo
            1987 as derived in Fader & Hardie 2005, section 6), and ``expected_spend``
            (Gamma-Gamma conditional mean spend per purchase; absent without a spend
            model).
        """
        if not (t >= 0 and math.isfinite(t)):
            msg = f"predict: t must be a finite number >= 0, got {t!r}"
            raise ShopmetricsError(msg)
        out = self.summary_.drop(columns="monetary_value")
        x, tx, big_t = _history(self.table)
        fit = self.fits[self.transaction_model]
        out["p_alive"] = _p_alive(fit, x, tx, big_t)
        out["expected_purchases"] = _expected(fit, float(t), x, tx, big_t)
        if "gamma_gamma" in self.fits:
            out["expected_spend"] = _gg_mean(
                self.fits["gamma_gamma"], x, self.table["monetary_value"].to_numpy(float)
            )
        return out

    def clv(
        self,
        horizon: float | None = None,
        discount_rate: float = 0.0,
        margin: float = 1.0,
    ) -> pd.DataFrame:
        """Discounted expected value of each buyer's purchases over ``horizon``.

        The horizon is cut into periods of one time unit (the last one possibly shorter).
        For period ``k`` ending ``t_k`` units after calibration, the expected purchases in
        it are ``E[Y(t_k)] - E[Y(t_(k-1))]`` (the conditional expectation of the
        transaction model), each worth the Gamma-Gamma expected spend, times ``margin``,
        discounted to the end of calibration with the factor
        ``(1 + discount_rate) ** -(t_k * unit_days / 365.25)``: the rate is **annual**,
        compounded once a year, applied at the end of each period.

        Args:
            horizon: Time units to look ahead (default: about one year, 52 weeks / 365
                days / 12 months).
            discount_rate: Annual discount rate (cost of capital), e.g. ``0.1``.
            margin: Share of revenue that is profit (``1.0``: revenue value).

        Returns:
            ``buyer_id``, ``expected_purchases`` (over the horizon), ``expected_spend``,
            ``clv``.

        References:
            Fader, Hardie & Lee (2005), "RFM and CLV": value as discounted expected
            transactions times expected spend per transaction (here summed over discrete
            periods rather than integrated in continuous time).
        """
        freq = str(self.meta.get("freq", "W"))
        if horizon is None:
            horizon = DEFAULT_HORIZON[freq]
        if not (horizon >= 0 and math.isfinite(horizon)):
            msg = f"clv: horizon must be a finite number >= 0, got {horizon!r}"
            raise ShopmetricsError(msg)
        if not discount_rate > -1:
            msg = (
                f"clv: discount_rate must be an annual rate > -1 (e.g. 0.1), got {discount_rate!r}"
            )
            raise ShopmetricsError(msg)
        if "gamma_gamma" not in self.fits:
            msg = (
                "clv: needs a spend model; fit with models=(..., 'gamma_gamma') "
                "or use predict(t) for purchase counts"
            )
            raise ShopmetricsError(msg)
        import pandas as pd  # noqa: PLC0415

        x, tx, big_t = _history(self.table)
        fit = self.fits[self.transaction_model]
        spend = _gg_mean(self.fits["gamma_gamma"], x, self.table["monetary_value"].to_numpy(float))
        purchases, value = _discounted_purchases(
            fit,
            (x, tx, big_t),
            horizon=float(horizon),
            discount_rate=float(discount_rate),
            unit_days=UNIT_DAYS[freq],
        )
        return pd.DataFrame(
            {
                "buyer_id": self.table["buyer_id"].to_numpy(),
                "expected_purchases": purchases,
                "expected_spend": spend,
                "clv": float(margin) * spend * value,
            }
        )

    # display -----------------------------------------------------------
    def plot_holdout(self, ax: Any = None) -> Any:
        """Plot mean holdout purchases, actual against predicted, by calibration frequency.

        The check of Fader, Hardie & Lee (2005), figure 5. Needs the ``plot`` extra
        (matplotlib).

        Args:
            ax: A matplotlib ``Axes`` to draw on (a new figure when ``None``).

        Returns:
            The matplotlib ``Figure``.
        """
        if self.holdout is None:
            msg = (
                "plot_holdout: no holdout period; pass calibration_end before the last "
                "order date (and observation_end) to customer_value()"
            )
            raise ShopmetricsError(msg)
        deps.need("matplotlib", "CustomerValue.plot_holdout()")
        import matplotlib.figure  # noqa: PLC0415

        if ax is None:
            fig = matplotlib.figure.Figure(figsize=(6.4, 4.0))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        h = self.holdout
        pos = np.arange(len(h))
        ax.plot(pos, h["actual_mean"], marker="o", label="actual")
        ax.plot(pos, h["predicted_mean"], marker="s", linestyle="--", label="predicted")
        ax.set_xticks(pos, [str(b) for b in h["frequency"]])
        unit = UNIT_NAMES[str(self.meta.get("freq", "W"))]
        ax.set_xlabel("repeat purchases in calibration")
        ax.set_ylabel(f"mean purchases in holdout ({self.meta.get('holdout_length', 0):g} {unit}s)")
        ax.set_title(f"Holdout check: {self.transaction_model}")
        ax.legend()
        return fig

    def _text(self) -> str:
        m = self.meta
        unit = UNIT_NAMES[str(m.get("freq", "W"))]
        lines = [
            (
                f"CustomerValue: {' + '.join(self.fits)}; {m.get('buyers', 0)} buyers "
                f"({m.get('repeat_buyers', 0)} repeat); time unit: {unit}"
            ),
            f"calibration ends {m.get('calibration_end')}; "
            + (
                f"holdout {m.get('holdout_length', 0):g} {unit}s to {m.get('observation_end')}"
                if self.holdout is not None
                else "no holdout"
            ),
            "",
            self.params_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            "log-likelihood: " + "; ".join(f"{k} {v:.2f}" for k, v in self.log_likelihood_.items()),
        ]
        if self.holdout is not None:
            lines += ["", "holdout check:", self.holdout.to_string(index=False)]
        if self.flags:
            lines += ["", "flags:"] + [f"- {f}" for f in self.flags]
        return "\n".join(lines)

    def print_summary(self) -> None:
        """Print the fitted parameters, log-likelihoods, holdout check and flags."""
        print(self._text())  # the one method meant to print

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain types: rows, fits, holdout, flags, audit, meta."""
        out = Result.to_dict(self)
        out["fits"] = {k: v.to_dict() for k, v in self.fits.items()}
        out["holdout"] = (
            None
            if self.holdout is None
            else [{str(k): plain(v) for k, v in r.items()} for r in self.holdout.to_dict("records")]
        )
        return out

    def to_markdown(self, max_rows: int = 50) -> str:
        """Parameters, holdout check, per-buyer table and flags as Markdown."""
        parts = [frame_to_markdown(self.params_frame())]
        if self.holdout is not None:
            parts += ["", frame_to_markdown(self.holdout)]
        parts += ["", Result.to_markdown(self, max_rows)]
        return "\n".join(parts)

    def to_html(self, max_rows: int = 50) -> str:
        """Parameters, holdout check, per-buyer table and flags as an HTML fragment."""
        parts = [
            (
                "<div class='sm-result'><p><strong>CustomerValue</strong> "
                f"({html.escape(' + '.join(self.fits))}; {len(self.table)} buyers)</p>"
            ),
            frame_to_html(self.params_frame()),
        ]
        if self.holdout is not None:
            parts += ["<p>Holdout check</p>", frame_to_html(self.holdout)]
        parts += [Result.to_html(self, max_rows), "</div>"]
        return "".join(parts)

    def __repr__(self) -> str:
        est = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{Result.__repr__(self)}\nparams: {est}"


# ---------------------------------------------------------------- public entry points


def customer_value(
    orders: Any,
    calibration_end: Any = None,
    observation_end: Any = None,
    freq: str = "W",
    models: Sequence[str] = ("bgnbd", "gamma_gamma"),
    *,
    columns: Mapping[str, str] | None = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    tz: str | None = None,
) -> CustomerValue:
    """Fit customer lifetime value models on an order log and predict per buyer.

    Args:
        orders: The orders table (``order_id``, ``buyer_id``, ``created_at``, ``amount``;
            ``paid_at`` when present selects paid orders and times them).
        calibration_end: Last day of the calibration period, inclusive (a date, datetime or
            ISO string; a time of day is ignored). Buyers whose first purchase is later
            are left out (counted in the audit). Default: ``observation_end`` when given,
            else the last purchase day.
        observation_end: Last day of the holdout period, inclusive. Purchases between
            ``calibration_end`` and it are compared with the model's prediction; later
            rows are left out. Default: the last purchase day in the data.
        freq: Time unit: ``"D"`` (day), ``"W"`` (7 days) or ``"M"`` (365.25 / 12 days).
        models: One transaction model (``"bgnbd"`` or ``"pareto_nbd"``) and optionally
            ``"gamma_gamma"`` for spend.
        columns: The table's ``{their_name: canonical_name}`` column mapping.
        horizon: Time units after calibration for ``expected_purchases`` and ``clv`` in
            the result table (default about one year: 52 weeks, 365 days, 12 months).
        discount_rate: Annual discount rate for ``clv`` (see :meth:`CustomerValue.clv`).
        margin: Share of revenue that is profit, for ``clv``.
        tz: The store's time zone (default ``config.tz``).

    Returns:
        The fitted :class:`CustomerValue`.

    Raises:
        DefinitionError: Unknown ``freq`` or model, or not exactly one transaction model.
        ShopmetricsError: ``observation_end`` before ``calibration_end``.
        ColumnNotFoundError: A required column is missing.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> import shopmetrics as sm
        >>> rng = np.random.default_rng(1)
        >>> rows = []
        >>> for b in range(300):
        ...     first = rng.integers(0, 60)
        ...     days = first + np.cumsum(rng.exponential(30, size=rng.integers(1, 6)).astype(int))
        ...     rows += [(f"B{b}", pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(d)),
        ...               float(rng.gamma(4, 10))) for d in np.r_[first, days] if d < 360]
        >>> orders = pd.DataFrame(rows, columns=["buyer_id", "created_at", "amount"])
        >>> orders["order_id"] = range(len(orders))
        >>> cv = sm.customer_value(orders, calibration_end="2025-09-30")
        >>> sorted(cv.params_)
        ['a', 'alpha', 'b', 'p', 'q', 'r', 'v']
        >>> list(cv.holdout_.frequency)
        ['0', '1', '2', '3', '4', '5', '6', '7+']
        >>> bool((cv.to_pandas().p_alive <= 1).all())
        True
    """
    cfg = get_config()
    if freq not in UNIT_DAYS:
        raise DefinitionError.unknown("freq", freq, UNIT_DAYS)
    models = tuple(models)
    for m in models:
        if m not in MODELS:
            raise DefinitionError.unknown("model", m, MODELS)
    trans = [m for m in models if m in TRANSACTION_MODELS]
    if len(trans) != 1:
        msg = (
            f"models={models!r}: choose exactly one transaction model, 'bgnbd' or "
            "'pareto_nbd' (fit twice to compare them), plus 'gamma_gamma' for spend"
        )
        raise DefinitionError(msg)
    if horizon is None:
        horizon = DEFAULT_HORIZON[freq]
    data = _summarize(orders, calibration_end, observation_end, freq=freq, columns=columns, tz=tz)
    summary = data.summary
    x, tx, big_t = _history(summary)
    n = len(summary)
    repeat = int((x > 0).sum())
    flags: list[Flag] = []
    notes = list(data.notes)

    fits: dict[str, ModelFit] = {}
    model = trans[0]
    if n < 2 or repeat == 0:
        fits[model] = _unfitted(model, n, "no repeat buyers" if n >= 2 else "fewer than 2 buyers")
        flags.append(
            Flag(
                "too_few_repeat_buyers",
                "error",
                (
                    f"customer_value: {n} buyers, {repeat} with a repeat purchase by "
                    f"{data.calibration_end}: the {model} model cannot be fitted, so every "
                    "prediction is NaN. Use a longer calibration period."
                    if n
                    else "customer_value: no paid orders to fit (see the audit); every "
                    "prediction is NaN."
                ),
                table="orders",
                evidence={"buyers": n, "repeat_buyers": repeat},
            )
        )
    else:
        fits[model] = _fit_transactions(model, x, tx, big_t)
        if repeat < cfg.min_sample:
            flags.append(
                Flag(
                    "few_repeat_buyers",
                    "warning",
                    f"customer_value: only {repeat} buyers made a repeat purchase by "
                    f"{data.calibration_end} (config.min_sample={cfg.min_sample}); the "
                    f"{model} estimates are unstable and predictions uncertain. Use a longer "
                    "calibration period or more buyers.",
                    table="orders",
                    evidence={"buyers": n, "repeat_buyers": repeat},
                )
            )
    flags += _fit_flags(fits[model])

    if "gamma_gamma" in models:
        gg, gg_flags = _fit_spend(summary, cfg.min_sample)
        fits["gamma_gamma"] = gg
        flags += gg_flags
        flags += _fit_flags(gg)

    if model == "bgnbd" and fits[model].fitted and (x == 0).any():
        k = int((x == 0).sum())
        flags.append(
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
        )

    cv = CustomerValue(
        table=summary,
        fits=fits,
        meta={
            "freq": freq,
            "unit_days": UNIT_DAYS[freq],
            "calibration_end": data.calibration_end,
            "observation_end": data.observation_end,
            "holdout_length": data.holdout_length,
            "models": list(fits),
            "buyers": n,
            "repeat_buyers": repeat,
            "horizon": float(horizon),
            "discount_rate": float(discount_rate),
            "margin": float(margin),
            "confidence": cfg.confidence,
        },
    )
    pred = cv.predict(float(horizon))
    table = summary[list(SUMMARY_COLUMNS)].copy()
    table["p_alive"] = pred["p_alive"].to_numpy()
    table["expected_purchases"] = pred["expected_purchases"].to_numpy()
    if "gamma_gamma" in fits:
        value = cv.clv(horizon, discount_rate, margin)
        table["expected_spend"] = value["expected_spend"].to_numpy()
        table["clv"] = value["clv"].to_numpy()

    holdout = None
    meta = dict(cv.meta)
    for f in flags:
        if "frequency_monetary_corr" in f.evidence:
            meta["frequency_monetary_corr"] = f.evidence["frequency_monetary_corr"]
    if data.holdout_length > 0:
        table["holdout_purchases"] = summary["holdout_purchases"].to_numpy()
        holdout = _holdout_table(fits[model], summary, data.holdout_length)
        flags += _holdout_flags(holdout, model, data, meta, cfg.min_sample)
    else:
        notes.append("no holdout period: nothing after calibration_end to check predictions on")
    logger.info("customer_value: %d buyers (%d repeat), models %s", n, repeat, ", ".join(fits))
    return CustomerValue(
        table=table.reset_index(drop=True),
        flags=sort_flags(flags),
        audit=Audit(rows_in={"orders": data.rows_in}, excluded=data.excluded, notes=tuple(notes)),
        definition=_definition(fits),
        meta=meta,
        fits=fits,
        holdout=holdout,
    )


def buyer_summary(
    orders: Any,
    calibration_end: Any = None,
    freq: str = "W",
    columns: Mapping[str, str] | None = None,
    *,
    tz: str | None = None,
) -> pd.DataFrame:
    """The per-buyer repeat-purchase summary the models are fitted on.

    One row per buyer whose first paid purchase is on or before ``calibration_end``:
    ``buyer_id``, ``frequency`` (purchase days after the first), ``recency`` (first to
    last purchase), ``T`` (first purchase to ``calibration_end``) and ``monetary_value``
    (mean spend of the repeat purchase days; 0 without any), time in units of ``freq``.
    Built in the engine (one group-by per buyer and day, then per buyer) and collected.

    Args:
        orders: The orders table.
        calibration_end: Last day of the period, inclusive (default: last purchase day).
        freq: Time unit, ``"D"``, ``"W"`` or ``"M"`` (elapsed days / 1, 7, 365.25 / 12).
        columns: The table's ``{their_name: canonical_name}`` column mapping.
        tz: The store's time zone (default ``config.tz``).

    Returns:
        A pandas DataFrame sorted by ``buyer_id``.
    """
    if freq not in UNIT_DAYS:
        raise DefinitionError.unknown("freq", freq, UNIT_DAYS)
    data = _summarize(orders, calibration_end, calibration_end, freq=freq, columns=columns, tz=tz)
    return data.summary[list(SUMMARY_COLUMNS)].copy()


# ---------------------------------------------------------------- summary (engine)


@dataclasses.dataclass(frozen=True)
class _Summary:
    summary: pd.DataFrame
    rows_in: int
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]
    calibration_end: str | None
    observation_end: str | None
    holdout_length: float


def _day_of(value: Any, tz: str | None, what: str) -> int:
    """Day number (days since 1970-01-01) of a user-given date, in store-local time."""
    import pandas as pd  # noqa: PLC0415

    try:
        ts: Any = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        msg = f"{what}: cannot read {value!r} as a date; pass e.g. '2026-03-31'"
        raise ShopmetricsError(msg) from exc
    if pd.isna(ts):  # NaT
        msg = f"{what}: got a missing date ({value!r}); pass e.g. '2026-03-31'"
        raise ShopmetricsError(msg)
    if ts.tzinfo is not None:
        ts = (ts.tz_convert(tz) if tz else ts).tz_localize(None)
    return int((ts.normalize() - pd.Timestamp(engine.EPOCH)).days)


def _iso(day: int) -> str:
    return (engine.EPOCH + dt.timedelta(days=int(day))).date().isoformat()


def _summarize(
    orders: Any,
    calibration_end: Any,
    observation_end: Any,
    *,
    freq: str,
    columns: Mapping[str, str] | None,
    tz: str | None,
) -> _Summary:
    import pandas as pd  # noqa: PLC0415

    tz = get_config().tz if tz is None else tz
    table = engine.load(orders, "orders", columns, tz)
    table.require("buyer_id", "amount", purpose="customer_value")
    paid_col = "paid_at" if table.has("paid_at") else "created_at"
    table.require(paid_col, purpose="customer_value")
    unit = UNIT_DAYS[freq]

    frame = table.frame
    paid = ~nw.col(paid_col).is_null()
    has_buyer = ~nw.col("buyer_id").is_null()
    has_amount = ~nw.col("amount").is_null()
    valid = paid & has_buyer & has_amount
    day = engine.day_number(paid_col)
    counts = engine.collect(
        frame.select(
            nw.len().alias("rows"),
            (~paid).cast(nw.Int64()).sum().alias("unpaid"),
            (paid & ~has_buyer).cast(nw.Int64()).sum().alias("missing_buyer"),
            (paid & has_buyer & ~has_amount).cast(nw.Int64()).sum().alias("missing_amount"),
            nw.when(valid).then(day).max().alias("last_day"),
        ),
        "orders:clv_counts",
    ).iloc[0]
    rows_in = int(counts["rows"])
    n_unpaid = int(counts["unpaid"] or 0)
    n_no_buyer = int(counts["missing_buyer"] or 0)
    n_no_amount = int(counts["missing_amount"] or 0)
    last_day = None if pd.isna(counts["last_day"]) else int(counts["last_day"])

    obs_day = None
    if observation_end is not None:
        obs_day = _day_of(observation_end, tz, "observation_end")
    if calibration_end is not None:
        cal_day: int | None = _day_of(calibration_end, tz, "calibration_end")
    else:
        cal_day = obs_day if obs_day is not None else last_day
    if obs_day is None and cal_day is not None:
        obs_day = cal_day if last_day is None else max(cal_day, last_day)
    if cal_day is not None and obs_day is not None and obs_day < cal_day:
        msg = (
            f"observation_end ({_iso(obs_day)}) is before calibration_end ({_iso(cal_day)}); "
            "the holdout period runs from calibration_end to observation_end"
        )
        raise ShopmetricsError(msg)

    excluded: list[Exclusion] = []
    if n_unpaid:
        excluded.append(Exclusion("orders", "unpaid", n_unpaid, "paid_at is null"))
    if n_no_buyer:
        excluded.append(Exclusion("orders", "missing_buyer_id", n_no_buyer, "buyer_id is null"))
    if n_no_amount:
        excluded.append(Exclusion("orders", "missing_amount", n_no_amount, "amount is null"))

    empty = pd.DataFrame(
        {
            "buyer_id": pd.Series([], dtype=object),
            "frequency": pd.Series([], dtype="int64"),
            "recency": pd.Series([], dtype=float),
            "T": pd.Series([], dtype=float),
            "monetary_value": pd.Series([], dtype=float),
            "holdout_purchases": pd.Series([], dtype="int64"),
        }
    )
    if cal_day is None or obs_day is None or last_day is None:
        return _Summary(empty, rows_in, tuple(excluded), ("no paid orders",), None, None, 0.0)

    days = (
        frame.filter(valid)
        .with_columns(day.alias("_day"), nw.col("amount").cast(nw.Float64()).alias("_amount"))
        .filter(nw.col("_day") <= nw.lit(obs_day))
        .group_by("buyer_id", "_day")
        .agg(nw.col("_amount").sum().alias("_spend"), nw.len().alias("_rows"))
    )
    first = days.group_by("buyer_id").agg(nw.col("_day").min().alias("_first"))
    in_cal = nw.col("_day") <= nw.lit(cal_day)
    per_buyer = (
        days.join(first, on="buyer_id")
        .with_columns(
            in_cal.cast(nw.Int64()).alias("_n_cal"),
            (~in_cal).cast(nw.Int64()).alias("_n_hold"),
            nw.when(in_cal).then(nw.col("_day")).otherwise(nw.col("_first")).alias("_last_cal"),
            nw.when(in_cal & (nw.col("_day") != nw.col("_first")))
            .then(nw.col("_spend"))
            .otherwise(nw.lit(0.0))
            .alias("_repeat_spend"),
        )
        .group_by("buyer_id")
        .agg(
            nw.col("_first").min(),
            nw.col("_n_cal").sum(),
            nw.col("_last_cal").max(),
            nw.col("_repeat_spend").sum(),
            nw.col("_n_hold").sum(),
            nw.col("_rows").sum(),
        )
    )
    got = engine.collect(per_buyer, "orders:clv_buyers")
    got = got.sort_values("buyer_id", kind="mergesort").reset_index(drop=True)

    n_valid = rows_in - n_unpaid - n_no_buyer - n_no_amount
    rows_kept = int(got["_rows"].sum()) if len(got) else 0
    if n_valid - rows_kept:
        excluded.append(
            Exclusion(
                "orders",
                "after_observation_end",
                n_valid - rows_kept,
                f"paid after {_iso(obs_day)}",
            )
        )
    cohort = got["_first"].to_numpy() <= cal_day
    late_rows = int(got.loc[~cohort, "_rows"].sum())
    if late_rows:
        excluded.append(
            Exclusion(
                "orders",
                "first_purchase_after_calibration",
                late_rows,
                f"{int((~cohort).sum())} buyers whose first purchase is after {_iso(cal_day)}",
            )
        )
    got = got.loc[cohort].reset_index(drop=True)
    first_day = got["_first"].to_numpy(dtype=float)
    n_cal = got["_n_cal"].to_numpy(dtype="int64")
    frequency = n_cal - 1
    repeat_spend = got["_repeat_spend"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    summary = pd.DataFrame(
        {
            "buyer_id": got["buyer_id"].to_numpy(),
            "frequency": frequency,
            "recency": (got["_last_cal"].to_numpy(dtype=float) - first_day) / unit,
            "T": (cal_day - first_day) / unit,
            "monetary_value": monetary,
            "holdout_purchases": got["_n_hold"].to_numpy(dtype="int64"),
        }
    )
    merged = rows_kept - late_rows - int(n_cal.sum() + summary["holdout_purchases"].sum())
    notes = [
        (
            "paid orders only, timed by paid_at"
            if paid_col == "paid_at"
            else "no paid_at column: every order counts as paid, timed by created_at"
        ),
        (
            f"one purchase per buyer and day: {merged} same-day rows merged into other rows "
            "of their day (amounts summed)"
        ),
        f"time in {UNIT_NAMES[freq]}s of {unit:g} days, elapsed (not calendar periods)",
        f"calibration: first purchases up to {_iso(cal_day)} (inclusive)",
    ]
    if table.tz_note:
        notes.append(table.tz_note)
    return _Summary(
        summary,
        rows_in,
        tuple(excluded),
        tuple(notes),
        _iso(cal_day),
        _iso(obs_day),
        (obs_day - cal_day) / unit,
    )


def _history(summary: pd.DataFrame) -> tuple[Array, Array, Array]:
    return (
        summary["frequency"].to_numpy(dtype=float),
        summary["recency"].to_numpy(dtype=float),
        summary["T"].to_numpy(dtype=float),
    )


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


# ---------------------------------------------------------------- fitting


def _unfitted(model: str, n: int, why: str) -> ModelFit:
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


def _fit_transactions(model: str, x: Array, tx: Array, big_t: Array) -> ModelFit:
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


def _fit_spend(summary: pd.DataFrame, min_sample: int) -> tuple[ModelFit, list[Flag]]:
    from scipy import stats  # noqa: PLC0415

    flags: list[Flag] = []
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    repeat = x > 0
    usable = repeat & (m > 0) & np.isfinite(m)
    bad = int((repeat & ~usable).sum())
    if bad:
        flags.append(
            Flag(
                "nonpositive_repeat_spend",
                "warning",
                f"gamma_gamma: {bad} repeat buyers have a mean repeat spend of 0 or less and "
                "are left out of the spend model (it needs positive amounts); their "
                "expected_spend still uses the fitted model.",
                table="orders",
                column="amount",
                n_rows=bad,
            )
        )
    xs, ms = x[usable], m[usable]
    n = len(xs)
    if n < 2 or np.ptp(ms) == 0:
        flags.append(
            Flag(
                "too_few_repeat_buyers",
                "error",
                f"gamma_gamma: {n} repeat buyers with a positive spend, too few (or all alike) "
                "to fit the spend model, so expected_spend and clv are NaN. Use a longer "
                "calibration period.",
                table="orders",
                evidence={"repeat_buyers": n},
            )
        )
        return _unfitted("gamma_gamma", n, "too few repeat buyers"), flags
    if n >= 3 and (np.ptp(xs) == 0 or np.ptp(ms) == 0):
        flags.append(
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
        )
    elif n >= 3:
        corr = stats.pearsonr(xs, ms)
        r, pvalue = float(corr.statistic), float(corr.pvalue)
        concerning = abs(r) >= CORRELATION_WARN and pvalue < 0.05
        flags.append(
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
        )
    scale = float(np.mean(ms))
    ms_scaled = ms / scale

    def loglik_scaled(theta: Array) -> float:
        return float(gamma_gamma_loglik(theta, xs, ms_scaled).sum())

    fit = _maximize("gamma_gamma", loglik_scaled, (1.0, 2.0, 1.0), n)
    if not fit.fitted:
        return fit, flags
    # v is in units of spend: undo the scaling (p, q and the standard errors' ratios keep)
    params = dict(fit.params)
    ses = dict(fit.standard_errors)
    params["v"] *= scale
    ses["v"] *= scale
    ll = float(gamma_gamma_loglik((params["p"], params["q"], params["v"]), xs, ms).sum())
    if params["q"] <= 1:
        flags.append(
            Flag(
                "spend_mean_undefined",
                "warning",
                f"gamma_gamma: q = {params['q']:.3g} <= 1, so the population mean spend "
                "per purchase is infinite: expected_spend and clv are NaN for buyers without "
                "repeat purchases and heavily driven by outliers for the others. Check for "
                "extreme order amounts.",
                table="orders",
                column="amount",
                evidence={"q": params["q"]},
            )
        )
    return dataclasses.replace(fit, params=params, standard_errors=ses, log_likelihood=ll), flags


def _fit_flags(fit: ModelFit) -> list[Flag]:
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


def _definition(fits: Mapping[str, ModelFit]) -> str:
    names = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}
    return " + ".join(names[m] for m in fits) + "; paid orders, one purchase per buyer-day"


# ---------------------------------------------------------------- predictions


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


def _param_tuple(fit: ModelFit) -> tuple[float, ...]:
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


def _p_alive(fit: ModelFit, x: Array, tx: Array, big_t: Array) -> Array:
    if not fit.fitted or len(x) == 0:
        return np.full(len(x), math.nan)
    fn = bgnbd_p_alive if fit.model == "bgnbd" else pnbd_p_alive
    ux, utx, ut, inverse = _unique_histories(x, tx, big_t)
    return np.asarray(fn(_param_tuple(fit), ux, utx, ut)[inverse], dtype=float)


def _expected(fit: ModelFit, t: float | Array, x: Array, tx: Array, big_t: Array) -> Array:
    """Expected purchases in ``(T, T + t]`` per buyer; ``t`` a scalar or a column of times."""
    t_col = np.reshape(np.asarray(t, dtype=float), (-1, 1))
    if not fit.fitted or len(x) == 0:
        out = np.full((t_col.shape[0], len(x)), math.nan)
    else:
        fn = bgnbd_expected if fit.model == "bgnbd" else pnbd_expected
        ux, utx, ut, inverse = _unique_histories(x, tx, big_t)
        out = fn(_param_tuple(fit), t_col, ux[None, :], utx[None, :], ut[None, :])[:, inverse]
    return np.asarray(out[0] if np.ndim(t) == 0 else out, dtype=float)


def _gg_mean(fit: ModelFit, x: Array, m: Array) -> Array:
    if not fit.fitted:
        return np.full(len(x), math.nan)
    return gamma_gamma_mean(_param_tuple(fit), x, m)


def _discounted_purchases(
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
    cum = _expected(fit, grid, x, tx, big_t)
    cum[0] = 0.0
    per_period = np.diff(cum, axis=0)
    factor = (1 + discount_rate) ** (-(ends * unit_days / DAYS_PER_YEAR))
    return cum[-1], factor @ per_period


def _holdout_flags(
    holdout: pd.DataFrame, model: str, data: _Summary, meta: dict[str, Any], min_sample: int
) -> list[Flag]:
    actual = float(holdout["actual_total"].sum())
    predicted = float(holdout["predicted_total"].sum())
    meta["holdout_actual"] = actual
    meta["holdout_predicted"] = predicted
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
            f"the holdout (after {data.calibration_end} to {data.observation_end}) and "
            f"{happened}; its forecasts of purchases and value are off by about as much. "
            "Check for seasonality, promotions or a change in the store between the periods.",
            table="orders",
            evidence={"predicted": predicted, "actual": actual, "rel_gap": gap},
        )
    ]


def _holdout_table(fit: ModelFit, summary: pd.DataFrame, length: float) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    x, tx, big_t = _history(summary)

    predicted = _expected(fit, length, x, tx, big_t)
    actual = summary["holdout_purchases"].to_numpy(dtype=float)
    bucket = np.minimum(x, HOLDOUT_BUCKETS).astype(int)
    rows = []
    for k in range(HOLDOUT_BUCKETS + 1):
        sel = bucket == k
        n = int(sel.sum())
        rows.append(
            {
                "frequency": f"{k}+" if k == HOLDOUT_BUCKETS else str(k),
                "buyers": n,
                "actual_mean": float(actual[sel].mean()) if n else math.nan,
                "predicted_mean": float(predicted[sel].mean()) if n else math.nan,
                "actual_total": float(actual[sel].sum()),
                "predicted_total": float(predicted[sel].sum()),
            }
        )
    return pd.DataFrame(rows)
