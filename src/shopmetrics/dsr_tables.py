"""DSR's result tables, built from the summed ratings (:mod:`shopmetrics.engine.rating_sums`).

Scores, counts and intervals per group (:func:`score_table`), the star distribution,
the correlation of the three dimensions, the departures of a group's dimension from the
shop's pattern, the peer columns and the column order of :class:`~shopmetrics.dsr.DSRResult`.
The statistics themselves are in :mod:`shopmetrics.stats` (intervals, mean shrinkage,
multivariate, scores); this module names them by dimension and group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.display import is_missing
from shopmetrics.engine.rating_sums import PAIRS, Keyed
from shopmetrics.engine.ratings import DIMENSIONS, SHOWN_COLUMNS
from shopmetrics.stats import intervals, multiplicity
from shopmetrics.stats.aggregates import Aggregates
from shopmetrics.stats.mean_shrinkage import shrink_normal
from shopmetrics.stats.multivariate import conditional_departures, covariance_matrix, pearson
from shopmetrics.stats.scores import STARS, vs_peers

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.engine import Freq

DEPARTURE_COLUMNS = (
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
)
"""Columns of :attr:`DSRResult.departures` after the ``by`` columns."""


def last_period(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The rows of the last period (the ``as_of`` window) of each group."""
    if "period" not in table.columns:
        return table
    if not by:
        return table.tail(1)
    return table.groupby(by, dropna=False, sort=False).tail(1)


def score_table(sums: Keyed, *, shrink: bool = False) -> pd.DataFrame:
    """The keys, then per dimension the score, count and interval (clipped to [1, 5]).

    Interval: the normal interval of a mean, ``ȳ ± z s / sqrt(n)``, from the window's
    count, Σ stars and Σ stars² (:func:`~shopmetrics.stats.intervals.mean_ci`, linear
    scale: the stars are bounded and left-skewed near 5, where a log scale would be
    wrong), clipped to the 1-5 scale. Assumptions: ratings independent (one per order
    line after the platform's rules); enough ratings for the normal reference: simulated
    coverage 93.6% at 150 ratings with 80% fives, 87% at 30 (docs/statistics.md).

    With ``shrink``, also ``<dim>_shrunk_score`` (normal-normal empirical Bayes toward
    the pooled mean of the groups).
    """
    out = sums.keys.copy()
    agg = sums.agg
    for d in DIMENSIONS:
        n, s, q = agg.sums[f"n_{d}"], agg.sums[d], agg.sums[f"{d}*{d}"]
        mean, lo, hi = intervals.mean_ci(n, s, q)
        out[d] = mean
        out[f"n_{d}"] = n.astype("int64")
        out[f"{d}_ci_low"] = np.clip(lo, 1.0, 5.0)
        out[f"{d}_ci_high"] = np.clip(hi, 1.0, 5.0)
        if shrink:
            out[f"{d}_shrunk_score"] = shrink_normal(n, s, q)
    return out


def mark_small_samples(table: pd.DataFrame, min_sample: int) -> None:
    """``small_sample``: some dimension has fewer than ``min_sample`` counted ratings."""
    table["small_sample"] = (
        np.min(np.column_stack([table[f"n_{d}"].to_numpy() for d in DIMENSIONS]), axis=1)
        < min_sample
    )


def distribution(sums: Keyed, by: list[str]) -> pd.DataFrame:
    """Stars per dimension and group: ``count`` and ``share`` of the dimension's ratings."""
    import pandas as pd  # noqa: PLC0415

    agg = sums.agg
    rows = len(agg)
    reps = len(DIMENSIONS) * len(STARS)
    out = (
        sums.keys[by].iloc[np.tile(np.arange(rows), reps)].reset_index(drop=True)
        if by
        else pd.DataFrame(index=range(reps))
    )
    counts = np.concatenate([agg.sums[f"{d}={j}"] for d in DIMENSIONS for j in STARS])
    totals = np.concatenate([agg.sums[f"n_{d}"] for d in DIMENSIONS for _ in STARS])
    extra = pd.DataFrame(
        {
            "dimension": np.repeat([d for d in DIMENSIONS for _ in STARS], rows),
            "stars": np.repeat([j for _ in DIMENSIONS for j in STARS], rows),
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


def _shop_covariance(shop: Aggregates) -> tuple[Any, float]:
    """Covariance of single ratings' three dimensions (complete ratings)."""
    return covariance_matrix(shop, [f"c_{d}" for d in DIMENSIONS], count="complete")


def correlation(shop: Aggregates) -> pd.DataFrame:
    """Pearson correlation of each pair of dimensions over the complete ratings, Fisher-z
    interval (see :func:`shopmetrics.stats.multivariate.pearson`)."""
    import pandas as pd  # noqa: PLC0415

    cov, nc = _shop_covariance(shop)
    z = intervals._z(get_config().confidence)
    rows = []
    for a, b in PAIRS:
        r, lo, hi = pearson(cov, nc, DIMENSIONS.index(a), DIMENSIONS.index(b), z)
        rows.append(
            {"dimension_a": a, "dimension_b": b, "n": int(nc), "r": r, "ci_low": lo, "ci_high": hi}
        )
    return pd.DataFrame(rows, columns=["dimension_a", "dimension_b", "n", "r", "ci_low", "ci_high"])


def departures(groups: pd.DataFrame, shop: Aggregates, by: list[str]) -> pd.DataFrame:
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
        Theorem 2.5.1 (conditional normal distribution); see
        :func:`shopmetrics.stats.multivariate.conditional_departures`.
    """
    import pandas as pd  # noqa: PLC0415

    cov, _ = _shop_covariance(shop)
    mu = np.array([float(shop.mean(d, count=f"n_{d}")[0]) for d in DIMENSIONS])
    cols = [*by, *DEPARTURE_COLUMNS]
    if len(groups) == 0 or not np.all(np.isfinite(cov)):
        return pd.DataFrame(columns=cols)
    means = np.column_stack([groups[d].to_numpy(dtype=float) for d in DIMENSIONS])
    n_eff = np.min(
        np.column_stack([groups[f"n_{d}"].to_numpy(dtype=float) for d in DIMENSIONS]), axis=1
    )
    delta = means - mu
    expected, dep, z, p = conditional_departures(cov, delta, n_eff)
    records = []
    for i, d in enumerate(DIMENSIONS):
        part = groups[by].copy()
        part["dimension"] = d
        part["score"] = means[:, i]
        part["shop_score"] = mu[i]
        part["deviation"] = delta[:, i]
        part["expected_deviation"] = expected[:, i]
        part["departure"] = dep[:, i]
        part["z"] = z[:, i]
        part["p_value"] = p[:, i]
        records.append(part)
    out = pd.concat(records, ignore_index=True)
    out["q_value"] = multiplicity.adjust_pvalues(out["p_value"].to_numpy(dtype=float))
    sig = (out["q_value"] < get_config().fdr).to_numpy(dtype=bool)
    out["departs"] = sig & _top_per_group(out["z"].to_numpy(dtype=float), len(groups))
    return out[cols]


def _top_per_group(z: Any, n_groups: int) -> Any:
    """Rows (dimension-major) with the largest ``|z|`` of their group (the first on ties)."""
    absz = np.nan_to_num(np.abs(z), nan=-1.0)
    group_id = np.tile(np.arange(n_groups), len(DIMENSIONS))
    top = np.zeros(len(z), dtype=bool)
    best: dict[int, int] = {}
    for i, g in enumerate(group_id):
        if g not in best or absz[i] > absz[best[g]]:
            best[int(g)] = i
    top[list(best.values())] = True
    return top


def departing_dimension(table: pd.DataFrame, dep: pd.DataFrame, by: list[str]) -> list[str | None]:
    """Per row of ``table``, the dimension that departs (``None``: none)."""
    if len(dep) == 0:
        return [None] * len(table)
    best = dep[dep["departs"]]
    if len(best) == 0:
        return [None] * len(table)
    merged = table[by].merge(best[[*by, "dimension"]], on=by, how="left")
    return [None if is_missing(v) else str(v) for v in merged["dimension"].tolist()]


def add_peers(table: pd.DataFrame, peers: pd.DataFrame) -> pd.DataFrame:
    """The peer columns: ``<dim>_peer_avg``, ``_vs_peers``, ``_rel_diff``, ``_beyond_ci``."""
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


def order_columns(table: pd.DataFrame, by: list[str], freq: Freq) -> pd.DataFrame:
    """The public columns of a score table, in their documented order."""
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


# ---------------------------------------------------------------- what-if sums


def current_sums(
    by: list[str], table: pd.DataFrame, shop: pd.DataFrame, daily: pd.DataFrame
) -> pd.DataFrame:
    """Per group and dimension: counted ratings ``n`` and their star sum ``total``.

    Summed from a result's ``daily`` table (exact star sums, not ``score × n``), for the
    groups of the last period of ``table`` (the shop row without ``by``).
    """
    import pandas as pd  # noqa: PLC0415

    base = shop if not by else last_period(table, by)
    keys = base[by].reset_index(drop=True)
    sums = [f"{k}_{d}" for d in DIMENSIONS for k in ("n", "sum")]
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


def sums_before(
    cur: pd.DataFrame, daily: pd.DataFrame, by: list[str], before: Any
) -> tuple[Any, Any]:
    """Per row of :func:`current_sums`, the ratings (and star sum) of ``daily`` before
    the instant ``before``: those that will have left the window."""
    left_n = np.zeros(len(cur))
    left_s = np.zeros(len(cur))
    old = daily[daily["day"] < before] if len(daily) else daily
    if not len(old):
        return left_n, left_s
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
    return left_n, left_s


# ---------------------------------------------------------------- low ratings


def low_table(rows: pd.DataFrame, dims: list[str], threshold: int, counts: Any) -> pd.DataFrame:
    """The low-ratings list from the collected rows, newest first (ties by order id)."""
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
