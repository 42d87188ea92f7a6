"""Readiness probes, one per kind of signal. Each is quick, never raises, and answers True or False.

    http_ok("http://127.0.0.1:8000/healthz", timeout_s=0.5)        # an HTTP answer below 500
    http_ok(url, context=ssl_context)                                # https, trusting that context's CAs
    http_ok(url, body="generation 2")                                # ... whose body is exactly this
    tcp_ok("127.0.0.1", 6379, timeout_s=0.2)                         # something accepts a connection
    command_ok(["pg_isready", "-h", "127.0.0.1"], timeout_s=2)       # a command exits 0 in time

Servers whose protocol has its own client (Redis PING, SELECT 1, a gRPC call, a DNS question) probe
with that client in their own module; everything else uses these. ``ManagedProcess.probe`` defaults to
``tcp_ok``; the DNS authority's health checks use ``http_ok``.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
from urllib.parse import urlsplit


def http_ok(url: str, timeout_s: float = 0.5, context: ssl.SSLContext | None = None,
            body: str | None = None) -> bool:
    """GET ``url``: True when the status is below 500 (and the stripped body equals ``body``, if given)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout_s,
                                           context=context or ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout_s)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        return resp.status < 500 and (body is None or text.strip() == body)
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def tcp_ok(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """True when a TCP connection to ``host:port`` is accepted within ``timeout_s``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def command_ok(argv: list[str], timeout_s: float = 2.0, **kw) -> bool:
    """True when ``argv`` exits with status 0 within ``timeout_s`` (its output is discarded)."""
    try:
        return subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False, **kw).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
