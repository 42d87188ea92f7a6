"""Cache-aside request streams replayed on a real Redis, request by request, like ``sim.cache.simulate``.

    hits = replay(redis_client, reqs, value="x" * 1000)       # one bool per request (SET NX GET)
    hits = replay(redis_client, reqs, value, ttl_ms=600_000)  # every new key with a TTL (volatile-* policies)
    hits = replay_phases({"lru": c1, "lfu": c2}, phases, value="x" * 1000)   # one phase per wall-clock second
    bytes_per_key(redis_client, value="x" * 1000)             # memory one more key costs on this server

The workloads come from ``labsupport.workload``; the simulated cache they are held against is
``labsupport.sim.cache``.
"""

from __future__ import annotations

import time

import numpy as np


def replay(client, requests, value: str, batch: int = 500, ttl_ms: int | None = None,
           prefix: str = "k:") -> np.ndarray:
    """Cache-aside on a real Redis; one bool per request (True = hit), like ``sim.cache.simulate(cfg).hit``.

    Each request is ``SET key value NX GET``: it returns the cached value on a hit and fills the key on a
    miss, in one command, so a pipelined batch keeps the exact request order. ``ttl_ms`` gives every
    new key a TTL (needed by ``volatile-*`` policies; a hit does not refresh it).
    """
    reqs = [int(k) for k in requests]
    hits = np.zeros(len(reqs), dtype=bool)
    for start in range(0, len(reqs), batch):
        pipe = client.pipeline(transaction=False)
        for k in reqs[start:start + batch]:
            pipe.set(f"{prefix}{k}", value, nx=True, get=True, px=ttl_ms)
        hits[start:start + batch] = [v is not None for v in pipe.execute()]
    return hits


def replay_phases(clients: dict, phases, value: str, **kw) -> dict:
    """Replay each phase on every client inside its own wall-clock second; returns ``{name: hits}``.

    Redis stamps a key's last access with a clock that ticks once a second, so requests within one
    second look equally recent to its LRU. Giving each phase its own second lets the server tell
    "this phase" from "an earlier phase", as it would for traffic spread over minutes.
    """
    out = {name: [] for name in clients}
    for reqs in phases:
        time.sleep((1.15 - time.time() % 1.0) % 1.0)  # start just after a tick of the server's clock
        for name, client in clients.items():
            out[name].append(replay(client, reqs, value, **kw))
    return {name: np.concatenate(h) for name, h in out.items()}


def bytes_per_key(client, value: str, n: int = 1000, prefix: str = "size:") -> float:
    """Memory one more key of this value costs on this server (``INFO memory`` before and after)."""
    before = client.info("memory")["used_memory"]
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{prefix}{i}", value)
    pipe.execute()
    per_key = (client.info("memory")["used_memory"] - before) / n
    client.delete(*[f"{prefix}{i}" for i in range(n)])
    return per_key
