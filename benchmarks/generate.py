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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", nargs="+", default=["1M"], help="sizes, e.g. 1M 10M 50M")
    ap.add_argument("--out", type=Path, default=DATA, help="data folder (default benchmarks/data)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args(argv)
    for size in args.events:
        n = parse_size(size)
        p = generate(n, args.out, seed=args.seed, force=args.force)
        print(f"{size_label(n)}: " + ", ".join(f"{k}={v}" for k, v in p.items()))


if __name__ == "__main__":
    main()
