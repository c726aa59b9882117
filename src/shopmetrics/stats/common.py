"""Helpers shared by the statistical modules: array coercion, alternatives, normal tails."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from shopmetrics.errors import DefinitionError

Array = npt.NDArray[np.float64]


Alternative = Literal["two-sided", "greater", "less"]


ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")


def floats(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)


def check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise DefinitionError.unknown("alternative", alternative, ALTERNATIVES)


def normal() -> Any:
    from scipy import stats  # noqa: PLC0415 - scipy.stats is heavy; import on first use

    return stats.norm


def z_crit(confidence: float) -> float:
    return float(normal().ppf(0.5 + confidence / 2))


def p_from_z(z: Array, alternative: str) -> Array:
    """p-value of a standard-normal statistic ``z`` (``z > 0``: arm 1 above arm 2)."""
    norm = normal()
    if alternative == "two-sided":
        return floats(2 * norm.sf(np.abs(z)))
    if alternative == "greater":
        return floats(norm.sf(z))
    return floats(norm.cdf(z))


def valid_binomial(x: Array, n: Array) -> npt.NDArray[np.bool_]:
    return (n > 0) & (x >= 0) & (x <= n) & np.isfinite(x) & np.isfinite(n)


def broadcast(*arrays: Any) -> list[Array]:
    return list(np.broadcast_arrays(*(np.atleast_1d(floats(a)) for a in arrays)))
