"""The weekly script an analyst copies: funnel by source, flags, and the report files.

Run:  python examples/weekly_report.py [OUT_DIR]
(On your own data, replace make_store(...) with your tables or Parquet paths.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import shopmetrics as sm

out = Path(sys.argv[1] if len(sys.argv) > 1 else "weekly-output")
out.mkdir(parents=True, exist_ok=True)
store = sm.datasets.make_store(seed=0)

week = sm.funnel(store.events, store.orders, by="source", freq="W", total=True)
print(week.to_markdown())
for flag in week.flags:
    print(f"- {flag.severity}: {flag.message}")
(out / "funnel.md").write_text(week.to_markdown(), encoding="utf-8")
if hasattr(sm, "weekly_report"):
    report = sm.weekly_report(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        peers=store.peers,
    )
    report.to_html(out / "report.html")
    print(f"report written to {out / 'report.html'}")
