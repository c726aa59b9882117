"""Flags: the record of a misleading figure (or a validation problem) and its detectors.

Modules:
    finding: :class:`Flag`, the one record, and its ordering.
    registry: :func:`~shopmetrics.flags.registry.detect_funnel`, which detectors run
        for a funnel (the list of them, with what each finds, is in its docstring).
    funnel: detectors reading the funnel's own table (small samples, impossible
        rates, summed uniques of an export, traffic mix shifts).
    events: detectors reading the events (tracking gaps, bot traffic).
    orders: detectors reading the orders (presale payment timing, order brushing,
        immature periods).
    spend: traffic sources' flags on spend (an "ROI" column that is ROAS, spend
        without traffic and traffic without spend).
    value: visitor value's flags (refunds, one dominant buyer, cents among yuan).
    customers: customer-value fits (convergence, imprecise or missing standard errors,
        few repeat buyers, the Gamma-Gamma assumptions, holdout mismatch).
    experiments: A/B tests (sample-ratio mismatch, contaminated visitors, low power).
    journeys: the flags of attribution journeys (orders without a touch in the window,
        conversions on empty paths, too few conversions, a Markov chain without nulls).

Examples:
    >>> from shopmetrics.flags import Flag
    >>> Flag("small_sample", "info", "12 visitors").severity
    'info'
"""

from shopmetrics.flags.finding import Flag

__all__ = ["Flag"]
