"""The weekly report: its model, labels, charts and renderings (HTML, Markdown, Excel).

Modules:
    model: :class:`Headline`, :class:`Section` and the report's content: what a report holds.
    document: :class:`Report`: the content with its renderings.
    weekly: :func:`~shopmetrics.report.weekly.weekly_report`, from the tables to a report.
    sections: one builder per section of the weekly report.
    figures: the figures several sections show, computed once (metrics as rows, top
        products, the traffic-mix decompositions on the headline's base).
    corrected: the store's weeks recounted without what a flag says misleads.
    story: the ten-second story (en / zh) and one action per flag.
    summary: the corrected headline, the story and the banner as the first section.
    labels: every word a reader sees, in English and Chinese (with ``labels_flags``, the
        flags' titles and actions, and ``labels_phrases``, the sections' sentences).
    format: the display rule of each kind of figure, tables laid out one metric a row.
    charts: the inline SVG charts; svg: their drawing pieces (axes, ticks, escaping).
    html: the HTML page, from the Jinja2 templates in ``templates/``.
    markdown: the Markdown rendering.
    excel: the Excel workbook.

The names below are loaded on first use, so that the label layer (``labels``,
``format``), which the notebook views of results use, loads without the renderers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopmetrics.report.charts import BarChart, Chart, LineChart, Series, TrendChart
    from shopmetrics.report.document import Report
    from shopmetrics.report.model import Headline, Section

__all__ = [
    "BarChart",
    "Chart",
    "Headline",
    "LineChart",
    "Report",
    "Section",
    "Series",
    "TrendChart",
]

_WHERE = {
    "BarChart": "charts",
    "Chart": "charts",
    "LineChart": "charts",
    "Series": "charts",
    "TrendChart": "charts",
    "Report": "document",
    "Headline": "model",
    "Section": "model",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"shopmetrics.report.{_WHERE[name]}"), name)
    msg = f"module 'shopmetrics.report' has no attribute {name!r}"
    raise AttributeError(msg)
