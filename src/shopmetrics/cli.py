"""The ``shopmetrics`` command line.

Subcommands::

    shopmetrics demo [--out DIR] [--seed N] [--lang en|zh]
    shopmetrics validate [FILE...] [--events E] [--orders O] [--traffic T] [--ratings R]
                         [--spend S] [--peers P] [--source 直通车] [--columns mapping.json]
    shopmetrics inspect FILE... [--kind KIND] [--sheet SHEET]
    shopmetrics report [FILE...] [--events E] [--orders O] [--traffic T] [--ratings R]
                       [--spend S] [--peers P] [--source 直通车] [--week 2026-W47]
                       [--tz Asia/Shanghai] [--columns mapping.json] [--lang en|zh]
                       --out report.html

Exit codes: 0 success; 1 the data has validation errors (printed as a list) or a
computation failed; 2 usage errors (argparse's own, unreadable arguments, missing files).

``inspect`` says what shopmetrics makes of a store export (:func:`shopmetrics.io.inspect.inspect`):
the kind recognised, header row, encoding, column mapping, what is ignored and why, the
rows excluded. ``report`` takes raw tables (Parquet or CSV with canonical names) and
store exports (生意参谋 商品效果 / 流量来源 / 店铺整体, 订单报表 and 宝贝报表, 1688 orders, spend
reports, 评价): an export is read through :mod:`shopmetrics.io` and may be given as a
plain ``FILE`` (its kind says which table it is) or after the option of its table;
several exports of one table are concatenated, a 宝贝报表 is joined to its 订单报表.
``--events`` is optional when a traffic export is given; the report then says what it
cannot compute without raw events. ``--orders``, ``--traffic``, ``--ratings`` and
``--spend`` may be repeated.

``report`` and ``demo`` call ``shopmetrics.weekly_report`` with the keyword arguments its
signature names among: the six tables (paths for ``report``, DataFrames for ``demo``;
``demo`` passes ``store=`` instead when that parameter exists, and ``dsr_peers``),
``week``, ``tz``, ``columns``, ``lang`` and ``progress`` (a callable taking a short text
such as ``"aggregating the funnel"``, shown as the current step). It must return an
object with ``to_html`` / ``to_markdown`` / ``to_excel`` (a :class:`~shopmetrics.report.Report`).

Results go to standard output. Progress of long steps (reading, aggregating, modelling,
writing) goes to standard error, only when it is a terminal. This module is the only
part of shopmetrics that writes to stdout or stderr; the library itself only logs.

Examples:
    >>> from shopmetrics.cli import main
    >>> main(["--version"])
    shopmetrics ...
    0
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import sys
import time
import zoneinfo
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from shopmetrics.errors import MissingDependencyError, ShopmetricsError, ValidationError, suggest

__all__ = ["Progress", "main"]

_LOG = logging.getLogger(__name__)

TABLE_NAMES = ("events", "orders", "ratings", "spend", "traffic", "peers")
REPEATABLE = ("orders", "ratings", "spend", "traffic")
"""Tables that may come from several export files (concatenated)."""
EXPORT_TABLES = {"order_lines": "orders"}
"""Export tables fed into another table (a 宝贝报表's lines join their 订单报表)."""
REPORT_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xlsx": "excel",
}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class Progress:
    """Step-by-step progress on a stream, shown only when that stream is a terminal.

    Args:
        stream: Where to write (standard error).
        enabled: Force on or off; by default on when ``stream`` is a terminal.
    """

    def __init__(self, stream: IO[str], enabled: bool | None = None) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) if enabled is None else enabled
        self._current: str | None = None

    def note(self, step: str) -> None:
        """Show what is being done now (replaces the previous note on the line)."""
        if self.enabled:
            self.stream.write(f"\r\x1b[2K… {step}")
            self.stream.flush()
            self._current = step

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Show ``what`` while the block runs, then a tick and the time it took."""
        start = time.perf_counter()
        self.note(what)
        try:
            yield
        except BaseException:
            if self.enabled:
                self.stream.write(f"\r\x1b[2K✗ {what}\n")
                self.stream.flush()
            raise
        if self.enabled:
            self.stream.write(f"\r\x1b[2K✓ {what} ({time.perf_counter() - start:.1f} s)\n")
            self.stream.flush()


class _UsageError(Exception):
    """Bad arguments found after parsing (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version  # noqa: PLC0415 - only for --version

    __version__ = version("shopmetrics")

    parser = argparse.ArgumentParser(
        prog="shopmetrics",
        description="Store operating metrics with intervals and honest flags.",
        epilog="Exit codes: 0 ok, 1 validation errors, 2 usage errors.",
    )
    parser.add_argument("--version", action="version", version=f"shopmetrics {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what is computed to stderr (-vv for debug detail)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="build the demo store, write its tables and weekly report",
        description="Build the demo store (with its planted traps), write its "
        "tables as Parquet into OUT/data/ and, when available, its weekly "
        "report to OUT/report.html and OUT/report.md.",
    )
    demo.add_argument("--out", default="demo-output", type=Path, help="output folder")
    demo.add_argument("--seed", default=0, type=int, help="random seed (same seed, same store)")
    demo.add_argument("--lang", default="en", choices=("en", "zh"), help="report language")
    demo.add_argument("--days", default=56, type=_positive_int, help="days of data (default 56)")
    demo.add_argument("--products", default=200, type=_positive_int, help="number of products")
    demo.add_argument(
        "--visitors-per-day", default=1500.0, type=float, help="average distinct visitors a day"
    )

    val = sub.add_parser(
        "validate",
        help="check tables and store exports against their contracts",
        description="Check tables and store exports and list every problem at once (exit 1 "
        "when any is an error). Takes the files as report does: store exports as plain "
        "FILEs (their kind says which table) or after their table's option; raw tables "
        "named by the file name (events.parquet -> events), as TABLE=PATH or by option.",
    )
    val.add_argument(
        "paths",
        nargs="*",
        metavar="FILE",
        help=f"store exports, tables named after theirs ({', '.join(TABLE_NAMES)}), or TABLE=PATH",
    )
    _table_options(val, "validate")

    _inspect_parser(sub)
    _report_parser(sub)
    return parser


def _report_parser(sub: Any) -> None:
    rep = sub.add_parser(
        "report",
        help="compute and write the weekly report",
        description="Compute the weekly report from Parquet or CSV tables, or from "
        "store exports as downloaded (生意参谋, 订单报表, spend reports, 评价). The "
        "output format follows the extension of --out (.html, .md, .xlsx).",
    )
    rep.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="store exports whose kind is recognised (shopmetrics inspect FILE says which), "
        "or tables named after theirs (orders.parquet)",
    )
    _table_options(rep, "report")
    rep.add_argument(
        "--week",
        type=_week,
        help="ISO week to report, e.g. 2026-W47 (default: the last complete week in the data)",
    )
    rep.add_argument("--tz", type=_tz, help="store time zone, e.g. Asia/Shanghai")
    rep.add_argument("--lang", default="en", choices=("en", "zh"), help="report language")
    rep.add_argument(
        "--out", required=True, type=Path, help="report.html, report.md or report.xlsx"
    )


def _table_options(command: Any, verb: str) -> None:
    """The table options ``report`` and ``validate`` share: one per table, --source, --columns."""
    for name in TABLE_NAMES:
        command.add_argument(
            f"--{name}",
            type=Path,
            metavar="PATH",
            action="append" if name in REPEATABLE else "store",
            help=f"the {name} table (Parquet or CSV)"
            + (", or store exports of it (repeatable)" if name in REPEATABLE else "")
            + ("; optional with a traffic export" if name == "events" and verb == "report" else ""),
        )
    command.add_argument(
        "--source",
        metavar="CHANNEL",
        help="channel of a spend report that does not name it (直通车, 引力魔方, 万相台)",
    )
    command.add_argument(
        "--columns",
        type=Path,
        metavar="MAPPING.json",
        help='JSON object {"their_name": "canonical_name"} (export headers or raw columns)',
    )


def _inspect_parser(sub: Any) -> None:
    from shopmetrics.io.exports import KINDS  # noqa: PLC0415 - plain data; only for choices

    ins = sub.add_parser(
        "inspect",
        help="say what shopmetrics makes of a store export",
        description="Read store exports the way every metric does and say which kind was "
        "recognised, the header row, the encoding, the column mapping, what is ignored "
        "and why, and the rows excluded.",
    )
    ins.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="export files or folders")
    ins.add_argument("--kind", choices=sorted(KINDS), help="force an export kind")
    ins.add_argument("--sheet", help="worksheet name or 0-based index (Excel)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"expected a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value <= 0:
        msg = f"expected a number above 0, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _week(text: str) -> str:
    m = _WEEK.match(text)
    if m:
        try:
            dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            pass
        else:
            return text
    msg = f"expected an ISO week such as 2026-W47, got {text!r}"
    raise argparse.ArgumentTypeError(msg)


def _tz(text: str) -> str:
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {text!r}; use an IANA name such as Asia/Shanghai"
        raise argparse.ArgumentTypeError(msg) from None
    return text


def _read_mapping(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read the column mapping {str(path)!r}: {exc.strerror or exc}"
        raise _UsageError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"the column mapping {str(path)!r} is not valid JSON: {exc}"
        raise _UsageError(msg) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        msg = (
            f"the column mapping {str(path)!r} must be a JSON object of names, "
            'e.g. {"pay_time": "paid_at"}'
        )
        raise _UsageError(msg)
    return data


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        msg = f"{what}: file {str(path)!r} does not exist"
        raise _UsageError(msg)
    return path


def _write_report(report: Any, path: Path, fmt: str, lang: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        report.to_html(path, lang=lang)
    elif fmt == "markdown":
        report.to_markdown(path, lang=lang)
    else:
        report.to_excel(path, lang=lang)


# ------------------------------------------------------------------ commands


def _cmd_demo(args: argparse.Namespace, out: IO[str], progress: Progress) -> int:
    from shopmetrics.datasets import make_store  # noqa: PLC0415 - heavy; not for --help
    from shopmetrics.report.weekly import weekly_report  # noqa: PLC0415

    with progress.step("building the demo store"):
        store = make_store(
            seed=args.seed,
            days=args.days,
            products=args.products,
            visitors_per_day=args.visitors_per_day,
        )
    data_dir = args.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    tables = dict(store.tables())
    if getattr(store, "dsr_peers", None) is not None:
        tables["dsr_peers"] = store.dsr_peers
    written: list[Path] = []
    with progress.step(f"writing {len(tables)} tables"):
        for name, frame in tables.items():
            path = data_dir / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            written.append(path)
    for path in written:
        out.write(f"{path}\n")
    with progress.step("computing the weekly report"):
        frames: dict[str, Any] = {**store.tables(), "dsr_peers": store.dsr_peers}
        report = weekly_report(
            **frames,
            tz=store.tz,
            lang=args.lang,
            progress=progress.note,
        )
    for name, fmt in (("report.html", "html"), ("report.md", "markdown")):
        path = args.out / name
        with progress.step(f"writing {path}"):
            _write_report(report, path, fmt, args.lang)
        out.write(f"{path}\n")
    return 0


def _cmd_validate(args: argparse.Namespace, out: IO[str], progress: Progress) -> int:
    from shopmetrics.io.values import problems_text  # noqa: PLC0415 - heavy; not for --help

    args.files = _validate_files(args)
    if not args.files and not any(getattr(args, n) for n in TABLE_NAMES):
        raise _UsageError("validate needs a file: FILE, TABLE=PATH or --orders PATH ...")
    mapping = _read_mapping(args.columns)
    with progress.step("reading the files"):
        inputs = _read_inputs(args, mapping)
    lines = _read_lines(inputs.reads)
    unparsed = [(r, p) for r in inputs.reads for p in r.canonical.problems]
    if unparsed:
        lines.append(f"FAILED: {len(unparsed)} export column(s) hold values that do not parse")
        lines.extend(
            f"  {r.path.name} ({r.canonical.table}): {problems_text([p])}" for r, p in unparsed
        )
    with progress.step(f"checking {', '.join(inputs.tables)}"):
        checked = _check_tables(inputs.tables, inputs.columns) if inputs.tables else []
    lines.extend(_validation_text(r) for r in checked)
    out.write("\n".join(lines) + "\n")
    return 0 if not unparsed and all(r.ok for r in checked) else 1


def _validate_files(args: argparse.Namespace) -> list[Path]:
    """validate's positional items: ``TABLE=PATH`` to its table's option; store exports and
    files named after their table kept as FILEs (anything else is a usage error)."""
    files: list[Path] = []
    for item in args.paths:
        name, sep, rest = item.partition("=")
        if sep and name in TABLE_NAMES:
            _declare(args, name, _existing(Path(rest), name))
            continue
        path = _existing(Path(item), "FILE")
        stem = path.name.split(".")[0]
        raw = path.suffix.lower() in (".parquet", ".pq") or not _looks_like_export(path)
        if stem not in TABLE_NAMES and raw:
            guess = suggest(stem, TABLE_NAMES) or "TABLE"
            msg = (
                f"cannot tell which table {item!r} is: not a known store export and its name "
                f"{stem!r} is not one of {list(TABLE_NAMES)}. Rename the file or write "
                f"TABLE=PATH, e.g. {guess}={item} (shopmetrics inspect {item} says what it is)"
            )
            raise _UsageError(msg)
        files.append(path)
    return files


def _declare(args: argparse.Namespace, name: str, path: Path) -> None:
    """``TABLE=PATH`` as if given as ``--TABLE PATH``."""
    if name in REPEATABLE:
        setattr(args, name, [*(getattr(args, name) or []), path])
    elif getattr(args, name) is not None:
        msg = f"two files for the {name} table: {str(getattr(args, name))!r} and {str(path)!r}"
        raise _UsageError(msg)
    else:
        setattr(args, name, path)


def _validation_text(report: Any) -> str:
    rows = ", ".join(f"{t} ({n:,} rows)" for t, n in report.rows.items())
    if not report.problems:
        return f"OK: no problems found in {rows}."
    verdict = "FAILED" if not report.ok else "OK with warnings"
    lines = [
        f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s) in {rows}"
    ]
    for i, p in enumerate(report.problems, start=1):
        where = ".".join(x for x in (p.table, p.column) if x)
        n = f", {p.n_rows:,} rows" if p.n_rows is not None else ""
        lines.append(f"{i:>3}. [{p.severity}] {p.code} ({where}{n})")
        lines.append(f"     {p.message}")
        lines.extend(f"     e.g. {dict(ex)}" for ex in p.examples[:3])
    return "\n".join(lines)


def _cmd_inspect(args: argparse.Namespace, out: IO[str], progress: Progress) -> int:
    from shopmetrics.io.files import ReadError  # noqa: PLC0415 - heavy; not for --help
    from shopmetrics.io.inspect import inspect  # noqa: PLC0415

    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    failed: list[str] = []
    shown = 0
    for path in args.paths:
        with progress.step(f"reading {path}"):
            try:
                found = inspect(path, kind=args.kind, sheet=sheet)
            except ReadError as exc:
                failed.append(str(exc))
                continue
        out.write(("\n" if shown else "") + str(found) + "\n")
        shown += 1
    if failed:
        raise _UsageError("cannot read " + "; ".join(failed))
    return 0


@dataclasses.dataclass(frozen=True)
class _Read:
    """One store export: its file and its :class:`~shopmetrics.io.convert.Canonical` table."""

    path: Path
    canonical: Any


@dataclasses.dataclass
class _Inputs:
    """The report's tables: paths of raw tables, frames converted from exports, what was read.

    Attributes:
        tables: Table name → a path (raw Parquet / CSV table) or a pandas frame (exports);
            ``traffic`` may be a list (one table per export kind).
        reads: The exports read (for stdout and the report's audit section).
        columns: The ``--columns`` entries not used by an export (for the raw tables).
    """

    tables: dict[str, Any]
    reads: list[_Read]
    columns: dict[str, str] | None


def _given_files(args: argparse.Namespace) -> list[tuple[str | None, Path]]:
    """(option's table or ``None`` for a plain FILE, path) of every file named."""
    items: list[tuple[str | None, Path]] = []
    for name in TABLE_NAMES:
        value = getattr(args, name)
        paths = value if isinstance(value, list) else [value] if value else []
        items.extend((name, _existing(path, f"--{name}")) for path in paths)
    items.extend((None, _existing(path, "FILE")) for path in args.files)
    return items


def _read_export(path: Path, declared: str | None) -> Any:
    """The :class:`~shopmetrics.io.files.ReadResult` of a store export, or ``None`` for a
    raw table (Parquet, events, peers, or a file of no known export kind)."""
    from shopmetrics.io.files import ReadError, read_table  # noqa: PLC0415

    if declared in ("events", "peers") or path.suffix.lower() in (".parquet", ".pq"):
        return None
    try:
        if not _looks_like_export(path):
            return None  # a raw CSV table: the engine reads it (not read twice, as text)
        read = read_table(path)
    except ReadError as exc:
        raise _UsageError(str(exc)) from None
    return read if read.kind is not None else None


def _looks_like_export(path: Path) -> bool:
    """Whether a text file's first rows carry a known export's headers (only its first
    64 KiB are read); Excel files and folders are read whole."""
    from shopmetrics.io._sources import TEXT_SUFFIXES, open_source  # noqa: PLC0415
    from shopmetrics.io.exports import recognise  # noqa: PLC0415
    from shopmetrics.io.files import find_header  # noqa: PLC0415

    if not (path.is_file() and path.suffix.lower() in TEXT_SUFFIXES):
        return True
    head = open_source(path).head
    row = find_header(head)
    if row < 0:
        return True  # no header found: the full read says why
    title = " ".join(c for r in head[:row] for c in r if c)
    headers = [c for c in head[row] if c]
    return recognise(headers, hint=f"{path.name} {title}").kind is not None


def _plain_table(path: Path, declared: str | None, plain: dict[str, Path]) -> None:
    """Record a raw table: named by its option or its file name."""
    name = declared or path.name.split(".")[0]
    if name not in TABLE_NAMES:
        msg = (
            f"cannot tell what {str(path)!r} is: not a known store export (shopmetrics "
            f"inspect {path} says what it found) and its name {name!r} is not one of "
            f"{list(TABLE_NAMES)}. Pass it after its table's option, e.g. --orders {path}"
        )
        raise _UsageError(msg)
    if name in plain:
        msg = f"two files for the {name} table: {str(plain[name])!r} and {str(path)!r}"
        raise _UsageError(msg)
    plain[name] = path


def _mapping_for(read: Any, mapping: dict[str, str] | None, used: set[str]) -> dict[str, str]:
    """The ``--columns`` entries naming a header of this export (spaces and width aside)."""
    from shopmetrics.io.exports import header_key  # noqa: PLC0415

    if not mapping:
        return {}
    keys = {header_key(str(c)) for c in read.data.columns}
    mine = {k: v for k, v in mapping.items() if header_key(k) in keys}
    used.update(mine)
    return mine


def _convert(read: Any, declared: str | None, columns: dict[str, str], source: str | None) -> Any:
    """An export's :class:`~shopmetrics.io.convert.Canonical` table, checked against the
    option it was given with."""
    from shopmetrics.errors import SchemaError  # noqa: PLC0415
    from shopmetrics.io.convert import to_canonical  # noqa: PLC0415
    from shopmetrics.io.exports import KINDS  # noqa: PLC0415

    kind = KINDS[read.kind]
    name = Path(read.path).name
    table = EXPORT_TABLES.get(kind.table, kind.table)
    if declared is not None and declared != table:
        msg = (
            f"--{declared} {name}: this is a {kind.title}, which feeds the {table} table; "
            f"pass it as --{table} or as a plain FILE"
        )
        raise _UsageError(msg)
    try:
        return to_canonical(read, columns=columns or None, source=source)
    except SchemaError as exc:
        hint = " (on the command line: --source 直通车)" if kind.table == "spend" else ""
        raise _UsageError(f"{name}: {exc}{hint}") from None


def _read_inputs(args: argparse.Namespace, mapping: dict[str, str] | None) -> _Inputs:
    """Every file named: raw tables kept as paths, store exports read and converted."""
    plain: dict[str, Path] = {}
    converted: list[_Read] = []
    used: set[str] = set()
    for declared, path in _given_files(args):
        read = _read_export(path, declared)
        if read is None:
            _plain_table(path, declared, plain)
        else:
            columns = _mapping_for(read, mapping, used)
            converted.append(_Read(path, _convert(read, declared, columns, args.source)))
    rest = {k: v for k, v in (mapping or {}).items() if k not in used}
    if rest and not plain:
        msg = f"--columns names {sorted(rest)}, which are in none of the files"
        raise _UsageError(msg)
    tables: dict[str, Any] = {k: str(v) for k, v in plain.items()}
    for name, value in _combine(converted).items():
        if name in tables:
            msg = (
                f"the {name} table was given twice: as {tables[name]!r} and as store "
                "exports; give one or the other"
            )
            raise _UsageError(msg)
        tables[name] = value
    return _Inputs(tables, converted, rest or None)


_ROLES = {"sycm_product": "products", "sycm_source": "sources", "sycm_shop": "shop"}
"""Traffic export kinds by what their rows are (one traffic table each)."""


def _combine(converted: Sequence[_Read]) -> dict[str, Any]:
    """Converted exports as the report's tables: one frame per table (several files of
    one kind concatenated), a 宝贝报表 joined to its 订单报表, traffic kept per kind."""
    import pandas as pd  # noqa: PLC0415

    from shopmetrics.io.convert import join_lines  # noqa: PLC0415

    groups: dict[str, list[Any]] = {}
    for r in converted:
        c = r.canonical
        key = f"traffic:{_ROLES.get(c.kind or '', c.kind)}" if c.table == "traffic" else c.table
        groups.setdefault(key, []).append(c)
    lines = groups.pop("order_lines", [])
    orders = groups.get("orders", [])
    if lines and (len(lines) > 1 or len(orders) != 1 or orders[0].kind != "taobao_orders"):
        msg = (
            "a 宝贝报表 (line items) takes its paid amounts from its 订单报表 (ExportOrderList): "
            f"pass one of each (got {len(lines)} 宝贝报表 and {len(orders)} order exports; "
            "put several months in one folder each)"
        )
        raise _UsageError(msg)
    if lines:
        groups["orders"] = [join_lines(orders[0], lines[0])]

    def frame(items: list[Any]) -> Any:
        if len(items) == 1:
            return items[0].data
        return pd.concat([c.data for c in items], ignore_index=True, sort=False)

    out: dict[str, Any] = {k: frame(v) for k, v in groups.items() if ":" not in k}
    traffic = [frame(v) for k, v in sorted(groups.items()) if k.startswith("traffic:")]
    if traffic:
        out["traffic"] = traffic[0] if len(traffic) == 1 else traffic
    return out


def _check_tables(tables: dict[str, Any], columns: dict[str, str] | None) -> list[Any]:
    """Validation reports of the tables (one per extra traffic export)."""
    from shopmetrics.validation import validate  # noqa: PLC0415

    traffic = tables.get("traffic")
    extra = traffic[1:] if isinstance(traffic, list) else []
    first = {**tables, "traffic": traffic[0]} if isinstance(traffic, list) else tables
    return [
        validate(**first, columns=columns),
        *(validate(traffic=t, columns=columns) for t in extra),
    ]


def _read_lines(reads: Sequence[_Read]) -> list[str]:
    """One line per export read: its kind, the table it feeds, rows kept and left out."""
    lines = []
    for r in reads:
        c = r.canonical
        gone = ", ".join(
            f"{e.rows} {e.reason.replace('_', ' ')}{'s' if e.rows != 1 else ''}" for e in c.excluded
        )
        lines.append(
            f"read {r.path.name}: {c.kind} -> {c.table}, {len(c.data):,} "
            + ("row" if len(c.data) == 1 else "rows")
            + (f" ({gone} excluded)" if gone else "")
        )
    return lines


def _cmd_report(args: argparse.Namespace, out: IO[str], progress: Progress) -> int:
    from shopmetrics.io.values import problems_text  # noqa: PLC0415 - heavy; not for --help
    from shopmetrics.report.sections import inputs_section  # noqa: PLC0415
    from shopmetrics.report.weekly import weekly_report  # noqa: PLC0415

    fmt = REPORT_FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        msg = (
            f"cannot tell the report format from {str(args.out)!r}; end --out with one of "
            f"{sorted(REPORT_FORMATS)}"
        )
        raise _UsageError(msg)
    mapping = _read_mapping(args.columns)
    with progress.step("reading the files"):
        inputs = _read_inputs(args, mapping)
    if "events" not in inputs.tables and "traffic" not in inputs.tables:
        msg = (
            "report needs --events (raw events) or a traffic export (生意参谋 商品效果, 流量来源 "
            "or 店铺整体) as --traffic or a FILE"
        )
        raise _UsageError(msg)
    for line in _read_lines(inputs.reads):
        out.write(line + "\n")
    unparsed = [(r, p) for r in inputs.reads for p in r.canonical.problems]
    if unparsed:
        out.write(f"FAILED: {len(unparsed)} column(s) hold values that do not parse\n")
        for r, p in unparsed:
            out.write(f"  {r.path.name} ({r.canonical.table}): {problems_text([p])}\n")
        out.write("Fix or remove these cells (shopmetrics inspect FILE lists them) and rerun.\n")
        return 1
    with progress.step("checking the tables"):
        checked = _check_tables(inputs.tables, inputs.columns)
    if not all(r.ok for r in checked):
        out.write("\n".join(_validation_text(r) for r in checked) + "\n")
        return 1
    kwargs: dict[str, Any] = {
        **inputs.tables,
        "week": args.week,
        "tz": args.tz,
        "columns": inputs.columns,
        "lang": args.lang,
        "progress": progress.note,
    }
    with progress.step("aggregating and modelling"):
        try:
            report = weekly_report(**kwargs)
        except ValidationError as exc:
            out.write(_validation_text(exc.report) + "\n")
            return 1
    if inputs.reads:
        files = [(r.path.name, r.canonical) for r in inputs.reads]
        report = dataclasses.replace(report, sections=[*report.sections, inputs_section(files)])
    with progress.step(f"writing {args.out}"):
        _write_report(report, args.out, fmt, args.lang)
    out.write(f"{args.out}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 validation errors, 2 usage).

    Args:
        argv: The arguments (``sys.argv[1:]`` when ``None``).
    """
    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
    commands = {
        "demo": _cmd_demo,
        "validate": _cmd_validate,
        "inspect": _cmd_inspect,
        "report": _cmd_report,
    }
    progress = Progress(sys.stderr)

    try:
        return commands[args.command](args, sys.stdout, progress)
    except _UsageError as exc:
        sys.stderr.write(f"shopmetrics {args.command}: error: {exc}\n")
        return 2
    except (ShopmetricsError, MissingDependencyError, OSError) as exc:
        sys.stderr.write(f"shopmetrics {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a failure inside a computation: say it, exit 1
        _LOG.debug("shopmetrics %s failed", args.command, exc_info=True)
        sys.stderr.write(
            f"shopmetrics {args.command}: error: {type(exc).__name__}: {exc} "
            "(run with -vv for the traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
