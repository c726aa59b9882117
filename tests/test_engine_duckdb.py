"""The DuckDB forms of three engine steps, each against an independent reading.

- the day key: DuckDB's ``DATE - DATE`` against Python's ``date`` arithmetic, including
  days before 1970, leap days and the last microsecond of a day;
- distinct rows: the relation's ``distinct()`` against pandas' ``drop_duplicates``, nulls
  included, and the funnel's distinct visitors against a brute-force count;
- DuckDB's ``HUGEINT`` and ``DECIMAL`` sums: cast on the Arrow side to the integers and
  floats Python computes from the same values (beyond int64 they become floats);
- Parquet paths: scanned with DuckDB under ``engine="auto"``, on a connection of their
  own under ``memory_limit`` (the same table), and an out-of-memory error that says so.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from shopmetrics import engine
from shopmetrics.engine import periods, running

duckdb = pytest.importorskip("duckdb")


def _rel(df: pd.DataFrame) -> Any:
    return duckdb.connect().from_df(df)


def _instants(n: int, seed: int) -> list[dt.datetime]:
    rng = random.Random(seed)
    base = dt.datetime(1960, 1, 1)
    out = [
        base + dt.timedelta(microseconds=rng.randrange(0, 80 * 365 * 86_400 * 10**6))
        for _ in range(n)
    ]
    # the edges a formula gets wrong: the epoch, just before it, leap days, day ends
    out += [
        dt.datetime(1970, 1, 1),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999),
        dt.datetime(2000, 2, 29, 12),
        dt.datetime(1900, 3, 1),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999_999),
        dt.datetime(2026, 11, 11, 0, 0),
    ]
    return out


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_duckdb_period_key_is_the_calendar_day(freq: periods.Freq) -> None:
    """Each timestamp's key equals the key Python computes from its date (the reading of
    the rule: days since 1970-01-01; ISO-week Monday; year * 12 + month - 1)."""
    ts = _instants(400, seed=7)
    frame = nw.from_native(_rel(pd.DataFrame({"ts": ts})))
    got = engine.collect(
        frame.select(periods.period_key("ts", freq, frame.implementation).alias("k"))
    )
    expected = [periods.period_key_of(t, freq) for t in ts]
    assert got["k"].tolist() == expected
    day = [(t.date() - dt.date(1970, 1, 1)).days for t in ts]
    if freq == "D":
        assert expected == day
    if freq == "W":  # the Monday of the ISO week, from Python's isoweekday
        assert expected == [d - (t.isoweekday() - 1) for d, t in zip(day, ts, strict=True)]


def test_duckdb_distinct_equals_drop_duplicates() -> None:
    rng = random.Random(3)
    df = pd.DataFrame(
        {
            "a": [rng.choice(["x", "y", None]) for _ in range(500)],
            "b": [rng.choice([1, 2, 3]) for _ in range(500)],
        }
    )
    frame = nw.from_native(_rel(df))
    got = engine.collect(running.distinct(frame))
    want = df.drop_duplicates()
    assert len(got) == len(want)
    key = lambda t: sorted(map(str, t.itertuples(index=False)))  # noqa: E731
    assert key(got) == key(want)


def test_funnel_distinct_visitors_on_duckdb_match_a_brute_force_count() -> None:
    """The funnel's visitors per product and day, on DuckDB, against a set per group."""
    import shopmetrics as sm

    rng = random.Random(11)
    rows = [
        {
            "ts": dt.datetime(2026, 11, 1) + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 5)),
            "visitor_id": f"v{rng.randrange(200)}",
            "event": rng.choice(["exposure", "click", "visit", "visit", "cart"]),
            "product_id": rng.choice(["P1", "P2", "P3"]),
        }
        for _ in range(3000)
    ]
    df = pd.DataFrame(rows)
    got = sm.funnel(_rel(df), by=["product_id"], freq="D", detect=False).table
    seen: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        if r["event"] == "visit":
            seen.setdefault((r["product_id"], r["ts"].date().isoformat()), set()).add(
                r["visitor_id"]
            )
    table = got.assign(day=got["period"].astype(str))
    by_key = {
        (p, d): int(v)
        for p, d, v in zip(table["product_id"], table["day"], table["visitors"], strict=True)
    }
    assert by_key == {k: len(v) for k, v in seen.items()}


def test_duckdb_integer_sums_arrive_as_int64_and_wide_ones_as_float() -> None:
    con = duckdb.connect()
    big = 2**62
    t = con.sql(
        f"select * from (values ({big}::hugeint, 1.25::decimal(10, 2), 7::hugeint), "
        f"({big}::hugeint, 2.50::decimal(10, 2), null::hugeint)) v(h, m, n)"
    )
    sums = nw.from_native(t).select(
        nw.col("h").sum(), nw.col("m").sum(), nw.col("n").sum(), nw.col("n").alias("raw").max()
    )
    got = running.collect(sums)
    # h's sum is 2**63: past int64, a float; m has cents: a float; n fits: int64
    assert float(got["h"].iloc[0]) == float(2 * big)
    assert str(got["h"].dtype) == "float64"
    assert got["m"].iloc[0] == 3.75
    assert str(got["m"].dtype) == "float64"
    assert int(got["n"].iloc[0]) == 7
    assert str(got["n"].dtype) == "int64"


def _brute_visitor_days(events: pd.DataFrame) -> pd.DataFrame:
    """The visitor-day table read off the rule with pandas: per visitor and calendar day,
    events, clicks, exposures, visits, deep actions, and the bot shape."""
    e = events["event"]
    ev = pd.DataFrame(
        {
            "visitor_id": events["visitor_id"],
            "day": (events["ts"].dt.normalize() - pd.Timestamp("1970-01-01")).dt.days,
            "n": 1,
            "clicks": (e == "click").astype("int64"),
            "exposures": (e == "exposure").astype("int64"),
            "visits": (e == "visit").astype("int64"),
            "deep": e.isin(["inquiry", "cart", "favorite"]).astype("int64"),
        }
    )
    vd = ev.groupby(["visitor_id", "day"]).sum().reset_index()
    vd["shape"] = (vd["clicks"] >= 0.3 * vd["exposures"]) & (vd["deep"] == 0)
    vd["visited"] = vd["visits"] > 0
    return vd


def test_duckdb_visitor_day_bins_give_the_histogram_and_candidates_of_the_rule(
    store: Any,
) -> None:
    """The histogram and candidates made of the one query (on DuckDB and on polars) equal
    the pandas reading of the rule on the demo store with its planted bots."""
    from shopmetrics.flags import events as fe

    vd = _brute_visitor_days(store.events)
    hist_keys = ["day", "n", "clicks", "shape", "visited"]
    want_hist = (
        vd.groupby(hist_keys)
        .agg(k=("n", "size"), exposures=("exposures", "sum"), visits=("visits", "sum"))
        .reset_index()
    )
    over = (vd["n"] > fe.BOT_MIN_EVENTS) | ((vd["clicks"] > fe.BOT_MIN_CLICKS) & vd["shape"])
    want_cand = vd[over].sort_values(["day", "visitor_id"])
    assert len(want_cand) > 0  # the planted bots are over the floors

    forms = {"duckdb": _rel(store.events)}
    if importlib.util.find_spec("polars"):
        import polars as pl

        forms["polars"] = pl.from_pandas(store.events).lazy()
    for name, native in forms.items():
        table = engine.load(native, "events", None, None)
        got = fe.run_event_queries(table, None, None)
        hist = got[fe.HIST].sort_values(hist_keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(
            hist[[*hist_keys, "k", "exposures", "visits"]].astype("int64"),
            want_hist.sort_values(hist_keys).reset_index(drop=True).astype("int64"),
            obj=name,
        )
        cand = got[fe.CANDIDATES]
        assert cand["visitor_id"].astype(str).tolist() == want_cand["visitor_id"].tolist(), name
        assert cand["n"].tolist() == want_cand["n"].tolist(), name
        assert cand["deep"].tolist() == want_cand["deep"].tolist(), name


def test_bot_flags_on_duckdb_are_the_flags_on_polars(store: Any) -> None:
    """The same flags (codes, subjects, evidence) from the demo store on either engine."""
    import shopmetrics as sm

    pl = pytest.importorskip("polars")
    args = {"by": ["product_id", "source"], "freq": "D"}
    on_duck = sm.funnel(_rel(store.events), _rel(store.orders), **args).flags
    on_polars = sm.funnel(pl.from_pandas(store.events), pl.from_pandas(store.orders), **args).flags
    key = lambda fs: sorted((f.code, str(f.subject), str(f.evidence)) for f in fs)  # noqa: E731
    assert "bot_traffic" in {f.code for f in on_duck}
    assert key(on_duck) == key(on_polars)


def test_a_parquet_path_scans_on_duckdb_by_default_and_under_a_memory_limit(
    tmp_path: Any,
) -> None:
    """engine="auto" scans a Parquet path with DuckDB; ``memory_limit`` puts the scans on a
    connection with that limit: the same table under a small limit (DuckDB spills or
    streams), and a limit too small to run fails naming the table and the setting."""
    import shopmetrics as sm
    from shopmetrics.datasets import orders_parquet_path, write_events_parquet
    from shopmetrics.engine import reading

    events = write_events_parquet(tmp_path / "events.parquet", 60_000, products=30)
    orders = orders_parquet_path(events)
    assert engine.load(events, "events", None, None).frame.implementation is (
        nw.Implementation.DUCKDB
    )
    args = {"by": ["product_id", "source"], "freq": "D", "detect": False}
    want = sm.funnel(events, orders, **args).to_pandas()
    with sm.config_context(memory_limit="64MB"):
        got = sm.funnel(events, orders, **args).to_pandas()
    pd.testing.assert_frame_equal(got, want)
    limit = reading.duckdb_connection("64MB").sql("SELECT current_setting('memory_limit')")
    assert limit.fetchall() == [("61.0 MiB",)]  # DuckDB's own reading of 64 MB (10^6 B)
    with sm.config_context(memory_limit="1MB"), pytest.raises(engine.EngineError) as err:
        sm.funnel(events, orders, **args)
    assert "events" in str(err.value)
    assert "memory_limit" in str(err.value)


@pytest.mark.parametrize("bad", ["lots", "3 bananas", "GB", "-1GB"])
def test_memory_limit_must_be_a_size(bad: str) -> None:
    import shopmetrics as sm

    with pytest.raises(sm.errors.DefinitionError, match="memory_limit must be a size"):
        sm.config_context(memory_limit=bad).__enter__()
