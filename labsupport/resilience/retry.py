"""Retry policies: how long to wait before retry number k, and a budget that caps retries overall.

    backoff("none", k, rng)                          # a few ms: retry at once (the thundering herd)
    backoff("exponential", k, rng, base_s=0.1)       # 0.1, 0.2, 0.4, ... capped: every client in step
    backoff("full", k, rng)                          # uniform(0, exponential): full jitter
    backoff("decorrelated", k, rng, prev_s=0.4)      # uniform(base, 3 x previous wait), capped
    budget = RetryBudget(ratio=0.2, initial=10)      # retries <= 20% of first tries (+ 10 to start)
    budget.on_request(); budget.can_retry()          # a first try earns 0.2; a retry spends 1
    recent = WindowRetryBudget(ratio=0.1, floor=3, window_s=10)  # retries <= 10% of the last 10 s's requests, + 3
    await call_with_retries(send, "full", rng, attempts=12, budget=budget)  # -> (final status, attempts)
    await call_with_retries(send, "full", rng, attempts=3, deadline=t)      # no retry starts after monotonic t

``k`` counts retries from 0. Waits are capped at ``cap_s``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque


def backoff(policy: str, k: int, rng: random.Random, base_s: float = 0.1, cap_s: float = 4.0,
            prev_s: float | None = None) -> float:
    """Seconds to wait before retry ``k`` (0 = the first retry)."""
    exp = min(cap_s, base_s * 2 ** k)
    if policy == "none":
        return 0.005
    if policy == "exponential":
        return exp
    if policy == "full":
        return rng.uniform(0, exp)
    if policy == "decorrelated":
        return min(cap_s, rng.uniform(base_s, 3 * (prev_s or base_s)))
    raise ValueError(f"unknown policy {policy!r}")


class RetryBudget:
    """Allow retries up to ``ratio`` of the first tries seen (plus ``initial``), shared by a client's calls."""

    def __init__(self, ratio: float = 0.2, initial: float = 10.0):
        self.ratio, self.tokens = ratio, initial
        self.denied = 0

    def on_request(self) -> None:
        self.tokens += self.ratio

    def can_retry(self) -> bool:
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.denied += 1
        return False


class WindowRetryBudget:
    """Allow retries up to ``ratio`` of the requests of the last ``window_s`` seconds, plus ``floor``
    (a per-process budget, as in Finagle, gRPC retry throttling or Envoy's retry budget).

    Unlike RetryBudget, savings expire: an hour of healthy traffic does not buy a burst of retries later.
    """

    def __init__(self, ratio: float = 0.1, floor: int = 3, window_s: float = 10.0, clock=time.monotonic):
        self.ratio, self.floor, self.window_s, self.clock = ratio, floor, window_s, clock
        self.requests: deque[float] = deque()
        self.retries: deque[float] = deque()
        self.allowed = self.denied = 0

    def _expire(self, now: float) -> None:
        for q in (self.requests, self.retries):
            while q and q[0] <= now - self.window_s:
                q.popleft()

    def on_request(self) -> None:
        now = self.clock()
        self._expire(now)
        self.requests.append(now)

    def can_retry(self) -> bool:
        now = self.clock()
        self._expire(now)
        if len(self.retries) < self.floor + self.ratio * len(self.requests):
            self.retries.append(now)
            self.allowed += 1
            return True
        self.denied += 1
        return False


async def call_with_retries(send, policy: str, rng: random.Random, attempts: int = 12, budget=None,
                            retry_on=(429, 500, 502, 503, 504, 599), deadline: float | None = None,
                            **kw) -> tuple[int, int]:
    """``await send()`` returns a status; retry on ``retry_on`` with ``policy``. Returns (status, attempts).

    ``budget``: a RetryBudget or WindowRetryBudget; ``deadline``: a ``time.monotonic()`` instant after
    which no retry starts (the caller has given up by then)."""
    if budget is not None:
        budget.on_request()
    prev = None
    for n in range(1, attempts + 1):
        status = await send()
        if status not in retry_on or n == attempts:
            return status, n
        prev = backoff(policy, n - 1, rng, prev_s=prev, **kw)
        if deadline is not None and time.monotonic() + prev >= deadline:
            return status, n
        if budget is not None and not budget.can_retry():
            return status, n
        await asyncio.sleep(prev)
    return status, attempts
