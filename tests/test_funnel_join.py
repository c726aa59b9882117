"""The funnel's join of order counts beside the event counts (``funnel._outer_join``).

Expectations come from ``pandas.DataFrame.merge(how="outer")`` followed by
``sort_values(kind="stable")`` on the keys, the operations it stands for: the same rows,
values and, when it says its rows are in key order, the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopmetrics.funnel import _outer_join

KEYS = ["product_id", "source", "_period"]


def _tables(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product(
        [[f"p{i}" for i in range(30)], ["search", "direct", "ads"], range(20_000, 20_010)],
        names=KEYS,
    ).to_frame(index=False)
    events = grid.sample(frac=0.6, random_state=seed).reset_index(drop=True)
    events["visitors"] = rng.integers(1, 500, len(events))
    orders = grid.sample(frac=0.2, random_state=seed + 1).reset_index(drop=True)
    orders["paid_buyers"] = rng.integers(0, 20, len(orders))
    orders["paid_amount"] = rng.integers(0, 10**6, len(orders)) / 100
    return events, orders


def _sorted(t: pd.DataFrame) -> pd.DataFrame:
    out = t.sort_values(KEYS).reset_index(drop=True)
    for c in ("visitors", "paid_buyers", "paid_amount"):
        out[c] = out[c].astype("float64")
    return out


def test_matches_pandas_outer_merge() -> None:
    for seed in range(3):
        events, orders = _tables(seed)
        got, in_order = _outer_join(events, orders, KEYS)
        want = events.merge(orders, on=KEYS, how="outer")
        assert len(got) == len(want)  # orders-only groups appended, none dropped
        pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)
        assert in_order
        # in key order: row for row what the merge then a stable sort give
        ordered = want.sort_values(KEYS, kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), ordered)


@pytest.mark.parametrize("kind", ["object", "str", "int", "arrow"])
def test_key_order_is_the_sort_order_for_every_key_type(kind: str) -> None:
    """Numeric product ids (sorted as numbers, not text), strings of every pandas type."""
    events, orders = _tables(2)
    for t in (events, orders):
        ids = t["product_id"].str[1:].astype("int64") * 7 % 31  # 0..30, not in text order
        t["product_id"] = {
            "object": ids.astype(str).astype(object),
            "str": ids.astype(str).astype("string"),
            "int": ids,
            "arrow": ids.astype(str).astype("string[pyarrow]"),
        }[kind]
    got, in_order = _outer_join(events, orders, KEYS)
    want = events.merge(orders, on=KEYS, how="outer")
    want = want.sort_values(KEYS, kind="stable", ignore_index=True)
    if in_order:
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    else:
        pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)


def test_a_missing_key_leaves_the_order_to_the_caller() -> None:
    events, orders = _tables(0)
    events.loc[3, "source"] = None
    got, in_order = _outer_join(events, orders, KEYS)
    assert not in_order
    want = events.merge(orders, on=KEYS, how="outer")
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)


def test_does_not_change_the_callers_tables() -> None:
    events, orders = _tables(0)
    before = events.copy(), orders.copy()
    _outer_join(events, orders, KEYS)
    pd.testing.assert_frame_equal(events, before[0])
    pd.testing.assert_frame_equal(orders, before[1])


def test_keys_of_different_types_go_through_merge() -> None:
    events = pd.DataFrame({"k": ["1", "2"], "visitors": [3, 4]})
    orders = pd.DataFrame({"k": [1, 3], "paid_buyers": [1, 1]})
    # pandas refuses to merge text with numbers, and says so: the join does the same
    with pytest.raises(ValueError, match="merge") as want:
        events.merge(orders, on=["k"], how="outer")
    with pytest.raises(ValueError, match="merge") as got:
        _outer_join(events, orders, ["k"])
    assert str(got.value) == str(want.value)


def test_empty_sides() -> None:
    events, orders = _tables(1)
    assert len(_outer_join(events.iloc[:0], orders, KEYS)[0]) == len(orders)
    assert len(_outer_join(events, orders.iloc[:0], KEYS)[0]) == len(events)
