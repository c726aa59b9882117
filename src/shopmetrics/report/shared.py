"""The weekly report's event counts: every grain its funnels need, from one engine run.

The report runs the funnel at several grains of the same events: the store by day (seven
weeks, for the trend), the store by week (this week and the one before, with the
detectors), by source (the traffic sources, and their de-duplicated total, which is the
store's weeks again) and by product. :func:`report_event_counts` computes the counts of
all of them together (one :func:`~shopmetrics.engine.counting.collect_many`: one
``polars.collect_all`` on polars) and declares them
(:func:`~shopmetrics.engine.shared_counts.use_shared_counts`), so each funnel reads its
grain instead of scanning the events again.

Each grain is the funnel's own query (:func:`~shopmetrics.engine.counting.events_query`)
run on the rows of its range only: the two weeks' grains do not hash the six weeks
before. The rows outside a range are counted once per range and put back as the
sentinel group the whole-table query gives them (period key ``EXCLUDED - 1``), so the
counts, the rows read and the rows left out are the funnel's own
(``tests/test_report_shared.py`` compares them with the funnel's pass). Unique counts
stay each grain's own distinct counts: nothing is added across grains.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.engine import periods
from shopmetrics.engine.counting import EXCLUDED, collect_many, events_query
from shopmetrics.engine.periods import PERIOD
from shopmetrics.engine.shared_counts import GrainKey, use_shared_counts

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Table

__all__ = ["event_counts", "report_event_counts"]


@contextmanager
def report_event_counts(events: Table | None, grains: Sequence[GrainKey]) -> Iterator[None]:
    """Compute ``grains`` of ``events`` in one run; inside the block the funnels over
    ``events`` read them (nothing is shared without events)."""
    if events is None or not grains:
        yield
        return
    with use_shared_counts(events, event_counts(events, grains)):
        yield


def event_counts(events: Table, grains: Sequence[GrainKey]) -> dict[GrainKey, pd.DataFrame]:
    """Every grain's collected :func:`~shopmetrics.engine.counting.events_query`, as over
    the whole table, each computed on the rows of its range; one engine run."""
    import pandas as pd  # noqa: PLC0415 - pandas only when collecting

    keys = list(dict.fromkeys((tuple(by), f, a, b) for by, f, a, b in grains))
    ranges = list(dict.fromkeys((k[2], k[3]) for k in keys if _ranged(k)))
    frames: dict[str, nw.LazyFrame[Any]] = {}
    for i, (by, freq, start, end) in enumerate(keys):
        rows = events
        if start is not None or end is not None:
            rows = events.with_frame(events.frame.filter(periods.between("ts", start, end)))
        frames[f"funnel:events ({i})"] = events_query(rows, by, freq, start, end)[0]
    if ranges:  # the rows each range leaves out (null ts included), all in one aggregate
        frames["funnel:events (outside)"] = events.frame.select(
            *(
                (~periods.between("ts", a, b) | nw.col("ts").is_null())
                .cast(nw.Int64())
                .sum()
                .alias(f"_out_{j}")
                for j, (a, b) in enumerate(ranges)
            )
        )
    got = collect_many(frames)
    out: dict[GrainKey, pd.DataFrame] = {}
    for i, key in enumerate(keys):
        raw = got[f"funnel:events ({i})"]
        if _ranged(key):
            n = got["funnel:events (outside)"][f"_out_{ranges.index((key[2], key[3]))}"].iloc[0]
            n = 0 if n is None or pd.isna(n) else int(n)
            if n:  # the sentinel group of the rows outside the range, as the full query has it
                raw = pd.concat([raw, _outside_row(raw, key[0], n)], ignore_index=True)
        out[key] = raw
    return out


def _ranged(key: GrainKey) -> bool:
    return key[2] is not None or key[3] is not None


def _outside_row(raw: pd.DataFrame, by: Sequence[str], rows: int) -> pd.DataFrame:
    """One row of ``raw``'s columns and types: ``rows`` rows left out for their time
    (period key ``EXCLUDED - 1``), the group columns null, every count 0 (the counts of a
    group left out are not read)."""
    import pandas as pd  # noqa: PLC0415

    cols = {}
    for c in raw.columns:
        if c in by:
            cols[c] = pd.Series([None], dtype=raw[c].dtype)
        else:
            value = EXCLUDED - 1 if c == PERIOD else rows if c == "_rows" else 0
            cols[c] = pd.Series([value], dtype=raw[c].dtype)
    return pd.DataFrame(cols)
