"""Every metric from store exports alone, checked against ``truth.json`` to the cent.

The exports are the generated fixtures of ``tests/data/exports`` (``make_exports.py``),
converted with ``shopmetrics.io`` and passed as tables (no raw events, no ``columns=``).
The expected figures are worked out here from the truth rows, not by the library.
Where a figure cannot be computed without events or orders, the metric says so (a note in
the audit, or an error naming what to pass), never a ``KeyError``.
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.errors import SchemaError
from shopmetrics.io.convert import to_canonical
from shopmetrics.io.files import read_table
from tests.conftest import Constructor

DATA = Path(__file__).parent / "data" / "exports"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
HAS_CALAMINE = importlib.util.find_spec("python_calamine") is not None
needs_calamine = pytest.mark.skipif(
    not HAS_CALAMINE, reason="reading Excel needs python-calamine (the excel extra)"
)

PRODUCT = "sycm_product_daily.xlsx"
SOURCE = "sycm_source.csv"
ZTC = "直通车_计划报表_20261101_20261103.csv"
WXT = "万相台_计划报表.xlsx"
ORDERS = "taobao_orders.csv"
REVIEWS = "taobao_reviews.csv"
SHOP = "sycm_shop.xlsx"
CENT = 0.005


def _frame(name: str) -> pd.DataFrame:
    if name.endswith((".xlsx", ".xls")) and not HAS_CALAMINE:
        pytest.skip("reading Excel needs python-calamine (the excel extra)")
    return to_canonical(read_table(DATA / name)).data


def _rows(name: str) -> list[dict[str, Any]]:
    return list(TRUTH[name]["rows"])


def _sum(rows: list[dict[str, Any]], col: str) -> float:
    return float(sum(r[col] or 0 for r in rows))


# ------------------------------------------------------------------ funnel


@needs_calamine
def test_funnel_from_a_product_export_matches_the_truth_row_by_row(
    constructor: Constructor,
) -> None:
    f = sm.funnel(traffic=constructor(_frame(PRODUCT)), by="product_id", freq="D")
    got = f.to_pandas().set_index(["product_id", "period"])
    truth = _rows(PRODUCT)
    assert len(got) == len(truth)
    for row in truth:
        g = got.loc[(row["product_id"], row["date"])]
        for col in ("visitors", "page_views", "carters", "favoriters", "order_buyers"):
            assert int(g[col]) == row[col], col
        assert int(g["paid_buyers"]) == row["paid_buyers"]
        assert abs(g["paid_amount"] - row["paid_amount"]) < CENT
        assert g["payment_conversion"] == pytest.approx(row["paid_buyers"] / row["visitors"])
        assert g["visitor_value"] == pytest.approx(row["paid_amount"] / row["visitors"])
        if row["paid_buyers"]:
            assert g["aov"] == pytest.approx(row["paid_amount"] / row["paid_buyers"])


@needs_calamine
def test_funnel_from_a_product_export_summed_over_products_is_flagged() -> None:
    f = sm.funnel(traffic=_frame(PRODUCT))
    row = f.to_pandas().iloc[0]
    truth = _rows(PRODUCT)
    assert int(row["visitors"]) == _sum(truth, "visitors")
    assert abs(row["paid_amount"] - _sum(truth, "paid_amount")) < CENT
    # unique visitors added over products and days are an upper bound: said, not hidden
    assert "summed_uniques" in {flag.code for flag in f.flags}


@needs_calamine
def test_funnel_from_a_product_export_without_visitor_columns_leaves_them_out() -> None:
    """The reported bug: a product export losing every traffic column, then a KeyError."""
    traffic = _frame(PRODUCT).drop(columns=["visitors", "page_views", "carters", "favoriters"])
    f = sm.funnel(traffic=traffic, freq="W")
    table = f.to_pandas()
    assert "visitors" not in table.columns
    assert "payment_conversion" not in table.columns
    assert abs(table["paid_amount"].sum() - _sum(_rows(PRODUCT), "paid_amount")) < CENT
    note = next(n for n in f.audit.notes if n.startswith("from a traffic export"))
    assert "sessions, bot detection" in note
    assert "not in the export: exposures, clicks, visitors" in note


# ------------------------------------------------------------------ visitor value


@needs_calamine
def test_visitor_value_from_a_product_export_alone(constructor: Constructor) -> None:
    vv = sm.visitor_value(traffic=constructor(_frame(PRODUCT)), by="product_id", freq="D")
    got = vv.to_pandas().set_index(["product_id", "period"])
    for row in _rows(PRODUCT):
        g = got.loc[(row["product_id"], row["date"])]
        assert abs(g["paid_amount"] - row["paid_amount"]) < CENT
        assert abs(g["refund_amount"] - row["refund_amount"]) < CENT
        assert g["visitor_value"] == pytest.approx(row["paid_amount"] / row["visitors"])
        net = (row["paid_amount"] - row["refund_amount"]) / row["visitors"]
        assert g["visitor_value_net"] == pytest.approx(net)
        if row["paid_buyers"]:
            assert g["aov"] == pytest.approx(row["paid_amount"] / row["paid_buyers"])
    # what cannot be had without orders is said, and no interval is made up
    assert got["aov_ci_low"].isna().all()
    assert any("without orders" in n and "pass orders=" in n for n in vv.audit.notes)
    assert any("成功退款金额" in n for n in vv.audit.notes)


@needs_calamine
def test_visitor_value_from_a_product_export_and_an_order_report(
    constructor: Constructor,
) -> None:
    vv = sm.visitor_value(orders=constructor(_frame(ORDERS)), traffic=constructor(_frame(PRODUCT)))
    row = vv.to_pandas().iloc[0]
    paid = [r for r in _rows(ORDERS) if r["paid_at"] is not None]
    visitors = _sum(_rows(PRODUCT), "visitors")
    amount = _sum(paid, "amount")
    assert int(row["visitors"]) == visitors
    assert int(row["paid_buyers"]) == len({r["buyer_id"] for r in paid})
    assert abs(row["paid_amount"] - amount) < CENT
    assert row["visitor_value"] == pytest.approx(amount / visitors)
    assert abs(row["refund_amount"] - _sum(paid, "refund_amount")) < CENT
    assert np.isfinite(row["aov_ci_low"])  # orders give each buyer's amount: an interval


@needs_calamine
def test_visitor_value_without_visitors_or_amounts_names_what_to_pass() -> None:
    traffic = _frame(PRODUCT)
    with pytest.raises(SchemaError, match="'visitors'") as exc:
        sm.visitor_value(traffic=traffic.drop(columns=["visitors"]))
    assert "商品访客数" in str(exc.value)
    with pytest.raises(SchemaError, match="'paid_amount'") as exc:
        sm.visitor_value(traffic=traffic.drop(columns=["paid_amount"]))
    assert "orders=" in str(exc.value)
    with pytest.raises(SchemaError, match="orders="):
        sm.visitor_value()


# ------------------------------------------------------------------ traffic and ROAS


def _source_truth() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in _rows(SOURCE):
        for col in ("visitors", "paid_buyers", "paid_amount"):
            out[r["source"]][col] += r[col]
    for r in _rows(ZTC):
        out[r["source"]]["cost"] += r["cost"]
    return out


def test_traffic_sources_and_roas_from_a_source_export_and_a_spend_report(
    constructor: Constructor,
) -> None:
    tr = sm.traffic_sources(traffic=constructor(_frame(SOURCE)), spend=constructor(_frame(ZTC)))
    got = tr.to_pandas().set_index("source")
    truth = _source_truth()
    assert set(got.index) == set(truth)
    for source, want in truth.items():
        g = got.loc[source]
        assert int(g["visitors"]) == want["visitors"]
        assert int(g["attributed_buyers"]) == want["paid_buyers"]
        assert abs(g["attributed_amount"] - want["paid_amount"]) < CENT
        assert abs(g["cost"] - want.get("cost", 0.0)) < CENT
    ztc = got.loc["直通车"]
    assert ztc["roas"] == pytest.approx(truth["直通车"]["paid_amount"] / truth["直通车"]["cost"])
    assert np.isnan(ztc["roas_ci_low"])  # no buyer's amounts: no interval made up
    assert bool(ztc["is_paid"])
    assert any(
        n.startswith("sales per source are the traffic export's own") for n in tr.audit.notes
    )


@needs_calamine
def test_roas_by_day_from_two_spend_reports() -> None:
    spend = pd.concat([_frame(ZTC), _frame(WXT)], ignore_index=True)
    tr = sm.traffic_sources(traffic=_frame(SOURCE), spend=spend, freq="D")
    got = tr.to_pandas().set_index(["source", "period"])
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        # 万相台's 关键词推广 scene is the old 直通车: its cost joins 直通车's (SCENE_SOURCES)
        cost = sum(r["cost"] for r in _rows(ZTC) if r["date"] == day) + sum(
            r["cost"] for r in _rows(WXT) if r["date"] == day and r["scene"] == "关键词推广"
        )
        amount = sum(
            r["paid_amount"] for r in _rows(SOURCE) if r["date"] == day and r["source"] == "直通车"
        )
        g = got.loc[("直通车", day)]
        assert abs(g["cost"] - cost) < CENT
        assert g["roas"] == pytest.approx(amount / cost)
    # 万相台's own scenes (货品加速, 全站推广) are 万相台; they have no visitors in the export
    wxt = sum(r["cost"] for r in _rows(WXT) if r["scene"] in ("货品运营-货品加速", "全站推广"))
    assert abs(got.xs("万相台", level="source")["cost"].sum() - wxt) < CENT


# ------------------------------------------------------------------ DSR


def test_dsr_from_a_review_export(constructor: Constructor) -> None:
    ds = sm.dsr(constructor(_frame(REVIEWS)))
    row = ds.to_pandas().iloc[-1]
    truth = _rows(REVIEWS)
    for dim in ("item", "service", "logistics"):
        scores = [r[f"{dim}_score"] for r in truth if r[f"{dim}_score"] is not None]
        assert row[dim] == pytest.approx(sum(scores) / len(scores))
        assert int(row[f"n_{dim}"]) == len(scores)
    assert any("no orders given" in n for n in ds.audit.notes)


# ------------------------------------------------------------------ the weekly report


@needs_calamine
def test_weekly_report_from_a_product_export_builds_what_it_can() -> None:
    report = sm.weekly_report(traffic=_frame(PRODUCT), week="2026-W45")
    assert [s.key for s in report.sections] == ["summary", "funnel", "products", "value"]
    notes = " ".join(report.notes)
    for piece in ("without raw events", "CTR by source", "sessions", "bot", "流量来源", "评价"):
        assert piece in notes, piece
    visitors = {h.name: h for h in report.headline}["visitors"]
    days = ("2026-11-02", "2026-11-03")
    assert visitors.value == sum(r["visitors"] for r in _rows(PRODUCT) if r["date"] in days)


@needs_calamine
def test_weekly_report_from_a_product_export_without_visitors_is_no_key_error() -> None:
    """issue 14: a product export without its traffic columns ended in KeyError: 'visitors'."""
    traffic = _frame(PRODUCT).drop(columns=["visitors", "page_views", "carters", "favoriters"])
    report = sm.weekly_report(traffic=traffic, orders=_frame(ORDERS), week="2026-W45")
    assert "value" not in [s.key for s in report.sections]
    assert "visitors" not in {h.name for h in report.headline}
    assert any("no visitor column" in n and "商品访客数" in n for n in report.notes)


@needs_calamine
def test_weekly_report_from_every_kind_of_export() -> None:
    report = sm.weekly_report(
        traffic=[_frame(PRODUCT), _frame(SOURCE), _frame(SHOP)],
        orders=_frame(ORDERS),
        spend=_frame(ZTC),
        ratings=_frame(REVIEWS),
        week="2026-W45",
    )
    assert [s.key for s in report.sections] == [
        "summary",
        "funnel",
        "traffic",
        "products",
        "dsr",
        "value",
    ]
    heads = {h.name: h for h in report.headline}
    days = ("2026-11-02", "2026-11-03")
    # the store's visitors come from the shop export, not from products or sources summed
    assert heads["visitors"].value == sum(r["visitors"] for r in _rows(SHOP) if r["date"] in days)
    amount = sum(
        r["paid_amount"] for r in _rows(SOURCE) if r["date"] in days and r["source"] == "直通车"
    )
    cost = sum(r["cost"] for r in _rows(ZTC) if r["date"] in days)
    assert heads["roas"].value == pytest.approx(amount / cost)
    assert any(n.startswith("Built from store exports, without raw events") for n in report.notes)
    missing = [n for n in report.notes if n.startswith("Not in the files given")]
    # every file was given: only the short span is missing
    trend = "the daily trend: it needs 14 days of daily rows, the data have 3."
    assert missing == [f"Not in the files given: {trend}"]


def test_weekly_report_refuses_two_exports_of_one_kind() -> None:
    source = _frame(SOURCE)
    with pytest.raises(SchemaError, match="two traffic-source"):
        sm.weekly_report(traffic=[source, source])
    with pytest.raises(SchemaError, match=r"events= .* or traffic="):
        sm.weekly_report(orders=_frame(ORDERS))


def test_weekly_report_says_when_export_rows_span_several_days() -> None:
    weeks = _frame("sycm_product_weeks")
    report = sm.weekly_report(traffic=weeks)
    spans = [n for n in report.notes if "cover several days" in n]
    assert spans
    assert spans[0].startswith(f"{len(weeks)} rows of the product")
