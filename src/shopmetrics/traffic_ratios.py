"""The ratios of paid traffic: their intervals, the paid-plan advice, shrunk ROAS.

The numbers of :func:`shopmetrics.traffic.traffic_sources` on its per-group table (pandas,
numpy, scipy; no engine): the intervals of CPA, ROI, CPC and CPM (ROAS is
:func:`shopmetrics.stats.intervals.total_over_fixed_ci`), the raise / hold / cut advice
with the interval it rests on (:data:`ADVICE_INTERVAL`), and the empirical-Bayes shrunk
ROAS that ranks keywords with few clicks. Each function states its method and
assumptions; the coverage of each interval is tested in ``tests/coverage/test_traffic_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.engine import spend as spend_q
from shopmetrics.stats import intervals, shrinkage
from shopmetrics.stats.mean_shrinkage import dl_tau2

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "ADVICE_ALPHA",
    "ADVICE_INTERVAL",
    "advice",
    "cost_per_ci",
    "cpa_ci",
    "roi_ci",
    "shrunk_roas",
    "var_total",
]


def var_total(n: Any, total: Any, total_sq: Any) -> Any:
    """``Var(Σy) = n s²`` of a sum over ``n`` units from Σy and Σy² (the ``n → ∞`` limit
    Σy² where ``n`` is unknown), as in :func:`shopmetrics.stats.intervals.total_over_fixed_ci`."""
    n = np.broadcast_to(np.asarray(n, dtype=float), np.shape(total))
    total, total_sq = np.asarray(total, dtype=float), np.asarray(total_sq, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        known = np.isfinite(n) & (n > 1)
        nn = np.where(known, n, 2.0)
        var = np.where(known, nn / (nn - 1) * (total_sq - total**2 / nn), total_sq)
    return np.maximum(var, 0.0)


def _z(two_sided_alpha: float) -> float:
    from scipy import stats  # noqa: PLC0415 - scipy is heavy

    return float(stats.norm.ppf(1 - two_sided_alpha / 2))


def cpa_ci(n: Any, buyers: Any, buyers_sq: Any, cost: Any) -> tuple[Any, Any]:
    """Interval of CPA = cost / buyers, cost fixed and buyers random.

    Method: the interval of ``buyers / cost`` by
    :func:`shopmetrics.stats.intervals.total_over_fixed_ci` (the delta method on
    per-visitor aggregates, log scale: a buyer's credited orders summed over the source's
    visitors; Σy² is Σ over buyers of each buyer's credited orders², equal to the buyers
    when each counts 1), inverted: ``(cost / high, cost / low)``. A monotone function of
    an interval keeps its coverage. Assumptions: buyers independent, cost fixed (the
    spend report's); no upper limit (``inf``) without buyers.
    """
    _, lo, hi = intervals.total_over_fixed_ci(n, buyers, buyers_sq, cost)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(hi > 0, 1 / hi, np.nan)
        high = np.where(lo > 0, 1 / lo, np.inf)
    paid = np.asarray(cost, dtype=float) > 0
    return np.where(paid, low, np.nan), np.where(paid, high, np.nan)


def roi_ci(n: Any, profit: Any, profit_sq: Any, cost: Any) -> tuple[Any, Any]:
    """Interval of ROI = (profit - cost) / cost = profit / cost - 1, cost fixed.

    Method: profit / cost is a random total over a fixed denominator, as ROAS is (the
    credited gross profit summed over the source's visitors; Σy² over buyers of each
    buyer's profit²): the delta method on the log scale
    (:func:`shopmetrics.stats.intervals.total_over_fixed_ci`) where the profit is
    positive, on the linear scale (``± z · sd / cost``) where it is not (a log needs a
    positive total), then minus 1. Assumptions: buyers independent, cost and the
    products' margins fixed.
    """
    profit, cost = np.asarray(profit, dtype=float), np.asarray(cost, dtype=float)
    _, lo, hi = intervals.total_over_fixed_ci(n, profit, profit_sq, cost)
    sd = np.sqrt(var_total(n, profit, profit_sq))
    z = _z(1 - get_config().confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lin_lo, lin_hi = (profit - z * sd) / cost, (profit + z * sd) / cost
    pos = profit > 0
    return np.where(pos, lo, lin_lo) - 1, np.where(pos, hi, lin_hi) - 1


def cost_per_ci(table: pd.DataFrame, which: str) -> tuple[Any, Any, Any]:
    """Interval of cost per click (``which="clicks"``) or per exposure, the cost random.

    Method: the platform charges each click (or thousand exposures) its auction price, so
    the cost is the random part and the clicks the base. CPC = Σ cost / Σ clicks is a
    ratio of sums over the spend report's rows (date × plan × keyword); its variance by
    the delta method for a ratio of sums over independent units
    (:func:`shopmetrics.stats.intervals.ratio_var`, Deng, Knoblich & Lu 2018), with
    Student's t on rows - 1 degrees of freedom (few rows in a week). Assumptions: the
    spend rows independent (days and keywords), clicks taken as given.
    """
    from scipy import stats  # noqa: PLC0415 - scipy is heavy

    m = spend_q.SPEND_MOMENTS
    n = table[f"{m}rows"].to_numpy(float)
    r, var = intervals.ratio_var(
        n,
        table["cost"],
        table[f"spend_{which}"],
        table[f"{m}cost_sq"],
        table[f"{m}{which}_sq"],
        table[f"{m}cost_{which}"],
    )
    with np.errstate(invalid="ignore"):
        t = stats.t.ppf(0.5 + get_config().confidence / 2, np.where(n > 1, n - 1, np.nan))
        se = np.sqrt(var)
    return r, r - t * se, r + t * se


ADVICE_INTERVAL = (
    "advice: the ROAS of each paid source (by source) or plan (by campaign / keyword, within "
    "its source) over the pooled ROAS of the others of its group (roas_vs_rest), its interval "
    "by the delta method on the log scale (per-visitor aggregates, cost fixed) at 1 - 0.05 / k "
    "for the k rows compared (Bonferroni: 95% for the group); raise when the interval is "
    "above 1, cut when below, hold otherwise; too few clicks under min_clicks"
)
"""What :func:`advice` compares: the interval the advice is based on (``meta["advice"]``)."""

ADVICE_ALPHA = 0.05
"""Error rate of the advice per group of rows compared (Bonferroni over the group)."""


def advice(table: pd.DataFrame, min_clicks: int, by: list[str]) -> pd.DataFrame:
    """raise / hold / cut per paid source (``by=["source"]``) or per campaign / keyword
    within its source, only where the interval supports it.

    Method: each row's ROAS ``R_i`` against the pooled ROAS of the other rows of its
    group ``R_rest`` (Σ sales / Σ cost of the others): ``log R_i - log R_rest`` with
    ``se² = Var(A_i) / A_i² + ΣVar(A_j) / A_rest²`` (delta method, the sales ``A`` of
    the rows independent, costs fixed), its interval at ``1 - 0.05 / k`` (Bonferroni over
    the ``k`` rows compared, so that with equal true ROAS every row is told "hold" in at
    least 95% of stores). A row with clicks but no sales is compared with what the
    others' ROAS would give it (``R_rest · cost``, compound-Poisson variance). "raise"
    when the interval of ``R_i / R_rest`` is above 1, "cut" when below, "hold" otherwise;
    "too few clicks" under ``min_clicks``; no advice without cost or with nothing to
    compare with. The ratio and its interval are the columns ``roas_vs_rest``,
    ``roas_vs_rest_ci_low`` and ``roas_vs_rest_ci_high``.
    """
    clicks_col = table.get("spend_clicks", table.get("clicks"))
    n = len(table)
    advice = np.full(n, "", dtype=object)
    ratio, low, high = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if clicks_col is None:
        table["advice"] = advice
        return table
    clicks = clicks_col.fillna(0).to_numpy(float)
    if len(by) > 1:
        table = _ctr_shrunk(table)
    visitors = table["visitors"] if "visitors" in table.columns else np.nan
    amount = table["attributed_amount"].to_numpy(float)
    cost = table["cost"].to_numpy(float)
    var = var_total(visitors, amount, table["attributed_amount_sq"].to_numpy(float))
    group = ["source", "period"] if len(by) > 1 else ["period"]
    paid = (cost > 0) & np.isfinite(table["roas"].to_numpy(float))
    for idx in table.groupby(group, sort=True, dropna=False).indices.values():
        rows = idx[paid[idx]]
        few = rows[clicks[rows] < min_clicks]
        advice[few] = "too few clicks"
        rows = rows[clicks[rows] >= min_clicks]
        if len(rows) < 2:
            continue
        z = _z(ADVICE_ALPHA / len(rows))
        for i in rows:
            rest = rows[rows != i]
            r, lo, hi = _vs_rest(amount[i], cost[i], var[i], amount[rest], cost[rest], var[rest], z)
            ratio[i], low[i], high[i] = r, lo, hi
            advice[i] = "raise" if lo > 1 else "cut" if hi < 1 else "hold"
    table["roas_vs_rest"], table["roas_vs_rest_ci_low"], table["roas_vs_rest_ci_high"] = (
        ratio,
        low,
        high,
    )
    table["advice"] = advice
    return table


def _vs_rest(
    a: float, c: float, v: float, a_rest: Any, c_rest: Any, v_rest: Any, z: float
) -> tuple[float, float, float]:
    """``R / R_rest`` and its interval (see :func:`_advice`)."""
    big_a, big_c, big_v = float(np.sum(a_rest)), float(np.sum(c_rest)), float(np.sum(v_rest))
    if big_a <= 0 or big_c <= 0:
        return np.nan, -np.inf, np.inf
    r_rest = big_a / big_c
    if a <= 0:  # no sales: what the others' ROAS would give, and its compound-Poisson sd
        expected = r_rest * c
        sd = np.sqrt(expected * float(np.sum(v_rest)) / big_a) if big_a else np.inf
        return 0.0, 0.0, 0.0 if expected - z * sd > 0 else np.inf
    ratio = (a / c) / r_rest
    se = np.sqrt(v / a**2 + big_v / big_a**2)
    return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


def _ctr_shrunk(table: pd.DataFrame) -> pd.DataFrame:
    """Empirical-Bayes shrunk CTR of the plans of each source and period (beta-binomial)."""
    clicks = table.get("spend_clicks", table.get("clicks"))
    exposures = table.get("spend_exposures", table.get("exposures"))
    if clicks is None or exposures is None:
        return table
    table["ctr_shrunk"] = np.nan
    for idx in table.groupby(["source", "period"], sort=True).groups.values():
        if len(idx) >= 3:
            shrunk, _, _ = shrinkage.shrink(clicks.loc[idx].fillna(0), exposures.loc[idx].fillna(0))
            table.loc[idx, "ctr_shrunk"] = shrunk
    return table


def shrunk_roas(table: pd.DataFrame) -> pd.DataFrame:
    """``roas_shrunk`` and ``roas_rank`` of the campaigns / keywords of each source and period.

    Empirical Bayes, normal-normal (the prior of
    :func:`shopmetrics.stats.mean_shrinkage.shrink_normal`): a plan's ROAS ``R_i`` has
    sampling variance ``v_i = n_i σ² / c_i²`` (``n_i`` its visitors, or clicks without
    them; ``σ²`` the pooled per-visitor variance of the sales within the source's plans;
    ``c_i`` its cost); the plans' true ROAS are drawn from ``N(μ, τ²)`` with ``μ`` the
    source's own ROAS (all its plans' sales over all their cost) and ``τ²`` by
    DerSimonian–Laird (:func:`shopmetrics.stats.mean_shrinkage.dl_tau2`); each moves
    toward ``μ`` by ``B_i = v_i / (v_i + τ²)``. Why this prior: ROAS is a ratio of money,
    not a proportion (so not the beta-binomial of rates), a plan with no sales still has
    a variance (the pooled ``σ²``, not its own zero), and a 30-click keyword's ROAS is
    pulled almost all the way to its source's. ``roas_rank`` ranks the plans by it (1 =
    best); with fewer than 3 plans the raw ROAS is kept.
    """
    table["roas_shrunk"], table["roas_rank"] = np.nan, np.nan
    base = table["visitors"] if "visitors" in table.columns else table.get("spend_clicks")
    n_all = (base if base is not None else table["cost"] * np.nan).to_numpy(float)
    if "spend_clicks" in table.columns:
        n_all = np.where(np.isfinite(n_all), n_all, table["spend_clicks"].to_numpy(float))
    positions: list[npt.NDArray[np.intp]] = [
        np.asarray(v, dtype=np.intp)
        for v in table.groupby(["source", "period"], sort=True).indices.values()
    ]
    shrunk_col, rank_col = table.columns.get_loc("roas_shrunk"), table.columns.get_loc("roas_rank")
    for idx in positions:
        rows = idx[(table["cost"].to_numpy(float)[idx] > 0) & (n_all[idx] > 0)]
        if not len(rows):
            continue
        sub = table.iloc[rows]
        a, c = sub["attributed_amount"].to_numpy(float), sub["cost"].to_numpy(float)
        qq, n = sub["attributed_amount_sq"].to_numpy(float), n_all[rows]
        y = a / c
        shrunk = y
        if len(rows) >= 3 and n.sum() > len(rows):
            sigma2 = max(float((qq - a**2 / n).sum() / (n.sum() - len(rows))), 0.0)
            v = n * sigma2 / c**2
            if sigma2 > 0:
                mu = a.sum() / c.sum()
                b = v / (v + dl_tau2(y, v))
                shrunk = mu + (1 - b) * (y - mu)
        table.iloc[rows, shrunk_col] = shrunk  # type: ignore[index]
        order = np.lexsort((np.arange(len(rows)), -shrunk))
        ranks = np.empty(len(rows))
        ranks[order] = np.arange(1, len(rows) + 1)
        table.iloc[rows, rank_col] = ranks  # type: ignore[index]
    return table
