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
import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.config import get_config
from shopmetrics.display import plain
from shopmetrics.engine import Table
from shopmetrics.errors import DefinitionError, SchemaError, ShopmetricsError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.results import Audit, Exclusion, Result

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "MODELS",
    "AttributionComparison",
    "AttributionResult",
    "attribute",
    "attribute_orders",
    "attribute_tables",
    "compare_attribution",
]

logger = logging.getLogger(__name__)

MODELS: tuple[str, ...] = (
    "last_click",
    "first_click",
    "linear",
    "time_decay",
    "position_based",
    "markov",
)
"""The attribution models, by name."""

HEURISTICS: tuple[str, ...] = MODELS[:5]

State = tuple[str, ...]
START: State = ()
"""The start state of the Markov chain (no channel seen yet)."""

# internal column names (prefixed so they never clash with a user's columns)
_VID, _TS, _CH = "_sm_visitor", "_sm_ts", "_sm_channel"
_OID, _BID, _CAT, _VAL, _LINES = "_sm_order", "_sm_buyer", "_sm_created", "_sm_value", "_sm_lines"
_PREV, _LAST, _END, _NEXT = "_sm_prev", "_sm_last_order", "_sm_end", "_sm_next"


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
            weights=_check_weights(self.meta["weights"]),
            order=int(self.meta["order"]),
        )
        return _compare(self.journeys, models, what, params)


@dataclasses.dataclass(frozen=True, repr=False)
class AttributionComparison(Result):
    """Attributed conversions (or value, or share) per channel, one column per model.

    Columns: ``channel`` then one column per model, named after it. The flags and audit
    are those of the journeys compared; ``meta["what"]`` says which figure is shown.
    """

    kind = "attribution_comparison"


# ---------------------------------------------------------------- journeys


@dataclasses.dataclass
class Chain:
    """Transition counts of a Markov chain over channel states.

    Attributes:
        transitions: ``{(from_state, to_state): count}``; ``from_state`` may be
            :data:`START`.
        conversions: ``{state: count}`` of journeys converting after ``state``.
        nulls: ``{state: count}`` of journeys ending without conversion after ``state``.
    """

    transitions: dict[tuple[State, State], float] = dataclasses.field(default_factory=dict)
    conversions: dict[State, float] = dataclasses.field(default_factory=dict)
    nulls: dict[State, float] = dataclasses.field(default_factory=dict)

    def add_path(self, path: Sequence[str], conversions: float, nulls: float, order: int) -> None:
        """Add ``conversions + nulls`` journeys along ``path`` (states are ``order``-tuples)."""
        weight = conversions + nulls
        if weight <= 0 or not path:
            return
        prev = START
        for j in range(len(path)):
            state = tuple(path[max(0, j - order + 1) : j + 1])
            _bump(self.transitions, (prev, state), weight)
            prev = state
        if conversions:
            _bump(self.conversions, prev, conversions)
        if nulls:
            _bump(self.nulls, prev, nulls)

    def merge(self, other: Chain) -> Chain:
        """The chain of both sets of journeys (counts add up)."""
        out = Chain(dict(self.transitions), dict(self.conversions), dict(self.nulls))
        for k, v in other.transitions.items():
            _bump(out.transitions, k, v)
        for s_, v in other.conversions.items():
            _bump(out.conversions, s_, v)
        for s_, v in other.nulls.items():
            _bump(out.nulls, s_, v)
        return out

    def states(self) -> list[State]:
        """Every non-start state, sorted."""
        seen = {s for pair in self.transitions for s in pair}
        seen.update(self.conversions, self.nulls)
        seen.discard(START)
        return sorted(seen)


def _bump(counts: dict[Any, float], key: Any, weight: float) -> None:
    counts[key] = counts.get(key, 0.0) + weight


class Journeys:
    """Converting journeys (one touch per row) and a source of non-converting ones.

    Built by :func:`attribute` from a paths table or from events + orders; reused by
    :meth:`AttributionResult.compare`. Not meant to be built by hand.

    Attributes:
        touches: One row per touch of a converting journey: ``journey`` (0..J-1),
            ``pos`` (0-based, in time order), ``n`` (touches in the journey), ``channel``,
            ``age_days`` (NaN when unknown). Sorted by ``journey``, ``pos``.
        conversions: Conversions per journey (1 per order from events + orders).
        amounts: Value per journey, or ``None`` when no value is known.
        source: ``"paths"`` or ``"events"``.
        flags, audit, notes: What was found and left out while building them.
    """

    def __init__(
        self,
        touches: pd.DataFrame,
        conversions: npt.NDArray[np.float64],
        amounts: npt.NDArray[np.float64] | None,
        source: str,
        null_chain: Callable[[int], Chain],
        *,
        has_ages: bool,
        flags: Sequence[Flag] = (),
        audit: Audit | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.touches = touches
        self.conversions = conversions
        self.amounts = amounts
        self.source = source
        self.has_ages = has_ages
        self.flags = tuple(flags)
        self.audit = audit or Audit()
        self.meta = dict(meta or {})
        self._null_chain = null_chain
        self._cache: dict[int, Chain] = {}
        self._codes: tuple[list[str], npt.NDArray[np.intp]] | None = None

    def channel_codes(self) -> tuple[list[str], npt.NDArray[np.intp]]:
        """Sorted channel names of the touches, and each touch's index into them."""
        if self._codes is None:
            names, codes = np.unique(self.touches["channel"].to_numpy(str), return_inverse=True)
            self._codes = [str(n) for n in names], np.asarray(codes, dtype=np.intp).ravel()
        return self._codes

    def __repr__(self) -> str:
        return (
            f"Journeys({len(self.conversions)} converting journeys, {len(self.touches)} touches, "
            f"source={self.source!r})"
        )

    @property
    def total_conversions(self) -> float:
        """Conversions of all attributed journeys."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        """Value of all attributed journeys (NaN when no value is known)."""
        return float(self.amounts.sum()) if self.amounts is not None else math.nan

    def paths(self) -> list[tuple[State, float, float]]:
        """Distinct converting paths as ``(channels, conversions, value)``, sorted."""
        if len(self.touches) == 0:
            return []
        seqs = self.touches.groupby("journey", sort=True)["channel"].agg(tuple)
        values = self.amounts if self.amounts is not None else np.zeros_like(self.conversions)
        conv: dict[State, float] = {}
        val: dict[State, float] = {}
        for jid, seq in seqs.items():
            key = tuple(str(c) for c in seq)
            conv[key] = conv.get(key, 0.0) + float(self.conversions[int(jid)])  # type: ignore[call-overload]
            val[key] = val.get(key, 0.0) + float(values[int(jid)])  # type: ignore[call-overload]
        return [(k, conv[k], val[k]) for k in sorted(conv)]

    def chain(self, order: int) -> Chain:
        """The Markov chain of order ``order``: converting journeys plus non-converting ones."""
        if order not in self._cache:
            conv = Chain()
            for path, n, _ in self.paths():
                conv.add_path(path, n, 0.0, order)
            self._cache[order] = conv.merge(self._null_chain(order))
        return self._cache[order]


@dataclasses.dataclass(frozen=True)
class _Params:
    window_days: float
    half_life_days: float
    weights: tuple[float, float, float]
    order: int


# ---------------------------------------------------------------- public functions


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

    **From events + orders** every order is one conversion worth the sum of its lines'
    ``amount``. Its journey is the buyer's touches (``events`` rows with ``event`` in
    ``touch_events``, ``visitor_id == orders.buyer_id``) with ``created_at - window_days
    <= ts <= created_at`` *and* after the buyer's previous order (``ts >`` the latest
    ``created_at`` of that buyer's orders placed strictly before this one), so a touch
    is credited to the first order after it only — the usual "touches since the last
    conversion, within the window" rule. Orders placed at the same instant share their
    touches. A touch is one session and channel (at the session's first visit or click)
    when ``events`` has a ``session_id`` column, otherwise one event (``touch``); identical
    touches (same visitor, instant and channel) count once. Touches are put in time
    order by ``(ts, channel)``, never by row order.
    Orders without a touch in their window are not attributed: they are counted in the
    ``attribution_window`` flag, the audit (reason ``"no touch in window"``) and
    ``meta`` (count and value).

    For ``markov`` the non-converting journeys (the chain's ``null`` ends) are each
    visitor's touches after their last order (all their touches if they never ordered)
    within ``window_days`` before their last such touch.

    What is collected from the engine: order and event counts for the audit (one row
    each); the in-window touches of converting orders (one row per touch: order id,
    time, channel, order time and value); the orders without a touch (one row of totals,
    and five examples); for ``markov`` the transition counts of the non-converting
    journeys (one row per distinct ``(order + 1)``-gram of channels), aggregated in the
    engine.

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
        SchemaError: Missing columns, or a paths table with malformed paths or negative
            counts.

    References:
        Markov removal effects: Anderl, Becker, von Wangenheim & Schumann (2016),
        "Mapping the customer journey: Lessons learned from graph-based online
        attribution modeling", International Journal of Research in Marketing 33(3),
        457-474. Absorption probabilities ``B = (I - Q)^-1 R`` of an absorbing chain:
        Kemeny & Snell (1976), *Finite Markov Chains*, chapter 3 (absorbing chains).
        Position-based (40/20/40) and time-decay (7-day half-life) rules: the Google Ads /
        Google Analytics attribution model definitions.

    Examples:
        >>> import pandas as pd
        >>> import shopmetrics as sm
        >>> paths = pd.DataFrame({
        ...     "path": ["C1 > C2 > C3", "C1", "C2 > C3"],
        ...     "conversions": [1, 0, 0],
        ...     "nulls": [0, 1, 1],
        ... })
        >>> res = sm.attribute(paths, model="markov")
        >>> res.to_pandas()[["channel", "conversions", "removal_effect"]]
          channel  conversions  removal_effect
        0      C2          0.4             1.0
        1      C3          0.4             1.0
        2      C1          0.2             0.5
        >>> round(res.meta["conversion_probability"], 4)
        0.3333
    """
    params = _params(window_days, half_life_days, weights, order)
    if model not in MODELS:
        raise DefinitionError.unknown("attribution model", model, MODELS)
    journeys = _journeys(
        paths,
        events,
        orders,
        params=params,
        channel=channel,
        columns=columns,
        touch_events=touch_events,
        touch=touch,
        sep=sep,
        tz=tz,
    )
    return _result(journeys, model, params)


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
    journeys = _journeys(
        paths,
        events,
        orders,
        params=params,
        channel=channel,
        columns=columns,
        touch_events=touch_events,
        touch=touch,
        sep=sep,
        tz=tz,
    )
    return _compare(journeys, models, what, params)


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
    params = _params(window_days, half_life_days, weights, order)
    if model not in MODELS:
        raise DefinitionError.unknown("attribution model", model, MODELS)
    journeys = _journeys_from_tables(
        events, orders, params, channel=channel, touch_events=touch_events, touch=touch
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


def _params(
    window_days: float, half_life_days: float, weights: Sequence[float], order: int
) -> _Params:
    for name, v in (("window_days", window_days), ("half_life_days", half_life_days)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            msg = f"{name} must be a positive number of days, got {v!r}"
            raise DefinitionError(msg)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        msg = f"order must be an integer >= 1 (the Markov chain's memory), got {order!r}"
        raise DefinitionError(msg)
    return _Params(float(window_days), float(half_life_days), _check_weights(weights), order)


def _check_weights(weights: Any) -> tuple[float, float, float]:
    try:
        w = tuple(float(x) for x in weights)
    except (TypeError, ValueError) as exc:
        msg = f"weights must be three numbers (first, middle, last), got {weights!r}"
        raise DefinitionError(msg) from exc
    if len(w) != 3 or any(not math.isfinite(x) or x < 0 for x in w) or abs(sum(w) - 1) > 1e-9:
        msg = (
            f"weights must be three non-negative numbers (first, middle, last) summing to 1, "
            f"got {weights!r}; e.g. (0.4, 0.2, 0.4)"
        )
        raise DefinitionError(msg)
    return w[0], w[1], w[2]


# ---------------------------------------------------------------- building journeys


def _journeys(
    paths: Any,
    events: Any,
    orders: Any,
    *,
    params: _Params,
    channel: str,
    columns: Mapping[str, str] | None,
    touch_events: Sequence[str],
    touch: str,
    sep: str,
    tz: str | None,
) -> Journeys:
    if paths is not None:
        if events is not None or orders is not None:
            msg = "give either paths or events + orders, not both"
            raise ShopmetricsError(msg)
        return _journeys_from_paths(engine.load(paths, "paths", columns, tz), sep)
    if events is None or orders is None:
        msg = (
            "attribution needs a paths table (paths=...) or both events=... and orders=... "
            "(the buyers' touches and their orders)"
        )
        raise ShopmetricsError(msg)
    ev = engine.load(events, "events", columns, tz)
    od = engine.load(orders, "orders", columns, tz)
    return _journeys_from_tables(
        ev, od, params, channel=channel, touch_events=touch_events, touch=touch
    )


def _split(text: str, sep: str) -> list[str]:
    return [p.strip() for p in text.split(sep)]


def _journeys_from_paths(table: Table, sep: str) -> Journeys:
    """Journeys from a paths table (aggregated by path in the engine, then parsed)."""
    import pandas as pd  # noqa: PLC0415

    table.require("path", "conversions", purpose="attribution from a paths table")
    has_value = table.has("value")
    has_nulls = table.has("nulls")
    has_ages = table.has("days_before")
    keys = ["path", "days_before"] if has_ages else ["path"]
    aggs = [
        nw.len().alias("rows"),
        nw.col("conversions").sum().alias("conversions"),
        nw.col("_sm_null_counts").sum().alias("null_counts"),
    ]
    if has_value:
        aggs.append(nw.col("value").sum().alias("value"))
    if has_nulls:
        aggs.append(nw.col("nulls").sum().alias("nulls"))
    frame = _windowable(table.frame).with_columns(
        nw.col("path").cast(nw.String()),
        nw.col("conversions").is_null().cast(nw.Int64()).alias("_sm_null_counts"),
    )
    if has_ages:
        frame = frame.with_columns(nw.col("days_before").cast(nw.String()))
    agg = engine.collect(frame.group_by(keys).agg(*aggs), "attribution:paths")
    agg = agg.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    rows_in = int(agg["rows"].sum())
    conv = agg["conversions"].fillna(0).to_numpy(np.float64)
    value = agg["value"].fillna(0).to_numpy(np.float64) if has_value else None
    nulls = agg["nulls"].fillna(0).to_numpy(np.float64) if has_nulls else np.zeros(len(agg))
    for name, arr in (("conversions", conv), ("nulls", nulls)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            ex = agg.loc[bad, "path"].head(3).tolist()
            msg = f"paths: column {name!r} must be non-negative counts; bad on paths {ex}"
            raise SchemaError(msg)
    if value is not None:
        stray = (conv == 0) & (value != 0)
        if stray.any():
            ex = agg.loc[stray, "path"].head(3).tolist()
            msg = (
                "paths: 'value' is the total value of a path's conversions, but paths "
                f"{ex} have value and no conversions; move that value to converting rows"
            )
            raise SchemaError(msg)

    flags: list[Flag] = []
    excluded: list[Exclusion] = []
    notes: list[str] = []
    n_null_counts = int(agg["null_counts"].sum())
    if n_null_counts:
        notes.append(f"{n_null_counts} paths rows have no conversions count; taken as 0")
    empty = agg["path"].isna() | (agg["path"].fillna("").str.strip() == "")
    if empty.any():
        e_rows = int(agg.loc[empty, "rows"].sum())
        e_conv = float(conv[empty.to_numpy()].sum())
        excluded.append(Exclusion("paths", "empty path", e_rows, f"{e_conv:g} conversions"))
        if e_conv:
            flags.append(
                Flag(
                    "unattributed_conversions",
                    "warning",
                    f"paths: {e_rows} rows with an empty path hold {e_conv:g} conversions that no "
                    "channel can be credited with; they are left out of every model.",
                    table="paths",
                    column="path",
                    n_rows=e_rows,
                    evidence={"conversions": e_conv},
                )
            )

    touch_rows: list[tuple[int, int, int, str, float]] = []
    j_conv: list[float] = []
    j_val: list[float] = []
    null_paths: list[tuple[State, float]] = []
    path_col = agg["path"].tolist()
    ages_col = agg["days_before"].tolist() if has_ages else [None] * len(agg)
    for i in np.flatnonzero(~empty.to_numpy()):
        path = str(path_col[i])
        chans = _split(path, sep)
        if any(c == "" for c in chans):
            msg = (
                f"paths: path {path!r} has an empty channel between separators {sep!r}; "
                "fix the path or pass sep=..."
            )
            raise SchemaError(msg)
        ages = [math.nan] * len(chans)
        if has_ages and conv[i] > 0:
            ages = _parse_ages(ages_col[i], path, len(chans), sep)
        if nulls[i] > 0:
            null_paths.append((tuple(chans), float(nulls[i])))
        if conv[i] <= 0:
            continue
        jid = len(j_conv)
        j_conv.append(float(conv[i]))
        j_val.append(float(value[i]) if value is not None else 0.0)
        n = len(chans)
        touch_rows.extend(
            (jid, p, n, c, a) for p, (c, a) in enumerate(zip(chans, ages, strict=True))
        )
    touches = pd.DataFrame(touch_rows, columns=["journey", "pos", "n", "channel", "age_days"])
    touches = touches.astype(
        {
            "journey": "int64",
            "pos": "int64",
            "n": "int64",
            "channel": "object",
            "age_days": "float64",
        }
    )

    def null_chain(order: int) -> Chain:
        chain = Chain()
        for p, w in null_paths:
            chain.add_path(p, 0.0, w, order)
        return chain

    audit = Audit(rows_in={"paths": rows_in}, excluded=tuple(excluded), notes=tuple(notes))
    meta = {
        "input": "paths",
        "nulls_given": has_nulls,
        "null_journeys": float(nulls[~empty.to_numpy()].sum()),
    }
    return Journeys(
        touches,
        np.asarray(j_conv, dtype=np.float64),
        np.asarray(j_val, dtype=np.float64) if has_value else None,
        "paths",
        null_chain,
        has_ages=has_ages,
        flags=flags,
        audit=audit,
        meta=meta,
    )


def _parse_ages(raw: Any, path: str, n: int, sep: str) -> list[float]:
    text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
    try:
        ages = [float(a) for a in _split(text, sep)]
    except ValueError:
        ages = []
    if len(ages) != n or any(not math.isfinite(a) or a < 0 for a in ages):
        msg = (
            f"paths: days_before {raw!r} of path {path!r} must list {n} non-negative ages in "
            f"days, one per touch, separated by {sep!r} (e.g. '6 > 2 > 0')"
        )
        raise SchemaError(msg)
    return ages


def _windowable(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """A frame whose engine has ordered window functions (pyarrow has none: go via pandas)."""
    if frame.implementation is nw.Implementation.PYARROW:
        logger.debug("attribution: pyarrow table copied to pandas for window functions")
        return nw.from_native(frame.collect().to_pandas()).lazy()
    return frame


def _join_ready(
    a: nw.LazyFrame[Any], b: nw.LazyFrame[Any]
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any]]:
    """Put two user tables in one engine (with ordered window functions) to join them."""
    a, b, _ = engine.join_ready(_windowable(a), _windowable(b), "attribution")
    return a, b


def _journeys_from_tables(
    ev: Table,
    od: Table,
    params: _Params,
    *,
    channel: str,
    touch_events: Sequence[str],
    touch: str,
) -> Journeys:
    """Journeys of orders from events + orders: join and window in the engine."""
    import pandas as pd  # noqa: PLC0415

    ev.require("ts", "visitor_id", "event", channel, purpose="attribution")
    od.require("order_id", "buyer_id", "created_at", "amount", purpose="attribution")
    touches_ = ("auto", "session", "event")
    if touch not in touches_:
        raise DefinitionError.unknown("touch", touch, touches_)
    if touch == "session":
        ev.require("session_id", purpose="touch='session'")
    by_session = touch == "session" or (touch == "auto" and ev.has("session_id"))
    ef, of = _join_ready(ev.frame, od.frame)
    window = dt.timedelta(days=params.window_days)

    # audit counts (one row each)
    is_touch = nw.col("event").is_in(list(touch_events)).fill_null(value=False)
    ev_bad = nw.any_horizontal(
        nw.col("ts").is_null(),
        nw.col("visitor_id").is_null(),
        nw.col(channel).is_null(),
        ignore_nulls=False,
    )
    ec = engine.collect(
        ef.select(
            nw.len().alias("rows"),
            is_touch.cast(nw.Int64()).sum().alias("touch_rows"),
            (is_touch & ev_bad).cast(nw.Int64()).sum().alias("bad_touch_rows"),
        ),
        "attribution:events_counts",
    ).iloc[0]
    od_bad = nw.any_horizontal(
        nw.col("order_id").is_null(),
        nw.col("buyer_id").is_null(),
        nw.col("created_at").is_null(),
        ignore_nulls=False,
    )
    oc = engine.collect(
        of.select(
            nw.len().alias("rows"),
            od_bad.cast(nw.Int64()).sum().alias("bad_rows"),
            (~od_bad & nw.col("amount").is_null()).cast(nw.Int64()).sum().alias("null_amount"),
        ),
        "attribution:orders_counts",
    ).iloc[0]

    # ids of one type on both sides
    vid, bid = nw.col("visitor_id"), nw.col("buyer_id")
    if ef.collect_schema()["visitor_id"] != of.collect_schema()["buyer_id"]:
        vid, bid = vid.cast(nw.String()), bid.cast(nw.String())

    touches = _touches(ef.filter(is_touch & ~ev_bad), vid, channel, by_session)
    conv = (
        of.filter(~od_bad)
        .select(
            nw.col("order_id").alias(_OID),
            bid.alias(_BID),
            nw.col("created_at").alias(_CAT),
            nw.col("amount").alias(_VAL),
        )
        .group_by(_OID)
        .agg(nw.col(_BID).min(), nw.col(_CAT).min(), nw.col(_VAL).sum(), nw.len().alias(_LINES))
    )
    times = (
        conv.select(_BID, _CAT)
        .unique()
        .with_columns(nw.col(_CAT).shift(1).over(_BID, order_by=_CAT).alias(_PREV))
    )
    conv = conv.join(times, on=[_BID, _CAT], how="left")
    joined = (
        touches.join(conv, left_on=_VID, right_on=_BID, how="inner")
        .filter(
            nw.col(_TS) <= nw.col(_CAT),
            nw.col(_TS) >= nw.col(_CAT) - nw.lit(window),
            nw.col(_PREV).is_null() | (nw.col(_TS) > nw.col(_PREV)),
        )
        .select(_OID, _TS, _CH, _CAT, _VAL)
    )
    rows = engine.collect(joined, "attribution:touches")
    missing = conv.join(joined.select(_OID).unique(), on=_OID, how="anti")
    mc = engine.collect(
        missing.select(
            nw.len().alias("orders"),
            nw.col(_LINES).sum().alias("lines"),
            nw.col(_VAL).sum().alias("value"),
        ),
        "attribution:orders_without_touch",
    ).iloc[0]
    n_missing = _int(mc["orders"])
    examples: tuple[dict[str, Any], ...] = ()
    if n_missing:
        ex = engine.collect(
            missing.sort([_CAT, _OID])
            .head(5)
            .select(
                nw.col(_OID).alias("order_id"),
                nw.col(_BID).alias("buyer_id"),
                nw.col(_CAT).alias("created_at"),
                nw.col(_VAL).alias("amount"),
            ),
            "attribution:orders_without_touch_examples",
        )
        examples = tuple({str(k): plain(v) for k, v in r.items()} for r in ex.to_dict("records"))

    # converting journeys, in explicit order: order id, then touch time, then channel
    rows = rows.sort_values([_OID, _TS, _CH], kind="stable").reset_index(drop=True)
    codes, _ = pd.factorize(rows[_OID], sort=False)
    journey = np.asarray(codes, dtype=np.int64)
    grp = rows.groupby(journey, sort=False)
    touches_df = pd.DataFrame(
        {
            "journey": journey,
            "pos": grp.cumcount().to_numpy(np.int64),
            "n": grp[_CH].transform("size").to_numpy(np.int64),
            "channel": rows[_CH].astype(str).to_numpy(object),
            "age_days": (rows[_CAT] - rows[_TS]).dt.total_seconds().to_numpy(np.float64) / 86400.0,
        }
    )
    first = np.unique(journey, return_index=True)[1] if len(journey) else np.array([], dtype=int)
    values = rows[_VAL].fillna(0).to_numpy(np.float64)[first]
    conversions = np.ones(len(first), dtype=np.float64)
    n_orders = len(first) + n_missing
    value_missing = _float(mc["value"]) if n_missing else 0.0
    total_value = float(values.sum()) + value_missing

    excluded: list[Exclusion] = []
    kind = "sessions (first event per session and channel)" if by_session else "events"
    notes = [
        (
            f"touches: {kind}"
            f" of types {list(touch_events)} with a {channel!r}, by the buyer "
            f"(visitor_id = buyer_id), in the {params.window_days:g} days up to the order and "
            "after the buyer's previous order"
        ),
        f"time zone: {ev.tz_note}",
    ]
    if _int(ec["bad_touch_rows"]):
        excluded.append(
            Exclusion(
                "events",
                f"null ts, visitor_id or {channel}",
                int(ec["bad_touch_rows"]),
                "touch events that cannot be placed in a journey",
            )
        )
    n_not_touch = _int(ec["rows"]) - _int(ec["touch_rows"])
    if n_not_touch:
        notes.append(f"{n_not_touch} events are not touches {list(touch_events)}; not used")
    if _int(oc["bad_rows"]):
        excluded.append(
            Exclusion(
                "orders",
                "null order_id, buyer_id or created_at",
                int(oc["bad_rows"]),
                "order lines that cannot be placed",
            )
        )
    if _int(oc["null_amount"]):
        notes.append(f"{_int(oc['null_amount'])} order lines have no amount; counted with value 0")
    flags: list[Flag] = []
    if n_missing:
        lines = _int(mc["lines"])
        excluded.append(
            Exclusion(
                "orders",
                "no touch in window",
                lines,
                f"{n_missing} orders worth {value_missing:,.2f} had no touch by the buyer in the "
                f"{params.window_days:g} days before them",
            )
        )
        share = n_missing / n_orders
        flags.append(
            Flag(
                "attribution_window",
                "warning",
                f"{n_missing} of {n_orders} orders ({share:.1%}), worth {value_missing:,.2f}, "
                f"had no visit or click by the buyer in the {params.window_days:g} days before "
                "the order and are left out of the attribution. Widen window_days, or check that "
                "events.visitor_id and orders.buyer_id are the same ids.",
                table="orders",
                column="created_at",
                n_rows=lines,
                examples=examples,
                evidence={
                    "orders_without_touch": n_missing,
                    "orders": n_orders,
                    "value_without_touch": value_missing,
                    "value": total_value,
                    "window_days": params.window_days,
                },
            )
        )

    def null_chain(order: int) -> Chain:
        return _null_chain_engine(touches, conv, window, order)

    audit = Audit(
        rows_in={"events": _int(ec["rows"]), "orders": _int(oc["rows"])},
        excluded=tuple(excluded),
        notes=tuple(notes),
    )
    meta = {
        "input": "events+orders",
        "channel": channel,
        "touch_events": list(touch_events),
        "touch": "session" if by_session else "event",
        "orders": n_orders,
        "orders_without_touch": n_missing,
        "value_without_touch": value_missing,
    }
    return Journeys(
        touches_df,
        conversions,
        values,
        "events",
        null_chain,
        has_ages=True,
        flags=flags,
        audit=audit,
        meta=meta,
    )


def _float(v: Any) -> float:
    """A collected scalar as float (null / NaN, e.g. SQL ``SUM`` of no rows, as 0)."""
    if v is None:
        return 0.0
    f = float(v)
    return 0.0 if math.isnan(f) else f


def _int(v: Any) -> int:
    return int(_float(v))


def _touches(
    frame: nw.LazyFrame[Any], vid: nw.Expr, channel: str, by_session: bool
) -> nw.LazyFrame[Any]:
    """One row per touch: ``(visitor, ts, channel)``, de-duplicated.

    With sessions, a touch is a ``(visitor, session, channel)`` at its first event; events
    without a session id are touches on their own.
    """
    cols = [vid.alias(_VID), nw.col("ts").alias(_TS), nw.col(channel).cast(nw.String()).alias(_CH)]
    if not by_session:
        return frame.select(*cols).unique()
    sid = "_sm_session"
    frame = frame.select(*cols, nw.col("session_id").alias(sid))
    grouped = frame.filter(~nw.col(sid).is_null()).group_by(_VID, sid, _CH).agg(nw.col(_TS).min())
    loose = frame.filter(nw.col(sid).is_null()).select(_VID, _TS, _CH)
    return nw.concat([grouped.select(_VID, _TS, _CH), loose]).unique()


def _null_chain_engine(
    touches: nw.LazyFrame[Any], conv: nw.LazyFrame[Any], window: dt.timedelta, order: int
) -> Chain:
    """Transition counts of the non-converting journeys, aggregated in the engine."""
    last = conv.group_by(_BID).agg(nw.col(_CAT).max().alias(_LAST))
    sort = [_TS, _CH]
    shifts = [f"_sm_c{i}" for i in range(1, order + 1)]
    frame = (
        touches.join(last, left_on=_VID, right_on=_BID, how="left")
        .select(_VID, _TS, _CH, _LAST)
        .filter(nw.col(_LAST).is_null() | (nw.col(_TS) > nw.col(_LAST)))
        .with_columns(nw.col(_TS).max().over(_VID).alias(_END))
        .filter(nw.col(_TS) >= nw.col(_END) - nw.lit(window))
        .with_columns(
            *(
                nw.col(_CH).shift(i).over(_VID, order_by=sort).alias(s)
                for i, s in enumerate(shifts, start=1)
            ),
            nw.col(_CH).shift(-1).over(_VID, order_by=sort).alias(_NEXT),
        )
        .with_columns(nw.col(_NEXT).is_null().alias(_NEXT))
        .group_by([_CH, *shifts, _NEXT])
        .agg(nw.len().alias("n"))
    )
    counts = engine.collect(frame, "attribution:null_transitions")
    chain = Chain()
    for row in counts.itertuples(index=False, name=None):
        cur, *older, is_last, n = row
        hist = [str(c) for c in older if isinstance(c, str)]  # shift(1..k); None/NaN = before start
        # states hold the last `order` channels: (c_{k-1}, ..., c_1, c_0)
        state = (*reversed(hist[: order - 1]), str(cur))
        prev: State = tuple(reversed(hist)) if hist else START
        _bump(chain.transitions, (prev, state), float(n))
        if bool(is_last):
            _bump(chain.nulls, state, float(n))
    return chain


# ---------------------------------------------------------------- models


def credits(
    touches: pd.DataFrame,
    model: str,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
) -> npt.NDArray[np.float64]:
    """The share of its journey's conversion each touch gets under a heuristic model.

    Args:
        touches: One row per touch with ``journey`` (0..J-1), ``pos``, ``n`` and, for
            ``time_decay``, ``age_days``.
        model: One of the heuristic models (every model of :data:`MODELS` but ``markov``).
        half_life_days: ``time_decay`` half-life.
        weights: ``position_based`` weights ``(first, middle, last)``.

    Returns:
        Credits, one per touch; they sum to 1 within each journey.

    Examples:
        >>> import pandas as pd
        >>> t = pd.DataFrame({"journey": [0, 0, 0], "pos": [0, 1, 2], "n": [3, 3, 3],
        ...                   "age_days": [14.0, 7.0, 0.0]})
        >>> credits(t, "time_decay", half_life_days=7).round(4).tolist()
        [0.1429, 0.2857, 0.5714]
    """
    pos = touches["pos"].to_numpy(np.int64)
    n = touches["n"].to_numpy(np.int64)
    if model == "last_click":
        return np.asarray(pos == n - 1, dtype=np.float64)
    if model == "first_click":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "linear":
        return np.asarray(1.0 / n, dtype=np.float64)
    if model == "time_decay":
        journey = touches["journey"].to_numpy(np.int64)
        age = touches["age_days"].to_numpy(np.float64)
        if len(age) and not np.isfinite(age).all():
            msg = "time_decay needs the age of every touch; some are missing"
            raise DefinitionError(msg)
        n_j = int(journey.max()) + 1 if len(journey) else 0
        youngest = np.full(n_j, np.inf)
        np.minimum.at(youngest, journey, age)
        # weights relative to the youngest touch of the journey: no underflow to 0 / 0
        w = np.exp2(-(age - youngest[journey]) / half_life_days)
        return np.asarray(w / np.bincount(journey, weights=w, minlength=n_j)[journey])
    if model == "position_based":
        first, middle, last = _check_weights(weights)
        out = np.zeros(len(pos), dtype=np.float64)
        one, two, many = n == 1, n == 2, n >= 3
        out[one] = 1.0
        ends = first + last
        out[two & (pos == 0)] = first / ends if ends > 0 else 0.5
        out[two & (pos == 1)] = last / ends if ends > 0 else 0.5
        out[many & (pos == 0)] = first
        out[many & (pos == n - 1)] = last
        mid = many & (pos > 0) & (pos < n - 1)
        out[mid] = middle / (n[mid] - 2)
        return out
    raise DefinitionError.unknown("heuristic attribution model", model, HEURISTICS)


def removal_effects(chain: Chain) -> tuple[float, dict[str, float]]:
    """Conversion probability of a Markov chain and each channel's removal effect.

    The chain is absorbing (states ``conversion`` and ``null``). With ``Q`` the transition
    probabilities among transient states (start and channel states) and ``r`` the
    probabilities of moving to ``conversion``, the absorption probabilities solve
    ``(I - Q) x = r``; ``x[start]`` is the probability of converting. Removing channel
    ``c`` sends every state containing ``c`` to ``null``; its removal effect is
    ``1 - x_c[start] / x[start]``.

    Args:
        chain: Transition counts (see :class:`Chain`).

    Returns:
        ``(conversion_probability, {channel: removal_effect})``; removal effects are NaN
        when nothing converts.

    References:
        Kemeny & Snell (1976), *Finite Markov Chains*, chapter 3; Anderl et al.
        (2016), IJRM 33(3), section 3.

    Examples:
        >>> chain = Chain()
        >>> chain.add_path(["a", "b"], conversions=1, nulls=0, order=1)
        >>> chain.add_path(["b"], conversions=0, nulls=1, order=1)
        >>> p, effects = removal_effects(chain)
        >>> round(p, 4), {c: round(e, 4) for c, e in effects.items()}
        (0.5, {'a': 0.5, 'b': 1.0})
    """
    states = chain.states()
    channels = sorted({c for s in states for c in s})
    if not states:
        return math.nan, {}
    idx = {START: 0, **{s: i + 1 for i, s in enumerate(states)}}
    size = len(states) + 1
    q = np.zeros((size, size))
    r = np.zeros(size)
    out = np.zeros(size)
    for (a, b), w in chain.transitions.items():
        q[idx[a], idx[b]] += w
        out[idx[a]] += w
    for s, w in chain.conversions.items():
        r[idx[s]] += w
        out[idx[s]] += w
    for s, w in chain.nulls.items():
        out[idx[s]] += w
    scale = np.where(out > 0, out, 1.0)
    q /= scale[:, None]
    r /= scale
    eye = np.eye(size)
    p = float(np.linalg.solve(eye - q, r)[0])
    if not p > 0:
        return p, dict.fromkeys(channels, math.nan)
    effects: dict[str, float] = {}
    for c in channels:
        gone = np.array([False] + [c in s for s in states])
        q_c = q.copy()
        q_c[gone, :] = 0.0
        r_c = np.where(gone, 0.0, r)
        p_c = float(np.linalg.solve(eye - q_c, r_c)[0])
        effects[c] = max(0.0, 1.0 - p_c / p)
    return p, effects


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


def _flags(journeys: Journeys, models: Iterable[str], params: _Params) -> list[Flag]:
    flags = list(journeys.flags)
    total = journeys.total_conversions
    min_sample = get_config().min_sample
    if total == 0:
        flags.append(
            Flag(
                "no_conversions",
                "warning",
                "no conversion could be attributed: every channel gets 0 and shares are NaN.",
                evidence={"conversions": 0},
            )
        )
    elif total < min_sample:
        flags.append(
            Flag(
                "small_sample",
                "warning",
                f"attribution rests on {total:g} conversions (fewer than min_sample={min_sample}); "
                "channel credits can move a lot from one period to the next.",
                evidence={"conversions": total, "min_sample": min_sample},
            )
        )
    if "markov" in models and total > 0:
        chain = journeys.chain(params.order)
        if not chain.nulls:
            flags.append(
                Flag(
                    "markov_no_nulls",
                    "info",
                    "the Markov model saw no non-converting journeys, so removal effects only "
                    "reflect how many converting paths pass through each channel. Give 'nulls' "
                    "in the paths table (or events with visitors who did not buy).",
                )
            )
    return flags


def _result(journeys: Journeys, model: str, params: _Params) -> AttributionResult:
    table, extra = _apply(journeys, model, params)
    meta = _meta(journeys, model, params)
    meta.update(extra)
    return AttributionResult(
        table=table,
        flags=sort_flags(_flags(journeys, [model], params)),
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
        flags=sort_flags(_flags(journeys, models, params)),
        audit=journeys.audit,
        definition=f"{what} by channel under " + ", ".join(models),
        meta=meta,
    )
