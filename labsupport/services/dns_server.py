"""A real authoritative DNS server for the lab zone ``lab.test.``, on a loopback UDP port.

    apps = services.app("labsupport.apps.model_server:app", hosts=["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    d = services.dns({"api": apps}, ttl_s=30)       # api.lab.test -> three A records, rotated per query
    d.show()                                         # the zone, as a zone file
    d.query("api")                                   # Answer(ips=[...], ttl_s=30); .text reads like dig
    d.query("api", source="127.81.0.7")              # ask from a "Tokyo" address (all of 127/8 is loopback)
    d.query("api", ecs="127.81.0.0/24")              # ... or pass the client's subnet (EDNS Client Subnet)
    d.set_records("api", apps[:2], ttl_s=5)          # the control channel: change records at runtime
    d = services.dns(geo={"api": {"tokyo": tokyo, "london": london}}, regions={"tokyo": "127.81.0.0/16"})
    d = services.dns({"api": apps}, health_check_s=0.25, fall=2)   # a dead backend's record is withdrawn
    d.stats(); d.events()                            # queries per name and answer; withdraw/restore times
    d.wait_for_health("127.0.0.2", healthy=False)    # block (with a deadline) until it is withdrawn
    link = services.fault_proxy(apps[1]); d.reach(apps[1].host, via=link)   # .3 is reached through a
    with link.partition(): ...                       # fault proxy: a blackhole there is a dead *host*
    r = d.resolver(cache=True); r.lookup("api")      # one client's caching resolver: it obeys the TTL
    fleet = d.fleet("api", clients=30)               # 30 such clients sending real HTTP requests
    run = fleet.run(requests=[...]) or fleet.run(duration_s=6, rate_per_s=5, events={3.0: apps[0].kill})
    run.by_backend(); run.failed(); run.last_failure_s(); run.over_time(bin_s=0.25); run.df()
    run.failed_ms(); run.recovered_s(); run.outage(fault_at_s=3.0)   # how long failures hung; the cost

Chapter 3 ("DNS") explains each piece; the server process is ``labsupport.apps.dns_authority``.
"""

from __future__ import annotations

import errno
import http.client
import ipaddress
import json
import socket
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dns import edns as _edns  # dnspython; aliased because this module's service function is `dns`
from dns import message as _message
from dns import query as _query
from dns import rcode as _rcode
from dns import rdatatype as _rdatatype

from ._process import HOST, ManagedProcess, ServiceError, free_port, python_exe

ZONE = "lab.test."


def free_udp_port() -> int:
    """A port on 127.0.0.1 that is free for both TCP and UDP (DNS uses UDP; ``free_port`` checks TCP)."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise ServiceError("dns: found no port on 127.0.0.1 free for UDP after 100 tries.")


def _targets(spec) -> tuple[list[str], dict[str, str], dict[str, int]]:
    """Addresses, health URLs and ports from an app, an AppGroup, a list of apps, or addresses."""
    items = [spec] if isinstance(spec, str) or hasattr(spec, "host") else list(spec)
    ips, health, ports = [], {}, {}
    for it in items:
        if isinstance(it, str):
            ips.append(it)
            continue
        ips.append(it.host)
        ports[it.host] = it.port
        health[it.host] = f"http://{it.host}:{it.port}{getattr(it, 'health_path', '/healthz')}"
    return ips, health, ports


@dataclass
class Answer:
    """One DNS response: the addresses in answer order, their TTL, and the message as text."""

    name: str
    ips: list[str]
    ttl_s: int | None
    rcode: str
    ecs_scope: int | None = None
    text: str = field(default="", repr=False)


class DNSServer(ManagedProcess):
    kind = "dns"
    start_timeout_s = 10.0

    def __init__(self, records: dict | None = None, ttl_s: int | dict = 30, geo: dict | None = None,
                 regions: dict | None = None, health_check_s: float | None = None, fall: int = 2,
                 rise: int = 2, zone: str = ZONE, name: str | None = None, port: int | None = None):
        super().__init__(name, port)
        self.zone = zone if zone.endswith(".") else zone + "."
        self.control_port = free_port()
        self.ports: dict[str, int] = {}  # address -> the service port of the app behind it
        self.routes: dict[str, tuple[str, int]] = {}  # address -> (host, port) clients connect to instead
        self._ttl = ttl_s
        self._names: dict[str, dict] = {}
        self._regions = dict(regions or {})
        self._targets: dict[str, str] = {}
        self._health = ({"interval_s": health_check_s, "fall": fall, "rise": rise,
                         "timeout_s": min(0.3, health_check_s)} if health_check_s else None)
        for label, spec in (records or {}).items():
            self._names[label] = {"ttl": self._ttl_for(label), "records": self._absorb(spec), "geo": None}
        for label, table in (geo or {}).items():
            self._names[label] = {"ttl": self._ttl_for(label), "records": [],
                                  "geo": {region: self._absorb(spec) for region, spec in table.items()}}

    def _ttl_for(self, label: str) -> int:
        return int(self._ttl.get(label, 30) if isinstance(self._ttl, dict) else self._ttl)

    def _absorb(self, spec) -> list[str]:
        ips, health, ports = _targets(spec)
        self._targets.update(health)
        self.ports.update(ports)
        return ips

    def _health_config(self) -> dict | None:
        return {**self._health, "targets": dict(self._targets)} if self._health else None

    # -- process ----------------------------------------------------------------------------
    def start(self) -> "DNSServer":
        if self.port is None and self._requested_port is None:
            self.port = free_udp_port()
        return super().start()

    def prepare(self) -> None:
        cfg = {"zone": self.zone, "port": self.port, "control_port": self.control_port,
               "names": self._names, "regions": self._regions, "health": self._health_config()}
        (self.workdir / "zone.json").write_text(json.dumps(cfg, indent=1))

    def command(self) -> list[str]:
        return [python_exe(), "-m", "labsupport.apps.dns_authority", str(self.workdir / "zone.json")]

    def probe(self) -> bool:
        q = _message.make_query(self.zone, "SOA")
        r = _query.udp(q, self.host, port=self.port, timeout=0.2)
        return r.rcode() == _rcode.NOERROR and bool(r.answer)

    @property
    def url(self) -> str:
        return f"dns://{self.host}:{self.port}"

    # -- asking -----------------------------------------------------------------------------
    def fqdn(self, name: str) -> str:
        if name.endswith("."):
            return name
        return name + "." if name.endswith(self.zone.rstrip(".")) else f"{name}.{self.zone}"

    def query(self, name: str, source: str | None = None, ecs: str | None = None, qtype: str = "A",
              timeout: float = 1.0) -> Answer:
        """Ask the server directly, from ``source`` (a 127.x address) and/or with a client subnet ``ecs``."""
        options = []
        if ecs:
            address, _, prefix = ecs.partition("/")
            options.append(_edns.ECSOption(address, int(prefix or 24)))
        q = _message.make_query(self.fqdn(name), qtype, use_edns=0 if options else None, options=options)
        try:
            r = _query.udp(q, self.host, port=self.port, timeout=timeout, source=source)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ServiceError(
                    f"dns: cannot send from {source}: this machine has no such loopback address.\n"
                    f"Fix (macOS): sudo ifconfig lo0 alias {source} up   (Linux has all of 127/8 already)"
                ) from None
            raise
        ips = [rd.address for rrset in r.answer for rd in rrset if rrset.rdtype == _rdatatype.A]
        ttl = next((rrset.ttl for rrset in r.answer), None)
        scope = next((o.scopelen for o in r.options if isinstance(o, _edns.ECSOption)), None)
        return Answer(self.fqdn(name), ips, ttl, _rcode.to_text(r.rcode()), scope, r.to_text())

    def resolver(self, source: str | None = None, ecs: str | None = None, cache: bool = True,
                 min_ttl_s: float = 0.0) -> "CachingResolver":
        return CachingResolver(self, source=source, ecs=ecs, cache=cache, min_ttl_s=min_ttl_s)

    def fleet(self, names: str | dict, clients: int = 10, cache: bool = True, **kw) -> "ClientFleet":
        """Clients, each with its own caching resolver. ``names`` is one name, or maps a group label to a
        number of clients (the label is the name they ask for) or to a dict with ``name``, ``clients``
        and ``source`` (a subnet such as "127.81.0.0/24": client k asks DNS from the k-th address in it).
        """
        groups = names if isinstance(names, dict) else {names: clients}
        return ClientFleet(self, groups, cache=cache, **kw)

    def reach(self, ip: str, via) -> None:
        """Clients and health checks reach ``ip`` through ``via`` (a fault proxy in front of that app),
        as packets to a host cross a network: ``with via.partition():`` then makes ``ip`` a dead host
        (connections hang until a timeout) rather than a dead process (connections refused at once)."""
        path = self._targets.get(ip, "http://x/healthz").split("://", 1)[-1].partition("/")[2]
        self.routes[ip] = (via.host, via.port)
        self._targets[ip] = f"http://{via.host}:{via.port}/{path}"
        if self._health:
            self._send({"op": "health", "health": self._health_config()})

    def endpoint(self, ip: str) -> tuple[str, int]:
        """Where a client that resolved ``ip`` actually connects: the app, or the proxy in front of it."""
        return self.routes.get(ip) or (ip, self.ports[ip])

    def wait_for_health(self, ip: str, healthy: bool = False, timeout_s: float = 10.0) -> float:
        """Block until the health checker marks ``ip`` (un)healthy; returns the seconds it took."""
        t0 = time.perf_counter()
        while self.health().get(ip, True) != healthy:
            if time.perf_counter() - t0 > timeout_s:
                raise ServiceError(f"dns: {ip} was not marked {'healthy' if healthy else 'unhealthy'} "
                                   f"within {timeout_s} s (are health checks on? health_check_s=...)")
            time.sleep(0.02)
        return time.perf_counter() - t0

    # -- control channel --------------------------------------------------------------------
    def _send(self, msg: dict) -> dict:
        with socket.create_connection((self.host, self.control_port), timeout=2) as s:
            s.sendall((json.dumps(msg) + "\n").encode())
            out = json.loads(s.makefile().readline())
        if "error" in out:
            raise ServiceError(f"dns control: {out['error']}")
        return out

    def set_records(self, name: str, records, ttl_s: int | None = None) -> None:
        """Replace ``name``'s A records (addresses or apps) and optionally its TTL, while running."""
        label = self._label(name)
        spec = self._names.setdefault(label, {"ttl": self._ttl_for(label), "records": [], "geo": None})
        spec["records"] = self._absorb(records)
        if ttl_s is not None:
            spec["ttl"] = int(ttl_s)
        if self._health:
            self._send({"op": "health", "health": self._health_config()})
        self._send({"op": "set", "name": label, **spec})

    def set_ttl(self, name: str, ttl_s: int) -> None:
        label = self._label(name)
        self._names[label]["ttl"] = int(ttl_s)
        self._send({"op": "set", "name": label, "ttl": int(ttl_s)})

    def _label(self, name: str) -> str:
        return self.fqdn(name)[: -len(self.zone) - 1].lower()

    def stats(self) -> dict:
        """Queries in total, per name and per region; how often each address came first; health."""
        return self._send({"op": "stats"})

    def reset_stats(self) -> None:
        self._send({"op": "reset_stats"})

    def events(self) -> list[dict]:
        """Health events: [{"t": wall-clock time, "event": "withdraw" | "restore", "ip": ...}, ...]."""
        return self.stats()["events"]

    def health(self) -> dict[str, bool]:
        return {ip: h["healthy"] for ip, h in self.stats()["health"].items()}

    def zone_text(self) -> str:
        state = self._send({"op": "state"})
        lines = [f"$ORIGIN {state['zone']}"]
        for label, spec in state["names"].items():
            if spec.get("geo"):
                for region, ips in spec["geo"].items():
                    lines += [f"{label:<8}{spec['ttl']:>6}  IN  A  {ip:<12}; answered to {region}"
                              for ip in ips]
            else:
                lines += [f"{label:<8}{spec['ttl']:>6}  IN  A  {ip}" for ip in spec["records"]]
        for region, nets in state["regions"].items():
            lines.append(f"; region {region}: clients in {', '.join(nets)}")
        return "\n".join(lines)

    def show(self) -> None:
        print(self.zone_text())


class CachingResolver:
    """One client's view of DNS: it asks the server only when its cached answer's TTL has run out.

    ``cache=False`` asks on every lookup. ``min_ttl_s`` imitates resolvers that keep answers longer
    than the TTL says. ``lookup`` returns the first address, as most clients use.
    """

    def __init__(self, server: DNSServer, source: str | None = None, ecs: str | None = None,
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
    """

    def __init__(self, server: DNSServer, groups: dict[str, int], cache: bool = True, path: str = "/generate",
                 body: dict | None = None, timeout_s: float = 1.0, min_ttl_s: float = 0.0):
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
            ttl = {c.group: self.server._names[self.server._label(c.qname)]["ttl"] for c in self.clients}
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


def dns(records: dict | None = None, ttl_s: int | dict = 30, geo: dict | None = None,
        regions: dict | None = None, health_check_s: float | None = None, fall: int = 2, rise: int = 2,
        zone: str = ZONE, name: str | None = None, port: int | None = None) -> DNSServer:
    """Start an authoritative DNS server for ``zone`` (see module docstring)."""
    return DNSServer(records, ttl_s=ttl_s, geo=geo, regions=regions, health_check_s=health_check_s, fall=fall,
                     rise=rise, zone=zone, name=name, port=port).start()
