"""Render a :class:`~shopmetrics.report.Report` to HTML, Markdown and Excel.

* HTML: one self-contained page. Inline CSS, inline SVG charts, a Content-Security-Policy
  that forbids every external load, a table of contents with anchors, a layout that
  works on a phone (meta viewport, tables scrolling sideways in a wrapper). Every piece
  of text from the data (names, captions, cells, flag messages) is HTML-escaped.
* Markdown: deterministic text for snapshots and chat tools; data text is
  backslash-escaped so names cannot inject links or HTML.
* Excel (openpyxl): numbers as numbers with formats driven by column names, styled
  header rows, frozen panes, column widths, and formula neutralisation (text starting
  with ``=``, ``+``, ``-``, ``@``, tab or CR is stored as inert text with a leading
  apostrophe: OWASP, "CSV Injection").
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shopmetrics.display import format_value, frame_to_markdown, is_percent, plain
from shopmetrics.engine import deps
from shopmetrics.report import labels

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

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

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value: Any) -> str:
    """HTML-escape any value's text (quotes too; XML-invalid control characters dropped)."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def md(value: Any) -> str:
    """Escape data text for Markdown: no emphasis, links, code or HTML can come from it."""
    return _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub("", str(value))).replace("\n", " ")


# ----------------------------------------------------------------- formatting


def cell_text(col: str, value: Any) -> str:
    """Display text of one table cell (format driven by the column name)."""
    if _is_missing(value):
        return ""
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(plain(value), ensure_ascii=False)
    return format_value(col, value)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _is_number(value: Any) -> bool:
    import numpy as np  # noqa: PLC0415

    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def col_name(c: object) -> str:
    """A column label as text (tuples of a MultiIndex joined with ``/``)."""
    return " / ".join(map(str, c)) if isinstance(c, tuple) else str(c)


def display_table(df: pd.DataFrame, lang: str) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers (localised labels), formatted rows, and which columns are numeric."""
    import pandas as pd  # noqa: PLC0415

    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    cols = [col_name(c) for c in df.columns]
    headers = [labels.label(c, lang) for c in cols]
    rows = [
        [cell_text(c, v) for c, v in zip(cols, row, strict=True)]
        for row in df.itertuples(index=False, name=None)
    ]
    numeric = [
        bool(len(df)) and all(_is_number(v) or _is_missing(v) for v in df.iloc[:, i])
        for i in range(len(cols))
    ]
    return headers, rows, numeric


def fmt_headline(h: Headline, value: float | None) -> str:
    """A headline value in the headline's format, with its unit."""
    if value is None:
        return "–"
    if h.is_percent:
        return f"{value * 100:.2f}%"
    if h.fmt == "integer":
        text = f"{value:,.0f}"
    elif h.fmt == "number":
        text = f"{value:,.2f}"
    else:
        text = format_value(h.name, value)
    return f"{h.unit}{text}"


def fmt_change(h: Headline) -> str:
    """Absolute change (percentage points for a rate) with its sign."""
    c = h.change
    if c is None:
        return "–"
    sign = "+" if c > 0 else "-" if c < 0 else "±"
    if h.is_percent:
        return f"{sign}{abs(c) * 100:.2f} pp"
    if h.fmt == "integer" or (h.fmt == "" and float(c).is_integer()):
        return f"{sign}{h.unit}{abs(c):,.0f}"
    return f"{sign}{h.unit}{abs(c):,.2f}"


def fmt_rel(value: float | None) -> str:
    """A relative change as a signed percentage."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    return f"{sign}{abs(value) * 100:.1f}%"


def fmt_significant(h: Headline, lang: str) -> str:
    """``significant`` / ``not significant`` / empty when not tested."""
    if h.significant is None:
        return ""
    return labels.text("significant" if h.significant else "not_significant", lang)


def _kv(mapping: Mapping[str, Any], lang: str = "en", limit: int = 300) -> str:
    """``label = value; ...`` with values formatted by their names."""
    parts = []
    for k, v in mapping.items():
        if isinstance(v, Mapping | list | tuple):
            text = json.dumps(plain(v), ensure_ascii=False)
        else:
            text = cell_text(str(k), v)
        parts.append(f"{labels.label(str(k), lang)} = {text}")
    out = "; ".join(parts)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _period_text(report: Report) -> str:
    if report.period is None:
        return ""
    a, b = report.period
    return f"{a:%Y-%m-%d} – {b:%Y-%m-%d}"


def _generated_text(report: Report) -> str:
    g = report.generated_at
    if g is None:
        return ""
    text = g.strftime("%Y-%m-%d %H:%M")
    if g.tzinfo is not None:
        text += " " + (g.tzname() or "")
    return text.strip()


def _meta_items(report: Report, lang: str) -> list[tuple[str, str]]:
    items = [
        (labels.text("week", lang), report.week),
        (labels.text("period", lang), _period_text(report)),
        (labels.text("generated", lang), _generated_text(report)),
    ]
    return [(k, v) for k, v in items if v]


def _slug(key: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-") or "section"
    slug, i = f"sec-{base}", 2
    while slug in used:
        slug, i = f"sec-{base}-{i}", i + 1
    used.add(slug)
    return slug


# ----------------------------------------------------------------- HTML

CSS = """
html{-webkit-text-size-adjust:100%}body{margin:0;background:#fff}
.smr{--ink:#1f2328;--muted:#59636e;--line:#d0d7de;--soft:#f6f8fa;--accent:#0969da;--good:#1a7f37;
--bad:#cf222e;--warn:#bf8700;box-sizing:border-box;max-width:980px;margin:0 auto;
padding:20px 16px 48px;
color:var(--ink);background:#fff;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
.smr *{box-sizing:border-box}
.smr h1{font-size:1.6em;line-height:1.25;margin:0 0 .2em}
.smr h2{font-size:1.25em;margin:1.8em 0 .6em;padding-bottom:.25em;
border-bottom:1px solid var(--line)}
.smr h3{font-size:1.02em;margin:1.2em 0 .4em}
.smr .meta{color:var(--muted);margin:0 0 1em;display:flex;flex-wrap:wrap;gap:.2em 1.2em}
.smr .meta b{font-weight:600}
.smr a{color:var(--accent)}
.smr .toc{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.6em 1em}
.smr .toc h2{font-size:1em;margin:0 0 .3em;border:0;padding:0}
.smr .toc ol{margin:0;padding-left:1.4em;columns:2 220px}
.smr .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.smr .card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
.smr .card .name{color:var(--muted);font-size:.88em}
.smr .card .value{font-size:1.45em;font-weight:650;font-variant-numeric:tabular-nums;
overflow-wrap:anywhere}
.smr .card .sub{color:var(--muted);font-size:.85em}
.smr .delta{font-size:.9em;font-variant-numeric:tabular-nums}
.smr .delta.good{color:var(--good)}.smr .delta.bad{color:var(--bad)}
.smr .delta.neutral{color:var(--muted)}
.smr .badge{display:inline-block;font-size:.78em;border:1px solid currentColor;
border-radius:999px;
padding:0 .5em;margin-left:.3em;white-space:nowrap}
.smr .table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0 1.2em;
border:1px solid var(--line);border-radius:6px;max-width:100%}
.smr table{border-collapse:collapse;width:100%;font-size:.9em;font-variant-numeric:tabular-nums}
.smr caption{text-align:left;font-weight:600;padding:.5em .7em;caption-side:top}
.smr th,.smr td{padding:.38em .7em;border-bottom:1px solid var(--line);white-space:nowrap;
text-align:left;vertical-align:top}
.smr th{background:var(--soft);font-weight:600}
.smr td.num,.smr th.num{text-align:right}
.smr tbody tr:last-child td{border-bottom:0}
.smr figure.chart{margin:1em 0 1.4em;max-width:620px}
.smr figure.chart figcaption{font-weight:600;margin-bottom:.3em}
.smr figure.chart svg{display:block;width:100%;height:auto;max-width:100%}
.smr .flag{border-left:4px solid var(--muted);background:var(--soft);border-radius:4px;
padding:.6em .9em;margin:.7em 0}
.smr .flag.sev-error{border-left-color:var(--bad)}
.smr .flag.sev-warning{border-left-color:var(--warn)}
.smr .flag.sev-info{border-left-color:var(--accent)}
.smr .flag p{margin:.3em 0;overflow-wrap:anywhere}
.smr .flag dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em .8em;margin:.3em 0 0;
font-size:.9em}
.smr .flag dt{color:var(--muted)}.smr .flag dd{margin:0;overflow-wrap:anywhere}
.smr .sev{font-weight:700;text-transform:uppercase;font-size:.8em;letter-spacing:.03em}
.smr code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;
background:rgba(175,184,193,.2);padding:.1em .35em;border-radius:4px;overflow-wrap:anywhere}
.smr .notes{color:var(--muted);font-size:.9em}
.smr .more{color:var(--muted);font-size:.85em;margin:-.8em 0 1em}
@media (max-width:600px){.smr{padding:12px 10px 32px;font-size:14px}
.smr .cards{grid-template-columns:repeat(2,minmax(0,1fr))}.smr .toc ol{columns:1}
.smr .flag dl{grid-template-columns:1fr}}
@media print{.smr .toc{display:none}.smr .table-wrap{overflow:visible}}
""".strip()

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
"""The page may load nothing: no script, font, image or style from anywhere."""


def html_table(caption: str, df: pd.DataFrame, lang: str, max_rows: int) -> str:
    """A captioned, escaped table inside a horizontally scrolling wrapper."""
    headers, rows, numeric = display_table(df, lang)
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f'<th scope="col"{c}>{esc(h)}</th>' for h, c in zip(headers, cls, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{c}>{esc(v)}</td>" for v, c in zip(row, cls, strict=True)) + "</tr>"
        for row in rows[:max_rows]
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    label = esc(caption or "table")
    more = ""
    if len(rows) > max_rows:
        more = f'<p class="more">{len(rows) - max_rows} {esc(labels.text("more_rows", lang))}</p>'
    return (
        f'<div class="table-wrap" role="region" aria-label="{label}" tabindex="0">'
        f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{more}"
    )


def _html_card(h: Headline, lang: str) -> str:
    name = h.label or labels.label(h.name, lang)
    parts = [
        f'<div class="card"><div class="name">{esc(name)}</div>',
        f'<div class="value">{esc(fmt_headline(h, h.value))}</div>',
    ]
    if h.ci_low is not None and h.ci_high is not None:
        parts.append(
            f'<div class="sub">[{esc(fmt_headline(h, h.ci_low))}, '
            f"{esc(fmt_headline(h, h.ci_high))}]</div>"
        )
    if h.change is not None:
        arrow = "▲" if h.change > 0 else "▼" if h.change < 0 else "■"
        tone = "neutral"
        if h.significant and h.change != 0:
            up_good = h.name not in LOWER_IS_BETTER
            tone = "good" if (h.change > 0) == up_good else "bad"
        badge = fmt_significant(h, lang)
        parts.append(
            f'<div class="delta {tone}">{arrow} {esc(fmt_change(h))} ({esc(fmt_rel(h.rel_change))})'
            + (f'<span class="badge">{esc(badge)}</span>' if badge else "")
            + "</div>"
        )
    if h.previous is not None:
        parts.append(
            f'<div class="sub">{esc(labels.text("previous", lang))} '
            f"{esc(fmt_headline(h, h.previous))}</div>"
        )
    if h.note:
        parts.append(f'<div class="sub">{esc(h.note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _subject_text(f: Flag, lang: str = "en") -> str:
    return ", ".join(
        f"{labels.label(str(k), lang)}: {cell_text(str(k), v)}" for k, v in f.subject.items()
    )


def html_flag(f: Flag, lang: str, *, full: bool = True) -> str:
    """One finding: severity, code, subject, message; with ``full`` its evidence and examples."""
    sev = f.severity
    head = (
        f'<div class="flag sev-{esc(sev)}"><div>'
        f'<span class="sev">{esc(labels.text(sev, lang))}</span> '
        f"<code>{esc(f.code)}</code>"
    )
    subject = _subject_text(f, lang)
    if subject:
        head += f" · {esc(subject)}"
    if f.n_rows is not None:
        head += f" · {f.n_rows:,} {esc(labels.text('rows_affected', lang))}"
    parts = [head + "</div>", f"<p>{esc(f.message)}</p>"]
    dl = []
    if f.instead:
        dl.append((labels.text("use_instead", lang), _kv(f.instead, lang)))
    if full and f.evidence:
        dl.append((labels.text("evidence", lang), _kv(f.evidence, lang)))
    if full and f.examples:
        ex = " | ".join(_kv(e, lang, 160) for e in f.examples[:3])
        dl.append((labels.text("examples", lang), ex))
    if dl:
        parts.append(
            "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in dl) + "</dl>"
        )
    parts.append("</div>")
    return "".join(parts)


def _html_section(section: Section, anchor: str, lang: str, max_rows: int) -> str:
    parts = [f'<section id="{anchor}"><h2>{esc(section.display_title(lang))}</h2>']
    if section.intro:
        parts.append(f"<p>{esc(section.intro)}</p>")
    parts.extend(
        f'<figure class="chart"><figcaption>{esc(chart.title)}</figcaption>'
        f"{chart.to_svg(lang=lang, show_title=False)}</figure>"
        for chart in section.charts
    )
    for caption, df in section.tables:
        parts.append(html_table(caption, df, lang, max_rows))
    parts.extend(html_flag(f, lang, full=False) for f in section.flags)
    if section.notes:
        parts.append(
            '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in section.notes) + "</ul>"
        )
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report, lang: str, *, max_rows: int = 50, fragment: bool = False) -> str:
    """The report as one HTML document (or, with ``fragment``, a styled ``<div>`` for notebooks)."""
    labels.check_lang(lang)
    used: set[str] = {"headline", "flags", "contents", "notes"}
    anchors = [_slug(s.key, used) for s in report.sections]
    toc: list[tuple[str, str]] = []
    body: list[str] = [f"<header><h1>{esc(report.title)}</h1>"]
    if report.store:
        body.append(f'<p class="meta">{esc(report.store)}</p>')
    meta = _meta_items(report, lang)
    if meta:
        body.append(
            '<p class="meta">'
            + "".join(f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in meta)
            + "</p>"
        )
    body.append("</header>")
    content: list[str] = []
    if report.headline:
        title = labels.section_title("headline", lang)
        toc.append(("headline", title))
        cards = "".join(_html_card(h, lang) for h in report.headline)
        content.append(
            f'<section id="headline"><h2>{esc(title)}</h2>'
            f'<div class="cards">{cards}</div></section>'
        )
    for section, anchor in zip(report.sections, anchors, strict=True):
        toc.append((anchor, section.display_title(lang)))
        content.append(_html_section(section, anchor, lang, max_rows))
    flags_title = labels.section_title("flags", lang)
    toc.append(("flags", f"{flags_title} ({len(report.flags)})"))
    flag_html = "".join(html_flag(f, lang) for f in report.flags) or (
        f"<p>{esc(labels.text('no_flags', lang))}</p>"
    )
    content.append(f'<section id="flags"><h2>{esc(flags_title)}</h2>{flag_html}</section>')
    if report.notes:
        notes_title = labels.section_title("notes", lang)
        toc.append(("notes", notes_title))
        content.append(
            f'<section id="notes"><h2>{esc(notes_title)}</h2><ul class="notes">'
            + "".join(f"<li>{esc(n)}</li>" for n in report.notes)
            + "</ul></section>"
        )
    contents = labels.text("contents", lang)
    body.append(
        f'<nav class="toc" aria-label="{esc(contents)}"><h2>{esc(contents)}</h2><ol>'
        + "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in toc)
        + "</ol></nav>"
    )
    body.extend(content)
    main = '<div class="smr">' + "".join(body) + "</div>"
    if fragment:
        fragment_css = "\n".join(
            line for line in CSS.splitlines() if not line.startswith(("html{", "body{"))
        )
        return f"<style>{fragment_css}</style>{main}"
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f'<meta name="generator" content="shopmetrics">\n'
        f"<title>{esc(report.title)}{' · ' + esc(report.week) if report.week else ''}</title>\n"
        f"<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>{main}</main>\n</body>\n</html>\n"
    )


# ----------------------------------------------------------------- Markdown


def md_table(df: pd.DataFrame, lang: str, max_rows: int) -> str:
    """A localised Markdown table (cells formatted, data text escaped)."""
    import pandas as pd  # noqa: PLC0415

    headers, rows, _ = display_table(df, lang)
    shown = pd.DataFrame(
        [[md(v) for v in r] for r in rows[:max_rows]],
        columns=[md(h) for h in headers],
        dtype=object,
    )
    out = frame_to_markdown(shown, max_rows=max_rows)
    if len(rows) > max_rows:
        out += f"\n\n_{len(rows) - max_rows} {labels.text('more_rows', lang)}._"
    return out


def md_flag(f: Flag, lang: str, *, full: bool = True) -> list[str]:
    """One finding as Markdown list lines."""
    head = f"**{labels.text(f.severity, lang).upper()}** `{f.code.replace('`', '')}`"
    subject = _subject_text(f, lang)
    if subject:
        head += f" · {md(subject)}"
    if f.n_rows is not None:
        head += f" · {f.n_rows:,} {labels.text('rows_affected', lang)}"
    lines = [f"- {head}: {md(f.message)}"]
    if f.instead:
        lines.append(f"  - {labels.text('use_instead', lang)}: {md(_kv(f.instead, lang))}")
    if full and f.evidence:
        lines.append(f"  - {labels.text('evidence', lang)}: {md(_kv(f.evidence, lang))}")
    return lines


def render_markdown(report: Report, lang: str, *, max_rows: int = 50) -> str:
    """The report as Markdown."""
    import pandas as pd  # noqa: PLC0415

    labels.check_lang(lang)
    out = [f"# {md(report.title)}", ""]
    if report.store:
        out += [md(report.store), ""]
    meta = _meta_items(report, lang)
    if meta:
        out += [" · ".join(f"**{k}** {md(v)}" for k, v in meta), ""]
    if report.headline:
        out += [f"## {labels.section_title('headline', lang)}", ""]
        cols = [
            labels.text("metric", lang),
            labels.text("value", lang),
            labels.label("previous", lang),
            labels.label("change", lang),
            labels.label("rel_change", lang),
            labels.label("significant", lang),
        ]
        rows = [
            [
                h.label or labels.label(h.name, lang),
                fmt_headline(h, h.value),
                fmt_headline(h, h.previous) if h.previous is not None else "",
                fmt_change(h) if h.change is not None else "",
                fmt_rel(h.rel_change) if h.rel_change is not None else "",
                fmt_significant(h, lang),
            ]
            for h in report.headline
        ]
        frame = pd.DataFrame([[md(v) for v in r] for r in rows], columns=cols, dtype=object)
        out += [frame_to_markdown(frame, max_rows=len(rows) + 1), ""]
    for section in report.sections:
        out += [f"## {md(section.display_title(lang))}", ""]
        if section.intro:
            out += [md(section.intro), ""]
        for caption, df in section.tables:
            if caption:
                out += [f"**{md(caption)}**", ""]
            out += [md_table(df, lang, max_rows), ""]
        for chart in section.charts:
            out += [f"_{md(chart.title)}: {labels.text('chart_in_html', lang)}._", ""]
        if section.flags:
            for f in section.flags:
                out += md_flag(f, lang, full=False)
            out.append("")
        if section.notes:
            out += [f"- {md(n)}" for n in section.notes] + [""]
    out += [f"## {labels.section_title('flags', lang)}", ""]
    if report.flags:
        for f in report.flags:
            out += md_flag(f, lang)
    else:
        out.append(labels.text("no_flags", lang))
    out.append("")
    if report.notes:
        out += [f"## {labels.section_title('notes', lang)}", ""]
        out += [f"- {md(n)}" for n in report.notes] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


# ----------------------------------------------------------------- Excel

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat text as a formula (OWASP CSV injection)."""
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EXCEL_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL = 32767


def neutralise(text: str) -> str:
    """Make text inert in a spreadsheet: a leading ``'`` when it starts like a formula.

    Examples:
        >>> neutralise('=HYPERLINK("http://x","click")')
        '\\'=HYPERLINK("http://x","click")'
        >>> neutralise("P007")
        'P007'
    """
    text = _EXCEL_ILLEGAL.sub("", text)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text[:MAX_CELL]


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name from ``title`` (recorded in ``used``, lower-cased).

    Excel's rules: at most 31 characters, none of ``[ ] : * ? / \\``, not starting or
    ending with an apostrophe, not blank, not ``History``, unique ignoring case.

    Examples:
        >>> used = set()
        >>> sheet_name("Traffic sources: ROAS / spend [paid]", used)
        'Traffic sources_ ROAS _ spend _'
        >>> sheet_name("traffic SOURCES: roas / spend [PAID]", used)
        'traffic SOURCES_ roas _ spe (2)'
    """
    name = _SHEET_FORBIDDEN.sub("_", _EXCEL_ILLEGAL.sub("", title)).strip().strip("'").strip()
    if not name:
        name = "Sheet"
    if name.lower() == "history":
        name = "History_"
    name = name[:31].rstrip("'")
    base, i = name, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)].rstrip("'") + suffix
        i += 1
    used.add(name.lower())
    return name


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Sheet:
    """Writes blocks (titles, lines, tables) down one worksheet, tracking widths."""

    def __init__(self, ws: Any, styles: Mapping[str, Any]) -> None:
        self.ws = ws
        self.row = 1
        self.widths: dict[int, int] = {}
        self.styles = styles
        self.freeze_at: str | None = None

    def put(self, row: int, col: int, value: Any, number_format: str | None = None) -> Any:
        cell = self.ws.cell(row=row, column=col)
        v, fmt = excel_value(value)
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"  # never a formula, whatever the text
            if v.startswith("'"):
                cell.quotePrefix = True
        fmt = number_format or fmt
        if fmt:
            cell.number_format = fmt
        shown = v if isinstance(v, str) else cell_text("", value) if v is not None else ""
        width = min(_display_width(shown.split("\n")[0]) + 2, 60)
        self.widths[col] = max(self.widths.get(col, 8), width)
        return cell

    def title(self, text: str) -> None:
        cell = self.ws.cell(row=self.row, column=1)
        cell.value = neutralise(text)
        cell.data_type = "s"
        cell.font = self.styles["title"]
        self.row += 1

    def line(self, text: str, *, bold: bool = False, muted: bool = False) -> None:
        cell = self.ws.cell(row=self.row, column=1)
        cell.value = neutralise(text)
        cell.data_type = "s"
        if bold:
            cell.font = self.styles["bold"]
        elif muted:
            cell.font = self.styles["muted"]
        self.row += 1

    def header(self, labels: Sequence[str]) -> None:
        for j, text in enumerate(labels, start=1):
            cell = self.put(self.row, j, text)
            cell.font = self.styles["header_font"]
            cell.fill = self.styles["header_fill"]
            cell.alignment = self.styles["header_align"]
            cell.border = self.styles["header_border"]
        if self.freeze_at is None:
            self.freeze_at = f"B{self.row + 1}"
        self.row += 1

    def table(self, caption: str, df: pd.DataFrame, lang: str) -> None:
        import pandas as pd  # noqa: PLC0415

        if not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index()
        cols = [col_name(c) for c in df.columns]
        if caption:
            self.line(caption, bold=True)
        self.header([labels.label(c, lang) for c in cols])
        for row in df.itertuples(index=False, name=None):
            for j, (c, v) in enumerate(zip(cols, row, strict=True), start=1):
                self.put(self.row, j, v, "0.00%" if is_percent(c) and _is_number(v) else None)
            self.row += 1
        self.row += 1

    def finish(self) -> None:
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = width
        if self.freeze_at is not None:
            self.ws.freeze_panes = self.freeze_at


def excel_value(value: Any) -> tuple[Any, str | None]:
    """A cell value openpyxl can store, and its number format (``None``: General).

    Numbers stay numbers, dates stay dates (time zone dropped: Excel has none), text is
    neutralised, anything else becomes its JSON or string form.
    """
    import numpy as np  # noqa: PLC0415

    if _is_missing(value):
        return None, None
    if isinstance(value, bool | np.bool_):
        return bool(value), None
    if isinstance(value, int | np.integer):
        return int(value), "#,##0"
    if isinstance(value, float | np.floating):
        f = float(value)
        if math.isinf(f):
            return neutralise("inf" if f > 0 else "-inf"), None
        return f, ("#,##0" if f.is_integer() and abs(f) < 1e15 else "#,##0.00")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value, ("yyyy-mm-dd" if midnight else "yyyy-mm-dd hh:mm")
    if isinstance(value, dt.date):
        return value, "yyyy-mm-dd"
    if isinstance(value, str):
        return neutralise(value), None
    if isinstance(value, Mapping | list | tuple):
        return neutralise(json.dumps(plain(value), ensure_ascii=False)), None
    return neutralise(str(value)), None


def write_excel(report: Report, path: Path, lang: str) -> None:
    """Write the report as an .xlsx workbook (needs openpyxl)."""
    labels.check_lang(lang)
    openpyxl = deps.need("openpyxl", "Report.to_excel()")
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # noqa: PLC0415

    styles = {
        "title": Font(bold=True, size=14),
        "bold": Font(bold=True),
        "muted": Font(color="59636E", italic=True),
        "header_font": Font(bold=True, color="FFFFFF"),
        "header_fill": PatternFill("solid", fgColor="1F4E79"),
        "header_align": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "header_border": Border(bottom=Side(style="thin", color="000000")),
    }
    wb = openpyxl.Workbook()
    used: set[str] = set()

    # summary: title, meta, headline figures
    ws = wb.active
    ws.title = sheet_name(labels.text("summary", lang), used)
    sheet = _Sheet(ws, styles)
    sheet.title(report.title)
    if report.store:
        sheet.line(report.store)
    for k, v in _meta_items(report, lang):
        sheet.line(f"{k}: {v}", muted=True)
    sheet.row += 1
    if report.headline:
        sheet.line(labels.section_title("headline", lang), bold=True)
        sheet.header(
            [
                labels.text("metric", lang),
                labels.text("value", lang),
                labels.label("previous", lang),
                labels.label("change", lang),
                labels.label("rel_change", lang),
                labels.label("significant", lang),
                labels.label("value_ci_low", lang),
                labels.label("value_ci_high", lang),
            ]
        )
        for h in report.headline:
            fmt = "0.00%" if h.is_percent else "#,##0" if h.fmt == "integer" else "#,##0.00"
            if h.unit and not h.is_percent:
                fmt = f'"{h.unit.replace(chr(34), "")}"{fmt}'
            values: list[tuple[Any, str | None]] = [
                (h.label or labels.label(h.name, lang), None),
                (h.value, fmt),
                (h.previous, fmt),
                (h.change, fmt),
                (h.rel_change, "0.00%"),
                (h.significant, None),
                (h.ci_low, fmt),
                (h.ci_high, fmt),
            ]
            for j, (v, num_fmt) in enumerate(values, start=1):
                sheet.put(sheet.row, j, v, num_fmt if v is not None else None)
            sheet.row += 1
    sheet.finish()

    for section in report.sections:
        ws = wb.create_sheet(sheet_name(section.display_title(lang), used))
        sheet = _Sheet(ws, styles)
        sheet.title(section.display_title(lang))
        if section.intro:
            sheet.line(section.intro, muted=True)
        sheet.row += 1
        for caption, df in section.tables:
            sheet.table(caption, df, lang)
        for chart in section.charts:
            sheet.table(chart.title, chart.to_frame(), lang)
        for f in section.flags:
            sheet.line(f"{labels.text(f.severity, lang).upper()} {f.code}: {f.message}")
        for n in section.notes:
            sheet.line(n, muted=True)
        sheet.finish()

    ws = wb.create_sheet(sheet_name(labels.section_title("flags", lang), used))
    sheet = _Sheet(ws, styles)
    cols = [
        "severity",
        "code",
        "table",
        "column",
        "subject",
        "n_rows",
        "message",
        "instead",
        "evidence",
    ]
    sheet.header([labels.label(c, lang) for c in cols])
    for f in report.flags:
        row: list[Any] = [
            labels.text(f.severity, lang),
            f.code,
            f.table,
            f.column,
            _subject_text(f, lang),
            f.n_rows,
            f.message,
            _kv(f.instead, lang, 2000) if f.instead else None,
            _kv(f.evidence, lang, 2000) if f.evidence else None,
        ]
        for j, cell in enumerate(row, start=1):
            sheet.put(sheet.row, j, cell)
        sheet.row += 1
    sheet.finish()
    wb.save(str(path))
