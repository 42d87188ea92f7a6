"""Protocol clients that show what crosses the wire, and time each phase (chapter 2, "Networking protocols").

    with RawHTTP(api) as conn:                          # a bare TCP socket (TLS if context=...)
        print(conn.send("GET /models HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"))    # the raw response
    t = time_connections(api, n=50, requests_per_connection=1, context=None)
    t["connect_ms"], t["handshake_ms"], t["request_ms"], t["per_request_ms"]    # one list per phase
    connection_costs({"HTTP": (api, None), "HTTPS": (secure, ctx)}, n_connections=60)   # medians per phase
    tl = stream_http(gen, tokens=40)                    # also stream_sse(...), stream_ws(..., commands={10: "faster"})
    tl.ttft_ms, tl.total_ms, tl.arrivals_ms, tl.sent    # token timeline, client's clock
    ws_frames(raw_bytes)                                # a WebSocket byte stream cut into its frames
    encoding_sizes(features), encoding_times(features)  # protobuf vs JSON for one request

A server here is anything with ``.host``, ``.port`` and ``.url`` (every labsupport service).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import statistics
import time
import timeit
from dataclasses import dataclass, field


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


# -- token streams: whole answer, Server-Sent Events, WebSocket ----------------------------------
@dataclass
class Timeline:
    """Tokens as the client saw them: ``arrivals_ms[i]`` is when token i arrived, from the request."""

    tokens: list[str] = field(default_factory=list)
    arrivals_ms: list[float] = field(default_factory=list)
    total_ms: float = float("nan")
    sent: list[tuple[float, str]] = field(default_factory=list)  # (ms, command) sent mid-stream
    acks: list[tuple[float, dict]] = field(default_factory=list)  # (ms, server's reply to a command)
    reason: str = ""

    @property
    def ttft_ms(self) -> float:
        """Time to first token."""
        return self.arrivals_ms[0] if self.arrivals_ms else float("nan")

    @property
    def gaps_ms(self) -> list[float]:
        return [b - a for a, b in zip(self.arrivals_ms, self.arrivals_ms[1:])]


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def stream_http(server, tokens: int = 40, client=None) -> Timeline:
    """POST /generate: one response after the last token, so every token 'arrives' at the end."""
    import httpx  # noqa: PLC0415

    own = client is None
    client = client or httpx.Client(base_url=server.url, timeout=60)
    try:
        t0 = time.perf_counter()
        body = client.post("/generate", json={"tokens": tokens}).raise_for_status().json()
        done = _ms(t0)
    finally:
        if own:
            client.close()
    return Timeline(tokens=body["tokens"], arrivals_ms=[done] * len(body["tokens"]), total_ms=done,
                    reason="length")


def stream_sse(server, tokens: int = 40, client=None) -> Timeline:
    """GET /stream: Server-Sent Events, one ``data:`` line per token over an ordinary HTTP response."""
    import httpx  # noqa: PLC0415

    own = client is None
    client = client or httpx.Client(base_url=server.url, timeout=60)
    tl = Timeline(reason="length")
    try:
        t0 = time.perf_counter()
        with client.stream("GET", "/stream", params={"tokens": tokens}) as resp:
            for line in resp.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                tl.arrivals_ms.append(_ms(t0))
                tl.tokens.append(json.loads(line[6:])["token"])
        tl.total_ms = _ms(t0)
    finally:
        if own:
            client.close()
    return tl


def stream_ws(server, tokens: int = 40, commands: dict[int, str] | None = None, live: bool = False) -> Timeline:
    """WS /ws: tokens arrive as messages; after token i, send ``commands[i]`` ("faster", "stop"...).

    ``live=True`` shows the answer growing in the notebook while it streams.
    """
    from websockets.sync.client import connect  # noqa: PLC0415

    commands = dict(commands or {})
    tl = Timeline()
    view = _LiveText() if live else None
    url = server.url.replace("http", "ws", 1) + "/ws"
    t0 = time.perf_counter()
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"tokens": tokens}))
        for raw in ws:
            msg = json.loads(raw)
            if "ack" in msg:
                tl.acks.append((_ms(t0), msg))
            elif msg.get("done"):
                tl.reason = msg["reason"]
                break
            else:
                tl.arrivals_ms.append(_ms(t0))
                tl.tokens.append(msg["token"])
                if view:
                    view.update(tl)
                cmd = commands.pop(msg["i"], None)
                if cmd:
                    ws.send(json.dumps({"cmd": cmd}))
                    tl.sent.append((_ms(t0), cmd))
    tl.total_ms = _ms(t0)
    if view:
        view.update(tl, final=True)
    return tl


class _LiveText:
    """A notebook output line that is redrawn as tokens arrive."""

    def __init__(self):
        from IPython.display import display  # noqa: PLC0415

        self.handle = display("", display_id=True)

    def update(self, tl: Timeline, final: bool = False) -> None:
        from IPython.display import Markdown  # noqa: PLC0415

        sent = ", ".join(f"{c!r} at {ms:.0f} ms" for ms, c in tl.sent) or "nothing yet"
        status = f"done ({tl.reason})" if final else "streaming"
        self.handle.update(Markdown(f"**{len(tl.tokens)} tokens, {status}; client sent: {sent}**\n\n"
                                    f"> {' '.join(tl.tokens)}"))


# -- protobuf vs JSON for one PredictRequest ----------------------------------------------------
def _json_bytes(features, model_version: str = "v1", digits: int | None = None) -> bytes:
    if digits is not None:
        features = [float(f"{x:.{digits}g}") for x in features]
    return json.dumps({"features": features, "model_version": model_version}).encode()


def encoding_sizes(features, model_version: str = "v1") -> dict[str, int]:
    """Bytes of one PredictRequest: protobuf, JSON, and JSON with 9 significant digits (exact for float32)."""
    from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415

    proto = pb.PredictRequest(features=features, model_version=model_version).SerializeToString()
    return {"protobuf": len(proto), "json": len(_json_bytes(features, model_version)),
            "json_float32": len(_json_bytes(features, model_version, digits=9))}


def _best_us(fn, min_time_s: float = 0.005, repeat: int = 3) -> float:
    """Microseconds of CPU per call: best of ``repeat`` runs, each looping long enough to be timed.

    The clock is this thread's CPU time, so other programs competing for the cores do not inflate it.
    """
    timer, number = timeit.Timer(fn, timer=time.thread_time), 1
    while timer.timeit(number) < min_time_s:
        number *= 4
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def encoding_times(features, model_version: str = "v1", min_time_s: float = 0.005) -> dict[str, float]:
    """Microseconds to encode (a Python list -> bytes) and decode (bytes -> a Python list), each format."""
    from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415

    msg_cls = pb.PredictRequest
    proto = msg_cls(features=features, model_version=model_version).SerializeToString()
    js = _json_bytes(features, model_version)
    return {
        "protobuf_encode_us": _best_us(lambda: msg_cls(features=features, model_version=model_version)
                                       .SerializeToString(), min_time_s),
        "json_encode_us": _best_us(lambda: _json_bytes(features, model_version), min_time_s),
        "protobuf_decode_us": _best_us(lambda: list(msg_cls.FromString(proto).features), min_time_s),
        "json_decode_us": _best_us(lambda: json.loads(js)["features"], min_time_s),
    }
