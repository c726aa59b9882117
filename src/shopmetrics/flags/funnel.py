"""Detectors that read the funnel's own table (counts and rates per group and period).

- ``small_sample``: denominators under ``config.min_sample``.
- ``impossible_rate``: clicks > exposures, buyers > visitors, ... (join or tracking error).
- ``summed_uniques``: unique counts of a ``traffic`` export summed across days or groups.
- ``mix_shift``: the total rate moves against every segment's rate (Simpson's paradox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.flags.finding import Flag
from shopmetrics.results import Result
from shopmetrics.stats.mix import OVERLAP_ROW, mix_decomposition

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

__all__ = [
    "impossible_rate",
    "mix_shift",
    "mix_shift_flag",
    "small_sample",
    "summed_uniques",
    "total_change_se",
]


def _subject(row: Any, by: tuple[str, ...]) -> dict[str, Any]:
    subject = {c: str(row[c]) for c in by}
    subject["period"] = str(row["period"])
    return subject


def small_sample(result: Result) -> list[Flag]:
    """Rows whose denominator is under ``config.min_sample`` (one flag listing them)."""
    t = result.table
    if "small_sample" not in t.columns or not t["small_sample"].any():
        return []
    cfg = get_config()
    mask = t["small_sample"].to_numpy(dtype=bool)
    den = "visitors" if "visitors" in t.columns else "exposures"
    # the five smallest denominators, ties in table order: no copy of the whole table
    where = np.flatnonzero(mask)
    first = where[np.argsort(t[den].to_numpy()[where], kind="stable")[:5]]
    examples = tuple(
        {**_subject(r, result.by), den: int(r[den])} for _, r in t.iloc[first].iterrows()
    )
    n_bad = int(mask.sum())
    return [
        Flag(
            "small_sample",
            "info",
            f"{n_bad} of {len(t)} rows have fewer than {cfg.min_sample} {den}; their rates have "
            "wide intervals — read the interval, not the point, and rank with the *_shrunk columns "
            "(shrink=True).",
            subject={"rows": n_bad},
            n_rows=n_bad,
            examples=examples,
            evidence={"min_sample": cfg.min_sample, "denominator": den},
        )
    ]


_IMPOSSIBLE = (
    ("clicks", "exposures"),
    ("inquirers", "visitors"),
    ("carters", "visitors"),
    ("favoriters", "visitors"),
    ("order_buyers", "visitors"),
    ("paid_buyers", "visitors"),
)


def impossible_rate(result: Result) -> list[Flag]:
    """Numerators above their denominators: a join or tracking error, not a great week."""
    t = result.table
    out: list[Flag] = []
    groups: np.ndarray | None = None  # the rows that are not an (all) row, once, when needed
    for num, den in _IMPOSSIBLE:
        if num not in t.columns or den not in t.columns:
            continue
        hit = (t[num].to_numpy() > t[den].to_numpy()) & (t[den].to_numpy() >= 0)
        if not hit.any():
            continue  # the usual case: no copy of the table, no text compared
        if by := result.by:
            if groups is None:
                groups = (t[by[0]] != "(all)").to_numpy()
            hit &= groups
            if not hit.any():
                continue
        bad = t[hit]
        out.append(
            Flag(
                "impossible_rate",
                "warning",
                f"{len(bad)} rows have {num} > {den} (a rate above 100%): buyers or clicks are "
                f"recorded without the {den} that must precede them — usually a tracking gap, a join "
                "on the wrong key, or orders attributed to a group the visits were not.",
                subject={"numerator": num, "denominator": den},
                n_rows=len(bad),
                examples=tuple(
                    {**_subject(r, result.by), num: int(r[num]), den: int(r[den])}
                    for _, r in bad.head(5).iterrows()
                ),
            )
        )
    return out


def summed_uniques(result: Result) -> list[Flag]:
    """Unique counts of a traffic export added across days or groups overstate them."""
    info = result.meta.get("traffic_summed")
    if not info:
        return []
    cols = info["columns"]
    return [
        Flag(
            "summed_uniques",
            "warning",
            f"{cols} were added over up to {info['max_rows']} export rows per result row "
            f"({info['why']}); a visitor who came on two days or through two groups is counted "
            "twice, so these are upper bounds and rates built on them are understated. Export the "
            "unique counts at the grain you report, or pass raw events.",
            subject={"columns": cols},
            n_rows=int(info["rows_affected"]),
            evidence=info,
            instead={"source": "a back-end export at this grain, or events="},
        )
    ]


def mix_shift(result: Result) -> list[Flag]:
    """The total rate moved mostly because traffic moved between segments (mix), not rates.

    Between the last two periods, the change of the pooled payment conversion over the
    segments is split into a mix and a rate effect
    (:func:`shopmetrics.stats.mix.mix_decomposition`). Flagged when the mix effect alone is
    beyond the noise of the total change (2 standard errors) and larger than the rate
    effect — or, Simpson's paradox, when the total moves against every segment.
    """

    by, t = result.by, result.table
    need = {"payment_conversion", "paid_buyers", "visitors"}  # pooled counts (not daily means)
    if len(by) != 1 or result.meta.get("freq") is None or not need <= set(t.columns):
        return []
    periods = sorted(t.loc[t[by[0]] != "(all)", "period"].unique())
    if len(periods) < 2:
        return []
    flag = mix_shift_flag(t, by[0], str(periods[-2]), str(periods[-1]))
    return [] if flag is None else [flag]


def total_change_se(
    table: pd.DataFrame,
    by: str,
    previous: str,
    current: str,
    store: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[float, str] | None:
    """Standard error of the change of the store's payment conversion, and its base.

    The pooled two-proportion standard error ``√(p̂(1−p̂)(1/V₀ + 1/V₁))`` on the store's
    DISTINCT visitors ``V`` and paid buyers: from ``store`` (``{period: (visitors,
    paid_buyers)}``, the headline's), else the table's ``(all)`` rows (the funnel's
    ``total=True``, recounted over all groups). Only without either are the segments'
    counts added (a visitor in two segments counted twice: more visitors than there are,
    a standard error too small), and the base says so: ``"visitors"`` or
    ``"source_visits"``. ``None`` when a period has no visitors.
    """
    counts: dict[str, tuple[float, float]] = {}
    allrow = table[table[by] == "(all)"]
    for p in (previous, current):
        row = allrow[allrow["period"] == p]
        if store is not None and p in store:
            counts[p] = (float(store[p][0]), float(store[p][1]))
        elif len(row) == 1:
            counts[p] = (float(row["visitors"].iloc[0]), float(row["paid_buyers"].iloc[0]))
    base = "visitors"
    if len(counts) < 2:  # no distinct count: the segments' sum, labelled as such
        seg = table[table[by] != "(all)"]
        # allow-listed in tests/test_unique_counts.py: the fallback, labelled source_visits
        sums = seg.groupby("period")[["visitors", "paid_buyers"]].sum()
        sums = sums.reindex([previous, current]).fillna(0.0)
        v, b = sums["visitors"].to_numpy(float), sums["paid_buyers"].to_numpy(float)
        counts = {previous: (v[0], b[0]), current: (v[1], b[1])}
        base = "source_visits"
    (va, ba), (vb, bb) = counts[previous], counts[current]
    if not va or not vb:
        return None
    pooled = (ba + bb) / (va + vb)
    return float(np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / va + 1 / vb))), base


def mix_shift_flag(
    table: pd.DataFrame,
    by: str,
    previous: str,
    current: str,
    store: Mapping[str, tuple[float, float]] | None = None,
) -> Flag | None:
    """The ``mix_shift`` flag from :func:`mix_decomposition` (used by the funnel's detectors).

    The noise of the total change is :func:`total_change_se` on the store's distinct
    visitors and buyers (``store``, or the table's ``(all)`` rows).
    """
    d = mix_decomposition(table, by, previous, current, store=store)
    tot = d[d[by] == "(total)"].iloc[0]
    segs = d[~d[by].isin(["(total)", OVERLAP_ROW])]
    delta = float(tot["rate_cur"] - tot["rate_prev"])
    found = total_change_se(table, by, previous, current, store)
    if found is None:
        return None
    se, se_base = found
    mix, rate_eff = float(tot["mix_effect"]), float(tot["rate_effect"])
    simpson = bool(tot["simpson"])
    if not (simpson or (abs(mix) > 2 * se and abs(mix) > abs(rate_eff))):
        return None
    lead = (
        f"payment conversion of all {by}s moved {delta:+.2%} from {previous} to {current} while every "
        f"{by} moved the other way (Simpson's paradox)"
        if simpson
        else f"payment conversion of all {by}s moved {delta:+.2%} from {previous} to {current}, of which "
        f"{mix:+.2%} is mix (traffic moving between {by}s) and {rate_eff:+.2%} the {by}s' own rates"
    )
    return Flag(
        "mix_shift",
        "warning",
        lead
        + ". Judge each segment by its own rate; the total moved because of where the traffic came from.",
        subject={"by": by, "from": previous, "to": current},
        evidence={
            "total_change": delta,
            "mix_effect": mix,
            "rate_effect": rate_eff,
            "se_total_change": se,
            "se_base": se_base,
            "share_change": dict(
                zip(segs[by], (segs["share_cur"] - segs["share_prev"]).tolist(), strict=True)
            ),
            "rate_change": dict(
                zip(segs[by], (segs["rate_cur"] - segs["rate_prev"]).tolist(), strict=True)
            ),
        },
        instead={"rate_effect": rate_eff},
    )
