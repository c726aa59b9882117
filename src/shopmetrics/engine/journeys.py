"""Attribution journeys built in the engine, from a paths table or from events + orders.

A paths table is aggregated by path in the engine and parsed in Python. From events +
orders the engine joins each order to its buyer's touches in the look-back window (and
after the buyer's previous order) with ordered window functions; only the in-window touches
of converting orders come back, plus one row of totals and five examples of the orders
without a touch. The non-converting journeys of the Markov chain are counted in the engine
too (one row per distinct ``(order + 1)``-gram of channels). The rules themselves are
those of :func:`shopmetrics.attribution.attribute`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.display import plain
from shopmetrics.engine.counting import cents_of
from shopmetrics.engine.tables import Table, collect, join_ready, with_reads
from shopmetrics.errors import DefinitionError, SchemaError
from shopmetrics.models.markov import START, Chain, State, bump

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = ["journeys_from_paths", "journeys_from_tables"]

logger = logging.getLogger(__name__)

# internal column names (prefixed so they never clash with a user's columns)
_VID, _TS, _CH = "_sm_visitor", "_sm_ts", "_sm_channel"
_OID, _BID, _CAT, _VAL, _LINES = "_sm_order", "_sm_buyer", "_sm_created", "_sm_value", "_sm_lines"
_VC, _VR = "_sm_value_cents", "_sm_value_rest"
_PREV, _LAST, _END, _NEXT = "_sm_prev", "_sm_last_order", "_sm_end", "_sm_next"

_TOUCH_COLUMNS = {
    "journey": "int64",
    "pos": "int64",
    "n": "int64",
    "channel": "object",
    "age_days": "float64",
}


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
    a, b, _ = join_ready(_windowable(a), _windowable(b), "attribution", ("events", "orders"))
    return a, b


def _float(v: Any) -> float:
    """A collected scalar as float (null / NaN, e.g. SQL ``SUM`` of no rows, as 0)."""
    if v is None:
        return 0.0
    f = float(v)
    return 0.0 if math.isnan(f) else f


def _int(v: Any) -> int:
    return int(_float(v))


# ---------------------------------------------------------------- from a paths table


def journeys_from_paths(table: Table, sep: str) -> Journeys:
    """Journeys from a paths table (aggregated by path in the engine, then parsed)."""
    table.require("path", "conversions", purpose="attribution from a paths table")
    has_value = table.has("value")
    has_nulls = table.has("nulls")
    has_ages = table.has("days_before")
    agg = _path_counts(table, has_value=has_value, has_nulls=has_nulls, has_ages=has_ages)
    conv = agg["conversions"].fillna(0).to_numpy(np.float64)
    value = agg["value"].fillna(0).to_numpy(np.float64) if has_value else None
    nulls = agg["nulls"].fillna(0).to_numpy(np.float64) if has_nulls else np.zeros(len(agg))
    _check_path_counts(agg, conv, nulls, value)
    notes: list[str] = []
    n_null_counts = int(agg["null_counts"].sum())
    if n_null_counts:
        notes.append(f"{n_null_counts} paths rows have no conversions count; taken as 0")
    empty = (agg["path"].isna() | (agg["path"].fillna("").str.strip() == "")).to_numpy()
    empty_held, excluded = _empty_paths(agg, conv, empty)
    parsed = _parse_paths(agg, ~empty, conv, value, nulls, sep=sep, has_ages=has_ages)
    touches, j_conv, j_val, null_paths = parsed

    def null_chain(order: int) -> Chain:
        chain = Chain()
        for p, w in null_paths:
            chain.add_path(p, 0.0, w, order)
        return chain

    rows_in = int(agg["rows"].sum())
    audit = with_reads(
        Audit(rows_in={"paths": rows_in}, excluded=tuple(excluded), notes=tuple(notes)), table
    )
    meta = {
        "input": "paths",
        "nulls_given": has_nulls,
        "null_journeys": float(nulls[~empty].sum()),
        "empty_paths": empty_held,
    }
    return Journeys(
        touches,
        np.asarray(j_conv, dtype=np.float64),
        np.asarray(j_val, dtype=np.float64) if has_value else None,
        "paths",
        null_chain,
        has_ages=has_ages,
        audit=audit,
        meta=meta,
    )


def _path_counts(table: Table, *, has_value: bool, has_nulls: bool, has_ages: bool) -> pd.DataFrame:
    """Rows, conversions (and value, nulls) per distinct path (and ages), sorted by path."""
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
    agg = collect(frame.group_by(keys).agg(*aggs), "attribution:paths")
    return agg.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)


def _check_path_counts(
    agg: pd.DataFrame,
    conv: npt.NDArray[np.float64],
    nulls: npt.NDArray[np.float64],
    value: npt.NDArray[np.float64] | None,
) -> None:
    """Counts must be non-negative, and value only on paths with conversions."""
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


def _empty_paths(
    agg: pd.DataFrame, conv: npt.NDArray[np.float64], empty: npt.NDArray[np.bool_]
) -> tuple[tuple[int, float] | None, list[Exclusion]]:
    """Rows with an empty path: excluded; their rows and conversions when they hold any."""
    excluded: list[Exclusion] = []
    held: tuple[int, float] | None = None
    if empty.any():
        e_rows = int(agg.loc[empty, "rows"].sum())
        e_conv = float(conv[empty].sum())
        excluded.append(Exclusion("paths", "empty path", e_rows, f"{e_conv:g} conversions"))
        if e_conv:
            held = (e_rows, e_conv)
    return held, excluded


def _parse_paths(
    agg: pd.DataFrame,
    keep: npt.NDArray[np.bool_],
    conv: npt.NDArray[np.float64],
    value: npt.NDArray[np.float64] | None,
    nulls: npt.NDArray[np.float64],
    *,
    sep: str,
    has_ages: bool,
) -> tuple[pd.DataFrame, list[float], list[float], list[tuple[State, float]]]:
    """Touches of the converting paths, their conversions and values, and the null paths."""
    import pandas as pd  # noqa: PLC0415

    touch_rows: list[tuple[int, int, int, str, float]] = []
    j_conv: list[float] = []
    j_val: list[float] = []
    null_paths: list[tuple[State, float]] = []
    path_col = agg["path"].tolist()
    ages_col = agg["days_before"].tolist() if has_ages else [None] * len(agg)
    for i in np.flatnonzero(keep):
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
    touches = pd.DataFrame(touch_rows, columns=list(_TOUCH_COLUMNS)).astype(_TOUCH_COLUMNS)
    return touches, j_conv, j_val, null_paths


def _split(text: str, sep: str) -> list[str]:
    return [p.strip() for p in text.split(sep)]


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


# ---------------------------------------------------------------- from events + orders


@dataclasses.dataclass(frozen=True)
class _Unmatched:
    """Orders without a touch in their window: totals and a few examples."""

    orders: int
    lines: int
    value: float
    examples: tuple[dict[str, Any], ...] = ()


def journeys_from_tables(
    ev: Table,
    od: Table,
    *,
    window_days: float,
    channel: str,
    touch_events: Sequence[str],
    touch: str,
) -> Journeys:
    """Journeys of orders from events + orders: join and window in the engine."""
    ev.require("ts", "visitor_id", "event", channel, purpose="attribution")
    od.require("order_id", "buyer_id", "created_at", "amount", purpose="attribution")
    by_session = _by_session(ev, touch)
    ef, of = _join_ready(ev.frame, od.frame)
    window = dt.timedelta(days=window_days)
    is_touch = nw.col("event").is_in(list(touch_events)).fill_null(value=False)
    # a touch with a source but no campaign / keyword is an organic touch: its own channel
    organic = channel != "source" and ev.has("source")
    ev_bad = _any_null("ts", "visitor_id", "source" if organic else channel)
    od_bad = _any_null("order_id", "buyer_id", "created_at")
    ec, oc = _audit_counts(ef, of, is_touch, ev_bad, od_bad)

    # ids of one type on both sides
    vid, bid = nw.col("visitor_id"), nw.col("buyer_id")
    if ef.collect_schema()["visitor_id"] != of.collect_schema()["buyer_id"]:
        vid, bid = vid.cast(nw.String()), bid.cast(nw.String())

    touches = _touches(ef.filter(is_touch & ~ev_bad), vid, channel, by_session, organic=organic)
    conv = _conversions(of.filter(~od_bad), bid)
    joined = _in_window(touches, conv, window)
    rows = collect(joined, "attribution:touches")
    unmatched = _unmatched(conv, joined)
    touches_df, values, buyers, order_ids = _touch_table(rows)
    total_value = float(values.sum()) + unmatched.value
    excluded, notes = _tables_audit(
        ev, ec, oc, "source" if organic else channel, touch_events, by_session, window_days
    )
    if organic:
        notes.append(
            f"touches with a source but no {channel}: the organic channel "
            f"{no_channel(channel)!r}, kept (the last touch may be organic)"
        )
    window_gap: dict[str, Any] | None = None
    if unmatched.orders:
        excluded.append(
            Exclusion(
                "orders",
                "no touch in window",
                unmatched.lines,
                f"{unmatched.orders} orders worth {unmatched.value:,.2f} had no touch by the "
                f"buyer in the {window_days:g} days before them",
            )
        )
        window_gap = {
            "orders_without_touch": unmatched.orders,
            "orders": len(values) + unmatched.orders,
            "value_without_touch": unmatched.value,
            "value": total_value,
            "lines": unmatched.lines,
            "window_days": window_days,
            "examples": unmatched.examples,
        }

    def null_chain(order: int) -> Chain:
        return _null_chain_engine(touches, conv, window, order)

    audit = with_reads(
        Audit(
            rows_in={"events": _int(ec["rows"]), "orders": _int(oc["rows"])},
            excluded=tuple(excluded),
            notes=tuple(notes),
        ),
        ev,
        od,
    )
    meta = {
        "input": "events+orders",
        "channel": channel,
        "touch_events": list(touch_events),
        "touch": "session" if by_session else "event",
        "orders": len(values) + unmatched.orders,
        "orders_without_touch": unmatched.orders,
        "value_without_touch": unmatched.value,
        "window_gap": window_gap,
    }
    conversions = np.ones(len(values), dtype=np.float64)
    return Journeys(
        touches_df,
        conversions,
        values,
        "events",
        null_chain,
        has_ages=True,
        audit=audit,
        meta=meta,
        buyers=buyers,
        order_ids=order_ids,
    )


def no_channel(channel: str) -> str:
    """The channel of a touch whose ``channel`` column is null (``channel`` other than
    ``source``): an organic touch, e.g. ``"(no campaign)"`` for a search visit."""
    return f"(no {channel})"


def _by_session(ev: Table, touch: str) -> bool:
    """Whether a touch is a session (``touch="session"``, or ``"auto"`` with session ids)."""
    touches_ = ("auto", "session", "event")
    if touch not in touches_:
        raise DefinitionError.unknown("touch", touch, touches_)
    if touch == "session":
        ev.require("session_id", purpose="touch='session'")
    return touch == "session" or (touch == "auto" and ev.has("session_id"))


def _any_null(*columns: str) -> nw.Expr:
    return nw.any_horizontal(*(nw.col(c).is_null() for c in columns), ignore_nulls=False)


def _audit_counts(
    ef: nw.LazyFrame[Any],
    of: nw.LazyFrame[Any],
    is_touch: nw.Expr,
    ev_bad: nw.Expr,
    od_bad: nw.Expr,
) -> tuple[pd.Series, pd.Series]:
    """Rows, touch rows and unusable rows of events and of orders (one row each)."""
    ec = collect(
        ef.select(
            nw.len().alias("rows"),
            is_touch.cast(nw.Int64()).sum().alias("touch_rows"),
            (is_touch & ev_bad).cast(nw.Int64()).sum().alias("bad_touch_rows"),
        ),
        "attribution:events_counts",
    ).iloc[0]
    oc = collect(
        of.select(
            nw.len().alias("rows"),
            od_bad.cast(nw.Int64()).sum().alias("bad_rows"),
            (~od_bad & nw.col("amount").is_null()).cast(nw.Int64()).sum().alias("null_amount"),
        ),
        "attribution:orders_counts",
    ).iloc[0]
    return ec, oc


def _conversions(orders: nw.LazyFrame[Any], bid: nw.Expr) -> nw.LazyFrame[Any]:
    """One row per order: buyer, time, value, lines and the buyer's previous order time."""
    cents, rest = cents_of("amount")  # exact totals below, whatever order rows come in
    conv = (
        orders.select(
            nw.col("order_id").alias(_OID),
            bid.alias(_BID),
            nw.col("created_at").alias(_CAT),
            nw.col("amount").alias(_VAL),
            cents.alias(_VC),
            rest.alias(_VR),
        )
        .group_by(_OID)
        .agg(
            nw.col(_BID).min(),
            nw.col(_CAT).min(),
            nw.col(_VAL).sum(),
            nw.col(_VC).sum(),
            nw.col(_VR).sum(),
            nw.len().alias(_LINES),
        )
    )
    times = (
        conv.select(_BID, _CAT)
        .unique()
        .with_columns(nw.col(_CAT).shift(1).over(_BID, order_by=_CAT).alias(_PREV))
    )
    return conv.join(times, on=[_BID, _CAT], how="left")


def _in_window(
    touches: nw.LazyFrame[Any], conv: nw.LazyFrame[Any], window: dt.timedelta
) -> nw.LazyFrame[Any]:
    """The touches of each order: by its buyer, in the window and after the previous order."""
    return (
        touches.join(conv, left_on=_VID, right_on=_BID, how="inner")
        .filter(
            nw.col(_TS) <= nw.col(_CAT),
            nw.col(_TS) >= nw.col(_CAT) - nw.lit(window),
            nw.col(_PREV).is_null() | (nw.col(_TS) > nw.col(_PREV)),
        )
        .select(_OID, _TS, _CH, _CAT, _VC, _VR, _VID)
    )


def _unmatched(conv: nw.LazyFrame[Any], joined: nw.LazyFrame[Any]) -> _Unmatched:
    """Totals (one row) and five examples of the orders without a touch in their window."""
    missing = conv.join(joined.select(_OID).unique(), on=_OID, how="anti")
    mc = collect(
        missing.select(
            nw.len().alias("orders"),
            nw.col(_LINES).sum().alias("lines"),
            nw.col(_VC).sum().alias("cents"),
            nw.col(_VR).sum().alias("rest"),
        ),
        "attribution:orders_without_touch",
    ).iloc[0]
    n_missing = _int(mc["orders"])
    if not n_missing:
        return _Unmatched(0, 0, 0.0)
    ex = collect(
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
    value = (_int(mc["cents"]) + _float(mc["rest"])) / 100
    return _Unmatched(n_missing, _int(mc["lines"]), value, examples)


def _touch_table(
    rows: pd.DataFrame,
) -> tuple[pd.DataFrame, npt.NDArray[np.float64], npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """The touches of the converting journeys, in explicit order, and each journey's value,
    buyer and order id.

    Journeys are ordered by order id, touches by time, then channel.
    """
    import pandas as pd  # noqa: PLC0415

    rows = rows.sort_values([_OID, _TS, _CH], kind="stable").reset_index(drop=True)
    codes, _ = pd.factorize(rows[_OID], sort=False)
    journey = np.asarray(codes, dtype=np.int64)
    grp = rows.groupby(journey, sort=False)
    touches = pd.DataFrame(
        {
            "journey": journey,
            "pos": grp.cumcount().to_numpy(np.int64),
            "n": grp[_CH].transform("size").to_numpy(np.int64),
            "channel": rows[_CH].astype(str).to_numpy(object),
            "age_days": (rows[_CAT] - rows[_TS]).dt.total_seconds().to_numpy(np.float64) / 86400.0,
        }
    )
    first = np.unique(journey, return_index=True)[1] if len(journey) else np.array([], dtype=int)
    # each order's value from its exact cents (the same whatever order the engine added
    # its lines in), divided here rather than in the engine (polars multiplies by 0.01)
    cents = rows[_VC].fillna(0).to_numpy(np.float64) + rows[_VR].fillna(0).to_numpy(np.float64)
    values = (cents / 100)[first]
    buyers = rows[_VID].to_numpy(object)[first]
    return touches, values, buyers, rows[_OID].to_numpy(object)[first]


def _tables_audit(
    ev: Table,
    ec: pd.Series,
    oc: pd.Series,
    channel: str,
    touch_events: Sequence[str],
    by_session: bool,
    window_days: float,
) -> tuple[list[Exclusion], list[str]]:
    """What the touches are, and the event and order rows left out or taken as they are."""
    excluded: list[Exclusion] = []
    kind = "sessions (first event per session and channel)" if by_session else "events"
    notes = [
        (
            f"touches: {kind}"
            f" of types {list(touch_events)} with a {channel!r}, by the buyer "
            f"(visitor_id = buyer_id), in the {window_days:g} days up to the order and "
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
    return excluded, notes


def _touches(
    frame: nw.LazyFrame[Any], vid: nw.Expr, channel: str, by_session: bool, *, organic: bool
) -> nw.LazyFrame[Any]:
    """One row per touch: ``(visitor, ts, channel)``, de-duplicated; with ``organic``, a
    null channel is the organic channel :func:`no_channel`.

    With sessions, a touch is a ``(visitor, session, channel)`` at its first event; events
    without a session id are touches on their own.
    """
    ch = nw.col(channel).cast(nw.String())
    if organic:
        ch = ch.fill_null(no_channel(channel))
    cols = [vid.alias(_VID), nw.col("ts").alias(_TS), ch.alias(_CH)]
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
    counts = collect(frame, "attribution:null_transitions")
    chain = Chain()
    for row in counts.itertuples(index=False, name=None):
        cur, *older, is_last, n = row
        hist = [str(c) for c in older if isinstance(c, str)]  # shift(1..k); None/NaN = before start
        # states hold the last `order` channels: (c_{k-1}, ..., c_1, c_0)
        state = (*reversed(hist[: order - 1]), str(cur))
        prev: State = tuple(reversed(hist)) if hist else START
        bump(chain.transitions, (prev, state), float(n))
        if bool(is_last):
            bump(chain.nulls, state, float(n))
    return chain


class Journeys:
    """Converting journeys (one touch per row) and a source of non-converting ones.

    Built by :func:`shopmetrics.attribution.attribute` from a paths table or from events +
    orders (see :mod:`shopmetrics.engine.journeys`); reused by
    :meth:`shopmetrics.attribution.AttributionResult.compare`. Not meant to be built by hand.

    Attributes:
        touches: One row per touch of a converting journey: ``journey`` (0..J-1),
            ``pos`` (0-based, in time order), ``n`` (touches in the journey), ``channel``,
            ``age_days`` (NaN when unknown). Sorted by ``journey``, ``pos``.
        conversions: Conversions per journey (1 per order from events + orders).
        amounts: Value per journey, or ``None`` when no value is known.
        buyers: The buyer of each journey (events + orders), or ``None`` (paths).
        order_ids: The order id of each journey (events + orders), or ``None`` (paths).
        source: ``"paths"`` or ``"events"``.
        audit: What was left out while building them, and why.
        meta: The numbers behind the journeys' flags (``window_gap``: orders with no
            touch in the window; ``empty_paths``: rows and conversions of empty paths),
            which :func:`shopmetrics.flags.journeys.journey_flags` turns into flags.
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
        audit: Audit | None = None,
        meta: Mapping[str, Any] | None = None,
        buyers: npt.NDArray[np.object_] | None = None,
        order_ids: npt.NDArray[np.object_] | None = None,
    ) -> None:
        self.touches = touches
        self.buyers = buyers
        self.order_ids = order_ids
        self.conversions = conversions
        self.amounts = amounts
        self.source = source
        self.has_ages = has_ages
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
