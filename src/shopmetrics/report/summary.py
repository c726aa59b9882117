"""The report's first screen: the story, the flags banner, and the corrected headline.

:func:`with_corrections` puts each flag's corrected figure beside the raw headline figure;
:func:`week_story` tells the week in three to five sentences
(:mod:`shopmetrics.report.story`); :func:`summary_section` is the section that holds them,
placed first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shopmetrics.report import labels
from shopmetrics.report.corrected import week_of
from shopmetrics.report.figures import mix_table
from shopmetrics.report.model import Headline, Section
from shopmetrics.report.story import Story, tell

if TYPE_CHECKING:
    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.corrected import Correction
    from shopmetrics.report.sections import Week
    from shopmetrics.traffic import TrafficResult

__all__ = [
    "CORRECTION_SUFFIXES",
    "summary_section",
    "week_story",
    "with_corrected_instead",
    "with_corrections",
]

_CORRECTED = ("visitors", "payment_conversion", "aov", "visitor_value", "paid_amount")
"""The headline figures a correction recomputes."""

CORRECTION_SUFFIXES = {
    "order_brushing": "_without_brushing",
    "tracking_gap": "_without_gap_day",
    "bot_traffic": "_without_bots",
    "presale_zero_payment": "_deposit_as_paid",
}
"""The name suffix of a corrected headline figure, by the flag it follows (labelled in
both languages by :mod:`shopmetrics.report.labels`)."""


def with_corrections(
    headline: Sequence[Headline], corrections: Sequence[tuple[Flag, Correction]]
) -> list[Headline]:
    """Each headline figure, then its value recomputed without what each flag that changes
    it points at (a labelled row beside it); the raw figure carries the first correction."""
    out: list[Headline] = []
    for raw in headline:
        fixed = [f for _, c in corrections if (f := _corrected(raw, c)) is not None]
        h = raw
        if fixed:
            first = fixed[0]
            h = dataclasses.replace(
                raw,
                corrected=first.value,
                corrected_previous=first.previous,
                corrected_significant=first.significant,
                corrected_by=first.note.split(" ")[0],
            )
        out += [h, *fixed]
    return out


def _corrected(h: Headline, c: Correction) -> Headline | None:
    """``h`` recomputed under correction ``c``; ``None`` when it does not change it."""
    if h.name not in _CORRECTED:
        return None
    periods = sorted(c.rows)
    cur = c.rows[periods[-1]].get(h.name)
    prev = c.rows[periods[0]].get(h.name) if len(periods) == 2 else None
    if cur is None:
        return None
    if abs(cur - (h.value or 0)) <= 1e-9 and abs((prev or 0) - (h.previous or 0)) <= 1e-9:
        return None
    sig = c.significant if h.name == "payment_conversion" else None
    return Headline(
        h.name + CORRECTION_SUFFIXES.get(c.code, "_corrected"),
        cur,
        previous=prev,
        significant=sig,
        unit=h.unit,
        fmt=h.fmt or ("percent" if h.is_percent else "number"),
        note=c.code + ("" if c.p_value is None or sig is None else f" (p = {c.p_value:.2f})"),
    )


def with_corrected_instead(
    corrections: Sequence[tuple[Flag, Correction]],
) -> dict[str, tuple[Flag, Correction]]:
    """Each corrected flag with "use instead" holding the corrected figures of the week it
    touches (never a difference), keyed by the original flag's JSON.

    The week is the one of the flag's day or hour (its period for a presale flag). The
    flag's own non-figure advice (the orders or buyers to exclude, the day) is kept.
    """
    import json  # noqa: PLC0415 - a key only

    out = {}
    for f, c in corrections:
        when = f.subject.get("hour") or f.subject.get("date") or f.subject.get("period")
        week = week_of(str(when)) if when is not None else max(c.rows)
        row = c.rows.get(week) or c.rows[max(c.rows)]
        suffix = CORRECTION_SUFFIXES.get(c.code, "_corrected")
        kept = {
            k: v
            for k, v in f.instead.items()
            if not isinstance(v, int | float) or isinstance(v, bool) or k == "exclude_orders"
        }
        # prefix form (``without_brushing_payment_conversion``): the name's ending says
        # how the figure is shown
        which = ("visitors",) if c.code == "bot_traffic" else ("payment_conversion", "paid_amount")
        if f.code == "presale_zero_payment":
            kept, which = dict(f.instead), ("payment_conversion",)
        figures = {f"{suffix[1:]}_{m}": row[m] for m in which if m in row}
        fixed = dataclasses.replace(f, instead={**figures, **kept, "week": week})
        out[json.dumps(f.to_dict(), sort_keys=True, default=str)] = (fixed, c)
    return out


def week_story(
    wk: Week,
    headline: Sequence[Headline],
    tr: TrafficResult | None,
    corrections: Sequence[tuple[Flag, Correction]],
    partial: tuple[str, str] | None,
) -> Story:
    """The story of the week from the figures every section shows."""
    prev = None if wk.previous is None else str(wk.previous["period"])
    per = None
    mix = None
    if tr is not None and "visitors" in tr.table.columns:
        per = tr.table[tr.table["source"].notna()]
        if prev is not None and "attributed_buyers" in per.columns:
            wt = wk.weekly.table
            store = {
                str(r["period"]): (float(r["visitors"]), float(r.get("paid_buyers", 0.0)))
                for _, r in wt.iterrows()
            }
            mix = mix_table(per[per["period"].isin([prev, wk.week])], store, prev, wk.week)
    return tell(
        headline,
        week=wk.week,
        previous=prev,
        per_source=per,
        mix=mix,
        corrections=[c for _, c in corrections],
        partial=partial,
    )


def summary_section(story: Story, actions: Sequence[Mapping[str, Any]], lang: str) -> Section:
    """The story and one action per flag, as the report's first section."""
    import pandas as pd  # noqa: PLC0415

    en, zh = " ".join(story.sentences["en"]), " ".join(story.sentences["zh"])
    labels.register_sentence(en, zh)  # built in one language, rendered in either
    tables: list[tuple[str, Any]] = []
    if actions:
        caption = "What to do about each flag" if lang == "en" else "每个标记的处理建议"
        tables.append(
            (caption, pd.DataFrame(list(actions))[["severity", "code", "subject", "action"]])
        )
    return Section("summary", intro=" ".join(story.sentences[lang]), tables=tables)
