"""Rows that validation finds unusable are left out of the order metrics and counted.

Duplicated order lines, negative amounts and payments before creation: the funnel's
order counting pass leaves them out, each under its reason in the audit, in the same
pass (no more collects), with the same numbers on every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shopmetrics as sm
from shopmetrics import clv
from shopmetrics import engine as _engine

from .conftest import CONSTRUCTORS, Constructor

NEW_REASONS = {
    "duplicate order line",
    "conflicting duplicate order line",
    "negative amount",
    "paid before created",
}

HEADERS = {  # a 订单报表 as downloaded, with the headers the vocabulary maps
    "order_id": "订单编号",
    "buyer_id": "买家昵称",
    "product_id": "宝贝ID",
    "created_at": "创建时间",
    "paid_at": "付款时间",
    "amount": "实付金额",
}


def _orders(n: int = 12) -> pd.DataFrame:
    """``n`` clean paid order lines over two products and two days (Chinese headers)."""
    created = pd.Timestamp("2026-11-02 09:00") + pd.to_timedelta(np.arange(n) * 3, unit="h")
    frame = pd.DataFrame(
        {
            "order_id": [f"4{i:018d}" for i in range(n)],  # 19-digit ids, as text
            "buyer_id": [f"tb_{i % 7}" for i in range(n)],
            "product_id": ["600100200301", "600100200302"] * (n // 2),
            "created_at": created,
            "paid_at": created + pd.Timedelta(minutes=5),
            "amount": np.round(np.linspace(19.9, 129.0, n), 2),
        }
    )
    return frame.rename(columns=HEADERS)


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-02 08:00", "2026-11-03 08:00"]),
            "visitor_id": ["tb_1", "tb_2"],
            "event": ["visit", "visit"],
            "product_id": ["600100200301", "600100200302"],
        }
    )


def _funnel(orders: pd.DataFrame, constructor: Constructor) -> sm.FunnelResult:
    return sm.funnel(
        constructor(_events()), constructor(orders), by=["product_id"], freq="D", detect=False
    )


def _table(result: sm.FunnelResult) -> pd.DataFrame:
    cols = ["product_id", "period", "order_buyers", "paid_buyers", "paid_orders", "paid_amount"]
    return result.to_pandas()[cols].sort_values(["product_id", "period"]).reset_index(drop=True)


def _left_out(result: sm.FunnelResult) -> dict[str, int]:
    return {e.reason: e.rows for e in result.audit.excluded if e.table == "orders"}


def _validated(orders: pd.DataFrame, constructor: Constructor, code: str) -> Any:
    problems = [p for p in sm.validate(orders=constructor(orders)).problems if p.code == code]
    assert len(problems) == 1, problems
    return problems[0]


def test_exact_copies_of_order_lines_count_once(constructor: Constructor) -> None:
    clean = _orders()
    dirty = pd.concat([clean, clean.iloc[[0, 3]]], ignore_index=True)  # two lines downloaded twice
    got = _funnel(dirty, constructor)
    pd.testing.assert_frame_equal(_table(got), _table(_funnel(clean, constructor)))
    assert _left_out(got) == {"duplicate order line": 2}
    assert got.audit.rows_in["orders"] == len(dirty)
    found = _validated(dirty, constructor, "duplicate_rows")
    assert (found.column, found.n_rows) == ("order_id,product_id", 2)


def test_repeated_orders_without_product_id(constructor: Constructor) -> None:
    """A one-row-an-order report (no product column): the same order id twice is one order."""
    clean = _orders().drop(columns=["宝贝ID"])
    dirty = pd.concat([clean, clean.iloc[[5]]], ignore_index=True)
    args: dict[str, Any] = {"freq": "D", "detect": False}
    got = sm.funnel(constructor(_events()), constructor(dirty), **args)
    want = sm.funnel(constructor(_events()), constructor(clean), **args)
    cols = ["period", "order_buyers", "paid_buyers", "paid_amount"]
    pd.testing.assert_frame_equal(got.to_pandas()[cols], want.to_pandas()[cols])
    assert _left_out(got) == {"duplicate order line": 1}
    assert "order_id" in next(e.detail for e in got.audit.excluded)
    found = _validated(dirty, constructor, "duplicate_rows")
    assert (found.column, found.n_rows) == ("order_id", 1)


def test_copies_that_disagree_are_all_left_out(constructor: Constructor) -> None:
    """Two amounts for one order line: which is right is unknown, so neither is used."""
    clean = _orders()
    twin = clean.iloc[[2]].assign(实付金额=clean["实付金额"].iloc[2] + 10)
    dirty = pd.concat([clean, twin, twin], ignore_index=True)  # three copies, two versions
    got = _funnel(dirty, constructor)
    pd.testing.assert_frame_equal(_table(got), _table(_funnel(clean.drop(index=2), constructor)))
    assert _left_out(got) == {"conflicting duplicate order line": 3}
    assert _validated(dirty, constructor, "duplicate_rows").n_rows == 2


def test_negative_amounts_are_left_out(constructor: Constructor) -> None:
    dirty = _orders()
    dirty.loc[[1, 4], "实付金额"] = [-39.8, -0.01]
    got = _funnel(dirty, constructor)
    pd.testing.assert_frame_equal(
        _table(got), _table(_funnel(dirty.drop(index=[1, 4]), constructor))
    )
    assert _left_out(got) == {"negative amount": 2}
    assert "refund_amount" in next(e.detail for e in got.audit.excluded)
    found = _validated(dirty, constructor, "negative_values")
    assert (found.column, found.n_rows) == ("amount", 2)


def test_payments_before_creation_are_left_out(constructor: Constructor) -> None:
    dirty = _orders()
    dirty.loc[7, "付款时间"] = dirty.loc[7, "创建时间"] - pd.Timedelta(hours=8)  # a UTC time
    got = _funnel(dirty, constructor)
    pd.testing.assert_frame_equal(_table(got), _table(_funnel(dirty.drop(index=[7]), constructor)))
    assert _left_out(got) == {"paid before created": 1}
    found = _validated(dirty, constructor, "paid_before_created")
    assert (found.column, found.n_rows) == ("paid_at", 1)


def test_every_row_counted_once_under_its_first_reason(
    constructor: Constructor, engine: str
) -> None:
    clean = _orders(20)
    dirty = clean.copy()
    dirty.loc[0, "买家昵称"] = None  # null buyer, and negative: counted as null
    dirty.loc[0, "实付金额"] = -1.0
    dirty.loc[1, "实付金额"] = -1.0  # negative, and paid before created: counted as negative
    dirty.loc[1, "付款时间"] = dirty.loc[1, "创建时间"] - pd.Timedelta(hours=1)
    dirty.loc[2, "付款时间"] = dirty.loc[2, "创建时间"] - pd.Timedelta(hours=1)
    dirty = pd.concat([dirty, dirty.iloc[[2, 3, 3]]], ignore_index=True)  # 2 is late already
    got = _funnel(dirty, constructor)
    left = _left_out(got)
    assert left == {
        "null order_id, buyer_id, product_id": 1,
        "negative amount": 1,
        "paid before created": 2,
        "duplicate order line": 2,
    }
    used = len(dirty) - sum(left.values())
    assert used == len(clean) - 3
    want = _funnel(clean.drop(index=[0, 1, 2]), constructor)
    pd.testing.assert_frame_equal(_table(got), _table(want))


def test_no_more_collects_with_bad_rows(constructor: Constructor) -> None:
    """The exclusions are counted in the audit pass the order counts already made."""
    clean = _orders()
    dirty = pd.concat([clean, clean.iloc[[0]]], ignore_index=True)
    dirty.loc[1, "实付金额"] = -5.0
    twin = clean.iloc[[2]].assign(实付金额=1.0)
    dirty = pd.concat([dirty, twin], ignore_index=True)
    logs = []
    for orders in (clean, dirty):
        with _engine.collect_spy() as spy:
            _funnel(orders, constructor)
        logs.append([w for w, _ in spy])
    assert logs[0] == logs[1] == ["funnel:events", "orders:audit", "funnel:orders"]


def test_the_demo_store_has_no_such_rows_and_keeps_its_numbers(store: sm.datasets.Store) -> None:
    orders = store.orders
    assert not orders.duplicated(["order_id", "product_id"]).any()
    assert not (orders["amount"] < 0).any()
    assert not (orders["paid_at"] < orders["created_at"]).any()
    result = sm.funnel(store.events, orders, by=["product_id"], freq="W", detect=False)
    assert not NEW_REASONS & {e.reason for e in result.audit.excluded}
    # paid amounts as a hand count of the paid lines (the funnel's other figures are
    # checked by hand in tests/test_funnel.py)
    paid = orders[orders["paid_at"].notna()]
    by_product = paid.groupby("product_id")["amount"].sum()
    got = result.to_pandas().groupby("product_id")["paid_amount"].sum()
    np.testing.assert_allclose(got.loc[by_product.index], by_product.to_numpy(), rtol=1e-12)


@pytest.fixture(scope="module")
def to_spark(tmp_path_factory: pytest.TempPathFactory) -> Callable[[pd.DataFrame], Any]:
    """Tables handed to Spark as Parquet (the session of tests/test_spark.py, if running)."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    folder = tmp_path_factory.mktemp("spark_exclusions")

    def convert(frame: pd.DataFrame) -> Any:
        path = folder / f"t{len(list(folder.iterdir()))}.parquet"
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), path, coerce_timestamps="us"
        )
        return spark.read.parquet(str(path))

    return convert


@pytest.mark.spark
def test_exclusions_on_spark_equal_the_pandas_funnel(
    to_spark: Callable[[pd.DataFrame], Any],
) -> None:
    clean = _orders(20)
    dirty = pd.concat([clean, clean.iloc[[0, 0, 5]]], ignore_index=True)
    dirty.loc[1, "实付金额"] = -1.0
    dirty.loc[2, "付款时间"] = dirty.loc[2, "创建时间"] - pd.Timedelta(hours=1)
    dirty = pd.concat([dirty, clean.iloc[[9]].assign(实付金额=1.0)], ignore_index=True)
    with _engine.collect_spy() as spy:
        got = _funnel(dirty, to_spark)
    want = _funnel(dirty, lambda df: df)
    pd.testing.assert_frame_equal(_table(got), _table(want))
    assert (
        _left_out(got)
        == _left_out(want)
        == {
            "negative amount": 1,
            "paid before created": 1,
            "duplicate order line": 3,
            "conflicting duplicate order line": 2,
        }
    )
    assert [w for w, _ in spy] == ["funnel:events", "orders:audit", "funnel:orders"]


ORDER_ENGINES = [c for c in ("pandas", "polars") if c in CONSTRUCTORS]


def _with_bad_rows(clean: pd.DataFrame) -> pd.DataFrame:
    """``clean`` with one of each row the order metrics leave out, each with a refund."""
    negative = clean.iloc[[4]].assign(订单编号="4" + "9" * 18, 实付金额=-20.0)
    early = clean.iloc[[6]].assign(订单编号="4" + "8" * 18)
    early["付款时间"] = early["创建时间"] - pd.Timedelta(hours=1)
    return pd.concat([clean, clean.iloc[[0]], negative, early], ignore_index=True)


@pytest.mark.parametrize("name", ORDER_ENGINES)
def test_refunds_and_customer_value_leave_out_the_rows_the_funnel_does(name: str) -> None:
    """The same rows are left out of the funnel, refunds, margins and CLV, and counted."""
    make = CONSTRUCTORS[name]
    clean = _orders().assign(退款金额=[10.0, 0, 0, 0, 5.0, 0, 7.0, 0, 0, 0, 0, 0])
    dirty = _with_bad_rows(clean)
    want = dict.fromkeys(["duplicate order line", "negative amount", "paid before created"], 1)
    value = {
        k: sm.visitor_value(make(_events()), make(t), by="product_id", freq="D", detect=False)
        for k, t in (("clean", clean), ("dirty", dirty))
    }
    cols = ["product_id", "period", "paid_amount", "refund_amount", "visitor_value_net"]
    got, ref = (value[k].to_pandas()[cols].sort_values(cols[:2]) for k in ("dirty", "clean"))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True))
    assert got["refund_amount"].sum() == pytest.approx(22.0)
    assert _left_out(value["dirty"]) == want  # counted once, though funnel and refunds read them
    assert value["dirty"].audit.rows_in["orders"] == len(dirty)

    summary = {
        k: clv.buyer_summary(make(t), freq="D") for k, t in (("clean", clean), ("dirty", dirty))
    }
    pd.testing.assert_frame_equal(summary["dirty"], summary["clean"])
    cv = sm.customer_value(make(dirty), freq="D", models=("bgnbd",))
    assert {e.reason: e.rows for e in cv.audit.excluded if e.reason in want} == want
    assert cv.audit.rows_in["orders"] == len(dirty)
