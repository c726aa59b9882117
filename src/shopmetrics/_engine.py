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
import datetime as dt
import functools
import logging
import os
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import narwhals.stable.v2 as nw

from shopmetrics import _deps
from shopmetrics.config import get_config
from shopmetrics.errors import ColumnNotFoundError, SchemaError, ShopmetricsError
from shopmetrics.schema import TABLES, resolve_mapping

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

Freq = Literal["D", "W", "M"] | None
FREQS: tuple[str | None, ...] = (None, "D", "W", "M")
EPOCH = dt.datetime(1970, 1, 1)
_LEAP_DAYS_BEFORE_1970 = 1969 // 4 - 1969 // 100 + 1969 // 400
PERIOD = "_period"
"""Name of the integer period-key column added by :func:`with_period`."""

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
        _deps.need(engine, f"engine={engine!r}")
        return engine
    for name in ("polars", "duckdb"):
        if _deps.has(name):
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


def parse_instant(value: Any, name: str, tz: str | None = None) -> dt.datetime:
    """A user's date or timestamp argument as naive store-local time.

    Accepts dates, datetimes, pandas Timestamps and ISO strings. An aware value is
    converted to ``tz`` (the store's zone) before its zone is dropped; without ``tz`` it
    keeps its own wall time, as aware timestamp columns do.

    Raises:
        ShopmetricsError: the value is not a date or timestamp (the message names the
            argument and shows the expected form).
    """
    import pandas as pd  # noqa: PLC0415 - scalar parsing only, no table work

    msg = (
        f"{name}={value!r} is not a date or timestamp; use e.g. '2026-11-16' or '2026-11-16 08:00'"
    )
    try:
        ts: Any = pd.Timestamp(value)  # NaT for None / "NaT": its stub type says Timestamp
    except (ValueError, TypeError) as exc:
        raise ShopmetricsError(msg) from exc
    if pd.isna(ts):
        raise ShopmetricsError(msg)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None) if tz else ts.tz_localize(None)
    out: dt.datetime = ts.to_pydatetime()
    return out


def day_number(col: str) -> nw.Expr:
    """Days since 1970-01-01 of a naive local timestamp column (an integer).

    Computed from the calendar fields (year and day of the year) with the proleptic
    Gregorian leap-year rule, which every engine provides: PySpark has no duration
    arithmetic (``dt.total_minutes``) in narwhals. No casts, so null timestamps stay
    null on every engine (pandas cannot cast NaN to an integer).
    """
    year = nw.col(col).dt.year()
    y1 = year - 1
    leap_days = y1 // 4 - y1 // 100 + y1 // 400 - _LEAP_DAYS_BEFORE_1970
    return nw.lit(365, nw.Int64()) * (year - 1970) + leap_days + nw.col(col).dt.ordinal_day() - 1


def period_key(col: str, freq: Freq, implementation: nw.Implementation | None = None) -> nw.Expr:
    """An integer key of the period a timestamp falls in.

    ``None``: one period (key 0). ``"D"``: the day number. ``"W"``: the day number of the
    ISO week's Monday. ``"M"``: ``year * 12 + month - 1``.

    ``implementation`` (the frame's engine) lets an engine use a cheaper expression for
    the same key: on polars the day number is the date's own integer (days since the
    epoch), about three times faster than the calendar arithmetic of :func:`day_number`.
    """
    if freq is None:
        return nw.lit(0, nw.Int64())
    day = (
        nw.col(col).cast(nw.Date()).cast(nw.Int64())
        if implementation is nw.Implementation.POLARS
        else day_number(col)
    )
    if freq == "D":
        return day
    if freq == "W":
        d = day
        return d - ((d + 3) % 7)  # 1970-01-01 was a Thursday
    if freq == "M":
        return nw.lit(12, nw.Int64()) * nw.col(col).dt.year() + nw.col(col).dt.month() - 1
    msg = f"unknown freq {freq!r}; use None, 'D', 'W' (ISO weeks) or 'M'"  # type: ignore[unreachable]
    raise ShopmetricsError(msg)


@functools.lru_cache(maxsize=65_536)
def period_key_of(instant: dt.datetime, freq: Freq) -> int:
    """The integer period key of one (naive, local) instant, as :func:`period_key` computes it."""
    if freq is None:
        return 0
    day = (instant.date() - EPOCH.date()).days
    if freq == "D":
        return day
    if freq == "W":
        return day - ((day + 3) % 7)
    return instant.year * 12 + instant.month - 1


def epoch_microseconds(col: str) -> nw.Expr:
    """Microseconds since 1970-01-01 of a naive local timestamp, from its calendar fields.

    Portable (PySpark included): day number, hour, minute, second and microsecond are
    fields every engine extracts. A Float64, exact (an integer) until 2**53 µs after the
    epoch (the year 2255); floats because the fields are 32-bit integers on some engines
    (pandas would overflow) and pandas cannot cast a null to a 64-bit integer.
    """
    c = nw.col(col).dt
    parts = (
        (day_number(col), 86_400_000_000),
        (c.hour(), 3_600_000_000),
        (c.minute(), 60_000_000),
        (c.second(), 1_000_000),
        (c.microsecond(), 1),
    )
    total = nw.lit(0.0, nw.Float64())
    for field, unit in parts:
        total = total + field.cast(nw.Float64()) * unit
    return total


def minutes_between(
    end: str, start: str, implementation: nw.Implementation | None = None
) -> nw.Expr:
    """Whole minutes from ``start`` to ``end``, truncated toward zero.

    The same number as ``(nw.col(end) - nw.col(start)).dt.total_minutes()``, which narwhals
    does not implement for PySpark: there (and when ``implementation`` is not given) the
    difference of :func:`epoch_microseconds` is used (a whole-valued Float64); other
    engines subtract natively.

    Examples:
        >>> import datetime as dt
        >>> import narwhals.stable.v2 as nw
        >>> import pandas as pd
        >>> t0 = dt.datetime(2026, 11, 11, 23, 59, 30)
        >>> df = pd.DataFrame({"a": [t0, t0], "b": [t0 + dt.timedelta(seconds=90), t0 - dt.timedelta(seconds=90)]})
        >>> frame = nw.from_native(df).lazy()
        >>> collect(frame.select(minutes_between("b", "a").alias("m")))["m"].tolist()
        [1.0, -1.0]
    """
    if implementation is not None and implementation not in (
        nw.Implementation.PYSPARK,
        nw.Implementation.PYSPARK_CONNECT,
    ):
        return (nw.col(end) - nw.col(start)).dt.total_minutes()
    diff = epoch_microseconds(end) - epoch_microseconds(start)
    per_minute = 60_000_000
    return nw.when(diff >= 0).then(diff // per_minute).otherwise(-((-diff) // per_minute))


@functools.lru_cache(maxsize=65_536)
def period_start(key: int, freq: Freq) -> dt.datetime:
    """The first instant (local, naive) of the period with integer ``key``."""
    if freq is None:
        return EPOCH
    if freq in ("D", "W"):
        return EPOCH + dt.timedelta(days=int(key))
    year, month0 = divmod(int(key), 12)
    return dt.datetime(year, month0 + 1, 1)


def period_end(key: int, freq: Freq) -> dt.datetime:
    """The first instant after the period with integer ``key``."""
    if freq is None:
        return EPOCH
    if freq == "D":
        return period_start(key, freq) + dt.timedelta(days=1)
    if freq == "W":
        return period_start(key, freq) + dt.timedelta(days=7)
    return period_start(key + 1, freq)


@functools.lru_cache(maxsize=65_536)
def period_label(key: int, freq: Freq) -> str:
    """A readable label: ``"all"``, ``"2026-11-16"``, ``"2026-W47"`` or ``"2026-11"``."""
    if freq is None:
        return "all"
    start = period_start(key, freq)
    if freq == "D":
        return start.strftime("%Y-%m-%d")
    if freq == "W":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return start.strftime("%Y-%m")


def between(col: str, start: dt.datetime | None, end: dt.datetime | None) -> nw.Expr:
    """``start <= col < end`` (open where ``None``)."""
    cond = nw.lit(value=True)
    if start is not None:
        cond = cond & (nw.col(col) >= nw.lit(start))
    if end is not None:
        cond = cond & (nw.col(col) < nw.lit(end))
    return cond


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
    if _deps.has("polars"):
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
