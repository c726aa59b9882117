"""The store's internal array records and the small helpers that work on them.

Every part of the store is built as numpy arrays in dataclasses, one field per column
(``_Sessions``, ``_Events``, ``_Orders``, ...), and only turned into tables at the end
(:mod:`shopmetrics.datasets.tables`). ``_take`` and ``_concat`` index and join such
records field by field; ``_cdf`` and ``_draw`` make categorical draws.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from shopmetrics.datasets.params import HOUR, HOUR_WEIGHT

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int8]
MidArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


_T = TypeVar("_T", bound="DataclassInstance")


def _take(obj: _T, index: npt.NDArray[Any]) -> _T:
    """Index every array field of an array dataclass."""
    values = {f.name: getattr(obj, f.name)[index] for f in dataclasses.fields(obj)}
    return type(obj)(**values)


def _concat(parts: Sequence[_T]) -> _T:
    """Concatenate array dataclasses field by field."""
    first = parts[0]
    values = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in dataclasses.fields(first)
    }
    return type(first)(**values)


@dataclass(slots=True)
class _Catalog:
    labels: list[str]
    category: IntArray
    price: FloatArray
    unit_cost: FloatArray
    pop: FloatArray
    ctr: FloatArray
    conversion: FloatArray
    inquiry_p: FloatArray
    cart_p: FloatArray
    favorite_p: FloatArray
    item_shift: FloatArray
    pop_cdf: FloatArray
    exposure_cdf: FloatArray
    other_exposures: float
    cpc: FloatArray  # (campaign, keyword + 1)

    @property
    def n(self) -> int:
        return len(self.labels)


@dataclass(slots=True)
class _Sessions:
    t0: IntArray  # seconds from the start of the period
    visitor: IntArray
    session: IntArray
    source: IntArray
    device: IntArray
    product: IntArray
    campaign: IntArray  # -1: none
    keyword: IntArray  # -1: none


@dataclass(slots=True)
class _Events:
    """Events, lean: the rest of each event's columns live on its session.

    ``session`` is the session number, which is also the session's row in the store's
    session table (numbers are allocated consecutively).
    """

    ts: IntArray
    event: SmallArray
    product: MidArray
    session: IntArray


@dataclass(slots=True)
class _Lines:
    pos: IntArray  # position of the session in the expanded batch
    session: IntArray
    visitor: IntArray
    source: IntArray
    product: IntArray
    created: IntArray
    quantity: IntArray


@dataclass(slots=True)
class _Expansion:
    events: _Events
    lines: _Lines
    end: IntArray  # per session: time of its last event


@dataclass(slots=True)
class _Orders:
    order: IntArray
    buyer: IntArray
    product: IntArray
    source: IntArray
    created: IntArray
    paid: IntArray
    deposit: IntArray
    quantity: IntArray
    amount: FloatArray
    cost: FloatArray
    refund_amount: FloatArray
    refunded: IntArray
    status: IntArray
    presale: BoolArray


@dataclass(slots=True)
class _Ratings:
    order: IntArray
    historical: BoolArray
    buyer: IntArray
    product: IntArray
    success: IntArray
    rated: IntArray
    item: FloatArray
    service: FloatArray
    logistics: FloatArray
    carrier: IntArray


@dataclass(slots=True)
class _Ids:
    """The next free internal number of each id space."""

    visitor: int = 0
    session: int = 0
    order: int = 0

    def take(self, space: Literal["visitor", "session", "order"], n: int) -> IntArray:
        """Allocate ``n`` consecutive numbers of one space."""
        first: int = getattr(self, space)
        setattr(self, space, first + n)
        return first + np.arange(n, dtype=np.int64)


def _cdf(weights: Sequence[float] | FloatArray) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def _draw(rng: np.random.Generator, cdf: FloatArray, size: int) -> IntArray:
    """Categorical draws by inverse CDF."""
    out = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(out, cdf.size - 1).astype(np.int64)


def _seconds_in_day(rng: np.random.Generator, size: int) -> IntArray:
    hour = _draw(rng, _cdf(HOUR_WEIGHT), size)
    return hour * HOUR + rng.integers(0, HOUR, size)
