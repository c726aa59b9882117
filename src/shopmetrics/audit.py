"""The audit of a result: which rows were used, which were left out and why.

Every metric counts what it did not use (rows outside the period, unpaid orders, rows with
an unknown event, ...) as an :class:`Exclusion` in its :class:`Audit`: nothing is dropped
silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shopmetrics.display import plain

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True, slots=True)
class Exclusion:
    """Rows left out of a metric, and why."""

    table: str
    reason: str
    rows: int
    detail: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Audit:
    """Where every input row went.

    Attributes:
        rows_in: Rows read per input table.
        excluded: Rows left out of some metric, by table and reason.
        notes: Statements about how the figures were made (time zone, definitions, ...).
    """

    rows_in: Mapping[str, int] = dataclasses.field(default_factory=dict)
    excluded: tuple[Exclusion, ...] = ()
    notes: tuple[str, ...] = ()

    def to_pandas(self) -> pd.DataFrame:
        """One row per (table, reason), with ``rows_in`` beside the exclusions."""
        import pandas as pd  # noqa: PLC0415

        rows = [
            {"table": t, "reason": "rows_in", "rows": n, "detail": ""}
            for t, n in self.rows_in.items()
        ] + [dataclasses.asdict(e) for e in self.excluded]
        return pd.DataFrame(rows, columns=["table", "reason", "rows", "detail"])

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict."""
        return {
            "rows_in": plain(self.rows_in),
            "excluded": [dataclasses.asdict(e) for e in self.excluded],
            "notes": list(self.notes),
        }
