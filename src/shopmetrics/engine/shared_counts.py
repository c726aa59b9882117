"""Event counts computed once for several funnels, and read by each of them.

A caller that runs the funnel several times on the same events (the weekly report: the
store by day and by week, by source, by product) can compute the collected
:func:`~shopmetrics.engine.counting.events_query` of every grain it needs beforehand, in
one engine run, and declare them with :func:`use_shared_counts`; inside the block
:func:`~shopmetrics.engine.counting.count_events` reads a declared grain of that very
table from there (:func:`shared_raw`) instead of running its own pass. A grain not
declared, another table, or no declaration: the funnel runs its own pass.

The tables declared must be what ``events_query`` collects for the grain over the whole
table (its counts, its sentinel groups of rows left out): the caller is responsible, and
tests it (:mod:`shopmetrics.report.shared` and ``tests/test_report_shared.py``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine.periods import Freq
    from shopmetrics.engine.tables import Table

__all__ = ["GrainKey", "shared_raw", "use_shared_counts"]

GrainKey = tuple[tuple[str, ...], "Freq", dt.datetime | None, dt.datetime | None]
"""``(by, freq, start, end)`` of one funnel's event counts, ``start`` / ``end`` as the
funnel parsed them (:func:`~shopmetrics.engine.periods.parse_bound`)."""

_SHARED: contextvars.ContextVar[tuple[Table, Mapping[GrainKey, pd.DataFrame]] | None] = (
    contextvars.ContextVar("shopmetrics_shared_counts", default=None)
)


@contextmanager
def use_shared_counts(events: Table, raws: Mapping[GrainKey, pd.DataFrame]) -> Iterator[None]:
    """Inside the block, a funnel over ``events`` at a grain of ``raws`` reads its
    collected event counts from ``raws``."""
    token = _SHARED.set((events, raws))
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared_raw(
    events: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> pd.DataFrame | None:
    """The declared collected counts of this grain of this very table (a copy), else ``None``."""
    shared = _SHARED.get()
    if shared is None or shared[0] is not events:
        return None
    raw = shared[1].get((tuple(by), freq, start, end))
    return None if raw is None else raw.copy()
