"""A read export to a canonical table: columns mapped, text parsed, semantics applied.

:func:`to_canonical` turns a :class:`~shopmetrics.io.files.ReadResult` (or a text table)
into the table a metric takes (``orders``, ``traffic``, ``spend``, ``ratings``): headers
mapped by the export kind's vocabulary, every known column parsed
(:mod:`shopmetrics.io.values`), the kind's semantics applied
(:mod:`shopmetrics.io.semantics`), and everything that did not parse or was left out
reported, not dropped silently.

Examples:
    >>> import pandas as pd
    >>> from shopmetrics.io.convert import to_canonical
    >>> text = pd.DataFrame({"订单编号": ["3412345678901234567", "3412345678901234568"],
    ...                      "买家会员名": ["tb1", "tb2"],
    ...                      "订单创建时间": ["2026-11-01 10:00:00", "2026-11-01 11:00:00"],
    ...                      "订单付款时间 ": ["2026-11-01 10:05:00", None],
    ...                      "买家实际支付金额": ["1,234.00", "99.00"],
    ...                      "订单状态": ["交易成功", "等待买家付款"]})
    >>> c = to_canonical(text)
    >>> c.table, c.kind
    ('orders', 'taobao_orders')
    >>> c.data[["order_id", "amount", "status"]]
                  order_id  amount  status
    0  3412345678901234567  1234.0    paid
    1  3412345678901234568    99.0  unpaid
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.errors import SchemaError
from shopmetrics.io import semantics as sem
from shopmetrics.io.exports import (
    HELPERS,
    KINDS,
    SCENE_SOURCES,
    ExportKind,
    Recognition,
    header_key,
    recognise,
)
from shopmetrics.io.files import ReadResult
from shopmetrics.io.values import ValueProblem, parse_numbers, parse_times

__all__ = [
    "LIMIT_PREFIXES",
    "UNCONFIRMED",
    "Canonical",
    "cannot_give",
    "join_lines",
    "kind_note",
    "to_canonical",
]


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Canonical:
    """A canonical table made from an export.

    Attributes:
        table: ``orders``, ``traffic``, ``spend``, ``ratings`` (``order_lines`` for a
            宝贝报表 before :func:`join_lines`).
        kind: The export kind.
        data: Canonical columns, parsed (ids and text as strings, counts ``Int64``, money
            and scores ``float64``, times ``datetime64[ns]``), plus extra columns kept.
        mapping: Header → canonical column used.
        ignored: Header → why it was not used.
        problems: Cells that did not parse (their values are missing in ``data``).
        excluded: Rows left out (summary rows, subtotals, lines without an order).
        notes: What was done, for the audit.
    """

    table: str
    kind: str | None
    data: pd.DataFrame
    mapping: dict[str, str]
    ignored: dict[str, str]
    problems: tuple[ValueProblem, ...]
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]

    def audit(self) -> Audit:
        """The audit record: rows in, rows excluded, notes."""
        kept = len(self.data) + sum(e.rows for e in self.excluded)
        return Audit({self.table: kept}, self.excluded, self.notes)


def _user_mapping(present: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    """The user's ``columns=`` keyed by the table's own headers (space- and width-insensitive)."""
    by_key = {header_key(c): c for c in present}
    out = {}
    for given, target in columns.items():
        found = given if given in present else by_key.get(header_key(given))
        if found is None:
            from shopmetrics.errors import suggest  # noqa: PLC0415

            hint = suggest(given, present)
            msg = (
                f"columns= names {given!r}, which is not in the table. Columns present: {present}."
            )
            if hint:
                msg += f" Did you mean {hint!r}?"
            raise SchemaError(msg)
        out[found] = target
    return out


def _recognition(
    data: pd.DataFrame, kind: str | None, hint: str, columns: Mapping[str, str] | None
) -> tuple[ExportKind, Recognition]:
    present = [str(c) for c in data.columns]
    rec = recognise(present, kind=kind, hint=hint)
    chosen = rec.kind
    if chosen is None:
        heads = ", ".join(present[:12])
        msg = (
            f"not a known export (headers: {heads}); pass kind= (one of "
            f"{sorted(KINDS)}) or map the columns with columns="
        )
        raise SchemaError(msg)
    if columns:
        mapping = {h: t for h, t in rec.mapping.items() if t not in columns.values()}
        mapping.update(_user_mapping(present, columns))
        ignored = {h: r for h, r in rec.ignored.items() if h not in mapping}
        rec = Recognition(chosen, mapping, ignored, rec.did_you_mean)
    return chosen, rec


def _parse(
    kind: ExportKind, data: pd.DataFrame, mapping: Mapping[str, str]
) -> tuple[pd.DataFrame, list[ValueProblem]]:
    """Canonical columns parsed by the value kind of their spec."""
    specs = {c.canonical: c for c in kind.columns if c.canonical}
    out: dict[str, Any] = {}
    problems: list[ValueProblem] = []
    for header, target in mapping.items():
        spec = specs.get(target)
        value = spec.value if spec else "text"
        text = data[header].reset_index(drop=True)
        if value in ("count", "money", "rate", "score", "running"):
            number = {"money": "money", "running": "money"}.get(value, value)
            parsed = parse_numbers(text, column=header, kind=number)  # type: ignore[arg-type]
        elif value in ("time", "date"):
            parsed = parse_times(text, column=header)
        else:
            out[target] = text
            if value == "id":
                problems.extend(_lossy_ids(header, text))
            continue
        out[target] = parsed.values  # noqa: PD011 - Parsed.values, not a pandas attribute
        problems.extend(parsed.problems)
    return pd.DataFrame(out, index=pd.RangeIndex(len(data))), problems


def _lossy_ids(header: str, text: pd.Series) -> list[ValueProblem]:
    """Ids Excel re-saved as numbers (``1.23E+17``, ``…00.00``): cannot be recovered."""
    bad = text.str.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+|\d+\.0+").fillna(False).to_numpy(dtype=bool)
    if not bad.any():
        return []
    rows = np.flatnonzero(bad)
    examples = tuple(dict.fromkeys(text.iloc[rows[:20]].tolist()))[:3]
    return [ValueProblem(header, "id_as_number", len(rows), tuple(map(int, rows[:5])), examples)]


def to_canonical(
    read: ReadResult | pd.DataFrame,
    *,
    kind: str | None = None,
    source: str | None = None,
    columns: Mapping[str, str] | None = None,
    scene_sources: Mapping[str, str] | None = None,
) -> Canonical:
    """Map, parse and interpret an export.

    Args:
        read: What :func:`~shopmetrics.io.files.read_table` returned, or a table of text.
        kind: The export kind, when recognition should not decide.
        source: ``source`` of every row of a spend report without a 场景 column (default:
            the kind's, e.g. 直通车).
        columns: The user's own mapping (header → canonical name); each key must be a
            column of the table (spaces and width do not matter).
        scene_sources: 场景名字 → ``source`` entries that override or extend
            :data:`~shopmetrics.io.exports.SCENE_SOURCES` (a spend report's scenes).

    Raises:
        SchemaError: for an unrecognised export, a ``columns=`` key not in the table, or a
            spend report without a source.
    """
    data = read.data if isinstance(read, ReadResult) else read
    hint = ""
    if isinstance(read, ReadResult):
        hint = " ".join([read.path, *(t for f in read.files for t in f.title)])
    export, rec = _recognition(data, kind, hint, columns)
    frame, problems = _parse(export, data, rec.mapping)
    extras = [c for c in data.columns if c not in rec.mapping]
    excluded: list[Exclusion] = []
    notes: list[str] = []
    if isinstance(read, ReadResult):
        excluded.extend(read.exclusions(export.table))
        notes.extend(read.notes())
    notes.append(kind_note(export))
    scenes = {**SCENE_SOURCES, **(scene_sources or {})}
    frame, more = _apply(export, frame, read, source, problems)
    notes.extend(_unconfirmed(export, frame))
    frame = frame.drop(columns=["_balance_unpaid"], errors="ignore")
    excluded.extend(more)
    if export.table == "spend" and "source" in rec.mapping.values():
        frame = _scenes(frame, export, scenes, notes)
    notes.extend(_cannot_give(export, rec.mapping))
    if "date" in frame.columns and "date" not in rec.mapping.values():
        notes.append("date: the period of each file's title rows (the table has no date column)")
    for col in extras:
        if col not in frame.columns:
            frame[col] = data[col].reset_index(drop=True).reindex(frame.index)
    notes.extend(export.notes)
    helpers = [c for c in frame.columns if c in HELPERS]
    if export.table != "order_lines":
        frame = frame.drop(columns=helpers)
    return Canonical(
        export.table,
        export.name,
        frame.reset_index(drop=True),
        dict(rec.mapping),
        dict(rec.ignored),
        tuple(problems),
        tuple(excluded),
        tuple(notes),
    )


def _apply(
    export: ExportKind,
    frame: pd.DataFrame,
    read: ReadResult | pd.DataFrame,
    source: str | None,
    problems: list[ValueProblem],
) -> tuple[pd.DataFrame, list[Exclusion]]:
    excluded: list[Exclusion] = []
    if export.table in ("traffic", "spend") and "date" not in frame.columns:
        frame = _date_from_title(frame, read)
    if any(c.startswith("source_level_") for c in frame.columns):
        frame, excluded = _levels(frame, export)
    if export.table == "spend" and "source" not in frame.columns:
        chosen = source or export.default_source
        if chosen is None:
            msg = (
                f"{export.title}: no 场景名字 column and no channel in the title or file name; "
                "pass source='直通车' (or '引力魔方', '万相台') once"
            )
            raise SchemaError(msg)
        frame["source"] = chosen
    if export.order_level:
        frame = _order_lines(frame, export, problems)
    if export.table == "orders":
        frame = _orders(frame, problems)
    return frame, excluded


def _scenes(
    frame: pd.DataFrame, export: ExportKind, table: Mapping[str, str], notes: list[str]
) -> pd.DataFrame:
    """场景名字 → ``source`` by :data:`SCENE_SOURCES`; the scene kept in ``scene``."""
    frame = frame.copy()
    frame["scene"] = frame["source"]
    frame["source"], unknown = sem.scene_sources(frame["scene"], table, export.default_source)
    used = sorted(
        {f"{a} → {b}" for a, b in zip(frame["scene"], frame["source"], strict=True) if a and b}
    )
    notes.append("source from 场景名字 (the scene is kept in 'scene'): " + "; ".join(used[:12]))
    if unknown:
        fallback = (
            f"the report's channel {export.default_source!r}"
            if export.default_source
            else "their own name"
        )
        notes.append(
            f"scenes not in SCENE_SOURCES take {fallback}: {', '.join(unknown[:8])}; "
            "map them with scene_sources={...}"
        )
    return frame


UNCONFIRMED = "unconfirmed rule applied: "
"""The start of an audit note saying a rule the export spec marks *unconfirmed* was used."""

LIMIT_PREFIXES = ("no 商品访客数", "no 浏览量", UNCONFIRMED)
"""Audit notes that ``inspect`` shows as what a file cannot give."""

_NEEDS_VISITORS = (
    "no 商品访客数 / 访客数 column: visitors, conversion (支付转化率 = 支付买家数 / 访客数), "
    "cart and favourite rates and visitor value (UV价值) cannot be computed from this file; "
    "download it again with 访客数 ticked, or use raw events"
)


def kind_note(export: ExportKind) -> str:
    """The audit's line naming the export kind and its grain."""
    return f"export kind: {export.name} ({export.title}); grain: {export.grain}"


def cannot_give(export: ExportKind, mapping: Mapping[str, str]) -> list[str]:
    """What a traffic export without its visitor columns cannot give (audit notes)."""
    return _cannot_give(export, mapping)


def _cannot_give(export: ExportKind, mapping: Mapping[str, str]) -> list[str]:
    """What a traffic export without its visitor columns cannot give, said once."""
    if export.table != "traffic":
        return []
    targets = set(mapping.values())
    out = [] if "visitors" in targets else [_NEEDS_VISITORS]
    if "page_views" not in targets:
        out.append("no 浏览量 column: page views and views per visitor cannot be computed")
    return out


def _date_from_title(frame: pd.DataFrame, read: ReadResult | pd.DataFrame) -> pd.DataFrame:
    periods = read.row_periods() if isinstance(read, ReadResult) else []
    if not periods or any(p is None for p in periods):
        return frame
    frame = frame.copy()
    frame["date"] = pd.Series([p[0] for p in periods if p], dtype="datetime64[ns]")
    if any(p[0] != p[1] for p in periods if p):
        frame["period_end"] = pd.Series([p[1] for p in periods if p], dtype="datetime64[ns]")
    return frame


def _levels(frame: pd.DataFrame, export: ExportKind) -> tuple[pd.DataFrame, list[Exclusion]]:
    levels = [frame[c] for c in sorted(c for c in frame.columns if c.startswith("source_level_"))]
    deepest, path = sem.source_paths(levels)
    frame = frame.assign(source=deepest, source_path=path)
    keys = frame[[c for c in ("date", "product_id", "keyword") if c in frame.columns]]
    sub = sem.subtotal_rows(path, keys)
    if not sub.any():
        return frame, []
    gone = Exclusion(
        export.table, "subtotal_row", int(sub.sum()), "parent sources whose children are present"
    )
    return frame[~sub].reset_index(drop=True), [gone]


def _order_lines(
    frame: pd.DataFrame, export: ExportKind, problems: list[ValueProblem]
) -> pd.DataFrame:
    """Order-level cells onto every line; the order amount taken once and allocated."""
    frame = frame.copy()
    if frame["order_id"].isna().iloc[:1].any():
        problems.append(ValueProblem("order_id", "line_without_order", 1, (0,), ("",)))
    order = frame["order_id"].ffill()
    frame["order_id"] = order
    for col in export.order_level:
        if col in frame.columns and col != "order_id":
            first = frame[col].groupby(order).transform("first")
            differs = frame[col].notna() & (frame[col] != first)
            if differs.any():
                rows = np.flatnonzero(differs.to_numpy())
                examples = tuple(str(v) for v in frame[col].iloc[rows[:3]])
                problems.append(
                    ValueProblem(
                        col, "order_level_differs", len(rows), tuple(map(int, rows[:5])), examples
                    )
                )
            frame[col] = first
    if "amount" in frame.columns:
        weight = None
        if "unit_price" in frame.columns and "quantity" in frame.columns:
            weight = frame["unit_price"].astype("float64") * frame["quantity"].astype("float64")
        frame["order_amount"] = frame["amount"]
        frame["amount"] = sem.allocate(order, frame["amount"], weight)
    return frame


UNCONFIRMED_1688_STATUSES: frozenset[str] = frozenset(
    {"等待买家付款", "等待卖家发货", "退款中", "交易关闭"}
)
"""1688 订单状态 values seen only in code of unidentified repositories (spec §10: *unconfirmed*)."""


def _unconfirmed(export: ExportKind, frame: pd.DataFrame) -> list[str]:
    """Audit notes for every rule used on this table that the export spec marks *unconfirmed*."""
    out: list[str] = []
    if export.table != "orders":
        return out
    status = frame.get("status_text")
    if export.name == "ali1688_orders" and status is not None:
        norm = sem.normalise_status(status)
        for value in sorted(UNCONFIRMED_1688_STATUSES & set(norm.dropna().unique().tolist())):
            n = int((norm == value).sum())
            how = sem.status_reading(value)
            out.append(f"{UNCONFIRMED}1688 订单状态 {value!r} read as {how} ({n} rows)")
    flagged = frame.get("is_presale")
    if flagged is None or not flagged.any():
        return out
    stages = frame.get("presale_stages")
    staged = stages.notna() if stages is not None else pd.Series(False, index=frame.index)
    by_deposit = int((flagged & ~staged).sum())
    if by_deposit:
        out.append(
            f"{UNCONFIRMED}特权订金订单id non-empty read as a presale order ({by_deposit} rows "
            "without 分阶段订单信息)"
        )
    unpaid = int(frame["_balance_unpaid"].sum()) if "_balance_unpaid" in frame.columns else 0
    if unpaid:
        out.append(
            f"{UNCONFIRMED}分阶段订单信息 '尾款:未付款' read as balance unpaid ({unpaid} rows): "
            "their 订单付款时间 became deposit_paid_at and the orders count as not paid"
        )
    return out


def _orders(frame: pd.DataFrame, problems: list[ValueProblem]) -> pd.DataFrame:
    """Payment state, presale flags and refunds of an order table."""
    frame = frame.copy()
    status = frame["status"] if "status" in frame.columns else None
    paid_at = frame["paid_at"] if "paid_at" in frame.columns else None
    if status is not None:
        unknown = sem.unknown_statuses(status)
        if unknown.any():
            rows = np.flatnonzero(unknown)
            examples = tuple(dict.fromkeys(status.iloc[rows[:20]].tolist()))[:3]
            problems.append(
                ValueProblem(
                    "status", "unknown_status", len(rows), tuple(map(int, rows[:5])), examples
                )
            )
        frame["status_text"] = status
    stages = frame.get("presale_stages")
    deposit = frame.get("deposit_order_id")
    if stages is not None or deposit is not None:
        flag, balance_unpaid = sem.presale_flags(stages, deposit, len(frame))
        frame["is_presale"] = flag
        if paid_at is not None:
            frame["_balance_unpaid"] = balance_unpaid
            frame["deposit_paid_at"] = paid_at.where(pd.Series(flag.to_numpy()))
            paid_at = paid_at.mask(pd.Series(balance_unpaid))
            frame["paid_at"] = paid_at
    if status is not None or paid_at is not None:
        frame["status"] = sem.payment_state(status, paid_at)
        if "refund_amount" not in frame.columns and "amount" in frame.columns:
            frame["refund_amount"] = frame["amount"].where(frame["status"] == "refunded", 0.0)
    return frame


def join_lines(orders: Canonical, lines: Canonical) -> Canonical:
    """宝贝报表 lines with their 订单报表 orders: one canonical ``orders`` table of lines.

    Each order's 买家实际支付金额 is allocated over its lines by 价格 × 购买数量, to the
    cent; lines whose order is not in the order report are excluded and counted; an
    order without lines stays as one line without a product.
    """
    if orders.table != "orders" or lines.table != "order_lines":
        msg = "join_lines(orders, lines) takes an order report and a 宝贝报表 (line items)"
        raise SchemaError(msg)
    order_cols = [
        c for c in orders.data.columns if c not in ("product_id", "product_name", "quantity")
    ]
    line_cols = [
        c
        for c in ("order_id", "product_id", "product_name", "quantity", "unit_price")
        if c in lines.data.columns
    ]
    merged = lines.data[line_cols].merge(
        orders.data[order_cols], on="order_id", how="left", indicator=True
    )
    orphan = merged["_merge"] == "left_only"
    merged = merged[~orphan]
    lone = orders.data[~orders.data["order_id"].isin(lines.data["order_id"])][order_cols]
    merged = pd.concat([merged.drop(columns="_merge"), lone], ignore_index=True, sort=False)
    merged = merged.sort_values("order_id", kind="stable").reset_index(drop=True)
    weight = merged["unit_price"].astype("float64") * merged["quantity"].astype("float64")
    merged["order_amount"] = merged["amount"]
    merged["amount"] = sem.allocate(merged["order_id"], merged["amount"], weight)
    if "refund_amount" in merged.columns:
        merged["refund_amount"] = sem.allocate(
            merged["order_id"], merged["refund_amount"].fillna(0.0), weight
        )
    excluded = list(orders.excluded) + list(lines.excluded)
    if orphan.any():
        excluded.append(
            Exclusion(
                "orders",
                "line_without_order",
                int(orphan.sum()),
                "order_id not in the order report",
            )
        )
    notes = (
        *orders.notes,
        *lines.notes,
        "amount = 买家实际支付金额 allocated over the lines by 价格 × 购买数量",
    )
    return Canonical(
        "orders",
        orders.kind,
        merged.drop(columns=["unit_price"]),
        {**lines.mapping, **orders.mapping},
        {**lines.ignored, **orders.ignored},
        orders.problems + lines.problems,
        tuple(excluded),
        notes,
    )
