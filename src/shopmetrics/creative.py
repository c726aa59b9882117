"""Creative tests (主图 / 创意测试) on click-through rate per impression, from raw events.

A main-image test is read on CTR: clicks / exposures (点击率 = 点击次数 / 曝光次数), not
on the share of visitors who clicked at least once (on a list page a visitor sees an
image many times, and nearly every visitor clicks something). Impressions are not
independent draws: one visitor sees the image many times and some visitors click far
more than others, so a binomial interval over impressions is too narrow. The unit of
randomisation is the visitor: :func:`ctr_test` counts each visitor's exposures and
clicks in the engine, and reads the CTR of each variant, its interval and the
comparisons with the control from per-visitor sums by the delta method
(:class:`~shopmetrics.stats.aggregates.Aggregates`, Deng, Knoblich & Lu 2018).

Examples:
    >>> import pandas as pd, shopmetrics as sm
    >>> rows = []
    >>> for v, (img, clicks) in enumerate([("A", 1)] * 60 + [("B", 2)] * 60):
    ...     ts = pd.Timestamp("2026-11-16 09:00") + pd.Timedelta(minutes=v)
    ...     rows += [(ts, 10_000 + v, "exposure", img)] * 20
    ...     rows += [(ts + pd.Timedelta(seconds=5), 10_000 + v, "click", img)] * (clicks + v % 3)
    >>> events = pd.DataFrame(rows, columns=["ts", "visitor_id", "event", "image"])
    >>> res = sm.ctr_test(events, variant="image")
    >>> row = res.to_pandas().iloc[0]
    >>> str(row["variant"]), float(row["rate"]), float(row["control_rate"])
    ('B', 0.15, 0.1)
    >>> bool(row["significant"]), str(row["test"])
    (True, 'delta-z')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmetrics import engine
from shopmetrics.config import CORRECTIONS, get_config
from shopmetrics.engine.experiments import SUM_NAMES, impression_sums
from shopmetrics.errors import DefinitionError, ShopmetricsError
from shopmetrics.flags.experiments import sample_ratio_mismatch, variant_contamination
from shopmetrics.flags.finding import sort_flags
from shopmetrics.results import Result
from shopmetrics.stats import common, twosample
from shopmetrics.stats.aggregates import Aggregates, compare_ratios
from shopmetrics.stats.common import z_crit
from shopmetrics.stats.multiplicity import adjust_pvalues

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CtrTestResult", "compare_ctr", "ctr_test"]

COLUMNS: tuple[str, ...] = (
    "variant", "clicks", "exposures", "visitors", "rate", "rate_ci_low", "rate_ci_high",
    "control_clicks", "control_exposures", "control_visitors", "control_rate",
    "diff", "diff_ci_low", "diff_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high",
    "p_value", "p_adjusted", "significant", "test", "design_effect",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, repr=False)
class CtrTestResult(Result):
    """The result of :func:`ctr_test`: one row per non-control variant.

    Columns: ``variant``, ``clicks``, ``exposures``, ``visitors`` (exposed visitors, the
    units), ``rate`` = clicks / exposures (CTR) with ``rate_ci_low`` / ``rate_ci_high``;
    the control's ``control_clicks``, ``control_exposures``, ``control_visitors``,
    ``control_rate``; ``diff`` = rate − control_rate and ``ratio`` = rate / control_rate
    with their intervals; ``p_value`` (delta-method z test), ``p_adjusted`` (across the
    variants), ``significant``, ``test`` and ``design_effect`` (the variance of the CTR
    over the binomial variance of as many independent impressions: how much the
    clustering of impressions within visitors widens the interval).
    """

    kind = "ctr_test"

    @property
    def control(self) -> Any:
        """The control variant's label."""
        return self.meta.get("control")

    def display_columns(self) -> Sequence[str]:
        """The columns people read first."""
        return [
            "variant", "exposures", "rate", "control_rate", "diff", "diff_ci_low",
            "diff_ci_high", "ratio", "p_adjusted", "significant",
        ]  # fmt: skip


@engine.records_collects
def ctr_test(
    events: Any,
    *,
    variant: str,
    control: Any = None,
    click_event: str = "click",
    exposure_event: str = "exposure",
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    split: Sequence[float] | None = None,
    alternative: str = "two-sided",
    correction: str = "holm",
    confidence: float | None = None,
    alpha: float | None = None,
) -> CtrTestResult:
    """Compare the CTR per impression of creatives (main images, titles) with the control.

    Args:
        events: Raw events with a ``variant`` column (any supported engine or a path).
        variant: The events column holding the creative shown.
        control: The control creative (default the first in sorted order, stated in the
            audit notes).
        click_event: The click event (``"click"``).
        exposure_event: The impression event (``"exposure"``).
        columns: ``{their_name: canonical_name}`` for the events table.
        tz: The store's time zone.
        start: Only events at or after this local time.
        end: Only events before this local time.
        split: Planned allocation of visitors per variant, control first (default equal),
            for the sample-ratio-mismatch check.
        alternative: ``"two-sided"``, ``"greater"`` or ``"less"``.
        correction: ``"holm"`` (default), ``"bh"`` or ``"none"``.
        confidence: Confidence level of the intervals (default from config).
        alpha: Significance level (default ``1 - confidence``).

    Returns:
        A :class:`CtrTestResult`.

    Raises:
        ShopmetricsError: no variant column, fewer than two variants with exposures, an
            unknown control.
        DefinitionError: an unknown option value or event name.

    References:
        Deng, Knoblich & Lu (2018), "Applying the Delta Method in Metric Analytics", KDD
        (CTR as a ratio of per-user sums); Holm (1979); Fabijan et al. (2019) for the
        sample ratio mismatch.
    """
    common.check_alternative(alternative)
    if correction not in CORRECTIONS:
        raise DefinitionError.unknown("correction", correction, CORRECTIONS)
    confidence = confidence or get_config().confidence
    alpha = round(1 - confidence, 12) if alpha is None else alpha
    got = impression_sums(
        events, variant=variant, click_event=click_event, exposure_event=exposure_event,
        control=control, columns=columns, tz=tz, start=start, end=end,
    )  # fmt: skip
    labels = got.labels
    if split is not None and len(split) != len(labels):
        msg = f"split has {len(split)} weights for {len(labels)} variants (control first: {labels})"
        raise ShopmetricsError(msg)
    aggs = Aggregates.from_sums(got.sums, list(SUM_NAMES), n="visitors")
    table = compare_ctr(
        aggs, labels, confidence=confidence, alternative=alternative, correction=correction,
        alpha=alpha,
    )  # fmt: skip
    srm_p = twosample.srm_pvalue(aggs.n, split)
    flags = [
        *variant_contamination(got.mixed_pairs, got.mixed_rows, got.variant),
        *sample_ratio_mismatch(labels, aggs.n, split, srm_p),
    ]
    meta = {
        "control": labels[0],
        "variants": list(labels),
        "metric": "ctr",
        "alternative": alternative,
        "correction": correction,
        "alpha": alpha,
        "confidence": confidence,
        "srm_p_value": srm_p,
    }
    definition = (
        f"CTR per impression ({click_event} / {exposure_event}), variant vs control "
        f"{labels[0]!r}: delta-method intervals and z tests on per-visitor sums; "
        f"{alternative} p-values; {correction} correction"
    )
    return CtrTestResult(table, sort_flags(flags), got.audit, definition, meta)


def compare_ctr(
    aggs: Aggregates,
    labels: Sequence[Any],
    *,
    confidence: float,
    alternative: str = "two-sided",
    correction: str = "holm",
    alpha: float | None = None,
) -> pd.DataFrame:
    """CTR per variant and each variant against the first, from per-visitor aggregates.

    ``aggs`` holds one group per variant (the control first): units = visitors, sums
    ``clicks``, ``exposures`` and their products. CTR ``R = Σclicks / Σexposures`` with
    the delta-method variance of a ratio of sums (``Aggregates.ratio``); the difference
    by :func:`~shopmetrics.stats.aggregates.compare_ratios`; the ratio's interval on the
    log scale, ``Var(log R1 − log R0) ≈ Var(R1)/R1² + Var(R0)/R0²``.

    References:
        Deng, Knoblich & Lu (2018), KDD, section 3 (ratio metrics, the delta method).
    """
    import pandas as pd  # noqa: PLC0415 - small result table

    alpha = round(1 - confidence, 12) if alpha is None else alpha
    r, var = aggs.ratio("clicks", "exposures")
    z = z_crit(confidence)
    se = np.sqrt(var)
    k1 = len(labels) - 1
    treat, ctrl = aggs.take(np.arange(1, k1 + 1)), aggs.take(np.zeros(k1, dtype=int))
    diff = compare_ratios(
        treat, ctrl, "clicks", "exposures", confidence=confidence, alternative=alternative
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = r[1:] / r[0]
        se_log = np.sqrt(var[1:] / r[1:] ** 2 + var[0] / r[0] ** 2)
        binomial = r * (1 - r) / aggs.sums["exposures"]
        deff = var / binomial
    p_adj = adjust_pvalues(diff.p_value, correction)
    e, c = aggs.sums["exposures"], aggs.sums["clicks"]
    return pd.DataFrame(
        {
            "variant": np.asarray(list(labels[1:]), dtype=object),
            "clicks": c[1:],
            "exposures": e[1:],
            "visitors": aggs.n[1:],
            "rate": r[1:],
            "rate_ci_low": np.maximum(r[1:] - z * se[1:], 0.0),
            "rate_ci_high": r[1:] + z * se[1:],
            "control_clicks": np.full(k1, c[0]),
            "control_exposures": np.full(k1, e[0]),
            "control_visitors": np.full(k1, aggs.n[0]),
            "control_rate": np.full(k1, r[0]),
            "diff": diff.estimate,
            "diff_ci_low": diff.low,
            "diff_ci_high": diff.high,
            "ratio": ratio,
            "ratio_ci_low": ratio * np.exp(-z * se_log),
            "ratio_ci_high": ratio * np.exp(z * se_log),
            "p_value": diff.p_value,
            "p_adjusted": p_adj,
            "significant": np.where(np.isfinite(p_adj), p_adj < alpha, False).astype(bool),
            "test": np.asarray(diff.test, dtype=object),
            "design_effect": deff[1:],
        },
        columns=list(COLUMNS),
    )
