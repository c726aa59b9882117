"""Store exports loaded by path through ``engine.load`` and the metrics, with no ``columns=``.

Every fixture of ``tests/data/exports`` (built by ``make_exports.py`` from ``truth.json``)
loads on every engine and matches its truth to the cent; the funnel and visitor value
computed from the files match the truth; what the reader did (encoding, header row, the
title period taken as the date, summary and subtotal rows left out) reaches the audit;
and each way a file can be wrong is a clear error naming the table, the file and the
column.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.engine.tables import ReadValueError
from shopmetrics.engine.values import text_problems

DATA = Path(__file__).parent / "data" / "exports"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
HAS_CALAMINE = importlib.util.find_spec("python_calamine") is not None
LOADABLE = sorted(n for n, t in TRUTH.items() if t["table"] != "order_lines")
ENGINES = [
    e for e in ("polars", "duckdb", "pandas") if e == "pandas" or importlib.util.find_spec(e)
]
PRODUCT = ["sycm_product_daily.xlsx", "sycm_product_week.xls", "sycm_product_week_html.xls"]
TIMES = ("date", "period_end", "created_at", "paid_at", "rated_at", "deposit_paid_at")


def _needs_excel(name: str) -> None:
    excel = name.endswith((".xlsx", ".xls")) and not name.endswith("_html.xls")
    if excel and not HAS_CALAMINE:
        pytest.skip("reading Excel needs python-calamine (the excel extra)")


@pytest.fixture(params=ENGINES)
def on_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test with the tables on each installed engine."""
    with sm.config_context(engine=request.param):
        yield request.param


def _missing(v: Any) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _same(column: str, got: Any, want: Any) -> bool:
    if want is None:
        return _missing(got) or bool(pd.isna(got))
    if isinstance(want, bool):
        return bool(got) is want
    if isinstance(want, int | float):
        return not _missing(got) and abs(float(got) - want) < 0.005  # to the cent
    if column in TIMES:
        return pd.Timestamp(got) == pd.Timestamp(want)
    return isinstance(got, str) and got == want  # ids and text stay text


def _key(table: str, row: dict[str, Any]) -> tuple[str | None, ...]:
    names = {
        "orders": ("order_id", "product_id", "product_name"),
        "ratings": ("order_id",),
        "spend": ("date", "source", "campaign"),
        "traffic": ("date", "product_id", "source_path"),
    }[table]
    out: list[str | None] = []
    for n in names:
        v = row.get(n)
        out.append(None if _missing(v) else str(pd.Timestamp(v).date()) if n == "date" else str(v))
    return tuple(out)


@pytest.mark.parametrize("name", LOADABLE)
def test_each_export_loads_by_path_and_matches_its_truth(name: str, on_engine: str) -> None:
    _needs_excel(name)
    truth = TRUTH[name]
    table = _engine.load(DATA / name, truth["table"])
    assert table.backend == on_engine
    got = _engine.collect(table.frame, f"{truth['table']}:test")
    assert len(got) == len(truth["rows"])
    rows = {_key(truth["table"], r): r for r in got.to_dict("records")}
    for want in truth["rows"]:
        row = rows[_key(truth["table"], want)]
        bad = {c: (row.get(c), v) for c, v in want.items() if not _same(c, row.get(c), v)}
        assert not bad, (name, bad)
    # what the reader did is there for the audit
    assert any("header on row" in n for n in table.read_notes)
    summary = sum(e.rows for e in table.read_excluded if e.reason == "summary_row")
    assert summary == truth["summary_rows"]


def test_a_product_export_gives_the_funnel_and_visitor_value_to_the_cent() -> None:
    for name in PRODUCT:
        _needs_excel(name)
        truth = {(r["date"], r["product_id"]): r for r in TRUTH[name]["rows"]}
        res = sm.funnel(traffic=DATA / name, by="product_id", freq="D")
        got = res.to_pandas()
        assert len(got) == len(truth)
        for row in got.to_dict("records"):
            want = truth[(row["period"], row["product_id"])]
            for col in ("visitors", "carters", "favoriters", "order_buyers", "paid_buyers"):
                assert row[col] == want[col], (name, col)
            assert row["paid_amount"] == pytest.approx(want["paid_amount"], abs=0.005)
            assert row["visitor_value"] == pytest.approx(want["paid_amount"] / want["visitors"])


def test_a_folder_of_weekly_exports_is_one_table() -> None:
    truth = TRUTH["sycm_product_weeks"]
    res = sm.funnel(traffic=DATA / "sycm_product_weeks", by="product_id", freq="D")
    got = {(r["period"], r["product_id"]): r for r in res.to_pandas().to_dict("records")}
    assert len(got) == len(truth["rows"])
    for want in truth["rows"]:
        assert got[(want["date"], want["product_id"])]["visitors"] == want["visitors"]
    summary = [e for e in res.audit.excluded if e.reason == "summary_row"]
    assert sum(e.rows for e in summary) == truth["summary_rows"]
    assert any("gbk" in n for n in res.audit.notes)
    assert any("utf-8-sig" in n for n in res.audit.notes)


def test_visitor_value_from_a_shop_export_and_an_order_report() -> None:
    _needs_excel("sycm_shop.xlsx")
    visitors = {r["date"]: r["visitors"] for r in TRUTH["sycm_shop.xlsx"]["rows"]}
    paid: defaultdict[str, float] = defaultdict(float)
    for r in TRUTH["taobao_orders.csv"]["rows"]:
        if r["paid_at"]:  # paid, refunds included (gross, as 生意参谋 reports it)
            paid[r["paid_at"][:10]] += r["amount"]
    res = sm.visitor_value(
        traffic=DATA / "sycm_shop.xlsx", orders=DATA / "taobao_orders.csv", freq="D"
    )
    got = res.to_pandas()
    assert sorted(got["period"]) == sorted(visitors)
    for row in got.to_dict("records"):
        day = row["period"]
        assert row["visitors"] == visitors[day]
        assert row["paid_amount"] == pytest.approx(paid[day], abs=0.005)
        assert row["visitor_value"] == pytest.approx(paid[day] / visitors[day])
    assert res.audit.rows_in["orders"] == len(TRUTH["taobao_orders.csv"]["rows"])
    assert any("taobao_orders.csv: csv, gbk" in n for n in res.audit.notes)


def test_summary_and_subtotal_rows_are_counted_in_the_audit() -> None:
    truth = TRUTH["sycm_source.csv"]
    res = sm.funnel(traffic=DATA / "sycm_source.csv", by="source_path", freq="D")
    reasons = {e.reason: e.rows for e in res.audit.excluded}
    assert reasons["summary_row"] == truth["summary_rows"] == 6
    assert reasons["subtotal_row"] == truth["subtotal_rows"] == 3
    assert res.audit.rows_in["traffic"] == len(truth["rows"]) + 9  # rows of the file
    got = res.to_pandas()
    # no figure doubled by the 汇总 rows: each day's visitors are the truth's
    want: defaultdict[str, int] = defaultdict(int)
    for r in truth["rows"]:
        want[r["date"]] += r["visitors"]
    assert got.groupby("period")["visitors"].sum().to_dict() == dict(want)
    assert any("utf-8-sig, header on row 6" in n for n in res.audit.notes)


def test_the_title_period_used_as_the_date_is_said_in_the_audit() -> None:
    _needs_excel("sycm_product_week.xls")
    res = sm.funnel(traffic=DATA / "sycm_product_week.xls", by="product_id")
    notes = " ".join(res.audit.notes)
    assert "period 2026-11-08~2026-11-14 from the title" in notes
    assert "the table has no date column" in notes


def test_dsr_reads_a_review_export() -> None:
    rows = TRUTH["taobao_reviews.csv"]["rows"]
    res = sm.dsr(DATA / "taobao_reviews.csv", as_of="2026-11-30")
    got = res.to_pandas().iloc[0]
    for dim in ("item", "service", "logistics"):
        stars = [r[f"{dim}_score"] for r in rows if r[f"{dim}_score"] is not None]
        assert got[dim] == pytest.approx(sum(stars) / len(stars))  # a blank is not rated
        assert got[f"n_{dim}"] == len(stars)
    assert res.audit.rows_in["ratings"] == len(rows)
    assert any("taobao_reviews.csv: csv, utf-8-sig" in n for n in res.audit.notes)


def test_a_nineteen_digit_order_id_survives_every_engine(
    tmp_path: Path, constructor: Any, on_engine: str
) -> None:
    ids = ["3412345678901234567", "0012345678901234567"]
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "order_id,buyer_id,created_at,amount,product_id\n"
        f"{ids[0]},007,2026-11-01 09:00:00,12.50,600100200301\n"
        f"{ids[1]},008,2026-11-01 10:00:00,1.00,000123\n",
        encoding="utf-8",
    )
    got = _engine.collect(_engine.load(csv, "orders").frame, "orders:test")
    assert got["order_id"].tolist() == ids
    assert got["buyer_id"].tolist() == ["007", "008"]
    assert got["product_id"].tolist() == ["600100200301", "000123"]
    # a table object with numeric ids: cast to text, all 19 digits kept
    native = constructor(pd.DataFrame({**_orders(), "order_id": [3412345678901234567] * 2}))
    loaded = _engine.collect(_engine.load(native, "orders").frame, "orders:test")
    assert loaded["order_id"].tolist() == ["3412345678901234567"] * 2


def _orders() -> dict[str, Any]:
    return {
        "order_id": ["1", "2"],
        "buyer_id": ["b1", "b2"],
        "created_at": pd.to_datetime(["2026-11-01 09:00", "2026-11-01 10:00"]),
        "amount": [12.5, 1.0],
    }


def test_a_canonical_csv_keeps_the_engines_own_reader(tmp_path: Path, on_engine: str) -> None:
    path = tmp_path / "orders.csv"
    pd.DataFrame(_orders()).to_csv(path, index=False)
    table = _engine.load(path, "orders")
    assert table.read_notes == ()  # not through the export reader
    assert table.backend == on_engine
    got = _engine.collect(table.frame, "orders:test")
    assert got["amount"].sum() == pytest.approx(13.5)
    assert pd.api.types.is_datetime64_any_dtype(got["created_at"])


# ------------------------------------------------------------------ bad files


def test_an_export_of_another_table_is_refused_with_the_right_argument() -> None:
    with pytest.raises(sm.SchemaError, match=r"spend=") as err:
        _engine.load(DATA / "直通车_计划报表_20261101_20261103.csv", "traffic")
    assert "ztc_spend" in str(err.value)
    with pytest.raises(sm.SchemaError, match="join_lines"):
        _engine.load(DATA / "taobao_items.csv", "orders")


def test_cells_of_an_export_that_do_not_parse_are_an_error_naming_file_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "商品效果.csv"
    path.write_text(
        "商品ID,统计日期,商品访客数,支付买家数,支付金额\n"
        'p1,2026-11-01,100,3,"1,234.00"\n'
        "p2,2026-11-01,abc,1,12.00\n",
        encoding="utf-8-sig",
    )
    with pytest.raises(ReadValueError) as err:
        _engine.load(path, "traffic")
    msg = str(err.value)
    assert "traffic" in msg
    assert "商品效果.csv" in msg
    assert "商品访客数 (visitors)" in msg
    assert "'abc'" in msg
    with pytest.raises(sm.ShopmetricsError, match="1 value is not a number"):
        sm.funnel(traffic=path)
    # validation loads without refusing and reports it
    table = _engine.load(path, "traffic", localize=False)
    flags = text_problems(table, "traffic")
    assert [(f.column, f.n_rows) for f in flags] == [("visitors", 1)]


def test_unreadable_paths_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(sm.SchemaError, match="does not exist"):
        _engine.load(tmp_path / "orders.xlsx", "orders")
    (tmp_path / "orders.json").write_text("{}", encoding="utf-8")
    with pytest.raises(sm.SchemaError, match=r"cannot read 'orders.json'"):
        _engine.load(tmp_path / "orders.json", "orders")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(sm.ShopmetricsError, match=r"empty\.csv"):
        _engine.load(tmp_path / "empty.csv", "orders")
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00\x81\x00abc,def\n\x80\x81,\x82\n")
    with pytest.raises(sm.ShopmetricsError, match=r"bad\.csv"):
        _engine.load(tmp_path / "bad.csv", "orders")


def test_an_export_loaded_twice_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "店铺整体.csv"
    head = "统计日期,访客数,浏览量,支付买家数,支付金额\n"
    path.write_text(head + '2026-11-01,"1,000",2000,10,"1,234.00"\n', encoding="gbk")
    first = _engine.load(path, "traffic")
    assert _engine.load(path, "traffic").frame is first.frame  # one read for the call
    path.write_text(head + '2026-11-01,"2,000",2000,10,"1,234.00"\n', encoding="gbk")
    again = _engine.collect(_engine.load(path, "traffic").frame, "traffic:test")
    assert again["visitors"].tolist() == [2000]


def _orders_with_a_total_row(tmp_path: Path) -> Path:
    """taobao_orders.csv with a 合计 row at the end, as some downloads have."""
    path = tmp_path / "taobao_orders.csv"
    total = "合计" + "," * 40 + "\r\n"
    path.write_bytes((DATA / "taobao_orders.csv").read_bytes() + total.encode("gbk"))
    return path


def _reader_in_audit(audit: Any, table: str, rows_of_file: int, file_note: str) -> None:
    """The audit names what the reader did and counts the summary row it left out."""
    assert any(file_note in n for n in audit.notes), audit.notes
    summary = [e for e in audit.excluded if e.table == table and e.reason == "summary_row"]
    assert sum(e.rows for e in summary) == 1
    assert audit.rows_in[table] == rows_of_file


def test_customer_value_audit_says_what_the_reader_did(tmp_path: Path) -> None:
    rows = len(TRUTH["taobao_orders.csv"]["rows"])
    res = sm.customer_value(DATA / "taobao_orders.csv", models=("bgnbd",))
    assert any("taobao_orders.csv: csv, gbk, header on row 1" in n for n in res.audit.notes)
    assert res.audit.rows_in["orders"] == rows
    res = sm.customer_value(_orders_with_a_total_row(tmp_path), models=("bgnbd",))
    _reader_in_audit(res.audit, "orders", rows + 1, "csv, gbk, header on row 1")


def test_attribute_audit_says_what_the_reader_did(tmp_path: Path) -> None:
    rows = TRUTH["taobao_orders.csv"]["rows"]
    events = pd.DataFrame(
        {
            "ts": [pd.Timestamp(r["created_at"]) - pd.Timedelta(hours=1) for r in rows],
            "visitor_id": [r["buyer_id"] for r in rows],
            "event": "visit",
            "source": "搜索",
        }
    )
    res = sm.attribute(events=events, orders=_orders_with_a_total_row(tmp_path))
    _reader_in_audit(res.audit, "orders", len(rows) + 1, "csv, gbk, header on row 1")
    assert res.audit.rows_in["events"] == len(events)


def test_ab_test_audit_says_what_the_reader_did(tmp_path: Path) -> None:
    lines = ["实验明细 2026-11-01", "ts,visitor_id,event,variant"]
    for i in range(40):
        day = f"2026-11-0{1 + i % 3} 10:00:00"
        lines.append(f"{day},v{i},visit,{'AB'[i % 2]}")
        if i % 4 < 2:
            lines.append(f"{day},v{i},cart,{'AB'[i % 2]}")
    lines.append("合计,,,")
    path = tmp_path / "实验明细.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    res = sm.ab_test(events=path, variant="variant", metric="cart")
    _reader_in_audit(res.audit, "events", len(lines) - 2, "header on row 2")
