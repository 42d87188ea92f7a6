"""Exact cache simulations: the yardstick the real Redis runs are held against.

    reqs = workload.zipf_requests(n_requests=20_000, n_keys=5_000, skew=1.0, seed=42)   # labsupport.workload
    hit_rate(reqs, capacity=500, policy="lru")        # exact LRU
    hit_rate(reqs, capacity=500, policy="lfu")        # in-cache LFU (a key's count is forgotten on eviction; ties: LRU)
    hit_rate(reqs, capacity=500, policy="perfect-lfu")  # perfect LFU (counts every key ever seen, evicted or not)
    hit_rate(reqs, capacity=500, policy="ttl")        # evict the soonest expiry (equal TTLs: oldest insert)
    hit_rate(reqs, capacity=500, policy="random", seed=1)
    hit_rate(reqs, capacity=500, policy="sampled-lru", samples=5, seed=1)   # Redis-style: oldest of N sampled
    hits = simulate(reqs, capacity=500, policy="lru")  # one bool per request
    ttl_staleness(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=50, duration_s=60, seed=42)
    stale_fraction_formula(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0)  # the same, closed form

Time is counted in requests (one tick per request). Why each policy wins or loses is in the chapter
``book/06-caching.md``; the labs in ``labs/06-caching`` replay the same workloads on a real server
(``labsupport.drivers.cache_replay``).
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict, defaultdict

import numpy as np

POLICIES = ("lru", "lfu", "perfect-lfu", "ttl", "fifo", "random", "sampled-lru")


# -- the caches ----------------------------------------------------------------------------------
class _LFU:
    """Exact LFU in O(1): buckets of equal count, least recently used first inside a bucket.

    In-cache LFU (the default) forgets a key's count when it is evicted, so a returning key starts at 1;
    ``perfect=True`` remembers every key's count for ever (the classic "perfect LFU")."""

    def __init__(self, perfect: bool = False):
        self.history: dict | None = {} if perfect else None
        self.count: dict = {}
        self.buckets: dict[int, OrderedDict] = defaultdict(OrderedDict)
        self.min_count = 0

    def __contains__(self, key):
        return key in self.count

    def __len__(self):
        return len(self.count)

    def touch(self, key):
        c = self.count[key]
        del self.buckets[c][key]
        if not self.buckets[c]:
            del self.buckets[c]
            if self.min_count == c:
                self.min_count = c + 1
        self.count[key] = c + 1
        self.buckets[c + 1][key] = None

    def insert(self, key):
        c = 1 if self.history is None else self.history.get(key, 0) + 1
        self.min_count = c if not self.count else min(self.min_count, c)
        self.count[key] = c
        self.buckets[c][key] = None

    def evict(self):
        key, _ = self.buckets[self.min_count].popitem(last=False)
        if not self.buckets[self.min_count]:
            del self.buckets[self.min_count]
        if self.history is not None:
            self.history[key] = self.count[key]
        del self.count[key]
        if self.count and self.min_count not in self.buckets:
            self.min_count = min(self.buckets)


def simulate(requests, capacity: int, policy: str = "lru", seed: int = 0, samples: int = 5,
             ttl_ticks=None) -> np.ndarray:
    """Replay ``requests`` (key ids, or any hashable keys) through a cache of ``capacity`` keys.

    Returns one bool per request, True where it hit.

    A miss inserts the key (cache-aside), evicting one key first when the cache is full.
    ``ttl_ticks`` (one per request, optional) sets each inserted key's TTL for ``policy="ttl"``;
    left out, every key gets the same TTL and "ttl" evicts the oldest insert (FIFO). Nothing expires
    by itself here: the TTL only decides who is evicted (as Redis ``volatile-ttl`` does).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, not {policy!r}")
    if capacity < 1:
        raise ValueError("capacity must be at least 1 key")
    reqs = requests.tolist() if hasattr(requests, "tolist") else list(requests)  # any hashable keys
    hits = np.zeros(len(reqs), dtype=bool)
    rng = random.Random(seed)

    if policy == "lru":
        cache: OrderedDict = OrderedDict()
        for i, k in enumerate(reqs):
            if k in cache:
                hits[i] = True
                cache.move_to_end(k)
            else:
                if len(cache) >= capacity:
                    cache.popitem(last=False)
                cache[k] = None
    elif policy in ("lfu", "perfect-lfu"):
        lfu = _LFU(perfect=policy == "perfect-lfu")
        for i, k in enumerate(reqs):
            if k in lfu:
                hits[i] = True
                lfu.touch(k)
            else:
                if len(lfu) >= capacity:
                    lfu.evict()
                lfu.insert(k)
    elif policy in ("ttl", "fifo"):
        expires: dict = {}
        heap: list = []
        for i, k in enumerate(reqs):
            if k in expires:
                hits[i] = True
                continue
            if len(expires) >= capacity:
                while True:  # lazy heap: skip entries of keys already gone
                    at, tick, victim = heapq.heappop(heap)
                    if expires.get(victim) == (at, tick):
                        del expires[victim]
                        break
            ttl = 1 if (ttl_ticks is None or policy == "fifo") else ttl_ticks[i]
            expires[k] = (i + ttl, i)
            heapq.heappush(heap, (i + ttl, i, k))
    else:  # random, sampled-lru: a list + index map gives O(1) random picks
        keys: list = []
        where: dict = {}
        last_used: dict = {}
        for i, k in enumerate(reqs):
            if k in where:
                hits[i] = True
                last_used[k] = i
                continue
            if len(keys) >= capacity:
                if policy == "random":
                    j = rng.randrange(len(keys))
                else:
                    picks = [rng.randrange(len(keys)) for _ in range(samples)]
                    j = min(picks, key=lambda p: last_used[keys[p]])
                victim = keys[j]
                keys[j] = keys[-1]
                where[keys[j]] = j
                keys.pop()
                del where[victim], last_used[victim]
            where[k] = len(keys)
            keys.append(k)
            last_used[k] = i
    return hits


def hit_rate(requests, capacity: int, policy: str = "lru", warmup: float = 0.25, **kw) -> float:
    """Fraction of hits, ignoring the first ``warmup`` fraction of requests (the cold start)."""
    hits = simulate(requests, capacity, policy, **kw)
    return float(hits[int(len(hits) * warmup):].mean())


# -- TTL and staleness ---------------------------------------------------------------------------
def ttl_staleness(ttl_s: float, update_rate_per_s: float, read_rate_per_s: float, n_keys: int = 50,
                  duration_s: float = 60.0, seed: int = 42) -> dict:
    """Cache-aside with a TTL over a source that changes: what fraction of reads return an old value?

    Each key is updated at random (Poisson, ``update_rate_per_s``) and read at random
    (Poisson, ``read_rate_per_s``). A read hits when the cached copy is younger than ``ttl_s``;
    it is stale when the source changed after the copy was fetched. Returns
    ``{"stale_fraction", "hit_rate", "reads"}`` over all reads.
    """
    rng = np.random.default_rng(seed)
    reads = stale = hits = 0
    for _ in range(n_keys):
        n_updates, n_reads = int(duration_s * update_rate_per_s * 2) + 10, int(duration_s * read_rate_per_s * 2) + 10
        updates = np.cumsum(rng.exponential(1 / update_rate_per_s, n_updates))
        read_times = np.cumsum(rng.exponential(1 / read_rate_per_s, n_reads))
        read_times = read_times[read_times < duration_s]
        fetched_at = None
        for t in read_times:
            reads += 1
            if fetched_at is not None and t - fetched_at < ttl_s:
                hits += 1
                # stale if an update landed in (fetched_at, t]
                j = np.searchsorted(updates, fetched_at, side="right")
                if j < len(updates) and updates[j] <= t:
                    stale += 1
            else:
                fetched_at = t
    return {"stale_fraction": stale / reads if reads else 0.0, "hit_rate": hits / reads if reads else 0.0,
            "reads": reads}


def stale_fraction_formula(ttl_s: float, update_rate_per_s: float, read_rate_per_s: float) -> float:
    """A back-of-envelope estimate: a copy lives ``ttl_s``; a read lands at a uniform age inside it.

    P(stale | hit) = 1 - (1 - exp(-u*T)) / (u*T) for update rate u; hits are about r*T / (1 + r*T)
    of reads when reads arrive at rate r (one miss starts each copy, the next r*T reads hit).
    """
    u, r, t = update_rate_per_s, read_rate_per_s, ttl_s
    if t <= 0:
        return 0.0
    p_stale_hit = 1 - (1 - np.exp(-u * t)) / (u * t)
    return float(p_stale_hit * (r * t) / (1 + r * t))
