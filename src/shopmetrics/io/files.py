"""Read a store export (or a folder of them) into a table of text, and say what was done.

:func:`read_table` is the one reader for every entry point (the Python API and the CLI):

- formats by content, not only by name: ``.csv`` / ``.tsv`` / ``.txt``, ``.xlsx``, real
  BIFF ``.xls``, the HTML or tab-separated text that web back-ends send named ``.xls``,
  ``.parquet``, and a folder of same-kind files (concatenated, each file's rows counted);
- encodings by strict decoding: UTF-8, UTF-8 with BOM, GBK, GB18030 (the one used is
  recorded);
- the header row found below title rows (the first :data:`~shopmetrics.io._sources.SCAN_ROWS`
  rows are scanned for known headers), and a date or date range in the title
  (``统计日期：2026-11-01~2026-11-07``) kept for tables without a date column;
- headers trimmed of spaces and a leading ``=``; Excel guards (``="3412…"``, a leading
  ``'`` or tab) unwrapped; every cell kept as text (ids never pass through a float);
- summary rows (汇总, 合计, 总计, 全部 in the first column or a source-level column)
  excluded and counted, like blank rows and trailing note rows.

Why these readers: see :mod:`shopmetrics.io._sources` (pandas' C parser with
``dtype=str`` for text files: one pass in C and nothing inferred, so the cost over a plain
``pandas.read_csv`` is the trimming and guard checks; python-calamine for both Excel
formats; the standard library for HTML).

Examples:
    >>> import pathlib, tempfile
    >>> from shopmetrics.io.files import read_table
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> text = ("生意参谋-商品-商品效果\\n统计日期：2026-11-01~2026-11-07\\n\\n"
    ...         "商品ID,商品访客数 ,支付金额\\n总计,\\"1,391\\",\\"34,895.00\\"\\n"
    ...         '="0012345",391,"4,895.00"\\n="0012346",1000,"30,000.00"\\n')
    >>> _ = (folder / "商品效果.csv").write_bytes(text.encode("gbk"))
    >>> r = read_table(folder / "商品效果.csv")
    >>> r.data
      商品ID 商品访客数       支付金额
    0  0012345   391   4,895.00
    1  0012346  1000  30,000.00
    >>> r.encoding, r.header_row, r.summary_rows, r.kind
    ('gbk', 4, 1, 'sycm_product')
    >>> [str(d.date()) for d in r.title_period]
    ['2026-11-01', '2026-11-07']
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopmetrics.audit import Exclusion
from shopmetrics.io._sources import (
    SCAN_ROWS,
    ReadError,
    Row,
    Source,
    join_cells,
    list_folder,
    open_source,
)
from shopmetrics.io.exports import (
    SUMMARY_LABELS,
    get_kind,
    header_key,
    is_level_header,
    known_header_keys,
    recognise,
)
from shopmetrics.io.values import parse_period

__all__ = [
    "FileRead",
    "ReadError",
    "ReadResult",
    "clean_headers",
    "find_header",
    "note_rows",
    "read_table",
    "title_period",
]

Period = tuple[pd.Timestamp, pd.Timestamp]


@dataclasses.dataclass(frozen=True, slots=True)
class FileRead:
    """What was done to one file.

    Attributes:
        path: The file.
        format: ``csv``, ``tsv``, ``xlsx``, ``xls``, ``xls-html``, ``xls-text``, ``html``,
            ``parquet``.
        encoding: The text encoding used (``None`` for binary formats).
        sheet: The worksheet read (Excel).
        header_row: 1-based row of the header in the file (or sheet).
        title: The title rows above the header, one line each.
        period: The date or date range of the title rows (or, failing that, the file name).
        rows: Data rows kept.
        summary_rows: Summary rows excluded (汇总 / 合计 / 总计 / 全部).
        note_rows: Trailing one-cell note rows excluded.
        unwrapped: Cells whose Excel guard (``="…"``, ``'``) was removed, by column.
        notes: Anything else worth saying (renamed headers, lossy numbers, ...).
    """

    path: str
    format: str
    encoding: str | None
    sheet: str | None
    header_row: int
    title: tuple[str, ...]
    period: Period | None
    rows: int
    summary_rows: int = 0
    note_rows: int = 0
    unwrapped: dict[str, int] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict (periods as ISO dates)."""
        out = dataclasses.asdict(self)
        out["period"] = [str(d.date()) for d in self.period] if self.period else None
        out["title"] = list(self.title)
        out["notes"] = list(self.notes)
        return out


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class ReadResult:
    """A table read from a file or folder: its cells as text, and a record of the read.

    Attributes:
        data: One column per header (trimmed), every cell a string or missing.
        path: What was read.
        files: One :class:`FileRead` per file, in the order concatenated.
        kind: The export kind recognised from the headers (``None`` if none).
        excluded: The rows left out (summary and note rows), with ``_file``, ``_row`` and
            ``_reason`` columns.
    """

    data: pd.DataFrame
    path: str
    files: tuple[FileRead, ...]
    kind: str | None
    excluded: pd.DataFrame

    @property
    def encoding(self) -> str | None:
        """The encoding used (``"utf-8, gbk"`` when a folder mixes them)."""
        found = list(dict.fromkeys(f.encoding for f in self.files if f.encoding))
        return ", ".join(found) if found else None

    @property
    def header_row(self) -> int:
        """1-based header row of the first file."""
        return self.files[0].header_row

    @property
    def title_period(self) -> Period | None:
        """The span of the files' title periods (``None`` when no title gives a date)."""
        periods = [f.period for f in self.files if f.period]
        if not periods:
            return None
        return min(p[0] for p in periods), max(p[1] for p in periods)

    @property
    def summary_rows(self) -> int:
        """Summary rows excluded, over all files."""
        return sum(f.summary_rows for f in self.files)

    def row_periods(self) -> list[Period | None]:
        """The title period of every data row (its file's), for tables without a date."""
        return [f.period for f in self.files for _ in range(f.rows)]

    def exclusions(self, table: str = "") -> tuple[Exclusion, ...]:
        """The rows left out, as audit records."""
        name = table or Path(self.path).name
        out = []
        summary, notes = self.summary_rows, sum(f.note_rows for f in self.files)
        if summary:
            labels = sorted(set(self.excluded.loc[self.excluded["_reason"] == "summary", "_label"]))
            out.append(Exclusion(name, "summary_row", summary, "labels: " + ", ".join(labels)))
        if notes:
            out.append(Exclusion(name, "note_row", notes, "one-cell rows below the table"))
        return tuple(out)

    def notes(self) -> tuple[str, ...]:
        """Statements for the audit: encoding, header row, title period, guards, ..."""
        out = []
        for f in self.files:
            where = Path(f.path).name + (f" [{f.sheet}]" if f.sheet else "")
            enc = f", {f.encoding}" if f.encoding else ""
            out.append(f"{where}: {f.format}{enc}, header on row {f.header_row}, {f.rows} rows")
            if f.period:
                start, end = (str(d.date()) for d in f.period)
                out.append(f"{where}: period {start}~{end} from the title")
            out.extend(f"{where}: {n}" for n in f.notes)
            if f.unwrapped:
                out.append(f"{where}: Excel guards removed in {dict(f.unwrapped)}")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed record of the read (for an audit or JSON)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "rows": len(self.data),
            "columns": list(self.data.columns),
            "files": [f.to_dict() for f in self.files],
        }


def _clean_header(cell: str | None, position: int) -> str:
    if cell is None:
        return f"unnamed_{position + 1}"
    text = cell.replace("\ufeff", "").strip().strip("\u3000\xa0 \t")
    if text.startswith("="):
        text = text[1:].strip().strip('"').strip()
    return text or f"unnamed_{position + 1}"


def _repair(header: str, known: frozenset[str]) -> str:
    """A header that is UTF-8 read as GBK (鍟嗗搧ID) back to its text (商品ID), if known."""
    if header_key(header) in known:
        return header
    try:
        fixed = header.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header
    return fixed if header_key(fixed) in known else header


def _headers(raw: Sequence[str | None], known: frozenset[str]) -> tuple[list[str], list[str]]:
    """Clean, repaired and de-duplicated headers, and notes about them."""
    notes: list[str] = []
    out: list[str] = []
    for i, cell in enumerate(raw):
        name = _clean_header(cell, i)
        fixed = _repair(name, known)
        if fixed != name:
            notes.append(f"header {name!r} is mis-decoded UTF-8: read as {fixed!r}")
        base, n = fixed, 1
        while fixed in out:
            n += 1
            fixed = f"{base}.{n}"
        if n > 1:
            notes.append(f"header {base!r} repeats: the copy is named {fixed!r}")
        out.append(fixed)
    return out, notes


def find_header(head: Sequence[Row], kind: str | None = None) -> int:
    """Index of the header among the first rows: the row with the most known headers.

    Without two known headers in a row, the first row of two or more cells is taken (title
    rows have one).

    Examples:
        >>> find_header([["生意参谋-商品效果"], ["统计日期：2026-11-01"], [], ["商品ID", "商品访客数"]])
        3
    """
    known = known_header_keys(kind)
    best, best_hits = -1, 1
    for i, row in enumerate(head[:SCAN_ROWS]):
        cells = [c for c in row if c]
        hits = sum(header_key(_repair(_clean_header(c, 0), known)) in known for c in cells)
        if hits > best_hits:
            best, best_hits = i, hits
    if best >= 0:
        return best
    widths = [sum(1 for c in r if c) for r in head[:SCAN_ROWS]]
    return next((i for i, w in enumerate(widths) if w >= 2), -1)


def _unwrap(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Trim every cell and remove Excel guards: ``="…"``, a leading ``'`` (tabs are trimmed).

    Two string kernels per column in the common case (trim, first character); the guard
    and blank-cell work runs only on columns that need it.
    """
    counts: dict[str, int] = {}
    out = {}
    for col in df.columns:
        s = df[col].str.strip()
        first = s.str.slice(0, 1)
        marks = first.isin(["=", "'", ""]).to_numpy(dtype=bool)
        if marks.any():
            eq = s.str.fullmatch(r'="[^"]*"').fillna(False).to_numpy(dtype=bool)
            quote = (first == "'").fillna(False).to_numpy(dtype=bool)
            if eq.any() or quote.any():
                s = s.mask(eq, s.str.slice(2, -1)).mask(quote, s.str.slice(1)).str.strip()
                counts[str(col)] = int(eq.sum() + quote.sum())
            s = s.mask(s == "")
        out[col] = s
    return pd.DataFrame(out, index=df.index), counts


def _summary_mask(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Rows whose first column or a source-level column is a summary label."""
    columns = list(df.columns[:1]) + [c for c in df.columns[1:] if is_level_header(c)]
    mask = np.zeros(len(df), dtype=bool)
    labels: list[str] = [""] * len(df)
    for col in columns:
        norm = df[col].str.rstrip(" :：\t")
        hit = norm.isin(SUMMARY_LABELS).fillna(False).to_numpy(dtype=bool) & ~mask
        cells = norm.to_numpy(dtype=object)
        for i in np.flatnonzero(hit):
            labels[i] = str(cells[i])
        mask |= hit
    return mask, labels


def _note_mask(df: pd.DataFrame) -> np.ndarray:
    """Trailing rows with a single filled cell (a footnote under a table of 3+ columns)."""
    mask = np.zeros(len(df), dtype=bool)
    if df.shape[1] < 3:
        return mask
    tail = max(0, len(df) - 20)  # footnotes sit at the very end: look at the last rows only
    filled = np.zeros(len(df), dtype=np.int64)
    filled[tail:] = df.iloc[tail:].notna().sum(axis=1).to_numpy()
    first = df.iloc[:, 0].to_numpy(dtype=object)
    i = len(df) - 1
    while i >= tail and filled[i] == 1 and isinstance(first[i], str):
        if not any(ch.isalpha() and not ch.isascii() for ch in first[i]):
            break
        mask[i] = True
        i -= 1
    return mask


def clean_headers(
    raw: Sequence[str | None], kind: str | None = None
) -> tuple[list[str], list[str]]:
    """(headers, notes): the header cells trimmed, mis-decoded UTF-8 repaired, repeats renamed."""
    return _headers(raw, known_header_keys(kind))


def note_rows(df: pd.DataFrame) -> np.ndarray:
    """The trailing one-cell note rows of a text table (a footnote under the data)."""
    return _note_mask(df)


def title_period(title: Sequence[str], path: Path) -> tuple[Period | None, str | None]:
    """(period, note): the date range of the title rows, else of the file name."""
    return _title_period(title, path)


def _title_period(title: Sequence[str], path: Path) -> tuple[Period | None, str | None]:
    for line in title:
        found = parse_period(unicodedata.normalize("NFKC", line))
        if found:
            return found, None
    found = parse_period(path.stem)
    return found, ("period taken from the file name" if found else None)


def _read_one(
    path: Path, *, kind: str | None, sheet: str | int | None
) -> tuple[FileRead, pd.DataFrame, pd.DataFrame]:
    source = open_source(path, sheet)
    return _table_of(source, kind)


def _table_of(source: Source, kind: str | None) -> tuple[FileRead, pd.DataFrame, pd.DataFrame]:
    path = source.path
    header = find_header(source.head, kind)
    if header < 0:
        msg = (
            f"no header row in the first {SCAN_ROWS} rows (no row has two or more cells); "
            "is this a table export?"
        )
        raise ReadError(path, "no_header", msg)
    raw, body = source.frame(header)
    names, notes = _headers(raw, known_header_keys(kind))
    body.columns = pd.Index(names)
    body, unwrapped = _unwrap(body)
    body = body.dropna(axis=0, how="all")
    unnamed = [c for c in body.columns if c.startswith("unnamed_") and body[c].isna().all()]
    body = body.drop(columns=unnamed).reset_index(drop=True)
    summary, labels = _summary_mask(body)
    notes_mask = _note_mask(body) & ~summary
    drop = summary | notes_mask
    excluded = body[drop].assign(
        _file=path.name,
        _row=np.flatnonzero(drop) + header + 2,
        _reason=np.where(summary[drop], "summary", "note"),
        _label=[labels[i] if summary[i] else "" for i in np.flatnonzero(drop)],
    )
    body = body[~drop].reset_index(drop=True)
    title = join_cells(source.head[:header]) + source.preface
    period, period_note = _title_period(title, path)
    all_notes = [*source.notes, *notes, *([period_note] if period_note else [])]
    if not len(body):
        all_notes.append("no data rows below the header")
    record = FileRead(
        path=str(path),
        format=source.format,
        encoding=source.encoding,
        sheet=source.sheet,
        header_row=header + 1,
        title=tuple(title),
        period=period,
        rows=len(body),
        summary_rows=int(summary.sum()),
        note_rows=int(notes_mask.sum()),
        unwrapped=unwrapped,
        notes=tuple(all_notes),
    )
    return record, body, excluded


def read_table(
    path: str | Path, *, kind: str | None = None, sheet: str | int | None = None
) -> ReadResult:
    """Read an export file, or a folder of same-kind exports, as a table of text.

    Args:
        path: A ``.csv`` / ``.tsv`` / ``.txt`` / ``.xlsx`` / ``.xls`` / ``.parquet`` file,
            or a folder of them (read in name order and concatenated).
        kind: The export kind (a key of :data:`shopmetrics.io.exports.KINDS`) to look for:
            the header scan then knows only its headers, and recognition is skipped.
        sheet: Worksheet name or 0-based index (Excel; default the first).

    Returns:
        The text table and the record of the read (see :class:`ReadResult`).

    Raises:
        ReadError: for a missing, empty or undecodable file, an empty folder, a folder
            that mixes export kinds, or a table without a header (the file is named).

    Examples:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
        >>> _ = p.write_text('订单编号,买家会员名,买家实际支付金额\\n="3412345678901234567",tb1,"1,234.00"\\n',
        ...                  encoding="utf-8-sig")
        >>> r = read_table(p)
        >>> r.data.iloc[0, 0], r.encoding, r.files[0].unwrapped
        ('3412345678901234567', 'utf-8-sig', {'订单编号': 1})
    """
    path = Path(path)
    if kind is not None:
        get_kind(kind)  # an unknown kind is a DefinitionError with the known ones
    if not path.exists():
        raise ReadError(path, "not_found", f"no such file or folder: {str(path)!r}")
    files = list_folder(path) if path.is_dir() else [path]
    records: list[FileRead] = []
    frames: list[pd.DataFrame] = []
    excluded: list[pd.DataFrame] = []
    kinds: list[str | None] = []
    for file in files:
        record, body, dropped = _read_one(file, kind=kind, sheet=sheet)
        hint = " ".join([file.name, *record.title])
        kinds.append(kind or _kind_name(list(body.columns), hint))
        records.append(record)
        frames.append(body)
        excluded.append(dropped)
    _check_same_kind(path, files, kinds, frames)
    data = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    gone = pd.concat(excluded, ignore_index=True, sort=False)
    return ReadResult(data, str(path), tuple(records), kinds[0], gone)


def _kind_name(columns: Sequence[str], hint: str) -> str | None:
    found = recognise(list(columns), hint=hint).kind
    return found.name if found else None


def _check_same_kind(
    path: Path, files: Sequence[Path], kinds: Sequence[str | None], frames: Sequence[pd.DataFrame]
) -> None:
    if len(files) < 2:
        return
    first = kinds[0]
    for file, k, frame in zip(files[1:], kinds[1:], frames[1:], strict=True):
        same_columns = set(frame.columns) == set(frames[0].columns)
        if k != first or (k is None and not same_columns):
            msg = (
                f"the folder mixes exports: {files[0].name} is {first or 'unrecognised'}, "
                f"{file.name} is {k or 'unrecognised'}; put each kind in its own folder"
            )
            raise ReadError(path, "mixed_kinds", msg)
