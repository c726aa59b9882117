"""The weekly report's activity section: the activities that fall in the week, what each
added, what it cost, its verdict and the buyers it brought (:func:`shopmetrics.activity_effect`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from shopmetrics.activity import activity_effect
from shopmetrics.activity_table import read_activities
from shopmetrics.report.model import Section

if TYPE_CHECKING:
    from shopmetrics.engine import Table

__all__ = ["activity_section"]

_SUMMARY = (
    "activity",
    "start",
    "end",
    "cost",
    "incremental_paid_amount",
    "incremental_paid_amount_ci_low",
    "incremental_paid_amount_ci_high",
    "incremental_gross_profit",
    "after_gross_profit",
    "net_incremental_profit",
    "net_incremental_profit_ci_low",
    "net_incremental_profit_ci_high",
    "verdict",
)
_BUYERS = ("activity", "group", "buyers", "refund_rate", "low_rating_share", "repurchase_30d_rate")


def activity_section(
    events: Table | None,
    orders: Table,
    activities: Any,
    ratings: Table | None,
    week: tuple[dt.datetime, dt.datetime],
    tz: str | None,
) -> Section | None:
    """The section, or ``None`` when no activity ran in ``week`` (``[start, end)``)."""
    acts = read_activities(activities, tz)
    lo, hi = week[0].date(), (week[1] - dt.timedelta(days=1)).date()
    # an activity whose days or whose week after touch the reporting week
    touching = [a for a in acts if a.start <= hi and a.end + dt.timedelta(days=7) >= lo]
    if not touching:
        return None
    result = activity_effect(events, orders, acts, ratings=ratings, tz=tz)
    names = {a.name for a in touching}
    table = result.table[result.table["activity"].isin(names)]
    buyers = result.buyers
    tables = [
        (
            "Activities in or just before this week",
            table[[c for c in _SUMMARY if c in table.columns]],
        )
    ]
    if buyers is not None and len(buyers):
        b = buyers[buyers["activity"].isin(names)]
        tables.append(
            ("The buyers each activity brought", b[[c for c in _BUYERS if c in b.columns]])
        )
    return Section(
        key="activity",
        intro=(
            "What each activity added beyond what its products would have sold without it "
            "(a counterfactual from their own history), the dip after it, its cost, and "
            "whether it paid."
        ),
        tables=tables,
        flags=[f for f in result.flags if f.subject.get("activity") in names],
        notes=list(result.audit.notes),
    )
