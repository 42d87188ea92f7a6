"""A circuit breaker: stop calling a dependency that keeps failing, answer with a fallback, test it now and then.

    cb = CircuitBreaker(fail_max=5, reset_timeout_s=1.0)
    value = cb.call(fetch_features, user, fallback=lambda: None)   # fallback when open or when the call fails
    cb.state          # "closed" | "open" | "half_open"
    cb.history        # [(monotonic time, state), ...]: every transition, for a timeline plot

closed: calls go through; ``fail_max`` failures in a row open it. open: calls are not made at all, the
fallback answers at once; after ``reset_timeout_s`` the next call is let through as a trial (half_open).
half_open: one trial at a time; success closes the breaker, failure opens it again.
Thread-safe (the model server calls it from its thread pool).
"""

from __future__ import annotations

import threading
import time


class CircuitOpen(RuntimeError):
    """Raised by ``call`` when the breaker is open and no fallback was given."""


class CircuitBreaker:
    def __init__(self, fail_max: int = 5, reset_timeout_s: float = 1.0, clock=time.monotonic):
        self.fail_max, self.reset_timeout_s, self.clock = fail_max, reset_timeout_s, clock
        self.state, self.failures, self.opened_at = "closed", 0, 0.0
        self.trial_running = False
        self.history: list[tuple[float, str]] = [(clock(), "closed")]
        self.counts = {"calls": 0, "short_circuited": 0, "failures": 0}
        self._lock = threading.Lock()

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.history.append((self.clock(), state))

    def _admit(self) -> bool:
        """Whether this call may go to the dependency (and, if half-open, become the trial)."""
        with self._lock:
            if self.state == "open" and self.clock() - self.opened_at >= self.reset_timeout_s:
                self._set("half_open")
            if self.state == "closed":
                return True
            if self.state == "half_open" and not self.trial_running:
                self.trial_running = True
                return True
            self.counts["short_circuited"] += 1
            return False

    def _record(self, ok: bool) -> None:
        with self._lock:
            was_trial = self.state == "half_open" and self.trial_running
            if was_trial:
                self.trial_running = False
            if ok:
                self.failures = 0
                if was_trial:
                    self._set("closed")
                return
            self.counts["failures"] += 1
            self.failures += 1
            if was_trial or (self.state == "closed" and self.failures >= self.fail_max):
                self.opened_at = self.clock()
                self._set("open")

    def call(self, fn, *args, fallback=None, **kwargs):
        self.counts["calls"] += 1
        if not self._admit():
            if fallback is None:
                raise CircuitOpen("circuit open")
            return fallback()
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self._record(False)
            if fallback is None:
                raise
            return fallback()
        self._record(True)
        return result
