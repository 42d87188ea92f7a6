"""Lab 6.3: eviction policies on a real Redis vs exact simulations (labs/06-caching/03-eviction.ipynb)."""

LAB = "labs/06-caching/03-eviction.ipynb"


def test_lfu_beats_exact_lru_on_stable_popularity(lab_results):
    """Zipf workload: real allkeys-lfu vs an exact LRU simulation at the same size (up to 500 keys,
    where the cache holds well under the whole popular set); the real LRU is not a fair LRU here."""
    r = lab_results(LAB)
    sizes = r["eviction_sizes_keys"]
    for size, lfu, lru in zip(sizes, r["hit_rate_real"]["allkeys-lfu"], r["hit_rate_sim"]["allkeys-lru"]):
        if size <= 600:
            assert lfu > lru + 0.02, (size, r["hit_rate_real"], r["hit_rate_sim"])


def test_sub_second_run_makes_redis_lru_fifo_like(lab_results):
    """Zipf runs shorter than the one-second LRU clock: real allkeys-lru sits on FIFO (exact TTL sim
    with equal TTLs) rather than on exact LRU, and below exact LRU, at the small sizes where the policy matters most."""
    r = lab_results(LAB)
    real_lru, fifo, exact = r["hit_rate_real"]["allkeys-lru"], r["hit_rate_sim"]["volatile-ttl"], r["hit_rate_sim"]["allkeys-lru"]
    for size, got, f, e in zip(r["eviction_sizes_keys"], real_lru, fifo, exact):
        if size <= 600:
            assert abs(got - f) < abs(got - e), (size, got, f, e)
            assert got < e - 0.03, (size, got, e)


def test_perfect_lfu_at_least_in_cache_lfu(lab_results):
    """Stable Zipf at 500 keys: perfect LFU (remembers evicted counts) vs in-cache LFU, both simulated."""
    r = lab_results(LAB)
    assert r["hit_rate_perfect_lfu_sim_500"] >= r["hit_rate_lfu_sim_500"]


def test_bigger_cache_higher_hit_rate(lab_results):
    """Real Redis hit rate grows with maxmemory for every policy."""
    for policy, rates in lab_results(LAB)["hit_rate_real"].items():
        assert rates == sorted(rates), (policy, rates)
        assert rates[-1] > rates[0] + 0.15, (policy, rates)


def test_real_lfu_tracks_exact_lfu(lab_results):
    """Real allkeys-lfu vs the in-cache LFU simulation (counts forgotten on eviction) at the same size."""
    r = lab_results(LAB)
    for real, simulated in zip(r["hit_rate_real"]["allkeys-lfu"], r["hit_rate_sim"]["allkeys-lfu"]):
        assert abs(real - simulated) < 0.08


def test_more_samples_bring_redis_lru_closer_to_exact_lru(lab_results):
    """Drifting workload: distance to exact LRU with maxmemory-samples 10 vs 1."""
    r = lab_results(LAB)
    exact = r["drift_exact_lru_sim"]
    assert abs(r["drift_lru_samples_10"] - exact) < abs(r["drift_lru_samples_1"] - exact)
    assert r["drift_lru_samples_10"] > r["drift_lru_samples_1"] + 0.04


def test_lfu_loses_when_popularity_drifts(lab_results):
    """Drifting workload: real allkeys-lfu vs allkeys-lru with 10 samples."""
    r = lab_results(LAB)
    assert r["drift_lfu"] < r["drift_lru_samples_10"] - 0.1
