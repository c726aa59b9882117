"""Result objects: frozen, documented, displayable, convertible.

Every metric returns a subclass of :class:`Result` holding a small pandas table (groups x
periods), the flags found on its input, an audit of rows used and excluded, and the
definition that was applied. Conversions never hand out the internal table itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.display import plain
from shopmetrics.engine import convert
from shopmetrics.flags.finding import Flag
from shopmetrics.report import format as display_text
from shopmetrics.report import labels
from shopmetrics.report import views as view
from shopmetrics.report.views import MAX_ROWS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Audit", "Exclusion", "Flags", "Result"]  # the audit records live in shopmetrics.audit


class Flags(tuple[Flag, ...]):
    """The flags of a result: a tuple of :class:`~shopmetrics.flags.Flag` that a notebook
    shows as a table (severity, title, subject, message, what to do, figures to use instead).

    Examples:
        >>> from shopmetrics.flags import Flag
        >>> fl = Flags([Flag("small_sample", "warning", "P9: 12 visitors")])
        >>> fl == (Flag("small_sample", "warning", "P9: 12 visitors"),), "Small sample" in fl._repr_html_()
        (True, True)
    """

    __slots__ = ()

    def __new__(cls, flags: Iterable[Flag] = ()) -> Flags:
        return super().__new__(cls, tuple(flags))

    def to_html(self, lang: str = "en") -> str:
        """The flags as an HTML table in ``lang`` (``"en"`` or ``"zh"``)."""
        return display_text.flags_html(self, lang)

    def to_markdown(self, lang: str = "en") -> str:
        """The flags as a Markdown table in ``lang`` (``"en"`` or ``"zh"``)."""
        return view.flags_markdown(self, lang) or labels.text("no_flags", lang)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        codes = ", ".join(f"{f.severity} {f.code}" for f in self)
        return f"Flags({len(self)}: {codes})" if self else "Flags(0)"


@dataclasses.dataclass(frozen=True)
class Result:
    """Base of every metric result.

    Attributes:
        table: The result table (one row per group and period). Use :meth:`to_pandas`
            for a copy you can change.
        flags: Misleading-data findings on this result's input, most serious first.
        audit: Rows used and excluded, by reason, and notes on how figures were made.
        definition: The named definition applied (e.g. ``"alibaba"``).
        meta: Parameters of the call (grouping, frequency, time zone, confidence, ...).
    """

    table: pd.DataFrame
    flags: tuple[Flag, ...] = ()
    audit: Audit = dataclasses.field(default_factory=Audit)
    definition: str = ""
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    kind = "result"

    def __post_init__(self) -> None:
        if not isinstance(self.flags, Flags):
            object.__setattr__(self, "flags", Flags(self.flags))

    # conversions -------------------------------------------------------
    @property
    def by(self) -> tuple[str, ...]:
        """The grouping columns (``meta["by"]``; empty for a store total)."""
        return tuple(self.meta.get("by", ()))

    def to_pandas(self) -> pd.DataFrame:
        """A copy of the result table as a pandas DataFrame: the same types whatever engine
        held the data (counts int64, money float64, datetimes ``datetime64[us]``)."""
        return convert.normalized(self.table)

    def to_arrow(self) -> Any:
        """The result table as a ``pyarrow.Table``."""
        return convert.to_arrow(self.table)

    def to_polars(self) -> Any:
        """The result table as a ``polars.DataFrame`` (needs the ``polars`` extra)."""
        return convert.to_polars(self.table)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Rows as plain-typed dicts (JSON-ready; the same whatever engine held the data)."""
        rows = convert.normalized(self.table).to_dict("records")
        return [{str(k): plain(v) for k, v in row.items()} for row in rows]

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain types: rows, flags, audit, definition, meta."""
        return {
            "kind": self.kind,
            "definition": self.definition,
            "meta": plain(self.meta),
            "rows": self.to_dicts(),
            "flags": [f.to_dict() for f in self.flags],
            "audit": self.audit.to_dict(),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (``ensure_ascii=False`` by default)."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def flags_frame(self) -> pd.DataFrame:
        """The flags as a table."""
        import pandas as pd  # noqa: PLC0415

        cols = ["severity", "code", "subject", "message", "evidence", "instead"]
        return pd.DataFrame(
            [{c: plain(getattr(f, c)) for c in cols} for f in self.flags], columns=cols
        )

    # display -----------------------------------------------------------
    def display_columns(self) -> Sequence[str]:
        """Columns shown by ``__repr__`` / Markdown / HTML (all by default)."""
        return list(self.table.columns)

    def display_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """``(caption key, table)`` pairs the displays show, the result table last: each
        figure followed by its interval (``*_ci_low`` / ``*_ci_high``) when it has one."""
        return [("", self.table[self._shown_with_intervals()])]

    def to_markdown(self, max_rows: int = MAX_ROWS, *, lang: str = "en") -> str:
        """The result as Markdown in ``lang`` (``"en"`` or ``"zh"``): a heading (what it is,
        rows, definition and methods), the table labelled and formatted by the label layer
        (intervals as ``low – high`` next to their figure; a long table shows its first and
        last rows and how many are between) and the flags as a table."""
        return "\n\n".join(view.markdown_parts(self, lang, max_rows))

    def to_html(self, max_rows: int = MAX_ROWS, *, lang: str = "en") -> str:
        """:meth:`to_markdown` as an escaped HTML fragment (the notebook view)."""
        return view.html_fragment(self, lang, max_rows)

    def html_in(self, lang: str, max_rows: int = MAX_ROWS) -> str:
        """:meth:`to_html` in ``lang`` (``"en"`` or ``"zh"``)."""
        return self.to_html(max_rows, lang=lang)

    def _shown_with_intervals(self) -> list[str]:
        """The display columns, each figure followed by its interval when the table has it."""
        out: list[str] = []
        for c in self.display_columns():
            out.append(c)
            out += [f"{c}{e}" for e in ("_ci_low", "_ci_high") if f"{c}{e}" in self.table.columns]
        return list(dict.fromkeys(out))

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return view.text_repr(self)

    def __len__(self) -> int:
        return len(self.table)
