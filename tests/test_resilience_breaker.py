"""labsupport.resilience.breaker on a fake clock: the three states and their transitions."""

import pytest

from labsupport.resilience.breaker import CircuitBreaker, CircuitOpen


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def boom():
    raise TimeoutError("feature store timed out")


def test_opens_after_fail_max_failures_and_short_circuits():
    clock = Clock()
    cb = CircuitBreaker(fail_max=3, reset_timeout_s=1.0, clock=clock)
    calls = []
    for _ in range(3):
        assert cb.call(boom, fallback=lambda: "fallback") == "fallback"
    assert cb.state == "open"
    assert cb.call(lambda: calls.append(1), fallback=lambda: "fallback") == "fallback"
    assert calls == []  # the dependency is not called while open
    with pytest.raises(CircuitOpen):
        cb.call(lambda: 1)


def test_a_success_resets_the_failure_count():
    cb = CircuitBreaker(fail_max=3, clock=Clock())
    for _ in range(2):
        cb.call(boom, fallback=lambda: None)
    cb.call(lambda: 1)
    for _ in range(2):
        cb.call(boom, fallback=lambda: None)
    assert cb.state == "closed"


def test_half_open_trial_closes_on_success_and_reopens_on_failure():
    clock = Clock()
    cb = CircuitBreaker(fail_max=1, reset_timeout_s=1.0, clock=clock)
    cb.call(boom, fallback=lambda: None)
    clock.t = 1.5
    cb.call(boom, fallback=lambda: None)  # the trial fails
    assert cb.state == "open" and cb.opened_at == 1.5
    clock.t = 2.6
    assert cb.call(lambda: "ok") == "ok"
    assert [s for _, s in cb.history] == ["closed", "open", "half_open", "open", "half_open", "closed"]


def test_only_one_trial_at_a_time_in_half_open():
    clock = Clock()
    cb = CircuitBreaker(fail_max=1, reset_timeout_s=1.0, clock=clock)
    cb.call(boom, fallback=lambda: None)
    clock.t = 2.0
    assert cb._admit() is True  # the trial
    assert cb._admit() is False  # everyone else still gets the fallback
