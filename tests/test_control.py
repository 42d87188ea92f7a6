"""labsupport.services._control (one JSON-lines control protocol for helper processes) and
labsupport.services._probes (one readiness probe per kind of signal)."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading

import pytest

from labsupport.services import ServiceError, free_port
from labsupport.services._control import ControlClient, serve, serve_in_thread
from labsupport.services._probes import command_ok, http_ok, tcp_ok


def _handler(msg: dict) -> dict:
    if msg["op"] == "add":
        return {"sum": msg["a"] + msg["b"]}
    raise ValueError(f"unknown op {msg['op']!r}")


def test_threaded_server_answers_pings_replies_and_errors():
    port = free_port()
    stop = serve_in_thread(_handler, port)
    try:
        ctl = ControlClient(port, name="adder")
        assert ctl.ready()
        assert ctl.call({"op": "add", "a": 2, "b": 3}) == {"sum": 5}
        with pytest.raises(ServiceError, match="adder refused .*unknown op 'nope'"):
            ctl.call({"op": "nope"})
        assert ctl.call({"op": "add", "a": 1, "b": 1}) == {"sum": 2}  # a bad request did not kill it
    finally:
        stop()
    with pytest.raises(ServiceError, match="refused the connection: the helper is not running"):
        ControlClient(port, name="adder").call({"op": "add", "a": 1, "b": 1})
    assert not ControlClient(port).ready()


def test_asyncio_server_takes_async_handlers_and_many_requests_per_connection():
    port, up, done = free_port(), threading.Event(), threading.Event()

    async def handler(msg):
        await asyncio.sleep(0)
        return _handler(msg)

    async def main():
        server = await serve(handler, port)
        up.set()
        async with server:
            while not done.is_set():
                await asyncio.sleep(0.01)

    th = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    th.start()
    assert up.wait(5)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            f = s.makefile("rwb")
            for line in (b'{"op": "add", "a": 1, "b": 2}\n', b"[1]\n", b'{"op": "ping"}\n'):
                f.write(line)
                f.flush()
            replies = [f.readline() for _ in range(3)]
        assert replies[0] == b'{"sum": 3}\n' and b"error" in replies[1] and replies[2] == b'{"ok": true}\n'
    finally:
        done.set()
        th.join(5)


def test_a_stuck_helper_is_a_timeout_that_says_so():
    """A port that accepts but never answers: the client gives up after its timeout, saying 'stuck'."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(ServiceError, match="did not answer .* within 0.2 s: the helper is stuck"):
            ControlClient(port, name="mute", timeout_s=0.2).call({"op": "stats"})


def test_probes_tell_up_from_down(tmp_path):
    from labsupport import services

    with services.app("labsupport.apps.echo:app") as app:
        assert http_ok(app.url + "/healthz") and tcp_ok(app.host, app.port)
        assert not http_ok(app.url + "/healthz", body="something else")
    port = free_port()
    assert not http_ok(f"http://127.0.0.1:{port}/") and not tcp_ok("127.0.0.1", port)
    assert command_ok([sys.executable, "-c", "pass"])
    assert not command_ok([sys.executable, "-c", "raise SystemExit(3)"])
    assert not command_ok([sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.2)
    assert not command_ok([str(tmp_path / "no-such-binary")])
