"""A seeded simulation of a CDN: users in four regions, one origin, an edge cache near each region.

    cfg = CDNConfig(seed=42)                        # regions, round trips, popularity, capacity (fields)
    res = simulate(cfg)                             # one run from empty edges (a cold start)
    origin_only = simulate(replace(cfg, use_edge=False))  # the same traffic, every user to the origin
    warm = simulate(replace(cfg, warmup_s=3600))    # edges first filled by an hour of the same traffic
    res.latency_ms["ap-tokyo"], res.hit_rate()["ap-tokyo"], res.percentiles(), res.origin_requests
    download_time_s(size_mb=4000, rtt_ms=160)       # a big file over one TCP connection

What a request costs: a new HTTPS connection needs ``handshake_rtts`` round trips (TCP, then TLS 1.3)
before the request's own round trip; a reused connection needs only the request's. Without an edge
every round trip crosses to the origin. With an edge, the user's round trips stop at the nearby edge;
a hit is served there, a miss adds one round trip from the edge to the origin (over a connection the
edge keeps open) plus the origin's time. The origin is a pool of ``origin_workers`` servers with a
queue. Users in each region send Poisson traffic over a Zipf catalogue; each edge is an LRU cache.
Chapter 6, lab "CDN: a cache near every user", explains the numbers.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..workload import zipf_requests


@dataclass(frozen=True)
class Region:
    name: str
    requests_per_s: float
    rtt_origin_ms: float  # a user here to the origin (in us-east), and the edge here to the origin
    rtt_edge_ms: float    # a user here to the nearest edge


# Round-trip times of the right order for an origin in Virginia: users in the same region reach it in
# ~15 ms, Ireland ~80 ms, Sao Paulo ~120 ms, Tokyo ~160 ms; a city's CDN edge is ~10 ms away.
REGIONS = (
    Region("us-east", requests_per_s=40, rtt_origin_ms=15, rtt_edge_ms=8),
    Region("eu-west", requests_per_s=30, rtt_origin_ms=80, rtt_edge_ms=10),
    Region("sa-east", requests_per_s=10, rtt_origin_ms=120, rtt_edge_ms=12),
    Region("ap-tokyo", requests_per_s=20, rtt_origin_ms=160, rtt_edge_ms=10),
)


@dataclass(frozen=True)
class CDNConfig:
    regions: tuple = REGIONS
    use_edge: bool = True                # False: no CDN, every round trip crosses to the origin
    duration_s: float = 120.0            # measured traffic, in seconds
    warmup_s: float = 0.0                # traffic replayed into each edge before (not timed): 0 = cold start
    n_objects: int = 10_000              # images, scripts, small files (each fits in one TCP window)
    zipf_skew: float = 1.0               # popularity of object of rank r: 1 / r**skew
    edge_capacity_objects: int = 2_000   # per edge, LRU
    new_connection_fraction: float = 0.5  # requests that open a new HTTPS connection
    handshake_rtts: int = 2              # TCP + TLS 1.3, before the request's own round trip
    rtt_jitter: float = 0.1              # each round trip is multiplied by lognormal(0, this)
    edge_service_ms: float = 1.0
    origin_workers: int = 3
    origin_service_ms: float = 20.0      # mean of an exponential
    seed: int = 42


@dataclass
class CDNResult:
    use_edge: bool
    latency_ms: dict = field(default_factory=dict)  # region -> np.ndarray, in arrival order
    requests: dict = field(default_factory=dict)
    hits: dict = field(default_factory=dict)
    origin_requests: int = 0
    duration_s: float = 0.0

    def hit_rate(self) -> dict:
        return {r: self.hits[r] / self.requests[r] if self.requests[r] else 0.0 for r in self.requests}

    def percentiles(self, ps=(50, 99)) -> dict:
        return {r: {f"p{p}": float(np.percentile(v, p)) for p in ps} for r, v in self.latency_ms.items()}

    @property
    def origin_rps(self) -> float:
        return self.origin_requests / self.duration_s


class _LRU:
    def __init__(self, capacity: int):
        self.capacity, self.items = capacity, OrderedDict()

    def get(self, key) -> bool:
        if key in self.items:
            self.items.move_to_end(key)
            return True
        return False

    def put(self, key) -> None:
        self.items[key] = True
        self.items.move_to_end(key)
        if len(self.items) > self.capacity:
            self.items.popitem(last=False)


def _traffic(cfg: CDNConfig, index: int, region: Region):
    """Arrival times (ms), objects and new-connection flags of one region: identical with or without edge."""
    rng = np.random.default_rng([cfg.seed, index])
    n = rng.poisson(region.requests_per_s * cfg.duration_s)
    times = np.sort(rng.uniform(0, cfg.duration_s * 1000, n))
    objects = zipf_requests(n, cfg.n_objects, cfg.zipf_skew, rng=rng)
    new_conn = rng.random(n) < cfg.new_connection_fraction
    return times, objects, new_conn


def _warm_up(cfg: CDNConfig, index: int, region: Region, edge: "_LRU") -> None:
    """Replay ``cfg.warmup_s`` seconds of this region's traffic into its edge (contents only, untimed)."""
    rng = np.random.default_rng([cfg.seed, index, 7])
    n = rng.poisson(region.requests_per_s * cfg.warmup_s)
    for obj in zipf_requests(n, cfg.n_objects, cfg.zipf_skew, rng=rng).tolist():
        if not edge.get(obj):
            edge.put(obj)


def _draws(draw, batch: int = 65_536):
    """An endless stream of random numbers, drawn from numpy in batches (much faster than one by one)."""
    while True:
        yield from draw(batch).tolist()


def simulate(cfg: CDNConfig | None = None) -> CDNResult:
    """Run the CDN for ``cfg.duration_s`` seconds of traffic (simulated time, in ms inside)."""
    cfg = cfg or CDNConfig()
    use_edge = cfg.use_edge
    env = simpy.Environment()
    origin = simpy.Resource(env, capacity=cfg.origin_workers)
    rng = np.random.default_rng([cfg.seed, 999])  # jitter and service times
    jitter = _draws(lambda n: rng.lognormal(0.0, cfg.rtt_jitter, n))
    service_ms = _draws(lambda n: rng.exponential(cfg.origin_service_ms, n))
    res = CDNResult(use_edge=use_edge, duration_s=cfg.duration_s)
    latencies: dict[str, list] = {}

    def rtts(base_ms: float, count: int) -> float:
        return sum(base_ms * next(jitter) for _ in range(count))

    def at_origin():
        with origin.request() as slot:
            yield slot
            yield env.timeout(next(service_ms))
        res.origin_requests += 1

    def request(region: Region, edge: _LRU | None, obj: int, new_conn: bool, out: list, i: int):
        t0 = env.now
        n_rtts = 1 + (cfg.handshake_rtts if new_conn else 0)
        if edge is None:
            yield env.timeout(rtts(region.rtt_origin_ms, n_rtts))
            yield from at_origin()
        else:
            yield env.timeout(rtts(region.rtt_edge_ms, n_rtts) + cfg.edge_service_ms)
            if edge.get(obj):
                res.hits[region.name] += 1
            else:
                yield env.timeout(rtts(region.rtt_origin_ms, 1))
                yield from at_origin()
                edge.put(obj)
        out[i] = env.now - t0

    def arrivals(region: Region, index: int):
        times, objects, new_conn = _traffic(cfg, index, region)
        out = [np.nan] * len(times)
        latencies[region.name] = out
        res.requests[region.name], res.hits[region.name] = len(times), 0
        edge = _LRU(cfg.edge_capacity_objects) if use_edge else None
        if edge is not None and cfg.warmup_s > 0:
            _warm_up(cfg, index, region, edge)
        for i, (t, obj, nc) in enumerate(zip(times, objects, new_conn)):
            yield env.timeout(t - env.now)
            env.process(request(region, edge, int(obj), bool(nc), out, i))

    for index, region in enumerate(cfg.regions):
        env.process(arrivals(region, index))
    env.run()  # until every request has finished
    res.latency_ms = {name: np.asarray(v, dtype=float) for name, v in latencies.items()}
    return res


def download_time_s(size_mb: float, rtt_ms: float, window_mb: float = 4.0, link_mbps: float = 1000.0,
                    handshake_rtts: int = 2) -> float:
    """Time to fetch a big file over one TCP connection: set-up round trips, then size / throughput.

    One connection carries at most one window per round trip (the bandwidth-delay product), and never
    more than the link: throughput = min(link, window / RTT). Far away, the RTT, not the link, limits.
    """
    rtt_s = rtt_ms / 1000
    throughput_mb_s = min(link_mbps / 8, window_mb / rtt_s)
    return (handshake_rtts + 1) * rtt_s + size_mb / throughput_mb_s


def weights_download(size_mb: float, cfg: CDNConfig | None = None, **kw) -> dict:
    """Per region: seconds to download ``size_mb`` of model weights from the origin, from a cold edge
    (the first download in the region: the edge streams it from the origin as it arrives), and from a
    warm edge (every later download)."""
    cfg = cfg or CDNConfig()
    out = {}
    for r in cfg.regions:
        direct = download_time_s(size_mb, r.rtt_origin_ms, **kw)
        warm = download_time_s(size_mb, r.rtt_edge_ms, **kw)
        cold = (kw.get("handshake_rtts", 2) + 1) * r.rtt_edge_ms / 1000 + max(direct, warm)
        out[r.name] = {"origin": direct, "edge_cold": cold, "edge_warm": warm}
    return out
