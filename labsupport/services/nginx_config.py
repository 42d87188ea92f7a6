"""nginx's configuration as Python values: pools, routes, limits, a gateway. Pure: no process, no files.

    cfg = NginxConfig(upstreams=[Upstream("backend", apps, policy="least_conn")], routes=[Route()])
    cfg = NginxConfig(upstreams=[Upstream("v1", [a]), Upstream("v2", [b])],
                      routes=[Route("/v1/", "v1", auth=True, strip_prefix=True), Route("/v2/", "v2", auth=True)],
                      api_keys={"key-alice": "free"}, tier_limits={"free": ("2r/s", 2)}, usage_log=True)
    Upstream(...).render(); Route(...).render(limits); cfg.render_gateway()   # the nginx.conf blocks
    apply_changes(cfg, policy="hash", hash_key="$cookie_sid", rate_limit="10r/s", burst=10)   # a changed copy
    server_id_cookie(apps)          # cookie affinity that names the server (ALB / HAProxy style)
    config_excerpt(conf_text, ["gzip", "limit_req"])   # the lines about one job, in their blocks

Policies: round_robin, least_conn, random, p2c ("random two least_conn"), hash (consistent, on
``hash_key``), ip_hash. The process that runs a config is ``services.nginx``; its logs, ``nginx_logs``.
"""


from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

POLICIES = {
    "round_robin": "",
    "least_conn": "least_conn;",
    "random": "random;",
    "p2c": "random two least_conn;",
    "hash": "hash {key} consistent;",
    "ip_hash": "ip_hash;",
}


def _addr(server) -> str:
    return server if isinstance(server, str) else server.address


@dataclass
class Upstream:
    """A pool of backends and the policy that spreads requests over it."""

    name: str
    servers: list
    policy: str = "round_robin"
    hash_key: str = "$request_uri"
    weights: list[int] | None = None
    max_fails: int = 1
    fail_timeout: str = "10s"
    keepalive: int = 32

    def render(self) -> str:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}; choose one of {sorted(POLICIES)}")
        if self.weights is not None and len(self.weights) != len(self.servers):
            raise ValueError(f"{len(self.weights)} weights for {len(self.servers)} servers")
        lines = [f"upstream {self.name} {{"]
        directive = POLICIES[self.policy].format(key=self.hash_key)
        if directive:
            lines.append(f"    {directive}")
        for i, server in enumerate(self.servers):
            weight = f" weight={self.weights[i]}" if self.weights else ""
            lines.append(f"    server {_addr(server)}{weight} max_fails={self.max_fails} "
                         f"fail_timeout={self.fail_timeout};")
        if self.keepalive:
            lines.append(f"    keepalive {self.keepalive};")
        lines.append("}")
        return "\n".join(lines)


@dataclass
class RateLimit:
    """nginx ``limit_req``: a leaky bucket draining at ``rate`` (like "10r/s") per ``key``, with ``burst`` as its
    queue; with ``nodelay`` it admits what a token bucket of burst + 1 tokens refilled at ``rate`` would."""

    name: str
    rate: str
    key: str = "$binary_remote_addr"
    burst: int = 0

    def zone(self) -> str:
        return f"limit_req_zone {self.key} zone={self.name}:10m rate={self.rate};"

    def use(self) -> str:
        burst = f" burst={self.burst} nodelay" if self.burst else ""
        return f"limit_req zone={self.name}{burst};"


@dataclass
class Route:
    """A ``location`` block: which path goes to which upstream, and what happens on the way."""

    path: str = "/"
    upstream: str = "backend"
    retries: bool = True
    tries: int = 3
    cache: bool = False
    cache_valid: str = "1m"
    rate_limits: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # raw nginx directives, for the curious
    auth: bool = False  # needs a known API key (NginxConfig.api_keys): 401 otherwise, then the tier's limit
    strip_prefix: bool = False  # "/v1/predict" reaches the backend as "/predict" (path should end in "/")

    def render(self, limits: dict[str, RateLimit] | None = None, tier_zones: list[RateLimit] | None = None) -> str:
        # add_header is not inherited into a block that has its own, so every location sets X-Upstream.
        target = f"http://{self.upstream}" + ("/" if self.strip_prefix else "")
        lines = [f"location {self.path} {{"]
        if self.auth:
            if tier_zones is None:
                raise ValueError(f"route {self.path} has auth=True but the config defines no api_keys")
            # `return` runs in the rewrite phase, before limit_req: unknown keys never use up a tier's budget.
            lines += ['    if ($api_tier = "") { return 401 "missing or unknown API key\\n"; }',
                      "    add_header X-Api-Tier $api_tier always;"]
            lines += [f"    {z.use()}" for z in tier_zones]
        lines += [f"    proxy_pass {target};", "    add_header X-Upstream $upstream_addr always;"]
        if self.retries:
            lines += ["    proxy_next_upstream error timeout http_502 http_503 http_504;",
                      f"    proxy_next_upstream_tries {self.tries};"]
        else:
            lines.append("    proxy_next_upstream off;")
        if self.cache:
            lines += ["    proxy_cache labcache;", f"    proxy_cache_valid 200 {self.cache_valid};",
                      "    add_header X-Cache-Status $upstream_cache_status always;"]
        for name in self.rate_limits:
            if not limits or name not in limits:
                raise ValueError(f"route {self.path} uses rate limit {name!r}, which the config does not define")
            lines.append(f"    {limits[name].use()}")
        lines += [f"    {x}" for x in self.extra]
        lines.append("}")
        return "\n".join(lines)


@dataclass
class NginxConfig:
    """Everything a lab can say about one nginx instance."""

    upstreams: list[Upstream] = field(default_factory=list)
    routes: list[Route] = field(default_factory=lambda: [Route()])
    layer: int = 7  # 4: TCP load balancing with the stream module (no paths, no headers)
    tls: bool = False
    gzip: bool = False
    rate_limits: list[RateLimit] = field(default_factory=list)
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 30.0
    extra_http: list[str] = field(default_factory=list)
    extra_server: list[str] = field(default_factory=list)
    # API gateway (routes opt in with Route(auth=True)):
    api_keys: dict[str, str] = field(default_factory=dict)  # API key -> tier name, e.g. {"k-123": "free"}
    api_key_header: str = "X-Api-Key"
    tier_limits: dict = field(default_factory=dict)  # tier -> "10r/s" or ("10r/s", burst); per key
    usage_log: bool = False  # one access-log line per request: time, key, tier, path, status (see usage())

    def tier_zones(self) -> list[RateLimit] | None:
        """One limit_req zone per limited tier, keyed by the API key (empty for other tiers: not counted)."""
        if not self.api_keys:
            return None
        unknown = set(self.tier_limits) - set(self.api_keys.values())
        if unknown:
            raise ValueError(f"tier_limits names tier(s) {sorted(unknown)} that no API key has")
        zones = []
        for tier, spec in self.tier_limits.items():
            rate, burst = (spec, 0) if isinstance(spec, str) else spec
            zones.append(RateLimit(f"tier_{_ident(tier)}", rate, key=f"$tier_key_{_ident(tier)}", burst=burst))
        return zones

    def render_gateway(self) -> list[str]:
        """The http-level maps and zones behind Route(auth=True) and usage_log."""
        lines = []
        if self.api_keys:
            header = "$http_" + self.api_key_header.lower().replace("-", "_")
            lines.append(f"map {header} $api_tier {{")
            lines.append('    default "";')
            lines += [f'    "{_quoted(k)}" {_ident(t)};' for k, t in self.api_keys.items()]
            lines.append("}")
            lines.append(f'map $api_tier $api_consumer {{ "" "-"; default {header}; }}')
            lines.append('map $api_tier $api_tier_or_dash { "" "-"; default $api_tier; }')
            for tier in self.tier_limits:
                lines.append(f'map $api_tier $tier_key_{_ident(tier)} {{ {_ident(tier)} {header}; default ""; }}')
            lines += [z.zone() for z in self.tier_zones()]
            if not self.rate_limits:
                lines.append("limit_req_status 429;")
            # Backends learn the tier, never the customer's secret.
            lines += ["proxy_set_header X-Api-Tier $api_tier;", f'proxy_set_header {self.api_key_header} "";']
        if self.usage_log:
            who = "$api_consumer $api_tier_or_dash" if self.api_keys else "- -"
            lines.append(f"log_format usage '$msec {who} $request_method $request_uri $status';")
        return lines


def config_excerpt(text: str, words) -> str:
    """The lines of ``text`` that contain one of ``words``, with the headers of the blocks around them.

    A matching block header (``upstream backend {``) brings its whole block."""
    lines = text.splitlines()
    keep, stack, opener_of, whole = set(), [], {}, []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if any(w in line for w in words) or any(whole):
            keep.add(i)
            keep.update(stack)
        if stripped.endswith("{"):
            stack.append(i)
            whole.append(i in keep)
        elif stripped == "}" and stack:
            opener_of[i] = stack.pop()
            whole.pop()
    keep.update(i for i, j in opener_of.items() if j in keep)
    out, last = [], -1
    for i in sorted(keep):
        if i > last + 1 and out:
            depth = len(lines[i]) - len(lines[i].lstrip()) + (4 if lines[i].strip() == "}" else 0)
            out.append(" " * depth + "# ...")
        out.append(lines[i])
        last = i
    return "\n".join(out) + "\n"


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"tier names are letters, digits and underscores; got {name!r}")
    return name


def _quoted(key: str) -> str:
    if re.search(r'["\\\s;{}$]', key):
        raise ValueError(f"API keys may not contain quotes, spaces, backslashes, ; {{ }} or $; got {key!r}")
    return key


def _indent(block: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in block.splitlines())


def _stream_upstream(u: Upstream) -> str:
    stream_u = replace(u, keepalive=0)
    if u.policy == "hash" and u.hash_key.startswith(("$cookie", "$arg", "$http", "$request")):
        raise ValueError("an L4 (stream) balancer cannot see HTTP cookies, args, headers or paths: "
                         "hash on $remote_addr instead")
    return stream_u.render()


_UPSTREAM_FIELDS = {"servers", "policy", "hash_key", "weights", "max_fails", "fail_timeout", "keepalive"}
_ROUTE_FIELDS = {"retries", "tries", "cache", "cache_valid", "auth", "strip_prefix"}
_CONFIG_FIELDS = {"layer", "tls", "gzip", "connect_timeout_s", "read_timeout_s", "api_keys", "tier_limits",
                  "usage_log"}


def apply_changes(config: NginxConfig, **changes) -> NginxConfig:
    up = {k: v for k, v in changes.items() if k in _UPSTREAM_FIELDS}
    route = {k: v for k, v in changes.items() if k in _ROUTE_FIELDS}
    top = {k: v for k, v in changes.items() if k in _CONFIG_FIELDS}
    unknown = set(changes) - _UPSTREAM_FIELDS - _ROUTE_FIELDS - _CONFIG_FIELDS - {"rate_limit", "burst", "upstream"}
    if unknown:
        raise TypeError(f"unknown nginx option(s) {sorted(unknown)}")
    if "upstream" in changes:
        up["servers"] = list(changes["upstream"])
    upstreams = [replace(config.upstreams[0], **up)] + config.upstreams[1:] if config.upstreams else []
    routes = [replace(config.routes[0], **route)] + config.routes[1:]
    rate_limits = list(config.rate_limits)
    if changes.get("rate_limit"):
        rate_limits = [RateLimit("perclient", changes["rate_limit"], burst=changes.get("burst", 0))]
        routes[0] = replace(routes[0], rate_limits=["perclient"])
    return replace(config, upstreams=upstreams, routes=routes, rate_limits=rate_limits, **top)


def server_id_cookie(servers, cookie: str = "srv") -> NginxConfig:
    """Cookie affinity the way ALB, HAProxy ``cookie SRV insert`` and ingress-nginx do it: the cookie
    NAMES the server. A first visit (no cookie) goes round robin over ``servers``; the response sets
    ``cookie`` to the name of the server that answered (s0, s1, ...); later visits go straight to that
    server. Adding a server moves nobody. A cookie naming a dead server falls back to the pool (and is
    re-issued), so only that server's users move.

        lb.reload(config=server_id_cookie(apps))          # nginx OSS: a map plus one upstream per server
    """
    addrs = [_addr(s) for s in servers]
    names = [f"s{i}" for i in range(len(addrs))]
    pick = [f"map $cookie_{cookie} $srv_pick {{", "    default backend;"]
    pick += [f"    {n} {n};" for n in names] + ["}"]
    # $upstream_addr lists every address tried ("a, b : c" after a fallback): name the last one.
    named = ["map $upstream_addr $srv_name {", '    default "";']
    named += [f'    "~{re.escape(a)}$" {n};' for n, a in zip(names, addrs)] + ["}"]
    set_cookie = f'add_header Set-Cookie "{cookie}=$srv_name; Path=/; HttpOnly" always;'
    fallback = ["location @pool {", "    proxy_pass http://backend;",
                "    add_header X-Upstream $upstream_addr always;", f"    {set_cookie}", "}"]
    return NginxConfig(
        upstreams=[Upstream("backend", list(servers))] + [Upstream(n, [a]) for n, a in zip(names, addrs)],
        routes=[Route(upstream="$srv_pick", retries=False, extra=[set_cookie, "error_page 502 504 = @pool;"])],
        extra_http=["\n".join(pick), "\n".join(named)],
        extra_server=["\n    ".join(fallback)],
    )
