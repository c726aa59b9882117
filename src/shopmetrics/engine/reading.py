"""Users' tables and files into one lazy frame: the first step of :func:`~shopmetrics.engine.load`.

A table object (pandas, pyarrow, polars, DuckDB, PySpark) becomes a lazy narwhals frame on
the fastest engine installed. A path is read by the one reader of store exports,
:func:`shopmetrics.io.files.read_table` with :func:`shopmetrics.io.convert.to_canonical`
(encoding, title rows, header row, summary rows, Excel guards, the export's vocabulary
and semantics), except where the engine's own reader is both right and faster:

- Parquet files and folders of them (typed already);
- a plain CSV: UTF-8 without BOM whose first line is the header and already names the
  table's required columns (after ``columns=``), the form a program writes. It is
  scanned lazily by polars / DuckDB / pandas with its id columns read as text (19-digit
  order ids and leading zeros survive) and ISO dates parsed by the engine.

Everything else (``.xlsx``, ``.xls``, ``.tsv``, ``.txt``, GBK or BOM CSV, title rows,
Chinese headers, folders of exports) goes through ``shopmetrics.io``, and what the reader
did reaches the result's audit through :class:`Source`. With polars as the engine, a CSV
or TSV export is first offered to :func:`shopmetrics.engine.export_text.read_fast`, which
reads what it can promise reads the same (values, dtypes, audit) several times faster and
leaves the rest to ``shopmetrics.io``.
"""

from __future__ import annotations

import codecs
import csv
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import narwhals.stable.v2 as nw

from shopmetrics.audit import Exclusion
from shopmetrics.config import get_config
from shopmetrics.engine import deps, export_text
from shopmetrics.errors import SchemaError
from shopmetrics.flags.finding import Flag
from shopmetrics.io.vocabulary import match_columns
from shopmetrics.schema import TABLES

if TYPE_CHECKING:
    from shopmetrics.io.convert import Canonical
    from shopmetrics.io.files import ReadResult

__all__ = ["Source", "pick_backend", "source_of", "to_lazy"]

EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".html", ".htm")
PARQUET_SUFFIXES = (".parquet", ".pq")
_HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class Source:
    """A table as read, before the column mapping of ``load``.

    Attributes:
        frame: The lazy frame.
        mapping: ``None`` when the columns still need mapping (``resolve_mapping``); the
            header → canonical mapping applied when the export reader already did it.
        missing: ``columns=`` keys not found among the file's headers (already mapped
            tables only: the caller checks them against the final columns).
        notes: What the reader did, for the audit.
        excluded: Rows the reader left out.
        problems: What the reader found that cannot be used, as validation flags (with
            the message that :func:`~shopmetrics.engine.load` raises).
        connection: The DuckDB connection a file was opened on by shopmetrics itself
            (:func:`_duckdb_scan`), else ``None`` (see ``Table.connection``).
        in_memory: Whether the rows are held in memory (an eager table given as such, or
            an export shopmetrics read), not scanned from a file or a query when a
            lazy frame runs (see ``Table.in_memory``).
    """

    frame: nw.LazyFrame[Any]
    mapping: dict[str, str] | None = None
    missing: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    excluded: tuple[Exclusion, ...] = ()
    problems: tuple[Flag, ...] = ()
    connection: Any = None
    in_memory: bool = False


def pick_backend() -> str | None:
    """The engine an eager table is moved to: polars, else DuckDB, else ``None`` (pandas)."""
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


def to_lazy(obj: Any, table: str) -> nw.LazyFrame[Any]:
    """A table object as a lazy narwhals frame (the caller's object is not modified)."""
    try:
        native = nw.from_native(obj)
    except TypeError as exc:
        msg = (
            f"{table}: cannot read an object of type {type(obj).__name__}. Pass a pandas, "
            "pyarrow, polars, DuckDB or PySpark table, or a path to a .csv, .tsv, .txt, "
            ".xlsx, .xls or .parquet file (or a folder of them)."
        )
        raise SchemaError(msg) from exc
    if isinstance(native, nw.LazyFrame):
        return native
    if isinstance(native, nw.DataFrame):
        implementation: Any = native.implementation
        if implementation is nw.Implementation.PYARROW:
            # pandas metadata would turn parsed columns back into their old dtypes
            plain = native.to_native().replace_schema_metadata(None)
            native = cast("nw.DataFrame[Any]", nw.from_native(plain, eager_only=True))
        if get_config().engine == "native":
            return native.lazy()
        backend = pick_backend()
        if backend is not None:  # the fast path: a zero-copy view where the engine allows
            return native.lazy(backend=cast("Any", backend))
        if implementation is not nw.Implementation.PANDAS:
            # plain pandas (engine="pandas", or neither polars nor duckdb installed): eager
            # tables of other libraries are copied into pandas, the caller's stays as it is
            return nw.from_native(native.to_pandas()).lazy()
        return native.lazy()
    msg = f"{table}: expected a table, got a {type(native).__name__}"
    raise SchemaError(msg)


def source_of(obj: Any, table: str, columns: Mapping[str, str] | None) -> Source:
    """Read ``obj`` (a table, a path, or an export already converted by ``shopmetrics.io``)."""
    if isinstance(obj, str | os.PathLike):
        return _from_path(Path(obj), table, columns)
    module = type(obj).__module__
    if module.startswith("shopmetrics.io"):
        from shopmetrics.io.convert import Canonical  # noqa: PLC0415 - pandas-based
        from shopmetrics.io.files import ReadResult  # noqa: PLC0415 - pandas-based

        if isinstance(obj, Canonical):
            return _from_canonical(obj, table, columns, obj.kind or "table")
        if isinstance(obj, ReadResult):
            return _from_read(obj, table, columns)
    return Source(to_lazy(obj, table), in_memory=_eager(obj))


def _eager(obj: Any) -> bool:
    """Whether ``obj`` is an eager table (pandas, pyarrow, polars ``DataFrame``, ...)."""
    return isinstance(nw.from_native(obj, pass_through=True), nw.DataFrame)


def _from_path(path: Path, table: str, columns: Mapping[str, str] | None) -> Source:
    if not path.exists():
        msg = f"{table}: file {str(path)!r} does not exist"
        raise SchemaError(msg)
    if _is_parquet(path):
        return _scanned(_scan_parquet(path))
    suffix = path.suffix.lower()
    if path.is_file() and suffix not in EXPORT_SUFFIXES:
        msg = (
            f"{table}: cannot read {path.name!r}; use a .csv, .tsv, .txt, .xlsx, .xls or "
            ".parquet file, or a folder of them"
        )
        raise SchemaError(msg)
    if path.is_file() and suffix == ".csv":
        header = _plain_csv_header(path)
        if header is not None and _names_its_columns(header, table, columns):
            return _scanned(_scan_csv(path, table, header))
    given = tuple(sorted((columns or {}).items()))
    return _read_export(path.resolve(), _stamp(path), table, given, get_config().engine)


def _stamp(path: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file (or a folder's files) changes: names, sizes, times."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


@functools.lru_cache(maxsize=4)
def _read_export(
    path: Path,
    stamp: tuple[tuple[str, int, int], ...],
    table: str,
    columns: tuple[tuple[str, str], ...],
    engine: str,
) -> Source:
    """An export read and converted once for a call that loads it several times (the
    funnel, visitor value and the flags each load their tables): the key is the file and
    its state (``stamp``), the table, ``columns=`` and the engine; the frame is lazy and
    never modified, so it can be shared."""
    del stamp  # it keys the cache
    from shopmetrics.io.files import read_table  # noqa: PLC0415 - pandas-based reader

    if not columns and path.is_file() and _fast_path(engine):
        fast = export_text.read_fast(path, table)
        if fast is not None:
            return Source(
                fast.frame, fast.mapping, {}, fast.notes, fast.excluded, (), in_memory=True
            )
    return _from_read(read_table(path), table, dict(columns))


def _fast_path(engine: str) -> bool:
    """Whether :mod:`~shopmetrics.engine.export_text` may read text exports (polars)."""
    return engine not in ("pandas", "native") and pick_backend() == "polars"


def _is_parquet(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in PARQUET_SUFFIXES
    files = [p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_"))]
    return bool(files) and all(p.suffix.lower() in PARQUET_SUFFIXES for p in files)


def parquet_backend() -> str:
    """The engine a Parquet path is scanned with: the one asked for, and with
    ``engine="auto"`` DuckDB when it is installed (then polars, then pandas).

    DuckDB because, for the scans of files the funnel makes, it was the fastest engine
    here and held the least memory: on 50M events with 6.25M visitor ids (benchmarks/
    README.md) the default funnel took 10.6 s and 1.9 GB on DuckDB against 18.8 s and
    5.0 GB on polars, at 10M about the same time (2.5 s against 2.6 s) in less memory;
    and DuckDB spills to disk past its memory limit where polars' in-memory engine
    cannot. Tables given as objects stay in (or move to) :func:`pick_backend`'s engine.
    """
    if get_config().engine == "auto" and deps.has("duckdb"):
        return "duckdb"
    return pick_backend() or "pandas"


@functools.lru_cache(maxsize=4)
def duckdb_connection(memory_limit: str) -> Any:
    """shopmetrics' own DuckDB connection (in memory) for the files it opens under
    ``config_context(memory_limit=...)``: one per limit, so that the tables of one call
    share it (a query may join them)."""
    import duckdb  # noqa: PLC0415 - optional engine

    return duckdb.connect(config={"memory_limit": memory_limit})


def _duckdb_scan(kind: str, src: str, **kwargs: Any) -> tuple[nw.LazyFrame[Any], Any]:
    """A DuckDB scan of a file, on the default connection or, with a ``memory_limit``
    configured, on :func:`duckdb_connection`; and that connection."""
    import duckdb  # noqa: PLC0415 - optional engine

    limit = get_config().memory_limit
    con = duckdb_connection(limit) if limit is not None else duckdb.default_connection()
    read = con.read_parquet if kind == "parquet" else con.read_csv
    return nw.from_native(read(src, **kwargs)).lazy(), con


def _scanned(scan: tuple[nw.LazyFrame[Any], Any]) -> Source:
    """The :class:`Source` of an engine's own file scan (with its DuckDB connection)."""
    frame, con = scan
    return Source(frame, connection=con)


def _scan_parquet(path: Path) -> tuple[nw.LazyFrame[Any], Any]:
    """The engine's scan of a Parquet file or folder, and its DuckDB connection (if any)."""
    backend = parquet_backend()
    src = str(path / "*.parquet") if path.is_dir() and backend != "pandas" else str(path)
    if backend == "duckdb":
        return _duckdb_scan("parquet", src)
    return nw.scan_parquet(src, backend=cast("Any", backend)), None


def _plain_csv_header(path: Path) -> list[str] | None:
    """The header of a UTF-8 CSV without BOM (``None`` for any other text)."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head or head.startswith(codecs.BOM_UTF8):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return None
    line = text.split("\n", 1)[0].rstrip("\r")
    if not line:
        return None
    cells = next(csv.reader([line]))
    if any(c != c.strip() or not c for c in cells):
        return None
    return cells


def _names_its_columns(header: list[str], table: str, columns: Mapping[str, str] | None) -> bool:
    """Whether the header (through ``columns=``) already names the table's required columns."""
    spec = TABLES.get(table)
    if spec is None:
        return True
    named = {(columns or {}).get(c, c) for c in header}
    return all(c in named for c in spec.required)


def _scan_csv(path: Path, table: str, header: list[str]) -> tuple[nw.LazyFrame[Any], Any]:
    """The engine's own lazy CSV scan, ids as text (times are parsed by ``load``), and its
    DuckDB connection (if any)."""
    backend = pick_backend() or "pandas"
    spec = TABLES.get(table)
    ids = [c for c in header if spec is not None and spec.kinds.get(c) == "id"]
    kwargs: dict[str, Any] = {}
    if backend == "polars":
        import polars as pl  # noqa: PLC0415 - optional engine, only for its CSV reader

        kwargs = {"schema_overrides": dict.fromkeys(ids, pl.String)}
    elif backend == "duckdb":
        return _duckdb_scan(
            "csv", str(path), **({"dtype": dict.fromkeys(ids, "VARCHAR")} if ids else {})
        )
    else:
        kwargs = {"dtype": dict.fromkeys(ids, "str")} if ids else {}
    return nw.scan_csv(str(path), backend=cast("Any", backend), **kwargs), None


def _from_read(read: ReadResult, table: str, columns: Mapping[str, str] | None) -> Source:
    """An export read by ``shopmetrics.io``: converted by its kind, or (an unknown kind)
    kept as text, to be mapped and parsed by ``load``."""
    if read.kind is None:
        return Source(
            to_lazy(read.data, table),
            notes=read.notes(),
            excluded=read.exclusions(table),
            in_memory=True,
        )
    from shopmetrics.io.convert import to_canonical  # noqa: PLC0415 - pandas-based

    found, missing = match_columns([str(c) for c in read.data.columns], columns)
    canonical = to_canonical(read, columns=found or None)
    source = _from_canonical(canonical, table, None, Path(read.path).name)
    return Source(
        source.frame,
        source.mapping,
        missing,
        source.notes,
        source.excluded,
        source.problems,
        in_memory=True,
    )


def _from_canonical(
    canonical: Canonical, table: str, columns: Mapping[str, str] | None, name: str
) -> Source:
    if canonical.table != table:
        raise SchemaError(_wrong_table(canonical, table, name))
    frame = to_lazy(canonical.data, table)
    mapping = dict(canonical.mapping)
    if columns:
        found, _ = match_columns(canonical.data.columns, columns)
        if found:
            frame = frame.rename(found)
            mapping.update(found)
    problems = tuple(_problem_flag(canonical, p, table, name) for p in canonical.problems)
    excluded = _named(canonical.excluded, table)
    return Source(frame, mapping, {}, canonical.notes, excluded, problems, in_memory=True)


def _named(excluded: tuple[Exclusion, ...], table: str) -> tuple[Exclusion, ...]:
    return tuple(
        e if e.table == table else Exclusion(table, e.reason, e.rows, e.detail) for e in excluded
    )


def _wrong_table(canonical: Canonical, table: str, name: str) -> str:
    what = f"{name} is a {canonical.kind} export"
    if canonical.table == "order_lines":
        return (
            f"{table}: {what} (order lines without their order's payment); join it with its "
            "订单报表 (order report) first: shopmetrics.io.convert.join_lines("
            "to_canonical(read_table(order_report)), to_canonical(read_table(lines))), and "
            "pass the result"
        )
    return (
        f"{table}: {what}, which gives a {canonical.table!r} table, not {table!r}; "
        f"pass it as {canonical.table}=..."
    )


_FIXES: dict[str, str] = {
    "id_as_number": "the ids were saved as numbers (Excel) and their digits are lost: export "
    "the file again, or format the column as text before saving",
    "unknown_status": "an order status that is not known: map it to paid / unpaid / refunded "
    "in a column of your own and pass it with columns=",
    "order_level_differs": "an order-level cell differs between the lines of one order: "
    "check the file",
    "line_without_order": "the first line has no order id: check the file",
}


def _problem_flag(canonical: Canonical, problem: Any, table: str, name: str) -> Flag:
    """One problem of ``to_canonical`` as a validation flag whose message names the fix."""
    target = canonical.mapping.get(problem.column, problem.column)
    column = problem.column if target == problem.column else f"{problem.column} ({target})"
    fix = _FIXES.get(
        problem.reason,
        "correct these cells in the file or blank them (blank, '-' and '--' mean missing)",
    )
    msg = f"{table}: {name}: column {column!r}: {problem} (rows counted from 0 below the header); {fix}."
    code = "unparseable_time" if problem.reason == "not_a_date" else "unparseable_number"
    if problem.reason in _FIXES:
        code = problem.reason
    return Flag(
        code,
        "error",
        msg,
        table=table,
        column=target,
        n_rows=problem.count,
        examples=tuple({target: e} for e in problem.examples),
        evidence={"file": name, "header": problem.column, "rows": list(problem.rows)},
    )
