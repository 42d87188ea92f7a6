"""Lab 6.3: eviction policies on a real Redis vs exact simulations (labs/06-caching/03-eviction.ipynb)."""

LAB = "labs/06-caching/03-eviction.ipynb"


def test_lfu_beats_lru_on_stable_popularity(lab_results):
    """Real Redis hit rates on a Zipf workload: allkeys-lfu vs allkeys-lru at every cache size."""
    real = lab_results(LAB)["hit_rate_real"]
    for lfu, lru in zip(real["allkeys-lfu"], real["allkeys-lru"]):
        assert lfu > lru + 0.03, real


def test_bigger_cache_higher_hit_rate(lab_results):
    """Real Redis hit rate grows with maxmemory for every policy."""
    for policy, rates in lab_results(LAB)["hit_rate_real"].items():
        assert rates == sorted(rates), (policy, rates)
        assert rates[-1] > rates[0] + 0.15, (policy, rates)


def test_real_lfu_tracks_exact_lfu(lab_results):
    """Real allkeys-lfu vs an exact LFU simulation at the same number of keys."""
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
