"""The engine boundary: same numbers from every engine, caller's table untouched, no stray imports."""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine

from .conftest import Constructor

SRC = Path(__file__).resolve().parents[1] / "src" / "shopmetrics"

EVENTS = pd.DataFrame(
    {
        "ts": pd.to_datetime(
            [
                "2026-11-16 23:30",
                "2026-11-17 00:10",
                "2026-11-17 08:00",
                "2026-11-23 09:00",
                "2026-11-16 10:00",
            ]
        ),
        "visitor_id": ["a", "a", "b", "a", "c"],
        "event": ["visit", "visit", "visit", "visit", "click"],
    }
)


def _tiny_agg(table: _engine.Table, freq: _engine.Freq) -> pd.DataFrame:
    frame = table.frame.with_columns(_engine.period_key("ts", freq).alias("p"))
    out = _engine.collect(
        frame.filter(nw.col("event") == "visit")
        .select("p", "visitor_id")
        .unique()
        .group_by("p")
        .agg(nw.len().alias("visitors")),
    )
    return out.sort_values("p").reset_index(drop=True).astype("int64")


@pytest.mark.parametrize("freq", [None, "D", "W", "M"])
def test_same_aggregation_on_every_engine(
    constructor: Constructor, freq: _engine.Freq, engine: str
) -> None:
    before = EVENTS.copy(deep=True)
    native = constructor(EVENTS)
    got = _tiny_agg(_engine.load(native, "events"), freq)
    want = _tiny_agg(_engine.load(EVENTS, "events"), freq) if freq else None
    # hand computation of distinct visitors with a visit ("c" only clicked):
    # days: 16 Nov {a}, 17 Nov {a, b}, 23 Nov {a}; ISO weeks: W47 (16-22 Nov) {a, b}, W48 {a};
    # November {a, b}; whole range {a, b}.
    expected = {None: [2], "D": [1, 2, 1], "W": [2, 1], "M": [2]}
    assert got["visitors"].tolist() == expected[freq]
    if want is not None:
        pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(EVENTS, before)  # the caller's table is unchanged


def test_period_keys_round_trip() -> None:
    d = dt.datetime(2026, 11, 22, 23, 59)
    frame = nw.from_native(pd.DataFrame({"ts": [d]})).lazy()
    keys = _engine.collect(
        frame.select(
            _engine.period_key("ts", "D").alias("d"),
            _engine.period_key("ts", "W").alias("w"),
            _engine.period_key("ts", "M").alias("m"),
        )
    )
    assert _engine.period_label(int(keys["d"][0]), "D") == "2026-11-22"
    assert _engine.period_label(int(keys["w"][0]), "W") == "2026-W47"  # ISO: Sunday belongs to W47
    assert _engine.period_start(int(keys["w"][0]), "W") == dt.datetime(2026, 11, 16)
    assert _engine.period_label(int(keys["m"][0]), "M") == "2026-11"
    assert _engine.period_end(int(keys["m"][0]), "M") == dt.datetime(2026, 12, 1)


def test_aware_timestamps_cut_in_store_time_zone(constructor: Constructor) -> None:
    # 2026-11-16 17:30 UTC is 2026-11-17 01:30 in Shanghai: the visit belongs to the 17th.
    ev = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-16 17:30"]).tz_localize("UTC"),
            "visitor_id": ["a"],
            "event": ["visit"],
        }
    )
    table = _engine.load(constructor(ev), "events", tz="Asia/Shanghai")
    got = _engine.collect(table.frame.select(_engine.period_key("ts", "D").alias("d")))
    assert _engine.period_label(int(got["d"][0]), "D") == "2026-11-17"
    assert "Asia/Shanghai" in table.tz_note


def test_paths_parquet_and_csv(tmp_path: Path) -> None:
    EVENTS.to_parquet(tmp_path / "events.parquet")
    EVENTS.to_csv(tmp_path / "events.csv", index=False)
    for name in ("events.parquet", "events.csv"):
        got = _tiny_agg(_engine.load(tmp_path / name, "events"), "W")
        assert got["visitors"].tolist() == [2, 1]


def test_unknown_object_and_missing_file() -> None:
    with pytest.raises(sm.SchemaError, match="cannot read an object of type int"):
        _engine.load(3, "events")
    with pytest.raises(sm.SchemaError, match="does not exist"):
        _engine.load("/nonexistent/events.parquet", "events")
    with pytest.raises(sm.ShopmetricsError, match="unknown time zone"):
        _engine.load(EVENTS, "events", tz="Mars/Olympus")


def test_column_mapping_and_chinese_headers() -> None:
    traffic = pd.DataFrame(
        {"统计日期": pd.to_datetime(["2026-11-16"]), "访客数": [10], "商品ID": ["p"]}
    )
    t = _engine.load(traffic, "traffic")
    assert set(t.columns) == {"date", "visitors", "product_id"}
    t2 = _engine.load(EVENTS.rename(columns={"visitor_id": "uid"}), "events", {"uid": "visitor_id"})
    assert "visitor_id" in t2.columns
    with pytest.raises(sm.SchemaError, match="both map to"):
        _engine.load(EVENTS.assign(uid="x"), "events", {"uid": "ts_x", "visitor_id": "ts_x"})


def test_missing_column_message_names_fix() -> None:
    t = _engine.load(EVENTS.rename(columns={"visitor_id": "visitor"}), "events")
    with pytest.raises(sm.ColumnNotFoundError) as err:
        t.require("visitor_id", purpose="the funnel")
    msg = str(err.value)
    assert "events: column 'visitor_id' not found" in msg
    assert "did you mean 'visitor'" in msg
    assert "columns={'visitor': 'visitor_id'}" in msg


def test_collect_spy_counts_rows() -> None:
    t = _engine.load(EVENTS, "events")
    with _engine.collect_spy() as log:
        _tiny_agg(t, "W")
    assert log == [("", 2)]


ENGINE_MODULES = sorted(p.name for p in (SRC / "engine").glob("*.py"))
FORBIDDEN = {"pandas", "polars", "duckdb", "pyspark", "pyarrow", "dask", "modin"}


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_modules_import_only_narwhals(module: str) -> None:
    """Engine modules import no dataframe library at module level (TYPE_CHECKING aside)."""
    tree = ast.parse((SRC / "engine" / module).read_text(encoding="utf-8"))
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        assert not (set(names) & FORBIDDEN), f"{module} imports {names} at module level"


def test_import_is_light() -> None:
    code = (
        "import sys, shopmetrics as sm; "
        "heavy = [m for m in ('pandas', 'scipy', 'scipy.stats', 'statsmodels', 'polars', 'duckdb', "
        "'pyspark', 'matplotlib', 'openpyxl', 'pyarrow') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    for name in sm.__all__:
        assert getattr(sm, name) is not None, name
    for name in ("funnel", "dsr", "visitor_value", "compare"):
        assert callable(getattr(sm, name)), f"sm.{name} must be the function, not the module"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sm.nope


# ------------------------------------------------ joins across engines: the small side moves


@pytest.fixture(scope="module")
def tiny_store() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=4, days=7, products=4, visitors_per_day=40, traps=False)


def _moved(result: sm.Result) -> list[sm.audit.Collected]:
    return [c for c in result.audit.collected if c.kind == "moved"]


@pytest.mark.parametrize("big", ["polars-lazy", "duckdb-default"])
def test_the_smaller_table_goes_to_the_engine_of_the_larger(
    tiny_store: sm.datasets.Store, big: str
) -> None:
    """Events in polars (lazy) or DuckDB, orders in pandas kept as pandas: the orders (fewer
    rows) are copied into the events' engine, never the events out of it; the audit names
    the copy and its rows; the numbers are those of the all-pandas call (the reference:
    the Shopify definition's own tests in test_funnel)."""
    import duckdb
    import polars as pl
    import pyarrow as pa

    ev, od = tiny_store.events, tiny_store.orders
    arrow = pa.Table.from_pandas(ev, preserve_index=False)
    native = pl.from_arrow(arrow).lazy() if big == "polars-lazy" else duckdb.from_arrow(arrow)
    args = {"freq": "W", "definition": "shopify", "detect": False}
    with sm.config_context(engine="pandas"):  # the pandas orders stay pandas
        got = sm.funnel(native, od, **args)
        want = sm.funnel(ev, od, **args)
    engine_name = "polars" if big == "polars-lazy" else "duckdb"
    assert [(c.table, c.rows) for c in _moved(got)] == [("orders", len(od))]
    assert _moved(got)[0].what.endswith(f"orders moved to {engine_name}")
    assert not _moved(want)
    pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas(), check_exact=True)


def test_join_ready_measures_rows_and_moves_the_smaller() -> None:
    """Two local engines: rows are counted (one count query each, in the ledger) and the
    side with fewer rows is the one copied, whichever argument it is."""
    import polars as pl

    small = nw.from_native(pd.DataFrame({"k": [1, 2]})).lazy()
    large = nw.from_native(pl.DataFrame({"k": list(range(10))})).lazy()
    for a, b in ((small, large), (large, small)):
        with _engine.collect_spy() as spy:
            x, y, note = _engine.join_ready(a, b, "test", ("a", "b"))
        assert x.implementation is y.implementation is nw.Implementation.POLARS
        assert note is not None
        moved = [rows for what, rows in spy if "moved to" in what]
        assert moved == [2]
        assert x.join(y, on="k").collect().shape[0] == 2


def test_duckdb_on_its_own_connection_falls_back_to_one_local_engine() -> None:
    """A DuckDB relation on a connection of its own cannot receive the other table (its
    connection is not reachable): both are copied into one local engine, and the note says
    to pass relations of one connection."""
    import duckdb

    con = duckdb.connect()
    rel = nw.from_native(con.sql("select range as k from range(10)"))
    small = nw.from_native(pd.DataFrame({"k": [1, 2]})).lazy()
    a, b, note = _engine.join_ready(rel, small, "test", ("events", "orders"))
    assert note is not None
    assert "one connection" in note
    assert a.join(b, on="k").collect().shape[0] == 2


def test_results_keep_one_datetime_unit_and_integer_counts() -> None:
    """The types documented in docs/scale.md, checked on a DuckDB table whose sums come
    back as Decimal and whose counts as int64, and on polars whose counts are uint32."""
    import duckdb

    t = duckdb.sql("select 1::integer as n, 2.5::decimal(10, 2) as m, 3::hugeint as h")
    got = _engine.collect(nw.from_native(t))
    assert [str(d) for d in got.dtypes] == ["int64", "float64", "int64"]
    assert got.iloc[0].tolist() == [1, 2.5, 3]
