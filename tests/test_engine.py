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
