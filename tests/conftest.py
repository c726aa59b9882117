"""Shared fixtures: every engine-level test runs on every installed engine."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

Constructor = Callable[[pd.DataFrame], Any]


def _pyarrow(df: pd.DataFrame) -> Any:
    return pa.Table.from_pandas(df, preserve_index=False)


def _polars(df: pd.DataFrame) -> Any:
    import polars as pl

    return pl.from_arrow(_pyarrow(df))


def _polars_lazy(df: pd.DataFrame) -> Any:
    return _polars(df).lazy()


def _duckdb(df: pd.DataFrame) -> Any:
    import duckdb

    con = duckdb.connect()
    return con.from_arrow(_pyarrow(df))


def _pandas_only(df: pd.DataFrame) -> Any:
    """pandas input with the fast path switched off (the core-dependencies-only route)."""
    return df


CONSTRUCTORS: dict[str, Constructor] = {"pandas": lambda df: df, "pyarrow": _pyarrow}
if importlib.util.find_spec("polars"):
    CONSTRUCTORS["polars"] = _polars
    CONSTRUCTORS["polars-lazy"] = _polars_lazy
if importlib.util.find_spec("duckdb"):
    CONSTRUCTORS["duckdb"] = _duckdb


@pytest.fixture(params=sorted(CONSTRUCTORS))
def constructor(request: pytest.FixtureRequest) -> Constructor:
    """Turn a pandas frame into the native table of each installed engine."""
    return CONSTRUCTORS[request.param]


@pytest.fixture(params=["auto", "pandas"])
def engine(request: pytest.FixtureRequest) -> Any:
    """Run a test with the fast path (polars/duckdb) and with plain pandas."""
    import shopmetrics as sm

    with sm.config_context(engine=request.param):
        yield request.param


@pytest.fixture(scope="session")
def store() -> Any:
    """The demo store (seed 0), built once per test session."""
    import shopmetrics as sm

    return sm.datasets.make_store(seed=0)


@pytest.fixture(scope="session")
def clean_store() -> Any:
    """The demo store without its planted traps."""
    import shopmetrics as sm

    return sm.datasets.make_store(seed=0, traps=False)
