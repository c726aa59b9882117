"""The same public calls on PySpark DataFrames: aggregation runs in Spark, results equal pandas.

One local Spark session (``local[1]``, one shuffle partition, UI off) for the run; the
tables are handed to Spark as Parquet files, the way a cluster would hold them. The
reference for every result is the same call on the pandas tables (whose own numbers are
checked against hand computations in test_funnel, test_traffic and test_dsr), and for
the date maths Python's :mod:`datetime`.

Needs Java 17 (``make test`` installs a JRE when ``java`` is missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine

pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("shopmetrics-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def store() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=3, days=14, products=8, visitors_per_day=150, traps=False)


@pytest.fixture(scope="module")
def on_spark(
    spark: Any, store: sm.datasets.Store, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The store's tables as Spark DataFrames read from Parquet (naive times: TIMESTAMP_NTZ)."""
    folder = tmp_path_factory.mktemp("spark")
    out = {}
    for name in ("events", "orders", "spend", "ratings"):
        path = folder / f"{name}.parquet"
        table = pa.Table.from_pandas(getattr(store, name), preserve_index=False)
        pq.write_table(table, path, coerce_timestamps="us", allow_truncated_timestamps=False)
        out[name] = spark.read.parquet(str(path))
    return out


def _same(got: Any, want: Any, rtol: float | None = None) -> None:
    """Results equal: every value (floats to the last digit unless ``rtol``), audit, flags."""
    pd.testing.assert_frame_equal(
        got.to_pandas().reset_index(drop=True),
        want.to_pandas().reset_index(drop=True),
        check_exact=rtol is None,
        rtol=rtol or 0.0,
        check_dtype=False,
    )
    assert got.audit.to_pandas().equals(want.audit.to_pandas())
    assert [f.code for f in got.flags] == [f.code for f in want.flags]


def test_spark_input_stays_in_spark(on_spark: dict[str, Any]) -> None:
    table = _engine.load(on_spark["events"], "events")
    assert table.backend == "pyspark"
    assert table.frame.collect_schema()["ts"] == nw.Datetime("us")  # TIMESTAMP_NTZ


def test_funnel_on_spark_equals_pandas(on_spark: dict[str, Any], store: sm.datasets.Store) -> None:
    args = {"by": ["product_id"], "freq": "W", "detect": False}
    with _engine.collect_spy() as spy:
        got = sm.funnel(on_spark["events"], on_spark["orders"], **args)
    _same(got, sm.funnel(store.events, store.orders, **args))
    assert [w for w, _ in spy] == ["funnel:events", "orders:audit", "funnel:orders"]
    assert sum(n for _, n in spy) <= 2 * len(got.table) + 1


def test_funnel_with_range_and_bad_rows_on_spark(
    spark: Any, on_spark: dict[str, Any], store: sm.datasets.Store, tmp_path: Path
) -> None:
    ev = store.events.copy()
    ev.loc[ev.index[::500], "event"] = "pv"
    ev.loc[ev.index[7::700], "source"] = None
    path = tmp_path / "events.parquet"
    pq.write_table(pa.Table.from_pandas(ev, preserve_index=False), path, coerce_timestamps="us")
    start = ev["ts"].min().normalize() + pd.Timedelta(days=3)
    args = {"by": ["source"], "freq": "D", "start": start, "end": start + pd.Timedelta(days=5)}
    got = sm.funnel(spark.read.parquet(str(path)), on_spark["orders"], detect=False, **args)
    want = sm.funnel(ev, store.orders, detect=False, **args)
    _same(got, want)
    reasons = {e.reason for e in got.audit.excluded}
    assert {"outside range", "unknown event value"} <= reasons


def test_traffic_sources_on_spark_equals_pandas(
    on_spark: dict[str, Any], store: sm.datasets.Store
) -> None:
    got = sm.traffic_sources(on_spark["events"], on_spark["orders"], on_spark["spend"], freq="W")
    want = sm.traffic_sources(store.events, store.orders, store.spend, freq="W")
    # counts are exact; cost and profit are float sums in traffic.py, added in each
    # engine's own order (polars and DuckDB differ from pandas in the last bits too)
    _same(got, want, rtol=1e-13)


def test_dsr_on_spark_equals_pandas(on_spark: dict[str, Any], store: sm.datasets.Store) -> None:
    got = sm.dsr(on_spark["ratings"], on_spark["orders"], detect=False)
    _same(got, sm.dsr(store.ratings, store.orders, detect=False))


def test_aware_timestamps_cut_in_the_store_time_zone(spark: Any, store: sm.datasets.Store) -> None:
    """Spark TIMESTAMP (an instant, shown in the session zone, UTC here) -> Shanghai days."""
    ev = store.events.head(3000).copy()
    ev["ts"] = ev["ts"].dt.tz_localize("UTC")  # an instant; 16:00 UTC is midnight in Shanghai
    spark_ev = spark.createDataFrame(pa.Table.from_pandas(ev, preserve_index=False))
    assert nw.from_native(spark_ev).collect_schema()["ts"].time_zone == "UTC"
    args = {"by": ["source"], "freq": "D", "tz": "Asia/Shanghai", "detect": False}
    got = sm.funnel(spark_ev, **args).to_pandas()
    want = sm.funnel(ev, **args).to_pandas()
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=True)
    # the reference for the day boundary: Python's zoneinfo
    shanghai = ev["ts"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d")
    assert sorted(got["period"].unique()) == sorted(shanghai.unique())


def test_date_maths_on_spark(spark: Any) -> None:
    rng = np.random.default_rng(4)
    start = dt.datetime(1999, 12, 30)
    a = [
        start + dt.timedelta(microseconds=int(u))
        for u in rng.integers(0, 30 * 365 * 86_400 * 10**6, 200)
    ]
    a += [dt.datetime(2000, 2, 29, 23, 59, 59), dt.datetime(2024, 12, 31, 0, 0)]
    b = [
        x + dt.timedelta(microseconds=int(u))
        for x, u in zip(a, rng.integers(-(10**11), 10**11, len(a)), strict=True)
    ]
    table = pa.table({"a": pa.array(a, pa.timestamp("us")), "b": pa.array(b, pa.timestamp("us"))})
    frame = _engine.load(spark.createDataFrame(table), "events").frame
    got = _engine.collect(
        frame.select(
            _engine.period_key("a", "D", frame.implementation).alias("d"),
            _engine.period_key("a", "W", frame.implementation).alias("w"),
            _engine.period_key("a", "M", frame.implementation).alias("m"),
            _engine.minutes_between("b", "a", frame.implementation).alias("mins"),
            nw.col("a"),
        )
    ).sort_values("a")
    order = np.argsort(np.array(a, dtype="datetime64[us]"), kind="stable")
    a_sorted = [a[i] for i in order]
    b_sorted = [b[i] for i in order]
    epoch = dt.date(1970, 1, 1)
    assert got["d"].astype(int).tolist() == [(x.date() - epoch).days for x in a_sorted]
    assert got["w"].astype(int).tolist() == [
        (x.date() - dt.timedelta(days=x.weekday()) - epoch).days for x in a_sorted
    ]
    assert got["m"].astype(int).tolist() == [x.year * 12 + x.month - 1 for x in a_sorted]
    assert got["mins"].astype(int).tolist() == [
        int((y - x).total_seconds() / 60) for x, y in zip(a_sorted, b_sorted, strict=True)
    ]


def test_funnel_detectors_on_spark(on_spark: dict[str, Any], store: sm.datasets.Store) -> None:
    """The misleading-data detectors run on Spark and find what they find on pandas."""
    got = sm.funnel(on_spark["events"], on_spark["orders"], by="product_id", freq="W", detect=True)
    want = sm.funnel(store.events, store.orders, by="product_id", freq="W", detect=True)
    assert [(f.code, dict(f.subject)) for f in got.flags] == [
        (f.code, dict(f.subject)) for f in want.flags
    ]


def test_dsr_with_orders_on_spark(on_spark: dict[str, Any], store: sm.datasets.Store) -> None:
    """The DSR rules that join ratings with paid trades (unpaid rejection, brushing) on Spark."""
    got = sm.dsr(on_spark["ratings"], on_spark["orders"])
    want = sm.dsr(store.ratings, store.orders)
    _same(got, want, rtol=1e-12)


def test_visitor_value_on_spark(on_spark: dict[str, Any], store: sm.datasets.Store) -> None:
    got = sm.visitor_value(on_spark["events"], on_spark["orders"], by="source", freq="W")
    want = sm.visitor_value(store.events, store.orders, by="source", freq="W")
    _same(got, want, rtol=1e-12)
