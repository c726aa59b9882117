"""Corrected figures of a flag that changes a number: the tracking-gap day left out.

A day without tracking has no visitors but its buyers still pay, so the conversion of
the period the day is in is inflated, and a comparison with the period before can read
as significant only because of it. :func:`without_gap_day` gives the store's payment and
order conversion of that period with and without the day's buyers, and the test against
the period before recomputed both ways (the score test the comparisons use,
:func:`shopmetrics.stats.twosample.compare_proportions`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from shopmetrics import engine
from shopmetrics.engine.counting import count_events, count_orders
from shopmetrics.stats import intervals, twosample

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table
    from shopmetrics.results import Result

__all__ = ["Correction", "without_gap_day"]


@dataclasses.dataclass(frozen=True)
class Correction:
    """What a flag adds: numbers to its ``evidence`` and the figures to use (``instead``)."""

    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)
    instead: dict[str, Any] = dataclasses.field(default_factory=dict)


def _two_periods(
    result: Result, day: dt.datetime
) -> tuple[int, int, dt.datetime | None, dt.datetime | None] | None:
    """Period keys of the day and of the one before, and the range covering both."""
    freq = result.meta.get("freq")
    if freq is None:
        return None
    key = engine.period_key_of(day, freq)
    step = 7 if freq == "W" else 1
    start = engine.period_start(key - step, freq)
    end = engine.period_start(key + step, freq)
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    start = max(start, t0) if t0 is not None else start
    end = min(end, t1) if t1 is not None else end
    return key, key - step, start, end


def _store_counts(
    events: Table,
    orders: Table,
    freq: Any,
    start: dt.datetime | None,
    end: dt.datetime | None,
    day: dt.datetime,
) -> pd.DataFrame:
    """Store-level visitors per period, with the buyers of all days and without the day's
    buyers (suffix ``_without``): paid buyers without the lines paid on ``day``, order
    buyers without the lines created on it."""
    nxt = day + dt.timedelta(days=1)
    v = count_events(events, [], freq, start, end).table
    o = count_orders(orders, [], freq, start, end).table
    out = v.merge(o, on=engine.PERIOD, how="outer")
    for col, metric in (("paid_at", "paid_buyers"), ("created_at", "order_buyers")):
        on_day = engine.between(col, day, nxt).fill_null(value=False)
        kept = orders.with_frame(orders.frame.filter(~on_day))
        w = count_orders(kept, [], freq, start, end).table
        w = w[[engine.PERIOD, metric]].rename(columns={metric: f"{metric}_without"})
        out = out.merge(w, on=engine.PERIOD, how="outer")
    return out


def without_gap_day(result: Result, orders: Table, events: Table, day: dt.datetime) -> Correction:
    """The store's conversion of the gap day's period with and without the day's buyers,
    and its comparison with the period before, both ways (see the module docstring).

    Reads the events of the two periods once (store-level distinct visitors) and the
    orders; only run when a gap is found.
    """
    periods = _two_periods(result, day)
    if periods is None or not orders.has("paid_at"):
        return Correction()
    key, prev_key, start, end = periods
    freq = result.meta["freq"]
    t = _store_counts(events, orders, freq, start, end, day).fillna(0).set_index(engine.PERIOD)
    if key not in t.index or "visitors" not in t.columns:
        return Correction()
    rows = {int(str(k)): {str(c): float(v) for c, v in r.items()} for k, r in t.iterrows()}
    cur = rows[key]
    n1 = float(cur["visitors"])
    raw = float(intervals.rate(float(cur["paid_buyers"]), n1))
    fixed = float(intervals.rate(float(cur["paid_buyers_without"]), n1))
    evidence: dict[str, Any] = {
        "period": engine.period_label(key, freq),
        "payment_conversion": raw,
        "payment_conversion_without_day": fixed,
        "paid_buyers_of_day": int(cur["paid_buyers"] - cur["paid_buyers_without"]),
    }
    instead: dict[str, Any] = {
        "payment_conversion": fixed,
        "paid_buyers": int(cur["paid_buyers_without"]),
        "order_conversion": float(intervals.rate(float(cur["order_buyers_without"]), n1)),
    }
    if rows.get(prev_key, {}).get("visitors", 0.0) > 0:
        prev = rows[prev_key]
        x0, n0 = float(prev["paid_buyers"]), float(prev["visitors"])
        test = twosample.compare_proportions(
            [float(cur["paid_buyers"]), float(cur["paid_buyers_without"])],
            [n1, n1],
            [x0, x0],
            [n0, n0],
        )
        evidence.update(
            {
                "previous_period": engine.period_label(prev_key, freq),
                "previous_payment_conversion": float(intervals.rate(x0, n0)),
                "p_value": float(test.p_value[0]),
                "p_value_without_day": float(test.p_value[1]),
            }
        )
        instead["p_value"] = float(test.p_value[1])
    return Correction(evidence, instead)
