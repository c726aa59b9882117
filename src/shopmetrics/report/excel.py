"""The report as an Excel workbook (openpyxl, the ``excel`` extra).

Numbers stay numbers, with one number format per kind of figure (the rules of
:mod:`shopmetrics.report.format`): counts ``#,##0``, money ``"¥"#,##0.00``, rates
``0.00%``, changes of a rate in percentage points (stored in points), scores and ratios
``0.00``, p-values ``0.000`` with ``< 0.001`` below. Every table is an Excel table (its own
autofilter and a header that stays in view while scrolling it), the first header row is
frozen, long text wraps, and the words are the label layer's. Formula neutralisation:
text starting with ``=``, ``+``, ``-``, ``@``, tab or CR is stored as inert text with a
leading apostrophe (OWASP, "CSV Injection").
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

from shopmetrics.display import is_missing, plain
from shopmetrics.engine import deps
from shopmetrics.report import labels
from shopmetrics.report.format import (
    Kind,
    cell_text,
    change_kind,
    col_name,
    flag_message,
    headline_kind,
    is_number,
    kind_of,
    kv,
    meta_items,
    metrics_as_rows,
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

NUMBER_FORMATS: dict[str, str] = {
    "count": "#,##0",
    "money": '"¥"#,##0.00',
    "rate": "0.00%",
    "rate_pp": '+0.00" pp";-0.00" pp";0.00" pp"',
    "score": "0.00",
    "pvalue": '[<0.001]"< 0.001";0.000',
    "ratio": "0.00",
    "number": "#,##0.00",
}
"""The number format of each kind of figure (a rate's change is stored in points)."""
_ROW_VALUES = frozenset(
    {"previous", "current", "value", "peer_avg", "diff", "diff_ci_low", "diff_ci_high"}
)
_WRAP_AT = 50


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
        self.tables = 0

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
        if isinstance(v, str) and len(v) > _WRAP_AT:
            cell.alignment = self.styles["wrap"]
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
        """A captioned table, metrics as rows, numbers in their kind's format, as an Excel
        table (autofilter, header kept in view)."""
        import pandas as pd  # noqa: PLC0415

        if not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index()
        df = metrics_as_rows(df)
        cols = [col_name(c) for c in df.columns]
        metrics = list(df["metric"]) if "metric" in cols else None
        if caption:
            self.line(caption, bold=True)
        top = self.row
        self.header(_unique([labels.label(c, lang) for c in cols]))
        for i, row in enumerate(df.itertuples(index=False, name=None)):
            for j, (c, v) in enumerate(zip(cols, row, strict=True), start=1):
                kind = kind_of(c)
                if metrics is not None and c in _ROW_VALUES:
                    kind = kind_of(str(metrics[i]))
                    kind = change_kind(kind) if c.startswith("diff") else kind
                self.put_figure(self.row, j, c, v, kind, lang)
            self.row += 1
        if len(df) and cols:
            self.add_table(top, len(cols))
        self.row += 1

    def put_figure(self, row: int, col: int, name: str, value: Any, kind: Kind, lang: str) -> None:
        """One cell: a number in its kind's format, an enumeration as its label, text wrapped."""
        if is_number(value) and not is_missing(value):
            v = float(value) * 100 if kind == "rate_pp" else value
            self.put(row, col, v, NUMBER_FORMATS[kind])
            return
        named = labels.value_label(name, value, lang)
        if named is not None:
            self.put(row, col, named)
            return
        if isinstance(value, list | tuple | Mapping):
            self.put(row, col, cell_text(name, value, lang))
            return
        self.put(row, col, value)

    def add_table(self, header_row: int, n_cols: int) -> None:
        """The block from ``header_row`` down to the last row written as an Excel table."""
        from openpyxl.utils import get_column_letter  # noqa: PLC0415
        from openpyxl.worksheet.table import Table, TableStyleInfo  # noqa: PLC0415

        self.tables += 1
        ref = f"A{header_row}:{get_column_letter(n_cols)}{self.row - 1}"
        n = sum(len(ws.tables) for ws in self.ws.parent.worksheets) + 1  # unique in the book
        table = Table(displayName=f"Table{n}", ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        self.ws.add_table(table)

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
        return neutralise("∞" if f > 0 else "-∞"), None
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
        "wrap": Alignment(wrap_text=True, vertical="top"),
    }


def _unique(headers: Sequence[str]) -> list[str]:
    """Header texts made unique (an Excel table needs distinct column names)."""
    out: list[str] = []
    for h in headers:
        name, i = h or "-", 2
        while name in out:
            name, i = f"{h} ({i})", i + 1
        out.append(name)
    return out


def _summary_sheet(sheet: _Sheet, report: Report, lang: str) -> None:
    """Title, store, meta lines and the headline figures (numbers in their formats)."""
    sheet.title(labels.translate(report.title, lang))
    if report.store:
        sheet.line(report.store)
    for k, v in meta_items(report, lang):
        sheet.line(f"{k}: {v}", muted=True)
    sheet.row += 1
    if report.headline:
        sheet.line(labels.section_title("headline", lang), bold=True)
        top = sheet.row
        sheet.header(
            _unique(
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
        )
        for h in report.headline:
            kind = headline_kind(h)
            values: list[tuple[Any, Kind | None]] = [
                (h.label or labels.label(h.name, lang), None),
                (h.value, kind),
                (h.previous, kind),
                (h.change, change_kind(kind)),
                (h.rel_change, "rate"),
                (h.significant, None),
                (h.ci_low, kind),
                (h.ci_high, kind),
            ]
            for j, (v, fig) in enumerate(values, start=1):
                sheet.put_figure(sheet.row, j, "significant", v, fig or "number", lang)
            sheet.row += 1
        sheet.add_table(top, 8)
    sheet.finish()


def _section_sheet(sheet: _Sheet, section: Section, lang: str) -> None:
    """A section: its tables, the data behind its charts, its flags and notes."""
    tr = labels.translate
    sheet.title(tr(section.display_title(lang), lang))
    if section.intro:
        sheet.line(tr(section.intro, lang), muted=True)
    sheet.row += 1
    for caption, df in section.tables:
        sheet.table(tr(caption, lang), df, lang)
    for chart in section.charts:
        sheet.table(tr(chart.title, lang), chart.to_frame(), lang)
    for f in section.flags:
        sheet.line(
            f"{labels.text(f.severity, lang)} · {labels.flag_title(f.code, lang)}: "
            f"{flag_message(f, lang)}"
        )
    for n in section.notes:
        sheet.line(tr(n, lang), muted=True)
    sheet.finish()


def _flags_sheet(sheet: _Sheet, report: Report, lang: str) -> None:
    """Every finding, one row each: its title, message and action, the figures to use
    instead and its evidence (labelled and formatted)."""
    cols = ["severity", "code", "subject", "n_rows", "message", "action", "instead", "evidence"]
    top = sheet.row
    sheet.header(_unique([labels.label(c, lang) for c in cols]))
    for f in report.flags:
        row: list[Any] = [
            labels.text(f.severity, lang),
            labels.flag_title(f.code, lang),
            subject_text(f, lang),
            f.n_rows,
            flag_message(f, lang),
            labels.flag_action(f.code, lang),
            kv(f.instead, lang, 2000, code=f.code) if f.instead else None,
            kv(f.evidence, lang, 2000, code=f.code) if f.evidence else None,
        ]
        for j, cell in enumerate(row, start=1):
            sheet.put_figure(sheet.row, j, cols[j - 1], cell, "count", lang)
        sheet.row += 1
    if report.flags:
        sheet.add_table(top, len(cols))
    sheet.finish()
