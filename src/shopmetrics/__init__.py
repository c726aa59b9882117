"""shopmetrics: a store's operating numbers from its raw tables, with intervals and honest flags.

Modules:
    funnel: exposures, clicks, visitors, inquiries, carts, orders, payments and their rates
        with intervals (``sm.funnel``).
    flags: the misleading-data detectors every result runs (presale, bots, brushing, ...).
    dsr: DSR seller ratings under the platform rules, peers, alerts (``sm.dsr``).
    traffic: traffic sources, spend, ROAS / ROI, attribution, paid-plan advice
        (``sm.traffic_sources``, ``sm.attribute``).
    visitor_value: visitor value, AOV, repurchase, refunds (``sm.visitor_value``) and
        customer lifetime value (``sm.customer_value``).
    compare: period comparisons, significant movers, A/B tests (``sm.compare``,
        ``sm.movers``, ``sm.ab_test``).
    report: the weekly report in HTML / Markdown / Excel (``sm.weekly_report``).
    validation: table contracts checked all at once (``sm.validate``).
    schema: the six input tables, canonical columns, Chinese export headers.
    datasets: the demo store with planted traps (``sm.datasets.make_store``).
    config: tunable defaults with a thread-safe context manager.
    errors: the exception and warning tree.

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

from shopmetrics.config import Config, config_context, get_config
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

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it (imported on first attribute access)
_LAZY: dict[str, str] = {
    "validate": "shopmetrics.validation",
    "ValidationReport": "shopmetrics.validation",
    "Flag": "shopmetrics.flags",
    "Audit": "shopmetrics._result",
    "Result": "shopmetrics._result",
    "CHINESE_COLUMNS": "shopmetrics.schema",
    "TABLES": "shopmetrics.schema",
}
_SUBMODULES = (
    "datasets", "schema", "validation", "flags", "funnel", "dsr", "traffic", "visitor_value",
    "compare", "report", "cli", "config", "errors",
)

__all__ = [
    "ColumnNotFoundError",
    "Config",
    "DataQualityWarning",
    "DefinitionError",
    "MissingDependencyError",
    "SchemaError",
    "ShopmetricsError",
    "SmallSampleWarning",
    "FunnelResult",
    "ValidationError",
    "__version__",
    "config_context",
    "funnel",
    "get_config",
    *sorted(_LAZY),
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
    from shopmetrics._result import Audit, Result
    from shopmetrics.flags import Flag
    from shopmetrics.schema import CHINESE_COLUMNS, TABLES
    from shopmetrics.validation import ValidationReport, validate
