"""The spend table in the engine: paid-traffic cost per group and period.

A spend table has a ``date``, a ``source`` and a ``cost`` per row (``campaign``,
``keyword``, ``exposures``, ``clicks`` optional). :func:`sum_spend` brings back the
cost, and the platform's own exposures and clicks, summed to the grouping and period
of :func:`shopmetrics.traffic.traffic_sources` and
:func:`shopmetrics.visitor_value.visitor_value`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw

from shopmetrics.audit import Exclusion
from shopmetrics.engine import periods, tables
from shopmetrics.engine.counting import Counts
from shopmetrics.engine.periods import PERIOD, Freq
from shopmetrics.engine.tables import Table
from shopmetrics.errors import SchemaError

__all__ = ["load_spend", "sum_spend"]


def load_spend(
    spend: Any, by: Sequence[str], columns: Mapping[str, str] | None, tz: str | None
) -> Table:
    """Load a spend table; it needs ``date``, ``source``, ``cost`` and every ``by`` column.

    Raises:
        ColumnNotFoundError: ``date``, ``source`` or ``cost`` is missing.
        SchemaError: a ``by`` column is missing.
    """
    sp = tables.load(spend, "spend", columns, tz)
    sp.require("date", "source", "cost", purpose="spend")
    missing = [c for c in by if not sp.has(c)]
    if missing:
        msg = f"spend: column(s) {missing} needed for by={list(by)!r} are not in the spend table"
        raise SchemaError(msg)
    return sp


def sum_spend(
    sp: Table,
    by: Sequence[str],
    freq: Freq,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> Counts:
    """``cost`` (and ``spend_exposures``, ``spend_clicks`` when the table has them) per
    group and period, rows dated outside ``[start, end)`` left out and counted.

    The table's keys are ``by + ["period"]``: the period is already its label.
    """
    by = list(by)
    rows = tables.count_rows(sp)
    excluded: list[Exclusion] = []
    frame = sp.frame
    if start is not None or end is not None:
        inside = periods.between("date", start, end)
        n_out = tables.count_rows(sp, ~inside)
        if n_out:
            excluded.append(Exclusion("spend", "outside range", n_out, "date outside [start, end)"))
        frame = frame.filter(inside)
    keys = [*by, PERIOD]
    frame = frame.with_columns(periods.period_key("date", freq).alias(PERIOD))
    aggs = [nw.col("cost").sum().alias("cost")]
    aggs += [nw.col(c).sum().alias(f"spend_{c}") for c in ("exposures", "clicks") if sp.has(c)]
    out = tables.collect(frame.group_by(keys).agg(*aggs), "traffic:spend")
    out["period"] = [periods.period_label(int(k), freq) for k in out[PERIOD]]
    return Counts(out.drop(columns=[PERIOD]), [*by, "period"], excluded, {"spend": rows})
