"""The record shared by validation problems and misleading-data flags.

A validation problem ("this column cannot be used") and a flag ("this figure misleads")
have the same shape, so reports, JSON APIs and notebooks handle both alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from shopmetrics.display import plain

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclasses.dataclass(frozen=True, slots=True)
class Flag:
    """One problem or flag.

    Attributes:
        code: Machine-readable reason code (``missing_column``, ``presale_zero_payment``, ...).
        severity: ``"error"`` (cannot be used), ``"warning"`` (misleads), ``"info"``.
        message: One human sentence: what, where, and the way out.
        table: The input table concerned, if any.
        column: The column concerned, if any.
        subject: What the finding is about, e.g. ``{"product_id": "P007", "period": "2026-W47"}``.
        n_rows: How many rows are affected (``None`` when not row-based).
        examples: A few example rows, as plain dicts.
        evidence: The numbers behind the finding.
        instead: The figure to use instead, as ``{name: value}``.
    """

    code: str
    severity: Severity
    message: str
    table: str | None = None
    column: str | None = None
    subject: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    n_rows: int | None = None
    examples: tuple[Mapping[str, Any], ...] = ()
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    instead: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict (JSON-ready)."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __str__(self) -> str:
        where = ".".join(p for p in (self.table, self.column) if p)
        rows = f" [{self.n_rows} rows]" if self.n_rows is not None else ""
        return f"{self.severity.upper()} {self.code}{' @ ' + where if where else ''}{rows}: {self.message}"


def sort_flags(findings: list[Flag] | tuple[Flag, ...]) -> tuple[Flag, ...]:
    """Most serious first, then by code (stable, order-independent)."""
    return tuple(
        sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code, str(f.subject)))
    )
