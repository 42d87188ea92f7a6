"""DNS clients of a ``services.dns`` server: one caching resolver, or a fleet sending real HTTP requests.

    r = CachingResolver(d, cache=True); r.lookup("api")   # one client's resolver: it obeys the TTL
    r = CachingResolver(d, source="127.81.0.7", min_ttl_s=60)   # asking from "Tokyo", keeping answers longer
    fleet = ClientFleet(d, "api", clients=30)             # 30 clients, each with its own resolver
    fleet = ClientFleet(d, {"tokyo": dict(name="api", clients=10, source="127.81.0.0/24")})
    fleet.resolve_all(); fleet.dns_queries                # first address per client; questions sent
    run = fleet.run(requests=[...]) or fleet.run(duration_s=6, rate_per_s=5, events={3.0: apps[0].kill})
    run.by_backend(); run.failed(); run.last_failure_s(); run.over_time(bin_s=0.25); run.df()
    run.failed_ms(); run.recovered_s(); run.outage(fault_at_s=3.0)   # how long failures hung; the cost

A client connects to ``d.endpoint(ip)``: the app behind the address, or the fault proxy ``d.reach``
put in front of it. Chapter 3 ("DNS") explains what the runs show.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


class CachingResolver:
    """One client's view of DNS: it asks the server only when its cached answer's TTL has run out.

    ``cache=False`` asks on every lookup. ``min_ttl_s`` imitates resolvers that keep answers longer
    than the TTL says. ``lookup`` returns the first address, as most clients use.
    """

    def __init__(self, server, source: str | None = None, ecs: str | None = None,
                 cache: bool = True, min_ttl_s: float = 0.0):
        self.server, self.source, self.ecs = server, source, ecs
        self.caching, self.min_ttl_s = cache, min_ttl_s
        self.cache: dict[str, tuple[list[str], float]] = {}
        self.queries = 0  # questions actually sent to the server
        self.lookups = 0  # questions the client asked

    def addresses(self, name: str) -> list[str]:
        self.lookups += 1
        key = self.server.fqdn(name)
        hit = self.cache.get(key)
        now = time.monotonic()
        if self.caching and hit and now < hit[1]:
            return hit[0]
        ans = self.server.query(name, source=self.source, ecs=self.ecs)
        self.queries += 1
        if not ans.ips:
            raise LookupError(f"{key}: {ans.rcode}, no addresses")
        if self.caching:
            self.cache[key] = (ans.ips, now + max(ans.ttl_s or 0, self.min_ttl_s))
        return ans.ips

    def lookup(self, name: str) -> str:
        return self.addresses(name)[0]


class _Client:
    def __init__(self, cid: int, group: str, qname: str, resolver: CachingResolver):
        self.id, self.group, self.qname, self.resolver = cid, group, qname, resolver
        self.conn: http.client.HTTPConnection | None = None
        self.conn_ip: str | None = None


@dataclass
class FleetRun:
    """What a fleet did: one row per request (t_s since start, client, group, address, ok, ms)."""

    rows: list[tuple] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (t_s, what) for each scheduled event
    t0_wall: float = 0.0
    duration_s: float = 0.0

    def df(self):
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(self.rows, columns=["t_s", "client", "group", "ip", "ok", "ms"])

    def since_start(self, wall_t: float) -> float:
        """A wall-clock time (e.g. from ``DNSServer.events()``) as seconds since the run started."""
        return wall_t - self.t0_wall

    def by_backend(self, group: str | None = None, ok_only: bool = True) -> dict[str, int]:
        c = Counter(r[3] for r in self.rows if (group is None or r[2] == group) and (r[4] or not ok_only))
        return dict(sorted(c.items()))

    def share(self, ip: str, t_from_s: float = 0.0, t_to_s: float = float("inf")) -> float:
        """Fraction of the requests sent between ``t_from_s`` and ``t_to_s`` that went to ``ip``."""
        sent = [r[3] for r in self.rows if t_from_s <= r[0] < t_to_s]
        return sum(1 for a in sent if a == ip) / len(sent) if sent else 0.0

    def failed(self, group: str | None = None) -> int:
        return sum(1 for r in self.rows if not r[4] and (group is None or r[2] == group))

    def last_failure_s(self, group: str | None = None) -> float | None:
        ts = [r[0] for r in self.rows if not r[4] and (group is None or r[2] == group)]
        return max(ts) if ts else None

    def failed_ms(self, group: str | None = None) -> list[float]:
        """How long each failed request took before it failed (a refusal is quick; a timeout is not)."""
        return [r[5] for r in self.rows if not r[4] and (group is None or r[2] == group)]

    def recovered_s(self, group: str | None = None) -> float | None:
        """When the last failed request *ended* (seconds since start): its start plus the time it hung."""
        ts = [r[0] + r[5] / 1000 for r in self.rows if not r[4] and (group is None or r[2] == group)]
        return max(ts) if ts else None

    def outage(self, fault_at_s: float, group: str | None = None) -> dict:
        """What a fault at ``fault_at_s`` cost the clients: failed requests, how long the median one hung,
        the client-seconds spent waiting on failures, and when the last failure ended (s after the fault)."""
        ms = self.failed_ms(group)
        end = self.recovered_s(group)
        return {"failed": len(ms), "median_failed_ms": float(statistics.median(ms)) if ms else 0.0,
                "waited_s": sum(ms) / 1000, "recovered_after_s": (end - fault_at_s) if end else 0.0}

    def over_time(self, bin_s: float = 0.25, what: str = "failed", ip: str | None = None):
        """(bin start times, {group: per-bin values}); ``what``: "failed", "requests" or "share" of ``ip``."""
        import numpy as np  # noqa: PLC0415

        n_bins = max(1, int(np.ceil(self.duration_s / bin_s)))
        edges = np.arange(n_bins) * bin_s
        out = {}
        for name in sorted({r[2] for r in self.rows}):  # one series per group
            total = np.zeros(n_bins)
            hits = np.zeros(n_bins)
            for t, _c, g, addr, ok, _ms in self.rows:
                if g != name:
                    continue
                k = min(int(t // bin_s), n_bins - 1)
                total[k] += 1
                hits[k] += (not ok) if what == "failed" else (addr == ip)
            if what == "failed":
                out[name] = hits
            elif what == "requests":
                out[name] = total
            else:
                out[name] = np.divide(hits, total, out=np.zeros(n_bins), where=total > 0)
        return edges, out


class ClientFleet:
    """Clients that resolve a name through their own caching resolver, then send real HTTP requests
    to the address they got (``POST path`` on the app's port). A client keeps using its address
    until its cached answer expires, as real clients do.

    ``names`` is one name (asked by ``clients`` clients), or maps a group label to a number of
    clients (the label is the name they ask for) or to a dict with ``name``, ``clients`` and
    ``source`` (a subnet such as "127.81.0.0/24": client k asks DNS from the k-th address in it).
    """

    def __init__(self, server, names: str | dict, clients: int = 10, cache: bool = True, path: str = "/generate",
                 body: dict | None = None, timeout_s: float = 1.0, min_ttl_s: float = 0.0):
        groups = names if isinstance(names, dict) else {names: clients}
        self.server, self.path, self.timeout_s = server, path, timeout_s
        self.body = json.dumps(body if body is not None else {"tokens": 1}).encode()
        self.clients: list[_Client] = []
        for label, spec in groups.items():
            spec = spec if isinstance(spec, dict) else {"clients": spec}
            hosts = ipaddress.ip_network(spec["source"], strict=False).hosts() if spec.get("source") else None
            for _ in range(spec["clients"]):
                res = CachingResolver(server, source=str(next(hosts)) if hosts else None, cache=cache,
                                      min_ttl_s=min_ttl_s)
                self.clients.append(_Client(len(self.clients), label, spec.get("name", label), res))

    def __len__(self) -> int:
        return len(self.clients)

    @property
    def dns_queries(self) -> dict[str, int]:
        """Questions each name's clients actually sent to the DNS server (cache misses)."""
        c = Counter()
        for cl in self.clients:
            c[cl.group] += cl.resolver.queries
        return dict(c)

    def resolve_all(self) -> dict[str, int]:
        """Every client looks its name up once, one after another; returns clients per first address."""
        return dict(Counter(cl.resolver.lookup(cl.qname) for cl in self.clients))

    def _request(self, cl: _Client, t0: float, run: FleetRun) -> None:
        t = time.perf_counter() - t0
        try:
            ip = cl.resolver.lookup(cl.qname)
        except Exception:  # noqa: BLE001 - a failed lookup is a failed request
            run.rows.append((t, cl.id, cl.group, "", False, 0.0))
            return
        ok = False
        try:
            if cl.conn is None or cl.conn_ip != ip:
                if cl.conn is not None:
                    cl.conn.close()
                cl.conn = http.client.HTTPConnection(*self.server.endpoint(ip), timeout=self.timeout_s)
                cl.conn_ip = ip
            cl.conn.request("POST", self.path, body=self.body, headers={"Content-Type": "application/json"})
            resp = cl.conn.getresponse()
            resp.read()
            ok = resp.status < 500
        except (OSError, http.client.HTTPException):
            if cl.conn is not None:
                cl.conn.close()
            cl.conn = None
        run.rows.append((t, cl.id, cl.group, ip, ok, (time.perf_counter() - t0 - t) * 1000))

    def run(self, requests: list[int] | int | None = None, duration_s: float | None = None,
            rate_per_s: float = 5.0, events: dict | None = None, stagger: bool = True,
            concurrency: int = 8) -> FleetRun:
        """Either ``requests`` (per client, sent back to back) or ``duration_s`` at ``rate_per_s`` per client.

        Timed runs: with ``stagger``, the clients of each name start spread over that name's TTL, so
        their cached answers expire at different moments (as on the internet). ``events`` maps
        seconds-since-start to a callable (e.g. ``apps[0].kill``), run on time during the run.
        """
        run = FleetRun(t0_wall=time.time())
        t0 = time.perf_counter()
        if requests is not None:
            counts = [requests] * len(self.clients) if isinstance(requests, int) else list(requests)

            def one(i):
                for _ in range(counts[i]):
                    self._request(self.clients[i], t0, run)

            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                list(pool.map(one, range(min(len(counts), len(self.clients)))))
        else:
            stop = threading.Event()
            ttl = {c.group: self.server.ttl_of(c.qname) for c in self.clients}
            size = Counter(c.group for c in self.clients)
            rank = Counter()
            threads = []
            for cl in self.clients:
                offset = ttl[cl.group] * rank[cl.group] / size[cl.group] if stagger else 0.0
                rank[cl.group] += 1
                args = (cl, t0, offset, duration_s, rate_per_s, stop, run)
                threads.append(threading.Thread(target=self._loop, args=args, daemon=True))
            for when, fn in sorted((events or {}).items()):
                args = (t0, when, fn, stop, run)
                threads.append(threading.Thread(target=self._event, args=args, daemon=True))
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        run.duration_s = duration_s if duration_s is not None else time.perf_counter() - t0
        run.rows.sort()
        for cl in self.clients:
            if cl.conn is not None:
                cl.conn.close()
                cl.conn = None
        return run

    def _loop(self, cl, t0, offset, duration_s, rate, stop, run) -> None:
        due = offset
        while due < duration_s and not stop.is_set():
            wait = due - (time.perf_counter() - t0)
            if wait > 0:
                stop.wait(wait)
            self._request(cl, t0, run)
            due = max(due + 1.0 / rate, time.perf_counter() - t0)

    @staticmethod
    def _event(t0, when, fn, stop, run) -> None:
        wait = when - (time.perf_counter() - t0)
        if wait > 0:
            stop.wait(wait)
        run.events.append((time.perf_counter() - t0, getattr(fn, "__qualname__", repr(fn))))
        fn()
