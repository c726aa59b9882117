"""Traffic sources: visitors and conversion per source, spend, CPC / CPM / ROAS / ROI, advice.

The counting is the funnel's (:func:`shopmetrics.funnel.funnel` grouped by source);
this module adds spend, attributed orders and the paid-traffic ratios.

Names are explicit: ``roas`` is attributed sales / cost — what 直通车 and most store
back-ends label "ROI" — and ``roi`` is (attributed gross profit − cost) / cost, present
only when a margin or an order ``cost`` column is given. Output never labels ROAS as ROI.

Visitor shares are honest: a visitor who came through two sources counts in both, so
``visitor_share`` does not add up to 100%; ``meta["dedup_visitors"]`` holds the
de-duplicated total they are shares of.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.config import get_config
from shopmetrics.engine import PERIOD, Freq
from shopmetrics.errors import DefinitionError, SchemaError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.results import Audit, Exclusion, Result
from shopmetrics.stats import intervals, shrinkage

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PAID_SOURCES", "TrafficResult", "traffic_sources"]

PAID_SOURCES: frozenset[str] = frozenset(
    {
        "paid_search",
        "display",
        "ztc",
        "zuanzhan",
        "直通车",
        "钻展",
        "引力魔方",
        "万相台",
        "cpc",
        "paid",
    }
)
"""Source names treated as paid traffic (付费) when ``paid_sources`` is not given."""

MODELS = (
    "recorded",
    "last_click",
    "first_click",
    "linear",
    "time_decay",
    "position_based",
    "markov",
)


@dataclasses.dataclass(frozen=True, repr=False)
class TrafficResult(Result):
    """Per-source traffic, conversion, spend and return.

    Columns (when their inputs exist): ``source`` (and campaign / keyword), ``period``,
    ``exposures``, ``clicks``, ``ctr``, ``visitors``, ``visitor_share``,
    ``payment_conversion``, ``attributed_orders``, ``attributed_buyers``,
    ``attributed_amount``, ``visitor_value``, ``cost``, ``cpc``, ``cpm``,
    ``visitor_cost``, ``cpa``, ``roas`` (+ interval), ``roi`` (with a margin), ``is_paid``,
    ``advice`` (raise / hold / cut, only where the interval supports it).
    """

    kind = "traffic"

    def display_columns(self) -> Sequence[str]:
        """Headline columns (intervals stay in the table)."""
        return [c for c in self.table.columns if not c.endswith(("_ci_low", "_ci_high"))]

    def free_vs_paid(self) -> pd.DataFrame:
        """Visitors, buyers, amount and cost of free (淘内免费) vs paid (付费) traffic per period."""
        t = self.table
        cols = [
            c
            for c in ("visitors", "attributed_buyers", "attributed_amount", "cost")
            if c in t.columns
        ]
        out = t.groupby(["period", "is_paid"], sort=True)[cols].sum().reset_index()
        out["kind"] = np.where(out["is_paid"], "paid", "free")
        return out.drop(columns=["is_paid"])[["period", "kind", *cols]]

    def paid_vs_free_line(self) -> str:
        """One report line: did paid traffic grow while free traffic fell (last two periods)?"""
        return _growth_line(self.free_vs_paid())


def _growth_line(split: pd.DataFrame) -> str:
    periods = sorted(split["period"].unique())
    if len(periods) < 2 or "visitors" not in split.columns:
        return ""
    a, b = periods[-2], periods[-1]
    v = split.set_index(["period", "kind"])["visitors"].astype(float)

    def get(p: str, k: str) -> float:
        return float(v.get((p, k), 0.0))

    paid0, paid1, free0, free1 = get(a, "paid"), get(b, "paid"), get(a, "free"), get(b, "free")
    if not (paid0 and free0):
        return ""
    dp, df = paid1 / paid0 - 1, free1 / free0 - 1
    text = f"From {a} to {b} paid visitors changed {dp:+.1%} and free visitors {df:+.1%}"
    if dp > 0 > df:
        return (
            text + ": paid traffic grew while free traffic fell, which is what paid traffic "
            "taking over free traffic looks like (two weeks of counts, not a causal finding)."
        )
    return text + "."


def traffic_sources(
    events: Any = None,
    orders: Any = None,
    spend: Any = None,
    traffic: Any = None,
    by: Sequence[str] | str = ("source",),
    freq: Freq = None,
    attribution: str = "last_click",
    window_days: int = 7,
    margin: float | None = None,
    columns: Mapping[str, str] | None = None,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | None = None,
    paid_sources: Sequence[str] | None = None,
    min_clicks: int = 100,
    detect: bool = True,
) -> TrafficResult:
    """Traffic, conversion, spend and return per source (and campaign / keyword).

    Args:
        events: Raw events with a ``source`` column (and ``campaign`` / ``keyword``).
        orders: Order lines; attributed to sources by ``attribution``.
        spend: Paid-traffic cost per ``date`` and ``source`` (campaign, keyword, exposures,
            clicks optional).
        traffic: A daily export instead of ``events``.
        by: Grouping; must start with ``"source"``; add ``"campaign"``, ``"keyword"``.
        freq: ``None``, ``"D"``, ``"W"`` or ``"M"``.
        attribution: ``"recorded"`` (the ``source`` column of ``orders``, as the back-end
            attributed it), or a model of :func:`shopmetrics.attribution.attribute`:
            ``"last_click"`` (default), ``"first_click"``, ``"linear"``, ``"time_decay"``,
            ``"position_based"``, ``"markov"``.
        window_days: Attribution window.
        margin: Gross margin as a fraction of sales, for ``roi``; or use the orders'
            ``cost`` column.
        columns: ``{their_name: canonical_name}`` for every table.
        start: First instant included.
        end: First instant excluded.
        tz: Store time zone.
        paid_sources: Source names that are paid traffic (default :data:`PAID_SOURCES`).
        min_clicks: Campaigns / keywords with fewer clicks get no advice.
        detect: Run the funnel's misleading-data detectors on the input (``.flags``).

    Returns:
        A :class:`TrafficResult`.

    References:
        Metric dictionary, "Paid traffic and ROI"; the ROAS interval treats attributed
        sales as a compound Poisson sum (variance Σ amount² over buyers), cost fixed.
    """
    from shopmetrics.funnel import _parse_time, funnel  # noqa: PLC0415

    by = [by] if isinstance(by, str) else list(by)
    if not by or by[0] != "source":
        msg = (
            f"traffic_sources groups by source first; got by={by!r}. Use by=('source', 'campaign')."
        )
        raise SchemaError(msg)
    if attribution not in MODELS:
        raise DefinitionError.unknown("attribution", attribution, MODELS)
    paid_names = frozenset(paid_sources) if paid_sources is not None else PAID_SOURCES

    base = funnel(
        events,
        None,
        traffic,
        by=by,
        freq=freq,
        start=start,
        end=end,
        tz=tz,
        columns=columns,
        detect=detect,
    )
    table = base.to_pandas()
    flags: list[Flag] = [f for f in base.flags if f.code != "small_sample"]
    excluded = list(base.audit.excluded)
    rows_in = dict(base.audit.rows_in)
    notes = [
        *base.audit.notes,
        (
            "visitor_share: shares of de-duplicated visitors; a visitor "
            "reached through two sources counts in both, so shares add to more than 100%"
        ),
    ]
    total = funnel(
        events,
        None,
        traffic,
        by=(),
        freq=freq,
        start=start,
        end=end,
        tz=tz,
        columns=columns,
        detect=False,
    ).to_pandas()
    dedup = (
        dict(zip(total["period"], total["visitors"], strict=True))
        if "visitors" in total.columns
        else {}
    )
    keys = [*by, "period"]
    if "visitors" in table.columns:
        table["visitor_share"] = table["visitors"] / table["period"].map(dedup).astype(float)

    t0, t1 = _parse_time(start, "start", tz), _parse_time(end, "end", tz)
    if orders is not None:
        att, att_flags, att_ex, att_rows = _attributed(
            events, orders, by, freq, attribution, window_days, t0, t1, tz, columns, margin
        )
        flags += att_flags
        excluded += att_ex
        rows_in.update(att_rows)
        table = table.merge(att, on=keys, how="outer")
        for c in (
            "attributed_orders",
            "attributed_buyers",
            "attributed_amount",
            "attributed_amount_sq",
            "attributed_profit",
        ):
            if c in table.columns:
                table[c] = table[c].fillna(0.0)
        if "visitors" in table.columns:
            x, n = table["attributed_buyers"].to_numpy(float), table["visitors"].to_numpy(float)
            table["payment_conversion"] = intervals.rate(x, n)
            lo, hi = intervals.proportion_ci(np.minimum(np.round(x), n), n)
            table["payment_conversion_ci_low"], table["payment_conversion_ci_high"] = lo, hi
            table["visitor_value"] = intervals.rate(table["attributed_amount"], n)
    if spend is not None:
        sp = _spend(spend, by, freq, t0, t1, tz, columns)
        excluded += sp.pop("excluded")
        rows_in["spend"] = sp.pop("rows")
        flags += sp.pop("flags")
        table = table.merge(sp["table"], on=keys, how="outer")
        table["cost"] = table["cost"].fillna(0.0)
        clicks = table["spend_clicks"] if "spend_clicks" in table.columns else table.get("clicks")
        exposures = (
            table["spend_exposures"]
            if "spend_exposures" in table.columns
            else table.get("exposures")
        )
        if clicks is not None:
            table["cpc"] = intervals.rate(table["cost"], clicks.fillna(0))
        if exposures is not None:
            table["cpm"] = 1000 * intervals.rate(table["cost"], exposures.fillna(0))
        if "visitors" in table.columns:
            table["visitor_cost"] = intervals.rate(table["cost"], table["visitors"].fillna(0))
        if "attributed_amount" in table.columns:
            cost = table["cost"].to_numpy(float)
            table["cpa"] = intervals.rate(cost, table["attributed_buyers"].to_numpy(float))
            roas = intervals.rate(table["attributed_amount"], cost)
            z = intervals._z(get_config().confidence)
            half = (
                z
                * np.sqrt(table["attributed_amount_sq"].to_numpy(float))
                / np.where(cost > 0, cost, np.nan)
            )
            table["roas"], table["roas_ci_low"], table["roas_ci_high"] = (
                roas,
                np.maximum(roas - half, 0),
                roas + half,
            )
            if "attributed_profit" in table.columns:
                table["roi"] = intervals.rate(table["attributed_profit"] - cost, cost)
        flags += _spend_flags(table, paid_names)
    table["is_paid"] = table["source"].astype(str).isin(paid_names)
    if "roas" in table.columns and len(by) > 1:
        table = _advice(table, min_clicks)
    table = table.drop(columns=[c for c in table.columns if c.endswith("_sq")])
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    meta = {
        **base.meta,
        "attribution": attribution,
        "window_days": window_days,
        "margin": margin,
        "dedup_visitors": {str(k): int(v) for k, v in dedup.items()},
        "paid_sources": sorted(paid_names),
    }
    audit = Audit(rows_in, tuple(excluded), tuple(dict.fromkeys(notes)))
    return TrafficResult(table, sort_flags(flags), audit, base.definition, meta)


def _attributed(
    events: Any,
    orders: Any,
    by: list[str],
    freq: Freq,
    model: str,
    window_days: int,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    tz: str | None,
    columns: Mapping[str, str] | None,
    margin: float | None,
) -> tuple[pd.DataFrame, list[Flag], list[Exclusion], dict[str, int]]:
    """Paid orders credited to sources (and campaign / keyword) per period of payment."""
    import pandas as pd  # noqa: PLC0415

    od = engine.load(orders, "orders", columns, tz)
    od.require(
        "order_id", "buyer_id", "created_at", "amount", "paid_at", purpose="attributed orders"
    )
    rows = {"orders": engine.count_rows(od)}
    frame = od.frame.filter(~nw.col("paid_at").is_null())
    if t0 is not None or t1 is not None:
        frame = frame.filter(engine.between("paid_at", t0, t1))
    profit = None
    if margin is not None:
        profit = nw.col("amount") * margin
    elif od.has("cost"):
        profit = nw.col("amount") - nw.col("cost").fill_null(0)
    flags: list[Flag] = []
    excluded: list[Exclusion] = []
    keys = [*by, PERIOD]
    if model == "recorded":
        missing = [c for c in by if not od.has(c)]
        if missing:
            msg = f"orders: attribution='recorded' needs column(s) {missing} in orders"
            raise SchemaError(msg)
        frame = frame.with_columns(engine.period_key("paid_at", freq).alias(PERIOD))
        if profit is not None:
            frame = frame.with_columns(profit.alias("_profit"))
        per_buyer = (
            frame.group_by([*keys, "buyer_id"])
            .agg(
                nw.col("amount").sum().alias("amt"),
                nw.col("order_id").n_unique().alias("o"),
                *([nw.col("_profit").sum().alias("profit")] if profit is not None else []),
            )
            .with_columns((nw.col("amt") * nw.col("amt")).alias("amt_sq"))
        )
        out = engine.collect(
            per_buyer.group_by(keys).agg(
                nw.col("o").sum().alias("attributed_orders"),
                nw.len().alias("attributed_buyers"),
                nw.col("amt").sum().alias("attributed_amount"),
                nw.col("amt_sq").sum().alias("attributed_amount_sq"),
                *(
                    [nw.col("profit").sum().alias("attributed_profit")]
                    if profit is not None
                    else []
                ),
            ),
            "traffic:recorded",
        )
    else:
        from shopmetrics.attribution import attribute  # noqa: PLC0415

        if events is None:
            msg = f"attribution={model!r} needs events= to build the journeys; use attribution='recorded'"
            raise SchemaError(msg)
        # one attribution per period (orders of the period, touches up to window_days before)
        paid = engine.collect(
            frame.with_columns(engine.period_key("paid_at", freq).alias(PERIOD))
            .select(PERIOD)
            .unique(),
            "traffic:periods",
        )
        parts = []
        for key in sorted(int(k) for k in paid[PERIOD]):
            p0 = engine.period_start(key, freq) if freq else t0
            p1 = engine.period_end(key, freq) if freq else t1
            sel = frame if freq is None else frame.filter(engine.between("paid_at", p0, p1))
            res = attribute(
                events=events,
                orders=sel.to_native(),
                model=model,
                window_days=window_days,
                channel=by[0],
                columns=columns,
            )
            df = res.to_pandas().rename(
                columns={
                    "channel": by[0],
                    "conversions": "attributed_orders",
                    "value": "attributed_amount",
                }
            )
            df[PERIOD] = key
            flags += list(res.flags)
            excluded += list(res.audit.excluded)
            parts.append(df)
        out = (
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[by[0], PERIOD])
        )
        out["attributed_buyers"] = out.get("attributed_orders", 0.0)
        out["attributed_amount_sq"] = np.nan
        if profit is not None and "attributed_amount" in out.columns:
            total_amt = float(engine.scalar(frame.select(nw.col("amount").sum())) or 0.0)
            total_profit = float(engine.scalar(frame.select(profit.sum())) or 0.0)
            out["attributed_profit"] = out["attributed_amount"] * (
                total_profit / total_amt if total_amt else np.nan
            )
        out = out[
            [
                c
                for c in out.columns
                if c
                in (
                    *keys,
                    "attributed_orders",
                    "attributed_buyers",
                    "attributed_amount",
                    "attributed_amount_sq",
                    "attributed_profit",
                )
            ]
        ]
        for extra in by[1:]:
            out[extra] = "(all)"
    out["period"] = [engine.period_label(int(k), freq) for k in out[PERIOD]]
    return out.drop(columns=[PERIOD]), flags, excluded, rows


def _spend(
    spend: Any,
    by: list[str],
    freq: Freq,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    tz: str | None,
    columns: Mapping[str, str] | None,
) -> dict[str, Any]:
    sp = engine.load(spend, "spend", columns, tz)
    sp.require("date", "source", "cost", purpose="spend")
    missing = [c for c in by if not sp.has(c)]
    if missing:
        msg = f"spend: column(s) {missing} needed for by={by!r} are not in the spend table"
        raise SchemaError(msg)
    rows = engine.count_rows(sp)
    excluded: list[Exclusion] = []
    frame = sp.frame
    if t0 is not None or t1 is not None:
        inside = engine.between("date", t0, t1)
        n_out = engine.count_rows(sp, ~inside)
        if n_out:
            excluded.append(Exclusion("spend", "outside range", n_out, "date outside [start, end)"))
        frame = frame.filter(inside)
    keys = [*by, PERIOD]
    frame = frame.with_columns(engine.period_key("date", freq).alias(PERIOD))
    aggs = [nw.col("cost").sum().alias("cost")]
    aggs += [nw.col(c).sum().alias(f"spend_{c}") for c in ("exposures", "clicks") if sp.has(c)]
    sales_col = next((c for c in sp.columns if c.lower() in SALES_NAMES), None)
    roi_col = next((c for c in sp.columns if c.lower() in ROI_NAMES), None)
    if sales_col is not None:
        aggs.append(nw.col(sales_col).sum().alias("_reported_sales"))
    out = engine.collect(frame.group_by(keys).agg(*aggs), "traffic:spend")
    out["period"] = [engine.period_label(int(k), freq) for k in out[PERIOD]]
    flags = _roi_column_flag(frame, roi_col, sales_col) if roi_col is not None else []
    out = out.drop(columns=[c for c in out.columns if c == "_reported_sales"])
    return {"table": out.drop(columns=[PERIOD]), "excluded": excluded, "rows": rows, "flags": flags}


ROI_NAMES = frozenset({"roi", "投入产出比", "投资回报率"})
SALES_NAMES = frozenset({"sales", "gmv", "revenue", "成交金额", "总成交金额", "attributed_amount"})


def _roi_column_flag(frame: nw.LazyFrame[Any], roi_col: str, sales_col: str | None) -> list[Flag]:
    """``roas_named_roi``: a spend column called ROI that is sales / cost, not profit / cost.

    With a sales column beside it, the rows are compared: when the "ROI" equals
    sales / cost (within 2%) on nearly every row, it is ROAS. Without one, values that
    are never below zero and centre above 1 cannot be profit / cost of a typical ad plan
    and are flagged as probably ROAS.
    """
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


def _spend_flags(table: pd.DataFrame, paid: frozenset[str]) -> list[Flag]:
    out: list[Flag] = []
    vis = table["visitors"].fillna(0) if "visitors" in table.columns else None
    if vis is None:
        return out
    no_traffic = table[(table["cost"] > 0) & (vis == 0)]
    if len(no_traffic):
        out.append(
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
        )
    free_riders = table[table["source"].astype(str).isin(paid) & (table["cost"] == 0) & (vis > 0)]
    if len(free_riders):
        out.append(
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
        )
    return out


def _advice(table: pd.DataFrame, min_clicks: int) -> pd.DataFrame:
    """raise / hold / cut per campaign or keyword, only where the interval supports it.

    Plans are ranked by empirical-Bayes shrunk CTR; advice compares the ROAS interval with
    the source's own ROAS: "raise" when the whole interval is above it, "cut" when below,
    "hold" otherwise, and no advice under ``min_clicks`` clicks.
    """
    clicks = table.get("spend_clicks", table.get("clicks"))
    exposures = table.get("spend_exposures", table.get("exposures"))
    advice = np.full(len(table), "", dtype=object)
    if clicks is None or exposures is None:
        table["advice"] = advice
        return table
    table["ctr_shrunk"] = np.nan
    for idx in table.groupby(["source", "period"], sort=True).groups.values():
        sub = table.loc[idx]
        if len(sub) >= 3:
            shrunk, _, _ = shrinkage.shrink(clicks.loc[idx].fillna(0), exposures.loc[idx].fillna(0))
            table.loc[idx, "ctr_shrunk"] = shrunk
        src_roas = (
            sub["attributed_amount"].sum() / sub["cost"].sum() if sub["cost"].sum() else np.nan
        )
        for i in idx:
            if clicks.loc[i] < min_clicks or not np.isfinite(table.loc[i, "roas"]):
                advice[table.index.get_loc(i)] = (
                    "too few clicks" if clicks.loc[i] < min_clicks else ""
                )
            elif table.loc[i, "roas_ci_low"] > src_roas:
                advice[table.index.get_loc(i)] = "raise"
            elif table.loc[i, "roas_ci_high"] < src_roas:
                advice[table.index.get_loc(i)] = "cut"
            else:
                advice[table.index.get_loc(i)] = "hold"
    table["advice"] = advice
    return table
