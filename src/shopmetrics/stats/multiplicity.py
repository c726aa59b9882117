"""Multiple-testing corrections of p-values (Benjamini-Hochberg via statsmodels, Holm)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError
from shopmetrics.stats.common import Array, floats

CORRECTIONS: tuple[str, ...] = ("bh", "holm", "none")


def adjust_pvalues(p: Any, method: str | None = None) -> Array:
    """Multiple-testing adjusted p-values: ``"bh"``, ``"holm"`` or ``"none"``.

    ``"bh"``: a thin wrapper of ``statsmodels.stats.multitest.multipletests``
    (``"fdr_bh"``) that keeps the input's shape and leaves NaN p-values NaN: they do not
    count as tests (statsmodels would propagate them into every adjusted value).
    ``"holm"``: our own three lines (see :func:`_holm` for why).

    Assumptions: Benjamini-Hochberg controls the false discovery rate for independent or
    positively dependent p-values (PRDS: the comparisons of one store's groups, which
    share nothing but the period); Holm controls the family-wise error rate under any
    dependence. Simulated false-positive rates: ``tests/coverage`` (docs/statistics.md).

    References:
        Benjamini & Hochberg (1995), JRSS B 57(1); Benjamini & Yekutieli (2001), Ann.
        Statist. 29(4) (PRDS); Holm (1979), Scand. J. Statist. 6(2).

    Examples:
        >>> [round(float(v), 3) for v in adjust_pvalues([0.01, 0.04, float("nan"), 0.03], "bh")]
        [0.03, 0.04, nan, 0.04]
    """
    method = method or get_config().correction
    if method not in CORRECTIONS:
        raise DefinitionError.unknown("correction", method, CORRECTIONS)
    p = floats(p)
    out: Array = np.full(p.shape, np.nan, dtype=np.float64)
    ok = np.isfinite(p)
    q = p[ok]
    if len(q) == 0 or method == "none":
        out[ok] = q
        return out
    if method == "holm":
        out[ok] = _holm(q)
        return out
    from statsmodels.stats.multitest import multipletests  # noqa: PLC0415 - heavy; on first use

    out[ok] = floats(multipletests(q, method="fdr_bh")[1])
    return out


def _holm(q: Array) -> Array:
    """Holm's step-down adjusted p-values: ``max_{j <= k} (m - j + 1) p_(j)``, capped at 1.

    Our own rather than ``multipletests(method="holm")``, which runs a full
    ``gc.collect()`` on every call (statsmodels 0.14-0.15, ``multitest.py``): 0.1-0.4 s a
    call in a process holding a store's tables, paid by every A/B test and comparison.
    Same formula, same numbers (tests/test_stats.py checks both against the rule).
    """
    m = len(q)
    order = np.argsort(q, kind="stable")
    adj = np.maximum.accumulate(q[order] * (m - np.arange(m)))
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    return res
