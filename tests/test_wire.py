"""What crosses the wire: raw HTTP over sockets and connection phase timing (drivers.raw_http), token-stream
clients (drivers.streams), protobuf vs JSON sizes (labsupport.encoding)."""

import socket
import ssl

import pytest

from labsupport import encoding, services
from labsupport.drivers import raw_http, streams


# -- parsing, no server needed ------------------------------------------------------------------
def _serve_once(payload: bytes) -> socket.socket:
    """A socketpair whose far end has already written ``payload`` and closed."""
    a, b = socket.socketpair()
    b.sendall(payload)
    b.close()
    return a


def test_read_response_uses_content_length_and_keeps_the_rest():
    """Two pipelined responses: the first ends at Content-Length, the second is left over intact."""
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    second = b"HTTP/1.1 204 No Content\r\n\r\n"
    raw, left = raw_http._read_response(_serve_once(first + second))
    assert raw == first and left == second
    raw, left = raw_http._read_response(_serve_once(b""), left)
    assert raw == second and left == b""


def test_read_response_chunked_and_until_close():
    """A chunked body is read to its last chunk; a body without a length is read until the peer closes."""
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    assert raw_http._read_response(_serve_once(chunked))[0] == chunked
    plain = b"HTTP/1.0 200 OK\r\n\r\nall of it"
    assert raw_http._read_response(_serve_once(plain))[0] == plain


def test_close_frame_detection():
    """Unmasked server frames: found only when a complete close frame (opcode 8) is present."""
    text = b"\x81\x02hi"
    long_text = b"\x81\x7e\x00\x80" + b"x" * 128  # 126: a 2-byte extended length follows
    assert not raw_http._has_close_frame(text + long_text)
    assert raw_http._has_close_frame(text + long_text + b"\x88\x02\x03\xe8")
    assert not raw_http._has_close_frame(b"\x88\x02\x03")  # truncated
    assert raw_http.ws_frames(text + long_text + b"\x81") == [text, long_text]


def test_encoding_sizes_follow_the_wire_format():
    """1 float + "v1": protobuf 10 bytes (2+4 for features, 4 for model_version); JSON is longer."""
    sizes = encoding.encoding_sizes([0.5])
    assert sizes["protobuf"] == 10
    assert sizes["json"] == len('{"features": [0.5], "model_version": "v1"}')
    assert sizes["json_float32"] <= sizes["json"]


def test_encoding_times_are_positive_microseconds():
    """Each of the four timings is a positive number of microseconds."""
    times = encoding.encoding_times([0.25] * 8, min_time_s=0.001)
    assert set(times) == {"protobuf_encode_us", "json_encode_us", "protobuf_decode_us", "json_decode_us"}
    assert all(0 < v < 1e5 for v in times.values())


# -- against real servers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def apps():
    api = services.app("labsupport.apps.resource_api:app", name="wire-api")
    secure = services.app("labsupport.apps.resource_api:app", name="wire-api-tls", tls=True)
    gen = services.app("labsupport.apps.token_stream:app", name="wire-gen", env={"TOKEN_MS": 20})
    yield api, secure, gen
    for a in (api, secure, gen):
        a.cleanup()


def test_raw_http_two_requests_on_one_connection(apps):
    """RawHTTP sends typed requests; a second request reuses the same socket."""
    api, _, _ = apps
    with raw_http.RawHTTP(api) as conn:
        first = conn.send("GET /models/resnet50 HTTP/1.1\r\nHost: x\r\n\r\n")
        second = conn.send("GET /models/nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert first.startswith("HTTP/1.1 200") and '"resnet50"' in first
    assert second.startswith("HTTP/1.1 404")


def test_raw_https_and_verification(apps):
    """With the lab CA the TLS handshake succeeds; without it, or for another name, it is refused."""
    _, secure, _ = apps
    assert secure.url.startswith("https://")  # services.app(..., tls=True)
    with secure.client() as client:
        assert client.get("/healthz").status_code == 200
    with raw_http.RawHTTP(secure, context=secure.ssl_context()) as conn:
        assert conn.sock.version().startswith("TLS")
        assert conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith("HTTP/1.1 200")
    with pytest.raises(ssl.SSLCertVerificationError):
        raw_http.RawHTTP(secure, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        raw_http.RawHTTP(secure, context=secure.ssl_context(), server_hostname="elsewhere.example")


def test_time_connections_and_costs(apps):
    """Phase timings: a handshake only with TLS; k requests per connection give k request timings."""
    api, secure, _ = apps
    t = raw_http.time_connections(api, 3, requests_per_connection=2)
    assert len(t["connect_ms"]) == 3 and len(t["request_ms"]) == 6
    assert max(t["handshake_ms"]) < 0.5
    costs = raw_http.connection_costs({"tls": (secure, secure.ssl_context())}, n_connections=4, rounds=2)
    assert costs["tls"]["TLS handshake"] > 0 and costs["tls"]["total"] > costs["tls"]["request"]


def test_token_streams(apps):
    """10 tokens at 20 ms: plain HTTP delivers all at the end, SSE and WebSocket one by one."""
    _, _, gen = apps
    http, sse, ws = streams.stream_http(gen, 10), streams.stream_sse(gen, 10), streams.stream_ws(gen, 10)
    assert len(http.tokens) == len(sse.tokens) == len(ws.tokens) == 10
    assert http.ttft_ms == http.total_ms
    for tl in (sse, ws):
        assert tl.ttft_ms < tl.arrivals_ms[-1] - 100
    assert ws.reason == "length"


def test_websocket_commands_mid_stream(apps):
    """Commands sent after tokens 2 and 5 are acknowledged; "stop" ends the stream early."""
    _, _, gen = apps
    tl = streams.stream_ws(gen, 50, commands={2: "slower", 5: "stop"})
    assert [ack["ack"] for _, ack in tl.acks] == ["slower", "stop"]
    assert tl.reason == "stop" and len(tl.tokens) < 20


def test_raw_websocket_upgrade(apps):
    """A hand-written upgrade gets 101; a masked client frame starts a stream that ends in a close frame."""
    _, _, gen = apps
    upgrade = ("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with raw_http.RawHTTP(gen) as conn:
        assert conn.send(upgrade).startswith("HTTP/1.1 101")
        frame = conn.send_ws_text('{"tokens": 2}')
        frames = conn.recv_ws_until_close()
    assert frame[0] == 0x81 and frame[1] & 0x80  # text, masked
    assert frames.count(b"\x81") >= 3 and b'"done": true' in frames and raw_http._has_close_frame(frames)
