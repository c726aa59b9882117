"""Aggregates run on a second DuckDB connection while the caller goes on working.

The default funnel needs, beside its own counts, the detectors' aggregate of the same
events (the visitor-day bins of :func:`shopmetrics.flags.events.event_queries`): one more
hash aggregation over every event, which nothing in the funnel's own table needs. Run
after the funnel's counts, on the same connection, it waits for the counts and the
funnel's work on them (joins, rates, intervals, labels) waits for it. DuckDB runs a query
without holding Python's lock, so :func:`collect_beside` starts it on a cursor of the
connection (a second connection to the same database) in a thread and returns at once;
the funnel does its own work meanwhile and reads the aggregate when its detectors need it
(10M wide events, 2 vCPU: the bins query took 0.33-0.38 s alone and hid behind the
funnel's 0.8 s of pandas and numpy work; benchmarks/README.md).

Only where it reads the same data: the tables must have been opened by shopmetrics itself
(:attr:`~shopmetrics.engine.tables.Table.connection`: a Parquet or CSV path scanned by
DuckDB), and each query's SQL must bind on the cursor. A cursor sees the database's own
objects and the files the SQL names, not the objects registered on the first connection
(a pandas table moved into DuckDB for a join), so a query over those does not bind, and
then nothing runs in the background: the caller collects as before. Results are read,
typed and written in the call's ledger (:func:`~shopmetrics.engine.running.record`) on
the caller's thread, in the order given, so the audit does not depend on which query
finished first; an engine error is raised there, as
:func:`~shopmetrics.engine.running.collect` raises it.

Written here rather than with ``concurrent.futures``: a pool's worker threads are joined
when the interpreter exits, which would make an abandoned query (an exception in the
caller) hold up the exit; this thread is a daemon and :meth:`Collecting.close`
interrupts its query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics.engine import running

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Collecting", "collect_beside"]

_INTERRUPT_EVERY = 0.05
"""Seconds between interrupts of a query being abandoned (:meth:`Collecting.close`)."""


class Collecting(Mapping[str, "pd.DataFrame"]):
    """Collected aggregates (name -> small pandas table) still running in a thread: the
    first read waits for all of them (and raises an engine error as ``collect`` would)."""

    def __init__(self, relations: Mapping[str, Any], cursor: Any, columns: Mapping[str, list[str]]):
        self._names = list(relations)
        self._columns = dict(columns)
        self._cursor = cursor
        self._arrow: dict[str, Any] = {}
        self._error: tuple[str, BaseException] | None = None
        self._tables: dict[str, pd.DataFrame] | None = None
        self._thread = threading.Thread(
            target=self._run, args=(dict(relations),), name="shopmetrics-collect", daemon=True
        )
        self._thread.start()

    def _run(self, relations: Mapping[str, Any]) -> None:
        name = ""
        try:
            for name, rel in relations.items():
                self._arrow[name] = rel.to_arrow_table()
        except BaseException as exc:  # raised on the caller's thread, in _wait
            self._error = (name, exc)

    def _wait(self) -> dict[str, pd.DataFrame]:
        if self._tables is not None:
            return self._tables
        self._thread.join()
        self._close_cursor()
        if self._error is not None:
            what, exc = self._error
            if not isinstance(exc, running.engine_errors()):
                raise exc
            raise running.wrap(exc, what, self._columns.get(what, []), engine="duckdb") from exc
        tables: dict[str, pd.DataFrame] = {}
        for name in self._names:
            out = running.normalize(running.eager_to_pandas(nw.from_native(self._arrow[name])))
            running.record(name, len(out))
            tables[name] = out
        self._arrow.clear()
        self._tables = tables
        return tables

    def close(self) -> None:
        """Interrupt the queries if they still run (the caller no longer needs them)."""
        # an interrupt before the query has started is lost: repeated until the thread ends
        while self._tables is None and self._thread.is_alive():
            try:
                self._cursor.interrupt()
            except running.engine_errors():  # finished meanwhile: nothing to interrupt
                pass
            self._thread.join(_INTERRUPT_EVERY)
        self._close_cursor()

    def _close_cursor(self) -> None:
        try:
            self._cursor.close()
        except running.engine_errors():  # closed already
            pass

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._wait()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


def collect_beside(frames: Mapping[str, nw.LazyFrame[Any]], connection: Any) -> Collecting | None:
    """Start collecting ``frames`` on a cursor of ``connection`` in a thread, or ``None``
    when that cannot read the same data (no connection, a frame not on DuckDB, SQL that
    does not bind on the cursor): then the caller collects them itself.

    Args:
        frames: Lazy aggregates (small results), by the name the ledger records.
        connection: The DuckDB connection the tables were opened on
            (:attr:`~shopmetrics.engine.tables.Table.connection`).
    """
    if connection is None or not frames:
        return None
    if any(f.implementation is not nw.Implementation.DUCKDB for f in frames.values()):
        return None
    try:
        cursor = connection.cursor()
    except running.engine_errors():
        return None
    relations: dict[str, Any] = {}
    columns: dict[str, list[str]] = {}
    unbound: tuple[type[BaseException], ...] = (AttributeError, *running.engine_errors())
    try:
        for name, frame in frames.items():
            sql = frame.to_native().sql_query()
            rel = cursor.sql(sql)  # binds now: an object of the first connection fails here
            if list(rel.columns) != list(frame.collect_schema().names()):
                raise ValueError(name)  # the SQL does not read back the same columns
            relations[name] = rel
            columns[name] = list(rel.columns)
    except unbound:  # AttributeError: a DuckDB without sql_query()
        cursor.close()
        return None
    return Collecting(relations, cursor, columns)
