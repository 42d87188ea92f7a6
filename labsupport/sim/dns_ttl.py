"""DNS caching around a failed (or a new) backend, simulated: many clients, TTLs from seconds to hours.

    cfg = TTLConfig(ttl_s=300, event="fail", seed=42)  # backend 0 dies at t = 0 s
    r = simulate(cfg)
    r.time_to_recover_s, r.failed_requests, r.clients_affected, r.withdrawn_at_s
    r.times_s, r.failed_per_bin, r.stuck_fraction      # for plots
    r = simulate(TTLConfig(ttl_s=300, event="add"))     # a 4th backend joins the record set at t = 0 s
    r.time_to_rebalance_s, r.new_share                  # how long until it gets its share of requests
    sweep(cfg, [1, 60, 300, 3600])                      # {ttl_s: TTLResult}, replace(cfg, ttl_s=...)

The model (chapter 3, "Failover and the TTL problem"): each client sends requests as a Poisson
process and asks its resolver for the name; a resolver answers from its cache until the TTL runs out,
then asks the authoritative server, which rotates its healthy records one step per question. The
client sends to the first address. A health checker polls every ``check_interval_s`` and withdraws a
backend after ``check_fall`` failures in a row. At t = 0 every cache is in steady state: it was filled
at a uniformly random moment within the last TTL.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

import numpy as np
import simpy


@dataclass(frozen=True)
class TTLConfig:
    """One TTL around one event at t = 0 s: "fail" (backend 0 dies) or "add" (backend N joins)."""
    ttl_s: float = 300.0
    event: str = "fail"
    n_clients: int = 200
    clients_per_resolver: int = 1
    rate_per_client_per_s: float = 0.1
    n_backends: int = 3
    check_interval_s: float = 10.0     # health checker poll
    check_fall: int = 3                # failed checks in a row before the record is withdrawn
    min_ttl_s: float = 0.0             # resolvers that floor the TTL (0: honest resolvers)
    horizon_s: float | None = None     # None: long enough for the slowest cache to expire
    n_bins: int = 80
    seed: int = 42


@dataclass
class TTLResult:
    ttl_s: float
    event: str
    times_s: np.ndarray = field(repr=False)          # start of each time bin, seconds after the event
    requests_per_bin: np.ndarray = field(repr=False)
    failed_per_bin: np.ndarray = field(repr=False)
    new_share: np.ndarray = field(repr=False)         # "add": share of requests sent to the new backend
    stuck_fraction: np.ndarray = field(repr=False)    # "fail": caches holding the dead backend first
    requests: int = 0
    failed_requests: int = 0
    clients_affected: float = 0.0                     # fraction of clients with at least one failed request
    withdrawn_at_s: float | None = None               # when the health check removed the dead record
    time_to_recover_s: float = 0.0                    # time of the last failed request
    time_to_rebalance_s: float | None = None          # "add": when 90% of resolvers have the new record set
    dns_queries: int = 0                              # questions that reached the authoritative server


def simulate(cfg: TTLConfig) -> TTLResult:
    """Simulate one TTL around one event ("fail": backend 0 dies; "add": backend N joins) at t = 0 s."""
    ttl_s, event, n_clients = cfg.ttl_s, cfg.event, cfg.n_clients
    clients_per_resolver = cfg.clients_per_resolver
    rate_per_client_per_s, n_backends, n_bins = cfg.rate_per_client_per_s, cfg.n_backends, cfg.n_bins
    check_interval_s, check_fall, horizon_s = cfg.check_interval_s, cfg.check_fall, cfg.horizon_s
    if event not in ("fail", "add"):
        raise ValueError("event must be 'fail' or 'add'")
    rng = random.Random(cfg.seed)
    ttl_eff = max(ttl_s, cfg.min_ttl_s)
    n_res = math.ceil(n_clients / clients_per_resolver)
    if horizon_s is None:
        horizon_s = check_fall * check_interval_s + 1.1 * ttl_eff + 3 / rate_per_client_per_s
    bin_s = horizon_s / n_bins
    dead, new = 0, n_backends
    before = list(range(n_backends))
    phase = rng.uniform(0, check_interval_s)
    withdrawn_at = phase + (check_fall - 1) * check_interval_s if event == "fail" else None
    state = {"rotation": rng.randrange(1000), "queries": 0}

    def record_set(t: float) -> list[int]:
        if event == "fail":
            return [b for b in before if not (b == dead and t >= withdrawn_at)]
        return before + [new] if t >= 0 else before

    def ask(t: float) -> list[int]:
        ips = record_set(t)
        k = state["rotation"] % len(ips)
        state["rotation"] += 1
        state["queries"] += 1
        return ips[k:] + ips[:k]

    # steady state at t = 0: each resolver filled its cache at a random moment in the last TTL
    cache_ips, cache_until = [], []
    for _ in range(n_res):
        k = rng.randrange(n_backends)
        cache_ips.append(before[k:] + before[:k])
        cache_until.append(rng.uniform(0, ttl_eff))

    requests = np.zeros(n_bins)
    failed = np.zeros(n_bins)
    to_new = np.zeros(n_bins)
    stuck = np.zeros(n_bins)
    fetched_since = np.zeros(n_bins)
    fetched_at = [-1.0] * n_res
    affected = set()
    last_fail = 0.0
    env = simpy.Environment()

    def client(c: int):
        r = c // clients_per_resolver
        nonlocal last_fail
        while True:
            yield env.timeout(rng.expovariate(rate_per_client_per_s))
            t = env.now
            if t >= horizon_s:
                return
            if t >= cache_until[r]:
                cache_ips[r] = ask(t)
                cache_until[r] = t + ttl_eff
                fetched_at[r] = t
            target = cache_ips[r][0]
            k = min(int(t / bin_s), n_bins - 1)
            requests[k] += 1
            if event == "fail" and target == dead:
                failed[k] += 1
                affected.add(c)
                last_fail = t
            if target == new:
                to_new[k] += 1

    def sampler():
        for k in range(n_bins):
            t = env.now
            stuck[k] = sum(1 for r in range(n_res) if cache_ips[r][0] == dead and t < cache_until[r]) / n_res
            fresh = sum(1 for r in range(n_res) if fetched_at[r] >= 0 or t >= cache_until[r])
            fetched_since[k] = fresh / n_res
            yield env.timeout(bin_s)

    for c in range(n_clients):
        env.process(client(c))
    env.process(sampler())
    env.run(until=horizon_s)

    share = np.divide(to_new, requests, out=np.zeros(n_bins), where=requests > 0)
    rebalance = None
    if event == "add":  # 90% of resolvers hold (or are about to fetch) the new record set
        hit = np.nonzero(fetched_since >= 0.9)[0]
        rebalance = float(hit[0] * bin_s) if hit.size else None
    return TTLResult(
        ttl_s=ttl_s, event=event, times_s=np.arange(n_bins) * bin_s, requests_per_bin=requests,
        failed_per_bin=failed, new_share=share, stuck_fraction=stuck, requests=int(requests.sum()),
        failed_requests=int(failed.sum()), clients_affected=len(affected) / n_clients,
        withdrawn_at_s=withdrawn_at, time_to_recover_s=last_fail if event == "fail" else 0.0,
        time_to_rebalance_s=rebalance, dns_queries=state["queries"],
    )


def sweep(cfg: TTLConfig, ttls) -> dict:
    """``simulate`` once per TTL with the same other parameters and seed: {ttl_s: TTLResult}."""
    return {ttl: simulate(replace(cfg, ttl_s=ttl)) for ttl in ttls}
