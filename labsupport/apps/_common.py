"""What every lab app shares: its replica identity, /healthz, and /stats counters.

    app = lab_app("model-server")      # a FastAPI app with X-Replica headers and counters
    GET /healthz  -> {"ok": true, "replica": "model_server-1"}
    GET /stats    -> {"replica": ..., "requests": 42, "in_flight": 1, "max_in_flight": 3}
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request

REPLICA = os.environ.get("REPLICA_NAME", "replica")
REPLICA_ID = int(os.environ.get("REPLICA_ID", "0"))


def lab_app(title: str) -> FastAPI:
    app = FastAPI(title=title)
    counters = {"requests": 0, "in_flight": 0, "max_in_flight": 0}
    app.state.counters = counters

    @app.middleware("http")
    async def count(request: Request, call_next):
        internal = request.url.path in ("/healthz", "/stats")
        if not internal:
            counters["requests"] += 1
            counters["in_flight"] += 1
            counters["max_in_flight"] = max(counters["max_in_flight"], counters["in_flight"])
        try:
            response = await call_next(request)
        finally:
            if not internal:
                counters["in_flight"] -= 1
        response.headers["X-Replica"] = REPLICA
        return response

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "replica": REPLICA}

    @app.get("/stats")
    def stats():
        return {"replica": REPLICA, **counters}

    @app.post("/stats/reset")
    def reset():
        for k in counters:
            counters[k] = 0
        return {"ok": True}

    return app
