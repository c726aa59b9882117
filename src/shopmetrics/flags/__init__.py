"""Flags: the record of a misleading figure (or a validation problem) and its detectors.

Modules:
    finding: :class:`Flag`, the one record, and its ordering.
    detectors: the misleading-data detectors of the funnel (presale, bots, brushing,
        tracking gaps, summed uniques, traffic mix, small samples, ...).
    journeys: the flags of attribution journeys (orders without a touch in the window,
        conversions on empty paths, too few conversions, a Markov chain without nulls).

Examples:
    >>> from shopmetrics.flags import Flag
    >>> Flag("small_sample", "info", "12 visitors").severity
    'info'
"""

from shopmetrics.flags.finding import Flag

__all__ = ["Flag"]
