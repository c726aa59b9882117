"""Running a lazy frame: :func:`collect` (small aggregates only) and the engines' errors.

Everything that runs a query goes through :func:`collect`, which turns an exception of an
engine (polars, narwhals, DuckDB, pyarrow, pandas, PySpark) into an :class:`EngineError`
that names the table (the part of the ``what`` label before the colon, ``"orders:audit"``
→ ``orders``) and, when the engine's message names one, the column; the engine's own
exception is chained (``raise ... from``) for whoever needs it. :func:`collect` also gives
every engine the same types (:func:`normalize`: counts int64, money float64, times in
microseconds) and writes what it brought back in the ledger of the running public call
(:func:`records_collects`), which puts it in the result's
:attr:`~shopmetrics.audit.Audit.collected`.

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
import dataclasses
import decimal
import functools
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Audit, Collected
from shopmetrics.errors import ShopmetricsError
from shopmetrics.schema import TABLES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TIME_UNIT",
    "EngineError",
    "collect",
    "collect_spy",
    "distinct",
    "engine_errors",
    "normalize",
    "record",
    "records_collects",
    "scalar",
    "wrap",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

TIME_UNIT = "us"
"""The one unit of every datetime a result holds (Spark, DuckDB and Parquet store
microseconds; pandas' nanoseconds beyond them are cut)."""

_SPY: contextvars.ContextVar[list[tuple[str, int]] | None] = contextvars.ContextVar(
    "shopmetrics_collect_spy", default=None
)
_LEDGER: contextvars.ContextVar[list[Collected] | None] = contextvars.ContextVar(
    "shopmetrics_collect_ledger", default=None
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
    msg = f"{where}{engine} failed{col}{step}: {type(exc).__name__}: {first[:300]}. " + (
        _MEMORY_HINT
        if _out_of_memory(exc, first)
        else "This usually means a column holds values of the wrong type (text in a number "
        "or time column, numbers in an id column): run shopmetrics.validate(...) on the "
        "table to see each problem, or convert the column."
    )
    return EngineError(msg, table=table, column=column, what=what)


_MEMORY_HINT = (
    "The engine ran out of memory: raise the limit (sm.config_context(memory_limit='8GB') "
    "for the files shopmetrics opens with DuckDB, or SET memory_limit on your own DuckDB "
    "connection), make sure DuckDB's temp_directory has free disk to spill to, or read "
    "fewer days or columns at a time (start=, end=)."
)


def _out_of_memory(exc: BaseException, first: str) -> bool:
    """An engine's out-of-memory error (DuckDB ``OutOfMemoryException``, Python's
    ``MemoryError``, polars/Spark messages saying so)."""
    name = type(exc).__name__.lower()
    return isinstance(exc, MemoryError) or "outofmemory" in name or "out of memory" in first.lower()


def _names(frame: nw.LazyFrame[Any]) -> list[str]:
    try:
        return list(frame.collect_schema().names())
    except engine_errors():
        return []


def engine_name(frame: nw.LazyFrame[Any]) -> str:
    """``polars``, ``duckdb``, ``pandas``, ... of a frame."""
    return str(frame.implementation).split(".")[-1].lower()


def collect(frame: nw.LazyFrame[Any], what: str = "", *, table: str = "") -> pd.DataFrame:
    """Run a lazy (aggregated) frame and return it as a small pandas table.

    Only aggregates come through here. The rows are written in the ledger of the running
    public call (its audit's ``collected``, from ``table``, or the table ``what`` names)
    and in :func:`collect_spy`'s log; the columns get the same types on every engine
    (:func:`normalize`). An engine's exception becomes an :class:`EngineError` naming the
    table (``what = "orders:audit"``) and the column.
    """
    try:
        out = normalize(eager_to_pandas(frame.collect()))
    except ShopmetricsError:
        raise
    except engine_errors() as exc:
        raise wrap(exc, what, _names(frame), engine=engine_name(frame)) from exc
    record(what, len(out), table=table)
    return out


def table_of(what: str) -> str:
    """The input table a step's label names: ``"orders:audit"`` and ``"funnel:orders"``
    give ``orders``; a label naming none gives its prefix (``"attribution"``).

    Examples:
        >>> table_of("funnel:events"), table_of("validate:ratings:times"), table_of("dsr:audit")
        ('events', 'ratings', 'ratings')
    """
    parts = [p for p in re.split(r"[:\s()]+", what) if p]
    for part in parts:
        if part in TABLES:
            return part
    if what in _STEP_TABLES:
        return _STEP_TABLES[what]
    prefix = parts[0] if parts else ""
    return _STEP_TABLES.get(prefix, prefix)


_ORDER_STEPS = [
    "flags:presale_ids",
    "flags:brushing_windows",
    "flags:brushing_orders",
    "flags:last_order",
    "flags:pay_lag",
    "flags:recent_unpaid",
    "repurchase",
    "value",
    "traffic:recorded",
    "traffic:roi",
]
_STEP_TABLES: dict[str, str] = {
    **dict.fromkeys(("flags", "flags:bots", "flags:bot_share", "flags:bot_visitors",
                     "flags:visitor_day_bins", "flags:brushing_visits"), "events"),
    **dict.fromkeys(_ORDER_STEPS, "orders"),
    **dict.fromkeys(("dsr", "dsr:brushing_days", "dsr:brushing_rows"), "ratings"),
    "attribution": "events x orders",
    "funnel": "events x orders",
}  # fmt: skip
"""Steps whose label names no input table: the table they read."""


def record(what: str, rows: int, *, table: str = "", kind: str = "collected") -> None:
    """Write ``rows`` brought to the driver (``kind="moved"``: copied into another engine)
    in the running call's ledger and in :func:`collect_spy`'s log."""
    spy = _SPY.get()
    if spy is not None:
        spy.append((what, rows))
    ledger = _LEDGER.get()
    if ledger is not None:
        ledger.append(Collected(what, table or table_of(what), int(rows), kind))


def records_collects(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a public function: its result's audit states what the call collected.

    Every :func:`collect` (and copy across engines) inside the call, nested public calls
    included, lands in ``result.audit.collected``; a nested call's entries count for the
    outer call too. The wrapper keeps the function's module globals (``__globals__``), so
    it still reads as a function of its own module.
    """
    run = functools.partial(_run_recorded, fn)

    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return run(*args, **kwargs)  # type: ignore[no-any-return]

    # same code and closure (``run`` only, no global names), the wrapped function's globals
    wrapped = types.FunctionType(
        wrapper.__code__, fn.__globals__, fn.__name__, None, wrapper.__closure__
    )
    return functools.update_wrapper(wrapped, fn)


def _run_recorded(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    log: list[Collected] = []
    token = _LEDGER.set(log)
    try:
        out = fn(*args, **kwargs)
    finally:
        _LEDGER.reset(token)
        outer = _LEDGER.get()
        if outer is not None:
            outer.extend(log)
    audit = getattr(out, "audit", None)
    if isinstance(audit, Audit) and dataclasses.is_dataclass(out):
        # the result was made by this call: give it its ledger (frozen, so set directly)
        object.__setattr__(out, "audit", dataclasses.replace(audit, collected=tuple(log)))
    return out


def distinct(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The distinct rows of a lazy frame (``frame.unique()``), in the engine's own form.

    narwhals writes ``unique()`` on DuckDB as ``row_number() OVER (PARTITION BY every
    column) = 1``: a window over all rows, 3-4x a ``SELECT DISTINCT`` (a hash
    aggregation) on 10M events. There the relation's own ``distinct()`` is used; every
    other engine's ``unique()`` already is its distinct.

    Examples:
        >>> import narwhals.stable.v2 as nw, pandas as pd
        >>> f = nw.from_native(pd.DataFrame({"a": [1, 1, 2], "b": ["x", "x", "y"]})).lazy()
        >>> sorted(map(tuple, distinct(f).collect().to_pandas().values.tolist()))
        [(1, 'x'), (2, 'y')]
    """
    if frame.implementation is nw.Implementation.DUCKDB:
        out: nw.LazyFrame[Any] = nw.from_native(frame.to_native().distinct())
        return out
    return frame.unique()


def with_columns(table: pd.DataFrame, columns: Mapping[str, Any]) -> pd.DataFrame:
    """``table`` with ``columns`` set (replaced in place, new ones after the others), the
    arrays taken as they are: one concatenation, where setting them one by one copies
    each (pandas 3) and rebuilds the frame's column index each time."""
    import pandas as pd  # noqa: PLC0415 - a core dependency, imported when used

    if not columns:
        return table
    kept = table.drop(columns=[c for c in columns if c in table.columns])
    added = pd.DataFrame(dict(columns), index=table.index, copy=False)
    out = pd.concat([kept, added], axis=1)
    order = [*table.columns, *(c for c in columns if c not in table.columns)]
    return out if list(out.columns) == order else out[order]


def eager_to_pandas(df: nw.DataFrame[Any]) -> pd.DataFrame:
    """A collected frame as pandas, DuckDB's decimal sums cast on the Arrow side.

    DuckDB sums integers as ``HUGEINT`` (``decimal128(38, 0)`` in Arrow), which pandas
    would hold as Python ``Decimal`` objects (6 s of Python at 10M wide events, against a
    1 s query). Here such a column becomes int64 in Arrow (float64 when a value does not
    fit), and a decimal with a fraction float64, before pandas sees it; :func:`normalize`
    keeps its Decimal path for other sources of object columns.
    """
    native = df.to_native()
    try:
        import pyarrow as pa  # noqa: PLC0415 - a core dependency, imported when used
    except ImportError:  # pragma: no cover - pyarrow is a core dependency
        return df.to_pandas()
    if isinstance(native, pa.Table):
        # a column a block: numbers without nulls are taken as Arrow holds them, not
        # copied into one block per type (30 ms against 110 ms for the funnel's 742k
        # rows of counts at 10M wide events)
        out: pd.DataFrame = _arrow_decimals(native).to_pandas(split_blocks=True)
        return out
    return df.to_pandas()


def _arrow_decimals(table: Any) -> Any:
    """``table`` with its decimal columns as int64 (scale 0, every value fits) or float64."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    for i, field in enumerate(table.schema):
        if not pa.types.is_decimal(field.type):
            continue
        col = table.column(i)
        target = pa.float64()
        if field.type.scale == 0:
            try:
                col = pc.cast(col, pa.int64(), safe=True)
                target = pa.int64()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        if target == pa.float64():
            col = pc.cast(col, pa.float64(), safe=False)
        table = table.set_column(i, pa.field(field.name, target), col)
    return table


def _decimal_column(values: Any) -> Any:
    """An object column of :class:`decimal.Decimal` (DuckDB sums) as int64 or float64."""
    import pandas as pd  # noqa: PLC0415 - pandas only when collecting

    present = values.dropna()
    if len(present) == 0 or not all(isinstance(v, decimal.Decimal) for v in present):
        return values
    whole = all(v == v.to_integral_value() for v in present)
    if whole and len(present) == len(values) and all(abs(v) < 2**63 for v in present):
        return values.map(int).astype(np.int64)
    return pd.to_numeric(values.map(lambda v: None if v is None else float(v)), errors="coerce")


def normalize(table: pd.DataFrame) -> pd.DataFrame:
    """The same types whatever engine made ``table``: integers (signed or not, any width)
    as int64, floats as float64, DuckDB's ``Decimal`` as int64 (whole, no nulls) or
    float64, datetimes in :data:`TIME_UNIT` (time-zone aware ones keep their zone). A new
    table when anything changes; ``table`` itself otherwise.

    Examples:
        >>> import decimal, pandas as pd
        >>> t = pd.DataFrame({"n": pd.Series([1, 2], dtype="uint32"),
        ...                   "d": [decimal.Decimal("3"), decimal.Decimal("4")],
        ...                   "m": [decimal.Decimal("1.5"), None],
        ...                   "t": pd.to_datetime(["2024-01-01", "2024-01-02"]).as_unit("ns")})
        >>> [str(x) for x in normalize(t).dtypes]
        ['int64', 'int64', 'float64', 'datetime64[us]']
    """
    import pandas as pd  # noqa: PLC0415 - pandas only when collecting

    changes: dict[Any, Any] = {}
    for name, dtype in table.dtypes.items():
        col: Any = table[name]
        if isinstance(dtype, np.dtype) and dtype.kind in "iu" and dtype != np.int64:
            if dtype.kind == "u" and len(col) and int(col.max()) >= 2**63:
                continue
            changes[name] = col.astype(np.int64)
        elif isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype != np.float64:
            changes[name] = col.astype(np.float64)
        elif isinstance(dtype, np.dtype) and dtype.kind == "M":
            if np.datetime_data(dtype)[0] != TIME_UNIT:
                changes[name] = col.astype(f"datetime64[{TIME_UNIT}]")
        elif isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit != TIME_UNIT:
            changes[name] = col.dt.as_unit(TIME_UNIT)
        elif isinstance(dtype, np.dtype) and dtype.kind == "O" and len(col):
            fixed = _decimal_column(col)
            if fixed is not col:
                changes[name] = fixed
    if not changes:
        return table
    out = table.copy()
    for name, col in changes.items():
        out[name] = col
    return out


def scalar(frame: nw.LazyFrame[Any], what: str = "") -> Any:
    """Collect a one-row, one-column aggregate as a Python value."""
    out = collect(frame, what)
    return out.iloc[0, 0] if len(out) else None


@contextmanager
def collect_spy() -> Iterator[list[tuple[str, int]]]:
    """Record ``(what, rows)`` for every :func:`collect` (and every copy of a table into
    another engine) inside the block (for tests)."""
    log: list[tuple[str, int]] = []
    token = _SPY.set(log)
    try:
        yield log
    finally:
        _SPY.reset(token)
