"""sm.validate type-checks every known column by its kind, as exports write them.

Each bad-input case: the reason code, the column named (in the problem and its message),
the rows counted, on every engine (pandas, pyarrow, polars, DuckDB). The tables are shaped
like back-end exports: every cell text, thousands separators, currency signs, "-" for
missing, Chinese headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.engine import checks
from shopmetrics.io.values import MISSING, parse_numbers

from .conftest import Constructor


def _problems(report: sm.ValidationReport, code: str) -> dict[str, Any]:
    """The problems of one code, by column."""
    return {p.column: p for p in report.problems if p.code == code}


def _product_export() -> pd.DataFrame:
    """A 生意参谋 product export as its cells read: text everywhere."""
    return pd.DataFrame(
        {
            "日期": ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-02", "2026-11-03"],
            "商品ID": ["600100200301", "600100200302", "600100200301", "600100200302", "600"],
            "访客数": ["1,391", "3.45%", "-", "二十", "12"],
            "浏览量": ["2,000", "", "--", "—", "15"],
            "支付金额": ["￥1,234.00", "1234元", "¥5", "1.2万", "-5"],
            "支付买家数": ["12", "3", "0", "1", "2.5"],
        }
    )


def test_text_numbers_that_do_not_parse(constructor: Constructor) -> None:
    report = sm.validate(traffic=constructor(_product_export()))
    bad = _problems(report, "not_a_number")
    # "￥1,234.00", "1234元", "¥5" and "1.2万" read as amounts, as the loader reads them
    assert sorted(bad) == ["visitors"]
    visitors = bad["visitors"]
    assert visitors.severity == "error"
    assert visitors.n_rows == 2  # "3.45%", "二十"; "1,391", "-" and "12" are fine
    assert sorted(ex["visitors"] for ex in visitors.examples) == ["3.45%", "二十"]
    assert "'visitors' (访客数)" in visitors.message
    assert "percentage is a rate" in visitors.message
    assert "page_views" not in bad  # "", "--", "—" are missing markers
    # the text numbers that parse are checked as numbers: "-5" and "2.5"
    assert _problems(report, "negative_values")["paid_amount"].n_rows == 1
    assert _problems(report, "not_a_whole_number")["paid_buyers"].n_rows == 1
    assert not report.ok


def test_text_dates_that_do_not_parse(constructor: Constructor) -> None:
    orders = pd.DataFrame(
        {
            "订单编号": ["1001", "1002", "1003", "1004", "1005", "1006"],
            "buyer_id": ["tb_a", "tb_b", "tb_c", "tb_d", "tb_e", "tb_f"],
            "created_at": [
                "2026-11-01 10:00:00",
                "20261102",
                "2026/11/3 9:05",
                "2026年11月04日",
                "明天",
                "2026-13-01",
            ],
            "paid_at": ["2026-11-01 10:05:00", "-", "", None, "2026.11.05", "2026-11-06T08:00:00"],
            "amount": ["10.00", "20.00", "30.00", "40.00", "50.00", "60.00"],
        }
    )
    report = sm.validate(orders=constructor(orders), columns={"订单编号": "order_id"})
    bad = _problems(report, "unparseable_time")
    assert sorted(bad) == ["created_at"]
    assert bad["created_at"].n_rows == 2
    assert sorted(ex["created_at"] for ex in bad["created_at"].examples) == [
        "2026-13-01",
        "明天",
    ]
    assert "'created_at'" in bad["created_at"].message
    assert {ex["order_id"] for ex in bad["created_at"].examples} == {"1005", "1006"}
    assert [p.code for p in report.problems] == ["unparseable_time"]


def test_text_times_with_and_without_offsets_are_mixed(constructor: Constructor) -> None:
    events = pd.DataFrame(
        {
            "ts": ["2026-11-01 10:00:00+08:00", "2026-11-01 11:00:00", "2026-11-01T12:00:00Z"],
            "visitor_id": ["a", "b", "c"],
            "event": ["visit", "visit", "visit"],
        }
    )
    report = sm.validate(events=constructor(events))
    # the mix is reported, and so is what the loader refuses: text with a UTC offset
    # (store exports carry local times; convert aware text before passing it)
    assert {(p.code, p.column) for p in report.problems} == {
        ("mixed_time_zones", "ts"),
        ("mixed_time_zones", None),
        ("unparseable_time", "ts"),
    }


def test_scores_outside_1_to_5_as_text_and_numbers(constructor: Constructor) -> None:
    ratings = pd.DataFrame(
        {
            "订单编号": ["1001", "1002", "1003", "1004"],
            "买家昵称": ["a", "b", "c", "d"],
            "评价时间": pd.to_datetime(["2026-11-02"] * 4),
            "item_score": ["5", "6", "4.5", "好评"],
            "service_score": [5, 0, 4, 5],
            "logistics_score": [5.0, 5.0, None, 3.0],
        }
    )
    cols = {"订单编号": "order_id", "买家昵称": "buyer_id", "评价时间": "rated_at"}
    report = sm.validate(ratings=constructor(ratings), columns=cols)
    scores = _problems(report, "score_out_of_range")
    assert sorted(scores) == ["item_score", "service_score"]
    assert scores["item_score"].n_rows == 2  # "6" and "4.5"
    assert scores["service_score"].n_rows == 1
    assert scores["service_score"].examples[0]["order_id"] == "1002"
    text = _problems(report, "not_a_number")
    assert list(text) == ["item_score"]
    assert text["item_score"].n_rows == 1
    assert "好评" in text["item_score"].message


def test_wrong_types(constructor: Constructor) -> None:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "buyer_id": ["b1", "b2", "b3"],
            "created_at": [1762000000, 1762000100, 1762000200],  # epoch seconds
            "amount": pd.to_datetime(["2026-11-01", "2026-11-02", None]),
            "is_presale": ["是", "否", "否"],
        }
    )
    report = sm.validate(orders=constructor(orders))
    wrong = _problems(report, "wrong_type")
    assert sorted(wrong) == ["amount", "created_at", "is_presale"]
    assert wrong["amount"].n_rows == 2  # the null is no value of the wrong type
    assert wrong["created_at"].n_rows == 3
    assert "unit='s'" in wrong["created_at"].message
    assert "'is_presale'" in wrong["is_presale"].message
    assert all(p.severity == "error" for p in wrong.values())


def test_float_ids_are_a_warning(constructor: Constructor) -> None:
    orders = pd.DataFrame(
        {
            "order_id": [3.0e18, 3.0e18 + 1, 1001.0],  # 19-digit ids through float: merged
            "buyer_id": ["b1", "b2", "b3"],
            "created_at": pd.to_datetime(["2026-11-01"] * 3),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    report = sm.validate(orders=constructor(orders))
    ids = _problems(report, "float_ids")
    assert list(ids) == ["order_id"]
    assert ids["order_id"].severity == "warning"
    assert ids["order_id"].n_rows == 3
    assert "19-digit" in ids["order_id"].message
    # and what it warns of has happened: two orders became one
    assert _problems(report, "duplicate_rows")["order_id"].n_rows == 1


def test_every_problem_reported_at_once(constructor: Constructor, engine: str) -> None:
    """One report holds every kind of problem of every table, each with rows and at most
    five examples; ``strict`` raises it, naming the columns."""
    export = pd.concat([_product_export()] * 3, ignore_index=True)
    ratings = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "buyer_id": ["a", "b"],
            "rated_at": ["2026-11-02 10:00:00", "later"],
            "item_score": ["5", "9"],
            "service_score": [5, 5],
            "logistics_score": [5, 5],
        }
    )
    with _engine.collect_spy() as spy:
        report = sm.validate(traffic=constructor(export), ratings=constructor(ratings))
    found = {(p.table, p.code, p.column, p.n_rows) for p in report.problems}
    assert found == {
        ("traffic", "not_a_number", "visitors", 6),
        ("traffic", "negative_values", "paid_amount", 3),
        ("traffic", "not_a_whole_number", "paid_buyers", 3),
        ("ratings", "unparseable_time", "rated_at", 1),
        ("ratings", "score_out_of_range", "item_score", 1),
    }
    assert all(0 < len(p.examples) <= 5 for p in report.problems)
    # the row checks of a table are counted in one pass, then examples for what was found
    assert [w for w, _ in spy].count("validate:traffic") == 1
    with pytest.raises(sm.ValidationError) as err:
        sm.validate(traffic=constructor(export), ratings=constructor(ratings), strict=True)
    assert isinstance(err.value, sm.ShopmetricsError)
    for col in ("visitors", "paid_amount", "paid_buyers", "rated_at", "item_score"):
        assert repr(col) in str(err.value)


def test_clean_export_text_validates_clean(constructor: Constructor) -> None:
    export = pd.DataFrame(
        {
            "日期": ["2026-11-01", "20261102", "2026年11月3日"],
            "访客数": ["1,391", "-", "12"],
            "支付金额": ["￥1,234.00", "", "0元"],
            "支付买家数": ["12", "--", "0"],
        }
    )
    report = sm.validate(traffic=constructor(export))
    assert report.problems == (), str(report)


def test_the_demo_store_validates_clean(store: sm.datasets.Store) -> None:
    report = sm.validate(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        traffic=store.traffic,
    )
    assert report.ok, str(report)
    assert not [p for p in report.problems if p.code not in ("multi_day_uniques",)]


def test_missing_markers_match_the_export_reader() -> None:
    """The engine's text rule and shopmetrics.io read the same cells as missing."""
    assert set(checks.MISSING_TEXT) == set(MISSING)


@pytest.mark.parametrize(
    "text",
    ["12,345", "￥1,234.00", "¥5", "1234元", "-5", "0.5", ".5", "1e-05", "  7 ", "-￥12"],
)
def test_plain_numbers_read_as_the_export_reader_reads_them(text: str) -> None:
    frame = pd.DataFrame({"paid_amount": [text], "date": ["2026-11-01"]})
    table = _engine.load(frame, "traffic", localize=False)
    rule = checks.text_numbers("paid_amount")
    got = _engine.collect(table.frame.select(rule.value.alias("v"), rule.bad.alias("bad")))
    assert not bool(got["bad"].iloc[0])
    assert float(got["v"].iloc[0]) == pytest.approx(parse_numbers([text]).values.iloc[0])


@pytest.mark.spark
def test_validation_on_spark_equals_pandas(tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    export = _product_export()
    path = tmp_path / "export.parquet"
    pq.write_table(pa.Table.from_pandas(export, preserve_index=False), path)
    got = sm.validate(traffic=spark.read.parquet(str(path)))
    want = sm.validate(traffic=export)
    assert [p.to_dict() for p in got.problems] == [p.to_dict() for p in want.problems]
    assert {p.code for p in got.problems} == {
        "not_a_number",
        "negative_values",
        "not_a_whole_number",
    }


@pytest.mark.parametrize(
    "cell",
    ["1,391", "1.2万", "￥1,234.00", "0元", "-", "", "3.45%", "二十", "1,2,3", "12.5", "1e3"],
)
def test_validation_and_the_loader_read_text_alike(cell: str) -> None:
    """One parser: a count cell validation accepts is one the metrics load, and the reverse."""
    traffic = pd.DataFrame({"date": ["2026-11-02"], "product_id": ["1"], "visitors": [cell]})
    flagged = bool(_problems(sm.validate(traffic=traffic), "not_a_number"))
    if flagged:
        with pytest.raises(sm.ShopmetricsError, match="visitors"):
            sm.funnel(traffic=traffic, detect=False)
    else:
        sm.funnel(traffic=traffic, detect=False)  # loads and counts
