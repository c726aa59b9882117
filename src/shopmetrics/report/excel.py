"""The report as an Excel workbook (openpyxl, the ``excel`` extra).

Numbers as numbers with formats driven by column names, styled header rows, frozen
panes, column widths, and formula neutralisation (text starting with ``=``, ``+``,
``-``, ``@``, tab or CR is stored as inert text with a leading apostrophe: OWASP, "CSV
Injection").
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.display import is_missing, is_percent, plain
from shopmetrics.engine import deps
from shopmetrics.report import labels
from shopmetrics.report.format import (
    cell_text,
    col_name,
    is_number,
    kv,
    meta_items,
    subject_text,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from shopmetrics.report.model import ReportContent as Report
    from shopmetrics.report.model import Section


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
                self.put(self.row, j, v, "0.00%" if is_percent(c) and is_number(v) else None)
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
    if is_missing(value):
        return None, None
    if isinstance(value, bool | np.bool_):
        return bool(value), None
    if isinstance(value, int | np.integer):
        return int(value), "#,##0"
    if isinstance(value, float | np.floating):
        return _excel_float(float(value))
    if isinstance(value, dt.datetime):
        return _excel_datetime(value)
    if isinstance(value, dt.date):
        return value, "yyyy-mm-dd"
    if isinstance(value, Mapping | list | tuple):
        return neutralise(json.dumps(plain(value), ensure_ascii=False)), None
    return neutralise(str(value)), None


def _excel_float(f: float) -> tuple[Any, str | None]:
    """A float and its format (whole numbers without decimals); infinity as text."""
    if math.isinf(f):
        return neutralise("inf" if f > 0 else "-inf"), None
    return f, ("#,##0" if f.is_integer() and abs(f) < 1e15 else "#,##0.00")


def _excel_datetime(value: dt.datetime) -> tuple[dt.datetime, str]:
    """A naive datetime (Excel has no time zones) and its format (no time at midnight)."""
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
    return value, ("yyyy-mm-dd" if midnight else "yyyy-mm-dd hh:mm")


def write_excel(report: Report, path: Path, lang: str) -> None:
    """Write the report as an .xlsx workbook (needs openpyxl).

    Sheets: a summary (title, meta, headline figures), one per section (its tables,
    the data of its charts, its flags and notes), and every flag.
    """
    labels.check_lang(lang)
    openpyxl = deps.need("openpyxl", "Report.to_excel()")
    styles = _styles()
    wb = openpyxl.Workbook()
    used: set[str] = set()
    ws = wb.active
    ws.title = sheet_name(labels.text("summary", lang), used)
    _summary_sheet(_Sheet(ws, styles), report, lang)
    for section in report.sections:
        ws = wb.create_sheet(sheet_name(section.display_title(lang), used))
        _section_sheet(_Sheet(ws, styles), section, lang)
    ws = wb.create_sheet(sheet_name(labels.section_title("flags", lang), used))
    _flags_sheet(_Sheet(ws, styles), report, lang)
    wb.save(str(path))


def _styles() -> dict[str, Any]:
    """The fonts, fills and borders of titles and header rows."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # noqa: PLC0415

    return {
        "title": Font(bold=True, size=14),
        "bold": Font(bold=True),
        "muted": Font(color="59636E", italic=True),
        "header_font": Font(bold=True, color="FFFFFF"),
        "header_fill": PatternFill("solid", fgColor="1F4E79"),
        "header_align": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "header_border": Border(bottom=Side(style="thin", color="000000")),
    }


def _summary_sheet(sheet: _Sheet, report: Report, lang: str) -> None:
    """Title, store, meta lines and the headline figures (numbers in their formats)."""
    sheet.title(report.title)
    if report.store:
        sheet.line(report.store)
    for k, v in meta_items(report, lang):
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


def _section_sheet(sheet: _Sheet, section: Section, lang: str) -> None:
    """A section: its tables, the data behind its charts, its flags and notes."""
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


def _flags_sheet(sheet: _Sheet, report: Report, lang: str) -> None:
    """Every finding, one row each, with its evidence and the figure to use instead."""
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
            subject_text(f, lang),
            f.n_rows,
            f.message,
            kv(f.instead, lang, 2000) if f.instead else None,
            kv(f.evidence, lang, 2000) if f.evidence else None,
        ]
        for j, cell in enumerate(row, start=1):
            sheet.put(sheet.row, j, cell)
        sheet.row += 1
    sheet.finish()
