"""Absorbing Markov chains of customer journeys and their exact removal effects.

A journey is a walk from the start state through channel states (the last ``order``
channels seen) to one of two absorbing states, ``conversion`` or ``null``. :class:`Chain`
holds the transition counts of many journeys; :func:`removal_effects` solves the chain
for its conversion probability and, for each channel, the relative drop when every state
containing it leads to ``null`` instead. :class:`~shopmetrics.engine.journeys.Journeys` holds the journeys every
attribution model reads (built by :mod:`shopmetrics.engine.journeys`) and the chains of
each order fitted to them.

References:
    Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the customer journey:
    Lessons learned from graph-based online attribution modeling", International Journal
    of Research in Marketing 33(3), 457-474. Kemeny & Snell (1976), *Finite Markov
    Chains*, chapter 3 (absorbing chains: ``B = (I - Q)^-1 R``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["START", "Chain", "State", "bump", "removal_effects"]


State = tuple[str, ...]
"""A state of the chain: the last ``order`` channels of a journey, oldest first."""

START: State = ()
"""The start state of the Markov chain (no channel seen yet)."""


@dataclasses.dataclass
class Chain:
    """Transition counts of a Markov chain over channel states.

    Attributes:
        transitions: ``{(from_state, to_state): count}``; ``from_state`` may be
            :data:`START`.
        conversions: ``{state: count}`` of journeys converting after ``state``.
        nulls: ``{state: count}`` of journeys ending without conversion after ``state``.
    """

    transitions: dict[tuple[State, State], float] = dataclasses.field(default_factory=dict)
    conversions: dict[State, float] = dataclasses.field(default_factory=dict)
    nulls: dict[State, float] = dataclasses.field(default_factory=dict)

    def add_path(self, path: Sequence[str], conversions: float, nulls: float, order: int) -> None:
        """Add ``conversions + nulls`` journeys along ``path`` (states are ``order``-tuples)."""
        weight = conversions + nulls
        if weight <= 0 or not path:
            return
        prev = START
        for j in range(len(path)):
            state = tuple(path[max(0, j - order + 1) : j + 1])
            bump(self.transitions, (prev, state), weight)
            prev = state
        if conversions:
            bump(self.conversions, prev, conversions)
        if nulls:
            bump(self.nulls, prev, nulls)

    def merge(self, other: Chain) -> Chain:
        """The chain of both sets of journeys (counts add up)."""
        out = Chain(dict(self.transitions), dict(self.conversions), dict(self.nulls))
        for k, v in other.transitions.items():
            bump(out.transitions, k, v)
        for s_, v in other.conversions.items():
            bump(out.conversions, s_, v)
        for s_, v in other.nulls.items():
            bump(out.nulls, s_, v)
        return out

    def states(self) -> list[State]:
        """Every non-start state, sorted."""
        seen = {s for pair in self.transitions for s in pair}
        seen.update(self.conversions, self.nulls)
        seen.discard(START)
        return sorted(seen)


def bump(counts: dict[Any, float], key: Any, weight: float) -> None:
    """Add ``weight`` to ``counts[key]`` (a transition, conversion or null count)."""
    counts[key] = counts.get(key, 0.0) + weight


def removal_effects(chain: Chain) -> tuple[float, dict[str, float]]:
    """Conversion probability of a Markov chain and each channel's removal effect.

    The chain is absorbing (states ``conversion`` and ``null``). With ``Q`` the transition
    probabilities among transient states (start and channel states) and ``r`` the
    probabilities of moving to ``conversion``, the absorption probabilities solve
    ``(I - Q) x = r``; ``x[start]`` is the probability of converting. Removing channel
    ``c`` sends every state containing ``c`` to ``null``; its removal effect is
    ``1 - x_c[start] / x[start]``.

    Args:
        chain: Transition counts (see :class:`Chain`).

    Returns:
        ``(conversion_probability, {channel: removal_effect})``; removal effects are NaN
        when nothing converts.

    References:
        Kemeny & Snell (1976), *Finite Markov Chains*, chapter 3; Anderl et al.
        (2016), IJRM 33(3), section 3.

    Examples:
        >>> chain = Chain()
        >>> chain.add_path(["a", "b"], conversions=1, nulls=0, order=1)
        >>> chain.add_path(["b"], conversions=0, nulls=1, order=1)
        >>> p, effects = removal_effects(chain)
        >>> round(p, 4), {c: round(e, 4) for c, e in effects.items()}
        (0.5, {'a': 0.5, 'b': 1.0})
    """
    states = chain.states()
    channels = sorted({c for s in states for c in s})
    if not states:
        return math.nan, {}
    idx = {START: 0, **{s: i + 1 for i, s in enumerate(states)}}
    size = len(states) + 1
    q = np.zeros((size, size))
    r = np.zeros(size)
    out = np.zeros(size)
    for (a, b), w in chain.transitions.items():
        q[idx[a], idx[b]] += w
        out[idx[a]] += w
    for s, w in chain.conversions.items():
        r[idx[s]] += w
        out[idx[s]] += w
    for s, w in chain.nulls.items():
        out[idx[s]] += w
    scale = np.where(out > 0, out, 1.0)
    q /= scale[:, None]
    r /= scale
    eye = np.eye(size)
    p = float(np.linalg.solve(eye - q, r)[0])
    if not p > 0:
        return p, dict.fromkeys(channels, math.nan)
    effects: dict[str, float] = {}
    for c in channels:
        gone = np.array([False] + [c in s for s in states])
        q_c = q.copy()
        q_c[gone, :] = 0.0
        r_c = np.where(gone, 0.0, r)
        p_c = float(np.linalg.solve(eye - q_c, r_c)[0])
        effects[c] = max(0.0, 1.0 - p_c / p)
    return p, effects
