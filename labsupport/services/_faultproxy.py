"""The fault proxy's server process: a TCP relay whose behaviour changes on command.

Run by ``labsupport.services.faults``; not meant to be started by hand.
    python -m labsupport.services._faultproxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT CONTROL_PORT
Control (``services._control``, JSON lines): {"op": "set", "latency_ms": 80} changes the behaviour;
{"op": "stats"} answers with the counters and the current behaviour. Latency and jitter delay the server-to-client direction,
so each request-response round trip gains about ``latency_ms``; ``connect_ms`` holds each new
connection that long before relaying, like the round trip of a real TCP handshake.
"""

import asyncio
import random
import socket
import struct
import sys
import time

from labsupport.services._control import serve

HOST = "127.0.0.1"
NORMAL = {"latency_ms": 0.0, "jitter_ms": 0.0, "bandwidth_kbps": 0.0, "mode": "normal", "connect_ms": 0.0}


class Relay:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.state = dict(NORMAL)
        self.rng = random.Random(0)
        self.conns: set = set()
        self.stats = {"connections": 0, "active": 0, "reset": 0, "bytes_up": 0, "bytes_down": 0, "dropped": 0}

    @staticmethod
    def _rst(writer) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def client(self, reader, writer) -> None:
        self.stats["connections"] += 1
        if self.state["mode"] == "reset":
            self.stats["reset"] += 1
            self._rst(writer)
            return
        self.stats["active"] += 1
        try:
            if self.state["mode"] == "blackhole":  # accept, then swallow everything: a partition
                while await reader.read(65536):
                    self.stats["dropped"] += 1
                return
            if self.state["connect_ms"]:  # a new connection first waits one round trip (TCP's handshake)
                await asyncio.sleep(self.state["connect_ms"] / 1000)
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                self._rst(writer)
                return
            pair = (writer, up_writer)
            self.conns.add(pair)
            try:
                await asyncio.gather(self.pipe(reader, up_writer, "bytes_up", delayed=False),
                                     self.pipe(up_reader, writer, "bytes_down", delayed=True))
            finally:
                self.conns.discard(pair)
                for w in pair:
                    w.close()
        finally:
            self.stats["active"] -= 1

    async def pipe(self, reader, writer, counter: str, delayed: bool) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.state["mode"] == "blackhole":
                    self.stats["dropped"] += 1
                    continue
                kbps = self.state["bandwidth_kbps"]
                step = 1024 if kbps else len(data)
                for i in range(0, len(data), step):  # pace slice by slice: bytes arrive at the capped rate
                    piece = data[i:i + step]
                    if kbps:
                        await asyncio.sleep(len(piece) * 8 / (kbps * 1000))
                    writer.write(piece)
                    self.stats[counter] += len(piece)
                    await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.ensure_future(send())
        try:
            while True:
                chunk = await reader.read(65536 if not self.state["bandwidth_kbps"] else 4096)
                delay = 0.0
                if delayed and self.state["latency_ms"]:
                    jitter = self.state["jitter_ms"]
                    delay = max(0.0, self.state["latency_ms"] + self.rng.uniform(-jitter, jitter)) / 1000
                await queue.put((time.monotonic() + delay, chunk or None))
                if not chunk:
                    break
            await sender
        except (ConnectionError, OSError):
            sender.cancel()

    def set(self, changes: dict) -> None:
        self.state.update({k: v for k, v in changes.items() if k in NORMAL})
        if changes.get("mode") == "reset":
            for client_writer, up_writer in list(self.conns):
                self._rst(client_writer)
                up_writer.close()

    def control(self, msg: dict) -> dict:
        """A control request: {"op": "stats"} or {"op": "set", **changes}."""
        if msg.get("op") == "stats":
            return {**self.stats, **self.state}
        if msg.get("op") == "set":
            unknown = set(msg) - set(NORMAL) - {"op"}
            if unknown:
                raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(NORMAL)}")
            self.set(msg)
            return {"ok": True}
        raise ValueError(f"unknown op {msg.get('op')!r}; ops: stats, set")


async def main(listen_port: int, upstream_host: str, upstream_port: int, control_port: int) -> None:
    relay = Relay(upstream_host, upstream_port)
    data = await asyncio.start_server(relay.client, HOST, listen_port)
    ctrl = await serve(relay.control, control_port)
    async with data, ctrl:
        await asyncio.gather(data.serve_forever(), ctrl.serve_forever())


if __name__ == "__main__":
    lp, uh, up, cp = sys.argv[1:5]
    asyncio.run(main(int(lp), uh, int(up), int(cp)))
