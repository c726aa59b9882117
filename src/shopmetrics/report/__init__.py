"""The weekly report: its model, labels, charts and renderings (HTML, Markdown, Excel).

Modules:
    document: :class:`Report`, :class:`Headline`, :class:`Section`: what a report holds.
    weekly: :func:`~shopmetrics.report.weekly.weekly_report`, from the tables to a report.
    labels: every word a reader sees, in English and Chinese.
    charts: the inline SVG charts.
    render: HTML, Markdown and Excel renderings.
"""

from shopmetrics.report.charts import BarChart, Chart, LineChart, Series, TrendChart
from shopmetrics.report.document import Headline, Report, Section

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
