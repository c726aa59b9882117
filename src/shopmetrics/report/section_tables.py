"""Small tables the weekly report's sections show: the store against its peers (average
and top 10%, 同行同层平均 / 优秀), the presale products with the figures to use, and the
flags of each product or source row (:func:`with_row_flags`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shopmetrics.compare import flags_by_subject, in_periods
from shopmetrics.metrics import PROPORTIONS
from shopmetrics.report.figures import top_products

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


FLAGS_COLUMN = "flags"
"""The column a table shows its rows' flags in (their codes; the report shows titles)."""


def with_row_flags(
    table: pd.DataFrame, flags: Sequence[Flag], key: str, periods: set[str]
) -> pd.DataFrame:
    """A copy of ``table`` with a ``flags`` column after ``key``: on each row the flags
    whose subject names that row's ``key`` (a product, a source, ...) and that fall in
    one of the ``periods`` (ISO weeks) the table shows
    (:func:`~shopmetrics.compare.flags_by_subject`). A flag about the store or a day is
    on no row (the report lists it among the flags); a table none of whose rows has a
    flag gets no column."""
    about = in_periods(flags, periods, "W")
    codes = flags_by_subject(table, about, [key], store_wide=False)
    out = table.copy()
    if any(codes):  # beside the row's name, so it is read with it
        out.insert(list(out.columns).index(key) + 1, FLAGS_COLUMN, codes)
    return out


def flagged_top_products(
    by_product: pd.DataFrame, flags: Sequence[Flag], week: str, top: int = 10
) -> pd.DataFrame:
    """The week's top products by paid amount (:func:`~shopmetrics.report.figures.
    top_products`) with their flags; a product that a flag names but is not in the top
    follows them (still by paid amount), so every flagged product has its row."""
    periods = {str(p) for p in by_product["period"].unique()}
    every = with_row_flags(
        top_products(by_product, week, top=len(by_product)), flags, "product_id", periods
    )
    if FLAGS_COLUMN not in every.columns:
        return every.head(top)
    keep = (every.index < top) | (every[FLAGS_COLUMN] != "")
    return every[keep].reset_index(drop=True)
