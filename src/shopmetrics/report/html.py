"""The report as one self-contained HTML page, from Jinja2 templates.

Inline CSS, inline SVG charts, a Content-Security-Policy that forbids every external
load, a table of contents with anchors, a layout that works on a phone (meta viewport,
tables scrolling sideways in a wrapper).

The markup is in ``templates/`` (``report.html.j2``: the page and one macro per part;
``page.css`` and ``report.css``: the styles). It is rendered with autoescape on, so every
piece of text from the data (names, captions, cells, flag messages) is escaped by the
template engine; control characters that XML forbids are dropped first. This module
only prepares the display text of each part (with :mod:`shopmetrics.report.format`);
tables go through the package's one table writer, :func:`shopmetrics.display.html_table`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.ext

from shopmetrics.display import drop_control, html_table
from shopmetrics.report import labels
from shopmetrics.report.format import (
    display_table,
    fmt_change,
    fmt_headline,
    fmt_rel,
    fmt_significant,
    kv,
    meta_items,
    subject_text,
)

if TYPE_CHECKING:
    import pandas as pd
    from markupsafe import Markup

    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.model import Headline, Section
    from shopmetrics.report.model import ReportContent as Report

LOWER_IS_BETTER = frozenset(
    {
        "bounce_rate",
        "refund_rate",
        "refund_amount",
        "cost",
        "spend",
        "cpc",
        "cpm",
        "cpa",
        "visitor_cost",
    }
)
"""Metrics for which a rise is bad news (drives the colour of a significant change)."""


class JoinLines(jinja2.ext.Extension):
    """Join the lines of ``.html.j2`` templates: a newline and the indentation after it go.

    The templates are written one element a line for reading; the page keeps no
    whitespace between elements (a space there would show between inline elements).
    ``{{ nl }}`` writes a newline where the page has one.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        """The template source with its lines joined (other templates unchanged)."""
        if name is None or not name.endswith(".html.j2"):
            return source
        return re.sub(r"\n[ \t]*", "", source)


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("shopmetrics.report"),
    autoescape=True,
    finalize=drop_control,
    undefined=jinja2.StrictUndefined,
    extensions=[JoinLines],
)
"""The templates' environment: autoescape on, strict about undefined names."""


def _slug(key: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-") or "section"
    slug, i = f"sec-{base}", 2
    while slug in used:
        slug, i = f"sec-{base}-{i}", i + 1
    used.add(slug)
    return slug


def table_html(caption: str, df: pd.DataFrame, lang: str, max_rows: int) -> Markup:
    """A captioned table (localised headers, formatted cells) with the count of rows not shown."""
    headers, rows, numeric = display_table(df, lang)
    more = ""
    if len(rows) > max_rows:
        more = f"{len(rows) - max_rows} {labels.text('more_rows', lang)}"
    return html_table(headers, rows[:max_rows], numeric=numeric, caption=caption, more=more)


def _card(h: Headline, lang: str) -> dict[str, Any]:
    """A headline figure's card: value, interval, change with its tone, previous value, note."""
    delta = None
    if h.change is not None:
        tone = "neutral"
        if h.significant and h.change != 0:
            up_good = h.name not in LOWER_IS_BETTER
            tone = "good" if (h.change > 0) == up_good else "bad"
        delta = {
            "arrow": "▲" if h.change > 0 else "▼" if h.change < 0 else "■",
            "tone": tone,
            "change": fmt_change(h),
            "rel": fmt_rel(h.rel_change),
            "badge": fmt_significant(h, lang),
        }
    interval = None
    if h.ci_low is not None and h.ci_high is not None:
        interval = (fmt_headline(h, h.ci_low), fmt_headline(h, h.ci_high))
    previous = ""
    if h.previous is not None:
        previous = f"{labels.text('previous', lang)} {fmt_headline(h, h.previous)}"
    return {
        "name": h.label or labels.label(h.name, lang),
        "value": fmt_headline(h, h.value),
        "interval": interval,
        "delta": delta,
        "previous": previous,
        "note": h.note,
    }


def _flag(f: Flag, lang: str, *, full: bool = True) -> dict[str, Any]:
    """A finding: severity, code, subject, message; with ``full`` its evidence and examples."""
    details = []
    if f.instead:
        details.append((labels.text("use_instead", lang), kv(f.instead, lang)))
    if full and f.evidence:
        details.append((labels.text("evidence", lang), kv(f.evidence, lang)))
    if full and f.examples:
        ex = " | ".join(kv(e, lang, 160) for e in f.examples[:3])
        details.append((labels.text("examples", lang), ex))
    rows = ""
    if f.n_rows is not None:
        rows = f"{f.n_rows:,} {labels.text('rows_affected', lang)}"
    return {
        "severity": f.severity,
        "severity_label": labels.text(f.severity, lang),
        "code": f.code,
        "subject": subject_text(f, lang),
        "rows": rows,
        "message": f.message,
        "details": details,
    }


def _section(section: Section, anchor: str, lang: str, max_rows: int) -> dict[str, Any]:
    """A section: title, intro, charts (SVG), tables, its flags in short, notes."""
    return {
        "anchor": anchor,
        "title": section.display_title(lang),
        "intro": section.intro,
        "charts": [
            (chart.title, chart.to_svg(lang=lang, show_title=False)) for chart in section.charts
        ],
        "tables": [table_html(caption, df, lang, max_rows) for caption, df in section.tables],
        "flags": [_flag(f, lang, full=False) for f in section.flags],
        "notes": list(section.notes),
    }


def _page(report: Report, lang: str, max_rows: int) -> dict[str, Any]:
    """Everything the page shows, as display text, and its table of contents."""
    used: set[str] = {"headline", "flags", "contents", "notes"}
    anchors = [_slug(s.key, used) for s in report.sections]
    toc: list[tuple[str, str]] = []
    headline_title = labels.section_title("headline", lang)
    if report.headline:
        toc.append(("headline", headline_title))
    toc += [(a, s.display_title(lang)) for s, a in zip(report.sections, anchors, strict=True)]
    flags_title = labels.section_title("flags", lang)
    toc.append(("flags", f"{flags_title} ({len(report.flags)})"))
    notes_title = labels.section_title("notes", lang)
    if report.notes:
        toc.append(("notes", notes_title))
    return {
        "title": report.title,
        "week": report.week,
        "store": report.store,
        "meta": meta_items(report, lang),
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "contents": labels.text("contents", lang),
        "toc": toc,
        "headline_title": headline_title,
        "cards": [_card(h, lang) for h in report.headline],
        "sections": [
            _section(s, a, lang, max_rows) for s, a in zip(report.sections, anchors, strict=True)
        ],
        "flags_title": flags_title,
        "flags": [_flag(f, lang) for f in report.flags],
        "no_flags": labels.text("no_flags", lang),
        "notes_title": notes_title,
        "notes": list(report.notes),
    }


def render_html(report: Report, lang: str, *, max_rows: int = 50, fragment: bool = False) -> str:
    """The report as one HTML document (or, with ``fragment``, a styled ``<div>`` for notebooks)."""
    labels.check_lang(lang)
    template = ENV.get_template("report.html.j2")
    return template.render(r=_page(report, lang, max_rows), fragment=fragment, nl="\n")
