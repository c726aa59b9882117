"""Write the benchmark data: events, orders and spend as Parquet, at any size.

    python benchmarks/generate.py --events 1M 10M 50M      # into benchmarks/data/
    python benchmarks/generate.py --events 200M --out /big/disk

Events and orders come from :func:`shopmetrics.datasets.write_events_parquet` (the demo
store's session model over 56 days, ~40 events per visitor id, 1,000 products, written
in chunks so memory stays bounded at any size). Spend is the paid sources' clicks per
day, source, campaign and keyword priced at the store's cost per click with a little
day-to-day noise, rounded to cents. The same arguments write the same files.

Files: ``<out>/<size>/events.parquet``, ``events_orders.parquet``, ``spend.parquet``.
Existing files of the right size are kept (``--force`` rewrites them).

``--shape wide`` writes the high-cardinality shape of issue 16 instead (into
``<out>/wide-<size>/``, see :func:`generate_wide`): one visitor id per 8 events (1.25M at
10M events), 5,000 products with a Zipf popularity, 8 sources, 28 days.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import shopmetrics as sm
from shopmetrics.datasets import orders_parquet_path, write_events_parquet

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CPC = {"paid_search": 1.3, "display": 0.6}
"""Cost per click of the paid sources (the demo store's ``SOURCE_CPC``)."""


def parse_size(text: str) -> int:
    """``"1M"`` -> 1_000_000, ``"250k"`` -> 250_000, ``"1500000"`` -> 1_500_000."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "b": 1_000_000_000}
    if t and t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    return int(t)


def size_label(n: int) -> str:
    """1_000_000 -> ``"1M"``; 250_000 -> ``"250k"``."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def paths(n_events: int, out: Path = DATA) -> dict[str, Path]:
    """Where the files of one size live."""
    folder = out / size_label(n_events)
    events = folder / "events.parquet"
    return {
        "events": events,
        "orders": orders_parquet_path(events),
        "spend": folder / "spend.parquet",
    }


def write_spend(events_path: Path, spend_path: Path, seed: int = 0) -> int:
    """Spend per day, paid source, campaign and keyword, from the events' paid clicks.

    Reads the file one row group at a time (bounded memory) and counts clicks of paid
    sources per (day, source, campaign, keyword); cost = clicks x CPC x lognormal(0, 0.08).
    """
    pf = pq.ParquetFile(events_path)
    counts: dict[tuple[object, ...], int] = {}
    for i in range(pf.num_row_groups):
        rg = pf.read_row_group(i, columns=["ts", "event", "source", "campaign", "keyword"])
        paid = pc.and_(pc.equal(rg["event"], "click"), pc.is_in(rg["source"], pa.array(list(CPC))))
        rg = rg.filter(paid)
        if rg.num_rows == 0:
            continue
        day = pc.floor_temporal(rg["ts"], unit="day")
        grouped = (
            pa.table(
                {
                    "date": day,
                    "source": rg["source"],
                    "campaign": rg["campaign"],
                    "keyword": rg["keyword"],
                }
            )
            .group_by(["date", "source", "campaign", "keyword"], use_threads=False)
            .aggregate([([], "count_all")])
        )
        for row in grouped.to_pylist():
            key = (row["date"], row["source"], row["campaign"], row["keyword"])
            counts[key] = counts.get(key, 0) + int(row["count_all"])
    keys = sorted(counts, key=lambda k: tuple("" if v is None else str(v) for v in k))
    rng = np.random.default_rng(seed)
    clicks = np.asarray([counts[k] for k in keys], dtype=np.int64)
    cpc = np.asarray([CPC[str(k[1])] for k in keys])
    cost = np.round(clicks * cpc * rng.lognormal(0.0, 0.08, len(keys)), 2)
    table = pa.table(
        {
            "date": pa.array([k[0] for k in keys], pa.timestamp("ns")),
            "source": pa.array([k[1] for k in keys], pa.string()),
            "campaign": pa.array([k[2] for k in keys], pa.string()),
            "keyword": pa.array([k[3] for k in keys], pa.string()),
            "clicks": pa.array(clicks),
            "cost": pa.array(cost),
        }
    )
    pq.write_table(table, spend_path)
    return table.num_rows


def generate(
    n_events: int, out: Path = DATA, *, seed: int = 0, force: bool = False
) -> dict[str, Path]:
    """Write (or keep) the three files of one size; return their paths."""
    p = paths(n_events, out)
    p["events"].parent.mkdir(parents=True, exist_ok=True)
    have = p["events"].exists() and pq.ParquetFile(p["events"]).metadata.num_rows == n_events
    if force or not have or not p["orders"].exists():
        t = time.perf_counter()
        write_events_parquet(p["events"], n_events, seed=seed)
        print(f"  events+orders {size_label(n_events)}: {time.perf_counter() - t:.1f} s")
    if force or not have or not p["spend"].exists():
        write_spend(p["events"], p["spend"], seed=seed)
    meta = {
        "n_events": n_events,
        "n_orders": pq.ParquetFile(p["orders"]).metadata.num_rows,
        "n_spend": pq.ParquetFile(p["spend"]).metadata.num_rows,
        "seed": seed,
        "bytes": {k: v.stat().st_size for k, v in p.items()},
        "shopmetrics": sm.__version__,
    }
    (p["events"].parent / "meta.json").write_text(json.dumps(meta, indent=2))
    return p


WIDE_PRODUCTS = 5_000
WIDE_SOURCES = (
    "search",
    "recommend",
    "shop",
    "paid_search",
    "display",
    "live",
    "short_video",
    "other",
)
WIDE_DAYS = 28
WIDE_START = np.datetime64("2026-10-26T00:00:00", "ns")
WIDE_EVENTS_PER_SESSION = 8
"""Five exposures, a click, a visit and one more visit or deep action (cart 12%,
favourite 10%, inquiry 8%)."""


def wide_paths(n_events: int, out: Path = DATA) -> dict[str, Path]:
    """Where the files of one size of the wide shape live."""
    events = out / f"wide-{size_label(n_events)}" / "events.parquet"
    return {"events": events, "orders": orders_parquet_path(events)}


def _wide_chunk(
    rng: np.random.Generator, first: int, n: int, n_visitors: int, cdf: np.ndarray
) -> tuple[pa.Table, pa.Table]:
    """``n`` sessions (numbers ``first`` ...): their events and their orders."""
    visitor = rng.integers(0, n_visitors, n)
    product = np.minimum(np.searchsorted(cdf, rng.random(n)), WIDE_PRODUCTS - 1)
    source = rng.integers(0, len(WIDE_SOURCES), n)
    day = rng.integers(0, WIDE_DAYS, n)
    start = WIDE_START + (day * 86_400 + rng.integers(0, 86_000, n)) * 1_000_000_000
    k = WIDE_EVENTS_PER_SESSION
    seen = np.minimum(np.searchsorted(cdf, rng.random((n, 5))), WIDE_PRODUCTS - 1)
    last = rng.choice(["visit", "cart", "favorite", "inquiry"], n, p=[0.70, 0.12, 0.10, 0.08])
    events = np.empty((n, k), dtype=object)
    events[:, :5] = "exposure"
    events[:, 5], events[:, 6], events[:, 7] = "click", "visit", last
    prods = np.concatenate([seen, np.repeat(product[:, None], 3, axis=1)], axis=1)
    ts = start[:, None] + (np.arange(k) * 20 * 1_000_000_000)[None, :]
    names = np.char.add("P", np.char.zfill(np.arange(WIDE_PRODUCTS).astype(str), 5))
    vids = np.char.add("v", np.char.zfill(visitor.astype(str), 7))
    srcs = np.asarray(WIDE_SOURCES)[source]
    ev = pa.table(
        {
            "ts": pa.array(ts.ravel(), pa.timestamp("ns")),
            "visitor_id": pa.array(np.repeat(vids, k), pa.large_string()),
            "event": pa.array(events.ravel(), pa.large_string()),
            "product_id": pa.array(names[prods.ravel()], pa.large_string()),
            "source": pa.array(np.repeat(srcs, k), pa.large_string()),
        }
    )
    buys = rng.random(n) < 0.03
    m = int(buys.sum())
    created = start[buys] + 600 * 1_000_000_000
    paid = rng.random(m) < 0.9
    paid_at = np.where(paid, created + 120 * 1_000_000_000, np.datetime64("NaT", "ns"))
    od = pa.table(
        {
            "order_id": pa.array([f"o{first + i:09d}" for i in np.flatnonzero(buys)]),
            "buyer_id": pa.array(vids[buys]),
            "product_id": pa.array(names[product[buys]]),
            "source": pa.array(srcs[buys]),
            "created_at": pa.array(created, pa.timestamp("ns")),
            "paid_at": pa.array(paid_at, pa.timestamp("ns")),
            "amount": pa.array(np.round(rng.lognormal(3.5, 0.6, m), 2)),
        }
    )
    return ev, od


def generate_wide(
    n_events: int, out: Path = DATA, *, seed: int = 0, force: bool = False
) -> dict[str, Path]:
    """Write (or keep) the wide shape: ``n_events / 8`` sessions, each of a visitor drawn
    from ``n_events / 8`` ids, on a product drawn from a Zipf(1.1) popularity over 5,000
    products, through one of 8 sources, on one of 28 days; 3% of sessions order (90%
    paid two minutes later). Written in chunks of 250k sessions (bounded memory)."""
    p = wide_paths(n_events, out)
    p["events"].parent.mkdir(parents=True, exist_ok=True)
    have = p["events"].exists() and pq.ParquetFile(p["events"]).metadata.num_rows == n_events
    if have and p["orders"].exists() and not force:
        return p
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_sessions = n_events // WIDE_EVENTS_PER_SESSION
    weights = 1.0 / np.arange(1, WIDE_PRODUCTS + 1) ** 1.1
    cdf = np.cumsum(weights) / weights.sum()
    ev_writer = od_writer = None
    n_orders = 0
    for first in range(0, n_sessions, 250_000):
        ev, od = _wide_chunk(rng, first, min(250_000, n_sessions - first), n_sessions, cdf)
        ev_writer = ev_writer or pq.ParquetWriter(p["events"], ev.schema)
        od_writer = od_writer or pq.ParquetWriter(p["orders"], od.schema)
        ev_writer.write_table(ev)
        od_writer.write_table(od)
        n_orders += od.num_rows
    for w in (ev_writer, od_writer):
        if w is not None:
            w.close()
    meta = {
        "shape": "wide",
        "n_events": n_events,
        "n_orders": n_orders,
        "n_visitor_ids": n_sessions,
        "products": WIDE_PRODUCTS,
        "sources": len(WIDE_SOURCES),
        "days": WIDE_DAYS,
        "seed": seed,
        "bytes": {k: v.stat().st_size for k, v in p.items()},
        "shopmetrics": sm.__version__,
    }
    (p["events"].parent / "meta.json").write_text(json.dumps(meta, indent=2))
    print(f"  wide events+orders {size_label(n_events)}: {time.perf_counter() - t:.1f} s")
    return p


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", nargs="+", default=["1M"], help="sizes, e.g. 1M 10M 50M")
    ap.add_argument("--out", type=Path, default=DATA, help="data folder (default benchmarks/data)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    ap.add_argument("--shape", choices=["demo", "wide"], default="demo")
    args = ap.parse_args(argv)
    for size in args.events:
        n = parse_size(size)
        write = generate_wide if args.shape == "wide" else generate
        p = write(n, args.out, seed=args.seed, force=args.force)
        print(f"{size_label(n)}: " + ", ".join(f"{k}={v}" for k, v in p.items()))


if __name__ == "__main__":
    main()
