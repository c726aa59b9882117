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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import _engine
from shopmetrics._engine import PERIOD, Freq, Table
from shopmetrics._result import Exclusion
from shopmetrics.schema import EVENT_TYPES, TRAFFIC_MEASURES

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


def _status(
    table: Table,
    cols: Sequence[str],
    time_col: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> tuple[nw.Expr, list[str]]:
    """Why a row is left out, as an integer expression (0: kept), and the null-checked columns.

    1: ``time_col`` outside ``[start, end)`` or null (only when a range is given);
    2: a null in one of ``cols``; 3: an ``event`` value outside :data:`EVENT_TYPES`
    (events only). The first reason that applies wins, as the filters used to be applied
    one after the other.
    """
    present = set(table.columns)
    null_cols = [c for c in cols if c in present]
    status: nw.Expr = nw.lit(0, nw.Int64())
    if table.name == "events":
        status = (
            nw.when(~nw.col("event").is_in(list(EVENT_TYPES)))
            .then(nw.lit(3, nw.Int64()))
            .otherwise(status)
        )
    if null_cols:
        has_null = nw.any_horizontal(*(nw.col(c).is_null() for c in null_cols), ignore_nulls=False)
        status = nw.when(has_null).then(nw.lit(2, nw.Int64())).otherwise(status)
    if start is not None or end is not None:
        outside = ~_engine.between(time_col, start, end) | nw.col(time_col).is_null()
        status = nw.when(outside).then(nw.lit(1, nw.Int64())).otherwise(status)
    return status, null_cols


def _exclusions(
    name: str,
    counts: Mapping[int, int],
    time_col: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    null_cols: Sequence[str],
    what: str,
) -> list[Exclusion]:
    """The audit records of the rows each status code left out (in the order applied)."""
    out: list[Exclusion] = []
    if counts.get(1):
        out.append(
            Exclusion(name, "outside range", counts[1], f"{time_col} outside [{start}, {end})")
        )
    if counts.get(2):
        out.append(
            Exclusion(name, f"null {', '.join(null_cols)}", counts[2], f"excluded from {what}")
        )
    if counts.get(3):
        out.append(Exclusion(name, "unknown event value", counts[3], f"not in {list(EVENT_TYPES)}"))
    return out


def count_events(
    events: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    sessions: bool = False,
) -> Counts:
    """Event counts and distinct visitors per group and period, in one engine pass.

    Returns a table with ``by + [period]`` keys and the columns ``exposures``, ``clicks``,
    ``page_views``, ``visitors``, ``inquirers``, ``carters``, ``favoriters`` (only those
    whose events occur) and, with ``sessions=True``, ``sessions``.

    One aggregation does everything: each row gets a status (kept, outside the range,
    null key, unknown event); kept rows keep their group keys, the others get null keys
    and fall into one audit group. Per group, event counts are sums of indicators and
    distinct visitors are ``n_unique`` of the visitor id masked to the event (null
    elsewhere), less one when the group has such nulls (``len > count``), so they are
    exact at the requested grain on every engine. The collected table has (groups x
    periods + 1) rows whatever the number of events.
    """
    by = list(by)
    keys = [*by, PERIOD]
    status, null_cols = _status(events, ["ts", "visitor_id", "event", *by], "ts", start, end)
    ok = nw.col("_st") == 0
    event = nw.col("event")
    frame = events.frame.with_columns(status.alias("_st"))
    pre = frame.select(
        *by,
        nw.when(ok).then(_engine.period_key("ts", freq)).alias(PERIOD),
        *((ok & (event == e)).cast(nw.Int64()).alias(f"_n_{e}") for e in COUNT_EVENTS),
        *(
            nw.when(ok & (event == e)).then(nw.col("visitor_id")).alias(f"_u_{e}")
            for e in UNIQUE_EVENTS
        ),
        *((nw.col("_st") == k).cast(nw.Int64()).alias(f"_x{k}") for k in (1, 2, 3)),
    )
    agg = pre.group_by(keys).agg(
        nw.len().alias("_rows"),
        *(nw.col(f"_n_{e}").sum() for e in COUNT_EVENTS),
        *(nw.col(f"_u_{e}").n_unique().alias(f"_d_{e}") for e in UNIQUE_EVENTS),
        *(nw.col(f"_u_{e}").count().alias(f"_c_{e}") for e in UNIQUE_EVENTS),
        *(nw.col(f"_x{k}").sum() for k in (1, 2, 3)),
    )
    raw = _engine.collect(agg, "funnel:events")
    rows_in = {"events": int(raw["_rows"].sum())}
    excluded = _exclusions(
        "events",
        {k: int(raw[f"_x{k}"].sum()) for k in (1, 2, 3)},
        "ts",
        start,
        end,
        null_cols,
        "the funnel",
    )
    kept = raw[raw[PERIOD].notna()]
    wide = kept[by].reset_index(drop=True)
    wide[PERIOD] = kept[PERIOD].to_numpy().astype("int64")
    rows = kept["_rows"].to_numpy().astype("int64")
    for e, name in COUNT_EVENTS.items():
        n = kept[f"_n_{e}"].to_numpy().astype("int64")
        if n.sum():
            wide[name] = n
    for e, name in UNIQUE_EVENTS.items():
        # n_unique counts null as one value on every engine: drop it where the group has nulls
        counted = kept[f"_c_{e}"].to_numpy().astype("int64")
        distinct = kept[f"_d_{e}"].to_numpy().astype("int64") - (rows > counted)
        if counted.sum():
            wide[name] = distinct
    if sessions and events.has("session_id"):
        s = _engine.collect(
            frame.filter(ok & (event == "visit"))
            .with_columns(_engine.period_key("ts", freq).alias(PERIOD))
            .select([*keys, "session_id"])
            .unique()
            .group_by(keys)
            .agg(nw.len().alias("sessions")),
            "funnel:sessions",
        )
        wide = wide.merge(s, on=keys, how="outer")
    return Counts(wide, keys, excluded, rows_in)


def _cents(col: str) -> tuple[nw.Expr, nw.Expr]:
    """An amount as whole cents (Int64) and the float remainder below a cent.

    ``cents / 100 + remainder`` is the amount; for amounts with at most two decimals the
    remainder is exactly 0.0 (``round(x * 100) / 100`` is the same double as ``x`` when
    ``x`` was parsed from such a decimal, IEEE division being correctly rounded).
    """
    amount = nw.col(col).cast(nw.Float64()).fill_null(0.0)
    cents = (amount * 100).round(0).cast(nw.Int64())
    return cents, amount - cents.cast(nw.Float64()) / 100


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

    Amounts are summed in the engine as integer cents plus a sub-cent float remainder,
    so ``paid_amount`` does not depend on the order in which an engine adds rows: it is
    the same to the last digit on every engine (and the correctly rounded sum of the
    amounts when they have at most two decimals). ``paid_amount_sq`` sums the squares of
    each buyer's amount in cents as doubles: exact, hence also order-free, while a
    group's total stays below 2**53 cents² (about 9e11 in currency units squared).

    Two collects: an audit pass (rows, null keys) and one aggregation over the union of
    the created / paid / deposit roles.
    """
    by = list(by)
    keys = [*by, PERIOD]
    null_cols = [c for c in ["order_id", "buyer_id", *by] if orders.has(c)]
    bad = nw.any_horizontal(*(nw.col(c).is_null() for c in null_cols), ignore_nulls=False)
    audit = _engine.collect(
        orders.frame.select(nw.len().alias("rows"), bad.cast(nw.Int64()).sum().alias("bad")),
        "orders:audit",
    )
    rows_in = {"orders": int(audit["rows"].iloc[0]) if len(audit) else 0}
    n_bad = int(audit["bad"].fillna(0).iloc[0]) if len(audit) else 0
    excluded: list[Exclusion] = []
    if n_bad:
        excluded.append(
            Exclusion(
                "orders", f"null {', '.join(null_cols)}", n_bad, "excluded from order metrics"
            )
        )
    base = orders.frame.filter(~bad)
    cents, rest = _cents("amount")

    def role(name: str, time_col: str, id_col: str, money: bool = False) -> nw.LazyFrame[Any]:
        part = base.filter(~nw.col(time_col).is_null())
        if start is not None or end is not None:
            part = part.filter(_engine.between(time_col, start, end))
        return part.select(
            *(nw.col(k) for k in by),
            _engine.period_key(time_col, freq).cast(nw.Int64()).alias(PERIOD),
            nw.lit(name).alias("_role"),
            nw.col(id_col).cast(nw.String()).alias("_id"),
            (cents if money else nw.lit(0, nw.Int64())).alias("_cents"),
            (rest if money else nw.lit(0.0, nw.Float64())).alias("_rest"),
        )

    roles = {"order_buyers": role("order_buyers", "created_at", "buyer_id")}
    if orders.has("paid_at"):
        roles["paid_buyers"] = role("paid_buyers", "paid_at", "buyer_id", money=True)
        roles["paid_orders"] = role("paid_orders", "paid_at", "order_id")
    else:
        excluded.append(
            Exclusion("orders", "no paid_at column", rows_in["orders"], "payment metrics left out")
        )
    if orders.has("deposit_paid_at"):
        roles["deposit_buyers"] = role("deposit_buyers", "deposit_paid_at", "buyer_id")
    union = nw.concat(list(roles.values()), how="vertical")
    # one row per (group, period, role, buyer or order): the distinct ids of each role
    per_id = (
        union.group_by([*keys, "_role", "_id"])
        .agg(nw.col("_cents").sum(), nw.col("_rest").sum())
        .with_columns(
            ((nw.col("_cents").cast(nw.Float64()) + nw.col("_rest") * 100) ** 2).alias("_sq")
        )
    )
    per_group = (
        per_id.with_columns(*((nw.col("_role") == r).cast(nw.Int64()).alias(r) for r in roles))
        .group_by(keys)
        .agg(
            *(nw.col(r).sum() for r in roles),
            nw.col("_cents").sum(),
            nw.col("_rest").sum(),
            nw.col("_sq").sum(),
        )
    )
    raw = _engine.collect(per_group, "funnel:orders")
    out = raw[by].reset_index(drop=True)
    out[PERIOD] = raw[PERIOD].to_numpy().astype("int64")
    for r in roles:
        out[r] = raw[r].to_numpy().astype("int64")
    if "paid_buyers" in roles:
        cents_total = raw["_cents"].to_numpy().astype("int64")
        out["paid_amount"] = cents_total / 100 + raw["_rest"].to_numpy(dtype="float64")
        out["paid_amount_sq"] = raw["_sq"].to_numpy(dtype="float64") / 10_000
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
    measures = [c for c in TRAFFIC_MEASURES if traffic.has(c)]
    frame = frame.with_columns(_engine.period_key("date", freq).alias(PERIOD))
    agg = frame.group_by(keys).agg(
        *(nw.col(c).sum().alias(c) for c in measures),
        nw.len().alias("_rows"),
        nw.col("date").n_unique().alias("_days"),
    )
    return Counts(_engine.collect(agg, "funnel:traffic"), keys, excluded, rows_in)
