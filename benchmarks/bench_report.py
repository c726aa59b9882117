"""The weekly report beside one default funnel, on the same store, in the same run.

Variants (each in a fresh process, interleaved, ``--repeat`` times; the median is kept):

- ``funnel``: ``sm.funnel(events, orders, freq="W")``, flags on (the default call);
- ``funnel_daily``: ``sm.funnel(events, orders, by=["product_id", "source"], freq="D")``,
  flags on (the call of ``benchmarks/run.py``);
- ``weekly_report``: ``sm.weekly_report(events, orders, ratings, spend, peers, dsr_peers)``.

Each worker also counts the engine collects (``engine.collect_spy``) and the rows they
bring back, so a change in the number of passes shows beside the time. The store is
``sm.datasets.make_store(seed=0, visitors_per_day=...)`` (the demo store at the default),
written once to Parquet so that every worker reads the same files.

Run: ``PYTHONPATH=src python benchmarks/bench_report.py --repeat 3`` (demo store) or
``--visitors-per-day 8000`` for a larger one. Writes ``results/report_<visitors>.json``
unless ``--no-save``. Nothing asserts on time; the target (issue 16) is ``weekly_report``
within 1.5x one default funnel.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VARIANTS = ("funnel", "funnel_daily", "weekly_report")
TABLES = ("events", "orders", "ratings", "spend", "peers", "dsr_peers")


def _write_store(folder: Path, visitors_per_day: int) -> None:
    import shopmetrics as sm  # noqa: PLC0415

    store = sm.datasets.make_store(seed=0, visitors_per_day=visitors_per_day)
    for name in TABLES:
        getattr(store, name).to_parquet(folder / f"{name}.parquet", index=False)


def _worker(folder: Path, variant: str) -> dict[str, Any]:
    import pandas as pd  # noqa: PLC0415

    import shopmetrics as sm  # noqa: PLC0415
    from shopmetrics import engine  # noqa: PLC0415

    t = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    with engine.collect_spy() as spy:
        start = time.perf_counter()
        if variant == "funnel":
            sm.funnel(t["events"], t["orders"], freq="W")
        elif variant == "funnel_daily":
            sm.funnel(t["events"], t["orders"], by=["product_id", "source"], freq="D")
        else:
            sm.weekly_report(
                events=t["events"],
                orders=t["orders"],
                ratings=t["ratings"],
                spend=t["spend"],
                peers=t["peers"],
                dsr_peers=t["dsr_peers"],
            )
        seconds = time.perf_counter() - start
    return {
        "variant": variant,
        "seconds": seconds,
        "collects": len(spy),
        "rows_collected": sum(n for _, n in spy),
        "events": len(t["events"]),
    }


def _run(folder: Path, variant: str, src: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", variant, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--visitors-per-day", type=int, default=1500)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--src", default=str(HERE.parent / "src"), help="the package to time (e.g. a base commit's)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(Path(args.folder), args.worker)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_store(folder, args.visitors_per_day)
        runs = [_run(folder, v, args.src) for _ in range(args.repeat) for v in VARIANTS]
    summary = {}
    for v in VARIANTS:
        mine = [r for r in runs if r["variant"] == v]
        summary[v] = {
            "median_seconds": statistics.median(r["seconds"] for r in mine),
            "collects": mine[0]["collects"],
            "rows_collected": mine[0]["rows_collected"],
        }
    base = summary["funnel"]["median_seconds"]
    for v in VARIANTS:
        summary[v]["vs_funnel"] = summary[v]["median_seconds"] / base
        print(
            f"{v:15s} {summary[v]['median_seconds']:7.2f} s  {summary[v]['vs_funnel']:5.2f}x  "
            f"{summary[v]['collects']:3d} collects  {summary[v]['rows_collected']:,} rows"
        )
    report = {
        "events": runs[0]["events"],
        "visitors_per_day": args.visitors_per_day,
        "repeat": args.repeat,
        "summary": summary,
        "runs": runs,
    }
    if not args.no_save:
        path = HERE / "results" / f"report_{args.visitors_per_day}.json"
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
