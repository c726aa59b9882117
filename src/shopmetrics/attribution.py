"""Multi-touch attribution: which traffic sources get the credit for the orders.

An order (a *conversion*) is preceded by the buyer's touches: visits and clicks, each
from a channel (``events.source`` by default). An attribution model splits each
conversion, and its value, over the touches of its journey:

========================  ==============================================================
model                     credit of the touches of one journey of ``n`` touches
========================  ==============================================================
``last_click`` (default)  the last touch gets 100%
``first_click``           the first touch gets 100%
``linear``                ``1 / n`` each
``time_decay``            ``2^(-age / half_life)``, normalised to sum to 1 per journey;
                          ``age`` is the time from the touch to the conversion
``position_based``        40% first, 40% last, 20% split evenly over the middle touches
                          (weights tunable); one touch gets 100%, two get 50% / 50%
``markov``                channel removal effects of a Markov chain fitted to converting
                          and non-converting journeys (Anderl et al. 2016)
========================  ==============================================================

Whatever the model, the credits of a conversion sum to one, so the attributed
conversions (and values) of the channels always add up to the conversions (and value)
of the attributed orders.

Two inputs are accepted. A **paths table** in the format attribution tools exchange
(one row per distinct journey, ``path`` like ``"search > display > search"``,
``conversions``, optional ``value`` (total value of those conversions), ``nulls`` (journeys
on the path that did not convert) and ``days_before`` (``"6 > 2 > 0"``: the age in days of
each touch at conversion, needed by ``time_decay`` only)). Or **events + orders**: the
journeys are built in the engine (see :func:`attribute`) and only the in-window touches
of converting orders come back to Python.

Where the parts live: the journeys are built in :mod:`shopmetrics.engine.journeys`, the
heuristic rules are :mod:`shopmetrics.models.heuristics`, the Markov chain and its removal
effects :mod:`shopmetrics.models.markov`, the flags :mod:`shopmetrics.flags.journeys`; this
module checks the arguments, applies the models and builds the results.

Examples:
    >>> import pandas as pd
    >>> import shopmetrics as sm
    >>> paths = pd.DataFrame({
    ...     "path": ["search > display", "display", "search > display > search"],
    ...     "conversions": [2, 1, 1],
    ...     "value": [200.0, 50.0, 80.0],
    ... })
    >>> sm.attribute(paths, model="linear").to_pandas()[["channel", "conversions", "value"]]
       channel  conversions       value
    0  display     2.333333  176.666667
    1   search     1.666667  153.333333
    >>> sm.compare_attribution(paths, models=["first_click", "last_click"]).to_pandas()
       channel  first_click  last_click
    0   search          3.0         1.0
    1  display          1.0         3.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics import engine
from shopmetrics.engine import Table
from shopmetrics.engine.journeys import Journeys, journeys_from_paths, journeys_from_tables
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags.finding import sort_flags
from shopmetrics.flags.journeys import journey_flags
from shopmetrics.models.heuristics import HEURISTICS, check_weights, credits
from shopmetrics.models.markov import START, Chain, State, removal_effects
from shopmetrics.results import Result

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "HEURISTICS",
    "MODELS",
    "START",
    "AttributionComparison",
    "AttributionResult",
    "Chain",
    "Journeys",
    "State",
    "attribute",
    "attribute_orders",
    "attribute_tables",
    "compare_attribution",
    "credits",
    "removal_effects",
]

MODELS: tuple[str, ...] = (*HEURISTICS, "markov")
"""The attribution models, by name: the heuristic rules of
:mod:`shopmetrics.models.heuristics`, then the Markov chain of :mod:`shopmetrics.models.markov`."""


# ---------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, repr=False)
class AttributionResult(Result):
    """Attributed conversions and value per channel under one model.

    Columns: ``channel``; ``conversions`` (attributed, fractional) and ``share`` (of all
    attributed conversions); when values are known ``value`` and ``value_share``; for the
    Markov model ``removal_effect`` (the relative drop in conversion probability when the
    channel is removed from the chain). Rows are sorted by conversions, largest first.

    ``meta`` holds the model and its parameters, the totals (``total_conversions``,
    ``total_value``) the columns add up to, and for events + orders the orders left out
    (``orders_without_touch``, ``value_without_touch``).

    Attributes:
        journeys: The journeys the figures were computed from (kept so that
            :meth:`compare` can rerun other models without touching the engine again).
    """

    journeys: Journeys | None = dataclasses.field(default=None, compare=False)

    kind = "attribution"

    @property
    def model(self) -> str:
        """The model applied."""
        return str(self.meta.get("model", ""))

    def compare(
        self, models: Sequence[str] | None = None, what: str = "conversions"
    ) -> AttributionComparison:
        """The same journeys under several models, side by side.

        Args:
            models: Model names (default: every model the journeys allow; ``time_decay``
                needs touch ages, which a paths table without ``days_before`` lacks).
            what: ``"conversions"``, ``"value"`` or ``"share"``.

        Returns:
            An :class:`AttributionComparison` with one column per model.
        """
        if self.journeys is None:
            msg = "this result holds no journeys to compare; call sm.compare_attribution(...)"
            raise ShopmetricsError(msg)
        params = _Params(
            window_days=float(self.meta["window_days"]),
            half_life_days=float(self.meta["half_life_days"]),
            weights=check_weights(self.meta["weights"]),
            order=int(self.meta["order"]),
        )
        return _compare(self.journeys, models, what, params)

    def order_credits(self) -> pd.DataFrame:
        """One row per attributed order and channel it credits: ``order_id``, ``buyer_id``,
        ``channel``, ``credit`` (the order's share given to the channel; an order's credits
        sum to 1) and ``value`` (the order's value).

        Bounded by orders, not events: at most one row per order and channel of its
        journey (for ``markov``, per order and channel of the chain, each with the
        channel's share of all conversions: the removal effects are one figure for all
        journeys). Empty without journeys built from events + orders.
        """
        import pandas as pd  # noqa: PLC0415 - pandas is heavy

        j = self.journeys
        cols = ["order_id", "buyer_id", "channel", "credit", "value"]
        if j is None or j.order_ids is None or j.buyers is None or not len(j.touches):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        names, codes = j.channel_codes()
        values = j.amounts if j.amounts is not None else np.zeros(len(j.conversions))
        if self.model == "markov":
            share = self.table.set_index("channel")["share"].reindex(names).fillna(0.0)
            jid = np.repeat(np.arange(len(j.conversions)), len(names))
            code = np.tile(np.arange(len(names)), len(j.conversions))
            credit = np.tile(share.to_numpy(np.float64), len(j.conversions))
        else:
            params = _Params(
                float(self.meta["window_days"]),
                float(self.meta["half_life_days"]),
                check_weights(self.meta["weights"]),
                int(self.meta["order"]),
            )
            cr = credits(j.touches, self.model, params.half_life_days, params.weights)
            cell = j.touches["journey"].to_numpy(np.int64) * len(names) + codes
            cells, inverse = np.unique(cell, return_inverse=True)
            credit = np.bincount(inverse.ravel(), weights=cr)
            jid, code = cells // len(names), cells % len(names)
        return pd.DataFrame(
            {
                "order_id": j.order_ids[jid],
                "buyer_id": j.buyers[jid],
                "channel": np.asarray(names, dtype=object)[code],
                "credit": credit,
                "value": values[jid],
            }
        )

    def buyer_value_sq(self) -> dict[str, float]:
        """Per channel, the sum over buyers of the square of the value credited to each
        buyer: the ``Σy²`` of a per-buyer aggregate, for intervals of attributed value (the
        ROAS interval of :func:`shopmetrics.traffic.traffic_sources`).

        A buyer's credited value for a channel is the sum over their orders of each order's
        value times the channel's credit in its journey. For ``markov`` the channel's share
        of all value is applied to every buyer (the share taken as fixed). Empty without
        journeys built from events + orders (a paths table has no buyers) or values.
        """
        j = self.journeys
        if j is None or j.buyers is None or j.amounts is None or not len(j.touches):
            return {}
        names, codes = j.channel_codes()
        jid = j.touches["journey"].to_numpy(np.int64)
        _, buyer = np.unique(j.buyers.astype(str), return_inverse=True)
        if self.model == "markov":
            per_buyer = np.bincount(buyer, weights=j.amounts)
            value = self.table.set_index("channel")["value"]
            share = value.reindex(names).fillna(0.0).to_numpy(np.float64) / j.total_value
            return dict(zip(names, (share**2 * float((per_buyer**2).sum())).tolist(), strict=True))
        params = _Params(
            float(self.meta["window_days"]),
            float(self.meta["half_life_days"]),
            check_weights(self.meta["weights"]),
            int(self.meta["order"]),
        )
        cr = credits(j.touches, self.model, params.half_life_days, params.weights)
        cell = buyer[jid] * len(names) + codes
        cells, inverse = np.unique(cell, return_inverse=True)
        per_cell = np.bincount(inverse, weights=cr * j.amounts[jid])
        sq = np.bincount(cells % len(names), weights=per_cell**2, minlength=len(names))
        return dict(zip(names, sq.tolist(), strict=True))


@dataclasses.dataclass(frozen=True, repr=False)
class AttributionComparison(Result):
    """Attributed conversions (or value, or share) per channel, one column per model.

    Columns: ``channel`` then one column per model, named after it. The flags and audit
    are those of the journeys compared; ``meta["what"]`` says which figure is shown.
    """

    kind = "attribution_comparison"


# ---------------------------------------------------------------- public functions


@engine.records_collects
def attribute(
    paths: Any = None,
    events: Any = None,
    orders: Any = None,
    *,
    model: str = "last_click",
    window_days: float = 7,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
    channel: str = "source",
    columns: Mapping[str, str] | None = None,
    order: int = 1,
    touch_events: Sequence[str] = ("visit", "click"),
    touch: str = "auto",
    sep: str = ">",
    tz: str | None = None,
) -> AttributionResult:
    """Attribute conversions and their value to channels.

    Give either ``paths`` or both ``events`` and ``orders``.

    **From events + orders** every order is one conversion worth the sum of its lines' ``amount``.
    Its journey is the buyer's touches (``events`` rows with ``event`` in ``touch_events``,
    ``visitor_id == orders.buyer_id``) with ``created_at - window_days <= ts <= created_at`` *and*
    after the buyer's previous order (``ts >`` the latest ``created_at`` of that buyer's orders
    placed strictly before this one), so a touch is credited to the first order after it only — the
    usual "touches since the last conversion, within the window" rule. Orders placed at the same
    instant share their touches. A touch is one session and channel (at the session's first visit or
    click) when ``events`` has a ``session_id`` column, otherwise one event (``touch``); identical
    touches (same visitor, instant and channel) count once. Touches are put in time order by
    ``(ts, channel)``, never by row order. Orders without a touch in their window are not
    attributed: they are counted in the ``attribution_window`` flag, the audit (reason
    ``"no touch in window"``) and ``meta`` (count and value).

    For ``markov`` the non-converting journeys (the chain's ``null`` ends) are each
    visitor's touches after their last order (all their touches if they never ordered)
    within ``window_days`` before their last such touch.

    What is collected from the engine: order and event counts for the audit (one row each); the
    in-window touches of converting orders (one row per touch: order id, time, channel, order time
    and value); the orders without a touch (one row of totals, and five examples); for ``markov``
    the transition counts of the non-converting journeys (one row per distinct ``(order + 1)``-gram
    of channels), aggregated in the engine.

    Args:
        paths: A paths table (``path``, ``conversions``, optional ``value``, ``nulls``,
            ``days_before``) in any supported engine.
        events: Events table (``ts``, ``visitor_id``, ``event`` and the ``channel`` column).
        orders: Orders table (``order_id``, ``buyer_id``, ``created_at``, ``amount``), one
            row per order line.
        model: One of :data:`MODELS`.
        window_days: Look-back window from each order, in days (fractions allowed).
        half_life_days: Half-life of ``time_decay``: a touch ``half_life_days`` older
            than another gets half its weight.
        weights: ``position_based`` weights ``(first, middle, last)``, summing to 1. With two
            touches the first gets ``first / (first + last)``.
        channel: The events column naming the channel (``"source"``, ``"campaign"``, ...).
        columns: ``{their_name: canonical_name}`` applied to every table.
        order: Markov chain order: states are the last ``order`` channels (1 = first
            order). Removing a channel removes every state containing it.
        touch_events: Event types that count as touches.
        touch: ``"auto"`` (sessions when ``events`` has ``session_id``, else events),
            ``"session"`` or ``"event"``.
        sep: Separator of channels in ``path`` (and ``days_before``).
        tz: The store's time zone (default from config).

    Returns:
        An :class:`AttributionResult`, one row per channel.

    Raises:
        DefinitionError: Unknown model or invalid parameter.
        SchemaError: Missing columns, or a paths table with malformed paths or negative counts.

    References:
        Markov removal effects: Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the
        customer journey: Lessons learned from graph-based online attribution modeling",
        International Journal of Research in Marketing 33(3), 457-474. Absorption probabilities
        ``B = (I - Q)^-1 R`` of an absorbing chain: Kemeny & Snell (1976), *Finite Markov Chains*,
        chapter 3 (absorbing chains). Position-based (40/20/40) and time-decay (7-day half-life)
        rules: the Google Ads / Google Analytics attribution model definitions.

    Examples:
        >>> import pandas as pd
        >>> import shopmetrics as sm
        >>> paths = pd.DataFrame({"path": ["C1 > C2 > C3", "C1", "C2 > C3"],
        ...                       "conversions": [1, 0, 0], "nulls": [0, 1, 1]})
        >>> res = sm.attribute(paths, model="markov")
        >>> res.to_pandas()[["channel", "conversions", "removal_effect"]]
          channel  conversions  removal_effect
        0      C2          0.4             1.0
        1      C3          0.4             1.0
        2      C1          0.2             0.5
        >>> round(res.meta["conversion_probability"], 4)
        0.3333
    """
    params = _params(window_days, half_life_days, weights, order, model=model)
    reading = _Reading(channel, columns, touch_events, touch, sep, tz)
    return _result(_journeys(paths, events, orders, params, reading), model, params)


@engine.records_collects
def compare_attribution(
    paths: Any = None,
    events: Any = None,
    orders: Any = None,
    *,
    models: Sequence[str] | None = None,
    what: str = "conversions",
    window_days: float = 7,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
    channel: str = "source",
    columns: Mapping[str, str] | None = None,
    order: int = 1,
    touch_events: Sequence[str] = ("visit", "click"),
    touch: str = "auto",
    sep: str = ">",
    tz: str | None = None,
) -> AttributionComparison:
    """Attributed conversions per channel under several models, side by side.

    The journeys are built once (see :func:`attribute` for how and for the arguments)
    and every model is applied to them.

    Args:
        paths: A paths table, as in :func:`attribute`.
        events: Events table, as in :func:`attribute`.
        orders: Orders table, as in :func:`attribute`.
        models: Model names (default: all of :data:`MODELS` the input allows; a paths
            table without ``days_before`` cannot give ``time_decay``).
        what: ``"conversions"``, ``"value"`` or ``"share"``.
        window_days: Look-back window in days.
        half_life_days: ``time_decay`` half-life in days.
        weights: ``position_based`` weights ``(first, middle, last)``.
        channel: The events column naming the channel.
        columns: ``{their_name: canonical_name}`` applied to every table.
        order: Markov chain order.
        touch_events: Event types that count as touches.
        touch: ``"auto"``, ``"session"`` or ``"event"``, as in :func:`attribute`.
        sep: Separator of channels in ``path``.
        tz: The store's time zone.

    Returns:
        An :class:`AttributionComparison`: ``channel`` then one column per model.

    Examples:
        >>> import pandas as pd
        >>> import shopmetrics as sm
        >>> paths = pd.DataFrame({"path": ["a > b", "b"], "conversions": [2, 1]})
        >>> sm.compare_attribution(paths, models=["first_click", "linear"]).to_pandas()
          channel  first_click  linear
        0       a          2.0     1.0
        1       b          1.0     2.0
    """
    params = _params(window_days, half_life_days, weights, order)
    reading = _Reading(channel, columns, touch_events, touch, sep, tz)
    return _compare(_journeys(paths, events, orders, params, reading), models, what, params)


def attribute_tables(
    events: Table,
    orders: Table,
    *,
    model: str = "last_click",
    window_days: float = 7,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
    channel: str = "source",
    order: int = 1,
    touch_events: Sequence[str] = ("visit", "click"),
    touch: str = "auto",
) -> AttributionResult:
    """:func:`attribute` on tables already behind the engine boundary (for metric modules).

    Metric modules that loaded ``events`` and ``orders`` with :func:`shopmetrics.engine.load`
    (and perhaps filtered ``orders`` to paid orders or a period — keep ``events`` whole so
    touches before the period still count) call this to get the result with its flags
    and audit.
    """
    params = _params(window_days, half_life_days, weights, order, model=model)
    journeys = journeys_from_tables(
        events,
        orders,
        window_days=params.window_days,
        channel=channel,
        touch_events=touch_events,
        touch=touch,
    )
    return _result(journeys, model, params)


def attribute_orders(
    events: Table,
    orders: Table,
    *,
    model: str = "last_click",
    window_days: float = 7,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
    channel: str = "source",
    order: int = 1,
    touch_events: Sequence[str] = ("visit", "click"),
    touch: str = "auto",
) -> pd.DataFrame:
    """Per-channel attributed ``conversions`` and ``value`` as a small pandas table.

    The table of :func:`attribute_tables` (columns ``channel``, ``conversions``, ``share``,
    ``value``, ``value_share``; ``removal_effect`` for Markov), for modules such as
    ``sm.traffic_sources`` that join it to spend.
    """
    return attribute_tables(
        events,
        orders,
        model=model,
        window_days=window_days,
        half_life_days=half_life_days,
        weights=weights,
        channel=channel,
        order=order,
        touch_events=touch_events,
        touch=touch,
    ).to_pandas()


# ---------------------------------------------------------------- parameters


@dataclasses.dataclass(frozen=True)
class _Params:
    """The models' parameters (checked by :func:`_params`)."""

    window_days: float
    half_life_days: float
    weights: tuple[float, float, float]
    order: int


@dataclasses.dataclass(frozen=True)
class _Reading:
    """How to read the input tables into journeys."""

    channel: str
    columns: Mapping[str, str] | None
    touch_events: Sequence[str]
    touch: str
    sep: str
    tz: str | None


def _params(
    window_days: float,
    half_life_days: float,
    weights: Sequence[float],
    order: int,
    *,
    model: str | None = None,
) -> _Params:
    """The checked model parameters (and ``model``, when given, checked to be a model)."""
    for name, v in (("window_days", window_days), ("half_life_days", half_life_days)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            msg = f"{name} must be a positive number of days, got {v!r}"
            raise DefinitionError(msg)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        msg = f"order must be an integer >= 1 (the Markov chain's memory), got {order!r}"
        raise DefinitionError(msg)
    params = _Params(float(window_days), float(half_life_days), check_weights(weights), order)
    if model is not None and model not in MODELS:
        raise DefinitionError.unknown("attribution model", model, MODELS)
    return params


# ---------------------------------------------------------------- building journeys


def _journeys(paths: Any, events: Any, orders: Any, params: _Params, reading: _Reading) -> Journeys:
    """The journeys of a paths table, or of events + orders (built in the engine)."""
    if paths is not None:
        if events is not None or orders is not None:
            msg = "give either paths or events + orders, not both"
            raise ShopmetricsError(msg)
        table = engine.load(paths, "paths", reading.columns, reading.tz)
        return journeys_from_paths(table, reading.sep)
    if events is None or orders is None:
        msg = (
            "attribution needs a paths table (paths=...) or both events=... and orders=... "
            "(the buyers' touches and their orders)"
        )
        raise ShopmetricsError(msg)
    ev = engine.load(events, "events", reading.columns, reading.tz)
    od = engine.load(orders, "orders", reading.columns, reading.tz)
    return journeys_from_tables(
        ev,
        od,
        window_days=params.window_days,
        channel=reading.channel,
        touch_events=reading.touch_events,
        touch=reading.touch,
    )


# ---------------------------------------------------------------- tables


@dataclasses.dataclass(frozen=True)
class _Credit:
    """Per-channel attributed figures of one model (channels sorted by name)."""

    channels: list[str]
    conversions: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64] | None
    removal_effect: npt.NDArray[np.float64] | None = None
    conversion_probability: float | None = None


def _attributed(journeys: Journeys, model: str, params: _Params) -> _Credit:
    """Per-channel attributed conversions and value under one model (numpy only)."""
    total_c = journeys.total_conversions
    has_value = journeys.amounts is not None
    if model == "markov":
        p, effects = removal_effects(journeys.chain(params.order))
        channels = sorted(effects)
        re = np.array([effects[c] for c in channels], dtype=np.float64)
        total_re = float(re.sum()) if len(re) else 0.0
        frac = re / total_re if total_re > 0 else np.zeros(len(re))
        markov_value = frac * journeys.total_value if has_value else None
        return _Credit(channels, frac * total_c, markov_value, re, p)
    if model == "time_decay" and not journeys.has_ages:
        msg = (
            "time_decay needs the age of each touch: add a 'days_before' column to the "
            "paths table ('6 > 2 > 0', days before the conversion) or use events + orders"
        )
        raise DefinitionError(msg)
    t = journeys.touches
    cr = credits(t, model, params.half_life_days, params.weights)
    jid = t["journey"].to_numpy(np.int64)
    names, codes = journeys.channel_codes()
    conv = np.bincount(codes, weights=cr * journeys.conversions[jid], minlength=len(names))
    value: npt.NDArray[np.float64] | None = None
    if journeys.amounts is not None:
        amounts = cr * journeys.amounts[jid]
        value = np.bincount(codes, weights=amounts, minlength=len(names)).astype(np.float64)
    return _Credit(names, conv.astype(np.float64), value)


def _apply(journeys: Journeys, model: str, params: _Params) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-channel table under one model, and extra meta (Markov conversion probability)."""
    import pandas as pd  # noqa: PLC0415

    c = _attributed(journeys, model, params)
    total_c = journeys.total_conversions
    total_v = journeys.total_value
    conv = c.conversions
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "channel": pd.Series(c.channels, dtype=object),
                "conversions": conv,
                "share": conv / total_c if total_c > 0 else np.full(len(conv), np.nan),
            }
        )
        if c.value is not None:
            table["value"] = c.value
            table["value_share"] = c.value / total_v if total_v > 0 else np.nan
    extra: dict[str, Any] = {}
    if c.removal_effect is not None:
        table["removal_effect"] = c.removal_effect
        extra["conversion_probability"] = c.conversion_probability
    table = table.sort_values(["conversions", "channel"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True), extra


def _definition(model: str, params: _Params, source: str) -> str:
    window = f", {params.window_days:g}-day window" if source == "events" else ""
    detail = {
        "last_click": "last touch gets the conversion",
        "first_click": "first touch gets the conversion",
        "linear": "equal credit to every touch",
        "time_decay": f"credit halves every {params.half_life_days:g} days before the conversion",
        "position_based": "first / middle / last = "
        + " / ".join(f"{w:.0%}" for w in params.weights),
        "markov": f"order-{params.order} Markov chain removal effects",
    }[model]
    return f"{model} ({detail}{window})"


def _meta(journeys: Journeys, model: str, params: _Params) -> dict[str, Any]:
    return {
        "model": model,
        "window_days": params.window_days,
        "half_life_days": params.half_life_days,
        "weights": list(params.weights),
        "order": params.order,
        "total_conversions": journeys.total_conversions,
        "total_value": journeys.total_value,
        "journeys": len(journeys.conversions),
        **journeys.meta,
    }


def _result(journeys: Journeys, model: str, params: _Params) -> AttributionResult:
    table, extra = _apply(journeys, model, params)
    meta = _meta(journeys, model, params)
    meta.update(extra)
    return AttributionResult(
        table=table,
        flags=sort_flags(journey_flags(journeys, [model], params.order)),
        audit=journeys.audit,
        definition=_definition(model, params, journeys.source),
        meta=meta,
        journeys=journeys,
    )


def _compare(
    journeys: Journeys, models: Sequence[str] | None, what: str, params: _Params
) -> AttributionComparison:
    import pandas as pd  # noqa: PLC0415

    whats = ("conversions", "value", "share")
    if what not in whats:
        raise DefinitionError.unknown("comparison figure", what, whats)
    if what == "value" and journeys.amounts is None:
        msg = "what='value' needs values: add a 'value' column to the paths table"
        raise DefinitionError(msg)
    if models is None:
        models = [m for m in MODELS if m != "time_decay" or journeys.has_ages]
    models = list(dict.fromkeys(models))
    for m in models:
        if m not in MODELS:
            raise DefinitionError.unknown("attribution model", m, MODELS)
    extra: dict[str, Any] = {}
    columns: dict[str, dict[str, float]] = {}
    total_c = journeys.total_conversions
    for m in models:
        c = _attributed(journeys, m, params)
        if c.conversion_probability is not None:
            extra["conversion_probability"] = c.conversion_probability
        if what == "value" and c.value is not None:
            figures = c.value
        elif what == "share":
            figures = c.conversions / total_c if total_c > 0 else np.full(len(c.channels), np.nan)
        else:
            figures = c.conversions
        columns[m] = dict(zip(c.channels, figures.tolist(), strict=True))
    channels = sorted({ch for col in columns.values() for ch in col})
    table = pd.DataFrame({"channel": pd.Series(channels, dtype=object)})
    for m in models:
        fill = math.nan if what == "share" and not total_c > 0 else 0.0
        table[m] = np.array([columns[m].get(ch, fill) for ch in channels], dtype=np.float64)
    if models:
        table = table.sort_values([models[0], "channel"], ascending=[False, True], kind="stable")
    meta = _meta(journeys, models[0] if len(models) == 1 else "compare", params)
    meta.update(extra, models=models, what=what)
    return AttributionComparison(
        table=table.reset_index(drop=True),
        flags=sort_flags(journey_flags(journeys, models, params.order)),
        audit=journeys.audit,
        definition=f"{what} by channel under " + ", ".join(models),
        meta=meta,
    )
