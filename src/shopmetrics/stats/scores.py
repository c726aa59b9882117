"""Arithmetic of a mean star score (DSR): ratings needed, the platform's peer comparison."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shopmetrics.errors import ShopmetricsError

STARS = (1, 2, 3, 4, 5)
"""The star counts a rating can give."""


def check_stars(stars: int) -> None:
    """Raise unless ``stars`` is a whole number of stars from 1 to 5."""
    if stars not in STARS:
        msg = f"stars must be a whole number of stars from 1 to 5, got {stars!r}"
        raise ShopmetricsError(msg)


def fives_needed(total: Any, n: Any, target: float) -> list[int | None]:
    """Smallest ``k >= 0`` with ``(total + 5k) / (n + k) >= target`` (and ``n + k >= 1``).

    One answer per element of ``total`` (star sum) and ``n`` (ratings); ``None`` where no
    number of 5-star ratings reaches ``target`` (a target above 5, or 5 with a lower
    rating already in).

    References:
        The score is a plain mean (metric dictionary, DSR: 19×5 + 1×1 → 96/20 = 4.8), so
        ``k`` fives reach ``t`` when ``(S + 5k) / (n + k) ≥ t``, i.e.
        ``k = ceil((t·n − S) / (5 − t))``.

    Examples:
        >>> fives_needed([96.0, 100.0], [20.0, 20.0], 4.9)
        [20, 0]
    """
    out: list[int | None] = []
    for s, m in zip(np.asarray(total, float), np.asarray(n, float), strict=True):
        if not 1 <= target <= 5:
            out.append(None)
            continue
        if target == 5:
            ok = s >= 5 * m - 1e-9
            out.append((0 if m > 0 else 1) if ok else None)
            continue
        x = (target * m - s) / (5 - target)
        k = max(0, math.ceil(round(x, 9)))
        while (s + 5 * k) < target * (m + k) - 1e-9:  # guard against rounding
            k += 1
        if m + k == 0:
            k = 1
        out.append(int(k))
    return out


def vs_peers(score: Any, peer_avg: Any, peer_max: Any = None, peer_min: Any = None) -> Any:
    """The platform's "比同行业平均高/低 x%": normalised by the peer range, signed.

    Above the peer average: ``(score − avg) / (max − avg)``; below it:
    ``−(avg − score) / (avg − min)``; ``0`` at the average. ``NaN`` where the needed
    peer max / min is missing or not beyond the average. This is **not** the plain
    relative difference ``(score − avg) / avg``.

    References:
        Metric dictionary, DSR "Comparison with the industry", as implemented by public
        clones of the rule; worked example (4.71234 − 4.61234) / (4.91234 − 4.61234) =
        33.33% above.

    Examples:
        >>> from shopmetrics.dsr import vs_peers
        >>> round(float(vs_peers(4.71234, 4.61234, 4.91234, 4.5)), 4)
        0.3333
        >>> round(float(vs_peers(4.5, 4.6, 4.9, 4.2)), 4)
        -0.25
    """
    s = np.asarray(score, dtype=float)
    a = np.asarray(peer_avg, dtype=float)
    hi = (
        np.full(np.broadcast(s, a).shape, np.nan)
        if peer_max is None
        else np.asarray(peer_max, float)
    )
    lo = (
        np.full(np.broadcast(s, a).shape, np.nan)
        if peer_min is None
        else np.asarray(peer_min, float)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(hi - a > 0, (s - a) / (hi - a), np.nan)
        down = np.where(a - lo > 0, -(a - s) / (a - lo), np.nan)
    return np.where(
        s > a, up, np.where(s < a, down, np.where(np.isfinite(s) & np.isfinite(a), 0.0, np.nan))
    )
