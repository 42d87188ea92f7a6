"""A PostgreSQL primary with streaming standbys: replication through the cluster network, sync and async
commits under partitions, kill -9 and promotion, followers on the new timeline, nothing left behind.

Each test is a scenario on real servers and prints one line with what it measured (pytest -s).
"""

from __future__ import annotations

import os
import threading
import time

import psutil
import psycopg
import pytest

from labsupport.clusters.postgres import PostgresCluster, pg_cluster
from labsupport.services._process import port_in_use


def measured(text: str) -> None:
    print(f"\n  measured: {text}")


def _commit_in_thread(cluster: PostgresCluster, query: str, **kw):
    """Runs one autocommit statement in its own session; returns (done event, box with seconds or error)."""
    done, box = threading.Event(), {}
    conn = cluster.connect(**kw)

    def run():
        t0 = time.perf_counter()
        try:
            conn.execute(query)
            box["returned_at"] = time.perf_counter()
            box["s"] = box["returned_at"] - t0
        except Exception as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc
        finally:
            conn.close()
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, box


@pytest.fixture(scope="module")
def async_cluster():
    with pg_cluster(standbys=2, name="pgasync") as c:
        c.connect().execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        yield c


@pytest.fixture(scope="module")
def sync_cluster():
    with pg_cluster(standbys=2, sync="FIRST 1 (standby1)", synchronous_commit="on", name="pgsync") as c:
        c.connect().execute("CREATE TABLE t (id int PRIMARY KEY)")
        yield c


def test_cluster_forms_replicates_and_standbys_refuse_writes(async_cluster):
    """A row written on the primary is on every standby after catch-up; standbys refuse writes."""
    c = async_cluster
    assert sorted(c.nodes) == ["primary", "standby1", "standby2"]
    assert c.roles() == {"primary": "primary", "standby1": "standby", "standby2": "standby"}
    c.connect().execute("INSERT INTO t VALUES (1, 'written on the primary')")
    caught_s = c.wait_caught_up(timeout=10)
    for s in c.standbys:
        assert s.sql("SELECT note FROM t WHERE id = 1") == [("written on the primary",)]
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.connect(s.node).execute("INSERT INTO t VALUES (2, 'on a standby')")
    # the standbys stream through the relay, not straight from the primary
    for s in c.standbys:
        (port,) = s.sql("SELECT sender_port FROM pg_stat_wal_receiver")[0]
        assert port != c.primary.port and f"127.0.0.1:{port}" == c.route(s, c.primary)
        assert c.net.stats()[(s.node, "primary")]["bytes"] > 0
    measured(f"ready_s {c.ready_s:.2f} s (primary alone {c.primary.ready_s:.2f} s after initdb); "
             f"caught up in {caught_s * 1000:.0f} ms")


def test_lag_is_reported_per_standby_and_zero_after_catch_up(async_cluster):
    """lag() has a row per standby; after wait_caught_up every byte lag is 0, in the standby's and the primary's view."""
    c = async_cluster
    with c.connect() as conn:
        conn.execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(100, 2099) g")
    c.wait_caught_up(timeout=10)
    lag = c.lag()
    assert sorted(lag) == ["standby1", "standby2"]
    assert all(row["state"] == "streaming" and row["standby_lag_bytes"] == 0 for row in lag.values())
    # the primary learns the replay position from the standby's status messages (every 1 s at most)
    deadline = time.monotonic() + 5
    while any(r["replay_lag_bytes"] != 0 for r in lag.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
        lag = c.lag()
    assert all(r["replay_lag_bytes"] == 0 and r["flush_lag_bytes"] == 0 for r in lag.values()), lag
    frame = c.lag_frame()
    assert list(frame.index) == ["standby1", "standby2"] and "replay_lag_ms" in frame.columns
    measured("; ".join(f"{n}: replay_lag_ms {r['replay_lag_ms']}, bytes {r['replay_lag_bytes']}"
                       for n, r in lag.items()))


def test_sync_standby_cut_off_blocks_commit_until_healed(sync_cluster):
    """FIRST 1 (standby1), standby1 cut from the primary: a COMMIT waits while cut; healing releases it."""
    c = sync_cluster
    assert c.lag()["standby1"]["sync_state"] == "sync"
    with c.net.partition({"primary"}, {"standby1"}):
        cut_at = time.perf_counter()
        done, box = _commit_in_thread(c, "INSERT INTO t VALUES (42)")
        blocked = not done.wait(1.0)
        # the same commit with synchronous_commit=local in another session returns at once
        local = c.connect(synchronous_commit="local")
        t0 = time.perf_counter()
        local.execute("INSERT INTO t VALUES (43)")
        local_s = time.perf_counter() - t0
        local.close()
        still_blocked = not done.is_set()
        on_standby_while_cut = c.node("standby1").sql("SELECT count(*) FROM t WHERE id = 42")[0][0]
        visible_on_primary = c.primary.sql("SELECT count(*) FROM t WHERE id = 42")[0][0]
        healed_at = time.perf_counter()
    assert blocked and still_blocked, f"the commit returned while its sync standby was cut off: {box}"
    assert on_standby_while_cut == 0
    assert done.wait(10), "the commit did not return after the network healed"
    assert "error" not in box, box
    waited_s = box["s"]
    assert box["returned_at"] > healed_at  # it returned only once the network healed
    c.wait_caught_up(timeout=10, standbys=["standby1"])
    assert c.node("standby1").sql("SELECT count(*) FROM t WHERE id IN (42, 43)")[0][0] == 2
    measured(f"sync commit waited {waited_s:.2f} s (cut lasted {healed_at - cut_at:.2f} s); "
             f"a synchronous_commit=local commit took {local_s * 1000:.1f} ms meanwhile; "
             f"the waiting row was visible on the primary to others: {bool(visible_on_primary)}")


def test_any_1_quorum_survives_one_standby_cut_but_not_both(sync_cluster):
    """ANY 1 (standby1, standby2): one standby cut, commits return; both cut, a commit waits."""
    c = sync_cluster
    c.set_sync("ANY 1 (standby1, standby2)")
    try:
        with c.net.partition({"primary"}, {"standby1"}):
            done, box = _commit_in_thread(c, "INSERT INTO t VALUES (50)")
            assert done.wait(5) and "error" not in box, "one quorum member was enough"
            one_cut_s = box["s"]
        with c.net.partition({"primary"}, {"standby1", "standby2"}):
            done, box = _commit_in_thread(c, "INSERT INTO t VALUES (51)")
            blocked = not done.wait(1.0)
        assert blocked and done.wait(10) and "error" not in box
    finally:
        c.set_sync("FIRST 1 (standby1)")
    measured(f"one of two cut: commit in {one_cut_s * 1000:.1f} ms; both cut: waited {box['s']:.2f} s until heal")


def test_async_standby_cut_off_commits_return_and_lag_grows_then_catches_up(async_cluster):
    """An async standby cut off: commits all return while cut, its lag grows, and it catches up after heal."""
    c = async_cluster
    c.wait_caught_up(timeout=10)
    with c.net.partition({"primary"}, {"standby2"}):
        def batch(first):
            done, box = _commit_in_thread(
                c, f"DO $$BEGIN FOR i IN {first}..{first + 49} LOOP INSERT INTO t VALUES (i, 'cut'); COMMIT; END LOOP; END$$")
            return done.wait(5) and "error" not in box
        assert batch(10_000), "50 async commits did not all return while the standby was cut off"
        lag1 = c.lag()["standby2"]["standby_lag_bytes"]
        assert batch(10_050)
        lag2 = c.lag()["standby2"]["standby_lag_bytes"]
        c.wait_caught_up(timeout=10, standbys=["standby1"])  # the other standby is not affected
        assert c.node("standby2").sql("SELECT count(*) FROM t WHERE id >= 10000")[0][0] == 0
    assert 0 < lag1 < lag2, (lag1, lag2)
    catch_up_s = c.wait_caught_up(timeout=15)
    assert c.node("standby2").sql("SELECT count(*) FROM t WHERE id >= 10000")[0][0] == 100
    measured(f"standby2 lag {lag1} -> {lag2} bytes while cut (100 commits returned); caught up {catch_up_s:.2f} s after heal")


def test_kill_primary_promote_sync_standby_keeps_every_acknowledged_commit():
    """remote_apply + FIRST 1 (standby1); a writer runs; kill -9 the primary; promote standby1: no ack lost."""
    with pg_cluster(standbys=2, sync="FIRST 1 (standby1)", synchronous_commit="remote_apply", name="pgkill") as c:
        c.connect().execute("CREATE TABLE t (id int PRIMARY KEY)")
        acked, stop = [], threading.Event()

        def writer():
            try:
                with c.connect() as conn:
                    for i in range(1_000_000):
                        if stop.is_set():
                            return
                        conn.execute("INSERT INTO t VALUES (%s)", (i,))
                        acked.append(i)
            except psycopg.Error:
                return

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while len(acked) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acked) >= 200, "the writer made no progress"
        old_port = c.primary.port
        c.primary.kill()
        thread.join(10)
        stop.set()
        promote_s = c.promote("standby1")
        rows = {r[0] for r in c.node("standby1").sql("SELECT id FROM t")}
        lost = set(acked) - rows
        assert not lost, f"{len(lost)} acknowledged commits missing on the promoted sync standby"
        with c.connect_writer() as w:
            port, recovering = w.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone()
            w.execute("INSERT INTO t VALUES (-1)")
        assert port == c.node("standby1").port != old_port and recovering is False
        measured(f"{len(acked)} commits acknowledged before kill -9, 0 lost, {len(rows) - len(acked)} committed "
                 f"but unacknowledged; promote took {promote_s * 1000:.0f} ms; standby2 {c.followed.get('standby2')}")


def test_other_standby_follows_the_promoted_one_on_the_new_timeline():
    """Kill -9 the primary, promote standby1: standby2 re-points through the network and replays the new timeline."""
    with pg_cluster(standbys=2, name="pgfollow") as c:
        c.connect().execute("CREATE TABLE t (id int PRIMARY KEY)")
        c.connect().execute("INSERT INTO t VALUES (1)")
        c.wait_caught_up(timeout=10)
        c.primary.kill()
        t0 = time.perf_counter()
        c.promote("standby1")
        follow_s = time.perf_counter() - t0
        assert c.followed == {"standby2": "timeline"}
        assert c.roles() == {"primary": "down", "standby1": "primary", "standby2": "standby"}
        c.connect().execute("INSERT INTO t VALUES (2)")
        c.wait_caught_up(timeout=10)
        assert c.node("standby2").sql("SELECT id FROM t ORDER BY id") == [(1,), (2,)]
        tli, port = c.node("standby2").sql("SELECT received_tli, sender_port FROM pg_stat_wal_receiver")[0]
        assert tli == 2 and f"127.0.0.1:{port}" == c.route(c.node("standby2"), c.node("standby1"))
        with c.connect_reader() as r:
            assert r.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        # the old primary rejoins as a standby of the new one
        c.rebuild("primary")
        c.connect().execute("INSERT INTO t VALUES (3)")
        c.wait_caught_up(timeout=10)
        assert c.node("primary").sql("SELECT count(*) FROM t")[0][0] == 3
        measured(f"promote + follow {follow_s * 1000:.0f} ms; standby2 on timeline {tli} via the relay; "
                 f"old primary rebuilt as a standby")


def test_stop_leaves_no_process_port_or_data_behind():
    """After stop(): no postgres of this cluster (nor its relay) runs, no port is bound, no data folder is left."""
    c = pg_cluster(standbys=2, name=f"pgorphan{os.getpid()}")
    c.node("standby2").pause()  # a paused node must go too
    procs = [c.net._relay.proc.pid] + [n.pid for n in c.nodes.values()]
    pids = procs + [ch.pid for p in procs for ch in psutil.Process(p).children(recursive=True)]
    ports = [n.port for n in c.nodes.values()] + [c.net._relay.port]
    dirs = [n.workdir for n in c.nodes.values()]
    assert len(pids) >= 3 * 5
    t0 = time.perf_counter()
    c.stop()
    stop_s = time.perf_counter() - t0

    def alive(pid):
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    assert not [p for p in pids if alive(p)]
    assert not [p for p in ports if port_in_use(p)]
    assert not [d for d in dirs if d.exists()]
    titled = [p.pid for p in psutil.process_iter(["cmdline"]) if any(c.name in a for a in p.info["cmdline"] or [])]
    assert not titled
    measured(f"{len(pids)} processes and {len(ports)} ports gone, stop() took {stop_s:.2f} s")


def test_nodes_run_as_nobody_under_root_and_as_the_user_otherwise(async_cluster):
    """No root-only assumption: every node (and its data folder) belongs to 'nobody' under root, else to the user."""
    c = async_cluster
    owner = c.primary.run_as()[0]
    want = os.getuid() if owner is None else owner
    for n in c.nodes.values():
        assert psutil.Process(n.pid).uids().real == want
        assert n.data.stat().st_uid == want
    measured(f"uid {os.getuid()}: servers run as uid {want}")


def test_a_postgres_url_does_not_stop_a_cluster_from_using_local_binaries(monkeypatch):
    """$LABSUPPORT_POSTGRES_URL names a server that cannot host standbys: the cluster still finds local binaries,
    and with none at all the error says why the URL is not enough and how to install them."""
    from labsupport.clusters import postgres as pgc
    from labsupport.services import ServiceError, _resolve

    monkeypatch.setenv("LABSUPPORT_POSTGRES_URL", "postgresql://u:p@127.0.0.1:9/x")
    assert (pgc.Path(pgc.local_bindir()) / "pg_basebackup").exists()
    assert os.environ["LABSUPPORT_POSTGRES_URL"] == "postgresql://u:p@127.0.0.1:9/x"  # left as it was
    monkeypatch.setattr(_resolve, "postgres", lambda: _resolve.Source("postgres", "missing", "", note="pip install X"))
    with pytest.raises(ServiceError, match="cannot host standbys.*Fix: pip install X"):
        pgc.local_bindir()
