"""Every public function takes every input kind (issue 19): pandas, pyarrow, polars,
a DuckDB relation, a Parquet path and a CSV path, and gives the pandas input's numbers."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import shopmetrics as sm

KINDS = ["pandas", "pyarrow", "parquet", "csv"]
if importlib.util.find_spec("polars"):
    KINDS.append("polars")
if importlib.util.find_spec("duckdb"):
    KINDS.append("duckdb")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    s = sm.datasets.make_store(seed=3, days=35, products=8, visitors_per_day=120, traps=False)
    events = s.events.assign(
        image=np.where(s.events["visitor_id"].str[-1].isin(list("02468")), "white", "current")
    )
    daily = sm.funnel(s.events, freq="D", detect=False).to_pandas()
    daily = pd.DataFrame({"date": daily["period_start"], "visitors": daily["visitors"]})
    return {
        "events": events,
        "orders": s.orders,
        "ratings": s.ratings,
        "spend": s.spend,
        "daily": daily,
    }


Make = Callable[[str], Any]


def _maker(kind: str, tables: dict[str, pd.DataFrame], folder: Path) -> Make:
    def make(name: str) -> Any:
        df = tables[name]
        if kind == "pandas":
            return df
        if kind == "pyarrow":
            return pa.Table.from_pandas(df, preserve_index=False)
        if kind == "polars":
            import polars as pl

            return pl.from_arrow(pa.Table.from_pandas(df, preserve_index=False))
        if kind == "duckdb":
            import duckdb

            return duckdb.connect().from_arrow(pa.Table.from_pandas(df, preserve_index=False))
        path = folder / f"{name}.{kind}"
        if not path.exists():
            if kind == "parquet":
                df.to_parquet(path, index=False)
            else:
                df.to_csv(path, index=False)
        return str(path)

    return make


CALLS: dict[str, Callable[[Make], Any]] = {
    "funnel": lambda t: sm.funnel(t("events"), t("orders"), by="source", freq="W"),
    "visitor_value": lambda t: sm.visitor_value(t("events"), t("orders"), t("spend"), by="source"),
    "traffic_sources": lambda t: sm.traffic_sources(t("events"), t("orders"), t("spend")),
    "dsr": lambda t: sm.dsr(t("ratings"), t("orders")),
    "low_ratings": lambda t: sm.low_ratings(t("ratings"), orders=t("orders")),
    "attribute": lambda t: sm.attribute(events=t("events"), orders=t("orders")),
    "customer_value": lambda t: sm.customer_value(t("orders"), calibration_end="2026-10-24"),
    "ab_test": lambda t: sm.ab_test(events=t("events"), variant="image", metric="cart"),
    "ctr_test": lambda t: sm.ctr_test(t("events"), variant="image"),
    "anomalies": lambda t: sm.anomalies(t("daily")),
    "repurchase": lambda t: sm.repurchase(t("orders"), freq="W", lookback_days=14),
    "cohorts": lambda t: sm.cohorts(t("orders")),
    "validate": lambda t: sm.validate(events=t("events"), orders=t("orders"), spend=t("spend")),
}


def _frame(result: Any) -> pd.DataFrame:
    """The numbers a call returns, as a frame in a stable row order."""
    if isinstance(result, pd.DataFrame):
        t = result
    elif hasattr(result, "problems"):  # a validation report: what it found
        t = pd.DataFrame({"code": sorted(f.code for f in result.problems)})
    else:
        t = result.table
    t = t.reset_index(drop=True)
    keys = [c for c in t.columns if not pd.api.types.is_float_dtype(t[c])]
    return t.sort_values(keys, key=lambda s: s.astype(str)).reset_index(drop=True) if keys else t


@pytest.fixture(scope="module")
def expected(
    tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pd.DataFrame]:
    make = _maker("pandas", tables, tmp_path_factory.mktemp("pandas"))
    return {name: _frame(call(make)) for name, call in CALLS.items()}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inputs")


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "pandas"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_function_takes_every_input_kind(
    name: str,
    kind: str,
    tables: dict[str, pd.DataFrame],
    expected: dict[str, pd.DataFrame],
    folder: Path,
) -> None:
    got = _frame(CALLS[name](_maker(kind, tables, folder)))
    want = expected[name]
    assert list(got.columns) == list(want.columns), f"{name} from {kind}: columns differ"
    assert len(got) == len(want), f"{name} from {kind}: {len(got)} rows, pandas {len(want)}"
    for c in want.columns:
        if pd.api.types.is_float_dtype(want[c]) or pd.api.types.is_integer_dtype(want[c]):
            np.testing.assert_allclose(
                got[c].to_numpy(float),
                want[c].to_numpy(float),
                rtol=1e-9,
                atol=1e-9,
                err_msg=f"{name} from {kind}: column {c}",
            )
        else:
            assert got[c].astype(str).tolist() == want[c].astype(str).tolist(), (
                f"{name} from {kind}: column {c}"
            )
