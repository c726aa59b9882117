"""sm.validate reports every problem at once with codes, columns, counts and examples."""

from __future__ import annotations

import pandas as pd
import pytest

import shopmetrics as sm

from .conftest import Constructor


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3"],
            "product_id": ["p", "p", "q", "q"],
            "buyer": ["b1", "b1", "b2", "b3"],
            "created_at": pd.to_datetime(
                ["2026-11-02 10:00", "2026-11-02 10:00", "2026-11-03 09:00", "2026-11-04 09:00"]
            ),
            "paid_at": pd.to_datetime(
                ["2026-11-02 10:05", "2026-11-02 10:05", "2026-11-03 08:00", None]
            ),
            "amount": [10.0, 10.0, -5.0, 20.0],
        }
    )


def test_three_problems_reported_at_once(constructor: Constructor) -> None:
    before = _orders()
    report = sm.validate(orders=constructor(_orders()))
    codes = sorted(p.code for p in report.problems)
    assert codes == ["duplicate_rows", "missing_column", "negative_values", "paid_before_created"]
    assert not report.ok
    missing = next(p for p in report.problems if p.code == "missing_column")
    assert missing.column == "buyer_id"
    assert "Columns present:" in missing.message
    assert "did you mean 'buyer'" in missing.message
    neg = next(p for p in report.problems if p.code == "negative_values")
    assert neg.n_rows == 1
    assert neg.examples[0]["order_id"] == "o2"
    late = next(p for p in report.problems if p.code == "paid_before_created")
    assert late.examples[0]["order_id"] == "o2"
    pd.testing.assert_frame_equal(_orders(), before)


def test_strict_raises_with_report() -> None:
    with pytest.raises(sm.ValidationError) as err:
        sm.validate(orders=_orders(), strict=True)
    assert len(err.value.report.errors) == 4
    assert "negative" in str(err.value)


def test_clean_tables_pass(constructor: Constructor) -> None:
    ok = _orders().drop(index=[1]).rename(columns={"buyer": "buyer_id"})
    ok["amount"] = ok["amount"].abs()
    ok["paid_at"] = ok["created_at"] + pd.Timedelta(minutes=5)
    report = sm.validate(orders=constructor(ok))
    assert report.ok, str(report)
    assert report.problems == ()


def test_events_ratings_and_times() -> None:
    events = pd.DataFrame(
        {
            "ts": ["2026-11-02 10:00", "not a time", None],
            "visitor_id": ["a", None, "c"],
            "event": ["visit", "pv", "visit"],
        }
    )
    ratings = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "buyer_id": ["b", "c"],
            "rated_at": pd.to_datetime(["2026-11-02", "2026-11-03"]).tz_localize("Asia/Shanghai"),
            "item_score": [5, 7],
            "service_score": [5, 0],
            "logistics_score": [None, 4],
        }
    )
    report = sm.validate(events=events, ratings=ratings)
    codes = sorted({p.code for p in report.problems})
    assert codes == [
        "mixed_time_zones",
        "null_keys",
        "score_out_of_range",
        "unknown_event",
        "unparseable_time",
    ]
    scores = [p for p in report.problems if p.code == "score_out_of_range"]
    assert sorted(p.column for p in scores) == ["item_score", "service_score"]
    assert "pv" in next(p for p in report.problems if p.code == "unknown_event").message
    frame = report.to_pandas()
    assert list(frame.columns[:4]) == ["severity", "code", "table", "column"]
    assert report.to_dict()["ok"] is False
    import json

    payload = json.loads(report.to_json())
    assert {p["code"] for p in payload["problems"]} == set(codes)


def test_weekly_traffic_rows_flagged() -> None:
    traffic = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-02", "2026-11-09", "2026-11-16"]),
            "visitors": [700, 650, 720],
        }
    )
    report = sm.validate(traffic=traffic)
    assert [p.code for p in report.problems] == ["multi_day_uniques"]
    assert report.ok  # a warning, not an error
