"""The polars fast path for large text exports gives what the reference reader gives.

:func:`shopmetrics.engine.export_text.read_fast` must return the same frame (values,
dtypes, column order) and the same audit (notes, exclusions, mapping) as
``shopmetrics.io`` (``read_table`` + ``to_canonical``) for every file it accepts, and
refuse (``None``) every file it cannot promise that for. The reference is the pandas reader,
tested against tests/data/exports/truth.json; these tests compare the two on real-shaped
files: GBK and UTF-8 (with and without BOM), title rows, a 合计 row, a trailing note,
trailing spaces in headers, ``="…"`` and ``'`` guards, ``"12,345.00"``, ``0元``, ``-``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("polars") is None, reason="the fast path needs polars"
)

from shopmetrics.engine import export_text, reading  # noqa: E402
from shopmetrics.io.files import read_table  # noqa: E402

DATA = Path(__file__).parent / "data" / "exports"

HEADERS = (
    "订单编号,买家会员名,买家实际支付金额,订单状态,收货地址 ,订单创建时间,订单付款时间 ,"
    "宝贝标题 ,宝贝总数量,卖家服务费,退款金额,联系手机"
)


def _order_cells(i: int) -> list[str]:
    statuses = [
        "交易成功",
        "等待买家付款",
        "交易关闭",
        "买家已付款，等待卖家发货",
        "卖家已发货，等待买家确认",
    ]
    status = statuses[i % len(statuses)]
    unpaid = status == "等待买家付款" or (status == "交易关闭" and i % 2)
    paid = "" if unpaid else f"2026-11-0{1 + i % 9} 10:{i % 60:02d}:05"
    amount = f'"{(i * 37) % 5000 + 1:,}.{i % 100:02d}"' if i % 3 else f"{i % 90}.50"
    refund = "-" if i % 7 == 0 else "0.00"
    return [
        f'="{3412345678901234567 - i}"', f"tb{i % 50}  ", amount, status, "浙江省 杭州市\u3000",
        f"2026-11-0{1 + i % 9} 09:{i % 60:02d}:00", paid, "羊毛围巾 ", str(1 + i % 4), "0元",
        refund, f"'1380000{i:04d}",
    ]  # fmt: skip


def _order_rows(n: int) -> list[str]:
    return [",".join(_order_cells(i)) for i in range(n)]


def _write(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def _order_export(tmp_path: Path, encoding: str = "gbk", n: int = 60, **swap: str) -> Path:
    rows = _order_rows(n)
    for old, new in swap.items():
        rows = [r.replace(old, new) for r in rows]
    lines = ["订单报表", "导出时间：2026-11-30 23:59", HEADERS, *rows[:20], "", *rows[20:]]
    lines += ["合计,,123.00,,,,,,,,,", "注：金额单位为元"]
    return _write(tmp_path / "ExportOrderList202611302359.csv", lines, encoding)


def _both(path: Path, table: str) -> tuple[Any, Any]:
    path = path.resolve()
    fast = export_text.read_fast(path, table)
    reference = reading._from_read(read_table(path), table, {})
    return fast, reference


def _same(fast: Any, reference: Any) -> None:
    assert fast is not None, "the fast path refused a file it should read"
    got, want = fast.frame.collect().to_native(), reference.frame.collect().to_native()
    assert got.columns == want.columns
    assert got.schema == want.schema
    assert got.equals(want)
    assert fast.notes == reference.notes
    assert fast.excluded == reference.excluded
    assert fast.mapping == reference.mapping
    assert reference.problems == ()


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig", "gb18030"])
def test_an_order_export_reads_the_same_fast(tmp_path: Path, encoding: str) -> None:
    fast, reference = _both(_order_export(tmp_path, encoding), "orders")
    _same(fast, reference)
    notes = " ".join(fast.notes)
    assert "Excel guards removed" in notes  # ="…" ids and '138… phones, counted
    assert [e.reason for e in fast.excluded] == ["summary_row", "note_row"]


def test_a_quoted_line_break_in_a_cell_reads_the_same_fast(tmp_path: Path) -> None:
    path = _order_export(tmp_path, **{"浙江省 杭州市\u3000": '"浙江省\r\n杭州市 "'})
    fast, reference = _both(path, "orders")
    _same(fast, reference)
    assert "浙江省\r\n杭州市" in fast.frame.collect().to_native()["收货地址"].to_list()


def test_dates_without_times_and_blank_times_read_the_same_fast(tmp_path: Path) -> None:
    path = _order_export(tmp_path, **{" 09:": "!", " 10:": "!"})
    text = path.read_bytes().decode("gbk")
    text = "\r\n".join(
        ",".join(c.split("!")[0] if "!" in c else c for c in line.split(","))
        for line in text.split("\r\n")
    )
    path.write_bytes(text.encode("gbk"))
    _same(*_both(path, "orders"))


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("0.00", "1.2万", "a 万 amount is parsed per cell by the reference"),
        ("2026-11-01 09:", "2026/11/1 09:", "slashed dates: another time form"),
        ("交易成功", "交易完成了", "an unknown status is a problem the reference reports"),
        ("0.00", "3.45%", "a rate in an amount column is a problem"),
        ("\r\n", "\r", "lone CR line ends"),
        ("羊毛围巾 ", "羊毛围巾\x1c", "a separator character str.strip trims and polars does not"),
        ("tb1", "tb1,extra", "a ragged row"),
    ],
)
def test_the_fast_path_refuses_what_it_cannot_promise(
    tmp_path: Path, old: str, new: str, why: str
) -> None:
    path = _order_export(tmp_path)
    data = path.read_bytes().decode("gbk").replace(old, new, 3 if old == "tb1" else -1)
    path.write_bytes(data.encode("gbk"))
    assert export_text.read_fast(path.resolve(), "orders") is None, why


def test_the_fast_trim_removes_what_str_strip_removes() -> None:
    import polars as pl

    cells = [f"{c}a b{c}" for c in export_text.WHITESPACE if c not in "\x1c\x1d\x1e\x1f"]
    got = pl.Series(cells).str.strip_chars().to_list()
    assert got == [c.strip() for c in cells]  # Python's own rule, cell by cell


def test_presale_orders_and_other_tables_go_to_the_reference() -> None:
    taobao = (DATA / "taobao_orders.csv").resolve()  # it has 分阶段订单信息 presale orders
    assert export_text.read_fast(taobao, "orders") is None
    assert export_text.read_fast(taobao, "traffic") is None  # an export of another table
    spend = next(DATA.glob("直通车_*.csv")).resolve()
    assert export_text.read_fast(spend, "spend") is None  # scenes and default sources


@pytest.mark.parametrize("name", ["taobao_reviews.csv", "sycm_source.csv", "taobao_items.csv"])
def test_every_text_fixture_is_read_the_same_or_refused(name: str) -> None:
    kind = {"taobao_reviews.csv": "ratings", "sycm_source.csv": "traffic"}.get(name, "orders")
    path = (DATA / name).resolve()
    fast = export_text.read_fast(path, kind)
    if fast is None:
        return  # refused: the reference reads it (source levels, line items)
    _same(fast, reading._from_read(read_table(path), kind, {}))


def test_a_product_export_with_a_date_column_reads_the_same_fast(tmp_path: Path) -> None:
    lines = [
        "生意参谋-商品-商品效果",
        "统计日期：2026-11-01~2026-11-02",
        "",
        "统计日期,商品ID,商品名称,商品访客数 ,商品浏览量,支付买家数,支付金额,商品支付转化率",
        '总计,,,"2,502","4,000",24,"2,468.00",0.96%',
        '2026-11-01,="600100200301",围巾,"1,391","2,000",12,"1,234.00",0.86%',
        '2026-11-02,="600100200301",围巾,"1,111","2,000",12,"1,234.00",1.08%',
    ]
    path = _write(tmp_path / "商品效果.csv", lines, "gbk")
    fast, reference = _both(path, "traffic")
    _same(fast, reference)
    assert fast.frame.collect().to_native()["visitors"].to_list() == [1391, 1111]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
        min_size=3,
        max_size=30,
    ),
    style=st.sampled_from(["{:,}", "{}", "￥{:,}", "{}元"]),
)
def test_amounts_in_every_written_form_parse_the_same_fast(
    tmp_path: Path, amounts: list[Any], style: str
) -> None:
    lines = [HEADERS]
    for i, amount in enumerate(amounts):
        cells = _order_cells(i)
        text = style.format(amount)
        cells[2] = f'"{text}"' if "," in text else text
        lines.append(",".join(cells))
    path = _write(tmp_path / "ExportOrderList.csv", lines, "gbk")
    fast, reference = _both(path, "orders")
    _same(fast, reference)
    got = fast.frame.collect().to_native()["amount"].to_list()
    assert got == [float(a) for a in amounts]  # the decimal text, read by hand
