"""Lab 3.2: answers by the client's region, EDNS Client Subnet, regional failover
(labs/03-dns/02-geo-routing.ipynb)."""

LAB = "labs/03-dns/02-geo-routing.ipynb"


def test_each_region_is_served_by_its_own_data_centre(lab_results):
    """Fraction of each region's requests answered by the local data centre."""
    local = lab_results(LAB)["geo_share_local_dc"]
    assert local == {"tokyo": 1.0, "london": 1.0}, local


def test_ecs_routes_by_the_client_not_the_resolver(lab_results):
    """A Tokyo user's question forwarded by a London resolver, with and without a client subnet."""
    r = lab_results(LAB)["far_resolver_gets_tokyo_dc"]
    assert r == {"without_ecs": 0, "with_ecs": 1}, r


def test_a_dead_region_is_withdrawn_and_restored(lab_results):
    """Tokyo's answer after its data centre is killed and after it is restarted, and how long each took."""
    r = lab_results(LAB)["regional_failover"]
    assert r["tokyo_sent_to_london_after_failure"] == 1
    assert r["tokyo_sent_to_tokyo_after_restore"] == 1
    assert 0 < r["withdraw_s"] < 3, r  # 2 failed checks, 0.25 s apart, plus scheduling noise


def test_distance_sets_a_floor_on_latency(lab_results):
    """The computed minimum Tokyo-London round trip in fibre."""
    assert 80 < lab_results(LAB)["min_rtt_tokyo_london_ms"] < 120
