"""Multiple-testing corrections of p-values (Benjamini-Hochberg, Holm), via statsmodels."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.errors import DefinitionError
from shopmetrics.stats.common import Array, floats

CORRECTIONS: tuple[str, ...] = ("bh", "holm", "none")

_STATSMODELS_METHOD = {"bh": "fdr_bh", "holm": "holm"}


def adjust_pvalues(p: Any, method: str | None = None) -> Array:
    """Multiple-testing adjusted p-values: ``"bh"``, ``"holm"`` or ``"none"``.

    A thin wrapper of ``statsmodels.stats.multitest.multipletests`` (``"fdr_bh"``,
    ``"holm"``) that keeps the input's shape and leaves NaN p-values NaN: they do not
    count as tests (statsmodels would propagate them into every adjusted value).

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
    from statsmodels.stats.multitest import multipletests  # noqa: PLC0415 - heavy; on first use

    out[ok] = floats(multipletests(q, method=_STATSMODELS_METHOD[method])[1])
    return out
