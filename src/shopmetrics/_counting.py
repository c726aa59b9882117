"""The funnel's counting, done once in the engine and shared by every metric module.

Each function takes :class:`~shopmetrics._engine.Table` objects, builds lazy narwhals
aggregations, and collects one small table per metric family (groups x periods rows).
Unique counts are computed as unique counts at the requested grain: the distinct
``(group, period, id)`` tuples are formed in the engine and only their counts come back.

Merge-ability: every count here is either an event count or a sum (additive over disjoint
chunks of rows) or a distinct count over keys that include the grouping grain (exact at
that grain, never re-added across groups or periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import _engine
from shopmetrics._engine import PERIOD, Freq, Table
from shopmetrics._result import Exclusion
from shopmetrics.schema import EVENT_TYPES

if TYPE_CHECKING:
    import pandas as pd

COUNT_EVENTS: dict[str, str] = {"exposure": "exposures", "click": "clicks", "visit": "page_views"}
"""Events counted (every row counts)."""

UNIQUE_EVENTS: dict[str, str] = {
    "visit": "visitors",
    "inquiry": "inquirers",
    "cart": "carters",
    "favorite": "favoriters",
}
"""Events counted as distinct visitors."""


@dataclass
class Counts:
    """Aggregated counts with the audit of how they were made."""

    table: pd.DataFrame
    keys: list[str]
    excluded: list[Exclusion] = field(default_factory=list)
    rows_in: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _range_filter(
    table: Table,
    col: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    excluded: list[Exclusion],
    reason: str,
) -> nw.LazyFrame[Any]:
    """Filter ``table`` to ``start <= col < end``, counting the rows left out."""
    frame = table.frame
    if start is None and end is None:
        return frame
    cond = _engine.between(col, start, end)
    out_n = _engine.count_rows(table, ~cond | nw.col(col).is_null())
    if out_n:
        excluded.append(Exclusion(table.name, reason, out_n, f"{col} outside [{start}, {end})"))
    return frame.filter(cond)


def _null_filter(
    table: Table,
    frame: nw.LazyFrame[Any],
    cols: Sequence[str],
    excluded: list[Exclusion],
    what: str,
) -> nw.LazyFrame[Any]:
    """Drop rows with nulls in ``cols`` — counted, never silent."""
    cols = [c for c in cols if c in table.columns]
    if not cols:
        return frame
    cond = nw.any_horizontal(*(nw.col(c).is_null() for c in cols), ignore_nulls=False)
    n = int(_engine.scalar(frame.filter(cond).select(nw.len()), f"{table.name}:nulls") or 0)
    if n:
        excluded.append(
            Exclusion(table.name, f"null {', '.join(cols)}", n, f"excluded from {what}")
        )
    return frame.filter(~cond)


def count_events(
    events: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    sessions: bool = False,
) -> Counts:
    """Event counts and distinct visitors per group and period.

    Returns a table with ``by + [period]`` keys and the columns ``exposures``, ``clicks``,
    ``page_views``, ``visitors``, ``inquirers``, ``carters``, ``favoriters`` (only those
    whose events occur) and, with ``sessions=True``, ``sessions``.
    """
    import pandas as pd  # noqa: PLC0415 - post-collect reshaping of small aggregates

    excluded: list[Exclusion] = []
    rows_in = {"events": _engine.count_rows(events)}
    frame = _range_filter(events, "ts", start, end, excluded, "outside range")
    frame = _null_filter(events, frame, ["ts", "visitor_id", "event", *by], excluded, "the funnel")
    unknown = frame.filter(~nw.col("event").is_in(list(EVENT_TYPES)))
    n_unknown = int(_engine.scalar(unknown.select(nw.len()), "events:unknown") or 0)
    if n_unknown:
        excluded.append(
            Exclusion("events", "unknown event value", n_unknown, f"not in {list(EVENT_TYPES)}")
        )
    keys = [*by, PERIOD]
    frame = frame.with_columns(_engine.period_key("ts", freq).alias(PERIOD))
    counted = (
        frame.filter(nw.col("event").is_in(list(COUNT_EVENTS)))
        .group_by([*keys, "event"])
        .agg(nw.len().alias("n"))
    )
    uniq = (
        frame.filter(nw.col("event").is_in(list(UNIQUE_EVENTS)))
        .select([*keys, "event", "visitor_id"])
        .unique()
        .group_by([*keys, "event"])
        .agg(nw.len().alias("n"))
    )
    c = _engine.collect(counted, "funnel:event_counts")
    u = _engine.collect(uniq, "funnel:unique_visitors")
    c["event"] = c["event"].map(COUNT_EVENTS)
    u["event"] = u["event"].map(UNIQUE_EVENTS)
    long = pd.concat([c, u], ignore_index=True)
    if len(long):
        wide = long.pivot_table(
            index=keys, columns="event", values="n", aggfunc="sum", fill_value=0
        )
        wide.columns.name = None
        wide = wide.reset_index()
    else:
        wide = pd.DataFrame(columns=keys)
    if sessions and events.has("session_id"):
        s = _engine.collect(
            frame.filter(nw.col("event") == "visit")
            .select([*keys, "session_id"])
            .unique()
            .group_by(keys)
            .agg(nw.len().alias("sessions")),
            "funnel:sessions",
        )
        wide = wide.merge(s, on=keys, how="outer")
    return Counts(wide, keys, excluded, rows_in)


def count_orders(
    orders: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> Counts:
    """Order and payment counts per group and period.

    Orders are attributed to the period of creation for ``order_buyers`` and of payment
    for ``paid_buyers``, ``paid_orders`` and ``paid_amount`` (presale orders count as
    paid on full payment: ``paid_at`` is the final payment). ``paid_amount_sq`` is the
    sum over buyers of the square of each buyer's paid amount (for intervals).
    With ``deposit_paid_at``: ``deposit_buyers`` (presale deposits paid in the period
    whose order is not fully paid in it).
    """

    excluded: list[Exclusion] = []
    rows_in = {"orders": _engine.count_rows(orders)}
    keys = [*by, PERIOD]
    base = _null_filter(
        orders, orders.frame, ["order_id", "buyer_id", *by], excluded, "order metrics"
    )
    parts: list[pd.DataFrame] = []

    created = base.filter(~nw.col("created_at").is_null())
    if start is not None or end is not None:
        created = created.filter(_engine.between("created_at", start, end))
    created = created.with_columns(_engine.period_key("created_at", freq).alias(PERIOD))
    parts.append(
        _engine.collect(
            created.select([*keys, "buyer_id"])
            .unique()
            .group_by(keys)
            .agg(nw.len().alias("order_buyers")),
            "funnel:order_buyers",
        )
    )
    if orders.has("paid_at"):
        paid = base.filter(~nw.col("paid_at").is_null())
        if start is not None or end is not None:
            paid = paid.filter(_engine.between("paid_at", start, end))
        paid = paid.with_columns(_engine.period_key("paid_at", freq).alias(PERIOD))
        # aggregations stay elementary (sum / len of columns) so every backend runs them natively
        per_buyer = (
            paid.group_by([*keys, "buyer_id"])
            .agg(nw.col("amount").sum().alias("amt"))
            .with_columns((nw.col("amt") * nw.col("amt")).alias("amt_sq"))
        )
        parts.append(
            _engine.collect(
                per_buyer.group_by(keys).agg(
                    nw.len().alias("paid_buyers"),
                    nw.col("amt").sum().alias("paid_amount"),
                    nw.col("amt_sq").sum().alias("paid_amount_sq"),
                ),
                "funnel:paid",
            )
        )
        parts.append(
            _engine.collect(
                paid.select([*keys, "order_id"])
                .unique()
                .group_by(keys)
                .agg(nw.len().alias("paid_orders")),
                "funnel:paid_orders",
            )
        )
    else:
        excluded.append(
            Exclusion("orders", "no paid_at column", rows_in["orders"], "payment metrics left out")
        )
    if orders.has("deposit_paid_at"):
        dep = base.filter(~nw.col("deposit_paid_at").is_null())
        if start is not None or end is not None:
            dep = dep.filter(_engine.between("deposit_paid_at", start, end))
        dep = dep.with_columns(_engine.period_key("deposit_paid_at", freq).alias(PERIOD))
        parts.append(
            _engine.collect(
                dep.select([*keys, "buyer_id"])
                .unique()
                .group_by(keys)
                .agg(nw.len().alias("deposit_buyers")),
                "funnel:deposits",
            )
        )
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=keys, how="outer")
    return Counts(out, keys, excluded, rows_in)


def sum_traffic(
    traffic: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> Counts:
    """Sum a pre-aggregated ``traffic`` table to ``by`` x period.

    Event counts add up. Unique counts (visitors, ...) add up only when every row is
    already one group at one day and the requested grain is that same grain; otherwise
    the sums overstate them, which :func:`shopmetrics.flags.summed_uniques` reports.
    """
    excluded: list[Exclusion] = []
    rows_in = {"traffic": _engine.count_rows(traffic)}
    frame = _range_filter(traffic, "date", start, end, excluded, "outside range")
    frame = _null_filter(traffic, frame, ["date", *by], excluded, "the funnel")
    keys = [*by, PERIOD]
    measures = [
        c
        for c in (
            "exposures",
            "clicks",
            "visitors",
            "page_views",
            "inquirers",
            "carters",
            "favoriters",
            "order_buyers",
            "paid_buyers",
            "paid_amount",
            "paid_orders",
        )
        if traffic.has(c)
    ]
    frame = frame.with_columns(_engine.period_key("date", freq).alias(PERIOD))
    agg = frame.group_by(keys).agg(
        *(nw.col(c).sum().alias(c) for c in measures),
        nw.len().alias("_rows"),
        nw.col("date").n_unique().alias("_days"),
    )
    return Counts(_engine.collect(agg, "funnel:traffic"), keys, excluded, rows_in)
