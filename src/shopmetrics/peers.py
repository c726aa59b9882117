"""Peer benchmarks (同行同层): a long peers table joined on the dimensions it is given by.

A peers table has one row per metric (``metric``, or ``dimension`` for DSR) and per value
of the dimensions it is broken down by (``category``, ``tier``, ``product_id`` ...), with
``peer_avg`` (同行同层平均) and optionally ``peer_top10`` (同行同层优秀), ``peer_max``,
``peer_min``. Every other column is a dimension. A dimension the call groups by is joined
on; a dimension the call does not group by must hold one value (the store's own tier, say),
else the table is refused: comparing each group with whichever peer row came last is the
error this module exists to prevent.

Examples:
    >>> import pandas as pd
    >>> from shopmetrics.peers import compare_to_peers
    >>> table = pd.DataFrame({"category": ["kitchen", "toys"], "ctr": [0.0346, 0.021]})
    >>> peers = pd.DataFrame({"category": ["kitchen", "toys"], "metric": "ctr",
    ...                       "peer_avg": [0.05, 0.02], "peer_top10": [0.09, 0.04]})
    >>> out = compare_to_peers(table, peers, ["category"])
    >>> [round(float(v), 4) for v in out["ctr_vs_peer_diff"]]
    [-0.0154, 0.001]
    >>> [round(float(v), 4) for v in out["ctr_vs_top10_diff"]]
    [-0.0554, -0.019]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics import engine
from shopmetrics.errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BENCHMARKS", "check_peers", "compare_to_peers", "join_keys", "read_peers"]

BENCHMARKS = ("peer_avg", "peer_top10", "peer_max", "peer_min")
"""The value columns of a peers table; every other column but the metric is a dimension."""

_MAX_SHOWN = 5


def read_peers(peers: Any, columns: Mapping[str, str] | None, name: str = "peers") -> pd.DataFrame:
    """The peers table as a small pandas frame (canonical names, no time localising)."""
    return engine.collect(engine.load(peers, name, columns, localize=False).frame, name)


def join_keys(
    p: pd.DataFrame, by: Sequence[str], key: str = "metric", name: str = "peers"
) -> list[str]:
    """The dimensions to join the peers table on: its dimensions the call groups by.

    Raises:
        SchemaError: the peers table has a dimension the call does not group by and that
            holds several values, or repeats a row for the same metric and dimensions;
            the message names the table, the columns and the fix.
    """
    dims = [c for c in p.columns if c != key and c not in BENCHMARKS]
    keys = [c for c in dims if c in by]
    extra = {c: sorted(map(str, p[c].dropna().unique())) for c in dims if c not in by}
    split = {c: v for c, v in extra.items() if len(v) > 1}
    if split:
        shown = "; ".join(
            f"{c!r}: {', '.join(v[:_MAX_SHOWN])}{' ...' if len(v) > _MAX_SHOWN else ''}"
            for c, v in split.items()
        )
        first = next(iter(split))
        msg = (
            f"{name}: the peers table is broken down by {sorted(split)} ({shown}) but the call "
            f"groups by {list(by)}, so no peer row can be chosen for a group. Group by it "
            f"(by=[..., {first!r}], the column in the events too) to compare each {first} with "
            f"its own peers, or keep the rows of one {first} "
            f"(peers[peers[{first!r}] == {split[first][0]!r}])"
        )
        raise SchemaError(msg)
    dup = p.duplicated([key, *keys], keep=False)
    if dup.any():
        rows = sorted(int(i) for i in p.index[dup])[:_MAX_SHOWN]
        msg = (
            f"{name}: {int(dup.sum())} rows repeat the same {key}"
            + (f" and {keys}" if keys else "")
            + f" (rows {rows}); give one row per {key}"
            + (f" and {', '.join(keys)}" if keys else "")
        )
        raise SchemaError(msg)
    return keys


def check_peers(peers: Any, columns: Mapping[str, str] | None, by: Sequence[str]) -> list[str]:
    """The join keys of a DSR peers table (one row per ``dimension``, or ``metric``), after
    :func:`join_keys` refused a breakdown the call does not group by."""
    p = read_peers(peers, columns)
    key = "dimension" if "dimension" in p.columns else "metric"
    if key not in p.columns:
        return []  # the DSR's own loader names what is missing
    return join_keys(p, by, key=key)


def compare_to_peers(
    table: pd.DataFrame,
    peers: Any,
    by: Sequence[str],
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Each row against its own peers: the funnel's peer columns.

    Per metric ``m`` of the peers table found in ``table``: ``m_peer_avg``,
    ``m_vs_peer_diff`` (value − average), ``m_vs_peer_ratio``, ``m_beyond_ci`` (the average
    outside the value's interval) and, with ``peer_top10``, ``m_peer_top10``,
    ``m_vs_top10_diff``, ``m_vs_top10_ratio``. A group without a peer row gets NaN (and
    ``False`` for ``m_beyond_ci``).

    Raises:
        SchemaError: no ``metric`` / ``peer_avg`` column, or a peers table the call cannot
            join (see :func:`join_keys`).
    """
    p = read_peers(peers, columns)
    if "metric" not in p.columns or "peer_avg" not in p.columns:
        msg = (
            "peers: expected long form with columns 'metric' and 'peer_avg' (one row per "
            "metric and per value of its dimensions such as 'category' or 'tier'), optionally "
            f"'peer_top10'; columns present: {list(p.columns)}"
        )
        raise SchemaError(msg)
    keys = join_keys(p, by)
    p = p.assign(metric=p["metric"].astype(str))
    table = table.copy()
    asked = set(p["metric"])
    for metric in [c for c in table.columns if c in asked]:  # in the table's column order
        rows = p[p["metric"] == metric]
        bench = [c for c in ("peer_avg", "peer_top10") if c in rows.columns]
        if keys:
            m = (
                table[keys]
                .astype(str)
                .merge(rows[[*keys, *bench]].astype(dict.fromkeys(keys, str)), on=keys, how="left")
            )
        else:
            m = rows[bench].iloc[[0] * len(table)].reset_index(drop=True)
        value = table[metric].to_numpy(float)
        for col, tag in (("peer_avg", "peer"), ("peer_top10", "top10")):
            if col not in m.columns:
                continue
            ref = m[col].to_numpy(float)
            table[f"{metric}_{col}"] = ref
            table[f"{metric}_vs_{tag}_diff"] = value - ref
            with np.errstate(divide="ignore", invalid="ignore"):
                table[f"{metric}_vs_{tag}_ratio"] = np.where(ref != 0, value / ref, np.nan)
        lo, hi = f"{metric}_ci_low", f"{metric}_ci_high"
        if lo in table.columns:
            avg = table[f"{metric}_peer_avg"].to_numpy(float)
            table[f"{metric}_beyond_ci"] = np.isfinite(avg) & (
                (avg < table[lo].to_numpy(float)) | (avg > table[hi].to_numpy(float))
            )
    return table
