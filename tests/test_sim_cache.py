"""labsupport.sim.cache: exact eviction policies and the TTL staleness model, and the replay of the same
workload on a real Redis (labsupport.drivers.cache_replay)."""

import numpy as np
import pytest

from labsupport.drivers import cache_replay
from labsupport.sim import cache as sim
from labsupport.workload import drifting_requests, zipf_probabilities, zipf_requests


def test_lru_evicts_least_recently_used():
    """Capacity 2: after a b a c, b (not a) was evicted."""
    hits = sim.simulate(["a", "b", "a", "c", "a", "b"], 2, "lru")
    assert hits.tolist() == [False, False, True, False, True, False]


def test_lfu_evicts_least_frequently_used():
    """Capacity 2: a is used twice, b once; c evicts b, so a still hits."""
    hits = sim.simulate(["a", "a", "b", "c", "a", "b"], 2, "lfu")
    assert hits.tolist() == [False, True, False, False, True, False]


def test_lfu_breaks_ties_by_recency():
    """Equal counts: the least recently used of them goes."""
    hits = sim.simulate(["a", "b", "c", "b"], 2, "lfu")
    assert hits.tolist() == [False, False, False, True]


def test_ttl_with_equal_ttls_is_fifo():
    """Equal TTLs: the oldest insert is evicted even if it was just read."""
    reqs = ["a", "b", "a", "c", "a"]
    assert sim.simulate(reqs, 2, "ttl").tolist() == [False, False, True, False, False]
    assert sim.simulate(reqs, 2, "fifo").tolist() == sim.simulate(reqs, 2, "ttl").tolist()


def test_ttl_evicts_the_soonest_expiry():
    """Per-key TTLs: the key that expires first is the victim."""
    reqs = ["a", "b", "c", "a", "b"]
    ttls = [100, 1, 100, 100, 100]           # b expires soonest
    assert sim.simulate(reqs, 2, "ttl", ttl_ticks=ttls).tolist() == [False, False, False, True, False]


def test_big_cache_only_misses_first_sightings():
    """Capacity above the number of keys: misses = distinct keys, for every policy."""
    reqs = zipf_requests(3000, 200, seed=1)
    for policy in sim.POLICIES:
        hits = sim.simulate(reqs, 500, policy)
        assert (~hits).sum() == len(set(reqs.tolist())), policy


def test_lfu_beats_lru_beats_random_on_zipf():
    """Stable popularity: exact LFU > exact LRU > random eviction."""
    reqs = zipf_requests(20000, 2000, skew=1.0, seed=42)
    lfu, lru, rnd = (sim.hit_rate(reqs, 200, p) for p in ("lfu", "lru", "random"))
    assert lfu > lru + 0.03 and lru > rnd + 0.01


def test_sampled_lru_goes_from_random_to_lru():
    """samples=1 is random eviction; many samples approach exact LRU."""
    reqs = np.concatenate(drifting_requests(6, 1500, 400, 200, seed=42))
    exact, rnd = sim.hit_rate(reqs, 500, "lru"), sim.hit_rate(reqs, 500, "random", seed=3)
    one = sim.hit_rate(reqs, 500, "sampled-lru", samples=1, seed=3)
    many = sim.hit_rate(reqs, 500, "sampled-lru", samples=20, seed=3)
    assert one == pytest.approx(rnd, abs=0.02)
    assert abs(many - exact) < 0.02 < exact - one


def test_drifting_popularity_hurts_lfu():
    """Moving hot set: LRU keeps up, LFU keeps yesterday's keys."""
    reqs = np.concatenate(drifting_requests(6, 1500, 400, 200, seed=42))
    assert sim.hit_rate(reqs, 500, "lru") > sim.hit_rate(reqs, 500, "lfu") + 0.3


def test_bad_arguments_are_refused():
    """Unknown policy and a zero-size cache raise ValueError."""
    with pytest.raises(ValueError):
        sim.simulate([1, 2], 2, "mru")
    with pytest.raises(ValueError):
        sim.simulate([1, 2], 0, "lru")


def test_staleness_model_matches_simulation():
    """The closed form and the seeded simulation agree, and staleness grows with the TTL."""
    last = -1.0
    for ttl in (0.05, 0.2, 1.0, 3.0):
        s = sim.ttl_staleness(ttl, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=30, duration_s=30,
                              seed=1)
        assert s["stale_fraction"] == pytest.approx(sim.stale_fraction_formula(ttl, 1.0, 10.0), abs=0.03)
        assert s["stale_fraction"] > last
        last = s["stale_fraction"]
    same = sim.ttl_staleness(0.5, 1.0, 10.0, n_keys=5, duration_s=10, seed=3)
    assert same == sim.ttl_staleness(0.5, 1.0, 10.0, n_keys=5, duration_s=10, seed=3)
    assert sim.stale_fraction_formula(0.0, 1.0, 10.0) == 0.0


def test_replay_on_a_real_redis_matches_an_unbounded_cache():
    """SET NX GET on a real server, no maxmemory: the hits equal an exact cache that never evicts."""
    from labsupport import services

    with services.redis() as r:
        client = r.client()
        reqs = zipf_requests(2000, 300, seed=5)
        real = cache_replay.replay(client, reqs, "v" * 100, batch=128)
        assert np.array_equal(real, sim.simulate(reqs, 10_000, "lru"))
        assert cache_replay.bytes_per_key(client, "v" * 1000, n=200) > 1000
        assert client.dbsize() == len(set(reqs.tolist()))   # the size probe cleaned up after itself


def test_perfect_lfu_remembers_counts_of_evicted_keys():
    """Capacity 2: a is evicted with count 1, comes back, is evicted again. In-cache LFU restarts a at 1
    each time and misses its third request; perfect LFU remembers a's count (now 2) and keeps it."""
    reqs = ["a", "b", "b", "c", "a", "c", "a"]
    assert not sim.simulate(reqs, 2, "lfu")[-1]
    assert sim.simulate(reqs, 2, "perfect-lfu")[-1]


def test_perfect_lfu_is_closer_to_the_ideal_static_cache_on_zipf():
    """Stable Zipf: perfect LFU >= in-cache LFU, and both stay below the top-k probability mass."""
    reqs = zipf_requests(12_000, 5_000, skew=1.0, seed=42)
    ideal = float(zipf_probabilities(5_000, 1.0)[:100].sum())
    lfu, perfect = sim.hit_rate(reqs, 100, "lfu"), sim.hit_rate(reqs, 100, "perfect-lfu")
    assert lfu + 0.01 < perfect <= ideal + 0.02
