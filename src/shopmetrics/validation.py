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
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.display import frame_to_html, frame_to_markdown, plain
from shopmetrics.engine import checks
from shopmetrics.errors import ColumnNotFoundError, ValidationError, missing_column_message
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.schema import EVENT_TYPES, NON_NEGATIVE, TABLES, UNIQUE_COUNTS, TableSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Problem", "ValidationReport", "validate"]

Problem = Flag
"""A validation problem: the same record as a flag (see :class:`shopmetrics.flags.Flag`)."""

N_EXAMPLES = 5


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

    def to_markdown(self) -> str:
        """A readable Markdown list."""
        if not self.problems:
            return "No problems found in " + ", ".join(
                f"{t} ({n} rows)" for t, n in self.rows.items()
            )
        return frame_to_markdown(self.to_pandas().drop(columns=["examples"]))

    def __str__(self) -> str:
        if not self.problems:
            return "validation: no problems found"
        lines = [f"validation: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        for p in self.problems:
            lines.append(f"  - {p}")
            lines.extend(f"      e.g. {dict(ex)}" for ex in p.examples[:3])
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_pandas().drop(columns=["examples"]))


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

    Reason codes: ``missing_column``, ``unparseable_time``, ``mixed_time_zones``,
    ``null_keys``, ``duplicate_rows``, ``negative_values``, ``score_out_of_range``,
    ``paid_before_created``, ``unknown_event``, ``multi_day_uniques``.
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
        problems.extend(_check_table(table, tz_kinds))
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

    def offending(self, cond: nw.Expr, *cols: str) -> tuple[int, tuple[dict[str, Any], ...]]:
        """Rows where ``cond`` holds, with examples showing ``cols``."""
        return _examples(self.table.frame, cond, self.context(*cols))


def _check_table(table: engine.Table, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Every kind of check on one table; none stops the others, so all problems are reported."""
    t = _Checked(table, TABLES[table.name], table.frame.collect_schema())
    return [
        *_missing_columns(t),
        *_time_columns(t, tz_kinds),
        *_null_keys(t),
        *_duplicate_rows(t),
        *_negative_values(t),
        *_scores_out_of_range(t),
        *_paid_before_created(t),
        *_unknown_events(t),
        *_multi_day_uniques(t),
    ]


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
    for col in t.spec.time_columns():
        if col not in t.names:
            continue
        dtype = t.schema[col]
        if isinstance(dtype, nw.Datetime):
            tz_kinds.setdefault(t.name, set()).add("aware" if dtype.time_zone else "naive")
        elif dtype == nw.Date:
            tz_kinds.setdefault(t.name, set()).add("naive")
        elif dtype in (nw.String, nw.Object):
            out.extend(_check_text_times(t.table, col, tz_kinds))
    return out


def _null_keys(t: _Checked) -> list[Flag]:
    """Key columns with nulls."""
    out: list[Flag] = []
    for col in t.spec.keys:
        if col in t.names:
            n, ex = t.offending(nw.col(col).is_null(), col)
            if n:
                out.append(
                    Flag(
                        "null_keys",
                        "error",
                        f"{t.name}: {n} rows have no {col!r}; fill it or drop those rows "
                        "(they would otherwise be excluded and counted in the audit).",
                        table=t.name,
                        column=col,
                        n_rows=n,
                        examples=ex,
                    )
                )
    return out


def _duplicate_rows(t: _Checked) -> list[Flag]:
    """Unique keys (an order line, a rated order) that appear more than once."""
    out: list[Flag] = []
    for key in t.spec.unique:
        if all(k in t.names for k in key):
            n_keys, extra, rows = checks.repeated_keys(t.table.frame, list(key), N_EXAMPLES)
            if n_keys:
                out.append(
                    Flag(
                        "duplicate_rows",
                        "error",
                        f"{t.name}: {n_keys} {key} values appear more than once ({extra} extra rows); "
                        "an order line must appear once. Drop exact duplicates (drop_duplicates) "
                        "or fix the export.",
                        table=t.name,
                        column=",".join(key),
                        n_rows=extra,
                        examples=_plain_rows(rows),
                    )
                )
    return out


def _negative_values(t: _Checked) -> list[Flag]:
    """Amounts and counts below zero."""
    out: list[Flag] = []
    for col in NON_NEGATIVE.get(t.name, ()):
        if col in t.names and t.schema[col].is_numeric():
            n, ex = t.offending(nw.col(col) < 0, col)
            if n:
                out.append(
                    Flag(
                        "negative_values",
                        "error",
                        f"{t.name}: {n} rows have a negative {col!r}; refunds belong in "
                        "'refund_amount', not as negative amounts.",
                        table=t.name,
                        column=col,
                        n_rows=n,
                        examples=ex,
                    )
                )
    return out


def _scores_out_of_range(t: _Checked) -> list[Flag]:
    """Ratings scores that are not whole numbers from 1 to 5."""
    if t.name != "ratings":
        return []
    out: list[Flag] = []
    for col in ("item_score", "service_score", "logistics_score"):
        if col in t.names and t.schema[col].is_numeric():
            score = nw.col(col).cast(nw.Float64())
            bad = ((score < 1) | (score > 5) | (score % 1 != 0)) & ~nw.col(col).is_null()
            n, ex = t.offending(bad, col)
            if n:
                out.append(
                    Flag(
                        "score_out_of_range",
                        "error",
                        f"ratings: {n} rows have {col!r} outside 1-5; they are rejected from "
                        "DSR averages (counted in the audit).",
                        table="ratings",
                        column=col,
                        n_rows=n,
                        examples=ex,
                    )
                )
    return out


def _paid_before_created(t: _Checked) -> list[Flag]:
    """Orders paid before they were created (checked when both are comparable datetimes)."""
    if not (
        t.name == "orders"
        and t.table.has("paid_at", "created_at")
        and all(isinstance(t.schema[c], nw.Datetime) for c in ("paid_at", "created_at"))
        and t.schema["paid_at"] == t.schema["created_at"]
    ):
        return []
    n, ex = t.offending(nw.col("paid_at") < nw.col("created_at"), "created_at", "paid_at")
    if not n:
        return []
    return [
        Flag(
            "paid_before_created",
            "error",
            f"orders: {n} rows were paid before they were created; the two columns are "
            "probably swapped or in different time zones.",
            table="orders",
            column="paid_at",
            n_rows=n,
            examples=ex,
        )
    ]


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


def _check_text_times(table: engine.Table, col: str, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Text or object time columns: parse a copy of the values (validation only)."""
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
        out.append(
            Flag(
                "mixed_time_zones",
                "error",
                f"{table.name}: column {col!r} mixes naive and time-zone-aware timestamps; make them all "
                "one kind.",
                table=table.name,
                column=col,
            )
        )
    if bad:
        n, ex = _examples(table.frame, nw.col(col).is_in(bad), [col])
        out.append(
            Flag(
                "unparseable_time",
                "error",
                f"{table.name}: {n} rows have {col!r} values that are not timestamps, e.g. {bad[:3]}; "
                "use ISO 8601 (2026-11-23 14:05:00) or parse the column before passing it.",
                table=table.name,
                column=col,
                n_rows=n,
                examples=ex,
            )
        )
    return out
