"""Fitted statistical models, free of tables and engines: numpy arrays in, estimates out.

Modules:
    buy_till_you_die: BG/NBD, Pareto/NBD and Gamma-Gamma likelihoods, expectations and fitting.
    markov: absorbing Markov chains of customer journeys and exact removal effects.
    stl: the seasonal-trend decomposition and robust band behind anomaly detection.
"""
