"""What a report holds: headline figures, sections, flags; no rendering (see document)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shopmetrics import display
from shopmetrics.display import plain
from shopmetrics.errors import ShopmetricsError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.report import labels
from shopmetrics.report.charts import Chart

if TYPE_CHECKING:
    import pandas as pd


Format = Literal["", "percent", "number", "integer"]


def _maybe(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclasses.dataclass(frozen=True)
class Headline:
    """One headline figure of the week.

    ``change`` and ``rel_change`` are computed from ``value`` and ``previous`` when not
    given: ``change = value - previous`` (in percentage points for a rate) and
    ``rel_change = change / previous`` (NaN when ``previous`` is 0).

    Attributes:
        name: The metric name (``"visitors"``, ``"payment_conversion"``, ...); drives the
            label and, unless ``fmt`` is given, the number format.
        value: This week's value.
        previous: The previous week's value.
        change: Absolute change.
        rel_change: Relative change.
        significant: Whether the change is statistically significant (``None``: not tested).
        unit: Currency or unit put before the number (``"¥"``); empty for none.
        fmt: ``"percent"``, ``"number"``, ``"integer"``, or ``""`` to follow the name.
        label: A label to show instead of the standard one.
        ci_low: Lower end of this week's interval.
        ci_high: Upper end of this week's interval.
        note: A short remark shown under the figure.
        corrected: This week's value recomputed without the rows a flag says mislead
            (shown beside ``value``); ``None`` when no flag touches the figure.
        corrected_previous: The week before's value, corrected the same way.
        corrected_significant: Whether the corrected change is significant.
        corrected_by: The code of the flag the correction follows.

    Examples:
        >>> h = Headline("payment_conversion", 0.05, previous=0.04)
        >>> round(h.change, 4), round(h.rel_change, 4), h.is_percent
        (0.01, 0.25, True)
    """

    name: str
    value: float | None
    previous: float | None = None
    change: float | None = None
    rel_change: float | None = None
    significant: bool | None = None
    unit: str = ""
    fmt: Format = ""
    label: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    note: str = ""
    corrected: float | None = None
    corrected_previous: float | None = None
    corrected_significant: bool | None = None
    corrected_by: str = ""

    def __post_init__(self) -> None:
        for name in (
            "value",
            "previous",
            "change",
            "rel_change",
            "ci_low",
            "ci_high",
            "corrected",
            "corrected_previous",
        ):
            object.__setattr__(self, name, _maybe(getattr(self, name)))
        if self.fmt not in ("", "percent", "number", "integer"):
            msg = (
                f"headline {self.name!r}: fmt must be '', 'percent', 'number' or 'integer', "
                f"got {self.fmt!r}"
            )
            raise ShopmetricsError(msg)
        for name in ("significant", "corrected_significant"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, bool(getattr(self, name)))
        if self.change is None and self.value is not None and self.previous is not None:
            object.__setattr__(self, "change", self.value - self.previous)
        if self.rel_change is None and self.change is not None and self.previous is not None:
            rel = self.change / self.previous if self.previous != 0 else math.nan
            object.__setattr__(self, "rel_change", None if math.isnan(rel) else rel)

    @property
    def is_percent(self) -> bool:
        """Whether the value is a proportion shown as a percentage."""
        if self.fmt:
            return self.fmt == "percent"
        return display.is_percent(self.name)

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _frame(obj: Any, where: str) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    if isinstance(obj, pd.DataFrame):
        return obj.copy(deep=True)
    if hasattr(obj, "to_pandas"):
        out = obj.to_pandas()
        if isinstance(out, pd.DataFrame):
            return out
    msg = (
        f"{where}: a table must be a pandas DataFrame or a result object, got {type(obj).__name__}"
    )
    raise ShopmetricsError(msg)


@dataclasses.dataclass(frozen=True, eq=False)
class Section:
    """One section of the report.

    Attributes:
        key: A short identifier (``"funnel"``, ``"dsr"``, ...): the anchor in the HTML and,
            for the standard keys, the source of the localised title.
        title: The title; empty for the standard title of ``key`` in the report's language.
        intro: A sentence or two shown before the tables.
        tables: ``(caption, table)`` pairs; a table is a pandas DataFrame or a result object
            (its ``to_pandas()`` is used). Tables are copied, so later changes to the
            caller's frames do not change the report.
        charts: :class:`~shopmetrics.report.Chart` objects.
        flags: Findings that concern this section.
        notes: Remarks shown after the tables (definitions used, exclusions, ...).
    """

    key: str
    title: str = ""
    intro: str = ""
    tables: Sequence[tuple[str, Any]] = ()
    charts: Sequence[Chart] = ()
    flags: Sequence[Flag] = ()
    notes: Sequence[str] = ()

    def __post_init__(self) -> None:
        tables = []
        items: list[Any] = list(self.tables)
        for item in items:
            if not (isinstance(item, tuple | list) and len(item) == 2):
                msg = (
                    f"section {self.key!r}: tables must be (caption, table) pairs, got "
                    f"{type(item).__name__}"
                )
                raise ShopmetricsError(msg)
            caption, table = item
            tables.append((str(caption), _frame(table, f"section {self.key!r}")))
        object.__setattr__(self, "tables", tuple(tables))
        charts: list[Any] = list(self.charts)
        for chart in charts:
            if not isinstance(chart, Chart):
                msg = (
                    f"section {self.key!r}: charts must be Chart objects, "
                    f"got {type(chart).__name__}"
                )
                raise ShopmetricsError(msg)
        object.__setattr__(self, "charts", tuple(self.charts))
        object.__setattr__(self, "flags", sort_flags(tuple(self.flags)))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))

    def display_title(self, lang: str = "en") -> str:
        """The title, or the standard title of ``key`` in ``lang``."""
        return self.title or labels.section_title(self.key, lang)

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict (tables as column lists and rows)."""
        return {
            "key": self.key,
            "title": self.title,
            "intro": self.intro,
            "tables": [
                {
                    "caption": caption,
                    "columns": [str(c) for c in df.columns],
                    "rows": [
                        {str(k): plain(v) for k, v in row.items()} for row in df.to_dict("records")
                    ],
                }
                for caption, df in self.tables
            ],
            "charts": [c.to_dict() for c in self.charts],
            "flags": [f.to_dict() for f in self.flags],
            "notes": list(self.notes),
        }


def _dedupe(findings: Sequence[Flag]) -> tuple[Flag, ...]:
    seen: set[str] = set()
    out = []
    for f in findings:
        key = json.dumps(f.to_dict(), sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sort_flags(out)


def _write(path: str | os.PathLike[str], text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


@dataclasses.dataclass(frozen=True, eq=False)
class ReportContent:
    """The weekly report.

    Attributes:
        title: The report's title.
        week: The week label, e.g. ``"2026-W47"``.
        period: First and last day covered (both inclusive), or ``None``.
        generated_at: When the figures were made (passed in; rendering never reads the
            clock). ``None`` leaves it out.
        headline: The headline figures, in display order.
        sections: The sections, in display order (keys must be unique).
        flags: Every finding, most serious first. Findings of the sections are added,
            and exact duplicates dropped.
        lang: Default language of the renderings: ``"en"`` or ``"zh"``.
        store: The store's name (shown under the title).
        notes: Report-wide remarks (time zone, definitions, ...).
        meta: Parameters of the run (plain values; kept in :meth:`to_dict`).
        summary: The ten-second story, ``{"en": [sentences], "zh": [sentences]}``: to be
            shown first.
        actions: The flags banner: one row per flag, ``{"code", "severity", "subject",
            "action"}`` in the report's language, most serious first.
    """

    title: str
    week: str = ""
    period: tuple[dt.date, dt.date] | None = None
    generated_at: dt.datetime | None = None
    headline: Sequence[Headline] = ()
    sections: Sequence[Section] = ()
    flags: Sequence[Flag] = ()
    lang: str = "en"
    store: str = ""
    notes: Sequence[str] = ()
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    summary: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    actions: Sequence[Mapping[str, str]] = ()

    def __post_init__(self) -> None:
        labels.check_lang(self.lang)
        object.__setattr__(
            self, "summary", {str(k): tuple(str(x) for x in v) for k, v in self.summary.items()}
        )
        object.__setattr__(self, "actions", tuple(dict(a) for a in self.actions))
        object.__setattr__(self, "headline", tuple(self.headline))
        object.__setattr__(self, "sections", tuple(self.sections))
        keys = [s.key for s in self.sections]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            msg = f"report {self.title!r}: section keys must be unique; repeated: {dupes}"
            raise ShopmetricsError(msg)
        every = [*self.flags, *(f for s in self.sections for f in s.flags)]
        object.__setattr__(self, "flags", _dedupe(every))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        if self.period is not None:
            start, end = self.period
            if end < start:
                msg = f"report {self.title!r}: period ends ({end}) before it starts ({start})"
                raise ShopmetricsError(msg)
            object.__setattr__(self, "period", (start, end))

    def section(self, key: str) -> Section:
        """The section with ``key``."""
        for s in self.sections:
            if s.key == key:
                return s
        msg = f"report has no section {key!r}; sections: {[s.key for s in self.sections]}"
        raise KeyError(msg)

    # renderings ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-able types."""
        return {
            "title": self.title,
            "week": self.week,
            "period": plain(list(self.period)) if self.period else None,
            "generated_at": plain(self.generated_at),
            "lang": self.lang,
            "store": self.store,
            "headline": [h.to_dict() for h in self.headline],
            "sections": [s.to_dict() for s in self.sections],
            "flags": [f.to_dict() for f in self.flags],
            "notes": list(self.notes),
            "meta": plain(self.meta),
            "summary": {k: list(v) for k, v in self.summary.items()},
            "actions": [dict(a) for a in self.actions],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON (``ensure_ascii=False`` by default)."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self) -> str:
        return (
            f"Report({self.title!r}, week={self.week!r}, {len(self.headline)} headline figures, "
            f"sections={[s.key for s in self.sections]}, flags={len(self.flags)})"
        )
