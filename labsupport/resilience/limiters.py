"""Rate limiters whose state lives in Valkey/Redis, so every API replica shares one budget per user.

    lim = FixedWindow(r, limit=20, window_s=1.0)      # INCR a counter per window (atomic)
    lim = SlidingLog(r, limit=20, window_s=1.0)       # a sorted set of timestamps (Lua)
    lim = SlidingCounter(r, limit=20, window_s=1.0)   # two counters, the previous one weighted (Lua)
    lim = TokenBucket(r, capacity=20, rate_per_s=20)  # tokens refill continuously (Lua)
    lim = RacyFixedWindow(r, limit=20, window_s=1.0)  # GET, compare, then INCR: the race, on purpose
    lim = LocalFixedWindow(limit=20, window_s=1.0)    # in-process counter: one budget per replica
    d = lim.check("alice");  d.allowed, d.retry_after_s
    wait_ms = run_bucket_script(r, TOKEN_BUCKET_LUA, "tb:alice", capacity=5, rate_per_s=2, now_ms=0)

Time comes from the caller (``now`` in seconds, default ``time.time()``): the replicas here share one
host clock. Across machines, read the server's clock instead (``redis.call('TIME')`` inside the script).
A Lua script runs atomically on the server: no other command runs between its reads and its writes.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    retry_after_s: float = 0.0  # when denied: how long until a request could be admitted


FIXED_WINDOW_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n <= tonumber(ARGV[1]) then return 0 end
return -1
"""

SLIDING_LOG_LUA = """
local limit, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
"""

SLIDING_COUNTER_LUA = """
local limit, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local elapsed = (now % window) / window
if prev * (1 - elapsed) + cur + 1 <= limit then
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(2 * window))
  return 0
end
local to_next = math.ceil(window - (now % window))
if cur + 1 > limit or prev == 0 then return math.max(1, to_next) end
local need = 1 - (limit - 1 - cur) / prev
return math.max(1, math.ceil((need - elapsed) * window))
"""

TOKEN_BUCKET_LUA = """
-- KEYS[1]: the bucket (a hash: tokens, ts). ARGV: capacity, refill per second, now (ms), cost.
-- Returns 0 when admitted, else the milliseconds until enough tokens will be there.
local cap, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost = tonumber(ARGV[4] or '1')
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, ts = cap, now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(ts, now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
return wait
"""


def run_bucket_script(r, lua: str, key: str, capacity: float, rate_per_s: float, now_ms: float, cost: int = 1) -> int:
    """Run a token-bucket script (``TOKEN_BUCKET_LUA`` or a learner's): 0 = admitted, else ms to wait."""
    return int(r.eval(lua, 1, key, capacity, rate_per_s, int(now_ms), cost))


def _now(now):
    return time.time() if now is None else now


class FixedWindow:
    """Count requests per aligned window (second 0-1, 1-2, ...); at most ``limit`` per window."""

    name = "fixed window"

    def __init__(self, r, limit: int, window_s: float, prefix: str = "fw"):
        self.r, self.limit, self.window_s, self.prefix = r, limit, window_s, prefix
        self._script = r.register_script(FIXED_WINDOW_LUA)

    def check(self, user: str, now: float | None = None) -> Decision:
        now = _now(now)
        idx = int(now // self.window_s)
        out = self._script(keys=[f"{self.prefix}:{user}:{idx}"], args=[self.limit, int(self.window_s * 2000)])
        return Decision(True) if out == 0 else Decision(False, (idx + 1) * self.window_s - now)


class RacyFixedWindow(FixedWindow):
    """The same fixed window written as GET, compare, INCR: two round trips, and a race between them."""

    name = "fixed window, GET then INCR"

    def check(self, user: str, now: float | None = None) -> Decision:
        now = _now(now)
        idx = int(now // self.window_s)
        key = f"{self.prefix}:{user}:{idx}"
        count = int(self.r.get(key) or 0)           # another replica can read the same count here...
        if count >= self.limit:
            return Decision(False, (idx + 1) * self.window_s - now)
        self.r.incr(key)                             # ...and both increment: both are admitted
        self.r.pexpire(key, int(self.window_s * 2000))
        return Decision(True)


class SlidingLog:
    """Keep a timestamp per admitted request; admit while fewer than ``limit`` lie in the last window."""

    name = "sliding-window log"

    def __init__(self, r, limit: int, window_s: float, prefix: str = "sl"):
        self.r, self.limit, self.window_s, self.prefix = r, limit, window_s, prefix
        self._script = r.register_script(SLIDING_LOG_LUA)

    def check(self, user: str, now: float | None = None) -> Decision:
        now_ms = _now(now) * 1000
        wait = self._script(keys=[f"{self.prefix}:{user}"],
                            args=[self.limit, self.window_s * 1000, now_ms, uuid.uuid4().hex])
        return Decision(wait == 0, wait / 1000)


class SlidingCounter:
    """Estimate the last window's count from this window's and the previous one's, weighted by overlap."""

    name = "sliding-window counter"

    def __init__(self, r, limit: int, window_s: float, prefix: str = "sc"):
        self.r, self.limit, self.window_s, self.prefix = r, limit, window_s, prefix
        self._script = r.register_script(SLIDING_COUNTER_LUA)

    def check(self, user: str, now: float | None = None) -> Decision:
        now_ms = _now(now) * 1000
        w = self.window_s * 1000
        idx = int(now_ms // w)
        wait = self._script(keys=[f"{self.prefix}:{user}:{idx}", f"{self.prefix}:{user}:{idx - 1}"],
                            args=[self.limit, w, now_ms])
        return Decision(wait == 0, wait / 1000)


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate_per_s``; each request takes one."""

    name = "token bucket"

    def __init__(self, r, capacity: float, rate_per_s: float, prefix: str = "tb", lua: str = TOKEN_BUCKET_LUA):
        self.r, self.capacity, self.rate_per_s, self.prefix = r, capacity, rate_per_s, prefix
        self._script = r.register_script(lua)

    def check(self, user: str, now: float | None = None, cost: int = 1) -> Decision:
        wait = self._script(keys=[f"{self.prefix}:{user}"],
                            args=[self.capacity, self.rate_per_s, int(_now(now) * 1000), cost])
        return Decision(wait == 0, wait / 1000)


class LocalFixedWindow:
    """A fixed window counted in this process only: each replica enforces its own ``limit``."""

    name = "fixed window, per replica"

    def __init__(self, limit: int, window_s: float):
        self.limit, self.window_s = limit, window_s
        self.counts: dict = {}
        self.lock = threading.Lock()

    def check(self, user: str, now: float | None = None) -> Decision:
        now = _now(now)
        idx = int(now // self.window_s)
        with self.lock:
            n = self.counts.get((user, idx), 0) + 1
            self.counts[(user, idx)] = n
        return Decision(True) if n <= self.limit else Decision(False, (idx + 1) * self.window_s - now)


def retry_after_header(d: Decision) -> str:
    """The Retry-After value (whole seconds, at least 1) for a denied request."""
    return str(max(1, math.ceil(d.retry_after_s)))
