"""labsupport.services.dns: a real authoritative DNS server (rotation, TTLs, geo, ECS, health checks,
control channel) and the clients the DNS labs use (labsupport.drivers.dns: caching resolver, fleet)."""

from __future__ import annotations

import socket
import time

import pytest

from labsupport import services
from labsupport.drivers.dns import CachingResolver, ClientFleet
from labsupport.services import ServiceError
from labsupport.services.dns_server import free_udp_port

MODEL = "labsupport.apps.model_server:app"


@pytest.fixture(autouse=True)
def _reap():
    yield
    services.stop_all()


@pytest.fixture
def backends():
    """Two model servers on 127.0.0.2 and 127.0.0.3, sharing one port."""
    return services.app(MODEL, hosts=["127.0.0.2", "127.0.0.3"])


def test_free_udp_port_is_free_for_udp_and_tcp():
    """The port the DNS server gets can be bound with UDP and with TCP on 127.0.0.1."""
    port = free_udp_port()
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", port))


def test_apps_can_listen_on_other_loopback_addresses(backends):
    """app(hosts=[...]): one replica per address, one shared port, each healthy on its own address."""
    assert [a.host for a in backends] == ["127.0.0.2", "127.0.0.3"]
    assert backends[0].port == backends[1].port
    assert backends[1].client().get("/healthz").json()["replica"] == "model_server-1"
    with pytest.raises(ServiceError, match=rf"port {backends[0].port} on 127.0.0.2 is already in use"):
        services.app(MODEL, host="127.0.0.2", port=backends[0].port)


def test_records_ttl_and_rotation():
    """Three A records with the zone's TTL, rotated one step per question; authoritative answers."""
    d = services.dns({"api": ["127.0.0.2", "127.0.0.3", "127.0.0.4"]}, ttl_s=42)
    assert d.url.startswith("dns://127.0.0.1:") and d.ready_s is not None
    a = d.query("api")
    assert sorted(a.ips) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"] and a.ttl_s == 42
    assert "AA" in a.text and "api.lab.test. 42 IN A" in a.text
    firsts = [d.query("api.lab.test").ips[0] for _ in range(6)]
    assert len(set(firsts[:3])) == 3 and firsts[:3] == firsts[3:]


def test_unknown_names_other_zones_and_other_types():
    """NXDOMAIN inside the zone, REFUSED outside it, an empty answer for AAAA, SOA at the apex."""
    d = services.dns({"api": ["127.0.0.2"]})
    assert d.query("nope").rcode == "NXDOMAIN"
    assert d.query("example.com.").rcode == "REFUSED"
    aaaa = d.query("api", qtype="AAAA")
    assert aaaa.rcode == "NOERROR" and aaaa.ips == []
    assert "SOA" in d.query("lab.test.", qtype="SOA").text


def test_control_channel_changes_records_and_ttl_and_survives_restart():
    """set_records / set_ttl take effect on the next question, and a restart keeps them."""
    d = services.dns({"api": ["127.0.0.2"]}, ttl_s=30)
    d.set_records("api", ["127.0.0.5", "127.0.0.6"], ttl_s=7)
    assert sorted(d.query("api").ips) == ["127.0.0.5", "127.0.0.6"] and d.query("api").ttl_s == 7
    d.set_ttl("api", 3)
    d.set_records("new", ["127.0.0.9"])
    port = d.port
    d.restart()
    assert d.port == port and d.query("api").ttl_s == 3 and d.query("new").ips == ["127.0.0.9"]
    assert "new" in d.zone_text()
    with pytest.raises(ServiceError, match="unknown op"):
        d._send({"op": "explode"})


def test_geo_by_source_address_and_by_client_subnet():
    """Tokyo and London sources get their own region; ECS overrides the source; others get the default."""
    d = services.dns(geo={"api": {"tokyo": ["127.0.0.81"], "london": ["127.0.0.44"]}},
                     regions={"tokyo": "127.81.0.0/16", "london": ["127.44.0.0/16"]})
    assert d.query("api", source="127.81.0.7").ips == ["127.0.0.81"]
    assert d.query("api", source="127.44.0.7").ips == ["127.0.0.44"]
    assert sorted(d.query("api", source="127.0.0.1").ips) == ["127.0.0.44", "127.0.0.81"]
    via_ecs = d.query("api", source="127.44.0.53", ecs="127.81.0.0/24")
    assert via_ecs.ips == ["127.0.0.81"] and via_ecs.ecs_scope == 24
    assert d.stats()["by_region"] == {"tokyo": 2, "london": 1, "none": 1}


def test_health_checks_withdraw_restore_and_fail_open(backends):
    """A killed backend's record disappears; it returns after a restart; with every backend dead the
    server answers with all records rather than none."""
    d = services.dns({"api": backends}, health_check_s=0.1, fall=2, rise=2)
    backends[0].kill()
    took = d.wait_for_health("127.0.0.2", healthy=False, timeout_s=5)
    assert took < 3 and [d.query("api").ips for _ in range(2)] == [["127.0.0.3"]] * 2
    assert d.events()[0]["event"] == "withdraw" and d.events()[0]["ip"] == "127.0.0.2"
    backends[1].kill()
    d.wait_for_health("127.0.0.3", healthy=False, timeout_s=5)
    assert sorted(d.query("api").ips) == ["127.0.0.2", "127.0.0.3"]  # fail open
    for a in backends:
        a.restart()
    d.wait_for_health("127.0.0.2", healthy=True, timeout_s=5)
    d.wait_for_health("127.0.0.3", healthy=True, timeout_s=5)
    assert [e["event"] for e in d.events()] == ["withdraw", "withdraw", "restore", "restore"]


def test_wait_for_health_has_a_deadline():
    """Without health checks nothing is ever withdrawn: the wait ends with a clear error."""
    d = services.dns({"api": ["127.0.0.2"]})
    with pytest.raises(ServiceError, match="health_check_s"):
        d.wait_for_health("127.0.0.2", healthy=False, timeout_s=0.2)


def test_caching_resolver_obeys_the_ttl():
    """Within the TTL the cache answers; after it, the server is asked again; cache=False always asks."""
    d = services.dns({"api": ["127.0.0.2", "127.0.0.3"]}, ttl_s=1)
    r = CachingResolver(d)
    first = r.lookup("api")
    assert [r.lookup("api") for _ in range(5)] == [first] * 5 and r.queries == 1
    time.sleep(1.1)  # let the 1 s TTL run out: the point of this test
    r.lookup("api")
    assert r.queries == 2
    nocache = CachingResolver(d, cache=False)
    assert len({nocache.lookup("api") for _ in range(4)}) == 2 and nocache.queries == 4
    floored = CachingResolver(d, min_ttl_s=60)
    floored.lookup("api")
    assert floored.cache[d.fqdn("api")][1] - time.monotonic() > 50


def test_fleet_sends_real_requests_to_the_addresses_it_was_given(backends):
    """Cached clients stick to their backend; the backends' counters see every request."""
    d = services.dns({"api": backends}, ttl_s=30)
    fleet = ClientFleet(d, "api", clients=4)
    assert sorted(fleet.resolve_all().values()) == [2, 2]
    run = fleet.run(requests=[5, 1, 1, 1])
    assert sum(run.by_backend().values()) == 8 and run.failed() == 0
    assert sorted(run.by_backend().values()) == [2, 6]
    assert sorted([run.share("127.0.0.2"), run.share("127.0.0.3")]) == [0.25, 0.75]
    served = sorted(a.client().get("/stats").json()["requests"] for a in backends)
    assert served == [2, 6]
    assert fleet.dns_queries == {"api": 4}


def test_timed_fleet_run_with_an_event_records_failures(backends):
    """A kill during a timed run shows up as failed requests after the event, none before."""
    d = services.dns({"api": backends}, ttl_s=30)
    fleet = ClientFleet(d, {"g": dict(name="api", clients=4, source="127.50.0.0/24")})
    run = fleet.run(duration_s=1.5, rate_per_s=10, events={0.5: backends[0].kill}, stagger=False)
    when = run.events[0][0]
    assert 0.45 < when < 0.9
    assert run.failed("g") > 0 and all(t > when - 0.25 for t, _c, _g, _ip, ok, _ms in run.rows if not ok)
    t, failed = run.over_time(bin_s=0.5, what="failed")
    assert failed["g"][0] == 0 and failed["g"][1:].sum() == run.failed("g")
    assert set(run.df().columns) == {"t_s", "client", "group", "ip", "ok", "ms"}
    assert d.stats()["by_region"] == {"none": 4}
