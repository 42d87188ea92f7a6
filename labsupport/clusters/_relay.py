"""The cluster network's relay process: every node-to-node TCP link of one cluster passes through it.

Run by ``labsupport.clusters.network``; not meant to be started by hand.
    python labsupport/clusters/_relay.py CONTROL_PORT
Control: one JSON object per line on 127.0.0.1:CONTROL_PORT, one JSON answer per line:
    {"op": "listen", "dst": "b", "target": "127.0.0.1:7001", "src": "a"}  -> {"port": 40123}
        src: the one node that uses this address (a route); null: many nodes do (an entry), and each
        connection's source is found from the tokens below. "scan": true forwards at once and names
        the source when its token shows up (for protocols that wait for a reply before naming themselves).
    {"op": "identify", "src": "a", "token": "<base64>"}   bytes that only a's connections carry early
    {"op": "fault", "id": "f1", "kind": "cut" | "latency" | "loss", "pairs": [["a", "b"], ...],
     "ms": 50, "jitter_ms": 5, "p": 0.2, "rto_ms": 200}   pairs are directed: bytes sent by a to b
    {"op": "clear", "id": "f1"}   {"op": "heal"}   {"op": "stats"}

What a fault does to the bytes of a directed pair (checked per chunk, so it reaches open connections):
- cut: bytes are held, never forwarded, never refused; new connections are accepted and then hear
  nothing. Both sides see a dead host and time out. When the cut ends, held bytes are delivered, as
  TCP's retransmissions would deliver them once the network heals.
- latency: each chunk is delivered ``ms`` (plus or minus ``jitter_ms``) after it arrived, in order.
- loss: TCP loses no bytes, so with probability ``p`` a chunk waits one retransmission timeout
  (``rto_ms``, doubling over a run of losses): what packet loss looks like to an application.
Faults overlap: cuts win, latencies add, loss probabilities combine as independent drops.
"""

import asyncio
import base64
import json
import random
import sys
import time

HOST = "127.0.0.1"
CHUNK = 65536
IDENTIFY_BYTES = 16384  # look this far into a connection for a source token
IDENTIFY_WAIT_S = 1.0  # at most; an HTTP request head without a token ends the wait at once
QUEUE_CHUNKS = 32  # held or delayed chunks per direction before the relay stops reading (TCP's window)
UNKNOWN = "?"


class Net:
    def __init__(self):
        self.faults: dict[str, dict] = {}
        self.tokens: dict[bytes, str] = {}
        self.changed = asyncio.Event()
        self.rng = random.Random(0)
        self.stats: dict[tuple[str, str], dict] = {}

    # -- state -----------------------------------------------------------------------------------
    def effect(self, src: str, dst: str) -> tuple[bool, float, float, float, float]:
        """(cut, latency_ms, jitter_ms, loss_p, rto_ms) for bytes sent by src to dst."""
        cut, ms, jitter, keep, rto = False, 0.0, 0.0, 1.0, 200.0
        for f in self.faults.values():
            if [src, dst] not in f["pairs"]:
                continue
            if f["kind"] == "cut":
                cut = True
            elif f["kind"] == "latency":
                ms += f.get("ms", 0.0)
                jitter += f.get("jitter_ms", 0.0)
            elif f["kind"] == "loss":
                keep *= 1.0 - f.get("p", 0.0)
                rto = f.get("rto_ms", rto)
        return cut, ms, jitter, 1.0 - keep, rto

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def counter(self, src: str, dst: str) -> dict:
        return self.stats.setdefault((src, dst), {"connections": 0, "bytes": 0, "held_bytes": 0, "delayed_chunks": 0})

    def identify(self, data: bytes) -> str:
        best, where = UNKNOWN, len(data) + 1
        for token, node in self.tokens.items():
            i = data.find(token)
            if 0 <= i < where:
                best, where = node, i
        return best

    # -- relaying --------------------------------------------------------------------------------
    async def serve(self, dst: str, target: tuple[str, int], src: str | None, scan: bool, reader, writer) -> None:
        """One connection. A route knows its source; an entry finds it in the first bytes, either before
        connecting upstream (the token comes first: bus headers, HTTP heads) or, with ``scan``, while the
        bytes already flow (a protocol that waits for an answer before it names itself)."""
        conn = Conn(src or UNKNOWN, dst)
        first = b""
        if src is None and not scan:
            deadline = time.monotonic() + IDENTIFY_WAIT_S
            while len(first) < IDENTIFY_BYTES and self.tokens:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    more = await asyncio.wait_for(reader.read(CHUNK), left)
                except asyncio.TimeoutError:
                    break
                if not more:
                    break
                first += more
                conn.src = self.identify(first)
                if conn.src != UNKNOWN or b"\r\n\r\n" in first:  # a token, or a whole HTTP request head without one
                    break
        conn.scanning = src is None and scan
        self.counter(conn.src, dst)["connections"] += 1
        while self.effect(conn.src, dst)[0] or self.effect(dst, conn.src)[0]:  # a cut link: connect upstream only once it heals
            await self.changed.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.transport.abort()  # the node behind is down: the caller sees what it would see directly
            return
        try:
            await asyncio.gather(self.pipe(reader, up_writer, conn, True, first),
                                 self.pipe(up_reader, writer, conn, False, b""))
        finally:
            for w in (writer, up_writer):
                w.close()

    def seen(self, conn: "Conn", chunk: bytes) -> None:
        """A scanning connection's bytes so far: name its source once a token shows up."""
        conn.head += chunk[:IDENTIFY_BYTES]
        found = self.identify(conn.head)
        if found != UNKNOWN:
            self.counter(conn.src, conn.dst)["connections"] -= 1
            conn.src, conn.scanning = found, False
            self.counter(found, conn.dst)["connections"] += 1
        elif len(conn.head) >= IDENTIFY_BYTES:
            conn.scanning = False

    async def pipe(self, reader, writer, conn: "Conn", forward: bool, first: bytes) -> None:
        """Bytes one way: client to node when ``forward``. The pair is read per chunk, so faults (and a
        source found late) reach a connection that is already open."""
        queue: asyncio.Queue = asyncio.Queue(QUEUE_CHUNKS)

        def ends() -> tuple[str, str]:
            return (conn.src, conn.dst) if forward else (conn.dst, conn.src)

        async def send() -> None:
            due_last, rto_run = 0.0, 0
            while True:
                arrived, data, stats = await queue.get()
                if data is None:
                    break
                size = len(data)
                try:
                    while True:
                        cut, ms, jitter, p, rto = self.effect(*ends())
                        if not cut:
                            break
                        await self.changed.wait()
                    delay = max(0.0, ms + self.rng.uniform(-jitter, jitter)) / 1000 if ms else 0.0
                    if p and self.rng.random() < p:
                        delay += rto * (2 ** min(rto_run, 6)) / 1000
                        rto_run += 1
                        stats["delayed_chunks"] += 1
                    else:
                        rto_run = 0
                    due = max(arrived + delay, due_last)
                    wait = due - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    due_last = due
                    writer.write(data)
                    await writer.drain()
                finally:
                    stats["held_bytes"] -= size
                stats["bytes"] += size
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.ensure_future(send())

        async def put(chunk: bytes) -> None:
            if forward and conn.scanning and chunk:
                self.seen(conn, chunk)
            stats = self.counter(*ends())
            stats["held_bytes"] += len(chunk)
            await queue.put((time.monotonic(), chunk or None, stats))

        def forget_queued() -> None:  # a connection that died while its bytes were held: they are gone
            while not queue.empty():
                _arrived, data, stats = queue.get_nowait()
                stats["held_bytes"] -= len(data or b"")

        try:
            if first:
                await put(first)
            while True:
                chunk = await reader.read(CHUNK)
                await put(chunk)
                if not chunk:
                    break
            await sender
        except (ConnectionError, OSError):
            sender.cancel()
        finally:
            forget_queued()


class Conn:
    """The two ends of one relayed connection; ``src`` may be learnt after it opened."""

    def __init__(self, src: str, dst: str):
        self.src, self.dst, self.head, self.scanning = src, dst, b"", False


class Relay:
    def __init__(self):
        self.net = Net()
        self.servers = []

    async def handle(self, msg: dict) -> dict:
        op = msg.get("op")
        net = self.net
        if op == "listen":
            host, _, port = msg["target"].rpartition(":")
            target, dst, src, scan = (host, int(port)), msg["dst"], msg.get("src"), bool(msg.get("scan"))
            server = await asyncio.start_server(
                lambda r, w: net.serve(dst, target, src, scan, r, w), HOST, msg.get("port", 0))
            self.servers.append(server)
            return {"port": server.sockets[0].getsockname()[1]}
        if op == "identify":
            net.tokens[base64.b64decode(msg["token"])] = msg["src"]
            return {"ok": True}
        if op == "fault":
            net.faults[msg["id"]] = {**msg, "pairs": [list(p) for p in msg["pairs"]]}
        elif op == "clear":
            net.faults.pop(msg["id"], None)
        elif op == "heal":
            net.faults.clear()
        elif op == "stats":
            return {"links": [{"src": s, "dst": d, **v} for (s, d), v in sorted(net.stats.items())],
                    "faults": list(net.faults.values())}
        else:
            return {"error": f"unknown op {op!r}"}
        net.notify()
        return {"ok": True}

    async def control(self, reader, writer) -> None:
        while line := await reader.readline():
            try:
                answer = await self.handle(json.loads(line))
            except Exception as exc:  # noqa: BLE001 - the caller gets the error, the relay keeps running
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            writer.write((json.dumps(answer) + "\n").encode())
            await writer.drain()
        writer.close()


async def main(control_port: int) -> None:
    relay = Relay()
    ctrl = await asyncio.start_server(relay.control, HOST, control_port)
    async with ctrl:
        await ctrl.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
