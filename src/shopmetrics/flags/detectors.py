"""Misleading-data flags: the record and the detectors every result runs on its input.

A :class:`Flag` has the same shape as a validation problem: a reason ``code``, a
``severity``, the ``subject`` (product, source, period, ...), a ``message``, the
``evidence`` numbers and the figure to use ``instead``.

Detectors (each tested on data with its trap and on data without):

- ``presale_zero_payment``: a presale product in its deposit phase shows ~0 payment
  conversion (生意参谋 counts presale on the day of full payment); on final-payment days
  its payment conversion is inflated. Use order conversion or deposits / visitors.
- ``small_sample``: denominators under ``config.min_sample``.
- ``impossible_rate``: clicks > exposures, buyers > visitors, ... (join or tracking error).
- ``summed_uniques``: unique counts of a ``traffic`` export summed across days or groups.
- ``tracking_gap``: a day with (almost) no events while its neighbours have many.
- ``bot_traffic``: visitors with abnormal event counts in a day; rates with and without.
- ``order_brushing``: 刷单 — many orders per buyer for one product within an hour, from
  buyers who never visited, paid at once; rates with and without those orders.
- ``immature_period``: the last days' orders have not had time to be paid.
- ``mix_shift``: the total rate moves against every segment's rate (Simpson's paradox).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, cast

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.config import get_config
from shopmetrics.display import _is_missing
from shopmetrics.engine import PERIOD
from shopmetrics.engine.counting import count_events, count_orders
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.results import Result
from shopmetrics.stats import intervals
from shopmetrics.stats.mix import mix_decomposition

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = [
    "bot_traffic",
    "detect_funnel",
    "immature_period",
    "impossible_rate",
    "mix_shift",
    "order_brushing",
    "presale_zero_payment",
    "small_sample",
    "sort_flags",
    "summed_uniques",
    "tracking_gap",
]

logger = logging.getLogger(__name__)


BOT_MIN_EVENTS = 200
"""A visitor with more events than this in one day (and far above the store's 99th
percentile) is treated as a bot."""
BRUSH_MIN_ORDERS = 10
BRUSH_ORDERS_PER_BUYER = 3.0


def detect_funnel(
    result: Result,
    *,
    events: Table | None = None,
    orders: Table | None = None,
    traffic: Table | None = None,
) -> list[Flag]:
    """Run every funnel detector that its inputs allow."""
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    out: list[Flag] = []
    out += small_sample(result)
    out += impossible_rate(result)
    out += mix_shift(result)
    if traffic is not None:
        out += summed_uniques(result)
    if events is not None:
        hist = visitor_day_histogram(events, t0, t1)  # one pass shared by both detectors
        out += tracking_gap(events, t0, t1, orders=orders, hist=hist)
        out += bot_traffic(events, t0, t1, hist=hist)
    if orders is not None:
        out += presale_zero_payment(result, orders, events)
        out += order_brushing(orders, events, t0, t1)
        out += immature_period(orders, t0, t1)
    return list(sort_flags(out))


def _subject(row: Any, by: tuple[str, ...]) -> dict[str, Any]:
    subject = {c: str(row[c]) for c in by}
    subject["period"] = str(row["period"])
    return subject


def small_sample(result: Result) -> list[Flag]:
    """Rows whose denominator is under ``config.min_sample`` (one flag listing them)."""
    t = result.table
    if "small_sample" not in t.columns or not t["small_sample"].any():
        return []
    cfg = get_config()
    bad = t[t["small_sample"]]
    den = "visitors" if "visitors" in t.columns else "exposures"
    examples = tuple(
        {**_subject(r, result.by), den: int(r[den])}
        for _, r in bad.sort_values(den, kind="stable").head(5).iterrows()
    )
    return [
        Flag(
            "small_sample",
            "info",
            f"{len(bad)} of {len(t)} rows have fewer than {cfg.min_sample} {den}; their rates have "
            "wide intervals — read the interval, not the point, and rank with the *_shrunk columns "
            "(shrink=True).",
            subject={"rows": len(bad)},
            n_rows=len(bad),
            examples=examples,
            evidence={"min_sample": cfg.min_sample, "denominator": den},
        )
    ]


_IMPOSSIBLE = (
    ("clicks", "exposures"),
    ("inquirers", "visitors"),
    ("carters", "visitors"),
    ("favoriters", "visitors"),
    ("order_buyers", "visitors"),
    ("paid_buyers", "visitors"),
)


def impossible_rate(result: Result) -> list[Flag]:
    """Numerators above their denominators: a join or tracking error, not a great week."""
    t = result.table
    out: list[Flag] = []
    for num, den in _IMPOSSIBLE:
        if num not in t.columns or den not in t.columns:
            continue
        bad = t[(t[num] > t[den]) & (t[den] >= 0)]
        if by := result.by:
            bad = bad[bad[by[0]] != "(all)"]
        if len(bad) == 0:
            continue
        out.append(
            Flag(
                "impossible_rate",
                "warning",
                f"{len(bad)} rows have {num} > {den} (a rate above 100%): buyers or clicks are "
                f"recorded without the {den} that must precede them — usually a tracking gap, a join "
                "on the wrong key, or orders attributed to a group the visits were not.",
                subject={"numerator": num, "denominator": den},
                n_rows=len(bad),
                examples=tuple(
                    {**_subject(r, result.by), num: int(r[num]), den: int(r[den])}
                    for _, r in bad.head(5).iterrows()
                ),
            )
        )
    return out


def summed_uniques(result: Result) -> list[Flag]:
    """Unique counts of a traffic export added across days or groups overstate them."""
    info = result.meta.get("traffic_summed")
    if not info:
        return []
    cols = info["columns"]
    return [
        Flag(
            "summed_uniques",
            "warning",
            f"{cols} were added over up to {info['max_rows']} export rows per result row "
            f"({info['why']}); a visitor who came on two days or through two groups is counted "
            "twice, so these are upper bounds and rates built on them are understated. Export the "
            "unique counts at the grain you report, or pass raw events.",
            subject={"columns": cols},
            n_rows=int(info["rows_affected"]),
            evidence=info,
            instead={"source": "a back-end export at this grain, or events="},
        )
    ]


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
    hist_n = hist.groupby("n")["k"].sum().reset_index()
    hist_c = hist.groupby("clicks")["k"].sum().reset_index()
    threshold = max(BOT_MIN_EVENTS, 10 * _quantile_from_hist(hist_n, "n", 0.99))
    click_threshold = max(10.0, 4 * _quantile_from_hist(hist_c, "clicks", 0.999))
    suspicious = (nw.col("n") > threshold) | (
        (nw.col("clicks") > click_threshold)
        & (nw.col("clicks") >= 0.3 * nw.col("exposures"))
        & (nw.col("deep") == 0)
    )
    bots = engine.collect(
        per_vd.filter(suspicious).sort("day", "visitor_id").head(10_000), "flags:bots"
    )
    if len(bots) == 0:
        return []
    out: list[Flag] = []
    for day_key, grp in bots.groupby("day", sort=True):
        day = int(cast("Any", day_key))
        ids = sorted(str(v) for v in grp["visitor_id"])
        day_frame = frame.filter(nw.col("day") == day)
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

        def total(event: str, bot: bool | None = None, table: pd.DataFrame = by_event) -> float:
            sel = table[table["event"] == event]
            if bot is not None:
                sel = sel[sel["bot"] == bot]
            return float(sel["n"].sum())

        exp_all, clk_all = total("exposure"), total("click")
        exp_h, clk_h = total("exposure", bot=False), total("click", bot=False)
        visits_all, visits_bot = total("visit"), total("visit", bot=True)
        date = engine.period_start(int(day), "D").date().isoformat()
        evidence = {
            "date": date,
            "bot_visitors": len(ids),
            "threshold_events_per_day": threshold,
            "threshold_clicks_per_day": click_threshold,
            "bot_event_share": float(grp["n"].sum()) / max(1.0, float(by_event["n"].sum())),
            "bot_visit_share": visits_bot / visits_all if visits_all else float("nan"),
            "ctr_with_bots": float(intervals.rate(clk_all, exp_all)),
            "ctr_without_bots": float(intervals.rate(clk_h, exp_h)),
            "visitors_with_bots": int(vis["v"].sum()),
            "visitors_without_bots": int(vis.loc[~vis["bot"].astype(bool), "v"].sum()),
        }
        out.append(
            Flag(
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
        )
    return out


def presale_zero_payment(result: Result, orders: Table, events: Table | None) -> list[Flag]:
    """Presale products whose payment conversion is ~0 (deposit phase) or inflated (final payment)."""

    cond = None
    if orders.has("is_presale"):
        cond = nw.col("is_presale").fill_null(value=False)
    if orders.has("deposit_paid_at"):
        dep = ~nw.col("deposit_paid_at").is_null()
        cond = dep if cond is None else (cond | dep)
    if cond is None or not orders.has("product_id"):
        return []
    ids_df = engine.collect(
        orders.frame.filter(cond).select("product_id").unique(), "flags:presale_ids"
    )
    ids = sorted(str(v) for v in ids_df["product_id"].dropna())
    if not ids:
        return []
    freq = result.meta.get("freq")
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    od = orders.with_frame(orders.frame.filter(nw.col("product_id").is_in(ids)))
    oc = count_orders(od, ["product_id"], freq, t0, t1).table
    if events is not None and events.has("product_id"):
        ev = events.with_frame(events.frame.filter(nw.col("product_id").is_in(ids)))
        ec = count_events(ev, ["product_id"], freq, t0, t1).table
        table = oc.merge(
            ec[["product_id", PERIOD, *(c for c in ("visitors",) if c in ec.columns)]],
            on=["product_id", PERIOD],
            how="left",
        )
    else:
        table = oc
    out: list[Flag] = []
    for r in table.sort_values(["product_id", PERIOD]).to_dict("records"):
        deposits = _count(r.get("deposit_buyers", 0))
        paid = _count(r.get("paid_buyers", 0))
        ordered = _count(r.get("order_buyers", 0))
        visitors = float(r.get("visitors", np.nan))
        period = engine.period_label(int(r[PERIOD]), freq)
        subject = {"product_id": str(r["product_id"]), "period": period}
        evidence = {
            "visitors": visitors,
            "order_buyers": ordered,
            "paid_buyers": paid,
            "deposit_buyers": deposits,
            "payment_conversion": float(intervals.rate(paid, visitors)),
            "order_conversion": float(intervals.rate(ordered, visitors)),
            "deposit_conversion": float(intervals.rate(deposits, visitors)),
        }
        if deposits >= 3 and paid <= 0.2 * deposits:
            out.append(
                Flag(
                    "presale_zero_payment",
                    "warning",
                    f"presale product {r['product_id']} in {period}: {deposits:.0f} buyers paid a deposit "
                    f"but only {paid:.0f} paid in full, so payment conversion reads "
                    f"{evidence['payment_conversion']:.2%}. 生意参谋 counts presale orders on the day of "
                    f"full payment; use order conversion ({evidence['order_conversion']:.2%}) or "
                    f"deposits / visitors ({evidence['deposit_conversion']:.2%}).",
                    table="orders",
                    subject=subject,
                    evidence=evidence,
                    instead={
                        "order_conversion": evidence["order_conversion"],
                        "deposit_conversion": evidence["deposit_conversion"],
                    },
                )
            )
        elif paid >= 3 and ordered >= 0 and paid > 2 * max(ordered, 1) and not np.isnan(visitors):
            out.append(
                Flag(
                    "presale_zero_payment",
                    "warning",
                    f"presale product {r['product_id']} in {period}: {paid:.0f} final payments against "
                    f"{ordered:.0f} orders created in the period — payment conversion "
                    f"({evidence['payment_conversion']:.2%}) is inflated by deposits paid earlier.",
                    table="orders",
                    subject=subject,
                    evidence=evidence,
                    instead={"order_conversion": evidence["order_conversion"]},
                )
            )
    return out


def _count(value: Any) -> float:
    """A count from an outer-joined aggregate: missing (NaN / None) means zero."""
    v = float(value) if value is not None else 0.0
    return 0.0 if np.isnan(v) else v


def order_brushing(
    orders: Table, events: Table | None, t0: dt.datetime | None, t1: dt.datetime | None
) -> list[Flag]:
    """刷单: many orders per buyer for one product within one clock hour."""
    if not orders.has("product_id"):
        return []
    frame = orders.frame
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("created_at", t0, t1))
    hour = engine.day_number("created_at") * 24 + nw.col("created_at").dt.hour().cast(nw.Int64())
    windows = engine.collect(
        frame.with_columns(hour.alias("hour"))
        .group_by("product_id", "hour")
        .agg(nw.len().alias("orders"), nw.col("buyer_id").n_unique().alias("buyers"))
        .filter(
            (nw.col("orders") >= BRUSH_MIN_ORDERS)
            & (nw.col("orders") >= nw.col("buyers") * BRUSH_ORDERS_PER_BUYER)
        ),
        "flags:brushing_windows",
    )
    out: list[Flag] = []
    for w in windows.sort_values(["product_id", "hour"]).to_dict("records"):
        start = engine.period_start(0, "D") + dt.timedelta(hours=int(w["hour"]))
        sel = frame.filter(
            (nw.col("product_id") == w["product_id"])
            & engine.between("created_at", start, start + dt.timedelta(hours=1))
        )
        rows = engine.collect(
            sel.select(
                "order_id",
                "buyer_id",
                "created_at",
                *(["paid_at"] if orders.has("paid_at") else []),
                "amount",
            ),
            "flags:brushing_orders",
        )
        buyers = sorted(str(b) for b in rows["buyer_id"].unique())
        evidence: dict[str, Any] = {
            "hour_start": start.isoformat(),
            "orders": int(w["orders"]),
            "buyers": int(w["buyers"]),
            "orders_per_buyer": float(w["orders"]) / max(1, int(w["buyers"])),
            "amount": float(rows["amount"].sum()),
        }
        if "paid_at" in rows.columns:
            lag = (rows["paid_at"] - rows["created_at"]).dt.total_seconds()
            evidence["median_seconds_to_pay"] = float(lag.median()) if lag.notna().any() else None
        if events is not None:
            visited = engine.collect(
                events.frame.filter(
                    nw.col("visitor_id").is_in(buyers)
                    & (nw.col("event") == "visit")
                    & (nw.col("ts") < nw.lit(start + dt.timedelta(hours=1)))
                )
                .select("visitor_id")
                .unique(),
                "flags:brushing_visits",
            )
            evidence["buyers_without_visit"] = len(
                set(buyers) - {str(v) for v in visited["visitor_id"]}
            )
        out.append(
            Flag(
                "order_brushing",
                "warning",
                f"product {w['product_id']}: {int(w['orders'])} orders from {int(w['buyers'])} buyers within one hour "
                f"from {start:%Y-%m-%d %H:00}"
                + (
                    f", {evidence['buyers_without_visit']} of them never visited"
                    if "buyers_without_visit" in evidence
                    else ""
                )
                + ": suspected order brushing (刷单). These orders inflate conversion, sales and ratings; "
                "report the figures without them.",
                table="orders",
                subject={"product_id": str(w["product_id"]), "hour": start.isoformat()},
                n_rows=len(rows),
                evidence=evidence,
                examples=tuple(
                    {"order_id": str(r["order_id"]), "buyer_id": str(r["buyer_id"])}
                    for r in rows.head(5).to_dict("records")
                ),
                instead={
                    "exclude_orders": int(w["orders"]),
                    "exclude_buyers": buyers[:50],
                    "paid_amount_without": -float(rows["amount"].sum()),
                },
            )
        )
    return out


def immature_period(orders: Table, t0: dt.datetime | None, t1: dt.datetime | None) -> list[Flag]:
    """Orders created near the end of the data have not had time to be paid."""
    if not orders.has("paid_at"):
        return []
    frame = orders.frame
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("created_at", t0, t1))
    last = engine.scalar(frame.select(nw.col("created_at").max()), "flags:last_order")
    if last is None or _is_missing(last):
        return []
    lag_h = engine.minutes_between("paid_at", "created_at", frame.implementation) // 60
    hist = engine.collect(
        frame.filter(~nw.col("paid_at").is_null())
        .with_columns(lag_h.alias("h"))
        .group_by("h")
        .agg(nw.len().alias("k")),
        "flags:pay_lag",
    )
    if len(hist) == 0:
        return []
    hist = hist.sort_values("h")
    cum = (hist["k"].cumsum() / hist["k"].sum()).to_numpy()
    p95_h = float(hist["h"].to_numpy()[int(np.searchsorted(cum, 0.95))]) + 1
    cutoff = last.to_pydatetime() - dt.timedelta(hours=p95_h)
    stats = engine.collect(
        frame.with_columns(
            (nw.col("created_at") >= nw.lit(cutoff)).alias("recent"),
            nw.col("paid_at").is_null().cast(nw.Int64()).alias("unpaid"),
        )
        .group_by("recent")
        .agg(nw.len().alias("n"), nw.col("unpaid").sum().alias("u")),
        "flags:recent_unpaid",
    )
    rec = stats[stats["recent"].astype(bool)]
    old = stats[~stats["recent"].astype(bool)]
    if len(rec) == 0 or len(old) == 0:
        return []
    n1, u1 = float(rec["n"].iloc[0]), float(rec["u"].iloc[0])
    n0, u0 = float(old["n"].iloc[0]), float(old["u"].iloc[0])
    p1, p0 = u1 / n1, u0 / n0
    pooled = (u1 + u0) / (n1 + n0)
    se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n0))
    if n1 < 20 or (p1 - p0) / se < 3:
        return []
    return [
        Flag(
            "immature_period",
            "warning",
            f"{u1:.0f} of {n1:.0f} orders created after {cutoff:%Y-%m-%d %H:%M} are still unpaid "
            f"({p1:.1%} against {p0:.1%} before): 95% of payments arrive within {p95_h:.0f} h, so the "
            "last period's payment conversion is understated until they mature.",
            table="orders",
            column="paid_at",
            subject={"since": cutoff.isoformat()},
            n_rows=int(n1),
            evidence={"unpaid_recent": p1, "unpaid_before": p0, "p95_payment_lag_hours": p95_h},
            instead={"order_conversion": "use order conversion for the last period"},
        )
    ]


def mix_shift(result: Result) -> list[Flag]:
    """The total rate moved mostly because traffic moved between segments (mix), not rates.

    Between the last two periods, the change of the pooled payment conversion over the
    segments is split into a mix and a rate effect
    (:func:`shopmetrics.stats.mix.mix_decomposition`). Flagged when the mix effect alone is
    beyond the noise of the total change (2 standard errors) and larger than the rate
    effect — or, Simpson's paradox, when the total moves against every segment.
    """

    by, t = result.by, result.table
    if len(by) != 1 or result.meta.get("freq") is None or "payment_conversion" not in t.columns:
        return []
    periods = sorted(t.loc[t[by[0]] != "(all)", "period"].unique())
    if len(periods) < 2:
        return []
    flag = mix_shift_flag(t, by[0], str(periods[-2]), str(periods[-1]))
    return [] if flag is None else [flag]


def mix_shift_flag(table: pd.DataFrame, by: str, previous: str, current: str) -> Flag | None:
    """The ``mix_shift`` flag from :func:`mix_decomposition` (used by the funnel's detectors)."""
    d = mix_decomposition(table, by, previous, current)
    tot = d.iloc[-1]
    segs = d.iloc[:-1]
    delta = float(tot["rate_cur"] - tot["rate_prev"])
    seg = table[table[by] != "(all)"]
    va = float(seg.loc[seg["period"] == previous, "visitors"].sum())
    vb = float(seg.loc[seg["period"] == current, "visitors"].sum())
    if not va or not vb:
        return None
    pooled = float(seg.loc[seg["period"].isin([previous, current]), "paid_buyers"].sum()) / (
        va + vb
    )
    se = float(np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / va + 1 / vb)))
    mix, rate_eff = float(tot["mix_effect"]), float(tot["rate_effect"])
    simpson = bool(tot["simpson"])
    if not (simpson or (abs(mix) > 2 * se and abs(mix) > abs(rate_eff))):
        return None
    lead = (
        f"payment conversion of all {by}s moved {delta:+.2%} from {previous} to {current} while every "
        f"{by} moved the other way (Simpson's paradox)"
        if simpson
        else f"payment conversion of all {by}s moved {delta:+.2%} from {previous} to {current}, of which "
        f"{mix:+.2%} is mix (traffic moving between {by}s) and {rate_eff:+.2%} the {by}s' own rates"
    )
    return Flag(
        "mix_shift",
        "warning",
        lead
        + ". Judge each segment by its own rate; the total moved because of where the traffic came from.",
        subject={"by": by, "from": previous, "to": current},
        evidence={
            "total_change": delta,
            "mix_effect": mix,
            "rate_effect": rate_eff,
            "se_total_change": se,
            "share_change": dict(
                zip(segs[by], (segs["share_cur"] - segs["share_prev"]).tolist(), strict=True)
            ),
            "rate_change": dict(
                zip(segs[by], (segs["rate_cur"] - segs["rate_prev"]).tolist(), strict=True)
            ),
        },
        instead={"rate_effect": rate_eff},
    )
