"""Statistics on small aggregates, vectorised over groups; NaN, never an exception.

Modules:
    intervals: proportion, mean and ratio intervals (Wilson, Jeffreys, exact, delta method).
    aggregates: :class:`~shopmetrics.stats.aggregates.Aggregates`, the one mergeable
        aggregate type (counts, sums, sums of squares and products) behind means,
        variances and ratio metrics.
    twosample: two-sample tests and intervals (proportions, rates, sample-ratio mismatch).
    power: power and sample size for two proportions.
    sequential: always-valid p-values and confidence sequences.
    shrinkage: empirical-Bayes shrinkage toward a beta-binomial prior.
    multiplicity: multiple-testing corrections.
    common: helpers shared by the modules above.
"""
