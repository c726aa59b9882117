"""The benchmarked variants: one function per way of computing the same funnel table.

Each takes the Parquet paths of one size and returns the canonical table (pandas):
``product_id, source, day`` (``"YYYY-MM-DD"``) and the counts :data:`COUNTS` plus
``paid_amount``, for every product x source x day with events or orders. The harness
(:mod:`run`) calls one of them per fresh subprocess, times it and records peak memory.

The aggregation (the metric dictionary's funnel, 生意参谋 definitions) is: per product,
source and day, events counted (exposures, clicks, page views) and distinct visitors with
a visit / inquiry / cart / favorite; distinct buyers with an order created that day;
distinct buyers and distinct orders paid that day and the amount paid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

KEYS = ["product_id", "source", "day"]
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
UNIQUE = {"visit": "visitors", "inquiry": "inquirers", "cart": "carters", "favorite": "favoriters"}
COUNTED = {"exposure": "exposures", "click": "clicks", "visit": "page_views"}


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Same columns, dtypes and row order for every variant (for the agreement check)."""
    out = df[KEYS + COUNTS + ["paid_amount"]].copy()
    out["day"] = pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d")
    for c in ("product_id", "source"):
        out[c] = out[c].astype(str)
    out[COUNTS] = out[COUNTS].fillna(0).astype("int64")
    out["paid_amount"] = out["paid_amount"].fillna(0.0).astype("float64")
    return out.sort_values(KEYS).reset_index(drop=True)


# ---------------------------------------------------------------- (a) shopmetrics


def shopmetrics_factory(
    *, detect: bool, engine: str = "auto", memory_limit: str | None = None
) -> Callable[[dict[str, str]], Any]:
    """``sm.funnel(events_path, orders_path, by=["product_id", "source"], freq="D")``."""

    def run(p: dict[str, str]) -> Any:
        import shopmetrics as sm  # noqa: PLC0415 - each worker imports only its engine

        with sm.config_context(engine=engine, memory_limit=memory_limit):
            return sm.funnel(
                p["events"], p["orders"], by=["product_id", "source"], freq="D", detect=detect
            )

    return run


def shopmetrics_table(result: Any) -> pd.DataFrame:
    t = result.to_pandas()
    return canonical(t.rename(columns={"period": "day"}))


def shopmetrics_profile(
    run: Callable[[dict[str, str]], Any], p: dict[str, str]
) -> tuple[Any, dict[str, Any]]:
    """Run once more with every engine collect timed: where the time goes."""
    from shopmetrics import engine as _engine  # noqa: PLC0415 - each worker imports only its engine
    from shopmetrics.engine import counting, tables  # noqa: PLC0415

    passes: list[dict[str, Any]] = []
    original = _engine.collect
    original_many = counting.collect_many

    def timed(frame: Any, what: str = "") -> Any:
        t0 = time.perf_counter()
        out = original(frame, what)
        passes.append({"what": what, "seconds": time.perf_counter() - t0, "rows": len(out)})
        return out

    def timed_many(frames: Any) -> Any:
        t0, n0 = time.perf_counter(), len(passes)
        out = original_many(frames)
        del passes[n0:]  # one after the other off polars: counted once, here
        what = " + ".join(out)  # one shared scan on polars
        rows = sum(len(t) for t in out.values())
        passes.append({"what": what, "seconds": time.perf_counter() - t0, "rows": rows})
        return out

    # every place a collect is looked up: the engine package, tables (counting's), counting
    _engine.collect = timed  # type: ignore[assignment]
    tables.collect = timed  # type: ignore[assignment]
    counting.collect_many = timed_many  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        result = run(p)
        total = time.perf_counter() - t0
    finally:
        _engine.collect = original  # type: ignore[assignment]
        tables.collect = original  # type: ignore[assignment]
        counting.collect_many = original_many  # type: ignore[assignment]
    engine_s = sum(x["seconds"] for x in passes)
    return result, {
        "total_s": total,
        "engine_s": engine_s,
        "python_s": total - engine_s,
        "passes": passes,
    }


# ---------------------------------------------------------------- (b) DuckDB SQL

DUCKDB_SQL = """
WITH ev AS (  -- one pass over the events: counts and distinct visitors per event
    SELECT product_id, source, CAST(ts AS DATE) AS day, event,
           count(*) AS n, count(DISTINCT visitor_id) AS u
    FROM read_parquet($events)
    GROUP BY ALL
), e AS (
    SELECT product_id, source, day,
           sum(n) FILTER (WHERE event = 'exposure') AS exposures,
           sum(n) FILTER (WHERE event = 'click') AS clicks,
           sum(n) FILTER (WHERE event = 'visit') AS page_views,
           sum(u) FILTER (WHERE event = 'visit') AS visitors,
           sum(u) FILTER (WHERE event = 'inquiry') AS inquirers,
           sum(u) FILTER (WHERE event = 'cart') AS carters,
           sum(u) FILTER (WHERE event = 'favorite') AS favoriters
    FROM ev GROUP BY ALL
), created AS (
    SELECT product_id, source, CAST(created_at AS DATE) AS day,
           count(DISTINCT buyer_id) AS order_buyers
    FROM read_parquet($orders) GROUP BY ALL
), paid AS (
    SELECT product_id, source, CAST(paid_at AS DATE) AS day,
           count(DISTINCT buyer_id) AS paid_buyers, count(DISTINCT order_id) AS paid_orders,
           sum(amount) AS paid_amount
    FROM read_parquet($orders) WHERE paid_at IS NOT NULL GROUP BY ALL
)
SELECT * FROM e
FULL JOIN created USING (product_id, source, day)
FULL JOIN paid USING (product_id, source, day)
"""


DUCKDB_CTE_SQL = """
WITH ev AS (
    SELECT product_id, source, CAST(ts AS DATE) AS day, event, visitor_id
    FROM read_parquet($events)
), counts AS (  -- event counts: one pass, no distinct
    SELECT product_id, source, day,
           count(*) FILTER (WHERE event = 'exposure') AS exposures,
           count(*) FILTER (WHERE event = 'click') AS clicks,
           count(*) FILTER (WHERE event = 'visit') AS page_views
    FROM ev GROUP BY ALL
), tuples AS (  -- the distinct visitor-event tuples, in their own CTE
    SELECT DISTINCT product_id, source, day, event, visitor_id
    FROM ev WHERE event IN ('visit', 'inquiry', 'cart', 'favorite')
), uniq AS (
    SELECT product_id, source, day,
           count(*) FILTER (WHERE event = 'visit') AS visitors,
           count(*) FILTER (WHERE event = 'inquiry') AS inquirers,
           count(*) FILTER (WHERE event = 'cart') AS carters,
           count(*) FILTER (WHERE event = 'favorite') AS favoriters
    FROM tuples GROUP BY ALL
), e AS (
    SELECT * FROM counts FULL JOIN uniq USING (product_id, source, day)
), created AS (
    SELECT product_id, source, CAST(created_at AS DATE) AS day,
           count(DISTINCT buyer_id) AS order_buyers
    FROM read_parquet($orders) GROUP BY ALL
), paid AS (
    SELECT product_id, source, CAST(paid_at AS DATE) AS day,
           count(DISTINCT buyer_id) AS paid_buyers, count(DISTINCT order_id) AS paid_orders,
           sum(amount) AS paid_amount
    FROM read_parquet($orders) WHERE paid_at IS NOT NULL GROUP BY ALL
)
SELECT * FROM e
FULL JOIN created USING (product_id, source, day)
FULL JOIN paid USING (product_id, source, day)
"""
"""Issue 16's DuckDB shape: counts and distinct visitor-event tuples in separate CTEs."""


def duckdb_cte(p: dict[str, str]) -> pd.DataFrame:
    import duckdb  # noqa: PLC0415 - each worker imports only its engine

    con = duckdb.connect()
    return con.execute(DUCKDB_CTE_SQL, {"events": p["events"], "orders": p["orders"]}).df()


RATES = {
    "ctr": ("clicks", "exposures"),
    "inquiry_rate": ("inquirers", "visitors"),
    "cart_rate": ("carters", "visitors"),
    "favorite_rate": ("favoriters", "visitors"),
    "order_conversion": ("order_buyers", "visitors"),
    "payment_conversion": ("paid_buyers", "visitors"),
}
"""The funnel's rates, as in the metric dictionary (numerator, denominator): written out
here, not imported from ``shopmetrics.metrics``, so that the hand-written variants share
no code with the library they are checked against."""


def duckdb_cte_table(p: dict[str, str]) -> pd.DataFrame:
    """(b3) b2's query made into the table the funnel returns, by hand: rows in key order
    (``ORDER BY`` in DuckDB), missing counts 0, each rate with its Wilson interval
    (statsmodels' ``proportion_confint`` on the whole columns, as a hand-written notebook
    would call it), average order value and visitor value. Not a funnel-only query: the
    comparator for "the same table written by hand" (no audit, no detectors, no labels).
    """
    import duckdb  # noqa: PLC0415 - each worker imports only its engine
    import numpy as np  # noqa: PLC0415
    from statsmodels.stats.proportion import proportion_confint  # noqa: PLC0415

    con = duckdb.connect()
    sql = DUCKDB_CTE_SQL + "ORDER BY product_id, source, day\n"
    out = con.execute(sql, {"events": p["events"], "orders": p["orders"]}).df()
    for c in COUNTS:
        out[c] = out[c].fillna(0).astype("int64")
    out["paid_amount"] = out["paid_amount"].fillna(0.0).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (num, den) in RATES.items():
            x, n = out[num].to_numpy(float), out[den].to_numpy(float)
            out[name] = np.where(n > 0, x / n, np.nan)
            lo, hi = proportion_confint(np.minimum(x, n), np.maximum(n, 1.0), method="wilson")
            out[f"{name}_ci_low"] = np.where(n > 0, lo, np.nan)
            out[f"{name}_ci_high"] = np.where(n > 0, hi, np.nan)
        paid, buyers = out["paid_amount"].to_numpy(), out["paid_buyers"].to_numpy(float)
        out["aov"] = np.where(buyers > 0, paid / buyers, np.nan)
        visitors = out["visitors"].to_numpy(float)
        out["visitor_value"] = np.where(visitors > 0, paid / visitors, np.nan)
    return out


DUCKDB_BINS_SQL = """
WITH vd AS (  -- per visitor and day: the events the bot rule reads
    SELECT visitor_id, CAST(ts AS DATE) AS day, count(*) AS n,
           count(*) FILTER (WHERE event = 'click') AS clicks,
           count(*) FILTER (WHERE event = 'exposure') AS exposures,
           count(*) FILTER (WHERE event = 'visit') AS visits,
           count(*) FILTER (WHERE event IN ('inquiry', 'cart', 'favorite')) AS deep
    FROM read_parquet($events) GROUP BY ALL
), shaped AS (
    SELECT *, clicks >= 0.3 * exposures AND deep = 0 AS shape FROM vd
)
SELECT day, n, clicks, shape, visits > 0 AS visited,
       CASE WHEN n > 200 OR (clicks > 10 AND shape) THEN visitor_id END AS candidate,
       count(*) AS k, sum(exposures) AS exposures, sum(visits) AS visits, sum(deep) AS deep
FROM shaped GROUP BY ALL
"""
"""The detectors' visitor-day aggregate written by hand: per day, the visitor-days by their
events, clicks, bot shape (clicks 30%+ of exposures, no inquiry, cart or favourite) and
whether they visited, each visitor-day over the fixed floors (more than 200 events, or
more than 10 clicks with the bot shape) with its visitor id. The aggregate the default
funnel's bot and tracking-gap detectors read (``shopmetrics.flags.events``), in the SQL an
analyst would write for it."""


def duckdb_bins(p: dict[str, str]) -> pd.DataFrame:
    """:data:`DUCKDB_BINS_SQL` run on the events (a connection of its own)."""
    import duckdb  # noqa: PLC0415 - each worker imports only its engine

    return duckdb.connect().execute(DUCKDB_BINS_SQL, {"events": p["events"]}).df()


def duckdb_cte_flags(p: dict[str, str]) -> pd.DataFrame:
    """(b4) b3's table, then the detectors' visitor-day aggregate (:func:`duckdb_bins`,
    fetched into pandas and not returned: the harness compares the tables): the default
    call's work written by hand, up to the detectors' reading of the bins (their
    thresholds and evidence are not written out). Not a funnel-only query: the comparator
    for "the default call's aggregates by hand", printed as ``x b4``."""
    out = duckdb_cte_table(p)
    duckdb_bins(p)
    return out


def duckdb_sql(p: dict[str, str]) -> pd.DataFrame:
    import duckdb  # noqa: PLC0415 - each worker imports only its engine

    con = duckdb.connect()
    return con.execute(DUCKDB_SQL, {"events": p["events"], "orders": p["orders"]}).df()


# ---------------------------------------------------------------- (c) polars


def _polars_orders(path: str, keys: list[str]) -> tuple[Any, Any]:
    """The order side of both polars variants: buyers who ordered per day of creation;
    paying buyers, paid orders and paid amount per day of payment (lazy frames)."""
    import polars as pl  # noqa: PLC0415 - each worker imports only its engine

    orders = pl.scan_parquet(path)
    created = (
        orders.with_columns(pl.col("created_at").dt.date().alias("day"))
        .group_by(keys)
        .agg(pl.col("buyer_id").n_unique().alias("order_buyers"))
    )
    paid = (
        orders.filter(pl.col("paid_at").is_not_null())
        .with_columns(pl.col("paid_at").dt.date().alias("day"))
        .group_by(keys)
        .agg(
            pl.col("buyer_id").n_unique().alias("paid_buyers"),
            pl.col("order_id").n_unique().alias("paid_orders"),
            pl.col("amount").sum().alias("paid_amount"),
        )
    )
    return created, paid


def polars_lazy(p: dict[str, str]) -> pd.DataFrame:
    import polars as pl  # noqa: PLC0415 - each worker imports only its engine

    e, v = pl.col("event"), pl.col("visitor_id")
    keys = ["product_id", "source", "day"]
    events = (
        pl.scan_parquet(p["events"])
        .with_columns(pl.col("ts").dt.date().alias("day"))
        .group_by(keys)
        .agg(
            *((e == k).sum().alias(name) for k, name in COUNTED.items()),
            # masked ids, nulls dropped: the fastest exact distinct count we found
            *(
                pl.when(e == k).then(v).drop_nulls().n_unique().alias(name)
                for k, name in UNIQUE.items()
            ),
        )
    )
    created, paid = _polars_orders(p["orders"], keys)
    out = events.join(created, on=keys, how="full", coalesce=True).join(
        paid, on=keys, how="full", coalesce=True
    )
    return out.collect().to_pandas()


def polars_cte(p: dict[str, str]) -> pd.DataFrame:
    """(c2) polars in the DuckDB CTE shape: distinct visitor-event tuples first
    (``unique``), then their counts per event, joined to the event counts."""
    import polars as pl  # noqa: PLC0415 - each worker imports only its engine

    e = pl.col("event")
    keys = ["product_id", "source", "day"]
    base = pl.scan_parquet(p["events"]).select(
        "product_id", "source", pl.col("ts").dt.date().alias("day"), "event", "visitor_id"
    )
    counts = base.group_by(keys).agg(*((e == k).sum().alias(name) for k, name in COUNTED.items()))
    uniq = (
        base.filter(e.is_in(list(UNIQUE)))
        .unique()
        .group_by(keys)
        .agg(*((e == k).sum().alias(name) for k, name in UNIQUE.items()))
    )
    created, paid = _polars_orders(p["orders"], keys)
    out = counts.join(uniq, on=keys, how="full", coalesce=True)
    for part in (created, paid):
        out = out.join(part, on=keys, how="full", coalesce=True)
    return out.collect().to_pandas()


# ---------------------------------------------------------------- (d) pandas


def pandas_idiomatic(p: dict[str, str]) -> pd.DataFrame:
    """What an analyst writes: read the columns needed, groupby size / nunique / sum."""
    ev = pd.read_parquet(p["events"], columns=["ts", "visitor_id", "event", "product_id", "source"])
    ev["day"] = ev["ts"].dt.normalize()
    keys = ["product_id", "source", "day"]
    parts = []
    for event, name in COUNTED.items():
        parts.append(ev[ev["event"] == event].groupby(keys).size().rename(name))
    for event, name in UNIQUE.items():
        parts.append(ev[ev["event"] == event].groupby(keys)["visitor_id"].nunique().rename(name))
    od = pd.read_parquet(p["orders"])
    created = od.assign(day=od["created_at"].dt.normalize())
    paid = od[od["paid_at"].notna()].assign(day=od["paid_at"].dt.normalize())
    parts.append(created.groupby(keys)["buyer_id"].nunique().rename("order_buyers"))
    g = paid.groupby(keys)
    parts += [
        g["buyer_id"].nunique().rename("paid_buyers"),
        g["order_id"].nunique().rename("paid_orders"),
        g["amount"].sum().rename("paid_amount"),
    ]
    return pd.concat(parts, axis=1).reset_index()


_SM_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "shopmetrics": ("detect=False (engine='auto': DuckDB on Parquet)", {"detect": False}),
    "shopmetrics_detect": ("the default call (flags on, engine='auto')", {"detect": True}),
    "shopmetrics_duckdb": ("detect=False, engine='duckdb'", {"detect": False, "engine": "duckdb"}),
    "shopmetrics_detect_duckdb": (
        "flags on, engine='duckdb'",
        {"detect": True, "engine": "duckdb"},
    ),
    "shopmetrics_detect_polars": (
        "flags on, engine='polars'",
        {"detect": True, "engine": "polars"},
    ),
    "shopmetrics_polars": ("detect=False, engine='polars'", {"detect": False, "engine": "polars"}),
    "shopmetrics_detect_limit": (
        "the default call, config_context(memory_limit='2.5GB')",
        {"detect": True, "memory_limit": "2.5GB"},
    ),
    "shopmetrics_pandas": ("detect=False, engine='pandas'", {"detect": False, "engine": "pandas"}),
}
"""The shopmetrics variants: name -> (what differs from the default call, its settings)."""

VARIANTS: dict[str, tuple[str, Callable[[dict[str, str]], Any]]] = {
    **{
        name: (f"(a) sm.funnel, {label}", shopmetrics_factory(**kw))
        for name, (label, kw) in _SM_CALLS.items()
    },
    "duckdb": ("(b) hand-written DuckDB SQL", duckdb_sql),
    "duckdb_cte": ("(b2) hand DuckDB, distinct tuples in a CTE", duckdb_cte),
    "duckdb_cte_table": ("(b3) b2 + order, zeros, rates, Wilson intervals", duckdb_cte_table),
    "duckdb_cte_flags": ("(b4) b3 + the detectors' visitor-day bins", duckdb_cte_flags),
    "polars": ("(c) hand-written polars (lazy)", polars_lazy),
    "polars_cte": ("(c2) hand polars, distinct tuples first", polars_cte),
    "pandas": ("(d) idiomatic pandas", pandas_idiomatic),
}
"""name -> (label, function)."""

_SM = (
    "shopmetrics",
    "shopmetrics.funnel",
    "shopmetrics.flags",
    "narwhals",
    "polars",
    "duckdb",
    "scipy.stats",
    "statsmodels.stats.proportion",  # the intervals' import, paid once per process
)
IMPORTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_SM_CALLS, _SM),
    "duckdb": ("duckdb",),
    "duckdb_cte": ("duckdb",),
    "duckdb_cte_table": ("duckdb", "statsmodels.stats.proportion"),
    "duckdb_cte_flags": ("duckdb", "statsmodels.stats.proportion"),
    "polars": ("polars",),
    "polars_cte": ("polars",),
    "pandas": ("pyarrow.parquet",),
}
"""Modules each variant imports before its timed call (import time is not measured)."""
