"""The queries behind ``sm.validate``: offending rows with examples, repeated keys, distinct values.

Each runs on the lazy frame of one loaded table and brings back only counts and a few
example rows (as pandas), whatever the engine. What is checked and what is said about it
stays in :mod:`shopmetrics.validation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.engine.tables import collect, scalar

if TYPE_CHECKING:
    import pandas as pd


def offending_rows(
    frame: nw.LazyFrame[Any], cond: nw.Expr, cols: list[str], n_examples: int
) -> tuple[int, list[dict[Any, Any]]]:
    """Rows where ``cond`` holds: their number and the first ``n_examples`` (``cols`` only)."""
    bad = frame.filter(cond)
    n = int(scalar(bad.select(nw.len()), "validate:count") or 0)
    if n == 0:
        return 0, []
    ex = collect(bad.select(cols).head(n_examples), "validate:examples")
    return n, ex.to_dict("records")


def repeated_keys(
    frame: nw.LazyFrame[Any], key: list[str], n_examples: int
) -> tuple[int, int, list[dict[Any, Any]]]:
    """Key values on more than one row: how many, the extra rows, the first few with ``copies``."""
    dup = frame.group_by(key).agg(nw.len().alias("copies")).filter(nw.col("copies") > 1)
    n_keys = int(scalar(dup.select(nw.len()), "validate:dups") or 0)
    if not n_keys:
        return 0, 0, []
    ex_frame = collect(dup.sort(key).head(n_examples), "validate:dups")
    extra = int(scalar(dup.select((nw.col("copies") - 1).sum()), "validate:dups") or 0)
    return n_keys, extra, ex_frame.to_dict("records")


def value_counts(frame: nw.LazyFrame[Any], col: str, label: str) -> pd.DataFrame:
    """Rows per value of ``col`` (columns ``col`` and ``rows``)."""
    return collect(frame.group_by(col).agg(nw.len().alias("rows")), label)


def distinct_values(
    frame: nw.LazyFrame[Any], col: str, label: str, *, sort: bool = False
) -> pd.Series[Any]:
    """The distinct values of ``col`` (sorted in the engine when ``sort``), with nulls."""
    distinct = frame.select(nw.col(col)).unique()
    if sort:
        distinct = distinct.sort(col)
    return collect(distinct, label)[col]
