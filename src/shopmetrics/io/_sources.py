"""Bytes to rows of text: format sniffing, encodings, and one reader per format.

:func:`open_source` looks at a file's first bytes (not only its name: a web back-end's
``.xls`` is often HTML or tab-separated text), picks the encoding by strict decoding and
returns a :class:`Source` whose first rows the header scan reads; :func:`Source.frame`
then reads the whole table from the header row down, every cell as text.

Readers, and why:

- CSV / TSV / text: pandas' C parser with ``dtype=str`` (one pass in C, every cell kept as
  text so 19-digit ids and leading zeros survive; ``na_values=[""]`` so only blank cells
  are missing). The encoding is decided on the first 64 KiB and the parser decodes
  strictly: a bad byte further down falls back to GB18030, then fails naming the file.
- ``.xlsx`` and real BIFF ``.xls``: python-calamine (Rust; reads both formats, ignores a
  false ``<dimension>``, several times faster than openpyxl and needs no xlrd).
- HTML sent as ``.xls``: the standard library's ``html.parser`` (no lxml needed; cells are
  text from the start).
- Parquet: ``pandas.read_parquet``; typed columns are turned into text like every other
  format so the value parse is the same for all.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html.parser
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from shopmetrics.errors import MissingDependencyError, ShopmetricsError

SCAN_ROWS = 15
"""Rows scanned for the header (title rows come above it)."""

PREFIX_BYTES = 1 << 16

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = (*TEXT_SUFFIXES, *EXCEL_SUFFIXES, ".parquet", ".pq", ".html", ".htm")
"""File names read by :func:`open_source` (a folder reads the files with these names)."""

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
PARQUET = b"PAR1"


class ReadError(ShopmetricsError):
    """A file (or folder) cannot be read as a table.

    Attributes:
        path: The file or folder.
        code: ``not_found``, ``empty``, ``empty_folder``, ``encoding``, ``format``,
            ``no_header``, ``malformed``, ``mixed_kinds``, ``sheet``.
    """

    def __init__(self, path: str | Path, code: str, message: str) -> None:
        self.path = str(path)
        self.code = code
        super().__init__(f"{Path(path).name}: {message}")


Row = list[str | None]


@dataclass(slots=True)
class Source:
    """One file opened for reading.

    Attributes:
        path: The file.
        format: ``csv``, ``tsv``, ``xlsx``, ``xls``, ``xls-html``, ``xls-text``, ``html``,
            ``parquet``.
        encoding: Text encoding used (``None`` for binary formats).
        head: The first :data:`SCAN_ROWS` rows, as text.
        sheet: The worksheet read (Excel).
        rows: Every row (formats read whole: Excel, HTML); ``None`` for CSV.
        preface: Text found outside the table (HTML titles).
        notes: What the reader noticed (lossy numbers, fallback encodings, ...).
    """

    path: Path
    format: str
    encoding: str | None
    head: list[Row]
    sheet: str | None = None
    sep: str = ","
    rows: list[Row] | None = None
    frame_whole: pd.DataFrame | None = None
    preface: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def frame(self, header: int) -> tuple[list[str | None], pd.DataFrame]:
        """(raw header cells, data below the header as text) from head row ``header``."""
        if self.frame_whole is not None:
            return list(self.frame_whole.columns), self.frame_whole
        if self.rows is not None:
            return _frame_of_rows(self.rows, header)
        return self._read_csv(header)

    def _read_csv(self, header: int) -> tuple[list[str | None], pd.DataFrame]:
        raw = self.head[header]
        last: Exception | None = None
        for encoding in _fallbacks(self.encoding or "utf-8"):
            try:
                df = self._parse(encoding, header, len(raw))
            except UnicodeDecodeError as exc:
                last = exc
                continue
            except pd.errors.ParserError as exc:
                msg = (
                    f"cannot split the rows below the header (row {header + 1}) into its "
                    f"{len(raw)} columns: {str(exc).strip()}. Check the delimiter, or quote cells that contain it"
                )
                raise ReadError(self.path, "malformed", msg) from exc
            if encoding != self.encoding:
                self.notes.append(
                    f"bytes past the first 64 KiB are not {self.encoding}: read as {encoding}"
                )
                self.encoding = encoding
            raw = raw + [None] * (df.shape[1] - len(raw))
            df.columns = pd.RangeIndex(df.shape[1])
            return raw[: df.shape[1]], df
        msg = (
            f"bytes that are neither UTF-8 nor GB18030 ({last}); re-export the file as UTF-8 or GBK"
        )
        raise ReadError(self.path, "encoding", msg)

    def _parse(self, encoding: str, header: int, width: int) -> pd.DataFrame:
        """pandas' C parser, every cell text; rows longer than the header only if the extra
        cells are empty (宝贝报表 rows end with a delimiter)."""
        options: dict[str, Any] = {
            "sep": self.sep,
            "encoding": encoding,
            "dtype": str,
            "keep_default_na": False,
            "na_values": [""],
            "index_col": False,
            "skip_blank_lines": True,
        }
        fast = {k: v for k, v in options.items() if k not in ("index_col", "skip_blank_lines")}
        try:  # pandas' pyarrow engine: multi-threaded, Arrow strings; strict about row widths
            quick: pd.DataFrame = pd.read_csv(
                self.path, skiprows=header, header=0, engine="pyarrow", **fast
            )
        except Exception:  # noqa: S110 - any refusal: the C parser below decides
            pass
        else:
            return quick
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                whole: pd.DataFrame = pd.read_csv(self.path, skiprows=header, header=0, **options)
            except pd.errors.ParserWarning:
                pass
            else:
                return whole
        names = list(range(width + 64))
        df: pd.DataFrame = pd.read_csv(
            self.path, skiprows=header + 1, header=None, names=names, **options
        )
        extra = df.iloc[:, width:].notna().any(axis=1).to_numpy()
        if extra.any():
            row = header + 2 + int(extra.argmax())
            msg = (
                f"row {row} has more cells than the header (row {header + 1}, {width} "
                "columns); check the delimiter, or quote cells that contain it"
            )
            raise ReadError(self.path, "malformed", msg)
        kept: pd.DataFrame = df.iloc[:, :width]
        return kept


def _fallbacks(encoding: str) -> tuple[str, ...]:
    return {"utf-8": ("utf-8", "gbk", "gb18030"), "gbk": ("gbk", "gb18030")}.get(
        encoding, (encoding,)
    )


def _frame_of_rows(rows: list[Row], header: int) -> tuple[list[str | None], pd.DataFrame]:
    raw = rows[header]
    body = rows[header + 1 :]
    width = max([len(raw), *(len(r) for r in body)]) if body else len(raw)
    body = [r + [None] * (width - len(r)) for r in body]
    df = pd.DataFrame(body, columns=list(range(width)), dtype=object)
    return raw, df.astype("str")


def decode_prefix(path: Path, data: bytes, *, complete: bool) -> tuple[str, str]:
    """(text, encoding) by strict decoding: UTF-8 (BOM or not), then GBK, then GB18030.

    ``complete=False`` lets the last few bytes of a prefix be a cut character.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates: Sequence[str] = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gbk", "gb18030")
    error: UnicodeDecodeError | None = None
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            return decoder.decode(data, final=complete), encoding
        except UnicodeDecodeError as exc:
            error = exc
    assert error is not None
    msg = (
        f"undecodable bytes at byte {error.start}: the file is neither UTF-8 nor GBK/GB18030. "
        "Re-export it as CSV (UTF-8) or Excel"
    )
    raise ReadError(path, "encoding", msg)


def _sniff_text(path: Path, text: str) -> str:
    """``html`` or a delimiter for text content."""
    start = text.lstrip()[:2048].lower()
    if start.startswith("<") and ("<table" in text[: 1 << 20].lower() or "<html" in start):
        return "html"
    lines = [ln for ln in text.splitlines()[: SCAN_ROWS * 2] if ln.strip()]
    tabs = sum(ln.count("\t") for ln in lines)
    commas = sum(ln.count(",") for ln in lines)
    if path.suffix.lower() == ".tsv" or tabs > commas:
        return "\t"
    return ","


def open_source(path: Path, sheet: str | int | None = None) -> Source:
    """Open one file: sniff its format by content, decode it, read its first rows."""
    with path.open("rb") as fh:
        data = fh.read(PREFIX_BYTES)
        complete = len(fh.read(1)) == 0
    if not data.strip():
        raise ReadError(path, "empty", "the file is empty (0 rows); download the export again")
    suffix = path.suffix.lower()
    if data.startswith((OLE2, ZIP)):
        if data.startswith(ZIP) and suffix not in (".xlsx", ".xlsm", ".xls"):
            msg = "a zip archive, not a table; unzip it and read the file inside"
            raise ReadError(path, "format", msg)
        return _open_excel(path, sheet, "xls" if data.startswith(OLE2) else "xlsx")
    if data.startswith(PARQUET):
        return _open_parquet(path)
    if suffix in (".xlsx", ".xlsm", ".parquet", ".pq"):
        raise ReadError(path, "format", f"not a valid {suffix} file (its first bytes are text)")
    text, encoding = decode_prefix(path, data, complete=complete)
    kind = _sniff_text(path, text)
    if kind == "html":
        return _open_html(path, data if complete else path.read_bytes())
    fmt = {".xls": "xls-text", ".tsv": "tsv"}.get(suffix, "tsv" if kind == "\t" else "csv")
    lines = text.splitlines()[:SCAN_ROWS]
    head = [_split(line, kind) for line in lines]
    return Source(path, fmt, encoding, head, sep=kind)


def _split(line: str, sep: str) -> Row:
    if not line.strip():
        return []
    cells = next(csv.reader([line], delimiter=sep), [])
    return [c if c.strip() else None for c in cells]


def _cell_text(value: Any, lossy: list[int], col: int) -> str | None:
    """An Excel cell as text: integers without ``.0``, dates in ISO form."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            if abs(value) >= 2**53:
                lossy.append(col)
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _calamine() -> Any:
    try:
        import python_calamine  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("python-calamine", "excel", "Reading Excel files") from exc
    return python_calamine


def _open_excel(path: Path, sheet: str | int | None, fmt: str) -> Source:
    calamine = _calamine()
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise ReadError(path, "format", f"cannot read the {fmt} workbook: {exc}") from exc
    names: list[str] = book.sheet_names
    chosen = _choose_sheet(path, names, sheet)
    lossy: list[int] = []
    worksheet = book.get_sheet_by_name(chosen)
    top, left = worksheet.start or (0, 0)
    rows: list[Row] = [[] for _ in range(top)]  # keep the sheet's row numbers
    pad: Row = [None] * left
    rows.extend(
        pad + [_cell_text(v, lossy, j) for j, v in enumerate(values)]
        for values in worksheet.iter_rows()
    )
    while rows and not any(c is not None for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ReadError(path, "empty", f"sheet {chosen!r} is empty; sheets: {names}")
    source = Source(path, fmt, None, rows[:SCAN_ROWS], sheet=chosen, rows=rows)
    if lossy:
        source.notes.append(
            f"{len(lossy)} cells hold whole numbers of 16+ digits stored as Excel numbers: "
            "digits past the 15th may be lost (ids re-saved by Excel cannot be recovered)"
        )
    if len(names) > 1 and sheet is None:
        source.notes.append(f"read sheet {chosen!r} of {names}; pass sheet= for another")
    return source


def _choose_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif sheet in names:
        return sheet
    raise ReadError(path, "sheet", f"no sheet {sheet!r}; sheets: {names}")


def _open_parquet(path: Path) -> Source:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises its own error types
        raise ReadError(path, "format", f"cannot read the parquet file: {exc}") from exc
    text = pd.DataFrame({c: _as_text(df[c]) for c in df.columns})
    head: list[Row] = [[str(c) for c in df.columns]]
    return Source(path, "parquet", None, head, frame_whole=text)


def _as_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        return s.map(
            lambda v: None if pd.isna(v) else (str(int(v)) if v.is_integer() else repr(v))
        ).astype("str")
    return s.astype("str")


class _Tables(html.parser.HTMLParser):
    """Rows of every ``<table>``, and the text outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[Row]] = []
        self.outside: list[str] = []
        self._depth = 0
        self._row: Row | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            text = "".join(self._cell).strip()
            self._row.extend([text or None] + [None] * (self._span - 1))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif not self._depth and data.strip():
            self.outside.append(data.strip())


_META = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)


def _open_html(path: Path, data: bytes) -> Source:
    meta = _META.search(data[:4096])
    encoding = None
    if meta:
        declared = meta.group(1).decode("ascii").lower()
        declared = "gb18030" if declared in ("gb2312", "gbk") else declared
        try:
            text, encoding = data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            encoding = None
    if encoding is None:
        text, encoding = decode_prefix(path, data, complete=True)
    parser = _Tables()
    parser.feed(text)
    tables = [t for t in parser.tables if t]
    if not tables:
        raise ReadError(path, "format", "an HTML file without a <table>; not an export")
    big = max(tables, key=len)
    preface = parser.outside + [c for t in tables if t is not big for r in t for c in r if c]
    fmt = "xls-html" if path.suffix.lower() == ".xls" else "html"
    return Source(path, fmt, encoding, big[:SCAN_ROWS], rows=big, preface=preface)


def list_folder(path: Path) -> list[Path]:
    """The table files of a folder, by name (hidden files and Excel lock files skipped)."""
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~$"))
    )
    if not files:
        present = sorted(p.name for p in path.iterdir())[:10]
        msg = f"a folder without table files ({', '.join(SUFFIXES)}); it holds {present}"
        raise ReadError(path, "empty_folder", msg)
    return files


def join_cells(rows: Iterable[Row]) -> list[str]:
    """Each non-empty row as one line of text (title rows)."""
    return [" ".join(c for c in r if c) for r in rows if any(r)]
