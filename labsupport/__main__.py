"""``python -m labsupport doctor``: where each real server comes from, its version, or how to get it."""

from __future__ import annotations

import sys


# Why each engine is the one the course runs (the modules' docstrings say more).
WHY = {
    "redis": "Redis-protocol cache, sessions, streams; replicas and Valkey Cluster for sharding",
    "postgres": "SQL, ACID, indexes, JSONB, pgvector; streaming standbys for replication",
    "nginx": "reverse proxy, L4/L7 load balancing, TLS, proxy cache, rate limits",
    "etcd": "Raft consensus with linearizable reads: the engine Kubernetes keeps its state in",
    "nats": "JetStream: a durable log replicated over 3 nodes, for the crash labs",
    "kafka": "Tansu speaks the Kafka protocol, so labs use real Kafka clients (Apache Kafka is not installable offline)",
}


def doctor() -> int:
    from .services import _resolve  # noqa: PLC0415

    print("Systems Design Fundamentals: lab servers on this machine\n")
    missing = 0
    for src in _resolve.all_sources():
        if src.kind == "missing":
            missing += 1
            print(f"  ✘ {src.service:9} MISSING   {src.note}")
        else:
            label = {"env": "env URL", "path": "PATH", "wheel": "pip wheel"}[src.kind]
            note = f"  ({src.note})" if src.note else ""
            print(f"  ✔ {src.service:9} {label:9} {src.where}\n    {'':9} {src.version}{note}")
        if src.service in WHY:
            print(f"    {'':9} why: {WHY[src.service]}")
    print("\n  Python-only servers (uvicorn apps, gRPC, DNS, fault proxy, the cluster network's relay) and the")
    print("  embedded engines (RocksDB via rocksdict, ladybug, FAISS) come from pip and need nothing else.")
    if missing:
        print(f"\n{missing} server(s) missing: install them as shown, then run `make doctor` again.")
    return 1 if missing else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["doctor"]:
        return doctor()
    print("usage: python -m labsupport doctor")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
