"""Cache-aside with a TTL over a source that changes, simulated: what fraction of reads return an old value?

    cfg = StalenessConfig(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=50, duration_s=60)
    r = simulate(cfg)
    r.stale_fraction, r.hit_rate, r.reads
    stale_fraction_formula(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0)  # the same, closed form

Each key is updated at random (Poisson, ``update_rate_per_s``) and read at random (Poisson,
``read_rate_per_s``). A read hits when the cached copy is younger than ``ttl_s``; it is stale when the
source changed after the copy was fetched. Chapter 6, lab "TTL and staleness", holds a real Redis
against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StalenessConfig:
    ttl_s: float
    update_rate_per_s: float     # per key, Poisson
    read_rate_per_s: float       # per key, Poisson
    n_keys: int = 50
    duration_s: float = 60.0
    seed: int = 42


@dataclass
class StalenessResult:
    reads: int = 0
    hits: int = 0                # reads served from a copy younger than the TTL
    stale: int = 0               # hits whose source had changed since the copy was fetched
    stale_fraction: float = 0.0  # stale / reads (over all reads, hits and misses)
    hit_rate: float = 0.0        # hits / reads


def simulate(cfg: StalenessConfig) -> StalenessResult:
    """Every key's reads and updates for ``cfg.duration_s`` seconds; fractions over all reads."""
    ttl_s, update_rate_per_s, read_rate_per_s, duration_s = (cfg.ttl_s, cfg.update_rate_per_s,
                                                             cfg.read_rate_per_s, cfg.duration_s)
    rng = np.random.default_rng(cfg.seed)
    reads = stale = hits = 0
    for _ in range(cfg.n_keys):
        n_updates, n_reads = int(duration_s * update_rate_per_s * 2) + 10, int(duration_s * read_rate_per_s * 2) + 10
        updates = np.cumsum(rng.exponential(1 / update_rate_per_s, n_updates))
        read_times = np.cumsum(rng.exponential(1 / read_rate_per_s, n_reads))
        read_times = read_times[read_times < duration_s]
        fetched_at = None
        for t in read_times:
            reads += 1
            if fetched_at is not None and t - fetched_at < ttl_s:
                hits += 1
                # stale if an update landed in (fetched_at, t]
                j = np.searchsorted(updates, fetched_at, side="right")
                if j < len(updates) and updates[j] <= t:
                    stale += 1
            else:
                fetched_at = t
    return StalenessResult(reads=reads, hits=hits, stale=stale,
                           stale_fraction=stale / reads if reads else 0.0, hit_rate=hits / reads if reads else 0.0)


def stale_fraction_formula(ttl_s: float, update_rate_per_s: float, read_rate_per_s: float) -> float:
    """A back-of-envelope estimate: a copy lives ``ttl_s``; a read lands at a uniform age inside it.

    P(stale | hit) = 1 - (1 - exp(-u*T)) / (u*T) for update rate u; hits are about r*T / (1 + r*T)
    of reads when reads arrive at rate r (one miss starts each copy, the next r*T reads hit).
    """
    u, r, t = update_rate_per_s, read_rate_per_s, ttl_s
    if t <= 0:
        return 0.0
    p_stale_hit = 1 - (1 - np.exp(-u * t)) / (u * t)
    return float(p_stale_hit * (r * t) / (1 + r * t))
