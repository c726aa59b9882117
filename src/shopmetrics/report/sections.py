"""The sections of the weekly report: one builder per section, from the week's figures.

:func:`~shopmetrics.report.weekly.weekly_report` reads the tables, runs the store's funnel
once and gathers what every section needs into a :class:`Week`; each builder here then
adds what only its section needs and returns a :class:`Part` (its section, the headline
figures it contributes, the flags it found). The builders assume their tables were
given; which sections appear is decided in ``weekly.py``.

Builders, in report order: :func:`headline_figures`, :func:`trend_section`,
:func:`funnel_section`, :func:`traffic_part`, :func:`products_section`,
:func:`dsr_part`, :func:`value_part`. A new section is a new builder here and one
call in ``weekly_report``. From store exports, :func:`export_only_notes` says what the
report cannot compute without raw events, and :func:`inputs_section` (added by the
command line) what each file was read as.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics import engine
from shopmetrics.anomaly import anomalies
from shopmetrics.compare import movers
from shopmetrics.dsr import dsr, low_ratings
from shopmetrics.engine.ratings import sharing_prepared
from shopmetrics.flags.funnel import mix_shift_flag
from shopmetrics.funnel import funnel
from shopmetrics.report.charts import BarChart, LineChart, Series, TrendChart
from shopmetrics.report.figures import (
    STORE_ROW,
    UNCREDITED_ROW,
    VALUE_EFFECTS,
    metric_rows,
    mix_table,
    value_table,
)
from shopmetrics.report.labels import label, register_sentence
from shopmetrics.report.model import Headline, Section
from shopmetrics.report.section_tables import (
    flagged_top_products,
    peer_table,
    presale_table,
    with_row_flags,
)
from shopmetrics.traffic import traffic_sources
from shopmetrics.visitor_value import visitor_value

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.compare import ComparisonResult
    from shopmetrics.engine import Table
    from shopmetrics.flags.finding import Flag
    from shopmetrics.funnel import FunnelResult
    from shopmetrics.io.convert import Canonical
    from shopmetrics.traffic import TrafficResult


@dataclasses.dataclass(frozen=True)
class Week:
    """The inputs of the report and the figures every section reads (each computed once).

    Attributes:
        events: Raw events, or ``None`` (a traffic export was given).
        orders: Order lines, or ``None``.
        traffic: The daily traffic export, or ``None`` (raw events were given).
        spend: Paid-traffic cost, or ``None``.
        columns: ``{their_name: canonical_name}`` for every table.
        tz: Store time zone.
        week: The ISO week reported, ``"2026-W47"``.
        start: Its Monday, 00:00.
        end: The Monday after, 00:00.
        table: The loaded events (or traffic export), to ask which columns it has.
        two_weeks: The options every weekly metric gets: this week and the one before.
        weekly: The store's funnel over the two weeks (its detectors ran once, here).
        comp: Week over week comparison of ``weekly``; ``None`` with one week of data.
        cur: This week's row of ``weekly`` (a one-row frame).
        previous: The week before's row, or ``None``.
        products: A product export (商品效果) when the report is built from exports.
        sources: A traffic-source export (流量来源) when the report is built from exports.
    """

    events: Any
    orders: Any
    traffic: Any
    spend: Any
    columns: Mapping[str, str] | None
    tz: str | None
    week: str
    start: dt.datetime
    end: dt.datetime
    table: Table
    two_weeks: dict[str, Any]
    weekly: FunnelResult
    comp: ComparisonResult | None
    cur: pd.DataFrame
    previous: pd.Series | None
    products: Any = None
    sources: Any = None

    @property
    def current(self) -> pd.Series:
        """This week's row of the store's funnel."""
        return self.cur.iloc[0]


@dataclasses.dataclass(frozen=True)
class Part:
    """What one builder adds to the report: a section, headline figures, flags."""

    section: Section | None = None
    headline: tuple[Headline, ...] = ()
    flags: tuple[Flag, ...] = ()


def _significant(comp: ComparisonResult | None, metric: str) -> bool | None:
    if comp is None:
        return None
    t = comp.table
    row = t[t["metric"] == metric]
    if len(row) == 0 or not np.isfinite(row["p_value"].iloc[0]):
        return None
    return bool(row["significant"].iloc[0])


def headline_figures(wk: Week) -> list[Headline]:
    """The store's figures of the week, with last week's and whether the change is significant."""
    wt, c, p = wk.weekly.table, wk.current, wk.previous

    def head(name: str, **kw: Any) -> list[Headline]:
        if name not in wt.columns:
            return []
        return [
            Headline(
                name,
                c[name],
                previous=None if p is None else p[name],
                significant=_significant(wk.comp, name),
                ci_low=c.get(f"{name}_ci_low"),
                ci_high=c.get(f"{name}_ci_high"),
                **kw,
            )
        ]

    return [
        *head("visitors"),
        *head("payment_conversion"),
        *head("aov", unit="¥"),
        *head("visitor_value", unit="¥"),
        *head("paid_amount", unit="¥"),
    ]


def trend_section(daily: FunnelResult) -> Section | None:
    """Daily visitors against their expected band (STL); ``None`` under two weeks of days."""
    dt_table = daily.table
    if "visitors" not in dt_table.columns or len(dt_table) < 14:
        return None
    series = dt_table.set_index("period_start")["visitors"].astype(float)
    an = anomalies(series)
    at = an.table
    return Section(
        "trend",
        intro="Daily visitors against the band expected from the trend and the weekly pattern "
        "(STL, robust); days outside the band are worth a look, a quiet weekend is not.",
        charts=[
            TrendChart(
                "Daily visitors",
                x=list(at["date"].dt.date),
                y=at["value"].tolist(),
                low=at["band_low"].tolist(),
                high=at["band_high"].tolist(),
                expected=at["expected"].tolist(),
                y_label="visitors",
                metric="visitors",
            )
        ],
        tables=[
            (
                "Days outside the expected band",
                an.flagged()[["date", "value", "expected", "band_low", "band_high", "kind"]],
            )
        ],
        flags=list(an.flags),
    )


def funnel_section(wk: Week, corrected: Sequence[Headline] = ()) -> Section:
    """The funnel of the week and the week before as metrics in rows (this week | last week |
    change | interval | significant, with the corrected figures beside the raw ones), the
    peers."""
    wt, c, weekly, comp = wk.weekly.table, wk.current, wk.weekly, wk.comp
    steps = [
        s
        for s in ("visitors", "carters", "favoriters", "inquirers", "order_buyers", "paid_buyers")
        if s in wt.columns
    ]
    rows = metric_rows(wt, wk.week, comp.to_pandas() if comp is not None else None, corrected)
    tables: list[tuple[str, Any]] = _row_tables(rows)
    peer_tbl = peer_table(wk.cur)
    if peer_tbl is not None:
        tables.append(("Against peers (同行同层平均)", peer_tbl))
    return Section(
        "funnel",
        intro=f"Week {wk.week} against the week before; rates with "
        f"{int(weekly.meta['confidence'] * 100)}% intervals ({weekly.meta['ci_method']}); "
        f"{weekly.definition} definition; changes tested with "
        f"{comp.meta['correction'] if comp is not None else 'no'} correction across metrics.",
        tables=tables,
        charts=[
            BarChart(
                f"Funnel {wk.week}: unique visitors at each step",
                labels=steps,
                values=[float(c[s]) for s in steps],
                metric="visitors",
            )
        ],
        notes=list(weekly.audit.notes),
    )


_SOURCE_COLUMNS = (
    "source",
    "visitors",
    "visitor_share",
    "payment_conversion",
    "attributed_buyers",
    "attributed_amount",
    "visitor_value",
    "cost",
    "cpc",
    "visitor_cost",
    "cpa",
    "roas",
    "roas_ci_low",
    "roas_ci_high",
    "roi",
)
"""The columns of the traffic sources table, in order (those the result has)."""


def traffic_result(wk: Week) -> TrafficResult:
    """The traffic-source result every section reads (the traffic table, the visitor-value
    and mix decompositions): computed once.

    Orders are attributed to the source they record, or else to the last click.
    """
    if wk.events is None:  # a traffic-source export: its own sales per source
        return traffic_sources(traffic=wk.sources, spend=wk.spend, detect=False, **wk.two_weeks)
    od = engine.load(wk.orders, "orders", wk.columns, wk.tz)
    model = "recorded" if od.has("source") else "last_click"
    # detect=False: the detectors ran once, on the weekly funnel
    return traffic_sources(
        wk.events, wk.orders, wk.spend, attribution=model, detect=False, **wk.two_weeks
    )


def traffic_part(wk: Week, tr: TrafficResult) -> Part:
    """Traffic sources and return on spend; ROAS of the paid sources as a headline figure."""
    if wk.events is None:
        credited = "Sales as the traffic-source export credits them (the back-end's attribution)"
    else:
        model = str(tr.meta.get("attribution", ""))
        credited = (
            "Orders credited to the source the order records"
            if model == "recorded"
            else "Orders credited to the last click before them"
        )
    tt = tr.table
    this = tt[tt["period"] == wk.week]
    keep = [k for k in _SOURCE_COLUMNS if k in this.columns]
    charts = []
    headline = []
    if "roas" in this.columns:
        paid = this[this["cost"] > 0]
        if len(paid):
            charts.append(
                _interval_bars(
                    "ROAS by paid source (sales / cost)", paid, "source", "roas", reference=1.0
                )
            )
            headline.append(_roas_headline(paid, tt[(tt["period"] != wk.week) & (tt["cost"] > 0)]))
    split = tr.free_vs_paid()
    growth = tr.paid_vs_free_line()
    # the store's flags and the mix shift, each on the row of the source it names
    row_flags = [*wk.weekly.flags, *tr.flags, *source_mix_flags(wk, tr)]
    section = Section(
        "traffic",
        intro=f"{credited}; shares are of the store's visitors, each visitor counted once: "
        "they add to more than 100% (a visitor can come through several sources).",
        tables=[
            ("Sources this week", with_row_flags(this[keep], row_flags, "source", {wk.week})),
            ("Free vs paid (visitors counted once per source)", split),
        ],
        charts=charts,
        notes=[
            *(n for n in tr.audit.notes if n.startswith("sales per source")),
            *tr.audit.notes[-1:],
            *([growth] if growth else []),
        ],
    )
    # spend / attribution flags only
    return Part(section, headline=tuple(headline), flags=tuple(tr.flags))


def _roas_headline(paid: pd.DataFrame, prev_paid: pd.DataFrame) -> Headline:
    """Sales over cost of the paid sources, this week and the week before."""
    cost = float(paid["cost"].sum())
    amount = float(paid["attributed_amount"].sum())
    prev_roas = (
        float(prev_paid["attributed_amount"].sum() / prev_paid["cost"].sum())
        if len(prev_paid) and prev_paid["cost"].sum()
        else None
    )
    return Headline(
        "roas",
        amount / cost if cost else None,
        previous=prev_roas,
        fmt="number",
        note='sales / cost of paid sources (the back-end\'s "ROI")',
    )


_MOVER_COLUMNS = (
    "product_id",
    "previous",
    "current",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_adjusted",
    "effect_on_total",
    "direction",
    "explained_by",
)
"""The columns of the movers table, in order (those the result has)."""
_MOVER_RATES = {
    "previous": "previous_rate",
    "current": "current_rate",
    "diff": "change_rate",
    "diff_ci_low": "change_rate_ci_low",
    "diff_ci_high": "change_rate_ci_high",
}


def products_section(wk: Week) -> Section:
    """Products whose payment conversion moved significantly; presale products' honest figures."""
    if wk.events is None:  # a product export; orders join in when they name the product
        orders = wk.orders
        if orders is not None and not engine.load(orders, "orders", wk.columns, wk.tz).has(
            "product_id"
        ):
            orders = None  # an order report without products: the export's own paid figures
        by_product = funnel(
            None, orders, wk.products, by="product_id", detect=False, **wk.two_weeks
        )
    else:
        by_product = funnel(wk.events, wk.orders, by="product_id", detect=False, **wk.two_weeks)
    # the store-level detectors already looked at every product: reuse their flags
    by_product = dataclasses.replace(by_product, flags=wk.weekly.flags)
    comparable = "payment_conversion" in by_product.table.columns  # not without visitors
    if comparable and by_product.table["period"].nunique() >= 2:
        mv = movers(by_product, top=10)
    else:  # one week of data (or no visitors): nothing to compare
        import pandas as pd  # noqa: PLC0415

        mv = pd.DataFrame(
            columns=["product_id", "previous", "current", "diff", "diff_ci_low", "diff_ci_high"]
        )
    charts = []
    if len(mv):
        charts.append(
            _interval_bars(
                "Movers: payment conversion change",
                mv,
                "product_id",
                "diff",
                metric="payment_conversion",
            )
        )
    top = flagged_top_products(by_product.table, by_product.flags, wk.week)
    presale = [f for f in by_product.flags if f.code == "presale_zero_payment"]
    presale_tbl = presale_table(presale)
    return Section(
        "products",
        intro="Products whose payment conversion moved significantly (Benjamini-Hochberg across "
        "all products), ranked by their effect on the store's conversion.",
        tables=[
            *([("Top products this week, by paid amount", top)] if len(top) else []),
            (  # the movers' figures are payment conversions: named as rates for display
                "Significant movers",
                mv[[k for k in _MOVER_COLUMNS if k in mv.columns]].rename(columns=_MOVER_RATES),
            ),
            *(
                [("Presale products: use these figures", presale_tbl)]
                if presale_tbl is not None
                else []
            ),
        ],
        charts=charts,
    )


_DSR_DIMENSIONS = ("item", "service", "logistics")


def dsr_part(wk: Week, ratings: Any, dsr_peers: Any) -> Part:
    """DSR by week with the peer comparison and the week's new low ratings; DSR headlines."""
    as_of = wk.end - dt.timedelta(seconds=1)
    where = {"orders": wk.orders, "as_of": as_of, "columns": wk.columns, "tz": wk.tz}
    with sharing_prepared():  # the DSR and the low ratings read the same prepared ratings
        ds = dsr(ratings, peers=dsr_peers, freq="W", **where)
        low = low_ratings(ratings, since=wk.start, **where)
    dtab = ds.table
    row = dtab.iloc[-1]
    prow = dtab.iloc[-2] if len(dtab) >= 2 else None
    headline = tuple(
        Headline(
            f"dsr_{dim}",
            row[dim],
            previous=None if prow is None else prow[dim],
            fmt="number",
            ci_low=row.get(f"{dim}_ci_low"),
            ci_high=row.get(f"{dim}_ci_high"),
        )
        for dim in _DSR_DIMENSIONS
    )
    recent = dtab.tail(12)
    lines = [Series(dim, recent[dim].tolist()) for dim in _DSR_DIMENSIONS]
    lines += [  # each dimension's peer average, dashed in its colour
        Series(f"{dim}_peer_avg", recent[f"{dim}_peer_avg"].tolist(), dashed=True)
        for dim in _DSR_DIMENSIONS
        if f"{dim}_peer_avg" in recent.columns
    ]
    by_week = [
        c
        for c in recent.columns
        if c == "period"
        or (
            c.startswith(("item", "service", "logistics", "n_"))
            and not c.endswith(("_ci_low", "_ci_high"))
        )
    ]
    section = Section(
        "dsr",
        intro=f"Scores over the {ds.meta.get('window_days', 180)} days to {as_of:%Y-%m-%d}; "
        "vs_peers is the platform's normalised comparison, rel_diff the plain one.",
        tables=[
            ("DSR by week", recent[by_week]),
            ("New low ratings this week", low.to_pandas()),
        ],
        charts=[
            LineChart("DSR over time", x=recent["period"].tolist(), series=lines, metric="item")
        ],
        notes=list(ds.audit.notes),
    )
    return Part(section, headline=headline, flags=tuple(ds.flags))


_MIX_NAMES = {
    "share_prev": "visitor_share_prev",
    "share_cur": "visitor_share_cur",
    "rate_prev": "payment_conversion_prev",
    "rate_cur": "payment_conversion_cur",
    "mix_effect": "mix_effect_rate",
    "rate_effect": "rate_effect_rate",
}
"""Mix decomposition columns renamed so that rates show as percentages."""

_VALUE_INTRO = (
    "Visitor value = payment conversion × AOV. Per source Δlog(visitor value) = "
    "Δlog(conversion) + Δlog(AOV); the (store) rows are the headline's figures, split into "
    "traffic mix (where visitors came from) and each source's own figures. Shares are of the "
    "store's visitors counted once, as in the traffic table."
)


def _store_counts(wk: Week, periods: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """``{period: (visitors, paid buyers, paid amount)}`` of the store's funnel: the headline's."""
    wt = wk.weekly.table
    out = {}
    for p in periods:
        row = wt[wt["period"] == p].iloc[0]
        out[p] = (
            float(row["visitors"]),
            float(row.get("paid_buyers", np.nan)),
            float(row.get("paid_amount", np.nan)),
        )
    return out


def value_part(wk: Week, tr: TrafficResult | None = None) -> Part:
    """Visitor value = conversion × AOV, week over week; by source, traffic mix vs own rates.

    With the traffic-source result (from events), the per-source figures are that table's
    (the same visitors, buyers and amounts the traffic section shows) and the store's are
    the headline's. Nothing with one week of data.
    """
    if tr is not None and _mix_by_source(wk, tr):
        return _value_from_sources(wk, tr)
    if wk.events is None and _has(wk, wk.sources, "visitors", "paid_amount"):
        # by source from the source export's own paid figures (order reports name no source)
        by: tuple[str, ...] | str = "source"
        vv = visitor_value(traffic=wk.sources, by=by, detect=False, **wk.two_weeks)
    else:
        by = ()
        vv = visitor_value(
            wk.events, wk.orders, traffic=wk.traffic, by=by, detect=False, **wk.two_weeks
        )
    periods = sorted(vv.table["period"].unique())
    if len(periods) < 2:
        return Part()
    dec = vv.decompose(periods[-1], periods[-2])
    caption = "Visitor value decomposition"
    if (base := dec.attrs.get("base", "visitors")) != "visitors":  # the total is not the store's
        caption = f"{caption}: {label(base)}"
        register_sentence(caption, f"UV价值分解：{label(base, 'zh')}")
    section = Section(
        "value", intro=_VALUE_INTRO, tables=[(caption, dec.rename(columns=VALUE_EFFECTS))]
    )
    return Part(section)


def _value_from_sources(wk: Week, tr: TrafficResult) -> Part:
    """The value section from the traffic table and the store's funnel (no new pass)."""
    assert wk.previous is not None  # value_part checked
    prev, cur = str(wk.previous["period"]), wk.week
    per, store, mix = _mix_inputs(wk, tr, prev, cur)
    value = value_table(per, store, prev, cur)
    mix_flags = _mix_flag(per, mix, prev, cur, _pairs(store))
    section = Section(
        "value",
        intro=_VALUE_INTRO,
        tables=[
            (
                "Visitor value decomposition",
                _drop_empty_uncredited(value).rename(columns=VALUE_EFFECTS),
            ),
            (
                "Payment conversion: traffic mix vs each source's own rate",
                _drop_empty_uncredited(mix).rename(columns=_MIX_NAMES),
            ),
        ],
        flags=mix_flags,
    )
    return Part(section, flags=tuple(mix_flags))


def _mix_by_source(wk: Week, tr: TrafficResult) -> bool:
    """Whether the value section splits the week by source from the traffic result."""
    need = {"visitors", "attributed_buyers", "attributed_amount"}
    store = {"visitors", "paid_buyers", "paid_amount"}
    return (
        wk.previous is not None
        and need <= set(tr.table.columns)
        and store <= set(wk.weekly.table.columns)
    )


def _mix_inputs(
    wk: Week, tr: TrafficResult, prev: str, cur: str
) -> tuple[pd.DataFrame, dict[str, tuple[float, float, float]], pd.DataFrame]:
    """The two weeks' rows of the sources credited, the store's counts, the mix table."""
    # orders that record no source have a row without one: no single source holds them
    per = tr.table[tr.table["period"].isin([prev, cur]) & tr.table["source"].notna()]
    store = _store_counts(wk, [prev, cur])
    mix = mix_table(per, _pairs(store), prev, cur)
    return per, store, mix


def source_mix_flags(wk: Week, tr: TrafficResult) -> list[Flag]:
    """The value section's mix-shift flag (naming the source whose share moved most),
    for the sources table; none when that section has no split by source."""
    if not _mix_by_source(wk, tr):
        return []
    assert wk.previous is not None  # _mix_by_source checked
    prev, cur = str(wk.previous["period"]), wk.week
    per, store, mix = _mix_inputs(wk, tr, prev, cur)
    return _mix_flag(per, mix, prev, cur, _pairs(store))


def _pairs(store: dict[str, tuple[float, float, float]]) -> dict[str, tuple[float, float]]:
    """The store's distinct visitors and paying buyers per week (the headline's counts)."""
    return {p: (v, b) for p, (v, b, _) in store.items()}


def _drop_empty_uncredited(t: pd.DataFrame) -> pd.DataFrame:
    """The (not credited to one source) row only when something is not credited."""
    row = t["source"] == UNCREDITED_ROW
    vals = t.loc[row].select_dtypes("number").to_numpy(float)
    if np.nan_to_num(np.abs(vals)).max(initial=0.0) < 1e-12:
        return t[~row].reset_index(drop=True)
    return t


def _mix_flag(
    per: pd.DataFrame, mix: pd.DataFrame, prev: str, cur: str, counts: dict[str, Any]
) -> list[Flag]:
    """The ``mix_shift`` detector's verdict, worded with the headline's figures.

    The detector decides whether the mix shift matters; its message and figures are
    restated on the store's base (the headline's conversion, shares of visitors counted
    once) and "use instead" is the conversion the store would have had at last week's mix.
    """
    seg = per.assign(paid_buyers=per["attributed_buyers"])[
        ["source", "period", "visitors", "paid_buyers"]
    ]
    found = mix_shift_flag(seg, "source", prev, cur, counts)  # noise of the headline's counts
    if found is None:
        return []
    store = mix[mix["source"] == STORE_ROW].iloc[0]
    delta = float(store["rate_cur"] - store["rate_prev"])
    mix_eff, own = float(store["mix_effect"]), float(store["rate_effect"])
    same_mix = float(store["rate_prev"]) + own
    message = (
        f"payment conversion moved from {store['rate_prev']:.2%} to {store['rate_cur']:.2%} "
        f"({delta * 100:+.2f} pp) from {prev} to {cur}: {mix_eff * 100:+.2f} pp from traffic "
        f"mix (visitors moving between sources) and {own * 100:+.2f} pp from the sources' own "
        f"rates. At last week's mix conversion would be {same_mix:.2%}: judge each source by "
        "its own rate."
    )
    evidence = {
        **found.evidence,
        "total_change": delta,
        "mix_effect": mix_eff,
        "rate_effect": own,
        "payment_conversion_prev": float(store["rate_prev"]),
        "payment_conversion": float(store["rate_cur"]),
    }
    # the subject a user acts on: the source whose share of visitors moved most
    shares = found.evidence.get("share_change") or {}
    moved = max(sorted(shares), key=lambda k: abs(float(shares[k])), default=None)
    subject = {**found.subject, **({"source": moved} if moved is not None else {})}
    return [
        dataclasses.replace(
            found,
            subject=subject,
            message=message,
            evidence=evidence,
            instead={"same_mix_payment_conversion": same_mix},
        )
    ]


def _has(wk: Week, table: Any, *cols: str) -> bool:
    """Whether ``table`` (a user's table, or ``None``) has every one of ``cols``."""
    return table is not None and engine.load(table, "traffic", wk.columns, wk.tz).has(*cols)


def value_possible(wk: Week) -> bool:
    """Whether visitor value can be computed from exports: visitors and paid amounts, from
    the source export, or from the store's funnel (the export's or the orders' amounts)."""
    if _has(wk, wk.sources, "visitors", "paid_amount"):
        return True
    return {"visitors", "paid_amount"} <= set(wk.weekly.table.columns)


_NEEDS_EVENTS = (
    (
        "exposures, clicks and CTR by source (the traffic exports carry none; the paid "
        "plans' own are in their spend reports)"
    ),
    "sessions and session conversion",
    "bot and crawler detection, tracking-gap checks",
    (
        "visitors de-duplicated across products, sources or days (an export's unique "
        "counts are summed over its rows: see the flags)"
    ),
    "attribution models other than the back-end's own (first / last click, Markov)",
)
"""What a report from store exports cannot compute without raw events."""


def export_only_notes(wk: Week, *, ratings: Any, daily: FunnelResult) -> list[str]:
    """What a report built from exports leaves out: what only raw events give, and what
    the files given lack (with the file that would give it)."""
    notes = ["Built from store exports, without raw events; not computed: " + "; ".join(
        _NEEDS_EVENTS
    ) + "."]  # fmt: skip
    missing = []
    wt = wk.weekly.table
    if "visitors" not in wt.columns:
        missing.append(
            "visitors, conversion and visitor value: the traffic export has no visitor "
            "column (商品访客数 / 访客数)"
        )
    if wk.sources is None:
        missing.append("traffic sources and ROAS: pass a 流量来源 (traffic-source) export")
    elif wk.spend is None:
        missing.append(
            "ROAS and cost per visitor: pass a spend report (直通车 / 引力魔方 / 万相台)"
        )
    if wk.products is None:
        missing.append("products and their movers: pass a 商品效果 (product) export")
    if wk.orders is None:
        missing.append(
            "intervals of AOV and visitor value, refunds by order, presale and order-brushing "
            "checks: pass an order report (订单报表)"
        )
    if ratings is None:
        missing.append("DSR: pass a review export (评价)")
    if "visitors" in daily.table.columns and len(daily.table) < 14:
        missing.append(
            f"the daily trend: it needs 14 days of daily rows, the data have {len(daily.table)}"
        )
    if wk.comp is None:
        missing.append("week-over-week changes: the data hold one week")
    if missing:
        notes.append("Not in the files given: " + "; ".join(missing) + ".")
    return notes


def inputs_section(files: Sequence[tuple[str, Canonical]]) -> Section:
    """What each store export was read as, the columns it gave and the rows it left out.

    Args:
        files: ``(file name, canonical table)`` of every export read
            (:func:`shopmetrics.io.convert.to_canonical`).
    """
    import pandas as pd  # noqa: PLC0415

    read = pd.DataFrame(
        [
            {
                "file": name,
                "kind": c.kind,
                "table": c.table,
                "rows": len(c.data),
                "excluded_rows": sum(e.rows for e in c.excluded),
                "columns_used": ", ".join(f"{h} -> {t}" for h, t in c.mapping.items()),
            }
            for name, c in files
        ]
    )
    excluded = pd.DataFrame(
        [
            {"file": name, "reason": e.reason, "rows": e.rows, "detail": e.detail}
            for name, c in files
            for e in c.excluded
        ],
        columns=["file", "reason", "rows", "detail"],
    )
    return Section(
        "audit",
        intro="The store exports read, the columns each one gave, and the rows left out "
        "(summary and subtotal rows, lines without an order, ...).",
        tables=[("Files read", read), ("Rows excluded", excluded)],
        notes=list(dict.fromkeys(n for _, c in files for n in c.notes)),
    )


def _interval_bars(
    title: str,
    frame: pd.DataFrame,
    label: str,
    value: str,
    *,
    metric: str = "",
    reference: float | None = None,
) -> BarChart:
    """Bars of ``value`` per ``label`` with their ``<value>_ci_low/high`` whiskers."""
    return BarChart(
        title,
        labels=frame[label].astype(str).tolist(),
        values=frame[value].tolist(),
        low=frame[f"{value}_ci_low"].tolist(),
        high=frame[f"{value}_ci_high"].tolist(),
        reference=reference,
        metric=metric or value,
    )


def _row_tables(rows: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The metric rows split into rates (columns named so they show as percentages) and
    counts and money figures."""
    rates = rows[rows["fmt"] == "percent"].rename(
        columns={
            "this_week": "this_week_rate",
            "last_week": "last_week_rate",
            "change": "change_rate",
            "change_ci_low": "change_rate_ci_low",
            "change_ci_high": "change_rate_ci_high",
        }
    )
    other = rows[rows["fmt"] != "percent"]
    out = [("This week and last: rates", rates.drop(columns=["fmt"]).reset_index(drop=True))]
    if len(other):
        out.append(
            (
                "This week and last: counts and values",
                other.drop(columns=["fmt"]).reset_index(drop=True),
            )
        )
    return out
