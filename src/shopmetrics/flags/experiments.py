"""Detectors of A/B tests: a broken split, a leaking assignment, thin or underpowered variants.

Each reads the counts of :func:`shopmetrics.ab.ab_test` (per variant, the control first)
and returns the flags it finds:

- ``sample_ratio_mismatch`` (error): the trials per variant do not match the planned
  split (chi-square goodness of fit, p < :data:`SRM_THRESHOLD`): assignment or tracking
  is broken and the comparison is not to be trusted (Fabijan et al. (2019), "Diagnosing
  Sample Ratio Mismatch", KDD).
- ``variant_contamination`` (warning): visitors seen in more than one variant, left out
  of every variant: the split leaked.
- ``no_trials`` / ``small_sample`` (warning): a variant with no trials, or fewer than
  ``config.min_sample``.
- ``underpowered`` (info): a variant that is not significant although the test had
  little power to detect the lift asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shopmetrics.flags.finding import Flag

SRM_THRESHOLD = 0.001
"""A sample-ratio-mismatch p-value below this flags ``sample_ratio_mismatch``."""


def sample_ratio_mismatch(
    labels: list[Any], n: Any, split: Sequence[float] | None, srm_p: float
) -> list[Flag]:
    """Flag a split whose final trials ``n`` have a mismatch p-value ``srm_p`` below the threshold.

    ``split`` holds the planned weights per variant (``None``: equal).
    """
    if not (np.isfinite(srm_p) and srm_p < SRM_THRESHOLD):
        return []
    k = len(labels)
    planned = np.ones(k) if split is None else np.asarray(split, dtype=np.float64)
    expected = n.sum() * planned / planned.sum()
    observed = dict(zip(map(str, labels), n.astype(int).tolist(), strict=True))
    return [
        Flag(
            code="sample_ratio_mismatch",
            severity="error",
            message=(
                f"the variants' trials {observed} do not match the planned split "
                f"(chi-square p = {srm_p:.2g} < {SRM_THRESHOLD}); assignment or tracking is "
                "broken, so the comparison is not trustworthy: find the cause (bots, "
                "redirects, a variant that fails to log) before reading it"
            ),
            evidence={
                "srm_p_value": srm_p,
                "observed": dict(zip(map(str, labels), n.tolist(), strict=True)),
                "expected": dict(zip(map(str, labels), expected.tolist(), strict=True)),
            },
        )
    ]


def variant_contamination(n_pairs: int, n_rows: int, column: str | None) -> list[Flag]:
    """Flag visitors seen in several variants (``n_pairs`` visitor-variant pairs, ``n_rows`` rows)."""
    if not n_pairs:
        return []
    return [
        Flag(
            code="variant_contamination",
            severity="warning",
            message=(
                f"visitors seen in more than one variant ({n_pairs} visitor-variant pairs) "
                "were left out of every variant; the split leaked (cookies, devices, or "
                "assignment not sticky), so check the assignment before trusting the result"
            ),
            table="events",
            column=column,
            n_rows=n_rows,
            evidence={"visitor_variant_pairs": n_pairs},
        )
    ]


def small_samples(labels: list[Any], x: Any, n: Any, min_sample: int) -> list[Flag]:
    """Flag variants with no trials, or fewer than ``min_sample``."""
    out: list[Flag] = []
    for j, label in enumerate(labels):
        if n[j] == 0:
            out.append(
                Flag(
                    code="no_trials",
                    severity="warning",
                    message=(
                        f"variant {label!r} has no trials: its comparison is NaN; check that the "
                        "variant was live and logged"
                    ),
                    subject={"variant": label},
                    evidence={"trials": 0},
                )
            )
        elif n[j] < min_sample:
            out.append(
                Flag(
                    code="small_sample",
                    severity="warning",
                    message=(
                        f"variant {label!r} rests on {int(n[j])} trials (< min_sample="
                        f"{min_sample}); its interval is wide and the exact test may have been used"
                    ),
                    subject={"variant": label},
                    evidence={"trials": float(n[j]), "successes": float(x[j])},
                )
            )
    return out


def underpowered(
    labels: list[Any], nt: Any, nc: float, power: Any, significant: Any, power_lift: float
) -> list[Flag]:
    """Flag treatments (``labels[1:]``) not significant with power under 80 % at ``power_lift``."""
    return [
        Flag(
            code="underpowered",
            severity="info",
            message=(
                f"{labels[j + 1]!r} is not significant, but with {int(nt[j])} and "
                f"{int(nc)} trials the test had only {power[j]:.0%} power to detect a "
                f"{power_lift:+.0%} lift: no difference was found, which is not the same "
                "as no difference existing; run it longer (see ab_sample_size)"
            ),
            subject={"variant": labels[j + 1]},
            evidence={
                "power": float(power[j]),
                "trials": float(nt[j]),
                "control_trials": float(nc),
            },
        )
        for j in np.flatnonzero(~significant & (power < 0.8))
    ]
