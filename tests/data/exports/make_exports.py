"""Build realistic store-export files from a known truth table, and write the truth as JSON.

Run from the repository root (the files are committed; re-run after changing this script)::

    python tests/data/exports/make_exports.py

Every file is written the way its back-end writes it (see the project's exports spec):
title rows above the header, summary rows, numbers as formatted text (``1,391``,
``34,895.00``, ``3.45%``, ``0元``, ``-``), Excel-guarded ids (``="3412…"``), trailing spaces
in headers, 19-digit order ids, GBK / UTF-8-BOM / UTF-8 CSV, ``.xlsx``, real BIFF ``.xls``,
HTML sent as ``.xls``, and a 1688 line export that repeats the order-level 实付款 on every
line. ``truth.json`` holds, per file, the canonical rows a correct reader must produce
(money to the cent) and what the read must report (encoding, header row, summary rows).

Needs openpyxl and xlwt (test-only dependencies). Deterministic: a fixed seed, fixed times.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RNG = random.Random(20261107)
DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(3)]
PRODUCTS = [
    ("600100200301", "加厚羊毛围巾 冬季"),
    ("600100200302", "纯棉长袖T恤 男款"),
    ("600100200303", "保温杯 500ml"),
]

Truth = dict[str, Any]
TRUTH: dict[str, Truth] = {}


def money(x: Decimal) -> str:
    return f"{x:,.2f}"


def cents(lo: int, hi: int) -> Decimal:
    return Decimal(RNG.randint(lo * 100, hi * 100)) / 100


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:.2f}%" if den else "0.00%"


def record(name: str, **info: Any) -> None:
    TRUTH[name] = info


# ---------------------------------------------------------------- 生意参谋 product export

PRODUCT_HEADERS = [
    "统计日期", "商品ID", "商品名称", "主商品ID", "商品类型", "货号", "商品状态", "商品访客数",
    "商品浏览量", "平均停留时长", "商品详情页跳出率", "商品收藏人数", "商品加购件数", "商品加购人数",
    "下单买家数", "下单件数", "下单金额", "下单转化率", "支付买家数", "支付件数", "支付金额",
    "商品支付转化率", "支付新买家数", "支付老买家数", "老买家支付金额", "访客平均价值", "成功退款金额",
    "竞争力评分", "年累计支付金额", "月累计支付金额", "月累计支付件数", "搜索引导访客数",
    "搜索引导支付买家数", "搜索引导支付转化率",
]  # fmt: skip


def product_rows(dates: list[dt.date | None]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Truth rows and the export's cells (formatted text where 生意参谋 writes text)."""
    truth, cells = [], []
    for day in dates:
        for pid, name in PRODUCTS:
            v = RNG.randint(80, 3200)
            pv = v + RNG.randint(0, 2 * v)
            fav, cart = RNG.randint(0, v // 10), RNG.randint(0, v // 8)
            ob = RNG.randint(0, max(1, v // 20))
            pb = RNG.randint(0, ob)
            amount = sum((cents(19, 399) for _ in range(pb)), Decimal(0))
            refund = Decimal(0) if pb < 3 else cents(0, 50)
            t = {"product_id": pid, "product_name": name, "visitors": v, "page_views": pv,
                 "favoriters": fav, "carters": cart, "order_buyers": ob, "paid_buyers": pb,
                 "paid_amount": float(amount), "refund_amount": float(refund)}  # fmt: skip
            if day is not None:
                t["date"] = day.isoformat()
            truth.append(t)
            cells.append([
                day.isoformat() if day else None, pid, name, pid, "普通商品", f"HH-{pid[-3:]}", "当前在线",
                f"{v:,}", f"{pv:,}", f"{RNG.uniform(5, 60):.2f}", pct(RNG.randint(0, v), v), str(fav),
                str(cart + RNG.randint(0, 5)), f"{cart:,}", str(ob), str(ob + 1), money(amount + 10),
                pct(ob, v), str(pb), str(pb), money(amount), pct(pb, v), str(pb // 2), str(pb - pb // 2),
                money(amount / 2), f"{float(amount) / v:.2f}", money(refund), "-",
                money(amount * 40), money(amount * 9), str(pb * 9), f"{v // 3:,}", str(pb // 3),
                pct(pb // 3, max(1, v // 3)),
            ])  # fmt: skip
    return truth, cells


def summary_row(headers: list[str], label: str) -> list[Any]:
    row: list[Any] = [label] + ["-"] * (len(headers) - 1)
    return row


def write_product_xlsx() -> None:
    from openpyxl import Workbook

    truth, cells = product_rows(list(DAYS))
    wb = Workbook()
    ws = wb.active
    ws.title = "商品效果"
    ws.append(["生意参谋-商品-商品效果"])
    ws.append([f"统计日期：{DAYS[0]}~{DAYS[-1]}"])
    ws.append(["店铺名称：示例旗舰店"])
    ws.append([])
    ws.append(PRODUCT_HEADERS)
    ws.append(summary_row(PRODUCT_HEADERS, "总计"))
    for cell_row in cells:
        row = list(cell_row)
        row[7] = int(row[7].replace(",", ""))  # 商品访客数: an Excel number, as in the download
        ws.append(row)
    wb.save(HERE / "sycm_product_daily.xlsx")
    record("sycm_product_daily.xlsx", kind="sycm_product", table="traffic", format="xlsx",
           encoding=None, header_row=5, summary_rows=1, rows=truth)  # fmt: skip


def weekly_headers() -> list[str]:
    return [h for h in PRODUCT_HEADERS if h != "统计日期"]


def write_product_xls() -> None:
    import xlwt

    week = (dt.date(2026, 11, 8), dt.date(2026, 11, 14))
    truth, cells = product_rows([None])
    for t in truth:
        t["date"], t["period_end"] = week[0].isoformat(), week[1].isoformat()
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("商品排行")
    sheet.write(0, 0, "生意参谋-商品-商品排行")
    sheet.write(1, 0, f"统计日期：{week[0]}~{week[1]}")
    sheet.write(2, 0, "终端：所有终端")
    headers = weekly_headers()
    for j, h in enumerate(headers):
        sheet.write(4, j, h)
    for i, row in enumerate([summary_row(headers, "合计"), *[r[1:] for r in cells]], start=5):
        for j, cell in enumerate(row):
            is_number = j == 6 and i > 5  # 商品访客数: a BIFF number
            sheet.write(i, j, float(str(cell).replace(",", "")) if is_number else cell)
    book.save(str(HERE / "sycm_product_week.xls"))
    record("sycm_product_week.xls", kind="sycm_product", table="traffic", format="xls",
           encoding=None, header_row=5, summary_rows=1, rows=truth)  # fmt: skip


def write_product_html_xls() -> None:
    week = (dt.date(2026, 11, 15), dt.date(2026, 11, 21))
    truth, cells = product_rows([None])
    for t in truth:
        t["date"], t["period_end"] = week[0].isoformat(), week[1].isoformat()
    headers = weekly_headers()
    span = len(headers)
    out = io.StringIO()
    out.write('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb18030">')
    out.write("</head><body><table border=1>\n")
    out.write(f'<tr><td colspan="{span}">生意参谋-商品-商品排行</td></tr>\n')
    out.write(f'<tr><td colspan="{span}">统计日期：{week[0]:%Y%m%d}至{week[1]:%Y%m%d}</td></tr>\n')
    out.write("<tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>\n")
    for row in cells:
        out.write(
            "<tr>" + "".join(f"<td>{'' if c is None else c}</td>" for c in row[1:]) + "</tr>\n"
        )
    out.write("</table></body></html>\n")
    (HERE / "sycm_product_week_html.xls").write_bytes(out.getvalue().encode("gb18030"))
    record("sycm_product_week_html.xls", kind="sycm_product", table="traffic", format="xls-html",
           encoding="gb18030", header_row=3, summary_rows=0, rows=truth)  # fmt: skip


def write_product_folder() -> None:
    folder = HERE / "sycm_product_weeks"
    folder.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    weeks = [
        (dt.date(2026, 10, 18), dt.date(2026, 10, 24)),
        (dt.date(2026, 10, 25), dt.date(2026, 10, 31)),
    ]
    for (start, end), encoding in zip(weeks, ["utf-8-sig", "gbk"], strict=True):
        truth, cells = product_rows([None])
        for t in truth:
            t["date"], t["period_end"] = start.isoformat(), end.isoformat()
        rows.extend(truth)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerows([["生意参谋-商品-商品效果"], [f"统计日期：{start:%Y%m%d}至{end:%Y%m%d}"], []])
        w.writerow(weekly_headers())
        w.writerow(summary_row(weekly_headers(), "汇总"))
        w.writerows(r[1:] for r in cells)
        (folder / f"商品效果_{start:%Y%m%d}.csv").write_bytes(buf.getvalue().encode(encoding))
    record("sycm_product_weeks", kind="sycm_product", table="traffic", format="csv",
           encoding="utf-8-sig, gbk", header_row=4, summary_rows=2, rows=rows)  # fmt: skip


# ---------------------------------------------------------------- 生意参谋 traffic sources

SOURCE_TREE = [  # (level 1, level 2, level 3, kind): kind = leaf / parent / summary
    ("淘内免费", "汇总", None, "summary"),
    ("淘内免费", "手淘搜索", None, "leaf"),
    ("淘内免费", "手淘推荐", None, "parent"),
    ("淘内免费", "手淘推荐", "猜你喜欢", "leaf"),
    ("淘内免费", "手淘推荐", "微详情", "leaf"),
    ("付费流量", "汇总", None, "summary"),
    ("付费流量", "直通车", None, "leaf"),
    ("付费流量", "万相台", None, "leaf"),
    ("自主访问", "购物车", None, "leaf"),
    ("自主访问", "我的淘宝", None, "leaf"),
]


def write_sources() -> None:
    headers = ["统计日期", "一级来源", "二级来源", "三级来源", "访客数", "访客数环比", "下单买家数",
               "下单买家数环比", "支付买家数", "支付买家数环比", "支付金额", "支付金额环比",
               "下单转化率", "支付转化率", "客单价", "UV价值"]  # fmt: skip
    truth, lines = [], []
    for day in DAYS:
        for l1, l2, l3, what in SOURCE_TREE:
            v = RNG.randint(40, 9000)
            ob = RNG.randint(0, v // 15)
            pb = RNG.randint(0, ob)
            amount = sum((cents(19, 399) for _ in range(pb)), Decimal(0))
            lines.append([day.isoformat(), l1, l2, l3 or "", f"{v:,}", f"{RNG.uniform(-50, 50):.2f}%",
                          str(ob), "-", str(pb), "--", money(amount), f"{RNG.uniform(-9, 9):.2f}%",
                          pct(ob, v), pct(pb, v), f"{float(amount) / pb:.2f}" if pb else "0.00",
                          f"{float(amount) / v:.2f}"])  # fmt: skip
            if what == "leaf":
                path = " > ".join(x for x in (l1, l2, l3) if x)
                truth.append({"date": day.isoformat(), "source": l3 or l2, "source_path": path,
                              "visitors": v, "order_buyers": ob, "paid_buyers": pb,
                              "paid_amount": float(amount)})  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows([["生意参谋-流量-店铺来源"], [f"统计日期：{DAYS[0]}~{DAYS[-1]}"], ["终端：无线端"],
                 ["访问来源：每一次访问来源"], []])  # fmt: skip
    w.writerow(headers)
    w.writerows(lines)
    (HERE / "sycm_source.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))
    record("sycm_source.csv", kind="sycm_source", table="traffic", format="csv",
           encoding="utf-8-sig", header_row=6, summary_rows=2 * len(DAYS),
           subtotal_rows=len(DAYS), rows=truth)  # fmt: skip


def write_shop() -> None:
    from openpyxl import Workbook

    headers = ["统计日期", "访客数", "浏览量", "商品收藏买家数", "加购人数", "下单买家数", "支付买家数",
               "支付金额", "支付父订单数", "成功退款金额", "直通车消耗", "描述相符评分", "跳失率",
               "客单价", "UV价值", "店铺收藏买家数"]  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.append(["生意参谋-取数-店铺整体"])
    ws.append(["店铺名称：示例旗舰店"])
    ws.append([f"统计日期：{DAYS[0]}~{DAYS[-1]}"])
    for _ in range(4):
        ws.append([])
    ws.append(headers)
    truth = []
    for day in DAYS:
        v = RNG.randint(2000, 20000)
        pb = RNG.randint(10, v // 20)
        amount = sum((cents(19, 399) for _ in range(pb)), Decimal(0))
        t = {"date": day.isoformat(), "visitors": v, "page_views": 3 * v, "favoriters": v // 30,
             "carters": v // 12, "order_buyers": pb + 7, "paid_buyers": pb,
             "paid_amount": float(amount), "paid_orders": pb + 2, "refund_amount": 0.0}  # fmt: skip
        truth.append(t)
        ws.append([int(day.strftime("%Y%m%d")), f"{v:,}", 3 * v, v // 30, v // 12, pb + 7, pb,
                   money(amount), pb + 2, "0.00", money(cents(100, 900)), "4.8", pct(v // 2, v),
                   "88.00", "1.20", 12])  # fmt: skip
    wb.save(HERE / "sycm_shop.xlsx")
    record("sycm_shop.xlsx", kind="sycm_shop", table="traffic", format="xlsx", encoding=None,
           header_row=8, summary_rows=0, rows=truth)  # fmt: skip


# ---------------------------------------------------------------- Taobao order report + lines

ORDER_HEADERS = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额",
    "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址 ",
    "运送方式", "联系电话 ", "联系手机", "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类 ",
    "物流单号 ", "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因",
    "卖家服务费", "买家服务费", "发票抬头", "是否手机订单", "分阶段订单信息", "特权订金订单id",
    "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣", "集分宝抵扣", "退款金额",
]  # fmt: skip

ORDER_CASES = [  # (status, paid, refund_full, presale stage text, deposit order id)
    ("交易成功", True, False, "", ""),
    ("交易成功", True, False, "", ""),
    ("卖家已发货，等待买家确认", True, False, "", ""),
    ("买家已付款，等待卖家发货", True, False, "", ""),
    ("等待买家付款", False, False, "", ""),
    ("交易关闭", False, False, "", ""),
    ("交易关闭", True, True, "", ""),
    ("等待买家付款", True, False, "定金:已付款(20.00元),尾款:未付款(80.00元)", ""),
    ("交易成功", True, False, "定金:已付款(20.00元),尾款:已付款(129.00元)", ""),
    ("买家已付款，等待卖家发货", True, False, "", "3401234567890123456"),
    ("交易成功", True, False, "", ""),
    ("交易成功", True, False, "", ""),
]


def order_table() -> list[dict[str, Any]]:
    """The orders and their lines (product code, title, price, quantity)."""
    orders = []
    base = dt.datetime(2026, 11, 1, 9, 0, 0)
    for i, (status, paid, refunded, stages, deposit) in enumerate(ORDER_CASES):
        created = base + dt.timedelta(hours=5 * i, minutes=7 * i, seconds=i)
        lines = []
        for k in range(RNG.randint(1, 3)):
            code = f"00{RNG.randint(100, 999)}"  # merchant codes with leading zeros
            lines.append({"product_id": code, "product_name": f"宝贝{code}", "price": cents(9, 299),
                          "quantity": RNG.randint(1, 3), "k": k})  # fmt: skip
        goods = sum((ln["price"] * ln["quantity"] for ln in lines), Decimal(0))
        amount = goods + Decimal("8.00") - (Decimal("5.00") if i % 4 == 0 else 0)
        orders.append({
            "order_id": str(3412345678901234000 + 37 * i),  # 19 digits, > 2**53
            "buyer_id": f"tb_buyer{i:02d}", "status_text": status, "created": created,
            "paid": created + dt.timedelta(minutes=3) if paid else None, "refunded": refunded,
            "stages": stages, "deposit": deposit, "amount": amount, "lines": lines,
        })  # fmt: skip
    return orders


def order_truth(o: dict[str, Any]) -> dict[str, Any]:
    balance_unpaid = "尾款:未付款" in o["stages"]
    paid_at = None if balance_unpaid or o["paid"] is None else o["paid"]
    status = (
        "unpaid" if paid_at is None else ("refunded" if o["status_text"] == "交易关闭" else "paid")
    )
    presale = bool(o["stages"] or o["deposit"])
    return {
        "order_id": o["order_id"], "buyer_id": o["buyer_id"],
        "created_at": o["created"].isoformat(sep=" "),
        "paid_at": paid_at.isoformat(sep=" ") if paid_at else None,
        "amount": float(o["amount"]), "status": status, "is_presale": presale,
        "deposit_paid_at": o["paid"].isoformat(sep=" ") if presale and o["paid"] else None,
        "refund_amount": float(o["amount"]) if o["refunded"] else 0.0,
        "quantity": sum(ln["quantity"] for ln in o["lines"]),
    }  # fmt: skip


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Largest-remainder split to the cent (an independent implementation for the truth)."""
    cents_total = int((total * 100).to_integral_value())
    wsum = sum(weights)
    raw = [Decimal(cents_total) * w / wsum for w in weights]
    base = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[: cents_total - sum(base)]:
        base[i] += 1
    return [Decimal(b) / 100 for b in base]


def write_taobao(orders: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(ORDER_HEADERS)
    for i, o in enumerate(orders):
        cells = dict.fromkeys(ORDER_HEADERS, "")
        cells.update({
            "订单编号": f'="{o["order_id"]}"', "买家会员名": o["buyer_id"], "买家支付宝账号": f"buyer{i}@example.com",
            "买家应付货款": f"{o['amount']:.2f}", "买家应付邮费": "8.00", "总金额": f"{o['amount']:.2f}",
            "买家实际支付金额": f"{o['amount']:.2f}" if i % 3 else money(o["amount"]),
            "订单状态": o["status_text"], "收货人姓名": "张三", "收货地址 ": "浙江省 杭州市 西湖区 文三路1号",
            "运送方式": "快递", "联系手机": "'13800000000", "订单创建时间": o["created"].isoformat(sep=" "),
            "订单付款时间 ": o["paid"].isoformat(sep=" ") if o["paid"] else "",
            "宝贝标题 ": "、".join(ln["product_name"] for ln in o["lines"]), "宝贝种类 ": str(len(o["lines"])),
            "物流公司": "中通快递" if o["paid"] else "", "宝贝总数量": str(sum(ln["quantity"] for ln in o["lines"])),
            "店铺Id": "12345678", "店铺名称": "示例旗舰店",
            "订单关闭原因": "买家不想买了" if o["status_text"] == "交易关闭" and not o["paid"] else "订单未关闭",
            "卖家服务费": "0元", "买家服务费": "0元", "是否手机订单": "手机订单", "分阶段订单信息": o["stages"],
            "特权订金订单id": f'="{o["deposit"]}"' if o["deposit"] else "",
            "退款金额": f"{o['amount']:.2f}" if o["refunded"] else "0.00",
        })  # fmt: skip
        w.writerow([cells[h] for h in ORDER_HEADERS])
    (HERE / "taobao_orders.csv").write_bytes(buf.getvalue().encode("gbk"))
    record("taobao_orders.csv", kind="taobao_orders", table="orders", format="csv", encoding="gbk",
           header_row=1, summary_rows=0, rows=[order_truth(o) for o in orders])  # fmt: skip
    write_taobao_items(orders)


def write_taobao_items(orders: list[dict[str, Any]]) -> None:
    headers = ["订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
               "订单状态", "商家编码"]  # fmt: skip
    lines_out = [",".join(headers)]
    joined = []
    for o in orders:
        weights = [ln["price"] * ln["quantity"] for ln in o["lines"]]
        shares = allocate(o["amount"], weights)
        refunds = allocate(o["amount"] if o["refunded"] else Decimal(0), weights)
        head = order_truth(o)
        for ln, share, refund in zip(o["lines"], shares, refunds, strict=True):
            cells = [f'"=""{o["order_id"]}"""', ln["product_name"], f"{ln['price']:.2f}", str(ln["quantity"]),
                     "", "颜色分类：黑色", "", "", o["status_text"], f'"=""{ln["product_id"]}"""']  # fmt: skip
            lines_out.append(",".join(cells) + ",")  # 宝贝报表 rows end with a comma
            joined.append({**head, "product_id": ln["product_id"], "product_name": ln["product_name"],
                           "quantity": ln["quantity"], "amount": float(share),
                           "order_amount": float(o["amount"]), "refund_amount": float(refund)})  # fmt: skip
    (HERE / "taobao_items.csv").write_bytes(("\r\n".join(lines_out) + "\r\n").encode("gbk"))
    record("taobao_items.csv", kind="taobao_items", table="order_lines", format="csv",
           encoding="gbk", header_row=1, summary_rows=0, joined_with="taobao_orders.csv",
           rows=joined)  # fmt: skip


# ---------------------------------------------------------------- 1688 order export

ALI_HEADERS = [
    "订单编号", "买家公司名", "买家会员名", "卖家公司名", "卖家会员名", "货品总价(元)", "运费(元)",
    "涨价或折扣(元)", "实付款(元)", "订单状态", "订单创建时间", "订单付款时间", "发货方", "收货人姓名",
    "收货地址", "邮编", "联系电话", "联系手机", "货品标题", "单价(元)", "数量", "单位", "货号", "型号",
    "Offer ID", "SKU ID", "物料编号", "单品货号", "货品种类", "买家留言", "物流公司", "运单号",
]  # fmt: skip
ALI_STATUSES = ["交易成功", "等待买家收货", "等待买家付款", "交易成功", "交易关闭", "交易成功"]


def ali_orders() -> list[dict[str, Any]]:
    orders = []
    for i, status in enumerate(ALI_STATUSES):
        created = dt.datetime(2026, 11, 2, 8, 30) + dt.timedelta(hours=7 * i)
        lines = [{"offer": str(RNG.randint(10**11, 10**12 - 1)), "title": f"批发货品{i}-{k}",
                  "price": cents(3, 80), "quantity": RNG.randint(10, 200)}
                 for k in range(RNG.randint(1, 4))]  # fmt: skip
        goods = sum((ln["price"] * ln["quantity"] for ln in lines), Decimal(0))
        freight, change = Decimal("12.00"), -cents(0, 20)
        paid = status not in ("等待买家付款", "交易关闭")
        orders.append({"order_id": str(2893456789012345000 + 11 * i), "buyer": f"ali_buyer{i}",
                       "status": status, "created": created,
                       "paid": created + dt.timedelta(minutes=15) if paid else None,
                       "goods": goods, "freight": freight, "change": change,
                       "amount": goods + freight + change, "lines": lines})  # fmt: skip
    return orders


def write_1688(orders: list[dict[str, Any]], *, blank: bool) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "订单列表"
    ws.append(ALI_HEADERS)
    truth = []
    for o in orders:
        shares = allocate(o["amount"], [ln["price"] * ln["quantity"] for ln in o["lines"]])
        for k, (ln, share) in enumerate(zip(o["lines"], shares, strict=True)):
            order_cells = [o["order_id"], "某某贸易有限公司", o["buyer"], "某某工厂", "factory01",
                           float(o["goods"]), float(o["freight"]), float(o["change"]), float(o["amount"]),
                           o["status"], o["created"], o["paid"], "卖家", "李四", "广东省 广州市", "510000",
                           "", "13900000000"]  # fmt: skip
            if blank and k > 0:
                order_cells = [None] * len(order_cells)
            ws.append([*order_cells, ln["title"], float(ln["price"]), ln["quantity"], "件", "", "",
                       ln["offer"], "", "", "", "", "", "", ""])  # fmt: skip
            truth.append({
                "order_id": o["order_id"], "buyer_id": o["buyer"],
                "created_at": o["created"].isoformat(sep=" "),
                "paid_at": o["paid"].isoformat(sep=" ") if o["paid"] else None,
                "status": "paid" if o["paid"] else "unpaid", "product_id": ln["offer"],
                "product_name": ln["title"], "quantity": ln["quantity"], "amount": float(share),
                "order_amount": float(o["amount"]),
            })  # fmt: skip
    name = "ali1688_orders_blank.xlsx" if blank else "ali1688_orders.xlsx"
    wb.save(HERE / name)
    record(name, kind="ali1688_orders", table="orders", format="xlsx", encoding=None,
           header_row=1, summary_rows=0, rows=truth,
           paid_total=float(sum(o["amount"] for o in orders if o["paid"])))  # fmt: skip


# ---------------------------------------------------------------- spend reports and reviews


def write_ztc() -> None:
    headers = ["日期", "计划ID", "计划名字", "展现量", "点击量", "花费", "点击率", "平均点击花费",
               "千次展现花费", "总成交金额", "总成交笔数", "投入产出比", "总购物车数"]  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    truth = []
    for day in DAYS:
        for plan in ("日常推广-围巾", "新品测款"):
            imp = RNG.randint(1000, 90000)
            clicks = RNG.randint(10, imp // 20)
            cost = cents(20, 2500)
            sales = cents(0, 9000)
            w.writerow([f"{day.year}/{day.month}/{day.day}", str(RNG.randint(10**8, 10**9)), plan,
                        f"{imp:,}", f"{clicks:,}", money(cost), pct(clicks, imp),
                        f"{float(cost) / clicks:.2f}", f"{1000 * float(cost) / imp:.2f}", money(sales),
                        str(RNG.randint(0, 40)), f"{float(sales / cost):.2f}", "12"])  # fmt: skip
            truth.append({"date": day.isoformat(), "source": "直通车", "campaign": plan,
                          "exposures": imp, "clicks": clicks, "cost": float(cost),
                          "paid_amount": float(sales)})  # fmt: skip
    (HERE / "直通车_计划报表_20261101_20261103.csv").write_bytes(buf.getvalue().encode("utf-8"))
    record("直通车_计划报表_20261101_20261103.csv", kind="ztc_spend", table="spend", format="csv",
           encoding="utf-8", header_row=1, summary_rows=0, rows=truth)  # fmt: skip


def write_wxt() -> None:
    from openpyxl import Workbook

    headers = ["日期", "场景ID", "场景名字", "计划ID", "计划名字", "主体ID", "主体名称", "展现量", "点击量",
               "花费", "点击率", "总成交金额", "总成交笔数", "投入产出比"]  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    truth = []
    for day in DAYS:
        # 场景名字 as 万相台无界版 writes them, and the channel each one is (read by hand from
        # 阿里妈妈's scene list: 关键词推广 = 原淘内广告/直通车; 精准人群推广 our *unconfirmed* guess)
        for scene, plan, channel in (
            ("关键词推广", "关键词-围巾", "直通车"),
            ("精准人群推广", "人群-拉新", "引力魔方"),
            ("货品运营-货品加速", "货品加速-围巾", "万相台"),
            ("全站推广", "全站-店铺", "万相台"),
        ):
            imp, clicks, cost = RNG.randint(500, 60000), RNG.randint(5, 400), cents(10, 900)
            ws.append(
                [
                    int(day.strftime("%Y%m%d")),
                    "101",
                    scene,
                    "2001",
                    plan,
                    PRODUCTS[0][0],
                    PRODUCTS[0][1],
                    imp,
                    clicks,
                    float(cost),
                    pct(clicks, imp),
                    "0.00",
                    "0",
                    "0.00",
                ]
            )
            truth.append({"date": day.isoformat(), "source": channel, "scene": scene, "campaign": plan,
                          "product_id": PRODUCTS[0][0], "exposures": imp, "clicks": clicks,
                          "cost": float(cost)})  # fmt: skip
    wb.save(HERE / "万相台_计划报表.xlsx")
    record("万相台_计划报表.xlsx", kind="wxt_spend", table="spend", format="xlsx", encoding=None,
           header_row=1, summary_rows=0, rows=truth)  # fmt: skip


def write_reviews(orders: list[dict[str, Any]]) -> None:
    headers = ["订单编号", "买家昵称", "评价时间", "宝贝ID", "宝贝标题", "宝贝与描述相符", "卖家的服务态度",
               "物流服务的质量", "评价内容", "追评"]  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    truth = []
    for i, o in enumerate(o for o in orders if o["paid"]):
        rated = o["created"] + dt.timedelta(days=5, hours=i)
        scores = [RNG.randint(1, 5) for _ in range(3)]
        if i == 2:
            scores[2] = None  # a dimension not rated
        w.writerow([f'="{o["order_id"]}"', o["buyer_id"], rated.strftime("%Y/%m/%d %H:%M:%S"),
                    PRODUCTS[i % 3][0], PRODUCTS[i % 3][1], *(s if s else "" for s in scores),
                    "好评！", ""])  # fmt: skip
        truth.append({"order_id": o["order_id"], "buyer_id": o["buyer_id"],
                      "rated_at": rated.isoformat(sep=" "), "product_id": PRODUCTS[i % 3][0],
                      "item_score": scores[0], "service_score": scores[1],
                      "logistics_score": scores[2]})  # fmt: skip
    (HERE / "taobao_reviews.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))
    record("taobao_reviews.csv", kind="taobao_reviews", table="ratings", format="csv",
           encoding="utf-8-sig", header_row=1, summary_rows=0, rows=truth)  # fmt: skip


def main() -> None:
    write_product_xlsx()
    write_product_xls()
    write_product_html_xls()
    write_product_folder()
    write_sources()
    write_shop()
    orders = order_table()
    write_taobao(orders)
    ali = ali_orders()
    write_1688(ali, blank=False)
    write_1688(ali, blank=True)
    write_ztc()
    write_wxt()
    write_reviews(orders)
    text = json.dumps(TRUTH, ensure_ascii=False, indent=1, sort_keys=True)
    (HERE / "truth.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
