"""Lab 4.2: an API gateway built on nginx and in Python, in front of two model versions (labs/04-proxies/02-api-gateway.ipynb)."""

LAB = "labs/04-proxies/02-api-gateway.ipynb"
GATEWAYS = ("nginx", "python")


def test_both_gateways_refuse_missing_and_unknown_keys(lab_results):
    """Status for no key, an unknown key and a valid key."""
    r = lab_results(LAB)
    for gw in GATEWAYS:
        assert r[f"auth_status_{gw}"] == {"no_key": 401, "unknown_key": 401, "valid_key": 200}, gw
    assert r["auth_refused"] == 4


def test_v1_and_v2_reach_different_model_servers(lab_results):
    """Fraction of /v1 and /v2 requests answered by model-v1 and model-v2 respectively."""
    r = lab_results(LAB)
    assert r["routing_correct_nginx"] == 1.0 and r["routing_correct_python"] == 1.0


def test_free_tier_is_limited_sooner_and_harder_than_pro(lab_results):
    """Requests before the first 429, and requests let through, for a free and a pro key at the same load."""
    r = lab_results(LAB)
    for gw in GATEWAYS:
        assert r[f"tier_before_first_429_free_{gw}"] < r[f"tier_before_first_429_pro_{gw}"], gw
        free, pro = r[f"tier_accepted_free_{gw}"], r[f"tier_accepted_pro_{gw}"]
        assert free < r["tier_offered_per_key"] / 3, (gw, free)
        assert pro > 3 * free, (gw, free, pro)


def test_usage_meters_match_the_clients_receipts(lab_results):
    """Per-key, per-status counts from nginx's log and from Redis, against the client's own tally."""
    r = lab_results(LAB)
    assert r["usage_nginx"] == r["usage_receipts"]["nginx"]
    assert r["usage_python"] == r["usage_receipts"]["python"]
    assert r["usage_matches_nginx"] is True and r["usage_matches_python"] is True
    assert r["usage_python"]["-"] == {"401": 2}
    assert r["usage_python"]["key-alice"]["429"] > 0


def test_separate_nginx_replicas_multiply_a_limit_that_redis_holds(lab_results):
    """Requests one free key got through two replicas of each gateway."""
    r = lab_results(LAB)
    nginx, python, promised = r["replicas_accepted_nginx"], r["replicas_accepted_python"], r["replicas_promised"]
    assert python <= promised + 1, (python, promised)  # one budget, shared through Redis
    assert nginx > promised + 1 and nginx >= python + 3, (nginx, python, promised)  # two budgets


def test_python_gateway_costs_more_time_than_nginx(lab_results):
    """Median latency to a prediction: direct, through nginx, through the Python gateway."""
    r = lab_results(LAB)
    assert r["latency_p50_ms_python"] > r["latency_p50_ms_nginx"], r
    assert r["overhead_p50_ms_python"] > 0
