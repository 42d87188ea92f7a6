"""A source that keeps changing: a real process that updates feature rows in PostgreSQL at random times.

    writer = services.app("labsupport.apps.feature_writer:app",
                          env={"PG_URL": pg.url, "N_KEYS": 50, "UPDATES_PER_S": 50, "SEED": 42})
    GET  /writer -> {"updates": 812, "running": true, "errors": 0}
    POST /writer/start   POST /writer/stop

Each update bumps ``features.version`` (and ``value``) of one random key; the gaps between updates are
exponential (a Poisson process), so each key changes UPDATES_PER_S / N_KEYS times a second on average.
With INVALIDATE_REDIS_URL set, every update also deletes ``{INVALIDATE_PREFIX}{key}`` from that Redis
(invalidate-on-write). Used by labs/06-caching/04-ttl-staleness.
"""

from __future__ import annotations

import os
import random
import threading
import time
from contextlib import asynccontextmanager

import psycopg
import redis

from ._common import lab_app

PG_URL = os.environ.get("PG_URL", "")
N_KEYS = int(os.environ.get("N_KEYS", "50"))
UPDATES_PER_S = float(os.environ.get("UPDATES_PER_S", "50"))
SEED = int(os.environ.get("SEED", "42"))
INVALIDATE_REDIS_URL = os.environ.get("INVALIDATE_REDIS_URL", "")
INVALIDATE_PREFIX = os.environ.get("INVALIDATE_PREFIX", "inv:feat:")


class Writer:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.stats = {"updates": 0, "running": False, "errors": 0}
        self.go = threading.Event()
        self.cache = redis.Redis.from_url(INVALIDATE_REDIS_URL) if INVALIDATE_REDIS_URL else None

    def run(self) -> None:
        conn = psycopg.connect(PG_URL, autocommit=True)
        conn.execute("SET synchronous_commit = off")  # the lab measures staleness, not fsync speed
        next_t = time.monotonic()
        while True:
            if not self.go.is_set():
                self.go.wait()
                next_t = time.monotonic()
            next_t += self.rng.expovariate(UPDATES_PER_S)  # a schedule: the rate holds if an update is slow
            time.sleep(max(0.0, next_t - time.monotonic()))
            key = self.rng.randrange(N_KEYS)
            try:
                conn.execute("UPDATE features SET version = version + 1, value = %s WHERE id = %s",
                             (self.rng.random(), key))
                if self.cache is not None:
                    self.cache.delete(f"{INVALIDATE_PREFIX}{key}")
                self.stats["updates"] += 1
            except Exception:  # noqa: BLE001 - count and keep going; the lab reports errors
                self.stats["errors"] += 1


writer = Writer()


@asynccontextmanager
async def lifespan(_app):
    if PG_URL:
        threading.Thread(target=writer.run, daemon=True).start()
    yield


app = lab_app("feature-writer")
app.router.lifespan_context = lifespan


@app.get("/writer")
def status():
    return writer.stats


@app.post("/writer/start")
def start():
    writer.go.set()
    writer.stats["running"] = True
    return writer.stats


@app.post("/writer/stop")
def stop():
    writer.go.clear()
    writer.stats["running"] = False
    return writer.stats
