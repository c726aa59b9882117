"""Every fixture export loads with no mapping and matches its truth table to the cent.

The fixtures and ``truth.json`` are built by ``tests/data/exports/make_exports.py``.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from shopmetrics.errors import SchemaError
from shopmetrics.io import semantics
from shopmetrics.io.convert import Canonical, join_lines, to_canonical
from shopmetrics.io.exports import KINDS, header_key, recognise
from shopmetrics.io.files import read_table
from shopmetrics.io.inspect import inspect

HAS_CALAMINE = importlib.util.find_spec("python_calamine") is not None


def _needs_excel(name: str) -> None:
    excel = name.endswith((".xlsx", ".xls")) and not name.endswith("_html.xls")
    if excel and not HAS_CALAMINE:
        pytest.skip("reading Excel needs python-calamine (the excel extra)")


DATA = Path(__file__).parent / "data" / "exports"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))


def _load(name: str) -> Canonical:
    truth = TRUTH[name]
    canonical = to_canonical(read_table(DATA / name))
    if truth.get("joined_with"):
        orders = to_canonical(read_table(DATA / truth["joined_with"]))
        canonical = join_lines(orders, canonical)
    return canonical


def _same(column: str, got: Any, want: Any) -> bool:
    missing = got is None or (isinstance(got, float) and math.isnan(got)) or got is pd.NaT
    if want is None:
        return bool(missing or pd.isna(got))
    if isinstance(want, bool):
        return bool(got) is want
    if isinstance(want, float):
        return abs(float(got) - want) < 0.005  # to the cent
    if isinstance(want, int):
        return int(got) == want
    if column in ("date", "period_end", "created_at", "paid_at", "rated_at", "deposit_paid_at"):
        return pd.Timestamp(got) == pd.Timestamp(want)
    return str(got) == want


def _key(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    names = {
        "orders": ("order_id", "product_id", "product_name"),
        "ratings": ("order_id",),
        "spend": ("date", "source", "campaign"),
        "traffic": ("date", "product_id", "source_path"),
    }[table]
    out = []
    for n in names:
        v = row.get(n)
        out.append(
            None
            if v is None or (isinstance(v, float) and math.isnan(v))
            else str(pd.Timestamp(v).date())
            if n == "date"
            else str(v)
        )
    return tuple(out)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_each_export_matches_its_truth_to_the_cent(name: str) -> None:
    _needs_excel(name)
    truth = TRUTH[name]
    got = _load(name)
    assert got.kind == truth["kind"] or truth.get("joined_with")
    assert not got.problems, [str(p) for p in got.problems]
    want_rows = truth["rows"]
    assert len(got.data) == len(want_rows)
    table = "orders" if got.table == "order_lines" else got.table
    got_rows = {_key(table, r): r for r in got.data.to_dict("records")}
    assert len(got_rows) == len(want_rows)
    for want in want_rows:
        row = got_rows[_key(table, want)]
        bad = {c: (row.get(c), v) for c, v in want.items() if not _same(c, row.get(c), v)}
        assert not bad, (name, _key(table, want), bad)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_each_read_reports_what_it_did(name: str) -> None:
    _needs_excel(name)
    truth = TRUTH[name]
    read = read_table(DATA / name)
    assert read.kind == truth["kind"]
    assert read.encoding == truth["encoding"]
    assert read.header_row == truth["header_row"]
    assert read.summary_rows == truth["summary_rows"]
    assert read.files[0].format == truth["format"]


def test_the_1688_export_counts_the_order_amount_once() -> None:
    _needs_excel("ali1688_orders.xlsx")
    for name in ("ali1688_orders.xlsx", "ali1688_orders_blank.xlsx"):
        got = _load(name).data
        paid = got[got["status"] == "paid"]
        assert paid["amount"].sum() == pytest.approx(TRUTH[name]["paid_total"], abs=0.005)
        # the naive sum of the repeated 实付款 overstates it
        assert paid["order_amount"].sum() > 1.2 * TRUTH[name]["paid_total"]


def test_the_source_export_leaves_out_summary_and_subtotal_rows() -> None:
    got = _load("sycm_source.csv")
    reasons = {e.reason: e.rows for e in got.excluded}
    assert reasons == {"summary_row": 6, "subtotal_row": 3}
    audit = got.audit()
    assert audit.rows_in == {"traffic": len(got.data) + 9}


def test_a_nineteen_digit_order_id_survives_every_form() -> None:
    orders = _load("taobao_orders.csv").data
    assert orders["order_id"].str.len().eq(19).all()
    assert orders["order_id"].iloc[0] == "3412345678901234000"
    items = read_table(DATA / "taobao_items.csv").data
    assert items["商家编码"].str.startswith("00").all()  # leading zeros kept


def test_order_status_and_presale_semantics() -> None:
    orders = _load("taobao_orders.csv").data.set_index("status_text", append=True)
    states = orders["status"].groupby(level=1).agg(set).to_dict()
    assert states["交易关闭"] == {"unpaid", "refunded"}
    assert states["交易成功"] == {"paid"}
    data = _load("taobao_orders.csv").data
    presale = data[data["is_presale"]]
    assert len(presale) == 3
    deposit_only = presale[presale["status_text"] == "等待买家付款"]  # 尾款 unpaid
    assert len(deposit_only) == 1
    assert deposit_only["paid_at"].isna().all()
    assert deposit_only["deposit_paid_at"].notna().all()
    assert (deposit_only["status"] == "unpaid").all()


def test_a_spend_report_without_channel_needs_a_source(tmp_path: Path) -> None:
    path = tmp_path / "计划报表.csv"
    path.write_text("日期,计划名字,展现量,点击量,花费\n2026-11-01,A,100,5,1.00\n", encoding="utf-8")
    read = read_table(path)
    with pytest.raises(SchemaError, match="source="):
        to_canonical(read)
    got = to_canonical(read, source="引力魔方")
    assert got.data["source"].tolist() == ["引力魔方"]


def test_a_columns_key_must_be_in_the_table() -> None:
    read = read_table(DATA / "taobao_orders.csv")
    with pytest.raises(SchemaError, match="付款时间x") as err:
        to_canonical(read, columns={"付款时间x": "paid_at"})
    assert "订单付款时间" in str(err.value)  # the columns present are listed
    # a table whose header carries a trailing space: a key without it still maps
    raw = read.data.rename(columns={"订单付款时间": "订单付款时间 ", "订单编号": "订单号码"})
    got = to_canonical(
        raw, kind="taobao_orders", columns={"订单付款时间": "paid_at", "订单号码": "order_id"}
    )
    assert got.mapping["订单付款时间 "] == "paid_at"
    assert got.data["paid_at"].notna().sum() == 9


def test_headers_match_whitespace_width_and_synonym_insensitively() -> None:
    kind, mapping, _, _ = recognise(
        ["订单编号", "实付款（元） ", "货品标题", "Offer  ID", "宝贝数量"]
    )
    assert kind is not None
    assert kind.name == "ali1688_orders"
    assert mapping["实付款（元） "] == "amount"
    assert mapping["Offer  ID"] == "product_id"
    assert header_key("宝贝ID") == header_key("商品ID")


def test_an_unknown_header_like_a_known_one_gets_a_did_you_mean() -> None:
    _, _, ignored, dym = recognise(["商品ID", "商品访客数", "商品浏览量", "支付买家树"])
    assert dym == {"支付买家树": "支付买家数"}
    assert "did you mean" in ignored["支付买家树"]


def test_rates_running_totals_and_unknowns_are_ignored_with_reasons() -> None:
    _needs_excel("sycm_product_daily.xlsx")
    got = _load("sycm_product_daily.xlsx")
    assert got.ignored["商品支付转化率"].startswith("derived")
    assert got.ignored["年累计支付金额"].startswith("running total")
    assert "visitors" in got.data.columns
    assert "商品支付转化率" in got.data.columns


def test_no_kind_maps_two_headers_of_different_columns_to_one_key() -> None:
    for kind in KINDS.values():
        seen: dict[str, Any] = {}
        for col in kind.columns:
            for h in col.headers:
                key = header_key(h)
                assert seen.get(key, col) is col, (kind.name, h)
                seen[key] = col


def test_payment_state_without_a_payment_time_column_reads_the_status() -> None:
    status = pd.Series(
        ["交易成功", "买家已付款，等待卖家发货", "等待买家付款", "交易关闭", "新状态"]
    )
    assert semantics.payment_state(status, None).tolist()[:3] == ["paid", "paid", "unpaid"]
    assert semantics.unknown_statuses(status).tolist() == [False] * 4 + [True]


def test_inspect_says_what_it_recognised_and_excludes() -> None:
    found = inspect(DATA / "sycm_source.csv")
    text = str(found)
    assert "sycm_source" in text
    assert "header on row 6" in text
    assert "utf-8-sig" in text
    assert "summary rows: 6" in text
    assert "subtotal rows: 3" in text
    assert "访客数环比: change against the previous period" in text
    assert "<li>" in found._repr_html_()
    spend = inspect(DATA / "直通车_计划报表_20261101_20261103.csv")
    assert spend.kind == "ztc_spend"
    assert spend.error is None


def test_counts_written_as_text_add_up_as_numbers_and_bad_cells_are_named() -> None:
    text = pd.DataFrame(
        {
            "统计日期": ["2026-11-01", "2026-11-02", "2026-11-03"],
            "商品ID": ["600100200301"] * 3,
            "商品访客数": ["120", "130", "一百"],
            "支付金额": ["1,234.00", "3.45%", "-"],
        }
    )
    got = to_canonical(text)
    assert got.data["visitors"].sum() == 250  # never "120130"
    problems = {p.column: p for p in got.problems}
    assert problems["商品访客数"].reason == "not_a_number"
    assert problems["商品访客数"].rows == (2,)
    assert problems["支付金额"].reason == "rate_in_amount"
    assert "支付金额" in str(problems["支付金额"])


def test_ids_resaved_by_excel_as_numbers_are_flagged() -> None:
    text = pd.DataFrame(
        {
            "订单编号": ["3.41234567890123E+18", "3412345678901234567"],
            "买家实际支付金额": ["1.00", "2.00"],
        }
    )
    got = to_canonical(text)
    assert [p.reason for p in got.problems] == ["id_as_number"]
    assert got.problems[0].column == "订单编号"
    assert got.problems[0].rows == (0,)


def test_an_unknown_table_or_kind_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    from shopmetrics.errors import DefinitionError

    with pytest.raises(SchemaError, match="kind="):
        to_canonical(pd.DataFrame({"foo": ["1"], "bar": ["2"]}))
    with pytest.raises(DefinitionError, match="taobao_orders"):
        read_table(DATA / "taobao_orders.csv", kind="taobao_order")
