"""The detectors' aggregates run on a second DuckDB connection beside the funnel's work
(:mod:`shopmetrics.engine.background`).

Each test holds the background path against the path it replaces: the same funnel on the
same Parquet files with :func:`collect_beside` switched off (everything collected one
query after the other on the first connection, as before), flag for flag, row for row,
and the same collects in the ledger. The demo store with its traps (bots, brushing, a
tracking gap, presale) gives detectors something to find. Beside that: what does not bind
on a cursor is not run beside, an engine's error arrives on the caller's thread naming the
step, and an abandoned query is interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import engine
from shopmetrics.engine import background

duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def files(store: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The demo store's events and orders as Parquet files (opened by DuckDB)."""
    folder = tmp_path_factory.mktemp("store")
    events, orders = folder / "events.parquet", folder / "orders.parquet"
    store.events.to_parquet(events, index=False)
    store.orders.to_parquet(orders, index=False)
    return str(events), str(orders)


def _dump(result: Any) -> str:
    return json.dumps([f.to_dict() for f in result.flags], sort_keys=True, default=str)


@pytest.mark.parametrize(
    "args",
    [
        {"by": ["product_id", "source"], "freq": "D"},
        {"by": "product_id", "freq": "W"},
        {"freq": None, "start": "2026-11-09", "end": "2026-11-23"},
    ],
)
def test_the_detectors_beside_give_the_flags_and_table_of_the_queries_one_by_one(
    files: tuple[str, str], monkeypatch: pytest.MonkeyPatch, args: dict[str, Any]
) -> None:
    events, orders = files
    started: list[background.Collecting] = []
    original = background.collect_beside

    def spy(frames: Any, connection: Any) -> background.Collecting | None:
        out = original(frames, connection)
        if out is not None:
            started.append(out)
        return out

    monkeypatch.setattr(background, "collect_beside", spy)
    beside = sm.funnel(events, orders, **args)
    assert started, "the detectors' aggregates did not run beside the funnel"
    assert "flags:visitor_day_bins" in started[0]
    monkeypatch.setattr(background, "collect_beside", lambda frames, connection: None)
    one_by_one = sm.funnel(events, orders, **args)
    assert "order_brushing" in {f.code for f in beside.flags}  # the detectors found something
    assert _dump(beside) == _dump(one_by_one)
    pd.testing.assert_frame_equal(beside.table, one_by_one.table)
    # the same collects, each once; only their order may differ (the bins are read last)
    assert sorted(map(repr, beside.audit.collected)) == sorted(
        map(repr, one_by_one.audit.collected)
    )
    assert beside.audit.excluded == one_by_one.audit.excluded


def test_the_detectors_beside_find_what_the_detectors_find_on_polars(
    store: Any, files: tuple[str, str]
) -> None:
    """Independent of DuckDB: the same flags from the store's tables held by polars."""
    pl = pytest.importorskip("polars")
    events, orders = files
    args = {"by": ["product_id", "source"], "freq": "W"}
    from_files = sm.funnel(events, orders, **args)
    from_polars = sm.funnel(pl.from_pandas(store.events), pl.from_pandas(store.orders), **args)
    assert _dump(from_files) == _dump(from_polars)


def test_a_table_given_as_an_object_has_no_connection_and_runs_nothing_beside(
    store: Any, files: tuple[str, str]
) -> None:
    """A DuckDB relation of the caller's (its SQL may name the caller's own tables) stays on
    its connection; a path opened by shopmetrics carries the connection it was opened on."""
    events, _ = files
    con = duckdb.connect()
    given = engine.load(con.from_df(store.events), "events")
    assert given.connection is None
    opened = engine.load(events, "events")
    assert opened.frame.implementation is nw.Implementation.DUCKDB
    assert opened.connection is not None


def test_sql_that_does_not_bind_on_a_cursor_is_not_run_beside() -> None:
    """A frame of another database (or not on DuckDB at all) is left to the caller."""
    mine, other = duckdb.connect(), duckdb.connect()
    mine.sql("CREATE TABLE t AS SELECT 1 AS a")
    frame = nw.from_native(mine.sql("SELECT sum(a) AS s FROM t"))
    assert background.collect_beside({"x:step": frame}, other) is None
    pl = pytest.importorskip("polars")
    lazy = nw.from_native(pl.LazyFrame({"a": [1]}))
    assert background.collect_beside({"x:step": lazy}, mine) is None
    got = background.collect_beside({"x:step": frame}, mine)  # the same database: it binds
    assert got is not None
    assert got["x:step"]["s"].tolist() == [1]


def test_an_engine_error_beside_is_raised_on_the_first_read_naming_the_step(
    tmp_path: Path,
) -> None:
    """The SQL binds (text cast to a number) and fails as it runs: the caller gets the
    EngineError ``collect`` gives, with the step and the column."""
    path = tmp_path / "events.parquet"
    pd.DataFrame({"amount": ["12", "twelve"]}).to_parquet(path, index=False)
    table = engine.load(str(path), "amounts", localize=False)
    frame = table.frame.select(nw.col("amount").cast(nw.Int64()).sum())
    got = background.collect_beside({"events:step": frame}, table.connection)
    assert got is not None
    with pytest.raises(engine.EngineError) as err:
        got["events:step"]
    assert err.value.what == "events:step"
    assert err.value.column == "amount"
    with engine.collect_spy() as log, pytest.raises(engine.EngineError):
        list(got.values())
    assert log == []  # nothing was written in the ledger


def test_close_interrupts_a_query_the_caller_no_longer_needs() -> None:
    con = duckdb.connect()
    slow = nw.from_native(
        con.sql("SELECT sum(a * b) AS s FROM range(100000) x(a), range(100000) y(b)")
    )
    got = background.collect_beside({"x:slow": slow}, con)
    assert got is not None
    got.close()  # at once, before the thread has started its query, and again after
    assert not got._thread.is_alive()
    assert got._error is not None
    assert "nterrupt" in str(got._error[1])  # DuckDB's InterruptException, not a result
