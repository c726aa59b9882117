"""A/B tests (横向测试) of creatives, titles and prices: from counts or from raw events.

:func:`ab_test` compares every variant with the control on a conversion rate: the
difference with Newcombe's hybrid score interval, the ratio (relative lift + 1) with the
Miettinen-Nurminen score interval, a p-value from the pooled score z test (Fisher's exact
test when any expected cell is below 5), a multiple-testing correction across variants
(Holm by default), a sample-ratio-mismatch check of the split, the power the test had,
and, for people who look every day, always-valid p-values (mixture SPRT).
:func:`ab_sample_size` says how many visitors a test needs before it starts.

The statistics live in :mod:`shopmetrics.stats` (two-sample tests, power, sequential
tests, multiplicity) and are vectorised over groups, so period comparisons
(``sm.compare``) reuse them. Raw events are counted per variant and day in
:mod:`shopmetrics.engine.experiments`; the split and sample checks are the detectors of
:mod:`shopmetrics.flags.experiments`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics.config import CORRECTIONS, get_config
from shopmetrics.engine import records_collects
from shopmetrics.engine.experiments import VariantCounts, count_variants
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags.experiments import (
    SRM_THRESHOLD,
    sample_ratio_mismatch,
    small_samples,
    underpowered,
    variant_contamination,
)
from shopmetrics.flags.finding import sort_flags
from shopmetrics.results import Audit, Result
from shopmetrics.stats import common, twosample
from shopmetrics.stats import power as stats_power
from shopmetrics.stats.intervals import proportion_ci, rate
from shopmetrics.stats.multiplicity import adjust_pvalues
from shopmetrics.stats.sequential import running_always_valid

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SRM_THRESHOLD",  # re-exported from flags.experiments
    "ABTestResult",
    "SampleSizeResult",
    "ab_sample_size",
    "ab_test",
]

logger = logging.getLogger(__name__)

SEQUENTIAL_METHODS: tuple[str, ...] = ("always-valid",)

COLUMNS: tuple[str, ...] = (
    "variant", "successes", "trials", "rate", "rate_ci_low", "rate_ci_high",
    "control_successes", "control_trials", "control_rate",
    "diff", "diff_ci_low", "diff_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high",
    "p_value", "p_adjusted", "significant", "test", "power",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, repr=False)
class ABTestResult(Result):
    """The result of :func:`ab_test`: one row per non-control variant.

    Columns: ``variant``, ``successes``, ``trials``, ``rate`` (with ``rate_ci_low`` /
    ``rate_ci_high``, Wilson), ``control_successes``, ``control_trials``, ``control_rate``,
    ``diff`` = rate - control_rate (``diff_ci_low`` / ``diff_ci_high``), ``ratio`` =
    rate / control_rate (``ratio_ci_low`` / ``ratio_ci_high``), ``p_value``,
    ``p_adjusted`` (after the multiple-testing correction across variants), ``significant``
    (``p_adjusted < alpha``), ``test`` (the test behind the p-value) and ``power``.

    How each treatment variant is compared with the control:

    - ``diff``: Newcombe's hybrid score interval (Newcombe 1998, method 10);
    - ``ratio``: Miettinen-Nurminen score interval (defined with 0 successes);
    - ``p_value``: pooled score z test, or Fisher's exact test when any expected cell of the
      2x2 table is below 5 (``test="auto"``; force ``"score"`` or ``"fisher"``);
    - ``p_adjusted``: corrected across the treatment variants (``correction``: Holm by
      default, ``"bh"`` or ``"none"``); ``significant`` is ``p_adjusted < alpha``.
      Intervals are per comparison (not adjusted for multiplicity).
    - ``power``: the power the test had, with these trials, to detect a relative lift of
      ``power_lift`` (when not given: the observed difference, which says no more than
      the p-value does).

    Attributes:
        looks: For sequential tests, the history: one row per look and variant with the
            cumulative counts, the always-valid p-value and the confidence sequence
            (``None`` for fixed-horizon tests).
    """

    looks: pd.DataFrame | None = None

    kind = "ab_test"

    @property
    def control(self) -> Any:
        """The control variant's label."""
        return self.meta.get("control")

    @property
    def srm_p_value(self) -> float:
        """p-value of the sample-ratio-mismatch check (NaN with one arm or no trials)."""
        return float(self.meta.get("srm_p_value", math.nan))

    def display_columns(self) -> Sequence[str]:
        """The columns people read first."""
        return [
            "variant", "trials", "rate", "control_rate", "diff", "diff_ci_low",
            "diff_ci_high", "ratio", "p_adjusted", "significant",
        ]  # fmt: skip


@dataclasses.dataclass(frozen=True, repr=False)
class SampleSizeResult(Result):
    """The result of :func:`ab_sample_size`: one row per (baseline, lift) asked for.

    Columns: ``baseline``, ``target``, ``lift`` (relative), ``alpha``, ``power``,
    ``ratio`` (treatment / control size), ``n_control``, ``n_treatment``, ``n_total``
    (rounded up), ``days`` (when ``daily_trials`` is given) and ``method``.
    """

    kind = "sample_size"

    def _one(self, col: str) -> int:
        if len(self.table) != 1:
            msg = f"this result has {len(self.table)} rows; read the {col!r} column instead"
            raise ShopmetricsError(msg)
        return int(self.table[col].iloc[0])

    @property
    def n_control(self) -> int:
        """Trials needed in the control (single-row results)."""
        return self._one("n_control")

    @property
    def n_treatment(self) -> int:
        """Trials needed in each treatment variant (single-row results)."""
        return self._one("n_treatment")

    @property
    def n_total(self) -> int:
        """Trials needed in total for one control and one treatment (single-row results)."""
        return self._one("n_total")


# ---------------------------------------------------------------- sample size


def ab_sample_size(
    baseline: Any,
    lift: Any,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    *,
    relative: bool = True,
    alternative: str = "two-sided",
    method: str = "pooled",
    daily_trials: float | None = None,
) -> SampleSizeResult:
    """Trials per variant a two-proportion A/B test needs to detect a lift.

    Args:
        baseline: The control's conversion rate (e.g. 0.03), or an array of them.
        lift: The smallest lift worth detecting: relative (0.1 = +10 %, the default) or,
            with ``relative=False``, absolute (0.003 = +0.3 percentage points). Arrays
            broadcast against ``baseline``.
        alpha: Significance level (two-sided unless ``alternative`` says otherwise). With
            several treatment variants divide it by their number (Bonferroni) to plan for
            the Holm correction :func:`ab_test` applies.
        power: Probability of detecting the lift when it is real.
        ratio: Treatment size / control size.
        relative: Whether ``lift`` is relative.
        alternative: ``"two-sided"``, ``"greater"`` or ``"less"``.
        method: ``"pooled"`` (default: Fleiss, Levin & Paik 2003, eq. 4.14, as R's
            ``power.prop.test``) or ``"arcsine"`` (Cohen's h, as statsmodels
            ``NormalIndPower`` with ``proportion_effectsize``).
        daily_trials: Visitors a day entering the test (all variants together); adds a
            ``days`` column.

    Returns:
        A :class:`SampleSizeResult`.

    References:
        Fleiss, J. L., Levin, B. & Paik, M. C. (2003), *Statistical Methods for Rates and
        Proportions*, 3rd ed., section 4.2; Cohen, J. (1988), *Statistical Power Analysis
        for the Behavioral Sciences*, ch. 6.

    Examples:
        R's ``power.prop.test(p1 = .50, p2 = .75, power = .90)`` needs 76.7 per group:

        >>> import shopmetrics as sm
        >>> sm.ab_sample_size(0.5, 0.5, power=0.9).n_control
        77
        >>> size = sm.ab_sample_size(0.03, 0.10, daily_trials=2000)
        >>> size.n_control, size.n_total, int(size.table["days"].iloc[0])
        (53211, 106422, 54)
    """
    import pandas as pd  # noqa: PLC0415 - small result table

    base, lf = np.broadcast_arrays(
        np.atleast_1d(np.asarray(baseline, dtype=np.float64)),
        np.atleast_1d(np.asarray(lift, dtype=np.float64)),
    )
    target = base * (1 + lf) if relative else base + lf
    bad = ~((base > 0) & (base < 1) & (target > 0) & (target < 1) & (lf != 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"cannot size a test from baseline {base[i]!r} and lift {lf[i]!r}: the baseline and "
            f"the target rate ({target[i]!r}) must be strictly between 0 and 1 and differ. "
            "Pass lift as a relative change (0.1 = +10 %) or set relative=False for an "
            "absolute one."
        )
        raise DefinitionError(msg)
    nc, nt = stats_power.sample_size_proportions(
        base, target, alpha=alpha, power=power, ratio=ratio, alternative=alternative, method=method
    )
    n_control = np.ceil(nc - 1e-9).astype(np.int64)
    n_treatment = np.ceil(nt - 1e-9).astype(np.int64)
    table = pd.DataFrame(
        {
            "baseline": base,
            "target": target,
            "lift": lf if relative else target / base - 1,
            "alpha": alpha,
            "power": power,
            "ratio": ratio,
            "n_control": n_control,
            "n_treatment": n_treatment,
            "n_total": n_control + n_treatment,
            "method": method,
        }
    )
    if daily_trials is not None:
        if not daily_trials > 0:
            msg = f"daily_trials must be > 0, got {daily_trials!r}"
            raise DefinitionError(msg)
        table.insert(9, "days", np.ceil((n_control + n_treatment) / daily_trials).astype(np.int64))
    definition = f"two-proportion z test, {alternative}, alpha={alpha}, power={power}; " + (
        "pooled-null / unpooled-alternative normal approximation (Fleiss, Levin & Paik 2003)"
        if method == "pooled"
        else "arcsine effect size (Cohen 1988)"
    )
    meta = {"alpha": alpha, "power": power, "ratio": ratio, "relative": relative,
            "alternative": alternative, "method": method, "daily_trials": daily_trials}  # fmt: skip
    return SampleSizeResult(table=table, definition=definition, meta=meta)


# ---------------------------------------------------------------- the test


@dataclasses.dataclass(frozen=True)
class _Plan:
    """The options of one :func:`ab_test` call, checked."""

    metric: str
    split: Sequence[float] | None
    alternative: str
    correction: str
    alpha: float
    confidence: float
    test: str
    sequential: str | None
    mixing_variance: float | None
    power_lift: float | None
    power_method: str
    min_sample: int


@dataclasses.dataclass(frozen=True)
class _Comparison:
    """Each treatment against the control: estimates, intervals, p-values, the method."""

    diff: Any
    diff_low: Any
    diff_high: Any
    ratio: Any
    ratio_low: Any
    ratio_high: Any
    p_value: Any
    test: Any
    method: str
    looks: pd.DataFrame | None = None


@records_collects
def ab_test(
    successes: Any = None, trials: Any = None, labels: Sequence[Any] | None = None,
    *, events: Any = None, variant: str | None = None, metric: str | None = None,
    trials_event: str = "visit", control: Any = None, columns: Mapping[str, str] | None = None,
    tz: str | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None,
    split: Sequence[float] | None = None, alternative: str = "two-sided",
    correction: str = "holm", alpha: float | None = None, confidence: float | None = None,
    test: str = "auto", sequential: str | None = None, mixing_variance: float | None = None,
    power_lift: float | None = None, power_method: str = "pooled",
) -> ABTestResult:  # fmt: skip
    """Compare variants of a listing (creative, title, price) on a conversion rate.

    Give either per-variant counts (``successes``, ``trials``; the first variant is the
    control) or raw ``events`` with a ``variant`` column. From events, ``trials`` are the
    unique visitors with a ``trials_event`` (default ``"visit"``) and ``successes`` the
    unique visitors among them with a ``metric`` event (``"cart"``, ``"inquiry"``, ...). A
    main-image click test is read on CTR per impression: use :func:`shopmetrics.ctr_test`
    (``metric="click", trials_event="exposure"`` here counts the visitors who clicked at
    least once, which on a list page is nearly all of them). A visitor seen in
    more than one variant is left out of every variant (counted in the audit and flagged:
    the split leaked).

    Each treatment variant is compared with the control: the difference with Newcombe's
    hybrid score interval, the ratio with the Miettinen-Nurminen one, score or Fisher's
    exact p-values corrected across variants (Holm by default), and the power the test
    had; :class:`ABTestResult` says how each column is made.

    The split is checked for a sample ratio mismatch (chi-square goodness of fit of the
    trials per variant against ``split``, equal by default); p < 0.001 flags
    ``sample_ratio_mismatch``: assignment or tracking is broken and the comparison is not
    to be trusted.

    Looking every day and stopping when it is significant inflates false positives. With
    ``sequential="always-valid"`` the p-values are always-valid (mixture SPRT, Johari,
    Pekelis & Walsh 2017) and the difference intervals are confidence sequences: they can
    be read at every look. ``mixing_variance`` (τ²) must then be set in advance, e.g. to
    ``(0.1 * baseline_rate) ** 2`` to be most sensitive to a 10 % lift. Pass the history
    of looks as 2-D cumulative counts (rows = looks, columns = variants), or events (one
    look per day).

    Args:
        successes: Converting units per variant (1-D), or cumulative per look (2-D).
        trials: Units per variant, same shape.
        labels: Variant names (default ``"A"``, ``"B"``, ...).
        events: The ``events`` table (any supported engine), instead of counts.
        variant: The events column holding the variant.
        metric: The conversion event (one of ``schema.EVENT_TYPES``) with events; a label
            with counts (default ``"conversion"``).
        trials_event: The event that makes a visitor a trial.
        control: The control variant (default: the first label; with events the first
            variant in sorted order, stated in the audit notes).
        columns: ``{their_name: canonical_name}`` for the events table.
        tz: The store's time zone (default from config).
        start: Only events at or after this local time.
        end: Only events before this local time.
        split: Planned allocation weights per variant, in the order of the result's
            variants with the control first (default equal).
        alternative: ``"two-sided"``, ``"greater"`` (variant above control) or ``"less"``.
        correction: ``"holm"`` (default), ``"bh"`` or ``"none"``.
        alpha: Significance level (default ``1 - confidence``).
        confidence: Confidence level of the intervals (default from config).
        test: ``"auto"``, ``"score"`` or ``"fisher"``.
        sequential: ``None`` (fixed horizon) or ``"always-valid"``.
        mixing_variance: τ² of the mixture SPRT (required with ``sequential``).
        power_lift: Relative lift the power column is computed for.
        power_method: ``"pooled"`` or ``"arcsine"`` (see :func:`ab_sample_size`).

    Returns:
        An :class:`ABTestResult`.

    Raises:
        ShopmetricsError: counts that are negative or successes above trials, fewer than
            two variants, an unknown control.
        DefinitionError: an unknown option value.

    References:
        Newcombe (1998), Statistics in Medicine 17, 873-890; Miettinen & Nurminen (1985),
        Statistics in Medicine 4, 213-226; Holm (1979), Scand. J. Statist. 6, 65-70;
        Fabijan et al. (2019), "Diagnosing Sample Ratio Mismatch", KDD; Johari, Pekelis &
        Walsh (2017), "Always valid inference", arXiv:1512.04922.

    Examples:
        >>> import shopmetrics as sm
        >>> res = sm.ab_test([120, 150], [4000, 4000], ["old title", "new title"])
        >>> row = res.to_pandas().iloc[0]
        >>> str(row["variant"]), float(row["diff"]), round(float(row["p_value"]), 3)
        ('new title', 0.0075, 0.063)
        >>> bool(row["significant"]), str(row["test"])
        (False, 'score')
    """
    plan = _plan(
        str(metric) if events is not None else metric or "conversion", split, alternative,
        correction, alpha, confidence, test, sequential, mixing_variance, power_lift, power_method,
    )  # fmt: skip
    counts = _counts(
        successes, trials, labels, events, variant, metric, trials_event, control, columns, tz,
        start, end,
    )  # fmt: skip
    return _analyse(counts, plan)


def _plan(
    metric: str,
    split: Sequence[float] | None,
    alternative: str,
    correction: str,
    alpha: float | None,
    confidence: float | None,
    test: str,
    sequential: str | None,
    mixing_variance: float | None,
    power_lift: float | None,
    power_method: str,
) -> _Plan:
    """The options with their defaults from config, checked."""
    cfg = get_config()
    confidence = confidence or cfg.confidence
    alpha = round(1 - confidence, 12) if alpha is None else alpha
    _check_options(alternative, correction, sequential, mixing_variance, alpha)
    return _Plan(
        metric=metric,
        split=split,
        alternative=alternative,
        correction=correction,
        alpha=alpha,
        confidence=confidence,
        test=test,
        sequential=sequential,
        mixing_variance=mixing_variance,
        power_lift=power_lift,
        power_method=power_method,
        min_sample=cfg.min_sample,
    )


def _check_options(
    alternative: str,
    correction: str,
    sequential: str | None,
    mixing_variance: float | None,
    alpha: float,
) -> None:
    common.check_alternative(alternative)
    if correction not in CORRECTIONS:
        raise DefinitionError.unknown("correction", correction, CORRECTIONS)
    if sequential is not None and sequential not in SEQUENTIAL_METHODS:
        raise DefinitionError.unknown("sequential method", sequential, SEQUENTIAL_METHODS)
    if sequential is not None and mixing_variance is None:
        msg = (
            "sequential='always-valid' needs mixing_variance (τ²) fixed before the test starts, "
            "e.g. mixing_variance=(0.1 * baseline_rate) ** 2 to be most sensitive to a 10 % lift"
        )
        raise DefinitionError(msg)
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r}"
        raise DefinitionError(msg)


def _counts(
    successes: Any,
    trials: Any,
    labels: Sequence[Any] | None,
    events: Any,
    variant: str | None,
    metric: str | None,
    trials_event: str,
    control: Any,
    columns: Mapping[str, str] | None,
    tz: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> VariantCounts:
    """The counts per look and variant: given as arrays, or counted from events."""
    if events is None:
        return _counts_from_arrays(successes, trials, labels, control)
    if successes is not None or trials is not None:
        msg = "give either counts (successes, trials) or events, not both"
        raise ShopmetricsError(msg)
    counts = count_variants(
        events,
        variant=variant,
        metric=metric,
        trials_event=trials_event,
        control=control,
        columns=columns,
        tz=tz,
        start=start,
        end=end,
    )
    if metric == "click" and trials_event == "exposure":
        note = (
            "rate = exposed visitors who clicked at least once, not CTR (clicks / exposures): "
            "for a creative test on CTR per impression use sm.ctr_test(events, variant=...)"
        )
        audit = dataclasses.replace(counts.audit, notes=(*counts.audit.notes, note))
        counts = dataclasses.replace(counts, audit=audit)
    return counts


def _counts_from_arrays(
    successes: Any, trials: Any, labels: Sequence[Any] | None, control: Any
) -> VariantCounts:
    if successes is None or trials is None:
        msg = "pass successes and trials per variant (first is the control), or events=..."
        raise ShopmetricsError(msg)
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if x.shape != n.shape or x.ndim not in (1, 2):
        msg = (
            f"successes and trials must have the same 1-D shape (one count per variant) or "
            f"2-D shape (looks x variants); got {x.shape} and {n.shape}"
        )
        raise ShopmetricsError(msg)
    if x.ndim == 1:
        x, n = x[None, :], n[None, :]
    k = x.shape[1]
    names = list(labels) if labels is not None else [chr(ord("A") + i) for i in range(k)]
    if len(names) != k:
        msg = f"got {len(names)} labels for {k} variants"
        raise ShopmetricsError(msg)
    if len(set(map(str, names))) != k:
        msg = f"variant labels must be distinct, got {names}"
        raise ShopmetricsError(msg)
    bad = ~np.isfinite(x) | ~np.isfinite(n) | (x < 0) | (n < 0) | (x > n)
    if bad.any():
        look, j = (int(v) for v in np.argwhere(bad)[0])
        msg = (
            f"variant {names[j]!r}: successes={x[look, j]:g}, trials={n[look, j]:g} is not a count "
            "of converting units out of trials (need 0 <= successes <= trials)"
        )
        raise ShopmetricsError(msg)
    if (np.diff(n, axis=0) < 0).any() or (np.diff(x, axis=0) < 0).any():
        msg = "2-D counts must be cumulative: each look's counts at least the previous look's"
        raise ShopmetricsError(msg)
    if control is not None:
        if control not in names:
            msg = f"control {control!r} is not one of the variants {names}"
            raise ShopmetricsError(msg)
        i = names.index(control)
        order = [i, *(j for j in range(k) if j != i)]
        names = [names[j] for j in order]
        x, n = x[:, order], n[:, order]
    looks = [str(i + 1) for i in range(x.shape[0])]
    return VariantCounts(names, x, n, looks, Audit())


def _analyse(counts: VariantCounts, plan: _Plan) -> ABTestResult:
    """The comparisons, the corrections, the power and the flags, as a result."""
    labels = counts.labels
    k = len(labels)
    if k < 2:
        msg = f"an A/B test needs at least two variants (a control and a treatment), got {labels}"
        raise ShopmetricsError(msg)
    x_all, n_all = counts.successes, counts.trials
    x, n = x_all[-1], n_all[-1]
    flags = variant_contamination(counts.mixed_pairs, counts.mixed_rows, counts.variant)
    notes = list(counts.audit.notes)
    if x_all.shape[0] > 1 and plan.sequential is None:
        notes.append(
            f"fixed-horizon test on the last of {x_all.shape[0]} looks; if you stop when a look "
            "is significant, use sequential='always-valid'"
        )

    # sample ratio mismatch on the final trials
    if plan.split is not None and len(plan.split) != k:
        msg = f"split has {len(plan.split)} weights for {k} variants (control first: {labels})"
        raise ShopmetricsError(msg)
    srm_p = twosample.srm_pvalue(n, plan.split)
    flags.extend(sample_ratio_mismatch(labels, n, plan.split, srm_p))

    if plan.sequential is None:
        cmp = _fixed_horizon(x, n, plan)
    else:
        cmp = _always_valid(counts, plan)
        if plan.alternative != "two-sided":
            notes.append("always-valid p-values are two-sided; alternative is ignored")
    p_adj = adjust_pvalues(cmp.p_value, plan.correction)
    significant = np.where(np.isfinite(p_adj), p_adj < plan.alpha, False)
    power, power_note = _power(x, n, plan)
    table = _table(labels, x, n, cmp, p_adj, significant, power, plan.confidence)
    flags.extend(small_samples(labels, x, n, plan.min_sample))
    if plan.power_lift is not None and plan.sequential is None:
        flags.extend(underpowered(labels, n[1:], n[0], power, significant, plan.power_lift))
    m = int(np.isfinite(cmp.p_value).sum())
    definition = (
        f"{plan.metric} rate, variant vs control {labels[0]!r}: {cmp.method}; {plan.alternative} "
        f"p-values; {plan.correction} correction over {m} comparison{'s' if m != 1 else ''}; "
        f"significant at p_adjusted < {plan.alpha:g}; {power_note}"
    )
    logger.debug("ab_test: %d variants, control %r, srm p=%.3g", k, labels[0], srm_p)
    return ABTestResult(
        table=table,
        flags=sort_flags(flags),
        audit=dataclasses.replace(counts.audit, notes=tuple(notes)),
        definition=definition,
        meta=_meta(labels, plan, srm_p, len(counts.look_labels)),
        looks=cmp.looks,
    )


def _fixed_horizon(x: Any, n: Any, plan: _Plan) -> _Comparison:
    """Newcombe and Miettinen-Nurminen intervals, score (or Fisher's exact) p-values."""
    xt, nt = x[1:], n[1:]
    ctrl = np.full(len(xt), x[0]), np.full(len(xt), n[0])
    diff, ratio = (
        twosample.compare_proportions(
            xt,
            nt,
            *ctrl,
            compare=compare,
            confidence=plan.confidence,
            alternative=plan.alternative,
            test=plan.test,
        )
        for compare in ("diff", "ratio")
    )
    return _Comparison(
        diff=diff.estimate,
        diff_low=diff.low,
        diff_high=diff.high,
        ratio=ratio.estimate,
        ratio_low=ratio.low,
        ratio_high=ratio.high,
        p_value=diff.p_value,
        test=diff.test,
        method=(
            "Newcombe hybrid score interval for the difference; Miettinen-Nurminen score "
            "interval for the ratio; pooled score z test (Fisher's exact test when an "
            f"expected cell < {twosample.EXACT_MIN_EXPECTED:g})"
        ),
    )


def _always_valid(counts: VariantCounts, plan: _Plan) -> _Comparison:
    """Always-valid p-values and confidence sequences at every look (mixture SPRT)."""
    import pandas as pd  # noqa: PLC0415 - small result table

    assert plan.mixing_variance is not None
    x_all, n_all, labels = counts.successes, counts.trials, counts.labels
    k = len(labels)
    xt, nt = x_all[-1, 1:], n_all[-1, 1:]
    p_ctrl = float(rate(x_all[-1, 0], n_all[-1, 0]))
    xc_all = np.repeat(x_all[:, :1], k - 1, axis=1)
    nc_all = np.repeat(n_all[:, :1], k - 1, axis=1)
    pv, lo, hi = running_always_valid(
        x_all[:, 1:],
        n_all[:, 1:],
        xc_all,
        nc_all,
        mixing_variance=plan.mixing_variance,
        confidence=plan.confidence,
    )
    p_value = pv[-1]
    looks = pd.DataFrame(
        {
            "look": np.repeat(counts.look_labels, k - 1),
            "variant": np.tile(np.asarray(labels[1:], dtype=object), len(counts.look_labels)),
            "successes": x_all[:, 1:].ravel(),
            "trials": n_all[:, 1:].ravel(),
            "control_successes": xc_all.ravel(),
            "control_trials": nc_all.ravel(),
            "p_value": pv.ravel(),
            "diff_ci_low": lo.ravel(),
            "diff_ci_high": hi.ravel(),
        }
    )
    return _Comparison(
        diff=rate(xt, nt) - p_ctrl,
        diff_low=lo[-1],
        diff_high=hi[-1],
        ratio=rate(xt, nt) / p_ctrl if p_ctrl > 0 else np.full(k - 1, np.nan),
        ratio_low=np.full(k - 1, np.nan),
        ratio_high=np.full(k - 1, np.nan),
        p_value=p_value,
        test=np.where(np.isfinite(p_value), "msprt", "").astype(np.str_),
        method=(
            f"always-valid inference (mixture SPRT, normal approximation, mixing variance "
            f"{plan.mixing_variance:g}); difference intervals are confidence sequences; no ratio "
            "interval is given in sequential mode"
        ),
        looks=looks,
    )


def _power(x: Any, n: Any, plan: _Plan) -> tuple[Any, str]:
    """The power each comparison had (NaN in sequential mode), and what it is power for."""
    xt, nt = x[1:], n[1:]
    k1 = len(xt)
    p_ctrl = float(rate(x[0], n[0]))
    if plan.power_lift is not None:
        target = np.full(k1, p_ctrl * (1 + plan.power_lift))
        power_note = f"power to detect a {plan.power_lift:+.0%} relative lift"
    else:
        target = rate(xt, nt)
        power_note = "power at the observed difference (says no more than the p-value)"
    power = stats_power.power_proportions(
        np.clip(target, 0, 1), np.full(k1, p_ctrl), nt, np.full(k1, n[0]),
        alpha=plan.alpha, alternative=plan.alternative, method=plan.power_method,
    )  # fmt: skip
    if plan.sequential is not None:
        power = np.full(k1, np.nan)
    return power, power_note


def _table(
    labels: list[Any],
    x: Any,
    n: Any,
    cmp: _Comparison,
    p_adj: Any,
    significant: Any,
    power: Any,
    confidence: float,
) -> pd.DataFrame:
    """One row per treatment variant, in :data:`COLUMNS` order."""
    import pandas as pd  # noqa: PLC0415 - small result table

    k1 = len(labels) - 1
    rate_all = rate(x, n)
    low_r, high_r = proportion_ci(x, n, confidence=confidence)
    return pd.DataFrame(
        {
            "variant": np.asarray(labels[1:], dtype=object),
            "successes": x[1:],
            "trials": n[1:],
            "rate": rate_all[1:],
            "rate_ci_low": low_r[1:],
            "rate_ci_high": high_r[1:],
            "control_successes": np.full(k1, x[0]),
            "control_trials": np.full(k1, n[0]),
            "control_rate": np.full(k1, float(rate(x[0], n[0]))),
            "diff": cmp.diff,
            "diff_ci_low": cmp.diff_low,
            "diff_ci_high": cmp.diff_high,
            "ratio": cmp.ratio,
            "ratio_ci_low": cmp.ratio_low,
            "ratio_ci_high": cmp.ratio_high,
            "p_value": cmp.p_value,
            "p_adjusted": p_adj,
            "significant": significant.astype(bool),
            "test": cmp.test.astype(object),
            "power": power,
        },
        columns=list(COLUMNS),
    )


def _meta(labels: list[Any], plan: _Plan, srm_p: float, looks: int) -> dict[str, Any]:
    return {
        "control": labels[0],
        "variants": list(labels),
        "metric": plan.metric,
        "alternative": plan.alternative,
        "correction": plan.correction,
        "alpha": plan.alpha,
        "confidence": plan.confidence,
        "test": plan.test,
        "sequential": plan.sequential,
        "mixing_variance": plan.mixing_variance,
        "power_lift": plan.power_lift,
        "power_method": plan.power_method,
        "split": list(plan.split) if plan.split is not None else None,
        "srm_p_value": srm_p,
        "looks": looks,
    }
