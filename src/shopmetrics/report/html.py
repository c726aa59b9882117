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
    LOWER_IS_BETTER,
    display_table,
    evidence_line,
    flag_message,
    fmt_change,
    fmt_headline,
    fmt_rel,
    fmt_significant,
    labelled_items,
    meta_items,
    rise_is_red,
    split_columns,
    subject_text,
    tone,
)

if TYPE_CHECKING:
    import pandas as pd
    from markupsafe import Markup

    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.model import Headline, Section
    from shopmetrics.report.model import ReportContent as Report

__all__ = ["LOWER_IS_BETTER", "render_html", "table_html"]


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


def table_html(caption: str, df: pd.DataFrame, lang: str, max_rows: int) -> list[Markup]:
    """A captioned table (labels, formatted cells, metrics as rows), split in parts when it
    is too wide for the page; the count of rows not shown under the last part."""
    headers, rows, numeric = display_table(df, lang)
    parts = split_columns(headers, rows[:max_rows], numeric)
    more = ""
    if len(rows) > max_rows:
        more = f"{len(rows) - max_rows} {labels.text('more_rows', lang)}"
    out = []
    for i, (h, r, n) in enumerate(parts):
        cap = caption if len(parts) == 1 else f"{caption} ({i + 1}/{len(parts)})"
        out.append(
            html_table(h, r, numeric=n, caption=cap, more=more if i == len(parts) - 1 else "")
        )
    return out


def _card(h: Headline, lang: str) -> dict[str, Any]:
    """A headline figure's card: value, interval, change with its tone, previous value, note."""
    delta = None
    if h.change is not None:
        change = fmt_change(h, lang)
        delta = {  # the arrow follows the change shown: none up or down when it reads 0
            "arrow": "▲" if change.startswith("+") else "▼" if change.startswith("-") else "■",
            "tone": tone(h.name, h.change, h.significant, lang),
            "change": change,
            "rel": fmt_rel(h.rel_change),
            "badge": fmt_significant(h, lang),
        }
    interval = None
    if h.ci_low is not None and h.ci_high is not None:
        interval = (fmt_headline(h, h.ci_low, lang), fmt_headline(h, h.ci_high, lang))
    previous = ""
    if h.previous is not None:
        previous = f"{labels.text('previous', lang)} {fmt_headline(h, h.previous, lang)}"
    return {
        "name": h.label or labels.label(h.name, lang),
        "value": fmt_headline(h, h.value, lang),
        "interval": interval,
        "delta": delta,
        "previous": previous,
        "note": labels.translate(h.note, lang),
    }


def _flag(f: Flag, lang: str, *, full: bool = True) -> dict[str, Any]:
    """A finding: its title, subject, message and action; the figures to use instead;
    with ``full``, its evidence in one line and the whole of it (and examples) folded."""
    instead = labelled_items(f.code, f.instead, lang)
    detail = labelled_items(f.code, f.evidence, lang) if full else []
    if full and f.examples:
        detail += [
            (
                f"{labels.text('examples', lang)} {i + 1}",
                "; ".join(f"{k} {v}" for k, v in labelled_items(f.code, e, lang)),
            )
            for i, e in enumerate(f.examples[:3])
        ]
    rows = ""
    if f.n_rows is not None:
        rows = f"{f.n_rows:,} {labels.text('rows_affected', lang)}"
    message = flag_message(f, lang)
    return {
        "severity": f.severity,
        "severity_label": labels.text(f.severity, lang),
        "title": labels.flag_title(f.code, lang),
        "subject": subject_text(f, lang),
        "rows": rows,
        "message": message,
        "action": labels.flag_action(f.code, lang),
        "action_label": labels.text("action", lang),
        "instead_label": labels.text("use_instead", lang),
        "instead": instead,
        "evidence_label": labels.text("evidence", lang),
        "evidence": evidence_line(f, lang) if full and message != evidence_line(f, lang) else "",
        "detail_label": labels.text("detail", lang),
        "detail": detail,
    }


def _section(section: Section, anchor: str, lang: str, max_rows: int) -> dict[str, Any]:
    """A section: title, intro, charts (SVG), tables, its flags in short, notes."""
    return {
        "anchor": anchor,
        "title": labels.translate(section.display_title(lang), lang),
        "intro": labels.translate(section.intro, lang),
        "charts": [
            (labels.translate(chart.title, lang), chart.to_svg(lang=lang, show_title=False))
            for chart in section.charts
        ],
        "tables": [
            t
            for caption, df in section.tables
            for t in table_html(labels.translate(caption, lang), df, lang, max_rows)
        ],
        "flags": [_flag(f, lang, full=False) for f in section.flags],
        "notes": [labels.translate(n, lang) for n in section.notes],
    }


def _page(report: Report, lang: str, max_rows: int) -> dict[str, Any]:
    """Everything the page shows, as display text, and its table of contents."""
    used: set[str] = {"headline", "flags", "contents", "notes"}
    anchors = [_slug(s.key, used) for s in report.sections]
    toc: list[tuple[str, str]] = []
    headline_title = labels.section_title("headline", lang)
    if report.headline:
        toc.append(("headline", headline_title))
    toc += [
        (a, labels.translate(s.display_title(lang), lang))
        for s, a in zip(report.sections, anchors, strict=True)
    ]
    flags_title = labels.section_title("flags", lang)
    toc.append(("flags", f"{flags_title} ({len(report.flags)})"))
    notes_title = labels.section_title("notes", lang)
    if report.notes:
        toc.append(("notes", notes_title))
    return {
        "title": labels.translate(report.title, lang),
        "rise": "red" if rise_is_red(lang) else "green",
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
        "notes": [labels.translate(n, lang) for n in report.notes],
    }


def render_html(report: Report, lang: str, *, max_rows: int = 50, fragment: bool = False) -> str:
    """The report as one HTML document (or, with ``fragment``, a styled ``<div>`` for notebooks)."""
    labels.check_lang(lang)
    template = ENV.get_template("report.html.j2")
    return template.render(r=_page(report, lang, max_rows), fragment=fragment, nl="\n")
