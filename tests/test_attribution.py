"""Tests of multi-touch attribution (shopmetrics.attribution).

Every expected number below is worked out by hand in the comments next to it, or comes
from a second, independent computation written in this file (probability propagation
through the Markov chain instead of a linear solve).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shopmetrics as sm
from shopmetrics import engine as _engine
from shopmetrics.attribution import MODELS, Chain, credits, removal_effects
from shopmetrics.errors import ColumnNotFoundError, DefinitionError, SchemaError, ShopmetricsError

from .conftest import Constructor


def _by_channel(result: sm.Result, col: str = "conversions") -> dict[str, float]:
    t = result.to_pandas()
    return dict(zip(t["channel"], t[col].astype(float), strict=True))


def _approx(d: dict[str, float], rel: float = 1e-9) -> object:
    return pytest.approx(d, rel=rel, abs=1e-12)


# ---------------------------------------------------------------- heuristics by hand

# Four journeys (half-life 3 days below makes the time-decay weights powers of 1/2):
#   J1  A > B > C        1 conversion,  value 100, touch ages 6, 3, 0 days
#   J2  B > A            2 conversions, value  50, ages 3, 0
#   J3  C                1 conversion,  value  30, age 2
#   J4  A > B > B > C    1 conversion,  value  60, ages 9, 6, 3, 0
HAND = pd.DataFrame(
    {
        "path": ["A > B > C", "B > A", "C", "A > B > B > C"],
        "conversions": [1, 2, 1, 1],
        "value": [100.0, 50.0, 30.0, 60.0],
        "days_before": ["6 > 3 > 0", "3 > 0", "2", "9 > 6 > 3 > 0"],
    }
)


def test_last_click_by_hand() -> None:
    # J1 -> C (1, 100); J2 -> A (2, 50); J3 -> C (1, 30); J4 -> C (1, 60); B never last
    res = sm.attribute(HAND, model="last_click")
    assert _by_channel(res) == _approx({"A": 2.0, "B": 0.0, "C": 3.0})
    assert _by_channel(res, "value") == _approx({"A": 50.0, "B": 0.0, "C": 190.0})


def test_first_click_by_hand() -> None:
    # J1 -> A (1, 100); J2 -> B (2, 50); J3 -> C (1, 30); J4 -> A (1, 60)
    res = sm.attribute(HAND, model="first_click")
    assert _by_channel(res) == _approx({"A": 2.0, "B": 2.0, "C": 1.0})
    assert _by_channel(res, "value") == _approx({"A": 160.0, "B": 50.0, "C": 30.0})


def test_linear_by_hand() -> None:
    # J1: 1/3 each (value 100/3 each); J2: A 1, B 1 (25 each); J3: C 1 (30);
    # J4: A 1/4, B 2/4, C 1/4 (values 15, 30, 15)
    # A = 1/3 + 1 + 1/4 = 19/12;  B = 1/3 + 1 + 1/2 = 11/6;  C = 1/3 + 1 + 1/4 = 19/12
    # value A = 100/3 + 25 + 15;  B = 100/3 + 25 + 30;  C = 100/3 + 30 + 15
    res = sm.attribute(HAND, model="linear")
    assert _by_channel(res) == _approx({"A": 19 / 12, "B": 11 / 6, "C": 19 / 12})
    assert _by_channel(res, "value") == _approx(
        {"A": 100 / 3 + 40, "B": 100 / 3 + 55, "C": 100 / 3 + 45}
    )


def test_time_decay_by_hand() -> None:
    # half-life 3 days: weight 2^(-age/3)
    # J1 ages 6, 3, 0 -> 1/4, 1/2, 1 (sum 7/4) -> A 1/7, B 2/7, C 4/7
    # J2 ages 3, 0 -> 1/2, 1 (sum 3/2) -> B 1/3, A 2/3; x 2 conversions -> B 2/3, A 4/3
    # J3 -> C 1
    # J4 ages 9, 6, 3, 0 -> 1/8, 1/4, 1/2, 1 (sum 15/8) -> A 1/15, B (2+4)/15, C 8/15
    res = sm.attribute(HAND, model="time_decay", half_life_days=3)
    assert _by_channel(res) == _approx(
        {
            "A": 1 / 7 + 4 / 3 + 1 / 15,
            "B": 2 / 7 + 2 / 3 + 6 / 15,
            "C": 4 / 7 + 1 + 8 / 15,
        }
    )
    # values: J1 x 100, J2 x 50 (B 50/3, A 100/3), J3 30 to C, J4 x 60 (A 4, B 24, C 32)
    assert _by_channel(res, "value") == _approx(
        {"A": 100 / 7 + 100 / 3 + 4, "B": 200 / 7 + 50 / 3 + 24, "C": 400 / 7 + 30 + 32}
    )
    assert res.meta["half_life_days"] == 3


def test_time_decay_default_half_life_is_seven_days() -> None:
    # one journey, ages 14 and 7 and 0 days, half-life 7: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7
    paths = pd.DataFrame({"path": ["x > y > z"], "conversions": [1], "days_before": ["14>7>0"]})
    assert _by_channel(sm.attribute(paths, model="time_decay")) == _approx(
        {"x": 1 / 7, "y": 2 / 7, "z": 4 / 7}
    )


def test_position_based_by_hand() -> None:
    # 40/20/40. J1 (3 touches): A .4, B .2, C .4.  J2 (2 touches): 50/50 x 2 -> B 1, A 1.
    # J3 (1 touch): C 1.  J4 (4 touches): A .4, B .1 + .1, C .4.
    # A = .4 + 1 + .4 = 1.8;  B = .2 + 1 + .2 = 1.4;  C = .4 + 1 + .4 = 1.8
    # values: J1 A 40 B 20 C 40; J2 A 25 B 25; J3 C 30; J4 A 24 B 12 C 24
    res = sm.attribute(HAND, model="position_based")
    assert _by_channel(res) == _approx({"A": 1.8, "B": 1.4, "C": 1.8})
    assert _by_channel(res, "value") == _approx({"A": 89.0, "B": 57.0, "C": 94.0})


def test_position_based_custom_weights_by_hand() -> None:
    # weights (first, middle, last) = (0.5, 0.2, 0.3)
    # "a > b": two touches -> first 0.5 / (0.5 + 0.3) = 0.625, last 0.375
    # "a > b > c > d": a .5, b .1, c .1, d .3
    paths = pd.DataFrame({"path": ["a > b", "a > b > c > d"], "conversions": [1, 1]})
    res = sm.attribute(paths, model="position_based", weights=(0.5, 0.2, 0.3))
    assert _by_channel(res) == _approx({"a": 1.125, "b": 0.475, "c": 0.1, "d": 0.3})
    assert res.meta["weights"] == [0.5, 0.2, 0.3]


def test_credits_function_by_hand() -> None:
    t = pd.DataFrame({"journey": [0, 0, 1], "pos": [0, 1, 0], "n": [2, 2, 1]})
    assert credits(t, "last_click").tolist() == [0.0, 1.0, 1.0]
    assert credits(t, "first_click").tolist() == [1.0, 0.0, 1.0]
    assert credits(t, "linear").tolist() == [0.5, 0.5, 1.0]
    assert credits(t, "position_based").tolist() == [0.5, 0.5, 1.0]


def test_time_decay_old_touches_do_not_underflow() -> None:
    # ages 5000 and 4999 days, half-life 1 day: 2^-5000 underflows, but relative weights
    # are 1/2 and 1 -> 1/3, 2/3
    t = pd.DataFrame({"journey": [0, 0], "pos": [0, 1], "n": [2, 2], "age_days": [5000.0, 4999.0]})
    assert credits(t, "time_decay", half_life_days=1).tolist() == pytest.approx([1 / 3, 2 / 3])


# ---------------------------------------------------------------- Markov by hand


def test_markov_classic_three_paths_by_hand() -> None:
    # Paths: C1 > C2 > C3 converts; C1 ends in null; C2 > C3 ends in null.
    # Transition counts -> probabilities:
    #   start -> C1: 2/3, start -> C2: 1/3
    #   C1 -> C2: 1/2, C1 -> null: 1/2
    #   C2 -> C3: 1
    #   C3 -> conv: 1/2, C3 -> null: 1/2
    # Absorption in conv: x3 = 1/2, x2 = x3 = 1/2, x1 = 1/2 * x2 = 1/4,
    #   P(conv) = 2/3 * 1/4 + 1/3 * 1/2 = 1/3
    # Remove C1: start -> C1 -> null, P = 1/3 * 1/2 = 1/6 -> removal effect 1 - (1/6)/(1/3) = 1/2
    # Remove C2 or C3: every converting path is cut, P = 0 -> removal effect 1
    # Shares: 0.5 / 2.5 = 0.2, 1 / 2.5 = 0.4, 0.4; one conversion in total.
    paths = pd.DataFrame(
        {"path": ["C1 > C2 > C3", "C1", "C2 > C3"], "conversions": [1, 0, 0], "nulls": [0, 1, 1]}
    )
    res = sm.attribute(paths, model="markov")
    assert res.meta["conversion_probability"] == pytest.approx(1 / 3)
    assert _by_channel(res, "removal_effect") == _approx({"C1": 0.5, "C2": 1.0, "C3": 1.0})
    assert _by_channel(res) == _approx({"C1": 0.2, "C2": 0.4, "C3": 0.4})


def test_markov_published_example_by_hand() -> None:
    # serhiipuzyrov.com/2019/07/markov-chain-attribution-simple-explanation-of-removal-effect:
    # paths "google ads" x2 conversions, "mailing" x1, "google ads > mailing" x1, and one
    # "google ads" journey without conversion. The page's transition table:
    #   start > google ads 0.8, start > mailing 0.2, google ads > conv 0.5,
    #   google ads > mailing 0.25, google ads > null 0.25, mailing > conv 1.
    # P(conv) = 0.8 * (0.5 + 0.25 * 1) + 0.2 * 1 = 0.8
    # remove google ads: P = 0.2        -> removal effect 1 - 0.2 / 0.8 = 0.75
    # remove mailing:    P = 0.8 * 0.5  -> removal effect 1 - 0.4 / 0.8 = 0.5
    # 4 conversions x 0.75 / 1.25 = 2.4 (google ads), x 0.5 / 1.25 = 1.6 (mailing)
    paths = pd.DataFrame(
        {
            "path": ["google ads", "mailing", "google ads > mailing", "google ads"],
            "conversions": [2, 1, 1, 0],
            "nulls": [0, 0, 0, 1],
        }
    )
    res = sm.attribute(paths, model="markov")
    chain = res.journeys.chain(1)  # type: ignore[union-attr]
    g, m = ("google ads",), ("mailing",)
    out_g = chain.conversions[g] + chain.nulls[g] + chain.transitions[g, m]
    assert chain.transitions[(), g] / 5 == 0.8
    assert chain.conversions[g] / out_g == 0.5
    assert chain.transitions[g, m] / out_g == 0.25
    assert chain.nulls[g] / out_g == 0.25
    assert res.meta["conversion_probability"] == pytest.approx(0.8)
    assert _by_channel(res, "removal_effect") == _approx({"google ads": 0.75, "mailing": 0.5})
    assert _by_channel(res) == _approx({"google ads": 2.4, "mailing": 1.6})


def test_markov_with_a_cycle_by_hand() -> None:
    # Paths: A > B > A converts; B null; A converts; A null.
    # Counts: start->A 3, start->B 1, A->B 1, B->A 1, A->conv 2, A->null 1, B->null 1
    # Probabilities: A: ->B 1/4, ->conv 1/2, ->null 1/4;  B: ->A 1/2, ->null 1/2
    # x_A = 1/4 x_B + 1/2, x_B = 1/2 x_A  =>  x_A = 4/7, x_B = 2/7
    # P(conv) = 3/4 * 4/7 + 1/4 * 2/7 = 1/2
    # remove A: nothing converts -> effect 1
    # remove B: x_A = 1/2, P = 3/4 * 1/2 = 3/8 -> effect 1 - (3/8)/(1/2) = 1/4
    # shares 1 / 1.25 = 0.8 and 0.25 / 1.25 = 0.2 of 2 conversions, value 100 likewise
    paths = pd.DataFrame(
        {
            "path": ["A > B > A", "B", "A", "A"],
            "conversions": [1, 0, 1, 0],
            "nulls": [0, 1, 0, 1],
            "value": [60.0, 0.0, 40.0, 0.0],
        }
    )
    res = sm.attribute(paths, model="markov")
    assert res.meta["conversion_probability"] == pytest.approx(0.5)
    assert _by_channel(res, "removal_effect") == _approx({"A": 1.0, "B": 0.25})
    assert _by_channel(res) == _approx({"A": 1.6, "B": 0.4})
    assert _by_channel(res, "value") == _approx({"A": 80.0, "B": 20.0})


def test_markov_second_order_by_hand() -> None:
    # Paths: A > B converts; C > B ends in null.
    # Order 1: start->A 1/2, start->C 1/2, A->B 1, C->B 1, B->conv 1/2, B->null 1/2.
    #   P = 1/2; remove A: P = 1/2 * 1 * 1/2 = 1/4 -> 1/2; remove C: likewise 1/2;
    #   remove B: 0 -> 1. Shares .25 / .25 / .5.
    # Order 2: states (A), (C), (A,B), (C,B); (A,B)->conv 1, (C,B)->null 1.
    #   P = 1/2; remove A (states (A), (A,B)): P = 0 -> 1; remove C: P = 1/2 -> 0;
    #   remove B: P = 0 -> 1. Shares .5 / .5 / 0.
    paths = pd.DataFrame({"path": ["A > B", "C > B"], "conversions": [1, 0], "nulls": [0, 1]})
    first = sm.attribute(paths, model="markov")
    assert _by_channel(first) == _approx({"A": 0.25, "B": 0.5, "C": 0.25})
    second = sm.attribute(paths, model="markov", order=2)
    assert _by_channel(second, "removal_effect") == _approx({"A": 1.0, "B": 1.0, "C": 0.0})
    assert _by_channel(second) == _approx({"A": 0.5, "B": 0.5, "C": 0.0})
    assert second.meta["order"] == 2


def _propagated_removal_effects(
    paths: list[tuple[tuple[str, ...], float, float]], order: int = 1
) -> tuple[float, dict[str, float]]:
    """Second implementation: push probability mass through the chain, no linear algebra.

    Transition probabilities are counted with plain dicts; P(conversion) is the mass that
    reaches ``conv`` after enough steps for the rest to be < 1e-15.
    """
    counts: dict[object, dict[object, float]] = defaultdict(lambda: defaultdict(float))
    for seq, conv, nulls in paths:
        if conv + nulls <= 0:
            continue
        states: list[object] = ["start"] + [
            tuple(seq[max(0, j - order + 1) : j + 1]) for j in range(len(seq))
        ]
        for a, b in itertools.pairwise(states):
            counts[a][b] += conv + nulls
        counts[states[-1]]["conv"] += conv
        counts[states[-1]]["null"] += nulls

    def p_conv(removed: str | None) -> float:
        mass: dict[object, float] = {"start": 1.0}
        reached = 0.0
        for _ in range(100_000):
            nxt: dict[object, float] = defaultdict(float)
            for s, m in mass.items():
                if removed is not None and isinstance(s, tuple) and removed in s:
                    continue  # removed channel: the mass goes to null
                total = sum(counts[s].values())
                for t, w in counts[s].items():
                    if t == "conv":
                        reached += m * w / total
                    elif t != "null":
                        nxt[t] += m * w / total
            mass = nxt
            if sum(mass.values()) < 1e-15:
                break
        return reached

    channels = sorted({c for seq, cv, nl in paths if cv + nl > 0 for c in seq})
    p = p_conv(None)
    return p, {c: 1 - p_conv(c) / p for c in channels} if p > 0 else {}


def test_markov_matches_propagation_on_a_larger_example() -> None:
    paths = [
        (("search", "display", "search"), 3.0, 5.0),
        (("display",), 1.0, 9.0),
        (("shop", "search"), 4.0, 2.0),
        (("display", "display", "shop"), 2.0, 3.0),
        (("recommend", "search", "recommend"), 1.0, 4.0),
        (("search",), 5.0, 20.0),
    ]
    for order in (1, 2, 3):
        chain = Chain()
        for seq, cv, nl in paths:
            chain.add_path(seq, cv, nl, order)
        p, effects = removal_effects(chain)
        p2, effects2 = _propagated_removal_effects(paths, order)
        assert p == pytest.approx(p2, abs=1e-12)
        assert effects == pytest.approx(effects2, abs=1e-10)


channel_names = st.sampled_from(["a", "b", "c", "d"])
path_rows = st.lists(
    st.tuples(
        st.lists(channel_names, min_size=1, max_size=5),
        st.integers(0, 4),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(rows=path_rows, order=st.integers(1, 2))
def test_markov_removal_effects_match_propagation(
    rows: list[tuple[list[str], int, int]], order: int
) -> None:
    paths = [(tuple(seq), float(cv), float(nl)) for seq, cv, nl in rows]
    chain = Chain()
    for seq, cv, nl in paths:
        chain.add_path(seq, cv, nl, order)
    p, effects = removal_effects(chain)
    p2, effects2 = _propagated_removal_effects(paths, order)
    if not p2 > 0:
        assert not p > 0
        return
    assert p == pytest.approx(p2, abs=1e-9)
    assert effects == pytest.approx(effects2, abs=1e-8)


# ---------------------------------------------------------------- invariants


def _random_paths(draw_rows: list[tuple[list[str], int, int, float, list[float]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [" > ".join(seq) for seq, *_ in draw_rows],
            "conversions": [cv for _, cv, *_ in draw_rows],
            "nulls": [nl for _, _, nl, *_ in draw_rows],
            "value": [v if cv > 0 else 0.0 for _, cv, _, v, _ in draw_rows],
            "days_before": [
                " > ".join(repr(a) for a in ages[: len(seq)]) for seq, *_, ages in draw_rows
            ],
        }
    )


full_rows = st.lists(
    st.tuples(
        st.lists(channel_names, min_size=1, max_size=5),
        st.integers(0, 5),
        st.integers(0, 5),
        st.floats(0, 1000, allow_nan=False),
        st.lists(st.floats(0, 30, allow_nan=False), min_size=5, max_size=5),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(rows=full_rows, order=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_attributed_totals_equal_totals_for_every_model(
    rows: list[tuple[list[str], int, int, float, list[float]]], order: int, seed: int
) -> None:
    paths = _random_paths(rows)
    total_conv = float(paths["conversions"].sum())
    total_value = float(paths["value"].sum())
    conv = sm.compare_attribution(paths, order=order).to_pandas()
    value = sm.compare_attribution(paths, order=order, what="value").to_pandas()
    for model in MODELS:
        assert conv[model].sum() == pytest.approx(total_conv, rel=1e-9, abs=1e-9)
        assert value[model].sum() == pytest.approx(total_value, rel=1e-9, abs=1e-6)
        assert (conv[model] >= -1e-12).all()
    # row order of the input does not matter
    shuffled = paths.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = sm.compare_attribution(shuffled, order=order).to_pandas()
    pd.testing.assert_frame_equal(
        conv.set_index("channel").sort_index(), again.set_index("channel").sort_index()
    )


# ---------------------------------------------------------------- events + orders


def _d(day: float, hour: float = 0.0) -> pd.Timestamp:
    return pd.Timestamp("2026-03-01") + pd.Timedelta(days=day, hours=hour)


def _shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hand-made events and orders; journeys written out in ``_shop_paths``."""
    ev = [
        # u1: o1 at day 4 10:00, o2 at day 6 10:00
        (_d(1, 9), "u1", "exposure", "display"),  # not a touch
        (_d(1, 10), "u1", "visit", "search"),
        (_d(3, 12), "u1", "click", "display"),
        (_d(4, 9), "u1", "visit", "search"),
        (_d(4, 9), "u1", "click", "search"),  # same instant and channel: one touch
        (_d(4, 9), "u1", "visit", "display"),  # tie at 09:00: display sorts before search
        (_d(4, 10), "u1", "visit", "display"),  # at o1's created_at: o1's, not o2's
        (_d(5, 10), "u1", "visit", "social"),
        (_d(7, 10), "u1", "visit", "search"),  # after the last order: a null journey
        # u2: o3 at day 10 10:00
        (_d(-20, 10), "u2", "visit", "display"),  # outside the 7-day window
        (_d(3, 10), "u2", "click", "display"),  # exactly 7 days before o3: inside
        (_d(10, 10), "u2", "visit", "search"),  # at o3's created_at: inside
        # u4: never orders -> null journey display > recommend > search
        (_d(2, 10), "u4", "visit", "display"),
        (_d(2, 11), "u4", "visit", "search"),
        (_d(2, 11), "u4", "visit", "recommend"),  # tie: recommend before search
        (_d(2, 12), "u4", "cart", "search"),  # not a touch
        # u6: o5 and o6 at the same instant, day 8 12:00
        (_d(8, 11), "u6", "visit", "display"),
        (_d(8, 11.5), "u6", "visit", None),  # no channel: excluded, counted
    ]
    events = pd.DataFrame(ev, columns=["ts", "visitor_id", "event", "source"])
    events = events.iloc[np.random.default_rng(7).permutation(len(events))].reset_index(drop=True)
    orders = pd.DataFrame(
        [
            ("o1", "u1", _d(4, 10), 30.0),
            ("o1", "u1", _d(4, 10), 20.0),  # second line of o1
            ("o2", "u1", _d(6, 10), 40.0),
            ("o3", "u2", _d(10, 10), 25.0),
            ("o4", "u3", _d(5, 0), 70.0),  # u3 has no touch at all
            ("o5", "u6", _d(8, 12), 10.0),
            ("o6", "u6", _d(8, 12), 15.0),
        ],
        columns=["order_id", "buyer_id", "created_at", "amount"],
    )
    return events, orders


def _shop_paths() -> pd.DataFrame:
    # o1 (value 50): search d1 10:00 (age 3 days), display d3 12:00 (22 h), display and
    #    search d4 09:00 (1 h each, display first), display d4 10:00 (0)
    # o2 (40): touches after o1 only: social d5 10:00 (1 day)
    # o3 (25): display d3 10:00 (7 days), search d10 10:00 (0); d-20 is outside
    # o5, o6 (10 + 15): display d8 11:00 (1 h) each
    # nulls: u1 after o2: search; u4: display > recommend > search
    return pd.DataFrame(
        {
            "path": [
                "search > display > display > search > display",
                "social",
                "display > search",
                "display",
                "search",
                "display > recommend > search",
            ],
            "conversions": [1, 1, 1, 2, 0, 0],
            "value": [50.0, 40.0, 25.0, 25.0, 0.0, 0.0],
            "nulls": [0, 0, 0, 0, 1, 1],
            "days_before": [
                f"3 > {22 / 24!r} > {1 / 24!r} > {1 / 24!r} > 0",  # hours / 24 = days
                "1",
                "7 > 0",
                repr(1 / 24),
                None,
                None,
            ],
        }
    )


def test_events_orders_by_hand_last_click() -> None:
    events, orders = _shop()
    res = sm.attribute(events=events, orders=orders)
    # last touches: o1 display, o2 social, o3 search, o5 and o6 display
    assert _by_channel(res) == _approx({"display": 3.0, "search": 1.0, "social": 1.0})
    assert _by_channel(res, "value") == _approx({"display": 75.0, "search": 25.0, "social": 40.0})
    assert res.meta["total_conversions"] == 5
    assert res.meta["total_value"] == 140.0
    assert res.meta["orders_without_touch"] == 1
    assert res.meta["value_without_touch"] == 70.0
    flag = next(f for f in res.flags if f.code == "attribution_window")
    assert flag.evidence["orders_without_touch"] == 1
    assert flag.examples[0]["order_id"] == "o4"
    reasons = {e.reason: e.rows for e in res.audit.excluded}
    assert reasons["no touch in window"] == 1
    assert reasons["null ts, visitor_id or source"] == 1
    assert res.audit.rows_in == {"events": 18, "orders": 7}


@pytest.mark.parametrize("what", ["conversions", "value"])
def test_events_orders_equal_paths_on_every_engine(
    constructor: Constructor, engine: str, what: str
) -> None:
    events, orders = _shop()
    before = events.copy()
    from_events = sm.compare_attribution(
        events=constructor(events), orders=constructor(orders), what=what
    ).to_pandas()
    from_paths = sm.compare_attribution(constructor(_shop_paths()), what=what).to_pandas()
    pd.testing.assert_frame_equal(from_events, from_paths, rtol=1e-12)
    assert list(from_events.columns) == ["channel", *MODELS]
    pd.testing.assert_frame_equal(events, before)  # the caller's table is untouched


def test_events_orders_second_order_markov_equals_paths(constructor: Constructor) -> None:
    events, orders = _shop()
    a = sm.attribute(
        events=constructor(events), orders=constructor(orders), model="markov", order=2
    )
    b = sm.attribute(_shop_paths(), model="markov", order=2)
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), rtol=1e-12)


def test_events_orders_collect_only_in_window_touches() -> None:
    events, orders = _shop()
    with _engine.collect_spy() as log:
        sm.attribute(events=events, orders=orders, model="markov")
    rows = dict(log)
    # in-window touches: o1 5, o2 1, o3 2, o5 1, o6 1
    assert rows["attribution:touches"] == 10
    assert rows["attribution:events_counts"] == 1
    assert rows["attribution:orders_counts"] == 1
    # null journeys come back as transition counts: (search, start), (display, start),
    # (recommend, display), (search, recommend): 4 distinct rows
    assert rows["attribution:null_transitions"] == 4
    assert max(rows.values()) <= 10


def test_sessions_are_one_touch_each() -> None:
    # session s1 from search: click + 3 visits; session s2 from display: 1 visit; order after.
    # touch="auto" with session_id: touches search (s1) > display (s2): linear 1/2 each.
    # touch="event": search x4 (click + 3 visits at distinct times) > display: 4/5 and 1/5.
    t0 = _d(0, 10)
    events = pd.DataFrame(
        {
            "ts": [t0 + pd.Timedelta(minutes=m) for m in (0, 1, 2, 3, 60)],
            "visitor_id": ["u"] * 5,
            "event": ["click", "visit", "visit", "visit", "visit"],
            "source": ["search"] * 4 + ["display"],
            "session_id": ["s1"] * 4 + ["s2"],
        }
    )
    orders = pd.DataFrame(
        {"order_id": ["o"], "buyer_id": ["u"], "created_at": [_d(0, 12)], "amount": [10.0]}
    )
    by_session = sm.attribute(events=events, orders=orders, model="linear")
    assert _by_channel(by_session) == _approx({"display": 0.5, "search": 0.5})
    assert by_session.meta["touch"] == "session"
    by_event = sm.attribute(events=events, orders=orders, model="linear", touch="event")
    assert _by_channel(by_event) == _approx({"display": 0.2, "search": 0.8})


def test_channel_column_and_mapping() -> None:
    events, orders = _shop()
    events = events.rename(columns={"source": "utm", "visitor_id": "uid"})
    events["campaign"] = events["utm"].str.upper()
    res = sm.attribute(
        events=events, orders=orders, channel="campaign", columns={"uid": "visitor_id"}
    )
    assert _by_channel(res) == _approx({"DISPLAY": 3.0, "SEARCH": 1.0, "SOCIAL": 1.0})


def test_window_days_changes_journeys() -> None:
    # with a 30-day window, u2's display touch on day -20 (exactly 30 days before o3) joins
    # o3's journey: display > display > search, so linear gives display 2/3 of o3 instead
    # of 1/2; no other journey changes (u1's touches after day 1 are all in already)
    events, orders = _shop()
    week = _by_channel(sm.attribute(events=events, orders=orders, model="linear"))
    month = _by_channel(sm.attribute(events=events, orders=orders, model="linear", window_days=30))
    assert month["display"] - week["display"] == pytest.approx(2 / 3 - 1 / 2)


def test_ids_of_different_types_are_joined() -> None:
    events = pd.DataFrame(
        {"ts": [_d(0, 9)], "visitor_id": ["17"], "event": ["visit"], "source": ["search"]}
    )
    orders = pd.DataFrame(
        {"order_id": [1], "buyer_id": [17], "created_at": [_d(0, 10)], "amount": [5.0]}
    )
    assert _by_channel(sm.attribute(events=events, orders=orders)) == {"search": 1.0}


# ---------------------------------------------------------------- results and flags


def test_result_table_meta_and_compare() -> None:
    res = sm.attribute(HAND, model="linear")
    t = res.to_pandas()
    assert list(t.columns) == ["channel", "conversions", "share", "value", "value_share"]
    assert t["share"].sum() == pytest.approx(1.0)
    assert t["conversions"].is_monotonic_decreasing
    assert res.meta["model"] == "linear"
    assert res.meta["window_days"] == 7
    assert "linear" in res.definition
    assert isinstance(res, sm.AttributionResult)
    cmp = res.compare(["last_click", "linear"])
    assert isinstance(cmp, sm.AttributionComparison)
    direct = sm.compare_attribution(HAND, models=["last_click", "linear"]).to_pandas()
    pd.testing.assert_frame_equal(cmp.to_pandas(), direct)
    share = res.compare(what="share").to_pandas()
    for m in MODELS:
        assert share[m].sum() == pytest.approx(1.0)
    assert "| Channel |" in res.to_markdown()
    assert "%" in res.to_markdown()  # shares shown as percentages
    assert '"model": "linear"' in res.to_json()


def test_markov_without_nulls_is_flagged() -> None:
    res = sm.attribute(HAND, model="markov")
    assert any(f.code == "markov_no_nulls" for f in res.flags)
    assert res.to_pandas()["conversions"].sum() == pytest.approx(5.0)


def test_small_sample_flag() -> None:
    res = sm.attribute(HAND)
    assert any(f.code == "small_sample" for f in res.flags)
    with sm.config_context(min_sample=0):
        assert not any(f.code == "small_sample" for f in sm.attribute(HAND).flags)


def test_no_conversions_gives_nan_shares_and_a_flag() -> None:
    paths = pd.DataFrame({"path": ["a > b"], "conversions": [0], "nulls": [3]})
    res = sm.attribute(paths, model="markov")
    assert res.to_pandas()["conversions"].sum() == 0
    assert math.isnan(res.meta["conversion_probability"]) or res.meta["conversion_probability"] == 0
    assert any(f.code == "no_conversions" for f in res.flags)


def test_empty_paths_are_counted_not_dropped() -> None:
    paths = pd.DataFrame({"path": ["a", "", None], "conversions": [2, 1, 3]})
    res = sm.attribute(paths)
    assert _by_channel(res) == {"a": 2.0}
    (ex,) = res.audit.excluded
    assert (ex.reason, ex.rows) == ("empty path", 2)
    assert any(f.code == "unattributed_conversions" for f in res.flags)


# ---------------------------------------------------------------- errors


def test_errors_name_the_way_out() -> None:
    with pytest.raises(DefinitionError, match="last_click"):
        sm.attribute(HAND, model="last_clik")
    with pytest.raises(DefinitionError, match="summing to 1"):
        sm.attribute(HAND, model="position_based", weights=(0.5, 0.5, 0.5))
    with pytest.raises(DefinitionError, match="window_days"):
        sm.attribute(HAND, window_days=0)
    with pytest.raises(DefinitionError, match="order"):
        sm.attribute(HAND, model="markov", order=0)
    no_ages = HAND.drop(columns=["days_before"])
    with pytest.raises(DefinitionError, match="days_before"):
        sm.attribute(no_ages, model="time_decay")
    assert "time_decay" not in sm.compare_attribution(no_ages).to_pandas().columns
    with pytest.raises(ShopmetricsError, match="either paths or events"):
        sm.attribute(HAND, events=HAND)
    with pytest.raises(ShopmetricsError, match="orders"):
        sm.attribute(events=_shop()[0])
    with pytest.raises(SchemaError, match="non-negative"):
        sm.attribute(pd.DataFrame({"path": ["a"], "conversions": [-1]}))
    with pytest.raises(SchemaError, match="days_before"):
        sm.attribute(pd.DataFrame({"path": ["a > b"], "conversions": [1], "days_before": ["1"]}))
    with pytest.raises(SchemaError, match="empty channel"):
        sm.attribute(pd.DataFrame({"path": ["a >> b"], "conversions": [1]}))
    events, orders = _shop()
    with pytest.raises(ColumnNotFoundError, match="campaign"):
        sm.attribute(events=events, orders=orders, channel="campaign")
    with pytest.raises(DefinitionError, match="touch"):
        sm.attribute(events=events, orders=orders, touch="visit")


@pytest.fixture(scope="module")
def small_store() -> sm.datasets.Store:
    """A three-week demo store (with its traps) — quicker than the session ``store``."""
    return sm.datasets.make_store(seed=3, days=21, products=40, visitors_per_day=600)


def test_demo_store_against_a_pandas_reimplementation(small_store: sm.datasets.Store) -> None:
    # Second implementation of the journeys in plain pandas (sessions as touches, 7-day
    # window, after the buyer's previous order), then last and first click by sorting.
    events, orders = small_store.events, small_store.orders
    ev = events[events["event"].isin(["visit", "click"])]
    touches = ev.groupby(["visitor_id", "session_id", "source"], as_index=False)["ts"].min()
    od = orders.groupby("order_id", as_index=False).agg(
        buyer_id=("buyer_id", "first"), created_at=("created_at", "min"), amount=("amount", "sum")
    )
    times = od[["buyer_id", "created_at"]].drop_duplicates().sort_values(["buyer_id", "created_at"])
    times["prev"] = times.groupby("buyer_id")["created_at"].shift()
    od = od.merge(times, on=["buyer_id", "created_at"])
    j = od.merge(touches, left_on="buyer_id", right_on="visitor_id")
    j = j[
        (j["ts"] <= j["created_at"])
        & (j["ts"] >= j["created_at"] - pd.Timedelta(days=7))
        & (j["prev"].isna() | (j["ts"] > j["prev"]))
    ].sort_values(["order_id", "ts", "source"])
    res = sm.attribute(events=events, orders=orders)
    for model, pick in (
        ("last_click", j.groupby("order_id").tail(1)),
        ("first_click", j.groupby("order_id").head(1)),
    ):
        got = (
            res
            if model == "last_click"
            else sm.attribute(events=events, orders=orders, model=model)
        )
        assert _by_channel(got) == _approx(pick["source"].value_counts().astype(float).to_dict())
        assert _by_channel(got, "value") == _approx(
            pick.groupby("source")["amount"].sum().to_dict(), rel=1e-9
        )
    n_orders = orders["order_id"].nunique()
    assert res.meta["orders_without_touch"] == n_orders - j["order_id"].nunique()
    assert res.meta["orders"] == n_orders
    assert res.meta["total_value"] + res.meta["value_without_touch"] == pytest.approx(
        float(orders["amount"].sum())
    )
    # every model hands out exactly the attributed orders
    cmp = res.compare().to_pandas()
    for m in MODELS:
        assert cmp[m].sum() == pytest.approx(res.meta["total_conversions"])


def test_campaign_channel_keeps_organic_touches() -> None:
    """A buyer clicks a paid campaign, then comes back through organic search and buys:
    under last click the order is the organic touch's, not the campaign's (issue 19)."""
    ts = pd.Timestamp("2026-10-05 10:00")
    events = pd.DataFrame(
        {
            "ts": [ts, ts + pd.Timedelta(hours=2), ts, ts + pd.Timedelta(hours=1)],
            "visitor_id": ["u1", "u1", "u2", "u2"],
            "event": ["click", "visit", "visit", "click"],
            "source": ["paid_search", "search", "search", "paid_search"],
            "campaign": ["ztc_brand", None, None, "ztc_brand"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "buyer_id": ["u1", "u2"],
            "created_at": [ts + pd.Timedelta(hours=3)] * 2,
            "amount": [30.0, 50.0],
        }
    )
    res = sm.attribute(events=events, orders=orders, channel="campaign")
    assert _by_channel(res) == _approx({"(no campaign)": 1.0, "ztc_brand": 1.0})
    value = res.to_pandas().set_index("channel")["value"]
    assert value.to_dict() == _approx({"(no campaign)": 30.0, "ztc_brand": 50.0})
    assert not res.audit.excluded  # the organic touches are kept, not excluded
    linear = _by_channel(
        sm.attribute(events=events, orders=orders, channel="campaign", model="linear")
    )
    assert linear == _approx({"(no campaign)": 1.0, "ztc_brand": 1.0})


def test_campaign_credit_matches_the_true_last_touch(small_store: sm.datasets.Store) -> None:
    """On the demo store, campaigns are credited exactly the orders whose last touch came
    through a paid source (every paid touch has a campaign, no organic one has): the
    truth read by source."""
    events, orders = small_store.events, small_store.orders
    assert events.loc[events["source"].isin(["paid_search", "display"]), "campaign"].notna().all()
    assert events.loc[~events["source"].isin(["paid_search", "display"]), "campaign"].isna().all()
    by_source = _by_channel(sm.attribute(events=events, orders=orders))
    by_campaign = _by_channel(sm.attribute(events=events, orders=orders, channel="campaign"))
    paid = by_source.get("paid_search", 0.0) + by_source.get("display", 0.0)
    campaigns = sum(v for k, v in by_campaign.items() if k != "(no campaign)")
    assert campaigns == pytest.approx(paid)
    assert by_campaign["(no campaign)"] == pytest.approx(sum(by_source.values()) - paid)
