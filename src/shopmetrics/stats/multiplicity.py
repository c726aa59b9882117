"""Multiple-testing corrections of p-values (Benjamini-Hochberg, Holm, Bonferroni)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError
from shopmetrics.stats.common import Array, floats


def adjust_pvalues(p: Any, method: str | None = None) -> Array:
    """Multiple-testing adjusted p-values: ``"bh"``, ``"holm"`` or ``"none"``.

    NaN p-values are left NaN and do not count as tests.

    References:
        Benjamini & Hochberg (1995), JRSS B 57(1); Holm (1979), Scand. J. Statist. 6(2).
        Matches ``statsmodels.stats.multitest.multipletests`` (``fdr_bh``, ``holm``).
    """
    method = method or get_config().correction
    p = floats(p)
    out: Array = np.full(p.shape, np.nan, dtype=np.float64)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q)
    ranked = q[order]
    if method == "bh":
        adj = ranked * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
    elif method == "holm":
        adj = ranked * (m - np.arange(m))
        adj = np.maximum.accumulate(adj)
    else:
        raise DefinitionError.unknown("correction", method, ("bh", "holm", "none"))
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
