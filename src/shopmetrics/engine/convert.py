"""Conversions of small pandas tables (results) to other engines' frames: pyarrow, polars.

Results hold pandas tables; :meth:`shopmetrics.results.Result.to_arrow` and
:meth:`~shopmetrics.results.Result.to_polars` hand them out through these functions, so
that only the engine package imports an engine library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopmetrics.engine import deps

if TYPE_CHECKING:
    import pandas as pd


def to_arrow(table: pd.DataFrame) -> Any:
    """``table`` as a ``pyarrow.Table`` (without the pandas index)."""
    import pyarrow as pa  # noqa: PLC0415

    return pa.Table.from_pandas(table, preserve_index=False)


def to_polars(table: pd.DataFrame, purpose: str = "to_polars()") -> Any:
    """``table`` as a ``polars.DataFrame``, through Arrow (needs the ``polars`` extra)."""
    pl = deps.need("polars", purpose)
    return pl.from_arrow(to_arrow(table))
