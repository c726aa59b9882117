"""Which ratings count, summed: the monthly cap and DSR's mergeable aggregates.

A buyer-month with at most ``cap`` ratings can never lose one to the cap, so its
ratings count whenever they are in the window: their stars are summed in the engine,
per group (and day), and only the sums come back (:func:`engine_sums`). Ratings of
buyer-months over the cap — rare: repeat buyers and brushing — are collected row by
row (:func:`collect_heavy`); :func:`drop_days` works out the day each stops counting
and :func:`counted_at` which of them count at a given day (:func:`apply_cap` does it
all at ``as_of``, :func:`rows_count` for a list of ratings); their sums are made in
numpy (:func:`rating_units`) and added to the engine's, group by group
(:func:`combine`). Daily sums give the rolling series by cumulative sums and window
differences (:func:`series_sums`), without recomputing the window per period.

Every sum is a :class:`~shopmetrics.stats.aggregates.Aggregates` whose units are the
ratings counted: per dimension ``n_<dim>`` (ratings that rate it), ``<dim>`` (their
stars) and ``<dim>*<dim>``; with ``full`` also ``<dim>=<stars>`` (ratings of each star
count), ``complete`` (ratings of all three dimensions) and the complete ratings'
``c_<dim>``, ``c_<a>*c_<b>`` (for the covariance of the three dimensions).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics.audit import Exclusion
from shopmetrics.engine.periods import EPOCH, Freq, period_end, period_label, period_start
from shopmetrics.engine.ratings import DAY, DIMENSIONS, Prep, day_date, score
from shopmetrics.engine.tables import collect
from shopmetrics.stats.aggregates import Aggregates
from shopmetrics.stats.scores import STARS

if TYPE_CHECKING:
    import pandas as pd

PAIRS: tuple[tuple[str, str], ...] = (
    ("item", "service"),
    ("item", "logistics"),
    ("service", "logistics"),
)
"""The pairs of dimensions, in the order of the correlation table."""


@dataclasses.dataclass(frozen=True)
class Keyed:
    """Aggregates with the keys of their groups (a small frame, one row per group)."""

    keys: pd.DataFrame
    agg: Aggregates

    def take(self, mask: Any) -> Keyed:
        """The groups where ``mask`` holds."""
        return Keyed(self.keys[mask].reset_index(drop=True), self.agg.take(mask))


def sum_names(full: bool) -> list[str]:
    """Names of the sums (see the module docstring); ``full`` adds the window-only ones."""
    names = [x for d in DIMENSIONS for x in (f"n_{d}", d, f"{d}*{d}")]
    if full:
        names += [f"{d}={j}" for d in DIMENSIONS for j in STARS]
        names += ["complete"]
        names += [f"c_{d}" for d in DIMENSIONS] + [f"c_{d}*c_{d}" for d in DIMENSIONS]
        names += [f"c_{a}*c_{b}" for a, b in PAIRS]
    return names


def _sum_columns(full: bool) -> list[nw.Expr]:
    """Per-row pieces of the sums, in the order of :func:`sum_names` (summed per group)."""
    exprs: list[nw.Expr] = []
    for d in DIMENSIONS:
        s = score(d)
        exprs += [(~s.is_null()).cast(nw.Int64()), s, s * s]
    if full:
        for d in DIMENSIONS:
            s = score(d)
            exprs += [(s == j).cast(nw.Int64()) for j in STARS]
        c = nw.all_horizontal(*(~score(d).is_null() for d in DIMENSIONS), ignore_nulls=True).cast(
            nw.Int64()
        )
        exprs.append(c)
        exprs += [score(d) * c for d in DIMENSIONS]
        exprs += [score(d) * score(d) * c for d in DIMENSIONS]
        exprs += [score(a) * score(b) * c for a, b in PAIRS]
    return exprs


def engine_sums(frame: nw.LazyFrame[Any], keys: list[str], full: bool, what: str) -> Keyed:
    """The sums of ``frame``'s ratings per group of ``keys``, made in the engine."""
    import pandas as pd  # noqa: PLC0415

    names = sum_names(full)
    cols = ["_a_n", *(f"_a{i}" for i in range(len(names)))]
    parts = frame.with_columns(
        nw.lit(1, nw.Int64()).alias("_a_n"),
        *(e.alias(f"_a{i}") for i, e in enumerate(_sum_columns(full))),
    )
    sums = [nw.col(c).sum().alias(c) for c in cols]
    out = collect(parts.group_by(keys).agg(*sums) if keys else parts.select(*sums), what)
    values = out[cols].apply(pd.to_numeric).astype("float64").fillna(0.0)
    values.columns = pd.Index(["n", *names])
    return Keyed(out[keys].reset_index(drop=True), Aggregates.from_sums(values, names))


def rating_units(rows: pd.DataFrame, full: bool) -> Aggregates:
    """The same sums as :func:`engine_sums` for each collected rating (one group a row)."""
    vals = {d: rows[f"_{d}"].to_numpy(dtype=float) for d in DIMENSIONS}
    sums: dict[str, Any] = {}
    for d in DIMENSIONS:
        v = vals[d]
        ok = ~np.isnan(v)
        sums[f"n_{d}"] = ok.astype(float)
        sums[d] = np.where(ok, v, 0.0)
        sums[f"{d}*{d}"] = np.where(ok, v * v, 0.0)
    if full:
        for d in DIMENSIONS:
            for j in STARS:
                sums[f"{d}={j}"] = (vals[d] == j).astype(float)
        c = np.all([~np.isnan(vals[d]) for d in DIMENSIONS], axis=0)
        sums["complete"] = c.astype(float)
        z = {d: np.where(c, vals[d], 0.0) for d in DIMENSIONS}
        for d in DIMENSIONS:
            sums[f"c_{d}"] = z[d]
            sums[f"c_{d}*c_{d}"] = z[d] * z[d]
        for a, b in PAIRS:
            sums[f"c_{a}*c_{b}"] = z[a] * z[b]
    return Aggregates(np.ones(len(rows)), sums)


def _group_codes(keys: pd.DataFrame, *, sort: bool) -> tuple[Any, pd.DataFrame]:
    """Each row's group (``dropna=False``: a missing key is a group) and the group keys."""
    cols = list(keys.columns)
    grouped = keys.assign(_i=0).groupby(cols, dropna=False, sort=sort)["_i"]
    return grouped.ngroup().to_numpy(dtype=np.int64), grouped.size().reset_index()[cols]


def keyed_rows(rows: pd.DataFrame, keys: list[str], full: bool) -> Keyed:
    """The sums of collected ratings per group of ``keys`` (numpy)."""
    import pandas as pd  # noqa: PLC0415

    units = rating_units(rows, full)
    if not keys:
        return Keyed(pd.DataFrame(index=[0]), units.total())
    codes, groups = _group_codes(rows[keys], sort=False)
    return Keyed(groups, units.regroup(codes, len(groups)))


def combine(parts: list[Keyed], keys: list[str], full: bool) -> Keyed:
    """Add the sums of disjoint sets of ratings group by group (groups sorted by key)."""
    import pandas as pd  # noqa: PLC0415

    parts = [p for p in parts if len(p.agg)]
    if not parts:
        if keys:
            return Keyed(pd.DataFrame({k: [] for k in keys}), Aggregates.zeros(sum_names(full), 0))
        return Keyed(pd.DataFrame(index=[0]), Aggregates.zeros(sum_names(full)))
    both = Aggregates.concat([p.agg for p in parts])
    if not keys:
        return Keyed(pd.DataFrame(index=[0]), both.total())
    codes, groups = _group_codes(pd.concat([p.keys for p in parts], ignore_index=True), sort=True)
    return Keyed(groups, both.regroup(codes, len(groups)))


# ---------------------------------------------------------------- the monthly cap


def collect_heavy(prep: Prep, by: list[str], asof: int, *, skip: bool = False) -> pd.DataFrame:
    """Rows of buyer-months over the cap, up to ``as_of`` (few: repeat buyers, brushing)."""
    import pandas as pd  # noqa: PLC0415

    cols = list(
        dict.fromkeys(
            ["_oid", "buyer_id", "_month", "_ts", DAY, "_syn", *(f"_{d}" for d in DIMENSIONS), *by]
        )
    )
    if prep.cap is None or skip:
        return pd.DataFrame({c: [] for c in cols})
    rows = collect(
        prep.eligible.filter(nw.col("_heavy") & (nw.col(DAY) <= asof)).select(cols), "dsr:heavy"
    )
    return rows.reset_index(drop=True)


def drop_days(heavy: pd.DataFrame, cap: int) -> Any:
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
    days = sorted_rows[DAY].to_numpy(dtype=float)
    groups = sorted_rows.groupby(["buyer_id", "_month"], sort=False, dropna=False).indices
    for idx in groups.values():
        if len(idx) <= cap:
            continue
        g_days = days[idx]
        for i in range(cap, len(idx)):
            drop[pos[idx[i]]] = np.partition(g_days[:i], cap - 1)[cap - 1]
    return drop


def counted_at(heavy: pd.DataFrame, drop: Any, day: int, window: int) -> Any:
    """Which over-cap-month ratings count at ``day`` (in its window, not yet dropped)."""
    d = heavy[DAY].to_numpy(dtype=float)
    return (d >= day - window + 1) & (d <= day) & (day < drop)


@dataclasses.dataclass(frozen=True)
class Capped:
    """The over-cap-month rows up to ``as_of``, the day each stops counting, which count."""

    heavy: pd.DataFrame
    drop: Any
    counted_now: Any


def apply_cap(prep: Prep, by: list[str], start: int, asof: int, *, n_heavy: int) -> Capped:
    """The monthly cap on the over-cap-month rows, at ``as_of`` (window from ``start``).

    The real ratings it leaves out of the window become an exclusion, the default-score
    rows a note. ``n_heavy`` (the engine's count of those rows) 0 skips the collection.
    """
    window = asof - start + 1
    heavy = collect_heavy(prep, by, asof, skip=n_heavy == 0)
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
    return Capped(heavy, drop, counted_now)


def rows_count(prep: Prep, rows: pd.DataFrame, asof: int, window_days: int) -> Any:
    """Whether each collected rating counts in the DSR at ``as_of`` (in the window of
    ``window_days``, within the monthly cap)."""
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


# ---------------------------------------------------------------- by day and period


def window_sums(
    prep: Prep, heavy: pd.DataFrame, counted: Any, by: list[str], start: int, asof: int
) -> Keyed:
    """The full sums of the window per group: engine rows plus the counted over-cap rows."""
    win = (nw.col(DAY) >= start) & (nw.col(DAY) <= asof)
    light = engine_sums(prep.eligible.filter(~nw.col("_heavy") & win), by, True, "dsr:window")
    parts = [light]
    if len(heavy):
        parts.append(keyed_rows(heavy[counted], by, full=True))
    return combine(parts, by, full=True)


def daily_sums(prep: Prep, by: list[str], first: int, asof: int) -> Keyed:
    """The sums of the within-cap ratings per group and day, days ``first`` to ``as_of``."""
    frame = prep.eligible.filter(~nw.col("_heavy") & (nw.col(DAY) >= first) & (nw.col(DAY) <= asof))
    return engine_sums(frame, [*by, DAY], full=False, what="dsr:daily")


def window_daily(
    *,
    daily: Keyed,
    heavy: pd.DataFrame,
    counted: Any,
    by: list[str],
    start: int,
    asof: int,
) -> pd.DataFrame:
    """Counted ratings per group and day of the window (light rows + counted heavy rows)."""
    import pandas as pd  # noqa: PLC0415

    keys = [*by, DAY]
    day = daily.keys[DAY].to_numpy() if len(daily.keys) else np.zeros(0)
    parts = [daily.take((day >= start) & (day <= asof))]
    if len(heavy) and counted.any():
        parts.append(keyed_rows(heavy[counted], keys, full=False))
    both = combine(parts, keys, full=False)
    out = both.keys[by].copy() if by else pd.DataFrame(index=both.keys.index)
    out["day"] = (
        pd.to_datetime([period_start(int(k), "D") for k in both.keys[DAY]])
        if len(both.keys)
        else pd.to_datetime([])
    )
    for d in DIMENSIONS:
        out[f"n_{d}"] = both.agg.sums[f"n_{d}"].astype("int64")
        out[f"sum_{d}"] = both.agg.sums[d]
    return out.sort_values([*by, "day"], kind="stable").reset_index(drop=True)


def _periods(first_day: int, asof: int, freq: Freq) -> list[int]:
    def key(day: int) -> int:
        if freq == "D":
            return day
        if freq == "W":
            return day - ((day + 3) % 7)
        date = day_date(day)
        return date.year * 12 + date.month - 1

    k0, k1 = key(first_day), key(asof)
    step = 7 if freq == "W" else 1
    return list(range(k0, k1 + 1, step))


def _series_groups(daily: Keyed, heavy: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The groups of the series, sorted, over the light and the heavy rows."""
    import pandas as pd  # noqa: PLC0415

    key_frames = [f[by] for f in (daily.keys, heavy) if len(f)] if by else []
    if by and key_frames:
        groups = pd.concat(key_frames, ignore_index=True).drop_duplicates()
        return groups.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)
    if by:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in by})
    return pd.DataFrame(index=[0])


def series_sums(
    *,
    daily: Keyed,
    heavy: pd.DataFrame,
    drop: Any,
    by: list[str],
    freq: Freq,
    window: int,
    asof: int,
    first_day: int | None,
) -> Keyed:
    """The sums of the window ending with each period, per group, by window differences.

    Keys: the ``by`` columns, ``period``, ``period_start``, ``window_first_day``,
    ``window_last_day``, ``window_complete``; one row per group and period.
    """
    first = asof if first_day is None else min(first_day, asof)
    keys = _periods(first, asof, freq)
    ends = np.array(
        [min((period_end(k, freq) - EPOCH).days - 1, asof) for k in keys], dtype=np.int64
    )
    lo = int(min(first, ends.min() - window + 1))
    groups = _series_groups(daily, heavy, by)
    n_groups = len(groups)
    groups["_g"] = np.arange(n_groups)

    def codes(f: pd.DataFrame) -> Any:
        if not by:
            return np.zeros(len(f), dtype=np.int64)
        return f[by].merge(groups, on=by, how="left")["_g"].to_numpy(dtype=np.int64)

    names = sum_names(full=False)
    sums = Aggregates.zeros(names, (n_groups, len(keys)))
    if len(daily.keys):
        day_idx = daily.keys[DAY].to_numpy(dtype=np.int64) - lo
        grid = daily.agg.regroup((codes(daily.keys), day_idx), (n_groups, asof - lo + 1))
        sums = grid.windows(ends - lo, window)
    if len(heavy):
        units, g = rating_units(heavy, full=False), codes(heavy)
        per_end = []
        for e in ends:
            m = counted_at(heavy, drop, int(e), window)
            per_end.append(units.take(m).regroup(g[m], n_groups))
        sums = sums + Aggregates.stack(per_end)
    frame = _series_keys(groups, by, keys, ends, freq, window, first_day)
    if not n_groups:
        return Keyed(frame, Aggregates.zeros(names, 0))
    return Keyed(frame, Aggregates.concat([sums.take(gi) for gi in range(n_groups)]))


def _series_keys(
    groups: pd.DataFrame,
    by: list[str],
    keys: list[int],
    ends: Any,
    freq: Freq,
    window: int,
    first_day: int | None,
) -> pd.DataFrame:
    """The key columns of the series: per group, one row per period."""
    import pandas as pd  # noqa: PLC0415

    rows = []
    labels = [period_label(k, freq) for k in keys]
    starts = [pd.Timestamp(period_start(k, freq)) for k in keys]
    for gi in range(len(groups)):
        frame = pd.DataFrame(
            {
                "period": labels,
                "period_start": starts,
                "window_first_day": [pd.Timestamp(day_date(int(e) - window + 1)) for e in ends],
                "window_last_day": [pd.Timestamp(day_date(int(e))) for e in ends],
                "window_complete": [
                    first_day is not None and first_day <= int(e) - window + 1 for e in ends
                ],
            }
        )
        for c in by:
            frame.insert(by.index(c), c, [groups[c].iloc[gi]] * len(keys))
        rows.append(frame)
    if not rows:
        return pd.DataFrame({c: [] for c in [*by, "period", "period_start"]})
    return pd.concat(rows, ignore_index=True)
