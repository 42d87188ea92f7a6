"""A model of a GPU behind a model server: one device, whose concurrency comes from batching.

    POST /infer                 -> queued for the one "GPU" worker; answered when its batch's step ends
                                   {"batch_size": 4, "queued_ms": 3.1, "replica": ...}
    POST /wait                  -> the same STEP_MS per request, but as a plain asyncio.sleep: unlimited parallelism
    GET  /gauge?t0=..&t1=..     -> requests in flight, as this server counted them, averaged over time
                                   between two wall-clock instants (time.time()): {"mean_in_flight": .., "arrivals": ..}
    POST /gauge/reset           -> forget the gauge's history (and the batch counters)
    GET  /batches               -> {"steps": .., "requests": .., "mean_batch": .., "batch_max": 4, "step_ms": 40}
Env: BATCH_MAX (default 4), STEP_MS (default 40), BATCH_WAIT_MS (default 2: how long the worker waits for
a batch to fill once a request is queued, like Triton's max_queue_delay).

The step is a sleep: a *model* of a GPU forward pass whose cost does not depend on how many of the
BATCH_MAX slots are used. It is not a GPU. Lab 1.1 compares it with /wait (chapter 1, "A GPU batches").
"""

from __future__ import annotations

import asyncio
import os
import time

from ._common import REPLICA, lab_app

BATCH_MAX = int(os.environ.get("BATCH_MAX", "4"))
STEP_MS = float(os.environ.get("STEP_MS", "40"))
BATCH_WAIT_MS = float(os.environ.get("BATCH_WAIT_MS", "2"))

app = lab_app("batching-model")
_gauge = {"in_flight": 0, "changes": [(time.time(), 0)]}  # (wall time, in flight after the change)
_batches = {"steps": 0, "requests": 0}
_queue: asyncio.Queue | None = None
_worker: asyncio.Task | None = None


class InFlightGauge:
    """Plain ASGI middleware, outermost: counts a request from the moment uvicorn hands it to the app
    until the app has sent its last byte, and logs every change of that count."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in ("/infer", "/wait"):
            return await self.app(scope, receive, send)
        _gauge["in_flight"] += 1
        _gauge["changes"].append((time.time(), _gauge["in_flight"]))
        try:
            await self.app(scope, receive, send)
        finally:
            _gauge["in_flight"] -= 1
            _gauge["changes"].append((time.time(), _gauge["in_flight"]))


app.add_middleware(InFlightGauge)


async def _gpu() -> None:
    """The one device: take the first queued request, let the batch fill briefly, run one step for all."""
    while True:
        batch = [await _queue.get()]
        if _queue.qsize() < BATCH_MAX - 1 and BATCH_WAIT_MS > 0:
            await asyncio.sleep(BATCH_WAIT_MS / 1000)
        while len(batch) < BATCH_MAX and not _queue.empty():
            batch.append(_queue.get_nowait())
        await asyncio.sleep(STEP_MS / 1000)  # the forward pass, modelled: same cost for 1 or BATCH_MAX rows
        _batches["steps"] += 1
        _batches["requests"] += len(batch)
        for fut, _ in batch:
            if not fut.done():
                fut.set_result(len(batch))


@app.post("/infer")
async def infer():
    global _queue, _worker
    if _worker is None or _worker.done():
        _queue = _queue or asyncio.Queue()
        _worker = asyncio.create_task(_gpu())
    fut = asyncio.get_running_loop().create_future()
    t = time.perf_counter()
    await _queue.put((fut, t))
    size = await fut
    return {"batch_size": size, "queued_ms": (time.perf_counter() - t) * 1000 - STEP_MS, "replica": REPLICA}


@app.post("/wait")
async def wait():
    await asyncio.sleep(STEP_MS / 1000)
    return {"batch_size": 1, "replica": REPLICA}


def mean_between(changes: list[tuple[float, int]], t0: float, t1: float) -> float:
    """Time-average of a step function given by its change points, over ``[t0, t1]``."""
    level, prev, area = 0, t0, 0.0
    for t, v in changes:
        if t <= t0:
            level = v
            continue
        if t >= t1:
            break
        area += level * (t - prev)
        prev, level = t, v
    area += level * (t1 - prev)
    return area / (t1 - t0) if t1 > t0 else float("nan")


@app.get("/gauge")
def gauge(t0: float, t1: float):
    changes = list(_gauge["changes"])
    arrivals = sum(w > v and t0 <= t < t1 for (_, v), (t, w) in zip(changes, changes[1:]))
    return {"mean_in_flight": mean_between(changes, t0, t1), "arrivals": arrivals, "window_s": t1 - t0,
            "in_flight_now": _gauge["in_flight"]}


@app.post("/gauge/reset")
def gauge_reset():
    _gauge["changes"] = [(time.time(), _gauge["in_flight"])]
    _batches.update(steps=0, requests=0)
    return {"ok": True}


@app.get("/batches")
def batches():
    steps = _batches["steps"]
    return {**_batches, "mean_batch": _batches["requests"] / steps if steps else 0.0,
            "batch_max": BATCH_MAX, "step_ms": STEP_MS, "batch_wait_ms": BATCH_WAIT_MS}
