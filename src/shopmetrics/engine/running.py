"""Running a lazy frame: :func:`collect` (small aggregates only) and the engines' errors.

Everything that runs a query goes through :func:`collect`, which turns an exception of an
engine (polars, narwhals, DuckDB, pyarrow, pandas, PySpark) into an :class:`EngineError`
that names the table (the part of the ``what`` label before the colon, ``"orders:audit"``
→ ``orders``) and, when the engine's message names one, the column; the engine's own
exception is chained (``raise ... from``) for whoever needs it.

Examples:
    >>> err = wrap(ValueError("could not convert 'x' in column amount"), "orders:audit",
    ...            ["order_id", "amount"], engine="pandas")
    >>> err.table, err.column
    ('orders', 'amount')
    >>> print(str(err).split(": ValueError")[0])
    orders: the pandas engine failed in column 'amount' (orders:audit)
"""

from __future__ import annotations

import contextvars
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.errors import ShopmetricsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EngineError", "collect", "collect_spy", "engine_errors", "scalar", "wrap"]

_SPY: contextvars.ContextVar[list[tuple[str, int]] | None] = contextvars.ContextVar(
    "shopmetrics_collect_spy", default=None
)

_ENGINE_BASES: tuple[tuple[str, str], ...] = (
    ("polars.exceptions", "PolarsError"),
    ("narwhals.exceptions", "NarwhalsError"),
    ("duckdb", "Error"),
    ("pyarrow.lib", "ArrowException"),
    ("pyspark.errors", "PySparkException"),
    ("py4j.protocol", "Py4JError"),
)
"""Base classes of the engines' own exceptions (looked up only when already imported)."""


class EngineError(ShopmetricsError):
    """An engine failed on a user's table: the table and (when known) the column named.

    Attributes:
        table: The input table (``"orders"``, ...) or ``""`` when unknown.
        column: The column the engine's message names, or ``None``.
        what: The step that ran (the ``what`` label of :func:`collect`).
    """

    def __init__(self, message: str, *, table: str, column: str | None, what: str) -> None:
        self.table = table
        self.column = column
        self.what = what
        super().__init__(message)


def engine_errors() -> tuple[type[BaseException], ...]:
    """The exception types treated as an engine's: built-in errors a pandas or numpy
    operation raises, and the base class of every engine module already imported."""
    found: list[type[BaseException]] = [
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        ArithmeticError,
        NotImplementedError,
    ]
    for module, name in _ENGINE_BASES:
        mod = sys.modules.get(module)
        cls = getattr(mod, name, None) if mod is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def _column_in(message: str, names: Sequence[str]) -> str | None:
    """The first column (longest names first) that the engine's message names."""
    for name in sorted(names, key=len, reverse=True):
        if not name:
            continue
        if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", message):
            return name
    return None


def wrap(
    exc: BaseException,
    what: str,
    names: Sequence[str] = (),
    *,
    table: str = "",
    engine: str = "",
) -> EngineError:
    """The :class:`EngineError` for an engine's exception (raise it ``from exc``).

    Args:
        exc: The engine's exception.
        what: The step (``"orders:audit"``); its part before ``:`` names the table unless
            ``table`` is given.
        names: The columns of the frame, to find the one the message names.
        table: The table, when ``what`` does not say it.
        engine: The engine that ran (default: the exception's library).
    """
    table = table or (what.split(":", 1)[0] if what else "")
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    column = _column_in(" ".join(text[:20]), names)
    where = f"{table}: " if table else ""
    col = f" in column {column!r}" if column else ""
    step = f" ({what})" if what and what != table else ""
    engine = engine or type(exc).__module__.split(".")[0]
    engine = "the engine" if engine == "builtins" else f"the {engine} engine"
    msg = (
        f"{where}{engine} failed{col}{step}: "
        f"{type(exc).__name__}: {first[:300]}. This usually means a column holds values of "
        "the wrong type (text in a number or time column, numbers in an id column): run "
        "shopmetrics.validate(...) on the table to see each problem, or convert the column."
    )
    return EngineError(msg, table=table, column=column, what=what)


def _names(frame: nw.LazyFrame[Any]) -> list[str]:
    try:
        return list(frame.collect_schema().names())
    except engine_errors():
        return []


def engine_name(frame: nw.LazyFrame[Any]) -> str:
    """``polars``, ``duckdb``, ``pandas``, ... of a frame."""
    return str(frame.implementation).split(".")[-1].lower()


def collect(frame: nw.LazyFrame[Any], what: str = "") -> pd.DataFrame:
    """Run a lazy (aggregated) frame and return it as a small pandas table.

    Only aggregates come through here. Tests can wrap a call in :func:`collect_spy` to
    check the number of rows brought to the driver. An engine's exception becomes an
    :class:`EngineError` naming the table (``what = "orders:audit"``) and the column.
    """
    try:
        out = frame.collect().to_pandas()
    except ShopmetricsError:
        raise
    except engine_errors() as exc:
        raise wrap(exc, what, _names(frame), engine=engine_name(frame)) from exc
    spy = _SPY.get()
    if spy is not None:
        spy.append((what, len(out)))
    return out


def scalar(frame: nw.LazyFrame[Any], what: str = "") -> Any:
    """Collect a one-row, one-column aggregate as a Python value."""
    out = collect(frame, what)
    return out.iloc[0, 0] if len(out) else None


@contextmanager
def collect_spy() -> Iterator[list[tuple[str, int]]]:
    """Record ``(what, rows)`` for every :func:`collect` inside the block (for tests)."""
    log: list[tuple[str, int]] = []
    token = _SPY.set(log)
    try:
        yield log
    finally:
        _SPY.reset(token)
