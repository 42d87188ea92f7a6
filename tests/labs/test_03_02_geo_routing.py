"""Lab 3.2: answers by the client's region, EDNS Client Subnet, regional failover
(labs/03-dns/02-geo-routing.ipynb).

Not tested as findings, because the lab's own construction fixes them: the 100% local routing (the zone
table maps each client subnet to one data centre) and the Tokyo-London minimum round trip (arithmetic
from distance and the speed of light in fibre). The chapter presents both as configuration and model.
"""

LAB = "labs/03-dns/02-geo-routing.ipynb"


def test_ecs_routes_by_the_client_not_the_resolver(lab_results):
    """A Tokyo user's question forwarded by a London resolver: sent to London without a client subnet,
    to Tokyo with one (the authority parsed the real EDNS option and answered with a scope)."""
    r = lab_results(LAB)
    assert r["far_resolver_gets_tokyo_dc"] == {"without_ecs": 0, "with_ecs": 1}, r["far_resolver_gets_tokyo_dc"]
    assert r["far_resolver_dc"] == {"without_ecs": "London DC", "with_ecs": "Tokyo DC"}, r["far_resolver_dc"]


def test_a_dead_region_is_withdrawn_and_restored(lab_results):
    """Tokyo's answer after its data centre is killed and after it is restarted, and how long each took."""
    r = lab_results(LAB)["regional_failover"]
    assert r["tokyo_sent_to_london_after_failure"] == 1
    assert r["tokyo_sent_to_tokyo_after_restore"] == 1
    assert 0 < r["withdraw_s"] < 3, r  # 2 failed checks, 0.25 s apart, plus scheduling noise
