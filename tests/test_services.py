"""labsupport.services: lifecycle, faults and errors of the real servers every lab relies on."""

from __future__ import annotations

import time

import httpx
import psutil
import pytest
import redis as redis_py

from labsupport import services
from labsupport.services import ServiceError
from labsupport.services.redis import RedisServer


@pytest.fixture(autouse=True)
def _reap():
    yield
    services.stop_all()


def test_redis_lifecycle_kill_restart_pause():
    """start -> kill (client sees refused) -> restart on the same port -> pause (timeout) -> resume."""
    r = services.redis()
    assert r.host == "127.0.0.1" and r.password and r.password in r.url
    c = r.client()
    c.set("k", "v")
    port = r.port
    r.kill()
    with pytest.raises(redis_py.ConnectionError):
        c.ping()
    r.restart()
    assert r.port == port and c.ping() and c.get("k") is None  # a crash without persistence loses data
    r.pause()
    with pytest.raises(redis_py.TimeoutError):
        r.client(socket_timeout=0.3).ping()
    r.resume()
    assert c.ping()
    assert "Ready to accept connections" in r.logs()


def test_two_servers_get_different_ports_and_passwords():
    """Each run gets its own free port and its own random password."""
    a, b = services.redis(), services.redis()
    assert a.port != b.port and a.password != b.password
    with pytest.raises(redis_py.AuthenticationError):
        redis_py.Redis(host=a.host, port=a.port, password=b.password).ping()


def test_port_in_use_is_a_clear_error():
    """Asking for a busy port names the port and the fix."""
    r = services.redis()
    with pytest.raises(ServiceError, match=rf"port {r.port} .* already in use(.|\n)*Fix"):
        services.redis(port=r.port)


def test_missing_binary_names_the_install_command():
    """A binary that is not there gives an install hint, not a bare traceback."""
    with pytest.raises(ServiceError, match="(?s)cannot run.*install it with"):
        RedisServer(exe="/nonexistent/redis-server").start()


def test_crash_on_start_shows_the_log_tail():
    """A server that exits during start-up: the error carries its own log lines."""
    with pytest.raises(ServiceError, match="(?s)exited with code.*last lines.*maxmemory-policy"):
        services.redis(maxmemory_policy="no-such-policy")


def test_env_url_uses_an_existing_server(monkeypatch):
    """$LABSUPPORT_REDIS_URL (e.g. Docker Compose) wins, and fault methods refuse to touch it."""
    real = services.redis()
    real.client().set("from", "outside")
    monkeypatch.setenv("LABSUPPORT_REDIS_URL", real.url)
    ext = services.redis()
    assert ext.client().get("from") == "outside"
    with pytest.raises(ServiceError, match="started outside labsupport"):
        ext.kill()
    monkeypatch.setenv("LABSUPPORT_REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(ServiceError, match="does not answer"):
        services.redis()


def test_postgres_unprivileged_pgvector_and_durable_commits():
    """PostgreSQL runs unprivileged, has pgvector, and committed rows survive a SIGKILL."""
    pg = services.postgres()
    postmaster = psutil.Process(pg.pid)
    if psutil.Process().uids().effective == 0:
        assert postmaster.uids().effective != 0
    conn = pg.connect()
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute("CREATE TABLE t (id int primary key, v vector(3))")
    conn.execute("INSERT INTO t VALUES (1, '[1,2,3]'), (2, '[1,2,4]')")
    pg.kill()
    pg.restart()
    row = pg.connect().execute("SELECT id FROM t ORDER BY v <-> '[1,2,4]' LIMIT 1").fetchone()
    assert row == (2,)



def test_postgres_servers_share_one_template_but_never_a_password():
    """Data folders are copies of one initdb'ed template; each server's password is its own, and
    the first server's data (a table) is not in the second's copy."""
    import psycopg

    a, b = services.postgres(), services.postgres()
    assert a.password != b.password
    a.connect().execute("CREATE TABLE only_in_a (x int)")
    assert b.connect().execute("SELECT to_regclass('only_in_a')").fetchone() == (None,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(a.url.replace(a.password, b.password), connect_timeout=3)
    templates = list(a.workdir.parent.glob("pgtemplate-*/data/PG_VERSION"))
    assert len(templates) >= 1 and not list(a.workdir.parent.glob(".pgtemplate-*"))

def test_env_url_postgres(monkeypatch):
    """$LABSUPPORT_POSTGRES_URL is used as is."""
    pg = services.postgres()
    monkeypatch.setenv("LABSUPPORT_POSTGRES_URL", pg.url)
    ext = services.postgres()
    assert ext.connect().execute("SELECT 41 + 1").fetchone() == (42,)


def test_app_replicas_and_nginx_round_robin_then_retries():
    """3 replicas behind nginx: RR spreads evenly; a dead replica shows 502s only with retries off."""
    apps = services.app("labsupport.apps.model_server:app", replicas=3)
    lb = services.nginx(upstream=apps)
    with httpx.Client() as c:
        seen = [c.get(lb.url + "/healthz").headers["x-replica"] for _ in range(9)]
        assert sorted(seen) == sorted([a.name for a in apps] * 3)
        apps[0].kill()
        lb.reload(retries=False, max_fails=0)
        codes = [c.get(lb.url + "/healthz").status_code for _ in range(9)]
        assert codes.count(502) == 3
        lb.reload(retries=True)
        assert {c.get(lb.url + "/healthz").status_code for _ in range(9)} == {200}


def test_nginx_tls_gzip_cache_rate_limit():
    """TLS needs the lab CA; gzip shrinks JSON; the second GET is a cache HIT; a burst gets 429s."""
    app = services.app("labsupport.apps.model_server:app")
    lb = services.nginx(upstream=[app], tls=True, gzip=True, cache=True, rate_limit="5r/s")
    assert lb.url.startswith("https://")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(lb.url + "/openapi.json")
    with httpx.Client(verify=lb.ca_file) as c:
        first = c.get(lb.url + "/openapi.json")
        assert first.headers["x-cache-status"] == "MISS" and first.headers["content-encoding"] == "gzip"
        time.sleep(0.25)  # stay under 5 r/s for the cache check
        assert c.get(lb.url + "/openapi.json").headers["x-cache-status"] == "HIT"
        codes = [c.get(lb.url + "/openapi.json").status_code for _ in range(20)]
        assert codes.count(429) >= 10


def test_nginx_layer4_and_bad_config():
    """L4 (stream) balancing forwards TCP; a config nginx rejects is shown with nginx's own words."""
    app = services.app("labsupport.apps.model_server:app")
    l4 = services.nginx(upstream=[app], layer=4)
    assert httpx.get(l4.url + "/healthz").json()["ok"]
    with pytest.raises(ServiceError, match="nginx rejected the rendered config"):
        services.nginx(upstream=[app], policy="hash", hash_key="$no such variable")


def test_fault_proxy_latency_partition_reset():
    """Latency adds to every round trip; a partition times out; a reset is refused at once."""
    r = services.redis()
    link = services.fault_proxy(r)
    c = link.client(socket_timeout=1)
    t0 = time.perf_counter()
    c.ping()
    base = time.perf_counter() - t0
    with link.latency(ms=100):
        t0 = time.perf_counter()
        c.ping()
        slow = time.perf_counter() - t0
    assert slow >= 0.09 and slow > base
    with link.partition():
        with pytest.raises(redis_py.TimeoutError):
            link.client(socket_timeout=0.3).ping()
    with link.reset():
        with pytest.raises(redis_py.ConnectionError):
            link.client(retry_on_timeout=False, retry=None).ping()
    assert link.client().ping() and link.stats()["mode"] == "normal"


def test_fault_proxy_bandwidth_slows_a_transfer():
    """A 1 Mbit/s cap makes a 64 KB read take about 0.5 s, far longer than uncapped."""
    r = services.redis()
    r.client().set("blob", "x" * 64_000)
    link = services.fault_proxy(r)
    c = link.client()
    t0 = time.perf_counter()
    c.get("blob")
    fast = time.perf_counter() - t0
    with link.bandwidth(kbps=1000):
        t0 = time.perf_counter()
        c.get("blob")
        slow = time.perf_counter() - t0
    assert slow > 0.4 and slow > 5 * fast  # 512 kbit at 1 Mbit/s is about 0.5 s


def test_stop_all_leaves_nothing_running():
    """stop_all() stops every tracked server and their process groups."""
    r, pg = services.redis(), services.postgres()
    pids = [r.pid, pg.pid]
    assert services.stop_all() >= 2
    time.sleep(0.1)
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)


def test_free_ports_come_from_outside_the_ephemeral_range():
    """Picked now, bound later: a port from the ephemeral range could meanwhile become some outgoing
    connection's source port (or a bind(0) listener) and make the server fail to start."""
    from labsupport.services._process import _ephemeral_range

    lo, hi = _ephemeral_range()
    ports = [services.free_port() for _ in range(50)]
    assert all(not lo <= p <= hi for p in ports), (lo, hi, ports)
    assert len(set(ports)) > 40  # random picks: two labs starting at once rarely collide
