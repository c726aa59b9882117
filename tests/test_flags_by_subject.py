"""Flags attached by subject: each product or source row carries the flags about it (issue 19).

Every expectation comes from what was planted, never from the library's own flags: on
the demo store from its trap records (``store.traps``: the code, the product or source,
the start of each planted trap, written by the planters in ``datasets/traps.py``), on an
unseen store from the rows this file adds (bots on one product and source, brushed orders
on another). The week a trap falls in is its start's ISO week, computed here by pandas.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import shopmetrics as sm
from shopmetrics.compare import flag_concerns, flags_by_subject, in_periods, movers
from shopmetrics.datasets import Store
from shopmetrics.flags.finding import Flag
from shopmetrics.report.format import display_table
from shopmetrics.report.labels import source_label

WEEKS = ("2026-W44", "2026-W45", "2026-W46", "2026-W47")
"""The demo store's weeks with a trap in them or in the week before."""
SNAKE = r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"


def _iso_week(t: Any) -> str:
    iso = pd.Timestamp(t).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _previous(week: str) -> str:
    monday = pd.Timestamp.fromisocalendar(int(week[:4]), int(week[-2:]), 1)
    return _iso_week(monday - pd.Timedelta(days=7))


def _planted(store: Store, key: str, weeks: set[str]) -> dict[str, set[str]]:
    """``{product or source: {trap codes}}`` of the traps naming ``key`` in ``weeks``."""
    out: dict[str, set[str]] = {}
    for trap in store.traps:
        if key in trap.subject and _iso_week(trap.start) in weeks:
            out.setdefault(str(trap.subject[key]), set()).add(trap.code)
    return out


def _table(report: sm.Report, section: str, title: str) -> pd.DataFrame:
    sec = next(s for s in report.sections if s.key == section)
    return next(t for name, t in sec.tables if name.startswith(title))


def _row_codes(table: pd.DataFrame, key: str, column: str = "flags") -> dict[str, set[str]]:
    """``{row key: {codes}}`` of the rows that carry a flag."""
    if column not in table.columns:
        return {}
    return {
        str(k): set(v.split(", "))
        for k, v in zip(table[key], table[column], strict=True)
        if isinstance(v, str) and v
    }


@pytest.fixture(scope="module")
def reports(store: Store) -> dict[str, sm.Report]:
    return {
        w: sm.weekly_report(store.events, store.orders, store.ratings, store.spend, week=w)
        for w in WEEKS
    }


@pytest.mark.parametrize("week", WEEKS)
def test_top_products_rows_carry_the_traps_of_their_product(
    reports: dict[str, sm.Report], store: Store, week: str
) -> None:
    # the table shows this week's figures and last week's paid amount: both weeks' traps
    top = _table(reports[week], "products", "Top products")
    expected = _planted(store, "product_id", {week, _previous(week)})
    assert _row_codes(top, "product_id") == expected  # and no other row carries one
    assert set(expected) <= set(top["product_id"])  # a flagged product has its row


def test_the_demo_traps_reach_every_report_week_that_shows_them(
    reports: dict[str, sm.Report],
) -> None:
    # the planted products (bots P018 on 2026-11-04, brushing P013 on 2026-11-12,
    # presale P007 from 2026-11-16): the week they fall in and the week after
    got = {
        w: _row_codes(_table(r, "products", "Top products"), "product_id")
        for w, r in reports.items()
    }
    assert got["2026-W44"] == {}
    assert got["2026-W45"] == {"P018": {"bot_traffic"}}
    assert got["2026-W46"] == {"P018": {"bot_traffic"}, "P013": {"order_brushing"}}
    assert got["2026-W47"] == {"P013": {"order_brushing"}, "P007": {"presale_zero_payment"}}


@pytest.mark.parametrize("week", WEEKS)
def test_source_rows_carry_the_traps_of_their_source(
    reports: dict[str, sm.Report], store: Store, week: str
) -> None:
    # the sources table shows this week only: the bots' search on W45, display's push on W47
    sources = _table(reports[week], "traffic", "Sources this week")
    expected = _planted(store, "source", {week})
    assert _row_codes(sources, "source") == expected
    assert {"2026-W45": {"search": {"bot_traffic"}}, "2026-W47": {"display": {"mix_shift"}}}.get(
        week, {}
    ) == expected


@pytest.mark.parametrize("week", WEEKS)
def test_report_movers_carry_only_the_traps_of_their_product(
    reports: dict[str, sm.Report], store: Store, week: str
) -> None:
    mv = _table(reports[week], "products", "Significant movers")
    planted = _planted(store, "product_id", {week, _previous(week)})
    product_codes = {c for t in store.traps if "product_id" in t.subject for c in [t.code]}
    for product, codes in _row_codes(mv, "product_id", "explained_by").items():
        assert codes & product_codes <= planted.get(product, set()), product
    if week == "2026-W47":  # P013's brushed week W46 against W47 without it: down to 0
        row = mv[mv["product_id"] == "P013"].iloc[0]
        assert row["explained_by"] == "order_brushing"
        assert row["current_rate"] == 0.0


@pytest.mark.parametrize(
    ("by", "metric", "start", "end", "row", "code"),
    [
        # bots: CTR up in their week W45, down in the week after
        ("product_id", "ctr", "2026-10-26", "2026-11-09", "P018", "bot_traffic"),
        ("product_id", "ctr", "2026-11-02", "2026-11-16", "P018", "bot_traffic"),
        ("source", "ctr", "2026-10-26", "2026-11-09", "search", "bot_traffic"),
        ("source", "ctr", "2026-11-02", "2026-11-16", "search", "bot_traffic"),
        # brushing: P013's conversion of W46 (brushed) against W47
        ("product_id", "payment_conversion", "2026-11-09", "2026-11-23", "P013", "order_brushing"),
    ],
)
def test_movers_name_the_trap_on_its_row_on_every_window(
    store: Store, by: str, metric: str, start: str, end: str, row: str, code: str
) -> None:
    res = sm.funnel(store.events, store.orders, by=by, freq="W", start=start, end=end)
    m = movers(res, metric=metric, top=50)
    assert row in set(m[by])
    got = _row_codes(m, by, "explained_by")
    assert got[row] == {code}
    assert all(code not in codes for k, codes in got.items() if k != row)


# ------------------------------------------------------------- an unseen store, planted here

BRUSHED, BOTTED, BOT_SOURCE = "P005", "P003", "recommend"


def _unseen() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small trap-free store with 30 buyers ordering ``BRUSHED`` three times each within
    one hour (paid at once, never visited) and 12 bot ids firing 40 exposures and 30 clicks
    each on ``BOTTED`` through ``BOT_SOURCE``, three days before the data end."""
    st = sm.datasets.make_store(seed=7, days=28, products=12, visitors_per_day=400, traps=False)
    night = st.end - pd.Timedelta(days=3) + pd.Timedelta(hours=2)
    brushed = pd.DataFrame(
        [
            {
                "order_id": f"zb{i:02d}{j}",
                "buyer_id": f"zb{i:03d}",
                "product_id": BRUSHED,
                "created_at": night + pd.Timedelta(minutes=i, seconds=10 * j),
                "paid_at": night + pd.Timedelta(minutes=i, seconds=10 * j + 30),
                "amount": 50.0,
                "quantity": 1,
            }
            for i in range(30)
            for j in range(3)
        ]
    )
    bots = pd.DataFrame(
        [
            {
                "ts": night + pd.Timedelta(hours=1, seconds=40 * j + i),
                "visitor_id": f"zz{i:03d}",
                "event": "exposure" if j < 40 else "click",
                "product_id": BOTTED,
                "source": BOT_SOURCE,
            }
            for i in range(12)
            for j in range(70)
        ]
    )
    events = pd.concat([st.events, bots], ignore_index=True)
    return events, pd.concat([st.orders, brushed], ignore_index=True)


@pytest.fixture(scope="module")
def unseen() -> tuple[pd.DataFrame, pd.DataFrame, sm.Report]:
    events, orders = _unseen()
    return events, orders, sm.weekly_report(events, orders)


def test_unseen_store_flags_name_the_planted_product_and_source(
    unseen: tuple[pd.DataFrame, pd.DataFrame, sm.Report],
) -> None:
    events, orders, _ = unseen
    res = sm.funnel(events, orders, by="product_id", freq="W")
    got = {f.code: f.subject for f in res.flags}
    assert got["bot_traffic"]["product_id"] == BOTTED
    assert got["bot_traffic"]["source"] == BOT_SOURCE
    assert got["order_brushing"]["product_id"] == BRUSHED
    # sm.movers: the brushed product's conversion, the botted product's CTR
    conv = movers(res)
    assert _row_codes(conv, "product_id", "explained_by") == {BRUSHED: {"order_brushing"}}
    ctr = movers(res, metric="ctr")
    assert _row_codes(ctr, "product_id", "explained_by") == {BOTTED: {"bot_traffic"}}


def test_unseen_store_report_rows_carry_the_planted_flags(
    unseen: tuple[pd.DataFrame, pd.DataFrame, sm.Report],
) -> None:
    _, _, report = unseen
    top = _table(report, "products", "Top products")
    assert _row_codes(top, "product_id") == {
        BRUSHED: {"order_brushing"},
        BOTTED: {"bot_traffic"},
    }
    sources = _table(report, "traffic", "Sources this week")
    assert _row_codes(sources, "source") == {BOT_SOURCE: {"bot_traffic"}}  # brushing: no source
    mv = _table(report, "products", "Significant movers")
    assert _row_codes(mv, "product_id", "explained_by") == {BRUSHED: {"order_brushing"}}


@pytest.mark.parametrize(
    ("lang", "header", "brushing", "bots"),
    [
        ("en", "Flags", "Suspected order brushing (刷单)", "Suspected bot traffic"),
        ("zh", "数据提示", "疑似刷单", "疑似机器流量"),
    ],
)
def test_row_flags_show_as_titles_in_both_languages(
    unseen: tuple[pd.DataFrame, pd.DataFrame, sm.Report],
    lang: str,
    header: str,
    brushing: str,
    bots: str,
) -> None:
    import re

    from shopmetrics.report.labels_flags import FLAGS

    # the titles expected are the label table's own words for the two codes
    assert FLAGS["order_brushing"][lang == "zh"][0] == brushing
    assert FLAGS["bot_traffic"][lang == "zh"][0] == bots
    _, _, report = unseen
    for section, title, key, flags in (
        ("products", "Top products", "product_id", "flags"),
        ("traffic", "Sources this week", "source", "flags"),
    ):
        table = _table(report, section, title)
        headers, rows, _ = display_table(table.reset_index(drop=True), lang)
        col = list(table.columns).index(flags)
        assert col == 1  # beside the row's name
        assert headers[col] == header
        shown = {r[list(table.columns).index(key)]: r[col] for r in rows}
        text = "\n".join(["|".join(headers), *("|".join(r) for r in rows)])
        assert re.findall(SNAKE, text) == [], (section, lang)
        if lang == "zh":  # the column is all Chinese (the flag titles name no code)
            assert not re.search("[A-Za-z]", headers[col] + "".join(shown.values()))
        if section == "products":
            assert {k: v for k, v in shown.items() if v} == {BRUSHED: brushing, BOTTED: bots}
        else:  # the source as the store names it, its row's flag
            assert shown[source_label(BOT_SOURCE, lang)] == bots
            assert [v for v in shown.values() if v] == [bots]
    md = report.to_markdown(lang=lang)
    assert brushing in md
    assert bots in md


# ------------------------------------------------------------------ the matching helper


def _flag(code: str, **subject: Any) -> Flag:
    return Flag(code, "warning", "m", subject=subject)


def test_a_flag_concerns_the_rows_its_subject_names() -> None:
    bots = _flag("bot_traffic", product_id="P1", source="search", date="2026-11-04")
    gap = _flag("tracking_gap", date="2026-10-27", period="2026-W44")
    mix = _flag("mix_shift", by="source", source="display")
    row = {"product_id": "P1", "source": "shop"}
    assert flag_concerns(bots, row, ["product_id"])
    assert not flag_concerns(bots, row, ["product_id", "source"])  # every named key matches
    assert not flag_concerns(bots, {"product_id": "P2"}, ["product_id"])
    # a day-level flag: every mover's possible explanation, no table row's own flag
    assert flag_concerns(gap, row, ["product_id"], store_wide=True)
    assert not flag_concerns(gap, row, ["product_id"], store_wide=False)
    assert not flag_concerns(_flag("mix_shift", by="source"), row, ["product_id"])
    assert flag_concerns(mix, {"source": "display"}, ["source"], store_wide=False)
    # a day matches by its day, whatever the row's type
    assert flag_concerns(gap, {"date": pd.Timestamp("2026-10-27")}, ["date"], store_wide=False)
    assert not flag_concerns(gap, {"date": pd.Timestamp("2026-10-28")}, ["date"])


def test_flags_by_subject_neither_mutates_nor_depends_on_row_order() -> None:
    table = pd.DataFrame({"product_id": ["P2", "P1", "P3"], "x": [1, 2, 3]})
    before = table.copy()
    flags = [
        _flag("order_brushing", product_id="P1", period="2026-W46"),
        _flag("bot_traffic", product_id="P1", date="2026-11-04"),
        _flag("presale_zero_payment", product_id="P3", period="2026-W47"),
    ]
    got = flags_by_subject(table, flags, ["product_id"])
    assert got == ["", "bot_traffic, order_brushing", "presale_zero_payment"]
    pd.testing.assert_frame_equal(table, before)
    flipped = flags_by_subject(table.iloc[::-1], flags[::-1], ["product_id"])
    assert flipped == got[::-1]
    # periods: by the flag's period, else its date's ISO week
    kept = in_periods(flags, {"2026-W45", "2026-W46"}, "W")
    assert [f.code for f in kept] == ["order_brushing", "bot_traffic"]
