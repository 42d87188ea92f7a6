"""Lab 4.1: the five jobs of a reverse proxy, on nginx in front of real backends (labs/04-proxies/01-reverse-proxy.ipynb)."""

LAB = "labs/04-proxies/01-reverse-proxy.ipynb"


def test_round_robin_spreads_30_requests_over_three_replicas(lab_results):
    """Requests per model-server replica behind one proxy address."""
    per_replica = lab_results(LAB)["lb_requests_per_replica"]
    assert len(per_replica) == 3 and sum(per_replica) == 30
    assert min(per_replica) >= 7, per_replica


def test_tls_is_terminated_at_the_proxy(lab_results):
    """The client's hop negotiated TLS; the backend's socket was plain and learned https from a header."""
    r = lab_results(LAB)
    assert r["tls_client_encrypted"] is True
    assert r["tls_backend_hop_encrypted"] is False
    assert r["tls_forwarded_proto_https"] is True


def test_cache_hits_skip_the_backend_and_are_faster(lab_results):
    """Backend calls vs client requests, and median latency of MISS vs HIT."""
    r = lab_results(LAB)
    assert r["cache_backend_calls"] == 10 and r["cache_client_requests"] == 50
    assert r["cache_speedup"] > 3, r
    assert r["cache_hit_p50_ms"] < r["cache_miss_p50_ms"]


def test_rate_limit_admits_about_rate_times_duration(lab_results):
    """200s and 429s when 40 r/s meets a 10 r/s limit, with and without a burst allowance."""
    r = lab_results(LAB)
    expected = r["ratelimit_expected_200"]
    assert r["ratelimit_rejected_burst0"] > 0
    assert 0.6 * expected <= r["ratelimit_accepted_burst0"] <= 1.4 * expected + 1, r
    assert r["ratelimit_accepted_burst0"] + r["ratelimit_rejected_burst0"] == r["ratelimit_offered"]
    assert 5 <= r["ratelimit_accepted_burst10"] - r["ratelimit_accepted_burst0"] <= 15, r


def test_gzip_shrinks_repetitive_json_far_more_than_floats(lab_results):
    """Bytes on the wire (counted by a TCP relay) with and without gzip, and download time on a slow link."""
    r = lab_results(LAB)
    assert r["gzip_ratio_catalog"] > 3
    assert 1 < r["gzip_ratio_embeddings"] < r["gzip_ratio_catalog"]
    assert r["gzip_slow_link_speedup"] > 1.5, r["gzip_slow_link_ms"]


def test_random_floats_shrink_about_2x_as_json_text_and_barely_as_float32_bytes(lab_results):
    """Deflate on the embeddings: ~2x on decimal text (digits carry ~3.3 of 8 bits), ~1x on raw float32."""
    r = lab_results(LAB)
    assert 1.5 < r["gzip_ratio_embeddings"] < 3.0, r["gzip_ratio_embeddings"]
    assert r["gzip_ratio_float32_binary"] < 1.25, r["gzip_ratio_float32_binary"]
    assert r["gzip_ratio_catalog"] > 2 * r["gzip_ratio_embeddings"], r
    assert r["float32_vs_gzip_json_size"] > 1.0, r  # gzipped JSON is still bigger than raw float32
