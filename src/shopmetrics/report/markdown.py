"""The report as Markdown.

Deterministic text for snapshots and chat tools; data text is backslash-escaped so names
cannot inject links, emphasis or HTML.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from shopmetrics.display import CONTROL_CHARS, frame_to_markdown
from shopmetrics.report import labels
from shopmetrics.report.format import (
    display_table,
    evidence_line,
    flag_message,
    fmt_change,
    fmt_headline,
    fmt_rel,
    fmt_significant,
    kv,
    meta_items,
    split_columns,
    subject_text,
)

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.model import ReportContent as Report


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def md(value: Any) -> str:
    """Escape data text for Markdown: no emphasis, links, code or HTML can come from it."""
    return _MD_SPECIAL.sub(r"\\\1", CONTROL_CHARS.sub("", str(value))).replace("\n", " ")


def md_table(df: pd.DataFrame, lang: str, max_rows: int) -> str:
    """A localised Markdown table (metrics as rows, cells formatted, data text escaped);
    a table too wide for a page is split in parts that repeat its key columns."""
    import pandas as pd  # noqa: PLC0415

    headers, rows, numeric = display_table(df, lang)
    parts = []
    for h, r, _ in split_columns(headers, rows[:max_rows], numeric):
        shown = pd.DataFrame(
            [[md(v) for v in row] for row in r],
            columns=[md(x) for x in h],
            dtype=object,
        )
        parts.append(frame_to_markdown(shown, max_rows=max_rows))
    out = "\n\n".join(parts)
    if len(rows) > max_rows:
        out += f"\n\n_{len(rows) - max_rows} {labels.text('more_rows', lang)}._"
    return out


def md_flag(f: Flag, lang: str, *, full: bool = True) -> list[str]:
    """One finding as Markdown list lines: title, message, action, figures to use instead,
    evidence in one line."""
    head = f"**{labels.text(f.severity, lang)}: {md(labels.flag_title(f.code, lang))}**"
    subject = subject_text(f, lang)
    if subject:
        head += f" · {md(subject)}"
    if f.n_rows is not None:
        head += f" · {f.n_rows:,} {labels.text('rows_affected', lang)}"
    message = flag_message(f, lang)
    lines = [f"- {head}: {md(message)}"]
    action = labels.flag_action(f.code, lang)
    if action:
        lines.append(f"  - {labels.text('action', lang)}: {md(action)}")
    if f.instead:
        lines.append(
            f"  - {labels.text('use_instead', lang)}: {md(kv(f.instead, lang, code=f.code))}"
        )
    if full and f.evidence and evidence_line(f, lang) != message:
        lines.append(f"  - {labels.text('evidence', lang)}: {md(evidence_line(f, lang))}")
    return lines


def render_markdown(report: Report, lang: str, *, max_rows: int = 50) -> str:
    """The report as Markdown."""
    import pandas as pd  # noqa: PLC0415

    labels.check_lang(lang)
    tr = labels.translate
    out = [f"# {md(tr(report.title, lang))}", ""]
    if report.store:
        out += [md(report.store), ""]
    meta = meta_items(report, lang)
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
                fmt_headline(h, h.value, lang),
                fmt_headline(h, h.previous, lang) if h.previous is not None else "",
                fmt_change(h, lang) if h.change is not None else "",
                fmt_rel(h.rel_change) if h.rel_change is not None else "",
                fmt_significant(h, lang),
            ]
            for h in report.headline
        ]
        frame = pd.DataFrame([[md(v) for v in r] for r in rows], columns=cols, dtype=object)
        out += [frame_to_markdown(frame, max_rows=len(rows) + 1), ""]
    for section in report.sections:
        out += [f"## {md(tr(section.display_title(lang), lang))}", ""]
        if section.intro:
            out += [md(tr(section.intro, lang)), ""]
        for caption, df in section.tables:
            if caption:
                out += [f"**{md(tr(caption, lang))}**", ""]
            out += [md_table(df, lang, max_rows), ""]
        for chart in section.charts:
            out += [f"_{md(tr(chart.title, lang))}: {labels.text('chart_in_html', lang)}._", ""]
        if section.flags:
            for f in section.flags:
                out += md_flag(f, lang, full=False)
            out.append("")
        if section.notes:
            out += [f"- {md(tr(n, lang))}" for n in section.notes] + [""]
    out += [f"## {labels.section_title('flags', lang)}", ""]
    if report.flags:
        for f in report.flags:
            out += md_flag(f, lang)
    else:
        out.append(labels.text("no_flags", lang))
    out.append("")
    if report.notes:
        out += [f"## {labels.section_title('notes', lang)}", ""]
        out += [f"- {md(tr(n, lang))}" for n in report.notes] + [""]
    return "\n".join(out).rstrip("\n") + "\n"
