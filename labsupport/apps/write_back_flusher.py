"""A write-back flusher: a real process that drains dirty keys from Redis into PostgreSQL in batches.

    flusher = services.app("labsupport.apps.write_back_flusher:app",
                           env={"REDIS_URL": r.url, "PG_URL": pg.url, "FLUSH_EVERY_MS": 1000})
    GET  /flusher -> {"flushes": 3, "rows_flushed": 812, "errors": 0,
                      "history": [[unix_s, rows, max_version], ...]}
    POST /flush -> flush now (what a graceful shutdown would do)

The cache layout it reads: ``HSET user:{id} score S version V`` plus ``SADD dirty {id}``. Every
FLUSH_EVERY_MS it renames ``dirty`` to ``dirty:flushing`` (so new writes start a fresh set), upserts
those users' latest values into ``profiles(user_id, score, version)`` in one transaction, and only
then deletes ``dirty:flushing``: a crash in between leaves the batch to be flushed again.
Writes acknowledged by Redis but not yet flushed live only in Redis's memory: kill Redis and they
are gone, unless Redis keeps an append-only file (labs/06-caching/02-write-policies).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import asynccontextmanager

import psycopg
import redis

from ._common import lab_app

REDIS_URL = os.environ.get("REDIS_URL", "")
PG_URL = os.environ.get("PG_URL", "")
FLUSH_EVERY_MS = float(os.environ.get("FLUSH_EVERY_MS", "1000"))

UPSERT = ("INSERT INTO profiles (user_id, score, version) VALUES (%s, %s, %s) "
          "ON CONFLICT (user_id) DO UPDATE SET score = EXCLUDED.score, version = EXCLUDED.version "
          "WHERE profiles.version < EXCLUDED.version")


class Flusher:
    def __init__(self, redis_url: str, pg_url: str, every_ms: float):
        self.cache = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=1,
                                          socket_connect_timeout=1) if redis_url else None
        self.pg_url = pg_url
        self.every_s = every_ms / 1000
        self.stats = {"flushes": 0, "rows_flushed": 0, "errors": 0, "history": []}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.conn = None

    def flush_once(self) -> int:
        """Flush what is dirty now; first any batch a crash interrupted. Returns rows written."""
        with self.lock:
            rows = 0
            for _ in range(2):
                if not self.cache.exists("dirty:flushing"):
                    try:  # atomic hand-over: new writes start a fresh "dirty" set meanwhile
                        self.cache.rename("dirty", "dirty:flushing")
                    except redis.ResponseError:  # no such key: nothing is dirty
                        break
                rows += self._flush_batch()
            return rows

    def _flush_batch(self) -> int:
        ids = sorted(self.cache.smembers("dirty:flushing"), key=int)
        pipe = self.cache.pipeline(transaction=False)
        for uid in ids:
            pipe.hmget(f"user:{uid}", "score", "version")
        rows = [(int(uid), int(s), int(v)) for uid, (s, v) in zip(ids, pipe.execute()) if v is not None]
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.pg_url, autocommit=True)
        with self.conn.transaction():
            with self.conn.cursor() as cur:
                cur.executemany(UPSERT, rows)
        self.cache.delete("dirty:flushing")  # only after the commit: a crash before it means "flush again"
        self.stats["flushes"] += 1
        self.stats["rows_flushed"] += len(rows)
        self.stats["history"].append([time.time(), len(rows), max((v for *_, v in rows), default=0)])
        return len(rows)

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.flush_once()
            except Exception:  # noqa: BLE001 - Redis down or PG busy: count it, try again next tick
                self.stats["errors"] += 1


flusher = Flusher(REDIS_URL, PG_URL, FLUSH_EVERY_MS)


@asynccontextmanager
async def lifespan(_app):
    thread = threading.Thread(target=flusher.run, daemon=True) if flusher.cache else None
    if thread:
        thread.start()
    yield
    flusher.stop.set()


app = lab_app("write-back-flusher")
app.router.lifespan_context = lifespan


@app.get("/flusher")
def stats():
    return flusher.stats


@app.post("/flush")
def flush_now():
    return {"rows": flusher.flush_once()}
