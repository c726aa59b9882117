"""A service-style call: tables in, plain JSON out (what an API endpoint would return)."""

from __future__ import annotations

import json

import shopmetrics as sm


def funnel_endpoint(events: object, orders: object, by: str = "product_id") -> str:
    """Return this week's funnel as JSON with its flags and audit."""
    with sm.config_context(min_sample=50, confidence=0.9):
        result = sm.funnel(events, orders, by=by, freq="W")
    return result.to_json()


if __name__ == "__main__":
    store = sm.datasets.make_store(seed=1, days=14, products=30, visitors_per_day=400)
    payload = json.loads(funnel_endpoint(store.events, store.orders))
    print(
        json.dumps({"rows": len(payload["rows"]), "flags": [f["code"] for f in payload["flags"]]})
    )
