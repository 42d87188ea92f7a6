"""A model server that reads features from a feature store (Valkey) before predicting (chapter 11, lab 2).

    m = services.app("labsupport.apps.resilience_model:app",
                     env={"FEATURES_URL": link.url, "BREAKER": "ours", "TIMEOUT_MS": 500})
    BREAKER: none | ours (labsupport.resilience.breaker) | purgatory | pybreaker (its call() holds a lock: one call at a time)
    GET /predict?user=u1  -> {"score": 0.71, "fallback": false}   (fallback: predicted without features)
    GET /stats            -> {"in_flight_max": 9, "history": [[t_wall, "open"], ...], "breaker": "closed"}
    GET /healthz

Handlers are plain ``def`` on uvicorn's thread pool (40 threads): a hung dependency holds one thread per
waiting request, which is how a slow feature store exhausts a model server.
"""

from __future__ import annotations

import os
import threading
import time

import redis
from fastapi import FastAPI

from labsupport.resilience.breaker import CircuitBreaker

MODE = os.environ.get("BREAKER", "none")
TIMEOUT_S = float(os.environ.get("TIMEOUT_MS", "500")) / 1000
store = redis.Redis.from_url(os.environ["FEATURES_URL"], decode_responses=True, socket_timeout=TIMEOUT_S,
                             socket_connect_timeout=TIMEOUT_S, max_connections=64)
app = FastAPI(title="model server")
WEIGHTS = {"clicks_7d": 0.02, "age_days": -0.001, "premium": 0.3}
_lock = threading.Lock()
stats = {"in_flight": 0, "in_flight_max": 0, "fallbacks": 0}
history: list = [[time.time(), "closed"]]

if MODE == "ours":
    breaker = CircuitBreaker(fail_max=5, reset_timeout_s=1.0, clock=time.time)
    history = breaker.history
elif MODE == "pybreaker":
    import pybreaker

    class _Log(pybreaker.CircuitBreakerListener):
        def state_change(self, cb, old_state, new_state):
            history.append([time.time(), str(new_state.name).replace("-", "_")])

    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=1.0, listeners=[_Log()])
elif MODE == "purgatory":
    from purgatory import SyncCircuitBreakerFactory

    factory = SyncCircuitBreakerFactory(default_threshold=5, default_ttl=1.0)

    def _log(name, event, payload):
        if event == "state_changed":
            history.append([time.time(), {"opened": "open", "half-opened": "half_open"}.get(payload.state, payload.state)])

    factory.add_listener(_log)

    def _guarded(user):
        with factory.get_breaker("features"):
            return features(user)


def features(user: str) -> dict:
    return store.hgetall(f"features:{user}")


def score(f: dict | None) -> dict:
    if not f:  # the fallback: the prior, without the user's features
        return {"score": 0.5, "fallback": True}
    return {"score": round(0.5 + sum(w * float(f.get(k, 0)) for k, w in WEIGHTS.items()), 3), "fallback": False}


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.get("/predict")
def predict(user: str = "u1"):
    with _lock:
        stats["in_flight"] += 1
        stats["in_flight_max"] = max(stats["in_flight_max"], stats["in_flight"])
    try:
        if MODE == "ours":
            out = score(breaker.call(features, user, fallback=lambda: None))
        elif MODE in ("pybreaker", "purgatory"):
            try:
                out = score(breaker.call(features, user) if MODE == "pybreaker" else _guarded(user))
            except Exception:  # noqa: BLE001 - CircuitBreakerError, or the store's own timeout
                out = score(None)
        else:
            try:
                out = score(features(user))
            except redis.RedisError:
                out = score(None)
        if out["fallback"]:
            stats["fallbacks"] += 1
        return out
    finally:
        with _lock:
            stats["in_flight"] -= 1


@app.get("/stats")
def get_stats():
    return {**stats, "history": [list(h) for h in history]}
