"""Misleading-data flags: the record and the detectors every result runs on its input.

A :class:`Flag` has the same shape as a validation problem: a reason ``code``, a
``severity``, the ``subject`` (product, source, period, ...), a ``message``, the
``evidence`` numbers and the figure to use ``instead``.
"""

from __future__ import annotations

from shopmetrics._records import Finding, sort_findings

__all__ = ["Flag", "sort_findings"]

Flag = Finding
