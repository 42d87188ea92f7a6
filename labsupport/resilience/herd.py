"""A seeded simulation (a model, not a measurement) of many clients retrying against a recovering server.

    out = simulate("full", n_clients=2000, down_s=2.0, capacity_per_s=1000, seed=1)
    out["arrivals_per_100ms"], out["calls"], out["drain_s"], out["gave_up"]

Every client sends one request at t = 0 (the moment the server goes down), then retries with the
policy's waits (labsupport.resilience.retry.backoff). While down, the server answers every request with
503. After ``down_s`` it admits up to ``capacity_per_s`` requests per second (one 10 ms slot holds
capacity/100) and answers the rest 503, so a herd that arrives at once is mostly turned away again.
"""

from __future__ import annotations

import heapq
import random

import numpy as np

from .retry import RetryBudget, backoff


def simulate(policy: str, n_clients: int = 2000, down_s: float = 2.0, capacity_per_s: float = 1000,
             attempts: int = 12, base_s: float = 0.1, cap_s: float = 4.0, seed: int = 0,
             budget_ratio: float | None = None, horizon_s: float = 30.0) -> dict:
    rng = random.Random(seed)
    per_slot = capacity_per_s / 100
    used: dict[int, int] = {}
    budget = RetryBudget(ratio=budget_ratio, initial=10) if budget_ratio is not None else None
    events = [(0.0, i, 1, None) for i in range(n_clients)]  # (time, client, attempt number, previous wait)
    heapq.heapify(events)
    arrivals, done, gave_up = [], [], 0
    if budget:
        for _ in range(n_clients):
            budget.on_request()
    while events:
        t, i, n, prev = heapq.heappop(events)
        if t > horizon_s:
            gave_up += 1
            continue
        arrivals.append(t)
        slot = int(t * 100)
        if t >= down_s and used.get(slot, 0) < per_slot:
            used[slot] = used.get(slot, 0) + 1
            done.append(t)
            continue
        if n == attempts or (budget is not None and not budget.can_retry()):
            gave_up += 1
            continue
        wait = backoff(policy, n - 1, rng, base_s=base_s, cap_s=cap_s, prev_s=prev)
        heapq.heappush(events, (t + wait, i, n + 1, wait))
    arr = np.asarray(arrivals)
    counts = np.histogram(arr, bins=np.arange(0, max(arr.max(), down_s) + 0.2, 0.1))[0]
    return {"policy": policy, "calls": len(arrivals), "served": len(done), "gave_up": gave_up,
            "drain_s": max(done) if done else float("nan"), "arrivals_per_100ms": counts.tolist(),
            "peak_after_recovery": int(counts[int(down_s * 10):].max()) if len(counts) > down_s * 10 else 0}
