"""Benchmark ``sm.funnel`` against hand-written DuckDB, polars and pandas on the same data.

    python benchmarks/run.py                       # make bench: 1M events, quick
    python benchmarks/run.py --sizes 1M 10M 50M --repeat 3
    python benchmarks/run.py --sizes 10M --variants shopmetrics duckdb polars

For each size the data are generated once (``benchmarks/generate.py``, Parquet under
``benchmarks/data/``), then every variant runs ``--repeat`` times, each run in a fresh
Python subprocess, the variants interleaved so that a busy machine slows all of them
alike. A run reads the Parquet paths and returns the product x source x day funnel
table; wall time is measured around that call only (imports excluded). Peak memory is
the subprocess's own high-water mark of resident memory at its end (Linux ``VmHWM`` in
/proc/self/status: interpreter and libraries included; not ``ru_maxrss``, which on
Linux keeps the parent's size at fork); the same mark after the variant's libraries
are imported (before the timed call) is recorded beside it as ``baseline_rss_mb``.

The tables of all variants are compared: every count must be equal; ``paid_amount``
(floats summed in each engine's own order, shopmetrics in integer cents) is reported as
the largest difference. Results go to ``benchmarks/results/<size>.json``; the summary
printed gives the best and median wall time, peak memory, and the ratios to (b) DuckDB
and to the fastest hand-written query; ``x b3``: to the same table written by hand
(variant ``duckdb_cte_table``), and ``x b4``: to that table and the detectors' visitor-day
aggregate written by hand (``duckdb_cte_flags``, the default call's aggregates), when
they ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results"
HAND = ("duckdb", "duckdb_cte", "polars", "polars_cte", "pandas")
FAST_HAND = ("duckdb", "duckdb_cte", "polars", "polars_cte")
DEFAULT_VARIANTS = (
    "shopmetrics",
    "shopmetrics_detect",
    "shopmetrics_duckdb",
    "shopmetrics_pandas",
    "duckdb",
    "duckdb_cte",
    "polars",
    "pandas",
)
PANDAS_ENGINE_MAX = 10_000_000
"""Above this many events, ``engine='pandas'`` (which reads every column into pandas) is
left out unless asked for by name."""


# ---------------------------------------------------------------- worker (one subprocess)


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` (the high-water mark of this process's own address space); where
    there is no /proc, ``ru_maxrss``, which on Linux would also count the parent's
    memory at fork (it survives ``exec``).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(args: argparse.Namespace) -> None:
    import variants as v  # noqa: PLC0415 - after sys.path is set

    label, fn = v.VARIANTS[args.worker]
    for module in v.IMPORTS[args.worker]:  # imports are not part of the timed call
        __import__(module)
    baseline = _rss_mb()
    paths = {"events": args.events, "orders": args.orders}
    t0 = time.perf_counter()
    result = fn(paths)
    wall = time.perf_counter() - t0
    peak = _rss_mb()
    out: dict[str, Any] = {
        "variant": args.worker,
        "label": label,
        "wall_s": wall,
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
    }
    if args.worker.startswith("shopmetrics"):
        table = v.shopmetrics_table(result)
        out["flags"] = sorted({f.code for f in result.flags})
        out["excluded"] = [list(map(str, e)) for e in result.audit.excluded]
        if args.profile:
            _, out["profile"] = v.shopmetrics_profile(fn, paths)
    else:
        table = v.canonical(result)
    out["rows"] = len(table)
    table.to_parquet(args.table_out, index=False)
    Path(args.result_out).write_text(json.dumps(out))


# ---------------------------------------------------------------- parent


def _run_variant(
    name: str, paths: dict[str, Path], tmp: Path, run: int, profile: bool
) -> dict[str, Any]:
    result_out = tmp / f"{name}-{run}.json"
    table_out = tmp / f"{name}.parquet"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        name,
        "--events",
        str(paths["events"]),
        "--orders",
        str(paths["orders"]),
        "--result-out",
        str(result_out),
        "--table-out",
        str(table_out),
    ]
    if profile:
        cmd.append("--profile")
    _warm_page_cache(paths.values())
    load_before = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"variant": name, "error": proc.stderr[-2000:]}
    out: dict[str, Any] = json.loads(result_out.read_text())
    out["load_avg_1min_before"] = load_before
    return out


def _warm_page_cache(paths: Any) -> None:
    """Read the input files through before a run, so that each run starts with them in
    the page cache whatever happened between runs. Machines of this kind run DAMON
    ``pageout`` (``/sys/kernel/mm/damon``), which gives back cold pages, the files' cached
    pages among them: a run after a pause then read its Parquet from disk (b2 took 3.5 s
    against 1.1 s at 10M here, session 9)."""
    for path in paths:
        files = sorted(Path(path).rglob("*")) if Path(path).is_dir() else [Path(path)]
        for f in files:
            if f.is_file():
                with f.open("rb") as fh:
                    while fh.read(1 << 24):
                        pass


def _agreement(tables: dict[str, Any], reference: str) -> dict[str, Any]:
    import numpy as np  # noqa: PLC0415
    import variants as v  # noqa: PLC0415

    ref = tables[reference]
    report: dict[str, Any] = {"reference": reference}
    for name, t in tables.items():
        if name == reference:
            continue
        same_keys = t[v.KEYS].equals(ref[v.KEYS])
        entry: dict[str, Any] = {"rows": len(t), "same_groups": bool(same_keys)}
        if same_keys:
            entry["counts_equal"] = bool(t[v.COUNTS].equals(ref[v.COUNTS]))
            diff = np.abs(t["paid_amount"].to_numpy() - ref["paid_amount"].to_numpy())
            entry["paid_amount_max_abs_diff"] = float(diff.max()) if len(diff) else 0.0
            scale = np.maximum(np.abs(ref["paid_amount"].to_numpy()), 1e-300)
            entry["paid_amount_max_rel_diff"] = float((diff / scale).max()) if len(diff) else 0.0
            entry["paid_amount_bitwise_equal_rows"] = (
                float((diff == 0).mean()) if len(diff) else 1.0
            )
        report[name] = entry
    return report


def _machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("shopmetrics", "narwhals", "polars", "duckdb", "pandas", "pyarrow", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024**2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0].get("error", "failed")}
    walls = [r["wall_s"] for r in ok]
    out = {
        "label": ok[0]["label"],
        "runs": len(ok),
        "wall_s": walls,
        "best_s": min(walls),
        "median_s": statistics.median(walls),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "baseline_rss_mb": min(r["baseline_rss_mb"] for r in ok),
        "rows": ok[0]["rows"],
        "load_avg_1min_before": [r["load_avg_1min_before"] for r in ok],
    }
    for key in ("flags", "excluded", "profile"):
        if key in ok[-1]:
            out[key] = ok[-1][key]
    return out


def bench_size(
    n_events: int, names: list[str], repeat: int, profile: bool, shape: str = "demo"
) -> dict[str, Any]:
    import generate  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    paths = generate.generate_wide(n_events) if shape == "wide" else generate.generate(n_events)
    prefix = "wide-" if shape == "wide" else ""
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="smbench-") as tmp_name:
        tmp = Path(tmp_name)
        for r in range(repeat):
            for name in names:
                res = _run_variant(name, paths, tmp, r, profile and r == repeat - 1)
                results[name].append(res)
                status = res.get("error", "").splitlines()[-1:] if "error" in res else None
                print(
                    f"  {prefix}{generate.size_label(n_events)} run {r + 1}/{repeat} {name:<20} "
                    + (
                        f"FAILED {status}"
                        if status
                        else f"{res['wall_s']:8.2f} s {res['peak_rss_mb']:8.0f} MB"
                    ),
                    flush=True,
                )
        tables = {
            n: pd.read_parquet(tmp / f"{n}.parquet")
            for n in names
            if (tmp / f"{n}.parquet").exists()
        }
    summary = {n: _summary(rs) for n, rs in results.items()}
    reference = "duckdb" if "duckdb" in tables else next(iter(tables))
    agreement = _agreement(tables, reference) if len(tables) > 1 else {}
    ref_best = summary.get("duckdb", {}).get("best_s")
    fastest = [summary[n]["best_s"] for n in FAST_HAND if "best_s" in summary.get(n, {})]
    fastest_s = min(fastest) if fastest else None
    table_s = summary.get("duckdb_cte_table", {}).get("best_s")  # the same table by hand
    flags_s = summary.get("duckdb_cte_flags", {}).get("best_s")  # and the detectors' bins
    for s in summary.values():
        if "best_s" in s:
            s["ratio_to_duckdb"] = s["best_s"] / ref_best if ref_best else None
            s["ratio_to_fastest_hand"] = s["best_s"] / fastest_s if fastest_s else None
            s["ratio_to_hand_table"] = s["best_s"] / table_s if table_s else None
            s["ratio_to_hand_flags"] = s["best_s"] / flags_s if flags_s else None
    meta = json.loads((paths["events"].parent / "meta.json").read_text())
    return {
        "size": prefix + generate.size_label(n_events),
        "shape": shape,
        "data": meta,
        "repeat": repeat,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "variants": summary,
        "agreement": agreement,
        "fastest_hand_s": fastest_s,
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"\n== {report['size']} events ({report['data']['n_orders']:,} orders), "
        f"best of {report['repeat']}"
    )
    print(
        f"{'variant':<48} {'best s':>8} {'median s':>9} {'peak MB':>8} {'x DuckDB':>9} "
        f"{'x fastest':>10} {'x b3':>6} {'x b4':>6}"
    )
    for s in report["variants"].values():
        if "best_s" not in s:
            print(f"{'?':<48} FAILED: {s.get('error', '')[-200:]}")
            continue
        print(
            f"{s['label']:<48} {s['best_s']:8.2f} {s['median_s']:9.2f} {s['peak_rss_mb']:8.0f} "
            f"{s['ratio_to_duckdb'] or float('nan'):9.2f} {s['ratio_to_fastest_hand'] or float('nan'):10.2f}"
            f" {s.get('ratio_to_hand_table') or float('nan'):6.2f}"
            f" {s.get('ratio_to_hand_flags') or float('nan'):6.2f}"
        )
    for name, a in report["agreement"].items():
        if name == "reference":
            continue
        print(
            f"  agreement {name} vs {report['agreement']['reference']}: groups "
            f"{'equal' if a['same_groups'] else 'DIFFER'}, counts "
            f"{'equal' if a.get('counts_equal') else 'DIFFER'}, paid_amount max |diff| "
            f"{a.get('paid_amount_max_abs_diff', float('nan')):.3g}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="+", default=["1M"], help="event counts, e.g. 1M 10M 50M")
    ap.add_argument("--repeat", type=int, default=1, help="runs per variant (best is reported)")
    ap.add_argument(
        "--variants", nargs="+", default=None, help=f"subset of {list(DEFAULT_VARIANTS)}"
    )
    ap.add_argument(
        "--no-profile", action="store_true", help="skip the per-pass timing of shopmetrics"
    )
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    ap.add_argument(
        "--shape",
        choices=["demo", "wide"],
        default="demo",
        help="demo: the store's session model; wide: issue 16's 5,000 Zipf products, 8 sources",
    )
    # worker mode (internal)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--events", help=argparse.SUPPRESS)
    ap.add_argument("--orders", help=argparse.SUPPRESS)
    ap.add_argument("--result-out", help=argparse.SUPPRESS)
    ap.add_argument("--table-out", help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    import generate  # noqa: PLC0415

    failed = False
    for size in args.sizes:
        n = generate.parse_size(size)
        names = list(
            args.variants
            or [v for v in DEFAULT_VARIANTS if v != "shopmetrics_pandas" or n <= PANDAS_ENGINE_MAX]
        )
        report = bench_size(n, names, args.repeat, not args.no_profile, args.shape)
        _print(report)
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"{report['size']}.json").write_text(json.dumps(report, indent=2) + "\n")
        for name, a in report["agreement"].items():
            if name != "reference" and not (a["same_groups"] and a.get("counts_equal")):
                failed = True
        failed = failed or any("error" in s for s in report["variants"].values())
    if failed:
        print("\nSOME VARIANTS FAILED OR DISAGREE (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
