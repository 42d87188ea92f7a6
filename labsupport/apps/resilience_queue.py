"""A server with a fixed pool of workers, with a bounded queue or an unbounded one (chapter 11, lab 3).

    s = services.app("labsupport.apps.resilience_queue:app", env={"MODE": "bounded", "WORKERS": 4, "QUEUE": 8,
                                                                  "SERVICE_MS": 50})
    GET /work   -> 200 after a random service time (exponential, mean SERVICE_MS) on one of WORKERS workers;
                   bounded: 503 + Retry-After at once when QUEUE requests are already waiting
                   every answer carries X-Server-Ms: the time the request spent inside this app
    GET /stats  -> {"served": .., "rejected": .., "waiting": .., "max_waiting": ..}
    GET /healthz

The work is a sleep, so the capacity is WORKERS / SERVICE_MS whatever else the machine is doing: what the
lab measures is what the queue does to latency and goodput past that capacity.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

MODE = os.environ.get("MODE", "bounded")
WORKERS = int(os.environ.get("WORKERS", "4"))
QUEUE = int(os.environ.get("QUEUE", "8"))
SERVICE_S = float(os.environ.get("SERVICE_MS", "50")) / 1000
app = FastAPI(title=f"queue server ({MODE})")
pool = asyncio.Semaphore(WORKERS)
rng = random.Random(int(os.environ.get("SEED", "1")))
stats = {"served": 0, "rejected": 0, "waiting": 0, "max_waiting": 0}


@app.get("/healthz")
async def healthz():
    return {"ok": True}


@app.get("/work")
async def work(response: Response):
    t0 = time.perf_counter()
    if MODE == "bounded" and pool.locked() and stats["waiting"] >= QUEUE:
        stats["rejected"] += 1
        return JSONResponse({"error": "overloaded"}, status_code=503, headers={"Retry-After": "1", "X-Server-Ms": "0"})
    stats["waiting"] += 1
    stats["max_waiting"] = max(stats["max_waiting"], stats["waiting"])
    async with pool:
        stats["waiting"] -= 1
        await asyncio.sleep(rng.expovariate(1 / SERVICE_S))
    stats["served"] += 1
    response.headers["X-Server-Ms"] = f"{(time.perf_counter() - t0) * 1000:.1f}"
    return {"ok": True}


@app.get("/stats")
async def get_stats():
    return stats


@app.post("/stats/reset")
async def reset():
    for k in ("served", "rejected", "max_waiting"):
        stats[k] = 0
    return stats
