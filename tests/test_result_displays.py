"""The views of every public result (issue 15): Markdown, HTML and ``repr`` in words.

Every result the package's functions return is built on the demo store and shown in
English and Chinese: no snake_case code name reaches the reader, the Chinese views hold
no English word beyond data values and the abbreviations and proper names of
:data:`ALLOWED`, a long table shows its first and its last rows and says how many are
between, and an interval reads ``low – high`` next to its figure (the interval itself
checked against statsmodels' Wilson interval). The result tables keep their code names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import shopmetrics as sm
from shopmetrics.errors import DefinitionError
from shopmetrics.report import views

from .test_labels import ALLOWED_LATIN, _data_tokens, _problems, html_text

EXPORTS = Path(__file__).parent / "data" / "exports"

ALLOWED = ALLOWED_LATIN | {
    # proper names of the customer-value models (shown with their Chinese kind: "BG/NBD 模型")
    "BG", "NBD", "Pareto", "Gamma", "Delta", "Score", "Poisson", "Fisher", "Welch",
}  # fmt: skip


def _check(text: str, tokens: set[str], lang: str) -> list[str]:
    return [p for p in _problems(text, tokens, lang) if p not in ALLOWED]


def _split_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events with a test arm per visitor (a hash of the id: the same visitor, the same arm)."""
    digit = events["visitor_id"].astype(str).str[-1]
    return events.assign(group=np.where(digit.isin(list("01234")), "A", "B"))


@pytest.fixture(scope="module")
def results(store: Any) -> dict[str, Any]:
    """Every public result type, built on the demo store (seed 0)."""
    st = store
    ev = _split_events(st.events)
    daily = st.events[st.events["event"] == "visit"].groupby(st.events["ts"].dt.floor("D")).size()
    funnel = sm.funnel(st.events, st.orders, by="source", freq="W")
    acts = sm.datasets.make_store(
        seed=1, products=40, visitors_per_day=300, activities=True
    )  # as tests/test_activity.py builds it
    broken = pd.concat([st.orders.head(50), st.orders.head(3)], ignore_index=True)
    broken.loc[5, "amount"] = -1.0  # a negative amount: an error of its own
    return {
        "funnel": funnel,
        "funnel_by_product": sm.funnel(st.events, st.orders, by="product_id", freq="W"),
        "dsr": sm.dsr(st.ratings, st.orders, peers=st.dsr_peers),
        "low_ratings": sm.low_ratings(st.ratings, orders=st.orders),
        "traffic": sm.traffic_sources(st.events, st.orders, st.spend),
        "visitor_value": sm.visitor_value(st.events, st.orders, st.spend, by="source"),
        "attribution": sm.attribute(events=st.events, orders=st.orders, model="linear"),
        "attribution_comparison": sm.compare_attribution(
            events=st.events, orders=st.orders, models=["last_click", "linear"]
        ),
        "comparison": sm.compare(funnel),
        "ab_test": sm.ab_test(events=ev, variant="group", metric="cart", control="A"),
        "sample_size": sm.ab_sample_size(0.03, 0.1),
        "ctr_test": sm.ctr_test(ev, variant="group", control="A"),
        "anomalies": sm.anomalies(daily),
        "customer_value": sm.customer_value(st.orders),
        "activity_effect": sm.activity_effect(acts.events, acts.orders, acts.activities),
        "validation": sm.validate(orders=broken),
        "validation_clean": sm.validate(orders=st.orders.head(50)),
        "inspection": sm.inspect(EXPORTS / "sycm_source.csv"),
    }


def file_tokens(found: Any) -> set[str]:
    """What a file says of itself (its name, format and encoding): data, shown as is."""
    out = set(re.findall(r"[A-Za-z0-9_]+", Path(found.path).name))
    for f in found.read.files:
        out |= set(re.findall(r"[A-Za-z0-9_]+", f"{f.format} {f.encoding or ''}"))
    return out


@pytest.fixture(scope="module")
def tokens(store: Any, results: dict[str, Any]) -> set[str]:
    """Words of the input tables' text cells (ids, carriers, regions) and of the export
    file read (name, format, encoding): data, shown as is; the test arms A and B."""
    data = _data_tokens(store.events, store.orders, store.ratings, store.spend, store.peers)
    return data | file_tokens(results["inspection"]) | {"A", "B"}


NAMES = [
    "funnel", "funnel_by_product", "dsr", "low_ratings", "traffic", "visitor_value",
    "attribution", "attribution_comparison", "comparison", "ab_test", "sample_size",
    "ctr_test", "anomalies", "customer_value", "activity_effect", "validation",
    "validation_clean", "inspection",
]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NAMES)
def test_views_have_no_code_names_and_zh_is_chinese(
    results: dict[str, Any], tokens: set[str], name: str, lang: str
) -> None:
    res = results[name]
    md = res.to_markdown(lang=lang)
    page = html_text(res.to_html(lang=lang))
    assert md.strip()
    assert page.strip()
    for view, text in (("markdown", md), ("html", page)):
        problems = _check(text, tokens, lang)
        assert problems == [], f"{name}/{lang}/{view}: {problems[:10]}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_view_and_repr(results: dict[str, Any], tokens: set[str], name: str) -> None:
    res = results[name]
    assert _check(html_text(res._repr_html_()), tokens, "en") == []
    text = repr(res)
    assert type(res).__name__ in text
    assert len(text.splitlines()) <= 12  # terse
    for raw in ("Flag(", "Audit(", "Exclusion(", "ReadResult(", "problems=("):
        assert raw not in text, (name, raw)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flags_show_as_a_table_in_words(
    results: dict[str, Any], tokens: set[str], lang: str
) -> None:
    flags = results["funnel"].flags
    assert len(flags) >= 3  # the demo store's planted traps
    md = flags.to_markdown(lang)
    assert md.count("\n| ") == len(flags) + 1  # header and one row per flag
    assert _check(md, tokens, lang) == []
    assert _check(html_text(flags.to_html(lang)), tokens, lang) == []
    assert "Flag(" not in repr(flags)
    assert repr(flags).startswith(f"Flags({len(flags)}: ")


def test_an_unknown_language_is_refused(results: dict[str, Any]) -> None:
    with pytest.raises(DefinitionError, match="fr"):
        results["funnel"].to_markdown(lang="fr")


def _gap(text: str) -> int:
    m = re.search(r"… ([\d,]+) (?:rows not shown|行未显示)", text)
    assert m is not None, text[:300]
    return int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_result_shows_its_head_and_tail(results: dict[str, Any], lang: str) -> None:
    res = results["funnel_by_product"]
    n = len(res.table)
    assert n == 200 * 8  # 200 products x 8 weeks
    md = res.to_markdown(lang=lang)
    body = [ln for ln in md.splitlines() if re.match(r"\| P\d", ln)]  # product rows
    assert len(body) == views.MAX_ROWS
    first, last = res.table.iloc[0], res.table.iloc[-1]
    assert body[0].startswith(f"| {first['product_id']} | {first['period']} |")
    assert body[-1].startswith(f"| {last['product_id']} | {last['period']} |")
    assert _gap(md) == n - len(body)
    page = res.to_html(lang=lang)
    assert f"<td>{last['product_id']}</td>" in page
    assert _gap(html_text(page)) == n - len(re.findall(r"<td>P\d", page))
    short = res.to_markdown(max_rows=15, lang=lang)
    assert _gap(short) == n - 15


def test_a_short_result_shows_every_row_and_no_gap(results: dict[str, Any]) -> None:
    res = results["funnel"]  # 5 sources x 8 weeks
    md = res.to_markdown(max_rows=len(res.table))
    assert "rows not shown" not in md
    assert sum(ln.startswith("| ") for ln in md.splitlines()) >= len(res.table) + 1


def test_intervals_read_low_to_high_beside_their_figure(results: dict[str, Any]) -> None:
    res = results["funnel"]
    row = res.table.iloc[0]
    # independent: statsmodels' Wilson interval of paying buyers / visitors
    lo, hi = proportion_confint(row["paid_buyers"], row["visitors"], alpha=0.05, method="wilson")
    want = f"{lo * 100:.2f}% – {hi * 100:.2f}%"
    md = res.to_markdown()
    header = md.splitlines()[2].split(" | ")
    cells = next(ln for ln in md.splitlines() if ln.startswith("| Display")).split(" | ")
    i = header.index("Payment conversion")
    assert header[i + 1] == "Payment conversion, 95% interval"
    assert cells[i] == f"{row['paid_buyers'] / row['visitors'] * 100:.2f}%"
    assert cells[i + 1] == want
    zh = res.to_markdown(lang="zh")
    assert "支付转化率 95% 区间" in zh
    assert want in zh


def test_the_result_table_keeps_its_code_names(results: dict[str, Any]) -> None:
    res = results["funnel"]
    before = res.to_pandas()
    res.to_markdown(lang="zh")
    res.to_html()
    repr(res)
    assert "payment_conversion_ci_low" in res.table.columns
    pd.testing.assert_frame_equal(res.to_pandas(), before)


def test_methods_and_definition_in_words(results: dict[str, Any]) -> None:
    md = results["funnel"].to_markdown()
    assert "Wilson interval" in md
    assert "95%" in md
    zh = results["funnel"].to_markdown(lang="zh")
    assert "Wilson 区间" in zh
    assert "生意参谋口径" in zh
    cmp = results["comparison"].to_markdown(lang="zh")
    assert "Benjamini-Hochberg 校正" in cmp


def test_validation_problems_are_a_labelled_table(results: dict[str, Any]) -> None:
    rep = results["validation"]
    assert len(rep.problems) >= 2
    md = rep.to_markdown()
    assert "Duplicate rows" in md or "duplicate" in md.lower()
    zh = rep.to_markdown(lang="zh")
    assert "订单" in zh
    assert "未发现问题" in results["validation_clean"].to_markdown(lang="zh")
