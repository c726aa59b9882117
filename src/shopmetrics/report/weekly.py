"""``sm.weekly_report``: one call from the store's tables to the weekly :class:`Report`.

It runs the metric modules on the week and the week before, and assembles:

0. the ten-second story (three to five sentences, en and zh) and one action per flag
   (:mod:`shopmetrics.report.summary`), first;
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

This module loads each table once (every metric call gets the loaded table), finds the
week (the last complete one by default; a partial week says so), runs the store's funnel
once and the traffic sources once; each section is built by its own function in
:mod:`shopmetrics.report.sections` from those shared figures. A flag that touches the two
weeks (order brushing, tracking gap, bots, presale deposits) gets the store's figures
recounted without its rows (:mod:`shopmetrics.report.corrected`), shown beside the raw ones.
The event counts of every grain those funnels need (the store by day and by week, by
source, by product) are computed first, together, in one engine run
(:mod:`shopmetrics.report.shared`); each funnel reads its own grain from there.

Examples:
    >>> import shopmetrics as sm
    >>> store = sm.datasets.make_store(seed=0)
    >>> report = sm.weekly_report(events=store.events, orders=store.orders,
    ...                           ratings=store.ratings, spend=store.spend,
    ...                           peers=store.peers, dsr_peers=store.dsr_peers)
    >>> report.week
    '2026-W47'
    >>> [s.key for s in report.sections][:3]
    ['summary', 'trend', 'funnel']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.compare import compare
from shopmetrics.config import get_config
from shopmetrics.display import is_missing
from shopmetrics.engine.periods import parse_bound
from shopmetrics.engine.shared_counts import GrainKey
from shopmetrics.errors import SchemaError, ShopmetricsError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.funnel import funnel
from shopmetrics.report import labels, sections, summary
from shopmetrics.report.activity_section import activity_section
from shopmetrics.report.corrected import Correction, correct_week
from shopmetrics.report.document import Report
from shopmetrics.report.model import _dedupe
from shopmetrics.report.sections import Part, Week
from shopmetrics.report.shared import report_event_counts
from shopmetrics.report.story import flag_actions

if TYPE_CHECKING:
    from shopmetrics.traffic import TrafficResult

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


def _data_range(table: engine.Table, src_name: str) -> tuple[Any, dt.datetime]:
    """The earliest and the latest timestamp (events) or day (traffic export) in the
    data, in one collect."""
    col = "ts" if src_name == "events" else "date"
    got = engine.collect(
        table.frame.select(nw.col(col).min().alias("first"), nw.col(col).max().alias("last")),
        "weekly:range",
    )
    first: Any = got["first"].iloc[0] if len(got) else None
    last: Any = got["last"].iloc[0] if len(got) else None
    if last is None or is_missing(last):
        msg = f"{src_name} is empty: no {col} to find the week from"
        raise SchemaError(msg)
    out: dt.datetime = last.to_pydatetime() if hasattr(last, "to_pydatetime") else last
    return (first.to_pydatetime() if hasattr(first, "to_pydatetime") else first), out


@dataclasses.dataclass(frozen=True)
class Exports:
    """The traffic exports given, by what their rows are: the whole shop, products, sources.

    Attributes:
        shop: A shop-overview export (生意参谋 店铺整体): one row a day.
        products: A product export (商品效果): rows per product (``product_id``).
        sources: A traffic-source export (流量来源): rows per source (``source``).
    """

    shop: Any = None
    products: Any = None
    sources: Any = None

    @property
    def store(self) -> Any:
        """The table the store's funnel comes from: the shop's, else the products', else the
        sources' (unique counts of the last two are summed over rows; the flags say so)."""
        for table in (self.shop, self.products, self.sources):
            if table is not None:
                return table
        return None


_ROLE_NAMES = {
    "shop": "shop-overview (店铺整体)",
    "products": "product (商品效果)",
    "sources": "traffic-source (流量来源)",
}


def _exports(traffic: Any, columns: Mapping[str, str] | None, tz: str | None) -> Exports:
    """Sort the traffic export(s) by their rows: a ``source`` column makes a source export,
    else a ``product_id`` a product export, else it is the shop's."""
    if traffic is None:
        return Exports()
    items = list(traffic) if isinstance(traffic, list | tuple) else [traffic]
    roles: dict[str, Any] = {}
    for obj in items:
        loaded = engine.load(obj, "traffic", columns, tz)
        if loaded.has("source"):
            role = "sources"
        elif loaded.has("product_id"):
            role = "products"
        else:
            role = "shop"
        if role in roles:
            msg = (
                f"traffic: two {_ROLE_NAMES[role]} exports were given; concatenate them into "
                "one table (or read them as one folder) and pass that"
            )
            raise SchemaError(msg)
        roles[role] = loaded  # loaded once: every section reads this Table
    return Exports(**roles)


def _span_notes(exports: Exports, columns: Mapping[str, str] | None, tz: str | None) -> list[str]:
    """A note per export whose rows cover several days (week or month downloads)."""
    notes = []
    for role in ("shop", "products", "sources"):
        obj = getattr(exports, role)
        if obj is None:
            continue
        loaded = engine.load(obj, "traffic", columns, tz)
        if not loaded.has("period_end"):
            continue
        n = engine.count_rows(loaded, nw.col("period_end") > nw.col("date"))
        if n:
            notes.append(
                f"{n} rows of the {_ROLE_NAMES[role]} export cover several days (a week or "
                "month download); each counts in the period of its first day, so daily and "
                "ISO-week figures are right only where those ranges match them"
            )
    return notes


def _store_week(
    events: Any,
    orders: Any,
    exports: Exports,
    spend: Any,
    table: engine.Table,
    week: str,
    last_dt: dt.datetime,
    funnel_peers: Any,
    tz: str | None,
    columns: Mapping[str, str] | None,
) -> tuple[Week, Any]:
    """The store's funnel by day (seven weeks) and by week (this one and the one before).

    Returns:
        The :class:`~shopmetrics.report.sections.Week` every section reads, and the
        daily funnel (for the trend).
    """
    traffic = exports.store if events is None else None
    start = _parse_week(week)
    end = start + dt.timedelta(days=7)
    # every section below reads the same two weeks (this one and the one before)
    two_weeks: dict[str, Any] = {
        "freq": "W",
        "start": start - dt.timedelta(days=7),
        "end": end,
        "tz": tz,
        "columns": columns,
    }
    daily = funnel(  # with the orders: a day with orders and no visitors is a 0, not a gap
        events,
        orders,
        traffic,
        freq="D",
        start=start - dt.timedelta(days=49),
        end=end,
        tz=tz,
        columns=columns,
        detect=False,
    )
    weekly = funnel(events, orders, traffic, peers=funnel_peers, **two_weeks)
    wt = weekly.table
    comp = compare(weekly) if len(wt) >= 2 else None
    cur = wt[wt["period"] == week]
    prev = wt[wt["period"] != week]
    if len(cur) == 0:
        iso = last_dt.isocalendar()
        msg = (
            f"no data in week {week}; the data end on {last_dt:%Y-%m-%d}: pass the week to "
            f"report, e.g. week='{iso.year}-W{iso.week:02d}' (--week on the command line)"
        )
        raise SchemaError(msg)
    wk = Week(
        events=events,
        orders=orders,
        traffic=traffic,
        spend=spend,
        columns=columns,
        tz=tz,
        week=week,
        start=start,
        end=end,
        table=table,
        two_weeks=two_weeks,
        weekly=weekly,
        comp=comp,
        cur=cur,
        previous=prev.iloc[0] if len(prev) else None,
        products=exports.products if events is None else None,
        sources=exports.sources if events is None else None,
    )
    return wk, daily


def _section_parts(
    wk: Week, ratings: Any, dsr_peers: Any, step: Callable[[str], None]
) -> tuple[list[Part], TrafficResult | None]:
    """The sections after the funnel that the tables given allow (and the traffic result
    they share)."""
    parts = []
    from_events = wk.events is not None
    has = wk.table.has
    tr = None
    if (from_events and wk.orders is not None and has("source")) or wk.sources is not None:
        step("traffic sources")
        tr = sections.traffic_result(wk)
        parts.append(sections.traffic_part(wk, tr))
    if (from_events and wk.orders is not None and has("product_id")) or wk.products is not None:
        step("products")
        parts.append(Part(sections.products_section(wk)))
    if ratings is not None:
        step("DSR")
        parts.append(sections.dsr_part(wk, ratings, dsr_peers))
    value = (
        sections.value_possible(wk) if not from_events else wk.orders is not None and has("source")
    )
    if value:
        step("visitor value")
        parts.append(sections.value_part(wk, tr))
    return parts, tr


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
    activities: Any = None,
) -> Report:
    """Build the weekly report.

    Args:
        events: Raw events (or ``traffic``).
        orders: Order lines.
        ratings: DSR ratings (optional).
        spend: Paid-traffic cost (optional).
        traffic: Store exports instead of events: a 生意参谋 shop-overview (店铺整体),
            product (商品效果) or traffic-source (流量来源) export, or a list of them (one
            of each). The store's figures come from the shop export, else the product
            one, else the source one; products and sources get their own sections. The
            report then says, in its notes, what cannot be computed without raw events.
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
        activities: The store's activities (see :func:`shopmetrics.activity_effect`): an
            activity section appears when one ran in the week or the week before.

    Returns:
        A :class:`~shopmetrics.report.Report`.
    """
    step = progress or (lambda _msg: None)
    exports = _exports(traffic, columns, tz)
    if events is None and exports.store is None:
        msg = (
            "weekly_report needs events= (raw events) or traffic= (a store export: 生意参谋 "
            "店铺整体, 商品效果 or 流量来源)"
        )
        raise SchemaError(msg)
    extra_notes: list[str] = []
    if events is not None and exports.store is not None:
        # raw events give exact uniques; the export would count visits twice
        extra_notes.append(
            "traffic export not used: raw events were given and give exact unique counts"
        )
    src_name, src = ("events", events) if events is not None else ("traffic", exports.store)
    step("reading")
    table = engine.load(src, src_name, columns, tz)
    # each input is loaded once; the metric functions take the loaded Table as it is
    events = table if events is not None else None
    orders, spend, ratings = (
        engine.load(obj, name, columns, tz) if obj is not None else None
        for obj, name in ((orders, "orders"), (spend, "spend"), (ratings, "ratings"))
    )
    first_dt, last_dt = _data_range(table, src_name)
    week = week or last_complete_week(last_dt)
    funnel_peers, dp = _split_peers(peers, columns)
    dsr_peers = dsr_peers if dsr_peers is not None else dp

    step("aggregating the funnel")
    with report_event_counts(events, _grains(events, orders, week, tz)):
        wk, daily, parts, tr, corrections = _sections(
            (events, orders, exports, spend, table, week, last_dt, funnel_peers, tz, columns),
            (ratings, dsr_peers, activities),
            step,
        )
    partial = _partial_week(wk, first_dt, last_dt)
    if partial is not None:
        extra_notes.append(partial[0])
    every_flag = _dedupe(
        [f for p in parts for f in (*p.flags, *(p.section.flags if p.section else ()))]
    )
    headline = [h for p in parts for h in p.headline]
    story = summary.week_story(wk, headline, tr, corrections, partial)
    actions = _actions(every_flag, corrections, lang)
    parts.insert(0, Part(summary.summary_section(story, actions, lang)))
    if events is None:
        extra_notes.extend(sections.export_only_notes(wk, ratings=ratings, daily=daily))
        extra_notes.extend(_span_notes(exports, columns, tz))
    step("writing")
    return Report(
        title=title or f"Weekly report {week}",
        week=week,
        period=(wk.start.date(), (wk.end - dt.timedelta(days=1)).date()),
        generated_at=generated_at,
        headline=headline,
        sections=[p.section for p in parts if p.section is not None],
        flags=[f for p in parts for f in p.flags],
        lang=lang,
        store=store_name,
        notes=[table.tz_note, *extra_notes],
        meta={"week": week, "tz": tz, "partial_week": partial is not None},
        summary=story.sentences,
        actions=actions,
    )


def _grains(events: Any, orders: Any, week: str, tz: str | None) -> list[GrainKey]:
    """The grains of the events the report's funnels count (computed together, once): the
    store by day (the trend's seven weeks) and by week (this one and the one before: the
    store's funnel and the traffic sources' de-duplicated total), by source and by product
    (the traffic and product sections), with ``start`` / ``end`` as the funnel parses them."""
    if events is None:
        return []
    tz = tz or get_config().tz
    start = _parse_week(week)
    end = parse_bound(start + dt.timedelta(days=7), "end", tz)
    two = parse_bound(start - dt.timedelta(days=7), "start", tz)
    grains: list[GrainKey] = [
        ((), "D", parse_bound(start - dt.timedelta(days=49), "start", tz), end),
        ((), "W", two, end),
    ]
    if orders is not None:
        grains += [((c,), "W", two, end) for c in ("source", "product_id") if events.has(c)]
    return grains


def _sections(
    store: tuple[Any, ...], more: tuple[Any, Any, Any], step: Callable[[str], None]
) -> tuple[Week, Any, list[Part], TrafficResult | None, list[Any]]:
    """The store's week, its daily funnel, the parts of the report after the summary, the
    traffic result and the corrections of the flagged weeks."""
    events, orders, _exports, _spend, _table, _week, _last, _peers, tz, _columns = store
    ratings, dsr_peers, activities = more
    wk, daily = _store_week(*store)
    # the flags of the store's funnel say which rows mislead: the store's weeks recounted
    # without them, once, for the headline, the funnel table, the story and the banner
    corrections = _corrections(wk, wk.weekly.flags)
    store_head = summary.with_corrections(sections.headline_figures(wk), corrections)
    fixed = summary.with_corrected_instead(corrections)
    store_flags = [fixed.get(_key(f), (f, None))[0] for f in wk.weekly.flags]
    later, tr = _section_parts(wk, ratings, dsr_peers, step)
    if activities is not None and orders is not None:
        step("activities")
        later += _activity_parts(events, orders, activities, ratings, wk, tz)
    parts = [
        Part(headline=tuple(store_head), flags=tuple(store_flags)),
        Part(sections.trend_section(daily)),
        Part(sections.funnel_section(wk, store_head)),
        *later,
    ]
    return wk, daily, parts, tr, list(fixed.values())


def _actions(flags: Sequence[Flag], corrections: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    """One action per flag in ``lang``; each also recorded in the other language, so the
    report renders in either."""
    actions = flag_actions(flags, corrections, lang)
    other = flag_actions(flags, corrections, "zh" if lang == "en" else "en")
    for mine, theirs in zip(actions, other, strict=True):
        en, zh = (mine, theirs) if lang == "en" else (theirs, mine)
        labels.register_sentence(str(en["action"]), str(zh["action"]))
        labels.register_sentence(str(en["subject"]), str(zh["subject"]))
    return actions


def _activity_parts(
    events: Any, orders: Any, activities: Any, ratings: Any, wk: Week, tz: str | None
) -> list[Part]:
    """The activity section, when an activity ran in the week or the week before."""
    act = activity_section(events, orders, activities, ratings, (wk.start, wk.end), tz)
    return [] if act is None else [Part(act)]


def _partial_week(wk: Week, first_dt: Any, last_dt: dt.datetime) -> tuple[str, str] | None:
    """A note (en, zh) when the data do not cover the whole week reported."""
    last_day = (wk.end - dt.timedelta(days=1)).date()
    if last_dt.date() >= last_day and first_dt is not None and first_dt.date() <= wk.start.date():
        return None
    lo = max(first_dt, wk.start) if first_dt is not None else wk.start
    hi = min(last_dt.date(), last_day)
    return (
        (
            f"Week {wk.week} is partial: the data cover {lo:%Y-%m-%d} to {hi:%Y-%m-%d} only, so its "
            "counts are not comparable with a full week."
        ),
        f"{wk.week} 为不完整周：数据仅覆盖 {lo:%Y-%m-%d} 至 {hi:%Y-%m-%d}，与完整周的数据不可直接比较。",
    )


def _corrections(wk: Week, flags: Sequence[Flag]) -> list[tuple[Flag, Correction]]:
    """The store's two weeks recounted without what each flag touching them points at."""
    if wk.orders is None or "visitors" not in wk.weekly.table.columns:
        return []
    wt = wk.weekly.table
    periods = sorted(str(p) for p in wt["period"])
    visitors = {str(p): float(v) for p, v in zip(wt["period"], wt["visitors"], strict=True)}
    t0 = wk.start - dt.timedelta(days=7) if len(periods) == 2 else wk.start
    confidence = float(wk.weekly.meta.get("confidence", 0.95))
    out = []
    for f in sort_flags(list(flags)):
        if not _touches(f, t0, wk.end, wk.week):
            continue
        c = correct_week(f, wk.orders, visitors, periods, t0, wk.end, confidence)
        if c is not None:
            out.append((f, c))
    return out


def _key(flag: Flag) -> str:
    return json.dumps(flag.to_dict(), sort_keys=True, default=str)


def _touches(flag: Flag, start: dt.datetime, end: dt.datetime, week: str) -> bool:
    """Whether a flag's day, hour or period falls in the weeks reported."""
    if flag.code == "presale_zero_payment":
        return str(flag.subject.get("period", week)) == week
    when = flag.subject.get("hour") or flag.subject.get("date")
    if when is None:
        return False
    t = dt.datetime.fromisoformat(str(when)[:19])
    return start <= t < end
