"""Text in number and time columns, parsed in the engine: the same numbers on every engine.

The bug of issue 14: on the pandas engine a traffic export whose counts are text summed
"120" + "130" to 120130. Now text in a known number or time column of any input (pandas
``object`` / ``str``, polars ``String``, DuckDB ``VARCHAR``, pyarrow string) is parsed by
portable expressions, and text that does not parse is an error naming the table, the
column, how many rows and examples, never a sum or a silent null.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.engine import values
from shopmetrics.engine.running import EngineError
from shopmetrics.io.values import MISSING as IO_MISSING
from shopmetrics.io.values import parse_numbers, parse_times

from .conftest import CONSTRUCTORS, Constructor

DAYS = ["2026-11-01", "2026-11-02"]


def _traffic(visitors: list[Any], **more: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.to_datetime(DAYS[: len(visitors)]), "visitors": visitors, **more}
    )


def _column(native: Any, table: str, col: str) -> list[Any]:
    loaded = _engine.load(native, table)
    return _engine.collect(loaded.frame.select(col), f"{table}:test")[col].tolist()


def test_the_pandas_engine_no_longer_sums_text_counts_as_strings(engine: str) -> None:
    text = _traffic(["120", "130"], paid_buyers=["3", "4"], paid_amount=["1,234.00", "￥66"])
    assert text["visitors"].sum() == "120130"  # the bug, in pandas itself
    got = sm.funnel(traffic=text).to_pandas().iloc[0]
    assert got["visitors"] == 250
    assert got["paid_buyers"] == 7
    assert got["paid_amount"] == pytest.approx(1300.0)
    assert text["visitors"].tolist() == ["120", "130"]  # the caller's table untouched


NUMBERS = {
    "12,345": 12345.0,
    "1.2万": 12000.0,
    "3亿": 3e8,
    "￥1,234.00": 1234.0,
    "¥5": 5.0,
    "0元": 0.0,
    "34,895.00": 34895.0,
    "-12": -12.0,
    " 7 ": 7.0,
    "1e3": 1000.0,
}


def test_counts_and_money_written_as_text_parse_the_same_on_every_engine(
    constructor: Constructor,
) -> None:
    texts = [*NUMBERS, "-", "--", "—", "", None]
    want = [*NUMBERS.values(), None, None, None, None, None]
    native = constructor(pd.DataFrame({"paid_amount": texts, "date": pd.Timestamp("2026-11-01")}))
    got = _column(native, "traffic", "paid_amount")
    for g, w in zip(got, want, strict=True):
        assert (pd.isna(g) and w is None) or g == w


def test_a_rate_column_takes_percentages_and_fractions(constructor: Constructor) -> None:
    peers = pd.DataFrame(
        {"metric": ["payment_conversion"] * 3, "peer_avg": ["3.45%", "0.0345", "-"]}
    )
    got = _column(constructor(peers), "peers", "peer_avg")
    assert got[:2] == [pytest.approx(0.0345), pytest.approx(0.0345)]
    assert pd.isna(got[2])


TIMES = {
    "2026-11-01": dt.datetime(2026, 11, 1),
    "20261101": dt.datetime(2026, 11, 1),
    "2026/11/1": dt.datetime(2026, 11, 1),
    "2026.11.01": dt.datetime(2026, 11, 1),
    "2026年11月01日": dt.datetime(2026, 11, 1),
    "2026-11-01 08:30:00": dt.datetime(2026, 11, 1, 8, 30),
    "2026-11-01T08:30:00": dt.datetime(2026, 11, 1, 8, 30),
    "2026/11/1 9:05": dt.datetime(2026, 11, 1, 9, 5),
    "2026年11月1日 8时5分3秒": dt.datetime(2026, 11, 1, 8, 5, 3),
    "20261101 08:30": dt.datetime(2026, 11, 1, 8, 30),
    "2024-02-29 23:59:59": dt.datetime(2024, 2, 29, 23, 59, 59),
}


def test_dates_and_times_written_as_text_parse_the_same_on_every_engine(
    constructor: Constructor,
) -> None:
    texts = [*TIMES, "-", None]
    native = constructor(pd.DataFrame({"date": texts, "visitors": 1}))
    got = _column(native, "traffic", "date")
    assert [pd.Timestamp(g) for g in got[: len(TIMES)]] == [pd.Timestamp(t) for t in TIMES.values()]
    assert all(pd.isna(g) for g in got[len(TIMES) :])


def test_iso_times_take_the_fast_path_and_give_the_same_instants(constructor: Constructor) -> None:
    stamps = ["2026-11-01 08:30:00", "2026-11-02 23:59:59", ""]
    frame = nw.from_native(constructor(pd.DataFrame({"ts": stamps}))).lazy()
    plan = values.plan(frame, "events", {"ts": "time"})
    assert plan.formats == {"ts": "%Y-%m-%d %H:%M:%S"}
    fast = _engine.collect(values.parse(frame, plan.kinds, plan.formats), "events:test")["ts"]
    slow = _engine.collect(values.parse(frame, plan.kinds), "events:test")["ts"]
    assert [str(v) for v in fast] == [str(v) for v in slow]


@pytest.mark.parametrize(
    ("column", "text", "what"),
    [
        ("visitors", "abc", "not counts"),
        ("visitors", "3.45%", "A percentage is a rate"),
        ("paid_amount", "1,2,3", "not amounts"),
        ("date", "2026-02-30", "not dates or times"),
        ("date", "2026-13-01", "not dates or times"),
    ],
)
def test_text_that_does_not_parse_is_an_error_naming_table_column_rows_and_examples(
    constructor: Constructor, column: str, text: str, what: str
) -> None:
    good = {"visitors": "10", "paid_amount": "1.00", "date": "2026-11-01"}
    rows = [dict(good), dict(good, **{column: text}), dict(good, **{column: text})]
    native = constructor(pd.DataFrame(rows))
    with pytest.raises(values.TextValueError) as err:
        _engine.load(native, "traffic")
    msg = str(err.value)
    assert f"traffic: column {column!r} has 2 values" in msg
    assert repr(text) in msg
    assert what in msg
    assert "blank them" in msg  # the fix
    (problem,) = err.value.problems
    assert (problem.table, problem.column, problem.rows) == ("traffic", column, 2)


def test_an_error_names_the_column_as_the_user_named_it() -> None:
    table = pd.DataFrame({"日期": ["2026-11-01"], "访客数": ["n/a"]})
    with pytest.raises(values.TextValueError, match=r"'访客数 \(visitors\)'"):
        sm.funnel(traffic=table)


def test_validation_gets_the_same_problems_as_flags() -> None:
    frame = nw.from_native(
        pd.DataFrame({"amount": ["1.00", "x", "y"], "created_at": ["soon", "", "2026-11-01"]})
    ).lazy()
    flags = values.text_problems(frame, "orders")
    assert sorted((f.code, f.column, f.n_rows) for f in flags) == [
        ("unparseable_number", "amount", 2),
        ("unparseable_time", "created_at", 1),
    ]
    assert all(f.severity == "error" for f in flags)
    # load(localize=False), as validation calls it, leaves the text as it is
    raw = _engine.load(pd.DataFrame({"amount": ["x"]}), "orders", localize=False)
    assert _engine.collect(raw.frame, "orders:test")["amount"].tolist() == ["x"]


def test_the_parse_agrees_with_the_export_reader() -> None:
    assert set(values.MISSING) == set(IO_MISSING)
    texts = [*NUMBERS]
    ours = _column(
        pd.DataFrame(
            {"amount": texts, "order_id": "1", "buyer_id": "b", "created_at": "2026-11-01"}
        ),
        "orders",
        "amount",
    )
    assert ours == pytest.approx(parse_numbers(texts, kind="money").values.tolist())
    stamps = [*TIMES]
    got = _column(pd.DataFrame({"date": stamps}), "traffic", "date")
    assert [pd.Timestamp(g) for g in got] == list(parse_times(stamps).values)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(10**9), max_value=10**9),
            st.integers(min_value=0, max_value=99),
            st.sampled_from(["plain", "comma", "yuan", "sign", "unit"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_amounts_rendered_as_text_parse_back_on_every_engine(
    cells: list[tuple[int, int, str]],
) -> None:
    want, texts = [], []
    for whole, cents, style in cells:
        value = whole + cents / 100 if whole >= 0 else whole - cents / 100
        text = {
            "plain": f"{value:.2f}",
            "comma": f"{value:,.2f}",
            "yuan": f"{value:.2f}元",
            "sign": ("-￥" if value < 0 else "￥") + f"{abs(value):,.2f}",
            "unit": f"{value / 10_000:.6f}万",
        }[style]
        want.append(value)
        texts.append(text)
    df = pd.DataFrame({"date": pd.Timestamp("2026-11-01"), "paid_amount": texts})
    for make in CONSTRUCTORS.values():
        got = _column(make(df), "traffic", "paid_amount")
        assert got == pytest.approx(want, abs=0.005), texts


# ------------------------------------------------------------------ ids and columns=


def test_numeric_product_ids_with_presale_columns_no_longer_crash(engine: str) -> None:
    events = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-01 09:00", "2026-11-01 09:05", "2026-11-01 10:00"]),
            "visitor_id": [1, 2, 3],
            "event": ["visit", "visit", "visit"],
            "product_id": [600100200301, 600100200301, 600100200302],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [3412345678901234567, 3412345678901234568],
            "buyer_id": [1, 2],
            "created_at": pd.to_datetime(["2026-11-01 09:01", "2026-11-01 09:06"]),
            "paid_at": pd.to_datetime(["2026-11-01 09:02", None]),
            "amount": [20.0, 30.0],
            "product_id": [600100200301, 600100200301],
            "is_presale": [True, True],
            "deposit_paid_at": pd.to_datetime(["2026-11-01 09:02", "2026-11-01 09:07"]),
        }
    )
    res = sm.funnel(events, orders, by="product_id")
    got = res.to_pandas().set_index("product_id")
    assert got.loc["600100200301", "visitors"] == 2
    assert got.loc["600100200301", "paid_buyers"] == 1


def test_a_columns_key_not_in_the_table_is_an_error_with_a_did_you_mean() -> None:
    orders = pd.DataFrame(
        {
            "订单编号": ["1"],
            "买家": ["b"],
            "下单时间": ["2026-11-01"],
            "金额": [1.0],
            "付款时间 ": ["2026-11-01"],
        }
    )
    with pytest.raises(sm.SchemaError) as err:
        _engine.load(orders, "orders", {"买家x": "buyer_id"})
    msg = str(err.value)
    assert "orders: columns= maps '买家x' to 'buyer_id'" in msg
    assert "'下单时间'" in msg  # the table's columns are listed
    assert "Did you mean '买家'?" in msg
    # a key for another table's column is not an error (columns= serves every table)
    loaded = _engine.load(orders, "orders", {"买家": "buyer_id", "uid": "visitor_id"})
    assert "buyer_id" in loaded.columns
    # a key that matches a header but for surrounding spaces or full width maps it
    loaded = _engine.load(orders, "orders", {"买家": "buyer_id", "付款时间": "paid_at"})
    assert loaded.renamed["付款时间 "] == "paid_at"
    loaded = _engine.load(orders, "orders", {"买家\u3000": "buyer_id"})
    assert "buyer_id" in loaded.columns


# ------------------------------------------------------------------ engine errors


LAZY = [name for name in ("polars-lazy", "duckdb") if name in CONSTRUCTORS]


@pytest.mark.parametrize("lazy", LAZY)
def test_an_engine_failure_at_collect_names_the_table_and_column(lazy: str) -> None:
    table = _engine.load(CONSTRUCTORS[lazy](pd.DataFrame({"region": ["x", "y"]})), "ratings")
    frame = table.frame.select(nw.col("region").cast(nw.Int64()).sum())
    with pytest.raises(EngineError) as err:
        _engine.collect(frame, "ratings:audit")
    assert err.value.table == "ratings"
    assert str(err.value).startswith("ratings: ")
    assert "validate" in str(err.value)
    assert err.value.__cause__ is not None  # the engine's own exception, chained
    assert not isinstance(err.value.__cause__, sm.ShopmetricsError)


def test_wrap_finds_the_column_in_the_engines_message() -> None:
    exc = ValueError(
        "'is_in' cannot check for Int64 values in List(String) data: column \"product_id\""
    )
    err = _engine.running.wrap(exc, "flags:presale_ids", ["order_id", "product_id"], table="orders")
    assert (err.table, err.column) == ("orders", "product_id")
    assert "orders: the engine failed in column 'product_id' (flags:presale_ids)" in str(err)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-02-29", True),
        ("2000-02-29 00:00:00", True),
        ("1900-02-29", False),
        ("2026-02-29", False),
        ("2026-02-30", False),
        ("2026-04-31", False),
        ("2026-12-31 23:59:59", True),
        ("2026-12-31 24:00:00", False),
        ("2026-00-10", False),
    ],
)
def test_iso_text_is_checked_against_the_calendar(text: str, ok: bool) -> None:
    frame = nw.from_native(pd.DataFrame({"ts": [text, "2026-11-01 08:00:00"]})).lazy()
    plan = values.plan(frame, "events", {"ts": "time"})
    assert (not plan.problems) is ok
    # the general parse agrees
    slashed = frame.with_columns(nw.col("ts").str.replace_all("-", "/"))
    assert (not values.plan(slashed, "events", {"ts": "time"}).problems) is ok


# ------------------------------------------------------------------ PySpark


@pytest.fixture(scope="module")
def spark_session() -> Any:
    pyspark = pytest.importorskip("pyspark.sql")
    session = (
        pyspark.SparkSession.builder.master("local[1]")
        .appName("shopmetrics-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _on_spark(session: Any, df: pd.DataFrame, folder: Any, name: str) -> Any:
    """A Spark DataFrame read from Parquet (as test_spark hands tables to Spark)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / f"{name}.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, coerce_timestamps="us")
    return session.read.parquet(str(path))


@pytest.mark.spark
def test_text_values_load_on_spark_as_on_pandas(spark_session: Any, tmp_path: Any) -> None:
    texts = {**{k: k for k in NUMBERS}, "-": "-"}
    df = pd.DataFrame(
        {
            "date": [*list(TIMES)[: len(texts) - 1], "2026-11-01"],
            "paid_amount": list(texts),
            "visitors": ["120", "130", "1.2万", "-", "0", "1", "2", "3", "4", "5", "6"][
                : len(texts)
            ],
            "product_id": [str(600100200301 + i) for i in range(len(texts))],
        }
    )
    sdf = _on_spark(spark_session, df, tmp_path, "traffic")
    got = _engine.collect(_engine.load(sdf, "traffic").frame, "traffic:test")
    want = _engine.collect(_engine.load(df, "traffic").frame, "traffic:test")
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )
    bad = _on_spark(
        spark_session, pd.DataFrame({"date": ["2026-11-01"], "visitors": ["abc"]}), tmp_path, "bad"
    )
    with pytest.raises(values.TextValueError, match="'visitors'"):
        _engine.load(bad, "traffic")
    ids = _on_spark(
        spark_session,
        pd.DataFrame({**_orders_frame(), "order_id": [3412345678901234567, 3412345678901234568]}),
        tmp_path,
        "orders",
    )
    loaded = _engine.collect(_engine.load(ids, "orders").frame, "orders:test")
    assert loaded["order_id"].tolist() == ["3412345678901234567", "3412345678901234568"]


def _orders_frame() -> dict[str, Any]:
    return {
        "buyer_id": ["b1", "b2"],
        "created_at": pd.to_datetime(["2026-11-01 09:00", "2026-11-01 10:00"]),
        "amount": [12.5, 1.0],
    }
