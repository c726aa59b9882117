"""Conversions of small pandas tables (results) to other engines' frames: pyarrow, polars.

Results hold pandas tables; :meth:`shopmetrics.results.Result.to_arrow` and
:meth:`~shopmetrics.results.Result.to_polars` hand them out through these functions, so
that only the engine package imports an engine library. Every conversion (and
:func:`normalized`, behind ``to_pandas`` and ``to_json``) gives the same types whatever
engine held the data: counts int64, money float64, datetimes in microseconds
(:func:`shopmetrics.engine.running.normalize`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopmetrics.engine import deps
from shopmetrics.engine.running import normalize

if TYPE_CHECKING:
    import pandas as pd


def normalized(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with the same types whatever engine made it (int64 counts,
    float64 money, ``datetime64[us]``)."""
    out = normalize(table)
    return out.copy(deep=True) if out is table else out


def to_arrow(table: pd.DataFrame) -> Any:
    """``table`` as a ``pyarrow.Table`` (without the pandas index), types normalised."""
    import pyarrow as pa  # noqa: PLC0415

    return pa.Table.from_pandas(normalize(table), preserve_index=False)


def to_polars(table: pd.DataFrame, purpose: str = "to_polars()") -> Any:
    """``table`` as a ``polars.DataFrame``, through Arrow (needs the ``polars`` extra)."""
    pl = deps.need("polars", purpose)
    return pl.from_arrow(to_arrow(table))
