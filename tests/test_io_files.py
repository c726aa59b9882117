"""read_table: formats by content, encodings, title rows, guards, summary rows, bad input."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from shopmetrics.errors import ShopmetricsError
from shopmetrics.io.files import ReadError, find_header, read_table

DATA = Path(__file__).parent / "data" / "exports"
needs_calamine = pytest.mark.skipif(
    importlib.util.find_spec("python_calamine") is None,
    reason="reading Excel needs python-calamine (the excel extra)",
)

ORDERS = (
    "订单编号,买家会员名,订单创建时间,订单付款时间 ,买家实际支付金额,订单状态,联系手机\n"
    '="3412345678901234567",tb1,2026-11-01 10:00:00,2026-11-01 10:01:00,"1,234.00",交易成功,\'13800000000\n'
    '="0012",tb2,2026-11-01 11:00:00,,99.00,等待买家付款,\n'
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_is_detected_and_reported(tmp_path: Path, encoding: str) -> None:
    r = read_table(_write(tmp_path, "orders.csv", ORDERS, encoding))
    assert r.encoding == ("gbk" if encoding == "gb18030" else encoding)  # GBK text decodes as GBK
    assert list(r.data.columns)[3] == "订单付款时间"  # trailing space trimmed
    assert r.kind == "taobao_orders"


def test_gb18030_only_characters_are_reported_as_gb18030(tmp_path: Path) -> None:
    text = ORDERS.replace("tb1", "tb\U00020000")  # outside GBK
    assert read_table(_write(tmp_path, "o.csv", text, "gb18030")).encoding == "gb18030"


def test_ids_keep_their_digits_and_leading_zeros(tmp_path: Path) -> None:
    r = read_table(_write(tmp_path, "orders.csv", ORDERS, "gbk"))
    assert r.data["订单编号"].tolist() == ["3412345678901234567", "0012"]
    assert r.data["联系手机"].iloc[0] == "13800000000"  # the leading ' guard removed
    assert r.files[0].unwrapped == {"订单编号": 2, "联系手机": 1}
    assert str(r.data["订单编号"].dtype) == "str"


def test_a_tab_guard_and_spaces_are_trimmed(tmp_path: Path) -> None:
    text = '订单编号,买家会员名,买家实际支付金额\n"\t3412345678901234567", tb1 ,12.00\n'
    r = read_table(_write(tmp_path, "orders.txt", text))
    assert r.data.iloc[0].tolist() == ["3412345678901234567", "tb1", "12.00"]
    assert r.files[0].format == "csv"
    tsv = read_table(_write(tmp_path, "orders.tsv", text.replace(",", "\t")))
    assert tsv.files[0].format == "tsv"
    assert tsv.data.shape == (1, 3)


def test_the_header_is_found_below_title_rows_and_the_title_period_kept(tmp_path: Path) -> None:
    text = (
        "生意参谋-商品-商品效果\n统计日期：20260413至20260419\n店铺名称：示例店\n\n"
        "商品ID,商品访客数,支付金额\n合计,10,1.00\n1,4,0.40\n2,6,0.60\n数据来源：生意参谋\n"
    )
    r = read_table(_write(tmp_path, "p.csv", text, "gbk"))
    assert r.header_row == 5
    assert [str(d.date()) for d in r.title_period] == ["2026-04-13", "2026-04-19"]
    assert r.data["商品ID"].tolist() == ["1", "2"]
    assert r.summary_rows == 1
    assert r.files[0].note_rows == 1
    assert {e.reason: e.rows for e in r.exclusions()} == {"summary_row": 1, "note_row": 1}
    assert r.excluded["_row"].tolist() == [6, 9]


def test_find_header_without_known_headers_takes_the_first_row_of_several_cells() -> None:
    assert find_header([["a title"], ["x", "y", "z"], ["1", "2", "3", "4"]]) == 1


def test_a_period_in_the_file_name_is_used_when_the_title_has_none(tmp_path: Path) -> None:
    text = "商品ID,商品访客数\n1,4\n"
    r = read_table(_write(tmp_path, "商品效果_2026-11-01_2026-11-07.csv", text))
    assert [str(d.date()) for d in r.title_period] == ["2026-11-01", "2026-11-07"]
    assert any("file name" in n for n in r.notes())


def test_a_tab_separated_text_file_named_xls(tmp_path: Path) -> None:
    text = "订单编号\t买家会员名\t买家实际支付金额\n3412345678901234567\ttb1\t12.00\n"
    r = read_table(_write(tmp_path, "ExportOrderList.xls", text, "gbk"))
    assert r.files[0].format == "xls-text"
    assert r.encoding == "gbk"
    assert r.data.iloc[0, 0] == "3412345678901234567"


@needs_calamine
def test_real_xls_html_xls_xlsx_and_parquet_read_as_text(tmp_path: Path) -> None:
    assert read_table(DATA / "sycm_product_week.xls").files[0].format == "xls"
    assert read_table(DATA / "sycm_product_week_html.xls").files[0].format == "xls-html"
    xlsx = read_table(DATA / "ali1688_orders.xlsx")
    assert xlsx.data["订单创建时间"].iloc[0] == "2026-11-02 08:30:00"
    assert xlsx.data["数量"].iloc[0].isdigit()  # an Excel integer, without ".0"
    frame = pd.DataFrame({"order_id": ["3412345678901234567"], "n": [3], "x": [1.5]})
    frame.to_parquet(tmp_path / "t.parquet")
    got = read_table(tmp_path / "t.parquet")
    assert got.data.iloc[0].tolist() == ["3412345678901234567", "3", "1.5"]


def test_a_folder_concatenates_and_counts_each_file() -> None:
    r = read_table(DATA / "sycm_product_weeks")
    assert [f.rows for f in r.files] == [3, 3]
    assert len(r.data) == 6
    assert r.summary_rows == 2
    assert r.encoding == "utf-8-sig, gbk"
    periods = r.row_periods()
    assert periods[0] != periods[-1]


def test_a_mojibake_header_is_repaired(tmp_path: Path) -> None:
    mangled = "商品ID".encode().decode("gbk", errors="strict")  # '鍟嗗搧ID'
    text = f"{mangled},商品访客数\n1,4\n"
    r = read_table(_write(tmp_path, "p.csv", text, "gb18030"))
    assert list(r.data.columns) == ["商品ID", "商品访客数"]
    assert any("mis-decoded" in n for n in r.files[0].notes)


def test_repeated_headers_are_renamed(tmp_path: Path) -> None:
    r = read_table(_write(tmp_path, "p.csv", "商品ID,访客数,访客数\n1,2,3\n"))
    assert list(r.data.columns) == ["商品ID", "访客数", "访客数.2"]


# ---------------------------------------------------------------- bad input


def _fails(path: Path, code: str) -> ReadError:
    with pytest.raises(ReadError) as err:
        read_table(path)
    assert err.value.code == code
    assert path.name in str(err.value)  # the file is named
    assert isinstance(err.value, ShopmetricsError)
    return err.value


def test_an_empty_file(tmp_path: Path) -> None:
    _fails(_write(tmp_path, "商品效果.csv", ""), "empty")
    _fails(_write(tmp_path, "blank.csv", "\n\n  \n"), "empty")


def test_a_missing_file(tmp_path: Path) -> None:
    _fails(tmp_path / "nowhere.csv", "not_found")


def test_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x")
    _fails(tmp_path, "empty_folder")


def test_a_folder_that_mixes_kinds(tmp_path: Path) -> None:
    _write(tmp_path, "a.csv", ORDERS)
    _write(tmp_path, "b.csv", "商品ID,商品访客数\n1,4\n")
    err = _fails(tmp_path, "mixed_kinds")
    assert "a.csv" in str(err)
    assert "b.csv" in str(err)


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("订单编号,金额\n".encode() + b"\xff\xfe\xfa\x80\n")
    err = _fails(path, "encoding")
    assert "byte" in str(err)


def test_undecodable_bytes_past_the_first_block(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "订单编号,买家实际支付金额\n" + "1,2.00\n" * 20000
    path.write_bytes(body.encode() + b"3,\xff\xff\n")
    _fails(path, "encoding")


def test_gbk_bytes_past_the_first_block_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "order_id,amount\n" + "1,2.00\n" * 20000
    path.write_bytes(body.encode() + "3,中文\n".encode("gbk"))
    r = read_table(path)
    assert r.data.iloc[-1, 1] == "中文"
    assert r.encoding == "gbk"
    assert any("64 KiB" in n for n in r.files[0].notes)


def test_a_row_with_too_many_cells(tmp_path: Path) -> None:
    err = _fails(_write(tmp_path, "x.csv", "订单编号,金额\n1,2\n3,4,5,6\n"), "malformed")
    assert "delimiter" in str(err)
    err = _fails(_write(tmp_path, "y.csv", "订单编号,金额\n1,2\n3,4,5\n"), "malformed")
    assert "line 3" in str(err)
    ok = read_table(_write(tmp_path, "z.csv", "订单编号,金额\n1,2,,\n3,4,\n"))
    assert ok.data.shape == (2, 2)


def test_no_header_row(tmp_path: Path) -> None:
    _fails(_write(tmp_path, "x.csv", "just a title\n\n"), "no_header")


def test_a_zip_or_a_fake_xlsx(tmp_path: Path) -> None:
    z = tmp_path / "计划报表_20261101.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("a.csv", "x")
    assert "unzip" in str(_fails(z, "format"))
    _fails(_write(tmp_path, "fake.xlsx", "not really"), "format")


@needs_calamine
def test_a_missing_sheet(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="sheets") as err:
        read_table(DATA / "ali1688_orders.xlsx", sheet="nope")
    assert err.value.code == "sheet"
