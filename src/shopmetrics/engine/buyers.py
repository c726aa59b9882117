"""The buyers table: the per-buyer repeat-purchase summary behind customer lifetime value.

From an orders table, :func:`summarize` builds one row per buyer whose first paid
purchase falls in the calibration period: ``frequency`` (purchase days after the first),
``recency`` (first to last purchase), ``T`` (first purchase to the end of calibration),
``monetary_value`` (mean spend of the repeat purchase days; 0 without any) and
``holdout_purchases`` (purchase days after calibration, up to the end of observation),
time in elapsed units of :data:`UNIT_DAYS`. The work runs in the engine as two
``narwhals.stable.v2`` queries (row counts for the audit; one group-by per buyer and day,
then per buyer) and only the per-buyer rows are collected.

The definitions follow Fader, Hardie & Lee (2005), so published estimates reproduce: only
paid orders count (timed by ``paid_at`` when the table has it), at their paid amounts;
all of a buyer's purchases on one day are one purchase whose amount is their sum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Audit, Exclusion
from shopmetrics.config import get_config
from shopmetrics.engine.counting import cents_of, usable_order_lines
from shopmetrics.engine.periods import EPOCH, day_number
from shopmetrics.engine.tables import Table, collect, load, with_reads
from shopmetrics.errors import ShopmetricsError

if TYPE_CHECKING:
    import pandas as pd

UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
"""Length of one time unit in days for each ``freq`` (elapsed time, not calendar periods)."""

UNIT_NAMES: dict[str, str] = {"D": "day", "W": "week", "M": "month"}

SUMMARY_COLUMNS = ("buyer_id", "frequency", "recency", "T", "monetary_value")


@dataclasses.dataclass(frozen=True)
class Summary:
    """The per-buyer summary and what the audit needs to say about it.

    Attributes:
        summary: One row per buyer in the calibration cohort, sorted by ``buyer_id``:
            :data:`SUMMARY_COLUMNS` and ``holdout_purchases``.
        rows_in: Rows of the orders table.
        excluded: Rows left out, by reason.
        notes: How the summary was built, for the audit.
        calibration_end: Last day of calibration (ISO date; ``None`` without paid orders).
        observation_end: Last day of the holdout (ISO date; ``None`` without paid orders).
        holdout_length: Time units from the end of calibration to the end of observation.
    """

    summary: pd.DataFrame
    rows_in: int
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]
    calibration_end: str | None
    observation_end: str | None
    holdout_length: float


@dataclasses.dataclass(frozen=True)
class _Counts:
    """Row counts of the orders table, by why a row does not count."""

    rows: int
    unpaid: int
    missing_buyer: int
    missing_amount: int
    last_day: int | None
    """Day number of the last valid purchase (``None`` without any)."""

    @property
    def valid(self) -> int:
        return self.rows - self.unpaid - self.missing_buyer - self.missing_amount

    def exclusions(self) -> list[Exclusion]:
        excluded: list[Exclusion] = []
        if self.unpaid:
            excluded.append(Exclusion("orders", "unpaid", self.unpaid, "paid_at is null"))
        if self.missing_buyer:
            excluded.append(
                Exclusion("orders", "missing_buyer_id", self.missing_buyer, "buyer_id is null")
            )
        if self.missing_amount:
            excluded.append(
                Exclusion("orders", "missing_amount", self.missing_amount, "amount is null")
            )
        return excluded


def _day_of(value: Any, tz: str | None, what: str) -> int:
    """Day number (days since 1970-01-01) of a user-given date, in store-local time."""
    import pandas as pd  # noqa: PLC0415

    try:
        ts: Any = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        msg = f"{what}: cannot read {value!r} as a date; pass e.g. '2026-03-31'"
        raise ShopmetricsError(msg) from exc
    if pd.isna(ts):  # NaT
        msg = f"{what}: got a missing date ({value!r}); pass e.g. '2026-03-31'"
        raise ShopmetricsError(msg)
    if ts.tzinfo is not None:
        ts = (ts.tz_convert(tz) if tz else ts).tz_localize(None)
    return int((ts.normalize() - pd.Timestamp(EPOCH)).days)


def _iso(day: int) -> str:
    return (EPOCH + dt.timedelta(days=int(day))).date().isoformat()


def summarize(
    orders: Any,
    calibration_end: Any,
    observation_end: Any,
    *,
    freq: str,
    columns: Mapping[str, str] | None,
    tz: str | None,
) -> Summary:
    """The per-buyer summary of ``orders`` (see the module docstring).

    Args:
        orders: The orders table (``buyer_id``, ``amount`` and ``paid_at`` or
            ``created_at``), in any engine :func:`~shopmetrics.engine.load` reads.
        calibration_end: Last day of calibration, inclusive (default: ``observation_end``
            when given, else the last purchase day).
        observation_end: Last day of the holdout, inclusive (default: the later of
            ``calibration_end`` and the last purchase day).
        freq: Time unit, a key of :data:`UNIT_DAYS`.
        columns: The table's ``{their_name: canonical_name}`` column mapping.
        tz: The store's time zone (default ``config.tz``).

    Raises:
        ShopmetricsError: A date that cannot be read, or ``observation_end`` before
            ``calibration_end``.
        ColumnNotFoundError: A required column is missing.
    """
    tz = get_config().tz if tz is None else tz
    table = load(orders, "orders", columns, tz)
    return _with_reads(_summarize(table, calibration_end, observation_end, freq, tz), table)


def _with_reads(summary: Summary, table: Table) -> Summary:
    """``summary`` with what the file reader of ``table`` did (its notes, the rows it left
    out, counted in ``rows_in``: rows in = rows of the file)."""
    audit = with_reads(Audit({"orders": summary.rows_in}, summary.excluded, summary.notes), table)
    return dataclasses.replace(
        summary, rows_in=audit.rows_in["orders"], excluded=audit.excluded, notes=audit.notes
    )


def _summarize(
    table: Table, calibration_end: Any, observation_end: Any, freq: str, tz: str | None
) -> Summary:
    """:func:`summarize` on the loaded table."""
    table.require("buyer_id", "amount", purpose="customer_value")
    paid_col = "paid_at" if table.has("paid_at") else "created_at"
    table.require(paid_col, purpose="customer_value")
    unit = UNIT_DAYS[freq]

    # the rows every order metric leaves out (negative amounts, payments before
    # creation, repeated lines); missing buyers and amounts are counted below
    frame, rows_in, excluded = usable_order_lines(table, nulls=())
    counts = _count_rows(frame, paid_col)
    cal_day, obs_day = _period_days(calibration_end, observation_end, counts.last_day, tz)
    excluded += counts.exclusions()
    if cal_day is None or obs_day is None or counts.last_day is None:
        return Summary(
            _empty(), rows_in["orders"], tuple(excluded), ("no paid orders",), None, None, 0.0
        )

    got = _per_buyer(frame, paid_col, cal_day, obs_day)
    rows_kept = int(got["_rows"].sum()) if len(got) else 0
    cohort = got["_first"].to_numpy() <= cal_day
    late_rows = int(got.loc[~cohort, "_rows"].sum())
    if counts.valid - rows_kept:
        excluded.append(
            Exclusion(
                "orders",
                "after_observation_end",
                counts.valid - rows_kept,
                f"paid after {_iso(obs_day)}",
            )
        )
    if late_rows:
        excluded.append(
            Exclusion(
                "orders",
                "first_purchase_after_calibration",
                late_rows,
                f"{int((~cohort).sum())} buyers whose first purchase is after {_iso(cal_day)}",
            )
        )
    got = got.loc[cohort].reset_index(drop=True)
    summary = _summary_frame(got, cal_day, unit)
    purchases = got["_n_cal"].to_numpy(dtype="int64").sum() + summary["holdout_purchases"].sum()
    merged = rows_kept - late_rows - int(purchases)
    notes = _notes(paid_col, merged, freq, cal_day)
    if table.tz_note:
        notes.append(table.tz_note)
    return Summary(
        summary,
        rows_in["orders"],
        tuple(excluded),
        tuple(notes),
        _iso(cal_day),
        _iso(obs_day),
        (obs_day - cal_day) / unit,
    )


def _valid(paid_col: str) -> tuple[nw.Expr, nw.Expr, nw.Expr]:
    """Whether a row is paid, has a buyer and has an amount."""
    return (
        ~nw.col(paid_col).is_null(),
        ~nw.col("buyer_id").is_null(),
        ~nw.col("amount").is_null(),
    )


def _count_rows(frame: nw.LazyFrame[Any], paid_col: str) -> _Counts:
    """One pass over the orders for the audit's row counts and the last purchase day."""
    import pandas as pd  # noqa: PLC0415

    paid, has_buyer, has_amount = _valid(paid_col)
    valid = paid & has_buyer & has_amount
    counts = collect(
        frame.select(
            nw.len().alias("rows"),
            (~paid).cast(nw.Int64()).sum().alias("unpaid"),
            (paid & ~has_buyer).cast(nw.Int64()).sum().alias("missing_buyer"),
            (paid & has_buyer & ~has_amount).cast(nw.Int64()).sum().alias("missing_amount"),
            nw.when(valid).then(day_number(paid_col)).max().alias("last_day"),
        ),
        "orders:clv_counts",
    ).iloc[0]
    return _Counts(
        rows=int(counts["rows"]),
        unpaid=int(counts["unpaid"] or 0),
        missing_buyer=int(counts["missing_buyer"] or 0),
        missing_amount=int(counts["missing_amount"] or 0),
        last_day=None if pd.isna(counts["last_day"]) else int(counts["last_day"]),
    )


def _period_days(
    calibration_end: Any, observation_end: Any, last_day: int | None, tz: str | None
) -> tuple[int | None, int | None]:
    """Day numbers of the ends of calibration and observation, defaults filled in."""
    obs_day = None
    if observation_end is not None:
        obs_day = _day_of(observation_end, tz, "observation_end")
    if calibration_end is not None:
        cal_day: int | None = _day_of(calibration_end, tz, "calibration_end")
    else:
        cal_day = obs_day if obs_day is not None else last_day
    if obs_day is None and cal_day is not None:
        obs_day = cal_day if last_day is None else max(cal_day, last_day)
    if cal_day is not None and obs_day is not None and obs_day < cal_day:
        msg = (
            f"observation_end ({_iso(obs_day)}) is before calibration_end ({_iso(cal_day)}); "
            "the holdout period runs from calibration_end to observation_end"
        )
        raise ShopmetricsError(msg)
    return cal_day, obs_day


def _per_buyer(frame: nw.LazyFrame[Any], paid_col: str, cal_day: int, obs_day: int) -> pd.DataFrame:
    """Per buyer: first day, calibration and holdout purchase days, repeat spend, rows.

    One purchase per buyer and day (amounts summed); days after ``obs_day`` are left out.
    Collected and sorted by ``buyer_id``.
    """
    paid, has_buyer, has_amount = _valid(paid_col)
    cents, rest = cents_of("amount")  # exact sums, the same whatever order rows come in
    days = (
        frame.filter(paid & has_buyer & has_amount)
        .with_columns(day_number(paid_col).alias("_day"), cents.alias("_c"), rest.alias("_r"))
        .filter(nw.col("_day") <= nw.lit(obs_day))
        .group_by("buyer_id", "_day")
        .agg(
            nw.col("_c").sum().alias("_cents"),
            nw.col("_r").sum().alias("_rest"),
            nw.len().alias("_rows"),
        )
    )
    first = days.group_by("buyer_id").agg(nw.col("_day").min().alias("_first"))
    in_cal = nw.col("_day") <= nw.lit(cal_day)
    repeat = in_cal & (nw.col("_day") != nw.col("_first"))
    per_buyer = (
        days.join(first, on="buyer_id")
        .with_columns(
            in_cal.cast(nw.Int64()).alias("_n_cal"),
            (~in_cal).cast(nw.Int64()).alias("_n_hold"),
            nw.when(in_cal).then(nw.col("_day")).otherwise(nw.col("_first")).alias("_last_cal"),
            nw.when(repeat).then(nw.col("_cents")).otherwise(nw.lit(0, nw.Int64())).alias("_rc"),
            nw.when(repeat).then(nw.col("_rest")).otherwise(nw.lit(0.0)).alias("_rr"),
        )
        .group_by("buyer_id")
        .agg(
            nw.col("_first").min(),
            nw.col("_n_cal").sum(),
            nw.col("_last_cal").max(),
            nw.col("_rc").sum(),
            nw.col("_rr").sum(),
            nw.col("_n_hold").sum(),
            nw.col("_rows").sum(),
        )
    )
    got = collect(per_buyer, "orders:clv_buyers")
    return got.sort_values("buyer_id", kind="mergesort").reset_index(drop=True)


def _summary_frame(got: pd.DataFrame, cal_day: int, unit: float) -> pd.DataFrame:
    """The summary columns from the collected per-buyer rows of the cohort."""
    import pandas as pd  # noqa: PLC0415

    first_day = got["_first"].to_numpy(dtype=float)
    frequency = got["_n_cal"].to_numpy(dtype="int64") - 1
    cents = got["_rc"].to_numpy(dtype="int64") + got["_rr"].to_numpy(dtype=float)
    repeat_spend = cents / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "buyer_id": got["buyer_id"].to_numpy(),
            "frequency": frequency,
            "recency": (got["_last_cal"].to_numpy(dtype=float) - first_day) / unit,
            "T": (cal_day - first_day) / unit,
            "monetary_value": monetary,
            "holdout_purchases": got["_n_hold"].to_numpy(dtype="int64"),
        }
    )


def _empty() -> pd.DataFrame:
    """The summary without buyers (no paid orders)."""
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(
        {
            "buyer_id": pd.Series([], dtype=object),
            "frequency": pd.Series([], dtype="int64"),
            "recency": pd.Series([], dtype=float),
            "T": pd.Series([], dtype=float),
            "monetary_value": pd.Series([], dtype=float),
            "holdout_purchases": pd.Series([], dtype="int64"),
        }
    )


def _notes(paid_col: str, merged: int, freq: str, cal_day: int) -> list[str]:
    """The audit's notes on how the summary was built."""
    return [
        (
            "paid orders only, timed by paid_at"
            if paid_col == "paid_at"
            else "no paid_at column: every order counts as paid, timed by created_at"
        ),
        (
            f"one purchase per buyer and day: {merged} same-day rows merged into other rows "
            "of their day (amounts summed)"
        ),
        f"time in {UNIT_NAMES[freq]}s of {UNIT_DAYS[freq]:g} days, elapsed (not calendar periods)",
        f"calibration: first purchases up to {_iso(cal_day)} (inclusive)",
    ]
