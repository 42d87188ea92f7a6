"""FastAPI apps from ``labsupport.apps`` run as real uvicorn processes, one per replica.

    m = services.app("labsupport.apps.model_server:app")                 # one process
    group = services.app("labsupport.apps.session_server:app", replicas=3, env={"SESSION_STORE": r.url})
    group[0].kill()                # crash one replica
    group.urls, group.addresses    # for clients and for nginx upstreams
    m.client()                     # httpx.Client bound to the app
    s = services.app("labsupport.apps.resource_api:app", tls=True)       # HTTPS with the lab CA
    h = services.app("labsupport.apps.model_server:app", server="hypercorn")  # same app, Hypercorn:
    h.client(http2=True)           # HTTP/1.1 or HTTP/2 (h2c with prior knowledge; ALPN with tls=True)

Each replica gets REPLICA_ID (0, 1, ...) and REPLICA_NAME in its environment and reports them
in the ``X-Replica`` response header. Readiness is an HTTP GET of ``/healthz``.
"""

from __future__ import annotations

import ssl

import httpx

from . import tls as _tls
from ._probes import http_ok
from ._process import ManagedProcess, free_port, python_exe


class AppServer(ManagedProcess):
    kind = "app"

    def __init__(self, target: str, name: str | None = None, port: int | None = None,
                 env: dict | None = None, health_path: str = "/healthz", extra_args: list[str] | None = None,
                 host: str | None = None, tls: bool = False, server: str = "uvicorn"):
        super().__init__(name or target.split(":")[0].rsplit(".", 1)[-1], port)
        if server not in ("uvicorn", "hypercorn"):
            raise ValueError(f"server={server!r}: use 'uvicorn' or 'hypercorn'")
        self.server = server  # hypercorn also speaks HTTP/2, over TLS or cleartext (h2c)
        self.tls = tls  # serve HTTPS with a certificate from the lab CA (services.tls)
        if host:  # another loopback address (127.0.0.2 ...), e.g. for the DNS labs
            self.host = host
        self.target = target
        self._env = {k: str(v) for k, v in (env or {}).items()}
        self.health_path = health_path
        self.extra_args = extra_args or []

    def env(self) -> dict[str, str]:
        # One BLAS thread per replica: N replicas on 2 cores must not each spawn a thread per core.
        return {"REPLICA_NAME": self.name, "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1", **self._env}

    def command(self) -> list[str]:
        if self.server == "hypercorn":  # --workers 0: serve in this process, as uvicorn does
            return [python_exe(), "-m", "hypercorn", self.target, "--bind", self.address, "--workers", "0",
                    "--log-level", "warning", *self._tls_args(), *self.extra_args]
        return [python_exe(), "-m", "uvicorn", self.target, "--host", self.host, "--port", str(self.port),
                "--no-access-log", "--log-level", "warning", *self._tls_args(), *self.extra_args]

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        cert, key = _tls.server_files(self.name)
        if self.server == "hypercorn":
            return ["--certfile", cert, "--keyfile", key]
        return ["--ssl-certfile", cert, "--ssl-keyfile", key]

    def ssl_context(self) -> ssl.SSLContext:
        """A client-side context that trusts the lab CA (and nothing else)."""
        return ssl.create_default_context(cafile=_tls.ca_file())

    def probe(self) -> bool:
        return http_ok(self.url + self.health_path, context=self.ssl_context() if self.tls else None)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def client(self, http2: bool = False, **kw) -> httpx.Client:
        """httpx.Client bound to the app; ``http2=True`` speaks only HTTP/2 (needs the ``h2`` package)."""
        if self.tls:
            kw.setdefault("verify", self.ssl_context())
        if http2:  # over TLS ALPN would choose; in cleartext httpx then sends HTTP/2 with prior knowledge
            kw.update(http1=False, http2=True)
        return httpx.Client(base_url=self.url, **kw)


class AppGroup(list):
    """N replicas of one app: a list of AppServer with group helpers."""

    @property
    def urls(self) -> list[str]:
        return [a.url for a in self]

    @property
    def addresses(self) -> list[str]:
        return [a.address for a in self]

    def stop(self) -> None:
        for a in self:
            a.stop()

    def cleanup(self) -> None:
        for a in self:
            a.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def app(target: str, replicas: int | None = None, env: dict | None = None, name: str | None = None,
        hosts: list[str] | None = None, **kw) -> AppServer | AppGroup:
    """Start ``module:app`` under uvicorn (or ``server="hypercorn"``); with ``replicas=N`` return an AppGroup of N processes.

    ``hosts=["127.0.0.2", "127.0.0.3"]`` puts one replica on each loopback address, all on one shared
    port (as servers behind a DNS name are: the name gives the address, the port is well known).
    """
    if hosts:
        replicas = replicas or len(hosts)
        kw["port"] = kw.get("port") or free_port()
    if replicas is None:
        return AppServer(target, name=name, env={"REPLICA_ID": 0, **(env or {})}, **kw).start()
    base = name or target.split(":")[0].rsplit(".", 1)[-1]
    group = AppGroup(
        AppServer(target, name=f"{base}-{i}", env={"REPLICA_ID": i, **(env or {})}, **kw,
                  **({"host": hosts[i]} if hosts else {})) for i in range(replicas)
    )
    for a in group:  # spawn all, then wait for all: N replicas start in about the time of one
        a.port = a._requested_port or free_port()
        a.prepare()
        a._spawn()
    for a in group:
        a._wait_ready()
    return group
