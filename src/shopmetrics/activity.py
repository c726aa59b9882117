"""Did the promotion pay? Activity effects against a counterfactual (活动效果).

:func:`activity_effect` reads the store's daily visitors, paying buyers, paid amount and
gross profit of the products in each activity (聚划算, 天天特价, 会员日, 双11 presale, a
live stream ...) and of the products outside it, and asks what would have happened
without it:

- **its own history** (the primary estimate): a structural time-series model with a local
  level and a weekly season fitted on the days before the activity and simulated over the
  activity and the days after (:func:`~shopmetrics.models.counterfactual.structural_counterfactual`,
  after Brodersen et al. 2015);
- **comparable products outside it** (the check): a difference in differences against the
  products in no activity (:func:`~shopmetrics.models.counterfactual.difference_in_differences`);
  the two are compared and a disagreement is flagged.

Effects, each with its interval: incremental visitors, paying buyers, paid amount and gross
profit during the activity; the halo on products outside it (关联销售); the dip after it
(pull-forward); the net incremental profit after its cost, and a verdict (paid / did not
pay / cannot tell) naming the interval it rests on. :func:`buyer_quality` compares the
buyers it brought with the store's usual new buyers. Definitions: the metric dictionary
(docs/metrics.md, "Activities").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.activity_buyers import buyer_quality
from shopmetrics.activity_table import Activity, read_activities
from shopmetrics.audit import Audit, Exclusion
from shopmetrics.engine.counting import cents_of, count_events, count_orders, usable_order_lines
from shopmetrics.engine.paid_orders import profit_expr
from shopmetrics.engine.periods import PERIOD
from shopmetrics.errors import SchemaError
from shopmetrics.flags import activities as activity_flags
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.models.counterfactual import (
    StructuralFit,
    difference_in_differences,
    structural_counterfactual,
)
from shopmetrics.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Activity", "ActivityResult", "activity_effect", "read_activities"]

MEASURES: tuple[str, ...] = ("visitors", "paid_buyers", "paid_amount", "gross_profit")
"""The daily measures read per activity (visitors need events)."""

MIN_HISTORY_DAYS = 21
"""Fewer days with data before an activity than this (three weeks: the weekly season
needs them): no counterfactual from its history, the effect is refused."""

WEAK_HISTORY_DAYS = 28
"""Fewer days than this (four weeks): the counterfactual is computed and flagged."""

IN, OUT, SKIP = "in", "out", "skip"


@dataclasses.dataclass(frozen=True, repr=False)
class ActivityResult(Result):
    """Per activity: its effects, verdict and what the verdict rests on.

    Attributes:
        table: One row per activity: ``activity``, ``kind``, ``start``, ``end``, ``days``,
            ``cost`` (fees and extra spend), ``discount``, ``incremental_paid_amount``
            (with ``_ci_low`` / ``_ci_high``), ``incremental_gross_profit`` (and
            interval), ``halo_gross_profit``, ``after_gross_profit`` (the dip, negative
            when sales were pulled forward), ``net_incremental_profit`` (and interval),
            ``verdict``, ``verdict_basis``, ``did_paid_amount`` (and interval: the
            comparison-products estimate), ``methods_z``.
        effects: One row per activity, measure and window (``during``, ``halo``,
            ``after``): ``actual``, ``counterfactual``, ``effect``, ``effect_ci_low``,
            ``effect_ci_high``, ``method``.
        series: Daily actual and counterfactual (mean and 95% band) per activity and
            measure of the products in it, for charts.
        buyers: The buyer-quality table of :func:`buyer_quality` (empty without orders).
    """

    effects: pd.DataFrame | None = None
    series: pd.DataFrame | None = None
    buyers: pd.DataFrame | None = None

    kind = "activity_effect"

    def display_columns(self) -> Sequence[str]:
        """The columns an operator reads first."""
        cols = [
            "activity",
            "start",
            "end",
            "cost",
            "incremental_paid_amount",
            "net_incremental_profit",
            "net_incremental_profit_ci_low",
            "net_incremental_profit_ci_high",
            "verdict",
        ]
        return [c for c in cols if c in self.table.columns]


@dataclasses.dataclass
class _Inputs:
    events: engine.Table | None
    orders: engine.Table
    ratings: Any
    activities: tuple[Activity, ...]
    margin: float | None
    columns: Mapping[str, str] | None
    tz: str | None


def _arm(activity: Activity, others: Sequence[Activity]) -> nw.Expr:
    """``in`` for the activity's products, ``skip`` for products of other activities
    (neither treated nor a fair comparison), ``out`` for the rest."""
    if activity.products is None:
        return nw.lit(IN)
    other = sorted({p for a in others if a.products for p in a.products} - set(activity.products))
    expr = nw.when(nw.col("product_id").is_in(list(activity.products))).then(nw.lit(IN))
    if other:
        expr = expr.when(nw.col("product_id").is_in(other)).then(nw.lit(SKIP))
    return expr.otherwise(nw.lit(OUT))


def _daily(
    inputs: _Inputs, activity: Activity, t0: dt.datetime, t1: dt.datetime, audit: _AuditLog
) -> pd.DataFrame:
    """Daily measures per arm (rows: arm x day number), from one events and one orders pass."""
    import pandas as pd  # noqa: PLC0415

    others = [a for a in inputs.activities if a is not activity]
    arm = _arm(activity, others).alias("_arm")
    od = inputs.orders
    parts: list[pd.DataFrame] = []
    orders_with_arm = od.with_frame(od.frame.with_columns(arm))
    counts = count_orders(orders_with_arm, ["_arm"], "D", t0, t1)
    audit.take(counts.rows_in, counts.excluded)
    parts.append(counts.table[["_arm", PERIOD, "paid_buyers", "paid_amount"]])
    profit = profit_expr(od, inputs.margin)
    if profit is not None:
        frame, _, _ = usable_order_lines(orders_with_arm, ["_arm"])
        paid = frame.filter(engine.between("paid_at", t0, t1)).with_columns(
            engine.period_key("paid_at", "D").alias(PERIOD), profit.alias("_profit")
        )
        # summed in whole cents (and a sub-cent rest) so the sum does not depend on the
        # engine's order of addition: the same series, hence the same fit, on every engine
        cents, rest = cents_of("_profit")
        got = engine.collect(
            paid.with_columns(cents.alias("_c"), rest.alias("_r"))
            .group_by("_arm", PERIOD)
            .agg(nw.col("_c").sum(), nw.col("_r").sum()),
            "activity:profit",
        )
        got["gross_profit"] = (got["_c"].astype("float64") + got["_r"].astype("float64")) / 100
        parts.append(got[["_arm", PERIOD, "gross_profit"]])
    if inputs.events is not None:
        ev = inputs.events
        ec = count_events(ev.with_frame(ev.frame.with_columns(arm)), ["_arm"], "D", t0, t1)
        audit.take(ec.rows_in, ec.excluded)
        parts.append(ec.table[["_arm", PERIOD, "visitors"]])
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=["_arm", PERIOD], how="outer")
    return pd.DataFrame(out)


@dataclasses.dataclass
class _AuditLog:
    rows_in: dict[str, int] = dataclasses.field(default_factory=dict)
    excluded: list[Exclusion] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def take(self, rows_in: Mapping[str, int], excluded: Sequence[Exclusion]) -> None:
        for k, v in rows_in.items():
            self.rows_in[k] = max(self.rows_in.get(k, 0), v)
        seen = {(e.table, e.reason, e.rows) for e in self.excluded}
        self.excluded.extend(e for e in excluded if (e.table, e.reason, e.rows) not in seen)


@dataclasses.dataclass(frozen=True)
class _Window:
    """Day numbers of one activity's analysis: history, the activity, the days after."""

    first: int  # first day with data in the history
    start: int
    end: int  # last activity day, included
    after_end: int  # last day after, included (may be < end: no days after)
    masked: frozenset[int]  # history days of other activities (left out of the fit)

    @property
    def horizon(self) -> int:
        return max(self.after_end, self.end) - self.start + 1

    @property
    def days(self) -> int:
        return self.end - self.start + 1


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _window(
    activity: Activity, others: Sequence[Activity], data: tuple[int, int], after: int
) -> _Window:
    start, end = _day(activity.start), _day(activity.end)
    masked: set[int] = set()
    for o in others:
        if o.overlaps(activity) or o.products is None or activity.products is None:
            lo, hi = _day(o.start), _day(o.end) + after
            masked.update(d for d in range(lo, hi + 1) if d < start)
    return _Window(
        first=data[0],
        start=start,
        end=min(end, data[1]),
        after_end=min(end + after, data[1]),
        masked=frozenset(masked),
    )


def _series(daily: pd.DataFrame, arm: str, measure: str, w: _Window) -> np.ndarray[Any, Any]:
    """The arm's daily measure from the first history day to the last day after (0 where
    a day has no rows; NaN on masked history days)."""
    days = np.arange(w.first, w.start + w.horizon)
    if measure not in daily.columns:
        return np.full(days.size, np.nan)
    sub = daily[daily["_arm"] == arm].set_index(PERIOD)[measure]
    values = sub.reindex(days).fillna(0.0).to_numpy(dtype=np.float64, copy=True)
    values[np.isin(days, list(w.masked))] = np.nan
    return values


def _effect_row(
    name: str, measure: str, window: str, actual: float, totals: np.ndarray[Any, Any], conf: float
) -> dict[str, Any]:
    effect = actual - totals
    lo, hi = np.quantile(effect, [(1 - conf) / 2, (1 + conf) / 2])
    return {
        "activity": name,
        "measure": measure,
        "window": window,
        "actual": actual,
        "counterfactual": float(totals.mean()),
        "effect": float(actual - totals.mean()),
        "effect_ci_low": float(lo),
        "effect_ci_high": float(hi),
        "method": "structural time series",
    }


@dataclasses.dataclass
class _Fits:
    """The fitted counterfactuals of one activity, by arm and measure."""

    fits: dict[tuple[str, str], StructuralFit] = dataclasses.field(default_factory=dict)
    series: dict[tuple[str, str], np.ndarray[Any, Any]] = dataclasses.field(default_factory=dict)


def _fit_all(daily: pd.DataFrame, w: _Window, arms: Sequence[str], draws: int, seed: int) -> _Fits:
    out = _Fits()
    n_pre = w.start - w.first
    for arm in arms:
        for i, m in enumerate(MEASURES):
            y = _series(daily, arm, m, w)
            if np.isnan(y).all():
                continue
            out.series[arm, m] = y
            out.fits[arm, m] = structural_counterfactual(
                y[:n_pre], w.horizon, draws=draws, seed=seed + 7919 * i + (arm == OUT)
            )
    return out


def _effects(name: str, fits: _Fits, w: _Window, conf: float) -> list[dict[str, Any]]:
    n_pre, rows = w.start - w.first, []
    during = slice(0, w.days)
    after = slice(w.days, w.horizon)
    for (arm, m), fit in sorted(fits.fits.items()):
        y = fits.series[arm, m][n_pre:]
        windows = [("during" if arm == IN else "halo", during)]
        if arm == IN and w.horizon > w.days:
            windows.append(("after", after))
        for label, rows_ in windows:
            actual = float(np.nansum(y[rows_]))
            rows.append(_effect_row(name, m, label, actual, fit.total(rows_), conf))
    return rows


def _net(
    fits: _Fits, w: _Window, cost: float
) -> tuple[np.ndarray[Any, Any] | None, np.ndarray[Any, Any] | None]:
    """Simulated net incremental profit of the activity's own products (during and after,
    one set of paths, so their correlation is kept) less its cost; and the same with the
    halo on the other products added (independent paths)."""
    key = (IN, "gross_profit")
    if key not in fits.fits:
        return None, None
    n_pre = w.start - w.first
    y = fits.series[key][n_pre:]
    own = float(np.nansum(y)) - fits.fits[key].total(slice(0, w.horizon)) - cost
    halo = fits.fits.get((OUT, "gross_profit"))
    if halo is None:
        return own, None
    yo = fits.series[OUT, "gross_profit"][n_pre:]
    return own, own + (float(np.nansum(yo[: w.days])) - halo.total(slice(0, w.days)))


def _verdict(net: np.ndarray[Any, Any] | None, conf: float) -> tuple[str, str, float, float]:
    if net is None:
        return "cannot tell", "no gross profit: give margin= or a cost column", math.nan, math.nan
    lo, hi = (float(q) for q in np.quantile(net, [(1 - conf) / 2, (1 + conf) / 2]))
    basis = (
        f"{conf:.0%} interval of net incremental profit (own-history counterfactual, "
        "the activity's products during it and after it, less its cost; the halo on other "
        "products is reported beside it, not in it)"
    )
    if lo > 0:
        return "paid", basis, lo, hi
    if hi < 0:
        return "did not pay", basis, lo, hi
    return "cannot tell", basis, lo, hi


def _did(daily: pd.DataFrame, w: _Window, conf: float) -> tuple[float, float, float, float]:
    """The comparison-products estimate of the incremental paid amount during the activity."""
    t = _series(daily, IN, "paid_amount", w)
    c = _series(daily, OUT, "paid_amount", w)
    days = np.arange(w.first, w.start + w.horizon)
    before = days < w.start
    during = (days >= w.start) & (days <= w.end)
    est = difference_in_differences(t, c, during, before)
    lo, hi = est.interval(conf)
    return est.estimate, lo, hi, est.se


def _summary(
    activity: Activity, rows: list[dict[str, Any]], net: Any, did: tuple[float, ...], conf: float
) -> dict[str, Any]:
    def pick(measure: str, window: str) -> dict[str, Any]:
        for r in rows:
            if r["measure"] == measure and r["window"] == window:
                return r
        return {"effect": math.nan, "effect_ci_low": math.nan, "effect_ci_high": math.nan}

    paid = pick("paid_amount", "during")
    sts_se = (paid["effect_ci_high"] - paid["effect_ci_low"]) / (2 * 1.959964)
    z = (paid["effect"] - did[0]) / math.hypot(sts_se, did[3]) if did[3] > 0 else math.nan
    out = {
        "activity": activity.name,
        "kind": activity.kind,
        "start": activity.start.isoformat(),
        "end": activity.end.isoformat(),
        "days": activity.days,
        "products": len(activity.products) if activity.products else None,
        "cost": activity.cost,
        "discount": activity.discount,
    }
    for key, measure, window in (
        ("incremental_visitors", "visitors", "during"),
        ("incremental_paid_buyers", "paid_buyers", "during"),
        ("incremental_paid_amount", "paid_amount", "during"),
        ("incremental_gross_profit", "gross_profit", "during"),
        ("halo_gross_profit", "gross_profit", "halo"),
        ("after_gross_profit", "gross_profit", "after"),
    ):
        r = pick(measure, window)
        out[key] = r["effect"]
        out[f"{key}_ci_low"], out[f"{key}_ci_high"] = r["effect_ci_low"], r["effect_ci_high"]
    own, with_halo = net
    verdict, basis, lo, hi = _verdict(own, conf)
    out["net_incremental_profit"] = float(np.mean(own)) if own is not None else math.nan
    out["net_incremental_profit_ci_low"], out["net_incremental_profit_ci_high"] = lo, hi
    key = "net_incremental_profit_with_halo"
    if with_halo is not None:
        out[key] = float(np.mean(with_halo))
        q = np.quantile(with_halo, [(1 - conf) / 2, (1 + conf) / 2])
        out[f"{key}_ci_low"], out[f"{key}_ci_high"] = float(q[0]), float(q[1])
    else:
        out[key] = out[f"{key}_ci_low"] = out[f"{key}_ci_high"] = math.nan
    out.update(verdict=verdict, verdict_basis=basis)
    out["did_paid_amount"], out["did_paid_amount_ci_low"], out["did_paid_amount_ci_high"] = did[:3]
    out["methods_z"] = z
    return out


def _band(name: str, fits: _Fits, w: _Window) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n_pre = w.start - w.first
    for (arm, m), fit in sorted(fits.fits.items()):
        if arm != IN:
            continue
        y = fits.series[arm, m]
        lo, hi = np.quantile(fit.paths, [0.025, 0.975], axis=1)
        for i, day in enumerate(range(w.first, w.start + w.horizon)):
            j = i - n_pre
            rows.append(
                {
                    "activity": name,
                    "measure": m,
                    "date": dt.date(1970, 1, 1) + dt.timedelta(days=day),
                    "actual": float(y[i]) if np.isfinite(y[i]) else math.nan,
                    "counterfactual": float(fit.paths[j].mean()) if j >= 0 else math.nan,
                    "counterfactual_low": float(lo[j]) if j >= 0 else math.nan,
                    "counterfactual_high": float(hi[j]) if j >= 0 else math.nan,
                    "phase": "before" if j < 0 else ("during" if j < w.days else "after"),
                }
            )
    return rows


def _data_days(inputs: _Inputs) -> tuple[int, int]:
    """First and last day with orders (or events): the range the data cover."""
    frames = [(inputs.orders.frame, "created_at")]
    if inputs.events is not None:
        frames.append((inputs.events.frame, "ts"))
    lo, hi = math.inf, -math.inf
    for frame, col in frames:
        got = engine.collect(
            frame.select(
                engine.day_number(col).min().alias("lo"), engine.day_number(col).max().alias("hi")
            ),
            "activity:range",
        )
        if got["lo"].notna().iloc[0]:
            lo, hi = min(lo, int(got["lo"].iloc[0])), max(hi, int(got["hi"].iloc[0]))
    if not math.isfinite(lo):
        msg = "activity_effect: the orders table has no rows with a created_at"
        raise SchemaError(msg)
    return int(lo), int(hi)


def _one(
    inputs: _Inputs,
    activity: Activity,
    data: tuple[int, int],
    opts: Mapping[str, Any],
    audit: _AuditLog,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[Flag]]:
    others = [a for a in inputs.activities if a is not activity]
    w = _window(activity, others, data, opts["after_days"])
    w = dataclasses.replace(w, first=max(w.first, w.start - opts["history_days"]))
    flags = activity_flags.window_flags(activity, w.start - w.first, w.masked, w, data[1])
    to_dt = engine.period_start
    t0, t1 = to_dt(w.first, "D"), to_dt(w.start + w.horizon, "D")
    daily = _daily(inputs, activity, t0, t1, audit)
    history = int((w.start - w.first) - len(w.masked))
    if history < MIN_HISTORY_DAYS or w.start > data[1]:
        flags.append(activity_flags.no_counterfactual(activity, history, MIN_HISTORY_DAYS))
        row = _summary(activity, [], (None, None), (math.nan,) * 4, opts["confidence"])
        return row, [], [], flags
    arms = [IN] if activity.products is None else [IN, OUT]
    fits = _fit_all(daily, w, arms, opts["draws"], opts["seed"])
    rows = _effects(activity.name, fits, w, opts["confidence"])
    net = _net(fits, w, activity.cost)
    did = _did(daily, w, opts["confidence"]) if OUT in arms else (math.nan,) * 4
    summary = _summary(activity, rows, net, did, opts["confidence"])
    paid_fit = fits.fits.get((IN, "paid_amount"))
    flags += activity_flags.fit_flags(activity, paid_fit, summary, history, WEAK_HISTORY_DAYS)
    return summary, rows, _band(activity.name, fits, w), flags


@engine.records_collects
def activity_effect(
    events: Any = None,
    orders: Any = None,
    activities: Any = None,
    ratings: Any = None,
    margin: float | None = None,
    columns: Mapping[str, str] | None = None,
    *,
    after_days: int = 7,
    history_days: int = 56,
    confidence: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
    tz: str | None = None,
) -> ActivityResult:
    """What each activity added beyond what would have sold anyway, what it cost, and after.

    Args:
        events: The events table (for visitors); optional — without it the effects on
            paying buyers, paid amount and profit are still given.
        orders: Order lines (``order_id``, ``buyer_id``, ``product_id``, ``created_at``,
            ``paid_at``, ``amount``; ``cost``, ``refund_amount``, ``deposit_paid_at``
            used when present). Paid amounts are read on the day of (final) payment.
        activities: The activities (see :func:`read_activities`): name, kind, start, end
            (included), products (or the whole store), fee, discount, extra_spend (the
            paid traffic bought for it: a spend table's daily cost is not split by
            activity, so it is not read from one).
        ratings: The ratings table, for the buyer-quality table (low ratings, DSR points).
        margin: Gross margin as a share of the paid amount; without it the orders' ``cost``
            column gives gross profit; without either there is no profit and no verdict.
        columns: ``{their_name: canonical_name}`` for events, orders and ratings.
        after_days: Days after each activity read for the pull-forward dip.
        history_days: Days before each activity the counterfactual is fitted on (at most).
        confidence: Level of every interval.
        draws: Simulated counterfactual paths per measure.
        seed: Seed of the simulation (the same seed gives the same intervals).
        tz: Store time zone for aware timestamps.

    Returns:
        An :class:`ActivityResult`. Method and assumptions: the counterfactual of each
        measure is a local-level + weekly-season structural model of the activity's own
        products fitted on the days before (other activities' days left out), simulated
        with its state uncertainty at estimated variances; days are summed along each
        path, so an interval of a total keeps the correlation between days. The halo is
        the same model on the products in no activity; the net profit adds the halo's
        paths as independent of the activity's own. The comparison estimate
        (``did_paid_amount``) assumes the products outside move in proportion to those in
        it; it is biased down by a halo, so the two are compared, not pooled.

    Raises:
        SchemaError: no orders, or an activities table that cannot be read (all problems
            named at once).

    Examples:
        >>> from shopmetrics.datasets import make_store
        >>> store = make_store(seed=0, activities=True)
        >>> r = activity_effect(store.events, store.orders, store.activities)
        >>> r.table["activity"].tolist()
        ['会员日', '聚划算']
    """
    if orders is None or activities is None:
        msg = "activity_effect needs orders= and activities= (the activities table)"
        raise SchemaError(msg)
    acts = read_activities(activities, tz)
    inputs = _Inputs(
        events=engine.load(events, "events", columns, tz) if events is not None else None,
        orders=engine.load(orders, "orders", columns, tz),
        ratings=ratings,
        activities=acts,
        margin=margin,
        columns=columns,
        tz=tz,
    )
    inputs.orders.require("product_id", "paid_at", purpose="activity effects")
    if inputs.events is not None:
        inputs.events.require("product_id", purpose="activity effects")
    return _run(inputs, after_days, history_days, confidence, draws, seed)


def _run(
    inputs: _Inputs, after_days: int, history_days: int, conf: float, draws: int, seed: int
) -> ActivityResult:
    import pandas as pd  # noqa: PLC0415

    opts = {
        "after_days": after_days,
        "history_days": history_days,
        "confidence": conf,
        "draws": draws,
        "seed": seed,
    }
    audit = _AuditLog()
    data = _data_days(inputs)
    summaries, effects, bands, flags = [], [], [], []
    for a in inputs.activities:
        s, e, b, f = _one(inputs, a, data, opts, audit)
        summaries.append(s)
        effects += e
        bands += b
        flags += f
    flags += activity_flags.overlaps(inputs.activities)
    flags += activity_flags.presale_payment_dates(inputs.orders, inputs.activities)
    buyers = buyer_quality(inputs.orders, inputs.activities, inputs.ratings, data, conf, inputs)
    audit.notes.append(
        "paid amounts are read on the day of (final) payment; each counterfactual is fitted on "
        f"up to {history_days} days before its activity, other activities' days left out"
    )
    audit.notes.extend(buyers.notes)
    return ActivityResult(
        table=pd.DataFrame(summaries),
        effects=pd.DataFrame(effects),
        series=pd.DataFrame(bands),
        buyers=buyers.table,
        flags=sort_flags(flags + buyers.flags),
        audit=Audit(dict(audit.rows_in), tuple(audit.excluded), tuple(audit.notes)),
        definition="structural time-series counterfactual (Brodersen et al. 2015)",
        meta={"confidence": conf, **opts, "activities": [a.name for a in inputs.activities]},
    )
