"""The coverage harness: the large size only on request, and the table at the end.

Tests marked ``slow_coverage`` (the large simulation sizes) are deselected unless the
environment has ``SHOPMETRICS_COVERAGE_SIM=1`` (``make coverage-sim`` sets it), so a
plain ``pytest tests`` — with or without ``-m`` — runs only the small sizes.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.coverage import sim


def _wanted() -> bool:
    return os.environ.get("SHOPMETRICS_COVERAGE_SIM") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _wanted():
        return
    slow = [i for i in items if i.get_closest_marker("slow_coverage") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if i.get_closest_marker("slow_coverage") is None]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _wanted() and sim.RESULTS:
        terminalreporter.write_sep("=", "coverage of 95% intervals, false positives at α = 0.05")
        terminalreporter.write_line(sim.table(sim.RESULTS))
