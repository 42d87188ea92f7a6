"""Lab 3.2: answers by the client's region, EDNS Client Subnet, regional failover
(labs/03-dns/02-geo-routing.ipynb).

Not tested as findings, because the lab's own construction fixes them: the 100% local routing (the zone
table maps each client subnet to one data centre) and the Tokyo-London minimum round trip (arithmetic
from distance and the speed of light in fibre), and the delays the fault proxies add (the model of
distance). What is tested is that DNS steering puts a client on the near proxy and its time follows.
The chapter presents these as configuration and model.
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


def test_a_clients_round_trip_follows_the_dns_answer(lab_results):
    """Tokyo users through fault proxies that model each DC's distance from Tokyo (2 ms, ~96 ms): placed by
    geo DNS they all reached Tokyo, and their median round trip sits below the far resolver's by most of
    the modelled gap, and below the rotated (no geo) group's mean by a good part of it. Gaps, not ratios:
    the machine's own per-request cost is added to every group alike."""
    r = lab_results(LAB)
    by, model = r["rtt_by_answer"], r["rtt_model_ms"]
    gap = model["london_dc"] - model["tokyo_dc"]
    assert all(row["failed"] == 0 for row in by.values()), by
    assert by["geo"]["to_london"] == 0 and by["far_resolver"]["to_london"] == 1, by
    assert 0.2 < by["no_geo"]["to_london"] < 0.8, by  # the rotation sent some users far, not all
    assert r["rtt_far_resolver_p50_ms"] - r["rtt_geo_p50_ms"] > 0.6 * gap, by
    assert r["rtt_no_geo_mean_ms"] - by["geo"]["mean_ms"] > 0.2 * gap, by
