"""The queries behind ``sm.validate``: offending rows with examples, repeated keys, distinct values.

Each runs on the lazy frame of one loaded table and brings back only counts and a few
example rows (as pandas), whatever the engine. What is checked and what is said about it
stays in :mod:`shopmetrics.validation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.engine import running
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
    values = running.distinct(frame.select(nw.col(col)))
    if sort:
        values = values.sort(col)
    return collect(values, label)[col]


# ---------------------------------------------------------------- typed columns

MISSING_TEXT: tuple[str, ...] = ("", "-", "--", "—", "——", "－", "－－")
"""Cell texts that mean "no value" (the same set as :data:`shopmetrics.io.values.MISSING`,
which this layer cannot import without pandas: a test keeps the two equal)."""

BLANKS = " \t\r\n\u00a0\u3000"
"""Characters trimmed from both ends of a cell (ASCII white space, no-break and ideographic
spaces): given explicitly, as engines disagree on what white space is."""

_CURRENCY = "[¥￥元]"
"""Currency signs, removed before a text is read as a number."""

NUMBER_PATTERN = (
    r"^[+-]?(?:(?:[0-9]{1,3}(?:[,，][0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
)
"""A plain number, once trimmed and cleared of currency signs, with or without thousands
separators (``1234``, ``-5``, ``12,345.00``, ``.5``, ``1e-05``; not ``1,2,3``)."""

_DAY = r"[0-9]{4}[-/.年](?:0?[1-9]|1[0-2])[-/.月](?:0?[1-9]|[12][0-9]|3[01])日?"
_COMPACT_DAY = r"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"(?:T| +)(?:[01]?[0-9]|2[0-3])[:时][0-5]?[0-9](?:[:分][0-5]?[0-9](?:\.[0-9]+)?秒?|分)?"
_ZONE = r" *(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
TIME_PATTERN = "^(?:" + _DAY + "|" + _COMPACT_DAY + ")(?:" + _CLOCK + "(?:" + _ZONE + ")?)?$"
"""A date or a date and time as store back-ends write them (``2026-11-01``, ``20261101``,
``2026/11/1 9:05``, ``2026.11.01``, ``2026年11月01日 08时30分``, ISO ``T`` times, an optional
UTC offset): the forms :func:`shopmetrics.io.values.parse_times` reads. Months, days,
hours and minutes are checked for range; days are not checked against their month."""

AWARE_PATTERN = _CLOCK + _ZONE + "$"
"""A time with a UTC offset (``Z``, ``+08:00``, ``+0800``): an aware timestamp."""


def _flag(expr: nw.Expr) -> nw.Expr:
    """A condition with nulls read as false (filters and sums treat them alike everywhere)."""
    return expr.fill_null(value=False)


@dataclass(frozen=True, slots=True)
class TextNumbers:
    """A text column read as numbers by one portable rule (narwhals string expressions).

    Attributes:
        missing: The cell is null or a missing marker (:data:`MISSING_TEXT`).
        bad: The cell holds text that is not a plain number (:data:`NUMBER_PATTERN`)
            once trimmed of :data:`BLANKS` and cleared of ``¥`` / ``￥`` / ``元``.
        value: The number (``Float64``); null where missing or bad.
    """

    missing: nw.Expr
    bad: nw.Expr
    value: nw.Expr


def text_numbers(col: str) -> TextNumbers:
    """The rule of :class:`TextNumbers` for the text column ``col``."""
    trimmed = nw.col(col).str.strip_chars(BLANKS)
    bare = trimmed.str.replace_all(_CURRENCY, "")
    missing = _flag(nw.col(col).is_null() | trimmed.is_in(MISSING_TEXT))
    number = _flag(bare.str.contains(NUMBER_PATTERN)) & ~missing
    value = nw.when(number).then(bare.str.replace_all("[,，]", "")).cast(nw.Float64())
    return TextNumbers(missing, ~missing & ~number, value)


def text_times(col: str) -> tuple[nw.Expr, nw.Expr, nw.Expr]:
    """For the text column ``col``: cells that are not a date or time (see
    :data:`TIME_PATTERN`), aware times (with a UTC offset) and naive ones."""
    trimmed = nw.col(col).str.strip_chars(BLANKS)
    missing = _flag(nw.col(col).is_null() | trimmed.is_in(MISSING_TEXT))
    valid = _flag(trimmed.str.contains(TIME_PATTERN)) & ~missing
    aware = valid & _flag(trimmed.str.contains(AWARE_PATTERN))
    return ~missing & ~valid, aware, valid & ~aware


def count_where(frame: nw.LazyFrame[Any], conds: Sequence[nw.Expr], label: str) -> list[int]:
    """The number of rows where each condition holds, in one pass over ``frame``."""
    if not conds:
        return []
    counts = collect(
        frame.select(
            *(_flag(c).cast(nw.Int64()).sum().alias(f"_c{i}") for i, c in enumerate(conds))
        ),
        label,
    )
    if not len(counts):
        return [0] * len(conds)
    return [as_count(v) for v in counts.iloc[0].tolist()]


def as_count(value: Any) -> int:
    """A collected count as an int: 0 for the null sum of no rows."""
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def example_rows(
    frame: nw.LazyFrame[Any], cond: nw.Expr, cols: list[str], n_examples: int
) -> list[dict[Any, Any]]:
    """The first ``n_examples`` rows where ``cond`` holds (``cols`` only), ordered by the
    columns that can be sorted, so the same rows come back whatever the engine."""
    schema = frame.collect_schema()
    order = [c for c in cols if _sortable(schema[c])]
    bad = frame.filter(_flag(cond)).select(cols)
    if order:
        bad = bad.sort(order, nulls_last=True)
    return collect(bad.head(n_examples), "validate:examples").to_dict("records")


def _sortable(dtype: Any) -> bool:
    return bool(
        dtype.is_numeric()
        or isinstance(dtype, nw.Datetime)
        or dtype in (nw.String, nw.Date, nw.Boolean)
    )
