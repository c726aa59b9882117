"""The ``shopmetrics`` command line.

Subcommands::

    shopmetrics demo [--out DIR] [--seed N] [--lang en|zh]
    shopmetrics validate PATH... [--columns mapping.json]
    shopmetrics report --events E --orders O [--ratings R --spend S --peers P --traffic T]
                       [--week 2026-W47] [--tz Asia/Shanghai] [--columns mapping.json]
                       [--lang en|zh] --out report.html

Exit codes: 0 success; 1 the data has validation errors (printed as a list) or a
computation failed; 2 usage errors (argparse's own, unreadable arguments, missing files).

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
        help="check tables against their contracts",
        description="Check tables and list every problem at once. The table is "
        "named by the file name (events.parquet -> events), or explicitly as "
        "TABLE=PATH.",
    )
    val.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=f"Parquet or CSV files named after a table ({', '.join(TABLE_NAMES)}), or TABLE=PATH",
    )
    val.add_argument(
        "--columns",
        type=Path,
        metavar="MAPPING.json",
        help='JSON object {"their_name": "canonical_name"}',
    )

    rep = sub.add_parser(
        "report",
        help="compute and write the weekly report",
        description="Compute the weekly report from Parquet or CSV tables. The "
        "output format follows the extension of --out (.html, .md, .xlsx).",
    )
    for name in TABLE_NAMES:
        rep.add_argument(
            f"--{name}",
            type=Path,
            metavar="PATH",
            required=name in ("events", "orders"),
            help=f"the {name} table (Parquet or CSV)",
        )
    rep.add_argument(
        "--week",
        type=_week,
        help="ISO week to report, e.g. 2026-W47 (default: the last complete week in the data)",
    )
    rep.add_argument("--tz", type=_tz, help="store time zone, e.g. Asia/Shanghai")
    rep.add_argument(
        "--columns",
        type=Path,
        metavar="MAPPING.json",
        help='JSON object {"their_name": "canonical_name"}',
    )
    rep.add_argument("--lang", default="en", choices=("en", "zh"), help="report language")
    rep.add_argument(
        "--out", required=True, type=Path, help="report.html, report.md or report.xlsx"
    )
    return parser


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


def _table_paths(items: Sequence[str]) -> dict[str, Path]:

    tables: dict[str, Path] = {}
    for item in items:
        name, sep, rest = item.partition("=")
        if sep and name in TABLE_NAMES:
            path = Path(rest)
        else:
            path = Path(item)
            name = path.name.split(".")[0]
        if name not in TABLE_NAMES:
            guess = suggest(name, TABLE_NAMES) or "TABLE"
            msg = (
                f"cannot tell which table {item!r} is: its name {name!r} is not one of "
                f"{list(TABLE_NAMES)}. Rename the file or write TABLE=PATH, "
                f"e.g. {guess}={item}"
            )
            raise _UsageError(msg)
        if name in tables:
            msg = f"two files for the {name} table: {str(tables[name])!r} and {str(path)!r}"
            raise _UsageError(msg)
        tables[name] = _existing(path, name)
    return tables


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
    from shopmetrics.validation import validate  # noqa: PLC0415 - loads the engine; not for --help

    tables = _table_paths(args.paths)
    mapping = _read_mapping(args.columns)
    paths: dict[str, Any] = {k: str(v) for k, v in tables.items()}
    with progress.step(f"reading and checking {', '.join(tables)}"):
        report = validate(**paths, columns=mapping)
    out.write(_validation_text(report) + "\n")
    return 0 if report.ok else 1


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


def _cmd_report(args: argparse.Namespace, out: IO[str], progress: Progress) -> int:
    from shopmetrics.report.weekly import weekly_report  # noqa: PLC0415 - heavy; not for --help
    from shopmetrics.validation import validate  # noqa: PLC0415 - loads the engine; not for --help

    fmt = REPORT_FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        msg = (
            f"cannot tell the report format from {str(args.out)!r}; end --out with one of "
            f"{sorted(REPORT_FORMATS)}"
        )
        raise _UsageError(msg)
    tables: dict[str, Any] = {
        name: str(_existing(getattr(args, name), f"--{name}"))
        for name in TABLE_NAMES
        if getattr(args, name) is not None
    }
    mapping = _read_mapping(args.columns)
    with progress.step("reading and checking the tables"):
        checked = validate(**tables, columns=mapping)
    if not checked.ok:
        out.write(_validation_text(checked) + "\n")
        return 1
    kwargs: dict[str, Any] = {
        **tables,
        "week": args.week,
        "tz": args.tz,
        "columns": mapping,
        "lang": args.lang,
        "progress": progress.note,
    }
    with progress.step("aggregating and modelling"):
        try:
            report = weekly_report(**kwargs)
        except ValidationError as exc:
            out.write(_validation_text(exc.report) + "\n")
            return 1
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
    commands = {"demo": _cmd_demo, "validate": _cmd_validate, "report": _cmd_report}
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
