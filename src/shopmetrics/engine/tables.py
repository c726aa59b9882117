"""The one engine boundary.

Everything that touches a user's table goes through here, written once against
``narwhals.stable.v2``: pandas (numpy or pyarrow dtypes), pyarrow Tables, polars
DataFrames and LazyFrames, DuckDB relations, PySpark DataFrames, and Parquet/CSV paths.
Work stays lazy in the engine; :func:`collect` brings back only small aggregates and
converts them to pandas for the statistics that follow.

This module imports no dataframe library directly (a test checks it); native calls
needed for a backend's gaps go through the native object's own methods.
"""

from __future__ import annotations

import contextvars
import logging
import os
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import narwhals.stable.v2 as nw

from shopmetrics.config import get_config
from shopmetrics.engine import deps
from shopmetrics.errors import ColumnNotFoundError, SchemaError, ShopmetricsError
from shopmetrics.schema import TABLES, resolve_mapping

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)


_SPY: contextvars.ContextVar[list[tuple[str, int]] | None] = contextvars.ContextVar(
    "shopmetrics_collect_spy", default=None
)


@dataclass(frozen=True, slots=True)
class Table:
    """A user's table behind the boundary: lazy, canonical column names, local times.

    Attributes:
        name: Which input table this is (``"events"``, ``"orders"``, ...).
        frame: The lazy narwhals frame.
        backend: The engine running it (``"polars"``, ``"duckdb"``, ``"pandas"``, ...).
        renamed: The user-to-canonical renames applied.
        tz_note: How timestamps were turned into store-local wall time.
    """

    name: str
    frame: nw.LazyFrame[Any]
    backend: str
    renamed: Mapping[str, str]
    tz_note: str

    @property
    def columns(self) -> list[str]:
        """Column names (canonical)."""
        return list(self.frame.collect_schema().names())

    def has(self, *cols: str) -> bool:
        """Whether every one of ``cols`` is present."""
        names = set(self.columns)
        return all(c in names for c in cols)

    def require(self, *cols: str, purpose: str = "") -> None:
        """Raise :class:`ColumnNotFoundError` naming the first missing column."""
        names = self.columns
        for c in cols:
            if c not in names:
                raise ColumnNotFoundError(
                    self.name, c, _user_names(names, self.renamed), purpose=purpose
                )

    def with_frame(self, frame: nw.LazyFrame[Any]) -> Table:
        """The same table over a derived frame."""
        return Table(self.name, frame, self.backend, self.renamed, self.tz_note)


def _user_names(names: Sequence[str], renamed: Mapping[str, str]) -> list[str]:
    back = {v: k for k, v in renamed.items()}
    return [back.get(n, n) for n in names]


def _pick_backend() -> str | None:
    engine = get_config().engine
    if engine in ("pandas", "native"):
        return None
    if engine in ("polars", "duckdb"):
        deps.need(engine, f"engine={engine!r}")
        return engine
    for name in ("polars", "duckdb"):
        if deps.has(name):
            return name
    return None


def _to_lazy(obj: Any, table: str) -> nw.LazyFrame[Any]:
    if isinstance(obj, str | os.PathLike):
        return _scan(Path(obj), table)
    try:
        native = nw.from_native(obj)
    except TypeError as exc:
        msg = (
            f"{table}: cannot read an object of type {type(obj).__name__}. Pass a pandas, "
            "pyarrow, polars, DuckDB or PySpark table, or a Parquet/CSV path."
        )
        raise SchemaError(msg) from exc
    if isinstance(native, nw.LazyFrame):
        return native
    if isinstance(native, nw.DataFrame):
        if get_config().engine == "native":
            return native.lazy()
        backend = _pick_backend()
        if backend is not None:  # the fast path: a zero-copy view where the engine allows
            return native.lazy(backend=cast("Any", backend))
        implementation: Any = native.implementation
        if implementation is not nw.Implementation.PANDAS:
            # plain pandas (engine="pandas", or neither polars nor duckdb installed): eager
            # tables of other libraries are copied into pandas, the caller's stays as it is
            return nw.from_native(native.to_pandas()).lazy()
        return native.lazy()
    msg = f"{table}: expected a table, got a {type(native).__name__}"
    raise SchemaError(msg)


def _scan(path: Path, table: str) -> nw.LazyFrame[Any]:
    if not path.exists():
        msg = f"{table}: file {str(path)!r} does not exist"
        raise SchemaError(msg)
    backend = _pick_backend() or "pandas"
    suffix = "".join(path.suffixes[-1:]).lower() if path.is_file() else ".parquet"
    if suffix in (".parquet", ".pq"):
        src = str(path / "*.parquet") if path.is_dir() and backend != "pandas" else str(path)
        return nw.scan_parquet(src, backend=cast("Any", backend))
    if suffix in (".csv", ".tsv", ".txt"):
        return nw.scan_csv(str(path), backend=cast("Any", backend))
    msg = f"{table}: cannot read {path.name!r}; use a .parquet or .csv file"
    raise SchemaError(msg)


def load(
    obj: Any,
    table: str,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    *,
    localize: bool = True,
) -> Table:
    """Wrap a user's table: map column names, turn timestamps into store-local wall time.

    Args:
        obj: The user's table or a path.
        table: Which input table (a key of :data:`shopmetrics.schema.TABLES`).
        columns: The user's ``{their_name: canonical_name}`` mapping.
        tz: The store's time zone. Aware timestamps are converted to it; naive ones are
            taken to be store-local already.
        localize: Parse and localise time columns (validation reads them raw first).

    Returns:
        The wrapped :class:`Table`. The caller's object is never modified.
    """
    if tz is None:
        tz = get_config().tz
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"unknown time zone {tz!r}; use an IANA name such as 'Asia/Shanghai'"
            raise ShopmetricsError(msg) from exc
    frame = _to_lazy(obj, table)
    schema = frame.collect_schema()
    mapping = resolve_mapping(schema.names(), columns)
    if mapping:
        frame = frame.rename(mapping)
        schema = frame.collect_schema()
    spec = TABLES.get(table)
    time_cols = [c for c in (spec.time_columns() if spec else ()) if c in schema]
    note = "time columns left as given"
    if localize:
        frame, note = _localize(frame, time_cols, tz)
    backend = str(frame.implementation).split(".")[-1].lower()
    return Table(table, frame, backend, mapping, note)


def _localize(
    frame: nw.LazyFrame[Any], cols: Sequence[str], tz: str | None
) -> tuple[nw.LazyFrame[Any], str]:
    schema = frame.collect_schema()
    aware: list[str] = []
    exprs: list[nw.Expr] = []
    for c in cols:
        dtype = schema[c]
        if isinstance(dtype, nw.Datetime):
            if dtype.time_zone is not None:
                aware.append(c)
        elif dtype == nw.Date:
            exprs.append(nw.col(c).cast(nw.Datetime("us")))
        elif dtype == nw.String:
            exprs.append(nw.col(c).str.to_datetime())
    if exprs:
        frame = frame.with_columns(*exprs)
    if not aware:
        return frame, "timestamps taken as store-local wall time (naive)"
    if tz is None:
        note = f"aware timestamps {aware} cut in their own time zone (no tz given)"
        return frame.with_columns(nw.col(c).dt.replace_time_zone(None) for c in aware), note
    note = f"aware timestamps {aware} converted to {tz}"
    if frame.implementation in (nw.Implementation.PYSPARK, nw.Implementation.PYSPARK_CONNECT):
        # Spark keeps the zone in the session, not the type (narwhals cannot convert to
        # another zone): wall time in the session zone, then from it to the store's zone
        sdf = frame.to_native()
        spark_proj = [
            f"convert_timezone('{tz}', CAST({_bq(c)} AS TIMESTAMP_NTZ)) AS {_bq(c)}"
            if c in aware
            else _bq(c)
            for c in schema.names()
        ]
        return nw.from_native(sdf.selectExpr(*spark_proj)), note
    if frame.implementation is nw.Implementation.DUCKDB:
        rel = frame.to_native()
        names = schema.names()
        proj = ", ".join(
            f"timezone('{tz}', {_q(c)}) AS {_q(c)}" if c in aware else _q(c) for c in names
        )
        return nw.from_native(rel.project(proj)), note
    return (
        frame.with_columns(
            nw.col(c).dt.convert_time_zone(tz).dt.replace_time_zone(None) for c in aware
        ),
        note,
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _bq(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------- periods


# ---------------------------------------------------------------- collection


def collect(frame: nw.LazyFrame[Any], what: str = "") -> pd.DataFrame:
    """Run a lazy (aggregated) frame and return it as a small pandas table.

    Only aggregates come through here. Tests can wrap a call in :func:`collect_spy` to
    check the number of rows brought to the driver.
    """
    out = frame.collect().to_pandas()
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


def count_rows(table: Table, where: nw.Expr | None = None) -> int:
    """Number of rows of ``table`` (matching ``where``)."""
    frame = table.frame if where is None else table.frame.filter(where)
    value = scalar(frame.select(nw.len().alias("n")), f"{table.name}:count")
    return int(value or 0)


# ---------------------------------------------------------------- joins across tables


def local(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Materialise a frame into the local engine (polars if installed, else pandas): a copy."""
    eager = frame.collect()
    if deps.has("polars"):
        return eager.lazy(backend="polars")
    return nw.from_native(eager.to_pandas()).lazy()


def joinable(a: nw.LazyFrame[Any], b: nw.LazyFrame[Any]) -> bool:
    """Whether two frames can be joined where they are.

    They must share an engine; DuckDB relations must also share a connection, which is
    tried with an empty cross join (DuckDB raises its own exception type otherwise).
    """
    if a.implementation is not b.implementation:
        return False
    if a.implementation is nw.Implementation.DUCKDB:
        try:
            a.select(nw.lit(1).alias("_l")).join(b.select(nw.lit(1).alias("_r")), how="cross")
        except Exception:  # duckdb raises its own InvalidInputException; not imported here
            return False
    return True


def join_ready(
    a: nw.LazyFrame[Any], b: nw.LazyFrame[Any], what: str
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], str | None]:
    """Two frames that can be joined, copying both into one local engine only when needed.

    Returns:
        The two frames and, when they were copied, a note saying so (for the audit).
    """
    if joinable(a, b):
        return a, b, None
    logger.info(
        "%s: tables on %s and %s copied into one local engine",
        what,
        a.implementation,
        b.implementation,
    )
    note = (
        f"{what}: the tables were on different engines (or DuckDB connections); both were "
        "copied into one local engine to be joined"
    )
    return local(a), local(b), note
