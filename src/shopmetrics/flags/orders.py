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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.display import is_missing
from shopmetrics.engine import PERIOD, Freq
from shopmetrics.engine.counting import (
    count_events,
    count_orders,
    events_query,
    read_event_counts,
    sum_traffic,
)
from shopmetrics.flags.finding import Flag
from shopmetrics.results import Result
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = ["immature_period", "order_brushing", "presale_zero_payment"]


BRUSH_MIN_ORDERS = 10


BRUSH_ORDERS_PER_BUYER = 3.0


PRESALE_VISITORS = "flags:presale_visitors"


def presale_queries(
    orders: Table, events: Table, by: Sequence[str], freq: Freq, t0: Any, t1: Any
) -> dict[str, nw.LazyFrame[Any]]:
    """The lazy count of the presale products' visitors (not run), for the funnel to
    collect with its own counts; none when the funnel itself is per product or there is
    no presale product."""
    if list(by) == ["product_id"] or not events.has("product_id"):
        return {}
    ids = _presale_ids(orders)
    if not ids:
        return {}
    ev = events.with_frame(events.frame.filter(nw.col("product_id").is_in(ids)))
    return {PRESALE_VISITORS: events_query(ev, ["product_id"], freq, t0, t1)[0]}


def presale_zero_payment(
    result: Result,
    orders: Table,
    events: Table | None,
    traffic: Table | None = None,
    shared: Mapping[str, pd.DataFrame] | None = None,
) -> list[Flag]:
    """Presale products whose payment conversion is ~0 (deposit phase) or inflated (final payment).

    The product's visitors come from the funnel's own table when it is per product, else
    from the events (distinct visitors of the presale products only) or from a traffic
    export's visitors per product (a back-end product export has them).
    """
    ids = _presale_ids(orders)
    if not ids:
        return []
    freq = result.meta.get("freq")
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    od = orders.with_frame(orders.frame.filter(nw.col("product_id").is_in(ids)))
    oc = count_orders(od, ["product_id"], freq, t0, t1).table
    vis_table = _presale_visitors(result, events, traffic, ids, shared or {})
    oc = oc.astype({"product_id": str})
    oc["_label"] = [engine.period_label(int(k), freq) for k in oc[PERIOD]]
    table = oc
    if vis_table is not None:
        table = oc.merge(vis_table, on=["product_id", "_label"], how="left")
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
            rates = (
                f"so payment conversion reads {evidence['payment_conversion']:.2%}. 生意参谋 "
                "counts presale orders on the day of full payment; use order conversion "
                f"({evidence['order_conversion']:.2%}) or deposits / visitors "
                f"({evidence['deposit_conversion']:.2%})."
                if not np.isnan(visitors)
                else "so payment conversion reads near zero. 生意参谋 counts presale orders on "
                "the day of full payment; use order buyers or deposit buyers over the "
                "product's visitors (not known here: pass events= or a product traffic export)."
            )
            out.append(
                Flag(
                    "presale_zero_payment",
                    "warning",
                    f"presale product {r['product_id']} in {period}: {deposits:.0f} buyers paid a "
                    f"deposit but only {paid:.0f} paid in full, {rates}",
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


def _presale_ids(orders: Table) -> list[str]:
    """The products with presale orders (``is_presale`` or a deposit paid)."""
    cond = None
    if orders.has("is_presale"):
        cond = nw.col("is_presale").fill_null(value=False)
    if orders.has("deposit_paid_at"):
        dep = ~nw.col("deposit_paid_at").is_null()
        cond = dep if cond is None else (cond | dep)
    if cond is None or not orders.has("product_id"):
        return []
    ids_df = engine.collect(
        engine.distinct(orders.frame.filter(cond).select("product_id")), "flags:presale_ids"
    )
    return sorted(str(v) for v in ids_df["product_id"].dropna())


def _presale_visitors(
    result: Result,
    events: Table | None,
    traffic: Table | None,
    ids: list[str],
    shared: Mapping[str, pd.DataFrame],
) -> pd.DataFrame | None:
    """``product_id, period label, visitors`` of the presale products (``None``: unknown):
    from the funnel's table when it is per product, the shared count, the events, or a
    traffic export."""
    freq = result.meta.get("freq")
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    t = result.table
    if tuple(result.by) == ("product_id",) and "visitors" in t.columns:
        rows = t.loc[t["product_id"].astype(str).isin(ids), ["product_id", "period", "visitors"]]
        return rows.rename(columns={"period": "_label"}).astype({"product_id": str})
    if PRESALE_VISITORS in shared:
        ec = read_event_counts(shared[PRESALE_VISITORS], ["product_id"], t0, t1, [])[0]
    elif events is not None and events.has("product_id"):
        ev = events.with_frame(events.frame.filter(nw.col("product_id").is_in(ids)))
        ec = count_events(ev, ["product_id"], freq, t0, t1).table
    elif traffic is not None and traffic.has("product_id") and traffic.has("visitors"):
        tr = traffic.with_frame(
            traffic.frame.filter(nw.col("product_id").cast(nw.String()).is_in(ids))
        )
        ec = sum_traffic(tr, ["product_id"], freq, t0, t1).table
    else:
        return None
    if "visitors" not in ec.columns:
        return None
    ec = ec.astype({"product_id": str})
    ec["_label"] = [engine.period_label(int(k), freq) for k in ec[PERIOD]]
    return ec[["product_id", "_label", "visitors"]]


def _count(value: Any) -> float:
    """A count from an outer-joined aggregate: missing (NaN / None) means zero."""
    v = float(value) if value is not None else 0.0
    return 0.0 if np.isnan(v) else v


def _brushing_windows(orders: Table, frame: nw.LazyFrame[Any]) -> pd.DataFrame:
    """The product-hours with many orders per buyer (one aggregate of the orders)."""
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
    return windows.astype({"product_id": str}).sort_values(["product_id", "hour"])


def _window_rows(orders: Table, frame: nw.LazyFrame[Any], windows: pd.DataFrame) -> pd.DataFrame:
    """The order lines of every flagged window (one collect), with ``_w`` its index."""
    import pandas as pd  # noqa: PLC0415 - pandas is optional at import time

    conds = []
    for product, hour in zip(windows["product_id"], windows["hour"], strict=True):
        start = engine.period_start(0, "D") + dt.timedelta(hours=int(hour))
        conds.append(
            (nw.col("product_id").cast(nw.String()) == str(product))
            & engine.between("created_at", start, start + dt.timedelta(hours=1))
        )
    cols = ["order_id", "buyer_id", "product_id", "created_at", "amount"]
    cols += ["paid_at"] if orders.has("paid_at") else []
    rows = engine.collect(
        frame.filter(nw.any_horizontal(*conds, ignore_nulls=True)).select(cols),
        "flags:brushing_orders",
    )
    rows = rows.astype({"order_id": str, "buyer_id": str, "product_id": str})
    hour = (rows["created_at"] - pd.Timestamp(engine.period_start(0, "D"))) // pd.Timedelta(hours=1)
    key = dict(
        zip(
            zip(windows["product_id"], windows["hour"], strict=True),
            range(len(windows)),
            strict=True,
        )
    )
    rows["_w"] = [key.get((p, int(h)), -1) for p, h in zip(rows["product_id"], hour, strict=True)]
    return rows


def _visited(events: Table | None, buyers: list[str], before: dt.datetime) -> set[str] | None:
    """The buyers among ``buyers`` with a visit before ``before`` (``None`` without events)."""
    if events is None or not buyers:
        return None
    got = engine.collect(
        engine.distinct(
            events.frame.filter(
                nw.col("visitor_id").cast(nw.String()).is_in(buyers)
                & (nw.col("event") == "visit")
                & (nw.col("ts") < nw.lit(before))
            ).select("visitor_id")
        ),
        "flags:brushing_visits",
    )
    return {str(v) for v in got["visitor_id"]}


def order_brushing(
    orders: Table,
    events: Table | None,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    *,
    result: Result | None = None,
) -> list[Flag]:
    """刷单: many orders per buyer for one product within one clock hour.

    The flag names the product, the hour and the result period, and gives the product's
    figures of that period without the brushed orders (``instead``: its paid amount, paid
    buyers and order buyers without them, never a difference) and their share. Examples
    are the fastest-paid orders (the evidence), then by order id.
    """
    if not orders.has("product_id"):
        return []
    frame = orders.frame
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("created_at", t0, t1))
    windows = _brushing_windows(orders, frame)
    if len(windows) == 0:
        return []
    rows = _window_rows(orders, frame, windows)
    last = max(int(h) for h in windows["hour"]) + 1
    everyone = sorted(set(rows["buyer_id"]))
    visited = _visited(events, everyone, engine.period_start(0, "D") + dt.timedelta(hours=last))
    out: list[Flag] = []
    for i, rec in enumerate(windows.to_dict("records")):
        w = {str(k): v for k, v in rec.items()}
        out.append(_brushing_flag(orders, w, rows[rows["_w"] == i], visited, result))
    return out


def _money(values: Any) -> float:
    """A sum of amounts that does not depend on row order (cents, summed as integers)."""
    cents = sorted(round(float(v) * 100) for v in values if not is_missing(v))
    return sum(cents) / 100


def _brushing_flag(
    orders: Table,
    w: dict[str, Any],
    rows: pd.DataFrame,
    visited: set[str] | None,
    result: Result | None,
) -> Flag:
    """One ``order_brushing`` flag: window ``w`` and its order lines ``rows``."""
    product = str(w["product_id"])
    start = engine.period_start(0, "D") + dt.timedelta(hours=int(w["hour"]))
    buyers = sorted(set(rows["buyer_id"]))
    evidence: dict[str, Any] = {
        "hour_start": start.isoformat(),
        "orders": int(w["orders"]),
        "buyers": int(w["buyers"]),
        "orders_per_buyer": float(w["orders"]) / max(1, int(w["buyers"])),
        "amount": _money(rows["amount"]),
    }
    rows = rows.assign(_lag=float("inf"))
    if "paid_at" in rows.columns:
        lag = (rows["paid_at"] - rows["created_at"]).dt.total_seconds()
        evidence["median_seconds_to_pay"] = float(lag.median()) if lag.notna().any() else None
        rows = rows.assign(_lag=lag.fillna(float("inf")))
    if visited is not None:
        evidence["buyers_without_visit"] = len(set(buyers) - visited)
    fixed = _brushing_correction(orders, product, start, set(rows["order_id"]), result)
    evidence.update(fixed["evidence"])
    never = (
        f", {evidence['buyers_without_visit']} of them never visited"
        if "buyers_without_visit" in evidence
        else ""
    )
    ranked = rows.sort_values(["_lag", "order_id"], kind="stable")
    return Flag(
        "order_brushing",
        "warning",
        f"product {product}: {int(w['orders'])} orders from {int(w['buyers'])} buyers within "
        f"one hour from {start:%Y-%m-%d %H:00}{never}: suspected order brushing (刷单). These "
        "orders inflate conversion, sales and ratings; report the figures without them.",
        table="orders",
        subject={"product_id": product, "hour": start.isoformat(), **fixed["subject"]},
        n_rows=len(rows),
        evidence=evidence,
        examples=tuple(
            {"order_id": str(r["order_id"]), "buyer_id": str(r["buyer_id"])}
            for r in ranked.head(5).to_dict("records")
        ),
        instead={
            "exclude_orders": int(w["orders"]),
            "exclude_buyers": buyers[:50],
            **fixed["instead"],
        },
    )


def _brushing_correction(
    orders: Table,
    product: str,
    start: dt.datetime,
    brushed: set[str],
    result: Result | None,
) -> dict[str, dict[str, Any]]:
    """The product's paid amount, paid and order buyers in the result period of the
    window, with and without the brushed orders (from the orders: a small table)."""
    freq = result.meta.get("freq") if result is not None else None
    t0 = result.meta.get("start") if result is not None else None
    t1 = result.meta.get("end") if result is not None else None
    key = engine.period_key_of(start, freq)
    label = engine.period_label(key, freq)
    od = orders.with_frame(orders.frame.filter(nw.col("product_id").cast(nw.String()) == product))
    kept = od.with_frame(
        od.frame.filter(~nw.col("order_id").cast(nw.String()).is_in(sorted(brushed)))
    )
    got = {}
    for name, table in (("with", od), ("without", kept)):
        c = count_orders(table, [], freq, t0, t1).table
        row = c[c[PERIOD] == key]
        got[name] = {
            m: float(row[m].iloc[0]) if len(row) and m in row.columns else 0.0
            for m in ("paid_amount", "paid_buyers", "order_buyers")
        }
    subject = {"period": label} if freq is not None else {}
    paid_with = got["with"]["paid_amount"]
    evidence = {
        "period": label,
        "paid_amount": paid_with,
        "brushed_share_of_paid_amount": (paid_with - got["without"]["paid_amount"]) / paid_with
        if paid_with
        else float("nan"),
        "order_buyers": int(got["with"]["order_buyers"]),
    }
    instead = {
        "paid_amount": got["without"]["paid_amount"],
        "paid_buyers": int(got["without"]["paid_buyers"]),
        "order_buyers": int(got["without"]["order_buyers"]),
    }
    return {"subject": subject, "evidence": evidence, "instead": instead}


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
