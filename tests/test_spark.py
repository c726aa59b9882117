"""The same public calls on PySpark DataFrames: aggregation runs in Spark, results equal pandas.

One local Spark session (``local[1]``, one shuffle partition, UI off) for the run; the
tables are handed to Spark as Parquet files, the way a cluster would hold them. The
reference for every result is the same call on the pandas tables (whose own numbers are
checked against hand computations in test_funnel, test_traffic and test_dsr), and for
the date maths Python's :mod:`datetime`.

Needs Java 17 (``make test`` installs a JRE when ``java`` is missing).
"""

from __future__ import annotations

import collections
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


# ------------------------------------------------ what comes to the driver: 1x against 4x events


def _more_visitors(events: pd.DataFrame, times: int) -> pd.DataFrame:
    """``events`` and ``times - 1`` copies of it with new visitor and session ids."""
    copies = [events]
    copies += [
        events.assign(
            visitor_id=events["visitor_id"] + f"_{k}", session_id=events["session_id"] + f"_{k}"
        )
        for k in range(1, times)
    ]
    return pd.concat(copies, ignore_index=True)


@pytest.fixture(scope="module")
def scaled(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small store with its events at 1x and 4x (Spark, from Parquet), the other tables
    on Spark and as pandas."""
    store = sm.datasets.make_store(seed=5, days=14, products=5, visitors_per_day=20, traps=False)
    folder = tmp_path_factory.mktemp("scaled")

    def on_spark(name: str, table: pd.DataFrame) -> Any:
        path = folder / f"{name}.parquet"
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False), path, coerce_timestamps="us"
        )
        return spark.read.parquet(str(path))

    out: dict[str, Any] = {"store": store}
    for times in (1, 4):
        out[f"events{times}"] = on_spark(f"events{times}", _more_visitors(store.events, times))
    for name in ("orders", "spend", "ratings"):
        out[f"spark:{name}"] = on_spark(name, getattr(store, name))
        out[f"pandas:{name}"] = getattr(store, name)
    return out


def _daily_visits(events: Any) -> Any:
    from pyspark.sql import functions as F

    visits = events.filter(F.col("event") == "visit")
    return visits.groupBy(F.to_date("ts").alias("date")).agg(F.count("*").alias("visits"))


def _with_variant(events: Any) -> Any:
    from pyspark.sql import functions as F

    # the arm of the visitor copied (ids without their copy suffix): the same days and arms
    first = F.regexp_replace(F.col("visitor_id"), "_[0-9]+$", "")
    arm = F.when(F.crc32(first) % 2 == 0, "A").otherwise("B")
    return events.withColumn("group", arm)


_CALLS: dict[str, Any] = {
    "funnel": lambda t: sm.funnel(t["events"], t["orders"], by="source", freq="W"),
    "funnel_shopify": lambda t: sm.funnel(
        t["events"], t["orders"], freq="W", definition="shopify", detect=False
    ),
    "traffic_sources": lambda t: sm.traffic_sources(t["events"], t["orders"], t["spend"], freq="W"),
    "attribute": lambda t: sm.attribute(events=t["events"], orders=t["orders"], model="linear"),
    "compare_attribution": lambda t: sm.compare_attribution(events=t["events"], orders=t["orders"]),
    "visitor_value": lambda t: sm.visitor_value(t["events"], t["orders"], by="source", freq="W"),
    "repurchase": lambda t: sm.repurchase(t["orders"], freq="W"),
    "customer_value": lambda t: sm.customer_value(t["orders"]),
    "dsr": lambda t: sm.dsr(t["ratings"], t["orders"]),
    "low_ratings": lambda t: sm.low_ratings(t["ratings"], orders=t["orders"]),
    "ab_test": lambda t: sm.ab_test(
        events=_with_variant(t["events"]), variant="group", metric="cart"
    ),
    "anomalies": lambda t: sm.anomalies(_daily_visits(t["events"]), date="date", value="visits"),
    "validate": lambda t: sm.validate(events=t["events"], orders=t["orders"], spend=t["spend"]),
    "weekly_report": lambda t: sm.weekly_report(t["events"], t["orders"], t["ratings"], t["spend"]),
}
"""Every public function that reads tables, as a user would call it."""


_JOINS = (
    "attribute",
    "compare_attribution",
    "dsr",
    "funnel",
    "funnel_shopify",
    "low_ratings",
    "traffic_sources",
    "visitor_value",
    "weekly_report",
)
"""The calls that join a Spark table with another one: run with orders and spend in pandas."""


@pytest.mark.parametrize(
    ("name", "others"),
    [(n, "pandas") for n in _JOINS] + [(n, "spark") for n in sorted(_CALLS)],
)
def test_rows_collected_do_not_grow_with_the_events(
    scaled: dict[str, Any], name: str, others: str
) -> None:
    """With 4x the events (new visitors), every step collects exactly the rows it collected
    at 1x, whether orders and spend are on Spark or in pandas (then they go to Spark, the
    events and ratings never leave it); the audit states the rows the engine saw."""
    logs = []
    for times in (1, 4):
        tables = {"events": scaled[f"events{times}"], "ratings": scaled["spark:ratings"]}
        tables |= {n: scaled[f"{others}:{n}"] for n in ("orders", "spend")}
        with _engine.collect_spy() as spy:
            result = _CALLS[name](tables)
        logs.append(spy)
        audit = getattr(result, "audit", None)
        if isinstance(audit, sm.Audit) and audit.collected:  # the functions with an audit
            assert [(c.what, c.rows) for c in audit.collected] == spy
    small, big = collections.Counter[str](), collections.Counter[str]()
    for counter, log in ((small, logs[0]), (big, logs[1])):
        for what, rows in log:
            counter[what] += rows
    print(f"\nCOLLECTED {name} {others}: {sum(small.values())} -> {sum(big.values())} rows")
    steps = [w for w, _ in logs[0]]
    assert [w for w, _ in logs[1]] == steps  # the same queries
    channels = scaled["store"].events["source"].nunique()
    for what in _BY_CHANNEL_PAIRS & set(big):  # fill in up to every pair of channels
        assert big.pop(what) <= (channels + 2) ** 2
        small.pop(what)
    assert big == small, {w: (small[w], big[w]) for w in big if big[w] != small[w]}
    moved = [w for w in steps if "moved to" in w]
    # what moves is orders or spend (journeys.py names its two tables "first"/"second")
    assert not [w for w in moved if any(t in w for t in ("events", "ratings", "first table"))]
    if others == "spark":
        assert not moved


_BY_CHANNEL_PAIRS = {"attribution:null_transitions"}
"""Steps with one row per pair of channels seen (Markov transitions): more visitors can
show a pair not seen before, up to every pair (and the start and end states), never more."""


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_instants_get_a_note_when_tz_moves_their_days(spark: Any, store: sm.datasets.Store) -> None:
    """The trap: ``createDataFrame(pandas)`` turns naive wall times into instants in the
    session zone (UTC here), so ``tz="Asia/Shanghai"`` moves them by 8 h; the audit says
    so. The safe way (docs/scale.md: an Arrow table with a TIMESTAMP_NTZ schema) gives the
    pandas numbers and no such note."""
    from pyspark.sql.pandas.types import from_arrow_schema

    ev = store.events.head(2000)
    args = {"by": ["source"], "freq": "D", "tz": "Asia/Shanghai", "detect": False}
    trap = sm.funnel(spark.createDataFrame(ev), **args)
    notes = [n for n in trap.audit.notes if "are instants" in n]
    assert notes, trap.audit.notes
    assert "moves each time by 8 h" in notes[0]
    assert "TIMESTAMP_NTZ" in notes[0]
    arrow = pa.Table.from_pandas(ev, preserve_index=False)
    safe = spark.createDataFrame(arrow, schema=from_arrow_schema(arrow.schema))
    got = sm.funnel(safe, **args)
    assert not [n for n in got.audit.notes if "are instants" in n]
    want = sm.funnel(ev, **args)
    pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas(), check_exact=True)
