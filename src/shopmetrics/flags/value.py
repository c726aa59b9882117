"""Flags of visitor value: refunds, one buyer carrying the average, cents among yuan.

- ``refund_inflated``: over 30% of a row's paid amount refunded (gross value overstates).
- ``single_buyer_dominates``: one buyer paid more than half a row's amount.
- ``currency_units``: amounts that look like cents (分) next to amounts in yuan (元).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.engine import PERIOD, Freq
from shopmetrics.engine.paid_orders import paid_between
from shopmetrics.flags.finding import Flag

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = ["aov_flags", "currency_units", "refund_inflated", "single_buyer_dominates"]


def refund_inflated(table: pd.DataFrame, by: list[str]) -> list[Flag]:
    """Rows of the visitor-value table with more than 30% of their paid amount refunded."""
    t = table[(table["paid_amount"] > 0)]
    share = t["refund_amount"] / t["paid_amount"]
    bad = t[share > 0.3]
    if len(bad) == 0:
        return []
    return [
        Flag(
            "refund_inflated",
            "warning",
            f"{len(bad)} rows have more than 30% of their paid amount refunded: gross visitor value "
            "overstates what the traffic earned; read visitor_value_net.",
            subject={"rows": len(bad)},
            n_rows=len(bad),
            examples=tuple(
                {
                    **{c: str(r[c]) for c in [*by, "period"]},
                    "visitor_value": float(r["visitor_value"]),
                    "visitor_value_net": float(r["visitor_value_net"]),
                }
                for _, r in bad.head(5).iterrows()
            ),
            instead={"column": "visitor_value_net"},
        )
    ]


def aov_flags(
    orders: Table,
    by: list[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[Flag]:
    """single_buyer_dominates (aov driven by a few buyers) and currency_units (cents vs yuan),
    on the orders paid in ``[start, end)``."""
    frame = paid_between(orders, start, end).with_columns(
        engine.period_key("paid_at", freq).alias(PERIOD)
    )
    return [*single_buyer_dominates(frame, by, freq), *currency_units(frame)]


def single_buyer_dominates(frame: nw.LazyFrame[Any], by: list[str], freq: Freq) -> list[Flag]:
    """Groups and periods (``PERIOD`` keys in ``frame``) of 5 buyers or more where one
    buyer paid more than half of the amount."""
    keys = [*by, PERIOD]
    per_buyer = frame.group_by([*keys, "buyer_id"]).agg(nw.col("amount").sum().alias("amt"))
    top = engine.collect(
        per_buyer.group_by(keys).agg(
            nw.col("amt").max().alias("top"),
            nw.col("amt").sum().alias("tot"),
            nw.col("amt").median().alias("median_buyer_amount"),
            nw.len().alias("n"),
        ),
        "value:top_buyer",
    )
    dom = top[(top["n"] >= 5) & (top["top"] > 0.5 * top["tot"])]
    if not len(dom):
        return []
    return [
        Flag(
            "single_buyer_dominates",
            "warning",
            f"in {len(dom)} rows one buyer paid more than half of the amount: aov and visitor value "
            "rest on that buyer; the median spend per buyer is the steadier figure.",
            n_rows=len(dom),
            examples=tuple(
                {
                    **{c: str(r[c]) for c in by},
                    "period": engine.period_label(int(r[PERIOD]), freq),
                    "top_buyer_share": float(r["top"] / r["tot"]),
                    "median_buyer_amount": float(r["median_buyer_amount"]),
                }
                for _, r in dom.head(5).iterrows()
            ),
            instead={"median_buyer_amount": "per row, see examples"},
        )
    ]


def currency_units(frame: nw.LazyFrame[Any]) -> list[Flag]:
    """Whole-number amounts whose largest is over 100 times the median: cents among yuan."""
    amounts = engine.collect(
        frame.select(
            nw.col("amount").median().alias("med"),
            nw.col("amount").max().alias("mx"),
            (nw.col("amount") % 1 != 0).cast(nw.Int64()).sum().alias("frac"),
            nw.len().alias("n"),
        ),
        "value:amounts",
    )
    med, mx = float(amounts["med"].iloc[0] or 0), float(amounts["mx"].iloc[0] or 0)
    frac, n = float(amounts["frac"].iloc[0] or 0), float(amounts["n"].iloc[0] or 0)
    if not (n >= 20 and med > 0 and mx > 100 * med and frac / n < 0.05):
        return []
    return [
        Flag(
            "currency_units",
            "warning",
            f"the largest amount ({mx:,.0f}) is over 100 times the median ({med:,.2f}) and amounts are "
            "whole numbers: some amounts look like cents (分) next to amounts in yuan (元). Convert "
            "them to one unit before reading aov.",
            table="orders",
            column="amount",
            evidence={"median": med, "max": mx},
        )
    ]
