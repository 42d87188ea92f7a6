"""Graders for chapter 6, Caching, labs 1-4 (labs/06-caching/01-04).

The reasoning behind each answer is in the lab's dropdown solution."""

from __future__ import annotations

import math

from ..check import Feedback, close_to, grader, one_of, same_set


# -- lab 1: cache-aside ----------------------------------------------------------------------------
@grader("caching.mean-latency")
def mean_latency(answer) -> Feedback:
    """90% hits at 0.3 ms, 10% misses at 40 ms: the mean latency in ms."""
    expected = 0.9 * 0.3 + 0.1 * 40
    return close_to(answer, expected, rel=0.03, unit=" ms", hints={
        0.1 * 0.3 + 0.9 * 40: "That weights the miss latency by the hit rate: swap the weights "
                              "(90% of requests take 0.3 ms, 10% take 40 ms).",
        (0.3 + 40) / 2: "That is the plain average of the two latencies; "
                        "weight each by how often it happens.",
        0.3: "That is the latency of a hit only; the 10% of misses still count toward the mean.",
    })


@grader("caching.hit-rate-needed")
def hit_rate_needed(answer) -> Feedback:
    """Hit rate h with 0.3 h + 40 (1 - h) = 5."""
    value = float(answer)
    if value > 1:
        return Feedback(False, "Give the hit rate as a fraction between 0 and 1 (e.g. 0.5 for 50%).")
    expected = 35 / 39.7
    return close_to(value, expected, rel=0.01, hints={
        5 / 40: "That is the fraction of requests that may miss, not the hit rate: "
                "the hit rate is one minus it.",
        1 - 35 / 39.7: "That is the miss rate; the hit rate is one minus it.",
    })


@grader("caching.invalidate-order")
def invalidate_order(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "Writing the cache first can leave a value in the cache that the database then rejects "
             "(a failed transaction): readers see data that never existed.",
        "b": "Right: update the source of truth, then delete the cached copy so the next read refetches it.",
        "c": "Close, but deleting first leaves a window: another request misses, reads the old row and "
             "caches it again before your update commits.",
        "d": "The TTL bounds how long a stale value lives, but readers see the old value until it expires.",
    })


# -- lab 2: write-through vs write-back -----------------------------------------------------------
@grader("caching.writes-at-risk")
def writes_at_risk(answer) -> Feedback:
    """Flush every 2 s at 3,000 acknowledged writes/s: the worst-case loss on a cache crash."""
    return close_to(answer, 6000, rel=0.02, unit=" writes", hints={
        3000: "That is one second of writes, or the average case (a crash lands mid-interval). In the worst "
              "case the crash lands just before a flush, when a whole two-second interval is unflushed.",
        1500: "That is half a second of writes. The crash can land just before a flush: "
              "a whole interval of writes is then unflushed.",
    })


@grader("caching.flush-rows")
def flush_rows(answer) -> Feedback:
    """3,000 writes to 200 users in one flush interval: the most rows one flush upserts."""
    value = float(answer)
    if math.isclose(value, 3000, rel_tol=0.02):
        return Feedback(False, "Writes to the same user coalesce: the dirty set holds each user id once "
                               "and the flusher writes each user's latest value once.")
    return close_to(value, 200, rel=0.01, unit=" rows")


@grader("caching.write-back-ok")
def write_back_ok(answer) -> Feedback:
    """Which workloads can afford write-back: the ones where losing the last seconds is acceptable."""
    if isinstance(answer, str):
        answer = [c for c in answer.replace(",", " ").split() if c]
    got = {str(x).strip().lower() for x in answer}
    fb = same_set(got, {"b", "d"}, name="workloads")
    if fb.ok:
        return Feedback(True, "Right: like counters and last-seen timestamps tolerate losing a few seconds; "
                              "balances, passwords and human-made labels do not.")
    notes = {"a": "a (balances): an acknowledged payment must never vanish; use write-through.",
             "c": "c (passwords): a user told 'password changed' must not get the old one back.",
             "e": "e (annotator labels): people's work is expensive to redo; "
                  "make it durable before acknowledging."}
    wrong = [notes[k] for k in sorted(got & set(notes))]
    missing = sorted({"b", "d"} - got)
    extra = (" Also consider: " + ", ".join(missing) + " (losing a few seconds of these is harmless)."
             if missing else "")
    return Feedback(False, (" ".join(wrong) or fb.message) + extra)


# -- lab 3: eviction --------------------------------------------------------------------------------
@grader("caching.ideal-hit-rate")
def ideal_hit_rate(answer) -> Feedback:
    """Best static hit rate of 500 keys, Zipf(skew 1.0) over 5,000 keys: the top 500 probabilities."""
    from ..workload import zipf_probabilities  # noqa: PLC0415

    expected = float(zipf_probabilities(5000, 1.0)[:500].sum())
    value = float(answer)
    if value > 1:
        return Feedback(False, "Give the hit rate as a fraction between 0 and 1.")
    return close_to(value, expected, rel=0.02, hints={
        0.1: "500 of 5,000 keys is 10% of the keys, but not 10% of the requests: popular keys get far "
             "more than their share. Sum the probabilities of the 500 most popular keys.",
        float(zipf_probabilities(5000, 1.0)[0]): "That is the most popular key alone; add the next 499.",
    })


@grader("caching.samples-one")
def samples_one(answer) -> Feedback:
    """Which bar LRU with maxmemory-samples 1 landed next to in the drifting run (measured: random)."""
    key = str(answer).strip().lower().replace("-", " ")
    if key in ("lru", "exactlru"):
        key = "exact lru"
    return one_of(key, "random", {
        "exact lru": "Look at the bars again: with one sample per eviction Redis rarely finds the key that "
                     "is really the oldest; that takes about 10 samples.",
        "lfu": "Redis never looks at counts under allkeys-lru, and LFU collapsed on this workload.",
        "random": "Right: about random. Not random by construction, though: each sample joins a 16-entry "
                  "eviction pool kept across evictions, and Redis evicts the idlest key in the pool. One new "
                  "candidate per eviction is simply too few to find the truly old keys.",
    })


@grader("caching.policy-for-drift")
def policy_for_drift(answer) -> Feedback:
    return one_of(answer, "lru", {
        "lru": "Right: recency tracks what is hot now; yesterday's hits stop protecting yesterday's stories.",
        "lfu": "LFU keeps yesterday's stories because of their large counts, and evicts today's before they "
               "build one: the drifting run in this lab shows how badly that goes.",
        "random": "Random eviction does adapt, but it evicts today's hot stories as readily as old ones; "
                  "LRU does better whenever recent use predicts the next use.",
    })


# -- lab 4: TTL and staleness -----------------------------------------------------------------------
@grader("caching.ttl-for-staleness")
def ttl_for_staleness(answer) -> Feedback:
    """Feature changes once an hour (Poisson); at most 5% of hits stale: the longest TTL, in minutes."""
    lo, hi = 0.01, 2.0  # solve 1 - (1 - exp(-x)) / x = 0.05 for x = TTL x update rate
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if 1 - (1 - math.exp(-mid)) / mid > 0.05 else (mid, hi)
    expected_min = lo * 60
    value = float(answer)
    if math.isclose(value, expected_min / 60, rel_tol=0.08):
        return Feedback(False, "Answer in minutes, not hours.")
    fb = close_to(value, expected_min, rel=0.06, unit=" min", hints={
        3: "That makes 5% of hits stale only if every hit were as old as the TTL. A hit's age is spread "
           "evenly between 0 and the TTL, so about (update rate x TTL) / 2 of hits are stale.",
        60: "With a one-hour TTL about 37% of hits would be stale (1 - (1 - e^-1) / 1).",
    })
    if fb.ok:
        return Feedback(True, f"Right: about {expected_min:.1f} minutes (the rule of thumb "
                              f"rate x TTL / 2 = 5% gives 6 minutes).")
    return fb


@grader("caching.why-keep-ttl")
def why_keep_ttl(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "A TTL does not make reads faster; if anything it causes extra misses.",
        "b": "Right: an invalidation can be lost (a crash between the database write and the DEL) or "
             "raced (a slow reader re-caches an old value). The TTL caps how long such a mistake lives.",
        "c": "Redis keys do not need a TTL; without one they live until evicted or deleted.",
        "d": "A TTL only ever lowers the hit rate: it removes entries that might still have been hit.",
    })


# -- lab 4, build-it: a single-flight refill that stops a cache stampede ----------------------------
_HERD, _LOAD_S, _CRASH_DEADLINE_S = 10, 0.25, 6.0


class _SlowLoader:
    """The expensive computation behind the cache: counts its calls and how many ran at once."""

    def __init__(self, value: str = "v1", delay_s: float = _LOAD_S):
        import threading  # noqa: PLC0415

        self.value, self.delay_s = value, delay_s
        self.calls = self.running = self.max_running = 0
        self._lock = threading.Lock()

    def __call__(self):
        import time  # noqa: PLC0415

        with self._lock:
            self.calls += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(self.delay_s)
        with self._lock:
            self.running -= 1
        return self.value


def _call_all(fn, n: int, deadline_s: float):
    """Call ``fn`` from ``n`` threads released at the same moment; return (results, finished in time)."""
    import threading  # noqa: PLC0415

    barrier, results, errors = threading.Barrier(n), [None] * n, []

    def one(i):
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - report whatever the learner's code raised
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=deadline_s)
    if errors:
        raise errors[0]
    return results, not any(t.is_alive() for t in threads)


def _crash_mid_load(srv, get_or_compute, key: str) -> None:
    """A forked process takes the refill job and is SIGKILLed while its loader runs (no finally runs)."""
    import multiprocessing  # noqa: PLC0415
    import os  # noqa: PLC0415
    import time  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    ctx = multiprocessing.get_context("fork")
    loading = ctx.Event()

    def doomed():
        def loader():
            loading.set()
            time.sleep(60)
            return "never"
        try:
            get_or_compute(srv.client(), key, loader, 60)
        finally:
            os._exit(0)

    proc = ctx.Process(target=doomed, daemon=True)
    with warnings.catch_warnings():  # forking a threaded kernel is fine here: the child only runs the refill
        warnings.simplefilter("ignore", DeprecationWarning)
        proc.start()
    loading.wait(timeout=5)
    proc.kill()
    proc.join(timeout=5)


@grader("caching.build-single-flight")
def build_single_flight(get_or_compute) -> Feedback:
    """Runs ``get_or_compute(r, key, loader, ttl_s)`` against a real Redis: one call, a herd of
    concurrent misses on one key, and a refill whose owner crashes mid-load."""
    from .. import services  # noqa: PLC0415

    if not callable(get_or_compute):
        return Feedback(False, "Pass the function itself: check(..., get_or_compute).")
    with services.redis(name="grader-single-flight") as srv:
        r = srv.client()
        # 1. a plain miss, then a hit
        loader = _SlowLoader("v1", delay_s=0.01)
        first = get_or_compute(r, "item:1", loader, 60)
        second = get_or_compute(r, "item:1", loader, 60)
        if first != "v1" or second != "v1":
            return Feedback(False, f"get_or_compute should return the loader's value 'v1'; it returned "
                                   f"{first!r}, then {second!r}.")
        ttl = r.ttl("item:1")
        if ttl == -2 or loader.calls > 1:
            return Feedback(False, "The second call ran the loader again: store the loaded value in Redis "
                                   "(SET key value EX ttl_s) so the next request is a hit.")
        if ttl == -1:
            return Feedback(False, "The value was cached without a TTL: pass ex=ttl_s, or a stale entry "
                                   "lives until it is evicted.")
        # 2. the stampede: a hot key just expired and ten requests miss at once
        loader = _SlowLoader("v2")
        results, finished = _call_all(lambda: get_or_compute(srv.client(), "hot", loader, 60), _HERD, 8.0)
        if not finished:
            return Feedback(False, f"Some of the {_HERD} concurrent callers never returned: a waiter must keep "
                                   "re-reading the cache (and retry the lock) until the value appears, and "
                                   "the lock owner must release the lock when it is done.")
        if any(v != "v2" for v in results):
            return Feedback(False, f"Concurrent callers got {sorted(set(map(repr, results)))}; every one "
                                   "should get the loaded value 'v2' (waiters read it from the cache).")
        if loader.max_running > 1:
            return Feedback(False, f"{_HERD} requests missed at once and the loader ran {loader.calls} times, "
                                   f"{loader.max_running} at the same moment: that is a cache stampede "
                                   "(thundering herd). Let only one caller refill: take a lock with "
                                   "SET lock:key token NX PX ..., and make the others wait for the value.")
        if loader.calls > 1:
            return Feedback(False, f"Only one loader ran at a time, but it ran {loader.calls} times: each waiter "
                                   "took the lock after the first owner released it and loaded again. "
                                   "Re-check the cache after acquiring the lock (someone may have filled it "
                                   "while you waited).")
        # 3. the lock owner crashes in the middle of the load
        _crash_mid_load(srv, get_or_compute, "crashy")
        loader = _SlowLoader("v3", delay_s=0.05)
        results, finished = _call_all(lambda: get_or_compute(srv.client(), "crashy", loader, 60), 3,
                                      _CRASH_DEADLINE_S)
        if not finished:
            return Feedback(False, "The process holding the refill lock was killed mid-load, and every later "
                                   f"caller was still waiting {_CRASH_DEADLINE_S:.0f} s later: a lock without an "
                                   "expiry deadlocks the key when its owner crashes (a finally block never "
                                   "runs after SIGKILL). Give the lock a timeout a bit longer than a load: "
                                   "SET lock:key token NX PX 2000.")
        if results != ["v3"] * 3 or loader.calls != 1:
            return Feedback(False, f"After the crashed owner's lock expired, callers got {results} with "
                                   f"{loader.calls} loads; exactly one should reload and all should get 'v3'.")
    return Feedback(True, f"Right: {_HERD} concurrent misses ran the loader once, and a refill whose owner was "
                          "SIGKILLed mid-load was taken over once its lock expired.")
