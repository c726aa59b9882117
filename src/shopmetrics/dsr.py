"""DSR seller ratings (店铺动态评分) under the platform rules, with intervals, peers and alerts.

Three scores, each the mean of one dimension's 1–5 star ratings in the last
``window_days`` (180 by default) ending at ``as_of``:

====================  ==================  ==========================
result column         中文                 ratings column
====================  ==================  ==========================
``item``              宝贝与描述相符        ``item_score``
``service``           卖家的服务态度        ``service_score``
``logistics``         物流服务的质量        ``logistics_score``
====================  ==================  ==========================

The platform rules (metric dictionary, "DSR"), each a keyword of :func:`dsr`:

- only the first ``max_per_buyer_month`` (3) ratings of one buyer in a natural month
  count, ordered by trade-success time (rating time when no trade-success time is given);
- no default score: an unrated trade adds nothing (``default_score=None``);
- a partial rating counts in the dimensions it rates only (``partial="rated_only"``);
- scores outside 1–5 (or not whole stars) and, when ``orders`` are given, ratings of
  unpaid trades are rejected into the audit, never averaged.

How the work is split: the rating rows stay in the engine. Per (buyer, natural month)
the number of eligible ratings is counted there; a buyer-month with at most 3 ratings
can never lose one to the cap, so those ratings are aggregated in the engine (counts,
sums, sums of squares, star counts per dimension, by group and by day) and only the
aggregates are collected. Ratings of buyer-months over the cap — rare: repeat buyers
and brushing — are collected row by row, and whether each counts at a given date is
worked out exactly in numpy (a rating stops counting on the day the cap-th rating with
an earlier trade-success time arrives). Daily aggregates give the rolling series by
cumulative sums and window differences, without recomputing the window per period.

Examples:
    >>> import pandas as pd
    >>> import shopmetrics as sm
    >>> ratings = pd.DataFrame({
    ...     "order_id": [f"o{i}" for i in range(20)],
    ...     "buyer_id": [f"b{i}" for i in range(20)],
    ...     "rated_at": pd.date_range("2026-03-01", periods=20, freq="D"),
    ...     "item_score": [5] * 19 + [1],
    ...     "service_score": [5] * 20,
    ...     "logistics_score": [4] * 10 + [5] * 10})
    >>> r = sm.dsr(ratings)
    >>> r.to_pandas()[["item", "n_item", "service", "logistics"]]
       item  n_item  service  logistics
    0   4.8      20      5.0        4.5
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.config import get_config
from shopmetrics.engine import FREQS, Freq, Table
from shopmetrics.errors import DefinitionError, SchemaError, ShopmetricsError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.results import Audit, Exclusion, Result
from shopmetrics.stats import intervals, multiplicity

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DIMENSIONS",
    "DSRResult",
    "LowRatings",
    "WhatIf",
    "dsr",
    "dsr_what_if",
    "low_ratings",
    "vs_peers",
]

logger = logging.getLogger(__name__)

DIMENSIONS: tuple[str, str, str] = ("item", "service", "logistics")
"""The three DSR dimensions, in the platform's order."""

SCORE_COLUMNS: dict[str, str] = {
    "item": "item_score",
    "service": "service_score",
    "logistics": "logistics_score",
}
"""Ratings column holding each dimension's stars."""

CHINESE_NAMES: dict[str, str] = {
    "item": "宝贝与描述相符",
    "service": "卖家的服务态度",
    "logistics": "物流服务的质量",
}

_DIMENSION_ALIASES: dict[str, str] = {
    **{d: d for d in DIMENSIONS},
    **{v: k for k, v in SCORE_COLUMNS.items()},
    **{v: k for k, v in CHINESE_NAMES.items()},
    "描述相符": "item",
    "宝贝描述": "item",
    "description": "item",
    "服务态度": "service",
    "物流服务": "logistics",
    "shipping": "logistics",
}

RATING_DEADLINE_DAYS = 15
"""Days after which an unrated trade would take ``default_score`` (counted from payment,
as the orders table has no trade-success time)."""
BRUSH_MAX_HOURS = 72
"""A 5-star rating this soon after payment, from a new buyer, is suspect."""
BRUSH_NEW_BUYER_HOURS = 24
"""A buyer is new for an order paid at most this long after the buyer's first paid order."""
BRUSH_MIN_PER_DAY = 5
"""A day needs at least this many suspect ratings to be a burst."""
BRUSH_P_VALUE = 1e-3
"""A burst day's suspect count must have a Poisson tail probability below this."""

_PAIRS: tuple[tuple[str, str], ...] = (
    ("item", "service"),
    ("item", "logistics"),
    ("service", "logistics"),
)
_STARS = (1, 2, 3, 4, 5)
_DAY = "_day"


def _empty_frame() -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame()


# ---------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, repr=False)
class DSRResult(Result):
    """DSR scores per group (and period), with intervals, peers and what-if arithmetic.

    ``table`` (and :meth:`to_pandas`): the ``by`` columns; with ``freq`` also ``period``
    and ``period_start``; ``window_first_day`` / ``window_last_day`` (both inclusive)
    and ``window_complete`` (the ratings table reaches back to the window's first day);
    per dimension ``<dim>`` (mean stars), ``n_<dim>`` (ratings counted),
    ``<dim>_ci_low`` / ``<dim>_ci_high`` (normal-theory interval clipped to [1, 5]);
    with ``by`` and ``shrink`` (no ``freq``) ``<dim>_shrunk_score`` (empirical Bayes,
    toward the shop score); with ``peers`` ``<dim>_peer_avg``, ``<dim>_vs_peers`` (the platform's
    "比同行业平均高/低 x%", normalised by the peer max/min, signed), ``<dim>_rel_diff``
    (plain relative difference ``(score − peer_avg) / peer_avg``) and ``<dim>_beyond_ci``
    (the peer average lies outside the interval); ``small_sample`` (some dimension has
    fewer than ``config.min_sample`` ratings); with ``by`` (no ``freq``)
    ``departing_dimension``.

    Attributes:
        distribution: Stars per dimension in the ``as_of`` window: the ``by`` columns,
            ``dimension``, ``stars`` (1–5), ``count``, ``share``.
        correlation: Pearson correlation of the three dimensions over the shop's
            complete ratings in the window (all three rated), with Fisher-z intervals.
        departures: With ``by``: per group and dimension, how far the group's score
            departs from what its other two dimensions predict under the shop's pattern
            (``expected_deviation`` from the shop's covariance of the three dimensions),
            with a z statistic, ``q_value`` (adjusted with ``config.correction``, BH by
            default) and ``departs`` (at most one dimension per group).
        daily: Ratings counted at ``as_of`` per group and day of the window:
            ``n_<dim>`` and ``sum_<dim>`` (for what-if arithmetic by date).
        shop: The shop-level row (all groups together) of the ``as_of`` window.
    """

    distribution: pd.DataFrame = dataclasses.field(default_factory=_empty_frame)
    correlation: pd.DataFrame = dataclasses.field(default_factory=_empty_frame)
    departures: pd.DataFrame = dataclasses.field(default_factory=_empty_frame)
    daily: pd.DataFrame = dataclasses.field(default_factory=_empty_frame)
    shop: pd.DataFrame = dataclasses.field(default_factory=_empty_frame)

    kind = "dsr"

    @property
    def as_of(self) -> dt.date:
        """The last day of the window (inclusive)."""
        value = self.meta["as_of"]
        assert isinstance(value, dt.date)
        return value

    def display_columns(self) -> Sequence[str]:
        """Scores, counts and peer comparisons (intervals stay in the table)."""
        hide = ("_ci_low", "_ci_high")
        return [
            c
            for c in self.table.columns
            if not c.endswith(hide) and c not in ("window_complete", "period_start")
        ]

    # what-if ---------------------------------------------------------
    def _current(self) -> pd.DataFrame:
        """Per group and dimension: counted ratings and their star sum at ``as_of``.

        Summed from :attr:`daily` (exact star sums, not ``score × n``).
        """
        import pandas as pd  # noqa: PLC0415

        by = list(self.by)
        base = self.shop if not by else _last_period(self.table, by)
        keys = base[by].reset_index(drop=True)
        sums = [f"{k}_{d}" for d in DIMENSIONS for k in ("n", "sum")]
        daily = self.daily
        if by and len(daily):
            tot = keys.merge(
                daily.groupby(by, dropna=False, sort=False)[sums].sum().reset_index(),
                on=by,
                how="left",
            )
        else:
            tot = pd.DataFrame(
                {c: [float(daily[c].sum()) if len(daily) else 0.0] * len(keys) for c in sums}
            )
        rows = []
        for d in DIMENSIONS:
            part = keys.copy()
            part["dimension"] = d
            part["n"] = tot[f"n_{d}"].fillna(0).to_numpy(dtype=float)
            part["total"] = tot[f"sum_{d}"].fillna(0).to_numpy(dtype=float)
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    def fives_needed(self, target: float, *, by_date: Any = None) -> pd.DataFrame:
        """How many 5-star ratings each score needs to reach ``target``.

        Args:
            target: The score to reach (e.g. ``4.8``).
            by_date: Reach it by this day: ratings that leave the window by then are taken
                out first (``None``: now, at ``as_of``).

        Returns:
            One row per group and dimension: ``score``, ``n``, ``score_at_date`` and
            ``n_at_date`` (no new ratings), ``target``, ``fives_needed`` (``<NA>`` when
            no number of 5-star ratings reaches it, e.g. a target above 5).

        Assumes the new ratings are all 5 stars in every dimension, no other rating
        arrives, and the new raters are not over the monthly cap.

        Examples:
            >>> import pandas as pd
            >>> import shopmetrics as sm
            >>> ratings = pd.DataFrame({
            ...     "order_id": range(20), "buyer_id": range(20),
            ...     "rated_at": pd.date_range("2026-03-01", periods=20, freq="D"),
            ...     "item_score": [5] * 19 + [1], "service_score": 5, "logistics_score": 5})
            >>> sm.dsr(ratings).fives_needed(4.9).query("dimension == 'item'")[
            ...     ["score", "n", "fives_needed"]]
               score   n  fives_needed
            0    4.8  20            20
        """
        import pandas as pd  # noqa: PLC0415

        cur = self._current()
        win = int(self.meta["window_days"])
        asof = _day_number(self.as_of)
        if by_date is None:
            keep_from = asof - win + 1
        else:
            day = _day_number(_parse_day(by_date, "by_date", None))
            if day < asof:
                msg = f"by_date={by_date!r} is before as_of={self.as_of}; choose a later day"
                raise ShopmetricsError(msg)
            keep_from = day - win + 1
        left_n = np.zeros(len(cur))
        left_s = np.zeros(len(cur))
        daily = self.daily
        old = daily[daily["day"] < engine.period_start(keep_from, "D")] if len(daily) else daily
        if len(old):
            by = list(self.by)
            for d in DIMENSIONS:
                sums = [f"n_{d}", f"sum_{d}"]
                idx = np.flatnonzero((cur["dimension"] == d).to_numpy())
                if by:
                    agg = old.groupby(by, dropna=False, sort=False)[sums].sum().reset_index()
                    merged = cur.iloc[idx][by].merge(agg, on=by, how="left")
                    left_n[idx] = merged[sums[0]].fillna(0).to_numpy(dtype=float)
                    left_s[idx] = merged[sums[1]].fillna(0).to_numpy(dtype=float)
                else:
                    left_n[idx] = float(old[sums[0]].sum())
                    left_s[idx] = float(old[sums[1]].sum())
        n_at = cur["n"].to_numpy(dtype=float) - left_n
        s_at = cur["total"].to_numpy(dtype=float) - left_s
        need = _fives_needed(s_at, n_at, float(target))
        out = cur[[*self.by, "dimension"]].copy()
        out["score"] = intervals.rate(cur["total"], cur["n"])
        out["n"] = cur["n"].astype("int64")
        out["score_at_date"] = intervals.rate(s_at, n_at)
        out["n_at_date"] = n_at.astype("int64")
        out["target"] = float(target)
        out["fives_needed"] = pd.array(need, dtype="Int64")
        return out

    def cost_of(self, stars: int = 1, count: int = 1) -> pd.DataFrame:
        """What ``count`` more ratings of ``stars`` stars would do to each score.

        Returns:
            One row per group and dimension: ``score``, ``n``, ``score_after``,
            ``change`` (``score_after − score``).

        Examples:
            >>> import pandas as pd
            >>> import shopmetrics as sm
            >>> ratings = pd.DataFrame({
            ...     "order_id": range(20), "buyer_id": range(20),
            ...     "rated_at": pd.date_range("2026-03-01", periods=20, freq="D"),
            ...     "item_score": [5] * 19 + [1], "service_score": 5, "logistics_score": 5})
            >>> c = sm.dsr(ratings).cost_of(stars=1)
            >>> round(float(c.loc[c.dimension == "item", "change"].iloc[0]), 4)
            -0.181
        """
        _check_stars(stars)
        cur = self._current()
        n, total = cur["n"].to_numpy(dtype=float), cur["total"].to_numpy(dtype=float)
        out = cur[[*self.by, "dimension"]].copy()
        out["score"] = intervals.rate(total, n)
        out["n"] = n.astype("int64")
        out["score_after"] = intervals.rate(total + stars * count, n + count)
        out["change"] = out["score_after"] - out["score"]
        return out


@dataclasses.dataclass(frozen=True, repr=False)
class LowRatings(Result):
    """Low ratings (中差评) to follow up, newest first.

    Columns: ``rated_at``, ``order_id``, ``buyer_id``, the optional ``product_id``,
    ``carrier``, ``region`` when the ratings have them, the three scores
    (``item``, ``service``, ``logistics``), ``low_dimensions`` (which dimensions are at
    or below the threshold) and ``counts`` (whether the rating counts in the DSR at
    ``as_of`` under the platform rules: in the window and within the monthly cap).
    """

    kind = "low_ratings"


@dataclasses.dataclass(frozen=True, slots=True)
class WhatIf:
    """The arithmetic of :func:`dsr_what_if`.

    Attributes:
        score: The current score.
        n: The number of ratings behind it.
        target: The score to reach, if asked.
        fives_needed: 5-star ratings needed to reach ``target`` (``None`` if unreachable).
        stars: Stars of the extra ratings in the "what does one more cost" question.
        count: How many such ratings.
        score_after: The score after ``count`` ratings of ``stars`` stars.
        change: ``score_after − score``.
    """

    score: float
    n: int
    target: float | None
    fives_needed: int | None
    stars: int
    count: int
    score_after: float
    change: float


def dsr_what_if(
    score: float, n: int, *, target: float | None = None, stars: int = 1, count: int = 1
) -> WhatIf:
    """What-if arithmetic on a DSR score as a back-end shows it (score and rating count).

    Args:
        score: Current score (the star sum is taken as ``score × n``; a rounded score
            gives an approximate sum).
        n: Ratings behind the score.
        target: Score to reach with 5-star ratings.
        stars: Stars of the extra ratings for :attr:`WhatIf.score_after`.
        count: Number of extra ratings.

    Returns:
        A :class:`WhatIf`.

    References:
        The score is a plain mean (metric dictionary, DSR: 19×5 + 1×1 → 96/20 = 4.8), so
        ``k`` fives reach ``t`` when ``(S + 5k) / (n + k) ≥ t``, i.e.
        ``k = ceil((t·n − S) / (5 − t))``.

    Examples:
        >>> import shopmetrics as sm
        >>> w = sm.dsr_what_if(4.8, 20, target=4.9, stars=1)
        >>> w.fives_needed, round(w.score_after, 4), round(w.change, 4)
        (20, 4.619, -0.181)
    """
    _check_stars(stars)
    if n < 0 or count < 0:
        msg = f"n and count must be >= 0, got n={n!r}, count={count!r}"
        raise ShopmetricsError(msg)
    total = float(score) * n
    need: int | None = None
    if target is not None:
        k = _fives_needed(np.array([total]), np.array([float(n)]), float(target))[0]
        need = None if k is None else int(k)
    after = float(intervals.rate(total + stars * count, n + count))
    return WhatIf(float(score), int(n), target, need, stars, count, after, after - float(score))


def _last_period(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The rows of the last period (the ``as_of`` window) of each group."""
    if "period" not in table.columns:
        return table
    if not by:
        return table.tail(1)
    return table.groupby(by, dropna=False, sort=False).tail(1)


def _check_stars(stars: int) -> None:
    if stars not in _STARS:
        msg = f"stars must be a whole number of stars from 1 to 5, got {stars!r}"
        raise ShopmetricsError(msg)


def _fives_needed(total: Any, n: Any, target: float) -> list[int | None]:
    """Smallest ``k >= 0`` with ``(total + 5k) / (n + k) >= target`` (and ``n + k >= 1``)."""
    out: list[int | None] = []
    for s, m in zip(np.asarray(total, float), np.asarray(n, float), strict=True):
        if not 1 <= target <= 5:
            out.append(None)
            continue
        if target == 5:
            ok = s >= 5 * m - 1e-9
            out.append((0 if m > 0 else 1) if ok else None)
            continue
        x = (target * m - s) / (5 - target)
        k = max(0, math.ceil(round(x, 9)))
        while (s + 5 * k) < target * (m + k) - 1e-9:  # guard against rounding
            k += 1
        if m + k == 0:
            k = 1
        out.append(int(k))
    return out


def vs_peers(score: Any, peer_avg: Any, peer_max: Any = None, peer_min: Any = None) -> Any:
    """The platform's "比同行业平均高/低 x%": normalised by the peer range, signed.

    Above the peer average: ``(score − avg) / (max − avg)``; below it:
    ``−(avg − score) / (avg − min)``; ``0`` at the average. ``NaN`` where the needed
    peer max / min is missing or not beyond the average. This is **not** the plain
    relative difference ``(score − avg) / avg``.

    References:
        Metric dictionary, DSR "Comparison with the industry", as implemented by public
        clones of the rule; worked example (4.71234 − 4.61234) / (4.91234 − 4.61234) =
        33.33% above.

    Examples:
        >>> from shopmetrics.dsr import vs_peers
        >>> round(float(vs_peers(4.71234, 4.61234, 4.91234, 4.5)), 4)
        0.3333
        >>> round(float(vs_peers(4.5, 4.6, 4.9, 4.2)), 4)
        -0.25
    """
    s = np.asarray(score, dtype=float)
    a = np.asarray(peer_avg, dtype=float)
    hi = (
        np.full(np.broadcast(s, a).shape, np.nan)
        if peer_max is None
        else np.asarray(peer_max, float)
    )
    lo = (
        np.full(np.broadcast(s, a).shape, np.nan)
        if peer_min is None
        else np.asarray(peer_min, float)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(hi - a > 0, (s - a) / (hi - a), np.nan)
        down = np.where(a - lo > 0, -(a - s) / (a - lo), np.nan)
    return np.where(
        s > a, up, np.where(s < a, down, np.where(np.isfinite(s) & np.isfinite(a), 0.0, np.nan))
    )


# ---------------------------------------------------------------- time helpers


def _parse_day(value: Any, name: str, tz: str | None) -> dt.date:
    """A date from a date, datetime, pandas Timestamp or ISO string (store-local)."""
    return engine.parse_instant(value, name, tz).date()


def _parse_time(value: Any, name: str, tz: str | None) -> dt.datetime:
    return engine.parse_instant(value, name, tz)


def _day_number(day: dt.date) -> int:
    return (day - engine.EPOCH.date()).days


def _day_date(number: int) -> dt.date:
    return engine.EPOCH.date() + dt.timedelta(days=int(number))


# ---------------------------------------------------------------- preparation


@dataclasses.dataclass
class _Prep:
    """The ratings behind the boundary, with the rules applied lazily."""

    table: Table
    eligible: nw.LazyFrame[Any]
    by: list[str]
    cap: int | None
    rows_in: dict[str, int]
    excluded: list[Exclusion]
    notes: list[str]
    first_day: int | None
    last_day: int | None
    has_orders: bool
    brushing_ready: bool
    synthetic: bool
    stats: dict[str, int] = dataclasses.field(default_factory=dict)
    heavy_n: int = 0


def _score(d: str) -> nw.Expr:
    return nw.col(f"_{d}")


def _prepare(
    ratings: Any,
    orders: Any,
    *,
    by: list[str],
    columns: Mapping[str, str] | None,
    tz: str | None,
    cap: int | None,
    partial: str,
    reject_unpaid: bool,
    default_score: float | None,
) -> _Prep:
    rt = engine.load(ratings, "ratings", columns, tz)
    rt.require("order_id", "buyer_id", "rated_at", purpose="DSR")
    rt.require(*SCORE_COLUMNS.values(), purpose="DSR scores")
    rt.require(*by, purpose="grouping (by=)")
    notes = [rt.tz_note]
    excluded: list[Exclusion] = []
    od: Table | None = None
    if orders is not None:
        od = engine.load(orders, "orders", columns, tz)
        od.require(
            "order_id", "buyer_id", "paid_at", purpose="checking ratings against paid trades"
        )
    if default_score is not None and od is None:
        msg = "default_score needs orders= (the paid trades that were not rated)"
        raise SchemaError(msg)

    names = rt.columns
    has_ts = "trade_success_at" in names
    rt_frame = rt.frame
    od_frame = None
    if od is not None:
        od_cols = [
            "order_id",
            "buyer_id",
            "paid_at",
            *[c for c in dict.fromkeys([*by, "product_id"]) if od.has(c)],
        ]
        od_frame = od.frame.select(od_cols)
        rt_frame, od_frame, copied = engine.join_ready(rt_frame, od_frame, "dsr")
        if copied:
            notes.append(copied)
    extra = [c for c in ("product_id", "carrier", "region") if c in names and c not in by]
    frame = rt_frame.with_columns(
        *(
            nw.col(SCORE_COLUMNS[d]).cast(nw.Float64()).fill_nan(None).alias(f"_{d}")
            for d in DIMENSIONS
        ),
        nw.col("order_id").cast(nw.String()).alias("_oid"),
    )
    base_cols = [
        "order_id",
        "_oid",
        "buyer_id",
        "rated_at",
        *(["trade_success_at"] if has_ts else []),
        *(f"_{d}" for d in DIMENSIONS),
        *by,
        *extra,
    ]
    frame = frame.select(list(dict.fromkeys(base_cols)))

    brushing_ready = False
    if od_frame is not None:
        ofr = od_frame
        per_order = (
            ofr.with_columns(nw.col("order_id").cast(nw.String()).alias("_oid"))
            .group_by("_oid")
            .agg(nw.col("paid_at").max().alias("_paid_at"), nw.len().alias("_o_lines"))
        )
        first_paid = (
            ofr.filter(~nw.col("paid_at").is_null())
            .with_columns(nw.col("buyer_id").cast(nw.String()).alias("_bid"))
            .group_by("_bid")
            .agg(nw.col("paid_at").min().alias("_first_paid"))
        )
        frame = (
            frame.join(per_order, on="_oid", how="left")
            .with_columns(nw.col("buyer_id").cast(nw.String()).alias("_bid"))
            .join(first_paid, on="_bid", how="left")
            .drop("_bid")
        )
        brushing_ready = True

    # reasons, in priority order
    valid = {d: ~_score(d).is_null() for d in DIMENSIONS}
    bad = nw.any_horizontal(
        *(
            valid[d] & ((_score(d) < 1) | (_score(d) > 5) | (_score(d).round(0) != _score(d)))
            for d in DIMENSIONS
        ),
        ignore_nulls=True,
    )
    n_rated = sum((valid[d].cast(nw.Int64()) for d in DIMENSIONS), nw.lit(0, nw.Int64()))
    reasons: list[tuple[str, nw.Expr, str]] = [
        (
            "missing_rated_at",
            nw.col("rated_at").is_null(),
            "no rating time: cannot be placed in a window",
        ),
        ("no_scores", n_rated == 0, "no dimension rated (not a DSR rating)"),
        (
            "score_out_of_range",
            bad,
            "a score outside 1–5 or not a whole star; the whole rating is rejected",
        ),
    ]
    if od is not None and reject_unpaid:
        reasons.append(
            (
                "unpaid_trade",
                (~nw.col("_o_lines").is_null()) & nw.col("_paid_at").is_null(),
                "the trade is in orders but was never paid",
            )
        )
    if partial == "drop":
        reasons.append(
            (
                "partial_rating",
                n_rated < 3,
                "partial='drop': a rating missing a dimension is dropped whole",
            )
        )
    taken = nw.lit(value=False)
    flag_cols = []
    for i, (_, cond, _) in enumerate(reasons):
        flag_cols.append((cond.fill_null(value=False) & ~taken).alias(f"_x{i}"))
        taken = taken | cond.fill_null(value=False)
    ts_expr = (
        nw.coalesce(nw.col("trade_success_at"), nw.col("rated_at"))
        if has_ts
        else nw.col("rated_at")
    )
    frame = frame.with_columns(
        *flag_cols,
        (~taken).alias("_eligible"),
        n_rated.alias("_n_rated"),
        ts_expr.alias("_ts"),
        engine.day_number("rated_at").alias(_DAY),
        nw.lit(value=False).alias("_syn"),
    ).with_columns(engine.period_key("_ts", "M").alias("_month"))

    # pass 1: audit counts and data range (one row)
    p1_exprs = [
        nw.len().alias("rows"),
        nw.col(_DAY).min().alias("first_day"),
        nw.col(_DAY).max().alias("last_day"),
    ]
    p1_exprs += [
        nw.col(f"_x{i}").cast(nw.Int64()).sum().alias(f"x{i}") for i in range(len(reasons))
    ]
    ind: dict[str, nw.Expr] = {
        "partial": (nw.col("_n_rated") < 3) & nw.col("_eligible"),
        "nobuyer": nw.col("buyer_id").is_null() & nw.col("_eligible"),
    }
    if has_ts:
        ind["fallback"] = nw.col("trade_success_at").is_null() & nw.col("_eligible")
    if od is not None:
        ind["noorder"] = nw.col("_o_lines").is_null() & nw.col("_eligible")
    stats_frame = frame.with_columns(*(e.cast(nw.Int64()).alias(f"_i_{k}") for k, e in ind.items()))
    p1_exprs += [nw.col(f"_i_{k}").sum().alias(k) for k in ind]
    row = engine.collect(stats_frame.select(*p1_exprs), "dsr:audit")
    stats = {c: _int(row[c].iloc[0]) for c in row.columns if c not in ("first_day", "last_day")}
    rows_in = {"ratings": stats["rows"]}
    for i, (reason, _, detail) in enumerate(reasons):
        if stats[f"x{i}"]:
            excluded.append(Exclusion("ratings", reason, stats[f"x{i}"], detail))
    first_day = _opt_int(row["first_day"].iloc[0])
    last_day = _opt_int(row["last_day"].iloc[0])

    if stats.get("partial"):
        notes.append(
            f"{stats['partial']} partial ratings count in the dimensions they rate only "
            "(no default score for the others)"
        )
    if not has_ts:
        notes.append(
            "ratings have no trade_success_at column: the monthly cap orders each buyer's "
            "ratings by rating time (rated_at) and uses its natural month instead"
        )
    elif stats.get("fallback"):
        notes.append(
            f"{stats['fallback']} ratings have no trade_success_at: the monthly cap orders them "
            "by rating time (rated_at) instead"
        )
    if stats.get("nobuyer"):
        notes.append(
            f"{stats['nobuyer']} ratings have no buyer_id (anonymous): the monthly cap "
            "cannot apply to them"
        )
    if stats.get("noorder"):
        notes.append(
            f"{stats['noorder']} ratings have no matching order_id in orders: kept (the orders "
            "table may not reach back far enough)"
        )
    if od is not None:
        rows_in["orders"] = engine.count_rows(od)

    synthetic = False
    if default_score is not None and od is not None and od_frame is not None:
        frame = _add_default_rows(frame, od_frame, od, by, default_score)
        synthetic = True
        notes.append(
            f"default_score={default_score}: every paid trade without a rating counts "
            f"{default_score} in all three dimensions, dated {RATING_DEADLINE_DAYS} days after "
            "payment (NOT the platform rule, which gives unrated trades no score)"
        )

    eligible = frame.filter(nw.col("_eligible"))
    if cap is not None:
        eligible = eligible.with_columns(
            nw.len().over("buyer_id", "_month").alias("_bm_n")
        ).with_columns(((nw.col("_bm_n") > cap) & ~nw.col("buyer_id").is_null()).alias("_heavy"))
    else:
        eligible = eligible.with_columns(nw.lit(value=False).alias("_heavy"))
    return _Prep(
        rt,
        eligible,
        by,
        cap,
        rows_in,
        excluded,
        notes,
        first_day,
        last_day,
        od is not None,
        brushing_ready,
        synthetic,
        stats,
    )


def _add_default_rows(
    frame: nw.LazyFrame[Any],
    od_frame: nw.LazyFrame[Any],
    od: Table,
    by: list[str],
    default_score: float,
) -> nw.LazyFrame[Any]:
    """Unrated paid trades as ratings of ``default_score`` (the switched-off platform rule)."""
    schema = frame.collect_schema()
    ofr = od_frame.with_columns(nw.col("order_id").cast(nw.String()).alias("_oid"))
    per = (
        ofr.filter(~nw.col("paid_at").is_null())
        .group_by("_oid")
        .agg(
            nw.col("order_id").min().alias("order_id"),
            nw.col("buyer_id").min().alias("buyer_id"),
            nw.col("paid_at").max().alias("_paid_at"),
            *(nw.col(c).min().alias(c) for c in by if od.has(c)),
        )
    )
    rated = frame.select("_oid").unique()
    unrated = per.join(rated, on="_oid", how="anti")
    rated_at = nw.col("_paid_at") + nw.lit(dt.timedelta(days=RATING_DEADLINE_DAYS))
    values: dict[str, nw.Expr] = {
        "order_id": nw.col("order_id"),
        "_oid": nw.col("_oid"),
        "buyer_id": nw.col("buyer_id"),
        "rated_at": rated_at,
        "_paid_at": nw.col("_paid_at"),
        "_o_lines": nw.lit(1),
        "_eligible": nw.lit(value=True),
        "_n_rated": nw.lit(3),
        "_ts": rated_at,
        "_syn": nw.lit(value=True),
        **{f"_{d}": nw.lit(float(default_score)) for d in DIMENSIONS},
        **{c: nw.col(c) for c in by if od.has(c)},
    }
    exprs = []
    for name, dtype in schema.items():
        if name in ("_day", "_month"):
            continue
        expr = values.get(name, nw.lit(None))
        exprs.append(expr.cast(dtype).alias(name))
    syn = unrated.select(exprs)
    cols = [c for c in schema.names() if c not in ("_day", "_month")]
    both = nw.concat([frame.select(cols), syn.select(cols)], how="vertical")
    return both.with_columns(
        engine.day_number("rated_at").alias(_DAY), engine.period_key("_ts", "M").alias("_month")
    )


def _missing(value: Any) -> bool:
    """``None``, NaN, ``pd.NA`` or ``NaT``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 - NaN / NaT are not equal to themselves
    except TypeError:  # pd.NA
        return True


def _int(value: Any) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return 0
    return 0 if math.isnan(f) else int(f)


def _opt_int(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


# ---------------------------------------------------------------- aggregation


def _agg_names(full: bool) -> list[str]:
    names = [f"_{k}_{d}" for d in DIMENSIONS for k in ("n", "s", "q")]
    if full:
        names += [f"_k_{d}_{j}" for d in DIMENSIONS for j in _STARS]
        names += ["_c_n"]
        names += [f"_cs_{d}" for d in DIMENSIONS] + [f"_cq_{d}" for d in DIMENSIONS]
        names += [f"_cx_{a}_{b}" for a, b in _PAIRS]
    return names


def _agg_columns(full: bool) -> list[nw.Expr]:
    """Per-row pieces of the mergeable aggregates (summed per group afterwards)."""
    exprs: list[nw.Expr] = []
    for d in DIMENSIONS:
        s = _score(d)
        exprs += [
            (~s.is_null()).cast(nw.Int64()).alias(f"_n_{d}"),
            s.alias(f"_s_{d}"),
            (s * s).alias(f"_q_{d}"),
        ]
    if full:
        for d in DIMENSIONS:
            s = _score(d)
            exprs += [(s == j).cast(nw.Int64()).alias(f"_k_{d}_{j}") for j in _STARS]
        c = nw.all_horizontal(*(~_score(d).is_null() for d in DIMENSIONS), ignore_nulls=True).cast(
            nw.Int64()
        )
        exprs.append(c.alias("_c_n"))
        exprs += [(_score(d) * c).alias(f"_cs_{d}") for d in DIMENSIONS]
        exprs += [(_score(d) * _score(d) * c).alias(f"_cq_{d}") for d in DIMENSIONS]
        exprs += [(_score(a) * _score(b) * c).alias(f"_cx_{a}_{b}") for a, b in _PAIRS]
    return exprs


def _agg_engine(frame: nw.LazyFrame[Any], keys: list[str], full: bool, what: str) -> pd.DataFrame:
    names = _agg_names(full)
    parts = frame.with_columns(*_agg_columns(full))
    sums = [nw.col(c).sum().alias(c) for c in names]
    import pandas as pd  # noqa: PLC0415

    out = engine.collect(parts.group_by(keys).agg(*sums) if keys else parts.select(*sums), what)
    values = out[names].apply(pd.to_numeric).astype("float64").fillna(0.0)
    combined: pd.DataFrame = pd.concat(
        [out[keys].reset_index(drop=True), values.reset_index(drop=True)], axis=1
    )
    return combined


def _agg_rows(rows: pd.DataFrame, keys: list[str], full: bool) -> pd.DataFrame:
    """The same aggregates as :func:`_agg_engine`, from collected rows (numpy)."""
    import pandas as pd  # noqa: PLC0415

    data: dict[str, Any] = {k: rows[k].to_numpy() for k in keys}
    vals = {d: rows[f"_{d}"].to_numpy(dtype=float) for d in DIMENSIONS}
    for d in DIMENSIONS:
        v = vals[d]
        ok = ~np.isnan(v)
        data[f"_n_{d}"] = ok.astype(float)
        data[f"_s_{d}"] = np.where(ok, v, 0.0)
        data[f"_q_{d}"] = np.where(ok, v * v, 0.0)
    if full:
        for d in DIMENSIONS:
            for j in _STARS:
                data[f"_k_{d}_{j}"] = (vals[d] == j).astype(float)
        c = np.all([~np.isnan(vals[d]) for d in DIMENSIONS], axis=0)
        data["_c_n"] = c.astype(float)
        z = {d: np.where(c, vals[d], 0.0) for d in DIMENSIONS}
        for d in DIMENSIONS:
            data[f"_cs_{d}"] = z[d]
            data[f"_cq_{d}"] = z[d] * z[d]
        for a, b in _PAIRS:
            data[f"_cx_{a}_{b}"] = z[a] * z[b]
    df = pd.DataFrame(data)
    names = _agg_names(full)
    if not keys:
        return df[names].sum().to_frame().T
    return df.groupby(keys, dropna=False, sort=False)[names].sum().reset_index()


def _combine(frames: list[pd.DataFrame], keys: list[str], full: bool) -> pd.DataFrame:
    """Add aggregates of disjoint row sets group by group (they are mergeable)."""
    import pandas as pd  # noqa: PLC0415

    names = _agg_names(full)
    frames = [f for f in frames if len(f)]
    if not frames:
        return (
            pd.DataFrame({**{k: [] for k in keys}, **{c: [] for c in names}})
            if keys
            else pd.DataFrame({c: [0.0] for c in names})
        )
    both = pd.concat(frames, ignore_index=True)
    if not keys:
        return both[names].sum().to_frame().T
    return both.groupby(keys, dropna=False, sort=True)[names].sum().reset_index()


def _drop_days(heavy: pd.DataFrame, cap: int) -> Any:
    """For each over-cap-month rating, the first day it no longer counts (``inf``: never).

    Within a (buyer, natural month) the ratings are ordered by (trade-success time, order
    id). A rating counts at day ``e`` when fewer than ``cap`` ratings before it in that
    order have been given by ``e``; so it stops counting on the day the ``cap``-th of
    them arrives (the ``cap``-th smallest rating day among its predecessors).
    """
    drop = np.full(len(heavy), np.inf)
    if len(heavy) == 0:
        return drop
    order = heavy.sort_values(["_ts", "_oid"], kind="stable").index
    pos = heavy.index.get_indexer(order)
    sorted_rows = heavy.iloc[pos]
    days = sorted_rows[_DAY].to_numpy(dtype=float)
    groups = sorted_rows.groupby(["buyer_id", "_month"], sort=False, dropna=False).indices
    for idx in groups.values():
        if len(idx) <= cap:
            continue
        g_days = days[idx]
        for i in range(cap, len(idx)):
            drop[pos[idx[i]]] = np.partition(g_days[:i], cap - 1)[cap - 1]
    return drop


def _counted_at(heavy: pd.DataFrame, drop: Any, day: int, window: int) -> Any:
    d = heavy[_DAY].to_numpy(dtype=float)
    return (d >= day - window + 1) & (d <= day) & (day < drop)


# ---------------------------------------------------------------- statistics


def _scores(agg: pd.DataFrame, shrink_keys: list[str] | None = None) -> pd.DataFrame:
    """Score, count and interval per dimension from the aggregates."""
    out = agg.copy()
    for d in DIMENSIONS:
        n, s, q = (agg[f"_{k}_{d}"].to_numpy(dtype=float) for k in ("n", "s", "q"))
        mean, lo, hi = intervals.mean_ci(n, s, q)
        out[d] = mean
        out[f"n_{d}"] = n.astype("int64")
        out[f"{d}_ci_low"] = np.clip(lo, 1.0, 5.0)
        out[f"{d}_ci_high"] = np.clip(hi, 1.0, 5.0)
        if shrink_keys:
            out[f"{d}_shrunk_score"] = _shrink_normal(n, s, q)
    return out


def _shrink_normal(n: Any, s: Any, q: Any) -> Any:
    """Normal-normal empirical Bayes toward the pooled (shop) mean.

    Group means ``y_i`` with sampling variance ``v_i = σ² / n_i`` (``σ²`` the pooled
    within-group variance of single ratings); the between-group variance ``τ²`` by the
    method of moments (DerSimonian–Laird); each mean moves toward the shop mean ``μ`` by
    ``B_i = v_i / (v_i + τ²)``: ``μ + (1 − B_i)(y_i − μ)``.
    """
    n, s, q = (np.asarray(a, dtype=float) for a in (n, s, q))
    ok = n > 0
    out = np.full(len(n), np.nan)
    if ok.sum() == 0:
        return out
    y = np.where(ok, s / np.where(ok, n, 1.0), np.nan)
    big_n, k = n[ok].sum(), int(ok.sum())
    mu = s[ok].sum() / big_n
    if k < 2 or big_n - k <= 0:
        out[ok] = y[ok]
        return out
    sigma2 = max(float((q[ok] - s[ok] ** 2 / n[ok]).sum() / (big_n - k)), 0.0)
    if sigma2 == 0:
        out[ok] = y[ok]
        return out
    tau2 = _dl_tau2(y[ok], sigma2 / n[ok])
    v = sigma2 / n[ok]
    b = v / (v + tau2)
    out[ok] = mu + (1 - b) * (y[ok] - mu)
    return out


def _dl_tau2(y: Any, v: Any) -> float:
    """DerSimonian–Laird method-of-moments between-group variance.

    References:
        DerSimonian & Laird (1986), "Meta-analysis in clinical trials", Controlled
        Clinical Trials 7(3); matches ``statsmodels.stats.meta_analysis.combine_effects(
        ..., method_re="dl").tau2``.
    """
    w = 1.0 / np.asarray(v, dtype=float)
    y = np.asarray(y, dtype=float)
    ybar = (w * y).sum() / w.sum()
    q_stat = (w * (y - ybar) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    return float(max(0.0, (q_stat - (len(y) - 1)) / c)) if c > 0 else 0.0


def _covariance(shop: Mapping[str, float]) -> tuple[Any, float]:
    """Covariance matrix of single ratings' three dimensions (complete ratings)."""
    nc = float(shop["_c_n"])
    cov = np.full((3, 3), np.nan)
    if nc < 3:
        return cov, nc
    for i, a in enumerate(DIMENSIONS):
        for j, b in enumerate(DIMENSIONS):
            if i == j:
                sxy = float(shop[f"_cq_{a}"])
            else:
                key = f"_cx_{a}_{b}" if f"_cx_{a}_{b}" in shop else f"_cx_{b}_{a}"
                sxy = float(shop[key])
            cov[i, j] = (sxy - float(shop[f"_cs_{a}"]) * float(shop[f"_cs_{b}"]) / nc) / (nc - 1)
    return cov, nc


def _correlation(shop: Mapping[str, float]) -> pd.DataFrame:
    """Pearson correlation of each pair of dimensions, Fisher-z interval.

    References:
        Fisher (1921), "On the 'probable error' of a coefficient of correlation", Metron 1;
        matches ``scipy.stats.pearsonr(x, y).confidence_interval()``.
    """
    import pandas as pd  # noqa: PLC0415

    cov, nc = _covariance(shop)
    z = intervals._z(get_config().confidence)
    rows = []
    for a, b in _PAIRS:
        i, j = DIMENSIONS.index(a), DIMENSIONS.index(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (
                float(cov[i, j] / math.sqrt(cov[i, i] * cov[j, j]))
                if cov[i, i] > 0 and cov[j, j] > 0
                else math.nan
            )
        if nc > 3 and math.isfinite(r) and abs(r) < 1:
            zr, se = math.atanh(r), 1 / math.sqrt(nc - 3)
            lo, hi = math.tanh(zr - z * se), math.tanh(zr + z * se)
        else:
            lo = hi = math.nan
        rows.append(
            {"dimension_a": a, "dimension_b": b, "n": int(nc), "r": r, "ci_low": lo, "ci_high": hi}
        )
    return pd.DataFrame(rows, columns=["dimension_a", "dimension_b", "n", "r", "ci_low", "ci_high"])


def _departures(groups: pd.DataFrame, shop: Mapping[str, float], by: list[str]) -> pd.DataFrame:
    """Which dimension of a group departs from the shop's pattern.

    For group ``g`` let ``δ = ȳ_g − μ`` (group minus shop score, per dimension). Under the
    shop's covariance ``Σ`` of the three dimensions of a single rating, the deviation of
    dimension ``d`` expected from the other two is ``Σ_do Σ_oo⁻¹ δ_o`` (the conditional
    mean of a multivariate normal; equal to the OLS slopes of ``d`` on the other two over
    the shop's ratings). The departure is ``δ_d`` minus that, with standard error
    ``√((Σ_dd − Σ_do Σ_oo⁻¹ Σ_od) / n_g)``; p-values are adjusted over all groups and
    dimensions (``config.correction``). A dimension far off also moves what the other two
    are expected to be (in the opposite direction), so ``departs`` names at most one
    dimension per group: the one with the largest ``|z|``, when its ``q_value`` is under
    ``config.fdr``.

    References:
        Anderson (2003), *An Introduction to Multivariate Statistical Analysis*, 3rd ed.,
        Theorem 2.5.1 (conditional normal distribution).
    """
    import pandas as pd  # noqa: PLC0415
    from scipy import stats  # noqa: PLC0415

    cov, _ = _covariance(shop)
    mu = np.array(
        [
            float(shop[f"_s_{d}"]) / float(shop[f"_n_{d}"])
            if float(shop[f"_n_{d}"]) > 0
            else np.nan
            for d in DIMENSIONS
        ]
    )
    cols = [
        *by,
        "dimension",
        "score",
        "shop_score",
        "deviation",
        "expected_deviation",
        "departure",
        "z",
        "p_value",
        "q_value",
        "departs",
    ]
    if len(groups) == 0 or not np.all(np.isfinite(cov)):
        return pd.DataFrame(columns=cols)
    means = np.column_stack([groups[d].to_numpy(dtype=float) for d in DIMENSIONS])
    n_eff = np.min(
        np.column_stack([groups[f"n_{d}"].to_numpy(dtype=float) for d in DIMENSIONS]), axis=1
    )
    delta = means - mu
    records = []
    for i, d in enumerate(DIMENSIONS):
        o = [j for j in range(3) if j != i]
        beta = np.linalg.pinv(cov[np.ix_(o, o)]) @ cov[o, i]
        cond_var = float(cov[i, i] - cov[i, o] @ beta)
        expected = delta[:, o] @ beta
        dep = delta[:, i] - expected
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(
                np.where(
                    (n_eff > 0) & (cond_var > 0), cond_var / np.where(n_eff > 0, n_eff, 1.0), np.nan
                )
            )
            z = dep / se
        p = 2 * stats.norm.sf(np.abs(z))
        part = groups[by].copy()
        part["dimension"] = d
        part["score"] = means[:, i]
        part["shop_score"] = mu[i]
        part["deviation"] = delta[:, i]
        part["expected_deviation"] = expected
        part["departure"] = dep
        part["z"] = z
        part["p_value"] = p
        records.append(part)
    out = pd.concat(records, ignore_index=True)
    out["q_value"] = multiplicity.adjust_pvalues(out["p_value"].to_numpy(dtype=float))
    cfg = get_config()
    sig = (out["q_value"] < cfg.fdr).to_numpy(dtype=bool)
    absz = np.nan_to_num(np.abs(out["z"].to_numpy(dtype=float)), nan=-1.0)
    group_id = np.tile(np.arange(len(groups)), len(DIMENSIONS))
    top = np.zeros(len(out), dtype=bool)
    best: dict[int, int] = {}
    for i, g in enumerate(group_id):
        if g not in best or absz[i] > absz[best[g]]:
            best[int(g)] = i
    top[list(best.values())] = True
    out["departs"] = sig & top
    return out[cols]


def _departing_dimension(table: pd.DataFrame, dep: pd.DataFrame, by: list[str]) -> list[str | None]:
    if len(dep) == 0:
        return [None] * len(table)
    best = dep[dep["departs"]]
    if len(best) == 0:
        return [None] * len(table)
    merged = table[by].merge(best[[*by, "dimension"]], on=by, how="left")
    return [None if _missing(v) else str(v) for v in merged["dimension"].tolist()]


# ---------------------------------------------------------------- peers


def _load_peers(
    peers: Any, columns: Mapping[str, str] | None, by: list[str], notes: list[str]
) -> pd.DataFrame:
    p = engine.collect(engine.load(peers, "peers", columns, localize=False).frame, "dsr:peers")
    dim_col = (
        "dimension" if "dimension" in p.columns else ("metric" if "metric" in p.columns else None)
    )
    if dim_col is None or "peer_avg" not in p.columns:
        msg = (
            "peers: expected one row per DSR dimension with columns 'dimension' (item / service / "
            "logistics) and 'peer_avg', optionally 'peer_max', 'peer_min' and by-columns; "
            f"columns present: {list(p.columns)}"
        )
        raise SchemaError(msg)
    p = p.copy()
    p["dimension"] = [_DIMENSION_ALIASES.get(str(v).strip()) for v in p[dim_col]]
    other = int(p["dimension"].isna().sum())
    if other:
        notes.append(f"peers: {other} rows are not DSR dimensions and were ignored")
    p = p[p["dimension"].notna()]
    keys = [c for c in by if c in p.columns]
    if by and not keys:
        notes.append("peers have no by-columns: the same peer values apply to every group")
    dup = p.duplicated(["dimension", *keys])
    if dup.any():
        msg = (
            f"peers: {int(dup.sum())} repeated rows for the same dimension"
            + (f" and {keys}" if keys else "")
            + "; give one row per dimension (per group), e.g. filter by tier or category first"
        )
        raise SchemaError(msg)
    for c in ("peer_max", "peer_min"):
        if c not in p.columns:
            p[c] = np.nan
            notes.append(f"peers have no {c}: <dim>_vs_peers is NaN on the side that needs it")
    return p[["dimension", *keys, "peer_avg", "peer_max", "peer_min"]]


def _add_peers(table: pd.DataFrame, peers: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in peers.columns if c not in ("dimension", "peer_avg", "peer_max", "peer_min")]
    for d in DIMENSIONS:
        p = peers[peers["dimension"] == d].drop(columns=["dimension"])
        if keys:
            m = table[keys].merge(p, on=keys, how="left")
        else:
            m = (
                p.reindex([p.index[0]] * len(table)).reset_index(drop=True)
                if len(p)
                else p.reindex(range(len(table)))
            )
        avg = m["peer_avg"].to_numpy(dtype=float)
        score = table[d].to_numpy(dtype=float)
        table[f"{d}_peer_avg"] = avg
        table[f"{d}_vs_peers"] = vs_peers(
            score, avg, m["peer_max"].to_numpy(dtype=float), m["peer_min"].to_numpy(dtype=float)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            table[f"{d}_rel_diff"] = np.where(avg != 0, (score - avg) / avg, np.nan)
        lo, hi = (
            table[f"{d}_ci_low"].to_numpy(dtype=float),
            table[f"{d}_ci_high"].to_numpy(dtype=float),
        )
        table[f"{d}_beyond_ci"] = np.isfinite(avg) & ((avg < lo) | (avg > hi))
    return table


# ---------------------------------------------------------------- main entry


def dsr(
    ratings: Any,
    orders: Any = None,
    as_of: Any = None,
    window_days: int = 180,
    by: Sequence[str] | str = (),
    peers: Any = None,
    freq: Freq = None,
    columns: Mapping[str, str] | None = None,
    *,
    tz: str | None = None,
    max_per_buyer_month: int | None = 3,
    partial: Literal["rated_only", "drop"] = "rated_only",
    reject_unpaid: bool = True,
    default_score: float | None = None,
    shrink: bool = True,
    detect: bool = True,
) -> DSRResult:
    """DSR scores (店铺动态评分) under the platform rules.

    Args:
        ratings: One row per rating (``order_id``, ``buyer_id``, ``rated_at``,
            ``item_score``, ``service_score``, ``logistics_score``; optional
            ``trade_success_at``, ``product_id``, ``carrier``, ``region``). Any engine or a
            Parquet/CSV path.
        orders: Order lines (``order_id``, ``buyer_id``, ``paid_at``): ratings of unpaid
            trades are rejected, and the brushing detector can run.
        as_of: Last day of the window (inclusive; a timestamp counts as its whole day).
            Default: the day of the latest rating in the table.
        window_days: Length of the window in days, ending at ``as_of`` inclusive: days
            ``as_of − window_days + 1`` … ``as_of``. The platform uses 6 months (180 days).
        by: Columns to score separately (``"product_id"``, ``"carrier"``, ``"region"``).
        peers: Peer benchmarks, one row per dimension: ``dimension`` (item / service /
            logistics, or the Chinese names), ``peer_avg``, optional ``peer_max``,
            ``peer_min`` and ``by`` columns.
        freq: ``"D"``, ``"W"`` or ``"M"``: the rolling score as it stood at the end of
            each period (the last period ends at ``as_of``).
        columns: ``{their_name: canonical_name}`` for every table.
        tz: The store's time zone, in which days and months are cut.
        max_per_buyer_month: Only this many ratings of one buyer in a natural month
            count, first by trade-success time (platform: 3; ties by order id, as text;
            the month is that of the trade-success time). A rating given later for an
            earlier trade takes the place of one already counted, so a past ``as_of``
            counts what had been given by then. ``None`` switches the rule off.
        partial: ``"rated_only"`` (platform): a partial rating counts in the dimensions
            it rates. ``"drop"``: a rating missing any dimension is left out whole.
        reject_unpaid: With ``orders``, reject ratings of trades that are in ``orders``
            but never paid (platform: only completed trades can be rated).
        default_score: ``None`` (platform: no default score). A number makes every paid
            trade in ``orders`` without a rating count as that score in every dimension,
            dated 15 days after payment — a what-if, not the rule.
        shrink: With ``by``, add ``<dim>_shrunk_score`` (empirical Bayes toward the shop).
        detect: Run the flags (``small_sample``, ``window_truncated``, ``rating_brushing``).

    Returns:
        A :class:`DSRResult`.

    Raises:
        ColumnNotFoundError: a required column is missing.
        DefinitionError: an unknown ``freq`` or ``partial``.
        ShopmetricsError: a bad ``as_of`` / ``window_days`` / cap, or no rating time at all.

    References:
        Metric dictionary ``shared/spec/metrics.md`` (DSR): score = sum of a dimension's
        ratings in the window / their number (worked example 19×5 + 1×1 → 4.8); first 3
        ratings per buyer and natural month by trade-success time; no default score;
        industry comparison (4.71234 − 4.61234) / (4.91234 − 4.61234) = 33.33%.
        Interval: the normal-theory interval of a mean, ``ȳ ± z·s/√n``, clipped to
        [1, 5]. Shrinkage: DerSimonian & Laird (1986); Efron & Morris (1975), "Data
        analysis using Stein's estimator and its generalizations", JASA 70.

    Examples:
        >>> import shopmetrics as sm
        >>> store = sm.datasets.make_store(seed=0, days=14, products=20, visitors_per_day=300)
        >>> r = sm.dsr(store.ratings, store.orders, peers=store.dsr_peers)
        >>> row = r.to_pandas().iloc[0]
        >>> bool(1 <= row["item"] <= 5 and row["item_ci_low"] <= row["item"] <= row["item_ci_high"])
        True
    """
    import pandas as pd  # noqa: PLC0415

    cfg = get_config()
    by = [by] if isinstance(by, str) else list(by)
    if freq not in FREQS:
        raise DefinitionError.unknown("freq", freq, ["None", "D", "W", "M"])
    if partial not in ("rated_only", "drop"):
        raise DefinitionError.unknown("partial", partial, ("rated_only", "drop"))
    if not isinstance(window_days, int) or window_days < 1:
        msg = f"window_days must be a whole number of days >= 1, got {window_days!r}"
        raise ShopmetricsError(msg)
    if max_per_buyer_month is not None and (
        not isinstance(max_per_buyer_month, int) or max_per_buyer_month < 1
    ):
        msg = f"max_per_buyer_month must be None or an integer >= 1, got {max_per_buyer_month!r}"
        raise ShopmetricsError(msg)
    if default_score is not None and not 1 <= default_score <= 5:
        msg = f"default_score must be between 1 and 5, got {default_score!r}"
        raise ShopmetricsError(msg)
    tz = tz or cfg.tz
    prep = _prepare(
        ratings,
        orders,
        by=by,
        columns=columns,
        tz=tz,
        cap=max_per_buyer_month,
        partial=partial,
        reject_unpaid=reject_unpaid,
        default_score=default_score,
    )
    notes, excluded = prep.notes, prep.excluded
    if as_of is None:
        if prep.last_day is None:
            msg = "ratings: no row has a rated_at; pass as_of= or check the rated_at column"
            raise ShopmetricsError(msg)
        asof = prep.last_day
        notes.append(f"as_of not given: the day of the latest rating, {_day_date(asof)}")
    else:
        asof = _day_number(_parse_day(as_of, "as_of", tz))
    start = asof - window_days + 1
    notes.append(
        f"window: ratings given from {_day_date(start)} 00:00 to {_day_date(asof)} 24:00 "
        f"({window_days} days, both ends inclusive), by rated_at"
    )

    eligible = prep.eligible
    # pass 2: rows outside the window
    win = (nw.col(_DAY) >= start) & (nw.col(_DAY) <= asof)
    outside = engine.collect(
        eligible.with_columns(
            ((nw.col(_DAY) > asof) & ~nw.col("_syn")).cast(nw.Int64()).alias("_after"),
            ((nw.col(_DAY) < start) & ~nw.col("_syn")).cast(nw.Int64()).alias("_before"),
            (win & nw.col("_syn")).cast(nw.Int64()).alias("_syn_in"),
            (nw.col("_heavy") & (nw.col(_DAY) <= asof)).cast(nw.Int64()).alias("_n_heavy"),
        ).select(
            nw.col("_after").sum(),
            nw.col("_before").sum(),
            nw.col("_syn_in").sum(),
            nw.col("_n_heavy").sum(),
        ),
        "dsr:outside",
    )
    n_after, n_before = _int(outside["_after"].iloc[0]), _int(outside["_before"].iloc[0])
    if n_after:
        excluded.append(
            Exclusion("ratings", "after_as_of", n_after, f"rated after {_day_date(asof)}")
        )
    if n_before:
        excluded.append(
            Exclusion("ratings", "before_window", n_before, f"rated before {_day_date(start)}")
        )
    if prep.synthetic:
        notes.append(
            f"{_int(outside['_syn_in'].iloc[0])} unrated paid trades fall in the window with "
            "the default score"
        )

    # heavy buyer-months: rows, with the day each stops counting
    heavy = _collect_heavy(prep, by, asof, skip=_int(outside["_n_heavy"].iloc[0]) == 0)
    drop = _drop_days(heavy, prep.cap) if prep.cap is not None else np.full(len(heavy), np.inf)
    counted_now = _counted_at(heavy, drop, asof, window_days)
    in_window_heavy = _counted_at(heavy, np.full(len(heavy), np.inf), asof, window_days)
    over = in_window_heavy & ~counted_now
    syn = heavy["_syn"].to_numpy(dtype=bool) if len(heavy) else np.zeros(0, bool)
    if int((over & ~syn).sum()):
        excluded.append(
            Exclusion(
                "ratings",
                "over_monthly_cap",
                int((over & ~syn).sum()),
                f"beyond the first {prep.cap} ratings of the buyer in a natural month "
                "(by trade-success time)",
            )
        )
    if int((over & syn).sum()):
        notes.append(f"{int((over & syn).sum())} default-score trades are beyond the monthly cap")

    # one-shot window aggregates: engine for ordinary rows, numpy for heavy rows
    light_win = eligible.filter(~nw.col("_heavy") & win)
    agg_light = _agg_engine(light_win, by, full=True, what="dsr:window")
    agg_heavy = _agg_rows(heavy[counted_now], by, full=True) if len(heavy) else agg_light.iloc[0:0]
    agg = _combine([agg_light, agg_heavy], by, full=True)
    shop_agg = _combine([agg], [], full=True)
    shop_row = {c: float(shop_agg[c].iloc[0]) for c in _agg_names(True)}

    # daily aggregates: for the series (all days up to as_of) or the window only
    day_lo = prep.first_day if (freq is not None and prep.first_day is not None) else start
    day_lo = min(day_lo, start)
    daily_light = _agg_engine(
        eligible.filter(~nw.col("_heavy") & (nw.col(_DAY) >= day_lo) & (nw.col(_DAY) <= asof)),
        [*by, _DAY],
        full=False,
        what="dsr:daily",
    )

    complete = prep.first_day is not None and prep.first_day <= start
    table = _scores(agg, by if (by and shrink) else None)
    shop = _scores(shop_agg)
    dep = pd.DataFrame()
    if by:
        dep = _departures(table, shop_row, by)
    if freq is None:
        table.insert(len(by), "window_first_day", pd.Timestamp(_day_date(start)))
        table.insert(len(by) + 1, "window_last_day", pd.Timestamp(_day_date(asof)))
        table.insert(len(by) + 2, "window_complete", complete)
    else:
        table = _series(
            daily_light=daily_light,
            heavy=heavy,
            drop=drop,
            by=by,
            freq=freq,
            window=window_days,
            asof=asof,
            first_day=prep.first_day,
        )
    for t in (table, shop):
        t["small_sample"] = (
            np.min(np.column_stack([t[f"n_{d}"].to_numpy() for d in DIMENSIONS]), axis=1)
            < cfg.min_sample
        )
    if by and freq is None:
        table["departing_dimension"] = _departing_dimension(table, dep, by)
    if peers is not None:
        peer_table = _load_peers(peers, columns, by, notes)
        table = _add_peers(table, peer_table)
        if not by or all(c not in peer_table.columns for c in by):
            shop = _add_peers(shop, peer_table)
    table = _order_columns(table, by, freq)
    if "window_first_day" not in shop.columns:
        shop.insert(0, "window_first_day", pd.Timestamp(_day_date(start)))
        shop.insert(1, "window_last_day", pd.Timestamp(_day_date(asof)))
    shop = _order_columns(shop, [], None)

    distribution = _distribution(agg, by)
    correlation = _correlation(shop_row)
    daily = _window_daily(
        daily_light=daily_light, heavy=heavy, counted=counted_now, by=by, start=start, asof=asof
    )

    rules = []
    if max_per_buyer_month != 3:
        rules.append(f"max_per_buyer_month={max_per_buyer_month}")
    if partial != "rated_only":
        rules.append(f"partial={partial!r}")
    if not reject_unpaid:
        rules.append("reject_unpaid=False")
    if default_score is not None:
        rules.append(f"default_score={default_score}")
    definition = "alibaba" if not rules else "alibaba, modified: " + ", ".join(rules)
    if orders is None:
        notes.append(
            "no orders given: ratings of unpaid trades cannot be rejected, brushing not checked"
        )
    if len(heavy):
        notes.append(
            f"{len(heavy)} ratings belong to buyer-months with more than {prep.cap} ratings; "
            "the cap was applied to them row by row"
        )
    meta = {
        "by": tuple(by),
        "freq": freq,
        "as_of": _day_date(asof),
        "window_days": window_days,
        "window_first_day": _day_date(start),
        "window_last_day": _day_date(asof),
        "data_first_day": None if prep.first_day is None else _day_date(prep.first_day),
        "data_last_day": None if prep.last_day is None else _day_date(prep.last_day),
        "max_per_buyer_month": max_per_buyer_month,
        "partial": partial,
        "reject_unpaid": reject_unpaid,
        "default_score": default_score,
        "tz": tz,
        "confidence": cfg.confidence,
        "min_sample": cfg.min_sample,
    }
    result = DSRResult(
        table,
        (),
        Audit(prep.rows_in, tuple(excluded), tuple(notes)),
        definition,
        meta,
        distribution=distribution,
        correlation=correlation,
        departures=dep,
        daily=daily,
        shop=shop,
    )
    if detect:
        flags = _detect(
            result=result,
            prep=prep,
            heavy=heavy,
            counted_now=counted_now,
            start=start,
            asof=asof,
            shop_row=shop_row,
        )
        result = dataclasses.replace(result, flags=sort_flags(flags))
    logger.debug("dsr: %d rows, as_of %s, %d flags", len(table), _day_date(asof), len(result.flags))
    return result


def _collect_heavy(prep: _Prep, by: list[str], asof: int, *, skip: bool = False) -> pd.DataFrame:
    """Rows of buyer-months over the cap, up to ``as_of`` (few: repeat buyers, brushing)."""
    import pandas as pd  # noqa: PLC0415

    cols = list(
        dict.fromkeys(
            ["_oid", "buyer_id", "_month", "_ts", _DAY, "_syn", *(f"_{d}" for d in DIMENSIONS), *by]
        )
    )
    if prep.cap is None or skip:
        return pd.DataFrame({c: [] for c in cols})
    rows = engine.collect(
        prep.eligible.filter(nw.col("_heavy") & (nw.col(_DAY) <= asof)).select(cols), "dsr:heavy"
    )
    return rows.reset_index(drop=True)


def _distribution(agg: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    rows = len(agg)
    reps = len(DIMENSIONS) * len(_STARS)
    out = (
        agg[by].iloc[np.tile(np.arange(rows), reps)].reset_index(drop=True)
        if by
        else pd.DataFrame(index=range(reps))
    )
    counts = np.concatenate(
        [agg[f"_k_{d}_{j}"].to_numpy(dtype=float) for d in DIMENSIONS for j in _STARS]
    )
    totals = np.concatenate(
        [agg[f"_n_{d}"].to_numpy(dtype=float) for d in DIMENSIONS for _ in _STARS]
    )
    extra = pd.DataFrame(
        {
            "dimension": np.repeat([d for d in DIMENSIONS for _ in _STARS], rows),
            "stars": np.repeat([j for _ in DIMENSIONS for j in _STARS], rows),
            "count": counts.astype("int64"),
            "share": intervals.rate(counts, totals),
        }
    )
    out = pd.concat([out, extra], axis=1)
    return out.sort_values([*by, "dimension", "stars"], kind="stable", key=_dim_key).reset_index(
        drop=True
    )


def _dim_key(s: pd.Series) -> pd.Series:
    if s.name == "dimension":
        return s.map({d: i for i, d in enumerate(DIMENSIONS)})
    return s


def _window_daily(
    *,
    daily_light: pd.DataFrame,
    heavy: pd.DataFrame,
    counted: Any,
    by: list[str],
    start: int,
    asof: int,
) -> pd.DataFrame:
    """Counted ratings per group and day of the window (light rows + counted heavy rows)."""
    import pandas as pd  # noqa: PLC0415

    keys = [*by, _DAY]
    light = daily_light[(daily_light[_DAY] >= start) & (daily_light[_DAY] <= asof)]
    hv = (
        _agg_rows(heavy[counted], keys, full=False)
        if len(heavy) and counted.any()
        else light.iloc[0:0]
    )
    both = _combine([light, hv], keys, full=False)
    out = both[by].copy() if by else pd.DataFrame(index=both.index)
    out["day"] = (
        pd.to_datetime([engine.period_start(int(k), "D") for k in both[_DAY]])
        if len(both)
        else pd.to_datetime([])
    )
    for d in DIMENSIONS:
        out[f"n_{d}"] = both[f"_n_{d}"].to_numpy(dtype=float).astype("int64")
        out[f"sum_{d}"] = both[f"_s_{d}"].to_numpy(dtype=float)
    return out.sort_values([*by, "day"], kind="stable").reset_index(drop=True)


def _periods(first_day: int, asof: int, freq: Freq) -> list[int]:
    def key(day: int) -> int:
        if freq == "D":
            return day
        if freq == "W":
            return day - ((day + 3) % 7)
        date = _day_date(day)
        return date.year * 12 + date.month - 1

    k0, k1 = key(first_day), key(asof)
    step = 7 if freq == "W" else 1
    return list(range(k0, k1 + 1, step))


def _series(
    *,
    daily_light: pd.DataFrame,
    heavy: pd.DataFrame,
    drop: Any,
    by: list[str],
    freq: Freq,
    window: int,
    asof: int,
    first_day: int | None,
) -> pd.DataFrame:
    """The score at the end of each period, from daily aggregates by window differences."""
    import pandas as pd  # noqa: PLC0415

    first = asof if first_day is None else min(first_day, asof)
    keys = _periods(first, asof, freq)
    ends = np.array(
        [min((engine.period_end(k, freq) - engine.EPOCH).days - 1, asof) for k in keys],
        dtype=np.int64,
    )
    lo = int(min(first, ends.min() - window + 1))
    length = asof - lo + 1
    # group index over light and heavy rows
    key_frames = [f[by] for f in (daily_light, heavy) if len(f)] if by else []
    if by and key_frames:
        groups = pd.concat(key_frames, ignore_index=True).drop_duplicates()
        groups = groups.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)
    elif by:
        groups = pd.DataFrame({c: pd.Series([], dtype=object) for c in by})
    else:
        groups = pd.DataFrame(index=[0])
    n_groups = len(groups)
    groups["_g"] = np.arange(n_groups)

    def codes(f: pd.DataFrame) -> Any:
        if not by:
            return np.zeros(len(f), dtype=np.int64)
        return f[by].merge(groups, on=by, how="left")["_g"].to_numpy(dtype=np.int64)

    out_n = {d: np.zeros((n_groups, len(keys))) for d in DIMENSIONS}
    out_s = {d: np.zeros((n_groups, len(keys))) for d in DIMENSIONS}
    out_q = {d: np.zeros((n_groups, len(keys))) for d in DIMENSIONS}
    if len(daily_light):
        g = codes(daily_light)
        day_idx = daily_light[_DAY].to_numpy(dtype=np.int64) - lo
        a_idx = ends - window + 1 - lo
        b_idx = ends - lo
        for d in DIMENSIONS:
            for store, col in ((out_n, f"_n_{d}"), (out_s, f"_s_{d}"), (out_q, f"_q_{d}")):
                grid = np.zeros((n_groups, length))
                np.add.at(grid, (g, day_idx), daily_light[col].to_numpy(dtype=float))
                cum = np.concatenate([np.zeros((n_groups, 1)), np.cumsum(grid, axis=1)], axis=1)
                store[d] += cum[:, b_idx + 1] - cum[:, np.maximum(a_idx, 0)]
    if len(heavy):
        g = codes(heavy)
        hd = heavy[_DAY].to_numpy(dtype=float)
        for p, e in enumerate(ends):
            m = (hd >= e - window + 1) & (hd <= e) & (e < drop)
            if not m.any():
                continue
            for d in DIMENSIONS:
                v = heavy[f"_{d}"].to_numpy(dtype=float)
                ok = m & ~np.isnan(v)
                out_n[d][:, p] += np.bincount(g[ok], minlength=n_groups)
                out_s[d][:, p] += np.bincount(g[ok], weights=v[ok], minlength=n_groups)
                out_q[d][:, p] += np.bincount(g[ok], weights=v[ok] ** 2, minlength=n_groups)
    rows = []
    labels = [engine.period_label(k, freq) for k in keys]
    starts = [pd.Timestamp(engine.period_start(k, freq)) for k in keys]
    for gi in range(n_groups):
        frame = pd.DataFrame(
            {
                "period": labels,
                "period_start": starts,
                "window_first_day": [pd.Timestamp(_day_date(int(e) - window + 1)) for e in ends],
                "window_last_day": [pd.Timestamp(_day_date(int(e))) for e in ends],
                "window_complete": [
                    first_day is not None and first_day <= int(e) - window + 1 for e in ends
                ],
            }
        )
        for c in by:
            frame.insert(by.index(c), c, [groups[c].iloc[gi]] * len(keys))
        for d in DIMENSIONS:
            frame[f"_n_{d}"] = out_n[d][gi]
            frame[f"_s_{d}"] = out_s[d][gi]
            frame[f"_q_{d}"] = out_q[d][gi]
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return _scores(table)


def _order_columns(table: pd.DataFrame, by: list[str], freq: Freq) -> pd.DataFrame:
    lead = [*by]
    if freq is not None:
        lead += ["period", "period_start"]
    lead += ["window_first_day", "window_last_day", "window_complete"]
    cols = [c for c in lead if c in table.columns]
    suffixes = ("", "_ci_low", "_ci_high", "_shrunk_score", "_peer_avg", "_vs_peers", "_rel_diff")
    for d in DIMENSIONS:
        block = [
            f"{d}{suffixes[0]}",
            f"n_{d}",
            *(f"{d}{x}" for x in suffixes[1:]),
            f"{d}_beyond_ci",
        ]
        cols.extend(c for c in block if c in table.columns)
    cols += [c for c in ("small_sample", "departing_dimension") if c in table.columns]
    return table[cols].reset_index(drop=True)


# ---------------------------------------------------------------- flags


def _detect(
    *,
    result: DSRResult,
    prep: _Prep,
    heavy: pd.DataFrame,
    counted_now: Any,
    start: int,
    asof: int,
    shop_row: Mapping[str, float],
) -> list[Flag]:
    cfg = get_config()
    out: list[Flag] = []
    t = result.table
    last = _last_period(t, list(result.by))
    small = last[last["small_sample"]] if "small_sample" in last.columns else last.iloc[0:0]
    if len(small):
        examples = tuple(
            {
                **{c: str(r[c]) for c in result.by},
                **{f"n_{d}": int(r[f"n_{d}"]) for d in DIMENSIONS},
            }
            for _, r in small.head(5).iterrows()
        )
        what = f"{len(small)} of {len(last)} groups have" if result.by else "the shop has"
        out.append(
            Flag(
                "small_sample",
                "warning" if not result.by else "info",
                f"{what} fewer than {cfg.min_sample} counted ratings in some dimension: the "
                "score moves "
                "a lot with each new rating — read the interval"
                + (" and rank groups by <dim>_shrunk_score." if result.by else "."),
                table="ratings",
                subject={"groups": len(small)},
                n_rows=len(small),
                examples=examples,
                evidence={"min_sample": cfg.min_sample},
            )
        )
    if prep.first_day is not None and prep.first_day > start:
        first = _day_date(prep.first_day)
        out.append(
            Flag(
                "window_truncated",
                "warning",
                f"the ratings table starts on {first}, after the window's first day "
                f"{_day_date(start)}: {(prep.first_day - start)} days of the "
                f"{result.meta['window_days']}-day window are missing, so the score rests on "
                "fewer ratings than the platform's (and the monthly cap may miss earlier "
                "ratings). Export ratings from the window start, or ignore this if the shop "
                "had no ratings before.",
                table="ratings",
                column="rated_at",
                subject={"window_first_day": _day_date(start).isoformat()},
                evidence={
                    "data_first_day": first.isoformat(),
                    "missing_days": prep.first_day - start,
                },
            )
        )
    if prep.brushing_ready:
        out += _brushing(
            result=result,
            prep=prep,
            heavy=heavy,
            counted_now=counted_now,
            start=start,
            asof=asof,
            shop_row=shop_row,
        )
    return out


def _brushing(
    *,
    result: DSRResult,
    prep: _Prep,
    heavy: pd.DataFrame,
    counted_now: Any,
    start: int,
    asof: int,
    shop_row: Mapping[str, float],
) -> list[Flag]:
    """Bursts of 5-star ratings from new buyers right after payment (刷单 / brushing).

    A rating is suspect when every dimension it rates is 5 stars, it rates an order paid
    within ``BRUSH_NEW_BUYER_HOURS`` of the buyer's first paid order in ``orders`` (a new
    buyer), and it came within ``BRUSH_MAX_HOURS`` of payment.
    A day of the window is a burst when it has at least ``BRUSH_MIN_PER_DAY`` suspect
    ratings and, against a Poisson baseline at the window's median daily count, a tail
    probability under ``BRUSH_P_VALUE``.
    """
    from scipy import stats  # noqa: PLC0415

    five = nw.all_horizontal(
        *(_score(d).is_null() | (_score(d) == 5) for d in DIMENSIONS), ignore_nulls=True
    )
    impl = prep.eligible.implementation
    quick = engine.minutes_between("rated_at", "_paid_at", impl) <= BRUSH_MAX_HOURS * 60
    new = engine.minutes_between("_paid_at", "_first_paid", impl) <= BRUSH_NEW_BUYER_HOURS * 60
    suspect = (five & quick & new & ~nw.col("_syn")).fill_null(value=False)
    frame = prep.eligible.filter((nw.col(_DAY) >= start) & (nw.col(_DAY) <= asof)).with_columns(
        suspect.cast(nw.Int64()).alias("_susp")
    )
    per_day = engine.collect(
        frame.group_by(_DAY).agg(nw.len().alias("ratings"), nw.col("_susp").sum().alias("suspect")),
        "dsr:brushing_days",
    )
    if len(per_day) == 0:
        return []
    days = np.arange(start, asof + 1)
    counts = np.zeros(len(days))
    totals = np.zeros(len(days))
    idx = per_day[_DAY].to_numpy(dtype=np.int64) - start
    counts[idx] = per_day["suspect"].to_numpy(dtype=float)
    totals[idx] = per_day["ratings"].to_numpy(dtype=float)
    median = float(np.median(counts))
    base = max(median, 0.5)
    p = stats.poisson.sf(counts - 1, base)
    burst = (counts >= BRUSH_MIN_PER_DAY) & (p < BRUSH_P_VALUE)
    if not burst.any():
        return []
    burst_days = [int(d) for d in days[burst]]
    rows = engine.collect(
        frame.filter((nw.col("_susp") == 1) & nw.col(_DAY).is_in(burst_days)).select(
            "_oid",
            "order_id",
            "buyer_id",
            "rated_at",
            _DAY,
            "_heavy",
            *(f"_{d}" for d in DIMENSIONS),
        ),
        "dsr:brushing_rows",
    )
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
        n = float(shop_row[f"_n_{d}"]) - len(v)
        s = float(shop_row[f"_s_{d}"]) - float(v.sum())
        instead[d] = float(intervals.rate(s, n))
    day_list = [
        {
            "date": _day_date(int(d)).isoformat(),
            "suspect": int(c),
            "ratings": int(tot),
            "p_value": float(pv),
        }
        for d, c, tot, pv in zip(days[burst], counts[burst], totals[burst], p[burst], strict=True)
    ]
    n_susp = len(rows)
    shop = result.shop.iloc[0]
    return [
        Flag(
            "rating_brushing",
            "warning",
            f"{n_susp} five-star ratings on {len(burst_days)} burst day(s) "
            f"(e.g. {day_list[0]['date']}) came "
            f"from new buyers within {BRUSH_MAX_HOURS} h of payment, against a median of "
            f"{median:g} such ratings a day: suspected brushing (刷单). They lift the score; "
            "the DSR "
            f"without them: item {instead['item']:.4f} (shown {float(shop['item']):.4f}), service "
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
                for r in rows.head(5).itertuples(index=False)
            ),
            evidence={
                "days": day_list,
                "median_per_day": median,
                "poisson_mean": base,
                "max_hours_after_payment": BRUSH_MAX_HOURS,
                "counted_suspects": len(cnt),
            },
            instead=instead,
        )
    ]


# ---------------------------------------------------------------- alerts


def low_ratings(
    ratings: Any,
    since: Any = None,
    *,
    orders: Any = None,
    as_of: Any = None,
    threshold: int = 2,
    dimensions: Sequence[str] = DIMENSIONS,
    window_days: int = 180,
    max_per_buyer_month: int | None = 3,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> LowRatings:
    """New low ratings (中差评提醒): any chosen dimension at or below ``threshold`` stars.

    Args:
        ratings: The ratings table (as for :func:`dsr`).
        since: First instant included (store-local). Default: the 7 days ending with
            ``as_of`` (from 00:00 six days before it).
        orders: With orders, ratings of unpaid trades are left out (as in :func:`dsr`).
        as_of: Last day included (default: the day of the latest rating).
        threshold: Highest star count that is "low" (2: 1–2 stars, 中差评; 3 includes 中评).
        dimensions: Which dimensions to watch.
        window_days: The DSR window, for the ``counts`` column.
        max_per_buyer_month: The monthly cap, for the ``counts`` column.
        columns: ``{their_name: canonical_name}``.
        tz: The store's time zone.

    Returns:
        A :class:`LowRatings` result, newest first (ties by order id).

    Examples:
        >>> import pandas as pd
        >>> import shopmetrics as sm
        >>> ratings = pd.DataFrame({
        ...     "order_id": ["o1", "o2", "o3"], "buyer_id": ["a", "b", "c"],
        ...     "rated_at": pd.to_datetime(["2026-03-01", "2026-03-05", "2026-03-06"]),
        ...     "item_score": [1, 5, 5], "service_score": [5, 5, 2],
        ...     "logistics_score": [5, 5, None]})
        >>> sm.low_ratings(ratings, since="2026-03-01").to_pandas()[
        ...     ["order_id", "low_dimensions", "counts"]]
          order_id low_dimensions  counts
        0       o3        service    True
        1       o1           item    True
    """

    dims = [dimensions] if isinstance(dimensions, str) else list(dimensions)
    for d in dims:
        if d not in DIMENSIONS:
            raise DefinitionError.unknown("dimension", d, DIMENSIONS)
    if threshold not in (1, 2, 3, 4):
        msg = f"threshold must be 1, 2, 3 or 4 stars, got {threshold!r}"
        raise ShopmetricsError(msg)
    tz = tz or get_config().tz
    prep = _prepare(
        ratings,
        orders,
        by=[],
        columns=columns,
        tz=tz,
        cap=max_per_buyer_month,
        partial="rated_only",
        reject_unpaid=True,
        default_score=None,
    )
    if as_of is None:
        if prep.last_day is None:
            msg = "ratings: no row has a rated_at; pass as_of= or check the rated_at column"
            raise ShopmetricsError(msg)
        asof = prep.last_day
    else:
        asof = _day_number(_parse_day(as_of, "as_of", tz))
    t0 = engine.period_start(asof - 6, "D") if since is None else _parse_time(since, "since", tz)
    shown = [c for c in ("product_id", "carrier", "region") if c in prep.table.columns]
    low = nw.any_horizontal(*(_score(d) <= threshold for d in dims), ignore_nulls=True).fill_null(
        value=False
    )
    rows = engine.collect(
        prep.eligible.filter(
            low & (nw.col("rated_at") >= nw.lit(t0)) & (nw.col(_DAY) <= asof)
        ).select(
            "rated_at",
            "order_id",
            "_oid",
            "buyer_id",
            *shown,
            _DAY,
            "_heavy",
            *(f"_{d}" for d in DIMENSIONS),
        ),
        "dsr:low_ratings",
    )
    heavy = _collect_heavy(prep, [], asof)
    counted: dict[Any, bool] = {}
    if len(heavy) and prep.cap is not None:
        drop = _drop_days(heavy, prep.cap)
        counted = dict(
            zip(
                heavy["_oid"].tolist(),
                _counted_at(heavy, drop, asof, window_days).tolist(),
                strict=True,
            )
        )
    start = asof - window_days + 1
    in_win = (rows[_DAY].to_numpy(dtype=np.int64) >= start) if len(rows) else np.zeros(0, bool)
    ok = [
        bool(w) and ((not bool(h)) or counted.get(o, False))
        for w, h, o in zip(in_win, rows["_heavy"].tolist(), rows["_oid"].tolist(), strict=True)
    ]
    table = rows[["rated_at", "order_id", "buyer_id", *shown]].copy()
    for d in DIMENSIONS:
        table[d] = rows[f"_{d}"].to_numpy(dtype=float)
    table["low_dimensions"] = [
        ", ".join(d for d in dims if r[f"_{d}"] == r[f"_{d}"] and r[f"_{d}"] <= threshold)
        for _, r in rows.iterrows()
    ]
    table["counts"] = np.array(ok, dtype=bool)
    table["_oid"] = rows["_oid"].to_numpy()
    table = table.sort_values(["rated_at", "_oid"], ascending=[False, True], kind="stable").drop(
        columns="_oid"
    )
    table = table.reset_index(drop=True)
    notes = [
        *prep.notes,
        (
            f"low: {', '.join(dims)} at or below {threshold} stars, rated from {t0} to "
            f"{_day_date(asof)} 24:00"
        ),
    ]
    meta = {
        "since": t0,
        "as_of": _day_date(asof),
        "threshold": threshold,
        "dimensions": tuple(dims),
        "window_days": window_days,
        "max_per_buyer_month": max_per_buyer_month,
        "tz": tz,
    }
    return LowRatings(
        table, (), Audit(prep.rows_in, tuple(prep.excluded), tuple(notes)), "alibaba", meta
    )
