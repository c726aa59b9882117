"""The funnel's join of order counts beside the event counts (``funnel._outer_join``).

Expectations come from ``pandas.DataFrame.merge(how="outer")``, the operation it replaces:
the same rows (in any order: the funnel sorts its rows at the end) and the same values.
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
        got = _outer_join(events, orders, KEYS)
        want = events.merge(orders, on=KEYS, how="outer")
        assert len(got) == len(want)  # orders-only groups appended, none dropped
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
    assert len(_outer_join(events.iloc[:0], orders, KEYS)) == len(orders)
    assert len(_outer_join(events, orders.iloc[:0], KEYS)) == len(events)
