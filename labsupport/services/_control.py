"""One control protocol for every helper process: JSON lines over a TCP port on 127.0.0.1.

    # in the helper process (asyncio): handler(msg: dict) -> dict, plain or async
    server = await serve(handler, port)              # an asyncio.Server; `async with server:` ...
    # in a helper that runs threads instead (e.g. the DNS authority):
    stop = serve_in_thread(handler, port)            # a daemon thread; stop() closes the port
    # in the lab's process (the controlling side):
    ctl = ControlClient(port, name="faultproxy", timeout_s=2.0)
    ctl.call({"op": "stats"})                        # -> the reply dict, or ServiceError
    ctl.ready()                                      # True once the helper answers {"op": "ping"}

The protocol: each request is one JSON object on one line; each reply is one JSON object on one line.
``{"op": "ping"}`` is answered ``{"ok": true}`` by every helper without reaching its handler. A handler
that raises answers ``{"error": "Type: message"}`` (the helper keeps running), which the client raises as
``ServiceError`` naming the helper and the request. A refused connection or a timeout is a
``ServiceError`` too, saying whether the helper is down or stuck. One connection may carry many requests.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import socketserver
import threading

from ._process import HOST, ServiceError

PING = {"op": "ping"}


def _answer(handler, line: bytes):
    """The reply to one request line (a dict, or an awaitable of one), errors folded into the reply."""
    try:
        msg = json.loads(line)
        if not isinstance(msg, dict):
            raise ValueError("a control request is one JSON object per line")
        if msg == PING:
            return {"ok": True}
        return handler(msg)
    except Exception as exc:  # noqa: BLE001 - a bad request must not kill the helper
        return {"error": f"{type(exc).__name__}: {exc}"}


def _encode(reply) -> bytes:
    return (json.dumps(reply if isinstance(reply, dict) else {"error": f"handler returned {reply!r}"}) + "\n").encode()


# -- the helper's side -------------------------------------------------------------------------------
async def serve(handler, port: int, host: str = HOST) -> asyncio.AbstractServer:
    """Answer control requests on ``host:port`` inside a running asyncio loop; ``handler`` may be async."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = _answer(handler, line)
                if inspect.isawaitable(reply):
                    try:
                        reply = await reply
                    except Exception as exc:  # noqa: BLE001
                        reply = {"error": f"{type(exc).__name__}: {exc}"}
                writer.write(_encode(reply))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, host, port)


def serve_in_thread(handler, port: int, host: str = HOST):
    """Answer control requests on ``host:port`` from a daemon thread (for helpers built on threads).

    Returns a function that closes the port."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(_encode(_answer(handler, line)))
                self.wfile.flush()

    class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
        allow_reuse_address = True
        daemon_threads = True

    server = Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"control:{port}").start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


# -- the controlling side ----------------------------------------------------------------------------
class ControlClient:
    """Requests to one helper's control port: ``call(msg) -> reply``, with a timeout and clear errors."""

    def __init__(self, port: int, name: str = "helper", host: str = HOST, timeout_s: float = 2.0):
        self.port, self.name, self.host, self.timeout_s = port, name, host, timeout_s

    def call(self, msg: dict, timeout_s: float | None = None) -> dict:
        """Send one request; return the helper's reply, or raise ServiceError (refused, timed out, error)."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        where = f"{self.name}'s control port {self.host}:{self.port}"
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as s:
                s.sendall((json.dumps(msg) + "\n").encode())
                line = s.makefile("rb").readline()
        except ConnectionRefusedError:
            raise ServiceError(f"{where} refused the connection: the helper is not running "
                               f"(see its log: services.running(), then .logs()).") from None
        except TimeoutError:
            raise ServiceError(f"{where} did not answer {msg!r} within {timeout} s: the helper is stuck "
                               f"or paused (resume() it, or restart() it).") from None
        except OSError as exc:
            raise ServiceError(f"{where}: {exc}") from None
        if not line:
            raise ServiceError(f"{where} closed the connection without answering {msg!r}.")
        reply = json.loads(line)
        if "error" in reply:
            raise ServiceError(f"{self.name} refused {msg!r}: {reply['error']}")
        return reply

    def ready(self, timeout_s: float = 0.5) -> bool:
        """True once the helper answers a ping (for a readiness probe); never raises."""
        try:
            return self.call(PING, timeout_s=timeout_s) == {"ok": True}
        except (ServiceError, ValueError):
            return False
