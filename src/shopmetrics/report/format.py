"""Display text shared by the renderings: one rule per kind of figure.

Every figure the package shows has a *kind*, found from its name (:func:`kind_of`; a
table with a ``metric`` column gives each row the kind of its metric):

========== ============================================= ==========================
kind       rule                                          example
========== ============================================= ==========================
count      whole number, thousands separators            ``14,404``
money      the currency sign, two decimals               ``¥27,411.80``
rate       a percentage, two decimals                    ``2.35%``
rate_pp    a change of a rate, in percentage points      ``-0.46 pp`` / ``-0.46 个百分点``
score      DSR and other 1–5 scores, two decimals        ``4.74``
pvalue     three decimals, tiny ones as ``< 0.001``      ``0.062``, ``< 0.001``
ratio      two decimals (ROAS, ROI, ratios)              ``1.80``
number     two decimals, or whole when whole             ``0.29``
========== ============================================= ==========================

A signed change has ``+`` or ``-``; a change that rounds to zero shows without a sign
(``0.00``, never ``-0.00``). The HTML, Markdown, Excel renderings, the charts and the
notebook views all take their text from here, so a figure reads the same everywhere.

Colours follow the reader's market: in 生意参谋 (and Chinese markets generally) a rise
is red and a fall green; in English reports a rise is green. ``rise_colour`` in
:func:`shopmetrics.config_context` (``"auto"``, ``"red"`` or ``"green"``) overrides it.

Examples:
    >>> fmt(14404.0, "count"), fmt(27411.8, "money"), fmt(0.0235, "rate")
    ('14,404', '¥27,411.80', '2.35%')
    >>> fmt(-0.0046, "rate_pp", signed=True), fmt(-0.0046, "rate_pp", "zh", signed=True)
    ('-0.46 pp', '-0.46 个百分点')
    >>> fmt(-0.0004, "score", signed=True), fmt(0.0, "pvalue"), fmt(0.0621, "pvalue")
    ('0.00', '< 0.001', '0.062')
    >>> kind_of("paid_amount_ci_low"), kind_of("change_rate"), kind_of("n_item")
    ('money', 'rate_pp', 'count')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.display import html_table, is_missing, is_percent
from shopmetrics.report import labels
from shopmetrics.report.kinds import (
    COUNTS as _COUNTS,
)
from shopmetrics.report.kinds import (
    MONEY as _MONEY,
)
from shopmetrics.report.kinds import (
    PVALUES as _PVALUES,
)
from shopmetrics.report.kinds import (
    RATE_CHANGES as _RATE_CHANGES,
)
from shopmetrics.report.kinds import (
    RATIOS as _RATIOS,
)
from shopmetrics.report.kinds import (
    SCORES as _SCORES,
)
from shopmetrics.report.kinds import (
    STRIP as _STRIP,
)

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag

Kind = Literal["count", "money", "rate", "rate_pp", "score", "pvalue", "ratio", "number"]

CURRENCY = "¥"
"""The currency sign of money figures (the store's back-ends report in yuan)."""


def _base(name: str) -> str:
    for suffix in _STRIP:
        if name.endswith(suffix) and len(name) > len(suffix):
            return _base(name.removesuffix(suffix))
    return name


_CHANGE_SUFFIXES = ("_change", "_diff")
"""A column named ``<figure>_change``: the change of that figure (a rate's in pp)."""
_WEEK_SUFFIXES = ("_last_week", "_this_week", "_previous", "_current")
"""A column named ``<figure>_last_week``: that figure, another week's."""


def _suffixed_kind(name: str) -> Kind | None:
    """The kind of ``<figure>_change`` (a change of the figure) or ``<figure>_last_week``."""
    for suffixes, as_change in ((_CHANGE_SUFFIXES, True), (_WEEK_SUFFIXES, False)):
        for suffix in suffixes:
            stem = name.removesuffix(suffix)
            if stem != name and stem and kind_of(stem) != "number":
                return change_kind(kind_of(stem)) if as_change else kind_of(stem)
    return None


def kind_of(name: str) -> Kind:
    """The kind of figure a column or metric name holds (see the module's table).

    Examples:
        >>> kind_of("paid_amount_change"), kind_of("payment_conversion_change")
        ('money', 'rate_pp')
        >>> kind_of("visitors_last_week"), kind_of("share_change")
        ('count', 'rate_pp')
    """
    suffixed = None if name in _RATE_CHANGES else _suffixed_kind(name)
    if suffixed is not None:
        return suffixed
    base = _base(name)
    rules: tuple[tuple[bool, Kind], ...] = (
        (
            base in _RATE_CHANGES or name.startswith("change_rate") or base.endswith("_vs_usual"),
            "rate_pp",
        ),
        (base in _PVALUES or base.endswith(("_p", "_q")), "pvalue"),
        (base in _COUNTS or base.startswith("n_"), "count"),
        (base in _MONEY, "money"),
        (base in _SCORES, "score"),
        (base in _RATIOS or base.startswith("dlog_"), "ratio"),
        (is_percent(name) or is_percent(base), "rate"),
    )
    return next((kind for hit, kind in rules if hit), "number")


def change_kind(kind: Kind) -> Kind:
    """The kind of a change of a figure: a rate's change is in percentage points."""
    return "rate_pp" if kind == "rate" else kind


def _unsigned(value: float, kind: Kind, lang: str) -> str:
    v = abs(value)
    if kind == "count":
        return f"{round(v):,}"
    if kind == "money":
        return f"{CURRENCY}{v:,.2f}"
    if kind == "rate":
        return f"{v * 100:.2f}%"
    if kind == "rate_pp":
        return f"{v * 100:.2f} {labels.text('pp', lang)}"
    if kind == "pvalue":
        return "< 0.001" if v < 0.0005 else f"{v:.3f}"
    if kind in ("number", "score") and float(v).is_integer() and v < 1e15:
        return f"{int(v):,}"
    return f"{v:,.2f}"


def _rounds_to_zero(value: float, kind: Kind) -> bool:
    scale = {"count": 0.5, "rate": 0.00005, "rate_pp": 0.00005, "pvalue": 0.0}.get(kind, 0.005)
    return abs(value) < scale


def fmt(value: Any, kind: Kind, lang: str = "en", *, signed: bool = False) -> str:
    """One figure as text by its kind; ``signed`` puts ``+`` / ``-`` before a change.

    A value that rounds to zero has no sign (``0.00``, not ``-0.00``); missing is empty.
    """
    if is_missing(value):
        return ""
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    text = _unsigned(v, kind, lang)
    if _rounds_to_zero(v, kind) or (kind == "pvalue"):
        return text
    if v < 0:
        return "-" + text
    return ("+" + text) if signed else text


def fmt_interval(low: Any, high: Any, kind: Kind, lang: str = "en") -> str:
    """``[low, high]`` in the figure's format (empty when either end is missing)."""
    if is_missing(low) or is_missing(high):
        return ""
    signed = kind == "rate_pp"
    a = fmt(low, kind, lang, signed=signed)
    b = fmt(high, kind, lang, signed=signed)
    unit = f" {labels.text('pp', lang)}"
    if kind == "rate_pp":
        return f"[{a.removesuffix(unit)}, {b.removesuffix(unit)}]{unit}"
    return f"[{a}, {b}]"


def is_number(value: Any) -> bool:
    """A Python or numpy number that is not a boolean (a right-aligned cell)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _list_text(col: str, value: Sequence[Any] | Mapping[str, Any], lang: str) -> str:
    """A list or mapping in a cell or evidence: a few items, formatted, the rest counted."""
    sep = "、" if lang == "zh" else ", "
    if isinstance(value, Mapping):
        kind = kind_of(col)
        items = []
        for k, v in value.items():
            source = labels.value_label("source", str(k), lang)
            if source is not None:  # {source: figure}: the figure has the column's kind
                shown = fmt(v, kind, lang, signed=_signed(col)) if is_number(v) else str(v)
                items.append(f"{source} {shown}")
            else:  # a record: each value by its own name
                items.append(f"{labels.label(str(k), lang)} {cell_text(str(k), v, lang)}")
    else:
        items = [
            _list_text(col, v, lang) if isinstance(v, Mapping) else cell_text(col, v, lang)
            for v in value
        ]
    if len(items) > 4:
        more = len(items) - 3
        tail = f"另 {more} 项" if lang == "zh" else f"{more} more"
        items = [*items[:3], tail]
    return sep.join(items)


def cell_text(col: str, value: Any, lang: str = "en", kind: Kind | None = None) -> str:
    """Display text of one cell: enumerations labelled, figures by their kind."""
    if is_missing(value):
        return ""
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | Mapping):
        return _list_text(col, value, lang)
    named = labels.value_label(col, value, lang)
    if named is not None:
        return named
    if is_number(value):
        return fmt(value, kind or kind_of(col), lang)
    return _iso_text(str(value))


def _iso_text(text: str) -> str:
    """An ISO timestamp written by a detector (``2026-11-12T01:00:00``) as a reader's time."""
    if len(text) == 19 and text[10] == "T" and text[:4].isdigit():
        return text[:10] + " " + text[11:16]
    return text


def col_name(c: object) -> str:
    """A column label as text (tuples of a MultiIndex joined with ``/``)."""
    return " / ".join(map(str, c)) if isinstance(c, tuple) else str(c)


# ----------------------------------------------------------------- tables

_SIGNED = (
    "diff",
    "change",
    "rel_change",
    "effect_on_total",
    "dlog_",
    "mix_effect",
    "rate_effect",
    "overlap_effect",
)
_ROW_VALUES = frozenset(
    {
        "previous",
        "current",
        "value",
        "peer_avg",
        "peer_top10",
        "diff",
        "this_week",
        "last_week",
        "change",
    }
)
"""Columns of a metrics-as-rows table whose kind is the row's metric's."""
_AS_ROWS = {
    "previous_rate": "previous",
    "current_rate": "current",
    "change_rate": "diff",
    "change_rate_ci_low": "diff_ci_low",
    "change_rate_ci_high": "diff_ci_high",
}
_COALESCE = (
    ("value_rate", "value"),
    ("peer_avg_rate", "peer_avg"),
    ("peer_top10_rate", "peer_top10"),
)
_FIRST = (
    "metric",
    "current",
    "previous",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "value",
    "peer_avg",
    "peer_top10",
)

PAGE_WIDTH = 940
"""Width (CSS px) a table may take: the report's column (980 px) less its padding."""


def _signed(col: str) -> bool:
    if col.startswith("se_"):
        return False
    return col.startswith(_SIGNED) or col.endswith(("_change", "_diff")) or col == "change_rate"


def metrics_as_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A table laid out one metric a row: ``metric | current | previous | diff | ...``.

    Two layouts come in: two period rows of many metric columns (the week and the week
    before: turned so each metric is a row, this week first), and week-over-week or
    peer tables that already have a ``metric`` column (their ``*_rate`` columns merged
    into one per figure, this week before last week). Anything else is returned as it is.

    Examples:
        >>> import pandas as pd
        >>> two = pd.DataFrame({"period": ["2026-W46", "2026-W47"], "visitors": [10, 14],
        ...                     "paid_buyers": [1, 2], "aov": [70.0, 80.0]})
        >>> metrics_as_rows(two).to_dict("list")["metric"]
        ['visitors', 'paid_buyers', 'aov']
    """
    import pandas as pd  # noqa: PLC0415

    if "period" in df.columns and len(df) == 2 and "metric" not in df.columns:
        rest = [c for c in df.columns if c != "period"]
        if len(rest) >= 3 and all(
            is_number(v) or is_missing(v) for v in df[rest].to_numpy().ravel()
        ):
            t = df.sort_values("period", kind="stable")
            prev, cur = t.iloc[0], t.iloc[1]
            return pd.DataFrame(
                {
                    "metric": rest,
                    "current": [cur[c] for c in rest],
                    "previous": [prev[c] for c in rest],
                    "diff": [
                        cur[c] - prev[c] if is_number(cur[c]) and is_number(prev[c]) else None
                        for c in rest
                    ],
                }
            )
    if "metric" not in df.columns:
        return df
    out = df.rename(columns={k: v for k, v in _AS_ROWS.items() if k in df.columns})
    for a, b in _COALESCE:
        if a in out.columns:
            out[b] = out[a].where(out[a].notna(), out[b]) if b in out.columns else out[a]
            out = out.drop(columns=[a])
    first = [c for c in _FIRST if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def _row_kind(metric: Any, col: str) -> Kind:
    kind = kind_of(str(metric))
    return change_kind(kind) if col.startswith(("diff", "change")) else kind


def _text_width(s: str) -> float:
    """Rough width in CSS px of table text (0.9 × 15 px font): CJK a full em."""
    return sum(13.5 if ord(ch) > 0x2E80 else 7.6 for ch in s)


def _column_width(header: str, cells: Sequence[str]) -> float:
    """Width a column needs: its widest cell, or its longest header word (headers wrap)."""
    words = header.split() or [header]
    head = max(
        min(_text_width(w), 4 * 13.5) if any(ord(c) > 0x2E80 for c in w) else _text_width(w)
        for w in words
    )
    return max([head, *(_text_width(c) for c in cells)]) + 22


def _column_texts(df: pd.DataFrame, lang: str) -> list[tuple[str, list[str], bool]]:
    """``(header, cell texts, numeric)`` per shown column; intervals folded into one."""
    cols = [col_name(c) for c in df.columns]
    metrics = list(df["metric"]) if "metric" in cols else None
    out: list[tuple[str, list[str], bool]] = []
    for i, c in enumerate(cols):
        if c.endswith("_ci_high") and c.removesuffix("_ci_high") + "_ci_low" in cols:
            continue
        series = df.iloc[:, i].tolist()
        numeric = bool(len(series)) and all(is_number(v) or is_missing(v) for v in series)
        if c.endswith("_ci_low") and c.removesuffix("_ci_low") + "_ci_high" in cols:
            base = c.removesuffix("_ci_low")
            highs = df.iloc[:, cols.index(base + "_ci_high")].tolist()
            kinds = [
                _row_kind(m, base) if metrics and base in _ROW_VALUES else kind_of(base)
                for m in (metrics or [None] * len(series))
            ]
            kinds = [change_kind(k) if _signed(base) else k for k in kinds]
            texts = [
                fmt_interval(lo, hi, k, lang)
                for lo, hi, k in zip(series, highs, kinds, strict=True)
            ]
            if any(texts) or not series:  # an interval no row has is left out
                out.append((labels.label(base + "_interval", lang), texts, True))
            continue
        if metrics is not None and c in _ROW_VALUES:
            texts = [
                fmt(v, _row_kind(m, c), lang, signed=c in ("diff", "change"))
                if is_number(v)
                else cell_text(c, v, lang)
                for m, v in zip(metrics, series, strict=True)
            ]
        elif numeric and _signed(c):
            texts = [fmt(v, kind_of(c), lang, signed=True) for v in series]
        else:
            texts = [cell_text(c, v, lang) for v in series]
        out.append((labels.label(c, lang), texts, numeric))
    return out


def display_table(df: pd.DataFrame, lang: str) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers (labels), formatted rows and which columns are numeric, metrics as rows."""
    import pandas as pd  # noqa: PLC0415

    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    columns = _column_texts(metrics_as_rows(df), lang)
    headers = [h for h, _, _ in columns]
    rows = [list(r) for r in zip(*(t for _, t, _ in columns), strict=True)] if columns else []
    return headers, rows, [n for _, _, n in columns]


def split_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    width: float = PAGE_WIDTH,
) -> list[tuple[list[str], list[list[str]], list[bool]]]:
    """A table too wide for the page as several, each repeating the leading key columns.

    Keys are the leading text columns (period, source, product; at most two). Columns go
    to the current part while it fits in ``width`` (CSS px, estimated from the text).
    """
    if not headers:
        return [(list(headers), [list(r) for r in rows], list(numeric))]
    widths = [_column_width(h, [r[j] for r in rows]) for j, h in enumerate(headers)]
    if sum(widths) <= width:
        return [(list(headers), [list(r) for r in rows], list(numeric))]
    keys = 0
    while keys < min(2, len(headers) - 1) and not numeric[keys]:
        keys += 1
    parts: list[list[int]] = [[]]
    used = sum(widths[:keys])
    for j in range(keys, len(headers)):
        if parts[-1] and used + widths[j] > width:
            parts.append([])
            used = sum(widths[:keys])
        parts[-1].append(j)
        used += widths[j]
    out = []
    for part in parts:
        idx = list(range(keys)) + part
        out.append(
            (
                [headers[j] for j in idx],
                [[r[j] for j in idx] for r in rows],
                [numeric[j] for j in idx],
            )
        )
    return out


# ----------------------------------------------------------------- headline figures


class HeadlineLike(Protocol):
    """What the headline formatting reads of a :class:`~shopmetrics.report.Headline`."""

    @property
    def name(self) -> str: ...
    @property
    def change(self) -> float | None: ...
    @property
    def significant(self) -> bool | None: ...
    @property
    def unit(self) -> str: ...
    @property
    def fmt(self) -> str: ...
    @property
    def is_percent(self) -> bool: ...


def headline_kind(h: HeadlineLike) -> Kind:
    """The kind of a headline figure: its ``fmt`` when given, else its name's."""
    if h.is_percent:
        return "rate"
    if h.fmt == "integer":
        return "count"
    if h.unit in ("¥", "￥", "元", "CNY"):
        return "money"
    kind = kind_of(h.name)
    return "ratio" if h.fmt == "number" and kind in ("number", "count") else kind


def fmt_headline(h: HeadlineLike, value: float | None, lang: str = "en") -> str:
    """A headline value in its kind's format (a unit other than money's put before it)."""
    if value is None:
        return "–"
    kind = headline_kind(h)
    text = fmt(value, kind, lang)
    if h.unit and kind != "money":
        text = f"{h.unit}{text}"
    return text


def fmt_change(h: HeadlineLike, lang: str = "en") -> str:
    """Absolute change with its sign (percentage points for a rate; no sign at zero)."""
    if h.change is None:
        return "–"
    return fmt(h.change, change_kind(headline_kind(h)), lang, signed=True)


def fmt_rel(value: float | None) -> str:
    """A relative change as a signed percentage (one decimal; no sign at zero)."""
    if value is None or is_missing(value):
        return "–"
    if abs(value) < 0.0005:
        return "0.0%"
    return f"{'+' if value > 0 else '-'}{abs(value) * 100:.1f}%"


def fmt_significant(h: HeadlineLike, lang: str) -> str:
    """``significant`` / ``not significant`` / empty when not tested."""
    if h.significant is None:
        return ""
    return labels.text("significant" if h.significant else "not_significant", lang)


LOWER_IS_BETTER = frozenset(
    {
        "bounce_rate",
        "refund_rate",
        "refund_amount",
        "cost",
        "spend",
        "cpc",
        "cpm",
        "cpa",
        "visitor_cost",
    }
)
"""Metrics for which a rise is bad news."""


def rise_is_red(lang: str) -> bool:
    """Whether a rise is drawn red: ``rise_colour`` of the configuration, else the market's
    convention (red in zh / 生意参谋, green in en)."""
    choice = get_config().rise_colour
    if choice == "auto":
        return lang == "zh"
    return choice == "red"


def tone(name: str, change: float | None, significant: bool | None, lang: str) -> str:
    """The CSS class of a change: ``rise`` / ``fall`` (coloured by market) for a
    significant change, ``neutral`` otherwise; ``good`` / ``bad`` is not guessed here, the
    reader's market decides which colour a rise gets."""
    if change is None or not significant or _rounds_to_zero(change, "number"):
        return "neutral"
    return "rise" if change > 0 else "fall"


# ----------------------------------------------------------------- report meta


class ReportLike(Protocol):
    """What the meta line reads of a report."""

    @property
    def week(self) -> str: ...
    @property
    def period(self) -> tuple[dt.date, dt.date] | None: ...
    @property
    def generated_at(self) -> dt.datetime | None: ...


def _period_text(report: ReportLike) -> str:
    if report.period is None:
        return ""
    a, b = report.period
    return f"{a:%Y-%m-%d} – {b:%Y-%m-%d}"


def _generated_text(report: ReportLike) -> str:
    g = report.generated_at
    if g is None:
        return ""
    text = g.strftime("%Y-%m-%d %H:%M")
    if g.tzinfo is not None:
        text += " " + (g.tzname() or "")
    return text.strip()


def meta_items(report: ReportLike, lang: str) -> list[tuple[str, str]]:
    """``(label, text)`` of the week, the period and the time stamp, those the report has."""
    items = [
        (labels.text("week", lang), report.week),
        (labels.text("period", lang), _period_text(report)),
        (labels.text("generated", lang), _generated_text(report)),
    ]
    return [(k, v) for k, v in items if v]


# ----------------------------------------------------------------- flags

_EVIDENCE_KINDS: dict[str, dict[str, Kind]] = {
    "mix_shift": {"mix_effect": "rate_pp", "rate_effect": "rate_pp"},
    "anomaly": {"value": "count"},
}
"""Evidence keys whose kind depends on the flag (a mix effect of a rate is in pp)."""
_EVIDENCE_SHORT = 4
"""Items of the evidence shown in its one line (the rest is in the folded detail)."""


def _item_text(code: str, key: str, value: Any, lang: str) -> str:
    kind = _EVIDENCE_KINDS.get(code, {}).get(key) or kind_of(key)
    if is_number(value):
        return fmt(value, kind, lang, signed=_signed(key))
    if isinstance(value, str) and labels.value_label(key, value, lang) is None:
        return labels.translate(_iso_text(value), lang)  # a detector's words
    return cell_text(key, value, lang, kind)


def labelled_items(code: str, mapping: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """``(label, formatted value)`` of a flag's evidence or replacement figures."""
    return [
        (labels.label(str(k), lang), _item_text(code, str(k), v, lang))
        for k, v in mapping.items()
        if not is_missing(v)
        if not isinstance(v, list | tuple | Mapping)
    ] + [
        (labels.label(str(k), lang), _item_text(code, str(k), v, lang))
        for k, v in mapping.items()
        if isinstance(v, list | tuple | Mapping)
    ]


def items_line(items: Sequence[tuple[str, str]], lang: str, limit: int | None = None) -> str:
    """``label value · label value …``: one readable line (the first ``limit`` items)."""
    shown = items if limit is None else items[:limit]
    sep = "：" if lang == "zh" else ": "
    line = " · ".join(f"{k}{sep}{v}" for k, v in shown)
    if limit is not None and len(items) > limit:
        line += " …"
    return line


def evidence_line(f: Flag, lang: str) -> str:
    """The evidence of a flag as one short line (the first few numbers, formatted)."""
    return items_line(labelled_items(f.code, f.evidence, lang), lang, _EVIDENCE_SHORT)


def kv(mapping: Mapping[str, Any], lang: str = "en", limit: int = 300, code: str = "") -> str:
    """``label: value · ...`` with values formatted by their names (at most ``limit`` chars)."""
    out = items_line(labelled_items(code, mapping, lang), lang)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def subject_text(f: Flag, lang: str = "en") -> str:
    """What a finding is about: ``label: value, ...`` of its subject."""
    sep = "：" if lang == "zh" else ": "
    return ", ".join(
        f"{labels.label(str(k), lang)}{sep}{cell_text(str(k), v, lang)}"
        for k, v in f.subject.items()
    )


def flag_message(f: Flag, lang: str) -> str:
    """The sentence shown for a flag: its own in English; in Chinese its evidence line
    (the detectors write English sentences; the numbers say the same in any language)."""
    return labels.words(f.message, "en") if lang == "en" else evidence_line(f, lang)


# ----------------------------------------------------------------- notebook views


def flags_rows(flags: Sequence[Flag], lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a table of flags: severity, title, subject, message, what to
    do, the figures to use instead (labelled and formatted)."""
    headers = [
        labels.label(c, lang)
        for c in ("severity", "code", "subject", "message", "action", "instead")
    ]
    rows = [
        [
            labels.text(f.severity, lang),
            labels.flag_title(f.code, lang),
            subject_text(f, lang),
            flag_message(f, lang),
            labels.flag_action(f.code, lang),
            kv(f.instead, lang, code=f.code) if f.instead else "",
        ]
        for f in flags
    ]
    return headers, rows


def flags_html(flags: Sequence[Flag], lang: str = "en") -> str:
    """The flags as one escaped HTML table (the notebook view of ``result.flags``)."""
    if not flags:
        return f"<p>{labels.text('no_flags', lang)}</p>"
    headers, rows = flags_rows(flags, lang)
    return str(html_table(headers, rows, caption=f"{labels.text('flags', lang)} ({len(flags)})"))
