"""The DNS labs' authoritative server process: a real DNS server (UDP, built on dnslib) for one zone.

Run by ``labsupport.services.dns_server``; not meant to be started by hand.
    python -m labsupport.apps.dns_authority CONFIG.json

What it answers (zone ``lab.test.`` by default):
- ``NAME.lab.test. A``: every healthy address of NAME, rotated one step per query (round robin),
  with NAME's TTL. Names with a ``geo`` table answer by the client's region: the EDNS Client Subnet
  option when the query carries one, else the query's source address. A region with no healthy
  address falls back to ``default`` (or to every healthy address); if nothing is healthy the server
  answers with everything (fail open) rather than with nothing.
- the apex: SOA and NS; unknown names: NXDOMAIN; names outside the zone: REFUSED.

Health checks (optional): every ``interval_s`` an HTTP GET of each address's health URL; ``fall``
failures in a row withdraw the address, ``rise`` successes restore it.
Control (``services._control``, JSON lines on a TCP port): {"op": "set", "name": "api",
"records": ["127.0.0.2"], "ttl": 5}; {"op": "stats"} answers with counters and health events;
also "state", "delete", "regions", "health", "reset_stats".
"""

from __future__ import annotations

import ipaddress
import json
import sys
import threading
import time
from collections import Counter, defaultdict

from dnslib import EDNS0, NS, QTYPE, RCODE, RR, SOA, A, DNSLabel, EDNSOption
from dnslib.server import DNSLogger, DNSServer

from labsupport.services._control import serve_in_thread
from labsupport.services._probes import http_ok

HOST = "127.0.0.1"
ECS_CODE = 8  # EDNS Client Subnet, RFC 7871


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class Zone:
    """The zone's state: names, regions, health; every method holds the lock."""

    def __init__(self, cfg: dict):
        self.lock = threading.Lock()
        self.origin = DNSLabel(cfg.get("zone", "lab.test."))
        self.names: dict[str, dict] = {}
        for label, spec in cfg.get("names", {}).items():
            self._set(label, spec)
        self.regions: dict[str, list] = {}
        self._set_regions(cfg.get("regions") or {})
        self.health_cfg: dict | None = None
        self.health: dict[str, dict] = {}
        self.events: list[dict] = []
        self.rotation: Counter = Counter()
        self.reset_stats()
        self.set_health(cfg.get("health"))

    # -- configuration ----------------------------------------------------------------------
    def _set(self, label: str, spec: dict) -> None:
        label = label.lower().rstrip(".")
        cur = self.names.get(label, {"ttl": 30, "records": [], "geo": None})
        for key in ("ttl", "records", "geo"):
            if key in spec:
                cur[key] = spec[key]
        cur["ttl"] = int(cur["ttl"])
        if cur["geo"] and not cur["records"]:  # a geo name's records are every address in its table
            cur["records"] = sorted({ip for ips in cur["geo"].values() for ip in ips})
        self.names[label] = cur

    def _set_regions(self, regions: dict) -> None:
        self.regions = {}
        for region, nets in regions.items():
            nets = [nets] if isinstance(nets, str) else nets
            self.regions[region] = [ipaddress.ip_network(n, strict=False) for n in nets]

    def set_health(self, cfg: dict | None) -> None:
        self.health_cfg = cfg
        targets = (cfg or {}).get("targets", {})
        for ip in targets:
            self.health.setdefault(ip, {"healthy": True, "fails": 0, "oks": 0, "checks": 0})

    def healthy(self, ip: str) -> bool:
        h = self.health.get(ip)
        return h is None or h["healthy"]

    # -- answering --------------------------------------------------------------------------
    def region_of(self, address: str) -> str | None:
        ip = ipaddress.ip_address(address)
        for region, nets in self.regions.items():
            if any(ip in net for net in nets):
                return region
        return None

    def answer(self, label: str, region: str | None) -> tuple[list[str], int] | None:
        """The addresses for ``label`` as seen from ``region`` (rotated), and the TTL; None if unknown."""
        with self.lock:
            spec = self.names.get(label)
            if spec is None:
                return None
            everything = list(spec["records"])
            candidates = everything
            geo = spec.get("geo")
            if geo:
                mine = [ip for ip in geo.get(region or "", []) if self.healthy(ip)]
                fallback = [ip for ip in geo.get("default", everything) if self.healthy(ip)]
                candidates = mine or fallback or [ip for ip in everything if self.healthy(ip)]
            else:
                candidates = [ip for ip in everything if self.healthy(ip)]
            if not candidates:
                candidates = everything  # fail open: a stale answer beats no answer
            if candidates:
                k = self.rotation[label] % len(candidates)
                self.rotation[label] += 1
                candidates = candidates[k:] + candidates[:k]
            self.stats["queries"] += 1
            self.stats["by_name"][label] += 1
            self.stats["by_region"][region or "none"] += 1
            if candidates:
                self.stats["first_answer"][label][candidates[0]] += 1
            return candidates, spec["ttl"]

    def reset_stats(self) -> None:
        self.stats = {"queries": 0, "by_name": Counter(), "by_region": Counter(),
                      "first_answer": defaultdict(Counter)}

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "queries": self.stats["queries"],
                "by_name": dict(self.stats["by_name"]),
                "by_region": dict(self.stats["by_region"]),
                "first_answer": {k: dict(v) for k, v in self.stats["first_answer"].items()},
                "health": {ip: dict(h) for ip, h in self.health.items()},
                "events": list(self.events),
            }

    def state(self) -> dict:
        with self.lock:
            return {"zone": str(self.origin), "names": json.loads(json.dumps(self.names)),
                    "regions": {r: [str(n) for n in nets] for r, nets in self.regions.items()},
                    "health": self.health_cfg}

    def control(self, msg: dict) -> dict:
        op = msg.get("op")
        if op == "stats":
            return self.snapshot()
        if op == "state":
            return self.state()
        with self.lock:
            if op == "set":
                self._set(msg["name"], msg)
                log(f"set {msg['name']}: {self.names[msg['name'].lower().rstrip('.')]}")
            elif op == "delete":
                self.names.pop(msg["name"].lower().rstrip("."), None)
                log(f"deleted {msg['name']}")
            elif op == "regions":
                self._set_regions(msg["regions"])
            elif op == "health":
                self.set_health(msg.get("health"))
                log(f"health checks: {msg.get('health')}")
            elif op == "reset_stats":
                self.reset_stats()
                self.events.clear()
            else:
                raise ValueError(f"unknown op {op!r}")
        return {"ok": True}


class Authority:
    """dnslib resolver interface: builds the reply for one query."""

    def __init__(self, zone: Zone):
        self.zone = zone

    def resolve(self, request, handler):
        reply = request.reply(ra=0, aa=1)
        q = request.q
        origin = self.zone.origin
        opt = next((rr for rr in request.ar if rr.rtype == QTYPE.OPT), None)
        ecs = _parse_ecs(opt)
        if not q.qname.matchSuffix(origin):
            reply.header.rcode = RCODE.REFUSED
            return reply
        label = str(q.qname.stripSuffix(origin)).rstrip(".").lower()
        region = self.zone.region_of(ecs[0] if ecs else handler.client_address[0])
        soa = RR(origin, QTYPE.SOA, ttl=5, rdata=SOA(f"ns.{origin}", f"hostmaster.{origin}",
                                                         (1, 60, 60, 3600, 5)))
        if label == "":
            if q.qtype in (QTYPE.SOA, QTYPE.ANY):
                reply.add_answer(soa)
            if q.qtype in (QTYPE.NS, QTYPE.ANY):
                reply.add_answer(RR(origin, QTYPE.NS, ttl=3600, rdata=NS(f"ns.{origin}")))
            if q.qtype not in (QTYPE.SOA, QTYPE.NS, QTYPE.ANY):
                reply.add_auth(soa)
        elif label == "ns":
            if q.qtype in (QTYPE.A, QTYPE.ANY):
                reply.add_answer(RR(q.qname, QTYPE.A, ttl=3600, rdata=A(HOST)))
        else:
            found = self.zone.answer(label, region)
            if found is None:
                reply.header.rcode = RCODE.NXDOMAIN
                reply.add_auth(soa)
            elif q.qtype in (QTYPE.A, QTYPE.ANY):
                ips, ttl = found
                for ip in ips:
                    reply.add_answer(RR(q.qname, QTYPE.A, ttl=ttl, rdata=A(ip)))
            else:  # the name exists, but has no records of this type (NODATA)
                reply.add_auth(soa)
        if opt is not None:
            opts = []
            if ecs:  # echo the client subnet; scope = how much of it the answer depended on
                scope = ecs[1] if self.zone.regions else 0
                opts.append(EDNSOption(ECS_CODE, _pack_ecs(ecs[0], ecs[1], scope)))
            reply.add_ar(EDNS0(udp_len=1232, opts=opts))
        return reply


def _parse_ecs(opt) -> tuple[str, int] | None:
    """(address, source prefix length) from an EDNS Client Subnet option, or None."""
    if opt is None:
        return None
    for o in opt.rdata or []:
        if getattr(o, "code", None) == ECS_CODE and len(o.data) >= 4:
            family, prefix = int.from_bytes(o.data[:2], "big"), o.data[2]
            raw = bytes(o.data[4:])
            if family == 1:
                return str(ipaddress.IPv4Address(raw.ljust(4, b"\0")[:4])), prefix
            if family == 2:
                return str(ipaddress.IPv6Address(raw.ljust(16, b"\0")[:16])), prefix
    return None


def _pack_ecs(address: str, prefix: int, scope: int) -> bytes:
    ip = ipaddress.ip_address(address)
    family = 1 if ip.version == 4 else 2
    raw = ip.packed[: (prefix + 7) // 8]
    return family.to_bytes(2, "big") + bytes([prefix, scope]) + raw


def health_loop(zone: Zone, stop: threading.Event) -> None:
    """Check each target every interval; withdraw after ``fall`` failures, restore after ``rise`` passes."""
    while not stop.is_set():
        cfg = zone.health_cfg
        if not cfg:
            stop.wait(0.1)
            continue
        t0 = time.monotonic()
        for ip, url in dict(cfg.get("targets", {})).items():
            ok = http_ok(url, cfg.get("timeout_s", 0.3))
            with zone.lock:
                h = zone.health.setdefault(ip, {"healthy": True, "fails": 0, "oks": 0, "checks": 0})
                h["checks"] += 1
                h["fails"], h["oks"] = (0, h["oks"] + 1) if ok else (h["fails"] + 1, 0)
                if h["healthy"] and h["fails"] >= cfg.get("fall", 2):
                    h["healthy"] = False
                    zone.events.append({"t": time.time(), "event": "withdraw", "ip": ip})
                    log(f"health: {ip} failed {h['fails']} checks in a row; record withdrawn")
                elif not h["healthy"] and h["oks"] >= cfg.get("rise", 2):
                    h["healthy"] = True
                    zone.events.append({"t": time.time(), "event": "restore", "ip": ip})
                    log(f"health: {ip} passed {h['oks']} checks in a row; record restored")
        stop.wait(max(0.0, cfg.get("interval_s", 1.0) - (time.monotonic() - t0)))


def main(config_path: str) -> None:
    with open(config_path) as f:
        cfg = json.load(f)
    zone = Zone(cfg)
    udp = DNSServer(Authority(zone), address=HOST, port=int(cfg["port"]),
                    logger=DNSLogger("-request,-reply,-truncated,+error", prefix=False))
    serve_in_thread(zone.control, int(cfg["control_port"]))
    stop = threading.Event()
    threading.Thread(target=health_loop, args=(zone, stop), daemon=True).start()
    log(f"authoritative for {zone.origin} on udp {HOST}:{cfg['port']}, "
        f"control on tcp {HOST}:{cfg['control_port']}")
    udp.start()


if __name__ == "__main__":
    main(sys.argv[1])
