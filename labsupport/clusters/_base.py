"""What every cluster in labsupport shares: named nodes, one network, one lifecycle.

    c = clusters.pg_cluster(standbys=2)      # any cluster
    c.nodes                                # {"primary": <server>, "standby1": <server>, ...}
    c.node("standby1").kill()              # process faults act on one node
    c.net.partition({"primary"}, {"standby1"})   # network faults act on the links between nodes
    c.ready_s                              # measured: first spawn -> cluster formed and usable
    c.stop()                               # every node and the network stopped, data removed
    with clusters.etcd_cluster() as c: ...         # the same, scoped
"""

from __future__ import annotations

import time

from ..services._process import ManagedProcess
from .network import Network


class Cluster:
    """A set of real server processes that form one system, and the network between them."""

    kind = "cluster"

    def __init__(self, name: str | None = None):
        self.name = name or self.kind
        self.net = Network(self.name)
        self.nodes: dict[str, ManagedProcess] = {}
        self.ready_s: float | None = None
        self._t0: float | None = None

    # -- for subclasses ------------------------------------------------------------------------
    def _clock_start(self) -> None:
        self._t0 = time.perf_counter()

    def _clock_ready(self) -> None:
        self.ready_s = time.perf_counter() - self._t0

    def add(self, name: str, server: ManagedProcess) -> ManagedProcess:
        self.nodes[name] = server
        return server

    # -- for labs ------------------------------------------------------------------------------
    def node(self, name: str) -> ManagedProcess:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"{self.name} has no node {name!r}; its nodes are {sorted(self.nodes)}") from None

    def stop(self) -> None:
        """Stop every node (data removed), then the network."""
        for server in reversed(list(self.nodes.values())):
            try:
                server.cleanup()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                pass
        self.net.stop()

    cleanup = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        up = sum(1 for s in self.nodes.values() if s.running)
        return f"<{type(self).__name__} {self.name}: {up}/{len(self.nodes)} nodes running>"
