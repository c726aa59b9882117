"""Detectors that read the orders table: presale payment timing, order brushing, immature periods.

- ``presale_zero_payment``: a presale product in its deposit phase shows ~0 payment
  conversion (生意参谋 counts presale on the day of full payment); on final-payment days
  its payment conversion is inflated. Use order conversion or deposits / visitors.
- ``order_brushing``: 刷单 — many orders per buyer for one product within an hour, from
  buyers who never visited, paid at once; rates with and without those orders.
- ``immature_period``: the last days' orders have not had time to be paid.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.display import is_missing
from shopmetrics.engine import PERIOD
from shopmetrics.engine.counting import count_events, count_orders
from shopmetrics.flags.finding import Flag
from shopmetrics.results import Result
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    from shopmetrics.engine import Table

__all__ = ["immature_period", "order_brushing", "presale_zero_payment"]


BRUSH_MIN_ORDERS = 10


BRUSH_ORDERS_PER_BUYER = 3.0


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
    if last is None or is_missing(last):
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
