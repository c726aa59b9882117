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
from shopmetrics.attribution import attribute
from shopmetrics.engine import PERIOD, Freq, paid_orders
from shopmetrics.engine.periods import parse_bound
from shopmetrics.engine.spend import load_spend, sum_spend
from shopmetrics.errors import DefinitionError, SchemaError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.flags.spend import ROI_NAMES as ROI_NAMES  # noqa: PLC0414 - re-export
from shopmetrics.flags.spend import SALES_NAMES as SALES_NAMES  # noqa: PLC0414 - re-export
from shopmetrics.flags.spend import roas_named_roi, spend_flags
from shopmetrics.funnel import FunnelResult, funnel
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
        orders: Order lines; attributed to sources by ``attribution``. Without orders,
            a traffic-source export's own 支付买家数 / 支付金额 per source are the
            attributed buyers and sales (the back-end's attribution), so ROAS needs only
            the export and a spend report.
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
        Metric dictionary, "Paid traffic and ROI". The ROAS interval is the delta method
        on per-visitor aggregates (:func:`shopmetrics.stats.intervals.total_over_fixed_ci`):
        the attributed amount is a sum over the source's visitors (each visitor's
        attributed paid amount, 0 for non-buyers), ``Var = n s²`` from the visitors ``n``,
        Σ amount and Σ amount² over buyers; cost fixed (the spend report's), so
        ``Var(ROAS) = Var(amount) / cost²``. Assumes buyers independent; rows without
        visitors use the ``n → ∞`` limit Σ amount² (compound Poisson).
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_options(by, attribution)
    paid_names = frozenset(paid_sources) if paid_sources is not None else PAID_SOURCES
    base, table, dedup = _by_source(events, traffic, by, freq, start, end, tz, columns, detect)
    flags: list[Flag] = [f for f in base.flags if f.code != "small_sample"]
    excluded, rows_in = list(base.audit.excluded), dict(base.audit.rows_in)
    notes_extra: list[str] = []
    keys = [*by, "period"]
    t0, t1 = parse_bound(start, "start", tz), parse_bound(end, "end", tz)
    if orders is not None:
        att, att_flags, att_ex, att_rows = _attributed(
            events, orders, by, freq, attribution, window_days, t0, t1, tz, columns, margin
        )
        flags += att_flags
        excluded += att_ex
        rows_in.update(att_rows)
        table = _with_attributed(table.merge(att, on=keys, how="outer"))
    elif traffic is not None and "paid_amount" in table.columns:
        table = _with_attributed(_export_attributed(table, margin))
        table["attributed_amount_sq"] = np.nan  # no buyer's amounts: no ROAS interval
        notes_extra.append(_EXPORT_SALES_NOTE)
    if spend is not None:
        sp = load_spend(spend, by, columns, tz)
        sums = sum_spend(sp, by, freq, t0, t1)
        excluded += sums.excluded
        rows_in.update(sums.rows_in)
        flags += roas_named_roi(sp, t0, t1)
        table = _with_cost_ratios(table.merge(sums.table, on=keys, how="outer"))
        flags += spend_flags(table, paid_names)
    table["is_paid"] = table["source"].astype(str).isin(paid_names)
    if "roas" in table.columns and len(by) > 1:
        table = _advice(table, min_clicks)
    table = table.drop(columns=[c for c in table.columns if c.endswith("_sq")])
    meta = {
        **base.meta,
        "attribution": attribution,
        "window_days": window_days,
        "margin": margin,
        "dedup_visitors": {str(k): int(v) for k, v in dedup.items()},
        "paid_sources": sorted(paid_names),
    }
    notes = (*base.audit.notes, *notes_extra, _SHARE_NOTE)
    audit = Audit(rows_in, tuple(excluded), tuple(dict.fromkeys(notes)))
    audit = engine.with_reads(audit, sp if spend is not None else None)
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    return TrafficResult(table, sort_flags(flags), audit, base.definition, meta)


_SHARE_NOTE = (
    "visitor_share: shares of de-duplicated visitors; a visitor "
    "reached through two sources counts in both, so shares add to more than 100%"
)

_EXPORT_SALES_NOTE = (
    "sales per source are the traffic export's own (支付买家数, 支付金额: the back-end's "
    "attribution); ROAS = 支付金额 / 花费 has no interval without order-level amounts, and "
    "other attribution models need raw events"
)


def _export_attributed(table: pd.DataFrame, margin: float | None) -> pd.DataFrame:
    """The buyers and sales a traffic-source export credits to each source, as attributed."""
    table["attributed_buyers"] = table["paid_buyers"] if "paid_buyers" in table.columns else 0
    table["attributed_amount"] = table["paid_amount"]
    if "paid_orders" in table.columns:
        table["attributed_orders"] = table["paid_orders"]
    if margin is not None:
        table["attributed_profit"] = table["paid_amount"] * float(margin)
    return table


_ATTRIBUTED = (
    "attributed_orders",
    "attributed_buyers",
    "attributed_amount",
    "attributed_amount_sq",
    "attributed_profit",
)
"""The columns of orders credited to a source (``_sq``: Σ amount² over buyers)."""


def _check_options(by: list[str], attribution: str) -> None:
    if not by or by[0] != "source":
        msg = (
            f"traffic_sources groups by source first; got by={by!r}. Use by=('source', 'campaign')."
        )
        raise SchemaError(msg)
    if attribution not in MODELS:
        raise DefinitionError.unknown("attribution", attribution, MODELS)


def _by_source(
    events: Any,
    traffic: Any,
    by: list[str],
    freq: Freq,
    start: Any,
    end: Any,
    tz: str | None,
    columns: Mapping[str, str] | None,
    detect: bool,
) -> tuple[FunnelResult, pd.DataFrame, dict[Any, Any]]:
    """The funnel per source, its table with ``visitor_share``, and the de-duplicated
    visitors per period the shares are of (the funnel over all sources)."""
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
    if "visitors" in table.columns:
        table["visitor_share"] = table["visitors"] / table["period"].map(dedup).astype(float)
    return base, table, dedup


def _with_attributed(table: pd.DataFrame) -> pd.DataFrame:
    """Attributed columns filled with zeros where a source had no orders; conversion and
    visitor value from the attributed buyers and amount."""
    for c in _ATTRIBUTED:
        if c in table.columns:
            table[c] = table[c].fillna(0.0)
    if "visitors" in table.columns:
        x, n = table["attributed_buyers"].to_numpy(float), table["visitors"].to_numpy(float)
        table["payment_conversion"] = intervals.rate(x, n)
        lo, hi = intervals.proportion_ci(np.minimum(np.round(x), n), n)
        table["payment_conversion_ci_low"], table["payment_conversion_ci_high"] = lo, hi
        table["visitor_value"] = intervals.rate(table["attributed_amount"], n)
    return table


def _with_cost_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """CPC, CPM and cost per visitor from the cost; with attributed orders CPA, ROAS (with
    its interval) and, with a profit, ROI."""
    table["cost"] = table["cost"].fillna(0.0)
    clicks = table["spend_clicks"] if "spend_clicks" in table.columns else table.get("clicks")
    exposures = (
        table["spend_exposures"] if "spend_exposures" in table.columns else table.get("exposures")
    )
    if clicks is not None:
        table["cpc"] = intervals.rate(table["cost"], clicks.fillna(0))
    if exposures is not None:
        table["cpm"] = 1000 * intervals.rate(table["cost"], exposures.fillna(0))
    if "visitors" in table.columns:
        table["visitor_cost"] = intervals.rate(table["cost"], table["visitors"].fillna(0))
    if "attributed_amount" not in table.columns:
        return table
    cost = table["cost"].to_numpy(float)
    table["cpa"] = intervals.rate(cost, table["attributed_buyers"].to_numpy(float))
    visitors = table["visitors"] if "visitors" in table.columns else np.nan
    table["roas"], table["roas_ci_low"], table["roas_ci_high"] = intervals.total_over_fixed_ci(
        visitors, table["attributed_amount"], table["attributed_amount_sq"], cost
    )
    if "attributed_profit" in table.columns:
        table["roi"] = intervals.rate(table["attributed_profit"] - cost, cost)
    return table


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
    od = engine.load(orders, "orders", columns, tz)
    od.require(
        "order_id", "buyer_id", "created_at", "amount", "paid_at", purpose="attributed orders"
    )
    od, rows, excluded = paid_orders.usable(od, by, nulls=())  # an order without a source is kept
    frame = paid_orders.paid_between(od, t0, t1)
    profit = paid_orders.profit_expr(od, margin)
    flags: list[Flag] = []
    if model == "recorded":
        missing = [c for c in by if not od.has(c)]
        if missing:
            msg = f"orders: attribution='recorded' needs column(s) {missing} in orders"
            raise SchemaError(msg)
        out = paid_orders.recorded_credit(frame, by, freq, profit)
    else:
        out = _modelled(
            events, frame, by, freq, model, window_days, columns, profit, flags, excluded
        )
    out["period"] = [engine.period_label(int(k), freq) for k in out[PERIOD]]
    return out.drop(columns=[PERIOD]), flags, excluded, rows


def _modelled(
    events: Any,
    frame: nw.LazyFrame[Any],
    by: list[str],
    freq: Freq,
    model: str,
    window_days: int,
    columns: Mapping[str, str] | None,
    profit: nw.Expr | None,
    flags: list[Flag],
    excluded: list[Exclusion],
) -> pd.DataFrame:
    """Paid orders credited by an attribution model, one attribution per period of payment
    (the orders of the period, touches up to ``window_days`` before); the model's flags
    and exclusions are added to ``flags`` and ``excluded``."""
    import pandas as pd  # noqa: PLC0415

    if events is None:
        msg = (
            f"attribution={model!r} needs events= to build the journeys; use attribution='recorded'"
        )
        raise SchemaError(msg)
    parts = []
    for key in paid_orders.payment_periods(frame, freq):
        res = attribute(
            events=events,
            orders=paid_orders.orders_of_period(frame, key, freq),
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
        df["attributed_amount_sq"] = df[by[0]].map(res.buyer_value_sq())
        df[PERIOD] = key
        flags += list(res.flags)
        excluded += list(res.audit.excluded)
        parts.append(df)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[by[0], PERIOD])
    out["attributed_buyers"] = out.get("attributed_orders", 0.0)
    if profit is not None and "attributed_amount" in out.columns:
        out["attributed_profit"] = out["attributed_amount"] * paid_orders.profit_share(
            frame, profit
        )
    out = out[[c for c in out.columns if c in (*by, PERIOD, *_ATTRIBUTED)]]
    for extra in by[1:]:
        out[extra] = "(all)"
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
