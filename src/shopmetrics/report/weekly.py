"""``sm.weekly_report``: one call from the store's tables to the weekly :class:`Report`.

It runs the metric modules on the week and the week before, and assembles:

1. headline figures (visitors, payment conversion, AOV, visitor value, paid amount, ROAS,
   DSR) with week-over-week change and whether the change is significant;
2. the daily trend with its expected weekly band (STL), so a quiet Saturday is no alarm;
3. the funnel of the week;
4. traffic sources and return on spend;
5. products: significant movers up and down, presale products with their honest
   conversion;
6. DSR with the peer comparison and the week's new low ratings;
7. the visitor value decomposition (conversion × AOV, mix vs rate);
8. every flag, most serious first, with evidence and the figure to use instead.

Examples:
    >>> import shopmetrics as sm
    >>> store = sm.datasets.make_store(seed=0)
    >>> report = sm.weekly_report(events=store.events, orders=store.orders,
    ...                           ratings=store.ratings, spend=store.spend,
    ...                           peers=store.peers, dsr_peers=store.dsr_peers)
    >>> report.week
    '2026-W47'
    >>> [s.key for s in report.sections][:3]
    ['trend', 'funnel', 'traffic']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.anomaly import anomalies
from shopmetrics.compare import compare, movers
from shopmetrics.display import _is_missing
from shopmetrics.dsr import dsr, low_ratings
from shopmetrics.errors import SchemaError, ShopmetricsError
from shopmetrics.flags.detectors import mix_shift_flag
from shopmetrics.flags.finding import Flag
from shopmetrics.funnel import funnel
from shopmetrics.metrics import COUNT_ORDER, PROPORTIONS
from shopmetrics.report import BarChart, Headline, LineChart, Report, Section, Series, TrendChart
from shopmetrics.stats.mix import mix_decomposition
from shopmetrics.traffic import traffic_sources
from shopmetrics.visitor_value import visitor_value

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.compare import ComparisonResult

__all__ = ["last_complete_week", "weekly_report"]

logger = logging.getLogger(__name__)


def _parse_week(week: str) -> dt.datetime:
    try:
        year, wk = week.upper().split("-W")
        return dt.datetime.fromisocalendar(int(year), int(wk), 1)
    except (ValueError, AttributeError) as exc:
        msg = f"week={week!r} is not an ISO week; use the form '2026-W47'"
        raise ShopmetricsError(msg) from exc


def last_complete_week(last_instant: dt.datetime) -> str:
    """The last ISO week that ends on or before the day of ``last_instant``.

    A week is complete when the data reach its Sunday: data ending on a Sunday make that
    week the last complete one; data ending on a Wednesday make it the week before.
    """
    day = last_instant.date()
    monday = day - dt.timedelta(days=day.weekday())
    if day.weekday() != 6:
        monday -= dt.timedelta(days=7)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _split_peers(peers: Any, columns: Mapping[str, str] | None) -> tuple[Any, Any]:
    """A peers table may hold funnel metrics (``metric``) and DSR dimensions (``dimension``)."""
    if peers is None:
        return None, None
    p = engine.collect(engine.load(peers, "peers", columns).frame, "peers")
    funnel_peers = p[p["metric"].notna()] if "metric" in p.columns else None
    dsr_peers = p[p["dimension"].notna()] if "dimension" in p.columns else None
    if funnel_peers is not None and len(funnel_peers) == 0:
        funnel_peers = None
    if dsr_peers is not None and len(dsr_peers) == 0:
        dsr_peers = None
    return funnel_peers, dsr_peers


def _significant(comp: ComparisonResult | None, metric: str) -> bool | None:
    if comp is None:
        return None
    t = comp.table
    row = t[t["metric"] == metric]
    if len(row) == 0 or not np.isfinite(row["p_value"].iloc[0]):
        return None
    return bool(row["significant"].iloc[0])


def weekly_report(
    events: Any = None,
    orders: Any = None,
    ratings: Any = None,
    spend: Any = None,
    traffic: Any = None,
    peers: Any = None,
    week: str | None = None,
    tz: str | None = None,
    columns: Mapping[str, str] | None = None,
    *,
    dsr_peers: Any = None,
    lang: str = "en",
    title: str = "",
    store_name: str = "",
    generated_at: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Build the weekly report.

    Args:
        events: Raw events (or ``traffic``).
        orders: Order lines.
        ratings: DSR ratings (optional).
        spend: Paid-traffic cost (optional).
        traffic: A daily export instead of events.
        peers: Peer benchmarks: funnel metrics (``metric``, ``peer_avg``) and / or DSR
            dimensions (``dimension``, ``peer_avg``, ``peer_max``, ``peer_min``).
        week: ISO week ``"2026-W47"``; default: the last complete week in the data.
        tz: Store time zone.
        columns: ``{their_name: canonical_name}`` for every table.
        dsr_peers: DSR peer table, when kept apart from ``peers``.
        lang: ``"en"`` or ``"zh"``.
        title: Report title (default "Weekly report <week>").
        store_name: Shown under the title.
        generated_at: Stamp shown in the report (default: none, so output is reproducible).
        progress: Called with a short description before each long step.

    Returns:
        A :class:`~shopmetrics.report.Report`.
    """

    step = progress or (lambda _msg: None)
    if events is None and traffic is None:
        msg = "weekly_report needs events= or traffic="
        raise SchemaError(msg)
    extra_notes: list[str] = []
    if events is not None and traffic is not None:
        traffic = None  # raw events give exact uniques; the export would count visits twice
        extra_notes.append(
            "traffic export not used: raw events were given and give exact unique counts"
        )
    src_name, src = ("events", events) if events is not None else ("traffic", traffic)
    col = "ts" if src_name == "events" else "date"
    step("reading")
    table = engine.load(src, src_name, columns, tz)
    last = engine.scalar(table.frame.select(nw.col(col).max()), "weekly:last")
    if last is None or _is_missing(last):
        msg = f"{src_name} is empty: no {col} to find the week from"
        raise SchemaError(msg)
    last_dt = last.to_pydatetime() if hasattr(last, "to_pydatetime") else last
    week = week or last_complete_week(last_dt)
    start = _parse_week(week)
    end = start + dt.timedelta(days=7)
    prev_start = start - dt.timedelta(days=7)
    trend_start = start - dt.timedelta(days=49)
    funnel_peers, dp = _split_peers(peers, columns)
    dsr_peers = dsr_peers if dsr_peers is not None else dp

    sections: list[Section] = []
    flags: list[Flag] = []
    headline: list[Headline] = []

    step("aggregating the funnel")
    # every section below reads the same two weeks (this one and the one before)
    two_weeks: dict[str, Any] = {
        "freq": "W",
        "start": prev_start,
        "end": end,
        "tz": tz,
        "columns": columns,
    }
    daily = funnel(
        events,
        orders,
        traffic,
        freq="D",
        start=trend_start,
        end=end,
        tz=tz,
        columns=columns,
        detect=False,
    )
    weekly = funnel(events, orders, traffic, peers=funnel_peers, **two_weeks)
    flags += list(weekly.flags)
    wt = weekly.table
    comp = compare(weekly) if len(wt) >= 2 else None
    cur = wt[wt["period"] == week]
    prev = wt[wt["period"] != week]
    if len(cur) == 0:
        msg = f"no data in week {week}; the data end on {last_dt:%Y-%m-%d}"
        raise SchemaError(msg)
    c, p = cur.iloc[0], (prev.iloc[0] if len(prev) else None)

    def head(name: str, **kw: Any) -> None:
        if name in wt.columns:
            headline.append(
                Headline(
                    name,
                    c[name],
                    previous=None if p is None else p[name],
                    significant=_significant(comp, name),
                    ci_low=c.get(f"{name}_ci_low"),
                    ci_high=c.get(f"{name}_ci_high"),
                    **kw,
                )
            )

    head("visitors")
    head("payment_conversion")
    head("aov", unit="¥")
    head("visitor_value", unit="¥")
    head("paid_amount", unit="¥")

    # 1. daily trend with its seasonal band
    dt_table = daily.table
    if "visitors" in dt_table.columns and len(dt_table) >= 14:
        series = dt_table.set_index("period_start")["visitors"].astype(float)
        an = anomalies(series)
        at = an.table
        sections.append(
            Section(
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
                        an.flagged()[
                            ["date", "value", "expected", "band_low", "band_high", "kind"]
                        ],
                    )
                ],
                flags=list(an.flags),
            )
        )

    # 2. funnel
    steps = [
        s
        for s in ("visitors", "carters", "favoriters", "inquirers", "order_buyers", "paid_buyers")
        if s in wt.columns
    ]
    session_cols = ("sessions", "converting_sessions", "session_conversion")
    core = ["period", *(c for c in COUNT_ORDER if c in wt.columns and c not in session_cols)]
    tables: list[tuple[str, Any]] = [("This week and last", wt[core])]
    if comp is not None:
        tables += _comparison_tables(comp)
    peer_tbl = _peer_table(cur)
    if peer_tbl is not None:
        tables.append(("Against peers (同行同层平均)", peer_tbl))
    sections.append(
        Section(
            "funnel",
            intro=f"Week {week} against the week before; rates with {int(weekly.meta['confidence'] * 100)}% "
            f"intervals ({weekly.meta['ci_method']}); {weekly.definition} definition; changes tested with "
            f"{comp.meta['correction'] if comp is not None else 'no'} correction across metrics.",
            tables=tables,
            charts=[
                BarChart(
                    f"Funnel {week}: unique visitors at each step",
                    labels=steps,
                    values=[float(c[s]) for s in steps],
                    metric="visitors",
                )
            ],
            notes=list(weekly.audit.notes),
        )
    )

    # 3. traffic sources
    if events is not None and orders is not None and table.has("source"):
        step("traffic sources")
        od = engine.load(orders, "orders", columns, tz)
        model = "recorded" if od.has("source") else "last_click"
        tr = traffic_sources(
            events, orders, spend, attribution=model, detect=False, **two_weeks
        )  # detect=False: the detectors ran once, on the weekly funnel
        flags += list(tr.flags)  # spend / attribution flags only
        tt = tr.table
        this = tt[tt["period"] == week]
        keep = [
            k
            for k in (
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
            if k in this.columns
        ]
        charts = []
        if "roas" in this.columns:
            paid = this[this["cost"] > 0]
            if len(paid):
                charts.append(
                    _interval_bars(
                        "ROAS by paid source (sales / cost)", paid, "source", "roas", reference=1.0
                    )
                )
                cost = float(paid["cost"].sum())
                amount = float(paid["attributed_amount"].sum())
                prev_paid = tt[(tt["period"] != week) & (tt["cost"] > 0)]
                prev_roas = (
                    float(prev_paid["attributed_amount"].sum() / prev_paid["cost"].sum())
                    if len(prev_paid) and prev_paid["cost"].sum()
                    else None
                )
                headline.append(
                    Headline(
                        "roas",
                        amount / cost if cost else None,
                        previous=prev_roas,
                        fmt="number",
                        note='sales / cost of paid sources (the back-end\'s "ROI")',
                    )
                )
        split = tr.free_vs_paid()
        growth = tr.paid_vs_free_line()
        sections.append(
            Section(
                "traffic",
                intro=f"Orders attributed by {model.replace('_', ' ')}; visitor shares do not add "
                "to 100% (a visitor can come through several sources).",
                tables=[("Sources this week", this[keep]), ("Free vs paid", split)],
                charts=charts,
                notes=[*tr.audit.notes[-1:], *([growth] if growth else [])],
            )
        )

    # 4. products: movers and presale
    if events is not None and orders is not None and table.has("product_id"):
        step("products")
        by_product = funnel(events, orders, by="product_id", detect=False, **two_weeks)
        # the store-level detectors already looked at every product: reuse their flags
        by_product = dataclasses.replace(by_product, flags=weekly.flags)
        if by_product.table["period"].nunique() >= 2:
            mv = movers(by_product, top=10)
        else:  # one week of data: nothing to compare with
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
        presale = [f for f in by_product.flags if f.code == "presale_zero_payment"]
        presale_tbl = _presale_table(presale)
        sections.append(
            Section(
                "products",
                intro="Products whose payment conversion moved significantly (Benjamini-Hochberg across all "
                "products), ranked by their effect on the store's conversion.",
                tables=[
                    (
                        "Significant movers",
                        mv[
                            [
                                k
                                for k in (
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
                                if k in mv.columns
                            ]
                        ],
                    ),
                    *(
                        [("Presale products: use these figures", presale_tbl)]
                        if presale_tbl is not None
                        else []
                    ),
                ],
                charts=charts,
            )
        )

    # 5. DSR
    if ratings is not None:
        step("DSR")
        as_of = end - dt.timedelta(seconds=1)
        ds = dsr(ratings, orders, as_of=as_of, peers=dsr_peers, freq="W", columns=columns, tz=tz)
        flags += list(ds.flags)
        dtab = ds.table
        row = dtab.iloc[-1]
        prow = dtab.iloc[-2] if len(dtab) >= 2 else None
        headline.extend(
            Headline(
                f"dsr_{dim}",
                row[dim],
                previous=None if prow is None else prow[dim],
                fmt="number",
                ci_low=row.get(f"{dim}_ci_low"),
                ci_high=row.get(f"{dim}_ci_high"),
            )
            for dim in ("item", "service", "logistics")
        )
        recent = dtab.tail(12)
        lines = [Series(dim, recent[dim].tolist()) for dim in ("item", "service", "logistics")]
        if "item_peer_avg" in recent.columns:
            lines.append(
                Series("peer average (item)", recent["item_peer_avg"].tolist(), dashed=True)
            )
        low = low_ratings(ratings, since=start, orders=orders, as_of=as_of, columns=columns, tz=tz)
        sections.append(
            Section(
                "dsr",
                intro=f"Scores over the {ds.meta.get('window_days', 180)} days to {as_of:%Y-%m-%d}; "
                "vs_peers is the platform's normalised comparison, rel_diff the plain one.",
                tables=[
                    (
                        "DSR by week",
                        recent[
                            [
                                c
                                for c in recent.columns
                                if c == "period"
                                or (
                                    c.startswith(("item", "service", "logistics", "n_"))
                                    and not c.endswith(("_ci_low", "_ci_high"))
                                )
                            ]
                        ],
                    ),
                    ("New low ratings this week", low.to_pandas()),
                ],
                charts=[
                    LineChart(
                        "DSR over time", x=recent["period"].tolist(), series=lines, metric="item"
                    )
                ],
                notes=list(ds.audit.notes),
            )
        )

    # 6. visitor value decomposition
    if orders is not None and (events is None or table.has("source")):
        step("visitor value")
        by = "source" if events is not None and table.has("source") else ()
        vv = visitor_value(events, orders, traffic=traffic, by=by, detect=False, **two_weeks)
        periods = sorted(vv.table["period"].unique())
        mix_flags = []
        if by and len(periods) >= 2:  # the by-source split is where a mix shift shows
            found = mix_shift_flag(vv.table, "source", periods[-2], periods[-1])
            mix_flags = [found] if found is not None else []
        flags += mix_flags
        if len(periods) >= 2:
            dec = vv.decompose(periods[-1], periods[-2])
            tables = [("Visitor value decomposition", dec)]
            if by:
                mix = mix_decomposition(vv.table, "source", periods[-2], periods[-1])
                tables.append(
                    (
                        "Payment conversion: traffic mix vs each source's own rate",
                        mix.rename(
                            columns={
                                "share_prev": "visitor_share_prev",
                                "share_cur": "visitor_share_cur",
                                "rate_prev": "conversion_rate_prev",
                                "rate_cur": "conversion_rate_cur",
                                "mix_effect": "mix_effect_rate",
                                "rate_effect": "rate_effect_rate",
                            }
                        ),
                    )
                )
            sections.append(
                Section(
                    "value",
                    intro="Δlog(visitor value) = Δlog(conversion) + Δlog(AOV) per source; the (total) rows "
                    "split the store's change into traffic mix and each source's own figures.",
                    tables=tables,
                    flags=mix_flags,
                )
            )
    step("writing")
    title = title or f"Weekly report {week}"
    return Report(
        title=title,
        week=week,
        period=(start.date(), (end - dt.timedelta(days=1)).date()),
        generated_at=generated_at,
        headline=headline,
        sections=sections,
        flags=flags,
        lang=lang,
        store=store_name,
        notes=[table.tz_note, *extra_notes],
        meta={"week": week, "tz": tz},
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


def _comparison_tables(comp: ComparisonResult) -> list[tuple[str, pd.DataFrame]]:
    """Week-over-week rows split into rates (shown as percentages) and other figures."""

    t = comp.to_pandas()
    is_rate = t["metric"].isin(list(PROPORTIONS))
    rates = t[is_rate].rename(
        columns={
            "previous": "previous_rate",
            "current": "current_rate",
            "diff": "change_rate",
            "diff_ci_low": "change_rate_ci_low",
            "diff_ci_high": "change_rate_ci_high",
        }
    )
    cols_r = [
        "metric",
        "previous_rate",
        "current_rate",
        "change_rate",
        "change_rate_ci_low",
        "change_rate_ci_high",
        "p_adjusted",
        "significant",
    ]
    cols_o = [
        "metric",
        "previous",
        "current",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "rel_change",
        "p_adjusted",
        "significant",
    ]
    out = [("Week over week: rates", rates[cols_r].reset_index(drop=True))]
    other = t[~is_rate]
    if len(other):
        out.append(("Week over week: counts and values", other[cols_o].reset_index(drop=True)))
    return out


def _peer_table(cur: pd.DataFrame) -> pd.DataFrame | None:
    """This week against the peer averages; rates carry a ``_rate`` suffix so they show as %."""
    import pandas as pd  # noqa: PLC0415

    rows = []
    row = cur.iloc[0]
    for col in cur.columns:
        if col.endswith("_peer_avg"):
            m = col.removesuffix("_peer_avg")
            suffix = "_rate" if m in PROPORTIONS else ""
            rows.append(
                {
                    "metric": m,
                    f"value{suffix}": row[m],
                    f"peer_avg{suffix}": row[col],
                    "vs_peer_ratio": row.get(f"{m}_vs_peer_ratio"),
                    "beyond_interval": row.get(f"{m}_beyond_ci"),
                }
            )
    if not rows:
        return None
    # one column per kind of figure: rates (as %) first, money figures after
    out = pd.DataFrame(rows)
    for a, b in (("value_rate", "value"), ("peer_avg_rate", "peer_avg")):
        if a in out.columns and b in out.columns:
            out[b] = out[b].where(out[a].isna(), None)
    return out


def _presale_table(flags: list[Flag]) -> pd.DataFrame | None:
    import pandas as pd  # noqa: PLC0415

    if not flags:
        return None
    rows = [
        {
            **{k: str(v) for k, v in f.subject.items()},
            **{
                k: f.evidence.get(k)
                for k in (
                    "visitors",
                    "order_buyers",
                    "paid_buyers",
                    "deposit_buyers",
                    "payment_conversion",
                    "order_conversion",
                    "deposit_conversion",
                )
            },
        }
        for f in flags
    ]
    return pd.DataFrame(rows)
