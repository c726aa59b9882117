"""One mergeable aggregate type for means, variances and ratio metrics.

:class:`Aggregates` holds, per group, the number of units and named sums; groups are
merged (``+``, :meth:`~Aggregates.regroup`, :meth:`~Aggregates.total`), selected and
stacked, and rolled over consecutive days (:meth:`~Aggregates.windows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shopmetrics.config import get_config
from shopmetrics.stats import intervals
from shopmetrics.stats.common import Array, check_alternative, floats, p_from_z, z_crit
from shopmetrics.stats.twosample import Comparison


class Aggregates:
    """Mergeable sums of named per-unit values, one element per group.

    ``n`` is the number of units per group, ``sums[name]`` the sum of a per-unit value;
    products are named ``"a*b"`` (``"a*a"`` is the sum of squares). Aggregates of
    disjoint chunks (days, partitions, engines) add up, name by name, to those of the
    whole, so they are computed once in the engine and combined afterwards (rolling
    windows are differences of cumulative sums). Every mean, variance, covariance and
    delta-method ratio variance the package reports is read from them.

    A value that may be missing is summed over the units that have it; its count is a
    value of its own (``count="n_item"`` below), as tea-tasting does with its
    ``Aggregates``.

    Groups are positions along the first axis; the caller keeps their keys (a small
    frame beside the aggregates) and moves groups with :meth:`take`, :meth:`concat`,
    :meth:`regroup` and :meth:`total`. A second axis may hold consecutive steps (days
    of one group, see :meth:`windows`).

    Examples:
        >>> a = Aggregates.from_units(amount=[120.0, 80.0, 100.0])
        >>> b = Aggregates.from_units(amount=[140.0])
        >>> both = a + b
        >>> float(both.n[0]), float(both.mean("amount")[0]), float(both.var("amount")[0])
        (4.0, 110.0, 666.6666666666666)

        A missing value has a count of its own:

        >>> r = Aggregates(2.0, {"n_item": 1.0, "item": 4.0, "item*item": 16.0})
        >>> float(r.mean("item", count="n_item")[0])
        4.0
    """

    __slots__ = ("n", "sums")

    def __init__(self, n: Any, sums: Mapping[str, Any]) -> None:
        self.n: Array = np.atleast_1d(floats(n))
        self.sums: dict[str, Array] = {k: np.atleast_1d(floats(v)) for k, v in sums.items()}

    @classmethod
    def from_units(cls, **values: Any) -> Aggregates:
        """Aggregates of one group from per-unit values, with every pairwise product."""
        cols = {k: floats(v) for k, v in values.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            msg = f"per-unit values of different lengths: { {k: len(v) for k, v in cols.items()} }"
            raise ValueError(msg)
        sums = {k: v.sum() for k, v in cols.items()}
        names = list(cols)
        for i, a in enumerate(names):
            for b in names[i:]:
                sums[f"{a}*{b}"] = (cols[a] * cols[b]).sum()
        return cls(float(lengths.pop()), sums)

    @classmethod
    def from_sums(
        cls, frame: Any, names: Sequence[str] | None = None, *, n: str = "n"
    ) -> Aggregates:
        """Aggregates of the groups of a collected frame (or mapping) of per-group sums.

        ``frame[n]`` holds the units per group, ``frame[name]`` each sum (``names``:
        which columns; default every column but ``n``). A missing sum (an engine's sum
        over no rows comes back null) counts as 0. Key columns are the caller's: pass
        ``names``, or a frame without them.

        Examples:
            >>> import pandas as pd
            >>> sums = pd.DataFrame({"carrier": ["SF", "YTO"], "n": [3, 1],
            ...                      "amount": [300.0, None]})
            >>> a = Aggregates.from_sums(sums, ["amount"])
            >>> a.n.tolist(), a.sums["amount"].tolist()
            ([3.0, 1.0], [300.0, 0.0])
        """
        if names is None:
            names = [c for c in frame if c != n]
        return cls(_zero_nan(frame[n]), {k: _zero_nan(frame[k]) for k in names})

    @classmethod
    def zeros(cls, names: Sequence[str], shape: int | tuple[int, ...] = 1) -> Aggregates:
        """Aggregates of ``shape`` empty groups (every count and sum 0) named ``names``.

        Examples:
            >>> Aggregates.zeros(["x", "x*x"], 2).sums["x"].tolist()
            [0.0, 0.0]
        """
        return cls(np.zeros(shape), {k: np.zeros(shape) for k in names})

    @classmethod
    def concat(cls, parts: Sequence[Aggregates]) -> Aggregates:
        """The groups of ``parts`` one after the other (the same sums in every part).

        Examples:
            >>> a = Aggregates.from_units(x=[1.0, 2.0])
            >>> both = Aggregates.concat([a, Aggregates.from_units(x=[5.0])])
            >>> both.n.tolist(), both.sums["x"].tolist()
            ([2.0, 1.0], [3.0, 5.0])
        """
        first = _first(parts)
        return cls(
            np.concatenate([p.n for p in parts]),
            {k: np.concatenate([p.sums[k] for p in parts]) for k in first.sums},
        )

    @classmethod
    def stack(cls, parts: Sequence[Aggregates]) -> Aggregates:
        """Aggregates of the same groups, one part per step, as a (groups, steps) grid.

        Examples:
            >>> day1 = Aggregates([2.0, 1.0], {"x": [3.0, 5.0]})
            >>> day2 = Aggregates([1.0, 0.0], {"x": [4.0, 0.0]})
            >>> Aggregates.stack([day1, day2]).sums["x"].tolist()
            [[3.0, 4.0], [5.0, 0.0]]
        """
        first = _first(parts)
        return cls(
            np.stack([p.n for p in parts], axis=-1),
            {k: np.stack([p.sums[k] for p in parts], axis=-1) for k in first.sums},
        )

    def __len__(self) -> int:
        """The number of groups."""
        return int(self.n.shape[0])

    def take(self, index: Any) -> Aggregates:
        """The groups at ``index`` (positions, a boolean mask or a slice), in that order.

        Examples:
            >>> a = Aggregates([1.0, 2.0, 3.0], {"x": [10.0, 20.0, 30.0]})
            >>> a.take([2, 0]).sums["x"].tolist(), a.take(a.n > 1).n.tolist()
            ([30.0, 10.0], [2.0, 3.0])
        """
        return Aggregates(self.n[index], {k: v[index] for k, v in self.sums.items()})

    def regroup(self, codes: Any, size: int | tuple[int, ...]) -> Aggregates:
        """Merge groups: group ``i`` is added into new group ``codes[i]`` of ``size``.

        The sums of groups with the same code add up, in the order of the groups; a new
        group no code points to is empty (0). ``codes`` may be a tuple of index arrays
        and ``size`` a shape, to fill a grid (groups × days), as :func:`numpy.add.at`
        takes them.

        Examples:
            >>> a = Aggregates([1.0, 1.0, 1.0], {"x": [4.0, 5.0, 2.0]})
            >>> b = a.regroup([1, 0, 1], 3)
            >>> b.n.tolist(), b.sums["x"].tolist()
            ([1.0, 2.0, 0.0], [5.0, 6.0, 0.0])
            >>> a.regroup(([0, 0, 1], [1, 1, 0]), (2, 2)).sums["x"].tolist()
            [[0.0, 9.0], [2.0, 0.0]]
        """
        idx = (
            tuple(np.asarray(c, dtype=np.int64) for c in codes)
            if isinstance(codes, tuple)
            else np.asarray(codes, dtype=np.int64)
        )

        def add(v: Array) -> Array:
            out = np.zeros(size)
            np.add.at(out, idx, v)
            return out

        return Aggregates(add(self.n), {k: add(v) for k, v in self.sums.items()})

    def total(self) -> Aggregates:
        """All groups as one (a single group).

        Examples:
            >>> a = Aggregates([1.0, 2.0], {"x": [4.0, 5.0]})
            >>> a.total().n.tolist(), a.total().sums["x"].tolist()
            ([3.0], [9.0])
        """
        return Aggregates(self.n.sum(axis=0), {k: v.sum(axis=0) for k, v in self.sums.items()})

    def windows(self, ends: Any, length: int) -> Aggregates:
        """Sums over windows of ``length`` consecutive steps, one per element of ``ends``.

        The last axis holds consecutive steps (days); the window ending at step ``e``
        covers steps ``e - length + 1`` to ``e`` (the part of it on the axis). It is the
        difference of two cumulative sums, so every window costs the same, however long:
        a rolling score for every period end from one pass over the days.

        Examples:
            >>> days = Aggregates([1.0, 1.0, 0.0, 2.0], {"x": [5.0, 4.0, 0.0, 9.0]})
            >>> w = days.windows([1, 2, 3], length=2)
            >>> w.n.tolist(), w.sums["x"].tolist()
            ([2.0, 1.0, 2.0], [9.0, 4.0, 9.0])
        """
        b = np.asarray(ends, dtype=np.int64)
        a = np.maximum(b - length + 1, 0)

        def window(v: Array) -> Array:
            zero = np.zeros((*v.shape[:-1], 1))
            cum = np.concatenate([zero, np.cumsum(v, axis=-1)], axis=-1)
            out: Array = cum[..., b + 1] - cum[..., a]
            return out

        return Aggregates(window(self.n), {k: window(v) for k, v in self.sums.items()})

    def _check_names(self, other: Aggregates) -> None:
        if set(self.sums) != set(other.sums):
            msg = f"cannot merge aggregates of {sorted(self.sums)} and {sorted(other.sums)}"
            raise ValueError(msg)

    def __add__(self, other: Aggregates) -> Aggregates:
        """Aggregates of the union of two disjoint sets of units, group by group."""
        self._check_names(other)
        return Aggregates(self.n + other.n, {k: v + other.sums[k] for k, v in self.sums.items()})

    def _sum(self, name: str) -> Array:
        if name in self.sums:
            return self.sums[name]
        a, _, b = name.partition("*")
        flipped = f"{b}*{a}"
        if b and flipped in self.sums:
            return self.sums[flipped]
        msg = f"no sum {name!r} in these aggregates (have {sorted(self.sums)})"
        raise KeyError(msg)

    def _count(self, count: str | None) -> Array:
        return self.n if count is None else self._sum(count)

    def mean(self, name: str, count: str | None = None) -> Array:
        """Mean of ``name`` over the units (or over ``count`` units that have it)."""
        return intervals.rate(self._sum(name), self._count(count))

    def cov(self, a: str, b: str, count: str | None = None) -> Array:
        """Sample covariance (``n - 1`` denominator); NaN with fewer than 2 units."""
        k = self._count(count)
        with np.errstate(divide="ignore", invalid="ignore"):
            kk = np.where(k > 1, k, np.nan)
            out: Array = (self._sum(f"{a}*{b}") - self._sum(a) * self._sum(b) / kk) / (kk - 1)
        return out

    def var(self, name: str, count: str | None = None) -> Array:
        """Sample variance (``n - 1`` denominator), never below 0 from rounding."""
        return np.maximum(self.cov(name, name, count), 0.0)

    def ratio(self, num: str, den: str | None = None) -> tuple[Array, Array]:
        """``Σnum / Σden`` (``den=None``: per unit) and its delta-method variance.

        See :func:`shopmetrics.stats.intervals.ratio_var` (Deng, Knoblich & Lu 2018).
        """
        if den is None:
            return self.mean(num), self.var(num) / np.where(self.n > 0, self.n, np.nan)
        return intervals.ratio_var(
            self.n,
            self._sum(num),
            self._sum(den),
            self._sum(f"{num}*{num}"),
            self._sum(f"{den}*{den}"),
            self._sum(f"{num}*{den}"),
        )

    def ratio_ci(
        self, num: str, den: str | None = None, confidence: float | None = None
    ) -> tuple[Array, Array, Array]:
        """:meth:`ratio` with its normal (delta-method) interval: ``(r, low, high)``."""
        r, var = self.ratio(num, den)
        z = z_crit(confidence or get_config().confidence)
        se = np.sqrt(var)
        return r, r - z * se, r + z * se

    def __repr__(self) -> str:
        return f"Aggregates(groups={self.n.size}, sums={sorted(self.sums)})"


def _first(parts: Sequence[Aggregates]) -> Aggregates:
    """The first of ``parts``, once every part has the same sums."""
    if not parts:
        msg = "no aggregates to put together"
        raise ValueError(msg)
    for other in parts[1:]:
        parts[0]._check_names(other)
    return parts[0]


def _zero_nan(values: Any) -> Array:
    v = floats(values)
    return np.where(np.isnan(v), 0.0, v)


def compare_ratios(
    arm1: Aggregates,
    arm2: Aggregates,
    num: str,
    den: str | None = None,
    *,
    confidence: float | None = None,
    alternative: str = "two-sided",
) -> Comparison:
    """Difference of a ratio metric between two independent samples (AOV, visitor value, ROAS).

    ``d = R1 - R2`` with ``se = sqrt(Var(R1) + Var(R2))`` (each by :meth:`Aggregates.ratio`,
    ``R = Σnum / Σden``) and a
    Welch-type z test ``z = d / se`` (normal reference: meant for the hundreds of units
    a store's comparisons rest on). For a plain mean (``x = 1`` per unit) the statistic
    equals Welch's unequal-variance t statistic.

    Args:
        arm1: Aggregates of arm 1 (treatment / current period).
        arm2: Aggregates of arm 2 (control / previous period).
        num: The numerator's name in the aggregates (e.g. ``"amount"``).
        den: The denominator's name (e.g. ``"cost"``); ``None`` for a per-unit mean.
        confidence: Confidence level (default from config).
        alternative: ``"two-sided"``, ``"greater"`` (``R1 > R2``) or ``"less"``.

    Returns:
        A :class:`Comparison` of the difference (test ``"delta-z"``); NaN where either arm
        has fewer than 2 units or a zero denominator.

    References:
        Deng, Knoblich & Lu (2018), KDD; Welch, B. L. (1947), Biometrika 34, 28-35.

    Examples:
        >>> a = Aggregates.from_units(amount=[120.0, 80.0, 100.0, 140.0])
        >>> b = Aggregates.from_units(amount=[90.0, 70.0, 110.0, 60.0])
        >>> c = compare_ratios(a, b, "amount", confidence=0.95)
        >>> round(float(c.estimate[0]), 2), round(float(c.p_value[0]), 4)
        (27.5, 0.1061)
    """
    check_alternative(alternative)
    confidence = confidence or get_config().confidence
    r1, v1 = arm1.ratio(num, den)
    r2, v2 = arm2.ratio(num, den)
    d = np.atleast_1d(r1 - r2)
    se = np.atleast_1d(np.sqrt(v1 + v2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, d / np.where(se > 0, se, 1.0), np.sign(d) * np.inf)
    z = np.where(np.isfinite(d) & np.isfinite(se), z, np.nan)
    p = p_from_z(z, alternative)
    p = np.where(np.isnan(z), np.nan, p)
    crit = z_crit(confidence)
    test = np.where(np.isfinite(p), "delta-z", "").astype(np.str_)
    return Comparison(d, d - crit * se, d + crit * se, floats(p), test)
