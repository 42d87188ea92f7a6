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

The clients (a caching resolver, a fleet of clients sending real requests) are ``labsupport.drivers.dns``.
Chapter 3 ("DNS") explains each piece; the server process is ``labsupport.apps.dns_authority``.
"""

from __future__ import annotations

import errno
import json
import socket
import time
from dataclasses import dataclass, field

from dns import edns as _edns  # dnspython; aliased because this module's service function is `dns`
from dns import message as _message
from dns import query as _query
from dns import rcode as _rcode
from dns import rdatatype as _rdatatype

from ._control import ControlClient
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
        self.control = ControlClient(self.control_port, name=self.name)
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

    # -- control channel (services._control) --------------------------------------------------
    def _send(self, msg: dict) -> dict:
        return self.control.call(msg)

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

    def ttl_of(self, name: str) -> int:
        """The TTL (s) the server gives ``name`` now."""
        return int(self._names[self._label(name)]["ttl"])

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


def dns(records: dict | None = None, ttl_s: int | dict = 30, geo: dict | None = None,
        regions: dict | None = None, health_check_s: float | None = None, fall: int = 2, rise: int = 2,
        zone: str = ZONE, name: str | None = None, port: int | None = None) -> DNSServer:
    """Start an authoritative DNS server for ``zone`` (see module docstring)."""
    return DNSServer(records, ttl_s=ttl_s, geo=geo, regions=regions, health_check_s=health_check_s, fall=fall,
                     rise=rise, zone=zone, name=name, port=port).start()
