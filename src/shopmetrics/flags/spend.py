"""Flags of traffic sources on spend: an "ROI" column that is ROAS, spend and traffic apart.

- ``roas_named_roi``: a spend column named ROI (投入产出比) that is sales / cost.
- ``spend_without_traffic``: rows with spend but no tracked visitors.
- ``traffic_without_spend``: rows of paid sources with visitors but no spend.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.flags.finding import Flag

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = ["ROI_NAMES", "SALES_NAMES", "roas_named_roi", "spend_flags"]

ROI_NAMES = frozenset({"roi", "投入产出比", "投资回报率"})
"""Spend column names (lower case) read as the platform's "ROI"."""
SALES_NAMES = frozenset({"sales", "gmv", "revenue", "成交金额", "总成交金额", "attributed_amount"})
"""Spend column names (lower case) read as the platform's attributed sales."""


def roas_named_roi(
    spend: Table, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[Flag]:
    """``roas_named_roi``: a spend column called ROI that is sales / cost, not profit / cost.

    With a sales column beside it, the rows (dated in ``[start, end)``) are compared: when
    the "ROI" equals sales / cost (within 2%) on nearly every row, it is ROAS. Without
    one, values that are never below zero and centre above 1 cannot be profit / cost of a
    typical ad plan and are flagged as probably ROAS.
    """
    roi_col = next((c for c in spend.columns if c.lower() in ROI_NAMES), None)
    if roi_col is None:
        return []
    sales_col = next((c for c in spend.columns if c.lower() in SALES_NAMES), None)
    frame = spend.frame
    if start is not None or end is not None:
        frame = frame.filter(engine.between("date", start, end))
    cols = [roi_col, "cost", *([sales_col] if sales_col else [])]
    sample = engine.collect(frame.select(cols).filter(nw.col("cost") > 0).head(5000), "traffic:roi")
    if len(sample) == 0:
        return []
    roi = sample[roi_col].astype(float)
    if sales_col is not None:
        ratio = sample[sales_col].astype(float) / sample["cost"].astype(float)
        match = float(((roi - ratio).abs() <= 0.02 * ratio.abs().clip(lower=1e-9)).mean())
        if match < 0.95:
            return []
        why = f"on {match:.0%} of rows it equals {sales_col} / cost"
    else:
        if (roi < 0).any() or float(roi.median()) <= 1:
            return []
        why = "it is never negative and its median is above 1, as sales / cost is"
    return [
        Flag(
            "roas_named_roi",
            "warning",
            f"spend column {roi_col!r} is sales / cost ({why}): that is ROAS (投入产出比), "
            "not ROI. shopmetrics reports it as roas and computes roi = (gross profit - cost) / "
            "cost only from a margin or the orders' cost.",
            table="spend",
            column=roi_col,
            evidence={"median": float(roi.median())},
            instead={"column": "roas"},
        )
    ]


def spend_flags(table: pd.DataFrame, paid: frozenset[str]) -> list[Flag]:
    """``spend_without_traffic`` and ``traffic_without_spend`` on the traffic table (with
    ``cost`` and ``visitors``; ``paid``: the names of the paid sources)."""
    if "visitors" not in table.columns:
        return []
    return [*_spend_without_traffic(table), *_traffic_without_spend(table, paid)]


def _spend_without_traffic(table: pd.DataFrame) -> list[Flag]:
    no_traffic = table[(table["cost"] > 0) & (table["visitors"].fillna(0) == 0)]
    if not len(no_traffic):
        return []
    return [
        Flag(
            "spend_without_traffic",
            "warning",
            f"{len(no_traffic)} rows have spend but no tracked visitors: the tracking of that "
            "source is missing, or its source name differs between the spend and events tables.",
            table="spend",
            n_rows=len(no_traffic),
            examples=tuple(
                {
                    "source": str(r["source"]),
                    "period": str(r["period"]),
                    "cost": float(r["cost"]),
                }
                for r in no_traffic.head(5).to_dict("records")
            ),
        )
    ]


def _traffic_without_spend(table: pd.DataFrame, paid: frozenset[str]) -> list[Flag]:
    vis = table["visitors"].fillna(0)
    free_riders = table[table["source"].astype(str).isin(paid) & (table["cost"] == 0) & (vis > 0)]
    if not len(free_riders):
        return []
    return [
        Flag(
            "traffic_without_spend",
            "warning",
            f"{len(free_riders)} rows of paid sources have visitors but no spend: the spend table "
            "is incomplete, so CPC and ROAS of those rows cannot be computed.",
            table="spend",
            n_rows=len(free_riders),
            examples=tuple(
                {
                    "source": str(r["source"]),
                    "period": str(r["period"]),
                    "visitors": int(r["visitors"]),
                }
                for r in free_riders.head(5).to_dict("records")
            ),
        )
    ]
