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
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["VisitorValueResult", "cohorts", "decompose", "repurchase", "visitor_value"]


@dataclasses.dataclass(frozen=True, repr=False)
class VisitorValueResult(Result):
    """Visitor value, AOV and their parts per group and period.

    Columns: ``visitors``, ``paid_buyers``, ``paid_amount``, ``payment_conversion``
    (+ interval), ``aov`` (+ interval), ``visitor_value`` (+ interval), ``refund_amount``
    (refunds so far on the amount paid in the period), ``visitor_value_net``,
    ``refund_rate_30d`` (refunded lines / paid lines in the 30 days to the period end, the
    platform's definition), and with spend ``cost``, ``visitor_cost``; with a margin
    ``visitor_profit``.
    """

    kind = "visitor_value"

    def display_columns(self) -> Sequence[str]:
        """Headline columns."""
        return [c for c in self.table.columns if not c.endswith(("_ci_low", "_ci_high"))]

    def decompose(self, current: str, previous: str) -> pd.DataFrame:
        """Change of visitor value between two periods; see :func:`decompose`."""
        return decompose(self, current, previous)


@engine.records_collects
def visitor_value(
    events: Any = None,
    orders: Any = None,
    spend: Any = None,
    traffic: Any = None,
    by: Sequence[str] | str = (),
    freq: Freq = None,
    margin: float | None = None,
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
        margin: Gross margin as a fraction of sales (or use the orders' ``cost`` column)
            for ``visitor_profit``.
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
        refund rate worked example (10+15)/(125+112) = 10.5%). Intervals: the normal
        interval of a mean over buyers (aov) and over visitors (visitor value, zero for
        non-buyers) from counts, sums and sums of squares.
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
    )
    table = base.to_pandas()
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
    table = _with_profit(table, od, margin, notes)
    if detect and od is not None:
        flags += aov_flags(od, by, freq, t0, t1)
    meta = {**base.meta, "margin": margin}
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
)
"""The funnel's columns visitor value keeps, after the ``by`` columns."""


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
    table["refund_amount"] = table["refund_amount"].fillna(0.0)
    table["visitor_value_net"] = intervals.rate(
        table["paid_amount"] - table["refund_amount"], table["visitors"]
    )
    notes.append(
        "refund_amount: refunds recorded so far on amounts paid in the period; "
        "visitor_value is gross of refunds (as 生意参谋), visitor_value_net after them"
    )
    if od.has("refunded_at") and od.has("paid_at") and freq is not None:
        lines = paid_orders.refund_lines_30d(od, by, table, freq)
        lines["refund_rate_30d"] = intervals.rate(lines["refunds_30d"], lines["paid_lines_30d"])
        table = table.merge(lines, on=keys, how="left")
    return table


def _with_profit(
    table: pd.DataFrame, od: Table | None, margin: float | None, notes: list[str]
) -> pd.DataFrame:
    """``visitor_profit``: visitor value times the margin (given, or the store's from the
    orders' cost column), less the cost per visitor when there is spend."""
    profit_share = None
    if margin is not None:
        profit_share = float(margin)
    elif od is not None and od.has("cost"):
        profit_share = paid_orders.store_margin(od)
        notes.append(
            f"visitor_profit from the orders' cost column (store-wide margin {profit_share:.1%})"
            if profit_share is not None
            else "no paid amount for a margin"
        )
    if profit_share is not None:
        table["visitor_profit"] = table["visitor_value"] * profit_share
        if "visitor_cost" in table.columns:
            table["visitor_profit"] = table["visitor_profit"] - table["visitor_cost"]
    return table


def decompose(result: VisitorValueResult, current: str, previous: str) -> pd.DataFrame:
    """Split a change of visitor value between two periods.

    Per group: ``Δlog(visitor value) = Δlog(conversion) + Δlog(aov)`` (columns ``dlog_visitor_value``,
    ``dlog_conv``, ``dlog_aov``) (exact, as
    ``visitor_value = conversion × aov``). For the store total across groups,
    ``VV = Σ share_g · vv_g`` with ``share_g`` the group's share of visitors, and the
    change splits exactly into a mix effect ``Σ Δshare · mean vv`` and a rate effect
    ``Σ Δvv · mean share`` (symmetric shift-share), shown as the ``(total)`` row.

    Returns:
        One row per group (and ``(total)``): both periods' values and the parts.
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
        va, vb = (
            m["visitors_prev"].fillna(0).to_numpy(float),
            m["visitors_cur"].fillna(0).to_numpy(float),
        )
        sa, sb = va / va.sum(), vb / vb.sum()
        xa, xb = (
            m["visitor_value_prev"].fillna(0).to_numpy(float),
            m["visitor_value_cur"].fillna(0).to_numpy(float),
        )
        m["mix_effect"] = (sb - sa) * (xa + xb) / 2
        m["rate_effect"] = (xb - xa) * (sa + sb) / 2
        total: dict[str, Any] = dict.fromkeys(by, "(total)")
        total.update(
            {
                "visitor_value_prev": float((sa * xa).sum()),
                "visitor_value_cur": float((sb * xb).sum()),
                "mix_effect": float(m["mix_effect"].sum()),
                "rate_effect": float(m["rate_effect"].sum()),
            }
        )
        m = pd.concat([m, pd.DataFrame([total])], ignore_index=True)
    return m


def repurchase(
    orders: Any,
    freq: Freq = "M",
    by: Sequence[str] | str = (),
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    lookback_days: int = 365,
) -> pd.DataFrame:
    """Repurchase rate by the 老买家 rule, per period.

    ``repurchase_rate`` = paid buyers of the period who had also paid within the
    ``lookback_days`` before the period's start / paid buyers of the period.
    ``returning_share`` is the same ratio on paid amount.

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
    rows = []
    for key in sorted(int(k) for k in buyers[PERIOD].unique()):
        start = engine.period_start(key, freq)
        history = (
            od.frame.filter(
                engine.between("paid_at", start - dt.timedelta(days=lookback_days), start)
            )
            .select("buyer_id")
            .unique()
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
        rows.append(got)
    import pandas as pd  # noqa: PLC0415

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
    return out.drop(columns=[PERIOD])


def _amount_from_cents(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``_c`` (whole cents) and ``_r`` (sub-cent rest) collected as one amount column."""
    cents = table.pop("_c").fillna(0).astype("int64")
    rest = table.pop("_r").fillna(0.0).astype("float64")
    table[name] = (cents + rest) / 100
    return table


def cohorts(
    orders: Any, columns: Mapping[str, str] | None = None, tz: str | None = None
) -> pd.DataFrame:
    """Cohort table: first-purchase month × months since, with buyers and revenue.

    Returns:
        Long form: ``cohort`` (first paid month), ``months_since``, ``buyers`` (distinct
        buyers paying in that month), ``revenue``, ``retention`` (buyers / cohort size).
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
    size = out[out["months_since"] == 0].set_index("cohort_m")["buyers"]
    out["retention"] = out["buyers"] / out["cohort_m"].map(size).astype(float)
    out.insert(0, "cohort", [engine.period_label(int(k), "M") for k in out["cohort_m"]])
    return out.drop(columns=["cohort_m"])
