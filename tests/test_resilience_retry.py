"""labsupport.resilience.retry: the policies' waits and the retry budget (no servers)."""

import asyncio
import random

import pytest

from labsupport.resilience.retry import RetryBudget, backoff, call_with_retries


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
