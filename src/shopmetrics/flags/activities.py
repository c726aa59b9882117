"""Flags of activity effects: a counterfactual that fits badly, too short a history,
overlapping activities, a presale read at the wrong payment date, cut-off windows."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from shopmetrics import engine
from shopmetrics.flags.finding import Flag

if TYPE_CHECKING:
    from shopmetrics.activity_table import Activity
    from shopmetrics.models.counterfactual import StructuralFit

__all__ = [
    "fit_flags",
    "no_counterfactual",
    "overlaps",
    "presale_payment_dates",
    "window_flags",
]

PRESALE_KINDS = frozenset({"presale", "double11", "预售", "双11"})
"""Activity kinds read as presales (deposit first, final payment later)."""

METHODS_Z = 2.0
"""Own-history and comparison estimates further apart than this many standard errors
disagree."""


def _subject(a: Activity) -> dict[str, Any]:
    return {"activity": a.name, "start": a.start.isoformat(), "end": a.end.isoformat()}


def window_flags(
    a: Activity, history: int, masked: frozenset[int], window: Any, data_end: int
) -> list[Flag]:
    """The days after (or the activity itself) cut off by the end of the data."""
    out: list[Flag] = []
    end = (a.end - dt.date(1970, 1, 1)).days
    if end > data_end:
        out.append(
            Flag(
                "activity_unfinished",
                "warning",
                f"{a.name} runs past the last day of the data; its effect covers only the "
                "days so far.",
                subject=_subject(a),
                evidence={"last_data_day": str(dt.date(1970, 1, 1) + dt.timedelta(days=data_end))},
            )
        )
    elif window.after_end < end + 1:
        out.append(
            Flag(
                "activity_after_missing",
                "info",
                f"{a.name}: no days after it in the data, so no pull-forward dip can be read.",
                subject=_subject(a),
            )
        )
    if masked:
        out.append(
            Flag(
                "activity_history_masked",
                "info",
                f"{a.name}: {len(masked)} days of other activities before it are left out of "
                "its counterfactual's history.",
                subject=_subject(a),
                evidence={"days_left_out": len(masked), "history_days": history},
            )
        )
    return out


def no_counterfactual(a: Activity, history: int, needed: int) -> Flag:
    """Too short a history: no counterfactual, so no effect (refused, not guessed)."""
    return Flag(
        "activity_short_history",
        "error",
        f"{a.name}: only {history} days of data before it (at least {needed} are needed), so "
        "what it would have sold without the activity cannot be estimated; no effect is given. "
        "Load more history.",
        subject=_subject(a),
        evidence={"history_days": history, "needed_days": needed},
    )


def fit_flags(
    a: Activity,
    fit: StructuralFit | None,
    summary: Mapping[str, Any],
    history: int,
    weak: int,
) -> list[Flag]:
    """A short history, a pre-period that the model does not forecast, disagreeing methods."""
    out: list[Flag] = []
    if history < weak:
        out.append(
            Flag(
                "activity_short_history",
                "warning",
                f"{a.name}: {history} days of history before it (fewer than {weak}); the "
                "counterfactual rests on few weeks (no weekly season under three) and may "
                "miss a trend.",
                subject=_subject(a),
                evidence={"history_days": history},
            )
        )
    if fit is not None and fit.holdout_coverage is False:
        out.append(
            Flag(
                "activity_poor_fit",
                "warning",
                f"{a.name}: forecast from the weeks before, the last week before the activity "
                f"fell outside its own 95% interval (off by {fit.holdout_error:+.0%}); the "
                "counterfactual may be off. Check the comparison-products estimate.",
                subject=_subject(a),
                evidence={"holdout_error": round(fit.holdout_error, 3)},
            )
        )
    z = summary.get("methods_z", math.nan)
    if isinstance(z, float) and math.isfinite(z) and abs(z) > METHODS_Z:
        out.append(
            Flag(
                "activity_methods_disagree",
                "warning",
                f"{a.name}: its own history and the products outside it disagree on the "
                f"incremental paid amount ({summary['incremental_paid_amount']:,.0f} vs "
                f"{summary['did_paid_amount']:,.0f}, {z:+.1f} standard errors): a halo on the "
                "other products or a trend the history misses.",
                subject=_subject(a),
                evidence={"z": round(z, 2)},
                instead={"incremental_paid_amount": summary["incremental_paid_amount"]},
            )
        )
    return out


def overlaps(activities: Sequence[Activity]) -> list[Flag]:
    """Activities that share a day and a product: their effects cannot be told apart."""
    return [
        Flag(
            "activity_overlap",
            "warning",
            f"{a.name} and {b.name} ran on the same products on common days; each one's "
            "effect includes the other's.",
            subject={"activity": a.name, "other": b.name},
        )
        for i, a in enumerate(activities)
        for b in activities[i + 1 :]
        if a.overlaps(b)
    ]


def presale_payment_dates(orders: engine.Table, activities: Sequence[Activity]) -> list[Flag]:
    """A presale read at the payment date: orders created (deposit paid) during it whose
    final payment lands after it move its sales into the days after."""
    out: list[Flag] = []
    for a in activities:
        if a.kind not in PRESALE_KINDS and not orders.has("deposit_paid_at"):
            continue
        start = dt.datetime.combine(a.start, dt.time())
        end = dt.datetime.combine(a.end + dt.timedelta(days=1), dt.time())
        frame = orders.frame.filter(
            engine.between("created_at", start, end) & (nw.col("paid_at") >= nw.lit(end))
        )
        if orders.has("deposit_paid_at"):
            frame = frame.filter(~nw.col("deposit_paid_at").is_null())
        if a.products is not None:
            frame = frame.filter(nw.col("product_id").is_in(list(a.products)))
        got = engine.collect(
            frame.select(nw.len().alias("n"), nw.col("amount").sum().alias("amount")),
            "activity:presale",
        )
        n = int(got["n"].iloc[0] or 0)
        if n:
            amount = float(got["amount"].iloc[0] or 0.0)
            out.append(
                Flag(
                    "activity_presale_payment_date",
                    "warning",
                    f"{a.name}: {n} orders created during it are paid in full only after it "
                    f"(¥{amount:,.2f}); read by payment date, their sales fall in the days "
                    "after, looking like a smaller lift and no dip. Read its effect over the "
                    "activity and the final-payment days together (raise after_days).",
                    table="orders",
                    column="paid_at",
                    subject=_subject(a),
                    n_rows=n,
                    evidence={"orders": n, "amount": round(amount, 2)},
                )
            )
    return out
