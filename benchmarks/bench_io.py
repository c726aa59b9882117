"""Reading a large Taobao order export: shopmetrics against the engine's plain read of the same data.

Writes a GBK ``ExportOrderList`` CSV of ``--rows`` orders (19-digit ids guarded as ``="…"``,
trailing-space headers, 41 columns) and the same orders as a canonical UTF-8 CSV (what
``to_canonical`` makes of the export, written by pandas: canonical names, ISO times), then
times, interleaved in this process (best of ``--repeat``):

- **baseline** ``engine.load(canonical.csv, "orders")`` collected: the engine's own lazy CSV
  scan (polars when installed), ids as text, times parsed — the plain read of the data;
- ``engine.load(export.csv, "orders")`` collected: the export read as the metrics read it
  (polars fast path of :mod:`shopmetrics.engine.export_text` when polars is the engine);
- the same with the fast path switched off: :mod:`shopmetrics.io` (pandas) as before;
- ``read_table`` + ``to_canonical`` (the pandas reader the CLI and ``inspect`` use);
- ``pandas.read_csv(encoding="gbk", dtype=str)`` and ``polars.read_csv`` of a UTF-8 copy,
  for scale;
- the call a seller makes, ``sm.funnel(traffic=…, orders="ExportOrderList….csv", freq="D")``
  (a 30-day daily traffic table; the read is not cached between runs), and the same
  funnel from the canonical CSV: the read + funnel against the plain read, and against the
  plain read + the same funnel.

It checks that the fast and the reference reads give the same frame (values, dtypes,
column order) and that both funnels give the same table. Run:
``PYTHONPATH=src python benchmarks/bench_io.py --rows 1000000``. Prints seconds and ratios;
nothing asserts on time.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import shopmetrics as sm
from shopmetrics import engine
from shopmetrics.engine import export_text, reading
from shopmetrics.io.convert import to_canonical
from shopmetrics.io.files import read_table

HEADERS = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额",
    "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址 ",
    "运送方式", "联系电话 ", "联系手机", "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类 ",
    "物流单号 ", "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因",
    "卖家服务费", "买家服务费", "发票抬头", "是否手机订单", "分阶段订单信息", "特权订金订单id",
    "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣", "集分宝抵扣", "退款金额",
]  # fmt: skip


def write_export(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    created = pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 30 * 86400, rows), "s")
    paid = created + pd.to_timedelta(rng.integers(30, 900, rows), "s")
    has_paid = rng.random(rows) < 0.8
    amount = rng.integers(100, 100_000, rows) / 100
    status = np.where(has_paid, "交易成功", "等待买家付款")
    frame = pd.DataFrame(dict.fromkeys(HEADERS, ""), index=range(rows))
    frame["订单编号"] = [f'="{3412345678901234567 - i}"' for i in range(rows)]
    frame["买家会员名"] = [f"tb{i % 200_000}" for i in range(rows)]
    frame["买家实际支付金额"] = np.char.mod("%.2f", amount)
    frame["总金额"] = frame["买家实际支付金额"]
    frame["订单状态"] = status
    frame["收货地址 "] = "浙江省 杭州市 西湖区 文三路1号"
    frame["订单创建时间"] = created.strftime("%Y-%m-%d %H:%M:%S")
    frame["订单付款时间 "] = np.where(has_paid, paid.strftime("%Y-%m-%d %H:%M:%S"), "")
    frame["宝贝标题 "] = "加厚羊毛围巾 冬季"
    frame["宝贝总数量"] = rng.integers(1, 5, rows).astype(str)
    frame["订单关闭原因"] = "订单未关闭"
    frame["卖家服务费"] = "0元"
    frame["退款金额"] = "0.00"
    frame.to_csv(path, index=False, encoding="gbk")


def timed(results: dict[str, list[float]], name: str, fn: Callable[[], object]) -> None:
    start = time.perf_counter()
    fn()
    results.setdefault(name, []).append(time.perf_counter() - start)


def load(path: Path, *, fast: bool = True) -> Any:
    """``engine.load(path, "orders")`` collected, without the call cache."""
    reading._read_export.cache_clear()
    saved = export_text.read_fast
    if not fast:
        export_text.read_fast = lambda *_: None  # type: ignore[assignment]
    try:
        return engine.load(str(path), "orders").frame.collect().to_native()
    finally:
        export_text.read_fast = saved  # type: ignore[assignment]


TRAFFIC = pd.DataFrame(
    {"date": pd.date_range("2026-11-01", "2026-11-30", freq="D"), "visitors": 400_000}
)


def funnel(orders: Path) -> Any:
    """``sm.funnel(traffic=…, orders=path, freq="D")``, the export read afresh."""
    reading._read_export.cache_clear()
    return sm.funnel(traffic=TRAFFIC, orders=str(orders), freq="D").table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="only the plain read, the fast path, the funnels"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ExportOrderList202611302359.csv"
        write_export(path, args.rows)
        canonical = Path(tmp) / "orders.csv"
        to_canonical(read_table(path)).data.to_csv(canonical, index=False)
        utf8 = Path(tmp) / "utf8.csv"
        utf8.write_bytes(path.read_bytes().decode("gbk").encode("utf-8"))
        print(f"{args.rows:,} orders, {path.stat().st_size / 1e6:.0f} MB GBK CSV")
        if not args.quick:
            fast, slow = load(path), load(path, fast=False)
            print("fast and reference reads give the same frame:", fast.equals(slow))
        same = funnel(path).equals(funnel(canonical))
        print("the funnel from the export and from the canonical CSV are the same:", same)
        steps: dict[str, Callable[[], object]] = {
            "baseline: engine.load(canonical UTF-8 CSV)": lambda: load(canonical),
            "engine.load(GBK export), polars fast path": lambda: load(path),
            "sm.funnel(orders=GBK export)": lambda: funnel(path),
            "sm.funnel(orders=canonical UTF-8 CSV)": lambda: funnel(canonical),
            "engine.load(GBK export), reference io path": lambda: load(path, fast=False),
            "read_table + to_canonical (pandas)": lambda: to_canonical(read_table(path)),
            "pandas.read_csv(encoding='gbk', dtype=str)": lambda: pd.read_csv(
                path, encoding="gbk", dtype=str
            ),
        }
        if args.quick:
            steps = dict(list(steps.items())[:4])
        elif importlib.util.find_spec("polars"):
            import polars as pl  # noqa: PLC0415 - optional

            steps["polars.read_csv (UTF-8 copy, all text)"] = lambda: pl.read_csv(
                utf8, infer_schema=False
            )
        results: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, fn in steps.items():
                timed(results, name, fn)
        base = min(results["baseline: engine.load(canonical UTF-8 CSV)"])
        print(f"{'step':<48} {'best s':>7} {'median s':>9} {'x baseline':>11}")
        for name, times in results.items():
            best, median = min(times), float(np.median(times))
            print(f"{name:<48} {best:7.2f} {median:9.2f} {best / base:10.2f}x")
        plain = min(results["sm.funnel(orders=canonical UTF-8 CSV)"])
        ratio = min(results["sm.funnel(orders=GBK export)"]) / plain
        print(f"sm.funnel(orders=GBK export) / sm.funnel(orders=canonical CSV): {ratio:.2f}x")


if __name__ == "__main__":
    main()
