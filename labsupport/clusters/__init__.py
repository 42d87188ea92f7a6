"""Clusters of real engines on 127.0.0.1; every node-to-node link runs through one faultable network.

    from labsupport import clusters
    pg = clusters.pg_cluster(standbys=2, sync="FIRST 1 (standby1)")  # primary + streaming standbys
    kv = clusters.valkey_replicas(replicas=2)                        # Valkey primary + replicas
    vc = clusters.valkey_cluster(masters=3, replicas_per_master=1)   # Valkey Cluster, 16384 hash slots
    ed = clusters.etcd_cluster(nodes=3)                              # etcd: Raft, leader and term
    js = clusters.nats_cluster(nodes=3)                              # NATS JetStream, replicated streams

    pg.net.partition({"primary"}, {"standby1"}); pg.net.heal()     # faults on the links (see network)
    with pg.node("standby1").paused(): ...                           # faults on the processes
    pg.ready_s; pg.stop()                                            # measured ready time; teardown

Each cluster's module docstring is its cheat-sheet. The book's "How the labs run clusters" page shows
one cluster partitioned, healed, and its history checked.
"""

from ._base import Cluster
from .network import Network

__all__ = ["Cluster", "Network", "pg_cluster", "valkey_replicas", "valkey_cluster", "etcd_cluster", "nats_cluster"]

# Engines load on first use, so importing clusters costs nothing a lab does not need. The functions are
# not named after their modules: importing a submodule sets that name on the package and would hide them.
_LAZY = {"pg_cluster": ("postgres", "pg_cluster"), "valkey_replicas": ("valkey", "valkey_replicas"),
         "valkey_cluster": ("valkey", "valkey_cluster"), "etcd_cluster": ("etcd", "etcd_cluster"),
         "nats_cluster": ("nats", "nats_cluster")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
