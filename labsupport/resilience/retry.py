"""Retry policies: how long to wait before retry number k, and a budget that caps retries overall.

    backoff("none", k, rng)                          # a few ms: retry at once (the thundering herd)
    backoff("exponential", k, rng, base_s=0.1)       # 0.1, 0.2, 0.4, ... capped: every client in step
    backoff("full", k, rng)                          # uniform(0, exponential): full jitter
    backoff("decorrelated", k, rng, prev_s=0.4)      # uniform(base, 3 x previous wait), capped
    budget = RetryBudget(ratio=0.2, initial=10)      # retries <= 20% of first tries (+ 10 to start)
    budget.on_request(); budget.can_retry()          # a first try earns 0.2; a retry spends 1
    await call_with_retries(send, "full", rng, attempts=12, budget=budget)  # -> (final status, attempts)

``k`` counts retries from 0. Waits are capped at ``cap_s``.
"""

from __future__ import annotations

import asyncio
import random


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


async def call_with_retries(send, policy: str, rng: random.Random, attempts: int = 12, budget: RetryBudget | None = None,
                            retry_on=(429, 500, 502, 503, 504, 599), **kw) -> tuple[int, int]:
    """``await send()`` returns a status; retry on ``retry_on`` with ``policy``. Returns (status, attempts)."""
    if budget is not None:
        budget.on_request()
    prev = None
    for n in range(1, attempts + 1):
        status = await send()
        if status not in retry_on or n == attempts or (budget is not None and not budget.can_retry()):
            return status, n
        prev = backoff(policy, n - 1, rng, prev_s=prev, **kw)
        await asyncio.sleep(prev)
    return status, attempts
