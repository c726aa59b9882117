"""The ratings table in the engine: DSR's platform rules as lazy narwhals queries.

:func:`prepare` loads the ratings (and, when given, the orders), applies the
platform's rejection rules as flag columns, runs the one audit pass (rows, reasons,
data range) and marks the buyer-months over the monthly cap (``_heavy``), whose
ratings are later collected row by row (:mod:`shopmetrics.engine.rating_sums`). The
other queries over the prepared ratings: the rows outside the window
(:func:`audit_window`), the low ratings of an alert (:func:`low_rows`), and the
peer benchmarks beside them (:func:`load_peers`). Days are whole numbers counted
from :data:`~shopmetrics.engine.periods.EPOCH` (``_day``), cut in the store's time zone.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Exclusion
from shopmetrics.engine.periods import EPOCH, day_number, parse_instant, period_key
from shopmetrics.engine.running import distinct
from shopmetrics.engine.tables import Table, collect, count_rows, join_ready, load, settle
from shopmetrics.errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

DIMENSIONS: tuple[str, str, str] = ("item", "service", "logistics")
"""The three DSR dimensions, in the platform's order."""

SCORE_COLUMNS: dict[str, str] = {
    "item": "item_score",
    "service": "service_score",
    "logistics": "logistics_score",
}
"""Ratings column holding each dimension's stars."""

CHINESE_NAMES: dict[str, str] = {
    "item": "宝贝与描述相符",
    "service": "卖家的服务态度",
    "logistics": "物流服务的质量",
}

DIMENSION_ALIASES: dict[str, str] = {
    **{d: d for d in DIMENSIONS},
    **{v: k for k, v in SCORE_COLUMNS.items()},
    **{v: k for k, v in CHINESE_NAMES.items()},
    "描述相符": "item",
    "宝贝描述": "item",
    "description": "item",
    "服务态度": "service",
    "物流服务": "logistics",
    "shipping": "logistics",
}
"""Names a peers table may give a dimension (English, ratings column, Chinese)."""

RATING_DEADLINE_DAYS = 15
"""Days after which an unrated trade would take ``default_score`` (counted from payment,
as the orders table has no trade-success time)."""

DAY = "_day"
"""Column of the rating's day number (store-local)."""

SHOWN_COLUMNS = ("product_id", "carrier", "region")
"""Optional ratings columns carried along for the low-ratings list."""


# ---------------------------------------------------------------- days


def parse_day(value: Any, name: str, tz: str | None) -> dt.date:
    """A date from a date, datetime, pandas Timestamp or ISO string (store-local)."""
    return parse_instant(value, name, tz).date()


def parse_time(value: Any, name: str, tz: str | None) -> dt.datetime:
    """An instant from a date, datetime, pandas Timestamp or ISO string (store-local)."""
    return parse_instant(value, name, tz)


def day_index(day: dt.date) -> int:
    """The day number of a date (days since the epoch)."""
    return (day - EPOCH.date()).days


def day_date(number: int) -> dt.date:
    """The date of a day number."""
    return EPOCH.date() + dt.timedelta(days=int(number))


def to_int(value: Any) -> int:
    """A collected count as an int (0 for null / NaN)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return 0
    return 0 if math.isnan(f) else int(f)


def _opt_int(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


# ---------------------------------------------------------------- preparation


@dataclasses.dataclass(frozen=True)
class Rules:
    """The platform rules applied, each a keyword of :func:`shopmetrics.dsr.dsr`.

    Attributes:
        cap: ``max_per_buyer_month`` (``None``: no monthly cap).
        partial: ``"rated_only"`` or ``"drop"``.
        reject_unpaid: Reject ratings of trades in ``orders`` that were never paid.
        default_score: The score of an unrated paid trade (``None``: none, the rule).
    """

    cap: int | None = 3
    partial: str = "rated_only"
    reject_unpaid: bool = True
    default_score: float | None = None

    def definition(self) -> str:
        """``"alibaba"``, or ``"alibaba, modified: ..."`` naming the rules changed."""
        rules = []
        if self.cap != 3:
            rules.append(f"max_per_buyer_month={self.cap}")
        if self.partial != "rated_only":
            rules.append(f"partial={self.partial!r}")
        if not self.reject_unpaid:
            rules.append("reject_unpaid=False")
        if self.default_score is not None:
            rules.append(f"default_score={self.default_score}")
        return "alibaba" if not rules else "alibaba, modified: " + ", ".join(rules)


@dataclasses.dataclass
class Prep:
    """The ratings behind the boundary, with the rules applied lazily.

    ``eligible`` holds the ratings that passed every rule, with ``_oid`` (order id as
    text), ``_<dim>`` (stars as floats, null when not rated), ``_ts`` (trade-success
    time, else rating time), ``_day``, ``_month`` (natural month of ``_ts``), ``_syn``
    (a default-score row) and ``_heavy`` (its buyer-month is over the cap).
    """

    table: Table
    eligible: nw.LazyFrame[Any]
    by: list[str]
    cap: int | None
    rows_in: dict[str, int]
    excluded: list[Exclusion]
    notes: list[str]
    first_day: int | None
    last_day: int | None
    has_orders: bool
    brushing_ready: bool
    synthetic: bool
    stats: dict[str, int] = dataclasses.field(default_factory=dict)


def score(d: str) -> nw.Expr:
    """The stars of dimension ``d`` (float, null when not rated)."""
    return nw.col(f"_{d}")


_PREPARED: contextvars.ContextVar[dict[Any, tuple[Any, Any, Prep]] | None] = contextvars.ContextVar(
    "shopmetrics_prepared_ratings", default=None
)


@contextmanager
def sharing_prepared() -> Iterator[None]:
    """Inside the block, :func:`prepare` of the same ratings and orders objects with the
    same grouping, columns, time zone and rules is done once (the weekly report's DSR
    and low ratings read the same prepared ratings): the later calls get a copy of the
    first one's :class:`Prep` (its lists and counts their own; the lazy frame shared, as
    it is never modified), and their ledgers do not repeat its audit queries."""
    token = _PREPARED.set({})
    try:
        yield
    finally:
        _PREPARED.reset(token)


def prepare(
    ratings: Any,
    orders: Any,
    *,
    by: list[str],
    columns: Mapping[str, str] | None,
    tz: str | None,
    rules: Rules,
) -> Prep:
    """Load the ratings (and orders), apply the platform rules and audit the rows (once
    for the same inputs inside :func:`sharing_prepared`)."""
    memo = _PREPARED.get()
    if memo is None:
        return _prepare(ratings, orders, by=by, columns=columns, tz=tz, rules=rules)
    key = (id(ratings), id(orders), tuple(by), tuple(sorted((columns or {}).items())), tz, rules)
    hit = memo.get(key)
    if hit is None or hit[0] is not ratings or hit[1] is not orders:
        prep = _prepare(ratings, orders, by=by, columns=columns, tz=tz, rules=rules)
        memo[key] = hit = (ratings, orders, prep)  # the objects held: their ids stay theirs
    first = hit[2]
    return dataclasses.replace(
        first,
        by=list(first.by),
        rows_in=dict(first.rows_in),
        excluded=list(first.excluded),
        notes=list(first.notes),
        stats=dict(first.stats),
    )


def _prepare(
    ratings: Any,
    orders: Any,
    *,
    by: list[str],
    columns: Mapping[str, str] | None,
    tz: str | None,
    rules: Rules,
) -> Prep:
    default_score = rules.default_score
    rt, od = _load(ratings, orders, by, columns, tz)
    if default_score is not None and od is None:
        msg = "default_score needs orders= (the paid trades that were not rated)"
        raise SchemaError(msg)
    notes = [rt.tz_note]
    has_ts = "trade_success_at" in rt.columns
    rt_frame, od_frame = rt.frame, None
    if od is not None:
        od_cols = [
            "order_id",
            "buyer_id",
            "paid_at",
            *[c for c in dict.fromkeys([*by, "product_id"]) if od.has(c)],
        ]
        rt_frame, od_frame, copied = join_ready(
            rt_frame, od.frame.select(od_cols), "dsr", ("ratings", "orders")
        )
        if copied:
            notes.append(copied)
    frame = _rating_columns(rt_frame, rt.columns, by, has_ts=has_ts)
    if od_frame is not None:
        frame = _with_payments(frame, od_frame)
    reasons = _reasons(unpaid=od is not None and rules.reject_unpaid, partial=rules.partial)
    frame = _with_rule_columns(frame, reasons, has_ts=has_ts)
    # read by a dozen small queries (the audit, the windows, the flags): computed once
    # when the rows are in memory on polars
    frame = settle(frame, "dsr:prepared", rt, od)
    stats, first_day, last_day = _audit_pass(frame, len(reasons), has_ts=has_ts, orders=od)
    excluded = [
        Exclusion("ratings", reason, stats[f"x{i}"], detail)
        for i, (reason, _, detail) in enumerate(reasons)
        if stats[f"x{i}"]
    ]
    notes += _audit_notes(stats, has_ts=has_ts)
    rows_in = {"ratings": stats["rows"]}
    if od is not None:
        rows_in["orders"] = count_rows(od)
    synthetic = False
    if default_score is not None and od is not None and od_frame is not None:
        frame = add_default_rows(frame, od_frame, od, by, default_score)
        synthetic = True
        notes.append(
            f"default_score={default_score}: every paid trade without a rating counts "
            f"{default_score} in all three dimensions, dated {RATING_DEADLINE_DAYS} days after "
            "payment (NOT the platform rule, which gives unrated trades no score)"
        )
    eligible = _with_cap(frame.filter(nw.col("_eligible")), rules.cap)
    return Prep(
        rt,
        eligible,
        by,
        rules.cap,
        rows_in,
        excluded,
        notes,
        first_day,
        last_day,
        od is not None,
        od_frame is not None,
        synthetic,
        stats,
    )


def _load(
    ratings: Any,
    orders: Any,
    by: list[str],
    columns: Mapping[str, str] | None,
    tz: str | None,
) -> tuple[Table, Table | None]:
    rt = load(ratings, "ratings", columns, tz)
    rt.require("order_id", "buyer_id", "rated_at", purpose="DSR")
    rt.require(*SCORE_COLUMNS.values(), purpose="DSR scores")
    rt.require(*by, purpose="grouping (by=)")
    od: Table | None = None
    if orders is not None:
        od = load(orders, "orders", columns, tz)
        od.require(
            "order_id", "buyer_id", "paid_at", purpose="checking ratings against paid trades"
        )
    return rt, od


def _rating_columns(
    rt_frame: nw.LazyFrame[Any], names: list[str], by: list[str], *, has_ts: bool
) -> nw.LazyFrame[Any]:
    """The columns DSR reads, stars as floats (``_<dim>``) and the order id as text."""
    extra = [c for c in SHOWN_COLUMNS if c in names and c not in by]
    frame = rt_frame.with_columns(
        *(
            nw.col(SCORE_COLUMNS[d]).cast(nw.Float64()).fill_nan(None).alias(f"_{d}")
            for d in DIMENSIONS
        ),
        nw.col("order_id").cast(nw.String()).alias("_oid"),
    )
    base_cols = [
        "order_id",
        "_oid",
        "buyer_id",
        "rated_at",
        *(["trade_success_at"] if has_ts else []),
        *(f"_{d}" for d in DIMENSIONS),
        *by,
        *extra,
    ]
    return frame.select(list(dict.fromkeys(base_cols)))


def _with_payments(frame: nw.LazyFrame[Any], ofr: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Each rating's payment time and order lines, and its buyer's first payment."""
    per_order = (
        ofr.with_columns(nw.col("order_id").cast(nw.String()).alias("_oid"))
        .group_by("_oid")
        .agg(nw.col("paid_at").max().alias("_paid_at"), nw.len().alias("_o_lines"))
    )
    first_paid = (
        ofr.filter(~nw.col("paid_at").is_null())
        .with_columns(nw.col("buyer_id").cast(nw.String()).alias("_bid"))
        .group_by("_bid")
        .agg(nw.col("paid_at").min().alias("_first_paid"))
    )
    return (
        frame.join(per_order, on="_oid", how="left")
        .with_columns(nw.col("buyer_id").cast(nw.String()).alias("_bid"))
        .join(first_paid, on="_bid", how="left")
        .drop("_bid")
    )


def _n_rated() -> nw.Expr:
    return sum(((~score(d).is_null()).cast(nw.Int64()) for d in DIMENSIONS), nw.lit(0, nw.Int64()))


def _reasons(*, unpaid: bool, partial: str) -> list[tuple[str, nw.Expr, str]]:
    """The rejection reasons, in priority order: (reason, condition, detail)."""
    bad = nw.any_horizontal(
        *(
            ~score(d).is_null()
            & ((score(d) < 1) | (score(d) > 5) | (score(d).round(0) != score(d)))
            for d in DIMENSIONS
        ),
        ignore_nulls=True,
    )
    n_rated = _n_rated()
    reasons: list[tuple[str, nw.Expr, str]] = [
        (
            "missing_rated_at",
            nw.col("rated_at").is_null(),
            "no rating time: cannot be placed in a window",
        ),
        ("no_scores", n_rated == 0, "no dimension rated (not a DSR rating)"),
        (
            "score_out_of_range",
            bad,
            "a score outside 1–5 or not a whole star; the whole rating is rejected",
        ),
    ]
    if unpaid:
        reasons.append(
            (
                "unpaid_trade",
                (~nw.col("_o_lines").is_null()) & nw.col("_paid_at").is_null(),
                "the trade is in orders but was never paid",
            )
        )
    if partial == "drop":
        reasons.append(
            (
                "partial_rating",
                n_rated < 3,
                "partial='drop': a rating missing a dimension is dropped whole",
            )
        )
    return reasons


def _with_rule_columns(
    frame: nw.LazyFrame[Any], reasons: list[tuple[str, nw.Expr, str]], *, has_ts: bool
) -> nw.LazyFrame[Any]:
    """``_x<i>`` (rejected for reason ``i`` first), ``_eligible``, ``_ts``, day, month."""
    taken = nw.lit(value=False)
    flag_cols = []
    for i, (_, cond, _) in enumerate(reasons):
        flag_cols.append((cond.fill_null(value=False) & ~taken).alias(f"_x{i}"))
        taken = taken | cond.fill_null(value=False)
    ts_expr = (
        nw.coalesce(nw.col("trade_success_at"), nw.col("rated_at"))
        if has_ts
        else nw.col("rated_at")
    )
    return frame.with_columns(
        *flag_cols,
        (~taken).alias("_eligible"),
        _n_rated().alias("_n_rated"),
        ts_expr.alias("_ts"),
        day_number("rated_at").alias(DAY),
        nw.lit(value=False).alias("_syn"),
    ).with_columns(period_key("_ts", "M").alias("_month"))


def _audit_pass(
    frame: nw.LazyFrame[Any], n_reasons: int, *, has_ts: bool, orders: Table | None
) -> tuple[dict[str, int], int | None, int | None]:
    """One collected row: rows, rejections per reason, indicator counts, data range."""
    p1_exprs = [
        nw.len().alias("rows"),
        nw.col(DAY).min().alias("first_day"),
        nw.col(DAY).max().alias("last_day"),
    ]
    p1_exprs += [nw.col(f"_x{i}").cast(nw.Int64()).sum().alias(f"x{i}") for i in range(n_reasons)]
    ind: dict[str, nw.Expr] = {
        "partial": (nw.col("_n_rated") < 3) & nw.col("_eligible"),
        "nobuyer": nw.col("buyer_id").is_null() & nw.col("_eligible"),
    }
    if has_ts:
        ind["fallback"] = nw.col("trade_success_at").is_null() & nw.col("_eligible")
    if orders is not None:
        ind["noorder"] = nw.col("_o_lines").is_null() & nw.col("_eligible")
    stats_frame = frame.with_columns(*(e.cast(nw.Int64()).alias(f"_i_{k}") for k, e in ind.items()))
    p1_exprs += [nw.col(f"_i_{k}").sum().alias(k) for k in ind]
    row = collect(stats_frame.select(*p1_exprs), "dsr:audit")
    stats = {c: to_int(row[c].iloc[0]) for c in row.columns if c not in ("first_day", "last_day")}
    return stats, _opt_int(row["first_day"].iloc[0]), _opt_int(row["last_day"].iloc[0])


def _audit_notes(stats: Mapping[str, int], *, has_ts: bool) -> list[str]:
    notes = []
    if stats.get("partial"):
        notes.append(
            f"{stats['partial']} partial ratings count in the dimensions they rate only "
            "(no default score for the others)"
        )
    if not has_ts:
        notes.append(
            "ratings have no trade_success_at column: the monthly cap orders each buyer's "
            "ratings by rating time (rated_at) and uses its natural month instead"
        )
    elif stats.get("fallback"):
        notes.append(
            f"{stats['fallback']} ratings have no trade_success_at: the monthly cap orders them "
            "by rating time (rated_at) instead"
        )
    if stats.get("nobuyer"):
        notes.append(
            f"{stats['nobuyer']} ratings have no buyer_id (anonymous): the monthly cap "
            "cannot apply to them"
        )
    if stats.get("noorder"):
        notes.append(
            f"{stats['noorder']} ratings have no matching order_id in orders: kept (the orders "
            "table may not reach back far enough)"
        )
    return notes


def _with_cap(eligible: nw.LazyFrame[Any], cap: int | None) -> nw.LazyFrame[Any]:
    """``_heavy``: the rating's (buyer, natural month) has more than ``cap`` ratings."""
    if cap is None:
        return eligible.with_columns(nw.lit(value=False).alias("_heavy"))
    return eligible.with_columns(nw.len().over("buyer_id", "_month").alias("_bm_n")).with_columns(
        ((nw.col("_bm_n") > cap) & ~nw.col("buyer_id").is_null()).alias("_heavy")
    )


def add_default_rows(
    frame: nw.LazyFrame[Any],
    od_frame: nw.LazyFrame[Any],
    od: Table,
    by: list[str],
    default_score: float,
) -> nw.LazyFrame[Any]:
    """Unrated paid trades as ratings of ``default_score`` (the switched-off platform rule)."""
    schema = frame.collect_schema()
    ofr = od_frame.with_columns(nw.col("order_id").cast(nw.String()).alias("_oid"))
    per = (
        ofr.filter(~nw.col("paid_at").is_null())
        .group_by("_oid")
        .agg(
            nw.col("order_id").min().alias("order_id"),
            nw.col("buyer_id").min().alias("buyer_id"),
            nw.col("paid_at").max().alias("_paid_at"),
            *(nw.col(c).min().alias(c) for c in by if od.has(c)),
        )
    )
    rated = distinct(frame.select("_oid"))
    unrated = per.join(rated, on="_oid", how="anti")
    rated_at = nw.col("_paid_at") + nw.lit(dt.timedelta(days=RATING_DEADLINE_DAYS))
    values: dict[str, nw.Expr] = {
        "order_id": nw.col("order_id"),
        "_oid": nw.col("_oid"),
        "buyer_id": nw.col("buyer_id"),
        "rated_at": rated_at,
        "_paid_at": nw.col("_paid_at"),
        "_o_lines": nw.lit(1),
        "_eligible": nw.lit(value=True),
        "_n_rated": nw.lit(3),
        "_ts": rated_at,
        "_syn": nw.lit(value=True),
        **{f"_{d}": nw.lit(float(default_score)) for d in DIMENSIONS},
        **{c: nw.col(c) for c in by if od.has(c)},
    }
    exprs = []
    for name, dtype in schema.items():
        if name in ("_day", "_month"):
            continue
        expr = values.get(name, nw.lit(None))
        exprs.append(expr.cast(dtype).alias(name))
    syn = unrated.select(exprs)
    cols = [c for c in schema.names() if c not in ("_day", "_month")]
    both = nw.concat([frame.select(cols), syn.select(cols)], how="vertical")
    return both.with_columns(
        day_number("rated_at").alias(DAY), period_key("_ts", "M").alias("_month")
    )


# ---------------------------------------------------------------- queries on the prepared rows


def audit_window(prep: Prep, start: int, asof: int) -> int:
    """Audit the ratings outside the window (days ``start`` to ``asof``).

    Real ratings after ``as_of`` or before the window become exclusions; default-score
    rows in the window a note. Returns the number of over-cap-month rows up to ``as_of``.
    """
    win = (nw.col(DAY) >= start) & (nw.col(DAY) <= asof)
    outside = collect(
        prep.eligible.with_columns(
            ((nw.col(DAY) > asof) & ~nw.col("_syn")).cast(nw.Int64()).alias("_after"),
            ((nw.col(DAY) < start) & ~nw.col("_syn")).cast(nw.Int64()).alias("_before"),
            (win & nw.col("_syn")).cast(nw.Int64()).alias("_syn_in"),
            (nw.col("_heavy") & (nw.col(DAY) <= asof)).cast(nw.Int64()).alias("_n_heavy"),
        ).select(
            nw.col("_after").sum(),
            nw.col("_before").sum(),
            nw.col("_syn_in").sum(),
            nw.col("_n_heavy").sum(),
        ),
        "dsr:outside",
    )
    n_after, n_before = to_int(outside["_after"].iloc[0]), to_int(outside["_before"].iloc[0])
    if n_after:
        prep.excluded.append(
            Exclusion("ratings", "after_as_of", n_after, f"rated after {day_date(asof)}")
        )
    if n_before:
        prep.excluded.append(
            Exclusion("ratings", "before_window", n_before, f"rated before {day_date(start)}")
        )
    if prep.synthetic:
        prep.notes.append(
            f"{to_int(outside['_syn_in'].iloc[0])} unrated paid trades fall in the window with "
            "the default score"
        )
    return to_int(outside["_n_heavy"].iloc[0])


def low_rows(
    prep: Prep, dims: Sequence[str], threshold: int, since: dt.datetime, asof: int
) -> pd.DataFrame:
    """Ratings from ``since`` to day ``asof`` with a chosen dimension at or below
    ``threshold`` stars: the shown columns, ``_oid``, ``_day``, ``_heavy``, ``_<dim>``."""
    shown = [c for c in SHOWN_COLUMNS if c in prep.table.columns]
    low = nw.any_horizontal(*(score(d) <= threshold for d in dims), ignore_nulls=True).fill_null(
        value=False
    )
    return collect(
        prep.eligible.filter(
            low & (nw.col("rated_at") >= nw.lit(since)) & (nw.col(DAY) <= asof)
        ).select(
            "rated_at",
            "order_id",
            "_oid",
            "buyer_id",
            *shown,
            DAY,
            "_heavy",
            *(f"_{d}" for d in DIMENSIONS),
        ),
        "dsr:low_ratings",
    )


# ---------------------------------------------------------------- peers


def load_peers(
    peers: Any, columns: Mapping[str, str] | None, by: list[str], notes: list[str]
) -> pd.DataFrame:
    """The peer benchmarks: one row per dimension (and group), ``peer_avg``, max, min."""
    p = collect(load(peers, "peers", columns, localize=False).frame, "dsr:peers")
    dim_col = (
        "dimension" if "dimension" in p.columns else ("metric" if "metric" in p.columns else None)
    )
    if dim_col is None or "peer_avg" not in p.columns:
        msg = (
            "peers: expected one row per DSR dimension with columns 'dimension' (item / service / "
            "logistics) and 'peer_avg', optionally 'peer_max', 'peer_min' and by-columns; "
            f"columns present: {list(p.columns)}"
        )
        raise SchemaError(msg)
    p = p.copy()
    p["dimension"] = [DIMENSION_ALIASES.get(str(v).strip()) for v in p[dim_col]]
    other = int(p["dimension"].isna().sum())
    if other:
        notes.append(f"peers: {other} rows are not DSR dimensions and were ignored")
    p = p[p["dimension"].notna()]
    keys = [c for c in by if c in p.columns]
    if by and not keys:
        notes.append("peers have no by-columns: the same peer values apply to every group")
    dup = p.duplicated(["dimension", *keys])
    if dup.any():
        msg = (
            f"peers: {int(dup.sum())} repeated rows for the same dimension"
            + (f" and {keys}" if keys else "")
            + "; give one row per dimension (per group), e.g. filter by tier or category first"
        )
        raise SchemaError(msg)
    for c in ("peer_max", "peer_min"):
        if c not in p.columns:
            p[c] = np.nan
            notes.append(f"peers have no {c}: <dim>_vs_peers is NaN on the side that needs it")
    return p[["dimension", *keys, "peer_avg", "peer_max", "peer_min"]]
