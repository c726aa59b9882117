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

Where the code is: this module holds the result types and the entry points, as named
steps. The queries over the ratings and orders (rules, audit, peers) are in
:mod:`shopmetrics.engine.ratings`; the monthly cap and the sums, as
:class:`~shopmetrics.stats.aggregates.Aggregates`, in :mod:`shopmetrics.engine.rating_sums`;
the result's tables in :mod:`shopmetrics.dsr_tables`; the statistics in
:mod:`shopmetrics.stats` (``intervals``, ``mean_shrinkage``, ``multivariate``, ``scores``);
the flags in :mod:`shopmetrics.flags.ratings`.

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
    current_sums,
    departing_dimension,
    departures,
    distribution,
    last_period,
    low_table,
    mark_small_samples,
    order_columns,
    score_table,
    sums_before,
)
from shopmetrics.engine import FREQS, Freq, period_start, records_collects, with_reads
from shopmetrics.engine.rating_sums import (
    Capped,
    Keyed,
    apply_cap,
    daily_sums,
    rows_count,
    series_sums,
    window_daily,
    window_sums,
)
from shopmetrics.engine.ratings import (  # noqa: F401 - CHINESE_NAMES, ... re-exported
    CHINESE_NAMES,
    DIMENSIONS,
    RATING_DEADLINE_DAYS,
    SCORE_COLUMNS,
    Prep,
    Rules,
    audit_window,
    day_date,
    day_index,
    load_peers,
    low_rows,
    parse_day,
    parse_time,
    prepare,
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
from shopmetrics.peers import check_peers
from shopmetrics.results import Audit, Result
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
        """Per group and dimension: counted ratings and their star sum at ``as_of``."""
        return current_sums(list(self.by), self.table, self.shop, self.daily)

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
        left_n, left_s = sums_before(cur, self.daily, list(self.by), period_start(keep_from, "D"))
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


@records_collects
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
        Metric dictionary (docs/metrics.md), DSR: score = sum of a dimension's
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
        >>> bool(1 <= row["item"] <= 5), int(row["n_item"]) > 0
        (True, True)
    """
    by = [by] if isinstance(by, str) else list(by)
    rules = _rules(freq, window_days, max_per_buyer_month, partial, reject_unpaid, default_score)
    tz = tz or get_config().tz
    prep = prepare(ratings, orders, by=by, columns=columns, tz=tz, rules=rules)
    span = _span(prep, as_of, tz, window_days)
    sums = _sum_ratings(prep, by, span, freq)
    frames = _frames(prep, sums, by, freq, span, shrink, peers, columns)
    result = DSRResult(
        frames.pop("table"),
        (),
        _audit(prep, sums.cap),
        rules.definition(),
        _meta(prep, by=by, freq=freq, span=span, rules=rules, tz=tz),
        **frames,
    )
    result = _with_flags(result, prep, sums, span) if detect else result
    logger.debug(
        "dsr: %d rows, as_of %s, %d flags", len(result.table), result.as_of, len(result.flags)
    )
    return result


# ---------------------------------------------------------------- the steps of dsr


def _rules(
    freq: Freq,
    window_days: int,
    cap: int | None,
    partial: str,
    reject_unpaid: bool,
    default_score: float | None,
) -> Rules:
    """Check the options (the message names the keyword); the platform rules chosen."""
    if freq not in FREQS:
        raise DefinitionError.unknown("freq", freq, ["None", "D", "W", "M"])
    if partial not in ("rated_only", "drop"):
        raise DefinitionError.unknown("partial", partial, ("rated_only", "drop"))
    if not isinstance(window_days, int) or window_days < 1:
        msg = f"window_days must be a whole number of days >= 1, got {window_days!r}"
        raise ShopmetricsError(msg)
    if cap is not None and (not isinstance(cap, int) or cap < 1):
        msg = f"max_per_buyer_month must be None or an integer >= 1, got {cap!r}"
        raise ShopmetricsError(msg)
    if default_score is not None and not 1 <= default_score <= 5:
        msg = f"default_score must be between 1 and 5, got {default_score!r}"
        raise ShopmetricsError(msg)
    return Rules(cap, partial, reject_unpaid, default_score)


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
class _Span:
    """The window: days ``start`` to ``asof``, both inclusive (day numbers)."""

    start: int
    asof: int

    @property
    def days(self) -> int:
        return self.asof - self.start + 1


def _span(prep: Prep, as_of: Any, tz: str | None, window_days: int) -> _Span:
    asof = _as_of(prep, as_of, tz, note=True)
    span = _Span(asof - window_days + 1, asof)
    prep.notes.append(
        f"window: ratings given from {day_date(span.start)} 00:00 to {day_date(asof)} 24:00 "
        f"({window_days} days, both ends inclusive), by rated_at"
    )
    return span


@dataclasses.dataclass(frozen=True)
class _Sums:
    """The summed ratings: the cap's rows, the window per group and for the shop, by day."""

    cap: Capped
    window: Keyed
    shop: Aggregates
    daily: Keyed


def _sum_ratings(prep: Prep, by: list[str], span: _Span, freq: Freq) -> _Sums:
    n_heavy = audit_window(prep, span.start, span.asof)
    cap = apply_cap(prep, by, span.start, span.asof, n_heavy=n_heavy)
    window = window_sums(prep, cap.heavy, cap.counted_now, by, span.start, span.asof)
    # daily sums: for the series (all days up to as_of) or the window only
    first = span.start
    if freq is not None and prep.first_day is not None:
        first = min(prep.first_day, span.start)
    daily = daily_sums(prep, by, first, span.asof)
    return _Sums(cap, window, window.agg.total(), daily)


def _frames(
    prep: Prep,
    sums: _Sums,
    by: list[str],
    freq: Freq,
    span: _Span,
    shrink: bool,
    peers: Any,
    columns: Mapping[str, str] | None,
) -> dict[str, pd.DataFrame]:
    """The frames of the result: ``table`` (one window, or the series with ``freq``),
    ``shop``, ``departures``, ``distribution``, ``correlation`` and ``daily``."""
    import pandas as pd  # noqa: PLC0415

    table = score_table(sums.window, shrink=bool(by and shrink))
    dep = departures(table, sums.shop, by) if by else pd.DataFrame()
    if freq is None:
        complete = prep.first_day is not None and prep.first_day <= span.start
        table.insert(len(by), "window_first_day", pd.Timestamp(day_date(span.start)))
        table.insert(len(by) + 1, "window_last_day", pd.Timestamp(day_date(span.asof)))
        table.insert(len(by) + 2, "window_complete", complete)
    else:
        table = score_table(
            series_sums(
                daily=sums.daily,
                heavy=sums.cap.heavy,
                drop=sums.cap.drop,
                by=by,
                freq=freq,
                window=span.days,
                asof=span.asof,
                first_day=prep.first_day,
            )
        )
    shop = score_table(Keyed(pd.DataFrame(index=[0]), sums.shop))
    min_sample = get_config().min_sample
    for t in (table, shop):
        mark_small_samples(t, min_sample)
    if by and freq is None:
        table["departing_dimension"] = departing_dimension(table, dep, by)
    if peers is not None:
        check_peers(peers, columns, by)
        peer_table = load_peers(peers, columns, by, prep.notes)
        table = add_peers(table, peer_table)
        if not by or all(c not in peer_table.columns for c in by):
            shop = add_peers(shop, peer_table)
    shop.insert(0, "window_first_day", pd.Timestamp(day_date(span.start)))
    shop.insert(1, "window_last_day", pd.Timestamp(day_date(span.asof)))
    return {
        "table": order_columns(table, by, freq),
        "distribution": distribution(sums.window, by),
        "correlation": correlation(sums.shop),
        "departures": dep,
        "daily": window_daily(
            daily=sums.daily,
            heavy=sums.cap.heavy,
            counted=sums.cap.counted_now,
            by=by,
            start=span.start,
            asof=span.asof,
        ),
        "shop": order_columns(shop, [], None),
    }


def _audit(prep: Prep, cap: Capped) -> Audit:
    """Where the rows went, with the last notes (no orders, rows capped one by one)."""
    notes = list(prep.notes)
    if not prep.has_orders:
        notes.append(
            "no orders given: ratings of unpaid trades cannot be rejected, brushing not checked"
        )
    if len(cap.heavy):
        notes.append(
            f"{len(cap.heavy)} ratings belong to buyer-months with more than {prep.cap} ratings; "
            "the cap was applied to them row by row"
        )
    return with_reads(Audit(prep.rows_in, tuple(prep.excluded), tuple(notes)), prep.table)


def _meta(
    prep: Prep, *, by: list[str], freq: Freq, span: _Span, rules: Rules, tz: str | None
) -> dict[str, Any]:
    cfg = get_config()
    return {
        "by": tuple(by),
        "freq": freq,
        "as_of": day_date(span.asof),
        "window_days": span.days,
        "window_first_day": day_date(span.start),
        "window_last_day": day_date(span.asof),
        "data_first_day": None if prep.first_day is None else day_date(prep.first_day),
        "data_last_day": None if prep.last_day is None else day_date(prep.last_day),
        "max_per_buyer_month": rules.cap,
        "partial": rules.partial,
        "reject_unpaid": rules.reject_unpaid,
        "default_score": rules.default_score,
        "tz": tz,
        "confidence": cfg.confidence,
        "min_sample": cfg.min_sample,
    }


def _with_flags(result: DSRResult, prep: Prep, sums: _Sums, span: _Span) -> DSRResult:
    """The result with the flags on its input (:mod:`shopmetrics.flags.ratings`)."""
    flags = detect_ratings(
        last=last_period(result.table, list(result.by)),
        by=result.by,
        window_days=span.days,
        prep=prep,
        heavy=sums.cap.heavy,
        counted_now=sums.cap.counted_now,
        start=span.start,
        asof=span.asof,
        shop=sums.shop,
        shown={d: float(result.shop[d].iloc[0]) for d in DIMENSIONS},
    )
    return dataclasses.replace(result, flags=sort_flags(flags))


# ---------------------------------------------------------------- alerts


@records_collects
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
    rules = Rules(cap=max_per_buyer_month)
    prep = prepare(ratings, orders, by=[], columns=columns, tz=tz, rules=rules)
    asof = _as_of(prep, as_of, tz)
    t0 = period_start(asof - 6, "D") if since is None else parse_time(since, "since", tz)
    rows = low_rows(prep, dims, threshold, t0, asof)
    table = low_table(rows, dims, threshold, rows_count(prep, rows, asof, window_days))
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
        table,
        (),
        with_reads(Audit(prep.rows_in, tuple(prep.excluded), tuple(notes)), prep.table),
        "alibaba",
        meta,
    )
