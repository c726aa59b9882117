"""Flags on the ratings table (DSR scores), each tested on data with its trap and without.

- ``small_sample``: a group (or the shop) with fewer than ``config.min_sample`` counted
  ratings in some dimension: the score moves a lot with each new rating.
- ``window_truncated``: the ratings table starts after the window's first day, so the
  score rests on fewer ratings than the platform's.
- ``rating_brushing``: 刷单 — bursts of 5-star ratings from new buyers right after
  payment; the scores without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.config import get_config
from shopmetrics.engine import collect, minutes_between
from shopmetrics.engine.ratings import DAY, DIMENSIONS, Prep, day_date, score
from shopmetrics.flags.finding import Flag
from shopmetrics.stats import intervals
from shopmetrics.stats.aggregates import Aggregates

if TYPE_CHECKING:
    import pandas as pd

BRUSH_MAX_HOURS = 72
"""A 5-star rating this soon after payment, from a new buyer, is suspect."""

BRUSH_NEW_BUYER_HOURS = 24
"""A buyer is new for an order paid at most this long after the buyer's first paid order."""

BRUSH_MIN_PER_DAY = 5
"""A day needs at least this many suspect ratings to be a burst."""

BRUSH_P_VALUE = 1e-3
"""A burst day's suspect count must have a Poisson tail probability below this."""


def detect_ratings(
    *,
    last: pd.DataFrame,
    by: Sequence[str],
    window_days: int,
    prep: Prep,
    heavy: pd.DataFrame,
    counted_now: Any,
    start: int,
    asof: int,
    shop: Aggregates,
    shown: Mapping[str, float],
) -> list[Flag]:
    """Every ratings flag, for the scores of the ``as_of`` window.

    Args:
        last: The score table's rows of the ``as_of`` window (with ``small_sample``).
        by: The grouping columns.
        window_days: The window's length.
        prep: The prepared ratings.
        heavy: The collected over-cap-month rows; ``counted_now`` which of them count.
        start: The window's first day; ``asof`` its last.
        shop: The shop's sums in the window; ``shown`` its scores per dimension.
    """
    out = small_sample(last, by)
    out += window_truncated(prep.first_day, start, window_days)
    if prep.brushing_ready:
        out += rating_brushing(
            prep=prep,
            heavy=heavy,
            counted_now=counted_now,
            start=start,
            asof=asof,
            shop=shop,
            shown=shown,
        )
    return out


def small_sample(last: pd.DataFrame, by: Sequence[str]) -> list[Flag]:
    """Groups (or the shop) under ``config.min_sample`` counted ratings in a dimension."""
    cfg = get_config()
    small = last[last["small_sample"]] if "small_sample" in last.columns else last.iloc[0:0]
    if not len(small):
        return []
    examples = tuple(
        {
            **{c: str(r[c]) for c in by},
            **{f"n_{d}": int(r[f"n_{d}"]) for d in DIMENSIONS},
        }
        for _, r in small.head(5).iterrows()
    )
    what = f"{len(small)} of {len(last)} groups have" if by else "the shop has"
    return [
        Flag(
            "small_sample",
            "warning" if not by else "info",
            f"{what} fewer than {cfg.min_sample} counted ratings in some dimension: the "
            "score moves "
            "a lot with each new rating — read the interval"
            + (" and rank groups by <dim>_shrunk_score." if by else "."),
            table="ratings",
            subject={"groups": len(small)},
            n_rows=len(small),
            examples=examples,
            evidence={"min_sample": cfg.min_sample},
        )
    ]


def window_truncated(first_day: int | None, start: int, window_days: int) -> list[Flag]:
    """The ratings table starts after the window's first day ``start``."""
    if first_day is None or first_day <= start:
        return []
    first = day_date(first_day)
    return [
        Flag(
            "window_truncated",
            "warning",
            f"the ratings table starts on {first}, after the window's first day "
            f"{day_date(start)}: {(first_day - start)} days of the "
            f"{window_days}-day window are missing, so the score rests on "
            "fewer ratings than the platform's (and the monthly cap may miss earlier "
            "ratings). Export ratings from the window start, or ignore this if the shop "
            "had no ratings before.",
            table="ratings",
            column="rated_at",
            subject={"window_first_day": day_date(start).isoformat()},
            evidence={
                "data_first_day": first.isoformat(),
                "missing_days": first_day - start,
            },
        )
    ]


# ---------------------------------------------------------------- brushing


def _suspect_frame(prep: Prep, start: int, asof: int) -> nw.LazyFrame[Any]:
    """The window's ratings with ``_susp``: all rated dimensions 5 stars, a new buyer,
    rated within ``BRUSH_MAX_HOURS`` of payment (never a default-score row)."""
    five = nw.all_horizontal(
        *(score(d).is_null() | (score(d) == 5) for d in DIMENSIONS), ignore_nulls=True
    )
    impl = prep.eligible.implementation
    quick = minutes_between("rated_at", "_paid_at", impl) <= BRUSH_MAX_HOURS * 60
    new = minutes_between("_paid_at", "_first_paid", impl) <= BRUSH_NEW_BUYER_HOURS * 60
    suspect = (five & quick & new & ~nw.col("_syn")).fill_null(value=False)
    return prep.eligible.filter((nw.col(DAY) >= start) & (nw.col(DAY) <= asof)).with_columns(
        suspect.cast(nw.Int64()).alias("_susp")
    )


def _bursts(per_day: pd.DataFrame, start: int, asof: int) -> dict[str, Any]:
    """Suspects per day of the window against a Poisson baseline at their median."""
    from scipy import stats  # noqa: PLC0415

    days = np.arange(start, asof + 1)
    counts = np.zeros(len(days))
    totals = np.zeros(len(days))
    idx = per_day[DAY].to_numpy(dtype=np.int64) - start
    counts[idx] = per_day["suspect"].to_numpy(dtype=float)
    totals[idx] = per_day["ratings"].to_numpy(dtype=float)
    median = float(np.median(counts))
    base = max(median, 0.5)
    p = stats.poisson.sf(counts - 1, base)
    burst = (counts >= BRUSH_MIN_PER_DAY) & (p < BRUSH_P_VALUE)
    return {
        "days": days,
        "counts": counts,
        "totals": totals,
        "p": p,
        "burst": burst,
        "median": median,
        "base": base,
    }


def _without_suspects(
    rows: pd.DataFrame, heavy: pd.DataFrame, counted_now: Any, shop: Aggregates
) -> tuple[dict[str, Any], int]:
    """The shop's scores without the suspects that count, and how many count."""
    heavy_ok = (
        dict(zip(heavy["_oid"].tolist(), counted_now.tolist(), strict=True)) if len(heavy) else {}
    )
    counts_flags = [
        (not bool(h)) or bool(heavy_ok.get(o, False))
        for o, h in zip(rows["_oid"].tolist(), rows["_heavy"].tolist(), strict=True)
    ]
    cnt = rows[np.array(counts_flags, dtype=bool)] if len(rows) else rows
    instead: dict[str, Any] = {}
    for d in DIMENSIONS:
        v = cnt[f"_{d}"].to_numpy(dtype=float) if len(cnt) else np.zeros(0)
        v = v[~np.isnan(v)]
        n = float(shop.sums[f"n_{d}"][0]) - len(v)
        s = float(shop.sums[d][0]) - float(v.sum())
        instead[d] = float(intervals.rate(s, n))
    return instead, len(cnt)


def rating_brushing(
    *,
    prep: Prep,
    heavy: pd.DataFrame,
    counted_now: Any,
    start: int,
    asof: int,
    shop: Aggregates,
    shown: Mapping[str, float],
) -> list[Flag]:
    """Bursts of 5-star ratings from new buyers right after payment (刷单 / brushing).

    A rating is suspect when every dimension it rates is 5 stars, it rates an order paid
    within ``BRUSH_NEW_BUYER_HOURS`` of the buyer's first paid order in ``orders`` (a new
    buyer), and it came within ``BRUSH_MAX_HOURS`` of payment.
    A day of the window is a burst when it has at least ``BRUSH_MIN_PER_DAY`` suspect
    ratings and, against a Poisson baseline at the window's median daily count, a tail
    probability under ``BRUSH_P_VALUE``.
    """
    frame = _suspect_frame(prep, start, asof)
    per_day = collect(
        frame.group_by(DAY).agg(nw.len().alias("ratings"), nw.col("_susp").sum().alias("suspect")),
        "dsr:brushing_days",
    )
    if len(per_day) == 0:
        return []
    b = _bursts(per_day, start, asof)
    burst = b["burst"]
    if not burst.any():
        return []
    burst_days = [int(d) for d in b["days"][burst]]
    rows = collect(
        frame.filter((nw.col("_susp") == 1) & nw.col(DAY).is_in(burst_days)).select(
            "_oid",
            "order_id",
            "buyer_id",
            "rated_at",
            DAY,
            "_heavy",
            *(f"_{d}" for d in DIMENSIONS),
        ),
        "dsr:brushing_rows",
    )
    instead, n_counted = _without_suspects(rows, heavy, counted_now, shop)
    day_list = [
        {
            "date": day_date(int(d)).isoformat(),
            "suspect": int(c),
            "ratings": int(tot),
            "p_value": float(pv),
        }
        for d, c, tot, pv in zip(
            b["days"][burst], b["counts"][burst], b["totals"][burst], b["p"][burst], strict=True
        )
    ]
    return [_brushing_flag(rows, day_list, b, instead, n_counted, shown)]


def _brushing_flag(
    rows: pd.DataFrame,
    day_list: list[dict[str, Any]],
    bursts: Mapping[str, Any],
    instead: dict[str, Any],
    n_counted: int,
    shown: Mapping[str, float],
) -> Flag:
    n_susp = len(rows)
    median = bursts["median"]
    return Flag(
        "rating_brushing",
        "warning",
        f"{n_susp} five-star ratings on {len(day_list)} burst day(s) "
        f"(e.g. {day_list[0]['date']}) came "
        f"from new buyers within {BRUSH_MAX_HOURS} h of payment, against a median of "
        f"{median:g} such ratings a day: suspected brushing (刷单). They lift the score; "
        "the DSR "
        f"without them: item {instead['item']:.4f} (shown {float(shown['item']):.4f}), service "
        f"{instead['service']:.4f}, logistics {instead['logistics']:.4f}. The platform removes "
        "ratings it judges fake, and may penalise the shop.",
        table="ratings",
        subject={"days": [d["date"] for d in day_list]},
        n_rows=n_susp,
        examples=tuple(
            {
                "order_id": str(r.order_id),
                "buyer_id": str(r.buyer_id),
                "rated_at": str(r.rated_at),
            }
            # the first five in time, whatever order the engine returned them in
            for r in rows.sort_values(["rated_at", "order_id"], kind="mergesort")
            .head(5)
            .itertuples(index=False)
        ),
        evidence={
            "days": day_list,
            "median_per_day": median,
            "poisson_mean": bursts["base"],
            "max_hours_after_payment": BRUSH_MAX_HOURS,
            "counted_suspects": n_counted,
        },
        instead=instead,
    )
