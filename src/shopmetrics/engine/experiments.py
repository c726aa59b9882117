"""Experiment events counted per variant and day: the trials and successes of an A/B test.

:func:`count_variants` turns a raw ``events`` table with a variant column into cumulative
counts per look (one look per day) and variant, for :func:`shopmetrics.ab.ab_test`:

- a trial is a unique visitor with a ``trials_event`` (default ``"visit"``), on the day of
  their first one;
- a success is a trial with a ``metric`` event, on the day of their first one (never
  before the day they became a trial);
- a visitor seen in more than one variant is left out of every variant, and counted;
- rows with a null variant, visitor or time, or outside ``[start, end)``, are excluded
  and counted in the audit.

Only small aggregates (per variant and day) leave the engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.engine import periods, tables
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.schema import EVENT_TYPES

if TYPE_CHECKING:
    import pandas as pd

NO_DAY = -(10**9)
"""Sentinel day number for "never" (a visitor with no trials event)."""


@dataclasses.dataclass
class VariantCounts:
    """Cumulative counts per look and variant, the control first.

    Attributes:
        labels: The variants, the control first.
        successes: Converting units, cumulative, shape (looks, variants).
        trials: Units, cumulative, same shape.
        look_labels: One label per look (a day, or ``"1"``, ``"2"``, ... for counts).
        audit: Rows read and excluded, and notes on how the counts were made.
        mixed_pairs: Visitor-variant pairs of visitors seen in more than one variant.
        mixed_rows: Event rows of those visitors.
        variant: The events column holding the variant (``None`` for counts).
    """

    labels: list[Any]
    successes: np.ndarray[Any, np.dtype[np.float64]]  # (looks, variants), cumulative
    trials: np.ndarray[Any, np.dtype[np.float64]]
    look_labels: list[str]
    audit: Audit
    mixed_pairs: int = 0
    mixed_rows: int = 0
    variant: str | None = None


def count_variants(
    events: Any,
    *,
    variant: str | None,
    metric: str | None,
    trials_event: str,
    control: Any,
    columns: Mapping[str, str] | None,
    tz: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> VariantCounts:
    """Trials and successes per variant and day from raw events (see the module docstring).

    Raises:
        ShopmetricsError: no variant column, ``metric`` equal to ``trials_event``, an
            unknown control, fewer than two variants with trials.
        DefinitionError: an event name outside ``schema.EVENT_TYPES``.
    """
    _check_arguments(variant, metric, trials_event)
    assert variant is not None
    table = tables.load(events, "events", columns, tz)
    table.require("ts", "visitor_id", "event", purpose="ab_test")
    table.require(variant, purpose="ab_test (the variant column)")
    excluded: list[Exclusion] = []
    notes: list[str] = [table.tz_note]
    rows_in = tables.count_rows(table)
    frame = _usable_rows(table, variant, start, end, excluded)
    by_trial, by_success = _per_variant_and_day(_per_visitor(frame, trials_event, metric))
    mixed = by_trial[by_trial["__mixed"].astype(bool)]
    if len(mixed):
        excluded.append(
            Exclusion(
                "events", "visitor in several variants", int(mixed["rows"].sum()),
                f"{int(mixed['units'].sum())} visitor-variant pairs of visitors seen in more "
                "than one variant",
            )
        )  # fmt: skip
    clean = _with_trials(
        by_trial[~by_trial["__mixed"].astype(bool)], metric, trials_event, excluded
    )
    labels = _variant_order(clean, control, variant, trials_event, notes)
    x, n, days = _daily_counts(clean, by_success, labels)
    notes.append(
        f"trials: unique visitors with a {trials_event!r} event; successes: those of them with a "
        f"{metric!r} event; one look per day ({len(days)} days)"
    )
    return VariantCounts(
        labels,
        np.cumsum(x, axis=0),
        np.cumsum(n, axis=0),
        [periods.period_label(d, "D") for d in days],
        tables.with_reads(
            Audit(rows_in={"events": rows_in}, excluded=tuple(excluded), notes=tuple(notes)),
            table,
        ),
        mixed_pairs=int(mixed["units"].sum()),
        mixed_rows=int(mixed["rows"].sum()),
        variant=variant,
    )


def _check_arguments(variant: str | None, metric: str | None, trials_event: str) -> None:
    if variant is None:
        msg = "with events, name the column holding the variant: variant='your_column'"
        raise ShopmetricsError(msg)
    for what, ev in (("metric", metric), ("trials_event", trials_event)):
        if ev not in EVENT_TYPES:
            raise DefinitionError.unknown(what, ev, EVENT_TYPES)
    if metric == trials_event:
        msg = f"metric and trials_event are both {metric!r}; the conversion must be another event"
        raise ShopmetricsError(msg)


def _usable_rows(
    table: tables.Table,
    variant: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    excluded: list[Exclusion],
) -> nw.LazyFrame[Any]:
    """The rows with a variant, a visitor and a time in the window (the others counted)."""
    frame = table.frame.select(
        nw.col("ts"), nw.col("visitor_id"), nw.col("event"), nw.col(variant).alias("__variant")
    )
    for col, label in (("__variant", variant), ("visitor_id", "visitor_id"), ("ts", "ts")):
        n_null = int(tables.scalar(
            frame.filter(nw.col(col).is_null()).select(nw.len()), "events:null"
        ) or 0)  # fmt: skip
        if n_null:
            excluded.append(Exclusion("events", f"null {label}", n_null, "excluded from ab_test"))
        frame = frame.filter(~nw.col(col).is_null())
    if start is not None or end is not None:
        cond = periods.between("ts", start, end)
        n_out = int(tables.scalar(frame.filter(~cond).select(nw.len()), "events:window") or 0)
        if n_out:
            excluded.append(
                Exclusion("events", "outside window", n_out, f"ts outside [{start}, {end})")
            )
        frame = frame.filter(cond)
    return frame


def _per_visitor(
    frame: nw.LazyFrame[Any], trials_event: str, metric: str | None
) -> nw.LazyFrame[Any]:
    """One row per visitor and variant: first trial day, success day, rows, mixed or not."""
    frame = frame.filter(nw.col("event").is_in([trials_event, metric])).with_columns(
        periods.day_number("ts").alias("__day")
    )
    frame = frame.with_columns(
        nw.when(nw.col("event") == trials_event).then(nw.col("__day")).alias("__t"),
        nw.when(nw.col("event") == metric).then(nw.col("__day")).alias("__s"),
    )
    per_unit = frame.group_by("visitor_id", "__variant").agg(
        nw.col("__t").min(), nw.col("__s").min(), nw.len().alias("__rows")
    )
    n_var = per_unit.group_by("visitor_id").agg(nw.len().alias("__nvar"))
    return per_unit.join(n_var, on="visitor_id", how="inner").with_columns(
        (nw.col("__nvar") > 1).alias("__mixed"),
        nw.col("__t").fill_null(NO_DAY).alias("__tday"),
        nw.when(nw.col("__s") > nw.col("__t"))
        .then(nw.col("__s"))
        .otherwise(nw.col("__t"))
        .alias("__sday"),
    )


def _per_variant_and_day(per_unit: nw.LazyFrame[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collected: units and rows per (variant, trial day, mixed); successes per success day."""
    by_trial = tables.collect(
        per_unit.group_by("__variant", "__tday", "__mixed").agg(
            nw.len().alias("units"), nw.col("__rows").sum().alias("rows")
        ),
        "events:ab_trials",
    )
    by_success = tables.collect(
        per_unit.filter(~nw.col("__mixed") & ~nw.col("__s").is_null() & ~nw.col("__t").is_null())
        .group_by("__variant", "__sday")
        .agg(nw.len().alias("units")),
        "events:ab_successes",
    )
    return by_trial, by_success


def _with_trials(
    clean: pd.DataFrame, metric: str | None, trials_event: str, excluded: list[Exclusion]
) -> pd.DataFrame:
    """Drop (and count) visitors with a ``metric`` event but no ``trials_event``."""
    no_trial = clean[clean["__tday"].astype(np.int64) == NO_DAY]
    if len(no_trial):
        excluded.append(
            Exclusion(
                "events", f"{metric} without {trials_event}", int(no_trial["rows"].sum()),
                f"{int(no_trial['units'].sum())} visitors with a {metric} event but no "
                f"{trials_event} event in the window",
            )
        )  # fmt: skip
    return clean[clean["__tday"].astype(np.int64) != NO_DAY]


def _variant_order(
    clean: pd.DataFrame, control: Any, variant: str, trials_event: str, notes: list[str]
) -> list[Any]:
    """The variants with trials, the control first (given, or the first in sorted order)."""
    found = sorted({*clean["__variant"].tolist()}, key=str)
    if control is not None:
        if control not in found:
            msg = (
                f"events: control {control!r} not found in column {variant!r}; "
                f"variants with {trials_event} events: {found}"
            )
            raise ShopmetricsError(msg)
        labels = [control, *(v for v in found if v != control)]
    else:
        labels = found
        if found:
            notes.append(f"control not given: took {found[0]!r}, the first variant in sorted order")
    if len(labels) < 2:
        msg = (
            f"events: need at least two variants with {trials_event} events in column "
            f"{variant!r}, found {labels}"
        )
        raise ShopmetricsError(msg)
    return labels


def _daily_counts(
    clean: pd.DataFrame, by_success: pd.DataFrame, labels: list[Any]
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]], list[int]]:
    """New successes and trials per (day, variant), and the days (sorted day numbers)."""
    days = sorted(
        {
            *clean["__tday"].astype(np.int64).tolist(),
            *by_success["__sday"].astype(np.int64).tolist(),
        }
    )
    day_pos = {d: i for i, d in enumerate(days)}
    var_pos = {v: j for j, v in enumerate(labels)}
    n = np.zeros((len(days), len(labels)))
    x = np.zeros((len(days), len(labels)))
    for v, d, u in zip(clean["__variant"], clean["__tday"], clean["units"], strict=True):
        n[day_pos[int(d)], var_pos[v]] += float(u)
    succ = by_success
    for v, d, u in zip(succ["__variant"], succ["__sday"], succ["units"], strict=True):
        if v in var_pos:
            x[day_pos[int(d)], var_pos[v]] += float(u)
    return x, n, days


# ---------------------------------------------------------------- impressions


@dataclasses.dataclass
class ImpressionSums:
    """Per-visitor aggregates of impressions and clicks per variant, the control first.

    Attributes:
        labels: The variants, the control first.
        sums: One row per variant (in ``labels`` order): ``visitors`` (exposed visitors),
            ``exposures``, ``clicks``, ``exposures*exposures``, ``clicks*clicks``,
            ``clicks*exposures`` (sums over visitors of each visitor's counts and their
            products: what the delta method needs).
        audit: Rows read and excluded, and notes.
        mixed_pairs: Visitor-variant pairs of visitors seen in more than one variant.
        mixed_rows: Event rows of those visitors.
        variant: The events column holding the variant.
    """

    labels: list[Any]
    sums: pd.DataFrame
    audit: Audit
    mixed_pairs: int = 0
    mixed_rows: int = 0
    variant: str | None = None


SUM_NAMES = (
    "exposures", "clicks", "exposures*exposures", "clicks*clicks", "clicks*exposures",
)  # fmt: skip
"""The sums of :class:`ImpressionSums`, as :class:`~shopmetrics.stats.aggregates.Aggregates`
names them."""


def impression_sums(
    events: Any,
    *,
    variant: str | None,
    click_event: str,
    exposure_event: str,
    control: Any,
    columns: Mapping[str, str] | None,
    tz: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> ImpressionSums:
    """Exposures and clicks counted per visitor and variant, summed per variant.

    A visitor is the unit of randomisation: their impressions are not independent (the
    same person sees the image many times), so only per-visitor sums leave the engine.
    Visitors seen in several variants are left out (counted); clicks of visitors with no
    exposure in the window are left out (counted).
    """
    _check_arguments(variant, click_event, exposure_event)
    assert variant is not None
    table = tables.load(events, "events", columns, tz)
    table.require("ts", "visitor_id", "event", purpose="ctr_test")
    table.require(variant, purpose="ctr_test (the variant column)")
    excluded: list[Exclusion] = []
    notes: list[str] = [table.tz_note]
    rows_in = tables.count_rows(table)
    frame = _usable_rows(table, variant, start, end, excluded)
    frame = frame.filter(nw.col("event").is_in([exposure_event, click_event]))
    one = nw.lit(1, nw.Int64)
    zero = nw.lit(0, nw.Int64)
    per_unit = frame.group_by("visitor_id", "__variant").agg(
        nw.when(nw.col("event") == exposure_event).then(one).otherwise(zero).sum().alias("e"),
        nw.when(nw.col("event") == click_event).then(one).otherwise(zero).sum().alias("c"),
        nw.len().alias("__rows"),
    )
    n_var = per_unit.group_by("visitor_id").agg(nw.len().alias("__nvar"))
    per_unit = per_unit.join(n_var, on="visitor_id", how="inner").with_columns(
        (nw.col("__nvar") > 1).alias("__mixed"), (nw.col("e") > 0).alias("__exposed")
    )
    got = tables.collect(
        per_unit.group_by("__variant", "__mixed", "__exposed").agg(
            nw.len().alias("visitors"),
            nw.col("__rows").sum().alias("rows"),
            nw.col("e").sum().alias("exposures"),
            nw.col("c").sum().alias("clicks"),
            (nw.col("e") * nw.col("e")).sum().alias("exposures*exposures"),
            (nw.col("c") * nw.col("c")).sum().alias("clicks*clicks"),
            (nw.col("c") * nw.col("e")).sum().alias("clicks*exposures"),
        ),
        "events:ctr_sums",
    )
    mixed = got[got["__mixed"].astype(bool)]
    if len(mixed):
        excluded.append(
            Exclusion(
                "events", "visitor in several variants", int(mixed["rows"].sum()),
                f"{int(mixed['visitors'].sum())} visitor-variant pairs of visitors seen in "
                "more than one variant",
            )
        )  # fmt: skip
    clean = got[~got["__mixed"].astype(bool)]
    blind = clean[~clean["__exposed"].astype(bool)]
    if len(blind):
        excluded.append(
            Exclusion(
                "events", f"{click_event} without {exposure_event}", int(blind["rows"].sum()),
                f"{int(blind['visitors'].sum())} visitors with a {click_event} event but no "
                f"{exposure_event} event in the window",
            )
        )  # fmt: skip
    clean = clean[clean["__exposed"].astype(bool)].rename(columns={"__variant": "variant"})
    labels = _variant_order(
        clean.rename(columns={"variant": "__variant"}), control, variant, exposure_event, notes
    )
    sums = clean.groupby("variant", sort=False)[["visitors", *SUM_NAMES]].sum()
    sums = sums.reindex(labels).fillna(0).astype("float64").reset_index()
    notes.append(
        f"CTR per impression: {click_event} events / {exposure_event} events of the visitors "
        f"exposed to each variant; intervals by the delta method on per-visitor sums "
        "(impressions of one visitor are not independent)"
    )
    return ImpressionSums(
        labels,
        sums,
        tables.with_reads(
            Audit(rows_in={"events": rows_in}, excluded=tuple(excluded), notes=tuple(notes)),
            table,
        ),
        mixed_pairs=int(mixed["visitors"].sum()),
        mixed_rows=int(mixed["rows"].sum()),
        variant=variant,
    )
