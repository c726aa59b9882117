"""Known processes for the coverage and false-positive-rate tests, and the table of results.

Every simulated store is drawn from a process whose truth is known in closed form; each
case draws ``draws`` stores at once (vectorised: one array element per store) and hands
the library's own interval / test function the aggregates the engine would hand it
(counts, Σy and Σy² over the right unit). Seeds are fixed: the suite is deterministic.

Monte-Carlo error: a coverage near 95% estimated from ``draws`` stores has a standard
error of ``sqrt(0.95 · 0.05 / draws)``: 0.49 points at 2,000 draws (the ``make test``
size), 0.34 at 4,000 and 0.15 at 20,000 (``make coverage-sim``), so the 92–98% band is
six standard errors wide on each side even at the small size; a false-positive rate
near 5% has the same error, and its ceiling of 6% is two standard errors above 5% at
2,000 draws (4.5 at 20,000).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

FAST = 2_000
"""Stores per case in ``make test`` (the whole harness runs in well under a minute)."""

SLOW = 20_000
"""Stores per case in ``make coverage-sim`` (marker ``slow_coverage``)."""

LOW, HIGH = 0.92, 0.98
"""Band a 95% interval's simulated coverage must fall in."""

MAX_FPR = 0.06
"""Ceiling of a test's simulated false-positive rate at α = 0.05."""


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table ``make coverage-sim`` prints (and docs/statistics.md keeps)."""

    kind: str  # "coverage" or "fpr"
    metric: str
    method: str
    case: str
    draws: int
    value: float
    width: float = math.nan  # median relative width of the interval (coverage rows)


RESULTS: list[Row] = []
"""Rows recorded by the tests of this session (printed by the conftest summary hook)."""


def record(row: Row) -> Row:
    RESULTS.append(row)
    return row


def table(rows: list[Row]) -> str:
    """The Markdown table of the recorded rows, coverage first."""
    lines = [
        "| kind | metric | method | case | draws | result | median width |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r.kind, r.metric, r.case)):
        what = "coverage" if r.kind == "coverage" else "false positives"
        width = "" if math.isnan(r.width) else f"{r.width:.2f}"
        lines.append(
            f"| {what} | {r.metric} | {r.method} | {r.case} | {r.draws:,} | "
            f"{100 * r.value:.1f}% | {width} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- processes


@dataclasses.dataclass(frozen=True)
class Spend:
    """A buyer's spend in a period: 1 + Poisson(extra) orders (clustered buyers), each
    lognormal(mu, sigma) times a buyer effect lognormal(0, buyer_sd) shared by the buyer's
    orders (so a buyer's orders are correlated), each order refunded in full with
    probability ``refund``."""

    mu: float = 4.0
    sigma: float = 1.0
    extra: float = 0.8
    buyer_sd: float = 0.5
    refund: float = 0.0

    def mean(self, net: bool = False) -> float:
        """E[a buyer's spend] (net of refunds with ``net``)."""
        keep = 1 - self.refund if net else 1.0
        return (
            (1 + self.extra)
            * math.exp(self.mu + self.sigma**2 / 2)
            * math.exp(self.buyer_sd**2 / 2)
            * keep
        )


def buyer_sums(
    rng: np.random.Generator, buyers: Any, spend: Spend, net: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Σ over each store's buyers of a buyer's spend and of its square (the engine's
    ``paid_amount`` and ``paid_amount_sq``: orders summed per buyer first).

    ``buyers`` is the number of buyers of each store (an array: one store per element)."""
    buyers = np.asarray(buyers, dtype=np.int64)
    store_of_buyer = np.repeat(np.arange(len(buyers)), buyers)
    b = len(store_of_buyer)
    orders = 1 + rng.poisson(spend.extra, size=b)
    buyer_of_order = np.repeat(np.arange(b), orders)
    effect = rng.lognormal(0.0, spend.buyer_sd, size=b)
    amount = rng.lognormal(spend.mu, spend.sigma, size=len(buyer_of_order))
    amount *= effect[buyer_of_order]
    if net:
        amount *= rng.uniform(size=len(amount)) >= spend.refund
    per_buyer = np.bincount(buyer_of_order, amount, minlength=b)
    total = np.bincount(store_of_buyer, per_buyer, minlength=len(buyers))
    squares = np.bincount(store_of_buyer, per_buyer**2, minlength=len(buyers))
    return total, squares


def covered(low: Any, high: Any, truth: Any) -> float:
    """Share of draws whose interval holds the truth (a NaN interval counts as a miss)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return float(np.mean((low <= truth) & (truth <= high)))


def rel_width(low: Any, high: Any, truth: float) -> float:
    return float(np.nanmedian((np.asarray(high) - np.asarray(low)) / abs(truth)))
