"""One call from the tables to the weekly report (kept here for existing imports).

The code lives in :mod:`shopmetrics.report.weekly`.
"""

from shopmetrics.report.weekly import last_complete_week, weekly_report

__all__ = ["last_complete_week", "weekly_report"]
