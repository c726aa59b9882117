"""Small tables the weekly report's sections show: the store against its peers (average
and top 10%, 同行同层平均 / 优秀), and the presale products with the figures to use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopmetrics.metrics import PROPORTIONS

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag


def peer_table(cur: pd.DataFrame) -> pd.DataFrame | None:
    """This week against the peer averages; rates carry a ``_rate`` suffix so they show as %."""
    import pandas as pd  # noqa: PLC0415

    rows = []
    row = cur.iloc[0]
    for col in cur.columns:
        if col.endswith("_peer_avg"):
            m = col.removesuffix("_peer_avg")
            suffix = "_rate" if m in PROPORTIONS else ""
            rows.append(
                {
                    "metric": m,
                    f"value{suffix}": row[m],
                    f"peer_avg{suffix}": row[col],
                    **(
                        {f"peer_top10{suffix}": row[f"{m}_peer_top10"]}
                        if f"{m}_peer_top10" in cur.columns
                        else {}
                    ),
                    "vs_peer_ratio": row.get(f"{m}_vs_peer_ratio"),
                    "beyond_interval": row.get(f"{m}_beyond_ci"),
                }
            )
    if not rows:
        return None
    # one column per kind of figure: rates (as %) first, money figures after
    out = pd.DataFrame(rows)
    for a, b in (("value_rate", "value"), ("peer_avg_rate", "peer_avg")):
        if a in out.columns and b in out.columns:
            out[b] = out[b].where(out[a].isna(), None)
    return out


def presale_table(flags: list[Flag]) -> pd.DataFrame | None:
    import pandas as pd  # noqa: PLC0415

    if not flags:
        return None
    rows = [
        {
            **{k: str(v) for k, v in f.subject.items()},
            **{
                k: f.evidence.get(k)
                for k in (
                    "visitors",
                    "order_buyers",
                    "paid_buyers",
                    "deposit_buyers",
                    "payment_conversion",
                    "order_conversion",
                    "deposit_conversion",
                )
            },
        }
        for f in flags
    ]
    return pd.DataFrame(rows)
