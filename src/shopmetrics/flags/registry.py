"""Which detectors run for a result: the registry of the funnel's misleading-data flags.

A :class:`~shopmetrics.flags.finding.Flag` has the same shape as a validation problem: a
reason ``code``, a ``severity``, the ``subject`` (product, source, period, ...), a
``message``, the ``evidence`` numbers and the figure to use ``instead``.

The funnel's detectors, grouped by the table they read (each tested on data with its
trap and on data without):

- :mod:`shopmetrics.flags.funnel` (the funnel's own table): ``small_sample``,
  ``impossible_rate``, ``summed_uniques`` (with a ``traffic`` export), ``mix_shift``.
- :mod:`shopmetrics.flags.events`: ``tracking_gap`` (a day with (almost) no events while
  its neighbours have many; with :mod:`shopmetrics.flags.corrected`, the period's
  conversion and its comparison without the day's buyers) and ``bot_traffic`` (visitors
  with abnormal event counts in a day, judged against the visitor-days that do not look
  automated; :mod:`shopmetrics.flags.bots` names the product and source they hit, with
  its rates with and without them).
- :mod:`shopmetrics.flags.orders`: ``presale_zero_payment``, ``order_brushing`` (刷单),
  ``immature_period``.

:func:`detect_funnel` runs those its inputs allow. The event detectors read aggregates
the funnel collected with its own counts (``shared``), so clean events are read once.
Traffic and visitor value add their own (:mod:`shopmetrics.flags.spend`,
:mod:`shopmetrics.flags.value`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shopmetrics.flags.events import (
    HIST,
    bot_traffic,
    run_event_queries,
    shared_views,
    tracking_gap,
)
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.flags.funnel import impossible_rate, mix_shift, small_sample, summed_uniques
from shopmetrics.flags.orders import immature_period, order_brushing, presale_zero_payment

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table
    from shopmetrics.results import Result

__all__ = ["detect_funnel"]


def detect_funnel(
    result: Result,
    *,
    events: Table | None = None,
    orders: Table | None = None,
    traffic: Table | None = None,
    shared: Mapping[str, pd.DataFrame] | None = None,
) -> list[Flag]:
    """Run every funnel detector that its inputs allow.

    ``shared``: the event detectors' aggregates (:func:`shopmetrics.flags.events.
    event_queries`), collected by the funnel with its own counts; collected here when
    absent.
    """
    t0, t1 = result.meta.get("start"), result.meta.get("end")
    out: list[Flag] = []
    out += small_sample(result)
    out += impossible_rate(result)
    out += mix_shift(result)
    if traffic is not None:
        out += summed_uniques(result)
    # the order detectors first: they do not read ``shared``, which may still be running
    # beside the funnel (shopmetrics.engine.background)
    if orders is not None:
        out += order_brushing(orders, events, t0, t1, result=result)
        out += immature_period(orders, t0, t1)
    if events is not None:
        got = shared_views(shared) if shared is not None else run_event_queries(events, t0, t1)
        out += tracking_gap(events, t0, t1, orders=orders, hist=got[HIST], result=result)
        out += bot_traffic(events, t0, t1, shared=got, result=result)
    if orders is not None:
        out += presale_zero_payment(result, orders, events, traffic, shared)
    return list(sort_flags(out))
