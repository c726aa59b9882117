"""The weekly report container and its renderings: HTML, Markdown, Excel, SVG charts, i18n.

References used below (numbers computed by hand, written next to each check):
- Excel sheet-name rules: Microsoft support, "Rename a worksheet" (at most 31 characters;
  not blank; none of / \\ ? * : [ ]; not beginning or ending with an apostrophe;
  "History" is reserved).
- Formula injection: OWASP, "CSV Injection" (cells beginning with =, +, -, @, tab, CR).
- Nice tick steps: Heckbert, "Nice numbers for graph labels", Graphics Gems (1990):
  steps are 1, 2 or 5 times a power of ten.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import shopmetrics as sm
from shopmetrics.flags import Flag
from shopmetrics.report import excel as _excel
from shopmetrics.report import format as _format
from shopmetrics.report import labels as _i18n
from shopmetrics.report import svg as _svg

EVIL = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","click")'
SNAPSHOTS = Path(__file__).parent / "snapshots"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SVG_NS = "{http://www.w3.org/2000/svg}"


def build_report(lang: str = "en") -> sm.Report:
    """A deterministic report from small hand-made tables (untrusted names included)."""
    days = [dt.date(2026, 11, 16) + dt.timedelta(days=d) for d in range(7)]
    funnel = pd.DataFrame(
        {
            "visitors": [1800, 1650],
            "paid_buyers": [81, 83],
            "payment_conversion": [0.045, 83 / 1650],
            "period": ["2026-W47", "2026-W46"],
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ["P001", EVIL, FORMULA, "-10% sale | bundle"],
            "visitors": [500, 300, 120, 40],
            "payment_conversion": [0.05, 0.031, 0.0, 0.025],
            "payment_conversion_ci_low": [0.0341, 0.0155, 0.0, 0.0044],
            "payment_conversion_ci_high": [0.0727, 0.0603, 0.0310, 0.1286],
            "paid_amount": [12345.5, 5000.25, 0.0, 99.0],
            "first_seen": pd.to_datetime(
                ["2026-01-05 00:00", "2026-03-01 14:30", None, "2026-11-20 00:00"]
            ),
        }
    )
    presale = Flag(
        "presale_zero_payment",
        "warning",
        f"Product {EVIL} is in its presale deposit phase: payment conversion is 0 while 12 "
        "orders exist. Use order conversion instead.",
        table="orders",
        subject={"product_id": EVIL, "period": "2026-W47"},
        evidence={"orders": 12, "paid_buyers": 0, "visitors": 120},
        instead={"order_conversion": 0.1},
    )
    uniques = Flag(
        "multi_day_uniques",
        "error",
        "traffic: visitors summed over 7 days overstate unique visitors.",
        table="traffic",
        column="visitors",
        n_rows=7,
        evidence={"min_gap_days": 7},
    )
    return sm.Report(
        title="Weekly report: demo store",
        week="2026-W47",
        period=(dt.date(2026, 11, 16), dt.date(2026, 11, 22)),
        generated_at=dt.datetime(2026, 11, 23, 8, 0),
        lang=lang,
        store="Demo store (Asia/Shanghai)",
        headline=[
            sm.Headline("visitors", 1800, previous=1650, significant=True),
            sm.Headline(
                "payment_conversion",
                0.045,
                previous=83 / 1650,
                significant=False,
                ci_low=0.0364,
                ci_high=0.0556,
            ),
            sm.Headline("paid_amount", 17444.75, previous=16000, unit="¥"),
            sm.Headline("roas", 3.2, previous=2.9),
        ],
        sections=[
            sm.Section(
                "funnel",
                intro="Pooled rates over the week.",
                tables=[("This week and last", funnel)],
                charts=[
                    sm.BarChart(
                        "Funnel",
                        labels=["Exposures", "Clicks", "Visitors", "Buyers"],
                        values=[50000, 2500, 1800, 81],
                        x_label="count",
                    )
                ],
            ),
            sm.Section(
                "trend",
                charts=[
                    sm.TrendChart(
                        "Daily visitors",
                        x=days,
                        y=[250, 260, 255, 180, 262, 270, 265],
                        low=[230] * 7,
                        high=[290] * 7,
                        expected=[260] * 7,
                        y_label="Visitors",
                        x_label="Day",
                        metric="visitors",
                    )
                ],
            ),
            sm.Section(
                "products",
                tables=[("Products", products)],
                charts=[
                    sm.BarChart(
                        "Movers: payment conversion",
                        labels=["P001", EVIL, FORMULA],
                        values=[0.12, -0.08, 0.03],
                        low=[0.05, -0.15, -0.02],
                        high=[0.2, -0.01, 0.09],
                        metric="rel_payment_conversion",
                        x_label="relative change",
                    )
                ],
                flags=[presale],
                notes=["Products with fewer than 30 visitors are marked small-sample."],
            ),
            sm.Section(
                "dsr",
                charts=[
                    sm.LineChart(
                        "DSR over six months",
                        x=["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"],
                        series=[
                            sm.Series("item", [4.8, 4.78, 4.79, 4.75, 4.71, 4.69]),
                            sm.Series("logistics", [4.7, 4.72, None, 4.6, 4.62, 4.66]),
                            sm.Series("peer average", [4.75] * 6, dashed=True),
                        ],
                        y_label="score",
                        x_label="month",
                    )
                ],
            ),
        ],
        flags=[uniques],
        notes=["Times are store-local (Asia/Shanghai)."],
    )


@pytest.fixture(scope="module")
def report() -> sm.Report:
    return build_report()


@pytest.fixture(scope="module")
def page(report: sm.Report) -> str:
    return report.to_html()


# ------------------------------------------------------------------ container


def test_headline_changes_computed_by_hand() -> None:
    h = sm.Headline("visitors", 1800, previous=1650)
    assert h.change == 150  # 1800 - 1650
    assert h.rel_change == pytest.approx(150 / 1650)  # 0.090909...
    rate = sm.Headline("payment_conversion", 0.045, previous=0.05)
    assert rate.change == pytest.approx(-0.005)
    assert _format.fmt_change(rate) == "-0.50 pp"  # 4.5% - 5.0% = -0.5 percentage points
    assert _format.fmt_rel(rate.rel_change) == "-10.0%"  # -0.005 / 0.05
    zero = sm.Headline("visitors", 10, previous=0)
    assert zero.change == 10
    assert zero.rel_change is None  # 10 / 0 is undefined, not infinite
    given_change = sm.Headline("visitors", 10, previous=8, change=1.0, rel_change=0.5)
    assert (given_change.change, given_change.rel_change) == (1.0, 0.5)


def test_section_copies_tables_and_report_sorts_flags(report: sm.Report) -> None:
    df = pd.DataFrame({"visitors": [1, 2]})
    section = sm.Section("s", tables=[("t", df)])
    df.loc[0, "visitors"] = 99
    assert section.tables[0][1]["visitors"].tolist() == [1, 2]
    assert [f.severity for f in report.flags] == ["error", "warning"]
    # the section's flag is gathered once into the report's list
    assert sum(f.code == "presale_zero_payment" for f in report.flags) == 1


def test_bad_containers_raise_with_the_fix() -> None:
    with pytest.raises(sm.ShopmetricsError, match="unique"):
        sm.Report("r", sections=[sm.Section("a"), sm.Section("a")])
    with pytest.raises(sm.ShopmetricsError, match=r"\(caption, table\) pairs"):
        sm.Section("a", tables=[pd.DataFrame({"x": [1]})])  # type: ignore[list-item]
    with pytest.raises(sm.ShopmetricsError, match="before it starts"):
        sm.Report("r", period=(dt.date(2026, 11, 22), dt.date(2026, 11, 16)))
    with pytest.raises(sm.DefinitionError, match="language"):
        sm.Report("r", lang="fr")
    with pytest.raises(sm.ShopmetricsError, match="one per x"):
        sm.TrendChart("t", x=[1, 2, 3], y=[1, 2])


def test_to_dict_and_json_round_trip(report: sm.Report) -> None:
    data = json.loads(report.to_json())
    assert data["week"] == "2026-W47"
    assert data["period"] == ["2026-11-16", "2026-11-22"]
    assert data["generated_at"] == "2026-11-23T08:00:00"
    assert [s["key"] for s in data["sections"]] == ["funnel", "trend", "products", "dsr"]
    products = data["sections"][2]["tables"][0]
    assert products["rows"][1]["product_id"] == EVIL
    assert products["rows"][2]["first_seen"] is None  # NaT -> null
    assert data["headline"][0]["change"] == 150
    assert data["sections"][3]["charts"][0]["data"]["logistics"][2] is None
    assert [f["code"] for f in data["flags"]] == ["multi_day_uniques", "presale_zero_payment"]


def test_rendering_prints_nothing_and_is_deterministic(
    report: sm.Report, capsys: pytest.CaptureFixture[str]
) -> None:
    first = report.to_html()
    assert report.to_html() == first
    assert report.to_markdown() == report.to_markdown()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# ------------------------------------------------------------------ Markdown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_snapshot(lang: str) -> None:
    text = build_report(lang).to_markdown()
    path = SNAPSHOTS / f"report_{lang}.md"
    if os.environ.get("SHOPMETRICS_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), (
        f"snapshot {path} missing; create it with SHOPMETRICS_UPDATE_SNAPSHOTS=1 and review it"
    )
    assert text == path.read_text(encoding="utf-8"), (
        "Markdown changed; if intended, rerun with SHOPMETRICS_UPDATE_SNAPSHOTS=1 and review "
        "the diff"
    )


def test_markdown_escapes_data_text(report: sm.Report) -> None:
    text = report.to_markdown()
    assert EVIL not in text
    assert r"\<script\>alert(1)\</script\>" in text
    # a pipe in a product name stays inside its cell
    assert r"-10% sale \| bundle" in text
    row = next(line for line in text.splitlines() if "bundle" in line)
    # 7 columns, the interval's two ends shown in one column: 6 columns -> 5 inner separators
    assert row.count(" | ") == 5


def test_path_writes_the_same_text(report: sm.Report, tmp_path: Path) -> None:
    out_html = report.to_html(tmp_path / "r.html")
    out_md = report.to_markdown(tmp_path / "r.md")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == out_html
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == out_md


# ------------------------------------------------------------------ HTML


class _Collector(HTMLParser):
    """Records start tags, attributes, and text with the stack of open tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "rect", "line", "circle", "polygon", "polyline", "path"):
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append((tuple(self.stack), data))


def _parse(page: str) -> _Collector:
    c = _Collector()
    c.feed(page)
    c.close()
    return c


def test_untrusted_text_is_escaped_everywhere(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _parse(page)
    assert all(tag != "script" for tag, _ in parsed.tags)
    where = {stack[-1] for stack, text in parsed.texts if EVIL in text}
    assert "td" in where  # table cell
    assert "text" in where  # SVG chart label
    assert "title" in where  # SVG tooltip
    assert "p" in where  # flag message
    # the formula-like product name is plain text too
    assert any(text == FORMULA and stack[-1] == "td" for stack, text in parsed.texts)


def test_html_requests_nothing_external(page: str) -> None:
    parsed = _parse(page)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), attrs
        for name, value in attrs.items():
            if name != "xmlns":  # the SVG namespace is a name, not a request
                assert "http" not in (value or "").lower(), (tag, name, value)
    css = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in css
    assert "@import" not in css
    assert re.search(r"""<(link|script|iframe|img|object|embed)\b""", page) is None
    csp = next(a for t, a in parsed.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (csp["content"] or "")
    # every http(s) reference left is the SVG namespace or text of the data
    attr_urls = re.findall(r"""=\s*["']https?://""", page)
    assert len(attr_urls) == page.count('xmlns="http://www.w3.org/2000/svg"')


def test_html_structure_toc_and_mobile(report: sm.Report, page: str) -> None:
    parsed = _parse(page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    ids = [a["id"] for _, a in parsed.tags if "id" in a]
    assert len(ids) == len(set(ids))
    hrefs = [a["href"] for t, a in parsed.tags if t == "a"]
    assert hrefs, "table of contents is empty"
    assert {h[1:] for h in hrefs if h} <= set(ids)  # every contents link has its target
    assert len(hrefs) == 1 + len(report.sections) + 2  # headline, sections, flags, notes
    wraps = [a for t, a in parsed.tags if t == "div" and a.get("class") == "table-wrap"]
    assert len(wraps) == sum(len(s.tables) for s in report.sections)
    assert "overflow-x:auto" in page
    assert 'lang="en"' in page


def test_html_charts_are_accessible_wellformed_svg(report: sm.Report, page: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    charts = [c for s in report.sections for c in s.charts]
    assert len(svgs) == len(charts) == 4
    for svg, chart in zip(svgs, charts, strict=True):
        root = ET.fromstring(svg)  # well-formed XML, or this raises
        assert root.get("role") == "img"
        assert root.get("aria-label") == chart.title
        assert root.get("viewBox", "").startswith(f"0 0 {_svg.WIDTH} ")
        assert "max-width:100%" in (root.get("style") or "")
        assert root.find(f"{SVG_NS}title").text == chart.title
        assert root.find(f"{SVG_NS}desc").text


def test_chinese_rendering_uses_dictionary_names() -> None:
    page = build_report("zh").to_html()
    assert 'lang="zh-CN"' in page
    assert "目录" in page
    assert "访客数" in page
    assert "支付转化率" in page


def test_repr_html_is_a_fragment(report: sm.Report) -> None:
    frag = report._repr_html_()
    assert frag.startswith("<style>")
    assert "<html" not in frag
    assert "<body" not in frag
    assert '<div class="smr" data-rise="green">' in frag  # an English report: a rise is green


# ------------------------------------------------------------------ charts


def _rects(svg: str) -> list[ET.Element]:
    return [r for r in ET.fromstring(svg).iter(f"{SVG_NS}rect") if r.get("data-value")]


def test_bar_lengths_are_proportional_to_values() -> None:
    values = [50000, 2500, 1800, 81]
    chart = sm.BarChart("Funnel", labels=["a", "b", "c", "d"], values=values)
    widths = [float(r.get("width") or 0) for r in _rects(chart.to_svg())]
    ticks = _svg.nice_ticks(0, 50000)
    assert ticks == [0.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0]  # step 10^4 (hand)
    plot = _svg.WIDTH - 14.0 - 10.0  # x1 - x0 of the bar chart
    for w, v in zip(widths, values, strict=True):
        assert w == pytest.approx(max(v / 50000 * plot, 0.5), abs=0.06)  # 1-decimal rounding


def test_negative_bars_go_left_of_zero_and_whiskers_span_the_interval() -> None:
    chart = sm.BarChart(
        "Movers",
        labels=["up", "down"],
        values=[0.1, -0.05],
        low=[0.02, -0.12],
        high=[0.18, 0.01],
        metric="rel_visitors",
    )
    root = ET.fromstring(chart.to_svg())
    ticks = _svg.nice_ticks(-0.12, 0.18)
    assert ticks == [-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2]  # step 0.05 (hand)
    x0, x1 = 10.0, _svg.WIDTH - 14.0

    def xmap(v: float) -> float:
        return x0 + (v + 0.15) / 0.35 * (x1 - x0)

    up, down = _rects(chart.to_svg())
    assert float(up.get("x") or 0) == pytest.approx(xmap(0.0), abs=0.06)
    assert float(down.get("x") or 0) + float(down.get("width") or 0) == pytest.approx(
        xmap(0.0), abs=0.1
    )
    assert up.get("fill") != down.get("fill")
    paths = [p.get("d") or "" for p in root.iter(f"{SVG_NS}path")]
    first = re.match(r"M([\d.]+) [\d.]+H([\d.]+)", paths[0])
    assert first is not None
    assert float(first.group(1)) == pytest.approx(xmap(0.02), abs=0.06)
    assert float(first.group(2)) == pytest.approx(xmap(0.18), abs=0.06)
    texts = "".join(root.itertext())
    assert "10.0% [2.0%, 18.0%]" in texts
    assert "-5.0% [-12.0%, 1.0%]" in texts


def test_trend_band_marks_points_outside_it() -> None:
    chart = sm.TrendChart(
        "t", x=["d1", "d2", "d3", "d4"], y=[5, 12, None, 1], low=[4, 4, 4, 4], high=[10, 10, 10, 10]
    )
    assert chart.outside() == [1, 3]  # 12 > 10 and 1 < 4; the gap is neither
    root = ET.fromstring(chart.to_svg())
    marked = [c for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "outside"]
    assert len(marked) == 2
    lines = [p for p in root.iter(f"{SVG_NS}polyline") if p.get("class") == "series"]
    assert len(lines) == 2  # the None splits the line in two runs
    assert len(list(root.iter(f"{SVG_NS}polygon"))) == 1  # one unbroken band


def test_line_chart_dashes_the_peer_series() -> None:
    chart = sm.LineChart(
        "DSR",
        x=["a", "b"],
        series=[sm.Series("shop", [4.8, 4.7]), sm.Series("peers", [4.75, 4.75], dashed=True)],
    )
    root = ET.fromstring(chart.to_svg())
    lines = list(root.iter(f"{SVG_NS}polyline"))
    assert [bool(p.get("stroke-dasharray")) for p in lines] == [False, True]
    assert chart.to_frame().columns.tolist() == ["x", "shop", "peers"]


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        # by hand: raw step = (hi - lo) / 5 = f x 10^e; f < 1.5 -> 1, < 3 -> 2, < 7 -> 5,
        # else 10; then the range is widened to whole steps
        (0, 97, [0, 20, 40, 60, 80, 100]),  # 19.4: f = 1.94 -> 2 x 10
        (4.61, 4.93, [4.6, 4.65, 4.7, 4.75, 4.8, 4.85, 4.9, 4.95]),  # 0.064: 6.4 -> 5 x 0.01
        (0.012, 0.058, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]),  # 0.0092: 9.2 -> 10 x 0.001
        (-3, 3, [-3, -2, -1, 0, 1, 2, 3]),  # 1.2: f = 1.2 -> 1
        # no range: widened by 10% each side to (6.3, 7.7); 1.4 / 5 = 0.28: 2.8 -> 2 x 0.1
        (7, 7, [6.2, 6.4, 6.6, 6.8, 7.0, 7.2, 7.4, 7.6, 7.8]),
    ],
)
def test_nice_ticks_hand_examples(lo: float, hi: float, expected: list[float]) -> None:
    assert _svg.nice_ticks(lo, hi) == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-1e7, 1e7, allow_nan=False),
    span=st.floats(1e-6, 1e7, allow_nan=False),
)
def test_nice_ticks_cover_the_range_with_round_steps(lo: float, span: float) -> None:
    assume(span >= 1e-6 * max(1.0, abs(lo)))  # a chart's range is not below float noise
    hi = lo + span
    ticks = _svg.nice_ticks(lo, hi)
    step = ticks[1] - ticks[0]
    assert ticks[0] <= lo + 1e-9 * step  # covers the range, up to float noise in a step
    assert ticks[-1] >= hi - 1e-9 * step
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6
    assert 3 <= len(ticks) <= 12


# ------------------------------------------------------------------ i18n


def test_chinese_labels_follow_the_metric_dictionary() -> None:
    # Names copied from shared/spec/metrics.md (the metric dictionary's 中文 column).
    dictionary = {
        "exposures": "曝光量",
        "ctr": "点击率",
        "visitors": "访客数",
        "inquiry_rate": "询盘率",
        "order_conversion": "下单转化率",
        "payment_conversion": "支付转化率",
        "aov": "客单价",
        "visitor_value": "UV价值",  # the dictionary's 访客价值 / UV价值: 生意参谋 shows UV价值
        "roas": "投入产出比",
        "dsr": "店铺动态评分",
        "page_views": "浏览量",
        "paid_amount": "支付金额",
        "bounce_rate": "跳失率",
        "refund_rate": "退款率",
        "repurchase_rate": "复购率",
        "cpc": "平均点击花费",
        "roi": "投资回报率",
        "item": "宝贝与描述相符",
        "service": "卖家的服务态度",
        "logistics": "物流服务的质量",
    }
    for name, zh in dictionary.items():
        assert _i18n.label(name, "zh") == zh, name
        assert _i18n.label(name, "en") != name or name == "roas"
    assert _i18n.label("payment_conversion_ci_low", "zh") == "支付转化率 下限"
    # a name without a label is shown in words, never as its snake_case code (issue 15)
    assert _i18n.label("unknown_column", "zh") == "unknown column"
    assert _i18n.label("unknown_column") == "unknown column"
    assert _i18n.section_title("funnel", "zh") == "转化漏斗"
    assert _i18n.section_title("custom key", "zh") == "custom key"


# ------------------------------------------------------------------ Excel


def test_excel_numbers_formats_and_formula_neutralisation(
    report: sm.Report, tmp_path: Path
) -> None:
    path = report.to_excel(tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Summary"
    assert wb.sheetnames[-1].startswith("Flags")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ws = wb["Products"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    formula = cells["'" + FORMULA]
    assert formula.data_type == "s"
    assert not str(formula.value).startswith("=")
    assert cells["'-10% sale | bundle"].data_type == "s"
    assert cells[EVIL].data_type == "s"  # harmless in a spreadsheet, kept as is
    header = next(r for r in ws.iter_rows() if r[0].value == "Product")
    assert all(c.font.bold for c in header if c.value)
    labels = [c.value for c in header]
    col = labels.index("Payment conversion")
    data_row = header[0].row + 1
    rate = ws.cell(row=data_row, column=col + 1)
    assert rate.data_type == "n"
    assert rate.value == pytest.approx(0.05)
    assert "%" in rate.number_format
    visitors = ws.cell(row=data_row, column=labels.index("Visitors") + 1)
    assert (visitors.value, visitors.data_type) == (500, "n")
    first_seen = ws.cell(row=data_row, column=labels.index("first seen") + 1)
    assert first_seen.value == dt.datetime(2026, 1, 5)
    assert ws.freeze_panes == f"B{data_row}"
    assert ws.column_dimensions["A"].width >= len(FORMULA)
    summary = wb["Summary"]
    rows = {r[0].value: r for r in summary.iter_rows()}
    conv = rows["Payment conversion"]
    assert conv[1].value == pytest.approx(0.045)
    assert "%" in conv[1].number_format
    assert conv[5].value == "no"  # significant: the label layer's yes / no, as in the report


def test_excel_sheet_names_valid_and_unique(tmp_path: Path) -> None:
    titles = [
        "Traffic: ROAS/spend [paid]",
        "traffic: roas/spend [PAID]",
        "History",
        "'quoted'",
        "A" * 40,
        "A" * 40 + "b",
        "Summary",
        "问题*?/\\商品",
    ]
    report = sm.Report("r", sections=[sm.Section(f"k{i}", title=t) for i, t in enumerate(titles)])
    wb = openpyxl.load_workbook(report.to_excel(tmp_path / "names.xlsx"))
    names = wb.sheetnames
    assert len(names) == len(titles) + 2  # summary and flags sheets
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert 0 < len(n) <= 31
        assert not set(n) & set("[]:*?/\\")
        assert not n.startswith("'")
        assert not n.endswith("'")
        assert n.lower() != "history"


def test_excel_value_neutralises_every_trigger() -> None:
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]:
        value, _ = _excel.excel_value(text)
        assert value.startswith("'"), text
    assert _excel.excel_value("P001") == ("P001", None)
    assert _excel.excel_value(float("nan")) == (None, None)
    assert _excel.excel_value(3) == (3, "#,##0")


# ------------------------------------------------------------------ browser


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None and Path("/usr/bin/chromium").exists():
        exe = "/usr/bin/chromium"
    if exe is None:
        pytest.fail("headless Chromium is needed for this test: apt-get install -y chromium")
    return exe


def _run_chromium(exe: str, url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report: sm.Report, tmp_path: Path) -> None:
    exe = _chromium()
    html_path = tmp_path / "report.html"
    report.to_html(html_path)
    url = html_path.as_uri()

    # the console check can fail: a page with an external image is reported (CSP blocks it)
    bad = tmp_path / "bad.html"
    bad.write_text(
        report.to_html().replace("</main>", '<img src="https://example.com/x.png"></main>'),
        encoding="utf-8",
    )
    control = _run_chromium(exe, bad.as_uri(), tmp_path / "profile-control", "--dump-dom")
    assert _console(control.stderr), "console check did not see a blocked external request"

    dom = _run_chromium(exe, url, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom.stderr) == []
    assert dom.stdout.count("<svg") == sum(len(s.charts) for s in report.sections)
    assert dom.stdout.count('class="card"') == len(report.headline)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout

    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("report-desktop.png", "1200,3600"), ("report-phone.png", "412,4200")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        run = _run_chromium(
            exe,
            url,
            tmp_path / f"profile-{name}",
            "--hide-scrollbars",
            f"--window-size={size}",
            f"--screenshot={shot}",
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert _console(run.stderr) == []
        assert _png_size(shot) == tuple(int(v) for v in size.split(","))
        assert shot.stat().st_size > 50_000  # a blank page compresses to a few kB


_MEASURE = """<script>
addEventListener("load", () => {
  const out = [];
  document.querySelectorAll(".table-wrap").forEach((w, i) => {
    const t = w.querySelector("table");
    const cap = w.querySelector("caption");
    out.push([i, cap ? cap.textContent : "", t.scrollWidth, w.clientWidth]);
  });
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify({tables: out, page: document.documentElement.scrollWidth,
                                    view: document.documentElement.clientWidth});
  document.body.appendChild(pre);
});
</script>"""


def _measured(
    exe: str, page: str, tmp: Path, width: int, *, print_media: bool
) -> dict[str, object]:
    """Every table's width against its container, in Chromium at ``width`` CSS px.

    The page's CSP forbids scripts, so a copy without it carries the measuring script;
    ``print_media`` applies the print styles (a landscape A4 page is 273 mm = 1032 px
    wide inside its 12 mm margins).
    """
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    if print_media:
        page = page.replace("@media print{", "@media all{")
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"measure-{width}-{print_media}.html"
    path.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    run = _run_chromium(
        exe,
        path.as_uri(),
        tmp / f"profile-measure-{width}-{print_media}",
        f"--window-size={width},2000",
        "--virtual-time-budget=5000",
        "--dump-dom",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    m = re.search(r'<pre id="measure">(.*?)</pre>', run.stdout, re.S)
    assert m, run.stdout[-2000:]
    import html as _html

    data: dict[str, object] = json.loads(_html.unescape(m.group(1)))
    return data


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_table_is_wider_than_the_page_in_chromium(lang: str, tmp_path: Path) -> None:
    exe = _chromium()
    store = sm.datasets.make_store(seed=0)
    report = sm.weekly_report(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        peers=store.peers,
        dsr_peers=store.dsr_peers,
    )
    page = report.to_html(lang=lang)
    # the measure can fail: a table of 40 columns in the page is seen as too wide
    cells = "".join(f"<td>column {i} of a table too wide</td>" for i in range(40))
    control = page.replace(
        "</main>",
        f'<div class="smr"><div class="table-wrap"><table><tr>{cells}</tr></table></div></div></main>',
    )
    seen = _measured(exe, control, tmp_path / "control", 1280, print_media=False)["tables"]
    assert isinstance(seen, list)
    assert seen[-1][2] > seen[-1][3] + 1
    for width, print_media in ((1280, False), (1032, True)):
        data = _measured(exe, page, tmp_path, width, print_media=print_media)
        tables = data["tables"]
        assert isinstance(tables, list)
        assert len(tables) == page.count('class="table-wrap"')
        wide = [t for t in tables if t[2] > t[3] + 1]  # a pixel of rounding
        assert wide == [], (lang, width, print_media, wide)
        assert data["page"] <= data["view"], (lang, width, data)
