"""The headline recomputed without what a flag says misleads: the corrected figure beside the raw.

A flag says which rows mislead; the report recounts the store's week without them, from
the same loaded tables and the same counting code as the headline
(:func:`shopmetrics.engine.counting.count_orders`, one order pass per correction), and
tests the corrected change again. What each flag leads to:

- ``order_brushing``: the flagged buyers' orders of the product in the flagged hour left
  out: paying buyers, paid amount, conversion, AOV and visitor value recounted;
- ``tracking_gap``: orders paid on the day with no tracking left out (their visitors were
  never recorded, so their buyers inflate conversion);
- ``bot_traffic``: the bot visitors taken out of the week's visitors (each bot is one
  distinct visitor of the week, so the unique count falls by exactly their number);
- ``presale_zero_payment``: presale orders counted as paid when the deposit is paid (the
  order conversion the flag points to, store-wide).

A week no flag touches has no corrections.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.engine import PERIOD, period_label
from shopmetrics.engine.counting import count_orders
from shopmetrics.stats import twosample

if TYPE_CHECKING:
    from shopmetrics.engine import Table
    from shopmetrics.flags.finding import Flag

__all__ = ["CORRECTING_CODES", "Correction", "correct_week", "week_of"]

CORRECTING_CODES = ("order_brushing", "tracking_gap", "bot_traffic", "presale_zero_payment")
"""The flag codes whose figures the report corrects."""


@dataclasses.dataclass(frozen=True)
class Correction:
    """The store's figures of the two weeks recounted without what one flag points at.

    Attributes:
        code: The flag's code.
        subject: The flag's subject.
        rows: ``{period: {metric: value}}`` corrected (visitors, paid_buyers, paid_amount,
            payment_conversion, aov, visitor_value), both weeks.
        p_value: The two-proportion test of payment conversion, this week against the week
            before, recomputed on the corrected counts (unadjusted; ``None`` with one week).
        significant: ``p_value < 1 - confidence``.
    """

    code: str
    subject: Mapping[str, Any]
    rows: Mapping[str, Mapping[str, float]]
    p_value: float | None
    significant: bool | None


def _day(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)[:10])


def _hour(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)[:19])


def _in(col: str, a: dt.datetime, b: dt.datetime) -> nw.Expr:
    return (nw.col(col) >= a) & (nw.col(col) < b)


def _order_filter(flag: Flag, orders: Table) -> tuple[nw.Expr | None, bool]:
    """The orders to keep (``None``: all) and whether presale deposits count as payment."""
    if flag.code == "order_brushing":
        h = _hour(flag.subject.get("hour") or flag.evidence.get("hour_start"))
        buyers = [str(b) for b in flag.instead.get("exclude_buyers", ())]
        drop = _in("created_at", h, h + dt.timedelta(hours=1)) & nw.col("buyer_id").is_in(buyers)
        if "product_id" in flag.subject and orders.has("product_id"):
            drop = drop & (nw.col("product_id") == str(flag.subject["product_id"]))
        return ~drop, False
    if flag.code == "tracking_gap":
        d = _day(flag.subject.get("date"))
        # the day's paying buyers: payment conversion counts a buyer on the day of payment
        gap = _in("paid_at", d, d + dt.timedelta(days=1)).fill_null(value=False)
        return ~gap, False
    if flag.code == "presale_zero_payment":
        return None, True
    return None, False


def _store_rows(
    counts: Any, visitors: Mapping[str, float], periods: Sequence[str]
) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for p in periods:
        row = counts[counts["period"] == p]
        v = float(visitors[p])
        b = float(row["paid_buyers"].sum()) if len(row) else 0.0
        a = float(row["paid_amount"].sum()) if len(row) else 0.0
        rows[p] = {
            "visitors": v,
            "paid_buyers": b,
            "paid_amount": a,
            "payment_conversion": b / v if v else np.nan,
            "aov": a / b if b else np.nan,
            "visitor_value": a / v if v else np.nan,
        }
    return rows


def correct_week(
    flag: Flag,
    orders: Table | None,
    visitors: Mapping[str, float],
    periods: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    confidence: float,
) -> Correction | None:
    """The store's two weeks recounted without what ``flag`` points at.

    Args:
        flag: A flag whose code is one of :data:`CORRECTING_CODES`.
        orders: The loaded orders (``None``: only visitor corrections are possible).
        visitors: ``{period: store visitors}`` (the headline's).
        periods: The periods reported, earlier first (one or two ISO weeks).
        start: First instant of the earlier period.
        end: First instant after the later one.
        confidence: The report's confidence level (for ``significant``).

    Returns:
        The :class:`Correction`, or ``None`` when the flag touches neither week or the
        tables do not allow the correction.
    """
    if flag.code not in CORRECTING_CODES or orders is None or not orders.has("paid_at"):
        return None
    keep, deposits = _order_filter(flag, orders)
    frame = orders.frame
    if keep is not None:
        frame = frame.filter(keep)
    if deposits:
        if not orders.has("deposit_paid_at"):
            return None
        frame = frame.with_columns(
            nw.when(nw.col("deposit_paid_at").is_null())
            .then(nw.col("paid_at"))
            .otherwise(nw.col("deposit_paid_at"))
            .alias("paid_at")
        )
    visitors = dict(visitors)
    if flag.code == "bot_traffic":
        day = _day(flag.subject.get("date"))
        week = week_of(str(day))
        if week not in visitors:
            return None
        visitors[week] -= float(flag.evidence.get("bot_visitors", 0))
    counts = count_orders(dataclasses.replace(orders, frame=frame), [], "W", start, end).table
    counts["period"] = [period_label(int(k), "W") for k in counts[PERIOD]]
    rows = _store_rows(counts, visitors, periods)
    p = None
    if len(periods) == 2:
        cur, prev = rows[periods[1]], rows[periods[0]]
        c = twosample.compare_proportions(
            [cur["paid_buyers"]], [cur["visitors"]], [prev["paid_buyers"]], [prev["visitors"]]
        )
        p = float(c.p_value[0])
    return Correction(
        flag.code, dict(flag.subject), rows, p, None if p is None else p < 1 - confidence
    )


def week_of(when: str) -> str:
    """The ISO week (``"2026-W47"``) of a day, an instant or a week label."""
    if "-W" in when:
        return when
    iso = _day(when).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
