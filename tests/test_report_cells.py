"""Every table of the demo weekly report, read cell by cell as an operator reads it.

The rules (issue 15, "Formatting rules per kind of figure … applied everywhere"): a count
and the interval of a count change carry no decimals; money carries ¥ wherever it is shown
(not only in the headline); no table shows two columns under the same header; the "Where"
of a flag is written as a reader writes it (no ISO ``T`` timestamps, no column names).
The expected strings are read off the demo store's planted figures (``make_store(seed=0)``:
paid amount ¥27,411.80 in W47, P013's brushing hour 2026-11-12 01:00).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import shopmetrics as sm
from shopmetrics.report import format as fmt
from shopmetrics.report import labels


@pytest.fixture(scope="module")
def report() -> sm.Report:
    st_ = sm.datasets.make_store(seed=0)
    return sm.weekly_report(
        events=st_.events, orders=st_.orders, ratings=st_.ratings, spend=st_.spend,
        peers=st_.peers, dsr_peers=st_.dsr_peers,
    )  # fmt: skip


def _tables(report: sm.Report, lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    out = []
    for section in report.sections:
        for caption, table in section.tables:
            df = table.to_pandas() if hasattr(table, "to_pandas") else table
            headers, rows, _ = fmt.display_table(df, lang)
            out.append((caption, headers, rows))
    return out


def _column(headers: list[str], rows: list[list[str]], header: str) -> list[str]:
    i = headers.index(header)
    return [r[i] for r in rows]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_table_has_two_columns_with_one_header(report: sm.Report, lang: str) -> None:
    for caption, headers, _ in _tables(report, lang):
        dupes = sorted({h for h in headers if headers.count(h) > 1})
        assert dupes == [], f"{caption}: {dupes}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_money_rows_carry_the_currency_and_count_intervals_no_decimals(
    report: sm.Report, lang: str
) -> None:
    money = {labels.label(m, lang) for m in ("paid_amount", "aov", "visitor_value")}
    counts = {labels.label(m, lang) for m in ("exposures", "clicks", "visitors")}
    metric = labels.label("metric", lang)
    seen_money = seen_counts = checked = 0
    for caption, headers, rows in _tables(report, lang):
        if metric not in headers:
            continue
        names = _column(headers, rows, metric)
        # the columns holding the row's own figure (not its p-value, ratio or verdict)
        figure_cols = [
            i
            for i, h in enumerate(headers)
            if h in {labels.label(c, lang) for c in ("this_week", "last_week", "change")}
            or h == labels.label("change_interval", lang)
        ]
        for row, name in zip(rows, names, strict=True):
            values = row[headers.index(metric) + 1 :]
            if name in money:
                seen_money += 1
                amounts = [row[i] for i in figure_cols if row[i]]
                checked += len(amounts)
                assert all("¥" in v for v in amounts), (caption, name, amounts)
            if name in counts:
                seen_counts += 1
                for v in values:
                    if v.startswith("["):  # the interval of the change
                        assert "." not in v, (caption, name, v)
    assert seen_money >= 3
    assert checked >= 9  # this week, last week and change of three money rows at least
    assert seen_counts >= 3


def test_the_funnel_counts_table_shows_the_paid_amount_as_money(report: sm.Report) -> None:
    found = [
        row
        for _, headers, rows in _tables(report, "en")
        if "Metric" in headers
        for row in rows
        if row[0] == "Paid amount"
    ]
    assert any("¥27,411.80" in row for row in found), found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flag_subjects_are_written_for_a_reader(report: sm.Report, lang: str) -> None:
    actions = next(
        (headers, rows)
        for section in report.sections
        if section.key == "summary"
        for caption, table in section.tables
        for headers, rows, _ in [fmt.display_table(_frame(table), lang)]
    )
    headers, rows = actions
    where = _column(headers, rows, labels.label("subject", lang))
    text = " | ".join(where)
    assert "T01:00" not in text
    assert "2026-11-12 01:00" in text  # P013's brushing hour
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text  # no column names
    assert not re.search(r"(^|\| )source\b", text), text  # the dimension is labelled
    assert all(w for w in where), where  # every flag says where (rating brushing: its day)


def _frame(table: Any) -> Any:
    return table.to_pandas() if hasattr(table, "to_pandas") else table


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_value_decompositions_effects_are_money(report: sm.Report, lang: str) -> None:
    # visitor value = paid amount / visitors: its mix and own effects are yuan per visitor
    # (on the demo store the (store) row's two effects add to the headline's -¥0.11)
    effects = [labels.label(c, lang) for c in ("mix_effect_value", "rate_effect_value")]
    cells = [
        row[headers.index(h)]
        for caption, headers, rows in _tables(report, lang)
        for h in effects
        if h in headers
        for row in rows
        if row[headers.index(h)]
    ]
    assert len(cells) >= 10
    assert all("¥" in c for c in cells), cells
