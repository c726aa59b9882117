"""Detectors that read the events table: tracking gaps and bot traffic.

Both read one small aggregate, the visitor-day histogram (:func:`visitor_day_histogram`:
how many visitor-days had so many events and clicks, per day), collected once when
:func:`shopmetrics.flags.registry.detect_funnel` runs them together.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.flags.finding import Flag
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = ["bot_traffic", "tracking_gap", "visitor_day_histogram"]


BOT_MIN_EVENTS = 200
"""A visitor with more events than this in one day (and far above the store's 99th
percentile) is treated as a bot."""


def _visitor_days(
    events: Table, t0: dt.datetime | None, t1: dt.datetime | None
) -> nw.LazyFrame[Any]:
    """Per visitor and day (lazy): events, clicks, exposures, deep actions (inquiry, cart,
    favourite). The one aggregate behind the tracking-gap and bot detectors."""
    frame = events.frame
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("ts", t0, t1))
    ind = frame.with_columns(
        engine.day_number("ts").alias("day"),
        (nw.col("event") == "click").cast(nw.Int64()).alias("_click"),
        (nw.col("event") == "exposure").cast(nw.Int64()).alias("_exp"),
        nw.col("event").is_in(["inquiry", "cart", "favorite"]).cast(nw.Int64()).alias("_deep"),
    )
    return ind.group_by("visitor_id", "day").agg(
        nw.len().alias("n"),
        nw.col("_click").sum().alias("clicks"),
        nw.col("_exp").sum().alias("exposures"),
        nw.col("_deep").sum().alias("deep"),
    )


def visitor_day_histogram(
    events: Table, t0: dt.datetime | None, t1: dt.datetime | None
) -> pd.DataFrame:
    """How many visitor-days (``k``) had ``n`` events and ``clicks`` clicks, per day.

    Small (days × distinct (n, clicks) pairs) and collected once: it gives the daily event
    totals (Σ n·k) for :func:`tracking_gap` and the thresholds of :func:`bot_traffic`.
    """
    return engine.collect(
        _visitor_days(events, t0, t1).group_by("day", "n", "clicks").agg(nw.len().alias("k")),
        "flags:visitor_day_hist",
    )


def _daily_counts(hist: pd.DataFrame) -> pd.DataFrame:
    totals = (hist["n"] * hist["k"]).groupby(hist["day"]).sum()
    return totals.rename("n").reset_index()


def tracking_gap(
    events: Table,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    *,
    orders: Table | None = None,
    hist: pd.DataFrame | None = None,
) -> list[Flag]:
    """Days with no (or almost no) events while the days around them have many."""
    import pandas as pd  # noqa: PLC0415

    if hist is None:
        hist = visitor_day_histogram(events, t0, t1)
    daily = _daily_counts(hist)
    if len(daily) < 3:
        return []
    days = np.arange(int(daily["day"].min()), int(daily["day"].max()) + 1)
    counts = pd.Series(0, index=days, dtype="int64")
    counts.loc[list(daily["day"].astype("int64"))] = daily["n"].astype("int64").to_numpy()
    out: list[Flag] = []
    for i, day in enumerate(days):
        lo, hi = max(0, i - 3), min(len(days), i + 4)
        neighbours = np.concatenate([counts.to_numpy()[lo:i], counts.to_numpy()[i + 1 : hi]])
        if len(neighbours) == 0:
            continue
        ref = float(np.median(neighbours))
        n = int(counts.iloc[i])
        if ref >= 100 and n < 0.1 * ref:
            date = engine.period_start(int(day), "D")
            evidence: dict[str, Any] = {
                "date": date.date().isoformat(),
                "events": n,
                "neighbour_median": ref,
            }
            if orders is not None:
                n_orders = engine.count_rows(
                    orders, engine.between("created_at", date, date + dt.timedelta(days=1))
                )
                evidence["orders_created"] = n_orders
            out.append(
                Flag(
                    "tracking_gap",
                    "warning",
                    f"{date:%Y-%m-%d} has {n} tracked events against a median of {ref:.0f} on the days "
                    "around it"
                    + (
                        f", while {evidence['orders_created']} orders were created"
                        if "orders_created" in evidence
                        else ""
                    )
                    + ": tracking was down. Visitors are undercounted that day, so conversion is "
                    "inflated; leave the day out of rates or compare on orders.",
                    table="events",
                    column="ts",
                    subject={"date": evidence["date"]},
                    evidence=evidence,
                    instead={"exclude_day": evidence["date"]},
                )
            )
    return out


def _quantile_from_hist(hist: pd.DataFrame, value: str, q: float) -> float:
    """The ``q`` quantile of ``value`` from a (value, count ``k``) histogram."""
    hist = hist.sort_values(value)
    cum = (hist["k"].cumsum() / hist["k"].sum()).to_numpy()
    return float(hist[value].to_numpy()[min(int(np.searchsorted(cum, q)), len(hist) - 1)])


def bot_traffic(
    events: Table,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    *,
    hist: pd.DataFrame | None = None,
) -> list[Flag]:
    """Visitors whose day looks automated; the share of traffic they carry.

    Per visitor and day, in the engine: events, clicks, exposures and deep actions
    (inquiry, cart, favourite). A visitor-day is a bot when it has far more events than
    the store's heavy users (over ``max(200, 10 × p99)``), or far more clicks than them
    (over ``max(10, 4 × p99.9)``) at a click-through rate of 30% or more with no deep
    action at all — crawlers and click bots click, they do not shop. Only the
    histograms and the flagged visitor-days are collected.
    """
    frame = events.frame
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("ts", t0, t1))
    frame = frame.with_columns(engine.day_number("ts").alias("day"))
    per_vd = _visitor_days(events, t0, t1)
    if hist is None:
        hist = visitor_day_histogram(events, t0, t1)
    if len(hist) == 0:
        return []
    threshold, click_threshold = _bot_thresholds(hist)
    suspicious = (nw.col("n") > threshold) | (
        (nw.col("clicks") > click_threshold)
        & (nw.col("clicks") >= 0.3 * nw.col("exposures"))
        & (nw.col("deep") == 0)
    )
    bots = engine.collect(
        per_vd.filter(suspicious).sort("day", "visitor_id").head(10_000), "flags:bots"
    )
    return [
        _bot_flag(frame, int(cast("Any", day_key)), grp, threshold, click_threshold)
        for day_key, grp in bots.groupby("day", sort=True)
    ]


def _bot_thresholds(hist: pd.DataFrame) -> tuple[float, float]:
    """Events per day and clicks per day above which a visitor-day is a bot (see
    :func:`bot_traffic`), from the visitor-day histogram."""
    hist_n = hist.groupby("n")["k"].sum().reset_index()
    hist_c = hist.groupby("clicks")["k"].sum().reset_index()
    threshold = max(BOT_MIN_EVENTS, 10 * _quantile_from_hist(hist_n, "n", 0.99))
    click_threshold = max(10.0, 4 * _quantile_from_hist(hist_c, "clicks", 0.999))
    return threshold, click_threshold


def _event_total(table: pd.DataFrame, event: str, bot: bool | None = None) -> float:
    """Events of one kind in a day's (event, bot, n) counts, of bots, humans or both."""
    sel = table[table["event"] == event]
    if bot is not None:
        sel = sel[sel["bot"] == bot]
    return float(sel["n"].sum())


def _bot_evidence(
    day_frame: nw.LazyFrame[Any], ids: list[str], grp: pd.DataFrame
) -> dict[str, Any]:
    """Shares and rates of one day with and without its bot visitors (two collects)."""
    by_event = engine.collect(
        day_frame.with_columns(nw.col("visitor_id").is_in(ids).alias("bot"))
        .group_by("event", "bot")
        .agg(nw.len().alias("n")),
        "flags:bot_share",
    )
    vis = engine.collect(
        day_frame.filter(nw.col("event") == "visit")
        .with_columns(nw.col("visitor_id").is_in(ids).alias("bot"))
        .group_by("bot")
        .agg(nw.col("visitor_id").n_unique().alias("v")),
        "flags:bot_visitors",
    )
    exp_all, clk_all = _event_total(by_event, "exposure"), _event_total(by_event, "click")
    exp_h = _event_total(by_event, "exposure", bot=False)
    clk_h = _event_total(by_event, "click", bot=False)
    visits_all = _event_total(by_event, "visit")
    visits_bot = _event_total(by_event, "visit", bot=True)
    return {
        "bot_event_share": float(grp["n"].sum()) / max(1.0, float(by_event["n"].sum())),
        "bot_visit_share": visits_bot / visits_all if visits_all else float("nan"),
        "ctr_with_bots": float(intervals.rate(clk_all, exp_all)),
        "ctr_without_bots": float(intervals.rate(clk_h, exp_h)),
        "visitors_with_bots": int(vis["v"].sum()),
        "visitors_without_bots": int(vis.loc[~vis["bot"].astype(bool), "v"].sum()),
    }


def _bot_flag(
    frame: nw.LazyFrame[Any],
    day: int,
    grp: pd.DataFrame,
    threshold: float,
    click_threshold: float,
) -> Flag:
    """The ``bot_traffic`` flag of one day: ``grp`` holds its bot visitor-days."""
    ids = sorted(str(v) for v in grp["visitor_id"])
    date = engine.period_start(int(day), "D").date().isoformat()
    found = _bot_evidence(frame.filter(nw.col("day") == day), ids, grp)
    evidence = {
        "date": date,
        "bot_visitors": len(ids),
        "threshold_events_per_day": threshold,
        "threshold_clicks_per_day": click_threshold,
        **found,
    }
    return Flag(
        "bot_traffic",
        "warning",
        f"{len(ids)} visitors on {date} made far more events or clicks than any shopper "
        f"(over {threshold:.0f} events, or over {click_threshold:.0f} clicks at a 30%+ "
        "click-through rate with no cart, inquiry or favourite): bot traffic, "
        f"{evidence['bot_event_share']:.1%} of that day's events. It inflates exposures, "
        "clicks and visitors and deflates conversion; use the figures without them.",
        table="events",
        subject={"date": date},
        n_rows=int(grp["n"].sum()),
        examples=tuple(
            {"visitor_id": str(r["visitor_id"]), "events": int(r["n"])}
            for r in grp.head(5).to_dict("records")
        ),
        evidence=evidence,
        instead={
            "ctr": evidence["ctr_without_bots"],
            "visitors": evidence["visitors_without_bots"],
        },
    )
