"""Text cells to numbers and times, the same way on every engine.

Exports write figures as text: ``12,345``, ``34,895.00``, ``1.2万``, ``￥1,234.00``, ``0元``,
``3.45%``; missing values as blank, ``-``, ``--`` or ``—``; dates as ``2026-11-01``,
``20261101``, ``2026/11/1`` or ``2026年11月01日``, with or without a time. The parse runs once
on the collected text (numpy and pandas string kernels, a per-cell Python path only for the
few cells with 万 / 亿 / % or full-width digits), so every engine sees the same numbers.

Nothing here raises on bad text: each function returns the parsed values and a tuple of
:class:`ValueProblem` (rows and examples of what did not parse), so validation can report
every problem of every column at once.

Examples:
    >>> from shopmetrics.io.values import parse_numbers, parse_times
    >>> p = parse_numbers(["12,345", "1.2万", "￥1,234.00", "-", "abc"], column="支付金额")
    >>> p.values.tolist()
    [12345.0, 12000.0, 1234.0, nan, nan]
    >>> print(p.problems[0])
    支付金额: 1 value is not a number (row 4: 'abc')
    >>> parse_numbers(["3.45%", "0.5%"], kind="rate").values.tolist()
    [0.0345, 0.005]
    >>> parse_times(["2026-11-01 08:30:00", "20261102", "2026年11月3日"]).values.dt.day.tolist()
    [1, 2, 3]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "FORMATTED_NUMBER",
    "MISSING",
    "NumberKind",
    "Parsed",
    "ValueProblem",
    "parse_number",
    "parse_numbers",
    "parse_period",
    "parse_times",
]

NumberKind = Literal["number", "count", "money", "rate", "score"]

MISSING: frozenset[str] = frozenset({"", "-", "--", "—", "——", "－", "－－"})
"""Cell texts that mean "no value" (``0`` is a value)."""

_FORMATTED = (
    r"(?:[+-]?[¥￥]?|[¥￥][+-])(?:\d{1,3}(?:[,，]\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?元?"
)
FORMATTED_NUMBER = _FORMATTED
"""A number the vectorised parse reads: ``12,345``, ``￥1,234.00``, ``0元``, ``-5``, ``1e3``."""

_ONE = re.compile(
    r"(?P<sign>[+-]?)[¥￥$]?(?P<sign2>[+-]?)"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE](?P<exp>[+-]?\d+))?"
    r"(?P<unit>万|亿|%|元|分|星)?"
)
_SCALE = {"万": 4, "亿": 8, "%": -2}

_RANGE = re.compile(
    r"(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{8})\s*(?:~|～|至|到|—|--|-|_)\s*"
    r"(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{8})"
)
_RAW_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f")
_SINGLE = re.compile(r"(?<!\d)(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|20\d{6})(?!\d)")


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """Text of one column that did not parse.

    Attributes:
        column: The column (as named in the table it came from).
        reason: Machine-readable code: ``not_a_number``, ``not_a_whole_number``,
            ``rate_in_amount``, ``mixed_rate_scales``, ``negative_count``, ``out_of_range``,
            ``not_a_date``.
        count: How many cells.
        rows: The first few rows (0-based positions in the table).
        examples: The first few distinct texts.
    """

    column: str
    reason: str
    count: int
    rows: tuple[int, ...]
    examples: tuple[str, ...]

    _WORDS = {  # noqa: RUF012 - a class constant, not a field (slots dataclass)
        "not_a_number": "not a number",
        "not_a_whole_number": "not a whole number (a count)",
        "rate_in_amount": "a percentage in a count or amount column",
        "mixed_rate_scales": "a fraction beside percentages (one scale per column)",
        "negative_count": "a negative count",
        "out_of_range": "outside the score range 1-5",
        "not_a_date": "not a date or time",
    }

    def __str__(self) -> str:
        what = self._WORDS.get(self.reason, self.reason)
        verb = "value is" if self.count == 1 else "values are"
        rows = ", ".join(str(r) for r in self.rows)
        more = ", ..." if self.count > len(self.rows) else ""
        label = "row" if len(self.rows) == 1 else "rows"
        examples = ", ".join(repr(e) for e in self.examples)
        return f"{self.column}: {self.count} {verb} {what} ({label} {rows}{more}: {examples})"


@dataclass(frozen=True, slots=True)
class Parsed:
    """Parsed values of one column.

    Attributes:
        values: ``float64`` (``Int64`` for counts) or ``datetime64[ns]``; missing and
            unparsed cells are NaN / NA / NaT.
        missing: Cells that were missing markers (blank, ``-``, ...).
        problems: What did not parse; empty when everything did.
    """

    values: pd.Series
    missing: int
    problems: tuple[ValueProblem, ...]

    @property
    def ok(self) -> bool:
        """Whether every non-missing cell parsed."""
        return not self.problems


def _text(values: Iterable[Any]) -> pd.Series:
    """The cells as a pandas ``str`` series, stripped; missing markers as NaN."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    s = s.reset_index(drop=True).astype("str").str.strip()
    return s.mask(s.isin(MISSING))


def _problem(column: str, reason: str, text: pd.Series, bad: np.ndarray) -> ValueProblem:
    rows = np.flatnonzero(bad)
    examples = tuple(dict.fromkeys(text.iloc[rows[:50]].tolist()))[:3]
    return ValueProblem(column, reason, len(rows), tuple(int(r) for r in rows[:5]), examples)


def parse_number(text: str | None, *, kind: NumberKind = "number") -> float | None:
    """Parse one cell; ``None`` for a missing marker.

    Raises:
        ValueError: when the text is not a number of that kind.

    Examples:
        >>> parse_number("34,895.00"), parse_number("0元"), parse_number("--")
        (34895.0, 0.0, None)
        >>> parse_number("3.45%", kind="rate"), parse_number("1.2万", kind="count")
        (0.0345, 12000.0)
    """
    p = parse_numbers([text], kind=kind)
    if p.problems:
        raise ValueError(str(p.problems[0]))
    value = p.values.iloc[0]  # noqa: PD011 - Parsed.values
    return None if pd.isna(value) else float(value)


def _one(text: str, kind: NumberKind) -> tuple[float | None, str]:
    """The slow path for one cell: full-width digits, 万 / 亿 / %, units. (value, unit)."""
    t = unicodedata.normalize("NFKC", text).replace(" ", "").replace(",", ",")
    m = _ONE.fullmatch(t)
    if m is None or (m["sign"] and m["sign2"]):
        return None, ""
    unit = m["unit"] or ""
    if unit in ("分", "星") and kind != "score":
        return None, ""
    try:
        number = Decimal(m["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None, ""
    number = number.scaleb(int(m["exp"] or 0) + _SCALE.get(unit, 0))
    if "-" in (m["sign"], m["sign2"]):
        number = -number
    return float(number), unit


def _vector(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Fast path: plain and thousands-separated numbers. (values, parsed mask)."""
    out = np.full(len(text), np.nan)
    present = text.notna().to_numpy()
    try:  # the common case, every cell a plain number: one (correctly rounded) string cast
        quick = text[present].astype("float64").to_numpy()
    except (ValueError, TypeError):
        quick = None
    if quick is not None and np.isfinite(quick).all():  # "nan" / "inf" texts are no numbers
        out[present] = quick
        return out, present.copy()
    fmt = np.array(text.str.fullmatch(_FORMATTED).fillna(False), dtype=bool)
    if fmt.any():
        clean = text[fmt].str.replace(r"[,，¥￥元+]", "", regex=True)
        out[fmt] = clean.astype("float64").to_numpy()
    return out, fmt


def parse_numbers(
    values: Iterable[Any], *, column: str = "value", kind: NumberKind = "number"
) -> Parsed:
    """Parse a column of counts, amounts, rates or scores written as text.

    Args:
        values: The cells (text, ``None`` or NaN; numbers are accepted as they are).
        column: Its name, for the problems.
        kind: ``count`` (whole, not negative), ``money`` / ``number``, ``rate`` (``3.45%`` →
            0.0345; a column holds percentages or fractions, never both), ``score`` (1–5,
            ``5分`` accepted).

    Returns:
        The values (``Int64`` for counts, else ``float64``) and the problems found.

    Examples:
        >>> p = parse_numbers(["1,391", "3.5", "2%", ""], column="访客数", kind="count")
        >>> p.values.tolist(), [q.reason for q in p.problems], p.missing
        ([1391, <NA>, <NA>, <NA>], ['rate_in_amount', 'not_a_whole_number'], 1)
    """
    text = _text(values)
    out, done = _vector(text)
    units = np.full(len(text), "", dtype=object)
    todo = np.flatnonzero(~done & text.notna().to_numpy())
    bad = np.zeros(len(text), dtype=bool)
    cells = text.to_numpy(dtype=object)
    for i in todo:
        value, unit = _one(str(cells[i]), kind)
        if value is None:
            bad[i] = True
        else:
            out[i], units[i] = value, unit
    problems = [_problem(column, "not_a_number", text, bad)] if bad.any() else []
    problems += _check(column, kind, text, out, units == "%")
    series = pd.Series(out, dtype="float64")
    if kind == "count":
        series = series.round().astype("Int64").mask(series.isna())
    return Parsed(series, int(text.isna().sum()), tuple(problems))


def _check(
    column: str, kind: NumberKind, text: pd.Series, out: np.ndarray, percent: np.ndarray
) -> list[ValueProblem]:
    """Kind rules; cells that break one are reported and set to NaN in ``out``."""
    found: list[tuple[str, np.ndarray]] = []
    if kind == "rate":
        fraction = ~percent & ~np.isnan(out) & (out != 0)
        if percent.any() and fraction.any():
            found.append(("mixed_rate_scales", fraction))
    elif percent.any():
        found.append(("rate_in_amount", percent))
    if kind == "count":
        with np.errstate(invalid="ignore"):
            found.append(("not_a_whole_number", ~np.isnan(out) & ~percent & (out % 1 != 0)))
            found.append(("negative_count", out < 0))
    if kind == "score":
        with np.errstate(invalid="ignore"):
            found.append(("out_of_range", (out < 1) | (out > 5)))
    problems = []
    for reason, mask in found:
        if mask.any():
            problems.append(_problem(column, reason, text, mask))
            out[mask] = np.nan
    return problems


def _normalise_times(text: pd.Series) -> pd.Series:
    """Rewrite 年月日, slashes, dots, 时分秒 and ``yyyyMMdd`` to ``yyyy-m-d[ H:M[:S]]``."""
    return (
        text.str.replace(r"^(\d{4})(\d{2})(\d{2})(?=$|[ T])", r"\1-\2-\3", regex=True)
        .str.replace(r"^(\d{4})[年/.](\d{1,2})[月/.](\d{1,2})日?", r"\1-\2-\3", regex=True)
        .str.replace(r"(?<=\d)(?:T|\s+)(?=\d)", " ", regex=True)
        .str.replace(r"(\d)[时：:](\d{1,2})(?:[分：:](\d{1,2})秒?|分)?$", r"\1:\2:\3", regex=True)
        .str.replace(r":$", "", regex=True)
    )


def _apply_formats(result: pd.Series, text: pd.Series, formats: Sequence[str]) -> None:
    """Fill ``result``'s NaT cells from ``text`` with the formats, best first on a sample."""
    todo = result.isna() & text.notna()
    sample = text[todo].head(200)
    hits = {
        f: int(pd.to_datetime(sample, format=f, errors="coerce").notna().sum()) for f in formats
    }
    for fmt in sorted(formats, key=lambda f: -hits[f]):
        todo = result.isna() & text.notna()
        if not todo.any():
            return
        if hits[fmt] == 0 and len(sample) == todo.sum():
            continue
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        result[todo] = parsed.astype("datetime64[ns]").to_numpy()


def parse_times(values: Iterable[Any], *, column: str = "value") -> Parsed:
    """Parse dates and times written as text (no time zone: the exports give none).

    Accepts ``2026-11-01``, ``2026-11-01 08:30:00``, ``20261101``, ``2026/11/1 9:05``,
    ``2026.11.01``, ``2026年11月01日`` and ISO ``T`` times.

    Examples:
        >>> p = parse_times(["2026/11/1 9:05", "2026-13-01", "soon"], column="订单付款时间")
        >>> p.values.tolist()[0]
        Timestamp('2026-11-01 09:05:00')
        >>> print(p.problems[0])
        订单付款时间: 2 values are not a date or time (rows 1, 2: '2026-13-01', 'soon')
    """
    text = _text(values)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    _apply_formats(result, text, _RAW_FORMATS)
    todo = result.isna() & text.notna()
    if todo.any():
        norm = _normalise_times(text[todo])
        _apply_formats(result, norm.reindex(text.index), _FORMATS)
    bad = (result.isna() & text.notna()).to_numpy()
    problems = (_problem(column, "not_a_date", text, bad),) if bad.any() else ()
    return Parsed(result.reset_index(drop=True), int(text.isna().sum()), problems)


def _date(text: str) -> pd.Timestamp | None:
    parsed = parse_times([text])
    value = parsed.values.iloc[0]  # noqa: PD011 - Parsed.values
    return None if parsed.problems or pd.isna(value) else pd.Timestamp(value)


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The date range (or single date) written in a title row or file name, if any.

    Examples:
        >>> parse_period("统计日期：2026-11-01~2026-11-07")
        (Timestamp('2026-11-01 00:00:00'), Timestamp('2026-11-07 00:00:00'))
        >>> parse_period("流量来源-20260413至20260419.xls")[1].day
        19
        >>> parse_period("统计日期：2026年11月1日")[0].month, parse_period("生意参谋-商品") is None
        (11, True)
    """
    norm = unicodedata.normalize("NFKC", text)
    m = _RANGE.search(norm)
    if m:
        start, end = _date(m[1]), _date(m[2])
        if start is not None and end is not None and start <= end:
            return start, end
    for single in _SINGLE.finditer(norm):
        day = _date(single[1])
        if day is not None:
            return day, day
    return None


def problems_text(problems: Sequence[ValueProblem]) -> str:
    """All problems, one a line."""
    return "\n".join(str(p) for p in problems)
