"""Raw HTTP over a bare socket, and what each phase of a connection costs (chapter 2, "Networking protocols").

    with RawHTTP(api) as conn:                          # a bare TCP socket (TLS if context=...)
        print(conn.send("GET /models HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"))    # the raw response
        conn.send_ws_text("faster"); conn.recv_ws_until_close()   # after a 101 upgrade: WebSocket frames
    ws_frames(raw_bytes)                                # a WebSocket byte stream cut into its frames
    t = time_connections(api, n=50, requests_per_connection=1, context=None)
    t["connect_ms"], t["handshake_ms"], t["request_ms"], t["per_request_ms"]    # one list per phase
    connection_costs({"HTTP": (api, None), "HTTPS": (secure, ctx)}, n_connections=60)   # medians per phase

A server here is anything with ``.host``, ``.port`` and ``.url`` (every labsupport service).
"""

from __future__ import annotations

import os
import socket
import ssl
import statistics
import time


# -- raw HTTP/1.1 over a socket ---------------------------------------------------------------
def _connect(server, timeout: float) -> socket.socket:
    """A TCP connection with Nagle's algorithm off, as HTTP clients do (urllib3, curl): otherwise a small
    request written right after a TLS handshake can wait for the server's delayed ACK."""
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_response(sock: socket.socket, buf: bytes = b"") -> tuple[bytes, bytes]:
    """Read one HTTP response from ``sock``; return (response bytes, bytes left over after it)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return buf, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if status in (101, 204, 304) or 100 <= status < 200:
        return head + b"\r\n\r\n", rest
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest[:n], rest[n:]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest, b""
    while chunk := sock.recv(65536):  # no length given: the body ends when the server closes
        rest += chunk
    return head + b"\r\n\r\n" + rest, b""


class RawHTTP:
    """One TCP connection (wrapped in TLS when ``context`` is given) that sends requests you type."""

    def __init__(self, server, context: ssl.SSLContext | None = None, timeout: float = 5.0,
                 server_hostname: str | None = None):
        self.sock = _connect(server, timeout)
        if context is not None:  # server_hostname: the name the certificate must carry (default: host)
            try:
                self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname or server.host)
            except BaseException:
                self.sock.close()
                raise
        self._left = b""

    def send(self, request: str | bytes) -> str:
        """Send the request exactly as given (HTTP wants \\r\\n line ends); return the response text."""
        self.sock.sendall(request.encode() if isinstance(request, str) else request)
        raw, self._left = _read_response(self.sock, self._left)
        return raw.decode("utf-8", errors="replace")

    def send_ws_text(self, text: str) -> bytes:
        """After a 101 upgrade: send one WebSocket text frame (clients must mask); return its bytes."""
        payload, mask = text.encode(), os.urandom(4)
        if len(payload) > 125:
            raise ValueError("this teaching helper sends short frames only (<= 125 bytes)")
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(frame)
        return frame

    def recv_ws_until_close(self, timeout: float = 5.0) -> bytes:
        """After a 101 upgrade: the server's raw frames, up to and including its close frame."""
        self.sock.settimeout(timeout)
        data, self._left = self._left, b""
        while not _has_close_frame(data):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ws_frames(data: bytes) -> list[bytes]:
    """Split unmasked server bytes into whole WebSocket frames (header included); a partial tail is dropped."""
    frames, i = [], 0
    while i + 2 <= len(data):
        start, n, i = i, data[i + 1] & 0x7F, i + 2
        if n >= 126:
            width = 2 if n == 126 else 8
            n, i = int.from_bytes(data[i:i + width], "big"), i + width
        if i + n > len(data):
            break
        frames.append(data[start:i + n])
        i += n
    return frames


def _has_close_frame(data: bytes) -> bool:
    return any(f[0] & 0x0F == 8 for f in ws_frames(data))


def time_connections(server, n: int, requests_per_connection: int = 1, context: ssl.SSLContext | None = None,
                     path: str = "/healthz") -> dict[str, list[float]]:
    """Open ``n`` connections, each sending ``requests_per_connection`` GETs; time every phase in ms.

    connect_ms: TCP handshake; handshake_ms: TLS handshake (0 without ``context``); request_ms: each
    request-response on an open connection; per_request_ms: a connection's whole cost / its requests.
    """
    out = {"connect_ms": [], "handshake_ms": [], "request_ms": [], "per_request_ms": []}
    request = f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode()
    for _ in range(n):
        t0 = time.perf_counter()
        sock = _connect(server, 10)
        t1 = time.perf_counter()
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=server.host)
        t2 = time.perf_counter()
        left, t_prev = b"", t2
        for _ in range(requests_per_connection):
            sock.sendall(request)
            _, left = _read_response(sock, left)
            t_now = time.perf_counter()
            out["request_ms"].append((t_now - t_prev) * 1000)
            t_prev = t_now
        sock.close()
        out["connect_ms"].append((t1 - t0) * 1000)
        out["handshake_ms"].append((t2 - t1) * 1000)
        out["per_request_ms"].append((t_prev - t0) * 1000 / requests_per_connection)
    return out


def connection_costs(targets: dict, n_connections: int, requests_per_connection: int = 1,
                     rounds: int = 3) -> dict[str, dict[str, float]]:
    """Median cost of one request, split by phase, for each ``{name: (server, ssl_context_or_None)}``.

    The targets take turns over ``rounds`` (so a noisy moment on the machine hits all of them alike).
    With k requests per connection, the connection's setup is shared: connect and handshake are / k.
    """
    runs: dict[str, dict[str, list]] = {name: {} for name in targets}
    for _ in range(rounds):
        for name, (server, context) in targets.items():
            t = time_connections(server, max(1, n_connections // rounds), requests_per_connection, context)
            for key, values in t.items():
                runs[name].setdefault(key, []).extend(values)
    k = requests_per_connection
    return {name: {"TCP connect": statistics.median(t["connect_ms"]) / k,
                   "TLS handshake": statistics.median(t["handshake_ms"]) / k,
                   "request": statistics.median(t["request_ms"]),
                   "total": statistics.median(t["per_request_ms"])} for name, t in runs.items()}
