"""Reading a large Taobao order export: shopmetrics.io against the plain reads an analyst writes.

Writes a GBK ``ExportOrderList`` CSV of ``--rows`` orders (19-digit ids guarded as ``="…"``,
trailing-space headers, 41 columns), then times, in this process:

- ``pandas.read_csv(path, encoding="gbk")``: the plain read (types inferred; ids become
  floats and lose digits);
- ``pandas.read_csv(..., dtype=str)``: the plain read that keeps ids;
- ``polars.read_csv(..., encoding="utf8-lossy")`` on a UTF-8 copy, when polars is installed;
- ``read_table``: encoding detection, header scan, trimming, guards, summary rows;
- ``read_table`` + ``to_canonical``: and every known column parsed, status and presale.

Run: ``PYTHONPATH=src python benchmarks/bench_io.py --rows 1000000``. Prints seconds and
ratios; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

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


def timed(name: str, fn: Callable[[], object], repeat: int = 2) -> float:
    best = min(_once(fn) for _ in range(repeat))
    print(f"{name:<48} {best:7.2f} s")
    return best


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ExportOrderList202611302359.csv"
        write_export(path, args.rows)
        print(f"{args.rows:,} orders, {path.stat().st_size / 1e6:.0f} MB GBK CSV")
        plain = timed("pandas.read_csv(encoding='gbk')", lambda: pd.read_csv(path, encoding="gbk"))
        text = timed(
            "pandas.read_csv(encoding='gbk', dtype=str)",
            lambda: pd.read_csv(path, encoding="gbk", dtype=str),
        )
        if importlib.util.find_spec("polars"):
            import polars as pl  # noqa: PLC0415 - optional

            utf8 = Path(tmp) / "utf8.csv"
            utf8.write_bytes(path.read_bytes().decode("gbk").encode("utf-8"))
            timed("polars.read_csv (UTF-8 copy)", lambda: pl.read_csv(utf8, infer_schema=False))
        read = timed("shopmetrics read_table", lambda: read_table(path))
        full = timed(
            "shopmetrics read_table + to_canonical", lambda: to_canonical(read_table(path))
        )
        print(f"read_table / plain pandas read:           {read / plain:5.2f}x")
        print(f"read_table / pandas read with dtype=str:  {read / text:5.2f}x")
        print(f"read + canonical / plain pandas read:     {full / plain:5.2f}x")


if __name__ == "__main__":
    main()
