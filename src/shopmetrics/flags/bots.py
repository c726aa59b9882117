"""The ``bot_traffic`` flags from the bot visitor-days found by
:func:`shopmetrics.flags.events.bot_traffic`: one flag per period and product the bots hit.

Each flag names what a user acts on — the product, the source most of the bots came
through, the day(s) and the result period — and the share of the product's clicks in
that period that the bots made, with the product's click-through rate with and without
them (``instead``: the figures to use). The store-wide figures of the day (share of its
events, click-through and visitors with and without the bots) are in the evidence.
Everything is read from the shared aggregates (the visitor-day histogram, the bot
visitor-days and their events per product and source) and the funnel's own table; only
when the result has no ``product_id`` grain are the product's counts in the period read
from the events (one filtered aggregate).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.flags.finding import Flag
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table
    from shopmetrics.results import Result

__all__ = ["bot_flags", "period_bounds"]

PRODUCT_SHARE = 0.1
"""A product gets its own flag when it has this share of the bots' events in a period."""

MAX_PRODUCTS = 5
"""At most this many products flagged per period (the rest are in the evidence)."""


def period_bounds(
    result: Result | None, day: int
) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """The label and ``[start, end)`` of the result period that day number ``day`` is in,
    within the result's own range."""
    meta = result.meta if result is not None else {}
    freq, t0, t1 = meta.get("freq"), meta.get("start"), meta.get("end")
    if freq is None:
        return "all", t0, t1
    key = engine.period_key_of(engine.period_start(day, "D"), freq)
    start = engine.period_start(key, freq)
    end = engine.period_start(key + (7 if freq == "W" else 1), freq)
    start = max(start, t0) if t0 is not None else start
    end = min(end, t1) if t1 is not None else end
    return engine.period_label(key, freq), start, end


def _day_evidence(hist: pd.DataFrame, day_bots: pd.DataFrame) -> dict[str, Any]:
    """Store-wide figures of one day with and without its bot visitor-days."""
    h = hist[hist["day"] == day_bots["day"].iloc[0]]
    events = float((h["n"] * h["k"]).sum())
    clicks, exposures = float((h["clicks"] * h["k"]).sum()), float(h["exposures"].sum())
    visits = float(h["visits"].sum())
    visitors = int(h.loc[h["visited"].astype(bool), "k"].sum())
    b_clicks, b_exp = float(day_bots["clicks"].sum()), float(day_bots["exposures"].sum())
    return {
        "bot_event_share": float(day_bots["n"].sum()) / max(1.0, events),
        "bot_visit_share": float(day_bots["visits"].sum()) / visits if visits else float("nan"),
        "ctr_with_bots": float(intervals.rate(clicks, exposures)),
        "ctr_without_bots": float(intervals.rate(clicks - b_clicks, exposures - b_exp)),
        "visitors_with_bots": visitors,
        "visitors_without_bots": visitors - int((day_bots["visits"] > 0).sum()),
    }


def _product_figures(
    result: Result | None,
    events: Table,
    product: str,
    label: str,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
) -> dict[str, float]:
    """The product's exposures and clicks in the period (all visitors): from the funnel's
    table when it has the product grain (counts add over its other groups), else from one
    filtered aggregate of the events."""
    t = result.table if result is not None else None
    by = result.by if result is not None else ()
    if t is not None and "product_id" in by and {"exposures", "clicks"} <= set(t.columns):
        rows = t[(t["product_id"].astype(str) == product) & (t["period"].astype(str) == label)]
        for c in by:
            rows = rows[rows[c].astype(str) != "(all)"]
        out = {c: float(rows[c].sum()) for c in ("exposures", "clicks")}
        if tuple(by) == ("product_id",) and "visitors" in t.columns and len(rows) == 1:
            out["visitors"] = float(rows["visitors"].iloc[0])
        return out
    frame = events.frame.filter(nw.col("product_id").cast(nw.String()) == product)
    if bounds[0] is not None or bounds[1] is not None:
        frame = frame.filter(engine.between("ts", bounds[0], bounds[1]))
    got = engine.collect(
        frame.filter(nw.col("event").is_in(["exposure", "click"]))
        .group_by("event")
        .agg(nw.len().alias("n")),
        "flags:bot_product",
    )
    n = dict(zip(got["event"].astype(str), got["n"].astype(float), strict=True))
    return {"exposures": n.get("exposure", 0.0), "clicks": n.get("click", 0.0)}


def _bot_events(breakdown: pd.DataFrame | None, bots: pd.DataFrame) -> pd.DataFrame | None:
    """The bots' events per product, source and event (only the bot visitor-days)."""
    if breakdown is None or len(breakdown) == 0:
        return None
    keys = bots[["day", "visitor_id"]].astype({"visitor_id": str})
    b = breakdown.astype({"visitor_id": str, "product_id": str})
    return b.merge(keys, on=["day", "visitor_id"], how="inner")


def bot_flags(
    events: Table,
    bots: pd.DataFrame,
    hist: pd.DataFrame,
    breakdown: pd.DataFrame | None,
    thresholds: tuple[float, float],
    result: Result | None,
) -> list[Flag]:
    """The flags of the bot visitor-days ``bots`` (see the module docstring)."""
    bots = bots.astype({"visitor_id": str})
    periods = [period_bounds(result, int(d)) for d in bots["day"]]
    bots = bots.assign(_period=[p[0] for p in periods])
    bounds = {p[0]: (p[1], p[2]) for p in periods}
    per = _bot_events(breakdown, bots)
    out: list[Flag] = []
    for label, grp in bots.groupby("_period", sort=True):
        ctx = (str(label), bounds[str(label)], thresholds)
        if per is None:
            out.append(_flag(events, grp, hist, None, None, ctx, result))
            continue
        mine = per.merge(grp[["day", "visitor_id"]], on=["day", "visitor_id"])
        if len(mine) == 0:  # none of the period's bots among the busiest broken down
            out.append(_flag(events, grp, hist, None, None, ctx, result))
            continue
        load = mine.groupby("product_id")["n"].sum().sort_values(ascending=False, kind="stable")
        load = load.reindex(sorted(load.index, key=lambda p: (-float(load[p]), p)))
        share = load / max(1.0, float(load.sum()))
        chosen = [p for p in load.index if share[p] >= PRODUCT_SHARE][:MAX_PRODUCTS]
        out.extend(
            _flag(events, grp, hist, mine, str(product), ctx, result)
            for product in chosen or [load.index[0]]
        )
    return out


def _flag(
    events: Table,
    grp: pd.DataFrame,
    hist: pd.DataFrame,
    mine: pd.DataFrame | None,
    product: str | None,
    ctx: tuple[str, tuple[dt.datetime | None, dt.datetime | None], tuple[float, float]],
    result: Result | None,
) -> Flag:
    """One ``bot_traffic`` flag: a period's bot visitor-days ``grp`` on one product."""
    label, bounds, (threshold, click_threshold) = ctx
    days = sorted(int(d) for d in grp["day"].unique())
    dates = [engine.period_start(d, "D").date().isoformat() for d in days]
    first = grp[grp["day"] == days[0]]
    evidence: dict[str, Any] = {
        "date": dates[0],
        "dates": dates,
        "period": label,
        "bot_visitors": int(grp["visitor_id"].nunique()),
        "threshold_events_per_day": threshold,
        "threshold_clicks_per_day": click_threshold,
        **_day_evidence(hist, first),
    }
    subject: dict[str, Any] = {"date": dates[0], "period": label}
    instead: dict[str, Any] = {
        "ctr": evidence["ctr_without_bots"],
        "visitors": evidence["visitors_without_bots"],
    }
    where = ""
    if mine is not None and product is not None:
        read = int(mine["visitor_id"].nunique())
        if read < evidence["bot_visitors"]:  # the breakdown reads the busiest ids only
            evidence["bot_visitors_broken_down"] = read
        on = mine[mine["product_id"] == product]
        product_ev, product_instead, source = _product_evidence(
            events, on, product, label, bounds, result
        )
        evidence.update(product_ev)
        instead = product_instead
        subject = {"product_id": product, **({"source": source} if source else {}), **subject}
        where = (
            f" on product {product}" + (f" (through {source})" if source else "") + ": "
            f"{product_ev['bot_click_share']:.1%} of its clicks in {label}, its click-through "
            f"{product_ev['product_ctr_with_bots']:.1%} with them and "
            f"{product_ev['product_ctr_without_bots']:.1%} without"
        )
        if "bot_visitors_broken_down" in evidence:
            where += f" (the product figures count the {read} busiest of them)"
    ranked = grp.sort_values(["n", "visitor_id"], ascending=[False, True], kind="stable")
    return Flag(
        "bot_traffic",
        "warning",
        f"{evidence['bot_visitors']} visitors on {', '.join(dates)} made far more events or "
        f"clicks than any shopper (over {threshold:.0f} events, or over "
        f"{click_threshold:.0f} clicks at a 30%+ click-through rate with no cart, inquiry or "
        f"favourite){where}: bot traffic, {evidence['bot_event_share']:.1%} of that day's "
        "events. It inflates exposures, clicks and visitors and deflates conversion; use "
        "the figures without them.",
        table="events",
        subject=subject,
        n_rows=int(grp["n"].sum()),
        examples=tuple(
            {"visitor_id": str(r["visitor_id"]), "events": int(r["n"])}
            for r in ranked.head(5).to_dict("records")
        ),
        evidence=evidence,
        instead=instead,
    )


def _product_evidence(
    events: Table,
    on: pd.DataFrame,
    product: str,
    label: str,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    result: Result | None,
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """The product's figures in the period with and without the bots, the figures to use
    instead, and the source most of the bots' events on it came through."""
    fig = _product_figures(result, events, product, label, bounds)
    n = on.groupby("event")["n"].sum()
    b_exp, b_clk = float(n.get("exposure", 0)), float(n.get("click", 0))
    source = None
    if "source" in on.columns and len(on):
        by_source = on.groupby("source")["n"].sum()
        source = str(sorted(by_source.index, key=lambda s: (-float(by_source[s]), str(s)))[0])
    exp_h, clk_h = fig["exposures"] - b_exp, fig["clicks"] - b_clk
    evidence: dict[str, Any] = {
        "bot_clicks": int(b_clk),
        "bot_exposures": int(b_exp),
        "product_clicks": int(fig["clicks"]),
        "product_exposures": int(fig["exposures"]),
        "bot_click_share": b_clk / fig["clicks"] if fig["clicks"] else float("nan"),
        "product_ctr_with_bots": float(intervals.rate(fig["clicks"], fig["exposures"])),
        "product_ctr_without_bots": float(intervals.rate(clk_h, exp_h)),
    }
    instead: dict[str, Any] = {
        "ctr": evidence["product_ctr_without_bots"],
        "clicks": int(clk_h),
        "exposures": int(exp_h),
    }
    if "visitors" in fig:
        bot_visitors = int(on.loc[on["event"] == "visit", "visitor_id"].nunique())
        evidence["product_visitors_with_bots"] = int(fig["visitors"])
        instead["visitors"] = int(fig["visitors"]) - bot_visitors
    return evidence, instead, source
