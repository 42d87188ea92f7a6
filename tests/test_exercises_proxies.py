"""Graders of chapter 4 (labsupport/exercises/proxies.py): right answers pass, typical mistakes get a hint."""

from __future__ import annotations

import pytest

from labsupport.check import get, grade


def fb(exercise, answer):
    return grade(exercise, answer)


def test_all_chapter_4_graders_are_registered():
    """Every exercise the chapter 4 labs call exists."""
    for ex in ("proxies.rate-limit-accepted", "proxies.tls-hop", "proxies.cache-backend-calls",
               "proxies.gzip-saving-ms", "proxies.shared-limit", "proxies.gateway-jobs", "proxies.billable-calls"):
        assert callable(get(ex))


@pytest.mark.parametrize("answer", [20, 21, 19.5])
def test_rate_limit_accepted_right(answer):
    """5 r/s for 4 s: about 20, give or take one at the edges."""
    assert fb("proxies.rate-limit-accepted", answer).ok


@pytest.mark.parametrize("answer, words", [(80, "everything the client sent"), (60, "429"), (5, "per second"),
                                           (40, "too high")])
def test_rate_limit_accepted_wrong(answer, words):
    """Offered, refused and per-second counts each get their own explanation."""
    f = fb("proxies.rate-limit-accepted", answer)
    assert not f.ok and words in f.message


def test_tls_hop():
    """Only the client's hop is encrypted under termination; every other choice is explained."""
    assert fb("proxies.tls-hop", "client-proxy").ok
    assert fb("proxies.tls-hop", " Client-Proxy ").ok
    for wrong, words in [("proxy-backend", "other way round"), ("both", "re-encryption"), ("neither", "TLS")]:
        f = fb("proxies.tls-hop", wrong)
        assert not f.ok and words in f.message
    assert "Choose one of" in fb("proxies.tls-hop", "https").message


def test_cache_backend_calls():
    """One miss per distinct URL: 10."""
    assert fb("proxies.cache-backend-calls", 10).ok
    for wrong, words in [(500, "no cache"), (50, "not the user"), (1, "each of the 10"), (490, "HITs")]:
        f = fb("proxies.cache-backend-calls", wrong)
        assert not f.ok and words in f.message, (wrong, f.message)


def test_gzip_saving_ms():
    """1600 ms uncompressed minus 200 ms compressed."""
    assert fb("proxies.gzip-saving-ms", 1400).ok
    assert fb("proxies.gzip-saving-ms", 1390).ok
    for wrong, words in [(1600, "uncompressed"), (200, "compressed transfer time"), (1.4, "seconds"),
                         (175, "8 bits"), (11200, "bits per second")]:
        f = fb("proxies.gzip-saving-ms", wrong)
        assert not f.ok and words in f.message, (wrong, f.message)


def test_shared_limit():
    """3 replicas with their own memory: 3 x 2 r/s."""
    assert fb("proxies.shared-limit", 6).ok
    f = fb("proxies.shared-limit", 2)
    assert not f.ok and "Redis" in f.message
    f = fb("proxies.shared-limit", 2 / 3)
    assert not f.ok and "third" in f.message


def test_gateway_jobs():
    """Auth, limits, routing and metering; model-specific work is called out by name."""
    assert fb("proxies.gateway-jobs", ["auth", "rate_limit", "routing", "metering"]).ok
    assert fb("proxies.gateway-jobs", ("Metering", "routing", "RATE_LIMIT", "auth")).ok
    f = fb("proxies.gateway-jobs", ["auth", "rate_limit", "routing", "metering", "inference"])
    assert not f.ok and "inference" in f.message and "model server" in f.message
    f = fb("proxies.gateway-jobs", ["auth", "routing"])
    assert not f.ok and "missing" in f.message
    f = fb("proxies.gateway-jobs", ["auth", "caching"])
    assert not f.ok and "Unknown" in f.message


def test_billable_calls():
    """Bill the 200s only."""
    assert fb("proxies.billable-calls", 7).ok
    for wrong, words in [(53, "every request"), (51, "429s"), (9, "502s"), (44, "refused")]:
        f = fb("proxies.billable-calls", wrong)
        assert not f.ok and words in f.message, (wrong, f.message)


def test_unanswered_is_pending_not_wrong():
    """The placeholder answer asks for an answer instead of marking it wrong."""
    assert "Not answered" in fb("proxies.shared-limit", None).message


# -- build-it: a per-key token bucket in Redis, graded with concurrent gateway threads ----------------------
from buildit import defined  # noqa: E402
from grading import ok, wrong  # noqa: E402

BUCKET_RIGHT = '''
BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
tokens = math.min(burst, tokens + (now - last) * rate)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 3600)
return ok
"""

def admit(r, api_key, rate_per_s, burst):
    return r.eval(BUCKET, 1, f"bucket:{api_key}", rate_per_s, burst) == 1
'''
BUCKET_RACY = '''
import time

def admit(r, api_key, rate_per_s, burst):
    k = f"bucket:{api_key}"
    state = r.hgetall(k)
    now = time.time()
    tokens = float(state.get("tokens", burst))
    last = float(state.get("at", now))
    tokens = min(burst, tokens + (now - last) * rate_per_s)
    ok = tokens >= 1
    r.hset(k, mapping={"tokens": tokens - 1 if ok else tokens, "at": now})
    return ok
'''
BUCKET_NO_REFILL = '''
def admit(r, api_key, rate_per_s, burst):
    return r.incr(f"used:{api_key}") <= burst
'''
BUCKET_ONE_FOR_ALL = BUCKET_RIGHT.replace('f"bucket:{api_key}"', '"bucket:all"')
BUCKET_IN_MEMORY = '''
import threading, time
_buckets, _lock = {}, threading.Lock()

def admit(r, api_key, rate_per_s, burst):
    with _lock:
        now = time.monotonic()
        tokens, last = _buckets.get(api_key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate_per_s)
        ok = tokens >= 1
        _buckets[api_key] = (tokens - 1 if ok else tokens, now)
        return ok
'''


def _fn(source: str):
    return defined(source, "admit")


def test_build_token_bucket_accepts_an_atomic_lua_bucket():
    """A Lua script: refill, take and store in one step; 16 threads cannot overspend it."""
    ok("proxies.build-token-bucket", _fn(BUCKET_RIGHT))


def test_build_token_bucket_names_each_typical_mistake():
    """Read-then-write from Python (lost updates), no refill, one bucket for all keys, a Python dict."""
    wrong("proxies.build-token-bucket", _fn(BUCKET_RACY), "lost updates", "atomic")
    wrong("proxies.build-token-bucket", _fn(BUCKET_NO_REFILL), "never come back")
    wrong("proxies.build-token-bucket", _fn(BUCKET_ONE_FOR_ALL), "one bucket")
    wrong("proxies.build-token-bucket", _fn(BUCKET_IN_MEMORY), "replica")


def test_build_token_bucket_in_the_lab_notebook():
    """The lab's own check cell grades a right and a racy bucket injected into its kernel."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/04-proxies/02-api-gateway.ipynb", "proxies.build-token-bucket",
                                {"right": BUCKET_RIGHT, "racy": BUCKET_RACY})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["racy"].ok and "atomic" in verdicts["racy"].message
