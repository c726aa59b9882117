"""Display text shared by the renderings (HTML, Markdown, Excel).

Table cells (formatted by their column names), headline figures and their changes, the
subject and evidence of a finding, and the report's week, period and time stamp: every
rendering shows the same text for the same value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.display import format_value, is_missing, plain
from shopmetrics.report import labels

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.model import Headline
    from shopmetrics.report.model import ReportContent as Report


def cell_text(col: str, value: Any) -> str:
    """Display text of one table cell (format driven by the column name)."""
    if is_missing(value):
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


def is_number(value: Any) -> bool:
    """A Python or numpy number that is not a boolean (a right-aligned cell)."""
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
        bool(len(df)) and all(is_number(v) or is_missing(v) for v in df.iloc[:, i])
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


def kv(mapping: Mapping[str, Any], lang: str = "en", limit: int = 300) -> str:
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


def meta_items(report: Report, lang: str) -> list[tuple[str, str]]:
    """``(label, text)`` of the week, the period and the time stamp, those the report has."""
    items = [
        (labels.text("week", lang), report.week),
        (labels.text("period", lang), _period_text(report)),
        (labels.text("generated", lang), _generated_text(report)),
    ]
    return [(k, v) for k, v in items if v]


def subject_text(f: Flag, lang: str = "en") -> str:
    """What a finding is about: ``label: value, ...`` of its subject."""
    return ", ".join(
        f"{labels.label(str(k), lang)}: {cell_text(str(k), v)}" for k, v in f.subject.items()
    )
