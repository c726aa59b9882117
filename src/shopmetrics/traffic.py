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
from shopmetrics import traffic_ratios as ratios
from shopmetrics.attribution import attribute_tables
from shopmetrics.engine import PERIOD, Freq, Table, paid_orders
from shopmetrics.engine import spend as spend_q
from shopmetrics.engine.periods import parse_bound
from shopmetrics.engine.spend import load_spend, sum_spend
from shopmetrics.errors import DefinitionError, SchemaError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.flags.spend import ROI_NAMES as ROI_NAMES  # noqa: PLC0414 - re-export
from shopmetrics.flags.spend import SALES_NAMES as SALES_NAMES  # noqa: PLC0414 - re-export
from shopmetrics.flags.spend import roas_named_roi, spend_flags
from shopmetrics.funnel import FunnelResult, funnel
from shopmetrics.results import Audit, Exclusion, Result
from shopmetrics.stats import intervals

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
        """Visitors, buyers, amount and cost of free (淘内免费) vs paid (付费) traffic per period.

        Unique counts are never added across sources: ``visitors`` are distinct visitors
        of the free (or paid) sources, counted in the engine (``meta["visitors_by_kind"]``;
        a visitor who came through two free sources counts once); with
        ``attribution="recorded"`` the buyers are distinct buyers too
        (``meta["buyers_by_kind"]``); under a model they are credited orders, which add
        up (each order's credits sum to 1). Without events (a traffic-source export) there
        is no distinct count, so no ``visitors``. Amount and cost add up over sources.
        """
        import pandas as pd  # noqa: PLC0415 - pandas is heavy

        t = self.table
        cols = [
            c
            for c in ("attributed_buyers", "attributed_amount", "cost")
            if c in t.columns and not (c == "attributed_buyers" and self.meta.get("buyers_by_kind"))
        ]
        out = t.groupby(["period", "is_paid"], sort=True)[cols].sum().reset_index()
        out["kind"] = np.where(out["is_paid"], "paid", "free")
        out = out.drop(columns=["is_paid"])[["period", "kind", *cols]]
        for key in ("buyers_by_kind", "visitors_by_kind"):
            if self.meta.get(key):
                out = pd.DataFrame(self.meta[key]).merge(out, on=["period", "kind"], how="outer")
        first = [c for c in ("visitors", "attributed_buyers") if c in out.columns]
        rest = [c for c in out.columns if c not in ("period", "kind", *first)]
        out = out.sort_values(["period", "kind"], kind="stable").reset_index(drop=True)
        return out[["period", "kind", *first, *rest]]

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


@engine.records_collects
def traffic_sources(
    events: Any = None,
    orders: Any = None,
    spend: Any = None,
    traffic: Any = None,
    by: Sequence[str] | str = ("source",),
    freq: Freq = None,
    attribution: str = "last_click",
    window_days: int = 7,
    margin: float | Mapping[str, float] | None = None,
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
            Orders are credited to the campaign / keyword of the touch the model picks
            (a touch without one, e.g. an organic search visit, to its source with an
            empty campaign); a source whose events carry no campaign / keyword has one
            row with its own totals (visitors, buyers, cost), the campaign / keyword empty.
        freq: ``None``, ``"D"``, ``"W"`` or ``"M"``.
        attribution: ``"recorded"`` (the ``source`` column of ``orders``, as the back-end
            attributed it), or a model of :func:`shopmetrics.attribution.attribute`:
            ``"last_click"`` (default), ``"first_click"``, ``"linear"``, ``"time_decay"``,
            ``"position_based"``, ``"markov"``.
        window_days: Attribution window.
        margin: For ``roi``: a store-wide gross margin (fraction of sales), or a
            ``{product_id: margin}`` mapping. A line's own ``cost`` (orders' ``cost``
            column) comes first; the store-wide figure is the fallback (stated in the
            audit).
        columns: ``{their_name: canonical_name}`` for every table.
        start: First instant included.
        end: First instant excluded.
        tz: Store time zone.
        paid_sources: Source names that are paid traffic (default :data:`PAID_SOURCES`).
        min_clicks: Sources / campaigns / keywords with fewer clicks get no advice.
        detect: Run the funnel's misleading-data detectors on the input (``.flags``).

    Returns:
        A :class:`TrafficResult`. ``meta["advice"]`` names the interval the advice used.

    What is collected: the funnel's counts (groups × periods), the spend sums, and for an
    attribution model one attribution pass over all periods (whatever ``freq``): the
    in-window touches of the paid orders and one row per paid order (its payment period
    and profit), so one row per order × touch at most — bounded by the orders, not the
    events (the audit says so).

    References:
        Metric dictionary, "Paid traffic and ROI". Intervals (each in its function's
        docstring): ROAS and ROI, the delta method on per-visitor aggregates, log scale
        (:func:`shopmetrics.stats.intervals.total_over_fixed_ci`, cost fixed); CPA, the
        same interval of buyers / cost, inverted; CPC and CPM, the delta method for a
        ratio of sums over the spend report's rows (:func:`shopmetrics.traffic_ratios.cost_per_ci`). Assumes
        buyers independent; rows without visitors use the ``n → ∞`` limit Σ amount²
        (compound Poisson).
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
    ev = engine.load(events, "events", columns, tz) if events is not None else None
    buyers_by_kind = None
    if orders is not None:
        att = _attributed(
            ev,
            orders,
            by,
            freq,
            attribution,
            window_days,
            (t0, t1),
            tz,
            columns,
            margin,
            paid_names,
        )
        buyers_by_kind = att.buyers_by_kind
        flags += att.flags
        excluded += att.excluded
        rows_in.update(att.rows_in)
        notes_extra += att.notes
        table = _with_attributed(table.merge(att.table, on=keys, how="outer"))
    elif traffic is not None and "paid_amount" in table.columns:
        table = _with_attributed(
            _export_attributed(table, None if isinstance(margin, Mapping) else margin)
        )
        table["attributed_amount_sq"] = np.nan  # no buyer's amounts: no ROAS interval
        notes_extra.append(_EXPORT_SALES_NOTE)
    if spend is not None:
        sp = load_spend(spend, by, columns, tz)
        sums = sum_spend(sp, by, freq, t0, t1, moments=True)
        excluded += sums.excluded
        rows_in.update(sums.rows_in)
        flags += roas_named_roi(sp, t0, t1)
        table = _with_cost_ratios(table.merge(_nulls_as_nan(sums.table, by), on=keys, how="outer"))
        flags += spend_flags(table, paid_names)
    if len(by) > 1 and "visitors" in table.columns:
        notes_extra += _unsplit_note(table, by)
    table["is_paid"] = table["source"].astype(str).isin(paid_names)
    if "roas" in table.columns:
        table = ratios.advice(table, min_clicks, by)
        notes_extra.append(ratios.ADVICE_INTERVAL)
        if len(by) > 1:
            table = ratios.shrunk_roas(table)
    hidden = [c for c in table.columns if c.endswith("_sq") or c.startswith(spend_q.SPEND_MOMENTS)]
    table = table.drop(columns=hidden)
    meta = {
        **base.meta,
        "attribution": attribution,
        "window_days": window_days,
        "margin": dict(margin) if isinstance(margin, Mapping) else margin,
        "dedup_visitors": {str(k): int(v) for k, v in dedup.items()},
        "paid_sources": sorted(paid_names),
        "advice": ratios.ADVICE_INTERVAL if "advice" in table.columns else None,
        "visitors_by_kind": _visitors_by_kind(ev, paid_names, freq, t0, t1),
        "buyers_by_kind": buyers_by_kind,
    }
    notes = (*base.audit.notes, *notes_extra, _SHARE_NOTE)
    audit = Audit(rows_in, tuple(excluded), tuple(dict.fromkeys(notes)))
    audit = engine.with_reads(audit, sp if spend is not None else None)
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    return TrafficResult(table, sort_flags(flags), audit, base.definition, meta)


def _unsplit_note(table: pd.DataFrame, by: list[str]) -> list[str]:
    """A note on rows of touches without a campaign / keyword of a source that has some:
    their orders and cost are there, their unique visitors are not (uniques cannot be
    split off the source's)."""
    loose = table[table[by[1:]].isna().any(axis=1) & table["visitors"].isna()]
    if not len(loose):
        return []
    names = ", ".join(sorted({str(s) for s in loose["source"]}))
    note = (
        f"{len(loose)} rows ({names}): orders or cost of touches without {' / '.join(by[1:])} "
        "of a source that has some; no visitors of their own (unique visitors cannot be "
        "split off the source's)"
    )
    return [note]


def _visitors_by_kind(
    ev: Table | None, paid: frozenset[str], freq: Freq, t0: Any, t1: Any
) -> list[dict[str, Any]] | None:
    """Distinct visitors of free and of paid sources per period (for :meth:`free_vs_paid`)."""
    if ev is None or not ev.has("source"):
        return None
    table = spend_q.visitors_by_kind(ev, paid, freq, t0, t1)
    if "visitors" not in table.columns:
        return None
    rows = [
        {"period": str(p), "kind": str(k), "visitors": int(v)}
        for p, k, v in zip(table["period"], table["kind"], table["visitors"], strict=True)
    ]
    return sorted(rows, key=lambda r: (r["period"], r["kind"]))  # not the engine's row order


def _nulls_as_nan(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Group columns after ``source`` with every null as NaN (so that keys match in merges)."""
    for c in by[1:]:
        if c in table.columns:
            table[c] = table[c].astype(object).where(table[c].notna(), np.nan)
    return table


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
    if len(by) > 1:
        table = _with_source_rows(
            table,
            by,
            funnel(
                events,
                None,
                traffic,
                by=by[:1],
                freq=freq,
                start=start,
                end=end,
                tz=tz,
                columns=columns,
                detect=False,
            ).to_pandas(),
        )
    if "visitors" in table.columns:
        table["visitor_share"] = table["visitors"] / table["period"].map(dedup).astype(float)
    return base, table, dedup


def _with_source_rows(table: pd.DataFrame, by: list[str], sources: pd.DataFrame) -> pd.DataFrame:
    """The grain's rows, and for each source and period without any (its events carry no
    campaign / keyword: organic search, recommendations, a display plan without keywords)
    one row with the source's own counts, the other ``by`` columns empty."""
    import pandas as pd  # noqa: PLC0415 - pandas is heavy

    table = _nulls_as_nan(table, by)
    have = set(zip(table["source"].astype(str), table["period"].astype(str), strict=True))
    missing = [
        (str(s), str(p)) not in have
        for s, p in zip(sources["source"], sources["period"], strict=True)
    ]
    extra = sources[missing].copy()
    for c in by[1:]:
        extra[c] = np.nan
    extra = extra[[c for c in extra.columns if c in table.columns]]
    return pd.concat([table, extra], ignore_index=True) if len(extra) else table


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
    """CPC, CPM and cost per visitor from the cost; with attributed orders CPA, ROAS and,
    with a profit, ROI — each with its interval where its aggregates are there."""
    table["cost"] = table["cost"].fillna(0.0)
    clicks = table["spend_clicks"] if "spend_clicks" in table.columns else table.get("clicks")
    exposures = (
        table["spend_exposures"] if "spend_exposures" in table.columns else table.get("exposures")
    )
    for name, count, scale in (("cpc", clicks, 1.0), ("cpm", exposures, 1000.0)):
        if count is not None:
            table[name] = scale * intervals.rate(table["cost"], count.fillna(0))
            which = "clicks" if name == "cpc" else "exposures"
            if f"{spend_q.SPEND_MOMENTS}cost_{which}" in table.columns:
                _, lo, hi = ratios.cost_per_ci(table, which)
                table[f"{name}_ci_low"], table[f"{name}_ci_high"] = scale * lo, scale * hi
    if "visitors" in table.columns:
        table["visitor_cost"] = intervals.rate(table["cost"], table["visitors"].fillna(0))
    if "attributed_amount" not in table.columns:
        return table
    cost = table["cost"].to_numpy(float)
    visitors = table["visitors"] if "visitors" in table.columns else np.nan
    table["cpa"] = intervals.rate(cost, table["attributed_buyers"].to_numpy(float))
    if "attributed_buyers_sq" in table.columns:
        table["cpa_ci_low"], table["cpa_ci_high"] = ratios.cpa_ci(
            visitors, table["attributed_buyers"], table["attributed_buyers_sq"], cost
        )
    table["roas"], table["roas_ci_low"], table["roas_ci_high"] = intervals.total_over_fixed_ci(
        visitors, table["attributed_amount"], table["attributed_amount_sq"], cost
    )
    if "attributed_profit" in table.columns:
        table["roi"] = intervals.rate(table["attributed_profit"] - cost, cost)
        if "attributed_profit_sq" in table.columns:
            table["roi_ci_low"], table["roi_ci_high"] = ratios.roi_ci(
                visitors, table["attributed_profit"], table["attributed_profit_sq"], cost
            )
    return table


@dataclasses.dataclass(frozen=True)
class _Attributed:
    """Orders credited to the groups: the table (keys ``by + period``) and its audit."""

    table: pd.DataFrame
    flags: list[Flag]
    excluded: list[Exclusion]
    rows_in: dict[str, int]
    notes: list[str]
    buyers_by_kind: list[dict[str, Any]] | None = None


_KEY = "_sm_touch_key"
_SEP = "\x1f"


def _attributed(
    ev: Table | None,
    orders: Any,
    by: list[str],
    freq: Freq,
    model: str,
    window_days: int,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    tz: str | None,
    columns: Mapping[str, str] | None,
    margin: float | Mapping[str, float] | None,
    paid: frozenset[str],
) -> _Attributed:
    """Paid orders credited to sources (and campaign / keyword) per period of payment."""
    od = engine.load(orders, "orders", columns, tz)
    od.require(
        "order_id", "buyer_id", "created_at", "amount", "paid_at", purpose="attributed orders"
    )
    od, rows, excluded = paid_orders.usable(od, by, nulls=())  # an order without a source is kept
    frame = paid_orders.paid_between(od, *bounds)
    if margin is None and od.has("cost"):
        no_cost, store = spend_q.cost_cover(frame)
        margin = store if no_cost and store is not None else None
    profit, profit_note = spend_q.line_profit(od, margin)
    flags: list[Flag] = []
    notes = [profit_note] if profit_note else []
    buyers: list[dict[str, Any]] | None = None
    if model == "recorded":
        missing = [c for c in by if not od.has(c)]
        if missing:
            msg = f"orders: attribution='recorded' needs column(s) {missing} in orders"
            raise SchemaError(msg)
        out = spend_q.recorded_credit(frame, by, freq, profit)
        distinct = spend_q.buyers_by_kind(frame, paid, freq)
        buyers = [
            {"period": str(p), "kind": str(k), "attributed_buyers": int(b)}
            for p, k, b in zip(
                distinct["period"], distinct["kind"], distinct["attributed_buyers"], strict=True
            )
        ]
    else:
        if ev is None:
            msg = (
                f"attribution={model!r} needs events= to build the journeys; "
                "use attribution='recorded'"
            )
            raise SchemaError(msg)
        out = _modelled(
            ev, od.with_frame(frame), by, freq, model, window_days, profit, flags, excluded
        )
        notes.append(_SINGLE_RUN_NOTE)
    out = _nulls_as_nan(out, by)
    out["period"] = [engine.period_label(int(k), freq) for k in out[PERIOD]]
    return _Attributed(out.drop(columns=[PERIOD]), flags, excluded, rows, notes, buyers)


_SINGLE_RUN_NOTE = (
    "attribution: one pass over all periods (touches of each paid order in its window, "
    "after the buyer's previous order), split by period of payment; collected: one row per "
    "order x touch and one per order, bounded by the orders, not the events"
)


def _modelled(
    ev: Table,
    od: Table,
    by: list[str],
    freq: Freq,
    model: str,
    window_days: int,
    profit: Any,
    flags: list[Flag],
    excluded: list[Exclusion],
) -> pd.DataFrame:
    """Paid orders credited by an attribution model, in one attribution pass over the paid
    orders of the range (touches up to ``window_days`` before each), then split by the
    period of payment. With campaign / keyword the touch's channel is its ``by`` values
    together, so an order is credited to the campaign and keyword of the touch the model
    picks. The model's flags and exclusions are added to ``flags`` and ``excluded``."""
    channel = by[0]
    if len(by) > 1:
        ev.require(*by, purpose=f"traffic sources by {by}")
        parts = [nw.col(c).cast(nw.String()).fill_null("") for c in by]
        ev = ev.with_frame(ev.frame.with_columns(nw.concat_str(parts, separator=_SEP).alias(_KEY)))
        channel = _KEY
    res = attribute_tables(ev, od, model=model, window_days=window_days, channel=channel)
    flags += list(res.flags)
    excluded += list(res.audit.excluded)
    facts = spend_q.order_facts(od.frame, freq, profit)
    return _credit_by_period(res.order_credits(), facts, by, has_profit=profit is not None)


def _credit_by_period(
    credit: pd.DataFrame, facts: pd.DataFrame, by: list[str], *, has_profit: bool
) -> pd.DataFrame:
    """Credited orders, amount (and profit) per group and period of payment, with the
    per-buyer aggregates of the intervals (Σ over buyers of each buyer's credited orders²,
    amount², profit²)."""
    import pandas as pd  # noqa: PLC0415 - pandas is heavy

    df = credit.merge(facts, on="order_id", how="left")
    split = df["channel"].astype(str).str.split(_SEP, expand=True, regex=False)
    for i, c in enumerate(by):
        col = split[i] if i in split.columns else pd.Series("", index=df.index)
        df[c] = col.where(col != "", np.nan) if i else col
    df["amt"] = df["credit"] * df["value"]
    if has_profit:
        df["prf"] = df["credit"] * df["profit"]
    keys = [*by, PERIOD]
    df = df.sort_values([*keys, "buyer_id", "order_id"], kind="stable", na_position="last")
    sums = ["credit", "amt", *(["prf"] if has_profit else [])]
    per_buyer = df.groupby([*keys, "buyer_id"], dropna=False, sort=True)[sums].sum(min_count=1)
    per_buyer = per_buyer.reset_index()
    for c in sums:
        per_buyer[f"{c}_sq"] = per_buyer[c] ** 2
    out = per_buyer.groupby(keys, dropna=False, sort=True)[[*sums, *(f"{c}_sq" for c in sums)]].sum(
        min_count=1
    )
    out = out.reset_index().rename(
        columns={
            "credit": "attributed_orders",
            "credit_sq": "attributed_buyers_sq",
            "amt": "attributed_amount",
            "amt_sq": "attributed_amount_sq",
            "prf": "attributed_profit",
            "prf_sq": "attributed_profit_sq",
        }
    )
    out["attributed_buyers"] = out["attributed_orders"]
    return out
