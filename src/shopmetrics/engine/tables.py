"""The one engine boundary.

Everything that touches a user's table goes through here, written once against
``narwhals.stable.v2``: pandas (numpy or pyarrow dtypes), pyarrow Tables, polars
DataFrames and LazyFrames, DuckDB relations, PySpark DataFrames, and paths: store exports
(``.csv`` / ``.tsv`` / ``.txt`` / ``.xlsx`` / ``.xls`` and folders, read by
:mod:`shopmetrics.io`, see :mod:`shopmetrics.engine.reading`), Parquet and plain CSV.
:func:`load` maps the columns, casts ids to text, parses text in number and time columns
(:mod:`shopmetrics.engine.values`) and localises times; what a file reader did travels on
the :class:`Table` to the result's audit (:func:`with_reads`). Work stays lazy in the
engine; :func:`collect` brings back only small aggregates and converts them to pandas for
the statistics that follow, turning an engine's exception into an
:class:`~shopmetrics.engine.running.EngineError` that names the table.

This module imports no dataframe library directly (a test checks it); native calls
needed for a backend's gaps go through the native object's own methods.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.config import get_config
from shopmetrics.engine import deps, reading, values
from shopmetrics.engine.running import (
    collect,
    collect_spy,
    engine_errors,
    record,
    scalar,
    wrap,
)
from shopmetrics.errors import ColumnNotFoundError, SchemaError, ShopmetricsError
from shopmetrics.flags.finding import Flag
from shopmetrics.io.vocabulary import check_unmatched
from shopmetrics.schema import TABLES, resolve_mapping

logger = logging.getLogger(__name__)

__all__ = [
    "Table",
    "collect",
    "collect_spy",
    "count_rows",
    "join_ready",
    "joinable",
    "load",
    "local",
    "scalar",
    "settle",
    "with_reads",
]


@dataclass(frozen=True, slots=True)
class Table:
    """A user's table behind the boundary: lazy, canonical column names, local times.

    Attributes:
        name: Which input table this is (``"events"``, ``"orders"``, ...).
        frame: The lazy narwhals frame.
        backend: The engine running it (``"polars"``, ``"duckdb"``, ``"pandas"``, ...).
        renamed: The user-to-canonical renames applied.
        tz_note: How timestamps were turned into store-local wall time.
        read_notes: What the file reader did (encoding, header row, title period used as
            the date, export kind, ...), for the audit; empty for a table passed as such.
        read_excluded: Rows of the file left out by the reader (summary, subtotal and note
            rows), for the audit: they are not in ``frame``.
        read_problems: What the reader found that :func:`load` refuses (cells of an export
            that do not parse, ids saved as numbers, ...), as validation flags; only a
            table loaded with ``localize=False`` (for validation) can carry any.
        connection: The DuckDB connection shopmetrics opened the file on (a Parquet or
            plain CSV path scanned by DuckDB), else ``None``. The frame's SQL binds to the
            same objects on a cursor of it, so an aggregate of this table can run on a
            second connection while the caller works (:mod:`~shopmetrics.engine.background`);
            a table given as an object (whose SQL may name the caller's own tables) has none.
        in_memory: Whether the rows are held in memory: an eager table given as such
            (pandas, pyarrow, a polars ``DataFrame``) or an export shopmetrics read, not a
            file scan or a lazy query. A frame derived from such a table may be computed
            once and kept in its engine (:func:`settle`).
    """

    name: str
    frame: nw.LazyFrame[Any]
    backend: str
    renamed: Mapping[str, str]
    tz_note: str
    read_notes: tuple[str, ...] = ()
    read_excluded: tuple[Exclusion, ...] = ()
    read_problems: tuple[Flag, ...] = ()
    connection: Any = dataclasses.field(default=None, compare=False)
    in_memory: bool = dataclasses.field(default=False, compare=False)

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
        return dataclasses.replace(self, frame=frame)

    def audit_parts(self) -> tuple[dict[str, int], tuple[Exclusion, ...], tuple[str, ...]]:
        """What the file reader adds to an audit: rows it left out (to add to ``rows_in``,
        which counts the rows of ``frame``), its exclusions and its notes."""
        gone = sum(e.rows for e in self.read_excluded)
        return ({self.name: gone} if gone else {}), self.read_excluded, self.read_notes


def with_reads(audit: Audit, *tables: Table | None) -> Audit:
    """``audit`` with what the file readers of ``tables`` did: their notes, the rows they
    left out (as exclusions, and in ``rows_in``, so that rows in = rows of the files).

    Idempotent: an exclusion already in ``audit`` is not added (nor counted) again, so a
    result built from another result's audit can call it with the same tables.

    Examples:
        >>> from shopmetrics.audit import Audit, Exclusion
        >>> import narwhals.stable.v2 as nw, pandas as pd
        >>> t = Table("traffic", nw.from_native(pd.DataFrame({"a": [1]})).lazy(), "pandas", {}, "",
        ...           ("f.csv: header on row 4",), (Exclusion("traffic", "summary_row", 1),))
        >>> a = with_reads(Audit({"traffic": 1}), t)
        >>> a.rows_in["traffic"], [e.reason for e in a.excluded], with_reads(a, t) == a
        (2, ['summary_row'], True)
    """
    rows_in = dict(audit.rows_in)
    excluded = list(audit.excluded)
    notes = list(audit.notes)
    for table in tables:
        if table is None:
            continue
        for exclusion in table.read_excluded:
            if exclusion in excluded:
                continue
            excluded.append(exclusion)
            if table.name in rows_in:
                rows_in[table.name] += exclusion.rows
        notes.extend(n for n in table.read_notes if n not in notes)
    return Audit(rows_in, tuple(excluded), tuple(notes), audit.collected)


def _user_names(names: Sequence[str], renamed: Mapping[str, str]) -> list[str]:
    back = {v: k for k, v in renamed.items()}
    return [back.get(n, n) for n in names]


def load(
    obj: Any,
    table: str,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    *,
    localize: bool = True,
) -> Table:
    """Wrap a user's table: map column names, parse text values, store-local times.

    Args:
        obj: The user's table (pandas, pyarrow, polars, DuckDB, PySpark), a :class:`Table`
            loaded before (returned as it is when it is the same ``table``), a path (a
            ``.csv`` / ``.tsv`` / ``.txt`` / ``.xlsx`` / ``.xls`` export or a folder of
            them, read by :mod:`shopmetrics.io` with its export kind recognised; Parquet
            and plain canonical CSV by the engine), or an export converted by
            :func:`shopmetrics.io.convert.to_canonical`.
        table: Which input table (a key of :data:`shopmetrics.schema.TABLES`).
        columns: The user's ``{their_name: canonical_name}`` mapping (keys match headers
            but for surrounding spaces and full width). It is given once for all the
            tables of a call: a key that is not in this table is an error only when its
            target is a column of this table that the table lacks.
        tz: The store's time zone. Aware timestamps are converted to it; naive ones are
            taken to be store-local already.
        localize: Cast ids to text, parse text values, localise time columns, refuse
            what does not parse (validation loads with ``False`` to report every problem
            itself, on the columns as given).

    Returns:
        The wrapped :class:`Table`; ids (``order_id``, ``buyer_id``, ...) as text. The
        caller's object is never modified.

    Raises:
        SchemaError: an unreadable object or file, a ``columns=`` key the table needs
            and lacks, an export of another table.
        TextValueError: text in a number or time column that does not parse (the
            message names the table, column, rows, examples and the fix).
        EngineError: any other failure of the engine, naming the table.
    """
    if tz is None:
        tz = get_config().tz
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"unknown time zone {tz!r}; use an IANA name such as 'Asia/Shanghai'"
            raise ShopmetricsError(msg) from exc
    if isinstance(obj, Table):
        if obj.name == table and localize:
            return obj  # loaded already: a caller that reads one table many times loads it once
        obj = obj.frame
    try:
        return _load(obj, table, columns, tz, localize=localize)
    except ShopmetricsError:
        raise
    except engine_errors() as exc:
        raise wrap(exc, f"{table}:load", table=table) from exc


def _load(
    obj: Any, table: str, columns: Mapping[str, str] | None, tz: str | None, *, localize: bool
) -> Table:
    src = reading.source_of(obj, table, columns)
    frame = src.frame
    spec = TABLES.get(table)
    if src.mapping is None:
        names = frame.collect_schema().names()
        expected = spec.columns if spec else None
        mapping = resolve_mapping(names, columns, table=table, expected=expected)
        if mapping:
            frame = frame.rename(mapping)
    else:
        mapping = src.mapping
        if spec is not None and src.missing:
            final = frame.collect_schema().names()
            check_unmatched(table, src.missing, list(mapping), final, spec.columns)
    schema = frame.collect_schema()
    note = "time columns left as given"
    if localize:  # validation (localize=False) sees the ids as given, to warn of float ids
        ids = values.id_columns(schema, table)
        if ids:
            frame = frame.with_columns(nw.col(c).cast(nw.String()) for c in ids)
        if src.problems:
            raise ReadValueError(src.problems)
        kinds = values.text_kinds(schema, table)
        if kinds:
            plan = values.plan(frame, table, kinds, mapping)
            if plan.problems:
                raise values.TextValueError(plan.problems)
            frame = values.parse(frame, kinds, plan.formats)
        schema = frame.collect_schema()
        time_cols = [c for c in (spec.time_columns() if spec else ()) if c in schema]
        frame, note = _localize(frame, time_cols, tz)
    backend = str(frame.implementation).split(".")[-1].lower()
    return Table(
        table,
        frame,
        backend,
        mapping,
        note,
        src.notes,
        src.excluded,
        src.problems,
        src.connection,
        src.in_memory,
    )


class ReadValueError(SchemaError):
    """Cells of an export that cannot be used (``.problems``: validation flags)."""

    def __init__(self, problems: Sequence[Flag]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


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
        note = spark_instants_note(aware, _session_zone(sdf), tz)
        if "moves" in note:
            logger.warning("%s", note)
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


def _session_zone(sdf: Any) -> str | None:
    """The Spark session's time zone (``spark.sql.session.timeZone``), if it can be read."""
    try:
        return str(sdf.sparkSession.conf.get("spark.sql.session.timeZone"))
    except Exception:
        return None


def spark_instants_note(columns: Sequence[str], session_zone: str | None, tz: str) -> str:
    """The audit's note on Spark ``TIMESTAMP`` columns (instants) cut in the store's zone.

    ``spark.createDataFrame(pandas_table)`` stores naive wall times as instants in the
    session zone; converting them to ``tz`` then moves every time (and rows across day
    boundaries) unless the session zone is the store's. The note says so and how to hand
    such tables over safely.

    Examples:
        >>> note = spark_instants_note(["ts"], "UTC", "Asia/Shanghai")
        >>> "moves each time by 8 h" in note, "TIMESTAMP_NTZ" in note
        (True, True)
        >>> spark_instants_note(["ts"], "Asia/Shanghai", "Asia/Shanghai").endswith("(no time moves)")
        True
    """
    head = f"Spark TIMESTAMP columns {list(columns)} are instants: converted from the session "
    if session_zone is None:
        return head + f"time zone to {tz}"
    if _same_zone(session_zone, tz):
        return (
            head
            + f"time zone {session_zone} to {tz}; the session time zone is the store's (no time moves)"
        )
    shift = _hours_between(session_zone, tz)
    by = f" by {shift:g} h" if shift is not None else ""
    return (
        head + f"time zone {session_zone} to {tz}, which moves each time{by} and can move rows "
        "to another day. If they are store-local wall times (a pandas table given to "
        "spark.createDataFrame), cast them to TIMESTAMP_NTZ or set "
        f"spark.sql.session.timeZone to {tz!r} before creating the table (docs/scale.md)"
    )


_UTC_NAMES = frozenset({"UTC", "Z", "GMT", "ETC/UTC", "ETC/GMT", "+00:00"})


def _same_zone(a: str, b: str) -> bool:
    return a == b or (a.upper() in _UTC_NAMES and b.upper() in _UTC_NAMES)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _hours_between(a: str, b: str) -> float | None:
    """Hours from zone ``a``'s wall time to zone ``b``'s, now (``None``: unknown zone)."""
    za, zb = _zone(a), _zone(b)
    if za is None or zb is None:
        return None
    now = datetime.datetime.now(datetime.UTC)
    oa, ob = now.astimezone(za).utcoffset(), now.astimezone(zb).utcoffset()
    if oa is None or ob is None:
        return None
    return (ob - oa).total_seconds() / 3600


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _bq(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------- collection


def count_rows(table: Table, where: nw.Expr | None = None) -> int:
    """Number of rows of ``table`` (matching ``where``)."""
    frame = table.frame if where is None else table.frame.filter(where)
    value = scalar(frame.select(nw.len().alias("n")), f"{table.name}:count")
    return int(value or 0)


def settle(frame: nw.LazyFrame[Any], what: str, *tables: Table | None) -> nw.LazyFrame[Any]:
    """``frame`` computed once and kept in polars, when it runs on polars and every one of
    ``tables`` it derives from holds its rows in memory (:attr:`Table.in_memory`); else
    ``frame`` as it is.

    For a prepared frame that several small queries read (the DSR's ratings joined to
    their payments, with their rule columns: a dozen aggregates a report): each would
    run its joins and windows again, about 10 ms a query on 5,000 ratings against 3 ms
    once settled. Polars only: its lazy frames have no cache of their own, and the rows
    are in its memory already (a narrower copy of them is added, never a file's rows or
    pandas' copy); DuckDB and Spark scans are left to their engines. Not in the call's
    ledger (``audit.collected``): no row leaves the engine, and the audit stays the
    same whichever engine held the tables (``tests/test_scale.py``).
    """
    present = [t for t in tables if t is not None]
    if frame.implementation is not nw.Implementation.POLARS or not all(
        t.in_memory for t in present
    ):
        return frame
    try:
        done = frame.to_native().collect()
    except ShopmetricsError:
        raise
    except engine_errors() as exc:
        names = list(frame.collect_schema().names())
        raise wrap(exc, what, names, engine="polars") from exc
    settled: nw.LazyFrame[Any] = nw.from_native(done.lazy())
    return settled


# ---------------------------------------------------------------- joins across tables

_CLUSTER = ("PYSPARK", "PYSPARK_CONNECT", "SQLFRAME")
"""Engines whose tables live on a cluster: never brought to the driver to be joined."""


def _on_cluster(frame: nw.LazyFrame[Any]) -> bool:
    return frame.implementation.name in _CLUSTER


def local(frame: nw.LazyFrame[Any], what: str = "", table: str = "") -> nw.LazyFrame[Any]:
    """Materialise a frame into the local engine (polars if installed, else pandas): a copy
    (written in the call's ledger as ``moved``)."""
    eager = _materialise(frame, what, table)
    if deps.has("polars"):
        return eager.lazy(backend="polars")
    return nw.from_native(eager.to_pandas()).lazy()


def _materialise(frame: nw.LazyFrame[Any], what: str, table: str) -> nw.DataFrame[Any]:
    try:
        eager = frame.collect()
    except ShopmetricsError:
        raise
    except engine_errors() as exc:
        raise wrap(exc, what or "join", table=table) from exc
    record(what or "join", len(eager), table=table, kind="moved")
    return eager


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


def _rows(frame: nw.LazyFrame[Any], what: str, table: str) -> int:
    """Rows of a local frame (one small count query, in the ledger)."""
    return int(scalar(frame.select(nw.len().alias("n")), f"{what}:size of {table}") or 0)


def _into(eager: nw.DataFrame[Any], like: nw.LazyFrame[Any]) -> nw.LazyFrame[Any] | None:
    """``eager`` as a lazy frame of ``like``'s engine (``None`` when it cannot go there)."""
    impl = like.implementation
    if impl.name in _CLUSTER:
        # Spark stores naive Arrow timestamps as instants in the session zone (and
        # refuses wall times in a DST gap): the schema keeps them TIMESTAMP_NTZ
        arrow = eager.to_arrow()
        types = deps.need("pyspark.sql.pandas.types", "a join with a Spark table")
        schema = types.from_arrow_schema(arrow.schema, prefer_timestamp_ntz=True)
        session = like.to_native().sparkSession
        sdf = session.createDataFrame(arrow, schema=schema)
        return nw.from_native(sdf).lazy()  # type: ignore[no-any-return]
    if impl is nw.Implementation.DUCKDB:
        moved = eager.lazy(backend="duckdb")  # DuckDB's default connection
        return moved if joinable(moved, like) else None
    if impl is nw.Implementation.POLARS:
        return eager.lazy(backend="polars")
    if impl is nw.Implementation.PANDAS:
        return nw.from_native(eager.to_pandas()).lazy()
    if impl is nw.Implementation.PYARROW:
        arrow_frame: nw.DataFrame[Any] = nw.from_native(eager.to_arrow(), eager_only=True)
        return arrow_frame.lazy()
    return None


def join_ready(
    a: nw.LazyFrame[Any],
    b: nw.LazyFrame[Any],
    what: str,
    tables: tuple[str, str] = ("", ""),
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], str | None]:
    """Two frames that can be joined: the smaller moved into the engine of the larger.

    A table on a cluster (Spark) is the larger by definition and never leaves it: the
    other one is copied into its session (``createDataFrame`` from Arrow, naive times as
    ``TIMESTAMP_NTZ``). Between local engines the rows are counted (one count query each)
    and the smaller goes to the larger's engine (DuckDB's default connection, polars,
    pandas); a DuckDB relation on a connection of its own that cannot receive the other
    table gets both copied into one local engine, as before. Whatever is copied is in
    the call's ledger (:attr:`~shopmetrics.audit.Audit.collected`, ``kind="moved"``).

    Args:
        a, b: The two frames.
        what: The step, for the note and the ledger.
        tables: The input tables ``a`` and ``b`` come from (for the ledger and the note).

    Returns:
        The two frames and, when one was copied, a note saying which (for the audit).
    """
    if joinable(a, b):
        return a, b, None
    name_a, name_b = tables[0] or "the first table", tables[1] or "the second table"
    if _on_cluster(a) and _on_cluster(b):
        msg = f"{what}: {name_a} and {name_b} are on two different Spark sessions"
        raise ShopmetricsError(msg + "; read both in one session")
    if _on_cluster(b) or (not _on_cluster(a) and _rows(b, what, name_b) > _rows(a, what, name_a)):
        b, a, note = _move(b, a, what, (name_b, name_a))
        return a, b, note
    return _move(a, b, what, (name_a, name_b))


def _move(
    big: nw.LazyFrame[Any], small: nw.LazyFrame[Any], what: str, tables: tuple[str, str]
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], str]:
    """``small`` copied into ``big``'s engine (or both into a local one when it cannot)."""
    src, dst = _engine_name(small), _engine_name(big)
    eager = _materialise(small, f"{what}: {tables[1]} moved to {dst}", tables[1])
    moved = _into(eager, big)
    logger.info("%s: %s (%d rows) copied from %s into %s", what, tables[1], len(eager), src, dst)
    if moved is not None:
        note = (
            f"{what}: {tables[1]} ({len(eager)} rows) was copied from {src} into {dst}, "
            f"where {tables[0]} is, to be joined there"
        )
        return big, moved, note
    note = (
        f"{what}: {tables[0]} and {tables[1]} were on different DuckDB connections; both "
        "were copied into one local engine to be joined (pass relations of one connection)"
    )
    small_local = eager.lazy(backend="polars") if deps.has("polars") else None
    if small_local is None:
        small_local = nw.from_native(eager.to_pandas()).lazy()
    return local(big, f"{what}: {tables[0]} copied", tables[0]), small_local, note


def _engine_name(frame: nw.LazyFrame[Any]) -> str:
    return str(frame.implementation).split(".")[-1].lower()
