"""Visitor value (访客价值), average order value (客单价), refunds and repurchase.

``visitor_value = paid_amount / visitors = payment_conversion × aov`` per group and period,
gross of refunds as 生意参谋 reports it, with the value net of refunds beside it. The
counting is the funnel's; this module adds refunds, spend, margin, the decomposition of a
change and the repurchase and cohort tables.

Examples:
    >>> import shopmetrics as sm
    >>> store = sm.datasets.make_store(seed=0, days=14, products=20, visitors_per_day=300)
    >>> vv = sm.visitor_value(store.events, store.orders, freq="W")
    >>> row = vv.to_pandas().iloc[-1]
    >>> bool(abs(row.visitor_value - row.payment_conversion * row.aov) < 1e-9)
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np

from shopmetrics import engine
from shopmetrics.engine import PERIOD, Freq, Table, paid_orders
from shopmetrics.engine.counting import cents_of
from shopmetrics.engine.paid_orders import REFUND_WINDOW_DAYS as REFUND_WINDOW_DAYS  # noqa: PLC0414 - re-export
from shopmetrics.engine.periods import parse_bound
from shopmetrics.engine.spend import load_spend, sum_spend
from shopmetrics.errors import SchemaError
from shopmetrics.flags.finding import Flag, sort_flags
from shopmetrics.flags.value import aov_flags, refund_inflated
from shopmetrics.funnel import funnel
from shopmetrics.results import Audit, Result
from shopmetrics.stats import intervals, mix

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["VisitorValueResult", "cohorts", "decompose", "repurchase", "visitor_value"]


@dataclasses.dataclass(frozen=True, repr=False)
class VisitorValueResult(Result):
    """Visitor value, AOV and their parts per group and period.

    Columns: ``visitors``, ``paid_buyers``, ``paid_amount``, ``payment_conversion``
    (+ interval), ``aov`` (+ interval), ``visitor_value`` (+ interval), ``refund_amount``
    (refunds so far on the amount paid in the period), ``visitor_value_net`` (+ interval;
    ``net_amount_sq`` is the Σ over buyers of each buyer's net amount squared behind it),
    ``refund_rate_30d`` (refunded lines / paid lines in the 30 days to the period end, the
    platform's definition), and with spend ``cost``, ``visitor_cost``; with costs or a
    margin ``gross_profit`` and ``visitor_profit`` (gross profit per visitor, less the
    cost per visitor).
    """

    kind = "visitor_value"

    def display_columns(self) -> Sequence[str]:
        """Headline columns."""
        return [c for c in self.table.columns if not c.endswith(("_ci_low", "_ci_high", "_sq"))]

    def decompose(self, current: str, previous: str, store: Any = None) -> pd.DataFrame:
        """Change of visitor value between two periods; see :func:`decompose`."""
        return decompose(self, current, previous, store)


@engine.records_collects
def visitor_value(
    events: Any = None,
    orders: Any = None,
    spend: Any = None,
    traffic: Any = None,
    by: Sequence[str] | str = (),
    freq: Freq = None,
    margin: float | Mapping[str, float] | None = None,
    columns: Mapping[str, str] | None = None,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | None = None,
    detect: bool = True,
) -> VisitorValueResult:
    """Visitor value, AOV, refunds, cost and profit per visitor.

    Args:
        events: Raw events (or give ``traffic``).
        orders: Order lines with ``paid_at`` (and ``refund_amount`` / ``refunded_at``);
            optional with a ``traffic`` export that has its own 支付金额 / 支付买家数
            (then AOV and visitor value are the export's, without intervals).
        spend: Paid-traffic cost (needs ``source`` in ``by`` or ``by=()``).
        traffic: A daily export instead of events (a 生意参谋 product, source or shop
            export; its 成功退款金额 gives ``refund_amount`` when no orders are given).
        by: Grouping columns.
        freq: ``None``, ``"D"``, ``"W"`` or ``"M"``.
        margin: For ``visitor_profit`` (gross profit per visitor): a line's profit is
            ``amount - cost`` where the orders have a ``cost``; else its product's margin
            when ``margin`` maps product ids to margins (fractions of sales); else a
            store-wide margin: ``margin`` as a number, or the margin of the lines with a
            cost. The audit notes say how much of the paid amount each covers.
        columns: ``{their_name: canonical_name}``.
        start: First instant included.
        end: First instant excluded.
        tz: Store time zone.
        detect: Run the misleading-data detectors (``.flags``).

    Returns:
        A :class:`VisitorValueResult`.

    Raises:
        SchemaError: neither orders nor a traffic export with paid amounts; no visitors
            (a traffic export without its 访客数 column): the message names what to pass.

    References:
        Metric dictionary, "Value" (访客价值 = 支付金额 / 访客数 = 支付转化率 × 客单价;
        refund rate worked example (10+15)/(125+112) = 10.5%). Intervals (see
        docs/statistics.md): ``aov``, ``visitor_value`` and ``visitor_value_net`` are
        means over units with the normal (delta-method) interval from the units' count,
        Σ and Σ² (:func:`~shopmetrics.stats.intervals.mean_ci`); the unit is the BUYER
        (a buyer's orders of the period summed first), or the visitor (0 for one who did
        not buy), never the order: a buyer's orders are not independent. Assumptions:
        buyers independent; refunds as recorded so far (an immature period's net value
        will still fall); a few dozen buyers for the normal reference with skewed
        amounts. ``payment_conversion`` and the repurchase rate: Wilson.
    """
    if orders is None and traffic is None:
        msg = (
            "visitor_value needs orders= (paid amounts), or traffic= an export with "
            "支付金额 (paid_amount) such as a 生意参谋 product export; neither was given"
        )
        raise SchemaError(msg)
    by = [by] if isinstance(by, str) else list(by)
    base = funnel(
        events,
        orders,
        traffic,
        by=by,
        freq=freq,
        start=start,
        end=end,
        tz=tz,
        columns=columns,
        detect=detect,
        total=bool(by) and events is not None,  # the store's distinct visitors, for decompose
    )
    table, store = _split_store(base.to_pandas(), by)
    _check_value_columns(table, orders)
    table = table[[c for c in (*by, *_KEEP) if c in table.columns]]
    t0, t1 = parse_bound(start, "start", tz), parse_bound(end, "end", tz)
    od = engine.load(orders, "orders", columns, tz) if orders is not None else None
    excluded = list(base.audit.excluded)
    if od is not None:  # the rows the funnel left out, left out of refunds and margins too
        od, _, left_out = paid_orders.usable(od, by)
        excluded += [e for e in left_out if e not in excluded]
    flags: list[Flag] = list(base.flags)
    keys = [*by, "period"]
    notes = list(base.audit.notes)
    if od is None:
        notes.append(_EXPORT_ONLY_NOTE)
    if od is not None and od.has("refund_amount"):
        table = _with_refunds(table, od, by, freq, t0, t1, notes)
        flags += refund_inflated(table, by)
    elif od is None:
        tr = engine.load(traffic, "traffic", columns, tz)
        if tr.has("refund_amount"):
            table = _with_export_refunds(table, tr, by, freq, t0, t1, notes)
    if spend is not None:
        sums = sum_spend(load_spend(spend, by, columns, tz), by, freq, t0, t1)
        table = table.merge(sums.table[[*keys, "cost"]], on=keys, how="left")
        table["cost"] = table["cost"].fillna(0.0)
        table["visitor_cost"] = intervals.rate(table["cost"], table["visitors"])
    table = _with_profit(table, od, margin, (by, freq, t0, t1), notes)
    if detect and od is not None:
        flags += aov_flags(od, by, freq, t0, t1)
    meta = {**base.meta, "margin": margin, "store": store}
    audit = Audit(base.audit.rows_in, tuple(excluded), tuple(dict.fromkeys(notes)))
    audit = engine.with_reads(audit, od)
    return VisitorValueResult(table, sort_flags(flags), audit, base.definition, meta)


_KEEP = (
    "period",
    "period_start",
    "visitors",
    "paid_buyers",
    "paid_orders",
    "paid_amount",
    "payment_conversion",
    "payment_conversion_ci_low",
    "payment_conversion_ci_high",
    "aov",
    "aov_ci_low",
    "aov_ci_high",
    "visitor_value",
    "visitor_value_ci_low",
    "visitor_value_ci_high",
    "small_sample",
    "paid_amount_sq",
)
"""The funnel's columns visitor value keeps, after the ``by`` columns."""


def _split_store(
    table: pd.DataFrame, by: list[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]] | None]:
    """The groups' rows, and the ``(all)`` rows' distinct counts by period (``None``
    without them)."""
    if not by or not (store := table[by[0]] == "(all)").any():
        return table, None
    cols = [c for c in ("visitors", "paid_buyers", "paid_amount") if c in table.columns]
    rows = table.loc[store, ["period", *cols]]
    totals = {str(r["period"]): {c: float(r[c]) for c in cols} for _, r in rows.iterrows()}
    return table[~store].reset_index(drop=True), totals


_EXPORT_ONLY_NOTE = (
    "from a traffic export without orders: paid_buyers and paid_amount are the export's "
    "(aov = 支付金额 / 支付买家数); aov and visitor value have no interval (that needs each "
    "buyer's amount: pass orders=), and the order checks (one buyer dominating, amounts in "
    "cents) were not run"
)


def _check_value_columns(table: pd.DataFrame, orders: Any) -> None:
    """Visitor value needs visitors and a paid amount: say which table lacks which."""
    if "visitors" not in table.columns:
        msg = (
            "visitor_value needs visitors: the traffic table has no 'visitors' column "
            "(生意参谋 商品访客数 / 访客数). Pass a traffic export with its visitor column, "
            "or events= (raw events)"
        )
        raise SchemaError(msg)
    if "paid_amount" not in table.columns:
        where = "orders have no paid amount" if orders is not None else "no orders= were given"
        msg = (
            f"visitor_value needs paid amounts: {where} and the traffic table has no "
            "'paid_amount' column (支付金额). Pass orders= or an export with 支付金额"
        )
        raise SchemaError(msg)


def _with_export_refunds(
    table: pd.DataFrame,
    tr: Table,
    by: list[str],
    freq: Freq,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    notes: list[str],
) -> pd.DataFrame:
    """Refunds from the export's own 成功退款金额 column, summed like its other amounts."""
    keys = [*by, "period"]
    frame = tr.frame.filter(
        engine.between("date", t0, t1), *(~nw.col(c).is_null() for c in ["date", *by])
    )
    sums = engine.collect(
        frame.with_columns(engine.period_key("date", freq).alias(PERIOD))
        .group_by([*by, PERIOD])
        .agg(nw.col("refund_amount").sum().alias("refund_amount")),
        "visitor_value:export_refunds",
    )
    sums["period"] = [engine.period_label(int(k), freq) for k in sums[PERIOD]]
    table = table.merge(sums.drop(columns=[PERIOD]), on=keys, how="left")
    table["refund_amount"] = table["refund_amount"].fillna(0.0)
    table["visitor_value_net"] = intervals.rate(
        table["paid_amount"] - table["refund_amount"], table["visitors"]
    )
    notes.append(
        "refund_amount: the export's 成功退款金额, refunds completed in the period (on orders "
        "paid in it or before); visitor_value is gross of refunds (as 生意参谋), "
        "visitor_value_net after them"
    )
    return table


def _with_refunds(
    table: pd.DataFrame,
    od: Table,
    by: list[str],
    freq: Freq,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    notes: list[str],
) -> pd.DataFrame:
    """Refunds on the amounts paid, visitor value net of them and (with ``refunded_at``
    and a ``freq``) the platform's 30-day refund rate."""
    keys = [*by, "period"]
    table = table.merge(paid_orders.refunds(od, by, freq, t0, t1), on=keys, how="left")
    table = table.merge(_net_squares(od, by, freq, t0, t1), on=keys, how="left")
    table["refund_amount"] = table["refund_amount"].fillna(0.0)
    table["net_amount_sq"] = table["net_amount_sq"].fillna(0.0)
    net, lo, hi = intervals.mean_ci(
        table["visitors"],
        table["paid_amount"] - table["refund_amount"],
        table["net_amount_sq"],
        scale="log",
    )
    table["visitor_value_net"] = net
    table["visitor_value_net_ci_low"], table["visitor_value_net_ci_high"] = np.maximum(lo, 0.0), hi
    notes.append(
        "refund_amount: refunds recorded so far on amounts paid in the period; "
        "visitor_value is gross of refunds (as 生意参谋), visitor_value_net after them"
    )
    if od.has("refunded_at") and od.has("paid_at") and freq is not None:
        lines = paid_orders.refund_lines_30d(od, by, table, freq)
        lines["refund_rate_30d"] = intervals.rate(lines["refunds_30d"], lines["paid_lines_30d"])
        # Wilson, treating lines as independent trials (a buyer's lines are not quite:
        # the interval is then a little narrow; see docs/statistics.md)
        lo, hi = intervals.proportion_ci(lines["refunds_30d"], lines["paid_lines_30d"])
        lines["refund_rate_30d_ci_low"], lines["refund_rate_30d_ci_high"] = lo, hi
        table = table.merge(lines, on=keys, how="left")
    return table


def _net_squares(
    od: Table, by: list[str], freq: Freq, t0: dt.datetime | None, t1: dt.datetime | None
) -> pd.DataFrame:
    """``net_amount_sq``: Σ over buyers of the square of each buyer's paid amount net of
    refunds in the period (the Σy² of the net visitor value's interval; in whole cents,
    summed as integers, so the same on every engine)."""
    amount, _ = cents_of("amount")
    refund, _ = cents_of("refund_amount")
    frame = paid_orders.paid_between(od, t0, t1).with_columns(
        engine.period_key("paid_at", freq).alias(PERIOD), (amount - refund).alias("_net")
    )
    per_buyer = frame.group_by([*by, PERIOD, "buyer_id"]).agg(nw.col("_net").sum())
    sums = engine.collect(
        per_buyer.group_by([*by, PERIOD]).agg(
            (nw.col("_net") * nw.col("_net")).sum().alias("_net2")
        ),
        "visitor_value:net_squares",
    )
    sums["period"] = [engine.period_label(int(k), freq) for k in sums[PERIOD]]
    sums["net_amount_sq"] = sums["_net2"].to_numpy(dtype="float64") / 10_000
    return sums[[*by, "period", "net_amount_sq"]]


def _with_profit(
    table: pd.DataFrame,
    od: Table | None,
    margin: float | Mapping[str, float] | None,
    when: tuple[list[str], Freq, dt.datetime | None, dt.datetime | None],
    notes: list[str],
) -> pd.DataFrame:
    """``gross_profit`` and ``visitor_profit`` (gross profit per visitor, less the cost
    per visitor when there is spend), order line by order line: the line's own ``cost``
    where the orders have it, else its product's margin where ``margin`` maps products to
    margins, else the store-wide margin (``margin`` as a number, or the margin of the
    lines with a cost) as a stated fallback."""
    by, freq, t0, t1 = when
    store = float(margin) if isinstance(margin, int | float) else None
    per_product = dict(margin) if isinstance(margin, Mapping) else {}
    if od is None or (store is None and not per_product and not od.has("cost")):
        return table
    sums = _profit_sums(od, by, freq, t0, t1, with_product=bool(per_product))
    if store is None and od.has("cost"):
        costed = float(sums["amount_costed"].sum())
        store = (costed - float(sums["cost"].sum())) / costed if costed else None
    rest = sums["amount"] - sums["amount_costed"]
    if per_product and "product_id" in sums.columns:
        m = sums["product_id"].astype(str).map(per_product)
        by_product = rest.where(m.notna(), 0.0)
        sums["profit"] = (sums["amount_costed"] - sums["cost"]) + by_product * m.fillna(0.0)
        rest = rest - by_product
    else:
        sums["profit"] = sums["amount_costed"] - sums["cost"]
        by_product = rest * 0.0
    sums["profit"] = sums["profit"] + rest * (store if store is not None else np.nan)
    notes.append(_profit_note(sums, by_product, rest, store, margin))
    keys = [*by, "period"]
    got = sums.groupby(keys, dropna=False, sort=False)["profit"].sum(min_count=1)
    table = table.merge(
        got.rename("gross_profit").reset_index(), on=keys, how="left", indicator="_sold"
    )
    none_paid = table["_sold"] == "left_only"  # no paid line: no profit; unknown stays NaN
    table["gross_profit"] = table["gross_profit"].mask(none_paid, 0.0)
    table = table.drop(columns=["_sold"])
    table["visitor_profit"] = intervals.rate(table["gross_profit"], table["visitors"])
    if "visitor_cost" in table.columns:
        table["visitor_profit"] = table["visitor_profit"] - table["visitor_cost"]
    return table


def _profit_sums(
    od: Table,
    by: list[str],
    freq: Freq,
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    *,
    with_product: bool,
) -> pd.DataFrame:
    """Paid amount, the amount of lines with a cost and their cost, per group, period (and
    product, for per-product margins), from the paid order lines."""
    keys = [*by, PERIOD]
    if with_product and od.has("product_id") and "product_id" not in by:
        keys.append("product_id")
    has_cost = od.has("cost")
    costed = ~nw.col("cost").is_null() if has_cost else nw.lit(value=False)
    cost = nw.when(costed).then(nw.col("cost")).otherwise(nw.lit(0.0)) if has_cost else nw.lit(0.0)
    frame = paid_orders.paid_between(od, t0, t1).with_columns(
        engine.period_key("paid_at", freq).alias(PERIOD),
        nw.when(costed).then(nw.col("amount")).otherwise(nw.lit(0.0)).alias("_ac"),
        cost.alias("_cost"),
    )
    # money summed as whole cents and a sub-cent rest: the same sums on every engine
    parts = {
        "amount": cents_of("amount"),
        "amount_costed": cents_of("_ac"),
        "cost": cents_of("_cost"),
    }
    frame = frame.with_columns(
        *(e.alias(f"_{c}_{i}") for c, pair in parts.items() for i, e in enumerate(pair))
    )
    sums = engine.collect(
        frame.group_by(keys).agg(*(nw.col(f"_{c}_{i}").sum() for c in parts for i in (0, 1))),
        "visitor_value:profit",
    )
    for c in parts:
        whole = sums.pop(f"_{c}_0").astype("float64").fillna(0.0)
        sub = sums.pop(f"_{c}_1").astype("float64").fillna(0.0)
        sums[c] = (whole + sub) / 100
    sums["period"] = [engine.period_label(int(k), freq) for k in sums[PERIOD]]
    return sums.drop(columns=[PERIOD])


def _profit_note(
    sums: pd.DataFrame, by_product: Any, rest: Any, store: float | None, margin: Any
) -> str:
    """How much of the paid amount each source of profit covers."""
    total = float(sums["amount"].sum())
    if not total:
        return "visitor_profit: no paid amount"
    costed = float(sums["amount_costed"].sum()) / total
    parts = [f"{costed:.1%} of the paid amount from the orders' own cost"]
    if float(by_product.sum()):
        parts.append(f"{float(by_product.sum()) / total:.1%} from the per-product margins given")
    left = float(rest.sum())
    if left and store is not None:
        given = "the margin given" if isinstance(margin, int | float) else "the lines with a cost"
        parts.append(
            f"{left / total:.1%} from the store-wide margin {store:.1%} ({given}), a fallback"
        )
    elif left:
        parts.append(
            f"{left / total:.1%} without a cost or a margin: their profit is unknown (NaN)"
        )
    return "visitor_profit: gross profit per visitor, " + "; ".join(parts)


def decompose(
    result: VisitorValueResult,
    current: str,
    previous: str,
    store: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Split a change of visitor value between two periods.

    Per group: ``Δlog(visitor value) = Δlog(conversion) + Δlog(aov)`` (columns
    ``dlog_visitor_value``, ``dlog_conv``, ``dlog_aov``), exact as ``visitor_value =
    conversion × aov``. Across groups (:func:`~shopmetrics.stats.mix.value_shift_share`)
    the shares are of **source visits**, visitors summed over the groups (a visitor of
    two sources in both: the only base on which shares add to one), and the change of
    their visitor value splits exactly into a mix effect ``Σ Δshare · mean vv`` and a
    rate effect ``Σ Δvv · mean share`` (symmetric shift-share). The store's distinct
    visitors (recounted by :func:`visitor_value` from events, ``meta["store"]``, or
    ``store`` = ``{period: {"visitors", "paid_buyers", "paid_amount"}}``) reconcile the
    two in an ``(overlap)`` row, so that the ``(total)`` row is the headline
    (paid amount / distinct visitors) and ``mix + rate + overlap`` its change; without
    them (a traffic export has no visitor ids) the total is the source visits' figure
    and ``attrs["base"]`` is ``"source_visits"`` (else ``"visitors"``): show it.

    Returns:
        One row per group (then ``(overlap)`` and ``(total)``): both periods' values
        and the parts.
    """
    import pandas as pd  # noqa: PLC0415

    by = list(result.meta.get("by", ()))
    t = result.table
    a, b = t[t["period"] == previous], t[t["period"] == current]
    if len(a) == 0 or len(b) == 0:
        msg = f"periods {previous!r} and {current!r} must both be in the result; it has {sorted(t['period'].unique())}"
        raise SchemaError(msg)
    cols = ["visitors", "payment_conversion", "aov", "visitor_value"]
    if by:
        m = a[[*by, *cols]].merge(b[[*by, *cols]], on=by, how="outer", suffixes=("_prev", "_cur"))
    else:
        m = pd.concat(
            [
                a[cols].add_suffix("_prev").reset_index(drop=True),
                b[cols].add_suffix("_cur").reset_index(drop=True),
            ],
            axis=1,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        m["dlog_visitor_value"] = np.log(m["visitor_value_cur"] / m["visitor_value_prev"])
        m["dlog_conv"] = np.log(m["payment_conversion_cur"] / m["payment_conversion_prev"])
        m["dlog_aov"] = np.log(m["aov_cur"] / m["aov_prev"])
    if by:
        m = mix.value_shift_share(m, by, _distinct(result, (previous, current), store))
    else:
        m.attrs["base"] = "visitors"
    return m


def _distinct(
    result: VisitorValueResult,
    periods: tuple[str, str],
    store: Mapping[str, Mapping[str, float]] | None,
) -> tuple[Mapping[str, float], Mapping[str, float]] | None:
    """The store's distinct counts in both periods (``store``, else ``meta["store"]``)."""
    known = store if store is not None else result.meta.get("store") or {}
    if not all(p in known for p in periods):
        return None
    return known[periods[0]], known[periods[1]]


def repurchase(
    orders: Any,
    freq: Freq = "M",
    by: Sequence[str] | str = (),
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    lookback_days: int = 365,
    *,
    history_start: Any = None,
    min_history: float = 1.0,
) -> pd.DataFrame:
    """Repurchase rate by the 老买家 rule, per period, with how much history it rests on.

    ``repurchase_rate`` = paid buyers of the period who had also paid within the
    ``lookback_days`` before the period's start / paid buyers of the period.
    ``returning_share`` is the same ratio on paid amount.

    The look-back can only see the orders given: ``history_days`` is how many of the
    ``lookback_days`` before the period the orders cover (from the first paid order, or
    a declared ``history_start``), ``history_coverage`` the share of the look-back known
    (all of it with ``history_start``: nothing was sold before it). Where it is under
    ``min_history`` the rate cannot be known (a buyer may have paid before the data
    begins): ``repurchase_rate``, its interval and ``returning_share`` are NaN,
    ``old_buyers`` is a lower bound, and a ``short_history`` flag (in
    ``.attrs["flags"]``) names the periods. Pass ``history_start`` (e.g. the shop's
    opening day) when nothing was sold before it, or ``min_history=0`` to keep the
    lower bounds.

    References:
        Metric dictionary, "Value" (复购率, plnmw.com).
    """
    by = [by] if isinstance(by, str) else list(by)
    od = engine.load(orders, "orders", columns, tz)
    od.require("buyer_id", "paid_at", "amount", purpose="repurchase")
    cents, rest = cents_of("amount")  # money summed as whole cents: the same on every engine
    paid = od.frame.filter(~nw.col("paid_at").is_null()).with_columns(
        engine.period_key("paid_at", freq).alias(PERIOD), cents.alias("_c"), rest.alias("_r")
    )
    keys = [*by, PERIOD]
    buyers = engine.collect(
        paid.group_by([*keys, "buyer_id"])
        .agg(nw.col("_c").sum(), nw.col("_r").sum())
        .group_by(keys)
        .agg(nw.len().alias("paid_buyers"), nw.col("_c").sum(), nw.col("_r").sum()),
        "repurchase:buyers",
    )
    buyers = _amount_from_cents(buyers, "paid_amount")
    import pandas as pd  # noqa: PLC0415

    rows = [_old_buyers(od, paid, by, freq, key, lookback_days) for key in _keys(buyers)]
    old_all = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=[*keys, "old_buyers", "old_amount"])
    )
    out = buyers.merge(old_all, on=keys, how="left").fillna({"old_buyers": 0, "old_amount": 0.0})
    out["repurchase_rate"] = intervals.rate(out["old_buyers"], out["paid_buyers"])
    lo, hi = intervals.proportion_ci(out["old_buyers"], out["paid_buyers"])
    out["repurchase_rate_ci_low"], out["repurchase_rate_ci_high"] = lo, hi
    out["returning_share"] = intervals.rate(out["old_amount"], out["paid_amount"])
    out = out.sort_values(keys).reset_index(drop=True)
    out.insert(len(by), "period", [engine.period_label(int(k), freq) for k in out[PERIOD]])
    declared = parse_bound(history_start, "history_start", tz)
    first = declared or _first_paid(od)
    return _history_checked(out, freq, first, lookback_days, min_history, declared is not None)


def _keys(buyers: pd.DataFrame) -> list[int]:
    return sorted(int(k) for k in buyers[PERIOD].unique())


def _old_buyers(
    od: Table, paid: Any, by: list[str], freq: Freq, key: int, lookback_days: int
) -> pd.DataFrame:
    """Buyers of period ``key`` who had paid within ``lookback_days`` before its start."""
    start = engine.period_start(key, freq)
    history = engine.distinct(
        od.frame.filter(
            engine.between("paid_at", start - dt.timedelta(days=lookback_days), start)
        ).select("buyer_id")
    )
    cur = (
        paid.filter(nw.col(PERIOD) == key)
        .group_by([*by, "buyer_id"])
        .agg(nw.col("_c").sum(), nw.col("_r").sum())
    )
    old = cur.join(history, on="buyer_id", how="inner")
    sums = (nw.len().alias("old_buyers"), nw.col("_c").sum(), nw.col("_r").sum())
    agg = old.group_by(by).agg(*sums) if by else old.select(*sums)
    got = _amount_from_cents(engine.collect(agg, "repurchase:old"), "old_amount")
    got[PERIOD] = key
    return got


def _first_paid(od: Table) -> dt.datetime | None:
    """The first payment in the orders: where the history they can show begins."""
    return _paid_bound(od, "min")


def _last_paid(od: Table) -> dt.datetime | None:
    """The last payment in the orders: where what they can show ends."""
    return _paid_bound(od, "max")


def _paid_bound(od: Table, how: str) -> dt.datetime | None:
    col = nw.col("paid_at")
    got = engine.collect(
        od.frame.filter(~col.is_null()).select(
            (col.min() if how == "min" else col.max()).alias("t")
        ),
        f"repurchase:{how}_paid",
    )
    if len(got) == 0 or got["t"].isna().all():
        return None
    return got["t"].dt.to_pydatetime()[0]  # type: ignore[no-any-return]


def _history_checked(
    out: pd.DataFrame,
    freq: Freq,
    first: dt.datetime | None,
    lookback_days: int,
    min_history: float,
    declared: bool,
) -> pd.DataFrame:
    """``history_days`` / ``history_coverage`` per period; rates it cannot know set to NaN."""
    starts = [engine.period_start(int(k), freq) for k in out[PERIOD]]
    if first is None:
        days = [0] * len(out)
    else:
        day0 = first.date()
        days = [min(lookback_days, max(0, (s.date() - day0).days)) for s in starts]
    out["history_days"] = days
    out["history_coverage"] = [
        1.0 if declared or not lookback_days else d / lookback_days for d in days
    ]  # before a declared history_start nothing was sold: known, and empty
    short = out["history_coverage"] < min_history
    blind = ["repurchase_rate", "repurchase_rate_ci_low", "repurchase_rate_ci_high"]
    out.loc[short, [*blind, "returning_share"]] = float("nan")
    out = out.drop(columns=[PERIOD])
    if short.any():
        out.attrs["flags"] = (_short_history_flag(out[short], lookback_days, first),)
    return out


def _short_history_flag(short: pd.DataFrame, lookback_days: int, first: dt.datetime | None) -> Flag:
    periods = sorted(set(map(str, short["period"])))
    since = f"the orders begin on {first.date()}" if first is not None else "there are no payments"
    return Flag(
        "short_history",
        "warning",
        f"repurchase: {since}, so the {lookback_days}-day look-back of {len(periods)} "
        f"period(s) ({', '.join(periods[:6])}{' ...' if len(periods) > 6 else ''}) is not "
        "covered and their repurchase rate cannot be known (NaN; old_buyers is a lower "
        "bound). Pass orders reaching back further, history_start= when nothing was sold "
        "before it, or a shorter lookback_days.",
        table="orders",
        column="paid_at",
        subject={"period": periods},
        n_rows=len(short),
        evidence={
            "lookback_days": lookback_days,
            "history_days": {
                str(p): int(d) for p, d in zip(short["period"], short["history_days"], strict=True)
            },
        },
    )


def _amount_from_cents(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``_c`` (whole cents) and ``_r`` (sub-cent rest) collected as one amount column."""
    cents = table.pop("_c").fillna(0).astype("int64")
    rest = table.pop("_r").fillna(0.0).astype("float64")
    table[name] = (cents + rest) / 100
    return table


def cohorts(
    orders: Any,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    *,
    history_start: Any = None,
    new_buyer_days: int = 365,
) -> pd.DataFrame:
    """Cohort table: first-purchase month × months since, with buyers and revenue.

    A cohort is the month of a buyer's first payment *in the orders given*: a buyer who
    paid before the orders begin is counted as new. ``history_days`` is how many days of
    orders precede the cohort month (from the first paid order); where that is under
    ``new_buyer_days`` (``history_coverage`` < 1) the cohort may hold returning buyers and a ``short_history`` flag in
    ``.attrs["flags"]`` names it (``history_start``: nothing was sold before that day,
    so every cohort is known). ``month_coverage`` is the share of the month observed
    (from the first to the last paid order): a month still running, or the month the
    orders begin in, has fewer buyers than the whole month would.

    Returns:
        Long form: ``cohort`` (first paid month), ``months_since``, ``buyers`` (distinct
        buyers paying in that month), ``revenue``, ``retention`` (buyers / cohort size),
        ``history_days``, ``history_coverage``, ``month_coverage``.
    """
    od = engine.load(orders, "orders", columns, tz)
    od.require("buyer_id", "paid_at", "amount", purpose="cohorts")
    paid = od.frame.filter(~nw.col("paid_at").is_null()).with_columns(
        engine.period_key("paid_at", "M").alias("m")
    )
    first = paid.group_by("buyer_id").agg(nw.col("m").min().alias("cohort_m"))
    joined = paid.join(first, on="buyer_id", how="inner").with_columns(
        (nw.col("m") - nw.col("cohort_m")).alias("months_since")
    )
    out = (
        engine.collect(
            joined.group_by("cohort_m", "months_since").agg(
                nw.col("buyer_id").n_unique().alias("buyers"),
                nw.col("amount").sum().alias("revenue"),
            ),
            "cohorts",
        )
        .sort_values(["cohort_m", "months_since"])
        .reset_index(drop=True)
    )
    out["buyers"] = out["buyers"].astype("int64")  # the same type whatever the engine
    size = out[out["months_since"] == 0].set_index("cohort_m")["buyers"]
    out["retention"] = out["buyers"] / out["cohort_m"].map(size).astype(float)
    out.insert(0, "cohort", [engine.period_label(int(k), "M") for k in out["cohort_m"]])
    declared = parse_bound(history_start, "history_start", tz)
    out = _cohort_coverage(out, declared or _first_paid(od), _last_paid(od), new_buyer_days)
    if declared is not None:  # nothing sold before it: every first purchase is known
        out["history_coverage"] = 1.0
        out.attrs.pop("flags", None)
    return out


def _cohort_coverage(
    out: pd.DataFrame, first: dt.datetime | None, last: dt.datetime | None, new_buyer_days: int
) -> pd.DataFrame:
    """History before each cohort, the share of each month observed, the flag."""
    starts = [engine.period_start(int(k), "M").date() for k in out["cohort_m"]]
    day0 = first.date() if first is not None else None
    out["history_days"] = [max(0, (s - day0).days) if day0 else 0 for s in starts]
    out["history_coverage"] = (out["history_days"] / new_buyer_days).clip(upper=1.0)
    month = out["cohort_m"] + out["months_since"]
    cover = []
    for k in month.astype(int):
        s, e = engine.period_start(k, "M"), engine.period_end(k, "M")
        lo = max(s, first) if first is not None else s
        seen = (min(last, e) - lo).total_seconds() if last is not None else 0.0
        cover.append(max(0.0, min(1.0, seen / (e - s).total_seconds())))
    out["month_coverage"] = cover
    out = out.drop(columns=["cohort_m"])
    short = out[(out["months_since"] == 0) & (out["history_coverage"] < 1)]
    if len(short):
        names = sorted(set(map(str, short["cohort"])))
        out.attrs["flags"] = (
            Flag(
                "short_history",
                "warning",
                f"cohorts: {len(names)} cohort(s) ({', '.join(names[:6])}"
                f"{' ...' if len(names) > 6 else ''}) have under {new_buyer_days} days of "
                "orders before them, so some of their 'new' buyers may have paid before the "
                "orders begin. Pass orders reaching back further, or history_start= when "
                "nothing was sold before it.",
                table="orders",
                column="paid_at",
                subject={"cohort": names},
                n_rows=len(short),
                evidence={
                    "new_buyer_days": new_buyer_days,
                    "history_days": dict(
                        zip(short["cohort"], map(int, short["history_days"]), strict=True)
                    ),
                },
            ),
        )
    return out
