"""Shift-share decomposition of a pooled rate's change into traffic mix and segment rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.stats import intervals

if TYPE_CHECKING:
    import pandas as pd


def mix_decomposition(
    table: pd.DataFrame,
    by: str,
    previous: str,
    current: str,
    num: str = "paid_buyers",
    den: str = "visitors",
) -> pd.DataFrame:
    """Split the change of a pooled rate over segments into mix and rate effects.

    With shares ``s`` of the denominator and segment rates ``r``, the pooled rate is
    ``Σ s·r``, and ``Δ = Σ Δs·(r₀+r₁)/2`` (mix) ``+ Σ Δr·(s₀+s₁)/2`` (rate), exactly
    (symmetric shift-share). A segment missing in one period has share 0 there and its
    rate is carried from the other.

    Returns:
        One row per segment and a ``(total)`` row, with shares, rates, ``mix_effect``,
        ``rate_effect``; the total row's ``simpson`` says whether the total moved against
        every segment large enough to count.
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
    sa, sb = va / max(va.sum(), 1e-300), vb / max(vb.sum(), 1e-300)
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
    tot_a = float(m[f"{num}_prev"].sum() / va.sum()) if va.sum() else np.nan
    tot_b = float(m[f"{num}_cur"].sum() / vb.sum()) if vb.sum() else np.nan
    big = (va >= get_config().min_sample) & (vb >= get_config().min_sample)
    seg_delta = (rb - ra)[big]
    delta = tot_b - tot_a
    simpson = bool(
        len(seg_delta) >= 2 and ((delta < 0 < seg_delta.min()) or (delta > 0 > seg_delta.max()))
    )
    total = pd.DataFrame(
        [
            {
                by: "(total)",
                "share_prev": 1.0,
                "share_cur": 1.0,
                "rate_prev": tot_a,
                "rate_cur": tot_b,
                "mix_effect": float(out["mix_effect"].sum()),
                "rate_effect": float(out["rate_effect"].sum()),
                "simpson": simpson,
            }
        ]
    )
    return pd.concat([out, total], ignore_index=True)
