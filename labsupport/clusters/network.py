"""One network for a cluster: every node-to-node link runs through it, so a lab can break any of them.

    net = Network("pg")                                        # its relay starts on first use
    addr = net.route("standby1", "primary", primary.address)   # standby1 reaches primary through addr
    addr = net.entry("n2", "127.0.0.1:2380")                   # every node reaches n2 through addr ...
    net.identify("n1", b"X-PeerURLs: http://127.0.0.1:40001")  # ... and n1's connections carry these bytes

    net.partition({"primary"}, {"standby1", "standby2"})       # no byte crosses between the groups
    net.isolate("n1");  net.heal()                             # one node from all; every fault off
    with net.partitioned({"n1"}, {"n2", "n3"}): ...            # the same, for one block
    with net.link("a", "b").cut(): ...                         # both directions hold their bytes
    with net.link("a", "b").latency(ms=50, jitter_ms=5): ...  # each direction: a round trip gains 100 ms
    with net.link("a", "b", one_way=True).loss(p=0.2): ... # only bytes a sends to b
    net.stats()                                                # bytes and connections per directed link

A cut holds bytes rather than refusing them, so the far side looks like a dead host and times out;
healing delivers what was held, as TCP would. ``labsupport/clusters/_relay.py`` says exactly what each
fault does to the bytes. Nodes are names or anything with a ``.name``. Faults applied from any thread
overlap safely and reach connections that are already open. The book's "How the labs run clusters"
page shows it on a live cluster.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import threading
from pathlib import Path

from ..services._process import ManagedProcess, ServiceError, python_exe


def _name(node) -> str:
    return node if isinstance(node, str) else node.name


class Relay(ManagedProcess):
    """The relay process (see ``_relay``); one per network."""

    kind = "relay"

    def __init__(self, name: str):
        super().__init__(f"{name}-net")
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._file = None

    def command(self) -> list[str]:
        # By file path, not -m: the relay needs only the standard library, and importing the labsupport
        # package first would cost seconds on a loaded machine.
        return [python_exe(), str(Path(__file__).with_name("_relay.py")), str(self.port)]

    def probe(self) -> bool:
        return "links" in self.call({"op": "stats"}, reconnect=True)

    def call(self, msg: dict, reconnect: bool = False) -> dict:
        with self._lock:
            if reconnect or self._sock is None:
                self._close()
                self._sock = socket.create_connection((self.host, self.port), timeout=5)
                self._file = self._sock.makefile("rb")
            self._sock.sendall((json.dumps(msg) + "\n").encode())
            line = self._file.readline()
        if not line:
            raise ServiceError(f"{self.name}: the relay closed its control connection.\n{self.logs(10)}")
        answer = json.loads(line)
        if "error" in answer:
            raise ServiceError(f"{self.name}: {answer['error']}")
        return answer

    def _close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = self._file = None

    def cleanup(self) -> None:
        self._close()
        super().cleanup()


class Fault:
    """One fault on a set of directed links. Undone by ``undo()`` or at the end of its ``with`` block."""

    def __init__(self, net: "Network", fault_id: str, what: str):
        self.net, self.id, self.what = net, fault_id, what

    def undo(self) -> None:
        self.net._call({"op": "clear", "id": self.id})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.undo()

    def __repr__(self) -> str:
        return f"<Fault {self.what}>"


class Link:
    """The link between two nodes; ``one_way=True`` means only the bytes a sends to b."""

    def __init__(self, net: "Network", a, b, one_way: bool = False):
        self.net, self.a, self.b = net, _name(a), _name(b)
        self.pairs = [(self.a, self.b)] if one_way else [(self.a, self.b), (self.b, self.a)]
        self.arrow = f"{self.a} {'->' if one_way else '<->'} {self.b}"

    def cut(self) -> Fault:
        return self.net._fault("cut", self.pairs, f"cut {self.arrow}")

    def latency(self, ms: float, jitter_ms: float = 0.0) -> Fault:
        return self.net._fault("latency", self.pairs, f"+{ms:g} ms {self.arrow}", ms=ms, jitter_ms=jitter_ms)

    def loss(self, p: float, rto_ms: float = 200.0) -> Fault:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"loss p={p} is a probability: use a value from 0 to 1")
        return self.net._fault("loss", self.pairs, f"loss p={p:g} {self.arrow}", p=p, rto_ms=rto_ms)


class Network:
    """The links between the nodes of one cluster (see module docstring)."""

    def __init__(self, name: str = "net"):
        self.name = name
        self.nodes: set[str] = set()
        self._relay: Relay | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- wiring ----------------------------------------------------------------------------------
    def _call(self, msg: dict) -> dict:
        with self._lock:
            if self._relay is None or not self._relay.running:
                self._relay = Relay(self.name).start()
        return self._relay.call(msg)

    def _listen(self, dst: str, target: str, src: str | None, scan: bool = False) -> str:
        if ":" not in str(target):
            raise ValueError(f"target {target!r}: give the node's 'host:port' address")
        self.nodes.add(dst)
        if src is not None:
            self.nodes.add(src)
        port = self._call({"op": "listen", "dst": dst, "target": str(target), "src": src, "scan": scan})["port"]
        return f"127.0.0.1:{port}"

    def route(self, src, dst, target: str) -> str:
        """An address through which ``src`` (only) reaches ``dst`` at ``target``."""
        return self._listen(_name(dst), target, _name(src))

    def entry(self, dst, target: str, scan: bool = False) -> str:
        """One address through which every node reaches ``dst``; sources are told apart by ``identify``.
        ``scan``: forward at once and name the source when its token appears (a protocol that waits for
        a reply before it names itself, like a Valkey replica's PING before REPLCONF listening-port);
        until then its bytes pass unfaulted."""
        return self._listen(_name(dst), target, None, scan)

    def identify(self, src, token: bytes) -> None:
        """Connections whose first bytes contain ``token`` (earliest match wins) come from ``src``."""
        self.nodes.add(_name(src))
        self._call({"op": "identify", "src": _name(src), "token": base64.b64encode(token).decode()})

    # -- faults ----------------------------------------------------------------------------------
    def _fault(self, kind: str, pairs, what: str, **params) -> Fault:
        fault_id = f"f{next(self._ids)}"
        self._call({"op": "fault", "id": fault_id, "kind": kind, "pairs": [list(p) for p in pairs], **params})
        return Fault(self, fault_id, what)

    def link(self, a, b, one_way: bool = False) -> Link:
        return Link(self, a, b, one_way)

    def partition(self, *groups) -> Fault:
        """Cut every link between nodes of different groups, both ways. Nodes in no group keep their links."""
        sets = [{_name(n) for n in g} for g in groups]
        if len(sets) < 2:
            raise ValueError("partition needs at least two groups, e.g. net.partition({'a'}, {'b', 'c'})")
        pairs = [(x, y) for i, g in enumerate(sets) for j, h in enumerate(sets) if i != j for x in g for y in h]
        label = " | ".join(",".join(sorted(g)) for g in sets)
        return self._fault("cut", pairs, f"partition {label}")

    def partitioned(self, *groups) -> Fault:
        """``with net.partitioned({...}, {...}):`` heals that partition when the block ends."""
        return self.partition(*groups)

    def isolate(self, node) -> Fault:
        """Cut ``node`` from every other node this network knows."""
        me = _name(node)
        others = self.nodes - {me}
        if not others:
            raise ValueError(f"{me!r}: this network knows no other node yet")
        return self.partition({me}, others)

    def heal(self) -> None:
        """Every fault off."""
        if self._relay is not None:
            self._call({"op": "heal"})

    # -- looking -----------------------------------------------------------------------------------
    def stats(self) -> dict:
        """{(src, dst): {"connections", "bytes", "held_bytes", "delayed_chunks"}}; "?" is an unidentified source."""
        if self._relay is None:
            return {}
        return {(r.pop("src"), r.pop("dst")): r for r in self._call({"op": "stats"})["links"]}

    def faults(self) -> list[str]:
        if self._relay is None:
            return []
        return [f"{f['kind']} {f['pairs']}" for f in self._call({"op": "stats"})["faults"]]

    def stop(self) -> None:
        if self._relay is not None:
            self._relay.cleanup()
            self._relay = None

    def __repr__(self) -> str:
        return f"<Network {self.name}: {len(self.nodes)} nodes>"
