"""Errors and warnings raised by shopmetrics.

Every error is a ``ValueError`` so callers that already guard bad input keep working::

    ValueError
     └── ShopmetricsError            anything shopmetrics refuses to compute
          ├── SchemaError            a table does not have the shape a metric needs
          │    └── ColumnNotFoundError   a required column is missing (with a did-you-mean hint)
          ├── ValidationError        ``validate(..., strict=True)`` found problems (carries the report)
          └── DefinitionError        an unknown metric definition, method or option value

    ImportError
     └── MissingDependencyError     an optional extra (polars, duckdb, pyspark, ...) is not installed

    UserWarning
     ├── DataQualityWarning         the data can be used but a figure may mislead (see ``.flags``)
     └── SmallSampleWarning         a rate rests on fewer observations than ``config.min_sample``

Messages say what is wrong, where (table, column, rows) and the way out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol


class ValidationReport(Protocol):
    """What a :class:`ValidationError` carries: a
    :class:`shopmetrics.validation.ValidationReport` (typed by shape, as the errors sit below
    every other module)."""

    @property
    def problems(self) -> tuple[Any, ...]: ...

    @property
    def ok(self) -> bool: ...


__all__ = [
    "ColumnNotFoundError",
    "DataQualityWarning",
    "DefinitionError",
    "MissingDependencyError",
    "SchemaError",
    "ShopmetricsError",
    "SmallSampleWarning",
    "ValidationError",
]


class ShopmetricsError(ValueError):
    """Base class of every error shopmetrics raises on purpose."""


class SchemaError(ShopmetricsError):
    """A table does not have the columns or types a metric needs."""


class ColumnNotFoundError(SchemaError):
    """A required column is missing from a table.

    Attributes:
        table: The table's name (``"orders"``, ``"events"``, ...).
        column: The canonical column that was looked for.
        present: The columns the table has.
        suggestion: The closest present column, if any looks like a match.
    """

    def __init__(
        self, table: str, column: str, present: Sequence[str], *, purpose: str = ""
    ) -> None:
        self.table = table
        self.column = column
        self.present = list(present)
        self.suggestion = suggest(column, self.present)
        super().__init__(missing_column_message(table, column, self.present, purpose=purpose))


class ValidationError(ShopmetricsError):
    """Validation found problems; ``.report`` holds all of them."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(str(report))


class DefinitionError(ShopmetricsError):
    """An unknown definition, method or option value was asked for."""

    @classmethod
    def unknown(cls, what: str, value: object, allowed: Iterable[str]) -> DefinitionError:
        """Build the error for an option value outside ``allowed``."""
        allowed = list(allowed)
        hint = suggest(str(value), allowed)
        msg = f"unknown {what} {value!r}; choose one of {allowed}"
        if hint:
            msg += f". Did you mean {hint!r}?"
        return cls(msg)


class MissingDependencyError(ImportError):
    """An optional dependency is needed for this call and is not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install 'shopmetrics[{extra}]'"
        )


class DataQualityWarning(UserWarning):
    """The data can be used, but a figure computed from it may mislead."""


class SmallSampleWarning(UserWarning):
    """A rate rests on fewer observations than the configured minimum."""


def suggest(name: str, candidates: Sequence[str]) -> str | None:
    """Return the candidate closest to ``name`` (case-insensitive), or ``None``.

    Examples:
        >>> suggest("paid_at", ["order_id", "pay_time", "paidat"])
        'paidat'
        >>> suggest("zzz", ["order_id"]) is None
        True
    """
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    for c in candidates:  # substring matches: "paid" in "pay_paid_time"
        if name.lower() in c.lower() or c.lower() in name.lower():
            return c
    return None


def missing_column_message(
    table: str, column: str, present: Sequence[str], *, purpose: str = ""
) -> str:
    """The one wording of a missing-column message, shared by errors and validation."""
    why = f" (needed for {purpose})" if purpose else ""
    msg = f"{table}: column {column!r} not found{why}. Columns present: {list(present)}."
    hint = suggest(column, present)
    if hint is not None:
        msg += f" Hint: did you mean {hint!r}? Map it with columns={{{hint!r}: {column!r}}}."
    else:
        msg += f" Map your column with columns={{'your_name': {column!r}}}."
    return msg
