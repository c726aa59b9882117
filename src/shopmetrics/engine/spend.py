"""The spend table in the engine, and the other queries of traffic sources.

- :func:`load_spend`, :func:`sum_spend`: paid-traffic cost per group and period (and the
  spend rows' moments of the CPC / CPM intervals).
- :func:`line_profit`, :func:`order_facts`, :func:`recorded_credit`: the paid orders'
  gross profit (own cost, per-product margin, store-wide fallback), one row per order,
  and the orders credited to their recorded source with per-buyer aggregates.
- :func:`visitors_by_kind`: distinct visitors of paid and free sources per period.

A spend table has a ``date``, a ``source`` and a ``cost`` per row (``campaign``,
``keyword``, ``exposures``, ``clicks`` optional). :func:`sum_spend` brings back the
cost, and the platform's own exposures and clicks, summed to the grouping and period
of :func:`shopmetrics.traffic.traffic_sources` and
:func:`shopmetrics.visitor_value.visitor_value`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.audit import Exclusion
from shopmetrics.engine import periods, tables
from shopmetrics.engine.counting import Counts, cents_of, count_events
from shopmetrics.engine.periods import PERIOD, Freq
from shopmetrics.engine.tables import Table
from shopmetrics.errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KIND",
    "SPEND_MOMENTS",
    "buyers_by_kind",
    "line_profit",
    "load_spend",
    "order_facts",
    "recorded_credit",
    "sum_spend",
    "visitors_by_kind",
]


def load_spend(
    spend: Any, by: Sequence[str], columns: Mapping[str, str] | None, tz: str | None
) -> Table:
    """Load a spend table; it needs ``date``, ``source``, ``cost`` and every ``by`` column.

    Raises:
        ColumnNotFoundError: ``date``, ``source`` or ``cost`` is missing.
        SchemaError: a ``by`` column is missing.
    """
    sp = tables.load(spend, "spend", columns, tz)
    sp.require("date", "source", "cost", purpose="spend")
    missing = [c for c in by if not sp.has(c)]
    if missing:
        msg = f"spend: column(s) {missing} needed for by={list(by)!r} are not in the spend table"
        raise SchemaError(msg)
    return sp


def sum_spend(
    sp: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    moments: bool = False,
) -> Counts:
    """``cost`` (and ``spend_exposures``, ``spend_clicks`` when the table has them) per
    group and period, rows dated outside ``[start, end)`` left out and counted; with
    ``moments``, the spend rows' moments of :data:`SPEND_MOMENTS` too.

    The table's keys are ``by + ["period"]``: the period is already its label.
    """
    by = list(by)
    rows = tables.count_rows(sp)
    excluded: list[Exclusion] = []
    frame = sp.frame
    if start is not None or end is not None:
        inside = periods.between("date", start, end)
        n_out = tables.count_rows(sp, ~inside)
        if n_out:
            excluded.append(Exclusion("spend", "outside range", n_out, "date outside [start, end)"))
        frame = frame.filter(inside)
    keys = [*by, PERIOD]
    # cost summed as whole cents (and a sub-cent rest): the same sum on every engine,
    # whatever the order in which it adds the rows
    cents, rest = cents_of("cost")
    frame = frame.with_columns(
        periods.period_key("date", freq).alias(PERIOD),
        cents.alias("_cost_c"),
        rest.alias("_cost_r"),
    )
    aggs = [nw.col("_cost_c").sum(), nw.col("_cost_r").sum()]
    aggs += [nw.col(c).sum().alias(f"spend_{c}") for c in ("exposures", "clicks") if sp.has(c)]
    if moments:
        aggs += _moments(sp)
    out = tables.collect(frame.group_by(keys).agg(*aggs), "traffic:spend")
    cost = (out["_cost_c"].astype("float64") + out["_cost_r"].astype("float64")) / 100
    out = out.drop(columns=["_cost_c", "_cost_r"])
    if moments:
        out = _moment_columns(out)
    out.insert(len(keys), "cost", cost)
    out["period"] = [periods.period_label(int(k), freq) for k in out[PERIOD]]
    return Counts(out.drop(columns=[PERIOD]), [*by, "period"], excluded, {"spend": rows})


SPEND_MOMENTS = "_sp_"
"""Prefix of the spend rows' moments :func:`sum_spend` adds with ``moments=True`` (rows,
Σ cost², Σ clicks², Σ cost × clicks, the same for exposures): the aggregates of the CPC
and CPM intervals, dropped from the result."""


_SPLIT = 2**16
"""Base of the split of cents for exact integer sums of squares (as in the order counts)."""


def _moments(sp: Table) -> list[nw.Expr]:
    """The spend rows' moments as exact integer sums of cents (and sub-cent float rests, 0
    for costs with two decimals), so they are the same on every engine whatever the
    order it adds rows in; :func:`_moment_columns` turns them into yuan."""
    m = SPEND_MOMENTS
    c = nw.col("_cost_c")
    hi = c.abs() // _SPLIT
    lo = c.abs() - hi * _SPLIT
    r = nw.col("_cost_r")
    out = [
        nw.len().alias(f"{m}rows"),
        (hi * hi).sum().alias("_m_hh"),
        (hi * lo * 2).sum().alias("_m_hl"),
        (lo * lo).sum().alias("_m_ll"),
        ((c.cast(nw.Float64()) * 2 + r) * r).sum().alias("_m_rr"),
    ]
    for col in ("exposures", "clicks"):
        if sp.has(col):
            x = nw.col(col).fill_null(0).cast(nw.Int64())
            out += [
                (x * x).sum().alias(f"{m}{col}_sq"),
                (c * x).sum().alias(f"_m_cx_{col}"),
                (r * x.cast(nw.Float64())).sum().alias(f"_m_rx_{col}"),
            ]
    return out


def _moment_columns(out: pd.DataFrame) -> pd.DataFrame:
    """The integer moment sums of :func:`_moments` as the yuan moments the intervals read."""
    m = SPEND_MOMENTS
    f = {k: out.pop(k).astype("float64") for k in ("_m_hh", "_m_hl", "_m_ll", "_m_rr")}
    out[f"{m}cost_sq"] = (
        ((f["_m_hh"] * _SPLIT + f["_m_hl"]) * _SPLIT) + f["_m_ll"] + f["_m_rr"]
    ) / 1e4
    for col in ("exposures", "clicks"):
        if f"_m_cx_{col}" in out.columns:
            cx = out.pop(f"_m_cx_{col}").astype("float64")
            rx = out.pop(f"_m_rx_{col}").astype("float64")
            out[f"{m}cost_{col}"] = (cx + rx) / 100
            out[f"{m}{col}_sq"] = out[f"{m}{col}_sq"].astype("float64")
    return out


# ---------------------------------------------------------------- orders of traffic sources


def line_profit(
    orders: Table, margin: float | Mapping[str, float] | None
) -> tuple[nw.Expr | None, str]:
    """Gross profit of an order line and the sentence that says how it was found.

    In order of precedence: the line's own ``cost`` (``amount - cost``) where the orders
    have a ``cost`` column and the line a cost; else the product's margin from a
    ``margin={product_id: fraction}`` mapping; else a store-wide ``margin=`` fraction (the
    stated fallback). ``None`` when none of them is given.
    """
    amount = nw.col("amount").cast(nw.Float64())
    per_product = isinstance(margin, Mapping)
    store = None if margin is None or isinstance(margin, Mapping) else float(margin)
    fallback: nw.Expr | None = amount * store if store is not None else None
    if isinstance(margin, Mapping) and orders.has("product_id"):
        by_value: dict[float, list[str]] = {}
        for product, m in sorted(margin.items()):
            by_value.setdefault(float(m), []).append(str(product))
        chain: Any = nw.lit(None, dtype=nw.Float64())
        for m, products in sorted(by_value.items()):
            chain = (
                nw.when(nw.col("product_id").cast(nw.String()).is_in(products))
                .then(amount * m)
                .otherwise(chain)
            )
        fallback = chain
    parts = []
    expr = fallback
    if orders.has("cost"):
        own = amount - nw.col("cost").cast(nw.Float64())
        expr = own if expr is None else nw.when(~nw.col("cost").is_null()).then(own).otherwise(expr)
        parts.append("the orders' own cost (amount - cost) where a line has one")
    if per_product:
        parts.append("the product's margin from margin={product: fraction}")
    elif store is not None:
        parts.append(f"the store-wide margin {store:.1%} (fallback)")
    if expr is None:
        return None, ""
    return expr, "gross profit from " + ", else ".join(parts)


def order_facts(frame: nw.LazyFrame[Any], freq: Freq, profit: nw.Expr | None) -> pd.DataFrame:
    """One row per paid order: ``order_id``, its payment period key (``PERIOD``) and, with
    ``profit``, its gross ``profit`` (null when a line's profit is unknown). Bounded by
    the orders, whatever the events."""
    aggs = [nw.col(PERIOD).min()]
    if profit is not None:
        aggs += [
            nw.col("_profit").sum(),
            nw.col("_profit").is_null().cast(nw.Int64()).sum().alias("_unknown"),
        ]
    cols = [periods.period_key("paid_at", freq).alias(PERIOD)]
    if profit is not None:
        cols.append(profit.alias("_profit"))
    out = tables.collect(
        frame.with_columns(*cols).group_by("order_id").agg(*aggs), "traffic:order_facts"
    )
    if profit is not None:
        out["profit"] = out["_profit"].astype(float).where(out["_unknown"] == 0)
        out = out.drop(columns=["_profit", "_unknown"])
    return out


def recorded_credit(
    frame: nw.LazyFrame[Any], by: Sequence[str], freq: Freq, profit: nw.Expr | None
) -> pd.DataFrame:
    """Paid orders per recorded ``by`` and period of payment (``PERIOD`` keys), with the
    per-buyer aggregates of the intervals.

    Columns ``attributed_orders``, ``attributed_buyers``, ``attributed_buyers_sq`` (each
    buyer counts 1, so equal to the buyers), ``attributed_amount``,
    ``attributed_amount_sq`` (Σ over buyers of each buyer's amount²) and, with
    ``profit``, ``attributed_profit`` and ``attributed_profit_sq``.
    """
    keys = [*by, PERIOD]
    frame = frame.with_columns(periods.period_key("paid_at", freq).alias(PERIOD))
    money = {"amt": "amount"}
    if profit is not None:
        frame = frame.with_columns(profit.alias("_profit"))
        money["profit"] = "_profit"
    # money as whole cents (and sub-cent rests): per-buyer sums and their squares exact,
    # so every engine gives the same figures to the last digit (as the order counts do)
    for short, col in money.items():
        c, r = cents_of(col)
        frame = frame.with_columns(c.alias(f"_{short}_c"), r.alias(f"_{short}_r"))
    per_buyer = frame.group_by([*keys, "buyer_id"]).agg(
        nw.col("order_id").n_unique().alias("o"),
        *(nw.col(f"_{m}_{p}").sum() for m in money for p in ("c", "r")),
    )
    sq: list[nw.Expr] = []
    for m in money:
        c, r = nw.col(f"_{m}_c"), nw.col(f"_{m}_r")
        hi = c.abs() // _SPLIT
        lo = c.abs() - hi * _SPLIT
        sq += [
            (hi * hi).sum().alias(f"_{m}_hh"),
            (hi * lo * 2).sum().alias(f"_{m}_hl"),
            (lo * lo).sum().alias(f"_{m}_ll"),
            ((c.cast(nw.Float64()) * 2 + r) * r).sum().alias(f"_{m}_rr"),
            c.sum().alias(f"_{m}_cs"),
            r.sum().alias(f"_{m}_rs"),
        ]
    out = tables.collect(
        per_buyer.group_by(keys).agg(
            nw.col("o").sum().alias("attributed_orders"), nw.len().alias("attributed_buyers"), *sq
        ),
        "traffic:recorded",
    )
    for m, name in (("amt", "attributed_amount"), ("profit", "attributed_profit")):
        if m not in money:
            continue
        f = {
            k: out.pop(f"_{m}_{k}").astype("float64") for k in ("hh", "hl", "ll", "rr", "cs", "rs")
        }
        out[name] = (f["cs"] + f["rs"]) / 100
        out[f"{name}_sq"] = (((f["hh"] * _SPLIT + f["hl"]) * _SPLIT) + f["ll"] + f["rr"]) / 1e4
    out["attributed_buyers_sq"] = out["attributed_buyers"]
    return out


KIND = "_sm_kind"
"""The column of :func:`visitors_by_kind`: ``"paid"`` or ``"free"``."""


def visitors_by_kind(
    events: Table,
    paid: frozenset[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> pd.DataFrame:
    """Distinct visitors of paid and of free sources per period (``period`` label,
    ``kind``, ``visitors``), counted as the funnel counts them (distinct ``visitor_id``
    of ``visit`` events), never added across sources: a visitor who came through two
    free sources counts once in free, one who came through a free and a paid source
    counts once in each."""
    kind = (
        nw.when(nw.col("source").cast(nw.String()).is_in(sorted(paid)))
        .then(nw.lit("paid"))
        .otherwise(nw.lit("free"))
    )
    # visitors are distinct ids of visit events: the other events change no count here
    # (a third of the rows to hash, the same numbers)
    frame = events.frame.filter(~nw.col("source").is_null() & (nw.col("event") == "visit"))
    if start is not None or end is not None:  # only the range's rows count (the table is read)
        frame = frame.filter(periods.between("ts", start, end))
    ev = events.with_frame(frame.with_columns(kind.alias(KIND)))
    counts = count_events(ev, [KIND], freq, start, end).table
    out = counts[[KIND, PERIOD, *(["visitors"] if "visitors" in counts.columns else [])]]
    out = out.rename(columns={KIND: "kind"})
    out["period"] = [periods.period_label(int(k), freq) for k in out[PERIOD]]
    return out.drop(columns=[PERIOD]).reset_index(drop=True)


def cost_cover(frame: nw.LazyFrame[Any]) -> tuple[int, float | None]:
    """Order lines of ``frame`` without a ``cost``, and the margin ``(amount - cost) /
    amount`` of the lines with one (``None`` without any amount): the store-wide fallback
    of :func:`line_profit` for the lines that have no cost of their own."""
    has = ~nw.col("cost").is_null()
    tot = tables.collect(
        frame.select(
            (~has).cast(nw.Int64()).sum().alias("missing"),
            nw.when(has).then(nw.col("amount")).otherwise(nw.lit(0.0)).sum().alias("a"),
            nw.col("cost").fill_null(0.0).sum().alias("c"),
        ),
        "traffic:cost_cover",
    )
    missing = int(tot["missing"].iloc[0] or 0)
    a = float(tot["a"].iloc[0] or 0.0)
    return missing, ((a - float(tot["c"].iloc[0] or 0.0)) / a if a else None)


def buyers_by_kind(frame: nw.LazyFrame[Any], paid: frozenset[str], freq: Freq) -> pd.DataFrame:
    """Distinct buyers of the paid orders in ``frame`` whose recorded ``source`` is paid,
    and of those whose source is free, per period of payment (``period`` label, ``kind``,
    ``attributed_buyers``): a buyer of two free sources counts once."""
    kind = (
        nw.when(nw.col("source").cast(nw.String()).is_in(sorted(paid)))
        .then(nw.lit("paid"))
        .otherwise(nw.lit("free"))
    )
    out = tables.collect(
        frame.filter(~nw.col("source").is_null())
        .with_columns(kind.alias(KIND), periods.period_key("paid_at", freq).alias(PERIOD))
        .group_by(KIND, PERIOD)
        .agg(nw.col("buyer_id").n_unique().alias("attributed_buyers")),
        "traffic:buyers_by_kind",
    )
    out["period"] = [periods.period_label(int(k), freq) for k in out[PERIOD]]
    return out.rename(columns={KIND: "kind"}).drop(columns=[PERIOD])
