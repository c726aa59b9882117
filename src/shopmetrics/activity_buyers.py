"""The quality of the buyers an activity brought (活动买家质量), against the store's usual new buyers.

For each activity, its **activity buyers** are the buyers whose first paid order in the
data is on one of its products during it; the **usual buyers** are the buyers whose first
paid order falls in the weeks before it outside any activity. For both: the share who
asked for a refund on their first purchase day, the share of their ratings that are low
(any dimension at 1–2 stars, 中差评), the share who bought again within 30 and 60 days
(only buyers whose 30 / 60 days lie inside the data: the rest are not counted as
"did not buy again"), each with a Wilson interval (buyers independent), the difference
with Newcombe's interval (statsmodels ``confint_proportions_2indep``), and the DSR
points the activity buyers' ratings cost (:func:`shopmetrics.dsr` with and without them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.activity_table import Activity
from shopmetrics.engine.counting import usable_order_lines
from shopmetrics.flags.finding import Flag
from shopmetrics.stats.intervals import proportion_ci

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BuyerQuality", "buyer_quality"]

REPURCHASE_DAYS: tuple[int, ...] = (30, 60)
"""Windows of the repurchase shares."""

LOW_STARS = 2
"""A rating with any dimension at or below this many stars is low (中差评)."""

USUAL_WEEKS = 8
"""The usual new buyers are those first seen in this many weeks before the activity."""

_DIMENSIONS = ("item", "service", "logistics")

_COLUMN = {"refund": "refund_rate", "low_rating": "low_rating_share"}
"""Column of each measure (the repurchase shares are ``repurchase_30d_rate``, ...)."""


@dataclasses.dataclass(frozen=True)
class BuyerQuality:
    """The buyer-quality table, its flags and the notes for the audit."""

    table: pd.DataFrame
    flags: list[Flag]
    notes: list[str]


def _lines(orders: engine.Table) -> pd.DataFrame:
    """Paid order lines, narrow: buyer, order, product, paid day, refunded (bounded by
    the orders, not the events)."""
    frame, _, _ = usable_order_lines(orders)
    refunded = nw.lit(value=False)
    if orders.has("refunded_at"):
        refunded = refunded | ~nw.col("refunded_at").is_null()
    if orders.has("refund_amount"):
        refunded = refunded | (nw.col("refund_amount").fill_null(0) > 0)
    return engine.collect(
        frame.filter(~nw.col("paid_at").is_null()).select(
            nw.col("buyer_id").cast(nw.String()),
            nw.col("order_id").cast(nw.String()),
            nw.col("product_id").cast(nw.String()),
            engine.day_number("paid_at").alias("day"),
            refunded.alias("refunded"),
        ),
        "activity:buyers",
    )


def _ratings(ratings: Any, columns: Any, tz: str | None) -> pd.DataFrame | None:
    if ratings is None:
        return None
    rt = engine.load(ratings, "ratings", columns, tz)
    dims = [f"{d}_score" for d in _DIMENSIONS if rt.has(f"{d}_score")]
    return engine.collect(
        rt.frame.select(nw.col("order_id").cast(nw.String()), *dims), "activity:ratings"
    )


def _share(x: int, n: int, conf: float) -> tuple[float, float, float]:
    if n == 0:
        return math.nan, math.nan, math.nan
    lo, hi = proportion_ci([x], [n], method="wilson", confidence=conf)
    return x / n, float(lo[0]), float(hi[0])


def _diff(x1: int, n1: int, x0: int, n0: int, conf: float) -> tuple[float, float, float]:
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan, math.nan
    from statsmodels.stats.proportion import confint_proportions_2indep  # noqa: PLC0415

    lo, hi = confint_proportions_2indep(
        x1, n1, x0, n0, method="newcomb", compare="diff", alpha=1 - conf
    )
    return x1 / n1 - x0 / n0, float(lo), float(hi)


def _group_stats(
    buyers: pd.Index,
    first: pd.DataFrame,
    lines: pd.DataFrame,
    low: pd.Series | None,
    data_end: int,
) -> dict[str, tuple[int, int]]:
    """(successes, trials) per measure for a set of buyers."""
    f = first.loc[first.index.intersection(buyers)]
    out: dict[str, tuple[int, int]] = {"buyers": (len(f), len(f))}
    first_lines = lines.merge(f[["first"]], left_on="buyer_id", right_index=True)
    first_lines = first_lines[first_lines["day"] == first_lines["first"]]
    refund = first_lines.groupby("buyer_id")["refunded"].any()
    out["refund"] = (int(refund.sum()), len(refund))
    if low is not None:
        rated = low.reindex(first_lines["order_id"].unique()).dropna()
        out["low_rating"] = (int(rated.sum()), len(rated))
    later = lines.merge(f[["first"]], left_on="buyer_id", right_index=True)
    later = later[later["day"] > later["first"]]
    gap = (later["day"] - later["first"]).groupby(later["buyer_id"]).min()
    for days in REPURCHASE_DAYS:
        eligible = f.index[(f["first"] + days) <= data_end]
        again = gap.reindex(eligible)
        out[f"repurchase_{days}d"] = (int((again <= days).sum()), len(eligible))
    return out


def _dsr_cost(ratings: Any, orders_of: set[str], columns: Any, tz: str | None) -> dict[str, float]:
    """DSR points the ratings of ``orders_of`` cost: dsr(all) - dsr(without them)."""
    from shopmetrics.dsr import dsr  # noqa: PLC0415  (same layer; only when ratings are given)

    table = engine.collect(
        engine.load(ratings, "ratings", columns, tz).frame, "activity:dsr_ratings"
    )
    without = table[~table["order_id"].astype(str).isin(orders_of)]
    if len(without) == len(table):
        return dict.fromkeys(_DIMENSIONS, 0.0)
    a, b = dsr(table).shop, dsr(without).shop
    return {d: float(a[d].iloc[0]) - float(b[d].iloc[0]) for d in _DIMENSIONS}


def _row(name: str, group: str, stats: dict[str, tuple[int, int]], conf: float) -> dict[str, Any]:
    row: dict[str, Any] = {"activity": name, "group": group, "buyers": stats["buyers"][0]}
    for key in ("refund", "low_rating", *(f"repurchase_{d}d" for d in REPURCHASE_DAYS)):
        if key not in stats:
            continue
        x, n = stats[key]
        name_ = _COLUMN.get(key, f"{key}_rate")
        row[name_], row[f"{name_}_ci_low"], row[f"{name_}_ci_high"] = _share(x, n, conf)
        row[f"{name_}_n"] = n
    return row


@dataclasses.dataclass(frozen=True)
class _Data:
    lines: pd.DataFrame
    first: pd.DataFrame
    low: pd.Series | None
    in_any: np.ndarray[Any, Any]
    data_end: int


def _window(a: Activity) -> tuple[int, int]:
    epoch = dt.date(1970, 1, 1)
    return (a.start - epoch).days, (a.end - epoch).days


def _compare(
    r_new: dict[str, Any],
    s_new: dict[str, tuple[int, int]],
    s_usual: dict[str, tuple[int, int]],
    conf: float,
) -> None:
    for key in ("refund", "low_rating", *(f"repurchase_{d}d" for d in REPURCHASE_DAYS)):
        if key in s_new and key in s_usual:
            label = _COLUMN.get(key, f"{key}_rate")
            (x1, n1), (x0, n0) = s_new[key], s_usual[key]
            d, dlo, dhi = _diff(x1, n1, x0, n0, conf)
            r_new[f"{label}_vs_usual"] = d
            r_new[f"{label}_vs_usual_ci_low"], r_new[f"{label}_vs_usual_ci_high"] = dlo, dhi


def _activity_rows(
    a: Activity, data: _Data, ratings: Any, conf: float, inputs: Any, notes: list[str]
) -> list[dict[str, Any]]:
    import pandas as pd  # noqa: PLC0415

    lo, hi = _window(a)
    lines, first = data.lines, data.first
    on = lines["day"].between(lo, hi)
    if a.products is not None:
        on &= lines["product_id"].isin(a.products)
    bought = pd.Index(lines.loc[on, "buyer_id"].unique())
    new = first.index[(first["first"] >= lo) & (first["first"] <= hi)].intersection(bought)
    usual = first.index[
        (first["first"] < lo) & (first["first"] >= lo - 7 * USUAL_WEEKS) & ~data.in_any
    ]
    s_new = _group_stats(new, first, lines, data.low, data.data_end)
    s_usual = _group_stats(usual, first, lines, data.low, data.data_end)
    r_new = _row(a.name, "activity buyers", s_new, conf)
    _compare(r_new, s_new, s_usual, conf)
    if ratings is not None:
        ids = set(lines.loc[lines["buyer_id"].isin(new) & on, "order_id"])
        for dim, pts in _dsr_cost(ratings, ids, inputs.columns, inputs.tz).items():
            r_new[f"dsr_{dim}_points"] = pts
    notes.extend(
        f"{a.name}: no activity buyer's {days}-day repurchase window lies inside the data; "
        "the share is not known yet"
        for days in REPURCHASE_DAYS
        if s_new[f"repurchase_{days}d"][1] == 0 and len(new)
    )
    return [r_new, _row(a.name, "usual buyers", s_usual, conf)]


def buyer_quality(
    orders: engine.Table,
    activities: Sequence[Activity],
    ratings: Any,
    data: tuple[int, int],
    conf: float,
    inputs: Any,
) -> BuyerQuality:
    """The buyer-quality table: two rows (activity buyers, usual buyers) per activity.

    One collect of the paid order lines (narrow: bounded by the orders) and, with
    ratings, one of the ratings' scores; a buyer's purchases are read from them.
    """
    import pandas as pd  # noqa: PLC0415

    lines = _lines(orders)
    notes = [
        (
            "buyer quality: a buyer's first purchase is the first paid order in the data; "
            "repurchase shares count only buyers whose whole window lies inside the data"
        )
    ]
    first = lines.groupby("buyer_id")["day"].min().rename("first").to_frame()
    rated = _ratings(ratings, inputs.columns, inputs.tz)
    low = None
    if rated is not None and len(rated.columns) > 1:
        scores = rated.drop(columns="order_id").min(axis=1) <= LOW_STARS
        low = scores.groupby(rated["order_id"]).any()
    in_any = np.zeros(len(first), dtype=bool)
    for a in activities:
        lo, hi = _window(a)
        in_any |= ((first["first"] >= lo) & (first["first"] <= hi)).to_numpy()
    prepared = _Data(lines, first, low, in_any, data[1])
    rows: list[dict[str, Any]] = []
    for a in activities:
        rows += _activity_rows(a, prepared, ratings, conf, inputs, notes)
    return BuyerQuality(pd.DataFrame(rows), [], notes)
