"""The demo store: a deterministic Taobao/1688-style shop with planted traps.

See :mod:`shopmetrics.datasets.store` for how the store is built and what the traps are.
"""

from shopmetrics.datasets.store import (
    TZ,
    Store,
    Trap,
    make_store,
    orders_parquet_path,
    write_events_parquet,
)

__all__ = [
    "TZ",
    "Store",
    "Trap",
    "make_store",
    "orders_parquet_path",
    "write_events_parquet",
]
