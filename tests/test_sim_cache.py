"""labsupport.sim.cache: exact eviction policies, and the replay of the same workload on a real Redis
(labsupport.drivers.cache_replay)."""

import numpy as np
import pytest

from labsupport.drivers import cache_replay
from labsupport.sim.cache import POLICIES, CacheConfig, simulate
from labsupport.workload import drifting_requests, zipf_probabilities, zipf_requests


def test_lru_evicts_least_recently_used():
    """Capacity 2: after a b a c, b (not a) was evicted."""
    hits = simulate(CacheConfig(["a", "b", "a", "c", "a", "b"], 2, "lru")).hit
    assert hits.tolist() == [False, False, True, False, True, False]


def test_lfu_evicts_least_frequently_used():
    """Capacity 2: a is used twice, b once; c evicts b, so a still hits."""
    hits = simulate(CacheConfig(["a", "a", "b", "c", "a", "b"], 2, "lfu")).hit
    assert hits.tolist() == [False, True, False, False, True, False]


def test_lfu_breaks_ties_by_recency():
    """Equal counts: the least recently used of them goes."""
    hits = simulate(CacheConfig(["a", "b", "c", "b"], 2, "lfu")).hit
    assert hits.tolist() == [False, False, False, True]


def test_ttl_with_equal_ttls_is_fifo():
    """Equal TTLs: the oldest insert is evicted even if it was just read."""
    reqs = ["a", "b", "a", "c", "a"]
    ttl = simulate(CacheConfig(reqs, 2, "ttl")).hit.tolist()
    assert ttl == [False, False, True, False, False]
    assert simulate(CacheConfig(reqs, 2, "fifo")).hit.tolist() == ttl


def test_ttl_evicts_the_soonest_expiry():
    """Per-key TTLs: the key that expires first is the victim."""
    reqs = ["a", "b", "c", "a", "b"]
    ttls = [100, 1, 100, 100, 100]           # b expires soonest
    hits = simulate(CacheConfig(reqs, 2, "ttl", ttl_ticks=ttls)).hit
    assert hits.tolist() == [False, False, False, True, False]


def test_big_cache_only_misses_first_sightings():
    """Capacity above the number of keys: misses = distinct keys, for every policy."""
    reqs = zipf_requests(3000, 200, seed=1)
    for policy in POLICIES:
        hits = simulate(CacheConfig(reqs, 500, policy)).hit
        assert (~hits).sum() == len(set(reqs.tolist())), policy


def test_lfu_beats_lru_beats_random_on_zipf():
    """Stable popularity: exact LFU > exact LRU > random eviction."""
    reqs = zipf_requests(20000, 2000, skew=1.0, seed=42)
    lfu, lru, rnd = (simulate(CacheConfig(reqs, 200, p)).hit_rate for p in ("lfu", "lru", "random"))
    assert lfu > lru + 0.03 and lru > rnd + 0.01


def test_sampled_lru_goes_from_random_to_lru():
    """samples=1 is random eviction; many samples approach exact LRU."""
    reqs = np.concatenate(drifting_requests(6, 1500, 400, 200, seed=42))
    exact = simulate(CacheConfig(reqs, 500, "lru")).hit_rate
    rnd = simulate(CacheConfig(reqs, 500, "random", seed=3)).hit_rate
    one = simulate(CacheConfig(reqs, 500, "sampled-lru", samples=1, seed=3)).hit_rate
    many = simulate(CacheConfig(reqs, 500, "sampled-lru", samples=20, seed=3)).hit_rate
    assert one == pytest.approx(rnd, abs=0.02)
    assert abs(many - exact) < 0.02 < exact - one


def test_drifting_popularity_hurts_lfu():
    """Moving hot set: LRU keeps up, LFU keeps yesterday's keys."""
    reqs = np.concatenate(drifting_requests(6, 1500, 400, 200, seed=42))
    lru, lfu = (simulate(CacheConfig(reqs, 500, p)).hit_rate for p in ("lru", "lfu"))
    assert lru > lfu + 0.3


def test_bad_arguments_are_refused():
    """Unknown policy and a zero-size cache raise ValueError."""
    with pytest.raises(ValueError):
        simulate(CacheConfig([1, 2], 2, "mru"))
    with pytest.raises(ValueError):
        simulate(CacheConfig([1, 2], 0, "lru"))


def test_replay_on_a_real_redis_matches_an_unbounded_cache():
    """SET NX GET on a real server, no maxmemory: the hits equal an exact cache that never evicts."""
    from labsupport import services

    with services.redis() as r:
        client = r.client()
        reqs = zipf_requests(2000, 300, seed=5)
        real = cache_replay.replay(client, reqs, "v" * 100, batch=128)
        assert np.array_equal(real, simulate(CacheConfig(reqs, 10_000, "lru")).hit)
        assert cache_replay.bytes_per_key(client, "v" * 1000, n=200) > 1000
        assert client.dbsize() == len(set(reqs.tolist()))   # the size probe cleaned up after itself


def test_perfect_lfu_remembers_counts_of_evicted_keys():
    """Capacity 2: a is evicted with count 1, comes back, is evicted again. In-cache LFU restarts a at 1
    each time and misses its third request; perfect LFU remembers a's count (now 2) and keeps it."""
    reqs = ["a", "b", "b", "c", "a", "c", "a"]
    assert not simulate(CacheConfig(reqs, 2, "lfu")).hit[-1]
    assert simulate(CacheConfig(reqs, 2, "perfect-lfu")).hit[-1]


def test_perfect_lfu_is_closer_to_the_ideal_static_cache_on_zipf():
    """Stable Zipf: perfect LFU >= in-cache LFU, and both stay below the top-k probability mass."""
    reqs = zipf_requests(12_000, 5_000, skew=1.0, seed=42)
    ideal = float(zipf_probabilities(5_000, 1.0)[:100].sum())
    lfu = simulate(CacheConfig(reqs, 100, "lfu")).hit_rate
    perfect = simulate(CacheConfig(reqs, 100, "perfect-lfu")).hit_rate
    assert lfu + 0.01 < perfect <= ideal + 0.02


def test_hit_rate_skips_the_warmup_and_counts_add_up():
    """hit_rate leaves out the first ``warmup`` fraction (the cold start); hits count only after it."""
    reqs = zipf_requests(4000, 1000, skew=1.0, seed=2)
    r = simulate(CacheConfig(reqs, 100, "lru", warmup=0.5))
    assert r.requests == 2000 and r.hits == int(r.hit[2000:].sum())
    assert r.hit_rate == pytest.approx(r.hits / 2000)
    assert r.hit_rate > simulate(CacheConfig(reqs, 100, "lru", warmup=0)).hit_rate  # cold start misses more


def test_same_numbers_as_before_the_config_refactor():
    """Seeded outputs recorded with the old ``simulate(requests, capacity, policy)`` API (hits per policy,
    5,000 Zipf requests over 1,000 keys, 100 cached). If this fails, the eviction code changed."""
    reqs = zipf_requests(5000, 1000, 1.0, seed=42)
    got = {p: int(simulate(CacheConfig(reqs, 100, p, seed=3)).hit.sum()) for p in POLICIES}
    assert got == {"lru": 2875, "lfu": 3234, "perfect-lfu": 3300, "ttl": 2619, "fifo": 2619, "random": 2630,
                   "sampled-lru": 2836}
