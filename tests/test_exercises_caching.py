"""Graders of chapter 6 labs 1-4 (labsupport/exercises/caching.py): right answers pass, typical wrong ones
get feedback that says what went wrong."""

import pytest

from buildit import defined
from grading import ok, wrong
from labsupport.check import get


def test_every_grader_is_registered():
    """All eleven ids of labs 1-4 resolve to a grader."""
    for ex in ["mean-latency", "hit-rate-needed", "invalidate-order", "writes-at-risk", "flush-rows",
               "write-back-ok", "ideal-hit-rate", "samples-one", "policy-for-drift", "ttl-for-staleness",
               "why-keep-ttl"]:
        assert callable(get(f"caching.{ex}"))


def test_unanswered_is_not_right():
    """The placeholder None is reported as not answered yet."""
    wrong("caching.mean-latency", None, "not answered")


def test_mean_latency():
    """0.9 x 0.3 ms + 0.1 x 40 ms = 4.27 ms; swapped weights and plain averages are named."""
    ok("caching.mean-latency", 4.27)
    ok("caching.mean-latency", 4.3)
    wrong("caching.mean-latency", 36.03, "swap")
    wrong("caching.mean-latency", 20.15, "plain average")
    wrong("caching.mean-latency", 0.3, "misses")
    wrong("caching.mean-latency", 100, "too high")


def test_hit_rate_needed():
    """h = 35 / 39.7 = 0.88; a percentage and the miss rate are caught."""
    ok("caching.hit-rate-needed", 0.88)
    wrong("caching.hit-rate-needed", 88, "fraction")
    wrong("caching.hit-rate-needed", 0.118, "miss rate")
    wrong("caching.hit-rate-needed", 0.125, "one minus")


def test_invalidate_order():
    """Update the database, then delete the key; each wrong order gets its own reason."""
    ok("caching.invalidate-order", "b")
    ok("caching.invalidate-order", " B ")
    wrong("caching.invalidate-order", "a", "rejects")
    wrong("caching.invalidate-order", "c", "window")
    wrong("caching.invalidate-order", "d", "ttl")
    wrong("caching.invalidate-order", "e", "choose one of")


def test_writes_at_risk():
    """Worst case is a whole 2 s interval at 3,000 writes/s = 6,000 writes."""
    ok("caching.writes-at-risk", 6000)
    wrong("caching.writes-at-risk", 3000, "worst case")
    wrong("caching.writes-at-risk", 1500, "whole interval")


def test_flush_rows():
    """Writes coalesce per user: at most 200 rows."""
    ok("caching.flush-rows", 200)
    wrong("caching.flush-rows", 3000, "coalesce")
    wrong("caching.flush-rows", 15, "too low")


def test_write_back_ok():
    """Likes and last-seen can lose seconds; balances, passwords and labels cannot."""
    ok("caching.write-back-ok", ["b", "d"])
    ok("caching.write-back-ok", "d, b")
    wrong("caching.write-back-ok", ["a", "b", "d"], "balances")
    wrong("caching.write-back-ok", ["b", "d", "e"], "annotator")
    wrong("caching.write-back-ok", ["b"], "d")
    wrong("caching.write-back-ok", ["c"], "passwords")


def test_ideal_hit_rate():
    """Sum of the top 500 Zipf(1.0) probabilities over 5,000 keys, about 0.75."""
    ok("caching.ideal-hit-rate", 0.747)
    wrong("caching.ideal-hit-rate", 0.1, "not 10% of the requests")
    wrong("caching.ideal-hit-rate", 74.7, "fraction")
    wrong("caching.ideal-hit-rate", 0.9, "too high")


def test_samples_one():
    """One sample lands near random eviction (measured), though the eviction pool makes it not random."""
    fb = ok("caching.samples-one", "random")
    assert "pool" in fb.message
    wrong("caching.samples-one", "exact lru", "10 samples")
    wrong("caching.samples-one", "LRU", "10 samples")
    wrong("caching.samples-one", "lfu", "counts")


def test_policy_for_drift():
    """Drifting popularity favours LRU; LFU keeps yesterday's hits."""
    ok("caching.policy-for-drift", "LRU")
    wrong("caching.policy-for-drift", "lfu", "yesterday")
    wrong("caching.policy-for-drift", "random", "recent use")


@pytest.mark.parametrize("minutes", [6.0, 6.2, 6.5])
def test_ttl_for_staleness_right(minutes):
    """Updates once an hour, at most 5% stale hits: about 6.2 minutes (6 by the rule of thumb)."""
    ok("caching.ttl-for-staleness", minutes)


def test_ttl_for_staleness_wrong():
    """Forgetting the factor 1/2, answering in hours, or a one-hour TTL are each explained."""
    wrong("caching.ttl-for-staleness", 3, "evenly")
    wrong("caching.ttl-for-staleness", 0.1035, "minutes, not hours")
    wrong("caching.ttl-for-staleness", 60, "37%")


def test_why_keep_ttl():
    """The TTL is a safety net for lost or raced invalidations."""
    ok("caching.why-keep-ttl", "b")
    wrong("caching.why-keep-ttl", "a", "faster")
    wrong("caching.why-keep-ttl", "c", "do not need")
    wrong("caching.why-keep-ttl", "d", "lowers")


# -- build-it: single-flight refill (lab 4), graded against a real Redis --------------------------
SINGLE_FLIGHT_RIGHT = '''
import time, uuid

def get_or_compute(r, key, loader, ttl_s):
    lock = f"lock:{key}"
    while True:
        value = r.get(key)
        if value is not None:
            return value
        token = uuid.uuid4().hex
        if r.set(lock, token, nx=True, px=2000):
            try:
                value = r.get(key)
                if value is None:
                    value = loader()
                    r.set(key, value, ex=ttl_s)
                return value
            finally:
                if r.get(lock) == token:
                    r.delete(lock)
        time.sleep(0.02)
'''

SINGLE_FLIGHT_NO_LOCK = '''
def get_or_compute(r, key, loader, ttl_s):
    value = r.get(key)
    if value is None:
        value = loader()
        r.set(key, value, ex=ttl_s)
    return value
'''

SINGLE_FLIGHT_NO_EXPIRY = '''
import time

def get_or_compute(r, key, loader, ttl_s):
    while True:
        value = r.get(key)
        if value is not None:
            return value
        if r.set(f"lock:{key}", "1", nx=True):
            try:
                value = r.get(key)
                if value is None:
                    value = loader()
                    r.set(key, value, ex=ttl_s)
                return value
            finally:
                r.delete(f"lock:{key}")
        time.sleep(0.02)
'''

SINGLE_FLIGHT_NO_RECHECK = '''
import time

def get_or_compute(r, key, loader, ttl_s):
    value = r.get(key)
    if value is not None:
        return value
    while not r.set(f"lock:{key}", "1", nx=True, px=2000):
        time.sleep(0.02)
    try:
        value = loader()
        r.set(key, value, ex=ttl_s)
        return value
    finally:
        r.delete(f"lock:{key}")
'''

SINGLE_FLIGHT_NO_TTL = '''
def get_or_compute(r, key, loader, ttl_s):
    value = r.get(key)
    if value is None:
        value = loader()
        r.set(key, value)
    return value
'''


def _defined(source: str):
    return defined(source, "get_or_compute")


def test_single_flight_right():
    """Lock with expiry + re-check: ten concurrent misses load once; a SIGKILLed owner's lock expires."""
    ok("caching.build-single-flight", _defined(SINGLE_FLIGHT_RIGHT))


def test_single_flight_without_a_lock_is_a_stampede():
    """Plain cache-aside: all ten concurrent misses run the loader at once."""
    wrong("caching.build-single-flight", _defined(SINGLE_FLIGHT_NO_LOCK), "stampede", "lock")


def test_single_flight_without_lock_expiry_deadlocks_after_a_crash():
    """A lock with no PX: its owner is killed mid-load and every later caller waits forever."""
    wrong("caching.build-single-flight", _defined(SINGLE_FLIGHT_NO_EXPIRY), "deadlock", "expiry")


def test_single_flight_without_recheck_loads_once_per_waiter():
    """Waiters queue on the lock, then each loads again instead of reading the filled cache."""
    wrong("caching.build-single-flight", _defined(SINGLE_FLIGHT_NO_RECHECK), "re-check")


def test_single_flight_caches_with_a_ttl():
    """Storing without EX is caught before the concurrency scenarios."""
    wrong("caching.build-single-flight", _defined(SINGLE_FLIGHT_NO_TTL), "ttl")


def test_single_flight_skeleton_is_not_written_yet():
    """The notebook's skeleton raises NotImplementedError: reported as not written, not as wrong."""
    def get_or_compute(r, key, loader, ttl_s):
        raise NotImplementedError
    wrong("caching.build-single-flight", get_or_compute, "not written yet")


def test_single_flight_graded_inside_the_real_notebook():
    """testbook: the right solution and the lock-free one, injected into lab 4's build-it cell."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/06-caching/04-ttl-staleness.ipynb", "caching.build-single-flight",
                                {"right": SINGLE_FLIGHT_RIGHT, "no_lock": SINGLE_FLIGHT_NO_LOCK})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["no_lock"].ok and "stampede" in verdicts["no_lock"].message
