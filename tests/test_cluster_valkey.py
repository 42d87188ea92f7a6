"""Valkey replication and Valkey Cluster, run for real, with faults through the cluster network.

Scenarios (one line each):
- replicas: a write acknowledged by WAIT is on every replica; WAIT answers how many acknowledged;
- replicas: a replica cut off by the network makes WAIT answer fewer, falls behind in offsets, and
  with min-replicas-to-write the primary refuses writes (NOREPLICAS); healing restores both;
- replicas: promote a replica after the primary dies; the other replica follows it;
- cluster: forms with all 16384 slots covered, every bus connection identified in the network;
- cluster: keys spread over the masters, hash-tagged keys share a slot (and a multi-key command);
- cluster: a plain client gets MOVED to the owner, the cluster client does not;
- cluster: slots move (atomic MIGRATESLOTS, and the classic IMPORTING/MIGRATING loop) while a
  client keeps reading every key without an error;
- cluster: a master is added (takes a fair share) and removed (hands its slots back);
- cluster: kill -9 of a master: its replica takes over, keys acknowledged by WAIT survive, the
  old master comes back as a replica;
- cluster: a master partitioned from the rest through the bus: the majority promotes its replica,
  the old master stops taking writes, and after healing it follows the new master;
- stop() leaves no process, no port and no data folder behind.
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
import redis

from labsupport.clusters.valkey import SLOTS, valkey_cluster, valkey_replicas


def until(check, timeout_s=15.0, what="condition"):
    """Poll a protocol check until it is truthy; the deadline is a failure, never a sleep."""
    deadline = time.perf_counter() + timeout_s
    last = None
    while time.perf_counter() < deadline:
        try:
            got = check()
            if got:
                return got
        except (redis.RedisError, OSError) as exc:
            last = exc
        time.sleep(0.02)
    raise AssertionError(f"{what}: not reached in {timeout_s} s (last error: {last})")


def footprint(c):
    """What a cluster holds on this machine: pids, listening ports, data folders."""
    servers = list(c.nodes.values()) + ([c.net._relay] if c.net._relay else [])
    return [s.pid for s in servers], [s.port for s in servers], [s.workdir for s in servers]


def assert_gone(fp):
    pids, ports, dirs = fp
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    from labsupport.services._process import tcp_open

    assert not any(tcp_open("127.0.0.1", p) for p in ports)
    assert not any(d.exists() for d in dirs)


# -- primary + replicas ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rep():
    r = valkey_replicas(replicas=2)
    yield r
    r.stop()


def test_write_acknowledged_by_wait_is_on_every_replica(rep):
    acked = rep.write("greeting", "hello", replicas=2, timeout_ms=2000)
    assert acked == 2
    assert [rep.client(n).get("greeting") for n in rep.replica_names()] == ["hello", "hello"]
    assert set(rep.lag().values()) == {0}


def test_wait_answers_how_many_replicas_acknowledged(rep):
    # asking for more replicas than exist: WAIT times out and reports the real count
    assert rep.write("k", "v", replicas=5, timeout_ms=200) == 2
    c = rep.client(single_connection_client=True)
    c.set("k2", "v2")
    assert rep.wait(c, 1, 2000) >= 1
    c.close()


def test_a_cut_replica_link_shows_in_wait_lag_and_min_replicas(rep):
    with rep.net.link("replica1", "primary").cut():
        assert rep.write("during-cut", "x", replicas=2, timeout_ms=300) == 1   # only replica2
        assert rep.client("replica2").get("during-cut") == "x"
        assert rep.client("replica1").get("during-cut") is None
        lag = rep.lag()
        assert lag["replica1"] > 0 and lag["replica2"] == 0
        rep.min_replicas(2, max_lag_s=1)   # replica1 stops acking: within ~2 s the primary refuses writes

        def refused():
            try:
                rep.client().set("guarded", "1")
            except redis.ResponseError as exc:
                return "NOREPLICAS" in str(exc)
            return False

        until(refused, 15, "primary refuses writes with one replica cut off")
    # healed: the held bytes arrive, replica1 catches up, writes are accepted again
    until(lambda: rep.client("replica1").get("during-cut") == "x", 15, "replica1 catches up")
    until(lambda: rep.write("after-heal", "y", replicas=2, timeout_ms=500) == 2, 15, "writes accepted")
    rep.min_replicas(0)
    assert rep.net.stats()[("replica1", "primary")]["connections"] >= 1   # the link ran through the relay


def test_promote_a_replica_after_the_primary_dies():
    r = valkey_replicas(replicas=2)
    fp = footprint(r)
    try:
        assert r.write("before", "1", timeout_ms=2000) == 2
        r.node("primary").kill()
        r.promote("replica1")
        assert r.primary == "replica1"
        assert r.client().get("before") == "1"                  # acknowledged before the crash: kept
        until(lambda: r.write("after", "2", replicas=1, timeout_ms=500) == 1, 15, "replica2 follows")
        assert r.client("replica2").get("after") == "2"
    finally:
        r.stop()
    assert_gone(fp)


# -- Valkey Cluster -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vc():
    c = valkey_cluster(masters=3, replicas_per_master=1)
    yield c
    c.stop()


def test_cluster_forms_with_every_slot_covered(vc):
    assert sum(vc.slot_counts().values()) == SLOTS
    assert vc.masters() == ["n1", "n2", "n3"]
    assert {m: vc.replicas_of(m) for m in vc.masters()} == {"n1": ["n4"], "n2": ["n5"], "n3": ["n6"]}
    assert vc.ready_s is not None
    links = vc.net.stats()
    # every connection identified: a replica's first bytes (PING, AUTH) count as "?" until it names itself
    assert links and all(v["connections"] == 0 for pair, v in links.items() if "?" in pair)
    assert {src for src, _ in links} - {"?"} == set(vc.nodes)    # every node's gossip goes through it


def test_keys_spread_over_masters_and_hash_tags_share_a_slot(vc):
    cl = vc.client()
    for i in range(600):
        cl.set(f"user:{i}", i)
    per_master = {m: vc.node(m).cmd("DBSIZE") for m in vc.masters()}
    assert sum(per_master.values()) >= 600
    assert all(n > 600 * 0.2 for n in per_master.values()), per_master   # ~1/3 each
    assert vc.slot_of("{u1}a") == vc.slot_of("{u1}b") != vc.slot_of("u1a")
    for key in ("user:1", "{u1}a", "x"):
        assert vc.slot_of(key) == vc.node("n1").cmd("CLUSTER", "KEYSLOT", key)
    cl.mset({"{u1}a": 1, "{u1}b": 2})                            # one slot: a multi-key command works
    owner = vc.owner("{u1}a")
    with pytest.raises(redis.ResponseError, match="same slot"):
        vc.node_client(owner).mset({"{u1}a": 1, "{u2}a": 2})


def test_plain_client_gets_moved_cluster_client_does_not(vc):
    key = next(k for k in (f"m{i}" for i in range(100)) if vc.owner(k) == "n2")
    vc.client().set(key, "here")
    with pytest.raises(redis.exceptions.MovedError) as err:      # the server's "MOVED slot host:port"
        vc.node_client("n1").get(key)
    assert err.value.slot_id == vc.slot_of(key)
    assert err.value.port == vc.node("n2").port                 # clients are sent to the node directly
    assert vc.client().get(key) == "here"


def test_resharding_while_a_client_keeps_reading(vc):
    cl = vc.client()
    keys = [f"r{i}" for i in range(400)]
    for k in keys:
        cl.set(k, k.upper())
    reads, errors, stop = [0], [], threading.Event()

    def reader():
        rc = vc.client()
        rng = random.Random(1)
        while not stop.is_set():
            k = rng.choice(keys)
            try:
                assert rc.get(k) == k.upper()
                reads[0] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                errors.append(repr(exc))

    before = vc.slot_counts()
    t = threading.Thread(target=reader)
    t.start()
    try:
        until(lambda: reads[0] > 20, 10, "the reader runs")
        moved = vc.move_slots(300, to="n1", source="n2")          # MIGRATESLOTS on Valkey 9
        classic = vc.move_slots(20, to="n1", source="n3", method="classic")
        n = reads[0]
        until(lambda: reads[0] > n + 20, 10, "the reader keeps going")
    finally:
        stop.set()
        t.join()
    after = vc.slot_counts()
    assert moved["slots"] == 300 and classic["slots"] == 20
    assert after["n1"] - before["n1"] == 320 and before["n2"] - after["n2"] == 300
    assert errors == []
    assert all(cl.get(k) == k.upper() for k in keys)
    assert moved["keys"] > 0


def test_each_of_two_replicas_has_its_own_faultable_replication_link():
    """Two replicas dial their master's one announced address; each is told apart (REPLCONF
    listening-port), so cutting one replica's link stalls it alone, and heal lets it catch up."""
    c = valkey_cluster(masters=3, replicas_per_master=2)
    fp = footprint(c)
    try:
        a, b = c.replicas_of("n1")
        n1 = c.node_client("n1", single_connection_client=True)
        mine = [k for k in (f"r{i}" for i in range(400)) if c.owner(k) == "n1"]
        n1.set(mine[0], "first")
        assert n1.wait(2, 2000) == 2
        with c.net.link("n1", b, one_way=True).cut():
            for k in mine:
                n1.set(k, "x" * 100)
            assert n1.wait(2, 700) == 1                    # only a acknowledged
            behind = c.node_client(b, single_connection_client=True)
            behind.execute_command("READONLY")
            assert behind.get(mine[-1]) is None            # b stalled at the cut
        assert n1.wait(2, 5000) == 2                       # b caught up after the cut
        assert c.net.stats()[("n1", b)]["bytes"] > 100 * len(mine)   # the stream passed the relay
    finally:
        c.stop()
    assert_gone(fp)


def test_add_then_remove_a_master():
    c = valkey_cluster(masters=3, replicas_per_master=0)
    fp = footprint(c)
    try:
        cl = c.client()
        for i in range(300):
            cl.set(f"a{i}", i)
        new = c.add_master()
        counts = c.slot_counts()
        assert c.masters() == ["n1", "n2", "n3", new] and sum(counts.values()) == SLOTS
        assert abs(counts[new] - SLOTS // 4) < 50                 # a fair share
        assert c.node(new).cmd("DBSIZE") > 0                      # keys moved with their slots
        assert all(int(cl.get(f"a{i}")) == i for i in range(300))
        moved = c.remove_master(new)
        assert sum(moved.values()) == counts[new]
        assert c.masters() == ["n1", "n2", "n3"] and sum(c.slot_counts().values()) == SLOTS
        assert c.ids.get(new) is None and all(len(v) == 3 for v in c._views().values())
        cl = c.client()
        assert all(int(cl.get(f"a{i}")) == i for i in range(300))
    finally:
        c.stop()
    assert_gone(fp)


def test_killed_master_is_replaced_by_its_replica():
    c = valkey_cluster(masters=3, replicas_per_master=1)
    fp = footprint(c)
    try:
        n1 = c.node_client("n1", single_connection_client=True)
        mine = [k for k in (f"f{i}" for i in range(400)) if c.owner(k) == "n1"]
        for k in mine:
            n1.set(k, k)
        assert c.nodes["n1"].cmd("WAIT", 1, 2000) == 1            # the replica has them all
        n1.close()
        t0 = time.perf_counter()
        c.node("n1").kill()
        new, seconds = c.wait_promoted("n1", since=t0)
        assert new == "n4" and c.role("n4") == "master"
        cl = c.client()
        assert until(lambda: all(cl.get(k) == k for k in mine), 15, "acknowledged keys readable")
        print(f"failover after kill -9: {seconds:.2f} s (node timeout {c.node_timeout_ms} ms)")
        c.node("n1").restart()                                    # it comes back as n4's replica
        until(lambda: c.role("n1", via="n2") == "replica" and c.replicas_of("n4", via="n2") == ["n1"],
              15, "old master rejoins as a replica")
    finally:
        c.stop()
    assert_gone(fp)


def test_partitioned_master_is_replaced_and_follows_after_heal():
    c = valkey_cluster(masters=3, replicas_per_master=1)
    fp = footprint(c)
    try:
        key = next(k for k in (f"p{i}" for i in range(100)) if c.owner(k) == "n1")
        n1 = c.node_client("n1", single_connection_client=True)
        n1.set(key, "before")
        assert n1.wait(1, 2000) == 1                           # on n4 too
        accepted, stop, refused = [], threading.Event(), []

        def writer():   # a client next to n1 keeps writing: which of its acknowledged writes survive?
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    n1.set(key, f"w{i}")
                    accepted.append(i)
                except redis.exceptions.ClusterDownError:     # the server's CLUSTERDOWN reply
                    refused.append(time.perf_counter() - t0)
                    return
                except redis.RedisError:
                    pass

        t0 = time.perf_counter()
        c.net.partition({"n1"}, set(c.nodes) - {"n1"})        # bus and replication links of n1 cut
        t = threading.Thread(target=writer)
        t.start()
        new, seconds = c.wait_promoted("n1", since=t0)
        t.join(15)
        stop.set()
        assert new == "n4" and refused                        # n1 stopped taking writes by itself
        survived = c.client().get(key)                         # n4's value: what reached it in time
        c.net.heal()
        until(lambda: c.role("n1", via="n1") == "replica" and c.replicas_of("n4", via="n1") == ["n1"],
              20, "n1 follows n4 after the heal")
        assert accepted and survived == "before"              # no write n1 took alone reached n4
        n1.close()
        n1 = c.node_client("n1", single_connection_client=True)
        n1.execute_command("READONLY")                         # read n1 itself, now a replica
        until(lambda: n1.get(key) == "before", 15, "n1's lone writes are gone from n1 too")
        n1.close()
        print(f"partition: n4 promoted after {seconds:.2f} s; n1 acknowledged {len(accepted)} writes "
              f"alone and refused from {refused[0]:.2f} s; after the heal all {len(accepted)} were lost")
    finally:
        c.stop()
    assert_gone(fp)
