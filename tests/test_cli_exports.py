"""The command line on store exports: ``shopmetrics inspect`` and ``report`` without events.

Run in-process (``main(argv)``) on the generated fixtures of ``tests/data/exports``
(``make_exports.py``, ``truth.json``) and on small export-shaped files written here.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import shopmetrics as sm
from shopmetrics.cli import main

DATA = Path(__file__).parent / "data" / "exports"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
needs_calamine = pytest.mark.skipif(
    importlib.util.find_spec("python_calamine") is None,
    reason="reading Excel needs python-calamine (the excel extra)",
)

SOURCE = DATA / "sycm_source.csv"
ORDERS = DATA / "taobao_orders.csv"
ITEMS = DATA / "taobao_items.csv"
REVIEWS = DATA / "taobao_reviews.csv"
ZTC = DATA / "直通车_计划报表_20261101_20261103.csv"
WEEKS = DATA / "sycm_product_weeks"


def _write(path: Path, text: str, encoding: str = "gbk") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ inspect


def test_sm_inspect_is_public_and_lazy() -> None:
    from shopmetrics.io.inspect import inspect

    assert "inspect" in sm.__all__
    assert sm.inspect is inspect


def test_inspect_says_kind_header_encoding_mapping_ignored_and_excluded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["inspect", str(SOURCE), str(ORDERS)]) == 0
    out = capsys.readouterr().out
    first, second = out.split("\n\n")
    assert first.startswith("sycm_source.csv: 生意参谋 流量")
    assert "[sycm_source] -> table 'traffic'" in first
    assert "encoding utf-8-sig, header on row 6" in first
    assert "访客数 -> visitors" in first
    assert "支付转化率: derived rate or ratio" in first  # ignored, and why
    assert "summary rows: 6 (labels: 汇总)" in first
    assert "subtotal rows: 3" in first
    assert second.startswith("taobao_orders.csv: 淘宝/天猫 订单报表")
    assert "encoding gbk" in second
    assert "订单付款时间 -> paid_at" in second


def test_inspect_of_a_folder_and_with_a_forced_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(WEEKS)]) == 0
    out = capsys.readouterr().out
    assert "[sycm_product]" in out
    # each file of the folder, with its own encoding
    assert "read: csv, encoding utf-8-sig, header on row 4, 3 rows (商品效果_20261018.csv)" in out
    assert "read: csv, encoding gbk, header on row 4, 3 rows (商品效果_20261025.csv)" in out
    odd = _write(tmp_path / "export.csv", "统计日期,商品ID,商品浏览量\n2026-11-02,1,10\n")
    assert main(["inspect", "--kind", "sycm_product", str(odd)]) == 0
    assert "商品浏览量 -> page_views" in capsys.readouterr().out
    assert main(["inspect", "--kind", "no_such_kind", str(odd)]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_inspect_of_an_unknown_table_says_so_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = _write(tmp_path / "random.csv", "a,b\n1,2\n", "utf-8")
    assert main(["inspect", str(odd)]) == 0
    out = capsys.readouterr().out
    assert "random.csv: not a known export kind" in out
    assert "a: unknown export kind" in out


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("商品效果.xlsx", b"just some text, not a workbook\n", "not a valid .xlsx"),
        ("archive.csv", b"PK\x03\x04" + b"\x00" * 64, "zip archive"),
    ],
)
def test_inspect_an_unreadable_file_exits_2_naming_it(
    name: str, content: bytes, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    assert main(["inspect", str(SOURCE), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("sycm_source.csv:")  # the readable file is still shown
    assert "shopmetrics inspect: error: cannot read" in captured.err
    assert name in captured.err
    assert words in captured.err


def test_inspect_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "gone.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


# ------------------------------------------------------------------ report from exports


@needs_calamine
def test_report_from_a_product_export_and_an_order_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's example: ``shopmetrics report 商品效果.xlsx 订单报表.csv --out r.html``."""
    product = shutil.copy(DATA / "sycm_product_daily.xlsx", tmp_path / "商品效果.xlsx")
    orders = shutil.copy(ORDERS, tmp_path / "订单报表.csv")
    out = tmp_path / "r.html"
    assert main(["report", str(product), str(orders), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "read 商品效果.xlsx: sycm_product -> traffic, 9 rows (1 summary row excluded)",
        "read 订单报表.csv: taobao_orders -> orders, 12 rows",
        str(out),
    ]
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for piece in ("without raw events", "CTR by source", "sessions", "bot and crawler"):
        assert piece in page, piece
    assert "pass a 流量来源 (traffic-source) export" in page  # what the files lack, and which
    assert "商品效果.xlsx" in page  # the audit section: what each file was read as


def test_report_from_exports_given_by_option_as_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.md"
    argv = ["report", "--traffic", str(SOURCE), "--orders", str(ORDERS), "--orders", str(ITEMS)]
    argv += ["--ratings", str(REVIEWS), "--spend", str(ZTC), "--week", "2026-W45"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "read sycm_source.csv: sycm_source -> traffic, 21 rows (6 summary rows, " in printed
    text = out.read_text(encoding="utf-8")
    for title in ("## Funnel", "## Traffic sources and ROAS", "## Detailed seller ratings"):
        assert title in text, title
    assert "## Rows used and excluded" in text
    assert "| sycm\\_source.csv | summary\\_row | 6 | labels: 汇总 |" in text
    notes = text.split("## Notes")[-1]
    assert "without raw events" in notes
    assert "pass a 商品效果 (product) export" in notes
    assert "pass a review export" not in notes  # it was given
    # ROAS of 直通车 this week, from the export's sales and the spend report's cost
    days = ("2026-11-02", "2026-11-03")
    amount = sum(
        r["paid_amount"]
        for r in TRUTH["sycm_source.csv"]["rows"]
        if r["date"] in days and r["source"] == "直通车"
    )
    cost = sum(r["cost"] for r in TRUTH[ZTC.name]["rows"] if r["date"] in days)
    assert f"| ROAS (sales / spend) | {amount / cost:.2f} |" in text


def test_report_from_a_folder_of_weekly_exports_as_excel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.xlsx"
    assert main(["report", str(WEEKS), "--out", str(out)]) == 0
    assert "sycm_product_weeks: sycm_product -> traffic, 6 rows" in capsys.readouterr().out
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"


def test_report_from_a_product_export_without_visitors_is_no_key_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 14: a product export without its traffic columns ended in KeyError: 'visitors'."""
    product = _write(
        tmp_path / "商品效果.csv",
        "统计日期,商品ID,商品浏览量,支付买家数,支付金额\n"
        '2026-11-02,="600100200301","1,200",3,"1,000.00"\n'
        '2026-11-03,="600100200301",800,1,10.00\n',
    )
    out = tmp_path / "r.md"
    assert main(["report", str(product), str(ORDERS), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "no visitor column (商品访客数 / 访客数)" in text
    assert "KeyError" not in capsys.readouterr().err


def test_report_a_spend_report_without_its_channel_needs_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spend = _write(
        tmp_path / "推广报表.csv",
        '日期,计划名字,展现量,点击量,花费\n2026-11-02,A,"1,000",50,120.50\n',
    )
    base = ["report", str(SOURCE), str(spend), "--out", str(tmp_path / "r.md")]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "推广报表.csv" in err
    assert "--source 直通车" in err
    assert main([*base, "--source", "直通车"]) == 0


def test_report_refuses_cells_that_do_not_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = _write(
        tmp_path / "商品效果.csv",
        "统计日期,商品ID,商品访客数,支付买家数,支付金额\n"
        '2026-11-02,="600100200301",abc,3,"1,000.00"\n',
    )
    out = tmp_path / "r.html"
    assert main(["report", str(product), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "商品效果.csv (traffic): 商品访客数: 1 value is not a number (row 0: 'abc')" in printed
    assert not out.exists()


def test_report_uses_a_column_mapping_on_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = _write(
        tmp_path / "商品效果.csv",
        "统计日期,商品ID,商品浏览量,访客人数 ,支付买家数,支付金额\n"
        '2026-11-02,="600100200301",1200,900,3,"1,000.00"\n',
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"访客人数": "visitors"}), encoding="utf-8")
    out = tmp_path / "r.md"
    base = ["report", str(product), "--week", "2026-W45", "--out", str(out)]
    assert main([*base, "--columns", str(mapping)]) == 0
    assert "| Visitors | 900 |" in out.read_text(encoding="utf-8")
    mapping.write_text(json.dumps({"访客人数x": "visitors"}), encoding="utf-8")
    assert main([*base, "--columns", str(mapping)]) == 2
    assert "in none of the files" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--orders", str(SOURCE)], "feeds the traffic table; pass it as --traffic"),
        ([str(ITEMS), str(SOURCE)], "宝贝报表 (line items) takes its paid amounts"),
        ([str(ORDERS)], "report needs --events (raw events) or a traffic export"),
        ([str(SOURCE), str(SOURCE.with_name("gone.csv"))], "does not exist"),
    ],
)
def test_report_usage_errors_from_exports_exit_2(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *argv, "--out", str(tmp_path / "r.html")]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_report_an_unknown_file_exits_2_pointing_at_inspect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = _write(tmp_path / "export-2026-11.csv", "a,b\n1,2\n", "utf-8")
    assert main(["report", str(SOURCE), str(odd), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot tell what" in err
    assert f"shopmetrics inspect {odd}" in err


def test_report_an_unreadable_export_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "订单报表.csv"
    empty.write_bytes(b"")
    assert main(["report", str(SOURCE), str(empty), "--out", str(tmp_path / "r.html")]) == 2
    assert "订单报表.csv: the file is empty" in capsys.readouterr().err


def test_report_keeps_raw_tables_as_paths_beside_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raw CSV table (canonical names) goes to the engine as its path, unread; an
    export beside it is converted."""
    import pandas as pd

    import shopmetrics.report.weekly as report_module

    raw = tmp_path / "orders.csv"
    raw.write_text(
        "order_id,buyer_id,created_at,amount,paid_at\no1,b1,2026-11-02 10:00,10.0,2026-11-02 10:05\n",
        encoding="utf-8",
    )
    calls: list[dict[str, Any]] = []

    def weekly_report(**kwargs: Any) -> sm.Report:
        calls.append(kwargs)
        return sm.Report("Weekly report", week="2026-W45")

    monkeypatch.setattr(report_module, "weekly_report", weekly_report)
    assert main(["report", str(raw), str(SOURCE), "--out", str(tmp_path / "r.md")]) == 0
    assert calls[0]["orders"] == str(raw)
    assert isinstance(calls[0]["traffic"], pd.DataFrame)
    assert set(calls[0]["traffic"]["source"]) == {r["source"] for r in TRUTH[SOURCE.name]["rows"]}
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Rows used and excluded" in text  # the export's audit, added by the command
    assert capsys.readouterr().out.splitlines()[0].startswith("read sycm_source.csv")


# ------------------------------------------------------------------ validate


@needs_calamine
def test_validate_takes_exports_as_files_sorted_by_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = [SOURCE, ORDERS, ITEMS, REVIEWS, ZTC, DATA / "万相台_计划报表.xlsx"]
    assert main(["validate", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "read sycm_source.csv: sycm_source -> traffic" in out
    assert "read taobao_orders.csv: taobao_orders -> orders" in out
    assert "read taobao_reviews.csv: taobao_reviews -> ratings" in out
    assert "OK: no problems found" in out
    assert "ratings (" in out
    assert "spend (" in out


def test_validate_takes_the_report_options(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "validate",
        "--traffic",
        str(SOURCE),
        "--orders",
        str(ORDERS),
        "--ratings",
        str(REVIEWS),
    ]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(["validate", f"traffic={SOURCE}", f"orders={ORDERS}", f"ratings={REVIEWS}"]) == 0
    assert capsys.readouterr().out == first  # TABLE=PATH is the same as --TABLE PATH
    assert main(["validate", "--orders", str(SOURCE)]) == 2
    assert "feeds the traffic table; pass it as --traffic" in capsys.readouterr().err


def test_validate_prints_every_problem_at_once_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = _write(
        tmp_path / "商品效果.csv",
        "生意参谋-商品-商品效果\r\n统计日期：2026-11-01~2026-11-07\r\n\r\n"
        "商品ID,商品访客数 ,商品浏览量,支付买家数,支付金额\r\n"
        '="600100200301","1,391","2,000",12,3.45%\r\n'
        '="600100200302",abc,"2,000",12,"1,234.00"\r\n',
    )
    import pandas as pd

    orders = tmp_path / "orders.parquet"
    pd.DataFrame(
        {
            "order_id": ["1", "2"],
            "buyer_id": ["b1", "b2"],
            "created_at": pd.to_datetime(["2026-11-01 10:00", "2026-11-02 10:00"]),
            "paid_at": pd.to_datetime(["2026-11-01 10:05", "2026-11-02 10:05"]),
            "amount": [10.0, -5.0],
        }
    ).to_parquet(orders, index=False)
    assert main(["validate", str(product), str(orders)]) == 1
    out = capsys.readouterr().out
    assert "read 商品效果.csv: sycm_product -> traffic, 2 rows" in out
    assert "FAILED: 2 export column(s) hold values that do not parse" in out
    assert "商品访客数: 1 value is not a number (row 1: 'abc')" in out
    assert "支付金额: 1 value is a percentage in a count or amount column" in out
    assert "negative_values (orders.amount, 1 rows)" in out  # the raw table's, in the same run


def test_validate_maps_export_headers_with_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = _write(
        tmp_path / "商品效果.csv",
        "统计日期,商品ID,商品浏览量,访客人数 ,支付买家数,支付金额\r\n"
        '2026-11-02,="600100200301",1200,"1,900",3,"1,000.00"\r\n',
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"访客人数": "visitors"}), encoding="utf-8")
    assert main(["validate", str(product), "--columns", str(mapping)]) == 0
    assert "OK: no problems found in traffic (1 rows)" in capsys.readouterr().out
    mapping.write_text(json.dumps({"访客人数x": "visitors"}), encoding="utf-8")
    assert main(["validate", str(product), "--columns", str(mapping)]) == 2
    assert "in none of the files" in capsys.readouterr().err


def test_validate_without_files_or_with_an_unknown_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate"]) == 2
    assert "validate needs a file" in capsys.readouterr().err
    odd = _write(tmp_path / "notes.csv", "a,b\n1,2\n", "utf-8")
    assert main(["validate", str(odd)]) == 2
    assert "cannot tell which table" in capsys.readouterr().err
