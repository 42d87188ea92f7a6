"""A server that can be taken down for a while and has a fixed capacity (chapter 11, lab 4).

    s = services.app("labsupport.apps.resilience_flaky:app", env={"CAPACITY": 8, "WORK_MS": 20})
    POST /down?seconds=2      -> for 2 s every /work answers 503 at once (a server that is down)
    GET  /work                -> 200 after WORK_MS, or 503 at once when CAPACITY requests are already running
    GET  /arrivals            -> {"t": [wall-clock time of every /work request], "status": [...]}
    POST /arrivals/reset
    GET  /healthz
"""

from __future__ import annotations

import asyncio
import os
import time

from fastapi import FastAPI
from fastapi.responses import JSONResponse

CAPACITY = int(os.environ.get("CAPACITY", "8"))
WORK_S = float(os.environ.get("WORK_MS", "20")) / 1000
app = FastAPI(title="flaky server")
state = {"down_until": 0.0, "running": 0}
log_t: list[float] = []
log_status: list[int] = []


@app.get("/healthz")
async def healthz():
    return {"ok": True}


@app.post("/down")
async def down(seconds: float):
    state["down_until"] = time.time() + seconds
    return {"down_until": state["down_until"]}


@app.get("/work")
async def work():
    now = time.time()
    log_t.append(now)
    if now < state["down_until"] or state["running"] >= CAPACITY:
        log_status.append(503)
        return JSONResponse({"error": "unavailable"}, status_code=503)
    state["running"] += 1
    try:
        await asyncio.sleep(WORK_S)
    finally:
        state["running"] -= 1
    log_status.append(200)
    return {"ok": True}


@app.get("/arrivals")
async def arrivals():
    return {"t": log_t, "status": log_status}


@app.post("/arrivals/reset")
async def reset():
    log_t.clear()
    log_status.clear()
    return {"ok": True}
