"""Defaults users tune, in one place, with a context manager.

The configuration lives in a :class:`contextvars.ContextVar`, so ``config_context`` changes
it for the current thread or task only: two threads computing metrics with different
settings do not see each other's values, and there is no global mutable state.

Examples:
    >>> import shopmetrics as sm
    >>> sm.get_config().confidence
    0.95
    >>> with sm.config_context(confidence=0.9, min_sample=50):
    ...     sm.get_config().confidence
    0.9
    >>> sm.get_config().min_sample
    30
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from shopmetrics.errors import DefinitionError

__all__ = ["Config", "config_context", "get_config"]

_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B)", re.IGNORECASE)

CIMethod = Literal["wilson", "jeffreys", "clopper-pearson"]
CI_METHODS: tuple[str, ...] = ("wilson", "jeffreys", "clopper-pearson")
CORRECTIONS: tuple[str, ...] = ("bh", "holm", "none")


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """Tunable defaults.

    Attributes:
        confidence: Confidence level of every interval.
        ci_method: Interval for proportions: ``"wilson"`` (default, Brown, Cai & DasGupta
            2001), ``"jeffreys"`` or ``"clopper-pearson"``. Wald is not offered.
        min_sample: Denominators below this get the ``small_sample`` marker and flag.
        max_ci_width: An interval wider than this (absolute, on a rate) is also "small sample".
        fdr: False discovery rate level for comparisons across many groups.
        correction: Multiple-testing correction: ``"bh"`` (Benjamini-Hochberg), ``"holm"``
            or ``"none"``.
        tz: The store's time zone, in which days are cut (``None``: timestamps are taken as
            store-local wall time; aware timestamps are then cut in their own zone).
        engine: ``"auto"`` (fast path when polars or duckdb is installed), or force
            ``"pandas"``, ``"polars"``, ``"duckdb"``, or ``"native"`` (the input's own engine).
        memory_limit: The memory DuckDB may hold for the files shopmetrics opens (Parquet
            and plain CSV paths scanned with DuckDB), e.g. ``"3GB"``; past it DuckDB
            spills to its temporary directory. ``None`` (default): DuckDB's own default
            connection and limit (80% of RAM). Tables you pass as DuckDB relations run on
            your connection, with its settings.
        rise_colour: Colour of a rise in reports: ``"auto"`` (the reader's market: red in
            Chinese reports, as in 生意参谋; green in English), ``"red"`` or ``"green"``.
    """

    confidence: float = 0.95
    ci_method: CIMethod = "wilson"
    min_sample: int = 30
    max_ci_width: float = 0.5
    fdr: float = 0.05
    correction: str = "bh"
    tz: str | None = None
    engine: str = "auto"
    memory_limit: str | None = None
    rise_colour: str = "auto"

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            msg = f"confidence must be in [0.5, 1), got {self.confidence!r}"
            raise DefinitionError(msg)
        if self.ci_method not in CI_METHODS:
            raise DefinitionError.unknown("ci_method", self.ci_method, CI_METHODS)
        if self.correction not in CORRECTIONS:
            raise DefinitionError.unknown("correction", self.correction, CORRECTIONS)
        if self.engine not in ("auto", "pandas", "polars", "duckdb", "native"):
            raise DefinitionError.unknown(
                "engine", self.engine, ("auto", "pandas", "polars", "duckdb", "native")
            )
        if self.memory_limit is not None and not _MEMORY.fullmatch(str(self.memory_limit)):
            msg = (
                f"memory_limit must be a size such as '3GB' or '500MB' (KB, MB, GB, TB, "
                f"KiB, MiB, GiB, TiB), got {self.memory_limit!r}"
            )
            raise DefinitionError(msg)
        if self.rise_colour not in ("auto", "red", "green"):
            raise DefinitionError.unknown("rise_colour", self.rise_colour, ("auto", "red", "green"))
        if self.min_sample < 0:
            msg = f"min_sample must be >= 0, got {self.min_sample!r}"
            raise DefinitionError(msg)


_CONFIG: contextvars.ContextVar[Config] = contextvars.ContextVar(
    "shopmetrics_config",
    default=Config(),  # noqa: B039 - Config is a frozen dataclass, never mutated
)


def get_config() -> Config:
    """Return the configuration in force in this thread / task."""
    return _CONFIG.get()


@contextmanager
def config_context(**changes: Any) -> Iterator[Config]:
    """Change defaults inside a ``with`` block (this thread or task only).

    Args:
        **changes: Any field of :class:`Config`.

    Yields:
        The configuration in force inside the block.
    """
    unknown = set(changes) - {f.name for f in dataclasses.fields(Config)}
    if unknown:
        raise DefinitionError.unknown(
            "config field", sorted(unknown)[0], [f.name for f in dataclasses.fields(Config)]
        )
    new = dataclasses.replace(get_config(), **changes)
    token = _CONFIG.set(new)
    try:
        yield new
    finally:
        _CONFIG.reset(token)
