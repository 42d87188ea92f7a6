"""One service in a chain of services that each call the next one and retry (chapter 11, lab 6).

    chain = services.app("labsupport.apps.resilience_chain:app", replicas=4, name="chain")
    POST /config {"downstream": url, "tries": 3, "timeout_ms": 300, "backoff_ms": 20,
                  "budget": {"ratio": 0.1, "floor": 3, "window_s": 10} | null, "deadline": false}
    GET  /call    headers X-Request-Id (passed down), X-Deadline-Ms (the caller's time left, used if "deadline")
                  -> 200, or the last failure status (503, 504 on a timeout) after its tries
    POST /fault {"mode": "ok" | "503" | "hang" | "flaky", "p": 0.05, "seed": 1}   (what the bottom answers)
    GET  /log     -> {"received": [[t_wall, request_id], ...], "sent": 12, "budget_denied": 3}
    POST /log/reset

A service with no downstream is the bottom of the chain: it answers as its fault says ("hang" holds
every call until the fault changes). The others call their downstream with up to ``tries`` attempts
(labsupport.resilience.retry.call_with_retries, full jitter), each with its own timeout. A caller
that gives up only closes its connection: the handler below it keeps running, as in most servers.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from labsupport.resilience.retry import WindowRetryBudget, call_with_retries

NAME = os.environ.get("REPLICA_NAME", "chain")
app = FastAPI(title="chain service")
config: dict = {"downstream": None, "tries": 3, "timeout_ms": 300, "backoff_ms": 20, "budget": None, "deadline": False}
fault: dict = {"mode": "ok", "p": 0.0}
state: dict = {"budget": None, "rng": random.Random(0), "fault_rng": random.Random(0), "http": None,
               "released": asyncio.Event(), "sent": 0}
received: list = []


@app.get("/healthz")
async def healthz():
    return {"ok": True, "replica": NAME}


@app.post("/config")
async def set_config(request: Request):
    config.update(await request.json())
    b = config["budget"]
    state["budget"] = WindowRetryBudget(**b) if b else None
    return config


@app.post("/fault")
async def set_fault(request: Request):
    fault.clear()
    fault.update({"mode": "ok", "p": 0.0, **(await request.json())})
    state["fault_rng"] = random.Random(fault.get("seed", 0))
    state["released"].set()  # calls held by a previous "hang" answer now
    state["released"] = asyncio.Event()
    return fault


@app.get("/log")
async def log():
    b = state["budget"]
    return {"received": received, "sent": state["sent"], "budget_denied": b.denied if b else 0}


@app.post("/log/reset")
async def log_reset():
    received.clear()
    state["sent"] = 0
    return {"ok": True}


async def _bottom() -> JSONResponse:
    mode = fault["mode"]
    if mode == "hang":
        try:
            await asyncio.wait_for(state["released"].wait(), timeout=60)
        except asyncio.TimeoutError:
            pass
        return JSONResponse({"error": "was hung"}, status_code=503)
    if mode == "503" or (mode == "flaky" and state["fault_rng"].random() < fault["p"]):
        return JSONResponse({"error": "unavailable"}, status_code=503)
    return JSONResponse({"ok": True, "replica": NAME})


@app.get("/call")
async def call(request: Request):
    rid = request.headers.get("X-Request-Id", "")
    received.append([time.time(), rid])
    if not config["downstream"]:
        return await _bottom()
    if state["http"] is None:
        limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
        state["http"] = httpx.AsyncClient(limits=limits)
    deadline = None
    left_ms = request.headers.get("X-Deadline-Ms")
    if config["deadline"] and left_ms is not None:
        deadline = time.monotonic() + float(left_ms) / 1000

    async def send() -> int:
        timeout = config["timeout_ms"] / 1000
        headers = {"X-Request-Id": rid}
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0.005:
                return 504
            timeout = min(timeout, left)
            headers["X-Deadline-Ms"] = f"{left * 1000:.0f}"
        state["sent"] += 1
        try:
            resp = await state["http"].get(config["downstream"] + "/call", headers=headers, timeout=timeout)
            return resp.status_code
        except httpx.TimeoutException:
            return 504
        except httpx.TransportError:
            return 502

    base_s = config["backoff_ms"] / 1000
    status, attempts = await call_with_retries(send, "full", state["rng"], attempts=config["tries"],
                                               budget=state["budget"], deadline=deadline,
                                               base_s=base_s, cap_s=8 * base_s)
    return JSONResponse({"replica": NAME, "attempts": attempts}, status_code=200 if status == 200 else status)
