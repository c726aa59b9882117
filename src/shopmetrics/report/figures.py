"""The figures the weekly report shows in several places, computed once.

Every section of the weekly report reads its store-level figures from the store's weekly
funnel (this week and the week before) and its per-source figures from the one
traffic-source result, so a figure shown twice is the same number twice. Here: the
metrics-as-rows table (:func:`metric_rows`), the top products (:func:`top_products`) and
the traffic-mix decompositions (:func:`mix_table`, :func:`value_table`).

The traffic-mix decompositions here use the store's own base: a source's share is its
visitors over the store's **de-duplicated** visitors (the share the traffic table shows),
and the store's figure is ``Σ share · source rate`` plus what no single source holds
(buyers credited to several sources or to none). The ``(store)`` row therefore equals the
headline, and the parts add up to the headline's change exactly:

``conv = B / V = Σ_s (V_s / V)(b_s / V_s) + (B − Σ_s b_s) / V``

and the symmetric shift-share of ``Σ s·r`` (Δ = Σ Δs·r̄ + Σ Δr·s̄, exact), e.g.
Kitagawa (1955), "Components of a difference between two rates", JASA 50: 1168-1194.

Examples:
    >>> import pandas as pd
    >>> per = pd.DataFrame({"source": ["a", "b", "a", "b"], "period": ["W1", "W1", "W2", "W2"],
    ...                     "visitors": [100, 100, 300, 100], "buyers": [10, 2, 30, 2]})
    >>> store = {"W1": (200, 12), "W2": (400, 32)}
    >>> t = mix_table(per, store, "W1", "W2", num="buyers")
    >>> round(float(t.iloc[-1]["rate_cur"]), 4), round(float(t.iloc[-1]["rate_prev"]), 4)
    (0.08, 0.06)
    >>> round(float(t["mix_effect"].iloc[:-1].sum() + t["rate_effect"].iloc[:-1].sum()), 4)
    0.02
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.metrics import COUNT_ORDER, PROPORTIONS

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.report.model import Headline

__all__ = [
    "STORE_ROW",
    "UNCREDITED_ROW",
    "metric_rows",
    "mix_table",
    "top_products",
    "value_table",
]

STORE_ROW = "(store)"
"""The row of a decomposition that holds the store's own figure (the headline's)."""

UNCREDITED_ROW = "(not credited to one source)"
"""The row for what no single source holds: buyers credited to several sources or none."""


def _pair(per: pd.DataFrame, by: str, previous: str, current: str, cols: list[str]) -> Any:
    narrow = per[["period", by, *cols]]  # the few columns read, not the traffic table's 50
    a = narrow[narrow["period"] == previous].set_index(by)[cols]
    b = narrow[narrow["period"] == current].set_index(by)[cols]
    return a.add_suffix("_prev").join(b.add_suffix("_cur"), how="outer").fillna(0.0).sort_index()


def _rates(num: Any, den: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def mix_table(
    per_source: pd.DataFrame,
    store: Mapping[str, tuple[float, float]],
    previous: str,
    current: str,
    *,
    by: str = "source",
    num: str = "attributed_buyers",
) -> pd.DataFrame:
    """Payment conversion split into traffic mix and each source's own rate, on the store's base.

    Args:
        per_source: One row per source and period with ``visitors`` and ``num``.
        store: ``{period: (de-duplicated visitors, store buyers)}``: the headline's counts.
        previous: The earlier period.
        current: The later period.
        by: The segment column.
        num: The per-source buyer count.

    Returns:
        One row per source, then ``(not credited to one source)`` and ``(store)``: shares of
        the store's visitors, rates, ``mix_effect`` and ``rate_effect``; the ``(store)``
        row's rates are the headline's and its effects add to the headline's change.
    """
    import pandas as pd  # noqa: PLC0415

    m = _pair(per_source, by, previous, current, ["visitors", num])
    (va, ba), (vb, bb) = store[previous], store[current]
    sa, sb = m["visitors_prev"].to_numpy(float) / va, m["visitors_cur"].to_numpy(float) / vb
    ra = _rates(m[f"{num}_prev"].to_numpy(float), m["visitors_prev"].to_numpy(float))
    rb = _rates(m[f"{num}_cur"].to_numpy(float), m["visitors_cur"].to_numpy(float))
    # a source absent in one week carries its rate from the other (its share there is 0)
    ra, rb = np.where(np.isnan(ra), rb, ra), np.where(np.isnan(rb), ra, rb)
    ra, rb = np.nan_to_num(ra), np.nan_to_num(rb)
    mix = (sb - sa) * (ra + rb) / 2
    rate = (rb - ra) * (sa + sb) / 2
    ua = (ba - float(m[f"{num}_prev"].sum())) / va
    ub = (bb - float(m[f"{num}_cur"].sum())) / vb
    out = pd.DataFrame(
        {
            by: [str(s) for s in m.index],
            "share_prev": sa,
            "share_cur": sb,
            "rate_prev": ra,
            "rate_cur": rb,
            "mix_effect": mix,
            "rate_effect": rate,
        }
    )
    extra = pd.DataFrame(
        [
            {by: UNCREDITED_ROW, "rate_prev": ua, "rate_cur": ub, "rate_effect": ub - ua},
            {
                by: STORE_ROW,
                "rate_prev": ba / va,
                "rate_cur": bb / vb,
                "mix_effect": float(mix.sum()),
                "rate_effect": float(rate.sum()) + (ub - ua),
            },
        ]
    )
    return pd.concat([out, extra], ignore_index=True)


def value_table(
    per_source: pd.DataFrame,
    store: Mapping[str, tuple[float, float, float]],
    previous: str,
    current: str,
    *,
    by: str = "source",
    buyers: str = "attributed_buyers",
    amount: str = "attributed_amount",
) -> pd.DataFrame:
    """Visitor value per source (= conversion × AOV) and the store's change split into traffic
    mix and the sources' own visitor value, on the store's base.

    Per source ``Δlog vv = Δlog conversion + Δlog aov`` (exact, ``vv = conv × aov``); for
    the store ``VV = A / V = Σ (V_s / V)(A_s / V_s) + (A − Σ A_s) / V``.

    Args:
        per_source: One row per source and period with ``visitors``, ``buyers``, ``amount``.
        store: ``{period: (de-duplicated visitors, store buyers, store paid amount)}``.
        previous: The earlier period.
        current: The later period.
        by: The segment column.
        buyers: The per-source buyer count.
        amount: The per-source paid amount.

    Returns:
        One row per source, then ``(not credited to one source)`` and ``(store)``.
    """
    import pandas as pd  # noqa: PLC0415

    m = _pair(per_source, by, previous, current, ["visitors", buyers, amount])
    out: dict[str, Any] = {by: [str(s) for s in m.index]}
    for side in ("prev", "cur"):
        v = m[f"visitors_{side}"].to_numpy(float)
        b, a = m[f"{buyers}_{side}"].to_numpy(float), m[f"{amount}_{side}"].to_numpy(float)
        out[f"visitors_{side}"] = v
        out[f"payment_conversion_{side}"] = _rates(b, v)
        out[f"aov_{side}"] = _rates(a, b)
        out[f"visitor_value_{side}"] = _rates(a, v)
    t = pd.DataFrame(out)
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in ("visitor_value", "payment_conversion", "aov"):
            short = {"visitor_value": "visitor_value", "payment_conversion": "conv"}.get(name, name)
            t[f"dlog_{short}"] = np.log(t[f"{name}_cur"] / t[f"{name}_prev"])
    (va, ba, aa), (vb, bb, ab) = store[previous], store[current]
    sa, sb = t["visitors_prev"].to_numpy() / va, t["visitors_cur"].to_numpy() / vb
    xa = np.nan_to_num(t["visitor_value_prev"].to_numpy(float))
    xb = np.nan_to_num(t["visitor_value_cur"].to_numpy(float))
    t["mix_effect"] = (sb - sa) * (xa + xb) / 2
    t["rate_effect"] = (xb - xa) * (sa + sb) / 2
    ua = (aa - float(m[f"{amount}_prev"].sum())) / va
    ub = (ab - float(m[f"{amount}_cur"].sum())) / vb
    extra = pd.DataFrame(
        [
            {by: UNCREDITED_ROW, "visitor_value_prev": ua, "visitor_value_cur": ub,
             "rate_effect": ub - ua},
            {
                by: STORE_ROW,
                "visitors_prev": va,
                "visitors_cur": vb,
                "payment_conversion_prev": ba / va,
                "payment_conversion_cur": bb / vb,
                "aov_prev": aa / ba if ba else np.nan,
                "aov_cur": ab / bb if bb else np.nan,
                "visitor_value_prev": aa / va,
                "visitor_value_cur": ab / vb,
                "mix_effect": float(t["mix_effect"].sum()),
                "rate_effect": float(t["rate_effect"].sum()) + (ub - ua),
            },
        ]
    )  # fmt: skip
    return pd.concat([t, extra], ignore_index=True)


_MONEY = ("paid_amount", "aov", "visitor_value")

VALUE_EFFECTS = {
    "mix_effect": "mix_effect_value",
    "rate_effect": "rate_effect_value",
    "overlap_effect": "overlap_effect_value",
}
"""The visitor-value decomposition's effects renamed for display: they are yuan per visitor
(the conversion mix table's are percentage points, ``*_rate``)."""
_SKIP = ("sessions", "converting_sessions", "session_conversion")


def _fmt(metric: str) -> str:
    base = metric.split("_without", maxsplit=1)[0].split("_deposit_as_paid", maxsplit=1)[0]
    if base in PROPORTIONS:
        return "percent"
    return "money" if base in _MONEY else "integer"


def metric_rows(
    week_table: pd.DataFrame,
    week: str,
    comparison: pd.DataFrame | None,
    corrected: Sequence[Headline] = (),
) -> pd.DataFrame:
    """The store's figures as rows: this week | last week | change | interval | significant.

    Args:
        week_table: The store's funnel, one row a week (this week and the one before).
        week: This week's label.
        comparison: The week-over-week comparison (``ComparisonResult.to_pandas()``): its
            interval of the change, adjusted p-value and verdict; metrics it did not test
            have none.
        corrected: Corrected headline figures: each goes right after the metric it corrects.

    Returns:
        One row per metric in the funnel's display order: ``metric``, ``this_week``,
        ``last_week``, ``change``, ``change_ci_low``, ``change_ci_high``, ``p_adjusted``,
        ``significant``, and ``fmt`` (``"percent"``, ``"money"`` or ``"integer"``: how the
        renderers show the row's figures).
    """
    import pandas as pd  # noqa: PLC0415

    cur = week_table[week_table["period"] == week].iloc[0]
    prev_rows = week_table[week_table["period"] != week]
    prev = prev_rows.iloc[0] if len(prev_rows) else None
    tested = comparison.set_index("metric") if comparison is not None else None
    rows = []
    for m in (k for k in COUNT_ORDER if k in week_table.columns and k not in _SKIP):
        t: Any = tested.loc[m] if tested is not None and m in tested.index else None
        last = None if prev is None else float(prev[m])
        rows.append(
            {
                "metric": m,
                "this_week": float(cur[m]),
                "last_week": last,
                "change": None if last is None else float(cur[m]) - last,
                "change_ci_low": None if t is None else float(t["diff_ci_low"]),
                "change_ci_high": None if t is None else float(t["diff_ci_high"]),
                "p_adjusted": None if t is None else float(t["p_adjusted"]),
                "significant": None if t is None else bool(t["significant"]),
                "fmt": _fmt(m),
            }
        )
        rows.extend(
            {
                "metric": h.name,
                "this_week": h.value,
                "last_week": h.previous,
                "change": h.change,
                "significant": h.significant,
                "fmt": _fmt(m),
            }
            for h in corrected
            if h.name != m and h.name.startswith(m + "_")
        )
    return pd.DataFrame(rows, columns=_ROW_COLUMNS)


_ROW_COLUMNS = [
    "metric",
    "this_week",
    "last_week",
    "change",
    "change_ci_low",
    "change_ci_high",
    "p_adjusted",
    "significant",
    "fmt",
]


def top_products(by_product: pd.DataFrame, week: str, top: int = 10) -> pd.DataFrame:
    """This week's products with the largest paid amount, with last week's beside them.

    Args:
        by_product: The funnel by ``product_id``, one row per product and week.
        week: This week's label.
        top: How many products.

    Returns:
        ``product_id``, ``visitors``, ``paid_buyers``, ``payment_conversion`` (with its
        interval), ``order_conversion``, ``paid_amount``, ``paid_amount_prev`` and
        ``paid_amount_change``, largest paid amount first (ties by product id).
    """
    cols = [
        c
        for c in (
            "product_id",
            "visitors",
            "paid_buyers",
            "payment_conversion",
            "payment_conversion_ci_low",
            "payment_conversion_ci_high",
            "order_conversion",
            "paid_amount",
        )
        if c in by_product.columns
    ]
    cur = by_product[by_product["period"] == week][cols]
    if "paid_amount" not in cur.columns:
        return cur.head(0)
    prev = by_product[by_product["period"] != week][["product_id", "paid_amount"]]
    out = cur.merge(prev, on="product_id", how="left", suffixes=("", "_prev"))
    out["paid_amount_prev"] = out["paid_amount_prev"].fillna(0.0)
    out["paid_amount_change"] = out["paid_amount"] - out["paid_amount_prev"]
    out = out.sort_values(["paid_amount", "product_id"], ascending=[False, True], kind="stable")
    return out.head(top).reset_index(drop=True)
