"""Check input tables against their contracts and report every problem at once.

Examples:
    >>> import pandas as pd
    >>> import shopmetrics as sm
    >>> orders = pd.DataFrame({
    ...     "order_id": ["o1", "o1", "o2"], "product_id": ["p", "p", "q"],
    ...     "buyer": ["b1", "b1", "b2"],
    ...     "created_at": pd.to_datetime(["2026-11-02 10:00", "2026-11-02 10:00", "2026-11-03 09:00"]),
    ...     "amount": [10.0, 10.0, -5.0]})
    >>> report = sm.validate(orders=orders)
    >>> sorted(p.code for p in report.problems)
    ['duplicate_rows', 'missing_column', 'negative_values']
    >>> report.ok
    False

    Text as exports write it is read the same way on every engine:

    >>> export = pd.DataFrame({"日期": ["2026-11-01", "20261102"], "访客数": ["1,391", "3.45%"],
    ...                        "支付金额": ["￥1,234.00", "-"]})
    >>> [(p.code, p.column, p.n_rows) for p in sm.validate(traffic=export).problems]
    [('not_a_number', 'visitors', 1)]
"""

from __future__ import annotations

import dataclasses
import html
import json
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.display import html_table, plain
from shopmetrics.engine import checks, values
from shopmetrics.engine.counting import order_line_key
from shopmetrics.errors import ColumnNotFoundError, ValidationError, missing_column_message
from shopmetrics.flags.finding import Flag, Severity, sort_flags
from shopmetrics.report import labels, views
from shopmetrics.schema import EVENT_TYPES, NON_NEGATIVE, TABLES, UNIQUE_COUNTS, TableSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Problem", "ValidationReport", "validate"]

Problem = Flag
"""A validation problem: the same record as a flag (see :class:`shopmetrics.flags.Flag`)."""

N_EXAMPLES = 5

_ONCE: dict[str, str] = {
    "orders": "an order line (order_id and product_id, or order_id without product_id) "
    "must appear once.",
    "ratings": "a trade is rated once.",
}

_EXCLUDED: dict[str, str] = {
    "orders": " Order metrics leave these rows out and count them in the audit (an exact "
    "copy of a line counts once; copies that differ are all left out).",
}


@dataclasses.dataclass(frozen=True, slots=True)
class ValidationReport:
    """All problems found, errors first.

    Attributes:
        problems: Every problem, with reason code, table, column, row count and examples.
        rows: Rows per table checked.
    """

    problems: tuple[Flag, ...]
    rows: Mapping[str, int]

    @property
    def ok(self) -> bool:
        """No problem of severity ``"error"``."""
        return not self.errors

    @property
    def errors(self) -> tuple[Flag, ...]:
        """Problems that make a table unusable as given."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Flag, ...]:
        """Problems that let figures be computed but may mislead."""
        return tuple(p for p in self.problems if p.severity != "error")

    def raise_if_errors(self) -> ValidationReport:
        """Raise :class:`ValidationError` carrying this report if there are errors."""
        if not self.ok:
            raise ValidationError(self)
        return self

    def to_pandas(self) -> pd.DataFrame:
        """One row per problem."""
        import pandas as pd  # noqa: PLC0415

        cols = ["severity", "code", "table", "column", "n_rows", "message", "examples"]
        return pd.DataFrame(
            [{c: plain(getattr(p, c)) for c in cols} for p in self.problems], columns=cols
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict."""
        return {
            "ok": self.ok,
            "rows": dict(self.rows),
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON (``ensure_ascii=False`` by default)."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def _view_frame(self, lang: str) -> pd.DataFrame:
        return views.problems_frame(self.problems, lang)

    def _heading(self, lang: str) -> str:
        return views.validation_heading(self.rows, len(self.errors), len(self.warnings), lang)

    def to_markdown(self, max_rows: int = 20, *, lang: str = "en") -> str:
        """The problems as a labelled Markdown table in ``lang`` (``"en"`` or ``"zh"``)."""
        labels.check_lang(lang)
        head = f"**{self._heading(lang)}**"
        if not self.problems:
            return head
        table = views.markdown_table(*views.table_texts(self._view_frame(lang), lang, max_rows))
        return f"{head}\n\n{table}"

    def to_html(self, max_rows: int = 20, *, lang: str = "en") -> str:
        """The problems as an escaped HTML fragment in ``lang`` (the notebook view)."""
        labels.check_lang(lang)
        parts = [
            f"<div class='sm-result'><p><strong>{html.escape(self._heading(lang))}</strong></p>"
        ]
        if self.problems:
            headers, rows, numeric = views.table_texts(self._view_frame(lang), lang, max_rows)
            name = labels.text("validation", lang)
            parts.append(str(html_table(headers, rows, numeric=numeric, name=name)))
        return "".join([*parts, "</div>"])

    def __str__(self) -> str:
        if not self.problems:
            return "validation: no problems found"
        lines = [f"validation: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        for p in self.problems:
            lines.append(f"  - {p}")
            lines.extend(f"      e.g. {dict(ex)}" for ex in p.examples[:3])
        return "\n".join(lines)

    def __repr__(self) -> str:
        codes = ", ".join(p.code for p in self.problems[:5])
        more = f", +{len(self.problems) - 5}" if len(self.problems) > 5 else ""
        tables = ", ".join(f"{t}={n}" for t, n in self.rows.items())
        return (
            f"ValidationReport(ok={self.ok}, {len(self.errors)} errors, "
            f"{len(self.warnings)} warnings [{codes}{more}]; rows: {tables})"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def validate(
    *,
    events: Any = None,
    orders: Any = None,
    ratings: Any = None,
    spend: Any = None,
    traffic: Any = None,
    peers: Any = None,
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> ValidationReport:
    """Check every given table and report all problems at once.

    Args:
        events: Raw events (any supported engine, or a Parquet/CSV path).
        orders: Order lines.
        ratings: DSR ratings.
        spend: Paid-traffic cost.
        traffic: A pre-aggregated back-end export.
        peers: Peer benchmarks. Tables not given are not checked.
        columns: ``{their_name: canonical_name}`` applied to every table.
        strict: Raise :class:`~shopmetrics.errors.ValidationError` when there are errors.

    Returns:
        A :class:`ValidationReport`.

    Every known column is checked by its kind (``kinds`` of
    :class:`~shopmetrics.schema.TableSpec`): counts, amounts and scores must be numbers or text
    that reads as one (``12,345``, ``￥1,234.00``, ``0元``; ``-``, ``--``, ``—`` or blank for
    missing), times datetimes or text dates (``2026-11-01``, ``20261101``,
    ``2026年11月01日``, with a time), ``is_presale`` true / false. The row checks of a
    table run in one pass; each problem gives its rows and up to five examples.

    Reason codes: ``missing_column``, ``wrong_type``, ``not_a_number``,
    ``not_a_whole_number``, ``unparseable_time``, ``mixed_time_zones``, ``null_keys``,
    ``duplicate_rows``, ``negative_values``, ``score_out_of_range``,
    ``paid_before_created``, ``unknown_event``, ``multi_day_uniques`` (errors but the last),
    ``float_ids`` and ``unchecked_column`` (warnings). The order metrics leave out (and
    count in their audit) the duplicated lines, negative amounts and payments before
    creation found here.
    """
    given = {
        "events": events,
        "orders": orders,
        "ratings": ratings,
        "spend": spend,
        "traffic": traffic,
        "peers": peers,
    }
    problems: list[Flag] = []
    rows: dict[str, int] = {}
    tz_kinds: dict[str, set[str]] = {}
    for name, obj in given.items():
        if obj is None:
            continue
        table = engine.load(obj, name, columns, localize=False)
        rows[name] = engine.count_rows(table)
        found = _check_table(table, tz_kinds)
        problems.extend(found)
        problems.extend(_parser_problems(table, found))
    kinds = {k for ks in tz_kinds.values() for k in ks}
    if len(kinds) > 1:
        where = {t: sorted(k) for t, k in tz_kinds.items()}
        problems.append(
            Flag(
                "mixed_time_zones",
                "error",
                f"time columns mix naive and time-zone-aware timestamps ({where}); naive and aware "
                "times cannot be compared. Make them all aware (tz_localize) or all naive store-local.",
                evidence=where,
            )
        )
    report = ValidationReport(sort_flags(problems), rows)
    if strict:
        report.raise_if_errors()
    return report


_TEXT_CODES = frozenset({"wrong_type", "not_a_number", "not_a_whole_number", "unparseable_time"})


def _parser_problems(table: engine.Table, found: list[Flag]) -> list[Flag]:
    """What the loader's own parser refuses (and the file reader found) that the checks
    above did not already report for the same column: validation and the metrics read text
    with one parser, so a table that validates loads."""
    seen = {p.column for p in found if p.code in _TEXT_CODES and p.table == table.name}
    return [p for p in engine.text_problems(table, table.name) if p.column not in seen]


def _examples(
    frame: nw.LazyFrame[Any], cond: nw.Expr, cols: list[str]
) -> tuple[int, tuple[dict[str, Any], ...]]:
    n, rows = checks.offending_rows(frame, cond, cols, N_EXAMPLES)
    return n, _plain_rows(rows)


def _plain_rows(rows: list[dict[Any, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple({str(k): plain(v) for k, v in r.items()} for r in rows)


@dataclasses.dataclass(frozen=True)
class _Checked:
    """One loaded table under check: what every kind of check reads."""

    table: engine.Table
    spec: TableSpec
    schema: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def names(self) -> list[str]:
        return self.table.columns

    def context(self, *cols: str) -> list[str]:
        """The columns shown in examples: the table's ids, then ``cols``."""
        ids = [c for c in ("order_id", "buyer_id", "visitor_id", "product_id") if c in self.names]
        return list(dict.fromkeys([*ids, *cols]))

    def label(self, col: str) -> str:
        """``col`` as messages name it: with the table's own header when it was renamed."""
        theirs = [k for k, v in self.table.renamed.items() if v == col and k != col]
        return f"{col!r} ({theirs[0]})" if theirs else repr(col)

    def number(self, col: str) -> nw.Expr | None:
        """``col`` as a ``Float64`` expression: numbers as they are, text read by
        :func:`~shopmetrics.engine.checks.text_numbers` (``None`` when absent or neither)."""
        if col not in self.names:
            return None
        dtype = self.schema[col]
        if dtype.is_numeric():
            return nw.col(col).cast(nw.Float64())
        if dtype == nw.String:
            return checks.text_numbers(col).value
        return None


def _check_table(table: engine.Table, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Every kind of check on one table; none stops the others, so all problems are reported.

    The row-level checks (nulls, types, text that does not parse, ranges, order of times)
    are counted together in one pass over the table; examples are fetched for the ones
    that find rows.
    """
    t = _Checked(table, TABLES[table.name], table.frame.collect_schema())
    rules = [
        *_null_keys(t),
        *_column_types(t),
        *_negative_values(t),
        *_whole_counts(t),
        *_scores_out_of_range(t),
        *_paid_before_created(t),
    ]
    return [
        *_missing_columns(t),
        *_time_columns(t, tz_kinds),
        *_run(t, rules),
        *_duplicate_rows(t),
        *_unknown_events(t),
        *_multi_day_uniques(t),
    ]


@dataclasses.dataclass(frozen=True)
class _Rule:
    """A row-level check: the rows where ``cond`` hold a problem of ``code`` in ``column``.

    ``message`` is a :class:`string.Template`: ``$n`` becomes the number of rows found,
    ``$ex`` a few of their values.
    """

    code: str
    column: str
    cond: nw.Expr
    message: str
    severity: Severity = "error"
    show: tuple[str, ...] = ()


def _run(t: _Checked, rules: list[_Rule]) -> list[Flag]:
    """Count every rule's rows in one pass; a problem (with examples) per rule that finds any.

    Should the engine refuse an expression (a column type no rule foresaw), each rule is
    counted on its own and the ones that cannot run are reported, naming their column.
    """
    frame = t.table.frame
    try:
        counts: list[int | None] = list(
            checks.count_where(frame, [r.cond for r in rules], f"validate:{t.name}")
        )
    except Exception:  # an engine's own error type (polars, DuckDB, ...): retried one by one
        counts = [_count_one(frame, r) for r in rules]
    out: list[Flag] = []
    for rule, n in zip(rules, counts, strict=True):
        if n is None:
            out.append(_unchecked(t, rule))
        elif n:
            cols = t.context(rule.column, *rule.show)
            ex = _plain_rows(checks.example_rows(frame, rule.cond, cols, N_EXAMPLES))
            values = [r.get(rule.column) for r in ex][:3]
            text = string.Template(rule.message).safe_substitute(n=n, ex=values)
            out.append(
                Flag(
                    rule.code,
                    rule.severity,
                    text,
                    table=t.name,
                    column=rule.column,
                    n_rows=n,
                    examples=ex,
                )
            )
    return out


def _count_one(frame: nw.LazyFrame[Any], rule: _Rule) -> int | None:
    try:
        return checks.count_where(frame, [rule.cond], f"validate:{rule.column}")[0]
    except Exception:  # the engine's own error type, reported as an unchecked column
        return None


def _unchecked(t: _Checked, rule: _Rule) -> Flag:
    return Flag(
        "unchecked_column",
        "warning",
        f"{t.name}: column {rule.column!r} ({t.schema.get(rule.column)}) could not be checked "
        f"for {rule.code}; give it a plain type (numbers, text or datetimes).",
        table=t.name,
        column=rule.column,
    )


def _missing_columns(t: _Checked) -> list[Flag]:
    """Required columns absent (named as the user's table names its columns)."""
    present_user = [{v: k for k, v in t.table.renamed.items()}.get(c, c) for c in t.names]
    out: list[Flag] = []
    for col in t.spec.required:
        if col not in t.names:
            err = ColumnNotFoundError(t.name, col, present_user)
            out.append(
                Flag(
                    "missing_column",
                    "error",
                    missing_column_message(t.name, col, present_user),
                    table=t.name,
                    column=col,
                    evidence={"present": present_user, "suggestion": err.suggestion},
                )
            )
    return out


def _time_columns(t: _Checked, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Naive or aware time columns (noted in ``tz_kinds``); text times must parse."""
    out: list[Flag] = []
    text: list[str] = []
    for col in t.spec.time_columns():
        if col not in t.names:
            continue
        dtype = t.schema[col]
        if isinstance(dtype, nw.Datetime):
            tz_kinds.setdefault(t.name, set()).add("aware" if dtype.time_zone else "naive")
        elif dtype == nw.Date:
            tz_kinds.setdefault(t.name, set()).add("naive")
        elif dtype == nw.String:
            text.append(col)
        elif dtype == nw.Object:
            out.extend(_check_object_times(t.table, col, tz_kinds))
    if text:
        out.extend(_check_text_times(t, text, tz_kinds))
    return out


def _check_text_times(t: _Checked, cols: list[str], tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Text time columns, all in one pass: the cells that are not a date or time as the
    back-ends write them (:data:`~shopmetrics.engine.checks.TIME_PATTERN`), and whether
    the times carry a UTC offset (aware) or not (naive)."""
    parts = {c: checks.text_times(c) for c in cols}
    conds = [cond for c in cols for cond in parts[c]]
    counts = checks.count_where(t.table.frame, conds, f"validate:{t.name}:times")
    out: list[Flag] = []
    for i, col in enumerate(cols):
        n_bad, n_aware, n_naive = counts[3 * i : 3 * i + 3]
        kinds = {k for k, n in (("aware", n_aware), ("naive", n_naive)) if n}
        tz_kinds.setdefault(t.name, set()).update(kinds)
        if len(kinds) > 1:
            out.append(_mixed_zones(t.name, col))
        if n_bad:
            ex = _plain_rows(
                checks.example_rows(t.table.frame, parts[col][0], t.context(col), N_EXAMPLES)
            )
            out.append(_unparseable_time(t.name, col, n_bad, [r[col] for r in ex], ex))
    return out


def _mixed_zones(table: str, col: str) -> Flag:
    return Flag(
        "mixed_time_zones",
        "error",
        f"{table}: column {col!r} mixes naive and time-zone-aware timestamps; make them all "
        "one kind.",
        table=table,
        column=col,
    )


def _unparseable_time(
    table: str, col: str, n: int, bad: list[Any], examples: tuple[dict[str, Any], ...]
) -> Flag:
    return Flag(
        "unparseable_time",
        "error",
        f"{table}: {n} rows have {col!r} values that are not timestamps, e.g. {bad[:3]}; "
        "use ISO 8601 (2026-11-23 14:05:00) or parse the column before passing it.",
        table=table,
        column=col,
        n_rows=n,
        examples=examples,
    )


_KIND_WORDS: dict[str, str] = {
    "num": "amounts",
    "int": "counts",
    "score": "scores 1-5",
    "time": "dates or times",
    "bool": "true / false",
    "id": "ids",
    "str": "labels",
}

_TYPE_FIXES: dict[str, str] = {
    "num": "pass numbers (int or float) or text such as '12,345.00'",
    "int": "pass whole numbers or text such as '12,345'",
    "score": "pass the scores as numbers 1-5",
    "time": "pass datetimes or text such as '2026-11-23 14:05:00' (epoch seconds: "
    "pd.to_datetime(column, unit='s'))",
    "bool": "pass true / false (e.g. table[column] == '是')",
}


def _type_trouble(kind: str, dtype: Any) -> str | None:
    """Why a column of ``dtype`` cannot hold values of ``kind`` (``None`` when it can).

    Text is checked cell by cell elsewhere; pandas ``object`` columns are let through (their
    cells may be any Python value: the cells are what counts).
    """
    if dtype == nw.Object:
        return None
    if isinstance(dtype, nw.List | nw.Array | nw.Struct):
        return "nested values"
    numeric_ok = dtype.is_numeric() or dtype == nw.String
    wrong = {
        "num": not numeric_ok,
        "int": not numeric_ok,
        "score": not numeric_ok,
        "time": not (isinstance(dtype, nw.Datetime) or dtype in (nw.Date, nw.String)),
        "bool": dtype != nw.Boolean,
    }
    return f"{dtype} values" if wrong.get(kind) else None


def _column_types(t: _Checked) -> list[_Rule]:
    """Columns whose type cannot hold their kind (a datetime in an amount, numbers in a time
    column, text in a true/false column), text in number columns that does not read as a
    number, and ids stored as floats."""
    rules: list[_Rule] = []
    for col, kind in t.spec.kinds.items():
        if col not in t.names:
            continue
        dtype = t.schema[col]
        trouble = _type_trouble(kind, dtype)
        if trouble is not None:
            fix = _TYPE_FIXES.get(kind, "flatten it to one value a row")
            message = (
                f"{t.name}: $n rows of {t.label(col)} hold {trouble}, e.g. $ex; {col!r} holds "
            )
            rules.append(
                _Rule(
                    "wrong_type",
                    col,
                    ~nw.col(col).is_null(),
                    message + _KIND_WORDS[kind] + ": " + fix + ".",
                )
            )
        elif kind in ("num", "int", "score") and dtype == nw.String:
            rules.append(_not_a_number(t, col, kind))
        elif kind == "id" and dtype.is_float():
            rules.append(
                _Rule(
                    "float_ids",
                    col,
                    ~nw.col(col).is_null() & ~nw.col(col).is_nan(),
                    f"{t.name}: $n ids in {t.label(col)} are floats, e.g. $ex; ids through float lose "
                    "digits (19-digit order ids merge, leading zeros vanish) and print as "
                    "'123.0'. Read the column as text (dtype=str, or shopmetrics.io.read_table).",
                    severity="warning",
                )
            )
    return rules


def _not_a_number(t: _Checked, col: str, kind: str) -> _Rule:
    what = {"num": "an amount", "int": "a count", "score": "a score"}[kind]
    return _Rule(
        "not_a_number",
        col,
        values.unparseable_number(col, values.KIND_OF_SPEC[kind]),
        f"{t.name}: $n rows have {t.label(col)} text that is not a number, e.g. $ex; {what} must "
        "read as a number (thousands separators, ¥ / ￥ / 元, 万 / 亿, and '-' or blank for "
        f"missing are accepted). Fix the cells; a percentage is a rate, never {what}.",
    )


def _null_keys(t: _Checked) -> list[_Rule]:
    """Key columns with nulls."""
    return [
        _Rule(
            "null_keys",
            col,
            nw.col(col).is_null(),
            f"{t.name}: $n rows have no {col!r}; fill it or drop those rows "
            "(they would otherwise be excluded and counted in the audit).",
        )
        for col in t.spec.keys
        if col in t.names
    ]


def _duplicate_rows(t: _Checked) -> list[Flag]:
    """Unique keys (an order line, a rated order) that appear more than once."""
    out: list[Flag] = []
    keys = [tuple(order_line_key(t.names))] if t.name == "orders" else t.spec.unique
    for key in keys:
        if all(k in t.names for k in key):
            n_keys, extra, rows = checks.repeated_keys(t.table.frame, list(key), N_EXAMPLES)
            if n_keys:
                out.append(
                    Flag(
                        "duplicate_rows",
                        "error",
                        f"{t.name}: {n_keys} {key} values appear more than once ({extra} extra rows); "
                        f"{_ONCE.get(t.name, 'a key must appear once.')} Drop exact duplicates "
                        "(drop_duplicates) or fix the export." + _EXCLUDED.get(t.name, ""),
                        table=t.name,
                        column=",".join(key),
                        n_rows=extra,
                        examples=_plain_rows(rows),
                    )
                )
    return out


def _negative_values(t: _Checked) -> list[_Rule]:
    """Amounts and counts below zero (numbers, or text that reads as a number)."""
    rules = []
    for col in NON_NEGATIVE.get(t.name, ()):
        value = t.number(col)
        if value is not None:
            left_out = _EXCLUDED["orders"] if (t.name, col) == ("orders", "amount") else ""
            message = (
                f"{t.name}: $n rows have a negative {t.label(col)}, e.g. $ex; refunds belong in "
                "'refund_amount', not as negative amounts."
            )
            rules.append(_Rule("negative_values", col, value < 0, message + left_out))
    return rules


def _whole_counts(t: _Checked) -> list[_Rule]:
    """Count columns with fractions (``3.5`` visitors)."""
    rules = []
    for col, kind in t.spec.kinds.items():
        value = t.number(col) if kind == "int" else None
        if value is not None and not t.schema[col].is_integer():
            message = (
                f"{t.name}: $n rows have a {t.label(col)} that is not a whole number, e.g. $ex; "
                f"{col!r} is a count. Round it or fix the export."
            )
            bad = (value % 1 != 0) & ~value.is_nan()
            rules.append(_Rule("not_a_whole_number", col, bad, message))
    return rules


def _scores_out_of_range(t: _Checked) -> list[_Rule]:
    """Ratings scores that are not whole numbers from 1 to 5."""
    rules = []
    for col, kind in t.spec.kinds.items():
        score = t.number(col) if kind == "score" else None
        if score is not None:
            message = (
                f"{t.name}: $n rows have {t.label(col)} outside 1-5, e.g. $ex; they are rejected "
                "from DSR averages (counted in the audit)."
            )
            bad = ((score < 1) | (score > 5) | (score % 1 != 0)) & ~score.is_nan()
            rules.append(_Rule("score_out_of_range", col, bad, message))
    return rules


def _paid_before_created(t: _Checked) -> list[_Rule]:
    """Orders paid before they were created (checked when both are comparable datetimes)."""
    if not (
        t.name == "orders"
        and t.table.has("paid_at", "created_at")
        and all(isinstance(t.schema[c], nw.Datetime) for c in ("paid_at", "created_at"))
        and t.schema["paid_at"] == t.schema["created_at"]
    ):
        return []
    message = (
        "orders: $n rows were paid before they were created; the two columns are probably "
        "swapped or in different time zones." + _EXCLUDED["orders"]
    )
    cond = nw.col("paid_at") < nw.col("created_at")
    return [_Rule("paid_before_created", "paid_at", cond, message, show=("created_at",))]


def _unknown_events(t: _Checked) -> list[Flag]:
    """Event values outside :data:`~shopmetrics.schema.EVENT_TYPES`."""
    if t.name != "events" or "event" not in t.names:
        return []
    counts = checks.value_counts(t.table.frame, "event", "validate:events")
    unknown = counts[~counts["event"].isin(EVENT_TYPES)]
    if not len(unknown):
        return []
    n = int(unknown["rows"].sum())
    values = sorted(str(v) for v in unknown["event"].tolist())
    return [
        Flag(
            "unknown_event",
            "error",
            f"events: {n} rows have event values outside {list(EVENT_TYPES)}: {values[:10]}. "
            "Map them to the canonical names (e.g. pv -> visit) or drop them; "
            "they are otherwise excluded and counted in the audit.",
            table="events",
            column="event",
            n_rows=n,
            examples=tuple({"event": v} for v in values[:N_EXAMPLES]),
        )
    ]


def _multi_day_uniques(t: _Checked) -> list[Flag]:
    """A traffic export whose rows are a week or more apart: its unique counts span days."""
    if not (
        t.name == "traffic"
        and "date" in t.names
        and isinstance(t.schema["date"], nw.Datetime | nw.Date)
    ):
        return []
    uniq = [c for c in UNIQUE_COUNTS if c in t.names]
    if not uniq:
        return []
    d = checks.distinct_values(t.table.frame, "date", "validate:dates", sort=True)
    d = d.dropna().sort_values()
    gaps = d.diff().dropna().dt.days
    if not (len(gaps) and gaps.min() >= 7):
        return []
    return [
        Flag(
            "multi_day_uniques",
            "warning",
            f"traffic: rows are {int(gaps.min())} days apart, so {uniq} are counts over "
            "several days; they cannot be summed further or split into days. If they "
            "are sums of daily counts, they overstate unique visitors.",
            table="traffic",
            column=",".join(uniq),
            n_rows=len(d),
            evidence={"min_gap_days": int(gaps.min())},
        )
    ]


def _check_object_times(table: engine.Table, col: str, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Object time columns (pandas only: Python values of any type): parse a copy of the
    distinct values (validation only)."""
    import pandas as pd  # noqa: PLC0415

    values = checks.distinct_values(table.frame, col, f"validate:{col}").dropna()
    out: list[Flag] = []
    bad: list[Any] = []
    kinds: set[str] = set()
    for v in values.tolist():
        if hasattr(v, "tzinfo") and not isinstance(v, str):
            kinds.add("aware" if v.tzinfo is not None else "naive")
            continue
        try:
            ts: Any = pd.Timestamp(v)
        except (ValueError, TypeError):
            bad.append(v)
            continue
        if pd.isna(ts):
            bad.append(v)
        else:
            kinds.add("aware" if ts.tzinfo is not None else "naive")
    if kinds:
        tz_kinds.setdefault(table.name, set()).update(kinds)
    if len(kinds) > 1:
        out.append(_mixed_zones(table.name, col))
    if bad:
        n, ex = _examples(table.frame, nw.col(col).is_in(bad), [col])
        out.append(_unparseable_time(table.name, col, n, bad, ex))
    return out
