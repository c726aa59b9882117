"""The weekly report beside one default funnel, on the same store, in the same run.

Variants (each in a fresh process, interleaved, ``--repeat`` times; the median is kept):

- ``funnel``: ``sm.funnel(events, orders, freq="W")``, flags on (the default call);
- ``funnel_daily``: ``sm.funnel(events, orders, by=["product_id", "source"], freq="D")``,
  flags on (the call of ``benchmarks/run.py``);
- ``weekly_report``: ``sm.weekly_report(events, orders, ratings, spend, peers, dsr_peers)``.

Each worker imports the modules of :data:`WARM` before its timed call, as ``run.py``
does (``--cold``: not, so each call pays its lazy imports, as before 2026-12-02: 1.59x
then against about 1.85x warm, the imports being a larger share of the funnel's time).
Each worker also counts the engine collects (``engine.collect_spy``) and the rows they
bring back, so a change in the number of passes shows beside the time. The store is
``sm.datasets.make_store(seed=0, visitors_per_day=...)`` (the demo store at the default),
written once to Parquet so that every worker reads the same files.

The report's worker also records the wall time between its ``progress`` steps (``steps``:
reading, the store's funnel with its detectors and corrections, traffic sources,
products, DSR, visitor value, writing).

Run: ``PYTHONPATH=src python benchmarks/bench_report.py --repeat 3`` (demo store) or
``--visitors-per-day 8000`` for a larger one; ``--base-src /path/to/base/src`` runs another
tree interleaved with this one (each round: every variant of both trees), so that
before / after are measured under the same load. Writes ``results/report_<visitors>.json``
unless ``--no-save``; ``vs_funnel_median_of_rounds`` is the median over rounds of each
round's ratio to that round's funnel (the figure to read on a shared machine). Nothing
asserts on time; the target (issue 16) is ``weekly_report`` within 1.5x one default funnel.
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
WARM = (
    "polars",
    "scipy.stats",
    "statsmodels.stats.proportion",
    "statsmodels.stats.multitest",
    "statsmodels.tsa.seasonal",
    "jinja2",
    "shopmetrics.report.weekly",
    "shopmetrics.report.sections",
    "shopmetrics.report.summary",
    "shopmetrics.report.html",
    "shopmetrics.report.figures",
    "shopmetrics.traffic",
    "shopmetrics.anomaly",
    "shopmetrics.attribution",
    "shopmetrics.activity",
)
"""Modules every worker imports before its timed call (as ``run.py`` does): the lazy
imports of the funnel and of the report, so neither variant's time holds an import
(``--cold`` leaves them to the call: a fresh process's first report)."""
VARIANTS = ("funnel", "funnel_daily", "weekly_report")
TABLES = ("events", "orders", "ratings", "spend", "peers", "dsr_peers")


def _write_store(folder: Path, visitors_per_day: int) -> None:
    import shopmetrics as sm  # noqa: PLC0415

    store = sm.datasets.make_store(seed=0, visitors_per_day=visitors_per_day)
    for name in TABLES:
        getattr(store, name).to_parquet(folder / f"{name}.parquet", index=False)


def _worker(folder: Path, variant: str, *, cold: bool = False) -> dict[str, Any]:
    import importlib  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    import shopmetrics as sm  # noqa: PLC0415
    from shopmetrics import engine  # noqa: PLC0415

    for name in () if cold else WARM:
        importlib.import_module(name)

    t = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    marks: list[tuple[str, float]] = []
    with engine.collect_spy() as spy:
        start, cpu = time.perf_counter(), time.process_time()
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
                progress=lambda msg: marks.append((msg, time.perf_counter())),
            )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    ends = [m[1] for m in marks[1:]] + [start + seconds] if marks else []
    return {
        "variant": variant,
        "seconds": seconds,
        # CPU time of the process, every thread: less sensitive than wall time to the
        # other jobs of a shared machine (it still counts their effect on caches)
        "cpu_seconds": cpu,
        # wall time from each progress step of the report to the next (the last to the end)
        "steps": {m: round(e - b, 4) for (m, b), e in zip(marks, ends, strict=True)},
        "collects": len(spy),
        "rows_collected": sum(n for _, n in spy),
        "events": len(t["events"]),
    }


def _run(folder: Path, variant: str, src: str, tree: str, *, cold: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", variant, "--folder", str(folder)]
        + (["--cold"] if cold else []),
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["tree"] = tree
    result["load_before"] = os.getloadavg()[0]
    return result


def _summary(runs: list[dict[str, Any]], tree: str) -> dict[str, Any]:
    """Medians of one tree's variants, and the report over the funnel of the same round."""
    mine = [r for r in runs if r["tree"] == tree]
    out: dict[str, Any] = {}
    for v in VARIANTS:
        rs = [r for r in mine if r["variant"] == v]
        out[v] = {
            "median_seconds": statistics.median(r["seconds"] for r in rs),
            "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
            "collects": rs[0]["collects"],
            "rows_collected": rs[0]["rows_collected"],
        }
    rounds = sorted({r["round"] for r in mine})
    for v in VARIANTS:
        per_round = [
            next(r["seconds"] for r in mine if r["round"] == k and r["variant"] == v)
            / next(r["seconds"] for r in mine if r["round"] == k and r["variant"] == "funnel")
            for k in rounds
        ]
        out[v]["vs_funnel"] = out[v]["median_seconds"] / out["funnel"]["median_seconds"]
        out[v]["cpu_vs_funnel"] = out[v]["median_cpu_seconds"] / out["funnel"]["median_cpu_seconds"]
        out[v]["vs_funnel_per_round"] = [round(x, 3) for x in per_round]
        out[v]["vs_funnel_median_of_rounds"] = statistics.median(per_round)
    steps = [r["steps"] for r in mine if r["variant"] == "weekly_report"]
    out["weekly_report"]["steps_median"] = {
        k: statistics.median(s[k] for s in steps) for k in steps[0]
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--visitors-per-day", type=int, default=1500)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--src", default=str(HERE.parent / "src"), help="the package to time (e.g. a base commit's)"
    )
    ap.add_argument(
        "--base-src",
        help="another tree (e.g. the base commit's src/) run interleaved with --src, same store",
    )
    ap.add_argument(
        "--cold",
        action="store_true",
        help="time the lazy imports too (a fresh process's first call)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(Path(args.folder), args.worker, cold=args.cold)))
        return 0
    trees = {"head": args.src, **({"base": args.base_src} if args.base_src else {})}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_store(folder, args.visitors_per_day)
        runs = []
        for k in range(args.repeat):  # interleaved: every variant of every tree each round
            for v in VARIANTS:
                for tree, src in trees.items():
                    runs.append({**_run(folder, v, src, tree, cold=args.cold), "round": k})
    summary = {tree: _summary(runs, tree) for tree in trees}
    for tree, sm in summary.items():
        for v in VARIANTS:
            print(
                f"{tree:5s} {v:15s} {sm[v]['median_seconds']:7.2f} s  "
                f"{sm[v]['vs_funnel_median_of_rounds']:5.2f}x (median of rounds)  "
                f"cpu {sm[v]['median_cpu_seconds']:7.2f} s {sm[v]['cpu_vs_funnel']:5.2f}x  "
                f"{sm[v]['collects']:3d} collects  {sm[v]['rows_collected']:,} rows"
            )
    report = {
        "events": runs[0]["events"],
        "visitors_per_day": args.visitors_per_day,
        "repeat": args.repeat,
        "imports": "in the timed call (--cold)" if args.cold else "before the timed call",
        "trees": trees,
        "summary": summary,
        "runs": runs,
    }
    if not args.no_save:
        cold = "_cold" if args.cold else ""
        path = HERE / "results" / f"report_{args.visitors_per_day}{cold}.json"
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
