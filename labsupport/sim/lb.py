"""A seeded simpy model of a load balancer in front of LLM-like servers, for scales a laptop cannot run.

    tokens = workload.lognormal_tokens(20_000, mean=100, sigma=1.5, seed=42)          # (labsupport.workload)
    cfg = LBConfig(tokens, policy="least_conn", n_servers=50, lanes=2, load=0.9, seed=42)  # open loop
    r = simulate(cfg)
    r = simulate(LBConfig(tokens, n_servers=3, lanes=[4, 2, 2], concurrency=12))   # closed loop, round robin
    r.p50_ms, r.p99_ms, r.served (requests per server), r.summary()
    compare(cfg, POLICIES)            # {policy: LBResult}: replace(cfg, policy=p), same requests, same seed
    capacity_rps(tokens, lanes=[4, 2, 2]); ranking({policy: p99})

A server has ``lanes`` (sequences it can generate at full speed at once, as ``apps.llm_sim``'s LANES; more
GPU memory, more lanes) and shares them by processor sharing, not a FIFO queue: every request starts at
once, and with more in flight than lanes each one generates at ``lanes / in_flight`` of full speed, so a request needs
``tokens * token_ms`` ms of full-speed work. (``labsupport.apps.llm_sim`` emulates the same rule.)
Open loop: Poisson arrivals at ``load``
times the fleet's capacity. Closed loop: ``concurrency`` clients, each sends its next request when
the previous one returns (like ``measure.run_load``). Policies are the ones nginx offers
(``services.nginx``): round_robin, weighted (smooth weighted round robin), least_conn (fewest
in-flight per unit of weight), random, p2c (two random choices, fewer in flight wins) and hash
(a consistent-hash ring on the request's key). The why is in the book, chapter 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import simpy

from ..hashing import Ring, hash_keys
from ..workload import uniform_requests

POLICIES = ["round_robin", "weighted", "least_conn", "random", "p2c", "hash"]


# -- config and result -----------------------------------------------------------------------
@dataclass(frozen=True)
class LBConfig:
    """One run: the requests (``tokens``, answer lengths), the fleet, the policy and the traffic.

    ``lanes``/``speed``/``weights`` are one value for all servers or a list; ``speed`` 2 generates twice
    as fast. ``concurrency`` (closed loop) wins over ``load`` (open loop, fraction of capacity).
    ``overhead_ms`` is a fixed per-request cost outside the server (network, proxy, client).
    ``keys`` (one per request) feed the "hash" policy; None: uniform keys drawn with ``seed``.
    """
    tokens: np.ndarray | list = field(repr=False)  # one answer length (tokens) per request, in order
    policy: str = "round_robin"          # one of POLICIES
    n_servers: int = 3
    lanes: int | list = 2                # one value for all servers, or one per server
    speed: float | list = 1.0
    weights: float | list | None = None  # None: all 1
    token_ms: float = 1.0                # ms per token at full speed
    overhead_ms: float = 0.0
    load: float | None = 0.8             # open loop: arrival rate / fleet capacity
    concurrency: int | None = None       # closed loop: clients, each waits for its answer
    keys: np.ndarray | list | None = field(default=None, repr=False)
    vnodes: int = 100                    # virtual nodes per server on the hash ring
    seed: int = 42


@dataclass
class LBResult:
    policy: str
    latencies_ms: np.ndarray
    served: np.ndarray  # requests handled per server
    busy_ms: np.ndarray  # lane-milliseconds of generation per server
    elapsed_ms: float
    params: dict = field(default_factory=dict)

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 50))

    @property
    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 99))

    @property
    def share(self) -> np.ndarray:
        """Fraction of requests each server handled."""
        return self.served / self.served.sum()

    @property
    def work_cv(self) -> float:
        """Coefficient of variation of the work (busy time per lane) across servers: 0 is perfectly even."""
        per_lane = self.busy_ms / np.asarray(self.params["lanes"], dtype=float)
        return float(per_lane.std() / per_lane.mean())

    def summary(self) -> dict:
        return {"policy": self.policy, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
                "mean_ms": float(self.latencies_ms.mean()), "work_cv": self.work_cv}


# -- the balancer ----------------------------------------------------------------------------
class _Balancer:
    def __init__(self, policy: str, n: int, weights: np.ndarray, rng: np.random.Generator, vnodes: int):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose one of {POLICIES}")
        self.policy, self.n, self.w, self.rng = policy, n, weights, rng
        self.active = np.zeros(n, dtype=float)  # requests in flight (queued or generating) per server
        self._rr = 0
        self._current = np.zeros(n)  # smooth weighted round robin state (nginx's algorithm)
        self._ring = Ring(range(n), vnodes=vnodes) if policy == "hash" else None
        self._cum = np.cumsum(weights / weights.sum())

    def _draw(self) -> int:
        """A server at random, in proportion to its weight."""
        return min(int(np.searchsorted(self._cum, self.rng.random(), side="right")), self.n - 1)

    def pick(self, key_hash) -> int:
        p = self.policy
        if p == "round_robin":
            self._rr = (self._rr + 1) % self.n
            return self._rr
        if p == "weighted":
            self._current += self.w
            i = int(np.argmax(self._current))
            self._current[i] -= self.w.sum()
            return i
        if p == "least_conn":
            score = self.active / self.w
            best = np.flatnonzero(score == score.min())
            return int(best[0] if len(best) == 1 else best[int(self.rng.random() * len(best))])
        if p == "random":
            return self._draw()
        if p == "p2c":
            a = b = self._draw()
            while b == a and self.n > 1:
                b = self._draw()
            return a if self.active[a] / self.w[a] <= self.active[b] / self.w[b] else b
        return int(self._ring.assign(np.array([key_hash], dtype=np.uint64))[0])


class _SharedServer:
    """Processor sharing: up to ``lanes`` requests generate at full speed; with more in flight, every one
    of them slows down in proportion (a GPU or CPU time-sliced between them)."""

    def __init__(self, env: simpy.Environment, lanes: int, speed: float):
        self.env, self.lanes, self.speed = env, lanes, speed
        self.jobs: dict[int, list] = {}  # id -> [remaining work (ms at full speed), done event]
        self.last = env.now
        self._next_id = 0
        self._timer_gen = 0  # only the newest completion timer counts; older ones are stale

    def _rate(self) -> float:
        n = len(self.jobs)
        return self.speed * min(1.0, self.lanes / n) if n else 0.0

    def _advance(self) -> None:
        dt, r = self.env.now - self.last, self._rate()
        if dt > 0 and r > 0:
            for job in self.jobs.values():
                job[0] -= dt * r
        self.last = self.env.now

    def _schedule(self) -> None:
        self._timer_gen += 1
        if self.jobs:
            gen = self._timer_gen
            wait = max(min(job[0] for job in self.jobs.values()), 0.0) / self._rate()
            self.env.timeout(wait).callbacks.append(lambda _ev: self._on_timer(gen))

    def _on_timer(self, gen: int) -> None:
        if gen != self._timer_gen:
            return
        self._advance()
        for jid in [j for j, job in self.jobs.items() if job[0] <= 1e-7]:
            self.jobs.pop(jid)[1].succeed()
        self._schedule()

    def submit(self, work_ms: float) -> simpy.Event:
        """Start generating; the returned event fires when the request is done."""
        self._advance()
        done = self.env.event()
        self.jobs[self._next_id] = [work_ms, done]
        self._next_id += 1
        self._schedule()
        return done


def _per_server(value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    return np.full(n, float(arr)) if arr.ndim == 0 else arr


def capacity_rps(tokens, lanes, speed=1.0, token_ms: float = 1.0, n_servers: int | None = None) -> float:
    """Requests per second the whole fleet can finish at full use (mean request length)."""
    n = n_servers or len(np.atleast_1d(lanes))
    lanes, speed = _per_server(lanes, n), _per_server(speed, n)
    return float((lanes * speed).sum() / (np.mean(tokens) * token_ms / 1000))


def simulate(cfg: LBConfig) -> LBResult:
    """Run every request in ``cfg.tokens`` through ``cfg.policy``; see LBConfig and the module docstring."""
    policy, n, seed, token_ms = cfg.policy, cfg.n_servers, cfg.seed, cfg.token_ms
    tokens = np.asarray(cfg.tokens)
    lanes_arr = _per_server(cfg.lanes, n).astype(int)
    speed_arr = _per_server(cfg.speed, n)
    w = _per_server(1.0 if cfg.weights is None else cfg.weights, n)
    rng = np.random.default_rng([seed, 3])  # its own stream: arrivals never correlate with lengths
    keys = uniform_requests(len(tokens), seed=seed) if cfg.keys is None else cfg.keys
    key_hashes = hash_keys(keys) if policy == "hash" else np.zeros(len(tokens), dtype=np.uint64)
    lb = _Balancer(policy, n, w, rng, cfg.vnodes)
    env = simpy.Environment()
    servers = [_SharedServer(env, int(sl), sp) for sl, sp in zip(lanes_arr, speed_arr)]
    lat = np.zeros(len(tokens))
    served = np.zeros(n, dtype=int)
    busy = np.zeros(n)

    def request(i):
        t0 = env.now
        s = lb.pick(key_hashes[i])
        lb.active[s] += 1
        served[s] += 1
        work = tokens[i] * token_ms
        yield servers[s].submit(work)
        busy[s] += work / speed_arr[s]
        lb.active[s] -= 1
        if cfg.overhead_ms:
            yield env.timeout(cfg.overhead_ms)
        lat[i] = env.now - t0

    if cfg.concurrency:
        order = iter(range(len(tokens)))

        def client():
            for i in order:
                yield env.process(request(i))

        for _ in range(cfg.concurrency):
            env.process(client())
    else:
        rate_per_ms = cfg.load * capacity_rps(tokens, lanes_arr, speed_arr, token_ms) / 1000
        gaps = rng.exponential(1 / rate_per_ms, len(tokens))

        def arrivals():
            for i, gap in enumerate(gaps):
                yield env.timeout(gap)
                env.process(request(i))

        env.process(arrivals())
    env.run()
    params = {"n_servers": n, "lanes": lanes_arr.tolist(), "speed": speed_arr.tolist(), "weights": w.tolist(),
              "token_ms": token_ms, "load": None if cfg.concurrency else cfg.load,
              "concurrency": cfg.concurrency,
              "seed": seed}
    return LBResult(policy, lat, served, busy, float(env.now), params)


def compare(cfg: LBConfig, policies=POLICIES) -> dict[str, LBResult]:
    """The same requests through each policy (same seed): ``{policy: simulate(replace(cfg, policy=p))}``."""
    return {p: simulate(replace(cfg, policy=p)) for p in policies}


def ranking(p99_by_policy: dict) -> list[str]:
    """Policies from best (lowest p99) to worst."""
    return sorted(p99_by_policy, key=p99_by_policy.get)
