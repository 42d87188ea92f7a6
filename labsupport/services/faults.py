"""A TCP fault proxy for any client-server link: put it between them, then break the link on purpose.

    link = services.fault_proxy(r)          # r: any service (or "host:port"); link.url replaces r.url
    with link.latency(ms=80, jitter_ms=20): ...   # every round trip gains ~80 ms
    with link.latency(ms=80, handshake=True): ... # ... and a new connection first waits 80 ms (TCP's handshake)
    with link.bandwidth(kbps=512): ...            # a slow pipe
    with link.reset(): ...                        # connections are refused with a TCP RST
    with link.partition(): ...                    # a blackhole: bytes vanish, nothing answers
    link.stats()                                  # connections, bytes each way, dropped chunks

Faults end when their ``with`` block ends. The proxy is a real process like every other server.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, urlunsplit

from ._control import ControlClient
from ._process import ManagedProcess, free_port, python_exe


class FaultProxy(ManagedProcess):
    kind = "faultproxy"

    def __init__(self, target, name: str | None = None, port: int | None = None):
        super().__init__(name, port)
        self.target = target
        if isinstance(target, str):
            host, _, tport = target.rpartition(":")
            self.upstream_host, self.upstream_port = host, int(tport)
        else:
            self.upstream_host, self.upstream_port = target.host, target.port
        self.control_port = free_port()
        self.control = ControlClient(self.control_port, name=self.name)

    def command(self) -> list[str]:
        return [python_exe(), "-m", "labsupport.services._faultproxy", str(self.port), self.upstream_host,
                str(self.upstream_port), str(self.control_port)]

    def probe(self) -> bool:
        return self.control.ready()

    def stats(self) -> dict:
        """Counters (connections, active, reset, bytes_up, bytes_down, dropped) and the current fault."""
        return self.control.call({"op": "stats"})

    @property
    def url(self) -> str:
        """The target's URL with the proxy's address in place of the server's."""
        base = getattr(self.target, "url", None) if not isinstance(self.target, str) else None
        if not base:
            return f"tcp://{self.address}"
        parts = urlsplit(base)
        netloc = parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        return urlunsplit(parts._replace(netloc=f"{auth}{self.address}"))

    @contextlib.contextmanager
    def _fault(self, **state):
        before = {k: v for k, v in self.stats().items()
                  if k in ("latency_ms", "jitter_ms", "bandwidth_kbps", "mode", "connect_ms")}
        self.control.call({"op": "set", **state})
        try:
            yield self
        finally:
            self.control.call({"op": "set", **before})

    def latency(self, ms: float, jitter_ms: float = 0.0, handshake: bool = False):
        """Replies arrive ``ms`` later. ``handshake=True``: each new connection also waits ``ms`` before
        its first byte is relayed, as a real TCP handshake costs one round trip (off by default)."""
        extra = {"connect_ms": ms} if handshake else {}
        return self._fault(latency_ms=ms, jitter_ms=jitter_ms, **extra)

    def bandwidth(self, kbps: float):
        return self._fault(bandwidth_kbps=kbps)

    def reset(self):
        return self._fault(mode="reset")

    def partition(self):
        return self._fault(mode="blackhole")

    blackhole = partition

    def client(self, **kw):
        """A client of the target's kind, connected through the proxy (Redis and apps)."""
        if hasattr(self.target, "client"):
            import copy  # noqa: PLC0415

            shadow = copy.copy(self.target)
            shadow.host, shadow.port = self.host, self.port
            return shadow.client(**kw)
        raise TypeError("this target has no client(); connect to link.url yourself")


def fault_proxy(target, name: str | None = None, port: int | None = None) -> FaultProxy:
    """Start a fault proxy in front of ``target`` (see module docstring)."""
    return FaultProxy(target, name=name, port=port).start()
