"""Fitted statistical models, free of tables and engines: numpy arrays in, estimates out.

Modules:
    buy_till_you_die: BG/NBD, Pareto/NBD and Gamma-Gamma likelihoods, expectations and fitting.
    heuristics: the rule-based attribution credits (last / first click, linear, time decay,
        position based).
    markov: absorbing Markov chains of customer journeys and exact removal effects;
        the journeys every attribution model reads.
    stl: the seasonal-trend decomposition and robust band behind anomaly detection.
"""
