"""labsupport.resilience.retry: the policies' waits and the retry budget (no servers)."""

import asyncio
import random

import pytest

from labsupport.resilience.retry import RetryBudget, WindowRetryBudget, backoff, call_with_retries


def test_exponential_doubles_up_to_the_cap_and_full_jitter_stays_below_it():
    rng = random.Random(1)
    assert [backoff("exponential", k, rng, base_s=0.1, cap_s=1.0) for k in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    waits = [backoff("full", 3, rng, base_s=0.1) for _ in range(2000)]
    assert 0 <= min(waits) and max(waits) <= 0.8
    assert 0.35 < sum(waits) / len(waits) < 0.45  # uniform on [0, 0.8]: mean 0.4


def test_decorrelated_jitter_grows_from_the_previous_wait():
    rng = random.Random(2)
    waits = [backoff("decorrelated", 0, rng, base_s=0.1, prev_s=1.0) for _ in range(1000)]
    assert min(waits) >= 0.1 and max(waits) <= 3.0 and max(waits) > 2.5


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError):
        backoff("linear", 0, random.Random())


def test_budget_caps_retries_at_its_ratio():
    b = RetryBudget(ratio=0.1, initial=0)
    allowed = 0
    for _ in range(100):
        b.on_request()
        allowed += b.can_retry()
    assert 9 <= allowed <= 10 and b.denied >= 90


def test_call_with_retries_stops_on_success_and_after_the_last_attempt():
    answers = iter([503, 503, 200])

    async def send():
        return next(answers)

    assert asyncio.run(call_with_retries(send, "none", random.Random(), attempts=5)) == (200, 3)

    async def down():
        return 503

    assert asyncio.run(call_with_retries(down, "none", random.Random(), attempts=4)) == (503, 4)


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_window_budget_allows_the_floor_then_its_share_of_recent_requests():
    clock = _Clock()
    b = WindowRetryBudget(ratio=0.1, floor=3, window_s=10, clock=clock)
    assert [b.can_retry() for _ in range(4)] == [True, True, True, False]  # no traffic yet: the floor only
    for _ in range(100):
        clock.t += 0.05
        b.on_request()
    allowed = sum(b.can_retry() for _ in range(50))
    assert allowed == 10, allowed  # 3 + 10% of 100 requests, minus the 3 already spent in the window


def test_window_budget_forgets_old_traffic():
    """An hour of healthy traffic must not buy a burst of retries in a later outage (RetryBudget would)."""
    clock = _Clock()
    window, tokens = WindowRetryBudget(ratio=0.1, floor=2, window_s=10, clock=clock), RetryBudget(ratio=0.1, initial=2)
    for _ in range(10_000):
        clock.t += 0.36  # an hour
        window.on_request()
        tokens.on_request()
    clock.t += 11  # the outage starts after 11 quiet seconds
    assert sum(window.can_retry() for _ in range(500)) == 2
    assert sum(tokens.can_retry() for _ in range(500)) == 500


def test_call_with_retries_respects_the_budget_and_the_deadline():
    import time

    async def down():
        return 503

    b = WindowRetryBudget(ratio=0.0, floor=1)
    assert asyncio.run(call_with_retries(down, "none", random.Random(), attempts=5, budget=b)) == (503, 2)
    assert b.denied == 1
    gone = time.monotonic() - 1  # the caller gave up a second ago: no retry starts
    assert asyncio.run(call_with_retries(down, "none", random.Random(), attempts=5, deadline=gone)) == (503, 1)
