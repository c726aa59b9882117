"""Unique counts are never added across sources or days (issue 19).

Every public figure of visitors or buyers at a coarser grain than the groups a function
counts (the store total over sources or products, a week over its days, a month over its
weeks) is checked against a distinct count computed here, independently, in pandas on
the demo store. Where a figure can only be a sum (a daily export has no visitor ids), it
must say so with a flag.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

import shopmetrics as sm
from shopmetrics.flags.funnel import total_change_se
from shopmetrics.schema import UNIQUE_COUNTS


def _week(ts: pd.Series) -> pd.Series:
    iso = ts.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m")


@pytest.fixture(scope="module")
def distinct(store: sm.datasets.Store) -> dict[str, pd.Series]:
    """Distinct visitors (with a visit) and paid buyers per week and per month, by hand."""
    visits = store.events[store.events["event"] == "visit"]
    paid = store.orders[store.orders["paid_at"].notna()]
    return {
        "visitors_W": visits.groupby(_week(visits["ts"]))["visitor_id"].nunique(),
        "visitors_M": visits.groupby(_month(visits["ts"]))["visitor_id"].nunique(),
        "paid_buyers_W": paid.groupby(_week(paid["paid_at"]))["buyer_id"].nunique(),
        "paid_buyers_M": paid.groupby(_month(paid["paid_at"]))["buyer_id"].nunique(),
    }


def _check(table: pd.DataFrame, distinct: dict[str, pd.Series], freq: str, what: str) -> None:
    t = table.set_index("period")
    for col in ("visitors", "paid_buyers"):
        if col not in t.columns:
            continue
        want = distinct[f"{col}_{freq}"].reindex(t.index).fillna(0)
        np.testing.assert_array_equal(
            t[col].to_numpy(int), want.to_numpy(int), err_msg=f"{what}: {col}"
        )


@pytest.mark.parametrize("freq", ["W", "M"])
def test_funnel_store_total_of_days(
    store: sm.datasets.Store, distinct: dict[str, pd.Series], freq: str
) -> None:
    # a week (a month) of daily scans: visitors who came on several days count once
    got = sm.funnel(store.events, store.orders, freq=freq, detect=False).to_pandas()
    _check(got, distinct, freq, f"funnel freq={freq}")
    # and the sum over days would be larger: the check can fail
    daily = sm.funnel(store.events, store.orders, freq="D", detect=False).to_pandas()
    assert daily["visitors"].sum() > got["visitors"].sum()


@pytest.mark.parametrize("by", ["source", "product_id", "device"])
def test_funnel_total_row_over_groups(
    store: sm.datasets.Store, distinct: dict[str, pd.Series], by: str
) -> None:
    got = sm.funnel(store.events, store.orders, by=by, freq="W", total=True, detect=False)
    t = got.to_pandas()
    total = t[t[by] == "(all)"]
    _check(total, distinct, "W", f"funnel by={by} (all) row")
    groups = t[t[by] != "(all)"].groupby("period")["visitors"].sum()
    summed = groups.reindex(total["period"]).to_numpy()
    assert (summed >= total["visitors"].to_numpy()).all()
    if by != "device":  # one device per visitor in the demo: the others overlap
        assert (summed > total["visitors"].to_numpy()).any()  # the check can fail


def test_visitor_value_store_total(
    store: sm.datasets.Store, distinct: dict[str, pd.Series]
) -> None:
    got = sm.visitor_value(store.events, store.orders, freq="W", detect=False).to_pandas()
    _check(got, distinct, "W", "visitor_value freq=W")


def test_repurchase_buyers_per_period(
    store: sm.datasets.Store, distinct: dict[str, pd.Series]
) -> None:
    for freq in ("W", "M"):
        got = sm.repurchase(store.orders, freq=freq, min_history=0)
        _check(got, distinct, freq, f"repurchase freq={freq}")


def test_cohort_sizes_count_each_buyer_once(store: sm.datasets.Store) -> None:
    c = sm.cohorts(store.orders)
    paid = store.orders[store.orders["paid_at"].notna()]
    assert c.loc[c["months_since"] == 0, "buyers"].sum() == paid["buyer_id"].nunique()
    # buyers per calendar month, over the cohorts: distinct buyers of that month
    c["month"] = pd.PeriodIndex(c["cohort"], freq="M") + c["months_since"]
    per_month = c.groupby(c["month"].astype(str))["buyers"].sum()
    want = paid.groupby(_month(paid["paid_at"]))["buyer_id"].nunique()
    pd.testing.assert_series_equal(per_month, want, check_names=False)


def test_experiment_units_are_distinct_visitors(store: sm.datasets.Store) -> None:
    ev = store.events.assign(image=np.where(store.events["visitor_id"].str[-1] < "5", "A", "B"))
    res = sm.ctr_test(ev, variant="image", control="A").to_pandas().iloc[0]
    exposed = ev[ev["event"] == "exposure"].groupby("image")["visitor_id"].nunique()
    assert res["visitors"] == exposed["B"]
    assert res["control_visitors"] == exposed["A"]


def test_a_daily_export_summed_over_days_says_so(store: sm.datasets.Store) -> None:
    # a 生意参谋 daily export has no visitor ids: a weekly figure from it can only be a sum
    got = sm.funnel(traffic=store.traffic, freq="W")
    assert "summed_uniques" in {f.code for f in got.flags}


# --- the mix shift's noise, the decomposition's total -------------------------------


@pytest.fixture(scope="module")
def by_source(store: sm.datasets.Store) -> sm.FunnelResult:
    return sm.funnel(store.events, store.orders, by="source", freq="W", total=True)


def test_mix_shift_se_is_the_two_proportion_se_of_distinct_counts(
    by_source: sm.FunnelResult, distinct: dict[str, pd.Series]
) -> None:
    prev, cur = "2026-W46", "2026-W47"
    got = total_change_se(by_source.table, "source", prev, cur)
    assert got is not None
    se, base = got
    assert base == "visitors"
    # statsmodels' pooled two-proportion z test on the distinct counts counted here:
    # z = (p1 - p0) / se_pooled, so se_pooled = |p1 - p0| / |z|
    v = distinct["visitors_W"][[cur, prev]].to_numpy()
    b = distinct["paid_buyers_W"][[cur, prev]].to_numpy()
    z, _ = proportions_ztest(b, v)
    assert se == pytest.approx(abs(b[0] / v[0] - b[1] / v[1]) / abs(z), rel=1e-9)
    flag = next(f for f in by_source.flags if f.code == "mix_shift")  # the planted shift
    assert flag.evidence["se_total_change"] == pytest.approx(se, rel=1e-12)
    assert flag.evidence["se_base"] == "visitors"
    # without the (all) rows the segments are added, and the base says so
    seg = by_source.table[by_source.table["source"] != "(all)"]
    se_pairs, base_pairs = total_change_se(seg, "source", prev, cur) or (0.0, "")
    assert base_pairs == "source_visits"
    assert se_pairs < se  # visitors counted once per source: more of them, less noise


def test_mix_decomposition_total_is_the_store_rate(
    by_source: sm.FunnelResult, distinct: dict[str, pd.Series]
) -> None:
    prev, cur = "2026-W46", "2026-W47"
    d = sm.mix_decomposition(by_source.table, "source", prev, cur)
    assert d.attrs["base"] == "visitors"
    total = d[d["source"] == "(total)"].iloc[0]
    want = distinct["paid_buyers_W"] / distinct["visitors_W"]
    assert total["rate_prev"] == pytest.approx(want[prev], rel=1e-12)
    assert total["rate_cur"] == pytest.approx(want[cur], rel=1e-12)
    parts = total["mix_effect"] + total["rate_effect"] + total["overlap_effect"]
    assert parts == pytest.approx(want[cur] - want[prev], rel=1e-9)
    # the source visits' pooled rate + the overlap line = the store's rate
    seg = d[~d["source"].isin(["(total)", "(overlap)"])]
    overlap = d[d["source"] == "(overlap)"].iloc[0]
    pooled = (seg["share_cur"] * seg["rate_cur"]).sum()
    assert pooled + overlap["rate_cur"] == pytest.approx(want[cur], rel=1e-9)
    # without distinct counts the total is the source visits' rate, and says so
    bare = sm.mix_decomposition(by_source.table[by_source.table["source"] != "(all)"], "source",
                                prev, cur)  # fmt: skip
    assert bare.attrs["base"] == "source_visits"
    assert bare.iloc[-1]["rate_cur"] == pytest.approx(pooled, rel=1e-9)


# --- the daily-mean definition ---------------------------------------------------------


@pytest.mark.parametrize("freq", ["W", "M"])
def test_daily_mean_counts_are_mean_daily_uniques(store: sm.datasets.Store, freq: str) -> None:
    got = sm.funnel(store.events, store.orders, freq=freq, definition="daily_mean", detect=False)
    t = got.to_pandas().set_index("period")
    assert not set(UNIQUE_COUNTS) & set(t.columns)  # no sum of daily uniques is shown
    # by hand: distinct visitors (paid buyers) of each day, summed over the period's days
    # and divided by its days with data: any event or order (the demo's tracking gap is a
    # day with orders and no visits: a day of 0 visitors, not a day left out)
    visits = store.events[store.events["event"] == "visit"]
    paid = store.orders[store.orders["paid_at"].notna()]
    period = _week if freq == "W" else _month
    vday = visits.groupby(visits["ts"].dt.normalize())["visitor_id"].nunique()
    bday = paid.groupby(paid["paid_at"].dt.normalize())["buyer_id"].nunique()
    seen = pd.concat(
        [store.events["ts"], store.orders["created_at"], paid["paid_at"]]
    ).dt.normalize()
    seen = pd.Series(seen.unique())
    days = seen.groupby(period(seen)).size()
    for col, daily in (("visitors", vday), ("paid_buyers", bday)):
        want = daily.groupby(period(daily.index.to_series())).sum() / days
        np.testing.assert_allclose(
            t[f"{col}_daily_mean"].to_numpy(), want.reindex(t.index).to_numpy(), rtol=1e-12
        )
    np.testing.assert_array_equal(t["days"].to_numpy(), days.reindex(t.index).to_numpy())
    # the mean daily count is below the period's distinct count, which is below the sum
    pooled = sm.funnel(store.events, store.orders, freq=freq, detect=False).to_pandas()
    assert (t["visitors_daily_mean"].to_numpy() < pooled["visitors"].to_numpy()).all()


def test_daily_mean_has_no_pooled_counts_to_shrink(store: sm.datasets.Store) -> None:
    with pytest.raises(sm.DefinitionError, match="shrink=True needs pooled counts"):
        sm.funnel(store.events, freq="W", by="source", definition="daily_mean", shrink=True)


# --- the guard: no unique count summed over groups in the source ------------------------

UNIQUES = (*UNIQUE_COUNTS, "deposit_buyers", "buyers", "cart_buyers", "attributed_buyers",
           "old_buyers")  # fmt: skip
"""Columns that are distinct counts (schema.UNIQUE_COUNTS and the other buyer counts)."""

_UNIQUE = re.compile(
    r"\b(" + "|".join(UNIQUES) + r")(_prev|_cur)?\b"  # a unique-count column
    r"|\{(num|den|buyers)\}"  # a rate's numerator / denominator named in an f-string
    r"|UNIQUE_COUNTS|\bunique\b"
)

ALLOWED: dict[tuple[str, str], str] = {
    ("stats/mix.py", "mix_decomposition"): "source visits: the shares' base, labelled "
    "attrs['base'], reconciled to the distinct count by the (overlap) row",
    ("stats/mix.py", "value_shift_share"): "source visits, as mix_decomposition",
    ("flags/funnel.py", "total_change_se"): "fallback without distinct counts, labelled "
    "se_base='source_visits'",
    ("funnel.py", "_daily_mean"): "the additive counts only (the unique ones are excluded "
    "and divided by the days)",
    ("report/figures.py", "mix_table"): "buyers credited to sources; the remainder to the "
    "store's distinct buyers is the (not credited to one source) row",
    ("report/figures.py", "value_table"): "paid amounts (additive) of a table that has visitors",
    ("report/corrected.py", "_store_rows"): "one row per period (count_orders by=[])",
    ("engine/experiments.py", "impression_sums"): "visitors of one variant in disjoint "
    "cells (mixed / exposed), each visitor in one cell",
    ("traffic.py", "free_vs_paid"): "credited buyers under a model (credits sum to one per "
    "order); the distinct ones come from meta['buyers_by_kind']",
    ("activity_buyers.py", "_group_stats"): "refunds of distinct orders, not a unique count",
}
"""Reviewed places where a ``.sum()`` touches a unique-count name, each with its reason."""


def _sums_of_uniques() -> set[tuple[str, str]]:
    """(module, function) of every ``.sum()`` whose receiver names a unique count, directly
    or through a name assigned from one in the same function."""
    pkg = Path(sm.__file__).resolve().parent
    found: set[tuple[str, str]] = set()
    for path in sorted(pkg.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assigned = {
                t.id: ast.get_source_segment(src, a.value) or ""
                for a in ast.walk(fn)
                if isinstance(a, ast.Assign)
                for target in a.targets
                for t in (target.elts if isinstance(target, ast.Tuple) else [target])
                if isinstance(t, ast.Name)
            }
            for call in ast.walk(fn):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in ("sum", "cumsum")
                ):
                    continue
                recv = call.func.value
                names = {n.id for n in ast.walk(recv) if isinstance(n, ast.Name)}
                text = " ".join(
                    [ast.get_source_segment(src, recv) or "", *(assigned.get(n, "") for n in names)]
                )
                if _UNIQUE.search(text):
                    found.add((path.relative_to(pkg).as_posix(), fn.name))
    return found


def test_no_unique_count_is_summed_over_groups_outside_the_reviewed_places() -> None:
    found = _sums_of_uniques()
    new = sorted(found - set(ALLOWED))
    assert not new, (
        f"{new} add a unique count (visitors, buyers ...) with .sum(): a visitor of two "
        "groups or days is counted twice. Recount the distinct units at the coarser grain, "
        "or label the figure's base and add the place to ALLOWED with the reason"
    )
    stale = sorted(set(ALLOWED) - found)
    assert not stale, f"{stale} no longer sum a unique count: remove them from ALLOWED"


def test_the_guard_can_fail(tmp_path: Path) -> None:
    code = "def f(t):\n    return t.groupby('source')['visitors'].sum()\n"
    assert _UNIQUE.search(code)
    assert not _UNIQUE.search("t.groupby('source')['paid_amount'].sum()")
