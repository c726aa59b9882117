"""Large text exports read in polars: the same table as :mod:`shopmetrics.io`, faster.

A 1M-row 订单报表 CSV spends most of the reference reader's time in per-column pandas
string work: trimming every cell, unwrapping ``="…"`` guards, parsing amounts and times,
folding statuses. When polars is the engine, :func:`read_fast` does the same steps as
polars expressions (multi-threaded, in Rust) on the file decoded once:

- the file's first rows are scanned by :mod:`shopmetrics.io` as always (format, encoding,
  header row below the title rows, title period); pyarrow's CSV reader splits the bytes
  into columns, ASCII columns become polars text as they are (string views, no copy), GBK
  columns are decoded by Python's codec on their distinct values only, empty columns are
  polars nulls;
- cells trimmed of exactly the characters ``str.strip`` removes (:data:`WHITESPACE`), guards (``="…"``, a
  leading ``'``) unwrapped and counted, blank cells missing — on a GBK column's distinct
  values, elsewhere in polars and only in the columns whose first or last bytes ask for it
  —, blank rows, summary rows and trailing note rows excluded and counted (the io rules,
  called on the few rows concerned);
- known columns parsed only where the fast form is provably the reference's: numbers
  matching :data:`~shopmetrics.io.values.FORMATTED_NUMBER` (the form the reference parses
  vectorised), times all ``yyyy-mm-dd hh:mm:ss`` or all ``yyyy-mm-dd`` with every field in
  range (the form taken from the first cell, every other cell checked against it),
  statuses folded on their few distinct values by
  :func:`shopmetrics.io.semantics.normalise_status`; values and checks in one lazy select.

Anything else — another format or encoding, ragged rows, a cell in another form (``1.2万``,
``3.45%``, ``2026/11/1``), a value the reference would report as a problem, presale
stages, line-grain exports (1688), source levels, spend reports, ``columns=`` — returns
``None`` and the reference reader decides, so results (values, dtypes, column order, the
audit's notes and exclusions) are the same either way; ``tests/test_io_fast.py`` checks
it on real-shaped files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import narwhals.stable.v2 as nw

from shopmetrics.audit import Exclusion

__all__ = ["WHITESPACE", "FastRead", "read_fast"]

WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
"""What ``str.strip`` (and pyarrow's ``utf8_trim_whitespace``, the reference's trim) removes:
polars' ``strip_chars()`` removes the same but ``\x1c``-``\x1f``, which refuse a file."""

_NUMBER_KINDS = ("count", "money", "rate", "score")
_TIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r" (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)
_DATE = r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
_LOSSY_ID = r"^(?:[0-9]+(?:\.[0-9]+)?[eE]\+?[0-9]+|[0-9]+\.0+)$"
_GUARD = r'^="[^"]*"$'
_GUARD_RE = re.compile(r'="[^"]*"')


class FastRead(NamedTuple):
    """A text export read by :func:`read_fast`: what ``engine.reading.Source`` holds."""

    frame: nw.LazyFrame[Any]
    mapping: dict[str, str]
    notes: tuple[str, ...]
    excluded: tuple[Exclusion, ...]


class _Refuse(Exception):  # noqa: N818 - control flow: the reference reader decides
    """The fast path cannot promise the reference's result."""


def read_fast(path: Path, table: str) -> FastRead | None:
    """A text export read in polars, or ``None`` when the reference reader must read it."""
    try:
        return _read(path, table)
    except _Refuse:
        return None
    except Exception:
        return None


def _body(path: Path) -> tuple[Any, list[str | None], Any, int]:
    """(source, raw header cells, the UTF-8 bytes below the header, header row index)."""
    from shopmetrics.io._sources import open_source  # noqa: PLC0415 - pandas-based
    from shopmetrics.io.files import find_header  # noqa: PLC0415

    source = open_source(path)
    if source.format not in ("csv", "tsv") or source.encoding not in (
        "utf-8", "utf-8-sig", "gbk", "gb18030",
    ):  # fmt: skip
        raise _Refuse
    header = find_header(source.head, None)
    if header < 0:
        raise _Refuse
    data = path.read_bytes()
    end = 0
    for _ in range(header + 1):  # b"\n" is never inside a GBK or UTF-8 character
        end = data.find(b"\n", end) + 1
        if end == 0:
            raise _Refuse
    prefix = data[:end].decode(source.encoding)
    pieces = prefix.split("\n")[:-1]
    if prefix.splitlines() != [ln.rstrip("\r") for ln in pieces]:
        raise _Refuse  # odd line ends among the title rows
    if any(sep in data for sep in (b"\x1c", b"\x1d", b"\x1e", b"\x1f")):
        raise _Refuse  # str.strip (the reference) trims these; polars' strip_chars() does not
    if data.find(b"\r", end) >= 0 and data.count(b"\r", end) != data.count(b"\r\n", end):
        raise _Refuse  # lone CR line ends: the reference's parsers disagree on them
    return source, source.head[header], memoryview(data)[end:], header


def _read(path: Path, table: str) -> FastRead:
    import polars as pl  # noqa: PLC0415 - the fast path exists only with polars

    source, raw, body, header = _body(path)
    if not bytes(body[:4096]).strip() and not bytes(body).strip():
        raise _Refuse
    body, tail = _short_tail(body, len(raw), source.sep, source.encoding)
    frame, scan, marks = _columns(body, len(raw), source.sep, source.encoding, clean=not tail)
    if tail:
        import polars as pl  # noqa: PLC0415

        extra = pl.DataFrame(tail, schema=dict.fromkeys(frame.columns, pl.String), orient="row")
        frame = pl.concat([frame, extra])
        scan = [f"{need} strip guard blank" for need in scan]  # a few rows: check them all
    from shopmetrics.io.files import clean_headers  # noqa: PLC0415

    names, header_notes = clean_headers(raw)
    frame.columns = names
    frame, unwrapped = _unwrap(frame, {names[i]: v for i, v in enumerate(scan)})
    decoded = {names[int(c[1:])]: n for c, n in marks.items()}  # cleaned while decoded
    unwrapped = {c: unwrapped.get(c) or decoded[c] for c in names if c in unwrapped or c in decoded}
    blank_rows = pl.all_horizontal(pl.all().is_null())
    if frame.select(blank_rows.any()).item():
        frame = frame.filter(~blank_rows)
    empty = [
        c
        for c in frame.columns
        if c.startswith("unnamed_") and frame[c].null_count() == frame.height
    ]
    frame = frame.drop(empty)
    frame, read = _rows_left_out(frame, source, header, unwrapped, [*source.notes, *header_notes])
    return _convert(frame, read, table)


def _short_tail(
    body: memoryview, width: int, sep: str, encoding: str
) -> tuple[memoryview, list[list[str | None]]]:
    """The body without its trailing short rows (footnotes: fewer cells than the header,
    no quotes), and those rows padded with missing cells, as the reference's parser reads them."""
    import csv  # noqa: PLC0415

    rows: list[list[str | None]] = []
    base = max(0, len(body) - (1 << 16))  # footnotes are short: look at the last 64 KiB
    window = bytes(body[base:])
    end = len(window)
    while len(rows) < 20:
        stop = window[:end].rstrip(b"\r\n")
        start = stop.rfind(b"\n") + 1
        line = stop[start:]
        if not line.strip():
            if start == 0 or not rows:
                break  # blank lines above the footnotes end the scan; trailing ones are kept
            end = start
            continue
        if b'"' in line or (start == 0 and base > 0):
            break
        cells = next(csv.reader([line.decode(encoding)], delimiter=sep))
        if len(cells) >= width:
            break
        rows.append([c or None for c in cells] + [None] * (width - len(cells)))
        end = start
    return body[: base + end], rows[::-1]


def _columns(
    body: memoryview, width: int, sep: str, encoding: str, *, clean: bool
) -> tuple[Any, list[str], dict[str, int]]:
    """The cells below the header as polars text columns, and per column what it may need
    (``"strip"``: a cell may start or end with a space or a non-ASCII character;
    ``"guard"``: a cell starts with ``=`` or ``'``; ``"blank"``: an empty cell).

    pyarrow's multi-threaded CSV reader splits the bytes into binary columns (no
    transcoding: a delimiter, quote or line end is never part of a GBK or UTF-8
    character); a column without bytes ≥ 0x80 is ASCII and becomes text as it is, UTF-8
    is checked by the cast, and GBK is decoded by Python's codec on the column's distinct
    values only."""
    import numpy as np  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415 - the engine boundary's own reader
    import pyarrow.csv as pacsv  # noqa: PLC0415

    names = [f"c{i}" for i in range(width)]
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.binary()), null_values=[""], strings_can_be_null=True
    )
    try:  # quoted line breaks are rare: without them the reader splits blocks in parallel
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=convert,
        )
    except pa.ArrowInvalid:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=convert,
        )
    columns, needs, marks = [], [], {}
    for name in names:
        chunked = table.column(name).combine_chunks()
        if chunked.null_count == len(chunked):  # an empty column: polars' nulls cost nothing
            columns.append(pl.Series(name, dtype=pl.String).extend_constant(None, len(chunked)))
            needs.append("")
            continue
        offsets = np.frombuffer(chunked.buffers()[1], dtype=np.int32)[
            chunked.offset : chunked.offset + len(chunked) + 1
        ]
        buf = chunked.buffers()[2]
        data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)
        data = data[offsets[0] : offsets[-1]]
        need = _needs(data, offsets - offsets[0], chunked)
        high = bool(data.size) and bool((data >= 0x80).any())
        if high and encoding not in ("utf-8", "utf-8-sig"):
            decoded, need, count = _decode(chunked, encoding, need, clean=clean)
            if count:
                marks[name] = count
            needs.append(need)
            columns.append(decoded.alias(name))
            continue
        needs.append(need)
        columns.append(pl.Series(name, chunked.cast(pa.string_view())))  # no copy
    return pl.DataFrame(columns), needs, marks


def _decode(chunked: Any, encoding: str, need: str, *, clean: bool) -> tuple[Any, str, int]:
    """A GBK column decoded on its distinct values; with ``clean``, also trimmed, unwrapped
    and blanked there (:func:`_clean`, the rules of :func:`_unwrap`): (the text column,
    what it still needs, the guarded cells)."""
    import numpy as np  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

    coded = chunked.dictionary_encode()
    texts = [b.decode(encoding) for b in coded.dictionary.to_pylist()]
    index = pl.Series(coded.indices)  # a gather of views: the texts are not copied
    if not clean:
        return pl.Series(texts, dtype=pl.String).gather(index), need, 0
    cleaned = [_clean(t) for t in texts]
    guarded = np.array([g for _, g in cleaned], dtype=bool)
    count = 0
    if guarded.any():
        used = np.bincount(coded.indices.drop_null().to_numpy(), minlength=len(texts))
        count = int(used[guarded].sum())
    return pl.Series([v for v, _ in cleaned], dtype=pl.String).gather(index), "", count


def _clean(text: str) -> tuple[str | None, bool]:
    """One cell as :func:`_unwrap` leaves it (``str.strip`` = its trim: no ``\\x1c``-``\\x1f``
    in the file), and whether it was guarded."""
    s = text.strip()
    guarded = True
    if _GUARD_RE.fullmatch(s):
        s = s[2:-1].strip()
    elif s.startswith("'"):
        s = s[1:].strip()
    else:
        guarded = False
    return (s or None), guarded


def _needs(data: Any, offsets: Any, chunked: Any) -> str:
    """What a column's cells may need (see :func:`_columns`), from their first and last bytes."""
    import numpy as np  # noqa: PLC0415

    if chunked.null_count == len(chunked):
        return ""
    lengths = np.diff(offsets)
    full = lengths > 0  # a missing cell has no bytes either
    out = "blank " if int(len(full) - np.count_nonzero(full)) > chunked.null_count else ""
    if not full.any():
        return out
    first = data[offsets[:-1][full]]
    last = data[offsets[1:][full] - 1]
    space = (first <= 0x20) | (first >= 0x80) | (last <= 0x20) | (last >= 0x80)
    if space.any():
        out += "strip "
    if ((first == ord("=")) | (first == ord("'"))).any():
        out += "guard "
    return out


def _unwrap(frame: Any, scan: dict[str, str]) -> tuple[Any, dict[str, int]]:
    """Trim, unwrap ``="…"`` and ``'`` guards, blank → missing (``files._unwrap``'s rules)."""
    import polars as pl  # noqa: PLC0415

    trimmed = frame.with_columns(
        pl.col(c).str.strip_chars() for c in frame.columns if "strip" in scan[c]
    )  # = str.strip: no \x1c-\x1f in the file
    maybe = [c for c in frame.columns if "guard" in scan[c] or "strip" in scan[c]]
    found = trimmed.select(
        *((pl.col(c).str.contains(_GUARD) | pl.col(c).str.starts_with("'")).sum().alias(c)
          for c in maybe),
        *(pl.col(c).str.contains(_GUARD).sum().alias(f"eq:{c}") for c in maybe),
        *(pl.col(c).count().alias(f"n:{c}") for c in maybe),
        *((pl.col(c) == "").any().alias(f"blank:{c}") for c in maybe),
    ).row(0, named=True) if maybe else {}  # fmt: skip
    marks = {c: found[c] for c in maybe}
    blank = {c for c in frame.columns if "blank" in scan[c] or found.get(f"blank:{c}")}
    guarded = [c for c, n in marks.items() if n]
    exprs = []
    for c in guarded:
        s = pl.col(c)
        if found[f"eq:{c}"] == found[f"n:{c}"]:  # every cell ="…": no test per cell
            s = s.str.strip_prefix('="').str.strip_suffix('"')
        else:
            s = (
                pl.when(s.str.contains(_GUARD))
                .then(s.str.slice(2, s.str.len_chars() - 3))
                .when(s.str.starts_with("'"))
                .then(s.str.slice(1))
                .otherwise(s)
            )
        s = s.str.strip_chars()
        exprs.append(pl.when(s == "").then(None).otherwise(s).alias(c))
    exprs += [
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in trimmed.columns
        if c in blank and c not in guarded
    ]
    out = trimmed.with_columns(exprs) if exprs else trimmed
    return out, {c: int(marks[c]) for c in guarded}


def _rows_left_out(
    frame: Any, source: Any, header: int, unwrapped: dict[str, int], notes: list[str]
) -> tuple[Any, Any]:
    """Summary and note rows out (counted); the :class:`~shopmetrics.io.files.ReadResult`
    record of the read (its data left empty: the frame is polars)."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

    from shopmetrics.io._sources import join_cells  # noqa: PLC0415
    from shopmetrics.io.exports import SUMMARY_LABELS, is_level_header  # noqa: PLC0415
    from shopmetrics.io.files import FileRead, ReadResult, note_rows, title_period  # noqa: PLC0415

    columns = list(frame.columns[:1]) + [c for c in frame.columns[1:] if is_level_header(c)]
    label = pl.lit(None, dtype=pl.String)
    for col in reversed(columns):
        norm = pl.col(col).str.strip_chars_end(" :：\t")
        label = pl.when(norm.is_in(sorted(SUMMARY_LABELS))).then(norm).otherwise(label)
    labels = frame.select(label.alias("l"))["l"]
    summary = labels.is_not_null().to_numpy()
    tail = max(0, frame.height - 20)
    rest = frame.slice(tail).to_pandas().astype("str")
    notes_mask = np.zeros(frame.height, dtype=bool)
    notes_mask[tail:] = note_rows(rest.reset_index(drop=True)) if frame.width else False
    notes_mask &= ~summary
    drop = summary | notes_mask
    gone = frame.filter(pl.Series(drop)).to_pandas().astype("str")
    excluded = gone.assign(
        _file=source.path.name,
        _row=np.flatnonzero(drop) + header + 2,
        _reason=np.where(summary[drop], "summary", "note"),
        _label=[str(v) if v is not None else "" for v in labels.filter(pl.Series(drop))],
    )
    frame = frame.filter(pl.Series(~drop)) if drop.any() else frame
    title = join_cells(source.head[:header]) + source.preface
    period, period_note = title_period(title, source.path)
    all_notes = [*notes, *([period_note] if period_note else [])]
    if not frame.height:
        raise _Refuse
    record = FileRead(
        path=str(source.path), format=source.format, encoding=source.encoding,
        sheet=source.sheet, header_row=header + 1, title=tuple(title), period=period,
        rows=frame.height, summary_rows=int(summary.sum()), note_rows=int(notes_mask.sum()),
        unwrapped=unwrapped, notes=tuple(all_notes),
    )  # fmt: skip
    hint = " ".join([source.path.name, *record.title])
    from shopmetrics.io.exports import recognise  # noqa: PLC0415

    found = recognise(list(frame.columns), hint=hint).kind
    read = ReadResult(
        pd.DataFrame(columns=frame.columns), str(source.path), (record,),
        found.name if found else None, excluded,
    )  # fmt: skip
    return frame, read


def _convert(frame: Any, read: Any, table: str) -> FastRead:
    """``to_canonical`` of the frame, for the kinds and values the fast path covers."""
    from shopmetrics.io.convert import cannot_give, kind_note  # noqa: PLC0415
    from shopmetrics.io.exports import HELPERS, recognise  # noqa: PLC0415

    if read.kind is None:
        raise _Refuse
    hint = " ".join([read.path, *(t for f in read.files for t in f.title)])
    rec = recognise(list(frame.columns), hint=hint)
    export = rec.kind
    if (
        export is None
        or export.table != table
        or export.table not in ("orders", "traffic", "ratings")
    ):
        raise _Refuse  # other tables (spend: scenes, lines: joins) and wrong tables: the reference
    targets = set(rec.mapping.values())
    if export.order_level or any(t.startswith("source_level_") for t in targets):
        raise _Refuse
    if export.table == "traffic" and "date" not in targets:
        raise _Refuse  # the date comes from the title rows
    specs = {c.canonical: c.value for c in export.columns if c.canonical}
    parsed = _parse(frame, rec.mapping, specs)
    if export.table == "orders":
        parsed = _orders(parsed)
    extras = [c for c in frame.columns if c not in rec.mapping and c not in parsed.columns]
    parsed = parsed.hstack(frame.select(extras)) if extras else parsed
    if export.table != "order_lines":
        parsed = parsed.drop([c for c in parsed.columns if c in HELPERS])
    notes = (
        *read.notes(),
        kind_note(export),
        *cannot_give(export, rec.mapping),
        *export.notes,
    )
    excluded = tuple(
        e if e.table == table else Exclusion(table, e.reason, e.rows, e.detail)
        for e in read.exclusions(export.table)
    )
    return FastRead(nw.from_native(parsed).lazy(), dict(rec.mapping), notes, excluded)


def _parse(frame: Any, mapping: dict[str, str], specs: Mapping[str, str]) -> Any:
    """Canonical columns in mapping order, parsed by their value kind (or refused).

    One lazy select computes the values and the checks together (each text parsed once:
    polars shares the common expressions); a failed check refuses the file."""
    import polars as pl  # noqa: PLC0415

    from shopmetrics.io.values import FORMATTED_NUMBER, MISSING  # noqa: PLC0415

    exprs = []
    checks = []
    for header, target in mapping.items():
        value = specs.get(target, "text")
        s = pl.col(header)
        if value == "id":
            checks.append(s.str.contains(_LOSSY_ID).any().alias(f"lossy:{header}"))
        if value in ("id", "text", "status"):
            exprs.append(s.alias(target))
            continue
        if value not in (*_NUMBER_KINDS, "time", "date"):
            raise _Refuse  # running totals and the like are never mapped; be sure
        t = pl.when(s.is_in(sorted(MISSING))).then(None).otherwise(s)
        if value in _NUMBER_KINDS:
            checks.append(
                (t.is_not_null() & ~t.str.contains(f"^(?:{FORMATTED_NUMBER})$"))
                .any()
                .alias(f"n:{header}")
            )
            number = t.str.replace_all("[,，¥￥元+]", "").cast(pl.Float64)
            checks.extend(_number_checks(number, value, header))
            exprs.append(
                number.round().cast(pl.Int64).alias(target)
                if value == "count"
                else number.alias(target)
            )
        else:
            parsed, check = _time_expr(frame, t, header)
            exprs.append(parsed.alias(target))
            checks.append(check)
    names = [f"\0check:{i}" for i in range(len(checks))]
    out = frame.lazy().select(*exprs, *(c.alias(n) for c, n in zip(checks, names, strict=True)))
    out = out.collect()
    if names and (not out.height or any(out.select(names).row(0))):
        raise _Refuse  # a cell the reference reads another way, or reports as a problem
    return out.drop(names)


def _number_checks(number: Any, value: str, header: str) -> list[Any]:
    """The reference's kind rules (``values._check``): a cell breaking one is a problem."""
    if value == "count":
        return [((number % 1 != 0) | (number < 0)).any().alias(f"c:{header}")]
    if value == "score":
        return [((number < 1) | (number > 5)).any().alias(f"s:{header}")]
    return [number.is_infinite().any().alias(f"i:{header}")]


def _time_expr(frame: Any, t: Any, header: str) -> tuple[Any, Any]:
    """All ``yyyy-mm-dd hh:mm:ss`` or all ``yyyy-mm-dd`` (fields in range), else refused:
    the form is the first cell's, and the check (true: refuse) is that some cell has
    another."""
    import polars as pl  # noqa: PLC0415

    sample = frame.select(t.drop_nulls().first().alias("s")).item()
    if sample is None or re.search(_TIME, sample):
        form, parsed = _TIME, t.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="ns", strict=True)
    elif re.search(_DATE, sample):
        form, parsed = _DATE, t.str.to_date("%Y-%m-%d", strict=True).cast(pl.Datetime("ns"))
    else:
        raise _Refuse
    return parsed, (t.is_not_null() & ~t.str.contains(form)).any().alias(f"t:{header}")


def _orders(parsed: Any) -> Any:
    """Payment state of an order table (``convert._orders`` without presale stages)."""
    import pandas as pd  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

    from shopmetrics.io import semantics as sem  # noqa: PLC0415

    for helper in ("presale_stages", "deposit_order_id"):
        if helper in parsed.columns and parsed[helper].null_count() != parsed.height:
            raise _Refuse  # presale orders: the reference's rules (and its audit notes)
    has_status, has_paid = "status" in parsed.columns, "paid_at" in parsed.columns
    out = []
    if has_status:
        uniques = parsed["status"].unique().drop_nulls().to_list()
        text = pd.Series(uniques, dtype="str")
        if sem.unknown_statuses(text).any():
            raise _Refuse  # an unknown status is a problem the reference reports
        folded = dict(zip(uniques, sem.normalise_status(text).tolist(), strict=True))
        norm = pl.col("status").replace_strict(folded, default=None, return_dtype=pl.String)
        out.append(pl.col("status").alias("status_text"))
    else:
        norm = pl.lit(None, dtype=pl.String)
    if "presale_stages" in parsed.columns or "deposit_order_id" in parsed.columns:
        out.append(pl.lit(False).alias("is_presale"))
        if has_paid:
            out.append(pl.lit(None, dtype=pl.Datetime("ns")).alias("deposit_paid_at"))
    if has_status or has_paid:
        out.append(_state(norm, has_paid, sem))
    parsed = parsed.with_columns(out) if out else parsed
    if (
        (has_status or has_paid)
        and "refund_amount" not in parsed.columns
        and "amount" in parsed.columns
    ):
        refunded = pl.col("status") == "refunded"
        parsed = parsed.with_columns(
            pl.when(refunded).then(pl.col("amount")).otherwise(0.0).alias("refund_amount")
        )
    return parsed


def _state(norm: Any, has_paid: bool, sem: Any) -> Any:
    """``semantics.payment_state`` as an expression."""
    import polars as pl  # noqa: PLC0415

    if has_paid:
        paid = pl.col("paid_at").is_not_null()
        closed = norm.is_in(sorted(sem.CLOSED)).fill_null(value=False)
        state = (
            pl.when(paid)
            .then(pl.when(closed).then(pl.lit("refunded")).otherwise(pl.lit("paid")))
            .otherwise(pl.lit("unpaid"))
        )
        return state.alias("status")
    known = norm.is_in(sorted(sem.PAID | sem.UNPAID)).fill_null(value=False)
    paid = norm.is_in(sorted(sem.PAID)).fill_null(value=False)
    state = pl.when(~known).then(None).when(paid).then(pl.lit("paid")).otherwise(pl.lit("unpaid"))
    return state.alias("status")
