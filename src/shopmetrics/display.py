"""How values and small tables are shown: plain Python values, number formats, Markdown and HTML.

:func:`html_table` is the one HTML table writer of the package: result objects'
notebook views (:mod:`shopmetrics.report.views`) and the weekly report's tables
(:mod:`shopmetrics.report.html`) both go through it. Its markup is a Jinja2 template with
autoescape on, so every header and cell is text, whatever it contains.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
from markupsafe import Markup

if TYPE_CHECKING:
    import pandas as pd


def is_missing(value: Any) -> bool:
    """An empty cell: ``None``, NaN (any float kind), pandas' ``NA`` or ``NaT``.

    The one test of missing values the package uses (NaN and NaT are the values that
    compare unequal to themselves; ``pd.NA`` refuses to compare at all).

    Examples:
        >>> import math
        >>> [is_missing(v) for v in (None, math.nan, 0.0, "", "x")]
        [True, True, False, False, False]
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 - the portable NaN / NaT test
    except (TypeError, ValueError):  # pd.NA: its comparisons are NA, which has no truth value
        return type(value).__name__ == "NAType"


def _is_na_type(value: Any) -> bool:
    """pandas' ``NA`` and ``NaT`` (tested by type name: no pandas import needed)."""
    return type(value).__name__ in ("NAType", "NaTType")


def _plain_float(value: Any) -> float | None:
    f = float(value)
    return None if math.isnan(f) or math.isinf(f) else f


def _plain_isoformat(value: Any) -> Any:
    """A date-like value of another library (``isoformat`` duck type)."""
    try:
        return None if is_missing(value) else value.isoformat()
    except (TypeError, ValueError):
        return str(value)


_PLAIN_RULES: tuple[tuple[Callable[[Any], bool], Callable[[Any], Any]], ...] = (
    (lambda v: v is None or isinstance(v, bool | str), lambda v: v),
    (_is_na_type, lambda _v: None),  # before datetime: NaT is a datetime
    (lambda v: isinstance(v, np.bool_), bool),
    (lambda v: isinstance(v, int | np.integer), int),
    (lambda v: isinstance(v, float | np.floating), _plain_float),
    (lambda v: isinstance(v, dt.datetime | dt.date), lambda v: v.isoformat()),
    (lambda v: hasattr(v, "isoformat"), _plain_isoformat),
    (lambda v: isinstance(v, Mapping), lambda v: {str(k): plain(x) for k, x in v.items()}),
    (lambda v: isinstance(v, list | tuple | set | frozenset), lambda v: [plain(x) for x in v]),
    # a Flag, by duck type: display is below the flags
    (lambda v: dataclasses.is_dataclass(v) and hasattr(v, "to_dict"), lambda v: v.to_dict()),
)
"""``(test, conversion)`` pairs of :func:`plain`, tried in order; the first test that holds wins."""


def plain(value: Any) -> Any:
    """Convert numpy / pandas scalars and containers to plain JSON-able Python."""
    for test, convert in _PLAIN_RULES:
        if test(value):
            return convert(value)
    return str(value)


PERCENT_SUFFIXES = ("_rate", "ctr", "conversion", "share", "_shrunk", "_vs_peers")


def is_percent(col: str) -> bool:
    """Whether a result column is a proportion (formatted as a percentage)."""
    base = (
        col.removesuffix("_ci_low")
        .removesuffix("_ci_high")
        .removesuffix("_prev")
        .removesuffix("_cur")
    )
    return base.endswith(PERCENT_SUFFIXES) or base.startswith("rel_") or base.endswith("_rel_diff")


def _format_float(col: str, value: float) -> str:
    if is_percent(col):
        return f"{value * 100:.2f}%"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def format_value(col: str, value: Any) -> str:
    """Format one cell for Markdown / HTML display, driven by the column name."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_na_type(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return _format_float(col, float(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)


def frame_to_markdown(df: pd.DataFrame, max_rows: int = 50) -> str:
    """A GitHub-flavoured Markdown table (pipes in text are escaped)."""
    cols = [str(c) for c in df.columns]
    shown = df.head(max_rows)

    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines.extend(
        "| " + " | ".join(cell(format_value(c, v)) for c, v in zip(cols, row, strict=True)) + " |"
        for row in shown.itertuples(index=False, name=None)
    )
    if len(df) > max_rows:
        lines.append(f"\n_{len(df) - max_rows} more rows not shown._")
    return "\n".join(lines)


# ----------------------------------------------------------------- HTML

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters XML does not allow: dropped from every value a template writes."""


def drop_control(value: Any) -> Any:
    """Jinja ``finalize`` hook: a value's text without XML-invalid control characters.

    Markup (already-safe HTML, such as an SVG chart) passes unchanged; anything else
    becomes its text, which autoescape then escapes.
    """
    if isinstance(value, Markup):
        return value
    return CONTROL_CHARS.sub("", str(value))


_TABLE_TEMPLATE = (
    "{% macro table(headers, rows, numeric, caption, more, name) %}"
    '<div class="table-wrap" role="region" aria-label="{{ caption or name }}" tabindex="0">'
    "<table>"
    "{% if caption %}<caption>{{ caption }}</caption>{% endif %}"
    "<thead><tr>"
    "{% for h in headers %}"
    '<th scope="col"{% if numeric[loop.index0] %} class="num"{% endif %}>{{ h }}</th>'
    "{% endfor %}"
    "</tr></thead>"
    "<tbody>"
    "{% for row in rows %}<tr>"
    "{% for v in row %}"
    '<td{% if numeric[loop.index0] %} class="num"{% endif %}>{{ v }}</td>'
    "{% endfor %}"
    "</tr>{% endfor %}"
    "</tbody></table></div>"
    '{% if more %}<p class="more">{{ more }}</p>{% endif %}'
    "{% endmacro %}"
)
"""The table markup: a captioned table in a wrapper that scrolls sideways on a phone."""

_TABLE_MACRO = (
    jinja2.Environment(autoescape=True, finalize=drop_control)
    .from_string(_TABLE_TEMPLATE)
    .module.table  # type: ignore[attr-defined]
)


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[bool] = (),
    caption: str = "",
    more: str = "",
    name: str = "table",
) -> Markup:
    """An HTML table of display text: every header and cell escaped by the template.

    Args:
        headers: Column headers.
        rows: The rows shown, as text.
        numeric: Per column, whether it is right-aligned (``class="num"``); none by default.
        caption: Shown above the table, and its accessible name.
        more: A line under the table (e.g. how many rows are not shown); none when empty.
        name: The accessible name when there is no caption (in the reader's language).

    Returns:
        The markup (safe to put in a template as it is).

    Examples:
        >>> out = html_table(["product"], [["<b>P1</b>"]], caption="Top")
        >>> "<caption>Top</caption>" in out, "<td>&lt;b&gt;P1&lt;/b&gt;</td>" in out
        (True, True)
    """
    flags = list(numeric) or [False] * len(headers)
    out: Markup = _TABLE_MACRO(headers, rows, flags, caption, more, name)
    return out
