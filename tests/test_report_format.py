"""Formatting rules by kind of figure, flag display, tables, charts, Excel and notebook views.

Expected texts are written by hand from the rules of docs/report.md (a count is a whole
number with thousands separators, money has ¥, a rate's change is in percentage points,
a p-value below 0.001 reads "< 0.001", a change that rounds to zero has no sign). Tick
labels are checked against their extents measured on the SVG itself.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import shopmetrics as sm
from shopmetrics.report import charts
from shopmetrics.report import format as fmt
from shopmetrics.report import svg as _svg
from shopmetrics.report.html import render_html
from tests.test_labels import html_text

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def demo() -> tuple[Any, sm.Report]:
    st_ = sm.datasets.make_store(seed=0)
    rep = sm.weekly_report(
        events=st_.events, orders=st_.orders, ratings=st_.ratings, spend=st_.spend,
        peers=st_.peers, dsr_peers=st_.dsr_peers,
    )  # fmt: skip
    return st_, rep


# ------------------------------------------------------------------ rules by kind


@pytest.mark.parametrize(
    ("value", "kind", "lang", "signed", "expected"),
    [
        (1446.77, "count", "en", False, "1,447"),  # never "1,446.77 visitors"
        (14404, "count", "en", True, "+14,404"),
        (27411.8, "money", "en", False, "¥27,411.80"),
        (-507.0, "money", "zh", True, "-¥507.00"),
        (0.0235, "rate", "en", False, "2.35%"),
        (-0.0046, "rate_pp", "en", True, "-0.46 pp"),
        (-0.0046, "rate_pp", "zh", True, "-0.46 个百分点"),
        (0.00001, "rate_pp", "en", True, "0.00 pp"),  # rounds to zero: no sign
        (4.7383, "score", "en", False, "4.74"),
        (-0.0008, "score", "en", True, "0.00"),  # a DSR change of -0.0008: not "-0.00"
        (5.0, "score", "en", False, "5"),  # a single rating
        (0.0, "pvalue", "en", False, "< 0.001"),  # never "0"
        (2.16e-42, "pvalue", "en", False, "< 0.001"),
        (0.0621, "pvalue", "en", False, "0.062"),
        (1.8034, "ratio", "en", False, "1.80"),
    ],
)
def test_each_kind_of_figure_has_its_rule(
    value: float, kind: fmt.Kind, lang: str, signed: bool, expected: str
) -> None:
    assert fmt.fmt(value, kind, lang, signed=signed) == expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("visitors", "count"), ("n_item", "count"), ("band_low", "count"),
        ("paid_amount", "money"), ("aov_prev", "money"), ("cpc", "money"),
        ("payment_conversion_ci_low", "rate"), ("visitor_share_cur", "rate"),
        ("change_rate", "rate_pp"), ("mix_effect_rate", "rate_pp"), ("effect_on_total", "rate_pp"),
        ("item", "score"), ("dsr_logistics", "score"), ("item_peer_avg", "score"),
        ("p_adjusted", "pvalue"), ("roas_ci_high", "ratio"),
    ],
)  # fmt: skip
def test_kind_of_a_column(name: str, kind: str) -> None:
    assert fmt.kind_of(name) == kind


def test_a_dsr_change_that_rounds_to_zero_shows_without_a_sign() -> None:
    h = sm.Headline("dsr_item", 4.7383, previous=4.7391, fmt="number")
    assert fmt.fmt_change(h) == "0.00"
    assert fmt.fmt_headline(h, h.value) == "4.74"


def test_rate_changes_are_in_points_in_headline_and_tables(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    md = rep.to_markdown()
    conv = next(h for h in rep.headline if h.name == "payment_conversion")
    assert fmt.fmt_change(conv).endswith(" pp")
    rates = md.split("**This week and last: rates**")[1].split("**")[0]
    rows = [r for r in rates.splitlines() if r.startswith("| ") and "%" in r][1:]  # no header
    assert rows
    for row in rows:
        change = row.split(" | ")[1]  # metric | change | interval | this week | last week
        assert change.endswith(" pp"), row  # "-0.53 pp", never "-0.53%"
    assert not re.search(r"\d,\d{3}\.\d\d visitors", md)
    days = md.split("**Days outside the expected range**")[1].split("\n\n")[1]
    assert "1,447" in days  # the expected visitors, a count
    assert "1,446.77" not in days


def test_money_shows_its_sign_in_every_table(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    md = rep.to_markdown()
    sources = md.split("**Sources this week**")[1].split("**")[0]
    assert "¥3,825.80" in sources  # display's attributed amount
    headline = md.split("## Headline")[1].split("## ")[0]
    assert "| Paid amount | ¥27,411.80 | ¥20,383.10 | +¥7,028.70 |" in headline


def test_p_values_never_read_zero(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    md = rep.to_markdown()
    counts = md.split("**This week and last: counts and values**")[1].split("**")[0]
    assert "\\< 0.001" in counts
    cells = []  # the p-value cells of every part of the table (wide tables are split)
    for block in counts.split("\n\n"):
        rows = [
            [c.strip() for c in r.strip().strip("|").split("|")]
            for r in block.splitlines()
            if r.startswith("| ")
        ]
        if not rows:
            continue
        p_col = [i for i, h in enumerate(rows[0]) if h.lower().startswith("p-value")]
        cells += [row[i] for row in rows[2:] for i in p_col if i < len(row)]
    assert cells
    assert "0" not in cells  # a p-value below 0.001 reads "< 0.001", never "0"
    assert "0.00" not in cells


def test_a_rise_is_red_in_chinese_green_in_english_and_configurable(
    demo: tuple[Any, sm.Report],
) -> None:
    _, rep = demo
    assert 'data-rise="red"' in rep.to_html(lang="zh")
    assert 'data-rise="green"' in rep.to_html(lang="en")
    with sm.config_context(rise_colour="green"):
        assert 'data-rise="green"' in rep.to_html(lang="zh")
    with sm.config_context(rise_colour="red"):
        assert 'data-rise="red"' in rep.to_html(lang="en")
    css = rep.to_html()
    # a rise in a red market takes --bad (#cf222e, red); in a green market --good (green)
    assert (
        ".smr[data-rise=red] .delta.rise,.smr[data-rise=green] .delta.fall{color:var(--bad)}" in css
    )
    assert "--bad:#cf222e" in css
    visitors = next(h for h in rep.headline if h.name == "visitors")
    assert visitors.significant
    assert fmt.tone("visitors", visitors.change, True, "zh") == "rise"
    with pytest.raises(sm.errors.DefinitionError, match="rise_colour"):
        sm.config_context(rise_colour="blue").__enter__()


# ------------------------------------------------------------------ flags and tables


def test_flag_evidence_is_one_readable_line_with_the_detail_folded(
    demo: tuple[Any, sm.Report],
) -> None:
    _, rep = demo
    page = rep.to_html()
    flags = page.split('<section id="flags">')[1]
    text = html_text(flags)
    assert not re.search(r"\d\.\d{5,}", text)  # no 17-digit floats
    assert "{" not in text  # no JSON
    assert flags.count('<div class="flag ') == len(rep.flags)
    assert flags.count("<details>") == len([f for f in rep.flags if f.evidence or f.examples])
    brushing = next(f for f in rep.flags if f.code == "order_brushing")
    line = fmt.evidence_line(brushing, "en")
    assert line.startswith("Hour: 2026-11-12 01:00 · Orders: 30 · Buyers: 10")
    assert "Suspected order brushing" in text
    assert "Report sales and conversion without these orders" in text  # the one action
    presale = next(f for f in rep.flags if f.code == "presale_zero_payment")
    assert fmt.kv(presale.instead, "en", code=presale.code) == (
        "Payment conversion, presale counted on the deposit: 2.53% · Order conversion: 7.03% · "
        "Deposit conversion (deposits / visitors): 6.51% · Week: 2026-W47"
    )


def test_metrics_as_rows_this_week_last_week_change() -> None:
    two = pd.DataFrame(
        {"period": ["2026-W47", "2026-W46"], "visitors": [1800, 1650],
         "payment_conversion": [0.045, 0.0503], "aov": [80.0, 70.0]}
    )  # fmt: skip
    headers, rows, _ = fmt.display_table(two, "en")
    assert headers == ["Metric", "This week", "Last week", "Change"]
    assert rows == [
        ["Visitors", "1,800", "1,650", "+150"],
        ["Payment conversion", "4.50%", "5.03%", "-0.53 pp"],
        ["Average order value", "¥80.00", "¥70.00", "+¥10.00"],
    ]


def test_a_table_too_wide_for_the_page_is_split_with_its_keys() -> None:
    wide = pd.DataFrame({"source": ["search"], **{f"visitors_{i}": [123456] for i in range(30)}})
    headers, rows, numeric = fmt.display_table(wide, "en")
    parts = fmt.split_columns(headers, rows, numeric)
    assert len(parts) > 1
    assert all(p[0][0] == "Traffic source" for p in parts)
    assert sum(len(p[0]) - 1 for p in parts) == len(headers) - 1  # every column once


# ------------------------------------------------------------------ charts


def _tick_rows(svg: str) -> list[list[tuple[float, float, str]]]:
    """Text extents of the middle-anchored labels of each row (same y): the x-axis ticks."""
    root = ET.fromstring(svg)
    rows: dict[str, list[tuple[float, float, str]]] = {}
    for t in root.iter(f"{SVG_NS}text"):
        if t.get("text-anchor") != "middle" or not t.text:
            continue
        left, right = _svg.text_extent(float(t.get("x", 0)), t.text, "middle")
        rows.setdefault(t.get("y", ""), []).append((left, right, t.text))
    return list(rows.values())


def _overlaps(svg: str) -> list[tuple[str, str]]:
    out = []
    for row in _tick_rows(svg):
        row.sort()
        out += [(a[2], b[2]) for a, b in itertools.pairwise(row) if a[1] > b[0]]
    return out


def test_the_overlap_check_sees_colliding_labels() -> None:
    ticks = _svg.nice_ticks(0, 14404)  # nine ticks: "14,000" and "16,000" collide
    texts = [_svg.tick_text(t, ticks, False) for t in ticks]
    # placed as the funnel chart placed them before: on the tick, kept inside the chart
    xs = [_svg.anchor_x(10 + i * 396 / (len(ticks) - 1), s) for i, s in enumerate(texts)]
    body = "".join(
        f'<text x="{x}" y="1" text-anchor="middle">{s}</text>'
        for x, s in zip(xs, texts, strict=True)
    )
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    assert _overlaps(svg)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_tick_labels_overlap_in_the_demo_charts(demo: tuple[Any, sm.Report], lang: str) -> None:
    _, rep = demo
    for chart in (c for s in rep.sections for c in s.charts):
        assert _overlaps(chart.to_svg(lang=lang)) == [], chart.title


@settings(max_examples=60, deadline=None)
@example(lo=5e-324, span=1e-3, n=1, percent=False)  # found by Hypothesis: log10(0) on a subnormal
@given(
    lo=st.floats(-1e6, 1e6, allow_nan=False),
    span=st.floats(1e-3, 1e7, allow_nan=False),
    n=st.integers(1, 8),
    percent=st.booleans(),
)
def test_no_tick_labels_overlap_for_any_range(
    lo: float, span: float, n: int, percent: bool
) -> None:
    values = [lo + span * i / max(n - 1, 1) for i in range(n)]
    bar = charts.BarChart("b", labels=[f"s{i}" for i in range(n)], values=values,
                          metric="payment_conversion" if percent else "visitors")  # fmt: skip
    assert _overlaps(bar.to_svg()) == []
    days = pd.date_range("2026-09-28", periods=max(n * 7, 2)).date
    line = charts.LineChart("l", x=list(days), series=[charts.Series("item", [lo] * len(days))])
    assert _overlaps(line.to_svg()) == []


def test_the_trend_marks_the_reporting_week(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    trend = rep.section("trend").charts[0]
    assert isinstance(trend, charts.TrendChart)
    marked = [trend.x[i] for i in trend.marked()]
    assert [str(d) for d in (marked[0], marked[-1])] == ["2026-11-16", "2026-11-22"]
    svg = trend.to_svg(lang="zh")
    assert 'class="report-week"' in svg
    assert "报告周" in svg


def test_roas_has_a_labelled_break_even_line(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    roas = rep.section("traffic").charts[0]
    assert 'class="reference"' in roas.to_svg()
    assert "break-even (ROAS = 1)" in roas.to_svg()
    assert "盈亏平衡线 (ROAS = 1)" in roas.to_svg(lang="zh")


def test_dsr_against_peers_for_all_three_dimensions(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    chart = rep.section("dsr").charts[0]
    assert isinstance(chart, charts.LineChart)
    names = [s.name for s in chart.series]
    for dim in ("item", "service", "logistics"):
        assert dim in names
        assert f"{dim}_peer_avg" in names
    colours = dict(zip(names, chart.colours(), strict=True))
    assert colours["service"] == colours["service_peer_avg"]  # a benchmark in its line's colour
    svg = chart.to_svg(lang="zh")
    assert "卖家的服务态度 同行同层平均" in svg


# ------------------------------------------------------------------ Excel


def test_excel_formats_by_kind_tables_and_frozen_headers(
    demo: tuple[Any, sm.Report], tmp_path: Path
) -> None:
    _, rep = demo
    wb = openpyxl.load_workbook(rep.to_excel(tmp_path / "demo.xlsx", lang="en"))
    ws = wb["Traffic sources and ROAS"]
    assert ws.freeze_panes is not None
    assert len(ws.tables) >= 2  # one Excel table (own autofilter) per table
    header = next(r for r in ws.iter_rows() if r[0].value == "Traffic source")
    names = [c.value for c in header]
    first = header[0].row + 1
    expect = {
        "Visitors": "#,##0",
        "Share of visitors": "0.00%",
        "Attributed paid amount": '"¥"#,##0.00',
        "Cost per click": '"¥"#,##0.00',
        "ROAS (sales / spend)": "0.00",
    }
    for name, number_format in expect.items():
        cell = ws.cell(row=first, column=names.index(name) + 1)
        assert cell.data_type == "n", name
        assert cell.number_format == number_format, name
    assert header[0].alignment.wrap_text
    funnel = wb["Funnel"]
    conv = next(r for r in funnel.iter_rows() if r[0].value == "Payment conversion")
    assert conv[1].value == pytest.approx((339 / 14404 - 285 / 10124) * 100)  # change in points
    assert "pp" in conv[1].number_format
    for w in wb.worksheets:
        for table in w.tables.values():
            assert table.autoFilter is not None or table.headerRowCount


# ------------------------------------------------------------------ notebook


def test_results_show_head_and_tail_and_flags_as_a_table(demo: tuple[Any, sm.Report]) -> None:
    st_, _ = demo
    res = sm.funnel(st_.events, st_.orders, by="product_id", freq="W")
    assert len(res) > 40
    page = res._repr_html_()
    first, last = res.table.iloc[0]["product_id"], res.table.iloc[-1]["product_id"]
    assert f"<td>{first}</td>" in page
    assert f"<td>{last}</td>" in page
    assert f"{len(res) - 20:,} rows not shown" in page
    assert "Payment conversion, 95% interval" in page
    assert isinstance(res.flags, sm.results.Flags)
    flags = res.flags._repr_html_()
    assert "<table>" in flags
    assert "Flag(" not in flags
    assert "Suspected order brushing" in flags
    assert "Flags (" in flags
    zh = res.html_in("zh")
    assert "支付转化率 95% 区间" in zh


# ------------------------------------------------------------------ nothing from the internet


def test_the_report_fetches_nothing_from_the_internet(demo: tuple[Any, sm.Report]) -> None:
    _, rep = demo
    for lang in ("en", "zh"):
        page = rep.to_html(lang=lang)
        assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
        assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", page, re.I)
        assert "@import" not in page
        assert "@font-face" not in page
        assert "<script" not in page
        frag = render_html(rep, lang, fragment=True)
        assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", frag, re.I)
    docs = Path(__file__).resolve().parents[1] / "docs"
    for css in docs.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?https?://|@import", css.read_text(encoding="utf-8"))
