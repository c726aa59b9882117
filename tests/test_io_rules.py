"""Issue 14's last rules: 万相台 scenes → source, product exports without their traffic
columns, and the audit of rules the export spec marks *unconfirmed*.

Fixtures are written the way the back-ends write them: GBK, title rows above the header,
trailing spaces in headers, counts as ``"12,345"``, rates as ``"3.45%"``. Expected values
are read off the rows by hand (and, for scenes, off 阿里妈妈's scene list:
关键词推广 = 原淘内广告/直通车).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.io.convert import UNCONFIRMED, to_canonical
from shopmetrics.io.exports import SCENE_SOURCES
from shopmetrics.io.files import read_table
from shopmetrics.io.inspect import inspect


def _write(path: Path, lines: list[str], encoding: str = "gbk") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


WXT_LINES = [
    "万相台无界版-计划报表",
    "数据周期：2026-11-01~2026-11-02",
    "日期,场景ID,场景名字 ,计划名字,主体ID,展现量,点击量,花费 ,点击率,总成交金额",
    '2026-11-01,371,关键词推广,关键词-围巾,="600100200301","12,345",210,"1,050.50",1.70%,"3,200.00"',
    '2026-11-01,114,货品运营-货品加速,货品加速-围巾,="600100200301","2,000",40,88.00,2.00%,0.00',
    '2026-11-02,78,拉新快,拉新-围巾,="600100200301",900,9,12.30,1.00%,0.00',
    '2026-11-02,999,某新场景,新计划,="600100200301",100,1,1.00,1.00%,0.00',
]


def test_wanxiangtai_scene_names_map_to_a_source_and_the_scene_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path / "万相台_计划报表.csv", WXT_LINES)
    got = to_canonical(read_table(path))
    assert got.kind == "wxt_spend"
    by_plan = got.data.set_index("campaign")
    # by hand: 关键词推广 is the old 直通车; 货品加速 and 拉新快 are 万相台's own scenes;
    # a scene we do not know takes the report's channel
    assert by_plan["source"].to_dict() == {
        "关键词-围巾": "直通车",
        "货品加速-围巾": "万相台",
        "拉新-围巾": "万相台",
        "新计划": "万相台",
    }
    assert by_plan.loc["货品加速-围巾", "scene"] == "货品运营-货品加速"
    assert by_plan.loc["关键词-围巾", "exposures"] == 12345
    assert by_plan.loc["关键词-围巾", "cost"] == pytest.approx(1050.50)
    assert any("某新场景" in n and "scene_sources" in n for n in got.notes)
    assert any("关键词推广 → 直通车" in n for n in got.audit().notes)


def test_the_scene_mapping_is_overridable(tmp_path: Path) -> None:
    path = _write(tmp_path / "万相台_计划报表.csv", WXT_LINES)
    got = to_canonical(
        read_table(path), scene_sources={"货品加速": "货品加速", "某新场景": "直通车"}
    )
    by_plan = got.data.set_index("campaign")["source"].to_dict()
    assert by_plan["货品加速-围巾"] == "货品加速"
    assert by_plan["新计划"] == "直通车"
    assert by_plan["关键词-围巾"] == "直通车"  # the defaults not overridden stay
    assert not any("scene_sources={" in n for n in got.notes)  # every scene known now
    assert SCENE_SOURCES["货品加速"] == "万相台"  # the module's table is not modified


def test_an_unnamed_channel_report_keeps_unknown_scenes_as_they_are(tmp_path: Path) -> None:
    lines = [ln.replace("万相台无界版-", "阿里妈妈-") for ln in WXT_LINES]
    path = _write(tmp_path / "计划报表.csv", lines)
    got = to_canonical(read_table(path))
    assert got.kind == "alimama_spend"
    by_plan = got.data.set_index("campaign")["source"].to_dict()
    assert by_plan["新计划"] == "某新场景"
    assert by_plan["关键词-围巾"] == "直通车"


PRODUCT_LINES = [
    "生意参谋-商品-商品效果",
    "统计日期：2026-11-01~2026-11-07",
    "",
    "商品ID ,商品名称,支付买家数 ,支付金额,商品加购人数 ,商品支付转化率",
    '="600100200301",加厚羊毛围巾,"1,203","12,345.60","4,501",3.45%',
    '="600100200302",针织手套,17,"1,020.00",88,0.86%',
]


def test_a_product_export_without_visitor_columns_is_recognised_and_says_what_it_cannot_give(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "商品效果.csv", PRODUCT_LINES)
    got = to_canonical(read_table(path))
    assert got.kind == "sycm_product"
    assert got.data["paid_buyers"].tolist() == [1203, 17]
    assert got.data["carters"].tolist() == [4501, 88]
    assert got.data["paid_amount"].sum() == pytest.approx(13365.60)
    assert "visitors" not in got.data.columns
    assert got.ignored["商品支付转化率"].startswith("derived rate")
    assert any(n.startswith("no 商品访客数") and "conversion" in n for n in got.audit().notes)
    shown = str(inspect(path))
    assert "cannot give" in shown
    assert "no 商品访客数" in shown


def test_the_funnel_from_a_product_export_without_visitors_says_why_there_is_no_conversion(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "商品效果.csv", PRODUCT_LINES)
    result = sm.funnel(traffic=str(path))
    table = result.to_pandas()
    assert int(table["paid_buyers"].sum()) == 1203 + 17
    assert "visitors" not in table.columns
    assert any("no 商品访客数" in n for n in result.audit.notes)


def test_a_product_export_with_visitors_has_no_such_note(tmp_path: Path) -> None:
    lines = [
        *PRODUCT_LINES[:3],
        "商品ID,商品访客数,商品浏览量,支付买家数,支付金额",
        '="600100200301","1,391","2,000",12,"1,234.00"',
    ]
    got = to_canonical(read_table(_write(tmp_path / "商品效果.csv", lines)))
    assert not any(n.startswith(("no 商品访客数", "no 浏览量")) for n in got.notes)


def _unconfirmed(notes: tuple[str, ...]) -> list[str]:
    return [n for n in notes if n.startswith(UNCONFIRMED)]


def test_the_audit_says_when_an_unconfirmed_1688_status_rule_was_applied() -> None:
    text = pd.DataFrame(
        {
            "订单编号": ["201", "202", "203"],
            "买家会员名": ["b1", "b2", "b3"],
            "实付款(元)": ["10.00", "20.00", "30.00"],
            "订单状态": ["交易成功", "退款中", "等待卖家发货"],
            "订单创建时间": ["2026-11-01 10:00:00"] * 3,
            "订单付款时间": ["2026-11-01 10:01:00"] * 3,
            "货品标题": ["围巾"] * 3,
            "数量": ["1"] * 3,
        }
    )
    got = to_canonical(text)
    assert got.kind == "ali1688_orders"
    notes = _unconfirmed(got.audit().notes)
    assert len(notes) == 2
    assert any("'退款中' read as paid (1 rows)" in n for n in notes)
    assert any("'等待卖家发货' read as paid (1 rows)" in n for n in notes)
    confirmed = to_canonical(text.assign(订单状态=["交易成功"] * 3))
    assert _unconfirmed(confirmed.notes) == []


def test_the_audit_says_when_unconfirmed_presale_rules_were_applied() -> None:
    text = pd.DataFrame(
        {
            "订单编号 ": ["3412345678901234567", "3412345678901234568", "3412345678901234569"],
            "买家会员名": ["tb1", "tb2", "tb3"],
            "订单创建时间": ["2026-11-01 10:00:00"] * 3,
            "订单付款时间 ": ["2026-11-01 10:05:00"] * 3,
            "买家实际支付金额": ["20.00", "99.00", "5.00"],
            "订单状态": ["买家已付款，等待卖家发货"] * 3,
            "分阶段订单信息": ["定金:已付款(20.00元),尾款:未付款(80.00元)", None, None],
            "特权订金订单id": [None, None, "="],
        }
    )
    text.loc[2, "特权订金订单id"] = "88001"
    got = to_canonical(text)
    notes = _unconfirmed(got.notes)
    assert any("尾款:未付款" in n and "(1 rows)" in n for n in notes)
    assert any("特权订金订单id" in n and "(1 rows" in n for n in notes)
    assert got.data["status"].tolist() == ["unpaid", "paid", "paid"]
    plain = to_canonical(text.drop(columns=["分阶段订单信息", "特权订金订单id"]))
    assert _unconfirmed(plain.notes) == []
