"""A daily series read from the user's input: a pandas Series indexed by date, or a table.

:func:`to_series` turns either into a float series indexed by naive, normalised dates in
the store's time zone, one value per day, for :func:`shopmetrics.anomaly.anomalies`. A
table (pandas, pyarrow, polars, DuckDB, PySpark, or a Parquet / CSV path, read as every
other table is) is read through narwhals; the series is small
(one value a day), so it comes back whole.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.config import get_config
from shopmetrics.engine.reading import source_of
from shopmetrics.engine.running import collect, normalize, record
from shopmetrics.errors import ColumnNotFoundError, SchemaError, ShopmetricsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["to_series"]

_DATE_NAMES = ("date", "日期", "统计日期")
"""Column names taken for the date column of a table (besides datetime columns)."""


def to_series(series: Any, date: str | None, value: str | None) -> tuple[pd.Series, str]:
    """A float series indexed by naive dates, from a Series or a two-column table.

    Args:
        series: A pandas Series indexed by date, or a table with a date and a value column.
        date: The table's date column (found automatically when it is the only datetime
            column, is named ``date``, ``日期`` or ``统计日期``, or is the first of two).
        value: The table's value column (found automatically when it is the only other).

    Returns:
        ``(series, name)``: the values (NaN where not numeric), sorted by day, and the name of
        the measure.

    Raises:
        SchemaError: The input is not a series or table, or has rows without a date.
        ColumnNotFoundError: ``date`` or ``value`` is not a column of the table.
        ShopmetricsError: A date appears more than once.
    """
    import pandas as pd  # noqa: PLC0415 - the series is small (one value a day)

    if isinstance(series, pd.Series):
        s, name = _from_pandas(series)
    else:
        s, name = _from_table(series, date, value)
    return _daily(s), name


def _from_pandas(series: pd.Series) -> tuple[pd.Series, str]:
    import pandas as pd  # noqa: PLC0415

    name = str(series.name) if series.name is not None else "value"
    s = series.copy()
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(s.index))
    except (TypeError, ValueError) as exc:
        msg = (
            "series: the index must hold dates (a DatetimeIndex or date strings); "
            "pass a Series indexed by date or a table with a date and a value column"
        )
        raise SchemaError(msg) from exc
    s.index = idx
    return s, name


def _from_table(series: Any, date: str | None, value: str | None) -> tuple[pd.Series, str]:
    import pandas as pd  # noqa: PLC0415

    if isinstance(series, str | os.PathLike):  # a Parquet or CSV file, as every table
        frame: Any = source_of(series, "series", None).frame
    else:
        frame = _native(series)
    if isinstance(frame, nw.LazyFrame):  # DuckDB, Spark, polars lazy: one collect, in the ledger
        df = collect(frame, "series:table", table="series")
    elif isinstance(frame, nw.DataFrame):  # an eager table, read into pandas the same way
        df = normalize(frame.to_pandas())
        record("series:table", len(df), table="series")
    else:
        msg = f"series: expected a table, got a {type(frame).__name__}"
        raise SchemaError(msg)
    date, value = _columns(df, date, value)
    s = pd.Series(
        pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        index=pd.DatetimeIndex(pd.to_datetime(df[date])),
    )
    return s, value


def _native(series: Any) -> Any:
    try:
        return nw.from_native(series)
    except TypeError as exc:
        msg = (
            f"series: cannot read a {type(series).__name__}; pass a pandas Series indexed "
            "by date or a two-column table (date, value)"
        )
        raise SchemaError(msg) from exc


def _columns(df: pd.DataFrame, date: str | None, value: str | None) -> tuple[str, str]:
    """The date and the value columns: the ones given, or the ones the table makes plain."""
    import pandas as pd  # noqa: PLC0415

    cols = [str(c) for c in df.columns]
    if date is None:
        dated = [
            c for c in cols
            if pd.api.types.is_datetime64_any_dtype(df[c]) or c in _DATE_NAMES
        ]  # fmt: skip
        if len(dated) != 1 and len(cols) == 2:
            dated = [cols[0]]
        if len(dated) != 1:
            msg = (
                f"series: cannot tell which column holds the date among {cols}; "
                "pass date='your_date_column' and value='your_value_column'"
            )
            raise SchemaError(msg)
        date = dated[0]
    if value is None:
        rest = [c for c in cols if c != date]
        if len(rest) != 1:
            msg = f"series: which column holds the value among {rest}? Pass value='name'"
            raise SchemaError(msg)
        value = rest[0]
    for c in (date, value):
        if c not in cols:
            raise ColumnNotFoundError("series", c, cols, purpose="anomalies")
    return date, value


def _daily(s: pd.Series) -> pd.Series:
    """Values as floats on naive, normalised days (store time zone), one per day, sorted."""
    import pandas as pd  # noqa: PLC0415

    idx = pd.DatetimeIndex(s.index)
    if idx.tz is not None:
        tz = get_config().tz
        idx = pd.DatetimeIndex((idx.tz_convert(tz) if tz else idx).tz_localize(None))
    no_date = int(np.asarray(idx.isna()).sum())
    if no_date:
        msg = f"series: {no_date} rows have no date; drop or fix them first"
        raise SchemaError(msg)
    s.index = idx.normalize()
    values = pd.to_numeric(s, errors="coerce").astype(np.float64)
    dup = values.index.duplicated(keep=False)
    if dup.any():
        days = sorted({d.strftime("%Y-%m-%d") for d in values.index[dup]})
        msg = (
            f"series: {len(days)} dates appear more than once (e.g. {days[:3]}); a daily series "
            "needs one value per day: aggregate first, e.g. df.groupby('date')['value'].sum()"
        )
        raise ShopmetricsError(msg)
    return values.sort_index()
