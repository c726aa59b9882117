"""Paid orders in the engine: the queries of traffic sources and visitor value over them.

- :func:`usable`: the order lines these queries read, the rows every order metric leaves
  out (negative amounts, payments before creation, repeated lines: the filter of
  :func:`~shopmetrics.engine.counting.usable_order_lines`) taken out and counted. Callers
  pass its table to the queries below and its exclusions to their audit.
- :func:`paid_between`: the orders with a payment in a range (lazy).
- :func:`profit_expr`, :func:`profit_share`, :func:`store_margin`: gross profit from a
  margin or the orders' ``cost`` column.
- :func:`recorded_credit`: paid orders credited to the source recorded on them.
- :func:`payment_periods`, :func:`orders_of_period`: the periods with payments, and one
  period's orders as the engine's own table (for
  :func:`shopmetrics.attribution.attribute`, which loads its input itself).
- :func:`refunds`, :func:`refund_lines_30d`: refunds on the amounts paid in a period, and
  the counts of the platform's 30-day refund rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.audit import Exclusion
from shopmetrics.engine import periods, running, tables
from shopmetrics.engine.counting import cents_of, usable_order_lines
from shopmetrics.engine.periods import PERIOD, Freq
from shopmetrics.engine.tables import Table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REFUND_WINDOW_DAYS",
    "orders_of_period",
    "paid_between",
    "payment_periods",
    "profit_expr",
    "profit_share",
    "recorded_credit",
    "refund_lines_30d",
    "refunds",
    "store_margin",
    "usable",
]

REFUND_WINDOW_DAYS = 30
"""Days to a period's end over which :func:`refund_lines_30d` counts paid and refunded lines."""


def usable(
    orders: Table, by: Sequence[str] = (), *, nulls: Sequence[str] | None = None
) -> tuple[Table, dict[str, int], list[Exclusion]]:
    """``orders`` without the rows the order metrics leave out, the rows read and the rows
    left out by reason (the same as the funnel's for the same ``by`` and default
    ``nulls``, see :func:`~shopmetrics.engine.counting.usable_order_lines`): one collect."""
    frame, rows_in, excluded = usable_order_lines(orders, by, nulls=nulls)
    return orders.with_frame(frame), rows_in, excluded


def paid_between(
    orders: Table, start: dt.datetime | None, end: dt.datetime | None
) -> nw.LazyFrame[Any]:
    """The orders with a ``paid_at``, paid in ``[start, end)`` (no bound: all of them)."""
    frame = orders.frame.filter(~nw.col("paid_at").is_null())
    if start is not None or end is not None:
        frame = frame.filter(periods.between("paid_at", start, end))
    return frame


def profit_expr(orders: Table, margin: float | None) -> nw.Expr | None:
    """Gross profit of an order line: ``amount × margin``, else ``amount - cost`` when the
    orders have a ``cost`` column, else ``None`` (no profit figures)."""
    if margin is not None:
        return nw.col("amount") * margin
    if orders.has("cost"):
        return nw.col("amount") - nw.col("cost").fill_null(0)
    return None


def _exact_totals(frame: nw.LazyFrame[Any], what: str, **cols: nw.Expr) -> dict[str, float]:
    """Totals of money columns summed as whole cents (integers: the same to the last bit on
    every engine, whatever order it adds in) plus their sub-cent remainders, in one query."""
    staged = frame.with_columns(expr.alias(f"_sm_{name}") for name, expr in cols.items())
    aggs: list[nw.Expr] = []
    for name in cols:
        cents, rest = cents_of(f"_sm_{name}")
        aggs += [cents.sum().alias(f"{name}_c"), rest.sum().alias(f"{name}_r")]
    got = tables.collect(staged.select(*aggs), what)
    out: dict[str, float] = {}
    for name in cols:
        # SQL SUM of no rows is null
        c = got[f"{name}_c"].fillna(0).iloc[0]
        r = got[f"{name}_r"].fillna(0.0).iloc[0]
        out[name] = (int(c) + float(r)) / 100
    return out


def profit_share(frame: nw.LazyFrame[Any], profit: nw.Expr) -> float:
    """Total profit / total amount of ``frame`` (NaN without any amount); both totals
    exact (in cents), so the share is the same on every engine."""
    tot = _exact_totals(frame, "orders:profit share", a=nw.col("amount"), p=profit)
    return tot["p"] / tot["a"] if tot["a"] else float("nan")


def store_margin(orders: Table) -> float | None:
    """(amount - cost) / amount over every paid order (``None`` without a paid amount);
    the sums in cents, so the margin is the same on every engine."""
    paid = orders.frame.filter(~nw.col("paid_at").is_null())
    tot = _exact_totals(paid, "orders:value cost", a=nw.col("amount"), c=nw.col("cost"))
    a = tot["a"]
    return (a - tot["c"]) / a if a else None


def recorded_credit(
    frame: nw.LazyFrame[Any], by: Sequence[str], freq: Freq, profit: nw.Expr | None
) -> pd.DataFrame:
    """Paid orders per recorded ``by`` and period of payment (``PERIOD`` keys).

    Columns ``attributed_orders``, ``attributed_buyers``, ``attributed_amount``,
    ``attributed_amount_sq`` (Σ over buyers of the square of each buyer's amount, for the
    ROAS interval) and, with ``profit``, ``attributed_profit``.
    """
    keys = [*by, PERIOD]
    frame = frame.with_columns(periods.period_key("paid_at", freq).alias(PERIOD))
    if profit is not None:
        frame = frame.with_columns(profit.alias("_profit"))
    per_buyer = (
        frame.group_by([*keys, "buyer_id"])
        .agg(
            nw.col("amount").sum().alias("amt"),
            nw.col("order_id").n_unique().alias("o"),
            *([nw.col("_profit").sum().alias("profit")] if profit is not None else []),
        )
        .with_columns((nw.col("amt") * nw.col("amt")).alias("amt_sq"))
    )
    return tables.collect(
        per_buyer.group_by(keys).agg(
            nw.col("o").sum().alias("attributed_orders"),
            nw.len().alias("attributed_buyers"),
            nw.col("amt").sum().alias("attributed_amount"),
            nw.col("amt_sq").sum().alias("attributed_amount_sq"),
            *([nw.col("profit").sum().alias("attributed_profit")] if profit is not None else []),
        ),
        "traffic:recorded",
    )


def payment_periods(frame: nw.LazyFrame[Any], freq: Freq) -> list[int]:
    """The period keys with a payment in ``frame``, in order."""
    paid = tables.collect(
        running.distinct(
            frame.with_columns(periods.period_key("paid_at", freq).alias(PERIOD)).select(PERIOD)
        ),
        "traffic:periods",
    )
    return sorted(int(k) for k in paid[PERIOD])


def orders_of_period(frame: nw.LazyFrame[Any], key: int, freq: Freq) -> Any:
    """The orders of ``frame`` paid in period ``key`` (all of them with ``freq=None``), as
    the engine's own table: an input for a metric that loads its tables itself."""
    if freq is not None:
        start, end = periods.period_start(key, freq), periods.period_end(key, freq)
        frame = frame.filter(periods.between("paid_at", start, end))
    return frame.to_native()


def refunds(
    orders: Table, by: Sequence[str], freq: Freq, start: dt.datetime | None, end: dt.datetime | None
) -> pd.DataFrame:
    """``refund_amount`` recorded so far on the amounts paid in each group and period
    (keys ``by + ["period"]``, the period as its label)."""
    frame = paid_between(orders, start, end).with_columns(
        periods.period_key("paid_at", freq).alias(PERIOD),
        nw.col("refund_amount").fill_null(0).alias("refund_amount"),
    )
    out = tables.collect(
        frame.group_by([*by, PERIOD]).agg(nw.col("refund_amount").sum().alias("refund_amount")),
        "value:refunds",
    )
    out["period"] = [periods.period_label(int(k), freq) for k in out[PERIOD]]
    return out.drop(columns=[PERIOD])


def refund_lines_30d(
    orders: Table, by: Sequence[str], table: pd.DataFrame, freq: Freq
) -> pd.DataFrame:
    """Paid lines and refunded lines in the 30 days to each period's end: the counts of the
    platform's refund rate (refunded / paid).

    ``table`` gives the periods (its ``period`` and ``period_start`` columns); the result
    has ``by``, ``period``, ``paid_lines_30d`` and ``refunds_30d``.
    """
    import pandas as pd  # noqa: PLC0415

    by = list(by)
    rows = []
    for label, start in sorted(set(zip(table["period"], table["period_start"], strict=True))):
        end = _period_end_from_start(start, freq)
        lo = end - dt.timedelta(days=REFUND_WINDOW_DAYS)
        paid = orders.frame.filter(periods.between("paid_at", lo, end))
        refunded = orders.frame.filter(
            periods.between("refunded_at", lo, end) & (nw.col("refund_amount").fill_null(0) > 0)
        )
        p = tables.collect(
            paid.group_by(by).agg(nw.len().alias("paid_lines_30d"))
            if by
            else paid.select(nw.len().alias("paid_lines_30d")),
            "value:paid30",
        )
        r = tables.collect(
            refunded.group_by(by).agg(nw.len().alias("refunds_30d"))
            if by
            else refunded.select(nw.len().alias("refunds_30d")),
            "value:ref30",
        )
        m = p.merge(r, on=by, how="outer") if by else pd.concat([p, r], axis=1)
        m["period"] = label
        rows.append(m)
    return pd.concat(rows, ignore_index=True).fillna({"paid_lines_30d": 0, "refunds_30d": 0})


def _period_end_from_start(start: Any, freq: Freq) -> dt.datetime:
    s: dt.datetime = start.to_pydatetime() if hasattr(start, "to_pydatetime") else start
    if freq == "D":
        return s + dt.timedelta(days=1)
    if freq == "W":
        return s + dt.timedelta(days=7)
    year, month = (s.year + 1, 1) if s.month == 12 else (s.year, s.month + 1)
    return dt.datetime(year, month, 1)
