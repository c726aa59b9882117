"""Scale: the fast path gives the same numbers as plain pandas, to the last digit; only
aggregates reach the driver; Parquet paths are scanned, not loaded; portable date maths.

References used below, all computed independently of shopmetrics' engine code:

- counts: pandas ``groupby().size()`` / ``nunique()`` on the raw rows;
- money: Python's :mod:`decimal` sum of the amounts as the decimals they print as
  (``Decimal(repr(x))``), rounded once to a double — the exact sum, which an engine's
  float summation only approximates in an order-dependent way;
- day numbers and durations: Python's :mod:`datetime` arithmetic.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine

from .conftest import CONSTRUCTORS, Constructor

BY = ["product_id", "source"]
COUNTS = [
    "exposures",
    "clicks",
    "page_views",
    "visitors",
    "inquirers",
    "carters",
    "favoriters",
    "order_buyers",
    "paid_buyers",
    "paid_orders",
]
ENGINES = ["auto", "pandas", "polars", "duckdb"]


@pytest.fixture(scope="module")
def small() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=5, days=10, products=8, visitors_per_day=150, traps=False)


@pytest.fixture(scope="module")
def orders_with_awkward_amounts(small: sm.datasets.Store) -> pd.DataFrame:
    """The demo orders with amounts whose float sums depend on the order of addition."""
    od = small.orders.copy()
    rng = np.random.default_rng(11)
    awkward = np.array([0.1, 0.2, 0.3, 13.9, 24.9, 0.07, 1e6 + 0.01, 99.99, 1234567.89, 0.01])
    od["amount"] = awkward[rng.integers(0, len(awkward), len(od))]
    return od


def _decimal_sum(values: pd.Series) -> float:
    """The exact sum of the amounts as printed decimals, rounded once (the reference)."""
    return float(sum((Decimal(repr(float(v))) for v in values), Decimal(0)))


def _hand(events: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Product x source x day funnel counts in plain pandas, straight from the rows."""
    keys = [*BY, "day"]
    ev = events.assign(day=events["ts"].dt.strftime("%Y-%m-%d"))
    parts = []
    for event, name in (("exposure", "exposures"), ("click", "clicks"), ("visit", "page_views")):
        parts.append(ev[ev["event"] == event].groupby(keys).size().rename(name))
    for event, name in (
        ("visit", "visitors"),
        ("inquiry", "inquirers"),
        ("cart", "carters"),
        ("favorite", "favoriters"),
    ):
        parts.append(ev[ev["event"] == event].groupby(keys)["visitor_id"].nunique().rename(name))
    created = orders.assign(day=orders["created_at"].dt.strftime("%Y-%m-%d"))
    paid = orders[orders["paid_at"].notna()]
    paid = paid.assign(day=paid["paid_at"].dt.strftime("%Y-%m-%d"))
    parts.append(created.groupby(keys)["buyer_id"].nunique().rename("order_buyers"))
    parts.append(paid.groupby(keys)["buyer_id"].nunique().rename("paid_buyers"))
    parts.append(paid.groupby(keys)["order_id"].nunique().rename("paid_orders"))
    parts.append(paid.groupby(keys)["amount"].agg(_decimal_sum).rename("paid_amount"))
    out = pd.concat(parts, axis=1).fillna(0).reset_index()
    out[COUNTS] = out[COUNTS].astype("int64")
    return out.sort_values(keys).reset_index(drop=True)


def _funnel(events: Any, orders: Any, engine: str = "auto", **kw: Any) -> pd.DataFrame:
    with sm.config_context(engine=engine):
        res = sm.funnel(events, orders, by=BY, freq="D", detect=False, **kw)
    t = res.to_pandas().rename(columns={"period": "day"})
    return t.sort_values([*BY, "day"]).reset_index(drop=True)


# ---------------------------------------------------------------- same numbers everywhere


def test_every_engine_matches_the_hand_count_and_exact_money(
    small: sm.datasets.Store,
    orders_with_awkward_amounts: pd.DataFrame,
    constructor: Constructor,
) -> None:
    od = orders_with_awkward_amounts
    want = _hand(small.events, od)
    events, orders = constructor(small.events), constructor(od)
    # the engine setting moves eager tables; lazy ones (polars, DuckDB) stay where they are
    eager = isinstance(nw.from_native(events), nw.DataFrame)
    for engine in ENGINES if eager else ["auto"]:
        got = _funnel(events, orders, engine)
        assert got[[*BY, "day"]].equals(want[[*BY, "day"]]), engine
        for c in COUNTS:
            np.testing.assert_array_equal(got[c].to_numpy(), want[c].to_numpy(), err_msg=c)
        # integer cents in the engine: the exact decimal sum, to the last bit, on every engine
        np.testing.assert_array_equal(
            got["paid_amount"].to_numpy(), want["paid_amount"].to_numpy(), err_msg=engine
        )


def test_fast_path_and_plain_pandas_agree_to_the_last_digit(
    small: sm.datasets.Store, orders_with_awkward_amounts: pd.DataFrame, tmp_path: Path
) -> None:
    ev, od = small.events, orders_with_awkward_amounts
    ev.to_parquet(tmp_path / "events.parquet")
    od.to_parquet(tmp_path / "orders.parquet")
    ev.to_csv(tmp_path / "events.csv", index=False)
    od.to_csv(tmp_path / "orders.csv", index=False)
    tables = {
        "pandas engine": _funnel(ev, od, "pandas"),
        "fast path, pandas input": _funnel(ev, od, "auto"),
        "fast path, pyarrow input": _funnel(
            CONSTRUCTORS["pyarrow"](ev), CONSTRUCTORS["pyarrow"](od)
        ),
        "parquet, auto": _funnel(tmp_path / "events.parquet", tmp_path / "orders.parquet"),
        "parquet, duckdb": _funnel(
            tmp_path / "events.parquet", tmp_path / "orders.parquet", "duckdb"
        ),
        "parquet, pandas": _funnel(
            tmp_path / "events.parquet", tmp_path / "orders.parquet", "pandas"
        ),
        "csv, auto": _funnel(tmp_path / "events.csv", tmp_path / "orders.csv"),
    }
    reference = tables.pop("pandas engine")
    assert len(reference) > 100
    for name, table in tables.items():
        # every column, intervals included (paid_amount_sq sums whole cents squared)
        pd.testing.assert_frame_equal(
            table, reference, check_exact=True, check_dtype=False, obj=name
        )


def test_sub_cent_amounts_differ_at_most_in_the_last_bits(small: sm.datasets.Store) -> None:
    """Amounts finer than a cent keep a float remainder, summed in each engine's own order."""
    od = small.orders.copy()
    od["amount"] = np.random.default_rng(3).uniform(0, 50, len(od)).round(4)
    want = _hand(small.events, od)["paid_amount"].to_numpy()
    for engine in ENGINES:
        got = _funnel(small.events, od, engine)["paid_amount"].to_numpy()
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(float).eps, atol=0, err_msg=engine)


def test_engine_choice(small: sm.datasets.Store) -> None:
    table = pa.Table.from_pandas(small.events, preserve_index=False)
    assert _engine.load(table, "events").backend == "polars"
    with sm.config_context(engine="pandas"):
        assert _engine.load(table, "events").backend == "pandas"
        assert _engine.load(small.events, "events").backend == "pandas"
    with sm.config_context(engine="duckdb"):
        assert _engine.load(small.events, "events").backend == "duckdb"
    with sm.config_context(engine="native"):
        assert _engine.load(table, "events").backend == "pyarrow"
    assert table.num_rows == len(small.events)  # the caller's table is untouched


# ---------------------------------------------------------------- bounded collection


def _doubled(events: pd.DataFrame) -> pd.DataFrame:
    """Twice the events in the same groups: a copy made by other visitors."""
    twin = events.assign(visitor_id="twin-" + events["visitor_id"].astype(str))
    return pd.concat([events, twin], ignore_index=True)


def test_rows_collected_do_not_grow_with_events(
    small: sm.datasets.Store, constructor: Constructor
) -> None:
    """With the detectors on (the default), which make passes of their own."""
    events = small.events
    doubled = _doubled(events)
    logs = []
    for ev in (events, doubled):
        with _engine.collect_spy() as spy:
            sm.funnel(constructor(ev), constructor(small.orders), by=BY, freq="D")
        logs.append(spy)
    rows = [sum(n for _, n in log) for log in logs]
    assert rows[0] == rows[1], (logs[0], logs[1])
    assert [w for w, _ in logs[0]] == [w for w, _ in logs[1]]
    # and the funnel's own aggregation brings back one row per group and day, no more
    groups = len(_hand(events, small.orders))
    funnel_rows = dict(logs[0])["funnel:events"]
    assert groups <= funnel_rows <= groups + 2  # + the rows left out (none here)
    assert rows[0] < len(events) / 4


def test_doubling_doubles_counts_but_keeps_each_visitor_once(small: sm.datasets.Store) -> None:
    one = _funnel(small.events, small.orders)
    two = _funnel(_doubled(small.events), small.orders)
    for c in ("exposures", "clicks", "page_views", "visitors", "carters"):
        np.testing.assert_array_equal(two[c].to_numpy(), 2 * one[c].to_numpy(), err_msg=c)
    same = sm.funnel(
        pd.concat([small.events, small.events]), small.orders, by=BY, freq="D", detect=False
    )
    np.testing.assert_array_equal(
        same.to_pandas().sort_values([*BY, "period"])["visitors"].to_numpy(),
        one["visitors"].to_numpy(),
    )


def test_audit_from_the_single_pass(small: sm.datasets.Store, constructor: Constructor) -> None:
    ev = small.events.copy()
    start = ev["ts"].min().normalize() + pd.Timedelta(days=2)
    end = start + pd.Timedelta(days=4)
    near = ev.index[(ev["ts"] >= start - pd.Timedelta(hours=6)) & (ev["ts"] < end)]
    rows = np.random.default_rng(2).choice(near, 400, replace=False)
    ev.loc[rows[:100], "event"] = "pv"  # unknown event values, some outside the range
    ev.loc[rows[80:180], "source"] = None  # null keys, some on rows with unknown events
    ev.loc[rows[200:250], "visitor_id"] = None
    ev.loc[rows[250:300], "event"] = None
    res = sm.funnel(
        constructor(ev),
        constructor(small.orders),
        by=BY,
        freq="D",
        start=start,
        end=end,
        detect=False,
    )
    audit = {(e.table, e.reason): e.rows for e in res.audit.excluded}
    inside = ev[(ev["ts"] >= start) & (ev["ts"] < end)]
    nulls = inside[[*BY, "visitor_id", "event"]].isna().any(axis=1)
    assert nulls.sum() > 10
    assert ((inside["event"] == "pv") & ~nulls).sum() > 5
    assert res.audit.rows_in["events"] == len(ev)
    assert audit[("events", "outside range")] == len(ev) - len(inside)
    assert audit[("events", "null ts, visitor_id, event, product_id, source")] == nulls.sum()
    assert audit[("events", "unknown event value")] == ((inside["event"] == "pv") & ~nulls).sum()
    kept = inside[~nulls & (inside["event"] != "pv")]
    got = res.to_pandas()
    assert got["exposures"].sum() == (kept["event"] == "exposure").sum()
    assert (
        got["visitors"].sum()
        == kept[kept["event"] == "visit"]
        .assign(d=kept["ts"].dt.date)
        .groupby([*BY, "d"])["visitor_id"]
        .nunique()
        .sum()
    )


# ---------------------------------------------------------------- out of core


def test_parquet_path_is_scanned_not_loaded(tmp_path: Path) -> None:
    """From a Parquet path the engine reads the columns it needs and only aggregates come
    back: the funnel's memory is a fraction of what loading the table takes.

    The table is an events export with a wide text column the funnel does not use (as
    back-end exports have). Measured in a fresh process with Linux's ``VmHWM`` (the
    process's own peak resident memory; ``ru_maxrss`` would include the parent's memory
    at fork), after a warm-up call has paid the engine's fixed start-up memory. The
    control in the same process: loading the same file with pandas.
    """
    from shopmetrics.datasets import orders_parquet_path, write_events_parquet

    path = write_events_parquet(tmp_path / "events.parquet", 300_000, products=100)
    tiny = write_events_parquet(tmp_path / "tiny.parquet", 2_000, products=100)
    table = pq.read_table(path)
    notes = pa.array([f"note {i:03d} " * 100 for i in range(64)])
    codes = pa.array(np.arange(table.num_rows) % 64, pa.int32())
    table = table.append_column("note", pa.DictionaryArray.from_arrays(codes, notes))
    pq.write_table(table, path, row_group_size=50_000, store_schema=False)
    del table
    script = textwrap.dedent(f"""
        def peak_mb():
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
        import shopmetrics as sm, shopmetrics.funnel, polars, scipy.stats
        from shopmetrics import engine as _engine
        args = dict(by=["product_id", "source"], freq="D", detect=False)
        sm.funnel({str(tiny)!r}, {str(orders_parquet_path(tiny))!r}, **args)  # warm-up
        warm = peak_mb()
        with _engine.collect_spy() as spy:
            r = sm.funnel({str(path)!r}, {str(orders_parquet_path(path))!r}, **args)
        after = peak_mb()
        import pandas as pd  # the control: what loading the table costs
        loaded = pd.read_parquet({str(path)!r})
        control = peak_mb()
        print(after - warm, control - after, sum(n for _, n in spy),
              r.audit.rows_in["events"], len(loaded))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    grew_mb, control_mb, collected, rows_in, loaded = out.stdout.split()
    assert int(rows_in) == int(loaded) == 300_000
    assert int(collected) < 300_000 / 10
    assert float(control_mb) > 250  # the measure sees a loaded table (the notes: 260 MB) ...
    assert float(grew_mb) < float(control_mb) / 4  # ... and the funnel did not load it


# ---------------------------------------------------------------- portable date maths


def _instants() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    base = np.array(
        [
            "1900-03-01",
            "1969-12-31 23:59:59.999999",
            "1970-01-01",
            "2000-02-29 12:00",
            "2024-12-31 23:59:59",
            "2026-03-29 02:30",
            "2100-02-28 23:00",
        ],
        dtype="datetime64[us]",
    )
    random = np.datetime64("1990-01-01", "us") + rng.integers(
        0, 60 * 365 * 86_400 * 10**6, 300
    ).astype("timedelta64[us]")
    a = np.concatenate([base, random])
    b = a + rng.integers(-3 * 86_400 * 10**6, 3 * 86_400 * 10**6, len(a)).astype("timedelta64[us]")
    return pd.DataFrame({"a": pd.to_datetime(a), "b": pd.to_datetime(b)})


def test_day_numbers_and_periods_match_python_calendar(constructor: Constructor) -> None:
    df = _instants()
    frame = nw.from_native(constructor(df)).lazy()
    got = _engine.collect(
        frame.select(
            _engine.day_number("a").alias("d"),
            _engine.period_key("a", "D", frame.implementation).alias("d_fast"),
            _engine.period_key("a", "W", frame.implementation).alias("w"),
            _engine.period_key("a", "M").alias("m"),
        )
    )
    epoch = dt.date(1970, 1, 1)
    days = np.array([(t.date() - epoch).days for t in df["a"]])
    monday = np.array([(t.date() - dt.timedelta(days=t.weekday()) - epoch).days for t in df["a"]])
    months = np.array([t.year * 12 + t.month - 1 for t in df["a"]])
    np.testing.assert_array_equal(got["d"].to_numpy(np.int64), days)
    np.testing.assert_array_equal(got["d_fast"].to_numpy(np.int64), days)
    np.testing.assert_array_equal(got["w"].to_numpy(np.int64), monday)
    np.testing.assert_array_equal(got["m"].to_numpy(np.int64), months)


def test_minutes_between_truncates_like_total_minutes(constructor: Constructor) -> None:
    df = _instants()
    df.loc[3, "b"] = pd.NaT
    frame = nw.from_native(constructor(df)).lazy()
    got = _engine.collect(
        frame.select(
            _engine.minutes_between("b", "a").alias("portable"),
            _engine.minutes_between("b", "a", frame.implementation).alias("native"),
        )
    )
    # datetime arithmetic: whole minutes, truncated toward zero
    want = [
        np.nan if pd.isna(b) else float(int((b - a).total_seconds() / 60))
        for a, b in zip(df["a"].dt.to_pydatetime(), df["b"], strict=True)
    ]
    np.testing.assert_array_equal(got["portable"].to_numpy(float), want)
    np.testing.assert_array_equal(got["native"].to_numpy(float), want)


# ---------------------------------------------------------------- the benchmark's variants


def _bench_variants() -> Any:
    """``benchmarks/variants.py`` as a module (the benchmarks are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_variants", Path(__file__).resolve().parents[1] / "benchmarks" / "variants.py"
    )
    assert spec is not None
    assert spec.loader is not None
    variants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variants)
    return variants


def test_benchmark_variants_agree_with_the_funnel(tmp_path: Path) -> None:
    """The benchmark's hand-written DuckDB SQL, polars and pandas (three independent
    implementations of the same table) give the funnel's counts and its exact money."""
    from shopmetrics.datasets import orders_parquet_path, write_events_parquet

    variants = _bench_variants()
    events = write_events_parquet(tmp_path / "events.parquet", 40_000, products=30)
    paths = {"events": str(events), "orders": str(orders_parquet_path(events))}
    ours = variants.shopmetrics_table(variants.VARIANTS["shopmetrics"][1](paths))
    assert len(ours) > 1_000
    assert ours["paid_buyers"].sum() > 20
    exact = pd.read_parquet(paths["orders"]).dropna(subset=["paid_at"])
    for name in ("duckdb", "polars", "pandas"):
        theirs = variants.canonical(variants.VARIANTS[name][1](paths))
        pd.testing.assert_frame_equal(
            theirs[variants.KEYS + variants.COUNTS], ours[variants.KEYS + variants.COUNTS], obj=name
        )
        np.testing.assert_allclose(theirs["paid_amount"], ours["paid_amount"], rtol=1e-15)
    # and the funnel's money is the exact decimal sum of the paid amounts
    assert ours["paid_amount"].sum() == pytest.approx(_decimal_sum(exact["amount"]), rel=1e-15)


def test_benchmark_hand_table_has_the_funnels_rates_and_intervals(tmp_path: Path) -> None:
    """(b3), the funnel's table written by hand (DuckDB ``ORDER BY``, statsmodels' Wilson
    interval on whole columns), has the funnel's rows in the funnel's order, its counts,
    and on every row with a valid proportion its rates and Wilson limits."""
    from shopmetrics.datasets import orders_parquet_path, write_events_parquet

    variants = _bench_variants()
    events = write_events_parquet(tmp_path / "events.parquet", 40_000, products=30)
    paths = {"events": str(events), "orders": str(orders_parquet_path(events))}
    ours = sm.funnel(
        paths["events"], paths["orders"], by=["product_id", "source"], freq="D", detect=False
    ).table
    hand = variants.duckdb_cte_table(paths)
    assert list(hand["product_id"]) == list(ours["product_id"])  # the same order of rows
    assert list(hand["day"].dt.strftime("%Y-%m-%d")) == list(ours["period"])
    for c in variants.COUNTS:
        assert hand[c].to_numpy().tolist() == ours[c].to_numpy().tolist(), c
    checked = 0
    for name, (num, den) in variants.RATES.items():
        x, n = ours[num].to_numpy(), ours[den].to_numpy()
        ok = (n > 0) & (x <= n)
        checked += int(ok.sum())
        for col in (name, f"{name}_ci_low", f"{name}_ci_high"):
            np.testing.assert_allclose(
                hand[col].to_numpy()[ok], ours[col].to_numpy()[ok], rtol=0, atol=1e-12, err_msg=col
            )
    assert checked > 5_000
    for col in ("aov", "visitor_value"):  # the funnel's money in exact cents: within rounding
        np.testing.assert_allclose(hand[col], ours[col], rtol=1e-12, err_msg=col)


def test_benchmark_hand_bins_are_the_detectors_aggregate(tmp_path: Path) -> None:
    """(b4)'s visitor-day bins (``duckdb_bins``), written by hand in SQL, are the aggregate the default
    funnel's detectors read: the same histogram per day (visitor-days by events, clicks,
    bot shape and visit) and the same visitor-days over the floors. The demo store has a
    bot trap; three visitor-days over the floors are added (one with 250 events, two with
    over 10 clicks, 30%+ of their exposures, and no deep action) so that the candidates are
    not empty and the shape's 30% is read as written."""
    from shopmetrics.flags import events as fe

    store = sm.datasets.make_store(seed=3, days=28, products=8, visitors_per_day=150)
    day = pd.Timestamp(store.events["ts"].min().date()) + pd.Timedelta(days=3)
    heavy = pd.DataFrame(
        {
            "ts": [day + pd.Timedelta(seconds=i) for i in range(250 + 60 + 47)],
            "visitor_id": ["880001"] * 250 + ["880002"] * 60 + ["880003"] * 47,
            "event": ["exposure", "visit"] * 125
            + ["click"] * 40
            + ["exposure"] * 20
            + ["click"] * 12  # 12 clicks for 35 exposures: 34%, just over the bot shape's 30%
            + ["exposure"] * 35,
            "product_id": "P001",
            "source": "search",
        }
    )
    path, orders = tmp_path / "events.parquet", tmp_path / "orders.parquet"
    pd.concat([store.events, heavy], ignore_index=True).to_parquet(path)
    store.orders.to_parquet(orders)
    paths = {"events": str(path), "orders": str(orders)}
    variants = _bench_variants()
    assert len(variants.duckdb_cte_flags(paths)) > 1_000  # b4 runs: b3's table, then the bins
    hand = variants.duckdb_bins(paths)
    ours = fe.run_event_queries(sm.engine.load(str(path), "events"), None, None)
    hand["day"] = (pd.to_datetime(hand["day"]) - pd.Timestamp("1970-01-01")).dt.days
    keys = ["day", "n", "clicks", "shape", "visited"]
    hist = hand.groupby(keys, as_index=False)[["k", "exposures", "visits"]].sum()
    want = ours[fe.HIST]
    assert len(want) > 500
    pd.testing.assert_frame_equal(
        hist.astype("int64"), want[hist.columns].astype("int64"), check_names=False
    )
    cand = hand[hand["candidate"].notna()].sort_values(["day", "candidate"])
    assert cand["candidate"].tolist() == ours[fe.CANDIDATES]["visitor_id"].astype(str).tolist()
    assert {"880001", "880002", "880003"} <= set(cand["candidate"])


# ------------------------------------------------ one JSON whatever engine held the tables


@pytest.fixture(scope="module")
def parity_store() -> sm.datasets.Store:
    return sm.datasets.make_store(seed=2, days=14, products=10, visitors_per_day=120, traps=False)


def _with_variant(events: pd.DataFrame) -> pd.DataFrame:
    arm = events["visitor_id"].str[-1].isin(list("01234"))
    return events.assign(group=np.where(arm, "A", "B"))


def _daily(events: pd.DataFrame) -> pd.DataFrame:
    visits = events[events["event"] == "visit"]
    out = visits.groupby(visits["ts"].dt.normalize().rename("date")).size()
    return out.rename("visits").reset_index()


_PUBLIC: dict[str, Any] = {
    "funnel": lambda t: sm.funnel(t["events"], t["orders"], by="source", freq="W"),
    "funnel_shopify": lambda t: sm.funnel(
        t["events"], t["orders"], freq="W", definition="shopify", detect=False
    ),
    "traffic_sources": lambda t: sm.traffic_sources(t["events"], t["orders"], t["spend"], freq="W"),
    "attribute": lambda t: sm.attribute(events=t["events"], orders=t["orders"], model="linear"),
    "compare_attribution": lambda t: sm.compare_attribution(events=t["events"], orders=t["orders"]),
    "visitor_value": lambda t: sm.visitor_value(t["events"], t["orders"], by="source", freq="W"),
    "repurchase": lambda t: sm.repurchase(t["orders"], freq="W"),
    "customer_value": lambda t: sm.customer_value(t["orders"]),
    "dsr": lambda t: sm.dsr(t["ratings"], t["orders"]),
    "low_ratings": lambda t: sm.low_ratings(t["ratings"], orders=t["orders"]),
    "ab_test": lambda t: sm.ab_test(events=t["ab"], variant="group", metric="cart"),
    "anomalies": lambda t: sm.anomalies(t["daily"], date="date", value="visits"),
    "validate": lambda t: sm.validate(
        events=t["events"], orders=t["orders"], ratings=t["ratings"], spend=t["spend"]
    ),
    "weekly_report": lambda t: sm.weekly_report(t["events"], t["orders"], t["ratings"], t["spend"]),
}
"""Every public function that reads tables, as a user would call it."""


def _json(result: Any) -> str:
    if isinstance(result, pd.DataFrame):  # repurchase: a plain table
        return sm.Result(result).to_json(sort_keys=True)
    return str(result.to_json(sort_keys=True))


@pytest.fixture(scope="module")
def pandas_json() -> dict[str, str]:
    """The pandas JSON of each call, computed once (by the first test that needs it)."""
    return {}


def _tables(store: sm.datasets.Store, make: Constructor) -> dict[str, Any]:
    if make is CONSTRUCTORS.get("duckdb"):  # the tables of one database: one connection
        import duckdb

        con = duckdb.connect()

        def make(df: pd.DataFrame) -> Any:
            return con.from_arrow(pa.Table.from_pandas(df, preserve_index=False))

    out = {n: make(getattr(store, n)) for n in ("events", "orders", "spend", "ratings")}
    return out | {"ab": make(_with_variant(store.events)), "daily": make(_daily(store.events))}


@pytest.mark.parametrize("kind", ["pyarrow", "polars", "duckdb"])
@pytest.mark.parametrize(
    "name",
    sorted(_PUBLIC),
)
def test_json_is_the_same_whatever_engine_held_the_tables(
    parity_store: sm.datasets.Store, pandas_json: dict[str, str], name: str, kind: str
) -> None:
    """``to_json()`` of each public function on pyarrow, polars and DuckDB tables is the
    text it is on pandas: the same numbers to the last digit, the same types (int64
    counts, float64 money, one datetime unit) and the same audit, collects included."""
    if kind not in CONSTRUCTORS:
        pytest.skip(f"{kind} not installed")
    if name not in pandas_json:
        pandas_json[name] = _json(_PUBLIC[name](_tables(parity_store, CONSTRUCTORS["pandas"])))
    got = _json(_PUBLIC[name](_tables(parity_store, CONSTRUCTORS[kind])))
    want = pandas_json[name]
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    assert got == want, f"first difference at {at}: {got[(at or 0) - 80 : (at or 0) + 80]!r}"


def test_result_types_are_the_same_on_every_engine(parity_store: sm.datasets.Store) -> None:
    """The types out of DuckDB (Decimal sums, uint32 counts) and pandas (nanoseconds) are
    the ones documented in docs/scale.md: int64, float64, datetime64[us]."""
    allowed = {"int64", "float64", "bool", "datetime64[us]", "object", "str"}
    for kind in ("pandas", "duckdb"):
        tables = _tables(parity_store, CONSTRUCTORS[kind])
        for name in ("traffic_sources", "visitor_value", "dsr", "low_ratings", "anomalies"):
            result = _PUBLIC[name](tables)
            types = {str(t) for t in result.to_pandas().dtypes}
            assert types <= allowed, (name, kind, types - allowed)
            arrow = result.to_arrow().schema
            assert not [f for f in arrow if pa.types.is_decimal(f.type)], (name, kind)
            assert all(f.type.unit == "us" for f in arrow if pa.types.is_timestamp(f.type))
    repurchase = sm.repurchase(CONSTRUCTORS["duckdb"](parity_store.orders), freq="W")
    assert str(repurchase["paid_buyers"].dtype) == "int64"
