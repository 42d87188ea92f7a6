"""An API replica whose requests pass a rate limiter kept in Valkey (chapter 11, lab 1).

    apis = services.app("labsupport.apps.resilience_api:app", replicas=3, env={"REDIS_URL": r.url})
    GET /api/{algo}?limit=20&window_ms=1000   header X-User: alice
        algo: fixed | racy | log | counter | bucket | local
        200 {"ok": true, "replica": ...}  or  429 {"error": ...} with Retry-After (s) and X-Retry-After-Ms
    GET /healthz

Handlers are plain ``def``: uvicorn runs them on a thread pool, so one replica serves many requests at
once, as a real API does (that is what lets the GET-then-INCR race happen).
"""

from __future__ import annotations

import os

import redis
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from labsupport.resilience import limiters as L

REPLICA = os.environ.get("REPLICA_NAME", "api")
r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True, max_connections=64)
app = FastAPI(title="rate-limited API")
_local: dict = {}


def limiter(algo: str, limit: int, window_s: float):
    if algo == "fixed":
        return L.FixedWindow(r, limit, window_s)
    if algo == "racy":
        return L.RacyFixedWindow(r, limit, window_s, prefix="racy")
    if algo == "log":
        return L.SlidingLog(r, limit, window_s)
    if algo == "counter":
        return L.SlidingCounter(r, limit, window_s)
    if algo == "bucket":
        return L.TokenBucket(r, capacity=limit, rate_per_s=limit / window_s)
    if algo == "local":
        return _local.setdefault((limit, window_s), L.LocalFixedWindow(limit, window_s))
    raise KeyError(algo)


@app.get("/healthz")
def healthz():
    return {"ok": True, "replica": REPLICA}


@app.get("/api/{algo}")
def api(algo: str, limit: int = 20, window_ms: int = 1000, x_user: str = Header("anonymous")):
    try:
        lim = limiter(algo, limit, window_ms / 1000)
    except KeyError:
        return JSONResponse({"error": f"unknown limiter {algo!r}"}, status_code=404)
    d = lim.check(x_user)
    if not d.allowed:
        return JSONResponse({"error": "rate limited", "replica": REPLICA}, status_code=429,
                            headers={"Retry-After": L.retry_after_header(d),
                                     "X-Retry-After-Ms": str(int(d.retry_after_s * 1000))})
    return {"ok": True, "replica": REPLICA}
