"""A seeded simulation (a model, not a measurement) of many clients retrying against a recovering server.

    cfg = HerdConfig(policy="full", n_clients=2000, down_s=2.0, capacity_per_s=1000, seed=1)
    res = simulate(cfg)                                   # -> HerdResult
    res.calls, res.served, res.gave_up, res.drain_s, res.arrivals_per_100ms, res.peak_after_recovery
    simulate(replace(cfg, budget_ratio=0.2))              # the same outage with a 20% retry budget

Every client sends one request at t = 0 (the moment the server goes down), then retries with the
policy's waits (labsupport.resilience.retry.backoff). While down, the server answers every request with
503. After ``down_s`` it admits up to ``capacity_per_s`` requests per second (one 10 ms slot holds
capacity/100) and answers the rest 503, so a herd that arrives at once is mostly turned away again.
Chapter 11, lab "Retries, backoff and jitter", explains the numbers.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import numpy as np

from .retry import RetryBudget, backoff


@dataclass(frozen=True)
class HerdConfig:
    policy: str = "full"                # none | exponential | full | decorrelated (retry.backoff)
    n_clients: int = 2000
    down_s: float = 2.0                 # the server answers 503 to everything until then
    capacity_per_s: float = 1000        # then it admits this many per second, in 10 ms slots
    attempts: int = 12                  # per client, the first try included
    base_s: float = 0.1                 # backoff base and cap, in seconds
    cap_s: float = 4.0
    budget_ratio: float | None = None   # a RetryBudget shared by all clients: retries <= ratio x first tries (+10)
    horizon_s: float = 30.0             # a retry due later than this is a give-up
    seed: int = 0


@dataclass
class HerdResult:
    config: HerdConfig
    calls: int = 0                      # requests that reached the server, first tries and retries
    served: int = 0                     # clients that got a 200
    gave_up: int = 0                    # clients out of attempts, budget or time
    drain_s: float = float("nan")       # when the last client was served
    arrivals_per_100ms: list = field(default_factory=list)
    peak_after_recovery: int = 0        # most arrivals in one 100 ms once the server is back

    @property
    def policy(self) -> str:
        return self.config.policy


def simulate(cfg: HerdConfig | None = None) -> HerdResult:
    """Run one outage and the clients' retries (simulated time, in seconds)."""
    cfg = cfg or HerdConfig()
    rng = random.Random(cfg.seed)
    per_slot = cfg.capacity_per_s / 100
    used: dict[int, int] = {}
    budget = RetryBudget(ratio=cfg.budget_ratio, initial=10) if cfg.budget_ratio is not None else None
    events = [(0.0, i, 1, None) for i in range(cfg.n_clients)]  # (time, client, attempt number, previous wait)
    heapq.heapify(events)
    arrivals, done, gave_up = [], [], 0
    if budget:
        for _ in range(cfg.n_clients):
            budget.on_request()
    while events:
        t, i, n, prev = heapq.heappop(events)
        if t > cfg.horizon_s:
            gave_up += 1
            continue
        arrivals.append(t)
        slot = int(t * 100)
        if t >= cfg.down_s and used.get(slot, 0) < per_slot:
            used[slot] = used.get(slot, 0) + 1
            done.append(t)
            continue
        if n == cfg.attempts or (budget is not None and not budget.can_retry()):
            gave_up += 1
            continue
        wait = backoff(cfg.policy, n - 1, rng, base_s=cfg.base_s, cap_s=cfg.cap_s, prev_s=prev)
        heapq.heappush(events, (t + wait, i, n + 1, wait))
    arr = np.asarray(arrivals)
    counts = np.histogram(arr, bins=np.arange(0, max(arr.max(), cfg.down_s) + 0.2, 0.1))[0]
    recovered = int(cfg.down_s * 10)
    return HerdResult(config=cfg, calls=len(arrivals), served=len(done), gave_up=gave_up,
                      drain_s=max(done) if done else float("nan"), arrivals_per_100ms=counts.tolist(),
                      peak_after_recovery=int(counts[recovered:].max()) if len(counts) > recovered else 0)
