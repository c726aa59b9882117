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

Where the code is: :mod:`shopmetrics.engine.buyers` builds the summary in the engine,
:mod:`shopmetrics.models.buy_till_you_die` holds the likelihoods, the expectations and the
fitting (numpy in, estimates out), :mod:`shopmetrics.flags.customers` the flags; this
module checks the options, runs those steps and holds the result, :class:`CustomerValue`.

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
import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.display import is_missing, plain
from shopmetrics.engine import deps, records_collects
from shopmetrics.engine.buyers import SUMMARY_COLUMNS, UNIT_DAYS, UNIT_NAMES, Summary, summarize
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags import customers as detect
from shopmetrics.flags.customers import CORRELATION_WARN, HOLDOUT_TOLERANCE
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.models.buy_till_you_die import (
    DAYS_PER_YEAR,
    HESSIAN_RTOL,
    MODELS,
    Array,
    ModelFit,
    Params,
    bgnbd_expected,
    bgnbd_loglik,
    bgnbd_p_alive,
    discounted_purchases,
    expected_purchases,
    expected_spend,
    fit_gamma_gamma,
    fit_transactions,
    gamma_gamma_fittable,
    gamma_gamma_loglik,
    gamma_gamma_mean,
    p_alive,
    pnbd_expected,
    pnbd_loglik,
    pnbd_p_alive,
    spend_sample,
    unfitted,
)
from shopmetrics.results import Audit, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CORRELATION_WARN",
    "DAYS_PER_YEAR",
    "DEFAULT_HORIZON",
    "HESSIAN_RTOL",
    "HOLDOUT_BUCKETS",
    "HOLDOUT_TOLERANCE",
    "MODELS",
    "SPEND_MODELS",
    "SUMMARY_COLUMNS",
    "TRANSACTION_MODELS",
    "UNIT_DAYS",
    "UNIT_NAMES",
    "Array",
    "CustomerValue",
    "ModelFit",
    "Params",
    "bgnbd_expected",
    "bgnbd_loglik",
    "bgnbd_p_alive",
    "buyer_summary",
    "customer_value",
    "gamma_gamma_loglik",
    "gamma_gamma_mean",
    "pnbd_expected",
    "pnbd_loglik",
    "pnbd_p_alive",
]

logger = logging.getLogger(__name__)

TRANSACTION_MODELS = ("bgnbd", "pareto_nbd")
SPEND_MODELS = ("gamma_gamma",)

DEFAULT_HORIZON: dict[str, int] = {"D": 365, "W": 52, "M": 12}
"""Default prediction horizon (about one year) in units of ``freq``."""

HOLDOUT_BUCKETS = 7
"""Calibration frequencies 0 .. 6 get their own holdout row; 7 and more share one (``7+``)."""


# ---------------------------------------------------------------- results


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
        out["p_alive"] = p_alive(fit, x, tx, big_t)
        out["expected_purchases"] = expected_purchases(fit, float(t), x, tx, big_t)
        if "gamma_gamma" in self.fits:
            out["expected_spend"] = expected_spend(
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
        spend = expected_spend(
            self.fits["gamma_gamma"], x, self.table["monetary_value"].to_numpy(float)
        )
        purchases, value = discounted_purchases(
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

    def display_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The fitted parameters (estimate, standard error, interval), the holdout check
        when there is one, then the per-buyer table: what the Markdown / HTML views show."""
        frame = self.params_frame()

        def digits(v: Any) -> str:  # parameters span many orders of magnitude
            return "" if is_missing(v) else f"{float(v):.4g}"

        params = frame[["model", "param"]].assign(
            estimate=frame["estimate"].map(digits),
            se=frame["se"].map(digits),
            estimate_interval=[
                f"{digits(lo)} – {digits(hi)}" if digits(lo) and digits(hi) else ""
                for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
            ],
        )
        out: list[tuple[str, pd.DataFrame]] = [("params", params)]
        if self.holdout is not None:
            out.append(("holdout", self.holdout))
        return [*out, *Result.display_tables(self)]

    def __repr__(self) -> str:
        est = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{Result.__repr__(self)}\nparams: {est}"


# ---------------------------------------------------------------- public entry points


@records_collects
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
    models = tuple(models)
    model = _transaction_model(freq, models)
    horizon = DEFAULT_HORIZON[freq] if horizon is None else horizon
    data = summarize(orders, calibration_end, observation_end, freq=freq, columns=columns, tz=tz)
    fits, flags = _fit_models(data, model, spend="gamma_gamma" in models, min_sample=cfg.min_sample)
    meta = _meta(data, fits, flags, freq, horizon, discount_rate, margin, cfg.confidence)
    table = _prediction_table(data.summary, fits, dict(meta), horizon, discount_rate, margin)
    holdout, holdout_flags = _holdout_check(fits[model], data, meta, cfg.min_sample)
    flags += detect.short_history(meta["history"], horizon, UNIT_NAMES[freq], data.calibration_end)
    notes = list(data.notes)
    if holdout is None:
        notes.append("no holdout period: nothing after calibration_end to check predictions on")
    else:
        table["holdout_purchases"] = data.summary["holdout_purchases"].to_numpy()
    flags += holdout_flags
    n, repeat = meta["buyers"], meta["repeat_buyers"]
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
    data = summarize(orders, calibration_end, calibration_end, freq=freq, columns=columns, tz=tz)
    return data.summary[list(SUMMARY_COLUMNS)].copy()


# ---------------------------------------------------------------- the steps of customer_value


def _transaction_model(freq: str, models: tuple[str, ...]) -> str:
    """The one transaction model among ``models``, after checking ``freq`` and the names."""
    if freq not in UNIT_DAYS:
        raise DefinitionError.unknown("freq", freq, UNIT_DAYS)
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
    return trans[0]


def _history(summary: pd.DataFrame) -> tuple[Array, Array, Array]:
    """``(x, t_x, T)`` of every buyer: frequency, recency and age."""
    return (
        summary["frequency"].to_numpy(dtype=float),
        summary["recency"].to_numpy(dtype=float),
        summary["T"].to_numpy(dtype=float),
    )


def _fit_models(
    data: Summary, model: str, *, spend: bool, min_sample: int
) -> tuple[dict[str, ModelFit], list[Flag]]:
    """Fit the transaction model (and the spend model), with the flags on the fits."""
    x, tx, big_t = _history(data.summary)
    n = len(x)
    repeat = int((x > 0).sum())
    flags: list[Flag] = []
    fits: dict[str, ModelFit] = {}
    if n < 2 or repeat == 0:
        fits[model] = unfitted(model, n, "no repeat buyers" if n >= 2 else "fewer than 2 buyers")
        flags.append(detect.too_few_repeat_buyers(model, n, repeat, data.calibration_end))
    else:
        fits[model] = fit_transactions(model, x, tx, big_t)
        flags += detect.few_repeat_buyers(model, n, repeat, data.calibration_end, min_sample)
    flags += detect.fit_flags(fits[model])
    if spend:
        gg, gg_flags = _fit_spend(data.summary)
        fits["gamma_gamma"] = gg
        flags += gg_flags
        flags += detect.fit_flags(gg)
    flags += detect.p_alive_one_time_buyers(fits[model], x)
    return fits, flags


def _fit_spend(summary: pd.DataFrame) -> tuple[ModelFit, list[Flag]]:
    """The Gamma-Gamma on the repeat buyers with a positive spend, and its flags."""
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    xs, ms, left_out = spend_sample(x, m)
    flags = detect.nonpositive_repeat_spend(left_out)
    if not gamma_gamma_fittable(ms):
        flags.append(detect.too_few_spend_buyers(len(xs)))
        return unfitted("gamma_gamma", len(xs), "too few repeat buyers"), flags
    flags += detect.spend_frequency_correlation(xs, ms)
    fit = fit_gamma_gamma(xs, ms)
    return fit, flags + detect.spend_mean_undefined(fit)


def _meta(
    data: Summary,
    fits: Mapping[str, ModelFit],
    flags: Sequence[Flag],
    freq: str,
    horizon: float,
    discount_rate: float,
    margin: float,
    confidence: float,
) -> dict[str, Any]:
    """The result's ``meta``: the call's parameters, the counts of buyers, the correlation.

    ``frequency_monetary_corr`` (from the ``spend_frequency_correlation`` flag) only when
    the spend model checked it.
    """
    x = data.summary["frequency"].to_numpy(dtype=float)
    meta: dict[str, Any] = {
        "freq": freq,
        "unit_days": UNIT_DAYS[freq],
        "calibration_end": data.calibration_end,
        "observation_end": data.observation_end,
        "holdout_length": data.holdout_length,
        "models": list(fits),
        "buyers": len(x),
        "repeat_buyers": int((x > 0).sum()),
        "horizon": float(horizon),
        # units from the first purchase to calibration_end: what the fit has seen
        "history": float(np.max(data.summary["T"])) if len(x) else 0.0,
        "discount_rate": float(discount_rate),
        "margin": float(margin),
        "confidence": confidence,
    }
    for f in flags:
        if "frequency_monetary_corr" in f.evidence:
            meta["frequency_monetary_corr"] = f.evidence["frequency_monetary_corr"]
    return meta


def _prediction_table(
    summary: pd.DataFrame,
    fits: Mapping[str, ModelFit],
    meta: Mapping[str, Any],
    horizon: float,
    discount_rate: float,
    margin: float,
) -> pd.DataFrame:
    """The summary with P(alive), expected purchases and, with a spend model, value.

    Computed by :meth:`CustomerValue.predict` and :meth:`CustomerValue.clv` of a result
    over the bare summary, so the table and those methods agree.
    """
    cv = CustomerValue(table=summary, fits=fits, meta=meta)
    pred = cv.predict(float(horizon))
    table = cv.table[list(SUMMARY_COLUMNS)].copy()
    table["p_alive"] = pred["p_alive"].to_numpy()
    table["expected_purchases"] = pred["expected_purchases"].to_numpy()
    if "gamma_gamma" in cv.fits:
        value = cv.clv(horizon, discount_rate, margin)
        table["expected_spend"] = value["expected_spend"].to_numpy()
        table["clv"] = value["clv"].to_numpy()
    return table


def _definition(fits: Mapping[str, ModelFit]) -> str:
    names = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}
    return " + ".join(names[m] for m in fits) + "; paid orders, one purchase per buyer-day"


def _holdout_check(
    fit: ModelFit, data: Summary, meta: dict[str, Any], min_sample: int
) -> tuple[pd.DataFrame | None, list[Flag]]:
    """Predicted against actual holdout purchases, and the flag when they part.

    Records the totals in ``meta`` (``holdout_actual``, ``holdout_predicted``); ``(None,
    [])`` without a holdout period.
    """
    if not data.holdout_length > 0:
        return None, []
    holdout = _holdout_table(fit, data.summary, data.holdout_length)
    actual = float(holdout["actual_total"].sum())
    predicted = float(holdout["predicted_total"].sum())
    meta["holdout_actual"] = actual
    meta["holdout_predicted"] = predicted
    flags = detect.holdout_mismatch(
        actual,
        predicted,
        model=fit.model,
        period=(data.calibration_end, data.observation_end),
        min_sample=min_sample,
    )
    return holdout, flags


def _holdout_table(fit: ModelFit, summary: pd.DataFrame, length: float) -> pd.DataFrame:
    """Mean and total holdout purchases, actual and predicted, by calibration frequency."""
    import pandas as pd  # noqa: PLC0415

    x, tx, big_t = _history(summary)

    predicted = expected_purchases(fit, length, x, tx, big_t)
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
