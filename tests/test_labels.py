"""The label layer and what every output shows a reader (issue 15).

1. Every code the library can emit has English and Chinese words: the metric names of
   ``shopmetrics.metrics``, every flag code (found by walking the source for ``Flag(``
   calls and validation rules, not from the label table itself), the demo store's
   traffic sources, the enumerations the results write, the method and definition names
   of the configuration.
2. Every output of three reports (the demo store, its trap-free twin, a report from store
   exports alone) in both languages — HTML text and attributes, Markdown, Excel cells,
   chart SVG text, notebook views of results, flags and the report — holds no
   snake_case identifier, and the Chinese ones no English word beyond data values (ids,
   names, carriers read from the input tables) and the abbreviations and proper names
   listed in :data:`ALLOWED_LATIN`.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import metrics
from shopmetrics.config import CI_METHODS, CORRECTIONS
from shopmetrics.datasets.params import SOURCES
from shopmetrics.report import labels
from shopmetrics.report.html import render_html
from shopmetrics.report.labels_flags import FLAGS

SRC = Path(__file__).resolve().parents[1] / "src" / "shopmetrics"
EXPORTS = Path(__file__).parent / "data" / "exports"
CJK = re.compile(r"[\u3400-\u9fff]")
# word edges in ASCII: "主要来自display" holds the word "display" (a Unicode \b sees none,
# a Chinese character being a word character too)
_EDGE_L, _EDGE_R = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"
SNAKE = re.compile(rf"{_EDGE_L}[a-z][a-z0-9]*(?:_[a-z0-9]+)+{_EDGE_R}")
LATIN_WORD = re.compile(rf"{_EDGE_L}[A-Za-z]{{2,}}{_EDGE_R}")
ALLOWED_LATIN = frozenset(
    {
        # abbreviations a Chinese operator reads in 生意参谋 itself
        "DSR", "ROAS", "ROI", "CTR", "UV", "SKU", "ID",
        # proper names of methods (shown with their Chinese kind: "Wilson 区间")
        "Wilson", "Jeffreys", "Clopper", "Pearson", "Benjamini", "Hochberg", "Holm", "STL",
        "Shopify",
        # proper names of the engines (a note says which one held a table)
        "DuckDB", "polars", "pandas", "Spark",
    }
)  # fmt: skip


# ------------------------------------------------------------------ every code has words


def _flag_codes_in_source() -> set[str]:
    """Flag codes written in the source: ``Flag("code", ...)``, ``Flag(code="...")``,
    ``code = "..."`` assignments next to them, validation ``_Rule("code", ...)`` and the
    reason keys of the export reader."""
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "report" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in ("Flag", "_Rule"):
                    first = node.args[0] if node.args else None
                    first = next((k.value for k in node.keywords if k.arg == "code"), first)
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        codes.add(first.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                targets = [getattr(t, "id", "") for t in node.targets]
                if "code" in targets and isinstance(node.value.value, str):
                    codes.add(node.value.value)
            if isinstance(node, ast.IfExp):  # code = "a" if ... else "b"
                for side in (node.body, node.orelse):
                    if isinstance(side, ast.Constant) and str(side.value).startswith("unparse"):
                        codes.add(side.value)
    return codes


def test_the_source_walk_finds_flag_codes() -> None:
    codes = _flag_codes_in_source()
    # a few codes known to be emitted (their detectors are tested in tests/test_flags.py)
    assert {"presale_zero_payment", "order_brushing", "mix_shift", "anomaly"} <= codes
    assert {"missing_column", "duplicate_rows", "unparseable_time"} <= codes
    assert len(codes) > 40


def test_every_flag_code_has_a_title_and_an_action_in_both_languages() -> None:
    missing = sorted(_flag_codes_in_source() - set(FLAGS))
    assert missing == [], f"flag codes without words in report/labels_flags.py: {missing}"
    for code, ((en_t, en_a), (zh_t, zh_a)) in FLAGS.items():
        assert all((en_t, en_a, zh_t, zh_a)), code
        assert CJK.search(zh_t), code
        assert CJK.search(zh_a), code
        assert not SNAKE.search(en_t + en_a + zh_t + zh_a), code
        assert labels.flag_title(code, "zh") == zh_t


def _metric_names() -> set[str]:
    names = set(metrics.RATES) | set(metrics.COUNT_ORDER) | set(metrics.PROPORTIONS)
    names |= set(metrics.COUNTS) | set(metrics.MEANS)
    for num, den in metrics.PROPORTIONS.values():
        names |= {num, den}
    return names


@pytest.mark.parametrize("name", sorted(_metric_names()))
def test_every_metric_has_english_and_chinese_labels(name: str) -> None:
    assert labels.has_label(name), name
    en, zh = labels.label(name, "en"), labels.label(name, "zh")
    assert en != name
    assert "_" not in en
    assert CJK.search(zh), (name, zh)
    for suffix in ("_ci_low", "_ci_high", "_prev", "_cur"):
        assert CJK.search(labels.label(name + suffix, "zh")), name + suffix


@pytest.mark.parametrize("source", SOURCES)
def test_every_demo_source_has_the_stores_name(source: str) -> None:
    zh = labels.value_label("source", source, "zh")
    en = labels.value_label("source", source, "en")
    assert zh is not None
    assert CJK.search(zh)
    assert en is not None
    assert "_" not in en
    assert labels.value_label("source", "paid_search", "zh") == "直通车"  # 生意参谋's name
    assert labels.value_label("source", "display", "zh") == "引力魔方"


def test_methods_definitions_and_enumerations_have_words() -> None:
    for name in (*CI_METHODS, *CORRECTIONS, *metrics.DEFINITIONS):
        assert labels.term(name, "en") != name, name
        assert CJK.search(labels.term(name, "zh")), name
    assert labels.term("wilson", "zh") == "Wilson 区间"
    for column, value in [
        ("kind", "free"), ("kind", "paid"), ("kind", "drop_to_zero"), ("kind", "high"),
        ("kind", "low"), ("direction", "up"), ("direction", "down"),
        ("low_dimensions", "item, logistics"), ("explained_by", "order_brushing"),
    ]:  # fmt: skip
        zh = labels.value_label(column, value, "zh")
        assert zh is not None, (column, value)
        assert CJK.search(zh), (column, value)
    assert labels.value_label("significant", True, "zh") == "是"
    assert labels.value_label("significant", False, "en") == "no"


def test_an_unknown_name_is_shown_in_words_not_as_its_code() -> None:
    assert labels.label("brand_new_metric") == "brand new metric"
    assert labels.flag_title("brand_new_flag") == "Brand new flag"
    assert not labels.has_label("brand_new_metric")


# ------------------------------------------------------------------ every output


class _Text(HTMLParser):
    """Text nodes (not of <style>) and the attributes a reader sees or hears."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._style = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style += tag == "style"
        self.parts += [v for k, v in attrs if k in ("aria-label", "title", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        self._style -= tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def _data_tokens(*frames: Any) -> set[str]:
    """Every word found in the input tables' text cells (ids, names, carriers, regions)."""
    out: set[str] = set()
    for f in frames:
        if f is None:
            continue
        df = f if isinstance(f, pd.DataFrame) else f.to_pandas()
        for c in df.columns:
            for v in df[c].dropna().unique():
                if isinstance(v, str):
                    out.update(re.findall(r"[A-Za-z0-9_]+", v))
    return out


def _exports_report() -> tuple[sm.Report, set[str]]:
    from shopmetrics.io.convert import to_canonical
    from shopmetrics.io.files import read_table

    def frame(name: str) -> pd.DataFrame:
        return to_canonical(read_table(EXPORTS / name)).data

    names = ["sycm_source.csv", "taobao_orders.csv", "taobao_reviews.csv"]
    names.append("直通车_计划报表_20261101_20261103.csv")
    traffic = [frame("sycm_source.csv")]
    if importlib.util.find_spec("python_calamine") is not None:
        traffic += [frame("sycm_product_daily.xlsx"), frame("sycm_shop.xlsx")]
    report = sm.weekly_report(
        traffic=traffic,
        orders=frame("taobao_orders.csv"),
        spend=frame(names[-1]),
        ratings=frame("taobao_reviews.csv"),
        week="2026-W45",
    )
    return report, _data_tokens(*traffic, *(frame(n) for n in names[1:]))


Reports = list[tuple[str, sm.Report, set[str], Any]]


@pytest.fixture(scope="module")
def reports() -> Reports:
    """``(name, report, data tokens, store)`` of the three reports (store: ``None`` for the
    report from exports)."""
    reports: Reports = []
    for traps in (True, False):
        st = sm.datasets.make_store(seed=0, traps=traps)
        rep = sm.weekly_report(
            events=st.events, orders=st.orders, ratings=st.ratings, spend=st.spend,
            peers=st.peers, dsr_peers=st.dsr_peers,
        )  # fmt: skip
        tokens = _data_tokens(st.events, st.orders, st.ratings, st.spend, st.peers)
        reports.append((f"demo{'' if traps else '-clean'}", rep, tokens, st))
    exp, exp_tokens = _exports_report()
    reports.append(("exports", exp, exp_tokens, None))
    return reports


@pytest.fixture(scope="module")
def outputs(
    reports: Reports, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, set[str]]]:
    """``{name: (text, data tokens)}`` of every output of the three reports, both languages."""
    out: dict[str, tuple[str, set[str]]] = {}
    tmp = tmp_path_factory.mktemp("outputs")
    for name, rep, tokens, st in reports:
        for lang in ("en", "zh"):
            key = f"{name}/{lang}"
            out[f"{key}/html"] = (html_text(rep.to_html(lang=lang)), tokens)
            # Markdown escapes data text (tb\_buyer10): read it as shown
            out[f"{key}/markdown"] = (rep.to_markdown(lang=lang).replace("\\", ""), tokens)
            out[f"{key}/notebook-report"] = (
                html_text(render_html(rep, lang, max_rows=20, fragment=True)),
                tokens,
            )
            svg = "".join(c.to_svg(lang=lang) for s in rep.sections for c in s.charts)
            out[f"{key}/charts"] = (html_text(svg), tokens)
            path = rep.to_excel(tmp / f"{name}-{lang}.xlsx", lang=lang)
            wb = openpyxl.load_workbook(path)
            cells = [
                str(c.value).removeprefix("'")
                for ws in wb.worksheets
                for row in ws.iter_rows()
                for c in row
                if isinstance(c.value, str)
            ]
            out[f"{key}/excel"] = ("\n".join([*wb.sheetnames, *cells]), tokens)
            out[f"{key}/notebook-flags"] = (
                html_text(sm.results.Flags(rep.flags).to_html(lang)),
                tokens,
            )
            if st is not None:
                res = sm.funnel(st.events, st.orders, by="source", freq="W")
                out[f"{key}/notebook-result"] = (html_text(res.html_in(lang)), tokens)
    return out


def _problems(text: str, tokens: set[str], lang: str) -> list[str]:
    found = {m for m in SNAKE.findall(text) if m not in tokens}
    if lang == "zh":
        # a source code the store names in Chinese (display: 引力魔方) is data in the
        # tables but never a word of a Chinese text
        named = {t for t in tokens if CJK.search(labels.value_label("source", t, "zh") or "")}
        shown = [*SNAKE.findall(text), *LATIN_WORD.findall(text)]
        found |= {w for w in shown if w not in ALLOWED_LATIN and (w not in tokens or w in named)}
    return sorted(found)


KEYS = [
    f"{r}/{lang}/{kind}"
    for r in ("demo", "demo-clean", "exports")
    for lang in ("en", "zh")
    for kind in ("html", "markdown", "notebook-report", "charts", "excel", "notebook-flags")
] + [f"{r}/{lang}/notebook-result" for r in ("demo", "demo-clean") for lang in ("en", "zh")]


@pytest.mark.parametrize("key", KEYS)
def test_no_code_names_and_all_chinese(outputs: dict[str, tuple[str, set[str]]], key: str) -> None:
    text, tokens = outputs[key]
    assert text.strip(), key
    lang = key.split("/")[1]
    problems = _problems(text, tokens, lang)
    context = {p: _around(text, p) for p in problems[:8]}
    assert problems == [], f"{key}: {context}"


def _sentences(rep: sm.Report) -> Iterator[str]:
    """Every sentence a report's builders wrote: the report's title and notes; each
    section's title, intro, table captions, chart titles and notes."""
    yield rep.title
    yield from rep.notes
    for s in rep.sections:
        yield from (s.title, s.intro, *(c for c, _ in s.tables), *s.notes)
        yield from (c.title for c in s.charts)


def test_every_sentence_a_section_writes_has_its_chinese(reports: Reports) -> None:
    # the same check as above, per sentence: a failure names the whole sentence to give
    # an entry in report/labels_phrases.PHRASES (or to register with its Chinese)
    missing: dict[str, str] = {}
    for name, rep, tokens, _ in reports:
        for sentence in _sentences(rep):
            if sentence and _problems(labels.translate(sentence, "zh"), tokens, "zh"):
                missing.setdefault(sentence, name)
    assert missing == {}, "sentences without Chinese:\n" + "\n".join(
        f"[{name}] {sentence}" for sentence, name in missing.items()
    )


def _around(text: str, word: str) -> str:
    i = text.find(word)
    return text[max(0, i - 60) : i + 60].replace("\n", " ")


def test_the_check_can_fail() -> None:
    # the checks see a code name and an English word in a Chinese text
    assert _problems("访客数 payment_conversion", set(), "zh") == ["payment_conversion"]
    assert _problems("访客数 Visitors", set(), "zh") == ["Visitors"]
    assert _problems("访客数 ROAS Wilson 区间 P013 v123", set(), "zh") == []
    assert _problems("buyer_id", {"buyer_id"}, "en") == []
    assert _problems("主要来自display", {"display"}, "zh") == ["display"]
    assert _problems("来自Visitors与paid_amount", set(), "zh") == ["Visitors", "paid_amount"]
    assert _problems("主要来自 paid_search", {"paid_search"}, "zh") == ["paid_search"]


def iter_outputs(outputs: dict[str, tuple[str, set[str]]]) -> Iterator[str]:
    yield from outputs


def test_a_sentence_built_from_pieces_and_a_flags_subject_read_in_chinese() -> None:
    # the traffic intro opens with one of three phrases: the opening is translated in turn
    tail = (
        "; shares are of the store's visitors, each visitor counted once: they add to more "
        "than 100% (a visitor can come through several sources)."
    )
    for opening in (
        "Orders credited to the source the order records",
        "Orders credited to the last click before them",
        "Sales as the traffic-source export credits them (the back-end's attribution)",
    ):
        zh = labels.translate(opening + tail, "zh")
        assert zh.startswith(labels.translate(opening, "zh") + "；"), zh
        assert _problems(zh, set(), "zh") == [], zh
        assert labels.translate(opening + tail, "en") == opening + tail
    # a flag's subject: its dimension and sources by their names, data as is
    subject = "source, 2026-W46, 2026-W47"
    assert labels.value_label("subject", subject, "zh") == "流量来源，2026-W46，2026-W47"
    assert labels.value_label("subject", "paid_search, P013", "zh") == "直通车，P013"
    assert labels.value_label("subject", subject, "en") is None  # shown as written
    assert labels.value_label("source", "(store)", "zh") == "(全店)"


def test_a_report_from_inputs_on_two_engines_reads_in_chinese(tmp_path: Any) -> None:
    """Orders given as a Parquet path (scanned by DuckDB) and ratings as a pandas table:
    the note that one was copied into the other's engine is a sentence in Chinese too."""
    pytest.importorskip("duckdb")
    st = sm.datasets.make_store(seed=0, traps=False)
    st.orders.to_parquet(tmp_path / "orders.parquet")
    rep = sm.weekly_report(
        events=st.events, orders=str(tmp_path / "orders.parquet"), ratings=st.ratings,
        spend=st.spend,
    )  # fmt: skip
    tokens = _data_tokens(st.events, st.orders, st.ratings, st.spend)
    notes = [s for s in _sentences(rep) if s and "copied from" in s]
    assert notes, "the mixed inputs were joined without a copy note"
    for sentence in notes:
        zh = labels.translate(sentence, "zh")
        assert _problems(zh, tokens, "zh") == [], zh
        assert "复制" in zh
    md = rep.to_markdown(lang="zh")
    assert "copied" not in md
