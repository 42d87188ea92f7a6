"""Lab 3.1: DNS round robin over three real backends, with and without client caching
(labs/03-dns/01-dns-load-balancing.ipynb)."""

LAB = "labs/03-dns/01-dns-load-balancing.ipynb"


def test_rotation_without_caching_is_even(lab_results):
    """Largest backend share when every request asks DNS first."""
    r = lab_results(LAB)
    assert r["max_share_no_cache"] < 0.37, r["share_by_backend"]


def test_caching_balances_clients_not_requests(lab_results):
    """With cached answers and equal clients the split stays even; with heavy clients it is lopsided,
    although each backend was handed the same number of clients."""
    r = lab_results(LAB)
    assert r["max_share_cached_equal"] < 0.37, r["share_by_backend"]
    assert r["max_share_cached_heavy"] > 0.40, r["share_by_backend"]
    assert r["max_share_cached_heavy"] > r["max_share_no_cache"] + 0.05
    clients = r["clients_per_backend_heavy"]
    assert max(clients) - min(clients) <= 1, clients


def test_backends_counted_every_request_the_clients_sent(lab_results):
    """The backends' own /stats counters against the clients' tally."""
    r = lab_results(LAB)
    assert r["requests_counted_by_backends"] == r["requests_sent_by_clients"] > 0


def test_a_new_server_gets_traffic_only_as_caches_expire(lab_results):
    """Share of requests reaching a server added at runtime: first half TTL vs after one TTL."""
    r = lab_results(LAB)
    early, late = r["new_server_share_first_half_ttl"], r["new_server_share_after_ttl"]
    assert late > 0.15, (early, late)
    assert late > 1.5 * early, (early, late)


def test_simulated_rebalancing_takes_about_one_ttl(lab_results):
    """Simulated time until 90% of caches hold the new record set, for TTLs of 5 min and 1 h."""
    sim = lab_results(LAB)["sim_rebalance_s_by_ttl"]
    for ttl in (300, 3600):
        assert 0.7 * ttl < sim[str(ttl)] <= 1.1 * ttl, sim
