"""shopmetrics: a store's operating numbers from its raw tables, with intervals and honest flags.

Public modules (the metric families):
    funnel: exposures, clicks, visitors, inquiries, carts, orders, payments and their rates
        with intervals (``sm.funnel``).
    dsr: DSR seller ratings under the platform rules, peers, alerts (``sm.dsr``).
    traffic: traffic sources, spend, ROAS / ROI, paid-plan advice (``sm.traffic_sources``).
    visitor_value: visitor value, AOV, repurchase, refunds (``sm.visitor_value``).
    attribution: multi-touch attribution, first/last click to exact Markov (``sm.attribute``).
    clv: customer lifetime value, BG/NBD, Pareto/NBD and Gamma-Gamma (``sm.customer_value``).
    compare: period comparisons, significant movers, mix decomposition (``sm.compare``,
        ``sm.movers``).
    ab: A/B tests with sample-ratio checks, power and always-valid p-values (``sm.ab_test``).
    creative: creative tests on CTR per impression, clustered by visitor (``sm.ctr_test``).
    anomaly: seasonality-aware anomaly detection on daily series (``sm.anomalies``).
    validation: table contracts checked all at once (``sm.validate``).
    report: the weekly report, its sections and renderings (``sm.weekly_report``).

The rest, by concern (docs/architecture.md says what may import what):
    metrics, schema: the metric dictionary and the table contracts in code.
    results, audit, display: result records, their audit, how values are shown.
    engine: the boundary to pandas, pyarrow, polars, DuckDB and PySpark.
    stats, models: statistics and fitted models on small aggregates.
    flags: the Flag record and the misleading-data detectors.
    io: store exports: readers, back-end headers, ``sm.inspect(path)`` (what a file is read as).
    datasets: the demo store with planted traps (``sm.datasets.make_store``).
    config, errors: tunable defaults; the exception and warning tree.

Importing shopmetrics is light: it loads numpy and narwhals; pandas, scipy, statsmodels,
plotting and engine libraries load on first use. Metric functions whose module has the
same name (``funnel``, ``dsr``, ...) are imported eagerly so ``sm.funnel`` is always the
function; everything else loads on first attribute access.

Examples:
    >>> import shopmetrics as sm
    >>> sm.ShopmetricsError.__mro__[1].__name__
    'ValueError'
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from shopmetrics.compare import ComparisonResult, compare
from shopmetrics.config import Config, config_context, get_config
from shopmetrics.dsr import DSRResult, dsr
from shopmetrics.errors import (
    ColumnNotFoundError,
    DataQualityWarning,
    DefinitionError,
    MissingDependencyError,
    SchemaError,
    ShopmetricsError,
    SmallSampleWarning,
    ValidationError,
)
from shopmetrics.funnel import FunnelResult, funnel
from shopmetrics.visitor_value import VisitorValueResult, visitor_value

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it (imported on first attribute access)
_LAZY: dict[str, str] = {
    "validate": "shopmetrics.validation",
    "inspect": "shopmetrics.io.inspect",
    "ValidationReport": "shopmetrics.validation",
    "Flag": "shopmetrics.flags",
    "Audit": "shopmetrics.audit",
    "Result": "shopmetrics.results",
    "CHINESE_COLUMNS": "shopmetrics.schema",
    "TABLES": "shopmetrics.schema",
    "movers": "shopmetrics.compare",
    "mix_decomposition": "shopmetrics.compare",
    "weekly_report": "shopmetrics.report.weekly",
    "traffic_sources": "shopmetrics.traffic",
    "TrafficResult": "shopmetrics.traffic",
    "repurchase": "shopmetrics.visitor_value",
    "cohorts": "shopmetrics.visitor_value",
    "low_ratings": "shopmetrics.dsr",
    "dsr_what_if": "shopmetrics.dsr",
    "LowRatings": "shopmetrics.dsr",
    "WhatIf": "shopmetrics.dsr",
    "attribute": "shopmetrics.attribution",
    "compare_attribution": "shopmetrics.attribution",
    "AttributionResult": "shopmetrics.attribution",
    "AttributionComparison": "shopmetrics.attribution",
    "ab_test": "shopmetrics.ab",
    "ab_sample_size": "shopmetrics.ab",
    "ABTestResult": "shopmetrics.ab",
    "SampleSizeResult": "shopmetrics.ab",
    "ctr_test": "shopmetrics.creative",
    "CtrTestResult": "shopmetrics.creative",
    "anomalies": "shopmetrics.anomaly",
    "AnomalyResult": "shopmetrics.anomaly",
    "customer_value": "shopmetrics.clv",
    "CustomerValue": "shopmetrics.clv",
    "Report": "shopmetrics.report",
    "Section": "shopmetrics.report",
    "Headline": "shopmetrics.report",
    "Chart": "shopmetrics.report",
    "TrendChart": "shopmetrics.report",
    "BarChart": "shopmetrics.report",
    "LineChart": "shopmetrics.report",
    "Series": "shopmetrics.report",
    "activity_effect": "shopmetrics.activity",
    "ActivityResult": "shopmetrics.activity",
    "Activity": "shopmetrics.activity_table",
}
_SUBMODULES = (
    "ab",
    "activity",
    "anomaly",
    "attribution",
    "cli",
    "clv",
    "compare",
    "config",
    "creative",
    "datasets",
    "dsr",
    "errors",
    "flags",
    "funnel",
    "report",
    "schema",
    "traffic",
    "validation",
    "visitor_value",
    "weekly",
)

__all__ = [
    "CHINESE_COLUMNS",
    "TABLES",
    "ABTestResult",
    "AnomalyResult",
    "AttributionComparison",
    "AttributionResult",
    "Audit",
    "BarChart",
    "Chart",
    "ColumnNotFoundError",
    "ComparisonResult",
    "Config",
    "CtrTestResult",
    "CustomerValue",
    "DSRResult",
    "DataQualityWarning",
    "DefinitionError",
    "Flag",
    "FunnelResult",
    "Headline",
    "LineChart",
    "LowRatings",
    "MissingDependencyError",
    "Report",
    "Result",
    "SampleSizeResult",
    "SchemaError",
    "Section",
    "Series",
    "ShopmetricsError",
    "SmallSampleWarning",
    "TrafficResult",
    "TrendChart",
    "ValidationError",
    "ValidationReport",
    "VisitorValueResult",
    "WhatIf",
    "__version__",
    "ab_sample_size",
    "ab_test",
    "anomalies",
    "attribute",
    "cohorts",
    "compare",
    "compare_attribution",
    "config_context",
    "ctr_test",
    "customer_value",
    "dsr",
    "dsr_what_if",
    "funnel",
    "get_config",
    "inspect",
    "low_ratings",
    "mix_decomposition",
    "movers",
    "repurchase",
    "traffic_sources",
    "validate",
    "visitor_value",
    "weekly_report",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"shopmetrics.{name}")
    msg = f"module 'shopmetrics' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])


if TYPE_CHECKING:
    from shopmetrics.ab import ABTestResult, SampleSizeResult, ab_sample_size, ab_test
    from shopmetrics.anomaly import AnomalyResult, anomalies
    from shopmetrics.attribution import (
        AttributionComparison,
        AttributionResult,
        attribute,
        compare_attribution,
    )
    from shopmetrics.audit import Audit
    from shopmetrics.clv import CustomerValue, customer_value
    from shopmetrics.compare import mix_decomposition, movers
    from shopmetrics.creative import CtrTestResult, ctr_test
    from shopmetrics.dsr import LowRatings, WhatIf, dsr_what_if, low_ratings
    from shopmetrics.flags import Flag
    from shopmetrics.io.inspect import inspect
    from shopmetrics.report import (
        BarChart,
        Chart,
        Headline,
        LineChart,
        Report,
        Section,
        Series,
        TrendChart,
    )
    from shopmetrics.report.weekly import weekly_report
    from shopmetrics.results import Result
    from shopmetrics.schema import CHINESE_COLUMNS, TABLES
    from shopmetrics.traffic import TrafficResult, traffic_sources
    from shopmetrics.validation import ValidationReport, validate
    from shopmetrics.visitor_value import cohorts, repurchase
