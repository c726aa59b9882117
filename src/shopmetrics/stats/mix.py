"""Shift-share decomposition of a pooled rate's change into traffic mix and segment rates.

The segments' shares are of **source visits** (visitor × segment pairs: a visitor who
came through two sources is in both), the only base on which shares add to one. The
store's headline is on its distinct visitors instead; where those are known (the
funnel's ``(all)`` rows, or ``store=``) the gap between the two is an explicit
:data:`OVERLAP_ROW` line, so that the ``(total)`` row is the headline and
``mix_effect + rate_effect + overlap_effect`` is its change, exactly. The result's
``attrs["base"]`` says which: ``"visitors"`` (the total is the headline's) or
``"source_visits"`` (no distinct count was given: the total is the pooled rate of the
source visits, not the store's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OVERLAP_ROW", "mix_decomposition", "value_shift_share"]

OVERLAP_ROW = "(overlap)"
"""The line from the source visits' figure to the store's distinct-visitor figure."""


def _distinct(
    table: pd.DataFrame,
    by: str,
    periods: tuple[str, str],
    cols: tuple[str, str],
    store: Mapping[str, tuple[float, float]] | None,
) -> list[tuple[float, float]] | None:
    """The store's distinct ``(num, den)`` per period: ``store``, else the ``(all)`` rows."""
    if store is not None and all(p in store for p in periods):
        return [(float(store[p][1]), float(store[p][0])) for p in periods]
    allrow = table[table[by] == "(all)"]
    out = []
    for p in periods:
        row = allrow[allrow["period"] == p]
        if len(row) != 1:
            return None
        out.append((float(row[cols[0]].iloc[0]), float(row[cols[1]].iloc[0])))
    return out


def mix_decomposition(
    table: pd.DataFrame,
    by: str,
    previous: str,
    current: str,
    num: str = "paid_buyers",
    den: str = "visitors",
    *,
    store: Mapping[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Split the change of a pooled rate over segments into mix and rate effects.

    With shares ``s`` of the segments' summed denominator (source visits) and segment
    rates ``r``, the source visits' rate is ``Σ s·r``, and ``Δ = Σ Δs·(r₀+r₁)/2`` (mix)
    ``+ Σ Δr·(s₀+s₁)/2`` (rate), exactly (symmetric shift-share; Kitagawa 1955). A
    segment missing in one period has share 0 there and its rate is carried from the
    other. With the store's distinct counts (``store`` = ``{period: (den, num)}``, else
    the table's ``(all)`` rows), an :data:`OVERLAP_ROW` line holds the store's rate
    minus the source visits' rate in each period (visitors in several segments, buyers
    counted in several or in none), its change the ``overlap_effect``: the ``(total)``
    row is then the store's rate and its three effects add up to its change.

    Returns:
        One row per segment, the ``(overlap)`` row (with distinct counts) and a
        ``(total)`` row, with shares, rates, ``mix_effect``, ``rate_effect``,
        ``overlap_effect``; the total row's ``simpson`` says whether the total moved
        against every segment large enough to count. ``attrs["base"]``:
        ``"visitors"`` or ``"source_visits"`` (the total's base, see the module).
    """
    import pandas as pd  # noqa: PLC0415

    seg = table[table[by] != "(all)"]
    a = seg[seg["period"] == previous].set_index(by)[[num, den]]
    b = seg[seg["period"] == current].set_index(by)[[num, den]]
    m = a.add_suffix("_prev").join(b.add_suffix("_cur"), how="outer").fillna(0.0)
    va, vb = m[f"{den}_prev"].to_numpy(float), m[f"{den}_cur"].to_numpy(float)
    ra, rb = intervals.rate(m[f"{num}_prev"], va), intervals.rate(m[f"{num}_cur"], vb)
    ra, rb = np.where(np.isnan(ra), rb, ra), np.where(np.isnan(rb), ra, rb)
    ra, rb = np.nan_to_num(ra), np.nan_to_num(rb)
    # the source visits: Σ over segments of a unique count, the base the shares need
    pairs_a, pairs_b = float(va.sum()), float(vb.sum())
    sa, sb = va / max(pairs_a, 1e-300), vb / max(pairs_b, 1e-300)
    out = pd.DataFrame(
        {
            by: m.index.astype(str),
            "share_prev": sa,
            "share_cur": sb,
            "rate_prev": ra,
            "rate_cur": rb,
            "mix_effect": (sb - sa) * (ra + rb) / 2,
            "rate_effect": (rb - ra) * (sa + sb) / 2,
        }
    )
    pool_a = float(m[f"{num}_prev"].sum() / pairs_a) if pairs_a else np.nan
    pool_b = float(m[f"{num}_cur"].sum() / pairs_b) if pairs_b else np.nan
    distinct = _distinct(table, by, (previous, current), (num, den), store)
    rows = []
    tot_a, tot_b, overlap = pool_a, pool_b, np.nan
    if distinct is not None:
        (na, da), (nb, db) = distinct
        tot_a = na / da if da else np.nan
        tot_b = nb / db if db else np.nan
        ua, ub = tot_a - pool_a, tot_b - pool_b
        overlap = ub - ua
        rows.append({by: OVERLAP_ROW, "rate_prev": ua, "rate_cur": ub, "overlap_effect": overlap})
    big = (va >= get_config().min_sample) & (vb >= get_config().min_sample)
    seg_delta = (rb - ra)[big]
    delta = tot_b - tot_a
    simpson = bool(
        len(seg_delta) >= 2 and ((delta < 0 < seg_delta.min()) or (delta > 0 > seg_delta.max()))
    )
    rows.append(
        {
            by: "(total)",
            "share_prev": 1.0,
            "share_cur": 1.0,
            "rate_prev": tot_a,
            "rate_cur": tot_b,
            "mix_effect": float(out["mix_effect"].sum()),
            "rate_effect": float(out["rate_effect"].sum()),
            "overlap_effect": overlap,
            "simpson": simpson,
        }
    )
    result = pd.concat([out, pd.DataFrame(rows)], ignore_index=True)
    result.attrs["base"] = "visitors" if distinct is not None else "source_visits"
    return result


def value_shift_share(
    m: pd.DataFrame,
    by: list[str],
    distinct: tuple[Mapping[str, float], Mapping[str, float]] | None,
) -> pd.DataFrame:
    """The store rows of a visitor-value decomposition by group (see
    :func:`shopmetrics.visitor_value.decompose`).

    ``m`` has one row per group with ``visitors_<side>`` and ``visitor_value_<side>``
    (``side`` ``prev`` / ``cur``). Shares are of source visits (``Σ visitors`` over the
    groups); ``Σ share · vv`` is then ``Σ paid amount / Σ visitors``, the source visits'
    visitor value, and its change splits exactly into ``mix_effect`` and
    ``rate_effect``. With ``distinct`` (the store's ``visitors``, ``paid_buyers`` and
    ``paid_amount`` in each period, visitors counted once) the :data:`OVERLAP_ROW` line
    holds the visitors counted in more than one group (a negative count) and the
    headline's visitor value minus the source visits'; the ``(total)`` row is the
    headline (``paid_amount / visitors``) and ``mix + rate + overlap`` its change.

    Returns:
        ``m`` with ``mix_effect`` and ``rate_effect``, then the ``(overlap)`` row (with
        ``distinct``) and the ``(total)`` row; ``attrs["base"]`` ``"visitors"`` or
        ``"source_visits"`` (no distinct counts: the total is the source visits').
    """
    import pandas as pd  # noqa: PLC0415

    va = m["visitors_prev"].fillna(0).to_numpy(float)
    vb = m["visitors_cur"].fillna(0).to_numpy(float)
    # the source visits: Σ over groups of a unique count, the base the shares need
    pairs_a, pairs_b = float(va.sum()), float(vb.sum())
    sa, sb = va / pairs_a, vb / pairs_b
    xa = m["visitor_value_prev"].fillna(0).to_numpy(float)
    xb = m["visitor_value_cur"].fillna(0).to_numpy(float)
    m = m.assign(mix_effect=(sb - sa) * (xa + xb) / 2, rate_effect=(xb - xa) * (sa + sb) / 2)
    pool_a, pool_b = float((sa * xa).sum()), float((sb * xb).sum())
    total: dict[str, object] = dict.fromkeys(by, "(total)")
    total.update(
        {
            "visitors_prev": pairs_a,
            "visitors_cur": pairs_b,
            "visitor_value_prev": pool_a,
            "visitor_value_cur": pool_b,
            "mix_effect": float(m["mix_effect"].sum()),
            "rate_effect": float(m["rate_effect"].sum()),
        }
    )
    rows: list[dict[str, object]] = []
    if distinct is not None:
        head = [_headline(d) for d in distinct]
        overlap: dict[str, object] = dict.fromkeys(by, OVERLAP_ROW)
        overlap.update(
            {
                "visitors_prev": head[0]["visitors"] - pairs_a,
                "visitors_cur": head[1]["visitors"] - pairs_b,
                "visitor_value_prev": head[0]["visitor_value"] - pool_a,
                "visitor_value_cur": head[1]["visitor_value"] - pool_b,
                "overlap_effect": (head[1]["visitor_value"] - pool_b)
                - (head[0]["visitor_value"] - pool_a),
            }
        )
        rows.append(overlap)
        for side, h in zip(("prev", "cur"), head, strict=True):
            total.update({f"{k}_{side}": v for k, v in h.items()})
        total["overlap_effect"] = overlap["overlap_effect"]
        with np.errstate(divide="ignore", invalid="ignore"):
            for col, short in _DLOG:
                total[f"dlog_{short}"] = float(np.log(head[1][col] / head[0][col]))
    rows.append(total)
    out = pd.concat([m, pd.DataFrame(rows)], ignore_index=True)
    out.attrs["base"] = "visitors" if distinct is not None else "source_visits"
    return out


_DLOG = (("visitor_value", "visitor_value"), ("payment_conversion", "conv"), ("aov", "aov"))


def _headline(d: Mapping[str, float]) -> dict[str, float]:
    """The store's figures from its distinct counts: visitors, conversion, AOV, value."""
    v, b, a = float(d["visitors"]), float(d["paid_buyers"]), float(d["paid_amount"])
    return {
        "visitors": v,
        "payment_conversion": b / v if v else np.nan,
        "aov": a / b if b else np.nan,
        "visitor_value": a / v if v else np.nan,
    }
