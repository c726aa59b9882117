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
    detectors: the funnel's detectors under their first address (re-exports).

Examples:
    >>> from shopmetrics.flags import Flag
    >>> Flag("small_sample", "info", "12 visitors").severity
    'info'
"""

from shopmetrics.flags.finding import Flag

__all__ = ["Flag"]
