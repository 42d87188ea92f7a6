"""nginx as reverse proxy, load balancer and gateway, configured from a Python description.

    lb = services.nginx(upstream=apps, policy="least_conn")          # one pool on "/"
    lb = services.nginx(upstream=apps, policy="hash", hash_key="$cookie_sid")   # affinity
    lb = services.nginx(upstream=apps, weights=[2, 1, 1], retries=False, max_fails=0)
    lb = services.nginx(upstream=apps, tls=True, gzip=True, cache=True, rate_limit="5r/s")
    lb = services.nginx(upstream=apps, rate_limit="10r/s", burst=10)   # 10 at once, then 10 per second
    lb = services.nginx(config=NginxConfig(upstreams=[...], routes=[...]))      # full control
    lb = services.nginx(upstream=apps, layer=4)                      # TCP (stream) balancing
    lb.show_config()            # the real nginx.conf, to read in the notebook
    lb.reload(policy="round_robin")   # new config, same port, no dropped connections
    lb.url                      # http(s)://127.0.0.1:PORT ; responses carry X-Upstream
    lb.show_config("gzip", "limit_req")   # only the lines about one job (and the blocks around them)

A gateway: API keys mapped to tiers, per-tier limits, prefix routing, a usage log per key.

    gw = services.nginx(config=NginxConfig(
        upstreams=[Upstream("v1", [a]), Upstream("v2", [b])],
        routes=[Route("/v1/", "v1", auth=True, strip_prefix=True), Route("/v2/", "v2", auth=True, strip_prefix=True)],
        api_keys={"key-alice": "free", "key-bob": "pro"}, tier_limits={"free": ("2r/s", 2), "pro": "50r/s"},
        usage_log=True))
    gw.usage()                  # {"key-alice": {"200": 5, "429": 12}, "-": {"401": 2}} from nginx's own log

Policies: round_robin, least_conn, random, p2c ("random two least_conn"), hash (consistent, on
``hash_key``), ip_hash. Every response names the backend that served it in ``X-Upstream``.
The configuration values are in ``services.nginx_config``; the usage log's parsing in ``nginx_logs``.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import time
from pathlib import Path

import psutil

from . import _resolve, nginx_logs, tls
from ._probes import http_ok
from ._process import ManagedProcess, ServiceError, free_port
from .nginx_config import NginxConfig, Route, Upstream, _indent, _stream_upstream, apply_changes, config_excerpt


class NginxServer(ManagedProcess):
    kind = "nginx"

    def __init__(self, config: NginxConfig, name: str | None = None, port: int | None = None,
                 exe: str | None = None):
        super().__init__(name, port)
        self.exe = exe or _nginx_exe()
        self.config = config
        self.control_port = free_port()
        self.generation = 0
        self.conf_path = self.workdir / "nginx.conf"
        self.usage_path = self.workdir / "usage.log"

    # -- rendering -------------------------------------------------------------------------
    def _worker_user(self) -> str:
        if os.geteuid() != 0:
            return ""
        nobody = pwd.getpwnam("nobody")
        return f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"

    def _stream_module(self) -> str:
        info = subprocess.run([self.exe, "-V"], capture_output=True, text=True).stderr
        if "--with-stream=dynamic" not in info:
            return ""
        m = re.search(r"--modules-path=(\S+)", info)
        candidates = [Path(m.group(1))] if m else []
        candidates += [Path("/usr/lib/nginx/modules"), Path("/usr/share/nginx/modules")]
        for d in candidates:
            so = d / "ngx_stream_module.so"
            if so.exists():
                return f"load_module {so};"
        raise ServiceError("nginx: this nginx has the stream (L4) module only as a dynamic module, and it is "
                           "not installed. Fix: `apt-get install -y libnginx-mod-stream`.")

    def render(self) -> str:
        c = self.config
        w = self.workdir
        temp = "\n".join(f"    {kind}_temp_path {w}/tmp/{kind};" for kind in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        head = [
            f"# Rendered by labsupport.services.nginx (generation {self.generation}). Not hand-written.",
            self._stream_module() if c.layer == 4 else "",
            self._worker_user(),
            "worker_processes 1;",
            "daemon off;",
            f"pid {w}/nginx.pid;",
            f"error_log {w}/server.log warn;",
            "events { worker_connections 1024; }",
        ]
        http = ["http {", "    access_log off;", temp,
                f"    proxy_connect_timeout {int(c.connect_timeout_s * 1000)}ms;",
                f"    proxy_read_timeout {int(c.read_timeout_s * 1000)}ms;",
                "    proxy_http_version 1.1;",
                '    proxy_set_header Connection "";',
                "    proxy_set_header Host $host;",
                "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "    proxy_set_header X-Forwarded-Proto $scheme;"]
        if any(r.cache for r in c.routes):
            http.append(f"    proxy_cache_path {w}/cache levels=1:2 keys_zone=labcache:10m max_size=100m "
                        "inactive=10m use_temp_path=off;")
        if c.gzip:
            http += ["    gzip on;", "    gzip_proxied any;", "    gzip_min_length 256;",
                     "    gzip_types application/json text/plain text/csv;"]
        if c.rate_limits:
            http += [f"    {rl.zone()}" for rl in c.rate_limits] + ["    limit_req_status 429;"]
        http += [_indent(x) for x in c.render_gateway()]
        http += [f"    {x}" for x in c.extra_http]
        if c.layer == 7:
            http += [_indent(u.render()) for u in c.upstreams]
            listen = f"listen {self.host}:{self.port}" + (" ssl" if c.tls else "") + ";"
            server = ["server {", f"    {listen}"]
            if c.tls:
                cert, key = tls.server_files("nginx")
                server += [f"    ssl_certificate {cert};", f"    ssl_certificate_key {key};"]
            if c.usage_log:
                server.append(f"    access_log {self.usage_path} usage;")
            server += [f"    {x}" for x in c.extra_server]
            limits = {rl.name: rl for rl in c.rate_limits}
            server += [_indent(r.render(limits, c.tier_zones())) for r in c.routes]
            server.append("}")
            http.append(_indent("\n".join(server)))
        http.append(_indent(
            f"server {{\n    listen {self.host}:{self.control_port};\n"
            f"    location = /__labsupport/health {{ return 200 \"generation {self.generation}\\n\"; }}\n}}"))
        http.append("}")
        parts = head + http
        if c.layer == 4:
            stream = ["stream {"] + [_indent(_stream_upstream(u)) for u in c.upstreams]
            stream.append(_indent(f"server {{\n    listen {self.host}:{self.port};\n"
                                  f"    proxy_connect_timeout {int(c.connect_timeout_s * 1000)}ms;\n"
                                  f"    proxy_pass {c.upstreams[0].name};\n}}"))
            stream.append("}")
            parts += stream
        return "\n".join(p for p in parts if p) + "\n"

    # -- process ---------------------------------------------------------------------------
    def prepare(self) -> None:
        for sub in ("tmp", "cache"):
            (self.workdir / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for sub in ("tmp", "cache"):
                os.chown(self.workdir / sub, nobody.pw_uid, nobody.pw_gid)
        self.conf_path.write_text(self.render())
        check = subprocess.run([*self.command(), "-t", "-q"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise ServiceError(f"nginx rejected the rendered config:\n{check.stderr.strip()}\n"
                               f"--- {self.conf_path} ---\n{self.conf_path.read_text()}")

    def command(self) -> list[str]:
        return [self.exe, "-p", str(self.workdir), "-e", str(self.log_path), "-c", str(self.conf_path)]

    def probe(self) -> bool:
        return http_ok(f"http://{self.host}:{self.control_port}/__labsupport/health",
                       body=f"generation {self.generation}")

    def install_hint(self) -> str:
        return _resolve.install_hint("nginx")

    @property
    def url(self) -> str:
        return f"{'https' if self.config.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> str:
        """The lab CA that signed this nginx's certificate (for ``verify=``)."""
        return tls.ca_file()

    def reload(self, config: NginxConfig | None = None, **changes) -> "NginxServer":
        """Swap in a new config with ``nginx -s reload`` semantics (SIGHUP): same port, new rules.

        ``changes`` update the first upstream and route, e.g. ``reload(policy="least_conn", retries=False)``.
        """
        self.config = config or apply_changes(self.config, **changes)
        self.generation += 1
        self.conf_path.write_text(self.render())
        old_workers = psutil.Process(self.proc.pid).children()
        self._signal_master(1)  # SIGHUP
        self.started_s = time.perf_counter()
        self._wait_ready()
        # Old workers finish in-flight requests with the OLD config, and clients holding keep-alive
        # connections to them would too; wait until they have exited so the new rules apply to all.
        psutil.wait_procs(old_workers, timeout=5)
        return self

    def _signal_master(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def show_config(self, *words: str):
        """Display the rendered nginx.conf as highlighted code.

        With ``words``, show only the lines that mention one of them, inside the blocks that hold them.
        """
        text = self.conf_path.read_text()
        if words:
            text = config_excerpt(text, words)
        try:
            from IPython.display import Markdown, display  # noqa: PLC0415

            display(Markdown(f"```nginx\n{text}```"))
        except ImportError:
            print(text)
        return None

    def usage(self) -> dict:
        """Requests per API key and status, counted from nginx's usage log: {key: {"200": n, ...}}."""
        return nginx_logs.usage_counts(self.usage_rows())

    def usage_rows(self) -> list[dict]:
        """Every line of the usage log: {"t_s", "key", "tier", "method", "path", "status"}."""
        if not self.config.usage_log:
            raise ServiceError("usage() needs NginxConfig(usage_log=True)")
        return nginx_logs.read_usage(self.usage_path)


def _nginx_exe() -> str:
    """The nginx binary, found the one way every code path uses (Debian keeps it in /usr/sbin)."""
    src = _resolve.nginx()
    if src.kind == "missing":
        raise ServiceError(f"nginx is not installed. Fix: {src.note}")
    return src.where


def nginx(upstream=None, config: NginxConfig | None = None, name: str | None = None, port: int | None = None,
          **options) -> NginxServer:
    """Start nginx in front of ``upstream`` (apps, services or "host:port" strings), see module docstring."""
    exe = _nginx_exe()
    if config is None:
        if upstream is None:
            raise TypeError("nginx() needs upstream=[backends] or config=NginxConfig(...)")
        base = NginxConfig(upstreams=[Upstream("backend", list(upstream))], routes=[Route()])
        config = apply_changes(base, **options)
    elif options:
        config = apply_changes(config, **options)
    return NginxServer(config, name=name, port=port, exe=exe).start()
