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
class Collected:
    """Rows one query brought to the driver (or one small table copied into another engine).

    Attributes:
        what: The step (``"funnel:events"``, ``"orders:audit"``, ...).
        table: The input table the rows come from (``"events"``, ``"orders"``, ...; two
            names joined by ``" x "`` for a join), or the step's prefix when no table is
            named.
        rows: Rows collected (or copied).
        kind: ``"collected"`` (a query's result, to pandas) or ``"moved"`` (the smaller
            table of a join across engines, copied into the engine of the larger one).
    """

    what: str
    table: str
    rows: int
    kind: str = "collected"


@dataclasses.dataclass(frozen=True, slots=True)
class Audit:
    """Where every input row went.

    Attributes:
        rows_in: Rows read per input table.
        excluded: Rows left out of some metric, by table and reason.
        notes: Statements about how the figures were made (time zone, definitions, ...).
        collected: What the call brought to the driver, query by query (filled in by the
            engine's collect wrapper for every public function): bounded by groups x
            periods (and by orders or buyers where a function says so), never by events.
    """

    rows_in: Mapping[str, int] = dataclasses.field(default_factory=dict)
    excluded: tuple[Exclusion, ...] = ()
    notes: tuple[str, ...] = ()
    collected: tuple[Collected, ...] = ()

    def collected_rows(self, kind: str = "collected") -> dict[str, int]:
        """Rows collected (``kind="moved"``: copied across engines) per input table.

        Examples:
            >>> a = Audit(collected=(Collected("funnel:events", "events", 12),
            ...                      Collected("funnel:orders", "orders", 3),
            ...                      Collected("orders:audit", "orders", 1)))
            >>> a.collected_rows()
            {'events': 12, 'orders': 4}
        """
        out: dict[str, int] = {}
        for c in self.collected:
            if c.kind == kind:
                out[c.table] = out.get(c.table, 0) + c.rows
        return out

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
            "collected": [dataclasses.asdict(c) for c in self.collected],
        }
