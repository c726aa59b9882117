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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.display import frame_to_markdown, plain
from shopmetrics.errors import ColumnNotFoundError, ValidationError, missing_column_message
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.schema import EVENT_TYPES, NON_NEGATIVE, TABLES

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
        import json  # noqa: PLC0415

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
        from shopmetrics.display import frame_to_html  # noqa: PLC0415

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
    bad = frame.filter(cond)
    n = int(engine.scalar(bad.select(nw.len()), "validate:count") or 0)
    if n == 0:
        return 0, ()
    ex = engine.collect(bad.select(cols).head(N_EXAMPLES), "validate:examples")
    return n, tuple({str(k): plain(v) for k, v in r.items()} for r in ex.to_dict("records"))


def _check_table(table: engine.Table, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    spec = TABLES[table.name]
    names = table.columns
    out: list[Flag] = []
    present_user = [{v: k for k, v in table.renamed.items()}.get(c, c) for c in names]
    for col in spec.required:
        if col not in names:
            err = ColumnNotFoundError(table.name, col, present_user)
            out.append(
                Flag(
                    "missing_column",
                    "error",
                    missing_column_message(table.name, col, present_user),
                    table=table.name,
                    column=col,
                    evidence={"present": present_user, "suggestion": err.suggestion},
                )
            )
    frame = table.frame
    schema = frame.collect_schema()
    id_cols = [c for c in ("order_id", "buyer_id", "visitor_id", "product_id") if c in names]

    def ctx(*cols: str) -> list[str]:
        return list(dict.fromkeys([*id_cols, *cols]))

    # time columns
    for col in spec.time_columns():
        if col not in names:
            continue
        dtype = schema[col]
        if isinstance(dtype, nw.Datetime):
            tz_kinds.setdefault(table.name, set()).add("aware" if dtype.time_zone else "naive")
        elif dtype == nw.Date:
            tz_kinds.setdefault(table.name, set()).add("naive")
        elif dtype in (nw.String, nw.Object):
            out.extend(_check_text_times(table, col, tz_kinds))
    # null keys
    for col in spec.keys:
        if col in names:
            n, ex = _examples(frame, nw.col(col).is_null(), ctx(col))
            if n:
                out.append(
                    Flag(
                        "null_keys",
                        "error",
                        f"{table.name}: {n} rows have no {col!r}; fill it or drop those rows "
                        "(they would otherwise be excluded and counted in the audit).",
                        table=table.name,
                        column=col,
                        n_rows=n,
                        examples=ex,
                    )
                )
    # duplicates
    for key in spec.unique:
        if all(k in names for k in key):
            dup = (
                frame.group_by(list(key)).agg(nw.len().alias("copies")).filter(nw.col("copies") > 1)
            )
            n_keys = int(engine.scalar(dup.select(nw.len()), "validate:dups") or 0)
            if n_keys:
                ex_frame = engine.collect(dup.sort(list(key)).head(N_EXAMPLES), "validate:dups")
                extra = int(
                    engine.scalar(dup.select((nw.col("copies") - 1).sum()), "validate:dups") or 0
                )
                out.append(
                    Flag(
                        "duplicate_rows",
                        "error",
                        f"{table.name}: {n_keys} {key} values appear more than once ({extra} extra rows); "
                        "an order line must appear once. Drop exact duplicates (drop_duplicates) "
                        "or fix the export.",
                        table=table.name,
                        column=",".join(key),
                        n_rows=extra,
                        examples=tuple(
                            {str(k): plain(v) for k, v in r.items()}
                            for r in ex_frame.to_dict("records")
                        ),
                    )
                )
    # negative values
    for col in NON_NEGATIVE.get(table.name, ()):
        if col in names and schema[col].is_numeric():
            n, ex = _examples(frame, nw.col(col) < 0, ctx(col))
            if n:
                out.append(
                    Flag(
                        "negative_values",
                        "error",
                        f"{table.name}: {n} rows have a negative {col!r}; refunds belong in "
                        "'refund_amount', not as negative amounts.",
                        table=table.name,
                        column=col,
                        n_rows=n,
                        examples=ex,
                    )
                )
    # scores
    if table.name == "ratings":
        for col in ("item_score", "service_score", "logistics_score"):
            if col in names and schema[col].is_numeric():
                score = nw.col(col).cast(nw.Float64())
                bad = ((score < 1) | (score > 5) | (score % 1 != 0)) & ~nw.col(col).is_null()
                n, ex = _examples(frame, bad, ctx(col))
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
    # paid before created
    if (
        table.name == "orders"
        and table.has("paid_at", "created_at")
        and all(isinstance(schema[c], nw.Datetime) for c in ("paid_at", "created_at"))
        and schema["paid_at"] == schema["created_at"]
    ):
        n, ex = _examples(
            frame, nw.col("paid_at") < nw.col("created_at"), ctx("created_at", "paid_at")
        )
        if n:
            out.append(
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
            )
    # unknown events
    if table.name == "events" and "event" in names:
        counts = engine.collect(
            frame.group_by("event").agg(nw.len().alias("rows")), "validate:events"
        )
        unknown = counts[~counts["event"].isin(EVENT_TYPES)]
        if len(unknown):
            n = int(unknown["rows"].sum())
            values = sorted(str(v) for v in unknown["event"].tolist())
            out.append(
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
            )
    # multi-day rows of unique counts
    if (
        table.name == "traffic"
        and "date" in names
        and isinstance(schema["date"], nw.Datetime | nw.Date)
    ):
        uniq = [
            c
            for c in (
                "visitors",
                "inquirers",
                "carters",
                "favoriters",
                "order_buyers",
                "paid_buyers",
            )
            if c in names
        ]
        if uniq:
            days = engine.collect(
                frame.select(nw.col("date")).unique().sort("date"), "validate:dates"
            )
            d = days["date"].dropna().sort_values()
            gaps = d.diff().dropna().dt.days
            if len(gaps) and gaps.min() >= 7:
                out.append(
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
                )
    return out


def _check_text_times(table: engine.Table, col: str, tz_kinds: dict[str, set[str]]) -> list[Flag]:
    """Text or object time columns: parse a copy of the values (validation only)."""
    import pandas as pd  # noqa: PLC0415

    values = engine.collect(table.frame.select(col).unique(), f"validate:{col}")[col].dropna()
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
