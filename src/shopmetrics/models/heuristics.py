"""Heuristic attribution rules: which share of a conversion each touch of its journey gets.

Numpy arrays in, credits out; the journeys themselves are built in
:mod:`shopmetrics.engine.journeys`. The rules, for a journey of ``n`` touches:

- ``last_click``: the last touch gets 100%; ``first_click``: the first touch gets 100%.
- ``linear``: ``1 / n`` each.
- ``time_decay``: ``2^(-age / half_life)``, normalised to sum to 1 per journey.
- ``position_based``: ``(first, middle, last)`` weights, 40% / 20% / 40% by default; one
  touch gets 100%, two share ``first : last``.

References:
    Position-based (40/20/40) and time-decay (7-day half-life) rules: the Google Ads /
    Google Analytics attribution model definitions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.errors import DefinitionError

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = ["HEURISTICS", "check_weights", "credits"]

HEURISTICS: tuple[str, ...] = (
    "last_click",
    "first_click",
    "linear",
    "time_decay",
    "position_based",
)
"""The heuristic models, by name (every attribution model but ``markov``)."""


def check_weights(weights: Any) -> tuple[float, float, float]:
    """``position_based`` weights ``(first, middle, last)`` as three floats, checked to sum to 1."""
    try:
        w = tuple(float(x) for x in weights)
    except (TypeError, ValueError) as exc:
        msg = f"weights must be three numbers (first, middle, last), got {weights!r}"
        raise DefinitionError(msg) from exc
    if len(w) != 3 or any(not math.isfinite(x) or x < 0 for x in w) or abs(sum(w) - 1) > 1e-9:
        msg = (
            f"weights must be three non-negative numbers (first, middle, last) summing to 1, "
            f"got {weights!r}; e.g. (0.4, 0.2, 0.4)"
        )
        raise DefinitionError(msg)
    return w[0], w[1], w[2]


def credits(
    touches: pd.DataFrame | Mapping[str, npt.ArrayLike],
    model: str,
    half_life_days: float = 7,
    weights: Sequence[float] = (0.4, 0.2, 0.4),
) -> npt.NDArray[np.float64]:
    """The share of its journey's conversion each touch gets under a heuristic model.

    Args:
        touches: One row per touch with ``journey`` (0..J-1), ``pos``, ``n`` and, for
            ``time_decay``, ``age_days`` (a DataFrame, or a mapping of those columns to
            arrays).
        model: One of the heuristic models (every model of :data:`HEURISTICS`; every
            attribution model but ``markov``).
        half_life_days: ``time_decay`` half-life.
        weights: ``position_based`` weights ``(first, middle, last)``.

    Returns:
        Credits, one per touch; they sum to 1 within each journey.

    Examples:
        >>> import pandas as pd
        >>> t = pd.DataFrame({"journey": [0, 0, 0], "pos": [0, 1, 2], "n": [3, 3, 3],
        ...                   "age_days": [14.0, 7.0, 0.0]})
        >>> credits(t, "time_decay", half_life_days=7).round(4).tolist()
        [0.1429, 0.2857, 0.5714]
    """
    pos = np.asarray(touches["pos"], dtype=np.int64)
    n = np.asarray(touches["n"], dtype=np.int64)
    if model == "last_click":
        return np.asarray(pos == n - 1, dtype=np.float64)
    if model == "first_click":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "linear":
        return np.asarray(1.0 / n, dtype=np.float64)
    if model == "time_decay":
        journey = np.asarray(touches["journey"], dtype=np.int64)
        age = np.asarray(touches["age_days"], dtype=np.float64)
        return _time_decay(journey, age, half_life_days)
    if model == "position_based":
        return _position_based(pos, n, check_weights(weights))
    raise DefinitionError.unknown("heuristic attribution model", model, HEURISTICS)


def _time_decay(
    journey: npt.NDArray[np.int64], age: npt.NDArray[np.float64], half_life_days: float
) -> npt.NDArray[np.float64]:
    """``2^(-age / half_life)`` per touch, normalised to sum to 1 within each journey."""
    if len(age) and not np.isfinite(age).all():
        msg = "time_decay needs the age of every touch; some are missing"
        raise DefinitionError(msg)
    n_j = int(journey.max()) + 1 if len(journey) else 0
    youngest = np.full(n_j, np.inf)
    np.minimum.at(youngest, journey, age)
    # weights relative to the youngest touch of the journey: no underflow to 0 / 0
    w = np.exp2(-(age - youngest[journey]) / half_life_days)
    return np.asarray(w / np.bincount(journey, weights=w, minlength=n_j)[journey])


def _position_based(
    pos: npt.NDArray[np.int64], n: npt.NDArray[np.int64], weights: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    """``first`` / ``middle`` (split evenly) / ``last``; one touch gets all, two share the ends."""
    first, middle, last = weights
    out = np.zeros(len(pos), dtype=np.float64)
    one, two, many = n == 1, n == 2, n >= 3
    out[one] = 1.0
    ends = first + last
    out[two & (pos == 0)] = first / ends if ends > 0 else 0.5
    out[two & (pos == 1)] = last / ends if ends > 0 else 0.5
    out[many & (pos == 0)] = first
    out[many & (pos == n - 1)] = last
    mid = many & (pos > 0) & (pos < n - 1)
    out[mid] = middle / (n[mid] - 2)
    return out
