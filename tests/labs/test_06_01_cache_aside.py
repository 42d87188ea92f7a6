"""Lab 6.1: cache-aside in front of a slow PostgreSQL query (labs/06-caching/01-cache-aside.ipynb)."""

LAB = "labs/06-caching/01-cache-aside.ipynb"


def test_hits_are_much_faster_than_misses(lab_results):
    """Median latency of a Redis hit vs a PostgreSQL miss, as the application sees them."""
    r = lab_results(LAB)
    assert r["speedup_p50"] > 5, r
    assert r["hit_p50_ms"] * 5 < r["miss_p50_ms"]


def test_hit_rate_rises_as_the_cache_warms(lab_results):
    """Hit rate in the first window of requests vs the last one."""
    r = lab_results(LAB)
    assert r["final_hit_rate"] > r["first_window_hit_rate"] + 0.2, r["hit_rate_by_window"]


def test_every_miss_is_a_first_lookup(lab_results):
    """With no eviction, the number of misses equals the number of distinct keys asked for."""
    r = lab_results(LAB)
    assert r["misses"] == r["distinct_customers"]


def test_redis_itself_takes_microseconds(lab_results):
    """Server-side time per GET (INFO commandstats) is far below a millisecond."""
    r = lab_results(LAB)
    assert r["redis_get_usec_per_call"] < 100
