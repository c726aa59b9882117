"""Text in known number and time columns, parsed in the engine: the same result on every engine.

A pandas ``object`` / ``str`` column, a polars ``String``, a DuckDB ``VARCHAR`` or a pyarrow
string column that holds counts, amounts, rates, scores or times (the kinds of
:data:`shopmetrics.schema.TABLES`) is parsed here with portable ``narwhals`` string
expressions (no back-references, no engine's own parser), so pandas, pyarrow, polars,
DuckDB and PySpark give the same numbers:

- numbers: ``12,345``, ``1.2万``, ``3亿``, ``￥1,234.00``, ``¥5``, ``0元``, ``34,895.00``,
  ``-12``, ``1e3``; ``3.45%`` only in a rate column (→ 0.0345: rates are never summed);
  ``5分`` / ``5星`` in a score column;
- missing: blank, ``-``, ``--``, ``—`` (a ``0`` is a value);
- times: ``2026-11-01``, ``20261101``, ``2026/11/1``, ``2026.11.01``, ``2026年11月01日``,
  each with an optional time (``8:05``, ``08:30:00``, ``8时5分3秒``, ISO ``T``), checked
  against the calendar (no 2026-02-29).

Text that does not parse is never summed and never silently null: :func:`find_problems`
counts it per column with up to five examples, :func:`shopmetrics.engine.load` raises a
:class:`TextValueError` naming the table, column, rows and the fix, and
:func:`text_problems` returns the same as validation flags.

Examples:
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"visitors": ["120", "130", "1.2万", "-"]})).lazy()
    >>> out = parse(frame, {"visitors": "count"}).collect().to_pandas()
    >>> out["visitors"].tolist()[:3], float(out["visitors"].sum())
    ([120.0, 130.0, 12000.0], 12250.0)
    >>> bad = nw.from_native(pd.DataFrame({"amount": ["1,234.00", "n/a", "3.5%"]})).lazy()
    >>> print(text_problems(bad, "orders")[0].message)  # doctest: +ELLIPSIS
    orders: column 'amount' has 2 values that are not amounts (...), e.g. '3.5%', 'n/a'. ...
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import narwhals.stable.v2 as nw

from shopmetrics.engine.running import collect
from shopmetrics.errors import SchemaError
from shopmetrics.flags.finding import Flag
from shopmetrics.schema import TABLES

__all__ = [
    "KIND_OF_SPEC",
    "MISSING",
    "Plan",
    "TextProblem",
    "TextValueError",
    "ValueKind",
    "find_problems",
    "id_columns",
    "parse",
    "plan",
    "text_kinds",
    "text_problems",
    "unparseable_number",
]

ValueKind = Literal["count", "money", "rate", "score", "time"]

KIND_OF_SPEC: dict[str, ValueKind] = {
    "int": "count",
    "num": "money",
    "rate": "rate",
    "score": "score",
    "time": "time",
}
"""The parse of each column kind of :class:`shopmetrics.schema.TableSpec`."""

MISSING: tuple[str, ...] = ("", "-", "--", "—", "——", "－", "－－")
"""Cell texts that mean "no value" (the set of :data:`shopmetrics.io.values.MISSING`)."""

_WS = " \t\r\n\u3000\xa0"
_NUM = r"(?:[0-9]{1,3}(?:[,，][0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+"
_UNITS: dict[str, str] = {
    "count": "元|万元?|亿元?",
    "money": "元|万元?|亿元?",
    "rate": "%|％",
    "score": "分|星",
}
_CLEAN = "[,，¥￥元万亿%％分星]"
_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_CLOCK = r"[0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]*)?)?"
_TIME_FORMAT = "%Y%m%d%H%M%S"
_ISO = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?: (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])?$"
)
"""ISO ``yyyy-mm-dd[ hh:mm:ss]`` with each field in its range (the fast path)."""
_NO_SUCH_DAY = r"^[0-9]{4}-(?:02-3|(?:0[469]|11)-31)"
_FEB_29 = r"^[0-9]{4}-02-29"
_LEAP_YEAR = r"^(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-"
_PREFIX = "__sm_"

_WHAT: dict[str, str] = {
    "count": "counts (such as 12,345 or 1.2万)",
    "money": "amounts (such as 1,234.00, ￥1,234.00 or 1.2万)",
    "rate": "rates (such as 3.45% or 0.0345)",
    "score": "scores (such as 5 or 4.8分)",
    "time": "dates or times (such as 2026-11-01 08:30:00, 2026/11/1, 20261101 or 2026年11月01日)",
}


def _number_pattern(kind: str) -> str:
    return rf"^(?:[+-]?[¥￥]?|[¥￥][+-])(?:{_NUM})(?:[eE][+-]?[0-9]+)?(?:{_UNITS[kind]})?$"


@dataclasses.dataclass(frozen=True, slots=True)
class TextProblem:
    """Text of one column that does not parse as its kind.

    Attributes:
        table: The input table.
        column: The column (canonical name).
        kind: ``count``, ``money``, ``rate``, ``score`` or ``time``.
        rows: How many rows hold such text.
        examples: Up to five distinct texts (sorted).
        source: The column as the user's table names it, when it was renamed.
    """

    table: str
    column: str
    kind: str
    rows: int
    examples: tuple[str, ...]
    source: str | None = None

    @property
    def message(self) -> str:
        """One sentence: what, where, and the way out."""
        name = self.column if not self.source else f"{self.source} ({self.column})"
        verb = "value that is" if self.rows == 1 else "values that are"
        examples = ", ".join(repr(e) for e in self.examples)
        msg = (
            f"{self.table}: column {name!r} has {self.rows} {verb} not {_WHAT[self.kind]}, "
            f"e.g. {examples}. "
        )
        if self.kind in ("count", "money") and any("%" in e or "％" in e for e in self.examples):
            msg += (
                "A percentage is a rate, not a count or an amount, and is never summed: map "
                "the right column with columns=, or drop this one. "
            )
        return msg + (
            "Correct these cells or blank them (blank, '-' and '--' mean missing), or convert "
            "the column before passing the table; shopmetrics.validate(...) lists every problem."
        )

    def flag(self) -> Flag:
        """The validation record."""
        code = "unparseable_time" if self.kind == "time" else "unparseable_number"
        return Flag(
            code,
            "error",
            self.message,
            table=self.table,
            column=self.column,
            n_rows=self.rows,
            examples=tuple({self.column: e} for e in self.examples),
            evidence={"kind": self.kind},
        )


class TextValueError(SchemaError):
    """Text in a number or time column that does not parse (``.problems``, one per column)."""

    def __init__(self, problems: Iterable[TextProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


def _tmp(col: str, part: str) -> str:
    return f"{_PREFIX}{part}_{col}"


def text_kinds(schema: Mapping[str, Any], table: str) -> dict[str, ValueKind]:
    """The known number and time columns of ``table`` that hold text (``String`` or
    ``Object``), with the parse of each."""
    spec = TABLES.get(table)
    if spec is None:
        return {}
    out: dict[str, ValueKind] = {}
    for col, kind in spec.kinds.items():
        value = KIND_OF_SPEC.get(kind)
        if value is not None and col in schema and schema[col] in (nw.String, nw.Object):
            out[col] = value
    return out


def id_columns(schema: Mapping[str, Any], table: str) -> list[str]:
    """The id columns of ``table`` that are not text yet (cast to ``String`` by ``load``)."""
    spec = TABLES.get(table)
    if spec is None:
        return []
    return [
        c
        for c, kind in spec.kinds.items()
        if kind == "id" and c in schema and schema[c] != nw.String
    ]


def _stripped(col: str) -> nw.Expr:
    return nw.col(col).cast(nw.String()).str.strip_chars(_WS)


def _missing(s: nw.Expr) -> nw.Expr:
    return s.is_null() | s.is_in(list(MISSING))


def unparseable_number(col: str, kind: str) -> nw.Expr:
    """Cells of the text column ``col`` that the loader would refuse as a ``kind`` value
    (``"count"``, ``"money"``, ``"rate"``, ``"score"``): the rule validation checks with, so
    that a table which validates also loads."""
    s = _stripped(col)
    ok = s.str.contains(_number_pattern(kind)).fill_null(value=False)
    return ~_missing(s) & ~ok


def _number_stage(col: str, kind: str) -> list[nw.Expr]:
    """Whether the stripped text ``_tmp(col, "s")`` is a number, and its digits as a float."""
    s = nw.col(_tmp(col, "s"))
    valid = s.str.contains(_number_pattern(kind)).fill_null(value=False)
    base = nw.when(valid).then(s.str.replace_all(_CLEAN, "")).cast(nw.Float64())
    return [valid.alias(_tmp(col, "ok")), base.alias(_tmp(col, "f"))]


def _number(col: str, kind: str) -> tuple[nw.Expr, nw.Expr]:
    """(value, bad) from :func:`_number_stage`: 万 / 亿 scaled, a percentage / 100."""
    s, base = nw.col(_tmp(col, "s")), nw.col(_tmp(col, "f"))
    value: nw.Expr = base
    if kind == "rate":
        value = nw.when(s.str.contains("[%％]$")).then(base / 100).otherwise(base)
    elif kind in ("count", "money"):
        value = (
            nw.when(s.str.contains("万元?$"))
            .then(base * 10_000)
            .when(s.str.contains("亿元?$"))
            .then(base * 100_000_000)
            .otherwise(base)
        )
    return value, ~_missing(s) & ~nw.col(_tmp(col, "ok"))


def _eight_digits(col: str) -> nw.Expr:
    """``yyyymmdd[ ...]`` rewritten ``yyyy-mm-dd[ ...]``; other text as it is."""
    s = nw.col(_tmp(col, "s"))
    eight = s.str.contains(r"^[0-9]{8}(?:$|[ T])").fill_null(value=False)
    dashed = nw.concat_str(
        s.str.slice(0, 4), nw.lit("-"), s.str.slice(4, 2), nw.lit("-"), s.str.slice(6)
    )
    return nw.when(eight).then(dashed).otherwise(s)


def _normalised_time(col: str) -> nw.Expr:
    """``yyyy-m-d[ h:m[:s]]`` of the text ``_tmp(col, "n")``, or null for another shape."""
    norm = (
        nw.col(_tmp(col, "n"))
        .str.replace_all("[年月/.]", "-")
        .str.replace_all("[日秒]", "")
        .str.replace_all("[时分]", ":")
        .str.replace_all("T", " ")
        .str.replace_all(" +", " ")
        .str.strip_chars(" :")
    )
    shape = norm.str.contains(f"^{_DATE}(?: {_CLOCK})?$").fill_null(value=False)
    return nw.when(shape).then(norm)


def _time_parts(col: str) -> list[nw.Expr]:
    """Year, month, day, hour, minute, second of the normalised text (text digits)."""
    n = nw.col(_tmp(col, "n"))
    parts = {
        "y": n.str.slice(0, 4),
        "mo": n.str.replace_all(r"^[0-9]{4}-", "").str.replace_all(r"-.*$", ""),
        "d": n.str.replace_all(r"^[0-9]{4}-[0-9]+-", "").str.replace_all(r" .*$", ""),
        "h": n.str.replace_all(r"^[^ ]* ?", "").str.replace_all(r":.*$", ""),
        "mi": n.str.replace_all(r"^[^ ]* ?[0-9]*:?", "").str.replace_all(r":.*$", ""),
        "se": n.str.replace_all(r"^[^ ]* ?[0-9]*:?[0-9]*:?", "").str.replace_all(r"\..*$", ""),
    }
    return [e.alias(_tmp(col, k)) for k, e in parts.items()]


_PARTS = ("y", "mo", "d", "h", "mi", "se")


def _part_numbers(col: str) -> list[nw.Expr]:
    """Each part as a float (an empty part is 0)."""
    return [
        nw.concat_str(nw.lit("0"), nw.col(_tmp(col, p)))
        .cast(nw.Float64())
        .alias(_tmp(col, p + "#"))
        for p in _PARTS
    ]


def _iso_ok(col: str) -> nw.Expr:
    """Whether the stripped text is an ISO date or time that exists, by patterns alone
    (no 2026-02-30, no 2026-04-31, 02-29 only in leap years)."""
    s = nw.col(_tmp(col, "s"))
    feb29 = s.str.contains(_FEB_29)
    ok = (
        s.str.contains(_ISO) & ~s.str.contains(_NO_SUCH_DAY) & (~feb29 | s.str.contains(_LEAP_YEAR))
    )
    return ok.fill_null(value=False)


def _calendar_ok(col: str) -> nw.Expr:
    """Whether the parts of :func:`_part_numbers` are a real instant."""
    y, mo, d, h, mi, se = (nw.col(_tmp(col, p + "#")) for p in _PARTS)
    leap = ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))
    days = (
        nw.when(mo == 2)
        .then(nw.when(leap).then(29).otherwise(28))
        .when((mo == 4) | (mo == 6) | (mo == 9) | (mo == 11))
        .then(30)
        .otherwise(31)
    )
    ok = ~nw.col(_tmp(col, "n")).is_null()
    valid = (ok & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= days)).fill_null(value=False)
    return valid & ((h <= 23) & (mi <= 59) & (se <= 59)).fill_null(value=False)


def _time(col: str) -> tuple[nw.Expr, nw.Expr]:
    """(value, bad) from the parts (validity in ``_tmp(col, "ok")``)."""

    def two(part: str) -> nw.Expr:
        return nw.concat_str(nw.lit("00"), nw.col(_tmp(col, part))).str.slice(-2)

    valid = nw.col(_tmp(col, "ok"))
    digits = nw.concat_str(nw.col(_tmp(col, "y")), *(two(p) for p in _PARTS[1:]))
    value = nw.when(valid).then(digits).str.to_datetime(_TIME_FORMAT)
    return value, ~_missing(nw.col(_tmp(col, "s"))) & ~valid


def _staged(
    frame: nw.LazyFrame[Any],
    kinds: Mapping[str, str],
    iso: Iterable[str] = (),
    *,
    values: bool = True,
) -> nw.LazyFrame[Any]:
    """``frame`` with, per column, its flag ``_tmp(c, "bad")`` and (with ``values``) its
    parsed value ``_tmp(c, "v")``, built in stages so that no part is computed twice.

    Time columns in ``iso`` are only checked as ISO text (:func:`_iso_ok`): their
    values (``values`` must be ``False``) are the engine's ``to_datetime`` of one format.
    """
    if not kinds:
        return frame
    frame = frame.with_columns(_stripped(c).alias(_tmp(c, "s")) for c in kinds)
    iso = set(iso)
    times = [c for c, k in kinds.items() if k == "time"]
    numbers = [c for c, k in kinds.items() if k != "time"]
    general = [c for c in times if c not in iso]
    if general:
        frame = frame.with_columns(_eight_digits(c).alias(_tmp(c, "n")) for c in general)
        frame = frame.with_columns(_normalised_time(c).alias(_tmp(c, "n")) for c in general)
        frame = frame.with_columns(e for c in general for e in _time_parts(c))
        frame = frame.with_columns(e for c in general for e in _part_numbers(c))
    if times:
        frame = frame.with_columns(
            (_iso_ok(c) if c in iso else _calendar_ok(c)).alias(_tmp(c, "ok")) for c in times
        )
    if numbers:
        frame = frame.with_columns(e for c in numbers for e in _number_stage(c, kinds[c]))
    exprs: list[nw.Expr] = []
    for c, kind in kinds.items():
        value, bad = _time(c) if kind == "time" else _number(c, kind)
        exprs.append(bad.alias(_tmp(c, "bad")))
        if values and c not in iso:
            exprs.append(value.alias(_tmp(c, "v")))
    return frame.with_columns(*exprs)


def _temporary(frame: nw.LazyFrame[Any]) -> list[str]:
    return [c for c in frame.collect_schema().names() if c.startswith(_PREFIX)]


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """How to parse a table's text columns, and what does not parse.

    Attributes:
        kinds: Column → :data:`ValueKind` of every text column to parse.
        formats: Time columns whose every value is ISO text of one shape → its format
            (parsed by the engine's own ``to_datetime``, the fast path).
        problems: The columns with text that does not parse.
    """

    kinds: Mapping[str, str]
    formats: Mapping[str, str]
    problems: tuple[TextProblem, ...]


def plan(
    frame: nw.LazyFrame[Any],
    table: str,
    kinds: Mapping[str, str],
    renamed: Mapping[str, str] | None = None,
) -> Plan:
    """Check the text columns of ``kinds``: one aggregate pass (numbers checked, times
    tried as ISO text), a second over the times that are not all ISO, and one small query
    per bad column for its examples.

    Args:
        frame: The table (text columns as given).
        table: Its name, for the messages.
        kinds: Column → :data:`ValueKind` (see :func:`text_kinds`).
        renamed: The user-to-canonical renames, to name columns as the user does.
    """
    if not kinds:
        return Plan({}, {}, ())
    times = [c for c, k in kinds.items() if k == "time"]
    staged = _staged(frame, kinds, iso=times, values=False)
    aggs = [nw.col(_tmp(c, "bad")).cast(nw.Int64()).sum().alias(c) for c in kinds]
    for c in times:
        s = nw.col(_tmp(c, "s"))
        long = (s.str.len_chars() == len("2026-11-01 08:30:00")).fill_null(value=False)
        good = ~nw.col(_tmp(c, "bad")) & ~_missing(s)
        aggs.append((good & long).cast(nw.Int64()).sum().alias(_tmp(c, "long")))
        aggs.append(good.cast(nw.Int64()).sum().alias(_tmp(c, "good")))
    counts = _counts(collect(staged.select(*aggs), f"{table}:text values"))
    formats: dict[str, str] = {}
    general: list[str] = []
    for c in times:
        if counts[c]:
            general.append(c)
        elif counts[_tmp(c, "long")] == counts[_tmp(c, "good")]:
            formats[c] = "%Y-%m-%d %H:%M:%S"
        elif counts[_tmp(c, "long")] == 0:
            formats[c] = "%Y-%m-%d"
        else:
            general.append(c)
    numbers = [c for c, k in kinds.items() if k != "time" and counts[c]]
    problems = _examples(staged, table, {c: kinds[c] for c in numbers}, counts, renamed)
    if general:
        again = _staged(frame, dict.fromkeys(general, "time"), values=False)
        more = _counts(
            collect(
                again.select(
                    nw.col(_tmp(c, "bad")).cast(nw.Int64()).sum().alias(c) for c in general
                ),
                f"{table}:text times",
            )
        )
        bad = {c: "time" for c in general if more[c]}
        problems += _examples(again, table, bad, more, renamed)
    return Plan(dict(kinds), formats, tuple(problems))


def _counts(out: Any) -> dict[str, int]:
    """The one row of an aggregate as whole numbers (an empty table's null sums are 0)."""
    row = out.iloc[0].to_dict() if len(out) else {}
    return {str(k): 0 if v is None or math.isnan(float(v)) else int(v) for k, v in row.items()}


def _examples(
    staged: nw.LazyFrame[Any],
    table: str,
    kinds: Mapping[str, str],
    counts: Mapping[str, Any],
    renamed: Mapping[str, str] | None,
) -> list[TextProblem]:
    back = {v: k for k, v in (renamed or {}).items()}
    out: list[TextProblem] = []
    for col, kind in kinds.items():
        ex = collect(
            staged.filter(nw.col(_tmp(col, "bad")))
            .select(nw.col(_tmp(col, "s")).alias("text"))
            .unique()
            .sort("text")
            .head(5),
            f"{table}:text examples",
        )
        examples = tuple(str(v) for v in ex["text"].tolist())
        out.append(TextProblem(table, col, kind, int(counts[col]), examples, back.get(col)))
    return out


def find_problems(
    frame: nw.LazyFrame[Any],
    table: str,
    kinds: Mapping[str, str],
    renamed: Mapping[str, str] | None = None,
) -> list[TextProblem]:
    """The columns of ``kinds`` with text that does not parse (see :func:`plan`)."""
    return list(plan(frame, table, kinds, renamed).problems)


def parse(
    frame: nw.LazyFrame[Any], kinds: Mapping[str, str], formats: Mapping[str, str] | None = None
) -> nw.LazyFrame[Any]:
    """``frame`` with each column of ``kinds`` replaced by its parsed values (numbers as
    ``Float64``, times as naive ``Datetime``); text that does not parse becomes null, so
    check it first with :func:`plan` (whose ``formats`` give the fast path for ISO times)."""
    if not kinds:
        return frame
    formats = formats or {}
    rest = {c: k for c, k in kinds.items() if c not in formats}
    staged = _staged(frame, rest)
    exprs = [nw.col(_tmp(c, "v")).alias(c) for c in rest]
    for c, fmt in formats.items():
        s = _stripped(c)
        exprs.append(nw.when(~_missing(s)).then(s).str.to_datetime(fmt).alias(c))
    staged = staged.with_columns(*exprs)
    return staged.drop(_temporary(staged))


def text_problems(table_frame: Any, table_name: str) -> list[Flag]:
    """Validation flags for text that does not parse in ``table_name``'s number and time
    columns (``unparseable_number`` / ``unparseable_time``, errors).

    Args:
        table_frame: The loaded table's lazy frame (as :func:`shopmetrics.engine.load`
            with ``localize=False`` leaves it), or the :class:`~shopmetrics.engine.Table`
            itself: then the problems its file reader found (cells of an export that did
            not parse, ids saved as numbers, ...) are included.
        table_name: Which input table (a key of :data:`shopmetrics.schema.TABLES`).
    """
    frame = getattr(table_frame, "frame", table_frame)
    renamed = getattr(table_frame, "renamed", None)
    kinds = text_kinds(frame.collect_schema(), table_name)
    found = [p.flag() for p in find_problems(frame, table_name, kinds, renamed)]
    found.extend(getattr(table_frame, "read_problems", ()))
    return found
