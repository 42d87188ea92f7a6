"""Exact cache simulations: the yardstick the real Redis runs are held against.

    reqs = workload.zipf_requests(n_requests=20_000, n_keys=5_000, skew=1.0, seed=42)   # labsupport.workload
    r = simulate(CacheConfig(reqs, capacity=500, policy="lru"))   # exact LRU
    r.hit_rate (after the first ``warmup`` fraction), r.hits, r.hit (one bool per request)
    policy="lfu"           # in-cache LFU (a key's count is forgotten on eviction; ties: LRU)
    policy="perfect-lfu"   # perfect LFU (counts every key ever seen, evicted or not)
    policy="ttl"           # evict the soonest expiry (``ttl_ticks``; equal TTLs: oldest insert)
    policy="random", seed=1;  policy="sampled-lru", samples=5, seed=1   # Redis-style: oldest of N sampled

Time is counted in requests (one tick per request). Why each policy wins or loses is in the chapter
``book/06-caching.md``; the labs in ``labs/06-caching`` replay the same workloads on a real server
(``labsupport.drivers.cache_replay``). TTL staleness (reads of old values) is ``sim.staleness``.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

import numpy as np

POLICIES = ("lru", "lfu", "perfect-lfu", "ttl", "fifo", "random", "sampled-lru")


@dataclass(frozen=True)
class CacheConfig:
    """A request stream replayed through one cache of ``capacity`` keys (cache-aside)."""
    requests: np.ndarray | list = field(repr=False)  # key ids, or any hashable keys, in order
    capacity: int                        # keys the cache holds
    policy: str = "lru"                  # one of POLICIES
    seed: int = 0                        # random picks of "random" and "sampled-lru"
    samples: int = 5                     # "sampled-lru": keys sampled per eviction
    ttl_ticks: np.ndarray | list | None = field(default=None, repr=False)  # "ttl": one TTL per request
    warmup: float = 0.25                 # fraction of requests left out of ``hit_rate`` (the cold start)


@dataclass
class CacheResult:
    policy: str
    hit: np.ndarray = field(repr=False)  # one bool per request, True where it hit
    hits: int = 0                        # hits after the warm-up
    requests: int = 0                    # requests after the warm-up
    hit_rate: float = 0.0                # hits / requests, after the warm-up


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


def simulate(cfg: CacheConfig) -> CacheResult:
    """Replay ``cfg.requests`` through a cache of ``cfg.capacity`` keys.

    A miss inserts the key (cache-aside), evicting one key first when the cache is full.
    ``ttl_ticks`` (one per request, optional) sets each inserted key's TTL for ``policy="ttl"``;
    left out, every key gets the same TTL and "ttl" evicts the oldest insert (FIFO). Nothing expires
    by itself here: the TTL only decides who is evicted (as Redis ``volatile-ttl`` does).
    """
    hits = _replay(cfg.requests, cfg.capacity, cfg.policy, cfg.seed, cfg.samples, cfg.ttl_ticks)
    after = hits[int(len(hits) * cfg.warmup):]
    return CacheResult(cfg.policy, hits, int(after.sum()), len(after), float(after.mean()))


def _replay(requests, capacity: int, policy: str, seed: int, samples: int, ttl_ticks) -> np.ndarray:
    """One bool per request, True where it hit."""
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
