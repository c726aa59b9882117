"""The engine boundary: users' tables in, small aggregates out.

Every metric reads its input through :func:`load` (pandas, pyarrow, polars, DuckDB,
PySpark, Parquet and CSV become one lazy ``narwhals.stable.v2`` frame with canonical
column names and store-local times) and brings results back through :func:`collect`
(small aggregates only, as pandas). Metric modules build their queries as narwhals
expressions, which run unchanged on every engine; only this package may touch an
engine's own API (polars, duckdb, pyspark, native SQL, ``to_native``).

Modules:
    tables: load (the Table and its audit parts), row counts, joins across engines.
    reading: tables and files into one lazy frame (exports through shopmetrics.io,
        Parquet and plain CSV by the engine's own reader).
    values: text in number and time columns parsed the same way on every engine.
    running: collect (small aggregates only, one set of types), the ledger of what a
        call collected (records_collects), the engines' errors as EngineError, and
        with_columns (several columns set on a collected table at once, uncopied).
    periods: period keys and labels, day numbers, minute differences, date arguments.
    counting: the one counting pass behind the funnel, traffic and value metrics.
    background: aggregates run on a second DuckDB connection while the caller works.
    journeys: attribution journeys from a paths table or from events + orders.
    series: a daily series from a pandas Series or a table (for anomalies).
    spend: the spend table summed per group and period (traffic, visitor value).
    paid_orders: queries over paid orders: credit by recorded source, one period's
        orders as a native table, refunds, margins.
    buyers: the per-buyer purchase summary behind customer value.
    experiments: A/B test events counted per variant (and day).
    checks: the queries behind validation's checks.
    convert: results as pyarrow or polars tables.
    deps: optional libraries and their install hints.
"""

from shopmetrics.engine.periods import (
    EPOCH,
    FREQS,
    PERIOD,
    Freq,
    between,
    day_number,
    epoch_microseconds,
    minutes_between,
    parse_instant,
    period_end,
    period_key,
    period_key_of,
    period_label,
    period_start,
)
from shopmetrics.engine.running import (
    TIME_UNIT,
    EngineError,
    distinct,
    normalize,
    records_collects,
    with_columns,
)
from shopmetrics.engine.tables import (
    Table,
    collect,
    collect_spy,
    count_rows,
    join_ready,
    joinable,
    load,
    local,
    scalar,
    with_reads,
)
from shopmetrics.engine.values import TextValueError, text_problems

__all__ = [
    "EPOCH",
    "FREQS",
    "PERIOD",
    "TIME_UNIT",
    "EngineError",
    "Freq",
    "Table",
    "TextValueError",
    "between",
    "collect",
    "collect_spy",
    "count_rows",
    "day_number",
    "distinct",
    "epoch_microseconds",
    "join_ready",
    "joinable",
    "load",
    "local",
    "minutes_between",
    "normalize",
    "parse_instant",
    "period_end",
    "period_key",
    "period_key_of",
    "period_label",
    "period_start",
    "records_collects",
    "scalar",
    "text_problems",
    "with_columns",
    "with_reads",
]
