"""The views of a result a reader sees in a notebook or a script: Markdown, HTML, text.

Every result's ``to_markdown`` / ``to_html`` / ``_repr_html_`` / ``__repr__`` goes through
here, and from here through the label layer (:mod:`shopmetrics.report.labels`: column,
metric, enumeration, method and flag words in English or Chinese) and the figure rules of
:mod:`shopmetrics.report.format` (one format per kind of figure). The result's own table
keeps its code names: they are the API; only the views are in words.

- A figure with an interval is followed by one column ``low – high``.
- A long table shows its first and last rows, with how many are between
  (:func:`split_rows`: 20 rows shown by default, the last quarter of them from the end).
- The heading says what the result is, its rows, the definition and the methods
  (interval, correction, model, confidence) as words.

Examples:
    >>> split_rows(100, 20)
    ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 95, 96, 97, 98, 99], 15, 80)
    >>> split_rows(3, 20)
    ([0, 1, 2], 3, 0)
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shopmetrics.display import html_table, is_missing
from shopmetrics.report import format as fm
from shopmetrics.report import labels

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag

MAX_ROWS = 20
"""Rows a view shows of a long table (the first 15 and the last 5)."""

REPR_ROWS = 5
"""Rows ``repr`` shows (the first ones)."""

REPR_COLUMNS = 6
"""Columns ``repr`` shows (the first ones)."""

REPR_WIDTH = 80
"""Longest piece of the ``repr`` heading (a long definition is cut)."""

KINDS: dict[str, dict[str, fm.Kind]] = {
    "ab_test": {"rate": "rate", "control_rate": "rate", "diff": "rate_pp"},
    "ctr_test": {"rate": "rate", "control_rate": "rate", "diff": "rate_pp"},
    "sample_size": {"baseline": "rate", "target": "rate", "lift": "rate"},
    "customer_value": {"monetary_value": "money", "expected_spend": "money"},
}
"""Kinds of figure a result's columns hold where the name alone does not say (an A/B
test's ``rate`` is a proportion, its ``diff`` a difference of proportions)."""

_ROW_VALUES = frozenset({"previous", "current", "value", "peer_avg", "diff"})
"""Columns of a table with a ``metric`` column whose figures have the row's metric's kind."""

_METHODS = ("ci_method", "correction", "model", "models", "attribution", "confidence")
"""Parameters of a call shown in the heading, as words."""

_CJK = re.compile(r"[\u3400-\u9fff]")
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b(?!\.[A-Za-z])")
"""A code name in a sentence (not a file name: ``sycm_source.csv`` is data)."""


class Shown(Protocol):
    """What the views read of a result (:class:`shopmetrics.results.Result`)."""

    @property
    def table(self) -> pd.DataFrame: ...
    @property
    def flags(self) -> Sequence[Flag]: ...
    @property
    def definition(self) -> str: ...
    @property
    def meta(self) -> Mapping[str, Any]: ...
    @property
    def kind(self) -> str: ...
    def display_tables(self) -> list[tuple[str, pd.DataFrame]]: ...


# ----------------------------------------------------------------- rows and cells


def split_rows(n: int, max_rows: int = MAX_ROWS) -> tuple[list[int], int, int]:
    """``(positions shown, how many come before the gap, rows not shown)`` of ``n`` rows:
    all of them when they fit, else the first and the last (a quarter of ``max_rows``)."""
    if n <= max_rows:
        return list(range(n)), n, 0
    tail = max(max_rows // 4, 1)
    head = max(max_rows - tail, 1)
    return [*range(head), *range(n - tail, n)], head, n - head - tail


def _kind(col: str, metric: Any, kinds: Mapping[str, fm.Kind]) -> fm.Kind:
    if col in kinds:
        return kinds[col]
    if metric is not None and col in _ROW_VALUES:
        kind = fm.kind_of(str(metric))
        return fm.change_kind(kind) if col == "diff" else kind
    return fm.kind_of(col)


def interval_text(low: Any, high: Any, kind: fm.Kind, lang: str, *, signed: bool = False) -> str:
    """``low – high`` in the figure's format (empty when either end is missing).

    Examples:
        >>> interval_text(0.0123, 0.0234, "rate", "en"), interval_text(-0.001, 0.002, "rate_pp", "zh")
        ('1.23% – 2.34%', '-0.10 – +0.20 个百分点')
    """
    if is_missing(low) or is_missing(high):
        return ""
    signed = signed or kind == "rate_pp"
    a = fm.fmt(low, kind, lang, signed=signed)
    b = fm.fmt(high, kind, lang, signed=signed)
    if kind == "rate_pp":
        a = a.removesuffix(f" {labels.text('pp', lang)}")
    return f"{a} – {b}"


def header(col: str, lang: str) -> str:
    """A column's label; a column named after a method (an attribution model) its words."""
    if not labels.has_label(col) and labels.term(col, lang) != col:
        return labels.term(col, lang)
    return labels.label(col, lang)


def columns(
    df: pd.DataFrame, lang: str, kinds: Mapping[str, fm.Kind] | None = None
) -> list[tuple[str, list[str], bool]]:
    """``(label, cell texts, numeric)`` per column: labelled, each figure formatted by its
    kind, enumerations in words, a ``*_ci_low`` / ``*_ci_high`` pair as one interval."""
    kinds = kinds or {}
    cols = [fm.col_name(c) for c in df.columns]
    metrics = df.iloc[:, cols.index("metric")].tolist() if "metric" in cols else None
    out: list[tuple[str, list[str], bool]] = []
    for i, c in enumerate(cols):
        base = c.removesuffix("_ci_low").removesuffix("_ci_high")
        paired = base != c and {base + "_ci_low", base + "_ci_high"} <= set(cols)
        if paired and c.endswith("_ci_high"):
            continue
        values = df.iloc[:, i].tolist()
        rows = metrics or [None] * len(values)
        if paired:
            highs = df.iloc[:, cols.index(base + "_ci_high")].tolist()
            signed = fm._signed(base)  # the one rule of which figures are changes
            texts = [
                interval_text(lo, hi, _kind(base, m, kinds), lang, signed=signed)
                for lo, hi, m in zip(values, highs, rows, strict=True)
            ]
            if any(texts) or not values:  # an interval no row has is left out
                out.append((labels.label(base + "_interval", lang), texts, True))
            continue
        numeric = bool(values) and all(fm.is_number(v) or is_missing(v) for v in values)
        signed = fm._signed(c)
        texts = [
            fm.fmt(v, _kind(c, m, kinds), lang, signed=signed)
            if fm.is_number(v)
            else fm.cell_text(c, v, lang)
            for v, m in zip(values, rows, strict=True)
        ]
        out.append((header(c, lang), texts, numeric))
    return out


def table_texts(
    df: pd.DataFrame,
    lang: str,
    max_rows: int = MAX_ROWS,
    kinds: Mapping[str, fm.Kind] | None = None,
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers, the rows shown (a gap row between the first and the last ones of a long
    table, saying how many are not shown) and which columns are numeric."""
    import pandas as pd  # noqa: PLC0415

    if not isinstance(df.index, pd.RangeIndex) and any(n is not None for n in df.index.names):
        df = df.reset_index()  # a named index is a column to show (a row position is not)
    positions, head, hidden = split_rows(len(df), max_rows)
    cols = columns(df.iloc[positions].reset_index(drop=True), lang, kinds)
    headers = [h for h, _, _ in cols]
    rows = [list(r) for r in zip(*(t for _, t, _ in cols), strict=True)] if cols else []
    if hidden and headers:
        gap = [""] * len(headers)
        gap[0] = f"… {hidden:,} {labels.text('rows_between', lang)} …"
        rows = [*rows[:head], gap, *rows[head:]]
    return headers, rows, [n for _, _, n in cols]


# ----------------------------------------------------------------- Markdown and HTML


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] = ()
) -> str:
    """A GitHub-flavoured Markdown table of display text (numbers right-aligned)."""
    if not headers:
        return ""
    right = list(numeric) or [False] * len(headers)
    lines = [
        "| " + " | ".join(_md_cell(h) for h in headers) + " |",
        "|" + "".join("---:|" if r else "---|" for r in right),
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def flags_markdown(flags: Sequence[Flag], lang: str) -> str:
    """The flags as a captioned Markdown table (severity, title, where, message, what to
    do, what to use instead), in ``lang``."""
    if not flags:
        return ""
    headers, rows = fm.flags_rows(flags, lang)
    return f"**{labels.text('flags', lang)} ({len(flags)})**\n\n" + markdown_table(headers, rows)


def code_words(sentence: str, lang: str) -> str:
    """A sentence with every code name in it as words (labels, method names, or words)."""
    said = labels.words(sentence, lang)

    def one(m: re.Match[str]) -> str:
        code = m.group(0)
        known = labels.term(code, lang)
        return known if known != code else labels.humanise(code)

    return _CODE.sub(one, said)


def definition_text(definition: str, lang: str) -> str:
    """The definition a result applied, in words; empty in Chinese when it is an English
    sentence the catalogue cannot translate (the methods line says the methods)."""
    if not definition:
        return ""
    named = labels.term(definition, lang)
    if named != definition:
        return named
    if lang == "en":
        return code_words(definition, lang)
    said = labels.translate(definition, lang)
    return said if said != labels.words(definition, lang) and _CJK.search(said) else ""


def _method_value(key: str, value: Any, lang: str) -> str:
    if key == "confidence":
        return f"{float(value) * 100:g}%" if fm.is_number(value) else ""
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(
            filter(None, (_method_value(key, v, lang) for v in value))
        )
    if not isinstance(value, str):
        return ""
    named = labels.term(value, lang)
    return named if named != value else ""


def heading(result: Shown, lang: str) -> list[str]:
    """What the result is, its rows, definition and methods: the pieces of its heading."""
    labels.check_lang(lang)
    kind = result.kind
    what = labels.label(kind, lang) if labels.has_label(kind) else labels.text("result", lang)
    sep = "：" if lang == "zh" else ": "
    parts = [what, f"{len(result.table):,} {labels.text('rows', lang)}"]
    definition = definition_text(result.definition, lang)
    if definition:
        parts.append(f"{labels.text('definition', lang)}{sep}{definition}")
    for key in _METHODS:
        shown = _method_value(key, result.meta.get(key), lang)
        if shown and shown != definition:
            parts.append(f"{labels.label(key, lang)}{sep}{shown}")
    return parts


def _caption(key: str, lang: str) -> str:
    return labels.text(key, lang) if key else ""


def markdown_parts(result: Shown, lang: str = "en", max_rows: int = MAX_ROWS) -> list[str]:
    """The blocks of a result's Markdown: heading, tables, flags."""
    first, *rest = heading(result, lang)
    parts = [" · ".join([f"**{first}**", *rest])]
    kinds = KINDS.get(result.kind, {})
    for key, df in result.display_tables():
        table = markdown_table(*table_texts(df, lang, max_rows, kinds))
        parts.append(f"**{_caption(key, lang)}**\n\n{table}" if key else table)
    if result.flags:
        parts.append(flags_markdown(result.flags, lang))
    return [p for p in parts if p]


def html_fragment(result: Shown, lang: str = "en", max_rows: int = MAX_ROWS) -> str:
    """A result as one escaped HTML fragment: heading, tables, flags."""
    head = " · ".join(html.escape(p) for p in heading(result, lang))
    parts = [f"<div class='sm-result'><p><strong>{head}</strong></p>"]
    kinds = KINDS.get(result.kind, {})
    for key, df in result.display_tables():
        headers, rows, numeric = table_texts(df, lang, max_rows, kinds)
        caption = _caption(key, lang)
        name = caption or labels.text("table", lang)
        parts.append(str(html_table(headers, rows, numeric=numeric, caption=caption, name=name)))
    if result.flags:
        parts.append(fm.flags_html(result.flags, lang))
    parts.append("</div>")
    return "".join(parts)


# ----------------------------------------------------------------- validation


def problems_frame(problems: Sequence[Flag], lang: str) -> pd.DataFrame:
    """Validation problems as a table to show: severity, title, table, columns, rows
    affected, the sentence (in Chinese its evidence) and the action, in ``lang``."""
    import pandas as pd  # noqa: PLC0415

    cols = ["severity", "code", "table", "column", "n_rows", "message", "action"]
    rows = [
        [
            p.severity,
            p.code,
            p.table,
            ", ".join(labels.label(c.strip(), lang) for c in (p.column or "").split(",") if c),
            p.n_rows,
            code_words(fm.flag_message(p, lang), lang),
            labels.flag_action(p.code, lang),
        ]
        for p in problems
    ]
    return pd.DataFrame(rows, columns=cols)


def validation_heading(rows: Mapping[str, int], errors: int, warnings: int, lang: str) -> str:
    """``Validation: 1 errors, 0 warnings · Orders 53 rows``, in ``lang``."""
    labels.check_lang(lang)
    sep = "、" if lang == "zh" else ", "
    checked = sep.join(
        f"{labels.value_label('table', t, lang) or t} {fm.fmt(n, 'count')} {labels.text('rows', lang)}"
        for t, n in rows.items()
    )
    found = (
        f"{errors} {labels.text('errors', lang)}{sep}{warnings} {labels.text('warnings', lang)}"
        if errors or warnings
        else labels.text("no_problems", lang)
    )
    colon = "：" if lang == "zh" else ": "
    return f"{labels.text('validation', lang)}{colon}{found} · {checked}"


# ----------------------------------------------------------------- repr


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]
) -> str:
    """Aligned plain-text columns (numbers to the right)."""
    widths = [max([len(h), *(len(r[j]) for r in rows)]) for j, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def text_repr(result: Shown) -> str:
    """A terse text view: class, size, definition and number of flags; the first rows and
    columns labelled and formatted (English), and how many rows are not shown."""
    table = result.table
    definition = result.definition
    if len(definition) > REPR_WIDTH:
        definition = definition[: REPR_WIDTH - 1] + "…"
    head = (
        f"{type(result).__name__}({len(table)} rows x {len(table.columns)} columns, "
        f"definition={definition!r}, flags={len(result.flags)})"
    )
    if len(table) == 0 or len(table.columns) == 0:
        return head
    shown = result.display_tables()[-1][1]
    cols = columns(shown.iloc[:REPR_ROWS].reset_index(drop=True), "en", KINDS.get(result.kind))
    cols = cols[:REPR_COLUMNS]
    rows = [list(r) for r in zip(*(t for _, t, _ in cols), strict=True)]
    body = text_table([h for h, _, _ in cols], rows, [x for _, _, x in cols])
    more = len(table) - len(rows)
    tail = f"\n… {more:,} {labels.text('rows_between', 'en')}" if more > 0 else ""
    return f"{head}\n{body}{tail}"
