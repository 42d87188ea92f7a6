"""Lab 11.1: rate limiting in Valkey shared by three API replicas (labs/11-resilience/01-rate-limiting.ipynb)."""

LAB = "labs/11-resilience/01-rate-limiting.ipynb"


def test_a_limit_counted_in_valkey_is_one_budget_across_replicas(lab_results):
    """90 requests, limit 20, three replicas: admitted with per-replica counters vs one counter in Valkey."""
    r = lab_results(LAB)
    assert r["admitted_shared_limit"] == 20
    assert r["admitted_per_replica_limit"] >= 2.5 * r["admitted_shared_limit"], r


def test_fixed_window_admits_up_to_twice_its_limit_across_an_edge(lab_results):
    """Two bursts of 10 around a window edge, limit 10 per 2 s: admitted per algorithm, all within 2 s."""
    r = lab_results(LAB)
    adm = r["edge_admitted"]
    assert r["edge_span_s"] < 2.0, r["edge_span_s"]  # both bursts inside one window's length
    assert adm["fixed"] >= 18, adm
    assert adm["log"] == 10, adm  # exact: never more than the limit in any 2 s
    assert adm["counter"] <= 13 and adm["bucket"] <= 16, adm
    assert adm["fixed"] > max(adm["log"], adm["counter"], adm["bucket"]), adm


def test_every_429_says_when_to_retry(lab_results):
    """Fraction of 429 responses with a Retry-After header, and its largest value (s) for a 2 s window."""
    r = lab_results(LAB)
    assert r["denied_with_retry_after"] == 1.0
    assert 1 <= r["retry_after_max_s"] <= 2


def test_get_then_incr_over_admits_and_the_atomic_limiter_does_not(lab_results):
    """Admitted of 60 concurrent requests with limit 10, five trials each."""
    r = lab_results(LAB)
    assert r["race_admitted_atomic"] == [10] * 5, r["race_admitted_atomic"]
    assert max(r["race_admitted_racy"]) > 10 and sum(r["race_admitted_racy"]) > 5 * 10 + 5, r["race_admitted_racy"]


def test_the_library_moving_window_makes_the_same_decisions_as_the_sliding_log(lab_results):
    """Share of identical admit/deny decisions on one replayed trace, ours vs the `limits` library."""
    r = lab_results(LAB)
    assert r["library_agreement"]["sliding-window log"] >= 0.95, r["library_agreement"]
