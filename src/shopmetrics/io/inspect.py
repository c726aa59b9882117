"""``inspect(path)``: what shopmetrics will make of an export, before any metric runs.

It reads the file the way every metric does, and says which export kind it recognised,
where the header is, which encoding was used, the column mapping, what is ignored and why,
which rows will be excluded, and which cells do not parse.

Examples:
    >>> import pathlib, tempfile
    >>> from shopmetrics.io.inspect import inspect
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "直通车_计划报表.csv"
    >>> text = "日期,计划名字,展现量,点击量,花费,点击率\\n2026-11-01,计划A,\\"1,000\\",50,120.50,5.00%\\n"
    >>> _ = p.write_text(text, encoding="gbk")
    >>> print(inspect(p))  # doctest: +ELLIPSIS
    直通车_计划报表.csv: 直通车 推广报表 (spend report) [ztc_spend] -> table 'spend'
      grain: 日期 × 场景 × 计划 [× 单元] × 主体 [× 词 | × 人群]
      read: csv, encoding gbk, header on row 1, 1 rows
      columns used:
        日期 -> date
        计划名字 -> campaign
        展现量 -> exposures
        点击量 -> clicks
        花费 -> cost
      ignored:
        点击率: derived rate or ratio: recomputed from the counts, never summed
      rows excluded: none
      cells that do not parse: none
      semantics:
        - without a 场景名字 column every row gets the kind's default source (or source=...)
    ...
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from pathlib import Path

from shopmetrics.audit import Exclusion
from shopmetrics.errors import SchemaError
from shopmetrics.io.convert import LIMIT_PREFIXES, to_canonical
from shopmetrics.io.exports import KINDS, recognise
from shopmetrics.io.files import ReadResult, read_table
from shopmetrics.io.values import ValueProblem
from shopmetrics.report import labels, views

__all__ = ["Inspection", "inspect"]


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Inspection:
    """What :func:`inspect` found.

    Attributes:
        path: The file or folder.
        kind: The export kind's name (``None`` when not recognised).
        table: The canonical table it feeds.
        read: The read record (encoding, header row, title period, files).
        mapping: Header → canonical column.
        ignored: Header → why it is ignored.
        did_you_mean: Unknown header → the known header it resembles.
        excluded: Rows that will be left out, and why.
        problems: Cells that do not parse.
        error: Why the table cannot be used as it is (e.g. a spend report needing ``source=``).
        limits: What the file cannot give (e.g. conversion without a visitors column), and
            rules applied that the export spec marks *unconfirmed*.
    """

    path: str
    kind: str | None
    table: str | None
    read: ReadResult
    mapping: dict[str, str]
    ignored: dict[str, str]
    did_you_mean: dict[str, str]
    excluded: tuple[Exclusion, ...]
    problems: tuple[ValueProblem, ...]
    error: str | None = None
    limits: tuple[str, ...] = ()

    def _lines(self) -> list[tuple[str, list[str]]]:
        """(section, lines) pairs shared by the text and HTML views."""
        kind = KINDS.get(self.kind or "")
        read = [
            f"{f.format}"
            + (f", encoding {f.encoding}" if f.encoding else "")
            + (f", sheet {f.sheet!r}" if f.sheet else "")
            + f", header on row {f.header_row}, {f.rows} rows"
            + (f" ({Path(f.path).name})" if len(self.read.files) > 1 else "")
            for f in self.read.files
        ]
        period = self.read.title_period
        if period:
            read.append("period from the title: " + "~".join(str(d.date()) for d in period))
        sections = [
            ("grain", [kind.grain] if kind else []),
            ("read", read),
            ("columns used", [f"{h} -> {c}" for h, c in self.mapping.items()]),
            ("ignored", [f"{h}: {r}" for h, r in self.ignored.items()]),
            ("did you mean", [f"{h!r} -> {g!r}" for h, g in self.did_you_mean.items()]),
            (
                "rows excluded",
                [f"{e.reason.replace('_', ' ')}s: {e.rows} ({e.detail})" for e in self.excluded],
            ),
            ("cells that do not parse", [str(p) for p in self.problems]),
            ("cannot give / unconfirmed rules", [f"- {n}" for n in self.limits]),
            ("semantics", [f"- {n}" for n in (kind.notes if kind else ())]),
            ("notes", [f"- {n}" for n in self.read.notes()[len(self.read.files) :]]),
        ]
        if self.error:
            sections.insert(0, ("cannot use it yet", [self.error]))
        return sections

    def _heading(self) -> str:
        name = Path(self.path).name
        kind = KINDS.get(self.kind or "")
        if kind is None:
            return f"{name}: not a known export kind"
        return f"{name}: {kind.title} [{kind.name}] -> table {self.table!r}"

    def __str__(self) -> str:
        out = [self._heading()]
        for title, lines in self._lines():
            if title == "grain":
                out.extend(f"  grain: {ln}" for ln in lines)
            elif title == "read":
                out.extend(f"  read: {ln}" for ln in lines)
            elif not lines and title in ("rows excluded", "cells that do not parse"):
                out.append(f"  {title}: none")
            elif lines:
                out.append(f"  {title}:")
                out.extend(f"    {ln}" for ln in lines)
        return "\n".join(out)

    def __repr__(self) -> str:
        return (
            f"<Inspection {Path(self.path).name}: {self.kind}, {len(self.mapping)} columns mapped>"
        )

    # views in words (Markdown, HTML): through the label layer, in English or Chinese
    def _said(self, sentence: str, lang: str) -> str:
        """A sentence of the export spec in ``lang`` (empty in Chinese when the catalogue
        has no Chinese for it: the English view says it)."""
        if lang == "en":
            return views.code_words(sentence, lang)
        said = labels.translate(sentence, lang)
        return said if said != labels.words(sentence, lang) else ""

    def _view_heading(self, lang: str) -> str:
        name = Path(self.path).name
        sep = "：" if lang == "zh" else ": "
        kind = KINDS.get(self.kind or "")
        if kind is None:
            return f"{name}{sep}{labels.text('inspect_unknown', lang)}"
        title = kind.title if lang == "en" else _LATIN_ASIDE.sub("", kind.title)
        table = labels.value_label("table", self.table or "", lang) or (self.table or "")
        return f"{name}{sep}{title} → {labels.text('inspect_table', lang)} {table}"

    def _read_lines(self, lang: str) -> list[str]:
        zh = lang == "zh"
        out = []
        for f in self.read.files:
            parts = [f.format]
            if f.encoding:
                parts.append(f"编码 {f.encoding}" if zh else f"encoding {f.encoding}")
            if f.sheet:
                parts.append(f"工作表 {f.sheet}" if zh else f"sheet {f.sheet!r}")
            parts.append(f"表头在第 {f.header_row} 行" if zh else f"header on row {f.header_row}")
            parts.append(f"{f.rows:,} {labels.text('rows', lang)}")
            out.append(("，" if zh else ", ").join(parts))
        period = self.read.title_period
        if period:
            days = "~".join(str(d.date()) for d in period)
            out.append(f"标题中的统计周期：{days}" if zh else f"period from the title: {days}")
        return out

    def _view_sections(self, lang: str) -> list[tuple[str, list[str]]]:
        """(section title, lines) in ``lang``; the sentences without Chinese words counted."""
        labels.check_lang(lang)
        sep = "：" if lang == "zh" else ": "
        kind = KINDS.get(self.kind or "")

        def reason(code: str) -> str:
            return labels.value_label("code", code, lang) or labels.label(code, lang)

        def said(lines: Sequence[str]) -> list[str]:
            return [t for t in (self._said(n, lang) for n in lines) if t]

        sentences = [
            *([kind.grain, *kind.notes] if kind else []),
            *self.limits,
            *self.read.notes()[len(self.read.files) :],
            *([self.error] if self.error else []),
        ]
        ignored = [
            f"{h}{sep}{t}" if (t := self._said(r, lang)) else h for h, r in self.ignored.items()
        ]
        sections = [
            ("inspect_error", said([self.error] if self.error else [])),
            ("inspect_grain", said([kind.grain] if kind else [])),
            ("inspect_read", self._read_lines(lang)),
            (
                "inspect_columns",
                [f"{h} → {labels.label(c, lang)}" for h, c in self.mapping.items()],
            ),
            ("inspect_ignored", ignored),
            ("inspect_did_you_mean", [f"{h} → {g}" for h, g in self.did_you_mean.items()]),
            (
                "inspect_excluded",
                [
                    f"{reason(e.reason)}{sep}{e.rows:,}"
                    + (f" ({t})" if (t := self._said(e.detail, lang)) else "")
                    for e in self.excluded
                ],
            ),
            (
                "inspect_problems",
                [
                    f"{labels.label(p.column, lang)}{sep}{reason(p.reason)} × {p.count:,} "
                    f"({', '.join(map(str, p.examples[:3]))})"
                    for p in self.problems
                ],
            ),
            ("inspect_limits", said(self.limits)),
            ("inspect_semantics", said(kind.notes if kind else ())),
            ("inspect_notes", said(self.read.notes()[len(self.read.files) :])),
        ]
        untold = sum(1 for n in sentences if n and not self._said(n, lang))
        if untold:
            sections.append(
                ("inspect_notes", [f"{untold} {labels.text('inspect_english_only', lang)}"])
            )
        return [(labels.text(t, lang), lines) for t, lines in sections if lines]

    def to_markdown(self, *, lang: str = "en") -> str:
        """What the file will be read as, in words, as Markdown in ``lang`` (``"en"`` or ``"zh"``)."""
        parts = [f"**{self._view_heading(lang)}**"]
        for title, lines in self._view_sections(lang):
            parts.append(f"**{title}**\n\n" + "\n".join(f"- {ln}" for ln in lines))
        return "\n\n".join(parts)

    def to_html(self, *, lang: str = "en") -> str:
        """:meth:`to_markdown` as an escaped HTML fragment (the notebook view)."""
        parts = [f"<h4>{html.escape(self._view_heading(lang))}</h4>"]
        for title, lines in self._view_sections(lang):
            items = "".join(f"<li>{html.escape(ln)}</li>" for ln in lines)
            parts.append(f"<p><strong>{html.escape(title)}</strong></p><ul>{items}</ul>")
        return '<div class="sm-inspection">' + "".join(parts) + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()


_LATIN_ASIDE = re.compile(r"\s*\([^)]*[A-Za-z]{2,}[^)]*\)")
"""An English aside in an export kind's title (``直通车 推广报表 (spend report)``)."""


def inspect(
    path: str | Path, *, kind: str | None = None, sheet: str | int | None = None
) -> Inspection:
    """Say what shopmetrics will read from an export file or folder.

    Args:
        path: The file or folder (as for :func:`~shopmetrics.io.files.read_table`).
        kind: Force an export kind.
        sheet: Worksheet (Excel).

    Raises:
        ReadError: when the file cannot be read at all (empty, undecodable, ...).
    """
    read = read_table(path, kind=kind, sheet=sheet)
    hint = " ".join([str(path), *(t for f in read.files for t in f.title)])
    rec = recognise(list(read.data.columns), kind=kind, hint=hint)
    try:
        canonical = to_canonical(read, kind=kind)
    except SchemaError as exc:
        return Inspection(
            str(path), rec.kind.name if rec.kind else None, rec.kind.table if rec.kind else None,
            read, rec.mapping, rec.ignored, rec.did_you_mean, read.exclusions(), (), str(exc),
        )  # fmt: skip
    mapping = dict(canonical.mapping)
    if "date" in canonical.data.columns and "date" not in mapping.values():
        mapping["(period of the title rows)"] = "date"
    return Inspection(
        str(path),
        canonical.kind,
        canonical.table,
        read,
        mapping,
        canonical.ignored,
        rec.did_you_mean,
        canonical.excluded,
        canonical.problems,
        limits=tuple(n for n in canonical.notes if n.startswith(LIMIT_PREFIXES)),
    )
