"""The weekly report built from the demo store: content, snapshot, safety, formats."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.datasets import Store
from shopmetrics.report.summary import CORRECTION_SUFFIXES
from shopmetrics.weekly import last_complete_week

SNAPSHOT = Path(__file__).parent / "snapshots" / "weekly_demo_en.md"
EVIL = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","click")'


@pytest.fixture(scope="module")
def weekly(store: Store) -> sm.Report:
    return sm.weekly_report(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        peers=store.peers,
        dsr_peers=store.dsr_peers,
    )


def test_last_complete_week() -> None:
    assert (
        last_complete_week(pd.Timestamp("2026-11-22 23:59").to_pydatetime()) == "2026-W47"
    )  # a Sunday
    assert (
        last_complete_week(pd.Timestamp("2026-11-25 10:00").to_pydatetime()) == "2026-W47"
    )  # a Wednesday


def test_sections_headline_and_flags(weekly: sm.Report, store: Store) -> None:
    assert weekly.week == "2026-W47"
    assert [s.key for s in weekly.sections] == [
        "summary",
        "trend",
        "funnel",
        "traffic",
        "products",
        "dsr",
        "value",
    ]
    # the raw figures, in order (a corrected figure follows the one it corrects)
    fixed = tuple(CORRECTION_SUFFIXES.values())
    names = [h.name for h in weekly.headline if not h.name.endswith(fixed)]
    assert names[:5] == ["visitors", "payment_conversion", "aov", "visitor_value", "paid_amount"]
    assert {"roas", "dsr_item", "dsr_service", "dsr_logistics"} <= set(names)
    visitors = next(h for h in weekly.headline if h.name == "visitors")
    week = store.events[(store.events.ts >= "2026-11-16") & (store.events.event == "visit")]
    assert visitors.value == week.visitor_id.nunique()
    codes = {f.code for f in weekly.flags}
    # the traps in the last two weeks are reported; the presale product has its honest figures
    assert {"presale_zero_payment", "mix_shift", "order_brushing"} <= codes
    presale = dict(weekly.section("products").tables)["Presale products: use these figures"]
    assert presale["product_id"].tolist() == ["P007"]
    severities = [f.severity for f in weekly.flags]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)


def test_markdown_snapshot(weekly: sm.Report) -> None:
    text = weekly.to_markdown()
    if os.environ.get("SHOPMETRICS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), f"create {SNAPSHOT} with SHOPMETRICS_UPDATE_SNAPSHOTS=1 and review it"
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the weekly report changed; if intended, rerun with SHOPMETRICS_UPDATE_SNAPSHOTS=1 and review the diff"
    )


def test_untrusted_names_are_escaped_and_inert(tmp_path: Path) -> None:
    small = sm.datasets.make_store(seed=2, days=28, products=12, visitors_per_day=200)
    rename = {"P001": EVIL, "P002": FORMULA}
    events = small.events.assign(product_id=small.events.product_id.replace(rename))
    orders = small.orders.assign(product_id=small.orders.product_id.replace(rename))
    ratings = small.ratings.assign(product_id=small.ratings.product_id.replace(rename))
    report = sm.weekly_report(events=events, orders=orders, ratings=ratings, spend=small.spend)
    html = report.to_html()
    assert EVIL not in html
    xlsx = report.to_excel(tmp_path / "r.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_other_formats(weekly: sm.Report, tmp_path: Path) -> None:
    html = weekly.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
    assert html.count("<svg") >= 4
    zh = weekly.to_markdown(lang="zh")
    assert "支付转化率" in zh
    assert "访客数" in zh
    payload = weekly.to_dict()
    assert payload["week"] == "2026-W47"


def test_week_argument_and_errors(store: Store) -> None:
    with pytest.raises(sm.ShopmetricsError, match="ISO week"):
        sm.weekly_report(events=store.events, orders=store.orders, week="November")
    with pytest.raises(sm.SchemaError, match="no data in week"):
        sm.weekly_report(events=store.events, orders=store.orders, week="2027-W10")
