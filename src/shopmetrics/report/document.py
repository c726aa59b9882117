"""The weekly report: a container of headline figures, sections and flags, and its renderings.

A :class:`Report` holds what the metric modules computed for one week: the headline
figures with their previous values and whether the change is significant, ordered
:class:`Section` objects (each with its tables, charts, flags and notes), and every flag
found, most serious first, each with its evidence and the figure to use instead. It
renders to one self-contained HTML file (inline CSS and SVG charts, no external
requests), to Markdown, and to an Excel workbook (needs the ``excel`` extra), in English
or Chinese.

Rendering never reads the clock: ``generated_at`` is passed in, so the same report
renders to the same bytes.

Examples:
    >>> import datetime as dt
    >>> import pandas as pd
    >>> import shopmetrics as sm
    >>> funnel = pd.DataFrame({"visitors": [1200], "paid_buyers": [54],
    ...                        "payment_conversion": [0.045]})
    >>> report = sm.Report(
    ...     title="Weekly report", week="2026-W47",
    ...     period=(dt.date(2026, 11, 16), dt.date(2026, 11, 22)),
    ...     generated_at=dt.datetime(2026, 11, 23, 8, 0),
    ...     headline=[sm.Headline("visitors", 1200, previous=1000, significant=True)],
    ...     sections=[sm.Section("funnel", tables=[("This week", funnel)])])
    >>> report.headline[0].rel_change
    0.2
    >>> print(report.to_markdown().splitlines()[0])
    # Weekly report
    >>> "<svg" in sm.Report("t", sections=[sm.Section("s", charts=[
    ...     sm.BarChart("Bars", labels=["a"], values=[1.0])])]).to_html()
    True
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from shopmetrics.report import excel, html, markdown
from shopmetrics.report.model import ReportContent, _write

__all__ = ["Report"]  # the charts and the model are exported by shopmetrics.report


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Report(ReportContent):
    """A weekly report (see :class:`~shopmetrics.report.model.ReportContent` for its fields)
    and its renderings: one self-contained HTML file, Markdown, an Excel workbook."""

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lang: str | None = None,
        max_rows: int = 50,
    ) -> str:
        """One self-contained HTML page: inline CSS and SVG, no external requests.

        Args:
            path: Also write the page there (UTF-8).
            lang: ``"en"`` or ``"zh"``; the report's ``lang`` by default.
            max_rows: Rows shown per table (the rest are counted).

        Returns:
            The HTML document.
        """
        out = html.render_html(self, lang or self.lang, max_rows=max_rows)
        if path is not None:
            _write(path, out)
        return out

    def to_markdown(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lang: str | None = None,
        max_rows: int = 50,
    ) -> str:
        """The report as Markdown (deterministic: same report, same text).

        Args:
            path: Also write it there (UTF-8).
            lang: ``"en"`` or ``"zh"``; the report's ``lang`` by default.
            max_rows: Rows shown per table (the rest are counted).
        """
        out = markdown.render_markdown(self, lang or self.lang, max_rows=max_rows)
        if path is not None:
            _write(path, out)
        return out

    def to_excel(self, path: str | os.PathLike[str], *, lang: str | None = None) -> Path:
        """Write an Excel workbook: a summary sheet, one sheet per section, and the flags.

        Numbers stay numbers (rates with a percent format), text that a spreadsheet would
        run as a formula is made inert. Needs ``openpyxl`` (``pip install
        'shopmetrics[excel]'``).

        Returns:
            The path written.
        """
        excel.write_excel(self, Path(path), lang or self.lang)
        return Path(path)

    def _repr_html_(self) -> str:
        return html.render_html(self, self.lang, max_rows=20, fragment=True)
