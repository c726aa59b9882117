"""Text cells to numbers and times: formats, missing markers, problems, and round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import hypothesis.strategies as st
import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from shopmetrics.io.values import parse_number, parse_numbers, parse_period, parse_times


@pytest.mark.parametrize(
    ("text", "kind", "want"),
    [
        ("12,345", "count", 12345),
        ("1,391", "count", 1391),
        ("1.2万", "count", 12000),
        ("3亿", "count", 300_000_000),
        ("￥1,234.00", "money", 1234.0),
        ("¥-12.50", "money", -12.5),
        ("-¥12.50", "money", -12.5),
        ("34,895.00", "money", 34895.0),
        ("0元", "money", 0.0),
        ("12，345.6", "money", 12345.6),
        ("１２３", "count", 123),
        ("3.45%", "rate", 0.0345),
        ("0.03331", "rate", 0.03331),
        ("5分", "score", 5.0),
        ("4.8", "score", 4.8),
        ("1.5e3", "money", 1500.0),
    ],
)
def test_formatted_numbers(text: str, kind: str, want: float) -> None:
    assert parse_number(text, kind=kind) == want  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "-", "--", "—", " ", None, float("nan")])
def test_missing_markers(text: object) -> None:
    p = parse_numbers([text, "1"], kind="count")
    assert p.values.isna().tolist() == [True, False]
    assert p.missing == 1
    assert p.ok


@pytest.mark.parametrize(
    ("texts", "kind", "reason"),
    [
        (["abc", "1", "1..2"], "money", "not_a_number"),
        (["1,2,3"], "money", "not_a_number"),
        (["nan", "inf"], "money", "not_a_number"),
        (["3.5"], "count", "not_a_whole_number"),
        (["-3"], "count", "negative_count"),
        (["3.45%"], "money", "rate_in_amount"),
        (["3.45%", "0.02"], "rate", "mixed_rate_scales"),
        (["6"], "score", "out_of_range"),
        (["5分"], "money", "not_a_number"),
    ],
)
def test_each_problem_is_reported_with_rows_and_examples(
    texts: list[str], kind: str, reason: str
) -> None:
    p = parse_numbers(texts, column="支付金额", kind=kind)  # type: ignore[arg-type]
    assert [q.reason for q in p.problems] == [reason]
    problem = p.problems[0]
    assert problem.column == "支付金额"
    assert "支付金额" in str(problem)
    assert problem.examples[0] in texts
    assert problem.rows[0] == texts.index(problem.examples[0])
    assert p.values.isna().iloc[problem.rows[0]]  # never a silent number


def test_all_problems_of_a_column_at_once() -> None:
    p = parse_numbers(["x", "2.5", "3%", "4"], column="访客数", kind="count")
    assert {q.reason for q in p.problems} == {
        "not_a_number",
        "not_a_whole_number",
        "rate_in_amount",
    }
    assert p.values.tolist()[3] == 4


def test_parse_number_raises_on_bad_text() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number("twelve")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-11-01", "2026-11-01 00:00:00"),
        ("20261101", "2026-11-01 00:00:00"),
        ("2026/11/1", "2026-11-01 00:00:00"),
        ("2026/11/1 9:05", "2026-11-01 09:05:00"),
        ("2026年11月01日", "2026-11-01 00:00:00"),
        ("2026年11月1日 8时5分", "2026-11-01 08:05:00"),
        ("2026-11-01 08:30:00", "2026-11-01 08:30:00"),
        ("2026-11-01T08:30:00", "2026-11-01 08:30:00"),
        ("2026.11.01", "2026-11-01 00:00:00"),
        ("2026-11-01 08:30:00.250", "2026-11-01 08:30:00.250000"),
    ],
)
def test_dates_and_times(text: str, want: str) -> None:
    p = parse_times([text])
    assert p.ok
    assert str(p.values.iloc[0]) == want


@pytest.mark.parametrize("text", ["2026-13-01", "2026111", "soon", "2026-11-01 25:00", "20261301"])
def test_bad_dates_are_problems(text: str) -> None:
    p = parse_times(["2026-11-01", text], column="订单付款时间")
    assert p.problems[0].reason == "not_a_date"
    assert p.problems[0].rows == (1,)


def test_title_periods() -> None:
    assert parse_period("统计日期：2026-11-01~2026-11-07")[1] == pd.Timestamp("2026-11-07")  # type: ignore[index]
    assert parse_period("20260413至20260419")[0] == pd.Timestamp("2026-04-13")  # type: ignore[index]
    assert parse_period("店铺名称：示例旗舰店") is None


# ---------------------------------------------------------------- round trips (property tests)


def _render_money(c: int, style: int) -> str:
    value = Decimal(c) / 100
    sign, body = ("-" if value < 0 else ""), abs(value)
    return [
        f"{value:.2f}",
        f"{sign}{body:,.2f}",
        f"{sign}￥{body:,.2f}",
        f"¥{sign}{body:.2f}",
        f"{sign}{body:,.2f}元",
        f"{sign}{body:,.2f}".replace(",", "，"),
    ][style]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-(10**13), 10**13), st.integers(0, 5)), min_size=1, max_size=40)
)
def test_money_rendered_as_formatted_text_parses_back_exactly(cells: list[tuple[int, int]]) -> None:
    texts = [_render_money(c, s) for c, s in cells]
    got = parse_numbers(texts, kind="money")
    assert got.ok
    assert got.values.tolist() == [float(Decimal(c) / 100) for c, _ in cells]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**12), st.booleans()), min_size=1, max_size=40))
def test_counts_with_separators_and_wan_parse_back_exactly(cells: list[tuple[int, bool]]) -> None:
    def render(n: int, wan: bool) -> str:
        return f"{Decimal(n).scaleb(-4).normalize():f}万" if wan else f"{n:,}"

    got = parse_numbers([render(n, w) for n, w in cells], kind="count")
    assert got.ok
    assert got.values.tolist() == [n for n, _ in cells]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=40))
def test_percentages_parse_to_the_nearest_fraction(basis_points: list[int]) -> None:
    texts = [f"{Decimal(b) / 100:.2f}%" for b in basis_points]
    got = parse_numbers(texts, kind="rate")
    assert got.ok
    assert got.values.tolist() == [float(Decimal(b) / 10000) for b in basis_points]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)), st.integers(0, 3)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_times_rendered_in_each_form_parse_back(cells: list[tuple[dt.datetime, int]]) -> None:
    def render(t: dt.datetime, style: int) -> str:
        return [
            t.strftime("%Y-%m-%d %H:%M:%S"),
            f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}",
            t.strftime("%Y年%m月%d日 %H:%M:%S"),
            t.strftime("%Y%m%d"),
        ][style]

    got = parse_times([render(t, s) for t, s in cells])
    want = [
        t.replace(microsecond=0) if s < 3 else dt.datetime(t.year, t.month, t.day) for t, s in cells
    ]
    assert got.ok
    assert [v.to_pydatetime() for v in got.values] == want


def test_the_same_numbers_on_every_engine(constructor: object) -> None:
    """Text columns held by any engine, collected, parse to the same values."""
    texts = ["12,345", "1.2万", "￥1,234.00", "-", None, "0元", "34,895.00"]
    frame = pd.DataFrame({"x": texts})
    native = constructor(frame)  # type: ignore[operator]
    nw_frame = nw.from_native(native)
    collected = nw_frame.lazy().collect() if hasattr(nw_frame, "lazy") else nw_frame
    column = collected.get_column("x").to_list()
    got = parse_numbers(column, kind="money").values.to_numpy()
    want = np.array([12345.0, 12000.0, 1234.0, np.nan, np.nan, 0.0, 34895.0])
    np.testing.assert_array_equal(got, want)
