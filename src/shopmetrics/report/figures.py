"""The figures the weekly report shows in several places, computed once.

Every section of the weekly report reads its store-level figures from one
:class:`StoreWeek` (the store's funnel, this week and the week before) and its
per-source figures from one :class:`SourceWeek` (the traffic-source result), so a
figure shown twice is the same number twice.

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

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STORE_ROW", "UNCREDITED_ROW", "StoreWeek", "mix_table", "value_table"]

STORE_ROW = "(store)"
"""The row of a decomposition that holds the store's own figure (the headline's)."""

UNCREDITED_ROW = "(not credited to one source)"
"""The row for what no single source holds: buyers credited to several sources or none."""


@dataclasses.dataclass(frozen=True)
class StoreWeek:
    """The store's figures of two weeks, as the headline shows them.

    Attributes:
        week: This week's label.
        previous_week: The week before's label, or ``None``.
        rows: ``{period: {metric: value}}`` from the store's funnel (one row a week).
    """

    week: str
    previous_week: str | None
    rows: Mapping[str, Mapping[str, float]]

    def get(self, metric: str, period: str | None = None) -> float | None:
        """A figure of ``period`` (this week by default); ``None`` when absent."""
        row = self.rows.get(period or self.week, {})
        v = row.get(metric)
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _pair(per: pd.DataFrame, by: str, previous: str, current: str, cols: list[str]) -> Any:
    a = per[per["period"] == previous].set_index(by)[cols]
    b = per[per["period"] == current].set_index(by)[cols]
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
