"""How values and small tables are shown: plain Python values, number formats, Markdown and HTML."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def _is_missing(value: Any) -> bool:
    """NaT / NA / NaN (which compare unequal to themselves)."""
    try:
        return bool(value != value)  # noqa: PLR0124 - the portable NaT/NaN test
    except (TypeError, ValueError):
        return False


def plain(value: Any) -> Any:
    """Convert numpy / pandas scalars and containers to plain JSON-able Python."""
    if value is None or isinstance(value, bool | str):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):  # before datetime: NaT is a datetime
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        try:
            return None if _is_missing(value) else value.isoformat()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and hasattr(value, "to_dict"):
        return value.to_dict()  # a Flag, by duck type: display is below the flags
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
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


def format_value(col: str, value: Any) -> str:
    """Format one cell for Markdown / HTML display, driven by the column name."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if is_percent(col):
            return f"{float(value) * 100:.2f}%"
        if float(value).is_integer() and abs(float(value)) < 1e15:
            return f"{int(value):,}"
        return f"{float(value):,.2f}"
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


def frame_to_html(df: pd.DataFrame, max_rows: int = 50) -> str:
    """An HTML table with every cell escaped (untrusted names stay text)."""
    cols = [str(c) for c in df.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(format_value(c, v))}</td>" for c, v in zip(cols, row, strict=True)
        )
        + "</tr>"
        for row in df.head(max_rows).itertuples(index=False, name=None)
    )
    more = (
        f"<p><em>{len(df) - max_rows} more rows not shown.</em></p>" if len(df) > max_rows else ""
    )
    return (
        f'<table class="sm-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'
    )
