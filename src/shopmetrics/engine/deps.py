"""Optional dependencies: import on first use, with an install hint when missing."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from shopmetrics.errors import MissingDependencyError

_EXTRA = {
    "polars": "polars",
    "duckdb": "duckdb",
    "pyspark": "spark",
    "matplotlib": "plot",
    "openpyxl": "excel",
}


def has(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    return importlib.util.find_spec(package) is not None


def need(package: str, purpose: str) -> ModuleType:
    """Import an optional package or raise :class:`MissingDependencyError` with the extra to install."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        top = package.split(".", maxsplit=1)[0]
        raise MissingDependencyError(top, _EXTRA.get(top, "all"), purpose) from exc
