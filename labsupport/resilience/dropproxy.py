"""A TCP relay that loses a chosen share of responses *after* the server has sent them.

    proxy = drop_proxy(app, fraction=0.3, seed=1)   # app: any started service; proxy.url replaces app.url
    httpx.post(proxy.url + "/payments", headers={"Connection": "close"}, timeout=0.3)  # one request per connection

Each client connection is relayed to the server unchanged; for a seeded ``fraction`` of connections the
server's reply is swallowed and the client hears nothing until it gives up (its timeout). The server
did all its work, committed included: that is the case a retry turns into a duplicate. Use one request
per connection (``Connection: close``) so "a connection" and "a request" are the same thing.

    python -m labsupport.resilience.dropproxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT FRACTION SEED
"""

from __future__ import annotations

import asyncio
import random
import sys

from labsupport.services._process import ManagedProcess, python_exe


class DropProxy(ManagedProcess):
    kind = "dropproxy"

    def __init__(self, target, fraction: float, seed: int = 0, name: str | None = None):
        super().__init__(name, None)
        self.target, self.fraction, self.seed = target, fraction, seed

    def command(self) -> list[str]:
        return [python_exe(), "-m", "labsupport.resilience.dropproxy", str(self.port), self.target.host,
                str(self.target.port), str(self.fraction), str(self.seed)]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def drop_proxy(target, fraction: float, seed: int = 0, name: str | None = None) -> DropProxy:
    """Start a drop-after-request proxy in front of ``target`` (see module docstring)."""
    return DropProxy(target, fraction, seed, name).start()


async def _pipe(reader, writer, drop: bool) -> None:
    try:
        while data := await reader.read(65536):
            if not drop:
                writer.write(data)
                await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass


async def _main(port: int, up_host: str, up_port: int, fraction: float, seed: int) -> None:
    rng = random.Random(seed)

    async def handle(reader, writer):
        drop = rng.random() < fraction
        try:
            up_r, up_w = await asyncio.open_connection(up_host, up_port)
        except OSError:
            writer.close()
            return
        down = asyncio.ensure_future(_pipe(up_r, writer, drop))
        await _pipe(reader, up_w, False)  # until the client closes its side (or gives up)
        if not drop:
            await down
        down.cancel()
        for w in (writer, up_w):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p, h, up, f, s = sys.argv[1:6]
    asyncio.run(_main(int(p), h, int(up), float(f), int(s)))
