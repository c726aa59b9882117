"""What changed and is it real: period comparisons, significant movers, mix shifts.

``sm.compare(current, previous)`` compares two results of the same kind (funnel,
traffic, visitor value, DSR) group by group and metric by metric with the test that fits
the metric, then controls the false discovery rate across everything compared:

- proportions (conversion rates, CTR, ...): difference with the Newcombe hybrid score
  interval, p-value from the score test (Fisher's exact test for small counts);
- mean metrics (aov, visitor value gross and net): difference of two means from the
  per-buyer / per-visitor aggregates each result carries (units, Σy, Σy²) through
  :func:`~shopmetrics.stats.aggregates.compare_ratios` (delta method, Welch-type z);
  ROAS and DSR scores, which carry no such aggregates here, from each side's interval;
- counts (visitors, exposures, paid buyers): Poisson rate comparison (exact conditional
  test) with the period length as exposure.

Examples:
    >>> import shopmetrics as sm
    >>> store = sm.datasets.make_store(seed=0, days=14, products=20, visitors_per_day=300)
    >>> weekly = sm.funnel(store.events, store.orders, by="source", freq="W")
    >>> change = sm.compare(weekly)  # the last period against the one before
    >>> change.meta["current"], change.meta["previous"], change.meta["correction"]
    ('2026-W41', '2026-W40', 'bh')
    >>> sorted(set(change.to_pandas()["test"]) - {""})
    ['delta-z', 'fisher', 'poisson-exact', 'score']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError, SchemaError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.metrics import COUNTS, MEANS, PROPORTIONS
from shopmetrics.results import Audit, Result
from shopmetrics.stats import intervals, multiplicity, twosample
from shopmetrics.stats.aggregates import Aggregates, compare_ratios
from shopmetrics.stats.mix import mix_decomposition

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ComparisonResult",
    "compare",
    "flag_concerns",
    "flags_by_subject",
    "in_periods",
    "mix_decomposition",
    "movers",
]


LABEL_COLS = ("period", "period_start", "window_first_day", "window_last_day")

CARRIED_FLAGS = (
    "presale_zero_payment",
    "bot_traffic",
    "order_brushing",
    "tracking_gap",
    "mix_shift",
    "immature_period",
)
"""Flags of the current result that a comparison keeps: each can explain a change."""


@dataclasses.dataclass(frozen=True, repr=False)
class ComparisonResult(Result):
    """One row per group and metric.

    Columns: the group columns, ``metric``, ``previous``, ``current``, ``diff``,
    ``diff_ci_low``, ``diff_ci_high``, ``rel_change`` with ``rel_change_ci_low`` /
    ``rel_change_ci_high`` (the ratio's interval less 1: the Miettinen-Nurminen score
    interval for a rate, the exact conditional one for a count, Fieller's for a mean
    metric from its aggregates, NaN without them; ``-inf, inf`` where the previous
    value is not significantly above 0), ``p_value``, ``test``,
    ``p_adjusted`` and ``significant`` (after the correction named in
    ``meta["correction"]``), and ``weight_current`` (the denominator behind the current
    value, for ranking by effect on the store total).
    """

    kind = "comparison"

    def significant(self) -> pd.DataFrame:
        """Only the rows whose change is significant after the correction."""
        return self.table[self.table["significant"]].reset_index(drop=True)


def _group_cols(result: Result) -> list[str]:
    by = list(result.meta.get("by", ()))
    return [c for c in by if c in result.table.columns]


def _split_periods(
    result: Result, current: str | None, previous: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    t = result.table
    if "period" not in t.columns:
        msg = "compare(result) with one result needs a result with periods (freq='W', 'D' or 'M')"
        raise SchemaError(msg)
    periods = sorted(t["period"].astype(str).unique())
    if len(periods) < 2 and (current is None or previous is None):
        msg = f"the result has one period ({periods}); compare needs two"
        raise SchemaError(msg)
    for p in (current, previous):
        if p is not None and p not in periods:
            msg = f"period {p!r} is not in the result; it has {periods}"
            raise SchemaError(msg)
    cur = current or periods[-1]
    if previous is None and periods.index(cur) == 0:
        msg = f"period {cur!r} is the first in the result; give previous_period"
        raise SchemaError(msg)
    prev = previous or periods[periods.index(cur) - 1]
    return t[t["period"] == cur], t[t["period"] == prev], cur, prev


def compare(
    current: Result,
    previous: Result | None = None,
    *,
    metrics: Sequence[str] | None = None,
    correction: str | None = None,
    current_period: str | None = None,
    previous_period: str | None = None,
    confidence: float | None = None,
) -> ComparisonResult:
    """Compare two results of the same kind, per group and metric.

    Args:
        current: The newer result (funnel, traffic, visitor value or DSR).
        previous: The older result of the same kind. When omitted, ``current`` must have
            periods and its last period is compared with the one before (week over week
            for ``freq="W"``), or ``current_period`` with ``previous_period``.
        metrics: Metrics to compare (default: every proportion, count and mean present).
        correction: ``"bh"`` (Benjamini-Hochberg, default from config), ``"holm"`` or
            ``"none"``, applied across all groups and metrics compared.
        current_period: With one result: the period to compare.
        previous_period: With one result: the period to compare it with.
        confidence: Interval level (default from config).

    Returns:
        A :class:`ComparisonResult`.

    References:
        Newcombe (1998), Statistics in Medicine 17; Deng, Knoblich & Lu (2018), KDD;
        Benjamini & Hochberg (1995); Holm (1979).
    """
    cfg = get_config()
    correction = correction or cfg.correction
    if correction not in ("bh", "holm", "none"):
        raise DefinitionError.unknown("correction", correction, ("bh", "holm", "none"))
    cur_t, prev_t, cur_label, prev_label = _pair_tables(
        current, previous, current_period, previous_period
    )
    keys = _group_cols(current)
    merged = _merge(cur_t, prev_t, keys)
    table = _compare_metrics(merged, _metrics_to_compare(merged, metrics), keys, confidence)
    level = cfg.fdr if correction == "bh" else 1 - cfg.confidence
    table = _adjust(table, correction, level, keys)
    flags = [f for f in current.flags if f.code in CARRIED_FLAGS]
    meta = {
        "by": tuple(keys),
        "current": cur_label,
        "previous": prev_label,
        "correction": correction,
        "level": level,
        "kind": current.kind,
        "confidence": confidence or cfg.confidence,
    }
    notes = (f"{len(table)} comparisons; {correction} correction at level {level}",)
    return ComparisonResult(table, sort_flags(flags), Audit(notes=notes), current.definition, meta)


def _pair_tables(
    current: Result,
    previous: Result | None,
    current_period: str | None,
    previous_period: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """The two tables to compare and their labels: two results, or two periods of one."""
    import pandas as pd  # noqa: PLC0415

    if previous is None:
        return _split_periods(current, current_period, previous_period)
    if type(current) is not type(previous):
        msg = (
            "compare needs two results of the same kind, got "
            f"{type(current).__name__} and {type(previous).__name__}"
        )
        raise SchemaError(msg)
    cur_t, prev_t = current.table, previous.table
    cur_label = ",".join(sorted(set(map(str, cur_t.get("period", pd.Series(["current"]))))))
    prev_label = ",".join(sorted(set(map(str, prev_t.get("period", pd.Series(["previous"]))))))
    return cur_t, prev_t, cur_label, prev_label


def _merge(cur_t: pd.DataFrame, prev_t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per group with ``<column>_cur`` and ``<column>_prev`` side by side."""
    import pandas as pd  # noqa: PLC0415

    drop = [c for c in LABEL_COLS if c in cur_t.columns]
    if keys:
        return cur_t.drop(columns=drop).merge(
            prev_t.drop(columns=[c for c in LABEL_COLS if c in prev_t.columns]),
            on=keys,
            how="inner",
            suffixes=("_cur", "_prev"),
        )
    return pd.concat(
        [
            cur_t.drop(columns=drop).reset_index(drop=True).add_suffix("_cur"),
            prev_t.drop(columns=[c for c in LABEL_COLS if c in prev_t.columns])
            .reset_index(drop=True)
            .add_suffix("_prev"),
        ],
        axis=1,
    )


def _metrics_to_compare(merged: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    """The metrics asked for, or every proportion, count and mean both sides have."""
    cols = {c.removesuffix("_cur") for c in merged.columns if c.endswith("_cur")}
    wanted = (
        list(metrics)
        if metrics is not None
        else [
            *[m for m in PROPORTIONS if m in cols],
            *[m for m in COUNTS if m in cols],
            *[m for m in MEANS if m in cols],
        ]
    )
    unknown = [m for m in wanted if m not in cols]
    if unknown:
        raise DefinitionError.unknown("metric", unknown[0], sorted(cols))
    return wanted


def _compare_metrics(
    merged: pd.DataFrame, wanted: list[str], keys: list[str], confidence: float | None
) -> pd.DataFrame:
    """One row per group and metric that can be tested, group columns first."""
    import pandas as pd  # noqa: PLC0415

    parts = []
    for m in wanted:
        part = _compare_metric(merged, m, confidence)
        if part is None:
            continue
        for k in keys:
            part.insert(0, k, merged[k].to_numpy())
        parts.append(part)
    if not parts:
        msg = f"nothing to compare: none of {wanted} can be tested from these results"
        raise SchemaError(msg)
    return pd.concat(parts, ignore_index=True)


def _adjust(table: pd.DataFrame, correction: str, level: float, keys: list[str]) -> pd.DataFrame:
    """Correct the p-values across every group and metric; sort by group and metric."""
    table["p_adjusted"] = multiplicity.adjust_pvalues(table["p_value"].to_numpy(float), correction)
    table["significant"] = table["p_adjusted"].to_numpy(float) < level
    return table.sort_values([*keys, "metric"], kind="stable").reset_index(drop=True)


_Array = npt.NDArray[Any]
_Change = tuple[_Array, _Array, _Array, _Array, _Array, _Array, _Array, _Array]
"""Estimate, interval low and high, p-value, test name, weight and the interval of the
relative change (low, high): one entry per group."""


def _compare_metric(m: pd.DataFrame, metric: str, confidence: float | None) -> pd.DataFrame | None:
    """One metric's change per group, with the test that fits it (``None``: not testable)."""
    import pandas as pd  # noqa: PLC0415

    cur, prev = m[f"{metric}_cur"].to_numpy(float), m[f"{metric}_prev"].to_numpy(float)
    if metric in PROPORTIONS:
        change = _proportion_change(m, metric, confidence)
    elif metric in COUNTS:
        change = _count_change(cur, prev, confidence)
    else:
        change = _mean_change(m, metric, cur, prev, confidence)
    if change is None:
        return None
    est, lo, hi, p, test, weight, rel_lo, rel_hi = change
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(prev != 0, cur / prev - 1, np.nan)
    columns = {"metric": metric, "previous": prev, "current": cur, "diff": est}
    columns |= {"diff_ci_low": lo, "diff_ci_high": hi, "rel_change": rel}
    columns |= {"rel_change_ci_low": rel_lo, "rel_change_ci_high": rel_hi, "p_value": p}
    return pd.DataFrame({**columns, "test": test, "weight_current": weight})  # one frame


def _proportion_change(m: pd.DataFrame, metric: str, confidence: float | None) -> _Change | None:
    """A rate of two counts: Newcombe interval, score test (Fisher's for small counts)."""
    num, den = PROPORTIONS[metric]
    if f"{num}_cur" not in m.columns or f"{den}_cur" not in m.columns:
        return None
    x1, n1 = m[f"{num}_cur"].to_numpy(float), m[f"{den}_cur"].to_numpy(float)
    x0, n0 = m[f"{num}_prev"].to_numpy(float), m[f"{den}_prev"].to_numpy(float)
    ok = (x1 <= n1) & (x0 <= n0) & (n1 > 0) & (n0 > 0)
    c = twosample.compare_proportions(
        np.where(ok, x1, 0),
        np.where(ok, n1, 1),
        np.where(ok, x0, 0),
        np.where(ok, n0, 1),
        compare="diff",
        confidence=confidence,
    )
    est, lo, hi, p = (np.where(ok, a, np.nan) for a in (c.estimate, c.low, c.high, c.p_value))
    _, rlo, rhi = twosample.risk_ratio_ci(
        np.where(ok, x1, 0), np.where(ok, n1, 1), np.where(ok, x0, 0), np.where(ok, n0, 1),
        confidence=confidence,
    )  # fmt: skip
    rlo, rhi = np.where(ok, rlo - 1, np.nan), np.where(ok, rhi - 1, np.nan)
    return est, lo, hi, p, np.where(ok, c.test, ""), n1, rlo, rhi


def _count_change(cur: _Array, prev: _Array, confidence: float | None) -> _Change:
    """A count: Poisson rate comparison with the period length as exposure."""
    one = np.ones_like(cur)
    c = twosample.compare_rates(cur, one, prev, one, compare="diff", confidence=confidence)
    r = twosample.compare_rates(cur, one, prev, one, compare="ratio", confidence=confidence)
    return c.estimate, c.low, c.high, c.p_value, c.test, one, r.low - 1, r.high - 1


MEAN_AGGREGATES: dict[str, tuple[str, str, str]] = {
    "aov": ("paid_buyers", "paid_amount", "paid_amount_sq"),
    "visitor_value": ("visitors", "paid_amount", "paid_amount_sq"),
    "visitor_value_net": ("visitors", "net_amount", "net_amount_sq"),
}
"""Mean metrics and the columns of their per-unit aggregates: units (buyers for aov,
visitors for visitor value), Σ of the per-unit value and Σ of its square (over buyers:
a visitor who did not buy adds 0 to both)."""


def _aggregates(m: pd.DataFrame, metric: str, side: str) -> Aggregates | None:
    """The per-unit aggregates of ``metric`` on one side (``"cur"`` / ``"prev"``), if the
    result carries them."""
    cols = MEAN_AGGREGATES.get(metric)
    if cols is None:
        return None
    n_col, y_col, yy_col = (f"{c}_{side}" for c in cols)
    if y_col not in m.columns and metric == "visitor_value_net":
        y = m.get(f"paid_amount_{side}")
        refunds = m.get(f"refund_amount_{side}")
        total = (
            None if y is None or refunds is None else y.to_numpy(float) - refunds.to_numpy(float)
        )
    else:
        total = m[y_col].to_numpy(float) if y_col in m.columns else None
    if total is None or n_col not in m.columns or yy_col not in m.columns:
        return None
    yy = m[yy_col].to_numpy(float)
    return Aggregates(m[n_col].to_numpy(float), {"y": total, "y*y": yy})


def _mean_change(
    m: pd.DataFrame, metric: str, cur: _Array, prev: _Array, confidence: float | None
) -> _Change | None:
    """A ratio or mean metric: the difference of two independent means, delta method.

    Method: with the per-unit aggregates the result carries (units, Σy, Σy²: buyers for
    aov, visitors for visitor value, see :data:`MEAN_AGGREGATES`),
    :func:`~shopmetrics.stats.aggregates.compare_ratios` gives ``d = ȳ1 - ȳ0``,
    ``se = sqrt(s1²/n1 + s0²/n0)`` and a Welch-type z test (normal reference).
    Assumptions: units (buyers, visitors) independent within and between the two
    periods (a buyer who pays in both weeks makes them slightly positively correlated:
    the test is then conservative); a few dozen units a side for the normal reference
    (coverage and false-positive rate by simulation in ``tests/coverage``).

    A result without those aggregates (DSR scores, ROAS, a traffic export without
    orders) falls back to each side's standard error read from its interval,
    ``(high - value) / z``, which is exact for a symmetric unclipped interval only.
    """
    a1, a0 = _aggregates(m, metric, "cur"), _aggregates(m, metric, "prev")
    if a1 is not None and a0 is not None:
        c = compare_ratios(a1, a0, "y", confidence=confidence)
        est, lo, hi, p, test = c.estimate, c.low, c.high, c.p_value, c.test
        (m1, v1), (m0, v0) = a1.ratio("y"), a0.ratio("y")
        _, rlo, rhi = intervals.fieller_ratio_ci(m1, v1, m0, v0, confidence)
        rlo, rhi = rlo - 1, rhi - 1
    else:
        hi_c, hi_p = m.get(f"{metric}_ci_high_cur"), m.get(f"{metric}_ci_high_prev")
        if hi_c is None or hi_p is None:
            return None
        est, lo, hi, p, test = _change_from_intervals(hi_c, hi_p, cur, prev, confidence)
        rlo = rhi = np.full(len(cur), np.nan)
    den_col = {
        "aov": "paid_buyers",
        "visitor_value": "visitors",
        "visitor_value_net": "visitors",
        "roas": "cost",
    }.get(metric, f"n_{metric}")
    weight = (
        m[f"{den_col}_cur"].to_numpy(float) if f"{den_col}_cur" in m.columns else np.ones_like(cur)
    )
    return est, lo, hi, p, test, weight, rlo, rhi


def _change_from_intervals(
    hi_c: pd.Series, hi_p: pd.Series, cur: _Array, prev: _Array, confidence: float | None
) -> tuple[_Array, _Array, _Array, _Array, _Array]:
    """The fallback of :func:`_mean_change`: standard errors from each side's upper limit."""
    z = intervals._z(confidence or get_config().confidence)
    se1 = (hi_c.to_numpy(float) - cur) / z
    se0 = (hi_p.to_numpy(float) - prev) / z
    est = cur - prev
    se = np.sqrt(se1**2 + se0**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = est / se
    from scipy import stats  # noqa: PLC0415

    p = np.where(np.isfinite(zstat), 2 * stats.norm.sf(np.abs(zstat)), np.nan)
    test = np.where(np.isfinite(p), "delta-z", "")
    return est, est - z * se, est + z * se, p, test


def movers(
    current: Result,
    previous: Result | None = None,
    *,
    metric: str = "payment_conversion",
    top: int = 10,
    correction: str | None = None,
) -> pd.DataFrame:
    """Groups whose ``metric`` moved significantly, ranked by effect on the store total.

    The effect of a group is its rate change weighted by its share of the current
    denominator (``Δrate × visitors_g / Σ visitors``): how much of the store's pooled rate
    the change moved, not how small its p-value is. Flags that could explain a move
    (presale, bots, brushing, tracking gap) are listed beside the group they concern: the
    group columns a flag names must match, its period must be one of the two compared, and
    it must be able to move ``metric`` (a tracking gap does not move click-through).

    Returns:
        The significant movers, biggest effect first, with ``direction`` (up / down),
        ``effect_on_total`` and ``explained_by`` (flag codes).
    """
    comp = compare(current, previous, metrics=[metric], correction=correction)
    t = comp.table.copy()
    keys = list(comp.meta["by"])
    t["effect_on_total"] = t["diff"] * t["weight_current"] / np.nansum(t["weight_current"])
    t = t[t["significant"]].copy()
    t["direction"] = np.where(t["diff"] > 0, "up", "down")
    compared = {comp.meta["current"], comp.meta["previous"]}
    carried = [f for f in current.flags if f.code in CARRIED_FLAGS and _touches(f, metric)]
    carried = in_periods(carried, compared, current.meta.get("freq"))
    t["explained_by"] = flags_by_subject(t, carried, keys, store_wide=True)
    t = t.reindex(t["effect_on_total"].abs().sort_values(ascending=False, kind="stable").index)
    return t.head(top).reset_index(drop=True)


_TRAFFIC_ONLY = ("ctr", "exposures", "clicks", "page_views", "visitors")
"""Metrics that orders do not enter: presale and brushing flags cannot explain them."""


def _touches(flag: Flag, metric: str) -> bool:
    """Whether a flag can move ``metric``: a tracking gap only what is counted over
    visitors (visitors vanish, clicks and exposures vanish together), presale and
    brushing only what orders enter, bots and the rest anything."""
    if flag.code == "tracking_gap":
        return metric == "visitors" or PROPORTIONS.get(metric, ("", ""))[1] == "visitors"
    if flag.code in ("order_brushing", "presale_zero_payment", "immature_period"):
        return metric not in _TRAFFIC_ONLY
    return True


def flag_concerns(
    flag: Flag, row: Mapping[str, Any], keys: Sequence[str], *, store_wide: bool = True
) -> bool:
    """Whether a flag concerns a table row keyed by ``keys`` (``product_id``, ``source``,
    ``campaign``, ``keyword``, ``date``): every key the flag's subject names matches the
    row's value (a ``date`` by its day).

    A flag naming none of the keys (a day, the store) concerns every row when
    ``store_wide`` (a mover's possible explanation), except a mix shift (a store total
    moving because groups moved); without ``store_wide`` it concerns no row (a table
    shows on each row only the flags about that row).
    """
    named = [k for k in keys if k in flag.subject]
    if not named:
        return store_wide and flag.code != "mix_shift"
    return all(_same(k, flag.subject[k], row[k]) for k in named)


def _same(key: str, a: Any, b: Any) -> bool:
    """Whether a subject's value and a row's key value are the same thing (days by day)."""
    if key == "date":
        return str(a)[:10] == str(b)[:10]
    return str(a) == str(b)


def flags_by_subject(
    table: pd.DataFrame, flags: Sequence[Flag], keys: Sequence[str], *, store_wide: bool = False
) -> list[str]:
    """Per row of ``table``, the codes of the flags about it (:func:`flag_concerns`),
    sorted and joined by ", " ("" for none): the column a table shows them in.

    Args:
        table: The rows, with the ``keys`` columns.
        flags: The flags to attach.
        keys: The columns that say what a row is about.
        store_wide: Whether a flag naming none of ``keys`` concerns every row.
    """
    keys = [k for k in keys if k in table.columns]
    values = {k: table[k].tolist() for k in keys}
    rows = [{k: values[k][i] for k in keys} for i in range(len(table))]
    return [
        ", ".join(
            sorted({f.code for f in flags if flag_concerns(f, row, keys, store_wide=store_wide)})
        )
        for row in rows
    ]


def in_periods(flags: Sequence[Flag], periods: set[str], freq: str | None) -> list[Flag]:
    """The flags that fall in one of ``periods`` (labels of ``freq``), or name no period."""
    return [f for f in flags if _period_of(f, freq) in periods | {None}]


def _period_of(flag: Flag, freq: str | None) -> str | None:
    """The period (label of ``freq``) a flag falls in: its ``period``, or that of its date."""
    import pandas as pd  # noqa: PLC0415

    if "period" in flag.subject and freq is not None:
        return str(flag.subject["period"])
    date = flag.subject.get("date")
    if date is None or freq is None:
        return None
    ts = pd.Timestamp(str(date))
    if freq == "D":
        return ts.strftime("%Y-%m-%d")
    if freq == "W":
        iso = ts.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return ts.strftime("%Y-%m")
