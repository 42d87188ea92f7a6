"""A backend that tells you what reached it, for the proxy labs (chapter 4).

    GET /echo                     -> what this hop looked like: {"hop_tls": false, "scheme_seen": "https",
                                     "x_forwarded_proto": "https", "x_forwarded_for": ..., "headers": {...}}
    GET /report/{item_id}         -> an expensive, cacheable GET: waits COST_MS (default 60) per call
    GET /catalog?rows=2000        -> a big, repetitive JSON list (the kind gzip shrinks a lot)
    GET /embeddings?rows=200&dim=64 -> random float vectors as JSON (the kind gzip barely shrinks)

``hop_tls`` is whether this server's own socket speaks TLS (it does only when uvicorn is given a
certificate). ``scheme_seen`` is what the framework believes after uvicorn trusts X-Forwarded-Proto from
127.0.0.1, which is why apps behind a TLS-terminating proxy still build https:// links.
"""

from __future__ import annotations

import asyncio
import os
import sys

import numpy as np
from fastapi import Request

from ._common import REPLICA, lab_app

HOP_TLS = "--ssl-certfile" in sys.argv  # uvicorn serves TLS only when it was given a certificate
COST_MS = float(os.environ.get("COST_MS", "60"))
CATEGORIES = ["shoes", "books", "garden", "toys", "kitchen", "music", "sports", "tools"]

app = lab_app("echo")


@app.get("/echo")
def echo(request: Request):
    h = request.headers
    return {
        "replica": REPLICA,
        "hop_tls": HOP_TLS,
        "scheme_seen": request.url.scheme,
        "x_forwarded_proto": h.get("x-forwarded-proto"),
        "x_forwarded_for": h.get("x-forwarded-for"),
        "headers": dict(h),
    }


@app.get("/report/{item_id}")
async def report(item_id: int, cost_ms: float | None = None):
    """Stands in for a slow query or a model call whose answer is the same for everyone for a while."""
    await asyncio.sleep((COST_MS if cost_ms is None else cost_ms) / 1000)
    rng = np.random.default_rng(item_id)
    return {"item_id": item_id, "score": round(float(rng.random()), 4), "replica": REPLICA}


@app.get("/catalog")
def catalog(rows: int = 2000):
    """Records with repeated keys and few distinct values: typical API JSON."""
    rng = np.random.default_rng(7)
    return {"items": [
        {"item_id": 100_000 + i, "category": CATEGORIES[int(rng.integers(len(CATEGORIES)))],
         "price_eur": round(float(rng.integers(100, 10_000)) / 100, 2), "in_stock": bool(rng.random() < 0.8),
         "rating": round(float(rng.integers(10, 50)) / 10, 1)}
        for i in range(rows)
    ]}


@app.get("/embeddings")
def embeddings(rows: int = 200, dim: int = 64):
    """Random float32 vectors written as JSON: high-entropy digits, little for gzip to find."""
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((rows, dim)).astype(np.float32)
    return {"embeddings": [[float(x) for x in v] for v in vecs]}
