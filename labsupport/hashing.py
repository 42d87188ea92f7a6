"""Consistent hashing: a ring with virtual nodes, and plain mod-N hashing to compare it with.

    ring = Ring(["s0", "s1", "s2"], vnodes=100)
    ring.node_for("user-42")              # the server that owns this key
    ring.add("s3"); ring.remove("s0")     # only about 1/n of the keys change owner
    modn = ModN(["s0", "s1", "s2"])        # same interface, hash(key) % n
    h = hash_keys(keys)                   # hash once, then ring.assign(h) for many rings (fast)
    moved_fraction(ring_before, ring_after, h)     # share of keys that changed server
    load_spread(ring.assign(h))           # {"max_over_mean": .., "cv": ..}

Hashes are the first 8 bytes of MD5, so they are stable across runs and machines (Python's
``hash()`` is salted per process). The why is in the book, chapter 5, "Consistent hashing".
"""

from __future__ import annotations

import hashlib
import numpy as np


def key_hash(key) -> int:
    """A stable 64-bit hash of ``key`` (any value, hashed as its ``str``)."""
    return int.from_bytes(hashlib.md5(str(key).encode()).digest()[:8], "big")


def hash_keys(keys) -> np.ndarray:
    """Hash many keys once (uint64), to reuse across rings: ``ring.assign(hash_keys(keys))``."""
    return np.fromiter((key_hash(k) for k in keys), dtype=np.uint64)


def _as_hashes(keys) -> np.ndarray:
    if isinstance(keys, np.ndarray) and keys.dtype == np.uint64:
        return keys
    return hash_keys(keys)


class Ring:
    """A consistent-hash ring: each node owns ``vnodes`` points; a key goes to the next point clockwise."""

    def __init__(self, nodes=(), vnodes: int = 100):
        if vnodes < 1:
            raise ValueError("vnodes must be at least 1")
        self.vnodes = vnodes
        self.nodes: list = []
        self._points = np.empty(0, dtype=np.uint64)
        self._owners = np.empty(0, dtype=np.int64)
        for node in nodes:
            self.add(node, _rebuild=False)
        self._rebuild()

    def _rebuild(self) -> None:
        pts, owners = [], []
        for i, node in enumerate(self.nodes):
            for v in range(self.vnodes):
                pts.append(key_hash(f"{node}#{v}"))
                owners.append(i)
        order = np.argsort(np.asarray(pts, dtype=np.uint64), kind="stable")
        self._points = np.asarray(pts, dtype=np.uint64)[order]
        self._owners = np.asarray(owners, dtype=np.int64)[order]

    def add(self, node, _rebuild: bool = True) -> "Ring":
        if node in self.nodes:
            raise ValueError(f"{node!r} is already on the ring")
        self.nodes.append(node)
        if _rebuild:
            self._rebuild()
        return self

    def remove(self, node) -> "Ring":
        self.nodes.remove(node)
        self._rebuild()
        return self

    def copy(self) -> "Ring":
        return Ring(self.nodes, vnodes=self.vnodes)

    def assign(self, keys) -> np.ndarray:
        """The node index (into ``self.nodes``) of every key; accepts ``hash_keys`` output."""
        if not self.nodes:
            raise ValueError("the ring has no nodes")
        idx = np.searchsorted(self._points, _as_hashes(keys), side="left")
        idx[idx == len(self._points)] = 0  # past the last point: wrap around to the first
        return self._owners[idx]

    def node_for(self, key):
        return self.nodes[int(self.assign(np.array([key_hash(key)], dtype=np.uint64))[0])]

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"<Ring {len(self.nodes)} nodes x {self.vnodes} vnodes>"


class ModN:
    """Naive hashing: ``nodes[hash(key) % n]``. Balanced, but changing n reshuffles almost everything."""

    def __init__(self, nodes=()):
        self.nodes = list(nodes)

    def add(self, node) -> "ModN":
        self.nodes.append(node)
        return self

    def remove(self, node) -> "ModN":
        self.nodes.remove(node)
        return self

    def copy(self) -> "ModN":
        return ModN(self.nodes)

    def assign(self, keys) -> np.ndarray:
        if not self.nodes:
            raise ValueError("no nodes")
        return (_as_hashes(keys) % np.uint64(len(self.nodes))).astype(np.int64)

    def node_for(self, key):
        return self.nodes[key_hash(key) % len(self.nodes)]

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"<ModN {len(self.nodes)} nodes>"


def owners(scheme, keys) -> np.ndarray:
    """The owning node *name* of every key (comparable across schemes with different node lists)."""
    names = np.asarray(scheme.nodes, dtype=object)
    return names[scheme.assign(keys)]


def moved_fraction(before, after, keys) -> float:
    """Share of ``keys`` whose owner differs between two schemes (e.g. a ring before and after ``add``)."""
    h = _as_hashes(keys)
    return float(np.mean(owners(before, h) != owners(after, h)))


def load_spread(assignment, n_nodes: int | None = None) -> dict:
    """How evenly keys (or requests) spread: max/mean and coefficient of variation of per-node counts.

    ``assignment``: node indices (as ``assign`` returns; ``n_nodes`` counts idle nodes too), or a dict
    of counts per node.
    """
    if isinstance(assignment, dict):
        counts = np.asarray(list(assignment.values()), dtype=float)
    else:
        counts = np.bincount(np.asarray(assignment, dtype=np.int64), minlength=n_nodes or 0).astype(float)
    mean = counts.mean()
    return {"max_over_mean": float(counts.max() / mean), "cv": float(counts.std() / mean)}
