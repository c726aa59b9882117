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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.dsr_tables import (
    add_peers,
    correlation,
    departing_dimension,
    departures,
    distribution,
    last_period,
    mark_small_samples,
    order_columns,
    score_table,
)
from shopmetrics.engine import FREQS, Freq, period_start
from shopmetrics.engine.rating_sums import (
    Keyed,
    collect_heavy,
    counted_at,
    daily_sums,
    drop_days,
    series_sums,
    window_daily,
    window_sums,
)
from shopmetrics.engine.ratings import (  # noqa: F401 - CHINESE_NAMES, ... re-exported
    CHINESE_NAMES,
    DAY,
    DIMENSIONS,
    RATING_DEADLINE_DAYS,
    SCORE_COLUMNS,
    SHOWN_COLUMNS,
    Prep,
    day_date,
    day_index,
    load_peers,
    low_rows,
    parse_day,
    parse_time,
    prepare,
    window_counts,
)
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags.finding import sort_flags
from shopmetrics.flags.ratings import (  # noqa: F401 - the BRUSH_* constants re-exported
    BRUSH_MAX_HOURS,
    BRUSH_MIN_PER_DAY,
    BRUSH_NEW_BUYER_HOURS,
    BRUSH_P_VALUE,
    detect_ratings,
)
from shopmetrics.results import Audit, Exclusion, Result
from shopmetrics.stats import intervals
from shopmetrics.stats.aggregates import Aggregates
from shopmetrics.stats.scores import check_stars, fives_needed, vs_peers

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
        base = self.shop if not by else last_period(self.table, by)
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
        asof = day_index(self.as_of)
        if by_date is None:
            keep_from = asof - win + 1
        else:
            day = day_index(parse_day(by_date, "by_date", None))
            if day < asof:
                msg = f"by_date={by_date!r} is before as_of={self.as_of}; choose a later day"
                raise ShopmetricsError(msg)
            keep_from = day - win + 1
        left_n = np.zeros(len(cur))
        left_s = np.zeros(len(cur))
        daily = self.daily
        old = daily[daily["day"] < period_start(keep_from, "D")] if len(daily) else daily
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
        need = fives_needed(s_at, n_at, float(target))
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
        check_stars(stars)
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
    check_stars(stars)
    if n < 0 or count < 0:
        msg = f"n and count must be >= 0, got n={n!r}, count={count!r}"
        raise ShopmetricsError(msg)
    total = float(score) * n
    need: int | None = None
    if target is not None:
        k = fives_needed(np.array([total]), np.array([float(n)]), float(target))[0]
        need = None if k is None else int(k)
    after = float(intervals.rate(total + stars * count, n + count))
    return WhatIf(float(score), int(n), target, need, stars, count, after, after - float(score))


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
    cfg = get_config()
    by = [by] if isinstance(by, str) else list(by)
    _check_options(freq, partial, window_days, max_per_buyer_month, default_score)
    tz = tz or cfg.tz
    prep = prepare(
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
    asof = _as_of(prep, as_of, tz, note=True)
    start = asof - window_days + 1
    prep.notes.append(
        f"window: ratings given from {day_date(start)} 00:00 to {day_date(asof)} 24:00 "
        f"({window_days} days, both ends inclusive), by rated_at"
    )
    cap = _apply_cap(prep, by, start, asof)
    window = window_sums(prep, cap.heavy, cap.counted_now, by, start, asof)
    shop_sums = window.agg.total()
    # daily sums: for the series (all days up to as_of) or the window only
    day_lo = prep.first_day if (freq is not None and prep.first_day is not None) else start
    daily = daily_sums(prep, by, min(day_lo, start), asof)
    table, dep = _score_table(prep, window, shop_sums, daily, cap, by, freq, shrink, start, asof)
    shop = score_table(Keyed(_one_row(), shop_sums))
    for t in (table, shop):
        mark_small_samples(t, cfg.min_sample)
    if by and freq is None:
        table["departing_dimension"] = departing_dimension(table, dep, by)
    if peers is not None:
        table, shop = _with_peers(table, shop, peers, columns, by, prep.notes)
    table = order_columns(table, by, freq)
    shop = _shop_window(shop, start, asof)
    _final_notes(prep, orders, cap)
    result = DSRResult(
        table,
        (),
        Audit(prep.rows_in, tuple(prep.excluded), tuple(prep.notes)),
        _definition(max_per_buyer_month, partial, reject_unpaid, default_score),
        _meta(
            prep,
            by=by,
            freq=freq,
            asof=asof,
            start=start,
            window_days=window_days,
            cap=max_per_buyer_month,
            partial=partial,
            reject_unpaid=reject_unpaid,
            default_score=default_score,
            tz=tz,
        ),
        distribution=distribution(window, by),
        correlation=correlation(shop_sums),
        departures=dep,
        daily=window_daily(
            daily=daily, heavy=cap.heavy, counted=cap.counted_now, by=by, start=start, asof=asof
        ),
        shop=shop,
    )
    if detect:
        flags = detect_ratings(
            last=last_period(table, by),
            by=by,
            window_days=window_days,
            prep=prep,
            heavy=cap.heavy,
            counted_now=cap.counted_now,
            start=start,
            asof=asof,
            shop=shop_sums,
            shown={d: float(shop[d].iloc[0]) for d in DIMENSIONS},
        )
        result = dataclasses.replace(result, flags=sort_flags(flags))
    logger.debug("dsr: %d rows, as_of %s, %d flags", len(table), day_date(asof), len(result.flags))
    return result


# ---------------------------------------------------------------- the steps of dsr


def _check_options(
    freq: Freq,
    partial: str,
    window_days: int,
    max_per_buyer_month: int | None,
    default_score: float | None,
) -> None:
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


def _as_of(prep: Prep, as_of: Any, tz: str | None, *, note: bool = False) -> int:
    """The day number of ``as_of`` (default: the day of the latest rating)."""
    if as_of is not None:
        return day_index(parse_day(as_of, "as_of", tz))
    if prep.last_day is None:
        msg = "ratings: no row has a rated_at; pass as_of= or check the rated_at column"
        raise ShopmetricsError(msg)
    if note:
        prep.notes.append(
            f"as_of not given: the day of the latest rating, {day_date(prep.last_day)}"
        )
    return prep.last_day


@dataclasses.dataclass(frozen=True)
class _Capped:
    """The over-cap-month rows up to ``as_of``, the day each stops counting, which count."""

    heavy: pd.DataFrame
    drop: Any
    counted_now: Any


def _apply_cap(prep: Prep, by: list[str], start: int, asof: int) -> _Capped:
    """Audit the rows outside the window, then apply the monthly cap to the heavy rows."""
    outside = window_counts(prep, start, asof)
    if outside["after"]:
        prep.excluded.append(
            Exclusion("ratings", "after_as_of", outside["after"], f"rated after {day_date(asof)}")
        )
    if outside["before"]:
        prep.excluded.append(
            Exclusion(
                "ratings", "before_window", outside["before"], f"rated before {day_date(start)}"
            )
        )
    if prep.synthetic:
        prep.notes.append(
            f"{outside['syn_in']} unrated paid trades fall in the window with the default score"
        )
    window = asof - start + 1
    heavy = collect_heavy(prep, by, asof, skip=outside["heavy"] == 0)
    drop = drop_days(heavy, prep.cap) if prep.cap is not None else np.full(len(heavy), np.inf)
    counted_now = counted_at(heavy, drop, asof, window)
    over = counted_at(heavy, np.full(len(heavy), np.inf), asof, window) & ~counted_now
    syn = heavy["_syn"].to_numpy(dtype=bool) if len(heavy) else np.zeros(0, bool)
    if int((over & ~syn).sum()):
        prep.excluded.append(
            Exclusion(
                "ratings",
                "over_monthly_cap",
                int((over & ~syn).sum()),
                f"beyond the first {prep.cap} ratings of the buyer in a natural month "
                "(by trade-success time)",
            )
        )
    if int((over & syn).sum()):
        prep.notes.append(
            f"{int((over & syn).sum())} default-score trades are beyond the monthly cap"
        )
    return _Capped(heavy, drop, counted_now)


def _one_row() -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(index=[0])


def _score_table(
    prep: Prep,
    window: Keyed,
    shop_sums: Aggregates,
    daily: Keyed,
    cap: _Capped,
    by: list[str],
    freq: Freq,
    shrink: bool,
    start: int,
    asof: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The score table (one window, or the series with ``freq``) and the departures."""
    import pandas as pd  # noqa: PLC0415

    table = score_table(window, shrink=bool(by and shrink))
    dep = departures(table, shop_sums, by) if by else pd.DataFrame()
    if freq is None:
        complete = prep.first_day is not None and prep.first_day <= start
        table.insert(len(by), "window_first_day", pd.Timestamp(day_date(start)))
        table.insert(len(by) + 1, "window_last_day", pd.Timestamp(day_date(asof)))
        table.insert(len(by) + 2, "window_complete", complete)
        return table, dep
    series = series_sums(
        daily=daily,
        heavy=cap.heavy,
        drop=cap.drop,
        by=by,
        freq=freq,
        window=asof - start + 1,
        asof=asof,
        first_day=prep.first_day,
    )
    return score_table(series), dep


def _with_peers(
    table: pd.DataFrame,
    shop: pd.DataFrame,
    peers: Any,
    columns: Mapping[str, str] | None,
    by: list[str],
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    peer_table = load_peers(peers, columns, by, notes)
    table = add_peers(table, peer_table)
    if not by or all(c not in peer_table.columns for c in by):
        shop = add_peers(shop, peer_table)
    return table, shop


def _shop_window(shop: pd.DataFrame, start: int, asof: int) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    if "window_first_day" not in shop.columns:
        shop.insert(0, "window_first_day", pd.Timestamp(day_date(start)))
        shop.insert(1, "window_last_day", pd.Timestamp(day_date(asof)))
    return order_columns(shop, [], None)


def _final_notes(prep: Prep, orders: Any, cap: _Capped) -> None:
    if orders is None:
        prep.notes.append(
            "no orders given: ratings of unpaid trades cannot be rejected, brushing not checked"
        )
    if len(cap.heavy):
        prep.notes.append(
            f"{len(cap.heavy)} ratings belong to buyer-months with more than {prep.cap} ratings; "
            "the cap was applied to them row by row"
        )


def _definition(
    max_per_buyer_month: int | None,
    partial: str,
    reject_unpaid: bool,
    default_score: float | None,
) -> str:
    """``"alibaba"``, or the rules changed from it."""
    rules = []
    if max_per_buyer_month != 3:
        rules.append(f"max_per_buyer_month={max_per_buyer_month}")
    if partial != "rated_only":
        rules.append(f"partial={partial!r}")
    if not reject_unpaid:
        rules.append("reject_unpaid=False")
    if default_score is not None:
        rules.append(f"default_score={default_score}")
    return "alibaba" if not rules else "alibaba, modified: " + ", ".join(rules)


def _meta(
    prep: Prep,
    *,
    by: list[str],
    freq: Freq,
    asof: int,
    start: int,
    window_days: int,
    cap: int | None,
    partial: str,
    reject_unpaid: bool,
    default_score: float | None,
    tz: str | None,
) -> dict[str, Any]:
    cfg = get_config()
    return {
        "by": tuple(by),
        "freq": freq,
        "as_of": day_date(asof),
        "window_days": window_days,
        "window_first_day": day_date(start),
        "window_last_day": day_date(asof),
        "data_first_day": None if prep.first_day is None else day_date(prep.first_day),
        "data_last_day": None if prep.last_day is None else day_date(prep.last_day),
        "max_per_buyer_month": cap,
        "partial": partial,
        "reject_unpaid": reject_unpaid,
        "default_score": default_score,
        "tz": tz,
        "confidence": cfg.confidence,
        "min_sample": cfg.min_sample,
    }


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
    prep = prepare(
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
    asof = _as_of(prep, as_of, tz)
    t0 = period_start(asof - 6, "D") if since is None else parse_time(since, "since", tz)
    rows = low_rows(prep, dims, threshold, t0, asof)
    table = _low_table(rows, dims, threshold, _counts_now(prep, rows, asof, window_days))
    notes = [
        *prep.notes,
        (
            f"low: {', '.join(dims)} at or below {threshold} stars, rated from {t0} to "
            f"{day_date(asof)} 24:00"
        ),
    ]
    meta = {
        "since": t0,
        "as_of": day_date(asof),
        "threshold": threshold,
        "dimensions": tuple(dims),
        "window_days": window_days,
        "max_per_buyer_month": max_per_buyer_month,
        "tz": tz,
    }
    return LowRatings(
        table, (), Audit(prep.rows_in, tuple(prep.excluded), tuple(notes)), "alibaba", meta
    )


def _counts_now(prep: Prep, rows: pd.DataFrame, asof: int, window_days: int) -> Any:
    """Whether each low rating counts in the DSR at ``as_of`` (in the window, within the cap)."""
    heavy = collect_heavy(prep, [], asof)
    counted: dict[Any, bool] = {}
    if len(heavy) and prep.cap is not None:
        drop = drop_days(heavy, prep.cap)
        counted = dict(
            zip(
                heavy["_oid"].tolist(),
                counted_at(heavy, drop, asof, window_days).tolist(),
                strict=True,
            )
        )
    start = asof - window_days + 1
    in_win = (rows[DAY].to_numpy(dtype=np.int64) >= start) if len(rows) else np.zeros(0, bool)
    ok = [
        bool(w) and ((not bool(h)) or counted.get(o, False))
        for w, h, o in zip(in_win, rows["_heavy"].tolist(), rows["_oid"].tolist(), strict=True)
    ]
    return np.array(ok, dtype=bool)


def _low_table(rows: pd.DataFrame, dims: list[str], threshold: int, counts: Any) -> pd.DataFrame:
    """The alert's rows, newest first (ties by order id)."""
    shown = [c for c in SHOWN_COLUMNS if c in rows.columns]
    table = rows[["rated_at", "order_id", "buyer_id", *shown]].copy()
    for d in DIMENSIONS:
        table[d] = rows[f"_{d}"].to_numpy(dtype=float)
    table["low_dimensions"] = [
        ", ".join(d for d in dims if r[f"_{d}"] == r[f"_{d}"] and r[f"_{d}"] <= threshold)
        for _, r in rows.iterrows()
    ]
    table["counts"] = counts
    table["_oid"] = rows["_oid"].to_numpy()
    table = table.sort_values(["rated_at", "_oid"], ascending=[False, True], kind="stable").drop(
        columns="_oid"
    )
    return table.reset_index(drop=True)
